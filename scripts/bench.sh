#!/usr/bin/env bash
# Regenerates the benchmark tables of docs/performance.md: synthetic models at the named shapes S
# (110M parameters) and M (1.1B), int8 (and f32 for S; S in f16 on both backends), 1 and 2
# threads, pp128, pp512, tg128, at KV-cache depths 0 and 512; then the int8 models at depth 512
# with an f16 KV cache against f32.
# Prints markdown to stdout (progress to stderr).
#
# Usage: bash scripts/bench.sh [build-dir]    (default: build; needs the tools built)
# Takes about 20 minutes on a 2-core machine. Models go to <build-dir>/bench-models (about 7 GB).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
models=$build/bench-models
mkdir -p "$models"
tools=$build/tools
convert=$build/converter/edgeformer-convert

for shape in S M; do
  [[ -f $models/$shape.bin ]] || "$tools/edgeformer-synth" --shape "$shape" --seed 1 -o "$models/$shape.bin" >&2
done
# Benchmarks quantize the embedding and classifier too (the fully int8 model); see README.
[[ -f $models/S-int8.edgf ]] || "$convert" "$models/S.bin" --quant int8 --quant-embedding int8 -q -o "$models/S-int8.edgf"
[[ -f $models/S-f32.edgf ]] || "$convert" "$models/S.bin" --quant none -q -o "$models/S-f32.edgf"
[[ -f $models/S-f16.edgf ]] || "$convert" "$models/S.bin" --quant f16 -q -o "$models/S-f16.edgf"
[[ -f $models/M-int8.edgf ]] || "$convert" "$models/M.bin" --quant int8 --quant-embedding int8 -q -o "$models/M-int8.edgf"

echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) vCPUs; $(date -u +%Y-%m-%d)."
echo
for m in S-int8 S-f32 M-int8; do
  echo "### $m"
  echo
  echo '```'
  echo "edgeformer-bench $m.edgf -p 128,512 -n 128 -t 1,2 -d 0,512 -r 5"
  echo '```'
  echo
  "$tools/edgeformer-bench" "$models/$m.edgf" -p 128,512 -n 128 -t 1,2 -d 0,512 -r 5
  echo
done
echo "### S-f16, native and XNNPACK"
echo
echo '```'
echo "edgeformer-bench S-f16.edgf -p 128 -n 128 -t 1 --backend native,xnnpack -r 3"
echo '```'
echo
"$tools/edgeformer-bench" "$models/S-f16.edgf" -p 128 -n 128 -t 1 --backend native,xnnpack -r 3
echo
for m in S-int8 M-int8; do
  echo "### $m, f16 KV cache against f32, depth 512"
  echo
  echo '```'
  echo "edgeformer-bench $m.edgf -p 512 -n 128 -t 1 -d 512 --kv-type f32,f16 -r 3"
  echo '```'
  echo
  "$tools/edgeformer-bench" "$models/$m.edgf" -p 512 -n 128 -t 1 -d 512 --kv-type f32,f16 -r 3
  echo
done
