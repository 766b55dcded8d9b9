// Hugging Face checkpoints against PyTorch: tests/reference/make_models.py builds tiny Llama,
// Mistral, Qwen2/3, Phi-3, Gemma 2/3 and GPT-2 checkpoints (F32, F16, BF16 sharded, rope
// scalings, tied and untied heads, head_dim unlike hidden / heads, biases, learned positions,
// sliding windows) with random weights and computes their logits with its own float64 modelling
// code (tests/reference_models.h reads them). Here each is converted and run: f32 logits must
// match within 1e-4 of the position's largest logit, int8 must pick the same top-1 token at >= 97%
// of positions. Plus tokenizers, chat templates and the converter's refusals of bad checkpoints.
// GGUF: gguf_test.cc; the sessions of sliding-window models: sliding_window_test.cc.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "converter/convert.h"
#include "converter/hf_tokenizer.h"
#include "converter/safetensors.h"
#include "edgeformer.h"
#include "tests/reference_models.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

const char* const kModels[] = {"llama_f32",      "llama3_bf16_tied_sharded", "llama_f16",   "qwen2_f32",
                               "qwen3_f32",      "mistral_f32",              "phi3_f32",    "mistral_sw_f32",
                               "gemma2_f32",     "gemma3_f32",               "gemma3_layer_types_f16",
                               "gemma2_gguf_f32", "gemma3_gguf_f32",         "gpt2_f32",
                               "gpt2_f16_unprefixed"};

std::string Refused(const std::string& checkpoint, const std::string& output, bool tokenizer = false) {
  convert::ConvertOptions o;
  o.checkpoint = checkpoint;
  o.output = output;
  o.tokenizer_from_checkpoint = tokenizer;
  const Error err = convert::ConvertHf(o);
  CHECK_FALSE(err.ok());
  CHECK_FALSE(std::ifstream(output).good());  // no output left behind
  return err.message();
}

void CopyDir(const std::string& from, const test::TempDir& to, const std::vector<std::string>& files) {
  for (const std::string& f : files) test::WriteFile(to.path(f), test::ReadFile(from + "/" + f));
}

}  // namespace

// llama_f32: F32, head_dim unlike hidden / heads, GQA 4:2, untied. llama3_bf16_tied_sharded:
// llama3 rope scaling, BF16, tied, GQA 3:1, two shards. llama_f16: F16, no head_dim or kv heads
// given (the defaults). qwen2_f32: q/k/v biases, tied, theta 1e6. qwen3_f32: q and k RMS-normalized
// per head, head_dim 32 with hidden 64 and 4 heads (q is wider than the model), EOS a list.
// mistral_f32: Llama's layer under another name, GQA 8:2, no sliding window. phi3_f32: fused qkv and
// gate_up projections, 3/4 of each head rotated, a sliding window of 48, LongRoPE (the long factors: 96 tokens pass the
// original context of 32) with its attention factor. mistral_sw_f32: a sliding window of 16 (the
// session keeps a ring of the window). gemma2_f32: sandwich norms of (1 + w), the embedding times
// sqrt(d), GeGLU tanh, query_pre_attn_scalar, attention and final soft-capping, windows on the even
// layers. gemma3_f32: q/k norms, local layers (sliding_window_pattern 3) with their own rotary
// base, global ones with linear rope scaling, GQA 4:1. gemma3_layer_types_f16: layer_types.
// gemma2_gguf_f32, gemma3_gguf_f32: as llama.cpp can state them in GGUF (scale 1/sqrt(head_dim),
// Gemma 3's default pattern of 6 over 7 layers). gpt2_f32: learned positions,
// LayerNorm, biases, tanh GELU, Conv1D weights, "transformer." names. gpt2_f16_unprefixed: the
// original checkpoints' names, n_inner given, causal-mask buffers to ignore.
TEST_CASE("Llama, Mistral, Qwen2, Qwen3, Phi-3, Gemma 2, Gemma 3 and GPT-2 checkpoints: f32 and f16 logits as PyTorch's, int8 top-1 >= 97% pooled") {
  size_t agree = 0, positions = 0;
  for (const char* name : kModels) {
    agree += CheckModel(name);
    positions += 96;
  }
  MESSAGE("int8 top-1 agreement, pooled: " << agree << " of " << positions);
  CHECK(agree * 100 >= positions * 97);
}

