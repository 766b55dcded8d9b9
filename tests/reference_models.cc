#include "tests/reference_models.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace edgeformer {

// Where the reference models are: $EDGEFORMER_REFERENCE_DIR (set by ctest after the fixture
// that runs make_models.py).
std::string ReferenceDir() {
  const char* dir = std::getenv("EDGEFORMER_REFERENCE_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "EDGEFORMER_REFERENCE_DIR is not set (run through ctest)");
  return dir;
}

Reference LoadReference(const std::string& dir) {
  Reference r;
  std::ifstream in(dir + "/reference.json");
  INFO(dir << "/reference.json is missing: did the reference_models fixture run?");
  REQUIRE(in.good());
  const nlohmann::json j = nlohmann::json::parse(in);
  r.tokens = j["tokens"].get<std::vector<int32_t>>();
  r.vocab = j["vocab_size"].get<uint32_t>();
  const std::vector<uint8_t> bytes = test::ReadFile(dir + "/logits.f32");
  REQUIRE(bytes.size() == r.tokens.size() * r.vocab * sizeof(float));
  r.logits.resize(bytes.size() / sizeof(float));
  std::memcpy(r.logits.data(), bytes.data(), bytes.size());
  return r;
}

// Converts a reference checkpoint; its tokenizer when it has one (tokenizer.json or GGUF).
std::string ConvertHf(const test::TempDir& tmp, const std::string& checkpoint, convert::Quant quant,
                      const std::string& name, ConvertFn convert_fn) {
  convert::ConvertOptions o;
  o.checkpoint = checkpoint;
  o.output = tmp.path(name);
  o.quant = quant;
  o.tokenizer_from_checkpoint = convert_fn == &convert::ConvertGguf || std::ifstream(checkpoint + "/tokenizer.json").good();
  const Error err = convert_fn(o);
  INFO(err.message());
  REQUIRE(err.ok());
  return o.output;
}

// Every position's logits from the runtime.
std::vector<float> RunLogits(const std::string& model_path, const std::vector<int32_t>& tokens, uint32_t context,
                             const char* isa, edgeformer_kv_type kv_type) {
  edgeformer_model* model = nullptr;
  REQUIRE(edgeformer_model_load(model_path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  edgeformer_session_params p = edgeformer_session_default_params();
  p.context_length = context;
  p.max_isa = isa;
  p.kv_type = kv_type;
  edgeformer_session* session = nullptr;
  REQUIRE(edgeformer_session_create(model, &p, &session) == EDGEFORMER_OK);
  edgeformer_model_info info;
  REQUIRE(edgeformer_model_get_info(model, &info) == EDGEFORMER_OK);
  std::vector<float> logits(tokens.size() * info.vocab_size);
  const edgeformer_status st =
      edgeformer_session_prefill_logits(session, tokens.data(), tokens.size(), logits.data(), logits.size());
  INFO(edgeformer_last_error());
  CHECK(st == EDGEFORMER_OK);
  edgeformer_session_destroy(session);
  edgeformer_model_destroy(model);
  return logits;
}

// The largest |want - have| of a position over the largest |want| of that position.
double WorstRelativeDifference(const Reference& ref, const std::vector<float>& got) {
  REQUIRE(got.size() == ref.logits.size());
  double worst = 0.0;
  for (size_t t = 0; t < ref.tokens.size(); ++t) {
    const float* want = &ref.logits[t * ref.vocab];
    const float* have = &got[t * ref.vocab];
    float scale = 0.0f, diff = 0.0f;
    for (uint32_t i = 0; i < ref.vocab; ++i) {
      scale = std::max(scale, std::fabs(want[i]));
      diff = std::max(diff, std::fabs(want[i] - have[i]));
    }
    worst = std::max(worst, static_cast<double>(diff / scale));
  }
  return worst;
}

size_t ArgMax(const float* v, size_t n) { return static_cast<size_t>(std::max_element(v, v + n) - v); }

// Checks the f32 logits of one reference model; returns its int8 top-1 agreements (of 96).
// `file` is the checkpoint inside the model's folder ("" for the folder itself).
size_t CheckModel(const std::string& name, ConvertFn convert_fn, const std::string& file) {
  const std::string dir = ReferenceDir() + "/" + name;
  const std::string checkpoint = file.empty() ? dir : dir + "/" + file;
  const Reference ref = LoadReference(dir);
  test::TempDir tmp;
  INFO(name);
  {
    const std::vector<float> got =
        RunLogits(ConvertHf(tmp, checkpoint, convert::Quant::kNone, "f32.edgf", convert_fn), ref.tokens);
    const double worst = WorstRelativeDifference(ref, got);
    MESSAGE(name << ": f32 worst relative difference " << worst);
    CHECK(worst <= 1e-4);
  }
  {
    // f16 weights: exact for an F16 checkpoint (its values as stored), so as close as f32 then;
    // otherwise rounded to 11 significant bits.
    const bool f16_checkpoint = name.find("_f16") != std::string::npos;
    const std::vector<float> got =
        RunLogits(ConvertHf(tmp, checkpoint, convert::Quant::kF16, "f16.edgf", convert_fn), ref.tokens);
    const double worst = WorstRelativeDifference(ref, got);
    MESSAGE(name << ": f16 worst relative difference " << worst);
    CHECK(worst <= (f16_checkpoint ? 1e-4 : 5e-3));
  }
  {
    // int4 in groups of 32 (Q4_0's): a coarser grid; its agreement is reported and checked loosely
    // (a broken path is near chance).
    const std::vector<float> got =
        RunLogits(ConvertHf(tmp, checkpoint, convert::Quant::kInt4, "int4.edgf", convert_fn), ref.tokens);
    const size_t agree = TopOneAgreements(ref, got);
    MESSAGE(name << ": int4 top-1 agreement " << agree << " of " << ref.tokens.size());
    CHECK(agree * 100 >= ref.tokens.size() * 40);
  }
  {
    const std::vector<float> got =
        RunLogits(ConvertHf(tmp, checkpoint, convert::Quant::kInt8, "int8.edgf", convert_fn), ref.tokens);
    const size_t agree = TopOneAgreements(ref, got);
    MESSAGE(name << ": int8 top-1 agreement " << agree << " of " << ref.tokens.size());
    CHECK(agree * 100 >= ref.tokens.size() * 85);  // each model (a broken one is near chance); 97% is pooled
    return agree;
  }
}

size_t TopOneAgreements(const Reference& ref, const std::vector<float>& got) {
  REQUIRE(got.size() == ref.logits.size());
  size_t agree = 0;
  for (size_t t = 0; t < ref.tokens.size(); ++t) {
    agree += ArgMax(&ref.logits[t * ref.vocab], ref.vocab) == ArgMax(&got[t * ref.vocab], ref.vocab);
  }
  return agree;
}

convert::ConvertOptions CheckGgufF32(const std::string& dir, const Reference& ref, const test::TempDir& tmp) {
  convert::ConvertOptions o;
  o.checkpoint = dir + "/model.gguf";
  o.tokenizer_from_checkpoint = false;
  o.quant = convert::Quant::kNone;
  o.embedding_quant = convert::Quant::kNone;
  o.output = tmp.path("f32.edgf");
  REQUIRE(convert::ConvertGguf(o).ok());
  CHECK(WorstRelativeDifference(ref, RunLogits(o.output, ref.tokens)) <= 1e-4);
  return o;
}

// Encodes `text` through the C API; checks that the pieces of the ids spell it again.
std::vector<int32_t> EncodeAndCheckRoundTrip(edgeformer_model* model, const std::string& text, int add_bos) {
  std::vector<int32_t> ids(text.size() * 4 + 8);
  size_t n = 0;
  REQUIRE(edgeformer_tokenize(model, text.data(), text.size(), (add_bos ? EDGEFORMER_TOKENIZE_ADD_SPECIAL : 0) | EDGEFORMER_TOKENIZE_PARSE_SPECIAL,
                            ids.data(), ids.size(), &n) == EDGEFORMER_OK);
  ids.resize(n);
  std::string back;
  for (size_t i = 0; i < ids.size(); ++i) {
    const char* piece = nullptr;
    size_t len = 0;
    REQUIRE(edgeformer_token_piece(model, i ? ids[i - 1] : -1, ids[i], &piece, &len) == EDGEFORMER_OK);
    back.append(piece, len);
  }
  // Special tokens decode to nothing, so compare with them removed.
  std::string plain = text;
  for (size_t at = plain.find("<|endoftext|>"); at != std::string::npos; at = plain.find("<|endoftext|>")) {
    plain.erase(at, 13);
  }
  CHECK(back == plain);
  return ids;
}

}  // namespace edgeformer
