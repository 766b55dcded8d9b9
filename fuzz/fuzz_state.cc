// Fuzz target: session state files (edgeformer_session_load_memory) into sessions of the models
// named by $EDGEFORMER_FUZZ_STATE_MODELS (colon-separated; scripts/fuzz.sh makes them), each with
// an f32, an f16 and an int8 KV cache at its default context. The first byte picks the session,
// the rest is the file. What loads is then used: a few greedy tokens (attention over the restored
// keys and values, the restored logits sampled), a truncation to half and a prefill.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "edgeformer.h"

namespace {

std::vector<edgeformer_session*> MakeSessions() {
  std::vector<edgeformer_session*> sessions;
  const char* list = std::getenv("EDGEFORMER_FUZZ_STATE_MODELS");
  const std::string paths = list != nullptr ? list : "";
  for (size_t start = 0; start < paths.size();) {
    size_t end = paths.find(':', start);
    if (end == std::string::npos) end = paths.size();
    const std::string path = paths.substr(start, end - start);
    start = end + 1;
    if (path.empty()) continue;
    edgeformer_model* m = nullptr;  // its sessions keep it alive (the handle is released below)
    if (edgeformer_model_load(path.c_str(), nullptr, &m) != EDGEFORMER_OK) {
      std::fprintf(stderr, "fuzz_state: cannot load %s: %s\n", path.c_str(), edgeformer_last_error());
      std::abort();
    }
    for (edgeformer_kv_type kv : {EDGEFORMER_KV_F32, EDGEFORMER_KV_F16, EDGEFORMER_KV_I8}) {
      edgeformer_session_params p = edgeformer_session_default_params();
      p.kv_type = kv;
      edgeformer_session* s = nullptr;
      if (edgeformer_session_create(m, &p, &s) != EDGEFORMER_OK) std::abort();
      sessions.push_back(s);
    }
    edgeformer_model_destroy(m);
  }
  if (sessions.empty()) {
    std::fprintf(stderr, "fuzz_state: set EDGEFORMER_FUZZ_STATE_MODELS to model files\n");
    std::abort();
  }
  return sessions;
}

std::vector<edgeformer_session*>* g_sessions = nullptr;

}  // namespace

// Made before fuzzing starts (allocations of the first input would count as its leaks).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_sessions = new std::vector<edgeformer_session*>(MakeSessions());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  edgeformer_session* s = (*g_sessions)[data[0] % g_sessions->size()];
  edgeformer_session_reset(s);
  if (edgeformer_session_load_memory(s, data + 1, size - 1) != EDGEFORMER_OK) {
    if (edgeformer_session_position(s) != 0) std::abort();  // a refused file leaves the session as it was
    return 0;
  }
  edgeformer_generate_params g = edgeformer_generate_default_params();
  g.max_tokens = 3;
  g.sampler.temperature = 0.0f;
  g.stop_at_end_of_text = 0;
  (void)edgeformer_generate(s, &g, nullptr, nullptr, nullptr, nullptr);
  (void)edgeformer_session_truncate(s, edgeformer_session_position(s) / 2);
  const int32_t token = 1;
  (void)edgeformer_session_prefill(s, &token, 1);
  return 0;
}
