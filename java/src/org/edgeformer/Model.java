package org.edgeformer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A model file made by edgeformer-convert, mapped (the weights are read in place). Thread-safe:
 * sessions on one model may run on different threads. close() makes its methods throw; the
 * sessions made on it keep working, and the memory goes with the last of them (or with the
 * garbage collector, for handles never closed).
 */
public final class Model implements AutoCloseable {
  final Handle handle;
  private final Object defaultLock = new Object();
  private Session defaultSession; // generate()'s

  private Model(long pointer) {
    handle = new Handle(pointer, Native::modelDestroy, null, "model");
    Handle.CLEANER.register(this, handle::close);
  }

  /** Loads and validates the model file at path. */
  public static Model load(String path) {
    return new Model(Native.modelLoad(path.getBytes(StandardCharsets.UTF_8)));
  }

  /** The shared library's version. */
  public static String libraryVersion() {
    return Native.version();
  }

  @Override
  public void close() {
    Session s;
    synchronized (defaultLock) {
      s = defaultSession;
      defaultSession = null;
    }
    if (s != null) s.close();
    handle.close();
  }

  private int[] info() {
    long h = handle.acquire();
    try {
      return Native.modelInfo(h);
    } finally {
      handle.releaseUse();
    }
  }

  /** vocab_size of edgeformer_model_info. */
  public int vocabSize() {
    return info()[0];
  }

  /** dim of edgeformer_model_info. */
  public int dim() {
    return info()[1];
  }

  /** The token ids of text as the model's tokenizer gives them, with BOS and the like. */
  public int[] tokenize(String text) {
    return tokenize(text, true);
  }

  public int[] tokenize(String text, boolean addSpecial) {
    long h = handle.acquire();
    try {
      return Native.tokenize(h, text.getBytes(StandardCharsets.UTF_8), addSpecial, false);
    } finally {
      handle.releaseUse();
    }
  }

  /** The text of a sequence of ids (invalid UTF-8 replaced). */
  public String detokenize(int[] ids) {
    long h = handle.acquire();
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int prev = -1;
      for (int id : ids) {
        byte[] piece = Native.tokenPiece(h, prev, id);
        out.write(piece, 0, piece.length);
        prev = id;
      }
      return new String(out.toByteArray(), StandardCharsets.UTF_8);
    } finally {
      handle.releaseUse();
    }
  }

  /** A new session (1 thread, the model's context). */
  public Session newSession() {
    return new Session(this, 1, 0);
  }

  public Session newSession(int nThreads, int contextLength) {
    return new Session(this, nThreads, contextLength);
  }

  /**
   * The text generated after prompt (tokenized with BOS), in a fresh context of the model's own
   * session (calls from several threads take turns).
   */
  public String generate(String prompt, GenerateParams params) {
    synchronized (defaultLock) {  // after close(): defaultSession is null, and a new one throws
      if (defaultSession == null) defaultSession = new Session(this, 1, 0);
      defaultSession.reset();
      return defaultSession.generate(prompt, params, null);
    }
  }
}
