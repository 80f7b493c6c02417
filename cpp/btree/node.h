// LeafNode / InternalNode: views over one 4 KiB page buffer that read and
// edit a B+tree node in place (layouts at the top of node.cc). A view does
// not own the buffer. Edits assume the page was checked by Validate() when
// it was read from disk, and that the caller checked the free space first
// (assert only: these are the tree's own invariants).
//
// Thread-safety: none; the buffer's owner serialises access.
#ifndef CRUDJT_BTREE_NODE_H_
#define CRUDJT_BTREE_NODE_H_

#include <cstdint>
#include <cstring>
#include <string_view>

#include "btree/btree.h"
#include "btree/page_format.h"
#include "util/coding.h"

namespace crudjt {

// Unsigned lexicographic order of two 16-byte keys.
inline int CompareKeys(const uint8_t* a, const uint8_t* b) {
  uint64_t a0, b0;
  std::memcpy(&a0, a, 8);
  std::memcpy(&b0, b, 8);
  if (a0 != b0) return __builtin_bswap64(a0) < __builtin_bswap64(b0) ? -1 : 1;
  std::memcpy(&a0, a + 8, 8);
  std::memcpy(&b0, b + 8, 8);
  if (a0 != b0) return __builtin_bswap64(a0) < __builtin_bswap64(b0) ? -1 : 1;
  return 0;
}

// Type-independent header accessors.
inline uint8_t PageType(const uint8_t* p) { return p[page::kTypeOffset]; }
inline uint32_t PageNumber(const uint8_t* p) { return DecodeFixed32(p + page::kPgnoOffset); }
inline void SetPageNumber(uint8_t* p, uint32_t pgno) { EncodeFixed32(p + page::kPgnoOffset, pgno); }
inline uint16_t PageCount(const uint8_t* p) { return DecodeFixed16(p + page::kCountOffset); }

// Bytes a record takes in a leaf (slot + value).
inline size_t LeafCellSize(size_t value_len) { return page::kLeafSlotSize + value_len; }

class LeafNode {
 public:
  explicit LeafNode(uint8_t* p) : p_(p) {}

  // Formats p as an empty leaf numbered pgno.
  static void Init(uint8_t* p, uint32_t pgno);
  // True when the structure is consistent (checked on every read from disk).
  static bool Validate(const uint8_t* p);

  int count() const { return DecodeFixed16(p_ + page::kCountOffset); }
  const uint8_t* key(int i) const { return slot(i); }
  std::string_view value(int i) const {
    const uint8_t* s = slot(i);
    return std::string_view(reinterpret_cast<const char*>(p_) + DecodeFixed16(s + 16),
                            DecodeFixed16(s + 18));
  }
  // Bytes used by slots and values (excluding the header).
  size_t used() const { return page::kLeafSpace - free_bytes(); }
  size_t free_bytes() const { return heap_start() - page::kHeaderSize - count() * page::kLeafSlotSize; }

  // Index of the first key >= k; *found tells whether it equals k.
  int LowerBound(const uint8_t* k, bool* found) const {
    int lo = 0, hi = count();
    while (lo < hi) {
      int mid = (lo + hi) >> 1;
      if (CompareKeys(slot(mid), k) < 0) lo = mid + 1; else hi = mid;
    }
    *found = lo < count() && CompareKeys(slot(lo), k) == 0;
    return lo;
  }

  // Inserts at index i (keys stay sorted); needs free_bytes() >= LeafCellSize(v.size()).
  void Insert(int i, const uint8_t* k, std::string_view v);
  // Removes the record at index i.
  void Remove(int i);
  // Replaces the value at i; needs free_bytes() + value(i).size() >= v.size().
  void Replace(int i, std::string_view v);

 private:
  size_t heap_start() const { return DecodeFixed16(p_ + page::kAuxOffset); }
  uint8_t* slot(int i) const { return p_ + page::kHeaderSize + i * page::kLeafSlotSize; }

  uint8_t* p_;
};

class InternalNode {
 public:
  explicit InternalNode(uint8_t* p) : p_(p) {}

  // Formats p as an internal node numbered pgno with one child.
  static void Init(uint8_t* p, uint32_t pgno, uint32_t child0);
  // True when the structure is consistent; child numbers are checked
  // against page_count.
  static bool Validate(const uint8_t* p, uint32_t page_count);

  int keys() const { return DecodeFixed16(p_ + page::kCountOffset); }
  int children() const { return keys() + 1; }
  const uint8_t* key(int i) const { return entry(i); }
  uint32_t child(int i) const {
    return i == 0 ? DecodeFixed32(p_ + page::kAuxOffset) : DecodeFixed32(entry(i - 1) + 16);
  }
  void set_child(int i, uint32_t c) {
    EncodeFixed32(i == 0 ? p_ + page::kAuxOffset : entry(i - 1) + 16, c);
  }

  // Index of the child whose subtree may hold k (keys >= key(i-1) go right).
  int ChildIndex(const uint8_t* k) const {
    int lo = 0, hi = keys();
    while (lo < hi) {
      int mid = (lo + hi) >> 1;
      if (CompareKeys(entry(mid), k) <= 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  void set_key(int i, const uint8_t* k) { std::memcpy(entry(i), k, kTreeKeyBytes); }

  // Appends (k, c): key(keys()) = k, child(keys()+1) = c. Needs room.
  void Append(const uint8_t* k, uint32_t c);

 private:
  uint8_t* entry(int i) const { return p_ + page::kHeaderSize + i * page::kInternalEntrySize; }

  uint8_t* p_;
};

}  // namespace crudjt

#endif  // CRUDJT_BTREE_NODE_H_
