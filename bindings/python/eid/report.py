"""Validation: a report with ETSI EN 319 102-1 indications for every signature in a file.

A signature that does not hold is a verdict (TOTAL-FAILED, INDETERMINATE
with a sub-indication), never an exception: :func:`verify` raises only when
it could not judge at all (unreadable or malformed file, missing detached data).
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Union

from eid._native import NULL, PathLike, cpath, epoch_to_datetime, ffi, fspath, lib, take_buf, text, to_epoch
from eid.errors import check
from eid.pki import Online, TrustStore

TOTAL_PASSED = "TOTAL-PASSED"
INDETERMINATE = "INDETERMINATE"
TOTAL_FAILED = "TOTAL-FAILED"

_HAS_ARCHIVE_TS = hasattr(lib, "eidpy_sig_report_archive_timestamp")


def _iso(t: Optional[_dt.datetime]) -> Optional[str]:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


@dataclass(frozen=True)
class SignerInfo:
    """Who signed: from the signer's certificate."""

    name: Optional[str]
    subject: Optional[str]
    issuer: Optional[str]
    serial: Optional[str]


@dataclass(frozen=True)
class Timestamp:
    """A timestamp that holds: its time and the TSA's name."""

    time: _dt.datetime
    tsa: Optional[str]


@dataclass(frozen=True)
class SignatureReport:
    """The verdict on one signature, and what it was based on."""

    indication: str
    sub_indication: Optional[str]
    format: Optional[str]
    level: Optional[str]
    signer: SignerInfo
    digest_algorithm: Optional[str]
    signature_algorithm: Optional[str]
    claimed_signing_time: Optional[_dt.datetime]
    signature_timestamp: Optional[Timestamp]
    archive_timestamp: Optional[Timestamp]
    field: Optional[str]
    policy: Optional[str]
    role: Optional[str]
    certification: int
    signed_data: List[str]
    chain: List[str]
    warnings: List[str]
    errors: List[str]

    @property
    def passed(self) -> bool:
        """TOTAL-PASSED."""
        return self.indication == TOTAL_PASSED

    @property
    def signing_time(self) -> Optional[_dt.datetime]:
        """The best time known for the signature: the timestamp's, else the claimed one."""
        if self.signature_timestamp is not None:
            return self.signature_timestamp.time
        return self.claimed_signing_time

    def to_dict(self) -> Dict[str, Any]:
        """Plain data (times as ISO 8601 UTC strings), ready for JSON."""

        def ts(t: Optional[Timestamp]) -> Optional[Dict[str, Any]]:
            return {"time": _iso(t.time), "tsa": t.tsa} if t is not None else None

        return {
            "indication": self.indication,
            "sub_indication": self.sub_indication,
            "format": self.format,
            "level": self.level,
            "signer": {"name": self.signer.name, "subject": self.signer.subject, "issuer": self.signer.issuer,
                       "serial": self.signer.serial},
            "digest_algorithm": self.digest_algorithm,
            "signature_algorithm": self.signature_algorithm,
            "claimed_signing_time": _iso(self.claimed_signing_time),
            "signature_timestamp": ts(self.signature_timestamp),
            "archive_timestamp": ts(self.archive_timestamp),
            "field": self.field,
            "policy": self.policy,
            "role": self.role,
            "certification": self.certification,
            "signed_data": list(self.signed_data),
            "chain": list(self.chain),
            "warnings": list(self.warnings),
            "errors": list(self.errors),
        }


