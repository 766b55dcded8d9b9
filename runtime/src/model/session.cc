#include "model/session.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <new>

#include "model/tensor_roles.h"
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
    Result<Isa> env = IsaCapFromEnvironment();
    if (!env.ok()) return env.error();
    cap = env.value();
  }
  std::unique_ptr<Session> s(new (std::nothrow) Session(model));
  if (s == nullptr) return Error(Status::kOutOfMemory, "cannot allocate a session");
  s->kernels_ = SelectKernels(cap);
  s->context_ = options.context_length == 0 ? c.max_seq_len : options.context_length;
  const bool encoder = c.family == Family::kEncoderOnly;
  // An encoder's text runs in one pass (its attention sees the whole text), so a pass holds a
  // whole context; it keeps one layer's keys and values at a time.
  s->max_batch_ = encoder ? s->context_ : std::clamp<uint32_t>(options.max_batch, 1, std::min(kMaxBatchLimit, s->context_));
  if (c.encoder != nullptr) {
    // An encoder-decoder's source runs through the encoder in one pass too.
    if (options.max_source_length > c.encoder->max_seq_len) {
      return Error(Status::kInvalidArgument, "max source length " + std::to_string(options.max_source_length) +
                                                 " exceeds the encoder's maximum of " +
                                                 std::to_string(c.encoder->max_seq_len));
    }
    s->max_source_ = options.max_source_length == 0 ? c.encoder->max_seq_len : options.max_source_length;
    if (c.decoder_start_ids.size() >= s->context_) {
      return Error(Status::kInvalidArgument, "the context of " + std::to_string(s->context_) +
                                                 " tokens leaves no room after the decoder's start ids");
    }
  } else if (options.max_source_length != 0) {
    return Error(Status::kInvalidArgument, "max_source_length is for encoder-decoder models");
  }
  if (options.max_beams < 1 || options.max_beams > 64) {
    return Error(Status::kInvalidArgument, "max_beams must be 1 to 64");
  }
  if (options.max_beams > 1 && encoder) return Error(Status::kInvalidArgument, "an encoder has no beams");
  s->max_beams_ = options.max_beams;
  s->huge_pages_ = options.huge_pages;
  const uint32_t beam_tokens = std::max<uint32_t>(1, std::min(options.max_beam_tokens, s->context_));
  const uint32_t blocks_per_seq = (s->context_ + KvBlocks::kBlock - 1) / KvBlocks::kBlock;
  const uint64_t beam_bytes = (s->max_beams_ > 1 ? KvBlocks::Bytes(s->max_beams_, blocks_per_seq) : 0) +
                              BeamSearch::Bytes(s->max_beams_, beam_tokens, c.vocab_size);
  if (options.max_draft_tokens > 64) return Error(Status::kInvalidArgument, "max_draft_tokens must be 0 to 64");
  if (options.max_draft_tokens > 0 && (encoder || s->max_beams_ > 1)) {
    return Error(Status::kInvalidArgument, std::string("max_draft_tokens is for generation without beams") +
                                               (encoder ? " (this model is an encoder)" : " (max_beams is more than 1)"));
  }
  s->max_draft_ = std::min(options.max_draft_tokens, s->context_ - 1);
  // A verification pass holds the pending token and every proposal.
  s->max_batch_ = std::max(s->max_batch_, std::min(s->max_draft_ + 1, s->context_));
  // A prefix-LM prefix is attended both ways, so it is computed in one step.
  if (!encoder && c.AnyLayer([](const LayerConfig& l) { return l.mask == MaskKind::kPrefixLM; })) {
    s->max_batch_ = std::max(s->max_batch_, std::min(c.prefix_len, s->context_));
  }
  s->release_workers_ = options.release_workers;
  s->kv_type_ = options.kv_type;
  // AUTO leaves f16 weights native: XNNPACK's only fast route widens them to f32, three times the
  // file's memory and seconds of packing at creation, for +70% prefill (docs/performance.md,
  // "XNNPACK or native"). A model of mixed precisions (--quant auto) is judged by its first layer.
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
  // XNNPACK takes the layers' matrices (the role table's per-layer matrices), and the classifier
  // when every float matmul goes to it.
  std::vector<const Weight*> xnn_weights;
  if (use_xnn) {
    model.ForEachWeight([&](const ModelConfig& sc, const TensorRoleInfo& info, int32_t l, const Weight& w) {
      if (!info.matrix || !w.present()) return;
      if (l >= 0) {
        if (all || w.type != WeightType::kF16) xnn_weights.push_back(&w);
      } else if (all && info.role == schema::TensorRole::Classifier && sc.classifier && &sc == &c) {
        xnn_weights.push_back(&model.classifier());
      }
    });
  }
  const uint64_t xnn_bytes = use_xnn ? ops::XnnOperators::PlannedBytes(xnn_weights) : 0;
  Error err = s->Allocate(options.memory_budget, xnn_bytes, beam_bytes);
  if (!err.ok()) return err;
  // The beam search's state (counted in the budget above).
  if (s->max_beams_ > 1) EF_RETURN_IF_ERROR(s->blocks_.Init(s->max_beams_, blocks_per_seq));
  EF_RETURN_IF_ERROR(s->beam_.Init(s->max_beams_, beam_tokens, c.vocab_size));
  s->beam_tables_.assign(s->max_beams_, nullptr);
  s->beam_parents_.assign(s->max_beams_, 0);
  s->beam_tokens_.assign(s->max_beams_, 0);
  s->allocated_ += beam_bytes;
  if (s->max_beams_ > 1 && s->rings_) {
    return Error(Status::kUnsupported, "beams are not supported with sliding-window rings (max_beams must be 1)");
  }
  if (use_xnn) {
    Result<std::unique_ptr<ops::XnnOperators>> xnn = ops::XnnOperators::Create(xnn_weights);
    if (!xnn.ok()) return xnn.error();
    if (xnn.value()->size() > 0) {
      s->allocated_ += xnn.value()->packed_bytes();
      s->xnn_ = xnn.take();
      s->backend_ = options.backend;
    }
  }
  // Tables: rotary angles, sinusoidal positions, ALiBi slopes, T5 buckets, as the layers need.
  s->tables_.Fill(c, s->context_);
  if (c.encoder != nullptr) s->encoder_tables_.Fill(*c.encoder, s->max_source_);
  return s;
}

