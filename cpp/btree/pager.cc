// The page file: meta pages, free-list pages, cache, copy-on-write and
// checkpoints (format version 1). Node pages: node.cc. Overview with an
// example: doc/file_format.md.
//
// The file is an array of 4096-byte pages; page N starts at byte N * 4096.
// All integers are little-endian.
//
//   +--------+--------+--------+--------+-----+
//   | meta 0 | meta 1 | page 2 | page 3 | ... |   leaf, internal, free-list
//   +--------+--------+--------+--------+-----+   or unused (free) pages
//
// META PAGE (pages 0 and 1):
//
//   OFFSET SIZE DESCRIPTION
//        0    8 magic "CRUDJTPG"
//        8    4 format version (1); a newer one is refused (NotSupported)
//       12    4 page size (4096)
//       16    8 checkpoint generation (1, 2, 3, ...)
//       24    4 root page number (0 = empty tree)
//       28    4 page count: pages in the file as of this checkpoint
//       32    4 first free-list page (0 = none)
//       36    4 number of entries in the free list
//       40    8 number of records in the tree
//       48   16 zero
//       64  128 user meta (opaque to the tree; the store's log position...)
//      192 3900 zero
//     4092    4 masked crc32c of bytes [0, 4092)
//
// How the meta pages alternate: checkpoint generation G is written to meta
// page G % 2, after every page it references has been written and
// fdatasync()ed, and is itself followed by an fdatasync. Open() reads both
// meta pages and uses the one that verifies with the highest generation, so
// a crash while writing meta page G % 2 (torn or lost) leaves generation
// G - 1 on the other meta page in force. A new file gets generation 0 on
// page 0 and generation 1 on page 1, both describing the empty tree.
//
// FREE-LIST PAGE (type 3), the usual 16-byte header (node.cc) then
//
//   OFFSET SIZE DESCRIPTION
//       10    2 n: entries in this page (<= 1020)
//       12    4 next free-list page (0 = last)
//       16   4n free page numbers
//
// The free list of generation G names every page below the page count that
// tree G does not use (including the pages only tree G - 1 used). Like tree
// pages, free-list pages are never rewritten in place: each checkpoint
// writes a new list into free pages and frees the old list's pages.
//
// Copy-on-write: a page that is part of a checkpoint (clean, or frozen in
// the checkpoint in flight) is never modified in place; the first edit
// after a checkpoint moves it to a free number (see pager.h), so every
// checkpoint writes only to pages that the last committed generation does
// not reference, and a crash at any point leaves that generation readable.
// Vacuum: free pages at the end of the file leave the page count at the
// next BeginCheckpoint; the file is cut (after a meta page commits, and in
// Open()) only past the larger page count of the two meta pages on disk, so
// the older one stays a complete fallback. Pages past both (a checkpoint
// that never committed, an interrupted cut) are cut off by Open().

#include "btree/pager.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "btree/node.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace crudjt {

namespace {

std::string Errno(const std::string& path, const char* op, int err) {
  return path + ": " + op + ": " + std::strerror(err);
}

uint32_t PageCrc(const uint8_t* p) {
  return crc32c::Mask(crc32c::Value(p + 4, kPageSize - 4));
}

uint8_t* NewBuffer() { return new uint8_t[kPageSize]; }

constexpr size_t kChunkBytes = 2u << 20;
constexpr size_t kPagesPerBlock = 512;

}  // namespace

PageArena::~PageArena() {
  for (void* c : chunks_) std::free(c);
}

Page* PageArena::New() {
  if (free_buffers_.empty()) {
    void* c = std::aligned_alloc(kChunkBytes, kChunkBytes);
    if (c == nullptr) std::abort();  // out of memory, as operator new would
#ifdef MADV_HUGEPAGE
    ::madvise(c, kChunkBytes, MADV_HUGEPAGE);
#endif
    chunks_.push_back(c);
    for (size_t i = kChunkBytes / kPageSize; i-- > 0;) {
      free_buffers_.push_back(static_cast<uint8_t*>(c) + i * kPageSize);
    }
  }
  if (free_pages_.empty()) {
    page_blocks_.emplace_back(new Page[kPagesPerBlock]);
    for (size_t i = kPagesPerBlock; i-- > 0;) free_pages_.push_back(&page_blocks_.back()[i]);
  }
  Page* p = free_pages_.back();
  free_pages_.pop_back();
  *p = Page();
  p->data = free_buffers_.back();
  free_buffers_.pop_back();
  return p;
}

