// A conversation with a model: its own KV cache, activations, sampler and threads. Many sessions
// can share one Model.
//
// Memory: everything is sized and allocated in Create; Prefill and Generate allocate nothing.
// Lifetime: the Model must outlive its sessions.
// Thread safety: one thread at a time per session; different sessions may run concurrently.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/profile.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "model/beam_search.h"
#include "model/isa_option.h"
#include "model/kv_blocks.h"
#include "model/layer.h"
#include "model/model.h"
#include "model/sampler.h"
#include "model/stack_tables.h"
#include "ops/xnn_linear.h"
#include "platforms/kernels.h"

namespace edgeformer {

// Who runs the matmuls of float (f32, f16) weights: the native kernels (bit-identical on every
// CPU) or XNNPACK's fully-connected operators (ops/xnn_linear.h). Int8 weights always use the
// native kernels: XNNPACK's int8 operators fix the activation scale when they are created. kAuto
// follows the measurements in docs/performance.md ("XNNPACK or native"): for f32 models XNNPACK
// runs the layers' matmuls in prefill (batches of 2 rows and more), native the decode and the
// classifier; f16 models stay native (XNNPACK would keep an f32 copy of every weight).
enum class Backend { kNative, kXnnpack, kAuto };

struct SessionOptions {
  uint32_t n_threads = 1;
  pthreadpool* pool = nullptr;  // the app's pool (borrowed; outlives the session), replacing n_threads
  uint32_t context_length = 0;  // 0: the model's max_seq_len; never more than it
  uint32_t max_batch = 32;      // prompt tokens processed together
  Isa max_isa = Isa::reference; // used only when use_max_isa is set
  bool use_max_isa = false;     // false: EDGEFORMER_MAX_ISA, or the best the CPU has
  bool release_workers = true;  // let worker threads sleep after each prefill and token
  KvType kv_type = KvType::kF32; // KV cache storage: f32, f16 (half the memory, rounded) or
                                // int8 (a scale per head and position; ops::StoreKv)
  Backend backend = Backend::kAuto;  // who runs float matmuls
  uint64_t memory_budget = 0;   // bytes the session may allocate (KV cache, activations, XNNPACK's
                                // packed weights); 0: no limit. Create refuses a larger plan.
  uint32_t max_source_length = 0;  // encoder-decoders: the longest source; 0: the encoder's
                                   // max_seq_len; never more than it
  uint32_t max_beams = 1;          // the most beams GenerateBeam runs (1 to 64): the KV cache holds
                                   // that many sequences (model/kv_blocks.h), max_beams x context
  uint32_t max_beam_tokens = 256;  // the most tokens GenerateBeam generates (its state's size)
  bool huge_pages = true;          // the KV caches (of 1 MiB or more) on 2 MiB pages where the OS
                                   // has them (core/aligned_buffer.h)
  uint32_t max_draft_tokens = 0;   // the most proposed tokens Generate verifies in one pass (0 to
                                   // 64; GenerateOptions::lookup_tokens): (max_draft_tokens + 1)
                                   // rows of logits, max_batch at least max_draft_tokens + 1
};

class Session;

// The values of the C API's edgeformer_stop_reason, in its order.
enum class StopReason { kMaxTokens, kEndOfText, kCallback, kCancelled, kContextFull, kError };

// Receives each generated token; returns false to stop generating.
using TokenCallback = bool (*)(void* user_data, int32_t token);

struct GenerateOptions {
  uint32_t max_tokens = 128;
  bool stop_at_end_of_text = true;  // stop (without delivering it) at EOS or an end id (ModelConfig::EndsText),
                                    // and at BOS, which starts a new text
  // When the context is full: false, return kContextFull; true, slide it: keep the first
  // keep_tokens, drop the older half of the rest and recompute the cache of what is kept.
  bool slide_context = false;
  uint32_t keep_tokens = 0;
  // Prompt lookup (speculative decoding without a draft model), when lookup_tokens > 0: up to
  // lookup_tokens proposed from the latest earlier match of the text's last 1 to lookup_ngram
  // tokens (model/lookup.h) are verified with the pending token in one pass of the native
  // kernels, and each row's token is sampled as a plain step samples it (the same logits, the
  // history up to that row, one draw per token): the output is plain generation's, token for
  // token, with more than one token per pass over the weights when proposals are right.
  uint32_t lookup_tokens = 0;  // at most SessionOptions::max_draft_tokens
  uint32_t lookup_ngram = 2;   // 1 to 16
  // Speculative decoding with a draft model (Leviathan et al. 2023), when `draft` is not null: a
  // session of a smaller decoder with the same vocabulary (the same tokenizer pieces) is brought
  // to this session's text (what it shares is kept, the rest prefilled), proposes up to
  // draft_tokens tokens, verified in one pass. Greedy: the draft's argmax proposals, each row's
  // token this model's own argmax, so the output is plain greedy's, token for token. Sampling:
  // proposals drawn from the draft's distribution q (the sampler's settings) and kept by the
  // rule of speculative sampling (model/speculative.h), so each token is distributed exactly as
  // plain sampling's (not the same draws: fewer passes). draft_tokens 0: adaptive (from 4, +2 after a pass that accepts all, -1
  // after one that does not), at most SessionOptions::max_draft_tokens either way. The draft
  // session is the caller's (another session; used only during the call) and its context is
  // this text's afterwards, plus rejected proposals. Not with lookup_tokens.
  Session* draft = nullptr;
  uint32_t draft_tokens = 0;
};

// Speculative decoding's counts since the session was created.
struct DraftStats {
  uint64_t passes = 0;    // verification passes
  uint64_t proposed = 0;  // tokens proposed
  uint64_t accepted = 0;  // proposed tokens the model chose too
};

// Texts for Encode: n_texts texts of lengths[i] tokens, one after another in `tokens` (and in
// `token_types`, or all type 0 when it is null). All caller-owned.
struct EncodeInput {
  const int32_t* tokens = nullptr;
  const int32_t* token_types = nullptr;
  const size_t* lengths = nullptr;
  size_t n_texts = 0;
};

// What Encode writes (each caller-owned, null when not wanted): embeddings [n_texts][dim] pooled
// as `pooling` (kNone: the model's own), L2-normalized when `normalize`; the final hidden state
// of every token [total][dim] (after the final norm, when the model has one); the vocabulary
// logits of every token [total][vocab] (models with a classifier: an MLM head, or a decoder).
struct EncodeOutput {
  float* embeddings = nullptr;
  Pooling pooling = Pooling::kNone;
  bool normalize = false;
  float* hidden = nullptr;
  float* logits = nullptr;
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> Create(const Model& model, const SessionOptions& options);

