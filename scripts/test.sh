#!/usr/bin/env bash
# README command 2: builds and runs every test.
#   1. x86-64 release build: all tests (every ISA kernel this CPU has, the real-model goldens);
#   2. the same x86-64 binaries on an emulated CPU without AVX (qemu-x86_64 -cpu Nehalem): the
#      baseline build must run anywhere and fall back to the reference kernels; then a Debug build
#      (nothing inlined): ISA objects define only their own namespace's symbols
#      (scripts/check-isa-symbols.sh, also for aarch64), and its tests pass on the Nehalem;
#   3. aarch64 cross build, all tests under qemu-aarch64 (QEMU_CPU=max: NEON + dotprod), and the
#      kernel and session tests again as a Cortex-A53 (NEON only);
#   4. WebAssembly (emscripten): the module without SIMD, then the SIMD128 build: its kernel and
#      runtime tests under node, the JavaScript package's tests (web/test) and the example page in
#      headless Chromium (a screenshot in build-wasm/artifacts/);
#   5. scripts/cross-isa-check.sh: the real model gives the same ids and bit-identical logits on
#      every ISA of both architectures and of WebAssembly;
#   6. scripts/example-check.sh: install both builds, build examples/ against the installed
#      package (CMake shared and static, pkg-config), run it (aarch64: under qemu; the static one
#      also on the Nehalem; the pkg-config one as installed, found through the .pc file's rpath);
#   7. a build without XNNPACK (-DEDGEFORMER_XNNPACK=OFF) running the tests that go through the
#      matmul and attention kernels;
#   8. scripts/fuzz.sh: the libFuzzer targets, 20000 executions each (clang, ASan + UBSan);
#   9. a ThreadSanitizer build running the tests labelled "threads" (the rest run one thread);
#   10. an AddressSanitizer + UndefinedBehaviorSanitizer build running the tests.
# ctest runs $(nproc) tests at a time (tests write only to their own temporary folders). Each
# step prints the minutes since the start, so a slow step shows in CI's log.
# Tests read real models from $EDGEFORMER_SHARED (default ../shared); with
# EDGEFORMER_REQUIRE_SHARED=1 a missing model fails instead of skipping.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/install-deps.sh
export EDGEFORMER_SHARED=${EDGEFORMER_SHARED:-$(cd "$repo/.." && pwd)/shared}
# One install of the tokenizer oracle's npm packages for every build tree.
export EDGEFORMER_NPM_DIR=${EDGEFORMER_NPM_DIR:-$repo/build/npm}
jobs=$(nproc)
passed=0
failed=0

# Runs ctest in a build folder and adds its counts to the totals.
run_ctest() {
  local dir=$1
  shift
  local log
  log=$(mktemp)
  if ctest --test-dir "$dir" --output-on-failure --parallel "$jobs" "$@" 2>&1 | tee "$log"; then :; fi
  local line total fails
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1 || true)
  if [[ -z $line ]]; then
    echo "!! no ctest summary from $dir" >&2
    failed=$((failed + 1))
  else
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    fails=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
    passed=$((passed + total - fails))
    failed=$((failed + fails))
  fi
  rm -f "$log"
}

