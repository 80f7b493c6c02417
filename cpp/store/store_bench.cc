// store_bench: microseconds per Create/Read/Update/Remove with 256-byte
// payloads at a given store size, the same through ApplyBatch in batches of
// 64 (creates, then reads of the tokens those batches made), and the raw cost of appending a log record
// with pwrite() versus a store into a MAP_SHARED mapping.
//
//   store_bench [dir] [tokens...]      default: /tmp, 40000 1000000
//
// CRUDJT_BENCH_NO_APPEND=1 skips the log append comparison.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "crudjt/store.h"

using namespace crudjt;
using Clock = std::chrono::steady_clock;

namespace {

double UsSince(Clock::time_point t0, size_t ops) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / double(ops);
}

// CPU time of the calling thread, in us: less sensitive than the wall clock
// to other processes on a shared machine (excludes the flush thread).
double ThreadCpuUs() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

// System time of the calling thread, in us (the kernel's share of the cpu
// figure: log writes, page faults).
double ThreadSysUs() {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return double(ru.ru_stime.tv_sec) * 1e6 + double(ru.ru_stime.tv_usec);
}

long ThreadFaults() {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_minflt + ru.ru_majflt;
}

struct Timer {
  Clock::time_point wall = Clock::now();
  double cpu = ThreadCpuUs();
  double sys = ThreadSysUs();
  long faults = ThreadFaults();
  std::string Report(size_t ops) const {
    char buf[128];
    std::snprintf(buf, sizeof(buf), "%.2f (cpu %.2f, sys %.2f, faults %.3f)", UsSince(wall, ops),
                  (ThreadCpuUs() - cpu) / double(ops), (ThreadSysUs() - sys) / double(ops),
                  double(ThreadFaults() - faults) / double(ops));
    return buf;
  }
};

// One record-sized append per op: pwrite() at the end of a file, versus a
// memcpy into a MAP_SHARED mapping of a preallocated file. Both survive a
// SIGKILL (the data is in the page cache either way).
void LogAppendBench(const std::string& dir) {
  const size_t rec = 15 + 16 + 44 + 256 + 16;  // a put of a 256-byte payload
  const size_t n = 200000;
  std::vector<char> buf(rec, 'r');
  std::string path = dir + "/store_bench_log_append";

  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  auto t0 = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    if (pwrite(fd, buf.data(), rec, off_t(i * rec)) != ssize_t(rec)) std::abort();
  }
  double us_write = UsSince(t0, n);
  close(fd);
  unlink(path.c_str());

  fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  const size_t bytes = n * rec;
  t0 = Clock::now();
  // Growth as a real log would do it: fallocate + map 4 MiB at a time.
  const size_t chunk = 4 << 20;
  std::vector<std::pair<void*, size_t>> maps;
  char* base = nullptr;
  size_t mapped_from = 0, mapped_to = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t off = i * rec;
    if (off + rec > mapped_to) {
      size_t from = off / 4096 * 4096;
      if (posix_fallocate(fd, off_t(from), off_t(chunk)) != 0) std::abort();
      void* m = mmap(nullptr, chunk, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off_t(from));
      if (m == MAP_FAILED) std::abort();
      maps.emplace_back(m, chunk);
      base = static_cast<char*>(m);
      mapped_from = from;
      mapped_to = from + chunk;
    }
    std::memcpy(base + (off - mapped_from), buf.data(), rec);
  }
  double us_mmap = UsSince(t0, n);
  for (auto& m : maps) munmap(m.first, m.second);
  close(fd);
  unlink(path.c_str());
  (void)bytes;
  std::printf("log append, %zu-byte record: pwrite %.3f us/op, MAP_SHARED store %.3f us/op\n",
              rec, us_write, us_mmap);
}

// One function per phase (never inlined) so that a profiler, e.g.
// valgrind --tool=callgrind, reports each phase's inclusive cost.
__attribute__((noinline)) void PhaseCreate(Store* s, const std::string& payload, size_t ops) {
  std::string t;
  for (size_t i = 0; i < ops; ++i) {
    if (!s->Create(payload, 60000, kNoLimit, &t).ok()) std::abort();
  }
}

__attribute__((noinline)) void PhaseRead(Store* s, const std::vector<std::string>& toks,
                                         const std::vector<size_t>& pick) {
  ReadResult r;
  for (size_t i : pick) {
    if (!s->Read(toks[i], &r).ok()) std::abort();
  }
}

__attribute__((noinline)) void PhaseUpdate(Store* s, const std::vector<std::string>& toks,
                                           const std::vector<size_t>& pick,
                                           const std::string& payload) {
  for (size_t i : pick) {
    bool u;
    if (!s->Update(toks[i], payload, 60000, 100, &u).ok() || !u) std::abort();
  }
}

