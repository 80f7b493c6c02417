// Key derivation: every key the store uses is derived from the user's
// secret with HKDF-SHA256 (RFC 5869), so the secret itself is never used
// directly nor written anywhere.
//
//   salt = "crudjt/v1"
//   index_key = HKDF(secret, salt, info="crudjt index key")   32 bytes
//   seal_key  = HKDF(secret, salt, info="crudjt seal key")    32 bytes
//   key_check = HKDF(secret, salt, info="crudjt key check")   16 bytes
//   key_id    = first 4 bytes (little endian) of key_check
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
  uint32_t key_id;

  // Overwrites the key material (called by the owner's destructor).
  void Wipe();
};

// InvalidArgument unless secret is 32, 48 or 64 bytes.
Status DeriveKeys(std::string_view secret, DerivedKeys* out);

}  // namespace crudjt

#endif  // CRUDJT_CRYPTO_KEYS_H_
