/*
 * edgeformer: a small, fast inference runtime for quantized transformer models.
 * The public C API; the only header applications include. C99 and C++ compatible. One file of
 * over 600 lines on purpose: bindings and apps read the whole contract in one place.
 *
 * Conventions
 * - Every function that can fail returns an edgeformer_status; outputs go through pointers.
 *   On failure, edgeformer_last_error() describes what went wrong (thread-local: it is the
 *   message of the calling thread's most recent failed call, valid until that thread's next call).
 * - Objects are opaque handles made by the *_create and *_load functions and freed by the
 *   matching *_destroy, which accepts NULL.
 * - Parameter structs come from *_default_params(), returned by value; change the fields you
 *   need and pass a pointer (NULL means the defaults).
 * - Thread safety: a model is immutable once loaded and may be shared by any number of sessions
 *   on any threads; its functions (tokenize, token_piece, get_info, session_create) may run
 *   concurrently. A session is used by one thread at a time (any thread, not only its creator),
 *   except edgeformer_session_cancel, which any thread may call while another uses it.
 *   Functions without a handle (default params, status names) are always thread-safe.
 * - Lifetime: a session keeps its model alive, so handles may be destroyed in any order (as
 *   finalizers in Java, Kotlin or Swift run): the model's memory goes with the last of its
 *   handle and its sessions. Strings the library returns are static or owned by a handle, as
 *   each function says. Nothing the library returns is freed by the caller except through a
 *   *_destroy function.
 * - Re-entrancy: a call on a session made while another call on it runs (from its own token
 *   callback, or from another thread) does nothing and returns EDGEFORMER_BUSY; cancel, the
 *   read-only queries and destroy (deferred until the running call returns) are the exceptions.
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
  EDGEFORMER_INTERNAL = 8,         /* a bug in edgeformer; please report it */
  EDGEFORMER_BUSY = 9              /* the session is in use by a call that has not returned */
} edgeformer_status;

/* The version of the library the header belongs to, and the library's own: compare them to
 * catch a header and a shared library that do not match. */
#define EDGEFORMER_VERSION_MAJOR 0
#define EDGEFORMER_VERSION_MINOR 6
#define EDGEFORMER_VERSION_PATCH 0

/* The library's version, "MAJOR.MINOR.PATCH" (e.g. "0.2.0"). Static storage. Thread-safe. */
EDGEFORMER_API const char* edgeformer_version(void);

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
 * On success *out_model holds the mapping (shared with the sessions made on it); release it with
 * edgeformer_model_destroy. On failure *out_model is NULL and nothing is left allocated.
 * `path` must name a regular file (a FIFO or device is refused, never waited on). `params` may
 * be NULL (the defaults); `path` is not kept. Thread-safe. */
EDGEFORMER_API edgeformer_status edgeformer_model_load(const char* path, const edgeformer_model_params* params,
                                                       edgeformer_model** out_model);

/* Like edgeformer_model_load, for a model already in memory (an asset in an APK, flash). The
 * caller keeps `data` valid and unchanged until the model is destroyed; 64-byte alignment of
 * `data` lets the kernels read weights at full speed. */
EDGEFORMER_API edgeformer_status edgeformer_model_load_from_memory(const void* data, size_t size,
                                                                   const edgeformer_model_params* params,
                                                                   edgeformer_model** out_model);

/* Destroys the model handle. The model itself (its mapping, its tables) lives on while sessions
 * made on it exist and is freed with the last of them, so sessions may be destroyed before or
 * after their model. NULL is ignored. The handle must not be used afterwards, and no other
 * thread may be using it (tokenize, token_piece, get_info, session_create) meanwhile. */
EDGEFORMER_API void edgeformer_model_destroy(edgeformer_model* model);

/* What a model does: continue a text (decoders: prefill and generate), turn texts into vectors
 * (encoders: edgeformer_embed and edgeformer_encode; decoders can be encoded too), or turn a
 * source into a target (encoder-decoders: edgeformer_encode_source, then prefill and generate
 * as a decoder). */
typedef enum edgeformer_family {
  EDGEFORMER_FAMILY_DECODER = 0,
  EDGEFORMER_FAMILY_ENCODER = 1,
  EDGEFORMER_FAMILY_ENCODER_DECODER = 2, /* the other fields describe the decoder */
  EDGEFORMER_FAMILY_MAX_ = 0x7fffffff /* not a family: keeps the enum int-sized */
} edgeformer_family;

