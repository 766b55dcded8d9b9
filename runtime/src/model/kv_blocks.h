// The KV cache of several sequences that share prefixes (the beams of a beam search), in blocks of
// kBlock positions: sequence s keeps position p at slot table(s)[p / kBlock] * kBlock + p % kBlock
// of every layer's cache. Sequence 0 maps block i to block i, the single-sequence layout, so a
// session without beams never reads a table. Beams fork from sequence 0 and are reordered by
// copying tables (integers, never keys and values); a block shared by several sequences is
// copied before one of them writes into it (copy on write: at most kBlock - 1 positions).
//
// Memory: every table, count and list is allocated by Init (at session creation); nothing after.
// Thread safety: one thread at a time (the session's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"

namespace edgeformer {

class KvBlocks {
 public:
  static constexpr uint32_t kBlock = 16;
  static constexpr uint32_t kNone = UINT32_MAX;

  // Tables for max_seqs sequences of blocks_per_seq blocks each, over blocks() blocks; then Reset.
  Error Init(uint32_t max_seqs, uint32_t blocks_per_seq);
  // Physical blocks: max_seqs * blocks_per_seq, and one more with several sequences (the pinned
  // prompt's last block can be held by none of them).
  size_t blocks() const { return refs_.size(); }
  static size_t PoolBlocks(uint32_t max_seqs, uint32_t blocks_per_seq) {
    return size_t{max_seqs} * blocks_per_seq + (max_seqs > 1 ? 1 : 0);
  }
  // Bytes Init allocates.
  static size_t Bytes(uint32_t max_seqs, uint32_t blocks_per_seq) {
    return (2 * size_t{max_seqs} * blocks_per_seq + 2 * PoolBlocks(max_seqs, blocks_per_seq)) * sizeof(uint32_t);
  }
  // Sequence 0 maps block i to block i; the other sequences hold nothing.
  void Reset();

  uint32_t max_seqs() const { return max_seqs_; }
  uint32_t blocks_per_seq() const { return blocks_per_seq_; }
  // Sequence s's table [blocks_per_seq]: a physical block, or kNone.
  const uint32_t* table(uint32_t s) const { return &tables_[size_t{s} * blocks_per_seq_]; }

  // Sequences 0..k-1 become sequence 0's first n_blocks blocks, shared (k <= max_seqs). Those
  // blocks (the prompt) stay pinned until Reset, so sequence 0's layout holds the prompt after.
  void Fork(uint32_t k, uint32_t n_blocks);
  // Sequence j becomes what sequence parents[j] was, for j < k (all read before any is changed);
  // their first n_blocks blocks count.
  void Reorder(const uint32_t* parents, uint32_t k, uint32_t n_blocks);
  // Makes the block of position `pos` of sequence s its own before it is written. Returns true
  // and sets *from (the block it shared) and *to (its new block) when the first pos % kBlock
  // slots must be copied from `from` to `to` in every layer; false when nothing is to copy.
  bool PrepareWrite(uint32_t s, uint32_t pos, uint32_t* from, uint32_t* to);

 private:
  void Release(uint32_t block);
  uint32_t Take();

  uint32_t max_seqs_ = 0, blocks_per_seq_ = 0;
  std::vector<uint32_t> tables_;   // [max_seqs][blocks_per_seq]
  std::vector<uint32_t> scratch_;  // the same size: Reorder's copy
  std::vector<uint32_t> refs_;     // [max_seqs * blocks_per_seq] sequences holding each block
  std::vector<uint32_t> free_;     // free blocks (a stack)
};

}  // namespace edgeformer
