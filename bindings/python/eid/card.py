"""National ID cards over PC/SC: readers, identity data, photo, certificates, PINs, card-direct signing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Union

from eid._handle import Handle
from eid._native import NULL, cstr, ffi, lib, secret_to_c, take_buf, text, wipe_c
from eid.errors import NotFound, Canceled, check
from eid.pki import TrustStore
from eid.signer import PinCallback, PinRequest, Secret, Signer, _PinState

#: A PIN for a card operation: the value, a callable returning it, or None for the reader's pinpad.
CardPin = Union[Secret, Callable[[], Optional[Secret]], None]

_KEYS = {"auth": 1, "authentication": 1, "sign": 2, "signature": 2, "ca": 3, "root": 4, "rrn": 5}
_PINS = {"auth": 1, "authentication": 1, "sign": 2, "signature": 2, "puk": 3}
_INTEGRITY = {0: "none", 1: "valid", 2: "failed"}


def _key(which: Union[str, int]) -> int:
    if isinstance(which, int):
        return which
    v = _KEYS.get(which.lower())
    if v is None:
        raise ValueError("unknown card key %r (auth, sign, ca, root or rrn)" % which)
    return v


def _pin(which: Union[str, int]) -> int:
    if isinstance(which, int):
        return which
    v = _PINS.get(which.lower())
    if v is None:
        raise ValueError("unknown card PIN %r (auth, sign or puk)" % which)
    return v


@dataclass(frozen=True)
class Reader:
    """A PC/SC reader as of the last refresh."""

    name: str
    has_card: bool


@dataclass(frozen=True)
class Identity:
    """Identity data read from a card, with the card's own integrity verdict.

    Attributes:
        fields: the fields the card has, by their JSON name ("surname",
            "given_names", "birth_date" (YYYY-MM-DD), "personal_code", ...).
        photo: the JPEG photo, or None.
        integrity: "valid", "failed" (do not trust the data) or "none" (the card carries no protection).
        integrity_reason: why, when not "valid".
        signer_checked: the identity data's signer was checked against trust anchors.
    """

    fields: Dict[str, str]
    photo: Optional[bytes]
    integrity: str
    integrity_reason: Optional[str]
    signer_checked: bool = False
    json_text: str = field(default="", repr=False)

    def __getattr__(self, name: str) -> Optional[str]:
        # identity.surname, identity.birth_date, ...
        if name.startswith("_") or name not in _FIELD_NAMES:
            raise AttributeError(name)
        return self.fields.get(name)

    def to_dict(self) -> Dict[str, Any]:
        """The fields, the integrity verdict and its reason (the photo left out)."""
        d: Dict[str, Any] = dict(self.fields)
        d["integrity"] = self.integrity
        d["integrity_reason"] = self.integrity_reason
        d["signer_checked"] = self.signer_checked
        return d

    def to_json(self, indent: Optional[int] = 2) -> str:
        """:meth:`to_dict` as JSON."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


_FIELD_NAMES = {text(lib.eid_identity_field_name(i)) for i in range(int(lib.EID_ID_FIELD_COUNT))}


