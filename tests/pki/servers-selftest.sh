#!/usr/bin/env bash
# servers-selftest.sh: the test PKI's TSA, OCSP responder and CRL service
# (servers.py, through servers.sh), checked with the openssl and curl
# command-line tools only.
#
# Builds a PKI whose URLs point to a free loopback port in a temporary
# directory, starts the server on that port, and checks every endpoint and
# failure mode.  Prints "ok N - ..." / "not ok - ..." lines and "N passed, M
# failed"; exits non-zero on any failure, 77 (SKIP) without openssl, curl or
# /usr/bin/python3 with the cryptography module.
#
# Environment: KEEP=1 keeps the temporary directory.

set -uo pipefail
export PYTHONDONTWRITEBYTECODE=1

HERE=$(cd "$(dirname "$0")" && pwd -P)
PYTHON=/usr/bin/python3
SERVERS=$HERE/servers.sh
for c in openssl curl; do
	if ! command -v "$c" >/dev/null 2>&1; then
		echo "SKIP: $c not found"
		exit 77
	fi
done
if ! "$PYTHON" -c 'import cryptography' >/dev/null 2>&1; then
	echo "SKIP: $PYTHON with the cryptography module not found"
	exit 77
fi

T=$(mktemp -d /tmp/pki-servers-test.XXXXXX)
cleanup() {
	"$SERVERS" stop "$T/srv" >/dev/null 2>&1
	if [ "${KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

npass=0
nfail=0
ok() { npass=$((npass + 1)); echo "ok $npass - $*"; }
not_ok() { nfail=$((nfail + 1)); echo "not ok - $*"; }
show() { sed 's/^/  | /' "$@" | head -25; }

# run DESC CMD...: expect exit 0 (output in $T/out).
run() {
	local desc=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok "$desc"; else not_ok "$desc (exit $?)"; show "$T/out"; fi
}
# fails DESC CMD...: expect a non-zero exit.
fails() {
	local desc=$1
	shift
	if "$@" >"$T/out" 2>&1; then not_ok "$desc (unexpected success)"; show "$T/out"; else ok "$desc"; fi
}
# grep_out PATTERN DESC: in the last command's output.
grep_out() {
	if grep -qE -- "$1" "$T/out"; then ok "$2"; else not_ok "$2: /$1/ not found"; show "$T/out"; fi
}
# no_grep_out PATTERN DESC
no_grep_out() {
	if grep -qE -- "$1" "$T/out"; then not_ok "$2: /$1/ found"; show "$T/out"; else ok "$2"; fi
}
is_true() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}

# --- a PKI on a free port, and the server ----------------------------------
PKI=$T/pki
started=
for attempt in 1 2 3; do
	PORT=$("$SERVERS" free-port)
	rm -rf "$PKI"
	if ! "$HERE/make-pki.sh" "$PKI" "http://127.0.0.1:$PORT" >"$T/out" 2>&1; then
		not_ok "make-pki.sh"
		show "$T/out"
		break
	fi
	rc=0
	"$SERVERS" start "$T/srv" "$PKI" >"$T/env" 2>"$T/out" || rc=$?
	if [ "$rc" = 0 ]; then
		started=1
		break
	fi
	[ "$rc" = 3 ] || break # only "port in use" is worth another try
	echo "# port $PORT was taken meanwhile (attempt $attempt)"
done
if [ -z "$started" ]; then
	not_ok "servers.sh start"
	show "$T/out" "$T/srv/server.err"
	echo "$npass passed, $((nfail)) failed"
	exit 1
fi
ok "servers.sh start on port $PORT"
eval "$(cat "$T/env")"
U=http://127.0.0.1:$PORT
if [ "${EID_TEST_TSA_URL:-}" = "$U/tsa" ] && [ "${EID_TEST_PKI_URL:-}" = "$U" ]; then
	ok "eval lines: EID_TEST_TSA_URL=$EID_TEST_TSA_URL EID_TEST_PKI_URL=$EID_TEST_PKI_URL"
else
	not_ok "eval lines"
	show "$T/env"
fi
read -r SPID _ <"$T/srv/servers.pid"
if tr '\0' ' ' <"/proc/$SPID/cmdline" 2>/dev/null | grep -q 'servers\.py'; then
	ok "recorded PID $SPID is servers.py itself"
else
	not_ok "recorded PID $SPID is not servers.py"
fi

if command -v ss >/dev/null 2>&1; then
	ss -Hltnp >"$T/ss" 2>&1
	grep "pid=$SPID," "$T/ss" | awk '{print $4}' >"$T/out"
	if [ "$(cat "$T/out")" = "127.0.0.1:$PORT" ]; then
		ok "ss: the server listens on 127.0.0.1:$PORT only"
	else
		not_ok "ss: the server's listening sockets are not just 127.0.0.1:$PORT"
		show "$T/out" "$T/ss"
	fi
else
	ok "# SKIP ss not found: listening addresses not checked"
fi

cd "$T" || exit 1
printf 'Document to be time-stamped, %s\n' "$(date -u)" >doc.txt
TSQ=(-H 'Content-Type: application/timestamp-query')
OCQ=(-H 'Content-Type: application/ocsp-request')
TSVERIFY=(openssl ts -verify -CAfile "$PKI/root.crt" -untrusted "$PKI/int.crt")

# post URL QUERY OUT [CURL ARGS...]: POST a time-stamp query; the HTTP
# status and content type in $T/out.
post_tsq() {
	local url=$1 q=$2 out=$3
	shift 3
	curl -sS -m 20 "${TSQ[@]}" --data-binary "@$q" -o "$out" \
		-w '%{http_code} %{content_type}\n' "$@" "$url"
}

# --- TSA ---------------------------------------------------------------------
openssl ts -query -data doc.txt -sha256 -cert -out q-nonce.tsq 2>/dev/null
openssl ts -query -data doc.txt -sha256 -cert -no_nonce -out q-nononce.tsq 2>/dev/null
openssl ts -query -data doc.txt -sha384 -out q-384.tsq 2>/dev/null
openssl ts -query -data doc.txt -sha512 -cert -out q-512.tsq 2>/dev/null
openssl ts -query -data doc.txt -sha1 -cert -out q-sha1.tsq 2>/dev/null
openssl ts -query -data doc.txt -sha256 -cert -tspolicy 1.3.6.1.4.1.99999.2.2 -out q-pol2.tsq 2>/dev/null
openssl ts -query -data doc.txt -sha256 -cert -tspolicy 1.2.3.4 -out q-pol-bad.tsq 2>/dev/null

run "POST /tsa (SHA-256, nonce, certReq)" post_tsq "$U/tsa" q-nonce.tsq r-nonce.tsr
grep_out '^200 application/timestamp-reply$' "/tsa answers 200 application/timestamp-reply"
run "openssl ts -verify -data: token over doc.txt verifies" \
	"${TSVERIFY[@]}" -data doc.txt -in r-nonce.tsr
run "openssl ts -verify -queryfile: nonce and imprint match the query" \
	"${TSVERIFY[@]}" -queryfile q-nonce.tsq -in r-nonce.tsr
openssl ts -reply -in r-nonce.tsr -text >"$T/out" 2>&1
grep_out '^Status: Granted\.' "status granted"
grep_out '^Policy OID: 1\.3\.6\.1\.4\.1\.99999\.2\.1$' "default policy 1.3.6.1.4.1.99999.2.1"
grep_out '^Accuracy: 0x01 seconds' "accuracy 1 s"
grep_out '^Ordering: no$' "ordering no"
grep_out '^TSA: DirName:.*CN ?= ?libeid Test TSA$' "TSTInfo names the TSA"
qn=$(openssl ts -query -in q-nonce.tsq -text 2>/dev/null | sed -n 's/^Nonce: //p')
grep_out "^Nonce: $qn\$" "nonce echoed ($qn)"
openssl ts -reply -in r-nonce.tsr -token_out -out tok-nonce.der 2>/dev/null
openssl pkcs7 -inform DER -in tok-nonce.der -print_certs -noout >"$T/out" 2>&1
if [ "$(grep -c '^subject=' "$T/out")" = 3 ]; then
	ok "certReq: token carries TSA, intermediate and root certificates"
else
	not_ok "certReq: token does not carry 3 certificates"
	show "$T/out"
fi
openssl asn1parse -inform DER -in tok-nonce.der >"$T/out" 2>&1
grep_out 'id-smime-aa-signingCertificateV2' "ESS signing-certificate-v2 attribute present"
no_grep_out ':id-smime-aa-signingCertificate$' "no ESS signing-certificate (v1) attribute"

run "POST /tsa without nonce" post_tsq "$U/tsa" q-nononce.tsq r-nononce.tsr
run "token without nonce verifies (-queryfile)" "${TSVERIFY[@]}" -queryfile q-nononce.tsq -in r-nononce.tsr
openssl ts -reply -in r-nononce.tsr -text >"$T/out" 2>&1
grep_out '^Nonce: unspecified$' "no nonce asked, none in the token"

run "POST /tsa SHA-384 without certReq" post_tsq "$U/tsa" q-384.tsq r-384.tsr
openssl ts -reply -in r-384.tsr -token_out -out tok-384.der 2>/dev/null
openssl pkcs7 -inform DER -in tok-384.der -print_certs -noout >"$T/out" 2>&1
if grep -q '^subject=' "$T/out"; then not_ok "no certReq: token has certificates"; show "$T/out"; else
	ok "no certReq: token has no certificates"
fi
cat "$PKI/int.crt" "$PKI/tsa.crt" >int-tsa.pem
run "SHA-384 token verifies with the TSA certificate supplied" \
	openssl ts -verify -CAfile "$PKI/root.crt" -untrusted int-tsa.pem -data doc.txt -in r-384.tsr
run "POST /tsa SHA-512" post_tsq "$U/tsa" q-512.tsq r-512.tsr
run "SHA-512 token verifies" "${TSVERIFY[@]}" -queryfile q-512.tsq -in r-512.tsr

post_tsq "$U/tsa" q-sha1.tsq r-sha1.tsr >/dev/null 2>&1
openssl ts -reply -in r-sha1.tsr -text >"$T/out" 2>&1
grep_out 'unrecognized or unsupported algorithm' "SHA-1 imprint: rejection, badAlg"
post_tsq "$U/tsa" q-pol2.tsq r-pol2.tsr >/dev/null 2>&1
openssl ts -reply -in r-pol2.tsr -text >"$T/out" 2>&1
grep_out '^Policy OID: 1\.3\.6\.1\.4\.1\.99999\.2\.2$' "requested policy 1.3.6.1.4.1.99999.2.2 granted"
post_tsq "$U/tsa" q-pol-bad.tsq r-pol-bad.tsr >/dev/null 2>&1
openssl ts -reply -in r-pol-bad.tsr -text >"$T/out" 2>&1
grep_out 'requested TSA policy is not supported' "unknown policy: rejection, unacceptedPolicy"
curl -sS -m 20 -H 'Content-Type: text/plain' --data-binary @q-nonce.tsq -o /dev/null \
	-w '%{http_code}\n' "$U/tsa" >"$T/out" 2>&1
grep_out '^415$' "wrong Content-Type: 415"
curl -sS -m 20 -o /dev/null -w '%{http_code}\n' "$U/tsa" >"$T/out" 2>&1
grep_out '^405$' "GET /tsa: 405"

# Concurrent requests: the serial file is shared; all tokens distinct.
for i in 1 2 3 4 5 6 7 8; do
	post_tsq "$U/tsa" q-nonce.tsq "par-$i.tsr" >/dev/null 2>&1 &
done
wait
for i in 1 2 3 4 5 6 7 8; do
	openssl ts -reply -in "par-$i.tsr" -text 2>/dev/null | sed -n 's/^Serial number: //p'
done | sort | uniq >"$T/out"
if [ "$(wc -l <"$T/out")" = 8 ]; then ok "8 concurrent requests: 8 tokens, 8 distinct serials"; else
	not_ok "8 concurrent requests did not give 8 distinct serials"
	show "$T/out"
fi

# --- TSA failure modes ----------------------------------------------------------
t0=$(date +%s%N)
curl -sS -m 2 "${TSQ[@]}" --data-binary @q-nonce.tsq -o /dev/null "$U/tsa/slow" >"$T/out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" = 28 ] && [ "$ms" -lt 5000 ]; then ok "/tsa/slow: curl -m 2 times out (${ms} ms)"; else
	not_ok "/tsa/slow: curl exit $rc after $ms ms, want 28 (timeout)"
	show "$T/out"