Error Session::Allocate(uint64_t budget, uint64_t extra, uint64_t beam_bytes) {
  const ModelConfig& c = model_.config();
  const ModelConfig* e = c.encoder.get();
  // Rows and widths: the widest of the stacks.
  const size_t b = std::max({max_batch_, max_source_, max_beams_});
  uint32_t q_dim = c.q_dim(), kv_dim = c.kv_dim(), hidden = c.hidden_dim, heads = c.n_heads;
  if (e != nullptr) {
    q_dim = std::max(q_dim, e->q_dim());
    kv_dim = std::max(kv_dim, e->kv_dim());
    hidden = std::max(hidden, e->hidden_dim);
    heads = std::max(heads, e->n_heads);
  }
  xq_stride_ = ActivationRowBytes(std::max({c.dim, q_dim, hidden}));
  scores_stride_ = std::max(context_, max_source_);
  const bool encoder = c.family == Family::kEncoderOnly;
  cache_ = KvStore{};
  rings_ = false;
  for (uint32_t l = 0; l < (encoder ? 1 : c.n_layers); ++l) {
    const uint32_t window = encoder ? 0 : c.layers[l].sliding_window;
    const size_t ring = size_t{window} + max_batch_ - 1;
    const bool use_ring = window > 0 && 2 * ring < context_;
    rings_ = rings_ || use_ring;
    // Beams: every block of the pool (blocks_ holds max_beams sequences of the context).
    const size_t slots =
        max_beams_ > 1
            ? KvBlocks::PoolBlocks(max_beams_, (context_ + KvBlocks::kBlock - 1) / KvBlocks::kBlock) * KvBlocks::kBlock
            : context_;
    cache_.AddLayer(use_ring ? 2 * ring : slots, use_ring ? ring : 0, window, c.kv_dim(), c.n_kv_heads, kv_type_);
  }
  encoder_cache_ = KvStore{};
  source_cache_ = KvStore{};
  if (e != nullptr) {
    encoder_cache_.AddLayer(max_source_, 0, 0, e->kv_dim(), e->n_kv_heads, kv_type_);
    for (uint32_t l = 0; l < c.n_layers; ++l) {
      source_cache_.AddLayer(c.layers[l].cross_attention ? max_source_ : 0, 0, 0, c.kv_dim(), c.n_kv_heads, kv_type_);
    }
  }
  std::vector<StackTables::Need> plan = {
      {&cache_.k, cache_.bytes},
      {&cache_.v, cache_.bytes},
      {&encoder_cache_.k, encoder_cache_.bytes},
      {&encoder_cache_.v, encoder_cache_.bytes},
      {&source_cache_.k, source_cache_.bytes},
      {&source_cache_.v, source_cache_.bytes},
      {&k_new_, b * kv_dim * sizeof(float)},
      {&v_new_, b * kv_dim * sizeof(float)},
      {&positions_, b * sizeof(int32_t)},
      {&seg_begin_, b * sizeof(uint32_t)},
      {&seg_end_, b * sizeof(uint32_t)},
      {&history_, size_t{context_} * sizeof(int32_t)},
      {&x_, b * c.dim * sizeof(float)},
      {&xb_, b * c.dim * sizeof(float)},
      {&tmp_, b * c.dim * sizeof(float)},
      {&q_, b * q_dim * sizeof(float)},
      {&att_, b * q_dim * sizeof(float)},
      {&gate_, b * hidden * sizeof(float)},
      {&up_, b * hidden * sizeof(float)},
      {&xq_, b * xq_stride_},
      {&xq_scales_, b * sizeof(float)},
      {&xq_sums_, b * (xq_stride_ / 32) * sizeof(int32_t)},
      {&scores_, size_t{heads} * scores_stride_ * sizeof(float)},
      {&logits_, (size_t{max_beams_} + 1) * c.vocab_size * sizeof(float)},
      {&draft_tokens_, max_draft_ > 0 ? (size_t{max_draft_} + 1) * sizeof(int32_t) : 0},
      {&draft_logits_, max_draft_ > 0 ? (size_t{max_draft_} + 1) * c.vocab_size * sizeof(float) : 0},
      {&draft_q_, max_draft_ > 0 ? size_t{max_draft_} * c.vocab_size * sizeof(float) : 0},
      {&draft_p_, max_draft_ > 0 ? size_t{c.vocab_size} * sizeof(float) : 0},
      {&pooled_, size_t{c.dim} * sizeof(float)},
  };
  tables_.Plan(c, context_, &plan);
  if (e != nullptr) encoder_tables_.Plan(*e, max_source_, &plan);
  // The caches' untouched pages cost no resident memory until used: not zero-filled. They are
  // what a step streams, so they go on 2 MiB pages when asked (core/aligned_buffer.h).
  const AlignedBuffer* caches[] = {&cache_.k, &cache_.v, &encoder_cache_.k, &encoder_cache_.v, &source_cache_.k,
                                   &source_cache_.v};
  auto is_cache = [&](const AlignedBuffer* b) { return std::find(std::begin(caches), std::end(caches), b) != std::end(caches); };
  auto footprint = [&](const StackTables::Need& p) {
    return uint64_t{AlignedBuffer::Footprint(p.bytes, huge_pages_ && is_cache(p.buffer))};
  };
  uint64_t kv_bytes = 0;
  for (const StackTables::Need& p : plan) kv_bytes += is_cache(p.buffer) ? footprint(p) : 0;
  uint64_t total = extra + beam_bytes;
  for (const StackTables::Need& p : plan) total += footprint(p);
  if (budget != 0 && total > budget) {
    return Error(Status::kOutOfMemory, "the session needs " + std::to_string(total) + " bytes (KV caches " +
                                           std::to_string(kv_bytes) + ", XNNPACK's weights " + std::to_string(extra) +
                                           ", beam search " + std::to_string(beam_bytes) +
                                           ", activations the rest) but its memory budget is " +
                                           std::to_string(budget) + "; lower context_length or use an f16 KV cache");
  }
  allocated_ = 0;
  for (const StackTables::Need& p : plan) {
    const bool cache = is_cache(p.buffer);
    EF_RETURN_IF_ERROR(p.buffer->Allocate(p.bytes, !cache, huge_pages_ && cache));
    allocated_ += footprint(p);
  }
  return Error::Ok();
}

