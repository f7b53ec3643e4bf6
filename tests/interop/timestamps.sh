#!/usr/bin/env bash
# B-T in every format against a real RFC 3161 TSA on 127.0.0.1
# (tests/pki/servers.py in front of `openssl ts -reply`): what we make is
# accepted by eid-verify, `openssl ts -verify`, pdfsig, xmlsec1 and xadesjs;
# every way a TSA can fail stops eid-sign before anything is written; and the
# timestamp proves the signature existed while an expired certificate was
# still valid.
. "$EID_TEST_SRCDIR/tests/lib.sh"
HERE=$EID_TEST_SRCDIR/tests/pki
NODE_DIR=${EID_TEST_NODE_DIR:-$EID_TEST_SRCDIR/tests/interop/node}
pki_servers
cat "$P/root.crt" > "$T/root.pem"
sign() { "$SIGN" --pkcs12 "$P/${KEY:-citizen-rsa2048}.p12" --pass pass:test "$@"; }
# The certificates name the loopback OCSP responder: without --online (and
# without B-LT data) their status would be unknown.
check() { "$VERIFY" --trust "$T/root.pem" --untrusted "$P/int.crt" --online "$@"; }

# token_of CMS_DER OUT_TOKEN OUT_SIGVALUE: the signature-time-stamp attribute's token and the signature value.
token_of() {
	/usr/bin/python3 - "$@" <<'PY'
import sys
def tlv(b, i):
    t = b[i]; i += 1
    n = b[i]; i += 1
    if n & 0x80:
        k = n & 0x7f; n = int.from_bytes(b[i:i + k], "big"); i += k
    return t, i, i + n            # tag, value start, value end
def kids(b, s, e):
    while s < e:
        t, vs, ve = tlv(b, s); yield t, s, vs, ve; s = ve
d = open(sys.argv[1], "rb").read()
_, vs, ve = tlv(d, 0)                                  # ContentInfo
ci = list(kids(d, vs, ve))
_, _, sd_s, sd_e = [k for k in ci if k[0] == 0xa0][0]  # [0] content
_, sd_vs, sd_ve = tlv(d, sd_s)                         # SignedData
sis = [k for k in kids(d, sd_vs, sd_ve) if k[0] == 0x31][-1]   # signerInfos SET
_, si_vs, si_ve = tlv(d, sis[2])
si = list(kids(d, si_vs, si_ve))                       # the first SignerInfo's parts
sig = [k for k in si if k[0] == 0x04][0]
open(sys.argv[3], "wb").write(d[sig[2]:sig[3]])
un = [k for k in si if k[0] == 0xa1][0]                # [1] unsignedAttrs
for t, s, vs, ve in kids(d, un[2], un[3]):
    parts = list(kids(d, vs, ve))
    if d[parts[0][2]:parts[0][3]] == bytes.fromhex("2a864886f70d010910020e"):
        st = list(kids(d, parts[1][2], parts[1][3]))[0]
        open(sys.argv[2], "wb").write(d[st[1]:st[3]])
        break
PY
}
# openssl ts -verify over the signature value's digest, with the TSA chain
ts_verify() { # TOKEN SIGVALUE
	openssl ts -verify -token_in -in "$1" -digest "$(openssl dgst -sha256 -r "$2" | cut -d' ' -f1)" \
		-CAfile "$P/root.crt" -untrusted "$P/int.crt" >"$T/tsv" 2>&1
}

# ---- B-T in every format, checked by the peers
printf 'Contract: 12.50 EUR.\n' > "$T/doc.txt"
cp "$EID_TEST_PDF/cairo.pdf" "$T/doc.pdf"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<invoice><amount>12.50</amount></invoice>\n' > "$T/inv.xml"

