#!/usr/bin/env bash
# The same tokens on every CPU: converts ../shared/models/aidreams260K (f32 and int8), then
# generates 127 greedy tokens and dumps the logits after a 101-token prompt with the x86-64 build
# at every ISA cap and with the aarch64 build under qemu at every ISA cap (QEMU_CPU=max, and a
# Cortex-A53 without dotprod), with an f32 KV cache and (int8) an f16 one. Every run must give the
# same ids and bit-identical logits (native backend: XNNPACK, which AUTO uses for f32 prefill, is
# not bit-exact).
#
# The same for the reference checkpoints of the Hugging Face families (see below).
#
# Usage: bash scripts/cross-isa-check.sh <x86-build-dir> <arm64-build-dir>
# Prints "cross-isa: N passed, M failed" and exits non-zero on any difference.
set -euo pipefail

x86=$1
arm=$2
shared=${EDGEFORMER_SHARED:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared}
src=$shared/models/aidreams260K
if [[ ! -f $src/model.bin ]]; then
  echo "cross-isa: $src is missing" >&2
  [[ ${EDGEFORMER_REQUIRE_SHARED:-0} == 1 ]] && { echo "cross-isa: 0 passed, 1 failed"; exit 1; }
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
for variant in "none f32" "int8 f32" "int8 f16"; do
  read -r quant kv <<<"$variant"
  model=$tmp/$quant.edgf
  [[ -f $model ]] || "$x86/converter/edgeformer-convert" "$src/model.bin" --tokenizer "$src/tokenizer.bin" --quant "$quant" -q -o "$model"
  prompt=1,$("$x86/tools/edgeformer-run" "$model" --prompt-ids 1 -n 100 --temperature 0 --ignore-eos --print-ids 2>/dev/null)
  runs=()
  for isa in reference avx2 avx512vnni amx; do runs+=("x86 $isa -"); done
  for isa in reference neon neondot i8mm; do runs+=("arm $isa max"); done
  runs+=("arm neon cortex-a53")
  reference=""
  for run in "${runs[@]}"; do
    read -r arch isa cpu <<<"$run"
    if [[ $arch == x86 ]]; then
      exe=("$x86/tools/edgeformer-run")
    else
      exe=(env QEMU_CPU="$cpu" qemu-aarch64 "$arm/tools/edgeformer-run")
    fi
    # An ISA this CPU lacks is capped down by dispatch: the run is still valid, just repeated.
    ids=$("${exe[@]}" "$model" --prompt-ids 1 -n 127 --temperature 0 --ignore-eos --print-ids --max-isa "$isa" --backend native \
      --kv-type "$kv" 2>/dev/null)
    "${exe[@]}" "$model" --prompt-ids "$prompt" -n 0 --dump-logits "$tmp/logits" --max-isa "$isa" --kv-type "$kv" --backend native \
      >/dev/null 2>&1
    digest="$(printf '%s' "$ids" | md5sum | cut -c1-32) $(md5sum <"$tmp/logits" | cut -c1-32)"
    if [[ -z $reference ]]; then reference=$digest; fi
    if [[ $digest == "$reference" ]]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "cross-isa: $quant model (kv $kv) differs on $arch $isa ($cpu): $digest vs $reference" >&2
    fi
  done
done
# The families' reference checkpoints (tests/reference/make_models.py, written by the x86 build's
# reference fixture): sliding windows with a ring of the window (decode wraps it), sandwich norms,
# soft-caps, q/k norms, LongRoPE; int8 weights, 60 greedy tokens after a 40-token prompt, and the
# logits after the prompt.
families=$x86/reference
prompt=$(seq -s, 3 6 240)  # ids below every vocabulary here
for m in gemma2_f32 gemma3_f32 mistral_sw_f32 qwen3_f32 phi3_f32; do
  if [[ ! -f $families/$m/config.json ]]; then
    echo "cross-isa: $families/$m is missing (run the x86 tests first)" >&2
    failed=$((failed + 1))
    continue
  fi
  model=$tmp/$m.edgf
  "$x86/converter/edgeformer-convert" --from hf "$families/$m" --no-tokenizer --quant int8 -q -o "$model"
  reference=""
  for run in "x86 reference -" "x86 avx2 -" "x86 avx512vnni -" "x86 amx -" "arm reference max" "arm neon max" \
             "arm neondot max" "arm i8mm max" "arm neon cortex-a53"; do
    read -r arch isa cpu <<<"$run"
    if [[ $arch == x86 ]]; then
      exe=("$x86/tools/edgeformer-run")
    else
      exe=(env QEMU_CPU="$cpu" qemu-aarch64 "$arm/tools/edgeformer-run")
    fi
    ids=$("${exe[@]}" "$model" --prompt-ids "$prompt" -n 60 --temperature 0 --ignore-eos --print-ids --max-isa "$isa" \
      --backend native --dump-logits "$tmp/logits" 2>/dev/null)
    digest="$(printf '%s' "$ids" | md5sum | cut -c1-32) $(md5sum <"$tmp/logits" | cut -c1-32)"
    if [[ -z $reference ]]; then reference=$digest; fi
    if [[ $digest == "$reference" ]]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "cross-isa: $m differs on $arch $isa ($cpu): $digest vs $reference" >&2
    fi
  done
done
echo "cross-isa: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
