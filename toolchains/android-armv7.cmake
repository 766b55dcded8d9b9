# Android armeabi-v7a (32-bit ARM with NEON) through the NDK's own toolchain file. Not tested here
# (no NDK on the CI machines), and edgeformer's ARM kernels are aarch64: a 32-bit build runs the
# reference kernels (plus XNNPACK's, which has armv7 NEON ones). See README, "Android and iOS".
#
#   cmake -S . -B build-android32 -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchains/android-armv7.cmake \
#         -DANDROID_NDK=/path/to/ndk -DEDGEFORMER_DEPS_PREFIX=/path/to/armv7/deps
set(ANDROID_ABI armeabi-v7a CACHE STRING "Android ABI")
set(ANDROID_ARM_NEON ON CACHE BOOL "NEON (every armeabi-v7a device since API 23 has it)")
set(ANDROID_PLATFORM android-24 CACHE STRING "lowest Android API level")
include("${CMAKE_CURRENT_LIST_DIR}/android-common.cmake")
