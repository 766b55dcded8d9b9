#include "core/thread_pool.h"

#if EDGEFORMER_HAS_PTHREADPOOL
#include <pthreadpool.h>
#endif
#include <time.h>

#include <algorithm>
#include <chrono>
#include <new>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#if defined(__SANITIZE_THREAD__)
#define EDGEFORMER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EDGEFORMER_TSAN 1
#endif
#endif
#ifndef EDGEFORMER_TSAN
#define EDGEFORMER_TSAN 0
#endif
// WebAssembly without the threads proposal (cmake/wasm.cmake): everything runs on the caller.
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define EDGEFORMER_HAS_THREADS 0
#else
#define EDGEFORMER_HAS_THREADS 1
#endif
#if EDGEFORMER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace edgeformer {
namespace {

constexpr int64_t kSpinNs = 100'000;            // a worker waits this long for the next region, then sleeps
constexpr int64_t kSampleSpacingNs = 250'000;   // at most one measured region per this interval
constexpr int64_t kWindowNs = 4'000'000;        // a verdict needs this much measured wall time
constexpr int kWindowSamples = 16;              // and this many measured regions
constexpr double kMinSpeedup = 1.15;            // below this, more threads are not worth their cores
constexpr double kUpGain = 1.1;                 // a higher level must beat the lower one by this
constexpr int64_t kBackoffMinNs = 50'000'000;
constexpr int64_t kBackoffMaxNs = 1'600'000'000;
constexpr size_t kMaxTiles = 0xffff;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CPU time of the calling thread: excludes the time the OS ran other threads on its core.
int64_t ThreadCpuNs() {
  timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#endif
}

uint32_t EpochOf(uint64_t job) { return static_cast<uint32_t>(job >> 32); }

}  // namespace

Result<std::unique_ptr<ThreadPool>> ThreadPool::Create(size_t n_threads, const ThreadPoolOptions& options) {
  if (n_threads < 1 || !EDGEFORMER_HAS_THREADS) n_threads = 1;
  std::unique_ptr<ThreadPool> pool(new (std::nothrow) ThreadPool(n_threads, nullptr));
  if (pool == nullptr) return Error(Status::kOutOfMemory, "cannot allocate a thread pool");
  pool->adaptive_ = options.adaptive && n_threads > 1;
#if EDGEFORMER_HAS_PTHREADPOOL
  if (options.with_pthreadpool && n_threads > 1) {
    pool->own_pthreadpool_ = pthreadpool_create(n_threads);
    if (pool->own_pthreadpool_ == nullptr) {
      return Error(Status::kOutOfMemory, "cannot create a pthreadpool of " + std::to_string(n_threads) + " threads");
    }
  }
#endif
  try {
    pool->workers_.reserve(n_threads - 1);
    for (size_t i = 0; i + 1 < n_threads; ++i) pool->workers_.emplace_back(&ThreadPool::WorkerLoop, pool.get(), i);
  } catch (const std::exception&) {
    // The destructor stops and joins the workers that did start.
    return Error(Status::kOutOfMemory, "cannot start " + std::to_string(n_threads - 1) + " worker threads");
  }
  return pool;
}

Result<std::unique_ptr<ThreadPool>> ThreadPool::Borrow(pthreadpool* pool) {
  if (pool == nullptr) return Error(Status::kInvalidArgument, "no thread pool to borrow");
#if !EDGEFORMER_HAS_PTHREADPOOL
  return Error(Status::kUnsupported, "this build has no pthreadpool (WebAssembly): threadpool must be null");
#else
  const size_t threads = std::max<size_t>(1, pthreadpool_get_threads_count(pool));
  std::unique_ptr<ThreadPool> wrapped(new (std::nothrow) ThreadPool(threads, pool));
  if (wrapped == nullptr) return Error(Status::kOutOfMemory, "cannot allocate a thread pool");
  return wrapped;
#endif
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_seq_cst);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  for (std::thread& t : workers_) t.join();
#if EDGEFORMER_HAS_PTHREADPOOL
  if (own_pthreadpool_ != nullptr) pthreadpool_destroy(own_pthreadpool_);
#endif
}

pthreadpool* ThreadPool::handle() const {
  if (borrowed_ != nullptr) return borrowed_;
  return active_threads() > 1 ? own_pthreadpool_ : nullptr;
}

