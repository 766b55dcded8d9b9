#include "platforms/isa.h"

#if defined(EDGEFORMER_HAS_CPUINFO)
#include <cpuinfo.h>
#endif

#include <cstdlib>

#if defined(EDGEFORMER_ARCH_AARCH64) && defined(__linux__)
#include <sys/auxv.h>
#endif
#if defined(EDGEFORMER_ARCH_X86_64)
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif

namespace edgeformer {
namespace {

struct IsaInfo {
  Isa isa;
  const char* name;
};

constexpr IsaInfo kIsas[] = {
    {Isa::reference, "reference"}, {Isa::avx2, "avx2"},       {Isa::avxvnni, "avxvnni"}, {Isa::avx512vnni, "avx512vnni"},
    {Isa::neon, "neon"},           {Isa::neondot, "neondot"},     {Isa::amx, "amx"},
    {Isa::i8mm, "i8mm"},           {Isa::simd128, "simd128"},
};

#if defined(EDGEFORMER_HAS_CPUINFO)
bool CpuinfoReady() {
  static const bool ready = cpuinfo_initialize();
  return ready;
}
#endif

#if defined(EDGEFORMER_ARCH_X86_64)
// AVX-VNNI (the VEX-encoded vpdpbusd): CPUID 7.1 EAX bit 4. cpuinfo of 2022 does not know it; the
// OS's saving of ymm state is checked with AVX2 (CpuSupports(Isa::avx2)).
bool X86HasAvxVnni() {
  static const bool has = [] {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || eax < 1) return false;  // leaf 7's subleaves
    if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return false;
    return (eax & (1u << 4)) != 0;
  }();
  return has;
}

// AMX-INT8: the CPU has it (CPUID 7.0 EDX bits 24 and 25), the OS saves its state (XCR0 bits 17
// and 18), and Linux granted this process the tile data permission (arch_prctl, once; a refusal
// means no AMX, and the VNNI kernels run instead). cpuinfo of 2022 does not know AMX.
bool X86HasAmx() {
  static const bool has = [] {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    if (!(edx & (1u << 24)) || !(edx & (1u << 25))) return false;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return false;  // OSXSAVE
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & (3u << 17)) != (3u << 17)) return false;
#if defined(__linux__)
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
    return false;
#endif
  }();
  return has;
}
#endif

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

// Debian 12's cpuinfo has no i8mm query; HWCAP2_I8MM is bit 13 of AT_HWCAP2.
bool ArmHasI8mm() {
#if defined(__linux__)
  constexpr unsigned long kHwcap2I8mm = 1ul << 13;
  return (getauxval(AT_HWCAP2) & kHwcap2I8mm) != 0;
#else
  return false;
#endif
}
#endif

}  // namespace

const char* IsaName(Isa isa) {
  for (const IsaInfo& info : kIsas) {
    if (info.isa == isa) return info.name;
  }
  return "unknown";
}

bool ParseIsa(const std::string& name, Isa* out) {
  for (Isa isa : BuildIsas()) {
    if (name == IsaName(isa)) {
      *out = isa;
      return true;
    }
  }
  return false;
}

std::string IsaNames() {
  std::string known;
  for (Isa isa : BuildIsas()) known += std::string(known.empty() ? "" : ", ") + IsaName(isa);
  return known;
}

std::vector<Isa> BuildIsas() {
#if defined(EDGEFORMER_ARCH_X86_64)
  return {Isa::reference, Isa::avx2, Isa::avxvnni, Isa::avx512vnni, Isa::amx};
#elif defined(EDGEFORMER_ARCH_AARCH64)
  return {Isa::reference, Isa::neon, Isa::neondot, Isa::i8mm};
#elif defined(EDGEFORMER_ARCH_WASM32) && defined(EDGEFORMER_WASM_SIMD)
  return {Isa::reference, Isa::simd128};
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
      return CpuinfoReady() && cpuinfo_has_x86_avx2() && cpuinfo_has_x86_f16c();
    case Isa::avxvnni:
      return CpuSupports(Isa::avx2) && X86HasAvxVnni();
    case Isa::avx512vnni:
      return CpuinfoReady() && cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() &&
             cpuinfo_has_x86_avx512vl() && cpuinfo_has_x86_avx512vnni();
    case Isa::amx:
      return CpuSupports(Isa::avx512vnni) && X86HasAmx();
#endif
#if defined(EDGEFORMER_ARCH_AARCH64)
    case Isa::neon:
      return true;  // Advanced SIMD is mandatory on AArch64.
    case Isa::neondot:
      return ArmHasDotProd();
    case Isa::i8mm:
      return ArmHasDotProd() && ArmHasI8mm();
#endif
#if defined(EDGEFORMER_ARCH_WASM32) && defined(EDGEFORMER_WASM_SIMD)
    case Isa::simd128:
      return true;  // the module validated, so the engine runs SIMD128
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

bool MaxIsaFromEnvironment(Isa* out, std::string* value) {
  const char* env = std::getenv("EDGEFORMER_MAX_ISA");
  if (env == nullptr || *env == '\0') {
    *out = BuildIsas().back();
    return true;
  }
  *value = env;
  return ParseIsa(env, out);
}

std::string CpuDescription() {
#if defined(EDGEFORMER_HAS_CPUINFO)
  if (CpuinfoReady() && cpuinfo_get_packages_count() > 0) {
    const char* name = cpuinfo_get_package(0)->name;
    if (name != nullptr && *name != '\0') return name;
  }
#endif
#if defined(EDGEFORMER_ARCH_X86_64)
  return "x86-64 CPU";
#elif defined(EDGEFORMER_ARCH_AARCH64)
  return "AArch64 CPU";
#elif defined(EDGEFORMER_ARCH_WASM32)
  return "WebAssembly engine";
#else
  return "CPU";
#endif
}

}  // namespace edgeformer
