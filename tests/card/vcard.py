#!/usr/bin/python3
"""vcard.py - an emulated smart card for the vsmartcard "vpcd" reader driver.

    vcard.py CARD_DIR [--host 127.0.0.1] [--port 35963] [--log FILE] [--state FILE]
    vcard.py CARD_DIR --stdin          # no reader: APDUs in hex on stdin, answers on stdout

The card is described by CARD_DIR/card.json (format: README.md next to this
file).  The emulator connects to vpcd (which pcscd loads from
/etc/reader.conf.d/vpcd) and answers ISO 7816-4 APDUs, so that programs go
through libpcsclite and pcscd exactly as with a USB reader.

vpcd protocol: TCP; every message in both directions is a 2-byte big-endian
length followed by the payload.  A 1-byte payload from vpcd is a control code
(0 power off, 1 power on, 2 reset, 4 get ATR; only 4 is answered, with the
ATR); a longer payload is a C-APDU, answered by one R-APDU.  Closing the
socket is a card removal, connecting again an insertion.

Signals: SIGUSR1 removes the card (closes the socket and stays out), SIGUSR2
inserts it again, SIGTERM/SIGINT exit.  PIN retry counters and changed PINs
live in memory for the life of the process: they survive removal and
re-insertion (like a card's EEPROM) but not a restart of the emulator.
Security status (verified PINs, security environment, current file) is lost
on removal, power-off and reset.
"""

import argparse
import ipaddress
import json
import os
import secrets
import select
import signal
import socket
import struct
import sys
import time
import traceback

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils


class CardError(Exception):
    """Raised by command handlers: the status word to answer."""

    def __init__(self, sw):
        super().__init__("%04X" % sw)
        self.sw = sw


def hexbytes(s):
    """Hex string (spaces, colons allowed) -> bytes."""
    return bytes.fromhex(s.replace(" ", "").replace(":", ""))


# ---------------------------------------------------------------------------
# APDU parsing (ISO 7816-4 5.1: short and extended length)
# ---------------------------------------------------------------------------

class Apdu:
    def __init__(self, raw):
        if len(raw) < 4:
            raise CardError(0x6700)
        self.raw = raw
        self.cla, self.ins, self.p1, self.p2 = raw[0], raw[1], raw[2], raw[3]
        self.data = b""
        self.le = None          # None: no Le field; else Ne (1..65536)
        self.extended = False
        body = raw[4:]
        if not body:
            return                                          # case 1
        if len(body) == 1:                                  # case 2 short
            self.le = body[0] or 256
            return
        if body[0] != 0:                                    # case 3/4 short
            lc = body[0]
            if len(body) == 1 + lc:
                self.data = body[1:]
            elif len(body) == 2 + lc:
                self.data = body[1:1 + lc]
                self.le = body[-1] or 256
            else:
                raise CardError(0x6700)
            return
        # A first body byte of 00 followed by more bytes: extended length.
        self.extended = True
        if len(body) < 3:
            raise CardError(0x6700)
        if len(body) == 3:                                  # case 2 extended
            self.le = ((body[1] << 8) | body[2]) or 65536
            return
        lc = (body[1] << 8) | body[2]
        if lc == 0 or len(body) < 3 + lc:
            raise CardError(0x6700)
        self.data = body[3:3 + lc]
        rest = body[3 + lc:]
        if len(rest) == 0:
            return                                          # case 3 extended
        if len(rest) == 2:                                  # case 4 extended
            self.le = ((rest[0] << 8) | rest[1]) or 65536
            return
        raise CardError(0x6700)

    @property
    def p1p2(self):
        return (self.p1 << 8) | self.p2


# INS codes whose data field carries PINs: never logged in clear.
SECRET_INS = (0x20, 0x21, 0x24, 0x2C)


def loggable(raw):
    """Hex of a C-APDU for the log, with the data of PIN commands masked."""
    if len(raw) > 5 and raw[1] in SECRET_INS:
        return "%s <%d bytes masked>" % (raw[:5].hex().upper(), len(raw) - 5)
    return raw.hex().upper()


# ---------------------------------------------------------------------------
# File system
# ---------------------------------------------------------------------------

class Node:
    def __init__(self, fid, parent):
        self.fid = fid            # 2 bytes
        self.parent = parent
        self.children = {}        # fid -> Node
        self.is_df = False
        self.aid = None
        self.data = b""
        self.read = "always"      # "always" | "never" | "pin:XX"
        self.sfi = None

    @property
    def path(self):
        n, parts = self, []
        while n is not None:
            parts.append(n.fid.hex().upper())
            n = n.parent
        return "/".join(reversed(parts))

    def is_within(self, other):
        """True if self is other or lies below it."""
        n = self
        while n is not None:
            if n is other:
                return True
            n = n.parent
        return False

    def fcp(self):
        """A simple FCP template (ISO 7816-4 tag 62)."""
        body = b""
        if not self.is_df:
            size = len(self.data)
            body += b"\x80\x02" + struct.pack(">H", min(size, 0xFFFF))
            body += b"\x82\x01\x01"                  # transparent working EF
        else:
            body += b"\x82\x01\x38"                  # DF
        body += b"\x83\x02" + self.fid
        if self.is_df and self.aid:
            body += b"\x84" + bytes([len(self.aid)]) + self.aid
        body += b"\x8A\x01\x05"                      # life cycle: activated
        return b"\x62" + bytes([len(body)]) + body


