#!/usr/bin/env bash
# Bad input: a clear message, exit status 3, and no output file.
. "$EID_TEST_SRCDIR/tests/lib.sh"

out=$T/out.p7s

expect_status 3 "wrong PIN" p11sign --key-id 01 --pin pass:000000 -f cades "$T/doc.txt" -o "$out"
expect_grep 'wrong PIN' "$T/err" "wrong PIN is named"
expect_grep 'tries|try' "$T/err" "wrong PIN reports what the token says about tries"
expect_no_file "$out" "no output after a wrong PIN"

expect_status 3 "empty PIN refused" p11sign --key-id 01 --pin pass: -f cades "$T/doc.txt" -o "$out"
expect_grep 'empty PIN' "$T/err" "empty PIN is named"
expect_no_file "$out" "no output after an empty PIN"

expect_status 3 "no PIN and no terminal" setsid -w "$SIGN" --module "$MOD" --token libeid-test --key-id 01 -f cades "$T/doc.txt" -o "$out"
expect_grep 'no terminal' "$T/err" "missing PIN source is explained"

expect_status 3 "missing PKCS#11 module" "$SIGN" --module /nonexistent/module.so --pin pass:$PIN -f cades "$T/doc.txt" -o "$out"
expect_grep 'cannot load PKCS#11 module' "$T/err" "missing module is named"
printf 'not a shared library\n' > "$T/broken.so"
expect_status 3 "broken PKCS#11 module" "$SIGN" --module "$T/broken.so" --pin pass:$PIN -f cades "$T/doc.txt" -o "$out"
expect_grep 'cannot load PKCS#11 module' "$T/err" "broken module is named"
expect_status 3 "a library that is not a PKCS#11 module" "$SIGN" --module "$(ls /usr/lib/x86_64-linux-gnu/libz.so.1* /lib/x86_64-linux-gnu/libz.so.1 2>/dev/null | head -1)" --pin pass:$PIN -f cades "$T/doc.txt" -o "$out"
expect_grep 'not a PKCS#11 module' "$T/err" "non-module library is named"

expect_status 3 "no token with that label" "$SIGN" --module "$MOD" --token nosuchtoken --pin pass:$PIN -f cades "$T/doc.txt" -o "$out"
expect_grep "no token labelled 'nosuchtoken'" "$T/err" "missing token is named"
expect_status 3 "no key with that id" p11sign --key-id 99 --pin pass:$PIN -f cades "$T/doc.txt" -o "$out"
expect_grep 'no certificate with id 99' "$T/err" "missing key is named"
expect_status 3 "an empty token" "$SIGN" --module "$MOD" --token libeid-empty --pin pass:$PIN -f cades "$T/doc.txt" -o "$out"
expect_status 3 "a bad key id" p11sign --key-id zz --pin pass:$PIN -f cades "$T/doc.txt" -o "$out"

expect_status 3 "unreadable input" p11sign --key-id 01 --pin pass:$PIN -f cades "$T/missing.txt" -o "$out"
expect_grep 'cannot open' "$T/err" "unreadable input is named"
expect_no_file "$out" "no output for an unreadable input"

expect_status 3 "output folder missing" p11sign --key-id 01 --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/nodir/out.p7s"
expect_no_file "$T/nodir" "nothing created for a missing folder"

expect_status 3 "an unknown format" p11sign --key-id 01 --pin pass:$PIN -f odf "$T/doc.txt" -o "$out"
expect_status 3 "a text file as enveloped XML" p11sign --key-id 01 --pin pass:$PIN -f xades --packaging enveloped \
	"$T/doc.txt" -o "$out"
