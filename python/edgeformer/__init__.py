"""edgeformer for Python: load a model file made by edgeformer-convert, tokenize, generate, read
logits and embeddings, over the C API (runtime/include/edgeformer.h) through ctypes: no compiler
at install. The shared library is found through EDGEFORMER_LIBRARY, beside this package, in a
build tree above it (build/runtime/libedgeformer.so), or on the system's search path.

    import edgeformer
    with edgeformer.Model("model.edgf") as model:
        print(model.generate("Once upon a time", max_tokens=40, temperature=0))
        for piece in model.stream("Once upon a time", max_tokens=40):
            print(piece, end="", flush=True)

Handles are closed by close() or `with`; a closed handle raises EdgeformerError. A session is not
thread-safe (the C API answers a concurrent call with BUSY, raised here); a model may be shared.
"""

import codecs
import ctypes
import os
import queue
import threading

from . import _capi

__version__ = "0.5.0"
__all__ = ["EdgeformerError", "Model", "Session", "library_version"]

# edgeformer_status values (the header's enum).
OK, INVALID_ARGUMENT, IO_ERROR, INVALID_MODEL, UNSUPPORTED, OUT_OF_MEMORY, CONTEXT_FULL, CANCELLED, INTERNAL, BUSY = \
    range(10)
_STOP_REASONS = ("max_tokens", "end_of_text", "callback", "cancelled", "context_full", "error", "stop_string")
_KV_TYPES = {"f32": 0, "f16": 1, "int8": 2}
_BACKENDS = {"native": 0, "xnnpack": 1, "auto": 2}
_POOLINGS = {"model": 0, "cls": 1, "mean": 2, "last": 3, "pooler": 4}

_lib = None
_lib_lock = threading.Lock()


def _library():
    global _lib
    with _lib_lock:
        if _lib is None:
            _lib = _capi.load_library()
    return _lib


def library_version():
    """The shared library's version, "MAJOR.MINOR.PATCH"."""
    return _library().edgeformer_version().decode()


class EdgeformerError(Exception):
    """A call the library refused or that failed: `status` (an int, the C API's edgeformer_status),
    `status_name` ("invalid model") and the library's message."""

    def __init__(self, status, message):
        self.status = status
        self.status_name = _library().edgeformer_status_name(status).decode()
        self.message = message
        super().__init__(f"{self.status_name}: {message}")


def _check(status, message=None):
    if status != OK:
        if message is None:
            message = _library().edgeformer_last_error().decode("utf-8", "replace")
        raise EdgeformerError(status, message)


def _int32_array(ids):
    ids = list(ids)
    return (ctypes.c_int32 * max(1, len(ids)))(*ids), len(ids)


def _floats(pointer, n):
    """n floats at a ctypes pointer, copied: a NumPy array when NumPy is installed, else a list."""
    try:
        import numpy
    except ImportError:
        return list(pointer[:n])
    return numpy.ctypeslib.as_array(pointer, shape=(n,)).copy()


