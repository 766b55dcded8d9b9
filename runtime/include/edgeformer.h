/*
 * edgeformer: a small, fast inference runtime for quantized transformer models.
 * The public C API; the only header applications include. C99 and C++ compatible.
 *
 * Conventions
 * - Every function that can fail returns an edgeformer_status; outputs go through pointers.
 *   On failure, edgeformer_last_error() describes what went wrong (thread-local: it is the
 *   message of the calling thread's most recent failed call, valid until that thread's next call).
 * - Objects are opaque handles made by the *_create and *_load functions and freed by the
 *   matching *_destroy,
 *   which accepts NULL.
 * - Parameter structs come from *_default_params(), returned by value; change the fields you
 *   need and pass a pointer (NULL means the defaults).
 * - Thread safety: a model is immutable once loaded and may be shared by any number of sessions
 *   on any threads; its functions (tokenize, token_piece, get_info, session_create) may run
 *   concurrently. A session is used by one thread at a time (any thread, not only its creator),
 *   except edgeformer_session_cancel, which any thread may call while another uses it.
 *   Functions without a handle (default params, status names) are always thread-safe.
 * - Lifetime: a model outlives its sessions; strings the library returns are static or owned by
 *   a handle, as each function says. Nothing the library returns is freed by the caller except
 *   through a *_destroy function.
 * - Nothing aborts or exits on bad input: files, prompts and arguments are validated.
 * - ABI: structs and enums only grow at the end; fields keep their meaning. Version 0.x: the ABI
 *   may still change between minor versions (the shared library's soname says which).
 */
#ifndef EDGEFORMER_H_
#define EDGEFORMER_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define EDGEFORMER_API __declspec(dllexport)
#elif defined(__GNUC__)
#define EDGEFORMER_API __attribute__((visibility("default")))
#else
#define EDGEFORMER_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum edgeformer_status {
  EDGEFORMER_OK = 0,
  EDGEFORMER_INVALID_ARGUMENT = 1, /* a bad argument from the caller */
  EDGEFORMER_IO_ERROR = 2,         /* a file could not be opened, read or mapped */
  EDGEFORMER_INVALID_MODEL = 3,    /* the model file is malformed, truncated or inconsistent */
  EDGEFORMER_UNSUPPORTED = 4,      /* valid, but needs a feature this build lacks */
  EDGEFORMER_OUT_OF_MEMORY = 5,    /* an allocation failed */
  EDGEFORMER_CONTEXT_FULL = 6,     /* the context (KV cache) has no room for more tokens */
  EDGEFORMER_CANCELLED = 7,        /* stopped on request */
  EDGEFORMER_INTERNAL = 8          /* a bug in edgeformer; please report it */
} edgeformer_status;

/* A short English name of a status ("context full"). Static storage; never NULL. */
EDGEFORMER_API const char* edgeformer_status_name(edgeformer_status status);

/* The message of the calling thread's last failed call, or "" if none. Valid until the same
 * thread's next edgeformer call. */
EDGEFORMER_API const char* edgeformer_last_error(void);

/* ---- Models ------------------------------------------------------------------------------ */

typedef struct edgeformer_model edgeformer_model;

typedef struct edgeformer_model_params {
  int verify_checksums; /* nonzero: hash every tensor at load (reads the whole file). Default 0. */
  uint64_t memory_budget; /* bytes the model may occupy once its weights are read (the file's
                             size: they are mapped, not copied); a larger model is refused with
                             EDGEFORMER_OUT_OF_MEMORY before anything is read. 0: no limit. */
} edgeformer_model_params;

/* The defaults, by value. Thread-safe. */
EDGEFORMER_API edgeformer_model_params edgeformer_model_default_params(void);

/* Maps the model file at `path` and validates it. The weights stay in the mapping (no copy).
 * On success *out_model owns the mapping; free it with edgeformer_model_destroy after every
 * session on it is destroyed. On failure *out_model is NULL and nothing is left allocated.
 * `params` may be NULL (the defaults); `path` is not kept. Thread-safe. */
EDGEFORMER_API edgeformer_status edgeformer_model_load(const char* path, const edgeformer_model_params* params,
                                                       edgeformer_model** out_model);

/* Like edgeformer_model_load, for a model already in memory (an asset in an APK, flash). The
 * caller keeps `data` valid and unchanged until the model is destroyed; 64-byte alignment of
 * `data` lets the kernels read weights at full speed. */