/* How per-token states become one vector (edgeformer_embed). */
typedef enum edgeformer_pooling {
  EDGEFORMER_POOLING_MODEL = 0,  /* the model's own (its checkpoint's sentence-embedding setup) */
  EDGEFORMER_POOLING_CLS = 1,    /* the first token's state */
  EDGEFORMER_POOLING_MEAN = 2,   /* the mean over the text's tokens */
  EDGEFORMER_POOLING_LAST = 3,   /* the last token's state (decoder embedding models) */
  EDGEFORMER_POOLING_POOLER = 4, /* the model's pooler (BERT: tanh(dense(first token))) */
  EDGEFORMER_POOLING_MAX_ = 0x7fffffff /* not a pooling: keeps the enum int-sized */
} edgeformer_pooling;

typedef struct edgeformer_model_info {
  uint32_t n_layers, dim, hidden_dim, n_heads, n_kv_heads, head_dim, vocab_size, max_seq_len;
  int32_t bos_id, eos_id;    /* -1: none (encoders: CLS and SEP) */
  uint64_t file_bytes;       /* size of the model file */
  uint64_t weight_bytes;     /* bytes of weights one decode step reads */
  const char* weight_type;   /* "f32", "f16", "int8" or "int4": the first layer's matrices (all the
                                layers' unless the converter chose per matrix: edgeformer_model_weights
                                says); static storage */
  edgeformer_family family;  /* decoder or encoder */
  edgeformer_pooling pooling;/* the model's own pooling (EDGEFORMER_POOLING_MODEL when it states none) */
  int normalize;             /* nonzero: its embeddings are L2-normalized by default */
  int has_logits;            /* nonzero: edgeformer_encode can give logits over the vocabulary */
  uint32_t token_types;      /* token type ids it takes (0: none; types are then 0) */
  /* Encoder-decoders (0 otherwise): the encoder's layers and vocabulary, its longest source, and
     the bytes of weights encoding a source reads (the encoder's and every cross-attention
     layer's keys and values). */
  uint32_t encoder_layers, encoder_vocab_size, max_source_length;
  uint64_t encoder_weight_bytes;
} edgeformer_model_info;

/* Fills *out_info (the caller's). Its strings are static. Thread-safe. */
EDGEFORMER_API edgeformer_status edgeformer_model_get_info(const edgeformer_model* model,
                                                           edgeformer_model_info* out_info);

/* ---- Tokenizer --------------------------------------------------------------------------- */

/* Flags of edgeformer_tokenize, or-ed together. */
typedef enum edgeformer_tokenize_flags {
  /* The special tokens the tokenizer puts around a text: BOS (Llama, Gemma), the template's
     (Llama 3.1's <|begin_of_text|>), [CLS] ... [SEP] (BERT); none where the tokenizer adds none
     (Qwen). */
  EDGEFORMER_TOKENIZE_ADD_SPECIAL = 1,
  /* Special tokens written in the text ("<|im_end|>", "<start_of_turn>") become those tokens.
     Leave it off for untrusted text (what a user types), so no one can end a turn or fake a
     role; it is then all plain text. Added tokens that are not special (Qwen's <think>) are
     matched either way, as Hugging Face does. */
  EDGEFORMER_TOKENIZE_PARSE_SPECIAL = 2,
  /* An encoder-decoder's source text (for edgeformer_encode_source): its source-side tokenizer
     (Marian's source.spm) where the model has one, else the same tokenizer; ids of the encoder's
     vocabulary. */
  EDGEFORMER_TOKENIZE_SOURCE = 4,
  EDGEFORMER_TOKENIZE_FLAGS_MAX_ = 0x7fffffff /* not a flag: keeps the enum int-sized */
} edgeformer_tokenize_flags;

/* Encodes `text` (`text_len` bytes of UTF-8; invalid bytes fall back to byte tokens) as the
 * model's tokenizer does (Hugging Face's, for models converted from tokenizer.json), with
 * `flags` (edgeformer_tokenize_flags; 0 for plain text alone). Writes up to `capacity` ids and
 * sets *n_tokens to the number the text needs: if that exceeds capacity, returns
 * EDGEFORMER_INVALID_ARGUMENT and the caller retries with a larger buffer. Unknown flag bits are
 * refused (EDGEFORMER_INVALID_ARGUMENT). Thread-safe. */
EDGEFORMER_API edgeformer_status edgeformer_tokenize(const edgeformer_model* model, const char* text,
                                                     size_t text_len, int flags, int32_t* tokens,
                                                     size_t capacity, size_t* n_tokens);

