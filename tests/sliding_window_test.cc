// Sliding-window models in sessions: one token at a time (the ring wraps), truncation within and
// past what the rings keep, and the same bits on every ISA (tests/reference/make_models.py's
// mistral_sw_f32, gemma2_f32 and gemma3_f32 against PyTorch).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "converter/convert.h"
#include "edgeformer.h"
#include "platforms/isa.h"
#include "tests/reference_models.h"
#include "tests/test_support.h"

namespace edgeformer {

// The sliding-window models one token at a time (the ring wraps many times), and after going
// back further than the ring keeps (the session recomputes what it keeps): the reference's logits.
TEST_CASE("sliding-window layers keep a ring of the window: decode and truncation match PyTorch") {
  for (const char* name : {"mistral_sw_f32", "gemma2_f32", "gemma3_f32"}) {
    INFO(name);
    const std::string dir = ReferenceDir() + "/" + name;
    const Reference ref = LoadReference(dir);
    test::TempDir tmp;
    const std::string path = ConvertHf(tmp, dir, convert::Quant::kNone, "f32.edgf", &convert::ConvertHf);
    edgeformer_model* model = nullptr;
    REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
    edgeformer_session_params p = edgeformer_session_default_params();
    p.max_batch = 8;  // rings of window + 7 positions
    edgeformer_session* session = nullptr;
    REQUIRE(edgeformer_session_create(model, &p, &session) == EDGEFORMER_OK);
    const size_t n = ref.tokens.size(), vocab = ref.vocab;
    std::vector<float> got(n * vocab);
    for (size_t i = 0; i < n; ++i) {
      REQUIRE(edgeformer_session_prefill_logits(session, &ref.tokens[i], 1, &got[i * vocab], vocab) == EDGEFORMER_OK);
    }
    CHECK(WorstRelativeDifference(ref, got) <= 1e-4);
    // Back to 40 tokens (the rings have written over their keys): recomputed, then the rest again.
    REQUIRE(edgeformer_session_truncate(session, 40) == EDGEFORMER_OK);
    std::fill(got.begin() + 40 * vocab, got.end(), 0.0f);
    REQUIRE(edgeformer_session_prefill_logits(session, &ref.tokens[40], n - 40, &got[40 * vocab], (n - 40) * vocab) ==
            EDGEFORMER_OK);
    CHECK(WorstRelativeDifference(ref, got) <= 1e-4);
    // Back by a few tokens only: the rings still hold their keys.
    REQUIRE(edgeformer_session_truncate(session, static_cast<uint32_t>(n - 3)) == EDGEFORMER_OK);
    REQUIRE(edgeformer_session_prefill_logits(session, &ref.tokens[n - 3], 3, &got[(n - 3) * vocab], 3 * vocab) ==
            EDGEFORMER_OK);
    CHECK(WorstRelativeDifference(ref, got) <= 1e-4);
    edgeformer_session_destroy(session);
    edgeformer_model_destroy(model);
  }
}

TEST_CASE("sliding windows, sandwich norms and soft-capping give the same bits on every ISA (int8 and f16)") {
  for (const char* name : {"mistral_sw_f32", "gemma2_f32", "gemma3_f32"}) {
    INFO(name);
    const std::string dir = ReferenceDir() + "/" + name;
    const Reference ref = LoadReference(dir);
    test::TempDir tmp;
    for (convert::Quant quant : {convert::Quant::kInt8, convert::Quant::kF16}) {
      const std::string path = ConvertHf(tmp, dir, quant, "m.edgf", &convert::ConvertHf);
      const std::vector<float> first = RunLogits(path, ref.tokens, 0, "reference");
      for (Isa isa : BuildIsas()) {
        if (!CpuSupports(isa)) continue;
        CAPTURE(IsaName(isa));
        const std::vector<float> got = RunLogits(path, ref.tokens, 0, IsaName(isa));
        CHECK(std::memcmp(first.data(), got.data(), first.size() * sizeof(float)) == 0);
      }
    }
  }
}

}  // namespace edgeformer