for key in citizen-rsa2048 citizen-p256; do
	export KEY=$key
	expect_status 0 "$key: CAdES B-T" sign -f cades -l B-T --tsa "$TSA" "$T/doc.txt" -o "$T/c-$key.p7s"
	expect_status 0 "... eid-verify" check "$T/c-$key.p7s" --data "$T/doc.txt"
	expect_grep "CAdES-BASELINE-T" "$T/out" "... level CAdES-BASELINE-T"
	expect_grep "^  Timestamp: +[0-9T:-]+Z by CN=libeid Test TSA" "$T/out" "... the timestamp and its TSA are reported"
	expect_status 0 "... openssl cms -verify" openssl cms -verify -binary -inform DER -in "$T/c-$key.p7s" \
		-content "$T/doc.txt" -CAfile "$P/chain.pem" -purpose any -out /dev/null
	token_of "$T/c-$key.p7s" "$T/tok.der" "$T/sigval.bin"
	if ts_verify "$T/tok.der" "$T/sigval.bin"; then ok "... openssl ts -verify accepts the token over the signature value"; else
		not_ok "openssl ts -verify: $(tail -2 "$T/tsv")"; fi

	expect_status 0 "$key: PAdES B-T" sign -l B-T --tsa "$TSA" "$T/doc.pdf" -o "$T/p-$key.pdf"
	expect_status 0 "... eid-verify" check "$T/p-$key.pdf"
	expect_grep "PAdES-BASELINE-T" "$T/out" "... level PAdES-BASELINE-T"
	pdfsig -nocert "$T/p-$key.pdf" > "$T/pdfsig" 2>&1 || true
	expect_grep "Signature is Valid" "$T/pdfsig" "... pdfsig"
	expect_status 0 "... qpdf --check" qpdf --check "$T/p-$key.pdf"
	/usr/bin/python3 -c 'import re,sys; d=open(sys.argv[1],"rb").read(); h=re.findall(rb"/Contents\s*<([0-9A-Fa-f]+)>", d)[-1]; open(sys.argv[2],"wb").write(bytes.fromhex(h.decode()).rstrip(b"\0"))' \
		"$T/p-$key.pdf" "$T/p.cms"
	token_of "$T/p.cms" "$T/tok.der" "$T/sigval.bin"
	if ts_verify "$T/tok.der" "$T/sigval.bin"; then ok "... openssl ts -verify accepts the PDF's token"; else
		not_ok "openssl ts -verify (PDF): $(tail -2 "$T/tsv")"; fi

	expect_status 0 "$key: XAdES B-T" sign -l B-T --tsa "$TSA" "$T/inv.xml" -o "$T/x-$key.xml"
	expect_status 0 "... eid-verify" check "$T/x-$key.xml"
	expect_grep "XAdES-BASELINE-T" "$T/out" "... level XAdES-BASELINE-T"
	expect_grep "<xades:SignatureTimeStamp Id=" "$T/x-$key.xml" "... SignatureTimeStamp in UnsignedSignatureProperties"
	expect_status 0 "... xmlsec1" xmlsec1 --verify --trusted-pem "$P/root.crt" --untrusted-pem "$P/int.crt" \
		--id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties "$T/x-$key.xml"
	if [ -d "$NODE_DIR/node_modules/xadesjs" ]; then
		expect_status 0 "... xadesjs" node "$NODE_DIR/xades-verify.mjs" "$T/x-$key.xml"
	fi
	expect_status 0 "$key: ASiC-E B-T" sign -l B-T --tsa "$TSA" "$T/doc.txt" "$T/doc.pdf" -o "$T/e-$key.asice"
	expect_status 0 "... eid-verify" check "$T/e-$key.asice"
	expect_grep "XAdES-BASELINE-T" "$T/out" "... level XAdES-BASELINE-T"
done
unset KEY

