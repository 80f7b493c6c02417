// HKDF-SHA256 subkeys (RFC 5869) through OpenSSL 3's EVP_KDF "HKDF".

#include "crypto/keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstring>
#include <memory>
#include <string>

#include "crypto/aead.h"
#include "crypto/random.h"
#include "util/coding.h"

namespace crudjt {

// HKDF-SHA256(ikm, salt, info) -> out[0..n). Not in keys.h: the store only
// needs DeriveKeys; keys_test.cc declares it to check the RFC 5869 vectors.
Status HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                  uint8_t* out, size_t n) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return Status::NotSupported("OpenSSL has no HKDF");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);  // the context keeps its own reference
  if (ctx == nullptr) return Status::IOError("EVP_KDF_CTX_new failed");

  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  size_t i = 0;
  params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[i++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()), ikm.size());
  // RFC 5869: an absent salt is HashLen zero bytes, which is OpenSSL's
  // default when the parameter is not given.
  if (!salt.empty()) {
    params[i++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size());
  }
  if (!info.empty()) {
    params[i++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size());
  }
  params[i] = OSSL_PARAM_construct_end();

  int rc = EVP_KDF_derive(ctx, out, n, params);
  EVP_KDF_CTX_free(ctx);
  if (rc <= 0) return Status::InvalidArgument("HKDF-SHA256 derivation failed");
  return Status::OK();
}

namespace {
constexpr std::string_view kSalt = "crudjt/v1";
}  // namespace

void DerivedKeys::Wipe() {
  OPENSSL_cleanse(index_key, sizeof(index_key));
  OPENSSL_cleanse(seal_key, sizeof(seal_key));
  OPENSSL_cleanse(key_check, sizeof(key_check));
  OPENSSL_cleanse(wrap_key, sizeof(wrap_key));
  OPENSSL_cleanse(subject_key, sizeof(subject_key));
  key_id = 0;
}

Status DeriveKeys(std::string_view secret, DerivedKeys* out) {
  if (secret.size() != 32 && secret.size() != 48 && secret.size() != 64) {
    return Status::InvalidArgument("secret key must be 32, 48 or 64 bytes, got " +
                                   std::to_string(secret.size()));
  }
  DerivedKeys k;
  Status s = HkdfSha256(secret, kSalt, "crudjt index key", k.index_key, sizeof(k.index_key));
  if (s.ok()) s = HkdfSha256(secret, kSalt, "crudjt seal key", k.seal_key, sizeof(k.seal_key));
  if (s.ok()) {
    s = HkdfSha256(secret, kSalt, "crudjt key check", k.key_check, sizeof(k.key_check));
  }
  if (s.ok()) s = HkdfSha256(secret, kSalt, "crudjt key wrap key", k.wrap_key, sizeof(k.wrap_key));
  if (s.ok()) s = DeriveSubjectKey(k.index_key, k.subject_key);
  if (!s.ok()) {
    k.Wipe();
    return s;
  }
  k.key_id = DecodeFixed32(k.key_check);
  *out = k;
  k.Wipe();
  return Status::OK();
}

Status DeriveSubjectKey(const uint8_t index_key[kSubkeyBytes], uint8_t out[kSubkeyBytes]) {
  return HkdfSha256(std::string_view(reinterpret_cast<const char*>(index_key), kSubkeyBytes),
                    "crudjt/v2", "crudjt subject key", out, kSubkeyBytes);
}

namespace {
constexpr std::string_view kWrapAd = "crudjt wrapped index key";
}  // namespace

Status WrapKey(const uint8_t wrap_key[kSubkeyBytes], const uint8_t key[kSubkeyBytes],
               uint8_t out[kWrappedKeyBytes]) {
  std::unique_ptr<Aead> aead;
  Status s = Aead::Create(wrap_key, &aead);
  if (!s.ok()) return s;
  s = RandomBytes(out, kAeadNonceBytes);
  if (!s.ok()) return s;
  std::string sealed;
  s = aead->Seal(out, kWrapAd, std::string_view(reinterpret_cast<const char*>(key), kSubkeyBytes),
                 &sealed);
  if (!s.ok()) return s;
  std::memcpy(out + kAeadNonceBytes, sealed.data(), sealed.size());
  OPENSSL_cleanse(&sealed[0], sealed.size());
  return Status::OK();
}

Status UnwrapKey(const uint8_t wrap_key[kSubkeyBytes], const uint8_t wrapped[kWrappedKeyBytes],
                 uint8_t key[kSubkeyBytes]) {
  std::unique_ptr<Aead> aead;
  Status s = Aead::Create(wrap_key, &aead);
  if (!s.ok()) return s;
  std::string plain;
  s = aead->Open(wrapped, kWrapAd,
                 std::string_view(reinterpret_cast<const char*>(wrapped) + kAeadNonceBytes,
                                  kWrappedKeyBytes - kAeadNonceBytes),
                 &plain);
  if (!s.ok() || plain.size() != kSubkeyBytes) {
    return Status::Corruption("wrapped key does not open under this secret");
  }
  std::memcpy(key, plain.data(), kSubkeyBytes);
  OPENSSL_cleanse(&plain[0], plain.size());
  return Status::OK();
}

}  // namespace crudjt
