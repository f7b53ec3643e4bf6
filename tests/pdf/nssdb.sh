#!/usr/bin/env bash
# nssdb.sh PKIDIR DBDIR [LEAF]
#
# Make an NSS database (sql: format, empty password) for pdfsig that trusts
# the test root of tests/pki/make-pki.sh, knows its intermediate, and holds
# the key + certificate of PKIDIR/LEAF.p12 (default citizen-rsa2048, PKCS#12
# password "test").  Prints the nickname of the imported key's certificate,
# for `pdfsig -nick`, on stdout and nothing else.
#
# If DBDIR/.complete exists, only the nickname is printed.  Tool output goes
# to DBDIR/nssdb.log.  Needs certutil and pk12util (Debian: libnss3-tools).

set -Eeuo pipefail

PROG=${0##*/}

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    printf 'usage: %s PKIDIR DBDIR [LEAF]\n' "$PROG" >&2
    exit 2
fi
PKIDIR=$1
DBDIR=$2
LEAF=${3:-citizen-rsa2048}

# The certificate with a private key is the one whose trust is u,u,u.
nickname() {
    certutil -L -d "sql:$DBDIR" | sed -n 's/^\(.*[^ ]\)  *u,u,u *$/\1/p' | head -n 1
}

if [ -e "$DBDIR/.complete" ]; then
    nick=$(nickname)
    [ -n "$nick" ] || die "no certificate with a private key in $DBDIR"
    printf '%s\n' "$nick"
    exit 0
fi

for tool in certutil pk12util; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found in PATH (apt-get install libnss3-tools)"
done
for f in root.crt int.crt "$LEAF.p12"; do
    [ -f "$PKIDIR/$f" ] || die "$PKIDIR/$f not found (make the PKI with tests/pki/make-pki.sh $PKIDIR)"
done

MARKER=.nssdb-in-progress
if [ -d "$DBDIR" ] && [ -n "$(ls -A "$DBDIR")" ]; then
    if [ -e "$DBDIR/$MARKER" ]; then
        rm -rf -- "$DBDIR"
    else
        die "$DBDIR exists, is not empty and was not created by $PROG; refusing to touch it"
    fi
fi
mkdir -p "$DBDIR"
DBDIR=$(cd "$DBDIR" && pwd -P)
PKIDIR=$(cd "$PKIDIR" && pwd -P)
: >"$DBDIR/$MARKER"
LOG=$DBDIR/nssdb.log
: >"$LOG"

run() {
    printf '+ %s\n' "$*" >>"$LOG"
    "$@" </dev/null >>"$LOG" 2>&1 || {
        printf '%s: error: %s failed (exit %s): %s\n' "$PROG" "$1" "$?" "$*" >&2
        tail -n 10 "$LOG" | sed 's/^/    /' >&2
        exit 1
    }
}

run certutil -N -d "sql:$DBDIR" --empty-password
run certutil -A -d "sql:$DBDIR" -n root -t "CT,C,C" -i "$PKIDIR/root.crt"
run certutil -A -d "sql:$DBDIR" -n int -t ",," -i "$PKIDIR/int.crt"
# -K '': the database password is empty, so pk12util never prompts.
run pk12util -i "$PKIDIR/$LEAF.p12" -d "sql:$DBDIR" -W test -K ''
run certutil -L -d "sql:$DBDIR"

nick=$(nickname)
[ -n "$nick" ] || die "pk12util imported no certificate with a private key (see $LOG)"
# Chain check as pdfsig does it (usage: email signer).
run certutil -V -d "sql:$DBDIR" -u S -n "$nick"

rm -f -- "$DBDIR/$MARKER"
date -u +%Y-%m-%dT%H:%M:%SZ >"$DBDIR/.complete"
printf '%s\n' "$nick"
