// crypto_bench: ns/op of the crypto calls on the store's hot paths.
//
//   IndexHasher::Hash   22-char token (every read, write and delete)
//   Aead::Seal / Open   256-byte payload, 16-byte associated data
//   RandomBytes(16)     one token's worth of entropy
//   DeriveKeys          once per Open (three HKDF-SHA256 derivations)
//
// Each figure is the best and the median of 7 timed runs (after a warm-up),
// single thread, by the wall clock and by the thread's CPU clock. The CPU
// figure leaves out time spent preempted, so it is the steadier one on a
// shared machine. Usage: crypto_bench [scale]  (scale multiplies iterations).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <time.h>

#include "crypto/aead.h"
#include "crypto/index_hasher.h"
#include "crypto/keys.h"
#include "crypto/random.h"

using namespace crudjt;

namespace {

volatile uint64_t g_sink;

double ThreadCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

void Report(const char* name, long iters, const std::function<void()>& op) {
  for (long i = 0; i < iters / 10; ++i) op();  // warm-up
  std::vector<double> wall, cpu;
  for (int r = 0; r < 7; ++r) {
    double c0 = ThreadCpuNanos();
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < iters; ++i) op();
    auto t1 = std::chrono::steady_clock::now();
    double c1 = ThreadCpuNanos();
    wall.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / double(iters));
    cpu.push_back((c1 - c0) / double(iters));
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("%-34s wall %8.1f best %8.1f median | cpu %8.1f best %8.1f median  ns/op\n",
              name, wall[0], wall[3], cpu[0], cpu[3]);
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  long scale = argc > 1 ? std::max(1L, std::atol(argv[1])) : 1;

  DerivedKeys keys;
  Check(DeriveKeys(std::string(32, 'k'), &keys), "DeriveKeys");

  // --- IndexHasher::Hash, 22-char base64url token.
  IndexHasher hasher(keys.index_key);
  std::string token = "AbCdEfGhIjKlMnOpQrStUv";
  uint8_t key16[kIndexKeyBytes];
  long n = 0;
  Report("IndexHasher::Hash (22-char token)", 200000 * scale, [&] {
    token[0] = char('A' + (n++ & 15));
    hasher.Hash(token, key16);
    g_sink += key16[0];
  });

  // --- Aead, 256-byte payload, ad = the 16-byte tree key.
  std::unique_ptr<Aead> aead;
  Check(Aead::Create(keys.seal_key, &aead), "Aead::Create");
  uint8_t nonce[kAeadNonceBytes];
  Check(RandomBytes(nonce, sizeof(nonce)), "RandomBytes");
  std::string payload(256, 'p');
  std::string ad(reinterpret_cast<char*>(key16), sizeof(key16));
  std::string sealed, opened;
  Report("Aead::Seal (256 B)", 100000 * scale, [&] {
    nonce[0]++;
    Check(aead->Seal(nonce, ad, payload, &sealed), "Seal");
    g_sink += uint8_t(sealed[0]);
  });
  Check(aead->Seal(nonce, ad, payload, &sealed), "Seal");
  Report("Aead::Open (256 B)", 100000 * scale, [&] {
    Check(aead->Open(nonce, ad, sealed, &opened), "Open");
    g_sink += uint8_t(opened[0]);
  });

  // --- RandomBytes(16).
  uint8_t rnd[16];
  Report("RandomBytes(16)", 100000 * scale, [&] {
    Check(RandomBytes(rnd, sizeof(rnd)), "RandomBytes");
    g_sink += rnd[0];
  });

  // --- DeriveKeys.
  std::string secret(32, 's');
  DerivedKeys dk;
  Report("DeriveKeys (32-byte secret)", 2000 * scale, [&] {
    secret[0]++;
    Check(DeriveKeys(secret, &dk), "DeriveKeys");
    g_sink += dk.key_id;
  });
  dk.Wipe();
  keys.Wipe();
  return 0;
}
