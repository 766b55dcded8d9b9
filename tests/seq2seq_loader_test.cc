// The loader checks an encoder-decoder's two stacks as it checks one: each tensor in a stack the
// model has, every tensor of each stack present with its shape, the encoder's architecture
// resolved and consistent with the decoder's, the start and suppressed ids in range, and the
// version that states them. Each case edits a valid synthetic file's header.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "edgeformer.h"
#include "model_generated.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

struct Outcome {
  edgeformer_status status;
  std::string message;
};

void ExpectRefused(const Outcome& o, edgeformer_status status, const std::string& needle) {
  INFO("message: " << o.message);
  CHECK(o.status == status);
  CHECK(o.message.find(needle) != std::string::npos);
}

schema::TensorT* Find(schema::ModelT& m, const std::string& name) {
  for (auto& t : m.tensors) {
    if (t->name == name) return t.get();
  }
  FAIL("no tensor " << name);
  return nullptr;
}

// A 64-byte-aligned copy (the loader wants 8) of a file.
struct Aligned {
  std::vector<uint64_t> words;
  size_t size;
  explicit Aligned(const std::vector<uint8_t>& b) : words((b.size() + 7) / 8), size(b.size()) {
    std::copy(b.begin(), b.end(), reinterpret_cast<uint8_t*>(words.data()));
  }
};

Outcome Edit(const std::vector<uint8_t>& file, const std::function<void(schema::ModelT&)>& edit) {
  const std::vector<uint8_t> bytes = test::RepackHeader(file, edit);
  const Aligned a(bytes);
  edgeformer_model* model = nullptr;
  const edgeformer_status st = edgeformer_model_load_from_memory(a.words.data(), a.size, nullptr, &model);
  Outcome o{st, st == EDGEFORMER_OK ? "" : edgeformer_last_error()};
  edgeformer_model_destroy(model);
  return o;
}

}  // namespace