/* The chat template the model's checkpoint came with (tokenizer_config.json's chat_template, or
 * GGUF's tokenizer.chat_template): Jinja text for the app to render with the conversation, as
 * Hugging Face's apply_chat_template does; "" when it has none. Owned by the model (valid while
 * it lives), never NULL. Thread-safe. */
EDGEFORMER_API const char* edgeformer_model_chat_template(const edgeformer_model* model);

/* How the model stores its matrices, by class (embedding, attention, ffn, classifier, head): for
 * example "embedding int8; attention int4/g32; ffn int4/g32 x10+int8 x2; classifier tied", with a
 * count per type where a class mixes them (edgeformer-convert --quant auto). int4/gN: int4 in
 * groups of N values per scale. Owned by the model (valid while it lives), never NULL; "" for a
 * NULL model. Thread-safe. */
EDGEFORMER_API const char* edgeformer_model_weights(const edgeformer_model* model);

/* The ids that end a text: EOS and the model's end-of-turn tokens (Llama 3's <|eot_id|>, Gemma's
 * <end_of_turn>: every EOS its checkpoint lists). edgeformer_generate stops at any of them (and
 * at BOS). Writes up to `capacity` ids and sets *n_ids to their count (at most 17); more than
 * capacity: EDGEFORMER_INVALID_ARGUMENT. Thread-safe. */
EDGEFORMER_API edgeformer_status edgeformer_model_end_tokens(const edgeformer_model* model, int32_t* ids,
                                                             size_t capacity, size_t* n_ids);

/* One message of a conversation: NUL-terminated UTF-8. */
typedef struct edgeformer_chat_message {
  const char* role;    /* "system", "user", "assistant", "tool", ... */
  const char* content;
} edgeformer_chat_message;

/* Formats a conversation as the model's chat template does: Hugging Face's apply_chat_template
 * (the template's Jinja run by edgeformer: messages, add_generation_prompt, bos_token,
 * eos_token; strftime_now gives today's UTC date). Writes the text, NUL-terminated, to `out`
 * (capacity bytes) and sets *out_len to its length: if capacity is not more than that, returns
 * EDGEFORMER_INVALID_ARGUMENT and the caller retries with a larger buffer. Tokenize the text with
 * EDGEFORMER_TOKENIZE_PARSE_SPECIAL (and without ADD_SPECIAL when the template writes BOS).
 * EDGEFORMER_UNSUPPORTED when the model has no template; EDGEFORMER_INVALID_ARGUMENT, with the
 * template's line, when it does not parse or refuses the conversation. Thread-safe. */
EDGEFORMER_API edgeformer_status edgeformer_chat_format(const edgeformer_model* model,
                                                        const edgeformer_chat_message* messages, size_t n_messages,
                                                        int add_generation_prompt, char* out, size_t capacity,
                                                        size_t* out_len);

/* The text of `token` when it follows `prev_token` (-1 for none), not NUL-terminated: *piece
 * points into the model (valid while it lives), *piece_len bytes. Control and unknown tokens,
 * and every token of a model without a tokenizer, give an empty piece: *piece is "" (never
 * NULL) and *piece_len 0.
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
  /* int8 with one f32 scale per position and kv head (max |x| / 127): about a quarter of f32's
     bytes; outputs differ more from f32 than f16's do (docs/performance.md has the perplexity),
     and are the same on every CPU. */
  EDGEFORMER_KV_I8 = 2,
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
  uint32_t n_threads;      /* threads including the caller, at most 1024; 0 means 1. Default 1.
                              Under load (other programs, other sessions on the same cores) the
                              session uses fewer of them, measured at run time (see
                              edgeformer_session_info.active_threads). */
  uint32_t context_length; /* tokens the KV cache holds; 0 = the model's maximum. Default 0. */
  uint32_t max_batch;      /* prompt tokens processed per step, clamped to [1, min(1024,
                              context_length)]; 0 means the default. Default 32. */
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
  uint32_t max_source_length; /* encoder-decoders: the longest source the session encodes (its
                              encoder keys and the cross-attention cache are sized for it); 0 =
                              the encoder's maximum. Must be 0 for other models. Default 0. */
  uint32_t max_beams;      /* the most beams edgeformer_generate_beam runs, 1 to 64: the KV cache
                              holds that many sequences (max_beams times its memory); 0 means 1.
                              Not with sliding-window models whose window is much shorter than
                              the context. Default 1. */
  uint32_t max_beam_tokens;/* the most tokens edgeformer_generate_beam generates; 0 means 256.
                              Default 256. */
  int huge_pages;          /* nonzero: the KV caches (each of 1 MiB or more: the self-attention
                              cache, an encoder-decoder's source cache) on 2 MiB pages where the
                              OS has them (Linux transparent huge pages in madvise or always
                              mode), so the streams of a decode step miss the TLB less; they then
                              become resident 2 MiB at a time, and their sizes round up to 2 MiB
                              (counted in memory_budget and allocated_bytes). Default 1. */
  uint32_t max_draft_tokens;/* the most proposed tokens edgeformer_generate verifies in one pass
                              (edgeformer_generate_params.lookup_tokens), 0 to 64: the session
                              keeps max_draft_tokens + 1 rows of logits for it, and max_batch is
                              at least max_draft_tokens + 1. Not with max_beams > 1 or encoders.
                              Default 0. */
} edgeformer_session_params;

