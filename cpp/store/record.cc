#include "store/record.h"

#include "util/coding.h"

namespace crudjt {

void SealedRecord::Encode(const RecordHead& head, const uint8_t nonce[kAeadNonceBytes],
                          std::string_view sealed, std::string* out) {
  out->resize(kRecordHeadBytes + sealed.size());
  uint8_t* p = reinterpret_cast<uint8_t*>(&(*out)[0]);
  EncodeFixed64(p, uint64_t(head.expires_at_ms));
  EncodeFixed64(p + 8, uint64_t(head.reads_left));
  EncodeFixed32(p + 16, head.key_id);
  std::memcpy(p + kRecordFixedBytes, nonce, kAeadNonceBytes);
  if (!sealed.empty()) std::memcpy(p + kRecordHeadBytes, sealed.data(), sealed.size());
}

Status SealedRecord::Decode(std::string_view value, RecordHead* head, const uint8_t** nonce,
                            std::string_view* sealed) {
  if (value.size() < kRecordHeadBytes + kAeadTagBytes + 1) {
    return Status::Corruption("sealed record too short (" + std::to_string(value.size()) +
                              " bytes)");
  }
  const uint8_t* p = reinterpret_cast<const uint8_t*>(value.data());
  head->expires_at_ms = int64_t(DecodeFixed64(p));
  head->reads_left = int64_t(DecodeFixed64(p + 8));
  head->key_id = DecodeFixed32(p + 16);
  if (head->expires_at_ms < 0 || (head->reads_left < 1 && head->reads_left != -1)) {
    return Status::Corruption("sealed record has out-of-range limits");
  }
  *nonce = p + kRecordFixedBytes;
  *sealed = value.substr(kRecordHeadBytes);
  return Status::OK();
}

void SealedRecord::SetReadsLeft(std::string* value, int64_t reads_left) {
  EncodeFixed64(reinterpret_cast<uint8_t*>(&(*value)[8]), uint64_t(reads_left));
}

}  // namespace crudjt
