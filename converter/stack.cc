#include "converter/stack.h"

#include <string>
#include <vector>

#include "model/config.h"
#include "model/format.h"
#include "model/tensor_roles.h"

namespace edgeformer {
namespace convert {

void SetDecoderStack(schema::ArchitectureT* a) {
  auto layer = std::make_unique<schema::LayerSpecT>();
  layer->norm = a->norm;
  layer->norm_placement = schema::NormPlacement::Pre;
  layer->mask = schema::AttentionMask::Causal;
  layer->position = a->position == schema::PositionKind::Rotary ? schema::PositionKind::Rotary
                                                                 : schema::PositionKind::None;
  layer->rotary_dim = a->rotary_dim;
  layer->rotary_style = schema::RotaryStyle::AdjacentPairs;
  layer->activation = a->activation;
  layer->attention_bias = a->attention_bias;
  layer->mlp_bias = a->mlp_bias;
  auto stack = std::make_unique<schema::StackSpecT>();
  stack->layers.push_back(std::move(layer));
  stack->embedding_positions = a->position == schema::PositionKind::Learned ? schema::PositionKind::Learned
                                                                             : schema::PositionKind::None;
  stack->final_norm = true;
  stack->classifier = true;
  a->stack = std::move(stack);
}

std::unique_ptr<schema::ArchitectureT> EncoderArchitecture(const schema::ArchitectureT& decoder) {
  auto e = std::make_unique<schema::ArchitectureT>();
  e->family = schema::ModelFamily::EncoderOnly;
  e->n_layers = decoder.n_layers;
  e->dim = decoder.dim;
  e->hidden_dim = decoder.hidden_dim;
  e->n_heads = decoder.n_heads;
  e->n_kv_heads = decoder.n_kv_heads;
  e->head_dim = decoder.head_dim;
  e->vocab_size = decoder.vocab_size;
  e->max_seq_len = decoder.max_seq_len;
  e->norm_eps = decoder.norm_eps;
  return e;
}

Error CheckModelData(const ModelData& model) {
  auto bug = [](const std::string& what) { return Error(Status::kInternal, "converter bug: " + what); };
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::Architecture::Pack(fbb, &model.architecture));
  ModelConfig c;
  const Error resolved =
      ResolveConfig(flatbuffers::GetRoot<schema::Architecture>(fbb.GetBufferPointer()), kFormatVersion, &c);
  if (!resolved.ok()) return bug("the architecture it wrote is refused: " + resolved.message());
  for (const TensorData& t : model.tensors) {
    if (t.stack > 1 || (t.stack == 1 && c.encoder == nullptr)) {
      return bug("tensor '" + t.name + "' is in a stack the model does not have");
    }
  }
  size_t n_roles = 0;
  const TensorRoleInfo* table = roles::Table(&n_roles);
  const ModelConfig* stacks[2] = {&c, c.encoder.get()};
  for (uint8_t stack = 0; stack < 2 && stacks[stack] != nullptr; ++stack) {
    const ModelConfig& sc = *stacks[stack];
    std::vector<std::vector<bool>> seen(n_roles, std::vector<bool>(sc.n_layers + 1, false));
    for (const TensorData& t : model.tensors) {
      if (t.stack != stack) continue;
      const TensorRoleInfo* info = FindRole(t.role, t.layer >= 0);
      if (info == nullptr || t.layer >= static_cast<int64_t>(sc.n_layers)) {
        return bug("tensor '" + t.name + "' has a role or layer the runtime does not place");
      }
      const LayerConfig* lc = t.layer >= 0 ? &sc.layers[t.layer] : nullptr;
      if (info->need(sc, lc) == Need::kAbsent) return bug("tensor '" + t.name + "' is not used by its architecture");
      const ExpectedShape e = info->shape(sc);
      const std::vector<uint64_t> want =
          e.rows == 0 ? std::vector<uint64_t>{e.cols} : std::vector<uint64_t>{e.rows, e.cols};
      if (t.shape != want) return bug("tensor '" + t.name + "' has a shape its architecture does not imply");
      std::vector<bool>::reference mark = seen[info - table][t.layer >= 0 ? t.layer : sc.n_layers];
      if (mark) return bug("tensor '" + t.name + "' is written twice");
      mark = true;
    }
    for (size_t i = 0; i < n_roles; ++i) {
      const TensorRoleInfo& info = table[i];
      for (uint32_t l = 0; l < (info.per_layer ? sc.n_layers : 1); ++l) {
        const LayerConfig* lc = info.per_layer ? &sc.layers[l] : nullptr;
        if (info.need(sc, lc) == Need::kRequired && !seen[i][info.per_layer ? l : sc.n_layers]) {
          return bug(std::string("no ") + (stack == 1 ? "encoder " : "") + info.name +
                     (info.per_layer ? " in layer " + std::to_string(l) : "") + " was written");
        }
      }
    }
  }
  return Error::Ok();
}

}  // namespace convert
}  // namespace edgeformer