/* The defaults, by value. Thread-safe. */
EDGEFORMER_API edgeformer_session_params edgeformer_session_default_params(void);

/* Creates a session on `model` with its own KV cache; all its memory is allocated here (and its
 * worker threads started, unless it borrows params->threadpool). The session keeps the model
 * alive (edgeformer_model_destroy may come first). On failure *out_session is NULL and nothing is left allocated. `params` may be NULL
 * (the defaults) and is not kept. Thread-safe: sessions on one model may be created, used and
 * destroyed on different threads at once. */
EDGEFORMER_API edgeformer_status edgeformer_session_create(edgeformer_model* model,
                                                           const edgeformer_session_params* params,
                                                           edgeformer_session** out_session);

/* Frees the session, its KV cache and its threads (not a borrowed pool), and the model when this
 * was its last reference. NULL is ignored. Called while a call on the session runs (from its
 * token callback, or another thread), it is deferred: the running call stops at its next step
 * and frees the session as it returns. The handle must not be used after this call. */
EDGEFORMER_API void edgeformer_session_destroy(edgeformer_session* session);

/* Appends `n_tokens` tokens (the caller's; not kept) to the context and computes the logits that
 * follow them. If they do not fit in the free context, or an id is outside the vocabulary,
 * returns an error and changes nothing; EDGEFORMER_CANCELLED if edgeformer_session_cancel
 * stopped it: the session is then exactly as before the call (position, pending token, logits).
 * EDGEFORMER_BUSY, doing nothing, during another call on the session. Allocates nothing. */
EDGEFORMER_API edgeformer_status edgeformer_session_prefill(edgeformer_session* session, const int32_t* tokens,
                                                            size_t n_tokens);

/* Like edgeformer_session_prefill, and writes the logits that follow each of the n_tokens tokens
 * to `logits` [n_tokens][vocab] (row i predicts the token after tokens[i]), which holds
 * `logits_capacity` floats. For scoring text (perplexity, classification). Cancel works as for
 * prefill (the rows written before the cancel are left in `logits`). */
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

/* Copies the tokens in the KV cache (edgeformer_session_position() of them, position 0 first)
 * to `tokens` and sets *n_tokens to their count; if that exceeds capacity, returns
 * EDGEFORMER_INVALID_ARGUMENT. For finding how much of a new prompt the cache already holds
 * (then edgeformer_session_truncate to it). EDGEFORMER_BUSY during another call on the session. */
EDGEFORMER_API edgeformer_status edgeformer_session_tokens(edgeformer_session* session, int32_t* tokens,
                                                           size_t capacity, size_t* n_tokens);

/* Forgets the context (the memory stays allocated). EDGEFORMER_INVALID_ARGUMENT for NULL;
 * EDGEFORMER_BUSY, doing nothing, during another call on the session. */
EDGEFORMER_API edgeformer_status edgeformer_session_reset(edgeformer_session* session);

/* Keeps the first n_keep tokens of the KV cache and forgets the rest (later tokens, the last
 * generated token, the logits): the next call is a prefill of the new text after them. For
 * editing or regenerating the end of a conversation without recomputing its start. Models with
 * sliding-window layers keep only the window's keys there (plus max_batch positions): going back
 * further recomputes the n_keep tokens (as a prefill of them would; if that fails, the context
 * is forgotten and the error returned).
 * EDGEFORMER_INVALID_ARGUMENT when n_keep exceeds edgeformer_session_position(). */
EDGEFORMER_API edgeformer_status edgeformer_session_truncate(edgeformer_session* session, uint32_t n_keep);