# ---------------------------------------------------------------------------
# PINs and keys
# ---------------------------------------------------------------------------

class Pin:
    def __init__(self, conf):
        self.ref = int(conf["ref"], 16)
        self.label = conf.get("label", "PIN %02X" % self.ref)
        self.value = str(conf["value"])
        self.max_tries = int(conf.get("max_tries", 3))
        self.tries = int(conf.get("tries", self.max_tries))
        self.encoding = conf.get("encoding", "ascii")
        self.pad_length = int(conf.get("pad_length", 8))
        self.pad_byte = int(conf.get("pad_byte", "FF"), 16)
        self.min_length = int(conf.get("min_length", 4))
        self.max_length = int(conf.get("max_length", 12))
        self.df = conf.get("df")          # path of the DF a local PIN lives in
        self.puk = int(conf["puk"], 16) if conf.get("puk") else None
        self.reset()

    def reset(self):
        """Forget the security status (power-off, reset, removal)."""
        self.granted = False      # "PIN once" right
        self.fresh = False        # a VERIFY not yet consumed by a signature
        self.fresh_at = 0         # command number of that VERIFY
        self.granted_before = False

    @property
    def blocked(self):
        return self.tries <= 0

    def block_size(self):
        """Length of one PIN block on the wire, or None if variable."""
        if self.encoding == "bcd-format2":
            return 8
        if self.encoding == "ascii-pad":
            return self.pad_length
        return None

    def decode(self, block):
        """PIN block -> digit string; CardError for a malformed block."""
        if self.encoding == "bcd-format2":
            # ISO 9564 format 2: 0x2L, digits in BCD, padded with F nibbles.
            if len(block) != 8:
                raise CardError(0x6700)
            nib = block.hex().upper()
            if nib[0] != "2":
                raise CardError(0x6A80)
            n = int(nib[1], 16)
            digits, pad = nib[2:2 + n], nib[2 + n:]
            if not (4 <= n <= 12) or not digits.isdigit() or set(pad) - {"F"}:
                raise CardError(0x6A80)
            return digits
        if self.encoding == "ascii-pad":
            if len(block) != self.pad_length:
                raise CardError(0x6700)
            pin = block.rstrip(bytes([self.pad_byte]))
        else:
            pin = block
        try:
            text = pin.decode("ascii")
        except UnicodeDecodeError:
            raise CardError(0x6A80)
        if not text.isdigit():
            raise CardError(0x6A80)
        return text

    def encode(self, digits):
        """Digit string -> PIN block (used to split CHANGE data)."""
        if self.encoding == "bcd-format2":
            s = "2%X%s" % (len(digits), digits)
            return bytes.fromhex(s.ljust(16, "F"))
        if self.encoding == "ascii-pad":
            return digits.encode().ljust(self.pad_length, bytes([self.pad_byte]))
        return digits.encode()

    def valid_new(self, digits):
        return self.min_length <= len(digits) <= self.max_length


DIGEST_INFO = {
    "md5": hexbytes("3020300c06082a864886f70d020505000410"),
    "sha1": hexbytes("3021300906052b0e03021a05000414"),
    "sha224": hexbytes("302d300d06096086480165030402040500041c"),
    "sha256": hexbytes("3031300d060960864801650304020105000420"),
    "sha384": hexbytes("3041300d060960864801650304020205000430"),
    "sha512": hexbytes("3051300d060960864801650304020305000440"),
}
HASH_BY_NAME = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
                "sha384": hashes.SHA384, "sha512": hashes.SHA512, "md5": hashes.MD5,
                "sha3-256": hashes.SHA3_256, "sha3-384": hashes.SHA3_384,
                "sha3-512": hashes.SHA3_512}
HASH_BY_LEN = {20: hashes.SHA1, 28: hashes.SHA224, 32: hashes.SHA256,
               48: hashes.SHA384, 64: hashes.SHA512}


