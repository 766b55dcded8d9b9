"""edgeformer.Model. Import it from edgeformer."""

import ctypes
import os
import threading

from . import _capi
from ._errors import INVALID_ARGUMENT, check, library, unsigned
from ._handle import Closable, Handle


def model_info(pointer):
    out = _capi.ModelInfo()
    check(library().edgeformer_model_get_info(pointer, ctypes.byref(out)))
    info = {name: getattr(out, name) for name, _ in out._fields_}
    info["weight_type"] = info["weight_type"].decode()
    info["family"] = ("decoder", "encoder", "encoder-decoder")[info["family"]]
    return info


def tokenize(pointer, text, add_special=True, parse_special=False):
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    flags = (1 if add_special else 0) | (2 if parse_special else 0)
    lib = library()
    n = ctypes.c_size_t()
    capacity = len(data) + 16
    while True:
        ids = (ctypes.c_int32 * capacity)()
        status = lib.edgeformer_tokenize(pointer, data, len(data), flags, ids, capacity, ctypes.byref(n))
        if status == INVALID_ARGUMENT and n.value > capacity:
            capacity = n.value
            continue
        check(status)
        return list(ids[:n.value])


class Model(Closable):
    """A model file made by edgeformer-convert, mapped (the weights are read in place). `path` is
    a file name; or use Model.from_bytes(data). Thread-safe: sessions on one model may run on
    different threads. close() (or `with`) makes its methods raise; its sessions keep working,
    and the memory goes with the last of them."""

    def __init__(self, path=None, *, verify_checksums=False, memory_budget=0, _data=None):
        lib = library()
        params = lib.edgeformer_model_default_params()
        params.verify_checksums = 1 if verify_checksums else 0
        params.memory_budget = unsigned("memory_budget", memory_budget, 64)
        pointer = ctypes.c_void_p()
        self._data = _data  # from_bytes: the buffer the model reads, kept alive with it
        if _data is not None:
            check(lib.edgeformer_model_load_from_memory(ctypes.addressof(_data), len(_data), ctypes.byref(params),
                                                        ctypes.byref(pointer)))
        else:
            check(lib.edgeformer_model_load(os.fsencode(path), ctypes.byref(params), ctypes.byref(pointer)))
        self._handle = Handle(pointer, lib.edgeformer_model_destroy, "model")
        self._default = None  # generate()'s session
        self._default_lock = threading.Lock()

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

    def close(self):
        """Closes the model: its methods raise from now on. Sessions made on it keep working until
        they close; the memory goes with the last of them."""
        with self._default_lock:
            default, self._default = self._default, None
        if default is not None:
            default.close()
        self._handle.close()

    @property
    def info(self):
        """The model's shape and kind (edgeformer_model_info) as a dict."""
        with self._handle.use() as pointer:
            return model_info(pointer)

    def tokenize(self, text, *, add_special=True, parse_special=False):
        """The token ids of `text` (str or UTF-8 bytes), as the model's Hugging Face tokenizer gives
        them. add_special: BOS and the like; parse_special: special tokens written in the text become
        those tokens (leave it off for untrusted text)."""
        with self._handle.use() as pointer:
            return tokenize(pointer, text, add_special, parse_special)

    def token_piece(self, token, prev_token=-1):
        """The bytes of `token` after `prev_token` (-1: none); b"" for control tokens."""
        piece = ctypes.c_void_p()
        n = ctypes.c_size_t()
        with self._handle.use() as pointer:
            check(library().edgeformer_token_piece(pointer, prev_token, token, ctypes.byref(piece), ctypes.byref(n)))
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
        from .session import Session
        return Session(self, **params)

    def generate(self, prompt, **kwargs):
        """The text generated after `prompt` (a str, tokenized with BOS, or a list of ids) in a fresh
        context of the model's own session (calls from several threads take turns); the parameters
        are Session.generate_ids'."""
        with self._default_lock:
            if self._default is None:
                self._default = self.session()
            session = self._default
            session.reset()
            return session.generate(prompt, **kwargs)

    def stream(self, prompt, **kwargs):
        """Session.stream in a session of its own, closed when the stream ends."""
        return self.session().stream(prompt, _close_after=True, **kwargs)
