#include "platforms/isa.h"

#include <cpuinfo.h>

#include <cstdlib>

#if defined(EDGEFORMER_ARCH_AARCH64) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace edgeformer {
namespace {

struct IsaInfo {
  Isa isa;
  const char* name;
};

constexpr IsaInfo kIsas[] = {
    {Isa::reference, "reference"}, {Isa::avx2, "avx2"},       {Isa::avx512vnni, "avx512vnni"},
    {Isa::neon, "neon"},           {Isa::neondot, "neondot"},
};

bool CpuinfoReady() {
  static const bool ready = cpuinfo_initialize();
  return ready;
}

#if defined(EDGEFORMER_ARCH_AARCH64)
// cpuinfo reads /proc/cpuinfo, which under qemu-user describes the host; the auxiliary vector
// describes the emulated CPU on both real hardware and qemu, so it is consulted as well.
bool ArmHasDotProd() {
#if defined(__linux__)
  constexpr unsigned long kHwcapAsimdDp = 1ul << 20;
  if (getauxval(AT_HWCAP) & kHwcapAsimdDp) return true;
#endif
  return CpuinfoReady() && cpuinfo_has_arm_neon_dot();
}
#endif

}  // namespace

const char* IsaName(Isa isa) {
  for (const IsaInfo& info : kIsas) {
    if (info.isa == isa) return info.name;
  }
  return "unknown";
}

Result<Isa> ParseIsa(const std::string& name) {
  for (Isa isa : BuildIsas()) {
    if (name == IsaName(isa)) return isa;
  }
  std::string known;
  for (Isa isa : BuildIsas()) known += std::string(known.empty() ? "" : ", ") + IsaName(isa);
  return Error(Status::kInvalidArgument, "unknown ISA '" + name + "' (this build has: " + known + ")");
}

std::vector<Isa> BuildIsas() {
#if defined(EDGEFORMER_ARCH_X86_64)
  return {Isa::reference, Isa::avx2, Isa::avx512vnni};
#elif defined(EDGEFORMER_ARCH_AARCH64)
  return {Isa::reference, Isa::neon, Isa::neondot};
#else
  return {Isa::reference};
#endif
}

bool CpuSupports(Isa isa) {
  switch (isa) {
    case Isa::reference:
      return true;
#if defined(EDGEFORMER_ARCH_X86_64)
    case Isa::avx2:
      return CpuinfoReady() && cpuinfo_has_x86_avx2();
    case Isa::avx512vnni:
      return CpuinfoReady() && cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() &&
             cpuinfo_has_x86_avx512vl() && cpuinfo_has_x86_avx512vnni();
#endif
#if defined(EDGEFORMER_ARCH_AARCH64)
    case Isa::neon:
      return true;  // Advanced SIMD is mandatory on AArch64.
    case Isa::neondot:
      return ArmHasDotProd();
#endif
    default:
      return false;
  }
}

Isa BestIsa(Isa cap) {
  Isa best = Isa::reference;
  for (Isa isa : BuildIsas()) {
    if (static_cast<int>(isa) > static_cast<int>(cap)) break;
    if (CpuSupports(isa)) best = isa;
  }
  return best;
}

Result<Isa> MaxIsaFromEnvironment() {
  const char* env = std::getenv("EDGEFORMER_MAX_ISA");
  if (env == nullptr || *env == '\0') return BuildIsas().back();
  Result<Isa> isa = ParseIsa(env);
  if (!isa.ok()) {
    return Error(Status::kInvalidArgument, "EDGEFORMER_MAX_ISA: " + isa.error().message());
  }
  return isa;
}

std::string CpuDescription() {
  if (CpuinfoReady() && cpuinfo_get_packages_count() > 0) {
    const char* name = cpuinfo_get_package(0)->name;
    if (name != nullptr && *name != '\0') return name;
  }
#if defined(EDGEFORMER_ARCH_X86_64)
  return "x86-64 CPU";
#elif defined(EDGEFORMER_ARCH_AARCH64)
  return "AArch64 CPU";
#else
  return "CPU";
#endif
}

}  // namespace edgeformer