  // Appends `tokens` to the context (after any token still pending from Generate) and computes
  // the logits that follow the last of them. Refuses, changing nothing, when they do not fit.
  // Cancelled (kCancelled) or failed midway, it leaves the session exactly as before the call.
  Error Prefill(const int32_t* tokens, size_t n);

  // Like Prefill, and writes the logits that follow each of the n tokens to
  // logits_out [n][vocab] (caller-owned). For scoring text (perplexity). Cancel as for Prefill.
  Error PrefillWithLogits(const int32_t* tokens, size_t n, float* logits_out);

  // PrefillWithLogits as Generate's verification of proposed tokens runs it: every matmul on the
  // native kernels (XNNPACK's rounding would change the tokens). For benchmarks of that pass.
  Error VerificationPass(const int32_t* tokens, size_t n, float* logits_out);

  // Samples up to options.max_tokens tokens, starting from the current logits, calling `callback`
  // for each. A sampled token enters the KV cache only when another token is needed after it, so
  // the last one is kept pending and fed by the next Prefill or Generate. Returns kContextFull
  // (reason kContextFull) when the cache has no room for the next token (the tokens so far were
  // delivered); on any other error, reason kError. With slide_context, keep_tokens must leave
  // two positions to slide (at most context_length() - 2), checked before anything runs.
  Error Generate(Sampler& sampler, const GenerateOptions& options, TokenCallback callback, void* user_data,
                 size_t* n_generated, StopReason* reason);

