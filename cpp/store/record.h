// The sealed record: the B+tree value stored for one token.
//
// Format 2 (written by this code; store format >= 2):
//
//   OFFSET SIZE DESCRIPTION
//        0    7 expires_at_ms, u56 wall-clock ms since the epoch, 0 = never
//        7    1 record format = 2 (format-1 records have 0 here: their
//               8-byte expiry is always < 2^56)
//        8    8 reads_left, i64, -1 = unlimited, else >= 1
//       16    4 key_id of the key that sealed it (crypto/keys.h)
//       20    1 flags: bit 0 = the token has a subject; others zero
//       21   16 subject hash (store/subject_index.h), zeros without subject
//       37   24 nonce, random per seal
//       61  n+16 XChaCha20-Poly1305(payload) || tag, associated data =
//               AssociatedData(): the 16-byte tree key (so a record moved
//               under another key fails), followed by the subject hash when
//               the token has one (so a record cannot be moved to another
//               subject either)
//
// Format 1 (store format 1, still read): expires_at_ms (i64) | reads_left |
// key_id | nonce (24) at offset 20 | sealed at 44. Bytes 0..20 have the
// same meaning in both, so the sweeper, a read's decrement and Touch patch
// them in place whatever the format.
//
// Little-endian. Expiry, the read counter and the subject hash stay outside
// the ciphertext so that the sweeper, a read's decrement, Touch and Update
// (which keeps the subject) need no decryption; they are not secret (a
// lifetime, a count, a keyed hash). A record whose key_id is neither the
// current key's nor a previous key's reads as not found. A record whose
// key_id matches but whose tag fails is Corruption (the page checksum
// passed, so the bytes were altered deliberately or a bug wrote them).
#ifndef CRUDJT_STORE_RECORD_H_
#define CRUDJT_STORE_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "crudjt/status.h"
#include "crypto/aead.h"

namespace crudjt {

// Bytes 0..20, common to both formats.
constexpr size_t kRecordFixedBytes = 20;
constexpr size_t kRecordHeadBytes = kRecordFixedBytes + kAeadNonceBytes;  // 44, format 1
constexpr size_t kSubjectHashBytes = 16;
constexpr size_t kRecordV2FixedBytes = kRecordFixedBytes + 1 + kSubjectHashBytes;  // 37
constexpr size_t kRecordV2HeadBytes = kRecordV2FixedBytes + kAeadNonceBytes;      // 61
constexpr uint8_t kRecordFormat2 = 2;
constexpr uint8_t kRecordFlagSubject = 1;
// Expiry times are 56-bit (bytes 0..7).
constexpr int64_t kMaxExpiresAtMs = (int64_t(1) << 56) - 1;

struct RecordHead {
  int64_t expires_at_ms = 0;
  int64_t reads_left = -1;
  uint32_t key_id = 0;
  uint8_t format = kRecordFormat2;  // as decoded: 1 or 2
  bool has_subject = false;
  uint8_t subject[kSubjectHashBytes] = {};
};

class SealedRecord {
 public:
  // Appends head | nonce | sealed to *out (cleared first), in format 2
  // (head.format is ignored). Requires 0 <= expires_at_ms <= kMaxExpiresAtMs.
  static void Encode(const RecordHead& head, const uint8_t nonce[kAeadNonceBytes],
                     std::string_view sealed, std::string* out);

  // Writes the kRecordV2HeadBytes head (fields and nonce) to out[0..61):
  // Encode without the copy of the sealed bytes, for a caller that seals
  // straight into out + kRecordV2HeadBytes.
  static void EncodeHead(const RecordHead& head, const uint8_t nonce[kAeadNonceBytes],
                         uint8_t* out);

  // Parses `value` (a tree value) of either format. Corruption when it is
  // too short to hold a head, a nonce and a tag, its format byte or flags
  // are unknown, a subject-less record's subject bytes are not zero, or its
  // limits are out of range. The views point into
  // `value`.
  static Status Decode(std::string_view value, RecordHead* head, const uint8_t** nonce,
                       std::string_view* sealed);

  // The AEAD associated data of a record of `head` stored under `key`:
  // key (16) for format 1 and subject-less records, key | subject (32)
  // otherwise. out must hold 32 bytes; returns the length used.
  static size_t AssociatedData(const uint8_t key[16], const RecordHead& head, uint8_t out[32]);

  // Expiry of an encoded record (either format; value.size() >= 8).
  static int64_t ExpiresAt(std::string_view value);
  // key_id of an encoded record (value.size() >= 20).
  static uint32_t KeyId(std::string_view value);

  // In-place rewrites of an encoded record (no reseal needed).
  static void SetReadsLeft(std::string* value, int64_t reads_left);
  // Keeps the format byte. Requires 0 <= expires_at_ms <= kMaxExpiresAtMs.
  static void SetExpiresAt(std::string* value, int64_t expires_at_ms);
  // Format-2 records only: sets or clears the subject.
  static void SetSubject(std::string* value, bool has_subject,
                         const uint8_t subject[kSubjectHashBytes]);
};

}  // namespace crudjt

#endif  // CRUDJT_STORE_RECORD_H_
