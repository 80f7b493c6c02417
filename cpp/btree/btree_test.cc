#include "btree/btree.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "btree/btree_impl.h"
#include "btree/page_format.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace crudjt {
namespace {

std::string TempPath(const char* name) {
  char tmpl[] = "/tmp/btree_test_XXXXXX";
  char* dir = ::mkdtemp(tmpl);
  REQUIRE(dir != nullptr);
  return std::string(dir) + "/" + name;
}

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

TreeKey KeyOf(uint64_t i) {
  TreeKey k;
  uint64_t a = Mix(i), b = Mix(i ^ 0x5555);
  std::memcpy(k.bytes, &a, 8);
  std::memcpy(k.bytes + 8, &b, 8);
  return k;
}

std::string KeyStr(const TreeKey& k) { return std::string(reinterpret_cast<const char*>(k.bytes), 16); }
TreeKey FromStr(const std::string& s) {
  TreeKey k;
  std::memcpy(k.bytes, s.data(), 16);
  return k;
}

std::string ValueOf(uint64_t i, size_t len) {
  std::string v(len, '\0');
  for (size_t j = 0; j < len; ++j) v[j] = static_cast<char>(Mix(i * 1000 + j / 8) >> (8 * (j % 8)));
  return v;
}

using Model = std::map<std::string, std::string>;

std::unique_ptr<BTree> OpenTree(const std::string& path, size_t cache = 64 << 20) {
  std::unique_ptr<BTree> t;
  BTreeOptions o;
  o.page_cache_bytes = cache;
  Status s = BTree::Open(path, o, &t);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return t;
}

Status Checkpoint(BTree* t, std::string_view user_meta = {}) {
  std::unique_ptr<CheckpointSnapshot> snap;
  Status s = t->BeginCheckpoint(user_meta, &snap);
  if (!s.ok()) return s;
  s = t->WriteCheckpoint(snap.get());
  t->FinishCheckpoint(std::move(snap), s);
  return s;
}

// Full comparison: a scan in batches plus a Get of every model key.
void ExpectEqual(BTree* t, const Model& m) {
  Model seen;
  TreeKey last;
  bool done = false, first = true;
  std::string prev;
  while (!done) {
    Status s = t->Scan(first ? nullptr : &last, 777,
                       [&](const TreeKey& k, std::string_view v) {
                         std::string ks = KeyStr(k);
                         CHECK(ks > prev);
                         prev = ks;
                         seen[ks] = std::string(v);
                         return true;
                       },
                       &last, &done);
    REQUIRE(s.ok());
    first = false;
  }
  CHECK(seen.size() == m.size());
  CHECK(seen == m);
  for (const auto& kv : m) {
    std::string v;
    REQUIRE(t->Get(FromStr(kv.first), &v).ok());
    CHECK(v == kv.second);
  }
  CHECK(t->GetStats().records == m.size());
  BTreeImpl::Shape shape;
  Status s = static_cast<BTreeImpl*>(t)->TEST_Check(&shape);
  CHECK_MESSAGE(s.ok(), s.ToString());
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<uint64_t>(st.st_size);
}

void PatchFile(const std::string& path, uint64_t off, const void* data, size_t n) {
  int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, data, n, static_cast<off_t>(off)) == static_cast<ssize_t>(n));
  ::close(fd);
}

std::vector<uint8_t> ReadPage(const std::string& path, uint64_t pgno) {
  std::vector<uint8_t> buf(kPageSize);
  int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pread(fd, buf.data(), kPageSize, static_cast<off_t>(pgno * kPageSize)) ==
          static_cast<ssize_t>(kPageSize));
  ::close(fd);
  return buf;
}

TEST_CASE("BTree: put, get, overwrite and delete") {
  std::string path = TempPath("basic.pages");
  auto t = OpenTree(path);
  std::string v;
  CHECK(t->Get(KeyOf(1), &v).IsNotFound());
  CHECK(t->Put(KeyOf(1), "one").ok());
  CHECK(t->Put(KeyOf(2), "two").ok());
  REQUIRE(t->Get(KeyOf(1), &v).ok());
  CHECK(v == "one");
  CHECK(t->Put(KeyOf(1), std::string(300, 'x')).ok());
  REQUIRE(t->Get(KeyOf(1), &v).ok());
  CHECK(v == std::string(300, 'x'));
  bool existed = false;
  CHECK(t->Delete(KeyOf(1), &existed).ok());
  CHECK(existed);
  CHECK(t->Delete(KeyOf(1), &existed).ok());
  CHECK_FALSE(existed);
  CHECK(t->Get(KeyOf(1), &v).IsNotFound());
  CHECK(t->Get(KeyOf(2), &v).ok());
  CHECK(t->Put(KeyOf(3), "").IsInvalidArgument());
  CHECK(t->Put(KeyOf(3), std::string(kMaxTreeValueBytes + 1, 'y')).IsInvalidArgument());
  CHECK(t->Put(KeyOf(3), std::string(kMaxTreeValueBytes, 'y')).ok());
  CHECK(t->GetStats().records == 2);
  CHECK(t->Delete(KeyOf(2), nullptr).ok());
  CHECK(t->Delete(KeyOf(3), nullptr).ok());
  CHECK(t->GetStats().records == 0);
  ExpectEqual(t.get(), {});
}

TEST_CASE("BTree: a new tree is clean and has zero user meta") {
  std::string path = TempPath("new.pages");
  auto t = OpenTree(path);
  CHECK(t->clean());
  CHECK(t->committed_user_meta() == std::string(kUserMetaBytes, '\0'));
  CHECK(t->Put(KeyOf(1), "x").ok());
  CHECK_FALSE(t->clean());
  REQUIRE(Checkpoint(t.get()).ok());
  CHECK(t->clean());
}

