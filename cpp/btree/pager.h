// Pager: the page file under the B+tree. Owns the file descriptor, the two
// meta pages, the free list, the bounded page cache, copy-on-write page
// allocation and the three checkpoint steps. Layout of meta and free-list
// pages: top of pager.cc; doc/file_format.md.
//
// Page states in the cache:
//   clean   identical to the committed file (or to a finished checkpoint);
//           evictable; must be copied to a new page number before an edit.
//   dirty   allocated since the last BeginCheckpoint, not on disk; editable
//           in place; pinned in memory until a checkpoint writes it.
//   frozen  handed to the in-flight checkpoint, which reads the buffer from
//           another thread: immutable; an edit copies it to a new number.
//
// Free page numbers:
//   reusable_          free in the committed tree and in every snapshot;
//                      may be allocated now.
//   pending_           freed since the last BeginCheckpoint but still
//                      referenced by the committed tree or the in-flight
//                      snapshot; reusable after the next checkpoint commits.
//   inflight_pending_  pending_ moved aside by BeginCheckpoint; reusable
//                      when that checkpoint commits, back to pending_ if it
//                      fails.
// So no page a committed meta or the in-flight snapshot references is ever
// overwritten, and the live tree never reads a slot the snapshot writes (it
// reads from disk only clean pages, whose slots no checkpoint writes).
//
// Thread-safety: as BTree (btree.h): everything under the owner's mutex
// except WriteCheckpoint, which touches only the snapshot and the fd.
#ifndef CRUDJT_BTREE_PAGER_H_
#define CRUDJT_BTREE_PAGER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "btree/btree.h"
#include "btree/page_format.h"
#include "crudjt/status.h"

namespace crudjt {

struct Page {
  enum State : uint8_t { kClean, kDirty, kFrozen };
  uint8_t* data = nullptr;  // kPageSize bytes, owned
  uint32_t pgno = 0;
  State state = kClean;
  bool orphan = false;  // frozen and replaced: only the snapshot holds it
  uint32_t list_index = 0;  // position in Pager::clock_ (clean) or dirty_list_
};

// Page buffers and Page records for one pager, carved from 2 MiB chunks
// (transparent huge pages where the kernel allows: a tree of 100k pages
// then costs few TLB misses) and recycled through free lists. Memory is
// the peak number of resident pages, which the cache bounds.
// Thread-safety: none; used under the owner's mutex.
class PageArena {
 public:
  PageArena() = default;
  ~PageArena();
  PageArena(const PageArena&) = delete;
  PageArena& operator=(const PageArena&) = delete;

  Page* New();  // a Page with a kPageSize buffer, fields reset
  void Delete(Page* p);

 private:
  std::vector<void*> chunks_;
  std::vector<uint8_t*> free_buffers_;
  std::vector<std::unique_ptr<Page[]>> page_blocks_;
  std::vector<Page*> free_pages_;
};

class CheckpointSnapshot {
 public:
  ~CheckpointSnapshot();

 private:
  friend class Pager;
  struct Item {
    uint32_t pgno;
    const uint8_t* data;  // frozen page buffer or one of owned_
  };
  std::vector<Item> items_;               // sorted by pgno
  std::vector<Page*> frozen_;             // for FinishCheckpoint
  std::vector<uint8_t*> owned_;           // free-list pages
  std::vector<uint32_t> freelist_pages_;  // their numbers
  uint8_t meta_[kPageSize];
  uint32_t meta_slot_ = 0;
  uint64_t generation_ = 0;
  uint32_t page_count_ = 0;
  // Once this checkpoint commits, the file may be cut to this many pages:
  // the larger page count of the two meta pages then on disk (this one and
  // the previous generation's), so that either one stays openable.
  uint32_t keep_pages_ = 0;
  uint64_t records_ = 0;
  std::shared_ptr<PageArena> arena_;  // set when the pager died first
};

class Pager {
 public:
  static Status Open(const std::string& path, size_t cache_bytes, std::unique_ptr<Pager>* out);
  ~Pager();

  Pager(const Pager&) = delete;
  Pager& operator=(const Pager&) = delete;

  const std::string& path() const { return path_; }
  uint32_t root() const { return root_; }
  void set_root(uint32_t r) { root_ = r; }
  uint64_t records() const { return records_; }
  void add_records(int64_t d) { records_ += d; }
  std::string_view committed_user_meta() const {
    return std::string_view(reinterpret_cast<const char*>(user_meta_), kUserMetaBytes);
  }

