#include "crudjt/record_codec.h"

#include <cstring>

#include "crudjt/store.h"
#include "crypto/aead.h"
#include "crypto/index_hasher.h"
#include "crypto/keys.h"
#include "crypto/random.h"
#include "store/record.h"
#include "util/base64url.h"

namespace crudjt {

namespace {

constexpr size_t kTokenRandomBytes = 16;
// Token keys have bit 7 of byte 0 cleared, as the engine's (its subject
// index entries use the other half of the key space). Records keyed by an
// unmasked hash (format-1 stores) are resealed by migrate.
constexpr uint8_t kTokenKeyMask = 0x7f;
constexpr int64_t kMaxRecordExpiresAtMs = (int64_t(1) << 56) - 1;  // a u56 in the record

static_assert(kRecordKeyBytes == kIndexKeyBytes, "the codec's key is the tree key");
static_assert(kRecordOffsetKeyId + 4 == kRecordFixedBytes, "record head layout");

std::string_view KeyView(const uint8_t key[kRecordKeyBytes]) {
  return std::string_view(reinterpret_cast<const char*>(key), kRecordKeyBytes);
}

}  // namespace

struct RecordCodec::Impl {
  DerivedKeys keys;
  std::unique_ptr<IndexHasher> hasher;
  std::unique_ptr<IndexHasher> subject_hasher;
  std::unique_ptr<Aead> aead;
  ~Impl() { keys.Wipe(); }
};

RecordCodec::RecordCodec() : impl_(new Impl) { std::memset(&impl_->keys, 0, sizeof(impl_->keys)); }

RecordCodec::~RecordCodec() = default;

Status RecordCodec::Create(std::string_view secret, std::unique_ptr<RecordCodec>* out) {
  std::unique_ptr<RecordCodec> c(new RecordCodec);
  Status s = DeriveKeys(secret, &c->impl_->keys);
  if (!s.ok()) return s;
  c->impl_->hasher.reset(new IndexHasher(c->impl_->keys.index_key));
  c->impl_->subject_hasher.reset(new IndexHasher(c->impl_->keys.subject_key));
  s = Aead::Create(c->impl_->keys.seal_key, &c->impl_->aead);
  if (!s.ok()) return s;
  *out = std::move(c);
  return Status::OK();
}

uint32_t RecordCodec::key_id() const { return impl_->keys.key_id; }

bool RecordCodec::HashToken(std::string_view token, uint8_t out[kRecordKeyBytes]) const {
  if (token.empty() || token.size() > kMaxTokenChars || !IsBase64Url(token)) return false;
  impl_->hasher->Hash(token, out);
  out[0] &= kTokenKeyMask;
  return true;
}

void RecordCodec::HashSubject(std::string_view subject, uint8_t out[kRecordKeyBytes]) const {
  impl_->subject_hasher->Hash(subject, out);
}

Status RecordCodec::NewToken(std::string* token, uint8_t key[kRecordKeyBytes]) {
  uint8_t raw[kTokenRandomBytes];
  Status s = RandomBytes(raw, sizeof(raw));
  if (!s.ok()) return s;
  *token = Base64UrlEncode(raw, sizeof(raw));
  impl_->hasher->Hash(*token, key);
  key[0] &= kTokenKeyMask;
  return Status::OK();
}

Status RecordCodec::Seal(const uint8_t key[kRecordKeyBytes], std::string_view payload,
                         int64_t expires_at_ms, int64_t reads_left, std::string* record) {
  if (payload.empty() || payload.size() > kMaxPayloadBytes) {
    return Status::InvalidArgument("payload must be 1.." + std::to_string(kMaxPayloadBytes) +
                                   " bytes, got " + std::to_string(payload.size()));
  }
  if (expires_at_ms < 0 || expires_at_ms > kMaxRecordExpiresAtMs) {
    return Status::InvalidArgument("expires_at_ms must be in 0..2^56-1");
  }
  if (reads_left != kNoLimit && (reads_left < 1 || reads_left > kMaxReads)) {
    return Status::InvalidArgument("reads_left must be -1 or 1.." + std::to_string(kMaxReads));
  }
  uint8_t nonce[kAeadNonceBytes];
  Status s = RandomBytes(nonce, sizeof(nonce));
  if (!s.ok()) return s;
  std::string sealed;
  s = impl_->aead->Seal(nonce, KeyView(key), payload, &sealed);
  if (!s.ok()) return s;
  RecordHead head;
  head.expires_at_ms = expires_at_ms;
  head.reads_left = reads_left;
  head.key_id = impl_->keys.key_id;
  SealedRecord::Encode(head, nonce, sealed, record);
  return Status::OK();
}

Status RecordCodec::OpenRecord(const uint8_t key[kRecordKeyBytes], std::string_view record,
                               std::string* payload, RecordLimits* limits) {
  RecordHead head;
  const uint8_t* nonce;
  std::string_view sealed;
  Status s = SealedRecord::Decode(record, &head, &nonce, &sealed);
  if (!s.ok()) return s;
  if (head.key_id != impl_->keys.key_id) return Status::NotFound();
  // The engine's associated data: the tree key, plus the subject hash of a
  // format-2 record that has one.
  uint8_t ad[2 * kRecordKeyBytes];
  const size_t ad_len = SealedRecord::AssociatedData(key, head, ad);
  s = impl_->aead->Open(nonce, std::string_view(reinterpret_cast<const char*>(ad), ad_len), sealed,
                        payload);
  if (!s.ok()) return Status::Corruption("a record sealed under the current key fails authentication");
  limits->expires_at_ms = head.expires_at_ms;
  limits->reads_left = head.reads_left;
  limits->key_id = head.key_id;
  return Status::OK();
}

}  // namespace crudjt
