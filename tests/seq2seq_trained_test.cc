// The tiny real encoder-decoder (tests/data/numbers-seq2seq: a MarianMTModel trained by
// scripts/train_seq2seq_numbers.py to spell out numbers in English words): on numbers it never
// saw, the runtime's greedy ids are PyTorch's (tests/reference/eval_seq2seq.py, float32) in f32
// (all of them but close calls, of which the committed model has none: its smallest gap between
// the two best logits of a step is 0.107) and its exact-match accuracy equals PyTorch's; int8
// weights keep the accuracy within 1 point. The sources are tokenized and the targets decoded by
// the model's own tokenizers, converted from the checkpoint's source.spm, target.spm and
// vocab.json: the source ids are MarianTokenizer's and the text PyTorch's decoded one.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "edgeformer.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

// A greedy step whose best and second-best PyTorch logits are this close may go either way with
// the runtime's float32 rounding; above it the runtime must pick PyTorch's id.
constexpr double kCloseCall = 1e-3;

struct Outcome {
  size_t right = 0;       // generated ids == the target's ids (</s> included)
  size_t same = 0;        // generated ids == PyTorch's
  size_t clear = 0;       // cases without a close call among PyTorch's steps
  size_t clear_same = 0;  // of those, generated ids == PyTorch's
};

std::vector<int32_t> Ids(const nlohmann::json& j) { return j.get<std::vector<int32_t>>(); }

// The checkpoint converted to `quant` (matrices of the layers; the shared embedding stays f32),
// with its SentencePiece tokenizers.
std::string Convert(const test::TempDir& tmp, const std::string& checkpoint, convert::Quant quant) {
  convert::ConvertOptions o;
  o.checkpoint = checkpoint;
  o.output = tmp.path(quant == convert::Quant::kInt8 ? "int8.edgf" : "f32.edgf");
  o.quant = quant;
  o.tokenizer_from_checkpoint = true;
  const Error err = convert::ConvertHf(o);
  INFO(err.message());
  REQUIRE(err.ok());
  return o.output;
}

// Greedy decoding of one source as the reference's: the decoder start id (<pad>) first, <pad>
// never generated (the model's suppressed id), until </s> (returned last, as PyTorch's ids have
// it) or max_new ids.
struct Translation {
  std::vector<int32_t> ids;
  std::string text;
};
Translation Translate(test::LoadedModel& m, const std::vector<int32_t>& source, uint32_t max_new) {
  edgeformer_status st = edgeformer_encode_source(m.session, source.data(), source.size(), nullptr, 0);
  INFO(edgeformer_last_error());
  REQUIRE(st == EDGEFORMER_OK);
  edgeformer_generate_params g = edgeformer_generate_default_params();
  g.max_tokens = max_new;
  g.sampler.temperature = 0.0f;
  g.stop_at_end_of_text = 1;
  Translation out;
  edgeformer_stop_reason reason = EDGEFORMER_STOP_ERROR;
  st = edgeformer_generate(
      m.session, &g,
      [](void* user, int32_t token, const char* piece, size_t len) {
        auto* t = static_cast<Translation*>(user);
        t->ids.push_back(token);
        t->text.append(piece, len);
        return 1;
      },
      &out, nullptr, &reason);
  REQUIRE(st == EDGEFORMER_OK);
  REQUIRE((reason == EDGEFORMER_STOP_END_OF_TEXT || reason == EDGEFORMER_STOP_MAX_TOKENS));
  if (reason == EDGEFORMER_STOP_END_OF_TEXT) out.ids.push_back(m.info.eos_id);
  return out;
}

// The source text through the model's source tokenizer, with its special tokens (</s>).
std::vector<int32_t> TokenizeSource(const test::LoadedModel& m, const std::string& text) {
  std::vector<int32_t> ids(text.size() + 8);
  size_t n = 0;
  const edgeformer_status st = edgeformer_tokenize(m.model, text.data(), text.size(),
                                                   EDGEFORMER_TOKENIZE_SOURCE | EDGEFORMER_TOKENIZE_ADD_SPECIAL,
                                                   ids.data(), ids.size(), &n);
  INFO(edgeformer_last_error());
  REQUIRE(st == EDGEFORMER_OK);
  ids.resize(n);
  return ids;
}