void PageArena::Delete(Page* p) {
  free_buffers_.push_back(p->data);
  free_pages_.push_back(p);
}

CheckpointSnapshot::~CheckpointSnapshot() {
  for (uint8_t* b : owned_) delete[] b;
  if (arena_ != nullptr) {
    for (Page* p : frozen_) arena_->Delete(p);
  }
}

Pager::Pager(std::string path, int fd, size_t cache_bytes)
    : path_(std::move(path)),
      fd_(fd),
      cache_bytes_(std::max<size_t>(cache_bytes, 16 * kPageSize)),
      arena_(std::make_shared<PageArena>()) {}

Pager::~Pager() {
  if (inflight_ != nullptr) {
    // The snapshot outlives us: give it its frozen pages.
    for (Page* p : inflight_->frozen_) {
      if (!p->orphan) {
        Remove(p);
        p->orphan = true;
      }
    }
    inflight_->arena_ = arena_;
  }
  ::close(fd_);
}

Status Pager::Open(const std::string& path, size_t cache_bytes, std::unique_ptr<Pager>* out) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(Errno(path, "open", errno));
  std::unique_ptr<Pager> pager(new Pager(path, fd, cache_bytes));
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::IOError(Errno(path, "fstat", errno));
  uint64_t size = static_cast<uint64_t>(st.st_size);

  if (size == 0) {
    uint8_t buf[kPageSize];
    for (uint32_t gen = 0; gen < 2; ++gen) {
      pager->EncodeMeta(buf, gen, 0, page::kMetaPages, 0, 0, 0, pager->user_meta_);
      Status s = pager->WriteAll(buf, kPageSize, gen * kPageSize, "write meta");
      if (!s.ok()) return s;
    }
    Status s = pager->Sync("fdatasync");
    if (!s.ok()) return s;
    pager->committed_generation_ = 1;
    *out = std::move(pager);
    return Status::OK();
  }

  uint8_t meta[2][kPageSize];
  bool valid[2], newer[2];
  for (int slot = 0; slot < 2; ++slot) {
    Status s = pager->ReadMeta(slot, meta[slot], &valid[slot], &newer[slot]);
    if (!s.ok()) return s;
  }
  if (newer[0] || newer[1]) {
    uint32_t v = DecodeFixed32(meta[newer[0] ? 0 : 1] + page::kMetaVersionOffset);
    return Status::NotSupported(path + ": page file format version " + std::to_string(v) +
                                " is newer than this code's " +
                                std::to_string(page::kFormatVersion));
  }
  int pick = -1;
  for (int slot = 0; slot < 2; ++slot) {
    if (!valid[slot]) continue;
    if (pick < 0 || DecodeFixed64(meta[slot] + page::kMetaGenerationOffset) >
                        DecodeFixed64(meta[pick] + page::kMetaGenerationOffset)) {
      pick = slot;
    }
  }
  if (pick < 0) return Status::Corruption(path + ": no valid meta page (both fail their checksum)");
  const uint8_t* m = meta[pick];
  uint32_t page_count = DecodeFixed32(m + page::kMetaPageCountOffset);
  uint32_t root = DecodeFixed32(m + page::kMetaRootOffset);
  uint32_t free_head = DecodeFixed32(m + page::kMetaFreeHeadOffset);
  uint32_t free_count = DecodeFixed32(m + page::kMetaFreeCountOffset);
  if (page_count < page::kMetaPages || root >= page_count ||
      (root != 0 && root < page::kMetaPages) || free_head >= page_count) {
    return Status::Corruption(path + ": meta page " + std::to_string(pick) + " is inconsistent");
  }
  if (size < uint64_t{page_count} * kPageSize) {
    return Status::Corruption(path + ": file truncated: " + std::to_string(size) +
                              " bytes, the meta page says " + std::to_string(page_count) +
                              " pages");
  }
  // The other meta page, if it verifies, is the previous generation: the
  // file keeps its pages too (see "Vacuum" in doc/file_format.md), so that
  // it stays a complete fallback should the newest meta page be lost.
  uint32_t previous = 0;
  if (valid[1 - pick]) previous = DecodeFixed32(meta[1 - pick] + page::kMetaPageCountOffset);
  const uint64_t keep = uint64_t{std::max(page_count, previous)} * kPageSize;
  if (size > keep) {
    // Pages of a checkpoint that never committed, or a tail whose cut a
    // crash interrupted.
    if (::ftruncate(fd, static_cast<off_t>(keep)) != 0) {
      return Status::IOError(Errno(path, "ftruncate", errno));
    }
  }
  pager->committed_page_count_ = page_count;
  pager->previous_page_count_ = previous;
  pager->committed_generation_ = DecodeFixed64(m + page::kMetaGenerationOffset);
  pager->root_ = root;
  pager->records_ = DecodeFixed64(m + page::kMetaRecordsOffset);
  pager->next_pgno_ = page_count;
  std::memcpy(pager->user_meta_, m + page::kMetaUserOffset, kUserMetaBytes);
  Status s = pager->LoadFreeList(free_head, free_count);
  if (!s.ok()) return s;
  *out = std::move(pager);
  return Status::OK();
}