  // The page numbered pgno, from the cache or read and verified from disk.
  // Corruption("<file>: page N ...") when it fails its checksum, names
  // another number, has an unexpected type or an inconsistent structure.
  // The pointer stays valid until the next MaybeEvict() or Free() of it.
  Status Get(uint32_t pgno, Page** out) {
    if (pgno < table_.size() && table_[pgno].page != nullptr) {
      refs_[pgno] = 1;
      *out = table_[pgno].page;
      return Status::OK();
    }
    return Load(pgno, out);
  }
  // As Get, for readers: one table lookup, no Page record touched.
  Status Read(uint32_t pgno, const uint8_t** data) {
    if (pgno < table_.size() && table_[pgno].data != nullptr) {
      refs_[pgno] = 1;
      *data = table_[pgno].data;
      return Status::OK();
    }
    Page* p;
    Status s = Load(pgno, &p);
    if (s.ok()) *data = p->data;
    return s;
  }
  // p itself when dirty; otherwise a dirty copy under a new number (the old
  // number is freed for reuse after the next checkpoint). p is invalid
  // afterwards if the number changed.
  Page* MakeWritable(Page* p);
  // A new dirty page of zeros (header uninitialised) with a fresh number.
  Page* Allocate();
  // Drops p from the tree: its number becomes free (at once if it was never
  // part of a checkpoint, else after the next one). p is invalid afterwards.
  void Free(Page* p);
  // Evicts clean pages (CLOCK) until the cache fits its budget or only
  // dirty/frozen pages remain. Invalidates clean Page pointers.
  void MaybeEvict() {
    if (resident_ * kPageSize > cache_bytes_) Evict();
  }

  bool clean() const { return dirty_ == 0 && !changed_; }
  bool checkpoint_in_flight() const { return inflight_ != nullptr; }
  void mark_changed() { changed_ = true; }
  BTreeStats GetStats() const;
  uint64_t dirty_pages() const { return dirty_; }
  uint64_t tree_pages() const {
    return next_pgno_ - page::kMetaPages - reusable_.size() - pending_.size() -
           inflight_pending_.size() - committed_freelist_pages_.size();
  }

  // Vacuum support (btree.cc moves the pages; the pager knows the numbers).
  // Pages the file holds now (meta pages included) and the page counts of
  // the newest committed meta and of the one before it (on the other meta
  // page; 0 if that one does not verify).
  uint32_t page_count() const { return next_pgno_; }
  uint32_t committed_page_count() const { return committed_page_count_; }
  uint32_t previous_page_count() const { return previous_page_count_; }
  // Free pages: reusable now plus freed since the last checkpoint.
  uint64_t free_pages() const {
    return reusable_.size() + pending_.size() + inflight_pending_.size();
  }
  uint64_t reusable_pages() const { return reusable_.size(); }
  bool resident(uint32_t pgno) const { return pgno < table_.size() && table_[pgno].page != nullptr; }
  // (*used)[n] = 1 when page n holds a tree page (clean, dirty or frozen),
  // 0 for meta, free and free-list pages; sized page_count(). Also sorts
  // the reusable numbers so that the lowest are handed out first.
  void UsedMap(std::vector<uint8_t>* used);
  // True when `need` reusable numbers below pgno are available.
  bool HasFreeBelow(uint32_t pgno, size_t need) const {
    return need == 0 || (reusable_.size() >= need && reusable_[reusable_.size() - need] < pgno);
  }
  // Moves p to the lowest reusable number (which must be below p's): a
  // clean or frozen page as MakeWritable does; a dirty page keeps its
  // buffer and its old number is reusable at once. Returns the page (p
  // itself unless p was frozen); p is invalid afterwards if frozen.
  Page* MoveDown(Page* p);
  void add_relocated(uint64_t n) { relocated_ += n; }
  // True when a checkpoint now would let the file shrink: free pages at its
  // end, a cut the previous meta page still holds up, or a tail that a
  // failed truncate left.
  bool TailToCut();

  Status BeginCheckpoint(std::string_view user_meta, std::unique_ptr<CheckpointSnapshot>* snap);
  Status WriteCheckpoint(CheckpointSnapshot* snap);
  void FinishCheckpoint(std::unique_ptr<CheckpointSnapshot> snap, const Status& written);

