// Beam search on a session: the beams' tokens run through the model together, their keys and
// values kept in the KV blocks of model/kv_blocks.h (shared prefixes, reordered by table).
#include <algorithm>
#include <cstring>

#include "model/session.h"

namespace edgeformer {

void Session::CopySlots(size_t from, size_t to, size_t count) {
  const ModelConfig& c = model_.config();
  const size_t elem = KvTypeBytes(kv_type_);
  for (size_t l = 0; l < cache_.layouts.size(); ++l) {
    const LayerCache cache = cache_.View(l, c.head_dim, kv_type_);
    const size_t slots = cache.head_stride / c.head_dim;
    for (size_t h = 0; h < c.n_kv_heads; ++h) {
      for (char* base : {cache.k, cache.v}) {
        char* head = base + h * cache.head_stride * elem;
        std::memmove(head + to * c.head_dim * elem, head + from * c.head_dim * elem, count * c.head_dim * elem);
      }
      if (kv_type_ == KvType::kI8) {
        for (float* scales : {cache.k_scales, cache.v_scales}) {
          std::memmove(scales + h * slots + to, scales + h * slots + from, count * sizeof(float));
        }
      }
    }
  }
}

Error Session::ForwardBeams(const int32_t* tokens, uint32_t k, uint32_t pos) {
  int32_t* positions = positions_.as<int32_t>();
  for (uint32_t i = 0; i < k; ++i) {
    positions[i] = static_cast<int32_t>(pos);
    beam_tables_[i] = blocks_.table(i);
  }
  RowLayout rows;
  rows.n = k;
  rows.first = pos;
  rows.positions = positions;
  rows.tables = beam_tables_.data();
  rows.block = KvBlocks::kBlock;
  EF_RETURN_IF_ERROR(RunStack(DecoderView(), tokens, nullptr, rows));
  return Head(0, k, nullptr, logits_.as<float>());
}

Error Session::GenerateBeam(const BeamOptions& options) {
  const ModelConfig& c = model_.config();
  if (c.family == Family::kEncoderOnly) return Error(Status::kUnsupported, "an encoder does not generate");
  if (c.family == Family::kEncoderDecoder && source_len_ == 0) {
    return Error(Status::kInvalidArgument, "an encoder-decoder needs a source first (edgeformer_encode_source)");
  }
  if (options.beams < 1 || options.beams > max_beams_) {
    return Error(Status::kInvalidArgument, "beams " + std::to_string(options.beams) + " is outside [1, " +
                                               std::to_string(max_beams_) + "] (the session's max_beams)");
  }
  if (options.n_best < 1 || options.n_best > options.beams) {
    return Error(Status::kInvalidArgument, "n_best must be 1 to the number of beams");
  }
  if (size_t{2} * options.beams > c.vocab_size) return Error(Status::kInvalidArgument, "more beams than half the vocabulary");
  if (!(options.length_penalty == options.length_penalty) || std::abs(options.length_penalty) > 100.0f) {
    return Error(Status::kInvalidArgument, "length_penalty must be a number in [-100, 100]");
  }
  if (options.max_tokens < 1 || options.max_tokens > std::min(context_, static_cast<uint32_t>(beam_.capacity()))) {
    return Error(Status::kInvalidArgument, "max_tokens must be 1 to " +
                                               std::to_string(std::min(context_, static_cast<uint32_t>(beam_.capacity()))) +
                                               " (the session's max_beam_tokens)");
  }
  if (!has_logits_ && pending_ < 0) return Error(Status::kInvalidArgument, "nothing to continue: prefill a prompt first");
  const uint32_t needed = pos_ + (pending_ >= 0 ? 1 : 0) + options.max_tokens - 1;
  if (needed > context_) {
    return Error(Status::kContextFull, "beam search of " + std::to_string(options.max_tokens) + " tokens needs " +
                                           std::to_string(needed) + " positions; the context holds " +
                                           std::to_string(context_));
  }
  cancel_.store(false, std::memory_order_relaxed);
  phase_ = Phase::kDecode;
  if (pending_ >= 0) EF_RETURN_IF_ERROR(StepPending());  // the pending token joins the prompt
  const uint32_t prompt = pos_;
  const uint32_t k = options.beams;
  float* kept = logits_.as<float>() + size_t{max_beams_} * c.vocab_size;  // the prompt's logits, restored after
  std::copy_n(logits_.as<float>(), c.vocab_size, kept);
  beam_.Start(options);
  if (k > 1) blocks_.Fork(k, (prompt + KvBlocks::kBlock - 1) / KvBlocks::kBlock);
  Error err = Error::Ok();
  for (;;) {
    if (beam_.Step(logits_.as<float>(), c.vocab_size, c, beam_parents_.data(), beam_tokens_.data())) break;
    if (beam_.length() >= options.max_tokens) break;
    if (cancel_.exchange(false, std::memory_order_relaxed)) {
      err = Error(Status::kCancelled, "beam search cancelled; the context is as it was before it");
      break;
    }
    // The new tokens go to position `at` of each beam.
    const uint32_t at = prompt + beam_.length() - 1;
    if (k == 1) {
      err = Forward(beam_tokens_.data(), 1, true);
    } else {
      blocks_.Reorder(beam_parents_.data(), k, (at + KvBlocks::kBlock) / KvBlocks::kBlock);
      for (uint32_t j = 0; j < k; ++j) {
        uint32_t from = 0, to = 0;
        if (blocks_.PrepareWrite(j, at, &from, &to)) {
          CopySlots(size_t{from} * KvBlocks::kBlock, size_t{to} * KvBlocks::kBlock, at % KvBlocks::kBlock);
        }
      }
      err = ForwardBeams(beam_tokens_.data(), k, at);
    }
    if (!err.ok()) break;
  }
  if (err.ok()) beam_.Finish();
  // The context is the prompt again: sequence 0's blocks held it throughout (pinned).
  if (k > 1) blocks_.Reset();
  std::copy_n(kept, c.vocab_size, logits_.as<float>());
  has_logits_ = true;
  const Error restored = RestoreTo(prompt);
  if (release_workers_) pool_->ReleaseWorkers();
  return err.ok() ? restored : err;
}

}  // namespace edgeformer
