#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "model/model.h"
#include "model/sampler.h"
#include "model/isa_option.h"
#include "model/session.h"
#include "model/tensor_roles.h"
#include "platforms/isa.h"
#include "tools/bench/bench.h"
#include "tools/bench/measure.h"

#ifndef EDGEFORMER_BUILD_TYPE
#define EDGEFORMER_BUILD_TYPE "unknown"
#endif

namespace edgeformer {
namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Deterministic token ids spread over the vocabulary.
std::vector<int32_t> Tokens(size_t n, uint32_t vocab, uint32_t salt) {
  std::vector<int32_t> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = static_cast<int32_t>((i * 7919 + salt * 104729 + 1) % vocab);
  return t;
}

ModelInfo Describe(const Model& m, const std::string& path) {
  const ModelConfig& c = m.config();
  ModelInfo info;
  info.path = path;
  info.file_bytes = m.file_size();
  info.weight_bytes_per_token = m.weight_bytes();
  info.dim = c.dim;
  info.hidden_dim = c.hidden_dim;
  info.n_layers = c.n_layers;
  info.n_heads = c.n_heads;
  info.n_kv_heads = c.n_kv_heads;
  info.vocab = c.vocab_size;
  info.context = c.max_seq_len;
  // Parameters: every tensor of the role table (a tied classifier counted once); the quant: the
  // type of the layers' matrices.
  info.params = 0;
  info.quant = "";
  info.weights = m.weights_summary();
  ForEachRole([&](const TensorRoleInfo& role) {
    for (uint32_t l = 0; l < (role.per_layer ? c.n_layers : 1); ++l) {
      const Weight& w = role.per_layer ? m.layer(l).*(role.layer) : m.globals().*(role.global);
      if (!w.present()) continue;
      if (role.role == schema::TensorRole::Classifier && c.tied_embeddings) continue;
      info.params += w.rows * w.cols;
      if (role.per_layer && role.matrix) {
        const std::string type = WeightTypeName(w.type);
        info.quant = info.quant.empty() || info.quant == type ? type : "mixed";
      }
    }
  });
  return info;
}

void Say(std::FILE* progress, const std::string& s) {
  if (progress == nullptr) return;
  std::fprintf(progress, "%s\n", s.c_str());
  std::fflush(progress);
}

struct Combo {
  uint32_t threads, depth;
  std::string isa, backend, kv_type;
  uint32_t source = 0;  // encoder-decoders: the source's tokens (the srcN test's, or the tg test's)
  uint32_t beams = 0;   // > 0: the decode test is a beam search of this many beams
  bool restore = false; // the prompt test restores the prompt's saved state (rsN)
  // Speculative decoding's tests: the decode test continues `prompt` (a real text), plain (1) or
  // speculative (2) with `draft` (or prompt lookup when it is null); 0: not one of them.
  int speculative = 0;
  const std::vector<int32_t>* prompt = nullptr;
  Session* draft = nullptr;
};

Result<Backend> ParseBackend(const std::string& b) {
  if (b == "xnnpack") return Backend::kXnnpack;
  if (b == "auto") return Backend::kAuto;
  if (b == "native") return Backend::kNative;
  return Error(Status::kInvalidArgument, "unknown backend '" + b + "' (native, xnnpack or auto)");
}

Result<KvType> ParseKvType(const std::string& t) {
  if (t == "f32") return KvType::kF32;
  if (t == "f16") return KvType::kF16;
  if (t == "int8") return KvType::kI8;
  return Error(Status::kInvalidArgument, "unknown KV cache type '" + t + "' (f32, f16 or int8)");
}

// Per-repetition (start, end) times of one session's timed part, for the makespan of several.
using Spans = std::vector<std::pair<Clock::time_point, Clock::time_point>>;

// One test: a warm-up and `reps` timed runs of prefill (n_prompt > 0) or decode (n_gen > 0).
// With `barrier`, each run starts when every session is ready; `spans` gets the timed parts.
Result<TestResult> RunTest(const Model& model, Session& session, const Combo& combo, uint32_t n_prompt,
                           uint32_t n_gen, const Config& config, Barrier* barrier = nullptr, Spans* spans = nullptr) {
  TestResult r;
  const bool encoder = model.config().family == Family::kEncoderOnly;
  // Encoder-decoders: srcN encodes a source of N tokens (through the first target token's
  // logits); tgN@srcS generates N target tokens after a source of S.
  const bool seq2seq = model.config().family == Family::kEncoderDecoder;
  r.test = encoder                  ? "emb" + std::to_string(n_prompt)
           : seq2seq && n_prompt > 0 ? "src" + std::to_string(n_prompt)
           : n_prompt > 0            ? "pp" + std::to_string(n_prompt)
           : seq2seq                 ? "tg" + std::to_string(n_gen) + "@src" + std::to_string(combo.source)
                                     : "tg" + std::to_string(n_gen);
  if (combo.beams > 0) r.test += "-beam" + std::to_string(combo.beams);
  if (combo.restore) r.test = "rs" + std::to_string(n_prompt);
  if (combo.speculative > 0) {
    r.test += "@prompt";
    if (combo.speculative == 2) {
      r.test += combo.draft != nullptr ? "-draft" + std::to_string(config.draft_tokens)
                                       : "-lookup" + std::to_string(config.lookup_tokens);
    }
  }
  r.n_prompt = n_prompt;
  r.n_gen = n_gen;
  r.depth = combo.depth;
  r.repetitions = config.repetitions;
  r.threads = static_cast<uint32_t>(session.threads());
  // The matmul kernel the layers use: int8, int4 or float (f32, f16) by the first layer's weights.
  const bool int8 = model.matmul_type() == WeightType::kInt8;
  const bool int4 = model.matmul_type() == WeightType::kInt4;
  const KernelTable& k = session.kernels();
  r.isa = IsaName(int8 ? k.qgemm_isa : int4 ? k.q4gemm_isa : k.sgemm_isa);
  r.kernel = int8                                  ? k.qgemm_name
             : int4                                ? k.q4gemm_name
             : session.backend() == Backend::kXnnpack ? "xnn_fully_connected_nc_f32"
             : session.backend() == Backend::kAuto    ? "xnn_fully_connected_nc_f32 (prefill)"
                                                       : k.sgemm_name;
  r.backend = combo.backend;
  r.kv_type = combo.kv_type;
  const uint32_t vocab = model.config().vocab_size;
  // Decode starts from the depth's context, or from one token when the depth is 0 (an
  // encoder-decoder's target: from its start ids, then the depth's tokens).
  const uint32_t start = combo.prompt != nullptr          ? static_cast<uint32_t>(combo.prompt->size())
                         : n_gen > 0 && !seq2seq ? std::max<uint32_t>(combo.depth, 1)
                                                 : combo.depth;
  if (combo.prompt != nullptr) r.depth = start;
  const uint64_t needed = seq2seq ? uint64_t{start} + n_gen + model.config().decoder_start_ids.size()
                                  : uint64_t{start} + n_prompt + n_gen;
  if (seq2seq && combo.source > session.max_source_length()) {
    return Error(Status::kInvalidArgument, r.test + " needs a source of " + std::to_string(combo.source) +
                                               " tokens; the encoder takes at most " +
                                               std::to_string(session.max_source_length()));
  }
  if (needed > session.context_length()) {
    const uint64_t room = session.context_length() > start ? session.context_length() - start : 0;
    return Error(Status::kInvalidArgument, r.test + " at depth " + std::to_string(combo.depth) + " needs " +
                                               std::to_string(needed) + " positions; the context holds " +
                                               std::to_string(session.context_length()) + ", so at this depth a " +
                                               (n_prompt > 0 ? "prompt (-p)" : "generation (-n)") + " of at most " +
                                               std::to_string(room) + " tokens fits");
  }
  if (n_gen > 0) {
    // Decode step i attends over start + i + 1 positions: K and V rows of every layer (of its
    // window, for a sliding-window layer).
    const ModelConfig& c = model.config();
    const double positions = start + (n_gen + 1) / 2.0;
    double rows = 0.0;
    for (const LayerConfig& l : c.layers) {
      rows += l.sliding_window != 0 ? std::min(positions, static_cast<double>(l.sliding_window)) : positions;
    }
    // int8: a 4-byte scale per head and position beside the head_dim values.
    // A cross-attention layer reads the source's keys and values too.
    for (const LayerConfig& l : c.layers) rows += l.cross_attention ? combo.source : 0;
    const double bytes = session.kv_type() == KvType::kI8 ? 1.0 + 4.0 / c.head_dim : KvTypeBytes(session.kv_type());
    // Beams: each reads its own keys and values (the cross-attention's are shared but read per beam).
    const double per_row = 2.0 * c.kv_dim() * bytes * std::max<uint32_t>(1, combo.beams);
    r.kv_bytes_per_token = static_cast<uint64_t>(per_row * rows);
    double cross_rows = 0.0;
    for (const LayerConfig& l : c.layers) cross_rows += l.cross_attention ? combo.source : 0;
    // The beams share the source's keys and values: a step reads them from memory once.
    r.cross_bytes_per_token = static_cast<uint64_t>(per_row / std::max<uint32_t>(1, combo.beams) * cross_rows);
  }
  const uint32_t source_vocab = seq2seq ? model.config().encoder->vocab_size : 0;
  const std::vector<int32_t> source = Tokens(combo.source, std::max<uint32_t>(source_vocab, 1), 4);
  const std::vector<int32_t> context = combo.prompt != nullptr ? *combo.prompt : Tokens(start, vocab, 1);
  const std::vector<int32_t> prompt = Tokens(n_prompt, vocab, 2);
  // Encoders: embed_batch texts of n_prompt tokens per call, pooled as the model says (or CLS).
  const size_t batch = config.embed_batch;
  const std::vector<int32_t> texts = encoder ? Tokens(batch * n_prompt, vocab, 3) : std::vector<int32_t>();
  const std::vector<size_t> lengths(encoder ? batch : 0, n_prompt);
  std::vector<float> embeddings(encoder ? batch * model.config().dim : 0);
  EncodeInput encode_in;
  encode_in.tokens = texts.data();
  encode_in.lengths = lengths.data();
  encode_in.n_texts = batch;
  EncodeOutput encode_out;
  encode_out.embeddings = embeddings.data();
  encode_out.pooling = model.config().pooling == Pooling::kNone ? Pooling::kCls : Pooling::kNone;
  Sampler sampler;
  EF_RETURN_IF_ERROR(sampler.Init(vocab, SamplerParams{}));  // greedy
  GenerateOptions gen;
  gen.max_tokens = n_gen + 1;  // n_gen forward passes: the last sampled token is not fed
  gen.stop_at_end_of_text = false;
  if (combo.speculative == 2) {
    gen.draft = combo.draft;
    gen.draft_tokens = config.draft_tokens;
    gen.lookup_tokens = combo.draft != nullptr ? 0 : config.lookup_tokens;
  }
  const DraftStats stats_before = session.draft_stats();
  std::vector<double> seconds, ttft;
  // rsN: the state after the prompt (and its depth), saved once; each repetition restores it.
  const std::string state_path = "/tmp/edgeformer-bench-" + std::to_string(getpid()) + ".state";
  struct Remove {
    const std::string& path;
    bool active;
    ~Remove() {
      if (active) std::remove(path.c_str());
    }
  } remove_state{state_path, combo.restore};
  if (combo.restore) {
    session.Reset();
    if (start > 0) EF_RETURN_IF_ERROR(session.Prefill(context.data(), context.size()));
    EF_RETURN_IF_ERROR(session.Prefill(prompt.data(), prompt.size()));
    EF_RETURN_IF_ERROR(session.SaveState(state_path));
  }
  Profile profile;
  ResetPeakRss();
  for (uint32_t rep = 0; rep <= config.repetitions; ++rep) {
    const bool timed = rep > 0;
    session.Reset();
    session.SetProfile(nullptr);
    if (seq2seq && n_prompt == 0) EF_RETURN_IF_ERROR(session.EncodeSource(source.data(), source.size(), nullptr));
    if (start > 0 && !encoder && n_prompt == 0) EF_RETURN_IF_ERROR(session.Prefill(context.data(), context.size()));
    if (start > 0 && !encoder && !seq2seq && n_prompt > 0) {
      EF_RETURN_IF_ERROR(session.Prefill(context.data(), context.size()));
    }
    if (timed && config.profile) session.SetProfile(&profile);
    if (barrier != nullptr) barrier->Wait();
    const auto t0 = Clock::now();
    if (encoder) {
      EF_RETURN_IF_ERROR(session.Encode(encode_in, encode_out));
      if (timed) seconds.push_back(Since(t0));
    } else if (seq2seq && n_prompt > 0) {
      EF_RETURN_IF_ERROR(session.EncodeSource(source.data(), source.size(), nullptr));
      const double encoded = Since(t0);
      (void)sampler.Sample(session.logits());
      if (timed) {
        seconds.push_back(encoded);
        ttft.push_back(Since(t0));
      }
    } else if (combo.restore) {
      EF_RETURN_IF_ERROR(session.LoadState(state_path));
      const double restored = Since(t0);
      (void)sampler.Sample(session.logits());
      if (timed) {
        seconds.push_back(restored);
        ttft.push_back(Since(t0));
      }
    } else if (n_prompt > 0) {
      EF_RETURN_IF_ERROR(session.Prefill(prompt.data(), prompt.size()));
      const double prefill = Since(t0);
      (void)sampler.Sample(session.logits());
      if (timed) {
        seconds.push_back(prefill);
        ttft.push_back(Since(t0));
      }
    } else if (combo.beams > 0) {
      // Beam search of n_gen steps (early stopping never; a search that ends sooner counts
      // the steps it ran): tokens/s per output token.
      BeamOptions beam;
      beam.beams = combo.beams;
      beam.max_tokens = n_gen;
      beam.early_stopping = EarlyStopping::kNever;
      EF_RETURN_IF_ERROR(session.GenerateBeam(beam));
      if (timed) {
        seconds.push_back(Since(t0) * n_gen / std::max<uint32_t>(1, session.beam_results().length()));
      }
    } else {
      size_t n = 0;
      StopReason reason;
      EF_RETURN_IF_ERROR(session.Generate(sampler, gen, nullptr, nullptr, &n, &reason));
      if (timed) seconds.push_back(Since(t0));
    }
    if (timed && spans != nullptr) spans->emplace_back(t0, Clock::now());
  }
  session.SetProfile(nullptr);
  if (combo.speculative == 2) {  // over every repetition, the warm-up's too
    const DraftStats& after = session.draft_stats();
    const double proposed = static_cast<double>(after.proposed - stats_before.proposed);
    const double accepted = static_cast<double>(after.accepted - stats_before.accepted);
    const double passes = static_cast<double>(after.passes - stats_before.passes);
    r.acceptance = proposed > 0 ? accepted / proposed : 0.0;
    r.tokens_per_pass = passes > 0 ? 1.0 + accepted / passes : 1.0;
  }
  r.peak_rss_bytes = PeakRss();
  r.seconds = Summarize(seconds);
  std::vector<double> rates;
  std::vector<double> sentences;
  for (double s : seconds) {
    rates.push_back((encoder ? batch * n_prompt : n_prompt > 0 ? n_prompt : n_gen) / s);
    if (encoder) sentences.push_back(batch / s);
  }
  r.tokens_per_s = Summarize(rates);
  r.sentences_per_s = Summarize(sentences);
  if (!ttft.empty()) r.ttft_ms = Summarize(ttft).mean * 1e3;
  r.expected_bytes = model.file_size() + session.allocated_bytes();
  r.weight_bytes_per_token = model.weight_bytes();
  r.has_profile = config.profile;
  r.profile = profile;
  r.profiled_runs = config.profile ? config.repetitions : 0;
  r.background_load = config.background_load;
  r.active_threads = static_cast<uint32_t>(session.active_threads());
  return r;
}

// Runs one test in config.sessions sessions at once (one thread each, starting each repetition
// together): the first session's figures, with tokens/s the median of the sessions' medians, and
// wall_seconds the time from the common start to the last session's end, per repetition.
Result<TestResult> RunConcurrent(const Model& model, std::vector<std::unique_ptr<Session>>& sessions,
                                 const Combo& combo, uint32_t n_prompt, uint32_t n_gen, const Config& config) {
  const size_t n = sessions.size();
  if (n == 1) {
    Spans spans;
    Result<TestResult> r = RunTest(model, *sessions[0], combo, n_prompt, n_gen, config, nullptr, &spans);
    if (!r.ok()) return r;
    std::vector<double> wall;
    for (const auto& [a, b] : spans) wall.push_back(std::chrono::duration<double>(b - a).count());
    r.value().wall_seconds = Summarize(wall);
    return r;
  }
  Barrier barrier(n);
  std::vector<Spans> spans(n);
  std::vector<Result<TestResult>> results(n, Error(Status::kInternal, "not run"));
  {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        results[i] = RunTest(model, *sessions[i], combo, n_prompt, n_gen, config, &barrier, &spans[i]);
      });
    }
    for (std::thread& t : threads) t.join();
  }
  for (const Result<TestResult>& r : results) {
    if (!r.ok()) return r.error();  // a failed session stops its barrier waits short: all failed alike
  }
  TestResult merged = results[0].value();
  std::vector<double> rates, wall;
  for (const Result<TestResult>& r : results) rates.push_back(r.value().tokens_per_s.median);
  merged.tokens_per_s.median = Summarize(rates).median;
  for (uint32_t rep = 0; rep < config.repetitions; ++rep) {
    Clock::time_point first = spans[0][rep].first, last = spans[0][rep].second;
    for (const Spans& s : spans) {
      first = std::min(first, s[rep].first);
      last = std::max(last, s[rep].second);
    }
    wall.push_back(std::chrono::duration<double>(last - first).count());
  }
  merged.wall_seconds = Summarize(wall);
  merged.sessions = static_cast<uint32_t>(n);
  return merged;
}

}  // namespace

