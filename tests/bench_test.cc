// edgeformer-bench and edgeformer-perplexity as libraries: argument parsing, a real (tiny) run
// whose figures must be positive and consistent, the three output formats parsed back, and
// document splitting. No timing is asserted beyond consistency.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_support.h"
#include "tools/bench/bench.h"
#include "tools/perplexity/perplexity.h"

namespace edgeformer {
namespace {

struct Parsed {
  int code;
  bench::Config config;
  std::string err;
};

Parsed Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "edgeformer-bench");
  Parsed p;
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  p.code = bench::ParseArgs(static_cast<int>(args.size()), args.data(), &p.config, out, err);
  std::rewind(err);
  char buf[4096];
  const size_t n = std::fread(buf, 1, sizeof(buf), err);
  p.err.assign(buf, n);
  std::fclose(out);
  std::fclose(err);
  return p;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep)) out.push_back(item);
  return out;
}

}  // namespace

TEST_CASE("bench arguments: lists, defaults and refusals") {
  Parsed p = Parse({"m.edgf", "-p", "128,512", "-n", "64", "-t", "1,2", "-r", "3", "--depth", "0,512", "-o", "json",
                    "--profile", "--isa", "reference,auto"});
  REQUIRE(p.code == 0);
  CHECK(p.config.model_path == "m.edgf");
  CHECK(p.config.n_prompt == std::vector<uint32_t>{128, 512});
  CHECK(p.config.n_gen == std::vector<uint32_t>{64});
  CHECK(p.config.threads == std::vector<uint32_t>{1, 2});
  CHECK(p.config.depth == std::vector<uint32_t>{0, 512});
  CHECK(p.config.isa == std::vector<std::string>{"reference", "auto"});
  CHECK(p.config.repetitions == 3);
  CHECK(p.config.output == "json");
  CHECK(p.config.profile);

  Parsed d = Parse({"m.edgf"});
  REQUIRE(d.code == 0);
  CHECK(d.config.n_prompt == std::vector<uint32_t>{512});
  CHECK(d.config.n_gen == std::vector<uint32_t>{128});
  CHECK(d.config.output == "md");

  CHECK(Parse({}).code != 0);
  const Parsed bad_threads = Parse({"m.edgf", "-t", "0"});
  CHECK(bad_threads.code != 0);
  CHECK(bad_threads.err.find("--threads") != std::string::npos);
  const Parsed bad_format = Parse({"m.edgf", "-o", "xml"});
  CHECK(bad_format.code != 0);
  CHECK(bad_format.err.find("xml") != std::string::npos);
  const Parsed bad_number = Parse({"m.edgf", "-p", "12x"});
  CHECK(bad_number.code != 0);
  const Parsed nothing = Parse({"m.edgf", "-p", "0", "-n", "0"});
  CHECK(nothing.code != 0);
  CHECK(nothing.err.find("nothing to run") != std::string::npos);
  const Parsed xnn = Parse({"m.edgf", "--backend", "native,xnnpack"});
  CHECK(xnn.code == 0);
  CHECK(xnn.config.backend == std::vector<std::string>{"native", "xnnpack"});
  const Parsed other = Parse({"m.edgf", "--backend", "cuda"});
  CHECK(other.code == 2);
  const Parsed verify = Parse({"m.edgf", "-p", "0", "-n", "0", "--verify", "1,4"});  // pvK alone is a run
  CHECK(verify.code == 0);
  CHECK(verify.config.verify == std::vector<uint32_t>{1, 4});
  CHECK(Parse({"m.edgf", "--verify", "0"}).code != 0);
  CHECK(Parse({"m.edgf", "--verify", "64"}).code != 0);
}