/* Session state files: edgeformer_session_save writes the session's context (its tokens, the last
 * generated token, the logits, every layer's keys and values, an encoder-decoder's source) to
 * `path` (a temporary file beside it, renamed over it when complete). edgeformer_session_load
 * restores such a file into a session of the same model file, KV cache type and context length,
 * replacing its context: the session then continues exactly as the saved one would (the same
 * logits, bit for bit), without the prefill. Load the longest saved prefix of a prompt, then
 * compare edgeformer_session_tokens with the prompt and truncate to their common prefix.
 * A state file is untrusted input: a file from another model, another KV type or context length,
 * truncated or corrupt gets EDGEFORMER_INVALID_ARGUMENT (another format version
 * EDGEFORMER_UNSUPPORTED) with a message, and the session unchanged. The sampler's state is not
 * saved. Encoder-only models keep no context: EDGEFORMER_UNSUPPORTED. EDGEFORMER_IO_ERROR when the
 * file cannot be read or written; EDGEFORMER_BUSY during another call on the session.
 * edgeformer_session_load_memory reads `size` bytes at `data` (caller-owned, read during the
 * call only). */
EDGEFORMER_API edgeformer_status edgeformer_session_save(edgeformer_session* session, const char* path);
EDGEFORMER_API edgeformer_status edgeformer_session_load(edgeformer_session* session, const char* path);
EDGEFORMER_API edgeformer_status edgeformer_session_load_memory(edgeformer_session* session, const void* data,
                                                                size_t size);

/* Asks the edgeformer_session_prefill or edgeformer_generate running on `session` to stop at its
 * next step (a batch of prompt tokens, or one token). A cancelled prefill returns
 * EDGEFORMER_CANCELLED with the context as it was before it; a cancelled generate returns
 * EDGEFORMER_OK with stop reason EDGEFORMER_STOP_CANCELLED, the tokens so far delivered. A
 * request made while no call runs is dropped when the next call starts. The one session function
 * that may be called from any thread while another thread uses the session; the session must
 * not be destroyed meanwhile. */
EDGEFORMER_API void edgeformer_session_cancel(edgeformer_session* session);

/* A bias added to one token's logit before sampling (-INFINITY bans the token). */
typedef struct edgeformer_logit_bias {
  int32_t token;
  float bias;
} edgeformer_logit_bias;

/* How the next token is chosen. In order: logit biases; the penalties, over the last
 * penalty_last_n tokens of the context (prompt and generated alike); then greedy (temperature
 * <= 0: the first highest logit), or softmax at the temperature, then top_k, min_p and top_p
 * (each keeping at least the most probable token), and a draw from the seeded generator. */
typedef struct edgeformer_sampler_params {
  float temperature; /* <= 0: greedy. Default 0.8. */
  uint32_t top_k;    /* 0: off. Default 0. */
  float top_p;       /* >= 1: off. Default 0.9. */
  uint64_t seed;     /* Default 0x5eed. */
  float min_p;       /* 0: off. Keeps the tokens at least min_p times as probable as the most
                        probable one. In [0, 1]. Default 0. */
  float repetition_penalty; /* 1: off. A token in the window has its logit divided by it when
                               positive, multiplied when negative (CTRL; llama.cpp's repeat
                               penalty). > 0. Default 1. */
  float presence_penalty;   /* 0: off. Subtracted from the logit of each token in the window.
                               Default 0. */
  float frequency_penalty;  /* 0: off. Subtracted once per occurrence in the window. Default 0. */
  uint32_t penalty_last_n;  /* The window: that many last tokens (capped at the context). Default 64. */
  const edgeformer_logit_bias* logit_bias; /* n_logit_bias entries (the caller's, read during
                                              the call only; tokens in the vocabulary). Default NULL. */
  size_t n_logit_bias;
} edgeformer_sampler_params;

/* The defaults, by value. Thread-safe. */
EDGEFORMER_API edgeformer_sampler_params edgeformer_sampler_default_params(void);

/* Called with each generated token and its text (as edgeformer_token_piece gives it; `piece` is
 * valid during the call only, never NULL). Return nonzero to continue, 0 to stop. Runs on the
 * thread that called edgeformer_generate, which waits for it. On its own session it may call
 * edgeformer_session_cancel, the read-only queries (position, logits, get_info) and
 * edgeformer_session_destroy (deferred: generate stops after this token and frees the session
 * as it returns); prefill, generate, reset and truncate return EDGEFORMER_BUSY. */
typedef int (*edgeformer_token_callback)(void* user_data, int32_t token, const char* piece, size_t piece_len);

