// The JavaScript package's C side: thin wrappers over the public C API (edgeformer.h) and nothing
// else, so that web/edgeformer.mjs never mirrors a struct's layout (the params structs hold
// 64-bit fields and grow between versions) and never makes a function pointer at run time.
//
// Contracts:
// - Every efw_* function only calls the public C API; statuses and edgeformer_last_error() mean
//   what they mean there. Integers JavaScript cannot pass as one wasm i32 (64-bit seeds and
//   budgets) come as two 32-bit halves.
// - Token callbacks: efw_generate passes each token to the JavaScript function
//   Module.efwOnToken(callback_id, token, piece_pointer, piece_length) on the calling thread (the
//   module has no threads) while edgeformer_generate runs; it returns nonzero to go on. The piece
//   pointer is valid during that call only. JavaScript exceptions must not escape it (the
//   package's dispatcher catches them): they would unwind through the library's frames.
#include <emscripten/emscripten.h>

#include <cstdint>

#include "edgeformer.h"

namespace {

uint64_t Join(uint32_t lo, uint32_t hi) { return (uint64_t{hi} << 32) | lo; }

}  // namespace

EM_JS(int, efw_call_on_token, (int callback_id, int32_t token, const char* piece, size_t piece_len), {
  return Module["efwOnToken"](callback_id, token, piece, piece_len);
});

extern "C" {

namespace {

int OnToken(void* user_data, int32_t token, const char* piece, size_t piece_len) {
  return efw_call_on_token(static_cast<int>(reinterpret_cast<intptr_t>(user_data)), token, piece, piece_len);
}

}  // namespace

// edgeformer_model_load_from_memory with verify_checksums and memory_budget (lo, hi); `data`
// stays the caller's, valid and unchanged until the model and all its sessions are destroyed.
EMSCRIPTEN_KEEPALIVE edgeformer_status efw_model_load(const void* data, size_t size, int verify_checksums,
                                                      uint32_t budget_lo, uint32_t budget_hi, edgeformer_model** out) {
  edgeformer_model_params p = edgeformer_model_default_params();
  p.verify_checksums = verify_checksums;
  p.memory_budget = Join(budget_lo, budget_hi);
  return edgeformer_model_load_from_memory(data, size, &p, out);
}

// edgeformer_model_get_info as 20 doubles at `out` (the caller's), in this order: n_layers, dim,
// hidden_dim, n_heads, n_kv_heads, head_dim, vocab_size, max_seq_len, bos_id, eos_id,
// file_bytes, weight_bytes, family, pooling, normalize, has_logits, token_types, encoder_layers,
// encoder_vocab_size, max_source_length; *weight_type the static type name.
EMSCRIPTEN_KEEPALIVE edgeformer_status efw_model_info(const edgeformer_model* model, double* out,
                                                      const char** weight_type) {
  edgeformer_model_info i;
  const edgeformer_status st = edgeformer_model_get_info(model, &i);
  if (st != EDGEFORMER_OK) return st;
  const double values[] = {static_cast<double>(i.n_layers), static_cast<double>(i.dim),
                           static_cast<double>(i.hidden_dim), static_cast<double>(i.n_heads),
                           static_cast<double>(i.n_kv_heads), static_cast<double>(i.head_dim),
                           static_cast<double>(i.vocab_size), static_cast<double>(i.max_seq_len),
                           static_cast<double>(i.bos_id), static_cast<double>(i.eos_id),
                           static_cast<double>(i.file_bytes), static_cast<double>(i.weight_bytes),
                           static_cast<double>(i.family), static_cast<double>(i.pooling),
                           static_cast<double>(i.normalize), static_cast<double>(i.has_logits),
                           static_cast<double>(i.token_types), static_cast<double>(i.encoder_layers),
                           static_cast<double>(i.encoder_vocab_size), static_cast<double>(i.max_source_length)};
  for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); ++k) out[k] = values[k];
  *weight_type = i.weight_type;
  return EDGEFORMER_OK;
}

// edgeformer_session_create with the fields a page sets (0 for each: the default).
EMSCRIPTEN_KEEPALIVE edgeformer_status efw_session_create(edgeformer_model* model, uint32_t context_length,
                                                          uint32_t max_batch, int kv_type, uint32_t budget_lo,
                                                          uint32_t budget_hi, edgeformer_session** out) {
  edgeformer_session_params p = edgeformer_session_default_params();
  p.context_length = context_length;
  if (max_batch != 0) p.max_batch = max_batch;
  p.kv_type = static_cast<edgeformer_kv_type>(kv_type);
  p.memory_budget = Join(budget_lo, budget_hi);
  return edgeformer_session_create(model, &p, out);
}

// edgeformer_generate with edgeformer_generate_default_params() changed in these fields
// (continue_sampling: the sampler goes on from the session's previous call); tokens
// go to Module.efwOnToken(callback_id, ...) (callback_id < 0: no callback). out[0] receives
// n_generated, out[1] the stop reason (both set also on failure).
EMSCRIPTEN_KEEPALIVE edgeformer_status efw_generate(edgeformer_session* session, uint32_t max_tokens,
                                                    int stop_at_end_of_text, float temperature, uint32_t top_k,
                                                    float top_p, float min_p, float repetition_penalty,
                                                    uint32_t seed_lo, uint32_t seed_hi, int continue_sampling,
                                                    int callback_id, uint32_t* out) {
  edgeformer_generate_params p = edgeformer_generate_default_params();
  p.max_tokens = max_tokens;
  p.stop_at_end_of_text = stop_at_end_of_text;
  p.sampler.temperature = temperature;
  p.sampler.top_k = top_k;
  p.sampler.top_p = top_p;
  p.sampler.min_p = min_p;
  p.sampler.repetition_penalty = repetition_penalty;
  p.sampler.seed = Join(seed_lo, seed_hi);
  p.continue_sampling = continue_sampling;
  size_t n = 0;
  edgeformer_stop_reason reason = EDGEFORMER_STOP_ERROR;
  const edgeformer_status st =
      edgeformer_generate(session, &p, callback_id < 0 ? nullptr : &OnToken,
                          reinterpret_cast<void*>(static_cast<intptr_t>(callback_id)), &n, &reason);
  out[0] = static_cast<uint32_t>(n);
  out[1] = static_cast<uint32_t>(reason);
  return st;
}

// The defaults JavaScript shows and validates against: out[0] max_tokens, out[1] temperature,
// out[2] top_k, out[3] top_p, out[4] min_p, out[5] repetition_penalty, out[6] seed (exact below
// 2^53).
EMSCRIPTEN_KEEPALIVE void efw_generate_defaults(double* out) {
  const edgeformer_generate_params p = edgeformer_generate_default_params();
  out[0] = p.max_tokens;
  out[1] = p.sampler.temperature;
  out[2] = p.sampler.top_k;
  out[3] = p.sampler.top_p;
  out[4] = p.sampler.min_p;
  out[5] = p.sampler.repetition_penalty;
  out[6] = static_cast<double>(p.sampler.seed);
}

}  // extern "C"
