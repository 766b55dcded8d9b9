// The bench's measuring aids: statistics of repeated timings, the process's peak resident memory,
// a barrier that starts several sessions' repetitions together, and busy background threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "tools/bench/bench.h"

namespace edgeformer {
namespace bench {

// Mean, sample standard deviation and median of v (all 0 when it is empty).
Stat Summarize(const std::vector<double>& v);

// Peak resident memory of this process (VmHWM), and a reset of it (Linux clear_refs 5).
uint64_t PeakRss();
void ResetPeakRss();

// Lets `parties` threads start each repetition together. Thread-safe.
class Barrier {
 public:
  explicit Barrier(size_t parties) : parties_(parties) {}
  void Wait();

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  size_t parties_, waiting_ = 0, generation_ = 0;
};

// n threads that keep a core busy each until destroyed: the other work of a loaded phone.
class BackgroundLoad {
 public:
  explicit BackgroundLoad(uint32_t n);
  ~BackgroundLoad();
  BackgroundLoad(const BackgroundLoad&) = delete;
  BackgroundLoad& operator=(const BackgroundLoad&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace bench
}  // namespace edgeformer
