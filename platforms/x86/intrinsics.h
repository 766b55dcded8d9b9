// <immintrin.h> for the x86 kernel files. GCC 12's AVX-512 headers pass _mm*_undefined_*() as
// unused merge sources, which its -W(maybe-)uninitialized falsely reports where they are inlined
// (GCC bug 105593); the warnings are silenced for the header only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#pragma GCC diagnostic pop
