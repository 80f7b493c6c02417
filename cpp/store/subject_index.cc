// The layout is documented at the top of subject_index.h.
#include "store/subject_index.h"

#include <cstring>

namespace crudjt {

TreeKey SubjectIndex::EntryKey(const uint8_t sh[kSubjectHashBytes], const TreeKey& token_key) {
  TreeKey k;
  k.bytes[0] = uint8_t(kIndexBit | (sh[0] & 0x7f));
  std::memcpy(k.bytes + 1, sh + 1, kPrefixBytes - 1);
  std::memcpy(k.bytes + kPrefixBytes, token_key.bytes, kTreeKeyBytes - kPrefixBytes);
  return k;
}

std::string SubjectIndex::EntryValue(const uint8_t sh[kSubjectHashBytes], const TreeKey& token_key) {
  std::string v(kEntryBytes, '\0');
  std::memcpy(&v[0], sh, kSubjectHashBytes);
  std::memcpy(&v[kSubjectHashBytes], token_key.bytes, kTreeKeyBytes);
  return v;
}

TreeKey SubjectIndex::ScanStart(const uint8_t sh[kSubjectHashBytes]) {
  TreeKey zero;
  std::memset(zero.bytes, 0, sizeof(zero.bytes));
  TreeKey k = EntryKey(sh, zero);
  // Scan visits keys > start: step one back from prefix || 0^10. The
  // prefix has its top bit set, so this never borrows past byte 0.
  for (int i = kTreeKeyBytes - 1; i >= 0; --i) {
    if (k.bytes[i]-- != 0) break;
  }
  return k;
}

bool SubjectIndex::HasPrefix(const TreeKey& key, const uint8_t sh[kSubjectHashBytes]) {
  return key.bytes[0] == uint8_t(kIndexBit | (sh[0] & 0x7f)) &&
         std::memcmp(key.bytes + 1, sh + 1, kPrefixBytes - 1) == 0;
}

bool SubjectIndex::EntryMatches(std::string_view value, const uint8_t sh[kSubjectHashBytes],
                                TreeKey* token_key) {
  if (!IsEntryValue(value) || std::memcmp(value.data(), sh, kSubjectHashBytes) != 0) return false;
  std::memcpy(token_key->bytes, value.data() + kSubjectHashBytes, kTreeKeyBytes);
  return true;
}

void SubjectIndex::DecodeEntry(std::string_view value, uint8_t sh[kSubjectHashBytes],
                               TreeKey* token_key) {
  std::memcpy(sh, value.data(), kSubjectHashBytes);
  std::memcpy(token_key->bytes, value.data() + kSubjectHashBytes, kTreeKeyBytes);
}

}  // namespace crudjt
