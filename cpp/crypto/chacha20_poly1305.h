// ChaCha20-Poly1305 as RFC 8439 defines it (section 2.8: 32-byte key,
// 12-byte nonce, 32-bit block counter starting at 1 for the message).
//
// Why not OpenSSL's: for the store's records (tens to hundreds of bytes)
// OpenSSL 3's EVP layer costs more per message (re-keying through the
// provider, OSSL_PARAM lookups for the tag) than the cipher itself; these
// functions take no locks, allocate nothing and keep no state between
// messages. chacha20_poly1305_test.cc checks them against the RFC's test
// vectors and, on random inputs of every length up to 1 KiB, against
// OpenSSL.
//
// ChaCha20 runs two blocks side by side, each as four 128-bit row vectors
// (GCC/Clang vector extensions: SSE2 on x86-64, NEON on arm64); Poly1305
// uses three 44-bit limbs and 64x64->128-bit products (unsigned __int128:
// 64-bit targets only, which are the ones we build). Both are
// constant-time: no branch or memory index depends on key or data.
#ifndef CRUDJT_CRYPTO_CHACHA20_POLY1305_H_
#define CRUDJT_CRYPTO_CHACHA20_POLY1305_H_

#include <cstddef>
#include <cstdint>

namespace crudjt {

// out[0..n) = in[0..n) XOR the ChaCha20 key stream of (key, nonce) from
// block `counter` on. in == out is allowed; other overlaps are not.
void ChaCha20Xor(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                 const uint8_t* in, uint8_t* out, size_t n);

// One-time authenticator.
class Poly1305 {
 public:
  explicit Poly1305(const uint8_t key[32]);
  ~Poly1305();
  Poly1305(const Poly1305&) = delete;
  Poly1305& operator=(const Poly1305&) = delete;

  void Update(const uint8_t* data, size_t n);
  void Final(uint8_t tag[16]);

 private:
  void Blocks(const uint8_t* m, size_t blocks, uint64_t hibit);

  uint64_t r_[3], h_[3], pad_[2];
  uint8_t buf_[16];
  size_t buffered_ = 0;
};

// AEAD seal: ct[0..n) and tag[16]. ct may equal pt.
void ChaCha20Poly1305Seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* ad,
                          size_t ad_len, const uint8_t* pt, size_t n, uint8_t* ct,
                          uint8_t tag[16]);

// AEAD open: false (and pt zeroed) unless the tag verifies. pt may equal ct.
bool ChaCha20Poly1305Open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* ad,
                          size_t ad_len, const uint8_t* ct, size_t n, const uint8_t tag[16],
                          uint8_t* pt);

}  // namespace crudjt

#endif  // CRUDJT_CRYPTO_CHACHA20_POLY1305_H_
