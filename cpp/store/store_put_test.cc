// BatchOpType::kPut: a record under a token the caller chose (the
// express-session adapter stores each session under express-session's id).
#include <doctest/doctest.h>

#include "store/store_test_util.h"

namespace crudjt {
namespace {

using testutil::FakeClock;
using testutil::QuietOptions;
using testutil::Secret;
using testutil::TempDir;

constexpr char kSid[] = "Zx3-ab_QWERTYuiop1234567890abcd";  // 31 base64url chars

struct PutFixture {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<Store> store;
  PutFixture() { Reopen(); }
  void Reopen() {
    if (store) REQUIRE(store->Close().ok());
    store.reset();
    Options o = QuietOptions();
    o.TEST_clock_ms = clock.Fn();
    Status s = Store::Open(dir.Store(), Secret(), o, &store);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  BatchResult Put(std::string_view token, std::string_view payload, int64_t ttl = kNoLimit,
                  int64_t reads = kNoLimit, std::string_view subject = {}) {
    std::vector<BatchOp> ops(1);
    ops[0].type = BatchOpType::kPut;
    ops[0].token = token;
    ops[0].payload = payload;
    ops[0].ttl_ms = ttl;
    ops[0].max_reads = reads;
    ops[0].subject = subject;
    std::vector<BatchResult> r;
    REQUIRE(store->ApplyBatch(ops, &r).ok());
    REQUIRE(r.size() == 1);
    return r[0];
  }
  std::string ReadPayload(std::string_view token) {
    ReadResult r;
    Status s = store->Read(token, &r);
    if (s.IsNotFound()) return "<none>";
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    return r.payload;
  }
};

TEST_CASE("PutCreatesThenReplacesUnderTheCallersToken") {
  PutFixture f;
  BatchResult r = f.Put(kSid, "one", 60000);
  REQUIRE(r.status.ok());
  CHECK_FALSE(r.applied);  // nothing live was there
  CHECK(f.ReadPayload(kSid) == "one");
  r = f.Put(kSid, "two", kNoLimit, 5);
  REQUIRE(r.status.ok());
  CHECK(r.applied);  // replaced a live token
  ReadResult rr;
  REQUIRE(f.store->Read(kSid, &rr).ok());
  CHECK(rr.payload == "two");
  CHECK(rr.ttl_left_ms == kNoLimit);  // limits replaced too
  CHECK(rr.reads_left == 4);
  CHECK(f.store->GetStats().live_tokens == 1);
}

TEST_CASE("PutRefusesTokensTooShortTooLongOrNotBase64Url") {
  PutFixture f;
  for (std::string bad : {std::string("short"), std::string(21, 'a'), std::string(129, 'a'),
                          std::string("has space in it, twenty-two+"), std::string("!")}) {
    BatchResult r = f.Put(bad, "x");
    CHECK_MESSAGE(r.status.IsInvalidArgument(), bad);
  }
  CHECK(f.Put(std::string(22, 'a'), "x").status.ok());
  CHECK(f.Put(std::string(128, 'b'), "x").status.ok());
  CHECK(f.Put(kSid, "").status.IsInvalidArgument());             // empty payload
  CHECK(f.Put(kSid, std::string(257, 'p')).status.IsInvalidArgument());
  CHECK(f.Put(kSid, "x", 0).status.IsInvalidArgument());         // ttl 0
}

TEST_CASE("PutOverAnExpiredTokenStartsAFreshOne") {
  PutFixture f;
  REQUIRE(f.Put(kSid, "old", 1000).status.ok());
  f.clock.Advance(2000);
  CHECK(f.ReadPayload(kSid) == "<none>");
  BatchResult r = f.Put(kSid, "new", 1000);
  REQUIRE(r.status.ok());
  CHECK_FALSE(r.applied);  // the old one was dead
  CHECK(f.ReadPayload(kSid) == "new");
}

TEST_CASE("PutWithASubjectIsRevokedWithIt") {
  PutFixture f;
  REQUIRE(f.Put(kSid, "s", kNoLimit, kNoLimit, "user-7").status.ok());
  // Replacing it with another subject moves it between subjects.
  REQUIRE(f.Put(kSid, "s2", kNoLimit, kNoLimit, "user-8").status.ok());
  std::vector<SessionInfo> listed;
  REQUIRE(f.store->ListSubject("user-7", &listed).ok());
  CHECK(listed.empty());
  REQUIRE(f.store->ListSubject("user-8", &listed).ok());
  CHECK(listed.size() == 1);
  uint64_t removed = 0;
  REQUIRE(f.store->RevokeSubject("user-8", &removed).ok());
  CHECK(removed == 1);
  CHECK(f.ReadPayload(kSid) == "<none>");
}

TEST_CASE("PutIsDurableThroughTheLogAndCheckpoints") {
  PutFixture f;
  REQUIRE(f.Put(kSid, "kept").status.ok());
  REQUIRE(f.Put("another-session-id-of-32-chars__", "too").status.ok());
  f.Reopen();
  CHECK(f.ReadPayload(kSid) == "kept");
  REQUIRE(f.Put(kSid, "kept2").status.ok());
  REQUIRE(f.store->Checkpoint().ok());
  f.Reopen();
  CHECK(f.ReadPayload(kSid) == "kept2");
  CHECK(f.ReadPayload("another-session-id-of-32-chars__") == "too");
  CHECK(f.store->GetStats().live_tokens == 2);
}

TEST_CASE("PutTwiceInOneBatchLeavesTheSecond") {
  PutFixture f;
  std::vector<BatchOp> ops(3);
  ops[0].type = BatchOpType::kPut;
  ops[0].token = kSid;
  ops[0].payload = "a";
  ops[1] = ops[0];
  ops[1].payload = "b";
  ops[2].type = BatchOpType::kRead;
  ops[2].token = kSid;
  std::vector<BatchResult> r;
  REQUIRE(f.store->ApplyBatch(ops, &r).ok());
  CHECK_FALSE(r[0].applied);
  CHECK(r[1].applied);
  REQUIRE(r[2].status.ok());
  CHECK(r[2].read.payload == "b");
  CHECK(f.store->GetStats().live_tokens == 1);
}

}  // namespace
}  // namespace crudjt
