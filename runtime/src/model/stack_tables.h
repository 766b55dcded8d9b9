// The position tables a stack's layers and embedding read, computed once when a session is
// created for a number of positions (the context of a decoder, the longest source of an
// encoder-decoder's encoder): rotary angles, sinusoidal embeddings, ALiBi slopes, T5 buckets.
// Ownership: owns its buffers; `view` points into them. Thread safety: read-only after Fill.
#pragma once

#include <cstddef>
#include <vector>

#include "core/aligned_buffer.h"
#include "model/config.h"
#include "model/layer.h"

namespace edgeformer {

struct StackTables {
  AlignedBuffer rope;        // [positions][rotary_dim / 2][2], when a layer is rotary
  AlignedBuffer rope_local;  // the same for the layers with their own base
  AlignedBuffer sinusoidal;  // [positions][dim], for sinusoidal embedding positions
  AlignedBuffer alibi;       // [n_heads] slopes, when a layer uses ALiBi
  AlignedBuffer buckets;     // [2 positions - 1] int32: T5 bucket of (key - query + positions - 1)
  LayerTables view;          // the layers' view of the above, set by Fill

  // A buffer of the session's memory plan and its size in bytes (0: not needed).
  struct Need {
    AlignedBuffer* buffer;
    size_t bytes;
  };
  // Appends the buffers `c` needs for `positions` positions.
  void Plan(const ModelConfig& c, size_t positions, std::vector<Need>* plan);
  // Computes the tables into the buffers Plan listed (allocated since) and sets view.
  void Fill(const ModelConfig& c, size_t positions);
};

}  // namespace edgeformer
