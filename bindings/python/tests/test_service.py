"""examples/service.py on 127.0.0.1: sign and verify through HTTP, and its errors."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

import eid
from conftest import BINDINGS, PIN, Pki

SERVICE = BINDINGS / "examples" / "service.py"


class Service:
    def __init__(self, args: List[str], env: Dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, str(SERVICE), "--port", "0"] + args, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening on http://127.0.0.1:"):
            self.proc.kill()
            raise RuntimeError("service did not start: %r %s" % (line, self.proc.stderr.read()))  # type: ignore[union-attr]
        self.port = int(line.rsplit(":", 1)[1].strip("/\n"))

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def stop(self) -> str:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


@pytest.fixture()
def service(hsm: str, pki: Pki) -> Iterator[Service]:
    env = dict(os.environ, EID_SERVICE_PIN=PIN)
    s = Service(["--module", hsm, "--token", "libeid-test", "--key-id", "01", "--trust", pki.root,
                 "--tsa", pki.tsa, "--online", "--max-bytes", "200000"], env)
    try:
        yield s
    finally:
        s.stop()


def test_sign_and_verify_over_http(service: Service, pki: Pki, pdf: Path, tmp_path: Path) -> None:
    status, headers, health = service.request("GET", "/health")
    assert status == 200 and json.loads(health)["status"] == "ok"

    status, headers, signed = service.request("POST", "/sign?level=B-T&reason=HTTP", pdf.read_bytes(),
                                              {"Content-Type": "application/pdf"})
    assert status == 200, signed
    assert headers["Content-Type"] == "application/pdf" and signed.startswith(pdf.read_bytes())
    (tmp_path / "signed.pdf").write_bytes(signed)
    local = eid.verify(tmp_path / "signed.pdf", trust=[pki.root], online=True)
    assert local.passed and local.signatures[0].level == "PAdES-BASELINE-T"

    status, headers, body = service.request("POST", "/verify", signed)
    assert status == 200 and headers["Content-Type"] == "application/json"
    report = json.loads(body)
    assert report["indication"] == "TOTAL-PASSED"
    assert report["signatures"][0]["signer"]["name"].startswith("Jérôme")
    assert report["signatures"][0]["level"] == "PAdES-BASELINE-T"

    status, _, body = service.request("POST", "/sign?level=B-LTA", pdf.read_bytes())
    assert status == 200
    status, _, body = service.request("POST", "/verify", body)
    assert json.loads(body)["signatures"][0]["level"] == "PAdES-BASELINE-LTA"


def test_tampered_upload_is_a_verdict(service: Service, pdf: Path) -> None:
    _, _, signed = service.request("POST", "/sign", pdf.read_bytes())
    bad = signed.replace(b"Helvetica", b"Helvetixa", 1)
    status, _, body = service.request("POST", "/verify", bad)
    assert status == 200 and json.loads(body)["indication"] == "TOTAL-FAILED"


@pytest.mark.parametrize("method,path,body,headers,want,type_", [
    ("POST", "/sign", b"hello, not a PDF", {}, 415, "NotAPdf"),
    ("POST", "/verify", b"garbage" * 20, {}, 400, None),
    ("POST", "/sign?level=B-Q", b"%PDF-1.4\n", {}, 400, "RequestError"),
    ("POST", "/nowhere", b"x", {}, 404, "RequestError"),
    ("GET", "/sign", None, {}, 405, "RequestError"),
    ("POST", "/sign", b"", {}, 400, "RequestError"),
    ("POST", "/sign", b"%PDF-1.7\nbroken", {}, 400, "FormatError"),
], ids=["not-pdf", "verify-garbage", "bad-level", "no-endpoint", "get", "empty", "broken-pdf"])
def test_errors_are_json(service: Service, method: str, path: str, body: Optional[bytes], headers: Dict[str, str],
                         want: int, type_: Optional[str]) -> None:
    status, h, out = service.request(method, path, body, headers)
    assert status == want, out
    assert h["Content-Type"] == "application/json"
    err = json.loads(out)
    assert err["error"]
    if type_ is not None:
        assert err["type"] == type_


def test_too_big_is_refused_before_reading(service: Service) -> None:
    c = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    c.putrequest("POST", "/sign")
    c.putheader("Content-Length", "300000")
    c.endheaders()  # no body sent: the answer comes from the header alone
    r = c.getresponse()
    assert r.status == 413 and "limit" in json.loads(r.read())["error"]
    c.close()


def test_length_required(service: Service) -> None:
    c = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    c.putrequest("POST", "/sign")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    c.send(b"5\r\n%PDF-\r\n0\r\n\r\n")
    r = c.getresponse()
    assert r.status == 411 and json.loads(r.read())["error"]
    c.close()


def test_wrong_pin_is_503(hsm: str, pki: Pki, pdf: Path) -> None:
    s = Service(["--module", hsm, "--token", "libeid-test", "--key-id", "01"], dict(os.environ, EID_SERVICE_PIN="000000"))
    try:
        status, _, body = s.request("POST", "/sign", pdf.read_bytes())
        assert status == 503 and json.loads(body)["type"] == "PinWrong"
    finally:
        s.stop()


def test_pkcs12_service(pki: Pki, pdf: Path, tmp_path: Path) -> None:
    s = Service(["--pkcs12", str(pki / "citizen-p256.p12"), "--trust", pki.root],
                dict(os.environ, EID_SERVICE_PASS="test"))
    try:
        status, _, signed = s.request("POST", "/sign", pdf.read_bytes())
        assert status == 200
        status, _, body = s.request("POST", "/sign?level=B-T", pdf.read_bytes())
        assert status == 400 and "TSA" in json.loads(body)["error"]
    finally:
        err = s.stop()
    assert "Traceback" not in err
    (tmp_path / "p12.pdf").write_bytes(signed)
    assert eid.verify(tmp_path / "p12.pdf", trust=[pki.root], online=True).passed


def test_binds_loopback_by_default() -> None:
    sys.path.insert(0, str(SERVICE.parent))
    try:
        import service as svc  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    args = svc.parse_args(["--pkcs12", "x.p12"])
    assert args.host == "127.0.0.1" and args.max_bytes == svc.DEFAULT_MAX_BYTES