Result<Report> Run(const Config& config, std::FILE* progress) {
  Report report;
  report.machine.cpu = CpuDescription();
  report.machine.build_type = EDGEFORMER_BUILD_TYPE;
  if (config.sessions < 1 || config.sessions > 64) {
    return Error(Status::kInvalidArgument, "sessions must be in [1, 64]");
  }
  for (const std::string& name : config.backend) {
    if (Result<Backend> b = ParseBackend(name); !b.ok()) return b.error();
  }
  for (const std::string& name : config.kv_type) {
    if (Result<KvType> t = ParseKvType(name); !t.ok()) return t.error();
  }

  // Load time, per backend (XNNPACK packs its weights when the session is created): the first
  // load in this process, then warm loads (the file in the page cache). Only the first backend's
  // first load can find the file out of the page cache. The model is opened before anything is
  // measured, so a wrong path fails at once.
  auto parse_backend = [](const std::string& b) { return ParseBackend(b).value(); };
  auto load = [&](Backend backend, std::unique_ptr<Model>* out) -> Result<double> {
    const auto t0 = Clock::now();
    Result<std::unique_ptr<Model>> m = Model::Load(config.model_path, LoadOptions{});
    if (!m.ok()) return m.error();
    SessionOptions so;
    so.backend = backend;
    so.huge_pages = !config.no_huge_pages;
    Result<std::unique_ptr<Session>> s = Session::Create(*m.value(), so);
    if (!s.ok()) return s.error();
    const double ms = Since(t0) * 1e3;
    *out = m.take();
    return ms;
  };
  std::unique_ptr<Model> model;
  std::map<std::string, std::pair<double, double>> load_ms;  // backend -> (first, warm mean)
  for (const std::string& backend : config.backend) {
    std::unique_ptr<Model> loaded;
    Result<double> first = load(parse_backend(backend), &loaded);
    if (!first.ok()) return first.error();
    std::vector<double> warm;
    for (uint32_t i = 0; i < config.repetitions; ++i) {
      std::unique_ptr<Model> again;
      Result<double> ms = load(parse_backend(backend), &again);
      if (!ms.ok()) return ms.error();
      warm.push_back(ms.value());
    }
    load_ms[backend] = {first.value(), Summarize(warm).mean};
    if (model == nullptr) model = std::move(loaded);
  }
  if (model == nullptr) return Error(Status::kInvalidArgument, "no backend to run");
  report.model = Describe(*model, config.model_path);
  for (uint32_t t : config.threads) {
    if (report.machine.read_bandwidth_gbps.count(t)) continue;
    Say(progress, "measuring memory read bandwidth with " + std::to_string(t) + " thread(s)...");
    Result<double> bw = MeasureReadBandwidth(t, config.read_buffer_bytes);
    if (!bw.ok()) return bw.error();
    report.machine.read_bandwidth_gbps[t] = bw.value();
  }

  // Tests that do not fit the context: shortened when the sizes are the defaults, else refused
  // (by RunTest) with what fits.
  const uint32_t context = model->config().max_seq_len;
  std::vector<uint32_t> n_prompt = config.n_prompt, n_gen = config.n_gen;
  if (config.fit_to_context) {
    const uint32_t depth = *std::max_element(config.depth.begin(), config.depth.end());
    const uint32_t room = context > depth + 1 ? context - depth - 1 : 0;
    for (uint32_t* v : {&n_prompt[0], &n_gen[0]}) {
      if (*v > room) {
        Say(progress, "the model's context holds " + std::to_string(context) + " tokens: a default test of " +
                          std::to_string(*v) + " tokens runs with " + std::to_string(room));
        *v = room;
      }
    }
    if (std::all_of(n_prompt.begin(), n_prompt.end(), [](uint32_t v) { return v == 0; }) &&
        std::all_of(n_gen.begin(), n_gen.end(), [](uint32_t v) { return v == 0; })) {
      return Error(Status::kInvalidArgument, "the model's context (" + std::to_string(context) +
                                                 " tokens) has no room for a test at depth " + std::to_string(depth));
    }
  }
  // Speculative decoding's tests: the prompt file's tokens (fitting the context with the longest
  // decode test), and the draft model.
  const bool speculate = !config.draft_path.empty() || config.lookup_tokens > 0;
  std::vector<int32_t> spec_prompt;
  std::unique_ptr<Model> draft_model;
  if (speculate) {
    if (model->config().family != Family::kDecoderOnly) {
      return Error(Status::kInvalidArgument, "--draft and --lookup are for decoders");
    }
    if (config.prompt_file.empty()) {
      return Error(Status::kInvalidArgument, "--draft and --lookup need --prompt-file: a real text to continue");
    }
    std::ifstream in(config.prompt_file, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) return Error(Status::kIoError, "cannot read " + config.prompt_file);
    EF_RETURN_IF_ERROR(model->tokenizer().Encode(text, true, false, &spec_prompt));
    const uint32_t longest = *std::max_element(n_gen.begin(), n_gen.end());
    if (spec_prompt.empty() || context < longest + 2) {
      return Error(Status::kInvalidArgument, "--prompt-file: no tokens, or no room for them in the context");
    }
    if (spec_prompt.size() > context - longest - 1) spec_prompt.resize(context - longest - 1);
    if (!config.draft_path.empty()) {
      Result<std::unique_ptr<Model>> d = Model::Load(config.draft_path, LoadOptions{});
      if (!d.ok()) return d.error();
      draft_model = d.take();
    }
  }
  std::unique_ptr<BackgroundLoad> background;
  if (config.background_load > 0) {
    Say(progress, "running " + std::to_string(config.background_load) + " busy background thread(s) beside the tests");
    background = std::make_unique<BackgroundLoad>(config.background_load);
  }

  for (const std::string& isa_name : config.isa) {
    SessionOptions so;
    if (isa_name != "auto") {
      Result<Isa> isa = IsaByName(isa_name);
      if (!isa.ok()) return isa.error();
      if (!CpuSupports(isa.value())) {
        return Error(Status::kUnsupported, "this CPU cannot run " + isa_name + " kernels");
      }
      so.max_isa = isa.value();
      so.use_max_isa = true;
    }
    for (const std::string& backend : config.backend) {
      for (const std::string& kv_type : config.kv_type) {
      for (uint32_t threads : config.threads) {
        so.n_threads = threads;
        so.max_batch = 512;
        so.max_beams = std::max<uint32_t>(1, config.beams);
        so.huge_pages = !config.no_huge_pages;
        so.max_beam_tokens = std::max<uint32_t>(1, *std::max_element(config.n_gen.begin(), config.n_gen.end()));
        so.kv_type = ParseKvType(kv_type).value();
        so.backend = parse_backend(backend);
        so.max_draft_tokens = !speculate ? 0 : config.draft_path.empty() ? config.lookup_tokens
                                              : config.draft_tokens > 0   ? config.draft_tokens
                                                                          : 16;
        std::unique_ptr<Session> draft;
        if (draft_model != nullptr) {
          SessionOptions dso;
          dso.n_threads = threads;
          dso.kv_type = so.kv_type;
          dso.huge_pages = so.huge_pages;
          dso.max_isa = so.max_isa;
          dso.use_max_isa = so.use_max_isa;
          dso.context_length = std::min(context, draft_model->config().max_seq_len);
          Result<std::unique_ptr<Session>> d = Session::Create(*draft_model, dso);
          if (!d.ok()) return d.error();
          draft = d.take();
        }
        std::vector<std::unique_ptr<Session>> sessions;
        for (uint32_t i = 0; i < config.sessions; ++i) {
          Result<std::unique_ptr<Session>> session = Session::Create(*model, so);
          if (!session.ok()) return session.error();
          sessions.push_back(session.take());
        }
        for (uint32_t depth : config.depth) {
          Combo combo{threads, depth, isa_name, backend, kv_type};
          auto run = [&](uint32_t p, uint32_t n) -> Error {
            Say(progress, std::string("running ") + (p ? "pp" + std::to_string(p) : "tg" + std::to_string(n)) +
                              " depth " + std::to_string(depth) + ", " + std::to_string(threads) + " thread(s), isa " +
                              isa_name + ", kv " + kv_type +
                              (config.sessions > 1 ? ", " + std::to_string(config.sessions) + " sessions at once" : "") +
                              "...");
            Result<TestResult> r = RunConcurrent(*model, sessions, combo, p, n, config);
            if (!r.ok()) return r.error();
            TestResult& t = r.value();
            t.load_ms = load_ms[backend].first;
            t.load_warm_ms = load_ms[backend].second;
            t.read_bandwidth_gbps = report.machine.read_bandwidth_gbps[threads];
            if (n > 0) {
              t.achieved_bandwidth_gbps =
                  static_cast<double>(t.weight_bytes_per_token + t.kv_bytes_per_token) * t.tokens_per_s.mean / 1e9;
              t.bandwidth_pct = 100.0 * t.achieved_bandwidth_gbps / t.read_bandwidth_gbps;
            }
            if (t.acceptance >= 0) t.bandwidth_pct = -1.0;  // a pass reads the weights once for several tokens
            report.tests.push_back(r.take());
            return Error::Ok();
          };
          const bool seq2seq = model->config().family == Family::kEncoderDecoder;
          for (uint32_t p : n_prompt) {
            combo.source = seq2seq ? p : 0;
            if (p > 0) EF_RETURN_IF_ERROR(run(p, 0));
            if (p > 0 && config.restore && model->config().family == Family::kDecoderOnly) {
              combo.restore = true;
              const Error err = run(p, 0);
              combo.restore = false;
              EF_RETURN_IF_ERROR(err);
            }
          }
          for (uint32_t n : n_gen) {
            // An encoder does not generate: its tests are embN (the -p lengths). An
            // encoder-decoder generates after a source of each -p length.
            if (n == 0 || model->config().family == Family::kEncoderOnly) continue;
            for (const uint32_t beams : {0u, config.beams}) {
              combo.beams = beams;
              if (!seq2seq) EF_RETURN_IF_ERROR(run(0, n));
              if (speculate && beams == 0) {  // after the prompt file: plain, then speculative
                combo.prompt = &spec_prompt;
                combo.draft = draft.get();
                Error err = Error::Ok();
                for (int mode : {1, 2}) {
                  combo.speculative = mode;
                  if (err.ok()) err = run(0, n);
                }
                combo.speculative = 0;
                combo.prompt = nullptr;
                EF_RETURN_IF_ERROR(err);
              }
              for (uint32_t p : n_prompt) {
                combo.source = p;
                if (seq2seq && p > 0) EF_RETURN_IF_ERROR(run(0, n));
              }
              if (config.beams == 0) break;
            }
            combo.beams = 0;
          }
        }
      }
      }
    }
  }
  return report;
}

}  // namespace bench
}  // namespace edgeformer
