#include "model/layer.h"

namespace edgeformer {

void QuantizeFor(const ops::Context& ctx, std::initializer_list<const Weight*> group, const float* in, size_t n,
                 size_t k, const ops::QuantizedRows& xq) {
  for (const Weight* w : group) {
    if (w->present() && w->quantized()) {
      ops::QuantizeRows(ctx, in, n, k, k, xq);
      return;
    }
  }
}

Error LinearRows(const ops::Context& ctx, const Weight& w, const Weight& bias, size_t n, const float* in,
                 size_t in_stride, const ops::QuantizedRows& xq, float* out, size_t out_stride) {
  EF_RETURN_IF_ERROR(ops::Linear(ctx, w, n, in, in_stride, xq, out, out_stride));
  if (bias.present()) ops::AddBias(out, bias.f32(), n, w.rows, out_stride);
  return Error::Ok();
}

void NormRows(NormKind kind, const Weight& weight, const Weight& bias, const float* in, size_t n, size_t dim,
              float eps, float* out) {
  if (kind == NormKind::kLayerNorm) {
    ops::LayerNorm(in, weight.f32(), bias.f32(), n, dim, eps, out);
  } else {
    ops::RmsNorm(in, weight.f32(), n, dim, eps, out);
  }
}

void Activate(ActivationKind kind, float* x, size_t n) {
  switch (kind) {
    case ActivationKind::kGELUTanh: ops::GeluTanh(x, n); break;
    case ActivationKind::kGELU: ops::GeluErf(x, n); break;
    case ActivationKind::kReLU: ops::Relu(x, n); break;
    case ActivationKind::kSiLU: ops::Silu(x, n); break;
    default: break;  // gated kinds are applied with their up projection (RunLayer)
  }
}

Error RunLayer(const ops::Context& ctx, const ModelConfig& c, uint32_t l, const LayerWeights& w,
               const Weight& shared_relative_bias, const LayerTables& tables, const LayerCache& cache,
               const RowLayout& rows, const LayerScratch& s, Profile* profile, Phase phase) {
  const LayerConfig& lc = c.layers[l];
  const size_t n = rows.n, dim = c.dim, q_dim = c.q_dim(), kv_dim = c.kv_dim(), hidden = c.hidden_dim;
  const size_t hd = c.head_dim;
  const bool pre = lc.placement != NormPlacement::kPost;
  const bool sandwich = lc.placement == NormPlacement::kSandwich;
  auto timer = [&](OpKind kind) { return ScopedOp(profile, phase, kind); };
  auto linear = [&](const Weight& weight, const Weight& bias, const float* in, size_t k, float* out,
                    size_t out_stride) -> Error {
    const ScopedOp t = timer(OpKind::kMatmul);
    return LinearRows(ctx, weight, bias, n, in, k, s.xq, out, out_stride);
  };
  auto quantize_for = [&](std::initializer_list<const Weight*> group, const float* in, size_t k) {
    const ScopedOp t = timer(OpKind::kQuantize);
    QuantizeFor(ctx, group, in, n, k, s.xq);
  };
  auto norm = [&](const Weight& weight, const Weight& bias, const float* in, float* out) {
    const ScopedOp t = timer(OpKind::kNorm);
    NormRows(lc.norm, weight, bias, in, n, dim, c.norm_eps, out);
  };
  // Sandwich: out = post_norm(out). x += out, then (post-norm) x = norm(x).
  auto residual = [&](float* out, const Weight& weight, const Weight& bias, const Weight& post_norm) {
    if (sandwich) norm(post_norm, Weight{}, out, out);
    {
      const ScopedOp t = timer(OpKind::kResidual);
      ops::AddInPlace(s.x, out, n * dim);
    }
    if (!pre) norm(weight, bias, s.x, s.x);
  };

  // Attention block: pre-norm x += wo(attention(norm(x))), post-norm x = norm(x + wo(attention(x))),
  // sandwich x += post_norm(wo(attention(norm(x)))).
  const float* in = s.x;
  if (pre) {
    norm(w.attn_norm, w.attn_norm_bias, s.x, s.xb);
    in = s.xb;
  }
  quantize_for({&w.wq, &w.wk, &w.wv}, in, dim);
  EF_RETURN_IF_ERROR(linear(w.wq, w.bq, in, dim, s.q, q_dim));
  EF_RETURN_IF_ERROR(linear(w.wk, w.bk, in, dim, s.k_rows, kv_dim));
  EF_RETURN_IF_ERROR(linear(w.wv, w.bv, in, dim, s.v_rows, kv_dim));
  if (lc.qk_norm) {  // per head: rows of head_dim
    const ScopedOp t = timer(OpKind::kNorm);
    ops::RmsNorm(s.q, w.q_norm.f32(), n * c.n_heads, hd, c.norm_eps, s.q);
    ops::RmsNorm(s.k_rows, w.k_norm.f32(), n * c.n_kv_heads, hd, c.norm_eps, s.k_rows);
  }
  if (lc.position == PositionKind::kRotary) {
    const ScopedOp t = timer(OpKind::kRope);
    const float* table = lc.rope_theta != 0.0f ? tables.rope_local : tables.rope;
    for (size_t i = 0; i < n; ++i) {
      const float* angles = table + static_cast<size_t>(rows.positions[i]) * lc.rotary_dim;
      ops::Rope(s.q + i * q_dim, c.n_heads, hd, lc.rotary_dim, lc.rotary_style, angles);
      ops::Rope(s.k_rows + i * kv_dim, c.n_kv_heads, hd, lc.rotary_dim, lc.rotary_style, angles);
    }
  }
  {
    const ScopedOp t = timer(OpKind::kAttention);
    // Beams: each row at its own sequence's slot of the position.
    for (size_t i = 0; i < (rows.tables != nullptr ? n : 1); ++i) {
      const size_t count = rows.tables != nullptr ? 1 : n;
      const size_t slot = rows.tables != nullptr
                              ? size_t{rows.tables[i][rows.first / rows.block]} * rows.block + rows.first % rows.block
                              : rows.first;
      ops::StoreKv(s.k_rows + i * kv_dim, count, kv_dim, c.n_kv_heads, hd, slot, cache.type, cache.k, cache.head_stride,
                   cache.ring, cache.k_scales);
      ops::StoreKv(s.v_rows + i * kv_dim, count, kv_dim, c.n_kv_heads, hd, slot, cache.type, cache.v, cache.head_stride,
                   cache.ring, cache.v_scales);
    }
    ops::AttentionArgs args{s.q,        q_dim,     cache.k,    cache.v,      cache.type, cache.head_stride,
                            hd,         rows.first, n,         c.n_heads,    c.n_kv_heads,
                            hd,         s.scores,  s.scores_stride, s.att,   q_dim};
    args.mask = lc.mask;
    args.prefix_len = c.prefix_len;
    args.seg_begin = rows.seg_begin;
    args.seg_end = rows.seg_end;
    args.scale = c.attention_scale;
    args.softcap = c.attention_softcap;
    args.window = lc.sliding_window;
    args.ring = cache.ring;
    args.k_scales = cache.k_scales;
    args.v_scales = cache.v_scales;
    args.scale_head_stride = cache.head_stride / hd;
    args.tables = rows.tables;
    args.block = rows.block;
    if (lc.position == PositionKind::kALiBi) args.alibi_slopes = tables.alibi_slopes;
    if (lc.position == PositionKind::kT5Relative) {
      args.relative_bias = (c.relative.shared ? shared_relative_bias : w.relative_bias).f32();
      args.bucket = tables.buckets;
      args.bucket_offset = tables.bucket_offset;
    }
    ops::Attention(ctx, args);
  }
  quantize_for({&w.wo}, s.att, q_dim);
  EF_RETURN_IF_ERROR(linear(w.wo, w.bo, s.att, q_dim, s.tmp, dim));
  residual(s.tmp, w.attn_norm, w.attn_norm_bias, w.post_attn_norm);

  // Cross-attention block (encoder-decoders), placed as the layer's norms are: queries from the
  // stream, keys and values of the source (computed once per source), no mask, no positions.
  if (lc.cross_attention) {
    in = s.x;
    if (pre) {
      norm(w.cross_norm, w.cross_norm_bias, s.x, s.xb);
      in = s.xb;
    }
    quantize_for({&w.cross_wq}, in, dim);
    EF_RETURN_IF_ERROR(linear(w.cross_wq, w.cross_bq, in, dim, s.q, q_dim));
    {
      const ScopedOp t = timer(OpKind::kCrossAttention);
      const LayerCache::Source& src = cache.source;
      ops::AttentionArgs args{s.q,      q_dim,        src.k,     src.v,           cache.type, src.head_stride,
                              hd,       0,            n,         c.n_heads,       c.n_kv_heads,
                              hd,       s.scores,     s.scores_stride, s.att,     q_dim};
      args.n_keys = src.n_keys;
      args.scale = c.attention_scale;
      args.k_scales = src.k_scales;
      args.v_scales = src.v_scales;
      args.scale_head_stride = src.head_stride / hd;
      ops::Attention(ctx, args);
    }
    quantize_for({&w.cross_wo}, s.att, q_dim);
    EF_RETURN_IF_ERROR(linear(w.cross_wo, w.cross_bo, s.att, q_dim, s.tmp, dim));
    residual(s.tmp, w.cross_norm, w.cross_norm_bias, Weight{});
  }

  // Feed-forward block: gated w_down(act(w_gate h) * w_up h), else w_down(act(w_up h)); the
  // activation ends in `gate` either way.
  in = s.x;
  if (pre) {
    norm(w.ffn_norm, w.ffn_norm_bias, s.x, s.xb);
    in = s.xb;
  }
  if (IsGated(lc.activation)) {
    quantize_for({&w.w_gate, &w.w_up}, in, dim);
    EF_RETURN_IF_ERROR(linear(w.w_gate, w.b_gate, in, dim, s.gate, hidden));
    EF_RETURN_IF_ERROR(linear(w.w_up, w.b_up, in, dim, s.up, hidden));
    const ScopedOp t = timer(OpKind::kActivation);
    if (lc.activation == ActivationKind::kSwiGLU) {
      ops::SwiGLU(ctx, s.gate, s.up, n * hidden);
    } else {
      ops::GeGLU(s.gate, s.up, n * hidden, lc.activation == ActivationKind::kGeGLUTanh);
    }
  } else {
    quantize_for({&w.w_up}, in, dim);
    EF_RETURN_IF_ERROR(linear(w.w_up, w.b_up, in, dim, s.gate, hidden));
    const ScopedOp t = timer(OpKind::kActivation);
    Activate(lc.activation, s.gate, n * hidden);
  }
  quantize_for({&w.w_down}, s.gate, hidden);
  EF_RETURN_IF_ERROR(linear(w.w_down, w.b_down, s.gate, hidden, s.tmp, dim));
  residual(s.tmp, w.ffn_norm, w.ffn_norm_bias, w.post_ffn_norm);
  return Error::Ok();
}

}  // namespace edgeformer