EDGEFORMER_API edgeformer_status edgeformer_model_load_from_memory(const void* data, size_t size,
                                                                   const edgeformer_model_params* params,
                                                                   edgeformer_model** out_model);

/* Frees the model and unmaps its file. NULL is ignored. Every session on it must be destroyed
 * first, and no other thread may be using it. */
EDGEFORMER_API void edgeformer_model_destroy(edgeformer_model* model);

typedef struct edgeformer_model_info {
  uint32_t n_layers, dim, hidden_dim, n_heads, n_kv_heads, head_dim, vocab_size, max_seq_len;
  int32_t bos_id, eos_id;    /* -1: none */
  uint64_t file_bytes;       /* size of the model file */
  uint64_t weight_bytes;     /* bytes of weights one decode step reads */
  const char* weight_type;   /* "f32", "f16" or "int8" (the linear layers' type); static storage */
} edgeformer_model_info;

/* Fills *out_info (the caller's). Its strings are static. Thread-safe. */
EDGEFORMER_API edgeformer_status edgeformer_model_get_info(const edgeformer_model* model,
                                                           edgeformer_model_info* out_info);

/* ---- Tokenizer --------------------------------------------------------------------------- */

/* Encodes `text` (`text_len` bytes of UTF-8; invalid bytes fall back to byte tokens), with BOS
 * first if add_bos. Writes up to `capacity` ids and sets *n_tokens to the number the text needs:
 * if that exceeds capacity, returns EDGEFORMER_INVALID_ARGUMENT and the caller retries with a
 * larger buffer. Thread-safe. */
EDGEFORMER_API edgeformer_status edgeformer_tokenize(const edgeformer_model* model, const char* text,
                                                     size_t text_len, int add_bos, int32_t* tokens,
                                                     size_t capacity, size_t* n_tokens);

/* The text of `token` when it follows `prev_token` (-1 for none), not NUL-terminated: *piece
 * points into the model (valid while it lives), *piece_len bytes. Control tokens give "".
 * A piece may be a lone byte of a multi-byte UTF-8 character. Thread-safe. */
EDGEFORMER_API edgeformer_status edgeformer_token_piece(const edgeformer_model* model, int32_t prev_token,
                                                        int32_t token, const char** piece, size_t* piece_len);

/* ---- Sessions ---------------------------------------------------------------------------- */

typedef struct edgeformer_session edgeformer_session;

/* How a session's KV cache stores keys and values. f16 halves the cache's memory and the bytes
   attention reads per token; values are rounded to half precision (to nearest even) when
   stored, so outputs differ slightly from f32 (they are still the same on every CPU). */
typedef enum edgeformer_kv_type {
  EDGEFORMER_KV_F32 = 0,
  EDGEFORMER_KV_F16 = 1,
  EDGEFORMER_KV_TYPE_MAX_ = 0x7fffffff /* not a type: keeps the enum int-sized, so any int a
                                          caller stores is a value the library can check */
} edgeformer_kv_type;

/* Who runs the matmuls of float (f32, f16) weights. NATIVE: edgeformer's kernels, bit-identical on
   every CPU. XNNPACK: XNNPACK's f32 fully-connected operators, created with the session (they keep
   a packed f32 copy of the weights, f16 ones widened: session_info.allocated_bytes counts it);
   results differ in the last bits and between CPUs. AUTO (the default): what the measurements say
   (docs/performance.md): for f32 models XNNPACK runs the layers' matmuls in prefill, native the
   decode and the classifier; f16 models run natively (XNNPACK's f32 copy would triple their
   memory). Int8 weights always run on the native kernels, so int8 models are bit-identical
   everywhere in every mode; choose NATIVE for bit-identical float models. */
typedef enum edgeformer_backend {
  EDGEFORMER_BACKEND_NATIVE = 0,
  EDGEFORMER_BACKEND_XNNPACK = 1,
  EDGEFORMER_BACKEND_AUTO = 2,
  EDGEFORMER_BACKEND_MAX_ = 0x7fffffff /* not a backend: keeps the enum int-sized */
} edgeformer_backend;

