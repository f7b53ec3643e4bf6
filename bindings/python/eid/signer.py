"""Signers: keys on PKCS#11 tokens, in PKCS#12 files, on ID cards, or outside the library."""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Union

from eid._handle import Handle
from eid._native import NULL, PathLike, cstr, ffi, fspath, lib, secret_to_c, take_buf, text, wipe, wipe_c
from eid.errors import check
from eid.hashes import SCHEMES, HashName, hash_name, hash_value, scheme_value

Secret = Union[str, bytes, bytearray]


@dataclass(frozen=True)
class PinRequest:
    """What the library tells a PIN callback.

    Attributes:
        token_label: the token (or card) asking.
        key_label: the key to be used, or None.
        count_low: the token says an earlier attempt failed.
        final_try: a wrong PIN now blocks it.
        context_specific: asked again for one signature (CKA_ALWAYS_AUTHENTICATE).
        min_len, max_len: the token's limits, 0 when unknown.
    """

    token_label: str
    key_label: Optional[str]
    count_low: bool
    final_try: bool
    context_specific: bool
    min_len: int
    max_len: int


#: A PIN callback: return the PIN (a bytearray is best: it is wiped after use), or None to cancel.
PinCallback = Callable[[PinRequest], Optional[Secret]]


class _PinState:
    """A PIN callback as the C library sees it: a handle, and the exception the callback raised, if any."""

    def __init__(self, func: PinCallback) -> None:
        if not callable(func):
            raise TypeError("pin must be a callable taking a PinRequest (see eid.pin_from_env), not %r"
                            % type(func).__name__)
        self.func = func
        self.handle = ffi.new_handle(self)
        self.error: Optional[BaseException] = None

    def ask(self, buf: Any, size: int, req: Any) -> int:
        request = PinRequest(
            token_label=text(req.token_label) or "",
            key_label=text(req.key_label),
            count_low=bool(req.flags & lib.EID_PIN_FLAG_COUNT_LOW),
            final_try=bool(req.flags & lib.EID_PIN_FLAG_FINAL_TRY),
            context_specific=bool(req.flags & lib.EID_PIN_FLAG_CONTEXT),
            min_len=int(req.min_len),
            max_len=int(req.max_len),
        )
        try:
            pin = self.func(request)
        except BaseException as e:  # noqa: BLE001 - handed back to the caller after the C call returns
            self.error = e
            return int(lib.EID_ECANCELED)
        if pin is None:
            return int(lib.EID_ECANCELED)
        if isinstance(pin, str):
            tmp = bytearray(pin, "utf-8")
        elif isinstance(pin, (bytes, bytearray, memoryview)):
            tmp = bytearray(pin)
            if isinstance(pin, bytearray):
                wipe(pin)
        else:
            self.error = TypeError("a PIN callback returns str, bytes, bytearray or None, not %r"
                                   % type(pin).__name__)
            return int(lib.EID_ECANCELED)
        try:
            n = len(tmp)
            if n >= size:
                return int(lib.EID_EPIN_INVALID)
            if n:
                ffi.memmove(buf, ffi.from_buffer(tmp), n)
            buf[n] = b"\0"
            return n
        finally:
            wipe(tmp)

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Around a C call that may ask for the PIN: an exception the callback raised is raised here."""
        self.error = None
        yield
        err, self.error = self.error, None
        if err is not None:
            raise err


@ffi.def_extern()
def eidpy_pin_cb(buf: Any, size: int, req: Any, userdata: Any) -> int:
    try:
        state: _PinState = ffi.from_handle(userdata)
        return state.ask(buf, size, req)
    except BaseException:  # noqa: BLE001 - never let an exception cross into C
        return int(lib.EID_ECANCELED)


def pin_from_env(var: str) -> PinCallback:
    """A PIN callback that reads the PIN from environment variable @p var each time it is asked."""

    def ask(_req: PinRequest) -> Optional[bytearray]:
        v = os.environb.get(var.encode()) if hasattr(os, "environb") else None
        if v is None:
            s = os.environ.get(var)
            return bytearray(s, "utf-8") if s is not None else None
        return bytearray(v)

    return ask


def pin_from_file(path: PathLike) -> PinCallback:
    """A PIN callback that reads the PIN (first line) from a file each time it is asked."""

    def ask(_req: PinRequest) -> Optional[bytearray]:
        with open(path, "rb", buffering=0) as f:
            data = bytearray(f.read(4096))
        end = len(data)
        for i, b in enumerate(data):
            if b in (10, 13):
                end = i
                break
        pin = bytearray(data[:end])
        wipe(data)
        return pin

    return ask


# ---------------------------------------------------------------------------------------------------
# Custom signers: the signature value comes from a Python function.

SignFunction = Callable[[bytes, str, Optional[str]], bytes]
_custom: Dict[int, "_CustomState"] = {}
_custom_lock = threading.Lock()


class _CustomState:
    def __init__(self, func: SignFunction) -> None:
        self.func = func
        self.handle = ffi.new_handle(self)
        self.error: Optional[BaseException] = None


@ffi.def_extern()
def eidpy_sign_cb(impl: Any, scheme: int, hash: int, digest: Any, digest_len: int, out: Any) -> int:
    try:
        state: _CustomState = ffi.from_handle(impl)
    except BaseException:  # noqa: BLE001
        return int(lib.EID_EINTERNAL)
    try:
        value = state.func(bytes(ffi.buffer(digest, digest_len)), hash_name(int(hash)), SCHEMES.get(int(scheme)))
        if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) == 0:
            raise TypeError("a signing function returns the signature value as bytes")
        return int(lib.eid_buf_set(out, bytes(value), len(value)))
    except BaseException as e:  # noqa: BLE001 - handed back after the C call
        state.error = e
        return int(lib.EID_ECANCELED)


@ffi.def_extern()
def eidpy_free_cb(impl: Any) -> None:
    with _custom_lock:
        _custom.pop(int(ffi.cast("uintptr_t", impl)), None)


# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenInfo:
    """A token as the PKCS#11 module reports it."""

    index: int
    slot_id: int
    slot_description: Optional[str]
    label: str
    manufacturer: Optional[str]
    model: Optional[str]
    serial: Optional[str]
    login_required: bool
    pinpad: bool
    pin_count_low: bool
    pin_final_try: bool
    pin_locked: bool