Status Pager::ReadMeta(int slot, uint8_t* buf, bool* valid, bool* newer) {
  *valid = *newer = false;
  ssize_t n = ::pread(fd_, buf, kPageSize, static_cast<off_t>(slot) * kPageSize);
  if (n < 0) return Status::IOError(Errno(path_, "read meta page", errno));
  if (static_cast<size_t>(n) < kPageSize) return Status::OK();
  if (std::memcmp(buf + page::kMetaMagicOffset, page::kMagic, 8) != 0) return Status::OK();
  // The checksum comes first: a flipped byte in the version field must read
  // as a damaged meta page, not as a store from the future. Magic, version
  // and the checksum's offset and range are the part of the meta page every
  // format version keeps, so a genuinely newer file still verifies here.
  uint32_t crc = crc32c::Unmask(DecodeFixed32(buf + page::kMetaCrcOffset));
  if (crc != crc32c::Value(buf, page::kMetaCrcOffset)) return Status::OK();
  uint32_t version = DecodeFixed32(buf + page::kMetaVersionOffset);
  if (version > page::kFormatVersion) {
    *newer = true;
    return Status::OK();
  }
  *valid = version == page::kFormatVersion &&
           DecodeFixed32(buf + page::kMetaPageSizeOffset) == kPageSize;
  return Status::OK();
}

Status Pager::LoadFreeList(uint32_t head, uint32_t count) {
  std::vector<bool> seen(next_pgno_, false);
  std::unique_ptr<uint8_t[]> page(new uint8_t[kPageSize]);
  uint8_t* buf = page.get();
  uint32_t pgno = head;
  while (pgno != 0) {
    if (pgno < page::kMetaPages || seen[pgno]) return Corrupt(pgno, "free list loops or is out of range");
    seen[pgno] = true;
    // Read, not cached: the page is free once the next checkpoint commits.
    Status s = ReadVerified(pgno, buf, /*tree_page=*/false);
    if (!s.ok()) return s;
    committed_freelist_pages_.push_back(pgno);
    uint32_t n = PageCount(buf);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t e = DecodeFixed32(buf + page::kHeaderSize + 4 * i);
      if (e < page::kMetaPages || e >= next_pgno_ || seen[e]) {
        return Corrupt(pgno, "free list entry out of range or repeated");
      }
      seen[e] = true;
      reusable_.push_back(e);
    }
    pgno = DecodeFixed32(buf + page::kAuxOffset);
  }
  if (reusable_.size() != count) {
    return Status::Corruption(path_ + ": free list holds " + std::to_string(reusable_.size()) +
                              " pages, the meta page says " + std::to_string(count));
  }
  // Hand out low numbers first (pop_back), which keeps the file compact.
  std::sort(reusable_.rbegin(), reusable_.rend());
  return Status::OK();
}