TEST_CASE("BTree: user meta round-trips through a checkpoint and reopen") {
  std::string path = TempPath("meta.pages");
  std::string meta(kUserMetaBytes, '\0');
  for (size_t i = 0; i < meta.size(); ++i) meta[i] = static_cast<char>(i * 7 + 1);
  {
    auto t = OpenTree(path);
    CHECK(t->Put(KeyOf(1), "x").ok());
    std::unique_ptr<CheckpointSnapshot> snap;
    CHECK(t->BeginCheckpoint(std::string(kUserMetaBytes + 1, 'a'), &snap).IsInvalidArgument());
    REQUIRE(Checkpoint(t.get(), meta).ok());
    CHECK(t->committed_user_meta() == meta);
    REQUIRE(Checkpoint(t.get(), "short").ok());
    CHECK(t->committed_user_meta().substr(0, 5) == "short");
    CHECK(t->committed_user_meta().substr(5) == std::string(kUserMetaBytes - 5, '\0'));
    REQUIRE(Checkpoint(t.get(), meta).ok());
  }
  auto t = OpenTree(path);
  CHECK(t->committed_user_meta() == meta);
}

TEST_CASE("BTree: 200k random ops match a map model across checkpoints and reopens") {
  std::string path = TempPath("model.pages");
  std::mt19937_64 rng(42);
  Model model, committed;
  auto t = OpenTree(path, 2 << 20);  // small cache: evictions and re-reads
  const int kOps = 200000;
  std::vector<std::string> keys;
  for (int op = 1; op <= kOps; ++op) {
    uint64_t r = rng();
    int kind = static_cast<int>(r % 10);
    if (kind < 5 || keys.empty()) {
      TreeKey k = KeyOf(rng());
      std::string v = ValueOf(op, 1 + rng() % (r % 7 == 0 ? kMaxTreeValueBytes : 340));
      REQUIRE(t->Put(k, v).ok());
      if (!model.count(KeyStr(k))) keys.push_back(KeyStr(k));
      model[KeyStr(k)] = v;
    } else if (kind < 7) {
      size_t i = rng() % keys.size();
      std::string v = ValueOf(op, 1 + rng() % 400);
      REQUIRE(t->Put(FromStr(keys[i]), v).ok());
      model[keys[i]] = v;
    } else {
      size_t i = rng() % keys.size();
      bool existed;
      REQUIRE(t->Delete(FromStr(keys[i]), &existed).ok());
      CHECK(existed);
      model.erase(keys[i]);
      keys[i] = keys.back();
      keys.pop_back();
    }
    if (op % 5000 == 0) {
      REQUIRE(Checkpoint(t.get()).ok());
      committed = model;
    }
    if (op % 50000 == 2500) {
      // Reopen without checkpointing: the tree is as of the last checkpoint.
      t.reset();
      t = OpenTree(path, 2 << 20);
      ExpectEqual(t.get(), committed);
      model = committed;
      keys.clear();
      for (const auto& kv : model) keys.push_back(kv.first);
    }
  }
  ExpectEqual(t.get(), model);
  REQUIRE(Checkpoint(t.get()).ok());
  t.reset();
  t = OpenTree(path);
  ExpectEqual(t.get(), model);
}

TEST_CASE("BTree: a crash at any stage of a checkpoint leaves the previous checkpoint") {
  enum Stage { kAfterPages, kBeforeMeta, kTornMeta, kMetaNotSynced };
  for (int stage = kAfterPages; stage <= kMetaNotSynced; ++stage) {
    std::vector<int64_t> page_stops = {-1};
    if (stage == kAfterPages) page_stops = {0, 1, 7, 40, 1000000};
    for (int64_t stop : page_stops) {
      CAPTURE(stage);
      CAPTURE(stop);
      std::string path = TempPath("crash.pages");
      Model a, b;
      {
        auto t = OpenTree(path);
        for (int i = 0; i < 3000; ++i) {
          std::string v = ValueOf(i, 100 + i % 200);
          REQUIRE(t->Put(KeyOf(i), v).ok());
          a[KeyStr(KeyOf(i))] = v;
        }
        REQUIRE(Checkpoint(t.get(), "A").ok());
        b = a;
        for (int i = 0; i < 1500; ++i) {
          REQUIRE(t->Delete(KeyOf(i * 2), nullptr).ok());
          b.erase(KeyStr(KeyOf(i * 2)));
          std::string v = ValueOf(i + 9000, 50);
          REQUIRE(t->Put(KeyOf(i + 9000), v).ok());
          b[KeyStr(KeyOf(i + 9000))] = v;
        }
        auto* hooks = static_cast<BTreeImpl*>(t.get())->TEST_hooks();
        hooks->stop_after_pages = stage == kAfterPages ? stop : -1;
        hooks->stop_before_meta = stage == kBeforeMeta;
        hooks->torn_meta = stage == kTornMeta;
        hooks->skip_meta_sync = stage == kMetaNotSynced;
        CHECK(Checkpoint(t.get(), "B").IsIOError());
        // The tree stays usable and a later checkpoint can succeed; but
        // here the process "crashes": the tree is dropped.
      }
      auto t = OpenTree(path);
      if (stage == kMetaNotSynced) {
        // The meta page reached the file: the new checkpoint is in force.
        ExpectEqual(t.get(), b);
        CHECK(t->committed_user_meta().substr(0, 1) == "B");
      } else {
        ExpectEqual(t.get(), a);
        CHECK(t->committed_user_meta().substr(0, 1) == "A");
      }
    }
  }
}

