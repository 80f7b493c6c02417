// LogReader: verifies and replays one log segment (see doc/wal_format.md
// for the rules it applies).
//
// A record that fails its checks (length out of range, runs past the end of
// the file, crc mismatch) ends the segment: it is a torn tail -- the
// remains of a write cut short by a crash, a failed write, or unsynced pages
// lost with the machine -- PROVIDED no valid record follows it. If any
// position after it holds a record that verifies and carries a plausible
// later lsn, the bad bytes sit in the middle of history and the segment is
// reported as Corruption naming the file and offset; it is never skipped.
//
// Records must carry consecutive lsns; a verified record with an unexpected
// lsn is Corruption. The caller threads *next_lsn through the segments in
// order, so a segment that lost its tail while a later segment kept records
// (an lsn gap) is detected too.
//
// Thread-safety: a pure function of the file contents.
#ifndef CRUDJT_WAL_LOG_READER_H_
#define CRUDJT_WAL_LOG_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "crudjt/status.h"
#include "wal/log_format.h"

namespace crudjt {
namespace wal {

struct SegmentReadResult {
  uint64_t file_bytes = 0;  // size of the file
  uint64_t good_bytes = 0;  // header + verified records; the rest is torn tail
  uint64_t records = 0;     // verified records passed to fn
};

// Called for each verified record in order. A non-ok Status stops the read
// and is returned as is.
using RecordFn = std::function<Status(RecordType type, uint64_t lsn, std::string_view payload)>;

class LogReader {
 public:
  // Reads the segment file `path`, whose header must name `seq`.
  // *next_lsn: in, the lsn the first record must carry; out, one past the
  // last verified record's. Errors:
  //   NotSupported  header of a newer log format version
  //   Corruption    bad header, bad record followed by valid ones, lsn gap,
  //                 a verified record with an impossible type or length
  //   IOError       the file cannot be read
  static Status ReadSegment(const std::string& path, uint64_t seq, uint64_t* next_lsn,
                            const RecordFn& fn, SegmentReadResult* result);

  // Same over bytes in memory (path is only used in messages); for tests.
  static Status ReadSegmentBytes(const std::string& path, std::string_view bytes, uint64_t seq,
                                 uint64_t* next_lsn, const RecordFn& fn,
                                 SegmentReadResult* result);
};

}  // namespace wal
}  // namespace crudjt

#endif  // CRUDJT_WAL_LOG_READER_H_
