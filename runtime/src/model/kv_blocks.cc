#include "model/kv_blocks.h"

#include <algorithm>
#include <new>

namespace edgeformer {

Error KvBlocks::Init(uint32_t max_seqs, uint32_t blocks_per_seq) {
  max_seqs_ = max_seqs;
  blocks_per_seq_ = blocks_per_seq;
  const size_t n = size_t{max_seqs} * blocks_per_seq;
  const size_t pool = PoolBlocks(max_seqs, blocks_per_seq);
  try {
    tables_.assign(n, kNone);
    scratch_.assign(n, kNone);
    refs_.assign(pool, 0);
    free_.assign(pool, 0);
  } catch (const std::bad_alloc&) {
    return Error(Status::kOutOfMemory, "cannot allocate the KV block tables");
  }
  Reset();
  return Error::Ok();
}

void KvBlocks::Reset() {
  std::fill(tables_.begin(), tables_.end(), kNone);
  std::fill(refs_.begin(), refs_.end(), 0);
  for (uint32_t b = 0; b < blocks_per_seq_; ++b) {
    tables_[b] = b;
    refs_[b] = 1;
  }
  free_.clear();
  for (uint32_t b = static_cast<uint32_t>(refs_.size()); b-- > blocks_per_seq_;) free_.push_back(b);
}

void KvBlocks::Release(uint32_t block) {
  if (block != kNone && --refs_[block] == 0) free_.push_back(block);
}

uint32_t KvBlocks::Take() {
  // Never empty: the sequences hold at most max_seqs * blocks_per_seq blocks in all, and the
  // pinned prompt one more.
  const uint32_t b = free_.back();
  free_.pop_back();
  refs_[b] = 1;
  return b;
}

void KvBlocks::Fork(uint32_t k, uint32_t n_blocks) {
  // Sequence 0's blocks past n_blocks go back to the pool; the others are pinned (one more
  // holder), so no block of the prompt is ever reused.
  uint32_t* zero = &tables_[0];
  for (uint32_t i = 0; i < blocks_per_seq_; ++i) {
    if (i < n_blocks) {
      ++refs_[zero[i]];
    } else {
      Release(zero[i]);
      zero[i] = kNone;
    }
  }
  for (uint32_t s = 1; s < k; ++s) {
    uint32_t* t = &tables_[size_t{s} * blocks_per_seq_];
    for (uint32_t i = 0; i < blocks_per_seq_; ++i) {
      Release(t[i]);
      t[i] = i < n_blocks ? zero[i] : kNone;
      if (t[i] != kNone) ++refs_[t[i]];
    }
  }
}

void KvBlocks::Reorder(const uint32_t* parents, uint32_t k, uint32_t n_blocks) {
  for (uint32_t j = 0; j < k; ++j) {
    std::copy_n(&tables_[size_t{parents[j]} * blocks_per_seq_], n_blocks, &scratch_[size_t{j} * blocks_per_seq_]);
    for (uint32_t i = 0; i < n_blocks; ++i) {
      const uint32_t b = scratch_[size_t{j} * blocks_per_seq_ + i];
      if (b != kNone) ++refs_[b];
    }
  }
  for (uint32_t j = 0; j < k; ++j) {
    uint32_t* t = &tables_[size_t{j} * blocks_per_seq_];
    for (uint32_t i = 0; i < n_blocks; ++i) {
      Release(t[i]);
      t[i] = scratch_[size_t{j} * blocks_per_seq_ + i];
    }
  }
}

bool KvBlocks::PrepareWrite(uint32_t s, uint32_t pos, uint32_t* from, uint32_t* to) {
  uint32_t& entry = tables_[size_t{s} * blocks_per_seq_ + pos / kBlock];
  if (entry != kNone && refs_[entry] == 1) return false;
  const uint32_t shared = entry;
  entry = Take();
  if (shared == kNone) return false;
  Release(shared);
  *from = shared;
  *to = entry;
  return pos % kBlock != 0;
}

}  // namespace edgeformer
