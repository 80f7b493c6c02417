// Store semantics: limits, expiry, read counters, validation, recovery,
// key changes, locking, confidentiality.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include "store/store_test_util.h"
#include "util/base64url.h"
#include "wal/log_files.h"
#include "wal/log_format.h"

namespace crudjt {
namespace {

using testutil::FakeClock;
using testutil::Impl;
using testutil::QuietOptions;
using testutil::Secret;
using testutil::TempDir;

struct Fixture {
  TempDir dir;
  FakeClock clock;
  Options options = QuietOptions();
  std::unique_ptr<Store> store;
  OpenInfo info;

  Fixture() {
    options.TEST_clock_ms = clock.Fn();
    Reopen();
  }
  void Reopen(const std::string& secret = Secret()) {
    if (store) REQUIRE(store->Close().ok());
    store.reset();
    Status s = Store::Open(dir.Store(), secret, options, &store, &info);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  std::string Create(const std::string& payload, int64_t ttl = kNoLimit,
                     int64_t reads = kNoLimit) {
    std::string t;
    Status s = store->Create(payload, ttl, reads, &t);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    return t;
  }
};

TEST_CASE("CreatedTokenIs22Base64UrlCharsAndReadsBack") {
  Fixture f;
  std::string t = f.Create("hello");
  CHECK(t.size() == kTokenChars);
  CHECK(IsBase64Url(t));
  ReadResult r;
  REQUIRE(f.store->Read(t, &r).ok());
  CHECK(r.payload == "hello");
  CHECK(r.ttl_left_ms == kNoLimit);
  CHECK(r.reads_left == kNoLimit);
  CHECK(f.Create("hello") != t);
}

TEST_CASE("TtlCountsDownAndTheTokenIsGoneWhenItReachesZero") {
  Fixture f;
  std::string t = f.Create("p", 5000);
  ReadResult r;
  REQUIRE(f.store->Read(t, &r).ok());
  CHECK(r.ttl_left_ms == 5000);
  f.clock.Advance(1000);
  REQUIRE(f.store->Read(t, &r).ok());
  CHECK(r.ttl_left_ms == 4000);
  f.clock.Advance(3999);
  REQUIRE(f.store->Read(t, &r).ok());
  CHECK(r.ttl_left_ms == 1);
  f.clock.Advance(1);
  CHECK(f.store->Read(t, &r).IsNotFound());
  bool ok = true;
  REQUIRE(f.store->Update(t, "q", kNoLimit, kNoLimit, &ok).ok());
  CHECK_FALSE(ok);
  REQUIRE(f.store->Remove(t, &ok).ok());
  CHECK_FALSE(ok);
}

TEST_CASE("ReadLimitDecrementsFirstAndTheLastReadDeletes") {
  Fixture f;
  std::string t = f.Create("p", kNoLimit, 6);
  for (int64_t want : {5, 4, 3, 2, 1, 0}) {
    ReadResult r;
    REQUIRE(f.store->Read(t, &r).ok());
    CHECK(r.reads_left == want);
    CHECK(r.payload == "p");
  }
  ReadResult r;
  CHECK(f.store->Read(t, &r).IsNotFound());
  CHECK(f.store->GetStats().live_tokens == 0);
}

TEST_CASE("ReadCounterSurvivesReopen") {
  Fixture f;
  std::string t = f.Create("p", kNoLimit, 3);
  ReadResult r;
  REQUIRE(f.store->Read(t, &r).ok());
  f.Reopen();
  REQUIRE(f.store->Read(t, &r).ok());
  CHECK(r.reads_left == 1);
}

TEST_CASE("UpdateReplacesPayloadAndBothLimits") {
  Fixture f;
  std::string t = f.Create("old", 1000, 10);
  bool updated = false;
  REQUIRE(f.store->Update(t, "new", kNoLimit, 2, &updated).ok());
  CHECK(updated);
  f.clock.Advance(5000);  // the old ttl would have expired
  ReadResult r;
  REQUIRE(f.store->Read(t, &r).ok());
  CHECK(r.payload == "new");
  CHECK(r.ttl_left_ms == kNoLimit);
  CHECK(r.reads_left == 1);
  REQUIRE(f.store->Update(t, "newer", 3000, kNoLimit, &updated).ok());
  CHECK(updated);
  REQUIRE(f.store->Read(t, &r).ok());
  CHECK(r.ttl_left_ms == 3000);
  CHECK(r.reads_left == kNoLimit);
}

TEST_CASE("UpdateNeverRevivesADeadToken") {
  Fixture f;
  std::string exhausted = f.Create("p", kNoLimit, 1);
  ReadResult r;
  REQUIRE(f.store->Read(exhausted, &r).ok());
  std::string removed = f.Create("p");
  bool b;
  REQUIRE(f.store->Remove(removed, &b).ok());
  std::string expired = f.Create("p", 10);
  f.clock.Advance(10);
  std::string unknown = std::string(22, 'A');
  for (const std::string& t : {exhausted, removed, expired, unknown}) {
    bool updated = true;
    REQUIRE(f.store->Update(t, "again", kNoLimit, kNoLimit, &updated).ok());
    CHECK_FALSE(updated);
    CHECK(f.store->Read(t, &r).IsNotFound());
  }
}

TEST_CASE("RemoveReportsWhetherALiveTokenWasRemoved") {
  Fixture f;
  std::string t = f.Create("p");
  bool removed = false;
  REQUIRE(f.store->Remove(t, &removed).ok());
  CHECK(removed);
  REQUIRE(f.store->Remove(t, &removed).ok());
  CHECK_FALSE(removed);
  ReadResult r;
  CHECK(f.store->Read(t, &r).IsNotFound());
}

TEST_CASE("MalformedTokensAreNotFoundAndEmptyIsInvalid") {
  Fixture f;
  f.Create("p");
  ReadResult r;
  bool b = true;
  CHECK(f.store->Read("", &r).IsInvalidArgument());
  CHECK(f.store->Update("", "x", kNoLimit, kNoLimit, &b).IsInvalidArgument());
  CHECK(f.store->Remove("", &b).IsInvalidArgument());
  const std::string bad[] = {"not base64!", std::string(4096, 'A'), std::string(129, 'A'),
                             std::string("AAAA\0AAAA", 9), "a b", "++//", "\xff\xfe"};
  for (const std::string& t : bad) {
    CHECK(f.store->Read(t, &r).IsNotFound());
    b = true;
    CHECK(f.store->Update(t, "x", kNoLimit, kNoLimit, &b).ok());
    CHECK_FALSE(b);
    b = true;
    CHECK(f.store->Remove(t, &b).ok());
    CHECK_FALSE(b);
  }
  CHECK(f.store->Read(std::string(128, 'A'), &r).IsNotFound());
}

TEST_CASE("OutOfRangeLimitsAndPayloadsAreInvalidArgument") {
  Fixture f;
  std::string t;
  const int64_t bad_limits[] = {0, -2, int64_t(1) << 62, INT64_MIN, INT64_MAX, kMaxTtlMs + 1};
  for (int64_t v : bad_limits) {
    CHECK(f.store->Create("p", v, kNoLimit, &t).IsInvalidArgument());
  }
  for (int64_t v : {int64_t(0), int64_t(-5), int64_t(1) << 62, kMaxReads + 1}) {
    CHECK(f.store->Create("p", kNoLimit, v, &t).IsInvalidArgument());
  }
  CHECK(f.store->Create("", kNoLimit, kNoLimit, &t).IsInvalidArgument());
  CHECK(f.store->Create(std::string(kMaxPayloadBytes + 1, 'x'), kNoLimit, kNoLimit, &t)
            .IsInvalidArgument());
  REQUIRE(f.store->Create(std::string(kMaxPayloadBytes, 'x'), kMaxTtlMs, kMaxReads, &t).ok());
  ReadResult r;
  REQUIRE(f.store->Read(t, &r).ok());
  CHECK(r.ttl_left_ms == kMaxTtlMs);
  CHECK(r.reads_left == kMaxReads - 1);
  bool b;
  CHECK(f.store->Update(t, "p", int64_t(1) << 62, kNoLimit, &b).IsInvalidArgument());
  CHECK(f.store->Update(t, "", kNoLimit, kNoLimit, &b).IsInvalidArgument());
}

TEST_CASE("EverythingSurvivesCloseAndReopen") {
  Fixture f;
  std::vector<std::string> tokens;
  for (int i = 0; i < 500; ++i) tokens.push_back(f.Create("payload-" + std::to_string(i)));
  bool b;
  for (int i = 0; i < 500; i += 5) REQUIRE(f.store->Remove(tokens[i], &b).ok());
  f.Reopen();
  CHECK(f.info.recovered_records == 0);  // Close checkpointed
  for (int i = 0; i < 500; ++i) {
    ReadResult r;
    Status s = f.store->Read(tokens[i], &r);
    if (i % 5 == 0) {
      CHECK(s.IsNotFound());
    } else {
      REQUIRE(s.ok());
      CHECK(r.payload == "payload-" + std::to_string(i));
    }
  }
}

TEST_CASE("UncheckpointedWritesAreReplayedFromTheLog") {
  TempDir dir;
  Options o = QuietOptions();
  o.flush_interval_ms = 1000000;
  std::vector<std::string> tokens;
  pid_t pid = fork();
  if (pid == 0) {
    // The child writes and dies without Close.
    std::unique_ptr<Store> s;
    if (!Store::Open(dir.Store(), Secret(), o, &s).ok()) _exit(1);
    std::string t;
    for (int i = 0; i < 100; ++i) {
      if (!s->Create("v" + std::to_string(i), kNoLimit, kNoLimit, &t).ok()) _exit(2);
      std::ofstream(dir.path + "/tokens", std::ios::app) << t << "\n";
    }
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  REQUIRE(WEXITSTATUS(status) == 0);
  std::ifstream in(dir.path + "/tokens");
  for (std::string line; std::getline(in, line);) tokens.push_back(line);
  REQUIRE(tokens.size() == 100);
  std::unique_ptr<Store> s;
  OpenInfo info;
  REQUIRE(Store::Open(dir.Store(), Secret(), o, &s, &info).ok());
  CHECK(info.recovered_records == 100);
  CHECK(info.dropped_tail_bytes == 0);
  for (int i = 0; i < 100; ++i) {
    ReadResult r;
    REQUIRE(s->Read(tokens[i], &r).ok());
    CHECK(r.payload == "v" + std::to_string(i));
  }
}

// The store dir after a child wrote `n` tokens and died; returns the tokens.
std::vector<std::string> CrashedStore(const std::string& dir, int n) {
  Options o = QuietOptions();
  o.flush_interval_ms = 1000000;
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::unique_ptr<Store> s;
    if (!Store::Open(dir, Secret(), o, &s).ok()) _exit(1);
    std::string t;
    for (int i = 0; i < n; ++i) {
      if (!s->Create("value-" + std::to_string(i), kNoLimit, kNoLimit, &t).ok()) _exit(2);
      t += "\n";
      if (write(fds[1], t.data(), t.size()) != ssize_t(t.size())) _exit(3);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string all;
  char buf[4096];
  for (ssize_t k; (k = read(fds[0], buf, sizeof(buf))) > 0;) all.append(buf, size_t(k));
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  std::vector<std::string> tokens;
  std::istringstream is(all);
  for (std::string line; std::getline(is, line);) tokens.push_back(line);
  return tokens;
}

std::string LastSegment(const std::string& dir) {
  std::vector<uint64_t> seqs;
  REQUIRE(wal::ListSegments(dir, &seqs).ok());
  REQUIRE(!seqs.empty());
  return wal::SegmentFileName(dir, seqs.back());
}

TEST_CASE("TornLogTailIsDroppedAtOpen") {
  TempDir dir;
  std::vector<std::string> tokens = CrashedStore(dir.Store(), 10);
  REQUIRE(tokens.size() == 10);
  const std::string seg = LastSegment(dir.Store());
  struct stat st;
  REQUIRE(stat(seg.c_str(), &st) == 0);
  REQUIRE(truncate(seg.c_str(), st.st_size - 7) == 0);
  std::unique_ptr<Store> s;
  OpenInfo info;
  REQUIRE(Store::Open(dir.Store(), Secret(), QuietOptions(), &s, &info).ok());
  CHECK(info.recovered_records == 9);
  CHECK(info.dropped_tail_bytes > 0);
  ReadResult r;
  for (int i = 0; i < 9; ++i) CHECK(s->Read(tokens[i], &r).ok());
  CHECK(s->Read(tokens[9], &r).IsNotFound());
  // The store writes on after the truncated tail, and it all reopens.
  std::string t;
  REQUIRE(s->Create("after", kNoLimit, kNoLimit, &t).ok());
  REQUIRE(s->Close().ok());
  REQUIRE(Store::Open(dir.Store(), Secret(), QuietOptions(), &s, &info).ok());
  REQUIRE(s->Read(t, &r).ok());
  CHECK(r.payload == "after");
}

TEST_CASE("FlippedByteMidLogFailsOpenWithCorruptionNamingTheFile") {
  TempDir dir;
  std::vector<std::string> tokens = CrashedStore(dir.Store(), 10);
  const std::string seg = LastSegment(dir.Store());
  std::string bytes = testutil::ReadFile(seg);
  bytes[wal::kSegmentHeaderSize + 100] ^= 0x10;
  std::ofstream(seg, std::ios::binary | std::ios::trunc) << bytes;
  std::unique_ptr<Store> s;
  Status st = Store::Open(dir.Store(), Secret(), QuietOptions(), &s);
  CHECK(st.IsCorruption());
  CHECK(st.message().find(seg) != std::string::npos);
  // Nothing was truncated: the evidence is kept.
  CHECK(testutil::ReadFile(seg) == bytes);
}

TEST_CASE("FailedLogWriteIsNotAppliedAndReadsKeepWorking") {
  Fixture f;
  std::string kept = f.Create("kept");
  StoreImpl* impl = Impl(f.store);
  impl->TEST_SetLogSizeLimit(impl->TEST_CurrentLog().size + 20);
  std::string t;
  Status s = f.store->Create("lost", kNoLimit, kNoLimit, &t);
  CHECK(s.IsIOError());
  CHECK(s.message().find(".wal") != std::string::npos);
  CHECK(f.store->GetStats().live_tokens == 1);
  ReadResult r;
  REQUIRE(f.store->Read(kept, &r).ok());
  bool b;
  CHECK(f.store->Remove(kept, &b).IsIOError());
  REQUIRE(f.store->Read(kept, &r).ok());  // the failed remove changed nothing
  // Space comes back: writes work again, and everything reopens.
  impl->TEST_SetLogSizeLimit(0);
  std::string t2 = f.Create("after");
  f.Reopen();
  REQUIRE(f.store->Read(kept, &r).ok());
  REQUIRE(f.store->Read(t2, &r).ok());
  CHECK(f.store->GetStats().live_tokens == 2);
}

TEST_CASE("UndoableLogFailureIsStickyForWrites") {
  Fixture f;
  std::string kept = f.Create("kept");
  StoreImpl* impl = Impl(f.store);
  impl->TEST_SetLogSizeLimit(impl->TEST_CurrentLog().size + 20);
  impl->TEST_FailLogTruncate(true);
  std::string t;
  CHECK(f.store->Create("lost", kNoLimit, kNoLimit, &t).IsIOError());
  impl->TEST_SetLogSizeLimit(0);
  CHECK(f.store->Create("also refused", kNoLimit, kNoLimit, &t).IsIOError());
  ReadResult r;
  REQUIRE(f.store->Read(kept, &r).ok());
}

TEST_CASE("DifferentSecretOpensButOldTokensAreNotFound") {
  Fixture f;
  std::string t = f.Create("mine");
  f.Reopen(Secret('z', 48));
  CHECK(f.info.key_changed);
  ReadResult r;
  CHECK(f.store->Read(t, &r).IsNotFound());
  bool b = true;
  REQUIRE(f.store->Update(t, "x", kNoLimit, kNoLimit, &b).ok());
  CHECK_FALSE(b);
  REQUIRE(f.store->Remove(t, &b).ok());
  CHECK_FALSE(b);
  std::string t2 = f.Create("theirs");
  f.Reopen(Secret('z', 48));
  CHECK_FALSE(f.info.key_changed);
  REQUIRE(f.store->Read(t2, &r).ok());
  f.Reopen();
  CHECK(f.info.key_changed);
  REQUIRE(f.store->Read(t, &r).ok());  // the old key still opens its records
  CHECK(r.payload == "mine");
}

TEST_CASE("BadSecretSizeIsInvalidArgument") {
  TempDir dir;
  std::unique_ptr<Store> s;
  CHECK(Store::Open(dir.Store(), std::string(31, 'k'), QuietOptions(), &s).IsInvalidArgument());
  CHECK(Store::Open(dir.Store(), "", QuietOptions(), &s).IsInvalidArgument());
  CHECK(Store::Open(dir.Store(), std::string(64, 'k'), QuietOptions(), &s).ok());
}

TEST_CASE("SecondOpenOfTheSameDirIsBusyNamingPathAndPid") {
  Fixture f;
  std::unique_ptr<Store> other;
  Status s = Store::Open(f.dir.Store(), Secret(), f.options, &other);
  CHECK(s.IsBusy());
  CHECK(s.message().find(f.dir.Store()) != std::string::npos);
  CHECK(s.message().find(std::to_string(getpid())) != std::string::npos);
  REQUIRE(f.store->Close().ok());
  CHECK(Store::Open(f.dir.Store(), Secret(), f.options, &other).ok());
}

TEST_CASE("MethodsAfterCloseReturnClosedAndCloseIsIdempotent") {
  Fixture f;
  std::string t = f.Create("p");
  REQUIRE(f.store->Close().ok());
  REQUIRE(f.store->Close().ok());
  ReadResult r;
  bool b;
  std::string t2;
  CHECK(f.store->Read(t, &r).IsClosed());
  CHECK(f.store->Create("p", kNoLimit, kNoLimit, &t2).IsClosed());
  CHECK(f.store->Update(t, "p", kNoLimit, kNoLimit, &b).IsClosed());
  CHECK(f.store->Remove(t, &b).IsClosed());
  CHECK(f.store->Sweep(nullptr).IsClosed());
  CHECK(f.store->Flush().IsClosed());
  CHECK(f.store->Checkpoint().IsClosed());
}

TEST_CASE("SweepRemovesExpiredRecordsOnly") {
  Fixture f;
  std::vector<std::string> live, dying;
  for (int i = 0; i < 3000; ++i) {
    if (i % 3 == 0) dying.push_back(f.Create("d", 100));
    else live.push_back(f.Create("l", i % 2 ? kNoLimit : 100000));
  }
  f.clock.Advance(100);
  uint64_t removed = 0;
  REQUIRE(f.store->Sweep(&removed).ok());
  CHECK(removed == dying.size());
  StoreStats st = f.store->GetStats();
  CHECK(st.live_tokens == live.size());
  CHECK(st.last_sweep_removed == dying.size());
  CHECK(st.last_sweep_ms == *f.clock.ms);
  ReadResult r;
  for (const auto& t : live) CHECK(f.store->Read(t, &r).ok());
  f.Reopen();
  CHECK(f.store->GetStats().live_tokens == live.size());
}

TEST_CASE("SweepOnOpenRunsInTheBackground") {
  Fixture f;
  for (int i = 0; i < 100; ++i) f.Create("d", 10);
  f.clock.Advance(10);
  f.options.sweep_on_open = true;
  f.Reopen();
  for (int i = 0; i < 200 && f.store->GetStats().last_sweep_ms == 0; ++i) usleep(10000);
  CHECK(f.store->GetStats().last_sweep_removed == 100);
  CHECK(f.store->GetStats().live_tokens == 0);
}

TEST_CASE("FlushThreadFsyncsTheLogAndCheckpointsBySize") {
  Fixture f;
  f.options.flush_interval_ms = 10;
  f.options.checkpoint_log_bytes = 64 << 10;
  f.Reopen();
  StoreImpl* impl = Impl(f.store);
  const uint64_t before = impl->TEST_CheckpointCount();
  for (int i = 0; i < 2000; ++i) f.Create(std::string(100, 'x'));
  for (int i = 0; i < 300 && impl->TEST_CheckpointCount() == before; ++i) usleep(10000);
  CHECK(impl->TEST_CheckpointCount() > before);
  for (int i = 0; i < 300; ++i) {
    auto l = impl->TEST_CurrentLog();
    if (l.synced_size == l.size) break;
    usleep(10000);
  }
  auto l = impl->TEST_CurrentLog();
  CHECK(l.synced_size == l.size);
  StoreStats st = f.store->GetStats();
  CHECK(st.last_fsync_ms > 0);
  CHECK(st.last_checkpoint_ms > 0);
  CHECK(st.log_bytes < (256u << 10));
  // Old segments are deleted after their checkpoint.
  int wal_files = 0;
  for (const auto& n : testutil::ListDir(f.dir.Store())) wal_files += n.find(".wal") != std::string::npos;
  CHECK(wal_files <= 2);
}

TEST_CASE("SyncDurabilityFsyncsBeforeAcknowledging") {
  Fixture f;
  f.options.durability = Durability::kSync;
  f.options.flush_interval_ms = 1000000;
  f.Reopen();
  f.Create("p");
  auto l = Impl(f.store)->TEST_CurrentLog();
  CHECK(l.synced_size == l.size);
}

bool Contains(const std::string& hay, std::string_view needle) {
  return hay.find(needle) != std::string::npos;
}

TEST_CASE("NoTokenPayloadOrKeyBytesReachTheDisk") {
  TempDir dir;
  const std::string secret = Secret('S', 32);
  std::vector<std::string> tokens, payloads;
  std::unique_ptr<Store> s;
  REQUIRE(Store::Open(dir.Store(), secret, QuietOptions(), &s).ok());
  auto scan = [&] {
    for (const auto& name : testutil::ListDir(dir.Store())) {
      const std::string bytes = testutil::ReadFile(dir.Store() + "/" + name);
      CAPTURE(name);
      CHECK_FALSE(Contains(bytes, secret));
      CHECK_FALSE(Contains(bytes, secret.substr(0, 8)));
      for (const auto& t : tokens) CHECK_FALSE(Contains(bytes, t.substr(0, 12)));
      for (const auto& p : payloads) CHECK_FALSE(Contains(bytes, p.substr(0, 12)));
    }
  };
  for (int i = 0; i < 200; ++i) {
    payloads.push_back("top-secret-payload-" + std::to_string(i) + "-" + std::string(40, 'Q'));
    std::string t;
    REQUIRE(s->Create(payloads.back(), kNoLimit, 5, &t).ok());
    tokens.push_back(t);
    ReadResult r;
    REQUIRE(s->Read(t, &r).ok());
  }
  REQUIRE(s->Flush().ok());
  scan();  // the log, before any checkpoint
  REQUIRE(s->Close().ok());
  scan();  // the page file
}

TEST_CASE("NewerStoreFormatIsNotSupported") {
  TempDir dir;
  std::vector<std::string> tokens = CrashedStore(dir.Store(), 3);
  const std::string seg = LastSegment(dir.Store());
  std::string bytes = testutil::ReadFile(seg);
  bytes[8] = char(wal::kLogFormatVersion + 1);
  std::ofstream(seg, std::ios::binary | std::ios::trunc) << bytes;
  std::unique_ptr<Store> s;
  Status st = Store::Open(dir.Store(), Secret(), QuietOptions(), &s);
  CHECK(st.IsNotSupported());
  CHECK(st.message().find(seg) != std::string::npos);
}

}  // namespace
}  // namespace crudjt
