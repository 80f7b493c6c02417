// Aead: XChaCha20-Poly1305 exactly as libsodium's
// crypto_aead_xchacha20poly1305_ietf_{encrypt,decrypt}: HChaCha20(key,
// nonce[0..16)) gives a subkey, then IETF ChaCha20-Poly1305
// (crypto/chacha20_poly1305.h) with nonce = 4 zero bytes || nonce[16..24).
// The 24-byte nonce is random per seal, so nonces do not repeat in
// practice (2^192 space).
//
// The primitives are written here (OpenSSL's EVP layer cost more per
// message than the cipher); aead_test.cc checks HChaCha20, ChaCha20,
// Poly1305 and the whole AEAD against the published test vectors
// (draft-irtf-cfrg-xchacha-03 2.2.1 and A.3.1, RFC 8439) and against
// OpenSSL's ChaCha20-Poly1305 on random inputs.
//
// Thread-safety: an Aead holds only its key, and Seal/Open keep no state
// between messages: one instance may be used by any number of threads at
// once.
#ifndef CRUDJT_CRYPTO_AEAD_H_
#define CRUDJT_CRYPTO_AEAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crudjt/status.h"

namespace crudjt {

constexpr size_t kAeadKeyBytes = 32;
constexpr size_t kAeadNonceBytes = 24;
constexpr size_t kAeadTagBytes = 16;

// HChaCha20 core (exposed for the test vectors).
void HChaCha20(const uint8_t key[32], const uint8_t nonce16[16], uint8_t out[32]);

class Aead {
 public:
  static Status Create(const uint8_t key[kAeadKeyBytes], std::unique_ptr<Aead>* out);
  ~Aead();
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;

  // *out = ciphertext || tag (plaintext.size() + 16 bytes).
  Status Seal(const uint8_t nonce[kAeadNonceBytes], std::string_view ad,
              std::string_view plaintext, std::string* out) const;

  // The same into dst[plaintext.size() + 16], which must not overlap the
  // inputs (no allocation: the store seals straight into a record).
  Status SealTo(const uint8_t nonce[kAeadNonceBytes], std::string_view ad,
                std::string_view plaintext, uint8_t* dst) const;

  // Inverse of Seal. Corruption if the tag does not verify (wrong key, wrong
  // ad, or altered bytes); *plaintext is then left empty.
  Status Open(const uint8_t nonce[kAeadNonceBytes], std::string_view ad,
              std::string_view sealed, std::string* plaintext) const;

 private:
  Aead();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crudjt

#endif  // CRUDJT_CRYPTO_AEAD_H_
