// RandomBytes: the OS CSPRNG, never a userspace generator.

#include "crypto/random.h"

#include <atomic>
#include <cerrno>
#include <mutex>
#include <cstdint>
#include <cstring>
#include <string>

#if defined(_WIN32)
#include <windows.h>
#include <bcrypt.h>
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
    defined(__NetBSD__)
#include <stdlib.h>
#define CRUDJT_HAVE_ARC4RANDOM 1
#else
#include <sys/random.h>
#endif
#if !defined(_WIN32)
#include <pthread.h>
#endif

namespace crudjt {

Status RandomBytes(void* buf, size_t n) {
  uint8_t* p = static_cast<uint8_t*>(buf);
#if defined(_WIN32)
  while (n > 0) {
    ULONG chunk = n > 0x40000000u ? 0x40000000u : static_cast<ULONG>(n);
    NTSTATUS st = BCryptGenRandom(nullptr, p, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG);
    if (st != 0) return Status::IOError("BCryptGenRandom failed");
    p += chunk;
    n -= chunk;
  }
  return Status::OK();
#elif defined(CRUDJT_HAVE_ARC4RANDOM)
  arc4random_buf(p, n);  // cannot fail
  return Status::OK();
#else
  size_t done = 0;
  while (done < n) {
    // Reads of up to 256 bytes never come back short once the pool is
    // initialised; larger ones may, and any may be interrupted: loop.
    ssize_t r = ::getrandom(p + done, n - done, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      std::memset(buf, 0, n);  // never hand out a partial fill
      return Status::IOError(std::string("getrandom failed: ") + std::strerror(err));
    }
    done += static_cast<size_t>(r);
  }
  return Status::OK();
#endif
}

namespace {

// Bumped in every child process right after fork(), before any of its code
// can draw.
std::atomic<uint64_t> g_fork_generation{1};

void OnForkChild() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct RandomBuffer {
  uint8_t bytes[kRandomBlockBytes];
  size_t pos = kRandomBlockBytes;  // bytes[pos..] are unused
  uint64_t generation = 0;         // g_fork_generation when filled
  RandomBuffer() { std::memset(bytes, 0, sizeof(bytes)); }
  ~RandomBuffer() { Wipe(); }
  void Wipe() {
    // volatile stores: not elided although the buffer dies right after.
    volatile uint8_t* p = bytes;
    for (size_t i = pos; i < kRandomBlockBytes; ++i) p[i] = 0;
    pos = kRandomBlockBytes;
  }
};

std::once_flag g_atfork_once;

}  // namespace

Status BufferedRandomBytes(void* buf, size_t n) {
  if (n > kRandomBlockBytes / 4) return RandomBytes(buf, n);
  std::call_once(g_atfork_once, [] {
#if !defined(_WIN32)
    pthread_atfork(nullptr, nullptr, OnForkChild);
#endif
  });
  thread_local RandomBuffer rb;
  const uint64_t gen = g_fork_generation.load(std::memory_order_relaxed);
  if (rb.generation != gen) {
    rb.Wipe();  // filled by the parent process: never used here
    rb.generation = gen;
  }
  if (kRandomBlockBytes - rb.pos < n) {
    Status s = RandomBytes(rb.bytes, kRandomBlockBytes);
    if (!s.ok()) {
      rb.pos = kRandomBlockBytes;
      return s;
    }
    rb.pos = 0;
  }
  std::memcpy(buf, rb.bytes + rb.pos, n);
  std::memset(rb.bytes + rb.pos, 0, n);
  rb.pos += n;
  return Status::OK();
}

}  // namespace crudjt