Status Pager::Corrupt(uint32_t pgno, const char* what) const {
  return Status::Corruption(path_ + ": page " + std::to_string(pgno) + " " + what);
}

Status Pager::ReadVerified(uint32_t pgno, uint8_t* buf, bool tree_page) {
  if (pgno < page::kMetaPages || pgno >= next_pgno_) return Corrupt(pgno, "is out of range");
  ssize_t n = ::pread(fd_, buf, kPageSize, static_cast<off_t>(pgno) * kPageSize);
  if (n < 0) {
    return Status::IOError(Errno(path_, ("read page " + std::to_string(pgno)).c_str(), errno));
  }
  if (static_cast<size_t>(n) < kPageSize) return Corrupt(pgno, "is past the end of the file (truncated)");
  if (crc32c::Unmask(DecodeFixed32(buf + page::kCrcOffset)) != crc32c::Value(buf + 4, kPageSize - 4)) {
    return Corrupt(pgno, "checksum mismatch");
  }
  if (PageNumber(buf) != pgno) {
    return Corrupt(pgno, ("holds page " + std::to_string(PageNumber(buf)) + " (misdirected write)").c_str());
  }
  bool ok = false;
  switch (PageType(buf)) {
    case page::kLeaf: ok = tree_page && LeafNode::Validate(buf); break;
    case page::kInternal: ok = tree_page && InternalNode::Validate(buf, next_pgno_); break;
    case page::kFreeList:
      ok = !tree_page && PageCount(buf) <= page::kFreeListEntries && buf[page::kFlagsOffset] == 0;
      break;
    default: break;
  }
  if (!ok) return Corrupt(pgno, tree_page ? "has an invalid structure (not a tree page)" : "is not a free-list page");
  return Status::OK();
}

Status Pager::Load(uint32_t pgno, Page** out) {
  // Only tree pages enter the cache: a cached page's number is never free,
  // so handing a free number out never meets a resident page.
  Page* p = arena_->New();
  Status s = ReadVerified(pgno, p->data, /*tree_page=*/true);
  if (!s.ok()) {
    arena_->Delete(p);
    return s;
  }
  p->pgno = pgno;
  p->state = Page::kClean;
  Insert(p);
  *out = p;
  return Status::OK();
}

void Pager::Link(Page* p) {
  if (p->state == Page::kFrozen) return;  // the snapshot holds frozen pages
  std::vector<Page*>& list = p->state == Page::kClean ? clock_ : dirty_list_;
  p->list_index = static_cast<uint32_t>(list.size());
  list.push_back(p);
}

void Pager::Unlink(Page* p) {
  if (p->state == Page::kFrozen) return;
  std::vector<Page*>& list = p->state == Page::kClean ? clock_ : dirty_list_;
  assert(p->list_index < list.size() && list[p->list_index] == p);
  Page* last = list.back();
  list[p->list_index] = last;
  last->list_index = p->list_index;
  list.pop_back();
}

void Pager::Insert(Page* p) {
  if (p->pgno >= table_.size()) {
    size_t n = std::max<size_t>(p->pgno + 1, table_.size() * 2);
    table_.resize(n, Slot{nullptr, nullptr});
    refs_.resize(n, 0);
  }
  assert(table_[p->pgno].page == nullptr);
  table_[p->pgno] = Slot{p, p->data};
  refs_[p->pgno] = 1;
  Link(p);
  ++resident_;
}

void Pager::Remove(Page* p) {
  assert(table_[p->pgno].page == p);
  table_[p->pgno] = Slot{nullptr, nullptr};
  Unlink(p);
}

void Pager::DeletePage(Page* p) {
  arena_->Delete(p);
  --resident_;
}

uint32_t Pager::TakeFreeNumber() {
  if (!reusable_.empty()) {
    uint32_t n = reusable_.back();
    reusable_.pop_back();
    return n;
  }
  return next_pgno_++;
}