expect_status 3 "an unknown packaging" p11sign --key-id 01 --pin pass:$PIN -f xades --packaging inside "$T/doc.txt" -o "$out"
expect_status 3 "a text file as a PDF" p11sign --key-id 01 --pin pass:$PIN -f pades "$T/doc.txt" -o "$out"
expect_status 3 "a level not built yet" p11sign --key-id 01 --pin pass:$PIN -f cades -l B-LT "$T/doc.txt" -o "$out"
expect_status 3 "an unknown hash" p11sign --key-id 01 --pin pass:$PIN -f cades --hash md5 "$T/doc.txt" -o "$out"
expect_status 3 "no output option" p11sign --key-id 01 --pin pass:$PIN -f cades "$T/doc.txt"
expect_status 3 "PSS with an EC key" p11sign --key-id 04 --pss --pin pass:$PIN -f cades "$T/doc.txt" -o "$out"
expect_no_file "$out" "no output after the refusals"

expect_status 3 "PKCS#12 wrong password" "$SIGN" --pkcs12 "$PKI/citizen-rsa2048.p12" --pass pass:wrong -f cades "$T/doc.txt" -o "$out"
expect_grep 'wrong password' "$T/err" "wrong password is named"
expect_status 3 "not a PKCS#12 file" "$SIGN" --pkcs12 "$T/doc.txt" --pass pass:test -f cades "$T/doc.txt" -o "$out"

# A failed signature leaves an existing output untouched.
printf 'previous\n' > "$T/keep.p7s"
expect_status 3 "wrong PIN over an existing output" p11sign --key-id 01 --pin pass:999999 -f cades "$T/doc.txt" -o "$T/keep.p7s"
[ "$(cat "$T/keep.p7s")" = previous ] && ok "existing output unchanged" || not_ok "existing output was changed"
leftovers=$(find "$T" -name '.eid-out-*' | wc -l)
[ "$leftovers" = 0 ] && ok "no temporary files left" || not_ok "$leftovers temporary files left"

# Verification input errors: exit 3.
expect_status 0 "a good signature to damage" p11sign --key-id 01 --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/good.p7s"
head -c 200 "$T/good.p7s" > "$T/trunc.p7s"
expect_status 3 "truncated .p7s" "$VERIFY" "$T/trunc.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
expect_grep 'truncated or corrupted' "$T/err" "truncation is explained"
head -c 2000 /dev/urandom > "$T/random.p7s"
expect_status 3 "random bytes" "$VERIFY" "$T/random.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
{ cat "$T/good.p7s"; printf 'trailing'; } > "$T/trailing.p7s"
expect_status 3 "garbage after the DER" "$VERIFY" "$T/trailing.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
expect_status 3 "detached without data" "$VERIFY" "$T/good.p7s" --trust "$PKI/root.crt"
expect_status 3 "unreadable data file" "$VERIFY" "$T/good.p7s" --data "$T/nothere" --trust "$PKI/root.crt"
expect_status 3 "missing signature file" "$VERIFY" "$T/nothere.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
expect_status 3 "bad trust file" "$VERIFY" "$T/good.p7s" --data "$T/doc.txt" --trust "$T/doc.txt"
expect_status 3 "unknown option" "$VERIFY" --frobnicate "$T/good.p7s"

# A data file that does not match is a verdict, not an input error: TOTAL-FAILED / HASH_FAILURE (status 2).
printf 'changed\n' > "$T/changed.txt"
expect_status 2 "data does not match" "$VERIFY" "$T/good.p7s" --data "$T/changed.txt" --trust "$PKI/root.crt"
expect_grep 'TOTAL-FAILED / HASH_FAILURE' "$T/out" "mismatch is HASH_FAILURE"

# A byte flipped inside the signature value: SIG_CRYPTO_FAILURE.
python3 - "$T/good.p7s" "$T/flipped.p7s" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[-10] ^= 0x01   # the SignerInfo's signature value is the last field
open(sys.argv[2], 'wb').write(d)
PY
expect_status 2 "signature value changed" "$VERIFY" "$T/flipped.p7s" --data "$T/doc.txt" --trust "$PKI/root.crt"
expect_grep 'SIG_CRYPTO_FAILURE' "$T/out" "changed value is SIG_CRYPTO_FAILURE"

finish
