/**
 * edgeformer for JavaScript: the C API (runtime/include/edgeformer.h) over its WebAssembly
 * module, in browsers (pages and workers) and node >= 18.
 *
 *   import { Model } from "./edgeformer.mjs";
 *   const model = await Model.load("stories.edgf");             // a URL, or an ArrayBuffer
 *   const text = model.generate("Once upon a time", { maxTokens: 64, temperature: 0 });
 *   for await (const piece of model.stream("Once upon a time")) output.append(piece);
 *   model.dispose();
 *
 * Contracts (as the C API's, with what JavaScript changes):
 * - Threads: none. The module is single-threaded (wasm threads need SharedArrayBuffer, which a
 *   page only has when cross-origin isolated), so every call runs on the calling thread and
 *   blocks it: generate() until it returns, stream() one token at a time, giving the event loop
 *   a turn between tokens (a page repaints). Run it in a Worker to keep a page's thread free.
 * - Memory: a model's file is copied once into the module's memory and its weights read there
 *   (no second copy); sessions hold their KV cache. Nothing is garbage-collected: dispose()
 *   frees a model with every session made on it, session.dispose() one session (except a
 *   model.stream() dropped before its end: its own session goes when the stream is collected).
 *   The freed memory is reused by later loads (WebAssembly memory never shrinks). Calls on a disposed
 *   model or session throw EdgeformerError (INVALID_ARGUMENT, "... is disposed").
 * - Sessions: one call at a time, as in C: a call on a session while another runs on it (from
 *   an onToken callback, or while a stream() holds it, from its first next() to its end) throws
 *   EdgeformerError BUSY. cancel() and dispose() are the exceptions: any time, from anywhere.
 *   A stream ends when it is finished or return()ed (leaving a for await loop does that); one
 *   dropped before that holds its session until the garbage collector takes it.
 * - Errors: EdgeformerError, with the C API's status and edgeformer_last_error() message.
 * - Text: prompts are tokenized with the tokenizer's special tokens (BOS) and special-token text
 *   left as plain text (the Python binding's Model.generate; edgeformer-run --no-parse-special).
 *   Generated text is decoded as UTF-8 across tokens; a piece is whole characters, and text
 *   ending inside a character gets U+FFFD.
 * @module edgeformer
 */

import {
  EdgeformerError, FAMILIES, KV_TYPES, STOP_REASONS, Status, StreamHold, checkKeys, generateParams, halves, invalid,
  modelLength, now, readSource, runtimeFor, simdSupported, uint, yieldToEventLoop,
} from "./internal.mjs";

export { EdgeformerError, Status, simdSupported };

// ---- Models ------------------------------------------------------------------------------

const MODEL_OPTIONS = ["verifyChecksums", "memoryBudget", "simd", "onProgress"];
const SESSION_OPTIONS = ["contextLength", "maxBatch", "kvType", "memoryBudget"];

/**
 * A model file made by edgeformer-convert, in the module's memory. Make one with Model.load.
 * Its methods are synchronous and run on the calling thread.
 */