typedef struct edgeformer_session_params {
  uint32_t n_threads;      /* worker threads including the caller. Default 1. */
  uint32_t context_length; /* tokens the KV cache holds; 0 = the model's maximum. Default 0. */
  uint32_t max_batch;      /* prompt tokens processed per step. Default 32. */
  const char* max_isa;     /* cap on kernel ISA ("reference", "avx2", ...); NULL = environment
                              variable EDGEFORMER_MAX_ISA, else the best the CPU has. */
  int spin_between_tokens; /* nonzero: worker threads keep spinning (tens of ms) after each
                              prefill and token, which saves their wake-up when the next call
                              comes at once but burns a core while the app handles a token.
                              Default 0: they sleep. */
  edgeformer_kv_type kv_type; /* KV cache storage. Default EDGEFORMER_KV_F32. */
  edgeformer_backend backend; /* float matmuls. Default EDGEFORMER_BACKEND_AUTO. */
  void* threadpool;        /* an app's pthreadpool_t (the pool XNNPACK and TFLite use) for this
                              session's parallel work, instead of n_threads threads of its own.
                              Borrowed: the app keeps ownership and destroys it after the session.
                              Sessions on different threads may share one pool: pthreadpool runs
                              their parallel sections one after another. Default NULL. */
  uint64_t memory_budget;  /* bytes the session may allocate (KV cache, activations, XNNPACK's
                              packed weights); a larger plan is refused with
                              EDGEFORMER_OUT_OF_MEMORY before anything is allocated. 0: no
                              limit. Default 0. */
} edgeformer_session_params;

/* The defaults, by value. Thread-safe. */
EDGEFORMER_API edgeformer_session_params edgeformer_session_default_params(void);

/* Creates a session on `model` with its own KV cache; all its memory is allocated here (and its
 * worker threads started, unless it borrows params->threadpool). The model must outlive the
 * session. On failure *out_session is NULL and nothing is left allocated. `params` may be NULL
 * (the defaults) and is not kept. Thread-safe: sessions on one model may be created, used and
 * destroyed on different threads at once. */
EDGEFORMER_API edgeformer_status edgeformer_session_create(edgeformer_model* model,
                                                           const edgeformer_session_params* params,
                                                           edgeformer_session** out_session);

/* Frees the session, its KV cache and its threads (not a borrowed pool). NULL is ignored. No
 * other thread may be using it (cancel included). */
EDGEFORMER_API void edgeformer_session_destroy(edgeformer_session* session);

/* Appends `n_tokens` tokens (the caller's; not kept) to the context and computes the logits that
 * follow them. If they do not fit in the free context, or an id is outside the vocabulary,
 * returns an error and changes nothing; EDGEFORMER_CANCELLED if edgeformer_session_cancel
 * stopped it (the context is then as before). Allocates nothing. */
EDGEFORMER_API edgeformer_status edgeformer_session_prefill(edgeformer_session* session, const int32_t* tokens,
                                                            size_t n_tokens);

/* Like edgeformer_session_prefill, and writes the logits that follow each of the n_tokens tokens
 * to `logits` [n_tokens][vocab] (row i predicts the token after tokens[i]), which holds
 * `logits_capacity` floats. For scoring text (perplexity, classification). */
EDGEFORMER_API edgeformer_status edgeformer_session_prefill_logits(edgeformer_session* session, const int32_t* tokens,
                                                                   size_t n_tokens, float* logits,
                                                                   size_t logits_capacity);

/* The logits after the last prefill or generated token: *n_vocab floats, owned by the session,
 * valid until its next call. EDGEFORMER_INVALID_ARGUMENT before any prefill. */
EDGEFORMER_API edgeformer_status edgeformer_session_logits(const edgeformer_session* session, const float** logits,
                                                           size_t* n_vocab);

/* Tokens in the KV cache. (The last token edgeformer_generate delivered enters it with the next
 * prefill or generate call.) 0 for NULL. */
EDGEFORMER_API uint32_t edgeformer_session_position(const edgeformer_session* session);

/* Forgets the context (the memory stays allocated). NULL is ignored. */
EDGEFORMER_API void edgeformer_session_reset(edgeformer_session* session);

/* Keeps the first n_keep tokens of the KV cache and forgets the rest (later tokens, the last
 * generated token, the logits): the next call is a prefill of the new text after them. For
 * editing or regenerating the end of a conversation without recomputing its start.
 * EDGEFORMER_INVALID_ARGUMENT when n_keep exceeds edgeformer_session_position(). */
