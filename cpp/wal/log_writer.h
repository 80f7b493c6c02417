// LogWriter: appends records to one log segment file.
//
// Each record reaches the file with ONE pwrite() before AddRecord returns,
// so a process crash (SIGKILL) after that loses nothing: the bytes are in
// the kernel's page cache. Sync() makes them survive a machine crash.
//
// A write that fails or is short (ENOSPC, EFBIG under RLIMIT_FSIZE, EIO) is
// undone: the file is truncated back to its last good length and IOError
// (naming the file) is returned; the record is then not in the log and the
// caller must not apply it. If even the truncate fails, broken() turns true
// and every later AddRecord fails: the tail of the file may hold a partial
// record, which recovery drops as a torn tail.
//
// Thread-safety: AddRecord is called by one thread at a time (the store's
// mutex). Sync(), size() and synced_size() may be called concurrently with
// AddRecord from any thread (the flush thread does so without the mutex).
#ifndef CRUDJT_WAL_LOG_WRITER_H_
#define CRUDJT_WAL_LOG_WRITER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "crudjt/status.h"
#include "wal/log_format.h"

namespace crudjt {
namespace wal {

class LogWriter {
 public:
  // Creates the segment <dir>/crudjt-<seq>.wal holding only its header. The
  // header goes to a ".tmp" file that is fsynced and then renamed (and the
  // directory fsynced), so a segment file either has a complete header or
  // does not exist. IOError if the file exists or cannot be written.
  static Status Create(const std::string& dir, uint64_t seq, std::unique_ptr<LogWriter>* out);

  // Reopens an existing segment (whose records recovery has verified up to
  // `end`) for appending at `end`; bytes past `end` are truncated away.
  static Status Reopen(const std::string& dir, uint64_t seq, uint64_t end,
                       std::unique_ptr<LogWriter>* out);

  ~LogWriter();  // closes the file (no sync)
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Appends one record whose payload is part1 || part2 (at most
  // kMaxRecordPayload bytes, else InvalidArgument). ok: the record is in the
  // file. IOError: it is not (file truncated back), or broken().
  Status AddRecord(RecordType type, uint64_t lsn, std::string_view part1,
                   std::string_view part2 = {});

  // Appends several records, encoded back to back into `encoded` by
  // EncodeRecord, with ONE pwrite (a batch). Each record keeps its own
  // checksum and lsn, so recovery treats a batch cut short by a crash like
  // any torn tail: the complete records before the cut are replayed, the
  // rest dropped. Same failure contract as AddRecord: on IOError none of
  // the batch is in the file (or broken()).
  Status AddRecords(std::string_view encoded);

  // Appends one encoded record (header + part1 || part2) to *out. False
  // (nothing appended) when the payload exceeds kMaxRecordPayload.
  static bool EncodeRecord(RecordType type, uint64_t lsn, std::string_view part1,
                           std::string_view part2, std::string* out);

  // fdatasync() if bytes were written since the last successful Sync,
  // after syncing the predecessor (if one is still set).
  Status Sync();
  // The segment this one follows. Until it has been synced (by the first
  // Sync() of this one, which then drops it), no byte of this segment is
  // made durable before all of its: a machine crash can lose a tail, never
  // the middle of the log. Lets a checkpoint switch segments without an
  // fdatasync while writers wait.
  void set_predecessor(std::shared_ptr<LogWriter> prev);
  // True while a predecessor still awaits its sync.
  bool has_predecessor() const;

  uint64_t seq() const { return seq_; }
  const std::string& path() const { return path_; }
  // Bytes in the file (header included) / of them known to be on disk.
  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  uint64_t synced_size() const { return synced_.load(std::memory_order_acquire); }
  bool broken() const { return broken_; }

  // Test hook: writes that would grow the file past `max_bytes` are cut
  // short at that size and fail with EFBIG, like RLIMIT_FSIZE. 0 = no limit.
  void TEST_SetSizeLimit(uint64_t max_bytes) { test_size_limit_ = max_bytes; }
  // Test hook: the truncate that undoes a failed write fails too.
  void TEST_FailTruncate(bool fail) { test_fail_truncate_ = fail; }

 private:
  LogWriter(int fd, std::string path, uint64_t seq, uint64_t size);
  // One pwrite of `n` bytes at the end of the file, undone on failure.
  Status Append(const uint8_t* data, size_t n);

  const int fd_;
  const std::string path_;
  const uint64_t seq_;
  std::atomic<uint64_t> size_;
  std::atomic<uint64_t> synced_;
  mutable std::mutex predecessor_mu_;
  std::shared_ptr<LogWriter> predecessor_;  // guarded by predecessor_mu_
  bool broken_ = false;  // only touched by the AddRecord thread
  uint64_t test_size_limit_ = 0;
  bool test_fail_truncate_ = false;
};

// Encodes a segment header for `seq` into buf[kSegmentHeaderSize].
void EncodeSegmentHeader(uint64_t seq, uint8_t* buf);

}  // namespace wal
}  // namespace crudjt

#endif  // CRUDJT_WAL_LOG_WRITER_H_
