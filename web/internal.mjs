// The JavaScript package's internals (edgeformer.mjs is its API): the module and its memory,
// sources, parameters. Not a public interface: names here may change.
/** The C API's edgeformer_status values. */
export const Status = Object.freeze({
  OK: 0, INVALID_ARGUMENT: 1, IO_ERROR: 2, INVALID_MODEL: 3, UNSUPPORTED: 4, OUT_OF_MEMORY: 5,
  CONTEXT_FULL: 6, CANCELLED: 7, INTERNAL: 8, BUSY: 9,
});
// edgeformer_status_name()'s texts, for errors raised before a module is loaded (a test checks
// them against the library's).
export const STATUS_NAMES = ["ok", "invalid argument", "I/O error", "invalid model file", "unsupported", "out of memory",
  "context full", "cancelled", "internal error", "busy"];
export const STOP_REASONS = ["max_tokens", "end_of_text", "callback", "cancelled", "context_full", "error", "stop_string"];
export const FAMILIES = ["decoder", "encoder", "encoder-decoder"];
export const KV_TYPES = { f32: 0, f16: 1, int8: 2 };

/** A call the library refused or that failed. */
export class EdgeformerError extends Error {
  /**
   * @param {number} status an edgeformer_status (Status)
   * @param {string} detail what went wrong (the C API's edgeformer_last_error(), or this file's)
   */
  constructor(status, detail) {
    const statusName = STATUS_NAMES[status] ?? "unknown status";
    super(`${statusName}: ${detail}`);
    this.name = "EdgeformerError";
    /** @type {number} */ this.status = status;
    /** @type {string} the C API's edgeformer_status_name(), e.g. "invalid model file" */
    this.statusName = statusName;
    /** @type {string} the message alone */ this.detail = detail;
  }
}

export const invalid = (detail) => new EdgeformerError(Status.INVALID_ARGUMENT, detail);
export const isNode = typeof process === "object" && typeof process.versions?.node === "string";

// The smallest module with a SIMD128 instruction (i8x16.popcnt of a splat): engines without
// SIMD refuse to validate it.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1,
  8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** @returns {boolean} whether this engine runs WebAssembly SIMD128 (the faster module). */
export function simdSupported() {
  return WebAssembly.validate(SIMD_PROBE);
}

// ---- The module: one instance per variant, shared by every model of this realm -------------

const runtimes = new Map();  // "simd" | "scalar" -> Promise<Runtime>

// The module for Model.load's `simd` option. "auto" takes the SIMD module where the engine
// validates the SIMD probe (and the scalar one if that one is missing, as in a package made by
// a scalar build alone), else the scalar module.
export function runtimeFor(simd) {
  if (simd !== "auto" && typeof simd !== "boolean") throw invalid(`simd = ${String(simd)}: "auto", true or false`);
  if (simd === "auto" && simdSupported()) return variant("simd").catch((e) => variant("scalar").catch(() => { throw e; }));
  return variant(simd === true ? "simd" : "scalar");
}

function variant(name) {
  if (!runtimes.has(name)) {
    const promise = instantiate(name);
    promise.catch(() => runtimes.delete(name));  // a failed load may be retried
    runtimes.set(name, promise);
  }
  return runtimes.get(name);
}

