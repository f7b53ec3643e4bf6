#!/usr/bin/python3
"""servers.py PKI_DIR --port N [--log FILE] [--workdir DIR] [--slow SECONDS]
                   [--watch-pid PID] [--max-time SECONDS]

RFC 3161 time-stamping authority, OCSP responder (RFC 6960, POST and GET)
and CRL/certificate download service for a test PKI made by make-pki.sh,
in one threaded HTTP server bound to 127.0.0.1 only.  The answers are made
by the openssl command (`openssl ts -reply`, `openssl ocsp -index`,
`openssl ca -gencrl`/`-revoke`); this file is only the HTTP front end, the
dispatch between CAs, and the deliberately broken answers that tests need.
See README.md next to this file for the endpoints.

Prints the port it listens on (one line, also when N is given) on stdout
once it accepts connections; --port 0 picks a free port.  SIGTERM or SIGINT
stops it.  Standard library plus `cryptography`; run it with
/usr/bin/python3.
"""

import argparse
import base64
import hashlib
import http.server
import os
import re
import secrets
import shutil
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

TSA_POLICY = "1.3.6.1.4.1.99999.2.1"
TSA_OTHER_POLICY = "1.3.6.1.4.1.99999.2.2"
MAX_BODY = 1 << 20
OPENSSL = os.environ.get("OPENSSL", "openssl")

TSA_MODES = ("slow", "garbage", "http500", "wrong-imprint", "bad-nonce",
             "expired", "no-eku")
OCSP_MODES = ("slow", "garbage", "http500", "other-cert", "unauthorized",
              "not-delegated", "tryLater", "bad-nonce")
REVOKE_REASONS = ("unspecified", "keyCompromise", "CACompromise",
                  "affiliationChanged", "superseded", "cessationOfOperation",
                  "certificateHold", "removeFromCRL")

# OCSPResponse with only a responseStatus (RFC 6960 4.2.1).
OCSP_MALFORMED = bytes.fromhex("30030a0101")
OCSP_INTERNAL_ERROR = bytes.fromhex("30030a0102")
OCSP_TRY_LATER = bytes.fromhex("30030a0103")


# ---------------------------------------------------------------------------
# Minimal DER: enough to read and rewrite requests and tokens.
# ---------------------------------------------------------------------------
class Node:
    """A DER TLV: tag bytes, and either children (constructed) or a value."""

    __slots__ = ("tag", "kids", "val")

    def __init__(self, tag, kids=None, val=b""):
        self.tag = bytes([tag]) if isinstance(tag, int) else tag
        self.kids = kids
        self.val = val

    @property
    def constructed(self):
        return bool(self.tag[0] & 0x20)

    def encode(self):
        body = b"".join(k.encode() for k in self.kids) if self.kids is not None else self.val
        return self.tag + der_len(len(body)) + body


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der_parse(data, off=0, end=None):
    """Parse one TLV at data[off:]; return (Node, offset after it)."""
    if end is None:
        end = len(data)
    if off + 2 > end:
        raise ValueError("truncated DER")
    start = off
    first = data[off]
    off += 1
    if first & 0x1F == 0x1F:  # high tag number
        while True:
            if off >= end:
                raise ValueError("truncated tag")
            off += 1
            if not data[off - 1] & 0x80:
                break
    tag = bytes(data[start:off])
    if off >= end:
        raise ValueError("truncated length")
    ln = data[off]
    off += 1
    if ln == 0x80:
        raise ValueError("indefinite length (not DER)")
    if ln & 0x80:
        n = ln & 0x7F
        if n > 4 or off + n > end:
            raise ValueError("bad length")
        ln = int.from_bytes(data[off:off + n], "big")
        off += n
    if off + ln > end:
        raise ValueError("truncated value")
    vend = off + ln
    if first & 0x20:
        kids = []
        p = off
        while p < vend:
            k, p = der_parse(data, p, vend)
            kids.append(k)
        return Node(tag, kids), vend
    return Node(tag, None, bytes(data[off:vend])), vend


