// Float matmuls through XNNPACK's fully-connected operator (xnn_create_fully_connected_nc_f32), the
// "xnnpack" backend of f32 and f16 models. An operator is created once per weight when a session
// is created: XNNPACK packs the weight into its own layout, a second copy of packed_bytes() beside
// the mapped file (f32 values: twice the file's bytes for f16 weights, which are widened). Runs use the session's pthreadpool. XNNPACK fuses multiply-adds and picks its
// own summation order, so results differ from the native kernels in the last bits, and between
// CPUs (the native backend is the bit-identical one).
//
// Thread safety: Run on one thread at a time per operator (the session's caller).
#pragma once

#include <cstddef>
#include <memory>
#include <unordered_map>

#include "core/status.h"
#include <vector>

#include "ops/weight.h"

struct pthreadpool;
struct xnn_operator;

namespace edgeformer {
namespace ops {

// Whether this build has XNNPACK (CMake option EDGEFORMER_XNNPACK). Without it
// (ops/xnn_unavailable.cc) creating an operator fails with kUnsupported.
bool XnnAvailable();

// Tests only: while set, every XnnLinear::Run fails as an XNNPACK operator can (so the tests see
// that a failure is reported, never hidden). Thread-safe.
void FailXnnRunsForTesting(bool fail);

class XnnLinear {
 public:
  // For an f32 or f16 weight [rows][cols]; y rows are written with stride rows, x rows read with stride cols.
  static Result<std::unique_ptr<XnnLinear>> Create(const Weight& w);
  ~XnnLinear();
  XnnLinear(const XnnLinear&) = delete;
  XnnLinear& operator=(const XnnLinear&) = delete;

  // y [m][rows] = x [m][cols] w^T. kInternal when XNNPACK fails.
  Error Run(size_t m, const float* x, float* y, pthreadpool* pool) const;
  size_t packed_bytes() const { return packed_bytes_; }

 private:
  XnnLinear(xnn_operator* op, size_t packed_bytes) : op_(op), packed_bytes_(packed_bytes) {}
  xnn_operator* op_;
  size_t packed_bytes_;
};

// The operators of one session, by the weight they stand for.
class XnnOperators {
 public:
  // Creates an operator for each float (f32, f16) matrix of `weights` (which outlive the
  // operators; the model layer picks them from its role table). Others are skipped.
  static Result<std::unique_ptr<XnnOperators>> Create(const std::vector<const Weight*>& weights);
  // The bytes Create's operators would pack, without creating them.
  static uint64_t PlannedBytes(const std::vector<const Weight*>& weights);
  size_t size() const { return ops_.size(); }
  const XnnLinear* Find(const Weight& w) const {
    const auto it = ops_.find(&w);
    return it == ops_.end() ? nullptr : it->second.get();
  }
  size_t packed_bytes() const { return packed_bytes_; }

 private:
  std::unordered_map<const Weight*, std::unique_ptr<XnnLinear>> ops_;
  size_t packed_bytes_ = 0;
};

}  // namespace ops
}  // namespace edgeformer