TEST_CASE("a bench run gives positive, consistent figures in all three formats") {
  test::TempDir dir;
  bench::Config c;
  c.model_path = test::MakeSyntheticModel(dir, convert::Quant::kInt8);
  c.n_prompt = {7, 16};
  c.n_gen = {5};
  c.threads = {1, 2};
  c.depth = {0, 9};
  c.kv_type = {"f32", "f16"};
  c.repetitions = 2;
  c.profile = true;
  c.read_buffer_bytes = 8 << 20;
  Result<bench::Report> run = bench::Run(c, nullptr);
  INFO((run.ok() ? "" : run.error().message()));
  REQUIRE(run.ok());
  const bench::Report& r = run.value();
  REQUIRE(r.tests.size() == 2 * 2 * 2 * 3);  // kv types x threads x depths x (pp7, pp16, tg5)
  for (const bench::TestResult& t : r.tests) {
    INFO(t.test << " depth " << t.depth << " threads " << t.threads);
    CHECK(t.tokens_per_s.mean > 0.0);
    CHECK(t.seconds.mean > 0.0);
    // Rates and times come from the same runs: the mean of tokens / time_i is at least tokens /
    // mean(time_i) (Jensen), with equality when every run took the same time.
    const double tokens = t.n_prompt > 0 ? t.n_prompt : t.n_gen;
    CHECK(t.tokens_per_s.mean * t.seconds.mean >= tokens * (1.0 - 1e-9));
    CHECK(t.load_ms > 0.0);
    CHECK(t.peak_rss_bytes > 0);
    CHECK(t.expected_bytes > r.model.file_bytes);
    CHECK(t.read_bandwidth_gbps > 0.0);
    if (t.n_gen > 0) {
      CHECK(t.ttft_ms < 0);
      CHECK(t.bandwidth_pct > 0.0);
      // Decode reads every weight and the K and V rows up to its position: a mean over the test.
      const uint64_t kv_dim = r.model.dim / r.model.n_heads * r.model.n_kv_heads;
      const double positions = std::max(t.depth, 1u) + (t.n_gen + 1) / 2.0;
      const uint64_t elem = t.kv_type == "f16" ? 2 : 4;
      CHECK(t.kv_bytes_per_token == static_cast<uint64_t>(2.0 * r.model.n_layers * kv_dim * elem * positions));
      CHECK(t.achieved_bandwidth_gbps ==
            doctest::Approx((t.weight_bytes_per_token + t.kv_bytes_per_token) * t.tokens_per_s.mean / 1e9));
      CHECK(t.profile.calls[static_cast<int>(Phase::kDecode)][static_cast<int>(OpKind::kMatmul)] > 0);
    } else {
      CHECK(t.ttft_ms >= t.seconds.mean * 1e3 * 0.5);
      CHECK(t.profile.calls[static_cast<int>(Phase::kPrefill)][static_cast<int>(OpKind::kMatmul)] > 0);
    }
  }

  // JSON lines: one object per test with the documented keys.
  const std::vector<std::string> lines = Split(bench::FormatJsonLines(r), '\n');
  REQUIRE(lines.size() == r.tests.size());
  const char* keys[] = {"test", "n_prompt", "n_gen", "depth", "threads", "isa", "backend", "kv_type", "quant",
                        "tokens_per_s_mean", "tokens_per_s_std", "load_ms", "ttft_ms", "peak_rss_bytes",
                        "weight_bytes_per_token", "kv_bytes_per_token", "read_bandwidth_gbps", "bandwidth_pct"};
  for (size_t i = 0; i < lines.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(lines[i]);
    for (const char* k : keys) CHECK_MESSAGE(j.contains(k), k);
    CHECK(j["test"] == r.tests[i].test);
    CHECK(j["quant"] == "int8");
    CHECK(j["weights"].get<std::string>().find("attention int8; ffn int8") != std::string::npos);
    CHECK(j["tokens_per_s_mean"].get<double>() == doctest::Approx(r.tests[i].tokens_per_s.mean));
  }
  // CSV: a header and a row per test, all with the same number of fields.
  const std::vector<std::string> rows = Split(bench::FormatCsv(r), '\n');
  REQUIRE(rows.size() == r.tests.size() + 1);
  const std::vector<std::string> header = Split(rows[0], ',');
  CHECK(header[0] == "test");
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::vector<std::string> fields = Split(rows[i] + ",", ',');
    CHECK(fields.size() == header.size());
    CHECK(fields[0] == r.tests[i - 1].test);
  }
  // Markdown: a table row per test and a profile table.
  const std::string md = bench::FormatMarkdown(r);
  CHECK(md.find("| pp16 | 9 | 2 |") != std::string::npos);
  CHECK(md.find("per-op time") != std::string::npos);
}

