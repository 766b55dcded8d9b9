"""The C API (runtime/include/edgeformer.h) through ctypes: the library, its structs and its
functions' prototypes. Internal: edgeformer/__init__.py is the Python API.

The structs mirror the header field for field (the header's ABI rule: structs only grow at the
end); tests/test_edgeformer.py checks their sizes and offsets against a C compiler's where one is
installed.
"""

import ctypes
import ctypes.util
import os
import pathlib

c_float_p = ctypes.POINTER(ctypes.c_float)
c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_size_p = ctypes.POINTER(ctypes.c_size_t)


class ModelParams(ctypes.Structure):
    _fields_ = [("verify_checksums", ctypes.c_int), ("memory_budget", ctypes.c_uint64)]


class ModelInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint32) for name in ("n_layers", "dim", "hidden_dim", "n_heads", "n_kv_heads",
                                                     "head_dim", "vocab_size", "max_seq_len")] + [
        ("bos_id", ctypes.c_int32),
        ("eos_id", ctypes.c_int32),
        ("file_bytes", ctypes.c_uint64),
        ("weight_bytes", ctypes.c_uint64),
        ("weight_type", ctypes.c_char_p),
        ("family", ctypes.c_int),
        ("pooling", ctypes.c_int),
        ("normalize", ctypes.c_int),
        ("has_logits", ctypes.c_int),
        ("token_types", ctypes.c_uint32),
        ("encoder_layers", ctypes.c_uint32),
        ("encoder_vocab_size", ctypes.c_uint32),
        ("max_source_length", ctypes.c_uint32),
        ("encoder_weight_bytes", ctypes.c_uint64),
    ]


class SessionParams(ctypes.Structure):
    _fields_ = [
        ("n_threads", ctypes.c_uint32),
        ("context_length", ctypes.c_uint32),
        ("max_batch", ctypes.c_uint32),
        ("max_isa", ctypes.c_char_p),
        ("spin_between_tokens", ctypes.c_int),
        ("kv_type", ctypes.c_int),
        ("backend", ctypes.c_int),
        ("threadpool", ctypes.c_void_p),
        ("memory_budget", ctypes.c_uint64),
        ("max_source_length", ctypes.c_uint32),
        ("max_beams", ctypes.c_uint32),
        ("max_beam_tokens", ctypes.c_uint32),
        ("huge_pages", ctypes.c_int),
        ("max_draft_tokens", ctypes.c_uint32),
    ]


class LogitBias(ctypes.Structure):
    _fields_ = [("token", ctypes.c_int32), ("bias", ctypes.c_float)]


class SamplerParams(ctypes.Structure):
    _fields_ = [
        ("temperature", ctypes.c_float),
        ("top_k", ctypes.c_uint32),
        ("top_p", ctypes.c_float),
        ("seed", ctypes.c_uint64),
        ("min_p", ctypes.c_float),
        ("repetition_penalty", ctypes.c_float),
        ("presence_penalty", ctypes.c_float),
        ("frequency_penalty", ctypes.c_float),
        ("penalty_last_n", ctypes.c_uint32),
        ("logit_bias", ctypes.POINTER(LogitBias)),
        ("n_logit_bias", ctypes.c_size_t),
    ]


class GenerateParams(ctypes.Structure):
    _fields_ = [
        ("max_tokens", ctypes.c_uint32),
        ("stop_at_end_of_text", ctypes.c_int),
        ("sampler", SamplerParams),
        ("slide_context", ctypes.c_int),
        ("keep_tokens", ctypes.c_uint32),
        ("stop_strings", ctypes.POINTER(ctypes.c_char_p)),
        ("n_stop_strings", ctypes.c_size_t),
        ("lookup_tokens", ctypes.c_uint32),
        ("lookup_ngram", ctypes.c_uint32),
        ("draft", ctypes.c_void_p),
        ("draft_tokens", ctypes.c_uint32),
        ("continue_sampling", ctypes.c_int),
    ]


class EmbedParams(ctypes.Structure):
    _fields_ = [("pooling", ctypes.c_int), ("normalize", ctypes.c_int)]


class SessionInfo(ctypes.Structure):
    _fields_ = [
        ("isa", ctypes.c_char_p),
        ("qgemm_kernel", ctypes.c_char_p),
        ("n_threads", ctypes.c_uint32),
        ("context_length", ctypes.c_uint32),
        ("allocated_bytes", ctypes.c_uint64),
        ("sgemm_kernel", ctypes.c_char_p),
        ("active_threads", ctypes.c_uint32),
        ("q4gemm_kernel", ctypes.c_char_p),
        ("draft_passes", ctypes.c_uint64),
        ("draft_proposed", ctypes.c_uint64),
        ("draft_accepted", ctypes.c_uint64),
    ]


# edgeformer_token_callback: int (*)(void* user_data, int32_t token, const char* piece, size_t len).
# The piece is a c_void_p: ctypes would otherwise copy it to bytes up to a NUL.
TokenCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_size_t)

