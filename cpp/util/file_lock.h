// FileLock: the exclusive OS lock that makes one process the owner of a
// store directory: flock(LOCK_EX|LOCK_NB) on <dir>/LOCK. flock, unlike fcntl,
// also refuses a second Acquire in the same process; the kernel drops it when
// the process dies, so a SIGKILLed master never leaves a stale
// lock); the holder writes its pid into the file so a refused opener can
// name it.
#ifndef CRUDJT_UTIL_FILE_LOCK_H_
#define CRUDJT_UTIL_FILE_LOCK_H_

#include <memory>
#include <string>

#include "crudjt/status.h"

namespace crudjt {

class FileLock {
 public:
  // Busy("store <dir> is locked by another process (pid N)") when held
  // elsewhere; IOError when the file cannot be created.
  static Status Acquire(const std::string& dir, std::unique_ptr<FileLock>* out);
  ~FileLock();  // releases
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace crudjt

#endif  // CRUDJT_UTIL_FILE_LOCK_H_