typedef enum edgeformer_stop_reason {
  EDGEFORMER_STOP_MAX_TOKENS = 0,  /* generated max_tokens */
  EDGEFORMER_STOP_END_OF_TEXT = 1, /* the model chose EOS or BOS (not delivered) */
  EDGEFORMER_STOP_CALLBACK = 2,    /* the callback returned 0 */
  EDGEFORMER_STOP_CANCELLED = 3,   /* edgeformer_session_cancel, or a deferred destroy */
  EDGEFORMER_STOP_CONTEXT_FULL = 4,/* the context is full (slide_context off); the call returns
                                      EDGEFORMER_CONTEXT_FULL */
  EDGEFORMER_STOP_ERROR = 5,       /* the call failed (see its status), before or while
                                      generating */
  EDGEFORMER_STOP_STRING = 6       /* the text reached one of the stop strings (not delivered) */
} edgeformer_stop_reason;

typedef struct edgeformer_generate_params {
  uint32_t max_tokens;      /* Default 128. A model with a forced EOS (an encoder-decoder
                               converted with forced_eos_token_id: BART, Marian) makes it the
                               token at the context's last position, as transformers does at
                               max_length (the session's context_length plays that part). */
  int stop_at_end_of_text;  /* nonzero: stop at EOS or BOS. Default 1. */
  edgeformer_sampler_params sampler;
  int slide_context;        /* 0 (default): when the context is full, stop with
                               EDGEFORMER_CONTEXT_FULL. Nonzero: slide it instead: keep the first
                               keep_tokens tokens (a system prompt), drop the older half of the
                               rest, and recompute the kept tokens' cache (a prefill of at most
                               half a context) before going on. Generation then never fills the
                               context; it still allocates nothing. */
  uint32_t keep_tokens;     /* with slide_context: tokens kept at the start, at most
                               context_length - 2 (a larger value is refused, with
                               EDGEFORMER_INVALID_ARGUMENT, before anything is generated: there
                               would be nothing to drop). Default 0. */
  const char* const* stop_strings; /* n_stop_strings NUL-terminated strings (the caller's, read
                                      during the call; at most 16, each 1 to 128 bytes). The text
                                      generated is matched against them across token boundaries:
                                      a token is delivered to the callback only once its text
                                      cannot begin one (so callbacks may lag a few tokens), and
                                      when one completes, generation stops with
                                      EDGEFORMER_STOP_STRING after delivering the text before it
                                      (the token it begins in with its piece cut there). The
                                      tokens stay in the context either way. Default NULL. */
  size_t n_stop_strings;
  uint32_t lookup_tokens;   /* prompt lookup, speculative decoding without a draft model: up to
                               lookup_tokens tokens (at most the session's max_draft_tokens) are
                               proposed from the latest earlier place in the text (prompt and
                               output) where its last 1 to lookup_ngram tokens occur, and checked
                               with the next token in one pass over the weights. Each token is
                               still sampled from the model's own logits as a plain step samples
                               it (greedy or with the sampler's settings and seed), so the
                               output is the same token for token; accepted proposals only make
                               it faster (see edgeformer_session_info's draft counts). 0: off.
                               Default 0. */
  uint32_t lookup_ngram;    /* the longest n-gram prompt lookup matches, 1 to 16. Default 2. */
  edgeformer_session* draft; /* speculative decoding with a draft model: another session, of a
                               smaller decoder with the same vocabulary (the same tokenizer
                               pieces), is brought to this session's text (what its cache shares
                               with it is kept, the rest prefilled) and proposes up to
                               draft_tokens tokens, checked in one pass. Greedy: its argmax
                               proposals, each token still this model's own argmax, so the output
                               is plain greedy's token for token. Sampling: proposals drawn from
                               the draft's distribution (the same sampler settings), kept by
                               speculative sampling's rule (accept with min(1, p/q), else draw from
                               max(0, p - q)): each token has plain sampling's distribution
                               exactly (not a seed's same tokens). The draft session is
                               the caller's, busy during the call (EDGEFORMER_BUSY if it is in
                               use); afterwards it holds the text, plus any rejected proposals.
                               Needs the session's max_draft_tokens; not with lookup_tokens.
                               The two sessions may share one thread pool (the same threadpool
                               in both params): they take turns on it. Default NULL. */
  uint32_t draft_tokens;    /* with draft: the proposals per pass, at most the session's
                               max_draft_tokens; 0 adapts them to what passes accept (from 4, +2
                               after a pass that accepts all, -1 after one that does not).
                               Default 0. */
  int continue_sampling;    /* nonzero: the sampler's random generator goes on from this
                               session's previous edgeformer_generate call instead of starting
                               from sampler.seed (unused then), so a generation made of several
                               calls (a few tokens each, returning to an event loop between them)
                               draws the tokens one call would, given the same settings. The
                               generator outlives reset and truncate: pass 0 to start a text anew.
                               A session's first call seeds it either way. Default 0. */
} edgeformer_generate_params;

