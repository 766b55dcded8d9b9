#include "model/session.h"

#include <algorithm>
#include <initializer_list>
#include <new>

#include "ops/ops.h"

namespace edgeformer {
namespace {

constexpr uint32_t kMaxBatchLimit = 1024;

}  // namespace

Result<std::unique_ptr<Session>> Session::Create(const Model& model, const SessionOptions& options) {
  const ModelConfig& c = model.config();
  if (options.context_length > c.max_seq_len) {
    return Error(Status::kInvalidArgument, "context length " + std::to_string(options.context_length) +
                                               " exceeds the model's maximum of " + std::to_string(c.max_seq_len));
  }
  if (options.n_threads > 1024) return Error(Status::kInvalidArgument, "too many threads");
  Isa cap = options.max_isa;
  if (!options.use_max_isa) {
    Result<Isa> env = MaxIsaFromEnvironment();
    if (!env.ok()) return env.error();
    cap = env.value();
  }
  std::unique_ptr<Session> s(new (std::nothrow) Session(model));
  if (s == nullptr) return Error(Status::kOutOfMemory, "cannot allocate a session");
  s->kernels_ = SelectKernels(cap);
  s->context_ = options.context_length == 0 ? c.max_seq_len : options.context_length;
  s->max_batch_ = std::clamp<uint32_t>(options.max_batch, 1, std::min(kMaxBatchLimit, s->context_));
  s->release_workers_ = options.release_workers;
  s->kv_type_ = options.kv_type;
  // AUTO leaves f16 models native: XNNPACK's only fast route widens their weights to f32, three
  // times the file's memory and seconds of packing at creation, for +70% prefill
  // (docs/performance.md, "XNNPACK or native").
  const bool f16_model = model.matmul_type() == WeightType::kF16;
  const bool use_xnn = options.backend == Backend::kXnnpack ||
                       (options.backend == Backend::kAuto && !f16_model && ops::XnnAvailable());
  const bool all = options.backend == Backend::kXnnpack;
  ThreadPoolOptions pool_options;
  pool_options.with_pthreadpool = use_xnn;  // XNNPACK runs on a pthreadpool
  Result<std::unique_ptr<ThreadPool>> pool = options.pool != nullptr ? ThreadPool::Borrow(options.pool)
                                                                     : ThreadPool::Create(options.n_threads, pool_options);
  if (!pool.ok()) return pool.error();
  s->pool_ = pool.take();
  const uint64_t xnn_bytes = use_xnn ? ops::XnnOperators::PlannedBytes(model, /*classifier=*/all) : 0;
  Error err = s->Allocate(options.memory_budget, xnn_bytes);
  if (!err.ok()) return err;
  if (use_xnn) {
    Result<std::unique_ptr<ops::XnnOperators>> xnn = ops::XnnOperators::Create(model, /*classifier=*/all);
    if (!xnn.ok()) return xnn.error();
    if (xnn.value()->size() > 0) {
      s->allocated_ += xnn.value()->packed_bytes();
      s->xnn_ = xnn.take();
      s->backend_ = options.backend;
    }
  }
  ops::RopeTable(s->context_, c.head_dim, c.rope, s->rope_.as<float>());
  return s;
}

Error Session::Allocate(uint64_t budget, uint64_t extra) {
  const ModelConfig& c = model_.config();
  const size_t b = max_batch_;
  xq_stride_ = ActivationRowBytes(std::max({c.dim, c.q_dim(), c.hidden_dim}));
  const size_t cache = size_t{c.n_layers} * context_ * c.kv_dim() * KvTypeBytes(kv_type_);
  struct Plan {
    AlignedBuffer* buffer;
    size_t bytes;
    bool zero;
  } plan[] = {
      {&k_cache_, cache, false},
      {&v_cache_, cache, false},
      {&k_new_, b * c.kv_dim() * sizeof(float), true},
      {&v_new_, b * c.kv_dim() * sizeof(float), true},
      {&rope_, size_t{context_} * c.head_dim * sizeof(float), true},
      {&history_, size_t{context_} * sizeof(int32_t), true},
      {&x_, b * c.dim * sizeof(float), true},
      {&xb_, b * c.dim * sizeof(float), true},
      {&tmp_, b * c.dim * sizeof(float), true},
      {&q_, b * c.q_dim() * sizeof(float), true},
      {&att_, b * c.q_dim() * sizeof(float), true},
      {&gate_, b * c.hidden_dim * sizeof(float), true},
      {&up_, b * c.hidden_dim * sizeof(float), true},
      {&xq_, b * xq_stride_, true},
      {&xq_scales_, b * sizeof(float), true},
      {&scores_, size_t{c.n_heads} * context_ * sizeof(float), true},
      {&logits_, size_t{c.vocab_size} * sizeof(float), true},
  };
  uint64_t total = extra;
  for (const Plan& p : plan) total += p.bytes;
  if (budget != 0 && total > budget) {
    return Error(Status::kOutOfMemory, "the session needs " + std::to_string(total) + " bytes (KV cache " +
                                           std::to_string(2 * cache) + ", XNNPACK's weights " + std::to_string(extra) +
                                           ", activations the rest) but its memory budget is " +
                                           std::to_string(budget) + "; lower context_length or use an f16 KV cache");
  }
  allocated_ = 0;
  for (const Plan& p : plan) {
    EF_RETURN_IF_ERROR(p.buffer->Allocate(p.bytes, p.zero));
    allocated_ += p.bytes;
  }
  return Error::Ok();
}

void Session::Reset() {
  pos_ = 0;
  has_logits_ = false;
  pending_ = -1;
}

Error Session::Truncate(uint32_t n) {
  if (n > pos_) {
    return Error(Status::kInvalidArgument, "cannot keep " + std::to_string(n) + " tokens: the KV cache holds " +
                                               std::to_string(pos_));
  }
  pos_ = n;
  pending_ = -1;
  has_logits_ = false;
  return Error::Ok();
}

int32_t Session::last_token() const {
  if (pending_ >= 0) return pending_;
  return pos_ > 0 ? history_.as<int32_t>()[pos_ - 1] : -1;
}

Error Session::Forward(const int32_t* tokens, size_t n, bool want_logits, float* all_logits) {
  const ModelConfig& c = model_.config();
  const size_t dim = c.dim, q_dim = c.q_dim(), kv_dim = c.kv_dim(), hidden = c.hidden_dim, hd = c.head_dim;
  float* x = x_.as<float>();
  float* xb = xb_.as<float>();
  float* tmp = tmp_.as<float>();
  float* q = q_.as<float>();
  float* att = att_.as<float>();
  float* gate = gate_.as<float>();
  float* up = up_.as<float>();
  const float* rope = rope_.as<float>();
  const ops::QuantizedRows xq{xq_.as<int8_t>(), xq_scales_.as<float>(), xq_stride_};
  // kAuto leaves decode (one row) to the native kernels.
  const ops::Context ctx{&kernels_, pool_.get(), xnn_.get(), backend_ == Backend::kAuto ? size_t{2} : size_t{1}};
  auto timer = [this](OpKind kind) { return ScopedOp(profile_, phase_, kind); };
  // Quantizes, once, the rows that a group of matmuls shares, if any of them is int8.
  auto quantize_for = [&](std::initializer_list<const Weight*> group, const float* in, size_t m, size_t k) {
    for (const Weight* w : group) {
      if (w->type == WeightType::kInt8) {
        const ScopedOp t = timer(OpKind::kQuantize);
        ops::QuantizeRows(in, m, k, k, xq);
        return;
      }
    }
  };
  // out = in w^T (+ bias, when the model has one).
  auto linear = [&](const Weight& w, const Weight& bias, const float* in, size_t k, float* out,
                    size_t out_stride) -> Error {
    const ScopedOp t = timer(OpKind::kMatmul);
    EF_RETURN_IF_ERROR(ops::Linear(ctx, w, n, in, k, xq, out, out_stride));
    if (bias.present()) ops::AddBias(out, bias.f32(), n, w.rows, out_stride);
    return Error::Ok();
  };
  auto norm = [&](const Weight& w, const Weight& bias, const float* in, size_t rows, float* out) {
    const ScopedOp t = timer(OpKind::kNorm);
    if (c.norm == NormKind::kLayerNorm) {
      ops::LayerNorm(in, w.f32(), bias.f32(), rows, dim, c.norm_eps, out);
    } else {
      ops::RmsNorm(in, w.f32(), rows, dim, c.norm_eps, out);
    }
  };
  auto residual = [&]() {
    const ScopedOp t = timer(OpKind::kResidual);
    ops::AddInPlace(x, tmp, n * dim);
  };

  {
    const ScopedOp t = timer(OpKind::kEmbed);
    for (size_t i = 0; i < n; ++i) {
      ops::Embed(model_.token_embedding(), tokens[i], x + i * dim);
      if (c.position == PositionKind::kLearned) {
        ops::AddInPlace(x + i * dim, model_.position_embedding().f32() + (pos_ + i) * dim, dim);
      }
    }
  }
  for (uint32_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = model_.layer(l);
    const size_t layer_bytes = size_t{context_} * kv_dim * KvTypeBytes(kv_type_);
    char* k_layer = k_cache_.as<char>() + l * layer_bytes;
    char* v_layer = v_cache_.as<char>() + l * layer_bytes;
    float* k_rows = k_new_.as<float>();
    float* v_rows = v_new_.as<float>();

    // Attention block: x += wo(attention(rope(wq xb), rope(wk xb), wv xb)), xb = rmsnorm(x).
    norm(L.attn_norm, L.attn_norm_bias, x, n, xb);
    quantize_for({&L.wq, &L.wk, &L.wv}, xb, n, dim);
    EF_RETURN_IF_ERROR(linear(L.wq, L.bq, xb, dim, q, q_dim));
    EF_RETURN_IF_ERROR(linear(L.wk, L.bk, xb, dim, k_rows, kv_dim));
    EF_RETURN_IF_ERROR(linear(L.wv, L.bv, xb, dim, v_rows, kv_dim));
    if (c.position == PositionKind::kRotary) {
      const ScopedOp t = timer(OpKind::kRope);
      for (size_t i = 0; i < n; ++i) {
        const float* angles = rope + (pos_ + i) * hd;
        ops::Rope(q + i * q_dim, c.n_heads, hd, angles);
        ops::Rope(k_rows + i * kv_dim, c.n_kv_heads, hd, angles);
      }
    }
    {
      const ScopedOp t = timer(OpKind::kAttention);
      const size_t head_stride = size_t{context_} * hd;
      ops::StoreKv(k_rows, n, kv_dim, c.n_kv_heads, hd, pos_, kv_type_, k_layer, head_stride);
      ops::StoreKv(v_rows, n, kv_dim, c.n_kv_heads, hd, pos_, kv_type_, v_layer, head_stride);
      const ops::AttentionArgs args{q,         q_dim,     k_layer,      v_layer,      kv_type_, head_stride,
                                    hd,        pos_,      n,            c.n_heads,    c.n_kv_heads,
                                    hd,        scores_.as<float>(),     context_,     att,      q_dim};
      ops::Attention(ctx, args);
    }
    quantize_for({&L.wo}, att, n, q_dim);
    EF_RETURN_IF_ERROR(linear(L.wo, L.bo, att, q_dim, tmp, dim));
    residual();

    // Feed-forward block: x += w_down(silu(w_gate xb) * w_up xb), xb = rmsnorm(x).
    // SwiGLU: w_down(silu(w_gate xb) * w_up xb); GELU: w_down(gelu(w_up xb)). Either way the
    // activation ends in `gate`.
    norm(L.ffn_norm, L.ffn_norm_bias, x, n, xb);
    if (c.activation == ActivationKind::kSwiGLU) {
      quantize_for({&L.w_gate, &L.w_up}, xb, n, dim);
      EF_RETURN_IF_ERROR(linear(L.w_gate, L.b_gate, xb, dim, gate, hidden));
      EF_RETURN_IF_ERROR(linear(L.w_up, L.b_up, xb, dim, up, hidden));
      const ScopedOp t = timer(OpKind::kActivation);
      ops::SwiGLU(gate, up, n * hidden);
    } else {
      quantize_for({&L.w_up}, xb, n, dim);
      EF_RETURN_IF_ERROR(linear(L.w_up, L.b_up, xb, dim, gate, hidden));
      const ScopedOp t = timer(OpKind::kActivation);
      ops::GeluTanh(gate, n * hidden);
    }
    quantize_for({&L.w_down}, gate, n, hidden);
    EF_RETURN_IF_ERROR(linear(L.w_down, L.b_down, gate, hidden, tmp, dim));
    residual();
  }
  for (size_t i = 0; i < n; ++i) history_.as<int32_t>()[pos_ + i] = tokens[i];
  pos_ += static_cast<uint32_t>(n);
  has_logits_ = want_logits;
  if (!want_logits && all_logits == nullptr) return Error::Ok();
  // The classifier reads the final norm of the rows whose logits are wanted.
  const size_t first = all_logits != nullptr ? 0 : n - 1;
  const size_t rows = n - first;
  norm(model_.final_norm(), model_.final_norm_bias(), x + first * dim, rows, xb);
  quantize_for({&model_.classifier()}, xb, rows, dim);
  const ScopedOp t = timer(OpKind::kClassifier);
  float* out = all_logits != nullptr ? all_logits : logits_.as<float>();
  EF_RETURN_IF_ERROR(ops::Linear(ctx, model_.classifier(), rows, xb, dim, xq, out, c.vocab_size));
  if (model_.classifier_bias().present()) ops::AddBias(out, model_.classifier_bias().f32(), rows, c.vocab_size, c.vocab_size);
  return Error::Ok();
}

Error Session::CheckPrefill(const int32_t* tokens, size_t n) const {
  if (n == 0) return Error(Status::kInvalidArgument, "prefill needs at least one token");
  if (tokens == nullptr) return Error(Status::kInvalidArgument, "tokens is null");
  const uint32_t vocab = model_.config().vocab_size;
  for (size_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || static_cast<uint32_t>(tokens[i]) >= vocab) {
      return Error(Status::kInvalidArgument, "token " + std::to_string(i) + " has id " + std::to_string(tokens[i]) +
                                                 ", outside the vocabulary [0, " + std::to_string(vocab) + ")");
    }
  }
  const size_t needed = n + (pending_ >= 0 ? 1 : 0);
  if (needed > context_ - pos_) {
    return Error(Status::kContextFull, "the prompt needs " + std::to_string(needed) + " positions but only " +
                                           std::to_string(context_ - pos_) + " of the context's " +
                                           std::to_string(context_) + " are free");
  }
  return Error::Ok();
}