void ThreadPool::WorkerLoop(size_t index) {
  uint32_t seen = EpochOf(job_.load(std::memory_order_acquire));
  for (;;) {
    // Wait for the next job: spin a little (the next region of a forward pass comes within
    // microseconds), then sleep; sleep at once when told to, or when this worker is not active.
    const int64_t spin_start = NowNs();
    uint32_t spins = 0;
    for (;;) {
      if (stop_.load(std::memory_order_relaxed)) return;
      const uint32_t epoch = EpochOf(job_.load(std::memory_order_acquire));
      if (epoch != seen) {
        seen = epoch;
        break;
      }
      const bool idle = index + 1 >= active_.load(std::memory_order_relaxed);
      const bool released = sleep_epoch_.load(std::memory_order_relaxed) == seen;
      if (idle || released || ((++spins & 63) == 0 && NowNs() - spin_start > kSpinNs)) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        while (!stop_.load(std::memory_order_seq_cst) && EpochOf(job_.load(std::memory_order_seq_cst)) == seen) {
          wake_.wait(lock);
        }
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
      CpuRelax();
    }
    if (index + 1 < participants_.load(std::memory_order_relaxed)) Participate(seen, /*worker=*/true);
  }
}

size_t ThreadPool::Participate(uint32_t epoch, bool worker) {
  // Each tile is counted in done_ only after the next claim has failed or succeeded, and the
  // CPU time goes into cpu_ns_ before the last count: the caller, seeing every tile done, sees
  // every participant's CPU time.
  const bool measure = worker && measure_.load(std::memory_order_relaxed);
  const int64_t cpu0 = measure ? ThreadCpuNs() : 0;
  TileFn fn = nullptr;
  void* context = nullptr;
  size_t range = 0, tile = 0, ran = 0;
  bool pending = false;
  for (;;) {
    uint64_t job = job_.load(std::memory_order_acquire);
    bool claimed = false;
    uint32_t index = 0;
    while (EpochOf(job) == epoch && (job & 0xffff) < ((job >> 16) & 0xffff)) {
      if (job_.compare_exchange_weak(job, job + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        index = static_cast<uint32_t>(job & 0xffff);
        claimed = true;
        break;
      }
    }
    if (!claimed) {
      if (pending) {
        if (measure) cpu_ns_.fetch_add(ThreadCpuNs() - cpu0, std::memory_order_relaxed);
        done_.fetch_add(1, std::memory_order_release);
      }
      return ran;
    }
    if (pending) done_.fetch_add(1, std::memory_order_release);
    if (fn == nullptr) {
      // A successful claim of this epoch means the caller is still waiting for it: the fields
      // are this job's.
      fn = fn_.load(std::memory_order_relaxed);
      context = context_.load(std::memory_order_relaxed);
      range = range_.load(std::memory_order_relaxed);
      tile = tile_.load(std::memory_order_relaxed);
    }
    const size_t begin = size_t{index} * tile;
    fn(context, begin, std::min(tile, range - begin));
    pending = true;
    ++ran;
  }
}

void ThreadPool::SetActive(size_t n) {
  active_.store(n, std::memory_order_relaxed);
  window_wall_ns_ = window_cpu_ns_ = 0;
  window_samples_ = 0;
}

void ThreadPool::Judge(int64_t wall_ns, int64_t cpu_ns, int64_t now_ns) {
  window_wall_ns_ += wall_ns;
  window_cpu_ns_ += cpu_ns;
  if (++window_samples_ < kWindowSamples || window_wall_ns_ < kWindowNs) return;
  // The threads' CPU time on the tiles is what one thread alone would have needed (or more: it
  // counts their contention for memory bandwidth too), so this is the speedup over one thread.
  const double speedup = static_cast<double>(window_cpu_ns_) / static_cast<double>(window_wall_ns_);
  const size_t level = active_threads();
  const auto back_off = [&] {
    backoff_ns_ = backoff_ns_ == 0 ? kBackoffMinNs : std::min(2 * backoff_ns_, kBackoffMaxNs);
    hold_until_ns_ = now_ns + backoff_ns_;
  };
  if (tried_from_ != 0) {
    // A higher level on trial: it stays if it beats the level below by kUpGain.
    const size_t from = tried_from_;
    tried_from_ = 0;
    if (speedup >= std::max(kMinSpeedup, last_good_speedup_ * kUpGain)) {
      last_good_speedup_ = speedup;
      backoff_ns_ = 0;
      hold_until_ns_ = now_ns;
      SetActive(level);
    } else {
      back_off();
      SetActive(from);
    }
    return;
  }
  if (speedup < kMinSpeedup) {
    back_off();
    SetActive(std::max<size_t>(1, level / 2));
    return;
  }
  last_good_speedup_ = speedup;
  if (level < threads_ && now_ns >= hold_until_ns_) {
    tried_from_ = level;
    SetActive(std::min(threads_, 2 * level));
    return;
  }
  SetActive(level);  // a new window
}

void ThreadPool::ParallelizeTiles(TileFn fn, void* context, size_t range, size_t tile) {
  if (range == 0) return;
  if (tile == 0) tile = 1;
  if ((range + tile - 1) / tile > kMaxTiles) tile = (range + kMaxTiles - 1) / kMaxTiles;
  const size_t n_tiles = (range + tile - 1) / tile;
#if EDGEFORMER_HAS_PTHREADPOOL
  if (borrowed_ != nullptr) {
    if (n_tiles == 1 || threads_ == 1) {
      fn(context, 0, range);
      return;
    }
#if EDGEFORMER_TSAN
    // pthreadpool is not instrumented, so ThreadSanitizer cannot see that its workers start after
    // this call and finish before it returns: say so, around each tile.
    struct Traced {
      TileFn fn;
      void* context;
      static void Run(void* p, size_t begin, size_t count) {
        auto* t = static_cast<Traced*>(p);
        __tsan_acquire(t);
        t->fn(t->context, begin, count);
        __tsan_release(t);
      }
    } traced{fn, context};
    __tsan_release(&traced);
    pthreadpool_parallelize_1d_tile_1d(borrowed_, &Traced::Run, &traced, range, tile, 0);
    __tsan_acquire(&traced);
#else
    pthreadpool_parallelize_1d_tile_1d(borrowed_, fn, context, range, tile, 0);
#endif
    return;
  }
#endif
  size_t active = active_threads();
  int64_t t0 = 0;
  if (adaptive_) {
    t0 = NowNs();
    if (active == 1 && tried_from_ == 0 && t0 >= hold_until_ns_) {
      // The back-off is over: try two threads again.
      tried_from_ = 1;
      last_good_speedup_ = 1.0;
      SetActive(active = std::min<size_t>(threads_, 2));
    }
  }
  if (workers_.empty() || active <= 1 || n_tiles == 1) {
    for (size_t begin = 0; begin < range; begin += tile) fn(context, begin, std::min(tile, range - begin));
    return;
  }
  // Measured: every region while a level is on trial, else one per kSampleSpacingNs.
  const bool measure = adaptive_ && (tried_from_ != 0 || t0 - last_sample_ns_ >= kSampleSpacingNs);
  const uint32_t epoch = EpochOf(job_.load(std::memory_order_relaxed)) + 1;
  fn_.store(fn, std::memory_order_relaxed);
  context_.store(context, std::memory_order_relaxed);
  range_.store(range, std::memory_order_relaxed);
  tile_.store(tile, std::memory_order_relaxed);
  participants_.store(active, std::memory_order_relaxed);
  measure_.store(measure, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  cpu_ns_.store(0, std::memory_order_relaxed);
  job_.store((uint64_t{epoch} << 32) | (uint64_t{n_tiles} << 16), std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  const int64_t cpu0 = measure ? ThreadCpuNs() : 0;
  Participate(epoch, /*worker=*/false);
  const int64_t caller_cpu = measure ? ThreadCpuNs() - cpu0 : 0;
  // Only tiles that others started remain: wait for them, yielding the core after a while in
  // case the one running it shares it.
  for (uint32_t spins = 0; done_.load(std::memory_order_acquire) != n_tiles; ++spins) {
    if (spins < 4096) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
  if (measure) {
    const int64_t t1 = NowNs();
    last_sample_ns_ = t1;
    Judge(t1 - t0, caller_cpu + cpu_ns_.load(std::memory_order_relaxed), t1);
  }
}

void ThreadPool::ReleaseWorkers() {
#if EDGEFORMER_HAS_PTHREADPOOL
  if (borrowed_ != nullptr) {
    if (threads_ > 1) {
      pthreadpool_parallelize_1d_tile_1d(
          borrowed_, [](void*, size_t, size_t) {}, nullptr, threads_, 1, PTHREADPOOL_FLAG_YIELD_WORKERS);
    }
    return;
  }
#endif
  sleep_epoch_.store(EpochOf(job_.load(std::memory_order_relaxed)), std::memory_order_relaxed);
}

}  // namespace edgeformer
