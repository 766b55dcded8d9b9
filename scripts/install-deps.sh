#!/usr/bin/env bash
# Installs what edgeformer's build and tests need on Debian 12, from Debian's packages only:
# the compilers and libraries, the aarch64 cross toolchain and qemu, and the arm64 sysroot
# (toolchains/make-arm64-sysroot.sh). Idempotent: installs only what is missing. (The tokenizer
# tests install their npm packages themselves, into the build tree: tests/reference/hf_tokenizers.sh.)
#
# Usage: bash scripts/install-deps.sh [--no-arm64]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
arm64=1
[[ ${1:-} == --no-arm64 ]] && arm64=0

packages=(cmake ninja-build g++ git libflatbuffers-dev flatbuffers-compiler doctest-dev libcli11-dev
          libcpuinfo-dev libpthreadpool-dev libxnnpack-dev nlohmann-json3-dev libbenchmark-dev qemu-user pkg-config
          clang libclang-rt-14-dev
          python3-torch python3-sentencepiece  # the independent references of tests/reference/make_models.py
          python3-jinja2  # the chat templates' reference (tests/reference/chat_templates.py)
          python3-pytest python3-venv python3-numpy  # the Python binding's tests (python/tests)
          default-jdk-headless  # the JVM binding (java/): javac, jni.h and its tests
          emscripten chromium  # the WebAssembly build (cmake/wasm.cmake) and its page's test (web/test)
          fortunes)  # Debian's fortune files: the corpus of the trained encoder tests/data/fortunes-mlm
((arm64)) && packages+=(g++-aarch64-linux-gnu)
# node and npm run Hugging Face's tokenizers (npm, at test time) as the tokenizer tests' oracle;
# Debian's only where the machine has none of its own.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

SUDO=()
[[ $(id -u) -ne 0 ]] && SUDO=(sudo)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[install-deps] installing: ${missing[*]}" >&2
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ((arm64)); then
  bash "$repo/toolchains/make-arm64-sysroot.sh" "$repo/build/arm64-sysroot" >/dev/null
fi
echo "[install-deps] done" >&2