TEST_CASE("BTree: a failed checkpoint is retried by the next one") {
  std::string path = TempPath("retry.pages");
  Model m;
  {
    auto t = OpenTree(path);
    for (int i = 0; i < 2000; ++i) {
      REQUIRE(t->Put(KeyOf(i), ValueOf(i, 200)).ok());
      m[KeyStr(KeyOf(i))] = ValueOf(i, 200);
    }
    REQUIRE(Checkpoint(t.get()).ok());
    for (int i = 0; i < 1000; ++i) {
      REQUIRE(t->Delete(KeyOf(i), nullptr).ok());
      m.erase(KeyStr(KeyOf(i)));
    }
    auto* hooks = static_cast<BTreeImpl*>(t.get())->TEST_hooks();
    hooks->stop_after_pages = 3;
    CHECK(Checkpoint(t.get()).IsIOError());
    CHECK_FALSE(t->clean());
    // Changes made after the failure are part of the retry too.
    REQUIRE(t->Put(KeyOf(5000), "late").ok());
    m[KeyStr(KeyOf(5000))] = "late";
    hooks->stop_after_pages = -1;
    REQUIRE(Checkpoint(t.get()).ok());
    ExpectEqual(t.get(), m);
  }
  auto t = OpenTree(path);
  ExpectEqual(t.get(), m);
}

TEST_CASE("BTree: a flipped byte in a leaf makes Get report Corruption naming the file") {
  std::string path = TempPath("flip.pages");
  {
    auto t = OpenTree(path);
    for (int i = 0; i < 500; ++i) REQUIRE(t->Put(KeyOf(i), ValueOf(i, 200)).ok());
    REQUIRE(Checkpoint(t.get()).ok());
  }
  uint64_t pages = FileSize(path) / kPageSize;
  uint64_t leaf = 0;
  for (uint64_t p = 2; p < pages && leaf == 0; ++p) {
    if (ReadPage(path, p)[page::kTypeOffset] == page::kLeaf) leaf = p;
  }
  REQUIRE(leaf != 0);
  std::vector<uint8_t> bytes = ReadPage(path, leaf);
  TreeKey victim;
  std::memcpy(victim.bytes, bytes.data() + page::kHeaderSize, kTreeKeyBytes);
  uint8_t b = bytes[3000] ^ 0x01;
  PatchFile(path, leaf * kPageSize + 3000, &b, 1);
  auto t = OpenTree(path);
  std::string v;
  Status s = t->Get(victim, &v);
  CHECK(s.IsCorruption());
  CHECK(s.message().find(path) != std::string::npos);
  CHECK(s.message().find("page " + std::to_string(leaf) + " checksum mismatch") != std::string::npos);
  // Other leaves still answer.
  int ok = 0;
  for (int i = 0; i < 500; ++i) ok += t->Get(KeyOf(i), &v).ok();
  CHECK(ok > 400);
  // Puts through the bad page report it too, never follow it.
  CHECK(t->Put(victim, "x").IsCorruption());
}

TEST_CASE("BTree: both meta pages corrupt is Corruption naming the file") {
  std::string path = TempPath("metas.pages");
  {
    auto t = OpenTree(path);
    REQUIRE(t->Put(KeyOf(1), "x").ok());
    REQUIRE(Checkpoint(t.get()).ok());
  }
  uint8_t junk = 0xff;
  PatchFile(path, 100, &junk, 1);
  {
    // One bad meta (page 0 held generation 2): generation 1, the empty
    // tree of the new file, is used.
    auto t = OpenTree(path);
    std::string v;
    CHECK(t->Get(KeyOf(1), &v).IsNotFound());
  }
  PatchFile(path, kPageSize + 100, &junk, 1);
  std::unique_ptr<BTree> t;
  Status s = BTree::Open(path, BTreeOptions(), &t);
  CHECK(s.IsCorruption());
  CHECK(s.message().find(path) != std::string::npos);
}

TEST_CASE("BTree: a corrupt newest meta falls back to the previous checkpoint") {
  std::string path = TempPath("fallback.pages");
  {
    auto t = OpenTree(path);
    REQUIRE(t->Put(KeyOf(1), "first").ok());
    REQUIRE(Checkpoint(t.get()).ok());  // generation 2 -> page 0
    REQUIRE(t->Put(KeyOf(1), "second").ok());
    REQUIRE(Checkpoint(t.get()).ok());  // generation 3 -> page 1
  }
  uint8_t junk = 0x5a;
  PatchFile(path, kPageSize + 2000, &junk, 1);
  auto t = OpenTree(path);
  std::string v;
  REQUIRE(t->Get(KeyOf(1), &v).ok());
  CHECK(v == "first");
}

