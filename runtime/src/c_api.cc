// The C API: a thin layer over Model and Session (runtime/include/edgeformer.h states the
// contracts). This file: version and errors, models, sessions, generation; c_api_text.cc the
// tokenizer and chat templates; c_api_embed.cc embeddings and encoding. The handles and the
// helpers they share (status and message, BUSY, exceptions) are in c_api_internal.h.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "c_api_internal.h"
#include "model/isa_option.h"

namespace {

thread_local std::string g_last_error;

using edgeformer::Error;
using edgeformer::Status;
using namespace edgeformer::capi;  // NOLINT(google-build-using-namespace): the C API's own helpers

static_assert(static_cast<int>(Status::kOk) == EDGEFORMER_OK, "ok");
static_assert(static_cast<int>(Status::kInvalidArgument) == EDGEFORMER_INVALID_ARGUMENT, "codes");
static_assert(static_cast<int>(Status::kIoError) == EDGEFORMER_IO_ERROR, "codes");
static_assert(static_cast<int>(Status::kInvalidModel) == EDGEFORMER_INVALID_MODEL, "codes");
static_assert(static_cast<int>(Status::kUnsupported) == EDGEFORMER_UNSUPPORTED, "codes");
static_assert(static_cast<int>(Status::kOutOfMemory) == EDGEFORMER_OUT_OF_MEMORY, "codes");
static_assert(static_cast<int>(Status::kContextFull) == EDGEFORMER_CONTEXT_FULL, "codes");
static_assert(static_cast<int>(Status::kCancelled) == EDGEFORMER_CANCELLED, "codes");
static_assert(static_cast<int>(Status::kInternal) == EDGEFORMER_INTERNAL, "codes");
static_assert(static_cast<int>(Status::kBusy) == EDGEFORMER_BUSY, "codes");
static_assert(static_cast<int>(edgeformer::StopReason::kContextFull) == EDGEFORMER_STOP_CONTEXT_FULL, "reasons");
static_assert(static_cast<int>(edgeformer::StopReason::kError) == EDGEFORMER_STOP_ERROR, "reasons");
static_assert(static_cast<int>(edgeformer::Pooling::kNone) == EDGEFORMER_POOLING_MODEL &&
                  static_cast<int>(edgeformer::Pooling::kCls) == EDGEFORMER_POOLING_CLS &&
                  static_cast<int>(edgeformer::Pooling::kMean) == EDGEFORMER_POOLING_MEAN &&
                  static_cast<int>(edgeformer::Pooling::kLast) == EDGEFORMER_POOLING_LAST &&
                  static_cast<int>(edgeformer::Pooling::kPooler) == EDGEFORMER_POOLING_POOLER,
              "poolings");

#define EDGEFORMER_STRINGIFY2(x) #x
#define EDGEFORMER_STRINGIFY(x) EDGEFORMER_STRINGIFY2(x)
constexpr const char kVersion[] = EDGEFORMER_STRINGIFY(EDGEFORMER_VERSION_MAJOR) "." EDGEFORMER_STRINGIFY(
    EDGEFORMER_VERSION_MINOR) "." EDGEFORMER_STRINGIFY(EDGEFORMER_VERSION_PATCH);

}  // namespace

namespace edgeformer {
namespace capi {

edgeformer_status Fail(Status status, const std::string& message) {
  try {
    g_last_error = message;
  } catch (...) {
    g_last_error.clear();
  }
  return static_cast<edgeformer_status>(status);
}

edgeformer_status Report(const Error& err) {
  if (err.ok()) return EDGEFORMER_OK;
  return Fail(err.status(), err.message());
}

edgeformer_status Null(const char* what) { return Fail(Status::kInvalidArgument, std::string(what) + " is NULL"); }

bool Enter(edgeformer_session* s) {
  int idle = edgeformer_session::kIdle;
  return s->state.compare_exchange_strong(idle, edgeformer_session::kInCall, std::memory_order_acquire);
}

edgeformer_status Busy() {
  return Fail(Status::kBusy, "the session is in use by a call that has not returned (its own token callback, or "
                             "another thread): nothing was done");
}

void Leave(edgeformer_session* s) {
  int in_call = edgeformer_session::kInCall;
  if (!s->state.compare_exchange_strong(in_call, edgeformer_session::kIdle, std::memory_order_acq_rel)) {
    delete s;  // a destroy came during the call
  }
}

}  // namespace capi
}  // namespace edgeformer

