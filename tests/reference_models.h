// The reference models of tests/reference/make_models.py (tiny checkpoints with random weights
// and PyTorch's logits) as the converter and runtime tests read them: shared by hf_test.cc,
// gguf_test.cc and sliding_window_test.cc.
#pragma once

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "converter/convert.h"
#include "edgeformer.h"
#include "tests/test_support.h"

namespace edgeformer {

// Where the reference models are: $EDGEFORMER_REFERENCE_DIR (set by ctest after the fixture
// that runs make_models.py).
std::string ReferenceDir();

// A reference model's tokens and PyTorch's logits after each (reference.json, logits.f32).
struct Reference {
  std::vector<int32_t> tokens;
  uint32_t vocab = 0;
  std::vector<float> logits;  // [tokens][vocab]
};

Reference LoadReference(const std::string& dir);

using ConvertFn = Error (*)(const convert::ConvertOptions&);

// Converts a reference checkpoint; its tokenizer when it has one (tokenizer.json or GGUF).
std::string ConvertHf(const test::TempDir& tmp, const std::string& checkpoint, convert::Quant quant,
                      const std::string& name, ConvertFn convert_fn = &convert::ConvertHf);

// Every position's logits from the runtime (context 0: the model's; isa null: the best).
std::vector<float> RunLogits(const std::string& model_path, const std::vector<int32_t>& tokens, uint32_t context = 0,
                             const char* isa = nullptr, edgeformer_kv_type kv_type = EDGEFORMER_KV_F32);

// The largest |want - have| of a position over the largest |want| of that position.
double WorstRelativeDifference(const Reference& ref, const std::vector<float>& got);

size_t ArgMax(const float* v, size_t n);

// The positions whose top-1 token in `got` ([tokens][vocab]) is the reference's.
size_t TopOneAgreements(const Reference& ref, const std::vector<float>& got);

// Converts dir/model.gguf (no tokenizer, f32 throughout) into tmp and checks PyTorch's logits on
// it; returns the options, for further conversions of the same file.
convert::ConvertOptions CheckGgufF32(const std::string& dir, const Reference& ref, const test::TempDir& tmp);

// Checks the f32 and f16 logits of one reference model; returns its int8 top-1 agreements (of
// 96). `file` is the checkpoint inside the model's folder ("" for the folder itself).
size_t CheckModel(const std::string& name, ConvertFn convert_fn = &convert::ConvertHf, const std::string& file = "");

// Encodes `text` through the C API; checks that the pieces of the ids spell it again.
std::vector<int32_t> EncodeAndCheckRoundTrip(edgeformer_model* model, const std::string& text, int add_bos);

// Converts `checkpoint` (its tokenizer included) and checks every case of `cases_file`
// ([{"text", "ids"}], made by make_models.py) with the round trip; then runs `more` on the model.
template <typename More>
void CheckTokenizerCases(const std::string& checkpoint, ConvertFn convert_fn, const std::string& cases_file,
                         int add_bos, More more) {
  test::TempDir tmp;
  const std::string path = ConvertHf(tmp, checkpoint, convert::Quant::kInt8, "m.edgf", convert_fn);
  edgeformer_model* model = nullptr;
  REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  std::ifstream in(cases_file);
  REQUIRE(in.good());
  const nlohmann::json cases = nlohmann::json::parse(in);
  CHECK(cases.size() >= 5);
  for (const auto& c : cases) {
    const std::string text = c["text"].get<std::string>();
    INFO("text: " << text);
    CHECK(EncodeAndCheckRoundTrip(model, text, add_bos) == c["ids"].get<std::vector<int32_t>>());
  }
  more(model);
  edgeformer_model_destroy(model);
}

}  // namespace edgeformer