TEST_CASE("byte-level BPE (GPT-2's vocabulary; GPT-2, Llama 3, Qwen2 splits): ids as the reference's") {
  if (test::SharedFile("tokenizers/gpt2/tokenizer.json").empty()) return;
  for (const char* split : {"gpt2", "llama3", "qwen2"}) {
    const std::string dir = ReferenceDir() + "/bpe_" + split;
    INFO("pre-tokenizer " << std::string(split));
    CheckTokenizerCases(dir, &convert::ConvertHf, dir + "/tokenizer_reference.json", 0, [](edgeformer_model* model) {
      // Bytes that are not UTF-8 still encode (one token per byte at worst) and decode back.
      EncodeAndCheckRoundTrip(model, std::string("caf\xC3 \xFF\xFEok\x80", 10), 0);
    });
  }
}

TEST_CASE("SentencePiece-style tokenizer.json (byte fallback): ids as sentencepiece's") {
  if (test::SharedFile("models/fortunes2M/tokenizer.model").empty()) return;
  const std::string dir = ReferenceDir() + "/sp_json";
  CheckTokenizerCases(dir, &convert::ConvertHf, dir + "/tokenizer_reference.json", 1, [](edgeformer_model*) {});
}

TEST_CASE("aidreams260K through Hugging Face's layout gives the llama2.c conversion's logits, bit for bit") {
  const std::string bin = test::SharedFile("models/aidreams260K/model.bin");
  if (bin.empty()) return;  // SharedFile failed the test if the data is required
  const std::string hf = ReferenceDir() + "/aidreams_hf";
  INFO(hf << " is made by scripts/llama2c_to_hf.py (the reference_aidreams_hf fixture)");
  REQUIRE(std::ifstream(hf + "/model.safetensors").good());
  test::TempDir tmp;
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < 60; ++i) prompt.push_back(1 + (i * 37) % 511);
  for (convert::Quant quant : {convert::Quant::kNone, convert::Quant::kInt8}) {
    const std::string direct = test::Convert(tmp, bin, "", quant, "direct");
    const std::string via_hf = ConvertHf(tmp, hf, quant, "via_hf.edgf");
    const std::vector<float> a = RunLogits(direct, prompt), b = RunLogits(via_hf, prompt);
    REQUIRE(a.size() == b.size());
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("bad checkpoints are refused with the file and the problem, leaving no output") {
  const std::string src = ReferenceDir() + "/llama_f32";
  test::TempDir tmp;
  const std::string out = tmp.path("out.edgf");
  const std::vector<uint8_t> good = test::ReadFile(src + "/model.safetensors");
  const std::vector<uint8_t> config = test::ReadFile(src + "/config.json");
  auto with = [&](const std::vector<uint8_t>& weights, const std::string& config_text) {
    test::WriteFile(tmp.path("model.safetensors"), weights);
    test::WriteFile(tmp.path("config.json"), std::vector<uint8_t>(config_text.begin(), config_text.end()));
    return Refused(tmp.path(""), out);
  };
  const std::string config_text(config.begin(), config.end());

  std::vector<uint8_t> truncated(good.begin(), good.begin() + good.size() / 2);
  CHECK(with(truncated, config_text).find("outside the data") != std::string::npos);
  CHECK(with(std::vector<uint8_t>(good.begin(), good.begin() + 5), config_text).find("truncated") != std::string::npos);

  std::vector<uint8_t> long_header = good;
  long_header[5] = 0x7f;  // header length past the end
  CHECK(with(long_header, config_text).find("runs past the end of the file") != std::string::npos);

  // A header whose byte count disagrees with the shape, one with an unsupported dtype, and one
  // whose tensors overlap.
  uint64_t n = 0;
  std::memcpy(&n, good.data(), 8);
  std::string header(good.begin() + 8, good.begin() + 8 + static_cast<long>(n));
  std::string bad_shape = header;
  const size_t at = bad_shape.find("[64]");
  REQUIRE(at != std::string::npos);
  bad_shape.replace(at, 4, "[65]");
  // The file with its header replaced by `text` (the data unchanged).
  auto rewritten = [&](const std::string& text) {
    std::vector<uint8_t> out;
    out.reserve(8 + text.size() + good.size());
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(uint64_t{text.size()} >> (8 * i)));
    out.insert(out.end(), text.begin(), text.end());
    out.insert(out.end(), good.begin() + 8 + static_cast<long>(n), good.end());
    return out;
  };
  CHECK(with(rewritten(bad_shape), config_text).find("bytes for shape [65]") != std::string::npos);

  std::string int_dtype = header;
  const size_t f32 = int_dtype.find("\"F32\"");
  REQUIRE(f32 != std::string::npos);
  int_dtype.replace(f32, 5, "\"I32\"");
  CHECK(with(rewritten(int_dtype), config_text).find("dtype I32; the converter reads F32, F16 and BF16") != std::string::npos);

  std::string overlapping = header;
  const size_t second = overlapping.find("\"data_offsets\": [", overlapping.find("\"data_offsets\": [") + 1);
  REQUIRE(second != std::string::npos);
  const size_t begin = second + 17, comma = overlapping.find(',', begin);
  const uint64_t start = std::stoull(overlapping.substr(begin, comma - begin));
  const size_t end_begin = comma + 2, end_close = overlapping.find(']', end_begin);
  const uint64_t end = std::stoull(overlapping.substr(end_begin, end_close - end_begin));
  REQUIRE(start >= 4);  // shift the second tensor back by one f32: same size, now overlapping
  overlapping.replace(begin, end_close - begin, std::to_string(start - 4) + ", " + std::to_string(end - 4));
  CHECK(with(rewritten(overlapping), config_text).find("overlap") != std::string::npos);

  std::string xlnet = config_text;
  xlnet.replace(xlnet.find("\"llama\""), 7, "\"xlnet\"");
  CHECK(with(good, xlnet).find("model_type 'xlnet' is not supported") != std::string::npos);
  // A layer type the runtime does not run is refused by name.
  std::string chunked = config_text;
  chunked.replace(chunked.find("\"llama\""), 7,
                  "\"mistral\", \"sliding_window\": 16, \"layer_types\": [\"chunked_attention\", \"full_attention\"]");
  CHECK(with(good, chunked).find("layer_types[0] \"chunked_attention\"") != std::string::npos);
  // Gemma's encoder variant (EmbeddingGemma) is not run as a decoder.
  std::string bidirectional = config_text;
  bidirectional.replace(bidirectional.find("\"llama\""), 7, "\"gemma3_text\", \"use_bidirectional_attention\": true");
  CHECK(with(good, bidirectional).find("use_bidirectional_attention true") != std::string::npos);
  std::string no_layers = config_text;
  no_layers.replace(no_layers.find("\"num_hidden_layers\""), 19, "\"num_hidden_layerz\"");
  CHECK(with(good, no_layers).find("config.json: has no num_hidden_layers") != std::string::npos);
  std::string wrong_dim = config_text;
  wrong_dim.replace(wrong_dim.find("\"hidden_size\": 64"), 17, "\"hidden_size\": 65");
  CHECK(with(good, wrong_dim).find("has shape [320, 64], the config implies [320, 65]") != std::string::npos);

  test::TempDir empty;
  CHECK(Refused(empty.path(""), out).find("cannot open '" + empty.path("config.json") + "'") != std::string::npos);
  // A checkpoint without tokenizer.json, unless token ids only are asked for.
  test::WriteFile(tmp.path("model.safetensors"), good);
  test::WriteFile(tmp.path("config.json"), config);
  CHECK(Refused(tmp.path(""), out, true).find("tokenizer.json: cannot open") != std::string::npos);
  // A tokenizer.json that is not one edgeformer reads.
  const std::string word_level = R"({"model": {"type": "WordLevel", "vocab": {}}})";
  test::WriteFile(tmp.path("tokenizer.json"), std::vector<uint8_t>(word_level.begin(), word_level.end()));
  CHECK(Refused(tmp.path(""), out, true).find("tokenizer.json: tokenizer model 'WordLevel' is not implemented") !=
        std::string::npos);
  const std::string unigram = R"({"model": {"type": "Unigram", "vocab": [["a", -1.0]]}})";
  test::WriteFile(tmp.path("tokenizer.json"), std::vector<uint8_t>(unigram.begin(), unigram.end()));
  CHECK(Refused(tmp.path(""), out, true).find("tokenizer.json: a Unigram vocabulary needs an unk_id") != std::string::npos);
  const std::string wordpiece = R"({"model": {"type": "WordPiece", "vocab": {}}, "pre_tokenizer": {"type": "Whitespace"}})";
  test::WriteFile(tmp.path("tokenizer.json"), std::vector<uint8_t>(wordpiece.begin(), wordpiece.end()));
  CHECK(Refused(tmp.path(""), out, true).find("WordPiece vocabularies need the BertPreTokenizer") != std::string::npos);
}

