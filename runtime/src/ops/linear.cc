#include "ops/ops.h"
#include "ops/xnn_linear.h"

namespace edgeformer {
namespace ops {
namespace {

// Below this many multiply-adds a matmul runs on the calling thread: waking workers costs more.
constexpr size_t kMinParallelWork = 1 << 16;
constexpr size_t kColumnAlign = 32;  // tiles start on a block boundary, and fill every kernel's widest tile

struct LinearTask {
  const Context* ctx;
  const Weight* w;
  size_t m;
  const float* x;
  size_t x_stride;
  const QuantizedRows* xq;
  float* y;
  size_t y_stride;
};

void RunColumns(void* p, size_t begin, size_t count) {
  const LinearTask& t = *static_cast<const LinearTask*>(p);
  const Weight& w = *t.w;
  const size_t k = w.cols;
  if (w.type == WeightType::kInt4) {
    // begin is a multiple of the block height: its block's values and scales start there.
    t.ctx->kernels->q4gemm(t.m, count, k, w.group, t.xq->data, t.xq->stride, t.xq->scales, t.xq->sums,
                           static_cast<const uint8_t*>(w.data) + begin / kBlockRows * Int4BlockBytes(k, w.group),
                           w.int4_scales + begin * Int4Groups(k, w.group), t.y + begin, t.y_stride);
  } else if (w.type == WeightType::kInt8) {
    // begin is a multiple of the block height, so it starts a block of the layout.
    t.ctx->kernels->qgemm(t.m, count, k, t.xq->data, t.xq->stride, t.xq->scales,
                          w.i8() + begin / kBlockRows * BlockBytes(k), w.scales + begin, w.row_sums + begin,
                          t.y + begin, t.y_stride);
  } else {
    const KvType type = w.type == WeightType::kF16 ? KvType::kF16 : KvType::kF32;
    t.ctx->kernels->sgemm(t.m, count, k, t.x, t.x_stride, static_cast<const uint8_t*>(w.data) + begin * k * w.value_bytes(),
                          k, type, t.y + begin, t.y_stride);
  }
}

}  // namespace

Error Linear(const Context& ctx, const Weight& w, size_t m, const float* x, size_t x_stride,
             const QuantizedRows& xq, float* y, size_t y_stride) {
  if (ctx.xnn != nullptr && m >= ctx.xnn_min_rows && x_stride == w.cols && y_stride == w.rows) {
    // A failure is reported, not hidden behind a native rerun: the session chose this backend.
    const XnnLinear* op = ctx.xnn->Find(w);
    if (op != nullptr) return op->Run(m, x, y, ctx.pool->handle());
  }
  LinearTask task{&ctx, &w, m, x, x_stride, &xq, y, y_stride};
  const size_t n = w.rows;
  // Tiles for every thread the pool has; it runs them on those active now.
  const size_t threads = ctx.pool->threads();
  if (threads <= 1 || m * n * w.cols < kMinParallelWork) {
    RunColumns(&task, 0, n);
    return Error::Ok();
  }
  // Tiles are claimed one at a time: several per thread let the threads that run take the share
  // of one the OS has descheduled. Decode (few rows) splits finer; a prefill tile re-reads all
  // its activation rows, so it stays wider.
  const size_t per_thread = m < 16 ? 8 : 4;
  size_t tile = (n + threads * per_thread - 1) / (threads * per_thread);
  tile = (tile + kColumnAlign - 1) / kColumnAlign * kColumnAlign;
  ctx.pool->ParallelizeTiles(&RunColumns, &task, n, tile);
  return Error::Ok();
}

}  // namespace ops
}  // namespace edgeformer
