// edgeformer-convert: checkpoint -> edgeformer model file. Exit codes as every tool's
// (tools/common/cli.h): 0 written, 1 refused or failed, 2 bad command line.
#include <cstdio>
#include <filesystem>

#include "converter/convert.h"
#include "tools/common/cli.h"

int main(int argc, char** argv) {
  CLI::App app{"edgeformer-convert: converts a checkpoint into an edgeformer model file"};
  std::string from = "llama2c";
  edgeformer::convert::ConvertOptions options;
  std::string quant = "int8";
  std::string embedding_quant;
  bool quiet = false;
  app.add_option("--from", from, "checkpoint format: llama2c (a model.bin), hf (a Hugging Face directory with "
                 "config.json and safetensors), gguf; default: hf for a directory, gguf for a .gguf file, else llama2c")
      ->check(CLI::IsMember({"llama2c", "hf", "gguf"}));
  app.add_option("checkpoint", options.checkpoint, "the checkpoint (llama2.c model.bin or Hugging Face directory)")
      ->required();
  app.add_option("--tokenizer", options.tokenizer,
                 "the tokenizer (llama2.c tokenizer.bin); without one the model takes token ids only");
  app.add_option("--quant", quant, "weight quantization of the layers: none (f32), f16 (IEEE halves), int8 "
                 "(per output channel; the default) or int4 (in groups of --group-size columns, f16 scales)")
      ->check(CLI::IsMember({"none", "f16", "int8", "int4"}));
  app.add_option("--group-size", options.group_size, "with --quant int4: columns per scale")
      ->check(CLI::IsMember({32, 64, 128}))
      ->capture_default_str();
  app.add_option("--quant-embedding", embedding_quant,
                 "token embedding and classifier: none (f32), f16 or int8; default: the layers' type for none "
                 "and f16, int8 for int8 and int4 (a fifth to a quarter fewer bytes for +0.04% perplexity on "
                 "fortunes2M; docs/performance.md)")
      ->check(CLI::IsMember({"none", "f16", "int8"}));
  app.add_option("-o,--output", options.output, "the model file to write")->required();
  bool no_tokenizer = false;
  app.add_flag("--no-tokenizer", no_tokenizer,
               "Hugging Face and GGUF: leave the tokenizer out (the model then takes token ids only)");
  app.add_flag("-q,--quiet", quiet, "do not print the per-tensor report");
  edgeformer::cli::AddVersion(app, "edgeformer-convert");
  const int parsed = edgeformer::cli::Parse(app, argc, argv, "edgeformer-convert");
  if (parsed >= 0) return parsed;

  auto parse_quant = [](const std::string& name) {
    return name == "none"   ? edgeformer::convert::Quant::kNone
           : name == "f16"  ? edgeformer::convert::Quant::kF16
           : name == "int4" ? edgeformer::convert::Quant::kInt4
                            : edgeformer::convert::Quant::kInt8;
  };
  if (embedding_quant.empty()) embedding_quant = quant == "int4" ? "int8" : quant;
  options.quant = parse_quant(quant);
  options.embedding_quant = parse_quant(embedding_quant);
  options.report = quiet ? nullptr : stdout;
  options.tokenizer_from_checkpoint = !no_tokenizer;
  options.progress = quiet ? nullptr : stderr;
  if (app.count("--from") == 0 && std::filesystem::is_directory(options.checkpoint)) from = "hf";
  if (app.count("--from") == 0 && std::filesystem::path(options.checkpoint).extension() == ".gguf") from = "gguf";
  const edgeformer::Error err = from == "hf"     ? edgeformer::convert::ConvertHf(options)
                                : from == "gguf" ? edgeformer::convert::ConvertGguf(options)
                                                 : edgeformer::convert::ConvertLlama2c(options);
  if (!err.ok()) {
    std::fprintf(stderr, "edgeformer-convert: %s\n", err.message().c_str());
    return edgeformer::cli::kExitFailure;
  }
  if (!quiet) std::printf("wrote %s\n", options.output.c_str());
  return 0;
}
