package org.edgeformer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A context (KV cache) on a model. Not for concurrent calls from several threads (the library
 * answers with BUSY, thrown here); cancel() may be called from any thread. A closed session
 * throws.
 */
public final class Session implements AutoCloseable {
  private final Model model;
  private final long modelHandle;
  private long handle;
  private int lastStopReason = -1;

  Session(Model model, int nThreads, int contextLength) {
    model.addUser();
    try {
      this.handle = Native.sessionCreate(model.handle(), nThreads, contextLength, 0);
    } catch (RuntimeException e) {
      model.removeUser();
      throw e;
    }
    this.model = model;
    this.modelHandle = model.handleForSession();
  }

  /** The C handle, for the binding's own benchmarks (java/test). */
  long handleForBenchmark() {
    return handle();
  }

  private synchronized long handle() {
    if (handle == 0) throw new EdgeformerException(EdgeformerException.INVALID_ARGUMENT, "invalid argument", "the session is closed");
    return handle;
  }

  @Override
  public void close() {
    long h;
    synchronized (this) {
      h = handle;
      handle = 0;
    }
    if (h != 0) {
      Native.sessionDestroy(h);
      model.removeUser();
    }
  }

  public int position() {
    return Native.position(handle());
  }

  public void reset() {
    Native.reset(handle());
  }

  /** Stops a prefill or generate running on another thread at its next step. */
  public void cancel() {
    Native.cancel(handle());
  }

  public void prefill(int[] tokens) {
    Native.prefill(handle(), tokens);
  }

  /** Appends text, tokenized with BOS. */
  public void prefill(String text) {
    long h = handle();
    Native.prefill(h, Native.tokenize(modelHandle, text.getBytes(StandardCharsets.UTF_8), true, false));
  }

  /** The logits after the last token (a copy). */
  public float[] logits() {
    return Native.logits(handle());
  }

  /**
   * Generates after prompt (null: continue the context), calling callback (may be null) for each
   * token, and returns the text generated. lastStopReason() says why it stopped.
   */
  public String generate(String prompt, GenerateParams params, TokenCallback callback) {
    long h = handle();
    if (prompt != null) prefill(prompt);
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    TokenCallback collect = (token, piece) -> {
      text.write(piece, 0, piece.length);
      return callback == null || callback.onToken(token, piece);
    };
    lastStopReason = Native.generate(h, params.maxTokens, params.stopAtEndOfText, params.temperature, params.topK,
                                     params.topP, params.seed, collect);
    return new String(text.toByteArray(), StandardCharsets.UTF_8);
  }

  /** edgeformer_stop_reason of the last generate: 0 max tokens, 1 end of text, 2 callback, 3 cancelled, 4 context full. */
  public int lastStopReason() {
    return lastStopReason;
  }
}
