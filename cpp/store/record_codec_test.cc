#include "crudjt/record_codec.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "crudjt/store.h"
#include "crypto/aead.h"
#include "crypto/index_hasher.h"
#include "crypto/keys.h"
#include "store/record.h"
#include "util/base64url.h"
#include "util/coding.h"

using namespace crudjt;

namespace {

std::string Secret(char fill, size_t n = 48) { return std::string(n, fill); }

std::unique_ptr<RecordCodec> NewCodec(const std::string& secret) {
  std::unique_ptr<RecordCodec> c;
  REQUIRE(RecordCodec::Create(secret, &c).ok());
  return c;
}

std::string KeyString(const uint8_t k[kRecordKeyBytes]) {
  return std::string(reinterpret_cast<const char*>(k), kRecordKeyBytes);
}

}  // namespace

TEST_CASE("RecordCodec.RefusesSecretsOfTheWrongSize") {
  std::unique_ptr<RecordCodec> c;
  CHECK(RecordCodec::Create(std::string(31, 'k'), &c).IsInvalidArgument());
  CHECK(RecordCodec::Create("", &c).IsInvalidArgument());
  CHECK(c == nullptr);
  for (size_t n : {32u, 48u, 64u}) CHECK(RecordCodec::Create(std::string(n, 'k'), &c).ok());
}

TEST_CASE("RecordCodec.TokenHashIsTheEnginesTreeKey") {
  auto codec = NewCodec(Secret('s'));
  DerivedKeys keys;
  REQUIRE(DeriveKeys(Secret('s'), &keys).ok());
  IndexHasher hasher(keys.index_key);
  const std::string token = "AbCdEfGhIjKlMnOpQrStUv";
  uint8_t a[kRecordKeyBytes], b[kIndexKeyBytes];
  REQUIRE(codec->HashToken(token, a));
  hasher.Hash(token, b);
  b[0] &= 0x7f;  // the token half of the engine's key space
  CHECK(std::memcmp(a, b, kRecordKeyBytes) == 0);
  CHECK((a[0] & 0x80) == 0);
  CHECK(codec->key_id() == keys.key_id);
  keys.Wipe();
}

TEST_CASE("RecordCodec.MalformedTokensHaveNoKey") {
  auto codec = NewCodec(Secret('s'));
  uint8_t k[kRecordKeyBytes];
  CHECK_FALSE(codec->HashToken("", k));
  CHECK_FALSE(codec->HashToken("!!!***???", k));
  CHECK_FALSE(codec->HashToken(std::string(kMaxTokenChars + 1, 'a'), k));
  CHECK_FALSE(codec->HashToken(std::string("abc\0def", 7), k));
  CHECK(codec->HashToken("x", k));
  CHECK(codec->HashToken(std::string(kMaxTokenChars, 'a'), k));
}

TEST_CASE("RecordCodec.NewTokensAre22Base64UrlCharsAndDiffer") {
  auto codec = NewCodec(Secret('s'));
  std::string t1, t2;
  uint8_t k1[kRecordKeyBytes], k2[kRecordKeyBytes], h[kRecordKeyBytes];
  REQUIRE(codec->NewToken(&t1, k1).ok());
  REQUIRE(codec->NewToken(&t2, k2).ok());
  CHECK(t1.size() == kTokenChars);
  CHECK(t1 != t2);
  REQUIRE(codec->HashToken(t1, h));
  CHECK(KeyString(h) == KeyString(k1));
}

TEST_CASE("RecordCodec.SealedRecordRoundTripsWithItsLimits") {
  auto codec = NewCodec(Secret('s'));
  std::string token, record, payload;
  uint8_t key[kRecordKeyBytes];
  REQUIRE(codec->NewToken(&token, key).ok());
  REQUIRE(codec->Seal(key, "\x81\xa1" "a\x01", 1700000000123, 6, &record).ok());
  CHECK(record.size() >= 44 + 4 + 16);
  RecordLimits limits;
  REQUIRE(codec->OpenRecord(key, record, &payload, &limits).ok());
  CHECK(payload == "\x81\xa1" "a\x01");
  CHECK(limits.expires_at_ms == 1700000000123);
  CHECK(limits.reads_left == 6);
  CHECK(limits.key_id == codec->key_id());
}

