#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/checksum.h"
#include "model/format.h"
#include "platforms/layout.h"
#include "model_generated.h"

namespace edgeformer {
namespace {

Error Invalid(const std::string& message) { return Error(Status::kInvalidModel, message); }
Error Unsupported(const std::string& message) { return Error(Status::kUnsupported, message); }

// Limits that keep every size computation far from overflow; real models are well inside them.
constexpr uint32_t kMaxDim = 1u << 16;        // dim, hidden_dim, head_dim * heads
constexpr uint32_t kMaxLayers = 1024;
constexpr uint32_t kMaxHeads = 1024;
constexpr uint32_t kMaxVocab = 1u << 22;
constexpr uint32_t kMaxSeqLen = 1u << 20;

Error ValidateConfig(const schema::Architecture* a, ModelConfig* c) {
  if (a == nullptr) return Invalid("the model has no architecture table");
  if (a->family() != schema::ModelFamily::DecoderOnly) {
    return Unsupported(std::string("model family ") + schema::EnumNameModelFamily(a->family()) +
                       " is not supported yet (decoder-only models are)");
  }
  if (a->norm() != schema::NormKind::RMSNorm && a->norm() != schema::NormKind::LayerNorm) {
    return Unsupported("norm " + std::to_string(static_cast<int>(a->norm())) + " is not supported");
  }
  if (a->activation() != schema::Activation::SwiGLU && a->activation() != schema::Activation::GELUTanh) {
    return Unsupported("activation " + std::to_string(static_cast<int>(a->activation())) +
                       " is not supported yet (SwiGLU and GELUTanh are)");
  }
  if (a->position() != schema::PositionKind::Rotary && a->position() != schema::PositionKind::Learned) {
    return Unsupported("positions " + std::to_string(static_cast<int>(a->position())) +
                       " are not supported yet (Rotary and Learned are)");
  }
  c->norm = a->norm() == schema::NormKind::LayerNorm ? NormKind::kLayerNorm : NormKind::kRMSNorm;
  c->activation = a->activation() == schema::Activation::GELUTanh ? ActivationKind::kGELUTanh : ActivationKind::kSwiGLU;
  c->position = a->position() == schema::PositionKind::Learned ? PositionKind::kLearned : PositionKind::kRotary;
  c->attention_bias = a->attention_bias();
  c->mlp_bias = a->mlp_bias();
  c->n_layers = a->n_layers();
  c->dim = a->dim();
  c->hidden_dim = a->hidden_dim();
  c->n_heads = a->n_heads();
  c->n_kv_heads = a->n_kv_heads();
  c->head_dim = a->head_dim();
  c->vocab_size = a->vocab_size();
  c->max_seq_len = a->max_seq_len();
  c->norm_eps = a->norm_eps();

  if (a->rope_scaling() != schema::RopeScaling::None && a->rope_scaling() != schema::RopeScaling::Llama3) {
    return Unsupported("rope scaling " + std::to_string(static_cast<int>(a->rope_scaling())) + " is not known");
  }
  c->rope.theta = a->rope_theta();
  c->rope.llama3 = a->rope_scaling() == schema::RopeScaling::Llama3;
  c->rope.factor = a->rope_scaling_factor();
  c->rope.low_freq_factor = a->rope_low_freq_factor();
  c->rope.high_freq_factor = a->rope_high_freq_factor();
  c->rope.original_max_pos = a->rope_original_max_seq_len();
  if (c->rope.llama3) {
    const RopeParams& r = c->rope;
    if (!(r.factor > 0.0f) || !std::isfinite(r.factor) || !(r.low_freq_factor > 0.0f) ||
        !std::isfinite(r.high_freq_factor) || !(r.high_freq_factor > r.low_freq_factor) || r.original_max_pos == 0) {
      return Invalid("architecture: llama3 rope scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor "
                     "and an original context > 0");
    }
  }
  c->rotary_dim = a->rotary_dim() == 0 ? a->head_dim() : a->rotary_dim();
  c->tied_embeddings = a->tied_embeddings();
  c->bos_id = a->bos_id();
  c->eos_id = a->eos_id();
  auto range = [](const char* name, uint64_t v, uint64_t lo, uint64_t hi) -> Error {
    if (v < lo || v > hi) {
      return Invalid(std::string("architecture: ") + name + " = " + std::to_string(v) + " is outside [" +
                     std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return Error::Ok();
  };
  EF_RETURN_IF_ERROR(range("n_layers", c->n_layers, 1, kMaxLayers));
  EF_RETURN_IF_ERROR(range("dim", c->dim, 1, kMaxDim));
  EF_RETURN_IF_ERROR(range("hidden_dim", c->hidden_dim, 1, kMaxDim));
  EF_RETURN_IF_ERROR(range("n_heads", c->n_heads, 1, kMaxHeads));
  EF_RETURN_IF_ERROR(range("n_kv_heads", c->n_kv_heads, 1, c->n_heads));
  EF_RETURN_IF_ERROR(range("head_dim", c->head_dim, 2, kMaxDim));
  EF_RETURN_IF_ERROR(range("n_heads * head_dim", uint64_t{c->n_heads} * c->head_dim, 1, kMaxDim));
  EF_RETURN_IF_ERROR(range("vocab_size", c->vocab_size, 1, kMaxVocab));
  EF_RETURN_IF_ERROR(range("max_seq_len", c->max_seq_len, 1, kMaxSeqLen));
  if (c->n_heads % c->n_kv_heads != 0) {
    return Invalid("architecture: n_heads " + std::to_string(c->n_heads) + " is not a multiple of n_kv_heads " +
                   std::to_string(c->n_kv_heads));
  }
  if (c->position == PositionKind::kRotary && (c->rotary_dim != c->head_dim || c->head_dim % 2 != 0)) {
    return Unsupported("rotary_dim must equal head_dim and be even (partial rotary is not supported yet)");
  }
  if (!(c->norm_eps > 0.0f) || !std::isfinite(c->norm_eps)) return Invalid("architecture: norm_eps must be > 0");
  if (!(c->rope.theta > 0.0f) || !std::isfinite(c->rope.theta)) return Invalid("architecture: rope_theta must be > 0");
  if (c->bos_id < -1 || c->bos_id >= static_cast<int64_t>(c->vocab_size)) {
    return Invalid("architecture: BOS id " + std::to_string(c->bos_id) + " is out of range");
  }
  if (c->eos_id < -1 || c->eos_id >= static_cast<int64_t>(c->vocab_size)) {
    return Invalid("architecture: EOS id " + std::to_string(c->eos_id) + " is out of range");
  }
  return Error::Ok();
}

struct Range {
  uint64_t begin, end;
  std::string owner;
};

// Checks a segment lies inside the file, is aligned, and has exactly `expected` bytes.
Error CheckSegment(const schema::Segment* s, uint64_t expected, uint64_t file_size, const std::string& what,
                   std::vector<Range>* used) {
  if (s == nullptr) return Invalid(what + ": segment is missing");
  if (s->offset() % kSegmentAlignment != 0) {
    return Invalid(what + ": offset " + std::to_string(s->offset()) + " is not a multiple of " +
                   std::to_string(kSegmentAlignment));
  }
  if (s->offset() > file_size || s->size() > file_size - s->offset()) {
    return Invalid(what + ": bytes [" + std::to_string(s->offset()) + ", +" + std::to_string(s->size()) +
                   ") lie past the end of the file (" + std::to_string(file_size) + " bytes)");
  }
  if (s->size() != expected) {
    return Invalid(what + ": holds " + std::to_string(s->size()) + " bytes but its shape and type need " +
                   std::to_string(expected));
  }
  if (s->size() > 0) used->push_back(Range{s->offset(), s->offset() + s->size(), what});
  return Error::Ok();
}

}  // namespace

const char* WeightTypeName(WeightType type) {
  switch (type) {
    case WeightType::kInt8: return "int8";
    case WeightType::kF16: return "f16";
    default: return "f32";
  }
}

Result<std::unique_ptr<Model>> Model::Load(const std::string& path, const LoadOptions& options) {
  Result<std::unique_ptr<MappedFile>> file = MappedFile::Open(path);
  if (!file.ok()) return file.error();
  return FromFile(file.take(), options);
}

Result<std::unique_ptr<Model>> Model::LoadFromMemory(const void* data, size_t size, const LoadOptions& options) {
  if (data == nullptr && size != 0) return Error(Status::kInvalidArgument, "model buffer is null");
  // Segments sit at multiples of 64 from the start, so an 8-aligned buffer keeps every f32 and
  // int32 aligned, as the FlatBuffer verifier also requires.
  if (reinterpret_cast<uintptr_t>(data) % 8 != 0) {
    return Error(Status::kInvalidArgument, "model buffer must be at least 8-byte aligned (64 is best)");
  }
  return FromFile(MappedFile::Borrow(data, size), options);
}

Result<std::unique_ptr<Model>> Model::FromFile(std::unique_ptr<MappedFile> file, const LoadOptions& options) {
  std::unique_ptr<Model> model(new (std::nothrow) Model());
  if (model == nullptr) return Error(Status::kOutOfMemory, "cannot allocate the model");
  model->file_ = std::move(file);
  const uint64_t size = model->file_->size();
  if (options.memory_budget != 0 && size > options.memory_budget) {
    return Error(Status::kOutOfMemory, "the model's " + std::to_string(size) + " bytes exceed its memory budget of " +
                                           std::to_string(options.memory_budget));
  }
  Error err = model->Parse(options);
  if (!err.ok()) return err;
  return model;
}

Error Model::Parse(const LoadOptions& options) {
  const uint8_t* base = file_->data();
  const uint64_t size = file_->size();
  if (size == 0) return Invalid("the file is empty");
  if (size < 12) return Invalid("the file is too short (" + std::to_string(size) + " bytes) to be a model");
  if (!flatbuffers::BufferHasIdentifier(base, schema::ModelIdentifier(), /*size_prefixed=*/true)) {
    return Invalid("not an edgeformer model (the file identifier is not \"" + std::string(schema::ModelIdentifier()) +
                   "\")");
  }
  uint32_t header_size;
  std::memcpy(&header_size, base, sizeof(header_size));
  if (header_size > size - sizeof(uint32_t)) {
    return Invalid("the file is truncated: its header needs " + std::to_string(header_size + 4) +
                   " bytes, the file has " + std::to_string(size));
  }
  flatbuffers::Verifier verifier(base, header_size + sizeof(uint32_t));
  if (!schema::VerifySizePrefixedModelBuffer(verifier)) {
    return Invalid("the model header is corrupt (FlatBuffer verification failed)");
  }
  const schema::Model* m = schema::GetSizePrefixedModel(base);
  if (m->format_version() < kMinFormatVersion || m->format_version() > kFormatVersion) {
    return Unsupported("format version " + std::to_string(m->format_version()) + " is not supported (this build reads " +
                       std::to_string(kFormatVersion) + ")");
  }
  if (m->file_size() != size) {
    return Invalid("the file is " + std::to_string(size) + " bytes but its header says " +
                   std::to_string(m->file_size()) + (size < m->file_size() ? " (truncated)" : ""));
  }
  EF_RETURN_IF_ERROR(ValidateConfig(m->architecture(), &config_));
  const ModelConfig& c = config_;
  EF_RETURN_IF_ERROR(tokenizer_.Init(m->tokenizer(), c.vocab_size));

  layers_.resize(c.n_layers);
  const auto* tensors = m->tensors();
  if (tensors == nullptr) return Invalid("the model has no tensor table");
  std::vector<Range> used;
  used.push_back(Range{0, uint64_t{header_size} + 4, "the header"});
  for (flatbuffers::uoffset_t t = 0; t < tensors->size(); ++t) {
    const schema::Tensor* tensor = tensors->Get(t);
    const std::string name = tensor->name() ? tensor->name()->str() : "#" + std::to_string(t);
    const std::string what = "tensor '" + name + "'";
    const auto role = tensor->role();
    const int32_t layer = tensor->layer();
    const TensorSlot slot = SlotOf(role);
    if (slot.kind == TensorSlot::kUnknown) {
      return Unsupported(what + ": role " + std::to_string(static_cast<int>(role)) + " is not supported");
    }
    if (slot.per_layer ? (layer < 0 || static_cast<uint32_t>(layer) >= c.n_layers) : layer != -1) {
      return Invalid(what + ": layer " + std::to_string(layer) + " is out of range");
    }
    Weight* w = nullptr;
    switch (slot.kind) {
      case TensorSlot::kTokenEmbedding: w = &token_embedding_; break;
      case TensorSlot::kPositionEmbedding: w = &position_embedding_; break;
      case TensorSlot::kFinalNorm: w = &final_norm_; break;
      case TensorSlot::kFinalNormBias: w = &final_norm_bias_; break;
      case TensorSlot::kClassifier: w = &classifier_; break;
      case TensorSlot::kClassifierBias: w = &classifier_bias_; break;
      default: w = LayerSlot(&layers_[layer], role); break;
    }
    if (w == nullptr) return Unsupported(what + ": role is not used by this architecture");
    if (w->present()) return Invalid(what + ": a second tensor with the same role and layer");
    const ExpectedShape expect = ExpectedShapeOf(role, c);
    const auto* shape = tensor->shape();
    const bool is_vector = expect.rows == 0;
    if (shape == nullptr || shape->size() != (is_vector ? 1u : 2u)) {
      return Invalid(what + ": expected a " + std::string(is_vector ? "1" : "2") + "-D shape");
    }
    const uint64_t rows = is_vector ? 1 : shape->Get(0);
    const uint64_t cols = shape->Get(shape->size() - 1);
    if ((!is_vector && rows != expect.rows) || cols != expect.cols) {
      return Invalid(what + ": shape [" + (is_vector ? "" : std::to_string(rows) + ", ") + std::to_string(cols) +
                     "] disagrees with the architecture, which needs [" +
                     (is_vector ? "" : std::to_string(expect.rows) + ", ") + std::to_string(expect.cols) + "]");
    }
    const uint64_t count = rows * cols;  // both <= 2^22, no overflow
    const bool row_major = tensor->layout() == schema::WeightLayout::RowMajor;
    const bool blocked = tensor->layout() == schema::WeightLayout::Blocked16x4;
    uint64_t checksum = kFnv1aInit;
    if (!row_major && !blocked) {
      return Unsupported(what + ": weight layout " + std::to_string(static_cast<int>(tensor->layout())) +
                         " is not supported");
    }
    if (tensor->dtype() == schema::DType::F32 && tensor->quant() == schema::QuantScheme::None) {
      if (!row_major) return Unsupported(what + ": f32 tensors must be row-major");
      EF_RETURN_IF_ERROR(CheckSegment(tensor->data(), count * 4, size, what + " data", &used));
      w->type = WeightType::kF32;
    } else if (tensor->dtype() == schema::DType::F16 && tensor->quant() == schema::QuantScheme::None) {
      if (is_vector || role == schema::TensorRole::PositionEmbedding) {
        return Unsupported(what + ": f16 is supported for matrices multiplied by activations and for the token "
                                  "embedding; this tensor must be f32");
      }
      if (!row_major) return Unsupported(what + ": f16 tensors must be row-major");
      EF_RETURN_IF_ERROR(CheckSegment(tensor->data(), count * 2, size, what + " data", &used));
      w->type = WeightType::kF16;
    } else if (tensor->dtype() == schema::DType::I8 && tensor->quant() == schema::QuantScheme::PerChannelSymmetric &&
               !is_vector) {
      if (!blocked) {
        return Unsupported(what + ": int8 weights must use the Blocked16x4 layout (convert the model again with "
                                  "this version's edgeformer-convert)");
      }
      EF_RETURN_IF_ERROR(CheckSegment(tensor->data(), BlockedBytes(rows, cols), size, what + " data", &used));
      EF_RETURN_IF_ERROR(CheckSegment(tensor->scales(), BlockedRows(rows) * 4, size, what + " scales", &used));
      EF_RETURN_IF_ERROR(CheckSegment(tensor->row_sums(), BlockedRows(rows) * 4, size, what + " row sums", &used));
      w->type = WeightType::kInt8;
      w->scales = reinterpret_cast<const float*>(base + tensor->scales()->offset());
      w->row_sums = reinterpret_cast<const int32_t*>(base + tensor->row_sums()->offset());
      for (uint64_t r = 0; r < BlockedRows(rows); ++r) {
        if (!std::isfinite(w->scales[r]) || w->scales[r] < 0.0f) {
          return Invalid(what + ": scale of row " + std::to_string(r) + " is not a finite non-negative number");
        }
      }
    } else {
      return Unsupported(what + ": dtype " + schema::EnumNameDType(tensor->dtype()) + " with quantization " +
                         schema::EnumNameQuantScheme(tensor->quant()) + " is not supported for this role");
    }
    w->rows = rows;
    w->cols = cols;
    w->data = base + tensor->data()->offset();
    if (options.verify_checksums) {
      checksum = Fnv1a64(w->data, tensor->data()->size(), checksum);
      if (w->type == WeightType::kInt8) {
        checksum = Fnv1a64(w->scales, tensor->scales()->size(), checksum);
        checksum = Fnv1a64(w->row_sums, tensor->row_sums()->size(), checksum);
      }
      if (checksum != tensor->checksum()) return Invalid(what + ": checksum mismatch (the file is corrupt)");
    }
  }
  std::sort(used.begin(), used.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < used.size(); ++i) {
    if (used[i].begin < used[i - 1].end) return Invalid(used[i].owner + " overlaps " + used[i - 1].owner);
  }

  if (!token_embedding_.present()) return Invalid("the model has no token embedding");
  if (!final_norm_.present()) return Invalid("the model has no final norm");
  const bool layer_norm = c.norm == NormKind::kLayerNorm;
  const bool swiglu = c.activation == ActivationKind::kSwiGLU;
  // Tensors the architecture needs must be there; tensors it does not use must not be.
  auto expect = [](const Weight& w, bool needed, const std::string& what) -> Error {
    if (needed && !w.present()) return Invalid("the model is missing " + what);
    if (!needed && w.present()) return Invalid("the model has " + what + ", which its architecture does not use");
    return Error::Ok();
  };
  EF_RETURN_IF_ERROR(expect(position_embedding_, c.position == PositionKind::kLearned, "a position embedding"));
  EF_RETURN_IF_ERROR(expect(final_norm_bias_, layer_norm, "a final norm bias"));
  if (c.tied_embeddings) {
    if (classifier_.present()) return Invalid("embeddings are tied but the model has a separate classifier");
    classifier_ = token_embedding_;
  } else if (!classifier_.present()) {
    return Invalid("the model has no classifier and its embeddings are not tied");
  }
  weight_bytes_ = token_embedding_.cols * token_embedding_.value_bytes();
  auto bytes_of = [](const Weight& w) { return w.rows * w.cols * w.value_bytes() + (w.scales ? w.rows * 8 : 0); };
  weight_bytes_ += bytes_of(final_norm_) + bytes_of(classifier_);
  if (final_norm_bias_.present()) weight_bytes_ += bytes_of(final_norm_bias_);
  if (classifier_bias_.present()) weight_bytes_ += bytes_of(classifier_bias_);
  if (position_embedding_.present()) weight_bytes_ += position_embedding_.cols * 4;  // one row per token
  for (uint32_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = layers_[l];
    const std::string in = " in layer " + std::to_string(l);
    const struct {
      const Weight* w;
      bool needed;
      const char* what;
    } tensors[] = {
        {&L.attn_norm, true, "the attention norm"}, {&L.attn_norm_bias, layer_norm, "the attention norm bias"},
        {&L.wq, true, "wq"}, {&L.wk, true, "wk"}, {&L.wv, true, "wv"}, {&L.wo, true, "wo"},
        {&L.bq, c.attention_bias, "bq"}, {&L.bk, c.attention_bias, "bk"}, {&L.bv, c.attention_bias, "bv"},
        {&L.ffn_norm, true, "the feed-forward norm"}, {&L.ffn_norm_bias, layer_norm, "the feed-forward norm bias"},
        {&L.w_gate, swiglu, "w_gate"}, {&L.w_down, true, "w_down"}, {&L.w_up, true, "w_up"},
        {&L.b_gate, swiglu && c.mlp_bias, "b_gate"}, {&L.b_down, c.mlp_bias, "b_down"}, {&L.b_up, c.mlp_bias, "b_up"},
    };
    for (const auto& t : tensors) {
      EF_RETURN_IF_ERROR(expect(*t.w, t.needed, t.what + in));
      if (t.w->present()) weight_bytes_ += bytes_of(*t.w);
    }
    if (L.bo.present()) {
      if (!c.attention_bias) return Invalid("the model has bo" + in + ", which its architecture does not use");
      weight_bytes_ += bytes_of(L.bo);
    }
  }
  return Error::Ok();
}

}  // namespace edgeformer
