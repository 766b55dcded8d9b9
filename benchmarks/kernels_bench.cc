// Microbenchmarks of every kernel in platforms/kernels.inc: the int8 matmuls at the matmul shapes
// of the bench models S and M, at batch 1 (decode), 4 (four beams), 5 and 8 (verifying 4 or 7
// proposals) and 128 and 512 (prefill), reporting weight bytes/s (the decode figure of merit)
// and int8 operations/s (2 per multiply-add, the prefill one); the
// f32 matmuls at the same shapes, batch 1 and 16; attention at 512 and 2048 cached positions;
// activation quantization and SwiGLU at M's widths.
//
// Weights cycle through enough copies to exceed the last-level cache, so decode-shaped runs
// stream them from memory as a real model does.
//
//   build/benchmarks/edgeformer-kernels-bench --benchmark_filter=qgemm.*avx512vnni
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "platforms/common/f16.h"
#include "platforms/kernels.h"
#include "platforms/peak.h"
#include "benchmarks/shapes.h"

namespace edgeformer {
namespace {

using bench_shapes::kShapes;
using bench_shapes::Shape;

constexpr size_t kStreamBytes = size_t{512} << 20;  // weights cycled through per benchmark

void BenchQGemm(benchmark::State& state, QGemmFn fn, Isa isa, Shape shape, size_t m) {
  if (!CpuSupports(isa)) {
    state.SkipWithError("this CPU lacks the kernel's ISA");
    return;
  }
  const size_t bytes = BlockedBytes(shape.n, shape.k);
  const size_t copies = std::max<size_t>(1, kStreamBytes / bytes);
  AlignedBuffer w, a, c;
  const size_t a_stride = ActivationRowBytes(shape.k);
  if (!w.Allocate(bytes * copies).ok() || !a.Allocate(m * a_stride).ok() || !c.Allocate(m * shape.n * 4).ok()) {
    state.SkipWithError("out of memory");
    return;
  }
  std::mt19937 rng(1);
  for (size_t i = 0; i < bytes * copies; ++i) w.as<int8_t>()[i] = static_cast<int8_t>(rng() % 255 - 127);
  for (size_t i = 0; i < m * a_stride; ++i) a.as<int8_t>()[i] = static_cast<int8_t>(rng() % 255 - 127);
  std::vector<float> a_scale(m, 0.01f), w_scale(BlockedRows(shape.n), 0.02f);
  std::vector<int32_t> row_sum(BlockedRows(shape.n), 0);
  size_t copy = 0;
  for (auto _ : state) {
    fn(m, shape.n, shape.k, a.as<int8_t>(), a_stride, a_scale.data(), w.as<int8_t>() + copy * bytes, w_scale.data(),
       row_sum.data(), c.as<float>(), shape.n);
    benchmark::ClobberMemory();
    copy = (copy + 1) % copies;
  }
  const double iters = static_cast<double>(state.iterations());
  const double weights = static_cast<double>(shape.n) * shape.k;
  state.counters["weight_GB/s"] = benchmark::Counter(iters * weights / 1e9, benchmark::Counter::kIsRate);
  state.counters["GOP/s"] = benchmark::Counter(iters * 2.0 * m * weights / 1e9, benchmark::Counter::kIsRate);
}

// int4 (groups of 32) x int8 GEMM at the same shapes, weights and f16 scales cycled like
// BenchQGemm; weight GB/s counts the packed bytes and the scales.
void BenchQ4Gemm(benchmark::State& state, Q4GemmFn fn, Isa isa, Shape shape, size_t m) {
  if (!CpuSupports(isa)) {
    state.SkipWithError("this CPU lacks the kernel's ISA");
    return;
  }
  const size_t group = 32;
  const size_t bytes = Int4Bytes(shape.n, shape.k, group), n_scales = Int4ScaleCount(shape.n, shape.k, group);
  const size_t copies = std::max<size_t>(1, kStreamBytes / (bytes + 2 * n_scales));
  AlignedBuffer w, s, a, c;
  const size_t a_stride = ActivationRowBytes(shape.k);
  if (!w.Allocate(bytes * copies).ok() || !s.Allocate(n_scales * 2 * copies).ok() || !a.Allocate(m * a_stride).ok() ||
      !c.Allocate(m * shape.n * 4).ok()) {
    state.SkipWithError("out of memory");
    return;
  }
  std::mt19937 rng(1);
  for (size_t i = 0; i < bytes * copies; ++i) w.as<uint8_t>()[i] = static_cast<uint8_t>(rng());
  for (size_t i = 0; i < n_scales * copies; ++i) s.as<uint16_t>()[i] = F32ToF16(0.01f);
  for (size_t i = 0; i < m * a_stride; ++i) a.as<int8_t>()[i] = static_cast<int8_t>(rng() % 255 - 127);
  std::vector<float> a_scale(m, 0.01f);
  std::vector<int32_t> a_sums(m * (a_stride / 32), 0);
  size_t copy = 0;
  for (auto _ : state) {
    fn(m, shape.n, shape.k, group, a.as<int8_t>(), a_stride, a_scale.data(), a_sums.data(), w.as<uint8_t>() + copy * bytes,
       s.as<uint16_t>() + copy * n_scales, c.as<float>(), shape.n);
    benchmark::ClobberMemory();
    copy = (copy + 1) % copies;
  }
  const double iters = static_cast<double>(state.iterations());
  const double weights = static_cast<double>(shape.n) * shape.k;
  state.counters["weight_GB/s"] =
      benchmark::Counter(iters * static_cast<double>(bytes + 2 * n_scales) / 1e9, benchmark::Counter::kIsRate);
  state.counters["GOP/s"] = benchmark::Counter(iters * 2.0 * m * weights / 1e9, benchmark::Counter::kIsRate);
}

// f32 GEMM at the same shapes, f32 or f16 weights cycled like BenchQGemm. Reports weight GB/s and
// GFLOP/s.
void BenchSGemm(benchmark::State& state, SGemmFn fn, Isa isa, Shape shape, size_t m, KvType w_type) {
  if (!CpuSupports(isa)) {
    state.SkipWithError("this CPU lacks the kernel's ISA");
    return;
  }
  const size_t elem = KvTypeBytes(w_type);
  const size_t bytes = shape.n * shape.k * elem;
  const size_t copies = std::max<size_t>(1, kStreamBytes / bytes);
  AlignedBuffer w, a, c;
  if (!w.Allocate(bytes * copies).ok() || !a.Allocate(m * shape.k * 4).ok() || !c.Allocate(m * shape.n * 4).ok()) {
    state.SkipWithError("out of memory");
    return;
  }
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  for (size_t i = 0; i < shape.n * shape.k * copies; ++i) {
    if (w_type == KvType::kF16) {
      w.as<uint16_t>()[i] = F32ToF16(unit(rng));
    } else {
      w.as<float>()[i] = unit(rng);
    }
  }
  for (size_t i = 0; i < m * shape.k; ++i) a.as<float>()[i] = unit(rng);
  size_t copy = 0;
  for (auto _ : state) {
    fn(m, shape.n, shape.k, a.as<float>(), shape.k, w.as<uint8_t>() + copy * bytes, shape.k, w_type, c.as<float>(),
       shape.n);
    benchmark::ClobberMemory();
    copy = (copy + 1) % copies;
  }
  const double iters = static_cast<double>(state.iterations());
  const double weights = static_cast<double>(shape.n) * shape.k;
  state.counters["weight_GB/s"] = benchmark::Counter(iters * weights * elem / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(iters * 2.0 * m * weights / 1e9, benchmark::Counter::kIsRate);
}

// One head's attention over n cached positions (head_dim 64, rows of kv_dim values as in S and
// M): scores then weighted values. Reports cache bytes read per second.
void BenchAttn(benchmark::State& state, AttnFns fns, Isa isa, size_t n, size_t kv_dim, KvType type) {
  if (!CpuSupports(isa)) {
    state.SkipWithError("this CPU lacks the kernel's ISA");
    return;
  }
  const size_t d = 64;
  AlignedBuffer k, v;
  const size_t bytes = n * kv_dim * KvTypeBytes(type);
  if (!k.Allocate(bytes).ok() || !v.Allocate(bytes).ok()) {
    state.SkipWithError("out of memory");
    return;
  }
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  for (size_t i = 0; i < n * kv_dim; ++i) {
    const float kf = unit(rng), vf = unit(rng);
    if (type == KvType::kF16) {
      k.as<uint16_t>()[i] = F32ToF16(kf);
      v.as<uint16_t>()[i] = F32ToF16(vf);
    } else {
      k.as<float>()[i] = kf;
      v.as<float>()[i] = vf;
    }
  }
  std::vector<float> q(d, 0.01f), scores(n), out(d);
  for (auto _ : state) {
    fns.scores(n, d, q.data(), k.as<void>(), kv_dim, type, scores.data());
    fns.values(n, d, scores.data(), v.as<void>(), kv_dim, type, false, out.data());
    benchmark::ClobberMemory();
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["kv_GB/s"] = benchmark::Counter(iters * 2.0 * n * d * KvTypeBytes(type) / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(iters * 4.0 * n * d / 1e9, benchmark::Counter::kIsRate);
}

// One head's attention over n cached positions of an int8 cache, head-major as the runtime lays
// it out (head_dim 64, rows 64 bytes apart): integer scores scaled to floats, then float weights
// made int16 and the integer weighted values.
void BenchAttnI8(benchmark::State& state, AttnI8Fns fns, Isa isa, size_t n) {
  if (!CpuSupports(isa)) {
    state.SkipWithError("this CPU lacks the kernel's ISA");
    return;
  }
  const size_t d = 64;
  std::mt19937 rng(2);
  std::vector<int8_t> k(n * d), v(n * d);
  std::vector<int16_t> q(d);
  for (int16_t& x : q) x = static_cast<int16_t>(static_cast<int>(rng() % 65535) - 32767);
  for (int8_t& x : k) x = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  for (int8_t& x : v) x = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  std::vector<float> p(n), k_scales(n, 0.01f);
  for (float& x : p) x = static_cast<float>(rng() % 1024) / 1024.0f / static_cast<float>(n);
  std::vector<float> scores(n);
  std::vector<int32_t> out(d);
  for (auto _ : state) {
    fns.scores(n, d, q.data(), k.data(), d, 1e-5f, k_scales.data(), scores.data());
    fns.values(n, d, p.data(), 32767.0f, v.data(), d, false, out.data());
    benchmark::ClobberMemory();
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["kv_GB/s"] = benchmark::Counter(iters * 2.0 * n * d / 1e9, benchmark::Counter::kIsRate);
}

// A softmax over one head's n scores (moderate values, as attention's).
void BenchSoftmax(benchmark::State& state, SoftmaxFn fn, Isa isa, size_t n) {
  if (!CpuSupports(isa)) {
    state.SkipWithError("this CPU lacks the kernel's ISA");
    return;
  }
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-8.0f, 8.0f);
  std::vector<float> scores(n), x(n);
  for (float& s : scores) s = u(rng);
  for (auto _ : state) {
    std::copy(scores.begin(), scores.end(), x.begin());
    fn(x.data(), n);
    benchmark::ClobberMemory();
  }
  state.counters["values/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * n, benchmark::Counter::kIsRate);
}

// Quantizing m activation rows of k values (M's matmul inputs in a 5-row verification pass).
void BenchQuantize(benchmark::State& state, QuantizeRowsFn fn, Isa isa, size_t m, size_t k) {
  if (!CpuSupports(isa)) {
    state.SkipWithError("this CPU lacks the kernel's ISA");
    return;
  }
  std::mt19937 rng(4);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(m * k);
  for (float& v : x) v = normal(rng);
  const size_t stride = ActivationRowBytes(k);
  std::vector<int8_t> q(m * stride);
  std::vector<float> scales(m);
  std::vector<int32_t> sums(m * (stride / 32));
  for (auto _ : state) {
    fn(x.data(), m, k, k, q.data(), stride, scales.data(), sums.data());
    benchmark::ClobberMemory();
  }
  state.counters["values/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * m * k, benchmark::Counter::kIsRate);
}

// SwiGLU over n values (M's 5 rows of 5632 hidden values), gate restored each time.
void BenchSwiGlu(benchmark::State& state, SwiGluFn fn, Isa isa, size_t n) {
  if (!CpuSupports(isa)) {
    state.SkipWithError("this CPU lacks the kernel's ISA");
    return;
  }
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> gate0(n), gate(n), up(n);
  for (size_t i = 0; i < n; ++i) {
    gate0[i] = normal(rng);
    up[i] = normal(rng);
  }
  for (auto _ : state) {
    std::copy(gate0.begin(), gate0.end(), gate.begin());
    fn(gate.data(), up.data(), n);
    benchmark::ClobberMemory();
  }
  state.counters["values/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * n, benchmark::Counter::kIsRate);
}

// An ISA's peak int8 rate (platforms/peak.h), to compare the GEMMs' GOP/s with.
void BenchPeak(benchmark::State& state, const PeakProbe* probe) {
  if (!CpuSupports(probe->isa)) {
    state.SkipWithError("this CPU lacks the probe's ISA");
    return;
  }
  const size_t rounds = 1 << 16;
  int32_t sink = 0;
  for (auto _ : state) {
    sink += probe->run(rounds);
    benchmark::DoNotOptimize(sink);
  }
  const double macs = static_cast<double>(state.iterations()) * rounds * probe->macs_per_round;
  state.counters["GOP/s"] = benchmark::Counter(2.0 * macs / 1e9, benchmark::Counter::kIsRate);
}

void RegisterAll() {
  size_t n_probes = 0;
  const PeakProbe* probes = PeakProbes(&n_probes);
  for (size_t i = 0; i < n_probes; ++i) {
    benchmark::RegisterBenchmark(probes[i].name, BenchPeak, &probes[i])->Unit(benchmark::kMicrosecond)->MinTime(0.2);
  }
#define EF_QGEMM_KERNEL(isa, fn)                                                                      \
  for (const Shape& s : kShapes) {                                                                    \
    for (size_t m : {size_t{1}, size_t{4}, size_t{5}, size_t{8}, size_t{128}, size_t{512}}) {             \
      if (m == 512 && Isa::isa == Isa::reference) continue; /* seconds per call */                   \
      benchmark::RegisterBenchmark((std::string(#fn "/") + s.name + "/m" + std::to_string(m)).c_str(), \
                                   BenchQGemm, &isa::fn, Isa::isa, s, m)                              \
          ->Unit(benchmark::kMicrosecond)                                                             \
          ->MinTime(0.2);                                                                             \
    }                                                                                                 \
  }
#define EF_Q4GEMM_KERNEL(isa, fn)                                                                     \
  for (const Shape& s : kShapes) {                                                                    \
    for (size_t m : {size_t{1}, size_t{128}}) {                                                       \
      if (m == 128 && Isa::isa == Isa::reference) continue; /* seconds per call */                   \
      benchmark::RegisterBenchmark((std::string(#fn "/") + s.name + "/m" + std::to_string(m)).c_str(), \
                                   BenchQ4Gemm, &isa::fn, Isa::isa, s, m)                             \
          ->Unit(benchmark::kMicrosecond)                                                             \
          ->MinTime(0.2);                                                                             \
    }                                                                                                 \
  }
#define EF_SGEMM_KERNEL(isa, fn)                                                                        \
  for (KvType type : {KvType::kF32, KvType::kF16}) {                                                    \
    for (const Shape& s : kShapes) {                                                                    \
      for (size_t m : {size_t{1}, size_t{16}, size_t{128}}) {                                           \
        const std::string wt = type == KvType::kF16 ? "/f16w" : "";                                     \
        benchmark::RegisterBenchmark((std::string(#fn) + wt + "/" + s.name + "/m" + std::to_string(m)).c_str(), \
                                     BenchSGemm, &isa::fn, Isa::isa, s, m, type)                        \
            ->Unit(benchmark::kMicrosecond)                                                             \
            ->MinTime(0.2);                                                                             \
      }                                                                                                 \
    }                                                                                                   \
  }
#define EF_ATTN_KERNEL(isa, scores, values)                                                                  \
  for (KvType type : {KvType::kF32, KvType::kF16}) {                                                         \
    for (size_t n : {size_t{256}, size_t{512}, size_t{2048}}) {                                              \
      const std::string kv = type == KvType::kF16 ? "f16" : "f32";                                           \
      benchmark::RegisterBenchmark((std::string(#scores "+" #values "/") + kv + "/n" + std::to_string(n)).c_str(), \
                                   BenchAttn, AttnFns{&isa::scores, &isa::values}, Isa::isa, n, 768, type)   \
          ->Unit(benchmark::kMicrosecond)                                                                    \
          ->MinTime(0.2);                                                                                    \
    }                                                                                                        \
  }
#define EF_ATTN_I8_KERNEL(isa, scores, values)                                                          \
  for (size_t n : {size_t{256}, size_t{512}, size_t{2048}}) {                                             \
    benchmark::RegisterBenchmark((std::string(#scores "+" #values "/int8/n") + std::to_string(n)).c_str(), \
                                 BenchAttnI8, AttnI8Fns{&isa::scores, &isa::values}, Isa::isa, n)         \
        ->Unit(benchmark::kMicrosecond)                                                                   \
        ->MinTime(0.2);                                                                                   \
  }
#define EF_SOFTMAX_KERNEL(isa, fn)                                                                       \
  for (size_t n : {size_t{256}, size_t{2048}}) {                                                           \
    benchmark::RegisterBenchmark((std::string(#fn "/n") + std::to_string(n)).c_str(), BenchSoftmax, &isa::fn, \
                                 Isa::isa, n)                                                              \
        ->Unit(benchmark::kNanosecond)                                                                     \
        ->MinTime(0.2);                                                                                    \
  }
#define EF_QUANTIZE_KERNEL(isa, fn)                                                                  \
  for (const size_t k : {size_t{2048}, size_t{5632}}) {                                                \
    benchmark::RegisterBenchmark((std::string(#fn "/m5/k") + std::to_string(k)).c_str(), BenchQuantize, \
                                 &isa::fn, Isa::isa, size_t{5}, k)                                      \
        ->Unit(benchmark::kNanosecond)                                                                 \
        ->MinTime(0.2);                                                                                \
  }
#define EF_SWIGLU_KERNEL(isa, fn)                                                                       \
  benchmark::RegisterBenchmark(#fn "/n28160", BenchSwiGlu, &isa::fn, Isa::isa, size_t{5 * 5632})       \
      ->Unit(benchmark::kNanosecond)                                                                    \
      ->MinTime(0.2);
#include "platforms/kernels.inc"
#undef EF_SOFTMAX_KERNEL
#undef EF_QUANTIZE_KERNEL
#undef EF_SWIGLU_KERNEL
#undef EF_QGEMM_KERNEL
#undef EF_Q4GEMM_KERNEL
#undef EF_SGEMM_KERNEL
#undef EF_ATTN_KERNEL
#undef EF_ATTN_I8_KERNEL
}

}  // namespace
}  // namespace edgeformer

int main(int argc, char** argv) {
  edgeformer::RegisterAll();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
