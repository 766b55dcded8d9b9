#include "platforms/kernels.h"

namespace edgeformer {
namespace {

#define EF_QGEMM_KERNEL(isa, fn) {Isa::isa, #fn, &isa::fn},
#define EF_Q4GEMM_KERNEL(isa, fn)
#define EF_SGEMM_KERNEL(isa, fn)
#define EF_ATTN_KERNEL(isa, scores, values)
#define EF_ATTN_I8_KERNEL(isa, scores, values)
#define EF_SOFTMAX_KERNEL(isa, fn)
#define EF_QUANTIZE_KERNEL(isa, fn)
#define EF_SWIGLU_KERNEL(isa, fn)
const KernelEntry<QGemmFn> kQGemm[] = {
#include "platforms/kernels.inc"
};
#undef EF_QGEMM_KERNEL
#undef EF_Q4GEMM_KERNEL

#define EF_QGEMM_KERNEL(isa, fn)
#define EF_Q4GEMM_KERNEL(isa, fn) {Isa::isa, #fn, &isa::fn},
const KernelEntry<Q4GemmFn> kQ4Gemm[] = {
#include "platforms/kernels.inc"
};
#undef EF_QGEMM_KERNEL
#undef EF_Q4GEMM_KERNEL
#undef EF_SGEMM_KERNEL
#undef EF_ATTN_KERNEL

#define EF_QGEMM_KERNEL(isa, fn)
#define EF_Q4GEMM_KERNEL(isa, fn)
#define EF_SGEMM_KERNEL(isa, fn) {Isa::isa, #fn, &isa::fn},
#define EF_ATTN_KERNEL(isa, scores, values)
const KernelEntry<SGemmFn> kSGemm[] = {
#include "platforms/kernels.inc"
};
#undef EF_SGEMM_KERNEL
#undef EF_ATTN_KERNEL

#define EF_SGEMM_KERNEL(isa, fn)
#define EF_ATTN_KERNEL(isa, scores, values) {Isa::isa, #scores "+" #values, {&isa::scores, &isa::values}},
const KernelEntry<AttnFns> kAttn[] = {
#include "platforms/kernels.inc"
};
#undef EF_ATTN_KERNEL
#undef EF_ATTN_I8_KERNEL

#define EF_ATTN_KERNEL(isa, scores, values)
#define EF_ATTN_I8_KERNEL(isa, scores, values) {Isa::isa, #scores "+" #values, {&isa::scores, &isa::values}},
const KernelEntry<AttnI8Fns> kAttnI8[] = {
#include "platforms/kernels.inc"
};
#undef EF_ATTN_I8_KERNEL
#undef EF_SOFTMAX_KERNEL

#define EF_ATTN_I8_KERNEL(isa, scores, values)
#define EF_SOFTMAX_KERNEL(isa, fn) {Isa::isa, #fn, &isa::fn},
const KernelEntry<SoftmaxFn> kSoftmax[] = {
#include "platforms/kernels.inc"
};
#undef EF_SOFTMAX_KERNEL
#undef EF_QUANTIZE_KERNEL

#define EF_SOFTMAX_KERNEL(isa, fn)
#define EF_QUANTIZE_KERNEL(isa, fn) {Isa::isa, #fn, &isa::fn},
const KernelEntry<QuantizeRowsFn> kQuantize[] = {
#include "platforms/kernels.inc"
};
#undef EF_QUANTIZE_KERNEL
#undef EF_SWIGLU_KERNEL

#define EF_QUANTIZE_KERNEL(isa, fn)
#define EF_SWIGLU_KERNEL(isa, fn) {Isa::isa, #fn, &isa::fn},
const KernelEntry<SwiGluFn> kSwiGlu[] = {
#include "platforms/kernels.inc"
};
#undef EF_SOFTMAX_KERNEL
#undef EF_QUANTIZE_KERNEL
#undef EF_SWIGLU_KERNEL
#undef EF_QGEMM_KERNEL
#undef EF_Q4GEMM_KERNEL
#undef EF_SGEMM_KERNEL
#undef EF_ATTN_KERNEL
#undef EF_ATTN_I8_KERNEL

// The last entry (best, by kernels.inc order) that the CPU supports at or below `isa`.
template <typename Fn, size_t N>
const KernelEntry<Fn>& Pick(const KernelEntry<Fn> (&entries)[N], Isa isa) {
  const KernelEntry<Fn>* best = &entries[0];
  for (const KernelEntry<Fn>& e : entries) {
    if (static_cast<int>(e.isa) <= static_cast<int>(isa) && CpuSupports(e.isa)) best = &e;
  }
  return *best;
}

}  // namespace

const KernelEntry<QGemmFn>* QGemmKernels(size_t* count) {
  *count = sizeof(kQGemm) / sizeof(kQGemm[0]);
  return kQGemm;
}

const KernelEntry<Q4GemmFn>* Q4GemmKernels(size_t* count) {
  *count = sizeof(kQ4Gemm) / sizeof(kQ4Gemm[0]);
  return kQ4Gemm;
}

const KernelEntry<SGemmFn>* SGemmKernels(size_t* count) {
  *count = sizeof(kSGemm) / sizeof(kSGemm[0]);
  return kSGemm;
}

const KernelEntry<AttnFns>* AttnKernels(size_t* count) {
  *count = sizeof(kAttn) / sizeof(kAttn[0]);
  return kAttn;
}

const KernelEntry<AttnI8Fns>* AttnI8Kernels(size_t* count) {
  *count = sizeof(kAttnI8) / sizeof(kAttnI8[0]);
  return kAttnI8;
}

const KernelEntry<SoftmaxFn>* SoftmaxKernels(size_t* count) {
  *count = sizeof(kSoftmax) / sizeof(kSoftmax[0]);
  return kSoftmax;
}

const KernelEntry<QuantizeRowsFn>* QuantizeKernels(size_t* count) {
  *count = sizeof(kQuantize) / sizeof(kQuantize[0]);
  return kQuantize;
}

const KernelEntry<SwiGluFn>* SwiGluKernels(size_t* count) {
  *count = sizeof(kSwiGlu) / sizeof(kSwiGlu[0]);
  return kSwiGlu;
}

KernelTable SelectKernels(Isa cap) {
  const Isa isa = BestIsa(cap);
  const KernelEntry<QGemmFn>& q = Pick(kQGemm, isa);
  const KernelEntry<SGemmFn>& s = Pick(kSGemm, isa);
  const KernelEntry<AttnFns>& a = Pick(kAttn, isa);
  const KernelEntry<Q4GemmFn>& q4 = Pick(kQ4Gemm, isa);
  const KernelEntry<AttnI8Fns>& a8 = Pick(kAttnI8, isa);
  const KernelEntry<SoftmaxFn>& sm = Pick(kSoftmax, isa);
  const KernelEntry<QuantizeRowsFn>& qr = Pick(kQuantize, isa);
  const KernelEntry<SwiGluFn>& sg = Pick(kSwiGlu, isa);
  return KernelTable{isa,    q.fn,  q.name,  q.isa,    s.fn,    s.name,  s.isa,  a.fn,   a.name, a.isa,
                     q4.fn, q4.name, q4.isa, a8.fn, a8.name, a8.isa, sm.fn, sm.name, sm.isa,
                     qr.fn, qr.name, qr.isa, sg.fn, sg.name, sg.isa};
}

}  // namespace edgeformer
