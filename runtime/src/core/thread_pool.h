// The session's worker threads: a pool created once per session, never per call, that runs
// parallel regions ("split [0, range) into tiles and run them") and stays fast when the cores are
// busy with other work; or the app's own pthreadpool (borrowed, not owned).
//
// Owned pools (Create) are built for shared, loaded machines (phones, 2-vCPU VMs):
// - Tiles are claimed one at a time from a shared counter by whoever is running: the calling
//   thread works too, so a worker the OS has descheduled never holds up a region; its share is
//   taken by the others. A region waits only for tiles already started.
// - Workers spin briefly between the regions of one forward pass, then sleep; ReleaseWorkers puts
//   them to sleep at once (between tokens), so they never spin while the app or another program
//   needs the core.
// - Adaptive thread count: now and then (at most one region per kSampleSpacing) the pool measures
//   a region's wall time against the CPU time its threads spent on its tiles (the time one thread
//   alone would need). When the threads together beat one thread by less than kMinSpeedup, the
//   cores are busy elsewhere: the pool halves its active threads and tries more again after a
//   back-off (50 ms, doubling to 1.6 s while it keeps failing). active_threads() says how many
//   run now.
// Borrowed pools run regions with pthreadpool_parallelize_1d_tile_1d, as the app configured them.
//
// A build without threads (WebAssembly, cmake/wasm.cmake) has one thread whatever n_threads says,
// and no pthreadpool to borrow.
//
// Thread safety: ParallelizeTiles and ReleaseWorkers are called from one thread at a time per
// ThreadPool (the session's caller); threads() and active_threads() from any thread. pthreadpool
// serializes parallel calls on one pool, so sessions on different threads may share a borrowed
// pool: their parallel sections take turns.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.h"

struct pthreadpool;

namespace edgeformer {

struct ThreadPoolOptions {
  bool adaptive = true;        // measure regions and use fewer threads when the cores are busy
  bool with_pthreadpool = false;  // also make a pthreadpool of as many threads, for XNNPACK (handle())
};

class ThreadPool {
 public:
  // n_threads (>= 1) counts the calling thread: n_threads - 1 workers are started. n_threads 1
  // runs everything on the calling thread.
  static Result<std::unique_ptr<ThreadPool>> Create(size_t n_threads, const ThreadPoolOptions& options = {});
  // Borrows `pool` (not null), which must outlive the ThreadPool.
  static Result<std::unique_ptr<ThreadPool>> Borrow(pthreadpool* pool);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t threads() const { return threads_; }
  // Threads that regions run on now: threads(), or fewer while the pool measures that the cores
  // are busy elsewhere.
  size_t active_threads() const { return active_.load(std::memory_order_relaxed); }
  // A pthreadpool for XNNPACK: the borrowed pool, or (with_pthreadpool) the pool's own while more
  // than one thread is active; null otherwise (XNNPACK then runs on the caller).
  pthreadpool* handle() const;

  // Calls fn(context, begin, count) on [0, range) split into tiles of `tile` items (the last may
  // be shorter), possibly in parallel. Returns when all tiles are done. At most 65535 tiles.
  using TileFn = void (*)(void* context, size_t begin, size_t count);
  void ParallelizeTiles(TileFn fn, void* context, size_t range, size_t tile);

  // Lets the workers sleep now rather than spin for the next region (between tokens, while the
  // app handles one).
  void ReleaseWorkers();

 private:
  ThreadPool(size_t threads, pthreadpool* borrowed) : threads_(threads), borrowed_(borrowed), active_(threads) {}
  void WorkerLoop(size_t index);
  // Claims and runs tiles of the job of `epoch` until none is left; returns how many it ran. A
  // worker adds its CPU time to cpu_ns_ when the job is measured.
  size_t Participate(uint32_t epoch, bool worker);
  // Adaptive control, on the caller: called after a measured region.
  void Judge(int64_t wall_ns, int64_t cpu_ns, int64_t now_ns);
  void SetActive(size_t n);

  const size_t threads_;
  pthreadpool* const borrowed_;
  pthreadpool* own_pthreadpool_ = nullptr;
  std::vector<std::thread> workers_;
  std::atomic<size_t> active_;
  bool adaptive_ = false;

  // The job: epoch (32 bits) | tile count (16) | next unclaimed tile (16), in one word, so a claim
  // (a compare-and-swap) is valid for exactly one job. The fields below describe the job of the
  // current epoch; they are written before the epoch is published.
  std::atomic<uint64_t> job_{0};
  std::atomic<TileFn> fn_{nullptr};
  std::atomic<void*> context_{nullptr};
  std::atomic<size_t> range_{0};
  std::atomic<size_t> tile_{0};
  std::atomic<size_t> participants_{0};  // workers with index < participants_ - 1 join
  std::atomic<bool> measure_{false};     // participants add their CPU time to cpu_ns_
  std::atomic<uint32_t> done_{0};        // tiles finished
  std::atomic<int64_t> cpu_ns_{0};
  std::atomic<uint32_t> sleep_epoch_{0};  // workers that saw this epoch sleep instead of spinning
  std::atomic<bool> stop_{false};

  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};

  // Adaptive state (the caller's only).
  int64_t last_sample_ns_ = 0;
  int64_t window_wall_ns_ = 0, window_cpu_ns_ = 0;
  int window_samples_ = 0;
  int64_t hold_until_ns_ = 0;    // below the top level until then
  int64_t backoff_ns_ = 0;
  double last_good_speedup_ = 0.0;  // at the level below the one being tried, when trying up
  size_t tried_from_ = 0;           // that level; 0 when not trying a higher level
};

}  // namespace edgeformer