Page* Pager::NewPage(uint32_t pgno) {
  Page* p = arena_->New();
  p->pgno = pgno;
  p->state = Page::kDirty;
  Insert(p);
  ++dirty_;
  return p;
}

Page* Pager::Allocate() {
  Page* p = NewPage(TakeFreeNumber());
  std::memset(p->data, 0, kPageSize);
  return p;
}

void Pager::UsedMap(std::vector<uint8_t>* used) {
  used->assign(next_pgno_, 1);
  for (uint32_t i = 0; i < page::kMetaPages && i < next_pgno_; ++i) (*used)[i] = 0;
  for (const auto* list : {&reusable_, &pending_, &inflight_pending_, &committed_freelist_pages_}) {
    for (uint32_t n : *list) (*used)[n] = 0;
  }
  std::sort(reusable_.rbegin(), reusable_.rend());
}

bool Pager::TailToCut() {
  std::sort(reusable_.rbegin(), reusable_.rend());
  if (!reusable_.empty() && reusable_[0] == next_pgno_ - 1) return true;
  if (previous_page_count_ > committed_page_count_) return true;
  struct stat sb;
  return ::fstat(fd_, &sb) == 0 &&
         static_cast<uint64_t>(sb.st_size) >
             uint64_t{std::max(committed_page_count_, previous_page_count_)} * kPageSize;
}

Page* Pager::MoveDown(Page* p) {
  assert(!reusable_.empty() && reusable_.back() < p->pgno);
  if (p->state != Page::kDirty) return MakeWritable(p);
  // Never part of a checkpoint: renumber the buffer, and the old number is
  // free at once. Keep reusable_ sorted (descending) for the next move.
  const uint32_t old = p->pgno;
  Remove(p);
  p->pgno = TakeFreeNumber();
  SetPageNumber(p->data, p->pgno);
  --resident_;  // Insert counts it again
  Insert(p);
  reusable_.insert(std::lower_bound(reusable_.begin(), reusable_.end(), old,
                                    [](uint32_t a, uint32_t b) { return a > b; }),
                   old);
  return p;
}

Page* Pager::MakeWritable(Page* p) {
  if (p->state == Page::kDirty) return p;
  uint32_t old = p->pgno;
  pending_.push_back(old);
  if (p->state == Page::kClean) {
    // Renumber the buffer: nobody else holds it.
    Remove(p);  // from the clock (state still clean)
    p->pgno = TakeFreeNumber();
    SetPageNumber(p->data, p->pgno);
    p->state = Page::kDirty;
    ++dirty_;
    --resident_;  // Insert counts it again
    Insert(p);    // onto the dirty list
    return p;
  }
  // Frozen: the checkpoint thread may be reading the buffer; copy it.
  Remove(p);
  p->orphan = true;
  Page* np = NewPage(TakeFreeNumber());
  std::memcpy(np->data, p->data, kPageSize);
  SetPageNumber(np->data, np->pgno);
  return np;
}

void Pager::Free(Page* p) {
  changed_ = true;
  Remove(p);
  switch (p->state) {
    case Page::kDirty:
      // Never part of a checkpoint: reusable at once.
      reusable_.push_back(p->pgno);
      --dirty_;
      DeletePage(p);
      break;
    case Page::kClean:
      pending_.push_back(p->pgno);
      DeletePage(p);
      break;
    case Page::kFrozen:
      pending_.push_back(p->pgno);
      p->orphan = true;
      break;
  }
}

void Pager::Evict() {
  // clock_ holds only clean pages, so every step either clears a reference
  // bit (set again only by a later access) or evicts: the victim search is
  // O(1) amortised, whatever the number of dirty or frozen pages.
  const size_t budget = cache_bytes_ / kPageSize;
  while (resident_ > budget && !clock_.empty()) {
    if (clock_hand_ >= clock_.size()) clock_hand_ = 0;
    Page* p = clock_[clock_hand_];
    assert(p->state == Page::kClean);
    if (refs_[p->pgno]) {
      refs_[p->pgno] = 0;
      ++clock_hand_;
    } else {
      Remove(p);  // moves the last clean page to clock_hand_
      DeletePage(p);
    }
  }
}