Outcome Run(const std::string& path, const nlohmann::json& eval, bool check_clear_cases) {
  test::LoadedModel m(path);
  REQUIRE(m.info.family == EDGEFORMER_FAMILY_ENCODER_DECODER);
  const uint32_t max_new = eval["max_new_tokens"].get<uint32_t>();
  Outcome o;
  for (const auto& c : eval["cases"]) {
    const std::vector<int32_t> target = Ids(c["target_ids"]), torch_ids = Ids(c["ids"]);
    REQUIRE(m.info.eos_id == target.back());
    const std::string source = c["source"], torch_text = c["text"];
    const std::vector<int32_t> source_ids = TokenizeSource(m, source);
    CAPTURE(source);
    CHECK(source_ids == Ids(c["source_ids"]));  // MarianTokenizer's ids
    const Translation t = Translate(m, source_ids, max_new);
    const std::vector<int32_t>& ids = t.ids;
    if (ids == torch_ids) CHECK(t.text == torch_text);
    o.right += ids == target;
    o.same += ids == torch_ids;
    if (c["margin"].get<double>() > kCloseCall) {
      ++o.clear;
      o.clear_same += ids == torch_ids;
      if (check_clear_cases) {
        CAPTURE(torch_text);
        CHECK(ids == torch_ids);
      }
    }
  }
  return o;
}

}  // namespace

TEST_CASE("the trained numbers encoder-decoder: greedy exact match on held-out numbers as PyTorch's") {
  const char* ref = std::getenv("EDGEFORMER_REFERENCE_DIR");
  const char* ckpt = std::getenv("EDGEFORMER_SEQ2SEQ_CHECKPOINT");
  REQUIRE_MESSAGE((ref != nullptr && ckpt != nullptr), "run through ctest (the reference_seq2seq_trained fixture)");
  std::ifstream in(std::string(ref) + "/seq2seq_trained_eval.json");
  REQUIRE_MESSAGE(in.good(), "seq2seq_trained_eval.json is missing: did the reference_seq2seq_trained fixture run?");
  const nlohmann::json eval = nlohmann::json::parse(in);
  const size_t n = eval["cases"].size();
  REQUIRE(n >= 100);
  // PyTorch's exact matches, counted from its ids as the runtime's are.
  size_t torch_right = 0;
  for (const auto& c : eval["cases"]) torch_right += Ids(c["ids"]) == Ids(c["target_ids"]);
  CHECK(std::abs(static_cast<double>(torch_right) / n - eval["id_accuracy"].get<double>()) < 1e-9);
  auto percent = [n](size_t k) { return 100.0 * static_cast<double>(k) / static_cast<double>(n); };
  test::TempDir tmp;

  const Outcome f32 = Run(Convert(tmp, ckpt, convert::Quant::kNone), eval, true);
  MESSAGE("f32: exact match " << percent(f32.right) << "% (PyTorch " << percent(torch_right) << "%), PyTorch's ids in "
                              << f32.same << " of " << n << " (" << f32.clear_same << " of the " << f32.clear
                              << " without a close call)");
  CHECK(f32.clear_same == f32.clear);
  CHECK(f32.same * 100 >= n * 99);
  CHECK(f32.right == torch_right);

  const Outcome int8 = Run(Convert(tmp, ckpt, convert::Quant::kInt8), eval, false);
  MESSAGE("int8: exact match " << percent(int8.right) << "% (PyTorch " << percent(torch_right)
                               << "%), PyTorch's ids in " << int8.same << " of " << n);
  const size_t gap = int8.right > torch_right ? int8.right - torch_right : torch_right - int8.right;
  CHECK(gap * 100 <= n);  // within 1 point
}

}  // namespace edgeformer
