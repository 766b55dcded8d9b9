package org.edgeformer;

/** What Session.generate does: edgeformer_generate_params' common fields, the C API's defaults. */
public final class GenerateParams {
  public int maxTokens = 128;
  public boolean stopAtEndOfText = true;
  /** <= 0: greedy. */
  public float temperature = 0.8f;
  /** 0: off. */
  public int topK = 0;
  /** >= 1: off. */
  public float topP = 0.9f;
  public long seed = 0x5eedL;

  public GenerateParams maxTokens(int n) {
    maxTokens = n;
    return this;
  }

  public GenerateParams temperature(float t) {
    temperature = t;
    return this;
  }

  public GenerateParams topP(float p) {
    topP = p;
    return this;
  }

  public GenerateParams topK(int k) {
    topK = k;
    return this;
  }

  public GenerateParams seed(long s) {
    seed = s;
    return this;
  }

  public GenerateParams stopAtEndOfText(boolean stop) {
    stopAtEndOfText = stop;
    return this;
  }
}