// Compiles the module itself (the bytes from disk under node, streaming from its URL elsewhere)
// and hands it to Emscripten's loader through instantiateWasm: one path for node, pages and
// (module) workers, where this Emscripten's own loader would fetch() a file path under node
// and miss the folder in a module worker.
async function instantiate(variant) {
  const name = variant === "simd" ? "edgeformer-wasm" : "edgeformer-wasm-scalar";
  const wasmUrl = new URL(`./${name}.wasm`, import.meta.url);
  let factory;
  let compiled;
  try {
    factory = (await import(new URL(`./${name}.mjs`, import.meta.url).href)).default;
    if (isNode) {
      const { readFile } = await import("node:fs/promises");
      compiled = await WebAssembly.compile(await readFile(wasmUrl));
    } else {
      const response = await fetch(wasmUrl);
      if (!response.ok) throw new Error(`HTTP ${response.status} for ${wasmUrl}`);
      compiled = response.headers.get("content-type")?.startsWith("application/wasm")
        ? await WebAssembly.compileStreaming(response)
        : await WebAssembly.compile(await response.arrayBuffer());  // a server without the wasm MIME type
    }
  } catch (e) {
    throw new EdgeformerError(Status.UNSUPPORTED, variant === "scalar"
      ? `this engine has no WebAssembly SIMD, and the module without it (${name}.mjs and .wasm, from a build with ` +
        `-DEDGEFORMER_WASM_SIMD=OFF) is not beside edgeformer.mjs: ${e.message}`
      : `cannot load ${name}.mjs and .wasm beside edgeformer.mjs: ${e.message}`);
  }
  // An engine that compiles the module but cannot run it (a LinkError, a RuntimeError from the
  // module's start, a rejected factory) is UNSUPPORTED too, with the engine's message.
  try {
    let fail;
    const failed = new Promise((_, reject) => { fail = reject; });
    const m = await Promise.race([failed, factory({
      instantiateWasm(imports, receiveInstance) {
        WebAssembly.instantiate(compiled, imports).then((instance) => receiveInstance(instance, compiled), fail);
        return {};
      },
    })]);
    return new Runtime(m, variant === "simd");
  } catch (e) {
    if (e instanceof EdgeformerError) throw e;
    throw new EdgeformerError(Status.UNSUPPORTED, `cannot instantiate ${name}.wasm: ${e?.message ?? String(e)}`);
  }
}

// The largest block Runtime.alloc asks malloc for (room left for its header and alignment).
export const MAX_ALLOC = 0xffffffff - 64;
// The largest model file: it is copied with 64 bytes for alignment (Model.load).
export const MAX_MODEL_BYTES = MAX_ALLOC - 64;

/** @returns {number} length, after refusing (OUT_OF_MEMORY) a model larger than MAX_MODEL_BYTES. */
export function modelLength(length) {
  if (length > MAX_MODEL_BYTES) {
    throw new EdgeformerError(Status.OUT_OF_MEMORY, `the model is ${length} bytes, more than this 32-bit build can address`);
  }
  return length;
}

class Runtime {
  constructor(m, simd) {
    this.m = m;
    this.simd = simd;
    this.version = m.UTF8ToString(m._edgeformer_version());
    this.handlers = new Map();
    this.nextHandler = 0;
    // Module.efwOnToken: web/bridge.cc's token callback. Nothing may throw through the C frames.
    m.efwOnToken = (id, token, piece, length) => {
      const handler = this.handlers.get(id);
      if (handler === undefined) return 0;
      try {
        return handler(token, this.bytes(piece, length)) ? 1 : 0;
      } catch {
        return 0;  // (handlers keep their own exceptions; this is the last resort)
      }
    };
    const out = this.alloc(7 * 8);
    m._efw_generate_defaults(out);
    const d = this.f64(out, 7);
    this.free(out);
    this.defaults = { maxTokens: d[0], temperature: d[1], topK: d[2], topP: d[3], minP: d[4],
      repetitionPenalty: d[5], seed: BigInt(d[6]) };
  }

  // n bytes (an integer, at most MAX_ALLOC: malloc's size_t has 32 bits, and a larger n would
  // wrap to a small block the caller then overruns). Throws OUT_OF_MEMORY for a larger n or a
  // full memory, INTERNAL for a non-size (a bug here). Pointers come back from wasm as signed
  // i32: >>> 0 makes them unsigned (memory above 2 GiB).
  alloc(n) {
    if (!Number.isInteger(n) || n < 0) throw new EdgeformerError(Status.INTERNAL, `cannot allocate ${n} bytes: not a size`);
    if (n > MAX_ALLOC) {
      throw new EdgeformerError(Status.OUT_OF_MEMORY, `cannot allocate ${n} bytes: more than this 32-bit build can address`);
    }
    const p = this.m._malloc(Math.max(1, n)) >>> 0;
    if (p === 0) throw new EdgeformerError(Status.OUT_OF_MEMORY, `cannot allocate ${n} bytes in the module's memory`);
    return p;
  }
  free(p) { this.m._free(p); }
  // Views are made afresh on each use: the memory's buffer changes when it grows.
  u32(p, i = 0) { return this.m.HEAPU32[(p >>> 2) + i]; }
  f64(p, n) { return Array.from(this.m.HEAPF64.subarray(p >>> 3, (p >>> 3) + n)); }
  bytes(p, n) { return n === 0 ? new Uint8Array(0) : this.m.HEAPU8.slice(p >>> 0, (p >>> 0) + n); }
  string(p) { return this.m.UTF8ToString(p >>> 0); }
  put(bytes) {
    const p = this.alloc(bytes.length + 1);
    this.m.HEAPU8.set(bytes, p);
    this.m.HEAPU8[p + bytes.length] = 0;
    return p;
  }
  // Throws EdgeformerError for a status other than OK, with the library's message.
  check(status) {
    if (status !== Status.OK) throw new EdgeformerError(status, this.string(this.m._edgeformer_last_error()));
  }
  // Runs fn(out) with `words` zeroed 32-bit words of scratch memory, freed afterwards.
  withOut(words, fn) {
    const out = this.alloc(words * 4);
    this.m.HEAPU32.fill(0, out >>> 2, (out >>> 2) + words);
    try {
      return fn(out);
    } finally {
      this.free(out);
    }
  }
  register(handler) {
    const id = this.nextHandler = (this.nextHandler + 1) & 0x3fffffff;
    this.handlers.set(id, handler);
    return id;
  }
}