TEST_CASE("RecordCodec.LimitsSitAtTheDocumentedOffsetsInTheClear") {
  // lib/cluster's Lua scripts read and rewrite these bytes server-side.
  auto codec = NewCodec(Secret('s'));
  std::string token, record, payload;
  uint8_t key[kRecordKeyBytes];
  REQUIRE(codec->NewToken(&token, key).ok());
  REQUIRE(codec->Seal(key, "\x81\xa1" "a\x01", 0, 300, &record).ok());
  const uint8_t* p = reinterpret_cast<const uint8_t*>(record.data());
  CHECK((DecodeFixed64(p + kRecordOffsetExpiresAt) & ((uint64_t(1) << 56) - 1)) == 0);
  CHECK(int64_t(DecodeFixed64(p + kRecordOffsetReadsLeft)) == 300);
  CHECK(DecodeFixed32(p + kRecordOffsetKeyId) == codec->key_id());
  // A decrement and a new expiry written in place (no reseal) still open.
  EncodeFixed64(reinterpret_cast<uint8_t*>(&record[kRecordOffsetReadsLeft]), 299);
  uint8_t expiry[8];
  EncodeFixed64(expiry, 1800000000000);
  std::memcpy(&record[kRecordOffsetExpiresAt], expiry, kRecordExpiresAtBytes);
  RecordLimits limits;
  REQUIRE(codec->OpenRecord(key, record, &payload, &limits).ok());
  CHECK(limits.reads_left == 299);
  CHECK(limits.expires_at_ms == 1800000000000);
}

TEST_CASE("RecordCodec.RecordOfAnotherSecretIsNotFound") {
  auto a = NewCodec(Secret('a'));
  auto b = NewCodec(Secret('b', 32));
  std::string token, record, payload;
  uint8_t key[kRecordKeyBytes];
  REQUIRE(a->NewToken(&token, key).ok());
  REQUIRE(a->Seal(key, "\x81\xa1" "a\x01", 0, -1, &record).ok());
  RecordLimits limits;
  CHECK(b->OpenRecord(key, record, &payload, &limits).IsNotFound());
}

TEST_CASE("RecordCodec.AlteredOrMovedRecordIsCorruption") {
  auto codec = NewCodec(Secret('s'));
  std::string token, record, payload;
  uint8_t key[kRecordKeyBytes], other[kRecordKeyBytes];
  REQUIRE(codec->NewToken(&token, key).ok());
  REQUIRE(codec->NewToken(&token, other).ok());
  REQUIRE(codec->Seal(key, "\x81\xa1" "a\x01", 0, -1, &record).ok());
  RecordLimits limits;
  CHECK(codec->OpenRecord(other, record, &payload, &limits).IsCorruption());
  for (size_t i = 37; i < record.size(); ++i) {  // nonce and ciphertext
    std::string bad = record;
    bad[i] = char(bad[i] ^ 0x01);
    CHECK(codec->OpenRecord(key, bad, &payload, &limits).IsCorruption());
  }
  CHECK(codec->OpenRecord(key, record.substr(0, 50), &payload, &limits).IsCorruption());
  CHECK(codec->OpenRecord(key, "", &payload, &limits).IsCorruption());
  std::string zero_reads = record;
  EncodeFixed64(reinterpret_cast<uint8_t*>(&zero_reads[kRecordOffsetReadsLeft]), 0);
  CHECK(codec->OpenRecord(key, zero_reads, &payload, &limits).IsCorruption());
}

TEST_CASE("RecordCodec.SealRefusesOutOfRangeArguments") {
  auto codec = NewCodec(Secret('s'));
  uint8_t key[kRecordKeyBytes] = {};
  std::string record;
  CHECK(codec->Seal(key, "", 0, -1, &record).IsInvalidArgument());
  CHECK(codec->Seal(key, std::string(kMaxPayloadBytes + 1, 'x'), 0, -1, &record).IsInvalidArgument());
  CHECK(codec->Seal(key, "x", -5, -1, &record).IsInvalidArgument());
  CHECK(codec->Seal(key, "x", int64_t(1) << 56, -1, &record).IsInvalidArgument());
  CHECK(codec->Seal(key, "x", (int64_t(1) << 56) - 1, -1, &record).ok());
  CHECK(codec->Seal(key, "x", 0, 0, &record).IsInvalidArgument());
  CHECK(codec->Seal(key, "x", 0, kMaxReads + 1, &record).IsInvalidArgument());
  CHECK(codec->Seal(key, std::string(kMaxPayloadBytes, 'x'), 0, kMaxReads, &record).ok());
}

