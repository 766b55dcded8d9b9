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

}  // namespace convert
}  // namespace edgeformer
