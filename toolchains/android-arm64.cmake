# Android arm64-v8a through the NDK's own toolchain file. Not tested here (no NDK on the CI
# machines): see README, "Android and iOS".
#
#   cmake -S . -B build-android -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/android-arm64.cmake \
#         -DANDROID_NDK=/path/to/ndk -DEDGEFORMER_DEPS_PREFIX=/path/to/arm64/xnnpack-pthreadpool-cpuinfo
#
# EDGEFORMER_DEPS_PREFIX holds XNNPACK, pthreadpool and cpuinfo built for the ABI (include/, lib/);
# with -DEDGEFORMER_XNNPACK=OFF only pthreadpool and cpuinfo are needed.
set(ANDROID_ABI arm64-v8a CACHE STRING "Android ABI")
set(ANDROID_PLATFORM android-24 CACHE STRING "lowest Android API level (7.0: the oldest with aarch64 in wide use)")
include("${CMAKE_CURRENT_LIST_DIR}/android-common.cmake")
