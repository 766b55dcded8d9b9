// edgeformer-perplexity's scoring on the real fortunes2M checkpoint: scored as its README's
// evaluation does (each document cut to context + 1 tokens), the f32 model must give the
// validation loss the README states, and int8 must stay close to it; scored whole (strided
// windows, the tool's default), the long documents add tokens.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "converter/auto_quant.h"
#include "tests/test_support.h"
#include "tools/perplexity/perplexity.h"

namespace edgeformer {
namespace {

// fortunes2M's checkpoint, tokenizer and validation documents (split at its "%" lines); `ok` is
// false (the test returns) when the shared models are absent and not required.
struct Fortunes2M {
  std::string bin = test::SharedFile("models/fortunes2M/model.bin");
  std::string tok = test::SharedFile("models/fortunes2M/tokenizer.bin");
  std::string text = test::SharedFile("models/fortunes2M/validation.txt");
  bool ok = !bin.empty() && !tok.empty() && !text.empty();
  std::vector<std::string> docs;
  Fortunes2M() {
    if (!ok) return;
    const std::vector<uint8_t> bytes = test::ReadFile(text);
    docs = perplexity::SplitDocuments(std::string(bytes.begin(), bytes.end()), "%");
  }
};

}  // namespace

TEST_CASE("perplexity of fortunes2M f32 on validation.txt is the loss its README states") {
  const Fortunes2M f;
  if (!f.ok) return;
  const std::string &bin = f.bin, &tok = f.tok;
  const std::vector<std::string>& docs = f.docs;
  test::TempDir dir;
  CHECK(docs.size() == 312);
  double nll[2] = {};
  for (convert::Quant quant : {convert::Quant::kNone, convert::Quant::kInt8}) {
    const std::string path = test::Convert(dir, bin, tok, quant, quant == convert::Quant::kNone ? "f32" : "int8");
    edgeformer_model* model = nullptr;
    REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
    edgeformer_session_params sp = edgeformer_session_default_params();
    sp.max_batch = 64;
    edgeformer_session* session = nullptr;
    REQUIRE(edgeformer_session_create(model, &sp, &session) == EDGEFORMER_OK);
    perplexity::Score score;
    REQUIRE(perplexity::ScoreDocuments(model, session, docs, 1, &score, perplexity::LongDocuments::kTruncate) ==
            EDGEFORMER_OK);
    CHECK(score.tokens == 21376);  // the README's count of predicted tokens
    CHECK(score.long_documents > 0);
    nll[quant == convert::Quant::kInt8] = score.nll_per_token();
    perplexity::Score whole;
    REQUIRE(perplexity::ScoreDocuments(model, session, docs, 1, &whole) == EDGEFORMER_OK);
    CHECK(whole.long_documents == score.long_documents);
    CHECK(whole.windows > whole.long_documents);
    CHECK(whole.tokens > score.tokens);  // every token of the long documents
    CHECK(std::fabs(whole.nll_per_token() - score.nll_per_token()) < 0.05);
    edgeformer_session_destroy(session);
    edgeformer_model_destroy(model);
  }
  MESSAGE("fortunes2M validation nll/token: f32 " << nll[0] << ", int8 " << nll[1]);
  CHECK(std::fabs(nll[0] - 3.4041) < 1e-3);
  CHECK(std::fabs(nll[1] - nll[0]) < 0.01);  // int8 costs less than 1% in loss
}

// int4 in groups of 32 and an int8 KV cache (issue 16's fidelity targets: perplexity within +5% of
// f32 for int4; the int8 cache within +2% of the f32 cache), on the first 60 documents (the int4
// and attention kernels of every ISA are bit-identical to the reference, so any of them gives
// these numbers).
TEST_CASE("fortunes2M: int4 g32 within 5% of f32 perplexity, an int8 KV cache within 2% of f32's") {
  const Fortunes2M f;
  if (!f.ok) return;
  const std::string &bin = f.bin, &tok = f.tok;
  const std::vector<std::string> docs(f.docs.begin(), f.docs.begin() + 60);
  test::TempDir dir;
  double nll[2][2] = {};  // [int4 weights][int8 cache]
  for (convert::Quant quant : {convert::Quant::kNone, convert::Quant::kInt4}) {
    const bool int4 = quant == convert::Quant::kInt4;
    const std::string path = test::Convert(dir, bin, tok, quant, int4 ? "int4" : "f32");
    edgeformer_model* model = nullptr;
    REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
    for (edgeformer_kv_type kv : {EDGEFORMER_KV_F32, EDGEFORMER_KV_I8}) {
      edgeformer_session_params p = edgeformer_session_default_params();
      p.kv_type = kv;
      edgeformer_session* session = nullptr;
      REQUIRE(edgeformer_session_create(model, &p, &session) == EDGEFORMER_OK);
      perplexity::Score score;
      REQUIRE(perplexity::ScoreDocuments(model, session, docs, 1, &score, perplexity::LongDocuments::kTruncate) ==
              EDGEFORMER_OK);
      nll[int4][kv == EDGEFORMER_KV_I8] = score.nll_per_token();
      edgeformer_session_destroy(session);
    }
    edgeformer_model_destroy(model);
  }
  MESSAGE("fortunes2M, 60 documents, perplexity: f32 " << std::exp(nll[0][0]) << ", int4 g32 " << std::exp(nll[1][0])
                                                       << ", f32 with an int8 KV cache " << std::exp(nll[0][1])
                                                       << ", int4 with an int8 KV cache " << std::exp(nll[1][1]));
  CHECK(std::exp(nll[1][0] - nll[0][0]) <= 1.05);
  CHECK(std::exp(nll[0][1] - nll[0][0]) <= 1.02);
  CHECK(std::exp(nll[1][1] - nll[0][0]) <= 1.07);
  CHECK(nll[1][0] != nll[0][0]);  // the int4 path ran
  CHECK(nll[0][1] != nll[0][0]);  // the int8 cache is really quantized
}

namespace {

// nll per predicted token of `docs` (each as BOS + tokens + BOS, cut to the context) under `path`.
double Nll(const std::string& path, const std::vector<std::string>& docs) {
  edgeformer_model* model = nullptr;
  REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  edgeformer_session_params sp = edgeformer_session_default_params();
  sp.max_batch = 64;
  edgeformer_session* session = nullptr;
  REQUIRE(edgeformer_session_create(model, &sp, &session) == EDGEFORMER_OK);
  perplexity::Score score;
  REQUIRE(perplexity::ScoreDocuments(model, session, docs, -1, &score) == EDGEFORMER_OK);
  edgeformer_session_destroy(session);
  edgeformer_model_destroy(model);
  return score.nll_per_token();
}

// What ConvertAuto printed to its table stream.
std::string Printed(std::FILE* f) {
  std::string text(static_cast<size_t>(std::ftell(f)), '\0');
  std::rewind(f);
  text.resize(std::fread(&text[0], 1, text.size(), f));
  return text;
}

}  // namespace

// --quant auto (issue 16): calibrated on 20 documents of validation.txt, checked on 60 others. The
// budget is measured again here, independently of the converter's own report; the choice is
// deterministic (every ISA's kernels are bit-identical to the reference).
TEST_CASE("--quant auto meets its perplexity budget with fewer bytes than all-int8, and refuses one it cannot meet") {
  const Fortunes2M f;
  if (!f.ok) return;
  const std::string &bin = f.bin, &tok = f.tok;
  const std::vector<std::string>& docs = f.docs;
  test::TempDir dir;
  const std::vector<std::string> held_out(docs.begin(), docs.begin() + 60);
  auto calibration = [&](size_t n) {
    const std::vector<std::string> cal(docs.begin() + 100, docs.begin() + 100 + n);
    std::string joined;
    for (const std::string& d : cal) joined += (joined.empty() ? "" : "\n%\n") + d;
    const std::string path = dir.path("calibration" + std::to_string(n) + ".txt");
    test::WriteFile(path, std::vector<uint8_t>(joined.begin(), joined.end()));
    return std::make_pair(path, cal);
  };
  const auto [cal_path, cal_docs] = calibration(20);
  const std::string f32 = test::Convert(dir, bin, tok, convert::Quant::kNone, "f32");
  // The CLI's all-int8 and all-int4 (both with an int8 embedding), to compare sizes with.
  auto uniform = [&](convert::Quant quant, const std::string& name) {
    convert::ConvertOptions o;
    o.checkpoint = bin;
    o.tokenizer = tok;
    o.output = dir.path(name);
    o.quant = quant;
    o.embedding_quant = convert::Quant::kInt8;
    REQUIRE(convert::ConvertLlama2c(o).ok());
    return o.output;
  };
  const std::string int8 = uniform(convert::Quant::kInt8, "int8.edgf");
  const std::string int4 = uniform(convert::Quant::kInt4, "int4.edgf");

  convert::ConvertOptions o;
  o.checkpoint = bin;
  o.tokenizer = tok;
  o.output = dir.path("auto.edgf");
  convert::AutoQuantOptions a;
  a.calibration = cal_path;
  a.doc_separator = "%";
  a.max_ppl_increase = 0.003;  // between all-int8 and all-int4 on this text: the choice is a mix
  std::FILE* table = std::tmpfile();
  REQUIRE(table != nullptr);
  o.report = table;  // the table of choices, then the output's per-tensor report
  const Error err = convert::ConvertAuto(o, a, &convert::ConvertLlama2c, table);
  const std::string printed = Printed(table);
  std::fclose(table);
  INFO(err.message());
  INFO(printed);
  REQUIRE(err.ok());
  const double ref = Nll(f32, cal_docs), got = Nll(o.output, cal_docs);
  MESSAGE("--quant auto 0.3%: calibration perplexity " << std::exp(got) << " against f32's " << std::exp(ref)
          << "; held out: " << std::exp(Nll(o.output, held_out)) << " against " << std::exp(Nll(f32, held_out)));
  CHECK(std::exp(got - ref) - 1.0 <= 0.003);
  CHECK(std::exp(Nll(o.output, held_out) - Nll(f32, held_out)) - 1.0 <= 0.01);
  const auto size = [](const std::string& p) { return std::filesystem::file_size(p); };
  CHECK(size(o.output) < size(int8));
  CHECK(size(o.output) > size(int4));  // all-int4 is over this budget
  // The table's type column (the third) holds both precisions.
  std::set<std::string> types;
  std::istringstream lines(printed);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string name, shape, type;
    const bool choice = fields >> name >> shape >> type && name.rfind("layers.", 0) == 0 &&
                        (type == "int4" || type == "int8" || type == "f16" || type == "f32");
    if (choice) types.insert(type);
  }
  CHECK(types == std::set<std::string>{"int4", "int8"});
  // The runtime names the mix: a count per type in the classes that mix them.
  edgeformer_model* mixed = nullptr;
  REQUIRE(edgeformer_model_load(o.output.c_str(), nullptr, &mixed) == EDGEFORMER_OK);
  const std::string weights = edgeformer_model_weights(mixed);
  edgeformer_model_destroy(mixed);
  INFO(weights);
  CHECK(weights.find("int4/g32 x") != std::string::npos);
  CHECK(weights.find("+int8 x") != std::string::npos);
  CHECK(std::exp(Nll(int4, cal_docs) - ref) - 1.0 > 0.003);  // so the mix was needed

  // int4 only, no increase allowed: every assignment is over, so nothing is written.
  a.max_ppl_increase = 0.0;
  a.allow_int8 = a.allow_f16 = false;
  o.output = dir.path("refused.edgf");
  o.report = nullptr;
  table = std::tmpfile();
  const Error refused = convert::ConvertAuto(o, a, &convert::ConvertLlama2c, table);
  std::fclose(table);
  CHECK(refused.status() == Status::kInvalidArgument);
  CHECK(refused.message().find("no assignment met the perplexity budget") != std::string::npos);
  CHECK(!std::filesystem::exists(o.output));
  for (const auto& entry : std::filesystem::directory_iterator(dir.path(""))) {
    CHECK(entry.path().string().find(".tmp") == std::string::npos);  // no trial or spool left behind
  }
}

}  // namespace edgeformer
