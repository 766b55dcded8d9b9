#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "model/model.h"
#include "model/isa_option.h"
#include "model/session.h"
#include "model/tensor_roles.h"
#include "platforms/isa.h"
#include "tools/bench/bench.h"
#include "tools/bench/measure.h"
#include "tools/bench/run_test.h"

#ifndef EDGEFORMER_BUILD_TYPE
#define EDGEFORMER_BUILD_TYPE "unknown"
#endif

namespace edgeformer {
namespace bench {
namespace {

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
  for (uint32_t k : config.verify) {
    if (k < 1 || k > 63) return Error(Status::kInvalidArgument, "--verify: proposals per pass must be in [1, 63]");
    if (model->config().family != Family::kDecoderOnly) {
      return Error(Status::kInvalidArgument, "--verify is for decoders");
    }
  }
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
            const std::string name = combo.verify > 0 ? "pv" + std::to_string(combo.verify)
                                     : p > 0          ? "pp" + std::to_string(p)
                                                      : "tg" + std::to_string(n);
            Say(progress, "running " + name +
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
          for (uint32_t k : config.verify) {
            combo.verify = k;
            const Error err = run(k + 1, 0);
            combo.verify = 0;
            EF_RETURN_IF_ERROR(err);
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
