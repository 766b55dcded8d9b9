// The JavaScript package (build-*/web/edgeformer.mjs) under node, against edgeformer-run and its
// own contract: generate() gives edgeformer-run's text (greedy and seeded) and ids; stream()
// gives generate()'s text (greedy) and stops when left, cancelled or told by onToken; tokenize
// gives edgeformer-run --tokenize's ids; bad model files throw EdgeformerError (the module keeps
// working); refused generation options throw before the prompt is fed; sizes past 32 bits are
// refused before anything is copied; a dropped stream frees its session when collected; disposed
// handles throw; dispose frees the module's memory; the scalar module loads when asked for (or
// its absence, or a failed instantiation, is a clear error). Run: node --test
// web/test/api.test.mjs (configuration: web/test/common.mjs).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

import { REPO, WEB_DIR, aidreamsModel, runOracle, scratch, synthModel, utf8 } from "./common.mjs";

const { Model, EdgeformerError, Status, simdSupported } = await import(pathToFileURL(join(WEB_DIR, "edgeformer.mjs")).href);
const { STATUS_NAMES } = await import(pathToFileURL(join(WEB_DIR, "internal.mjs")).href);

const dir = scratch();
const models = [["synth", synthModel(dir)]];
const aidreams = aidreamsModel(dir);
if (aidreams) models.push(["aidreams260K", aidreams]);
const synth = models[0][1];
const PROMPTS = ["Once upon a time", "The best way to predict the future", "a"];
// Real weights and tokenizer: non-ASCII text (byte fallback), a blank prompt.
const REAL_PROMPTS = ["Café — naïve 東京 🙂", " ", "Once upon a time, there was"];

// edgeformer-run's stdout for a prompt: the prompt's text, the generated text, "\n".
function oracle(model, prompt, ...args) {
  return utf8(runOracle(model, ["--prompt", prompt, "--no-parse-special", ...args]));
}

function throwsStatus(fn, status, pattern) {
  assert.throws(fn, (e) => e instanceof EdgeformerError && e.status === status && pattern.test(e.message), String(status));
}

async function rejectsStatus(promise, status) {
  await assert.rejects(promise, (e) => e instanceof EdgeformerError && e.status === status && e.detail.length > 0);
}

for (const [name, path] of models) {
  test(`${name}: generate() gives edgeformer-run's text and ids, greedy and seeded`, async () => {
    const model = await Model.load(path);
    for (const prompt of name === "synth" ? PROMPTS : [...PROMPTS, ...REAL_PROMPTS]) {
      const echo = model.detokenize(model.tokenize(prompt));
      const ids = [];
      const text = model.generate(prompt, { maxTokens: 40, temperature: 0, onToken: (piece, id) => void ids.push(id) });
      assert.equal(oracle(path, prompt, "-n", "40", "--temperature", "0"), echo + text + "\n", prompt);
      assert.equal(utf8(runOracle(path, ["--prompt", prompt, "--no-parse-special", "-n", "40", "--temperature", "0",
        "--print-ids"])).trim(), ids.join(","), prompt);
      const sampled = model.generate(prompt, { maxTokens: 30, temperature: 0.9, topP: 0.95, seed: 7 });
      assert.equal(oracle(path, prompt, "-n", "30", "--temperature", "0.9", "--top-p", "0.95", "--seed", "7"),
        echo + sampled + "\n", prompt);
    }
    // A 64-bit seed (BigInt), top-k, min-p and a repetition penalty.
    const options = { maxTokens: 25, temperature: 1.1, topK: 20, minP: 0.02, repetitionPenalty: 1.3,
      seed: 18446744073709551557n };
    assert.equal(oracle(path, "Once upon", "-n", "25", "--temperature", "1.1", "--top-k", "20", "--min-p", "0.02",
      "--repeat-penalty", "1.3", "--seed", "18446744073709551557"), "Once upon" + model.generate("Once upon", options) + "\n");
    model.dispose();
  });

  test(`${name}: tokenize() gives edgeformer-run --tokenize's ids and round-trips`, async () => {
    const model = await Model.load(path);
    for (const text of [...PROMPTS, ...REAL_PROMPTS]) {
      const ids = model.tokenize(text);
      assert.equal(utf8(runOracle(path, ["--tokenize", text, "--no-parse-special"])).trim(), ids.join(","), text);
      assert.equal(ids[0], model.info.bosId);
      assert.deepEqual(model.tokenize(text, { addSpecial: false }), ids.slice(1));
      assert.deepEqual(model.tokenize(new TextEncoder().encode(text)), ids);
      // (SentencePiece's pieces carry the text's leading space: compared without it)
      assert.equal(model.detokenize(ids.slice(1)).trim(), text.trim(), text);
    }
    model.dispose();
  });
}

