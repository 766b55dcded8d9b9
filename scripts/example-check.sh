#!/usr/bin/env bash
# Installs a build of edgeformer into <build>/install, builds examples/ against the installed
# package (CMake's find_package, shared and static, and pkg-config), runs the example app on
# aidreams260K and checks it writes the greedy text edgeformer-run writes (x86-64 build). With an
# aarch64 build it builds the example with the cross toolchain and runs it under qemu.
#
# Usage: bash scripts/example-check.sh <x86-build> [<aarch64-build>]
# Needs $EDGEFORMER_SHARED (default ../shared) with models/aidreams260K. Prints "N passed, M failed".
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$1" && pwd)
arm=${2:+$(cd "$2" && pwd)}
shared=${EDGEFORMER_SHARED:-$repo/../shared}
passed=0
failed=0
check() {  # check NAME COMMAND...: runs the command, counts it
  local name=$1; shift
  if "$@" >/tmp/edgeformer-example.log 2>&1; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; tail -20 /tmp/edgeformer-example.log
  fi
}

model=$build/example/aidreams.edgf
prompt="Echoes of"
mkdir -p "$build/example"
"$build/converter/edgeformer-convert" "$shared/models/aidreams260K/model.bin" \
  --tokenizer "$shared/models/aidreams260K/tokenizer.bin" -q -o "$model" || { echo "0 passed, 1 failed"; exit 1; }
"$build/tools/edgeformer-run" "$model" -p "$prompt" -n 48 --temperature 0 2>/dev/null > "$build/example/want.txt"

install_to() {  # install_to BUILD PREFIX
  rm -rf "$2" && cmake --install "$1" --prefix "$2"
}
same_text() {  # same_text EXAMPLE [EMULATOR...]: the example's output equals edgeformer-run's
  local exe=$1; shift
  "$@" "$exe" "$model" "$prompt" 48 > "$build/example/got.txt" && diff "$build/example/want.txt" "$build/example/got.txt"
}

prefix=$build/example/install
check "install (x86-64)" install_to "$build" "$prefix"
check "install puts every tool in bin/ (x86-64)" bash -c \
  "for t in convert run bench perplexity synth; do test -x '$prefix/bin/edgeformer-'\$t || { echo \"no edgeformer-\$t\"; exit 1; }; done"
for kind in shared static; do
  dir=$build/example/$kind
  static=OFF; [[ $kind == static ]] && static=ON
  check "example against the installed package, $kind (x86-64)" bash -c \
    "rm -rf '$dir' && cmake -S '$repo/examples' -B '$dir' -G Ninja -DCMAKE_PREFIX_PATH='$prefix' -DEDGEFORMER_STATIC=$static >/dev/null && cmake --build '$dir'"
  check "example output, $kind (x86-64)" same_text "$dir/complete"
done
# The static example holds every kernel: on a CPU without AVX it must still run (the baseline
# code never calls a helper compiled with AVX flags).
check "example output, static, on a CPU without AVX (qemu-x86_64 -cpu Nehalem)" \
  same_text "$build/example/static/complete" qemu-x86_64 -cpu Nehalem
pc_dir=$(dirname "$(find "$prefix" -name edgeformer.pc | head -1)")
check "example through pkg-config (x86-64)" bash -c \
  "cc -std=c99 -Wall -Werror '$repo/examples/complete.c' \$(PKG_CONFIG_PATH='$pc_dir' pkg-config --cflags --libs edgeformer) -o '$build/example/complete-pc'"
# As installed: the .pc file's rpath finds libedgeformer.so, no LD_LIBRARY_PATH.
check "example output, pkg-config, as installed (x86-64)" env -u LD_LIBRARY_PATH bash -c \
  "'$build/example/complete-pc' '$model' '$prompt' 48 > '$build/example/got.txt' && diff '$build/example/want.txt' '$build/example/got.txt'"

if [[ -n $arm ]]; then
  prefix=$arm/example/install
  dir=$arm/example/shared
  check "install (aarch64)" install_to "$arm" "$prefix"
  check "example against the installed package (aarch64)" bash -c \
    "rm -rf '$dir' && cmake -S '$repo/examples' -B '$dir' -G Ninja -DCMAKE_TOOLCHAIN_FILE='$repo/toolchains/aarch64-linux-gnu.cmake' -Dedgeformer_DIR='$prefix/lib/cmake/edgeformer' >/dev/null && cmake --build '$dir'"
  check "example output under qemu (aarch64)" same_text "$dir/complete" env QEMU_CPU=max qemu-aarch64
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
