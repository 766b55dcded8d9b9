// Allocation discipline, through a hook on every heap allocation of the process (malloc and its
// kin, which operator new, the library, XNNPACK and pthreadpool all use): decoding allocates
// nothing once a session exists, and a failure of any single allocation while loading a model or
// creating a session returns a status and leaks nothing.
//
// The hook interposes glibc's malloc family in this executable and forwards to __libc_*; the
// sanitizers interpose the same functions, so a sanitizer build skips these tests.
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "edgeformer.h"
#include "tests/test_support.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EDGEFORMER_ALLOC_HOOK 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define EDGEFORMER_ALLOC_HOOK 0
#endif
#endif
#if !defined(EDGEFORMER_ALLOC_HOOK) && defined(__GLIBC__)
#define EDGEFORMER_ALLOC_HOOK 1
#endif
#ifndef EDGEFORMER_ALLOC_HOOK
#define EDGEFORMER_ALLOC_HOOK 0
#endif

namespace {

// Counters of the hook. `armed`: count; fail_at > 0: the fail_at-th counted allocation fails.
std::atomic<bool> armed{false};
std::atomic<long> allocations{0};  // counted calls
std::atomic<long> live{0};         // counted allocations not yet freed (by address, below)
std::atomic<long> fail_at{0};

// Addresses allocated while armed, so a free of one of them (and only those) decrements `live`.
// A fixed open-addressing table: the hook must not allocate.
constexpr size_t kSlots = 1 << 16;
std::atomic<uintptr_t> slots[kSlots];

size_t SlotOf(uintptr_t p) { return (p >> 4) * 0x9E3779B97F4A7C15ull >> 48; }

void Remember(void* p) {
  const uintptr_t v = reinterpret_cast<uintptr_t>(p);
  for (size_t i = SlotOf(v), n = 0; n < kSlots; i = (i + 1) % kSlots, ++n) {
    uintptr_t empty = 0;
    if (slots[i].compare_exchange_strong(empty, v)) return;
  }
  std::abort();  // more than 64k live allocations in a window: the test is wrong
}

bool Forget(void* p) {
  const uintptr_t v = reinterpret_cast<uintptr_t>(p);
  for (size_t i = SlotOf(v), n = 0; n < kSlots && slots[i].load() != 0; i = (i + 1) % kSlots, ++n) {
    uintptr_t expect = v;
    if (slots[i].compare_exchange_strong(expect, 1)) return true;  // 1: a tombstone
  }
  return false;
}

// Returns false when this allocation must fail.
bool Count() {
  if (!armed.load(std::memory_order_relaxed)) return true;
  const long n = allocations.fetch_add(1) + 1;
  return n != fail_at.load(std::memory_order_relaxed);
}

void* Track(void* p) {
  if (p != nullptr && armed.load(std::memory_order_relaxed)) {
    live.fetch_add(1);
    Remember(p);
  }
  return p;
}

void Untrack(void* p) {
  if (p != nullptr && Forget(p)) live.fetch_sub(1);
}

void Arm(long fail) {
  for (auto& s : slots) s.store(0);
  allocations = 0;
  live = 0;
  fail_at = fail;
  armed = true;
}

void Disarm() { armed = false; }

}  // namespace

#if EDGEFORMER_ALLOC_HOOK
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);