@dataclass(frozen=True)
class CertInfo:
    """A certificate object on a token (visible without login)."""

    token_index: int
    label: Optional[str]
    id_hex: str
    subject: Optional[str]
    der: bytes
    key_type: str
    key_bits: int
    non_repudiation: bool
    digital_signature: bool
    ca: bool


@dataclass(frozen=True)
class KeyInfo:
    """A key on a token, as far as it can be seen without login."""

    token_index: int
    label: Optional[str]
    id_hex: str
    key_type: str
    key_bits: int
    private_visible: bool
    has_certificate: bool


_KEY_TYPES = {0: "unknown", 1: "RSA", 2: "EC"}


class Pkcs11(Handle):
    """A loaded PKCS#11 module.

    Args:
        module: the module's path; None for ``$EID_PKCS11_MODULE``, else
            p11-kit's proxy, else OpenSC's module.

    Signers made from it keep the module loaded, so it may be closed first.
    """

    _kind = "PKCS#11 module"

    def __init__(self, module: Optional[PathLike] = None) -> None:
        super().__init__()
        out = ffi.new("eid_pkcs11 **")
        check(lib.eid_pkcs11_open(out, fspath(module) if module is not None else NULL))
        self._own(out[0], lib.eid_pkcs11_free)

    @property
    def module_path(self) -> str:
        """The module's path."""
        return text(lib.eid_pkcs11_module_path(self._p)) or ""

    @property
    def tokens(self) -> List[TokenInfo]:
        """The tokens present (flags refreshed now)."""
        out = []
        with self._lock:
            for i in range(lib.eid_pkcs11_token_count(self._p)):
                t = lib.eid_pkcs11_token(self._p, i)
                if t == NULL:
                    break
                f = int(t.flags)
                out.append(TokenInfo(i, int(t.slot_id), text(t.slot_description), text(t.label) or "",
                                     text(t.manufacturer), text(t.model), text(t.serial),
                                     bool(f & lib.EID_TOKEN_LOGIN_REQUIRED), bool(f & lib.EID_TOKEN_PINPAD),
                                     bool(f & lib.EID_TOKEN_PIN_COUNT_LOW), bool(f & lib.EID_TOKEN_PIN_FINAL_TRY),
                                     bool(f & lib.EID_TOKEN_PIN_LOCKED)))
        return out

    @property
    def certificates(self) -> List[CertInfo]:
        """The certificates on all tokens."""
        out = []
        for i in range(lib.eid_pkcs11_cert_count(self._p)):
            c = lib.eid_pkcs11_cert(self._p, i)
            if c == NULL:
                break
            f = int(c.flags)
            out.append(CertInfo(int(c.token_index), text(c.label), text(c.id_hex) or "", text(c.subject),
                                bytes(ffi.buffer(c.der, c.der_len)), _KEY_TYPES.get(int(c.key_type), "unknown"),
                                int(c.key_bits), bool(f & lib.EID_CERT_NON_REPUDIATION),
                                bool(f & lib.EID_CERT_DIGITAL_SIGNATURE), bool(f & lib.EID_CERT_CA)))
        return out

    @property
    def keys(self) -> List[KeyInfo]:
        """The keys seen without login."""
        out = []
        for i in range(lib.eid_pkcs11_key_count(self._p)):
            k = lib.eid_pkcs11_key(self._p, i)
            if k == NULL:
                break
            f = int(k.flags)
            out.append(KeyInfo(int(k.token_index), text(k.label), text(k.id_hex) or "",
                               _KEY_TYPES.get(int(k.key_type), "unknown"), int(k.key_bits),
                               bool(f & lib.EID_KEYOBJ_PRIVATE), bool(f & lib.EID_KEYOBJ_HAS_CERT)))
        return out

    def signer(self, *, token: Optional[str] = None, key_id: Optional[str] = None,
               cert_label: Optional[str] = None, pin: Optional[PinCallback] = None,
               allow_final_try: bool = False, use_pinpad: bool = True, any_usage: bool = False) -> "Signer":
        """A signer for a key on one of the module's tokens.

        Args:
            token: the token's label (None: any token).
            key_id: the key's CKA_ID in hex (None: any).
            cert_label: the certificate's CKA_LABEL (None: any).
            pin: called when a login is needed (at the first signature, and
                again for keys that ask for every signature).  It gets a
                :class:`PinRequest` and returns the PIN, or None to cancel.
            allow_final_try: send a PIN even when the token says one try is left.
            use_pinpad: on a reader with a pinpad the PIN is entered there;
                False asks the callback instead.
            any_usage: do not prefer the non-repudiation certificate.

        Among the certificates that match (never a CA's), the one with
        nonRepudiation wins, then one with digitalSignature.
        """
        sel = ffi.new("eid_pkcs11_select *")
        lib.eidpy_pkcs11_select_init(sel)
        keep = [cstr(token), cstr(key_id), cstr(cert_label)]
        sel.token_label, sel.key_id_hex, sel.cert_label = keep
        state = _PinState(pin) if pin is not None else None
        if state is not None:
            sel.pin_cb = lib.eidpy_pin_cb
            sel.pin_userdata = state.handle
        sel.flags = ((lib.EID_SELECT_ALLOW_FINAL_TRY if allow_final_try else 0)
                     | (0 if use_pinpad else lib.EID_SELECT_NO_PINPAD)
                     | (lib.EID_SELECT_ANY_USAGE if any_usage else 0))
        out = ffi.new("eid_signer **")
        with self._lock:
            check(lib.eid_signer_new_pkcs11(out, self._p, sel))
        return Signer._wrap(out[0], pin_state=state, keep=self)


