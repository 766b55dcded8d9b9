// GGUF files (llama.cpp's format) against PyTorch and against the Hugging Face conversion of the
// same weights (tests/reference/make_models.py writes both), and hostile GGUF files.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "converter/convert.h"
#include "edgeformer.h"
#include "tests/reference_models.h"
#include "tests/test_support.h"

namespace edgeformer {

TEST_CASE("GGUF (F32, F16, Q8_0, llama tokenizer): logits as PyTorch's, tokens as sentencepiece's") {
  if (test::SharedFile("models/fortunes2M/tokenizer.model").empty()) return;  // the GGUF borrows its vocabulary
  const std::string dir = ReferenceDir() + "/gguf_llama";
  CHECK(CheckModel("gguf_llama", &convert::ConvertGguf, "model.gguf") * 100 >= 96 * 85);
  CheckTokenizerCases(dir + "/model.gguf", &convert::ConvertGguf, dir + "/tokenizer.json", 1, [](edgeformer_model* m) {
    // GGUF's tokenizer.chat_template comes along (make_models.py's GGUF_CHAT_TEMPLATE).
    CHECK(std::string(edgeformer_model_chat_template(m)) == "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}");
  });
}

TEST_CASE("GGUF with a gpt2 (byte-level) tokenizer and Qwen2's split: logits and ids as the references'") {
  if (test::SharedFile("tokenizers/gpt2/tokenizer.json").empty()) return;
  const std::string dir = ReferenceDir() + "/gguf_bpe";
  CHECK(CheckModel("gguf_bpe", &convert::ConvertGguf, "model.gguf") * 100 >= 96 * 85);
  // add_bos is asked, but the file says add_bos_token = false: no BOS.
  CheckTokenizerCases(dir + "/model.gguf", &convert::ConvertGguf, dir + "/tokenizer_reference.json", 1,
                      [](edgeformer_model*) {});
}

TEST_CASE("hostile GGUF files are refused with the file and the problem") {
  if (test::SharedFile("models/fortunes2M/tokenizer.model").empty()) return;
  const std::vector<uint8_t> good = test::ReadFile(ReferenceDir() + "/gguf_llama/model.gguf");
  test::TempDir tmp;
  const std::string in = tmp.path("m.gguf"), out = tmp.path("out.edgf");
  auto refused = [&](const std::vector<uint8_t>& bytes) {
    test::WriteFile(in, bytes);
    convert::ConvertOptions o;
    o.checkpoint = in;
    o.output = out;
    const Error err = convert::ConvertGguf(o);
    CHECK_FALSE(err.ok());
    CHECK_FALSE(std::ifstream(out).good());
    CHECK(err.message().find(in) != std::string::npos);
    return err.message();
  };
  CHECK(refused(std::vector<uint8_t>(good.begin(), good.begin() + 3)).find("truncated") != std::string::npos);
  std::vector<uint8_t> bad = good;
  bad[0] = 'X';
  CHECK(refused(bad).find("not a GGUF file") != std::string::npos);
  bad = good;
  bad[4] = 9;
  CHECK(refused(bad).find("GGUF version 9") != std::string::npos);
  bad = good;
  for (int i = 16; i < 24; ++i) bad[i] = 0xff;  // metadata count
  CHECK(refused(bad).find("absurd") != std::string::npos);
  // Cut inside the data: a tensor runs past the end.
  CHECK(refused(std::vector<uint8_t>(good.begin(), good.end() - 1000)).find("run past the end") != std::string::npos);
  // Cut inside the header: a string or array runs past the end.
  CHECK(refused(std::vector<uint8_t>(good.begin(), good.begin() + 2000)).find("truncated") != std::string::npos);
  // Token types as floats (a value, not a byte, out of place): 1e30, 2.5, -1, 7 and NaN are no
  // llama.cpp token type (1e30 was undefined behaviour as an int).
  const std::string key = "tokenizer.ggml.token_type";
  const size_t at = std::search(good.begin(), good.end(), key.begin(), key.end()) - good.begin() + key.size();
  REQUIRE(at < good.size());
  for (float v : {1e30f, 2.5f, -1.0f, 7.0f, std::nanf("")}) {
    bad = good;
    const uint32_t f32_type = 6;
    std::memcpy(&bad[at + 4], &f32_type, 4);  // value type (array), element type, count, values
    uint64_t count = 0;
    std::memcpy(&count, &bad[at + 8], 8);
    for (uint64_t i = 0; i < count; ++i) {  // the int32 types as the same numbers in f32
      int32_t type = 0;
      std::memcpy(&type, &bad[at + 16 + 4 * i], 4);
      const float f = i == 7 ? v : static_cast<float>(type);
      std::memcpy(&bad[at + 16 + 4 * i], &f, 4);
    }
    CHECK(refused(bad).find("token_type of token 7 is") != std::string::npos);
  }
}

// The same checkpoints written as llama.cpp writes them (F32 GGUF: q and k in halves but for
// llama, Gemma's norms as 1 + w, its layer pattern and scale implied, Phi-3's fused projections
// and LongRoPE factor tensors): PyTorch's logits, and those of the Hugging Face conversion bit for
// bit in f32 and int8, except for Llama 3's rope scaling, which GGUF states as precomputed
// per-frequency factors (rope_freqs).
TEST_CASE("GGUF llama (rope_freqs), qwen2, qwen3, phi3, gemma2 and gemma3: the Hugging Face conversion's numbers") {
  for (const char* name :
       {"llama3_bf16_tied_sharded", "qwen2_f32", "qwen3_f32", "phi3_f32", "gemma2_gguf_f32", "gemma3_gguf_f32"}) {
    INFO(name);
    const bool same_rope = std::string(name) != "llama3_bf16_tied_sharded";
    const std::string dir = ReferenceDir() + "/" + name;
    const Reference ref = LoadReference(dir);
    test::TempDir tmp;
    for (convert::Quant quant : {convert::Quant::kNone, convert::Quant::kInt8}) {
      convert::ConvertOptions o;
      o.checkpoint = dir + "/model.gguf";
      o.output = tmp.path("gguf.edgf");
      o.quant = quant;
      o.tokenizer_from_checkpoint = false;
      const Error err = convert::ConvertGguf(o);
      INFO(err.message());
      REQUIRE(err.ok());
      const std::vector<float> gguf = RunLogits(o.output, ref.tokens);
      if (quant == convert::Quant::kNone) CHECK(WorstRelativeDifference(ref, gguf) <= 1e-4);
      o.checkpoint = dir;
      o.output = tmp.path("hf.edgf");
      REQUIRE(convert::ConvertHf(o).ok());
      const std::vector<float> hf = RunLogits(o.output, ref.tokens);
      if (same_rope) CHECK(std::memcmp(gguf.data(), hf.data(), hf.size() * sizeof(float)) == 0);
    }
  }
}

}  // namespace edgeformer

