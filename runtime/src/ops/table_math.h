// Transcendentals for the position tables (RoPE, sinusoidal, ALiBi, T5 buckets): computed in
// double and rounded once to float. C libraries disagree in the last bit of their float functions
// (glibc's and musl's, which the WebAssembly build uses, differ on sinf/cosf); a double result
// accurate to an ulp of double rounds to the same float on all of them (in practice: a tie would
// need the exact value within 2^-29 relative of a float midpoint). So the tables, and the tokens,
// are the same everywhere.
#pragma once

#include <cmath>

namespace edgeformer {
namespace ops {

inline float TableExp(float x) { return static_cast<float>(std::exp(static_cast<double>(x))); }
inline float TableLog(float x) { return static_cast<float>(std::log(static_cast<double>(x))); }
inline float TablePow(float x, float y) {
  return static_cast<float>(std::pow(static_cast<double>(x), static_cast<double>(y)));
}
inline float TableCos(float x) { return static_cast<float>(std::cos(static_cast<double>(x))); }
inline float TableSin(float x) { return static_cast<float>(std::sin(static_cast<double>(x))); }

}  // namespace ops
}  // namespace edgeformer
