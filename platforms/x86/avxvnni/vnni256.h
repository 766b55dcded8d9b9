// vpdpbusd on ymm for the AVX-VNNI kernels, and the namespace they are compiled into.
//
// The kernels of this folder run on CPUs with AVX-VNNI (the VEX encoding: Alder Lake and later
// Intel cores, Intel N100-class boards, AMD Zen 5), compiled with -mavxvnni. The same sources
// are compiled a second time for the tests only (EDGEFORMER_AVXVNNI_EVEX_TWIN, with AVX512-VL
// and AVX512-VNNI flags, into namespace edgeformer::avxvnni_evex_twin): there vpdpbusd has the
// EVEX encoding, which computes the same, so a machine with AVX512-VNNI and no AVX-VNNI still
// checks these kernels' arithmetic bit for bit against the reference.
//
// Included only by this folder's kernel files, at file scope: everything here has internal
// linkage.
#pragma once

#include "platforms/x86/intrinsics.h"

#if defined(EDGEFORMER_AVXVNNI_EVEX_TWIN)
#define EDGEFORMER_AVXVNNI_NS avxvnni_evex_twin
#else
#define EDGEFORMER_AVXVNNI_NS avxvnni
#endif

namespace {

// acc + the sums of 4 products of unsigned bytes of u by signed bytes of s, per int32 lane; no
// saturation.
inline __m256i Dpbusd(__m256i acc, __m256i u, __m256i s) {
#if defined(EDGEFORMER_AVXVNNI_EVEX_TWIN)
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  return _mm256_dpbusd_avx_epi32(acc, u, s);
#endif
}

}  // namespace
