// Fuzz target: the model loader (FlatBuffer verification, architecture, tensor table, segments,
// tokenizer table) through the C API, and, for inputs that load, a session on the model: a
// short prefill and generation (hostile but valid values: NaN weights, odd shapes), tokenizing a
// text and reading back every piece.
#include <cstdint>
#include <cstring>
#include <vector>

#include "edgeformer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The loader reads weights in place: give it 64-byte aligned memory, as a mapping would be.
  std::vector<uint8_t> storage(size + 64);
  uint8_t* aligned = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  if (size > 0) std::memcpy(aligned, data, size);
  edgeformer_model* model = nullptr;
  if (edgeformer_model_load_from_memory(aligned, size, nullptr, &model) != EDGEFORMER_OK) return 0;
  edgeformer_model_info info;
  if (edgeformer_model_get_info(model, &info) == EDGEFORMER_OK && info.vocab_size > 0) {
    const char text[] = "Once upon a time, \xe2\x80\x94 caf\xc3\xa9 \xff\x00 <|endoftext|>";
    int32_t ids[128];
    size_t n = 0;
    if (edgeformer_tokenize(model, text, sizeof(text) - 1, 1, ids, 128, &n) == EDGEFORMER_OK) {
      for (size_t i = 0; i < n; ++i) {
        const char* piece = nullptr;
        size_t len = 0;
        edgeformer_token_piece(model, i ? ids[i - 1] : -1, ids[i], &piece, &len);
      }
    }
    // Layers and widths are bounded by the loader; keep the work per input small anyway.
    const uint64_t work = uint64_t{info.n_layers + info.encoder_layers} * info.dim * (info.dim + info.hidden_dim) +
                          uint64_t{info.vocab_size} * info.dim;
    edgeformer_session_params p = edgeformer_session_default_params();
    p.context_length = info.max_seq_len < 8 ? info.max_seq_len : 8;
    p.max_source_length = info.max_source_length < 8 ? info.max_source_length : 8;
    p.backend = EDGEFORMER_BACKEND_NATIVE;
    p.memory_budget = 64u << 20;
    edgeformer_session* session = nullptr;
    if (work < (64u << 20) && edgeformer_session_create(model, &p, &session) == EDGEFORMER_OK) {
      const int32_t prompt[2] = {0, static_cast<int32_t>(info.vocab_size - 1)};
      bool ready = true;
      if (info.family == EDGEFORMER_FAMILY_ENCODER_DECODER) {  // a source of the encoder's first and last ids
        const int32_t source[2] = {0, static_cast<int32_t>(info.encoder_vocab_size) - 1};
        ready = edgeformer_encode_source(session, source, p.max_source_length < 2 ? 1 : 2, nullptr, 0) == EDGEFORMER_OK;
      }
      if (ready && edgeformer_session_prefill(session, prompt, 2) == EDGEFORMER_OK) {
        edgeformer_generate_params g = edgeformer_generate_default_params();
        g.max_tokens = 3;
        edgeformer_generate(session, &g, nullptr, nullptr, nullptr, nullptr);
      }
      edgeformer_session_destroy(session);
    }
  }
  edgeformer_model_destroy(model);
  return 0;
}
