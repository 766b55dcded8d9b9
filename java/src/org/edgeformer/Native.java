package org.edgeformer;

/**
 * The JNI functions (java/jni/edgeformer_jni.cc) over the C API. Handles are the C pointers as
 * longs; every function that fails throws EdgeformerException. Loads libedgeformer_jni from
 * the system property edgeformer.library (a path), else from java.library.path.
 */
final class Native {
  static {
    String path = System.getProperty("edgeformer.library");
    if (path != null) {
      System.load(path);
    } else {
      System.loadLibrary("edgeformer_jni");
    }
  }

  private Native() {}

  static native String version();

  /** path: UTF-8 bytes (no NUL). */
  static native long modelLoad(byte[] path);

  static native void modelDestroy(long model);

  static native int[] modelInfo(long model);

  static native int[] tokenize(long model, byte[] text, boolean addSpecial, boolean parseSpecial);

  static native byte[] tokenPiece(long model, int prevToken, int token);

  static native long sessionCreate(long model, int nThreads, int contextLength, int kvType);

  static native void sessionDestroy(long session);

  static native void prefill(long session, int[] tokens);

  static native float[] logits(long session);

  static native int position(long session);

  static native void reset(long session);

  static native void cancel(long session);

  /** Returns the stop reason (edgeformer_stop_reason); callback may be null. */
  static native int generate(long session, int maxTokens, boolean stopAtEndOfText, float temperature, int topK,
                             float topP, long seed, TokenCallback callback);
}