def der_decode(data):
    node, end = der_parse(data)
    if end != len(data):
        raise ValueError("trailing bytes after DER")
    return node


def oid_bytes(dotted):
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray()
    for i, v in enumerate([parts[0] * 40 + parts[1]] + parts[2:]):
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7F))
            v >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def int_node(n):
    return Node(0x02, None, n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True))


def oct_node(b):
    return Node(0x04, None, b)


def seq(*kids):
    return Node(0x30, list(kids))


OID_SHA1 = oid_bytes("1.3.14.3.2.26")
HASH_BY_OID = {
    OID_SHA1: "sha1",
    oid_bytes("2.16.840.1.101.3.4.2.1"): "sha256",
    oid_bytes("2.16.840.1.101.3.4.2.2"): "sha384",
    oid_bytes("2.16.840.1.101.3.4.2.3"): "sha512",
    oid_bytes("2.16.840.1.101.3.4.2.4"): "sha224",
}
OID_OCSP_NONCE = oid_bytes("1.3.6.1.5.5.7.48.1.2")
OID_MESSAGE_DIGEST = oid_bytes("1.2.840.113549.1.9.4")
OID_ESS_CERT_V1 = oid_bytes("1.2.840.113549.1.9.16.2.12")
OID_ESS_CERT_V2 = oid_bytes("1.2.840.113549.1.9.16.2.47")


# ---------------------------------------------------------------------------
# The PKI
# ---------------------------------------------------------------------------
def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


class CA:
    """One CA of the PKI: its certificate, `openssl ca` database and the
    certificate and key that sign OCSP responses for it."""

    def __init__(self, pki, name, cert, cadir, rsigner, rkey):
        self.name = name
        self.cert_path = os.path.join(pki, cert + ".crt")
        self.cadir = os.path.join(pki, cadir)
        self.cnf = os.path.join(self.cadir, "ca.cnf")
        self.index = os.path.join(self.cadir, "index.txt")
        self.rsigner = os.path.join(pki, rsigner + ".crt")
        self.rkey = os.path.join(pki, rkey + ".key")
        self.cert = load_cert(self.cert_path)
        self.cert_der = self.cert.public_bytes(serialization.Encoding.DER)
        self.subject_der = self.cert.subject.public_bytes()
        spki = der_decode(self.cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
        self.key_bits = spki.kids[1].val[1:]
        self.crl_der = None
        self.crl_src = None  # index.txt content the CRL was made from

    def matches(self, hash_name, name_hash, key_hash):
        return (hashlib.new(hash_name, self.subject_der).digest() == name_hash and
                hashlib.new(hash_name, self.key_bits).digest() == key_hash)

    def index_entries(self):
        """[(status, serial_hex, revocation_field)] from index.txt."""
        out = []
        with open(self.index, encoding="utf-8", errors="replace") as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) >= 4:
                    out.append((p[0], p[3].upper(), p[2]))
        return out


