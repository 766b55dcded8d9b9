// edgeformer-bench: the on-device benchmark. Parses its arguments, runs every combination of the
// listed prompt lengths, generation lengths, thread counts, depths and ISAs on one model, and
// formats the results as a markdown table, CSV or JSON lines (schema: docs/bench.md).
//
// A library so that tests can drive each part: argument parsing, the runs and the formats.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/profile.h"
#include "core/status.h"

namespace edgeformer {
namespace bench {

struct Config {
  std::string model_path;
  std::vector<uint32_t> n_prompt = {512};
  std::vector<uint32_t> n_gen = {128};
  std::vector<uint32_t> threads = {1};
  std::vector<uint32_t> depth = {0};
  std::vector<std::string> isa = {"auto"};
  std::vector<std::string> backend = {"auto"};  // float matmuls: auto, native, xnnpack
  std::vector<std::string> kv_type = {"f32"};  // KV cache storage: f32, f16
  uint32_t repetitions = 5;
  uint32_t warmups = 1;  // untimed runs before them
  std::string output = "md";  // md, csv or json
  bool profile = false;
  bool no_huge_pages = false;    // sessions with huge_pages = 0
  uint64_t read_buffer_bytes = 0;  // bandwidth test buffer; 0: several times the last-level cache
  uint32_t background_load = 0;  // busy threads running beside every test (a loaded phone)
  uint32_t embed_batch = 8;      // encoders: texts of -p tokens embedded per call (the embN tests)
  uint32_t sessions = 1;         // sessions running each test at once, each on its own thread
  uint32_t beams = 0;            // > 0: each decode test also as a beam search of this many beams
  // Speculative decoding (decoders, greedy): with a draft model (draft_path) or prompt lookup
  // (lookup_tokens > 0), each tgN test runs after the tokens of prompt_file (a real text: random
  // tokens accept nothing) twice, plain (tgN@prompt) and speculative (tgN@prompt-draftK or
  // -lookupN), with the acceptance and tokens per verification pass.
  std::string draft_path;
  uint32_t draft_tokens = 0;  // 0: adaptive
  uint32_t lookup_tokens = 0;
  std::string prompt_file;
  // Verification passes (decoders): each K > 0 runs as pvK: a pass of K + 1 rows with every row's
  // logits (what verifying K proposals costs), each repetition paired with a one-row step from
  // the same context; reported as the pass's time and its ratio to the step's.
  std::vector<uint32_t> verify;
  bool restore = false;          // each ppN test of a decoder also as rsN: its state restored from a
                                 // session state file (Session::LoadState) instead of prefilled
  // The -p/-n/-d values are the defaults, not the user's: tests that do not fit a small context
  // are shortened to fit (and say so) instead of refused.
  bool fit_to_context = false;
};

// Parses argv into `config`. Returns 0 to go on; otherwise the exit code, having printed help (0
// is never returned for --help: it returns -1 then) or an error to `err`.
int ParseArgs(int argc, const char* const* argv, Config* config, std::FILE* out, std::FILE* err);

struct Machine {
  std::string cpu;
  std::string build_type;
  std::map<uint32_t, double> read_bandwidth_gbps;  // by thread count
};

struct ModelInfo {
  std::string path;
  std::string quant;  // "int8", "int4", "f16", "f32" or "mixed": the layers' matrices
  std::string weights;  // every class's types (edgeformer_model_weights)
  uint64_t params = 0;
  uint64_t file_bytes = 0;
  uint64_t weight_bytes_per_token = 0;
  uint32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab = 0, context = 0;
};

struct Stat {
  double mean = 0.0;
  double std = 0.0;
  double median = 0.0;
};

struct TestResult {
  std::string test;  // pp512, tg128; emb128 for an encoder (texts of 128 tokens); rs512 (restored); pv4
  uint32_t n_prompt = 0, n_gen = 0, depth = 0, threads = 0, repetitions = 0;
  uint32_t background_load = 0;  // busy threads beside the test
  uint32_t sessions = 1;         // sessions running the test at once; figures are per session
  Stat wall_seconds;             // per repetition, from the common start to the last session's end
  uint32_t active_threads = 0;   // the sessions' active threads at the end (adaptive pools)
  std::string isa, backend, kernel, kv_type;
  Stat tokens_per_s;
  Stat sentences_per_s;    // embN tests (encoders): texts embedded per second
  Stat seconds;            // per repetition
  double load_ms = 0.0;    // the first load of the model in this process
  double load_warm_ms = 0.0;
  double ttft_ms = -1.0;   // prefill + first token, pp tests; -1 for tg tests
  uint64_t peak_rss_bytes = 0;
  uint64_t expected_bytes = 0;  // model file + session allocations (KV cache, activations)
  uint64_t weight_bytes_per_token = 0;
  uint64_t kv_bytes_per_token = 0;  // tg tests: KV cache bytes attention reads per token (mean)
  uint64_t cross_bytes_per_token = 0;  // tgN@srcS tests: the part of it cross-attention reads
  double read_bandwidth_gbps = 0.0;
  double achieved_bandwidth_gbps = 0.0;  // tg tests: (weight + KV bytes per token) x tokens/s
  double bandwidth_pct = -1.0;           // tg tests: achieved / read bandwidth x 100
  double acceptance = -1.0;       // speculative tests: accepted / proposed tokens; else -1
  double tokens_per_pass = -1.0;  // speculative tests: tokens per verification pass (1 + accepted)
  double pass_vs_step = -1.0;     // pvK tests: median over repetitions of pass time / step time; else -1
  Stat step_seconds;              // pvK tests: the one-row steps paired with the passes
  bool has_profile = false;
  Profile profile;  // summed over the timed repetitions
  uint32_t profiled_runs = 0;
};

struct Report {
  Machine machine;
  ModelInfo model;
  std::vector<TestResult> tests;
};

// Runs the benchmark. Progress goes to `progress` (may be null).
Result<Report> Run(const Config& config, std::FILE* progress);

// Measures the machine's memory read bandwidth with `threads` threads: each streams its share of
// a buffer several times larger than the last-level cache with SIMD loads; the best of a few
// passes, in GB/s (1e9 bytes per second).
// buffer_bytes 0 picks 8 x the last-level cache, within [256 MiB, 2 GiB].
Result<double> MeasureReadBandwidth(uint32_t threads, uint64_t buffer_bytes = 0);

std::string FormatMarkdown(const Report& report);
std::string FormatCsv(const Report& report);
std::string FormatJsonLines(const Report& report);

}  // namespace bench
}  // namespace edgeformer