namespace {

edgeformer::LoadOptions ToLoadOptions(const edgeformer_model_params* p) {
  edgeformer_model_params d = p ? *p : edgeformer_model_default_params();
  edgeformer::LoadOptions o;
  o.verify_checksums = d.verify_checksums != 0;
  o.memory_budget = d.memory_budget;
  return o;
}

edgeformer_status FinishLoad(edgeformer::Result<std::unique_ptr<edgeformer::Model>> model,
                             edgeformer_model** out_model) {
  if (!model.ok()) return Report(model.error());
  std::unique_ptr<edgeformer_model> handle(new (std::nothrow) edgeformer_model);
  if (handle == nullptr) return Fail(Status::kOutOfMemory, "cannot allocate the model handle");
  handle->model = std::shared_ptr<const edgeformer::Model>(model.take());  // may throw: Guard
  *out_model = handle.release();
  return EDGEFORMER_OK;
}

edgeformer::SamplerParams ToSamplerParams(const edgeformer_sampler_params& p) {
  edgeformer::SamplerParams s;
  s.temperature = p.temperature;
  s.top_k = p.top_k;
  s.top_p = p.top_p;
  s.seed = p.seed;
  s.min_p = p.min_p;
  s.repetition_penalty = p.repetition_penalty;
  s.presence_penalty = p.presence_penalty;
  s.frequency_penalty = p.frequency_penalty;
  s.penalty_last_n = p.penalty_last_n;
  static_assert(sizeof(edgeformer_logit_bias) == sizeof(edgeformer::LogitBias), "same layout");
  s.logit_bias = reinterpret_cast<const edgeformer::LogitBias*>(p.logit_bias);
  s.n_logit_bias = p.n_logit_bias;
  return s;
}

struct CallbackBridge {
  const edgeformer::Tokenizer* tokenizer;
  edgeformer_token_callback callback;
  void* user_data;
  int32_t prev;
  edgeformer_session* session;
  bool destroy_requested;
  bool stop_string;
};

// The app's callback for one token the stop strings let through.
bool DeliverToken(void* p, int32_t token, std::string_view piece) {
  auto* b = static_cast<CallbackBridge*>(p);
  return b->callback == nullptr || b->callback(b->user_data, token, piece.empty() ? "" : piece.data(), piece.size()) != 0;
}

bool BridgeToken(void* p, int32_t token) {
  auto* b = static_cast<CallbackBridge*>(p);
  const std::string_view piece = b->tokenizer->Piece(b->prev, token);
  b->prev = token;
  const edgeformer::StopStrings::Outcome outcome = b->session->stops.Push(token, piece, &DeliverToken, b);
  b->stop_string = outcome == edgeformer::StopStrings::Outcome::kStopString;
  // A destroy requested during the callback (or by another thread) stops generation here.
  if (b->session->state.load(std::memory_order_acquire) == edgeformer_session::kDestroyRequested) {
    b->destroy_requested = true;
    return false;
  }
  return outcome == edgeformer::StopStrings::Outcome::kGoOn;
}

}  // namespace

