package org.edgeformer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The JVM binding's cost per generated token: edgeformer_generate of N tokens with a Java
 * callback per token (the piece as a byte[], as Session.generate delivers it) against the same
 * call with no callback, interleaved; the median of the pairs' differences.
 *
 * Usage: java -cp edgeformer.jar:edgeformer-tests.jar org.edgeformer.Overhead MODEL [TOKENS] [REPETITIONS]
 */
public final class Overhead {
  public static void main(String[] args) {
    int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    int reps = args.length > 2 ? Integer.parseInt(args[2]) : 21;
    try (Model model = Model.load(args[0]); Session s = model.newSession()) {
      int[] prompt = model.tokenize("Once upon a time");
      TokenCallback collect = (t, p) -> p.length >= 0;
      double[] diffs = new double[reps];
      double[] bare = new double[reps];
      for (int r = -3; r < reps; ++r) {  // three warm-up pairs
        long a = time(s, prompt, tokens, null);
        long b = time(s, prompt, tokens, collect);
        if (r >= 0) {
          diffs[r] = (b - a) / 1e3 / tokens;
          bare[r] = a / 1e3 / tokens;
        }
      }
      Arrays.sort(diffs);
      Arrays.sort(bare);
      System.out.printf("C alone %.2f us/token; JNI callback overhead %.2f us/token (median of %d pairs)%n",
                        bare[reps / 2], diffs[reps / 2], reps);
    }
  }

  private static long time(Session s, int[] prompt, int tokens, TokenCallback callback) {
    s.reset();
    s.prefill(prompt);
    long h = s.handleForBenchmark();
    long t0 = System.nanoTime();
    Native.generate(h, tokens, false, 0, 0, 1, 0, callback);
    return System.nanoTime() - t0;
  }
}