class PKI:
    def __init__(self, pki_dir, workdir, slow):
        self.dir = pki_dir
        self.work = workdir
        self.slow = slow
        p = lambda n: os.path.join(pki_dir, n)
        for f in ("root.crt", "int.crt", "int.der", "root.der", "chain.pem", "tsa.crt",
                  "tsa.key", "ocsp.crt", "ocsp.key", "int-ca/index.txt", "root-ca/index.txt"):
            if not os.path.exists(p(f)):
                raise SystemExit("servers.py: %s is not a make-pki.sh PKI (no %s)" % (pki_dir, f))
        self.cas = {
            "int": CA(pki_dir, "int", "int", "int-ca", "ocsp", "ocsp"),
            "root": CA(pki_dir, "root", "root", "root-ca", "root", "root"),
        }
        if os.path.exists(p("other-ca/index.txt")):
            self.cas["other-root"] = CA(pki_dir, "other-root", "other-root", "other-ca",
                                        "other-root", "other-root")
        self.ca_lock = threading.Lock()   # CA databases: ocsp, ca -revoke, ca -gencrl
        self.tsa_lock = threading.Lock()  # the TSA serial file
        with open(p("int.der"), "rb") as f:
            self.int_der = f.read()
        with open(p("root.der"), "rb") as f:
            self.root_der = f.read()
        self.have_expired_tsa = os.path.exists(p("tsa-expired.crt"))
        self.have_noeku_tsa = os.path.exists(p("tsa-noeku.crt"))
        self.write_tsa_config()
        for name in ("int", "root"):
            self.crl(name, force=True)

    # --- TSA -----------------------------------------------------------------
    def write_tsa_config(self):
        serial = os.path.join(self.work, "tsaserial")
        with open(serial, "w") as f:
            # A random positive 64-bit start; openssl increments it.
            f.write("%016X\n" % (secrets.randbits(62) | (1 << 62)))
        sections = [("tsa_main", "tsa")]
        if self.have_expired_tsa:
            sections.append(("tsa_expired", "tsa-expired"))
        cnf = ["# Written by servers.py", "[ tsa ]", "default_tsa = tsa_main", ""]
        for sect, cert in sections:
            cnf += [
                "[ %s ]" % sect,
                "dir = %s" % self.work,
                "serial = $dir/tsaserial",
                "crypto_device = builtin",
                "signer_cert = %s" % os.path.join(self.dir, cert + ".crt"),
                "signer_key = %s" % os.path.join(self.dir, cert + ".key"),
                "signer_digest = sha256",
                "default_policy = %s" % TSA_POLICY,
                "other_policies = %s" % TSA_OTHER_POLICY,
                "digests = sha256, sha384, sha512",
                "accuracy = secs:1",
                "clock_precision_digits = 3",
                "ordering = no",
                "tsa_name = yes",
                "ess_cert_id_chain = no",
                "ess_cert_id_alg = sha256",
                "",
            ]
        self.tsa_cnf = os.path.join(self.work, "tsa.cnf")
        with open(self.tsa_cnf, "w") as f:
            f.write("\n".join(cnf))

    def tsa_reply(self, query, section="tsa_main"):
        with self.tsa_lock, tempfile.TemporaryDirectory(dir=self.work) as t:
            q = os.path.join(t, "q.tsq")
            r = os.path.join(t, "r.tsr")
            with open(q, "wb") as f:
                f.write(query)
            run([OPENSSL, "ts", "-reply", "-config", self.tsa_cnf, "-section", section,
                 "-queryfile", q, "-chain", os.path.join(self.dir, "chain.pem"), "-out", r])
            with open(r, "rb") as f:
                return f.read()

    # --- OCSP ----------------------------------------------------------------
    def ocsp_ca(self, req):
        """The CA that the first CertID of a parsed OCSPRequest names; the
        intermediate when none matches (openssl then answers "unknown")."""
        try:
            cid = ocsp_request_list(req)[0].kids[0]
            hname = HASH_BY_OID.get(cid.kids[0].kids[0].val)
            if hname:
                for ca in self.cas.values():
                    if ca.matches(hname, cid.kids[1].val, cid.kids[2].val):
                        return ca
        except (IndexError, TypeError):
            pass
        return self.cas["int"]

    def ocsp_reply(self, request, ca, rsigner=None, rkey=None):
        with self.ca_lock, tempfile.TemporaryDirectory(dir=self.work) as t:
            q = os.path.join(t, "q.der")
            r = os.path.join(t, "r.der")
            with open(q, "wb") as f:
                f.write(request)
            run([OPENSSL, "ocsp", "-index", ca.index, "-CA", ca.cert_path,
                 "-rsigner", rsigner or ca.rsigner, "-rkey", rkey or ca.rkey,
                 "-rmd", "sha256", "-reqin", q, "-respout", r, "-nmin", "60"])
            with open(r, "rb") as f:
                return f.read()

    # --- CRLs and revocation -------------------------------------------------
    def crl(self, name, force=False):
        """DER CRL of CA `name`, regenerated when its index.txt changed."""
        ca = self.cas[name]
        with self.ca_lock:
            with open(ca.index, "rb") as f:
                src = f.read()
            if force or ca.crl_der is None or src != ca.crl_src:
                self._gencrl(ca)
                ca.crl_src = src
            return ca.crl_der

    def _gencrl(self, ca):
        out = os.path.join(self.work, ca.name + ".crl.pem")
        run([OPENSSL, "ca", "-config", ca.cnf, "-batch", "-gencrl", "-crldays", "7",
             "-md", "sha256", "-out", out])
        with open(out, "rb") as f:
            pem = f.read()
        ca.crl_der = x509.load_pem_x509_crl(pem).public_bytes(serialization.Encoding.DER)

    def gencrl_all(self):
        for name in ("int", "root"):
            self.crl(name, force=True)

    def revoke(self, name, reason):
        path = os.path.join(self.dir, name + ".crt")
        cert = load_cert(path)
        issuer = cert.issuer.public_bytes()
        ca = next((c for c in self.cas.values() if c.subject_der == issuer), None)
        if ca is None:
            raise LookupError("no CA database for the issuer of %s" % name)
        serial = "%X" % cert.serial_number
        with self.ca_lock:
            for st, s, _ in ca.index_entries():
                if s.lstrip("0") == serial and st == "R":
                    raise FileExistsError("%s (serial %s) is already revoked" % (name, serial))
            cmd = [OPENSSL, "ca", "-config", ca.cnf, "-batch", "-revoke", path]
            if reason:
                cmd += ["-crl_reason", reason]
            run(cmd)
            revfield = next((rf for st, s, rf in ca.index_entries()
                             if s.lstrip("0") == serial), "")
            with open(ca.index, "rb") as f:
                ca.crl_src = f.read()
            self._gencrl(ca)
        return ca.name, serial, revfield


