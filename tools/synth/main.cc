// edgeformer-synth: writes a llama2.c checkpoint with random weights at a fixed seed, and a
// tokenizer.bin for it, so every tool that reads the format can run the very same weights.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "converter/llama2c.h"

int main(int argc, char** argv) {
  CLI::App app{"edgeformer-synth: synthetic llama2.c checkpoints (random weights; the text is nonsense)"};
  edgeformer::convert::Llama2cConfig c;
  c.dim = 64;
  c.hidden_dim = 172;
  c.n_layers = 4;
  c.n_heads = 4;
  c.n_kv_heads = 4;
  c.vocab_size = 512;
  c.seq_len = 128;
  uint64_t seed = 1;
  bool separate_classifier = false;
  std::string model_path, tokenizer_path;
  app.add_option("--dim", c.dim, "model width")->capture_default_str();
  app.add_option("--hidden", c.hidden_dim, "feed-forward width")->capture_default_str();
  app.add_option("--layers", c.n_layers, "layers")->capture_default_str();
  app.add_option("--heads", c.n_heads, "query heads")->capture_default_str();
  app.add_option("--kv-heads", c.n_kv_heads, "key/value heads")->capture_default_str();
  app.add_option("--vocab", c.vocab_size, "vocabulary size (>= 259)")->capture_default_str();
  app.add_option("--seq-len", c.seq_len, "context length")->capture_default_str();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_flag("--separate-classifier", separate_classifier, "write a classifier instead of tying it to the embedding");
  app.add_option("-o,--output", model_path, "checkpoint to write (model.bin)")->required();
  app.add_option("--tokenizer-output", tokenizer_path, "tokenizer to write (tokenizer.bin)")->required();
  CLI11_PARSE(app, argc, argv);
  c.shared_classifier = !separate_classifier;
  const edgeformer::Error err = edgeformer::convert::WriteSyntheticLlama2c(c, seed, model_path, tokenizer_path);
  if (!err.ok()) {
    std::fprintf(stderr, "edgeformer-synth: %s\n", err.message().c_str());
    return 1;
  }
  std::fprintf(stderr, "wrote %s and %s (synthetic weights, seed %llu: generated text will be nonsense)\n",
               model_path.c_str(), tokenizer_path.c_str(), static_cast<unsigned long long>(seed));
  return 0;
}