class Key:
    def __init__(self, conf, card_dir):
        self.name = conf.get("name", conf["pem"])
        with open(os.path.join(card_dir, conf["pem"]), "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        self.pin = int(conf["pin"], 16) if conf.get("pin") else None
        self.policy = conf.get("policy", "once")      # once | each | just_before
        self.max_gap = int(conf.get("max_gap", 0))
        # MSE entries: {"template": "B6", "ref": "83", "alg": "01",
        #               "scheme": "rsa-pkcs1", "op": "cds"}
        self.mse = []
        for e in conf.get("mse", []):
            self.mse.append({"template": int(e["template"], 16),
                             "ref": hexbytes(e["ref"]),
                             "alg": hexbytes(e["alg"]) if e.get("alg") else None,
                             "scheme": e["scheme"],
                             "op": e.get("op", "cds")})
        # INTERNAL AUTHENTICATE addressed by P1 (algorithm) / P2 (key).
        ia = conf.get("internal_authenticate")
        self.ia = None
        if ia:
            self.ia = {"ref": int(ia["ref"], 16),
                       "alg": {int(k, 16): v for k, v in ia["alg"].items()},
                       "tag": int(ia["tag"], 16) if ia.get("tag") else None}

    # -- signature primitives ------------------------------------------------

    def sign(self, scheme, data):
        k = self.key
        if scheme.startswith("ecdsa"):
            if not isinstance(k, ec.EllipticCurvePrivateKey):
                raise CardError(0x6985)
            if scheme != "ecdsa":                       # ecdsa-sha384 etc.
                want = HASH_BY_NAME[scheme[len("ecdsa-"):]].digest_size
                if len(data) != want:
                    raise CardError(0x6700)
            return self._ecdsa(data)
        if not isinstance(k, rsa.RSAPrivateKey):
            raise CardError(0x6985)
        if scheme == "rsa-pkcs1":
            # The card pads whatever it gets (normally a DigestInfo).
            return self._rsa_pkcs1(data)
        if scheme.startswith("rsa-pkcs1-"):
            h = scheme[len("rsa-pkcs1-"):]
            if len(data) != HASH_BY_NAME[h].digest_size:
                raise CardError(0x6700)
            return self._rsa_pkcs1(DIGEST_INFO[h] + data)
        if scheme.startswith("rsa-pss-"):
            h = HASH_BY_NAME[scheme[len("rsa-pss-"):]]
            if len(data) != h.digest_size:
                raise CardError(0x6700)
            return k.sign(data, padding.PSS(mgf=padding.MGF1(h()), salt_length=h.digest_size),
                          utils.Prehashed(h()))
        raise CardError(0x6A80)

    def _ecdsa(self, h):
        """ECDSA over a hash computed off card; answer raw r||s."""
        n = (self.key.curve.key_size + 7) // 8
        if len(h) < 16 or len(h) > 64:
            raise CardError(0x6700)
        if len(h) <= n and n in HASH_BY_LEN:
            # Left-padding with zeros keeps the integer value, which is what
            # ECDSA uses for a hash not longer than the group order.
            h = h.rjust(n, b"\0")
        elif len(h) not in HASH_BY_LEN:
            raise CardError(0x6700)
        algo = HASH_BY_LEN[len(h)]
        der = self.key.sign(h, ec.ECDSA(utils.Prehashed(algo())))
        r, s = utils.decode_dss_signature(der)
        return r.to_bytes(n, "big") + s.to_bytes(n, "big")

    def _rsa_pkcs1(self, t):
        """EMSA-PKCS1-v1_5 block type 1 around t, then the raw RSA operation."""
        pn = self.key.private_numbers()
        k = (self.key.key_size + 7) // 8
        if len(t) > k - 11:
            raise CardError(0x6700)
        em = b"\x00\x01" + b"\xff" * (k - 3 - len(t)) + b"\x00" + t
        c = int.from_bytes(em, "big")
        m1 = pow(c, pn.dmp1, pn.p)
        m2 = pow(c, pn.dmq1, pn.q)
        h = (pn.iqmp * (m1 - m2)) % pn.p
        return (m2 + h * pn.q).to_bytes(k, "big")


# ---------------------------------------------------------------------------
# The card
# ---------------------------------------------------------------------------

class Card:
    def __init__(self, card_dir):
        self.dir = card_dir
        with open(os.path.join(card_dir, "card.json"), encoding="utf-8") as f:
            conf = json.load(f)
        self.conf = conf
        self.profile = conf.get("profile", "?")
        self.atr = hexbytes(conf["atr"])
        self.t0 = bool(conf.get("t0", False))
        self.extended_length = bool(conf.get("extended_length", False))
        self.select_p2 = [int(x, 16) for x in conf.get("select_p2", ["00", "04", "0C"])]
        self.read_partial = conf.get("read_partial", "6282")   # 6282 | 9000 | 6C
        self.read_beyond = conf.get("read_beyond", "6B00")     # 6B00 | 6282
        self.mse_format = conf.get("mse_format", "iso")        # iso | be
        self.unknown = bool(conf.get("unknown", False))
        self.card_data = hexbytes(conf["card_data"]) if conf.get("card_data") else None
        self.card_data_p2_01 = bool(conf.get("card_data_p2_01", False))
        self.get_data_pin_info = bool(conf.get("get_data_pin_info", False))
        self.logoff = bool(conf.get("logoff", False))
        self.wrong_pin_resets_all = bool(conf.get("wrong_pin_resets_all", False))

        # File system: entries sorted by path so that parents come first.
        self.mf = Node(b"\x3f\x00", None)
        self.mf.is_df = True
        entries = sorted(conf.get("files", []), key=lambda e: e["path"].count("/"))
        all_paths = [e["path"].upper() for e in entries]
        for e in entries:
            path = e["path"].upper()
            parts = [hexbytes(p) for p in path.split("/")]
            if parts[0] != b"\x3f\x00":
                raise ValueError("file path must start with 3F00: %s" % path)
            node = self.mf
            for fid in parts[1:]:
                if fid not in node.children:
                    child = Node(fid, node)
                    child.is_df = True         # provisional, fixed below
                    node.children[fid] = child
                node = node.children[fid]
            kind = e.get("type")
            has_children = any(p.startswith(path + "/") for p in all_paths)
            node.is_df = kind == "DF" if kind else (has_children or
                                                     ("data" not in e and "text" not in e
                                                      and "file" not in e))
            if e.get("aid"):
                node.aid = hexbytes(e["aid"])
            if "data" in e:
                node.data = hexbytes(e["data"])
            elif "text" in e:
                node.data = e["text"].encode("utf-8")
            elif "file" in e:
                with open(os.path.join(card_dir, e["file"]), "rb") as f:
                    node.data = f.read()
            node.read = e.get("read", "always")
            if "sfi" in e:
                node.sfi = int(e["sfi"])

        self.pins = [Pin(p) for p in conf.get("pins", [])]
        self.keys = [Key(k, card_dir) for k in conf.get("keys", [])]
        self.cmd_no = 0
        self.reset()

    # -- state -----------------------------------------------------------------

    def reset(self):
        """Power-on / reset / insertion: volatile state back to defaults."""
        self.cur_df = self.mf
        self.cur_ef = None
        self.se = {}              # template -> (key, mse entry)
        self.pending = b""        # data waiting for GET RESPONSE
        for p in self.pins:
            p.reset()

    def node_by_path(self, path):
        node = self.mf
        for part in path.upper().split("/")[1:]:
            node = node.children.get(hexbytes(part))
            if node is None:
                return None
        return node

    def find_pin(self, ref):
        """The PIN with this reference that is visible in the current DF."""
        for p in self.pins:
            if p.ref != ref:
                continue
            if p.df is None:
                return p
            df = self.node_by_path(p.df)
            if df is not None and self.cur_df.is_within(df):
                return p
        return None

    def pin_by_ref(self, ref):
        for p in self.pins:
            if p.ref == ref:
                return p
        return None

    # -- dispatch --------------------------------------------------------------

    def process(self, raw):
        """C-APDU bytes -> R-APDU bytes.  Never raises."""
        try:
            apdu = Apdu(raw)
            if apdu.ins != 0xC0:
                self.cmd_no += 1
            r = self.dispatch(apdu)
            if isinstance(r, bytes):
                return r                       # a complete R-APDU
            return self.finish(apdu, *r)
        except CardError as e:
            # A 6Cxx to GET RESPONSE keeps the data waiting (Belpic manuals).
            if len(raw) < 2 or raw[1] != 0xC0:
                self.pending = b""
            return struct.pack(">H", e.sw)
        except Exception:                      # a bug in the emulator: say so
            traceback.print_exc(file=sys.stderr)
            self.pending = b""
            return b"\x6f\x00"

    def dispatch(self, apdu):
        if self.unknown:
            # Knows nothing but the MF.
            if apdu.ins == 0xA4 and apdu.p1 == 0 and apdu.data in (b"", b"\x3f\x00"):
                self.pending = b""
                return b"", 0x9000
            raise CardError(0x6A82)
        if apdu.ins == 0xC0:
            return self.get_response(apdu)
        self.pending = b""
        if apdu.cla & 0x10:
            raise CardError(0x6884)            # command chaining not supported
        if apdu.cla & 0x0C:
            raise CardError(0x6882)            # secure messaging not supported
        if apdu.extended and not self.extended_length:
            raise CardError(0x6700)
        proprietary = {0xE4: self.get_card_data, 0xE6: self.log_off}
        iso = {
            0xA4: self.select, 0xB0: self.read_binary, 0x20: self.verify,
            0x24: self.change, 0x2C: self.reset_retry_counter, 0x22: self.mse,
            0x2A: self.pso, 0x88: self.internal_authenticate,
            0x84: self.get_challenge, 0xCB: self.get_data, 0xCA: self.get_data,
        }
        if apdu.cla == 0x80:
            if apdu.ins in proprietary:
                return proprietary[apdu.ins](apdu)
            if apdu.ins in iso:
                raise CardError(0x6E00)
            raise CardError(0x6D00)
        if apdu.cla != 0x00:
            raise CardError(0x6E00)
        if apdu.ins in iso:
            return iso[apdu.ins](apdu)
        raise CardError(0x6D00)

    def finish(self, apdu, data, sw):
        """Apply Le and the T=0 conventions to a command's answer."""
        if not data:
            return struct.pack(">H", sw)
        if self.t0:
            if apdu.data or apdu.le is None:
                # Case 4 (or case 3): T=0 cannot carry data both ways, so the
                # answer waits for GET RESPONSE.
                self.pending = data
                return struct.pack(">BB", 0x61, min(len(data), 256) & 0xFF)
            if len(data) > apdu.le and apdu.le == 256:
                # More than 256 bytes: chained through GET RESPONSE.
                self.pending = data[256:]
                return data[:256] + struct.pack(">BB", 0x61, min(len(self.pending), 256) & 0xFF)
            if len(data) != apdu.le:
                # Wrong P3: tell the host the exact length (ISO 7816-3 T=0).
                raise CardError(0x6C00 | (len(data) & 0xFF))
            return data + struct.pack(">H", sw)
        if apdu.le is not None and len(data) > apdu.le:
            # More data than asked for: the rest through GET RESPONSE.
            self.pending = data[apdu.le:]
            return data[:apdu.le] + struct.pack(">BB", 0x61, min(len(self.pending), 256) & 0xFF)
        return data + struct.pack(">H", sw)

    # -- GET RESPONSE ----------------------------------------------------------

    def get_response(self, apdu):
        if apdu.cla not in (0x00, 0x80):
            raise CardError(0x6E00)
        if apdu.p1p2 != 0:
            raise CardError(0x6B00)
        if not self.pending:
            raise CardError(0x6985)
        le = apdu.le or 256
        if le > len(self.pending):
            if self.t0:
                raise CardError(0x6C00 | (len(self.pending) & 0xFF))   # chain kept
            le = len(self.pending)
        out, self.pending = self.pending[:le], self.pending[le:]
        if self.pending:
            return out + struct.pack(">BB", 0x61, min(len(self.pending), 256) & 0xFF)
        return out + b"\x90\x00"

    # -- SELECT ----------------------------------------------------------------

    def select(self, apdu):
        if apdu.p2 not in self.select_p2:
            raise CardError(0x6A86)
        p1, data = apdu.p1, apdu.data
        node = None
        if p1 in (0x00, 0x01, 0x02) and data == b"\x3f\x00":
            node = self.mf                     # 3F00 is the MF whatever P1 says
        elif p1 == 0x00:
            if not data:
                node = self.mf
            elif len(data) != 2:
                raise CardError(0x6700)
            else:
                # A child of the current DF, else a sibling, else the parent.
                node = self.cur_df.children.get(data)
                if node is None and self.cur_df.parent is not None:
                    if self.cur_df.parent.fid == data:
                        node = self.cur_df.parent
                    else:
                        node = self.cur_df.parent.children.get(data)
                if node is None and self.cur_df.fid == data:
                    node = self.cur_df
        elif p1 in (0x01, 0x02):
            # 01: DF under the current DF, 02: EF under the current DF.  Real
            # cards are lax here (IDEMIA and Belpic take either), so are we.
            if len(data) != 2:
                raise CardError(0x6700)
            node = self.cur_df.children.get(data)
        elif p1 == 0x03:
            if data:
                raise CardError(0x6700)
            node = self.cur_df.parent or self.mf
        elif p1 == 0x04:
            if not 1 <= len(data) <= 16:
                raise CardError(0x6700)
            node = self.find_aid(data)
        elif p1 in (0x08, 0x09):
            if not data or len(data) % 2:
                raise CardError(0x6700)
            start = self.mf if p1 == 0x08 else self.cur_df
            parts = [data[i:i + 2] for i in range(0, len(data), 2)]
            if p1 == 0x08 and parts[0] == b"\x3f\x00":
                parts = parts[1:]      # tolerated (OpenSC's belpic driver sends it)
            node = start
            for i, fid in enumerate(parts):
                if not node.is_df:
                    node = None
                    break
                node = node.children.get(fid)
                if node is None:
                    break
        else:
            raise CardError(0x6A86)
        if node is None:
            raise CardError(0x6A82)
        if node.is_df:
            self.cur_df, self.cur_ef = node, None
        else:
            self.cur_df, self.cur_ef = node.parent, node
        if apdu.p2 == 0x0C:
            return b"", 0x9000
        return node.fcp(), 0x9000

    def find_aid(self, aid):
        nodes, found = [self.mf], []
        while nodes:
            n = nodes.pop()
            if n.is_df and n.aid:
                if n.aid == aid:
                    return n
                if len(aid) >= 5 and n.aid.startswith(aid):
                    found.append(n)     # right-truncated AID
            nodes.extend(n.children.values())
        return found[0] if found else None

    # -- READ BINARY -----------------------------------------------------------

    def read_binary(self, apdu):
        if apdu.p1 & 0x80:
            # Short EF identifier in P1, offset in P2.
            sfi = apdu.p1 & 0x1F
            ef = None
            for n in self.cur_df.children.values():
                if not n.is_df and n.sfi == sfi:
                    ef = n
            if ef is None:
                raise CardError(0x6A82)
            self.cur_ef = ef
            offset = apdu.p2
        else:
            if self.cur_ef is None:
                raise CardError(0x6986)
            ef = self.cur_ef
            offset = apdu.p1p2
        if apdu.data:
            raise CardError(0x6700)
        self.check_read(ef)
        size = len(ef.data)
        le = apdu.le if apdu.le is not None else 256
        if offset >= size:
            if offset == size and self.read_beyond == "6282":
                return b"\x62\x82"
            raise CardError(0x6B00)
        # The R-APDU is built here: fewer bytes than Le is a normal answer
        # for READ BINARY, not a T=0 length error.
        chunk = ef.data[offset:offset + le]
        if len(chunk) < le:
            if self.read_partial == "6C":
                raise CardError(0x6C00 | (len(chunk) & 0xFF))
            if self.read_partial == "6282":
                return chunk + b"\x62\x82"
        return chunk + b"\x90\x00"

    def check_read(self, node):
        if node.read == "always":
            return
        if node.read.startswith("pin:"):
            p = self.pin_by_ref(int(node.read[4:], 16))
            if p is not None and p.granted:
                return
        raise CardError(0x6982)

    # -- PIN commands ----------------------------------------------------------

    def verify(self, apdu):
        if apdu.p1 != 0x00:
            raise CardError(0x6A86)
        pin = self.find_pin(apdu.p2)
        if pin is None:
            raise CardError(0x6A88)
        if not apdu.data:
            # Status query: no counter change.
            if pin.blocked:
                raise CardError(0x6983)
            if pin.granted:
                return b"", 0x9000
            raise CardError(0x63C0 | min(pin.tries, 15))
        if pin.blocked:
            raise CardError(0x6983)
        digits = pin.decode(apdu.data)
        self.check_pin(pin, digits)
        return b"", 0x9000

    def check_pin(self, pin, digits):
        """Compare, count, and grant or revoke the right."""
        if digits != pin.value:
            pin.tries -= 1
            pin.granted = pin.fresh = False
            if self.wrong_pin_resets_all:
                for p in self.pins:
                    p.granted = p.fresh = False
            if pin.tries <= 0:
                pin.tries = 0
                raise CardError(0x63C0)
            raise CardError(0x63C0 | min(pin.tries, 15))
        pin.tries = pin.max_tries
        pin.granted_before = pin.granted
        pin.granted = True
        pin.fresh = True
        pin.fresh_at = self.cmd_no

    def split_two(self, pin, data):
        """CHANGE data = old || new: split it by the PIN block format."""
        size = pin.block_size()
        if size is not None:
            if len(data) != 2 * size:
                raise CardError(0x6700)
            return data[:size], data[size:]
        # Variable-length ASCII: the old PIN has the current PIN's length.
        n = len(pin.value)
        if len(data) <= n:
            raise CardError(0x6700)
        return data[:n], data[n:]

    def change(self, apdu):
        pin = self.find_pin(apdu.p2)
        if pin is None:
            raise CardError(0x6A88)
        if pin.blocked:
            raise CardError(0x6983)
        if apdu.p1 == 0x00:
            old, new = self.split_two(pin, apdu.data)
            new_digits = pin.decode(new)
            self.check_pin(pin, pin.decode(old))
        elif apdu.p1 == 0x01:
            # New value only, after a VERIFY.
            if not pin.granted:
                raise CardError(0x6982)
            new_digits = pin.decode(apdu.data)
        else:
            raise CardError(0x6A86)
        if not pin.valid_new(new_digits):
            raise CardError(0x6A80)
        pin.value = new_digits
        return b"", 0x9000

    def reset_retry_counter(self, apdu):
        pin = self.find_pin(apdu.p2)
        if pin is None:
            raise CardError(0x6A88)
        if pin.puk is None:
            raise CardError(0x6982)            # unblocked by other means only
        puk = self.pin_by_ref(pin.puk)
        new_digits = None
        if apdu.p1 in (0x00, 0x01):
            # PUK in the data field (00: followed by the new PIN).
            if puk.blocked:
                raise CardError(0x6983)
            if apdu.p1 == 0x00:
                size = puk.block_size() or len(puk.value)
                if len(apdu.data) <= size:
                    raise CardError(0x6700)
                puk_block, new = apdu.data[:size], apdu.data[size:]
                new_digits = pin.decode(new)
            else:
                puk_block = apdu.data
            self.check_pin(puk, puk.decode(puk_block))
        elif apdu.p1 in (0x02, 0x03):
            # The PUK was presented before with VERIFY.
            if not puk.granted:
                raise CardError(0x6982)
            if apdu.p1 == 0x02:
                new_digits = pin.decode(apdu.data)
            elif apdu.data:
                raise CardError(0x6700)
        else:
            raise CardError(0x6A86)
        if new_digits is not None:
            if not pin.valid_new(new_digits):
                raise CardError(0x6A80)
            pin.value = new_digits
        pin.tries = pin.max_tries
        return b"", 0x9000

    def log_off(self, apdu):
        if not self.logoff:
            raise CardError(0x6D00)
        if apdu.p1p2 != 0:
            raise CardError(0x6B00)
        for p in self.pins:
            p.reset()
        return b"", 0x9000

    # -- security environment and signatures ------------------------------------

    def mse(self, apdu):
        if self.mse_format == "be":
            # Belpic: 41 B6, data = 04 80 <algorithm> 84 <key reference>.
            if apdu.p1p2 != 0x41B6:
                raise CardError(0x6B00)
            d = apdu.data
            if len(d) != 5:
                raise CardError(0x6700)
            if d[0] != 4 or d[1] != 0x80 or d[3] != 0x84:
                raise CardError(0x6A80)
            return self.set_se(0xB6, bytes([d[4]]), bytes([d[2]]))
        if apdu.p1 == 0xF3:                    # RESTORE: back to defaults
            self.se = {}
            return b"", 0x9000
        if apdu.p1 not in (0x41, 0x81, 0xC1) or apdu.p2 not in (0xA4, 0xB6, 0xB8, 0xAA):
            raise CardError(0x6A86)
        alg, ref = None, None
        d, i = apdu.data, 0
        while i < len(d):
            if i + 2 > len(d):
                raise CardError(0x6A80)
            tag, ln = d[i], d[i + 1]
            val = d[i + 2:i + 2 + ln]
            if len(val) != ln:
                raise CardError(0x6A80)
            if tag == 0x80:
                alg = val
            elif tag in (0x83, 0x84):
                ref = val
            i += 2 + ln
        if ref is None:
            raise CardError(0x6A88)
        return self.set_se(apdu.p2, ref, alg)

    def set_se(self, template, ref, alg):
        matches = [(k, e) for k in self.keys for e in k.mse
                   if e["template"] == template and e["ref"] == ref]
        if not matches:
            raise CardError(0x6A88)
        for k, e in matches:
            if alg is None or e["alg"] is None or e["alg"] == alg:
                self.se[template] = (k, e)
                return b"", 0x9000
        raise CardError(0x6A80)                # algorithm not supported

    def check_access(self, key):
        """Is the key's PIN condition met?  Consumes one-shot verifications."""
        if key.pin is None:
            return
        pin = self.pin_by_ref(key.pin)
        if pin is None or pin.blocked:
            raise CardError(0x6982)
        if key.policy == "once":
            if not pin.granted:
                raise CardError(0x6982)
            return
        # "each" / "just_before": a VERIFY since the last signature, which this
        # signature uses up.  The right it gave is taken back (Belpic "PIN
        # mixed mode": an earlier, separate VERIFY still counts for "once").
        ok = pin.fresh
        if ok and key.policy == "just_before":
            ok = self.cmd_no - pin.fresh_at - 1 <= key.max_gap
        if pin.fresh:
            pin.fresh = False
            pin.granted = pin.granted_before
        if not ok:
            raise CardError(0x6982)

    def pso(self, apdu):
        if apdu.p1p2 != 0x9E9A:
            raise CardError(0x6A86)
        if not apdu.data:
            raise CardError(0x6700)
        entry = self.se.get(0xB6)
        if entry is None or entry[1]["op"] != "cds":
            raise CardError(0x6985)
        key, e = entry
        self.check_access(key)
        return key.sign(e["scheme"], apdu.data), 0x9000

    def internal_authenticate(self, apdu):
        if not apdu.data:
            raise CardError(0x6700)
        if apdu.p2 != 0:
            # Key and algorithm named in P2/P1 (Belpic basic key).
            key = next((k for k in self.keys if k.ia and k.ia["ref"] == apdu.p2), None)
            if key is None:
                raise CardError(0x6A88)
            scheme = key.ia["alg"].get(apdu.p1)
            if scheme is None:
                raise CardError(0x6A80)
            data = apdu.data
            if key.ia["tag"] is not None:
                if len(data) < 2 or data[0] != key.ia["tag"] or data[1] != len(data) - 2:
                    raise CardError(0x6A80)
                data = data[2:]
            self.check_access(key)
            sig = key.sign(scheme, data)
            self.se = {}                        # the command clears the SE
            return sig, 0x9000
        if apdu.p1 != 0:
            raise CardError(0x6A86)
        entry = self.se.get(0xA4)
        if entry is None or entry[1]["op"] != "int-auth":
            raise CardError(0x6985)
        key, e = entry
        self.check_access(key)
        return key.sign(e["scheme"], apdu.data), 0x9000

    # -- miscellaneous ----------------------------------------------------------

    def get_challenge(self, apdu):
        if apdu.p1p2 != 0:
            raise CardError(0x6A86)
        if apdu.le is None or apdu.data:
            raise CardError(0x6700)
        return secrets.token_bytes(min(apdu.le, 256)), 0x9000

    def get_data(self, apdu):
        # IDEMIA (EstEID 2018) PIN information: 00 CB 3F FF with
        # 4D 08 70 06 BF 81 <ref> 02 A0 80.
        if (apdu.ins == 0xCB and self.get_data_pin_info and apdu.p1p2 == 0x3FFF
                and len(apdu.data) == 10 and apdu.data[:6] == hexbytes("4D087006BF81")
                and apdu.data[7:] == hexbytes("02A080")):
            ref = apdu.data[6]
            pin = None
            for p in self.pins:
                if (p.ref & 0x0F) == ref and self.find_pin(p.ref) is p:
                    pin = p
            if pin is None:
                raise CardError(0x6A88)
            body = (b"\xBF\x81" + bytes([ref]) + b"\x1A\xA0\x18"
                    + b"\x9A\x01" + bytes([pin.max_tries])
                    + b"\x9B\x01" + bytes([pin.tries])
                    + b"\xA1\x10\x8C\x06\xF3\x00\x00\x73\x43\x00"
                    + b"\x9C\x06\xF3\x00\x00\x73\x43\x00")
            return b"\x70" + bytes([len(body)]) + body, 0x9000
        raise CardError(0x6A88)

    def get_card_data(self, apdu):
        if self.card_data is None:
            raise CardError(0x6D00)
        if apdu.p1 != 0 or apdu.p2 not in ((0, 1) if self.card_data_p2_01 else (0,)):
            raise CardError(0x6B00)
        data = self.card_data
        if apdu.p2 == 1:
            pin = self.pins[0] if self.pins else None
            data += bytes([pin.tries if pin else 0xFF, 0xFF, 0xFF])
        if apdu.le != len(data):
            raise CardError(0x6C00 | len(data))
        return data, 0x9000


# ---------------------------------------------------------------------------
# vpcd connection
# ---------------------------------------------------------------------------

class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1, encoding="utf-8") if path else None

    def __call__(self, fmt, *args):
        if self.f:
            t = time.time()
            stamp = time.strftime("%H:%M:%S", time.localtime(t)) + ".%03d" % (int(t * 1000) % 1000)
            self.f.write("%s %s\n" % (stamp, fmt % args if args else fmt))


