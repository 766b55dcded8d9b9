package org.edgeformer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A model file made by edgeformer-convert, mapped (the weights are read in place). Thread-safe:
 * sessions on one model may run on different threads. close() makes its methods throw; the
 * sessions made on it keep working, and the memory goes with the last of them.
 */
public final class Model implements AutoCloseable {
  private long handle;
  private boolean closed;
  private int users; // open sessions
  private Session defaultSession;

  private Model(long handle) {
    this.handle = handle;
  }

  /** Loads and validates the model file at path. */
  public static Model load(String path) {
    return new Model(Native.modelLoad(path));
  }

  /** The shared library's version. */
  public static String libraryVersion() {
    return Native.version();
  }

  synchronized long handle() {
    if (closed) throw new EdgeformerException(EdgeformerException.INVALID_ARGUMENT, "invalid argument", "the model is closed");
    return handle;
  }

  /** The handle for a session made on the model: valid until the last session closes. */
  synchronized long handleForSession() {
    return handle;
  }

  synchronized void addUser() {
    handle();
    ++users;
  }

  synchronized void removeUser() {
    --users;
    release();
  }

  private void release() {
    if (closed && users == 0 && handle != 0) {
      Native.modelDestroy(handle);
      handle = 0;
    }
  }

  @Override
  public void close() {
    Session s;
    synchronized (this) {
      s = defaultSession;
      defaultSession = null;
    }
    if (s != null) s.close();
    synchronized (this) {
      closed = true;
      release();
    }
  }

  /** vocab_size of edgeformer_model_info. */
  public int vocabSize() {
    return Native.modelInfo(handle())[0];
  }

  /** dim of edgeformer_model_info. */
  public int dim() {
    return Native.modelInfo(handle())[1];
  }

  /** The token ids of text as the model's tokenizer gives them, with BOS and the like. */
  public int[] tokenize(String text) {
    return tokenize(text, true);
  }

  public int[] tokenize(String text, boolean addSpecial) {
    return Native.tokenize(handle(), text.getBytes(StandardCharsets.UTF_8), addSpecial, false);
  }

  /** The text of a sequence of ids (invalid UTF-8 replaced). */
  public String detokenize(int[] ids) {
    long h = handle();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int prev = -1;
    for (int id : ids) {
      byte[] piece = Native.tokenPiece(h, prev, id);
      out.write(piece, 0, piece.length);
      prev = id;
    }
    return new String(out.toByteArray(), StandardCharsets.UTF_8);
  }

  /** A new session (1 thread, the model's context). */
  public Session newSession() {
    return new Session(this, 1, 0);
  }

  public Session newSession(int nThreads, int contextLength) {
    return new Session(this, nThreads, contextLength);
  }

  /** The text generated after prompt (tokenized with BOS), in a fresh context of the model's own session. */
  public String generate(String prompt, GenerateParams params) {
    Session s;
    synchronized (this) {
      handle();
      if (defaultSession == null) defaultSession = new Session(this, 1, 0);
      s = defaultSession;
    }
    s.reset();
    return s.generate(prompt, params, null);
  }
}
