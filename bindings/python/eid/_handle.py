"""Owned C handles: released by close(), a with-block, or a finalizer (internal)."""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, Optional, TypeVar

from eid._native import NULL

H = TypeVar("H", bound="Handle")


class Handle:
    """A C object owned by this Python object.

    The C object is released exactly once: by :meth:`close`, at the end of a
    ``with`` block, when the Python object is garbage-collected, or at
    interpreter exit (``weakref.finalize`` runs before modules are torn down,
    newest object first, so a signer goes before the card it borrows).
    Objects that depend on this one (a card on its PC/SC context, a signer on
    its card) are closed first.  A handle is used by one thread at a time: an
    internal lock serialises the calls made through it.
    """

    _kind = "object"

    def __init__(self) -> None:
        self._ptr: Any = NULL
        self._finalizer: Optional[weakref.finalize] = None
        self._children: "weakref.WeakSet[Handle]" = weakref.WeakSet()
        self._lock = threading.RLock()

    def _own(self, ptr: Any, free: Callable[[Any], None]) -> None:
        self._ptr = ptr
        self._finalizer = weakref.finalize(self, free, ptr)

    def _adopt(self, child: "Handle") -> None:
        self._children.add(child)

    @property
    def closed(self) -> bool:
        """Whether the C object has been released."""
        return self._finalizer is None or not self._finalizer.alive

    @property
    def _p(self) -> Any:
        if self.closed:
            raise ValueError("this %s is closed" % self._kind)
        return self._ptr

    def close(self) -> None:
        """Release the C object now (and the objects that depend on it).  Calling it again does nothing."""
        for child in list(self._children):
            self._children.discard(child)
            child.close()
        with self._lock:
            if self._finalizer is not None and self._finalizer.alive:
                self._finalizer()
            self._ptr = NULL

    def __enter__(self: H) -> H:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
