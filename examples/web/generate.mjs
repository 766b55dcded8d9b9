// Streams a continuation of a prompt with edgeformer's JavaScript package, under node (>= 18):
//
//   npm install --offline --no-audit --no-fund ./build-wasm/web   # a wasm build's package folder
//   node generate.mjs MODEL "Once upon a time" [MAX_TOKENS]
//
// It prints what edgeformer-run prints for the same model and prompt (greedy).
import { Model } from "edgeformer";

const [path, prompt, maxTokens = "64"] = process.argv.slice(2);
const model = await Model.load(path);
process.stdout.write(prompt);
for await (const piece of model.stream(prompt, { maxTokens: Number(maxTokens), temperature: 0 })) {
  process.stdout.write(piece);
}
process.stdout.write("\n");
model.dispose();
