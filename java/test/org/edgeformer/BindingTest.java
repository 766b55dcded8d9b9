package org.edgeformer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The JVM binding against the native tools and its own contract: generation equals
 * edgeformer-run's text for the same model and prompt (greedy, and sampled with a seed), a
 * callback can stop generation and its exception reaches the caller, logits agree with the
 * greedy token, bad model files throw (never crash the JVM), closed handles throw.
 *
 * Usage: java -cp edgeformer.jar:edgeformer-tests.jar org.edgeformer.BindingTest BUILD_DIR
 * (the build's tools make the test model: edgeformer-synth, random weights with a tokenizer).
 * Exits 1 on the first failed check.
 */
public final class BindingTest {
  private static int checks = 0;

  private static void check(boolean ok, String what) {
    ++checks;
    if (!ok) {
      System.err.println("FAILED: " + what);
      System.exit(1);
    }
  }

  static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    byte[] out;
    try (InputStream in = p.getInputStream()) {
      out = in.readAllBytes();
    }
    check(p.waitFor() == 0, String.join(" ", command) + " exits 0");
    return new String(out, StandardCharsets.UTF_8);
  }

  /** A tiny synthetic model with a tokenizer (int8), made by the build's tools. */
  static String makeModel(String build, Path dir) throws IOException, InterruptedException {
    run(build + "/tools/edgeformer-synth", "--shape", "tiny", "--seed", "3", "-o", dir.resolve("m.bin").toString(),
        "--tokenizer-output", dir.resolve("tok.bin").toString());
    String model = dir.resolve("m.edgf").toString();
    run(build + "/converter/edgeformer-convert", dir.resolve("m.bin").toString(), "--tokenizer",
        dir.resolve("tok.bin").toString(), "--quant", "int8", "-o", model);
    return model;
  }

  static <T extends Throwable> T expect(Class<T> type, Runnable r, String what) {
    try {
      r.run();
    } catch (Throwable t) {
      check(type.isInstance(t), what + ": threw " + t);
      return type.cast(t);
    }
    check(false, what + ": threw nothing");
    return null;
  }

  public static void main(String[] args) throws Exception {
    String build = args[0];
    Path dir = Files.createTempDirectory("edgeformer-java");
    String modelPath = makeModel(build, dir);
    String runTool = build + "/tools/edgeformer-run";
    GenerateParams greedy = new GenerateParams().maxTokens(24).temperature(0);

    try (Model model = Model.load(modelPath)) {
      check(Model.libraryVersion().matches("\\d+\\.\\d+\\.\\d+"), "libraryVersion");
      for (String prompt : new String[] {"Once upon a time", "The best way to predict the future", "a"}) {
        String text = model.generate(prompt, greedy);
        String expected = run(runTool, modelPath, "-p", prompt, "-n", "24", "--temperature", "0");
        check(expected.equals(prompt + text + "\n"), "greedy text equals edgeformer-run's for '" + prompt + "'");
        List<Integer> ids = new ArrayList<>();
        try (Session s = model.newSession()) {
          s.generate(prompt, greedy, (token, piece) -> ids.add(token));
        }
        String expectedIds = run(runTool, modelPath, "-p", prompt, "-n", "24", "--temperature", "0", "--print-ids").trim();
        StringBuilder got = new StringBuilder();
        for (int id : ids) got.append(got.length() > 0 ? "," : "").append(id);
        check(expectedIds.equals(got.toString()), "ids equal edgeformer-run --print-ids for '" + prompt + "'");
      }
      GenerateParams sampled = new GenerateParams().maxTokens(30).temperature(0.9f).topP(0.95f).seed(7);
      String text = model.generate("Once upon", sampled);
      check(run(runTool, modelPath, "-p", "Once upon", "-n", "30", "--temperature", "0.9", "--top-p", "0.95", "--seed",
                "7").equals("Once upon" + text + "\n"), "sampled text equals edgeformer-run's for a seed");

      // A callback that stops after 3 tokens; one that throws.
      try (Session s = model.newSession()) {
        int[] count = {0};
        String part = s.generate("Once upon a time", greedy, (t, p) -> ++count[0] < 3);
        check(count[0] == 3 && s.lastStopReason() == 2, "the callback stops generation");
        check(model.generate("Once upon a time", greedy).startsWith(part), "the stopped text is a prefix");
        IllegalStateException e = expect(IllegalStateException.class,
            () -> s.generate(null, greedy, (t, p) -> { throw new IllegalStateException("from the callback"); }),
            "a callback's exception");
        check("from the callback".equals(e.getMessage()), "the callback's own exception reaches the caller");
        check(s.generate(null, new GenerateParams().maxTokens(2).temperature(0), null) != null,
              "the session works after a callback threw");
      }

      // Logits: the vocabulary's, and their argmax is the greedy token.
      try (Session s = model.newSession()) {
        s.prefill("Once upon a time");
        float[] logits = s.logits();
        check(logits.length == model.vocabSize(), "logits cover the vocabulary");
        int best = 0;
        for (int i = 1; i < logits.length; ++i) if (logits[i] > logits[best]) best = i;
        int[] first = {-1};
        s.generate(null, new GenerateParams().maxTokens(1).temperature(0), (t, p) -> { first[0] = t; return true; });
        check(first[0] == best, "the greedy token is the logits' argmax");
      }

      int[] ids = model.tokenize("Hello, world");
      check(model.detokenize(Arrays.copyOfRange(ids, 1, ids.length)).trim().equals("Hello, world"), "tokenize round trip");

      // Cancel from another thread while the callback waits; close from the callback: both stop
      // the generation, which returns normally; the closed session then throws.
      try (Session s = model.newSession()) {
        java.util.concurrent.CountDownLatch cancelled = new java.util.concurrent.CountDownLatch(1);
        Thread canceller = new Thread(() -> {
          s.cancel();
          cancelled.countDown();
        });
        int[] n = {0};
        s.generate("Once upon a time", new GenerateParams().maxTokens(200).temperature(0).stopAtEndOfText(false),
                   (t, p) -> {
                     if (++n[0] == 2) {
                       canceller.start();
                       try {
                         cancelled.await();
                       } catch (InterruptedException e) {
                         throw new IllegalStateException(e);
                       }
                     }
                     return true;
                   });
        check(s.lastStopReason() == 3 && n[0] <= 3, "a cancel from another thread stops generation");
        int[] m = {0};
        s.generate(null, new GenerateParams().maxTokens(200).temperature(0).stopAtEndOfText(false), (t, p) -> {
          if (++m[0] == 2) s.close();
          return true;
        });
        check(s.lastStopReason() == 3 && m[0] <= 3, "closing in the callback stops generation");
        expect(EdgeformerException.class, s::position, "a session closed in its callback");
      }

      // A long generation: an upcall per token (run under -Xcheck:jni by ctest).
      try (Session s = model.newSession()) {
        int[] n = {0};
        s.generate("a", new GenerateParams().maxTokens(100000).temperature(0.8f).stopAtEndOfText(false),
                   (t, p) -> ++n[0] > 0);
        check(s.lastStopReason() == 4 && n[0] > 100, "a generation to the full context");
      } catch (EdgeformerException e) {
        check(e.status() == EdgeformerException.CONTEXT_FULL, "a generation to the full context throws CONTEXT_FULL");
      }

      // Refused arguments throw with the library's status and their own message.
      try (Session s = model.newSession(1, 16)) {
        EdgeformerException e = expect(EdgeformerException.class, () -> s.prefill(new int[40]), "a prompt longer than the context");
        check(e.status() == EdgeformerException.CONTEXT_FULL, "context full status");
        check(e.getMessage().contains("positions"), "the prefill's own message: " + e.getMessage());
        expect(EdgeformerException.class, () -> s.prefill(new int[] {1 << 30}), "an id outside the vocabulary");
        check(s.position() == 0, "a refused prefill changes nothing");
      }
    }

    // Bad model files throw; nothing crashes.
    byte[] good = Files.readAllBytes(Path.of(modelPath));
    List<byte[]> bad = new ArrayList<>();
    bad.add(new byte[0]);
    bad.add("EDGF0000".getBytes(StandardCharsets.US_ASCII));
    bad.add(Arrays.copyOf(good, good.length / 2));
    byte[] zeroed = good.clone();
    Arrays.fill(zeroed, 64, 128, (byte) 0);
    bad.add(zeroed);
    for (byte[] b : bad) {
      Path p = dir.resolve("bad.edgf");
      Files.write(p, b);
      EdgeformerException e = expect(EdgeformerException.class, () -> Model.load(p.toString()), "a bad model file");
      check(e.status() == EdgeformerException.INVALID_MODEL || e.status() == EdgeformerException.IO_ERROR,
            "a bad file's status: " + e.getMessage());
      check(!e.getMessage().isEmpty(), "a bad file's message");
    }
    EdgeformerException missing = expect(EdgeformerException.class, () -> Model.load(dir.resolve("none").toString()),
                                         "a missing file");
    check(missing.status() == EdgeformerException.IO_ERROR, "a missing file's status");

    // Closed handles throw; a session outlives its closed model.
    Model model = Model.load(modelPath);
    Session closed = model.newSession();
    closed.close();
    expect(EdgeformerException.class, () -> closed.prefill(new int[] {1}), "a closed session");
    expect(EdgeformerException.class, () -> closed.generate("x", greedy, null), "generate on a closed session");
    closed.close();
    Session alive = model.newSession();
    model.close();
    expect(EdgeformerException.class, () -> model.tokenize("x"), "a closed model");
    check(alive.generate("Once", new GenerateParams().maxTokens(3).temperature(0), null) != null,
          "a session outlives its closed model");
    alive.close();

    // The README's example prints what edgeformer-run prints.
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String jars = build + "/java/edgeformer.jar:" + build + "/java/edgeformer-example.jar";
    String example = run(java, "-Dedgeformer.library=" + System.getProperty("edgeformer.library"), "-cp", jars,
                         "Generate", modelPath, "Once upon a time", "20");
    check(example.equals(run(runTool, modelPath, "-p", "Once upon a time", "-n", "20", "--temperature", "0")),
          "examples/java/Generate prints what edgeformer-run prints");

    System.out.println("BindingTest: " + checks + " checks passed");
  }
}