export class Model {
  /**
   * Loads a model.
   * @param {ArrayBuffer|ArrayBufferView|string|URL} source the file's bytes (copied; the caller
   *   keeps them), or a URL to fetch (under node also a file path or file: URL)
   * @param {object} [options]
   * @param {boolean} [options.verifyChecksums=false] hash every tensor at load
   * @param {number|bigint} [options.memoryBudget=0] bytes the model may occupy (0: no limit)
   * @param {"auto"|boolean} [options.simd="auto"] the SIMD128 module (true), the scalar one
   *   (false), or SIMD when WebAssembly.validate accepts a SIMD probe ("auto")
   * @param {(loaded: number, total: number) => void} [options.onProgress] called as a URL's
   *   bytes arrive (total 0 when the server does not say); its exceptions stop the download and
   *   are rethrown as they are
   * @returns {Promise<Model>}
   * @throws {EdgeformerError} IO_ERROR (cannot read or fetch), INVALID_MODEL (malformed,
   *   truncated), UNSUPPORTED (no module for this engine), OUT_OF_MEMORY (also for a file of
   *   2^32 - 128 bytes or more, which this 32-bit module cannot address)
   */
  static async load(source, options = {}) {
    checkKeys(options, MODEL_OPTIONS, "Model.load");
    const { verifyChecksums = false, memoryBudget = 0, simd = "auto", onProgress } = options;
    if (onProgress !== undefined && typeof onProgress !== "function") throw invalid("onProgress: a function");
    const budget = halves("memoryBudget", memoryBudget);
    const runtimePromise = runtimeFor(simd);  // loaded while the source is read
    runtimePromise.catch(() => {});  // (its failure is the caller's from the await below)
    const { chunks, length } = await readSource(source, onProgress);
    const runtime = await runtimePromise;
    // 64-byte alignment lets the kernels read the weights at full speed (the C API's advice).
    const data = runtime.alloc(modelLength(length) + 64);
    const aligned = data + ((64 - (data % 64)) % 64);
    for (let i = 0, at = aligned; i < chunks.length; at += chunks[i++].length) runtime.m.HEAPU8.set(chunks[i], at);
    let pointer;
    try {
      pointer = runtime.withOut(1, (out) => {
        runtime.check(runtime.m._efw_model_load(aligned, length, verifyChecksums ? 1 : 0, budget[0], budget[1], out));
        return runtime.u32(out);
      });
    } catch (e) {
      runtime.free(data);
      throw e;
    }
    return new Model(runtime, pointer, data);
  }

  /** @private Use Model.load. */
  constructor(runtime, pointer, data) {
    this._rt = runtime;
    this._ptr = pointer;
    this._data = data;  // the file's copy: freed with the model's last handle (model or session)
    this._sessions = new Set();  // live sessions made on it
    this._default = null;  // generate()'s session
  }

  _use() {
    if (this._ptr === 0) throw invalid("the model is disposed");
    return this._ptr;
  }

  /** @returns {boolean} whether the SIMD128 module runs this model. */
  get simd() { return this._rt.simd; }
  /** @returns {string} the library's version ("0.6.0"). */
  get version() { return this._rt.version; }

  /**
   * The model's shape and kind (edgeformer_model_info), with camelCase names.
   * @returns {{nLayers: number, dim: number, hiddenDim: number, nHeads: number, nKvHeads: number,
   *   headDim: number, vocabSize: number, maxSeqLen: number, bosId: number, eosId: number,
   *   fileBytes: number, weightBytes: number, weightType: string, family: string, weights: string}}
   */
  get info() {
    const rt = this._rt;
    const model = this._use();
    const out = rt.alloc(20 * 8 + 4);
    try {
      rt.check(rt.m._efw_model_info(model, out, out + 160));
      const [nLayers, dim, hiddenDim, nHeads, nKvHeads, headDim, vocabSize, maxSeqLen, bosId, eosId, fileBytes,
        weightBytes, family] = rt.f64(out, 20);
      return { nLayers, dim, hiddenDim, nHeads, nKvHeads, headDim, vocabSize, maxSeqLen, bosId, eosId, fileBytes,
        weightBytes, weightType: rt.string(rt.u32(out + 160)), family: FAMILIES[family] ?? String(family),
        weights: rt.string(rt.m._edgeformer_model_weights(model)) };
    } finally {
      rt.free(out);
    }
  }

  /**
   * The token ids of a text, as the model's tokenizer gives them.
   * @param {string|Uint8Array} text a string, or UTF-8 bytes
   * @param {{addSpecial?: boolean, parseSpecial?: boolean}} [options] addSpecial (default true):
   *   the tokenizer's special tokens (BOS); parseSpecial (default false): special tokens written
   *   in the text become those tokens (leave it off for untrusted text)
   * @returns {number[]}
   */
  tokenize(text, options = {}) {
    checkKeys(options, ["addSpecial", "parseSpecial"], "tokenize");
    const { addSpecial = true, parseSpecial = false } = options;
    const rt = this._rt;
    const model = this._use();
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    if (!(bytes instanceof Uint8Array)) throw invalid("tokenize: a string or a Uint8Array of UTF-8");
    const flags = (addSpecial ? 1 : 0) | (parseSpecial ? 2 : 0);
    const textPtr = rt.put(bytes);
    try {
      for (let capacity = bytes.length + 16; ;) {
        const ids = rt.alloc(capacity * 4);
        try {
          const [status, n] = rt.withOut(1, (out) => [rt.m._edgeformer_tokenize(model, textPtr, bytes.length, flags, ids,
            capacity, out), rt.u32(out)]);
          if (status === Status.INVALID_ARGUMENT && n > capacity) {
            capacity = n;
            continue;
          }
          rt.check(status);
          return Array.from(new Int32Array(rt.m.HEAPU8.buffer, ids, n));
        } finally {
          rt.free(ids);
        }
      }
    } finally {
      rt.free(textPtr);
    }
  }

