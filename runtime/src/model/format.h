// Facts about the model file format shared by the loader and the converter: the version this
// build reads and writes, segment alignment, and the shape each tensor role must have.
#pragma once

#include <cstdint>

#include "model/model.h"
#include "model_generated.h"

namespace edgeformer {

constexpr uint32_t kFormatVersion = 3;     // written by the converter
constexpr uint32_t kMinFormatVersion = 2;  // oldest still read (no rope scaling)
constexpr uint64_t kSegmentAlignment = 64;

// Where a tensor role goes in a Model.
struct TensorSlot {
  enum Kind {
    kUnknown,
    kTokenEmbedding,
    kPositionEmbedding,
    kFinalNorm,
    kFinalNormBias,
    kClassifier,
    kClassifierBias,
    kLayer
  } kind;
  bool per_layer;
};

inline TensorSlot SlotOf(schema::TensorRole role) {
  using R = schema::TensorRole;
  switch (role) {
    case R::TokenEmbedding: return {TensorSlot::kTokenEmbedding, false};
    case R::PositionEmbedding: return {TensorSlot::kPositionEmbedding, false};
    case R::FinalNorm: return {TensorSlot::kFinalNorm, false};
    case R::FinalNormBias: return {TensorSlot::kFinalNormBias, false};
    case R::Classifier: return {TensorSlot::kClassifier, false};
    case R::ClassifierBias: return {TensorSlot::kClassifierBias, false};
    case R::AttnNorm: case R::AttnNormBias: case R::Wq: case R::Wk: case R::Wv: case R::Wo:
    case R::Bq: case R::Bk: case R::Bv: case R::Bo:
    case R::FfnNorm: case R::FfnNormBias: case R::FfnGate: case R::FfnDown: case R::FfnUp:
    case R::FfnGateBias: case R::FfnDownBias: case R::FfnUpBias:
      return {TensorSlot::kLayer, true};
    default: return {TensorSlot::kUnknown, false};
  }
}

// The weight of `layer` that `role` fills, or nullptr when this architecture has no such tensor.
inline Weight* LayerSlot(LayerWeights* layer, schema::TensorRole role) {
  using R = schema::TensorRole;
  switch (role) {
    case R::AttnNorm: return &layer->attn_norm;
    case R::AttnNormBias: return &layer->attn_norm_bias;
    case R::Wq: return &layer->wq;
    case R::Wk: return &layer->wk;
    case R::Wv: return &layer->wv;
    case R::Wo: return &layer->wo;
    case R::Bq: return &layer->bq;
    case R::Bk: return &layer->bk;
    case R::Bv: return &layer->bv;
    case R::Bo: return &layer->bo;
    case R::FfnNorm: return &layer->ffn_norm;
    case R::FfnNormBias: return &layer->ffn_norm_bias;
    case R::FfnGate: return &layer->w_gate;
    case R::FfnDown: return &layer->w_down;
    case R::FfnUp: return &layer->w_up;
    case R::FfnGateBias: return &layer->b_gate;
    case R::FfnDownBias: return &layer->b_down;
    case R::FfnUpBias: return &layer->b_up;
    default: return nullptr;
  }
}

// rows == 0 means a 1-D vector of `cols` values.
struct ExpectedShape {
  uint64_t rows, cols;
};

inline ExpectedShape ExpectedShapeOf(schema::TensorRole role, const ModelConfig& c) {
  using R = schema::TensorRole;
  switch (role) {
    case R::TokenEmbedding: case R::Classifier: return {c.vocab_size, c.dim};
    case R::PositionEmbedding: return {c.max_seq_len, c.dim};
    case R::AttnNorm: case R::FfnNorm: case R::FinalNorm: return {0, c.dim};
    case R::AttnNormBias: case R::FfnNormBias: case R::FinalNormBias: case R::Bo: case R::FfnDownBias:
      return {0, c.dim};
    case R::Bq: return {0, c.q_dim()};
    case R::Bk: case R::Bv: return {0, c.kv_dim()};
    case R::FfnGateBias: case R::FfnUpBias: return {0, c.hidden_dim};
    case R::ClassifierBias: return {0, c.vocab_size};
    case R::Wq: return {c.q_dim(), c.dim};
    case R::Wk: case R::Wv: return {c.kv_dim(), c.dim};
    case R::Wo: return {c.dim, c.q_dim()};
    case R::FfnGate: case R::FfnUp: return {c.hidden_dim, c.dim};
    case R::FfnDown: return {c.dim, c.hidden_dim};
    default: return {0, 0};
  }
}

}  // namespace edgeformer