TEST_CASE("an encoder-decoder's tgN@srcS: cross-attention bytes and time reported against the read bandwidth") {
  test::TempDir dir;
  bench::Config c;
  c.model_path = test::MakeSyntheticEncoderDecoder(dir, convert::Quant::kInt8);
  c.n_prompt = {8, 16};
  c.n_gen = {4};
  c.threads = {1};
  c.kv_type = {"int8"};
  c.repetitions = 1;
  c.profile = true;
  c.read_buffer_bytes = 8 << 20;
  Result<bench::Report> run = bench::Run(c, nullptr);
  INFO((run.ok() ? "" : run.error().message()));
  REQUIRE(run.ok());
  const bench::Report& r = run.value();
  size_t decode_tests = 0;
  for (const bench::TestResult& t : r.tests) {
    INFO(t.test);
    if (t.n_gen == 0) {
      CHECK(t.cross_bytes_per_token == 0);
      continue;
    }
    ++decode_tests;
    // Every decoder layer reads the source's int8 keys and values, with a 4-byte scale per head
    // and position beside each head's values.
    const uint64_t kv_dim = r.model.dim / r.model.n_heads * r.model.n_kv_heads;
    const double per_value = 1.0 + 4.0 / (r.model.dim / r.model.n_heads);
    const uint32_t source = t.test == "tg4@src8" ? 8 : 16;
    CHECK(t.cross_bytes_per_token == static_cast<uint64_t>(2.0 * kv_dim * per_value * r.model.n_layers * source));
    CHECK(t.cross_bytes_per_token < t.kv_bytes_per_token);
    CHECK(t.profile.calls[static_cast<int>(Phase::kDecode)][static_cast<int>(OpKind::kCrossAttention)] ==
          t.n_gen * r.model.n_layers);
  }
  CHECK(decode_tests == 2);
  const std::string md = bench::FormatMarkdown(r);
  CHECK(md.find("tg4@src16: cross-attention ") != std::string::npos);
  CHECK(md.find("% of the read bandwidth") != std::string::npos);
}

TEST_CASE("a test that does not fit in the context is refused") {
  test::TempDir dir;
  bench::Config c;
  c.model_path = test::MakeSyntheticModel(dir, convert::Quant::kInt8);  // context 48
  c.n_prompt = {40};
  c.n_gen = {0};
  c.depth = {10};
  c.repetitions = 1;
  c.read_buffer_bytes = 1 << 20;
  Result<bench::Report> run = bench::Run(c, nullptr);
  REQUIRE_FALSE(run.ok());
  CHECK(run.error().message().find("needs 50 positions") != std::string::npos);
}

TEST_CASE("the read bandwidth measurement gives a plausible figure") {
  Result<double> bw = bench::MeasureReadBandwidth(1, 4 << 20);
  REQUIRE(bw.ok());
  CHECK(bw.value() > 0.1);
  CHECK(bw.value() < 10000.0);
}

TEST_CASE("perplexity: documents split at separator lines") {
  using perplexity::SplitDocuments;
  CHECK(SplitDocuments("one\ntwo\n", "") == std::vector<std::string>{"one\ntwo"});
  CHECK(SplitDocuments("a\nb\n%\nc\n%\nd\n", "%") == std::vector<std::string>{"a\nb", "c", "d"});
  CHECK(SplitDocuments("a\n%%\nb", "%") == std::vector<std::string>{"a\n%%\nb"});
  CHECK(SplitDocuments("%\na", "%") == std::vector<std::string>{"", "a"});
}

}  // namespace edgeformer

