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
// Results: HashToken() is false for a string that can never be a token of
// any store (empty, longer than kMaxTokenChars, not base64url). OpenRecord()
// gives NotFound for a record sealed under another secret (its key_id
// differs: reads as absent, like the engine), Corruption for a record that
// is malformed or whose tag fails under the current key (altered bytes).
//
// Thread-safety: HashToken() and HashSubject() are safe from many threads;
// NewToken(), Seal() and OpenRecord() share one AEAD context: call them from
// one thread at a time (the N-API wrapper lives on one JS thread).
#ifndef CRUDJT_INCLUDE_RECORD_CODEC_H_
#define CRUDJT_INCLUDE_RECORD_CODEC_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crudjt/status.h"

namespace crudjt {

constexpr size_t kRecordKeyBytes = 16;         // the tree key (keyed token hash)
constexpr size_t kRecordOffsetExpiresAt = 0;   // u56 LE, ms since the epoch, 0 = never
constexpr size_t kRecordExpiresAtBytes = 7;    // byte 7 is the record format
constexpr size_t kRecordOffsetReadsLeft = 8;   // i64 LE, -1 = unlimited
constexpr size_t kRecordOffsetKeyId = 16;      // u32 LE

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
  ~RecordCodec();
  RecordCodec(const RecordCodec&) = delete;
  RecordCodec& operator=(const RecordCodec&) = delete;

  // The key_id written into records sealed by this codec.
  uint32_t key_id() const;

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
  // when another secret sealed it; Corruption when malformed or altered.
  Status OpenRecord(const uint8_t key[kRecordKeyBytes], std::string_view record,
                    std::string* payload, RecordLimits* limits);

 private:
  RecordCodec();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crudjt

#endif  // CRUDJT_INCLUDE_RECORD_CODEC_H_
