// edgeformer-perplexity MODEL FILE [--doc-separator LINE] [--doc-end-token ID] [-o text|json]
// Reports the mean negative log-likelihood (nats per predicted token), the perplexity, the
// number of predicted tokens and the tokens/s. Results to stdout, progress to stderr.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "tools/common/cli.h"
#include "tools/perplexity/perplexity.h"

int main(int argc, char** argv) {
  CLI::App app{"edgeformer-perplexity: mean negative log-likelihood and perplexity of a model on a text"};
  std::string model_path, text_path, separator, output = "text", max_isa;
  int32_t end_token = -1;
  edgeformer_session_params sp = edgeformer_session_default_params();
  sp.max_batch = 64;
  app.add_option("model", model_path, "model file")->required();
  app.add_option("file", text_path, "UTF-8 text to score")->required()->check(CLI::ExistingFile);
  app.add_option("--doc-separator", separator, "split the file into documents at lines equal to LINE");
  app.add_option("--doc-end-token", end_token, "append this token id to every document (predicted too)");
  app.add_option("-o,--output", output, "text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_option("-t,--threads", sp.n_threads, "threads")->check(CLI::Range(1, 256));
  app.add_option("--context", sp.context_length, "context length (0 = the model's); longer documents are scored in windows");
  bool truncate = false;
  app.add_flag("--truncate", truncate,
               "score only the first context + 1 tokens of a longer document (as many models' own evaluations do) "
               "instead of all of it in strided windows");
  app.add_option("--max-isa", max_isa, "cap the kernels' ISA");
  std::string kv_type = "f32";
  app.add_option("--kv-type", kv_type, "KV cache storage: f32, f16 or int8")
      ->check(CLI::IsMember({"f32", "f16", "int8"}));
  edgeformer::cli::AddVersion(app, "edgeformer-perplexity");
  const int parsed = edgeformer::cli::Parse(app, argc, argv, "edgeformer-perplexity");
  if (parsed >= 0) return parsed;
  if (!max_isa.empty()) sp.max_isa = max_isa.c_str();
  sp.kv_type = kv_type == "f16" ? EDGEFORMER_KV_F16 : kv_type == "int8" ? EDGEFORMER_KV_I8 : EDGEFORMER_KV_F32;

  std::ifstream in(text_path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::vector<std::string> docs = edgeformer::perplexity::SplitDocuments(buffer.str(), separator);

  edgeformer_model* model = nullptr;
  edgeformer_session* session = nullptr;
  edgeformer_status st = edgeformer_model_load(model_path.c_str(), nullptr, &model);
  // Every way out frees them (in either order: a session keeps its model).
  const std::unique_ptr<edgeformer_model, void (*)(edgeformer_model*)> model_owner(model, &edgeformer_model_destroy);
  if (st == EDGEFORMER_OK) st = edgeformer_session_create(model, &sp, &session);
  const std::unique_ptr<edgeformer_session, void (*)(edgeformer_session*)> session_owner(session,
                                                                                       &edgeformer_session_destroy);
  edgeformer_model_info info;
  if (st == EDGEFORMER_OK) st = edgeformer_model_get_info(model, &info);
  if (st == EDGEFORMER_OK && end_token >= static_cast<int64_t>(info.vocab_size)) {
    std::fprintf(stderr, "edgeformer-perplexity: --doc-end-token %d is outside the vocabulary (%u)\n", end_token,
                 info.vocab_size);
    return edgeformer::cli::kExitUsage;
  }
  edgeformer::perplexity::Score score;
  if (st == EDGEFORMER_OK) {
    std::fprintf(stderr, "scoring %zu document(s)...\n", docs.size());
    st = edgeformer::perplexity::ScoreDocuments(
        model, session, docs, end_token, &score,
        truncate ? edgeformer::perplexity::LongDocuments::kTruncate : edgeformer::perplexity::LongDocuments::kWindows);
  }
  if (st == EDGEFORMER_OK && score.long_documents > 0 && truncate) {
    edgeformer_session_info si;
    (void)edgeformer_session_get_info(session, &si);
    std::fprintf(stderr,
                 "warning: %llu document(s) are longer than the context (%u tokens): only their first %u tokens "
                 "were scored (--truncate). Without --truncate they are scored whole, in strided windows.\n",
                 static_cast<unsigned long long>(score.long_documents), si.context_length, si.context_length + 1);
  } else if (st == EDGEFORMER_OK && score.long_documents > 0) {
    edgeformer_session_info si;
    (void)edgeformer_session_get_info(session, &si);
    std::fprintf(stderr,
                 "note: %llu document(s) are longer than the context (%u tokens): they were scored in %llu windows "
                 "of %u tokens starting every %u, so each token was predicted from at least %u (not all) of the "
                 "tokens before it. Split the file with --doc-separator, or use a longer --context, to change that.\n",
                 static_cast<unsigned long long>(score.long_documents), si.context_length,
                 static_cast<unsigned long long>(score.windows), si.context_length, si.context_length / 2,
                 si.context_length / 2);
  }
  if (st != EDGEFORMER_OK) {
    std::fprintf(stderr, "edgeformer-perplexity: %s (%s)\n", edgeformer_last_error(), edgeformer_status_name(st));
    return edgeformer::cli::kExitFailure;
  }
  const double nll = score.nll_per_token();
  const double tps = score.seconds > 0 ? static_cast<double>(score.tokens) / score.seconds : 0.0;
  if (output == "json") {
    std::printf("{\"nll_per_token\": %.9f, \"perplexity\": %.6f, \"tokens\": %llu, \"documents\": %llu, "
                "\"tokens_per_s\": %.1f, \"weight_type\": \"%s\", \"weights\": \"%s\", \"kv_type\": \"%s\"}\n",
                nll, std::exp(nll), static_cast<unsigned long long>(score.tokens),
                static_cast<unsigned long long>(score.documents), tps, info.weight_type, edgeformer_model_weights(model),
                kv_type.c_str());
  } else {
    std::printf("documents %llu, predicted tokens %llu, nll %.6f nats/token, perplexity %.4f, %.1f tokens/s "
                "(weights %s; KV cache %s)\n",
                static_cast<unsigned long long>(score.documents), static_cast<unsigned long long>(score.tokens), nll,
                std::exp(nll), tps, edgeformer_model_weights(model), kv_type.c_str());
  }
  return 0;
}