  /**
   * The bytes of a token after another (edgeformer_token_piece); empty for control tokens.
   * @param {number} token
   * @param {number} [prevToken=-1] the token before it (-1: none)
   * @returns {Uint8Array}
   */
  tokenPiece(token, prevToken = -1) {
    const rt = this._rt;
    const model = this._use();
    if (!Number.isInteger(token) || !Number.isInteger(prevToken)) throw invalid("tokenPiece: integer token ids");
    return rt.withOut(2, (out) => {
      rt.check(rt.m._edgeformer_token_piece(model, prevToken, token, out, out + 4));
      return rt.bytes(rt.u32(out), rt.u32(out, 1));
    });
  }

  /**
   * The text of a sequence of ids, each piece as it follows the one before (what edgeformer-run
   * prints for a prompt); invalid UTF-8 becomes U+FFFD.
   * @param {Iterable<number>} ids
   * @returns {string}
   */
  detokenize(ids) {
    const decoder = new TextDecoder();
    let text = "";
    let prev = -1;
    for (const id of ids) {
      text += decoder.decode(this.tokenPiece(id, prev), { stream: true });
      prev = id;
    }
    return text + decoder.decode();
  }

  /**
   * A new session (its own context and KV cache) on this model. It lives until its dispose() or
   * the model's.
   * @param {object} [options]
   * @param {number} [options.contextLength=0] tokens the KV cache holds (0: the model's maximum)
   * @param {number} [options.maxBatch=0] prompt tokens per step (0: the default, 32)
   * @param {"f32"|"f16"|"int8"} [options.kvType="f32"] KV cache storage
   * @param {number|bigint} [options.memoryBudget=0] bytes the session may allocate (0: no limit)
   * @returns {Session}
   */
  session(options = {}) {
    checkKeys(options, SESSION_OPTIONS, "session");
    const { contextLength = 0, maxBatch = 0, kvType = "f32", memoryBudget = 0 } = options;
    if (!Object.hasOwn(KV_TYPES, kvType)) {
      throw invalid(`kvType "${String(kvType)}": one of ${Object.keys(KV_TYPES).join(", ")}`);
    }
    const budget = halves("memoryBudget", memoryBudget);
    const rt = this._rt;
    const model = this._use();
    const pointer = rt.withOut(1, (out) => {
      rt.check(rt.m._efw_session_create(model, uint("contextLength", contextLength), uint("maxBatch", maxBatch),
        KV_TYPES[kvType], budget[0], budget[1], out));
      return rt.u32(out);
    });
    const session = new Session(this, pointer);
    this._sessions.add(session);
    return session;
  }

  /**
   * The text generated after a prompt, in a fresh context of the model's own session (see
   * Session.generate for the options). Blocks until done.
   * @param {string|number[]} prompt a text (tokenized with BOS) or token ids
   * @param {GenerateOptions} [options]
   * @returns {string}
   */
  generate(prompt, options = {}) {
    this._use();
    if (this._default === null || this._default._ptr === 0) this._default = this.session();
    this._default.reset();
    return this._default.generate(prompt, options);
  }

  /**
   * Session.stream in a session of its own, made at the first next() and disposed when the
   * stream ends (or the model is disposed; or, for a stream dropped before its end, when the
   * garbage collector takes it).
   * @param {string|number[]} prompt
   * @param {GenerateOptions} [options]
   * @returns {TextStream}
   */
  stream(prompt, options = {}) {
    this._use();
    return new TextStream(null, this, prompt, generateParams(this._rt, options));
  }

