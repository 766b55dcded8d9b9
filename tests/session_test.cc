// Sessions through the C API on a small synthetic model: context limits, prefill/generate
// bookkeeping, and that batching, threads, ISAs and sharing a model never change a single bit of
// the logits. Context sliding and stop strings: session_generate_test.cc.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <pthreadpool.h>

#include "edgeformer.h"
#include "platforms/isa.h"
#include "tests/session_fixtures.h"
#include "tests/test_support.h"

namespace edgeformer {

TEST_CASE("generation stops with CONTEXT_FULL when the cache is full, never past it") {
  Model m(convert::Quant::kInt8);
  Session s(m.model);  // context 48
  const std::vector<int32_t> prompt = Prompt(10);
  REQUIRE(edgeformer_session_prefill(s.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  std::vector<int32_t> out;
  size_t n = 0;
  const edgeformer_generate_params g = Greedy(1000);
  CHECK(edgeformer_generate(s.s, &g, &Collect, &out, &n, nullptr) == EDGEFORMER_CONTEXT_FULL);
  CHECK(std::string(edgeformer_last_error()).find("context is full") != std::string::npos);
  // 38 free positions hold 38 more tokens; the last sampled one needs no slot.
  CHECK(n == 39);
  CHECK(out.size() == 39);
  CHECK(edgeformer_session_position(s.s) == 48);
  CHECK(edgeformer_generate(s.s, &g, &Collect, &out, &n, nullptr) == EDGEFORMER_CONTEXT_FULL);
  CHECK(n == 0);
  const int32_t one = 5;
  CHECK(edgeformer_session_prefill(s.s, &one, 1) == EDGEFORMER_CONTEXT_FULL);
}

TEST_CASE("a prompt longer than the context is refused and changes nothing") {
  Model m(convert::Quant::kInt8);
  edgeformer_session_params p = edgeformer_session_default_params();
  p.context_length = 20;
  Session s(m.model, p);
  const std::vector<int32_t> prompt = Prompt(21);
  CHECK(edgeformer_session_prefill(s.s, prompt.data(), prompt.size()) == EDGEFORMER_CONTEXT_FULL);
  CHECK(std::string(edgeformer_last_error()).find("the prompt needs 21 positions but only 20") != std::string::npos);
  CHECK(edgeformer_session_position(s.s) == 0);
  CHECK(edgeformer_session_prefill(s.s, prompt.data(), 20) == EDGEFORMER_OK);
  CHECK(edgeformer_session_position(s.s) == 20);
  // A context longer than the model's is refused at creation.
  p.context_length = 49;
  edgeformer_session* bad = nullptr;
  CHECK(edgeformer_session_create(m.model, &p, &bad) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(bad == nullptr);
}

TEST_CASE("bad calls are refused") {
  Model m(convert::Quant::kInt8);
  Session s(m.model);
  const edgeformer_generate_params g = Greedy(4);
  CHECK(edgeformer_generate(s.s, &g, nullptr, nullptr, nullptr, nullptr) == EDGEFORMER_INVALID_ARGUMENT);
  const int32_t bad[] = {1, 300};
  CHECK(edgeformer_session_prefill(s.s, bad, 2) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(std::string(edgeformer_last_error()).find("id 300, outside the vocabulary") != std::string::npos);
  CHECK(edgeformer_session_prefill(s.s, bad, 0) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(edgeformer_session_prefill(nullptr, bad, 1) == EDGEFORMER_INVALID_ARGUMENT);
  edgeformer_session_params p = edgeformer_session_default_params();
  p.max_isa = "no-such-isa";
  edgeformer_session* none = nullptr;
  CHECK(edgeformer_session_create(m.model, &p, &none) == EDGEFORMER_INVALID_ARGUMENT);
  const float* l = nullptr;
  size_t n = 0;
  CHECK(edgeformer_session_logits(s.s, &l, &n) == EDGEFORMER_INVALID_ARGUMENT);
}

TEST_CASE("batching, threads and every ISA give bit-identical logits") {
  for (convert::Quant quant : {convert::Quant::kInt8, convert::Quant::kNone, convert::Quant::kF16}) {
  for (edgeformer_kv_type kv : {EDGEFORMER_KV_F32, EDGEFORMER_KV_F16, EDGEFORMER_KV_I8}) {
    Model m(quant);
    const std::vector<int32_t> prompt = Prompt(23);
    edgeformer_session_params base = edgeformer_session_default_params();
    base.max_isa = "reference";
    base.max_batch = 1;
    base.kv_type = kv;
    base.backend = EDGEFORMER_BACKEND_NATIVE;  // XNNPACK (f32 prefill under AUTO) is not bit-exact
    Session ref(m.model, base);
    REQUIRE(edgeformer_session_prefill(ref.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
    const std::vector<float> want = ref.Logits();
    for (Isa isa : BuildIsas()) {
      if (!CpuSupports(isa)) {
        MESSAGE("skipped " << std::string(IsaName(isa)) << ": not supported by this CPU");
        continue;
      }
      for (uint32_t batch : {1u, 5u, 32u}) {
        for (uint32_t threads : {1u, 2u}) {
          edgeformer_session_params p = base;
          p.max_isa = IsaName(isa);
          p.max_batch = batch;
          p.n_threads = threads;
          Session s(m.model, p);
          REQUIRE(edgeformer_session_prefill(s.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
          INFO("isa " << std::string(IsaName(isa)) << " batch " << batch << " threads " << threads << " kv " << kv);
          CHECK(SameBits(s.Logits(), want));
        }
      }
    }
  }
  }
}

TEST_CASE("sessions on two threads share the app's pthreadpool, which outlives them untouched") {
  Model m(convert::Quant::kNone);
  const std::vector<int32_t> prompt = Prompt(23);
  edgeformer_session_params base = edgeformer_session_default_params();
  base.backend = EDGEFORMER_BACKEND_NATIVE;
  std::vector<float> want;
  {
    Session ref(m.model, base);
    REQUIRE(edgeformer_session_prefill(ref.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
    want = ref.Logits();
  }
  pthreadpool_t pool = pthreadpool_create(2);
  REQUIRE(pool != nullptr);
  for (edgeformer_backend backend : {EDGEFORMER_BACKEND_NATIVE, EDGEFORMER_BACKEND_XNNPACK}) {
    edgeformer_session_params p = base;
    p.threadpool = pool;
    p.n_threads = 7;  // ignored: the pool decides
    p.backend = backend;
    edgeformer_session* probe = nullptr;
    if (edgeformer_session_create(m.model, &p, &probe) == EDGEFORMER_UNSUPPORTED) {
      MESSAGE("skipped the XNNPACK backend: " << edgeformer_last_error());
      continue;
    }
    edgeformer_session_destroy(probe);
    Session a(m.model, p), b(m.model, p);
    edgeformer_session_info info;
    REQUIRE(edgeformer_session_get_info(a.s, &info) == EDGEFORMER_OK);
    CHECK(info.n_threads == 2);
    // Each thread prefills its session three times over; assertions stay on this thread.
    edgeformer_status status[2] = {EDGEFORMER_OK, EDGEFORMER_OK};
    auto work = [&](const Session& sess, edgeformer_status* st) {
      for (int i = 0; i < 3 && *st == EDGEFORMER_OK; ++i) {
        edgeformer_session_reset(sess.s);
        *st = edgeformer_session_prefill(sess.s, prompt.data(), prompt.size());
      }
    };
    std::thread other(work, std::cref(b), &status[1]);
    work(a, &status[0]);
    other.join();
    CHECK(status[0] == EDGEFORMER_OK);
    CHECK(status[1] == EDGEFORMER_OK);
    const std::vector<float> got[2] = {a.Logits(), b.Logits()};
    INFO("backend " << backend);
    if (backend == EDGEFORMER_BACKEND_NATIVE) {
      CHECK(SameBits(got[0], want));
      CHECK(SameBits(got[1], want));
    } else {
      CHECK(SameBits(got[0], got[1]));
    }
  }
  // Still the app's: it runs work after the sessions are gone, and is destroyed once, here.
  // A static atomic, never touched non-atomically: libpthreadpool is not instrumented, so a stack
  // slot the main thread wrote earlier would look to ThreadSanitizer like a race with the workers.
  static std::atomic<size_t> sum{0};
  sum.store(0);
  pthreadpool_parallelize_1d(
      pool, [](void* ctx, size_t i) { static_cast<std::atomic<size_t>*>(ctx)->fetch_add(i, std::memory_order_relaxed); },
      &sum, 100, 0);
  CHECK(sum.load() == 4950);
  pthreadpool_destroy(pool);
}

namespace {

// A session with an f32 cache against one with `kv`, on the same model and prompt: the bytes the
// other cache saves, and the largest logit change against the largest logit.
struct KvAgainstF32 {
  uint64_t saved_bytes = 0;
  float max_diff = 0.0f, max_abs = 0.0f;
  edgeformer_model_info model{};
  uint64_t slots = 0;  // the context length
};

KvAgainstF32 CompareKv(const Model& m, edgeformer_kv_type kv) {
  KvAgainstF32 r;
  const std::vector<int32_t> prompt = Prompt(40);
  edgeformer_session_params p = edgeformer_session_default_params();
  Session f32(m.model, p);
  p.kv_type = kv;
  Session other(m.model, p);
  REQUIRE(edgeformer_model_get_info(m.model, &r.model) == EDGEFORMER_OK);
  edgeformer_session_info a, b;
  REQUIRE(edgeformer_session_get_info(f32.s, &a) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_get_info(other.s, &b) == EDGEFORMER_OK);
  r.saved_bytes = a.allocated_bytes - b.allocated_bytes;
  r.slots = a.context_length;
  REQUIRE(edgeformer_session_prefill(f32.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_prefill(other.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  const std::vector<float> x = f32.Logits(), y = other.Logits();
  for (size_t i = 0; i < x.size(); ++i) {
    r.max_abs = std::max(r.max_abs, std::fabs(x[i]));
    r.max_diff = std::max(r.max_diff, std::fabs(x[i] - y[i]));
  }
  return r;
}

}  // namespace

TEST_CASE("an f16 KV cache takes half the memory and stays close to f32") {
  Model m(convert::Quant::kInt8);
  const KvAgainstF32 r = CompareKv(m, EDGEFORMER_KV_F16);
  const edgeformer_model_info& mi = r.model;
  const uint64_t cache_f32 = uint64_t{2} * mi.n_layers * r.slots * mi.n_kv_heads * mi.head_dim * 4;
  CHECK(r.saved_bytes == cache_f32 / 2);
  // Half precision keeps 11 significant bits: the logits move by far less than their range, but
  // they do move (the cache really is rounded).
  CHECK(r.max_diff > 0.0f);
  CHECK(r.max_diff < 0.01f * r.max_abs);
  edgeformer_session_params p = edgeformer_session_default_params();
  p.kv_type = static_cast<edgeformer_kv_type>(7);
  edgeformer_session* none = nullptr;
  CHECK(edgeformer_session_create(m.model, &p, &none) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(std::string(edgeformer_last_error()).find("kv_type") != std::string::npos);
  CHECK(none == nullptr);
}

// int8 keys and values with a scale per position and kv head (ops::StoreKv): a quarter of f32's
// bytes plus the scales, each part aligned to 64 bytes; the logits stay close to the f32 cache's.
TEST_CASE("an int8 KV cache takes a quarter of the memory plus its scales and stays close to f32") {
  Model m(convert::Quant::kInt8);
  const KvAgainstF32 r = CompareKv(m, EDGEFORMER_KV_I8);
  const edgeformer_model_info& mi = r.model;
  auto align64 = [](uint64_t bytes) { return (bytes + 63) / 64 * 64; };
  const uint64_t kv_dim = uint64_t{mi.n_kv_heads} * mi.head_dim;
  const uint64_t cache_f32 = uint64_t{2} * mi.n_layers * align64(r.slots * kv_dim * 4);
  const uint64_t cache_i8 = uint64_t{2} * mi.n_layers * (align64(r.slots * kv_dim) + align64(r.slots * mi.n_kv_heads * 4));
  CHECK(r.saved_bytes == cache_f32 - cache_i8);
  MESSAGE("int8 KV: largest logit change " << r.max_diff << " of a largest logit " << r.max_abs);
  CHECK(r.max_diff > 0.0f);
  CHECK(r.max_diff < 0.05f * r.max_abs);
}

TEST_CASE("sessions on one model are independent; reset starts over") {
  Model m(convert::Quant::kInt8);
  const std::vector<int32_t> p1 = Prompt(7), p2 = Prompt(12);
  Session solo(m.model);
  REQUIRE(edgeformer_session_prefill(solo.s, p1.data(), p1.size()) == EDGEFORMER_OK);
  std::vector<int32_t> solo_out;
  const edgeformer_generate_params g = Greedy(12);
  REQUIRE(edgeformer_generate(solo.s, &g, &Collect, &solo_out, nullptr, nullptr) == EDGEFORMER_OK);

  Session a(m.model), b(m.model);
  std::vector<int32_t> a_out, b_out;
  REQUIRE(edgeformer_session_prefill(a.s, p1.data(), p1.size()) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_prefill(b.s, p2.data(), p2.size()) == EDGEFORMER_OK);
  const edgeformer_generate_params g6 = Greedy(6);
  for (int round = 0; round < 2; ++round) {
    REQUIRE(edgeformer_generate(a.s, &g6, &Collect, &a_out, nullptr, nullptr) == EDGEFORMER_OK);
    REQUIRE(edgeformer_generate(b.s, &g6, &Collect, &b_out, nullptr, nullptr) == EDGEFORMER_OK);
  }
  // Two calls of 6 continue exactly like one call of 12 (the pending token is fed in between).
  CHECK(a_out == solo_out);

  edgeformer_session_reset(a.s);
  CHECK(edgeformer_session_position(a.s) == 0);
  REQUIRE(edgeformer_session_prefill(a.s, p1.data(), p1.size()) == EDGEFORMER_OK);
  std::vector<int32_t> again;
  REQUIRE(edgeformer_generate(a.s, &g, &Collect, &again, nullptr, nullptr) == EDGEFORMER_OK);
  CHECK(again == solo_out);
}

TEST_CASE("a model converted without a tokenizer takes token ids only") {
  test::TempDir dir;
  const convert::Llama2cConfig c = convert::Llama2cShape(32, 48, 1, 2, 1, 300, 16);
  const std::string bin = dir.path("m.bin");
  REQUIRE(convert::WriteSyntheticLlama2c(c, 5, bin, "").ok());
  const std::string path = test::Convert(dir, bin, "", convert::Quant::kInt8, "ids-only");
  edgeformer_model* model = nullptr;
  REQUIRE(edgeformer_model_load(path.c_str(), nullptr, &model) == EDGEFORMER_OK);
  int32_t ids[8];
  size_t n = 0;
  CHECK(edgeformer_tokenize(model, "hi", 2, 1, ids, 8, &n) == EDGEFORMER_UNSUPPORTED);
  CHECK(std::string(edgeformer_last_error()).find("no tokenizer") != std::string::npos);
  const char* piece = nullptr;
  size_t len = 1;
  CHECK(edgeformer_token_piece(model, -1, 42, &piece, &len) == EDGEFORMER_OK);
  CHECK(len == 0);
  {
    Session s(model);
    const std::vector<int32_t> prompt = Prompt(5);
    REQUIRE(edgeformer_session_prefill(s.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
    std::vector<int32_t> out;
    const edgeformer_generate_params g = Greedy(4);
    CHECK(edgeformer_generate(s.s, &g, &Collect, &out, nullptr, nullptr) == EDGEFORMER_OK);
    CHECK(out.size() == 4);
  }
  edgeformer_model_destroy(model);
}

TEST_CASE("prefill with logits gives every position's logits, the last equal to plain prefill's") {
  Model m(convert::Quant::kInt8);
  const std::vector<int32_t> prompt = Prompt(19);
  edgeformer_session_params p = edgeformer_session_default_params();
  p.max_batch = 8;  // several chunks
  Session all(m.model, p), step(m.model, p);
  edgeformer_model_info info;
  REQUIRE(edgeformer_model_get_info(m.model, &info) == EDGEFORMER_OK);
  std::vector<float> logits(prompt.size() * info.vocab_size);
  CHECK(edgeformer_session_prefill_logits(all.s, prompt.data(), prompt.size(), logits.data(), 10) ==
        EDGEFORMER_INVALID_ARGUMENT);
  REQUIRE(edgeformer_session_prefill_logits(all.s, prompt.data(), prompt.size(), logits.data(), logits.size()) ==
          EDGEFORMER_OK);
  for (size_t i = 0; i < prompt.size(); ++i) {
    REQUIRE(edgeformer_session_prefill(step.s, &prompt[i], 1) == EDGEFORMER_OK);
    const std::vector<float> want = step.Logits();
    const std::vector<float> got(logits.begin() + i * info.vocab_size, logits.begin() + (i + 1) * info.vocab_size);
    INFO("position " << i);
    CHECK(SameBits(got, want));
  }
  CHECK(SameBits(all.Logits(), step.Logits()));
}

TEST_CASE("the callback can stop generation") {
  Model m(convert::Quant::kInt8);
  Session s(m.model);
  const std::vector<int32_t> prompt = Prompt(3);
  REQUIRE(edgeformer_session_prefill(s.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  int calls = 0;
  auto stop_after_3 = [](void* user, int32_t, const char*, size_t) -> int { return ++*static_cast<int*>(user) < 3; };
  size_t n = 0;
  edgeformer_stop_reason reason = EDGEFORMER_STOP_MAX_TOKENS;
  const edgeformer_generate_params g = Greedy(20);
  REQUIRE(edgeformer_generate(s.s, &g, stop_after_3, &calls, &n, &reason) == EDGEFORMER_OK);
  CHECK(calls == 3);
  CHECK(n == 3);
  CHECK(reason == EDGEFORMER_STOP_CALLBACK);
}

TEST_CASE("truncate keeps the start of the context: the same logits as a fresh prefill of it") {
  Model m(convert::Quant::kInt8);
  const std::vector<int32_t> a = Prompt(20), b = Prompt(31);
  const std::vector<int32_t> c(b.begin() + 20, b.end());  // 11 tokens unlike a's end
  std::vector<int32_t> a_then_c = a;
  a_then_c.insert(a_then_c.end(), c.begin(), c.end());
  Session fresh(m.model);
  REQUIRE(edgeformer_session_prefill(fresh.s, a_then_c.data(), a_then_c.size()) == EDGEFORMER_OK);

  Session s(m.model);
  REQUIRE(edgeformer_session_prefill(s.s, a.data(), a.size()) == EDGEFORMER_OK);
  edgeformer_generate_params g = Greedy(7);
  REQUIRE(edgeformer_generate(s.s, &g, nullptr, nullptr, nullptr, nullptr) == EDGEFORMER_OK);
  CHECK(edgeformer_session_position(s.s) == a.size() + 6);  // the 7th waits for the next call
  CHECK(edgeformer_session_truncate(s.s, static_cast<uint32_t>(a.size() + 7)) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(std::string(edgeformer_last_error()).find("cannot keep 27 tokens: the KV cache holds 26") != std::string::npos);
  REQUIRE(edgeformer_session_truncate(s.s, static_cast<uint32_t>(a.size())) == EDGEFORMER_OK);
  CHECK(edgeformer_session_position(s.s) == a.size());
  const float* logits = nullptr;
  size_t n = 0;
  CHECK(edgeformer_session_logits(s.s, &logits, &n) == EDGEFORMER_INVALID_ARGUMENT);  // forgotten
  CHECK(edgeformer_generate(s.s, &g, nullptr, nullptr, nullptr, nullptr) == EDGEFORMER_INVALID_ARGUMENT);
  REQUIRE(edgeformer_session_prefill(s.s, c.data(), c.size()) == EDGEFORMER_OK);
  CHECK(SameBits(s.Logits(), fresh.Logits()));
  CHECK(edgeformer_session_truncate(nullptr, 0) == EDGEFORMER_INVALID_ARGUMENT);
}

TEST_CASE("cancel stops generate at the next token and prefill with the context unchanged") {
  Model m(convert::Quant::kInt8);
  const std::vector<int32_t> prompt = Prompt(12);
  Session s(m.model);
  // From the callback (the same thread): the token in hand is delivered, then generation stops.
  REQUIRE(edgeformer_session_prefill(s.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  struct Ctx {
    edgeformer_session* s;
    int seen;
  } ctx{s.s, 0};
  edgeformer_generate_params g = Greedy(50);
  size_t n = 0;
  edgeformer_stop_reason why = EDGEFORMER_STOP_MAX_TOKENS;
  REQUIRE(edgeformer_generate(s.s, &g, [](void* u, int32_t, const char*, size_t) {
    auto* c = static_cast<Ctx*>(u);
    if (++c->seen == 3) edgeformer_session_cancel(c->s);
    return 1;
  }, &ctx, &n, &why) == EDGEFORMER_OK);
  CHECK(why == EDGEFORMER_STOP_CANCELLED);
  CHECK(n == 3);
  // A request made between calls is dropped: the next generate runs to max_tokens.
  edgeformer_session_cancel(s.s);
  g.max_tokens = 4;
  REQUIRE(edgeformer_generate(s.s, &g, nullptr, nullptr, &n, &why) == EDGEFORMER_OK);
  CHECK(why == EDGEFORMER_STOP_MAX_TOKENS);
  CHECK(n == 4);

  // From another thread, during a long prefill of one token per step: refused with CANCELLED,
  // and the context is as before (a later prefill gives a fresh session's logits).
  edgeformer_session_params p = edgeformer_session_default_params();
  p.max_batch = 1;
  Session t(m.model, p), fresh(m.model, p);
  const std::vector<int32_t> longer = Prompt(34);  // 34 steps; the context holds 48
  REQUIRE(edgeformer_session_prefill(t.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_prefill(fresh.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  bool cancelled = false;
  // The canceller must run while a prefill does: on a loaded machine that can take many tries
  // (each a fraction of a millisecond), so the bound is generous.
  for (int attempt = 0; attempt < 5000 && !cancelled; ++attempt) {
    std::atomic<bool> done{false};
    std::atomic<int> sent{0};
    std::thread canceller([&] {
      while (!done.load()) {
        edgeformer_session_cancel(t.s);
        sent.fetch_add(1);
      }
    });
    while (sent.load() == 0) std::this_thread::yield();
    const edgeformer_status st = edgeformer_session_prefill(t.s, longer.data(), longer.size());
    done.store(true);
    canceller.join();
    if (st == EDGEFORMER_OK) {
      edgeformer_session_truncate(t.s, static_cast<uint32_t>(prompt.size()));
      continue;
    }
    CHECK(st == EDGEFORMER_CANCELLED);
    cancelled = true;
  }
  REQUIRE(cancelled);
  CHECK(edgeformer_session_position(t.s) == prompt.size());
  const std::vector<int32_t> more = Prompt(9);
  REQUIRE(edgeformer_session_prefill(t.s, more.data(), more.size()) == EDGEFORMER_OK);
  REQUIRE(edgeformer_session_prefill(fresh.s, more.data(), more.size()) == EDGEFORMER_OK);
  CHECK(SameBits(t.Logits(), fresh.Logits()));
  edgeformer_session_cancel(nullptr);  // harmless
}

TEST_CASE("memory budgets: a model or session plan over its budget is refused before allocating") {
  test::TempDir dir;
  const std::string path = test::MakeSyntheticModel(dir, convert::Quant::kInt8);
  const uint64_t file_bytes = test::ReadFile(path).size();
  edgeformer_model_params mp = edgeformer_model_default_params();
  edgeformer_model* model = nullptr;
  mp.memory_budget = file_bytes - 1;
  CHECK(edgeformer_model_load(path.c_str(), &mp, &model) == EDGEFORMER_OUT_OF_MEMORY);
  CHECK(std::string(edgeformer_last_error()).find("exceed its memory budget") != std::string::npos);
  CHECK(model == nullptr);
  mp.memory_budget = file_bytes;
  REQUIRE(edgeformer_model_load(path.c_str(), &mp, &model) == EDGEFORMER_OK);

  edgeformer_session_params p = edgeformer_session_default_params();
  uint64_t needed = 0;
  {
    Session s(model, p);
    edgeformer_session_info info;
    REQUIRE(edgeformer_session_get_info(s.s, &info) == EDGEFORMER_OK);
    needed = info.allocated_bytes;
  }
  edgeformer_session* s = nullptr;
  p.memory_budget = needed - 1;
  CHECK(edgeformer_session_create(model, &p, &s) == EDGEFORMER_OUT_OF_MEMORY);
  CHECK(std::string(edgeformer_last_error()).find("memory budget") != std::string::npos);
  CHECK(s == nullptr);
  p.memory_budget = needed;
  REQUIRE(edgeformer_session_create(model, &p, &s) == EDGEFORMER_OK);
  edgeformer_session_destroy(s);
  // The f16 cache halves the KV part, so it fits where the f32 one did not.
  p.memory_budget = needed - 1;
  p.kv_type = EDGEFORMER_KV_F16;
  REQUIRE(edgeformer_session_create(model, &p, &s) == EDGEFORMER_OK);
  edgeformer_session_destroy(s);
  edgeformer_model_destroy(model);
}

// Run under ThreadSanitizer in CI: one model, four sessions, four threads at once (each session
// with one worker thread, and one with two), each generating what it generates alone.
TEST_CASE("sessions on one model in several threads at once give their single-threaded tokens") {
  for (convert::Quant quant : {convert::Quant::kInt8, convert::Quant::kF16}) {
    Model m(quant);
    constexpr int kThreads = 4;
    std::vector<int32_t> want[kThreads], got[kThreads];
    auto run = [&](int i, std::vector<int32_t>* out, edgeformer_status* st) {
      edgeformer_session_params p = edgeformer_session_default_params();
      p.n_threads = i == 3 ? 2 : 1;
      p.backend = EDGEFORMER_BACKEND_NATIVE;
      edgeformer_session* s = nullptr;
      *st = edgeformer_session_create(m.model, &p, &s);
      if (*st != EDGEFORMER_OK) return;
      const std::vector<int32_t> prompt = Prompt(5 + 3 * i);
      *st = edgeformer_session_prefill(s, prompt.data(), prompt.size());
      edgeformer_generate_params g = Greedy(10);
      if (*st == EDGEFORMER_OK) *st = edgeformer_generate(s, &g, &Collect, out, nullptr, nullptr);
      edgeformer_session_destroy(s);
    };
    edgeformer_status st[kThreads];
    for (int i = 0; i < kThreads; ++i) {
      run(i, &want[i], &st[i]);
      REQUIRE(st[i] == EDGEFORMER_OK);
    }
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) threads.emplace_back(run, i, &got[i], &st[i]);
    for (std::thread& t : threads) t.join();
    for (int i = 0; i < kThreads; ++i) {
      INFO("session " << i);
      CHECK(st[i] == EDGEFORMER_OK);
      CHECK(got[i] == want[i]);
    }
  }
}

}  // namespace edgeformer