Error Session::SlideContext(uint32_t keep, bool* slid) {
  *slid = false;
  if (keep >= pos_ || pos_ - keep < 2) return Error::Ok();
  const uint32_t drop = (pos_ - keep) / 2;
  const uint32_t tail = pos_ - keep - drop;
  // Forward reads its tokens before it writes them into history_, and writes each below where
  // it reads, so the tail can be fed from history_ itself.
  const int32_t* tokens = history_.as<int32_t>() + keep + drop;
  pos_ = keep;
  has_logits_ = false;
  for (uint32_t done = 0; done < tail;) {
    const uint32_t chunk = std::min(max_batch_, tail - done);
    EF_RETURN_IF_ERROR(Forward(tokens + done, chunk, false));
    done += chunk;
  }
  *slid = true;
  return Error::Ok();
}

Error Session::FeedPending() {
  if (pending_ < 0) return Error::Ok();
  const int32_t pending = pending_;
  pending_ = -1;
  return Forward(&pending, 1, false);
}

Error Session::RunPrefill(const int32_t* tokens, size_t n, float* all_logits) {
  EF_RETURN_IF_ERROR(CheckPrefill(tokens, n));
  cancel_.store(false, std::memory_order_relaxed);
  // What a cancel or a failure restores. Rows written past pos_before are forgotten; logits_ is
  // written by the last step only (and, with all_logits, after the loop).
  const uint32_t pos_before = pos_;
  const int32_t pending_before = pending_;
  const bool had_logits = has_logits_;
  phase_ = Phase::kPrefill;
  const size_t vocab = model_.config().vocab_size;
  Error err = FeedPending();
  for (size_t done = 0; err.ok() && done < n;) {
    if (cancel_.exchange(false, std::memory_order_relaxed)) {
      err = Error(Status::kCancelled, "prefill cancelled; the context is as it was before it");
      break;
    }
    const size_t chunk = std::min<size_t>(max_batch_, n - done);
    const bool last = done + chunk == n;
    err = Forward(tokens + done, chunk, last && all_logits == nullptr,
                  all_logits != nullptr ? all_logits + done * vocab : nullptr);
    done += chunk;
  }
  if (err.ok() && all_logits != nullptr) {
    std::copy(all_logits + (n - 1) * vocab, all_logits + n * vocab, logits_.as<float>());
    has_logits_ = true;
  }
  if (!err.ok()) {
    pos_ = pos_before;
    pending_ = pending_before;
    has_logits_ = had_logits;
  }
  if (release_workers_) pool_->ReleaseWorkers();
  return err;
}

