// A model as data: the hyper-parameters, the stack's embedding and head, and one LayerConfig per
// layer (in the spirit of gemma.cpp's LayerConfig), resolved from the file's Architecture and
// StackSpec (schemas/model.fbs) and checked at load. The forward pass (model/layer.h) runs any
// combination this can state.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "ops/params.h"

namespace edgeformer {

namespace schema {
struct Architecture;
}

enum class Family { kDecoderOnly, kEncoderOnly, kEncoderDecoder };
enum class NormKind { kRMSNorm, kLayerNorm };
enum class NormPlacement { kPre, kPost, kSandwich };
enum class ActivationKind { kSwiGLU, kGELU, kGELUTanh, kReLU, kGeGLU, kGeGLUTanh, kSiLU };
enum class PositionKind { kRotary, kLearned, kSinusoidal, kALiBi, kNone, kT5Relative };
enum class Pooling { kNone, kCls, kMean, kLast, kPooler };

// Gated feed-forwards (w_down(act(w_gate x) * w_up x)) have a gate matrix.
inline bool IsGated(ActivationKind a) {
  return a == ActivationKind::kSwiGLU || a == ActivationKind::kGeGLU || a == ActivationKind::kGeGLUTanh;
}

// One layer: what the layer function (model/layer.h) does.
struct LayerConfig {
  NormKind norm = NormKind::kRMSNorm;
  NormPlacement placement = NormPlacement::kPre;
  MaskKind mask = MaskKind::kCausal;
  PositionKind position = PositionKind::kRotary;  // kRotary, kALiBi, kT5Relative or kNone
  uint32_t rotary_dim = 0;                        // even, <= head_dim
  RotaryStyle rotary_style = RotaryStyle::kAdjacentPairs;
  ActivationKind activation = ActivationKind::kSwiGLU;
  bool attention_bias = false;  // bq, bk, bv present (bo optional)
  bool mlp_bias = false;        // b_up, b_down (and b_gate when gated) present
  bool qk_norm = false;         // q and k RMS-normalized per head (q_norm, k_norm) before positions
  uint32_t sliding_window = 0;  // causal: keys (p - sliding_window, p] only; 0: all before p
  float rope_theta = 0.0f;      // this layer's unscaled rotary base; 0: the model's rope
  bool cross_attention = false; // a cross-attention block over the source follows the self-attention
};

struct ModelConfig {
  Family family = Family::kDecoderOnly;
  uint32_t n_layers = 0;
  uint32_t dim = 0;
  uint32_t hidden_dim = 0;
  uint32_t n_heads = 0;
  uint32_t n_kv_heads = 0;
  uint32_t head_dim = 0;
  uint32_t vocab_size = 0;
  uint32_t max_seq_len = 0;
  float norm_eps = 1e-5f;
  RopeParams rope;
  // The embedding: token (times embedding_scale), + positions, + token types, then a norm.
  PositionKind embedding_positions = PositionKind::kNone;  // kLearned, kSinusoidal or kNone
  uint32_t token_types = 0;
  bool embedding_norm = false;
  NormKind embedding_norm_kind = NormKind::kLayerNorm;  // the first layer's kind
  float embedding_scale = 1.0f;
  // Attention: scores = q.k * attention_scale (+ position bias).
  float attention_scale = 0.0f;
  float attention_softcap = 0.0f;  // scores -> cap * tanh(scores / cap) after the scale; 0: none
  float logit_softcap = 0.0f;      // the same on the logits
  uint32_t prefix_len = 0;
  RelativeParams relative;
  // The head.
  bool final_norm = true;
  NormKind final_norm_kind = NormKind::kRMSNorm;  // the last layer's kind
  bool classifier = true;  // logits over the vocabulary
  bool tied_embeddings = false;
  bool pooler = false;
  bool mlm_head = false;
  ActivationKind mlm_activation = ActivationKind::kGELU;
  Pooling pooling = Pooling::kNone;
  bool normalize = false;
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  std::vector<int32_t> end_ids;  // more ids that end a text (end of turn)
  std::vector<LayerConfig> layers;
  // Encoder-decoder models (family kEncoderDecoder; this config is the decoder's): the encoder
  // stack (family kEncoderOnly, same dim; its max_seq_len is the longest source), the ids every
  // target starts with, and the ids generation never produces. An encoder-decoder's encoder
  // reads the decoder's token embedding when shared_embedding.
  std::shared_ptr<const ModelConfig> encoder;
  std::vector<int32_t> decoder_start_ids;
  uint32_t forced_start_ids = 0;  // the last start ids that generate() forces (counted as generated)
  int32_t forced_eos_id = -1;     // the id a beam ends with at the maximum length; -1: none
  std::vector<int32_t> suppress_ids;
  bool shared_embedding = false;

  // Whether `token` ends a text: EOS, BOS (which starts the next one) or an end id.
  bool EndsText(int32_t token) const { return (token == bos_id && token >= 0) || IsEnd(token); }
  // Whether `token` is EOS or an end id (what ends a beam search hypothesis, as in transformers).
  bool IsEnd(int32_t token) const {
    if (token == eos_id) return token >= 0;
    for (int32_t id : end_ids) {
      if (token == id) return true;
    }
    return false;
  }

  bool decoder() const { return family != Family::kEncoderOnly; }
  uint32_t q_dim() const { return n_heads * head_dim; }
  uint32_t kv_dim() const { return n_kv_heads * head_dim; }
  // Whether any layer uses a feature (the session sizes its tables by these).
  bool AnyLayer(bool (*pred)(const LayerConfig&)) const {
    for (const LayerConfig& l : layers) {
      if (pred(l)) return true;
    }
    return false;
  }
  // The base of the rotary layers with their own (they all share one), or 0 when none has one.
  float local_rope_theta() const {
    for (const LayerConfig& l : layers) {
      if (l.position == PositionKind::kRotary && l.rope_theta != 0.0f) return l.rope_theta;
    }
    return 0.0f;
  }
  // The rotary layers' rotary_dim (they all share one), or 0 when no layer is rotary.
  uint32_t rotary_dim() const {
    for (const LayerConfig& l : layers) {
      if (l.position == PositionKind::kRotary) return l.rotary_dim;
    }
    return 0;
  }
};

// Validates `a` (of a file of `format_version`) and fills *c: every value in range, every
// combination one the runtime runs. Version 2 and 3 files (no stack) become a pre-norm causal
// decoder from the Architecture's own fields. kUnsupported for values this build does not know.
Error ResolveConfig(const schema::Architecture* a, uint32_t format_version, ModelConfig* c);

}  // namespace edgeformer
