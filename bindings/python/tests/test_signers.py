"""Signers: PKCS#11 (SoftHSM2) with a PIN callback, PKCS#12 with a password, external and function signers."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import List, Optional

import pytest

import eid
from conftest import PIN, Pki


def test_module_lists_tokens_certificates_keys(hsm: str) -> None:
    with eid.Pkcs11(hsm) as p11:
        assert p11.module_path == hsm
        labels = [t.label for t in p11.tokens]
        assert "libeid-test" in labels and "libeid-ec" in labels
        t = next(t for t in p11.tokens if t.label == "libeid-test")
        assert t.login_required and not t.pin_locked
        certs = p11.certificates
        sig = next(c for c in certs if c.id_hex == "01" and labels[c.token_index] == "libeid-test")
        assert sig.non_repudiation and sig.key_type == "RSA" and sig.key_bits == 2048 and sig.der[0] == 0x30
        assert any(c.ca for c in certs)
        assert any(k.id_hex == "04" and k.key_type == "EC" for k in p11.keys)


def test_pin_callback_asked_once_and_wiped(hsm: str, pki: Pki, pdf: Path, tmp_path: Path) -> None:
    asked: List[eid.PinRequest] = []
    given: List[bytearray] = []

    def pin(req: eid.PinRequest) -> bytearray:
        asked.append(req)
        b = bytearray(PIN.encode())
        given.append(b)
        return b

    with eid.Signer.pkcs11(hsm, token="libeid-test", key_id="01", pin=pin) as s:
        assert asked == []  # no login before the first signature
        assert s.certificate == (pki / "citizen-rsa2048.der").read_bytes()
        assert s.key_type == "RSA" and s.key_bits == 2048 and "Signature" in s.name
        assert len(s.chain) >= 1
        eid.sign_pdf(s, pdf, tmp_path / "a.pdf")
        eid.sign_pdf(s, tmp_path / "a.pdf", tmp_path / "b.pdf")
    assert len(asked) == 1
    req = asked[0]
    assert req.token_label == "libeid-test" and req.key_label == "Signature"
    assert not req.final_try and not req.context_specific and req.min_len >= 4
    assert given[0] == bytearray(len(PIN))  # wiped after it was copied into the C buffer
    assert eid.verify(tmp_path / "b.pdf", trust=[pki.root], online=True).passed
    assert s.closed
    with pytest.raises(ValueError):
        s.name


def test_pin_callback_str_and_pin_from_env(hsm: str, monkeypatch: pytest.MonkeyPatch, txt: Path) -> None:
    with eid.Signer.pkcs11(hsm, token="libeid-ec", pin=lambda req: PIN) as s:
        assert s.key_type == "EC"
        eid.sign_cades(s, txt)
    monkeypatch.setenv("MY_PIN", PIN)
    with eid.Signer.pkcs11(hsm, token="libeid-ec", pin=eid.pin_from_env("MY_PIN")) as s:
        eid.sign_cades(s, txt)


def test_pin_from_file(hsm: str, tmp_path: Path, txt: Path) -> None:
    f = tmp_path / "pin.txt"
    f.write_text(PIN + "\n")
    with eid.Signer.pkcs11(hsm, token="libeid-ec", pin=eid.pin_from_file(f)) as s:
        eid.sign_cades(s, txt)


def test_pin_callback_cancel(hsm: str, txt: Path) -> None:
    with eid.Signer.pkcs11(hsm, token="libeid-test", key_id="01", pin=lambda req: None) as s:
        with pytest.raises(eid.Canceled) as ei:
            eid.sign_cades(s, txt)
        assert "libeid-test" in ei.value.message


class Boom(Exception):
    pass


def test_pin_callback_exception_comes_out(hsm: str, pdf: Path, tmp_path: Path) -> None:
    def pin(req: eid.PinRequest) -> Optional[str]:
        raise Boom("no PIN today")

    with eid.Signer.pkcs11(hsm, token="libeid-test", key_id="01", pin=pin) as s:
        with pytest.raises(Boom):
            eid.sign_pdf(s, pdf, tmp_path / "o.pdf")
    assert not (tmp_path / "o.pdf").exists()


def test_wrong_pin(hsm: str, txt: Path) -> None:
    with eid.Signer.pkcs11(hsm, token="libeid-test", key_id="01", pin=lambda req: "999999") as s:
        with pytest.raises(eid.PinWrong) as ei:
            eid.sign_cades(s, txt)
    assert isinstance(ei.value, eid.PinError)
    assert "CKR_PIN_INCORRECT" in ei.value.message


def test_empty_pin_is_refused_before_sending(hsm: str, txt: Path) -> None:
    with eid.Signer.pkcs11(hsm, token="libeid-test", key_id="01", pin=lambda req: b"") as s:
        with pytest.raises(eid.PinInvalid):
            eid.sign_cades(s, txt)


def test_no_such_token_or_key(hsm: str) -> None:
    with pytest.raises(eid.NoToken):
        eid.Signer.pkcs11(hsm, token="no-such-token")
    with pytest.raises(eid.NoKey):
        eid.Signer.pkcs11(hsm, token="libeid-test", key_id="7f")
    with pytest.raises(eid.NoKey):
        eid.Signer.pkcs11(hsm, token="libeid-empty")
    with pytest.raises(eid.ModuleError):
        eid.Pkcs11("/nonexistent/module.so")


def test_always_authenticate_asks_each_time(hsm: str, txt: Path) -> None:
    asked: List[eid.PinRequest] = []

    def pin(req: eid.PinRequest) -> str:
        asked.append(req)
        return PIN

    with eid.Signer.pkcs11(hsm, token="libeid-always", pin=pin) as s:
        eid.sign_cades(s, txt)
        eid.sign_cades(s, txt)
    assert any(r.context_specific for r in asked)
    assert sum(r.context_specific for r in asked) == 2


def test_sign_digest_rsa_and_ec(hsm: str, pki: Pki) -> None:
    crypto = pytest.importorskip("cryptography.hazmat.primitives.asymmetric")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    digest = hashlib.sha256(b"hello").digest()
    with eid.Signer.pkcs11(hsm, token="libeid-test", key_id="01", pin=lambda r: PIN) as s:
        sig = s.sign_digest(digest, "sha256")
        pss = s.sign_digest(digest, "sha256", "rsa-pss")
    pub = x509.load_der_x509_certificate((pki / "citizen-rsa2048.der").read_bytes()).public_key()
    from cryptography.hazmat.primitives.asymmetric import padding, utils

    pub.verify(sig, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    pub.verify(pss, digest, padding.PSS(padding.MGF1(hashes.SHA256()), 32), utils.Prehashed(hashes.SHA256()))
    with eid.Signer.pkcs11(hsm, token="libeid-ec", pin=lambda r: PIN) as s:
        sig = s.sign_digest(digest)
    pub = x509.load_der_x509_certificate((pki / "citizen-p256.der").read_bytes()).public_key()
    pub.verify(sig, digest, crypto.ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    with pytest.raises(eid.InvalidArgument):
        with eid.Signer.pkcs11(hsm, token="libeid-ec", pin=lambda r: PIN) as s:
            s.sign_digest(b"short", "sha256")


def test_pkcs12(pki: Pki, txt: Path) -> None:
    pw = bytearray(b"test")
    with eid.Signer.pkcs12(pki / "citizen-rsa3072.p12", pw) as s:
        assert s.key_bits == 3072
        assert len(s.chain) == 2
        eid.sign_cades(s, txt)
    assert pw == bytearray(4)  # wiped
    with pytest.raises(eid.WrongPassword):
        eid.Signer.pkcs12(pki / "citizen-rsa3072.p12", "wrong")
    with pytest.raises(eid.IOFailure):
        eid.Signer.pkcs12(pki / "nope.p12", "test")


def test_external_signer_cannot_sign(pki: Pki) -> None:
    with eid.Signer.external((pki / "citizen-p256.crt").read_bytes(), chain=[(pki / "int.der").read_bytes()]) as s:
        assert s.key_type == "EC" and len(s.chain) == 1
        with pytest.raises(eid.ExternalSigner):
            s.sign_digest(b"\0" * 32)
    with pytest.raises(eid.EidError):
        eid.Signer.external(b"not a certificate")


def test_function_signer(pki: Pki, pdf: Path, tmp_path: Path) -> None:
    """A key elsewhere (here: a key file through the cryptography package), called back per signature."""
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    key = pki.key("citizen-p256")
    calls = []

    def sign(digest: bytes, hash: str, scheme: Optional[str]) -> bytes:
        calls.append((hash, scheme, len(digest)))
        return key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))  # type: ignore[attr-defined]

    s = eid.Signer.from_function((pki / "citizen-p256.der").read_bytes(), sign,
                                 chain=[(pki / "int.der").read_bytes()])
    with s:
        eid.sign_pdf(s, pdf, tmp_path / "f.pdf")
    assert calls and calls[0][0] == "SHA-256" and calls[0][2] == 32
    assert eid.verify(tmp_path / "f.pdf", trust=[pki.root], online=True).passed

    def broken(digest: bytes, hash: str, scheme: Optional[str]) -> bytes:
        raise Boom("the service is down")

    with eid.Signer.from_function((pki / "citizen-p256.der").read_bytes(), broken) as s2:
        with pytest.raises(Boom):
            eid.sign_pdf(s2, pdf, tmp_path / "g.pdf")
    assert not (tmp_path / "g.pdf").exists()
