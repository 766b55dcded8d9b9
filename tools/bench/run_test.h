// edgeformer-bench's single test: a warm-up and the timed repetitions of one prompt, decode,
// restore, speculative or verification-pass test in one session. Internal to the bench library.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/model.h"
#include "model/session.h"
#include "tools/bench/bench.h"
#include "tools/bench/measure.h"

namespace edgeformer {
namespace bench {

using Clock = std::chrono::steady_clock;

inline double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Combo {
  uint32_t threads, depth;
  std::string isa, backend, kv_type;
  uint32_t source = 0;  // encoder-decoders: the source's tokens (the srcN test's, or the tg test's)
  uint32_t beams = 0;   // > 0: the decode test is a beam search of this many beams
  bool restore = false; // the prompt test restores the prompt's saved state (rsN)
  uint32_t verify = 0;  // > 0: the prompt test is pvK (K = verify, n_prompt = K + 1 rows)
  // Speculative decoding's tests: the decode test continues `prompt` (a real text), plain (1) or
  // speculative (2) with `draft` (or prompt lookup when it is null); 0: not one of them.
  int speculative = 0;
  const std::vector<int32_t>* prompt = nullptr;
  Session* draft = nullptr;
};

// Per-repetition (start, end) times of one session's timed part, for the makespan of several.
using Spans = std::vector<std::pair<Clock::time_point, Clock::time_point>>;


// One test: a warm-up and `reps` timed runs of prefill (n_prompt > 0) or decode (n_gen > 0), or
// of combo's restore, speculative or verification-pass variant. With `barrier`, each run starts
// when every session is ready; `spans` gets the timed parts. Uses the session alone.
Result<TestResult> RunTest(const Model& model, Session& session, const Combo& combo, uint32_t n_prompt,
                           uint32_t n_gen, const Config& config, Barrier* barrier = nullptr, Spans* spans = nullptr);

}  // namespace bench
}  // namespace edgeformer
