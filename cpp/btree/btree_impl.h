// BTreeImpl: the B+tree algorithms (btree.cc) over a Pager (pager.h).
// Exposed for tests (TEST_ hooks); the store uses BTree (btree.h).
#ifndef CRUDJT_BTREE_BTREE_IMPL_H_
#define CRUDJT_BTREE_BTREE_IMPL_H_

#include <array>
#include <memory>
#include <vector>

#include "btree/btree.h"
#include "btree/pager.h"

namespace crudjt {

class BTreeImpl : public BTree {
 public:
  BTreeImpl(std::unique_ptr<Pager> pager, const BTreeOptions& options)
      : pager_(std::move(pager)), options_(options) {}
  ~BTreeImpl() override { (void)Close(); }

  Status Close() override;

  std::string_view committed_user_meta() const override { return pager_->committed_user_meta(); }
  Status Get(const TreeKey& key, std::string* value) override;
  Status Put(const TreeKey& key, std::string_view value) override;
  Status Delete(const TreeKey& key, bool* existed) override;
  Status Scan(const TreeKey* after, size_t limit,
              const std::function<bool(const TreeKey&, std::string_view)>& fn, TreeKey* last,
              bool* done) override;
  // Vacuums (bounded by options.vacuum_pages_per_checkpoint) when the file
  // holds more free pages than the tree needs, then freezes the snapshot.
  Status BeginCheckpoint(std::string_view user_meta,
                         std::unique_ptr<CheckpointSnapshot>* snap) override;
  Status WriteCheckpoint(CheckpointSnapshot* snap) override { return pager_->WriteCheckpoint(snap); }
  void FinishCheckpoint(std::unique_ptr<CheckpointSnapshot> snap, const Status& written) override {
    pager_->FinishCheckpoint(std::move(snap), written);
  }
  bool clean() const override { return pager_->clean(); }
  BTreeStats GetStats() const override { return pager_->GetStats(); }
  uint64_t dirty_pages() const override { return pager_->dirty_pages(); }
  uint64_t tree_pages() const override { return pager_->tree_pages(); }

  // Walks the whole tree checking key order, separator bounds and the record
  // count; reports leaves, bytes used in leaves and the height.
  struct Shape {
    uint64_t leaves = 0, internals = 0, leaf_bytes = 0, records = 0;
    int height = 0;
  };
  Status TEST_Check(Shape* shape);

  // The vacuum's step: moves up to max_pages tree pages numbered >= goal,
  // highest first, into the lowest reusable page numbers (each move
  // rewrites the page's path from the root, copy-on-write). Stops early
  // when no reusable numbers below the next page are left. *moved counts
  // the pages moved. The file shrinks once checkpoints commit the moves.
  // Also stops before a page that is not in the cache once max_reads pages
  // were read from disk (a periodic vacuum runs under the owner's mutex).
  Status Relocate(uint32_t goal, size_t max_pages, size_t* moved,
                  size_t max_reads = SIZE_MAX);
  Pager* TEST_pager() { return pager_.get(); }
  // The number of the leaf that holds (or would hold) key.
  Status TEST_LeafOf(const TreeKey& key, uint32_t* pgno);
  Pager::TestHooks* TEST_hooks() { return pager_->TEST_hooks(); }

 private:
  using Key = std::array<uint8_t, kTreeKeyBytes>;
  // Leaves one rewrite may take: 3 for inserts and deletes, kCompactWindow
  // for Close's compaction.
  static constexpr int kCompactWindow = 12;
  static constexpr int kMaxWindow = kCompactWindow;
  struct Step {
    Page* page;
    int index;  // child taken (internal) or slot (leaf)
  };
  struct Entries {  // an internal node, or several, unpacked
    std::vector<uint32_t> child;
    std::vector<Key> key;  // key[i] separates child[i] and child[i + 1]
  };
  struct Cell {
    const uint8_t* key;
    std::string_view value;
  };

  Status Descend(const uint8_t* key, Step* path, int* depth, bool* found);
  void MakePathWritable(Step* path, int depth);
  Status LoadSibling(uint32_t pgno, uint8_t type, Page** out);
  Status InsertOverflow(Step* path, int depth, const uint8_t* key, std::string_view value);
  Status LeafUnderflow(Step* path, int depth);
  // Rewrites the leaves path[level-1].child[first .. first+w) (pages in
  // window) as k leaves holding cells, then fixes the parent.
  Status RedistributeLeaves(Step* path, int level, int first, Page** window, int w,
                            const std::vector<Cell>& cells, const std::vector<size_t>& bounds);
  // Copies the leaves window[0..w) into scratch_.pages and lists their cells
  // in order in scratch_.cells, with their sizes in scratch_.sizes (the
  // copies keep the cells valid while the leaves themselves are rewritten).
  void GatherLeafCells(Page* const* window, int w);
  // Writes e into the internal node path[level], splitting, merging or
  // collapsing the root as needed, up to the root.
  Status FixInternal(Step* path, int level, const Entries& e);
  static void Unpack(const uint8_t* node, Entries* e);
  static void Pack(uint8_t* node, uint32_t pgno, const Entries& e, size_t from, size_t to);
  Status CommitAsIs();
  // Close's leaf compaction: from *cursor (the first key when !*started),
  // rewrites each run of up to kCompactWindow sibling leaves into fewer
  // leaves when their records fit, until max_dirty pages are dirty or the
  // last leaf was visited (*done). *saved counts the leaves saved.
  Status CompactLeaves(size_t max_dirty, uint8_t* cursor, bool* started, bool* done,
                       uint64_t* saved);
  Status CheckSubtree(uint32_t pgno, const uint8_t* lo, const uint8_t* hi, int depth, Shape* shape);

  std::unique_ptr<Pager> pager_;
  const BTreeOptions options_;
  Status vacuum_error_;  // the periodic vacuum stops after an error
  std::vector<uint8_t> used_;  // scratch of Relocate
  // Reused by splits and merges (InsertOverflow, LeafUnderflow and the
  // RedistributeLeaves they call), so that they allocate nothing once warm.
  struct Scratch {
    uint8_t pages[kMaxWindow * kPageSize];  // copies of the leaves being rewritten
    std::vector<Cell> cells;
    std::vector<size_t> sizes, bounds, cum;
    Entries parent, fixed;  // the parent unpacked, and rewritten
  };
  std::unique_ptr<Scratch> scratch_owner_{new Scratch};
  Scratch& scratch_ = *scratch_owner_;
};

}  // namespace crudjt

#endif  // CRUDJT_BTREE_BTREE_IMPL_H_