class Model:
    """A model file, mapped (the weights are read in place). `path` is a file name; or use
    Model.from_bytes(data)."""

    def __init__(self, path=None, *, verify_checksums=False, memory_budget=0, _data=None):
        lib = _library()
        params = lib.edgeformer_model_default_params()
        params.verify_checksums = 1 if verify_checksums else 0
        params.memory_budget = memory_budget
        handle = ctypes.c_void_p()
        self._handle = None   # the C handle, destroyed once the model is closed and its sessions are
        self._closed = False  # closed: a session goes on using it (tokenizing) after model.close()
        self._users = 0       # open sessions
        self._session = None
        self._data = _data  # from_bytes: the buffer the model reads, kept alive with it
        if _data is not None:
            _check(lib.edgeformer_model_load_from_memory(ctypes.addressof(_data), len(_data), ctypes.byref(params),
                                                         ctypes.byref(handle)))
        else:
            _check(lib.edgeformer_model_load(os.fsencode(path), ctypes.byref(params), ctypes.byref(handle)))
        self._handle = handle

    @classmethod
    def from_bytes(cls, data, **kwargs):
        """A model from a bytes-like object (copied once into a 64-byte-aligned buffer)."""
        data = bytes(data)
        raw = (ctypes.c_char * (len(data) + 64))()
        offset = (-ctypes.addressof(raw)) % 64
        buffer = (ctypes.c_char * len(data)).from_buffer(raw, offset)
        ctypes.memmove(buffer, data, len(data))
        buffer._keep = raw
        return cls(_data=buffer, **kwargs)

    def _h(self):
        if self._closed or self._handle is None:
            raise EdgeformerError(INVALID_ARGUMENT, "the model is closed")
        return self._handle

    def _release(self):
        if self._closed and self._users == 0 and self._handle is not None:
            _library().edgeformer_model_destroy(self._handle)
            self._handle = None

    def close(self):
        """Closes the model: its methods raise from now on. Sessions made on it keep working
        until they close; the memory goes with the last of them."""
        if self._session is not None:
            self._session.close()
            self._session = None
        self._closed = True
        self._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if _lib is not None and getattr(self, "_handle", None) is not None:
            self.close()

    @property
    def info(self):
        """The model's shape and kind (edgeformer_model_info) as a dict."""
        out = _capi.ModelInfo()
        _check(_library().edgeformer_model_get_info(self._h(), ctypes.byref(out)))
        info = {name: getattr(out, name) for name, _ in out._fields_}
        info["weight_type"] = info["weight_type"].decode()
        info["family"] = ("decoder", "encoder", "encoder-decoder")[info["family"]]
        return info

    def tokenize(self, text, *, add_special=True, parse_special=False):
        """The token ids of `text` (str or UTF-8 bytes), as the model's Hugging Face tokenizer gives
        them. add_special: BOS and the like; parse_special: special tokens written in the text become
        those tokens (leave it off for untrusted text)."""
        return self._tokenize(self._h(), text, add_special, parse_special)

    @staticmethod
    def _tokenize(handle, text, add_special=True, parse_special=False):
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        flags = (1 if add_special else 0) | (2 if parse_special else 0)
        lib = _library()
        n = ctypes.c_size_t()
        capacity = len(data) + 16
        while True:
            ids = (ctypes.c_int32 * capacity)()
            status = lib.edgeformer_tokenize(handle, data, len(data), flags, ids, capacity, ctypes.byref(n))
            if status == INVALID_ARGUMENT and n.value > capacity:
                capacity = n.value
                continue
            _check(status)
            return list(ids[:n.value])

    def token_piece(self, token, prev_token=-1):
        """The bytes of `token` after `prev_token` (-1: none); b"" for control tokens."""
        piece = ctypes.c_void_p()
        n = ctypes.c_size_t()
        _check(_library().edgeformer_token_piece(self._h(), prev_token, token, ctypes.byref(piece), ctypes.byref(n)))
        return ctypes.string_at(piece, n.value) if n.value else b""

    def detokenize(self, ids):
        """The text of a sequence of ids (invalid UTF-8 replaced)."""
        out, prev = [], -1
        for token in ids:
            out.append(self.token_piece(token, prev))
            prev = token
        return b"".join(out).decode("utf-8", "replace")

    def session(self, **params):
        """A new Session on this model (see Session for the parameters)."""
        return Session(self, **params)

    def _default_session(self):
        if self._session is None:
            self._session = Session(self)
        return self._session

    def generate(self, prompt, **kwargs):
        """The text generated after `prompt` (a str, tokenized with BOS, or a list of ids) in a fresh
        context of the model's own session; the parameters are Session.generate's."""
        session = self._default_session()
        session.reset()
        return session.generate(prompt, **kwargs)

    def stream(self, prompt, **kwargs):
        """Session.stream on the model's own session, from a fresh context."""
        session = self._default_session()
        session.reset()
        return session.stream(prompt, **kwargs)


