// btree_bench: in-cache speed of Get / Put (overwrite, insert) / Delete and
// the file footprint, for 40k and 1M records of random 16-byte keys; the
// churn bound; the full vacuum of Close() after deleting 3 of 4 records.
//
//   btree_bench [value_bytes=320] [dir=/tmp]
//
// Reports ns/op of thread CPU time over every operation of a phase (one
// thread), and the wall time of the Get phase.
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "btree/btree.h"
#include "btree/btree_impl.h"

using namespace crudjt;

namespace {

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

TreeKey KeyOf(uint64_t i) {
  TreeKey k;
  uint64_t a = Mix(i), b = Mix(i ^ 0xabcdef);
  std::memcpy(k.bytes, &a, 8);
  std::memcpy(k.bytes + 8, &b, 8);
  return k;
}

// Thread CPU time: the machine this runs on is shared, and wall time then
// measures the neighbours. Wall time of the whole run is printed too.
double Now() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
double Wall() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void Die(const Status& s) {
  std::fprintf(stderr, "%s\n", s.ToString().c_str());
  std::exit(1);
}

Status Checkpoint(BTree* t) {
  std::unique_ptr<CheckpointSnapshot> snap;
  Status s = t->BeginCheckpoint({}, &snap);
  if (!s.ok()) return s;
  s = t->WriteCheckpoint(snap.get());
  t->FinishCheckpoint(std::move(snap), s);
  return s;
}

void Run(const std::string& dir, uint64_t n, size_t value_bytes) {
  std::string path = dir + "/btree_bench_" + std::to_string(n) + ".pages";
  ::unlink(path.c_str());
  std::unique_ptr<BTree> t;
  BTreeOptions o;
  o.page_cache_bytes = size_t{4} << 30;  // in-cache figures
  Status s = BTree::Open(path, o, &t);
  if (!s.ok()) Die(s);
  std::string value(value_bytes, 'v');
  std::vector<uint64_t> order(n);
  for (uint64_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(1);
  std::shuffle(order.begin(), order.end(), rng);

  double t0 = Now();
  for (uint64_t i = 0; i < n; ++i) {
    value[0] = char(i);
    if (!(s = t->Put(KeyOf(i), value)).ok()) Die(s);
  }
  double insert_ns = (Now() - t0) * 1e9 / n;
  if (!(s = Checkpoint(t.get())).ok()) Die(s);
  struct stat st;
  ::stat(path.c_str(), &st);
  BTreeImpl::Shape shape;
  if (!(s = static_cast<BTreeImpl*>(t.get())->TEST_Check(&shape)).ok()) Die(s);

  std::string out;
  double w0 = Wall();
  t0 = Now();
  for (uint64_t i = 0; i < n; ++i) {
    if (!(s = t->Get(KeyOf(order[i]), &out)).ok()) Die(s);
  }
  double get_ns = (Now() - t0) * 1e9 / n;
  double get_wall_ns = (Wall() - w0) * 1e9 / n;

  // Overwrite after a checkpoint: the first touch of each page copies it.
  t0 = Now();
  for (uint64_t i = 0; i < n; ++i) {
    value[1] = char(i + 1);
    if (!(s = t->Put(KeyOf(order[i]), value)).ok()) Die(s);
  }
  double overwrite_ns = (Now() - t0) * 1e9 / n;

  // Overwrite again: pages already dirty.
  t0 = Now();
  for (uint64_t i = 0; i < n; ++i) {
    value[1] = char(i + 2);
    if (!(s = t->Put(KeyOf(order[i]), value)).ok()) Die(s);
  }
  double overwrite_dirty_ns = (Now() - t0) * 1e9 / n;

  if (!(s = Checkpoint(t.get())).ok()) Die(s);
  // Inserts into the full tree, then deletes of the same keys.
  uint64_t extra = n / 10;
  t0 = Now();
  for (uint64_t i = 0; i < extra; ++i) {
    if (!(s = t->Put(KeyOf(n + i), value)).ok()) Die(s);
  }
  double insert_full_ns = (Now() - t0) * 1e9 / extra;
  t0 = Now();
  for (uint64_t i = 0; i < extra; ++i) {
    if (!(s = t->Delete(KeyOf(n + i), nullptr)).ok()) Die(s);
  }
  double delete_ns = (Now() - t0) * 1e9 / extra;

  t0 = Now();
  if (!(s = Checkpoint(t.get())).ok()) Die(s);
  double ckpt_ms = (Now() - t0) * 1e3;

  std::printf(
      "%8llu records x %zu-byte values: file %.2f MB (%llu leaves, %.1f%% leaf fill, height %d)\n"
      "   insert (load)        %7.0f ns/op\n"
      "   get                  %7.0f ns/op (wall %.0f)\n"
      "   overwrite (1st COW)  %7.0f ns/op\n"
      "   overwrite (dirty)    %7.0f ns/op\n"
      "   insert (+10%%)        %7.0f ns/op\n"
      "   delete               %7.0f ns/op\n"
      "   checkpoint of a fully dirty tree %.0f ms\n",
      (unsigned long long)n, value_bytes, st.st_size / 1048576.0, (unsigned long long)shape.leaves,
      100.0 * shape.leaf_bytes / (shape.leaves * (kPageSize - 16.0)), shape.height, insert_ns,
      get_ns, get_wall_ns, overwrite_ns, overwrite_dirty_ns, insert_full_ns, delete_ns, ckpt_ms);
  t.reset();
  ::unlink(path.c_str());
}

// Churn: 40k records of 330-byte values loaded with one checkpoint at the
// end, then 200k cycles of insert-new + delete-old with a checkpoint every
// 5,000 operations. Prints the file size after the load and the peak.
void Churn(const std::string& dir) {
  std::string path = dir + "/btree_bench_churn.pages";
  ::unlink(path.c_str());
  std::unique_ptr<BTree> t;
  Status s = BTree::Open(path, BTreeOptions(), &t);
  if (!s.ok()) Die(s);
  std::string value(330, 'c');
  for (uint64_t i = 0; i < 40000; ++i) {
    if (!(s = t->Put(KeyOf(i), value)).ok()) Die(s);
  }
  if (!(s = Checkpoint(t.get())).ok()) Die(s);
  struct stat st;
  ::stat(path.c_str(), &st);
  const double base = st.st_size;
  double peak = base;
  for (uint64_t c = 0; c < 200000; ++c) {
    if (!(s = t->Put(KeyOf(40000 + c), value)).ok()) Die(s);
    if (!(s = t->Delete(KeyOf(c), nullptr)).ok()) Die(s);
    if ((2 * c + 2) % 5000 == 0) {
      if (!(s = Checkpoint(t.get())).ok()) Die(s);
      ::stat(path.c_str(), &st);
      peak = std::max<double>(peak, st.st_size);
    }
  }
  double w0 = Wall();
  if (!(s = t->Close()).ok()) Die(s);
  double close_ms = (Wall() - w0) * 1e3;
  ::stat(path.c_str(), &st);
  std::printf("churn: 40k x 330 B loaded with one checkpoint: %.2f MB; peak over 200k cycles: %.2f MB (%.2fx); "
              "after Close (vacuum, %.0f ms): %.2f MB\n",
              base / 1048576, peak / 1048576, peak / base, close_ms, st.st_size / 1048576.0);
  t.reset();
  ::unlink(path.c_str());
}

// Vacuum: n records, 3 of every 4 deleted with the vacuum off (free pages
// spread over the file), then a reopen and Close(): the full vacuum.
void Vacuum(const std::string& dir, uint64_t n, size_t value_bytes) {
  std::string path = dir + "/btree_bench_vacuum.pages";
  ::unlink(path.c_str());
  std::unique_ptr<BTree> t;
  BTreeOptions off;
  off.vacuum_pages_per_checkpoint = 0;
  off.vacuum_on_close = false;
  Status s = BTree::Open(path, off, &t);
  if (!s.ok()) Die(s);
  std::string value(value_bytes, 'v');
  for (uint64_t i = 0; i < n; ++i) {
    if (!(s = t->Put(KeyOf(i), value)).ok()) Die(s);
  }
  if (!(s = Checkpoint(t.get())).ok()) Die(s);
  for (uint64_t i = 0; i < n; ++i) {
    if (i % 4 != 0 && !(s = t->Delete(KeyOf(i), nullptr)).ok()) Die(s);
  }
  for (int c = 0; c < 2; ++c) {
    if (!(s = Checkpoint(t.get())).ok()) Die(s);
  }
  t.reset();
  struct stat st;
  ::stat(path.c_str(), &st);
  const double before = st.st_size;
  if (!(s = BTree::Open(path, BTreeOptions(), &t)).ok()) Die(s);
  double w0 = Wall();
  if (!(s = t->Close()).ok()) Die(s);
  double close_ms = (Wall() - w0) * 1e3;
  ::stat(path.c_str(), &st);
  std::printf("vacuum: %llu records, 3/4 deleted: %.2f MB -> Close %.2f MB in %.0f ms (%llu pages moved)\n",
              (unsigned long long)n, before / 1048576, st.st_size / 1048576.0, close_ms,
              (unsigned long long)t->GetStats().pages_relocated);
  t.reset();
  ::unlink(path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  size_t value_bytes = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 320;
  std::string dir = argc > 2 ? argv[2] : "/tmp";
  Run(dir, 40000, value_bytes);
  Run(dir, 1000000, value_bytes);
  Churn(dir);
  Vacuum(dir, 40000, value_bytes);
  Vacuum(dir, 1000000, value_bytes);
  return 0;
}
