"""Fixtures: a test PKI with its TSA/OCSP/CRL server on loopback, SoftHSM2 tokens, a PDF, emulated cards.

Everything is made by the project's own scripts (tests/pki, tests/softhsm,
tests/card, tests/pdf) in pytest's temporary folder, once per session.
Environment: EID_TEST_SRCDIR (the libeid source tree; default: two levels
above bindings/), EID_TEST_P11_MODULE or SOFTHSM2_MODULE (the SoftHSM2
module).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

import eid

SRCDIR = Path(os.environ.get("EID_TEST_SRCDIR") or Path(__file__).resolve().parents[3])
BINDINGS = Path(__file__).resolve().parents[1]
SOFTHSM = (os.environ.get("EID_TEST_P11_MODULE") or os.environ.get("SOFTHSM2_MODULE")
           or "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
SHELL_PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")  # for the project's helper scripts
PIN = "123456"
PKCS12_PASSWORD = "test"


def run(cmd: List[str], **kw: object) -> str:
    """Run a helper script; its output on failure goes into the test's failure message."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(map(str, cmd)), p.returncode, p.stdout, p.stderr))
    return p.stdout


def script(*parts: str) -> str:
    path = SRCDIR.joinpath(*parts)
    if not path.is_file():
        pytest.skip("the libeid source tree is not at %s (set EID_TEST_SRCDIR)" % SRCDIR)
    return str(path)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Pki:
    """The test PKI (tests/pki/make-pki.sh) and its loopback server."""

    dir: Path
    tsa: str
    base: str

    def __truediv__(self, name: str) -> Path:
        return self.dir / name

    @property
    def root(self) -> str:
        return str(self.dir / "root.crt")

    def key(self, name: str) -> "object":
        """A leaf's private key (cryptography object)."""
        serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
        return serialization.load_pem_private_key((self.dir / (name + ".key")).read_bytes(), None)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    base = tmp_path_factory.mktemp("pki")
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1"
    port = free_port()
    run(["bash", script("tests", "pki", "make-pki.sh"), str(base / "pki"), "http://127.0.0.1:%d" % port])
    env = dict(os.environ, EID_TEST_SERVERS_WATCH_PID=str(os.getpid()))
    out = run(["bash", script("tests", "pki", "servers.sh"), "start", str(base / "srv"), str(base / "pki")], env=env)
    vals = dict(line.split("=", 1) for line in out.split() if "=" in line)
    try:
        yield Pki(base / "pki", vals["EID_TEST_TSA_URL"], vals["EID_TEST_PKI_URL"])
    finally:
        subprocess.run(["bash", script("tests", "pki", "servers.sh"), "stop", str(base / "srv")], capture_output=True)


