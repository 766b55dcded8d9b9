// Model files with random weights for any stack the format can state: every tensor the role
// table asks of `architecture` (which must have its stack), at scales that keep activations
// bounded. For tests, fuzz seeds and benchmarks; the outputs are nonsense.
#pragma once

#include <cstdint>
#include <string>

#include "converter/convert.h"
#include "core/status.h"
#include "model_generated.h"

namespace edgeformer {
namespace convert {

// Writes the model to `path`; `tokenizer` (may be null) goes in as is.
Error WriteSyntheticStack(const schema::ArchitectureT& architecture, const schema::TokenizerT* tokenizer, uint64_t seed,
                          Quant quant, const std::string& path);

// An encoder-decoder in the original Transformer's layout, as Marian's OPUS-MT models are (both
// stacks post-norm LayerNorm with biases, sinusoidal positions, embeddings scaled by sqrt(dim)
// and shared by the encoder, a tied classifier, GELU), with `layers` layers in each stack;
// decoder start id 0, EOS 1, and the longest source `max_len` as the context.
schema::ArchitectureT SyntheticEncoderDecoder(uint32_t dim, uint32_t hidden, uint32_t layers, uint32_t heads,
                                              uint32_t vocab, uint32_t max_len);

}  // namespace convert
}  // namespace edgeformer