fi
run "/tsa/garbage: 200" post_tsq "$U/tsa/garbage" q-nonce.tsq r-garbage.tsr
grep_out '^200 application/timestamp-reply$' "/tsa/garbage: 200 application/timestamp-reply"
fails "/tsa/garbage: the body does not parse" openssl ts -reply -in r-garbage.tsr -text
post_tsq "$U/tsa/http500" q-nonce.tsq r-500 >"$T/out" 2>&1
grep_out '^500 ' "/tsa/http500: HTTP 500"

post_tsq "$U/tsa/wrong-imprint" q-nonce.tsq r-wi.tsr >/dev/null 2>&1
fails "/tsa/wrong-imprint: ts -verify -data fails" "${TSVERIFY[@]}" -data doc.txt -in r-wi.tsr
grep_out 'message imprint mismatch' "/tsa/wrong-imprint: reason: message imprint mismatch"
fails "/tsa/wrong-imprint: ts -verify -queryfile fails" "${TSVERIFY[@]}" -queryfile q-nonce.tsq -in r-wi.tsr
openssl ts -reply -in r-wi.tsr -text >"$T/out" 2>&1
grep_out "^Nonce: $qn\$" "/tsa/wrong-imprint: the nonce is still the right one"

post_tsq "$U/tsa/bad-nonce" q-nonce.tsq r-bn.tsr >/dev/null 2>&1
fails "/tsa/bad-nonce: ts -verify -queryfile fails" "${TSVERIFY[@]}" -queryfile q-nonce.tsq -in r-bn.tsr
grep_out 'nonce mismatch' "/tsa/bad-nonce: reason: nonce mismatch"
run "/tsa/bad-nonce: otherwise valid (ts -verify -data)" "${TSVERIFY[@]}" -data doc.txt -in r-bn.tsr
post_tsq "$U/tsa/bad-nonce" q-nononce.tsq r-bn2.tsr >/dev/null 2>&1
openssl ts -reply -in r-bn2.tsr -text >"$T/out" 2>&1
grep_out '^Nonce: 0x' "/tsa/bad-nonce without a nonce in the query: the token has one"