  /** Stops every generation running on this model's sessions at its next token. */
  cancel() {
    for (const session of this._sessions) session.cancel();
  }

  /**
   * Frees the model and every session made on it (a running stream stops, with stop reason
   * "cancelled"). Calls on them throw from now on. Idempotent.
   */
  dispose() {
    if (this._ptr === 0) return;
    const rt = this._rt;
    rt.m._edgeformer_model_destroy(this._ptr);
    this._ptr = 0;
    this._default = null;
    for (const session of [...this._sessions]) session.dispose();
    this._release();
  }

  // Frees the file's copy once the model and all its sessions are gone (the C library reads
  // the weights until the last of them is destroyed).
  _release() {
    if (this._ptr === 0 && this._sessions.size === 0 && this._data !== 0) {
      this._rt.free(this._data);
      this._data = 0;
    }
  }
}

// ---- Sessions ----------------------------------------------------------------------------

/**
 * Generation options; the defaults are the C API's (edgeformer_generate_default_params). The C
 * API's ranges are checked before anything runs (a refused option throws EdgeformerError
 * INVALID_ARGUMENT and leaves the session as it was), the float options as the 32-bit floats the
 * module receives.
 * @typedef {object} GenerateOptions
 * @property {number} [maxTokens=128] tokens to generate at most
 * @property {number} [temperature=0.8] <= 0: greedy; any number but NaN
 * @property {number} [topK=0] sample from the k most likely tokens (0: all)
 * @property {number} [topP=0.9] nucleus mass (>= 1: off); > 0
 * @property {number} [minP=0] drop tokens below minP times the most likely one's probability;
 *   in [0, 1]
 * @property {number} [repetitionPenalty=1] over the last 64 tokens (1: off); finite, > 0
 * @property {number|bigint} [seed=0x5eed] the sampler's seed
 * @property {boolean} [stopAtEndOfText=true] stop at EOS (or BOS)
 * @property {(piece: string, token: number) => (boolean|void)} [onToken] called with each
 *   token's text (whole characters: "" while a character is incomplete) and id; returning false
 *   stops after that token (stop reason "callback"). Its exceptions stop the generation and are
 *   rethrown by the call.
 * @property {number} [yieldEveryMs=10] stream() only: the longest run of tokens between two turns
 *   of the event loop (it also yields after the first token, so a page shows it at once)
 */

/**
 * A context (KV cache) on a model: prefill, generate, stream. Make one with model.session().
 * After a generation, stopReason says why it stopped ("max_tokens", "end_of_text", "callback",
 * "cancelled", "context_full") and nGenerated counts its tokens. A full context is not an error
 * here (as for edgeformer-run): the text that fit is returned, with stop reason "context_full".
 */
export class Session {
  /** @private Use model.session(). */
  constructor(model, pointer) {
    this._model = model;
    this._rt = model._rt;
    this._ptr = pointer;
    this._inCall = false;   // a C call on it is running (an onToken callback is on the stack)
    this._streaming = false;  // a stream holds it, from its first next() to its end
    this._cancel = false;  // cancel() asked a stream to stop
    /** @type {string|null} */ this.stopReason = null;
    /** @type {number} */ this.nGenerated = 0;
  }

  _use(what) {
    if (this._ptr === 0) throw invalid("the session is disposed");
    if (this._inCall || this._streaming) {
      throw new EdgeformerError(Status.BUSY, `${what}: the session is in use by a ${this._streaming ? "stream" : "call"} that has not returned`);
    }
    return this._ptr;
  }

  /** @returns {number} tokens in the KV cache (edgeformer_session_position). */
  get position() {
    if (this._ptr === 0) throw invalid("the session is disposed");
    return this._rt.m._edgeformer_session_position(this._ptr) >>> 0;
  }

  /** Forgets the context (the memory stays allocated). */
  reset() {
    this._rt.check(this._rt.m._edgeformer_session_reset(this._use("reset")));
  }

