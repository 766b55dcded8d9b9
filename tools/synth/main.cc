// edgeformer-synth: writes a llama2.c checkpoint with random weights at a fixed seed (and, if
// asked, a tokenizer.bin), so every tool that reads the format can run the very same weights.
// Named shapes match real models' sizes for benchmarks; the text they generate is nonsense.
// With --encoder-decoder it writes an edgeformer model file of an encoder-decoder instead (Marian
// OPUS-MT's shape by default), for the benchmarks of sources and targets.
#include <cstdio>
#include <map>

#include "converter/llama2c.h"
#include "converter/synthetic.h"
#include "tools/common/cli.h"

namespace {

using edgeformer::convert::Llama2cConfig;
using edgeformer::convert::Llama2cShape;

// Named shapes: tiny (aidreams260K's shape), S (110M, llama2.c's stories110M), M (1.1B,
// TinyLlama).
const std::map<std::string, Llama2cConfig> kShapes = {
    {"tiny", Llama2cShape(64, 172, 4, 4, 4, 512, 128)},
    {"S", Llama2cShape(768, 2048, 12, 12, 12, 32000, 1024)},
    {"M", Llama2cShape(2048, 5632, 22, 32, 4, 32000, 2048)},
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgeformer-synth: synthetic llama2.c checkpoints (random weights; the text is nonsense)"};
  std::string shape = "tiny";
  Llama2cConfig c;
  uint64_t seed = 1;
  bool separate_classifier = false;
  std::string model_path, tokenizer_path;
  app.add_option("--shape", shape, "named shape: tiny (dim 64), S (110M params), M (1.1B params)")
      ->check(CLI::IsMember({"tiny", "S", "M"}))
      ->capture_default_str();
  auto* dim = app.add_option("--dim", c.dim, "model width (overrides the shape)");
  auto* hidden = app.add_option("--hidden", c.hidden_dim, "feed-forward width");
  auto* layers = app.add_option("--layers", c.n_layers, "layers");
  auto* heads = app.add_option("--heads", c.n_heads, "query heads");
  auto* kv_heads = app.add_option("--kv-heads", c.n_kv_heads, "key/value heads");
  auto* vocab = app.add_option("--vocab", c.vocab_size, "vocabulary size (>= 259)");
  auto* seq_len = app.add_option("--seq-len", c.seq_len, "context length");
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_flag("--separate-classifier", separate_classifier, "write a classifier instead of tying it to the embedding");
  app.add_option("-o,--output", model_path, "checkpoint to write (model.bin)")->required();
  app.add_option("--tokenizer-output", tokenizer_path, "tokenizer to write (tokenizer.bin); none if omitted");
  bool encoder_decoder = false;
  std::string quant = "int8";
  app.add_flag("--encoder-decoder", encoder_decoder,
               "write an edgeformer model file of an encoder-decoder (post-norm, sinusoidal, shared embeddings; "
               "by default OPUS-MT's shape: dim 512, 6 + 6 layers, 8 heads, hidden 2048, vocab 58101, 512 "
               "positions) instead of a llama2.c checkpoint");
  app.add_option("--quant", quant, "with --encoder-decoder: f32, f16, int8 or int4")
      ->check(CLI::IsMember({"f32", "f16", "int8", "int4"}))
      ->capture_default_str();
  edgeformer::cli::AddVersion(app, "edgeformer-synth");
  const int parsed = edgeformer::cli::Parse(app, argc, argv, "edgeformer-synth");
  if (parsed >= 0) return parsed;

  const Llama2cConfig preset =
      encoder_decoder ? Llama2cShape(512, 2048, 6, 8, 8, 58101, 512) : kShapes.at(shape);
  auto pick = [](CLI::Option* opt, int32_t& value, int32_t preset_value) {
    if (opt->count() == 0) value = preset_value;
  };
  pick(dim, c.dim, preset.dim);
  pick(hidden, c.hidden_dim, preset.hidden_dim);
  pick(layers, c.n_layers, preset.n_layers);
  pick(heads, c.n_heads, preset.n_heads);
  pick(kv_heads, c.n_kv_heads, preset.n_kv_heads);
  pick(vocab, c.vocab_size, preset.vocab_size);
  pick(seq_len, c.seq_len, preset.seq_len);
  c.shared_classifier = !separate_classifier;
  if (encoder_decoder) {
    using edgeformer::convert::Quant;
    const Quant q = quant == "f32" ? Quant::kNone : quant == "f16" ? Quant::kF16 : quant == "int4" ? Quant::kInt4 : Quant::kInt8;
    const edgeformer::Error err = edgeformer::convert::WriteSyntheticStack(
        edgeformer::convert::SyntheticEncoderDecoder(c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.vocab_size, c.seq_len),
        nullptr, seed, q, model_path);
    if (!err.ok()) {
      std::fprintf(stderr, "edgeformer-synth: %s\n", err.message().c_str());
      return edgeformer::cli::kExitFailure;
    }
    std::fprintf(stderr, "wrote %s (a synthetic encoder-decoder, seed %llu: its outputs are nonsense)\n",
                 model_path.c_str(), static_cast<unsigned long long>(seed));
    return 0;
  }
  const edgeformer::Error err = edgeformer::convert::WriteSyntheticLlama2c(c, seed, model_path, tokenizer_path);
  if (!err.ok()) {
    std::fprintf(stderr, "edgeformer-synth: %s\n", err.message().c_str());
    return edgeformer::cli::kExitFailure;
  }
  std::fprintf(stderr, "wrote %s%s%s (synthetic weights, seed %llu: generated text will be nonsense)\n",
               model_path.c_str(), tokenizer_path.empty() ? "" : " and ", tokenizer_path.c_str(),
               static_cast<unsigned long long>(seed));
  return 0;
}