TEST_CASE("RecordCodec.SubjectHashIsTheEnginesKeyedSubjectHash") {
  auto a = NewCodec(Secret('a'));
  auto b = NewCodec(Secret('b'));
  uint8_t s1[kRecordKeyBytes], s2[kRecordKeyBytes], t[kRecordKeyBytes];
  a->HashSubject("user42", s1);
  b->HashSubject("user42", s2);
  CHECK(KeyString(s1) != KeyString(s2));
  REQUIRE(a->HashToken("user42", t));
  CHECK(KeyString(s1) != KeyString(t));
  a->HashSubject("user42", s2);
  CHECK(KeyString(s1) == KeyString(s2));
  DerivedKeys keys;
  REQUIRE(DeriveKeys(Secret('a'), &keys).ok());
  IndexHasher subject_hasher(keys.subject_key);
  subject_hasher.Hash("user42", s2);
  CHECK(KeyString(s1) == KeyString(s2));
  keys.Wipe();
}

TEST_CASE("RecordCodec.OpensAnEngineRecordBoundToASubject") {
  // A record as the engine seals it for a token with a subject: the subject
  // hash in the head and in the associated data.
  auto codec = NewCodec(Secret('s'));
  DerivedKeys keys;
  REQUIRE(DeriveKeys(Secret('s'), &keys).ok());
  std::unique_ptr<Aead> aead;
  REQUIRE(Aead::Create(keys.seal_key, &aead).ok());
  std::string token, record, sealed, payload;
  uint8_t key[kRecordKeyBytes];
  REQUIRE(codec->NewToken(&token, key).ok());
  RecordHead head;
  head.key_id = keys.key_id;
  head.has_subject = true;
  codec->HashSubject("user-3", head.subject);
  uint8_t nonce[kAeadNonceBytes] = {7};
  uint8_t ad[32];
  const size_t ad_len = SealedRecord::AssociatedData(key, head, ad);
  CHECK(ad_len == 32);
  REQUIRE(aead->Seal(nonce, std::string_view(reinterpret_cast<const char*>(ad), ad_len), "\x81\xa1" "u\x03", &sealed).ok());
  SealedRecord::Encode(head, nonce, sealed, &record);
  RecordLimits limits;
  REQUIRE(codec->OpenRecord(key, record, &payload, &limits).ok());
  CHECK(payload == "\x81\xa1" "u\x03");
  // moved to another subject: fails
  record[21] = char(record[21] ^ 1);
  CHECK(codec->OpenRecord(key, record, &payload, &limits).IsCorruption());
  keys.Wipe();
}

namespace {

std::unique_ptr<RecordCodec> NewCodec(const std::string& secret, const std::vector<std::string>& previous) {
  std::vector<std::string_view> views(previous.begin(), previous.end());
  std::unique_ptr<RecordCodec> c;
  REQUIRE(RecordCodec::Create(secret, views, &c).ok());
  return c;
}

std::string SealFor(RecordCodec* c, const std::string& token, const std::string& payload) {
  uint8_t key[kRecordKeyBytes];
  REQUIRE(c->HashToken(token, key));
  std::string record;
  REQUIRE(c->Seal(key, payload, 0, -1, &record).ok());
  return record;
}

}  // namespace

TEST_CASE("RecordCodec.RotationOpensRecordsOfPreviousSecretsAndSealsUnderTheCurrent") {
  const std::string a = Secret('a'), b = Secret('b', 32);
  auto old_codec = NewCodec(a);
  auto rotated = NewCodec(b, {a});
  CHECK(rotated->key_id() != old_codec->key_id());
  CHECK(rotated->key_ids() == std::vector<uint32_t>{rotated->key_id(), old_codec->key_id()});
  // Without adoption the hash key is the oldest secret's: the same tree key.
  const std::string token = "tokentokentokentokenAB";
  uint8_t k_old[kRecordKeyBytes], k_new[kRecordKeyBytes];
  REQUIRE(old_codec->HashToken(token, k_old));
  REQUIRE(rotated->HashToken(token, k_new));
  CHECK(KeyString(k_old) == KeyString(k_new));
  std::string record = SealFor(old_codec.get(), token, "\x81\xa1x\x01");
  std::string payload;
  RecordLimits limits;
  REQUIRE(rotated->OpenRecord(k_new, record, &payload, &limits).ok());
  CHECK(payload == "\x81\xa1x\x01");
  CHECK(limits.key_id == old_codec->key_id());
  // A write reseals under the current secret, which the old codec can not open.
  std::string resealed = SealFor(rotated.get(), token, "\x81\xa1y\x02");
  CHECK(DecodeFixed32(reinterpret_cast<const uint8_t*>(resealed.data()) + kRecordOffsetKeyId) == rotated->key_id());
  CHECK(old_codec->OpenRecord(k_old, resealed, &payload, &limits).IsNotFound());
  // The new secret alone knows neither the old records nor the hash key.
  auto b_only = NewCodec(b);
  uint8_t k_b[kRecordKeyBytes];
  REQUIRE(b_only->HashToken(token, k_b));
  CHECK(KeyString(k_b) != KeyString(k_old));
  CHECK(b_only->OpenRecord(k_old, record, &payload, &limits).IsNotFound());
}

