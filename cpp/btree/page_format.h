// Constants of the page file format (format version 1). The byte layouts are
// documented at the top of pager.cc (meta and free-list pages) and node.cc
// (leaf and internal pages), and in doc/file_format.md. Every integer is
// little-endian (util/coding.h).
#ifndef CRUDJT_BTREE_PAGE_FORMAT_H_
#define CRUDJT_BTREE_PAGE_FORMAT_H_

#include <cstddef>
#include <cstdint>

#include "btree/btree.h"

namespace crudjt {
namespace page {

constexpr uint32_t kFormatVersion = 1;
constexpr char kMagic[8] = {'C', 'R', 'U', 'D', 'J', 'T', 'P', 'G'};
constexpr uint32_t kMetaPages = 2;  // pages 0 and 1

// Page types (byte 8 of every non-meta page).
enum Type : uint8_t {
  kLeaf = 1,
  kInternal = 2,
  kFreeList = 3,
};

// Common header of every non-meta page.
constexpr size_t kCrcOffset = 0;     // u32 masked crc32c of bytes [4, 4096)
constexpr size_t kPgnoOffset = 4;    // u32 the page's own number
constexpr size_t kTypeOffset = 8;    // u8  Type
constexpr size_t kFlagsOffset = 9;   // u8  0 (reserved)
constexpr size_t kCountOffset = 10;  // u16 cells / keys / entries
constexpr size_t kAuxOffset = 12;    // u32 leaf: u16 heap start + u16 0;
                                     //     internal: leftmost child;
                                     //     free list: next free-list page
constexpr size_t kHeaderSize = 16;

// Leaf: slots of kLeafSlotSize after the header, values at the page end.
constexpr size_t kLeafSlotSize = kTreeKeyBytes + 4;  // key, u16 offset, u16 length
constexpr size_t kLeafSpace = kPageSize - kHeaderSize;

// Internal: (key, child) entries after the header.
constexpr size_t kInternalEntrySize = kTreeKeyBytes + 4;
constexpr size_t kMaxInternalKeys = (kPageSize - kHeaderSize) / kInternalEntrySize;  // 204
constexpr size_t kMaxChildren = kMaxInternalKeys + 1;

// Free-list page: u32 page numbers after the header.
constexpr size_t kFreeListEntries = (kPageSize - kHeaderSize) / 4;  // 1020

// Meta page (pages 0 and 1).
constexpr size_t kMetaMagicOffset = 0;        // 8 bytes "CRUDJTPG"
constexpr size_t kMetaVersionOffset = 8;      // u32 format version
constexpr size_t kMetaPageSizeOffset = 12;    // u32 page size (4096)
constexpr size_t kMetaGenerationOffset = 16;  // u64 checkpoint generation
constexpr size_t kMetaRootOffset = 24;        // u32 root page (0 = empty tree)
constexpr size_t kMetaPageCountOffset = 28;   // u32 pages in the file
constexpr size_t kMetaFreeHeadOffset = 32;    // u32 first free-list page (0 = none)
constexpr size_t kMetaFreeCountOffset = 36;   // u32 entries in the free list
constexpr size_t kMetaRecordsOffset = 40;     // u64 records in the tree
constexpr size_t kMetaUserOffset = 64;        // kUserMetaBytes of caller meta
constexpr size_t kMetaCrcOffset = kPageSize - 4;  // u32 masked crc32c of [0, 4092)

// Deepest tree accepted while descending (a corrupt cycle cannot loop).
constexpr int kMaxHeight = 32;

}  // namespace page
}  // namespace crudjt

#endif  // CRUDJT_BTREE_PAGE_FORMAT_H_
