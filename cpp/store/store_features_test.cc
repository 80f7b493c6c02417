// Batches, touch, subjects ("log out everywhere"), handles, key rotation and
// export: the issue 8/9 engine features.
#include <doctest/doctest.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "store/store_test_util.h"
#include "util/base64url.h"
#include "wal/log_format.h"

namespace crudjt {
namespace {

using testutil::FakeClock;
using testutil::QuietOptions;
using testutil::Secret;
using testutil::TempDir;

struct F {
  TempDir dir;
  FakeClock clock;
  Options options = QuietOptions();
  std::unique_ptr<Store> store;
  OpenInfo info;
  F() {
    options.TEST_clock_ms = clock.Fn();
    Reopen();
  }
  void Reopen(const std::string& secret = Secret(), std::vector<std::string> previous = {}) {
    if (store) REQUIRE(store->Close().ok());
    store.reset();
    Options o = options;
    o.previous_secret_keys = std::move(previous);
    Status s = Store::Open(dir.Store(), secret, o, &store, &info);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  std::string Create(const std::string& p, int64_t ttl = kNoLimit, int64_t reads = kNoLimit,
                     const std::string& subject = {}) {
    std::string t;
    Status s = store->Create(p, ttl, reads, &t, subject);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    return t;
  }
  size_t Listed(const std::string& subject) {
    std::vector<SessionInfo> v;
    REQUIRE(store->ListSubject(subject, &v).ok());
    return v.size();
  }
};

TEST_CASE("BatchRunsOpsInOrderWithOneLogWrite") {
  F f;
  std::string t = f.Create("old");
  std::vector<BatchOp> ops(6);
  ops[0].type = BatchOpType::kCreate;
  ops[0].payload = "new";
  ops[0].max_reads = 2;
  ops[1].type = BatchOpType::kUpdate;
  ops[1].token = t;
  ops[1].payload = "upd";
  ops[2].type = BatchOpType::kRead;
  ops[2].token = t;
  ops[3].type = BatchOpType::kTouch;
  ops[3].token = t;
  ops[3].ttl_ms = 1000;
  ops[4].type = BatchOpType::kRemove;
  ops[4].token = t;
  ops[5].type = BatchOpType::kRead;
  ops[5].token = t;
  auto before = testutil::Impl(f.store)->TEST_CurrentLog();
  std::vector<BatchResult> r;
  REQUIRE(f.store->ApplyBatch(ops, &r).ok());
  REQUIRE(r.size() == 6);
  CHECK(r[0].status.ok());
  CHECK(r[0].token.size() == kTokenChars);
  CHECK(r[1].applied);
  CHECK(r[2].read.payload == "upd");
  CHECK(r[3].applied);
  CHECK(r[4].applied);
  CHECK(r[5].status.IsNotFound());
  auto after = testutil::Impl(f.store)->TEST_CurrentLog();
  CHECK(after.size > before.size);
  // The batch survives a restart (replayed from the log).
  f.Reopen();
  ReadResult rr;
  REQUIRE(f.store->Read(r[0].token, &rr).ok());
  CHECK(rr.payload == "new");
  CHECK(rr.reads_left == 1);
  CHECK(f.store->Read(t, &rr).IsNotFound());
}

TEST_CASE("BatchReportsBadOpsPerOpAndRejectsOversizedBatches") {
  F f;
  std::vector<BatchOp> ops(3);
  ops[0].type = BatchOpType::kCreate;  // empty payload
  ops[1].type = BatchOpType::kCreate;
  ops[1].payload = "x";
  ops[1].subject = std::string(kMaxSubjectBytes + 1, 's');
  ops[2].type = BatchOpType::kCreate;
  ops[2].payload = "ok";
  std::vector<BatchResult> r;
  REQUIRE(f.store->ApplyBatch(ops, &r).ok());
  CHECK(r[0].status.IsInvalidArgument());
  CHECK(r[1].status.IsInvalidArgument());
  CHECK(r[2].status.ok());
  std::vector<BatchOp> big(kMaxBatchOps + 1);
  CHECK(f.store->ApplyBatch(big, &r).IsInvalidArgument());
}

TEST_CASE("FailedBatchLogWriteAppliesNothingOfIt") {
  F f;
  std::string t = f.Create("keep");
  StoreImpl* impl = testutil::Impl(f.store);
  impl->TEST_SetLogSizeLimit(impl->TEST_CurrentLog().size + 50);
  std::vector<BatchOp> ops(3);
  ops[0].type = BatchOpType::kCreate;
  ops[0].payload = "a";
  ops[1].type = BatchOpType::kRemove;
  ops[1].token = t;
  ops[2].type = BatchOpType::kCreate;
  ops[2].payload = "b";
  std::vector<BatchResult> r;
  REQUIRE(f.store->ApplyBatch(ops, &r).ok());
  for (const BatchResult& x : r) CHECK(x.status.IsIOError());
  impl->TEST_SetLogSizeLimit(0);
  ReadResult rr;
  CHECK(f.store->Read(t, &rr).ok());
  CHECK(f.store->GetStats().live_tokens == 1);
}

TEST_CASE("TouchSetsANewLifetimeAndNeverRevives") {
  F f;
  std::string t = f.Create("p", 1000, 5);
  bool ok = false;
  REQUIRE(f.store->Touch(t, 10000, &ok).ok());
  CHECK(ok);
  f.clock.Advance(5000);
  ReadResult r;
  REQUIRE(f.store->Read(t, &r).ok());
  CHECK(r.ttl_left_ms == 5000);
  CHECK(r.reads_left == 4);
  CHECK(r.payload == "p");
  REQUIRE(f.store->Touch(t, kNoLimit, &ok).ok());
  f.Reopen();
  REQUIRE(f.store->Read(t, &r).ok());
  CHECK(r.ttl_left_ms == kNoLimit);
  std::string d = f.Create("d", 10);
  f.clock.Advance(10);
  REQUIRE(f.store->Touch(d, 10000, &ok).ok());
  CHECK_FALSE(ok);
  CHECK(f.store->Read(d, &r).IsNotFound());
  CHECK(f.store->Touch(t, 0, &ok).IsInvalidArgument());
  CHECK(f.store->Touch(t, kMaxTtlMs + 1, &ok).IsInvalidArgument());
  CHECK(f.store->Touch("", 10, &ok).IsInvalidArgument());
  REQUIRE(f.store->Touch(std::string(4096, 'A'), 10, &ok).ok());
  CHECK_FALSE(ok);
}

TEST_CASE("RevokeSubjectDeletesOnlyThatSubjectsLiveTokensAndLeavesNoEntries") {
  F f;
  std::vector<std::string> alice, bob;
  for (int i = 0; i < 700; ++i) alice.push_back(f.Create("a", kNoLimit, kNoLimit, "alice"));
  for (int i = 0; i < 3; ++i) bob.push_back(f.Create("b", kNoLimit, kNoLimit, "bob"));
  std::string plain = f.Create("n");
  CHECK(f.store->GetStats().live_tokens == 704);
  CHECK(f.Listed("alice") == 700);
  bool u;
  REQUIRE(f.store->Update(alice[0], "a2", kNoLimit, kNoLimit, &u).ok());
  CHECK(u);
  CHECK(f.Listed("alice") == 700);  // update keeps the subject
  uint64_t removed = 0;
  REQUIRE(f.store->RevokeSubject("alice", &removed).ok());
  CHECK(removed == 700);
  CHECK(f.Listed("alice") == 0);
  CHECK(f.Listed("bob") == 3);
  ReadResult r;
  CHECK(f.store->Read(alice[5], &r).IsNotFound());
  CHECK(f.store->Read(bob[0], &r).ok());
  CHECK(f.store->Read(plain, &r).ok());
  REQUIRE(f.store->RevokeSubject("alice", &removed).ok());
  CHECK(removed == 0);
  // Tree: 3 bob records + 3 entries + 1 plain: no entry of alice left.
  f.Reopen();
  CHECK(f.store->GetStats().live_tokens == 4);
  CHECK(f.Listed("bob") == 3);
}

TEST_CASE("DeleteExhaustExpiryAndSweepRemoveTheIndexEntry") {
  F f;
  std::string a = f.Create("a", kNoLimit, kNoLimit, "s");
  std::string b = f.Create("b", kNoLimit, 1, "s");
  std::string c = f.Create("c", 100, kNoLimit, "s");
  std::string d = f.Create("d", kNoLimit, kNoLimit, "s");
  CHECK(f.Listed("s") == 4);
  bool removed;
  REQUIRE(f.store->Remove(a, &removed).ok());
  ReadResult r;
  REQUIRE(f.store->Read(b, &r).ok());  // exhausts
  f.clock.Advance(100);
  CHECK(f.Listed("s") == 1);  // c expired: not listed
  uint64_t swept = 0;
  REQUIRE(f.store->Sweep(&swept).ok());
  CHECK(swept == 1);
  std::vector<SessionInfo> v;
  REQUIRE(f.store->ListSubject("s", &v).ok());
  REQUIRE(v.size() == 1);
  REQUIRE(f.store->RevokeHandle(v[0].handle, &removed).ok());
  CHECK(removed);
  CHECK(f.store->Read(d, &r).IsNotFound());
  // Nothing at all is left: no record, no index entry.
  f.Reopen();
  StoreStats st = f.store->GetStats();
  CHECK(st.live_tokens == 0);
  std::vector<std::pair<std::string, std::string>> out;
  bool done;
  REQUIRE(f.store->ExportRecords({}, 100, &out, &done).ok());
  CHECK(out.empty());
}

TEST_CASE("HostileSubjectsAndHandlesAreInvalidArgumentOrNotFound") {
  F f;
  std::string t;
  uint64_t n;
  std::vector<SessionInfo> v;
  bool removed;
  CHECK(f.store->Create("p", kNoLimit, kNoLimit, &t, std::string(129, 's')).IsInvalidArgument());
  CHECK(f.store->RevokeSubject("", &n).IsInvalidArgument());
  CHECK(f.store->RevokeSubject(std::string(129, 's'), &n).IsInvalidArgument());
  CHECK(f.store->ListSubject("", &v).IsInvalidArgument());
  for (std::string h : {std::string(), std::string("x"), std::string(22, '!'),
                        std::string(21, 'A') + "B", std::string(4096, 'A'), std::string(23, 'A')}) {
    REQUIRE(f.store->RevokeHandle(h, &removed).ok());
    CHECK_FALSE(removed);
  }
  // A handle naming an index entry never deletes it.
  std::string a = f.Create("a", kNoLimit, kNoLimit, "s");
  REQUIRE(f.store->ListSubject("s", &v).ok());
  REQUIRE(v.size() == 1);
  CHECK(v[0].handle != a);
  CHECK(v[0].handle.size() == kHandleChars);
}

TEST_CASE("SubjectIsNeverOnDiskInPlaintext") {
  F f;
  const std::string subject = "SUBJECT-plaintext-marker-0123456789";
  for (int i = 0; i < 50; ++i) f.Create("p", kNoLimit, kNoLimit, subject);
  std::string t = f.Create("p", kNoLimit, kNoLimit, subject);
  REQUIRE(f.store->Checkpoint().ok());
  f.Create("p", kNoLimit, kNoLimit, subject);  // one in the log only
  for (const std::string& name : testutil::ListDir(f.dir.Store())) {
    std::string bytes = testutil::ReadFile(f.dir.Store() + "/" + name);
    CHECK_MESSAGE(bytes.find(subject) == std::string::npos, name);
    CHECK_MESSAGE(bytes.find("SUBJECT") == std::string::npos, name);
  }
}

TEST_CASE("RotatedKeyReadsOldTokensAndResealMovesThem") {
  F f;
  const std::string k1 = Secret('a'), k2 = Secret('b', 48), k3 = Secret('c');
  f.Reopen(k1);
  std::vector<std::string> toks;
  for (int i = 0; i < 600; ++i) toks.push_back(f.Create("v" + std::to_string(i), kNoLimit, kNoLimit, i % 2 ? "s" : ""));
  f.Reopen(k2, {k1});
  CHECK_FALSE(f.info.key_changed);
  CHECK(f.store->GetStats().previous_key_records == 600);
  ReadResult r;
  REQUIRE(f.store->Read(toks[7], &r).ok());
  CHECK(r.payload == "v7");
  bool u;
  REQUIRE(f.store->Update(toks[8], "new8", kNoLimit, kNoLimit, &u).ok());
  CHECK(u);
  CHECK(f.store->GetStats().previous_key_records == 599);
  f.Reopen(k2, {k1});  // exact across restarts (log replay)
  CHECK(f.store->GetStats().previous_key_records == 599);
  CHECK(f.Listed("s") == 300);
  uint64_t n = 0;
  REQUIRE(f.store->ResealPrevious(&n).ok());
  CHECK(n == 599);
  CHECK(f.store->GetStats().previous_key_records == 0);
  f.Reopen(k2);  // the old key is no longer needed
  REQUIRE(f.store->Read(toks[9], &r).ok());
  CHECK(r.payload == "v9");
  REQUIRE(f.store->Read(toks[8], &r).ok());
  CHECK(r.payload == "new8");
  // A key that is neither current nor previous: opens, tokens not found.
  f.Reopen(k3);
  CHECK(f.info.key_changed);
  CHECK(f.store->Read(toks[9], &r).IsNotFound());
  // Without the previous key, old-key records read as not found.
  TempDir d2;
  std::unique_ptr<Store> s;
  REQUIRE(Store::Open(d2.Store(), k1, f.options, &s).ok());
  std::string t;
  REQUIRE(s->Create("x", kNoLimit, kNoLimit, &t).ok());
  REQUIRE(s->Close().ok());
  s.reset();
  REQUIRE(Store::Open(d2.Store(), k2, f.options, &s).ok());
  CHECK(s->Read(t, &r).IsNotFound());
}

TEST_CASE("ExportRecordsPagesThroughLiveTokenRecordsOnly") {
  F f;
  std::set<std::string> keys;
  for (int i = 0; i < 30; ++i) f.Create("p", kNoLimit, kNoLimit, i % 3 ? "" : "s");
  f.Create("dead", 10);
  f.clock.Advance(10);
  std::string after;
  size_t total = 0;
  for (;;) {
    std::vector<std::pair<std::string, std::string>> out;
    bool done = false;
    REQUIRE(f.store->ExportRecords(after, 7, &out, &done).ok());
    for (auto& kv : out) {
      CHECK(kv.first.size() == 16);
      CHECK((uint8_t(kv.first[0]) & 0x80) == 0);
      CHECK((after.empty() || after < kv.first));
      after = kv.first;
      keys.insert(kv.first);
      ++total;
    }
    if (done || out.empty()) break;
  }
  CHECK(total == 30);
  CHECK(keys.size() == 30);
  std::vector<std::pair<std::string, std::string>> out;
  bool done;
  CHECK(f.store->ExportRecords("short", 7, &out, &done).IsInvalidArgument());
  CHECK(f.store->ExportRecords({}, 0, &out, &done).IsInvalidArgument());
}

// TSan/ASan target: every feature at once from several threads (puts over
// live and expired tokens of other subjects too). Afterwards
// the subject index matches the records and the counters are exact.
TEST_CASE("ConcurrentBatchesTouchesRevokesResealSweepAndCheckpointsKeepTheIndexConsistent") {
  F f;
  const std::string old_key = Secret('o');
  f.Reopen(old_key);
  std::vector<std::string> seeded;
  for (int i = 0; i < 300; ++i) {
    seeded.push_back(f.Create("seed" + std::to_string(i), i % 5 ? kNoLimit : 50, i % 7 ? kNoLimit : 3,
                              "user" + std::to_string(i % 6)));
  }
  f.Reopen(Secret(), {old_key});
  REQUIRE(f.store->GetStats().previous_key_records > 0);
  StoreImpl* impl = testutil::Impl(f.store);
  REQUIRE_MESSAGE(impl->TEST_CheckIndex().ok(), impl->TEST_CheckIndex().ToString());

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  auto fail_if = [&](const Status& s) {
    if (!s.ok() && !s.IsNotFound()) {
      failures.fetch_add(1);
      MESSAGE(s.ToString());
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(w);
      std::vector<std::string> mine;
      for (int round = 0; round < 150; ++round) {
        std::vector<BatchOp> ops(1 + rng() % 12);
        std::vector<std::string> subjects(ops.size());
        for (size_t i = 0; i < ops.size(); ++i) {
          BatchOp& op = ops[i];
          const std::string& t = !mine.empty() && rng() % 2 ? mine[rng() % mine.size()]
                                                           : seeded[rng() % seeded.size()];
          switch (rng() % 6) {
            case 5:
              op.type = BatchOpType::kPut;
              op.token = t;
              op.payload = "put";
              subjects[i] = rng() % 2 ? "user" + std::to_string(rng() % 6) : "";
              op.subject = subjects[i];
              op.ttl_ms = rng() % 2 ? kNoLimit : 5;
              break;
            case 0:
              op.type = BatchOpType::kCreate;
              op.payload = "batch";
              op.max_reads = rng() % 2 ? kNoLimit : 2;
              subjects[i] = rng() % 3 ? "user" + std::to_string(rng() % 6) : "";
              op.subject = subjects[i];
              break;
            case 1: op.type = BatchOpType::kRead; op.token = t; break;
            case 2: op.type = BatchOpType::kUpdate; op.token = t; op.payload = "upd"; break;
            case 3: op.type = BatchOpType::kRemove; op.token = t; break;
            default: op.type = BatchOpType::kTouch; op.token = t; op.ttl_ms = 1 + rng() % 100; break;
          }
        }
        std::vector<BatchResult> res;
        fail_if(f.store->ApplyBatch(ops, &res));
        for (size_t i = 0; i < res.size(); ++i) {
          fail_if(res[i].status);
          if (ops[i].type == BatchOpType::kCreate && res[i].status.ok()) mine.push_back(res[i].token);
        }
        bool touched;
        fail_if(f.store->Touch(seeded[rng() % seeded.size()], 1000, &touched));
      }
    });
  }
  threads.emplace_back([&] {
    std::mt19937 rng(7);
    while (!stop.load()) {
      const std::string subject = "user" + std::to_string(rng() % 6);
      std::vector<SessionInfo> list;
      fail_if(f.store->ListSubject(subject, &list));
      bool removed;
      if (!list.empty()) fail_if(f.store->RevokeHandle(list[rng() % list.size()].handle, &removed));
      if (rng() % 4 == 0) {
        uint64_t n;
        fail_if(f.store->RevokeSubject(subject, &n));
      }
    }
  });
  threads.emplace_back([&] {
    while (!stop.load()) {
      uint64_t n;
      fail_if(f.store->ResealPrevious(&n));
      fail_if(f.store->Sweep(&n));
      fail_if(f.store->Checkpoint());
      f.clock.Advance(7);
      f.store->GetStats();
      std::vector<std::pair<std::string, std::string>> out;
      bool done;
      fail_if(f.store->ExportRecords({}, 50, &out, &done));
    }
  });
  threads[0].join();
  threads[1].join();
  stop.store(true);
  for (size_t i = 2; i < threads.size(); ++i) threads[i].join();
  CHECK(failures.load() == 0);
  Status c = impl->TEST_CheckIndex();
  CHECK_MESSAGE(c.ok(), c.ToString());
  uint64_t n;
  REQUIRE(f.store->ResealPrevious(&n).ok());
  CHECK(f.store->GetStats().previous_key_records == 0);
  f.Reopen(Secret());
  impl = testutil::Impl(f.store);
  c = impl->TEST_CheckIndex();
  CHECK_MESSAGE(c.ok(), c.ToString());
}

// A batch whose log write a crash cut short: the entry of a create made it
// to the log, its record did not. Recovery drops the entry.
TEST_CASE("RecoveryDropsTheEntryOfACreateTornFromItsRecord") {
  TempDir dir;
  std::string log_path;
  uint64_t cut = 0;
  {
    std::unique_ptr<Store> s;
    REQUIRE(Store::Open(dir.Store(), Secret(), QuietOptions(), &s).ok());
    std::string kept;
    REQUIRE(s->Create("kept", kNoLimit, kNoLimit, &kept, "alice").ok());
    std::string t;
    StoreImpl* impl = testutil::Impl(s);
    const uint64_t before = impl->TEST_CurrentLog().size;
    REQUIRE(s->Create("torn", kNoLimit, kNoLimit, &t, "alice").ok());
    // The create logged two records: entry (15 + 16 + 32 bytes), then the record.
    log_path = impl->TEST_CurrentLog().path;
    cut = before + wal::kRecordHeaderSize + kTreeKeyBytes + SubjectIndex::kEntryBytes;
    REQUIRE(impl->TEST_CurrentLog().size > cut);
    // Simulate the crash: no Close (it would checkpoint); keep the log only.
    std::string copy = testutil::ReadFile(log_path);
    REQUIRE(s->Close().ok());
    s.reset();
    // Rebuild the pre-crash directory: the page file as first checkpointed
    // is not what we have after Close, so start over from the log alone.
    std::system(("rm -rf '" + dir.Store() + "'/*").c_str());
    std::ofstream(log_path, std::ios::binary).write(copy.data(), std::streamsize(cut));
  }
  std::unique_ptr<Store> s;
  OpenInfo info;
  Status st = Store::Open(dir.Store(), Secret(), QuietOptions(), &s, &info);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  Status c = testutil::Impl(s)->TEST_CheckIndex();
  CHECK_MESSAGE(c.ok(), c.ToString());
  std::vector<SessionInfo> list;
  REQUIRE(s->ListSubject("alice", &list).ok());
  CHECK(list.size() == 1);
  CHECK(s->GetStats().live_tokens == 1);
}

// Past Pending's linear-search size: later ops of a 3000-op batch still see
// the earlier ops' changes (updated payloads, spent reads, removals).
TEST_CASE("BigBatchSeesItsOwnEarlierChanges") {
  F f;
  std::vector<std::string> t;
  for (int i = 0; i < 500; ++i) t.push_back(f.Create("v" + std::to_string(i), kNoLimit, 2));
  std::vector<BatchOp> ops;
  std::vector<std::string> payloads(500);
  for (int i = 0; i < 500; ++i) {
    payloads[i] = "u" + std::to_string(i);
    BatchOp u;
    u.type = BatchOpType::kUpdate;
    u.token = t[i];
    u.payload = payloads[i];
    u.max_reads = 2;
    ops.push_back(u);
  }
  for (int i = 0; i < 500; ++i) {
    BatchOp r;
    r.type = BatchOpType::kRead;
    r.token = t[i];
    ops.push_back(r);  // reads 2 -> 1
    if (i % 2) {
      BatchOp d;
      d.type = BatchOpType::kRemove;
      d.token = t[i];
      ops.push_back(d);
    } else {
      ops.push_back(r);  // 1 -> 0: deleted
    }
    ops.push_back(r);  // gone either way
  }
  REQUIRE(ops.size() == 2000);
  std::vector<BatchResult> res;
  REQUIRE(f.store->ApplyBatch(ops, &res).ok());
  for (int i = 0; i < 500; ++i) {
    CAPTURE(i);
    CHECK(res[size_t(i)].applied);
    const size_t at = 500 + size_t(i) * 3;
    REQUIRE(res[at].status.ok());
    CHECK(res[at].read.payload == payloads[size_t(i)]);
    CHECK(res[at].read.reads_left == 1);
    if (i % 2) {
      CHECK(res[at + 1].applied);
    } else {
      REQUIRE(res[at + 1].status.ok());
      CHECK(res[at + 1].read.reads_left == 0);
    }
    CHECK(res[at + 2].status.IsNotFound());
  }
  CHECK(f.store->GetStats().live_tokens == 0);
}

// A put may give a token another subject between an update's preparation
// (which seals under the subject it saw) and its turn: the update still
// applies, under the new subject.
TEST_CASE("UpdateAfterAPutThatChangedTheSubjectStillApplies") {
  F f;
  std::string t = f.Create("a", kNoLimit, kNoLimit, "alice");
  std::vector<BatchOp> ops(2);
  ops[0].type = BatchOpType::kPut;
  ops[0].token = t;
  ops[0].payload = "put";
  ops[0].subject = "bob";
  ops[1].type = BatchOpType::kUpdate;
  ops[1].token = t;
  ops[1].payload = "updated";
  std::vector<BatchResult> res;
  REQUIRE(f.store->ApplyBatch(ops, &res).ok());
  REQUIRE(res[0].status.ok());
  CHECK(res[0].applied);
  REQUIRE(res[1].status.ok());
  CHECK(res[1].applied);
  ReadResult r;
  REQUIRE(f.store->Read(t, &r).ok());
  CHECK(r.payload == "updated");
  CHECK(f.Listed("alice") == 0);
  CHECK(f.Listed("bob") == 1);
  Status c = testutil::Impl(f.store)->TEST_CheckIndex();
  CHECK_MESSAGE(c.ok(), c.ToString());
}

}  // namespace
}  // namespace crudjt
