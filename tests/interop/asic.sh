#!/usr/bin/env bash
# ASiC-E and ASiC-S: eid-sign makes containers (non-ASCII names, sub-folders),
# adds a second signature without touching the first; the container layout is
# checked with python's zipfile, the signatures with xmlsec1 and xadesjs on the
# unpacked files, and eid-verify judges containers that were changed or forged.
. "$EID_TEST_SRCDIR/tests/lib.sh"
NODE_DIR=${EID_TEST_NODE_DIR:-$EID_TEST_SRCDIR/tests/interop/node}
verify() { "$VERIFY" "$@" --trust "$PKI/root.crt"; }
zipedit() { # IN OUT PYTHON (with zin, zout: zipfile objects; copy(info) copies an entry)
	python3 - "$@" <<'PY'
import sys, zipfile
src, dst, code = sys.argv[1:4]
zin = zipfile.ZipFile(src)
zout = zipfile.ZipFile(dst, "w")
def copy(i, data=None):
    zout.writestr(i, zin.read(i.filename) if data is None else data, compress_type=i.compress_type)
exec(code)
zout.close()
PY
}

cd "$T"
mkdir -p work/docs
printf 'Payment order: 12.50 EUR\n' > "work/Überweisung März 2026.txt"
printf '<invoice xmlns="urn:x"><amount>12.50</amount></invoice>\n' > work/docs/invoice.xml
cp "$EID_TEST_PDF/classic-1.3.pdf" work/docs/contract.pdf

# --- ASiC-E: three files, one in a sub-folder, one with spaces and umlauts
(cd work && p11sign --key-id 01 --pin pass:$PIN -f asice "Überweisung März 2026.txt" docs/invoice.xml docs/contract.pdf \
	-o "$T/c.asice") >"$T/out" 2>"$T/err" && ok "ASiC-E with three files" || { not_ok "ASiC-E: $(cat "$T/err")"; }
python3 - "$T/c.asice" <<'PY' >"$T/layout" 2>&1 && ok "layout: mimetype first, stored, no extra field, at offset 38" || not_ok "layout: $(cat "$T/layout")"
import sys, zipfile
f = sys.argv[1]
z = zipfile.ZipFile(f)
i = z.infolist()
d = open(f, "rb").read()
assert i[0].filename == "mimetype" and i[0].compress_type == 0 and i[0].extra == b"", i[0]
assert d[30:38] == b"mimetype" and d[38:38 + 31] == b"application/vnd.etsi.asic-e+zip"
names = [x.filename for x in i]
assert "META-INF/manifest.xml" in names and "META-INF/signatures0.xml" in names, names
assert "Überweisung März 2026.txt" in names and "docs/invoice.xml" in names, names
assert z.testzip() is None
PY
expect_status 0 "eid-verify the container" verify "$T/c.asice"
expect_grep 'ASiC-E/XAdES, XAdES-BASELINE-B' "$T/out" "reported as ASiC-E, XAdES-BASELINE-B"
expect_grep "file 'Überweisung März 2026.txt'" "$T/out" "the non-ASCII name is reported decoded"
expect_grep "file 'docs/invoice.xml'" "$T/out" "the sub-folder is kept"
unzip -q -o "$T/c.asice" -d "$T/unpacked"
expect_grep 'URI="%C3%9Cberweisung%20M%C3%A4rz%202026.txt"' "$T/unpacked/META-INF/signatures0.xml" "the URI is percent-encoded"
expect_grep 'full-path="Überweisung März 2026.txt"' "$T/unpacked/META-INF/manifest.xml" "the manifest names the file as stored"
# xmlsec1 resolves the detached references against the unpacked files
cp "$T/unpacked/META-INF/signatures0.xml" "$T/unpacked/sig.xml"
expect_status 0 "xmlsec1 verifies the container's signature over the unpacked files" \
	sh -c "cd '$T/unpacked' && xmlsec1 --verify --trusted-pem '$PKI/root.crt' --untrusted-pem '$PKI/int.crt' \
		--id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties sig.xml"
if [ -d "$NODE_DIR/node_modules/xadesjs" ]; then
	expect_status 0 "xadesjs verifies the container's signature" node "$NODE_DIR/xades-verify.mjs" "$T/unpacked/sig.xml" \
		--detached "%C3%9Cberweisung%20M%C3%A4rz%202026.txt=$T/unpacked/Überweisung März 2026.txt" \
		--detached "docs/invoice.xml=$T/unpacked/docs/invoice.xml" --detached "docs/contract.pdf=$T/unpacked/docs/contract.pdf"
fi

# --- a second signature: the first one's bytes stay as they were
before=$(unzip -p "$T/c.asice" META-INF/signatures0.xml | sha256sum)
expect_status 0 "a second signature (P-256)" p11sign --key-id 04 --pin pass:$PIN "$T/c.asice" -o "$T/c2.asice"
after=$(unzip -p "$T/c2.asice" META-INF/signatures0.xml | sha256sum)
[ "$before" = "$after" ] && ok "the first signature is untouched" || not_ok "the first signature changed"
expect_status 0 "eid-verify two signatures" verify "$T/c2.asice" --json
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); s=r["signatures"]; assert len(s)==2 and [x["field"] for x in s]==["META-INF/signatures0.xml","META-INF/signatures1.xml"] and all(x["indication"]=="TOTAL-PASSED" for x in s), s' \
	"$T/out" && ok "two TOTAL-PASSED signatures, signatures0 and signatures1" || not_ok "two signatures: $(head -c 400 "$T/out")"
