#!/usr/bin/env bash
# Build the libFuzzer harnesses with clang (ASan + UBSan + libFuzzer) and run
# each for a while on a seed corpus made from real signatures.
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_HARNESS]
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
inc="-I$build -I$build/include -I$top/include -I$top/libeid $(pkg-config --cflags libcrypto json-c p11-kit-1 libxml-2.0 libzip)"
libs="$(pkg-config --libs libcrypto json-c zlib libxml-2.0 libzip) -ldl -lpthread"
srcs=$(ls "$top"/libeid/{common,token,pki,cms,pdf,xml,xades,verify}/*.c)

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
fi

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

status=0
for h in fuzz_cms fuzz_cert fuzz_pdf fuzz_image fuzz_xml; do
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
