#!/usr/bin/env bash
# Interop with OpenSSL: `openssl cms -verify` accepts what we sign; we verify what `openssl cms -sign` makes.
. "$EID_TEST_SRCDIR/tests/lib.sh"

osslverify() { openssl cms -verify -binary -inform DER -in "$1" -content "$T/doc.txt" -CAfile "$PKI/chain.pem" -purpose any -out /dev/null; }

for id in 01 03 04 05; do
	p11sign --key-id $id --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/s$id.p7s" 2>/dev/null
	expect_status 0 "openssl cms -verify accepts key $id" osslverify "$T/s$id.p7s"
done
p11sign --key-id 03 --pss --hash sha384 --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/pss.p7s" 2>/dev/null
expect_status 0 "openssl cms -verify accepts RSA-PSS" osslverify "$T/pss.p7s"
"$SIGN" --pkcs12 "$PKI/citizen-rsa2048.p12" --pass pass:test -f cades "$T/doc.txt" -o "$T/p12.p7s" 2>/dev/null
expect_status 0 "openssl cms -verify accepts PKCS#12-signed" osslverify "$T/p12.p7s"
openssl cms -cmsout -print -inform DER -in "$T/s01.p7s" > "$T/dump.txt"
expect_grep 'id-smime-aa-signingCertificateV2' "$T/dump.txt" "signing-certificate-v2 present"
expect_grep 'signingTime' "$T/dump.txt" "signing-time present"

# OpenSSL signs, we verify.
for k in citizen-rsa2048 citizen-p256 citizen-p384; do
	openssl cms -sign -binary -cades -in "$T/doc.txt" -signer "$PKI/$k.crt" -inkey "$PKI/$k.key" \
		-certfile "$PKI/int.crt" -outform DER -out "$T/o-$k.p7s"
	expect_status 0 "we verify openssl -cades ($k)" "$VERIFY" "$T/o-$k.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
done
openssl cms -sign -binary -cades -in "$T/doc.txt" -signer "$PKI/citizen-rsa2048.crt" -inkey "$PKI/citizen-rsa2048.key" \
	-keyopt rsa_padding_mode:pss -md sha512 -certfile "$PKI/int.crt" -outform DER -out "$T/o-pss.p7s"
expect_status 0 "we verify openssl RSA-PSS" "$VERIFY" "$T/o-pss.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
openssl cms -sign -binary -cades -in "$T/doc.txt" -signer "$PKI/citizen-rsa2048.crt" -inkey "$PKI/citizen-rsa2048.key" \
	-certfile "$PKI/int.crt" -outform PEM -out "$T/o.pem"
expect_status 0 "we verify a PEM CMS" "$VERIFY" "$T/o.pem" --data "$T/doc.txt" --trust "$PKI/root.crt"
openssl cms -sign -binary -nodetach -cades -in "$T/doc.txt" -signer "$PKI/citizen-p256.crt" -inkey "$PKI/citizen-p256.key" \
	-certfile "$PKI/int.crt" -outform DER -out "$T/o-att.p7s"
expect_status 0 "we verify an enveloping (attached) CMS" "$VERIFY" "$T/o-att.p7s" --trust "$PKI/root.crt"
openssl cms -sign -binary -in "$T/doc.txt" -signer "$PKI/citizen-rsa2048.crt" -inkey "$PKI/citizen-rsa2048.key" \
	-certfile "$PKI/int.crt" -outform DER -out "$T/o-plain.p7s"
expect_status 1 "plain CMS without signing-certificate: INDETERMINATE" "$VERIFY" "$T/o-plain.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
expect_grep 'NO_SIGNING_CERTIFICATE_FOUND' "$T/out" "plain CMS: NO_SIGNING_CERTIFICATE_FOUND"
openssl cms -sign -binary -noattr -in "$T/doc.txt" -signer "$PKI/citizen-rsa2048.crt" -inkey "$PKI/citizen-rsa2048.key" \
	-outform DER -out "$T/o-noattr.p7s"
expect_status 2 "CMS without signed attributes: TOTAL-FAILED" "$VERIFY" "$T/o-noattr.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
expect_grep 'FORMAT_FAILURE' "$T/out" "no signed attributes: FORMAT_FAILURE"
openssl cms -sign -binary -cades -md sha1 -in "$T/doc.txt" -signer "$PKI/citizen-rsa2048.crt" -inkey "$PKI/citizen-rsa2048.key" \
	-certfile "$PKI/int.crt" -outform DER -out "$T/o-sha1.p7s"
expect_status 1 "SHA-1 CMS: INDETERMINATE" "$VERIFY" "$T/o-sha1.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
expect_grep 'CRYPTO_CONSTRAINTS_FAILURE_NO_POE' "$T/out" "SHA-1: CRYPTO_CONSTRAINTS_FAILURE_NO_POE"

# OpenSSL signing with the SoftHSM key through its pkcs11 engine, verified by us.
if openssl engine pkcs11 -t >/dev/null 2>&1; then
	PKCS11_MODULE_PATH=$MOD openssl cms -sign -binary -cades -engine pkcs11 -keyform engine \
		-inkey "pkcs11:token=libeid-test;object=Signature;type=private;pin-value=$PIN" \
		-signer "$PKI/citizen-rsa2048.crt" -certfile "$PKI/int.crt" -in "$T/doc.txt" -outform DER -out "$T/o-eng.p7s" 2>"$T/err" || true
	expect_status 0 "we verify openssl+pkcs11 engine with the SoftHSM key" "$VERIFY" "$T/o-eng.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
else
	echo "# skip: no OpenSSL pkcs11 engine"
fi

finish
