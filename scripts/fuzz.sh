#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# (build-fuzz/), seeds each corpus from valid small files and the regression inputs of
# fuzz/regressions/<target>/ (every crash found so far), and runs every target for a fixed number
# of executions: the byte-level targets and the structure-aware ones (*_structured, same inputs,
# mutators that change values and write the format back). A crash, leak, sanitizer report,
# timeout or out-of-memory fails the run and leaves the input in build-fuzz/crashes/<target>/;
# copy it to fuzz/regressions/<target>/ once fixed.
#
# Usage: bash scripts/fuzz.sh [runs per target] [tools build dir]
#   runs: default 20000 (the CI smoke); docs/performance.md has a longer run. Inputs up to 1 MiB
#   (64 KiB of text for the tokenizers).
#   tools build: a normal build with edgeformer-convert and edgeformer-synth (default: build), and
#   its tests' reference models (build/reference, made by ctest) for the converter seeds.
# Needs $EDGEFORMER_SHARED (default ../shared) for the real tokenizers. $FUZZ_TARGETS (names,
# space-separated) runs only those. Prints "N passed, M failed".
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-20000}
tools=$(cd "${2:-$repo/build}" && pwd)
shared=${EDGEFORMER_SHARED:-$repo/../shared}
out=$repo/build-fuzz
jobs=$(nproc)

CC=clang CXX=clang++ cmake -S "$repo" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEDGEFORMER_FUZZ=ON -DEDGEFORMER_SANITIZE=address,undefined -DEDGEFORMER_BUILD_TESTS=OFF \
  -DEDGEFORMER_BUILD_TOOLS=OFF >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
cmake --build "$out" -j"$jobs" || { echo "0 passed, 1 failed"; exit 1; }

# ---- Seeds: small valid files of each format ----
seeds=$out/seeds
rm -rf "$seeds" && mkdir -p "$seeds"/{fuzz_model,fuzz_tokenizer,fuzz_chat_template,fuzz_llama2c,fuzz_safetensors,fuzz_gguf,fuzz_hf_json}
convert=$tools/converter/edgeformer-convert
tiny=$seeds/tiny
"$tools/tools/edgeformer-synth" --dim 32 --hidden 48 --layers 1 --heads 2 --kv-heads 1 --vocab 260 --seq-len 16 \
  -o "$tiny.bin" --tokenizer-output "$tiny.tok" >/dev/null 2>&1
for q in int8 none f16 int4; do
  "$convert" "$tiny.bin" --tokenizer "$tiny.tok" --quant "$q" -q -o "$seeds/fuzz_model/tiny-$q.edgf"
done
ref=$tools/reference
for m in gpt2_f32 qwen2_f32; do
  [[ -d $ref/$m ]] && "$convert" "$ref/$m" --no-tokenizer --quant int8 -q -o "$seeds/fuzz_model/$m.edgf"
done
# A ranked-BPE tokenizer (Hugging Face's pipeline) on a small SentencePiece vocabulary.
[[ -d $ref/sp_json ]] && "$convert" "$ref/sp_json" --quant int8 -q -o "$seeds/fuzz_model/sp_json.edgf"
# The rest of the family (tests/reference/make_stacks.py): an encoder with its WordPiece
# vocabulary, ALiBi, T5 buckets, a prefix-LM.
for m in bert_mlm bloom t5_encoder prefix_lm; do
  [[ -d $ref/stacks/$m ]] && "$convert" "$ref/stacks/$m" --quant int8 -q -o "$seeds/fuzz_model/$m.edgf"
done
# Encoder-decoders (tests/reference/make_seq2seq.py): two stacks, cross-attention.
for m in encdec_post encdec_t5; do
  [[ -d $ref/seq2seq/$m ]] && "$convert" "$ref/seq2seq/$m" --no-tokenizer --quant int8 -q -o "$seeds/fuzz_model/$m.edgf"
