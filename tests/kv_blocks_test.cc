// The KV block tables of beam search (model/kv_blocks.h): sequence 0's identity layout, forks
// that share blocks, reorders that copy tables only, copy on write of a shared block, the pinned
// prompt, and no block lost or shared wrongly over many random steps.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>
#include <vector>

#include "model/kv_blocks.h"

namespace edgeformer {
namespace {

constexpr uint32_t B = KvBlocks::kBlock;

// Every block a sequence's first n entries hold, with how many sequences hold it.
std::map<uint32_t, int> Holders(const KvBlocks& kv, uint32_t k, uint32_t n) {
  std::map<uint32_t, int> held;
  for (uint32_t s = 0; s < k; ++s) {
    for (uint32_t i = 0; i < n; ++i) {
      if (kv.table(s)[i] != KvBlocks::kNone) ++held[kv.table(s)[i]];
    }
  }
  return held;
}

}  // namespace

TEST_CASE("KV blocks: identity, fork, reorder, copy on write") {
  KvBlocks kv;
  REQUIRE(kv.Init(4, 5).ok());
  CHECK(kv.blocks() == 4 * 5 + 1);
  for (uint32_t i = 0; i < 5; ++i) CHECK(kv.table(0)[i] == i);
  CHECK(kv.table(1)[0] == KvBlocks::kNone);
  // A prompt of 20 positions: blocks 0 and 1, shared by 3 sequences; the rest of sequence 0's
  // blocks go back to the pool.
  kv.Fork(3, 2);
  for (uint32_t s = 0; s < 3; ++s) {
    CHECK(kv.table(s)[0] == 0);
    CHECK(kv.table(s)[1] == 1);
    CHECK(kv.table(s)[2] == KvBlocks::kNone);
  }
  // Writing position 20 (block 1, slot 4): every sequence gets its own copy of block 1 (the
  // pinned prompt block is never written), and copies its 4 filled slots.
  std::set<uint32_t> owned;
  for (uint32_t s = 0; s < 3; ++s) {
    uint32_t from = 0, to = 0;
    CHECK(kv.PrepareWrite(s, 20, &from, &to));
    CHECK(from == 1);
    CHECK(to != 1);
    CHECK(kv.table(s)[1] == to);
    owned.insert(to);
    // Written once, it is its own: the next position needs no copy.
    CHECK_FALSE(kv.PrepareWrite(s, 21, &from, &to));
  }
  CHECK(owned.size() == 3);
  CHECK(kv.table(0)[0] == 0);  // the full block stays shared
  // Reorder: sequences 0 and 1 continue sequence 2, sequence 2 continues 0: tables only.
  const uint32_t t0 = kv.table(0)[1], t2 = kv.table(2)[1];
  const uint32_t parents[3] = {2, 2, 0};
  kv.Reorder(parents, 3, 2);
  CHECK(kv.table(0)[1] == t2);
  CHECK(kv.table(1)[1] == t2);
  CHECK(kv.table(2)[1] == t0);
  // Sequences 0 and 1 share t2 now: the first to write copies it, the second owns it alone.
  uint32_t from = 0, to = 0;
  CHECK(kv.PrepareWrite(0, 22, &from, &to));
  CHECK(from == t2);
  CHECK_FALSE(kv.PrepareWrite(1, 22, &from, &to));
  CHECK(kv.table(1)[1] == t2);
  // A block boundary: a fresh block, nothing to copy.
  CHECK_FALSE(kv.PrepareWrite(2, 32, &from, &to));
  CHECK(kv.table(2)[2] != KvBlocks::kNone);
  kv.Reset();
  for (uint32_t i = 0; i < 5; ++i) CHECK(kv.table(0)[i] == i);
}

TEST_CASE("KV blocks: random beams never share a block they write, and never run out") {
  for (uint32_t k : {2u, 3u, 4u}) {
    KvBlocks kv;
    const uint32_t per_seq = 6;
    REQUIRE(kv.Init(k, per_seq).ok());
    std::mt19937 rng(k);
    const uint32_t prompt = 7 + k;
    kv.Fork(k, (prompt + B - 1) / B);
    for (uint32_t at = prompt; at < per_seq * B; ++at) {
      std::vector<uint32_t> parents(k);
      for (uint32_t& p : parents) p = rng() % k;
      kv.Reorder(parents.data(), k, (at + B) / B);
      for (uint32_t s = 0; s < k; ++s) {
        uint32_t from = 0, to = 0;
        kv.PrepareWrite(s, at, &from, &to);
      }
      // The blocks being written belong to one sequence each; the prompt's full blocks stay.
      const std::map<uint32_t, int> held = Holders(kv, k, (at + B) / B);
      for (uint32_t s = 0; s < k; ++s) CHECK(held.at(kv.table(s)[at / B]) == 1);
      for (uint32_t i = 0; i < prompt / B; ++i) CHECK(held.at(i) == static_cast<int>(k));
      CHECK(held.size() <= kv.blocks());
    }
  }
}

}  // namespace edgeformer