post_tsq "$U/tsa/expired" q-nonce.tsq r-exp.tsr >/dev/null 2>&1
fails "/tsa/expired: ts -verify fails" "${TSVERIFY[@]}" -queryfile q-nonce.tsq -in r-exp.tsr
grep_out 'certificate has expired' "/tsa/expired: reason: certificate has expired"
openssl ts -reply -in r-exp.tsr -token_out -out tok-exp.der 2>/dev/null
openssl pkcs7 -inform DER -in tok-exp.der -print_certs -noout >"$T/out" 2>&1
grep_out 'CN ?= ?libeid Test TSA \(expired\)' "/tsa/expired: signed with tsa-expired"

post_tsq "$U/tsa/no-eku" q-nonce.tsq r-ne.tsr >/dev/null 2>&1
fails "/tsa/no-eku: ts -verify fails" "${TSVERIFY[@]}" -queryfile q-nonce.tsq -in r-ne.tsr
grep_out 'unsuitable certificate purpose' "/tsa/no-eku: reason: unsuitable certificate purpose"
run "/tsa/no-eku: sound apart from the EKU (ts -verify -purpose any)" \
	"${TSVERIFY[@]}" -purpose any -queryfile q-nonce.tsq -in r-ne.tsr
openssl ts -reply -in r-ne.tsr -token_out -out tok-ne.der 2>/dev/null
openssl pkcs7 -inform DER -in tok-ne.der -print_certs -noout >"$T/out" 2>&1
grep_out 'CN ?= ?libeid Test TSA \(no EKU\)' "/tsa/no-eku: signed with tsa-noeku"