void* malloc(size_t n) { return Count() ? Track(__libc_malloc(n)) : nullptr; }
void* calloc(size_t a, size_t b) { return Count() ? Track(__libc_calloc(a, b)) : nullptr; }
void* realloc(void* p, size_t n) {
  if (!Count()) return nullptr;
  Untrack(p);
  return Track(__libc_realloc(p, n));
}
void free(void* p) {
  Untrack(p);
  __libc_free(p);
}
void* memalign(size_t align, size_t n) { return Count() ? Track(__libc_memalign(align, n)) : nullptr; }
void* aligned_alloc(size_t align, size_t n) { return memalign(align, n); }
int posix_memalign(void** out, size_t align, size_t n) {
  void* p = memalign(align, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
}  // extern "C"
#endif

namespace edgeformer {
namespace {

int Ignore(void*, int32_t, const char*, size_t) { return 1; }

}  // namespace

TEST_CASE("decoding allocates nothing after the first token (sliding the context included): int8, f16, f32; 1 and 2 threads; both backends") {
  if (!EDGEFORMER_ALLOC_HOOK) {
    MESSAGE("skipped: the sanitizers own malloc in this build");
    return;
  }
  test::TempDir dir;
  for (convert::Quant quant : {convert::Quant::kInt8, convert::Quant::kF16, convert::Quant::kNone}) {
    const std::string path = test::MakeSyntheticModel(dir, quant, "m" + std::to_string(static_cast<int>(quant)));
    edgeformer_model* model = nullptr;
    REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
    for (uint32_t threads : {1u, 2u}) {
      for (edgeformer_backend backend : {EDGEFORMER_BACKEND_AUTO, EDGEFORMER_BACKEND_XNNPACK}) {
        edgeformer_session_params p = edgeformer_session_default_params();
        p.n_threads = threads;
        p.backend = backend;
        edgeformer_session* s = nullptr;
        if (edgeformer_session_create(model, &p, &s) == EDGEFORMER_UNSUPPORTED) continue;  // no XNNPACK
        REQUIRE(s != nullptr);
        const int32_t prompt[5] = {1, 17, 42, 99, 7};
        REQUIRE(edgeformer_session_prefill(s, prompt, 5) == EDGEFORMER_OK);
        edgeformer_generate_params g = edgeformer_generate_default_params();
        g.max_tokens = 1;
        g.stop_at_end_of_text = 0;
        REQUIRE(edgeformer_generate(s, &g, &Ignore, nullptr, nullptr, nullptr) == EDGEFORMER_OK);
        g.max_tokens = 80;             // past the context of 48: it slides twice
        g.slide_context = 1;
        g.keep_tokens = 3;
        g.sampler.temperature = 0.9f;  // sampling (top-p sorts) allocates nothing either
        size_t n = 0;
        Arm(0);
        const edgeformer_status st = edgeformer_generate(s, &g, &Ignore, nullptr, &n, nullptr);
        Disarm();
        INFO("quant " << static_cast<int>(quant) << ", threads " << threads << ", backend " << backend);
        CHECK(st == EDGEFORMER_OK);
        CHECK(n == 80);
        CHECK(allocations.load() == 0);
        edgeformer_session_destroy(s);
      }
    }
    edgeformer_model_destroy(model);
  }
}

// Speculation: the draft's steps and prefill, the verification passes, speculative sampling's
// distributions and prompt lookup allocate nothing either.
TEST_CASE("speculative decoding allocates nothing: a draft model (greedy and sampled) and prompt lookup") {
  if (!EDGEFORMER_ALLOC_HOOK) {
    MESSAGE("skipped: the sanitizers own malloc in this build");
    return;
  }
  test::TempDir dir;
  const std::string path = test::MakeSyntheticModel(dir, convert::Quant::kInt8, "target");
  const std::string draft_path = test::MakeSyntheticModel(dir, convert::Quant::kNone, "draft");
  edgeformer_model* model = nullptr;
  edgeformer_model* draft_model = nullptr;
  REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  REQUIRE(edgeformer_model_load(draft_path.c_str(), nullptr, &draft_model) == EDGEFORMER_OK);
  edgeformer_session_params p = edgeformer_session_default_params();
  p.max_draft_tokens = 6;
  edgeformer_session* s = nullptr;
  edgeformer_session* d = nullptr;
  REQUIRE(edgeformer_session_create(model, &p, &s) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_create(draft_model, nullptr, &d) == EDGEFORMER_OK);
  for (int mode = 0; mode < 3; ++mode) {
    CAPTURE(mode);
    const int32_t prompt[6] = {1, 17, 42, 99, 17, 42};
    REQUIRE(edgeformer_session_reset(s) == EDGEFORMER_OK);
    REQUIRE(edgeformer_session_prefill(s, prompt, 6) == EDGEFORMER_OK);
    edgeformer_generate_params g = edgeformer_generate_default_params();
    g.max_tokens = 30;
    g.stop_at_end_of_text = 0;
    g.sampler.temperature = mode == 1 ? 0.9f : 0.0f;
    if (mode < 2) {
      g.draft = d;
      g.draft_tokens = mode == 0 ? 4 : 0;
    } else {
      g.lookup_tokens = 6;
    }
    size_t n = 0;
    Arm(0);
    const edgeformer_status st = edgeformer_generate(s, &g, &Ignore, nullptr, &n, nullptr);
    Disarm();
    CHECK(st == EDGEFORMER_OK);
    CHECK(n == 30);
    CHECK(allocations.load() == 0);
  }
  edgeformer_session_info info;
  REQUIRE(edgeformer_session_get_info(s, &info) == EDGEFORMER_OK);
  CHECK(info.draft_passes > 0);
  edgeformer_session_destroy(d);
  edgeformer_session_destroy(s);
  edgeformer_model_destroy(draft_model);
  edgeformer_model_destroy(model);
}

TEST_CASE("a failed allocation anywhere in load and session creation: a status, and nothing leaked") {
  if (!EDGEFORMER_ALLOC_HOOK) {
    MESSAGE("skipped: the sanitizers own malloc in this build");
    return;
  }
  test::TempDir dir;
  for (convert::Quant quant : {convert::Quant::kInt8, convert::Quant::kNone}) {
    const std::string path = test::MakeSyntheticModel(dir, quant, "m" + std::to_string(static_cast<int>(quant)));
    for (edgeformer_backend backend : {EDGEFORMER_BACKEND_NATIVE, EDGEFORMER_BACKEND_XNNPACK}) {
      edgeformer_session_params p = edgeformer_session_default_params();
      p.n_threads = 2;
      p.backend = backend;
      // Once through with the library's one-time setup (CPU query, XNNPACK's init) and a long
      // error message, whose thread-local buffer then keeps its capacity.
      {
        edgeformer_model* m = nullptr;
        const std::string missing = dir.path(std::string(600, 'x'));
        CHECK(edgeformer_model_load(missing.c_str(), nullptr, &m) != EDGEFORMER_OK);
        REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &m) == EDGEFORMER_OK);
        edgeformer_session* s = nullptr;
        if (edgeformer_session_create(m, &p, &s) == EDGEFORMER_UNSUPPORTED) {
          edgeformer_model_destroy(m);
          continue;
        }
        edgeformer_session_destroy(s);
        edgeformer_model_destroy(m);
      }
      // How many allocations a successful load and creation make.
      Arm(0);
      edgeformer_model* m = nullptr;
      edgeformer_session* s = nullptr;
      const bool ok = edgeformer_model_load(path.c_str(), nullptr, &m) == EDGEFORMER_OK &&
                      edgeformer_session_create(m, &p, &s) == EDGEFORMER_OK;
      edgeformer_session_destroy(s);
      edgeformer_model_destroy(m);
      Disarm();
      REQUIRE(ok);
      const long total = allocations.load();
      CHECK(live.load() == 0);
      CHECK(total > 5);
      MESSAGE("quant " << static_cast<int>(quant) << ", backend " << backend << ": " << total
                       << " allocations in load + session creation; each made to fail in turn");
      for (long k = 1; k <= total; ++k) {
        Arm(k);
        edgeformer_model* model = nullptr;
        edgeformer_session* session = nullptr;
        edgeformer_status st = edgeformer_model_load(path.c_str(), nullptr, &model);
        if (st == EDGEFORMER_OK) {
          st = edgeformer_session_create(model, &p, &session);
          edgeformer_session_destroy(session);
        }
        edgeformer_model_destroy(model);
        Disarm();
        INFO("allocation " << k << " of " << total << " failed; status " << st << ": " << std::string(edgeformer_last_error()));
        CHECK(st == EDGEFORMER_OUT_OF_MEMORY);
        CHECK(session == nullptr);
        CHECK(live.load() == 0);
      }
    }
  }
}

}  // namespace edgeformer

