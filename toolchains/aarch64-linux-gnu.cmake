# CMake toolchain file: cross-compile edgeformer for aarch64 Linux with the
# Debian 12 cross toolchain (g++-aarch64-linux-gnu), using an arm64 sysroot of
# XNNPACK / pthreadpool / cpuinfo / flatbuffers made by make-arm64-sysroot.sh.
# (Modelled on ncnn's toolchains/aarch64-linux-gnu.toolchain.cmake.)
#
# One-time setup (Debian 12 amd64 host, root/sudo, Debian mirrors only):
#   apt-get install g++-aarch64-linux-gnu qemu-user cmake flatbuffers-compiler
#   bash toolchains/make-arm64-sysroot.sh            # -> build/arm64-sysroot
#     (also installs libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64, which
#      qemu-user needs to run dynamically linked arm64 binaries)
#
# Build:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
#         [-DEDGEFORMER_ARM64_SYSROOT=/abs/path/to/sysroot]
#   cmake --build build-arm64 -j1
#
# Run (binfmt_misc is often not available in containers, so call qemu
# explicitly; ctest does this itself through CMAKE_CROSSCOMPILING_EMULATOR):
#   QEMU_CPU=max        qemu-aarch64 build-arm64/prog   # all features incl. dotprod, i8mm
#   QEMU_CPU=cortex-a53 qemu-aarch64 build-arm64/prog   # baseline ARMv8.0 + NEON only
#   QEMU_CPU=cortex-a53 ctest --test-dir build-arm64
# Requires libc6:arm64 (installed by make-arm64-sysroot.sh). Do NOT use
# `qemu-aarch64 -L /usr/aarch64-linux-gnu` / QEMU_LD_PREFIX: that has been
# seen to hang at the first pthread_create. The sysroot's shared libraries
# (libXNNPACK.so.0, libcpuinfo.so.0, libpthreadpool.so.0, libflatbuffers.so.2)
# are found at run time through the build RPATH set below; installed
# binaries get no such RPATH (on a device the libs come from the system).

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Sysroot with the arm64 -dev packages unpacked by make-arm64-sysroot.sh.
# Cache variable, overridable with -DEDGEFORMER_ARM64_SYSROOT=... or the
# EDGEFORMER_ARM64_SYSROOT environment variable.
if(DEFINED ENV{EDGEFORMER_ARM64_SYSROOT} AND NOT "$ENV{EDGEFORMER_ARM64_SYSROOT}" STREQUAL "")
  set(_edgeformer_default_sysroot "$ENV{EDGEFORMER_ARM64_SYSROOT}")
else()
  set(_edgeformer_default_sysroot "${CMAKE_CURRENT_LIST_DIR}/../build/arm64-sysroot")
endif()
set(EDGEFORMER_ARM64_SYSROOT "${_edgeformer_default_sysroot}" CACHE PATH
    "arm64 sysroot made by toolchains/make-arm64-sysroot.sh")
get_filename_component(EDGEFORMER_ARM64_SYSROOT "${EDGEFORMER_ARM64_SYSROOT}" ABSOLUTE)
# Pass it on to try_compile() projects, which re-read this file.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EDGEFORMER_ARM64_SYSROOT)

set(_edgeformer_sysroot_libdir "${EDGEFORMER_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu")
get_property(_edgeformer_in_try_compile GLOBAL PROPERTY IN_TRY_COMPILE)
get_property(_edgeformer_warned GLOBAL PROPERTY EDGEFORMER_ARM64_SYSROOT_WARNED)
if(NOT _edgeformer_in_try_compile AND NOT _edgeformer_warned
   AND NOT EXISTS "${_edgeformer_sysroot_libdir}/libXNNPACK.so")
  set_property(GLOBAL PROPERTY EDGEFORMER_ARM64_SYSROOT_WARNED TRUE)
  message(WARNING
    "arm64 sysroot not found at ${EDGEFORMER_ARM64_SYSROOT}; "
    "run: bash toolchains/make-arm64-sysroot.sh ${EDGEFORMER_ARM64_SYSROOT}")
endif()

# Headers: <sysroot>/usr/include; libraries: <sysroot>/usr/lib/aarch64-linux-gnu
# (found via CMAKE_LIBRARY_ARCHITECTURE=aarch64-linux-gnu, which CMake detects
# from the compiler); CMake packages: <sysroot>/usr/lib/cmake/cpuinfo and
# <sysroot>/usr/lib/aarch64-linux-gnu/cmake/flatbuffers.
# Do not set CMAKE_SYSROOT: libc/libstdc++ come from the cross toolchain
# (/usr/aarch64-linux-gnu), which is not inside this partial sysroot.
set(CMAKE_FIND_ROOT_PATH "${EDGEFORMER_ARM64_SYSROOT}" /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)   # flatc etc. are host tools
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Baseline ISA only. Kernels needing more are compiled per source file with
#   dotprod: -march=armv8.2-a+dotprod   (vdotq_s32,  HWCAP_ASIMDDP)
#   i8mm:    -march=armv8.2-a+i8mm      (vmmlaq_s32, HWCAP2_I8MM)
# and selected at run time.
set(CMAKE_C_FLAGS_INIT "-march=armv8-a")
set(CMAKE_CXX_FLAGS_INIT "-march=armv8-a")

# Link time: let ld resolve the sysroot libraries' own DT_NEEDED entries
# (libXNNPACK.so.0 -> libcpuinfo.so.0, libpthreadpool.so.0).
foreach(_kind EXE SHARED MODULE)
  set(CMAKE_${_kind}_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_edgeformer_sysroot_libdir}")
endforeach()

# Run time under qemu-user: put the sysroot lib dir into the build-tree
# RPATH so plain `qemu-aarch64 ./prog` finds libXNNPACK.so.0 etc. The Debian
# linker emits DT_RUNPATH, which is NOT used for indirect dependencies, so
# use old-style DT_RPATH (--disable-new-dtags): libXNNPACK.so.0 then also
# finds libcpuinfo.so.0/libpthreadpool.so.0 even when the executable does
# not link those directly. Only the build tree gets it; install() strips it.
set(CMAKE_BUILD_RPATH "${_edgeformer_sysroot_libdir}")
foreach(_kind EXE SHARED MODULE)
  string(APPEND CMAKE_${_kind}_LINKER_FLAGS_INIT " -Wl,--disable-new-dtags")
endforeach()

# ctest / add_test() / try_run() run target binaries through qemu.
# Pick the emulated CPU with the QEMU_CPU environment variable.
find_program(EDGEFORMER_QEMU_AARCH64 qemu-aarch64)
if(EDGEFORMER_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${EDGEFORMER_QEMU_AARCH64}")
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
endif()