# --- OCSP ----------------------------------------------------------------------
OCSP=(openssl ocsp -issuer "$PKI/int.crt" -CAfile "$PKI/chain.pem")
run "OCSP POST: citizen-rsa2048" "${OCSP[@]}" -cert "$PKI/citizen-rsa2048.crt" -url "$U/ocsp" -resp_text
grep_out 'citizen-rsa2048\.crt: good' "citizen-rsa2048: good"
grep_out 'Response verify OK' "response verifies against the chain"
grep_out 'Responder Id: .*CN ?= ?libeid Test OCSP Responder' "responder: ocsp certificate, by name"
grep_out 'OCSP Nonce' "nonce echoed"
this=$(sed -n 's/^[[:space:]]*This Update: //p' "$T/out" | head -n 1)
next=$(sed -n 's/^[[:space:]]*Next Update: //p' "$T/out" | head -n 1)
if [ -n "$this" ] && [ -n "$next" ] &&
	[ $(($(date -u -d "$next" +%s) - $(date -u -d "$this" +%s))) = 3600 ]; then
	ok "nextUpdate = thisUpdate + 60 min"
else
	not_ok "nextUpdate is not thisUpdate + 60 min ($this / $next)"
fi
run "OCSP POST: revoked-rsa2048" "${OCSP[@]}" -cert "$PKI/revoked-rsa2048.crt" -url "$U/ocsp"
grep_out 'revoked-rsa2048\.crt: revoked' "revoked-rsa2048: revoked"
grep_out 'Reason: keyCompromise' "revoked-rsa2048: reason keyCompromise"
run "OCSP POST: two certificates, SHA-256 CertIDs" "${OCSP[@]}" -sha256 \
	-cert "$PKI/citizen-p256.crt" -cert "$PKI/expired-rsa2048.crt" -url "$U/ocsp"