test("stream() gives generate()'s text, yields pieces, and reports why it stopped", async () => {
  const model = await Model.load(aidreams ?? synth);
  for (const prompt of PROMPTS) {
    const whole = model.generate(prompt, { maxTokens: 50, temperature: 0 });
    const stream = model.stream(prompt, { maxTokens: 50, temperature: 0 });
    const pieces = [];
    for await (const piece of stream) pieces.push(piece);
    assert.equal(pieces.join(""), whole, prompt);
    assert.equal(stream.text, whole);
    assert.ok(pieces.every((p) => p.length > 0));
    const session = model.session();
    session.generate(prompt, { maxTokens: 50, temperature: 0 });
    assert.equal(stream.nGenerated, session.nGenerated);
    assert.equal(stream.stopReason, session.stopReason);
    session.dispose();
  }
  // Sampled streams are generate()'s text for the same seed (each call after the first continues
  // the sampler), and differ between seeds.
  for (const seed of [5, 6, 123456789012n]) {
    const options = { maxTokens: 40, temperature: 1, topP: 0.95, seed };
    assert.equal(await model.stream("Once upon a time", options).all(), model.generate("Once upon a time", options));
  }
  const sampled = (seed) => model.stream("Once upon a time", { maxTokens: 40, temperature: 1, seed }).all();
  assert.notEqual(await sampled(5), await sampled(6));
  // A session's stream continues its context, as generate(null) does.
  const a = model.session();
  const b = model.session();
  a.generate("Once upon a time", { maxTokens: 5, temperature: 0 });
  b.generate("Once upon a time", { maxTokens: 5, temperature: 0 });
  assert.equal(await a.stream(null, { maxTokens: 10, temperature: 0 }).all(), b.generate(null, { maxTokens: 10, temperature: 0 }));
  assert.equal(a.position, b.position);
  model.dispose();
});

test("onToken returning false, leaving the loop, and cancel() stop a generation", async () => {
  const model = await Model.load(synth);
  const whole = model.generate("Once upon a time", { maxTokens: 30, temperature: 0, stopAtEndOfText: false });
  const opts = { maxTokens: 30, temperature: 0, stopAtEndOfText: false };
  const session = model.session();
  let n = 0;
  const cut = session.generate("Once upon a time", { ...opts, onToken: () => ++n < 3 });
  assert.equal(n, 3);
  assert.equal(session.stopReason, "callback");
  assert.equal(session.nGenerated, 3);
  assert.ok(whole.startsWith(cut));
  // The stopped session goes on from where it stopped.
  assert.equal(cut + session.generate(null, { ...opts, maxTokens: 27 }), whole);

  session.reset();
  n = 0;
  const cancelled = session.generate("Once upon a time", { ...opts, onToken: () => void (++n === 4 && session.cancel()) });
  assert.equal(session.stopReason, "cancelled");
  assert.equal(n, 4);
  assert.ok(whole.startsWith(cancelled));

  const stream = model.stream("Once upon a time", opts);
  let pieces = 0;
  for await (const piece of stream) if (++pieces === 3) break;
  assert.equal(stream.stopReason, "callback");

  const mine = model.session();
  const stream2 = mine.stream("Once upon a time", opts);
  pieces = 0;
  for await (const piece of stream2) if (++pieces === 2) model.cancel();
  assert.equal(stream2.stopReason, "cancelled");
  assert.equal(pieces, 2);
  assert.ok(whole.startsWith(stream2.text));
  const stream3 = mine.stream(null, { ...opts, onToken: () => false });
  assert.equal((await stream3.all()).length > 0, true);
  assert.equal(stream3.stopReason, "callback");
  assert.equal(stream3.nGenerated, 1);
  // A cancel while nothing runs is dropped (as in C): the next generation runs.
  mine.cancel();
  mine.generate(null, { ...opts, maxTokens: 2 });
  assert.equal(mine.stopReason, "max_tokens");
  // onToken's exceptions stop the generation and come back to the caller.
  assert.throws(() => mine.generate(null, { ...opts, onToken: () => { throw new RangeError("mine"); } }), RangeError);
  model.dispose();
});