class Emulator:
    def __init__(self, card, host, port, log, state_path):
        self.card, self.host, self.port, self.log = card, host, port, log
        self.state_path = state_path
        self.sock = None
        self.want_present = True
        self.quit = False
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGUSR1, self.on_signal)
        signal.signal(signal.SIGUSR2, self.on_signal)
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        self.apdus = 0
        self.apdu_time = 0.0

    def on_signal(self, signum, frame):
        if signum == signal.SIGUSR1:
            self.want_present = False
        elif signum == signal.SIGUSR2:
            self.want_present = True
        else:
            self.quit = True

    def set_state(self, state):
        if self.state_path:
            tmp = self.state_path + ".tmp"
            with open(tmp, "w") as f:
                f.write(state + "\n")
            os.replace(tmp, self.state_path)

    def connect(self):
        try:
            s = socket.create_connection((self.host, self.port), timeout=1.0)
        except OSError:
            return False
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(None)
        self.sock = s
        self.card.reset()
        self.log("inserted (connected to vpcd %s:%d)", self.host, self.port)
        self.set_state("inserted")
        return True

    def disconnect(self, why):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
            self.card.reset()
            self.log("removed (%s)", why)
        self.set_state("removed")

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            # vpcd writes length and payload separately: without QUICKACK the
            # delayed ACK and Nagle on the other side cost ~40 ms per APDU.
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("vpcd closed the connection")
            buf += chunk
        return buf

    def send(self, payload):
        self.sock.sendall(struct.pack(">H", len(payload)) + payload)

    def handle_message(self):
        n = struct.unpack(">H", self.recv_exact(2))[0]
        msg = self.recv_exact(n) if n else b""
        if len(msg) == 1:
            code = msg[0]
            if code == 4:
                self.log("get ATR -> %s", self.card.atr.hex().upper())
                self.send(self.card.atr)
            elif code in (0, 1, 2):
                self.card.reset()
                self.log("%s", {0: "power off", 1: "power on", 2: "reset"}[code])
            else:
                self.log("control code %d ignored", code)
            return
        t0 = time.perf_counter()
        resp = self.card.process(msg)
        dt = time.perf_counter() - t0
        self.apdus += 1
        self.apdu_time += dt
        self.send(resp)
        self.log("> %s", loggable(msg))
        self.log("< %s (%.3f ms)", resp.hex().upper(), dt * 1000)

    def run(self):
        self.set_state("removed")
        backoff = 0.05
        while not self.quit:
            if self.want_present and self.sock is None:
                if self.connect():
                    backoff = 0.05
                else:
                    self.wait(backoff)
                    backoff = min(backoff * 2, 0.5)
                    continue
            if not self.want_present and self.sock is not None:
                self.disconnect("SIGUSR1")
                continue
            fds = [self.wake_r] + ([self.sock] if self.sock is not None else [])
            try:
                ready, _, _ = select.select(fds, [], [], 1.0)
            except InterruptedError:
                continue
            if self.wake_r in ready:
                self.drain()
            if self.sock is not None and self.sock in ready and not self.quit:
                try:
                    self.handle_message()
                except (ConnectionError, OSError) as e:
                    self.disconnect("connection lost: %s" % e)
                    self.wait(0.2)
        self.disconnect("exit")
        self.log("exit after %d APDUs, %.3f ms per APDU in the card", self.apdus,
                 1000 * self.apdu_time / self.apdus if self.apdus else 0.0)

    def wait(self, seconds):
        try:
            ready, _, _ = select.select([self.wake_r], [], [], seconds)
        except InterruptedError:
            return
        if ready:
            self.drain()

    def drain(self):
        try:
            while os.read(self.wake_r, 64):
                pass
        except BlockingIOError:
            pass


