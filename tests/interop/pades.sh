#!/usr/bin/env bash
# PAdES: sign the producer PDFs (tests/pdf/make-corpus.sh) twice in a row with
# SoftHSM2 keys; qpdf --check, pdfsig and eid-verify must accept every result.
. "$EID_TEST_SRCDIR/tests/lib.sh"
CORPUS=${EID_TEST_PDF:?}
[ -f "$CORPUS/.complete" ] || { echo "no PDF corpus in $CORPUS"; exit 1; }

# pdfsig checks the signature itself (-nocert: certificate trust needs the OCSP responder of the long-term tests).
pdfsig_ok() { # FILE NSIG
	local out
	out=$(pdfsig -nocert "$1" 2>&1) || true
	[ "$(grep -c 'Signature Validation: Signature is Valid.' <<<"$out")" = "$2" ] || { echo "$out" | head -30; return 1; }
	grep -q 'Total document signed' <<<"$out" || { echo "$out" | head -30; return 1; }
}

n=0
for pdf in "$CORPUS"/*.pdf; do
	name=$(basename "$pdf" .pdf)
	case $name in broken-xref|big) continue ;; esac
	n=$((n + 1))
	before=$(sha256sum < "$pdf")
	expect_status 0 "$name: sign with RSA-2048" p11sign --key-id 01 --pin pass:$PIN -f pades --reason "Approved" \
		--location "Brussels" "$pdf" -o "$T/$name-1.pdf"
	[ "$(sha256sum < "$pdf")" = "$before" ] && ok "$name: input untouched" || not_ok "$name: input changed"
	expect_status 0 "$name: qpdf --check (one signature)" qpdf --check "$T/$name-1.pdf"
	if pdfsig_ok "$T/$name-1.pdf" 1; then ok "$name: pdfsig accepts one signature"; else not_ok "$name: pdfsig (one)"; fi
	expect_status 0 "$name: eid-verify (one)" "$VERIFY" "$T/$name-1.pdf" --trust "$PKI/root.crt"
	expect_grep 'PAdES-BASELINE-B' "$T/out" "$name: level PAdES-BASELINE-B"

	expect_status 0 "$name: second signature, P-256" p11sign --key-id 04 --pin pass:$PIN "$T/$name-1.pdf" -o "$T/$name-2.pdf"
	expect_status 0 "$name: qpdf --check (two signatures)" qpdf --check "$T/$name-2.pdf"
	if pdfsig_ok "$T/$name-2.pdf" 2; then ok "$name: pdfsig accepts both signatures"; else not_ok "$name: pdfsig (two)"; fi
	expect_status 0 "$name: eid-verify (two)" "$VERIFY" "$T/$name-2.pdf" --trust "$PKI/root.crt" --json
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r["signatures"])==2 and all(s["indication"]=="TOTAL-PASSED" for s in r["signatures"]), r' "$T/out" \
		&& ok "$name: two TOTAL-PASSED signatures" || not_ok "$name: two signatures"
done
[ $n -ge 5 ] && ok "$n producer PDFs signed" || not_ok "only $n producer PDFs"

# Three signers, three signatures.
p11sign --key-id 05 --pin pass:$PIN "$T/classic-1.3-2.pdf" -o "$T/three.pdf" 2>/dev/null
expect_status 0 "three signatures verify" "$VERIFY" "$T/three.pdf" --trust "$PKI/root.crt"
expect_grep 'Signatures: +3' "$T/out" "three signatures reported"

# A byte changed inside the signed range.
cp "$T/classic-1.3-1.pdf" "$T/tampered.pdf"
python3 - "$T/tampered.pdf" <<'PY'
import sys
p = sys.argv[1]; d = bytearray(open(p, 'rb').read())
i = d.find(b'BT')            # inside the page content
d[i + 3] ^= 0x01
open(p, 'wb').write(d)
PY
expect_status 2 "tampered content: TOTAL-FAILED" "$VERIFY" "$T/tampered.pdf" --trust "$PKI/root.crt"
expect_grep 'HASH_FAILURE' "$T/out" "tampered content: HASH_FAILURE"
pdfsig -nocert "$T/tampered.pdf" > "$T/pdfsig.txt" 2>&1 || true
expect_grep 'Digest Mismatch' "$T/pdfsig.txt" "pdfsig agrees: digest mismatch"

# Bytes appended after the signature are reported.
{ cat "$T/classic-1.3-1.pdf"; printf '\n%% appended\n'; } > "$T/appended.pdf"
expect_status 0 "appended bytes: still a valid signature" "$VERIFY" "$T/appended.pdf" --trust "$PKI/root.crt"
expect_grep 'changed after this signature' "$T/out" "appended bytes are reported"

# We verify what pdfsig signs (RSA key through an NSS database), once and twice.
bash "$EID_TEST_SRCDIR/tests/pdf/nssdb.sh" "$PKI" "$T/nssdb" >/dev/null
if bash "$EID_TEST_SRCDIR/tests/pdf/pdfsig-sign.sh" "$PKI" "$T/nssdb" "$CORPUS/lo-writer.pdf" "$T/by-pdfsig.pdf" "$T/by-pdfsig-2.pdf"; then
	expect_status 0 "we verify a pdfsig signature" "$VERIFY" "$T/by-pdfsig.pdf" --trust "$PKI/root.crt"
	expect_status 0 "we verify two pdfsig signatures" "$VERIFY" "$T/by-pdfsig-2.pdf" --trust "$PKI/root.crt"
	expect_grep 'Signatures: +2' "$T/out" "both pdfsig signatures reported"
	expect_status 0 "we sign over pdfsig's signature" p11sign --key-id 05 --pin pass:$PIN "$T/by-pdfsig.pdf" -o "$T/mixed.pdf"
	if pdfsig_ok "$T/mixed.pdf" 2; then ok "pdfsig accepts the mixed document"; else not_ok "pdfsig (mixed)"; fi
	expect_status 0 "we verify the mixed document" "$VERIFY" "$T/mixed.pdf" --trust "$PKI/root.crt"
else
	not_ok "pdfsig could not sign the corpus file"
fi

# Visible signatures: the box is drawn (rendered with pdftoppm), on a chosen page,
# with a non-ASCII name and reason, twice on one document, on several producers.
for name in lo-writer classic-1.3 objstm form; do
	# form.pdf sets /NeedAppearances: poppler redraws every field and leaves signature boxes empty
	drawn=1; [ $name = form ] && drawn=0
	expect_status 0 "$name: visible signature on page 2" p11sign --key-id 01 --pin pass:$PIN --reason "Approuvé — Łódź" \
		--visible page=2,x=300,y=80,w=220,h=70 "$CORPUS/$name.pdf" -o "$T/$name-vis.pdf"
	before=$(ink "$CORPUS/$name.pdf" 2 300 80 220 70)
	after=$(ink "$T/$name-vis.pdf" 2 300 80 220 70)
	if [ $drawn = 0 ]; then ok "$name: box not checked (/NeedAppearances)"
	elif [ "$before" -lt 50 ] && [ "$after" -gt 500 ]; then ok "$name: the box is drawn ($before -> $after dark pixels)"
	else not_ok "$name: box not drawn ($before -> $after dark pixels)"; fi
	expect_status 0 "$name: qpdf --check (visible)" qpdf --check "$T/$name-vis.pdf"
	if pdfsig_ok "$T/$name-vis.pdf" 1; then ok "$name: pdfsig accepts the visible signature"; else not_ok "$name: pdfsig (visible)"; fi
	expect_status 0 "$name: a second visible signature on page 1" p11sign --key-id 04 --pin pass:$PIN \
		--visible page=1,x=40,y=40,w=180,h=50 "$T/$name-vis.pdf" -o "$T/$name-vis2.pdf"
	if pdfsig_ok "$T/$name-vis2.pdf" 2; then ok "$name: pdfsig accepts both visible signatures"; else not_ok "$name: pdfsig (two visible)"; fi
	expect_status 0 "$name: eid-verify both visible signatures" "$VERIFY" "$T/$name-vis2.pdf" --trust "$PKI/root.crt"
	after=$(ink "$T/$name-vis2.pdf" 1 40 40 180 50)
	[ $drawn = 0 ] || [ "$after" -gt 300 ] && ok "$name: the second box is drawn" || not_ok "$name: second box not drawn ($after)"
done
# A picture in the box: a JPEG (passed through) and a PNG with transparency (soft mask).
pdftoppm -r 30 -f 1 -l 1 -singlefile -jpeg "$CORPUS/lo-writer.pdf" "$T/pic"
python3 "$EID_TEST_SRCDIR/tests/pdf/pdfgen.py" png "$T/pen.png"
# picture PDF: pixels on the left of the page-2 box that neither the box (light blue,
# dark blue text) nor the page has: white paper of the JPEG, strong blue of the pen.
picture() {
	pdftoppm -f 2 -l 2 -r 72 -x 304 -y $((842 - 146)) -W 90 -H 62 "$1" > "$T/box.ppm"
	python3 -c '
import sys
d = open(sys.argv[1], "rb").read().split(b"\n", 3)[3]
px = [d[i:i + 3] for i in range(0, len(d) - 2, 3)]
print(sum(1 for r, g, b in px if b - r > 90 or (r > 250 and g > 250)))' "$T/box.ppm"
}
plain=$(picture "$T/lo-writer-vis.pdf")
for img in pic.jpg pen.png; do
	expect_status 0 "$img in a visible signature" p11sign --key-id 01 --pin pass:$PIN --image "$T/$img" \
		--visible page=2,x=300,y=80,w=220,h=70 "$CORPUS/lo-writer.pdf" -o "$T/img-$img.pdf"
	expect_status 0 "$img: qpdf --check" qpdf --check "$T/img-$img.pdf"
	if pdfsig_ok "$T/img-$img.pdf" 1; then ok "$img: pdfsig accepts it"; else not_ok "$img: pdfsig"; fi
	expect_status 0 "$img: eid-verify" "$VERIFY" "$T/img-$img.pdf" --trust "$PKI/root.crt"
	pic=$(picture "$T/img-$img.pdf")
	[ "$pic" -gt $((plain + 150)) ] && ok "$img: the picture is drawn on the left of the box ($plain -> $pic pixels)" \
		|| not_ok "$img: no picture ($plain -> $pic)"
done
qpdf --qdf --object-streams=disable "$T/img-pen.png.pdf" "$T/qdf.pdf" 2>/dev/null || true
expect_grep '/SMask [0-9]+ 0 R' "$T/qdf.pdf" "the PNG's transparency is a soft mask"
qpdf --qdf --object-streams=disable "$T/img-pic.jpg.pdf" "$T/qdf.pdf" 2>/dev/null || true
expect_grep '/DCTDecode' "$T/qdf.pdf" "the JPEG is passed through"
printf 'not an image' > "$T/bad.png"
expect_status 3 "a file that is not a picture" p11sign --key-id 01 --pin pass:$PIN --image "$T/bad.png" \
	--visible page=1,x=300,y=80,w=220,h=70 "$CORPUS/lo-writer.pdf" -o "$T/x.pdf"
head -c 300 "$T/pen.png" > "$T/cut.png"
expect_status 3 "a truncated PNG" p11sign --key-id 01 --pin pass:$PIN --image "$T/cut.png" \
	--visible page=1,x=300,y=80,w=220,h=70 "$CORPUS/lo-writer.pdf" -o "$T/x.pdf"
expect_grep 'PNG' "$T/err" "the PNG's problem is named"
expect_status 3 "--image without --visible" p11sign --key-id 01 --pin pass:$PIN --image "$T/pen.png" \
	"$CORPUS/lo-writer.pdf" -o "$T/x.pdf"
expect_no_file "$T/x.pdf" "no output for a bad picture"
qpdf --qdf --object-streams=disable "$T/lo-writer-vis.pdf" "$T/qdf.pdf" 2>/dev/null || true
expect_grep '/Lslash' "$T/qdf.pdf" "the font encoding names the glyph Lslash"
expect_grep 'Helvetica' "$T/qdf.pdf" "a standard font, nothing embedded"
expect_status 3 "a page that does not exist" p11sign --key-id 01 --pin pass:$PIN --visible page=9,x=10,y=10,w=100,h=40 \
	"$CORPUS/classic-1.3.pdf" -o "$T/x.pdf"
expect_status 3 "a malformed --visible" p11sign --key-id 01 --pin pass:$PIN --visible page=1,x=10 "$CORPUS/classic-1.3.pdf" -o "$T/x.pdf"
expect_no_file "$T/x.pdf" "no output for a bad --visible"

# A second signature is an allowed change: no failure, only what signing did.
expect_status 0 "a later signature is not a violation" "$VERIFY" "$T/lo-writer-2.pdf" --trust "$PKI/root.crt"
if grep -q 'changed after signing' "$T/out"; then not_ok "a later signature flagged as a change"; else ok "a later signature is not flagged"; fi
# What other revisions change, and the published attacks: tests/interop/pdf_attacks.sh.

# Hostile or unusable input: exit 3, nothing written.
head -c 300 "$CORPUS/classic-1.3.pdf" > "$T/truncated.pdf"
expect_status 3 "truncated PDF" p11sign --key-id 01 --pin pass:$PIN "$T/truncated.pdf" -o "$T/x.pdf"
expect_no_file "$T/x.pdf" "no output for a truncated PDF"
printf '%%PDF-1.7\ngarbage garbage\n' > "$T/garbage.pdf"
expect_status 3 "garbage PDF" p11sign --key-id 01 --pin pass:$PIN "$T/garbage.pdf" -o "$T/x.pdf"
expect_no_file "$T/x.pdf" "no output for garbage"
if qpdf --encrypt user owner 256 -- "$CORPUS/classic-1.3.pdf" "$T/encrypted.pdf" 2>/dev/null; then
	expect_status 3 "encrypted PDF refused" p11sign --key-id 01 --pin pass:$PIN "$T/encrypted.pdf" -o "$T/x.pdf"
	expect_grep 'encrypted' "$T/err" "encryption is named"
fi
expect_status 3 "wrong PIN on a PDF leaves nothing" p11sign --key-id 01 --pin pass:999999 "$CORPUS/classic-1.3.pdf" -o "$T/x.pdf"
expect_no_file "$T/x.pdf" "no output after a wrong PIN"
leftovers=$(find "$T" -name '.eid-out-*' | wc -l)
[ "$leftovers" = 0 ] && ok "no temporary files left" || not_ok "$leftovers temporary files left"
expect_status 3 "unsigned PDF: nothing to verify" "$VERIFY" "$CORPUS/classic-1.3.pdf" --trust "$PKI/root.crt"

finish