TEST_CASE("RecordCodec.WrappedIndexKeyKeepsTokenHashesAcrossRotations") {
  const std::string a = Secret('a'), b = Secret('b'), c = Secret('c', 64), x = Secret('x');
  auto first = NewCodec(a);
  uint8_t wrapped_a[kWrappedIndexKeyBytes];
  REQUIRE(first->WrapIndexKey(wrapped_a).ok());
  // B with A listed adopts A's wrapping, and wraps the same index key under B.
  auto second = NewCodec(b, {a});
  REQUIRE(second->AdoptIndexKey(wrapped_a).ok());
  uint8_t wrapped_b[kWrappedIndexKeyBytes];
  REQUIRE(second->WrapIndexKey(wrapped_b).ok());
  // Later C with B listed (A dropped) still hashes tokens as A did.
  auto third = NewCodec(c, {b});
  CHECK(third->AdoptIndexKey(wrapped_a).IsCorruption());
  REQUIRE(third->AdoptIndexKey(wrapped_b).ok());
  const std::string token = "anotherTokenOfTheStore";
  uint8_t k1[kRecordKeyBytes], k3[kRecordKeyBytes], s1[kRecordKeyBytes], s3[kRecordKeyBytes];
  REQUIRE(first->HashToken(token, k1));
  REQUIRE(third->HashToken(token, k3));
  CHECK(KeyString(k1) == KeyString(k3));
  first->HashSubject("user-42", s1);
  third->HashSubject("user-42", s3);
  CHECK(KeyString(s1) == KeyString(s3));
  // A wrong secret adopts nothing; altered bytes neither.
  auto wrong = NewCodec(x);
  CHECK(wrong->AdoptIndexKey(wrapped_b).IsCorruption());
  wrapped_b[30] ^= 1;
  CHECK(third->AdoptIndexKey(wrapped_b).IsCorruption());
}

TEST_CASE("RecordCodec.PreviousSecretsAreCheckedLikeTheStores") {
  std::unique_ptr<RecordCodec> c;
  std::vector<std::string_view> bad = {std::string_view("short")};
  Status s = RecordCodec::Create(Secret('a'), bad, &c);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("previous_secret_keys[0]") != std::string::npos);
  // Duplicates (of the current secret or of each other) are skipped.
  const std::string a = Secret('a'), b = Secret('b');
  std::vector<std::string_view> dup = {a, b, b};
  REQUIRE(RecordCodec::Create(a, dup, &c).ok());
  CHECK(c->key_ids().size() == 2);
  std::vector<std::string_view> many(kMaxPreviousSecrets + 1, b);
  CHECK(RecordCodec::Create(a, many, &c).IsInvalidArgument());
}

TEST_CASE("RecordCodec.HandlesAreTheCanonicalBase64UrlOfTreeKeys") {
  auto c = NewCodec(Secret('h'));
  for (int i = 0; i < 200; ++i) {
    std::string token;
    uint8_t key[kRecordKeyBytes], back[kRecordKeyBytes];
    REQUIRE(c->NewToken(&token, key).ok());
    char handle[kRecordHandleChars];
    RecordCodec::EncodeHandle(key, handle);
    const std::string h(handle, kRecordHandleChars);
    CHECK(h == Base64UrlEncode(key, kRecordKeyBytes));
    REQUIRE(RecordCodec::DecodeHandle(h, back));
    CHECK(KeyString(back) == KeyString(key));
  }
  uint8_t out[kRecordKeyBytes];
  CHECK_FALSE(RecordCodec::DecodeHandle("AAAAAAAAAAAAAAAAAAAAAB", out));  // stray low bits
  CHECK_FALSE(RecordCodec::DecodeHandle("AAAAAAAAAAAAAAAAAAAAA", out));
  CHECK_FALSE(RecordCodec::DecodeHandle("AAAAAAAAAAAAAAAAAAAA=A", out));
  CHECK(RecordCodec::DecodeHandle("AAAAAAAAAAAAAAAAAAAAAw", out));
}