  // Runs texts through the stack and writes their embeddings, hidden states and/or logits (see
  // EncodeOutput). An encoder's texts share passes (packed, each attending to itself only); a
  // decoder's run one at a time from position 0, so its context is forgotten. A text must fit in
  // the context. Allocates nothing.
  Error Encode(const EncodeInput& in, const EncodeOutput& out);

  // Encoder-decoders: forgets the context and the source, runs the encoder once on the source
  // ids [n] (1 <= n <= max_source_length(), each in the encoder's vocabulary), stores every
  // cross-attention layer's keys and values of it, then prefills the decoder's start ids, so
  // logits() holds the first target token's. Writes the encoder's final hidden states
  // [n][dim] to `hidden` when it is not null (caller-owned). Allocates nothing. On failure the
  // context and the source are forgotten.
  Error EncodeSource(const int32_t* ids, size_t n, float* hidden);

  // Beam search (model/beam_search.h) from the current context (a prefill, or an
  // encoder-decoder's source): options.beams <= SessionOptions::max_beams, 1 <= n_best <= beams,
  // 1 <= max_tokens <= SessionOptions::max_beam_tokens, fitting the context. Each step runs every
  // beam's token through the model together (one matmul of `beams` rows per weight); beams share
  // the KV blocks of their common prefix and are reordered by their block tables. Afterwards
  // beam_results() holds the hypotheses, and the context is what it was before the call, its
  // logits too. Cancel stops it with kCancelled (the context restored).
  // Allocates nothing.
  Error GenerateBeam(const BeamOptions& options);
  const BeamSearch& beam_results() const { return beam_; }

  // Forgets the context (and an encoder-decoder's source).
  void Reset();

  // Session state files (model/session_state.cc): SaveState writes the context (its tokens, a
  // pending token, the logits, every layer's keys and values, an encoder-decoder's source keys
  // and values) to `path` (through a temporary file renamed over it). LoadState restores such a
  // file into a session of the same model (Model::identity), KV type and context length, which
  // then continues exactly as the saving session would have: the same logits, bit for bit. The
  // file is untrusted: every field is checked before anything is copied, and a refused file
  // (kInvalidArgument; kUnsupported for another format version) leaves the session unchanged.
  // The sampler's state is not part of it. Encoders keep no context: kUnsupported.
  // LoadStateFromMemory reads `size` caller-owned bytes (LoadState maps the file: the cache is
  // copied once, from the page cache). Allocate nothing but the file's small tables.
  Error SaveState(const std::string& path) const;
  Error LoadState(const std::string& path);
  Error LoadStateFromMemory(const void* data, size_t size);

  // Keeps the first n tokens of the KV cache (n <= position()) and forgets the rest: later
  // tokens, a pending one and the logits. The next call is a Prefill. For editing or
  // regenerating the end of a conversation. Sliding-window layers keep only their window (plus
  // max_batch) of positions: going back further than that recomputes the n tokens kept.
  Error Truncate(uint32_t n);

  // Asks the Prefill or Generate running on another thread to stop at its next step boundary
  // (a batch of prompt tokens, or a token). Prefill then returns kCancelled and leaves the
  // context as it was before the call; Generate returns Ok with StopReason::kCancelled, the
  // tokens so far delivered. A request made while no call runs is dropped when the next call
  // starts. The only method that may be called concurrently with the others.
  void Cancel() { cancel_.store(true, std::memory_order_relaxed); }

  // Times every operator into `profile` (caller-owned, outlives its use) from now on; nullptr
  // stops profiling.
  void SetProfile(Profile* profile) { profile_ = profile; }

