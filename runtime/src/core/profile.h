// Time spent per operator kind and phase, for edgeformer-bench --profile.
//
// A Session with a Profile attached times each operator with steady_clock; with none attached
// the timers cost one branch. Thread safety: written by the session's calling thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace edgeformer {

enum class OpKind : int {
  kEmbed,
  kNorm,
  kQuantize,
  kMatmul,
  kRope,
  kAttention,
  kActivation,
  kResidual,
  kClassifier,
  kSample,
  kCrossAttention,  // an encoder-decoder's attention over the source (ops::Attention only)
  kCount
};

enum class Phase : int { kPrefill, kDecode, kCount };

inline const char* OpKindName(OpKind kind) {
  static const char* const kNames[] = {"embed",    "norm",       "quantize", "matmul",     "rope",  "attention",
                                       "activation", "residual", "classifier", "sample", "cross-attention"};
  return kNames[static_cast<int>(kind)];
}

inline const char* PhaseName(Phase phase) { return phase == Phase::kPrefill ? "prefill" : "decode"; }

struct Profile {
  static constexpr int kPhases = static_cast<int>(Phase::kCount);
  static constexpr int kKinds = static_cast<int>(OpKind::kCount);
  double seconds[kPhases][kKinds] = {};
  uint64_t calls[kPhases][kKinds] = {};

  void Clear() { *this = Profile(); }
};

// Adds the time from construction to destruction to `profile` (if not null).
class ScopedOp {
 public:
  ScopedOp(Profile* profile, Phase phase, OpKind kind) : profile_(profile), phase_(phase), kind_(kind) {
    if (profile_ != nullptr) start_ = std::chrono::steady_clock::now();
  }
  ~ScopedOp() {
    if (profile_ == nullptr) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    profile_->seconds[static_cast<int>(phase_)][static_cast<int>(kind_)] += s;
    ++profile_->calls[static_cast<int>(phase_)][static_cast<int>(kind_)];
  }
  ScopedOp(const ScopedOp&) = delete;
  ScopedOp& operator=(const ScopedOp&) = delete;

 private:
  Profile* profile_;
  Phase phase_;
  OpKind kind_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace edgeformer
