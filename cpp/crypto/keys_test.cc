#include "crypto/keys.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

namespace crudjt {
// Defined in keys.cc; not part of keys.h.
Status HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                  uint8_t* out, size_t n);
}  // namespace crudjt

using namespace crudjt;

namespace {

std::string Hex(const uint8_t* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[p[i] >> 4]);
    s.push_back(kDigits[p[i] & 15]);
  }
  return s;
}

std::string Range(int from, int to) {  // bytes from..to-1
  std::string s;
  for (int i = from; i < to; ++i) s.push_back(char(i));
  return s;
}

}  // namespace

TEST_CASE("Hkdf.MatchesRfc5869TestCase1") {
  uint8_t okm[42];
  REQUIRE(HkdfSha256(std::string(22, '\x0b'), Range(0x00, 0x0d), Range(0xf0, 0xfa), okm,
                     sizeof(okm))
              .ok());
  CHECK(Hex(okm, sizeof(okm)) ==
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST_CASE("Hkdf.MatchesRfc5869TestCase2LongInputs") {
  uint8_t okm[82];
  REQUIRE(HkdfSha256(Range(0x00, 0x50), Range(0x60, 0xb0), Range(0xb0, 0x100), okm,
                     sizeof(okm))
              .ok());
  CHECK(Hex(okm, sizeof(okm)) ==
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
        "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST_CASE("Hkdf.MatchesRfc5869TestCase3EmptySaltAndInfo") {
  uint8_t okm[42];
  REQUIRE(HkdfSha256(std::string(22, '\x0b'), "", "", okm, sizeof(okm)).ok());
  CHECK(Hex(okm, sizeof(okm)) ==
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST_CASE("DeriveKeys.RejectsSecretsThatAreNot32Or48Or64Bytes") {
  DerivedKeys k;
  for (size_t n : {0, 1, 16, 31, 33, 47, 49, 63, 65, 128}) {
    Status s = DeriveKeys(std::string(n, 'k'), &k);
    CHECK(s.IsInvalidArgument());
  }
  for (size_t n : {32, 48, 64}) CHECK(DeriveKeys(std::string(n, 'k'), &k).ok());
}

TEST_CASE("DeriveKeys.MatchesKnownAnswerSoStoresStayReadable") {
  // Computed independently (Python hmac/hashlib HKDF) from the schedule in
  // keys.h; a change here would make every existing store unreadable.
  DerivedKeys k;
  REQUIRE(DeriveKeys(Range(0, 32), &k).ok());
  CHECK(Hex(k.index_key, 32) ==
        "fd7000832e5b3e3aa2cc83b1d6bce17fb28a191930e3cd1757ddf115e8472325");
  CHECK(Hex(k.seal_key, 32) ==
        "47bc13eba516d24fa04073574f004820a539990a68c9c8b8b2354d317f611c1c");
  CHECK(Hex(k.key_check, 16) == "126726daaef67b251cd70ac7e2383084");
  CHECK(k.key_id == 0xda266712u);
}

TEST_CASE("DeriveKeys.IsDeterministic") {
  const std::string secret(48, 'z');
  DerivedKeys a, b;
  REQUIRE(DeriveKeys(secret, &a).ok());
  REQUIRE(DeriveKeys(secret, &b).ok());
  CHECK(std::memcmp(a.index_key, b.index_key, 32) == 0);
  CHECK(std::memcmp(a.seal_key, b.seal_key, 32) == 0);
  CHECK(std::memcmp(a.key_check, b.key_check, 16) == 0);
  CHECK(a.key_id == b.key_id);
}

TEST_CASE("DeriveKeys.SubkeysAreDistinctAndDependOnSecret") {
  DerivedKeys a, b;
  REQUIRE(DeriveKeys(std::string(32, 'a'), &a).ok());
  REQUIRE(DeriveKeys(std::string(32, 'b'), &b).ok());
  CHECK(std::memcmp(a.index_key, a.seal_key, 32) != 0);
  CHECK(std::memcmp(a.index_key, a.key_check, 16) != 0);
  CHECK(std::memcmp(a.seal_key, a.key_check, 16) != 0);
  CHECK(std::memcmp(a.index_key, b.index_key, 32) != 0);
  CHECK(std::memcmp(a.seal_key, b.seal_key, 32) != 0);
  CHECK(std::memcmp(a.key_check, b.key_check, 16) != 0);
  CHECK(a.key_id != b.key_id);
  // Neither subkey is the secret itself.
  CHECK(std::memcmp(a.index_key, std::string(32, 'a').data(), 32) != 0);
}

TEST_CASE("DeriveKeys.KeyIdIsLittleEndianPrefixOfKeyCheck") {
  DerivedKeys k;
  REQUIRE(DeriveKeys(std::string(64, '\x07'), &k).ok());
  uint32_t expected = uint32_t(k.key_check[0]) | (uint32_t(k.key_check[1]) << 8) |
                      (uint32_t(k.key_check[2]) << 16) | (uint32_t(k.key_check[3]) << 24);
  CHECK(k.key_id == expected);
}

TEST_CASE("DerivedKeys.WipeZeroesEverything") {
  DerivedKeys k;
  REQUIRE(DeriveKeys(std::string(32, 's'), &k).ok());
  k.Wipe();
  const uint8_t zeros[32] = {};
  CHECK(std::memcmp(k.index_key, zeros, 32) == 0);
  CHECK(std::memcmp(k.seal_key, zeros, 32) == 0);
  CHECK(std::memcmp(k.key_check, zeros, 16) == 0);
  CHECK(k.key_id == 0);
}
