#include "util/crc32c.h"

#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace crudjt {
namespace crc32c {
uint32_t TEST_ExtendPortable(uint32_t init_crc, const void* data, size_t n);
}  // namespace crc32c
}  // namespace crudjt

using namespace crudjt;

TEST_CASE("Crc32c.MatchesStandardCheckValue") {
  CHECK(crc32c::Value("123456789", 9) == 0xe3069283u);
  CHECK(crc32c::Value("", 0) == 0u);
}

TEST_CASE("Crc32c.MatchesRfc3720Vectors") {
  uint8_t buf[32];

  std::memset(buf, 0, sizeof(buf));
  CHECK(crc32c::Value(buf, sizeof(buf)) == 0x8a9136aau);

  std::memset(buf, 0xff, sizeof(buf));
  CHECK(crc32c::Value(buf, sizeof(buf)) == 0x62a8ab43u);

  for (int i = 0; i < 32; ++i) buf[i] = uint8_t(i);
  CHECK(crc32c::Value(buf, sizeof(buf)) == 0x46dd794eu);

  for (int i = 0; i < 32; ++i) buf[i] = uint8_t(31 - i);
  CHECK(crc32c::Value(buf, sizeof(buf)) == 0x113fdb5cu);

  const uint8_t iscsi_read[48] = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  };
  CHECK(crc32c::Value(iscsi_read, sizeof(iscsi_read)) == 0xd9963a56u);
}

TEST_CASE("Crc32c.ExtendEqualsWholeValue") {
  const std::string s = "hello world, this is a crc over two pieces";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    uint32_t a = crc32c::Value(s.data(), cut);
    CHECK(crc32c::Extend(a, s.data() + cut, s.size() - cut) == crc32c::Value(s.data(), s.size()));
  }
}

TEST_CASE("Crc32c.HardwareAndTablePathsAgree") {
  std::mt19937 rng(42);
  std::vector<uint8_t> buf(4099);
  for (auto& b : buf) b = uint8_t(rng());
  // Every length and misalignment up to a few blocks, then big ones.
  for (size_t off = 0; off < 8; ++off) {
    for (size_t n = 0; n + off <= 80; ++n) {
      CHECK(crc32c::Value(buf.data() + off, n) ==
            crc32c::TEST_ExtendPortable(0, buf.data() + off, n));
    }
  }
  CHECK(crc32c::Value(buf.data(), buf.size()) ==
        crc32c::TEST_ExtendPortable(0, buf.data(), buf.size()));
  CHECK(crc32c::Extend(0x12345678u, buf.data() + 3, 4000) ==
        crc32c::TEST_ExtendPortable(0x12345678u, buf.data() + 3, 4000));
}

TEST_CASE("Crc32c.DiffersForDifferentData") {
  CHECK(crc32c::Value("a", 1) != crc32c::Value("foo", 3));
  CHECK(crc32c::Value("a", 1) != crc32c::Value("b", 1));
}

TEST_CASE("Crc32c.MaskRoundTripsAndChangesValue") {
  const uint32_t crc = crc32c::Value("foo", 3);
  CHECK(crc32c::Mask(crc) != crc);
  CHECK(crc32c::Mask(crc32c::Mask(crc)) != crc);
  CHECK(crc32c::Unmask(crc32c::Mask(crc)) == crc);
  CHECK(crc32c::Unmask(crc32c::Unmask(crc32c::Mask(crc32c::Mask(crc)))) == crc);
  for (uint32_t v : {0u, 1u, 0xffffffffu, 0xa282ead8u, 0x80000000u}) {
    CHECK(crc32c::Unmask(crc32c::Mask(v)) == v);
  }
}
