#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>

#include "tools/bench/bench.h"

namespace edgeformer {
namespace bench {
namespace {

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string MiB(uint64_t bytes) { return Fixed(static_cast<double>(bytes) / (1 << 20), 1); }

nlohmann::json ProfileJson(const TestResult& t) {
  nlohmann::json phases = nlohmann::json::object();
  for (int p = 0; p < Profile::kPhases; ++p) {
    nlohmann::json ops = nlohmann::json::object();
    for (int k = 0; k < Profile::kKinds; ++k) {
      if (t.profile.calls[p][k] == 0) continue;
      ops[OpKindName(static_cast<OpKind>(k))] = t.profile.seconds[p][k] * 1e3 / t.profiled_runs;
    }
    if (!ops.empty()) phases[PhaseName(static_cast<Phase>(p))] = ops;
  }
  return phases;
}

nlohmann::json TestJson(const Report& r, const TestResult& t) {
  nlohmann::json j;
  j["test"] = t.test;
  j["n_prompt"] = t.n_prompt;
  j["n_gen"] = t.n_gen;
  j["depth"] = t.depth;
  j["threads"] = t.threads;
  j["isa"] = t.isa;
  j["kernel"] = t.kernel;
  j["backend"] = t.backend;
  j["kv_type"] = t.kv_type;
  j["quant"] = r.model.quant;
  j["weights"] = r.model.weights;
  j["tokens_per_s_median"] = t.tokens_per_s.median;
  j["sentences_per_s_median"] = t.sentences_per_s.median;
  j["tokens_per_s_mean"] = t.tokens_per_s.mean;
  j["tokens_per_s_std"] = t.tokens_per_s.std;
  j["seconds_mean"] = t.seconds.mean;
  j["seconds_std"] = t.seconds.std;
  j["wall_seconds_median"] = t.wall_seconds.median;
  j["sessions"] = t.sessions;
  j["background_load"] = t.background_load;
  j["active_threads"] = t.active_threads;
  j["load_ms"] = t.load_ms;
  j["load_warm_ms"] = t.load_warm_ms;
  j["ttft_ms"] = t.ttft_ms >= 0 ? nlohmann::json(t.ttft_ms) : nlohmann::json(nullptr);
  j["peak_rss_bytes"] = t.peak_rss_bytes;
  j["expected_bytes"] = t.expected_bytes;
  j["weight_bytes_per_token"] = t.weight_bytes_per_token;
  j["kv_bytes_per_token"] = t.kv_bytes_per_token;
  j["cross_bytes_per_token"] = t.cross_bytes_per_token;
  j["read_bandwidth_gbps"] = t.read_bandwidth_gbps;
  j["achieved_bandwidth_gbps"] = t.bandwidth_pct >= 0 ? nlohmann::json(t.achieved_bandwidth_gbps) : nlohmann::json(nullptr);
  j["bandwidth_pct"] = t.bandwidth_pct >= 0 ? nlohmann::json(t.bandwidth_pct) : nlohmann::json(nullptr);
  j["acceptance"] = t.acceptance >= 0 ? nlohmann::json(t.acceptance) : nlohmann::json(nullptr);
  j["tokens_per_pass"] = t.tokens_per_pass >= 0 ? nlohmann::json(t.tokens_per_pass) : nlohmann::json(nullptr);
  j["pass_vs_step"] = t.pass_vs_step >= 0 ? nlohmann::json(t.pass_vs_step) : nlohmann::json(nullptr);
  j["step_seconds_median"] = t.pass_vs_step >= 0 ? nlohmann::json(t.step_seconds.median) : nlohmann::json(nullptr);
  j["repetitions"] = t.repetitions;
  j["cpu"] = r.machine.cpu;
  j["build_type"] = r.machine.build_type;
  j["model"] = r.model.path;
  j["model_params"] = r.model.params;
  j["model_file_bytes"] = r.model.file_bytes;
  j["model_shape"] = {{"dim", r.model.dim},           {"hidden_dim", r.model.hidden_dim}, {"n_layers", r.model.n_layers},
                      {"n_heads", r.model.n_heads},   {"n_kv_heads", r.model.n_kv_heads}, {"vocab", r.model.vocab},
                      {"context", r.model.context}};
  if (t.has_profile) j["profile_ms_per_run"] = ProfileJson(t);
  return j;
}

// The columns of the CSV output, in order: the scalar fields of the JSON lines.
const char* const kCsvColumns[] = {
    "test",          "n_prompt",        "n_gen",          "depth",          "threads",
    "isa",           "kernel",          "backend",        "kv_type",        "quant",          "weights",        "tokens_per_s_median", "sentences_per_s_median",
    "tokens_per_s_mean", "tokens_per_s_std", "seconds_mean", "seconds_std", "wall_seconds_median", "sessions",
    "background_load", "active_threads", "load_ms",        "load_warm_ms",
    "ttft_ms",       "peak_rss_bytes",  "expected_bytes", "weight_bytes_per_token", "kv_bytes_per_token", "cross_bytes_per_token", "read_bandwidth_gbps",
    "achieved_bandwidth_gbps", "bandwidth_pct", "acceptance", "tokens_per_pass", "pass_vs_step", "step_seconds_median", "repetitions", "cpu", "build_type", "model", "model_params", "model_file_bytes"};

std::string CsvCell(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  }
  return v.dump();
}

}  // namespace

std::string FormatJsonLines(const Report& r) {
  std::string out;
  for (const TestResult& t : r.tests) out += TestJson(r, t).dump() + "\n";
  return out;
}

std::string FormatCsv(const Report& r) {
  std::string out;
  for (const char* c : kCsvColumns) out += std::string(out.empty() ? "" : ",") + c;
  out += "\n";
  for (const TestResult& t : r.tests) {
    const nlohmann::json j = TestJson(r, t);
    std::string line;
    for (const char* c : kCsvColumns) line += (line.empty() && c == kCsvColumns[0] ? "" : ",") + CsvCell(j[c]);
    out += line + "\n";
  }
  return out;
}

std::string FormatMarkdown(const Report& r) {
  std::ostringstream o;
  const ModelInfo& m = r.model;
  o << "model: " << m.path << " (" << Fixed(static_cast<double>(m.params) / 1e6, 1) << "M params, " << m.weights
    << ", dim " << m.dim << ", hidden " << m.hidden_dim << ", " << m.n_layers << " layers, " << m.n_heads << "/"
    << m.n_kv_heads << " heads, vocab " << m.vocab << ", context " << m.context << ", file " << MiB(m.file_bytes)
    << " MiB, " << MiB(m.weight_bytes_per_token) << " MiB of weights read per token)\n";
  o << "machine: " << r.machine.cpu << ", build " << r.machine.build_type << ", memory read bandwidth";
  for (const auto& [threads, gbps] : r.machine.read_bandwidth_gbps) {
    o << " " << Fixed(gbps, 1) << " GB/s (" << threads << " thread" << (threads > 1 ? "s" : "") << ")";
  }
  o << "\n\n";
  bool loaded = false;
  for (const TestResult& t : r.tests) loaded = loaded || t.sessions > 1 || t.background_load > 0;
  o << "| test | depth | threads | isa | backend | kv | tokens/s median (± std) | ttft ms | load ms (first / warm) | "
       "peak RSS MiB | expected MiB | weight+KV GB/s | % of read BW |"
    << (loaded ? " sessions | busy threads | wall s | active threads |" : "") << "\n";
  o << "| --- | ---: | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    << (loaded ? " ---: | ---: | ---: | ---: |" : "") << "\n";
  for (const TestResult& t : r.tests) {
    o << "| " << t.test << " | " << t.depth << " | " << t.threads << " | " << t.isa << " | " << t.backend << " | " << t.kv_type << " | "
      << Fixed(t.tokens_per_s.median, 2) << " ± " << Fixed(t.tokens_per_s.std, 2)
      << (t.test.rfind("emb", 0) == 0 ? " (" + Fixed(t.sentences_per_s.median, 1) + " texts/s)" : "") << " | "
      << (t.ttft_ms >= 0 ? Fixed(t.ttft_ms, 1) : "-") << " | " << Fixed(t.load_ms, 1) << " / "
      << Fixed(t.load_warm_ms, 1) << " | " << MiB(t.peak_rss_bytes) << " | " << MiB(t.expected_bytes) << " | "
      << (t.bandwidth_pct >= 0 ? Fixed(t.achieved_bandwidth_gbps, 2) : "-") << " | "
      << (t.bandwidth_pct >= 0 ? Fixed(t.bandwidth_pct, 1) : "-") << " |";
    if (loaded) {
      o << " " << t.sessions << " | " << t.background_load << " | " << Fixed(t.wall_seconds.median, 3) << " | "
        << t.active_threads << " |";
    }
    o << "\n";
  }
  for (const TestResult& t : r.tests) {
    if (t.acceptance < 0) continue;
    o << "\n" << t.test << ": " << Fixed(100.0 * t.acceptance, 1) << "% of the proposed tokens accepted, "
      << Fixed(t.tokens_per_pass, 2) << " tokens per verification pass\n";
  }
  for (const TestResult& t : r.tests) {
    if (t.pass_vs_step < 0) continue;
    o << "\n" << t.test << ": a pass of " << t.n_prompt << " rows (every row's logits) " << Fixed(t.seconds.median * 1e3, 2)
      << " ms, a one-row step " << Fixed(t.step_seconds.median * 1e3, 2) << " ms (medians): the pass costs "
      << Fixed(t.pass_vs_step, 2) << "x a step (median of the repetitions' ratios)\n";
  }
  bool any_profile = false;
  for (const TestResult& t : r.tests) any_profile = any_profile || t.has_profile;
  if (any_profile) {
    o << "\nper-op time, ms per run (share of the run)\n\n| test | depth | threads | phase |";
    for (int k = 0; k < Profile::kKinds; ++k) o << " " << OpKindName(static_cast<OpKind>(k)) << " |";
    o << "\n| --- | ---: | ---: | --- |";
    for (int k = 0; k < Profile::kKinds; ++k) o << " ---: |";
    o << "\n";
    for (const TestResult& t : r.tests) {
      for (int p = 0; p < Profile::kPhases && t.has_profile; ++p) {
        double total = 0.0;
        for (int k = 0; k < Profile::kKinds; ++k) total += t.profile.seconds[p][k];
        if (total == 0.0) continue;
        o << "| " << t.test << " | " << t.depth << " | " << t.threads << " | " << PhaseName(static_cast<Phase>(p)) << " |";
        for (int k = 0; k < Profile::kKinds; ++k) {
          const double s = t.profile.seconds[p][k];
          o << " " << Fixed(s * 1e3 / t.profiled_runs, 2) << " (" << Fixed(100.0 * s / total, 0) << "%) |";
        }
        o << "\n";
      }
    }
    // Encoder-decoders: cross-attention against the bytes of its cache (a decode step reads the
    // source's keys and values of every layer once per beam).
    for (const TestResult& t : r.tests) {
      const double seconds = t.profile.seconds[static_cast<int>(Phase::kDecode)][static_cast<int>(OpKind::kCrossAttention)];
      if (!t.has_profile || t.cross_bytes_per_token == 0 || seconds == 0.0 || t.n_gen == 0) continue;
      const double per_token = seconds / t.profiled_runs / t.n_gen;
      const double gbps = static_cast<double>(t.cross_bytes_per_token) / per_token / 1e9;
      o << "\n" << t.test << ": cross-attention " << Fixed(per_token * 1e3, 3) << " ms per token for "
        << Fixed(static_cast<double>(t.cross_bytes_per_token) / 1e6, 2) << " MB of its cache: " << Fixed(gbps, 1)
        << " GB/s, " << Fixed(100.0 * gbps / t.read_bandwidth_gbps, 0) << "% of the read bandwidth";
    }
    o << "\n";
  }
  return o.str();
}

}  // namespace bench
}  // namespace edgeformer