# Configures the folder $1 with the CMake options up to "--", builds the targets after it and runs
# their tests (ctest -R); with no "--", builds everything and runs the tests not labelled slow.
build_and_test() {
  local dir=$1
  shift
  local options=() targets=()
  while [[ $# -gt 0 && $1 != -- ]]; do options+=("$1"); shift; done
  [[ $# -gt 0 ]] && { shift; targets=("$@"); }
  cmake -S . -B "$dir" -G Ninja "${options[@]}" >/dev/null
  if [[ ${#targets[@]} -eq 0 ]]; then
    cmake --build "$dir" -j"$jobs"
    run_ctest "$dir" -LE slow
  else
    cmake --build "$dir" -j"$jobs" --target "${targets[@]}"
    local names
    names=$(IFS='|'; echo "${targets[*]}")
    run_ctest "$dir" -R "^(${names})\$"
  fi
}

# Adds the counts of a script's last "N passed, M failed" line to the totals (no such line: one
# failure).
add_counts() {
  local counts
  counts=$(sed -nE 's/(^|.*[^0-9])([0-9]+) passed, ([0-9]+) failed.*/\2 \3/p' <<<"$1" | tail -1)
  if [[ -z $counts ]]; then
    echo "!! no summary line" >&2
    failed=$((failed + 1))
    return
  fi
  passed=$((passed + ${counts% *}))
  failed=$((failed + ${counts#* }))
}

step() { printf '\n==== [%d min] %s\n' $((SECONDS / 60)) "$*"; }

# Runs the test executables of build folder $1 named after it on an emulated CPU without AVX.
on_nehalem() {
  local dir=$1
  shift
  for t in "$@"; do
    if qemu-x86_64 -cpu Nehalem "$dir/tests/$t" >/tmp/edgeformer-nehalem.log 2>&1; then
      passed=$((passed + 1))
      tail -1 /tmp/edgeformer-nehalem.log
    else
      cat /tmp/edgeformer-nehalem.log
      failed=$((failed + 1))
    fi
  done
}

step "x86-64: build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
step "x86-64: tests"
run_ctest build

step "x86-64 binaries on a CPU without AVX (qemu-x86_64 -cpu Nehalem)"
on_nehalem build kernels_test session_test model_test

step "x86-64 Debug build: ISA helpers keep internal linkage; its tests on a CPU without AVX"
# A Debug build inlines nothing, so a shared helper with external linkage shows up as a weak
# symbol in the ISA objects (scripts/check-isa-symbols.sh), and a copy compiled with AVX flags
# that the linker kept for the baseline code would fault on the emulated Nehalem.
cmake -S . -B build-debug -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEDGEFORMER_BUILD_TOOLS=OFF >/dev/null
cmake --build build-debug -j"$jobs" --target kernels_test session_test
if isa_symbols=$(bash scripts/check-isa-symbols.sh build-debug); then :; fi
echo "$isa_symbols"
add_counts "$isa_symbols"
on_nehalem build-debug kernels_test session_test

step "aarch64: cross build"
cmake -S . -B build-arm64 -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake >/dev/null
cmake --build build-arm64 -j"$jobs"
step "aarch64: tests under qemu (QEMU_CPU=max)"
QEMU_CPU=max run_ctest build-arm64 -LE slow
step "aarch64: kernel and session tests as a Cortex-A53 (NEON, no dotprod)"
QEMU_CPU=cortex-a53 run_ctest build-arm64 -R "kernels_test|session_test"
step "aarch64 Debug objects: ISA helpers keep internal linkage"
cmake -S . -B build-arm64-debug -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEDGEFORMER_BUILD_TOOLS=OFF \
  -DEDGEFORMER_BUILD_TESTS=OFF -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake >/dev/null
cmake --build build-arm64-debug -j"$jobs" --target edgeformer_platforms
if isa_symbols=$(bash scripts/check-isa-symbols.sh build-arm64-debug aarch64-linux-gnu-nm); then :; fi
echo "$isa_symbols"
add_counts "$isa_symbols"

step "WebAssembly: the module without SIMD, the SIMD128 build, its tests under node, the page in headless Chromium"
emcmake cmake -S . -B build-wasm-scalar -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEFORMER_WASM_SIMD=OFF \
  -DEDGEFORMER_BUILD_TESTS=OFF -DEDGEFORMER_BUILD_TOOLS=OFF >/dev/null
cmake --build build-wasm-scalar -j"$jobs" --target edgeformer_wasm
emcmake cmake -S . -B build-wasm -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DEDGEFORMER_WEB_SCALAR_DIR="$repo/build-wasm-scalar/web" >/dev/null
cmake --build build-wasm -j"$jobs"
run_ctest build-wasm

step "the same tokens and logits on every ISA, x86-64, aarch64 and WebAssembly"
if cross=$(bash scripts/cross-isa-check.sh build build-arm64 build-wasm); then :; fi
echo "$cross"
add_counts "$cross"

step "install, and the example app built against the installed package (x86-64, and aarch64 under qemu)"
if example=$(bash scripts/example-check.sh build build-arm64); then :; fi
echo "$example"
add_counts "$example"

step "x86-64 without XNNPACK (-DEDGEFORMER_XNNPACK=OFF): builds and passes with the native kernels"
build_and_test build-noxnn -DCMAKE_BUILD_TYPE=Release -DEDGEFORMER_XNNPACK=OFF -DEDGEFORMER_BUILD_TOOLS=OFF \
  -- kernels_test session_test session_generate_test model_test alloc_test misuse_test hf_test gguf_test \
  sliding_window_test stacks_test

step "fuzz smoke: every libFuzzer target (clang, ASan + UBSan), 20000 executions each"
if fuzz=$(bash scripts/fuzz.sh 20000 build); then :; fi
# A failing target's log tail (fuzz.sh prints it after its FAIL line) is shown whole.
if echo "$fuzz" | grep -q '^FAIL '; then echo "$fuzz" | grep -v '^edgeformer-convert: '; else
  echo "$fuzz" | grep -E '^(ok|FAIL) |passed' || echo "$fuzz" | tail -40; fi
add_counts "$fuzz"

step "x86-64: ThreadSanitizer (the tests labelled threads: sessions in several threads, shared pools)"
build_and_test build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEFORMER_SANITIZE=thread -DEDGEFORMER_BUILD_TOOLS=OFF \
  -- alloc_test misuse_test session_test thread_pool_test model_test xnnpack_test

step "x86-64: AddressSanitizer + UndefinedBehaviorSanitizer"
ASAN_OPTIONS=detect_leaks=1 build_and_test build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEFORMER_SANITIZE=address,undefined

printf '\n'
echo "summary: $passed passed, $failed failed ($((SECONDS / 60)) min)"
[[ $failed -eq 0 ]]
