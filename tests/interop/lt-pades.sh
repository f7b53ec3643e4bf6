#!/usr/bin/env bash
# PAdES B-LT and B-LTA against our own PKI on 127.0.0.1 (tests/pki/servers.py:
# TSA, OCSP, CRLs, AIA): eid-sign -l B-LT/B-LTA and --extend of B-B and B-T
# files; every result is checked by qpdf --check, pdfsig (with an NSS
# database trusting the test root), `openssl ts -verify` for each document
# timestamp over its byte ranges, a byte-for-byte check that the earlier
# revisions are untouched, and eid-verify's levels.  A server that fails, or
# a revoked signer, stops the extension before anything is written.
. "$EID_TEST_SRCDIR/tests/lib.sh"
HERE=$EID_TEST_SRCDIR/tests/pki
pki_servers
sign() { "$SIGN" --pkcs12 "$P/${KEY:-citizen-rsa2048}.p12" --pass pass:test "$@"; }
extend() { "$SIGN" --extend "$@"; }
check() { "$VERIFY" --trust "$P/root.crt" --untrusted "$P/int.crt" "$@"; }
sum() { sha256sum < "$1"; }
bash "$EID_TEST_SRCDIR/tests/pdf/nssdb.sh" "$P" "$T/nssdb" >/dev/null

# pdf_ok FILE NSIG NDTS DESC: qpdf --check passes; pdfsig finds NSIG signatures valid and trusted,
# and NSIG+NDTS in all (poppler 22 leaves document timestamps "not yet verified": dts_ok checks them).
pdf_ok() {
	local out
	if ! qpdf --check "$1" >"$T/qpdf" 2>&1; then not_ok "$4: qpdf --check"; sed 's/^/  | /' "$T/qpdf" | head; return; fi
	out=$(pdfsig -nssdir "sql:$T/nssdb" "$1" 2>&1) || true
	if [ "$(grep -c 'Signature is Valid\.' <<<"$out")" = "$2" ] &&
	   [ "$(grep -c 'Certificate is Trusted\.' <<<"$out")" = "$2" ] &&
	   [ "$(grep -c '^Signature #' <<<"$out")" = "$(($2 + $3))" ] &&
	   ! grep -qiE 'invalid|mismatch|not trusted' <<<"$out"; then
		ok "$4: qpdf --check, and pdfsig: $2 signature(s) valid and trusted, $3 document timestamp(s)"
	else
		not_ok "$4: pdfsig"; sed 's/^/  | /' <<<"$out" | head -40
	fi
}

# pdf_parts FILE DIR: for each signature dictionary, DIR/N.kind (cms|dts), DIR/N.der (its /Contents, unpadded),
# DIR/N.ranges (the bytes it covers), DIR/N.end; and DIR/vri (the /VRI keys).
pdf_parts() {
	rm -rf "$2" && mkdir -p "$2"
	/usr/bin/python3 - "$1" "$2" <<'PY'
import re, sys
d = open(sys.argv[1], "rb").read(); out = sys.argv[2]
def der_len(b):
    n = b[1]
    if n < 0x80: return 2 + n
    k = n & 0x7f; return 2 + k + int.from_bytes(b[2:2 + k], "big")
pat = re.compile(rb"/SubFilter\s*/(ETSI\.RFC3161|ETSI\.CAdES\.detached|adbe\.pkcs7\.detached)\s*/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]\s*/Contents\s*<([0-9A-Fa-f]*)>")
for i, m in enumerate(pat.finditer(d)):
    a, b, c, e = (int(x) for x in m.group(2, 3, 4, 5))
    raw = bytes.fromhex(m.group(6).decode())
    open(f"{out}/{i}.kind", "w").write("dts" if m.group(1) == b"ETSI.RFC3161" else "cms")
    open(f"{out}/{i}.der", "wb").write(raw[:der_len(raw)])
    open(f"{out}/{i}.ranges", "wb").write(d[a:a + b] + d[c:c + e])
    open(f"{out}/{i}.end", "w").write(str(c + e))
vri = set()
for m in re.finditer(rb"/VRI\s*<<(.*?)>>\s*>>\s*>>", d, re.S):
    vri |= {k.decode() for k in re.findall(rb"/([0-9A-F]{40})\s*<<", m.group(1))}
open(f"{out}/vri", "w").write("\n".join(sorted(vri)) + "\n")
PY
}

