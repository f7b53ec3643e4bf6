#!/usr/bin/env bash
# pdfsig-sign.sh PKIDIR DBDIR IN OUT [OUT2]
#
# Sign IN with poppler's pdfsig (adbe.pkcs7.detached, SHA-256) using the
# test key of PKIDIR/citizen-rsa2048.p12, write OUT, and check that pdfsig
# itself reports the signature as valid and covering the whole document.
# With OUT2, OUT is signed a second time into OUT2 and both signatures are
# checked (the first one must then be "Not total document signed").
#
# DBDIR is made with nssdb.sh when it does not exist yet.  Prints nothing
# on success; pdfsig output goes to OUT.log (and OUT2.log).
# Needs: pdfsig (poppler-utils), certutil and pk12util (libnss3-tools).
#
# pdfsig exits 0 whatever the validation result, so the output is parsed.
# OCSP is off (-no-ocsp): the test certificates point to a local responder
# that is normally not running.  "Certificate Validation" is not checked:
# poppler 22.12 reports "Unknown issue with Certificate or corrupted data."
# even for a good chain (see README.md); nssdb.sh checks the chain with
# `certutil -V -u S` instead.

set -Eeuo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

if [ $# -lt 4 ] || [ $# -gt 5 ]; then
    printf 'usage: %s PKIDIR DBDIR IN OUT [OUT2]\n' "$PROG" >&2
    exit 2
fi
PKIDIR=$1 DBDIR=$2 IN=$3 OUT=$4 OUT2=${5:-}
REASON=${EID_PDFSIG_REASON:-libeid test signature}

command -v pdfsig >/dev/null 2>&1 || die "pdfsig not found in PATH (apt-get install poppler-utils)"
[ -f "$IN" ] || die "$IN not found"

NICK=$(bash "$HERE/nssdb.sh" "$PKIDIR" "$DBDIR") || die "nssdb.sh $PKIDIR $DBDIR failed"
DBDIR=$(cd "$DBDIR" && pwd -P)

# sign IN OUT
sign() {
    local in=$1 out=$2 rc=0
    rm -f -- "$out"
    {
        printf '+ pdfsig -add-signature -nssdir sql:%s -nick %s -reason %s %s %s\n' \
            "$DBDIR" "$NICK" "$REASON" "$in" "$out"
        pdfsig -add-signature -nssdir "sql:$DBDIR" -nick "$NICK" -reason "$REASON" \
            "$in" "$out" </dev/null 2>&1 || rc=$?
    } >"$out.log"
    { [ "$rc" -eq 0 ] && [ -s "$out" ]; } ||
        die "pdfsig -add-signature failed (exit $rc) for $in; see $out.log: $(tail -n 3 "$out.log" | tr '\n' ' ')"
}

# check FILE N: FILE must have N signatures, all "Signature is Valid.", the
# last one "Total document signed" and the others "Not total document signed".
check() {
    local f=$1 n=$2 out i
    out=$(pdfsig -nssdir "sql:$DBDIR" -no-ocsp "$f" 2>>"$f.log") ||
        die "pdfsig could not verify $f (exit $?)"
    printf '%s\n' "$out" >>"$f.log"
    [ "$(grep -c '^Signature #' <<<"$out")" -eq "$n" ] ||
        die "$f: expected $n signature(s); pdfsig says: $out"
    [ "$(grep -c '^  - Signature Validation: Signature is Valid\.$' <<<"$out")" -eq "$n" ] ||
        die "$f: not every signature is valid; pdfsig says: $out"
    for ((i = 1; i <= n; i++)); do
        local want='Not total document signed'
        [ "$i" -lt "$n" ] || want='Total document signed'
        awk -v s="Signature #$i:" -v w="  - $want" '
            $0 == s { on = 1; next } /^Signature #/ { on = 0 } on && $0 == w { found = 1 }
            END { exit !found }' <<<"$out" ||
            die "$f: signature #$i is not reported as \"$want\"; pdfsig says: $out"
    done
}

# Signatures already in IN (pdfsig exits 2 for "does not contain any signatures").
BASE=$( (pdfsig -nssdir "sql:$DBDIR" -nocert "$IN" 2>/dev/null || true) | grep -c '^Signature #' || true)

sign "$IN" "$OUT"
check "$OUT" $((BASE + 1))
if [ -n "$OUT2" ]; then
    sign "$OUT" "$OUT2"
    check "$OUT2" $((BASE + 2))
fi
