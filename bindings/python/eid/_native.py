"""Access to the compiled cffi module and small conversion helpers (internal)."""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any, Optional, Union

try:
    from eid._eid_cffi import ffi, lib  # type: ignore[import-not-found]
except ImportError as e:  # pragma: no cover - only without a built extension
    raise ImportError(
        "the eid package's C extension (eid._eid_cffi) is not built: install the package with pip "
        "(see bindings/python/README.md) or run 'python3 build_ffi.py' in bindings/python (%s)" % e
    ) from e

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

NULL = ffi.NULL


def fspath(path: PathLike) -> bytes:
    """A path as the bytes the C library takes."""
    return os.fsencode(path)


def cpath(path: Optional[PathLike]) -> Any:
    """A path as a C string that lives as long as the returned object (NULL for None)."""
    if path is None:
        return NULL
    return ffi.new("char[]", fspath(path))


def cstr(s: Optional[Union[str, bytes]]) -> Any:
    """A C string that lives as long as the returned object (NULL for None)."""
    if s is None:
        return NULL
    if isinstance(s, str):
        s = s.encode("utf-8")
    if b"\0" in s:
        raise ValueError("a string passed to libeid cannot hold a NUL character")
    return ffi.new("char[]", s)


def text(p: Any) -> Optional[str]:
    """A borrowed C string as str, None for NULL."""
    if p == NULL:
        return None
    return ffi.string(p).decode("utf-8", "replace")


def take_buf(buf: Any) -> bytes:
    """Copy an eid_buf's bytes out and clear (wipe and free) it."""
    try:
        if buf.data == NULL or buf.len == 0:
            return b""
        return bytes(ffi.buffer(buf.data, buf.len))
    finally:
        lib.eid_buf_clear(buf)


def epoch_to_datetime(t: int) -> Optional[_dt.datetime]:
    """Seconds since 1970 as an aware UTC datetime; None for a negative value (absent)."""
    if t < 0:
        return None
    return _dt.datetime.fromtimestamp(t, tz=_dt.timezone.utc)


def to_epoch(t: Union[None, int, float, _dt.datetime, _dt.date]) -> int:
    """A time given as datetime (naive means UTC), date (midnight UTC) or seconds since 1970; 0 for None."""
    if t is None:
        return 0
    if isinstance(t, _dt.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=_dt.timezone.utc)
        return int(t.timestamp())
    if isinstance(t, _dt.date):
        return int(_dt.datetime(t.year, t.month, t.day, tzinfo=_dt.timezone.utc).timestamp())
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        if t < 0:
            raise ValueError("a time cannot be before 1970")
        return int(t)
    raise TypeError("a time is a datetime, a date or seconds since 1970, not %r" % type(t).__name__)


def wipe(b: Optional[bytearray]) -> None:
    """Overwrite a bytearray with zeros in place (through the library's eid_memzero)."""
    if b is not None and len(b) > 0:
        lib.eid_memzero(ffi.from_buffer(b), len(b))


def secret_to_c(secret: Union[str, bytes, bytearray, memoryview]) -> Any:
    """Copy a PIN or password into a NUL-terminated C buffer; the caller wipes it with wipe_c().

    A bytearray passed in is wiped here; a str or bytes cannot be wiped (they
    are immutable): prefer a bytearray.
    """
    if isinstance(secret, str):
        tmp = bytearray(secret, "utf-8")
    elif isinstance(secret, (bytes, bytearray, memoryview)):
        tmp = bytearray(secret)
        if isinstance(secret, bytearray):
            wipe(secret)
    else:
        raise TypeError("a PIN or password is a str, bytes or bytearray, not %r" % type(secret).__name__)
    try:
        if b"\0" in tmp:
            raise ValueError("a PIN or password cannot hold a NUL byte")
        buf = ffi.new("char[]", len(tmp) + 1)
        ffi.memmove(buf, ffi.from_buffer(tmp), len(tmp))
        return buf
    finally:
        wipe(tmp)


def wipe_c(buf: Any) -> None:
    """Wipe a C buffer made by secret_to_c()."""
    if buf is not None and buf != NULL:
        lib.eid_memzero(buf, ffi.sizeof(buf))