@pytest.fixture(scope="session")
def hsm_master(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not os.path.exists(SOFTHSM):
        pytest.skip("SoftHSM2 module not found at %s (set SOFTHSM2_MODULE)" % SOFTHSM)
    if shutil.which("softhsm2-util") is None or shutil.which("pkcs11-tool") is None:
        pytest.skip("softhsm2-util or pkcs11-tool not installed")
    d = tmp_path_factory.mktemp("hsm") / "hsm"
    run(["bash", script("tests", "softhsm", "make-token.sh"), str(pki.dir), str(d)],
        env=dict(os.environ, SOFTHSM2_MODULE=SOFTHSM))
    return d


@pytest.fixture()
def hsm(hsm_master: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> str:
    """A private copy of the tokens for one test (a wrong PIN changes a token's file); the module's path."""
    tmp_path = tmp_path_factory.mktemp("hsm-copy")
    tokens = tmp_path / "tokens"
    shutil.copytree(hsm_master / "tokens", tokens)
    conf = (hsm_master / "softhsm2.conf").read_text()
    conf = "\n".join("directories.tokendir = %s" % tokens if line.startswith("directories.tokendir") else line
                     for line in conf.splitlines())
    (tmp_path / "softhsm2.conf").write_text(conf + "\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(tmp_path / "softhsm2.conf"))
    return SOFTHSM


@pytest.fixture()
def token_signer(hsm: str) -> Iterator[eid.Signer]:
    """The RSA-2048 signature key of token libeid-test."""
    with eid.Signer.pkcs11(hsm, token="libeid-test", key_id="01", pin=lambda req: bytearray(PIN.encode())) as s:
        yield s


@pytest.fixture()
def p12_signer(pki: Pki) -> Iterator[eid.Signer]:
    """citizen-p256 from its PKCS#12 file."""
    with eid.Signer.pkcs12(pki / "citizen-p256.p12", PKCS12_PASSWORD) as s:
        yield s


@pytest.fixture(scope="session")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small two-page PDF (tests/pdf/pdfgen.py classic)."""
    out = tmp_path_factory.mktemp("pdf") / "in.pdf"
    run([SHELL_PYTHON, script("tests", "pdf", "pdfgen.py"), "classic", str(out)])
    return out


@pytest.fixture(scope="session")
def xml_doc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("xml") / "invoice.xml"
    out.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<invoice id="x1"><total currency="EUR">42.00</total>'
                   "<note>Øre — ünïcode</note></invoice>\n", encoding="utf-8")
    return out


@pytest.fixture()
def txt(tmp_path: Path) -> Path:
    p = tmp_path / "doc.txt"
    p.write_text("The quick brown fox jumps over the lazy dog.\n")
    return p


# ---------------------------------------------------------------------------------------------------
# Cards


def card_env_problem() -> Optional[str]:
    """Why the emulated cards cannot run here, or None."""
    if os.geteuid() != 0:
        return "emulated cards need root (unshare, mount namespaces for a private pcscd)"
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        return "emulated cards need unshare and nsenter (util-linux)"
    if shutil.which("pcscd") is None and not os.path.exists("/usr/sbin/pcscd"):
        return "emulated cards need pcscd (pcscd package)"
    if not os.path.exists("/etc/reader.conf.d/vpcd"):
        return "emulated cards need vsmartcard-vpcd (/etc/reader.conf.d/vpcd)"
    if subprocess.run([SHELL_PYTHON, "-c", "import cryptography"], capture_output=True).returncode != 0:
        return "emulated cards need %s with python3-cryptography" % SHELL_PYTHON
    return None


class Cards:
    """The emulated cards (tests/card/mkcards.sh) behind a private pcscd (tests/card/pcsc.sh)."""

    def __init__(self, cards: Path, pcsc: Path) -> None:
        self.cards = cards
        self.pcsc = pcsc
        self.current: Optional[str] = None

    def insert(self, name: str) -> None:
        """Put card @p name in reader 0 (removing the one there)."""
        sh = script("tests", "card", "pcsc.sh")
        subprocess.run(["bash", sh, "remove", str(self.pcsc), "0"], capture_output=True)
        run(["bash", sh, "insert", str(self.pcsc), str(self.cards / name), "0"])
        self.current = name

    def info(self, name: str) -> Dict[str, object]:
        return json.loads((self.cards / name / "info.json").read_text())

    def pin(self, name: str, which: str = "PIN") -> str:
        pins = self.info(name)["pins"]
        assert isinstance(pins, dict)
        return str(pins.get(which) or pins["PIN"])


@pytest.fixture(scope="session")
def cards(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cards]:
    why = card_env_problem()
    if why:
        pytest.skip(why)
    pki: Pki = request.getfixturevalue("pki")  # only when the cards can run
    base = tmp_path_factory.mktemp("cards")
    run(["bash", script("tests", "card", "mkcards.sh"), str(base / "cards"), str(pki.dir)])
    p = base / "p"
    out = run(["bash", script("tests", "card", "pcsc.sh"), "start", str(p)])
    # libpcsclite reads the socket's name once per process: set before any PC/SC call.
    for word in out.split():
        if word.startswith("PCSCLITE_CSOCK_NAME="):
            os.environ["PCSCLITE_CSOCK_NAME"] = word.split("=", 1)[1]
    try:
        yield Cards(base / "cards", p)
    finally:
        subprocess.run(["bash", script("tests", "card", "pcsc.sh"), "stop", str(p)], capture_output=True)
