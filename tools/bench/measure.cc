// The bench's measuring aids (tools/bench/measure.h).
#include "tools/bench/measure.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

namespace edgeformer {
namespace bench {

Stat Summarize(const std::vector<double>& v) {
  Stat s;
  if (v.empty()) return s;
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  const size_t mid = sorted.size() / 2;
  s.median = sorted.size() % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0.0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}

uint64_t PeakRss() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

void ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

void Barrier::Wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  const size_t generation = generation_;
  if (++waiting_ == parties_) {
    waiting_ = 0;
    ++generation_;
    cv_.notify_all();
    return;
  }
  cv_.wait(lock, [&] { return generation != generation_; });
}

BackgroundLoad::BackgroundLoad(uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    threads_.emplace_back([this, i] {
      volatile uint64_t x = i + 1;
      while (!stop_.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 4096; ++k) x = x * 6364136223846793005ull + 1442695040888963407ull;
      }
    });
  }
}

BackgroundLoad::~BackgroundLoad() {
  stop_.store(true);
  for (std::thread& t : threads_) t.join();
}

}  // namespace bench
}  // namespace edgeformer
