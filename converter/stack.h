// The stack a converter states in the model file (schemas/model.fbs, StackSpec), and the check
// every file gets before it is written: its tensors against the runtime's table of roles
// (model/tensor_roles.h), so a converter cannot write a file the runtime would refuse.
#pragma once

#include <memory>

#include "converter/writer.h"
#include "core/status.h"
#include "model_generated.h"

namespace edgeformer {
namespace convert {

// A pre-norm causal decoder's stack from the Architecture's own fields (norm, activation,
// position, rotary_dim, attention_bias, mlp_bias): what llama2.c, GGUF llama and the Hugging
// Face llama, qwen2 and gpt2 checkpoints are. Sets a->stack.
void SetDecoderStack(schema::ArchitectureT* a);

// An encoder-decoder's encoder architecture with the decoder's dimensions (layers, widths, heads,
// vocabulary, positions, norm epsilon) and family EncoderOnly, for a converter to adjust and put
// in decoder->encoder. No stack yet.
std::unique_ptr<schema::ArchitectureT> EncoderArchitecture(const schema::ArchitectureT& decoder);

// Checks `model`'s architecture resolves (as the runtime would) and that its tensors are exactly
// the ones the role table asks for, with their shapes. kInternal names a converter bug.
Error CheckModelData(const ModelData& model);

}  // namespace convert
}  // namespace edgeformer
