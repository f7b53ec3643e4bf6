#!/usr/bin/env bash
# mkcards.sh OUTDIR PKI_DIR
#
# Build the emulated cards (one directory per card, for vcard.py) from the
# test PKI made by tests/pki/make-pki.sh: new keys, certificates issued by
# the PKI's intermediate (auth/sign) and root (Belgian "RRN" register
# certificate), identity data, photo and register signatures.  The new
# certificates are entered in the PKI's CA databases (PKI_DIR/int-ca,
# PKI_DIR/root-ca), so its OCSP answers know them.  Every date is relative
# to now.  See README.md next to this script.
#
# If OUTDIR/.complete exists the script exits 0 at once.  It refuses a
# non-empty OUTDIR it did not create and redoes one an interrupted run left
# behind.  Tool output goes to OUTDIR/mkcards.log.

set -Eeuo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd -P)
PYTHON=${PYTHON:-/usr/bin/python3}

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

[ $# -eq 2 ] || { printf 'usage: %s OUTDIR PKI_DIR\n' "$PROG" >&2; exit 2; }
OUTDIR=$1
PKI=$2

[ -e "$OUTDIR/.complete" ] && exit 0
command -v openssl >/dev/null 2>&1 || die "openssl not found"
"$PYTHON" -c 'import cryptography' 2>/dev/null || die "$PYTHON cannot import cryptography (python3-cryptography)"
[ -e "$PKI/.complete" ] || [ -f "$PKI/int.key" ] || die "$PKI is not a test PKI (run tests/pki/make-pki.sh)"
for f in root.crt root.key int.crt int.key int-ca/ca.cnf root-ca/ca.cnf; do
	[ -f "$PKI/$f" ] || die "$PKI/$f missing"
done
PKI=$(cd "$PKI" && pwd -P)

MARKER=.mkcards-in-progress
if [ -d "$OUTDIR" ] && [ -n "$(ls -A "$OUTDIR")" ]; then
	if [ -e "$OUTDIR/$MARKER" ]; then
		rm -rf -- "$OUTDIR"
	else
		die "$OUTDIR exists, is not empty and was not created by $PROG; refusing to touch it"
	fi
fi
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd -P)
: >"$OUTDIR/$MARKER"
LOG=$OUTDIR/mkcards.log
: >"$LOG"
K=$OUTDIR/pki
mkdir -p "$K"

fail() {
	printf '%s: error: %s\n' "$PROG" "$1" >&2
	if [ -s "$LOG" ]; then
		printf '%s: last lines of %s:\n' "$PROG" "$LOG" >&2
		tail -n 15 "$LOG" | sed 's/^/    /' >&2
	fi
	exit 1
}
trap 'fail "command failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

ossl() {
	printf '+ openssl %s\n' "$*" >>"$LOG"
	openssl "$@" >>"$LOG" 2>&1 || fail "openssl $1 failed: openssl $*"
}
asn1time() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
NB=$(asn1time '1 day ago')
NA=$(asn1time '1 day ago 3 years')
RRN_NA=$(asn1time '1 day ago 10 years')

# ---------------------------------------------------------------------------
# Keys (unencrypted PKCS#8 PEM), generated in parallel
# ---------------------------------------------------------------------------
genkey() {  # name spec
	case $2 in
	rsa*) openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa}" -out "$K/$1.key" ;;
	ec:*) openssl genpkey -quiet -algorithm EC -pkeyopt "ec_paramgen_curve:${2#ec:}" \
		-pkeyopt ec_param_enc:named_curve -out "$K/$1.key" ;;
	esac
}
KEYS=(
	ee-auth:ec:secp384r1 ee-sign:ec:secp384r1
	be17-auth:rsa2048 be17-sign:rsa2048 rrn-rsa:rsa2048
	be18-auth:ec:secp384r1 be18-sign:ec:secp384r1 be18-basic:ec:secp384r1 rrn-ec:ec:secp384r1
	p15-sign:rsa2048 p15-auth:ec:prime256v1
)
pids=()
for k in "${KEYS[@]}"; do
	( trap - ERR; genkey "${k%%:*}" "${k#*:}" ) >>"$LOG" 2>&1 &
	pids+=("$!")
done
for p in "${pids[@]}"; do
	wait "$p" || fail "key generation failed"
