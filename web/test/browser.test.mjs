// The example page (examples/web/) in headless Chromium, driven over the DevTools protocol
// (web/test/cdp.mjs: the system's browser, nothing downloaded): served by examples/web/serve.mjs
// with this build's package, it loads aidreams260K (else the synthetic test model) by ?model=URL
// and by its file input, streams greedy generations whose text must equal edgeformer-run's for
// the same prompt (also with the module without SIMD, ?simd=0, when the package has it, and in a
// module worker), reports time to first token (< 1 s from the page's navigation start for
// aidreams260K) and tokens/s, and saves a screenshot (the CI artifact).
//
//   node web/test/browser.test.mjs [--chromium /usr/bin/chromium] [--screenshot out.png]
//
// Configuration as api.test.mjs (web/test/common.mjs). Exit code 0 when every check passes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

import { Browser } from "./cdp.mjs";
import { BUILD_DIR, REPO, WEB_DIR, aidreamsModel, runOracle, scratch, synthModel, utf8 } from "./common.mjs";

const { values: args } = parseArgs({
  options: {
    chromium: { type: "string", default: "/usr/bin/chromium" },
    screenshot: { type: "string", default: process.env.EDGEFORMER_SCREENSHOT || join(BUILD_DIR, "artifacts/web-example.png") },
  },
});
const FIRST_TOKEN_LIMIT_MS = 1000;

// The static server on a free port; resolves to its base URL.
function serve(models) {
  const child = spawn(process.execPath, [join(REPO, "examples/web/serve.mjs"), "--package", WEB_DIR, "--models", models,
    "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  process.on("exit", () => child.kill());
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      const match = /serving (http:\/\/\S+)/.exec(String(d));
      if (match) resolve(match[1]);
    });
    child.on("exit", (code) => reject(new Error(`serve.mjs exited (${code})`)));
  });
}