def run_stdin(card):
    """Debugging aid: one hex C-APDU per line (or !atr / !reset)."""
    for line in sys.stdin:
        line = line.split("#")[0].strip()
        if not line:
            continue
        if line == "!atr":
            print(card.atr.hex().upper())
        elif line == "!reset":
            card.reset()
            print("reset")
        else:
            try:
                raw = hexbytes(line)
            except ValueError:
                print("bad hex")
                continue
            print(card.process(raw).hex().upper())
        sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description="Emulated smart card for vpcd")
    ap.add_argument("card_dir")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=35963)
    ap.add_argument("--log", help="append events and APDUs (PINs masked) to this file")
    ap.add_argument("--state", help="keep 'inserted' or 'removed' in this file")
    ap.add_argument("--stdin", action="store_true",
                    help="no vpcd: read hex APDUs from stdin, print the answers")
    args = ap.parse_args()
    if not args.stdin:
        # vpcd must be reached on loopback only (it listens on all interfaces
        # of its network namespace).
        try:
            addrs = {ai[4][0] for ai in socket.getaddrinfo(args.host, args.port, proto=socket.IPPROTO_TCP)}
        except OSError as e:
            ap.error("cannot resolve %s: %s" % (args.host, e))
        if not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs):
            ap.error("--host must be a loopback address")
    card = Card(args.card_dir)
    if args.stdin:
        run_stdin(card)
        return 0
    log = Log(args.log)
    log("card %s (%s), ATR %s", args.card_dir, card.profile, card.atr.hex().upper())
    Emulator(card, args.host, args.port, log, args.state).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
