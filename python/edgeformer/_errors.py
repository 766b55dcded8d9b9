"""The library (loaded once), the status codes and EdgeformerError. Internal."""

import threading

from . import _capi

__version__ = "0.6.0"

# edgeformer_status values (the header's enum).
OK, INVALID_ARGUMENT, IO_ERROR, INVALID_MODEL, UNSUPPORTED, OUT_OF_MEMORY, CONTEXT_FULL, CANCELLED, INTERNAL, BUSY = \
    range(10)

_lib = None
_lib_lock = threading.Lock()


def library():
    """The shared library, loaded on first use; its major.minor version must be this package's
    (the C API's structs may change between 0.x minor versions)."""
    global _lib
    with _lib_lock:
        if _lib is None:
            _lib = _capi.load_library(__version__)
    return _lib


def loaded():
    return _lib is not None


class EdgeformerError(Exception):
    """A call the library refused or that failed: `status` (an int, the C API's edgeformer_status),
    `status_name` ("invalid model") and the library's message."""

    def __init__(self, status, message):
        self.status = status
        self.status_name = library().edgeformer_status_name(status).decode()
        self.message = message
        super().__init__(f"{self.status_name}: {message}")

    def __reduce__(self):
        return (EdgeformerError, (self.status, self.message))


def check(status, message=None):
    """Raises EdgeformerError for a status other than OK, with `message` or the calling thread's
    last error."""
    if status != OK:
        if message is None:
            message = library().edgeformer_last_error().decode("utf-8", "replace")
        raise EdgeformerError(status, message)


def unsigned(name, value, bits=32):
    """value as a C unsigned integer of `bits` bits, refused (not wrapped) when out of range."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise EdgeformerError(INVALID_ARGUMENT, f"{name} = {value!r}: an integer in [0, 2^{bits})")
    return value
