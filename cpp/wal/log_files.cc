#include "wal/log_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace crudjt {
namespace wal {

namespace {
constexpr std::string_view kPrefix = "crudjt-";
constexpr std::string_view kSuffix = ".wal";
constexpr std::string_view kTmpSuffix = ".wal.tmp";
constexpr size_t kHexDigits = 16;

bool ParseHex(std::string_view s, uint64_t* v) {
  if (s.size() != kHexDigits) return false;
  uint64_t x = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return false;
    x = (x << 4) | uint64_t(d);
  }
  *v = x;
  return true;
}

bool HasAffixes(std::string_view name, std::string_view suffix) {
  return name.size() == kPrefix.size() + kHexDigits + suffix.size() &&
         name.substr(0, kPrefix.size()) == kPrefix &&
         name.substr(name.size() - suffix.size()) == suffix;
}
}  // namespace

std::string SegmentFileName(const std::string& dir, uint64_t seq) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "/crudjt-%016" PRIx64 ".wal", seq);
  return dir + buf;
}

bool ParseSegmentFileName(std::string_view name, uint64_t* seq) {
  if (!HasAffixes(name, kSuffix)) return false;
  return ParseHex(name.substr(kPrefix.size(), kHexDigits), seq);
}

Status ListSegments(const std::string& dir, std::vector<uint64_t>* seqs) {
  seqs->clear();
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return Status::IOError(dir + ": opendir: " + std::strerror(errno));
  }
  while (struct dirent* e = readdir(d)) {
    std::string_view name(e->d_name);
    uint64_t seq;
    if (ParseSegmentFileName(name, &seq)) {
      seqs->push_back(seq);
    } else if (HasAffixes(name, kTmpSuffix) &&
               ParseHex(name.substr(kPrefix.size(), kHexDigits), &seq)) {
      // A creation that died before its rename: never referenced by anyone.
      unlink((dir + "/" + std::string(name)).c_str());
    }
  }
  closedir(d);
  std::sort(seqs->begin(), seqs->end());
  return Status::OK();
}

Status SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(dir + ": open: " + std::strerror(errno));
  int r = fsync(fd);
  int err = errno;
  close(fd);
  if (r != 0) return Status::IOError(dir + ": fsync: " + std::strerror(err));
  return Status::OK();
}

}  // namespace wal
}  // namespace crudjt