@dataclass(frozen=True)
class Report:
    """The validation report of one file.

    Attributes:
        file: the file the report is about.
        indication: the worst indication over all signatures (TOTAL-FAILED if there is none).
        signatures: one :class:`SignatureReport` per signature.
        text: the library's readable form of the report.
    """

    file: Optional[str]
    indication: str
    signatures: List[SignatureReport]
    validation_time: _dt.datetime
    text: str = field(repr=False, default="")

    @property
    def passed(self) -> bool:
        """Every signature is TOTAL-PASSED (and there is at least one)."""
        return self.indication == TOTAL_PASSED and len(self.signatures) > 0

    @property
    def sub_indication(self) -> Optional[str]:
        """The sub-indication of the first signature with the report's indication."""
        for s in self.signatures:
            if s.indication == self.indication:
                return s.sub_indication
        return None

    def to_dict(self) -> Dict[str, Any]:
        """Plain data, ready for JSON."""
        return {
            "file": self.file,
            "indication": self.indication,
            "sub_indication": self.sub_indication,
            "validation_time": _iso(self.validation_time),
            "validator": "libeid " + (text(lib.eid_version()) or ""),
            "signatures": [s.to_dict() for s in self.signatures],
        }

    def to_json(self, indent: Optional[int] = 2) -> str:
        """:meth:`to_dict` as JSON (UTF-8 text)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def __str__(self) -> str:
        return self.text


def _list(sig: Any, count: Any, item: Any) -> List[str]:
    return [text(item(sig, i)) or "" for i in range(count(sig))]


def _timestamp(fn: Any, sig: Any) -> Optional[Timestamp]:
    tsa = ffi.new("const char **")
    t = epoch_to_datetime(int(fn(sig, tsa)))
    return Timestamp(t, text(tsa[0])) if t is not None else None


def _sig_report(sig: Any) -> SignatureReport:
    sub = text(lib.eid_subindication_name(lib.eid_sig_report_subindication(sig)))
    return SignatureReport(
        indication=text(lib.eid_indication_name(lib.eid_sig_report_indication(sig))) or TOTAL_FAILED,
        sub_indication=sub or None,
        format=text(lib.eid_sig_report_format(sig)),
        level=text(lib.eid_sig_report_level(sig)),
        signer=SignerInfo(text(lib.eid_sig_report_signer_name(sig)), text(lib.eid_sig_report_signer_subject(sig)),
                          text(lib.eid_sig_report_signer_issuer(sig)), text(lib.eid_sig_report_signer_serial(sig))),
        digest_algorithm=text(lib.eid_sig_report_hash(sig)),
        signature_algorithm=text(lib.eid_sig_report_algorithm(sig)),
        claimed_signing_time=epoch_to_datetime(int(lib.eid_sig_report_claimed_time(sig))),
        signature_timestamp=_timestamp(lib.eid_sig_report_timestamp, sig),
        archive_timestamp=_timestamp(lib.eidpy_sig_report_archive_timestamp, sig) if _HAS_ARCHIVE_TS else None,
        field=text(lib.eid_sig_report_field(sig)),
        policy=text(lib.eid_sig_report_policy(sig)),
        role=text(lib.eid_sig_report_role(sig)),
        certification=int(lib.eid_sig_report_certification(sig)),
        signed_data=_list(sig, lib.eid_sig_report_signed_data_count, lib.eid_sig_report_signed_data),
        chain=_list(sig, lib.eid_sig_report_chain_count, lib.eid_sig_report_chain_subject),
        warnings=_list(sig, lib.eid_sig_report_warning_count, lib.eid_sig_report_warning),
        errors=_list(sig, lib.eid_sig_report_error_count, lib.eid_sig_report_error),
    )


def _report(ptr: Any, validation_time: _dt.datetime) -> Report:
    try:
        sigs = []
        for i in range(lib.eid_report_signature_count(ptr)):
            s = lib.eid_report_signature(ptr, i)
            if s != NULL:
                sigs.append(_sig_report(s))
        buf = ffi.new("eid_buf *")
        txt = take_buf(buf).decode("utf-8", "replace") if lib.eid_report_to_text(ptr, buf) == 0 else ""
        return Report(text(lib.eid_report_file(ptr)),
                      text(lib.eid_indication_name(lib.eid_report_indication(ptr))) or TOTAL_FAILED,
                      sigs, validation_time, txt)
    finally:
        lib.eid_report_free(ptr)


def _trust_of(trust: Union[None, TrustStore, PathLike, Iterable[PathLike]],
              untrusted: Union[None, PathLike, Iterable[PathLike]]) -> tuple:
    if isinstance(trust, TrustStore):
        if untrusted:
            raise ValueError("with a TrustStore, add the intermediates to it (add_intermediates)")
        return trust, False
    if trust is None:
        trust = []
    return TrustStore(trust, untrusted or []), True  # type: ignore[arg-type]


def verify(path: PathLike, trust: Union[None, TrustStore, PathLike, Iterable[PathLike]] = None,
           untrusted: Union[None, PathLike, Iterable[PathLike]] = None, data: Optional[PathLike] = None,
           online: Union[bool, Online] = False, at: Union[None, int, float, _dt.datetime, _dt.date] = None,
           timeout: Optional[int] = None, crypto_policy: Optional[PathLike] = None) -> Report:
    """Validate every signature in a file (PDF, XML, ASiC, CAdES; recognised from the content).

    Args:
        trust: trust anchors: PEM/DER files or folders, or a :class:`TrustStore`.
            Without any, no chain can be trusted (INDETERMINATE at best).
        untrusted: certificates that may complete a path but are not trusted.
        data: the signed file, for a detached CAdES signature.
        online: True (or an :class:`Online`) to ask the signer's OCSP responder for its status.
        at: the validation time (datetime, date or seconds since 1970); None: now.
        timeout: seconds for each exchange with a server, when online.
        crypto_policy: a file of algorithm sunset dates replacing the built-in ones
            (needs a libeid that has them).
    """
    store, own_store = _trust_of(trust, untrusted)
    net: Optional[Online] = None
    own_net = False
    try:
        o = ffi.new("eid_verify_opts *")
        lib.eidpy_verify_opts_init(o)
        o.trust = store._p
        d = cpath(data)
        o.data_path = d
        o.validation_time = to_epoch(at)
        if isinstance(online, Online):
            net = online
        elif online:
            net, own_net = Online(timeout=timeout), True
        if net is not None:
            o.online = net._p
        cp = cpath(crypto_policy)
        if crypto_policy is not None:
            if not hasattr(o, "crypto_policy"):
                raise NotImplementedError("this libeid has no crypto_policy option")
            o.crypto_policy = cp
        out = ffi.new("eid_report **")
        when = _dt.datetime.fromtimestamp(o.validation_time, tz=_dt.timezone.utc) if o.validation_time else \
            _dt.datetime.now(tz=_dt.timezone.utc).replace(microsecond=0)
        check(lib.eid_verify_file(out, fspath(path), o))
        return _report(out[0], when)
    finally:
        if own_net and net is not None:
            net.close()
        if own_store:
            store.close()


def verify_cades(signature: bytes, data: PathLike, trust: Union[None, TrustStore, PathLike, Iterable[PathLike]] = None,
                 untrusted: Union[None, PathLike, Iterable[PathLike]] = None,
                 at: Union[None, int, float, _dt.datetime, _dt.date] = None) -> Report:
    """Validate a detached CAdES signature held in memory (DER or PEM) over the file @p data."""
    store, own_store = _trust_of(trust, untrusted)
    try:
        o = ffi.new("eid_verify_opts *")
        lib.eidpy_verify_opts_init(o)
        o.trust = store._p
        d = cpath(data)
        o.data_path = d
        o.validation_time = to_epoch(at)
        when = _dt.datetime.fromtimestamp(o.validation_time, tz=_dt.timezone.utc) if o.validation_time else \
            _dt.datetime.now(tz=_dt.timezone.utc).replace(microsecond=0)
        out = ffi.new("eid_report **")
        check(lib.eid_verify_cades(out, signature, len(signature), o))
        return _report(out[0], when)
    finally:
        if own_store:
            store.close()