void Session::Reset() {
  source_len_ = 0;
  pos_ = 0;
  written_ = 0;
  has_logits_ = false;
  pending_ = -1;
}

Error Session::Truncate(uint32_t n) {
  if (n > pos_) {
    return Error(Status::kInvalidArgument, "cannot keep " + std::to_string(n) + " tokens: the KV cache holds " +
                                               std::to_string(pos_));
  }
  pending_ = -1;
  has_logits_ = false;
  return RestoreTo(n);
}

bool Session::RingsHold(uint32_t n) const {
  for (const CacheLayout& layout : cache_.layouts) {
    if (layout.ring == 0) continue;
    // Keys [n - window + 1, n) are needed; position q was written over once q + ring was written.
    const size_t oldest = n + 1 > layout.window ? n + 1 - layout.window : 0;
    if (oldest + layout.ring < written_) return false;
  }
  return true;
}

Error Session::RestoreTo(uint32_t n) {
  pos_ = n;
  if (!rings_ || RingsHold(n)) return Error::Ok();
  return Replay(n);
}

Error Session::Replay(uint32_t n) {
  // Forward reads each chunk of history_ before writing it back, unchanged.
  pos_ = 0;
  written_ = 0;
  const Phase phase = phase_;
  phase_ = Phase::kPrefill;
  Error err = Error::Ok();
  for (uint32_t done = 0; err.ok() && done < n;) {
    const uint32_t chunk = std::min(max_batch_, n - done);
    err = Forward(history_.as<int32_t>() + done, chunk, false);
    done += chunk;
  }
  phase_ = phase;
  if (!err.ok()) Reset();
  return err;
}

