// edgeformer-convert: checkpoint -> edgeformer model file. Exit codes as every tool's
// (tools/common/cli.h): 0 written, 1 refused or failed, 2 bad command line.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "converter/auto_quant.h"
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
                 "(per output channel; the default), int4 (in groups of --group-size columns, f16 scales), or auto "
                 "(per matrix, the fewest bytes within --max-ppl-increase on --calibration)")
      ->check(CLI::IsMember({"none", "f16", "int8", "int4", "auto"}));
  edgeformer::convert::AutoQuantOptions auto_options;
  std::string max_increase = "2%", auto_types = "int4,int8,f16";
  app.add_option("--max-ppl-increase", max_increase,
                 "with --quant auto: the perplexity budget over the f32 model's on the calibration text, in percent "
                 "(\"2%\" or 2)")
      ->capture_default_str();
  app.add_option("--calibration", auto_options.calibration, "with --quant auto: the text to measure perplexity on "
                 "(a few thousand tokens like the model's use; each matrix costs two scorings of it)")
      ->check(CLI::ExistingFile);
  app.add_option("--calibration-separator", auto_options.doc_separator,
                 "with --quant auto: split the calibration text into documents at lines equal to LINE");
  app.add_option("--auto-types", auto_types, "with --quant auto: the precisions to choose from")
      ->capture_default_str();
  app.add_option("-t,--threads", auto_options.threads, "with --quant auto: threads for scoring")
      ->check(CLI::Range(1, 256));
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

  if (quant == "auto" && auto_options.calibration.empty()) {
    std::fprintf(stderr, "edgeformer-convert: --quant auto needs --calibration FILE\n");
    return edgeformer::cli::kExitUsage;
  }
  if (quant != "auto" && (app.count("--calibration") || app.count("--max-ppl-increase") || app.count("--auto-types") ||
                          app.count("--calibration-separator") || app.count("--threads"))) {
    std::fprintf(stderr, "edgeformer-convert: --calibration, --calibration-separator, --max-ppl-increase, --auto-types "
                         "and --threads go with --quant auto\n");
    return edgeformer::cli::kExitUsage;
  }
  if (quant == "auto" && !embedding_quant.empty()) {
    std::fprintf(stderr, "edgeformer-convert: --quant auto chooses the embedding's type too: drop --quant-embedding\n");
    return edgeformer::cli::kExitUsage;
  }
  if (quant == "auto") {
    char* end = nullptr;
    const double percent = std::strtod(max_increase.c_str(), &end);
    if (end == max_increase.c_str() || !(*end == '\0' || (end[0] == '%' && end[1] == '\0')) || !(percent >= 0.0) ||
        !std::isfinite(percent)) {
      std::fprintf(stderr, "edgeformer-convert: --max-ppl-increase '%s' is not a percentage >= 0 (\"2%%\")\n",
                   max_increase.c_str());
      return edgeformer::cli::kExitUsage;
    }
    auto_options.max_ppl_increase = percent / 100.0;
    auto_options.allow_int4 = auto_options.allow_int8 = auto_options.allow_f16 = false;
    for (size_t at = 0; at <= auto_types.size();) {
      size_t comma = auto_types.find(',', at);
      if (comma == std::string::npos) comma = auto_types.size();
      const std::string t = auto_types.substr(at, comma - at);
      if (t == "int4") {
        auto_options.allow_int4 = true;
      } else if (t == "int8") {
        auto_options.allow_int8 = true;
      } else if (t == "f16") {
        auto_options.allow_f16 = true;
      } else {
        std::fprintf(stderr, "edgeformer-convert: --auto-types: '%s' is not int4, int8 or f16\n", t.c_str());
        return edgeformer::cli::kExitUsage;
      }
      at = comma + 1;
    }
  }
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
  edgeformer::Error (*convert)(const edgeformer::convert::ConvertOptions&) =
      from == "hf" ? &edgeformer::convert::ConvertHf
      : from == "gguf" ? &edgeformer::convert::ConvertGguf
                       : &edgeformer::convert::ConvertLlama2c;
  const edgeformer::Error err = quant == "auto"
                                    ? edgeformer::convert::ConvertAuto(options, auto_options, convert, stdout)
                                    : convert(options);
  if (!err.ok()) {
    std::fprintf(stderr, "edgeformer-convert: %s\n", err.message().c_str());
    return edgeformer::cli::kExitFailure;
  }
  if (!quiet) std::printf("wrote %s\n", options.output.c_str());
  return 0;
}
