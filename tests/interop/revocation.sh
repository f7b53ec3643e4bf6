#!/usr/bin/env bash
# Revocation, online: eid-verify --online asks the OCSP responder the
# signer's certificate names (tests/pki/servers.py on 127.0.0.1, answering
# from the CA database) and judges the answer against the signature
# timestamp: revoked after it, the signature stands; revoked before it,
# TOTAL-FAILED/REVOKED; revoked with no proof of existence,
# INDETERMINATE/REVOKED_NO_POE; a responder that is down, slow, wrong or not
# authorised, INDETERMINATE/TRY_LATER.
. "$EID_TEST_SRCDIR/tests/lib.sh"
HERE=$EID_TEST_SRCDIR/tests/pki
pki_servers
sign() { local key=$1; shift; "$SIGN" --pkcs12 "$P/$key.p12" --pass pass:test "$@"; }
check() { "$VERIFY" --trust "$P/root.crt" --untrusted "$P/int.crt" "$@"; }
revoke() { curl -s -f -X POST "$BASE/admin/revoke?cert=$1&reason=keyCompromise" >/dev/null; }

# ---- a good certificate
expect_status 0 "B-B by a good certificate" sign citizen-rsa2048 -f cades "$T/doc.txt" -o "$T/good.p7s"
expect_status 0 "... --online: TOTAL-PASSED" check --online "$T/good.p7s" --data "$T/doc.txt"
expect_grep "^  Revocation: +good \\(OCSP by CN=libeid Test OCSP Responder" "$T/out" "... the responder's answer is reported"
if grep -q "TRY_LATER\|is not known" "$T/out"; then not_ok "still says the status is not known"; else ok "... and no 'not known' finding"; fi
expect_status 1 "... without --online and without revocation data: INDETERMINATE" check "$T/good.p7s" --data "$T/doc.txt"
expect_grep "INDETERMINATE / TRY_LATER" "$T/out" "... TRY_LATER"
expect_grep "revocation status of 'CN=.*' is not known: the signature carries no revocation data" "$T/out" "... naming the certificate"
expect_status 0 "... JSON" check --online --json "$T/good.p7s" --data "$T/doc.txt"
expect_grep '"revocation": "good' "$T/out" "... JSON revocation"
expect_status 0 "PAdES and XAdES the same" sign citizen-p256 "$EID_TEST_PDF/cairo.pdf" -o "$T/good.pdf"
expect_status 0 "... PAdES --online" check --online "$T/good.pdf"
expect_status 0 "... XAdES" sign citizen-p256 -f xades "$T/doc.txt" -o "$T/good.xml"
expect_status 0 "... XAdES --online" check --online "$T/good.xml" --data "$T/doc.txt"

# ---- a signature without its chain: the issuer fetched from the AIA caIssuers URL
expect_status 0 "B-B without the chain" sign citizen-rsa2048 -f cades --no-chain "$T/doc.txt" -o "$T/nochain.p7s"
expect_status 1 "... the root alone, offline: no chain" "$VERIFY" --trust "$P/root.crt" "$T/nochain.p7s" --data "$T/doc.txt"
expect_grep "NO_CERTIFICATE_CHAIN_FOUND" "$T/out" "... NO_CERTIFICATE_CHAIN_FOUND"
expect_status 0 "... --online: the intermediate fetched, TOTAL-PASSED" "$VERIFY" --trust "$P/root.crt" --online "$T/nochain.p7s" --data "$T/doc.txt"
expect_grep "completed with the issuer's certificate fetched from http://127\\.0\\.0\\.1:[0-9]+/int\\.crt" "$T/out" "... and says where from"
expect_grep "^  Revocation: +good" "$T/out" "... and its status asked from the responder"

# ---- revoked before anything was signed, no proof of existence
expect_status 0 "B-B by a revoked certificate" sign revoked-rsa2048 -f cades "$T/doc.txt" -o "$T/revoked.p7s"
expect_status 1 "... --online: INDETERMINATE" check --online "$T/revoked.p7s" --data "$T/doc.txt"
expect_grep "REVOKED_NO_POE" "$T/out" "... REVOKED_NO_POE"
expect_grep "^  Revocation: +revoked at .*keyCompromise" "$T/out" "... with the time and reason"

