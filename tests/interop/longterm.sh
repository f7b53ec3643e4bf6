#!/usr/bin/env bash
# The long-term verdicts of EN 319 102-1 in every format, against the
# loopback TSA, OCSP responder and CRLs of tests/pki/servers.py:
#  - an expired signer with B-LT data and a timestamp before expiry passes;
#  - revoked before the signature timestamp: TOTAL-FAILED/REVOKED;
#  - revoked after it, with B-LT data: passes, offline;
#  - no revocation data and offline: INDETERMINATE/TRY_LATER;
#  - B-LTA over algorithms deprecated since: passes on the archive timestamp.
. "$EID_TEST_SRCDIR/tests/lib.sh"
pki_servers
sign() { local key=$1; shift; "$SIGN" --pkcs12 "$P/$key.p12" --pass pass:test --tsa "$TSA" "$@"; }
check() { "$VERIFY" --trust "$P/root.crt" --untrusted "$P/int.crt" "$@"; }
revoke() { curl -s -f -X POST "$BASE/admin/revoke?cert=$1&reason=keyCompromise" >/dev/null; }
level_of() { sed -n 's/.*"level": "\([^"]*\)".*/\1/p' "$T/out" | head -1; }

printf 'Contract: 12.50 EUR.\n' > "$T/doc.txt"
cp "$EID_TEST_PDF/cairo.pdf" "$T/doc.pdf"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<invoice><amount>12.50</amount></invoice>\n' > "$T/inv.xml"

# FORMAT -> eid-sign arguments, input and suffix; data for eid-verify
args_of() {
	case $1 in
	cades) echo "-f cades $T/doc.txt" ;;
	pades) echo "$T/doc.pdf" ;;
	xades) echo "$T/inv.xml" ;;
	asice) echo "-f asice $T/doc.txt" ;;
	esac
}
sfx_of() { case $1 in cades) echo p7s ;; pades) echo pdf ;; xades) echo xml ;; asice) echo asice ;; esac; }
data_of() { [ "$1" = cades ] && echo "--data $T/doc.txt"; }
NAME_OF_cades=CAdES NAME_OF_pades=PAdES NAME_OF_xades=XAdES NAME_OF_asice=XAdES
later=$(date -u -d '+5 days' +%Y-%m-%dT%H:%M:%SZ)
printf '# RSA-2048 retired in 2028\nrsa<3072 2028-01-01\n' > "$T/policy"

for f in cades pades xades asice; do
	sfx=$(sfx_of $f)
	name_var=NAME_OF_$f
	fam=${!name_var}
	# shellcheck disable=SC2046 # word splitting of the arguments is meant
	{
	# ---- B-LT and B-LTA are made, and judged offline on what they carry
	expect_status 0 "$f: B-LT" sign citizen-rsa2048 -l B-LT $(args_of $f) -o "$T/lt.$sfx"
	expect_status 0 "... verifies offline" check --json "$T/lt.$sfx" $(data_of $f)
	[ "$(level_of)" = "$fam-BASELINE-LT" ] && ok "... level $fam-BASELINE-LT" || not_ok "$f B-LT level: $(level_of)"
	expect_grep '"revocation": "good \(OCSP' "$T/out" "... the signer's status from the embedded OCSP response"
	expect_status 0 "$f: B-LTA" sign citizen-rsa2048 -l B-LTA $(args_of $f) -o "$T/lta.$sfx"
	expect_status 0 "... verifies offline" check --json "$T/lta.$sfx" $(data_of $f)
	[ "$(level_of)" = "$fam-BASELINE-LTA" ] && ok "... level $fam-BASELINE-LTA" || not_ok "$f B-LTA level: $(level_of)"
	expect_grep '"archiveTimestamp"' "$T/out" "... the archive timestamp is reported"

	# ---- no revocation data, offline: TRY_LATER; online: passes
	expect_status 0 "$f: B-T" sign citizen-rsa2048 -l B-T $(args_of $f) -o "$T/t.$sfx"
	expect_status 1 "... offline, without revocation data: INDETERMINATE" check "$T/t.$sfx" $(data_of $f)
	expect_grep "INDETERMINATE / TRY_LATER" "$T/out" "... TRY_LATER"
	expect_status 0 "... with --online: TOTAL-PASSED" check --online "$T/t.$sfx" $(data_of $f)
	expect_status 0 "$f: --extend B-LT of that B-T" "$SIGN" --extend B-LT --tsa "$TSA" "$T/t.$sfx" -o "$T/t-lt.$sfx" \
		$([ $f = cades ] && echo "--data $T/doc.txt")
	expect_status 0 "... verifies offline" check "$T/t-lt.$sfx" $(data_of $f)

	# ---- an expired signer with B-LT data and a timestamp from its validity
	expect_status 0 "$f: B-LT by a certificate valid two days" sign short-rsa2048 -l B-LT $(args_of $f) -o "$T/short.$sfx"
	expect_status 0 "... five days later, offline: TOTAL-PASSED" check --at "$later" "$T/short.$sfx" $(data_of $f)
	expect_grep "judged at the timestamp's time" "$T/out" "... judged at the timestamp's time"
	expect_status 0 "$f: B-B by it" "$SIGN" --pkcs12 "$P/short-rsa2048.p12" --pass pass:test $(args_of $f) -o "$T/short-b.$sfx"
	expect_status 1 "... five days later: INDETERMINATE" check --at "$later" "$T/short-b.$sfx" $(data_of $f)
	expect_grep "OUT_OF_BOUNDS_NO_POE|TRY_LATER" "$T/out" "... no proof of existence"

	# ---- deprecated algorithms: B-LTA stands on its timestamps, B-B does not
	expect_status 0 "$f: B-LTA after RSA-2048's sunset (policy), offline: TOTAL-PASSED" \
		check --crypto-policy "$T/policy" --at 2028-06-01 "$T/lta.$sfx" $(data_of $f)
	expect_grep "no longer acceptable since 2028-01-01.*a timestamp proves the signature existed" "$T/out" \
		"... on the proof of its timestamps"
	expect_status 0 "$f: B-B" "$SIGN" --pkcs12 "$P/citizen-rsa2048.p12" --pass pass:test $(args_of $f) -o "$T/b.$sfx"
	expect_status 1 "... after the sunset: INDETERMINATE" \
		check --online --crypto-policy "$T/policy" --at 2028-06-01 "$T/b.$sfx" $(data_of $f)
	expect_grep "CRYPTO_CONSTRAINTS_FAILURE_NO_POE" "$T/out" "... CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
	}