int32_t Session::last_token() const {
  if (pending_ >= 0) return pending_;
  return pos_ > 0 ? history_.as<int32_t>()[pos_ - 1] : -1;
}

Session::StackView Session::DecoderView() const {
  const ModelConfig& c = model_.config();
  return StackView{&c, &model_.globals(), &model_.layer(0), &tables_, &cache_,
                   c.encoder != nullptr ? &source_cache_ : nullptr};
}

Session::StackView Session::EncoderView() const {
  return StackView{model_.config().encoder.get(), &model_.encoder_globals(), &model_.encoder_layer(0), &encoder_tables_,
                   &encoder_cache_, nullptr};
}

Error Session::RunStack(const StackView& stack, const int32_t* tokens, const int32_t* token_types,
                        const RowLayout& rows) {
  const ModelConfig& c = *stack.config;
  const GlobalWeights& g = *stack.globals;
  const size_t dim = c.dim, n = rows.n;
  float* x = x_.as<float>();
  const ops::QuantizedRows xq{xq_.as<int8_t>(), xq_scales_.as<float>(), xq_stride_, xq_sums_.as<int32_t>()};
  // kAuto leaves decode (one row) to the native kernels.
  const ops::Context ctx{&kernels_, pool_.get(), xnn_.get(), XnnMinRows()};
  {
    // The embedding: token row (times the scale), + position row, + token type row, then a norm.
    const ScopedOp t(profile_, phase_, OpKind::kEmbed);
    for (size_t i = 0; i < n; ++i) {
      float* row = x + i * dim;
      ops::Embed(g.token_embedding, tokens[i], row);
      if (c.embedding_scale != 1.0f) {
        for (size_t j = 0; j < dim; ++j) row[j] *= c.embedding_scale;
      }
      const size_t pos = static_cast<size_t>(rows.positions[i]);
      if (c.embedding_positions == PositionKind::kLearned) {
        ops::AddInPlace(row, g.position_embedding.f32() + pos * dim, dim);
      } else if (c.embedding_positions == PositionKind::kSinusoidal) {
        ops::AddInPlace(row, stack.tables->sinusoidal.as<float>() + pos * dim, dim);
      }
      if (c.token_types > 0) {
        const size_t type = token_types != nullptr ? static_cast<size_t>(token_types[i]) : 0;
        ops::AddInPlace(row, g.token_type_embedding.f32() + type * dim, dim);
      }
    }
  }
  if (c.embedding_norm) {
    const ScopedOp t(profile_, phase_, OpKind::kNorm);
    NormRows(c.embedding_norm_kind, g.embed_norm, g.embed_norm_bias, x, n, dim, c.norm_eps, x);
  }
  const LayerScratch scratch{x,
                             xb_.as<float>(),
                             tmp_.as<float>(),
                             q_.as<float>(),
                             att_.as<float>(),
                             k_new_.as<float>(),
                             v_new_.as<float>(),
                             gate_.as<float>(),
                             up_.as<float>(),
                             scores_.as<float>(),
                             scores_stride_,
                             xq};
  if (rings_ && stack.cache == &cache_) written_ = std::max<uint32_t>(written_, static_cast<uint32_t>(rows.first + n));
  const bool one_cache_layer = stack.cache->layouts.size() == 1;
  for (uint32_t l = 0; l < c.n_layers; ++l) {
    LayerCache cache = stack.cache->View(one_cache_layer ? 0 : l, c.head_dim, kv_type_);
    if (stack.source != nullptr && c.layers[l].cross_attention) {
      const LayerCache src = stack.source->View(l, c.head_dim, kv_type_, SourceSlots(source_len_));
      cache.source = LayerCache::Source{src.k, src.v, src.head_stride, source_len_, src.k_scales, src.v_scales};
    }
    EF_RETURN_IF_ERROR(RunLayer(ctx, c, l, stack.layers[l], g.relative_bias, stack.tables->view, cache, rows, scratch,
                                profile_, phase_));
  }
  return Error::Ok();
}

