#include "crypto/random.h"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

using namespace crudjt;

TEST_CASE("RandomBytes.FillsBufferAndDiffersBetweenCalls") {
  uint8_t a[16], b[16];
  REQUIRE(RandomBytes(a, sizeof(a)).ok());
  REQUIRE(RandomBytes(b, sizeof(b)).ok());
  CHECK(std::memcmp(a, b, 16) != 0);
}

TEST_CASE("RandomBytes.ZeroLengthIsOk") {
  CHECK(RandomBytes(nullptr, 0).ok());
}

TEST_CASE("RandomBytes.LargeRequestIsFilledCompletely") {
  // getrandom only guarantees a full fill up to 256 bytes per call; 1 MiB
  // goes through the loop that resumes after short reads.
  std::vector<uint8_t> buf(1 << 20, 0);
  REQUIRE(RandomBytes(buf.data(), buf.size()).ok());
  // Every 4 KiB window must contain non-zero bytes (a partial fill would
  // leave a zero tail).
  for (size_t off = 0; off < buf.size(); off += 4096) {
    bool any = false;
    for (size_t i = off; i < off + 4096; ++i) any |= buf[i] != 0;
    CHECK(any);
  }
  // Roughly uniform: each byte value appears near 4096 times.
  size_t counts[256] = {};
  for (uint8_t v : buf) counts[v]++;
  for (size_t c : counts) {
    CHECK(c > 3400);
    CHECK(c < 4800);
  }
}

TEST_CASE("RandomBytes.SixteenByteTokensDoNotRepeat") {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    char t[16];
    REQUIRE(RandomBytes(t, sizeof(t)).ok());
    CHECK(seen.insert(std::string(t, 16)).second);
  }
}

TEST_CASE("BufferedRandomBytes.NeverHandsOutTheSameBytesTwice") {
  std::set<std::string> seen;
  // Crosses many 4 KiB refills, with draws that straddle a block's end.
  for (int i = 0; i < 20000; ++i) {
    char t[40];
    const size_t n = 16 + size_t(i % 25);
    REQUIRE(BufferedRandomBytes(t, n).ok());
    CHECK(seen.insert(std::string(t, 16)).second);
  }
  std::vector<uint8_t> big(5000, 0);
  REQUIRE(BufferedRandomBytes(big.data(), big.size()).ok());  // straight to the OS
  size_t zeros = 0;
  for (uint8_t v : big) zeros += v == 0;
  CHECK(zeros < 100);
}

TEST_CASE("BufferedRandomBytes.AForkedChildDoesNotRepeatItsParentsBytes") {
  uint8_t warm[16];
  REQUIRE(BufferedRandomBytes(warm, sizeof(warm)).ok());  // the buffer holds ~4 KiB now
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    uint8_t mine[32];
    if (!BufferedRandomBytes(mine, sizeof(mine)).ok()) _exit(1);
    _exit(write(fds[1], mine, sizeof(mine)) == ssize_t(sizeof(mine)) ? 0 : 2);
  }
  close(fds[1]);
  uint8_t parent[32], child[32];
  REQUIRE(BufferedRandomBytes(parent, sizeof(parent)).ok());
  REQUIRE(read(fds[0], child, sizeof(child)) == ssize_t(sizeof(child)));
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(std::memcmp(parent, child, sizeof(parent)) != 0);
}
