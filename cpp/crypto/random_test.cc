#include "crypto/random.h"

#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

using namespace crudjt;

TEST_CASE("RandomBytes.FillsBufferAndDiffersBetweenCalls") {
  uint8_t a[16], b[16];
  REQUIRE(RandomBytes(a, sizeof(a)).ok());
  REQUIRE(RandomBytes(b, sizeof(b)).ok());
  CHECK(std::memcmp(a, b, 16) != 0);
}

TEST_CASE("RandomBytes.ZeroLengthIsOk") {
  CHECK(RandomBytes(nullptr, 0).ok());
}

TEST_CASE("RandomBytes.LargeRequestIsFilledCompletely") {
  // getrandom only guarantees a full fill up to 256 bytes per call; 1 MiB
  // goes through the loop that resumes after short reads.
  std::vector<uint8_t> buf(1 << 20, 0);
  REQUIRE(RandomBytes(buf.data(), buf.size()).ok());
  // Every 4 KiB window must contain non-zero bytes (a partial fill would
  // leave a zero tail).
  for (size_t off = 0; off < buf.size(); off += 4096) {
    bool any = false;
    for (size_t i = off; i < off + 4096; ++i) any |= buf[i] != 0;
    CHECK(any);
  }
  // Roughly uniform: each byte value appears near 4096 times.
  size_t counts[256] = {};
  for (uint8_t v : buf) counts[v]++;
  for (size_t c : counts) {
    CHECK(c > 3400);
    CHECK(c < 4800);
  }
}

TEST_CASE("RandomBytes.SixteenByteTokensDoNotRepeat") {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    char t[16];
    REQUIRE(RandomBytes(t, sizeof(t)).ok());
    CHECK(seen.insert(std::string(t, 16)).second);
  }
}
