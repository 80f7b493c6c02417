// Little-endian fixed-width encoding: every on-disk integer uses these.
#ifndef CRUDJT_UTIL_CODING_H_
#define CRUDJT_UTIL_CODING_H_

#include <cstdint>
#include <cstring>

namespace crudjt {

inline void EncodeFixed16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); }
inline void EncodeFixed32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline void EncodeFixed64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline uint16_t DecodeFixed16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t DecodeFixed32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint64_t DecodeFixed64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace crudjt

#endif  // CRUDJT_UTIL_CODING_H_
