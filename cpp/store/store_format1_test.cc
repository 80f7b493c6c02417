// A store written by the last format-1 release (testdata/format1, made by
// testdata/format1/make_fixture.cc with the engine as of 3e9e58a) opens with
// today's engine: every token reads back as that release left it (records
// in the page file and records only in its log), new writes work, and the
// upgraded store survives a checkpoint and a reopen.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "store/store_test_util.h"

namespace crudjt {
namespace {

using testutil::QuietOptions;
using testutil::TempDir;

std::string FixtureDir() {
  std::string here = __FILE__;
  return here.substr(0, here.rfind('/')) + "/testdata/format1";
}

std::string FixtureKey() {
  std::ifstream f(FixtureDir() + "/key.hex");
  std::string hex;
  f >> hex;
  std::string key;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    key.push_back(char(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return key;
}

struct V1Token {
  std::string token;
  bool alive;
  int64_t reads;  // left before the next read; -1 = none
  std::string payload;
};

std::vector<V1Token> FixtureTokens() {
  std::ifstream f(FixtureDir() + "/tokens.txt");
  std::vector<V1Token> out;
  for (std::string line; std::getline(f, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream is(line);
    V1Token t;
    int alive;
    is >> t.token >> alive >> t.reads >> t.payload;
    t.alive = alive != 0;
    out.push_back(t);
  }
  return out;
}

// A copy of the fixture in a fresh temp dir (the test never writes to the
// committed files).
void CopyFixture(const TempDir& dir) {
  REQUIRE(std::system(("mkdir -p '" + dir.Store() + "' && cp '" + FixtureDir() +
                       "'/crudjt* '" + dir.Store() + "/'")
                          .c_str()) == 0);
}

void CheckV1Tokens(Store* s, const std::vector<V1Token>& tokens) {
  for (const V1Token& t : tokens) {
    CAPTURE(t.token);
    ReadResult r;
    Status st = s->Read(t.token, &r);
    REQUIRE((st.ok() || st.IsNotFound()));
    REQUIRE(st.ok() == t.alive);
    if (!st.ok()) continue;
    CHECK(r.payload == t.payload);
    CHECK(r.reads_left == (t.reads == kNoLimit ? kNoLimit : t.reads - 1));
  }
}

TEST_CASE("Format1StoreOpensReadsWritesCheckpointsAndReopens") {
  const std::vector<V1Token> tokens = FixtureTokens();
  REQUIRE(tokens.size() == 32);
  TempDir dir;
  CopyFixture(dir);
  std::unique_ptr<Store> s;
  OpenInfo info;
  Status st = Store::Open(dir.Store(), FixtureKey(), QuietOptions(), &s, &info);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(!info.key_changed);
  CHECK(info.recovered_records > 0);  // the writes after its last checkpoint
  CHECK(s->GetStats().live_tokens == 30);
  CHECK(s->GetStats().previous_key_records == 0);
  {
    // Every token as the old release left it; the one with a huge ttl too.
    ReadResult r;
    REQUIRE(s->Read(tokens[5].token, &r).ok());
    CHECK(r.ttl_left_ms > kMaxTtlMs / 2);
  }
  std::vector<V1Token> now = tokens;
  now[5].reads = kNoLimit;  // read above (no limit)
  CheckV1Tokens(s.get(), now);
  for (V1Token& t : now) {
    if (t.alive && t.reads != kNoLimit) {
      t.reads -= 1;
      if (t.reads == 0) t.alive = false;
    }
  }

  // New writes beside the old records: updates, touches, removes of old
  // tokens, and new tokens with and without a subject.
  bool done;
  REQUIRE(s->Update(now[1].token, "updated-by-v2", kNoLimit, kNoLimit, &done).ok());
  CHECK(done);
  now[1].payload = "updated-by-v2";
  REQUIRE(s->Touch(now[2].token, 60000, &done).ok());
  CHECK(done);
  REQUIRE(s->Remove(now[7].token, &done).ok());
  CHECK(done);
  now[7].alive = false;
  std::vector<std::string> fresh;
  for (int i = 0; i < 20; ++i) {
    std::string t;
    REQUIRE(s->Create("v2-" + std::to_string(i), kNoLimit, kNoLimit, &t, i % 2 ? "alice" : "").ok());
    fresh.push_back(t);
  }
  REQUIRE(s->Checkpoint().ok());
  Status c = testutil::Impl(s)->TEST_CheckIndex();
  CHECK_MESSAGE(c.ok(), c.ToString());
  REQUIRE(s->Close().ok());
  s.reset();

  // Reopen twice (the second time from a format-2 meta written by the
  // first): everything is still there.
  for (int round = 0; round < 2; ++round) {
    CAPTURE(round);
    st = Store::Open(dir.Store(), FixtureKey(), QuietOptions(), &s, &info);
    REQUIRE_MESSAGE(st.ok(), st.ToString());
    CHECK(!info.key_changed);
    c = testutil::Impl(s)->TEST_CheckIndex();
    CHECK_MESSAGE(c.ok(), c.ToString());
    for (size_t i = 0; i < fresh.size(); ++i) {
      ReadResult r;
      REQUIRE(s->Read(fresh[i], &r).ok());
      CHECK(r.payload == "v2-" + std::to_string(i));
    }
    std::vector<SessionInfo> list;
    REQUIRE(s->ListSubject("alice", &list).ok());
    CHECK(list.size() == 10);
    CheckV1Tokens(s.get(), now);
    for (V1Token& t : now) {
      if (t.alive && t.reads != kNoLimit) {
        t.reads -= 1;
        if (t.reads == 0) t.alive = false;
      }
    }
    REQUIRE(s->Close().ok());
    s.reset();
  }
}

TEST_CASE("Format1StoreOpensUnderANewSecretWithItsOldSecretAsPrevious") {
  const std::vector<V1Token> tokens = FixtureTokens();
  TempDir dir;
  CopyFixture(dir);
  Options o = QuietOptions();
  o.previous_secret_keys = {FixtureKey()};
  std::unique_ptr<Store> s;
  OpenInfo info;
  Status st = Store::Open(dir.Store(), testutil::Secret('n'), o, &s, &info);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(!info.key_changed);
  CHECK(s->GetStats().previous_key_records == 30);
  uint64_t moved = 0;
  REQUIRE(s->ResealPrevious(&moved).ok());
  CHECK(moved == 30);
  CHECK(s->GetStats().previous_key_records == 0);
  REQUIRE(s->Close().ok());
  s.reset();
  // The old secret is no longer needed.
  st = Store::Open(dir.Store(), testutil::Secret('n'), QuietOptions(), &s, &info);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CheckV1Tokens(s.get(), tokens);
  Status c = testutil::Impl(s)->TEST_CheckIndex();
  CHECK_MESSAGE(c.ok(), c.ToString());
}

TEST_CASE("Format1StoreUnderAnotherSecretReportsTheKeyChange") {
  TempDir dir;
  CopyFixture(dir);
  std::unique_ptr<Store> s;
  OpenInfo info;
  Status st = Store::Open(dir.Store(), testutil::Secret('z'), QuietOptions(), &s, &info);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(info.key_changed);
  ReadResult r;
  CHECK(s->Read(FixtureTokens()[0].token, &r).IsNotFound());
}

}  // namespace
}  // namespace crudjt
