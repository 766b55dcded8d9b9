// Session::Encode: texts through the stack into embeddings, hidden states or logits.
#include <algorithm>
#include <string>

#include "model/session.h"
#include "ops/ops.h"

namespace edgeformer {
namespace {

// Rows per packed pass: 128 measured best for 16- and 128-token texts on a 108M-parameter
// encoder (512-row passes were 10-14% slower at 1 thread; docs/performance.md, issue 14).
constexpr size_t kPassRows = 128;

}  // namespace

Error Session::Pool(Pooling pooling, const float* hidden, size_t n, bool normalize, float* out) {
  const ModelConfig& c = model_.config();
  const size_t dim = c.dim;
  switch (pooling) {
    case Pooling::kCls:
      std::copy(hidden, hidden + dim, out);
      break;
    case Pooling::kLast:
      std::copy(hidden + (n - 1) * dim, hidden + n * dim, out);
      break;
    case Pooling::kMean: {
      // Summed in order over the rows, then divided: the same on every CPU.
      std::fill(out, out + dim, 0.0f);
      for (size_t i = 0; i < n; ++i) ops::AddInPlace(out, hidden + i * dim, dim);
      const float inv = 1.0f / static_cast<float>(n);
      for (size_t j = 0; j < dim; ++j) out[j] *= inv;
      break;
    }
    case Pooling::kPooler: {
      // BERT's pooler: tanh(dense(first token)).
      const GlobalWeights& g = model_.globals();
      const ops::QuantizedRows xq{xq_.as<int8_t>(), xq_scales_.as<float>(), xq_stride_, xq_sums_.as<int32_t>()};
      const ops::Context ctx{&kernels_, pool_.get(), nullptr, 1};
      float* first = pooled_.as<float>();
      std::copy(hidden, hidden + dim, first);
      QuantizeFor(ctx, {&g.pooler_dense}, first, 1, dim, xq);
      EF_RETURN_IF_ERROR(LinearRows(ctx, g.pooler_dense, g.pooler_bias, 1, first, dim, xq, out, dim));
      ops::Tanh(out, dim);
      break;
    }
    case Pooling::kNone:
      return Error(Status::kInvalidArgument, "no pooling chosen, and the model states none");
  }
  if (normalize) ops::L2Normalize(out, dim);
  return Error::Ok();
}

Error Session::Encode(const EncodeInput& in, const EncodeOutput& out) {
  const ModelConfig& c = model_.config();
  if (c.family == Family::kEncoderDecoder) {
    return Error(Status::kUnsupported, "an encoder-decoder encodes a source (edgeformer_encode_source), which also "
                                       "gives the encoder's hidden states");
  }
  if (in.n_texts == 0) return Error(Status::kInvalidArgument, "no texts to encode");
  if (in.tokens == nullptr || in.lengths == nullptr) return Error(Status::kInvalidArgument, "tokens or lengths is null");
  if (out.embeddings == nullptr && out.hidden == nullptr && out.logits == nullptr) {
    return Error(Status::kInvalidArgument, "nothing to write: no embeddings, hidden states or logits asked for");
  }
  if (out.logits != nullptr && !c.classifier) {
    return Error(Status::kUnsupported, "this model has no classifier (no masked-LM head): it gives no logits");
  }
  const Pooling pooling = out.pooling == Pooling::kNone ? c.pooling : out.pooling;
  if (out.embeddings != nullptr) {
    if (pooling == Pooling::kNone) {
      return Error(Status::kInvalidArgument, "the model states no pooling: choose CLS, mean or last");
    }
    if (pooling == Pooling::kPooler && !c.pooler) {
      return Error(Status::kUnsupported, "this model has no pooler: choose CLS, mean or last");
    }
  }
  // Every text and id checked before anything runs.
  size_t offset = 0;
  for (size_t t = 0; t < in.n_texts; ++t) {
    const size_t n = in.lengths[t];
    if (n == 0) return Error(Status::kInvalidArgument, "text " + std::to_string(t) + " has no tokens");
    if (n > context_) {
      return Error(Status::kContextFull, "text " + std::to_string(t) + " has " + std::to_string(n) +
                                             " tokens; the context holds " + std::to_string(context_));
    }
    for (size_t i = offset; i < offset + n; ++i) {
      if (in.tokens[i] < 0 || static_cast<uint32_t>(in.tokens[i]) >= c.vocab_size) {
        return Error(Status::kInvalidArgument, "token " + std::to_string(i) + " has id " +
                                                   std::to_string(in.tokens[i]) + ", outside the vocabulary");
      }
      if (in.token_types != nullptr && (in.token_types[i] < 0 || static_cast<uint32_t>(in.token_types[i]) >=
                                                                      std::max<uint32_t>(c.token_types, 1))) {
        return Error(Status::kInvalidArgument, "token " + std::to_string(i) + " has type " +
                                                   std::to_string(in.token_types[i]) + "; the model has " +
                                                   std::to_string(std::max<uint32_t>(c.token_types, 1)));
      }
    }
    offset += n;
  }
  cancel_.store(false, std::memory_order_relaxed);
  phase_ = Phase::kPrefill;
  Error err = Error::Ok();
  if (c.family == Family::kEncoderOnly) {
    err = EncodePacked(in, EncodeOutput{out.embeddings, pooling, out.normalize, out.hidden, out.logits});
  } else {
    // A decoder: one text at a time from position 0, in steps of max_batch rows; its context is
    // forgotten. Embeddings are pooled as the steps go (the first row, a running sum, the last).
    Reset();
    const size_t dim = c.dim, vocab = c.vocab_size;
    float* sum = pooled_.as<float>();
    size_t first = 0;
    for (size_t t = 0; t < in.n_texts && err.ok(); ++t) {
      const size_t n = in.lengths[t];
      float* embedding = out.embeddings != nullptr ? out.embeddings + t * dim : nullptr;
      pos_ = 0;
      std::fill(sum, sum + dim, 0.0f);
      for (size_t done = 0; done < n && err.ok();) {
        const size_t chunk = std::min<size_t>(max_batch_, n - done);
        err = Forward(in.tokens + first + done, chunk, false);
        float* hidden = out.hidden != nullptr ? out.hidden + (first + done) * dim : xb_.as<float>();
        if (err.ok()) err = Head(0, chunk, hidden, out.logits != nullptr ? out.logits + (first + done) * vocab : nullptr);
        if (err.ok() && embedding != nullptr) {
          if (done == 0 && (pooling == Pooling::kCls || pooling == Pooling::kPooler)) {
            err = Pool(pooling, hidden, 1, out.normalize, embedding);
          } else if (pooling == Pooling::kMean) {
            for (size_t i = 0; i < chunk; ++i) ops::AddInPlace(sum, hidden + i * dim, dim);
          }
          if (err.ok() && done + chunk == n && pooling == Pooling::kLast) {
            err = Pool(Pooling::kLast, hidden, chunk, out.normalize, embedding);
          }
        }
        done += chunk;
      }
      if (err.ok() && embedding != nullptr && pooling == Pooling::kMean) {
        const float inv = 1.0f / static_cast<float>(n);
        for (size_t j = 0; j < dim; ++j) embedding[j] = sum[j] * inv;
        if (out.normalize) ops::L2Normalize(embedding, dim);
      }
      first += n;
    }
    Reset();
  }
  if (release_workers_) pool_->ReleaseWorkers();
  return err;
}

Error Session::EncodePacked(const EncodeInput& in, const EncodeOutput& out) {
  const ModelConfig& c = model_.config();
  const size_t dim = c.dim, vocab = c.vocab_size;
  int32_t* positions = positions_.as<int32_t>();
  uint32_t* seg_begin = seg_begin_.as<uint32_t>();
  uint32_t* seg_end = seg_end_.as<uint32_t>();
  size_t text = 0, first_token = 0;
  while (text < in.n_texts) {
    if (cancel_.exchange(false, std::memory_order_relaxed)) {
      return Error(Status::kCancelled, "encode cancelled after " + std::to_string(text) + " texts");
    }
    // Whole texts, packed until the pass holds about kPassRows rows (a longer text goes alone):
    // a pass's activations then stay in cache, while short texts still share each weight read.
    // The buffers hold max_batch_ (= the context) rows, and no text is longer.
    const size_t pass_rows = std::min<size_t>(kPassRows, max_batch_);
    size_t rows = 0, texts = 0;
    while (text + texts < in.n_texts && (texts == 0 || rows + in.lengths[text + texts] <= pass_rows)) {
      const size_t n = in.lengths[text + texts];
      for (size_t i = 0; i < n; ++i) {
        positions[rows + i] = static_cast<int32_t>(i);
        seg_begin[rows + i] = static_cast<uint32_t>(rows);
        seg_end[rows + i] = static_cast<uint32_t>(rows + n);
      }
      rows += n;
      ++texts;
    }
    RowLayout layout;
    layout.n = rows;
    layout.first = 0;
    layout.positions = positions;
    layout.seg_begin = seg_begin;
    layout.seg_end = seg_end;
    EF_RETURN_IF_ERROR(RunStack(DecoderView(), in.tokens + first_token,
                                in.token_types != nullptr ? in.token_types + first_token : nullptr, layout));
    float* hidden = out.hidden != nullptr ? out.hidden + first_token * dim : nullptr;
    EF_RETURN_IF_ERROR(Head(0, rows, hidden, out.logits != nullptr ? out.logits + first_token * vocab : nullptr));
    if (out.embeddings != nullptr) {
      // Head left the normed hidden states in `hidden` or, when the caller wants none, in xb_;
      // the MLM transform (when logits were computed) used tmp_, not xb_.
      const float* states = hidden != nullptr ? hidden : xb_.as<float>();
      size_t row = 0;
      for (size_t t = 0; t < texts; ++t) {
        const size_t n = in.lengths[text + t];
        EF_RETURN_IF_ERROR(Pool(out.pooling, states + row * dim, n, out.normalize, out.embeddings + (text + t) * dim));
        row += n;
      }
    }
    text += texts;
    first_token += rows;
  }
  return Error::Ok();
}

}  // namespace edgeformer