// Rewrites the version of both meta pages, re-sealing each with a valid
// checksum when `reseal` (a genuinely newer file) or leaving the old one
// (a flipped byte).
static void SetMetaVersion(const std::string& path, uint32_t version, bool reseal) {
  for (int slot = 0; slot < 2; ++slot) {
    uint8_t meta[kPageSize];
    int fd = ::open(path.c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    REQUIRE(::pread(fd, meta, kPageSize, slot * kPageSize) == ssize_t(kPageSize));
    EncodeFixed32(meta + page::kMetaVersionOffset, version);
    if (reseal) {
      EncodeFixed32(meta + page::kMetaCrcOffset,
                    crc32c::Mask(crc32c::Value(meta, page::kMetaCrcOffset)));
    }
    REQUIRE(::pwrite(fd, meta, kPageSize, slot * kPageSize) == ssize_t(kPageSize));
    ::close(fd);
  }
}

TEST_CASE("BTree: a newer format version is NotSupported") {
  std::string path = TempPath("version.pages");
  { auto t = OpenTree(path); }
  SetMetaVersion(path, page::kFormatVersion + 1, /*reseal=*/true);
  std::unique_ptr<BTree> t;
  Status s = BTree::Open(path, BTreeOptions(), &t);
  CHECK(s.IsNotSupported());
  CHECK(s.message().find(path) != std::string::npos);
}

TEST_CASE("BTree: a flipped version byte is Corruption, not a newer format") {
  std::string path = TempPath("version-flip.pages");
  { auto t = OpenTree(path); }
  SetMetaVersion(path, page::kFormatVersion + 1, /*reseal=*/false);
  std::unique_ptr<BTree> t;
  Status s = BTree::Open(path, BTreeOptions(), &t);
  CHECK(s.IsCorruption());
  CHECK(s.message().find(path) != std::string::npos);
}

TEST_CASE("BTree: a truncated file is Corruption") {
  std::string path = TempPath("trunc.pages");
  {
    auto t = OpenTree(path);
    for (int i = 0; i < 2000; ++i) REQUIRE(t->Put(KeyOf(i), ValueOf(i, 300)).ok());
    REQUIRE(Checkpoint(t.get()).ok());
  }
  REQUIRE(::truncate(path.c_str(), static_cast<off_t>(FileSize(path) / 2)) == 0);
  std::unique_ptr<BTree> t;
  Status s = BTree::Open(path, BTreeOptions(), &t);
  CHECK(s.IsCorruption());
  CHECK(s.message().find(path) != std::string::npos);
  CHECK(s.message().find("truncated") != std::string::npos);
  // A file cut inside the meta pages cannot be read either.
  REQUIRE(::truncate(path.c_str(), 100) == 0);
  CHECK(BTree::Open(path, BTreeOptions(), &t).IsCorruption());
}

TEST_CASE("BTree: Scan visits every key in order in batches and survives deletes between them") {
  std::string path = TempPath("scan.pages");
  auto t = OpenTree(path);
  Model m;
  for (int i = 0; i < 20000; ++i) {
    REQUIRE(t->Put(KeyOf(i), ValueOf(i, 40)).ok());
    m[KeyStr(KeyOf(i))] = ValueOf(i, 40);
  }
  REQUIRE(Checkpoint(t.get()).ok());
  // Batches of 100; after each batch delete every key it visited with an
  // even index, plus a key further on.
  std::vector<std::string> visited;
  TreeKey last;
  bool done = false, first = true;
  size_t batches = 0;
  Model remaining = m;
  std::mt19937 rng(7);
  while (!done) {
    std::vector<std::string> batch;
    REQUIRE(t->Scan(first ? nullptr : &last, 100,
                    [&](const TreeKey& k, std::string_view v) {
                      CHECK(m.at(KeyStr(k)) == v);
                      batch.push_back(KeyStr(k));
                      return true;
                    },
                    &last, &done)
                .ok());
    first = false;
    ++batches;
    CHECK(batch.size() <= 100);
    for (size_t i = 0; i < batch.size(); ++i) {
      visited.push_back(batch[i]);
      if (i % 2 == 0) {
        REQUIRE(t->Delete(FromStr(batch[i]), nullptr).ok());
        remaining.erase(batch[i]);
      }
    }
    auto ahead = remaining.upper_bound(KeyStr(last));
    if (ahead != remaining.end() && rng() % 2) {
      // A deleted key ahead is simply not visited.
      m.erase(ahead->first);
      REQUIRE(t->Delete(FromStr(ahead->first), nullptr).ok());
      remaining.erase(ahead);
    }
  }
  CHECK(batches >= 150);
  std::vector<std::string> expect;
  for (const auto& kv : m) expect.push_back(kv.first);
  CHECK(visited == expect);
  ExpectEqual(t.get(), remaining);
  // fn returning false stops early.
  size_t n = 0;
  REQUIRE(t->Scan(nullptr, 1000, [&](const TreeKey&, std::string_view) { return ++n < 3; }, &last,
                  &done)
              .ok());
  CHECK(n == 3);
  CHECK_FALSE(done);
}

TEST_CASE("BTree: create/delete churn reuses freed pages and does not grow the file") {
  std::string path = TempPath("churn.pages");
  auto t = OpenTree(path);
  const int kRecords = 40000;
  const int kOpsPerCheckpoint = 5000;
  int ops = 0;
  // The load runs with the same checkpoint cadence as the churn.
  for (int i = 0; i < kRecords; ++i) {
    REQUIRE(t->Put(KeyOf(i), ValueOf(i, 330)).ok());
    if (++ops % kOpsPerCheckpoint == 0) REQUIRE(Checkpoint(t.get()).ok());
  }
  REQUIRE(Checkpoint(t.get()).ok());
  const uint64_t base = FileSize(path);
  uint64_t peak = base;
  for (int c = 0; c < 200000; ++c) {
    REQUIRE(t->Put(KeyOf(kRecords + c), ValueOf(c, 330)).ok());
    bool existed;
    REQUIRE(t->Delete(KeyOf(c), &existed).ok());
    REQUIRE(existed);
    ops += 2;
    if (ops % kOpsPerCheckpoint == 0) {
      REQUIRE(Checkpoint(t.get()).ok());
      peak = std::max(peak, FileSize(path));
    }
  }
  REQUIRE(Checkpoint(t.get()).ok());
  peak = std::max(peak, FileSize(path));
  MESSAGE("churn: 40k-record file " << base << " bytes, peak " << peak << " bytes ("
                                     << double(peak) / base << "x)");
  CHECK(peak <= base * 3 / 2);
  CHECK(t->GetStats().records == kRecords);
}

TEST_CASE("BTree: free pages at the end of the file are given back by the next checkpoints") {
  std::string path = TempPath("shrink.pages");
  Model m;
  {
    auto t = OpenTree(path);
    for (int i = 0; i < 20000; ++i) {
      REQUIRE(t->Put(KeyOf(i), ValueOf(i, 300)).ok());
      m[KeyStr(KeyOf(i))] = ValueOf(i, 300);
    }
    REQUIRE(Checkpoint(t.get()).ok());
    const uint64_t full = FileSize(path);
    for (int i = 0; i < 19000; ++i) {
      REQUIRE(t->Delete(KeyOf(i), nullptr).ok());
      m.erase(KeyStr(KeyOf(i)));
    }
    // Pages freed by the deletes become reusable when the first checkpoint
    // commits; the next ones move the live pages down and cut the tail.
    for (int c = 0; c < 4; ++c) {
      for (const auto& kv : m) REQUIRE(t->Put(FromStr(kv.first), kv.second + "x").ok());
      for (auto& kv : m) kv.second += "x";
      REQUIRE(Checkpoint(t.get()).ok());
    }
    const uint64_t after = FileSize(path);
    MESSAGE("20k records: " << full << " bytes; 1k records: " << after << " bytes");
    CHECK(after * 4 < full);
    CHECK(after == t->GetStats().pages_total * kPageSize);
    ExpectEqual(t.get(), m);
  }
  auto t = OpenTree(path);
  ExpectEqual(t.get(), m);
}

TEST_CASE("BTree: eviction of clean pages is not held up by many dirty pages") {
  std::string path = TempPath("evict.pages");
  const size_t kCache = 1 << 20;  // 256 pages
  auto t = OpenTree(path, kCache);
  for (int i = 0; i < 20000; ++i) REQUIRE(t->Put(KeyOf(i), ValueOf(i, 100)).ok());
  REQUIRE(Checkpoint(t.get()).ok());
  // Dirty pages past the budget (they cannot be evicted), then reads of
  // clean ones: the cache holds the dirty pages plus a handful of clean
  // ones, never all the pages read.
  for (int i = 0; i < 2000; ++i) REQUIRE(t->Put(KeyOf(i), ValueOf(i + 1, 100)).ok());
  const uint64_t dirty = t->GetStats().dirty_pages;
  REQUIRE(dirty * kPageSize > kCache);
  std::string v;
  for (int i = 2000; i < 20000; ++i) REQUIRE(t->Get(KeyOf(i), &v).ok());
  BTreeStats st = t->GetStats();
  CHECK(st.cache_bytes <= (dirty + 16) * kPageSize);
  REQUIRE(Checkpoint(t.get()).ok());
  for (int i = 0; i < 20000; ++i) {
    REQUIRE(t->Get(KeyOf(i), &v).ok());
    CHECK(v == ValueOf(i < 2000 ? i + 1 : i, 100));
  }
  CHECK(t->GetStats().cache_bytes <= kCache + 16 * kPageSize);
}

TEST_CASE("BTree: 1M records with a 16 MB cache keep the cache bounded") {
  std::string path = TempPath("million.pages");
  const size_t kCache = 16 << 20;
  auto t = OpenTree(path, kCache);
  uint64_t max_cache = 0;
  auto maybe_checkpoint = [&] {
    BTreeStats st = t->GetStats();
    max_cache = std::max(max_cache, st.cache_bytes);
    if (st.dirty_pages * kPageSize > kCache / 2) REQUIRE(Checkpoint(t.get()).ok());
  };
  const int kN = 1000000;
  for (int i = 0; i < kN; ++i) {
    // Ascending keys (big-endian counter): the random-key case is below.
    TreeKey k{};
    for (int b = 0; b < 8; ++b) k.bytes[b] = static_cast<uint8_t>(uint64_t(i) >> (56 - 8 * b));
    REQUIRE(t->Put(k, ValueOf(i, 24)).ok());
    if (i % 64 == 0) maybe_checkpoint();
  }
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50000; ++i) {
    int j = static_cast<int>(rng() % kN);
    TreeKey k{};
    for (int b = 0; b < 8; ++b) k.bytes[b] = static_cast<uint8_t>(uint64_t(j) >> (56 - 8 * b));
    if (i % 2) {
      REQUIRE(t->Put(k, ValueOf(j + 7, 24)).ok());
    } else {
      std::string v;
      Status s = t->Get(k, &v);
      REQUIRE(s.ok());
    }
    if (i % 16 == 0) maybe_checkpoint();
  }
  REQUIRE(Checkpoint(t.get()).ok());
  BTreeStats st = t->GetStats();
  MESSAGE("1M records: file " << st.file_bytes << " bytes, max cache " << max_cache);
  CHECK(st.records == kN);
  // The budget plus the pages one operation may touch before evicting.
  CHECK(max_cache <= kCache + 64 * kPageSize);
}

