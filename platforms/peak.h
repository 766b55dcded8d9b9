// Peak-rate probes for the benchmarks: each runs `rounds` rounds of independent int8
// multiply-accumulate instructions of one ISA on registers or tiles only (no memory traffic, no
// dependency stalls), so multiply-adds per second give the core's int8 peak as this machine
// delivers it (clock and all), the yardstick for the GEMM kernels. Not used by the runtime.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platforms/isa.h"

namespace edgeformer {

struct PeakProbe {
  const char* name;
  Isa isa;                    // the probe runs only where CpuSupports(isa)
  uint64_t macs_per_round;    // int8 multiply-adds per round
  int32_t (*run)(size_t rounds);  // returns a sum of the accumulators, so the work is kept
};

// The probes of this build (x86: AVX2 vpsignb + vpmaddubsw + vpmaddwd, AVX512-VNNI vpdpbusd, AMX
// tdpbssd; none elsewhere yet).
const PeakProbe* PeakProbes(size_t* count);

}  // namespace edgeformer
