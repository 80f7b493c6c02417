#include "crudjt/record_codec.h"

#include <openssl/crypto.h>

#include <array>
#include <cstring>
#include <vector>

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
static_assert(kWrappedIndexKeyBytes == kWrappedKeyBytes, "wrapped index key layout");

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The 6-bit value of a base64url character, or -1.
int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::string_view KeyView(const uint8_t key[kRecordKeyBytes]) {
  return std::string_view(reinterpret_cast<const char*>(key), kRecordKeyBytes);
}

}  // namespace

// One secret the codec knows: its key id, its AEAD (seal key) and its wrap
// key (for the wrapped index key).
struct KeySlot {
  uint32_t key_id;
  uint8_t wrap_key[kSubkeyBytes];
  std::unique_ptr<Aead> aead;
};

struct RecordCodec::Impl {
  std::vector<KeySlot> slots;  // [0] = the current secret, then previous ones
  uint8_t index_key[kSubkeyBytes];
  std::unique_ptr<IndexHasher> hasher;
  std::unique_ptr<IndexHasher> subject_hasher;
  ~Impl() {
    for (KeySlot& k : slots) OPENSSL_cleanse(k.wrap_key, sizeof(k.wrap_key));
    OPENSSL_cleanse(index_key, sizeof(index_key));
  }

  // Hashers from index_key (the subject key is derived from it, as a
  // store's is).
  Status UseIndexKey() {
    uint8_t subject_key[kSubkeyBytes];
    Status s = DeriveSubjectKey(index_key, subject_key);
    if (!s.ok()) return s;
    hasher.reset(new IndexHasher(index_key));
    subject_hasher.reset(new IndexHasher(subject_key));
    OPENSSL_cleanse(subject_key, sizeof(subject_key));
    return Status::OK();
  }

  Aead* AeadFor(uint32_t key_id) const {
    for (const KeySlot& k : slots) {
      if (k.key_id == key_id) return k.aead.get();
    }
    return nullptr;
  }
};

RecordCodec::RecordCodec() : impl_(new Impl) { std::memset(impl_->index_key, 0, kSubkeyBytes); }

RecordCodec::~RecordCodec() = default;

Status RecordCodec::Create(std::string_view secret, std::unique_ptr<RecordCodec>* out) {
  return Create(secret, {}, out);
}

Status RecordCodec::Create(std::string_view secret, const std::vector<std::string_view>& previous,
                           std::unique_ptr<RecordCodec>* out) {
  if (previous.size() > kMaxPreviousSecrets) {
    return Status::InvalidArgument("previous_secret_keys can hold at most " +
                                   std::to_string(kMaxPreviousSecrets) + " keys");
  }
  std::unique_ptr<RecordCodec> c(new RecordCodec);
  Impl& impl = *c->impl_;
  std::vector<std::array<uint8_t, kKeyCheckBytes>> checks(previous.size() + 1);
  for (size_t i = 0; i <= previous.size(); ++i) {
    DerivedKeys k;
    Status s = DeriveKeys(i == 0 ? secret : previous[i - 1], &k);
    if (!s.ok()) {
      if (i == 0) return s;
      return Status::InvalidArgument("previous_secret_keys[" + std::to_string(i - 1) + "]: " +
                                     s.message());
    }
    std::memcpy(checks[i].data(), k.key_check, kKeyCheckBytes);
    bool duplicate = false;
    bool id_clash = false;
    for (size_t j = 0; j < i; ++j) duplicate = duplicate || std::memcmp(checks[j].data(), k.key_check, kKeyCheckBytes) == 0;
    for (const KeySlot& slot : impl.slots) id_clash = id_clash || (!duplicate && slot.key_id == k.key_id);
    if (id_clash) {
      k.Wipe();
      return Status::InvalidArgument("previous_secret_keys[" + std::to_string(i - 1) +
                                     "]: its 32-bit key id collides with another key's; "
                                     "use a different secret");
    }
    // Until AdoptIndexKey: the oldest secret's own index key (the last one
    // listed, duplicates included: it names the same secret).
    if (i == previous.size()) std::memcpy(impl.index_key, k.index_key, kSubkeyBytes);
    if (!duplicate) {
      impl.slots.emplace_back();
      KeySlot& slot = impl.slots.back();
      slot.key_id = k.key_id;
      std::memcpy(slot.wrap_key, k.wrap_key, kSubkeyBytes);
      s = Aead::Create(k.seal_key, &slot.aead);
    }
    k.Wipe();
    if (!s.ok()) return s;
  }
  Status s = impl.UseIndexKey();
  if (!s.ok()) return s;
  *out = std::move(c);
  return Status::OK();
}