grep_out 'citizen-p256\.crt: good' "SHA-256 CertID: citizen-p256 good"
grep_out 'expired-rsa2048\.crt: good' "expired-rsa2048 is in the database: good"
run "OCSP for the intermediate (root's database, signed by the root)" \
	openssl ocsp -issuer "$PKI/root.crt" -CAfile "$PKI/root.crt" -cert "$PKI/int.crt" \
	-url "$U/ocsp" -resp_text
grep_out 'int\.crt: good' "int: good"
grep_out 'Responder Id: .*CN ?= ?libeid Test Root CA' "int: the root signs"

openssl ocsp -issuer "$PKI/int.crt" -cert "$PKI/revoked-rsa2048.crt" -reqout get.req >/dev/null 2>&1
b64=$(base64 -w0 get.req)
enc=$("$PYTHON" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$b64")
curl -sS -m 20 -o get.resp -w '%{http_code} %{content_type}\n' "$U/ocsp/$enc" >"$T/out" 2>&1
grep_out '^200 application/ocsp-response$' "OCSP GET (RFC 6960 A.1, URL-encoded base64): 200"
run "OCSP GET: response verifies, nonce matches" \
	openssl ocsp -reqin get.req -respin get.resp -CAfile "$PKI/chain.pem" -resp_text
grep_out 'Cert Status: revoked' "OCSP GET: revoked-rsa2048 revoked"
curl -sS -m 20 -o get2.resp "$U/ocsp/$b64" >/dev/null 2>&1
run "OCSP GET with raw base64 (+ and / not encoded)" \
	openssl ocsp -reqin get.req -respin get2.resp -CAfile "$PKI/chain.pem"

printf 'not an OCSP request' >junk
curl -sS -m 20 "${OCQ[@]}" --data-binary @junk -o junk.resp "$U/ocsp" >/dev/null 2>&1
openssl ocsp -respin junk.resp -resp_text -noverify >"$T/out" 2>&1
grep_out 'malformedrequest \(1\)' "malformed request: responseStatus malformedRequest"
curl -sS -m 20 -H 'Content-Type: text/plain' --data-binary @get.req -o /dev/null \
	-w '%{http_code}\n' "$U/ocsp" >"$T/out" 2>&1
grep_out '^415$' "OCSP wrong Content-Type: 415"

# --- OCSP failure modes -----------------------------------------------------------
OC=("${OCSP[@]}" -cert "$PKI/citizen-rsa2048.crt")
t0=$(date +%s%N)
curl -sS -m 2 "${OCQ[@]}" --data-binary @get.req -o /dev/null "$U/ocsp/slow" >"$T/out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" = 28 ] && [ "$ms" -lt 5000 ]; then ok "/ocsp/slow: curl -m 2 times out (${ms} ms)"; else
	not_ok "/ocsp/slow: curl exit $rc after $ms ms, want 28 (timeout)"
	show "$T/out"
fi
t0=$(date +%s%N)
"${OC[@]}" -url "$U/ocsp/slow" -timeout 2 >"$T/out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" != 0 ] && [ "$ms" -lt 5000 ]; then ok "/ocsp/slow: openssl ocsp -timeout 2 gives up (${ms} ms)"; else
	not_ok "/ocsp/slow: openssl ocsp exit $rc after $ms ms"
	show "$T/out"