namespace edgeformer {

// Q4_0 tensors (tests/reference/make_models.py writes them from llama.cpp's published block layout
// and computes the reference from their dequantized values): read as f32 they give PyTorch's
// logits; converted with --quant int4 (groups of 32) they are kept as they are, which gives the
// same model file's numbers as converting the dequantized weights (Hugging Face layout, beside it)
// to int4, bit for bit: Q4_0's blocks are what edgeformer's int4 quantizer makes of those values.
TEST_CASE("GGUF Q4_0: dequantized as PyTorch's reference; kept exactly as int4 in groups of 32") {
  const std::string dir = ReferenceDir() + "/gguf_q4_0";
  const Reference ref = LoadReference(dir);
  test::TempDir tmp;
  convert::ConvertOptions o = CheckGgufF32(dir, ref, tmp);
  o.quant = convert::Quant::kInt4;
  o.output = tmp.path("int4.edgf");
  const Error err = convert::ConvertGguf(o);
  INFO(err.message());
  REQUIRE(err.ok());
  const std::vector<float> gguf = RunLogits(o.output, ref.tokens);
  const size_t agree = TopOneAgreements(ref, gguf);
  MESSAGE("Q4_0 kept as int4: top-1 agreement with the dequantized reference " << agree << " of " << ref.tokens.size());
  CHECK(agree * 100 >= ref.tokens.size() * 90);  // only the activations are quantized on top
  o.checkpoint = dir;
  o.output = tmp.path("hf_int4.edgf");
  REQUIRE(convert::ConvertHf(o).ok());
  const std::vector<float> hf = RunLogits(o.output, ref.tokens);
  CHECK(std::memcmp(gguf.data(), hf.data(), hf.size() * sizeof(float)) == 0);
}

}  // namespace edgeformer