// ---- Sources: ArrayBuffer, typed array, URL, or (node) a file path ---------------------------

// The bytes of a model source as chunks (copied into the module's memory by the caller, so a
// fetched file is never joined in JavaScript first): { chunks: Uint8Array[], length }. A source
// larger than MAX_MODEL_BYTES is refused (OUT_OF_MEMORY) before it is viewed, and a download as
// soon as it grows past it. An exception from onProgress cancels the download and is rethrown
// as it is.
export async function readSource(source, onProgress) {
  const one = (buffer, offset = 0, length = buffer.byteLength) =>
    ({ chunks: [new Uint8Array(buffer, offset, modelLength(length))], length });
  if (source instanceof ArrayBuffer) return one(source);
  if (ArrayBuffer.isView(source)) return one(source.buffer, source.byteOffset, source.byteLength);
  if (typeof source !== "string" && !(source instanceof URL)) {
    throw invalid("a model source is an ArrayBuffer, a typed array, or a URL (a string or URL)");
  }
  const href = String(source);
  // Under node, a file path or file: URL is read from disk; other URLs are fetched.
  if (isNode && (href.startsWith("file:") || !/^(https?|data|blob):/i.test(href))) {
    const { readFile } = await import("node:fs/promises");
    try {
      const file = await readFile(href.startsWith("file:") ? new URL(href) : href);
      return one(file.buffer, file.byteOffset, file.byteLength);
    } catch (e) {
      if (e instanceof EdgeformerError) throw e;
      throw new EdgeformerError(Status.IO_ERROR, `cannot read ${href}: ${e.message}`);
    }
  }
  let response;
  try {
    response = await fetch(source);
  } catch (e) {
    throw new EdgeformerError(Status.IO_ERROR, `cannot fetch ${href}: ${e.message}`);
  }
  if (!response.ok) throw new EdgeformerError(Status.IO_ERROR, `cannot fetch ${href}: HTTP ${response.status}`);
  if (!response.body) return one(await response.arrayBuffer());
  const total = Number(response.headers.get("content-length")) || 0;
  const chunks = [];
  let length = 0;
  const reader = response.body.getReader();
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw new EdgeformerError(Status.IO_ERROR, `cannot fetch ${href}: ${e.message}`);
    }
    if (chunk.done) break;
    chunks.push(chunk.value);
    length += chunk.value.length;
    try {
      modelLength(length);
      onProgress?.(length, total);
    } catch (e) {
      reader.cancel(e).catch(() => {});  // (the caller has its error; the download's end does not matter)
      throw e;
    }
  }
  return { chunks, length };
}

// ---- Parameters --------------------------------------------------------------------------

export function checkKeys(options, allowed, what) {
  if (options === null || typeof options !== "object") throw invalid(`${what} options: an object`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw invalid(`${what}: unknown option "${key}" (known: ${allowed.join(", ")})`);
  }
}

export function uint(name, value, bits = 32) {
  const max = 2 ** bits;
  if (!Number.isInteger(value) || value < 0 || value >= max) throw invalid(`${name} = ${value}: an integer in [0, 2^${bits})`);
  return value;
}