fi
fails "/ocsp/garbage: openssl ocsp fails" "${OC[@]}" -url "$U/ocsp/garbage"
curl -sS -m 20 "${OCQ[@]}" --data-binary @get.req -o garbage.resp -w '%{http_code}\n' \
	"$U/ocsp/garbage" >"$T/out" 2>&1
grep_out '^200$' "/ocsp/garbage: HTTP 200"
fails "/ocsp/garbage: the body does not parse" openssl ocsp -respin garbage.resp -noverify
fails "/ocsp/http500: openssl ocsp fails" "${OC[@]}" -url "$U/ocsp/http500"
grep_out 'code=500' "/ocsp/http500: HTTP 500"
"${OC[@]}" -url "$U/ocsp/other-cert" -resp_text >"$T/out" 2>&1
grep_out 'Response verify OK' "/ocsp/other-cert: a validly signed response"
grep_out 'citizen-rsa2048\.crt: ERROR: No Status found' "/ocsp/other-cert: no status for the certificate asked"
"${OC[@]}" -url "$U/ocsp/unauthorized" -resp_text >"$T/out" 2>&1
grep_out 'Response Verify Failure' "/ocsp/unauthorized: response does not verify"
grep_out 'Responder Id: .*CN ?= ?Untrusted Signer' "/ocsp/unauthorized: signed by other-citizen"
"${OC[@]}" -url "$U/ocsp/not-delegated" >"$T/out" 2>&1
grep_out 'missing ocspsigning usage' "/ocsp/not-delegated: reason: missing ocspsigning usage"
"${OC[@]}" -url "$U/ocsp/tryLater" >"$T/out" 2>&1
grep_out 'trylater \(3\)' "/ocsp/tryLater: responseStatus tryLater"
fails "/ocsp/bad-nonce: openssl ocsp fails" "${OC[@]}" -url "$U/ocsp/bad-nonce"
grep_out 'Nonce Verify error' "/ocsp/bad-nonce: reason: nonce verify error"
curl -sS -m 20 -o get-tl.resp "$U/ocsp/tryLater/$enc" >/dev/null 2>&1
openssl ocsp -respin get-tl.resp -noverify >"$T/out" 2>&1
grep_out 'trylater \(3\)' "GET /ocsp/tryLater/BASE64: tryLater"

# --- CRLs and certificates -----------------------------------------------------
curl -sS -m 20 -o int.crl -w '%{http_code} %{content_type}\n' "$U/int.crl" >"$T/out" 2>&1
grep_out '^200 application/pkix-crl$' "GET /int.crl: 200 application/pkix-crl"
run "int.crl is a DER CRL" openssl crl -inform DER -in int.crl -noout -text
grep_out 'Issuer: .*CN ?= ?libeid Test Citizen CA' "int.crl: issued by the intermediate"
rser=$(openssl x509 -in "$PKI/revoked-rsa2048.crt" -noout -serial | cut -d= -f2)
grep_out "Serial Number: $rser" "int.crl lists revoked-rsa2048"
run "int.crl verifies with int.crt" openssl crl -inform DER -in int.crl -noout -CAfile "$PKI/chain.pem"
curl -sS -m 20 -o root.crl "$U/root.crl" >/dev/null 2>&1
run "GET /root.crl: DER CRL" openssl crl -inform DER -in root.crl -noout -text
grep_out 'Issuer: .*CN ?= ?libeid Test Root CA' "root.crl: issued by the root"
curl -sS -m 20 -o int.der -w '%{http_code} %{content_type}\n' "$U/int.crt" >"$T/out" 2>&1
grep_out '^200 application/pkix-cert$' "GET /int.crt: 200 application/pkix-cert"
is_true "GET /int.crt is int.der" cmp int.der "$PKI/int.der"
curl -sS -m 20 -o root.der "$U/root.crt" >/dev/null 2>&1
is_true "GET /root.crt is root.der" cmp root.der "$PKI/root.der"
curl -sS -m 20 -o /dev/null -w '%{http_code}\n' "$U/nothing" >"$T/out" 2>&1
grep_out '^404$' "unknown path: 404"