test("a busy session refuses other calls; a full context stops with what fit", async () => {
  const model = await Model.load(synth);
  const session = model.session();
  throwsStatus(() => session.generate("Once", { maxTokens: 5, onToken: () => void session.generate(null) }),
    Status.BUSY, /busy: generate: the session is in use/);
  const stream = session.stream("Once", { maxTokens: 5, temperature: 0 });
  await stream.next();
  throwsStatus(() => session.prefill("x"), Status.BUSY, /stream/);
  await stream.return();
  session.prefill([1, 2, 3]);  // free again
  const small = model.session({ contextLength: 16 });
  const text = small.generate("Once upon a time", { maxTokens: 64, temperature: 0 });
  assert.equal(small.stopReason, "context_full");
  assert.equal(oracle(synth, "Once upon a time", "-n", "64", "--temperature", "0", "--context", "16"),
    model.detokenize(model.tokenize("Once upon a time")) + text + "\n");
  throwsStatus(() => small.prefill(new Array(40).fill(5)), Status.CONTEXT_FULL, /context/);
  model.dispose();
});

test("bad model files and bad arguments throw EdgeformerError; the module keeps working", async () => {
  const data = readFileSync(synth);
  const random = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
  const flipped = new Uint8Array(data);
  flipped.fill(0xff, 64, 128);
  for (const bad of [new Uint8Array(0), data.subarray(0, data.length >> 1), data.subarray(0, 64), random, flipped]) {
    await assert.rejects(Model.load(bad), (e) => e instanceof EdgeformerError &&
      [Status.INVALID_MODEL, Status.INVALID_ARGUMENT].includes(e.status) && e.detail.length > 0, `${bad.length} bytes`);
  }
  await rejectsStatus(Model.load(join(dir, "missing.edgf")), Status.IO_ERROR);
  await rejectsStatus(Model.load(42), Status.INVALID_ARGUMENT);
  await rejectsStatus(Model.load(data, { memoryBudget: 1000 }), Status.OUT_OF_MEMORY);
  await rejectsStatus(Model.load(data, { verify: true }), Status.INVALID_ARGUMENT);
  const model = await Model.load(data, { verifyChecksums: true });
  throwsStatus(() => model.generate("x", { max_tokens: 3 }), Status.INVALID_ARGUMENT, /unknown option "max_tokens"/);
  throwsStatus(() => model.generate("x", { seed: -1 }), Status.INVALID_ARGUMENT, /seed/);
  throwsStatus(() => model.generate("x", { temperature: NaN }), Status.INVALID_ARGUMENT, /temperature/);
  throwsStatus(() => model.generate("x", { topP: 0 }), Status.INVALID_ARGUMENT, /topP/);
  for (const kvType of ["f8", "toString", "constructor", "__proto__"]) {
    throwsStatus(() => model.session({ kvType }), Status.INVALID_ARGUMENT, /kvType/);
  }
  throwsStatus(() => model.session().prefill([1e6]), Status.INVALID_ARGUMENT, /./);
  assert.equal(typeof model.generate("Once", { maxTokens: 4 }), "string");
  for (let s = 0; s < STATUS_NAMES.length; ++s) {
    assert.equal(model._rt.string(model._rt.m._edgeformer_status_name(s)), STATUS_NAMES[s]);
  }
  model.dispose();
});

test("refused generation options throw before the prompt is fed: the context stays as it was", async () => {
  const model = await Model.load(synth);
  const session = model.session();
  session.generate("Once upon a time", { maxTokens: 3, temperature: 0 });
  const position = session.position;
  // Each is what edgeformer_generate refuses (Sampler::Configure), as the module's 32-bit floats.
  const refused = { topP: [0, -1, 1e-50], minP: [-0.1, 1.01, -Infinity], repetitionPenalty: [0, -2, Infinity, 1e39],
    temperature: [NaN], topK: [-1, 2 ** 32], maxTokens: [1.5] };
  for (const [key, values] of Object.entries(refused)) {
    for (const value of values) {
      for (const call of [() => session.generate("Hi", { [key]: value }), () => session.stream("Hi", { [key]: value }),
        () => model.stream("Hi", { [key]: value })]) {
        throwsStatus(call, Status.INVALID_ARGUMENT, new RegExp(`${key} = `));
      }
      assert.equal(session.position, position, `${key} = ${value}`);
    }
  }
  // The edges the C API accepts are accepted (1 + 1e-9 is 1 as a 32-bit float).
  const sessions = model._sessions.size;
  for (const options of [{ topP: 1e-30 }, { topP: Infinity }, { minP: 0 }, { minP: 1 + 1e-9 }, { repetitionPenalty: 1e-30 },
    { temperature: -Infinity }, { temperature: Infinity }]) {
    session.generate(null, { ...options, maxTokens: 1, stopAtEndOfText: false });
    assert.equal(session.nGenerated, 1, JSON.stringify(options));
  }
  // A stream uses the options stream() checked: changing them afterwards changes nothing.
  const options = { maxTokens: 3, temperature: 0, stopAtEndOfText: false };
  const stream = model.stream("Once", options);
  options.topP = 0;
  options.maxTokens = 1;
  await stream.all();
  assert.equal(stream.nGenerated, 3);
  assert.equal(model._sessions.size, sessions);  // its own session went with it
  model.dispose();
});

