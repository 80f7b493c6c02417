#include "store/record.h"

#include "util/coding.h"

namespace crudjt {

namespace {
constexpr uint64_t kExpiryMask = (uint64_t(1) << 56) - 1;
}  // namespace

void SealedRecord::Encode(const RecordHead& head, const uint8_t nonce[kAeadNonceBytes],
                          std::string_view sealed, std::string* out) {
  out->resize(kRecordV2HeadBytes + sealed.size());
  uint8_t* p = reinterpret_cast<uint8_t*>(&(*out)[0]);
  EncodeHead(head, nonce, p);
  if (!sealed.empty()) std::memcpy(p + kRecordV2HeadBytes, sealed.data(), sealed.size());
}

void SealedRecord::EncodeHead(const RecordHead& head, const uint8_t nonce[kAeadNonceBytes],
                              uint8_t* p) {
  EncodeFixed64(p, (uint64_t(head.expires_at_ms) & kExpiryMask) | (uint64_t(kRecordFormat2) << 56));
  EncodeFixed64(p + 8, uint64_t(head.reads_left));
  EncodeFixed32(p + 16, head.key_id);
  p[20] = head.has_subject ? kRecordFlagSubject : 0;
  if (head.has_subject) {
    std::memcpy(p + 21, head.subject, kSubjectHashBytes);
  } else {
    std::memset(p + 21, 0, kSubjectHashBytes);
  }
  std::memcpy(p + kRecordV2FixedBytes, nonce, kAeadNonceBytes);
}

Status SealedRecord::Decode(std::string_view value, RecordHead* head, const uint8_t** nonce,
                            std::string_view* sealed) {
  if (value.size() < kRecordHeadBytes + kAeadTagBytes + 1) {
    return Status::Corruption("sealed record too short (" + std::to_string(value.size()) +
                              " bytes)");
  }
  const uint8_t* p = reinterpret_cast<const uint8_t*>(value.data());
  const uint8_t format = p[7];
  head->expires_at_ms = int64_t(DecodeFixed64(p) & kExpiryMask);
  head->reads_left = int64_t(DecodeFixed64(p + 8));
  head->key_id = DecodeFixed32(p + 16);
  if (head->reads_left < 1 && head->reads_left != -1) {
    return Status::Corruption("sealed record has out-of-range limits");
  }
  if (format == 0) {
    head->format = 1;
    head->has_subject = false;
    std::memset(head->subject, 0, kSubjectHashBytes);
    *nonce = p + kRecordFixedBytes;
    *sealed = value.substr(kRecordHeadBytes);
    return Status::OK();
  }
  if (format != kRecordFormat2) {
    return Status::Corruption("sealed record has unknown format " + std::to_string(format));
  }
  if (value.size() < kRecordV2HeadBytes + kAeadTagBytes + 1) {
    return Status::Corruption("sealed record too short (" + std::to_string(value.size()) +
                              " bytes)");
  }
  if ((p[20] & ~kRecordFlagSubject) != 0) {
    return Status::Corruption("sealed record has unknown flags");
  }
  head->format = kRecordFormat2;
  head->has_subject = (p[20] & kRecordFlagSubject) != 0;
  if (!head->has_subject) {
    for (size_t i = 0; i < kSubjectHashBytes; ++i) {
      if (p[21 + i] != 0) return Status::Corruption("sealed record has a stray subject hash");
    }
  }
  std::memcpy(head->subject, p + 21, kSubjectHashBytes);
  *nonce = p + kRecordV2FixedBytes;
  *sealed = value.substr(kRecordV2HeadBytes);
  return Status::OK();
}

size_t SealedRecord::AssociatedData(const uint8_t key[16], const RecordHead& head,
                                    uint8_t out[32]) {
  std::memcpy(out, key, 16);
  if (head.format == 1 || !head.has_subject) return 16;
  std::memcpy(out + 16, head.subject, kSubjectHashBytes);
  return 32;
}

int64_t SealedRecord::ExpiresAt(std::string_view value) {
  return int64_t(DecodeFixed64(reinterpret_cast<const uint8_t*>(value.data())) & kExpiryMask);
}

uint32_t SealedRecord::KeyId(std::string_view value) {
  return DecodeFixed32(reinterpret_cast<const uint8_t*>(value.data()) + 16);
}

void SealedRecord::SetReadsLeft(std::string* value, int64_t reads_left) {
  EncodeFixed64(reinterpret_cast<uint8_t*>(&(*value)[8]), uint64_t(reads_left));
}

void SealedRecord::SetExpiresAt(std::string* value, int64_t expires_at_ms) {
  uint8_t* p = reinterpret_cast<uint8_t*>(&(*value)[0]);
  const uint64_t format = uint64_t(p[7]) << 56;
  EncodeFixed64(p, (uint64_t(expires_at_ms) & kExpiryMask) | format);
}

void SealedRecord::SetSubject(std::string* value, bool has_subject,
                              const uint8_t subject[kSubjectHashBytes]) {
  uint8_t* p = reinterpret_cast<uint8_t*>(&(*value)[0]);
  p[20] = has_subject ? kRecordFlagSubject : 0;
  if (has_subject) {
    std::memcpy(p + 21, subject, kSubjectHashBytes);
  } else {
    std::memset(p + 21, 0, kSubjectHashBytes);
  }
}

}  // namespace crudjt
