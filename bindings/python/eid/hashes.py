"""Names of digest algorithms, signature schemes and levels (internal conversions, public names)."""

from __future__ import annotations

from typing import Optional, Union

from eid._native import PathLike, ffi, fspath, lib, take_buf, text
from eid.errors import check

HashName = Union[str, int, None]
LevelName = Union[str, int, None]

#: Signature scheme names, by eid_sig_scheme value.
SCHEMES = {0: None, 1: "RSA-PKCS1", 2: "RSA-PSS", 3: "ECDSA"}
_SCHEME_VALUES = {"default": 0, "rsa-pkcs1": 1, "pkcs1": 1, "rsa": 1, "rsa-pss": 2, "pss": 2, "ecdsa": 3, "ec": 3}


def hash_value(h: HashName) -> int:
    """An eid_hash from "sha256", "SHA-384", ... (None: the default, SHA-256)."""
    if h is None:
        return int(lib.EID_HASH_DEFAULT)
    if isinstance(h, int) and not isinstance(h, bool):
        if lib.eid_hash_name(h) == ffi.NULL and h != 0:
            raise ValueError("unknown hash value %d" % h)
        return h
    out = ffi.new("eid_hash *")
    rc = lib.eid_hash_from_name(out, str(h).encode())
    if rc < 0:
        raise ValueError("unknown hash %r (sha256, sha384 or sha512)" % h)
    return int(out[0])


def hash_name(h: HashName) -> str:
    """The library's name of a hash ("SHA-256"); the default is SHA-256."""
    v = hash_value(h)
    return text(lib.eid_hash_name(v if v != 0 else int(lib.EID_HASH_SHA256))) or "SHA-256"


def hash_size(h: HashName) -> int:
    """The digest's size in bytes."""
    v = hash_value(h)
    return int(lib.eid_hash_size(v if v != 0 else int(lib.EID_HASH_SHA256)))


def scheme_value(s: Union[str, int, None]) -> int:
    """An eid_sig_scheme from "rsa-pkcs1", "pss", "ecdsa" (None: from the key)."""
    if s is None:
        return 0
    if isinstance(s, int) and not isinstance(s, bool):
        if s not in SCHEMES:
            raise ValueError("unknown signature scheme value %d" % s)
        return s
    v = _SCHEME_VALUES.get(str(s).lower().replace("_", "-"))
    if v is None:
        raise ValueError("unknown signature scheme %r (rsa-pkcs1, rsa-pss or ecdsa)" % s)
    return v


def level_value(level: LevelName) -> int:
    """An eid_level from "B-B", "B-T", "B-LT", "B-LTA" (None: B-B)."""
    if level is None:
        return int(lib.EID_LEVEL_B_B)
    if isinstance(level, int) and not isinstance(level, bool):
        if lib.eid_level_name(level) == ffi.NULL:
            raise ValueError("unknown level value %d" % level)
        return level
    out = ffi.new("eid_level *")
    if lib.eid_level_from_name(out, str(level).upper().encode()) < 0:
        raise ValueError("unknown level %r (B-B, B-T, B-LT or B-LTA)" % level)
    return int(out[0]) or int(lib.EID_LEVEL_B_B)


def level_name(level: LevelName) -> str:
    """The library's name of a level ("B-LT")."""
    return text(lib.eid_level_name(level_value(level))) or "B-B"


def digest_file(path: PathLike, hash: HashName = "sha256") -> bytes:
    """The digest of a file's bytes, read as a stream."""
    buf = ffi.new("eid_buf *")
    check(lib.eid_digest_file(fspath(path), hash_value(hash) or int(lib.EID_HASH_SHA256), buf))
    return take_buf(buf)


def _scheme_name(v: int) -> Optional[str]:
    return SCHEMES.get(int(v))