test("sizes past the 32-bit module's reach are refused before anything is copied", async () => {
  const model = await Model.load(synth);
  const rt = model._rt;
  for (const n of [2 ** 32, 2 ** 32 - 64, 2 ** 40]) {
    throwsStatus(() => rt.alloc(n), Status.OUT_OF_MEMORY, /32-bit build can address/);
  }
  for (const n of [-1, 1.5, NaN]) throwsStatus(() => rt.alloc(n), Status.INTERNAL, /not a size/);
  // A 4 GiB buffer is only reserved (its pages are never touched); an engine that cannot
  // reserve it skips this part.
  let huge;
  try {
    huge = new ArrayBuffer(2 ** 32 + 1);
  } catch {
    huge = null;
  }
  if (huge !== null) {
    for (const source of [huge, new Uint8Array(huge, 1, 2 ** 32 - 128)]) {
      await assert.rejects(Model.load(source), (e) => e instanceof EdgeformerError &&
        e.status === Status.OUT_OF_MEMORY && /is \d+ bytes, more than this 32-bit build can address/.test(e.message));
    }
  }
  assert.equal(typeof model.generate("Once", { maxTokens: 2 }), "string");
  model.dispose();
});

test("a stream dropped before its end frees its session once it is garbage-collected", () => {
  // In a node of its own with --expose-gc, so that the collection happens when asked.
  const script = `
    const { Model } = await import(process.env.EFW_PACKAGE);
    const model = await Model.load(process.env.EFW_MODEL);
    const session = model.session();
    const busy = () => { try { session.reset(); return false; } catch (e) { return e.statusName === "busy"; } };
    const collect = async (done) => {
      for (let i = 0; i < 50 && !done(); ++i) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
    };
    const out = {};
    const kept = session.stream("Once upon a time", { maxTokens: 20, temperature: 0 });
    await kept.next();
    await collect(() => false);
    out.keptBusy = busy();
    await kept.return();
    out.returnedBusy = busy();
    await (async () => { await session.stream("Once upon a time", { maxTokens: 20, temperature: 0 }).next(); })();
    out.droppedBusy = busy();
    await collect(() => !busy());
    out.collectedBusy = busy();
    out.stopReason = session.stopReason;
    const before = model._sessions.size;
    await (async () => { await model.stream("Once upon a time", { maxTokens: 20, temperature: 0 }).next(); })();
    out.ownHeld = model._sessions.size - before;
    await collect(() => model._sessions.size === before);
    out.ownLeft = model._sessions.size - before;
    model.dispose();
    console.log(JSON.stringify(out));
  `;
  const out = execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
    env: { ...process.env, EFW_PACKAGE: pathToFileURL(join(WEB_DIR, "edgeformer.mjs")).href, EFW_MODEL: synth },
  });
  assert.deepEqual(JSON.parse(utf8(out)), { keptBusy: true, returnedBusy: false, droppedBusy: true, collectedBusy: false,
    stopReason: "callback", ownHeld: 1, ownLeft: 0 });
});

test("disposed models and sessions throw; dispose frees the module's memory", async () => {
  const data = readFileSync(aidreams ?? synth);
  const model = await Model.load(data);
  const session = model.session();
  const stream = model.stream("Once upon a time", { maxTokens: 20, temperature: 0 });
  await stream.next();
  model.dispose();
  model.dispose();
  assert.equal((await stream.next()).done, true);
  assert.equal(stream.stopReason, "cancelled");
  for (const call of [() => model.generate("x"), () => model.tokenize("x"), () => model.info, () => model.session(),
    () => model.stream("x"), () => session.generate("x"), () => session.position, () => session.stream("x")]) {
    throwsStatus(call, Status.INVALID_ARGUMENT, /is disposed/);
  }
  // Disposing from onToken: the generation stops there and the memory goes when it returns.
  const m2 = await Model.load(data);
  const s2 = m2.session();
  let n = 0;
  s2.generate("Once", { maxTokens: 20, temperature: 0, onToken: () => void (++n === 2 && m2.dispose()) });
  assert.equal(n, 2);
  assert.equal(s2.stopReason, "cancelled");
  assert.equal(m2._data, 0);
  // Loading, generating and disposing again and again reuses the same memory.
  const heap = () => model._rt.m.HEAPU8.length;
  let size = 0;
  for (let i = 0; i < 40; ++i) {
    const m = await Model.load(data);
    m.generate("Once upon a time", { maxTokens: 8 });
    await m.stream("Once", { maxTokens: 4 }).all();
    m.dispose();
    if (i === 4) size = heap();
  }
  assert.equal(heap(), size);
});

