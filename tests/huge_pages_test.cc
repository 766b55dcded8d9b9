// KV caches on 2 MiB pages (SessionOptions::huge_pages, core/aligned_buffer.h): AlignedBuffer's
// rounding and alignment, the plan and the memory budget counting it, and the same results
// either way.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "edgeformer.h"
#include "tests/session_fixtures.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

TEST_CASE("huge pages for the KV caches: the same logits and tokens either way; the plan counts whole 2 MiB pages") {
  Model m(convert::Quant::kInt8);
  for (edgeformer_kv_type kv : {EDGEFORMER_KV_F32, EDGEFORMER_KV_I8}) {
    CAPTURE(kv);
    // 64 beams' caches, still under 1 MiB here: the plan is the same either way (rounded
    // caches: below, on fortunes2M).
    edgeformer_session_params on = edgeformer_session_default_params();
    on.kv_type = kv;
    on.max_beams = 64;
    edgeformer_session_params off = on;
    off.huge_pages = 0;
    CHECK(on.huge_pages == 1);
    Session a(m.model, on), b(m.model, off);
    edgeformer_session_info ia, ib;
    REQUIRE(edgeformer_session_get_info(a.s, &ia) == EDGEFORMER_OK);
    REQUIRE(edgeformer_session_get_info(b.s, &ib) == EDGEFORMER_OK);
    // The keys and the values, each rounded up to whole 2 MiB pages when 1 MiB or more.
    MESSAGE("allocated: " << ia.allocated_bytes << " on huge pages, " << ib.allocated_bytes << " without");
    CHECK(ia.allocated_bytes == ib.allocated_bytes);
    const std::vector<int32_t> prompt = Prompt(20);
    REQUIRE(edgeformer_session_prefill(a.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
    REQUIRE(edgeformer_session_prefill(b.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
    CHECK(SameBits(a.Logits(), b.Logits()));
    std::vector<int32_t> ta, tb;
    edgeformer_generate_params g = Greedy(20);
    REQUIRE(edgeformer_generate(a.s, &g, Collect, &ta, nullptr, nullptr) == EDGEFORMER_OK);
    REQUIRE(edgeformer_generate(b.s, &g, Collect, &tb, nullptr, nullptr) == EDGEFORMER_OK);
    CHECK(ta == tb);
    CHECK(SameBits(a.Logits(), b.Logits()));
    // The budget sees the rounded plan: its exact size fits, a byte less does not.
    edgeformer_session* s = nullptr;
    on.memory_budget = ia.allocated_bytes - 1;
    CHECK(edgeformer_session_create(m.model, &on, &s) == EDGEFORMER_OUT_OF_MEMORY);
    on.memory_budget = ia.allocated_bytes;
    REQUIRE(edgeformer_session_create(m.model, &on, &s) == EDGEFORMER_OK);
    edgeformer_session_destroy(s);
  }
}

TEST_CASE("AlignedBuffer on huge pages: whole 2 MiB pages from 1 MiB on, aligned to them, zero-filled when asked") {
  constexpr size_t kMiB = size_t{1} << 20;
  const bool huge = AlignedBuffer::HugePagesAvailable();
  MESSAGE("transparent huge pages available: " << huge);
  CHECK(AlignedBuffer::Footprint(kMiB - 1, true) == kMiB);  // under 1 MiB: 64-byte rounding
  CHECK(AlignedBuffer::Footprint(kMiB, true) == (huge ? 2 : 1) * kMiB);
  CHECK(AlignedBuffer::Footprint(5 * kMiB + 1, true) == (huge ? 6 * kMiB : 5 * kMiB + 64));
  CHECK(AlignedBuffer::Footprint(5 * kMiB + 1, false) == 5 * kMiB + 64);
  CHECK(AlignedBuffer::Footprint(SIZE_MAX - 10, true) == 0);  // overflow
  AlignedBuffer b;
  CHECK(b.Allocate(SIZE_MAX - 10, true, true).status() == Status::kOutOfMemory);
  for (bool zero : {true, false}) {
    REQUIRE(b.Allocate(3 * kMiB + 5, zero, true).ok());
    const size_t block = AlignedBuffer::Footprint(3 * kMiB + 5, true);
    CHECK(reinterpret_cast<uintptr_t>(b.as<char>()) % (huge ? 2 * kMiB : 64) == 0);
    CHECK(b.size() == 3 * kMiB + 5);
    if (zero) {
      bool all_zero = true;
      for (size_t i = 0; i < block; i += 4093) all_zero = all_zero && b.as<char>()[i] == 0;
      CHECK(all_zero);
    }
    std::memset(b.as<char>(), 7, block);  // every byte of the rounded block is the caller's
  }
}

TEST_CASE("huge pages on a real model's caches of over 1 MiB (fortunes2M, 4 beams): rounded in the plan, the same logits") {
  test::TempDir dir;
  const std::string path = test::ConvertFortunes(dir, convert::Quant::kInt8);
  if (path.empty()) return;
  edgeformer_model* model = nullptr;
  REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  // f32 caches of 4 sequences (and a spare block) x 256 positions x 6 layers x kv_dim 64 x 4
  // bytes: about 1.5 MiB each for the keys and the values, so each rounds up to 2 MiB.
  edgeformer_session_params on = edgeformer_session_default_params();
  on.max_beams = 4;
  edgeformer_session_params off = on;
  off.huge_pages = 0;
  {
    Session a(model, on), b(model, off);
    edgeformer_session_info ia, ib;
    REQUIRE(edgeformer_session_get_info(a.s, &ia) == EDGEFORMER_OK);
    REQUIRE(edgeformer_session_get_info(b.s, &ib) == EDGEFORMER_OK);
    const uint64_t extra = ia.allocated_bytes - ib.allocated_bytes;
    MESSAGE("huge pages add " << extra << " bytes to the plan");
    if (AlignedBuffer::HugePagesAvailable()) {
      CHECK(extra > 0);
      CHECK(extra < (uint64_t{2} << 20));  // under 1 MiB for each of the two
      CHECK((ib.allocated_bytes + extra) % 64 == 0);
    } else {
      CHECK(extra == 0);
    }
    const std::vector<int32_t> prompt = Prompt(30);
    for (const Session* s : {&a, &b}) REQUIRE(edgeformer_session_prefill(s->s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
    CHECK(SameBits(a.Logits(), b.Logits()));
    edgeformer_session* c = nullptr;
    on.memory_budget = ia.allocated_bytes - 1;
    CHECK(edgeformer_session_create(model, &on, &c) == EDGEFORMER_OUT_OF_MEMORY);
  }
  edgeformer_model_destroy(model);
}

}  // namespace
}  // namespace edgeformer