class Session:
    """A context (KV cache) on a model. Parameters as edgeformer_session_params: n_threads,
    context_length (0: the model's), max_batch, kv_type ("f32", "f16", "int8"), backend ("auto",
    "native", "xnnpack"), max_isa, memory_budget, max_draft_tokens."""

    def __init__(self, model, *, n_threads=1, context_length=0, max_batch=0, kv_type="f32", backend="auto",
                 max_isa=None, memory_budget=0, max_draft_tokens=0):
        lib = _library()
        params = lib.edgeformer_session_default_params()
        params.n_threads = n_threads
        params.context_length = context_length
        params.max_batch = max_batch
        if kv_type not in _KV_TYPES:
            raise EdgeformerError(INVALID_ARGUMENT, f"kv_type {kv_type!r}: one of {', '.join(_KV_TYPES)}")
        if backend not in _BACKENDS:
            raise EdgeformerError(INVALID_ARGUMENT, f"backend {backend!r}: one of {', '.join(_BACKENDS)}")
        params.kv_type = _KV_TYPES[kv_type]
        params.backend = _BACKENDS[backend]
        params.max_isa = max_isa.encode() if max_isa else None
        params.memory_budget = memory_budget
        params.max_draft_tokens = max_draft_tokens
        handle = ctypes.c_void_p()
        self._handle = None
        self.model = model
        _check(lib.edgeformer_session_create(model._h(), ctypes.byref(params), ctypes.byref(handle)))
        self._handle = handle
        model._users += 1
        self._model_handle = model._handle
        self._dim = model.info["dim"]
        self.stop_reason = None
        self.n_generated = 0

    def _h(self):
        if self._handle is None:
            raise EdgeformerError(INVALID_ARGUMENT, "the session is closed")
        return self._handle

    def close(self):
        if self._handle is not None:
            _library().edgeformer_session_destroy(self._handle)
            self._handle = None
            self.model._users -= 1
            self.model._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if _lib is not None and getattr(self, "_handle", None) is not None:
            self.close()

    @property
    def position(self):
        """Tokens in the KV cache."""
        return _library().edgeformer_session_position(self._h())

    @property
    def info(self):
        out = _capi.SessionInfo()
        _check(_library().edgeformer_session_get_info(self._h(), ctypes.byref(out)))
        return {name: (value.decode() if isinstance(value, bytes) else value)
                for name, value in ((name, getattr(out, name)) for name, _ in out._fields_)}

    def reset(self):
        _check(_library().edgeformer_session_reset(self._h()))

    def truncate(self, n_keep):
        _check(_library().edgeformer_session_truncate(self._h(), n_keep))

    def cancel(self):
        """Stops a prefill or generate running on another thread at its next step."""
        _library().edgeformer_session_cancel(self._h())

    def tokens(self):
        """The ids in the KV cache, position 0 first."""
        capacity = self.position + 1
        ids = (ctypes.c_int32 * capacity)()
        n = ctypes.c_size_t()
        _check(_library().edgeformer_session_tokens(self._h(), ids, capacity, ctypes.byref(n)))
        return list(ids[:n.value])

    def prefill(self, tokens):
        """Appends ids (or a str, tokenized with BOS) to the context."""
        if isinstance(tokens, (str, bytes)):
            self._h()
            tokens = Model._tokenize(self._model_handle, tokens)
        ids, n = _int32_array(tokens)
        _check(_library().edgeformer_session_prefill(self._h(), ids, n))

    def logits(self):
        """The logits after the last token (a copy)."""
        pointer = _capi.c_float_p()
        n = ctypes.c_size_t()
        _check(_library().edgeformer_session_logits(self._h(), ctypes.byref(pointer), ctypes.byref(n)))
        return _floats(pointer, n.value)

    def _params(self, max_tokens, temperature, top_k, top_p, min_p, seed, repetition_penalty, stop,
                stop_at_end_of_text, lookup_tokens):
        lib = _library()
        p = lib.edgeformer_generate_default_params()
        p.max_tokens = max_tokens
        p.stop_at_end_of_text = 1 if stop_at_end_of_text else 0
        s = p.sampler
        s.temperature = temperature
        if top_k is not None:
            s.top_k = top_k
        if top_p is not None:
            s.top_p = top_p
        if min_p is not None:
            s.min_p = min_p
        if seed is not None:
            s.seed = seed
        if repetition_penalty is not None:
            s.repetition_penalty = repetition_penalty
        p.lookup_tokens = lookup_tokens
        keep = None
        if stop:
            stop = [stop] if isinstance(stop, (str, bytes)) else list(stop)
            encoded = [x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in stop]
            keep = (ctypes.c_char_p * len(encoded))(*encoded)
            p.stop_strings = keep
            p.n_stop_strings = len(encoded)
        return p, keep

    def _start(self, prompt):
        if prompt is not None:
            self.prefill(prompt)

    def generate_ids(self, prompt=None, *, max_tokens=128, temperature=0.8, top_k=None, top_p=None, min_p=None,
                     seed=None, repetition_penalty=None, stop=None, stop_at_end_of_text=True, lookup_tokens=0):
        """Generates after `prompt` (a str, tokenized with BOS; a list of ids; None: continue the
        context) and returns [(id, piece bytes), ...]. The sampler's defaults are the C API's
        (temperature 0.8, top_p 0.9); temperature <= 0 is greedy. self.stop_reason says why it
        stopped ("max_tokens", "end_of_text", "stop_string", ...)."""
        params, keep = self._params(max_tokens, temperature, top_k, top_p, min_p, seed, repetition_penalty, stop,
                                    stop_at_end_of_text, lookup_tokens)
        self._start(prompt)
        out = []
        failure = []

        def collect(_user, token, piece, length):
            try:
                out.append((token, ctypes.string_at(piece, length) if length else b""))
                return 1
            except BaseException as e:  # never let an exception cross the C frames
                failure.append(e)
                return 0

        callback = _capi.TokenCallback(collect)
        n = ctypes.c_size_t()
        reason = ctypes.c_int()
        status = _library().edgeformer_generate(self._h(), ctypes.byref(params), callback, None, ctypes.byref(n),
                                                ctypes.byref(reason))
        del keep
        self.stop_reason = _STOP_REASONS[reason.value] if 0 <= reason.value < len(_STOP_REASONS) else None
        self.n_generated = n.value
        if failure:
            raise failure[0]
        _check(status)
        return out

    def generate(self, prompt=None, **kwargs):
        """The text generated after `prompt` (see generate_ids for the parameters)."""
        return b"".join(piece for _, piece in self.generate_ids(prompt, **kwargs)).decode("utf-8", "replace")

    def stream(self, prompt=None, **kwargs):
        """An iterator over the generated text, a piece at a time as each token comes (whole UTF-8
        characters; generate_ids' parameters). Leaving the loop early stops the generation."""
        params, keep = self._params(kwargs.pop("max_tokens", 128), kwargs.pop("temperature", 0.8),
                                    kwargs.pop("top_k", None), kwargs.pop("top_p", None), kwargs.pop("min_p", None),
                                    kwargs.pop("seed", None), kwargs.pop("repetition_penalty", None),
                                    kwargs.pop("stop", None), kwargs.pop("stop_at_end_of_text", True),
                                    kwargs.pop("lookup_tokens", 0))
        if kwargs:
            raise TypeError("unexpected arguments: " + ", ".join(kwargs))
        self._start(prompt)
        handle = self._h()
        return self._stream(handle, params, keep)

    def _stream(self, handle, params, keep):
        # The C call runs on a worker thread; its callback hands each piece over and waits for the
        # consumer to ask for the next, so the generation keeps the consumer's pace and stops
        # (the callback returns 0) when the consumer leaves.
        pieces = queue.Queue()
        go = queue.Queue()

        def deliver(_user, token, piece, length):
            pieces.put(("token", token, ctypes.string_at(piece, length) if length else b""))
            return 1 if go.get() else 0

        callback = _capi.TokenCallback(deliver)
        result = {}

        def run():
            n = ctypes.c_size_t()
            reason = ctypes.c_int()
            status = _library().edgeformer_generate(handle, ctypes.byref(params), callback, None, ctypes.byref(n),
                                                    ctypes.byref(reason))
            message = _library().edgeformer_last_error().decode("utf-8", "replace") if status != OK else None
            result.update(status=status, message=message, n=n.value, reason=reason.value)
            pieces.put(("end",))

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        finished = False
        try:
            while True:
                item = pieces.get()
                if item[0] == "end":
                    finished = True
                    break
                text = decoder.decode(item[2])
                if text:
                    yield text
                go.put(True)
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
        finally:
            if not finished:
                go.put(False)  # the callback stops the generation
                while pieces.get()[0] != "end":
                    go.put(False)
            worker.join()
            del keep
            reason = result.get("reason", 5)
            self.stop_reason = _STOP_REASONS[reason] if 0 <= reason < len(_STOP_REASONS) else None
            self.n_generated = result.get("n", 0)
        _check(result["status"], result["message"])

    def embed(self, texts, *, pooling="model", normalize=None):
        """Embeddings of each text (encoders; decoders with pooling "last" or "mean"): a 2-D NumPy
        array when NumPy is installed, else a list of lists."""
        single = isinstance(texts, (str, bytes))
        texts = [texts] if single else list(texts)
        encoded = [t.encode("utf-8") if isinstance(t, str) else bytes(t) for t in texts]
        lib = _library()
        params = lib.edgeformer_embed_default_params()
        params.pooling = _POOLINGS[pooling]
        params.normalize = -1 if normalize is None else (1 if normalize else 0)
        dim = self._dim
        out = (ctypes.c_float * (dim * len(encoded)))()
        ptrs = (ctypes.c_char_p * len(encoded))(*encoded)
        lens = (ctypes.c_size_t * len(encoded))(*[len(t) for t in encoded])
        _check(lib.edgeformer_embed_texts(self._h(), ptrs, lens, len(encoded), ctypes.byref(params), out,
                                          dim * len(encoded)))
        flat = _floats(ctypes.cast(out, _capi.c_float_p), dim * len(encoded))
        rows = flat.reshape(len(encoded), dim) if hasattr(flat, "reshape") else \
            [flat[i * dim:(i + 1) * dim] for i in range(len(encoded))]
        return rows[0] if single else rows