done

# ---- revocation against the proof of existence (one certificate per case: revocation is for good)
expect_status 0 "B-LT by citizen-p256" sign citizen-p256 -l B-LT -f cades "$T/doc.txt" -o "$T/rev-after.p7s"
expect_status 0 "B-T by citizen-p384" sign citizen-p384 -l B-T -f cades "$T/doc.txt" -o "$T/rev-after-t.p7s"
sleep 2 # a revocation in the same second as the timestamp counts as before it
revoke citizen-p256
revoke citizen-p384
expect_status 0 "revoked after the signature timestamp, with B-LT data: passes offline" \
	check "$T/rev-after.p7s" --data "$T/doc.txt"
expect_status 0 "revoked after the signature timestamp, B-T asked online: passes" \
	check --online "$T/rev-after-t.p7s" --data "$T/doc.txt"
expect_grep "was revoked at .* after the timestamp proved the signature existed" "$T/out" "... with a warning"
expect_status 3 "B-LT by a revoked certificate: refused" sign citizen-p256 -l B-LT -f cades "$T/doc.txt" -o "$T/no.p7s"
expect_grep "is revoked" "$T/err" "... naming the revocation"
expect_no_file "$T/no.p7s" "... and nothing written"
expect_status 0 "B-T by the revoked certificate (a TSA does not check)" \
	sign citizen-p256 -l B-T -f cades "$T/doc.txt" -o "$T/rev-before.p7s"
expect_status 2 "revoked before the signature timestamp: TOTAL-FAILED" check --online "$T/rev-before.p7s" --data "$T/doc.txt"
expect_grep "TOTAL-FAILED / REVOKED" "$T/out" "... REVOKED"

# ---- faults: nothing is written, the input is unchanged
cp "$T/t.pdf" "$T/keep.pdf"
expect_status 3 "--extend with a failing TSA: fails" "$SIGN" --extend B-LTA --tsa "$BASE/tsa/garbage" "$T/t.pdf" -o "$T/f.pdf"
expect_grep "$BASE/tsa/garbage" "$T/err" "... naming the server"
expect_no_file "$T/f.pdf" "... nothing written"
expect_status 3 "--extend without --tsa: refused" "$SIGN" --extend B-LT "$T/t.pdf" -o "$T/f.pdf"
expect_status 3 "--extend B-B: refused" "$SIGN" --extend B-B --tsa "$TSA" "$T/t.pdf" -o "$T/f.pdf"
expect_status 3 "--extend with a key option: refused" "$SIGN" --extend B-LT --tsa "$TSA" --pkcs12 "$P/citizen-rsa2048.p12" "$T/t.pdf" -o "$T/f.pdf"
expect_status 3 "--extend of a file that is no signature: refused" "$SIGN" --extend B-LT --tsa "$TSA" "$T/doc.txt" -o "$T/f.pdf"
# ---- the CA's own status: the intermediate's, from the root's responder
expect_status 0 "B-LT: the intermediate's status is carried too" check --json "$T/lt.pdf"
if [ "$(grep -c 'is not known\|names no OCSP' "$T/out")" = 0 ]; then ok "... no certificate of the path left unchecked"; else not_ok "a certificate of the path was not checked"; fi
expect_status 0 "a B-T signature before the CA is revoked" sign citizen-rsa3072 -l B-T -f cades "$T/doc.txt" -o "$T/ca-before.p7s"
sleep 2
revoke int
expect_status 0 "the intermediate revoked after the timestamp: the signature stands (--online)" \
	check --online "$T/ca-before.p7s" --data "$T/doc.txt"
expect_grep "CN=libeid Test Citizen CA.*was revoked at .* after the timestamp" "$T/out" "... with a warning naming the CA"
expect_status 0 "a B-T signature after the CA was revoked" sign citizen-rsa3072 -l B-T -f cades "$T/doc.txt" -o "$T/ca-after.p7s"
expect_status 2 "... TOTAL-FAILED (--online)" check --online "$T/ca-after.p7s" --data "$T/doc.txt"
expect_grep "TOTAL-FAILED / REVOKED" "$T/out" "... REVOKED"
expect_grep "CN=libeid Test Citizen CA.*was revoked at .* before the signature's timestamp" "$T/out" "... naming the CA"

bash "$EID_TEST_SRCDIR/tests/pki/servers.sh" stop "$T/srv" >/dev/null 2>&1
expect_status 3 "--extend B-LT with the OCSP responder and CRLs down: fails" \
	"$SIGN" --extend B-LT --tsa "$TSA" --timeout 2 "$T/t.pdf" -o "$T/f.pdf"
expect_grep "status of 'CN=.*' is not available: .*$BASE/ocsp" "$T/err" "... naming the certificate and the server"
expect_no_file "$T/f.pdf" "... nothing written"
if cmp -s "$T/t.pdf" "$T/keep.pdf"; then ok "... the input is unchanged"; else not_ok "the input changed"; fi

finish