namespace edgeformer {

TEST_CASE("encoding allocates nothing once a session exists: packed embeddings, hidden states, MLM logits") {
  if (!EDGEFORMER_ALLOC_HOOK) {
    MESSAGE("skipped: the sanitizers own malloc in this build");
    return;
  }
  test::TempDir dir;
  for (convert::Quant quant : {convert::Quant::kInt8, convert::Quant::kNone}) {
    const std::string path = test::MakeSyntheticEncoder(dir, quant, "e" + std::to_string(static_cast<int>(quant)));
    edgeformer_model* model = nullptr;
    REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
    for (uint32_t threads : {1u, 2u}) {
      edgeformer_session_params p = edgeformer_session_default_params();
      p.n_threads = threads;
      edgeformer_session* s = nullptr;
      REQUIRE(edgeformer_session_create(model, &p, &s) == EDGEFORMER_OK);
      std::vector<int32_t> tokens;
      for (int i = 0; i < 100; ++i) tokens.push_back(1 + (i * 37) % 299);
      const size_t lengths[4] = {10, 30, 40, 20};  // two passes of the 64-token context
      std::vector<float> embeddings(4 * 48), hidden(40 * 48), logits(40 * 300);
      Arm(0);
      const edgeformer_status a = edgeformer_embed(s, tokens.data(), nullptr, lengths, 4, nullptr, embeddings.data(),
                                                   embeddings.size());
      const edgeformer_status b = edgeformer_encode(s, tokens.data(), nullptr, 40, hidden.data(), hidden.size(),
                                                    logits.data(), logits.size());
      Disarm();
      INFO("quant " << static_cast<int>(quant) << ", threads " << threads << ": " << edgeformer_last_error());
      CHECK(a == EDGEFORMER_OK);
      CHECK(b == EDGEFORMER_OK);
      CHECK(allocations.load() == 0);
      edgeformer_session_destroy(s);
    }
    edgeformer_model_destroy(model);
  }
}

}  // namespace edgeformer

