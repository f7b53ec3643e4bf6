#!/usr/bin/python3
"""mkcards.py OUTDIR KEYDIR PKI_DIR - lay out the emulated cards.

Called by mkcards.sh once the keys and certificates exist in KEYDIR
(NAME.key / NAME.der).  Writes OUTDIR/<card>/card.json, keys/, files/,
the certificates in PEM and info.json (PINs and identifiers for tests).
The formats are described in README.md.
"""

import datetime
import hashlib
import json
import os
import shutil
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

# ---------------------------------------------------------------------------
# The fictitious citizen
# ---------------------------------------------------------------------------
SURNAME = "Øster-Łukasz"
GIVEN = "Jérôme Tomasz"
THIRD_INITIAL = "É"
BIRTH = datetime.date(1985, 3, 15)
BIRTH_PLACE_BE = "Liège"
BE_NN_BASE = 850315123                       # YYMMDD + serial, BE national number
EE_CODE = "38503151239"                      # EE personal code (check digit valid)
EE_DOCNR = "AB0012345"

TODAY = datetime.date.today()


def be_national_number():
    return "%09d%02d" % (BE_NN_BASE, 97 - BE_NN_BASE % 97)


def be_card_number():
    base = 5920123456
    check = base % 97 or 97
    return "%010d%02d" % (base, check)


def add_years(d, n):
    try:
        return d.replace(year=d.year + n)
    except ValueError:                       # 29 February
        return d.replace(year=d.year + n, day=28)


# ---------------------------------------------------------------------------
# Encoders
# ---------------------------------------------------------------------------

def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, *values):
    v = b"".join(values)
    return bytes([tag]) + der_len(len(v)) + v


def seq(*values):
    return tlv(0x30, *values)


def octets(b):
    return tlv(0x04, b)


def utf8(s):
    return tlv(0x0C, s.encode("utf-8"))


def integer(n):
    b = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")
    return tlv(0x02, b)


def bits(*hexbytes_):
    return tlv(0x03, bytes.fromhex("".join(hexbytes_)))


def path(hexpath):
    return seq(octets(bytes.fromhex(hexpath)))


