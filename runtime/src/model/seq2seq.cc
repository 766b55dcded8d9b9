// Encoder-decoders: a source runs through the encoder once, and each cross-attention layer's keys
// and values of it are stored for every target token that follows (model/session.h).
#include <algorithm>

#include "model/session.h"
#include "ops/ops.h"

namespace edgeformer {

Error Session::EncodeSource(const int32_t* ids, size_t n, float* hidden) {
  const ModelConfig& c = model_.config();
  if (c.family != Family::kEncoderDecoder) {
    return Error(Status::kUnsupported, "only an encoder-decoder encodes a source (this model is " +
                                           std::string(c.family == Family::kEncoderOnly ? "an encoder" : "a decoder") +
                                           ")");
  }
  if (ids == nullptr) return Error(Status::kInvalidArgument, "source ids is null");
  if (n == 0) return Error(Status::kInvalidArgument, "the source has no tokens");
  if (n > max_source_) {
    return Error(Status::kContextFull, "the source has " + std::to_string(n) + " tokens; the session's longest is " +
                                           std::to_string(max_source_) + " (max_source_length)");
  }
  const ModelConfig& e = *c.encoder;
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || static_cast<uint32_t>(ids[i]) >= e.vocab_size) {
      return Error(Status::kInvalidArgument, "source token " + std::to_string(i) + " has id " + std::to_string(ids[i]) +
                                                 ", outside the encoder's vocabulary [0, " +
                                                 std::to_string(e.vocab_size) + ")");
    }
  }
  Reset();
  cancel_.store(false, std::memory_order_relaxed);
  phase_ = Phase::kPrefill;
  Error err = [&]() -> Error {
    int32_t* positions = positions_.as<int32_t>();
    for (size_t i = 0; i < n; ++i) positions[i] = static_cast<int32_t>(i);
    RowLayout rows;
    rows.n = n;
    rows.positions = positions;
    EF_RETURN_IF_ERROR(RunStack(EncoderView(), ids, nullptr, rows));
    const GlobalWeights& eg = model_.encoder_globals();
    float* h = hidden != nullptr ? hidden : xb_.as<float>();
    {
      const ScopedOp t(profile_, phase_, OpKind::kNorm);
      if (e.final_norm) {
        NormRows(e.final_norm_kind, eg.final_norm, eg.final_norm_bias, x_.as<float>(), n, e.dim, e.norm_eps, h);
      } else {
        std::copy(x_.as<float>(), x_.as<float>() + n * e.dim, h);
      }
    }
    // Each cross-attention layer's keys and values of the source, stored once.
    const ops::QuantizedRows xq{xq_.as<int8_t>(), xq_scales_.as<float>(), xq_stride_, xq_sums_.as<int32_t>()};
    const ops::Context ctx{&kernels_, pool_.get(), xnn_.get(), XnnMinRows()};
    const size_t kv_dim = c.kv_dim();
    float* k = k_new_.as<float>();
    float* v = v_new_.as<float>();
    for (uint32_t l = 0; l < c.n_layers; ++l) {
      if (!c.layers[l].cross_attention) continue;
      const LayerWeights& w = model_.layer(l);
      {
        const ScopedOp t(profile_, phase_, OpKind::kMatmul);
        QuantizeFor(ctx, {&w.cross_wk, &w.cross_wv}, h, n, c.dim, xq);
        EF_RETURN_IF_ERROR(LinearRows(ctx, w.cross_wk, w.cross_bk, n, h, c.dim, xq, k, kv_dim));
        EF_RETURN_IF_ERROR(LinearRows(ctx, w.cross_wv, w.cross_bv, n, h, c.dim, xq, v, kv_dim));
      }
      const ScopedOp t(profile_, phase_, OpKind::kAttention);
      const LayerCache cache = source_cache_.View(l, c.head_dim, kv_type_, SourceSlots(n));
      ops::StoreKv(k, n, kv_dim, c.n_kv_heads, c.head_dim, 0, kv_type_, cache.k, cache.head_stride, 0, cache.k_scales);
      ops::StoreKv(v, n, kv_dim, c.n_kv_heads, c.head_dim, 0, kv_type_, cache.v, cache.head_stride, 0, cache.v_scales);
    }
    source_len_ = static_cast<uint32_t>(n);
    // The decoder's start ids (fewer than the context, checked at Create), in steps of max_batch.
    const std::vector<int32_t>& start = c.decoder_start_ids;
    for (size_t done = 0; done < start.size();) {
      const size_t chunk = std::min<size_t>(max_batch_, start.size() - done);
      EF_RETURN_IF_ERROR(Forward(start.data() + done, chunk, done + chunk == start.size()));
      done += chunk;
    }
    return Error::Ok();
  }();
  if (!err.ok()) Reset();
  if (release_workers_) pool_->ReleaseWorkers();
  return err;
}

}  // namespace edgeformer
