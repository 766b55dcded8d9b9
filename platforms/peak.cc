#include "platforms/peak.h"

namespace edgeformer {

#if defined(EDGEFORMER_ARCH_X86_64)
namespace avx2 {
int32_t maddubs_peak_probe__avx2(size_t rounds);
}
namespace avx512vnni {
int32_t dpbusd_peak_probe__avx512vnni(size_t rounds);
}
namespace amx {
int32_t tdpbssd_peak_probe__amx(size_t rounds);
}
#endif

const PeakProbe* PeakProbes(size_t* count) {
#if defined(EDGEFORMER_ARCH_X86_64)
  static const PeakProbe kProbes[] = {
      {"maddubs_peak_probe__avx2", Isa::avx2, 8 * 32, &avx2::maddubs_peak_probe__avx2},
      {"dpbusd_peak_probe__avx512vnni", Isa::avx512vnni, 16 * 64, &avx512vnni::dpbusd_peak_probe__avx512vnni},
      {"tdpbssd_peak_probe__amx", Isa::amx, 4 * 16 * 16 * 64, &amx::tdpbssd_peak_probe__amx},
  };
  *count = sizeof(kProbes) / sizeof(kProbes[0]);
  return kProbes;
#else
  *count = 0;
  return nullptr;
#endif
}

}  // namespace edgeformer
