// API misuse and lifetimes, as an app (or a garbage-collected binding) commits them: paths that
// are not regular files, destroy calls in any order, calls from a token callback into its own
// session and from a second thread, cancel leaving the session exactly as it was, failures that
// must be reported (XNNPACK), and the promises of the header (pieces, stop reasons, version).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cmath>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "edgeformer.h"
#include "ops/xnn_linear.h"
#include "tests/test_support.h"

namespace edgeformer {
namespace {

using test::Greedy;

std::vector<int32_t> Prompt(size_t n, int salt = 0) {
  std::vector<int32_t> p;
  for (size_t i = 0; i < n; ++i) p.push_back(static_cast<int32_t>(1 + (i * 37 + salt * 11) % 299));
  return p;
}

int Collect(void* user, int32_t token, const char*, size_t) {
  static_cast<std::vector<int32_t>*>(user)->push_back(token);
  return 1;
}

edgeformer_model* Load(const std::string& path) {
  edgeformer_model* m = nullptr;
  const edgeformer_status st = edgeformer_model_load(path.c_str(), nullptr, &m);
  INFO(edgeformer_last_error());
  REQUIRE(st == EDGEFORMER_OK);
  return m;
}

edgeformer_session* NewSession(edgeformer_model* m, edgeformer_session_params p = edgeformer_session_default_params()) {
  edgeformer_session* s = nullptr;
  const edgeformer_status st = edgeformer_session_create(m, &p, &s);
  INFO(edgeformer_last_error());
  REQUIRE(st == EDGEFORMER_OK);
  return s;
}

std::vector<int32_t> GreedyTokens(edgeformer_session* s, const std::vector<int32_t>& prompt, uint32_t n) {
  REQUIRE(edgeformer_session_prefill(s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  std::vector<int32_t> out;
  edgeformer_generate_params g = Greedy(n);
  REQUIRE(edgeformer_generate(s, &g, &Collect, &out, nullptr, nullptr) == EDGEFORMER_OK);
  return out;
}

// Everything observable of a session's state: position, the last token, logits (bits).
struct State {
  uint32_t position = 0;
  bool has_logits = false;
  std::vector<float> logits;
  bool operator==(const State& o) const {
    return position == o.position && has_logits == o.has_logits && logits.size() == o.logits.size() &&
           std::memcmp(logits.data(), o.logits.data(), logits.size() * sizeof(float)) == 0;
  }
};

State StateOf(const edgeformer_session* s) {
  State st;
  st.position = edgeformer_session_position(s);
  const float* l = nullptr;
  size_t n = 0;
  st.has_logits = edgeformer_session_logits(s, &l, &n) == EDGEFORMER_OK;
  if (st.has_logits) st.logits.assign(l, l + n);
  return st;
}

// Runs `call` while another thread keeps cancelling the session *s, until a call is cancelled
// (each try undone with `undo`, which may replace *s, when it ran to the end). The canceller can
// only land while a call runs.
template <typename Call, typename Undo>
edgeformer_status CancelDuring(edgeformer_session* const* s, Call call, Undo undo) {
  for (int attempt = 0; attempt < 5000; ++attempt) {
    std::atomic<bool> done{false};
    std::atomic<int> sent{0};
    edgeformer_session* const target = *s;
    std::thread canceller([&] {
      while (!done.load()) {
        edgeformer_session_cancel(target);
        sent.fetch_add(1);
      }
    });
    while (sent.load() == 0) std::this_thread::yield();
    const edgeformer_status st = call();
    done.store(true);
    canceller.join();
    if (st != EDGEFORMER_OK) return st;
    undo();
  }
  return EDGEFORMER_OK;
}

// Opens a FIFO for writing without blocking once a reader has it open, releasing a reader that
// (wrongly) waits in open().
void ReleaseFifo(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
  if (fd >= 0) ::close(fd);
}

}  // namespace

TEST_CASE("a FIFO, a directory or a device as a path is refused at once, never waited on") {
  test::TempDir dir;
  const std::string fifo = dir.path("model.edgf");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  for (const std::string& path : {fifo, dir.path(""), std::string("/dev/zero")}) {
    CAPTURE(path);
    auto loading = std::async(std::launch::async, [&] {
      edgeformer_model* m = nullptr;
      const edgeformer_status st = edgeformer_model_load(path.c_str(), nullptr, &m);
      return std::make_pair(st, std::string(edgeformer_last_error()));
    });
    const bool finished = loading.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
    if (!finished) ReleaseFifo(path);
    REQUIRE(finished);
    const auto [st, message] = loading.get();
    CHECK(st == EDGEFORMER_IO_ERROR);
    CHECK(message.find("is not a regular file") != std::string::npos);
  }

  // The converter's readers: a llama2.c checkpoint or tokenizer, a Hugging Face directory whose
  // config.json, tokenizer.json or safetensors is a FIFO, a GGUF file.
  const std::string model = test::MakeSyntheticModel(dir, convert::Quant::kInt8);
  const std::string bin = dir.path("synthetic.bin"), tok = dir.path("synthetic.tok");
  test::TempDir hf;
  for (const char* name : {"config.json", "tokenizer.json", "model.safetensors"}) REQUIRE(::mkfifo(hf.path(name).c_str(), 0600) == 0);
  struct Case {
    std::string checkpoint, tokenizer;
    Error (*convert)(const convert::ConvertOptions&);
    std::string fifo;
  } cases[] = {
      {fifo, tok, &convert::ConvertLlama2c, fifo},
      {bin, fifo, &convert::ConvertLlama2c, fifo},
      {hf.path(""), "", &convert::ConvertHf, hf.path("config.json")},
      {fifo, "", &convert::ConvertGguf, fifo},
  };
  for (const Case& c : cases) {
    CAPTURE(c.checkpoint);
    CAPTURE(c.tokenizer);
    convert::ConvertOptions o;
    o.checkpoint = c.checkpoint;
    o.tokenizer = c.tokenizer;
    o.output = dir.path("out.edgf");
    auto converting = std::async(std::launch::async, [&] { return c.convert(o); });
    const bool finished = converting.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
    if (!finished) ReleaseFifo(c.fifo);
    REQUIRE(finished);
    const Error err = converting.get();
    CHECK(err.status() == Status::kIoError);
    CHECK(err.message().find("is not a regular file (it is a FIFO)") != std::string::npos);
  }
}

TEST_CASE("the model lives until its last session: destroy calls in any order") {
  test::TempDir dir;
  const std::string path = test::MakeSyntheticModel(dir, convert::Quant::kInt8);
  const std::vector<int32_t> prompt = Prompt(9);
  edgeformer_model* reference_model = Load(path);
  edgeformer_session* reference = NewSession(reference_model);
  const std::vector<int32_t> expected = GreedyTokens(reference, prompt, 12);
  edgeformer_session_destroy(reference);
  edgeformer_model_destroy(reference_model);

  // Model first, then its sessions (a finalizer order a garbage collector may pick): the
  // sessions keep working, and give the same tokens.
  edgeformer_model* m = Load(path);
  edgeformer_session* a = NewSession(m);
  edgeformer_session* b = NewSession(m);
  edgeformer_model_destroy(m);
  CHECK(GreedyTokens(a, prompt, 12) == expected);
  edgeformer_session_destroy(a);
  CHECK(GreedyTokens(b, prompt, 12) == expected);  // the model outlived a's reference
  edgeformer_session_destroy(b);

  // Interleaved: a session, the model, a session made before it, on another thread.
  m = Load(path);
  a = NewSession(m);
  b = NewSession(m);
  edgeformer_session_destroy(a);
  std::thread other([&] { CHECK(GreedyTokens(b, prompt, 12) == expected); });
  edgeformer_model_destroy(m);
  other.join();
  edgeformer_session_destroy(b);
  // (AddressSanitizer, in CI, reports any use after free or leak of the orders above.)
}

namespace {

struct Reentry {
  edgeformer_session* s = nullptr;
  int tokens = 0;
  std::vector<edgeformer_status> statuses;
  bool destroy = false;
};

int CallBack(void* user, int32_t token, const char* piece, size_t) {
  auto* r = static_cast<Reentry*>(user);
  ++r->tokens;
  CHECK(piece != nullptr);
  if (r->destroy) {
    if (r->tokens == 2) edgeformer_session_destroy(r->s);
    return 1;
  }
  if (r->tokens == 2) {
    const int32_t ids[2] = {token, 1};
    float logits[2 * 300];
    edgeformer_generate_params g = Greedy(3);
    r->statuses.push_back(edgeformer_session_reset(r->s));
    r->statuses.push_back(edgeformer_session_prefill(r->s, ids, 2));
    r->statuses.push_back(edgeformer_session_prefill_logits(r->s, ids, 2, logits, 600));
    r->statuses.push_back(edgeformer_session_truncate(r->s, 0));
    size_t n = 99;
    edgeformer_stop_reason why = EDGEFORMER_STOP_MAX_TOKENS;
    r->statuses.push_back(edgeformer_generate(r->s, &g, nullptr, nullptr, &n, &why));
    CHECK(n == 0);
    CHECK(why == EDGEFORMER_STOP_ERROR);
    // The read-only queries are allowed, and see the session as it is.
    CHECK(edgeformer_session_position(r->s) > 0);
    const float* l = nullptr;
    size_t vocab = 0;
    CHECK(edgeformer_session_logits(r->s, &l, &vocab) == EDGEFORMER_OK);
    edgeformer_session_info info;
    CHECK(edgeformer_session_get_info(r->s, &info) == EDGEFORMER_OK);
  }
  return 1;
}

}  // namespace

TEST_CASE("calls from a token callback into its own session: BUSY, or a deferred destroy") {
  test::TempDir dir;
  edgeformer_model* m = Load(test::MakeSyntheticModel(dir, convert::Quant::kInt8));
  const std::vector<int32_t> prompt = Prompt(7);
  edgeformer_session* plain = NewSession(m);
  const std::vector<int32_t> expected = GreedyTokens(plain, prompt, 6);
  edgeformer_session_destroy(plain);

  // Every state-changing call is refused with BUSY and changes nothing: generation goes on and
  // gives the tokens it would have given.
  Reentry r;
  r.s = NewSession(m);
  REQUIRE(edgeformer_session_prefill(r.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  std::vector<int32_t> got;
  edgeformer_generate_params g = Greedy(6);
  size_t n = 0;
  edgeformer_stop_reason why = EDGEFORMER_STOP_ERROR;
  REQUIRE(edgeformer_generate(r.s, &g, &CallBack, &r, &n, &why) == EDGEFORMER_OK);
  CHECK(n == 6);
  CHECK(why == EDGEFORMER_STOP_MAX_TOKENS);
  REQUIRE(r.statuses.size() == 5);
  for (const edgeformer_status st : r.statuses) CHECK(st == EDGEFORMER_BUSY);
  // After the call, the session is usable again.
  CHECK(edgeformer_session_reset(r.s) == EDGEFORMER_OK);
  CHECK(GreedyTokens(r.s, prompt, 6) == expected);
  edgeformer_session_destroy(r.s);

  // Destroy from the callback: generation stops after that token, the session is freed as
  // generate returns (AddressSanitizer checks no use after free, no leak).
  Reentry d;
  d.destroy = true;
  d.s = NewSession(m);
  REQUIRE(edgeformer_session_prefill(d.s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  REQUIRE(edgeformer_generate(d.s, &g, &CallBack, &d, &n, &why) == EDGEFORMER_OK);
  CHECK(d.tokens == 2);
  CHECK(n == 2);
  CHECK(why == EDGEFORMER_STOP_CANCELLED);
  // And the model handle can go before or after: here after.
  edgeformer_model_destroy(m);
}

TEST_CASE("a second thread calling into a busy session gets BUSY; destroy from it is deferred") {
  test::TempDir dir;
  edgeformer_model* m = Load(test::MakeSyntheticModel(dir, convert::Quant::kInt8));
  edgeformer_session* s = NewSession(m);
  const std::vector<int32_t> prompt = Prompt(5);
  REQUIRE(edgeformer_session_prefill(s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  struct Gate {
    std::atomic<int> phase{0};
  } gate;
  // The callback holds the session in a call until the other thread has tried.
  auto hold = [](void* user, int32_t, const char*, size_t) -> int {
    auto* gt = static_cast<Gate*>(user);
    if (gt->phase.load() == 0) {
      gt->phase.store(1);
      while (gt->phase.load() != 2) std::this_thread::yield();
    }
    return 1;
  };
  std::thread other([&] {
    while (gate.phase.load() != 1) std::this_thread::yield();
    const int32_t id = 3;
    CHECK(edgeformer_session_prefill(s, &id, 1) == EDGEFORMER_BUSY);
    CHECK(std::string(edgeformer_last_error()).find("in use") != std::string::npos);
    CHECK(edgeformer_session_reset(s) == EDGEFORMER_BUSY);
    edgeformer_session_destroy(s);  // deferred to the end of the running generate
    gate.phase.store(2);
  });
  edgeformer_generate_params g = Greedy(40);
  size_t n = 0;
  edgeformer_stop_reason why = EDGEFORMER_STOP_ERROR;
  CHECK(edgeformer_generate(s, &g, hold, &gate, &n, &why) == EDGEFORMER_OK);
  other.join();
  CHECK(n == 1);
  CHECK(why == EDGEFORMER_STOP_CANCELLED);
  edgeformer_model_destroy(m);
}

TEST_CASE("cancel leaves the session exactly as before the call: prefill and prefill_logits") {
  test::TempDir dir;
  edgeformer_model* m = Load(test::MakeSyntheticModel(dir, convert::Quant::kInt8));
  edgeformer_session_params p = edgeformer_session_default_params();
  p.max_batch = 1;  // many steps, so the cancel lands midway
  const std::vector<int32_t> prompt = Prompt(6), longer = Prompt(30, 1), more = Prompt(4, 2);
  for (const bool pending : {false, true}) {
    for (const bool with_logits : {false, true}) {
      CAPTURE(pending);
      CAPTURE(with_logits);
      auto setup = [&](edgeformer_session* x) {
        REQUIRE(edgeformer_session_prefill(x, prompt.data(), prompt.size()) == EDGEFORMER_OK);
        if (pending) {  // a generated token waits to enter the cache
          edgeformer_generate_params g = Greedy(2);
          REQUIRE(edgeformer_generate(x, &g, nullptr, nullptr, nullptr, nullptr) == EDGEFORMER_OK);
        }
      };
      edgeformer_session* s = NewSession(m, p);
      edgeformer_session* fresh = NewSession(m, p);
      setup(s);
      setup(fresh);
      const State before = StateOf(s);
      REQUIRE(before.has_logits);
      std::vector<float> rows(longer.size() * 300);
      const edgeformer_status st = CancelDuring(
          &s,
          [&] {
            return with_logits ? edgeformer_session_prefill_logits(s, longer.data(), longer.size(), rows.data(), rows.size())
                               : edgeformer_session_prefill(s, longer.data(), longer.size());
          },
          [&] {  // ran to the end before a cancel landed: start again from the same state
            edgeformer_session_destroy(s);
            s = NewSession(m, p);
            setup(s);
          });
      REQUIRE(st == EDGEFORMER_CANCELLED);
      CHECK(StateOf(s) == before);
      // Generation continues as if the cancelled call never happened.
      std::vector<int32_t> a, b;
      edgeformer_generate_params g = Greedy(5);
      REQUIRE(edgeformer_generate(s, &g, &Collect, &a, nullptr, nullptr) == EDGEFORMER_OK);
      REQUIRE(edgeformer_generate(fresh, &g, &Collect, &b, nullptr, nullptr) == EDGEFORMER_OK);
      CHECK(a == b);
      REQUIRE(edgeformer_session_prefill(s, more.data(), more.size()) == EDGEFORMER_OK);
      REQUIRE(edgeformer_session_prefill(fresh, more.data(), more.size()) == EDGEFORMER_OK);
      CHECK(StateOf(s) == StateOf(fresh));
      edgeformer_session_destroy(s);
      edgeformer_session_destroy(fresh);
    }
  }
  edgeformer_model_destroy(m);
}

TEST_CASE("an XNNPACK failure is reported (INTERNAL), not rerun natively, and changes nothing") {
  if (!ops::XnnAvailable()) return;
  test::TempDir dir;
  edgeformer_model* m = Load(test::MakeSyntheticModel(dir, convert::Quant::kNone));
  edgeformer_session_params p = edgeformer_session_default_params();
  p.backend = EDGEFORMER_BACKEND_XNNPACK;
  edgeformer_session* s = NewSession(m, p);
  const std::vector<int32_t> prompt = Prompt(8), more = Prompt(5, 3);
  REQUIRE(edgeformer_session_prefill(s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  const State before = StateOf(s);
  ops::FailXnnRunsForTesting(true);
  CHECK(edgeformer_session_prefill(s, more.data(), more.size()) == EDGEFORMER_INTERNAL);
  CHECK(std::string(edgeformer_last_error()).find("XNNPACK") != std::string::npos);
  CHECK(StateOf(s) == before);
  edgeformer_generate_params g = Greedy(3);
  size_t n = 9;
  edgeformer_stop_reason why = EDGEFORMER_STOP_MAX_TOKENS;
  CHECK(edgeformer_generate(s, &g, nullptr, nullptr, &n, &why) == EDGEFORMER_INTERNAL);
  CHECK(why == EDGEFORMER_STOP_ERROR);
  CHECK(n == 1);  // the first token comes from the logits in hand; the second needs a pass
  ops::FailXnnRunsForTesting(false);
  // The failed step's token stays pending: generation resumes where it stopped.
  CHECK(edgeformer_generate(s, &g, nullptr, nullptr, &n, &why) == EDGEFORMER_OK);
  CHECK(n == 3);
  edgeformer_session_destroy(s);
  edgeformer_model_destroy(m);
}

TEST_CASE("Result: an Ok error makes a failed result with a message; value() of a failure aborts loudly") {
  const Result<int> odd{Error::Ok()};
  CHECK_FALSE(odd.ok());
  CHECK(odd.error().status() == Status::kInternal);
  CHECK(odd.error().message().find("ok status") != std::string::npos);
  const Result<int> good{7};
  CHECK(good.ok());
  CHECK(good.value() == 7);
  // A death test: the child reads the value of a failure and must abort with a message.
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGABRT, SIG_DFL);  // not doctest's crash report
    ::dup2(pipe_fds[1], 2);
    Result<int> failed{Error(Status::kInvalidModel, "bad file")};
    const int v = failed.value();
    ::_exit(v == 0 ? 3 : 4);  // not reached
  }
  ::close(pipe_fds[1]);
  std::string err;
  char buf[256];
  ssize_t got;
  while ((got = ::read(pipe_fds[0], buf, sizeof(buf))) > 0) err.append(buf, static_cast<size_t>(got));
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(err.find("bad file") != std::string::npos);
}

TEST_CASE("the header's promises: version, empty pieces, outputs of refused calls, defaults of 0") {
  CHECK(std::string(edgeformer_version()) == std::to_string(EDGEFORMER_VERSION_MAJOR) + "." +
                                                 std::to_string(EDGEFORMER_VERSION_MINOR) + "." +
                                                 std::to_string(EDGEFORMER_VERSION_PATCH));
  test::TempDir dir;
  edgeformer_model* m = Load(test::MakeSyntheticModel(dir, convert::Quant::kInt8));
  edgeformer_model_info info;
  REQUIRE(edgeformer_model_get_info(m, &info) == EDGEFORMER_OK);
  // Control tokens (BOS, EOS) give "", never NULL.
  for (const int32_t id : {info.bos_id, info.eos_id}) {
    if (id < 0) continue;
    const char* piece = nullptr;
    size_t len = 99;
    REQUIRE(edgeformer_token_piece(m, -1, id, &piece, &len) == EDGEFORMER_OK);
    CHECK(piece != nullptr);
    CHECK(len == 0);
  }
  // n_threads 0 means 1, max_batch 0 the default.
  edgeformer_session_params p = edgeformer_session_default_params();
  p.n_threads = 0;
  p.max_batch = 0;
  edgeformer_session* s = NewSession(m, p);
  edgeformer_session_info si;
  REQUIRE(edgeformer_session_get_info(s, &si) == EDGEFORMER_OK);
  CHECK(si.n_threads == 1);
  CHECK(si.active_threads == 1);
  // Refused sampler parameters still set the outputs.
  const std::vector<int32_t> prompt = Prompt(4);
  REQUIRE(edgeformer_session_prefill(s, prompt.data(), prompt.size()) == EDGEFORMER_OK);
  edgeformer_generate_params g = Greedy(4);
  g.sampler.temperature = std::nanf("");
  size_t n = 77;
  edgeformer_stop_reason why = EDGEFORMER_STOP_MAX_TOKENS;
  CHECK(edgeformer_generate(s, &g, nullptr, nullptr, &n, &why) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(n == 0);
  CHECK(why == EDGEFORMER_STOP_ERROR);
  n = 77;
  why = EDGEFORMER_STOP_MAX_TOKENS;
  CHECK(edgeformer_generate(nullptr, &g, nullptr, nullptr, &n, &why) == EDGEFORMER_INVALID_ARGUMENT);
  CHECK(n == 0);
  CHECK(why == EDGEFORMER_STOP_ERROR);
  CHECK(edgeformer_session_reset(nullptr) == EDGEFORMER_INVALID_ARGUMENT);
  edgeformer_session_destroy(s);
  edgeformer_model_destroy(m);
}

}  // namespace edgeformer
