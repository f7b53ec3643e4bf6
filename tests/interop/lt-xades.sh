#!/usr/bin/env bash
# XAdES and ASiC at B-LT and B-LTA against the loopback PKI (tests/pki/servers.py:
# TSA, OCSP, CRLs, AIA): eid-sign -l B-LT/B-LTA and eid-sign --extend from B-B
# and B-T, for enveloped, enveloping and detached XAdES and for ASiC-E and
# ASiC-S; renewal (a second ArchiveTimeStamp); eid-verify offline reports the
# levels and TOTAL-PASSED from the data the signatures carry; xmlsec1 and
# xadesjs still accept what was extended, and an enveloped document keeps its
# bytes; servers that fail, a revoked signer and a forged archive timestamp.
. "$EID_TEST_SRCDIR/tests/lib.sh"
HERE=$EID_TEST_SRCDIR/tests/pki
NODE_DIR=${EID_TEST_NODE_DIR:-$EID_TEST_SRCDIR/tests/interop/node}
pki_servers
sign() { "$SIGN" --pkcs12 "$P/${KEY:-citizen-rsa2048}.p12" --pass pass:test "$@"; }
check() { "$VERIFY" --trust "$P/root.crt" --untrusted "$P/int.crt" "$@"; }
extend() { "$SIGN" --extend "$@"; }
xmlsec() { # FILE [dir to run in, for detached references]
	(cd "${2:-$T}" && xmlsec1 --verify --trusted-pem "$P/root.crt" --untrusted-pem "$P/int.crt" \
		--id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties "$1")
}
have_node=0
[ -d "$NODE_DIR/node_modules/xadesjs" ] && command -v node >/dev/null && have_node=1
count() { grep -o "$1" "$2" | wc -l; }
# level FILE LEVEL DESC [eid-verify options]: offline, --json, TOTAL-PASSED at LEVEL (B-T carries no
# revocation data: offline it is INDETERMINATE/TRY_LATER)
level() {
	local f=$1 want=$2 desc=$3
	shift 3
	if [ "$want" = T ]; then
		expect_status 1 "$desc: eid-verify --json, offline: no revocation data" check --json "$f" "$@"
		expect_grep '"subIndication": "TRY_LATER"' "$T/out" "... TRY_LATER"
	else
		expect_status 0 "$desc: eid-verify --json, offline" check --json "$f" "$@"
		expect_grep '"indication": "TOTAL-PASSED"' "$T/out" "... TOTAL-PASSED"
	fi
	expect_grep "\"level\": \"XAdES-BASELINE-$want\"" "$T/out" "... level XAdES-BASELINE-$want"
}

printf '<?xml version="1.0" encoding="UTF-8"?>\n<!-- kept as it is -->\n<invoice xmlns="urn:example:invoice">\n  <id>42</id>\n  <amount currency="EUR">12.50</amount>\n  <!-- a comment -->\n  <note>Jérôme</note>\n</invoice>\n\n' > "$T/inv.xml"
printf 'Contract: 12.50 EUR.\n' > "$T/doc.txt"
printf 'Annex.\n' > "$T/annex.txt"