// Integers of a config are integers in range: a float (1e30 was undefined behaviour as an int),
// a negative or a huge value is refused by name, for every converter that reads its own keys.
TEST_CASE("config integers that are floats, negative or huge are refused by key") {
  struct Case {
    const char* model;
    const char* key;  // "key": its value in the reference config, replaced
  };
  const Case cases[] = {{"seq2seq/bart", "\"encoder_layers\": 2"},
                        {"seq2seq/bart", "\"decoder_start_token_id\": 2"},
                        {"seq2seq/t5_v1_1", "\"relative_attention_num_buckets\": 16"},
                        {"seq2seq/t5_v1_1", "\"decoder_start_token_id\": 0"},
                        {"seq2seq/encdec_post", "\"decoder_start_ids\": [\n  2\n ]"},
                        {"seq2seq/encdec_post", "\"num_hidden_layers\": 2,\n  \"norm\""}};
  for (const Case& c : cases) {
    const std::string src = ReferenceDir() + "/" + c.model;
    const std::vector<uint8_t> bytes = test::ReadFile(src + "/config.json");
    const std::string config(bytes.begin(), bytes.end());
    const std::string key = std::string(c.key).substr(0, std::string(c.key).find(':'));
    const size_t at = config.find(c.key);
    REQUIRE_MESSAGE(at != std::string::npos, c.key);
    const bool list = std::string(c.key).find('[') != std::string::npos;
    const bool before_norm = std::string(c.key).find("norm") != std::string::npos;
    for (const char* value : {"1e30", "2.0", "-3", "4294967296"}) {
      CAPTURE(c.model);
      CAPTURE(key);
      CAPTURE(value);
      test::TempDir tmp;
      CopyDir(src, tmp, {"model.safetensors"});
      std::string bad = config;
      const std::string v = list ? "[" + std::string(value) + "]" : value;
      bad.replace(at, std::strlen(c.key), key + ": " + v + (before_norm ? ",\n  \"norm\"" : ""));
      test::WriteFile(tmp.path("config.json"), std::vector<uint8_t>(bad.begin(), bad.end()));
      const std::string message = Refused(tmp.path(""), tmp.path("out.edgf"));
      CHECK_MESSAGE(message.find(key.substr(1, key.size() - 2) + " must be") != std::string::npos, message);
    }
  }
}

