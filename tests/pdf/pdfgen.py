#!/usr/bin/env python3
"""pdfgen.py - hand-built PDFs and PDF surgery for the libeid PAdES corpus.

Used by make-corpus.sh (see README.md next to this file).  Standard library
only.  Everything written here is byte-for-byte deterministic: fixed dates,
/ID derived from the content, no randomness (big.pdf uses SHAKE-128 output).

Subcommands:
  fodt DIR                 write lo-writer.fodt and form.fodt (LibreOffice input)
  classic OUT              2-page PDF 1.3, classic xref table, Helvetica
  incremental IN OUT       IN + two classic incremental updates
  xrefstm-update IN OUT    IN + one incremental update written as an xref stream
  hybrid OUT               PDF 1.5 hybrid-reference file (table + /XRefStm)
  broken-xref IN OUT       IN with its last startxref value off by 7 bytes
  sigfields OUT            classic, with a form of two empty signature fields
  png OUT                  a PNG with transparency (a pen stroke), for visible signatures
  big OUT MIB              classic PDF carrying an attachment of MIB MiB
  pin FILE                 fix dates, /ID and /DocChecksum in place (same length)
  manifest DIR LABELS...   print MANIFEST.txt lines; LABELS are name=producer
"""

import hashlib
import os
import re
import subprocess
import sys
import time
import zlib

FIXED_DATE = "D:20240102030405Z"
FIXED_DATE2 = "D:20240203040506Z"
FIXED_DATE3 = "D:20240304050607Z"

# "Jérôme Øster-Łukasz" in the encodings used below.
NAME_UTF16_HEX = "FEFF" + "Jérôme Øster-Łukasz".encode("utf-16-be").hex().upper()
# PDFDocEncoding: é=351 ô=364 Ø=330 Ł=225 (0x95).
NAME_PDFDOC_LIT = r"J\351r\364me \330ster-\225ukasz"
# WinAnsiEncoding has no Ł, so the page text uses a plain L.
NAME_WINANSI_LIT = r"J\351r\364me \330ster-Lukasz"


def die(msg):
    sys.stderr.write("pdfgen.py: error: %s\n" % msg)
    sys.exit(1)


def pdf_id(data):
    return hashlib.md5(data).hexdigest().upper()