namespace edgeformer {
namespace {

// -log softmax(logits)[target], in double (as the tool computes it).
double Nll(const float* logits, size_t vocab, int32_t target) {
  double max = logits[0];
  for (size_t i = 1; i < vocab; ++i) max = std::max<double>(max, logits[i]);
  double sum = 0.0;
  for (size_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  return -(static_cast<double>(logits[target]) - max - std::log(sum));
}

}  // namespace

TEST_CASE("perplexity: a document longer than the context is scored in strided windows, every token once") {
  test::TempDir dir;
  const std::string path = test::MakeSyntheticModel(dir, convert::Quant::kInt8);  // context 48, vocab 300
  edgeformer_model* model = nullptr;
  REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  edgeformer_session* session = nullptr;
  REQUIRE(edgeformer_session_create(model, nullptr, &session) == EDGEFORMER_OK);
  std::string doc;
  for (int i = 0; i < 60; ++i) doc += std::string(1, static_cast<char>('a' + (i * 7) % 26)) + "b ";
  std::vector<int32_t> ids(doc.size() + 2);
  size_t n = 0;
  REQUIRE(edgeformer_tokenize(model, doc.data(), doc.size(), 1, ids.data(), ids.size(), &n) == EDGEFORMER_OK);
  ids.resize(n);
  REQUIRE(ids.size() > 100);  // more than two contexts

  perplexity::Score score;
  REQUIRE(perplexity::ScoreDocuments(model, session, {doc}, -1, &score) == EDGEFORMER_OK);
  CHECK(score.tokens == ids.size() - 1);
  CHECK(score.long_documents == 1);
  // Windows of 49 tokens every 24: the last one ends at the document's end.
  size_t windows = 0;
  for (size_t begin = 0;; begin += 24) {
    ++windows;
    if (begin + 49 >= ids.size()) break;
  }
  CHECK(score.windows == windows);

  // Independently: token t is predicted from the tokens of its window, [w, t), where w is the
  // start of the first window that reaches t (begin + 48 >= t) after the previous windows ended.
  double expected = 0.0;
  std::vector<float> logits(300);
  size_t scored_to = 1;
  for (size_t begin = 0; scored_to < ids.size(); begin += 24) {
    const size_t end = std::min(begin + 49, ids.size());
    for (size_t t = scored_to; t < end; ++t) {
      REQUIRE(edgeformer_session_reset(session) == EDGEFORMER_OK);
      REQUIRE(edgeformer_session_prefill(session, ids.data() + begin, t - begin) == EDGEFORMER_OK);
      const float* l = nullptr;
      size_t vocab = 0;
      REQUIRE(edgeformer_session_logits(session, &l, &vocab) == EDGEFORMER_OK);
      expected += Nll(l, vocab, ids[t]);
    }
    scored_to = end;
  }
  CHECK(score.nll_sum == doctest::Approx(expected).epsilon(1e-6));

  // A document that fits is one window, scored from its start.
  perplexity::Score short_score;
  REQUIRE(perplexity::ScoreDocuments(model, session, {"ab cd"}, -1, &short_score) == EDGEFORMER_OK);
  CHECK(short_score.long_documents == 0);
  CHECK(short_score.windows == 0);
  edgeformer_session_destroy(session);
  edgeformer_model_destroy(model);
}

TEST_CASE("bench: default sizes fit a small context; given ones that do not are refused with what fits") {
  test::TempDir dir;
  const std::string path = test::MakeSyntheticModel(dir, convert::Quant::kInt8);  // context 48
  Parsed d = Parse({path.c_str(), "-r", "1", "--read-buffer-mib", "1"});
  REQUIRE(d.code == 0);
  CHECK(d.config.fit_to_context);
  Result<bench::Report> fitted = bench::Run(d.config, nullptr);
  INFO((fitted.ok() ? "" : fitted.error().message()));
  REQUIRE(fitted.ok());
  REQUIRE(fitted.value().tests.size() == 2);
  CHECK(fitted.value().tests[0].n_prompt == 47);
  CHECK(fitted.value().tests[1].n_gen == 47);
  Parsed given = Parse({path.c_str(), "-p", "100", "-n", "0", "-r", "1", "--read-buffer-mib", "1"});
  REQUIRE(given.code == 0);
  CHECK_FALSE(given.config.fit_to_context);
  Result<bench::Report> refused = bench::Run(given.config, nullptr);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message().find("at most 48 tokens fits") != std::string::npos);
  // A wrong path fails before any measuring; an unknown backend is refused, not run as native.
  bench::Config missing = given.config;
  missing.model_path = dir.path("absent.edgf");
  Result<bench::Report> absent = bench::Run(missing, nullptr);
  REQUIRE_FALSE(absent.ok());
  CHECK(absent.error().message().find("absent.edgf") != std::string::npos);
  bench::Config odd = d.config;
  odd.backend = {"cuda"};
  Result<bench::Report> unknown = bench::Run(odd, nullptr);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message().find("unknown backend 'cuda'") != std::string::npos);
  // --version and the shared exit codes.
  CHECK(Parse({"--version"}).code == -1);
  CHECK(Parse({path.c_str(), "--sessions", "0"}).code == 2);
}