Error Session::Prefill(const int32_t* tokens, size_t n) { return RunPrefill(tokens, n, nullptr); }

Error Session::PrefillWithLogits(const int32_t* tokens, size_t n, float* logits_out) {
  if (logits_out == nullptr) return Error(Status::kInvalidArgument, "logits_out is null");
  return RunPrefill(tokens, n, logits_out);
}

Error Session::Generate(Sampler& sampler, const GenerateOptions& options, TokenCallback callback, void* user_data,
                        size_t* n_generated, StopReason* reason) {
  *n_generated = 0;
  *reason = StopReason::kError;
  if (!has_logits_ && pending_ < 0) {
    return Error(Status::kInvalidArgument, "nothing to continue: prefill a prompt first");
  }
  if (options.slide_context && (context_ < 2 || options.keep_tokens > context_ - 2)) {
    return Error(Status::kInvalidArgument, "keep_tokens " + std::to_string(options.keep_tokens) +
                                               " leaves nothing to slide in a context of " + std::to_string(context_) +
                                               " tokens (at most context - 2 can be kept)");
  }
  *reason = StopReason::kMaxTokens;
  const ModelConfig& c = model_.config();
  phase_ = Phase::kDecode;
  cancel_.store(false, std::memory_order_relaxed);
  for (;;) {
    if (cancel_.exchange(false, std::memory_order_relaxed)) {
      *reason = StopReason::kCancelled;
      return Error::Ok();
    }
    if (pending_ >= 0) {
      if (pos_ >= context_) {
        bool slid = false;
        if (options.slide_context) {
          const Error err = SlideContext(options.keep_tokens, &slid);
          if (!err.ok()) {
            *reason = StopReason::kError;
            return err;
          }
        }
        if (!slid) {
          *reason = StopReason::kContextFull;
          return Error(Status::kContextFull,
                       "the context is full (" + std::to_string(context_) + " tokens); generation stopped");
        }
      }
      const int32_t token = pending_;
      pending_ = -1;
      const Error err = Forward(&token, 1, true);
      if (!err.ok()) {
        // The token stays pending: the session is as before this step.
        pending_ = token;
        *reason = StopReason::kError;
        return err;
      }
      // The caller's callback runs next, for as long as the app needs: no spinning meanwhile.
      if (release_workers_) pool_->ReleaseWorkers();
    }
    if (*n_generated >= options.max_tokens) return Error::Ok();
    int32_t token;
    {
      const ScopedOp t(profile_, phase_, OpKind::kSample);
      token = sampler.Sample(logits());
    }
    pending_ = token;
    if (options.stop_at_end_of_text && (token == c.eos_id || token == c.bos_id)) {
      *reason = StopReason::kEndOfText;
      return Error::Ok();
    }
    ++*n_generated;
    if (callback != nullptr && !callback(user_data, token)) {
      *reason = StopReason::kCallback;
      return Error::Ok();
    }
    if (*n_generated >= options.max_tokens) return Error::Ok();
  }
}

}  // namespace edgeformer
