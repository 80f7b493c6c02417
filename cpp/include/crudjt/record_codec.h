// RecordCodec: the engine's token hashing and sealed-record format, on its
// own, for stores that keep records somewhere other than the page file (the
// Redis Cluster backend, lib/cluster/). One implementation: it calls the
// same code as the engine (crypto/keys.h, crypto/index_hasher.h,
// crypto/aead.h, store/record.h), so a record sealed here opens in a store
// and the other way round (`crudjt-server migrate --to-cluster`).
//
//   tree key = first 16 bytes of HMAC-SHA256(index subkey, token), bit 7
//              of byte 0 cleared (the engine's token half of the key space)
//   subject  = first 16 bytes of HMAC-SHA256(subject subkey, subject), as
//              the engine's subject index hashes it
//   record   = expires_at_ms | reads_left | key_id | nonce | AEAD(payload)
//              with the tree key as associated data (see store/record.h)
//
// Key rotation: a codec holds the current secret and any previous ones.
// Records are sealed under the current secret and open under any of them
// (each record names its key_id). The INDEX key (tree keys and subject
// hashes) must not change with the secret, or every token would be lost:
// as in a store, it is fixed for ever at the first secret. A codec starts
// with the index key of the OLDEST secret it was given (the last previous
// one, or the current one when there is none: what a store or a cluster
// made before rotation used), and AdoptIndexKey() switches it to the index
// key a shared place (the store's meta, the cluster's meta key) holds,
// wrapped by WrapIndexKey() under some secret's wrap key.
//
// Results: HashToken() is false for a string that can never be a token of
// any store (empty, longer than kMaxTokenChars, not base64url). OpenRecord()
// gives NotFound for a record sealed under a secret the codec was not given
// (its key_id is none of key_ids(): reads as absent, like the engine),
// Corruption for a record that is malformed or whose tag fails under the
// key its key_id names (altered bytes).
//
// Thread-safety: HashToken() and HashSubject() are safe from many threads;
// NewToken(), Seal() and OpenRecord() share the AEAD contexts: call them
// from one thread at a time (the N-API wrapper lives on one JS thread).
// AdoptIndexKey() only before the codec is shared.
#ifndef CRUDJT_INCLUDE_RECORD_CODEC_H_
#define CRUDJT_INCLUDE_RECORD_CODEC_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crudjt/status.h"

namespace crudjt {

constexpr size_t kRecordKeyBytes = 16;         // the tree key (keyed token hash)
constexpr size_t kRecordOffsetExpiresAt = 0;   // u56 LE, ms since the epoch, 0 = never
constexpr size_t kRecordExpiresAtBytes = 7;    // byte 7 is the record format
constexpr size_t kRecordOffsetReadsLeft = 8;   // i64 LE, -1 = unlimited
constexpr size_t kRecordOffsetKeyId = 16;      // u32 LE
constexpr size_t kRecordHandleChars = 22;      // base64url of a tree key, no padding
constexpr size_t kWrappedIndexKeyBytes = 72;   // nonce | sealed index key | tag
constexpr size_t kMaxPreviousSecrets = 16;

// What a record says besides its payload.
struct RecordLimits {
  int64_t expires_at_ms = 0;  // 0 = never
  int64_t reads_left = -1;    // -1 = unlimited
  uint32_t key_id = 0;
};

class RecordCodec {
 public:
  // Derives the subkeys from `secret` (32, 48 or 64 bytes; else
  // InvalidArgument). The codec keeps no copy of the secret itself.
  static Status Create(std::string_view secret, std::unique_ptr<RecordCodec>* out);

  // The same with previous secrets (newest first, at most
  // kMaxPreviousSecrets) whose records still open. A previous secret equal
  // to another listed one is skipped; InvalidArgument naming
  // "previous_secret_keys[i]" for a bad size or a 32-bit key id that
  // collides with another secret's.
  static Status Create(std::string_view secret, const std::vector<std::string_view>& previous,
                       std::unique_ptr<RecordCodec>* out);
  ~RecordCodec();
  RecordCodec(const RecordCodec&) = delete;
  RecordCodec& operator=(const RecordCodec&) = delete;

  // The key_id written into records sealed by this codec.
  uint32_t key_id() const;

  // The key ids of records this codec opens: the current one first, then
  // each distinct previous secret's.
  std::vector<uint32_t> key_ids() const;

  // out = the index key wrapped (XChaCha20-Poly1305, random nonce) under
  // the CURRENT secret's wrap key. IOError when the OS refuses random bytes.
  Status WrapIndexKey(uint8_t out[kWrappedIndexKeyBytes]) const;

  // Makes the index key inside `wrapped` this codec's when the wrap key of
  // the current secret or of a previous one opens it: OK. Corruption (the
  // codec is unchanged) when none does: a wrapping by a secret this codec
  // was not given, or altered bytes.
  Status AdoptIndexKey(const uint8_t wrapped[kWrappedIndexKeyBytes]);

  // The 22-character handle (base64url) of a tree key, and back: false for
  // anything but the canonical handle of 16 bytes.
  static void EncodeHandle(const uint8_t key[kRecordKeyBytes], char out[kRecordHandleChars]);
  static bool DecodeHandle(std::string_view handle, uint8_t key[kRecordKeyBytes]);

  // out = the tree key of `token`. False (out untouched) when the string can
  // never be a token: callers answer "not found" without a lookup.
  bool HashToken(std::string_view token, uint8_t out[kRecordKeyBytes]) const;

  // out = the engine's keyed hash of a subject (1..128 bytes of UTF-8).
  void HashSubject(std::string_view subject, uint8_t out[kRecordKeyBytes]) const;

  // A fresh 22-character token from 16 CSPRNG bytes, and its tree key.
  // IOError when the OS refuses random bytes.
  Status NewToken(std::string* token, uint8_t key[kRecordKeyBytes]);

  // *record = the sealed record of `payload` (1..kMaxPayloadBytes bytes)
  // under `key`, with a random nonce. expires_at_ms >= 0 (0 = never);
  // reads_left -1 or >= 1. InvalidArgument for out-of-range arguments.
  Status Seal(const uint8_t key[kRecordKeyBytes], std::string_view payload,
              int64_t expires_at_ms, int64_t reads_left, std::string* record);

  // Opens a record stored under `key`: *payload and *limits on ok. NotFound
  // when no secret of this codec sealed it (its key_id is none of
  // key_ids()); Corruption when malformed or when the tag fails under the
  // key its key_id names (altered bytes).
  Status OpenRecord(const uint8_t key[kRecordKeyBytes], std::string_view record,
                    std::string* payload, RecordLimits* limits);

 private:
  RecordCodec();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crudjt

#endif  // CRUDJT_INCLUDE_RECORD_CODEC_H_