export function number(name, value) {
  if (typeof value !== "number" || Number.isNaN(value)) throw invalid(`${name} = ${value}: a number`);
  return value;
}

// A 64-bit unsigned value (a number up to 2^53, or a BigInt) as [low 32 bits, high 32 bits].
export function halves(name, value) {
  const v = typeof value === "bigint" ? value : Number.isSafeInteger(value) ? BigInt(value) : -1n;
  if (v < 0n || v >= 1n << 64n) throw invalid(`${name} = ${value}: an integer in [0, 2^64) (a BigInt above 2^53)`);
  return [Number(v & 0xffffffffn), Number(v >> 32n)];
}

const GENERATE_OPTIONS = ["maxTokens", "temperature", "topK", "topP", "minP", "repetitionPenalty", "seed",
  "stopAtEndOfText", "onToken", "yieldEveryMs"];

// A float field of edgeformer_sampler_params: a number whose 32-bit float (what the module
// receives) satisfies `ok`, the test edgeformer_generate makes (Sampler::Configure).
function float32(name, value, ok, range) {
  const f = Math.fround(number(name, value));
  if (!ok(f)) throw invalid(`${name} = ${value}: ${range}${f === value ? "" : ` (it is ${f} as a 32-bit float)`}`);
  return value;
}

// Generation options with the C API's defaults (edgeformer_generate_default_params), checked
// as edgeformer_generate checks them (Sampler::Configure: temperature any number, top_p > 0,
// min_p in [0, 1], repetition_penalty finite and > 0; the integers by their C types), so that a
// refused option throws before a caller feeds the prompt.
export function generateParams(runtime, options) {
  checkKeys(options, GENERATE_OPTIONS, "generate");
  const o = { ...runtime.defaults, stopAtEndOfText: true, onToken: undefined, yieldEveryMs: 10 };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) o[key] = value;
  if (o.onToken !== undefined && typeof o.onToken !== "function") throw invalid("onToken: a function");
  return {
    maxTokens: uint("maxTokens", o.maxTokens), temperature: number("temperature", o.temperature),
    topK: uint("topK", o.topK), topP: float32("topP", o.topP, (f) => f > 0, "a number > 0"),
    minP: float32("minP", o.minP, (f) => f >= 0 && f <= 1, "a number in [0, 1]"),
    repetitionPenalty: float32("repetitionPenalty", o.repetitionPenalty, (f) => f > 0 && Number.isFinite(f),
      "a finite number > 0"),
    seed: halves("seed", o.seed),
    stopAtEndOfText: Boolean(o.stopAtEndOfText), onToken: o.onToken, yieldEveryMs: number("yieldEveryMs", o.yieldEveryMs),
  };
}

// ---- Streams -------------------------------------------------------------------------------

// Streams dropped before their end (neither finished nor return()ed, so their generator's
// finally never runs): once the garbage collector takes one, its hold is released as if the
// consumer had left ("callback").
const droppedStreams = new FinalizationRegistry((hold) => hold.release("callback"));

// A stream's hold on its session, from its first next() to its end: the session is busy
// (session._streaming) until release(reason), which frees it for other calls with that stop
// reason and disposes it when the stream made it (model.stream()). It never refers to its
// stream: it is droppedStreams' held value for it.
export class StreamHold {
  constructor(stream, session, own) {
    this.session = session;
    this.own = own;
    session._streaming = true;
    session._cancel = false;
    droppedStreams.register(stream, this, this);
  }
  // The first call releases; later ones do nothing.
  release(reason) {
    const session = this.session;
    if (session === null) return;
    this.session = null;
    droppedStreams.unregister(this);
    session.stopReason = reason;
    session._streaming = false;
    if (this.own) session.dispose();
  }
}

// A turn of the event loop (a task, so a page may repaint), without setTimeout's 4 ms clamp.
export let yieldToEventLoop;
if (isNode || typeof MessageChannel !== "function") {
  yieldToEventLoop = () => new Promise((resolve) => (typeof setImmediate === "function" ? setImmediate : setTimeout)(resolve));
} else {
  const channel = new MessageChannel();
  const waiting = [];
  channel.port1.onmessage = () => waiting.shift()();
  yieldToEventLoop = () => new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });
}
export const now = () => (typeof performance === "object" ? performance.now() : Date.now());

