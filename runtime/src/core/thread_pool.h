// The session's worker threads: a pthreadpool created once per session, never per call.
//
// Thread safety: Parallelize must be called from one thread at a time (the session's caller).
#pragma once

#include <cstddef>
#include <memory>

#include "core/status.h"

struct pthreadpool;

namespace edgeformer {

class ThreadPool {
 public:
  // n_threads <= 1 gives a pool that runs everything on the calling thread.
  static Result<std::unique_ptr<ThreadPool>> Create(size_t n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t threads() const { return threads_; }
  // The pthreadpool itself, to share with XNNPACK; null when single-threaded (XNNPACK then runs
  // on the caller). Owned by this object.
  pthreadpool* handle() const { return pool_; }

  // Calls fn(context, begin, count) on [0, range) split into tiles of `tile` items, possibly in
  // parallel. Returns when all tiles are done.
  using TileFn = void (*)(void* context, size_t begin, size_t count);
  void ParallelizeTiles(TileFn fn, void* context, size_t range, size_t tile);

  // Lets the workers sleep now. pthreadpool's workers otherwise spin (about 1M PAUSEs, tens of
  // milliseconds) after every parallel call, waiting for the next one: right between the calls of
  // one forward pass, but between tokens it burns a core (battery on a phone, the other thread's
  // time on a shared machine) while the app handles the token. Costs one parallel call.
  void ReleaseWorkers();

 private:
  explicit ThreadPool(pthreadpool* pool, size_t threads) : pool_(pool), threads_(threads) {}
  pthreadpool* pool_;
  size_t threads_;
};

}  // namespace edgeformer
