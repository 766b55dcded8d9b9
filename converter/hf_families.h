// The Hugging Face families beyond the Llama and GPT-2 ones of convert_hf.cc: each states its
// stack in model->architecture (whose dimensions ConvertHf has set) and adds its tensors.
#pragma once

#include <string>

#include "converter/convert.h"
#include "converter/hf_config.h"
#include "converter/safetensors.h"
#include "converter/writer.h"

namespace edgeformer {
namespace convert {

// bert: an encoder (post-norm, learned positions, token types, embedding LayerNorm, GELU, biases,
// optional pooler and masked-LM head); a sentence-transformers checkpoint's 1_Pooling and
// Normalize modules set the default pooling.
Error ConvertBert(const HfConfig& c, const std::string& dir, const SafetensorsSet& st, const ConvertOptions& options,
                  ModelData* model);

// bloom: a decoder with ALiBi, an embedding LayerNorm, a fused query_key_value, GELU tanh.
Error ConvertBloom(const HfConfig& c, const SafetensorsSet& st, const ConvertOptions& options, ModelData* model);

// t5: an encoder-decoder (T5 v1.0 and v1.1: relative buckets, unscaled scores, RMSNorm without
// biases, ReLU or gated tanh GELU, a shared embedding; convert_t5.cc).
Error ConvertT5(const HfConfig& c, const std::string& config_path, const SafetensorsSet& st,
                const ConvertOptions& options, ModelData* model);

// bart and marian: encoder-decoders of post-norm LayerNorm layers with biases (BART: learned
// positions past their offset of 2, an embedding LayerNorm, erf GELU; Marian: fixed sinusoidal
// positions in [sin | cos] halves, embeddings scaled by sqrt(d_model), SiLU, the pad id as the
// decoder start and never generated), final_logits_bias; convert_bart.cc.
Error ConvertBart(const HfConfig& c, const std::string& config_path, const SafetensorsSet& st,
                  const ConvertOptions& options, ModelData* model);

// edgeformer: any stack the file format can state, written out in config.json (see
// convert_generic.cc for the keys), with tensors named by the role table ("token_embedding",
// "layers.N.wq", ... + ".weight"). For reference models and custom architectures.
Error ConvertGeneric(const HfConfig& c, const std::string& config_path, const SafetensorsSet& st,
                     const ConvertOptions& options, ModelData* model);

}  // namespace convert
}  // namespace edgeformer
