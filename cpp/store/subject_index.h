// SubjectIndex: where "log out everywhere" keeps a subject's tokens, inside
// the same B+tree as the token records (so every change goes through the
// same log, checkpoints and recovery).
//
// Key space (16-byte tree keys). Domain separation is structural, by the
// top bit of byte 0:
//
//   bit 7 of byte 0 = 0   token record. Tree key = HMAC-SHA256(index_key,
//                         token)[0..16) with that bit cleared (127 bits).
//   bit 7 of byte 0 = 1   subject index entry (below).
//
// A store upgraded from format 1 may still hold format-1 token records
// whose key has the top bit set (they were hashed before the bit was
// reserved); lookups of a token try its masked key and then, in such a
// store only, its unmasked one. Index entries and records are also told
// apart by their value: an index entry value is exactly kEntryBytes (32),
// a sealed record is at least 61 bytes.
//
// Subject hash:  sh = HMAC-SHA256(subject_key, subject)[0..16), subject_key
// from crypto/keys.h (fixed at the store's first secret). The subject's
// plaintext is never stored.
//
// Index entry of token key tk under subject hash sh:
//
//   key   OFFSET SIZE DESCRIPTION
//              0    1 0x80 | (sh[0] & 0x7f)
//              1    5 sh[1..6)
//              6   10 tk[0..10)
//   value      0   16 sh (the whole hash: entries of other subjects that
//                     share the 47-bit prefix are skipped)
//             16   16 tk (the whole token key)
//
// All entries of a subject are therefore adjacent in key order, and a scan
// from the prefix visits that subject's tokens only (plus, with
// probability ~n/2^47, another subject's entry, filtered by the value).
// The token record carries sh (store/record.h), so deleting a token deletes
// its entry: key computed from (sh, tk), no scan.
#ifndef CRUDJT_STORE_SUBJECT_INDEX_H_
#define CRUDJT_STORE_SUBJECT_INDEX_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "btree/btree.h"
#include "store/record.h"

namespace crudjt {

class SubjectIndex {
 public:
  static constexpr size_t kPrefixBytes = 6;
  static constexpr size_t kEntryBytes = 2 * kTreeKeyBytes;  // 32
  static constexpr uint8_t kIndexBit = 0x80;

  // Clears the index bit of a token's keyed hash.
  static void MaskTokenKey(TreeKey* key) { key->bytes[0] &= uint8_t(~kIndexBit); }
  static bool InIndexDomain(const TreeKey& key) { return (key.bytes[0] & kIndexBit) != 0; }
  // A tree value that is an index entry (not a sealed record).
  static bool IsEntryValue(std::string_view value) { return value.size() == kEntryBytes; }

  static TreeKey EntryKey(const uint8_t sh[kSubjectHashBytes], const TreeKey& token_key);
  static std::string EntryValue(const uint8_t sh[kSubjectHashBytes], const TreeKey& token_key);
  // The key just before every entry of sh (a Scan start, exclusive).
  static TreeKey ScanStart(const uint8_t sh[kSubjectHashBytes]);
  // True when `key` has sh's prefix (the scan is still inside the subject).
  static bool HasPrefix(const TreeKey& key, const uint8_t sh[kSubjectHashBytes]);
  // From an entry value: true (and *token_key) when it belongs to sh.
  static bool EntryMatches(std::string_view value, const uint8_t sh[kSubjectHashBytes],
                           TreeKey* token_key);
  // From an entry value: its subject hash and token key.
  static void DecodeEntry(std::string_view value, uint8_t sh[kSubjectHashBytes], TreeKey* token_key);
};

}  // namespace crudjt

#endif  // CRUDJT_STORE_SUBJECT_INDEX_H_
