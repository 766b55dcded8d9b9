#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/checksum.h"
#include "model/format.h"
#include "model/tensor_roles.h"
#include "platforms/common/f16.h"
#include "platforms/layout.h"
#include "model_generated.h"

namespace edgeformer {
namespace {

Error Invalid(const std::string& message) { return Error(Status::kInvalidModel, message); }
Error Unsupported(const std::string& message) { return Error(Status::kUnsupported, message); }

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
  identity_ = Fnv1a64(base, header_size + sizeof(uint32_t), kFnv1aInit);
  if (m->format_version() < kMinFormatVersion || m->format_version() > kFormatVersion) {
    return Unsupported("format version " + std::to_string(m->format_version()) + " is not supported (this build reads " +
                       std::to_string(kMinFormatVersion) + " to " + std::to_string(kFormatVersion) +
                       "; convert the model again with this version's edgeformer-convert)");
  }
  if (m->file_size() != size) {
    return Invalid("the file is " + std::to_string(size) + " bytes but its header says " +
                   std::to_string(m->file_size()) + (size < m->file_size() ? " (truncated)" : ""));
  }
  EF_RETURN_IF_ERROR(ResolveConfig(m->architecture(), m->format_version(), &config_));
  const ModelConfig& c = config_;
  EF_RETURN_IF_ERROR(tokenizer_.Init(m->tokenizer(), c.vocab_size));
  if (m->source_tokenizer() != nullptr) {
    if (c.encoder == nullptr) return Invalid("a source tokenizer in a model that has no encoder");
    Error source = source_tokenizer_.Init(m->source_tokenizer(), c.encoder->vocab_size);
    if (!source.ok()) return Error(source.status(), "source " + source.message());
  }

