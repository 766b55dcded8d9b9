# Shared by android-arm64.cmake and android-armv7.cmake: finds the NDK (ANDROID_NDK, or the
# environment's ANDROID_NDK_HOME / ANDROID_NDK_ROOT) and includes its toolchain file, then points
# the dependency search at EDGEFORMER_DEPS_PREFIX.
if(NOT ANDROID_NDK)
  foreach(_edgeformer_var ANDROID_NDK_HOME ANDROID_NDK_ROOT ANDROID_NDK)
    if(DEFINED ENV{${_edgeformer_var}} AND NOT ANDROID_NDK)
      set(ANDROID_NDK "$ENV{${_edgeformer_var}}")
    endif()
  endforeach()
endif()
if(NOT ANDROID_NDK OR NOT EXISTS "${ANDROID_NDK}/build/cmake/android.toolchain.cmake")
  message(FATAL_ERROR "Set ANDROID_NDK (or ANDROID_NDK_HOME) to an Android NDK (r23 or later); "
                      "not found: '${ANDROID_NDK}/build/cmake/android.toolchain.cmake'")
endif()
set(ANDROID_NDK "${ANDROID_NDK}" CACHE PATH "Android NDK")
set(ANDROID_STL c++_static CACHE STRING "the C++ runtime linked into libedgeformer (apps see only C)")
include("${ANDROID_NDK}/build/cmake/android.toolchain.cmake")
set(EDGEFORMER_DEPS_PREFIX "" CACHE PATH "XNNPACK, pthreadpool and cpuinfo built for this ABI (include/, lib/)")
if(EDGEFORMER_DEPS_PREFIX)
  list(APPEND CMAKE_FIND_ROOT_PATH "${EDGEFORMER_DEPS_PREFIX}")
endif()
# flatc, python and the tests' tools run on the build machine.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