done
{ printf '\0'; cat "$tiny.bin"; } > "$seeds/fuzz_llama2c/model"
{ printf '\1'; head -c 2000 "$tiny.tok"; } > "$seeds/fuzz_llama2c/tokenizer"
for m in llama_f32 gpt2_f16_unprefixed llama3_bf16_tied_sharded; do
  for f in "$ref/$m"/*.safetensors; do [[ -f $f ]] && cp "$f" "$seeds/fuzz_safetensors/$m-$(basename "$f")"; done
  [[ -f $ref/$m/config.json ]] && { printf '\0'; cat "$ref/$m/config.json"; } > "$seeds/fuzz_hf_json/config-$m"
done
for m in bert_mlm bloom t5_encoder; do
  [[ -f $ref/stacks/$m/config.json ]] && { printf '\0'; cat "$ref/stacks/$m/config.json"; } > "$seeds/fuzz_hf_json/config-$m"
done
[[ -f $ref/stacks/bert_mlm/tokenizer.json ]] && { printf '\1'; cat "$ref/stacks/bert_mlm/tokenizer.json"; } > "$seeds/fuzz_hf_json/tokenizer-wordpiece"
[[ -f $ref/gguf_llama/model.gguf ]] && cp "$ref/gguf_llama/model.gguf" "$seeds/fuzz_gguf/gguf_llama.gguf"
# The new paths: fused tensors, rope factors, Gemma's keys; every ggml block type (gguf_blocks).
for m in phi3_f32 gemma2_gguf_f32 gguf_q4_0 gguf_blocks; do
  [[ -f $ref/$m/model.gguf ]] && cp "$ref/$m/model.gguf" "$seeds/fuzz_gguf/$m.gguf"
done
for m in mistral_sw_f32 gemma2_f32 gemma3_f32 gemma3_layer_types_f16 phi3_f32 qwen3_f32; do
  [[ -f $ref/$m/config.json ]] && { printf '\0'; cat "$ref/$m/config.json"; } > "$seeds/fuzz_hf_json/config-$m"
done
# A small byte-level tokenizer.json (GPT-2's layout) and a SentencePiece-style one.
/usr/bin/python3 - "$seeds/fuzz_hf_json" <<'PY'
import json, sys
out = sys.argv[1]
byte_level = {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "\u0120": 3, "\u0120a": 4},
                        "merges": ["a b", "\u0120 a"]},
              "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
              "added_tokens": [{"id": 5, "content": "<|endoftext|>", "special": True}]}
sentencepiece = {"model": {"type": "BPE", "byte_fallback": True, "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0x41>": 3,
                           "\u2581": 4, "a": 5, "\u2581a": 6}, "merges": ["\u2581 a"]},
                 "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
                 "added_tokens": [{"id": 1, "content": "<s>", "special": True}],
                 "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}},
                                    {"Sequence": {"id": "A"}}]}}
unigram = {"model": {"type": "Unigram", "unk_id": 0, "byte_fallback": True,
                     "vocab": [["<unk>", 0], ["</s>", 0], ["<0x41>", 0], ["\u2581", -2.5], ["a", -3.0], ["\u2581a", -1.5]]},
           "normalizer": {"type": "Sequence", "normalizers": [
               {"type": "Precompiled", "precompiled_charsmap": "CAAAAAAAAAAAAAAAYQA="},
               {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
           "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"},
                             {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}]},
           "added_tokens": [{"id": 1, "content": "</s>", "special": True}],
           "post_processor": {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A"}},
                              {"SpecialToken": {"id": "</s>"}}]}}
for name, doc in (("byte_level", byte_level), ("sentencepiece", sentencepiece), ("unigram", unigram)):
    with open(f"{out}/tokenizer-{name}", "wb") as f:
        f.write(b"\x01" + json.dumps(doc).encode())
PY
# Chat templates: the shapes real ones have (ChatML with a default system prompt, Gemma's turns,
# Llama 3's headers) and the rest of the language.
cat > "$seeds/fuzz_chat_template/chatml" <<'JINJA'
{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
{%- else %}{{- '<|im_start|>system\nYou are helpful.<|im_end|>\n' }}{%- endif %}
{%- for message in messages %}{%- if message.role == "assistant" %}{% set content = message.content.split('</think>')[-1].lstrip('\n') %}
{%- else %}{% set content = message.content %}{% endif %}{{- '<|im_start|>' + message.role + '\n' + content + '<|im_end|>\n' }}
{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}
JINJA
cat > "$seeds/fuzz_chat_template/gemma" <<'JINJA'
{{ bos_token }}{%- if messages[0]['role'] == 'system' -%}{%- set first = messages[0]['content'] + '\n\n' -%}{%- set loop_messages = messages[1:] -%}
{%- else -%}{%- set first = "" -%}{%- set loop_messages = messages -%}{%- endif -%}
{%- for message in loop_messages -%}{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}{{ raise_exception("alternate") }}{%- endif -%}
{{ '<start_of_turn>' + ('model' if message['role'] == 'assistant' else message['role']) + '\n' + (first if loop.first else "") }}{{ message['content'] | trim }}<end_of_turn>
{% endfor %}{% if add_generation_prompt %}<start_of_turn>model
{% endif %}
JINJA
cat > "$seeds/fuzz_chat_template/language" <<'JINJA'
{% set ns = namespace(n=0) %}{% macro t(r, x='?') %}[{{ r }}:{{ x }}]{% endmacro %}{% for m in messages if m.role != 'tool' %}
{% set ns.n = ns.n + loop.index %}{{ t(m.role, m.content | trim | length) }}{% if loop.last %}{% break %}{% endif %}{% else %}none{% endfor %}
{{ ns.n ~ (1, 2) ~ [3][::-1] ~ {'a': none} | tojson(indent=2) }}{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(', ') }}
{{ strftime_now('%d %b %Y') }}{{ 7 // 2 ** 3 % 5 }}{{ 'x' if 1 < 2 < 3 else 'y' }}{{ range(3) | list }}{% set b %}{{ bos_token }}{% endset %}{{ b }}
JINJA
# Tokenizer models: fortunes2M's SentencePiece-style BPE (llama2.c's scored merges), GPT-2's
# byte-level BPE with each pre-tokenizer and a SentencePiece vocabulary as tokenizer.json states
# it (Hugging Face's ranked BPE and its pipeline), a WordPiece vocabulary.
tok_models=()
if [[ -f $shared/models/fortunes2M/model.bin ]]; then
  "$convert" "$shared/models/fortunes2M/model.bin" --tokenizer "$shared/models/fortunes2M/tokenizer.bin" -q \
    -o "$seeds/fortunes.edgf" && tok_models+=("$seeds/fortunes.edgf")
fi
for m in bpe_gpt2 bpe_llama3 bpe_qwen2 sp_json; do
  [[ -d $ref/$m ]] && "$convert" "$ref/$m" --quant int8 -q -o "$seeds/$m.edgf" && tok_models+=("$seeds/$m.edgf")
done
[[ -d $ref/stacks/wordpiece_uncased ]] && "$convert" "$ref/stacks/wordpiece_uncased" --quant int8 -q \
  -o "$seeds/wordpiece.edgf" && tok_models+=("$seeds/wordpiece.edgf")
# SentencePiece unigram tokenizers: the trained encoder-decoder's (Marian's source.spm and
# target.spm, converted from the repository's tests/data).
"$convert" "$repo/tests/data/numbers-seq2seq" --quant int8 -q -o "$seeds/numbers.edgf" && tok_models+=("$seeds/numbers.edgf")
cp "$seeds/numbers.edgf" "$seeds/fuzz_model/numbers.edgf"
export EDGEFORMER_FUZZ_TOKENIZERS=$(IFS=:; echo "${tok_models[*]}")
# Session state files: the sessions of fuzz/fuzz_state.cc are each model's with f32, f16 and int8
# KV caches, in that order (the selector byte); its seeds are states edgeformer-run
# --prompt-cache saves: the tiny model, and a sliding-window one whose rings wrap.
state_models=("$seeds/fuzz_model/tiny-int8.edgf")
[[ -d $ref/mistral_sw_f32 ]] && "$convert" "$ref/mistral_sw_f32" --no-tokenizer --quant int8 -q -o "$seeds/mistral_sw.edgf" &&
  state_models+=("$seeds/mistral_sw.edgf")
export EDGEFORMER_FUZZ_STATE_MODELS=$(IFS=:; echo "${state_models[*]}")
mkdir -p "$seeds/fuzz_state"
selector=0
for m in "${state_models[@]}"; do
  lengths="1 12"
  [[ $m == *mistral_sw* ]] && lengths="1 40"
  for kv in f32 f16 int8; do
    for n in $lengths; do
      rm -f "$seeds/prompt.state"
      "$tools/tools/edgeformer-run" "$m" --prompt-ids "$(seq -s, 3 $((n + 2)))" -n 2 --temperature 0 --kv-type "$kv" \
        --prompt-cache "$seeds/prompt.state" >/dev/null 2>&1 &&
        { printf "\\$(printf '%03o' "$selector")"; cat "$seeds/prompt.state"; } > "$seeds/fuzz_state/$selector-$n"
    done
    selector=$((selector + 1))
  done
done

# Texts for the tokenizers, a few lines of real text and UTF-8 edge cases, each behind the byte that
# picks the tokenizer (fuzz/fuzz_tokenizer.cc: byte % count picks it, the rest is the text).
texts=$seeds/texts && mkdir -p "$texts"
printf 'Once upon a time, there was a little girl.' > "$texts/plain"
printf 'caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80 \xff\xfe <|endoftext|>  \t\n x' > "$texts/utf8"
head -c 3000 "$shared/models/fortunes2M/validation.txt" > "$texts/fortunes" 2>/dev/null || true
for i in "${!tok_models[@]}"; do
  for f in "$texts"/*; do
    { printf "\\$(printf '%03o' "$i")"; cat "$f"; } > "$seeds/fuzz_tokenizer/$i-$(basename "$f")"
  done
done

# ---- Runs ----
passed=0
failed=0
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for kind in model state safetensors gguf hf_json; do
  rm -rf "$seeds/fuzz_${kind}_structured" && cp -r "$seeds/fuzz_$kind" "$seeds/fuzz_${kind}_structured"
done
all_targets="fuzz_model fuzz_model_structured fuzz_state fuzz_state_structured fuzz_tokenizer fuzz_chat_template fuzz_llama2c fuzz_safetensors
             fuzz_safetensors_structured fuzz_gguf fuzz_gguf_structured fuzz_hf_json fuzz_hf_json_structured"
for target in ${FUZZ_TARGETS:-$all_targets}; do
  corpus=$out/corpus/$target
  regressions=$repo/fuzz/regressions/${target%_structured}
  crashes=$out/crashes/$target
  mkdir -p "$corpus" "$crashes"
  log=$out/$target.log
  start=$(date +%s.%N)
  max_len=1048576  # the seeds are whole small models
  [[ $target == fuzz_tokenizer ]] && max_len=65536  # a long prompt
  [[ $target == fuzz_chat_template ]] && max_len=16384
  extra=()
  [[ -d $regressions ]] && extra+=("$regressions")
  if "$out/fuzz/$target" -runs="$runs" -max_len="$max_len" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
       -artifact_prefix="$crashes/" "$corpus" "$seeds/$target" "${extra[@]}" >"$log" 2>&1; then
    status=ok; passed=$((passed + 1))
  else
    status=FAIL; failed=$((failed + 1))
  fi
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  printf '%-4s %-17s %8s execs in %6.1f s, %s, corpus %s files\n' "$status" "$target" "${execs:-?}" "$seconds" \
    "${cov:-cov: ?}" "$(ls "$corpus" | wc -l)"
  [[ $status == FAIL ]] && tail -40 "$log"
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