# ---- TSA failures: a clear error naming the server, nothing written, the input untouched
cp "$T/doc.pdf" "$T/before.pdf"
fail_tsa() { # DESC URL WANT_PATTERN [extra eid-sign options]
	local desc=$1 url=$2 want=$3
	shift 3
	rm -f "$T/f.pdf"
	expect_status 3 "TSA $desc: eid-sign fails" sign -l B-T --tsa "$url" "$@" "$T/doc.pdf" -o "$T/f.pdf"
	expect_grep "$want" "$T/err" "... says why ($desc)"
	expect_no_file "$T/f.pdf" "... nothing written ($desc)"
}
fail_tsa "down" "http://127.0.0.1:$(bash "$HERE/servers.sh" free-port)/tsa" "127\\.0\\.0\\.1:[0-9]+/tsa failed"
t0=$(date +%s)
fail_tsa "too slow" "$BASE/tsa/slow" "/tsa/slow failed" --timeout 2
if [ $(( $(date +%s) - t0 )) -le 8 ]; then ok "... gave up after the timeout"; else not_ok "the slow TSA held eid-sign $(( $(date +%s) - t0 )) s"; fi
fail_tsa "answering garbage" "$BASE/tsa/garbage" "not a timestamp response|/tsa/garbage"
fail_tsa "HTTP 500" "$BASE/tsa/http500" "/tsa/http500 failed"
fail_tsa "stamping another digest" "$BASE/tsa/wrong-imprint" "stamped another digest"
fail_tsa "with another nonce" "$BASE/tsa/bad-nonce" "another nonce"
fail_tsa "signing with an expired certificate" "$BASE/tsa/expired" "not valid at the token's time"
fail_tsa "signing without the timeStamping purpose" "$BASE/tsa/no-eku" "not for time-stamping"
fail_tsa "with another policy" "$TSA" "refused the request|policy" --tsa-policy 1.3.6.1.4.1.99999.2.9
if cmp -s "$T/doc.pdf" "$T/before.pdf"; then ok "the input PDF is untouched after every failure"; else not_ok "the input changed"; fi
expect_status 3 "B-T without --tsa: refused" sign -l B-T "$T/doc.pdf" -o "$T/f.pdf"
expect_status 3 "--tsa without B-T: refused" sign --tsa "$TSA" "$T/doc.pdf" -o "$T/f.pdf"

# ---- verdicts: the timestamp as a proof of existence
later=$(date -u -d '+5 days' +%Y-%m-%dT%H:%M:%SZ)
KEY=short-rsa2048 expect_status 0 "a certificate valid two days: CAdES B-T now" sign -f cades -l B-T --tsa "$TSA" "$T/doc.txt" -o "$T/short-t.p7s"
KEY=short-rsa2048 expect_status 0 "... and B-B" sign -f cades "$T/doc.txt" -o "$T/short-b.p7s"
expect_status 0 "validated after the certificate expired: B-T passes on the timestamp" check --at "$later" "$T/short-t.p7s" --data "$T/doc.txt"
expect_grep "judged at the timestamp's time" "$T/out" "... and says it judged the certificate at the timestamp's time"
expect_status 1 "... B-B cannot: INDETERMINATE" check --at "$later" "$T/short-b.p7s" --data "$T/doc.txt"
expect_grep "OUT_OF_BOUNDS_NO_POE" "$T/out" "... OUT_OF_BOUNDS_NO_POE"
expect_status 1 "a timestamp from a TSA that is not trusted proves nothing" "$VERIFY" --trust "$P/other-root.crt" \
	--untrusted "$P/int.crt" "$T/c-citizen-rsa2048.p7s" --data "$T/doc.txt"
expect_grep "signature timestamp by .* does not hold" "$T/out" "... a warning names the failed timestamp"
# another signature's token: it does not cover this signature value
/usr/bin/python3 - "$T/c-citizen-rsa2048.p7s" "$T/c-citizen-p256.p7s" "$T/swapped.p7s" <<'PY'
import sys
OID = bytes.fromhex("06092a864886f70d010910020e")[2:]
def parse(b, i=0):                      # -> (tag, children or bytes), next index
    t = b[i]; i += 1; n = b[i]; i += 1
    if n & 0x80:
        k = n & 0x7f; n = int.from_bytes(b[i:i + k], "big"); i += k
    v = b[i:i + n]
    if t & 0x20:
        kids, j = [], 0
        while j < n:
            c, j = parse(v, j); kids.append(c)
        return (t, kids), i + n
    return (t, v), i + n