STRUCTS = {
    "edgeformer_model_params": ModelParams,
    "edgeformer_model_info": ModelInfo,
    "edgeformer_session_params": SessionParams,
    "edgeformer_logit_bias": LogitBias,
    "edgeformer_sampler_params": SamplerParams,
    "edgeformer_generate_params": GenerateParams,
    "edgeformer_embed_params": EmbedParams,
    "edgeformer_session_info": SessionInfo,
}

_status = ctypes.c_int
_PROTOTYPES = {
    "edgeformer_version": (ctypes.c_char_p, []),
    "edgeformer_status_name": (ctypes.c_char_p, [ctypes.c_int]),
    "edgeformer_last_error": (ctypes.c_char_p, []),
    "edgeformer_model_default_params": (ModelParams, []),
    "edgeformer_model_load": (_status, [ctypes.c_char_p, ctypes.POINTER(ModelParams), ctypes.POINTER(ctypes.c_void_p)]),
    "edgeformer_model_load_from_memory": (_status, [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ModelParams),
                                                    ctypes.POINTER(ctypes.c_void_p)]),
    "edgeformer_model_destroy": (None, [ctypes.c_void_p]),
    "edgeformer_model_get_info": (_status, [ctypes.c_void_p, ctypes.POINTER(ModelInfo)]),
    "edgeformer_tokenize": (_status, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, c_int32_p,
                                      ctypes.c_size_t, c_size_p]),
    "edgeformer_token_piece": (_status, [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32,
                                         ctypes.POINTER(ctypes.c_void_p), c_size_p]),
    "edgeformer_model_end_tokens": (_status, [ctypes.c_void_p, c_int32_p, ctypes.c_size_t, c_size_p]),
    "edgeformer_session_default_params": (SessionParams, []),
    "edgeformer_session_create": (_status, [ctypes.c_void_p, ctypes.POINTER(SessionParams),
                                            ctypes.POINTER(ctypes.c_void_p)]),
    "edgeformer_session_destroy": (None, [ctypes.c_void_p]),
    "edgeformer_session_prefill": (_status, [ctypes.c_void_p, c_int32_p, ctypes.c_size_t]),
    "edgeformer_session_prefill_logits": (_status, [ctypes.c_void_p, c_int32_p, ctypes.c_size_t, c_float_p,
                                                    ctypes.c_size_t]),
    "edgeformer_session_logits": (_status, [ctypes.c_void_p, ctypes.POINTER(c_float_p), c_size_p]),
    "edgeformer_session_position": (ctypes.c_uint32, [ctypes.c_void_p]),
    "edgeformer_session_tokens": (_status, [ctypes.c_void_p, c_int32_p, ctypes.c_size_t, c_size_p]),
    "edgeformer_session_reset": (_status, [ctypes.c_void_p]),
    "edgeformer_session_truncate": (_status, [ctypes.c_void_p, ctypes.c_uint32]),
    "edgeformer_session_cancel": (None, [ctypes.c_void_p]),
    "edgeformer_session_get_info": (_status, [ctypes.c_void_p, ctypes.POINTER(SessionInfo)]),
    "edgeformer_sampler_default_params": (SamplerParams, []),
    "edgeformer_generate_default_params": (GenerateParams, []),
    "edgeformer_generate": (_status, [ctypes.c_void_p, ctypes.POINTER(GenerateParams), TokenCallback, ctypes.c_void_p,
                                      c_size_p, ctypes.POINTER(ctypes.c_int)]),
    "edgeformer_embed_default_params": (EmbedParams, []),
    "edgeformer_embed_texts": (_status, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), c_size_p, ctypes.c_size_t,
                                         ctypes.POINTER(EmbedParams), c_float_p, ctypes.c_size_t]),
}


def _candidates():
    """Where the shared library may be, in order: EDGEFORMER_LIBRARY; beside this package (an
    installed copy); the repository's build tree (python/ beside build/); the system's search
    path."""
    env = os.environ.get("EDGEFORMER_LIBRARY")
    if env:
        yield pathlib.Path(env)
        return
    here = pathlib.Path(__file__).resolve().parent
    yield here / "libedgeformer.so"
    yield here.parent.parent / "build" / "runtime" / "libedgeformer.so"
    found = ctypes.util.find_library("edgeformer")
    if found:
        yield pathlib.Path(found)


def load_library(version):
    """The library with every prototype declared; its major.minor version must be `version`'s.
    Raises OSError naming the places tried."""
    tried = []
    for path in _candidates():
        tried.append(str(path))
        if path.name != str(path) and not path.exists():
            continue
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        for name, (restype, argtypes) in _PROTOTYPES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        found = lib.edgeformer_version().decode()
        if found.split(".")[:2] != version.split(".")[:2]:
            raise OSError(f"edgeformer: {path} is version {found}; this package needs {version} (the C API's "
                          "structs may change between minor versions)")
        return lib
    raise OSError("edgeformer: no libedgeformer.so found (tried " + ", ".join(tried) +
                  "); build it (cmake --build build) or set EDGEFORMER_LIBRARY to its path")
