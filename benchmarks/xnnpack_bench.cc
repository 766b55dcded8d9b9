// XNNPACK's fully-connected operators at the matmul shapes of models S and M, batch 1 and 128,
// for the backend table of docs/performance.md (native kernels: edgeformer-kernels-bench).
// f32: xnn_fully_connected_nc_f32. int8: xnn_fully_connected_nc_qs8, which fixes the activation
// scale at creation and has one weight scale per tensor, so the runtime cannot use it (dynamic
// per-row activations, per-channel weights); it is timed for the comparison only. Operators over
// several weight copies (up to 256 MiB) make batch-1 runs stream weights from memory; packing
// happens before timing.
//
//   build/benchmarks/edgeformer-xnnpack-bench --benchmark_filter=f32
#include <benchmark/benchmark.h>
#include <xnnpack.h>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "benchmarks/shapes.h"

namespace {

using edgeformer::bench_shapes::kShapes;
using edgeformer::bench_shapes::Shape;

constexpr size_t kStreamBytes = size_t{256} << 20;

template <bool kInt8>
void BenchXnn(benchmark::State& state, Shape shape, size_t m) {
  if (xnn_initialize(nullptr) != xnn_status_success) {
    state.SkipWithError("xnn_initialize failed");
    return;
  }
  const size_t elem = kInt8 ? 1 : 4;
  const size_t bytes = shape.n * shape.k * elem;
  const size_t copies = std::max<size_t>(1, kStreamBytes / bytes);
  std::mt19937 rng(1);
  std::vector<std::vector<uint8_t>> weights(copies, std::vector<uint8_t>(bytes));
  std::vector<xnn_operator_t> ops(copies, nullptr);
  const float inf = std::numeric_limits<float>::infinity();
  for (size_t c = 0; c < copies; ++c) {
    if (kInt8) {
      for (uint8_t& v : weights[c]) v = static_cast<uint8_t>(rng() % 255);
      xnn_create_fully_connected_nc_qs8(shape.k, shape.n, shape.k, shape.n, 0, 0.02f, 0.01f,
                                        reinterpret_cast<const int8_t*>(weights[c].data()), nullptr, 0, 1.0f, -128,
                                        127, 0, &ops[c]);
    } else {
      float* w = reinterpret_cast<float*>(weights[c].data());
      std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
      for (size_t i = 0; i < shape.n * shape.k; ++i) w[i] = unit(rng);
      xnn_create_fully_connected_nc_f32(shape.k, shape.n, shape.k, shape.n, w, nullptr, -inf, inf, 0, &ops[c]);
    }
    if (ops[c] == nullptr) {
      state.SkipWithError("cannot create the operator");
      return;
    }
  }
  std::vector<uint8_t> x(m * shape.k * elem, 1), y(m * shape.n * elem);
  size_t copy = 0;
  for (auto _ : state) {
    if (kInt8) {
      xnn_setup_fully_connected_nc_qs8(ops[copy], m, reinterpret_cast<const int8_t*>(x.data()),
                                       reinterpret_cast<int8_t*>(y.data()), nullptr);
    } else {
      xnn_setup_fully_connected_nc_f32(ops[copy], m, reinterpret_cast<const float*>(x.data()),
                                       reinterpret_cast<float*>(y.data()), nullptr);
    }
    xnn_run_operator(ops[copy], nullptr);
    benchmark::ClobberMemory();
    copy = (copy + 1) % copies;
  }
  for (xnn_operator_t op : ops) xnn_delete_operator(op);
  const double iters = static_cast<double>(state.iterations());
  const double w = static_cast<double>(shape.n) * shape.k;
  state.counters["weight_GB/s"] = benchmark::Counter(iters * w * elem / 1e9, benchmark::Counter::kIsRate);
  state.counters["GOP/s"] = benchmark::Counter(iters * 2.0 * m * w / 1e9, benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  for (const Shape& s : kShapes) {
    for (size_t m : {size_t{1}, size_t{128}}) {
      const std::string suffix = std::string("/") + s.name + "/m" + std::to_string(m);
      benchmark::RegisterBenchmark(("xnn_fully_connected_nc_f32" + suffix).c_str(), BenchXnn<false>, s, m)
          ->Unit(benchmark::kMicrosecond)->MinTime(0.2);
      benchmark::RegisterBenchmark(("xnn_fully_connected_nc_qs8" + suffix).c_str(), BenchXnn<true>, s, m)
          ->Unit(benchmark::kMicrosecond)->MinTime(0.2);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
