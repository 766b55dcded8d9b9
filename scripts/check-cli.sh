#!/usr/bin/env bash
# The command-line tools' shared conventions, run as a user would: --version on every tool, the
# exit codes (0 done, 1 the work failed, 2 a bad command line), a random sampling seed printed by
# edgeformer-run that --seed repeats, and a wrong tokenizer file named for what it is.
#
# Usage: scripts/check-cli.sh BUILD_DIR [EMULATOR...]   (EMULATOR: e.g. qemu-aarch64 for a cross
# build). Prints "N passed, M failed".
set -uo pipefail
build=$(cd "$1" && pwd)
shift
emu=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
expect() {  # expect NAME CODE COMMAND...: the command exits with CODE
  local name=$1 code=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [[ $got -eq $code ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name: exit $got, expected $code"
    tail -5 "$tmp/err"
  fi
}
contains() {  # contains NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $1: no '$3' in $(head -c 300 "$2")"; fi
}

run=("${emu[@]}" "$build/tools/edgeformer-run")
convert=("${emu[@]}" "$build/converter/edgeformer-convert")
synth=("${emu[@]}" "$build/tools/edgeformer-synth")
bench=("${emu[@]}" "$build/tools/edgeformer-bench")
perplexity=("${emu[@]}" "$build/tools/edgeformer-perplexity")
for tool in run convert synth bench perplexity; do
  declare -n cmd=$tool
  expect "edgeformer-$tool --version" 0 "${cmd[@]}" --version
  contains "edgeformer-$tool --version" "$tmp/out" "edgeformer-$tool 0."
  expect "edgeformer-$tool with an unknown option" 2 "${cmd[@]}" --no-such-option
  contains "edgeformer-$tool usage message" "$tmp/err" "Run with --help"
done

# A model to work on (random weights: the text is nonsense, the codes are what matter).
"${synth[@]}" --dim 32 --hidden 48 --layers 1 --heads 2 --kv-heads 1 --vocab 300 --seq-len 64 \
  -o "$tmp/m.bin" --tokenizer-output "$tmp/m.tok" 2>/dev/null
expect "convert" 0 "${convert[@]}" "$tmp/m.bin" --tokenizer "$tmp/m.tok" -q -o "$tmp/m.edgf"
expect "run on a missing model" 1 "${run[@]}" "$tmp/absent.edgf" -p hi
expect "bench on a missing model" 1 "${bench[@]}" "$tmp/absent.edgf" -r 1
expect "perplexity on a missing model" 1 "${perplexity[@]}" "$tmp/absent.edgf" "$tmp/m.tok"
expect "convert a missing checkpoint" 1 "${convert[@]}" "$tmp/absent.bin" -o "$tmp/x.edgf"
expect "run with a bad --prompt-ids" 2 "${run[@]}" "$tmp/m.edgf" --prompt-ids 1,x
mkfifo "$tmp/fifo"
expect "run on a FIFO (refused, not waited on)" 1 timeout 20 "${run[@]}" "$tmp/fifo" -p hi
contains "run on a FIFO" "$tmp/err" "not a regular file"

# Sampling: a random seed each run, printed; --seed repeats it.
expect "sample 1" 0 "${run[@]}" "$tmp/m.edgf" -p "ab" -n 12 --temperature 1 --print-ids
seed1=$(grep -oE 'seed [0-9]+' "$tmp/err" | awk '{print $2}')
ids1=$(cat "$tmp/out")
expect "sample 2" 0 "${run[@]}" "$tmp/m.edgf" -p "ab" -n 12 --temperature 1 --print-ids
seed2=$(grep -oE 'seed [0-9]+' "$tmp/err" | awk '{print $2}')
if [[ -n $seed1 && -n $seed2 && $seed1 != "$seed2" ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL seeds: '$seed1' '$seed2'"; fi
expect "sample 1 again with --seed" 0 "${run[@]}" "$tmp/m.edgf" -p "ab" -n 12 --temperature 1 --print-ids --seed "$seed1"
if [[ $(cat "$tmp/out") == "$ids1" ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL --seed $seed1 did not repeat: $ids1 / $(cat "$tmp/out")"; fi

# A tokenizer of another format is named.
printf '{"model": {"type": "BPE", "vocab": {}}}' > "$tmp/tokenizer.json"
expect "convert with a tokenizer.json as --tokenizer" 1 "${convert[@]}" "$tmp/m.bin" --tokenizer "$tmp/tokenizer.json" -o "$tmp/x.edgf"
contains "tokenizer.json named" "$tmp/err" "a JSON file"
printf '\x0a\x0c\x0a\x05<unk>\x15\x00\x00\x00\x00' > "$tmp/tokenizer.model"
expect "convert with a SentencePiece tokenizer.model as --tokenizer" 1 "${convert[@]}" "$tmp/m.bin" --tokenizer "$tmp/tokenizer.model" -o "$tmp/x.edgf"
contains "tokenizer.model named" "$tmp/err" "a SentencePiece model (protobuf)"

# Embeddings from an encoder (the committed fortunes checkpoint): one line of dim numbers.
src=$(cd "$(dirname "$0")/.." && pwd)
expect "convert the fortunes encoder" 0 "${convert[@]}" --from hf "$src/tests/data/fortunes-mlm" -q -o "$tmp/mlm.edgf"
expect "embed a text" 0 "${run[@]}" "$tmp/mlm.edgf" --embed "Never put off till tomorrow."
fields=$(tr ',' '\n' < "$tmp/out" | grep -cE '^-?[0-9.]+(e[-+]?[0-9]+)?$')
if [[ $fields == 64 && $(wc -l < "$tmp/out") == 1 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL embed: $fields numbers"; fi
expect "embed with a bad --embed-ids" 2 "${run[@]}" "$tmp/mlm.edgf" --embed-ids 1,x
expect "embed with a bad --pooling" 2 "${run[@]}" "$tmp/mlm.edgf" --embed hi --pooling max

# --quant auto: its options, a run on the small model, and an encoder (no perplexity) refused.
printf 'ab ba abba\nbaab a b\n' > "$tmp/cal.txt"
expect "convert --quant auto without --calibration" 2 "${convert[@]}" "$tmp/m.bin" --quant auto -o "$tmp/x.edgf"
expect "convert --quant auto with a bad budget" 2 "${convert[@]}" "$tmp/m.bin" --quant auto --calibration "$tmp/cal.txt" --max-ppl-increase 2x -o "$tmp/x.edgf"
expect "convert --calibration without --quant auto" 2 "${convert[@]}" "$tmp/m.bin" --calibration "$tmp/cal.txt" -o "$tmp/x.edgf"
expect "convert --quant auto with an unknown type" 2 "${convert[@]}" "$tmp/m.bin" --quant auto --calibration "$tmp/cal.txt" --auto-types int3 -o "$tmp/x.edgf"
expect "convert --quant auto" 0 "${convert[@]}" "$tmp/m.bin" --tokenizer "$tmp/m.tok" --quant auto --calibration "$tmp/cal.txt" --max-ppl-increase 50% -o "$tmp/auto.edgf"
contains "--quant auto prints its table" "$tmp/out" "all-int8"
expect "convert --quant auto on an encoder" 1 "${convert[@]}" --from hf "$src/tests/data/fortunes-mlm" --quant auto --calibration "$tmp/cal.txt" -o "$tmp/x.edgf"
contains "--quant auto needs a decoder" "$tmp/err" "needs a decoder"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
