#include "wal/log_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/coding.h"
#include "util/crc32c.h"
#include "wal/log_files.h"

namespace crudjt {
namespace wal {

namespace {
Status Errno(const std::string& path, const char* op, int err) {
  return Status::IOError(path + ": " + op + ": " + std::strerror(err));
}
}  // namespace

void EncodeSegmentHeader(uint64_t seq, uint8_t* buf) {
  std::memset(buf, 0, kSegmentHeaderSize);
  std::memcpy(buf, kSegmentMagic, sizeof(kSegmentMagic));
  EncodeFixed32(buf + 8, kLogFormatVersion);
  EncodeFixed64(buf + 16, seq);
  EncodeFixed32(buf + 24, crc32c::Mask(crc32c::Value(buf, 24)));
}

LogWriter::LogWriter(int fd, std::string path, uint64_t seq, uint64_t size)
    : fd_(fd), path_(std::move(path)), seq_(seq), size_(size), synced_(size) {}

LogWriter::~LogWriter() { close(fd_); }

Status LogWriter::Create(const std::string& dir, uint64_t seq, std::unique_ptr<LogWriter>* out) {
  const std::string path = SegmentFileName(dir, seq);
  const std::string tmp = path + ".tmp";
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    return Status::IOError(path + ": log segment already exists");
  }
  int fd = open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(tmp, "open", errno);
  uint8_t header[kSegmentHeaderSize];
  EncodeSegmentHeader(seq, header);
  ssize_t n = pwrite(fd, header, sizeof(header), 0);
  if (n != ssize_t(sizeof(header)) || fdatasync(fd) != 0) {
    int err = n < 0 ? errno : (n != ssize_t(sizeof(header)) ? ENOSPC : errno);
    close(fd);
    unlink(tmp.c_str());
    return Errno(tmp, "write header", err);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    close(fd);
    unlink(tmp.c_str());
    return Errno(path, "rename", err);
  }
  Status s = SyncDir(dir);
  if (!s.ok()) {
    close(fd);
    return s;
  }
  out->reset(new LogWriter(fd, path, seq, kSegmentHeaderSize));
  return Status::OK();
}

Status LogWriter::Reopen(const std::string& dir, uint64_t seq, uint64_t end,
                         std::unique_ptr<LogWriter>* out) {
  const std::string path = SegmentFileName(dir, seq);
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Errno(path, "open", errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return Errno(path, "fstat", err);
  }
  if (uint64_t(st.st_size) != end) {
    if (ftruncate(fd, off_t(end)) != 0 || fdatasync(fd) != 0) {
      int err = errno;
      close(fd);
      return Errno(path, "truncate torn tail", err);
    }
  }
  out->reset(new LogWriter(fd, path, seq, end));
  return Status::OK();
}

bool LogWriter::EncodeRecord(RecordType type, uint64_t lsn, std::string_view part1,
                             std::string_view part2, std::string* out) {
  const size_t len = part1.size() + part2.size();
  if (len > kMaxRecordPayload) return false;
  const size_t at = out->size();
  out->resize(at + kRecordHeaderSize + len);
  uint8_t* buf = reinterpret_cast<uint8_t*>(&(*out)[at]);
  EncodeFixed16(buf + 4, uint16_t(len));
  buf[6] = type;
  EncodeFixed64(buf + 7, lsn);
  if (!part1.empty()) std::memcpy(buf + kRecordHeaderSize, part1.data(), part1.size());
  if (!part2.empty()) std::memcpy(buf + kRecordHeaderSize + part1.size(), part2.data(), part2.size());
  EncodeFixed32(buf, crc32c::Mask(crc32c::Value(buf + 4, kRecordHeaderSize - 4 + len)));
  return true;
}

Status LogWriter::AddRecord(RecordType type, uint64_t lsn, std::string_view part1,
                            std::string_view part2) {
  const size_t len = part1.size() + part2.size();
  if (len > kMaxRecordPayload) return Status::InvalidArgument("log record too large");
  uint8_t buf[kRecordHeaderSize + kMaxRecordPayload];
  EncodeFixed16(buf + 4, uint16_t(len));
  buf[6] = type;
  EncodeFixed64(buf + 7, lsn);
  if (!part1.empty()) std::memcpy(buf + kRecordHeaderSize, part1.data(), part1.size());
  if (!part2.empty()) std::memcpy(buf + kRecordHeaderSize + part1.size(), part2.data(), part2.size());
  EncodeFixed32(buf, crc32c::Mask(crc32c::Value(buf + 4, kRecordHeaderSize - 4 + len)));
  return Append(buf, kRecordHeaderSize + len);
}

Status LogWriter::AddRecords(std::string_view encoded) {
  if (encoded.empty()) return Status::OK();
  return Append(reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size());
}

Status LogWriter::Append(const uint8_t* data, size_t want) {
  if (broken_) {
    return Status::IOError(path_ + ": an earlier failed write could not be undone");
  }
  const uint64_t off = size_.load(std::memory_order_relaxed);
  size_t to_write = want;
  bool limited = false;
  if (test_size_limit_ != 0 && off + want > test_size_limit_) {
    to_write = test_size_limit_ > off ? size_t(test_size_limit_ - off) : 0;
    limited = true;
  }
  // One pwrite: a regular file takes it whole unless the disk is full, a
  // size limit cuts it, or a signal lands mid-write; any short count is a
  // failure that is undone below.
  ssize_t n = to_write > 0 ? pwrite(fd_, data, to_write, off_t(off)) : 0;
  if (n == ssize_t(want)) {
    size_.store(off + want, std::memory_order_release);
    return Status::OK();
  }
  int err = n < 0 ? errno : (limited ? EFBIG : ENOSPC);
  // Undo whatever part reached the file, so the log never holds a record
  // the tree did not get (the caller drops the change).
  if (test_fail_truncate_ || ftruncate(fd_, off_t(off)) != 0) {
    broken_ = true;
    return Status::IOError(path_ + ": write: " + std::strerror(err) +
                           "; truncating back also failed, the log is now read-only");
  }
  return Errno(path_, "write", err);
}

void LogWriter::set_predecessor(std::shared_ptr<LogWriter> prev) {
  std::lock_guard<std::mutex> l(predecessor_mu_);
  predecessor_ = std::move(prev);
}

bool LogWriter::has_predecessor() const {
  std::lock_guard<std::mutex> l(predecessor_mu_);
  return predecessor_ != nullptr;
}

Status LogWriter::Sync() {
  std::shared_ptr<LogWriter> prev;
  {
    std::lock_guard<std::mutex> l(predecessor_mu_);
    prev = predecessor_;
  }
  if (prev) {
    Status s = prev->Sync();
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> l(predecessor_mu_);
    if (predecessor_ == prev) predecessor_.reset();
  }
  const uint64_t target = size_.load(std::memory_order_acquire);
  if (target <= synced_.load(std::memory_order_acquire)) return Status::OK();
  if (fdatasync(fd_) != 0) return Errno(path_, "fdatasync", errno);
  uint64_t cur = synced_.load(std::memory_order_relaxed);
  while (cur < target &&
         !synced_.compare_exchange_weak(cur, target, std::memory_order_acq_rel)) {
  }
  return Status::OK();
}

}  // namespace wal
}  // namespace crudjt