# ---- eid-sign -l B-LT / B-LTA, every packaging
for lvl in LT LTA; do
	expect_status 0 "enveloped B-$lvl" sign -l B-$lvl --tsa "$TSA" "$T/inv.xml" -o "$T/env-$lvl.xml"
	level "$T/env-$lvl.xml" $lvl "enveloped B-$lvl"
	expect_grep '<xades:CertificateValues><xades:EncapsulatedX509Certificate>' "$T/env-$lvl.xml" "... CertificateValues"
	expect_grep '<xades:RevocationValues><xades:OCSPValues><xades:EncapsulatedOCSPValue>' "$T/env-$lvl.xml" "... RevocationValues with OCSP"
	expect_grep '</xades:SignatureTimeStamp><xades141:TimeStampValidationData' "$T/env-$lvl.xml" \
		"... the TSA's validation data right after the signature timestamp"
	expect_status 0 "... xmlsec1" xmlsec "$T/env-$lvl.xml"
	expect_status 0 "enveloping B-$lvl" sign -l B-$lvl --tsa "$TSA" -f xades --packaging enveloping "$T/inv.xml" -o "$T/enc-$lvl.xml"
	level "$T/enc-$lvl.xml" $lvl "enveloping B-$lvl"
	expect_status 0 "... xmlsec1" xmlsec "$T/enc-$lvl.xml"
	# detached: the data is found beside the signature (eid-sign extends a temporary file beside the output)
	expect_status 0 "detached B-$lvl" sign -l B-$lvl --tsa "$TSA" -f xades --packaging detached "$T/doc.txt" "$T/annex.txt" \
		-o "$T/det-$lvl.xml"
	level "$T/det-$lvl.xml" $lvl "detached B-$lvl" --data "$T"
	expect_status 0 "... xmlsec1" xmlsec "det-$lvl.xml" "$T"
	expect_status 0 "ASiC-E B-$lvl" sign -l B-$lvl --tsa "$TSA" -f asice "$T/doc.txt" "$T/inv.xml" -o "$T/e-$lvl.asice"
	level "$T/e-$lvl.asice" $lvl "ASiC-E B-$lvl"
	expect_grep '"format": "ASiC-E/XAdES"' "$T/out" "... ASiC-E"
	expect_status 0 "ASiC-S B-$lvl" sign -l B-$lvl --tsa "$TSA" -f asics "$T/doc.txt" -o "$T/s-$lvl.asics"
	level "$T/s-$lvl.asics" $lvl "ASiC-S B-$lvl"
	expect_grep '"format": "ASiC-S/XAdES"' "$T/out" "... ASiC-S"
done
check --json "$T/env-LTA.xml" >"$T/out" 2>&1 || true
expect_grep '"archiveTimestamp": \{' "$T/out" "B-LTA: the archive timestamp is reported"
[ "$(count '<xades141:ArchiveTimeStamp ' "$T/env-LTA.xml")" = 1 ] && ok "B-LTA: one ArchiveTimeStamp" || not_ok "B-LTA: not one ArchiveTimeStamp"
[ "$(count 'ArchiveTimeStamp' "$T/env-LT.xml")" = 0 ] && ok "B-LT: no ArchiveTimeStamp" || not_ok "B-LT has an ArchiveTimeStamp"
expect_status 1 "detached B-LTA without its files: not TOTAL-PASSED" check "$T/det-LTA.xml"
expect_status 0 "P-256 enveloped B-LTA" env KEY=citizen-p256 "$SIGN" --pkcs12 "$P/citizen-p256.p12" --pass pass:test \
	-l B-LTA --tsa "$TSA" "$T/inv.xml" -o "$T/env-p256.xml"
level "$T/env-p256.xml" LTA "P-256 B-LTA"

# ---- eid-sign --extend from B-B and B-T
expect_status 0 "enveloped B-B" sign "$T/inv.xml" -o "$T/bb.xml"
expect_status 0 "enveloped B-T" sign -l B-T --tsa "$TSA" "$T/inv.xml" -o "$T/bt.xml"
expect_status 0 "extend B-B to B-T" extend B-T --tsa "$TSA" "$T/bb.xml" -o "$T/bb-t.xml"
level "$T/bb-t.xml" T "B-B extended to B-T"
expect_status 0 "... xmlsec1" xmlsec "$T/bb-t.xml"
# xadesjs knows XAdES 1.3.2's ArchiveTimeStamp only (it refuses the 1.4.1 one as malformed): B-T and B-LT
if [ $have_node = 1 ]; then
	expect_status 0 "... xadesjs" node "$NODE_DIR/xades-verify.mjs" "$T/bb-t.xml"
	expect_status 0 "xadesjs: enveloped B-LT" node "$NODE_DIR/xades-verify.mjs" "$T/env-LT.xml"
else
	not_ok "xadesjs missing: run scripts/install-deps.sh"
fi
for from in bb bt; do
	for lvl in LT LTA; do
		expect_status 0 "extend $from to B-$lvl" extend B-$lvl --tsa "$TSA" "$T/$from.xml" -o "$T/$from-$lvl.xml"
		level "$T/$from-$lvl.xml" $lvl "$from extended to B-$lvl"
		expect_status 0 "... xmlsec1" xmlsec "$T/$from-$lvl.xml"
	done
done
[ "$(count '<xades:SignatureTimeStamp ' "$T/bt-LTA.xml")" = 1 ] && ok "B-T extended: its timestamp kept, no second one" ||
	not_ok "B-T extended: not one SignatureTimeStamp"