namespace edgeformer {

TEST_CASE("an encoder-decoder allocates nothing once a session exists: sources, targets, new sources") {
  if (!EDGEFORMER_ALLOC_HOOK) {
    MESSAGE("skipped: the sanitizers own malloc in this build");
    return;
  }
  test::TempDir dir;
  for (convert::Quant quant : {convert::Quant::kInt8, convert::Quant::kNone}) {
    const std::string path = test::MakeSyntheticEncoderDecoder(dir, quant, "s" + std::to_string(static_cast<int>(quant)));
    edgeformer_model* model = nullptr;
    REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
    for (edgeformer_kv_type kv : {EDGEFORMER_KV_F32, EDGEFORMER_KV_I8}) {
      for (uint32_t threads : {1u, 2u}) {
        edgeformer_session_params p = edgeformer_session_default_params();
        p.n_threads = threads;
        p.kv_type = kv;
        p.max_batch = 4;  // targets in several steps
        edgeformer_session* s = nullptr;
        REQUIRE(edgeformer_session_create(model, &p, &s) == EDGEFORMER_OK);
        std::vector<int32_t> source;
        for (int i = 0; i < 48; ++i) source.push_back(2 + (i * 37) % 197);
        std::vector<float> hidden(48 * 32);
        const edgeformer_generate_params g = test::Greedy(12);
        Arm(0);
        const edgeformer_status a = edgeformer_encode_source(s, source.data(), 48, hidden.data(), hidden.size());
        const edgeformer_status b = edgeformer_session_prefill(s, source.data() + 3, 9);
        const edgeformer_status c = edgeformer_generate(s, &g, nullptr, nullptr, nullptr, nullptr);
        const edgeformer_status d = edgeformer_encode_source(s, source.data() + 10, 20, nullptr, 0);
        const edgeformer_status e = edgeformer_generate(s, &g, nullptr, nullptr, nullptr, nullptr);
        Disarm();
        INFO("quant " << static_cast<int>(quant) << ", kv " << kv << ", threads " << threads << ": "
                      << edgeformer_last_error());
        CHECK(a == EDGEFORMER_OK);
        CHECK(b == EDGEFORMER_OK);
        CHECK(c == EDGEFORMER_OK);
        CHECK(d == EDGEFORMER_OK);
        CHECK(e == EDGEFORMER_OK);
        CHECK(allocations.load() == 0);
        edgeformer_session_destroy(s);
      }
    }
    edgeformer_model_destroy(model);
  }
}

}  // namespace edgeformer

namespace edgeformer {

TEST_CASE("beam search allocates nothing once a session exists: decoder and encoder-decoder, 1 to 4 beams") {
  if (!EDGEFORMER_ALLOC_HOOK) {
    MESSAGE("skipped: the sanitizers own malloc in this build");
    return;
  }
  test::TempDir dir;
  for (const bool seq2seq : {false, true}) {
    const std::string path = seq2seq ? test::MakeSyntheticEncoderDecoder(dir, convert::Quant::kInt8, "b")
                                     : test::MakeSyntheticModel(dir, convert::Quant::kInt8, "b");
    edgeformer_model* model = nullptr;
    REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
    for (edgeformer_kv_type kv : {EDGEFORMER_KV_F32, EDGEFORMER_KV_I8}) {
      edgeformer_session_params p = edgeformer_session_default_params();
      p.n_threads = 2;
      p.kv_type = kv;
      p.max_beams = 4;
      p.max_beam_tokens = 20;
      edgeformer_session* s = nullptr;
      REQUIRE(edgeformer_session_create(model, &p, &s) == EDGEFORMER_OK);
      const int32_t prompt[7] = {1, 20, 30, 40, 50, 60, 70};
      std::vector<int32_t> tokens(4 * 20);
      uint32_t lengths[4], n = 0;
      float scores[4];
      Arm(0);
      edgeformer_status st = seq2seq ? edgeformer_encode_source(s, prompt, 7, nullptr, 0)
                                     : edgeformer_session_prefill(s, prompt, 7);
      for (uint32_t beams : {4u, 1u, 3u}) {
        edgeformer_beam_params b = edgeformer_beam_default_params();
        b.beams = beams;
        b.n_best = beams;
        b.max_tokens = 20;
        b.early_stopping = EDGEFORMER_EARLY_STOPPING_NEVER;
        if (st == EDGEFORMER_OK) st = edgeformer_generate_beam(s, &b, tokens.data(), 20, lengths, scores, &n);
      }
      Disarm();
      INFO("seq2seq " << seq2seq << ", kv " << kv << ": " << edgeformer_last_error());
      CHECK(st == EDGEFORMER_OK);
      CHECK(n == 3);
      CHECK(allocations.load() == 0);
      edgeformer_session_destroy(s);
    }
    edgeformer_model_destroy(model);
  }
}

}  // namespace edgeformer
