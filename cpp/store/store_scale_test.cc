// Concurrency (meant for the TSan build), churn and scale.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "store/store_test_util.h"

namespace crudjt {
namespace {

using testutil::Secret;
using testutil::TempDir;

uint64_t VmHWMKb() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kb = 0;
  while (std::fgets(line, sizeof(line), f)) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) kb = std::strtoull(line + 6, nullptr, 10);
  }
  std::fclose(f);
  return kb;
}

TEST_CASE("CallersOnSeveralThreadsRaceWithFlushCheckpointAndSweep") {
  TempDir dir;
  Options o;
  o.flush_interval_ms = 1;
  o.checkpoint_log_bytes = 16 << 10;
  o.page_cache_bytes = 256 << 10;
  o.sweep_on_open = true;
  o.sweep_interval_ms = 2;
  std::unique_ptr<Store> s;
  REQUIRE(Store::Open(dir.Store(), Secret(), o, &s).ok());
  constexpr int kThreads = 4;
  const int ops = getenv("CRUDJT_TSAN_OPS") ? atoi(getenv("CRUDJT_TSAN_OPS")) : 1500;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::string> mine;
      for (int i = 0; i < ops; ++i) {
        std::string payload = "t" + std::to_string(t) + "-" + std::to_string(i);
        std::string tok;
        if (!s->Create(payload, i % 4 == 0 ? 1 : kNoLimit, kNoLimit, &tok).ok()) ++failures;
        if (i % 4 != 0) mine.push_back(tok);
        ReadResult r;
        if (!mine.empty()) {
          const std::string& pick = mine[size_t(i * 7) % mine.size()];
          if (!s->Read(pick, &r).ok()) ++failures;
        }
        if (i % 10 == 9) {
          bool b;
          if (!s->Remove(mine.back(), &b).ok() || !b) ++failures;
          mine.pop_back();
        }
        if (i % 50 == 0) s->GetStats();
        if (i % 300 == 0 && t == 0) s->Checkpoint();
      }
      for (const auto& tok : mine) {
        ReadResult r;
        if (!s->Read(tok, &r).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  StoreStats st = s->GetStats();
  CHECK(st.last_checkpoint_ms > 0);
  CHECK(st.last_sweep_ms > 0);
  REQUIRE(s->Close().ok());
}

TEST_CASE("CreateDeleteChurnDoesNotGrowThePageFile") {
  TempDir dir;
  Options o = testutil::QuietOptions();
  o.checkpoint_log_bytes = 1 << 20;
  std::unique_ptr<Store> s;
  REQUIRE(Store::Open(dir.Store(), Secret(), o, &s).ok());
  const int live = 40000, cycles = getenv("CRUDJT_CHURN_CYCLES") ? atoi(getenv("CRUDJT_CHURN_CYCLES")) : 200000;
  std::vector<std::string> ring(live);
  const std::string payload(200, 'p');
  for (int i = 0; i < live; ++i) REQUIRE(s->Create(payload, kNoLimit, kNoLimit, &ring[i]).ok());
  REQUIRE(s->Checkpoint().ok());
  const uint64_t base = s->GetStats().page_file_bytes;
  for (int i = 0; i < cycles; ++i) {
    bool removed;
    std::string& slot = ring[size_t(i) % live];
    REQUIRE(s->Remove(slot, &removed).ok());
    REQUIRE(removed);
    REQUIRE(s->Create(payload, kNoLimit, kNoLimit, &slot).ok());
  }
  REQUIRE(s->Checkpoint().ok());
  StoreStats st = s->GetStats();
  MESSAGE("page file after 40k: " << base << " bytes; after churn: " << st.page_file_bytes
                                  << " bytes (" << st.pages_free << " free pages)");
  CHECK(st.live_tokens == uint64_t(live));
  CHECK(st.page_file_bytes <= base * 3 / 2);
  REQUIRE(s->Close().ok());
}

TEST_CASE("MillionTokensAreCreatedAndReadBackInBoundedMemory") {
  const char* scale = getenv("CRUDJT_SCALE_TEST");
  if (scale == nullptr || std::string(scale) != "1") {
    MESSAGE("skipped: set CRUDJT_SCALE_TEST=1 (about a minute; scripts/test-cpp.sh does in release)");
    return;
  }
  TempDir dir;
  Options o = testutil::QuietOptions();
  std::unique_ptr<Store> s;
  REQUIRE(Store::Open(dir.Store(), Secret(), o, &s).ok());
  const int n = 1000000;
  // Tokens are kept compactly (22 chars each) so the test's own memory
  // does not dominate the measurement.
  std::string tokens;
  tokens.reserve(size_t(n) * kTokenChars);
  auto t0 = std::chrono::steady_clock::now();
  char payload[64];
  for (int i = 0; i < n; ++i) {
    std::snprintf(payload, sizeof(payload), "payload-%d", i);
    std::string t;
    REQUIRE(s->Create(payload, kNoLimit, kNoLimit, &t).ok());
    tokens += t;
  }
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    ReadResult r;
    REQUIRE(s->Read(std::string_view(tokens).substr(size_t(i) * kTokenChars, kTokenChars), &r).ok());
    std::snprintf(payload, sizeof(payload), "payload-%d", i);
    REQUIRE(r.payload == payload);
  }
  auto t2 = std::chrono::steady_clock::now();
  const uint64_t hwm = VmHWMKb();
  using ms = std::chrono::milliseconds;
  MESSAGE("1M create " << std::chrono::duration_cast<ms>(t1 - t0).count() << " ms, read "
                       << std::chrono::duration_cast<ms>(t2 - t1).count() << " ms, VmHWM "
                       << hwm / 1024 << " MB, page file " << s->GetStats().page_file_bytes / (1 << 20)
                       << " MB");
  CHECK(hwm < 300 * 1024);
  REQUIRE(s->Close().ok());
}

}  // namespace
}  // namespace crudjt