done
chmod 600 "$K"/*.key

# ---------------------------------------------------------------------------
# Certificates.  Issued with `openssl ca` into the PKI's databases; a lock
# keeps parallel runs against the same PKI from corrupting index.txt/serial.
# ---------------------------------------------------------------------------
cat >"$K/ext.cnf" <<'EOF'
[ v3_rrn ]
basicConstraints        = CA:FALSE
keyUsage                = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier    = hash
authorityKeyIdentifier  = keyid:always
certificatePolicies     = 1.3.6.1.4.1.99999.1.2
EOF

# issue CA NAME EXT SUBJECT [EXTFILE]
issue() {
	local ca=$1 name=$2 ext=$3 subj=$4 extfile=${5:-}
	local cnf=$PKI/$ca-ca/ca.cnf
	ossl req -config "$cnf" -new -utf8 -sha256 -key "$K/$name.key" -subj "$subj" -out "$K/$name.csr"
	(
		flock 9
		args=(ca -config "$cnf" -batch -notext -utf8 -preserveDN -md sha256
			-extensions "$ext" -startdate "$NB" -enddate "${NOTAFTER:-$NA}"
			-in "$K/$name.csr" -out "$K/$name.crt")
		[ -n "$extfile" ] && args+=(-extfile "$extfile")
		printf '+ openssl %s\n' "${args[*]}" >>"$LOG"
		openssl "${args[@]}" >>"$LOG" 2>&1
	) 9>>"$PKI/$ca-ca/.mkcards.lock" || fail "openssl ca failed for $name"
	ossl x509 -in "$K/$name.crt" -outform DER -out "$K/$name.der"
}

EE_CODE=38503151239
EE_SN='ØSTER-ŁUKASZ'
EE_GN='JÉRÔME'
EE_SUBJ="/C=EE/CN=$EE_SN,$EE_GN,$EE_CODE/SN=$EE_SN/GN=$EE_GN/serialNumber=PNOEE-$EE_CODE"
issue int ee-auth v3_auth "$EE_SUBJ"
issue int ee-sign v3_nonrep "$EE_SUBJ"

BE_NN=$("$PYTHON" -c 'n=850315123; print("%09d%02d" % (n, 97 - n % 97))')
BE_SUBJ="/C=BE/SN=Øster-Łukasz/GN=Jérôme Tomasz/serialNumber=$BE_NN"
issue int be17-auth v3_auth "$BE_SUBJ/CN=Jérôme Øster-Łukasz (Authentication)"
issue int be17-sign v3_nonrep "$BE_SUBJ/CN=Jérôme Øster-Łukasz (Signature)"
issue int be18-auth v3_auth "$BE_SUBJ/CN=Jérôme Øster-Łukasz (Authentication)"
issue int be18-sign v3_nonrep "$BE_SUBJ/CN=Jérôme Øster-Łukasz (Signature)"
NOTAFTER=$RRN_NA issue root rrn-rsa v3_rrn '/C=BE/O=libeid Test/CN=libeid Test RRN' "$K/ext.cnf"
NOTAFTER=$RRN_NA issue root rrn-ec v3_rrn '/C=BE/O=libeid Test/CN=libeid Test RRN EC' "$K/ext.cnf"

issue int p15-sign v3_nonrep '/C=FI/O=libeid Test/CN=Generic PKCS15 Signer (Signature)'
issue int p15-auth v3_auth '/C=FI/O=libeid Test/CN=Generic PKCS15 Signer (Authentication)'

for c in ee-auth ee-sign be17-auth be17-sign be18-auth be18-sign p15-sign p15-auth; do
	out=$(openssl verify -CAfile "$PKI/root.crt" -untrusted "$PKI/int.crt" "$K/$c.crt" 2>&1) ||
		fail "issued $c.crt does not verify: $out"
done
for c in rrn-rsa rrn-ec; do
	out=$(openssl verify -CAfile "$PKI/root.crt" "$K/$c.crt" 2>&1) ||
		fail "issued $c.crt does not verify: $out"
done

# ---------------------------------------------------------------------------
# Card directories (file contents, card.json, RRN signatures, photo)
# ---------------------------------------------------------------------------
printf '+ %s %s\n' "$HERE/mkcards.py" "$OUTDIR" >>"$LOG"
"$PYTHON" "$HERE/mkcards.py" "$OUTDIR" "$K" "$PKI" >>"$LOG" 2>&1 || fail "mkcards.py failed"

rm -f "$K"/*.csr
rm -f -- "$OUTDIR/$MARKER"
trap - ERR
touch "$OUTDIR/.complete"
