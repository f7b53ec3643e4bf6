#!/usr/bin/env bash
# Build the libFuzzer harnesses with clang (ASan + UBSan + libFuzzer) and run
# each for a while on a seed corpus made from real signatures.
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_HARNESS]
# FUZZ_HARNESSES="fuzz_xml ..." runs only those.
# BUILD_DIR must be configured (its config.h and include/eid/version.h are used)
# and have made its test fixtures (tests/run/pki).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
secs=${2:-30}
out=$build/fuzz
mkdir -p "$out"
cc=${FUZZ_CC:-clang}
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fvisibility=hidden"
inc="-I$build -I$build/include -I$top/include -I$top/libeid $(pkg-config --cflags libcrypto json-c p11-kit-1 libxml-2.0 libzip libpcsclite)"
libs="$(pkg-config --libs libcrypto json-c zlib libxml-2.0 libzip libpcsclite) -ldl -lpthread"
srcs=$(ls "$top"/libeid/{common,token,pki,cms,pdf,xml,xades,asic,ltv,verify,card}/*.c)

pki=$build/tests/run/pki
[ -f "$pki/.complete" ] || { echo "no fixtures in $pki (run make check first)"; exit 1; }

# Seed corpora: real signatures and certificates.
mkdir -p "$out/corpus-cms" "$out/corpus-cert" "$out/corpus-pdf"
doc=$(mktemp)
printf 'The quick brown fox jumps over the lazy dog.\n' > "$doc"
for k in citizen-rsa2048 citizen-p256 citizen-p384; do
	openssl cms -sign -binary -cades -in "$doc" -signer "$pki/$k.crt" -inkey "$pki/$k.key" -certfile "$pki/int.crt" \
		-outform DER -out "$out/corpus-cms/$k.der" 2>/dev/null
done
openssl cms -sign -binary -cades -in "$doc" -signer "$pki/citizen-rsa2048.crt" -inkey "$pki/citizen-rsa2048.key" \
	-keyopt rsa_padding_mode:pss -outform PEM -out "$out/corpus-cms/pss.pem" 2>/dev/null
rm -f "$doc"
cp "$pki"/*.der "$out/corpus-cert/" 2>/dev/null || true
cp "$pki/root.crt" "$pki/chain.pem" "$out/corpus-cert/"
# PDFs from several producers (made by tests/pdf/make-corpus.sh for the test run),
# and signed ones: approval, certified, signed twice, changed after signing.
for f in "$build"/tests/run/pdf/*.pdf; do
	[ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 200000 ] && cp "$f" "$out/corpus-pdf/"
done
sign() { "$build/tools/eid-sign" --pkcs12 "$pki/citizen-p256.p12" --pass pass:test "$@" 2>/dev/null; }
pdfs=$build/tests/run/pdf
if [ -x "$build/tools/eid-sign" ] && [ -f "$pdfs/sigfields.pdf" ]; then
	sign "$pdfs/classic-1.3.pdf" -o "$out/corpus-pdf/signed.pdf"
	sign --certify forms "$pdfs/sigfields.pdf" -o "$out/corpus-pdf/certified.pdf"
	sign --field Buyer "$out/corpus-pdf/certified.pdf" -o "$out/corpus-pdf/certified-2.pdf"
	python3 "$top/tests/pdf/attack.py" annot "$out/corpus-pdf/signed.pdf" "$out/corpus-pdf/annotated.pdf" FreeText
	python3 "$top/tests/pdf/attack.py" content "$out/corpus-pdf/signed.pdf" "$out/corpus-pdf/changed.pdf"
fi

# XML: signatures of every packaging, made by eid-sign with a PKCS#12 key.
mkdir -p "$out/corpus-xml"
if [ -x "$build/tools/eid-sign" ]; then
	printf '<invoice xmlns="urn:x"><id Id="i1">42</id><!-- c --><amount>1.50</amount></invoice>\n' > "$out/corpus-xml/plain.xml"
	printf 'data\n' > "$out/data.txt"
	for p in enveloped enveloping; do
		sign -f xades --packaging $p "$out/corpus-xml/plain.xml" -o "$out/corpus-xml/$p.xml"
	done
	sign -f xades --packaging enveloping "$out/data.txt" -o "$out/corpus-xml/base64.xml"
	sign -f xades --packaging detached "$out/data.txt" -o "$out/corpus-xml/detached.xml"
	mkdir -p "$out/corpus-zip"
	sign -f asice "$out/data.txt" "$out/corpus-xml/plain.xml" -o "$out/corpus-zip/signed.asice"
	sign -f asics "$out/data.txt" -o "$out/corpus-zip/signed.asics"
fi

# Long-term signatures (B-LTA: validation data and archive timestamps) in every
# format, from a PKI of their own with its TSA and OCSP responder on 127.0.0.1.
if [ -x "$build/tools/eid-sign" ] && command -v python3 >/dev/null; then
	lt=$(mktemp -d)
	port=$(bash "$top/tests/pki/servers.sh" free-port)
	if bash "$top/tests/pki/make-pki.sh" "$lt/pki" "http://127.0.0.1:$port" >/dev/null 2>&1 &&
	   eval "$(bash "$top/tests/pki/servers.sh" start "$lt/srv" "$lt/pki" 2>/dev/null)"; then
		ltsign() { no_proxy=127.0.0.1 "$build/tools/eid-sign" --pkcs12 "$lt/pki/citizen-p256.p12" --pass pass:test \
			-l B-LTA --tsa "$EID_TEST_TSA_URL" "$@" >/dev/null 2>&1 || echo "warning: no B-LTA seed $*"; }
		# over the data fuzz_cms checks against
		printf 'The quick brown fox jumps over the lazy dog.\n' > "$lt/data"
		ltsign -f cades "$lt/data" -o "$out/corpus-cms/lta.der"
		[ -f "$pdfs/classic-1.3.pdf" ] && ltsign "$pdfs/classic-1.3.pdf" -o "$out/corpus-pdf/lta.pdf"
		ltsign -f xades --packaging enveloped "$out/corpus-xml/plain.xml" -o "$out/corpus-xml/lta.xml"
		ltsign -f asice "$out/data.txt" -o "$out/corpus-zip/lta.asice"
		bash "$top/tests/pki/servers.sh" stop "$lt/srv" >/dev/null 2>&1 || true
	fi
	rm -rf "$lt"
fi

# ZIP: ASiC-E and ASiC-S containers with folders, non-ASCII names, data
# descriptors, Zip64 fields, a comment, and an empty archive.
mkdir -p "$out/corpus-zip"
python3 - "$out/corpus-zip" <<'EOF'
# Seed containers for fuzz_zip: ASiC-E and ASiC-S as other producers write them
# (stored mimetype first, deflated and stored files, folders, non-ASCII names,
# data descriptors, Zip64 records, a comment), and an empty archive.
import io, os, sys, zipfile
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
E = b"application/vnd.etsi.asic-e+zip"
S = b"application/vnd.etsi.asic-s+zip"
MANIFEST = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">\n'
            b' <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.etsi.asic-e+zip"/>\n'
            b' <manifest:file-entry manifest:full-path="doc.txt" manifest:media-type="text/plain"/>\n'
            b'</manifest:manifest>\n')
SIG = b'<asic:XAdESSignatures xmlns:asic="http://uri.etsi.org/02918/v1.2.1#"><ds:Signature/></asic:XAdESSignatures>'

def container(name, mimetype, files, stream=False, zip64=False, comment=b""):
    raw = io.BytesIO()
    class NoSeek(io.RawIOBase):  # makes zipfile write data descriptors
        def writable(self): return True
        def write(self, b): return raw.write(b)
    z = zipfile.ZipFile(NoSeek() if stream else raw, "w")
    z.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
    for fname, data, method in files:
        info = zipfile.ZipInfo(fname, date_time=(2024, 3, 1, 12, 0, 0))
        info.compress_type = method
        if data is None:
            info.external_attr = 0o40755 << 16 | 0x10
            z.writestr(info, b"")
        elif zip64:
            with z.open(info, "w", force_zip64=True) as f:
                f.write(data)
        else:
            z.writestr(info, data)
    z.comment = comment
    z.close()
    open(os.path.join(out, name), "wb").write(raw.getvalue())

D, S0 = zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED
text = b"The quick brown fox jumps over the lazy dog.\n" * 40
container("asic-e.asice", E, [("doc.txt", text, D), ("META-INF/manifest.xml", MANIFEST, D),
                              ("META-INF/signatures0.xml", SIG, D)])
container("asic-s.asics", S, [("doc.txt", text, D), ("META-INF/signatures.xml", SIG, D)])
container("folders.asice", E, [("dossier/", None, S0), ("dossier/sub/", None, S0),
                               ("dossier/\u00dcberweisung \u2013 M\u00e4rz.pdf", b"%PDF-1.7\n%%EOF\n", D),
                               ("\u65e5\u672c\u8a9e.txt", "\u3053\u3093\u306b\u3061\u306f".encode(), S0),
                               ("META-INF/manifest.xml", MANIFEST, D)])
container("stream.asice", E, [("doc.txt", text, D), ("raw.bin", bytes(range(256)), S0)], stream=True)
container("zip64.asice", E, [("doc.txt", text, D), ("empty.txt", b"", D)], zip64=True)
container("comment.asics", S, [("doc.txt", b"x", S0)], comment=b"made by hand")
container("no-mimetype-first.zip", b"text/plain", [("a.txt", b"a", D)])
open(os.path.join(out, "empty.zip"), "wb").write(b"PK\x05\x06" + bytes(18))

# A Zip64 end of central directory record and locator in front of a saturated end record.
import struct
b = open(os.path.join(out, "asic-s.asics"), "rb").read()
eocd = b.rfind(b"PK\x05\x06")
_, disk, cd_disk, n_disk, n, cd_size, cd_off, clen = struct.unpack("<IHHHHIIH", b[eocd:eocd + 22])
z64 = struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, n, n, cd_size, cd_off)
loc = struct.pack("<IIQI", 0x07064b50, 0, eocd, 1)
end = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xffff, 0xffff, 0xffffffff, 0xffffffff, 0)
open(os.path.join(out, "zip64-eocd.asics"), "wb").write(b[:eocd] + z64 + loc + end)
EOF

# Seed images: PNGs of every colour type and bit depth, and JPEGs (baseline,
# progressive, Adobe CMYK) rendered from the test PDFs.
mkdir -p "$out/corpus-image"
python3 - "$out/corpus-image" <<'EOF'
import os, random, struct, sys, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
rnd = random.Random(1)
for ctype, depth in ((0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 4), (3, 8),
                     (4, 8), (4, 16), (6, 8), (6, 16)):
    w, h, ch = 7, 5, {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    extra = {0: chunk(b"tRNS", b"\0\1"), 2: chunk(b"tRNS", b"\0\1\0\2\0\3")}.get(ctype, b"")
    if ctype == 3:
        extra = chunk(b"PLTE", bytes(rnd.randrange(256) for _ in range(3 << depth))) + chunk(b"tRNS", b"\0\x80")
    n = (w * ch * depth + 7) // 8
    z = zlib.compress(b"".join(bytes([y % 5]) + bytes(rnd.randrange(256) for _ in range(n)) for y in range(h)))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0)) + extra +
           chunk(b"IDAT", z[:len(z) // 2]) + chunk(b"IDAT", z[len(z) // 2:]) + chunk(b"IEND", b""))
    open(os.path.join(sys.argv[1], "c%d-d%d.png" % (ctype, depth)), "wb").write(png)
EOF
for f in "$build"/tests/run/pdf/*.pdf; do
	[ -f "$f" ] || continue
	b=$out/corpus-image/$(basename "$f" .pdf)
	pdftoppm -q -f 1 -l 1 -scale-to 16 -singlefile -jpeg "$f" "$b" || true
	pdftoppm -q -f 1 -l 1 -scale-to 16 -singlefile -jpeg -jpegopt progressive=y "$f" "$b-prog" || true
	pdftoppm -q -f 1 -l 1 -scale-to 16 -singlefile -jpegcmyk "$f" "$b-cmyk" || true
done

# Seed card answers: a Belgian identity file and address file (the two halves
# of one input), and BER-TLV templates (FCI, PIN information, PKCS#15 ODF).
mkdir -p "$out/corpus-card"
python3 - "$out/corpus-card" <<'EOF'
import os, sys
def be(tag, v):
    v = v.encode() if isinstance(v, str) else v
    n, l = len(v), b""
    while n >= 255:
        l += b"\xff"; n -= 255
    return bytes([tag]) + l + bytes([n]) + v
ident = (be(1, "592012345656") + be(3, "24.10.2026") + be(4, "23.10.2036") + be(6, "85031512369") +
         be(7, "\u00d8ster-\u0141ukasz") + be(8, "J\u00e9r\u00f4me") + be(9, "\u00c9") + be(0x0c, "15 MARS 1985") +
         be(0x0d, "M") + be(0x11, bytes(20)) + be(0x1a, bytes(48)) + be(0x07, "x" * 300))
addr = (be(1, "Rue de l'\u00c9glise 12") + be(2, "1000") + be(3, "Bruxelles")).ljust(len(ident), b"\0")
open(os.path.join(sys.argv[1], "belpic"), "wb").write(ident + addr)
open(os.path.join(sys.argv[1], "fci"), "wb").write(bytes.fromhex("6F108408A000000077010800A5049F6501FF5F2D02656E"))
open(os.path.join(sys.argv[1], "pininfo"), "wb").write(bytes.fromhex("701EBF81011AA0189A01039B0103A1108C06F300007343009C06F30000734300"))
open(os.path.join(sys.argv[1], "odf"), "wb").write(bytes.fromhex("A00A300804063F0050154402A40A300804063F0050154404"))
EOF

status=0
for h in ${FUZZ_HARNESSES:-fuzz_cms fuzz_cert fuzz_pdf fuzz_image fuzz_xml fuzz_zip fuzz_card}; do
	echo "== $h: building"
	# shellcheck disable=SC2086
	$cc $flags $inc -o "$out/$h" "$top/tests/fuzz/$h.c" $srcs $libs
	echo "== $h: ${secs}s"
	EID_FUZZ_TRUST="$pki/root.crt" ASAN_OPTIONS=detect_leaks=1 \
		"$out/$h" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/$h-" "$out/corpus-${h#fuzz_}" >"$out/$h.log" 2>&1 || status=$?
	tail -n 2 "$out/$h.log"
	if [ $status != 0 ]; then
		echo "FAIL: $h found a problem; see $out/$h.log and the artifact beside it"
		exit 1
	fi
done
echo "ok: fuzz harnesses ran ${secs}s each without findings"