  /**
   * Appends a prompt to the context and computes the logits that follow it.
   * @param {string|Uint8Array|number[]} prompt a text (tokenized with BOS) or token ids
   */
  prefill(prompt) {
    this._prefill(this._use("prefill"), prompt);
  }

  _prefill(pointer, prompt) {
    const ids = typeof prompt === "string" || prompt instanceof Uint8Array ? this._model.tokenize(prompt) : Array.from(prompt);
    if (!ids.every((id) => Number.isInteger(id) && id >= -(2 ** 31) && id < 2 ** 31)) throw invalid("prefill: int32 token ids");
    const rt = this._rt;
    const buffer = rt.alloc(ids.length * 4);
    new Int32Array(rt.m.HEAPU8.buffer, buffer, ids.length).set(ids);
    try {
      rt.check(rt.m._edgeformer_session_prefill(pointer, buffer, ids.length));
    } finally {
      rt.free(buffer);
    }
  }

  // One edgeformer_generate call: each token to onToken(token, bytes), which returns whether to
  // go on. Returns [n_generated, stop reason]; throws for a failed status other than a full context.
  // continueSampling: the sampler goes on from this session's previous call (a stream's calls).
  _generateCall(pointer, p, maxTokens, seed, onToken, continueSampling = false) {
    const rt = this._rt;
    const id = rt.register(onToken);
    this._inCall = true;
    try {
      return rt.withOut(2, (out) => {
        const status = rt.m._efw_generate(pointer, maxTokens, p.stopAtEndOfText ? 1 : 0, p.temperature, p.topK, p.topP,
          p.minP, p.repetitionPenalty, seed[0], seed[1], continueSampling ? 1 : 0, id, out);
        if (status !== Status.CONTEXT_FULL) rt.check(status);
        return [rt.u32(out), STOP_REASONS[rt.u32(out, 1)] ?? "error"];
      });
    } finally {
      this._inCall = false;
      rt.handlers.delete(id);
      if (this._ptr === 0) this._finishDispose();  // disposed from its callback: freed now
    }
  }

  /**
   * The text generated after a prompt, in one edgeformer_generate call: the same text as
   * edgeformer-run for the same model, prompt and options. Blocks until done; onToken sees
   * each token as it comes. cancel() from onToken stops it (stop reason "cancelled").
   * @param {string|Uint8Array|number[]|null} prompt a text (tokenized with BOS), token ids, or
   *   null to continue the context
   * @param {GenerateOptions} [options]
   * @returns {string}
   */
  generate(prompt, options = {}) {
    const p = generateParams(this._rt, options);
    const pointer = this._use("generate");
    if (prompt !== null && prompt !== undefined) this._prefill(pointer, prompt);
    const decoder = new TextDecoder();
    let text = "";
    let failure = null;
    const [n, reason] = this._generateCall(pointer, p, p.maxTokens, p.seed, (token, bytes) => {
      const piece = decoder.decode(bytes, { stream: true });
      text += piece;
      try {
        return p.onToken === undefined || p.onToken(piece, token) !== false;
      } catch (e) {
        failure = e;
        return false;
      }
    });
    this.nGenerated = n;
    this.stopReason = reason;
    if (failure !== null) throw failure;
    return text + decoder.decode();
  }

  /**
   * The generated text as an async iterator of pieces (whole characters), one
   * edgeformer_generate call per token, with turns of the event loop between tokens (see
   * yieldEveryMs): a page repaints and its Stop button works while it runs. The options are
   * checked now (and those are what it uses); the prompt is fed at the first next(). Leaving the
   * loop early, or return(), stops it (stop reason "callback"); cancel() stops it at the next
   * token ("cancelled"). Finish a stream or return() it: one dropped before its end keeps the
   * session busy (BUSY) until the garbage collector takes the stream, which then frees it.
   * A stream gives generate()'s text exactly, greedy or sampled with the same seed: its calls
   * after the first continue the sampler's random stream (continue_sampling in the C API).
   * @param {string|Uint8Array|number[]|null} prompt as for generate()
   * @param {GenerateOptions} [options]
   * @returns {TextStream}
   */
  stream(prompt, options = {}) {
    const p = generateParams(this._rt, options);
    if (this._ptr === 0) throw invalid("the session is disposed");
    return new TextStream(this, null, prompt, p);
  }