  // Pass 1: every entry of the tensor table is checked (role, layer, shape, type, segments, scale
  // values) before any is used; pass 2 fills the weights.
  const auto* tensors = m->tensors();
  if (tensors == nullptr) return Invalid("the model has no tensor table");
  struct Placed {
    const schema::Tensor* tensor;
    const TensorRoleInfo* info;
    int32_t layer;
    WeightType type;
    uint64_t rows, cols;
    uint32_t group;
    uint8_t stack;
  };
  std::vector<Placed> placed;
  placed.reserve(tensors->size());
  std::vector<Range> used;
  used.push_back(Range{0, uint64_t{header_size} + 4, "the header"});
  for (flatbuffers::uoffset_t t = 0; t < tensors->size(); ++t) {
    const schema::Tensor* tensor = tensors->Get(t);
    const std::string name = tensor->name() ? tensor->name()->str() : "#" + std::to_string(t);
    const std::string what = "tensor '" + name + "'";
    const int32_t layer = tensor->layer();
    const uint8_t stack = tensor->stack();
    if (stack > 1 || (stack == 1 && c.encoder == nullptr)) {
      return Invalid(what + ": stack " + std::to_string(stack) + " is not one of the model's (0" +
                     (c.encoder != nullptr ? ", or 1 for the encoder)" : ")"));
    }
    const ModelConfig& sc = stack == 1 ? *c.encoder : c;
    if (layer < -1 || layer >= static_cast<int64_t>(sc.n_layers)) {
      return Invalid(what + ": layer " + std::to_string(layer) + " is out of range");
    }
    const TensorRoleInfo* info = FindRole(tensor->role(), layer >= 0);
    if (info == nullptr) {
      const bool known = FindRole(tensor->role(), layer < 0) != nullptr;
      return known ? Invalid(what + ": role " + schema::EnumNameTensorRole(tensor->role()) +
                             (layer >= 0 ? " does not belong to a layer" : " belongs to a layer (its layer is -1)"))
                   : Unsupported(what + ": role " + std::to_string(static_cast<int>(tensor->role())) +
                                 " is not supported");
    }
    const LayerConfig* lc = layer >= 0 ? &sc.layers[layer] : nullptr;
    if (info->need(sc, lc) == Need::kAbsent) {
      return Invalid(what + ": the " + (stack == 1 ? "encoder" : "architecture") + " has no " + info->name +
                     (layer >= 0 ? " in this layer" : ""));
    }
    const ExpectedShape expect = info->shape(sc);
    const auto* shape = tensor->shape();
    const bool is_vector = expect.rows == 0;
    if (shape == nullptr || shape->size() != (is_vector ? 1u : 2u)) {
      return Invalid(what + ": expected a " + std::string(is_vector ? "1" : "2") + "-D shape");
    }
    // The FlatBuffer verifier checks a vector's length field for 4-byte alignment, not its
    // elements: a hostile header can put the 8-byte dimensions at 4 mod 8 (the buffer itself is
    // 8-aligned, checked above), where reading them is undefined behaviour.
    if (reinterpret_cast<uintptr_t>(shape->Data()) % alignof(uint64_t) != 0) {
      return Invalid(what + ": the shape's values are misaligned (a corrupt header)");
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
    const bool int4 = tensor->layout() == schema::WeightLayout::BlockedInt4;
    if (!row_major && !blocked && !int4) {
      return Unsupported(what + ": weight layout " + std::to_string(static_cast<int>(tensor->layout())) +
                         " is not supported");
    }
    WeightType type = WeightType::kF32;
    uint32_t group = 0;
    if (tensor->dtype() == schema::DType::F32 && tensor->quant() == schema::QuantScheme::None) {
      if (!row_major) return Unsupported(what + ": f32 tensors must be row-major");
      EF_RETURN_IF_ERROR(CheckSegment(tensor->data(), count * 4, size, what + " data", &used));
    } else if (tensor->dtype() == schema::DType::F16 && tensor->quant() == schema::QuantScheme::None) {
      if (!info->matrix) {
        return Unsupported(what + ": f16 is supported for matrices multiplied by activations and for the token "
                                  "embedding; this tensor must be f32");
      }
      if (!row_major) return Unsupported(what + ": f16 tensors must be row-major");
      EF_RETURN_IF_ERROR(CheckSegment(tensor->data(), count * 2, size, what + " data", &used));
      type = WeightType::kF16;
    } else if (tensor->dtype() == schema::DType::I8 && tensor->quant() == schema::QuantScheme::PerChannelSymmetric &&
               info->matrix) {
      if (!blocked) {
        return Unsupported(what + ": int8 weights must use the Blocked16x4 layout (convert the model again with "
                                  "this version's edgeformer-convert)");
      }
      EF_RETURN_IF_ERROR(CheckSegment(tensor->data(), BlockedBytes(rows, cols), size, what + " data", &used));
      EF_RETURN_IF_ERROR(CheckSegment(tensor->scales(), BlockedRows(rows) * 4, size, what + " scales", &used));
      EF_RETURN_IF_ERROR(CheckSegment(tensor->row_sums(), BlockedRows(rows) * 4, size, what + " row sums", &used));
      const auto* scales = reinterpret_cast<const float*>(base + tensor->scales()->offset());
      for (uint64_t r = 0; r < BlockedRows(rows); ++r) {
        if (!std::isfinite(scales[r]) || scales[r] < 0.0f) {
          return Invalid(what + ": scale of row " + std::to_string(r) + " is not a finite non-negative number");
        }
      }
      type = WeightType::kInt8;
    } else if (tensor->dtype() == schema::DType::I4 && tensor->quant() == schema::QuantScheme::GroupSymmetric &&
               info->matrix && info->role != schema::TensorRole::TokenEmbedding) {
      // The token embedding is looked up row by row: int4 there is not supported (f16 or int8 are).
      if (!int4) return Unsupported(what + ": int4 weights must use the BlockedInt4 layout");
      group = tensor->group_size();
      if (!Int4GroupSupported(group)) {
        return Unsupported(what + ": int4 group size " + std::to_string(group) + " is not supported (32, 64, 128 are)");
      }
      const uint64_t n_scales = Int4ScaleCount(rows, cols, group);
      EF_RETURN_IF_ERROR(CheckSegment(tensor->data(), Int4Bytes(rows, cols, group), size, what + " data", &used));
      EF_RETURN_IF_ERROR(CheckSegment(tensor->scales(), n_scales * 2, size, what + " scales", &used));
      const auto* scales = reinterpret_cast<const uint16_t*>(base + tensor->scales()->offset());
      for (uint64_t i = 0; i < n_scales; ++i) {
        const float v = F16ToF32(scales[i]);
        if (!std::isfinite(v)) return Invalid(what + ": scale " + std::to_string(i) + " is not a finite number");
      }
      type = WeightType::kInt4;
    } else {
      return Unsupported(what + ": dtype " + schema::EnumNameDType(tensor->dtype()) + " with quantization " +
                         schema::EnumNameQuantScheme(tensor->quant()) + " is not supported for this role");
    }
    if (options.verify_checksums) {
      uint64_t checksum = Fnv1a64(base + tensor->data()->offset(), tensor->data()->size(), kFnv1aInit);
      if (type == WeightType::kInt8 || type == WeightType::kInt4) {
        checksum = Fnv1a64(base + tensor->scales()->offset(), tensor->scales()->size(), checksum);
      }
      if (type == WeightType::kInt8) {
        checksum = Fnv1a64(base + tensor->row_sums()->offset(), tensor->row_sums()->size(), checksum);
      }
      if (checksum != tensor->checksum()) return Invalid(what + ": checksum mismatch (the file is corrupt)");
    }
    for (const Placed& p : placed) {
      if (p.info == info && p.layer == layer && p.stack == stack) {
        return Invalid(what + ": a second tensor with the same role, layer and stack");
      }
    }
    placed.push_back(Placed{tensor, info, layer, type, rows, cols, group, stack});
  }
  std::sort(used.begin(), used.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < used.size(); ++i) {
    if (used[i].begin < used[i - 1].end) return Invalid(used[i].owner + " overlaps " + used[i - 1].owner);
  }

  layers_.resize(c.n_layers);
  encoder_layers_.resize(c.encoder != nullptr ? c.encoder->n_layers : 0);
  for (const Placed& p : placed) {
    std::vector<LayerWeights>& layers = p.stack == 1 ? encoder_layers_ : layers_;
    GlobalWeights& globals = p.stack == 1 ? encoder_globals_ : globals_;
    Weight& w = p.layer >= 0 ? layers[p.layer].*(p.info->layer) : globals.*(p.info->global);
    w.type = p.type;
    w.rows = p.rows;
    w.cols = p.cols;
    w.data = base + p.tensor->data()->offset();
    if (p.type == WeightType::kInt8) {
      w.scales = reinterpret_cast<const float*>(base + p.tensor->scales()->offset());
      w.row_sums = reinterpret_cast<const int32_t*>(base + p.tensor->row_sums()->offset());
    }
    if (p.type == WeightType::kInt4) {
      w.group = p.group;
      w.int4_scales = reinterpret_cast<const uint16_t*>(base + p.tensor->scales()->offset());
    }
  }
  // Every tensor the architecture needs is there (the table says which).
  Error missing = Error::Ok();
  ForEachWeight([&](const ModelConfig& sc, const TensorRoleInfo& info, int32_t l, const Weight& w) {
    if (!missing.ok() || w.present() || info.need(sc, l >= 0 ? &sc.layers[l] : nullptr) != Need::kRequired) return;
    missing = Invalid(std::string("the model is missing ") + (&sc != &c ? "the encoder's " : "") + info.name +
                      (l >= 0 ? " in layer " + std::to_string(l) : std::string()));
  });
  EF_RETURN_IF_ERROR(missing);
  if (c.classifier && c.tied_embeddings) globals_.classifier = globals_.token_embedding;
  if (c.encoder != nullptr && c.encoder->shared_embedding) encoder_globals_.token_embedding = globals_.token_embedding;

  // Bytes one decode step reads: every matrix and vector once, one row of each embedding table
  // (a tied classifier is the token embedding, read whole as the classifier). The encoder and the
  // cross-attention keys and values are read once per source.
  weight_bytes_ = 0;
  encoder_weight_bytes_ = 0;
  ForEachWeight([&](const ModelConfig& sc, const TensorRoleInfo& info, int32_t, const Weight& w) {
    if (!w.present()) return;
    const bool table = info.role == schema::TensorRole::TokenEmbedding ||
                       info.role == schema::TensorRole::PositionEmbedding ||
                       info.role == schema::TensorRole::TokenTypeEmbedding;
    const uint64_t bytes = table ? w.cols * w.value_bytes() : w.stored_bytes();
    const bool per_source = &sc != &c || info.role == schema::TensorRole::CrossWk ||
                            info.role == schema::TensorRole::CrossWv || info.role == schema::TensorRole::CrossBk ||
                            info.role == schema::TensorRole::CrossBv;
    (per_source ? encoder_weight_bytes_ : weight_bytes_) += bytes;
  });
  weights_summary_ = SummarizeWeights();
  return Error::Ok();
}

std::string Model::SummarizeWeights() const {
  using R = schema::TensorRole;
  // Per class: the matrices of each type ("int4/g32" names its group), in the order met.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, uint32_t>>>> classes;
  ForEachWeight([&](const ModelConfig&, const TensorRoleInfo& info, int32_t, const Weight& w) {
    if (!info.matrix || !w.present()) return;
    const R r = info.role;
    const char* cls = r == R::TokenEmbedding                                         ? "embedding"
                      : r == R::Wq || r == R::Wk || r == R::Wv || r == R::Wo || r == R::CrossWq ||
                              r == R::CrossWk || r == R::CrossWv || r == R::CrossWo
                          ? "attention"
                      : r == R::FfnGate || r == R::FfnUp || r == R::FfnDown           ? "ffn"
                      : r == R::Classifier                                            ? "classifier"
                                                                                      : "head";
    std::string type = WeightTypeName(w.type);
    if (w.type == WeightType::kInt4) type += "/g" + std::to_string(w.group);
    if (r == R::Classifier && w.data == globals_.token_embedding.data) type = "tied";
    // A shared embedding is counted once (with the decoder's).
    if (r == R::TokenEmbedding && &w == &encoder_globals_.token_embedding && w.data == globals_.token_embedding.data) return;
    auto c = std::find_if(classes.begin(), classes.end(), [&](const auto& e) { return e.first == cls; });
    if (c == classes.end()) c = classes.insert(classes.end(), {cls, {}});
    auto t = std::find_if(c->second.begin(), c->second.end(), [&](const auto& e) { return e.first == type; });
    if (t == c->second.end()) t = c->second.insert(c->second.end(), {type, 0});
    ++t->second;
  });
  // In the forward pass's order.
  const char* const kOrder[] = {"embedding", "attention", "ffn", "head", "classifier"};
  auto rank = [&](const std::string& cls) { return std::find(std::begin(kOrder), std::end(kOrder), cls) - kOrder; };
  // (std::sort: stable_sort's buffer would hide a failed allocation; every class appears once.)
  std::sort(classes.begin(), classes.end(), [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
  std::string out;
  for (const auto& [cls, types] : classes) {
    out += (out.empty() ? "" : "; ") + cls + " ";
    for (size_t i = 0; i < types.size(); ++i) {
      out += (i ? "+" : "") + types[i].first;
      if (types.size() > 1) out += " x" + std::to_string(types[i].second);
    }
  }
  return out;
}

}  // namespace edgeformer
