// RandomBytes: the OS CSPRNG, never a userspace generator.

#include "crypto/random.h"

#include <cerrno>
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

}  // namespace crudjt