TEST_CASE("an encoder-decoder file: both stacks checked before use") {
  test::TempDir dir;
  const std::vector<uint8_t> file = test::ReadFile(test::MakeSyntheticEncoderDecoder(dir, convert::Quant::kInt8));
  const std::vector<uint8_t> decoder = test::ReadFile(test::MakeSyntheticModel(dir, convert::Quant::kInt8));
  const Aligned ok(file);
  {
    edgeformer_model* model = nullptr;
    REQUIRE(edgeformer_model_load_from_memory(ok.words.data(), ok.size, nullptr, &model) == EDGEFORMER_OK);
    edgeformer_model_info info;
    REQUIRE(edgeformer_model_get_info(model, &info) == EDGEFORMER_OK);
    CHECK(info.family == EDGEFORMER_FAMILY_ENCODER_DECODER);
    CHECK(info.encoder_layers == 2);
    CHECK(info.max_source_length == 48);
    CHECK(std::string(edgeformer_model_weights(model)).find("attention int8") != std::string::npos);
    edgeformer_model_destroy(model);
  }
  // The edit machinery itself changes nothing else.
  CHECK(Edit(file, [](schema::ModelT&) {}).status == EDGEFORMER_OK);

  // Tensors: a stack the model does not have; an encoder tensor moved to the decoder; a missing
  // cross-attention or encoder tensor.
  ExpectRefused(Edit(file, [](schema::ModelT& m) { Find(m, "encoder.layers.0.wq")->stack = 2; }),
                EDGEFORMER_INVALID_MODEL, "stack 2");
  ExpectRefused(Edit(decoder, [](schema::ModelT& m) { Find(m, "layers.0.wq")->stack = 1; }), EDGEFORMER_INVALID_MODEL,
                "stack 1 is not one of the model's");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { Find(m, "encoder.layers.1.wq")->stack = 0; }),
                EDGEFORMER_INVALID_MODEL, "a second tensor with the same role, layer and stack");
  ExpectRefused(Edit(file,
                     [](schema::ModelT& m) {
                       auto& t = m.tensors;
                       t.erase(std::find_if(t.begin(), t.end(), [](auto& x) { return x->name == "layers.1.cross_wv"; }));
                     }),
                EDGEFORMER_INVALID_MODEL, "missing cross_wv in layer 1");
  ExpectRefused(Edit(file,
                     [](schema::ModelT& m) {
                       auto& t = m.tensors;
                       t.erase(std::find_if(t.begin(), t.end(),
                                            [](auto& x) { return x->name == "encoder.layers.0.ffn_norm_bias"; }));
                     }),
                EDGEFORMER_INVALID_MODEL, "missing the encoder's ffn_norm_bias in layer 0");
  // The encoder shares the decoder's embedding: one of its own is refused.
  ExpectRefused(Edit(file,
                     [](schema::ModelT& m) {
                       std::unique_ptr<schema::TensorT> copy(new schema::TensorT(*Find(m, "token_embedding")));
                       copy->stack = 1;
                       m.tensors.push_back(std::move(copy));
                     }),
                EDGEFORMER_INVALID_MODEL, "the encoder has no token_embedding");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.architecture->encoder->stack->shared_embedding = false; }),
                EDGEFORMER_INVALID_MODEL, "missing the encoder's token_embedding");

  // The architecture: the encoder's presence, family, dims and head; the ids; the version.
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.architecture->encoder.reset(); }), EDGEFORMER_INVALID_MODEL,
                "Architecture.encoder is missing");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.architecture->encoder->family = schema::ModelFamily::DecoderOnly; }),
                EDGEFORMER_INVALID_MODEL, "EncoderOnly");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.architecture->encoder->dim = 48; }), EDGEFORMER_UNSUPPORTED,
                "the encoder's dim 48 differs");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.architecture->encoder->n_heads = 0; }), EDGEFORMER_INVALID_MODEL,
                "encoder architecture: n_heads");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.architecture->encoder->stack->classifier = true; }),
                EDGEFORMER_INVALID_MODEL, "has no head");
  ExpectRefused(Edit(file,
                     [](schema::ModelT& m) {
                       m.architecture->encoder->decoder_start_ids = {0};
                     }),
                EDGEFORMER_INVALID_MODEL, "the encoder cannot have");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.architecture->decoder_start_ids.clear(); }),
                EDGEFORMER_INVALID_MODEL, "1 to 16 decoder start ids");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.architecture->decoder_start_ids = {200}; }),
                EDGEFORMER_INVALID_MODEL, "decoder start id 200 is out of range");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.architecture->suppress_ids = {5, -1}; }),
                EDGEFORMER_INVALID_MODEL, "suppressed id -1 is out of range");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.architecture->forced_start_ids = 1; }), EDGEFORMER_INVALID_MODEL,
                "leaves no start id that is not forced");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.architecture->forced_eos_id = 200; }), EDGEFORMER_INVALID_MODEL,
                "forced_eos_id 200 is out of range");
  ExpectRefused(Edit(decoder, [](schema::ModelT& m) { m.architecture->forced_eos_id = 2; }), EDGEFORMER_INVALID_MODEL,
                "only an encoder-decoder has forced");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.architecture->stack->layers[0]->cross_attention = false; }),
                EDGEFORMER_INVALID_MODEL, "no cross-attention layer");
  ExpectRefused(Edit(file,
                     [](schema::ModelT& m) {
                       m.architecture->stack->layers[0]->mask = schema::AttentionMask::PrefixLM;
                       m.architecture->stack->prefix_len = 2;
                     }),
                EDGEFORMER_UNSUPPORTED, "must be causal");
  ExpectRefused(Edit(file, [](schema::ModelT& m) { m.format_version = 6; }), EDGEFORMER_INVALID_MODEL,
                "needs a version 7 file");
  // Cross-attention, start ids and a shared embedding belong to encoder-decoders only.
  ExpectRefused(Edit(decoder, [](schema::ModelT& m) { m.architecture->stack->layers[0]->cross_attention = true; }),
                EDGEFORMER_INVALID_MODEL, "cross-attention needs an encoder-decoder");
  ExpectRefused(Edit(decoder, [](schema::ModelT& m) { m.architecture->decoder_start_ids = {0}; }),
                EDGEFORMER_INVALID_MODEL, "only an encoder-decoder");
  ExpectRefused(Edit(decoder, [](schema::ModelT& m) { m.architecture->stack->shared_embedding = true; }),
                EDGEFORMER_INVALID_MODEL, "shared_embedding is for the encoder");
  // A version-6 decoder file still loads.
  CHECK(Edit(decoder, [](schema::ModelT& m) { m.format_version = 6; }).status == EDGEFORMER_OK);
}

}  // namespace edgeformer
