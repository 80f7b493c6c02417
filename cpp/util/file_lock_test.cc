#include "util/file_lock.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using namespace crudjt;

namespace {

// A fresh empty directory, removed (with its LOCK) at scope exit.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/crudjt_lock_test_XXXXXX";
    char* p = ::mkdtemp(tmpl);
    REQUIRE(p != nullptr);
    path_ = p;
  }
  ~TempDir() {
    ::unlink((path_ + "/LOCK").c_str());
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("FileLock.AcquireCreatesLockFileHoldingOwnPid") {
  TempDir dir;
  std::unique_ptr<FileLock> lock;
  Status s = FileLock::Acquire(dir.path(), &lock);
  REQUIRE(s.ok());
  REQUIRE(lock != nullptr);
  CHECK(ReadFile(dir.path() + "/LOCK") == std::to_string(::getpid()) + "\n");
  struct stat st;
  REQUIRE(::stat((dir.path() + "/LOCK").c_str(), &st) == 0);
  const mode_t umask_now = ::umask(0);
  ::umask(umask_now);
  CHECK((st.st_mode & 0777) == (0644 & ~umask_now));
}

TEST_CASE("FileLock.SecondAcquireInSameProcessIsBusyNamingPathAndPid") {
  TempDir dir;
  std::unique_ptr<FileLock> first;
  REQUIRE(FileLock::Acquire(dir.path(), &first).ok());

  std::unique_ptr<FileLock> second;
  Status s = FileLock::Acquire(dir.path(), &second);
  CHECK(s.IsBusy());
  CHECK(second == nullptr);
  CHECK(s.message() == "store " + dir.path() + " is locked by another process (pid " +
                           std::to_string(::getpid()) + ")");
}

TEST_CASE("FileLock.ReleaseThenReacquireSucceeds") {
  TempDir dir;
  std::unique_ptr<FileLock> lock;
  REQUIRE(FileLock::Acquire(dir.path(), &lock).ok());
  lock.reset();
  REQUIRE(FileLock::Acquire(dir.path(), &lock).ok());
  std::unique_ptr<FileLock> again;
  CHECK(FileLock::Acquire(dir.path(), &again).IsBusy());
  lock.reset();
  CHECK(FileLock::Acquire(dir.path(), &again).ok());
}

TEST_CASE("FileLock.StalePidFromDeadHolderIsOverwritten") {
  TempDir dir;
  {
    std::ofstream f(dir.path() + "/LOCK");
    f << "99999999999 leftover bytes from a longer previous content\n";
  }
  std::unique_ptr<FileLock> lock;
  REQUIRE(FileLock::Acquire(dir.path(), &lock).ok());
  CHECK(ReadFile(dir.path() + "/LOCK") == std::to_string(::getpid()) + "\n");
}

TEST_CASE("FileLock.MissingDirectoryIsIOError") {
  std::unique_ptr<FileLock> lock;
  Status s = FileLock::Acquire("/tmp/crudjt_no_such_dir_for_lock_test/sub", &lock);
  CHECK(s.IsIOError());
  CHECK(lock == nullptr);
  CHECK(s.message().find("/tmp/crudjt_no_such_dir_for_lock_test/sub/LOCK") != std::string::npos);
}

TEST_CASE("FileLock.SigkilledHolderReleasesLock") {
  TempDir dir;
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    std::unique_ptr<FileLock> lock;
    char c = FileLock::Acquire(dir.path(), &lock).ok() ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) ::_exit(2);
    for (;;) ::pause();  // hold the lock until killed
  }
  ::close(ready[1]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);
  REQUIRE(c == 'y');

  std::unique_ptr<FileLock> lock;
  Status s = FileLock::Acquire(dir.path(), &lock);
  CHECK(s.IsBusy());
  CHECK(s.message().find("(pid " + std::to_string(child) + ")") != std::string::npos);

  REQUIRE(::kill(child, SIGKILL) == 0);
  int wstatus = 0;
  REQUIRE(::waitpid(child, &wstatus, 0) == child);
  CHECK(WIFSIGNALED(wstatus));

  s = FileLock::Acquire(dir.path(), &lock);
  CHECK(s.ok());
  CHECK(lock != nullptr);
  CHECK(ReadFile(dir.path() + "/LOCK") == std::to_string(::getpid()) + "\n");
}
