#include "wal/log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/coding.h"
#include "util/crc32c.h"

namespace crudjt {
namespace wal {

namespace {

constexpr size_t kTreeKey = 16;
constexpr size_t kMaxValue = 512;

std::string At(const std::string& path, uint64_t off) {
  return path + " at offset " + std::to_string(off);
}

// Parses the record at off. True iff its header fits, its length is in
// range, its bytes are all there and its crc verifies.
bool ParseRecord(const uint8_t* p, size_t size, size_t off, RecordType* type, uint64_t* lsn,
                 std::string_view* payload) {
  if (size - off < kRecordHeaderSize) return false;
  const uint8_t* r = p + off;
  const size_t len = DecodeFixed16(r + 4);
  if (len > kMaxRecordPayload || size - off - kRecordHeaderSize < len) return false;
  const uint32_t want = crc32c::Unmask(DecodeFixed32(r));
  if (crc32c::Value(r + 4, kRecordHeaderSize - 4 + len) != want) return false;
  *type = RecordType(r[6]);
  *lsn = DecodeFixed64(r + 7);
  *payload = std::string_view(reinterpret_cast<const char*>(r + kRecordHeaderSize), len);
  return true;
}

// Looks for a verifying record at any offset in (bad, size) whose lsn could
// follow history (>= next_lsn, and not further ahead than the bytes left
// could hold). Returns its offset, or 0 when there is none.
size_t FindValidRecordAfter(const uint8_t* p, size_t size, size_t bad, uint64_t next_lsn) {
  if (size < kRecordHeaderSize) return 0;
  const uint64_t max_lsn = next_lsn + (size - bad) / kRecordHeaderSize + 1;
  for (size_t off = bad + 1; off + kRecordHeaderSize <= size; ++off) {
    const uint64_t lsn = DecodeFixed64(p + off + 7);
    if (lsn < next_lsn || lsn > max_lsn) continue;
    RecordType type;
    uint64_t l;
    std::string_view payload;
    if (ParseRecord(p, size, off, &type, &l, &payload)) return off;
  }
  return 0;
}

}  // namespace

Status LogReader::ReadSegment(const std::string& path, uint64_t seq, uint64_t* next_lsn,
                              const RecordFn& fn, SegmentReadResult* result) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path + ": open: " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return Status::IOError(path + ": fstat: " + std::strerror(err));
  }
  std::string bytes(size_t(st.st_size), '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = pread(fd, &bytes[got], bytes.size() - got, off_t(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Status::IOError(path + ": read: " + std::strerror(err));
    }
    if (n == 0) break;
    got += size_t(n);
  }
  close(fd);
  bytes.resize(got);
  return ReadSegmentBytes(path, bytes, seq, next_lsn, fn, result);
}

Status LogReader::ReadSegmentBytes(const std::string& path, std::string_view bytes, uint64_t seq,
                                   uint64_t* next_lsn, const RecordFn& fn,
                                   SegmentReadResult* result) {
  *result = SegmentReadResult();
  const uint8_t* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t size = bytes.size();
  result->file_bytes = size;
  // Segments are created complete (header written, fsynced, renamed), so a
  // bad header is never a torn write.
  if (size < kSegmentHeaderSize || std::memcmp(p, kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    return Status::Corruption(path + ": not a crudjt log segment (bad header)");
  }
  const uint32_t version = DecodeFixed32(p + 8);
  if (version > kLogFormatVersion) {
    return Status::NotSupported(path + ": log format version " + std::to_string(version) +
                                " is newer than this build supports (" +
                                std::to_string(kLogFormatVersion) + ")");
  }
  if (crc32c::Value(p, 24) != crc32c::Unmask(DecodeFixed32(p + 24)) || version == 0) {
    return Status::Corruption(path + ": log segment header checksum mismatch");
  }
  if (DecodeFixed64(p + 16) != seq) {
    return Status::Corruption(path + ": log segment header names seq " +
                              std::to_string(DecodeFixed64(p + 16)) + ", file name " +
                              std::to_string(seq));
  }

  size_t off = kSegmentHeaderSize;
  while (off < size) {
    RecordType type;
    uint64_t lsn;
    std::string_view payload;
    if (!ParseRecord(p, size, off, &type, &lsn, &payload)) {
      size_t later = FindValidRecordAfter(p, size, off, *next_lsn);
      if (later != 0) {
        return Status::Corruption(At(path, off) + ": log record fails its checksum, yet a "
                                  "valid record follows at offset " + std::to_string(later));
      }
      break;  // torn tail
    }
    if (lsn != *next_lsn) {
      return Status::Corruption(At(path, off) + ": log record lsn " + std::to_string(lsn) +
                                ", expected " + std::to_string(*next_lsn));
    }
    const bool shape_ok =
        (type == kPut && payload.size() > kTreeKey && payload.size() <= kTreeKey + kMaxValue) ||
        (type == kDelete && payload.size() == kTreeKey);
    if (!shape_ok) {
      return Status::Corruption(At(path, off) + ": log record of unknown type " +
                                std::to_string(int(type)) + " or bad length " +
                                std::to_string(payload.size()));
    }
    Status s = fn(type, lsn, payload);
    if (!s.ok()) return s;
    ++result->records;
    *next_lsn = lsn + 1;
    off += kRecordHeaderSize + payload.size();
  }
  result->good_bytes = off;
  return Status::OK();
}

}  // namespace wal
}  // namespace crudjt