def stream_obj(dict_body, data):
    """Return the bytes of a stream object body (between 'obj' and 'endobj')."""
    return (b"<< " + dict_body + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")


class Writer:
    """Append objects to a byte buffer and remember their offsets."""

    def __init__(self, initial=b""):
        self.buf = bytearray(initial)
        self.offsets = {}

    def add(self, num, body, gen=0):
        self.offsets[num] = len(self.buf)
        self.buf += b"%d %d obj\n" % (num, gen) + body + b"\nendobj\n"

    def tell(self):
        return len(self.buf)

    def xref_table(self, entries):
        """entries: sorted list of (num, field, gen, kind); kind b"n" (field =
        byte offset) or b"f" (field = next free object number).

        Writes 'xref' with one subsection per run of consecutive numbers.
        Each entry is exactly 20 bytes ("nnnnnnnnnn ggggg n\\r\\n")."""
        start = self.tell()
        out = bytearray(b"xref\n")
        runs = []
        for e in entries:
            if runs and runs[-1][-1][0] + 1 == e[0]:
                runs[-1].append(e)
            else:
                runs.append([e])
        for run in runs:
            out += b"%d %d\n" % (run[0][0], len(run))
            for num, field, gen, kind in run:
                out += b"%010d %05d %s\r\n" % (field, gen, kind)
        self.buf += out
        return start

    def used(self, *nums):
        return [(n, self.offsets[n], 0, b"n") for n in nums]

    def trailer(self, dict_body, xref_start):
        self.buf += b"trailer\n<< " + dict_body + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref_start


HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def page_content(page, total, extra=b""):
    lines = [
        b"BT /F1 20 Tf 72 760 Td (libeid PAdES test corpus) Tj ET",
        b"BT /F1 14 Tf 72 720 Td (Page %d of %d) Tj ET" % (page, total),
        b"BT /F1 14 Tf 72 696 Td (Signer: " + NAME_WINANSI_LIT.encode() + b") Tj ET",
        b"0.5 w 72 640 m 523 640 l S",
    ]
    return b"\n".join(lines) + extra + b"\n"


FREE0 = (0, 0, 65535, b"f")


def classic_objects(w, catalog_extra=b"", font=True, page1_extra=b""):
    """Objects 1-7 of the classic test document (8 is the /Info, written by
    the caller)."""
    w.add(1, b"<< /Type /Catalog /Pages 2 0 R" + catalog_extra + b" >>")
    w.add(2, b"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>")
    res = b"/Resources << /Font << /F1 7 0 R >> /ProcSet [/PDF /Text] >>"
    w.add(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + res + b" /Contents 4 0 R" + page1_extra
          + b" >>")
    w.add(4, stream_obj(b"", page_content(1, 2)))
    w.add(5, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + res + b" /Contents 6 0 R >>")
    # Page 2 content is Flate-compressed (zlib level 9 is deterministic).
    c2 = zlib.compress(page_content(2, 2, b"\nBT /F1 12 Tf 72 600 Td (Compressed content stream.) Tj ET"), 9)
    w.add(6, stream_obj(b"/Filter /FlateDecode", c2))
    if font:
        w.add(7, HELVETICA)


def info_dict(title, date, extra=b""):
    return (b"<< /Title (" + title.encode("latin-1") + b") /Author <" + NAME_UTF16_HEX.encode() + b">"
            b" /Subject (" + NAME_PDFDOC_LIT.encode() + b")"
            b" /Producer (libeid tests/pdf/pdfgen.py) /CreationDate (" + FIXED_DATE.encode() + b")"
            + extra + b" /ModDate (" + date.encode() + b") >>")


def cmd_classic(out):
    w = Writer(b"%PDF-1.3\n%\xe2\xe3\xcf\xd3\n")
    classic_objects(w)
    w.add(8, info_dict("libeid classic PDF 1.3 test document", FIXED_DATE))
    xref = w.xref_table([FREE0] + w.used(*range(1, 9)))
    ident = pdf_id(bytes(w.buf))
    w.trailer(b"/Size 9 /Root 1 0 R /Info 8 0 R /ID [<%s> <%s>]" % (ident.encode(), ident.encode()), xref)
    write(out, w.buf)


def cmd_sigfields(out):
    """The classic document with a form of two empty signature fields on
    page 1: "Buyer" (a visible box) and "Witness" (invisible)."""
    w = Writer(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    classic_objects(w, b" /AcroForm 9 0 R", page1_extra=b" /Annots [10 0 R 11 0 R]")
    w.add(8, info_dict("libeid test document with empty signature fields", FIXED_DATE))
    w.add(9, b"<< /Fields [10 0 R 11 0 R] >>")
    w.add(10, b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Buyer) /F 4 /Rect [300 80 520 150] /P 3 0 R >>")
    w.add(11, b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Witness) /F 4 /Rect [0 0 0 0] /P 3 0 R >>")
    xref = w.xref_table([FREE0] + w.used(*range(1, 12)))
    ident = pdf_id(bytes(w.buf))
    w.trailer(b"/Size 12 /Root 1 0 R /Info 8 0 R /ID [<%s> <%s>]" % (ident.encode(), ident.encode()), xref)
    write(out, w.buf)


def cmd_png(out):
    """A 240 x 96 RGBA PNG: a blue pen stroke on a transparent background,
    like a scanned handwritten signature."""
    import math
    import struct
    w, h = 240, 96
    rows = bytearray()
    for y in range(h):
        rows.append(0)  # filter: none
        for x in range(w):
            ink = abs((y - h // 2) - 30 * math.sin(x / 19.0)) < 4
            rows += bytes((16, 40, 150, 255 if ink else 0))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    write(out, b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
          + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


def last_startxref(data):
    i = data.rfind(b"startxref")
    if i < 0:
        die("no startxref")
    m = re.match(rb"startxref\s+(\d+)", data[i:])
    if not m:
        die("bad startxref")
    return int(m.group(1))


def last_trailer_info(data):
    """Return (root, info, size, id0) of the newest xref section (table or stream)."""
    off = last_startxref(data)
    if data[off:off + 4] == b"xref":
        t = data.find(b"trailer", off)
        s = data.find(b"startxref", t)
        d = data[t:s]
    else:
        m = re.match(rb"\d+\s+\d+\s+obj", data[off:off + 40])
        if not m:
            die("startxref %d points to neither 'xref' nor an object" % off)
        s = data.find(b"stream", off)
        d = data[off:s]
    root = re.search(rb"/Root\s+(\d+\s+\d+)\s+R", d)
    info = re.search(rb"/Info\s+(\d+\s+\d+)\s+R", d)
    size = re.search(rb"/Size\s+(\d+)", d)
    ident = re.search(rb"/ID\s*\[\s*<([0-9A-Fa-f]*)>", d)
    if not (root and size):
        die("cannot find /Root and /Size in the last trailer")
    return (root.group(1), info.group(1) if info else None, int(size.group(1)),
            ident.group(1) if ident else None, off)


def ensure_eol(data):
    return data if data.endswith((b"\n", b"\r")) else data + b"\n"


def cmd_incremental(inp, out):
    data = ensure_eol(read(inp))
    root, info, size, id0, prev = last_trailer_info(data)
    if id0 is None:
        die("input has no /ID")
    # Update 1: replace the /Info dictionary (object 8) in place.
    w = Writer(data)
    w.add(8, info_dict("libeid classic PDF 1.3 test document (revision 2)", FIXED_DATE2))
    xref = w.xref_table([FREE0] + w.used(8))
    id1 = pdf_id(bytes(w.buf)).encode()
    w.trailer(b"/Size %d /Root %s R /Info 8 0 R /Prev %d /ID [<%s> <%s>]" % (size, root, prev, id0, id1), xref)
    prev = xref
    # Update 2: catalog gets /PageLayout, a new /Info object 9 replaces object 8,
    # which becomes free (next generation 1).
    w.offsets = {}
    w.add(1, b"<< /Type /Catalog /Pages 2 0 R /PageLayout /OneColumn >>")
    w.add(9, info_dict("libeid classic PDF 1.3 test document (revision 3)", FIXED_DATE3))
    xref = w.xref_table([(0, 8, 65535, b"f")] + w.used(1) + [(8, 0, 1, b"f")] + w.used(9))
    id2 = pdf_id(bytes(w.buf)).encode()
    w.trailer(b"/Size %d /Root %s R /Info 9 0 R /Prev %d /ID [<%s> <%s>]"
              % (max(size, 10), root, prev, id0, id2), xref)
    write(out, w.buf)


def cmd_xrefstm_update(inp, out):
    data = ensure_eol(read(inp))
    root, info, size, id0, prev = last_trailer_info(data)
    if id0 is None:
        die("input has no /ID")
    w = Writer(data)
    info_num, xs_num = size, size + 1
    w.add(info_num, b"<< /Title (libeid xref-stream incremental update) /Author <" + NAME_UTF16_HEX.encode()
          + b"> /Producer (libeid tests/pdf/pdfgen.py) /ModDate (" + FIXED_DATE2.encode() + b") >>")
    xs_off = w.tell()
    # W [1 4 2]: type, offset, generation; one entry for the new /Info and one
    # for the xref stream itself.
    rows = b"".join(bytes([1]) + off.to_bytes(4, "big") + (0).to_bytes(2, "big")
                    for off in (w.offsets[info_num], xs_off))
    body = zlib.compress(rows, 9)
    id1 = pdf_id(bytes(w.buf)).encode()
    d = (b"/Type /XRef /Size %d /Index [%d 2] /W [1 4 2] /Root %s R /Info %d 0 R /Prev %d"
         b" /ID [<%s> <%s>] /Filter /FlateDecode" % (xs_num + 1, info_num, root, info_num, prev, id0, id1))
    w.add(xs_num, stream_obj(d, body))
    w.buf += b"startxref\n%d\n%%%%EOF\n" % xs_off
    write(out, w.buf)


def cmd_hybrid(out):
    """PDF 1.5 hybrid-reference file (ISO 32000-1, 7.5.8.4).

    Objects 1-6 are ordinary objects listed in the classic table.  The font (7)
    and the /Info dictionary (8) live in object stream 9 and are listed only in
    the cross-reference stream 10, which the trailer points to with /XRefStm.
    The table has subsections 0-6 and 9-10, so it does not mention 7 and 8 at
    all (a pre-1.5 reader would see them as missing)."""
    w = Writer(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    classic_objects(w, font=False)
    objs = [
        (7, HELVETICA),
        (8, info_dict("libeid hybrid-reference test document", FIXED_DATE)),
    ]
    header = b""
    payload = b""
    for num, body in objs:
        header += b"%d %d " % (num, len(payload))
        payload += body + b"\n"
    header = header.rstrip() + b"\n"
    ostm = zlib.compress(header + payload, 9)
    w.add(9, stream_obj(b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode" % (len(objs), len(header)), ostm))
    xs_off = w.tell()
    rows = b"".join(bytes([2]) + (9).to_bytes(2, "big") + bytes([i]) for i in range(len(objs)))
    w.add(10, stream_obj(b"/Type /XRef /Size 11 /Index [7 2] /W [1 2 1]", rows))
    xref = w.xref_table([FREE0] + w.used(1, 2, 3, 4, 5, 6, 9, 10))
    ident = pdf_id(bytes(w.buf)).encode()
    w.trailer(b"/Size 11 /Root 1 0 R /Info 8 0 R /XRefStm %d /ID [<%s> <%s>]" % (xs_off, ident, ident), xref)
    write(out, w.buf)


def cmd_broken_xref(inp, out):
    data = read(inp)
    i = data.rfind(b"startxref")
    m = re.compile(rb"startxref(\s+)(\d+)").match(data, i)
    if not m:
        die("no startxref in %s" % inp)
    wrong = int(m.group(2)) + 7
    data = data[:m.start(2)] + b"%d" % wrong + data[m.end(2):]
    write(out, data)


def cmd_big(out, mib):
    """Classic PDF 1.4 whose catalog carries an attachment of MIB MiB of
    SHAKE-128 output (incompressible, deterministic), streamed to disk."""
    n = int(mib) << 20
    w = Writer(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    classic_objects(w, b" /Names << /EmbeddedFiles << /Names [(random.bin) 9 0 R] >> >>")
    w.add(8, info_dict("libeid big test document (%d MiB attachment)" % int(mib), FIXED_DATE))
    w.add(9, b"<< /Type /Filespec /F (random.bin) /UF (random.bin) /EF << /F 10 0 R >> >>")
    with open(out, "wb") as f:
        f.write(w.buf)
        pos = len(w.buf)
        w.offsets[10] = pos
        head = b"10 0 obj\n<< /Type /EmbeddedFile /Length %d >>\nstream\n" % n
        tail = b"\nendstream\nendobj\n"
        f.write(head)
        shake = hashlib.shake_128(b"libeid big.pdf")
        f.write(shake.digest(n))
        f.write(tail)
        w.buf = bytearray()  # only the table and trailer are built from here on
        pos += len(head) + n + len(tail)
        xref_off = pos
        x = Writer()
        x.xref_table([FREE0] + w.used(*range(1, 11)))
        ident = hashlib.md5(b"libeid big.pdf %d" % n).hexdigest().upper().encode()
        x.trailer(b"/Size 11 /Root 1 0 R /Info 8 0 R /ID [<%s> <%s>]" % (ident, ident), xref_off)
        f.write(x.buf)


def cmd_pin(path):
    """Make a producer's output reproducible in place, without moving a byte:
    every (D:YYYYMMDDHHMMSS date gets the date of SOURCE_DATE_EPOCH, and the
    trailer /ID and LibreOffice's /DocChecksum get the MD5 of the file with
    those fields blanked.  Only same-length replacements, so the xref
    offsets stay valid."""
    data = bytearray(read(path))
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "1704164645"))
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch)).encode()
    for m in re.finditer(rb"\(D:(\d{14})", bytes(data)):
        data[m.start(1):m.end(1)] = stamp
    spans = []
    for m in re.finditer(rb"/ID\s*\[\s*<([0-9A-Fa-f]{32})>\s*<([0-9A-Fa-f]{32})>", bytes(data)):
        spans += [m.span(1), m.span(2)]
    for m in re.finditer(rb"/DocChecksum\s*/([0-9A-Fa-f]{32})", bytes(data)):
        spans.append(m.span(1))
    for a, b in spans:
        data[a:b] = b"0" * (b - a)
    digest = pdf_id(bytes(data)).encode()
    for a, b in spans:
        data[a:b] = digest
    write(path, data)


# ---------------------------------------------------------------------------
# LibreOffice input documents (flat ODT, UTF-8)
# ---------------------------------------------------------------------------
FODT_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:form="urn:oasis:names:tc:opendocument:xmlns:form:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:meta><dc:title>{title}</dc:title><meta:initial-creator>Jérôme Øster-Łukasz</meta:initial-creator></office:meta>
 <office:font-face-decls>
  <style:font-face style:name="DejaVu Sans" svg:font-family="'DejaVu Sans'"/>
  <style:font-face style:name="DejaVu Serif" svg:font-family="'DejaVu Serif'"/>
 </office:font-face-decls>
 <office:styles>
  <style:default-style style:family="paragraph"><style:text-properties style:font-name="DejaVu Serif" fo:font-size="11pt"/></style:default-style>
 </office:styles>
 <office:automatic-styles>
  <style:style style:name="H" style:family="paragraph"><style:text-properties style:font-name="DejaVu Sans" fo:font-size="16pt" fo:font-weight="bold"/></style:style>
  <style:style style:name="PB" style:family="paragraph"><style:paragraph-properties fo:break-before="page"/><style:text-properties style:font-name="DejaVu Sans" fo:font-size="16pt" fo:font-weight="bold"/></style:style>
  <style:style style:name="Tbl" style:family="table"><style:table-properties style:width="14cm" table:align="left"/></style:style>
  <style:style style:name="Cell" style:family="table-cell"><style:table-cell-properties fo:border="0.5pt solid #000000" fo:padding="0.1cm"/></style:style>
 </office:automatic-styles>
 <office:body><office:text>
"""

FODT_TAIL = """ </office:text></office:body>
</office:document>
"""

TABLE = """  <table:table table:name="Signer" table:style-name="Tbl">
   <table:table-column table:number-columns-repeated="2"/>
   <table:table-row><table:table-cell table:style-name="Cell"><text:p>Field</text:p></table:table-cell><table:table-cell table:style-name="Cell"><text:p>Value</text:p></table:table-cell></table:table-row>
   <table:table-row><table:table-cell table:style-name="Cell"><text:p>Given name</text:p></table:table-cell><table:table-cell table:style-name="Cell"><text:p>Jérôme</text:p></table:table-cell></table:table-row>
   <table:table-row><table:table-cell table:style-name="Cell"><text:p>Surname</text:p></table:table-cell><table:table-cell table:style-name="Cell"><text:p>Øster-Łukasz</text:p></table:table-cell></table:table-row>
   <table:table-row><table:table-cell table:style-name="Cell"><text:p>Country</text:p></table:table-cell><table:table-cell table:style-name="Cell"><text:p>BE — België/Belgique</text:p></table:table-cell></table:table-row>
  </table:table>
"""


def cmd_fodt(d):
    body = ('  <text:p text:style-name="H">libeid PAdES test corpus — LibreOffice Writer</text:p>\n'
            '  <text:p>Signer: Jérôme Øster-Łukasz. Ünïcödé: € ĳ ß æ ø å ő ű č ž.</text:p>\n'
            + TABLE +
            '  <text:p text:style-name="PB">Page two</text:p>\n'
            '  <text:p>Second page of the LibreOffice test document.</text:p>\n')
    write(os.path.join(d, "lo-writer.fodt"),
          (FODT_HEAD.format(title="libeid LibreOffice test document") + body + FODT_TAIL).encode())
    # Form: a text field and a checkbox.  The field value stays within
    # WinAnsi (poppler regenerates appearances with Helvetica and would
    # complain about "Ł").
    forms = ('  <office:forms form:automatic-focus="false" form:apply-design-mode="false">\n'
             '   <form:form form:name="Form">\n'
             '    <form:text form:name="FullName" form:id="ctl1" xml:id="ctl1" form:current-value="Jérôme Øster"/>\n'
             '    <form:checkbox form:name="Agree" form:id="ctl2" xml:id="ctl2" form:current-state="unchecked"/>\n'
             '   </form:form>\n'
             '  </office:forms>\n')
    body = (forms +
            '  <text:p text:style-name="H">libeid PAdES test corpus — form</text:p>\n'
            '  <text:p>Signer: Jérôme Øster-Łukasz.</text:p>\n'
            + TABLE +
            '  <text:p>Full name: <draw:control draw:control="ctl1" text:anchor-type="as-char" svg:width="7cm" svg:height="0.8cm"/></text:p>\n'
            '  <text:p>I agree: <draw:control draw:control="ctl2" text:anchor-type="as-char" svg:width="0.6cm" svg:height="0.6cm"/></text:p>\n'
            '  <text:p text:style-name="PB">Page two</text:p>\n'
            '  <text:p>Second page of the form test document.</text:p>\n')
    write(os.path.join(d, "form.fodt"),
          (FODT_HEAD.format(title="libeid LibreOffice form test document") + body + FODT_TAIL).encode())


# ---------------------------------------------------------------------------
# MANIFEST
# ---------------------------------------------------------------------------
def xref_sections(data):
    """Walk startxref and /Prev; return a list of 'table', 'hybrid', 'stream'."""
    kinds = []
    seen = set()
    off = last_startxref(data)
    while off is not None and off not in seen and len(kinds) < 100:
        seen.add(off)
        if data[off:off + 4] == b"xref":
            t = data.find(b"trailer", off)
            s = data.find(b"startxref", t)
            if t < 0:
                return kinds + ["invalid"]
            d = data[t:s if s > 0 else t + 4096]
            kinds.append("hybrid" if b"/XRefStm" in d else "table")
        elif re.match(rb"\d+\s+\d+\s+obj\s*<<", data[off:off + 64]) and b"/XRef" in data[off:off + 1024]:
            s = data.find(b"stream", off)
            d = data[off:s]
            kinds.append("stream")
        else:
            return kinds + ["invalid"]
        m = re.search(rb"/Prev\s+(\d+)", d)
        off = int(m.group(1)) if m else None
    return kinds


def pdfinfo(path):
    r = subprocess.run(["pdfinfo", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    fields = {}
    for line in r.stdout.decode("utf-8", "replace").splitlines():
        k, _, v = line.partition(":")
        fields[k.strip()] = v.strip()
    return fields


def cmd_manifest(d, labels):
    print("# name\tproducer\tpdf-version\txref\tpages\trevisions(%%EOF)\tacroform\tlinearized\tbytes")
    for spec in labels:
        name, _, label = spec.partition("=")
        path = os.path.join(d, name)
        data = read(path)
        kinds = xref_sections(data)
        if "invalid" in kinds:
            style = "table(startxref-broken)" if b"\nxref" in data else "invalid"
        elif "hybrid" in kinds:
            style = "hybrid"
        elif set(kinds) == {"table"}:
            style = "table"
        elif set(kinds) == {"stream"}:
            style = "stream"
        else:
            style = "+".join(dict.fromkeys(kinds))
        info = pdfinfo(path)
        form = info.get("Form", "?")
        print("\t".join([
            name, label, info.get("PDF version", "?"), style, info.get("Pages", "?"),
            str(data.count(b"%%EOF")), "yes" if form not in ("none", "?") else "no",
            "yes" if info.get("Optimized") == "yes" else "no", str(len(data)),
        ]))


def read(p):
    with open(p, "rb") as f:
        return f.read()


def write(p, data):
    with open(p, "wb") as f:
        f.write(data)


def main(argv):
    cmds = {
        "fodt": (cmd_fodt, 1), "classic": (cmd_classic, 1), "incremental": (cmd_incremental, 2),
        "xrefstm-update": (cmd_xrefstm_update, 2), "hybrid": (cmd_hybrid, 1),
        "broken-xref": (cmd_broken_xref, 2), "big": (cmd_big, 2), "pin": (cmd_pin, 1),
        "sigfields": (cmd_sigfields, 1), "png": (cmd_png, 1),
    }
    if len(argv) >= 2 and argv[1] == "manifest" and len(argv) >= 3:
        cmd_manifest(argv[2], argv[3:])
        return
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 != cmds[argv[1]][1]:
        sys.stderr.write(__doc__)
        sys.exit(2)
    cmds[argv[1]][0](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