namespace edgeformer {

// Every block type llama.cpp writes weights in (tests/reference/ggml_blocks.py encodes them from
// the published block structs; make_models.py's gguf_blocks gives each layer matrix another type
// and the embedding Q6_K): kept f32, they are exactly PyTorch's dequantized values; requantized
// to int8 or int4, the report names each tensor's source type beside the requantization's SNR.
TEST_CASE("GGUF Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, BF16, F16: dequantized as ggml does; requantized with the error reported") {
  const std::string dir = ReferenceDir() + "/gguf_blocks";
  const Reference ref = LoadReference(dir);
  test::TempDir tmp;
  convert::ConvertOptions o = CheckGgufF32(dir, ref, tmp);

  for (const convert::Quant q : {convert::Quant::kInt8, convert::Quant::kInt4}) {
    CAPTURE(static_cast<int>(q));
    char* text = nullptr;
    size_t size = 0;
    std::FILE* report = open_memstream(&text, &size);
    REQUIRE(report != nullptr);
    o.quant = q;
    o.embedding_quant = convert::Quant::kInt8;
    o.report = report;
    o.output = tmp.path("q.edgf");
    const Error err = convert::ConvertGguf(o);
    std::fclose(report);
    const std::string lines(text, size);
    std::free(text);
    INFO(err.message());
    REQUIRE(err.ok());
    CHECK(lines.find("SNR") != std::string::npos);
    for (const char* type : {"Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"}) {
      INFO(type << " in\n" << lines);
      CHECK(lines.find(std::string("(from ") + type + ")") != std::string::npos);
    }
    // Q4_0 is kept as it is by int4 in groups of 32, requantized by int8.
    CHECK((lines.find("(from Q4_0, kept)") != std::string::npos) == (q == convert::Quant::kInt4));
    const size_t agree = TopOneAgreements(ref, RunLogits(o.output, ref.tokens));
    MESSAGE("requantized: top-1 agreement with the dequantized reference " << agree << " of " << ref.tokens.size());
    CHECK(agree * 100 >= ref.tokens.size() * (q == convert::Quant::kInt8 ? 90 : 70));
  }

  // A type the converter does not read (IQ4_XS, 23; or no ggml type at all) is refused by name
  // when the tensor is used.
  const std::vector<uint8_t> good = test::ReadFile(o.checkpoint);
  const std::string name = "blk.1.ffn_down.weight";
  const auto at = std::search(good.begin(), good.end(), name.begin(), name.end());
  REQUIRE(at != good.end());
  const size_t type_at = static_cast<size_t>(at - good.begin()) + name.size() + 4 + 2 * 8;  // n_dims, dims
  for (const auto& [type, said] : {std::pair<uint8_t, const char*>{23, "has type IQ4_XS"}, {200, "has type unknown"}}) {
    std::vector<uint8_t> bad = good;
    bad[type_at] = type;
    o.checkpoint = tmp.path("bad.gguf");
    test::WriteFile(o.checkpoint, bad);
    o.report = nullptr;
    const Error err = convert::ConvertGguf(o);
    CHECK(err.status() == Status::kUnsupported);
    CHECK(err.message().find(said) != std::string::npos);
    CHECK(err.message().find("the converter reads F32, F16, BF16, Q4_0") != std::string::npos);
  }
}

}  // namespace edgeformer