BTreeStats Pager::GetStats() const {
  BTreeStats st;
  st.records = records_;
  st.pages_total = next_pgno_;
  st.pages_free = reusable_.size() + pending_.size() + inflight_pending_.size();
  st.dirty_pages = dirty_;
  st.cache_bytes = resident_ * kPageSize;
  struct stat sb;
  if (::fstat(fd_, &sb) == 0) st.file_bytes = static_cast<uint64_t>(sb.st_size);
  st.pages_relocated = relocated_;
  return st;
}

void Pager::EncodeMeta(uint8_t* buf, uint64_t gen, uint32_t root, uint32_t page_count,
                       uint32_t free_head, uint32_t free_count, uint64_t records,
                       const uint8_t* user_meta) const {
  std::memset(buf, 0, kPageSize);
  std::memcpy(buf + page::kMetaMagicOffset, page::kMagic, 8);
  EncodeFixed32(buf + page::kMetaVersionOffset, page::kFormatVersion);
  EncodeFixed32(buf + page::kMetaPageSizeOffset, kPageSize);
  EncodeFixed64(buf + page::kMetaGenerationOffset, gen);
  EncodeFixed32(buf + page::kMetaRootOffset, root);
  EncodeFixed32(buf + page::kMetaPageCountOffset, page_count);
  EncodeFixed32(buf + page::kMetaFreeHeadOffset, free_head);
  EncodeFixed32(buf + page::kMetaFreeCountOffset, free_count);
  EncodeFixed64(buf + page::kMetaRecordsOffset, records);
  std::memcpy(buf + page::kMetaUserOffset, user_meta, kUserMetaBytes);
  EncodeFixed32(buf + page::kMetaCrcOffset,
                crc32c::Mask(crc32c::Value(buf, page::kMetaCrcOffset)));
}

Status Pager::WriteAll(const uint8_t* buf, size_t n, uint64_t off, const char* what) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd_, buf, n, static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(Errno(path_, what, errno));
    }
    buf += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
  return Status::OK();
}

Status Pager::Sync(const char* what) {
  if (::fdatasync(fd_) != 0) return Status::IOError(Errno(path_, what, errno));
  return Status::OK();
}

