// The B+tree algorithms over the Pager. Page layouts: node.cc (leaves,
// internal nodes) and pager.cc (meta, free list); doc/file_format.md.
//
// Every mutation descends from the root, then makes the whole path writable
// top-down (copy-on-write: a page that is part of a checkpoint moves to a
// new number and its parent is updated; see pager.h), then edits the leaf.
//
// Fill factor. Keys are random hashes, so a plain half split leaves leaves
// ~70% full. Instead, a full leaf
//   1. first shares its records with the roomier neighbour (same parent)
//      when the two fit in two pages, and otherwise
//   2. splits together with both neighbours: three full leaves become four
//      (a B*-style 3-to-4 split),
// always spreading records evenly by bytes. A leaf under half full after a
// delete merges with its neighbours when the (up to three) leaves fit in
// fewer pages, so deletes keep the tree compact. Internal nodes (a few per
// thousand leaves) split in two and merge when under a third full.

#include <algorithm>
#include <cassert>
#include <cstring>

#include "btree/btree_impl.h"
#include "btree/node.h"

namespace crudjt {

namespace {

// Splits cells with these sizes into k consecutive non-empty groups of at
// most cap bytes, as even as possible. bounds gets k + 1 indices.
// cum_scratch: reused storage for the running sums.
bool PartitionBySize(const std::vector<size_t>& sizes, size_t k, size_t cap,
                     std::vector<size_t>* bounds, std::vector<size_t>* cum_scratch) {
  const size_t m = sizes.size();
  if (k == 0 || m < k) return false;
  std::vector<size_t>& cum = *cum_scratch;
  cum.assign(m + 1, 0);
  for (size_t i = 0; i < m; ++i) cum[i + 1] = cum[i] + sizes[i];
  const size_t total = cum[m];
  bounds->assign(1, 0);
  size_t start = 0;
  for (size_t j = 0; j + 1 < k; ++j) {
    size_t target = total * (j + 1) / k;
    size_t e = start;
    while (e < m && cum[e + 1] <= target) ++e;
    if (e < m && target - cum[e] > cum[e + 1] - target) ++e;
    if (e == start) e = start + 1;
    while (e > start + 1 && cum[e] - cum[start] > cap) --e;
    e = std::min(e, m - (k - 1 - j));
    if (e <= start) return false;
    bounds->push_back(e);
    start = e;
  }
  bounds->push_back(m);
  for (size_t j = 0; j < k; ++j) {
    if ((*bounds)[j + 1] <= (*bounds)[j] || cum[(*bounds)[j + 1]] - cum[(*bounds)[j]] > cap) {
      return false;
    }
  }
  return true;
}

void EvenBounds(size_t m, size_t k, std::vector<size_t>* bounds) {
  bounds->clear();
  for (size_t j = 0; j <= k; ++j) bounds->push_back(m * j / k);
}

// Starts loading the cache lines a search of this node reads first: the
// header (read at once anyway) and the next four lines, which hold a
// typical leaf's whole slot array (twelve 20-byte slots). The binary search
// then waits for one memory access instead of three or four in a row.
inline void PrefetchNodeHead(const uint8_t* p) {
  __builtin_prefetch(p + 64);
  __builtin_prefetch(p + 128);
  __builtin_prefetch(p + 192);
  __builtin_prefetch(p + 256);
}

TreeKey ToTreeKey(const uint8_t* p) {
  TreeKey k;
  std::memcpy(k.bytes, p, kTreeKeyBytes);
  return k;
}

}  // namespace

Status BTree::Open(const std::string& path, const BTreeOptions& options,
                   std::unique_ptr<BTree>* out) {
  std::unique_ptr<Pager> pager;
  Status s = Pager::Open(path, options.page_cache_bytes, &pager);
  if (!s.ok()) return s;
  out->reset(new BTreeImpl(std::move(pager), options));
  return Status::OK();
}

BTree::~BTree() = default;

Status BTreeImpl::Get(const TreeKey& key, std::string* value) {
  pager_->MaybeEvict();
  uint32_t pgno = pager_->root();
  if (pgno == 0) return Status::NotFound();
  for (int d = 0; d < page::kMaxHeight; ++d) {
    const uint8_t* data;
    Status s = pager_->Read(pgno, &data);
    if (!s.ok()) return s;
    PrefetchNodeHead(data);
    uint8_t* p = const_cast<uint8_t*>(data);  // the views below only read
    if (PageType(p) == page::kInternal) {
      InternalNode n(p);
      pgno = n.child(n.ChildIndex(key.bytes));
      continue;
    }
    if (PageType(p) != page::kLeaf) {
      return Status::Corruption(pager_->path() + ": page " + std::to_string(pgno) +
                                " is not a tree page");
    }
    LeafNode leaf(p);
    bool found;
    int i = leaf.LowerBound(key.bytes, &found);
    if (!found) return Status::NotFound();
    std::string_view v = leaf.value(i);
    value->assign(v.data(), v.size());
    return Status::OK();
  }
  return Status::Corruption(pager_->path() + ": tree deeper than " + std::to_string(page::kMaxHeight));
}

Status BTreeImpl::Descend(const uint8_t* key, Step* path, int* depth, bool* found) {
  uint32_t pgno = pager_->root();
  for (int d = 0; d < page::kMaxHeight; ++d) {
    Page* p;
    Status s = pager_->Get(pgno, &p);
    if (!s.ok()) return s;
    PrefetchNodeHead(p->data);
    path[d].page = p;
    if (PageType(p->data) == page::kInternal) {
      InternalNode n(p->data);
      path[d].index = n.ChildIndex(key);
      pgno = n.child(path[d].index);
      continue;
    }
    if (PageType(p->data) != page::kLeaf) {
      return Status::Corruption(pager_->path() + ": page " + std::to_string(pgno) +
                                " is not a tree page");
    }
    path[d].index = LeafNode(p->data).LowerBound(key, found);
    *depth = d + 1;
    return Status::OK();
  }
  return Status::Corruption(pager_->path() + ": tree deeper than " + std::to_string(page::kMaxHeight));
}

void BTreeImpl::MakePathWritable(Step* path, int depth) {
  for (int i = 0; i < depth; ++i) {
    uint32_t old = path[i].page->pgno;
    Page* w = pager_->MakeWritable(path[i].page);
    path[i].page = w;
    if (w->pgno == old) continue;
    if (i == 0) {
      pager_->set_root(w->pgno);
    } else {
      InternalNode(path[i - 1].page->data).set_child(path[i - 1].index, w->pgno);
    }
  }
}

Status BTreeImpl::LoadSibling(uint32_t pgno, uint8_t type, Page** out) {
  Status s = pager_->Get(pgno, out);
  if (s.ok() && PageType((*out)->data) != type) {
    return Status::Corruption(pager_->path() + ": page " + std::to_string(pgno) +
                              " has the wrong type for its level");
  }
  return s;
}

Status BTreeImpl::Put(const TreeKey& key, std::string_view value) {
  if (value.empty() || value.size() > kMaxTreeValueBytes) {
    return Status::InvalidArgument("tree value must be 1.." + std::to_string(kMaxTreeValueBytes) +
                                   " bytes");
  }
  pager_->MaybeEvict();
  pager_->mark_changed();
  if (pager_->root() == 0) {
    Page* p = pager_->Allocate();
    LeafNode::Init(p->data, p->pgno);
    LeafNode(p->data).Insert(0, key.bytes, value);
    pager_->set_root(p->pgno);
    pager_->add_records(1);
    return Status::OK();
  }
  Step path[page::kMaxHeight];
  int depth;
  bool found;
  Status s = Descend(key.bytes, path, &depth, &found);
  if (!s.ok()) return s;
  const int idx = path[depth - 1].index;
  if (found && LeafNode(path[depth - 1].page->data).value(idx) == value) return Status::OK();
  MakePathWritable(path, depth);
  LeafNode leaf(path[depth - 1].page->data);
  if (found) {
    if (leaf.free_bytes() + leaf.value(idx).size() >= value.size()) {
      leaf.Replace(idx, value);
      return Status::OK();
    }
    leaf.Remove(idx);
  } else {
    pager_->add_records(1);
  }
  if (leaf.free_bytes() >= LeafCellSize(value.size())) {
    leaf.Insert(idx, key.bytes, value);
    return Status::OK();
  }
  s = InsertOverflow(path, depth, key.bytes, value);
  if (!s.ok() && !found) pager_->add_records(-1);
  return s;
}

Status BTreeImpl::InsertOverflow(Step* path, int depth, const uint8_t* key,
                                 std::string_view value) {
  const int level = depth - 1;
  Page* leaf = path[level].page;
  Page* left = nullptr;
  Page* right = nullptr;
  int ci = 0;
  if (level > 0) {
    InternalNode par(path[level - 1].page->data);
    ci = path[level - 1].index;
    Status s;
    if (ci > 0) s = LoadSibling(par.child(ci - 1), page::kLeaf, &left);
    if (s.ok() && ci + 1 < par.children()) s = LoadSibling(par.child(ci + 1), page::kLeaf, &right);
    if (!s.ok()) return s;
  }
  const size_t need = LeafCellSize(value.size());
  std::vector<Cell>& cells = scratch_.cells;
  std::vector<size_t>& sizes = scratch_.sizes;
  std::vector<size_t>& bounds = scratch_.bounds;
  auto gather = [&](Page** window, int w) {
    GatherLeafCells(window, w);
    auto it = std::lower_bound(cells.begin(), cells.end(), key, [](const Cell& c, const uint8_t* k) {
      return CompareKeys(c.key, k) < 0;
    });
    sizes.insert(sizes.begin() + (it - cells.begin()), need);
    cells.insert(it, Cell{key, value});
  };
  size_t fl = left ? LeafNode(left->data).free_bytes() : 0;
  size_t fr = right ? LeafNode(right->data).free_bytes() : 0;
  if (std::max(fl, fr) >= need) {
    // Share with the roomier neighbour.
    Page* window[2];
    int first;
    if (fl >= fr) {
      window[0] = left, window[1] = leaf, first = ci - 1;
    } else {
      window[0] = leaf, window[1] = right, first = ci;
    }
    gather(window, 2);
    if (PartitionBySize(sizes, 2, page::kLeafSpace, &bounds, &scratch_.cum)) {
      return RedistributeLeaves(path, level, first, window, 2, cells, bounds);
    }
  }
  // Split with both neighbours: w full leaves become w + 1.
  Page* window[3];
  int w = 0;
  if (left) window[w++] = left;
  window[w++] = leaf;
  if (right) window[w++] = right;
  gather(window, w);
  for (size_t k = w + 1; k <= static_cast<size_t>(w) + 2; ++k) {
    if (PartitionBySize(sizes, k, page::kLeafSpace, &bounds, &scratch_.cum)) {
      return RedistributeLeaves(path, level, left ? ci - 1 : ci, window, w, cells, bounds);
    }
  }
  return Status::Corruption(pager_->path() + ": cannot split leaf " + std::to_string(leaf->pgno));
}

void BTreeImpl::GatherLeafCells(Page* const* window, int w) {
  std::vector<Cell>& cells = scratch_.cells;
  std::vector<size_t>& sizes = scratch_.sizes;
  cells.clear();
  sizes.clear();
  for (int t = 0; t < w; ++t) {
    uint8_t* copy = scratch_.pages + t * kPageSize;
    std::memcpy(copy, window[t]->data, kPageSize);
    LeafNode n(copy);
    for (int i = 0; i < n.count(); ++i) {
      cells.push_back({n.key(i), n.value(i)});
      sizes.push_back(LeafCellSize(n.value(i).size()));
    }
  }
}

Status BTreeImpl::RedistributeLeaves(Step* path, int level, int first, Page** window, int w,
                                     const std::vector<Cell>& cells,
                                     const std::vector<size_t>& bounds) {
  const int k = static_cast<int>(bounds.size()) - 1;
  assert(k >= 1 && k <= kMaxWindow && w <= kMaxWindow);
  Page* out[kMaxWindow] = {};
  for (int j = 0; j < k; ++j) out[j] = j < w ? pager_->MakeWritable(window[j]) : pager_->Allocate();
  for (int j = k; j < w; ++j) pager_->Free(window[j]);
  for (int j = 0; j < k; ++j) {
    LeafNode::Init(out[j]->data, out[j]->pgno);
    LeafNode n(out[j]->data);
    int c = 0;
    for (size_t i = bounds[j]; i < bounds[j + 1]; ++i) n.Insert(c++, cells[i].key, cells[i].value);
  }
  if (level == 0) {
    if (k == 1) {
      pager_->set_root(out[0]->pgno);
      return Status::OK();
    }
    Page* r = pager_->Allocate();
    InternalNode::Init(r->data, r->pgno, out[0]->pgno);
    for (int j = 1; j < k; ++j) InternalNode(r->data).Append(cells[bounds[j]].key, out[j]->pgno);
    pager_->set_root(r->pgno);
    return Status::OK();
  }
  if (k == w) {
    // Same number of children: patch the parent in place.
    InternalNode par(path[level - 1].page->data);
    for (int j = 0; j < k; ++j) {
      par.set_child(first + j, out[j]->pgno);
      if (j > 0) par.set_key(first + j - 1, cells[bounds[j]].key);
    }
    return Status::OK();
  }
  Entries& e = scratch_.parent;
  Unpack(path[level - 1].page->data, &e);
  Entries& ne = scratch_.fixed;
  ne.child.assign(e.child.begin(), e.child.begin() + first);
  ne.key.assign(e.key.begin(), e.key.begin() + first);
  for (int j = 0; j < k; ++j) {
    if (j > 0) {
      Key sep;
      std::memcpy(sep.data(), cells[bounds[j]].key, kTreeKeyBytes);
      ne.key.push_back(sep);
    }
    ne.child.push_back(out[j]->pgno);
  }
  // Keys after the window: the one following its last child onwards.
  for (size_t i = first + w; i < e.child.size(); ++i) {
    ne.key.push_back(e.key[i - 1]);
    ne.child.push_back(e.child[i]);
  }
  return FixInternal(path, level - 1, ne);
}

void BTreeImpl::Unpack(const uint8_t* node, Entries* e) {
  InternalNode n(const_cast<uint8_t*>(node));
  e->child.clear();
  e->key.clear();
  e->child.push_back(n.child(0));
  for (int i = 0; i < n.keys(); ++i) {
    Key k;
    std::memcpy(k.data(), n.key(i), kTreeKeyBytes);
    e->key.push_back(k);
    e->child.push_back(n.child(i + 1));
  }
}

void BTreeImpl::Pack(uint8_t* node, uint32_t pgno, const Entries& e, size_t from, size_t to) {
  InternalNode::Init(node, pgno, e.child[from]);
  InternalNode n(node);
  for (size_t i = from; i + 1 < to; ++i) n.Append(e.key[i].data(), e.child[i + 1]);
}

Status BTreeImpl::FixInternal(Step* path, int level, const Entries& e) {
  Page* node = path[level].page;
  const size_t nc = e.child.size();
  std::vector<size_t> bounds;
  if (level == 0) {
    if (nc == 1) {
      pager_->Free(node);
      pager_->set_root(e.child[0]);
      return Status::OK();
    }
    if (nc <= page::kMaxChildren) {
      Pack(node->data, node->pgno, e, 0, nc);
      return Status::OK();
    }
    size_t k = std::max<size_t>(2, (nc + page::kMaxChildren - 1) / page::kMaxChildren);
    EvenBounds(nc, k, &bounds);
    Page* r = pager_->Allocate();
    for (size_t j = 0; j < k; ++j) {
      Page* p = j == 0 ? node : pager_->Allocate();
      Pack(p->data, p->pgno, e, bounds[j], bounds[j + 1]);
      if (j == 0) {
        InternalNode::Init(r->data, r->pgno, p->pgno);
      } else {
        InternalNode(r->data).Append(e.key[bounds[j] - 1].data(), p->pgno);
      }
    }
    pager_->set_root(r->pgno);
    return Status::OK();
  }
  const size_t kMinChildren = page::kMaxChildren / 3;
  if (nc >= kMinChildren && nc <= page::kMaxChildren) {
    Pack(node->data, node->pgno, e, 0, nc);
    return Status::OK();
  }
  InternalNode par(path[level - 1].page->data);
  const int ci = path[level - 1].index;
  Page* window[3];
  int w = 0, first = ci;
  Entries all;
  if (nc > page::kMaxChildren) {
    window[w++] = node;
    all = e;
  } else {
    Page* left = nullptr;
    Page* right = nullptr;
    Status s;
    if (ci > 0) s = LoadSibling(par.child(ci - 1), page::kInternal, &left);
    if (s.ok() && ci + 1 < par.children()) s = LoadSibling(par.child(ci + 1), page::kInternal, &right);
    if (!s.ok()) return s;
    Entries part;
    if (left) {
      Unpack(left->data, &all);
      all.key.push_back(Key());
      std::memcpy(all.key.back().data(), par.key(ci - 1), kTreeKeyBytes);
      window[w++] = left;
      first = ci - 1;
    }
    all.child.insert(all.child.end(), e.child.begin(), e.child.end());
    all.key.insert(all.key.end(), e.key.begin(), e.key.end());
    window[w++] = node;
    if (right) {
      all.key.push_back(Key());
      std::memcpy(all.key.back().data(), par.key(ci), kTreeKeyBytes);
      Unpack(right->data, &part);
      all.child.insert(all.child.end(), part.child.begin(), part.child.end());
      all.key.insert(all.key.end(), part.key.begin(), part.key.end());
      window[w++] = right;
    }
    size_t k = std::max<size_t>(1, (all.child.size() + page::kMaxChildren - 1) / page::kMaxChildren);
    if (k >= static_cast<size_t>(w) && nc >= 2) {
      // Neighbours too full to merge with; the node is valid as it is.
      Pack(node->data, node->pgno, e, 0, nc);
      return Status::OK();
    }
  }
  const size_t m = all.child.size();
  size_t k = std::max<size_t>(1, (m + page::kMaxChildren - 1) / page::kMaxChildren);
  if (nc > page::kMaxChildren) k = std::max<size_t>(k, 2);
  EvenBounds(m, k, &bounds);
  std::vector<Page*> out(k);
  for (size_t j = 0; j < k; ++j) {
    out[j] = j < static_cast<size_t>(w) ? pager_->MakeWritable(window[j]) : pager_->Allocate();
  }
  for (size_t j = k; j < static_cast<size_t>(w); ++j) pager_->Free(window[j]);
  for (size_t j = 0; j < k; ++j) Pack(out[j]->data, out[j]->pgno, all, bounds[j], bounds[j + 1]);
  Entries pe;
  Unpack(path[level - 1].page->data, &pe);
  Entries ne;
  ne.child.assign(pe.child.begin(), pe.child.begin() + first);
  ne.key.assign(pe.key.begin(), pe.key.begin() + first);
  for (size_t j = 0; j < k; ++j) {
    if (j > 0) ne.key.push_back(all.key[bounds[j] - 1]);
    ne.child.push_back(out[j]->pgno);
  }
  for (size_t i = first + w; i < pe.child.size(); ++i) {
    ne.key.push_back(pe.key[i - 1]);
    ne.child.push_back(pe.child[i]);
  }
  return FixInternal(path, level - 1, ne);
}

Status BTreeImpl::Delete(const TreeKey& key, bool* existed) {
  if (existed != nullptr) *existed = false;
  pager_->MaybeEvict();
  if (pager_->root() == 0) return Status::OK();
  Step path[page::kMaxHeight];
  int depth;
  bool found;
  Status s = Descend(key.bytes, path, &depth, &found);
  if (!s.ok() || !found) return s;
  pager_->mark_changed();
  MakePathWritable(path, depth);
  LeafNode leaf(path[depth - 1].page->data);
  leaf.Remove(path[depth - 1].index);
  pager_->add_records(-1);
  if (existed != nullptr) *existed = true;
  if (depth == 1) {
    if (leaf.count() == 0) {
      pager_->Free(path[0].page);
      pager_->set_root(0);
    }
    return Status::OK();
  }
  if (leaf.used() * 2 >= page::kLeafSpace) return Status::OK();
  return LeafUnderflow(path, depth);
}

Status BTreeImpl::LeafUnderflow(Step* path, int depth) {
  const int level = depth - 1;
  Page* leaf = path[level].page;
  InternalNode par(path[level - 1].page->data);
  const int ci = path[level - 1].index;
  Page* left = nullptr;
  Page* right = nullptr;
  Status s;
  if (ci > 0) s = LoadSibling(par.child(ci - 1), page::kLeaf, &left);
  if (s.ok() && ci + 1 < par.children()) s = LoadSibling(par.child(ci + 1), page::kLeaf, &right);
  if (!s.ok()) return s;
  Page* window[3];
  int w = 0;
  size_t total = 0;
  if (left) window[w++] = left;
  window[w++] = leaf;
  if (right) window[w++] = right;
  if (w == 1) return Status::OK();
  for (int t = 0; t < w; ++t) total += LeafNode(window[t]->data).used();
  const bool empty = LeafNode(leaf->data).count() == 0;
  size_t k = std::max<size_t>(1, (total + page::kLeafSpace - 1) / page::kLeafSpace);
  if (k >= static_cast<size_t>(w) && !empty) return Status::OK();
  std::vector<Cell>& cells = scratch_.cells;
  std::vector<size_t>& sizes = scratch_.sizes;
  std::vector<size_t>& bounds = scratch_.bounds;
  GatherLeafCells(window, w);
  for (; k <= static_cast<size_t>(w); ++k) {
    if (k == static_cast<size_t>(w) && !empty) return Status::OK();
    if (PartitionBySize(sizes, k, page::kLeafSpace, &bounds, &scratch_.cum)) {
      return RedistributeLeaves(path, level, left ? ci - 1 : ci, window, w, cells, bounds);
    }
  }
  return Status::OK();
}

Status BTreeImpl::Scan(const TreeKey* after, size_t limit,
                       const std::function<bool(const TreeKey&, std::string_view)>& fn,
                       TreeKey* last, bool* done) {
  *done = false;
  pager_->MaybeEvict();
  if (pager_->root() == 0) {
    *done = true;
    return Status::OK();
  }
  struct Pos {
    uint32_t pgno;
    int index;
  };
  Pos path[page::kMaxHeight];
  int depth = 0;
  // Descend to the leaf holding the first key > *after.
  uint32_t pgno = pager_->root();
  int start = 0;
  for (;;) {
    if (depth >= page::kMaxHeight) {
      return Status::Corruption(pager_->path() + ": tree deeper than " +
                                std::to_string(page::kMaxHeight));
    }
    Page* p;
    Status s = pager_->Get(pgno, &p);
    if (!s.ok()) return s;
    path[depth].pgno = pgno;
    if (PageType(p->data) == page::kInternal) {
      InternalNode n(p->data);
      int i = after ? n.ChildIndex(after->bytes) : 0;
      path[depth++].index = i;
      pgno = n.child(i);
      continue;
    }
    if (PageType(p->data) != page::kLeaf) {
      return Status::Corruption(pager_->path() + ": page " + std::to_string(pgno) +
                                " is not a tree page");
    }
    if (after) {
      bool found;
      start = LeafNode(p->data).LowerBound(after->bytes, &found);
      if (found) ++start;
    }
    path[depth++].index = start;
    break;
  }
  size_t visited = 0;
  for (;;) {
    Page* p;
    Status s = pager_->Get(path[depth - 1].pgno, &p);
    if (!s.ok()) return s;
    LeafNode leaf(p->data);
    for (int i = path[depth - 1].index; i < leaf.count(); ++i) {
      if (visited == limit) return Status::OK();
      TreeKey k = ToTreeKey(leaf.key(i));
      ++visited;
      *last = k;
      if (!fn(k, leaf.value(i))) return Status::OK();
    }
    // Next leaf: up to the first ancestor with a child to the right.
    pager_->MaybeEvict();
    int level = depth - 2;
    for (; level >= 0; --level) {
      s = pager_->Get(path[level].pgno, &p);
      if (!s.ok()) return s;
      if (path[level].index + 1 < InternalNode(p->data).children()) break;
    }
    if (level < 0) {
      *done = true;
      return Status::OK();
    }
    ++path[level].index;
    for (; level < depth - 1; ++level) {
      s = pager_->Get(path[level].pgno, &p);
      if (!s.ok()) return s;
      if (PageType(p->data) != page::kInternal) {
        return Status::Corruption(pager_->path() + ": uneven tree at page " +
                                  std::to_string(path[level].pgno));
      }
      path[level + 1].pgno = InternalNode(p->data).child(path[level].index);
      path[level + 1].index = 0;
    }
    s = LoadSibling(path[depth - 1].pgno, page::kLeaf, &p);
    if (!s.ok()) return s;
  }
}

// Vacuum (doc/file_format.md, "Vacuum"). Copy-on-write makes moving a page
// just "rewrite it elsewhere": Relocate picks the highest tree page, walks
// to it from the root by one of its keys and makes that path writable,
// which gives every clean page on it the lowest free number (the target
// too; a dirty target is renumbered in place). Its old number is pending
// until the checkpoint commits, reusable after, and, once no tree page
// lies above it, given back by the next BeginCheckpoint (page count) and
// cut off the file once both meta pages on disk have the smaller count.
Status BTreeImpl::Relocate(uint32_t goal, size_t max_pages, size_t* moved, size_t max_reads) {
  *moved = 0;
  if (pager_->root() == 0 || max_pages == 0) return Status::OK();
  pager_->UsedMap(&used_);
  goal = std::max(goal, page::kMetaPages);
  uint32_t h = pager_->page_count();
  size_t attempts = 0;
  Status s;
  while (*moved < max_pages && attempts++ < 2 * max_pages) {
    while (h > goal && !used_[h - 1]) --h;
    if (h <= goal) break;
    const uint32_t target = h - 1;
    if (!pager_->resident(target)) {
      if (max_reads == 0) break;
      --max_reads;
    }
    --h;
    Page* p;
    s = pager_->Get(target, &p);
    if (!s.ok()) break;
    uint8_t key[kTreeKeyBytes];
    bool have_key = false;
    if (PageType(p->data) == page::kLeaf) {
      LeafNode n(p->data);
      if (n.count() > 0) std::memcpy(key, n.key(0), kTreeKeyBytes), have_key = true;
    } else if (PageType(p->data) == page::kInternal) {
      InternalNode n(p->data);
      if (n.keys() > 0) std::memcpy(key, n.key(0), kTreeKeyBytes), have_key = true;
    } else {
      s = Status::Corruption(pager_->path() + ": page " + std::to_string(target) +
                             " is not a tree page");
      break;
    }
    // The path from the root to target.
    Step path[page::kMaxHeight];
    int depth = 0;
    bool reached = false;
    for (uint32_t pgno = pager_->root(); depth < page::kMaxHeight;) {
      Page* q;
      s = pager_->Get(pgno, &q);
      if (!s.ok()) break;
      path[depth].page = q;
      path[depth].index = 0;
      ++depth;
      if (pgno == target) {
        reached = true;
        break;
      }
      if (PageType(q->data) != page::kInternal || !have_key) break;
      InternalNode n(q->data);
      path[depth - 1].index = n.ChildIndex(key);
      pgno = n.child(path[depth - 1].index);
    }
    if (!s.ok()) break;
    if (!reached) continue;  // not in the tree (a leak): leave it where it is
    // One free number per page the move copies, all below target.
    const bool dirty_target = path[depth - 1].page->state == Page::kDirty;
    size_t need = dirty_target ? 1 : 0;
    for (int i = 0; i < depth; ++i) need += path[i].page->state != Page::kDirty;
    if (!pager_->HasFreeBelow(target, need)) break;
    uint32_t before[page::kMaxHeight];
    for (int i = 0; i < depth; ++i) before[i] = path[i].page->pgno;
    MakePathWritable(path, depth);
    if (dirty_target) {
      Page* w = pager_->MoveDown(path[depth - 1].page);
      path[depth - 1].page = w;
      if (depth == 1) {
        pager_->set_root(w->pgno);
      } else {
        InternalNode(path[depth - 2].page->data).set_child(path[depth - 2].index, w->pgno);
      }
    }
    for (int i = 0; i < depth; ++i) {
      const uint32_t now = path[i].page->pgno;
      if (now == before[i]) continue;
      used_[before[i]] = 0;
      used_[now] = 1;
    }
    ++*moved;
  }
  pager_->add_relocated(*moved);
  return s;
}

// Pages a periodic vacuum may read from disk (the owner's mutex is held):
// pages at the end of the file were mostly written recently and are still
// cached; the rest wait for later checkpoints or the close.
constexpr size_t kVacuumReadsPerCheckpoint = 64;

Status BTreeImpl::BeginCheckpoint(std::string_view user_meta,
                                  std::unique_ptr<CheckpointSnapshot>* snap) {
  if (options_.vacuum_pages_per_checkpoint > 0 && vacuum_error_.ok() &&
      !pager_->checkpoint_in_flight()) {
    // Headroom: copy-on-write needs free pages for what the checkpoint
    // about to be written keeps pending (the old numbers of the pages
    // dirtied in this interval) and for what the next interval rewrites
    // while it is written. The pages dirtied in this interval (at least an
    // eighth of the tree: the store's cadence) estimate both.
    const uint64_t tree = pager_->tree_pages();
    const uint64_t interval = std::max<uint64_t>(pager_->dirty_pages(), tree / 8);
    const uint64_t headroom = 2 * interval + 64;
    const uint64_t free = pager_->free_pages();
    const uint64_t reusable = pager_->reusable_pages();
    if (free > headroom && reusable > interval) {
      // Moves take reusable numbers: leave the next interval its share.
      const uint64_t budget = std::min<uint64_t>(
          {options_.vacuum_pages_per_checkpoint, free - headroom, reusable - interval});
      const uint64_t goal = page::kMetaPages + tree + headroom;
      size_t moved;
      Status s = Relocate(static_cast<uint32_t>(std::min<uint64_t>(goal, UINT32_MAX)),
                          static_cast<size_t>(budget), &moved, kVacuumReadsPerCheckpoint);
      // A page that cannot be read stays where it is; the checkpoint goes
      // on, and the call that reads the page reports it.
      if (!s.ok()) vacuum_error_ = s;
    }
  }
  return pager_->BeginCheckpoint(user_meta, snap);
}

Status BTreeImpl::Close() {
  if (!options_.vacuum_on_close) return Status::OK();
  // Rounds of: move what lies past the live pages (at most half the cache
  // per round: moved pages stay in memory until written), then a
  // checkpoint; until nothing moves and the file's tail is cut.
  const size_t per_round =
      std::max<size_t>(64, options_.page_cache_bytes / kPageSize / 2);
  constexpr int kMaxRounds = 64;
  constexpr uint32_t kSlack = 4;  // the free list's own pages, a hole or two
  // Leaf compaction first (when the tree fits in the cache: reading it is
  // then cheap), so that the relocation rounds below pack fewer pages.
  if (options_.compact_on_close && !pager_->checkpoint_in_flight() && pager_->clean() &&
      pager_->tree_pages() * kPageSize <= options_.page_cache_bytes) {
    uint8_t cursor[kTreeKeyBytes] = {};
    bool started = false, done = false;
    uint64_t saved = 0;
    for (int round = 0; round < kMaxRounds && !done; ++round) {
      Status s = CompactLeaves(per_round, cursor, &started, &done, &saved);
      if (!s.ok()) return s;  // dirty: the destructor drops it, nothing is lost
      if (pager_->dirty_pages() > 0 || !pager_->clean()) {
        s = CommitAsIs();
        if (!s.ok()) return s;
      }
      pager_->MaybeEvict();
    }
  }
  for (int round = 0; round < kMaxRounds; ++round) {
    if (pager_->checkpoint_in_flight() || !pager_->clean()) return Status::OK();
    const uint64_t goal = page::kMetaPages + pager_->tree_pages() + kSlack;
    size_t moved = 0;
    Status s = Relocate(static_cast<uint32_t>(std::min<uint64_t>(goal, UINT32_MAX)), per_round,
                        &moved);
    if (!s.ok()) {
      // Nothing moved is lost: commit what did move, report the error.
      if (moved > 0) {
        Status c = CommitAsIs();
        (void)c;
      }
      return s;
    }
    if (moved == 0 && !pager_->TailToCut()) return Status::OK();
    s = CommitAsIs();
    if (!s.ok()) return s;
    pager_->MaybeEvict();
  }
  return Status::OK();
}

Status BTreeImpl::CompactLeaves(size_t max_dirty, uint8_t* cursor, bool* started, bool* done,
                                uint64_t* saved) {
  *done = false;
  while (pager_->dirty_pages() < max_dirty) {
    if (pager_->root() == 0) break;
    Step path[page::kMaxHeight];
    int depth;
    bool found;
    static const uint8_t kFirst[kTreeKeyBytes] = {};
    Status s = Descend(*started ? cursor : kFirst, path, &depth, &found);
    if (!s.ok()) return s;
    if (depth == 1) break;  // a single leaf
    const int level = depth - 1;
    const int ci = path[level - 1].index;
    Page* window[kMaxWindow];
    int w;
    size_t total = 0;
    {
      InternalNode par(path[level - 1].page->data);
      w = std::min(kCompactWindow, par.children() - ci);
      for (int j = 0; j < w; ++j) {
        s = LoadSibling(par.child(ci + j), page::kLeaf, &window[j]);
        if (!s.ok()) return s;
        total += LeafNode(window[j]->data).used();
      }
    }
    // The next run starts at the separator after this one: in the parent,
    // or in the nearest ancestor with a child to the right (none: last run).
    bool last_run = true;
    {
      InternalNode par(path[level - 1].page->data);
      if (ci + w < par.children()) {
        std::memcpy(cursor, par.key(ci + w - 1), kTreeKeyBytes);
        last_run = false;
      } else {
        for (int d = level - 2; d >= 0; --d) {
          InternalNode anc(path[d].page->data);
          if (path[d].index < anc.keys()) {
            std::memcpy(cursor, anc.key(path[d].index), kTreeKeyBytes);
            last_run = false;
            break;
          }
        }
      }
    }
    const size_t kmin = std::max<size_t>(1, (total + page::kLeafSpace - 1) / page::kLeafSpace);
    if (kmin < static_cast<size_t>(w)) {
      std::vector<Cell>& cells = scratch_.cells;
      std::vector<size_t>& sizes = scratch_.sizes;
      std::vector<size_t>& bounds = scratch_.bounds;
      GatherLeafCells(window, w);
      size_t k = kmin;
      while (k < static_cast<size_t>(w) &&
             !PartitionBySize(sizes, k, page::kLeafSpace, &bounds, &scratch_.cum)) {
        ++k;
      }
      if (k < static_cast<size_t>(w)) {
        MakePathWritable(path, depth);
        window[0] = path[level].page;  // the leaf on the path, maybe renumbered
        s = RedistributeLeaves(path, level, ci, window, w, cells, bounds);
        if (!s.ok()) return s;
        *saved += w - k;
      }
    }
    *started = true;
    if (last_run) break;
  }
  *done = pager_->dirty_pages() < max_dirty;
  return Status::OK();
}

// A checkpoint of moved pages only: same records, same user meta.
Status BTreeImpl::CommitAsIs() {
  const std::string meta(pager_->committed_user_meta());
  std::unique_ptr<CheckpointSnapshot> snap;
  Status s = pager_->BeginCheckpoint(meta, &snap);
  if (!s.ok()) return s;
  s = pager_->WriteCheckpoint(snap.get());
  pager_->FinishCheckpoint(std::move(snap), s);
  return s;
}

Status BTreeImpl::TEST_LeafOf(const TreeKey& key, uint32_t* pgno) {
  Step path[page::kMaxHeight];
  int depth;
  bool found;
  Status s = Descend(key.bytes, path, &depth, &found);
  if (s.ok()) *pgno = path[depth - 1].page->pgno;
  return s;
}

Status BTreeImpl::TEST_Check(Shape* shape) {
  *shape = Shape();
  if (pager_->root() != 0) {
    Status s = CheckSubtree(pager_->root(), nullptr, nullptr, 1, shape);
    if (!s.ok()) return s;
  }
  if (shape->records != pager_->records()) {
    return Status::Corruption("record count " + std::to_string(pager_->records()) +
                              " but the tree holds " + std::to_string(shape->records));
  }
  return Status::OK();
}

Status BTreeImpl::CheckSubtree(uint32_t pgno, const uint8_t* lo, const uint8_t* hi, int depth,
                               Shape* shape) {
  Page* p;
  Status s = pager_->Get(pgno, &p);
  if (!s.ok()) return s;
  auto bad = [&](const char* what) {
    return Status::Corruption("page " + std::to_string(pgno) + ": " + what);
  };
  if (PageType(p->data) == page::kLeaf) {
    LeafNode n(p->data);
    if (shape->height != 0 && shape->height != depth) return bad("leaves at different depths");
    shape->height = depth;
    if (n.count() == 0 && depth > 1) return bad("empty non-root leaf");
    for (int i = 0; i < n.count(); ++i) {
      if ((lo && CompareKeys(n.key(i), lo) < 0) || (hi && CompareKeys(n.key(i), hi) >= 0)) {
        return bad("key outside its separators");
      }
    }
    ++shape->leaves;
    shape->leaf_bytes += n.used();
    shape->records += n.count();
    return Status::OK();
  }
  if (PageType(p->data) != page::kInternal) return bad("not a tree page");
  ++shape->internals;
  // Copy: the walk below may load pages but never evicts.
  std::vector<uint8_t> copy(p->data, p->data + kPageSize);
  InternalNode n(copy.data());
  if (n.children() < 2) return bad("internal node with one child");
  for (int i = 0; i < n.children(); ++i) {
    const uint8_t* clo = i == 0 ? lo : n.key(i - 1);
    const uint8_t* chi = i == n.keys() ? hi : n.key(i);
    s = CheckSubtree(n.child(i), clo, chi, depth + 1, shape);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace crudjt
