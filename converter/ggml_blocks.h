// The ggml tensor types the converter reads from GGUF files, as llama.cpp defines them
// (ggml-common.h, ggml-quants.c): F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K.
//
// Each type is a block of `elements` consecutive values of a row stored in `bytes` bytes (1 value
// for the float types; 32 for Q4_0..Q8_0; 256 for the K types). `dequantize` writes one block's
// values as ggml's dequantize_row_* computes them (the same float32 operations in the same order),
// so a converted tensor starts from the numbers llama.cpp would use. Blocks are read byte by byte
// (little-endian, no alignment needed). Thread safety: the table is immutable.
#pragma once

#include <cstdint>

namespace edgeformer {
namespace convert {

struct GgmlType {
  uint32_t id;       // ggml's type number (GGML_TYPE_*)
  const char* name;  // "Q4_K"
  uint32_t elements;
  uint32_t bytes;
  // block: `bytes` bytes; out: `elements` floats.
  void (*dequantize)(const uint8_t* block, float* out);
};

// The type with ggml number `id`, or nullptr when the converter does not read it.
const GgmlType* FindGgmlType(uint32_t id);

// ggml's name of any type number ("Q2_K", "IQ4_XS", ...), or "unknown".
const char* GgmlTypeName(uint32_t id);

// The names of the types FindGgmlType knows, comma-separated, for error messages.
const char* GgmlTypesRead();

}  // namespace convert
}  // namespace edgeformer