# dts_ok FILE N DESC: the file has N document timestamps, each one verified by openssl ts over its byte ranges.
dts_ok() {
	local n=0 k bad=""
	pdf_parts "$1" "$T/parts"
	for k in "$T"/parts/*.kind; do
		[ "$(cat "$k")" = dts ] || continue
		n=$((n + 1))
		openssl ts -verify -token_in -in "${k%.kind}.der" -data "${k%.kind}.ranges" -CAfile "$P/root.crt" \
			-untrusted "$P/int.crt" >"$T/tsv" 2>&1 || bad="$bad $(basename "$k" .kind): $(tail -1 "$T/tsv")"
	done
	if [ "$n" = "$2" ] && [ -z "$bad" ]; then ok "$3: $n document timestamp(s), openssl ts -verify accepts each"
	else not_ok "$3: $n document timestamps (want $2)$bad"; fi
}

# vri_ok FILE DESC: every CMS signature has its /VRI entry, keyed by the upper-case hex SHA-1 of its CMS.
vri_ok() {
	local k key missing=""
	pdf_parts "$1" "$T/parts"
	for k in "$T"/parts/*.kind; do
		[ "$(cat "$k")" = cms ] || continue
		key=$(sha1sum < "${k%.kind}.der" | cut -d' ' -f1 | tr a-f A-F)
		grep -qx "$key" "$T/parts/vri" || missing="$missing $key"
	done
	[ -z "$missing" ] && ok "$2: a /VRI entry for each signature" || not_ok "$2: no /VRI entry for$missing"
}

# prefix_ok OLD NEW DESC: NEW begins with every byte of OLD (incremental updates only).
prefix_ok() {
	if cmp -s -n "$(stat -c %s "$1")" "$1" "$2" && [ "$(stat -c %s "$2")" -gt "$(stat -c %s "$1")" ]; then
		ok "$3: the earlier bytes are untouched"; else not_ok "$3: the earlier bytes changed"; fi
}

# levels FILE LEVEL... DESC (last): eid-verify --json gives the signatures these levels, all TOTAL-PASSED.
levels() {
	local f=$1 desc=${*: -1} want
	want=$(printf '%s\n' "${@:2:$#-2}" | paste -sd,)
	check --json "$f" >"$T/json" 2>"$T/err" || true
	if /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
got = [s.get("level") for s in r["signatures"]]
ind = [s["indication"] for s in r["signatures"]]
sys.exit(0 if got == sys.argv[2].split(",") and all(i == "TOTAL-PASSED" for i in ind) else 1)' "$T/json" "$want"; then
		ok "$desc: eid-verify: $want, TOTAL-PASSED"
	else
		not_ok "$desc: eid-verify, want $want TOTAL-PASSED"
		/usr/bin/python3 -c 'import json,sys; [print("  |", s.get("level"), s["indication"], s.get("subIndication"), *s.get("errors", [])[:2]) for s in json.load(open(sys.argv[1]))["signatures"]]' "$T/json" 2>/dev/null || sed 's/^/  | /' "$T/err" | head
	fi
}

cp "$EID_TEST_PDF/cairo.pdf" "$T/doc.pdf"
cp "$EID_TEST_PDF/xref-stream-incremental.pdf" "$T/xs.pdf"

# ---- signing straight to B-LT and B-LTA
expect_status 0 "eid-sign -l B-LT" sign -l B-LT --tsa "$TSA" "$T/doc.pdf" -o "$T/lt.pdf"
pdf_ok "$T/lt.pdf" 1 0 "B-LT"
expect_grep '/DSS [0-9]+ 0 R' "$T/lt.pdf" "B-LT: the catalog names a DSS"
vri_ok "$T/lt.pdf" "B-LT"
dts_ok "$T/lt.pdf" 0 "B-LT"
levels "$T/lt.pdf" PAdES-BASELINE-LT "B-LT"
expect_status 0 "B-LT offline (no --online)" check "$T/lt.pdf"
if grep -q "TRY_LATER" "$T/out"; then not_ok "B-LT offline: TRY_LATER"; sed 's/^/  | /' "$T/out" | head -20
else ok "B-LT offline: the signer's status comes from the DSS, no TRY_LATER"; fi
expect_grep "^  Revocation: +good \\(OCSP" "$T/out" "B-LT offline: the embedded OCSP response is the status"

expect_status 0 "eid-sign -l B-LTA (xref streams)" sign -l B-LTA --tsa "$TSA" "$T/xs.pdf" -o "$T/lta.pdf"
pdf_ok "$T/lta.pdf" 1 1 "B-LTA"
dts_ok "$T/lta.pdf" 1 "B-LTA"
vri_ok "$T/lta.pdf" "B-LTA"
levels "$T/lta.pdf" PAdES-BASELINE-LTA "B-LTA"
expect_status 0 "B-LTA: eid-verify" check "$T/lta.pdf"
expect_grep "^Signatures: +1$" "$T/out" "B-LTA: the document timestamp is not reported as a signature"

# ---- extending B-B and B-T
KEY=citizen-p256 sign "$EID_TEST_PDF/lo-writer.pdf" -o "$T/bb.pdf" 2>/dev/null
sign -l B-T --tsa "$TSA" "$T/doc.pdf" -o "$T/bt.pdf" 2>/dev/null
for from in bb bt; do
	before=$(sum "$T/$from.pdf")
	expect_status 0 "$from: --extend B-T" extend B-T "$T/$from.pdf" -o "$T/$from-t.pdf" --tsa "$TSA"
	if [ $from = bb ]; then
		pdf_ok "$T/$from-t.pdf" 1 1 "bb -> B-T: a document timestamp"
		dts_ok "$T/$from-t.pdf" 1 "bb -> B-T"
		prefix_ok "$T/$from.pdf" "$T/$from-t.pdf" "bb -> B-T"
	else
		cmp -s "$T/bt.pdf" "$T/bt-t.pdf" && ok "bt -> B-T: already there, the same bytes" || not_ok "bt -> B-T changed the file"
	fi
	for lvl in LT LTA; do
		expect_status 0 "$from: --extend B-$lvl" extend B-$lvl "$T/$from.pdf" -o "$T/$from-$lvl.pdf" --tsa "$TSA"
		[ "$(sum "$T/$from.pdf")" = "$before" ] && ok "$from -> B-$lvl: input untouched" || not_ok "$from -> B-$lvl: input changed"
		prefix_ok "$T/$from.pdf" "$T/$from-$lvl.pdf" "$from -> B-$lvl"
		# a B-B signature gets its B-T from a document timestamp, so B-LT has one too
		ndts=$([ $from = bb ] && echo 1 || echo 0); [ $lvl = LTA ] && ndts=$((ndts + 1))
		pdf_ok "$T/$from-$lvl.pdf" 1 $ndts "$from -> B-$lvl"
		dts_ok "$T/$from-$lvl.pdf" $ndts "$from -> B-$lvl"
		vri_ok "$T/$from-$lvl.pdf" "$from -> B-$lvl"
		levels "$T/$from-$lvl.pdf" PAdES-BASELINE-$lvl "$from -> B-$lvl"
	done
done
expect_status 0 "the output may be the input" cp "$T/bt.pdf" "$T/inplace.pdf"
expect_status 0 "... --extend B-LT in place" extend B-LT "$T/inplace.pdf" -o "$T/inplace.pdf" --tsa "$TSA"
pdf_ok "$T/inplace.pdf" 1 0 "in place"

# ---- renewal: B-LTA again adds the last timestamp's validation data, then a new document timestamp
expect_status 0 "renewal: --extend B-LTA of a B-LTA file" extend B-LTA "$T/lta.pdf" -o "$T/lta2.pdf" --tsa "$TSA"
prefix_ok "$T/lta.pdf" "$T/lta2.pdf" "renewal"
pdf_ok "$T/lta2.pdf" 1 2 "renewal"
dts_ok "$T/lta2.pdf" 2 "renewal"
pdf_parts "$T/lta2.pdf" "$T/parts"
first=$(grep -l dts "$T"/parts/*.kind | sort -V | head -1)
key=$(sha1sum < "${first%.kind}.der" | cut -d' ' -f1 | tr a-f A-F)
grep -qx "$key" "$T/parts/vri" && ok "renewal: the first document timestamp has its /VRI entry" ||
	not_ok "renewal: no /VRI entry for the first document timestamp"
levels "$T/lta2.pdf" PAdES-BASELINE-LTA "renewal"

# ---- two signatures, extended together
sign "$T/doc.pdf" -o "$T/two-1.pdf" 2>/dev/null
KEY=citizen-p256 sign -l B-T --tsa "$TSA" "$T/two-1.pdf" -o "$T/two.pdf" 2>/dev/null
expect_status 0 "two signatures: --extend B-LTA" extend B-LTA "$T/two.pdf" -o "$T/two-lta.pdf" --tsa "$TSA"
prefix_ok "$T/two.pdf" "$T/two-lta.pdf" "two signatures"
pdf_ok "$T/two-lta.pdf" 2 2 "two signatures"
dts_ok "$T/two-lta.pdf" 2 "two signatures"
vri_ok "$T/two-lta.pdf" "two signatures"
levels "$T/two-lta.pdf" PAdES-BASELINE-LTA PAdES-BASELINE-LTA "two signatures"

# ---- faults: nothing written, the input as it was
before=$(sum "$T/bt.pdf")
expect_status 3 "TSA failing (HTTP 500): --extend B-LTA fails" extend B-LTA "$T/bt.pdf" -o "$T/f1.pdf" --tsa "$BASE/tsa/http500"
expect_grep "/tsa/http500" "$T/err" "... naming the TSA"
expect_no_file "$T/f1.pdf" "... no output"
expect_status 3 "TSA answering garbage: eid-sign -l B-LTA fails" sign -l B-LTA --tsa "$BASE/tsa/garbage" "$T/doc.pdf" -o "$T/f2.pdf"
expect_no_file "$T/f2.pdf" "... no output"
[ -z "$(ls -A "$T" | grep '^\.eid-out-' || true)" ] && ok "... no temporary file left" || not_ok "temporary files left: $(ls -A "$T" | grep '^\.eid-out-')"

KEY=revoked-rsa2048 sign -l B-T --tsa "$TSA" "$T/doc.pdf" -o "$T/rev.pdf" 2>/dev/null
expect_status 3 "a revoked signer: --extend B-LT fails" extend B-LT "$T/rev.pdf" -o "$T/f3.pdf" --tsa "$TSA"
expect_grep "Revoked Signer.* is revoked" "$T/err" "... naming the certificate"
expect_no_file "$T/f3.pdf" "... no output"

bash "$HERE/servers.sh" stop "$T/srv" >/dev/null
expect_status 3 "OCSP, CRL and TSA down: --extend B-LT fails" extend B-LT --timeout 2 "$T/bt.pdf" -o "$T/f4.pdf" --tsa "$TSA"
expect_grep "127\\.0\\.0\\.1:[0-9]+/ocsp" "$T/err" "... naming the responder"
expect_no_file "$T/f4.pdf" "... no output"
cp "$T/bt.pdf" "$T/f5.pdf"
expect_status 3 "... --extend B-LTA in place fails" extend B-LTA --timeout 2 "$T/f5.pdf" -o "$T/f5.pdf" --tsa "$TSA"
cmp -s "$T/bt.pdf" "$T/f5.pdf" && ok "... the file is as it was" || not_ok "the file extended in place was changed"
[ "$(sum "$T/bt.pdf")" = "$before" ] && ok "faults: the input is untouched" || not_ok "faults: the input changed"
expect_status 0 "servers down, B-LT offline: still valid from the DSS" check "$T/lt.pdf"

finish
