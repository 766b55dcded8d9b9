// The fixtures of the session tests (session_test.cc, session_generate_test.cc): a small
// synthetic model and a session on it through the C API, a token collector, prompts.
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "edgeformer.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

struct Model {
  test::TempDir dir;
  edgeformer_model* model = nullptr;
  explicit Model(convert::Quant quant) {
    const std::string path = test::MakeSyntheticModel(dir, quant);
    REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  }
  ~Model() { edgeformer_model_destroy(model); }
};

struct Session {
  edgeformer_session* s = nullptr;
  Session(edgeformer_model* m, edgeformer_session_params p = edgeformer_session_default_params()) {
    const edgeformer_status st = edgeformer_session_create(m, &p, &s);
    INFO(edgeformer_last_error());
    REQUIRE(st == EDGEFORMER_OK);
  }
  ~Session() { edgeformer_session_destroy(s); }
  std::vector<float> Logits() const {
    const float* l = nullptr;
    size_t n = 0;
    REQUIRE(edgeformer_session_logits(s, &l, &n) == EDGEFORMER_OK);
    return std::vector<float>(l, l + n);
  }
};

inline int Collect(void* user, int32_t token, const char*, size_t) {
  static_cast<std::vector<int32_t>*>(user)->push_back(token);
  return 1;
}

using test::Greedy;

inline std::vector<int32_t> Prompt(size_t n) {
  std::vector<int32_t> p;
  for (size_t i = 0; i < n; ++i) p.push_back(static_cast<int32_t>(1 + (i * 37) % 299));
  return p;
}

inline bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace
}  // namespace edgeformer