expect_status 0 "a third, in place (output over the input)" p11sign --key-id 05 --pin pass:$PIN "$T/c2.asice" -o "$T/c2.asice"
expect_status 0 "... three signatures verify" verify "$T/c2.asice"
expect_grep 'Signatures: +3' "$T/out" "... three of them"

# --- ASiC-S
expect_status 0 "ASiC-S over one file" p11sign --key-id 01 --pin pass:$PIN -f asics "$T/work/docs/contract.pdf" -o "$T/s.asics"
expect_status 0 "eid-verify ASiC-S" verify "$T/s.asics"
expect_grep 'ASiC-S/XAdES' "$T/out" "reported as ASiC-S"
expect_grep 'META-INF/signatures.xml' "$T/out" "its signature file is META-INF/signatures.xml"
expect_status 3 "ASiC-S takes one file" p11sign --key-id 01 --pin pass:$PIN -f asics "$T/work/docs/contract.pdf" \
	"$T/work/docs/invoice.xml" -o "$T/x.asics"
expect_status 3 "no second signature in ASiC-S" p11sign --key-id 01 --pin pass:$PIN -f asice "$T/s.asics" -o "$T/x.asics"
expect_no_file "$T/x.asics" "nothing written"

# --- changed or forged containers
zipedit "$T/c.asice" "$T/extra.asice" '
for i in zin.infolist(): copy(i)
zout.writestr("added-later.txt", b"I owe you 1000 EUR\n")'
expect_status 0 "an extra file added after signing: the signature still holds" verify "$T/extra.asice"
expect_grep "file 'added-later.txt' is not signed by this signature" "$T/out" "... and the unsigned file is named"
zipedit "$T/c.asice" "$T/missing.asice" '
for i in zin.infolist():
    if i.filename != "docs/contract.pdf": copy(i)'
expect_status 1 "a signed file removed: INDETERMINATE" verify "$T/missing.asice"
expect_grep 'SIGNED_DATA_NOT_FOUND' "$T/out" "... SIGNED_DATA_NOT_FOUND"
zipedit "$T/c.asice" "$T/changed.asice" '
for i in zin.infolist():
    copy(i, b"Payment order: 99999 EUR\n" if i.filename.startswith("\u00dc") else None)'
expect_status 2 "a signed file changed: TOTAL-FAILED" verify "$T/changed.asice"
expect_grep 'HASH_FAILURE' "$T/out" "... HASH_FAILURE"
zipedit "$T/c.asice" "$T/badmime.asice" '
for i in zin.infolist():
    copy(i, b"application/zip" if i.filename == "mimetype" else None)'
verify "$T/badmime.asice" >"$T/out" 2>&1 || true
expect_grep 'not ASiC-E or ASiC-S|not a conforming ASiC' "$T/out" "a wrong mimetype is reported"
zipedit "$T/c.asice" "$T/deflated-mime.asice" '
import zipfile as zf
for i in zin.infolist():
    if i.filename == "mimetype":
        zout.writestr("mimetype", zin.read("mimetype"), compress_type=zf.ZIP_DEFLATED)
    else: copy(i)'
verify "$T/deflated-mime.asice" >"$T/out" 2>&1 || true
expect_grep 'not a conforming ASiC' "$T/out" "a compressed mimetype is reported"
# hostile ZIPs: exit 3, a clear message, nothing written anywhere else
for evil in "../evil.txt" "/abs.txt" "dir/../../evil.txt"; do
	python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w"); z.writestr("mimetype", "application/vnd.etsi.asic-e+zip"); z.writestr(sys.argv[2], "x"); z.close()' \
		"$T/evil.asice" "$evil"
	expect_status 3 "a container holding '$evil': refused" verify "$T/evil.asice"
done
[ ! -e "$T/../evil.txt" ] && [ ! -e /abs.txt ] && ok "nothing was written outside" || not_ok "a file was written outside"
python3 - "$T/bomb.asice" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)
z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.etsi.asic-e+zip", compress_type=zipfile.ZIP_STORED)
z.writestr("zeros.bin", b"\0" * (200 << 20))
z.close()
PY
expect_status 3 "a zip bomb (200 MiB of zeros in 200 KB): refused" verify "$T/bomb.asice"
expect_grep 'ratio|zip bomb|compress' "$T/err" "... the reason is given"
head -c 500 "$T/c.asice" > "$T/truncated.asice"
expect_status 3 "a truncated container: exit 3" verify "$T/truncated.asice"
expect_status 3 "signing into a container from a hostile one: refused" p11sign --key-id 01 --pin pass:$PIN "$T/bomb.asice" -o "$T/x.asice"
expect_no_file "$T/x.asice" "nothing written"

finish