TEST_CASE("BTree: WriteCheckpoint runs concurrently with Puts, Gets and Deletes") {
  std::string path = TempPath("concurrent.pages");
  auto t = OpenTree(path, 4 << 20);
  std::mutex mu;
  Model model, at_last_checkpoint;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::mt19937_64 rng(11);
    std::string v;
    for (int i = 0; !stop.load() || i < 20000; ++i) {
      std::lock_guard<std::mutex> l(mu);
      uint64_t r = rng() % 3000;
      if (rng() % 4 == 0) {
        REQUIRE(t->Delete(KeyOf(r), nullptr).ok());
        model.erase(KeyStr(KeyOf(r)));
      } else if (rng() % 3 == 0) {
        Status s = t->Get(KeyOf(r), &v);
        REQUIRE((s.ok() || s.IsNotFound()));
        CHECK(s.ok() == (model.count(KeyStr(KeyOf(r))) == 1));
      } else {
        std::string val = ValueOf(i, 20 + r % 300);
        REQUIRE(t->Put(KeyOf(r), val).ok());
        model[KeyStr(KeyOf(r))] = val;
      }
      if (i > 200000) break;
    }
  });
  for (int c = 0; c < 40; ++c) {
    std::unique_ptr<CheckpointSnapshot> snap;
    Model snapshot_model;
    {
      std::lock_guard<std::mutex> l(mu);
      REQUIRE(t->BeginCheckpoint("c", &snap).ok());
      snapshot_model = model;
    }
    Status s = t->WriteCheckpoint(snap.get());
    REQUIRE(s.ok());
    {
      std::lock_guard<std::mutex> l(mu);
      t->FinishCheckpoint(std::move(snap), s);
      at_last_checkpoint = snapshot_model;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  writer.join();
  ExpectEqual(t.get(), model);
  t.reset();
  t = OpenTree(path);
  ExpectEqual(t.get(), at_last_checkpoint);
}

// ---------------------------------------------------------------- vacuum

std::unique_ptr<BTree> OpenTreeWith(const std::string& path, const BTreeOptions& o) {
  std::unique_ptr<BTree> t;
  Status s = BTree::Open(path, o, &t);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return t;
}

BTreeOptions NoVacuum() {
  BTreeOptions o;
  o.vacuum_pages_per_checkpoint = 0;
  o.vacuum_on_close = false;
  return o;
}

struct MetaInfo {
  bool valid = false;
  uint64_t generation = 0;
  uint32_t page_count = 0;
};

MetaInfo ReadMetaInfo(const std::string& path, int slot) {
  std::vector<uint8_t> m = ReadPage(path, slot);
  MetaInfo info;
  info.valid = std::memcmp(m.data(), page::kMagic, 8) == 0 &&
               crc32c::Unmask(DecodeFixed32(m.data() + page::kMetaCrcOffset)) ==
                   crc32c::Value(m.data(), page::kMetaCrcOffset);
  info.generation = DecodeFixed64(m.data() + page::kMetaGenerationOffset);
  info.page_count = DecodeFixed32(m.data() + page::kMetaPageCountOffset);
  return info;
}

// The file holds every page either meta page on disk references.
void ExpectFileCoversBothMetas(const std::string& path) {
  for (int slot = 0; slot < 2; ++slot) {
    MetaInfo mi = ReadMetaInfo(path, slot);
    if (mi.valid) CHECK(uint64_t{mi.page_count} * kPageSize <= FileSize(path));
  }
}

// n records, then 3 of every 4 deleted (so that free pages are spread over
// the whole file), with the vacuum off: a fragmented file, closed.
Model Fragmented(const std::string& path, int n) {
  Model m;
  auto t = OpenTreeWith(path, NoVacuum());
  for (int i = 0; i < n; ++i) {
    std::string v = ValueOf(i, 150 + i % 200);
    REQUIRE(t->Put(KeyOf(i), v).ok());
    m[KeyStr(KeyOf(i))] = v;
  }
  REQUIRE(Checkpoint(t.get(), "U1").ok());
  for (int i = 0; i < n; ++i) {
    if (i % 4 == 0) continue;
    REQUIRE(t->Delete(KeyOf(i), nullptr).ok());
    m.erase(KeyStr(KeyOf(i)));
  }
  REQUIRE(Checkpoint(t.get(), "U1").ok());
  REQUIRE(Checkpoint(t.get(), "U1").ok());  // the deletes' pages reusable
  return m;
}

TEST_CASE("BTree: Close moves the pages at the end of the file into free pages and cuts the file") {
  std::string path = TempPath("vacuum.pages");
  Model m = Fragmented(path, 20000);
  const uint64_t before = FileSize(path);
  {
    auto t = OpenTree(path);
    CHECK(t->GetStats().pages_free * 2 > t->GetStats().pages_total);
    REQUIRE(t->Close().ok());
    BTreeStats st = t->GetStats();
    CHECK(st.pages_relocated > 0);
    CHECK(st.pages_free <= 8);
    CHECK(FileSize(path) == st.pages_total * kPageSize);
    CHECK(t->committed_user_meta().substr(0, 2) == "U1");
    ExpectEqual(t.get(), m);
    // Again: the compaction may find a run or two more to pack, but the
    // file never grows and nothing is lost.
    const uint64_t size1 = FileSize(path);
    REQUIRE(t->Close().ok());
    CHECK(FileSize(path) <= size1);
    ExpectEqual(t.get(), m);
  }
  const uint64_t after = FileSize(path);
  MESSAGE("vacuum at close: " << before << " -> " << after << " bytes");
  CHECK(after * 2 < before);
  // Both meta pages now describe the short file.
  for (int slot = 0; slot < 2; ++slot) {
    MetaInfo mi = ReadMetaInfo(path, slot);
    CHECK(mi.valid);
    CHECK(uint64_t{mi.page_count} * kPageSize == after);
  }
  auto t = OpenTreeWith(path, NoVacuum());
  ExpectEqual(t.get(), m);
  CHECK(t->GetStats().pages_free <= 8);
}

TEST_CASE("BTree: Close packs the leaves: a tree of inserts closes to fewer pages") {
  std::string path = TempPath("compact.pages");
  Model m;
  uint64_t loose;
  {
    auto t = OpenTreeWith(path, NoVacuum());
    for (int i = 0; i < 20000; ++i) {
      std::string v = ValueOf(i, 333);
      REQUIRE(t->Put(KeyOf(i), v).ok());
      m[KeyStr(KeyOf(i))] = v;
    }
    REQUIRE(Checkpoint(t.get(), "U4").ok());
    loose = FileSize(path);
  }
  {
    BTreeOptions o;
    o.compact_on_close = false;
    REQUIRE(OpenTreeWith(path, o)->Close().ok());
  }
  const uint64_t vacuumed = FileSize(path);
  { REQUIRE(OpenTree(path)->Close().ok()); }
  const uint64_t packed = FileSize(path);
  MESSAGE("20k x 333 B: " << loose << " bytes, vacuumed " << vacuumed << ", packed " << packed);
  // 353-byte cells: 11 fit in a leaf; inserts leave ~9.8.
  CHECK(packed * 100 < vacuumed * 95);
  CHECK(packed < (20000 / 10 + 40) * kPageSize);
  ExpectFileCoversBothMetas(path);
  auto t = OpenTreeWith(path, NoVacuum());
  ExpectEqual(t.get(), m);
  CHECK(t->committed_user_meta().substr(0, 2) == "U4");
  // Inserts into the packed leaves split them as usual.
  for (int i = 20000; i < 24000; ++i) {
    std::string v = ValueOf(i, 333);
    REQUIRE(t->Put(KeyOf(i), v).ok());
    m[KeyStr(KeyOf(i))] = v;
  }
  ExpectEqual(t.get(), m);
}

TEST_CASE("BTree: after a vacuum the older meta page still opens with everything") {
  std::string path = TempPath("vacuum_fallback.pages");
  Model m = Fragmented(path, 8000);
  { REQUIRE(OpenTree(path)->Close().ok()); }
  MetaInfo a = ReadMetaInfo(path, 0), b = ReadMetaInfo(path, 1);
  REQUIRE((a.valid && b.valid));
  const int newest = a.generation > b.generation ? 0 : 1;
  uint8_t junk = 0x5a;
  PatchFile(path, newest * kPageSize + 2000, &junk, 1);
  auto t = OpenTreeWith(path, NoVacuum());
  ExpectEqual(t.get(), m);
  CHECK(t->committed_user_meta().substr(0, 2) == "U1");
}

TEST_CASE("BTree: a crash at every step of the close vacuum loses nothing and opens") {
  enum Stage { kAfterPages0, kAfterPages3, kBeforeMeta, kTornMeta, kMetaNotSynced, kBeforeTruncate };
  for (int stage = kAfterPages0; stage <= kBeforeTruncate; ++stage) {
    for (int k = 0;; ++k) {
      CAPTURE(stage);
      CAPTURE(k);
      REQUIRE(k < 40);
      std::string path = TempPath("vacuum_crash.pages");
      Model m = Fragmented(path, 6000);
      bool crashed;
      {
        auto t = OpenTree(path);
        auto* hooks = static_cast<BTreeImpl*>(t.get())->TEST_hooks();
        hooks->delay_checkpoints = k;
        hooks->stop_after_pages = stage == kAfterPages0 ? 0 : stage == kAfterPages3 ? 3 : -1;
        hooks->stop_before_meta = stage == kBeforeMeta;
        hooks->torn_meta = stage == kTornMeta;
        hooks->skip_meta_sync = stage == kMetaNotSynced;
        hooks->stop_before_truncate = stage == kBeforeTruncate;
        Status s = t->Close();
        crashed = !s.ok();
        if (crashed) {
          CHECK(s.IsIOError());
          CHECK_FALSE(t->clean());  // so the destructor does not vacuum
        } else {
          CHECK(hooks->delay_checkpoints.load() >= 0);
          hooks->stop_after_pages = -1;
          hooks->stop_before_meta = hooks->torn_meta = hooks->skip_meta_sync = false;
          hooks->stop_before_truncate = false;
        }
      }  // the process "crashes": the tree is dropped
      ExpectFileCoversBothMetas(path);
      auto t = OpenTreeWith(path, NoVacuum());
      ExpectEqual(t.get(), m);
      CHECK(t->committed_user_meta().substr(0, 2) == "U1");
      ExpectFileCoversBothMetas(path);
      if (!crashed) break;  // the vacuum took fewer than k + 1 checkpoints
    }
  }
}

TEST_CASE("BTree: a flipped byte in a relocated page is still Corruption") {
  std::string path = TempPath("vacuum_flip.pages");
  Model m = Fragmented(path, 12000);
  TreeKey victim;
  uint32_t from = 0, to = 0;
  {
    auto t = OpenTreeWith(path, NoVacuum());
    for (const auto& kv : m) {
      uint32_t pg;
      REQUIRE(static_cast<BTreeImpl*>(t.get())->TEST_LeafOf(FromStr(kv.first), &pg).ok());
      if (pg > from) from = pg, victim = FromStr(kv.first);
    }
  }
  {
    auto t = OpenTree(path);
    REQUIRE(t->Close().ok());
    REQUIRE(static_cast<BTreeImpl*>(t.get())->TEST_LeafOf(victim, &to).ok());
  }
  CHECK(to < from);  // the leaf was moved down
  std::vector<uint8_t> page = ReadPage(path, to);
  uint8_t b = page[3000] ^ 0x01;
  PatchFile(path, uint64_t{to} * kPageSize + 3000, &b, 1);
  auto t = OpenTreeWith(path, NoVacuum());
  std::string v;
  Status s = t->Get(victim, &v);
  CHECK(s.IsCorruption());
  CHECK(s.ToString().find(path) != std::string::npos);
  CHECK(s.ToString().find("page " + std::to_string(to)) != std::string::npos);
}

TEST_CASE("BTree: a corrupt page the vacuum must move is reported, not followed or lost") {
  std::string path = TempPath("vacuum_corrupt.pages");
  Model m = Fragmented(path, 8000);
  // The highest tree page: the vacuum reads it first.
  uint32_t top = 0;
  TreeKey victim;
  {
    auto t = OpenTreeWith(path, NoVacuum());
    for (const auto& kv : m) {
      uint32_t pg;
      REQUIRE(static_cast<BTreeImpl*>(t.get())->TEST_LeafOf(FromStr(kv.first), &pg).ok());
      if (pg > top) top = pg, victim = FromStr(kv.first);
    }
  }
  uint8_t b = ReadPage(path, top)[2500] ^ 0x10;
  PatchFile(path, uint64_t{top} * kPageSize + 2500, &b, 1);
  {
    auto t = OpenTree(path);
    Status s = t->Close();
    CHECK(s.IsCorruption());
    CHECK(s.ToString().find("page " + std::to_string(top)) != std::string::npos);
  }
  auto t = OpenTreeWith(path, NoVacuum());
  std::string v;
  CHECK(t->Get(victim, &v).IsCorruption());
  // Every record outside the damaged leaf is still there.
  int ok = 0, damaged = 0;
  for (const auto& kv : m) {
    uint32_t pg;
    if (static_cast<BTreeImpl*>(t.get())->TEST_LeafOf(FromStr(kv.first), &pg).IsCorruption()) {
      ++damaged;  // in the damaged leaf
      continue;
    }
    REQUIRE(t->Get(FromStr(kv.first), &v).ok());
    CHECK(v == kv.second);
    ++ok;
  }
  CHECK(damaged > 0);
  CHECK(ok + damaged == static_cast<int>(m.size()));
}

TEST_CASE("BTree: checkpoints vacuum at most vacuum_pages_per_checkpoint pages each and shrink the file") {
  std::string path = TempPath("vacuum_periodic.pages");
  Model m = Fragmented(path, 20000);
  const uint64_t before = FileSize(path);
  BTreeOptions o;
  o.vacuum_pages_per_checkpoint = 50;
  o.vacuum_on_close = false;
  auto t = OpenTreeWith(path, o);
  uint64_t prev = 0;
  int checkpoints = 0;
  for (int c = 0; c < 400; ++c) {
    // A little traffic between checkpoints, as a store has.
    for (int j = 0; j < 8; ++j) {
      const uint64_t i = static_cast<uint64_t>(c * 8 + j) * 4 % 20000;
      std::string v = ValueOf(i + 77, 150 + i % 200);
      REQUIRE(t->Put(KeyOf(i), v).ok());
      m[KeyStr(KeyOf(i))] = v;
    }
    REQUIRE(Checkpoint(t.get(), "U2").ok());
    ++checkpoints;
    const uint64_t moved = t->GetStats().pages_relocated;
    CHECK(moved - prev <= 50);
    if (moved == prev && c > 10) break;  // nothing more worth moving
    prev = moved;
  }
  BTreeStats st = t->GetStats();
  const uint64_t tree = t->tree_pages();
  MESSAGE("periodic vacuum: " << before << " -> " << FileSize(path) << " bytes after "
                              << checkpoints << " checkpoints, " << st.pages_relocated
                              << " pages moved; tree " << tree << " pages");
  CHECK(st.pages_relocated > 50);
  CHECK(FileSize(path) * 3 < before * 2);
  // Headroom kept for copy-on-write: twice the pages of an interval (here
  // an eighth of the tree) and 64 pages.
  CHECK(st.pages_total <= page::kMetaPages + tree + tree / 4 + 64 + 64);
  ExpectEqual(t.get(), m);
  ExpectFileCoversBothMetas(path);
  t.reset();
  t = OpenTreeWith(path, NoVacuum());
  ExpectEqual(t.get(), m);
}

TEST_CASE("BTree: a checkpoint's vacuum reads at most 64 pages from disk") {
  std::string path = TempPath("vacuum_reads.pages");
  Model m = Fragmented(path, 20000);
  BTreeOptions o;
  o.vacuum_pages_per_checkpoint = 100000;
  o.vacuum_on_close = false;
  auto t = OpenTreeWith(path, o);  // nothing cached: every page to move is on disk
  REQUIRE(Checkpoint(t.get(), "U3").ok());
  const uint64_t first = t->GetStats().pages_relocated;
  CHECK(first > 0);
  CHECK(first <= 64);
  REQUIRE(Checkpoint(t.get(), "U3").ok());
  CHECK(t->GetStats().pages_relocated - first <= 64);
  ExpectEqual(t.get(), m);
}

TEST_CASE("BTree: Relocate moves dirty pages too, and the tree stays consistent") {
  std::string path = TempPath("vacuum_dirty.pages");
  auto t = OpenTreeWith(path, NoVacuum());
  auto* impl = static_cast<BTreeImpl*>(t.get());
  Model m;
  for (int i = 0; i < 6000; ++i) {
    std::string v = ValueOf(i, 300);
    REQUIRE(t->Put(KeyOf(i), v).ok());
    m[KeyStr(KeyOf(i))] = v;
  }
  REQUIRE(Checkpoint(t.get()).ok());
  // New (dirty) pages at the end of the file, then holes among them: the
  // pages of deleted dirty records are free at once.
  for (int i = 6000; i < 12000; ++i) {
    std::string v = ValueOf(i, 300);
    REQUIRE(t->Put(KeyOf(i), v).ok());
    m[KeyStr(KeyOf(i))] = v;
  }
  const uint64_t grown = t->GetStats().pages_total;
  for (int i = 6000; i < 12000; ++i) {
    if (i % 4 == 0) continue;
    REQUIRE(t->Delete(KeyOf(i), nullptr).ok());
    m.erase(KeyStr(KeyOf(i)));
  }
  size_t moved;
  REQUIRE(impl->Relocate(page::kMetaPages + static_cast<uint32_t>(t->tree_pages()), 1000000, &moved).ok());
  CHECK(moved > 0);
  ExpectEqual(t.get(), m);
  // Rounds as Close does them: moves, then a checkpoint makes their old
  // numbers reusable.
  for (int c = 0; c < 4; ++c) {
    REQUIRE(impl->Relocate(page::kMetaPages + static_cast<uint32_t>(t->tree_pages()), 1000000, &moved).ok());
    REQUIRE(Checkpoint(t.get()).ok());
  }
  const uint64_t tree = t->tree_pages();
  MESSAGE("relocate: " << grown << " pages -> " << t->GetStats().pages_total << ", tree " << tree);
  CHECK(t->GetStats().pages_total <= page::kMetaPages + tree + 8);
  ExpectFileCoversBothMetas(path);
  t.reset();
  t = OpenTreeWith(path, NoVacuum());
  ExpectEqual(t.get(), m);
}

TEST_CASE("BTree: Open reads the free list without caching it: its pages are reused after a checkpoint") {
  std::string path = TempPath("freelist_cache.pages");
  Model m = Fragmented(path, 6000);
  auto t = OpenTreeWith(path, NoVacuum());
  // A cached free-list page would still be resident when its number is
  // handed out again (two pages under one number).
  CHECK(t->GetStats().cache_bytes == 0);
  for (int round = 0; round < 6; ++round) {
    for (int j = 0; j < 300; ++j) {
      const uint64_t i = 100000 + round * 300 + j;
      std::string v = ValueOf(i, 200);
      REQUIRE(t->Put(KeyOf(i), v).ok());
      m[KeyStr(KeyOf(i))] = v;
    }
    REQUIRE(Checkpoint(t.get()).ok());
  }
  ExpectEqual(t.get(), m);
  t.reset();
  t = OpenTreeWith(path, NoVacuum());
  ExpectEqual(t.get(), m);
}

}  // namespace
}  // namespace crudjt