TEST_CASE("a sharded index must name existing shards holding its tensors") {
  const std::string src = ReferenceDir() + "/llama3_bf16_tied_sharded";
  test::TempDir tmp;
  CopyDir(src, tmp, {"config.json", "model-00001-of-00002.safetensors", "model.safetensors.index.json"});
  const std::string out = tmp.path("out.edgf");
  CHECK(Refused(tmp.path(""), out).find("cannot open '" + tmp.path("model-00002-of-00002.safetensors")) != std::string::npos);
  CopyDir(src, tmp, {"model-00002-of-00002.safetensors"});
  std::vector<uint8_t> index = test::ReadFile(src + "/model.safetensors.index.json");
  std::string text(index.begin(), index.end());
  const size_t at = text.find("00001-of");
  REQUIRE(at != std::string::npos);
  text.replace(at, 5, "00002");  // one tensor now claimed to be in the other shard
  test::WriteFile(tmp.path("model.safetensors.index.json"), std::vector<uint8_t>(text.begin(), text.end()));
  CHECK(Refused(tmp.path(""), out).find("is not in") != std::string::npos);
}

TEST_CASE("hostile JSON: deep nesting and oversized files are refused before they are parsed") {
  const std::string good = ReferenceDir() + "/llama_f32";
  test::TempDir tmp;
  CopyDir(good, tmp, {"model.safetensors"});
  const std::string out = tmp.path("out.edgf");
  auto config_with = [&](const std::string& text) {
    std::ofstream(tmp.path("config.json"), std::ios::binary) << text;
    return Refused(tmp.path(""), out);
  };
  // 100,000 levels: walking or printing it would overflow the stack.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK(config_with(deep).find("config.json: JSON nested deeper than 64 levels") != std::string::npos);
  CHECK(config_with("{\"model_type\": \"llama\", \"hidden_size\": " + deep + "}").find("nested deeper") !=
        std::string::npos);
  // Nesting inside strings does not count; a value of the wrong kind is named.
  CHECK(config_with("{\"model_type\": \"llama\", \"x\": \"" + std::string(1000, '[') + "\", \"hidden_size\": [[1]]}")
            .find("hidden_size") != std::string::npos);
  // 2 MiB of whitespace: more than a config.json may be.
  CHECK(config_with("{" + std::string(2 << 20, ' ') + "}").find("too large for this kind of file") != std::string::npos);
  CHECK(config_with("{\"model_type\": ").find("config.json: not valid JSON") != std::string::npos);
  // A value of the wrong kind where a reader expects a string (found by fuzz_hf_json).
  std::ofstream(tmp.path("tokenizer.json"), std::ios::binary)
      << "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"pre_tokenizer\": {\"type\": false}}";
  schema::TokenizerT tokenizer;
  const Error wrong_kind = convert::ReadHfTokenizer(tmp.path("tokenizer.json"), 300, &tokenizer);
  CHECK(wrong_kind.message().find("tokenizer.json: a value of an unexpected kind") != std::string::npos);

  // A safetensors header nested deeply, and one whose length claims more than the format allows.
  std::vector<uint8_t> st = test::ReadFile(good + "/model.safetensors");
  CopyDir(good, tmp, {"config.json"});
  std::string nested = "{\"a\":" + std::string(5000, '[') + std::string(5000, ']') + "}";
  std::vector<uint8_t> bad(8 + nested.size());  // sized once: GCC 12 misreads an insert at 8 as out of bounds
  for (int i = 0; i < 8; ++i) bad[i] = static_cast<uint8_t>(nested.size() >> (8 * i));
  std::copy(nested.begin(), nested.end(), bad.begin() + 8);
  test::WriteFile(tmp.path("model.safetensors"), bad);
  CHECK(Refused(tmp.path(""), out).find("the header: JSON nested deeper than 64 levels") != std::string::npos);
  std::vector<uint8_t> huge(16, ' ');
  const uint64_t length = 200'000'000;
  for (int i = 0; i < 8; ++i) huge[i] = static_cast<uint8_t>(length >> (8 * i));
  test::WriteFile(tmp.path("model.safetensors"), huge);
  std::filesystem::resize_file(tmp.path("model.safetensors"), length + 8);  // sparse: nothing written
  CHECK(Refused(tmp.path(""), out).find("more than the format's 100000000") != std::string::npos);
}

}  // namespace edgeformer