  // Logits [vocab] after the last Prefill/Generate step, or nullptr if none yet.
  const float* logits() const { return has_logits_ ? logits_.as<float>() : nullptr; }
  const DraftStats& draft_stats() const { return draft_stats_; }
  // The tokens of the cache, position 0 first (position() of them).
  const int32_t* history() const { return history_.as<int32_t>(); }
  uint32_t position() const { return pos_; }
  // The newest token of the context (pending or in the cache), or -1 when it is empty.
  int32_t last_token() const;
  uint32_t context_length() const { return context_; }
  // Encoder-decoders: the longest source, and the length of the current one (0: none).
  uint32_t max_source_length() const { return max_source_; }
  uint32_t source_length() const { return source_len_; }
  const KernelTable& kernels() const { return kernels_; }
  KvType kv_type() const { return kv_type_; }
  Backend backend() const { return backend_; }
  const Model& model() const { return model_; }
  size_t threads() const { return pool_->threads(); }
  // Threads the pool runs parallel work on now (fewer than threads() while it finds the cores
  // busy). Approximate when read from another thread.
  size_t active_threads() const { return pool_->active_threads(); }
  // Bytes this session allocated (KV cache, activations, tables).
  size_t allocated_bytes() const { return allocated_; }

 private:
  explicit Session(const Model& model) : model_(model) {}
  // Allocates the buffers, after checking their total plus `extra` (XNNPACK's) and `beam_bytes`
  // (the beam search's state, allocated after) against the budget.
  Error Allocate(uint64_t budget, uint64_t extra, uint64_t beam_bytes);
  // A decoder step: runs n <= max_batch tokens at positions pos_..pos_+n-1 into the cache.
  // Computes the logits of the last into logits_ when want_logits, or of every row into
  // all_logits [n][vocab] (logits_ untouched) when that is not null. Fails only when an XNNPACK
  // operator does (kInternal).
  Error Forward(const int32_t* tokens, size_t n, bool want_logits, float* all_logits = nullptr);
  // A KV cache region: per cache layer, [n_kv_heads][slots][head_dim] of kv_type_ from byte
  // `offset` of k (and of v); int8: then f32 scales [n_kv_heads][slots] from `scales`. A
  // sliding-window layer whose window is much shorter than the context keeps a mirrored ring of
  // ring = window + max_batch - 1 positions (slots = 2 ring): a pass of max_batch rows then finds
  // every key its queries see (model/layer.h, LayerCache).
  struct CacheLayout {
    size_t offset = 0;
    size_t scales = 0;
    size_t slots = 0;
    size_t ring = 0;
    uint32_t window = 0;
  };
  struct KvStore {
    AlignedBuffer k, v;
    std::vector<CacheLayout> layouts;  // one per cache layer
    size_t bytes = 0;                  // of k, and of v
    // Lays out one more cache layer of `slots` slots (ring: 0, or its length) of kv_dim values.
    void AddLayer(size_t slots, size_t ring, uint32_t window, size_t kv_dim, size_t n_kv_heads, KvType type);
    // Layer `l`'s view (head_dim values per head and slot). `slots`, when not 0 (at most the
    // layer's), packs the heads that many slots apart instead of the layer's slots: a source's
    // keys and values sit densely for its length, one contiguous run per layer.
    LayerCache View(size_t l, size_t head_dim, KvType type, size_t slots = 0) const;
  };
  // One stack as RunStack runs it: its config and weights, tables, and cache (one cache layer
  // for all layers, or one each); `source` set for a decoder that attends to the source.
  struct StackView {
    const ModelConfig* config;
    const GlobalWeights* globals;
    const LayerWeights* layers;  // [config->n_layers]
    const StackTables* tables;
    const KvStore* cache;
    const KvStore* source;
  };
  StackView DecoderView() const;
  StackView EncoderView() const;
  // Runs tokens[k], the next token of beams 0..k-1 (block tables blocks_), at position pos; their
  // logits into logits_ [k][vocab].
  Error ForwardBeams(const int32_t* tokens, uint32_t k, uint32_t pos);
  // Copies `count` slots of every cache layer (keys, values, int8 scales) from slot `from` on to
  // slot `to` on.
  void CopySlots(size_t from, size_t to, size_t count);
  // A stack on rows.n rows (embedding and every layer): x_ ends as their last hidden states.
  Error RunStack(const StackView& stack, const int32_t* tokens, const int32_t* token_types, const RowLayout& rows);
  // The head on `count` rows of x_ from `first`: hidden [count][dim] after the final norm (into
  // xb_ when out is null); logits [count][vocab] when `logits` is not null.
  Error Head(size_t first, size_t count, float* hidden, float* logits);
  // Pools one text's hidden states [n][dim] (after the final norm) into out [dim].
  Error Pool(Pooling pooling, const float* hidden, size_t n, bool normalize, float* out);
  // Encode for encoders: whole texts packed into passes of about kPassRows rows (encode.cc).
  Error EncodePacked(const EncodeInput& in, const EncodeOutput& out);
  Error CheckPrefill(const int32_t* tokens, size_t n) const;
  // The shared loop of Prefill and PrefillWithLogits: restores the state on cancel or failure.
  Error RunPrefill(const int32_t* tokens, size_t n, float* all_logits);
  // Keeps the first `keep` tokens of the full cache, drops the older half of the rest and
  // recomputes the cache of the tokens after them (from history_). Sets *slid to false when
  // nothing can go.
  Error SlideContext(uint32_t keep, bool* slid);
  Error FeedPending();
  // Feeds the pending token and computes the logits after it; on failure it stays pending and
  // the session is as before.
  Error StepPending();
  // Sets the context to its first n tokens. Where a sliding-window ring no longer holds the keys
  // position n needs (written over by later positions), recomputes the n tokens from history_;
  // if that fails, the context is forgotten.
  Error RestoreTo(uint32_t n);
  // State files: the oldest position cache layer l keeps for the next query (0, or a ring's
  // window), and every cache region a state file holds, in its order: f(cache, first, count).
  uint32_t StateFirst(size_t l) const;
  template <typename F>
  void ForEachStateLayer(const uint32_t* first, F&& f) const;
  // Recomputes the cache of history_'s first n tokens from position 0 (Reset when that fails).
  Error Replay(uint32_t n);
  // Whether every ring still holds the keys the query at position n attends to.
  bool RingsHold(uint32_t n) const;

