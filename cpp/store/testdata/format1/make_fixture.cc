// How this fixture was made (kept for the record; not built): a format-1
// store written by the engine as of commit 3e9e58a (the last format-1
// release), built from a `git worktree add /tmp/engine-v1 3e9e58a`:
//   cmake -S /tmp/engine-v1/cpp -B /tmp/v1b -DCRUDJT_BUILD_TESTS=OFF && cmake --build /tmp/v1b
//   g++ -std=c++17 -I/tmp/engine-v1/cpp/include -I/tmp/engine-v1/cpp make_fixture.cc \
//       /tmp/v1b/libcrudjt_engine.a -lcrypto -lpthread -o make_fixture
//   ./make_fixture out/store out/tokens.txt
// The secret is key.hex. The last writes (after the checkpoint) are only in
// the log segment, so opening replays format-1 log records too.
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#include "crudjt/store.h"
using namespace crudjt;
int main(int argc, char** argv) {
  const std::string dir = argv[1];
  std::string secret(32, '\0');
  for (int i = 0; i < 32; ++i) secret[i] = char(0x30 + i * 3);
  Options o;
  o.sweep_on_open = false;
  o.sweep_interval_ms = 0;
  std::unique_ptr<Store> s;
  Status st = Store::Open(dir, secret, o, &s);
  if (!st.ok()) { std::fprintf(stderr, "%s\n", st.ToString().c_str()); return 1; }
  struct T { std::string tok, payload; int64_t reads; bool alive; };
  std::vector<T> ts;
  auto create = [&](int i, int64_t ttl, int64_t reads) {
    T t; t.payload = "v1-payload-" + std::to_string(i) + std::string(i % 7 * 9, 'p');
    t.reads = reads; t.alive = true;
    if (!s->Create(t.payload, ttl, reads, &t.tok).ok()) std::abort();
    ts.push_back(t);
  };
  for (int i = 0; i < 24; ++i) create(i, i == 5 ? kMaxTtlMs : kNoLimit, i % 3 == 0 ? 5 : kNoLimit);
  bool b;
  ts[3].payload = "v1-updated-3";
  if (!s->Update(ts[3].tok, ts[3].payload, kNoLimit, 7, &b).ok() || !b) std::abort();
  ts[3].reads = 7;
  if (!s->Remove(ts[4].tok, &b).ok() || !b) std::abort();
  ts[4].alive = false;
  ReadResult r;
  if (!s->Read(ts[6].tok, &r).ok() || r.reads_left != 4) std::abort();
  ts[6].reads = 4;
  if (!s->Checkpoint().ok()) std::abort();
  // After the checkpoint: these live only in the log (replayed at open).
  for (int i = 24; i < 32; ++i) create(i, kNoLimit, i % 2 ? 3 : kNoLimit);
  ts[8].payload = "v1-updated-8-in-log";
  if (!s->Update(ts[8].tok, ts[8].payload, kNoLimit, kNoLimit, &b).ok() || !b) std::abort();
  ts[8].reads = kNoLimit;
  if (!s->Remove(ts[10].tok, &b).ok() || !b) std::abort();
  ts[10].alive = false;
  if (!s->Read(ts[25].tok, &r).ok() || r.reads_left != 2) std::abort();
  ts[25].reads = 2;
  if (!s->Flush().ok()) std::abort();
  FILE* f = std::fopen(argv[2], "w");
  std::fprintf(f, "# token alive reads_left(-1 none) payload  (format-1 fixture, engine 3e9e58a)\n");
  for (auto& t : ts) std::fprintf(f, "%s %d %lld %s\n", t.tok.c_str(), t.alive ? 1 : 0, (long long)t.reads, t.payload.c_str());
  std::fclose(f);
  std::fflush(nullptr);
  _exit(0);  // no Close: the last writes stay in the log only
}
