// The sealed record: the B+tree value stored for one token.
//
//   OFFSET SIZE DESCRIPTION
//        0    8 expires_at_ms, i64 wall-clock ms since the epoch, 0 = never
//        8    8 reads_left, i64, -1 = unlimited, else >= 1
//       16    4 key_id of the key that sealed it (crypto/keys.h)
//       20   24 nonce, random per seal
//       44  n+16 XChaCha20-Poly1305(payload) || tag, associated data = the
//               16-byte tree key (so a record moved under another key fails)
//
// Little-endian. Expiry and the read counter stay outside the ciphertext so
// that the sweeper and a read's decrement need no decryption; they are not
// secret. A record whose key_id differs from the store's current key was
// sealed under another secret: it reads as not found. A record whose key_id
// matches but whose tag fails is Corruption (the page checksum passed, so
// the bytes were altered deliberately or a bug wrote them).
#ifndef CRUDJT_STORE_RECORD_H_
#define CRUDJT_STORE_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "crudjt/status.h"
#include "crypto/aead.h"

namespace crudjt {

constexpr size_t kRecordFixedBytes = 20;
constexpr size_t kRecordHeadBytes = kRecordFixedBytes + kAeadNonceBytes;  // 44

struct RecordHead {
  int64_t expires_at_ms = 0;
  int64_t reads_left = -1;
  uint32_t key_id = 0;
};

class SealedRecord {
 public:
  // Appends head | nonce | sealed to *out (cleared first).
  static void Encode(const RecordHead& head, const uint8_t nonce[kAeadNonceBytes],
                     std::string_view sealed, std::string* out);

  // Parses `value` (a tree value). Corruption when it is too short to hold a
  // head, a nonce and a tag, or its limits are out of range. The views point
  // into `value`.
  static Status Decode(std::string_view value, RecordHead* head, const uint8_t** nonce,
                       std::string_view* sealed);

  // Rewrites reads_left in an encoded record in place (no reseal needed).
  static void SetReadsLeft(std::string* value, int64_t reads_left);
};

}  // namespace crudjt

#endif  // CRUDJT_STORE_RECORD_H_
