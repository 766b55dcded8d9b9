"""edgeformer.Session. Import it from edgeformer."""

import codecs
import ctypes
import queue
import threading

from . import _capi
from ._errors import INVALID_ARGUMENT, OK, EdgeformerError, check, library, unsigned
from ._handle import Closable, Handle
from .model import model_info, tokenize

_STOP_REASONS = ("max_tokens", "end_of_text", "callback", "cancelled", "context_full", "error", "stop_string")
_KV_TYPES = {"f32": 0, "f16": 1, "int8": 2}
_BACKENDS = {"native": 0, "xnnpack": 1, "auto": 2}
_POOLINGS = {"model": 0, "cls": 1, "mean": 2, "last": 3, "pooler": 4}


def _floats(pointer, n):
    """n floats at a ctypes pointer, copied: a NumPy array when NumPy is installed, else a list."""
    try:
        import numpy
    except ImportError:
        return list(pointer[:n])
    return numpy.ctypeslib.as_array(pointer, shape=(n,)).copy()


def _stop_reason(value):
    return _STOP_REASONS[value] if 0 <= value < len(_STOP_REASONS) else None


class Session(Closable):
    """A context (KV cache) on a model. Parameters as edgeformer_session_params: n_threads,
    context_length (0: the model's), max_batch, kv_type ("f32", "f16", "int8"), backend ("auto",
    "native", "xnnpack"), max_isa, memory_budget, max_draft_tokens. One call at a time (another
    thread's call raises BUSY); cancel() and close() may come from any thread (close() during a
    generation cancels it, and the memory is freed when it returns)."""

    def __init__(self, model, *, n_threads=1, context_length=0, max_batch=0, kv_type="f32", backend="auto",
                 max_isa=None, memory_budget=0, max_draft_tokens=0):
        lib = library()
        params = lib.edgeformer_session_default_params()
        params.n_threads = unsigned("n_threads", n_threads)
        params.context_length = unsigned("context_length", context_length)
        params.max_batch = unsigned("max_batch", max_batch)
        if kv_type not in _KV_TYPES:
            raise EdgeformerError(INVALID_ARGUMENT, f"kv_type {kv_type!r}: one of {', '.join(_KV_TYPES)}")
        if backend not in _BACKENDS:
            raise EdgeformerError(INVALID_ARGUMENT, f"backend {backend!r}: one of {', '.join(_BACKENDS)}")
        params.kv_type = _KV_TYPES[kv_type]
        params.backend = _BACKENDS[backend]
        params.max_isa = max_isa.encode() if max_isa else None
        params.memory_budget = unsigned("memory_budget", memory_budget, 64)
        params.max_draft_tokens = unsigned("max_draft_tokens", max_draft_tokens)
        model_handle = model._handle
        model_handle.retain()  # the session's model pointer (tokenizing) outlives model.close()
        try:
            pointer = ctypes.c_void_p()
            with model_handle.use() as m:
                check(lib.edgeformer_session_create(m, ctypes.byref(params), ctypes.byref(pointer)))
                self._dim = model_info(m)["dim"]
        except BaseException:
            model_handle.release()
            raise

        def destroy(p, lib=lib, model_handle=model_handle):
            lib.edgeformer_session_destroy(p)
            model_handle.release()

        self._model = model_handle
        self._handle = Handle(pointer, destroy, "session", on_close_in_use=lib.edgeformer_session_cancel)
        self.stop_reason = None
        self.n_generated = 0

    def close(self):
        self._handle.close()

    @property
    def position(self):
        """Tokens in the KV cache."""
        with self._handle.use() as h:
            return library().edgeformer_session_position(h)

    @property
    def info(self):
        """edgeformer_session_info as a dict (the kernels in use, threads, memory, draft counts)."""
        out = _capi.SessionInfo()
        with self._handle.use() as h:
            check(library().edgeformer_session_get_info(h, ctypes.byref(out)))
        return {name: (value.decode() if isinstance(value, bytes) else value)
                for name, value in ((name, getattr(out, name)) for name, _ in out._fields_)}

    def reset(self):
        with self._handle.use() as h:
            check(library().edgeformer_session_reset(h))

    def truncate(self, n_keep):
        """Keeps the first n_keep tokens of the context."""
        with self._handle.use() as h:
            check(library().edgeformer_session_truncate(h, unsigned("n_keep", n_keep)))

    def cancel(self):
        """Stops a prefill or generate running on another thread at its next step."""
        with self._handle.use() as h:
            library().edgeformer_session_cancel(h)

    def tokens(self):
        """The ids in the KV cache, position 0 first."""
        with self._handle.use() as h:
            capacity = library().edgeformer_session_position(h) + 1
            ids = (ctypes.c_int32 * capacity)()
            n = ctypes.c_size_t()
            check(library().edgeformer_session_tokens(h, ids, capacity, ctypes.byref(n)))
            return list(ids[:n.value])

    def _prefill(self, h, tokens):
        if isinstance(tokens, (str, bytes)):
            with self._model.use(even_closed=True) as m:
                tokens = tokenize(m, tokens)
        tokens = list(tokens)
        ids = (ctypes.c_int32 * max(1, len(tokens)))(*tokens)
        check(library().edgeformer_session_prefill(h, ids, len(tokens)))

    def prefill(self, tokens):
        """Appends ids (or a str, tokenized with BOS) to the context."""
        with self._handle.use() as h:
            self._prefill(h, tokens)

    def logits(self):
        """The logits after the last token (a copy)."""
        pointer = _capi.c_float_p()
        n = ctypes.c_size_t()
        with self._handle.use() as h:
            check(library().edgeformer_session_logits(h, ctypes.byref(pointer), ctypes.byref(n)))
            return _floats(pointer, n.value)

    @staticmethod
    def _params(max_tokens=128, temperature=0.8, top_k=None, top_p=None, min_p=None, seed=None,
                repetition_penalty=None, stop=None, stop_at_end_of_text=True, lookup_tokens=0):
        p = library().edgeformer_generate_default_params()
        p.max_tokens = unsigned("max_tokens", max_tokens)
        p.stop_at_end_of_text = 1 if stop_at_end_of_text else 0
        s = p.sampler
        s.temperature = temperature
        if top_k is not None:
            s.top_k = unsigned("top_k", top_k)
        if top_p is not None:
            s.top_p = top_p
        if min_p is not None:
            s.min_p = min_p
        if seed is not None:
            s.seed = unsigned("seed", seed, 64)
        if repetition_penalty is not None:
            s.repetition_penalty = repetition_penalty
        p.lookup_tokens = unsigned("lookup_tokens", lookup_tokens)
        keep = None
        if stop:
            stop = [stop] if isinstance(stop, (str, bytes)) else list(stop)
            encoded = [x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in stop]
            keep = (ctypes.c_char_p * len(encoded))(*encoded)
            p.stop_strings = keep
            p.n_stop_strings = len(encoded)
        return p, keep

    def generate_ids(self, prompt=None, **kwargs):
        """Generates after `prompt` (a str, tokenized with BOS; a list of ids; None: continue the
        context) and returns [(id, piece bytes), ...]. Parameters: max_tokens (128), temperature
        (0.8; <= 0 greedy), top_k, top_p (0.9), min_p, seed, repetition_penalty, stop (strings),
        stop_at_end_of_text (True), lookup_tokens: edgeformer_generate_params'. self.stop_reason
        says why it stopped ("max_tokens", "end_of_text", "stop_string", "callback", ...)."""
        params, keep = self._params(**kwargs)
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
        with self._handle.use() as h:
            if prompt is not None:
                self._prefill(h, prompt)
            status = library().edgeformer_generate(h, ctypes.byref(params), callback, None, ctypes.byref(n),
                                                   ctypes.byref(reason))
            message = library().edgeformer_last_error().decode("utf-8", "replace") if status != OK else None
        del keep
        self.stop_reason = _stop_reason(reason.value)
        self.n_generated = n.value
        if failure:
            raise failure[0]
        check(status, message)
        return out

    def generate(self, prompt=None, **kwargs):
        """The text generated after `prompt` (see generate_ids for the parameters)."""
        return b"".join(piece for _, piece in self.generate_ids(prompt, **kwargs)).decode("utf-8", "replace")

    def stream(self, prompt=None, _close_after=False, **kwargs):
        """An iterator over the generated text, a piece at a time as each token comes (whole UTF-8
        characters; generate_ids' parameters, checked now). The prompt is fed and generation starts
        at the first next(); leaving the loop early stops it."""
        params, keep = self._params(**kwargs)
        return self._stream(prompt, params, keep, _close_after)

    def _stream(self, prompt, params, keep, close_after):
        # The C call runs on a worker thread; its callback hands each piece over and waits for the
        # consumer to ask for the next, so the generation keeps the consumer's pace and stops
        # (the callback returns 0) when the consumer leaves. The session is held (use()) from the
        # first next() to the end: close() meanwhile cancels, and frees it afterwards.
        try:
            with self._handle.use() as h:
                if prompt is not None:
                    self._prefill(h, prompt)
                pieces = queue.Queue()
                go = queue.Queue()

                def deliver(_user, token, piece, length):
                    try:
                        pieces.put(("token", token, ctypes.string_at(piece, length) if length else b""))
                        return 1 if go.get() else 0
                    except BaseException:  # never let an exception cross the C frames
                        return 0

                callback = _capi.TokenCallback(deliver)
                result = {}

                def run():
                    n = ctypes.c_size_t()
                    reason = ctypes.c_int()
                    status = library().edgeformer_generate(h, ctypes.byref(params), callback, None, ctypes.byref(n),
                                                           ctypes.byref(reason))
                    message = library().edgeformer_last_error().decode("utf-8", "replace") if status != OK else None
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
                    self.stop_reason = _stop_reason(result.get("reason", 5))
                    self.n_generated = result.get("n", 0)
            check(result["status"], result["message"])
        finally:
            if close_after:
                self.close()

    def embed(self, texts, *, pooling="model", normalize=None):
        """Embeddings of each text (encoders; decoders with pooling "last" or "mean"): a 2-D NumPy
        array when NumPy is installed, else a list of lists (one row for a single text)."""
        single = isinstance(texts, (str, bytes))
        texts = [texts] if single else list(texts)
        encoded = [t.encode("utf-8") if isinstance(t, str) else bytes(t) for t in texts]
        if pooling not in _POOLINGS:
            raise EdgeformerError(INVALID_ARGUMENT, f"pooling {pooling!r}: one of {', '.join(_POOLINGS)}")
        lib = library()
        params = lib.edgeformer_embed_default_params()
        params.pooling = _POOLINGS[pooling]
        params.normalize = -1 if normalize is None else (1 if normalize else 0)
        dim = self._dim
        out = (ctypes.c_float * (dim * len(encoded)))()
        ptrs = (ctypes.c_char_p * len(encoded))(*encoded)
        lens = (ctypes.c_size_t * len(encoded))(*[len(t) for t in encoded])
        with self._handle.use() as h:
            check(lib.edgeformer_embed_texts(h, ptrs, lens, len(encoded), ctypes.byref(params), out,
                                             dim * len(encoded)))
        flat = _floats(ctypes.cast(out, _capi.c_float_p), dim * len(encoded))
        rows = flat.reshape(len(encoded), dim) if hasattr(flat, "reshape") else \
            [flat[i * dim:(i + 1) * dim] for i in range(len(encoded))]
        return rows[0] if single else rows