class CardContext(Handle):
    """A connection to the PC/SC service (pcscd).  Use from one thread at a time.

    Raises CardError when pcscd is not running.
    """

    _kind = "card context"

    def __init__(self) -> None:
        super().__init__()
        out = ffi.new("eid_card_ctx **")
        check(lib.eid_card_ctx_new(out))
        self._own(out[0], lib.eid_card_ctx_free)

    def readers(self) -> List[Reader]:
        """Refresh and list the readers."""
        n = ffi.new("size_t *")
        with self._lock:
            check(lib.eid_card_ctx_readers(self._p, n))
            return [Reader(text(lib.eid_card_ctx_reader(self._p, i)) or "",
                           bool(lib.eid_card_ctx_reader_has_card(self._p, i))) for i in range(n[0])]

    def wait(self, reader: Optional[str] = None, timeout: Optional[float] = None) -> bool:
        """Wait until a card is in @p reader (None: any); False when none came within @p timeout seconds."""
        ms = -1 if timeout is None else int(timeout * 1000)
        with self._lock:
            rc = lib.eid_card_ctx_wait(self._p, cstr(reader), ms)
        if rc == lib.EID_ENOTFOUND:
            return False
        check(rc)
        return True

    def wait_removed(self, reader: str, timeout: Optional[float] = None) -> bool:
        """Wait until the card in @p reader is removed; False when it is still there after @p timeout seconds."""
        ms = -1 if timeout is None else int(timeout * 1000)
        with self._lock:
            rc = lib.eid_card_ctx_wait_removed(self._p, cstr(reader), ms)
        if rc == lib.EID_ECANCELED:
            return False
        check(rc)
        return True

    def open(self, reader: Optional[str] = None) -> "Card":
        """Connect to the card in @p reader (None: the first reader holding a card) and identify it."""
        out = ffi.new("eid_card **")
        with self._lock:
            check(lib.eid_card_open(self._p, cstr(reader), out))
        card = Card._wrap(out[0], self)
        self._adopt(card)
        return card


def open_card(reader: Optional[str] = None) -> "Card":
    """Open the card in @p reader (None: the first one holding a card) with a context of its own."""
    ctx = CardContext()
    try:
        card = ctx.open(reader)
    except BaseException:
        ctx.close()
        raise
    card._own_ctx = True
    return card