namespace edgeformer {

TEST_CASE("the checkpoint's chat template comes with the model: tokenizer_config.json or chat_template.jinja") {
  const std::string src = ReferenceDir() + "/sp_json";
  test::TempDir tmp;
  CopyDir(src, tmp, {"config.json", "model.safetensors", "tokenizer.json"});
  auto convert_and_read = [&](const char* name) {
    convert::ConvertOptions o;
    o.checkpoint = tmp.path("");
    o.output = tmp.path(name);
    o.tokenizer_from_checkpoint = true;
    const Error err = convert::ConvertHf(o);
    INFO(err.message());
    REQUIRE(err.ok());
    edgeformer_model* m = nullptr;
    REQUIRE(edgeformer_model_load(o.output.c_str(), nullptr, &m) == EDGEFORMER_OK);
    const std::string t = edgeformer_model_chat_template(m);
    edgeformer_model_destroy(m);
    return t;
  };
  CHECK(convert_and_read("none.edgf").empty());
  const std::string text = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}";
  const std::string config = nlohmann::json{{"chat_template", text}, {"bos_token", "<s>"}}.dump();
  test::WriteFile(tmp.path("tokenizer_config.json"), std::vector<uint8_t>(config.begin(), config.end()));
  CHECK(convert_and_read("string.edgf") == text);
  const std::string named = nlohmann::json{{"chat_template", nlohmann::json::array({{{"name", "tool_use"}, {"template", "x"}},
                                                                                     {{"name", "default"}, {"template", text + "!"}}})}}
                                .dump();
  test::WriteFile(tmp.path("tokenizer_config.json"), std::vector<uint8_t>(named.begin(), named.end()));
  CHECK(convert_and_read("named.edgf") == text + "!");
  const std::string jinja = "{{ bos_token }}jinja";
  test::WriteFile(tmp.path("chat_template.jinja"), std::vector<uint8_t>(jinja.begin(), jinja.end()));
  CHECK(convert_and_read("jinja.edgf") == jinja);
  CHECK(std::string(edgeformer_model_chat_template(nullptr)).empty());
  const std::string bad = R"({"chat_template": 5})";
  std::remove(tmp.path("chat_template.jinja").c_str());
  test::WriteFile(tmp.path("tokenizer_config.json"), std::vector<uint8_t>(bad.begin(), bad.end()));
  CHECK(Refused(tmp.path(""), tmp.path("bad.edgf"), true).find("chat_template is neither") != std::string::npos);
}

}  // namespace edgeformer

