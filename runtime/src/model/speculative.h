// The acceptance rule of speculative sampling (Leviathan et al. 2023, "Fast Inference from
// Transformers via Speculative Decoding"; Chen et al. 2023): a token d drawn from the draft's
// distribution q is kept with probability min(1, p(d) / q(d)), p being the model's; when it is
// not, the token is drawn from norm(max(0, p - q)). The token that results is distributed as p
// exactly, whatever q is (tests/speculative_test.cc checks that, and that mutants of the rule do
// not pass). Header-only, no state.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgeformer {

// Whether the draft's token d (q[d] > 0: it was drawn from q) is accepted, given u uniform in
// [0, 1): u < p[d] / q[d], computed without dividing.
inline bool AcceptDraft(const float* p, const float* q, int32_t d, float u) { return u * q[d] < p[d]; }

// The rejection's distribution, unnormalized: out[i] = max(0, p[i] - q[i]) for i < n (out may be
// p). Returns its sum: more than 0 whenever a token was rejected (p[d] < q[d] then, and both sum
// to 1), up to rounding.
inline float Residual(const float* p, const float* q, size_t n, float* out) {
  float total = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    const float r = p[i] - q[i];
    out[i] = r > 0.0f ? r : 0.0f;
    total += out[i];
  }
  return total;
}

}  // namespace edgeformer
