"""Trust anchors and network settings (TSA, timeouts, offline)."""

from __future__ import annotations

from typing import Iterable, Optional, Union

from eid._handle import Handle
from eid._native import PathLike, cstr, ffi, fspath, lib, take_buf
from eid.errors import check
from eid.hashes import hash_value


class TrustStore(Handle):
    """A set of trust anchors, and intermediates that may complete a path but are never trusted.

    ``TrustStore(["root.pem"], intermediates=["int.pem"])``; anchors and
    intermediates are PEM or DER files, or folders of them.  Once filled it
    may be shared by threads for reading.
    """

    _kind = "trust store"

    def __init__(self, anchors: Iterable[PathLike] = (), intermediates: Iterable[PathLike] = ()) -> None:
        super().__init__()
        out = ffi.new("eid_trust **")
        check(lib.eid_trust_new(out))
        self._own(out[0], lib.eid_trust_free)
        if isinstance(anchors, (str, bytes)):
            anchors = [anchors]
        if isinstance(intermediates, (str, bytes)):
            intermediates = [intermediates]
        for a in anchors:
            self.add_file(a)
        for i in intermediates:
            self.add_intermediates(i)

    def add_file(self, path: PathLike) -> None:
        """Add every certificate in a PEM or DER file, or a folder of them, as trust anchors."""
        with self._lock:
            check(lib.eid_trust_add_file(self._p, fspath(path)))

    def add_certificate(self, cert: bytes) -> None:
        """Add one certificate (DER or PEM bytes) as a trust anchor."""
        with self._lock:
            check(lib.eid_trust_add_cert(self._p, cert, len(cert)))

    def add_intermediates(self, path: PathLike) -> None:
        """Add the certificates of a file or folder as untrusted intermediates."""
        with self._lock:
            check(lib.eid_trust_add_intermediates(self._p, fspath(path)))

    def __len__(self) -> int:
        """The number of trust anchors."""
        return int(lib.eid_trust_count(self._p))


class Online(Handle):
    """Network settings for trusted time and revocation data.

    Args:
        tsa: the RFC 3161 time-stamping authority (an ``http://`` URL).
        tsa_policy: the TSA policy OID to ask for, or None.
        timeout: seconds for one exchange with a server (libeid's default: 20).
        offline: no server is asked; whatever needs one fails with NetworkError.

    The handle must outlive every signature prepared with it; it may be
    shared by the signing and validation calls of one thread.
    """

    _kind = "online settings"

    def __init__(self, tsa: Optional[str] = None, *, tsa_policy: Optional[str] = None,
                 timeout: Optional[int] = None, offline: bool = False) -> None:
        super().__init__()
        out = ffi.new("eid_online **")
        check(lib.eid_online_new(out))
        self._own(out[0], lib.eid_online_free)
        self.tsa: Optional[str] = None
        if tsa is not None:
            self.set_tsa(tsa, tsa_policy)
        if timeout is not None:
            self.set_timeout(timeout)
        if offline:
            self.set_offline(True)

    def set_tsa(self, url: str, policy: Optional[str] = None) -> None:
        """The TSA to ask (``http://`` only), and the policy OID to ask for."""
        with self._lock:
            check(lib.eid_online_set_tsa(self._p, cstr(url), cstr(policy)))
        self.tsa = url

    def set_timeout(self, seconds: int) -> None:
        """The timeout of one exchange with a server, in seconds."""
        with self._lock:
            check(lib.eid_online_set_timeout(self._p, int(seconds)))

    def set_offline(self, offline: bool = True) -> None:
        """Offline: no server is asked."""
        with self._lock:
            check(lib.eid_online_set_offline(self._p, 1 if offline else 0))

    def timestamp(self, digest: bytes, hash: Union[str, int] = "sha256") -> bytes:
        """An RFC 3161 timestamp token (CMS ContentInfo, DER) over @p digest from the TSA."""
        buf = ffi.new("eid_buf *")
        with self._lock:
            check(lib.eid_online_timestamp(self._p, hash_value(hash), digest, len(digest), buf))
        return take_buf(buf)


def online_for(tsa: Optional[str], online: Optional[Online], timeout: Optional[int]) -> Optional[Online]:
    """The Online to use for a call: the one given, or a new one for @p tsa (internal helper)."""
    if online is not None:
        if tsa is not None:
            raise ValueError("give either tsa= or online=, not both")
        return online
    if tsa is None:
        return None
    return Online(tsa, timeout=timeout)