class Card(Handle):
    """A connected card with its profile ("belpic", "esteid", "pkcs15")."""

    _kind = "card"

    @classmethod
    def _wrap(cls, ptr: Any, ctx: CardContext) -> "Card":
        c = cls.__new__(cls)
        Handle.__init__(c)
        c._own(ptr, lib.eid_card_free)
        c._ctx = ctx
        c._own_ctx = False
        return c

    def close(self) -> None:
        """Disconnect (closing the signers made from this card first)."""
        super().close()
        if getattr(self, "_own_ctx", False):
            self._own_ctx = False
            self._ctx.close()

    @property
    def context(self) -> CardContext:
        """The PC/SC context the card was opened from."""
        return self._ctx

    @property
    def profile(self) -> str:
        """The profile's short name."""
        return text(lib.eid_card_profile(self._p)) or ""

    @property
    def description(self) -> str:
        """A description, e.g. "Belgian eID (applet 1.8)"."""
        return text(lib.eid_card_description(self._p)) or ""

    @property
    def reader(self) -> str:
        """The reader's name."""
        return text(lib.eid_card_reader(self._p)) or ""

    @property
    def atr(self) -> bytes:
        """The answer to reset."""
        p = ffi.new("const unsigned char **")
        n = ffi.new("size_t *")
        check(lib.eid_card_atr(self._p, p, n))
        return bytes(ffi.buffer(p[0], n[0]))

    @property
    def has_pinpad(self) -> bool:
        """Whether the reader has a pinpad."""
        return bool(lib.eid_card_has_pinpad(self._p))

    @property
    def apdu_count(self) -> int:
        """APDUs exchanged with the card so far."""
        return int(lib.eid_card_apdu_count(self._p))

    def certificate(self, which: Union[str, int] = "sign") -> bytes:
        """A certificate from the card (DER): "auth", "sign", "ca", "root" or "rrn"."""
        buf = ffi.new("eid_buf *")
        with self._lock:
            check(lib.eid_card_certificate(self._p, _key(which), buf))
        return take_buf(buf)

    def identity(self, trust: Optional[TrustStore] = None) -> Identity:
        """Read the identity data, address and photo, checked against the card's integrity protection.

        With @p trust, the identity data's signer (the Belgian national
        register) must also chain to those anchors, else the verdict is
        "failed".  A failed check is not an exception: read :attr:`Identity.integrity`.
        """
        out = ffi.new("eid_identity **")
        with self._lock:
            check(lib.eid_card_identity(self._p, out))
        idp = out[0]
        try:
            if trust is not None:
                check(lib.eid_identity_check_signer(idp, trust._p))
            fields: Dict[str, str] = {}
            for i in range(int(lib.EID_ID_FIELD_COUNT)):
                v = text(lib.eid_identity_get(idp, i))
                if v is not None:
                    fields[text(lib.eid_identity_field_name(i)) or str(i)] = v
            jp = ffi.new("const unsigned char **")
            n = ffi.new("size_t *")
            photo = bytes(ffi.buffer(jp[0], n[0])) if lib.eid_identity_photo(idp, jp, n) == 0 else None
            reason = ffi.new("const char **")
            verdict = _INTEGRITY.get(int(lib.eid_identity_integrity(idp, reason)), "failed")
            buf = ffi.new("eid_buf *")
            js = take_buf(buf) if lib.eid_identity_to_json(idp, buf) == 0 else b""
            return Identity(fields, photo, verdict, text(reason[0]), trust is not None,
                            js.decode("utf-8", "replace"))
        finally:
            lib.eid_identity_free(idp)

    # -- PINs ----------------------------------------------------------------------------------

    def pin_tries(self, which: Union[str, int] = "auth") -> Optional[int]:
        """Tries left for a PIN (asked without spending one), or None when the card cannot tell."""
        n = ffi.new("int *")
        with self._lock:
            rc = lib.eid_card_pin_tries(self._p, _pin(which), n)
        if rc == lib.EID_EUNSUPPORTED:
            return None
        check(rc)
        return int(n[0])

    def _secret(self, pin: CardPin) -> Any:
        if pin is None:
            return NULL
        if callable(pin):
            value = pin()
            if value is None:
                raise Canceled("no PIN given", int(lib.EID_ECANCELED))
            return secret_to_c(value)
        return secret_to_c(pin)

    def _pin_call(self, fn: Callable[..., int], which: Union[str, int], *pins: CardPin) -> None:
        bufs = []
        tries = ffi.new("int *", -1)
        try:
            for p in pins:
                bufs.append(self._secret(p))
            with self._lock:
                rc = fn(self._p, _pin(which), *bufs, tries)
        finally:
            for b in bufs:
                wipe_c(b)
        check(rc, int(tries[0]))

    def verify_pin(self, pin: CardPin, which: Union[str, int] = "auth") -> None:
        """Verify a PIN (None: on the reader's pinpad).

        Raises PinWrong (with ``tries_left``), PinLocked (nothing sent),
        PinInvalid (outside the card's rules), Unsupported (no pinpad) or
        Canceled.  The PIN is copied into a C buffer that is wiped after the
        command; a bytearray given is wiped too.
        """
        self._pin_call(lib.eid_card_pin_verify, which, pin)

    def change_pin(self, old: CardPin, new: CardPin, which: Union[str, int] = "auth") -> None:
        """Change a PIN (both None: on the pinpad)."""
        self._pin_call(lib.eid_card_pin_change, which, old, new)

    def unblock_pin(self, puk: CardPin, new: CardPin = None, which: Union[str, int] = "sign") -> None:
        """Unblock a PIN with the PUK, setting @p new (None: keep the old one, where the card allows)."""
        self._pin_call(lib.eid_card_pin_unblock, which, puk, new)

    # -- signing -------------------------------------------------------------------------------

    def signer(self, which: Union[str, int] = "sign", pin: Optional[PinCallback] = None) -> Signer:
        """A signer with the card's own key (card-direct).

        @p pin is asked at each signature (None: the reader's pinpad).  The
        signer borrows the card: closing the card closes it.
        """
        state = _PinState(pin) if pin is not None else None
        out = ffi.new("eid_signer **")
        with self._lock:
            check(lib.eid_signer_new_card(out, self._p, _key(which),
                                          lib.eidpy_pin_cb if state is not None else ffi.NULL,
                                          state.handle if state is not None else ffi.NULL))
        s = Signer._wrap(out[0], pin_state=state, keep=self)
        self._adopt(s)
        return s

    def __repr__(self) -> str:
        if self.closed:
            return "<eid.Card (closed)>"
        return "<eid.Card %r in %r>" % (self.description, self.reader)


__all__ = ["Card", "CardContext", "Identity", "Reader", "open_card", "PinRequest", "NotFound"]