  /**
   * Stops the generation running on this session at its next token: a generate() (when called
   * from its onToken) or a stream. A request while nothing runs is dropped (as in C).
   */
  cancel() {
    if (this._ptr === 0) return;
    this._cancel = this._streaming;
    if (this._inCall) this._rt.m._edgeformer_session_cancel(this._ptr);
  }

  /**
   * Frees the session and its KV cache. From an onToken callback it stops the generation, and
   * the memory goes when the call returns; a stream holding it ends ("cancelled"). Idempotent.
   */
  dispose() {
    if (this._ptr === 0) return;
    this._rt.m._edgeformer_session_destroy(this._ptr);  // deferred by the library during a call
    this._ptr = 0;
    if (!this._inCall) this._finishDispose();
  }

  _finishDispose() {
    this._model._sessions.delete(this);
    this._model._release();
  }
}

/**
 * The pieces of a generation, as an async iterator (for await ... of). stopReason, nGenerated
 * and text (everything so far) follow it as it runs; stopReason is null until it ends. It holds
 * its session from its first next() to its end: finish it or call return() (leaving a for
 * await loop does), else the session stays busy until the garbage collector takes the stream.
 */
export class TextStream {
  /** @private Use session.stream() or model.stream(). */
  constructor(session, model, prompt, p) {
    /** @type {string|null} */ this.stopReason = null;
    /** @type {number} */ this.nGenerated = 0;
    /** @type {string} */ this.text = "";
    this._pieces = this._run(session, model, prompt, p);
  }

  [Symbol.asyncIterator]() { return this; }
  /** @returns {Promise<IteratorResult<string>>} */
  next() { return this._pieces.next(); }
  /** Stops the stream (what leaving a for-await loop calls). */
  return(value) { return this._pieces.return(value); }
  throw(error) { return this._pieces.throw(error); }

  /** @returns {Promise<string>} the whole text, consuming the stream. */
  async all() {
    for await (const piece of this) void piece;
    return this.text;
  }

  // The generation, for the parameters `p` its stream() checked; session null: one of its own
  // on `model`, made at the first next() and disposed at the end.
  async* _run(session, model, prompt, p) {
    const own = session === null;
    const decoder = new TextDecoder();
    let hold = null;
    let reason = "callback";  // unless it ends by itself: the consumer left
    try {
      if (own) session = model.session();
      const pointer = session._use("stream");
      hold = new StreamHold(this, session, own);
      if (prompt !== null && prompt !== undefined) session._prefill(pointer, prompt);
      let lastYield = now();
      for (let i = 0; ; ++i) {
        if (i === p.maxTokens) {
          reason = "max_tokens";
          break;
        }
        if (session._cancel || session._ptr === 0) {
          reason = "cancelled";
          break;
        }
        let piece = "";
        let go = true;
        let failure = null;
        const [n, why] = session._generateCall(pointer, p, 1, p.seed, (token, bytes) => {
          piece = decoder.decode(bytes, { stream: true });
          try {
            go = p.onToken === undefined || p.onToken(piece, token) !== false;
          } catch (e) {
            failure = e;
          }
          return true;
        }, i > 0);
        this.nGenerated += n;
        session.nGenerated = this.nGenerated;
        if (failure !== null) throw failure;
        this.text += piece;
        if (piece !== "") yield piece;
        if (n === 0 || why !== "max_tokens" || !go) {
          reason = n === 0 || why !== "max_tokens" ? why : "callback";
          break;
        }
        if (i === 0 || now() - lastYield >= p.yieldEveryMs) {
          await yieldToEventLoop();
          lastYield = now();
        }
      }
      const tail = decoder.decode();
      if (tail !== "") {
        this.text += tail;
        yield tail;
      }
    } catch (e) {
      reason = "error";
      throw e;
    } finally {
      this.stopReason = reason;
      if (hold !== null) hold.release(reason);
      else if (own) session?.dispose();  // (made, but not taken)
    }
  }
}
