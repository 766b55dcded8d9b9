// The example page (index.html): loads a model, streams a generation into #generated (after the
// prompt's own text in #prompt-echo, as edgeformer-run prints them), and shows time to first
// token and tokens/s. document.body.dataset.state says where it is ("loading", "ready",
// "generating", "done", "error"); window.edgeformerRun holds the last run's numbers (for tests).
// ?simd=0 asks for the module without SIMD (?simd=1 for the SIMD one; default: what the engine runs).
import { Model } from "./edgeformer/edgeformer.mjs";

const scriptStart = performance.now();  // (performance.now() counts from the navigation start)
const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
let model = null;
let running = null;  // the TextStream being shown
let modelReady = 0;

function setState(state, message, isError = false) {
  document.body.dataset.state = state;
  if (message !== undefined) {
    $("status").textContent = message;
    $("status").classList.toggle("error", isError);
  }
  $("generate").disabled = model === null || state === "generating" || state === "loading";
  $("stop").disabled = state !== "generating";
  $("file").disabled = state === "generating" || state === "loading";
}

async function load(source, label) {
  model?.dispose();  // (a generation running on it stops)
  model = null;
  setState("loading", `Loading ${label}…`);
  const t0 = performance.now();
  try {
    model = await Model.load(source, {
      simd: { 0: false, 1: true }[query.get("simd")] ?? "auto",
      onProgress: (loaded, total) => { $("status").textContent = `Loading ${label}: ${kb(loaded)}${total ? ` of ${kb(total)}` : ""}`; },
    });
  } catch (e) {
    setState("error", `Cannot load ${label}: ${e.message}`, true);
    return false;
  }
  modelReady = performance.now();
  const info = model.info;
  setState("ready", `${label}: ${info.nLayers} layers, dim ${info.dim}, ${info.weightType}, ${kb(info.fileBytes)}; ` +
    `loaded in ${(performance.now() - t0).toFixed(0)} ms (${model.simd ? "SIMD128" : "scalar"} kernels, edgeformer ${model.version})`);
  return true;
}

function kb(bytes) {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
}

async function generate() {
  const prompt = $("prompt").value;
  const options = { maxTokens: Number($("n").value), temperature: Number($("temperature").value), seed: Number($("seed").value) };
  const generated = $("generated");
  generated.textContent = "";
  for (const id of ["ttft", "tps", "reason"]) $(id).textContent = "–";
  $("count").textContent = "0";
  setState("generating");
  const t0 = performance.now();
  let tFirst = 0;
  let tLast = 0;
  let lastShown = 0;
  const show = () => {
    $("count").textContent = String(running.nGenerated);
    if (running.nGenerated > 1) $("tps").textContent = `${((running.nGenerated - 1) / ((tLast - tFirst) / 1000)).toFixed(1)} tok/s`;
  };
  try {
    // The prompt as its tokens read back (what edgeformer-run prints before the generated text).
    $("prompt-echo").textContent = model.detokenize(model.tokenize(prompt));
    running = model.stream(prompt, options);
    for await (const piece of running) {
      tLast = performance.now();
      generated.append(piece);
      if (tFirst === 0) {
        tFirst = tLast;
        $("ttft").textContent = `${(tFirst - t0).toFixed(0)} ms`;
      }
      if (tLast - lastShown > 100) {
        show();
        lastShown = tLast;
      }
    }
  } catch (e) {
    running = null;
    setState("error", `Generation failed: ${e.message}`, true);
    return;
  }
  show();
  $("reason").textContent = running.stopReason.replaceAll("_", " ");
  window.edgeformerRun = {
    text: $("output").textContent, tokens: running.nGenerated, stopReason: running.stopReason, simd: model.simd,
    timeToFirstTokenMs: tFirst - t0, firstTokenSinceNavigationMs: tFirst, scriptStartMs: scriptStart, modelReadyMs: modelReady,
    tokensPerSecond: running.nGenerated > 1 ? (running.nGenerated - 1) / ((tLast - tFirst) / 1000) : 0,
  };
  running = null;
  setState("done");
}

$("generate").addEventListener("click", generate);
$("stop").addEventListener("click", () => model?.cancel());
$("file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (file) await load(await file.arrayBuffer(), file.name);
});

for (const id of ["prompt", "n", "temperature", "seed"]) if (query.has(id)) $(id).value = query.get(id);
if (query.has("model")) {
  const url = query.get("model");
  if (await load(url, url.split("/").pop()) && query.get("autostart") === "1") await generate();
} else {
  setState("ready");
}
