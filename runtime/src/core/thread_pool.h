// The session's worker threads: a pthreadpool created once per session, never per call, or the
// app's own pthreadpool (borrowed, not owned).
//
// Thread safety: ParallelizeTiles and ReleaseWorkers are called from one thread at a time per
// ThreadPool (the session's caller). pthreadpool serializes parallel calls on one pool, so
// sessions on different threads may share a borrowed pool: their parallel sections take turns.
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
  // Borrows `pool` (not null), which must outlive the ThreadPool.
  static Result<std::unique_ptr<ThreadPool>> Borrow(pthreadpool* pool);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t threads() const { return threads_; }
  size_t active_threads() const { return threads_; }
  // The pthreadpool itself, to share with XNNPACK; null when single-threaded (XNNPACK then runs
  // on the caller). Owned by this object unless borrowed.
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
  // `pool` (null: single-threaded) in a new ThreadPool; an owned pool is destroyed when that fails.
  static Result<std::unique_ptr<ThreadPool>> Wrap(pthreadpool* pool, bool owned);
  ThreadPool(pthreadpool* pool, size_t threads, bool owned) : pool_(pool), threads_(threads), owned_(owned) {}
  pthreadpool* pool_;
  size_t threads_;
  bool owned_;
};

}  // namespace edgeformer
