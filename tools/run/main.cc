// edgeformer-run: generates text with a model through the public C API.
//
// stdout: the prompt and the generated text (or, with --print-ids, the generated ids; with
// --tokenize, the ids of a text). stderr: timing, the sampling seed and status. Exit codes as
// every tool's (tools/common/cli.h): 0 on success, including a generation stopped by a full
// context (reported on stderr); 1 when the model, prompt or run fails; 2 for a bad command line.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "edgeformer.h"
#include "tools/common/cli.h"
#include "tools/run/chat.h"

namespace {

struct Stream {
  bool print_text;
  std::vector<int32_t> ids;
};

int OnToken(void* user_data, int32_t token, const char* piece, size_t piece_len) {
  auto* s = static_cast<Stream*>(user_data);
  s->ids.push_back(token);
  if (s->print_text) {
    std::fwrite(piece, 1, piece_len, stdout);
    std::fflush(stdout);
  }
  return 1;
}

int Fail(const char* what, edgeformer_status status) {
  std::fprintf(stderr, "edgeformer-run: %s: %s (%s)\n", what, edgeformer_last_error(), edgeformer_status_name(status));
  return edgeformer::cli::kExitFailure;
}

std::string JoinIds(const std::vector<int32_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out;
}

// Comma-separated integers into *ids; false when the text is not that.
bool ParseIds(const std::string& text, std::vector<int32_t>* ids) {
  try {
    for (size_t at = 0; at <= text.size();) {
      size_t comma = text.find(',', at);
      if (comma == std::string::npos) comma = text.size();
      size_t used = 0;
      const std::string item = text.substr(at, comma - at);
      const long v = std::stol(item, &used);
      if (used != item.size() || v < INT32_MIN || v > INT32_MAX) return false;
      ids->push_back(static_cast<int32_t>(v));
      at = comma + 1;
    }
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

// Writes the text of `ids` to stdout, each piece as it follows the one before.
void WriteText(const edgeformer_model* model, const std::vector<int32_t>& ids) {
  int32_t prev = -1;
  for (int32_t id : ids) {
    const char* piece = nullptr;
    size_t len = 0;
    if (edgeformer_token_piece(model, prev, id, &piece, &len) == EDGEFORMER_OK) std::fwrite(piece, 1, len, stdout);
    prev = id;
  }
}

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// --prompt-cache: restores the state at `path` (when there is one) and keeps the longest prefix of
// `prompt` it holds, at most all but the prompt's last token (whose logits start the reply);
// *reused counts it. A state that does not load (another model or KV type, a corrupt file) is
// reported and ignored: the prompt is then prefilled whole and the file replaced.
edgeformer_status LoadPromptCache(edgeformer_session* session, const std::string& path,
                                  const std::vector<int32_t>& prompt, size_t* reused) {
  *reused = 0;
  if (access(path.c_str(), F_OK) != 0) return EDGEFORMER_OK;
  if (edgeformer_session_load(session, path.c_str()) != EDGEFORMER_OK) {
    std::fprintf(stderr, "edgeformer-run: warning: the prompt cache is not used: %s\n", edgeformer_last_error());
    return edgeformer_session_reset(session);
  }
  std::vector<int32_t> cached(edgeformer_session_position(session));
  size_t n_cached = 0;
  const edgeformer_status st = edgeformer_session_tokens(session, cached.data(), cached.size(), &n_cached);
  if (st != EDGEFORMER_OK) return st;
  const size_t limit = std::min(n_cached, prompt.empty() ? size_t{0} : prompt.size() - 1);
  while (*reused < limit && cached[*reused] == prompt[*reused]) ++*reused;
  return edgeformer_session_truncate(session, static_cast<uint32_t>(*reused));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgeformer-run: generate text with an edgeformer model"};
  std::string model_path, prompt, prompt_ids_text, tokenize_text, dump_logits, max_isa;
  edgeformer_generate_params gen = edgeformer_generate_default_params();
  edgeformer_session_params sp = edgeformer_session_default_params();
  bool print_ids = false, verify = false, ignore_eos = false;
  app.add_option("model", model_path, "model file made by edgeformer-convert")->required();
  auto* prompt_opt = app.add_option("-p,--prompt", prompt, "prompt text (the tokenizer's special tokens are added)");
  std::string prompt_file;
  auto* file_opt = app.add_option("-f,--file", prompt_file, "read the prompt text from FILE")->excludes(prompt_opt);
  app.add_option("--prompt-ids", prompt_ids_text, "prompt as comma-separated token ids, used as given")
      ->excludes(prompt_opt)
      ->excludes(file_opt);
  std::string source_text, source_ids_text;
  auto* source_opt = app.add_option("--source", source_text,
                                    "encoder-decoders: the source TEXT to translate or summarize (the tokenizer's "
                                    "special tokens are added); a prompt, if any, is a forced start of the target");
  app.add_option("--source-ids", source_ids_text, "encoder-decoders: the source as comma-separated token ids")
      ->excludes(source_opt);
  app.add_option("--max-source", sp.max_source_length, "encoder-decoders: the longest source (0 = the model's)")
      ->capture_default_str();
  edgeformer_beam_params beam = edgeformer_beam_default_params();
  beam.beams = 0;
  app.add_option("--beam", beam.beams, "beam search with N beams (prints the best hypothesis; 0 = sample or greedy)");
  app.add_option("--n-best", beam.n_best, "with --beam: print the N best hypotheses, one per line, with their scores")
      ->capture_default_str();
  app.add_option("--length-penalty", beam.length_penalty, "with --beam: scores are log p / length^PENALTY")
      ->capture_default_str();
  app.add_option("--tokenize", tokenize_text, "print the ids of TEXT (with the tokenizer's special tokens) and exit");
  bool no_parse_special = false;
  app.add_flag("--no-parse-special", no_parse_special,
               "special tokens written in the prompt or text (<|im_end|>) stay plain text");
  std::string embed_text, embed_ids_text, pooling = "model";
  bool normalize = false;
  auto* embed_opt = app.add_option("--embed", embed_text,
                                   "print the embedding of TEXT (with the model's special tokens) as comma-separated "
                                   "floats, and exit");
  app.add_option("--embed-ids", embed_ids_text, "print the embedding of these comma-separated token ids, and exit")
      ->excludes(embed_opt);
  app.add_option("--pooling", pooling, "with --embed: model (its own), cls, mean, last or pooler")
      ->check(CLI::IsMember({"model", "cls", "mean", "last", "pooler"}))
      ->capture_default_str();
  app.add_flag("--normalize", normalize, "with --embed: L2-normalize the vector (default: as the model says)");
  app.add_option("-n,--max-tokens", gen.max_tokens, "tokens to generate")->capture_default_str();
  app.add_option("--temperature", gen.sampler.temperature, "0 = greedy")->capture_default_str();
  app.add_option("--top-k", gen.sampler.top_k, "sample from the k most likely tokens (0 = all)")->capture_default_str();
  app.add_option("--top-p", gen.sampler.top_p, "nucleus sampling mass (1 = off)")->capture_default_str();
  app.add_option("--min-p", gen.sampler.min_p, "drop tokens below this times the most likely one's probability (0 = off)")
      ->capture_default_str();
  app.add_option("--repeat-penalty", gen.sampler.repetition_penalty,
                 "divide (multiply, when negative) the logits of tokens in the window (1 = off)")
      ->capture_default_str();
  app.add_option("--presence-penalty", gen.sampler.presence_penalty, "subtract from tokens in the window (0 = off)")
      ->capture_default_str();
  app.add_option("--frequency-penalty", gen.sampler.frequency_penalty,
                 "subtract per occurrence in the window (0 = off)")
      ->capture_default_str();
  app.add_option("--repeat-last-n", gen.sampler.penalty_last_n, "the penalties' window: the last N tokens")
      ->capture_default_str();
  std::vector<std::string> logit_bias_text;
  app.add_option("--logit-bias", logit_bias_text, "TOKEN=BIAS added to a token's logit (repeatable; -inf bans it)");
  std::vector<std::string> stop_texts;
  app.add_option("--stop", stop_texts, "stop when the text reaches STRING, which is not printed (repeatable)");
  bool slide = false;
  app.add_flag("--slide-context", slide,
               "when the context is full, drop the older half (after --keep tokens) and go on, instead of stopping");
  app.add_option("--keep", gen.keep_tokens, "with --slide-context: tokens kept at the start (a system prompt)")
      ->capture_default_str();
  app.add_option("--lookup", gen.lookup_tokens,
                 "prompt lookup: verify up to N tokens proposed from earlier text in each pass (the same output, "
                 "faster where the text repeats; 0 = off)")
      ->check(CLI::Range(0, 64));
  std::string draft_path;
  app.add_option("--draft", draft_path,
                 "speculative decoding: a smaller model with the same tokenizer proposes tokens, checked in one pass "
                 "over this model's weights (greedy: the same output; sampling: the same distribution)");
  app.add_option("--draft-tokens", gen.draft_tokens, "with --draft: proposals per pass (0 = adapt to acceptance)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  app.add_option("--lookup-ngram", gen.lookup_ngram, "with --lookup: the longest n-gram matched")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  std::string prompt_cache;
  app.add_option("--prompt-cache", prompt_cache,
                 "a session state file: the longest prefix of the prompt it holds is restored instead of "
                 "prefilled, and the prompt's state is saved to it (created when missing)");
  app.add_option("--seed", gen.sampler.seed,
                 "sampling seed (default: a random one, printed on stderr, so a run can be repeated)");
  app.add_option("-t,--threads", sp.n_threads, "threads")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--context", sp.context_length, "context length (0 = the model's)")->capture_default_str();
  app.add_option("--max-isa", max_isa, "cap the kernels' ISA (reference, avx2, avxvnni, avx512vnni, amx, neon, neondot, i8mm)");
  std::string kv_type = "f32", backend = "auto";
  app.add_option("--backend", backend, "float matmuls: auto (XNNPACK for f32 prefill, native for decode and f16), native, xnnpack")
      ->check(CLI::IsMember({"auto", "native", "xnnpack"}))
      ->capture_default_str();
  app.add_option("--kv-type", kv_type, "KV cache storage: f32, f16 or int8")
      ->check(CLI::IsMember({"f32", "f16", "int8"}))
      ->capture_default_str();
  app.add_flag("--print-ids", print_ids, "print the generated ids (comma-separated) instead of the text");
  app.add_option("--dump-logits", dump_logits,
                 "write the logits after the prompt (float32 little-endian, vocabulary order) to FILE");
  app.add_flag("--verify", verify, "verify every tensor's checksum at load");
  app.add_flag("--ignore-eos", ignore_eos, "keep generating past EOS/BOS");
  bool chat = false;
  edgeformer::run::ChatOptions chat_options;
  auto* chat_flag = app.add_flag("--chat", chat,
                                 "chat: each line of stdin is a user message; replies use the model's chat template "
                                 "and the KV cache is kept between turns")
                       ->excludes(prompt_opt);
  app.add_option("--system", chat_options.system, "with --chat: a system message first")->needs(chat_flag);
  edgeformer::cli::AddVersion(app, "edgeformer-run");
  const int parsed = edgeformer::cli::Parse(app, argc, argv, "edgeformer-run");
  if (parsed >= 0) return parsed;
  gen.slide_context = slide ? 1 : 0;
  std::vector<const char*> stop_pointers;
  for (const std::string& s : stop_texts) stop_pointers.push_back(s.c_str());
  gen.stop_strings = stop_pointers.empty() ? nullptr : stop_pointers.data();
  gen.n_stop_strings = stop_pointers.size();
  std::vector<edgeformer_logit_bias> biases;
  for (const std::string& entry : logit_bias_text) {
    const size_t eq = entry.find('=');
    char* end = nullptr;
    const long token = eq == std::string::npos ? -1 : std::strtol(entry.c_str(), &end, 10);
    const float bias = eq == std::string::npos ? 0.0f : std::strtof(entry.c_str() + eq + 1, nullptr);
    if (eq == std::string::npos || end != entry.c_str() + eq || token < 0 || token > INT32_MAX) {
      std::fprintf(stderr, "edgeformer-run: --logit-bias takes TOKEN=BIAS, not '%s'\n", entry.c_str());
      return 2;
    }
    biases.push_back({static_cast<int32_t>(token), bias});
  }
  gen.sampler.logit_bias = biases.empty() ? nullptr : biases.data();
  gen.sampler.n_logit_bias = biases.size();
  if (!prompt_file.empty()) {
    std::ifstream in(prompt_file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "edgeformer-run: cannot read the prompt file '%s'\n", prompt_file.c_str());
      return 1;
    }
    prompt.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (app.count("--seed") == 0) {
    // A random seed per run, as a user of sampling expects; printed so --seed repeats the run.
    std::random_device entropy;
    gen.sampler.seed = (uint64_t{entropy()} << 32 | entropy()) ^
                       static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }

  edgeformer_model_params mp = edgeformer_model_default_params();
  mp.verify_checksums = verify;
  edgeformer_model* model = nullptr;
  const auto t_load = std::chrono::steady_clock::now();
  edgeformer_status st = edgeformer_model_load(model_path.c_str(), &mp, &model);
  if (st != EDGEFORMER_OK) return Fail("cannot load the model", st);
  // Every way out frees the model and the session (in either order: a session keeps its model).
  const std::unique_ptr<edgeformer_model, void (*)(edgeformer_model*)> model_owner(model, &edgeformer_model_destroy);
  const auto t_loaded = std::chrono::steady_clock::now();

  const int tokenize_flags = EDGEFORMER_TOKENIZE_ADD_SPECIAL | (no_parse_special ? 0 : EDGEFORMER_TOKENIZE_PARSE_SPECIAL);
  auto tokenize = [&](const std::string& text, std::vector<int32_t>* ids, int extra_flags = 0) {
    size_t n = 0;
    ids->resize(text.size() + 8);
    const int flags = tokenize_flags | extra_flags;
    edgeformer_status s = edgeformer_tokenize(model, text.data(), text.size(), flags, ids->data(), ids->size(), &n);
    if (s == EDGEFORMER_INVALID_ARGUMENT && n > ids->size()) {  // normalization can lengthen text
      ids->resize(n);
      s = edgeformer_tokenize(model, text.data(), text.size(), flags, ids->data(), ids->size(), &n);
    }
    ids->resize(n);
    return s;
  };
  if (app.count("--tokenize") > 0) {
    std::vector<int32_t> ids;
    st = tokenize(tokenize_text, &ids);
    if (st != EDGEFORMER_OK) return Fail("cannot tokenize", st);
    std::printf("%s\n", JoinIds(ids).c_str());
    return 0;
  }

  if (!max_isa.empty()) sp.max_isa = max_isa.c_str();
  sp.kv_type = kv_type == "f16" ? EDGEFORMER_KV_F16 : kv_type == "int8" ? EDGEFORMER_KV_I8 : EDGEFORMER_KV_F32;
  sp.backend = backend == "xnnpack" ? EDGEFORMER_BACKEND_XNNPACK
               : backend == "native"  ? EDGEFORMER_BACKEND_NATIVE
                                      : EDGEFORMER_BACKEND_AUTO;
  if (!embed_text.empty() || !embed_ids_text.empty()) {
    // An embedding: one text's vector on one line, then exit.
    std::vector<int32_t> ids;
    if (!embed_ids_text.empty()) {
      if (!ParseIds(embed_ids_text, &ids)) {
        std::fprintf(stderr, "edgeformer-run: --embed-ids must be comma-separated integers\n");
        return edgeformer::cli::kExitUsage;
      }
    } else {
      st = tokenize(embed_text, &ids);
      if (st != EDGEFORMER_OK) return Fail("cannot tokenize the text", st);
    }
    edgeformer_session* session = nullptr;
    st = edgeformer_session_create(model, &sp, &session);
    if (st != EDGEFORMER_OK) return Fail("cannot create a session", st);
    const std::unique_ptr<edgeformer_session, void (*)(edgeformer_session*)> embed_session_owner(
        session, &edgeformer_session_destroy);
    edgeformer_model_info info;
    (void)edgeformer_model_get_info(model, &info);
    edgeformer_embed_params ep = edgeformer_embed_default_params();
    ep.pooling = pooling == "cls"      ? EDGEFORMER_POOLING_CLS
                 : pooling == "mean"   ? EDGEFORMER_POOLING_MEAN
                 : pooling == "last"   ? EDGEFORMER_POOLING_LAST
                 : pooling == "pooler" ? EDGEFORMER_POOLING_POOLER
                                       : EDGEFORMER_POOLING_MODEL;
    if (normalize) ep.normalize = 1;
    std::vector<float> vec(info.dim);
    const size_t n = ids.size();
    st = edgeformer_embed(session, ids.data(), nullptr, &n, 1, &ep, vec.data(), vec.size());
    if (st != EDGEFORMER_OK) return Fail("cannot embed the text", st);
    std::string line;
    for (size_t i = 0; i < vec.size(); ++i) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%s%.9g", i ? "," : "", vec[i]);
      line += buf;
    }
    std::printf("%s\n", line.c_str());
    return 0;
  }

  edgeformer_model_info model_info;
  (void)edgeformer_model_get_info(model, &model_info);
  const bool seq2seq = model_info.family == EDGEFORMER_FAMILY_ENCODER_DECODER;
  std::vector<int32_t> source_ids;
  if (seq2seq != (!source_text.empty() || !source_ids_text.empty())) {
    std::fprintf(stderr, "edgeformer-run: %s\n",
                 seq2seq ? "an encoder-decoder needs --source TEXT or --source-ids IDS"
                         : "--source and --source-ids are for encoder-decoder models");
    return edgeformer::cli::kExitUsage;
  }
  if (!source_ids_text.empty()) {
    if (!ParseIds(source_ids_text, &source_ids)) {
      std::fprintf(stderr, "edgeformer-run: --source-ids must be comma-separated integers\n");
      return edgeformer::cli::kExitUsage;
    }
  } else if (seq2seq) {
    st = tokenize(source_text, &source_ids, EDGEFORMER_TOKENIZE_SOURCE);
    if (st != EDGEFORMER_OK) return Fail("cannot tokenize the source", st);
  }
  std::vector<int32_t> prompt_ids;
  if (!prompt_ids_text.empty()) {
    if (!ParseIds(prompt_ids_text, &prompt_ids)) {
      std::fprintf(stderr, "edgeformer-run: --prompt-ids must be comma-separated integers\n");
      return edgeformer::cli::kExitUsage;
    }
  } else if (!seq2seq || !prompt.empty()) {  // an encoder-decoder's target prefix is empty by default
    st = tokenize(prompt, &prompt_ids);
    if (st != EDGEFORMER_OK) return Fail("cannot tokenize the prompt", st);
  }

  if (beam.beams > 0) {
    // Without -n, a search is not asked for more tokens than the model's positions hold.
    if (app.count("--max-tokens") == 0 && model_info.max_seq_len > 0) {
      gen.max_tokens = std::min(gen.max_tokens, model_info.max_seq_len);
    }
    sp.max_beams = beam.beams;
    sp.max_beam_tokens = gen.max_tokens;
  }
  sp.max_draft_tokens = draft_path.empty() ? gen.lookup_tokens : gen.draft_tokens > 0 ? gen.draft_tokens : 16;
  edgeformer_session* session = nullptr;
  st = edgeformer_session_create(model, &sp, &session);
  if (st != EDGEFORMER_OK) return Fail("cannot create a session", st);
  const std::unique_ptr<edgeformer_session, void (*)(edgeformer_session*)> session_owner(session,
                                                                                       &edgeformer_session_destroy);
  edgeformer_session_info info;
  (void)edgeformer_session_get_info(session, &info);
  // --draft: the draft's session, as many threads, the same KV type, the target's context (or
  // less, when the draft's positions end sooner: proposals then stop there).
  std::unique_ptr<edgeformer_session, void (*)(edgeformer_session*)> draft_owner(nullptr, &edgeformer_session_destroy);
  if (!draft_path.empty()) {
    edgeformer_model* draft_model = nullptr;
    st = edgeformer_model_load(draft_path.c_str(), &mp, &draft_model);
    if (st != EDGEFORMER_OK) return Fail("cannot load the draft model", st);
    edgeformer_model_info draft_info;
    (void)edgeformer_model_get_info(draft_model, &draft_info);
    edgeformer_session_params dp = edgeformer_session_default_params();
    dp.n_threads = sp.n_threads;
    dp.kv_type = sp.kv_type;
    dp.context_length = std::min(info.context_length, draft_info.max_seq_len);
    edgeformer_session* draft = nullptr;
    st = edgeformer_session_create(draft_model, &dp, &draft);
    edgeformer_model_destroy(draft_model);  // the session keeps it
    if (st != EDGEFORMER_OK) return Fail("cannot create the draft's session", st);
    draft_owner.reset(draft);
    gen.draft = draft;
  }

  gen.stop_at_end_of_text = !ignore_eos;
  if (chat) return edgeformer::run::RunChat(model, session, gen, chat_options, stdin, stdout);

  Stream stream{!print_ids, {}};
  if (!print_ids) {
    WriteText(model, prompt_ids);
    std::fflush(stdout);
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (seq2seq) {
    st = edgeformer_encode_source(session, source_ids.data(), source_ids.size(), nullptr, 0);
    if (st != EDGEFORMER_OK) return Fail("cannot encode the source", st);
  }
  size_t reused = 0;  // prompt tokens restored from --prompt-cache
  if (!prompt_cache.empty()) {
    if (seq2seq || chat) {
      std::fprintf(stderr, "edgeformer-run: --prompt-cache is for a decoder's prompt\n");
      return edgeformer::cli::kExitUsage;
    }
    st = LoadPromptCache(session, prompt_cache, prompt_ids, &reused);
    if (st != EDGEFORMER_OK) return Fail("cannot use the prompt cache", st);
  }
  if (prompt_ids.size() > reused) {
    st = edgeformer_session_prefill(session, prompt_ids.data() + reused, prompt_ids.size() - reused);
    if (st != EDGEFORMER_OK) return Fail("cannot process the prompt", st);
  }
  if (!prompt_cache.empty() && edgeformer_session_save(session, prompt_cache.c_str()) != EDGEFORMER_OK) {
    std::fprintf(stderr, "edgeformer-run: warning: the prompt cache is not saved: %s\n", edgeformer_last_error());
  }
  const auto t1 = std::chrono::steady_clock::now();
  if (!dump_logits.empty()) {
    const float* logits = nullptr;
    size_t n_vocab = 0;
    st = edgeformer_session_logits(session, &logits, &n_vocab);
    if (st != EDGEFORMER_OK) return Fail("cannot read the logits", st);
    std::FILE* f = std::fopen(dump_logits.c_str(), "wb");
    if (f == nullptr || std::fwrite(logits, sizeof(float), n_vocab, f) != n_vocab || std::fclose(f) != 0) {
      std::fprintf(stderr, "edgeformer-run: cannot write %s\n", dump_logits.c_str());
      return edgeformer::cli::kExitFailure;
    }
  }
  if (beam.beams > 0) {
    // Beam search: the n best hypotheses, one per line (ids or text), each score to stderr.
    beam.max_tokens = gen.max_tokens;
    std::vector<int32_t> hyps(size_t{beam.n_best} * gen.max_tokens);
    std::vector<uint32_t> lengths(beam.n_best);
    std::vector<float> scores(beam.n_best);
    uint32_t n_results = 0;
    st = edgeformer_generate_beam(session, &beam, hyps.data(), gen.max_tokens, lengths.data(), scores.data(), &n_results);
    if (st != EDGEFORMER_OK) return Fail("beam search failed", st);
    for (uint32_t i = 0; i < n_results; ++i) {
      const std::vector<int32_t> ids(hyps.begin() + i * gen.max_tokens, hyps.begin() + i * gen.max_tokens + lengths[i]);
      if (print_ids) {
        std::printf("%s%s", i ? "\n" : "", JoinIds(ids).c_str());
      } else {
        WriteText(model, ids);
        if (i + 1 < n_results) std::printf("\n");
      }
      std::fprintf(stderr, "hypothesis %u: %u tokens, score %.6f\n", i + 1, lengths[i], scores[i]);
    }
    std::printf("\n");
    return 0;
  }
  gen.stop_at_end_of_text = !ignore_eos;
  size_t n_generated = 0;
  edgeformer_stop_reason reason = EDGEFORMER_STOP_MAX_TOKENS;
  st = edgeformer_generate(session, &gen, &OnToken, &stream, &n_generated, &reason);
  const auto t2 = std::chrono::steady_clock::now();
  if (print_ids) std::printf("%s", JoinIds(stream.ids).c_str());
  std::printf("\n");
  std::fflush(stdout);
  if (st == EDGEFORMER_CONTEXT_FULL) {
    std::fprintf(stderr, "edgeformer-run: stopped: %s\n", edgeformer_last_error());
  } else if (st != EDGEFORMER_OK) {
    return Fail("generation failed", st);
  }
  const double prefill_s = Seconds(t0, t1), decode_s = Seconds(t1, t2);
  const size_t prefilled = seq2seq ? source_ids.size() : prompt_ids.size() - reused;
  if (!prompt_cache.empty()) std::fprintf(stderr, "prompt cache: %zu of %zu prompt tokens restored\n", reused, prompt_ids.size());
  std::fprintf(stderr,
               "load %.1f ms | %s %zu tokens in %.1f ms (%.1f tok/s) | generated %zu tokens in %.1f ms "
               "(%.1f tok/s) | %s kernels (%s), %u thread(s) | weights %s | seed %llu\n",
               Seconds(t_load, t_loaded) * 1e3, seq2seq ? "source" : "prompt", prefilled, prefill_s * 1e3,
               prefill_s > 0 ? prefilled / prefill_s : 0.0, n_generated, decode_s * 1e3,
               decode_s > 0 ? n_generated / decode_s : 0.0, info.isa,
               std::strcmp(model_info.weight_type, "int8") == 0   ? info.qgemm_kernel
               : std::strcmp(model_info.weight_type, "int4") == 0 ? info.q4gemm_kernel
                                                                  : info.sgemm_kernel,
               info.n_threads, edgeformer_model_weights(model), static_cast<unsigned long long>(gen.sampler.seed));
  if ((gen.lookup_tokens > 0 || gen.draft != nullptr) && edgeformer_session_get_info(session, &info) == EDGEFORMER_OK) {
    std::fprintf(stderr, "%s: %llu passes, %llu tokens proposed, %llu accepted (%.0f%%), %.2f tokens per pass\n",
                 gen.draft != nullptr ? "draft" : "lookup", static_cast<unsigned long long>(info.draft_passes),
                 static_cast<unsigned long long>(info.draft_proposed),
                 static_cast<unsigned long long>(info.draft_accepted),
                 info.draft_proposed > 0 ? 100.0 * info.draft_accepted / info.draft_proposed : 0.0,
                 info.draft_passes > 0 ? 1.0 + static_cast<double>(info.draft_accepted) / info.draft_passes : 1.0);
  }
  return 0;
}
