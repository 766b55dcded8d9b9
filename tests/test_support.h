// Helpers shared by the tests: where the real models are, temporary folders, model files made by
// the converter, and byte-level file surgery for hostile-input tests.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "converter/convert.h"
#include "edgeformer.h"
#include "converter/llama2c.h"
#include "model/tokenizer.h"
#include "model_generated.h"

namespace edgeformer {
namespace test {

// edgeformer_tokenize's flags for text compared with a Hugging Face reference (which adds the
// special tokens and parses those written in the text).
constexpr int kAddAndParse = EDGEFORMER_TOKENIZE_ADD_SPECIAL | EDGEFORMER_TOKENIZE_PARSE_SPECIAL;

// The shared/ folder: $EDGEFORMER_SHARED, else the folder configured at build time.
std::string SharedDir();

// Path of a file under shared/, or "" when it is missing. When the build or the environment
// (EDGEFORMER_REQUIRE_SHARED=1) requires shared data, a missing file fails the calling test.
std::string SharedFile(const std::string& relative);

// A fresh empty folder, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

std::vector<uint8_t> ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes);

// A small synthetic llama2.c checkpoint (dim 64, 2 layers, GQA 4:2, vocab 300) converted to a
// model file in `dir`; returns the model path. The checkpoint and tokenizer stay beside it.
std::string MakeSyntheticModel(const TempDir& dir, convert::Quant quant, const std::string& name = "synthetic");

// Generation parameters for greedy decoding of exactly max_tokens tokens (no stop at EOS).
edgeformer_generate_params Greedy(uint32_t max_tokens);

// A small synthetic BERT-style encoder (dim 48, 2 layers, 4 heads, vocab 300, context 64,
// post-norm, learned positions, 2 token types, GELU, MLM head and pooler; mean pooling) with
// random weights and no tokenizer; returns its path.
std::string MakeSyntheticEncoder(const TempDir& dir, convert::Quant quant, const std::string& name = "encoder");

// A model and a session on it with the native backend (and, when given, an ISA cap, a KV type, a
// max_batch and max_beams), destroyed together; fails the test when either cannot be made.
struct LoadedModel {
  edgeformer_model* model = nullptr;
  edgeformer_session* session = nullptr;
  edgeformer_model_info info{};
  explicit LoadedModel(const std::string& path, const char* isa = nullptr, edgeformer_kv_type kv = EDGEFORMER_KV_F32,
                       uint32_t max_batch = 0, uint32_t max_beams = 1);
  ~LoadedModel();
  LoadedModel(const LoadedModel&) = delete;
  LoadedModel& operator=(const LoadedModel&) = delete;
};

// The largest |want - have| of a row (`row` values) over the largest |want| of that row, over
// all rows; the sizes must match.
double WorstRowDifference(const std::vector<float>& want, const std::vector<float>& have, size_t row);
// The cosine of the angle between a [n] and b [n].
double Cosine(const float* a, const float* b, size_t n);
// Whether a and b hold the same floats bit for bit.
bool SameBits(const std::vector<float>& a, const std::vector<float>& b);
// The ISA names this CPU runs ("reference" first); for checking that each gives the same bits.
std::vector<std::string> CpuIsaNames();

// The model file `file` (valid) with its header unpacked, changed by `edit` and packed again: the
// weight segments follow the new header (their offsets and file_size moved with it), so only
// what `edit` changed differs.
std::vector<uint8_t> RepackHeader(const std::vector<uint8_t>& file, const std::function<void(schema::ModelT&)>& edit);

// A small synthetic encoder-decoder (convert::SyntheticEncoderDecoder: dim 32, 2 + 2 layers, 4
// heads, vocab 200, sources and targets of up to 48 tokens) with random weights and no tokenizer;
// returns its path.
std::string MakeSyntheticEncoderDecoder(const TempDir& dir, convert::Quant quant, const std::string& name = "encdec");

// Converts a llama2.c checkpoint; fails the test on error.
std::string Convert(const TempDir& dir, const std::string& checkpoint, const std::string& tokenizer,
                    convert::Quant quant, const std::string& name);
// fortunes2M (the shared llama2.c checkpoint and its tokenizer) converted into `dir`; "" (the
// test skipped, or failed under EDGEFORMER_REQUIRE_SHARED) when the shared files are missing.
std::string ConvertFortunes(const TempDir& dir, convert::Quant quant);

// A tokenizer table packed as a model file holds it, and the runtime's tokenizer over it.
struct PackedTokenizer {
  flatbuffers::FlatBufferBuilder fbb;
  Tokenizer tok;
  Error Init(const schema::TokenizerT& table, uint32_t vocab_size);
};

}  // namespace test
}  // namespace edgeformer