async function evaluate(page, expression) {
  const { result, exceptionDetails } = await page.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
  if (exceptionDetails) throw new Error(`${expression}: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
  return result.value;
}

// Navigates and waits until the new document is committed (its state then is the new page's).
async function navigate(page, url) {
  const committed = new Promise((resolve) => page.once("Page.frameNavigated", (e) => {
    if (e.frame.parentId) return false;
    resolve();
    return true;
  }));
  await page.send("Page.navigate", { url });
  await committed;
}

// Waits until the page's state is one of `states` (polling); returns it.
async function waitForState(page, states, log, timeoutMs = 120000) {
  for (const start = Date.now(); Date.now() - start < timeoutMs;) {
    const state = await evaluate(page, "document.body?.dataset.state ?? ''");
    if (states.includes(state)) return state;
    if (state === "error") throw new Error(`the page failed: ${await evaluate(page, "document.getElementById('status').textContent")}\n${log.join("\n")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the page did not reach ${states} in ${timeoutMs} ms\n${log.join("\n")}`);
}

const dir = scratch();
const aidreams = aidreamsModel(dir);
const model = aidreams ?? synthModel(dir);
// [prompt, tokens, temperature, seed]: greedy, and sampled with a seed (the page streams; its text
// must be edgeformer-run --seed's).
const cases = [["Once upon a time", 200, 0, 1], ["Café — naïve 東京 🙂", 60, 0, 1], ["The best way", 80, 0.9, 4242]];
const base = await serve(dirname(model));
const browser = Browser.launch(args.chromium);
const failures = [];
try {
  const page = await browser.newPage();
  const log = [];
  page.on("Runtime.consoleAPICalled", (e) => log.push(`console.${e.type}: ${e.args.map((a) => a.value ?? a.description).join(" ")}`));
  page.on("Runtime.exceptionThrown", (e) => log.push(`exception: ${e.exceptionDetails.exception?.description ?? e.exceptionDetails.text}`));
  await page.send("Runtime.enable");
  await page.send("Page.enable");
  await page.send("Emulation.setDeviceMetricsOverride", { width: 1000, height: 900, deviceScaleFactor: 1, mobile: false });

  // ?model=URL&autostart=1: load and generate at once; the first token's time counts from the
  // page's navigation start and from the generation's start.
  const results = [];
  for (const [prompt, n, temperature, seed] of cases) {
    const query = new URLSearchParams({ model: `models/${basename(model)}`, prompt, n: String(n), temperature: String(temperature),
      seed: String(seed), autostart: "1" });
    await navigate(page, `${base}?${query}`);
    await waitForState(page, ["done"], log);
    const run = await evaluate(page, "window.edgeformerRun");
    const expected = utf8(runOracle(model, ["--prompt", prompt, "-n", String(n), "--temperature", String(temperature),
      "--seed", String(seed), "--no-parse-special"]));
    try {
      assert.equal(run.text + "\n", expected, prompt);
    } catch (e) {
      failures.push(e);
    }
    results.push({ prompt, temperature, text: run.text, tokens: run.tokens, stopReason: run.stopReason, simd: run.simd,
      timeToFirstTokenMs: Math.round(run.timeToFirstTokenMs), firstTokenSinceNavigationMs: Math.round(run.firstTokenSinceNavigationMs),
      scriptStartMs: Math.round(run.scriptStartMs), modelReadyMs: Math.round(run.modelReadyMs), tokensPerSecond: Math.round(run.tokensPerSecond) });
    if (results.length === 1) {
      const { data } = await page.send("Page.captureScreenshot", { format: "png" });
      mkdirSync(dirname(resolve(args.screenshot)), { recursive: true });
      writeFileSync(args.screenshot, Buffer.from(data, "base64"));
      console.log(`screenshot: ${resolve(args.screenshot)}`);
    }
  }

  // The module without SIMD (?simd=0), when this package has it: the same text.
  if (existsSync(join(WEB_DIR, "edgeformer-wasm-scalar.wasm"))) {
    const [prompt, n] = cases[0];
    const query = new URLSearchParams({ model: `models/${basename(model)}`, prompt, n: String(n), temperature: "0", autostart: "1", simd: "0" });
    await navigate(page, `${base}?${query}`);
    await waitForState(page, ["done"], log);
    const run = await evaluate(page, "window.edgeformerRun");
    try {
      assert.equal(run.simd, false);
      assert.equal(run.text, results[0].text, "the scalar module's text");
    } catch (e) {
      failures.push(e);
    }
    results.push({ prompt: `${prompt} (scalar module)`, tokens: run.tokens, simd: run.simd, timeToFirstTokenMs: Math.round(run.timeToFirstTokenMs),
      firstTokenSinceNavigationMs: Math.round(run.firstTokenSinceNavigationMs), tokensPerSecond: Math.round(run.tokensPerSecond) });
  } else {
    console.log("(no edgeformer-wasm-scalar.wasm in the package: the scalar page is not checked)");
  }

  // The file input: the same model picked as a file, then Generate clicked.
  await navigate(page, base);
  await waitForState(page, ["ready"], log);
  const { root } = await page.send("DOM.getDocument");
  const { nodeId } = await page.send("DOM.querySelector", { nodeId: root.nodeId, selector: "#file" });
  await page.send("DOM.setFileInputFiles", { nodeId, files: [model] });
  await evaluate(page, `new Promise((resolve) => { const check = () => document.getElementById("generate").disabled ? setTimeout(check, 10) : resolve(); check(); })`);
  await evaluate(page, `document.getElementById("prompt").value = "The best way"; document.getElementById("n").value = "50"; document.getElementById("generate").click()`);
  await waitForState(page, ["done"], log);
  const picked = await evaluate(page, "window.edgeformerRun");
  try {
    assert.equal(picked.text + "\n", utf8(runOracle(model, ["--prompt", "The best way", "-n", "50", "--temperature", "0", "--no-parse-special"])));
  } catch (e) {
    failures.push(e);
  }

  // Stop: clicked as the first piece shows; the page keeps what came before it.
  const stopped = await evaluate(page, `new Promise((resolve) => {
    new MutationObserver((_, observer) => { observer.disconnect(); document.getElementById("stop").click(); })
      .observe(document.getElementById("generated"), { childList: true });
    document.getElementById("generate").click();
    const check = () => document.body.dataset.state === "done" ? resolve(window.edgeformerRun) : setTimeout(check, 10);
    check();
  })`);
  try {
    assert.equal(stopped.stopReason, "cancelled");
    assert.ok(stopped.tokens < picked.tokens && picked.text.startsWith(stopped.text), `stopped after ${stopped.tokens} tokens`);
  } catch (e) {
    failures.push(e);
  }

  // The package in a module worker (a page's thread stays free there).
  const workerText = await evaluate(page, `new Promise((resolve, reject) => {
    const source = 'import { Model } from "${base}edgeformer/edgeformer.mjs";' +
      'const model = await Model.load("${base}models/${basename(model)}");' +
      'postMessage(model.detokenize(model.tokenize("Once upon a time")) + model.generate("Once upon a time", { maxTokens: 40, temperature: 0 }));';
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })), { type: "module" });
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => reject(new Error("worker: " + e.message));
  })`);
  try {
    assert.equal(workerText + "\n", utf8(runOracle(model, ["--prompt", "Once upon a time", "-n", "40", "--temperature", "0", "--no-parse-special"])));
  } catch (e) {
    failures.push(e);
  }

  console.log(`model: ${basename(model)}${aidreams ? "" : " (aidreams260K missing: the first-token limit is not checked)"}`);
  for (const { text, ...r } of results) console.log(JSON.stringify(r));
  console.log(`Stop: clicked at the first piece, the page stopped after ${stopped.tokens} token(s) (${stopped.stopReason})`);
  if (aidreams) {
    for (const r of results) {
      if (r.firstTokenSinceNavigationMs >= FIRST_TOKEN_LIMIT_MS) {
        failures.push(new Error(`the first token came ${r.firstTokenSinceNavigationMs} ms after the page's navigation (limit ${FIRST_TOKEN_LIMIT_MS})`));
      }
    }
  }
  if (log.some((line) => line.startsWith("exception"))) failures.push(new Error(`page exceptions:\n${log.join("\n")}`));
} finally {
  await browser.close();
}
for (const f of failures) console.error(f.message);
console.log(failures.length === 0 ? "web_browser_test: ok" : `web_browser_test: ${failures.length} failure(s)`);
process.exit(failures.length === 0 ? 0 : 1);
