#!/usr/bin/env bash
# A key with CKA_ALWAYS_AUTHENTICATE (token libeid-always): every signature needs
# a context-specific login, and the PIN is asked for again each time.  With
# --pin fd:N each request reads the next line, so the number of requests shows.
. "$EID_TEST_SRCDIR/tests/lib.sh"

sign_aa() { "$SIGN" --module "$MOD" --token libeid-always -f cades "$@"; }

expect_status 0 "two PIN lines: login, then context-specific login" \
	bash -c "'$SIGN' --module '$MOD' --token libeid-always --pin fd:5 -f cades '$T/doc.txt' -o '$T/a.p7s' 5< <(printf '%s\n%s\n' $PIN $PIN)"
expect_status 0 "the signature verifies (no CA on this token: trust the chain)" "$VERIFY" "$T/a.p7s" --data "$T/doc.txt" --trust "$PKI/chain.pem"

expect_status 3 "one PIN line: the second request gets nothing and is refused" \
	bash -c "'$SIGN' --module '$MOD' --token libeid-always --pin fd:5 -f cades '$T/doc.txt' -o '$T/b.p7s' 5< <(printf '%s\n' $PIN)"
expect_grep 'empty PIN' "$T/err" "the missing context PIN is refused, not sent"
expect_no_file "$T/b.p7s" "no output without the context login"

expect_status 3 "wrong context PIN" \
	bash -c "'$SIGN' --module '$MOD' --token libeid-always --pin fd:5 -f cades '$T/doc.txt' -o '$T/c.p7s' 5< <(printf '%s\n%s\n' $PIN 000000)"
expect_grep 'wrong PIN' "$T/err" "wrong context PIN is named"
expect_no_file "$T/c.p7s" "no output after a wrong context PIN"

expect_status 0 "pass: serves both logins" sign_aa --pin pass:$PIN "$T/doc.txt" -o "$T/d.p7s"

finish
