#!/usr/bin/env bash
# README command 1: installs what is missing, builds, converts a model and generates text.
#
# Uses ../shared/models/aidreams260K (or $EDGEFORMER_SHARED/models/aidreams260K) when it exists,
# otherwise a small synthetic model with random weights (its text is nonsense).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/install-deps.sh --no-arm64
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
bin=build/tools
conv=build/converter/edgeformer-convert
out=build/models
mkdir -p "$out"

shared=${EDGEFORMER_SHARED:-$repo/../shared}
src=$shared/models/aidreams260K
if [[ -f $src/model.bin && -f $src/tokenizer.bin ]]; then
  echo "== using the real checkpoint $src"
  model_bin=$src/model.bin
  tokenizer_bin=$src/tokenizer.bin
else
  echo "== $src not found: making a synthetic model (random weights, seed 1): the text will be nonsense"
  "$bin/edgeformer-synth" --seed 1 -o "$out/synthetic.bin" --tokenizer-output "$out/synthetic-tokenizer.bin"
  model_bin=$out/synthetic.bin
  tokenizer_bin=$out/synthetic-tokenizer.bin
fi

echo "== edgeformer-convert --from llama2c $model_bin --tokenizer $tokenizer_bin --quant int8 -o $out/model.edgf"
"$conv" --from llama2c "$model_bin" --tokenizer "$tokenizer_bin" --quant int8 -o "$out/model.edgf"
echo "== edgeformer-run $out/model.edgf --prompt \"Echoes of\" --max-tokens 128 --temperature 0"
"$bin/edgeformer-run" "$out/model.edgf" --prompt "Echoes of" --max-tokens 128 --temperature 0
