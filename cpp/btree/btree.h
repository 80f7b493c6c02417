// BTree: the page file. A copy-on-write B+tree of fixed 16-byte keys (keyed
// hashes of tokens) to short opaque values (sealed records), in 4 KiB pages,
// with two alternating meta pages, a persisted free list and a bounded page
// cache. The page layout is documented at the top of btree.cc / pager.cc and
// in doc/file_format.md.
//
// Durability model: the tree itself is only durable at checkpoints. Between
// checkpoints the store's write-ahead log is the source of truth; after a
// crash, Open() yields the tree as of the last completed checkpoint and the
// store replays its log on top. A checkpoint never overwrites a page that
// the last committed meta page references (new versions of pages go to free
// pages or the end of the file), so a crash at any point of a checkpoint
// leaves the previous checkpoint intact.
//
// Thread-safety: NOT thread-safe. The owner (StoreImpl) calls everything
// under its own mutex, except WriteCheckpoint(), which it calls without the
// mutex from its flush thread while other threads keep calling
// Get/Put/Delete/Scan under the mutex. At most one checkpoint is in flight.
// Close() (and the destructor, which calls it) does I/O: call it under the
// mutex, or when no other thread uses the tree (StoreImpl::Close).
#ifndef CRUDJT_BTREE_BTREE_H_
#define CRUDJT_BTREE_BTREE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "crudjt/status.h"

namespace crudjt {

constexpr size_t kPageSize = 4096;
constexpr size_t kTreeKeyBytes = 16;
// Largest value Put accepts (a sealed record is ~320 bytes at most today;
// the rest is room for format growth such as a subject hash).
constexpr size_t kMaxTreeValueBytes = 512;
// Bytes of caller-owned metadata stored in each meta page (log position,
// key check value, ...). Opaque to the tree.
constexpr size_t kUserMetaBytes = 128;

struct TreeKey {
  uint8_t bytes[kTreeKeyBytes];
};

struct BTreeOptions {
  size_t page_cache_bytes = 64ull << 20;
  // Incremental vacuum (doc/file_format.md, "Vacuum"). When the file holds
  // more free pages than copy-on-write needs (twice the pages dirtied since
  // the last checkpoint, at least an eighth of the tree each, plus 64),
  // BeginCheckpoint first moves up to this many tree pages (reading at most
  // 64 of them from disk) from the end of the file into low free pages, so
  // the end of the file empties and later checkpoints cut it off. 0
  // disables it.
  size_t vacuum_pages_per_checkpoint = 1024;
  // Close() (and the destructor) vacuums fully when the tree is clean.
  bool vacuum_on_close = true;
  // ... after packing the records of each run of up to 12 sibling leaves
  // into as few leaves as they fit in (when the tree fits in the page
  // cache). Inserts leave leaves ~85-90% full; a closed file is then
  // smaller, and the first inserts after reopening split sooner.
  bool compact_on_close = true;
};

struct BTreeStats {
  uint64_t records = 0;
  uint64_t pages_total = 0;  // pages in the file, meta pages included
  uint64_t pages_free = 0;   // reusable now or after the next checkpoint
  uint64_t dirty_pages = 0;
  uint64_t cache_bytes = 0;
  uint64_t file_bytes = 0;
  uint64_t pages_relocated = 0;  // moved by vacuums since Open
};

// The frozen state of one checkpoint between Begin and Finish.
class CheckpointSnapshot;

class BTree {
 public:
  // Opens `path`, creating an empty tree if the file does not exist or is
  // empty. Picks the newer of the two meta pages whose checksum verifies.
  //   NotSupported  the file's format version is newer than this code's
  //   Corruption    neither meta page verifies, or a page read later fails
  //                 its checksum (reported by the call that read it)
  //   IOError       open/read failed
  static Status Open(const std::string& path, const BTreeOptions& options,
                     std::unique_ptr<BTree>* out);
  // Drops unwritten changes (the owner checkpoints first), after Close()
  // if it was not called.
  virtual ~BTree();

  // Full vacuum, when vacuum_on_close and the tree is clean (every change
  // checkpointed) with no checkpoint in flight: packs the leaves
  // (compact_on_close), moves every tree page it
  // can from the end of the file into free pages below, then commits as
  // many checkpoints (same user meta, same records) as it takes to cut the
  // file to the live pages. Otherwise nothing. A failure leaves the last
  // committed checkpoint in force and the tree usable: IOError, or
  // Corruption when a page it had to move fails its checksum. The tree
  // stays usable (a later Put simply makes it dirty again).
  virtual Status Close() = 0;

  // The user meta of the last committed checkpoint (zeros for a new file).
  virtual std::string_view committed_user_meta() const = 0;

  // ok + *value, NotFound, or Corruption/IOError.
  virtual Status Get(const TreeKey& key, std::string* value) = 0;
  // Inserts or overwrites. InvalidArgument if value is empty or longer than
  // kMaxTreeValueBytes.
  virtual Status Put(const TreeKey& key, std::string_view value) = 0;
  // *existed (optional) tells whether the key was there.
  virtual Status Delete(const TreeKey& key, bool* existed) = 0;

  // Visits up to `limit` records in key order with key > *after (or from the
  // first key when after == nullptr). fn returns false to stop early. The
  // tree must not be modified from inside fn; collect keys, then Delete.
  // *last receives the last key visited; *done = true when the end of the
  // tree was reached.
  virtual Status Scan(const TreeKey* after, size_t limit,
                      const std::function<bool(const TreeKey&, std::string_view)>& fn,
                      TreeKey* last, bool* done) = 0;

  // Checkpoint, in three steps so that callers are only blocked for the
  // in-memory parts:
  //  1. BeginCheckpoint (caller holds its mutex): freezes every dirty page
  //     and the free list into *snap; later mutations copy-on-write.
  //     user_meta (<= kUserMetaBytes) is stored in the new meta page.
  //  2. WriteCheckpoint (caller does NOT hold its mutex): writes the frozen
  //     pages to their (free) slots, fsyncs, writes the alternate meta page,
  //     fsyncs. On error nothing committed is harmed; the tree stays usable
  //     and a later checkpoint retries.
  //  3. FinishCheckpoint (caller holds its mutex): on success, pages freed
  //     before the snapshot become reusable and frozen pages become clean.
  virtual Status BeginCheckpoint(std::string_view user_meta,
                                 std::unique_ptr<CheckpointSnapshot>* snap) = 0;
  virtual Status WriteCheckpoint(CheckpointSnapshot* snap) = 0;
  virtual void FinishCheckpoint(std::unique_ptr<CheckpointSnapshot> snap, const Status& written) = 0;

  // True when nothing changed since the last checkpoint.
  virtual bool clean() const = 0;
  virtual BTreeStats GetStats() const = 0;
  // Cheap (no system call): pages dirtied since the last BeginCheckpoint,
  // and pages the current tree uses (file pages minus meta and free ones).
  virtual uint64_t dirty_pages() const = 0;
  virtual uint64_t tree_pages() const = 0;

 protected:
  BTree() = default;
};

}  // namespace crudjt

#endif  // CRUDJT_BTREE_BTREE_H_
