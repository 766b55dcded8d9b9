// The tiny real encoder (tests/data/fortunes-mlm: a BERT masked-LM trained by
// scripts/train_fortunes_mlm.py on Debian's fortunes): on fortunes it never saw, the runtime's
// WordPiece ids are the reference tokenizer's, and its masked-token accuracy is PyTorch's
// (tests/reference/eval_mlm.py) within 0.5 points in f32 (int8: within 1 point).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "edgeformer.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

// The accuracy of a converted checkpoint on the evaluation's masked fortunes; checks its
// tokenizer against the reference ids on the way.
double Accuracy(const std::string& path, const nlohmann::json& eval, size_t* agree_with_torch) {
  edgeformer_model* model = nullptr;
  REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  edgeformer_session* session = nullptr;
  REQUIRE(edgeformer_session_create(model, nullptr, &session) == EDGEFORMER_OK);
  edgeformer_model_info info;
  REQUIRE(edgeformer_model_get_info(model, &info) == EDGEFORMER_OK);
  size_t right = 0, total = 0, tokenized = 0;
  *agree_with_torch = 0;
  std::vector<float> logits;
  for (const auto& c : eval["cases"]) {
    const std::string text = c["text"];
    const std::vector<int32_t> ids = c["ids"].get<std::vector<int32_t>>();
    std::vector<int32_t> got(text.size() * 2 + 8);
    size_t n = 0;
    REQUIRE(edgeformer_tokenize(model, text.data(), text.size(), test::kAddAndParse, got.data(), got.size(), &n) == EDGEFORMER_OK);
    got.resize(std::min<size_t>(n, 64));
    if (n > 64) got.back() = ids.back();  // cut as the training cut it: the last kept id is [SEP]
    tokenized += got == ids;
    const std::vector<int32_t> input = c["input"].get<std::vector<int32_t>>();
    logits.assign(input.size() * info.vocab_size, 0.0f);
    REQUIRE(edgeformer_encode(session, input.data(), nullptr, input.size(), nullptr, 0, logits.data(), logits.size()) ==
            EDGEFORMER_OK);
    const std::vector<int32_t> positions = c["positions"].get<std::vector<int32_t>>();
    for (size_t k = 0; k < positions.size(); ++k) {
      const float* row = &logits[static_cast<size_t>(positions[k]) * info.vocab_size];
      const int32_t best = static_cast<int32_t>(std::max_element(row, row + info.vocab_size) - row);
      right += best == c["targets"][k].get<int32_t>();
      *agree_with_torch += best == c["predictions"][k].get<int32_t>();
      ++total;
    }
  }
  CHECK(tokenized == eval["cases"].size());
  CHECK(total == eval["masked"].get<size_t>());
  edgeformer_session_destroy(session);
  edgeformer_model_destroy(model);
  return static_cast<double>(right) / static_cast<double>(total);
}

}  // namespace

TEST_CASE("the trained fortunes encoder: masked-token accuracy on held-out fortunes as PyTorch's") {
  const char* ref = std::getenv("EDGEFORMER_REFERENCE_DIR");
  const char* ckpt = std::getenv("EDGEFORMER_MLM_CHECKPOINT");
  REQUIRE_MESSAGE((ref != nullptr && ckpt != nullptr), "run through ctest (the reference_mlm fixture)");
  std::ifstream in(std::string(ref) + "/mlm_eval.json");
  REQUIRE_MESSAGE(in.good(), "mlm_eval.json is missing: did the reference_mlm fixture run (Debian's fortunes installed)?");
  const nlohmann::json eval = nlohmann::json::parse(in);
  const double torch_accuracy = eval["accuracy"].get<double>();
  test::TempDir tmp;
  for (convert::Quant quant : {convert::Quant::kNone, convert::Quant::kInt8}) {
    convert::ConvertOptions o;
    o.checkpoint = ckpt;
    o.output = tmp.path(quant == convert::Quant::kInt8 ? "int8.edgf" : "f32.edgf");
    o.quant = quant;
    const Error err = convert::ConvertHf(o);
    INFO(err.message());
    REQUIRE(err.ok());
    size_t agree = 0;
    const double accuracy = Accuracy(o.output, eval, &agree);
    const size_t masked = eval["masked"].get<size_t>();
    const std::string name = quant == convert::Quant::kInt8 ? "int8" : "f32";
    MESSAGE(name << ": masked-token accuracy " << 100.0 * accuracy
            << "% (PyTorch " << 100.0 * torch_accuracy << "%), the same prediction at " << agree << " of " << masked);
    CHECK(std::abs(accuracy - torch_accuracy) * 100.0 <= (quant == convert::Quant::kInt8 ? 1.0 : 0.5));
    if (quant == convert::Quant::kNone) CHECK(agree >= masked - masked / 200);  // near-ties aside, the same tokens
  }
}

}  // namespace edgeformer
