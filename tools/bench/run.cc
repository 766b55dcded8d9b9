#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "model/model.h"
#include "model/sampler.h"
#include "model/session.h"
#include "platforms/isa.h"
#include "tools/bench/bench.h"

#ifndef EDGEFORMER_BUILD_TYPE
#define EDGEFORMER_BUILD_TYPE "unknown"
#endif

namespace edgeformer {
namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

Stat Summarize(const std::vector<double>& v) {
  Stat s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0.0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}

// Peak resident memory of this process (VmHWM), and a reset of it (Linux clear_refs 5).
uint64_t PeakRss() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

void ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

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
  const uint64_t per_layer = uint64_t{c.q_dim()} * c.dim * 2 + uint64_t{c.kv_dim()} * c.dim * 2 +
                             uint64_t{c.hidden_dim} * c.dim * 3 + 2 * c.dim;
  info.params = per_layer * c.n_layers + uint64_t{c.vocab_size} * c.dim * (c.tied_embeddings ? 1 : 2) + c.dim;
  info.quant = "";
  for (uint32_t l = 0; l < c.n_layers; ++l) {
    for (const Weight* w : {&m.layer(l).wq, &m.layer(l).wk, &m.layer(l).wv, &m.layer(l).wo, &m.layer(l).w_gate,
                            &m.layer(l).w_down, &m.layer(l).w_up}) {
      if (!w->present()) continue;
      const std::string type = WeightTypeName(w->type);
      info.quant = info.quant.empty() || info.quant == type ? type : "mixed";
    }
  }
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
};

// One test: a warm-up and `reps` timed runs of prefill (n_prompt > 0) or decode (n_gen > 0).
Result<TestResult> RunTest(const Model& model, Session& session, const Combo& combo, uint32_t n_prompt,
                           uint32_t n_gen, const Config& config) {
  TestResult r;
  r.test = n_prompt > 0 ? "pp" + std::to_string(n_prompt) : "tg" + std::to_string(n_gen);
  r.n_prompt = n_prompt;
  r.n_gen = n_gen;
  r.depth = combo.depth;
  r.repetitions = config.repetitions;
  r.threads = static_cast<uint32_t>(session.threads());
  // The matmul kernel the layers use: int8 or float (f32, f16) by the model's weights.
  const bool int8 = model.matmul_type() == WeightType::kInt8;
  const KernelTable& k = session.kernels();
  r.isa = IsaName(int8 ? k.qgemm_isa : k.sgemm_isa);
  r.kernel = int8                                  ? k.qgemm_name
             : session.backend() == Backend::kXnnpack ? "xnn_fully_connected_nc_f32"
             : session.backend() == Backend::kAuto    ? "xnn_fully_connected_nc_f32 (prefill)"
                                                       : k.sgemm_name;
  r.backend = combo.backend;
  r.kv_type = combo.kv_type;
  const uint32_t vocab = model.config().vocab_size;
  // Decode starts from the depth's context, or from one token when the depth is 0.
  const uint32_t start = n_gen > 0 ? std::max<uint32_t>(combo.depth, 1) : combo.depth;
  const uint64_t needed = uint64_t{start} + n_prompt + n_gen;
  if (needed > session.context_length()) {
    return Error(Status::kInvalidArgument, r.test + " at depth " + std::to_string(combo.depth) + " needs " +
                                               std::to_string(needed) + " positions; the context holds " +
                                               std::to_string(session.context_length()));
  }
  if (n_gen > 0) {
    // Decode step i attends over start + i + 1 positions: K and V rows of every layer.
    const ModelConfig& c = model.config();
    const double positions = start + (n_gen + 1) / 2.0;
    r.kv_bytes_per_token = static_cast<uint64_t>(2.0 * c.n_layers * c.kv_dim() * KvTypeBytes(session.kv_type()) *
                                                 positions);
  }
  const std::vector<int32_t> context = Tokens(start, vocab, 1), prompt = Tokens(n_prompt, vocab, 2);
  Sampler sampler;
  EF_RETURN_IF_ERROR(sampler.Init(vocab, SamplerParams{}));  // greedy
  GenerateOptions gen;
  gen.max_tokens = n_gen + 1;  // n_gen forward passes: the last sampled token is not fed
  gen.stop_at_end_of_text = false;
  std::vector<double> seconds, ttft;
  Profile profile;
  ResetPeakRss();
  for (uint32_t rep = 0; rep <= config.repetitions; ++rep) {
    const bool timed = rep > 0;
    session.Reset();
    session.SetProfile(nullptr);
    if (start > 0) EF_RETURN_IF_ERROR(session.Prefill(context.data(), context.size()));
    if (timed && config.profile) session.SetProfile(&profile);
    const auto t0 = Clock::now();
    if (n_prompt > 0) {
      EF_RETURN_IF_ERROR(session.Prefill(prompt.data(), prompt.size()));
      const double prefill = Since(t0);
      (void)sampler.Sample(session.logits());
      if (timed) {
        seconds.push_back(prefill);
        ttft.push_back(Since(t0));
      }
    } else {
      size_t n = 0;
      StopReason reason;
      EF_RETURN_IF_ERROR(session.Generate(sampler, gen, nullptr, nullptr, &n, &reason));
      if (timed) seconds.push_back(Since(t0));
    }
  }
  session.SetProfile(nullptr);
  r.peak_rss_bytes = PeakRss();
  r.seconds = Summarize(seconds);
  std::vector<double> rates;
  for (double s : seconds) rates.push_back((n_prompt > 0 ? n_prompt : n_gen) / s);
  r.tokens_per_s = Summarize(rates);
  if (!ttft.empty()) r.ttft_ms = Summarize(ttft).mean * 1e3;
  r.expected_bytes = model.file_size() + session.allocated_bytes();
  r.weight_bytes_per_token = model.weight_bytes();
  r.has_profile = config.profile;
  r.profile = profile;
  r.profiled_runs = config.profile ? config.repetitions : 0;
  return r;
}

}  // namespace