namespace edgeformer {

// The int8 KV cache against PyTorch with the same quantization of keys, values, queries and
// attention weights (make_models.py's int8_attention, written from the contracts of ops::StoreKv
// and ops::Attention) on Qwen3 (grouped kv heads, q/k norms): closer to that reference than to
// the unquantized one, which it still follows.
TEST_CASE("an int8 KV cache gives PyTorch's logits with keys and values quantized the same way") {
  const std::string dir = ReferenceDir() + "/qwen3_f32";
  const Reference ref = LoadReference(dir);
  const std::vector<uint8_t> bytes = test::ReadFile(dir + "/logits_kv_int8.f32");
  REQUIRE(bytes.size() == ref.logits.size() * sizeof(float));
  Reference quantized{ref.tokens, ref.vocab, std::vector<float>(ref.logits.size())};
  std::memcpy(quantized.logits.data(), bytes.data(), bytes.size());
  test::TempDir tmp;
  const std::string path = ConvertHf(tmp, dir, convert::Quant::kNone, "f32.edgf", &convert::ConvertHf);
  const std::vector<float> got = RunLogits(path, ref.tokens, 0, nullptr, EDGEFORMER_KV_I8);
  const double to_quantized = WorstRelativeDifference(quantized, got), to_plain = WorstRelativeDifference(ref, got);
  MESSAGE("int8 KV: worst relative difference " << to_quantized << " to the int8 reference, " << to_plain
                                                << " to the f32 one");
  // (Measured: 9e-5. A key, query or weight whose float32 and float64 values straddle a rounding
  // point lands one step apart; the bound leaves room for a few such.)
  CHECK(to_quantized <= 1e-3);
  CHECK(to_quantized * 4 < to_plain);
  CHECK(to_plain <= 5e-2);
}

TEST_CASE("Phi-3's LongRoPE: a session whose context stays within the original one uses the short factors") {
  const std::string dir = ReferenceDir() + "/phi3_f32";
  const Reference ref = LoadReference(dir);
  const std::vector<uint8_t> bytes = test::ReadFile(dir + "/logits_short.f32");
  const size_t n = 32;  // original_max_position_embeddings
  REQUIRE(bytes.size() == n * ref.vocab * sizeof(float));
  std::vector<float> want(n * ref.vocab);
  std::memcpy(want.data(), bytes.data(), bytes.size());
  test::TempDir tmp;
  const std::string path = ConvertHf(tmp, dir, convert::Quant::kNone, "f32.edgf", &convert::ConvertHf);
  const std::vector<int32_t> tokens(ref.tokens.begin(), ref.tokens.begin() + n);
  const std::vector<float> got = RunLogits(path, tokens, static_cast<uint32_t>(n));
  Reference short_ref{tokens, ref.vocab, want};
  CHECK(WorstRelativeDifference(short_ref, got) <= 1e-4);
  // The long factors (a longer context) give other logits for the same tokens.
  Reference long_ref{tokens, ref.vocab, RunLogits(path, tokens)};
  CHECK(WorstRelativeDifference(long_ref, got) > 1e-2);
}

}  // namespace edgeformer

