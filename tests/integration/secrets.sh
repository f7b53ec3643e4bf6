#!/usr/bin/env bash
# The PIN never appears in any output, even at the most verbose log level.
. "$EID_TEST_SRCDIR/tests/lib.sh"

secret=424242
# a wrong PIN that is distinctive, and then the right one, both at full verbosity
EID_DEBUG=5 p11sign --key-id 01 --pin pass:$secret -f cades "$T/doc.txt" -o "$T/a.p7s" >"$T/log1" 2>&1 || true
EID_DEBUG=5 p11sign --key-id 01 --pin pass:$PIN -f cades "$T/doc.txt" -o "$T/b.p7s" >"$T/log2" 2>&1
[ -s "$T/log2" ] && ok "full verbosity logs something" || not_ok "nothing logged at EID_DEBUG=5"
if grep -q "$secret" "$T/log1" || grep -q "$PIN" "$T/log2"; then
	not_ok "a PIN appears in the log"
else
	ok "no PIN in the logs"
fi
# also not in hex or BCD form
hexpin=$(printf '%s' "$secret" | od -An -tx1 | tr -d ' \n')
if grep -qi "$hexpin" "$T/log1"; then not_ok "PIN in hex in the log"; else ok "no hex PIN in the log"; fi
expect_status 3 "wrong PIN message does not echo it" p11sign --key-id 01 --pin pass:$secret -f cades "$T/doc.txt" -o "$T/c.p7s"
if grep -q "$secret" "$T/err" "$T/out"; then not_ok "PIN echoed in the error"; else ok "PIN not echoed in the error"; fi
expect_status 3 "a bare PIN (no source prefix)" p11sign --key-id 01 --pin $secret -f cades "$T/doc.txt" -o "$T/d.p7s"
if grep -q "$secret" "$T/err"; then not_ok "bare PIN echoed"; else ok "bare PIN not echoed"; fi

finish