TEST_CASE("bench: two sessions at once and a background load give per-session figures and a wall time") {
  test::TempDir dir;
  bench::Config c;
  c.model_path = test::MakeSyntheticModel(dir, convert::Quant::kInt8);
  c.n_prompt = {8};
  c.n_gen = {6};
  c.threads = {2};
  c.repetitions = 2;
  c.sessions = 2;
  c.background_load = 1;
  c.read_buffer_bytes = 1 << 20;
  Result<bench::Report> run = bench::Run(c, nullptr);
  INFO((run.ok() ? "" : run.error().message()));
  REQUIRE(run.ok());
  REQUIRE(run.value().tests.size() == 2);
  for (const bench::TestResult& t : run.value().tests) {
    CHECK(t.sessions == 2);
    CHECK(t.background_load == 1);
    CHECK(t.tokens_per_s.median > 0.0);
    // The wall time covers both sessions' runs: at least one session's median time.
    CHECK(t.wall_seconds.median >= t.seconds.median * 0.5);
    CHECK(t.active_threads >= 1);
    CHECK(t.active_threads <= 2);
  }
  const std::string md = bench::FormatMarkdown(run.value());
  CHECK(md.find("busy threads") != std::string::npos);
}

// --draft / --lookup with --prompt-file: each tgN plain and speculative after the text; a draft
// that is the model's own weights in another file agrees on every proposal (greedy), prompt lookup
// on a repetitive text proposes what the model also picks at times. --restore: rsN beside ppN.
TEST_CASE("bench: speculative decode tests report acceptance and tokens per pass; --restore times a restore") {
  test::TempDir dir;
  bench::Config c;
  c.model_path = test::MakeSyntheticModel(dir, convert::Quant::kInt8);
  c.draft_path = test::MakeSyntheticModel(dir, convert::Quant::kInt8, "same");
  c.draft_tokens = 3;
  c.prompt_file = dir.path("prompt.txt");
  const std::string text = "one two three one two three one two three";
  test::WriteFile(c.prompt_file, std::vector<uint8_t>(text.begin(), text.end()));
  c.n_prompt = {9};
  c.n_gen = {12};
  c.repetitions = 2;
  c.restore = true;
  c.read_buffer_bytes = 1 << 20;
  Result<bench::Report> run = bench::Run(c, nullptr);
  INFO((run.ok() ? "" : run.error().message()));
  REQUIRE(run.ok());
  std::vector<std::string> names;
  for (const bench::TestResult& t : run.value().tests) names.push_back(t.test);
  CHECK(names == std::vector<std::string>{"pp9", "rs9", "tg12", "tg12@prompt", "tg12@prompt-draft3"});
  const bench::TestResult& draft = run.value().tests[4];
  CHECK(draft.acceptance == 1.0);
  CHECK(draft.tokens_per_pass == 4.0);  // 3 proposals, all accepted, and the pass's own token
  CHECK(draft.depth == run.value().tests[3].depth);
  CHECK(draft.tokens_per_s.median > 0.0);
  CHECK(run.value().tests[1].tokens_per_s.median > 0.0);
  CHECK(bench::FormatMarkdown(run.value()).find("tg12@prompt-draft3: 100.0% of the proposed tokens accepted") !=
        std::string::npos);
  c.draft_path.clear();
  c.lookup_tokens = 4;
  c.restore = false;
  run = bench::Run(c, nullptr);
  REQUIRE(run.ok());
  REQUIRE(run.value().tests.size() == 4);
  CHECK(run.value().tests[3].test == "tg12@prompt-lookup4");
  CHECK(run.value().tests[3].acceptance >= 0.0);
  CHECK(run.value().tests[3].tokens_per_pass >= 1.0);
  c.prompt_file.clear();
  CHECK_FALSE(bench::Run(c, nullptr).ok());  // speculation needs a real text
}

