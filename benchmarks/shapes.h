// The matmul shapes the microbenchmarks time: (output rows, inputs) of each distinct matmul of
// the bench tool's models S (110M) and M (1.1B).
#pragma once

#include <cstddef>

namespace edgeformer {
namespace bench_shapes {

struct Shape {
  const char* name;
  size_t n, k;
};

constexpr Shape kShapes[] = {
    {"S.wq", 768, 768},       {"S.w_gate", 2048, 768},   {"S.w_down", 768, 2048},   {"S.classifier", 32000, 768},
    {"M.wq", 2048, 2048},     {"M.wk", 256, 2048},       {"M.w_gate", 5632, 2048},  {"M.w_down", 2048, 5632},
    {"M.classifier", 32000, 2048},
};

}  // namespace bench_shapes
}  // namespace edgeformer