Error Session::Head(size_t first, size_t count, float* hidden, float* logits) {
  const ModelConfig& c = model_.config();
  const GlobalWeights& g = model_.globals();
  const size_t dim = c.dim;
  const float* x = x_.as<float>() + first * dim;
  float* h = hidden != nullptr ? hidden : xb_.as<float>();
  {
    const ScopedOp t(profile_, phase_, OpKind::kNorm);
    if (c.final_norm) {
      NormRows(c.final_norm_kind, g.final_norm, g.final_norm_bias, x, count, dim, c.norm_eps, h);
    } else if (h != x) {
      std::copy(x, x + count * dim, h);
    }
  }
  if (logits == nullptr) return Error::Ok();
  const ops::QuantizedRows xq{xq_.as<int8_t>(), xq_scales_.as<float>(), xq_stride_, xq_sums_.as<int32_t>()};
  const ops::Context ctx{&kernels_, pool_.get(), xnn_.get(), XnnMinRows()};
  const float* in = h;
  if (c.mlm_head) {
    // BERT's masked-LM transform: dense, activation, norm, then the classifier. In tmp_, which
    // holds max_batch rows: the rows go through in chunks of that many.
    float* t = tmp_.as<float>();
    QuantizeFor(ctx, {&g.mlm_dense}, h, count, dim, xq);
    EF_RETURN_IF_ERROR(LinearRows(ctx, g.mlm_dense, g.mlm_dense_bias, count, h, dim, xq, t, dim));
    Activate(c.mlm_activation, t, count * dim);
    NormRows(c.final_norm_kind, g.mlm_norm, g.mlm_norm_bias, t, count, dim, c.norm_eps, t);
    in = t;
  }
  const ScopedOp t(profile_, phase_, OpKind::kClassifier);
  QuantizeFor(ctx, {&g.classifier}, in, count, dim, xq);
  EF_RETURN_IF_ERROR(LinearRows(ctx, g.classifier, g.classifier_bias, count, in, dim, xq, logits, c.vocab_size));
  if (c.logit_softcap != 0.0f) {  // Gemma 2: as Hugging Face, a division, tanh, a multiplication
    const size_t total = count * c.vocab_size;
    for (size_t i = 0; i < total; ++i) logits[i] /= c.logit_softcap;
    ops::Tanh(logits, total);
    for (size_t i = 0; i < total; ++i) logits[i] *= c.logit_softcap;
  }
  return Error::Ok();
}

