"""libeid's error codes as exception classes.

Every failing libeid call raises an :class:`EidError` subclass chosen by the
code; its message is the library's detail (``eid_error_last()``): the path,
OpenSSL's reason, the PKCS#11 return value, what the token or card said.
A bad signature is never an exception: it is a verdict in a
:class:`eid.Report`.
"""

from __future__ import annotations

import re
from typing import Dict, Optional, Type

from eid._native import ffi, lib


class EidError(Exception):
    """A libeid call failed.

    Attributes:
        code: the libeid error code (negative, e.g. ``-103``).
        message: the library's detail for this failure.
    """

    code: int = 0

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message

    @property
    def strerror(self) -> str:
        """The library's static description of the code."""
        return ffi.string(lib.eid_strerror(self.code)).decode("utf-8", "replace")

    def __repr__(self) -> str:
        return "%s(code=%d, message=%r)" % (type(self).__name__, self.code, self.message)


class InvalidArgument(EidError, ValueError):
    """EID_EINVAL: an invalid argument (also a signature value that does not match the key)."""
    code = -1


class OutOfMemory(EidError, MemoryError):
    """EID_ENOMEM."""
    code = -2


class IOFailure(EidError, OSError):
    """EID_EIO: reading or writing a file failed."""
    code = -3


class NotFound(EidError, LookupError):
    """EID_ENOTFOUND: the thing asked for does not exist (no card, no such certificate)."""
    code = -4


class Unsupported(EidError):
    """EID_EUNSUPPORTED: not supported (yet)."""
    code = -5


class FormatError(EidError):
    """EID_EFORMAT: malformed input."""
    code = -6


class Canceled(EidError):
    """EID_ECANCELED: the user or a callback cancelled (a PIN callback that returned None)."""
    code = -7


class VersionError(EidError):
    """EID_EVERSION: an options structure of a version the library does not know."""
    code = -8


class InternalError(EidError):
    """EID_EINTERNAL: a bug or an unexpected library failure."""
    code = -9


class TooBig(EidError):
    """EID_ETOOBIG: input beyond the library's limits."""
    code = -10


class ModuleError(EidError):
    """EID_EMODULE: the PKCS#11 module cannot be loaded or initialised."""
    code = -100


class NoToken(EidError):
    """EID_ENOTOKEN: no token matches the selection."""
    code = -101


class NoKey(EidError):
    """EID_ENOKEY: no key or certificate matches the selection."""
    code = -102


class PinError(EidError):
    """A PIN problem.

    Attributes:
        tries_left: what the token or card says is left, or None when it does
            not tell (a PKCS#11 token usually only says "few" or "final").
    """

    def __init__(self, message: str, code: Optional[int] = None, tries_left: Optional[int] = None) -> None:
        super().__init__(message, code)
        if tries_left is None or tries_left < 0:
            tries_left = _tries_in(message)
        if tries_left is None and isinstance(self, PinLocked):
            tries_left = 0
        self.tries_left: Optional[int] = tries_left


class PinWrong(PinError):
    """EID_EPIN_WRONG: the token or card rejected the PIN."""
    code = -103


class PinLocked(PinError):
    """EID_EPIN_LOCKED: the PIN is blocked; nothing was sent."""
    code = -104


class PinFinalTry(PinError):
    """EID_EPIN_FINAL_TRY: one try left, and using it was not allowed (allow_final_try=False)."""
    code = -105


class PinInvalid(PinError):
    """EID_EPIN_INVALID: an empty PIN, or one outside the token's or card's rules; nothing was sent."""
    code = -106


class TokenError(EidError):
    """EID_ETOKEN: another token or PKCS#11 failure."""
    code = -107


class MechanismError(EidError):
    """EID_EMECHANISM: the key or token cannot do the requested algorithm."""
    code = -108


class WrongPassword(EidError):
    """EID_EPASSWORD: wrong PKCS#12 password."""
    code = -109


class ExternalSigner(EidError):
    """EID_EEXTERNAL: an external signer cannot sign; its value comes from the caller (two-step signing)."""
    code = -110


class TokenRemoved(EidError):
    """EID_ETOKEN_REMOVED: the token or card was removed."""
    code = -111


class CardError(EidError):
    """EID_ECARD: a card or reader failure (also: pcscd not running)."""
    code = -200


class CertificateError(EidError):
    """EID_ECERT: a certificate cannot be parsed or used (also: revoked on a path being extended)."""
    code = -300


class NetworkError(EidError):
    """EID_ENETWORK: a network service (TSA, OCSP, CRL) failed; the message names it."""
    code = -301


class SignatureFormatError(EidError):
    """EID_ESIGFORMAT: a signature structure cannot be built or parsed."""
    code = -400


_BY_CODE: Dict[int, Type[EidError]] = {
    cls.code: cls
    for cls in (InvalidArgument, OutOfMemory, IOFailure, NotFound, Unsupported, FormatError, Canceled,
                VersionError, InternalError, TooBig, ModuleError, NoToken, NoKey, PinWrong, PinLocked,
                PinFinalTry, PinInvalid, TokenError, MechanismError, WrongPassword, ExternalSigner,
                TokenRemoved, CardError, CertificateError, NetworkError, SignatureFormatError)
}

_TRIES = re.compile(r"\b(\d+) tr(?:y|ies) left\b")


def _tries_in(message: str) -> Optional[int]:
    m = _TRIES.search(message)
    if m:
        return int(m.group(1))
    if "one try left" in message:
        return 1
    return None


def error_class(code: int) -> Type[EidError]:
    """The exception class for a libeid error code (EidError for a code this version does not know)."""
    return _BY_CODE.get(code, EidError)


def make_error(rc: int, tries_left: Optional[int] = None) -> EidError:
    """The exception for return code @p rc, with the calling thread's eid_error_last() detail."""
    last = lib.eid_error_last()
    msg = ffi.string(last.message).decode("utf-8", "replace") if last.message != ffi.NULL else ""
    if not msg or last.code != rc:  # no detail for this failure: the code's own description
        msg = ffi.string(lib.eid_strerror(rc)).decode("utf-8", "replace")
    cls = error_class(rc)
    if issubclass(cls, PinError):
        return cls(msg, rc, tries_left)
    if cls is EidError:
        return EidError(msg, rc)
    return cls(msg, rc)


def check(rc: int, tries_left: Optional[int] = None) -> int:
    """Raise the exception for a negative return code; return @p rc otherwise."""
    if rc < 0:
        raise make_error(rc, tries_left)
    return rc