Status Pager::BeginCheckpoint(std::string_view user_meta,
                              std::unique_ptr<CheckpointSnapshot>* out) {
  if (inflight_ != nullptr) return Status::InvalidArgument("a checkpoint is already in flight");
  if (user_meta.size() > kUserMetaBytes) {
    return Status::InvalidArgument("user meta longer than kUserMetaBytes");
  }
  std::unique_ptr<CheckpointSnapshot> snap(new CheckpointSnapshot);

  // Hand out low numbers first (pop_back) and give trailing free pages
  // back: they are free in the committed tree and in this snapshot, so the
  // new page count can leave them out and the file shrinks once this
  // checkpoint commits (WriteCheckpoint truncates; Open cuts pages past
  // the page count anyway). Pages pending_ holds are still referenced by
  // the committed tree and stay.
  std::sort(reusable_.rbegin(), reusable_.rend());
  size_t trailing = 0;  // sorted descending: the highest numbers are in front
  while (trailing < reusable_.size() && reusable_[trailing] == next_pgno_ - 1 - trailing) {
    ++trailing;
  }
  if (trailing > 0) {
    reusable_.erase(reusable_.begin(), reusable_.begin() + static_cast<ptrdiff_t>(trailing));
    next_pgno_ -= static_cast<uint32_t>(trailing);
  }

  // The committed free list is superseded by the one written now.
  pending_.insert(pending_.end(), committed_freelist_pages_.begin(),
                  committed_freelist_pages_.end());
  committed_freelist_pages_.clear();
  inflight_pending_.swap(pending_);
  pending_.clear();

  // Numbers for the new free-list pages, taken from the list itself.
  auto entries = [&] { return reusable_.size() + inflight_pending_.size(); };
  while (snap->freelist_pages_.size() <
         (entries() + page::kFreeListEntries - 1) / page::kFreeListEntries) {
    snap->freelist_pages_.push_back(TakeFreeNumber());
  }
  std::vector<uint32_t> all(reusable_);
  all.insert(all.end(), inflight_pending_.begin(), inflight_pending_.end());
  size_t pos = 0;
  for (size_t i = 0; i < snap->freelist_pages_.size(); ++i) {
    uint8_t* b = NewBuffer();
    std::memset(b, 0, kPageSize);
    snap->owned_.push_back(b);
    SetPageNumber(b, snap->freelist_pages_[i]);
    b[page::kTypeOffset] = page::kFreeList;
    size_t n = std::min(page::kFreeListEntries, all.size() - pos);
    EncodeFixed16(b + page::kCountOffset, static_cast<uint16_t>(n));
    uint32_t next = i + 1 < snap->freelist_pages_.size() ? snap->freelist_pages_[i + 1] : 0;
    EncodeFixed32(b + page::kAuxOffset, next);
    for (size_t j = 0; j < n; ++j) EncodeFixed32(b + page::kHeaderSize + 4 * j, all[pos + j]);
    pos += n;
    snap->items_.push_back({snap->freelist_pages_[i], b});
  }
  assert(pos == all.size());

  // Freeze the dirty pages.
  assert(dirty_list_.size() == dirty_);
  snap->frozen_.reserve(dirty_list_.size());
  snap->items_.reserve(snap->items_.size() + dirty_list_.size());
  for (Page* p : dirty_list_) {
    p->state = Page::kFrozen;
    snap->frozen_.push_back(p);
    snap->items_.push_back({p->pgno, p->data});
  }
  dirty_list_.clear();
  dirty_ = 0;
  std::sort(snap->items_.begin(), snap->items_.end(),
            [](const CheckpointSnapshot::Item& a, const CheckpointSnapshot::Item& b) {
              return a.pgno < b.pgno;
            });

  uint8_t um[kUserMetaBytes] = {};
  if (!user_meta.empty()) std::memcpy(um, user_meta.data(), user_meta.size());
  snap->generation_ = committed_generation_ + 1;
  snap->meta_slot_ = static_cast<uint32_t>(snap->generation_ % 2);
  snap->page_count_ = next_pgno_;
  snap->keep_pages_ = std::max(next_pgno_, committed_page_count_);
  snap->records_ = records_;
  EncodeMeta(snap->meta_, snap->generation_, root_, next_pgno_,
             snap->freelist_pages_.empty() ? 0 : snap->freelist_pages_[0],
             static_cast<uint32_t>(all.size()), records_, um);
  changed_ = false;
  inflight_ = snap.get();
  *out = std::move(snap);
  return Status::OK();
}

