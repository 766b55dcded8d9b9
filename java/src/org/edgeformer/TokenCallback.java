package org.edgeformer;

/**
 * Receives each generated token and its text (the bytes of its piece: a piece may be part of a
 * multi-byte UTF-8 character) on the thread that called generate. Return false to stop.
 */
@FunctionalInterface
public interface TokenCallback {
  boolean onToken(int token, byte[] piece);
}