// --verify K: pvK times a pass of K + 1 rows with every row's logits against a one-row step from
// the same context, paired per repetition; an encoder has no such pass, and a pass that does not
// fit after the depth is refused.
TEST_CASE("bench: pvK reports a verification pass against a step") {
  test::TempDir dir;
  bench::Config c;
  c.model_path = test::MakeSyntheticModel(dir, convert::Quant::kInt8);
  c.n_prompt = {0};
  c.n_gen = {0};
  c.verify = {1, 4};
  c.depth = {3};
  c.repetitions = 3;
  c.read_buffer_bytes = 1 << 20;
  Result<bench::Report> run = bench::Run(c, nullptr);
  INFO((run.ok() ? "" : run.error().message()));
  REQUIRE(run.ok());
  REQUIRE(run.value().tests.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    const bench::TestResult& t = run.value().tests[i];
    const uint32_t k = c.verify[i];
    CHECK(t.test == "pv" + std::to_string(k));
    CHECK(t.n_prompt == k + 1);
    CHECK(t.depth == 3);
    CHECK(t.pass_vs_step > 0.0);
    CHECK(t.step_seconds.median > 0.0);
    CHECK(t.seconds.median > 0.0);
    CHECK(t.tokens_per_s.median == doctest::Approx((k + 1) / t.seconds.median).epsilon(0.5));
  }
  const std::string md = bench::FormatMarkdown(run.value());
  CHECK(md.find("pv4: a pass of 5 rows (every row's logits)") != std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(Split(bench::FormatJsonLines(run.value()), '\n')[1]);
  CHECK(j["test"] == "pv4");
  CHECK(j["pass_vs_step"].get<double>() == run.value().tests[1].pass_vs_step);
  CHECK(j["step_seconds_median"].get<double>() == run.value().tests[1].step_seconds.median);
  const std::vector<std::string> csv = Split(bench::FormatCsv(run.value()), '\n');
  CHECK(csv[0].find("pass_vs_step,step_seconds_median") != std::string::npos);

  c.depth = {45};  // the session's context is 48: 45 + 2 rows fit, 45 + 5 do not
  Result<bench::Report> full = bench::Run(c, nullptr);
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().message().find("pv4 at depth 45 needs 50 positions") != std::string::npos);
  CHECK(full.error().message().find("a pass (--verify K: K + 1 rows) of at most 3 tokens fits") != std::string::npos);
  c.depth = {0};
  c.model_path = test::MakeSyntheticEncoder(dir, convert::Quant::kInt8);
  Result<bench::Report> encoder = bench::Run(c, nullptr);
  REQUIRE_FALSE(encoder.ok());
  CHECK(encoder.error().message().find("--verify is for decoders") != std::string::npos);
}

}  // namespace edgeformer
