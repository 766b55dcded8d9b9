#include "tools/bench/run_test.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "model/sampler.h"

namespace edgeformer {
namespace bench {
namespace {

// Deterministic token ids spread over the vocabulary.
std::vector<int32_t> Tokens(size_t n, uint32_t vocab, uint32_t salt) {
  std::vector<int32_t> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = static_cast<int32_t>((i * 7919 + salt * 104729 + 1) % vocab);
  return t;
}

}  // namespace

Result<TestResult> RunTest(const Model& model, Session& session, const Combo& combo, uint32_t n_prompt,
                           uint32_t n_gen, const Config& config, Barrier* barrier, Spans* spans) {
  TestResult r;
  const bool encoder = model.config().family == Family::kEncoderOnly;
  // Encoder-decoders: srcN encodes a source of N tokens (through the first target token's
  // logits); tgN@srcS generates N target tokens after a source of S.
  const bool seq2seq = model.config().family == Family::kEncoderDecoder;
  r.test = encoder                  ? "emb" + std::to_string(n_prompt)
           : seq2seq && n_prompt > 0 ? "src" + std::to_string(n_prompt)
           : n_prompt > 0            ? "pp" + std::to_string(n_prompt)
           : seq2seq                 ? "tg" + std::to_string(n_gen) + "@src" + std::to_string(combo.source)
                                     : "tg" + std::to_string(n_gen);
  if (combo.beams > 0) r.test += "-beam" + std::to_string(combo.beams);
  if (combo.restore) r.test = "rs" + std::to_string(n_prompt);
  if (combo.verify > 0) r.test = "pv" + std::to_string(combo.verify);
  if (combo.speculative > 0) {
    r.test += "@prompt";
    if (combo.speculative == 2) {
      r.test += combo.draft != nullptr ? "-draft" + std::to_string(config.draft_tokens)
                                       : "-lookup" + std::to_string(config.lookup_tokens);
    }
  }
  r.n_prompt = n_prompt;
  r.n_gen = n_gen;
  r.depth = combo.depth;
  r.repetitions = config.repetitions;
  r.threads = static_cast<uint32_t>(session.threads());
  // The matmul kernel the layers use: int8, int4 or float (f32, f16) by the first layer's weights.
  const bool int8 = model.matmul_type() == WeightType::kInt8;
  const bool int4 = model.matmul_type() == WeightType::kInt4;
  const KernelTable& k = session.kernels();
  r.isa = IsaName(int8 ? k.qgemm_isa : int4 ? k.q4gemm_isa : k.sgemm_isa);
  r.kernel = int8                                  ? k.qgemm_name
             : int4                                ? k.q4gemm_name
             : session.backend() == Backend::kXnnpack ? "xnn_fully_connected_nc_f32"
             : session.backend() == Backend::kAuto    ? "xnn_fully_connected_nc_f32 (prefill)"
                                                       : k.sgemm_name;
  r.backend = combo.backend;
  r.kv_type = combo.kv_type;
  const uint32_t vocab = model.config().vocab_size;
  // Decode starts from the depth's context, or from one token when the depth is 0 (an
  // encoder-decoder's target: from its start ids, then the depth's tokens).
  const uint32_t start = combo.prompt != nullptr          ? static_cast<uint32_t>(combo.prompt->size())
                         : n_gen > 0 && !seq2seq ? std::max<uint32_t>(combo.depth, 1)
                                                 : combo.depth;
  if (combo.prompt != nullptr) r.depth = start;
  const uint64_t needed = seq2seq ? uint64_t{start} + n_gen + model.config().decoder_start_ids.size()
                                  : uint64_t{start} + n_prompt + n_gen;
  if (seq2seq && combo.source > session.max_source_length()) {
    return Error(Status::kInvalidArgument, r.test + " needs a source of " + std::to_string(combo.source) +
                                               " tokens; the encoder takes at most " +
                                               std::to_string(session.max_source_length()));
  }
  if (needed > session.context_length()) {
    const uint64_t room = session.context_length() > start ? session.context_length() - start : 0;
    return Error(Status::kInvalidArgument, r.test + " at depth " + std::to_string(combo.depth) + " needs " +
                                               std::to_string(needed) + " positions; the context holds " +
                                               std::to_string(session.context_length()) + ", so at this depth a " +
                                               (combo.verify > 0 ? "pass (--verify K: K + 1 rows)"
                                                : n_prompt > 0   ? "prompt (-p)"
                                                                 : "generation (-n)") +
                                               " of at most " + std::to_string(room) + " tokens fits");
  }
  if (n_gen > 0) {
    // Decode step i attends over start + i + 1 positions: K and V rows of every layer (of its
    // window, for a sliding-window layer).
    const ModelConfig& c = model.config();
    const double positions = start + (n_gen + 1) / 2.0;
    double rows = 0.0;
    for (const LayerConfig& l : c.layers) {
      rows += l.sliding_window != 0 ? std::min(positions, static_cast<double>(l.sliding_window)) : positions;
    }
    // int8: a 4-byte scale per head and position beside the head_dim values.
    // A cross-attention layer reads the source's keys and values too.
    for (const LayerConfig& l : c.layers) rows += l.cross_attention ? combo.source : 0;
    const double bytes = session.kv_type() == KvType::kI8 ? 1.0 + 4.0 / c.head_dim : KvTypeBytes(session.kv_type());
    // Beams: each reads its own keys and values (the cross-attention's are shared but read per beam).
    const double per_row = 2.0 * c.kv_dim() * bytes * std::max<uint32_t>(1, combo.beams);
    r.kv_bytes_per_token = static_cast<uint64_t>(per_row * rows);
    double cross_rows = 0.0;
    for (const LayerConfig& l : c.layers) cross_rows += l.cross_attention ? combo.source : 0;
    // The beams share the source's keys and values: a step reads them from memory once.
    r.cross_bytes_per_token = static_cast<uint64_t>(per_row / std::max<uint32_t>(1, combo.beams) * cross_rows);
  }
  const uint32_t source_vocab = seq2seq ? model.config().encoder->vocab_size : 0;
  const std::vector<int32_t> source = Tokens(combo.source, std::max<uint32_t>(source_vocab, 1), 4);
  const std::vector<int32_t> context = combo.prompt != nullptr ? *combo.prompt : Tokens(start, vocab, 1);
  const std::vector<int32_t> prompt = Tokens(n_prompt, vocab, 2);
  // Encoders: embed_batch texts of n_prompt tokens per call, pooled as the model says (or CLS).
  const size_t batch = config.embed_batch;
  const std::vector<int32_t> texts = encoder ? Tokens(batch * n_prompt, vocab, 3) : std::vector<int32_t>();
  const std::vector<size_t> lengths(encoder ? batch : 0, n_prompt);
  std::vector<float> embeddings(encoder ? batch * model.config().dim : 0);
  EncodeInput encode_in;
  encode_in.tokens = texts.data();
  encode_in.lengths = lengths.data();
  encode_in.n_texts = batch;
  EncodeOutput encode_out;
  encode_out.embeddings = embeddings.data();
  encode_out.pooling = model.config().pooling == Pooling::kNone ? Pooling::kCls : Pooling::kNone;
  Sampler sampler;
  EF_RETURN_IF_ERROR(sampler.Init(vocab, SamplerParams{}));  // greedy
  GenerateOptions gen;
  gen.max_tokens = n_gen + 1;  // n_gen forward passes: the last sampled token is not fed
  gen.stop_at_end_of_text = false;
  if (combo.speculative == 2) {
    gen.draft = combo.draft;
    gen.draft_tokens = config.draft_tokens;
    gen.lookup_tokens = combo.draft != nullptr ? 0 : config.lookup_tokens;
  }
  const DraftStats stats_before = session.draft_stats();
  std::vector<double> seconds, ttft, steps, ratios;
  std::vector<float> pass_logits(combo.verify > 0 ? size_t{n_prompt} * vocab : 0);
  // rsN: the state after the prompt (and its depth), saved once; each repetition restores it.
  const std::string state_path = "/tmp/edgeformer-bench-" + std::to_string(getpid()) + ".state";
  struct Remove {
    const std::string& path;
    bool active;
    ~Remove() {
      if (active) std::remove(path.c_str());
    }
  } remove_state{state_path, combo.restore};
  if (combo.restore) {
    session.Reset();
    if (start > 0) EF_RETURN_IF_ERROR(session.Prefill(context.data(), context.size()));
    EF_RETURN_IF_ERROR(session.Prefill(prompt.data(), prompt.size()));
    EF_RETURN_IF_ERROR(session.SaveState(state_path));
  }
  Profile profile;
  // The session never keeps a pointer to this function's profile, also when a run fails.
  struct Unprofile {
    Session& session;
    ~Unprofile() { session.SetProfile(nullptr); }
  } unprofile{session};
  ResetPeakRss();
  for (uint32_t rep = 0; rep < config.warmups + config.repetitions; ++rep) {
    const bool timed = rep >= config.warmups;
    session.Reset();
    session.SetProfile(nullptr);
    if (seq2seq && n_prompt == 0) EF_RETURN_IF_ERROR(session.EncodeSource(source.data(), source.size(), nullptr));
    if (start > 0 && !encoder && n_prompt == 0) EF_RETURN_IF_ERROR(session.Prefill(context.data(), context.size()));
    if (start > 0 && !encoder && !seq2seq && n_prompt > 0) {
      EF_RETURN_IF_ERROR(session.Prefill(context.data(), context.size()));
    }
    if (timed && config.profile) session.SetProfile(&profile);
    if (barrier != nullptr) barrier->Wait();
    const auto t0 = Clock::now();
    Clock::time_point end = t0;  // pvK: the pass's end
    if (encoder) {
      EF_RETURN_IF_ERROR(session.Encode(encode_in, encode_out));
      if (timed) seconds.push_back(Since(t0));
    } else if (seq2seq && n_prompt > 0) {
      EF_RETURN_IF_ERROR(session.EncodeSource(source.data(), source.size(), nullptr));
      const double encoded = Since(t0);
      (void)sampler.Sample(session.logits());
      if (timed) {
        seconds.push_back(encoded);
        ttft.push_back(Since(t0));
      }
    } else if (combo.restore) {
      EF_RETURN_IF_ERROR(session.LoadState(state_path));
      const double restored = Since(t0);
      (void)sampler.Sample(session.logits());
      if (timed) {
        seconds.push_back(restored);
        ttft.push_back(Since(t0));
      }
    } else if (combo.verify > 0) {
      // The pass verifying K proposals (every row's logits, native matmuls: Generate's
      // verification), then a one-row step from the same context: each pair close in time, so
      // the host's drift cancels in their ratio. Both run as prefill phases in a profile.
      EF_RETURN_IF_ERROR(session.VerificationPass(prompt.data(), prompt.size(), pass_logits.data()));
      const double pass = Since(t0);
      end = Clock::now();
      session.SetProfile(nullptr);  // the profile and the span are the pass's
      EF_RETURN_IF_ERROR(session.Truncate(start));
      const auto t1 = Clock::now();
      EF_RETURN_IF_ERROR(session.PrefillWithLogits(prompt.data(), 1, pass_logits.data()));
      const double step = Since(t1);
      if (timed) {
        seconds.push_back(pass);
        steps.push_back(step);
        ratios.push_back(pass / step);
      }
    } else if (n_prompt > 0) {
      EF_RETURN_IF_ERROR(session.Prefill(prompt.data(), prompt.size()));
      const double prefill = Since(t0);
      (void)sampler.Sample(session.logits());
      if (timed) {
        seconds.push_back(prefill);
        ttft.push_back(Since(t0));
      }
    } else if (combo.beams > 0) {
      // Beam search of n_gen steps (early stopping never; a search that ends sooner counts
      // the steps it ran): tokens/s per output token.
      BeamOptions beam;
      beam.beams = combo.beams;
      beam.max_tokens = n_gen;
      beam.early_stopping = EarlyStopping::kNever;
      EF_RETURN_IF_ERROR(session.GenerateBeam(beam));
      if (timed) {
        seconds.push_back(Since(t0) * n_gen / std::max<uint32_t>(1, session.beam_results().length()));
      }
    } else {
      size_t n = 0;
      StopReason reason;
      EF_RETURN_IF_ERROR(session.Generate(sampler, gen, nullptr, nullptr, &n, &reason));
      if (timed) seconds.push_back(Since(t0));
    }
    if (timed && spans != nullptr) spans->emplace_back(t0, combo.verify > 0 ? end : Clock::now());
  }
  session.SetProfile(nullptr);
  if (combo.speculative == 2) {  // over every run, the warm-ups too
    const DraftStats& after = session.draft_stats();
    const double proposed = static_cast<double>(after.proposed - stats_before.proposed);
    const double accepted = static_cast<double>(after.accepted - stats_before.accepted);
    const double passes = static_cast<double>(after.passes - stats_before.passes);
    r.acceptance = proposed > 0 ? accepted / proposed : 0.0;
    r.tokens_per_pass = passes > 0 ? 1.0 + accepted / passes : 1.0;
  }
  if (combo.verify > 0) {
    r.pass_vs_step = Summarize(ratios).median;
    r.step_seconds = Summarize(steps);
  }
  r.peak_rss_bytes = PeakRss();
  r.seconds = Summarize(seconds);
  std::vector<double> rates;
  std::vector<double> sentences;
  for (double s : seconds) {
    rates.push_back((encoder ? batch * n_prompt : n_prompt > 0 ? n_prompt : n_gen) / s);
    if (encoder) sentences.push_back(batch / s);
  }
  r.tokens_per_s = Summarize(rates);
  r.sentences_per_s = Summarize(sentences);
  if (!ttft.empty()) r.ttft_ms = Summarize(ttft).mean * 1e3;
  r.expected_bytes = model.file_size() + session.allocated_bytes();
  r.weight_bytes_per_token = model.weight_bytes();
  r.has_profile = config.profile;
  r.profile = profile;
  r.profiled_runs = config.profile ? config.repetitions : 0;
  r.background_load = config.background_load;
  r.active_threads = static_cast<uint32_t>(session.active_threads());
  return r;
}

}  // namespace bench
}  // namespace edgeformer
