"""A C handle shared by threads. Internal."""

import contextlib
import threading

from ._errors import INVALID_ARGUMENT, EdgeformerError, loaded


class Handle:
    """A model or session pointer with its lifetime rules: calls hold it (use()) while they run;
    close() makes further calls raise, and the destroy runs when the last call in flight and the
    last reference (retain(): a session's on its model) are gone. `on_close_in_use(pointer)` runs
    when close() finds calls in flight (a session cancels its generation)."""

    def __init__(self, pointer, destroy, what, on_close_in_use=None):
        self._pointer = pointer
        self._destroy = destroy
        self._what = what
        self._on_close_in_use = on_close_in_use
        self._lock = threading.Lock()
        self._uses = 0
        self._refs = 0
        self._closed = False

    @property
    def closed(self):
        return self._closed

    @contextlib.contextmanager
    def use(self, even_closed=False):
        """The pointer, valid until the block ends. Raises when closed, unless even_closed (a
        session's own use of its model after model.close())."""
        with self._lock:
            if self._pointer is None or (self._closed and not even_closed):
                raise EdgeformerError(INVALID_ARGUMENT, f"the {self._what} is closed")
            self._uses += 1
        try:
            yield self._pointer
        finally:
            self._drop("_uses")

    def retain(self):
        with self._lock:
            if self._closed:
                raise EdgeformerError(INVALID_ARGUMENT, f"the {self._what} is closed")
            self._refs += 1

    def release(self):
        self._drop("_refs")

    def close(self):
        with self._lock:
            if self._closed:
                return
            self._closed = True
            in_use = self._uses > 0
            pointer = self._take_locked()
            if in_use and self._on_close_in_use is not None:
                self._on_close_in_use(self._pointer)  # valid: the calls in flight hold it
        if pointer is not None:
            self._destroy(pointer)

    def _drop(self, counter):
        with self._lock:
            setattr(self, counter, getattr(self, counter) - 1)
            pointer = self._take_locked()
        if pointer is not None:
            self._destroy(pointer)

    def _take_locked(self):
        if self._closed and self._uses == 0 and self._refs == 0 and self._pointer is not None:
            pointer, self._pointer = self._pointer, None
            return pointer
        return None


class Closable:
    """A model's or session's `with` and garbage collection: both close() it."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if loaded() and getattr(self, "_handle", None) is not None:
            self.close()
