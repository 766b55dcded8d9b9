// FNV-1a 64-bit, the checksum the model format stores per tensor (see schemas/model.fbs).
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgeformer {

constexpr uint64_t kFnv1aInit = 0xcbf29ce484222325ull;

// Continues the hash `h` over `size` bytes. Start with kFnv1aInit.
inline uint64_t Fnv1a64(const void* data, size_t size, uint64_t h = kFnv1aInit) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace edgeformer