test("models load from a URL, with progress; a missing URL is an I/O error", async () => {
  const data = readFileSync(synth);
  const server = createServer((req, res) => {
    if (req.url !== "/m.edgf") return res.writeHead(404).end();
    res.writeHead(200, { "content-length": data.length }).end(data);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    let progress = [0, 0];
    const model = await Model.load(`${base}/m.edgf`, { onProgress: (loaded, total) => void (progress = [loaded, total]) });
    assert.deepEqual(progress, [data.length, data.length]);
    assert.equal(model.generate("Once", { maxTokens: 10, temperature: 0 }), (await Model.load(data)).generate("Once", { maxTokens: 10, temperature: 0 }));
    model.dispose();
    await rejectsStatus(Model.load(`${base}/nope.edgf`), Status.IO_ERROR);
    // onProgress's exceptions stop the download and come back as they are.
    const mine = new RangeError("mine");
    await assert.rejects(Model.load(`${base}/m.edgf`, { onProgress: () => { throw mine; } }), (e) => e === mine);
    await rejectsStatus(Model.load(`${base}/m.edgf`, { onProgress: 42 }), Status.INVALID_ARGUMENT);
  } finally {
    server.close();
  }
});

test("the module without SIMD: chosen when the engine refuses the SIMD probe, else a clear error", async () => {
  assert.equal(simdSupported(), true);  // node >= 16
  const validate = WebAssembly.validate;
  const withoutSimd = async (fn) => {
    WebAssembly.validate = () => false;  // an engine without SIMD, as far as the loader can tell
    try {
      assert.equal(simdSupported(), false);
      return await fn();
    } finally {
      WebAssembly.validate = validate;
    }
  };
  if (!existsSync(join(WEB_DIR, "edgeformer-wasm-scalar.wasm"))) {
    await withoutSimd(() => assert.rejects(Model.load(synth), (e) => e.status === Status.UNSUPPORTED &&
      /no WebAssembly SIMD.*EDGEFORMER_WASM_SIMD=OFF/.test(e.message)));
    return;
  }
  // An engine that cannot instantiate the module (here: the scalar one, not loaded yet) gives
  // UNSUPPORTED with its message, and a later load retries.
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = () => Promise.reject(new WebAssembly.LinkError("no such import"));
  try {
    await assert.rejects(Model.load(synth, { simd: false }), (e) => e instanceof EdgeformerError &&
      e.status === Status.UNSUPPORTED && /no such import/.test(e.message));
  } finally {
    WebAssembly.instantiate = instantiate;
  }
  const scalar = await withoutSimd(() => Model.load(synth));
  const simd = await Model.load(synth);
  assert.equal(scalar.simd, false);
  assert.equal(simd.simd, true);
  const forced = await Model.load(synth, { simd: false });
  assert.equal(forced.simd, false);
  forced.dispose();
  for (const prompt of PROMPTS) {
    const options = { maxTokens: 30, temperature: 0 };
    assert.equal(scalar.generate(prompt, options), simd.generate(prompt, options), prompt);
    assert.equal(scalar.generate(prompt, { ...options, temperature: 0.8, seed: 11 }), simd.generate(prompt, { ...options, temperature: 0.8, seed: 11 }));
  }
  scalar.dispose();
  simd.dispose();
});

test("the package folder works as an npm package: the node example prints what edgeformer-run prints", () => {
  // What `npm install ./build-wasm/web` makes: node_modules/edgeformer, a link to the folder.
  const app = join(dir, "app");
  mkdirSync(join(app, "node_modules"), { recursive: true });
  symlinkSync(WEB_DIR, join(app, "node_modules/edgeformer"), "dir");
  copyFileSync(join(REPO, "examples/web/generate.mjs"), join(app, "generate.mjs"));
  for (const [, path] of models) {
    const out = execFileSync(process.execPath, [join(app, "generate.mjs"), path, "Once upon a time", "20"]);
    assert.equal(utf8(out), oracle(path, "Once upon a time", "-n", "20", "--temperature", "0"));
  }
});
