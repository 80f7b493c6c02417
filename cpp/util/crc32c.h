// CRC-32C (Castagnoli), used as the checksum of every page and log record.
// Stored checksums are masked (as LevelDB does) so that a CRC over data
// that itself embeds CRCs stays well distributed.
#ifndef CRUDJT_UTIL_CRC32C_H_
#define CRUDJT_UTIL_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace crudjt {
namespace crc32c {

// CRC of data[0..n) continuing from init_crc (0 to start).
uint32_t Extend(uint32_t init_crc, const void* data, size_t n);
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

constexpr uint32_t kMaskDelta = 0xa282ead8ul;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return ((rot >> 17) | (rot << 15));
}

}  // namespace crc32c
}  // namespace crudjt

#endif  // CRUDJT_UTIL_CRC32C_H_