Status Pager::WriteCheckpoint(CheckpointSnapshot* snap) {
  constexpr size_t kBatch = 64;
  std::unique_ptr<uint8_t[]> buf(new uint8_t[kBatch * kPageSize]);
  // Test hooks: armed for this checkpoint unless delayed.
  bool armed = true;
  for (int d = hooks_.delay_checkpoints.load(); d > 0;
       d = hooks_.delay_checkpoints.load()) {
    if (hooks_.delay_checkpoints.compare_exchange_weak(d, d - 1)) {
      armed = false;
      break;
    }
  }
  const int64_t stop = armed ? hooks_.stop_after_pages.load() : -1;
  int64_t written = 0;
  const auto& items = snap->items_;
  for (size_t i = 0; i < items.size();) {
    size_t j = i;
    while (j < items.size() && j - i < kBatch && items[j].pgno == items[i].pgno + (j - i)) {
      uint8_t* dst = buf.get() + (j - i) * kPageSize;
      std::memcpy(dst, items[j].data, kPageSize);
      EncodeFixed32(dst + page::kCrcOffset, PageCrc(dst));
      ++j;
    }
    size_t run = j - i;
    if (stop >= 0 && written + static_cast<int64_t>(run) > stop) {
      run = static_cast<size_t>(stop - written);
      Status s = WriteAll(buf.get(), run * kPageSize, uint64_t{items[i].pgno} * kPageSize, "write page");
      if (!s.ok()) return s;
      return Status::IOError("TEST: checkpoint stopped after " + std::to_string(stop) + " page writes");
    }
    Status s = WriteAll(buf.get(), run * kPageSize, uint64_t{items[i].pgno} * kPageSize, "write page");
    if (!s.ok()) return s;
    written += static_cast<int64_t>(run);
    i = j;
  }
  // Free pages at the end may never have been written: the file must still
  // cover the page count.
  struct stat st;
  if (::fstat(fd_, &st) != 0) return Status::IOError(Errno(path_, "fstat", errno));
  uint64_t want = uint64_t{snap->page_count_} * kPageSize;
  if (static_cast<uint64_t>(st.st_size) < want &&
      ::ftruncate(fd_, static_cast<off_t>(want)) != 0) {
    return Status::IOError(Errno(path_, "ftruncate", errno));
  }
  if (stop >= 0) return Status::IOError("TEST: checkpoint stopped before fdatasync");
  Status s = Sync("fdatasync pages");
  if (!s.ok()) return s;
  if (armed && hooks_.stop_before_meta.load()) return Status::IOError("TEST: checkpoint stopped before meta");
  uint64_t meta_off = uint64_t{snap->meta_slot_} * kPageSize;
  if (armed && hooks_.torn_meta.load()) {
    s = WriteAll(snap->meta_, kPageSize / 2, meta_off, "write meta page");
    if (!s.ok()) return s;
    return Status::IOError("TEST: torn meta page");
  }
  s = WriteAll(snap->meta_, kPageSize, meta_off, "write meta page");
  if (!s.ok()) return s;
  if (armed && hooks_.skip_meta_sync.load()) return Status::IOError("TEST: checkpoint stopped before meta fdatasync");
  s = Sync("fdatasync meta page");
  if (!s.ok()) return s;
  // Committed. Pages past both page counts on disk (this meta's and the
  // previous generation's, on the other meta page) are referenced by no
  // meta page any more: trailing free pages given back by this and the
  // previous BeginCheckpoint. A failed or lost truncate is harmless: Open()
  // cuts them.
  const uint64_t keep = uint64_t{snap->keep_pages_} * kPageSize;
  const uint64_t size = std::max<uint64_t>(static_cast<uint64_t>(st.st_size), want);
  if (armed && hooks_.stop_before_truncate.load()) {
    return Status::IOError("TEST: checkpoint stopped before the truncate");
  }
  if (size > keep) (void)::ftruncate(fd_, static_cast<off_t>(keep));
  return Status::OK();
}

void Pager::FinishCheckpoint(std::unique_ptr<CheckpointSnapshot> snap, const Status& written) {
  assert(snap.get() == inflight_);
  inflight_ = nullptr;
  if (written.ok()) {
    committed_generation_ = snap->generation_;
    previous_page_count_ = committed_page_count_;
    committed_page_count_ = snap->page_count_;
    std::memcpy(user_meta_, snap->meta_ + page::kMetaUserOffset, kUserMetaBytes);
    reusable_.insert(reusable_.end(), inflight_pending_.begin(), inflight_pending_.end());
    // Low numbers first (pop_back), so that the end of the file empties
    // and the next BeginCheckpoint can give it back.
    std::sort(reusable_.rbegin(), reusable_.rend());
    committed_freelist_pages_ = snap->freelist_pages_;
  } else {
    // Generation G - 1 is still the committed one.
    pending_.insert(pending_.end(), inflight_pending_.begin(), inflight_pending_.end());
    reusable_.insert(reusable_.end(), snap->freelist_pages_.begin(), snap->freelist_pages_.end());
    changed_ = true;
  }
  inflight_pending_.clear();
  for (Page* p : snap->frozen_) {
    if (p->orphan) {
      DeletePage(p);
    } else if (written.ok()) {
      p->state = Page::kClean;
      Link(p);  // onto the clock
    } else {
      p->state = Page::kDirty;
      Link(p);  // back onto the dirty list
      ++dirty_;
    }
  }
  snap->frozen_.clear();
}

}  // namespace crudjt
