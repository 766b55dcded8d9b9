#include "core/thread_pool.h"

#include <pthreadpool.h>

namespace edgeformer {

Result<std::unique_ptr<ThreadPool>> ThreadPool::Create(size_t n_threads) {
  if (n_threads <= 1) return std::unique_ptr<ThreadPool>(new ThreadPool(nullptr, 1, false));
  pthreadpool_t pool = pthreadpool_create(n_threads);
  if (pool == nullptr) {
    return Error(Status::kOutOfMemory, "cannot create a pool of " + std::to_string(n_threads) + " threads");
  }
  return std::unique_ptr<ThreadPool>(new ThreadPool(pool, pthreadpool_get_threads_count(pool), true));
}

Result<std::unique_ptr<ThreadPool>> ThreadPool::Borrow(pthreadpool* pool) {
  if (pool == nullptr) return Error(Status::kInvalidArgument, "no thread pool to borrow");
  const size_t threads = pthreadpool_get_threads_count(pool);
  return std::unique_ptr<ThreadPool>(new ThreadPool(pool, threads < 1 ? 1 : threads, false));
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
  pthreadpool_parallelize_1d_tile_1d(pool_, fn, context, range, tile, 0);
}

void ThreadPool::ReleaseWorkers() {
  if (pool_ == nullptr) return;
  pthreadpool_parallelize_1d_tile_1d(
      pool_, [](void*, size_t, size_t) {}, nullptr, threads_, 1, PTHREADPOOL_FLAG_YIELD_WORKERS);
}

}  // namespace edgeformer
