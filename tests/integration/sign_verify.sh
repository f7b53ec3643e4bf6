#!/usr/bin/env bash
# Sign with every key type on a real SoftHSM2 token through eid-sign, verify
# with eid-verify: text, JSON and exit status.
. "$EID_TEST_SRCDIR/tests/lib.sh"

expect_status 0 "list tokens, certificates and keys" "$SIGN" --module "$MOD" --list-keys
expect_grep "Token [0-9]+: 'libeid-test'" "$T/out" "tokens listed"
expect_grep 'id 01 +Signature +\[signing\] RSA-2048' "$T/out" "signing certificate listed"
expect_grep 'id a1 +Citizen CA +\[CA\]' "$T/out" "CA certificate listed"
expect_grep 'id 05 +P384 +EC-384' "$T/out" "EC key listed with its size"

for id in 01 03 04 05; do
	expect_status 0 "sign with key $id" p11sign --key-id $id --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/s$id.p7s"
	expect_status 0 "verify key $id" "$VERIFY" "$T/s$id.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
	expect_grep 'Indication: +TOTAL-PASSED' "$T/out" "key $id: TOTAL-PASSED"
	expect_grep 'CAdES-BASELINE-B' "$T/out" "key $id: level B-B"
done

for h in sha384 sha512; do
	expect_status 0 "RSA-PSS with $h" p11sign --key-id 01 --pss --hash $h --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/pss-$h.p7s"
	expect_status 0 "verify RSA-PSS $h" "$VERIFY" "$T/pss-$h.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt" --json
	expect_grep '"signatureAlgorithm": "RSA-PSS"' "$T/out" "PSS reported"
	expect_grep "\"digestAlgorithm\": \"SHA-${h#sha}\"" "$T/out" "$h reported"
done

expect_status 0 "ECDSA P-384 with SHA-384" p11sign --key-id 05 --hash sha384 --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/p384.p7s"
expect_status 0 "verify P-384" "$VERIFY" "$T/p384.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"

# The EC-only token.
export EIDPIN=$PIN
expect_status 0 "sign on libeid-ec, PIN from the environment" "$SIGN" --module "$MOD" --token libeid-ec --pin env:EIDPIN \
	-f cades "$T/doc.txt" -o "$T/ec.p7s"
expect_status 0 "verify libeid-ec" "$VERIFY" "$T/ec.p7s" --data "$T/doc.txt" --trust "$PKI/chain.pem"

# X.p7s beside X: the data file is found without --data.
cp "$T/s01.p7s" "$T/doc.txt.p7s"
expect_status 0 "data file found beside X.p7s" "$VERIFY" "$T/doc.txt.p7s" --trust "$PKI/root.crt"

# JSON is well-formed and carries the verdict.
expect_status 0 "JSON report" "$VERIFY" "$T/s01.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt" --json
if python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["indication"]=="TOTAL-PASSED"; s=r["signatures"][0]; assert s["subIndication"] is None; assert "Jérôme Øster-Łukasz" in s["signer"]["name"], s' "$T/out"; then
	ok "JSON parses; UTF-8 signer name intact"
else not_ok "JSON content"; fi

# Several files in one run: JSON array, worst status wins.
cp "$T/doc.txt" "$T/bad.txt" && cp "$T/s03.p7s" "$T/bad.txt.p7s" && printf 'more\n' >> "$T/bad.txt"
expect_status 2 "two files, one failing" "$VERIFY" "$T/doc.txt.p7s" "$T/bad.txt.p7s" --trust "$PKI/root.crt" --json
expect_status 0 "two good files" "$VERIFY" "$T/doc.txt.p7s" "$T/doc.txt.p7s" --trust "$PKI/root.crt" --json
python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1])))==2' "$T/out" && ok "JSON array for several files" || not_ok "JSON array"

# Signing a large file streams it (the signature is the same size).
head -c $((64 * 1024 * 1024)) /dev/zero > "$T/big.bin"
expect_status 0 "sign a 64 MiB file" p11sign --key-id 04 --pin pass:$PIN -f cades "$T/big.bin" -o "$T/big.p7s"
expect_status 0 "verify a 64 MiB file" "$VERIFY" "$T/big.p7s" --data "$T/big.bin" --trust "$PKI/root.crt"

finish
