// XNNPACK's fully-connected operators at the matmul shapes of models S and M, batch 1 and 128,
// for the backend table of docs/performance.md (native kernels: edgeformer-kernels-bench).
// f32: xnn_fully_connected_nc_f32. f16: xnn_fully_connected_nc_f16 (f16 activations, weights and
// outputs; a runtime with f32 activations would convert on both sides, not timed here). int8:
// xnn_fully_connected_nc_qs8, which fixes the activation
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

enum class Kind { kF32, kF16, kQs8 };

template <Kind kKind>
void BenchXnn(benchmark::State& state, Shape shape, size_t m) {
  constexpr bool kInt8 = kKind == Kind::kQs8;
  if (xnn_initialize(nullptr) != xnn_status_success) {
    state.SkipWithError("xnn_initialize failed");
    return;
  }
  const size_t elem = kKind == Kind::kQs8 ? 1 : kKind == Kind::kF16 ? 2 : 4;
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
    } else if (kKind == Kind::kF16) {
      uint16_t* w = reinterpret_cast<uint16_t*>(weights[c].data());
      for (size_t i = 0; i < shape.n * shape.k; ++i) w[i] = static_cast<uint16_t>(0x3000 + rng() % 0x0c00) | ((rng() & 1) << 15);
      xnn_create_fully_connected_nc_f16(shape.k, shape.n, shape.k, shape.n, w, nullptr, -inf, inf, 0, &ops[c]);
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
  std::vector<uint8_t> x(m * shape.k * elem, 0), y(m * shape.n * elem);
  if (kKind == Kind::kF16) {
    for (size_t i = 0; i < m * shape.k; ++i) reinterpret_cast<uint16_t*>(x.data())[i] = 0x3c00;  // 1.0
  } else if (kKind == Kind::kF32) {
    for (size_t i = 0; i < m * shape.k; ++i) reinterpret_cast<float*>(x.data())[i] = 1.0f;
  } else {
    for (uint8_t& v : x) v = 1;
  }
  size_t copy = 0;
  for (auto _ : state) {
    if (kInt8) {
      xnn_setup_fully_connected_nc_qs8(ops[copy], m, reinterpret_cast<const int8_t*>(x.data()),
                                       reinterpret_cast<int8_t*>(y.data()), nullptr);
    } else if (kKind == Kind::kF16) {
      xnn_setup_fully_connected_nc_f16(ops[copy], m, x.data(), y.data(), nullptr);
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
      benchmark::RegisterBenchmark(("xnn_fully_connected_nc_f32" + suffix).c_str(), BenchXnn<Kind::kF32>, s, m)
          ->Unit(benchmark::kMicrosecond)->MinTime(0.2);
      benchmark::RegisterBenchmark(("xnn_fully_connected_nc_f16" + suffix).c_str(), BenchXnn<Kind::kF16>, s, m)
          ->Unit(benchmark::kMicrosecond)->MinTime(0.2);
      benchmark::RegisterBenchmark(("xnn_fully_connected_nc_qs8" + suffix).c_str(), BenchXnn<Kind::kQs8>, s, m)
          ->Unit(benchmark::kMicrosecond)->MinTime(0.2);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