expect_status 0 "extend B-LT to B-LTA" extend B-LTA --tsa "$TSA" "$T/bb-LT.xml" -o "$T/lt-lta.xml"
level "$T/lt-lta.xml" LTA "B-LT extended to B-LTA"
[ "$(count '<xades:CertificateValues>' "$T/lt-lta.xml")" = "$(count '<xades:CertificateValues>' "$T/bb-LT.xml")" ] &&
	ok "... no second set of validation data" || not_ok "B-LT to B-LTA added validation data again"

# the document's bytes around the signature, and the signature's own, are kept
/usr/bin/python3 - "$T/bb.xml" "$T/bb-LTA.xml" "$T/bt.xml" "$T/bt-LTA.xml" <<'PY' && ok "enveloped: the document's bytes are kept" || not_ok "enveloped: bytes changed"
import re, sys
def parts(p):
    d = open(p, "rb").read()
    a = d.index(b"<ds:Signature "); b = d.index(b"</ds:Signature>") + len(b"</ds:Signature>")
    return d[:a], d[a:b], d[b:]
for orig, ext in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    p0, s0, q0 = parts(orig); p1, s1, q1 = parts(ext)
    assert p0 == p1 and q0 == q1, "outside the signature"
    # every byte of the original signature is still there, in order, the new elements between them
    i = 0
    for ch in s0:
        i = s1.index(bytes([ch]), i) + 1
    head = s0[:s0.index(b"</xades:QualifyingProperties>")] if b"<xades:UnsignedProperties>" not in s0 else s0[:s0.index(b"</xades:SignatureTimeStamp>")]
    assert s1.startswith(head), "the signature's start"
PY
expect_status 0 "extend enveloping B-B to B-LTA" sign -f xades --packaging enveloping "$T/inv.xml" -o "$T/enc-bb.xml"
expect_status 0 "... extended" extend B-LTA --tsa "$TSA" "$T/enc-bb.xml" -o "$T/enc-bb-lta.xml"
level "$T/enc-bb-lta.xml" LTA "enveloping extended to B-LTA"
mkdir -p "$T/d" "$T/s"
cp "$T/doc.txt" "$T/d/doc.txt"
printf 'Another file of the same name.\n' > "$T/s/doc.txt"
expect_status 0 "detached B-B" sign -f xades --packaging detached "$T/d/doc.txt" -o "$T/s/det-bb.xml"
mv "$T/s/det-bb.xml" "$T/det-bb.xml"
rm "$T/doc.txt"
expect_status 0 "... extended to B-LT (needs no data)" extend B-LT --tsa "$TSA" "$T/det-bb.xml" -o "$T/det-bb-lt.xml"
level "$T/det-bb-lt.xml" LT "detached extended to B-LT" --data "$T/d/doc.txt"
rm -f "$T/det-bb-lta.xml"
expect_status 3 "... to B-LTA without its data: refused" extend B-LTA --tsa "$TSA" "$T/det-bb.xml" -o "$T/det-bb-lta.xml"
expect_grep "doc\\.txt" "$T/err" "... naming the file"
expect_no_file "$T/det-bb-lta.xml" "... nothing written"
expect_status 3 "... with another file of that name: refused" extend B-LTA --tsa "$TSA" --data "$T/s" "$T/det-bb.xml" -o "$T/det-bb-lta.xml"
expect_grep "'doc\\.txt' is not the file the signature signs" "$T/err" "... saying so"
expect_no_file "$T/det-bb-lta.xml" "... nothing written"
expect_status 0 "... with --data" extend B-LTA --tsa "$TSA" --data "$T/d/doc.txt" "$T/det-bb.xml" -o "$T/det-bb-lta.xml"
level "$T/det-bb-lta.xml" LTA "detached extended to B-LTA" --data "$T/d"
cp "$T/d/doc.txt" "$T/doc.txt"
expect_status 0 "ASiC-E B-B" sign -f asice "$T/doc.txt" "$T/annex.txt" -o "$T/e-bb.asice"
expect_status 0 "... extended to B-LTA" extend B-LTA --tsa "$TSA" "$T/e-bb.asice" -o "$T/e-bb-lta.asice"
level "$T/e-bb-lta.asice" LTA "ASiC-E extended"
/usr/bin/python3 - "$T/e-bb.asice" "$T/e-bb-lta.asice" <<'PY' && ok "... every other entry kept, mimetype first and stored" || not_ok "ASiC entries changed"
import sys, zipfile
a, b = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2])
ia, ib = a.infolist(), b.infolist()
assert [i.filename for i in ia] == [i.filename for i in ib]
assert ib[0].filename == "mimetype" and ib[0].compress_type == zipfile.ZIP_STORED
for x, y in zip(ia, ib):
    if x.filename.startswith("META-INF/signatures"):
        assert b"ArchiveTimeStamp" in b.read(y)
        continue
    # "mimetype" is written anew (same bytes, stored; its time is the writer's)
    same_time = x.filename == "mimetype" or x.date_time == y.date_time
    assert (x.CRC, x.compress_size, x.compress_type) == (y.CRC, y.compress_size, y.compress_type) and same_time, x.filename