/* The defaults, by value. Thread-safe. */
EDGEFORMER_API edgeformer_generate_params edgeformer_generate_default_params(void);

/* Generates tokens after the current context (prefill first), calling `callback` (may be NULL)
 * for each (see stop_strings for when). *n_generated counts the tokens generated into the
 * context. Always sets *n_generated and *stop_reason (either may be NULL), also when it fails:
 * then *stop_reason is EDGEFORMER_STOP_ERROR and *n_generated counts the tokens delivered
 * before the failure (0 for refused parameters). When the context fills up: returns
 * EDGEFORMER_CONTEXT_FULL with EDGEFORMER_STOP_CONTEXT_FULL, having delivered what fit, or
 * slides it (slide_context). EDGEFORMER_BUSY during another call on the session. Allocates
 * nothing. */
EDGEFORMER_API edgeformer_status edgeformer_generate(edgeformer_session* session,
                                                     const edgeformer_generate_params* params,
                                                     edgeformer_token_callback callback, void* user_data,
                                                     size_t* n_generated, edgeformer_stop_reason* stop_reason);

/* ---- Encoding: embeddings, hidden states, masked-LM logits -------------------------------- */

typedef struct edgeformer_embed_params {
  edgeformer_pooling pooling; /* Default EDGEFORMER_POOLING_MODEL. */
  int normalize;              /* -1: the model's default; 0: no; 1: L2-normalize. Default -1. */
} edgeformer_embed_params;

/* The defaults, by value. Thread-safe. */
EDGEFORMER_API edgeformer_embed_params edgeformer_embed_default_params(void);

/* Embeds n_texts texts given as token ids (each with its special tokens, as
 * edgeformer_tokenize with add_bos gives them): text i is lengths[i] ids, the texts one after
 * another in `tokens`; `token_types` (same layout) may be NULL (all type 0). Writes n_texts
 * vectors of model_info.dim floats to `embeddings`, which holds `capacity` floats. An encoder
 * runs several texts per pass (each attends only to itself); a decoder runs them one at a time
 * from an empty context, so its context is forgotten. Each text must fit in the context
 * (EDGEFORMER_CONTEXT_FULL otherwise, nothing written). Allocates nothing. EDGEFORMER_BUSY
 * during another call on the session; edgeformer_session_cancel stops it between passes. */
EDGEFORMER_API edgeformer_status edgeformer_embed(edgeformer_session* session, const int32_t* tokens,
                                                  const int32_t* token_types, const size_t* lengths, size_t n_texts,
                                                  const edgeformer_embed_params* params, float* embeddings,
                                                  size_t capacity);

/* Like edgeformer_embed for texts (text_lens[i] bytes of UTF-8 each), tokenized with the model's
 * tokenizer and its special tokens (BERT: [CLS] text [SEP]); special tokens written in a text are
 * plain text (EDGEFORMER_TOKENIZE_PARSE_SPECIAL off). Allocates the token ids. */
EDGEFORMER_API edgeformer_status edgeformer_embed_texts(edgeformer_session* session, const char* const* texts,
                                                        const size_t* text_lens, size_t n_texts,
                                                        const edgeformer_embed_params* params, float* embeddings,
                                                        size_t capacity);

/* Runs one text of n_tokens ids (token_types may be NULL) and writes, each when not NULL, the
 * final hidden state of every token to hidden [n_tokens][dim] (holding hidden_capacity floats)
 * and its logits over the vocabulary to logits [n_tokens][vocab] (logits_capacity floats; models
 * with model_info.has_logits: masked-LM heads, decoders). A decoder's context is forgotten.
 * Allocates nothing. */
EDGEFORMER_API edgeformer_status edgeformer_encode(edgeformer_session* session, const int32_t* tokens,
                                                   const int32_t* token_types, size_t n_tokens, float* hidden,
                                                   size_t hidden_capacity, float* logits, size_t logits_capacity);

/* Encoder-decoders: forgets the session's context and source, runs the encoder once over the
 * source ids [n_tokens] (1 to the session's max_source_length, each below
 * model_info.encoder_vocab_size: edgeformer_tokenize with EDGEFORMER_TOKENIZE_SOURCE |
 * EDGEFORMER_TOKENIZE_ADD_SPECIAL gives them, with the EOS Marian and T5 end a source with), keeps every
 * cross-attention layer's keys and values of it, and prefills the decoder's start ids: the logits
 * of the first target token are then ready (edgeformer_session_logits), and prefill (a forced
 * target prefix) and edgeformer_generate continue the target. edgeformer_session_reset forgets
 * the source; edgeformer_session_truncate keeps it. When hidden is not NULL it receives the
 * encoder's final hidden states [n_tokens][dim] (hidden_capacity floats). On failure the context
 * and the source are forgotten. Allocates nothing. */