class Signer(Handle):
    """A key that signs digests: on a PKCS#11 token, in a PKCS#12 file, on a card, or elsewhere.

    Make one with :meth:`pkcs11`, :meth:`pkcs12`, :meth:`external`,
    :meth:`from_function` or :meth:`eid.Card.signer`.  Use it in a ``with``
    block, or call :meth:`close` (a PKCS#11 signer logs out of its session).
    Calls through one signer are serialised.
    """

    _kind = "signer"

    def __init__(self) -> None:  # use the class methods
        super().__init__()
        self._pin_state: Optional[_PinState] = None
        self._custom_state: Optional[_CustomState] = None
        self._keep: Any = None

    @classmethod
    def _wrap(cls, ptr: Any, *, pin_state: Optional[_PinState] = None, keep: Any = None,
              custom: Optional["_CustomState"] = None) -> "Signer":
        s = cls.__new__(cls)
        Signer.__init__(s)
        s._own(ptr, lib.eid_signer_free)
        s._pin_state = pin_state
        s._custom_state = custom
        s._keep = keep
        return s

    # -- constructors --------------------------------------------------------------------------

    @classmethod
    def pkcs11(cls, module: Optional[PathLike] = None, **select: Any) -> "Signer":
        """Load @p module and make a signer with :meth:`Pkcs11.signer` (same keyword arguments)."""
        with Pkcs11(module) as p11:
            return p11.signer(**select)

    @classmethod
    def pkcs12(cls, path: PathLike, password: Secret) -> "Signer":
        """A signer from a PKCS#12 file.  The password is copied into a C buffer, used once and wiped
        (a bytearray given is wiped too; a str or bytes cannot be)."""
        pw = secret_to_c(password)
        out = ffi.new("eid_signer **")
        try:
            check(lib.eid_signer_new_pkcs12(out, fspath(path), pw))
        finally:
            wipe_c(pw)
        return cls._wrap(out[0])

    @classmethod
    def external(cls, certificate: bytes, chain: Iterable[bytes] = ()) -> "Signer":
        """A signer for two-step signing: the value comes from elsewhere (a browser eID, a remote HSM).

        @p certificate and @p chain are DER or PEM bytes.  Use it with the
        ``prepare_*`` functions; :meth:`sign_digest` raises ExternalSigner.
        """
        out = ffi.new("eid_signer **")
        check(lib.eid_signer_new_external(out, certificate, len(certificate)))
        s = cls._wrap(out[0])
        for c in chain:
            s.add_chain_certificate(c)
        return s

    @classmethod
    def from_function(cls, certificate: bytes, sign: SignFunction, chain: Iterable[bytes] = ()) -> "Signer":
        """A signer whose values come from a Python function (a remote signing service, an HSM client).

        @p sign gets ``(digest, hash_name, scheme_name)`` (e.g. ``"SHA-256"``,
        ``"RSA-PKCS1"``/``"RSA-PSS"``/``"ECDSA"``, or None for the key's default)
        and returns the signature value (RSA raw; ECDSA DER or raw r||s).  An
        exception it raises comes out of the signing call.
        """
        state = _CustomState(sign)
        ops = ffi.new("eid_signer_ops *")
        lib.eidpy_signer_ops_init(ops)
        ops.sign_digest = lib.eidpy_sign_cb
        ops.free = lib.eidpy_free_cb
        with _custom_lock:
            _custom[int(ffi.cast("uintptr_t", state.handle))] = state
        out = ffi.new("eid_signer **")
        check(lib.eid_signer_new_custom(out, ops, state.handle, certificate, len(certificate)))
        s = cls._wrap(out[0], custom=state)
        for c in chain:
            s.add_chain_certificate(c)
        return s

    # -- properties ----------------------------------------------------------------------------

    @property
    def certificate(self) -> bytes:
        """The signer's certificate (DER)."""
        der = ffi.new("const unsigned char **")
        n = ffi.new("size_t *")
        check(lib.eid_signer_certificate(self._p, der, n))
        return bytes(ffi.buffer(der[0], n[0]))

    @property
    def chain(self) -> List[bytes]:
        """The chain certificates offered with it (DER), not counting its own."""
        der = ffi.new("const unsigned char **")
        n = ffi.new("size_t *")
        out = []
        for i in range(lib.eid_signer_chain_count(self._p)):
            check(lib.eid_signer_chain_cert(self._p, i, der, n))
            out.append(bytes(ffi.buffer(der[0], n[0])))
        return out

    @property
    def name(self) -> str:
        """The subject's common name (or whole subject)."""
        return text(lib.eid_signer_name(self._p)) or ""

    @property
    def key_type(self) -> str:
        """"RSA", "EC" or "unknown"."""
        return _KEY_TYPES.get(int(lib.eid_signer_key_type(self._p)), "unknown")

    @property
    def key_bits(self) -> int:
        """The key's size in bits."""
        return int(lib.eid_signer_key_bits(self._p))

    def add_chain_certificate(self, cert: bytes) -> None:
        """Add a CA certificate (DER or PEM) to the chain embedded in signatures."""
        with self._lock:
            check(lib.eid_signer_add_chain_cert(self._p, cert, len(cert)))

    def sign_digest(self, digest: bytes, hash: HashName = "sha256", scheme: Union[str, int, None] = None) -> bytes:
        """Sign a digest computed on the host.  RSA values are raw, ECDSA values DER.

        May ask for the PIN (through the callback given when the signer was made).
        """
        buf = ffi.new("eid_buf *")
        self.call(lib.eid_signer_sign_digest, self._p, scheme_value(scheme), hash_value(hash), digest,
                  len(digest), buf)
        return take_buf(buf)

    def call(self, fn: Callable[..., int], *args: Any) -> int:
        """Run a libeid function that uses this signer: serialised, and with the PIN callback's or the
        signing function's exception (if one was raised) coming out instead of the library's code."""
        with self._lock:
            self._p  # noqa: B018 - raises if closed
            if self._custom_state is not None:
                self._custom_state.error = None
            guard = self._pin_state.guard() if self._pin_state is not None else contextlib.nullcontext()
            with guard:
                rc = fn(*args)
            if self._custom_state is not None and self._custom_state.error is not None:
                err, self._custom_state.error = self._custom_state.error, None
                raise err
            return check(rc)

    def __repr__(self) -> str:
        if self.closed:
            return "<eid.Signer (closed)>"
        return "<eid.Signer %r %s-%d>" % (self.name, self.key_type, self.key_bits)