# ---- revoked after a B-T signature: it stands; revoked before one: TOTAL-FAILED
expect_status 0 "B-T by a certificate still good" sign citizen-rsa3072 -f cades -l B-T --tsa "$TSA" "$T/doc.txt" -o "$T/before-rev.p7s"
sleep 2
revoke citizen-rsa3072
expect_status 0 "... revoked afterwards: still TOTAL-PASSED" check --online "$T/before-rev.p7s" --data "$T/doc.txt"
expect_grep "revoked at .* after the timestamp proved the signature existed" "$T/out" "... with a warning saying when"
expect_status 0 "... B-T made now, by the revoked certificate" sign citizen-rsa3072 -f cades -l B-T --tsa "$TSA" "$T/doc.txt" -o "$T/after-rev.p7s"
expect_status 2 "... TOTAL-FAILED" check --online "$T/after-rev.p7s" --data "$T/doc.txt"
expect_grep "TOTAL-FAILED / REVOKED$" "$T/out" "... REVOKED"
expect_grep "revoked at .* before the signature's timestamp" "$T/out" "... before the signature's timestamp"
sign citizen-rsa3072 -f cades "$T/doc.txt" -o "$T/rev-b.p7s"
expect_status 1 "B-B by the revoked certificate: INDETERMINATE" check --online "$T/rev-b.p7s" --data "$T/doc.txt"
expect_grep "REVOKED_NO_POE" "$T/out" "... REVOKED_NO_POE"

# ---- responders that fail: the issuer's CRL answers instead (the certificates' AIA stays
# /ocsp; the server answers it in the chosen fault mode)
ocsp_mode() { curl -s -f -X POST "$BASE/admin/ocsp-mode?mode=$1" >/dev/null; }
for fault in "garbage|/ocsp failed|not an OCSP response" "http500|/ocsp failed" "other-cert|another certificate" \
	"unauthorized|not signed by a responder the issuer authorised" \
	"not-delegated|not signed by a responder the issuer authorised" "tryLater|answered trylater" \
	"bad-nonce|without our nonce" "slow|/ocsp failed"; do
	mode=${fault%%|*} want=${fault#*|}
	ocsp_mode "$mode"
	t0=$(date +%s)
	expect_status 0 "responder $mode: the CRL decides, TOTAL-PASSED" check --online --timeout 2 "$T/good.p7s" --data "$T/doc.txt"
	expect_grep "no OCSP answer \\(.*($want)" "$T/out" "... says why the responder did not count ($mode)"
	expect_grep "^  Revocation: +good \\(CRL by CN=libeid Test Citizen CA" "$T/out" "... good, from the CRL ($mode)"
	[ $(( $(date +%s) - t0 )) -le 8 ] && ok "... within the timeout ($mode)" || not_ok "$mode took $(( $(date +%s) - t0 )) s"
done
ocsp_mode http500
expect_status 1 "a revoked certificate, through the CRL: INDETERMINATE" check --online "$T/revoked.p7s" --data "$T/doc.txt"
expect_grep "REVOKED_NO_POE" "$T/out" "... REVOKED_NO_POE"
expect_grep "^  Revocation: +revoked at .*\\(CRL by" "$T/out" "... revoked, from the CRL"
ocsp_mode ""
expect_status 0 "the responder answering again: TOTAL-PASSED" check --online "$T/good.p7s" --data "$T/doc.txt"
expect_grep "^  Revocation: +good \\(OCSP" "$T/out" "... from OCSP again"
bash "$HERE/servers.sh" stop "$T/srv" >/dev/null
expect_status 1 "responder and CRL down: INDETERMINATE/TRY_LATER" check --online --timeout 2 "$T/good.p7s" --data "$T/doc.txt"
expect_grep "TRY_LATER" "$T/out" "... TRY_LATER"
expect_grep "127\\.0\\.0\\.1:[0-9]+/ocsp failed.*int\\.crl failed" "$T/out" "... naming both servers"

finish