Result<Report> Run(const Config& config, std::FILE* progress) {
  Report report;
  report.machine.cpu = CpuDescription();
  report.machine.build_type = EDGEFORMER_BUILD_TYPE;
  for (uint32_t t : config.threads) {
    if (report.machine.read_bandwidth_gbps.count(t)) continue;
    Say(progress, "measuring memory read bandwidth with " + std::to_string(t) + " thread(s)...");
    Result<double> bw = MeasureReadBandwidth(t, config.read_buffer_bytes);
    if (!bw.ok()) return bw.error();
    report.machine.read_bandwidth_gbps[t] = bw.value();
  }

  // Load time, per backend (XNNPACK packs its weights when the session is created): the first
  // load in this process, then warm loads (the file in the page cache). Only the first backend's
  // first load can find the file out of the page cache.
  auto parse_backend = [](const std::string& b) {
    return b == "xnnpack" ? Backend::kXnnpack : b == "auto" ? Backend::kAuto : Backend::kNative;
  };
  auto load = [&](Backend backend, std::unique_ptr<Model>* out) -> Result<double> {
    const auto t0 = Clock::now();
    Result<std::unique_ptr<Model>> m = Model::Load(config.model_path, LoadOptions{});
    if (!m.ok()) return m.error();
    SessionOptions so;
    so.backend = backend;
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

  for (const std::string& isa_name : config.isa) {
    SessionOptions so;
    if (isa_name != "auto") {
      Result<Isa> isa = ParseIsa(isa_name);
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
        so.kv_type = kv_type == "f16" ? KvType::kF16 : KvType::kF32;
        so.backend = parse_backend(backend);
        Result<std::unique_ptr<Session>> session = Session::Create(*model, so);
        if (!session.ok()) return session.error();
        for (uint32_t depth : config.depth) {
          const Combo combo{threads, depth, isa_name, backend, kv_type};
          auto run = [&](uint32_t p, uint32_t n) -> Error {
            Say(progress, std::string("running ") + (p ? "pp" + std::to_string(p) : "tg" + std::to_string(n)) +
                              " depth " + std::to_string(depth) + ", " + std::to_string(threads) + " thread(s), isa " +
                              isa_name + ", kv " + kv_type + "...");
            Result<TestResult> r = RunTest(*model, *session.value(), combo, p, n, config);
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
            report.tests.push_back(r.take());
            return Error::Ok();
          };
          for (uint32_t p : config.n_prompt) {
            if (p > 0) EF_RETURN_IF_ERROR(run(p, 0));
          }
          for (uint32_t n : config.n_gen) {
            if (n > 0) EF_RETURN_IF_ERROR(run(0, n));
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
