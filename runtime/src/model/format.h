// Facts about the model file format shared by the loader and the converter: the version this
// build reads and writes, and segment alignment. The tensor roles are in model/tensor_roles.h.
#pragma once

#include <cstdint>


namespace edgeformer {

constexpr uint32_t kFormatVersion = 7;     // written by the converter
constexpr uint32_t kMinFormatVersion = 2;  // oldest still read (no rope scaling)
constexpr uint64_t kSegmentAlignment = 64;

}  // namespace edgeformer
