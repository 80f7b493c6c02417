// Crash tests: a child process performs acknowledged writes, reporting each
// acknowledgement over a pipe, and is SIGKILLed at a random moment (often
// during a checkpoint or a sweep); the parent reopens the store and checks
// every acknowledged write. Plus the power-loss model: the log cut back to
// its last fsynced length must reopen as a prefix of history.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <sstream>

#include "store/store_test_util.h"
#include "wal/log_files.h"

namespace crudjt {
namespace {

using testutil::Secret;
using testutil::TempDir;

void WriteLine(int fd, const std::string& line) {
  std::string l = line + "\n";
  if (write(fd, l.data(), l.size()) != ssize_t(l.size())) _exit(3);
}

std::vector<std::string> ReadLines(int fd) {
  std::string all;
  char buf[65536];
  for (ssize_t k; (k = read(fd, buf, sizeof(buf))) > 0;) all.append(buf, size_t(k));
  std::vector<std::string> lines;
  std::istringstream is(all);
  for (std::string line; std::getline(is, line);) lines.push_back(line);
  // A line without its newline was cut by the kill: drop it.
  if (!all.empty() && all.back() != '\n' && !lines.empty()) lines.pop_back();
  return lines;
}

Options CrashOptions() {
  Options o;
  o.flush_interval_ms = 2;
  o.checkpoint_log_bytes = 24 << 10;  // a checkpoint every ~60 writes
  o.page_cache_bytes = 512 << 10;
  o.sweep_on_open = true;
  o.sweep_interval_ms = 3;
  return o;
}

// The child: random creates / updates / removes / counted reads, forever.
// Lines: "C idx token payload reads", "B idx" (an op on idx begins),
// "U idx payload reads", "R idx", "D idx reads_left", "X idx" (gone), "T"
// (a short-lived token that only feeds the sweeper).
[[noreturn]] void CrashChild(const std::string& dir, int fd, unsigned seed) {
  auto clock = std::make_shared<std::atomic<int64_t>>(1700000000000);
  Options o = CrashOptions();
  o.TEST_clock_ms = [clock] { return clock->fetch_add(1); };
  std::unique_ptr<Store> s;
  if (!Store::Open(dir, Secret(), o, &s).ok()) _exit(1);
  std::mt19937 rng(seed);
  struct Tok {
    std::string token;
    int64_t reads;
    bool alive;
  };
  std::vector<Tok> toks;
  for (int n = 0;; ++n) {
    const int op = int(rng() % 10);
    std::string payload = "p" + std::to_string(n) + std::string(rng() % 100, 'x');
    if (op <= 2 || toks.empty()) {
      int64_t reads = rng() % 2 ? kNoLimit : int64_t(1 + rng() % 4);
      std::string t;
      if (!s->Create(payload, kNoLimit, reads, &t).ok()) _exit(2);
      toks.push_back(Tok{t, reads, true});
      WriteLine(fd, "C " + std::to_string(toks.size() - 1) + " " + t + " " + payload + " " +
                        std::to_string(reads));
    } else if (op == 3) {
      std::string t;
      if (!s->Create(payload, 30, kNoLimit, &t).ok()) _exit(2);
      WriteLine(fd, "T");
    } else {
      size_t idx = rng() % toks.size();
      Tok& k = toks[idx];
      WriteLine(fd, "B " + std::to_string(idx));
      if (op <= 5) {
        int64_t reads = rng() % 2 ? kNoLimit : int64_t(1 + rng() % 4);
        bool updated;
        if (!s->Update(k.token, payload, kNoLimit, reads, &updated).ok()) _exit(2);
        if (updated != k.alive) _exit(4);
        if (updated) {
          k.reads = reads;
          WriteLine(fd, "U " + std::to_string(idx) + " " + payload + " " + std::to_string(reads));
        } else {
          WriteLine(fd, "X " + std::to_string(idx));
        }
      } else if (op == 6) {
        bool removed;
        if (!s->Remove(k.token, &removed).ok()) _exit(2);
        if (removed != k.alive) _exit(4);
        k.alive = false;
        WriteLine(fd, "R " + std::to_string(idx));
      } else {
        ReadResult r;
        Status st = s->Read(k.token, &r);
        if (!st.ok() && !st.IsNotFound()) _exit(2);
        if (st.ok() != k.alive) _exit(4);
        if (st.ok()) {
          if (k.reads != kNoLimit) {
            k.reads = r.reads_left;
            if (k.reads == 0) k.alive = false;
          }
          WriteLine(fd, "D " + std::to_string(idx) + " " + std::to_string(r.reads_left));
        } else {
          WriteLine(fd, "X " + std::to_string(idx));
        }
      }
    }
  }
}

struct Expected {
  std::string token;
  std::string payload;
  int64_t reads = kNoLimit;
  bool alive = true;
  bool uncertain = false;
};

TEST_CASE("EveryAcknowledgedWriteSurvivesSigkill") {
  const int rounds = 24;
  uint64_t total_acks = 0, total_checked = 0;
  for (int round = 0; round < rounds; ++round) {
    CAPTURE(round);
    TempDir dir;
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      CrashChild(dir.Store(), fds[1], 1000 + unsigned(round));
    }
    close(fds[1]);
    std::mt19937 rng(round);
    usleep(useconds_t(30000 + rng() % 250000));
    kill(pid, SIGKILL);
    std::vector<std::string> lines = ReadLines(fds[0]);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    REQUIRE_MESSAGE(WIFSIGNALED(status), "child exited early with " << WEXITSTATUS(status));

    std::vector<Expected> exp;
    for (const std::string& line : lines) {
      std::istringstream is(line);
      char c;
      is >> c;
      size_t idx = 0;
      if (c == 'C') {
        Expected e;
        is >> idx >> e.token >> e.payload >> e.reads;
        REQUIRE(idx == exp.size());
        exp.push_back(e);
        continue;
      }
      if (c == 'T') continue;
      is >> idx;
      REQUIRE(idx < exp.size());
      Expected& e = exp[idx];
      if (c == 'B') {
        e.uncertain = true;
        continue;
      }
      e.uncertain = false;
      if (c == 'U') {
        is >> e.payload >> e.reads;
      } else if (c == 'R' || c == 'X') {
        e.alive = false;
      } else if (c == 'D') {
        int64_t left;
        is >> left;
        if (e.reads != kNoLimit) {
          e.reads = left;
          if (left == 0) e.alive = false;
        }
      }
    }
    total_acks += lines.size();

    Options o = testutil::QuietOptions();
    std::unique_ptr<Store> s;
    OpenInfo info;
    Status st = Store::Open(dir.Store(), Secret(), o, &s, &info);
    REQUIRE_MESSAGE(st.ok(), st.ToString());
    for (const Expected& e : exp) {
      ReadResult r;
      Status rs = s->Read(e.token, &r);
      REQUIRE_MESSAGE((rs.ok() || rs.IsNotFound()), rs.ToString());
      if (e.uncertain) continue;
      ++total_checked;
      CAPTURE(e.token);
      REQUIRE(rs.ok() == e.alive);
      if (rs.ok()) {
        CHECK(r.payload == e.payload);
        CHECK(r.reads_left == (e.reads == kNoLimit ? kNoLimit : e.reads - 1));
      }
    }
    REQUIRE(s->Close().ok());
  }
  MESSAGE("acknowledged ops " << total_acks << ", tokens checked " << total_checked);
  CHECK(total_checked > 0);
}

TEST_CASE("LogCutToItsFsyncedLengthReopensAsAPrefixOfHistory") {
  for (int round = 0; round < 6; ++round) {
    CAPTURE(round);
    TempDir dir;
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      Options o = testutil::QuietOptions();
      o.flush_interval_ms = 1000000;  // only the explicit Flush below syncs
      std::unique_ptr<Store> s;
      if (!Store::Open(dir.Store(), Secret(), o, &s).ok()) _exit(1);
      StoreImpl* impl = testutil::Impl(s);
      for (int i = 0;; ++i) {
        std::string t;
        if (!s->Create("v" + std::to_string(i), kNoLimit, kNoLimit, &t).ok()) _exit(2);
        WriteLine(fds[1], "A " + t);
        if (i % 7 == 6) {
          if (!s->Flush().ok()) _exit(2);
          auto l = impl->TEST_CurrentLog();
          WriteLine(fds[1], "S " + l.path + " " + std::to_string(l.synced_size));
        }
      }
    }
    close(fds[1]);
    usleep(useconds_t(80000 + round * 20000));
    kill(pid, SIGKILL);
    std::vector<std::string> lines = ReadLines(fds[0]);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));

    std::vector<std::string> tokens;
    size_t synced_count = 0;
    std::string path;
    uint64_t synced = 0;
    for (const std::string& line : lines) {
      std::istringstream is(line);
      char c;
      is >> c;
      if (c == 'A') {
        std::string t;
        is >> t;
        tokens.push_back(t);
      } else {
        is >> path >> synced;
        synced_count = tokens.size();
      }
    }
    REQUIRE(!path.empty());
    // The machine "loses power": whatever was not fsynced is gone.
    REQUIRE(truncate(path.c_str(), off_t(synced)) == 0);
    std::unique_ptr<Store> s;
    OpenInfo info;
    Status st = Store::Open(dir.Store(), Secret(), testutil::QuietOptions(), &s, &info);
    REQUIRE_MESSAGE(st.ok(), st.ToString());
    CHECK(info.dropped_tail_bytes == 0);
    for (size_t i = 0; i < tokens.size(); ++i) {
      ReadResult r;
      Status rs = s->Read(tokens[i], &r);
      CAPTURE(i);
      CHECK(rs.ok() == (i < synced_count));
    }
  }
}

}  // namespace
}  // namespace crudjt