EDGEFORMER_API edgeformer_status edgeformer_session_truncate(edgeformer_session* session, uint32_t n_keep);

/* Asks the edgeformer_session_prefill or edgeformer_generate running on `session` to stop at its
 * next step (a batch of prompt tokens, or one token). A cancelled prefill returns
 * EDGEFORMER_CANCELLED with the context as it was before it; a cancelled generate returns
 * EDGEFORMER_OK with stop reason EDGEFORMER_STOP_CANCELLED, the tokens so far delivered. A
 * request made while no call runs is dropped when the next call starts. The one session function
 * that may be called from any thread while another thread uses the session; the session must
 * not be destroyed meanwhile. */
EDGEFORMER_API void edgeformer_session_cancel(edgeformer_session* session);

typedef struct edgeformer_sampler_params {
  float temperature; /* <= 0: greedy. Default 0.8. */
  uint32_t top_k;    /* 0: off. Default 0. */
  float top_p;       /* >= 1: off. Default 0.9. */
  uint64_t seed;     /* Default 0x5eed. */
} edgeformer_sampler_params;

/* The defaults, by value. Thread-safe. */
EDGEFORMER_API edgeformer_sampler_params edgeformer_sampler_default_params(void);

/* Called with each generated token and its text (as edgeformer_token_piece gives it; `piece` is
 * valid during the call only). Return nonzero to continue, 0 to stop. Runs on the thread that
 * called edgeformer_generate, which waits for it; it must not call functions of the same
 * session other than edgeformer_session_cancel. */
typedef int (*edgeformer_token_callback)(void* user_data, int32_t token, const char* piece, size_t piece_len);

typedef enum edgeformer_stop_reason {
  EDGEFORMER_STOP_MAX_TOKENS = 0,  /* generated max_tokens */
  EDGEFORMER_STOP_END_OF_TEXT = 1, /* the model chose EOS or BOS (not delivered) */
  EDGEFORMER_STOP_CALLBACK = 2,    /* the callback returned 0 */
  EDGEFORMER_STOP_CANCELLED = 3    /* edgeformer_session_cancel */
} edgeformer_stop_reason;

typedef struct edgeformer_generate_params {
  uint32_t max_tokens;      /* Default 128. */
  int stop_at_end_of_text;  /* nonzero: stop at EOS or BOS. Default 1. */
  edgeformer_sampler_params sampler;
  int slide_context;        /* 0 (default): when the context is full, stop with
                               EDGEFORMER_CONTEXT_FULL. Nonzero: slide it instead: keep the first
                               keep_tokens tokens (a system prompt), drop the older half of the
                               rest, and recompute the kept tokens' cache (a prefill of at most
                               half a context) before going on. Generation then never fills the
                               context; it still allocates nothing. */
  uint32_t keep_tokens;     /* with slide_context: tokens kept at the start. Default 0. */
} edgeformer_generate_params;

/* The defaults, by value. Thread-safe. */
EDGEFORMER_API edgeformer_generate_params edgeformer_generate_default_params(void);

/* Generates tokens after the current context (prefill first), calling `callback` (may be NULL)
 * for each. Sets *n_generated and *stop_reason (either may be NULL). When the context fills up:
 * returns EDGEFORMER_CONTEXT_FULL, having delivered what fit, or slides it (slide_context).
 * Allocates nothing. */
EDGEFORMER_API edgeformer_status edgeformer_generate(edgeformer_session* session,
                                                     const edgeformer_generate_params* params,
                                                     edgeformer_token_callback callback, void* user_data,
                                                     size_t* n_generated, edgeformer_stop_reason* stop_reason);

typedef struct edgeformer_session_info {
  const char* isa;         /* ISA of the kernels in use; static storage */
  const char* qgemm_kernel;/* name of the int8 matmul kernel; static storage */
  uint32_t n_threads;
  uint32_t context_length;
  uint64_t allocated_bytes;/* KV cache + activations (+ XNNPACK's packed weights) */
  const char* sgemm_kernel;/* name of the native float matmul kernel (f32 and f16 weights); static storage */
} edgeformer_session_info;

/* Fills *out_info (the caller's). Its strings are static. */
EDGEFORMER_API edgeformer_status edgeformer_session_get_info(const edgeformer_session* session,
                                                             edgeformer_session_info* out_info);

#ifdef __cplusplus
}
#endif

#endif /* EDGEFORMER_H_ */
