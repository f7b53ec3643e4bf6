"""The library, names, errors as exceptions, trust stores, network settings, logging, clean exit."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import eid
from eid import errors


def test_version() -> None:
    assert eid.version().count(".") == 2
    assert eid.__version__


@pytest.mark.parametrize("name,value", [("sha256", "SHA-256"), ("SHA-384", "SHA-384"), ("sha512", "SHA-512"),
                                        (None, "SHA-256")])
def test_hash_names(name: str, value: str) -> None:
    assert eid.hash_name(name) == value
    assert eid.hash_size(name) == {"SHA-256": 32, "SHA-384": 48, "SHA-512": 64}[value]


def test_bad_names() -> None:
    with pytest.raises(ValueError):
        eid.hash_name("md5")
    with pytest.raises(ValueError):
        eid.level_name("B-X")
    assert eid.level_name("b-lta") == "B-LTA"


@pytest.mark.parametrize("code,cls", [
    (-1, eid.InvalidArgument), (-3, eid.IOFailure), (-4, eid.NotFound), (-6, eid.FormatError),
    (-7, eid.Canceled), (-101, eid.NoToken), (-102, eid.NoKey), (-103, eid.PinWrong), (-104, eid.PinLocked),
    (-105, eid.PinFinalTry), (-106, eid.PinInvalid), (-109, eid.WrongPassword), (-110, eid.ExternalSigner),
    (-200, eid.CardError), (-300, eid.CertificateError), (-301, eid.NetworkError),
    (-400, eid.SignatureFormatError), (-999, eid.EidError)])
def test_error_classes(code: int, cls: type) -> None:
    assert eid.error_class(code) is cls
    assert issubclass(cls, eid.EidError)
    assert eid.strerror(code)


def test_error_carries_library_message(tmp_path: Path) -> None:
    with pytest.raises(eid.IOFailure) as ei:
        eid.verify(tmp_path / "missing.pdf")
    e = ei.value
    assert e.code == -3 and isinstance(e, OSError)
    assert "missing.pdf" in e.message and str(e) == e.message
    assert e.strerror == eid.strerror(-3)


def test_malformed_input_is_an_exception(tmp_path: Path) -> None:
    p = tmp_path / "junk.bin"
    p.write_bytes(b"not a signature at all" * 10)
    with pytest.raises(eid.EidError) as ei:
        eid.verify(p)
    assert isinstance(ei.value, (eid.FormatError, eid.Unsupported, eid.SignatureFormatError))


def test_pin_error_tries_from_message() -> None:
    e = errors.make_error(-103)
    assert isinstance(e, eid.PinWrong)
    e = eid.PinWrong("card: wrong PIN, 2 tries left", -103)
    assert e.tries_left == 2
    assert eid.PinWrong("token 'x' has one try left", -103).tries_left == 1
    assert eid.PinLocked("blocked", -104).tries_left == 0
    assert eid.PinWrong("wrong PIN", -103, tries_left=1).tries_left == 1


def test_trust_store(pki: "object") -> None:
    with eid.TrustStore([pki.root]) as t:  # type: ignore[attr-defined]
        assert len(t) == 1
        t.add_certificate((pki / "int.der").read_bytes())  # type: ignore[operator]
        assert len(t) == 2
        t.add_intermediates(pki / "int.crt")  # type: ignore[operator]
        assert len(t) == 2
    assert t.closed
    with pytest.raises(ValueError):
        len(t)
    t.close()  # twice is fine


def test_trust_store_bad_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.pem"
    p.write_text("nothing here\n")
    with pytest.raises(eid.FormatError):
        eid.TrustStore([p])


def test_online_settings() -> None:
    with eid.Online("http://127.0.0.1:9/tsa", timeout=3) as o:
        o.set_offline(True)
        with pytest.raises(eid.NetworkError):
            o.timestamp(b"\0" * 32, "sha256")
    with pytest.raises(eid.Unsupported):
        eid.Online("https://tsa.example/")


def test_online_timestamp(pki: "object") -> None:
    with eid.Online(pki.tsa) as o:  # type: ignore[attr-defined]
        tok = o.timestamp(bytes(range(32)), "sha256")
    assert tok[0] == 0x30 and len(tok) > 500


def test_tsa_down_is_network_error(p12_signer: eid.Signer, pdf: Path, tmp_path: Path) -> None:
    port = __import__("conftest").free_port()
    with pytest.raises(eid.NetworkError) as ei:
        eid.sign_pdf(p12_signer, pdf, tmp_path / "o.pdf", level="B-T", tsa="http://127.0.0.1:%d/tsa" % port,
                     timeout=5)
    assert "127.0.0.1" in ei.value.message
    assert not (tmp_path / "o.pdf").exists()


def test_level_needs_tsa(p12_signer: eid.Signer, pdf: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        eid.sign_pdf(p12_signer, pdf, tmp_path / "o.pdf", level="B-T")


def test_log_handler(pki: "object", tmp_path: Path) -> None:
    lines = []
    eid.set_log_handler(lambda level, msg: lines.append((level, msg)))
    eid.set_log_level("debug")
    try:
        with pytest.raises(eid.EidError):
            eid.verify(tmp_path / "missing.pdf")
        with eid.Signer.pkcs12(pki / "citizen-p256.p12", "test") as s:  # type: ignore[operator]
            eid.sign_cades(s, pki / "int.crt")  # type: ignore[operator]
    finally:
        eid.set_log_level("warn")
        eid.set_log_handler(None)
    assert all(isinstance(m, str) and 0 <= lv <= 5 for lv, m in lines)


def test_digest_file(tmp_path: Path) -> None:
    import hashlib

    p = tmp_path / "f"
    p.write_bytes(b"abc" * 1000)
    assert eid.digest_file(p, "sha384") == hashlib.sha384(b"abc" * 1000).digest()


def test_handles_released_by_gc(pki: "object") -> None:
    import weakref

    s = eid.Signer.pkcs12(pki / "citizen-p256.p12", "test")  # type: ignore[operator]
    fin = s._finalizer
    assert fin is not None and fin.alive
    r = weakref.ref(s)
    del s
    gc.collect()
    assert r() is None and not fin.alive


def test_exit_with_open_handles(pki: "object", hsm: str, pdf: Path, tmp_path: Path) -> None:
    """Objects left open at interpreter exit are released in a safe order, without noise."""
    code = textwrap.dedent("""
        import sys, eid
        p11 = eid.Pkcs11(sys.argv[1])
        s = p11.signer(token="libeid-test", pin=lambda r: "123456")
        t = eid.TrustStore([sys.argv[2]])
        o = eid.Online("http://127.0.0.1:9/")
        eid.sign_pdf(s, sys.argv[3], sys.argv[4])
        prep = eid.prepare_pdf(s, sys.argv[3], sys.argv[4] + ".2")
        eid.set_log_handler(lambda level, msg: None)
        keep = [p11, s, t, o, prep]
        print("ok")
    """)
    out = tmp_path / "out"
    out.mkdir()
    p = subprocess.run([sys.executable, "-c", code, hsm, pki.root, str(pdf), str(out / "o.pdf")],  # type: ignore[attr-defined]
                       capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "ok"
    assert p.stderr == ""
    # the signed file, and nothing of the unfinished one (its temporary file went with it)
    assert [f.name for f in out.iterdir()] == ["o.pdf"]
