#include "ops/xnn_linear.h"

#include <xnnpack.h>

#include <atomic>
#include <limits>
#include <mutex>
#include <new>

#include "core/aligned_buffer.h"
#include "platforms/common/f16.h"

namespace edgeformer {
namespace ops {
namespace {

std::atomic<bool> g_fail_runs{false};

Error InitXnnpack() {
  static std::once_flag once;
  static xnn_status status = xnn_status_uninitialized;
  std::call_once(once, [] { status = xnn_initialize(nullptr); });
  if (status != xnn_status_success) {
    return Error(Status::kUnsupported, "XNNPACK cannot run on this CPU (xnn_initialize: " +
                                           std::to_string(static_cast<int>(status)) + ")");
  }
  return Error::Ok();
}

}  // namespace

bool XnnAvailable() { return true; }

Result<std::unique_ptr<XnnLinear>> XnnLinear::Create(const Weight& w) {
  EF_RETURN_IF_ERROR(InitXnnpack());
  if (w.type != WeightType::kF32 && w.type != WeightType::kF16) {
    return Error(Status::kInvalidArgument, "XNNPACK backend: not a float weight");
  }
  // f16 weights are widened for the f32 operator, which packs its own copy; the widened one is
  // freed when it returns. (XNNPACK's f16 operator is 2-4x slower than its f32 one here:
  // docs/performance.md.)
  AlignedBuffer wide;
  const float* values = w.f32();
  if (w.type == WeightType::kF16) {
    EF_RETURN_IF_ERROR(wide.Allocate(w.rows * w.cols * sizeof(float), false));
    float* out = wide.as<float>();
    for (size_t i = 0; i < w.rows * w.cols; ++i) out[i] = F16ToF32(w.f16()[i]);
    values = out;
  }
  xnn_operator_t op = nullptr;
  const float inf = std::numeric_limits<float>::infinity();
  const xnn_status st = xnn_create_fully_connected_nc_f32(w.cols, w.rows, w.cols, w.rows, values, nullptr, -inf, inf,
                                                          0, &op);
  if (st == xnn_status_out_of_memory) return Error(Status::kOutOfMemory, "XNNPACK: out of memory packing a weight");
  if (st != xnn_status_success) {
    return Error(Status::kUnsupported, "XNNPACK: cannot create a fully-connected operator (status " +
                                           std::to_string(static_cast<int>(st)) + ")");
  }
  std::unique_ptr<XnnLinear> linear(new (std::nothrow) XnnLinear(op, w.rows * w.cols * sizeof(float)));
  if (linear == nullptr) {
    xnn_delete_operator(op);
    return Error(Status::kOutOfMemory, "cannot allocate an XNNPACK operator's handle");
  }
  return linear;
}

XnnLinear::~XnnLinear() { xnn_delete_operator(op_); }

void FailXnnRunsForTesting(bool fail) { g_fail_runs.store(fail, std::memory_order_relaxed); }

Error XnnLinear::Run(size_t m, const float* x, float* y, pthreadpool* pool) const {
  xnn_status st = g_fail_runs.load(std::memory_order_relaxed) ? xnn_status_invalid_state : xnn_status_success;
  if (st == xnn_status_success) st = xnn_setup_fully_connected_nc_f32(op_, m, x, y, pool);
  if (st == xnn_status_success) st = xnn_run_operator(op_, pool);
  if (st != xnn_status_success) {
    return Error(Status::kInternal, "XNNPACK: the fully-connected operator failed on " + std::to_string(m) +
                                        " rows (xnn_status " + std::to_string(static_cast<int>(st)) + ")");
  }
  return Error::Ok();
}

namespace {

// Calls fn(w) for each float matrix of `weights` an operator would stand for, until fn fails.
template <typename Fn>
Error ForEachXnnWeight(const std::vector<const Weight*>& weights, Fn fn) {
  for (const Weight* w : weights) {
    const bool is_float = w->type == WeightType::kF32 || w->type == WeightType::kF16;
    if (w->present() && is_float && w->rows > 1) EF_RETURN_IF_ERROR(fn(*w));
  }
  return Error::Ok();
}

}  // namespace

Result<std::unique_ptr<XnnOperators>> XnnOperators::Create(const std::vector<const Weight*>& weights) {
  std::unique_ptr<XnnOperators> ops(new (std::nothrow) XnnOperators());
  if (ops == nullptr) return Error(Status::kOutOfMemory, "cannot allocate XNNPACK's operator table");
  EF_RETURN_IF_ERROR(ForEachXnnWeight(weights, [&](const Weight& w) -> Error {
    Result<std::unique_ptr<XnnLinear>> op = XnnLinear::Create(w);
    if (!op.ok()) return op.error();
    ops->packed_bytes_ += op.value()->packed_bytes();
    ops->ops_[&w] = op.take();
    return Error::Ok();
  }));
  return ops;
}

uint64_t XnnOperators::PlannedBytes(const std::vector<const Weight*>& weights) {
  uint64_t bytes = 0;
  (void)ForEachXnnWeight(weights, [&](const Weight& w) {
    bytes += w.rows * w.cols * sizeof(float);
    return Error::Ok();
  });
  return bytes;
}

}  // namespace ops
}  // namespace edgeformer