Error Session::Forward(const int32_t* tokens, size_t n, bool want_logits, float* all_logits) {
  int32_t* positions = positions_.as<int32_t>();
  for (size_t i = 0; i < n; ++i) positions[i] = static_cast<int32_t>(pos_ + i);
  RowLayout rows;
  rows.n = n;
  rows.first = pos_;
  rows.positions = positions;
  EF_RETURN_IF_ERROR(RunStack(DecoderView(), tokens, nullptr, rows));
  for (size_t i = 0; i < n; ++i) history_.as<int32_t>()[pos_ + i] = tokens[i];
  pos_ += static_cast<uint32_t>(n);
  has_logits_ = want_logits;
  if (all_logits != nullptr) return Head(0, n, nullptr, all_logits);
  if (want_logits) return Head(n - 1, 1, nullptr, logits_.as<float>());
  return Error::Ok();
}

Error Session::CheckPrefill(const int32_t* tokens, size_t n) const {
  const ModelConfig& c = model_.config();
  if (c.family == Family::kEncoderOnly) {
    return Error(Status::kUnsupported, "an encoder has no context to prefill or continue: encode texts instead "
                                       "(edgeformer_embed, edgeformer_encode)");
  }
  if (c.family == Family::kEncoderDecoder && source_len_ == 0) {
    return Error(Status::kInvalidArgument, "an encoder-decoder needs a source first (edgeformer_encode_source)");
  }
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
  if (c.prefix_len > 0 && pos_ < c.prefix_len && (pos_ != 0 || needed < c.prefix_len) &&
      c.AnyLayer([](const LayerConfig& l) { return l.mask == MaskKind::kPrefixLM; })) {
    return Error(Status::kInvalidArgument, "a prefix-LM model takes its whole prefix (" + std::to_string(c.prefix_len) +
                                               " tokens, attended both ways) in the first prefill of its context");
  }
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
  if (rings_) {
    // The rings no longer hold the window before `keep`: the kept tokens and the tail are all
    // recomputed, from position 0.
    int32_t* history = history_.as<int32_t>();
    std::copy(history + keep + drop, history + keep + drop + tail, history + keep);
    EF_RETURN_IF_ERROR(Replay(keep + tail));
    *slid = true;
    return Error::Ok();
  }
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

Error Session::StepPending() {
  const int32_t token = pending_;
  pending_ = -1;
  const Error err = Forward(&token, 1, true);
  if (!err.ok()) pending_ = token;
  return err;
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
    pending_ = pending_before;
    has_logits_ = had_logits;
    // Rings that passes wrote over are recomputed (a failure to do so forgets the context).
    // (If even that fails, the context is forgotten; the call's own error is what it returns.)
    (void)RestoreTo(pos_before);
  }
  if (release_workers_) pool_->ReleaseWorkers();
  return err;
}

Error Session::Prefill(const int32_t* tokens, size_t n) { return RunPrefill(tokens, n, nullptr); }

Error Session::PrefillWithLogits(const int32_t* tokens, size_t n, float* logits_out) {
  if (logits_out == nullptr) return Error(Status::kInvalidArgument, "logits_out is null");
  return RunPrefill(tokens, n, logits_out);
}

Error Session::VerificationPass(const int32_t* tokens, size_t n, float* logits_out) {
  native_pass_ = true;
  const Error err = PrefillWithLogits(tokens, n, logits_out);
  native_pass_ = false;
  return err;
}

}  // namespace edgeformer