PY
expect_status 0 "ASiC-S B-T extended to B-LTA" sign -f asics -l B-T --tsa "$TSA" "$T/doc.txt" -o "$T/s-bt.asics"
expect_status 0 "... extended" extend B-LTA --tsa "$TSA" "$T/s-bt.asics" -o "$T/s-bt-lta.asics"
level "$T/s-bt-lta.asics" LTA "ASiC-S extended"

# ---- renewal: the last archive timestamp's TSA data, then a second one
expect_status 0 "renewal of an enveloped B-LTA" extend B-LTA --tsa "$TSA" "$T/env-LTA.xml" -o "$T/renewed.xml"
[ "$(count '<xades141:ArchiveTimeStamp ' "$T/renewed.xml")" = 2 ] && ok "... two ArchiveTimeStamps" || not_ok "... not two ArchiveTimeStamps"
expect_grep '</xades141:ArchiveTimeStamp><xades141:TimeStampValidationData xmlns:xades141="http://uri.etsi.org/01903/v1.4.1#"><xades:CertificateValues>.*<xades141:ArchiveTimeStamp ' \
	"$T/renewed.xml" "... the first one's TSA data between them"
level "$T/renewed.xml" LTA "renewed"
if grep -q "archive timestamp .* does not hold" "$T/out"; then not_ok "... an archive timestamp does not hold"; else ok "... both hold"; fi
expect_status 0 "... xmlsec1" xmlsec "$T/renewed.xml"
expect_status 0 "renewal in place of an ASiC-E" cp "$T/e-LTA.asice" "$T/e-renew.asice"
expect_status 0 "... extended onto itself" extend B-LTA --tsa "$TSA" "$T/e-renew.asice" -o "$T/e-renew.asice"
level "$T/e-renew.asice" LTA "ASiC-E renewed"
expect_status 0 "renewal of a detached B-LTA" extend B-LTA --tsa "$TSA" --data "$T" "$T/det-LTA.xml" -o "$T/det-renew.xml"
level "$T/det-renew.xml" LTA "detached renewed" --data "$T"

# ---- a forged archive timestamp: a warning, and the level stays B-LT
/usr/bin/python3 - "$T/env-LTA.xml" "$T/forged.xml" <<'PY'
import re, sys
d = open(sys.argv[1], encoding="utf-8").read()
sig = re.search(r"<xades:SignatureTimeStamp .*?<xades:EncapsulatedTimeStamp>([^<]+)<", d).group(1)
d = re.sub(r"(<xades141:ArchiveTimeStamp .*?<xades:EncapsulatedTimeStamp>)[^<]+<", lambda m: m.group(1) + sig + "<", d)
open(sys.argv[2], "w", encoding="utf-8").write(d)
PY
expect_status 0 "an ArchiveTimeStamp over other data: still valid" check --json "$T/forged.xml"
expect_grep '"level": "XAdES-BASELINE-LT"' "$T/out" "... level XAdES-BASELINE-LT"
expect_grep 'archive timestamp 1 by .* does not hold: it was made over other data' "$T/out" "... a warning says why"
/usr/bin/python3 - "$T/env-LTA.xml" "$T/forged2.xml" <<'PY'
import sys
d = open(sys.argv[1], encoding="utf-8").read()
# the signer's revocation data changed after the archive timestamp: an OCSP response dropped
a = d.index("<xades:OCSPValues>"); b = d.index("</xades:OCSPValues>") + len("</xades:OCSPValues>")
d = d[:a] + "<xades:CRLValues></xades:CRLValues>" + d[b:]
open(sys.argv[2], "w", encoding="utf-8").write(d)
PY
check --json "$T/forged2.xml" > "$T/out" 2>&1 || true
expect_grep 'archive timestamp 1 by .* does not hold' "$T/out" "validation data changed under the archive timestamp: a warning"
if grep -q '"level": "XAdES-BASELINE-LTA"' "$T/out"; then not_ok "... still called B-LTA"; else ok "... not B-LTA"; fi