uint32_t RecordCodec::key_id() const { return impl_->slots[0].key_id; }

std::vector<uint32_t> RecordCodec::key_ids() const {
  std::vector<uint32_t> ids;
  ids.reserve(impl_->slots.size());
  for (const KeySlot& k : impl_->slots) ids.push_back(k.key_id);
  return ids;
}

Status RecordCodec::WrapIndexKey(uint8_t out[kWrappedIndexKeyBytes]) const {
  return WrapKey(impl_->slots[0].wrap_key, impl_->index_key, out);
}

Status RecordCodec::AdoptIndexKey(const uint8_t wrapped[kWrappedIndexKeyBytes]) {
  uint8_t key[kSubkeyBytes];
  for (const KeySlot& k : impl_->slots) {
    if (!UnwrapKey(k.wrap_key, wrapped, key).ok()) continue;
    std::memcpy(impl_->index_key, key, kSubkeyBytes);
    OPENSSL_cleanse(key, sizeof(key));
    return impl_->UseIndexKey();
  }
  return Status::Corruption("the wrapped index key opens under none of the codec's secrets");
}

void RecordCodec::EncodeHandle(const uint8_t key[kRecordKeyBytes], char out[kRecordHandleChars]) {
  size_t o = 0;
  size_t i = 0;
  for (; i + 3 <= kRecordKeyBytes; i += 3) {
    const uint32_t v = (uint32_t(key[i]) << 16) | (uint32_t(key[i + 1]) << 8) | key[i + 2];
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
  // 16 = 5 * 3 + 1: one byte left, two characters.
  out[o++] = kAlphabet[key[i] >> 2];
  out[o++] = kAlphabet[(key[i] & 3) << 4];
}

bool RecordCodec::DecodeHandle(std::string_view handle, uint8_t key[kRecordKeyBytes]) {
  if (handle.size() != kRecordHandleChars) return false;
  int v[kRecordHandleChars];
  for (size_t i = 0; i < kRecordHandleChars; ++i) {
    v[i] = Sextet(handle[i]);
    if (v[i] < 0) return false;
  }
  // The last character carries 2 bits: the other 4 must be 0 (canonical).
  if ((v[kRecordHandleChars - 1] & 15) != 0) return false;
  size_t o = 0;
  for (size_t i = 0; i + 4 <= 20; i += 4) {
    const uint32_t w = (uint32_t(v[i]) << 18) | (uint32_t(v[i + 1]) << 12) | (uint32_t(v[i + 2]) << 6) | uint32_t(v[i + 3]);
    key[o++] = uint8_t(w >> 16);
    key[o++] = uint8_t(w >> 8);
    key[o++] = uint8_t(w);
  }
  key[o] = uint8_t((v[20] << 2) | (v[21] >> 4));
  return true;
}

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
  Status s = BufferedRandomBytes(raw, sizeof(raw));
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
  Status s = BufferedRandomBytes(nonce, sizeof(nonce));
  if (!s.ok()) return s;
  std::string sealed;
  s = impl_->slots[0].aead->Seal(nonce, KeyView(key), payload, &sealed);
  if (!s.ok()) return s;
  RecordHead head;
  head.expires_at_ms = expires_at_ms;
  head.reads_left = reads_left;
  head.key_id = impl_->slots[0].key_id;
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
  Aead* aead = impl_->AeadFor(head.key_id);
  if (aead == nullptr) return Status::NotFound();
  // The engine's associated data: the tree key, plus the subject hash of a
  // format-2 record that has one.
  uint8_t ad[2 * kRecordKeyBytes];
  const size_t ad_len = SealedRecord::AssociatedData(key, head, ad);
  s = aead->Open(nonce, std::string_view(reinterpret_cast<const char*>(ad), ad_len), sealed, payload);
  if (!s.ok()) return Status::Corruption("a record fails authentication under the key its key_id names");
  limits->expires_at_ms = head.expires_at_ms;
  limits->reads_left = head.reads_left;
  limits->key_id = head.key_id;
  return Status::OK();
}

}  // namespace crudjt
