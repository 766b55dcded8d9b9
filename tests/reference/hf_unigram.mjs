// The Hugging Face side of the unigram_test oracle: the tokenizers library (npm `tokenizers`,
// installed by hf_tokenizers.sh) encodes every case text of unigram_reference.py's spm_cases.json
// with each model's tokenizer.json variants, with and without special tokens.
//
// Usage: node hf_unigram.mjs NODE_MODULES DIR   (DIR: unigram_reference.py's OUT_DIR)
// Writes DIR/hf_cases.json: {"tokenizers": [{"name", "path", "vocab_size", "cases": [{"text",
//   "add_special", "ids", "decoded"}]}]}
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [nodeModules, dir] = process.argv.slice(2);
const require = createRequire(path.join(nodeModules, "noop.js"));
const { Tokenizer } = require("tokenizers");
const spmCases = JSON.parse(fs.readFileSync(path.join(dir, "spm_cases.json"), "utf8"));
const out = { tokenizers: [] };
for (const [model, entry] of Object.entries(spmCases)) {
  for (const file of ["tokenizer.json", "tokenizer_metaspace.json"]) {
    const p = path.join(dir, model, file);
    const tok = Tokenizer.fromFile(p);
    const result = { name: `${model}/${file}`, path: p, vocab_size: entry.vocab_size, cases: [] };
    for (const c of entry.cases) {
      for (const add of [true, false]) {
        const enc = await tok.encode(c.text, null, { addSpecialTokens: add });
        const ids = enc.getIds();
        result.cases.push({ text: c.text, add_special: add, ids, decoded: await tok.decode(ids, true) });
      }
    }
    out.tokenizers.push(result);
  }
}
fs.writeFileSync(path.join(dir, "hf_cases.json"), JSON.stringify(out));
console.log(`hf_unigram: ${out.tokenizers.length} tokenizers`);