# ---- failures: an error naming why, nothing written, the input untouched
cp "$T/bb.xml" "$T/keep.xml"
expect_status 0 "revoked signer: B-B" env KEY=revoked-rsa2048 "$SIGN" --pkcs12 "$P/revoked-rsa2048.p12" --pass pass:test \
	"$T/inv.xml" -o "$T/rev.xml"
rm -f "$T/f.xml"
expect_status 3 "... extend to B-LT fails" extend B-LT --tsa "$TSA" "$T/rev.xml" -o "$T/f.xml"
expect_grep "CN=Revoked Signer.* is revoked" "$T/err" "... naming the certificate"
expect_no_file "$T/f.xml" "... nothing written"
expect_status 3 "... -l B-LT fails too" env KEY=revoked-rsa2048 "$SIGN" --pkcs12 "$P/revoked-rsa2048.p12" --pass pass:test \
	-l B-LT --tsa "$TSA" "$T/inv.xml" -o "$T/f.xml"
expect_no_file "$T/f.xml" "... nothing written"
for mode in http500 garbage; do
	expect_status 3 "TSA answering $mode: extend fails" extend B-LTA --tsa "$BASE/tsa/$mode" "$T/bb.xml" -o "$T/f.xml"
	expect_grep "/tsa/$mode" "$T/err" "... naming the TSA ($mode)"
	expect_no_file "$T/f.xml" "... nothing written ($mode)"
	expect_status 3 "... on an ASiC-E too" extend B-LTA --tsa "$BASE/tsa/$mode" "$T/e-bb.asice" -o "$T/f.asice"
	expect_no_file "$T/f.asice" "... nothing written ($mode)"
done
cp "$T/e-bb.asice" "$T/e-keep.asice"
expect_status 3 "in place, the TSA failing: refused" extend B-LTA --tsa "$BASE/tsa/http500" "$T/bb.xml" -o "$T/bb.xml"
# the OCSP responder failing: the CRL gives the status instead
# (a CRL made now: one older than the signature timestamp proves nothing about the signature)
curl -s -f -X POST "$BASE/admin/ocsp-mode?mode=http500" >/dev/null
curl -s -f -X POST "$BASE/admin/gencrl" >/dev/null
expect_status 0 "OCSP responder failing: extend to B-LT with the CRL" extend B-LT --tsa "$TSA" "$T/bt.xml" -o "$T/crl-lt.xml"
expect_grep '<xades:CRLValues><xades:EncapsulatedCRLValue>' "$T/crl-lt.xml" "... CRLValues"
level "$T/crl-lt.xml" LT "B-LT with a CRL"
curl -s -f -X POST "$BASE/admin/ocsp-mode?mode=" >/dev/null
# every server down (OCSP, CRL, AIA): nothing can be gathered
bash "$HERE/servers.sh" stop "$T/srv" >/dev/null 2>&1
expect_status 3 "OCSP responder and CRL down: extend B-T to B-LT fails" extend B-LT --tsa "$TSA" "$T/bt.xml" -o "$T/f.xml"
expect_grep "status of 'CN=.*' is not available.*127\\.0\\.0\\.1" "$T/err" "... naming the certificate and the server"
expect_no_file "$T/f.xml" "... nothing written"
expect_status 3 "... an ASiC-E too" extend B-LT --tsa "$TSA" "$T/e-bb.asice" -o "$T/f.asice"
expect_no_file "$T/f.asice" "... nothing written"
cmp -s "$T/bb.xml" "$T/keep.xml" && cmp -s "$T/e-bb.asice" "$T/e-keep.asice" && ok "the inputs are untouched after every failure" ||
	not_ok "an input changed"
expect_status 0 "offline, a B-LTA still validates from its own data" check "$T/renewed.xml"
finish
