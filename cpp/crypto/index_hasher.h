// IndexHasher: maps a token string to the 16-byte B+tree key.
//
// key = first 16 bytes of HMAC-SHA256(index_key, token). The tree only ever
// sees these keyed hashes, so the page file holds no token, and nobody
// without the secret can tell which token a record belongs to.
//
// Thread-safety: Hash() is const and safe to call from many threads.
#ifndef CRUDJT_CRYPTO_INDEX_HASHER_H_
#define CRUDJT_CRYPTO_INDEX_HASHER_H_

#include <cstdint>
#include <memory>
#include <string_view>

namespace crudjt {

constexpr size_t kIndexKeyBytes = 16;

class IndexHasher {
 public:
  explicit IndexHasher(const uint8_t key[32]);
  ~IndexHasher();
  IndexHasher(const IndexHasher&) = delete;
  IndexHasher& operator=(const IndexHasher&) = delete;

  void Hash(std::string_view token, uint8_t out[kIndexKeyBytes]) const;

 private:
  struct State;  // precomputed HMAC inner/outer states
  std::unique_ptr<State> state_;
};

}  // namespace crudjt

#endif  // CRUDJT_CRYPTO_INDEX_HASHER_H_
