#include "converter/synthetic.h"

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "converter/builder.h"
#include "converter/writer.h"
#include "model/config.h"
#include "model/format.h"
#include "model/tensor_roles.h"

namespace edgeformer {
namespace convert {

Error WriteSyntheticStack(const schema::ArchitectureT& architecture, const schema::TokenizerT* tokenizer, uint64_t seed,
                          Quant quant, const std::string& path) {
  if (architecture.stack == nullptr) return Error(Status::kInvalidArgument, "the architecture states no stack");
  ModelData model;
  model.producer = "edgeformer synthetic stack";
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::Architecture::Pack(fbb, &architecture));
  ModelConfig c;
  EF_RETURN_IF_ERROR(ResolveConfig(flatbuffers::GetRoot<schema::Architecture>(fbb.GetBufferPointer()), kFormatVersion, &c));
  const std::unique_ptr<schema::ArchitectureT> resolved(flatbuffers::GetRoot<schema::Architecture>(fbb.GetBufferPointer())->UnPack());
  model.architecture = std::move(*resolved);
  model.has_tokenizer = tokenizer != nullptr;
  if (tokenizer != nullptr) model.tokenizer = *tokenizer;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  ConvertOptions options;
  options.output = path;
  Builder b(&model, options);
  ForEachRole([&](const TensorRoleInfo& info) {
    for (uint32_t l = 0; l < (info.per_layer ? c.n_layers : 1); ++l) {
      const LayerConfig* lc = info.per_layer ? &c.layers[l] : nullptr;
      if (info.need(c, lc) != Need::kRequired) continue;
      const ExpectedShape e = info.shape(c);
      const int32_t layer = info.per_layer ? static_cast<int32_t>(l) : -1;
      const uint64_t rows = e.rows == 0 ? 1 : e.rows;
      // Norm weights near 1, biases and tables small, matrices variance-preserving.
      const bool norm = info.role == schema::TensorRole::AttnNorm || info.role == schema::TensorRole::FfnNorm ||
                        info.role == schema::TensorRole::FinalNorm || info.role == schema::TensorRole::EmbedNorm ||
                        info.role == schema::TensorRole::MlmNorm;
      const float scale = e.rows == 0 ? 0.1f : info.matrix ? 1.0f / std::sqrt(static_cast<float>(e.cols)) : 0.3f;
      std::vector<float> values(rows * e.cols);
      for (float& v : values) v = (norm ? 1.0f : 0.0f) + scale * normal(rng);
      if (e.rows == 0) {
        b.Vector(info.name, info.role, layer, std::move(values));
      } else {
        b.Matrix(info.name, info.role, layer, std::move(values), e.rows, e.cols, info.matrix ? quant : Quant::kNone);
      }
    }
  });
  EF_RETURN_IF_ERROR(b.status());
  return WriteModelFile(model, path);
}

}  // namespace convert
}  // namespace edgeformer
