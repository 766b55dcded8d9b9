#!/usr/bin/env bash
# The reference_unigram fixture: unigram_reference.py trains the SentencePiece models and writes
# spm's ids, then hf_unigram.mjs writes the tokenizers library's (installed in NPM_DIR by the
# reference_hf_tokenizers fixture; $EDGEFORMER_NPM_DIR overrides it as there).
#
# Usage: unigram_reference.sh PYTHON NPM_DIR OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=$1 npm_dir=${EDGEFORMER_NPM_DIR:-$2} out=$3
"$python" "$here/unigram_reference.py" "$out"
node "$here/hf_unigram.mjs" "$(cd "$npm_dir" && pwd)/node_modules" "$out"
