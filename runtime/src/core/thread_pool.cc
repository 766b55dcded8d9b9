#include "core/thread_pool.h"

#include <pthreadpool.h>

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
#if EDGEFORMER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#include <new>

namespace edgeformer {

Result<std::unique_ptr<ThreadPool>> ThreadPool::Create(size_t n_threads) {
  if (n_threads <= 1) return Wrap(nullptr, false);
  pthreadpool_t pool = pthreadpool_create(n_threads);
  if (pool == nullptr) {
    return Error(Status::kOutOfMemory, "cannot create a pool of " + std::to_string(n_threads) + " threads");
  }
  return Wrap(pool, true);
}

Result<std::unique_ptr<ThreadPool>> ThreadPool::Borrow(pthreadpool* pool) {
  if (pool == nullptr) return Error(Status::kInvalidArgument, "no thread pool to borrow");
  return Wrap(pool, false);
}

Result<std::unique_ptr<ThreadPool>> ThreadPool::Wrap(pthreadpool* pool, bool owned) {
  const size_t threads = pool == nullptr ? 1 : pthreadpool_get_threads_count(pool);
  std::unique_ptr<ThreadPool> wrapped(new (std::nothrow) ThreadPool(pool, threads < 1 ? 1 : threads, owned));
  if (wrapped == nullptr) {
    if (owned) pthreadpool_destroy(pool);
    return Error(Status::kOutOfMemory, "cannot allocate a thread pool");
  }
  return wrapped;
}

ThreadPool::~ThreadPool() {
  if (pool_ != nullptr && owned_) pthreadpool_destroy(pool_);
}

void ThreadPool::ParallelizeTiles(TileFn fn, void* context, size_t range, size_t tile) {
  if (range == 0) return;
  if (tile == 0) tile = 1;
  if (pool_ == nullptr || range <= tile) {
    for (size_t begin = 0; begin < range; begin += tile) {
      fn(context, begin, range - begin < tile ? range - begin : tile);
    }
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
  pthreadpool_parallelize_1d_tile_1d(pool_, &Traced::Run, &traced, range, tile, 0);
  __tsan_acquire(&traced);
#else
  pthreadpool_parallelize_1d_tile_1d(pool_, fn, context, range, tile, 0);
#endif
}

void ThreadPool::ReleaseWorkers() {
  if (pool_ == nullptr) return;
  pthreadpool_parallelize_1d_tile_1d(
      pool_, [](void*, size_t, size_t) {}, nullptr, threads_, 1, PTHREADPOOL_FLAG_YIELD_WORKERS);
}

}  // namespace edgeformer
