"""libeid for Python: sign and validate PAdES, XAdES, CAdES and ASiC with PKCS#11 tokens, PKCS#12 files and ID cards.

Sign a PDF with a key on a token and check it::

    import eid

    with eid.Signer.pkcs11("/usr/lib/softhsm/libsofthsm2.so", token="my-token",
                           pin=eid.pin_from_env("PIN")) as signer:
        eid.sign_pdf(signer, "in.pdf", "signed.pdf", level="B-T", tsa="http://tsa.example/")
    report = eid.verify("signed.pdf", trust=["root.pem"])
    print(report.indication, report.signatures[0].signer.name)

The library needs no global set-up.  Errors are :class:`EidError`
subclasses carrying the library's message; objects holding C resources are
context managers (and are released by the garbage collector otherwise).
"""

from __future__ import annotations

import atexit
import threading
from typing import Callable, Optional, Union

from eid._native import ffi, lib, text
from eid.card import Card, CardContext, CardPin, Identity, Reader, open_card
from eid.errors import (
    Canceled,
    CardError,
    CertificateError,
    EidError,
    ExternalSigner,
    FormatError,
    InternalError,
    InvalidArgument,
    IOFailure,
    MechanismError,
    ModuleError,
    NetworkError,
    NoKey,
    NotFound,
    NoToken,
    OutOfMemory,
    PinError,
    PinFinalTry,
    PinInvalid,
    PinLocked,
    PinWrong,
    SignatureFormatError,
    TokenError,
    TokenRemoved,
    TooBig,
    Unsupported,
    VersionError,
    WrongPassword,
    error_class,
)
from eid.hashes import digest_file, hash_name, hash_size, level_name
from eid.pki import Online, TrustStore
from eid.sign import (
    Prepared,
    PreparedAsic,
    PreparedCades,
    PreparedPdf,
    PreparedXml,
    extend,
    prepare_asic,
    prepare_cades,
    prepare_pdf,
    prepare_xml,
    sign_asic,
    sign_cades,
    sign_pdf,
    sign_xml,
)
from eid.signer import (
    CertInfo,
    KeyInfo,
    PinCallback,
    PinRequest,
    Pkcs11,
    Signer,
    TokenInfo,
    pin_from_env,
    pin_from_file,
)
from eid.report import (
    INDETERMINATE,
    TOTAL_FAILED,
    TOTAL_PASSED,
    Report,
    SignatureReport,
    SignerInfo,
    Timestamp,
    verify,
    verify_cades,
)

__version__ = "0.1.0"


def version() -> str:
    """The version of the libeid C library in use (e.g. "0.1.0")."""
    return text(lib.eid_version()) or ""


def strerror(code: int) -> str:
    """libeid's static description of an error code."""
    return text(lib.eid_strerror(code)) or ""


# ---------------------------------------------------------------------------------------------------
# Logging (process-wide)

LOG_NONE, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE = range(6)
_LEVELS = {"none": 0, "error": 1, "warn": 2, "warning": 2, "info": 3, "debug": 4, "trace": 5}
_log_handler: Optional[Callable[[int, str], None]] = None
_log_lock = threading.Lock()


@ffi.def_extern()
def eidpy_log_cb(level: int, msg: object, userdata: object) -> None:
    h = _log_handler
    if h is None:
        return
    try:
        h(int(level), ffi.string(msg).decode("utf-8", "replace"))  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a log handler must not break a library call
        pass


def set_log_level(level: Union[int, str]) -> None:
    """The library's log level for the whole process: "none", "error", "warn" (default), "info",
    "debug" or "trace" (APDU and PKCS#11 traces; secrets are redacted).  Set it before starting threads."""
    if isinstance(level, str):
        if level.lower() not in _LEVELS:
            raise ValueError("unknown log level %r" % level)
        level = _LEVELS[level.lower()]
    lib.eid_log_set_level(int(level))


def set_log_handler(handler: Optional[Callable[[int, str], None]]) -> None:
    """Send the library's log lines to ``handler(level, message)`` (e.g. into :mod:`logging`);
    None restores stderr.  Process-wide; set it before starting threads."""
    global _log_handler
    with _log_lock:
        _log_handler = handler
        if handler is None:
            lib.eid_log_set_handler(ffi.NULL, ffi.NULL)
        else:
            lib.eid_log_set_handler(lib.eidpy_log_cb, ffi.NULL)


@atexit.register
def _restore_log_handler() -> None:
    # No Python callback once the interpreter is going away.
    if _log_handler is not None:
        lib.eid_log_set_handler(ffi.NULL, ffi.NULL)


__all__ = [
    "Canceled", "Card", "CardContext", "CardError", "CardPin", "CertInfo", "CertificateError", "EidError",
    "ExternalSigner", "FormatError", "IOFailure", "INDETERMINATE", "Identity", "InternalError", "InvalidArgument",
    "KeyInfo", "MechanismError", "ModuleError", "NetworkError", "NoKey", "NoToken", "NotFound", "Online",
    "OutOfMemory", "PinCallback", "PinError", "PinFinalTry", "PinInvalid", "PinLocked", "PinRequest", "PinWrong",
    "Pkcs11", "Prepared", "PreparedAsic", "PreparedCades", "PreparedPdf", "PreparedXml", "Reader", "Report",
    "SignatureFormatError", "SignatureReport", "Signer", "SignerInfo", "TOTAL_FAILED", "TOTAL_PASSED",
    "Timestamp", "TokenError", "TokenInfo", "TokenRemoved", "TooBig", "TrustStore", "Unsupported", "VersionError",
    "WrongPassword", "digest_file", "error_class", "extend", "hash_name", "hash_size", "level_name", "open_card",
    "pin_from_env", "pin_from_file", "prepare_asic", "prepare_cades", "prepare_pdf", "prepare_xml",
    "set_log_handler", "set_log_level", "sign_asic", "sign_cades", "sign_pdf", "sign_xml", "strerror", "verify",
    "verify_cades", "version",
]
