#!/usr/bin/env python3
"""A small signing and validation service over HTTP, on the standard library and libeid.

    POST /sign     body: a PDF          -> 200, the signed PDF (application/pdf)
                   query: level=B-B|B-T|B-LT|B-LTA (B-T and above need --tsa),
                          reason=..., location=...
    POST /verify   body: a signed file  -> 200, the validation report (application/json)
                   (PDF, XML, ASiC; a detached CAdES signature cannot be checked here)
    GET  /health                        -> 200, {"status": "ok", ...}

Errors are JSON, ``{"error": "...", "type": "...", "code": N}``, with an HTTP
status: 400 malformed request or input, 404, 405, 411 no Content-Length, 413
body over --max-bytes, 415 not a PDF, 502 a TSA/OCSP server failed, 503 the
token cannot sign now (PIN, token removed), 500 anything else.

The key: a PKCS#11 token (--module, --token, --key-id; the PIN is read from
the environment variable named by --pin-env, default EID_SERVICE_PIN, or
from --pin-file, each time the token asks) or a PKCS#12 file (--pkcs12; the
password from --pass-env, default EID_SERVICE_PASS, read once at start).

It listens on 127.0.0.1 by default; put it behind a reverse proxy with
authentication before exposing it: anyone who can reach it can sign.
Example::

    EID_SERVICE_PIN=123456 python3 service.py --module /usr/lib/softhsm/libsofthsm2.so \\
        --token my-token --trust root.pem --port 8080
    curl --data-binary @in.pdf -o signed.pdf http://127.0.0.1:8080/sign
    curl --data-binary @signed.pdf http://127.0.0.1:8080/verify
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qs, urlsplit

import eid

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


class ServiceError(Exception):
    """An error answered to the client with an HTTP status."""

    def __init__(self, status: int, message: str, type_: str = "RequestError", code: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code


def status_for(e: eid.EidError) -> int:
    """The HTTP status that tells a client what an EidError means for it."""
    if isinstance(e, (eid.FormatError, eid.SignatureFormatError, eid.InvalidArgument, eid.Unsupported)):
        return HTTPStatus.BAD_REQUEST
    if isinstance(e, eid.TooBig):
        return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    if isinstance(e, eid.NetworkError):
        return HTTPStatus.BAD_GATEWAY
    if isinstance(e, (eid.PinError, eid.Canceled, eid.TokenError, eid.TokenRemoved, eid.CardError)):
        return HTTPStatus.SERVICE_UNAVAILABLE
    return HTTPStatus.INTERNAL_SERVER_ERROR


class Service:
    """The configured signer, trust anchors and limits, shared by the request threads."""

    def __init__(self, signer: eid.Signer, trust: List[str], untrusted: List[str], tsa: Optional[str],
                 max_bytes: int, online_verify: bool, timeout: int) -> None:
        self.signer = signer
        self.trust = eid.TrustStore(trust, untrusted)
        self.tsa = tsa
        self.max_bytes = max_bytes
        self.online_verify = online_verify
        self.timeout = timeout
        self.workdir = tempfile.mkdtemp(prefix="eid-service-")
        self._sign_lock = threading.Lock()  # one signature at a time on the token

    def close(self) -> None:
        self.signer.close()
        self.trust.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def sign(self, body: bytes, query: Dict[str, List[str]]) -> bytes:
        if not body.startswith(b"%PDF-"):
            raise ServiceError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "the body is not a PDF", "NotAPdf")
        level = (query.get("level") or ["B-B"])[0].upper()
        if level not in LEVELS:
            raise ServiceError(HTTPStatus.BAD_REQUEST, "level is one of %s" % ", ".join(LEVELS))
        if level != "B-B" and not self.tsa:
            raise ServiceError(HTTPStatus.BAD_REQUEST, "this service has no TSA: only level B-B")
        d = tempfile.mkdtemp(dir=self.workdir)
        try:
            src, dst = os.path.join(d, "in.pdf"), os.path.join(d, "signed.pdf")
            with open(src, "wb") as f:
                f.write(body)
            with self._sign_lock:
                eid.sign_pdf(self.signer, src, dst, level=level, tsa=self.tsa if level != "B-B" else None,
                             timeout=self.timeout, reason=(query.get("reason") or [None])[0],
                             location=(query.get("location") or [None])[0])
            with open(dst, "rb") as f:
                return f.read()
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def verify(self, body: bytes) -> Dict[str, Any]:
        d = tempfile.mkdtemp(dir=self.workdir)
        try:
            path = os.path.join(d, "upload")
            with open(path, "wb") as f:
                f.write(body)
            report = eid.verify(path, trust=self.trust, online=self.online_verify, timeout=self.timeout)
            out = report.to_dict()
            out["file"] = None  # the temporary name means nothing to the client
            return out
        finally:
            shutil.rmtree(d, ignore_errors=True)


class Handler(BaseHTTPRequestHandler):
    """POST /sign, POST /verify, GET /health."""

    server_version = "eid-service/" + eid.__version__
    service: Service  # set on the class by make_server()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode(), "application/json")

    def _error(self, e: ServiceError) -> None:
        self._json(e.status, {"error": e.message, "type": e.type, "code": e.code})

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise ServiceError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
        length = self.headers.get("Content-Length")
        if length is None:
            raise ServiceError(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        try:
            n = int(length)
        except ValueError:
            raise ServiceError(HTTPStatus.BAD_REQUEST, "bad Content-Length") from None
        if n < 0:
            raise ServiceError(HTTPStatus.BAD_REQUEST, "bad Content-Length")
        if n > self.service.max_bytes:
            self.close_connection = True  # the body is not read
            raise ServiceError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               "the body is %d bytes; the limit is %d" % (n, self.service.max_bytes))
        if n == 0:
            raise ServiceError(HTTPStatus.BAD_REQUEST, "empty body")
        body = self.rfile.read(n)
        if len(body) != n:
            raise ServiceError(HTTPStatus.BAD_REQUEST, "the body ended early")
        return body

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = urlsplit(self.path).path
        if path == "/health":
            self._json(HTTPStatus.OK, {"status": "ok", "libeid": eid.version(), "signer": self.service.signer.name})
        elif path in ("/sign", "/verify"):
            self._error(ServiceError(HTTPStatus.METHOD_NOT_ALLOWED, "use POST"))
        else:
            self._error(ServiceError(HTTPStatus.NOT_FOUND, "no such endpoint: POST /sign, POST /verify"))

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        try:
            if url.path not in ("/sign", "/verify"):
                raise ServiceError(HTTPStatus.NOT_FOUND, "no such endpoint: POST /sign, POST /verify")
            body = self._body()
            if url.path == "/sign":
                signed = self.service.sign(body, parse_qs(url.query))
                self._send(HTTPStatus.OK, signed, "application/pdf")
            else:
                self._json(HTTPStatus.OK, self.service.verify(body))
        except ServiceError as e:
            self._error(e)
        except eid.EidError as e:
            self._error(ServiceError(status_for(e), e.message, type(e).__name__, e.code))
        except Exception as e:  # noqa: BLE001 - a request must get an answer
            self.log_message("internal error: %r", e)
            self._error(ServiceError(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error", "InternalError"))


def make_signer(args: argparse.Namespace) -> eid.Signer:
    """The signer from the command line (a PKCS#12 file, or a key on a PKCS#11 token)."""
    if args.pkcs12:
        pw = os.environb.get(args.pass_env.encode())
        if pw is None:
            raise SystemExit("service: set the PKCS#12 password in $%s" % args.pass_env)
        password = bytearray(pw)
        return eid.Signer.pkcs12(args.pkcs12, password)  # the bytearray is wiped after use
    pin = eid.pin_from_file(args.pin_file) if args.pin_file else eid.pin_from_env(args.pin_env)
    return eid.Signer.pkcs11(args.module, token=args.token, key_id=args.key_id, pin=pin)


def make_server(service: Service, host: str, port: int) -> ThreadingHTTPServer:
    """The HTTP server for @p service (not started)."""
    handler = type("BoundHandler", (Handler,), {"service": service})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Sign PDFs and verify signatures over HTTP with libeid.")
    p.add_argument("--host", default=os.environ.get("EID_SERVICE_HOST", "127.0.0.1"),
                   help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=int(os.environ.get("EID_SERVICE_PORT", "8080")),
                   help="port (0: any free port; the address is printed on stdout)")
    p.add_argument("--module", default=os.environ.get("EID_SERVICE_MODULE"), help="PKCS#11 module")
    p.add_argument("--token", default=os.environ.get("EID_SERVICE_TOKEN"), help="token label")
    p.add_argument("--key-id", default=os.environ.get("EID_SERVICE_KEY_ID"), help="key CKA_ID (hex)")
    p.add_argument("--pin-env", default="EID_SERVICE_PIN", help="environment variable holding the PIN")
    p.add_argument("--pin-file", help="file holding the PIN (first line)")
    p.add_argument("--pkcs12", default=os.environ.get("EID_SERVICE_PKCS12"), help="PKCS#12 file instead of a token")
    p.add_argument("--pass-env", default="EID_SERVICE_PASS", help="environment variable holding its password")
    p.add_argument("--trust", action="append", default=[], help="trust anchors (file or folder), repeatable")
    p.add_argument("--untrusted", action="append", default=[], help="intermediates (file or folder), repeatable")
    p.add_argument("--tsa", default=os.environ.get("EID_SERVICE_TSA"), help="TSA URL, for levels above B-B")
    p.add_argument("--online", action="store_true", help="ask OCSP responders when verifying")
    p.add_argument("--timeout", type=int, default=20, help="seconds for each exchange with a server")
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="largest request body accepted")
    a = p.parse_args(argv)
    if not a.pkcs12 and not a.module:
        p.error("give a PKCS#11 --module (with --token/--key-id) or a --pkcs12 file")
    if a.max_bytes <= 0:
        p.error("--max-bytes must be positive")
    return a


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        signer = make_signer(args)
        service = Service(signer, args.trust, args.untrusted, args.tsa, args.max_bytes, args.online, args.timeout)
    except eid.EidError as e:
        sys.stderr.write("service: %s\n" % e)
        return 1
    server = make_server(service, args.host, args.port)
    host, port = server.server_address[:2]
    print("listening on http://%s:%d/" % (host, port), flush=True)

    def stop(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
