#include "model/config.h"

#include <cmath>
#include <string>
#include <tuple>

#include "model_generated.h"

namespace edgeformer {
namespace {

Error Invalid(const std::string& message) { return Error(Status::kInvalidModel, "architecture: " + message); }
Error Unsupported(const std::string& message) { return Error(Status::kUnsupported, "architecture: " + message); }

// Limits that keep every size computation far from overflow; real models are well inside them.
constexpr uint32_t kMaxDim = 1u << 16;  // dim, hidden_dim, head_dim * heads
constexpr uint32_t kMaxLayers = 1024;
constexpr uint32_t kMaxHeads = 1024;
constexpr uint32_t kMaxVocab = 1u << 22;
constexpr uint32_t kMaxSeqLen = 1u << 20;
constexpr uint32_t kMaxTokenTypes = 1024;
constexpr uint32_t kMaxBuckets = 1024;

Error Range(const char* name, uint64_t v, uint64_t lo, uint64_t hi) {
  if (v < lo || v > hi) {
    return Invalid(std::string(name) + " = " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " +
                   std::to_string(hi) + "]");
  }
  return Error::Ok();
}

template <typename E>
int Int(E e) {
  return static_cast<int>(e);
}

Result<ActivationKind> ActivationOf(schema::Activation a) {
  switch (a) {
    case schema::Activation::SwiGLU: return ActivationKind::kSwiGLU;
    case schema::Activation::GELU: return ActivationKind::kGELU;
    case schema::Activation::GELUTanh: return ActivationKind::kGELUTanh;
    case schema::Activation::ReLU: return ActivationKind::kReLU;
    case schema::Activation::GeGLU: return ActivationKind::kGeGLU;
    case schema::Activation::GeGLUTanh: return ActivationKind::kGeGLUTanh;
    case schema::Activation::SiLU: return ActivationKind::kSiLU;
  }
  return Unsupported("activation " + std::to_string(Int(a)) + " is not known");
}

Result<NormKind> NormOf(schema::NormKind n) {
  if (n == schema::NormKind::RMSNorm) return NormKind::kRMSNorm;
  if (n == schema::NormKind::LayerNorm) return NormKind::kLayerNorm;
  return Unsupported("norm " + std::to_string(Int(n)) + " is not known");
}

// The dimensions, scalars and rope parameters every version states the same way.
Error ReadCommon(const schema::Architecture* a, ModelConfig* c) {
  c->n_layers = a->n_layers();
  c->dim = a->dim();
  c->hidden_dim = a->hidden_dim();
  c->n_heads = a->n_heads();
  c->n_kv_heads = a->n_kv_heads();
  c->head_dim = a->head_dim();
  c->vocab_size = a->vocab_size();
  c->max_seq_len = a->max_seq_len();
  c->norm_eps = a->norm_eps();
  c->bos_id = a->bos_id();
  c->eos_id = a->eos_id();
  c->tied_embeddings = a->tied_embeddings();
  EF_RETURN_IF_ERROR(Range("n_layers", c->n_layers, 1, kMaxLayers));
  EF_RETURN_IF_ERROR(Range("dim", c->dim, 1, kMaxDim));
  EF_RETURN_IF_ERROR(Range("hidden_dim", c->hidden_dim, 1, kMaxDim));
  EF_RETURN_IF_ERROR(Range("n_heads", c->n_heads, 1, kMaxHeads));
  EF_RETURN_IF_ERROR(Range("n_kv_heads", c->n_kv_heads, 1, c->n_heads));
  EF_RETURN_IF_ERROR(Range("head_dim", c->head_dim, 2, kMaxDim));
  EF_RETURN_IF_ERROR(Range("n_heads * head_dim", uint64_t{c->n_heads} * c->head_dim, 1, kMaxDim));
  EF_RETURN_IF_ERROR(Range("vocab_size", c->vocab_size, 1, kMaxVocab));
  EF_RETURN_IF_ERROR(Range("max_seq_len", c->max_seq_len, 1, kMaxSeqLen));
  if (c->n_heads % c->n_kv_heads != 0) {
    return Invalid("n_heads " + std::to_string(c->n_heads) + " is not a multiple of n_kv_heads " +
                   std::to_string(c->n_kv_heads));
  }
  if (!(c->norm_eps > 0.0f) || !std::isfinite(c->norm_eps)) return Invalid("norm_eps must be > 0");
  if (a->rope_scaling() != schema::RopeScaling::None && a->rope_scaling() != schema::RopeScaling::Llama3 &&
      a->rope_scaling() != schema::RopeScaling::LongRoPE && a->rope_scaling() != schema::RopeScaling::Linear) {
    return Unsupported("rope scaling " + std::to_string(Int(a->rope_scaling())) + " is not known");
  }
  RopeParams& r = c->rope;
  r.theta = a->rope_theta();
  r.llama3 = a->rope_scaling() == schema::RopeScaling::Llama3;
  r.linear = a->rope_scaling() == schema::RopeScaling::Linear;
  r.factor = a->rope_scaling_factor();
  r.low_freq_factor = a->rope_low_freq_factor();
  r.high_freq_factor = a->rope_high_freq_factor();
  r.original_max_pos = a->rope_original_max_seq_len();
  if (!(r.theta > 0.0f) || !std::isfinite(r.theta)) return Invalid("rope_theta must be > 0");
  if (r.linear && (!(r.factor >= 1.0f) || !std::isfinite(r.factor) || r.factor > 1e6f)) {
    return Invalid("linear rope scaling needs a factor in [1, 1e6]");
  }
  if (r.llama3 && (!(r.factor > 0.0f) || !std::isfinite(r.factor) || !(r.low_freq_factor > 0.0f) ||
                   !std::isfinite(r.high_freq_factor) || !(r.high_freq_factor > r.low_freq_factor) ||
                   r.original_max_pos == 0)) {
    return Invalid("llama3 rope scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor and an original "
                   "context > 0");
  }
  r.short_factors.clear();
  r.long_factors.clear();
  r.attention_factor = 1.0f;
  if (a->rope_scaling() == schema::RopeScaling::LongRoPE) {
    // Sizes against rotary_dim are checked once the stack is read (CheckLongRope).
    const auto* s = a->rope_short_factors();
    const auto* l = a->rope_long_factors();
    if (s == nullptr || l == nullptr || s->size() != l->size() || s->size() == 0 || s->size() > 4096) {
      return Invalid("LongRoPE needs short and long factors of one size (1 to 4096)");
    }
    for (size_t i = 0; i < s->size(); ++i) {
      const float sf = s->Get(static_cast<flatbuffers::uoffset_t>(i)), lf = l->Get(static_cast<flatbuffers::uoffset_t>(i));
      if (!(sf > 0.0f) || !std::isfinite(sf) || !(lf > 0.0f) || !std::isfinite(lf)) {
        return Invalid("LongRoPE factor " + std::to_string(i) + " is not a number > 0");
      }
      r.short_factors.push_back(sf);
      r.long_factors.push_back(lf);
    }
    r.attention_factor = a->rope_attention_factor();
    if (!(r.attention_factor > 0.0f) || !std::isfinite(r.attention_factor) || r.original_max_pos == 0) {
      return Invalid("LongRoPE needs an attention factor > 0 and an original context > 0");
    }
  }
  for (const auto& [id, name] : {std::pair<int32_t, const char*>{c->bos_id, "BOS"}, {c->eos_id, "EOS"}}) {
    if (id < -1 || id >= static_cast<int64_t>(c->vocab_size)) {
      return Invalid(std::string(name) + " id " + std::to_string(id) + " is out of range");
    }
  }
  c->end_ids.clear();
  if (a->end_ids() != nullptr) {
    if (a->end_ids()->size() > 16) return Invalid("more than 16 end ids");
    for (const int32_t id : *a->end_ids()) {
      if (id < 0 || id >= static_cast<int64_t>(c->vocab_size)) {
        return Invalid("end id " + std::to_string(id) + " is out of range");
      }
      c->end_ids.push_back(id);
    }
  }
  return Error::Ok();
}

// Versions 2 and 3: a pre-norm causal decoder stated by the Architecture's own fields.
Error ReadLegacy(const schema::Architecture* a, ModelConfig* c) {
  LayerConfig l;
  Result<NormKind> norm = NormOf(a->norm());
  if (!norm.ok()) return norm.error();
  l.norm = norm.value();
  if (a->activation() != schema::Activation::SwiGLU && a->activation() != schema::Activation::GELUTanh) {
    return Unsupported("activation " + std::to_string(Int(a->activation())) +
                       " in a version 2 or 3 file (SwiGLU and GELUTanh are)");
  }
  l.activation = a->activation() == schema::Activation::SwiGLU ? ActivationKind::kSwiGLU : ActivationKind::kGELUTanh;
  if (a->position() == schema::PositionKind::Rotary) {
    l.position = PositionKind::kRotary;
  } else if (a->position() == schema::PositionKind::Learned) {
    l.position = PositionKind::kNone;
    c->embedding_positions = PositionKind::kLearned;
  } else {
    return Unsupported("positions " + std::to_string(Int(a->position())) +
                       " in a version 2 or 3 file (Rotary and Learned are)");
  }
  l.rotary_dim = a->rotary_dim() == 0 ? a->head_dim() : a->rotary_dim();
  if (l.position == PositionKind::kRotary && l.rotary_dim != a->head_dim()) {
    return Unsupported("rotary_dim must equal head_dim in a version 2 or 3 file");
  }
  l.attention_bias = a->attention_bias();
  l.mlp_bias = a->mlp_bias();
  c->layers.assign(c->n_layers, l);
  c->embedding_norm_kind = c->final_norm_kind = l.norm;
  return Error::Ok();
}

Error ReadLayer(const schema::LayerSpec* s, const ModelConfig& c, size_t index, LayerConfig* l) {
  const std::string at = "layer spec " + std::to_string(index) + ": ";
  Result<NormKind> norm = NormOf(s->norm());
  if (!norm.ok()) return norm.error();
  l->norm = norm.value();
  switch (s->norm_placement()) {
    case schema::NormPlacement::Pre: l->placement = NormPlacement::kPre; break;
    case schema::NormPlacement::Post: l->placement = NormPlacement::kPost; break;
    case schema::NormPlacement::Sandwich: l->placement = NormPlacement::kSandwich; break;
    default: return Unsupported(at + "norm placement " + std::to_string(Int(s->norm_placement())) + " is not known");
  }
  switch (s->mask()) {
    case schema::AttentionMask::Causal: l->mask = MaskKind::kCausal; break;
    case schema::AttentionMask::Bidirectional: l->mask = MaskKind::kBidirectional; break;
    case schema::AttentionMask::PrefixLM: l->mask = MaskKind::kPrefixLM; break;
    default: return Unsupported(at + "attention mask " + std::to_string(Int(s->mask())) + " is not known");
  }
  switch (s->position()) {
    case schema::PositionKind::Rotary: l->position = PositionKind::kRotary; break;
    case schema::PositionKind::ALiBi: l->position = PositionKind::kALiBi; break;
    case schema::PositionKind::T5Relative: l->position = PositionKind::kT5Relative; break;
    case schema::PositionKind::None: l->position = PositionKind::kNone; break;
    default:
      return Unsupported(at + "positions " + std::to_string(Int(s->position())) +
                         " inside attention are not known (Rotary, ALiBi, T5Relative and None are)");
  }
  switch (s->rotary_style()) {
    case schema::RotaryStyle::AdjacentPairs: l->rotary_style = RotaryStyle::kAdjacentPairs; break;
    case schema::RotaryStyle::HalfSplit: l->rotary_style = RotaryStyle::kHalfSplit; break;
    default: return Unsupported(at + "rotary style " + std::to_string(Int(s->rotary_style())) + " is not known");
  }
  l->rotary_dim = s->rotary_dim() == 0 ? c.head_dim : s->rotary_dim();
  if (l->position == PositionKind::kRotary && (l->rotary_dim % 2 != 0 || l->rotary_dim > c.head_dim)) {
    return Invalid(at + "rotary_dim " + std::to_string(l->rotary_dim) + " must be even and at most head_dim " +
                   std::to_string(c.head_dim));
  }
  Result<ActivationKind> act = ActivationOf(s->activation());
  if (!act.ok()) return act.error();
  l->activation = act.value();
  l->attention_bias = s->attention_bias();
  l->mlp_bias = s->mlp_bias();
  l->qk_norm = s->qk_norm();
  if (l->qk_norm && l->norm != NormKind::kRMSNorm) return Unsupported(at + "qk_norm needs RMSNorm layers");
  if (l->placement == NormPlacement::kSandwich && l->norm != NormKind::kRMSNorm) {
    return Unsupported(at + "sandwich norms need RMSNorm layers");
  }
  l->sliding_window = s->sliding_window();
  if (l->sliding_window > 0 && l->mask != MaskKind::kCausal) {
    return Unsupported(at + "a sliding window needs a causal mask");
  }
  EF_RETURN_IF_ERROR(Range("sliding_window", l->sliding_window, 0, kMaxSeqLen));
  l->rope_theta = s->rope_theta();
  if (!(l->rope_theta >= 0.0f) || !std::isfinite(l->rope_theta)) return Invalid(at + "rope_theta must be >= 0");
  if (c.decoder() && l->mask == MaskKind::kBidirectional) {
    return Invalid(at + "a decoder cannot attend bidirectionally (use PrefixLM, or an encoder)");
  }
  l->cross_attention = s->cross_attention();
  if (l->cross_attention && l->placement == NormPlacement::kSandwich) {
    return Unsupported(at + "cross-attention in a sandwich-norm layer is not supported");
  }
  if (l->cross_attention && c.family != Family::kEncoderDecoder) {
    return Invalid(at + "cross-attention needs an encoder-decoder model");
  }
  if (c.family == Family::kEncoderDecoder && l->mask != MaskKind::kCausal) {
    return Unsupported(at + "an encoder-decoder's decoder layers must be causal");
  }
  if (l->mask == MaskKind::kPrefixLM && c.prefix_len == 0) return Invalid(at + "a PrefixLM mask needs prefix_len > 0");
  if (l->position == PositionKind::kT5Relative && c.relative.buckets == 0) {
    return Invalid(at + "T5 relative positions need relative_buckets > 0");
  }
  return Error::Ok();
}

// Version 4: the StackSpec.
Error ReadStack(const schema::Architecture* a, ModelConfig* c) {
  const schema::StackSpec* s = a->stack();
  if (s == nullptr) return Invalid("a version 4 file states its stack (Architecture.stack is missing)");
  switch (s->embedding_positions()) {
    case schema::PositionKind::Learned: c->embedding_positions = PositionKind::kLearned; break;
    case schema::PositionKind::Sinusoidal: c->embedding_positions = PositionKind::kSinusoidal; break;
    case schema::PositionKind::None: c->embedding_positions = PositionKind::kNone; break;
    default:
      return Unsupported("embedding positions " + std::to_string(Int(s->embedding_positions())) +
                         " are not known (Learned, Sinusoidal and None are)");
  }
  if (c->embedding_positions == PositionKind::kSinusoidal && c->dim % 2 != 0) {
    return Invalid("sinusoidal positions need an even dim");
  }
  c->token_types = s->token_types();
  EF_RETURN_IF_ERROR(Range("token_types", c->token_types, 0, kMaxTokenTypes));
  c->embedding_norm = s->embedding_norm();
  c->embedding_scale = s->embedding_scale();
  if (!(c->embedding_scale > 0.0f) || !std::isfinite(c->embedding_scale)) return Invalid("embedding_scale must be > 0");
  c->final_norm = s->final_norm();
  c->attention_scale = s->attention_scale();
  if (!(c->attention_scale >= 0.0f) || !std::isfinite(c->attention_scale)) {
    return Invalid("attention_scale must be >= 0 (0: 1 / sqrt(head_dim))");
  }
  c->attention_softcap = s->attention_softcap();
  c->logit_softcap = s->logit_softcap();
  for (const float cap : {c->attention_softcap, c->logit_softcap}) {
    if (!(cap >= 0.0f) || !std::isfinite(cap)) return Invalid("soft-capping values must be >= 0 (0: none)");
  }
  c->prefix_len = s->prefix_len();
  EF_RETURN_IF_ERROR(Range("prefix_len", c->prefix_len, 0, c->max_seq_len));
  c->relative.buckets = s->relative_buckets();
  c->relative.max_distance = s->relative_max_distance();
  c->relative.bidirectional = s->relative_bidirectional();
  c->relative.shared = s->relative_shared();
  EF_RETURN_IF_ERROR(Range("relative_buckets", c->relative.buckets, 0, kMaxBuckets));
  if (c->relative.buckets > 0) {
    const uint32_t exact = (c->relative.bidirectional ? c->relative.buckets / 2 : c->relative.buckets) / 2;
    if (exact < 1) return Invalid("relative_buckets " + std::to_string(c->relative.buckets) + " is too few");
    EF_RETURN_IF_ERROR(Range("relative_max_distance", c->relative.max_distance, exact + 1, kMaxSeqLen));
  }
  switch (s->pooling()) {
    case schema::Pooling::None: c->pooling = Pooling::kNone; break;
    case schema::Pooling::CLS: c->pooling = Pooling::kCls; break;
    case schema::Pooling::Mean: c->pooling = Pooling::kMean; break;
    case schema::Pooling::Last: c->pooling = Pooling::kLast; break;
    case schema::Pooling::Pooler: c->pooling = Pooling::kPooler; break;
    default: return Unsupported("pooling " + std::to_string(Int(s->pooling())) + " is not known");
  }
  c->normalize = s->normalize();
  c->pooler = s->pooler();
  c->mlm_head = s->mlm_head();
  Result<ActivationKind> mlm_act = ActivationOf(s->mlm_activation());
  if (!mlm_act.ok()) return mlm_act.error();
  c->mlm_activation = mlm_act.value();
  if (IsGated(c->mlm_activation)) return Invalid("the masked-LM head's activation cannot be gated");
  c->classifier = s->classifier();
  if (c->decoder() && !c->classifier) return Invalid("a decoder needs a classifier");
  c->shared_embedding = s->shared_embedding();
  if (c->mlm_head && !c->classifier) return Invalid("a masked-LM head needs the classifier");
  if (c->pooling == Pooling::kPooler && !c->pooler) return Invalid("pooling Pooler needs the pooler's tensors");
  const auto* layers = s->layers();
  if (layers == nullptr || (layers->size() != 1 && layers->size() != c->n_layers)) {
    return Invalid("the stack lists " + std::to_string(layers == nullptr ? 0 : layers->size()) +
                   " layer specs; it needs 1 (for every layer) or n_layers (" + std::to_string(c->n_layers) + ")");
  }
  c->layers.resize(c->n_layers);
  for (uint32_t i = 0; i < c->n_layers; ++i) {
    const size_t index = layers->size() == 1 ? 0 : i;
    const schema::LayerSpec* spec = layers->Get(static_cast<flatbuffers::uoffset_t>(index));
    if (spec == nullptr) return Invalid("layer spec " + std::to_string(index) + " is missing");
    EF_RETURN_IF_ERROR(ReadLayer(spec, *c, index, &c->layers[i]));
  }
  for (const LayerConfig& l : c->layers) {
    if (l.position == PositionKind::kRotary && l.rotary_dim != c->rotary_dim()) {
      return Unsupported("rotary layers with different rotary_dim are not supported");
    }
    if (l.rope_theta != 0.0f && l.rope_theta != c->local_rope_theta()) {
      return Unsupported("layers with their own rotary base must all share one");
    }
  }
  c->embedding_norm_kind = c->layers.front().norm;
  c->final_norm_kind = c->layers.back().norm;
  return Error::Ok();
}

Error Resolve(const schema::Architecture* a, uint32_t format_version, bool paired_encoder, ModelConfig* c);

// Version 7, an encoder-decoder (c is its decoder, already read): the encoder, the start and
// suppressed ids.
Error ReadEncoderDecoder(const schema::Architecture* a, uint32_t format_version, ModelConfig* c) {
  if (c->shared_embedding) return Invalid("the decoder cannot share the encoder's embedding (the encoder shares the decoder's)");
  if (!c->AnyLayer([](const LayerConfig& l) { return l.cross_attention; })) {
    return Invalid("an encoder-decoder's decoder has no cross-attention layer");
  }
  const schema::Architecture* e = a->encoder();
  if (e == nullptr) return Invalid("an encoder-decoder states its encoder (Architecture.encoder is missing)");
  if (e->family() != schema::ModelFamily::EncoderOnly) return Invalid("the encoder's family must be EncoderOnly");
  if (e->encoder() != nullptr || e->decoder_start_ids() != nullptr || e->suppress_ids() != nullptr ||
      e->forced_start_ids() != 0 || e->forced_eos_id() != -1) {
    return Invalid("the encoder cannot have an encoder, start ids or suppressed ids of its own");
  }
  auto encoder = std::make_shared<ModelConfig>();
  const Error err = Resolve(e, format_version, /*paired_encoder=*/true, encoder.get());
  if (!err.ok()) return Error(err.status(), "encoder " + err.message());
  if (encoder->dim != c->dim) {
    return Unsupported("the encoder's dim " + std::to_string(encoder->dim) + " differs from the decoder's " +
                       std::to_string(c->dim));
  }
  if (encoder->classifier || encoder->mlm_head || encoder->pooler) {
    return Invalid("an encoder-decoder's encoder has no head (classifier, masked-LM head or pooler)");
  }
  if (encoder->shared_embedding && encoder->vocab_size != c->vocab_size) {
    return Invalid("an encoder sharing the decoder's embedding needs the decoder's vocab_size");
  }
  c->encoder = std::move(encoder);
  c->decoder_start_ids.clear();
  c->suppress_ids.clear();
  const auto* start = a->decoder_start_ids();
  if (start == nullptr || start->size() == 0 || start->size() > 16) {
    return Invalid("an encoder-decoder needs 1 to 16 decoder start ids");
  }
  const auto* suppress = a->suppress_ids();
  if (suppress != nullptr && suppress->size() > 1024) return Invalid("more than 1024 suppressed ids");
  for (const auto& [list, out, name] : {std::make_tuple(start, &c->decoder_start_ids, "decoder start id"),
                                        std::make_tuple(suppress, &c->suppress_ids, "suppressed id")}) {
    if (list == nullptr) continue;
    for (const int32_t id : *list) {
      if (id < 0 || id >= static_cast<int64_t>(c->vocab_size)) {
        return Invalid(std::string(name) + " " + std::to_string(id) + " is out of range");
      }
      out->push_back(id);
    }
  }
  if (c->decoder_start_ids.size() >= c->max_seq_len) return Invalid("the decoder start ids fill the context");
  c->forced_start_ids = a->forced_start_ids();
  if (c->forced_start_ids >= c->decoder_start_ids.size()) {
    return Invalid("forced_start_ids " + std::to_string(c->forced_start_ids) + " leaves no start id that is not forced");
  }
  c->forced_eos_id = a->forced_eos_id();
  if (c->forced_eos_id < -1 || c->forced_eos_id >= static_cast<int64_t>(c->vocab_size)) {
    return Invalid("forced_eos_id " + std::to_string(c->forced_eos_id) + " is out of range");
  }
  return Error::Ok();
}

Error Resolve(const schema::Architecture* a, uint32_t format_version, bool paired_encoder, ModelConfig* c) {
  if (a == nullptr) return Error(Status::kInvalidModel, "the model has no architecture table");
  switch (a->family()) {
    case schema::ModelFamily::DecoderOnly: c->family = Family::kDecoderOnly; break;
    case schema::ModelFamily::EncoderOnly:
      if (format_version < 4) return Invalid("an encoder needs a version 4 file");
      c->family = Family::kEncoderOnly;
      break;
    case schema::ModelFamily::EncoderDecoder:
      if (format_version < 7) return Invalid("an encoder-decoder needs a version 7 file");
      c->family = Family::kEncoderDecoder;
      break;
    default:
      return Unsupported("model family " + std::to_string(Int(a->family())) + " is not known");
  }
  EF_RETURN_IF_ERROR(ReadCommon(a, c));
  EF_RETURN_IF_ERROR(format_version >= 4 ? ReadStack(a, c) : ReadLegacy(a, c));
  if (!c->rope.short_factors.empty() && c->rope.short_factors.size() * 2 != c->rotary_dim()) {
    return Invalid("LongRoPE has " + std::to_string(c->rope.short_factors.size()) + " factors for rotary_dim " +
                   std::to_string(c->rotary_dim()) + " (one per rotated pair)");
  }
  if (c->family != Family::kEncoderDecoder) {
    if (format_version >= 7 && (a->encoder() != nullptr || a->decoder_start_ids() != nullptr)) {
      return Invalid("only an encoder-decoder has an encoder and decoder start ids");
    }
    if (c->shared_embedding && !paired_encoder) {
      return Invalid("shared_embedding is for the encoder of an encoder-decoder");
    }
    if (format_version >= 7 && (a->forced_start_ids() != 0 || a->forced_eos_id() != -1)) {
      return Invalid("only an encoder-decoder has forced start or end ids");
    }
    c->encoder.reset();
    c->decoder_start_ids.clear();
    c->suppress_ids.clear();
    c->forced_start_ids = 0;
    c->forced_eos_id = -1;
    return Error::Ok();
  }
  return ReadEncoderDecoder(a, format_version, c);
}

}  // namespace

Error ResolveConfig(const schema::Architecture* a, uint32_t format_version, ModelConfig* c) {
  return Resolve(a, format_version, /*paired_encoder=*/false, c);
}

}  // namespace edgeformer
