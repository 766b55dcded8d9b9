package org.edgeformer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A context (KV cache) on a model. One call at a time (another thread's call throws BUSY);
 * cancel() and close() may come from any thread: close() during a generation cancels it, and the
 * memory is freed when it returns. A closed session throws.
 */
public final class Session implements AutoCloseable {
  private final Handle model; // the model's handle, retained: tokenizing works after model.close()
  private final Handle handle;
  private volatile int lastStopReason = -1;

  Session(Model owner, int nThreads, int contextLength) {
    Handle m = owner.handle;
    m.retain();
    long pointer;
    try {
      long mp = m.acquire();
      try {
        pointer = Native.sessionCreate(mp, nThreads, contextLength, 0);
      } finally {
        m.releaseUse();
      }
    } catch (RuntimeException e) {
      m.release();
      throw e;
    }
    this.model = m;
    this.handle = new Handle(pointer, p -> {
      Native.sessionDestroy(p);
      m.release();
    }, Native::cancel, "session");
    Handle.CLEANER.register(this, handle::close);
  }

  @Override
  public void close() {
    handle.close();
  }

  /** The C handle, for the binding's own benchmarks (java/test); valid while the session is open. */
  long handleForBenchmark() {
    long h = handle.acquire();
    handle.releaseUse();
    return h;
  }

  public int position() {
    long h = handle.acquire();
    try {
      return Native.position(h);
    } finally {
      handle.releaseUse();
    }
  }

  public void reset() {
    long h = handle.acquire();
    try {
      Native.reset(h);
    } finally {
      handle.releaseUse();
    }
  }

  /** Stops a prefill or generate running on another thread at its next step. */
  public void cancel() {
    long h = handle.acquire();
    try {
      Native.cancel(h);
    } finally {
      handle.releaseUse();
    }
  }

  public void prefill(int[] tokens) {
    long h = handle.acquire();
    try {
      Native.prefill(h, tokens);
    } finally {
      handle.releaseUse();
    }
  }

  /** Appends text, tokenized with BOS. */
  public void prefill(String text) {
    prefill(tokenize(text));
  }

  private int[] tokenize(String text) {
    long mp = model.acquire(true);
    try {
      return Native.tokenize(mp, text.getBytes(StandardCharsets.UTF_8), true, false);
    } finally {
      model.releaseUse();
    }
  }

  /** The logits after the last token (a copy). */
  public float[] logits() {
    long h = handle.acquire();
    try {
      return Native.logits(h);
    } finally {
      handle.releaseUse();
    }
  }

  /**
   * Generates after prompt (null: continue the context), calling callback (may be null) for each
   * token, and returns the text generated. lastStopReason() says why it stopped. An exception the
   * callback throws stops generation and is rethrown here.
   */
  public String generate(String prompt, GenerateParams params, TokenCallback callback) {
    long h = handle.acquire();
    try {
      if (prompt != null) Native.prefill(h, tokenize(prompt));
      ByteArrayOutputStream text = new ByteArrayOutputStream();
      TokenCallback collect = (token, piece) -> {
        text.write(piece, 0, piece.length);
        return callback == null || callback.onToken(token, piece);
      };
      lastStopReason = Native.generate(h, params.maxTokens, params.stopAtEndOfText, params.temperature, params.topK,
                                       params.topP, params.seed, collect);
      return new String(text.toByteArray(), StandardCharsets.UTF_8);
    } finally {
      handle.releaseUse();
    }
  }

  /** edgeformer_stop_reason of the last generate: 0 max tokens, 1 end of text, 2 callback, 3 cancelled, 4 context full. */
  public int lastStopReason() {
    return lastStopReason;
  }
}
