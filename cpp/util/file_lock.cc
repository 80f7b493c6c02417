// FileLock: flock(2) on <dir>/LOCK, holder pid written into the file.

#include "util/file_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace crudjt {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// Reads the decimal pid the holder wrote; 0 if the file is empty or garbled
// (the holder may be between its truncate and its write).
long ReadHolderPid(int fd) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    char buf[32];
    ssize_t n;
    do {
      n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      buf[n] = '\0';
      char* end = nullptr;
      long pid = std::strtol(buf, &end, 10);
      if (end != buf && pid > 0) return pid;
    }
    ::usleep(1000);  // give the new holder a moment to write its pid
  }
  return 0;
}

}  // namespace

Status FileLock::Acquire(const std::string& dir, std::unique_ptr<FileLock>* out) {
  out->reset();
  std::string path = dir + "/LOCK";
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return Status::IOError("cannot open lock file " + path + ": " + ErrnoText(errno));
  }

  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    if (err == EWOULDBLOCK) {
      long pid = ReadHolderPid(fd);
      ::close(fd);
      std::string holder = pid > 0 ? "pid " + std::to_string(pid) : "pid unknown";
      return Status::Busy("store " + dir + " is locked by another process (" + holder + ")");
    }
    ::close(fd);
    return Status::IOError("cannot lock " + path + ": " + ErrnoText(err));
  }

  // We own the lock: replace whatever pid a dead holder left with ours.
  std::string pid = std::to_string(static_cast<long>(::getpid())) + "\n";
  if (::ftruncate(fd, 0) != 0) {
    int err = errno;
    ::close(fd);
    return Status::IOError("cannot truncate " + path + ": " + ErrnoText(err));
  }
  size_t done = 0;
  while (done < pid.size()) {
    ssize_t n = ::pwrite(fd, pid.data() + done, pid.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::IOError("cannot write pid to " + path + ": " + ErrnoText(err));
    }
    done += static_cast<size_t>(n);
  }

  out->reset(new FileLock(fd, std::move(path)));
  return Status::OK();
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    // Closing the only descriptor of this open file description drops the
    // flock; the stale pid is harmless (the next holder overwrites it).
    ::close(fd_);
  }
}

}  // namespace crudjt
