// Write-ahead log format: constants and byte layout. doc/wal_format.md has
// the grammar, the recovery rules and a worked example.
//
// A log is a sequence of segment files <dir>/crudjt-<seq>.wal, seq being 16
// lower-case hex digits. Every integer is little-endian (util/coding.h).
//
// Segment header (kSegmentHeaderSize = 32 bytes):
//
//   OFFSET SIZE DESCRIPTION
//        0    8 magic "CRUDJTWL"
//        8    4 format version (kLogFormatVersion); newer -> NotSupported
//       12    4 reserved, zero
//       16    8 seq, equal to the seq in the file name
//       24    4 masked crc32c of bytes [0, 24)
//       28    4 reserved, zero
//
// Record (kRecordHeaderSize = 15 bytes + payload), back to back after the
// header, no padding, no blocks:
//
//   OFFSET SIZE DESCRIPTION
//        0    4 masked crc32c of bytes [4, 15 + length)
//        4    2 length of the payload
//        6    1 type (RecordType)
//        7    8 lsn: 1, 2, 3, ... consecutive over the whole log
//       15    n payload
//
//   kPut:    tree key (16) | tree value (1..kMaxTreeValueBytes)
//   kDelete: tree key (16)
#ifndef CRUDJT_WAL_LOG_FORMAT_H_
#define CRUDJT_WAL_LOG_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace crudjt {
namespace wal {

constexpr char kSegmentMagic[8] = {'C', 'R', 'U', 'D', 'J', 'T', 'W', 'L'};
constexpr uint32_t kLogFormatVersion = 1;
constexpr size_t kSegmentHeaderSize = 32;

constexpr size_t kRecordHeaderSize = 15;
// Largest payload a record may carry (a put of a 16-byte key and a 512-byte
// value is 528); anything longer in a header is treated as a bad record.
constexpr size_t kMaxRecordPayload = 1024;

enum RecordType : uint8_t {
  // 0 is never written, so that a zero-filled tail never parses.
  kPut = 1,
  kDelete = 2,
};
constexpr uint8_t kMaxRecordType = kDelete;

}  // namespace wal
}  // namespace crudjt

#endif  // CRUDJT_WAL_LOG_FORMAT_H_
