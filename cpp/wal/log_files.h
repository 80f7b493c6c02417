// Names and listing of log segment files, and the small POSIX helpers the
// log shares with the store (directory fsync).
#ifndef CRUDJT_WAL_LOG_FILES_H_
#define CRUDJT_WAL_LOG_FILES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crudjt/status.h"

namespace crudjt {
namespace wal {

// "<dir>/crudjt-<16 hex digits>.wal".
std::string SegmentFileName(const std::string& dir, uint64_t seq);
// True (and *seq) iff `name` (no directory) is a segment file name.
bool ParseSegmentFileName(std::string_view name, uint64_t* seq);
// Sorted seqs of the segment files in dir. Also removes leftover
// "crudjt-*.wal.tmp" files of an interrupted segment creation.
Status ListSegments(const std::string& dir, std::vector<uint64_t>* seqs);
// fsync() of the directory itself, so that created/renamed/removed entries
// are durable.
Status SyncDir(const std::string& dir);

}  // namespace wal
}  // namespace crudjt

#endif  // CRUDJT_WAL_LOG_FILES_H_
