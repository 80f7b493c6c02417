#include "crudjt/record_codec.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "crudjt/store.h"
#include "crypto/aead.h"
#include "crypto/index_hasher.h"
#include "crypto/keys.h"
#include "store/record.h"
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
