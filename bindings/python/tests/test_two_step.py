"""Two-step signing: prepare, hand the digest to something else, complete with the signature value."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, Optional

import pytest

import eid
from conftest import PIN, Pki

pytest.importorskip("cryptography")
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils  # noqa: E402

HASHES = {"SHA-256": hashes.SHA256, "SHA-384": hashes.SHA384, "SHA-512": hashes.SHA512}


def remote_signer(pki: Pki, name: str) -> Callable[[eid.Prepared], bytes]:
    """Stands for a browser eID or a remote HSM: gets the digest and how to sign it, returns the value."""
    key = pki.key(name)

    def sign(prep: eid.Prepared) -> bytes:
        h = utils.Prehashed(HASHES[prep.hash]())
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(prep.digest, ec.ECDSA(h))
        if prep.scheme == "RSA-PSS":
            return key.sign(prep.digest, padding.PSS(padding.MGF1(HASHES[prep.hash]()), len(prep.digest)), h)  # type: ignore[attr-defined]
        return key.sign(prep.digest, padding.PKCS1v15(), h)  # type: ignore[attr-defined]

    return sign


@pytest.fixture()
def external_rsa(pki: Pki) -> eid.Signer:
    return eid.Signer.external((pki / "citizen-rsa2048.crt").read_bytes(),
                               chain=[(pki / "int.der").read_bytes(), (pki / "root.der").read_bytes()])


@pytest.fixture()
def external_ec(pki: Pki) -> eid.Signer:
    return eid.Signer.external((pki / "citizen-p384.der").read_bytes(), chain=[(pki / "int.der").read_bytes()])


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT"])
def test_pdf(level: str, external_rsa: eid.Signer, pki: Pki, pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "two.pdf"
    prep = eid.prepare_pdf(external_rsa, pdf, out, level=level, tsa=None if level == "B-B" else pki.tsa,
                           reason="two steps")
    assert prep.hash == "SHA-256" and len(prep.digest) == 32 and prep.scheme in (None, "RSA-PKCS1")
    assert not out.exists()
    prep.complete(remote_signer(pki, "citizen-rsa2048")(prep))
    assert prep.completed and prep.closed
    r = eid.verify(out, trust=[pki.root], online=level != "B-LT")
    assert r.passed, r.text
    assert r.signatures[0].level.endswith("BASELINE-" + level[2:])  # type: ignore[union-attr]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two.pdf"]
    with pytest.raises(ValueError):
        prep.complete(b"again")


def test_pdf_pss(external_rsa: eid.Signer, pki: Pki, pdf: Path, tmp_path: Path) -> None:
    prep = eid.prepare_pdf(external_rsa, pdf, tmp_path / "pss.pdf", scheme="rsa-pss", hash="sha512")
    assert prep.scheme == "RSA-PSS" and prep.hash == "SHA-512" and len(prep.digest) == 64
    prep.complete(remote_signer(pki, "citizen-rsa2048")(prep))
    r = eid.verify(tmp_path / "pss.pdf", trust=[pki.root], online=True)
    assert r.passed and r.signatures[0].signature_algorithm == "RSA-PSS"


def test_wrong_value_writes_nothing(external_rsa: eid.Signer, pki: Pki, pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "bad.pdf"
    prep = eid.prepare_pdf(external_rsa, pdf, out)
    other = remote_signer(pki, "citizen-rsa3072")(prep)
    with pytest.raises(eid.InvalidArgument):
        prep.complete(other)
    prep.close()
    assert list(tmp_path.iterdir()) == []


def test_discarded_leaves_nothing(external_rsa: eid.Signer, pki: Pki, pdf: Path, tmp_path: Path) -> None:
    with eid.prepare_pdf(external_rsa, pdf, tmp_path / "x.pdf", level="B-LTA", tsa=pki.tsa) as prep:
        assert prep.digest
    assert list(tmp_path.iterdir()) == []


def test_digest_handed_to_a_token(hsm: str, pki: Pki, pdf: Path, tmp_path: Path) -> None:
    """The digest goes to another signer object (here a PKCS#11 key) with sign_with()."""
    with eid.Signer.pkcs11(hsm, token="libeid-test", key_id="01", pin=lambda r: PIN) as token, \
            eid.Signer.external(token.certificate, chain=token.chain) as ext:
        prep = eid.prepare_pdf(ext, pdf, tmp_path / "t.pdf")
        prep.complete(prep.sign_with(token))
    assert eid.verify(tmp_path / "t.pdf", trust=[pki.root], online=True).passed


@pytest.mark.parametrize("to_file", [False, True])
def test_xml(to_file: bool, external_ec: eid.Signer, pki: Pki, xml_doc: Path, tmp_path: Path) -> None:
    out: Optional[Path] = tmp_path / "s.xml" if to_file else None
    prep = eid.prepare_xml(external_ec, xml_doc, out, hash="sha384")
    assert prep.hash == "SHA-384" and prep.scheme in (None, "ECDSA")
    doc = prep.complete(remote_signer(pki, "citizen-p384")(prep))
    if to_file:
        assert doc is None and out is not None and out.exists()
    else:
        assert doc is not None
        (tmp_path / "s.xml").write_bytes(doc)
    assert eid.verify(tmp_path / "s.xml", trust=[pki.root], online=True).passed


def test_asic(external_ec: eid.Signer, pki: Pki, txt: Path, pdf: Path, tmp_path: Path) -> None:
    prep = eid.prepare_asic(external_ec, [txt, pdf], tmp_path / "c.asice", level="B-T", tsa=pki.tsa)
    prep.complete(remote_signer(pki, "citizen-p384")(prep))
    r = eid.verify(tmp_path / "c.asice", trust=[pki.root], online=True)
    assert r.passed and r.signatures[0].signature_timestamp is not None


def test_cades_file_and_digest(external_ec: eid.Signer, pki: Pki, txt: Path, tmp_path: Path) -> None:
    prep = eid.prepare_cades(external_ec, txt, tmp_path / "a.p7s")
    der = prep.complete(remote_signer(pki, "citizen-p384")(prep))
    assert (tmp_path / "a.p7s").read_bytes() == der
    assert eid.verify(tmp_path / "a.p7s", trust=[pki.root], data=txt, online=True).passed
    # the content's digest computed elsewhere: the file itself never reaches the library
    content_digest = hashlib.sha256(txt.read_bytes()).digest()
    prep = eid.prepare_cades(external_ec, content_digest=content_digest, hash="sha256")
    der = prep.complete(remote_signer(pki, "citizen-p384")(prep))
    assert eid.verify_cades(der, txt, trust=[pki.root]).signatures[0].sub_indication != "HASH_FAILURE"


def test_cades_long_term(external_ec: eid.Signer, pki: Pki, txt: Path, tmp_path: Path) -> None:
    prep = eid.prepare_cades(external_ec, txt, tmp_path / "lta.p7s", level="B-LTA", tsa=pki.tsa)
    prep.complete(remote_signer(pki, "citizen-p384")(prep))
    r = eid.verify(tmp_path / "lta.p7s", trust=[pki.root], data=txt)
    assert r.passed and r.signatures[0].level == "CAdES-BASELINE-LTA"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.txt", "lta.p7s"]


def test_bad_options(external_ec: eid.Signer, pdf: Path, tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        eid.prepare_pdf(external_ec, pdf, tmp_path / "o.pdf", no_such_option=1)
    with pytest.raises(ValueError):
        eid.prepare_cades(external_ec)
