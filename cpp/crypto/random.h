// Random bytes from the OS CSPRNG (getrandom(2) on Linux, arc4random_buf on
// BSD/macOS, BCryptGenRandom on Windows). Used for tokens and nonces.
#ifndef CRUDJT_CRYPTO_RANDOM_H_
#define CRUDJT_CRYPTO_RANDOM_H_

#include <cstddef>

#include "crudjt/status.h"

namespace crudjt {

// Fills buf with n random bytes; IOError if the OS refuses (never partial).
Status RandomBytes(void* buf, size_t n);

}  // namespace crudjt

#endif  // CRUDJT_CRYPTO_RANDOM_H_
