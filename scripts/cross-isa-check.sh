#!/usr/bin/env bash
# The same tokens on every CPU: converts ../shared/models/aidreams260K (f32, int8, int4), then
# generates 127 greedy tokens and dumps the logits after a 101-token prompt with the x86-64 build
# at every ISA cap and with the aarch64 build under qemu at every ISA cap (QEMU_CPU=max, and a
# Cortex-A53 without dotprod), and with the WebAssembly build under node (reference and SIMD128
# kernels) when its folder is given, with an f32 KV cache, (int8) an f16 one and (int4) an int8 one. Every run must give the
# same ids and bit-identical logits (native backend: XNNPACK, which AUTO uses for f32 prefill, is
# not bit-exact).
#
# The same for the reference checkpoints of the Hugging Face families and the encoder-decoders
# (see below).
#
# Usage: bash scripts/cross-isa-check.sh <x86-build-dir> <arm64-build-dir or -> [<wasm-build-dir>]
# Prints "cross-isa: N passed, M failed" and exits non-zero on any difference.
set -euo pipefail

x86=$1
arm=$2
wasm=${3:-}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
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
# Every ISA cap of both builds; an ISA this CPU lacks is capped down by dispatch: the run is still
# valid, just repeated.
runs=("x86 reference -" "x86 avx2 -" "x86 avxvnni -" "x86 avx512vnni -" "x86 amx -")
[[ $arm != - ]] && runs+=("arm reference max" "arm neon max" "arm neondot max" "arm i8mm max" "arm neon cortex-a53")
[[ -n $wasm ]] && runs+=("wasm reference -" "wasm simd128 -")

# same_everywhere LABEL IDS_ARGS LOGITS_ARGS: on every run, the ids `edgeformer-run IDS_ARGS` prints
# and the logits file `edgeformer-run LOGITS_ARGS` writes to $tmp/logits (LOGITS_ARGS empty: IDS_ARGS
# writes it) must digest as on the first run. Arguments are space-separated words.
same_everywhere() {
  local label=$1 ids_args=$2 logits_args=$3
  local reference="" run arch isa cpu ids digest
  local -a exe
  for run in "${runs[@]}"; do
    read -r arch isa cpu <<<"$run"
    if [[ $arch == x86 ]]; then
      exe=("$x86/tools/edgeformer-run")
    elif [[ $arch == wasm ]]; then
      exe=(node "$wasm/tools/edgeformer-run.js")
    else
      exe=(env QEMU_CPU="$cpu" qemu-aarch64 "$arm/tools/edgeformer-run")
    fi
    rm -f "$tmp/logits"  # a run that writes none must not pass on the last run's file
    # shellcheck disable=SC2086  # the argument strings are word lists
    ids=$("${exe[@]}" $ids_args --max-isa "$isa" --backend native 2>/dev/null)
    if [[ -n $logits_args ]]; then
      # shellcheck disable=SC2086
      "${exe[@]}" $logits_args --max-isa "$isa" --backend native >/dev/null 2>&1
    fi
    digest="$(printf '%s' "$ids" | md5sum | cut -c1-32) $(md5sum <"$tmp/logits" 2>/dev/null | cut -c1-32)"
    if [[ -z $reference ]]; then reference=$digest; fi
    if [[ $digest == "$reference" ]]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "cross-isa: $label differs on $arch $isa ($cpu): $digest vs $reference" >&2
    fi
  done
}

for variant in "none f32" "int8 f32" "int8 f16" "int4 int8"; do
  read -r quant kv <<<"$variant"
  model=$tmp/$quant.edgf
  [[ -f $model ]] || "$x86/converter/edgeformer-convert" "$src/model.bin" --tokenizer "$src/tokenizer.bin" --quant "$quant" -q -o "$model"
  prompt=1,$("$x86/tools/edgeformer-run" "$model" --prompt-ids 1 -n 100 --temperature 0 --ignore-eos --print-ids 2>/dev/null)
  same_everywhere "$quant model (kv $kv)" \
    "$model --prompt-ids 1 -n 127 --temperature 0 --ignore-eos --print-ids --kv-type $kv" \
    "$model --prompt-ids $prompt -n 0 --dump-logits $tmp/logits --kv-type $kv"
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
  same_everywhere "$m" "$model --prompt-ids $prompt -n 60 --temperature 0 --ignore-eos --print-ids --dump-logits $tmp/logits" ""
done
# Encoder-decoders (tests/reference/make_seq2seq.py): a 40-token source through the encoder, the
# cross-attention caches (f32 and int8), 30 greedy target tokens and the first target logits, and
# a beam search's 4 best hypotheses.
for variant in "encdec_t5 f32" "encdec_post int8"; do
  read -r m kv <<<"$variant"
  if [[ ! -f $families/seq2seq/$m/config.json ]]; then
    echo "cross-isa: $families/seq2seq/$m is missing (run the x86 tests first)" >&2
    failed=$((failed + 1))
    continue
  fi
  model=$tmp/$m.edgf
  "$x86/converter/edgeformer-convert" --from hf "$families/seq2seq/$m" --no-tokenizer --quant int8 -q -o "$model"
  same_everywhere "$m (kv $kv)" \
    "$model --source-ids $(seq -s, 2 2 80) -n 30 --temperature 0 --ignore-eos --print-ids --kv-type $kv --dump-logits $tmp/logits" ""
  # Beam search: 4 beams sharing KV blocks, the 4 best hypotheses.
  same_everywhere "$m beams (kv $kv)" \
    "$model --source-ids $(seq -s, 3 2 81) -n 20 --beam 4 --n-best 4 --print-ids --kv-type $kv --dump-logits $tmp/logits" ""
done
# The trained encoder-decoder (tests/data/numbers-seq2seq, Marian's layout): a source text through
# its SentencePiece source tokenizer, greedy and 4 beams, int8 weights and an int8 cache.
model=$tmp/numbers.edgf
"$x86/converter/edgeformer-convert" --from hf "$repo/tests/data/numbers-seq2seq" --quant int8 -q -o "$model"
same_everywhere "numbers-seq2seq" "$model --source 907,316 -n 24 --temperature 0 --print-ids --kv-type int8 --dump-logits $tmp/logits" ""
same_everywhere "numbers-seq2seq beams" "$model --source 58016 -n 24 --beam 4 --n-best 4 --print-ids --kv-type int8 --dump-logits $tmp/logits" ""
echo "cross-isa: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
