// B+tree node pages: leaves and internal nodes (format version 1).
//
// Every page other than the two meta pages starts with the same 16-byte
// header. All integers are little-endian.
//
//   OFFSET SIZE DESCRIPTION
//        0    4 masked crc32c (util/crc32c.h Mask) of bytes [4, 4096)
//        4    4 the page's own number (a page read from slot N must say N:
//               this catches misdirected and lost writes)
//        8    1 page type: 1 leaf, 2 internal, 3 free list
//        9    1 flags, 0
//       10    2 count: records (leaf), keys (internal), entries (free list)
//       12    4 leaf: u16 start of the value heap, u16 0
//               internal: page number of the leftmost child
//               free list: next free-list page (0 = last)
//
// LEAF (type 1): a slotted page. Slots are sorted by key and hold the key
// itself, so a binary search touches one contiguous array; values are packed
// at the end of the page, growing down, with no holes (Remove closes the
// gap it leaves).
//
//   +--------+--------+--------+-----+--------+----------+--------------------+
//   | header | slot 0 | slot 1 | ... | slot n | free ... | values (any order) |
//   +--------+--------+--------+-----+--------+----------+--------------------+
//   0        16       36                                 heap start       4096
//
//   slot (20 bytes):
//     OFFSET SIZE DESCRIPTION
//          0   16 key (compared as unsigned bytes)
//         16    2 offset of the value in the page (>= heap start)
//         18    2 length of the value (1..kMaxTreeValueBytes)
//
//   A record costs 20 + value bytes; 4080 bytes are usable, so a leaf holds
//   twelve 320-byte values.
//
// INTERNAL (type 2): n sorted keys and n+1 children; child 0 is in the
// header, child i+1 follows key i. Child i holds the keys k with
// key(i-1) <= k < key(i).
//
//   +--------+-----------------+-----------------+-----+
//   | header | key 0 | child 1 | key 1 | child 2 | ... |  (20 bytes each,
//   +--------+-----------------+-----------------+-----+   at most 204)
//
// Validate() checks the structure of a page read from disk so that a page
// whose checksum verifies but whose content is inconsistent (a bug, or a
// page of another format) is reported as Corruption, never followed.

#include "btree/node.h"

#include <cassert>

namespace crudjt {

void LeafNode::Init(uint8_t* p, uint32_t pgno) {
  std::memset(p, 0, page::kHeaderSize);
  SetPageNumber(p, pgno);
  p[page::kTypeOffset] = page::kLeaf;
  EncodeFixed16(p + page::kCountOffset, 0);
  EncodeFixed16(p + page::kAuxOffset, static_cast<uint16_t>(kPageSize));
}

bool LeafNode::Validate(const uint8_t* p) {
  if (p[page::kTypeOffset] != page::kLeaf || p[page::kFlagsOffset] != 0) return false;
  size_t n = DecodeFixed16(p + page::kCountOffset);
  size_t heap = DecodeFixed16(p + page::kAuxOffset);
  if (heap > kPageSize || page::kHeaderSize + n * page::kLeafSlotSize > heap) return false;
  size_t total = 0;
  const uint8_t* prev = nullptr;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* s = p + page::kHeaderSize + i * page::kLeafSlotSize;
    size_t off = DecodeFixed16(s + 16), len = DecodeFixed16(s + 18);
    if (len == 0 || len > kMaxTreeValueBytes || off < heap || off + len > kPageSize) return false;
    if (prev != nullptr && CompareKeys(prev, s) >= 0) return false;
    prev = s;
    total += len;
  }
  // No holes: the heap holds exactly the values.
  return total == kPageSize - heap;
}

void LeafNode::Insert(int i, const uint8_t* k, std::string_view v) {
  assert(free_bytes() >= LeafCellSize(v.size()));
  int n = count();
  uint8_t* s = slot(i);
  std::memmove(s + page::kLeafSlotSize, s, (n - i) * page::kLeafSlotSize);
  size_t off = heap_start() - v.size();
  std::memcpy(p_ + off, v.data(), v.size());
  std::memcpy(s, k, kTreeKeyBytes);
  EncodeFixed16(s + 16, static_cast<uint16_t>(off));
  EncodeFixed16(s + 18, static_cast<uint16_t>(v.size()));
  EncodeFixed16(p_ + page::kAuxOffset, static_cast<uint16_t>(off));
  EncodeFixed16(p_ + page::kCountOffset, static_cast<uint16_t>(n + 1));
}

void LeafNode::Remove(int i) {
  int n = count();
  uint8_t* s = slot(i);
  size_t off = DecodeFixed16(s + 16), len = DecodeFixed16(s + 18);
  size_t heap = heap_start();
  // Close the hole: values below it move up by len.
  std::memmove(p_ + heap + len, p_ + heap, off - heap);
  for (int j = 0; j < n; ++j) {
    uint8_t* t = slot(j);
    size_t o = DecodeFixed16(t + 16);
    if (o < off) EncodeFixed16(t + 16, static_cast<uint16_t>(o + len));
  }
  std::memmove(s, s + page::kLeafSlotSize, (n - i - 1) * page::kLeafSlotSize);
  EncodeFixed16(p_ + page::kAuxOffset, static_cast<uint16_t>(heap + len));
  EncodeFixed16(p_ + page::kCountOffset, static_cast<uint16_t>(n - 1));
}

void LeafNode::Replace(int i, std::string_view v) {
  uint8_t* s = slot(i);
  if (DecodeFixed16(s + 18) == v.size()) {
    std::memcpy(p_ + DecodeFixed16(s + 16), v.data(), v.size());
    return;
  }
  uint8_t k[kTreeKeyBytes];
  std::memcpy(k, s, kTreeKeyBytes);
  Remove(i);
  Insert(i, k, v);
}

void InternalNode::Init(uint8_t* p, uint32_t pgno, uint32_t child0) {
  std::memset(p, 0, page::kHeaderSize);
  SetPageNumber(p, pgno);
  p[page::kTypeOffset] = page::kInternal;
  EncodeFixed16(p + page::kCountOffset, 0);
  EncodeFixed32(p + page::kAuxOffset, child0);
}

bool InternalNode::Validate(const uint8_t* p, uint32_t page_count) {
  if (p[page::kTypeOffset] != page::kInternal || p[page::kFlagsOffset] != 0) return false;
  size_t n = DecodeFixed16(p + page::kCountOffset);
  if (n > page::kMaxInternalKeys) return false;
  auto bad_child = [&](uint32_t c) { return c < page::kMetaPages || c >= page_count; };
  if (bad_child(DecodeFixed32(p + page::kAuxOffset))) return false;
  const uint8_t* prev = nullptr;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* e = p + page::kHeaderSize + i * page::kInternalEntrySize;
    if (bad_child(DecodeFixed32(e + 16))) return false;
    if (prev != nullptr && CompareKeys(prev, e) >= 0) return false;
    prev = e;
  }
  return true;
}

void InternalNode::Append(const uint8_t* k, uint32_t c) {
  int n = keys();
  assert(static_cast<size_t>(n) < page::kMaxInternalKeys);
  uint8_t* e = entry(n);
  std::memcpy(e, k, kTreeKeyBytes);
  EncodeFixed32(e + 16, c);
  EncodeFixed16(p_ + page::kCountOffset, static_cast<uint16_t>(n + 1));
}

}  // namespace crudjt
