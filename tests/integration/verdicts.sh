#!/usr/bin/env bash
# Verdicts for certificates: expired, untrusted, authentication-only, and key choice.
. "$EID_TEST_SRCDIR/tests/lib.sh"

expect_status 0 "sign with the expired key (chosen explicitly)" p11sign --key-id 06 --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/exp.p7s"
expect_status 1 "expired signer: INDETERMINATE" "$VERIFY" "$T/exp.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
expect_grep 'INDETERMINATE / OUT_OF_BOUNDS_NO_POE' "$T/out" "expired: OUT_OF_BOUNDS_NO_POE"

expect_status 0 "sign with the RSA key" p11sign --key-id 01 --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/good.p7s"
expect_status 1 "untrusted root: INDETERMINATE" "$VERIFY" "$T/good.p7s" --data "$T/doc.txt" --trust "$PKI/other-root.crt"
expect_grep 'NO_CERTIFICATE_CHAIN_FOUND' "$T/out" "untrusted: NO_CERTIFICATE_CHAIN_FOUND"
expect_status 1 "no anchors: INDETERMINATE" "$VERIFY" "$T/good.p7s" --data "$T/doc.txt"
expect_status 0 "trust a folder of anchors" "$VERIFY" "$T/good.p7s" --data "$T/doc.txt" --trust "$PKI"
expect_status 0 "trust the intermediate only" "$VERIFY" "$T/good.p7s" --data "$T/doc.txt" --trust "$PKI/int.crt"

# No key chosen: the valid non-repudiation certificate with the lowest id, never the authentication one.
expect_status 0 "default key choice" p11sign --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/default.p7s"
expect_status 0 "verify default choice" "$VERIFY" "$T/default.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
expect_grep 'Signed by: +Jérôme Øster-Łukasz \(Signature\)' "$T/out" "the signing certificate is preferred"

# The authentication key, chosen explicitly, signs but is flagged.
expect_status 0 "sign with the authentication key" p11sign --key-id 02 --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/auth.p7s"
expect_status 0 "authentication key verifies" "$VERIFY" "$T/auth.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
expect_grep 'lacks nonRepudiation' "$T/out" "authentication certificate is warned about"

# Selection by certificate label.
expect_status 0 "select by certificate label" p11sign --cert-label P384 --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/label.p7s"
expect_status 0 "verify label choice" "$VERIFY" "$T/label.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
expect_grep 'Luc Peeters' "$T/out" "label picks the right key"

# PKCS#12 signer and its chain.
expect_status 0 "sign with PKCS#12" "$SIGN" --pkcs12 "$PKI/citizen-p256.p12" --pass pass:test -f cades "$T/doc.txt" -o "$T/p12.p7s"
expect_status 0 "verify PKCS#12 signature with the root only" "$VERIFY" "$T/p12.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
printf 'test\n' > "$T/pass.txt"
expect_status 0 "PKCS#12 password from a file" "$SIGN" --pkcs12 "$PKI/citizen-rsa3072.p12" --pass "file:$T/pass.txt" -f cades "$T/doc.txt" -o "$T/p12b.p7s"
expect_status 0 "PKCS#12 password from stdin" sh -c "printf 'test\n' | '$SIGN' --pkcs12 '$PKI/citizen-rsa3072.p12' --pass stdin -f cades '$T/doc.txt' -o '$T/p12c.p7s'"
expect_status 0 "PIN from a descriptor" bash -c "'$SIGN' --module '$MOD' --token libeid-test --key-id 03 --pin fd:5 -f cades '$T/doc.txt' -o '$T/fd.p7s' 5<<<'$PIN'"

# --no-chain: only the signer's certificate; the intermediate then has to come from the trust set.
expect_status 0 "sign without chain" p11sign --key-id 01 --no-chain --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/nochain.p7s"
expect_status 1 "no chain, root only: INDETERMINATE" "$VERIFY" "$T/nochain.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
expect_status 0 "no chain, root and intermediate trusted" "$VERIFY" "$T/nochain.p7s" --data "$T/doc.txt" --trust "$PKI/chain.pem"

finish
