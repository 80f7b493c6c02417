#include "crypto/index_hasher.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

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

// HMAC zero-pads keys shorter than the 64-byte block, so an RFC 4231 key of
// fewer than 32 bytes is the same HMAC key as itself zero-extended to 32.
std::string HashWithShortKey(const std::string& key, const std::string& msg) {
  REQUIRE(key.size() <= 32);
  uint8_t k[32] = {};
  std::memcpy(k, key.data(), key.size());
  IndexHasher h(k);
  uint8_t out[kIndexKeyBytes];
  h.Hash(msg, out);
  return Hex(out, sizeof(out));
}

std::string HashHex(const IndexHasher& h, std::string_view token) {
  uint8_t out[kIndexKeyBytes];
  h.Hash(token, out);
  return Hex(out, sizeof(out));
}

const uint8_t kKey0to31[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                               11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                               22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

}  // namespace

// RFC 4231 test cases 1-5 (HMAC-SHA-256), truncated to the first 16 bytes.
// Cases 6 and 7 use 131-byte keys, which a 32-byte IndexHasher key cannot
// express.
TEST_CASE("IndexHasher.MatchesRfc4231Case1") {
  CHECK(HashWithShortKey(std::string(20, '\x0b'), "Hi There") ==
        "b0344c61d8db38535ca8afceaf0bf12b");
}

TEST_CASE("IndexHasher.MatchesRfc4231Case2") {
  CHECK(HashWithShortKey("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c7");
}

TEST_CASE("IndexHasher.MatchesRfc4231Case3") {
  CHECK(HashWithShortKey(std::string(20, '\xaa'), std::string(50, '\xdd')) ==
        "773ea91e36800e46854db8ebd09181a7");
}

TEST_CASE("IndexHasher.MatchesRfc4231Case4") {
  std::string key;
  for (int i = 1; i <= 25; ++i) key.push_back(char(i));
  CHECK(HashWithShortKey(key, std::string(50, '\xcd')) == "82558a389a443c0ea4cc819899f2083a");
}

TEST_CASE("IndexHasher.MatchesRfc4231Case5Truncation") {
  CHECK(HashWithShortKey(std::string(20, '\x0c'), "Test With Truncation") ==
        "a3b6167473100ee06e0c796c2955552b");
}

TEST_CASE("IndexHasher.MatchesHmacWithFull32ByteKey") {
  // Expected values from Python's hmac module.
  IndexHasher h(kKey0to31);
  CHECK(HashHex(h, "AAAAAAAAAAAAAAAAAAAAAA") == "7203ac40971fa19185292e4ddc338d14");
  CHECK(HashHex(h, "") == "d38b42096d80f45f826b44a9d5607de7");
  CHECK(HashHex(h, std::string(1000, 'x')) == "2ab4ed3956f17094c9b1878953e91ac9");
}

TEST_CASE("IndexHasher.RepeatedCallsGiveSameResult") {
  IndexHasher h(kKey0to31);
  const std::string first = HashHex(h, "token-123");
  for (int i = 0; i < 100; ++i) CHECK(HashHex(h, "token-123") == first);
}

TEST_CASE("IndexHasher.DifferentKeysOrTokensGiveDifferentHashes") {
  uint8_t other_key[32];
  std::memcpy(other_key, kKey0to31, 32);
  other_key[31] ^= 1;
  IndexHasher a(kKey0to31), b(other_key);
  CHECK(HashHex(a, "tok") != HashHex(b, "tok"));
  CHECK(HashHex(a, "tok") != HashHex(a, "tol"));
  // Interleaving two hashers on one thread (shared scratch) stays correct.
  const std::string a1 = HashHex(a, "tok");
  const std::string b1 = HashHex(b, "tok");
  CHECK(HashHex(a, "tok") == a1);
  CHECK(HashHex(b, "tok") == b1);
  CHECK(a1 == "ebd522488f4f62e726c6ecfbe4f44bb2");  // Python hmac
}

TEST_CASE("IndexHasher.ConcurrentHashesMatchSingleThreaded") {
  IndexHasher h(kKey0to31);
  std::vector<std::string> tokens;
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    tokens.push_back("token-" + std::to_string(i));
    expected.push_back(HashHex(h, tokens.back()));
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (size_t i = 0; i < tokens.size(); ++i) {
          uint8_t out[kIndexKeyBytes];
          h.Hash(tokens[i], out);
          if (Hex(out, sizeof(out)) != expected[i]) mismatches[t]++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) CHECK(m == 0);
}
