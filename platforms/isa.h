// Instruction-set levels edgeformer has kernels for, and what the running CPU supports.
//
// Detection runs once (thread-safe, cached). EDGEFORMER_MAX_ISA=<name> in the environment caps
// the level, so tests and users can run any path the CPU has.
#pragma once

#include <string>
#include <vector>

namespace edgeformer {

// Ordered within each architecture from plainest to best.
enum class Isa : int {
  reference = 0,
  avx2 = 1,
  avxvnni = 2,     // x86 AVX2 with AVX-VNNI (VEX vpdpbusd on ymm), between avx2 and avx512vnni
  avx512vnni = 3,
  neon = 4,
  neondot = 5,
  amx = 6,   // x86 AMX-INT8 (with AVX512-VNNI), above avx512vnni
  i8mm = 7,  // AArch64 int8 matrix multiply (with dotprod), above neondot
  simd128 = 8,  // WebAssembly SIMD128 (a build option: a module has it or not, cmake/wasm.cmake)
};

const char* IsaName(Isa isa);
// The ISA of this build called `name` ("avx2"); false when there is none by that name.
bool ParseIsa(const std::string& name, Isa* out);
// This build's ISA names, comma-separated, plainest first (for messages).
std::string IsaNames();

// True if this CPU can run kernels of `isa`.
bool CpuSupports(Isa isa);

// The best ISA the CPU supports, capped by `cap` (the ISA itself or the best below it on this
// architecture). Use BestIsa(MaxIsaFromEnvironment()) for the default.
Isa BestIsa(Isa cap);

// The cap from EDGEFORMER_MAX_ISA, or the best ISA of this architecture when unset. False when
// the variable names no ISA of this build (*value then holds what it says).
bool MaxIsaFromEnvironment(Isa* out, std::string* value);

// Every ISA of this build's architecture, plainest first.
std::vector<Isa> BuildIsas();

// A short description of the CPU (model name, when known).
std::string CpuDescription();

}  // namespace edgeformer
