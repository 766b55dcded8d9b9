# The WebAssembly build (Debian's emscripten): `emcmake cmake -S . -B build-wasm && cmake --build
# build-wasm`. Included by the top-level CMakeLists when EMSCRIPTEN is set.
#
# - Kernels: the reference ones and SIMD128 (platforms/wasm/simd128/) when EDGEFORMER_WASM_SIMD is
#   ON (the default); OFF builds a module without a single SIMD instruction, for engines without
#   SIMD (the JavaScript API loads it when WebAssembly.validate refuses the SIMD probe).
# - No threads: wasm threads need SharedArrayBuffer, which a page only gets when it is
#   cross-origin isolated (COOP/COEP headers), so the module is single-threaded and works on any
#   page; no pthreadpool, no cpuinfo, no XNNPACK.
# - The header-only packages (flatbuffers, CLI11, nlohmann-json, doctest) come from the host's
#   /usr/include, staged alone into the build tree: /usr/include itself must not be on the include
#   path, or glibc's headers would shadow Emscripten's libc.
# - Executables run under node (the toolchain sets node as the emulator, so ctest runs them) with
#   the host's file system (NODERAWFS): `node build-wasm/tools/edgeformer-run.js model.edgf ...`.
set(EDGEFORMER_ARCH WASM32)
option(EDGEFORMER_WASM_SIMD "Build the SIMD128 kernels (OFF: a module for engines without SIMD)" ON)
set(EDGEFORMER_XNNPACK OFF CACHE BOOL "Build the XNNPACK backend" FORCE)
set(EDGEFORMER_HAS_CPUINFO OFF)
set(EDGEFORMER_HAS_PTHREADPOOL OFF)

if(EDGEFORMER_WASM_SIMD)
  add_compile_options(-msimd128)
endif()
# C++ exceptions (CLI11 reports bad arguments with them; the library catches std::bad_alloc) as
# wasm exceptions: no JavaScript round trip per call, supported by node >= 17 and Chromium >= 95.
add_compile_options(-fwasm-exceptions)
add_link_options(-fwasm-exceptions -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB)

set(edgeformer_wasm_headers "${CMAKE_BINARY_DIR}/host-headers")
file(MAKE_DIRECTORY "${edgeformer_wasm_headers}")
foreach(dir flatbuffers CLI nlohmann doctest)
  if(NOT EXISTS "/usr/include/${dir}")
    message(FATAL_ERROR "edgeformer (wasm): /usr/include/${dir} is missing: run scripts/install-deps.sh")
  endif()
  file(CREATE_LINK "/usr/include/${dir}" "${edgeformer_wasm_headers}/${dir}" SYMBOLIC)
endforeach()
set(FLATBUFFERS_INCLUDE_DIR "${edgeformer_wasm_headers}")
foreach(target CLI11::CLI11 nlohmann_json::nlohmann_json doctest::doctest)
  add_library(${target} INTERFACE IMPORTED)
  set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${edgeformer_wasm_headers}")
endforeach()
set(CLI11_FOUND TRUE)
set(nlohmann_json_FOUND TRUE)
set(doctest_FOUND TRUE)

# Emscripten's JavaScript optimizer needs acorn, which Debian installs (node-acorn) where only
# Debian's own node looks: say where for every link.
if(EXISTS /usr/share/nodejs/acorn)
  set(CMAKE_C_LINKER_LAUNCHER "${CMAKE_COMMAND};-E;env;NODE_PATH=/usr/share/nodejs")
  set(CMAKE_CXX_LINKER_LAUNCHER "${CMAKE_COMMAND};-E;env;NODE_PATH=/usr/share/nodejs")
endif()

# emcmake names `node --experimental-wasm-threads` the emulator, an option node 20 refuses.
find_program(EDGEFORMER_NODE node REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${EDGEFORMER_NODE}")

# Links an executable that node runs with the host's files and environment (wasm-node-env.js):
# synchronous compilation (node's fetch cannot read a file path), the exit code returned.
function(edgeformer_wasm_node_executable target)
  target_link_options(${target} PRIVATE -sNODERAWFS=1 -sENVIRONMENT=node -sWASM_ASYNC_COMPILATION=0 -sEXIT_RUNTIME=1
                      "--pre-js=${PROJECT_SOURCE_DIR}/cmake/wasm-node-env.js")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${PROJECT_SOURCE_DIR}/cmake/wasm-node-env.js")
endfunction()