def enc(node):
    t, v = node
    body = b"".join(enc(c) for c in v) if isinstance(v, list) else v
    n = len(body)
    l = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([t]) + l + body
def find_attr(node):                    # the signature-time-stamp Attribute's value SET
    t, v = node
    if isinstance(v, list):
        if len(v) == 2 and v[0][0] == 6 and v[0][1] == OID:
            return v[1]
        for c in v:
            r = find_attr(c)
            if r: return r
a, _ = parse(open(sys.argv[1], "rb").read())
b, _ = parse(open(sys.argv[2], "rb").read())
find_attr(a)[1][0] = find_attr(b)[1][0]
open(sys.argv[3], "wb").write(enc(a))
PY
# ---- the algorithm policy: past an algorithm's sunset, a timestamp from before it keeps the signature
expect_status 0 "CAdES B-B for the algorithm policy" sign -f cades "$T/doc.txt" -o "$T/bb.p7s"
printf '# RSA-2048 retired in 2028\nrsa<3072 2028-01-01\n' > "$T/policy"
expect_status 0 "before the sunset: B-B passes" check "$T/bb.p7s" --data "$T/doc.txt" --crypto-policy "$T/policy"
if grep -q "no longer acceptable" "$T/out"; then not_ok "a warning before the sunset"; else ok "... without a warning"; fi
expect_status 1 "after the sunset (--at 2028-06-01): B-B is INDETERMINATE" \
	check "$T/bb.p7s" --data "$T/doc.txt" --crypto-policy "$T/policy" --at 2028-06-01
expect_grep "INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE" "$T/out" "... CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
expect_grep "an RSA key of 2048 bits is no longer acceptable for signatures \(since 2028-01-01" "$T/out" "... naming the key and the date"
expect_status 0 "after the sunset: B-T passes on its timestamp" \
	check "$T/c-citizen-rsa2048.p7s" --data "$T/doc.txt" --crypto-policy "$T/policy" --at 2028-06-01
expect_grep "an RSA key of 2048 bits is no longer acceptable since 2028-01-01.*, but a timestamp proves the signature existed at" "$T/out" "... with a warning naming the proof"
printf 'rsa<3072 2020-01-01\n' > "$T/policy-past"
expect_status 1 "a timestamp after the sunset proves nothing" \
	check "$T/c-citizen-rsa2048.p7s" --data "$T/doc.txt" --crypto-policy "$T/policy-past"
expect_grep "CRYPTO_CONSTRAINTS_FAILURE_NO_POE" "$T/out" "... CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
expect_status 0 "the EC key is not touched by an RSA rule" \
	check "$T/c-citizen-p256.p7s" --data "$T/doc.txt" --crypto-policy "$T/policy-past"
printf 'sha256 2020-01-01\n' > "$T/policy-sha256"
expect_status 1 "a digest rule: SHA-256 retired" check "$T/bb.p7s" --data "$T/doc.txt" --crypto-policy "$T/policy-sha256"
expect_grep "SHA256 is no longer acceptable" "$T/out" "... names the digest"
printf 'sha1 2016-01-01\nrsa 2048\n' > "$T/policy-bad"
expect_status 3 "a malformed policy file: an input error" check "$T/bb.p7s" --data "$T/doc.txt" --crypto-policy "$T/policy-bad"
expect_grep "policy-bad:2: expected 'ALGORITHM\[<BITS\] YYYY-MM-DD'" "$T/err" "... naming the line"
expect_status 3 "a missing policy file" check "$T/bb.p7s" --data "$T/doc.txt" --crypto-policy "$T/nope"

expect_status 0 "another signature's token: the signature itself still holds" check "$T/swapped.p7s" --data "$T/doc.txt"
expect_grep "does not hold: it was made over other data" "$T/out" "... but the timestamp is reported as not covering it"
expect_grep "CAdES-BASELINE-B" "$T/out" "... and the level stays B-B"

finish
