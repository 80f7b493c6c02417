// Key derivation: every key the store uses is derived from the user's
// secret with HKDF-SHA256 (RFC 5869), so the secret itself is never used
// directly nor written anywhere.
//
//   salt = "crudjt/v1"
//   index_key = HKDF(secret, salt, info="crudjt index key")   32 bytes
//   seal_key  = HKDF(secret, salt, info="crudjt seal key")    32 bytes
//   key_check = HKDF(secret, salt, info="crudjt key check")   16 bytes
//   key_id    = first 4 bytes (little endian) of key_check
//   wrap_key  = HKDF(secret, salt, info="crudjt key wrap key")  32 bytes
//   subject_key = HKDF(index_key, salt="crudjt/v2",
//                      info="crudjt subject key")              32 bytes
//
// Key rotation (store format 2): a store keeps the index key of its FIRST
// secret for ever (tree keys are HMAC(index_key, token), so a new index key
// would lose every token), stored in the page file's meta wrapped by
// WrapKey under the current secret's wrap_key. subject_key is derived from
// the index key, so it is fixed too. Only seal_key changes with the secret.
//
// key_check is stored in the page file header so that Open can tell that a
// different key is in use; it reveals nothing about the secret (HKDF output).
#ifndef CRUDJT_CRYPTO_KEYS_H_
#define CRUDJT_CRYPTO_KEYS_H_

#include <cstdint>
#include <string_view>

#include "crudjt/status.h"

namespace crudjt {

constexpr size_t kSubkeyBytes = 32;
constexpr size_t kKeyCheckBytes = 16;

struct DerivedKeys {
  uint8_t index_key[kSubkeyBytes];
  uint8_t seal_key[kSubkeyBytes];
  uint8_t key_check[kKeyCheckBytes];
  uint8_t wrap_key[kSubkeyBytes];
  uint8_t subject_key[kSubkeyBytes];  // from this secret's own index_key
  uint32_t key_id;

  // Overwrites the key material (called by the owner's destructor).
  void Wipe();
};

// InvalidArgument unless secret is 32, 48 or 64 bytes.
Status DeriveKeys(std::string_view secret, DerivedKeys* out);

// out = the subject subkey of a store whose index key is `index_key`.
Status DeriveSubjectKey(const uint8_t index_key[kSubkeyBytes], uint8_t out[kSubkeyBytes]);

// A 32-byte key sealed (XChaCha20-Poly1305, random nonce) under wrap_key:
// nonce (24) | ciphertext (32) | tag (16).
constexpr size_t kWrappedKeyBytes = 24 + kSubkeyBytes + 16;
Status WrapKey(const uint8_t wrap_key[kSubkeyBytes], const uint8_t key[kSubkeyBytes],
               uint8_t out[kWrappedKeyBytes]);
// Corruption when `wrapped` was not made by WrapKey under this wrap_key.
Status UnwrapKey(const uint8_t wrap_key[kSubkeyBytes], const uint8_t wrapped[kWrappedKeyBytes],
                 uint8_t key[kSubkeyBytes]);

}  // namespace crudjt

#endif  // CRUDJT_CRYPTO_KEYS_H_
