// Random bytes from the OS CSPRNG (getrandom(2) on Linux, arc4random_buf on
// BSD/macOS, BCryptGenRandom on Windows). Used for tokens and nonces.
#ifndef CRUDJT_CRYPTO_RANDOM_H_
#define CRUDJT_CRYPTO_RANDOM_H_

#include <cstddef>

#include "crudjt/status.h"

namespace crudjt {

// Fills buf with n random bytes; IOError if the OS refuses (never partial).
Status RandomBytes(void* buf, size_t n);

// The same bytes (straight from the OS CSPRNG, no userspace generator in
// between), drawn from a per-thread buffer refilled by one RandomBytes of
// kRandomBlockBytes: one system call per ~100 tokens+nonces instead of one
// each. Every byte is handed out at most once and wiped from the buffer as
// it is. Fork-safe: a child process never hands out bytes its parent
// buffered (a pthread_atfork child handler bumps a fork generation that
// every draw compares with the one its buffer was filled under; a getpid()
// per draw would be a system call again, glibc no longer caches it). The
// buffer is wiped when its thread exits. n > kRandomBlockBytes / 4 goes
// straight to RandomBytes.
constexpr size_t kRandomBlockBytes = 4096;
Status BufferedRandomBytes(void* buf, size_t n);

}  // namespace crudjt

#endif  // CRUDJT_CRYPTO_RANDOM_H_