__attribute__((noinline)) void PhaseRemove(Store* s, const std::vector<std::string>& toks,
                                           const std::vector<size_t>& pick) {
  for (size_t i : pick) {
    bool removed;
    if (!s->Remove(toks[i], &removed).ok()) std::abort();
  }
}

size_t ops_batches(size_t batch, size_t tokens) {
  return std::min<size_t>(tokens, 100000) / batch;
}

void StoreBench(const std::string& dir, size_t tokens) {
  std::string path = dir + "/store_bench_" + std::to_string(tokens);
  std::system(("rm -rf '" + path + "'").c_str());
  Options o;
  o.sweep_on_open = false;
  o.sweep_interval_ms = 0;
  std::unique_ptr<Store> s;
  std::string secret(32, 's');
  Status st = Store::Open(path, secret, o, &s);
  if (!st.ok()) {
    std::fprintf(stderr, "open: %s\n", st.ToString().c_str());
    std::exit(1);
  }
  std::string payload(256, 'x');
  std::vector<std::string> toks(tokens);
  auto t0 = Clock::now();
  for (size_t i = 0; i < tokens; ++i) {
    if (!s->Create(payload, kNoLimit, kNoLimit, &toks[i]).ok()) std::abort();
  }
  double fill = UsSince(t0, tokens);
  const size_t ops = std::min<size_t>(tokens, 100000);
  std::mt19937_64 rng(42);
  std::vector<size_t> pick(ops);
  for (auto& p : pick) p = rng() % tokens;

  std::string create, read, update, read_counted, remove;
  {
    Timer tm;
    PhaseCreate(s.get(), payload, ops);
    create = tm.Report(ops);
  }
  {
    Timer tm;
    PhaseRead(s.get(), toks, pick);
    read = tm.Report(ops);
  }
  {
    Timer tm;
    PhaseUpdate(s.get(), toks, pick, payload);
    update = tm.Report(ops);
  }
  {
    Timer tm;
    PhaseRead(s.get(), toks, pick);  // now decrements (logged)
    read_counted = tm.Report(ops);
  }
  {
    Timer tm;
    PhaseRemove(s.get(), toks, pick);
    remove = tm.Report(ops);
  }
  std::string batch_create, batch_read;
  {
    // Batches of 64: the same work through ApplyBatch (one lock hold, one
    // log write per batch).
    const size_t kBatch = 64;
    std::vector<BatchOp> ops(kBatch);
    std::vector<BatchResult> res;
    for (auto& op : ops) {
      op.type = BatchOpType::kCreate;
      op.payload = payload;
      op.ttl_ms = 60000;
    }
    const size_t rounds = ops.size() ? ops_batches(ops.size(), tokens) : 0;
    std::vector<std::string> made;
    made.reserve(rounds * kBatch);
    Timer tm;
    for (size_t b = 0; b < rounds; ++b) {
      if (!s->ApplyBatch(ops, &res).ok()) std::abort();
      for (auto& r : res) made.push_back(std::move(r.token));
    }
    batch_create = tm.Report(rounds * kBatch);
    for (auto& op : ops) op.type = BatchOpType::kRead;
    Timer tr;
    size_t k = 0;
    for (size_t b = 0; b < rounds; ++b) {
      for (auto& op : ops) op.token = made[pick[k++ % pick.size()] % made.size()];
      if (!s->ApplyBatch(ops, &res).ok()) std::abort();
      if (!res[0].status.ok()) std::abort();  // live tokens: a real read
    }
    batch_read = tr.Report(rounds * kBatch);
  }
  StoreStats stats = s->GetStats();
  std::printf("  batch of 64: create %s  read %s (us/op)\n", batch_create.c_str(),
              batch_read.c_str());
  std::printf(
      "%zu tokens (fill %.2f us/op), us/op wall (cpu of the calling thread):\n"
      "  create %s  read %s  update %s\n  read+decrement %s  remove %s\n"
      "  [%zu ops each; page file %.1f MB, %llu of %llu pages free]\n",
      tokens, fill, create.c_str(), read.c_str(), update.c_str(), read_counted.c_str(),
      remove.c_str(), ops,
      double(stats.page_file_bytes) / (1 << 20), (unsigned long long)stats.pages_free,
      (unsigned long long)stats.pages_total);
  auto t0c = Clock::now();
  s->Close();
  std::printf("  close (checkpoint) %.0f ms\n", UsSince(t0c, 1) / 1000);
  std::system(("rm -rf '" + path + "'").c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "/tmp";
  std::vector<size_t> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(size_t(std::strtoull(argv[i], nullptr, 10)));
  if (sizes.empty()) sizes = {40000, 1000000};
  if (std::getenv("CRUDJT_BENCH_NO_APPEND") == nullptr) LogAppendBench(dir);
  for (size_t n : sizes) StoreBench(dir, n);
  return 0;
}