class CommandError(Exception):
    pass


def run(cmd):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise CommandError("%s failed (exit %d): %s" % (
            " ".join(cmd[:3]), p.returncode,
            (p.stderr or p.stdout).decode("utf-8", "replace").strip()))
    return p


# ---------------------------------------------------------------------------
# Rewriting requests and tokens for the failure modes
# ---------------------------------------------------------------------------
def tsq_other_imprint(query):
    """The same TimeStampReq with another hashedMessage of the same size."""
    req = der_decode(query)
    hm = req.kids[1].kids[1]
    hm.val = hashlib.sha512(b"libeid wrong imprint" + hm.val).digest()[:len(hm.val)]
    return req.encode()


def tsq_other_nonce(query):
    """The same TimeStampReq with nonce+1, or with a nonce when it had none."""
    req = der_decode(query)
    for k in req.kids[2:]:
        if k.tag == b"\x02":
            n = int.from_bytes(k.val, "big", signed=True)
            k.val = int_node(n + 1 if n >= 0 else 1).val
            return req.encode()
    pos = 3 if len(req.kids) > 2 and req.kids[2].tag == b"\x06" else 2
    req.kids.insert(pos, int_node(secrets.randbits(63) | (1 << 62)))
    return req.encode()


def resign_token(reply, old_signer_der, cert_path, key_path):
    """Re-sign the TimeStampToken in a TimeStampResp with another certificate
    and key.  The TSTInfo stays the same except its `tsa` name, which now
    names the new certificate's subject; the signer identifier, the
    messageDigest, the ESS signing-certificate(-v2) hash and the certificate
    in the token's certificate set follow the new certificate."""
    with open(cert_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(key_path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    issuer = der_decode(cert.issuer.public_bytes())
    subject = der_decode(cert.subject.public_bytes())
    serial = int_node(cert.serial_number)

    resp = der_decode(reply)
    if len(resp.kids) < 2:
        return reply  # a rejection: nothing to re-sign
    sd = resp.kids[1].kids[1].kids[0]
    for k in sd.kids:
        if k.tag == b"\xa0":  # certificates
            k.kids = [der_decode(cert_der) if c.encode() == old_signer_der else c
                      for c in k.kids]
    si = sd.kids[-1].kids[0]
    si.kids[1] = seq(issuer, serial)  # sid: issuerAndSerialNumber
    econtent = sd.kids[2].kids[1].kids[0]
    tst = der_decode(econtent.val)
    for i, k in enumerate(tst.kids):
        if k.tag == b"\xa0":  # tsa [0] GeneralName: directoryName
            tst.kids[i] = Node(0xA0, [Node(0xA4, [subject])])
    econtent.val = tst.encode()
    md_name = HASH_BY_OID[si.kids[2].kids[0].val]
    attrs = next(k for k in si.kids if k.tag == b"\xa0")
    for a in attrs.kids:
        oid = a.kids[0].val
        if oid == OID_MESSAGE_DIGEST:
            a.kids[1].kids[0] = oct_node(hashlib.new(md_name, econtent.val).digest())
        if oid not in (OID_ESS_CERT_V1, OID_ESS_CERT_V2):
            continue
        cid = a.kids[1].kids[0].kids[0].kids[0]  # SET / SigningCertificate / certs / first
        i = 0
        hname = "sha1" if oid == OID_ESS_CERT_V1 else "sha256"
        if cid.kids[0].tag == b"\x30":  # ESSCertIDv2 hashAlgorithm present
            hname = HASH_BY_OID[cid.kids[0].kids[0].val]
            i = 1
        cid.kids[i] = oct_node(hashlib.new(hname, cert_der).digest())
        if len(cid.kids) > i + 1:  # issuerSerial
            cid.kids[i + 1] = seq(seq(Node(0xA4, [issuer])), serial)
    attrs.kids.sort(key=lambda a: a.encode())
    tbs = Node(0x31, attrs.kids).encode()
    if isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        sig = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
        si.kids[4] = seq(Node(0x06, None, oid_bytes("1.2.840.10045.4.3.2")))
    else:
        raise ValueError("unsupported key type")
    si.kids[5] = oct_node(sig)
    return resp.encode()


def ocsp_request_list(req):
    tbs = req.kids[0]
    return next(k for k in tbs.kids if k.tag == b"\x30").kids


def ocsp_other_cert(req, ca, chosen=None):
    """Ask about another certificate of the same CA instead (a valid serial
    from its database that the request did not name)."""
    reqs = ocsp_request_list(req)
    asked = {int.from_bytes(r.kids[0].kids[3].val, "big") for r in reqs}
    for st, s, _ in ca.index_entries():
        n = int(s, 16)
        if st == "V" and n not in asked:
            chosen = n
            break
    if chosen is None:
        chosen = max(asked) + 1
    for r in reqs:
        r.kids[0].kids[3] = int_node(chosen)
    return req.encode()


def ocsp_other_nonce(req):
    """Change the nonce (last byte), or add one when there is none."""
    tbs = req.kids[0]
    ext_wrap = next((k for k in tbs.kids if k.tag == b"\xa2"), None)
    if ext_wrap is not None:
        for ext in ext_wrap.kids[0].kids:
            if ext.kids[0].val == OID_OCSP_NONCE:
                v = bytearray(ext.kids[-1].val)
                v[-1] ^= 0x5A
                ext.kids[-1].val = bytes(v)
                return req.encode()
    nonce = seq(Node(0x06, None, OID_OCSP_NONCE),
                oct_node(oct_node(secrets.token_bytes(16)).encode()))
    if ext_wrap is None:
        tbs.kids.append(Node(0xA2, [seq(nonce)]))
    else:
        ext_wrap.kids[0].kids.append(nonce)
    return req.encode()


def garbage():
    data = bytearray(secrets.token_bytes(256 + secrets.randbelow(768)))
    if data[0] == 0x30:  # never a DER SEQUENCE
        data[0] = 0xFF
    return bytes(data)


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "libeid-test-pki/1"
    timeout = 60  # idle keep-alive connections

    # Silence the default stderr access log; we write our own.
    def log_message(self, fmt, *args):
        pass

    @property
    def pki(self):
        return self.server.pki

    def _log(self, status, length, note=""):
        ms = (time.monotonic() - self._t0) * 1000
        path = self.path if len(self.path) <= 200 else self.path[:200] + "..."
        t = time.time()
        line = "%s.%03dZ %s %s %d %.1fms %dB%s\n" % (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)), int(t * 1000) % 1000,
            self.command, path, status, ms, length, (" " + note) if note else "")
        self.server.log(line)

    def send(self, status, body, ctype="application/octet-stream", note=""):
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            note = (note + " client-gone").strip()
            self.close_connection = True
        self._log(status, len(body), note)

    def text(self, status, msg, note=""):
        self.send(status, (msg.rstrip("\n") + "\n").encode(), "text/plain; charset=utf-8", note)

    def read_body(self, want_type):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self.text(411, "send a Content-Length, not Transfer-Encoding")
            return None
        try:
            # No Content-Length and no Transfer-Encoding: no body (RFC 9112 6.3).
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            self.close_connection = True
            self.text(400, "bad Content-Length")
            return None
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            self.text(413, "request too large")
            return None
        body = self.rfile.read(n)
        if len(body) != n:
            self.close_connection = True
            return None
        if want_type and ctype != want_type:
            self.text(415, "Content-Type must be %s, not %r" % (want_type, ctype))
            return None
        return body

    def setup(self):
        super().setup()
        self._t0 = time.monotonic()

    def handle_one_request(self):
        self._t0 = time.monotonic()
        super().handle_one_request()

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        try:
            if path in ("/", "/health"):
                return self.index()
            if path == "/tsa" or path.startswith("/tsa/"):
                return self.do_tsa(path[4:].strip("/"))
            if path == "/ocsp" or path.startswith("/ocsp/"):
                return self.do_ocsp(path[5:].lstrip("/"))
            if path in ("/int.crl", "/root.crl"):
                if self.command not in ("GET", "HEAD"):
                    return self.text(405, "use GET")
                return self.send(200, self.pki.crl(path[1:-4]), "application/pkix-crl")
            if path in ("/int.crt", "/root.crt"):
                if self.command not in ("GET", "HEAD"):
                    return self.text(405, "use GET")
                der = self.pki.int_der if path == "/int.crt" else self.pki.root_der
                return self.send(200, der, "application/pkix-cert")
            if path.startswith("/admin/"):
                return self.do_admin(path[7:], urllib.parse.parse_qs(url.query))
            return self.text(404, "no such endpoint: %s" % path)
        except CommandError as e:
            sys.stderr.write("servers.py: %s\n" % e)
            sys.stderr.flush()
            return self.text(500, str(e), "openssl-error")

    do_GET = do_POST = do_HEAD = dispatch

    def index(self):
        self.text(200, "libeid test PKI server for %s\n"
                  "POST /tsa[/%s]\nPOST /ocsp[/%s], GET /ocsp/[MODE/]BASE64\n"
                  "GET /int.crl /root.crl /int.crt /root.crt\n"
                  "POST /admin/revoke?cert=NAME[&reason=R], POST /admin/gencrl, POST /admin/ocsp-mode?mode=[MODE]\n"
                  % (self.pki.dir, "|".join(TSA_MODES), "|".join(OCSP_MODES)))

    # --- /tsa ----------------------------------------------------------------
    def do_tsa(self, mode):
        if mode and mode not in TSA_MODES:
            return self.text(404, "unknown TSA mode %r (have: %s)" % (mode, ", ".join(TSA_MODES)))
        if self.command != "POST":
            return self.text(405, "POST an application/timestamp-query")
        query = self.read_body("application/timestamp-query")
        if query is None:
            return
        ctype = "application/timestamp-reply"
        if mode == "slow":
            time.sleep(self.pki.slow)
        elif mode == "http500":
            return self.text(500, "Internal Server Error (deliberate: /tsa/http500)", mode)
        elif mode == "garbage":
            return self.send(200, garbage(), ctype, mode)
        try:
            if mode == "wrong-imprint":
                reply = self.pki.tsa_reply(tsq_other_imprint(query))
            elif mode == "bad-nonce":
                reply = self.pki.tsa_reply(tsq_other_nonce(query))
            elif mode == "expired":
                if not self.pki.have_expired_tsa:
                    return self.text(501, "this PKI has no tsa-expired certificate")
                reply = self.pki.tsa_reply(query, "tsa_expired")
            elif mode == "no-eku":
                if not self.pki.have_noeku_tsa:
                    return self.text(501, "this PKI has no tsa-noeku certificate")
                with open(os.path.join(self.pki.dir, "tsa.der"), "rb") as f:
                    old = f.read()
                reply = resign_token(self.pki.tsa_reply(query), old,
                                     os.path.join(self.pki.dir, "tsa-noeku.crt"),
                                     os.path.join(self.pki.dir, "tsa-noeku.key"))
            else:
                reply = self.pki.tsa_reply(query)
        except (ValueError, IndexError, AttributeError, TypeError) as e:
            # Only the rewriting modes parse the query themselves.
            return self.text(400, "cannot parse the TimeStampReq: %s" % e, mode)
        self.send(200, reply, ctype, mode)

    # --- /ocsp ---------------------------------------------------------------
    def do_ocsp(self, rest):
        mode = ""
        first = rest.split("/", 1)[0]
        if first in OCSP_MODES:
            mode = first
            rest = rest[len(first):].lstrip("/")
        elif getattr(self.server, "ocsp_mode", ""):
            # a fault for every /ocsp request, set with /admin/ocsp-mode (the URL in
            # the certificates' AIA stays /ocsp)
            mode = self.server.ocsp_mode
        if self.command == "POST":
            if rest:
                return self.text(404, "POST to /ocsp or /ocsp/MODE (have: %s)" % ", ".join(OCSP_MODES))
            request = self.read_body("application/ocsp-request")
            if request is None:
                return
        elif self.command in ("GET", "HEAD"):
            if not rest:
                return self.text(404 if first and not mode else 400,
                                 "GET /ocsp/[MODE/]BASE64-OCSPRequest (modes: %s)"
                                 % ", ".join(OCSP_MODES))
            b64 = urllib.parse.unquote(rest)
            try:
                request = base64.b64decode(b64 + "=" * (-len(b64) % 4), validate=False)
            except ValueError:
                request = b""
        else:
            return self.text(405, "use POST or GET")
        ctype = "application/ocsp-response"
        if mode == "slow":
            time.sleep(self.pki.slow)
        elif mode == "http500":
            return self.text(500, "Internal Server Error (deliberate: /ocsp/http500)", mode)
        elif mode == "garbage":
            return self.send(200, garbage(), ctype, mode)
        elif mode == "tryLater":
            return self.send(200, OCSP_TRY_LATER, ctype, mode)
        try:
            req = der_decode(request)
            ocsp_request_list(req)[0].kids[0].kids[3]  # noqa: B018 (shape check)
        except (ValueError, IndexError, AttributeError, TypeError, StopIteration):
            return self.send(200, OCSP_MALFORMED, ctype, (mode + " malformedRequest").strip())
        ca = self.pki.ocsp_ca(req)
        note = ("%s ca=%s" % (mode, ca.name)).strip()
        rsigner = rkey = None
        if mode == "other-cert":
            request = ocsp_other_cert(req, ca)
        elif mode == "bad-nonce":
            request = ocsp_other_nonce(req)
        elif mode in ("unauthorized", "not-delegated"):
            # unauthorized: other-root's leaf (no chain to the PKI's root);
            # not-delegated: a valid leaf of the intermediate without the
            # OCSPSigning extended key usage.
            who = "other-citizen" if mode == "unauthorized" else "auth-rsa2048"
            rsigner = os.path.join(self.pki.dir, who + ".crt")
            rkey = os.path.join(self.pki.dir, who + ".key")
            if not os.path.exists(rsigner):
                return self.text(501, "this PKI has no %s certificate" % who)
        try:
            resp = self.pki.ocsp_reply(request, ca, rsigner, rkey)
        except CommandError as e:
            sys.stderr.write("servers.py: %s\n" % e)
            sys.stderr.flush()
            return self.send(200, OCSP_INTERNAL_ERROR, ctype, note + " internalError")
        self.send(200, resp, ctype, note)

    # --- /admin --------------------------------------------------------------
    def do_admin(self, what, q):
        if self.command != "POST":
            return self.text(405, "use POST")
        if self.read_body(None) is None:
            return
        if what == "gencrl":
            self.pki.gencrl_all()
            return self.text(200, "CRLs regenerated")
        if what == "ocsp-mode":
            mode = (q.get("mode") or [""])[0]
            if mode and mode not in OCSP_MODES:
                return self.text(400, "mode must be empty or one of %s" % ", ".join(OCSP_MODES))
            self.server.ocsp_mode = mode
            return self.text(200, "OCSP mode: %s\n" % (mode or "normal"))
        if what == "revoke":
            name = (q.get("cert") or [""])[0]
            reason = (q.get("reason") or [""])[0]
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) or \
                    not os.path.isfile(os.path.join(self.pki.dir, name + ".crt")):
                return self.text(400, "cert=NAME must name PKI_DIR/NAME.crt")
            if reason and reason not in REVOKE_REASONS:
                return self.text(400, "reason must be one of %s" % ", ".join(REVOKE_REASONS))
            try:
                ca, serial, rev = self.pki.revoke(name, reason)
            except FileExistsError as e:
                return self.text(409, str(e))
            except LookupError as e:
                return self.text(400, str(e))
            return self.text(200, "revoked %s\nca %s\nserial %s\nrevoked-at %s\n"
                             % (name, ca, serial, rev), "revoke " + name)
        return self.text(404, "no such admin endpoint")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("pki_dir")
    ap.add_argument("--port", type=int, required=True, help="0: pick a free port")
    ap.add_argument("--log", help="access log (default: stderr)")
    ap.add_argument("--workdir", help="private files (default: a temporary directory, removed on exit)")
    ap.add_argument("--slow", type=float, default=10.0, help="delay of the /slow modes (s)")
    ap.add_argument("--watch-pid", type=int, help="exit when this process is gone")
    ap.add_argument("--max-time", type=float, help="exit after this many seconds")
    a = ap.parse_args()

    pki_dir = os.path.realpath(a.pki_dir)
    own_work = a.workdir is None
    work = tempfile.mkdtemp(prefix="eid-pki-servers.") if own_work else os.path.realpath(a.workdir)
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o700)
    try:
        pki = PKI(pki_dir, work, a.slow)
        httpd = Server(("127.0.0.1", a.port), Handler)
    except BaseException:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
        raise
    httpd.pki = pki
    log_lock = threading.Lock()
    logf = open(a.log, "a", buffering=1) if a.log else sys.stderr

    def log(line):
        with log_lock:
            logf.write(line)
            logf.flush()
    httpd.log = log

    stop = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, lambda *_: stop.set())
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    sys.stdout.write("%d\n" % httpd.server_address[1])
    sys.stdout.flush()
    log("%s start pid=%d port=%d pki=%s\n" % (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.getpid(),
        httpd.server_address[1], pki_dir))
    deadline = time.monotonic() + a.max_time if a.max_time else None
    why = "signal"
    while not stop.wait(1.0):
        if deadline is not None and time.monotonic() > deadline:
            why = "max-time"
            break
        if a.watch_pid and not pid_alive(a.watch_pid):
            why = "watched pid %d gone" % a.watch_pid
            break
    httpd.shutdown()
    httpd.server_close()
    log("%s stop (%s)\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), why))
    if own_work:
        shutil.rmtree(work, ignore_errors=True)


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
        return st not in ("Z", "X")
    except (OSError, IndexError):
        return False


if __name__ == "__main__":
    main()
