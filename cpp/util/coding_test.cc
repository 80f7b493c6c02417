#include "util/coding.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using namespace crudjt;

TEST_CASE("Coding.Fixed16IsLittleEndianAndRoundTrips") {
  uint8_t b[2];
  EncodeFixed16(b, 0x1234);
  CHECK(b[0] == 0x34);
  CHECK(b[1] == 0x12);
  for (uint32_t v = 0; v <= 0xffff; v += 257) {
    EncodeFixed16(b, uint16_t(v));
    CHECK(DecodeFixed16(b) == v);
  }
  EncodeFixed16(b, 0xffff);
  CHECK(DecodeFixed16(b) == 0xffff);
}

TEST_CASE("Coding.Fixed32IsLittleEndianAndRoundTrips") {
  uint8_t b[4];
  EncodeFixed32(b, 0x04030201u);
  CHECK(b[0] == 1);
  CHECK(b[1] == 2);
  CHECK(b[2] == 3);
  CHECK(b[3] == 4);
  for (uint32_t power = 0; power <= 32; ++power) {
    uint32_t v = power == 32 ? 0xffffffffu : (1u << power);
    for (uint32_t x : {v - 1, v, v + 1}) {
      EncodeFixed32(b, x);
      CHECK(DecodeFixed32(b) == x);
    }
  }
}

TEST_CASE("Coding.Fixed64IsLittleEndianAndRoundTrips") {
  uint8_t b[8];
  EncodeFixed64(b, 0x0807060504030201ull);
  for (int i = 0; i < 8; ++i) CHECK(b[i] == i + 1);
  for (uint32_t power = 0; power <= 63; ++power) {
    uint64_t v = uint64_t(1) << power;
    for (uint64_t x : {v - 1, v, v + 1}) {
      EncodeFixed64(b, x);
      CHECK(DecodeFixed64(b) == x);
    }
  }
  EncodeFixed64(b, ~uint64_t(0));
  CHECK(DecodeFixed64(b) == ~uint64_t(0));
  // Signed values (expires_at_ms, reads_left = -1) go through uint64_t.
  EncodeFixed64(b, static_cast<uint64_t>(int64_t(-1)));
  CHECK(static_cast<int64_t>(DecodeFixed64(b)) == -1);
}

TEST_CASE("Coding.DecodeReadsUnalignedBytes") {
  std::vector<uint8_t> buf(16, 0);
  EncodeFixed64(buf.data() + 3, 0x1122334455667788ull);
  CHECK(DecodeFixed64(buf.data() + 3) == 0x1122334455667788ull);
  EncodeFixed32(buf.data() + 1, 0xdeadbeefu);
  CHECK(DecodeFixed32(buf.data() + 1) == 0xdeadbeefu);
}