def be_tlv(tag, value):
    """Belgian 'simplified TLV': 1-byte tag; length < 255 in one byte, else
    FF bytes each standing for 255 followed by the remainder."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    n, lb = len(value), b""
    while n >= 255:
        lb += b"\xff"
        n -= 255
    return bytes([tag]) + lb + bytes([n]) + value


def jpeg_gray(width, height, pixel):
    """A baseline greyscale JPEG (JFIF) built in pure Python.

    Each 8x8 block carries only its DC coefficient (the block's mean); every
    AC coefficient is zero.  That is a valid baseline JPEG, decoded by any
    viewer as a blocky picture, and small."""
    def huff(counts, symbols):
        table, code, k = {}, 0, 0
        for length in range(1, 17):
            for _ in range(counts[length - 1]):
                table[symbols[k]] = (code, length)
                k += 1
                code += 1
            code <<= 1
        return table

    dc_counts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]   # ITU T.81 K.3
    dc_syms = list(range(12))
    ac_counts = [1] + [0] * 15                                     # EOB only
    ac_syms = [0x00]
    dc_tab, ac_tab = huff(dc_counts, dc_syms), huff(ac_counts, ac_syms)

    out, acc, nbits = bytearray(), 0, 0

    def put(value, length):
        nonlocal acc, nbits
        for i in range(length - 1, -1, -1):
            acc = (acc << 1) | ((value >> i) & 1)
            nbits += 1
            if nbits == 8:
                out.append(acc)
                if acc == 0xFF:
                    out.append(0x00)                # byte stuffing
                acc, nbits = 0, 0

    prev = 0
    for by in range((height + 7) // 8):
        for bx in range((width + 7) // 8):
            total = 0
            for y in range(8):
                for x in range(8):
                    total += pixel(min(bx * 8 + x, width - 1), min(by * 8 + y, height - 1))
            dc = round(total / 64) - 128        # quantiser 8 cancels the DCT's 8
            diff, prev = dc - prev, dc
            cat = abs(diff).bit_length()
            put(*dc_tab[cat])
            if cat:
                put(diff if diff >= 0 else diff + (1 << cat) - 1, cat)
            put(*ac_tab[0x00])                  # EOB
    if nbits:
        put((1 << (8 - nbits)) - 1, 8 - nbits)  # pad with 1 bits

    def seg(marker, body):
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    j = b"\xff\xd8"
    j += seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    j += seg(0xDB, b"\x00" + bytes([8] + [16] * 63))
    j += seg(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    j += seg(0xC4, b"\x00" + bytes(dc_counts) + bytes(dc_syms))
    j += seg(0xC4, b"\x10" + bytes(ac_counts) + bytes(ac_syms))
    j += seg(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return j + bytes(out) + b"\xff\xd9"


def portrait(width, height):
    """A head-and-shoulders silhouette, as a pixel function."""
    cx, cy = width / 2, height * 0.38
    rx, ry = width * 0.24, height * 0.2

    def px(x, y):
        if ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1:
            return 150 + int(40 * (y - cy) / ry) // 2
        sh = height * 0.62
        if y > sh and abs(x - cx) < width * 0.2 + (y - sh) * 0.9:
            return 70
        return 215 - y * 40 // height
    return px


# ---------------------------------------------------------------------------
# Helpers for card directories
# ---------------------------------------------------------------------------

class CardDir:
    def __init__(self, outdir, name):
        self.dir = os.path.join(outdir, name)
        self.name = name
        os.makedirs(os.path.join(self.dir, "files"))
        os.makedirs(os.path.join(self.dir, "keys"))

    def put(self, fname, data):
        with open(os.path.join(self.dir, "files", fname), "wb") as f:
            f.write(data)
        return "files/" + fname

    def key(self, keydir, src, dst):
        shutil.copy(os.path.join(keydir, src + ".key"), os.path.join(self.dir, "keys", dst + ".key"))
        os.chmod(os.path.join(self.dir, "keys", dst + ".key"), 0o600)
        return "keys/%s.key" % dst

    def pem(self, der, name):
        cert = x509.load_der_x509_certificate(der)
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))

    def write_json(self, name, obj):
        with open(os.path.join(self.dir, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=1, ensure_ascii=False)
            f.write("\n")


def read(keydir, name, ext="der"):
    with open(os.path.join(keydir, "%s.%s" % (name, ext)), "rb") as f:
        return f.read()


def load_key(keydir, name):
    return serialization.load_pem_private_key(read(keydir, name, "key"), password=None)


def copy_variant(outdir, src, dst, edit):
    """A variant card: a copy of src whose card.json goes through edit()."""
    shutil.copytree(os.path.join(outdir, src), os.path.join(outdir, dst))
    for fn in ("card.json", "info.json"):
        p = os.path.join(outdir, dst, fn)
        with open(p, encoding="utf-8") as f:
            obj = json.load(f)
        edit(fn, obj)
        with open(p, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=1, ensure_ascii=False)
            f.write("\n")


def date_dots(d):
    return d.strftime("%d.%m.%Y")


def date_spaces(d):
    return d.strftime("%d %m %Y")


# ---------------------------------------------------------------------------
# Estonian ID card (IDEMIA, 2018+)
# ---------------------------------------------------------------------------

EE_ATR = "3BDB960080B1FE451F830012233F536549440F9000F1"
EE_AID = "A000000077010800070000FE00000100"
EE_AID_AUTH = "E828BD080FF2504F5420415750"          # "...POT AWP": DF ADF1
EE_AID_QSCD = "51534344204170706C69636174696F6E"    # "QSCD Application": DF ADF2


def make_esteid(outdir, keydir):
    c = CardDir(outdir, "esteid-2018")
    auth, sign = read(keydir, "ee-auth"), read(keydir, "ee-sign")
    c.pem(auth, "auth.crt")
    c.pem(sign, "sign.crt")
    expiry = add_years(TODAY, 5) - datetime.timedelta(days=30)
    issued = expiry - datetime.timedelta(days=5 * 365)
    # Personal data file contents (DF 5000); an empty field is one NUL byte.
    pd = {
        "5001": SURNAME.upper(),
        "5002": "JÉRÔME",
        "5003": "M",
        "5004": "EST",
        "5005": "%s EST" % date_spaces(BIRTH),
        "5006": EE_CODE,
        "5007": EE_DOCNR,
        "5008": date_spaces(expiry),
        "5009": "%s ESTONIA" % date_spaces(issued),
        "500A": None, "500B": None, "500C": None, "500D": None, "500E": None, "500F": None,
    }
    files = [
        {"path": "3F00", "aid": EE_AID},
        {"path": "3F00/D003", "data": (b"\x04" + bytes([len(EE_DOCNR)]) + EE_DOCNR.encode()).hex().upper()},
        {"path": "3F00/5000", "type": "DF"},
    ]
    for fid, text in pd.items():
        e = {"path": "3F00/5000/" + fid}
        if text is None:
            e["data"] = "00"
        else:
            e["text"] = text
        files.append(e)
    files += [
        {"path": "3F00/ADF1", "aid": EE_AID_AUTH},
        {"path": "3F00/ADF1/3401", "file": c.put("3401-auth.der", auth)},
        {"path": "3F00/ADF2", "aid": EE_AID_QSCD},
        {"path": "3F00/ADF2/341F", "file": c.put("341F-sign.der", sign)},
    ]
    pin_common = {"encoding": "ascii-pad", "pad_length": 12, "pad_byte": "FF",
                  "max_length": 12, "tries": 3, "max_tries": 3}
    card = {
        "profile": "esteid-2018",
        "description": "Estonian ID card (IDEMIA, 2018+), fictitious citizen",
        "atr": EE_ATR,
        "t0": False,
        "extended_length": False,
        "select_p2": ["00", "04", "0C"],
        "read_partial": "9000",
        "read_beyond": "6B00",
        "mse_format": "iso",
        "get_data_pin_info": True,
        "files": files,
        "pins": [
            dict(pin_common, ref="01", label="PIN1", value="0090", min_length=4, puk="02"),
            dict(pin_common, ref="85", label="PIN2", value="01497", min_length=5, puk="02",
                 df="3F00/ADF2"),
            dict(pin_common, ref="02", label="PUK", value="17258403", min_length=8),
        ],
        "keys": [
            {"name": "auth", "pem": c.key(keydir, "ee-auth", "auth"), "pin": "01",
             "policy": "once",
             "mse": [{"template": "A4", "ref": "81", "alg": "FF200800", "scheme": "ecdsa",
                      "op": "int-auth"}]},
            {"name": "sign", "pem": c.key(keydir, "ee-sign", "sign"), "pin": "85",
             "policy": "each",
             "mse": [{"template": "B6", "ref": "9F", "alg": "FF150800", "scheme": "ecdsa",
                      "op": "cds"}]},
        ],
    }
    c.write_json("card.json", card)
    c.write_json("info.json", {
        "profile": "esteid-2018", "atr": EE_ATR,
        "pins": {"PIN1": "0090", "PIN2": "01497", "PUK": "17258403"},
        "certificates": {"auth": "auth.crt", "sign": "sign.crt"},
        "pkcs11": {"auth_key_id": "01", "sign_key_id": "02",
                   "auth_pin": "PIN1", "sign_pin": "PIN2"},
        "personal_data": {k: (v or "") for k, v in pd.items()},
        "document_number": EE_DOCNR,
    })

    def blocked(fn, obj):
        if fn == "card.json":
            obj["pins"][1]["tries"] = 0
            obj["description"] += "; PIN2 blocked"
        else:
            obj["blocked"] = ["PIN2"]
    copy_variant(outdir, "esteid-2018", "esteid-2018-blocked-pin", blocked)


# ---------------------------------------------------------------------------
# Belgian eID (Belpic applet 1.7: RSA-2048, 1.8: EC P-384)
# ---------------------------------------------------------------------------

BE_ATR = {"1.7": "3B9813400AA503010101AD1311",
          "1.8": "3B7F96000080318065B085040120120FFF829000"}
BE_AID_APPLET = "A00000003029057000AD13100101FF"
BE_AID_PKCS15 = "A000000177504B43532D3135"           # "...PKCS-15"
BE_AID_ID = "A000000177496446696C6573"               # "...IdFiles"

RSA_ALGS = {"01": "rsa-pkcs1", "02": "rsa-pkcs1-sha1", "04": "rsa-pkcs1-md5",
            "08": "rsa-pkcs1-sha256", "10": "rsa-pss-sha1", "20": "rsa-pss-sha256"}
EC_ALGS = {"01": "ecdsa-sha256", "02": "ecdsa-sha384", "04": "ecdsa-sha512",
           "08": "ecdsa-sha3-256", "10": "ecdsa-sha3-384", "20": "ecdsa-sha3-512",
           "40": "ecdsa"}
MONTHS_FR = ["JAN", "FEV", "MARS", "AVR", "MAI", "JUIN", "JUIL", "AOUT", "SEPT", "OCT", "NOV", "DEC"]


def be_pkcs15(version, serial):
    """EF(DIR), ODF, TokenInfo, AODF, PrKDF, CDF as on the real cards
    (Belgian Electronic Identity Card content v4.01 (1.7) / v5.4 (1.8))."""
    v18 = version == "1.8"
    efdir = tlv(0x61, tlv(0x4F, bytes.fromhex(BE_AID_PKCS15)), tlv(0x50, b"BELPIC"),
                tlv(0x51, bytes.fromhex("3F00DF00")), tlv(0x73, tlv(0x06, bytes.fromhex("603802"))))
    odf = (tlv(0xA0, path("3F00DF005035")) + tlv(0xA4, path("3F00DF005037"))
           + tlv(0xA8, path("3F00DF005034")))
    perso = "00040040" if v18 else "00030040"
    tokeninfo = seq(integer(0), octets(serial), tlv(0x80, b"BELPIC"), bits("0430"),
                    tlv(0x9E, bytes.fromhex(perso)))
    aodf = seq(seq(utf8("Basic PIN"), bits("06C0")),
               seq(octets(b"\x01")),
               tlv(0xA1, seq(bits("020C"), tlv(0x0A, b"\x00"), integer(4), integer(8),
                             tlv(0x80, b"\x01"), octets(b"\xff"), path("3F00"))))
    size = integer(384) if v18 else integer(2048)

    def prkey(label, kid, usage, ref, consent):
        coa = [utf8(label), bits("06C0"), octets(b"\x01")]
        if consent:
            coa.append(integer(1))
        body = (seq(*coa) + seq(octets(bytes([kid])), usage, bits("03B8"), tlv(0x02, bytes([0, ref])))
                + tlv(0xA1, seq(path("3F00DF00"), size)))
        return tlv(0xA0, body) if v18 else seq(body)
    prkdf = (prkey("Authentication", 2, bits("0520"), 0x82, False)
             + prkey("Signature", 3, bits("060040"), 0x83, True))

    def cert(label, cid, fid, authority):
        flags = bits("0640") if v18 else bits("06C0")
        cca = [octets(bytes([cid]))]
        if authority:
            cca.append(tlv(0x01, b"\xff"))
        if v18:
            cca.append(tlv(0x83, b"\x00"))
        return seq(seq(utf8(label), flags, octets(b"\x01")), seq(*cca),
                   tlv(0xA1, seq(path("3F00DF00" + fid))))
    cdf = (cert("Authentication", 2, "5038", False) + cert("Signature", 3, "5039", False)
           + cert("CA", 4, "503A", True) + cert("Root", 6, "503B", True))
    return efdir, odf, tokeninfo, aodf, prkdf, cdf


def make_belpic(outdir, keydir, version, rrn_hash="sha256", name=None):
    v18 = version == "1.8"
    name = name or "belpic-" + version
    c = CardDir(outdir, name)
    tag = "be18" if v18 else "be17"
    auth, sign = read(keydir, tag + "-auth"), read(keydir, tag + "-sign")
    pki = os.environ["MKCARDS_PKI"]
    with open(os.path.join(pki, "int.der"), "rb") as f:
        ca = f.read()
    with open(os.path.join(pki, "root.der"), "rb") as f:
        root = f.read()
    rrn_name = "rrn-ec" if v18 else "rrn-rsa"
    rrn = read(keydir, rrn_name)
    rrn_key = load_key(keydir, rrn_name)
    c.pem(auth, "auth.crt")
    c.pem(sign, "sign.crt")
    c.pem(rrn, "rrn.crt")

    # Card serial number (GET CARD DATA, TokenInfo, ID file tag 02).
    serial = hashlib.sha256(name.encode()).digest()[:16]
    serial = b"\x53\x4c\xc0\x01" + serial[4:]
    # Certificate files: DER followed by zero bytes, as personalised.
    pad = 1100 if v18 else 50

    # Photo and (1.8) basic key.
    w, h = (150, 195) if v18 else (140, 200)
    photo = jpeg_gray(w, h, portrait(w, h))
    photo_hash = hashlib.sha384(photo).digest() if v18 else hashlib.sha1(photo).digest()
    basic_pub = None
    if v18:
        basic_pub = load_key(keydir, "be18-basic").public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    begin = TODAY - datetime.timedelta(days=30)
    end = add_years(begin, 10) - datetime.timedelta(days=1)

    def identity(surname):
        f = b""
        f += be_tlv(0x01, be_card_number())
        f += be_tlv(0x02, serial)
        f += be_tlv(0x03, date_dots(begin))
        f += be_tlv(0x04, date_dots(end))
        f += be_tlv(0x05, "Bruxelles")
        f += be_tlv(0x06, be_national_number())
        f += be_tlv(0x07, surname)
        f += be_tlv(0x08, GIVEN)
        f += be_tlv(0x09, THIRD_INITIAL)
        f += be_tlv(0x0A, "Belge")
        f += be_tlv(0x0B, BIRTH_PLACE_BE)
        f += be_tlv(0x0C, "%02d %s %d" % (BIRTH.day, MONTHS_FR[BIRTH.month - 1], BIRTH.year))
        f += be_tlv(0x0D, "M")
        f += be_tlv(0x0E, "")
        f += be_tlv(0x0F, "01")
        f += be_tlv(0x10, "0")
        f += be_tlv(0x11, photo_hash)
        if v18:
            f += be_tlv(0x1A, hashlib.sha384(basic_pub).digest())
        return f

    id_file = identity(SURNAME)
    address = (be_tlv(0x01, "Rue de l'Église 12") + be_tlv(0x02, "1000")
               + be_tlv(0x03, "Bruxelles"))
    address_file = address.ljust(117, b"\x00")          # fixed-size EF, zero padded

    # National register signatures.
    def rrn_sign(data):
        if v18:
            return rrn_key.sign(data, ec.ECDSA(hashes.SHA384()))      # DER
        h = {"sha1": hashes.SHA1, "sha256": hashes.SHA256}[rrn_hash]()
        return rrn_key.sign(data, padding.PKCS1v15(), h)
    id_sig = rrn_sign(id_file)
    # Address signature: over the address file without its trailing zero
    # bytes, followed by the identity signature (eid-mw's verification rule).
    addr_sig = rrn_sign(address_file.rstrip(b"\x00") + id_sig)
    if v18:
        addr_sig_file = addr_sig.ljust(112, b"\x00")      # fixed-size EF, zero padded
    else:
        addr_sig_file = addr_sig

    efdir, odf, tokeninfo, aodf, prkdf, cdf = be_pkcs15(version, serial)
    files = [
        {"path": "3F00", "aid": BE_AID_APPLET},
        {"path": "3F00/2F00", "data": efdir.hex().upper()},
        {"path": "3F00/DF00", "aid": BE_AID_PKCS15},
        {"path": "3F00/DF00/5031", "data": odf.hex().upper()},
        {"path": "3F00/DF00/5032", "data": tokeninfo.hex().upper()},
        {"path": "3F00/DF00/5034", "data": aodf.hex().upper()},
        {"path": "3F00/DF00/5035", "data": prkdf.hex().upper()},
        {"path": "3F00/DF00/5037", "data": cdf.hex().upper()},
        {"path": "3F00/DF00/5038", "file": c.put("5038-auth.der", auth + b"\0" * pad)},
        {"path": "3F00/DF00/5039", "file": c.put("5039-sign.der", sign + b"\0" * pad)},
        {"path": "3F00/DF00/503A", "file": c.put("503A-ca.der", ca + b"\0" * pad)},
        {"path": "3F00/DF00/503B", "file": c.put("503B-root.der", root + (b"\0" * pad if v18 else b""))},
        {"path": "3F00/DF00/503C", "file": c.put("503C-rrn.der", rrn + (b"\0" * pad if v18 else b""))},
        {"path": "3F00/DF01", "aid": BE_AID_ID},
        {"path": "3F00/DF01/4031", "file": c.put("4031-identity.tlv", id_file)},
        {"path": "3F00/DF01/4032", "file": c.put("4032-identity.sig", id_sig)},
        {"path": "3F00/DF01/4033", "file": c.put("4033-address.tlv", address_file)},
        {"path": "3F00/DF01/4034", "file": c.put("4034-address.sig", addr_sig_file)},
        {"path": "3F00/DF01/4035", "file": c.put("4035-photo.jpg", photo)},
    ]
    if v18:
        files.append({"path": "3F00/DF01/4040", "file": c.put("4040-basic-key.der", basic_pub)})

    card_data = serial + bytes([0x01, 0x11, 0x01, 0x01, 0x01])
    if v18:
        card_data += bytes([0x18, 0x00, 0x01, 0x00, 0x00, 0x02, 0x0F])
    else:
        card_data += bytes([0x17, 0x00, 0x03, 0x00, 0x21, 0x01, 0x0F])
    algs = EC_ALGS if v18 else RSA_ALGS

    def mse(ref):
        return [{"template": "B6", "ref": ref, "alg": a, "scheme": s, "op": "cds"}
                for a, s in algs.items()]
    keys = [
        {"name": "auth", "pem": c.key(keydir, tag + "-auth", "auth"), "pin": "01",
         "policy": "once", "mse": mse("82")},
        {"name": "sign", "pem": c.key(keydir, tag + "-sign", "sign"), "pin": "01",
         "policy": "just_before", "max_gap": 1 if v18 else 0, "mse": mse("83")},
    ]
    if v18:
        keys.append({"name": "basic", "pem": c.key(keydir, "be18-basic", "basic"),
                     "internal_authenticate": {"ref": "81", "tag": "94",
                                               "alg": {"01": "ecdsa-sha256",
                                                       "02": "ecdsa-sha384",
                                                       "04": "ecdsa-sha512"}}})
    card = {
        "profile": name,
        "description": "Belgian eID, Belpic applet %s (%s keys), fictitious citizen"
                       % (version, "EC P-384" if v18 else "RSA-2048"),
        "atr": BE_ATR[version],
        "t0": True,
        "extended_length": False,
        "select_p2": ["0C"],
        "read_partial": "6C",
        "read_beyond": "6B00",
        "mse_format": "be",
        "card_data": card_data.hex().upper(),
        "card_data_p2_01": v18,
        "logoff": True,
        "wrong_pin_resets_all": True,
        "files": files,
        "pins": [{"ref": "01", "label": "Basic PIN", "value": "1234", "tries": 3, "max_tries": 3,
                  "encoding": "bcd-format2", "min_length": 4, "max_length": 12}],
        "keys": keys,
    }
    c.write_json("card.json", card)
    c.write_json("info.json", {
        "profile": name, "atr": BE_ATR[version],
        "pins": {"PIN": "1234"},
        "certificates": {"auth": "auth.crt", "sign": "sign.crt", "rrn": "rrn.crt"},
        "pkcs11": {"auth_key_id": "02", "sign_key_id": "03"},
        "rrn_signature": "ECDSA P-384 SHA-384 (DER)" if v18 else "RSA PKCS#1 v1.5 %s" % rrn_hash.upper(),
        "photo_hash": "SHA-384" if v18 else "SHA-1",
        "identity": {"card_number": be_card_number(), "national_number": be_national_number(),
                     "surname": SURNAME, "first_names": GIVEN, "third_initial": THIRD_INITIAL,
                     "validity_begin": date_dots(begin), "validity_end": date_dots(end),
                     "birth_date": BIRTH.isoformat(), "birth_place": BIRTH_PLACE_BE},
        "address": {"street": "Rue de l'Église 12", "zip": "1000", "municipality": "Bruxelles"},
    })
    return c, identity


def make_belpic_variants(outdir, keydir, version, identity):
    base = "belpic-" + version

    # Identity file changed after the register signed it.
    tampered = identity("Oster-Lukasz")

    def tamper(fn, obj):
        if fn == "card.json":
            obj["description"] += "; identity file altered after signing"
        else:
            obj["tampered"] = "3F00/DF01/4031 (surname changed after signing)"
            obj["identity"]["surname"] = "Oster-Lukasz"
    copy_variant(outdir, base, base + "-tampered", tamper)
    with open(os.path.join(outdir, base + "-tampered", "files", "4031-identity.tlv"), "wb") as f:
        f.write(tampered)

    if version == "1.8":
        def blocked(fn, obj):
            if fn == "card.json":
                obj["pins"][0]["tries"] = 0
                obj["description"] += "; PIN blocked"
            else:
                obj["blocked"] = ["PIN"]
        copy_variant(outdir, base, base + "-blocked-pin", blocked)


# ---------------------------------------------------------------------------
# Generic ISO 7816-15 (PKCS#15) card and an unknown card
# ---------------------------------------------------------------------------

P15_AID = "A000000063504B43532D3135"


def make_pkcs15(outdir, keydir):
    c = CardDir(outdir, "pkcs15")
    sign, auth = read(keydir, "p15-sign"), read(keydir, "p15-auth")
    c.pem(sign, "sign.crt")
    c.pem(auth, "auth.crt")
    efdir = tlv(0x61, tlv(0x4F, bytes.fromhex(P15_AID)), tlv(0x50, b"libeid generic"),
                tlv(0x51, bytes.fromhex("3F005015")))
    odf = (tlv(0xA0, path("3F0050154402")) + tlv(0xA4, path("3F0050154404"))
           + tlv(0xA8, path("3F0050154401")))
    tokeninfo = seq(integer(0), octets(bytes.fromhex("4C49424549443135")),
                    utf8("libeid Test"), tlv(0x80, b"Generic PKCS15"), bits("0700"))
    aodf = seq(seq(utf8("User PIN"), bits("0640")),
               seq(octets(b"\x01")),
               tlv(0xA1, seq(bits("020C"), tlv(0x0A, b"\x01"), integer(4), integer(8),
                             integer(8), tlv(0x80, b"\x01"), octets(b"\xff"),
                             path("3F005015"))))
    prkdf = (seq(seq(utf8("Signature key"), bits("0780"), octets(b"\x01")),
                 seq(octets(b"\x45"), bits("062040"), bits("03B8"), integer(1)),
                 tlv(0xA1, seq(path("3F005015"), integer(2048))))
             + tlv(0xA0, seq(utf8("Authentication key"), bits("0780"), octets(b"\x01")) +
                   seq(octets(b"\x46"), bits("0520"), bits("03B8"), integer(2)) +
                   tlv(0xA1, seq(path("3F005015"), integer(256)))))
    cdf = (seq(seq(utf8("Signature"), bits("0640")), seq(octets(b"\x45")),
               tlv(0xA1, seq(path("3F0050154301"))))
           + seq(seq(utf8("Authentication"), bits("0640")), seq(octets(b"\x46")),
                 tlv(0xA1, seq(path("3F0050154302")))))
    files = [
        {"path": "3F00"},
        {"path": "3F00/2F00", "data": efdir.hex().upper()},
        {"path": "3F00/5015", "aid": P15_AID},
        {"path": "3F00/5015/5031", "data": odf.hex().upper()},
        {"path": "3F00/5015/5032", "data": tokeninfo.hex().upper()},
        {"path": "3F00/5015/4401", "data": aodf.hex().upper()},
        {"path": "3F00/5015/4402", "data": prkdf.hex().upper()},
        {"path": "3F00/5015/4404", "data": cdf.hex().upper()},
        {"path": "3F00/5015/4301", "file": c.put("4301-sign.der", sign)},
        {"path": "3F00/5015/4302", "file": c.put("4302-auth.der", auth)},
    ]
    atr = "3B8580018073000040B7"                      # T=1; card capabilities: extended Lc/Le
    card = {
        "profile": "pkcs15",
        "description": "Generic ISO 7816-15 card (one PIN, RSA signature key, EC auth key)",
        "atr": atr,
        "t0": False,
        "extended_length": True,
        "select_p2": ["00", "04", "0C"],
        "read_partial": "6282",
        "read_beyond": "6B00",
        "mse_format": "iso",
        "files": files,
        "pins": [
            {"ref": "01", "label": "User PIN", "value": "123456", "encoding": "ascii-pad",
             "pad_length": 8, "pad_byte": "FF", "min_length": 4, "max_length": 8,
             "tries": 3, "max_tries": 3, "puk": "02"},
            {"ref": "02", "label": "PUK", "value": "12345678", "encoding": "ascii-pad",
             "pad_length": 8, "pad_byte": "FF", "min_length": 8, "max_length": 8,
             "tries": 3, "max_tries": 3},
        ],
        "keys": [
            {"name": "sign", "pem": c.key(keydir, "p15-sign", "sign"), "pin": "01",
             "policy": "once",
             "mse": [{"template": "B6", "ref": "01", "scheme": "rsa-pkcs1", "op": "cds"}]},
            {"name": "auth", "pem": c.key(keydir, "p15-auth", "auth"), "pin": "01",
             "policy": "once",
             "mse": [{"template": "B6", "ref": "02", "scheme": "ecdsa", "op": "cds"},
                     {"template": "A4", "ref": "02", "scheme": "ecdsa", "op": "int-auth"}]},
        ],
    }
    c.write_json("card.json", card)
    c.write_json("info.json", {
        "profile": "pkcs15", "atr": atr, "pins": {"PIN": "123456", "PUK": "12345678"},
        "certificates": {"sign": "sign.crt", "auth": "auth.crt"},
        "pkcs11": {"sign_key_id": "45", "auth_key_id": "46"},
    })


def make_unknown(outdir):
    c = CardDir(outdir, "unknown")
    atr = "3B0A4C49424549442D554E4B"                  # "LIBEID-UNK"
    c.write_json("card.json", {
        "profile": "unknown",
        "description": "A card nobody knows: 6A82 to everything but SELECT MF",
        "atr": atr, "unknown": True, "files": [{"path": "3F00"}]})
    c.write_json("info.json", {"profile": "unknown", "atr": atr})


def main():
    outdir, keydir, pki = sys.argv[1:4]
    os.environ["MKCARDS_PKI"] = pki
    make_esteid(outdir, keydir)
    for version in ("1.7", "1.8"):
        _, identity = make_belpic(outdir, keydir, version)
        make_belpic_variants(outdir, keydir, version, identity)
    make_belpic(outdir, keydir, "1.7", rrn_hash="sha1", name="belpic-1.7-sha1")
    make_pkcs15(outdir, keydir)
    make_unknown(outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