extern "C" {

const char* edgeformer_status_name(edgeformer_status status) {
  return edgeformer::StatusName(static_cast<Status>(status));
}

const char* edgeformer_last_error(void) { return g_last_error.c_str(); }

const char* edgeformer_version(void) { return kVersion; }

edgeformer_model_params edgeformer_model_default_params(void) {
  edgeformer_model_params p;
  p.verify_checksums = 0;
  p.memory_budget = 0;
  return p;
}

edgeformer_status edgeformer_model_load(const char* path, const edgeformer_model_params* params,
                                        edgeformer_model** out_model) {
  if (path == nullptr) return Null("path");
  if (out_model == nullptr) return Null("out_model");
  *out_model = nullptr;
  return Guard([&] { return FinishLoad(edgeformer::Model::Load(path, ToLoadOptions(params)), out_model); });
}

edgeformer_status edgeformer_model_load_from_memory(const void* data, size_t size,
                                                    const edgeformer_model_params* params,
                                                    edgeformer_model** out_model) {
  if (data == nullptr) return Null("data");
  if (out_model == nullptr) return Null("out_model");
  *out_model = nullptr;
  return Guard([&] {
    return FinishLoad(edgeformer::Model::LoadFromMemory(data, size, ToLoadOptions(params)), out_model);
  });
}

void edgeformer_model_destroy(edgeformer_model* model) { delete model; }

edgeformer_status edgeformer_model_get_info(const edgeformer_model* model, edgeformer_model_info* out_info) {
  if (model == nullptr) return Null("model");
  if (out_info == nullptr) return Null("out_info");
  const edgeformer::ModelConfig& c = model->model->config();
  edgeformer_model_info info;
  info.n_layers = c.n_layers;
  info.dim = c.dim;
  info.hidden_dim = c.hidden_dim;
  info.n_heads = c.n_heads;
  info.n_kv_heads = c.n_kv_heads;
  info.head_dim = c.head_dim;
  info.vocab_size = c.vocab_size;
  info.max_seq_len = c.max_seq_len;
  info.bos_id = c.bos_id;
  info.eos_id = c.eos_id;
  info.file_bytes = model->model->file_size();
  info.weight_bytes = model->model->weight_bytes();
  info.weight_type = edgeformer::WeightTypeName(model->model->matmul_type());
  info.family = c.family == edgeformer::Family::kEncoderOnly      ? EDGEFORMER_FAMILY_ENCODER
                : c.family == edgeformer::Family::kEncoderDecoder ? EDGEFORMER_FAMILY_ENCODER_DECODER
                                                                  : EDGEFORMER_FAMILY_DECODER;
  info.pooling = static_cast<edgeformer_pooling>(c.pooling);  // the enums share their values
  info.normalize = c.normalize ? 1 : 0;
  info.has_logits = c.classifier ? 1 : 0;
  info.token_types = c.token_types;
  info.encoder_layers = c.encoder != nullptr ? c.encoder->n_layers : 0;
  info.encoder_vocab_size = c.encoder != nullptr ? c.encoder->vocab_size : 0;
  info.max_source_length = c.encoder != nullptr ? c.encoder->max_seq_len : 0;
  info.encoder_weight_bytes = model->model->encoder_weight_bytes();
  *out_info = info;
  return EDGEFORMER_OK;
}

edgeformer_session_params edgeformer_session_default_params(void) {
  edgeformer_session_params p;
  p.n_threads = 1;
  p.context_length = 0;
  p.max_batch = 32;
  p.max_isa = nullptr;
  p.spin_between_tokens = 0;
  p.kv_type = EDGEFORMER_KV_F32;
  p.backend = EDGEFORMER_BACKEND_AUTO;
  p.threadpool = nullptr;
  p.memory_budget = 0;
  p.max_source_length = 0;
  p.max_beams = 1;
  p.max_beam_tokens = 256;
  p.huge_pages = 1;
  p.max_draft_tokens = 0;
  return p;
}

edgeformer_status edgeformer_session_create(edgeformer_model* model, const edgeformer_session_params* params,
                                            edgeformer_session** out_session) {
  if (model == nullptr) return Null("model");
  if (out_session == nullptr) return Null("out_session");
  *out_session = nullptr;
  const edgeformer_session_params p = params ? *params : edgeformer_session_default_params();
  return Guard([&] {
    edgeformer::SessionOptions o;
    o.n_threads = p.n_threads == 0 ? 1 : p.n_threads;
    o.pool = static_cast<pthreadpool*>(p.threadpool);
    o.memory_budget = p.memory_budget;
    o.context_length = p.context_length;
    o.max_source_length = p.max_source_length;
    o.max_beams = p.max_beams == 0 ? 1 : p.max_beams;
    o.max_beam_tokens = p.max_beam_tokens == 0 ? 256 : p.max_beam_tokens;
    o.huge_pages = p.huge_pages != 0;
    o.max_draft_tokens = p.max_draft_tokens;
    o.max_batch = p.max_batch == 0 ? 32 : p.max_batch;
    o.release_workers = p.spin_between_tokens == 0;
    if (p.kv_type != EDGEFORMER_KV_F32 && p.kv_type != EDGEFORMER_KV_F16 && p.kv_type != EDGEFORMER_KV_I8) {
      return Report(Error(edgeformer::Status::kInvalidArgument, "unknown kv_type " + std::to_string(p.kv_type)));
    }
    o.kv_type = p.kv_type == EDGEFORMER_KV_F16  ? edgeformer::KvType::kF16
                : p.kv_type == EDGEFORMER_KV_I8 ? edgeformer::KvType::kI8
                                                : edgeformer::KvType::kF32;
    if (p.backend != EDGEFORMER_BACKEND_NATIVE && p.backend != EDGEFORMER_BACKEND_XNNPACK &&
        p.backend != EDGEFORMER_BACKEND_AUTO) {
      return Report(Error(edgeformer::Status::kInvalidArgument, "unknown backend " + std::to_string(p.backend)));
    }
    o.backend = p.backend == EDGEFORMER_BACKEND_XNNPACK ? edgeformer::Backend::kXnnpack
                : p.backend == EDGEFORMER_BACKEND_NATIVE ? edgeformer::Backend::kNative
                                                         : edgeformer::Backend::kAuto;
    if (p.max_isa != nullptr) {
      edgeformer::Result<edgeformer::Isa> isa = edgeformer::IsaByName(p.max_isa);
      if (!isa.ok()) return Report(isa.error());
      o.max_isa = isa.value();
      o.use_max_isa = true;
    }
    auto session = edgeformer::Session::Create(*model->model, o);
    if (!session.ok()) return Report(session.error());
    std::unique_ptr<edgeformer_session> handle(new edgeformer_session);
    handle->model = model->model;
    handle->session = session.take();
    Error err = handle->sampler.Init(model->model->config().vocab_size, edgeformer::SamplerParams());
    if (err.ok()) err = handle->stops.Init(model->model->tokenizer().max_piece_bytes());
    if (!err.ok()) return Report(err);
    *out_session = handle.release();
    return EDGEFORMER_OK;
  });
}

void edgeformer_session_destroy(edgeformer_session* session) {
  if (session == nullptr) return;
  int state = session->state.load(std::memory_order_acquire);
  for (;;) {
    if (state == edgeformer_session::kIdle) {
      // Nobody is in a call: it is ours to free (a call starting now would be a use after
      // destroy, which the header forbids).
      delete session;
      return;
    }
    if (state == edgeformer_session::kDestroyRequested) return;  // a second destroy: already deferred
    // In a call: the call frees it as it leaves (Leave) and stops at its next step. Cancel
    // first: once the state says so, the session may be freed at any moment.
    session->session->Cancel();
    if (session->state.compare_exchange_weak(state, edgeformer_session::kDestroyRequested,
                                             std::memory_order_acq_rel)) {
      return;
    }
  }
}

edgeformer_status edgeformer_session_prefill(edgeformer_session* session, const int32_t* tokens, size_t n_tokens) {
  if (session == nullptr) return Null("session");
  return InCall(session, [&] { return Report(session->session->Prefill(tokens, n_tokens)); });
}

edgeformer_status edgeformer_session_prefill_logits(edgeformer_session* session, const int32_t* tokens,
                                                size_t n_tokens, float* logits, size_t logits_capacity) {
  if (session == nullptr) return Null("session");
  if (logits == nullptr) return Null("logits");
  const size_t vocab = session->session->model().config().vocab_size;
  if (n_tokens > logits_capacity / vocab) {
    return Fail(Status::kInvalidArgument, std::to_string(n_tokens) + " tokens need " + std::to_string(n_tokens * vocab) +
                                              " logits but the buffer holds " + std::to_string(logits_capacity));
  }
  return InCall(session, [&] { return Report(session->session->PrefillWithLogits(tokens, n_tokens, logits)); });
}

edgeformer_status edgeformer_session_logits(const edgeformer_session* session, const float** logits,
                                            size_t* n_vocab) {
  if (session == nullptr) return Null("session");
  if (logits == nullptr || n_vocab == nullptr) return Null("logits");
  const float* l = session->session->logits();
  if (l == nullptr) return Fail(Status::kInvalidArgument, "no logits yet: prefill first");
  *logits = l;
  *n_vocab = session->session->model().config().vocab_size;
  return EDGEFORMER_OK;
}

uint32_t edgeformer_session_position(const edgeformer_session* session) {
  return session == nullptr ? 0 : session->session->position();
}

edgeformer_status edgeformer_session_tokens(edgeformer_session* session, int32_t* tokens, size_t capacity,
                                            size_t* n_tokens) {
  if (session == nullptr) return Null("session");
  if (n_tokens == nullptr) return Null("n_tokens");
  if (tokens == nullptr && capacity > 0) return Null("tokens");
  return InCall(session, [&] {
    const edgeformer::Session& s = *session->session;
    *n_tokens = s.position();
    if (s.position() > capacity) {
      return Fail(Status::kInvalidArgument, "the cache holds " + std::to_string(s.position()) +
                                                " tokens but the buffer holds " + std::to_string(capacity));
    }
    std::copy(s.history(), s.history() + s.position(), tokens);
    return EDGEFORMER_OK;
  });
}

edgeformer_status edgeformer_session_reset(edgeformer_session* session) {
  if (session == nullptr) return Null("session");
  return InCall(session, [&] {
    session->session->Reset();
    return EDGEFORMER_OK;
  });
}

edgeformer_status edgeformer_session_truncate(edgeformer_session* session, uint32_t n_keep) {
  if (session == nullptr) return Null("session");
  return InCall(session, [&] { return Report(session->session->Truncate(n_keep)); });
}

edgeformer_status edgeformer_session_save(edgeformer_session* session, const char* path) {
  if (session == nullptr) return Null("session");
  if (path == nullptr) return Null("path");
  return InCall(session, [&] { return Report(session->session->SaveState(path)); });
}

edgeformer_status edgeformer_session_load(edgeformer_session* session, const char* path) {
  if (session == nullptr) return Null("session");
  if (path == nullptr) return Null("path");
  return InCall(session, [&] { return Report(session->session->LoadState(path)); });
}

edgeformer_status edgeformer_session_load_memory(edgeformer_session* session, const void* data, size_t size) {
  if (session == nullptr) return Null("session");
  if (data == nullptr && size > 0) return Null("data");
  return InCall(session, [&] { return Report(session->session->LoadStateFromMemory(data, size)); });
}

void edgeformer_session_cancel(edgeformer_session* session) {
  if (session != nullptr) session->session->Cancel();
}

edgeformer_sampler_params edgeformer_sampler_default_params(void) {
  edgeformer_sampler_params p;
  p.temperature = 0.8f;
  p.top_k = 0;
  p.top_p = 0.9f;
  p.seed = 0x5eed;
  p.min_p = 0.0f;
  p.repetition_penalty = 1.0f;
  p.presence_penalty = 0.0f;
  p.frequency_penalty = 0.0f;
  p.penalty_last_n = 64;
  p.logit_bias = NULL;
  p.n_logit_bias = 0;
  return p;
}

edgeformer_generate_params edgeformer_generate_default_params(void) {
  edgeformer_generate_params p;
  p.max_tokens = 128;
  p.stop_at_end_of_text = 1;
  p.sampler = edgeformer_sampler_default_params();
  p.slide_context = 0;
  p.keep_tokens = 0;
  p.stop_strings = NULL;
  p.n_stop_strings = 0;
  p.lookup_tokens = 0;
  p.lookup_ngram = 2;
  p.draft = NULL;
  p.draft_tokens = 0;
  p.continue_sampling = 0;
  return p;
}

edgeformer_status edgeformer_generate(edgeformer_session* session, const edgeformer_generate_params* params,
                                      edgeformer_token_callback callback, void* user_data, size_t* n_generated,
                                      edgeformer_stop_reason* stop_reason) {
  if (n_generated != nullptr) *n_generated = 0;
  if (stop_reason != nullptr) *stop_reason = EDGEFORMER_STOP_ERROR;
  if (session == nullptr) return Null("session");
  const edgeformer_generate_params p = params ? *params : edgeformer_generate_default_params();
  if (p.draft == session) return Fail(Status::kInvalidArgument, "a session cannot be its own draft");
  // The draft session is busy for the call, as the session is.
  if (p.draft != nullptr && !edgeformer::capi::Enter(p.draft)) return edgeformer::capi::Busy();
  struct LeaveDraft {
    edgeformer_session* draft;
    ~LeaveDraft() {
      if (draft != nullptr) edgeformer::capi::Leave(draft);
    }
  } leave_draft{p.draft};
  return InCall(session, [&] {
    Error err = session->sampler.Configure(ToSamplerParams(p.sampler), p.continue_sampling != 0);
    if (err.ok()) err = session->stops.Start(p.stop_strings, p.n_stop_strings);
    if (!err.ok()) return Report(err);
    edgeformer::GenerateOptions o;
    o.max_tokens = p.max_tokens;
    o.stop_at_end_of_text = p.stop_at_end_of_text != 0;
    o.slide_context = p.slide_context != 0;
    o.keep_tokens = p.keep_tokens;
    o.lookup_tokens = p.lookup_tokens;
    o.lookup_ngram = p.lookup_ngram;
    o.draft = p.draft != nullptr ? p.draft->session.get() : nullptr;
    o.draft_tokens = p.draft_tokens;
    CallbackBridge bridge{&session->model->tokenizer(), callback, user_data, session->session->last_token(),
                          session, false, false};
    size_t n = 0;
    edgeformer::StopReason reason = edgeformer::StopReason::kError;
    err = session->session->Generate(session->sampler, o, &BridgeToken, &bridge, &n, &reason);
    edgeformer_stop_reason why = static_cast<edgeformer_stop_reason>(reason);
    if (bridge.destroy_requested && reason == edgeformer::StopReason::kCallback) {
      why = EDGEFORMER_STOP_CANCELLED;
    } else if (bridge.stop_string) {
      why = EDGEFORMER_STOP_STRING;
    } else if (reason != edgeformer::StopReason::kCallback && !bridge.destroy_requested &&
               session->stops.Flush(&DeliverToken, &bridge) == edgeformer::StopStrings::Outcome::kStopped &&
               err.ok()) {
      why = EDGEFORMER_STOP_CALLBACK;  // the text held back, delivered at the end, was refused
    }
    if (n_generated != nullptr) *n_generated = n;
    if (stop_reason != nullptr) *stop_reason = why;
    return Report(err);
  });
}

edgeformer_status edgeformer_session_get_info(const edgeformer_session* session, edgeformer_session_info* out_info) {
  if (session == nullptr) return Null("session");
  if (out_info == nullptr) return Null("out_info");
  const edgeformer::Session& s = *session->session;
  out_info->isa = edgeformer::IsaName(s.kernels().isa);
  out_info->qgemm_kernel = s.kernels().qgemm_name;
  out_info->q4gemm_kernel = s.kernels().q4gemm_name;
  out_info->n_threads = static_cast<uint32_t>(s.threads());
  out_info->context_length = s.context_length();
  out_info->allocated_bytes = s.allocated_bytes();
  out_info->sgemm_kernel = s.kernels().sgemm_name;
  out_info->active_threads = static_cast<uint32_t>(s.active_threads());
  out_info->draft_passes = s.draft_stats().passes;
  out_info->draft_proposed = s.draft_stats().proposed;
  out_info->draft_accepted = s.draft_stats().accepted;
  return EDGEFORMER_OK;
}

}  // extern "C"
