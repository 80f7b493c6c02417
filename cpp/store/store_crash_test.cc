// Crash tests: a child process performs acknowledged writes, reporting each
// acknowledgement over a pipe, and is SIGKILLed at a random moment (often
// during a checkpoint or a sweep); the parent reopens the store and checks
// every acknowledged write. Plus the power-loss model: the log cut back to
// its last fsynced length must reopen as a prefix of history.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

// Reads from fd until `marker` has been seen and a newline follows it (or
// EOF); returns what was read.
std::string ReadUntil(int fd, const std::string& marker) {
  std::string all;
  char buf[4096];
  for (ssize_t k; (k = read(fd, buf, sizeof(buf))) > 0;) {
    all.append(buf, size_t(k));
    const size_t at = all.find(marker);
    if (at != std::string::npos && all.find('\n', at + marker.size()) != std::string::npos) break;
  }
  return all;
}

std::vector<std::string> ReadLines(int fd, std::string all = {}) {
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

// Clocks: the child's advances 1 ms per reading from kChildEpoch (it reads
// it far fewer than kClockSlack times); the parent reopens at kParentNow.
constexpr int64_t kChildEpoch = 1700000000000;
constexpr int64_t kClockSlack = 1000000000;
constexpr int64_t kParentNow = kChildEpoch + kClockSlack;
// Touches set ttl k * kTouchUnit (k = 1..50), or none: a ttl read back by
// the parent lies in (T - kClockSlack, T].
constexpr int64_t kTouchUnit = 10 * kClockSlack;
constexpr int kSubjects = 4;

// The child: random single creates (some with a subject), updates,
// removes, counted reads, touches, subject revocations, and batches mixing
// all of them with puts, forever. Each acknowledgement is appended to a file
// (a pipe would fill up and block the child while the parent sleeps, so the
// kill would always land in write(), never in a checkpoint or a sweep).
// Lines: "C idx token payload reads subject|-", "B idx" (an op on idx
// begins), "U idx payload reads", "R idx", "D idx reads_left", "H idx ttl",
// "Q idx payload reads subject|-" (a put over it), "X idx" (gone),
// "V subject" (a revocation begins), "W subject" (it finished), "P subject"
// (a create or put with that subject begins: until its "C"/"Q" the subject
// may hold one token the parent does not know), "T" (a short-lived token
// that only feeds the sweeper). A batch's results are one write framed by
// "G" and "E": a group without its "E" was cut by the kill and is ignored
// (its ops stay uncertain).
[[noreturn]] void CrashChild(const std::string& dir, int fd, unsigned seed) {
  auto clock = std::make_shared<std::atomic<int64_t>>(kChildEpoch);
  Options o = CrashOptions();
  o.TEST_clock_ms = [clock] { return clock->fetch_add(1); };
  std::unique_ptr<Store> s;
  if (!Store::Open(dir, Secret(), o, &s).ok()) _exit(1);
  std::mt19937 rng(seed);
  struct Tok {
    std::string token;
    int64_t reads;
    bool alive;
    int subject;  // -1 = none
  };
  std::vector<Tok> toks;
  auto subject_name = [](int k) { return k < 0 ? std::string("-") : "subj" + std::to_string(k); };
  auto random_reads = [&rng] { return rng() % 2 ? kNoLimit : int64_t(1 + rng() % 4); };
  auto random_ttl = [&rng] { return rng() % 4 == 0 ? kNoLimit : int64_t(1 + rng() % 50) * kTouchUnit; };
  auto created = [&](const std::string& t, const std::string& payload, int64_t reads, int subject) {
    toks.push_back(Tok{t, reads, true, subject});
    return "C " + std::to_string(toks.size() - 1) + " " + t + " " + payload + " " +
           std::to_string(reads) + " " + subject_name(subject);
  };
  for (int n = 0;; ++n) {
    const int op = int(rng() % 20);
    std::string payload = "p" + std::to_string(n) + std::string(rng() % 100, 'x');
    if (op <= 3 || toks.empty()) {
      const int64_t reads = random_reads();
      const int subject = rng() % 2 ? int(rng() % kSubjects) : -1;
      std::string t;
      if (subject >= 0) WriteLine(fd, "P " + subject_name(subject));
      if (!s->Create(payload, kNoLimit, reads, &t, subject < 0 ? "" : subject_name(subject)).ok()) _exit(2);
      WriteLine(fd, created(t, payload, reads, subject));
    } else if (op == 4) {
      std::string t;
      if (!s->Create(payload, 30, kNoLimit, &t, rng() % 2 ? "subj0" : "").ok()) _exit(2);
      WriteLine(fd, "T");
    } else if (op == 13) {
      const int subject = int(rng() % kSubjects);
      const std::string name = subject_name(subject);
      uint64_t expect = 0;
      for (const Tok& k : toks) expect += k.alive && k.subject == subject;
      WriteLine(fd, "V " + name);
      uint64_t removed;
      if (!s->RevokeSubject(name, &removed).ok()) _exit(2);
      // The "T" tokens of subj0 that have not expired yet count too.
      if (removed < expect) _exit(4);
      for (Tok& k : toks) {
        if (k.subject == subject) k.alive = false;
      }
      WriteLine(fd, "W " + name);
    } else if (op >= 14 && op <= 16) {
      // A batch of 1..16 ops; tokens known before it only.
      std::vector<BatchOp> ops(1 + rng() % 16);
      std::vector<std::string> payloads(ops.size()), subjects(ops.size());
      std::vector<size_t> target(ops.size());
      std::string begin;
      for (size_t i = 0; i < ops.size(); ++i) {
        BatchOp& b = ops[i];
        const int kind = int(rng() % 6);
        payloads[i] = payload + "b" + std::to_string(i);
        if (kind == 0) {
          b.type = BatchOpType::kCreate;
          b.payload = payloads[i];
          b.max_reads = random_reads();
          const int subject = rng() % 2 ? int(rng() % kSubjects) : -1;
          if (subject >= 0) subjects[i] = subject_name(subject);
          b.subject = subjects[i];
          if (subject >= 0) begin += "P " + subjects[i] + "\n";
          continue;
        }
        target[i] = rng() % toks.size();
        b.token = toks[target[i]].token;
        begin += "B " + std::to_string(target[i]) + "\n";
        if (kind == 1) {
          b.type = BatchOpType::kRead;
        } else if (kind == 2) {
          b.type = BatchOpType::kUpdate;
          b.payload = payloads[i];
          b.max_reads = random_reads();
        } else if (kind == 3) {
          b.type = BatchOpType::kRemove;
        } else if (kind == 5) {
          // A put under the token's own string: revives or replaces it, with
          // a subject of its own (or none).
          b.type = BatchOpType::kPut;
          b.payload = payloads[i];
          b.max_reads = random_reads();
          const int subject = rng() % 2 ? int(rng() % kSubjects) : -1;
          if (subject >= 0) {
            subjects[i] = subject_name(subject);
            begin += "P " + subjects[i] + "\n";
          }
          b.subject = subjects[i];
        } else {
          b.type = BatchOpType::kTouch;
          b.ttl_ms = random_ttl();
        }
      }
      if (!begin.empty() && write(fd, begin.data(), begin.size()) != ssize_t(begin.size())) _exit(3);
      std::vector<BatchResult> res;
      if (!s->ApplyBatch(ops, &res).ok() || res.size() != ops.size()) _exit(2);
      std::string group = "G\n";
      for (size_t i = 0; i < ops.size(); ++i) {
        const BatchResult& r = res[i];
        if (ops[i].type == BatchOpType::kCreate) {
          if (!r.status.ok()) _exit(2);
          const int subject = subjects[i].empty() ? -1 : subjects[i][4] - '0';
          group += created(r.token, payloads[i], ops[i].max_reads, subject) + "\n";
          continue;
        }
        Tok& k = toks[target[i]];
        const std::string idx = std::to_string(target[i]);
        if (ops[i].type == BatchOpType::kPut) {
          if (!r.status.ok()) _exit(2);
          if (r.applied != k.alive) _exit(4);  // true: it replaced a live token
          k.alive = true;
          k.reads = ops[i].max_reads;
          k.subject = subjects[i].empty() ? -1 : subjects[i][4] - '0';
          group += "Q " + idx + " " + payloads[i] + " " + std::to_string(k.reads) + " " +
                   subject_name(k.subject) + "\n";
          continue;
        }
        if (ops[i].type == BatchOpType::kRead) {
          if (!r.status.ok() && !r.status.IsNotFound()) _exit(2);
          if (r.status.ok() != k.alive) _exit(4);
          if (r.status.ok() && k.reads != kNoLimit) {
            k.reads = r.read.reads_left;
            if (k.reads == 0) k.alive = false;
          }
          group += r.status.ok() ? "D " + idx + " " + std::to_string(r.read.reads_left) : "X " + idx;
        } else {
          if (!r.status.ok()) _exit(2);
          if (r.applied != k.alive) _exit(4);
          if (!r.applied) {
            group += "X " + idx;
          } else if (ops[i].type == BatchOpType::kUpdate) {
            k.reads = ops[i].max_reads;
            group += "U " + idx + " " + payloads[i] + " " + std::to_string(k.reads);
          } else if (ops[i].type == BatchOpType::kRemove) {
            k.alive = false;
            group += "R " + idx;
          } else {
            group += "H " + idx + " " + std::to_string(ops[i].ttl_ms);
          }
        }
        group += "\n";
      }
      group += "E\n";
      if (write(fd, group.data(), group.size()) != ssize_t(group.size())) _exit(3);
    } else {
      size_t idx = rng() % toks.size();
      Tok& k = toks[idx];
      WriteLine(fd, "B " + std::to_string(idx));
      if (op <= 7) {
        int64_t reads = random_reads();
        bool updated;
        if (!s->Update(k.token, payload, kNoLimit, reads, &updated).ok()) _exit(2);
        if (updated != k.alive) _exit(4);
        if (updated) {
          k.reads = reads;
          WriteLine(fd, "U " + std::to_string(idx) + " " + payload + " " + std::to_string(reads));
        } else {
          WriteLine(fd, "X " + std::to_string(idx));
        }
      } else if (op == 8) {
        bool removed;
        if (!s->Remove(k.token, &removed).ok()) _exit(2);
        if (removed != k.alive) _exit(4);
        k.alive = false;
        WriteLine(fd, "R " + std::to_string(idx));
      } else if (op <= 10) {
        const int64_t ttl = random_ttl();
        bool touched;
        if (!s->Touch(k.token, ttl, &touched).ok()) _exit(2);
        if (touched != k.alive) _exit(4);
        WriteLine(fd, touched ? "H " + std::to_string(idx) + " " + std::to_string(ttl)
                              : "X " + std::to_string(idx));
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
  int64_t ttl = kNoLimit;
  std::string subject;  // "-" = none
  bool alive = true;
  bool uncertain = false;
};

// Applies the acknowledgement lines to the model. Lines of a "G" group
// count only once its "E" is there.
std::vector<Expected> ParseAcks(const std::vector<std::string>& all, uint64_t* acks,
                                std::map<std::string, int>* pending) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] != "G") {
      lines.push_back(all[i]);
      continue;
    }
    size_t j = i + 1;
    while (j < all.size() && all[j] != "E") ++j;
    if (j == all.size()) break;  // cut by the kill
    lines.insert(lines.end(), all.begin() + long(i) + 1, all.begin() + long(j));
    i = j;
  }
  *acks += lines.size();
  std::vector<Expected> exp;
  for (const std::string& line : lines) {
    std::istringstream is(line);
    char c;
    is >> c;
    size_t idx = 0;
    if (c == 'C') {
      Expected e;
      is >> idx >> e.token >> e.payload >> e.reads >> e.subject;
      REQUIRE(idx == exp.size());
      if (e.subject != "-") --(*pending)[e.subject];
      exp.push_back(e);
      continue;
    }
    if (c == 'T') continue;
    if (c == 'P') {
      std::string subject;
      is >> subject;
      ++(*pending)[subject];
      continue;
    }
    if (c == 'V' || c == 'W') {
      std::string subject;
      is >> subject;
      for (Expected& e : exp) {
        if (e.subject != subject || !e.alive) continue;
        if (c == 'V') {
          e.uncertain = true;
        } else {
          e.alive = false;
          e.uncertain = false;
        }
      }
      continue;
    }
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
      e.ttl = kNoLimit;
    } else if (c == 'Q') {
      is >> e.payload >> e.reads >> e.subject;
      if (e.subject != "-") --(*pending)[e.subject];
      e.ttl = kNoLimit;
      e.alive = true;
    } else if (c == 'H') {
      is >> e.ttl;
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
  return exp;
}

TEST_CASE("EveryAcknowledgedOpSurvivesSigkillAndTheSubjectIndexStaysConsistent") {
  const int rounds = 24;
  uint64_t total_acks = 0, total_checked = 0, touched_checked = 0, subjects_checked = 0;
  for (int round = 0; round < rounds; ++round) {
    CAPTURE(round);
    TempDir dir;
    const std::string acks = dir.path + "/acks";
    const int fd = open(acks.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    pid_t pid = fork();
    if (pid == 0) CrashChild(dir.Store(), fd, 1000 + unsigned(round));
    close(fd);
    std::mt19937 rng(round);
    // Once the child is running (a sanitizer build is slow to start), kill
    // it at a moment that varies per round.
    for (int i = 0; i < 2000; ++i) {
      struct stat st;
      if (stat(acks.c_str(), &st) == 0 && st.st_size > 0) break;
      usleep(5000);
    }
    usleep(useconds_t(20000 + rng() % 250000));
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    REQUIRE_MESSAGE(WIFSIGNALED(status), "child exited early with " << WEXITSTATUS(status));
    const int rfd = open(acks.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(rfd >= 0);
    std::vector<std::string> lines = ReadLines(rfd);
    close(rfd);
    std::map<std::string, int> pending;  // creates begun, not acknowledged
    std::vector<Expected> exp = ParseAcks(lines, &total_acks, &pending);

    Options o = testutil::QuietOptions();
    o.TEST_clock_ms = [] { return kParentNow; };
    std::unique_ptr<Store> s;
    OpenInfo info;
    Status st = Store::Open(dir.Store(), Secret(), o, &s, &info);
    REQUIRE_MESSAGE(st.ok(), st.ToString());
    Status idx = testutil::Impl(s)->TEST_CheckIndex();
    REQUIRE_MESSAGE(idx.ok(), idx.ToString());
    // Each subject's listing holds exactly its live tokens (when none of
    // them is uncertain), plus at most the creates that were in flight.
    for (int k = 0; k < kSubjects; ++k) {
      const std::string name = "subj" + std::to_string(k);
      size_t alive = 0;
      bool uncertain = false;
      for (const Expected& e : exp) {
        if (e.subject != name) continue;
        uncertain = uncertain || e.uncertain;
        alive += e.alive;
      }
      if (uncertain) continue;
      std::vector<SessionInfo> list;
      REQUIRE(s->ListSubject(name, &list).ok());
      CHECK(list.size() >= alive);
      CHECK(list.size() <= alive + size_t(std::max(0, pending[name])));
      ++subjects_checked;
    }
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
        if (e.ttl == kNoLimit) {
          CHECK(r.ttl_left_ms == kNoLimit);
        } else {
          ++touched_checked;
          CHECK(r.ttl_left_ms <= e.ttl);
          CHECK(r.ttl_left_ms > e.ttl - kClockSlack);
        }
      }
    }
    idx = testutil::Impl(s)->TEST_CheckIndex();
    CHECK_MESSAGE(idx.ok(), idx.ToString());
    REQUIRE(s->Close().ok());
  }
  MESSAGE("acknowledged ops " << total_acks << ", tokens checked " << total_checked
                              << " (touched " << touched_checked << "), subject listings checked "
                              << subjects_checked);
  CHECK(total_checked > 0);
  CHECK(touched_checked > 0);
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
    // Kill only once the child has synced at least once (a slow machine or
    // a sanitizer build may take long to get there), then at a moment that
    // varies per round.
    std::string head = ReadUntil(fds[0], "\nS ");
    usleep(useconds_t(20000 + round * 20000));
    kill(pid, SIGKILL);
    std::vector<std::string> lines = ReadLines(fds[0], head);
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