  const Model& model_;
  KernelTable kernels_{};
  std::unique_ptr<ThreadPool> pool_;
  uint32_t context_ = 0;
  uint32_t max_batch_ = 0;
  uint32_t pos_ = 0;
  bool has_logits_ = false;
  int32_t pending_ = -1;  // sampled by Generate, not yet in the cache
  size_t allocated_ = 0;
  std::atomic<bool> cancel_{false};
  Profile* profile_ = nullptr;
  bool release_workers_ = true;
  KvType kv_type_ = KvType::kF32;
  std::unique_ptr<ops::XnnOperators> xnn_;  // null: native matmuls only
  Backend backend_ = Backend::kNative;     // as chosen (kNative when the model has no float matmul)
  Phase phase_ = Phase::kPrefill;

  // The context's keys and values: one cache layer for an encoder (its layers run one after
  // another over a pass), one per layer for decoders.
  KvStore cache_;
  bool rings_ = false;
  uint32_t written_ = 0;  // one past the highest position written since the last Reset
  // Encoder-decoders: the encoder's one cache layer and every decoder layer's source keys and
  // values, max_source_ slots each; the scratch rows hold max(max_batch_, max_source_) rows.
  KvStore encoder_cache_;
  KvStore source_cache_;
  uint32_t max_source_ = 0;
  uint32_t source_len_ = 0;
  // The slots between two heads of a source of n tokens: n rounded up to 16 (each head starts
  // on a 64-byte line for any head_dim of 4-byte multiples), at most max_source_. Packed so a
  // decode step reads each layer's source as one run, not a run per head with gaps.
  size_t SourceSlots(size_t n) const { return std::min<size_t>(max_source_, (n + 15) / 16 * 16); }
  StackTables encoder_tables_;
  // Beam search: sequences of the cache, the search's state, each step's beams.
  uint32_t max_beams_ = 1;
  bool huge_pages_ = true;  // SessionOptions::huge_pages
  // Speculative decoding: verification rows' tokens and logits, [max_draft_ + 1] and
  // [max_draft_ + 1][vocab]; native_pass_ while a verification runs (every matmul native, as
  // one-row steps are, so each row's logits are a step's bits).
  uint32_t max_draft_ = 0;
  AlignedBuffer draft_tokens_, draft_logits_;
  // A sampled draft's distributions [max_draft_][vocab] (row j: the one proposal j+1 was drawn
  // from), and the model's distribution of one row [vocab] (speculative sampling).
  AlignedBuffer draft_q_, draft_p_;
  bool native_pass_ = false;
  DraftStats draft_stats_;
  size_t XnnMinRows() const {
    return native_pass_ ? SIZE_MAX : backend_ == Backend::kAuto ? size_t{2} : size_t{1};
  }
  // Generate's token after `fed` tokens whose logits are `row` (suppressed ids out first, a
  // forced EOS at the context's last position). May write into row. With q (speculative
  // sampling): `proposed` (drawn from q [vocab], or -1 for none) when the rule of
  // model/speculative.h accepts it, else a draw from the rejection's distribution (from the
  // model's own with no proposal).
  int32_t SampleAt(float* row, uint32_t fed, Sampler& sampler, const float* q = nullptr, int32_t proposed = -1);
  // Delivers a sampled token as Generate does: true (and *reason set) when generation stops
  // there (an end of text, not delivered; a refusing callback; max_tokens reached).
  static bool Deliver(int32_t token, const ModelConfig& c, const GenerateOptions& options, TokenCallback callback,
                      void* user_data, size_t* n_generated, StopReason* reason);
  // Draft-model proposals: brings `draft` to the text (the cache's tokens and the pending one)
  // and writes up to max_k tokens of its continuation to draft_tokens_[1, *k]: greedy (its
  // argmax) when the sampler is, else each drawn from the draft's distribution under the
  // sampler's settings, kept in draft_q_.
  Error ProposeDraft(Session& draft, size_t max_k, Sampler& sampler, size_t* k);
  // Refuses a draft session this session cannot use (see GenerateOptions::draft).
  Error CheckDraft(const Session& draft) const;
  // Feeds the pending token and `k` proposed tokens (in draft_tokens_[1, k]) in one pass,
  // samples each row's token as Generate's step does (or, with `q`, the distributions sampled
  // proposals were drawn from, by speculative sampling), delivers them while the model agrees,
  // and keeps the context up to the last row used (the pending token is then that row's
  // sample). Sets *stop when delivery must end (reason set).
  Error VerifyDraft(size_t k, const float* q, Sampler& sampler, const GenerateOptions& options,
                    TokenCallback callback, void* user_data, size_t* n_generated, StopReason* reason, bool* stop);
  KvBlocks blocks_;
  BeamSearch beam_;
  std::vector<const uint32_t*> beam_tables_;
  std::vector<uint32_t> beam_parents_;
  std::vector<int32_t> beam_tokens_;
  // Scratch of `rows` rows (max_batch_; an encoder-decoder's also hold a source), each
  // as wide as the widest stack needs.
  AlignedBuffer k_new_, v_new_;      // [rows][kv_dim] f32: this step's keys and values
  AlignedBuffer positions_;          // [rows] int32: each row's position in its text
  AlignedBuffer seg_begin_, seg_end_;  // [rows] uint32: each row's text (packed encoder passes)
  AlignedBuffer history_;            // [context] int32: the token at each position of the cache
  AlignedBuffer x_, xb_, tmp_;       // [rows][dim]
  AlignedBuffer q_, att_;            // [rows][q_dim]
  AlignedBuffer gate_, up_;          // [rows][hidden_dim]
  AlignedBuffer xq_, xq_scales_;     // [rows][xq_stride_] int8, [rows] f32
  AlignedBuffer xq_sums_;            // [rows][xq_stride_ / 32] int32: 32-value sums (int4)
  size_t xq_stride_ = 0;             // ActivationRowBytes of the widest matmul input
  AlignedBuffer scores_;             // [n_heads][scores_stride_]: max(context, max_source)
  size_t scores_stride_ = 0;
  AlignedBuffer logits_;             // [max_beams + 1][vocab]: beams, then the prompt's kept by GenerateBeam
  AlignedBuffer pooled_;             // [dim]: a pooler's input row
  StackTables tables_;
};

}  // namespace edgeformer
