"""edgeformer for Python: load a model file made by edgeformer-convert, tokenize, generate, read
logits and embeddings, over the C API (runtime/include/edgeformer.h) through ctypes: no compiler
at install. The shared library is found through EDGEFORMER_LIBRARY, beside this package, in the
repository's build tree (build/runtime/libedgeformer.so beside python/), or on the system's
search path; its major.minor version must be this package's.

    import edgeformer
    with edgeformer.Model("model.edgf") as model:
        print(model.generate("Once upon a time", max_tokens=40, temperature=0))
        for piece in model.stream("Once upon a time", max_tokens=40):
            print(piece, end="", flush=True)

Handles are closed by close() or `with`; a closed handle raises EdgeformerError, never crashes.
"""

from ._errors import (BUSY, CANCELLED, CONTEXT_FULL, INTERNAL, INVALID_ARGUMENT, INVALID_MODEL, IO_ERROR, OK,
                      OUT_OF_MEMORY, UNSUPPORTED, EdgeformerError, __version__, library as _library)
from .model import Model
from .session import Session

__all__ = ["EdgeformerError", "Model", "Session", "library_version", "__version__", "OK", "INVALID_ARGUMENT", "IO_ERROR",
           "INVALID_MODEL", "UNSUPPORTED", "OUT_OF_MEMORY", "CONTEXT_FULL", "CANCELLED", "INTERNAL", "BUSY"]


def library_version():
    """The shared library's version, "MAJOR.MINOR.PATCH"."""
    return _library().edgeformer_version().decode()