# --- revocation at a known moment ----------------------------------------------
OP=(openssl ocsp -issuer "$PKI/int.crt" -CAfile "$PKI/chain.pem" -cert "$PKI/citizen-p384.crt" -url "$U/ocsp")
run "citizen-p384 good before /admin/revoke" "${OP[@]}"
grep_out 'citizen-p384\.crt: good' "citizen-p384: good"
before=$(date -u +%s)
curl -sS -m 20 -X POST -o revoke.out -w '%{http_code}\n' \
	"$U/admin/revoke?cert=citizen-p384&reason=keyCompromise" >"$T/out" 2>&1
grep_out '^200$' "POST /admin/revoke?cert=citizen-p384&reason=keyCompromise: 200"
run "OCSP after /admin/revoke" "${OP[@]}"
grep_out 'citizen-p384\.crt: revoked' "citizen-p384: revoked at once"
grep_out 'Reason: keyCompromise' "citizen-p384: reason keyCompromise"
rt=$(sed -n 's/^[[:space:]]*Revocation Time: //p' "$T/out")
if [ -n "$rt" ] && [ "$(date -u -d "$rt" +%s)" -ge "$before" ]; then
	ok "revocation time $rt >= the time before the call"
else
	not_ok "revocation time '$rt' < $(date -u -d "@$before")"
fi
pser=$(openssl x509 -in "$PKI/citizen-p384.crt" -noout -serial | cut -d= -f2)
curl -sS -m 20 -o int2.crl "$U/int.crl" >/dev/null 2>&1
openssl crl -inform DER -in int2.crl -noout -text >"$T/out" 2>&1
grep_out "Serial Number: $pser" "the CRL now lists citizen-p384"
n1=$(openssl crl -inform DER -in int.crl -noout -crlnumber | cut -d= -f2)
n2=$(openssl crl -inform DER -in int2.crl -noout -crlnumber | cut -d= -f2)
if [ $((n2)) -gt $((n1)) ]; then ok "the new CRL has a higher CRL number ($n1 -> $n2)"; else
	not_ok "CRL number did not grow ($n1 -> $n2)"
fi
curl -sS -m 20 -X POST -o /dev/null -w '%{http_code}\n' \
	"$U/admin/revoke?cert=citizen-p384&reason=keyCompromise" >"$T/out" 2>&1
grep_out '^409$' "revoking again: 409"
curl -sS -m 20 -X POST -o /dev/null -w '%{http_code}\n' "$U/admin/revoke?cert=../etc/passwd" >"$T/out" 2>&1
grep_out '^400$' "bad certificate name: 400"
curl -sS -m 20 -X POST -o /dev/null -w '%{http_code}\n' "$U/admin/gencrl" >"$T/out" 2>&1
grep_out '^200$' "POST /admin/gencrl: 200"
curl -sS -m 20 -o int3.crl "$U/int.crl" >/dev/null 2>&1
n3=$(openssl crl -inform DER -in int3.crl -noout -crlnumber | cut -d= -f2)
if [ $((n3)) -gt $((n2)) ]; then ok "/admin/gencrl made a new CRL ($n2 -> $n3)"; else
	not_ok "/admin/gencrl: CRL number did not grow ($n2 -> $n3)"
fi

# --- log, stop, and "down" -----------------------------------------------------
cp "$T/srv/access.log" "$T/out"
grep_out '^[0-9T:.-]+Z POST /tsa 200 [0-9.]+ms ' "access log: method, path, status, ms"
grep_out ' POST /admin/revoke\?cert=citizen-p384&reason=keyCompromise 200 ' "access log: the revocation"
if [ -s "$T/srv/server.err" ]; then
	cp "$T/srv/server.err" "$T/out"
	not_ok "server.err is not empty"
	show "$T/out"
else
	ok "server.err is empty"
fi
run "servers.sh stop" "$SERVERS" stop "$T/srv"
st=$(sed 's/^.*) //' "/proc/$SPID/stat" 2>/dev/null | cut -d' ' -f1)
if [ -z "$st" ] || [ "$st" = Z ]; then ok "the server is gone"; else not_ok "the server is still there (state $st)"; fi
is_true "the pid file is removed" test ! -e "$T/srv/servers.pid"
curl -sS -m 5 -o /dev/null "$U/int.crt" >"$T/out" 2>&1
rc=$?
if [ "$rc" = 7 ]; then ok "down: connection refused on port $PORT (curl exit 7)"; else
	not_ok "after stop, curl exit $rc, want 7"
	show "$T/out"
fi
run "servers.sh stop again: no-op" "$SERVERS" stop "$T/srv"

echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