  // Test hooks (simulated crash: WriteCheckpoint returns IOError at that
  // point, having written what a crash there would leave behind).
  //   stop_after_pages >= 0: after that many page writes, before any fsync
  //   stop_before_meta:      after the data fsync, before the meta write
  //   torn_meta:             writes only the first half of the meta page
  //   skip_meta_sync:        writes the meta, returns IOError without fsync
  //   stop_before_truncate:  commits, then returns IOError before cutting
  //                          the file's free tail (the pager's state is
  //                          then stale: drop it, as a crash would)
  //   delay_checkpoints > 0: the hooks above apply to the checkpoint after
  //                          that many more WriteCheckpoint calls
  struct TestHooks {
    std::atomic<int64_t> stop_after_pages{-1};
    std::atomic<bool> stop_before_meta{false};
    std::atomic<bool> torn_meta{false};
    std::atomic<bool> skip_meta_sync{false};
    std::atomic<bool> stop_before_truncate{false};
    std::atomic<int> delay_checkpoints{0};
  };
  TestHooks* TEST_hooks() { return &hooks_; }

 private:
  Pager(std::string path, int fd, size_t cache_bytes);

  Status Load(uint32_t pgno, Page** out);
  // Reads page pgno into buf and verifies checksum, number and structure;
  // a tree page (leaf/internal) or, when !tree_page, a free-list page.
  Status ReadVerified(uint32_t pgno, uint8_t* buf, bool tree_page);
  Status ReadMeta(int slot, uint8_t* buf, bool* valid, bool* newer);
  Status LoadFreeList(uint32_t head, uint32_t count);
  Status Corrupt(uint32_t pgno, const char* what) const;
  uint32_t TakeFreeNumber();
  Page* NewPage(uint32_t pgno);
  // Table entry + the list of its state (clean: clock_, dirty: dirty_list_,
  // frozen: none, the snapshot holds it).
  void Insert(Page* p);
  void Remove(Page* p);
  void Link(Page* p);
  void Unlink(Page* p);
  void DeletePage(Page* p);
  void Evict();
  void EncodeMeta(uint8_t* buf, uint64_t gen, uint32_t root, uint32_t page_count,
                  uint32_t free_head, uint32_t free_count, uint64_t records,
                  const uint8_t* user_meta) const;
  Status WriteAll(const uint8_t* buf, size_t n, uint64_t off, const char* what);
  Status Sync(const char* what);

  const std::string path_;
  const int fd_;
  const size_t cache_bytes_;

  // Tree state (committed_* describe the last committed meta).
  uint32_t root_ = 0;
  uint64_t records_ = 0;
  uint64_t committed_generation_ = 0;
  uint8_t user_meta_[kUserMetaBytes] = {};
  uint32_t next_pgno_ = page::kMetaPages;  // first number past the file
  // Page counts of the newest committed meta and of the previous one.
  uint32_t committed_page_count_ = page::kMetaPages;
  uint32_t previous_page_count_ = page::kMetaPages;
  uint64_t relocated_ = 0;  // pages moved by vacuums since Open
  bool changed_ = false;                   // root/records changed since Begin

  // Page numbers (see the comment at the top).
  std::vector<uint32_t> reusable_;
  std::vector<uint32_t> pending_;
  std::vector<uint32_t> inflight_pending_;
  std::vector<uint32_t> committed_freelist_pages_;
  CheckpointSnapshot* inflight_ = nullptr;

  // Cache.
  struct Slot {
    Page* page;
    uint8_t* data;  // page->data, kept here to save a dependent load
  };
  std::vector<Slot> table_;     // by page number
  std::vector<uint8_t> refs_;   // CLOCK reference bits, by page number
  std::vector<Page*> clock_;       // resident clean pages (the only evictable ones)
  std::vector<Page*> dirty_list_;  // dirty pages; frozen ones are in inflight_
  size_t clock_hand_ = 0;
  size_t resident_ = 0;  // pages in table_ plus orphans
  size_t dirty_ = 0;

  std::shared_ptr<PageArena> arena_;
  TestHooks hooks_;
};

}  // namespace crudjt

#endif  // CRUDJT_BTREE_PAGER_H_