namespace edgeformer {

TEST_CASE("edgeformer_chat_format renders a conversation with the model's template and special tokens") {
  const std::string src = ReferenceDir() + "/sp_json";
  test::TempDir tmp;
  CopyDir(src, tmp, {"config.json", "model.safetensors", "tokenizer.json"});
  auto load = [&](const std::string& config, const char* name) {
    test::WriteFile(tmp.path("tokenizer_config.json"), std::vector<uint8_t>(config.begin(), config.end()));
    convert::ConvertOptions o;
    o.checkpoint = tmp.path("");
    o.output = tmp.path(name);
    o.tokenizer_from_checkpoint = true;
    REQUIRE(convert::ConvertHf(o).ok());
    edgeformer_model* m = nullptr;
    REQUIRE(edgeformer_model_load(o.output.c_str(), nullptr, &m) == EDGEFORMER_OK);
    return m;
  };
  const std::string text =
      "{{ bos_token }}{% for m in messages %}<{{ m['role'] }}>{{ m.content | trim }}{% endfor %}"
      "{% if add_generation_prompt %}<assistant>{% endif %}{{ eos_token }}";
  const std::string config =
      nlohmann::json{{"chat_template", text}, {"bos_token", {{"content", "<s>"}}}, {"eos_token", "</s>"}}.dump();
  edgeformer_model* m = load(config, "chat.edgf");
  const edgeformer_chat_message messages[] = {{"system", "Be brief."}, {"user", " Hi "}};
  std::vector<char> out(256);
  size_t len = 0;
  REQUIRE(edgeformer_chat_format(m, messages, 2, 1, out.data(), out.size(), &len) == EDGEFORMER_OK);
  CHECK(std::string(out.data()) == "<s><system>Be brief.<user>Hi<assistant></s>");
  CHECK(len == std::string(out.data()).size());
  REQUIRE(edgeformer_chat_format(m, messages, 2, 0, out.data(), out.size(), &len) == EDGEFORMER_OK);
  CHECK(std::string(out.data()) == "<s><system>Be brief.<user>Hi</s>");
  // Too small a buffer: the length it needs, and an error.
  char small[8];
  CHECK(edgeformer_chat_format(m, messages, 2, 1, small, sizeof(small), &len) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(len == 43);
  CHECK(edgeformer_chat_format(m, nullptr, 1, 1, out.data(), out.size(), &len) == EDGEFORMER_INVALID_ARGUMENT);
  const edgeformer_chat_message null_role[] = {{nullptr, "x"}};
  CHECK(edgeformer_chat_format(m, null_role, 1, 1, out.data(), out.size(), &len) == EDGEFORMER_INVALID_ARGUMENT);
  edgeformer_model_destroy(m);

  // A template that refuses the conversation, and one that does not parse: errors, with the line.
  m = load(R"({"chat_template": "{% if messages | length > 1 %}{{ raise_exception('one at a time') }}{% endif %}"})",
           "refusing.edgf");
  CHECK(edgeformer_chat_format(m, messages, 2, 1, out.data(), out.size(), &len) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(std::string(edgeformer_last_error()).find("one at a time") != std::string::npos);
  edgeformer_model_destroy(m);
  m = load(R"({"chat_template": "line one\n{% if %}"})", "broken.edgf");
  CHECK(edgeformer_chat_format(m, messages, 2, 1, out.data(), out.size(), &len) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(std::string(edgeformer_last_error()).find("line 2") != std::string::npos);
  edgeformer_model_destroy(m);
  std::remove(tmp.path("tokenizer_config.json").c_str());
  m = load("{}", "none.edgf");
  CHECK(edgeformer_chat_format(m, messages, 2, 1, out.data(), out.size(), &len) == EDGEFORMER_UNSUPPORTED);
  edgeformer_model_destroy(m);
}

}  // namespace edgeformer

