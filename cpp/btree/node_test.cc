#include "btree/node.h"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace crudjt {
namespace {

std::string K(uint8_t b) { return std::string(kTreeKeyBytes, static_cast<char>(b)); }
const uint8_t* U(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST_CASE("LeafNode: inserts, removes and replaces keep keys sorted and the heap without holes") {
  std::vector<uint8_t> page(kPageSize);
  LeafNode::Init(page.data(), 7);
  LeafNode leaf(page.data());
  std::map<std::string, std::string> model;
  std::mt19937 rng(5);
  for (int i = 0; i < 5000; ++i) {
    std::string k = K(static_cast<uint8_t>(rng() % 64));
    bool found;
    int idx = leaf.LowerBound(U(k), &found);
    CHECK(found == (model.count(k) == 1));
    std::string v(1 + rng() % 300, static_cast<char>('a' + i % 26));
    if (found && rng() % 2) {
      leaf.Remove(idx);
      model.erase(k);
    } else if (found) {
      if (leaf.free_bytes() + leaf.value(idx).size() >= v.size()) {
        leaf.Replace(idx, v);
        model[k] = v;
      }
    } else if (leaf.free_bytes() >= LeafCellSize(v.size())) {
      leaf.Insert(idx, U(k), v);
      model[k] = v;
    }
    REQUIRE(LeafNode::Validate(page.data()));
  }
  REQUIRE(leaf.count() == static_cast<int>(model.size()));
  int i = 0;
  size_t used = 0;
  for (const auto& kv : model) {
    CHECK(std::string(reinterpret_cast<const char*>(leaf.key(i)), kTreeKeyBytes) == kv.first);
    CHECK(leaf.value(i) == kv.second);
    used += LeafCellSize(kv.second.size());
    ++i;
  }
  CHECK(leaf.used() == used);
  CHECK(PageNumber(page.data()) == 7);
}

TEST_CASE("LeafNode: Validate rejects inconsistent pages") {
  std::vector<uint8_t> page(kPageSize);
  LeafNode::Init(page.data(), 3);
  LeafNode leaf(page.data());
  leaf.Insert(0, U(K(1)), "hello");
  leaf.Insert(1, U(K(2)), "world");
  REQUIRE(LeafNode::Validate(page.data()));
  std::vector<uint8_t> bad = page;
  EncodeFixed16(bad.data() + page::kCountOffset, 300);  // slots overrun the heap
  CHECK_FALSE(LeafNode::Validate(bad.data()));
  bad = page;
  EncodeFixed16(bad.data() + page::kHeaderSize + 16, 4094);  // value past the page end
  CHECK_FALSE(LeafNode::Validate(bad.data()));
  bad = page;
  std::memcpy(bad.data() + page::kHeaderSize, U(K(9)), kTreeKeyBytes);  // keys out of order
  CHECK_FALSE(LeafNode::Validate(bad.data()));
  bad = page;
  bad[page::kTypeOffset] = page::kInternal;
  CHECK_FALSE(LeafNode::Validate(bad.data()));
}

TEST_CASE("InternalNode: ChildIndex routes keys equal to a separator to the right") {
  std::vector<uint8_t> page(kPageSize);
  InternalNode::Init(page.data(), 4, 10);
  InternalNode n(page.data());
  n.Append(U(K(20)), 11);
  n.Append(U(K(40)), 12);
  REQUIRE(InternalNode::Validate(page.data(), 100));
  CHECK(n.child(n.ChildIndex(U(K(5)))) == 10);
  CHECK(n.child(n.ChildIndex(U(K(20)))) == 11);
  CHECK(n.child(n.ChildIndex(U(K(39)))) == 11);
  CHECK(n.child(n.ChildIndex(U(K(40)))) == 12);
  CHECK(n.child(n.ChildIndex(U(K(200)))) == 12);
  // A child past the page count, or a meta page, is rejected.
  CHECK_FALSE(InternalNode::Validate(page.data(), 12));
  n.set_child(0, 1);
  CHECK_FALSE(InternalNode::Validate(page.data(), 100));
}

TEST_CASE("CompareKeys orders keys as unsigned bytes") {
  std::string a = K(0x01), b = K(0x80), c = K(0x80);
  c[15] = static_cast<char>(0x81);
  CHECK(CompareKeys(U(a), U(b)) < 0);
  CHECK(CompareKeys(U(b), U(a)) > 0);
  CHECK(CompareKeys(U(b), U(c)) < 0);
  CHECK(CompareKeys(U(c), U(c)) == 0);
}

}  // namespace
}  // namespace crudjt
