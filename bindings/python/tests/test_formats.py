"""One-step signing in every format at every level, extending, and the validation report."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Optional

import pytest

import eid
from conftest import Pki

LEVELS = ["B-B", "B-T", "B-LT", "B-LTA"]
SUFFIX = {"B-B": "BASELINE-B", "B-T": "BASELINE-T", "B-LT": "BASELINE-LT", "B-LTA": "BASELINE-LTA"}


def _archive_ts_known() -> bool:
    import eid.report as v

    return bool(v._HAS_ARCHIVE_TS)


def tsa_for(level: str, pki: Pki) -> Optional[str]:
    return None if level == "B-B" else pki.tsa


def check_report(report: eid.Report, fmt: str, level: str, n: int = 1) -> None:
    assert report.indication == eid.TOTAL_PASSED, report.text
    assert report.passed and len(report.signatures) == n
    for s in report.signatures:
        assert s.format == fmt
        assert s.level is not None and s.level.endswith(SUFFIX[level]), s.level
        assert s.signer.name and s.chain and s.errors == []
        if level != "B-B":
            assert s.signature_timestamp is not None and "TSA" in (s.signature_timestamp.tsa or "")
        if level == "B-LTA" and _archive_ts_known():
            assert s.archive_timestamp is not None


@pytest.mark.parametrize("level", LEVELS)
def test_pdf(level: str, token_signer: eid.Signer, pki: Pki, pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "signed.pdf"
    eid.sign_pdf(token_signer, pdf, out, level=level, tsa=tsa_for(level, pki), reason="Approved", location="Brussels")
    assert out.read_bytes().startswith(pdf.read_bytes())  # an incremental update
    assert [p.name for p in tmp_path.iterdir()] == ["signed.pdf"]  # no temporary file left
    check_report(eid.verify(out, trust=[pki.root], online=level in ("B-B", "B-T")), "PAdES", level)


@pytest.mark.parametrize("level", LEVELS)
def test_xml_enveloped(level: str, p12_signer: eid.Signer, pki: Pki, xml_doc: Path, tmp_path: Path) -> None:
    out = tmp_path / "signed.xml"
    eid.sign_xml(p12_signer, xml_doc, out, level=level, tsa=tsa_for(level, pki), role="Accountant")
    r = eid.verify(out, trust=[pki.root], online=level in ("B-B", "B-T"))
    check_report(r, "XAdES", level)
    assert r.signatures[0].role == "Accountant"
    assert r.signatures[0].signed_data


@pytest.mark.parametrize("level", LEVELS)
def test_asic_e(level: str, token_signer: eid.Signer, pki: Pki, pdf: Path, txt: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.asice"
    eid.sign_asic(token_signer, [pdf, txt], out, level=level, tsa=tsa_for(level, pki))
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
    assert names[0] == "mimetype" and "in.pdf" in names and "doc.txt" in names
    check_report(eid.verify(out, trust=[pki.root], online=level in ("B-B", "B-T")), "ASiC-E/XAdES", level)


@pytest.mark.parametrize("level", LEVELS)
def test_cades(level: str, token_signer: eid.Signer, pki: Pki, txt: Path, tmp_path: Path) -> None:
    out = tmp_path / "doc.txt.p7s"
    der = eid.sign_cades(token_signer, txt, out, level=level, tsa=tsa_for(level, pki))
    assert out.read_bytes() == der and der[0] == 0x30
    check_report(eid.verify(out, trust=[pki.root], data=txt, online=level in ("B-B", "B-T")), "CAdES", level)
    r = eid.verify_cades(der, txt, trust=[pki.root])
    assert r.signatures[0].format == "CAdES"


def test_xml_in_memory_and_detached(p12_signer: eid.Signer, pki: Pki, xml_doc: Path, txt: Path, tmp_path: Path) -> None:
    doc = eid.sign_xml(p12_signer, xml_doc)
    assert doc is not None and b"SignatureValue" in doc
    (tmp_path / "mem.xml").write_bytes(doc)
    assert eid.verify(tmp_path / "mem.xml", trust=[pki.root], online=True).passed
    enveloping = eid.sign_xml(p12_signer, txt, packaging="enveloping", policy_implied=True)
    assert enveloping is not None and b"SignaturePolicyImplied" in enveloping


def test_asic_s_and_add_signature(token_signer: eid.Signer, p12_signer: eid.Signer, pki: Pki, txt: Path,
                                  tmp_path: Path) -> None:
    eid.sign_asic(p12_signer, txt, tmp_path / "s.asics", type="S")
    assert eid.verify(tmp_path / "s.asics", trust=[pki.root], online=True).passed
    eid.sign_asic(p12_signer, [txt], tmp_path / "one.asice")
    eid.sign_asic(token_signer, tmp_path / "one.asice", tmp_path / "two.asice")  # a container: one more signature
    r = eid.verify(tmp_path / "two.asice", trust=[pki.root], online=True)
    assert len(r.signatures) == 2 and r.passed
    assert {s.signer.name for s in r.signatures} == {p12_signer.name, token_signer.name}


def test_pdf_visible_certified(token_signer: eid.Signer, pki: Pki, pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "v.pdf"
    eid.sign_pdf(token_signer, pdf, out, page=1, rect=(50, 50, 200, 60), field_name="Approval", certify="forms",
                 signing_time=1700000000, hash="sha384")
    r = eid.verify(out, trust=[pki.root], online=True)
    s = r.signatures[0]
    assert r.passed and s.field == "Approval" and s.certification == 2 and s.digest_algorithm == "SHA-384"
    assert s.claimed_signing_time is not None and int(s.claimed_signing_time.timestamp()) == 1700000000
    with pytest.raises(eid.InvalidArgument):  # a second certification is refused
        eid.sign_pdf(token_signer, out, tmp_path / "w.pdf", certify="none")


def test_extend_existing_signature(p12_signer: eid.Signer, pki: Pki, pdf: Path, tmp_path: Path) -> None:
    eid.sign_pdf(p12_signer, pdf, tmp_path / "bt.pdf", level="B-T", tsa=pki.tsa)
    eid.extend(tmp_path / "bt.pdf", tmp_path / "lta.pdf", "B-LTA", tsa=pki.tsa)
    check_report(eid.verify(tmp_path / "lta.pdf", trust=[pki.root]), "PAdES", "B-LTA")
    with eid.Online(pki.tsa, timeout=10) as net:
        eid.extend(tmp_path / "lta.pdf", tmp_path / "lta.pdf", "B-LTA", online=net)  # renewal, in place
    assert eid.verify(tmp_path / "lta.pdf", trust=[pki.root]).passed
    with pytest.raises(ValueError):
        eid.extend(tmp_path / "bt.pdf", tmp_path / "x.pdf", "B-LT")


def test_extend_detached_cades(p12_signer: eid.Signer, pki: Pki, txt: Path, tmp_path: Path) -> None:
    eid.sign_cades(p12_signer, txt, tmp_path / "s.p7s", level="B-T", tsa=pki.tsa)
    eid.extend(tmp_path / "s.p7s", tmp_path / "lt.p7s", "B-LT", tsa=pki.tsa, data=txt)
    check_report(eid.verify(tmp_path / "lt.p7s", trust=[pki.root], data=txt), "CAdES", "B-LT")


# ---- verdicts are not exceptions


def test_tampered_pdf_is_total_failed(p12_signer: eid.Signer, pki: Pki, pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.pdf"
    eid.sign_pdf(p12_signer, pdf, out)
    data = bytearray(out.read_bytes())
    i = data.find(b"Helvetica")
    data[i:i + 9] = b"Helvetixa"
    out.write_bytes(bytes(data))
    r = eid.verify(out, trust=[pki.root])
    assert r.indication == eid.TOTAL_FAILED and r.sub_indication == "HASH_FAILURE"
    assert r.signatures[0].errors and not r.passed


def test_untrusted_chain_is_indeterminate(p12_signer: eid.Signer, pki: Pki, txt: Path, tmp_path: Path) -> None:
    eid.sign_cades(p12_signer, txt, tmp_path / "s.p7s")
    r = eid.verify(tmp_path / "s.p7s", trust=[pki / "other-root.crt"], data=txt)
    assert r.indication == eid.INDETERMINATE
    assert r.signatures[0].sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    r = eid.verify(tmp_path / "s.p7s", data=txt)  # no anchors at all
    assert r.indication == eid.INDETERMINATE


def test_revoked_signer(hsm: str, pki: Pki, txt: Path, tmp_path: Path) -> None:
    with eid.Signer.pkcs11(hsm, token="libeid-test", key_id="07", pin=lambda r: "123456") as s:
        eid.sign_cades(s, txt, tmp_path / "r.p7s")
    r = eid.verify(tmp_path / "r.p7s", trust=[pki.root], data=txt, online=True)
    assert r.indication != eid.TOTAL_PASSED
    assert r.signatures[0].sub_indication in ("REVOKED", "REVOKED_NO_POE")


def test_missing_detached_data_is_an_exception(p12_signer: eid.Signer, pki: Pki, txt: Path, tmp_path: Path) -> None:
    eid.sign_cades(p12_signer, txt, tmp_path / "s.p7s")
    with pytest.raises(eid.EidError):
        eid.verify(tmp_path / "s.p7s", trust=[pki.root])


def test_report_model(token_signer: eid.Signer, pki: Pki, pdf: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    eid.sign_pdf(token_signer, pdf, out, level="B-T", tsa=pki.tsa)
    with eid.TrustStore([pki.root]) as trust:
        r = eid.verify(out, trust=trust, online=True, at=None)
    d = r.to_dict()
    assert json.loads(r.to_json()) == d
    assert d["indication"] == "TOTAL-PASSED" and d["file"] == str(out)
    s = d["signatures"][0]
    assert s["level"] == "PAdES-BASELINE-T" and s["signer"]["name"] == token_signer.name
    assert s["signature_timestamp"]["time"].endswith("Z") and s["chain"][-1].startswith("CN=libeid Test Root CA")
    assert r.signatures[0].signing_time == r.signatures[0].signature_timestamp.time  # type: ignore[union-attr]
    assert "TOTAL-PASSED" in r.text and str(r) == r.text


def test_verify_at_a_past_time(p12_signer: eid.Signer, pki: Pki, txt: Path, tmp_path: Path) -> None:
    import datetime as dt

    eid.sign_cades(p12_signer, txt, tmp_path / "s.p7s")
    when = dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc)
    r = eid.verify(tmp_path / "s.p7s", trust=[pki.root], data=txt, at=when)
    assert r.validation_time == when
    assert r.indication != eid.TOTAL_PASSED  # the certificates did not exist yet