EDGEFORMER_API edgeformer_status edgeformer_encode_source(edgeformer_session* session, const int32_t* tokens,
                                                          size_t n_tokens, float* hidden, size_t hidden_capacity);

/* When beam search stops (transformers' early_stopping): once `beams` hypotheses have ended
 * (ALWAYS); once no running beam can beat the worst of them, judged by its score so far
 * (HEURISTIC, transformers' default False); or only when none can, judged at the maximum length
 * (NEVER). */
typedef enum edgeformer_early_stopping {
  EDGEFORMER_EARLY_STOPPING_HEURISTIC = 0,
  EDGEFORMER_EARLY_STOPPING_ALWAYS = 1,
  EDGEFORMER_EARLY_STOPPING_NEVER = 2,
  EDGEFORMER_EARLY_STOPPING_MAX_ = 0x7fffffff /* not a value: keeps the enum int-sized */
} edgeformer_early_stopping;

typedef struct edgeformer_beam_params {
  uint32_t beams;           /* 1 to the session's max_beams. Default 4. */
  uint32_t max_tokens;      /* generated tokens at most (an ending token included). Default 64. */
  float length_penalty;     /* a hypothesis scores sum(log p) / generated_length^length_penalty.
                               Default 1. */
  edgeformer_early_stopping early_stopping; /* Default HEURISTIC. */
  uint32_t n_best;          /* hypotheses returned, 1 to beams. Default 1. */
} edgeformer_beam_params;

/* The defaults, by value. Thread-safe. */
EDGEFORMER_API edgeformer_beam_params edgeformer_beam_default_params(void);

/* Beam search after the current context (a prefill, or an encoder-decoder's source), as Hugging
 * Face transformers' generate(num_beams=...) does it: every step runs all beams' tokens through
 * the model together, and beams share the KV cache of their common prefix (blocks of 16
 * positions, reordered by table, copied only where a shared block is written). Suppressed ids
 * are never chosen; EOS and the end ids end a hypothesis (the ending token is not returned). The
 * best n_results (<= n_best) hypotheses, best first, go to tokens [n_best][capacity] (a
 * hypothesis longer than capacity is cut, its length still the full one), lengths [n_best] and
 * scores [n_best] (its length-normalized log-probability); tokens, lengths or scores may be NULL.
 * Lengths count the start ids transformers' generate() forces (BART-large-CNN's BOS), and a
 * model with a forced_eos_token_id ends every beam with it at max_tokens, as transformers does.
 * Afterwards the context is what it was before the call, with its logits.
 * edgeformer_session_cancel stops it with EDGEFORMER_CANCELLED. Allocates nothing. */
EDGEFORMER_API edgeformer_status edgeformer_generate_beam(edgeformer_session* session,
                                                          const edgeformer_beam_params* params, int32_t* tokens,
                                                          size_t capacity, uint32_t* lengths, float* scores,
                                                          uint32_t* n_results);

typedef struct edgeformer_session_info {
  const char* isa;         /* ISA of the kernels in use; static storage */
  const char* qgemm_kernel;/* name of the int8 matmul kernel; static storage */
  uint32_t n_threads;
  uint32_t context_length;
  uint64_t allocated_bytes;/* KV cache + activations (+ XNNPACK's packed weights) */
  const char* sgemm_kernel;/* name of the native float matmul kernel (f32 and f16 weights); static storage */
  uint32_t active_threads; /* threads the session runs with now: n_threads, or fewer while it
                              measures that the cores are busy with other work */
  const char* q4gemm_kernel;/* name of the int4 matmul kernel; static storage */
  uint64_t draft_passes;   /* speculative decoding since the session was created: verification
                              passes, */
  uint64_t draft_proposed; /* tokens proposed, */
  uint64_t draft_accepted; /* and proposed tokens the model chose too (delivered for free) */
} edgeformer_session_info;

/* Fills *out_info (the caller's). Its strings are static. */
EDGEFORMER_API edgeformer_status edgeformer_session_get_info(const edgeformer_session* session,
                                                             edgeformer_session_info* out_info);

#ifdef __cplusplus
}
#endif

#endif /* EDGEFORMER_H_ */
