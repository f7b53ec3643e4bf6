#!/usr/bin/env bash
# make-pki.sh OUTDIR [BASE_URL]
#
# Generate a throw-away test PKI for the libeid test suite: a root CA, an
# intermediate ("Citizen CA") with a real `openssl ca` database (so that
# certificates can be revoked and OCSP/CRLs answered with
# `openssl ocsp -index`), a set of leaf certificates, a CRL, and an unrelated
# "other" root for untrusted-chain tests.  See README.md next to this script.
#
# All validity periods are computed relative to the current time.
# If OUTDIR/.complete exists the script exits 0 immediately.
#
# Only openssl, coreutils and bash are used; no network access.

set -Eeuo pipefail

PROG=${0##*/}

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    printf 'usage: %s OUTDIR [BASE_URL]\n' "$PROG" >&2
    exit 2
fi

OUTDIR=$1
# Without BASE_URL the leaves name no OCSP responder and no CRL, so their
# status is not asked for; with it, they name the servers of servers.py.
STATUS_URLS=${2:+yes}
BASE_URL=${2:-http://127.0.0.1:8089}
BASE_URL=${BASE_URL%/}

command -v openssl >/dev/null 2>&1 || die "openssl not found in PATH"

if [ -e "$OUTDIR/.complete" ]; then
    exit 0
fi

MARKER=.make-pki-in-progress
if [ -d "$OUTDIR" ] && [ -n "$(ls -A "$OUTDIR")" ]; then
    # Only wipe directories that a previous (interrupted) run of this script
    # created; never delete anything else.
    if [ -e "$OUTDIR/$MARKER" ]; then
        rm -rf -- "$OUTDIR"
    else
        die "$OUTDIR exists, is not empty and was not created by $PROG; refusing to touch it"
    fi
fi

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd -P)
: >"$OUTDIR/$MARKER"

LOG=$OUTDIR/make-pki.log
: >"$LOG"
TMP=$OUTDIR/tmp
mkdir -p "$TMP"

# fail MESSAGE [RC]: print MESSAGE plus the tail of the log, then exit.
fail() {
    printf '%s: error: %s\n' "$PROG" "$1" >&2
    if [ -s "$LOG" ]; then
        printf '%s: last lines of %s:\n' "$PROG" "$LOG" >&2
        tail -n 15 "$LOG" | sed 's/^/    /' >&2
    fi
    exit "${2:-1}"
}
trap 'fail "command failed (exit $?) at line $LINENO: $BASH_COMMAND" 1' ERR

cd "$OUTDIR"

# All openssl chatter goes to the log.
ossl() {
    printf '+ openssl %s\n' "$*" >>"$LOG"
    openssl "$@" >>"$LOG" 2>&1 || fail "openssl $1 failed (exit $?): openssl $*"
}

# ASN.1 time (GeneralizedTime syntax; openssl ca converts to UTCTime where
# RFC 5280 requires it) for a GNU date(1) relative expression.
asn1time() {
    date -u -d "$1" +%Y%m%d%H%M%SZ
}

NB=$(asn1time '1 day ago')                       # common notBefore
ROOT_NA=$(asn1time '1 day ago 20 years')
INT_NA=$(asn1time '1 day ago 10 years')
LEAF_NA=$(asn1time '1 day ago 3 years')
EXP_NB=$(asn1time '400 days ago')
EXP_NA=$(asn1time '30 days ago')
TSAEXP_NA=$(asn1time '1 day ago')                # tsa-expired: ended 1 day ago
SHORT_NA=$(asn1time '1 day ago 2 days')          # short-rsa2048: 2 days in all

# ---------------------------------------------------------------------------
# Key generation (in parallel; RSA keygen dominates the run time).
# Keys are unencrypted PKCS#8 PEM.
# ---------------------------------------------------------------------------
genkey() {  # name spec
    local name=$1 spec=$2
    case $spec in
        rsa*)
            openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:${spec#rsa}" \
                -out "$name.key" ;;
        ec:*)
            openssl genpkey -quiet -algorithm EC -pkeyopt "ec_paramgen_curve:${spec#ec:}" \
                -pkeyopt ec_param_enc:named_curve -out "$name.key" ;;
        *) return 1 ;;
    esac
}

KEYS=(
    root:rsa3072
    int:rsa2048
    other-root:rsa2048
    citizen-rsa2048:rsa2048
    auth-rsa2048:rsa2048
    citizen-rsa3072:rsa3072
    citizen-p256:ec:prime256v1
    citizen-p384:ec:secp384r1
    expired-rsa2048:rsa2048
    revoked-rsa2048:rsa2048
    tsa:rsa2048
    ocsp:rsa2048
    other-citizen:rsa2048
    tsa-expired:rsa2048
    tsa-noeku:rsa2048
    short-rsa2048:rsa2048
)
pids=()
for k in "${KEYS[@]}"; do
    name=${k%%:*}
    ( trap - ERR; genkey "$name" "${k#*:}" ) >"$TMP/genkey-$name.log" 2>&1 &
    pids+=("$!:$name")
done
for p in "${pids[@]}"; do
    if ! wait "${p%%:*}"; then
        cat "$TMP/genkey-${p#*:}.log" >>"$LOG"
        printf '%s: error: key generation failed for %s:\n' "$PROG" "${p#*:}" >&2
        sed 's/^/    /' "$TMP/genkey-${p#*:}.log" >&2
        exit 1
    fi
    cat "$TMP/genkey-${p#*:}.log" >>"$LOG"
done
chmod 600 ./*.key

# ---------------------------------------------------------------------------
# CA databases and configuration
# ---------------------------------------------------------------------------
init_ca_dir() {  # dir
    mkdir -p "$1/newcerts"
    : >"$1/index.txt"
    printf 'unique_subject = no\n' >"$1/index.txt.attr"
    # Random positive 128-bit starting serial (openssl ca increments it).
    printf '%s\n' "$(openssl rand -hex 16 | sed 's/^./4/')" >"$1/serial"
    printf '1000\n' >"$1/crlnumber"
}

# drop_status_urls CNF: no OCSP or CRL pointers when no BASE_URL was given
drop_status_urls() {
    [ -n "$STATUS_URLS" ] && return 0
    sed -i -e 's|OCSP;URI:[^,]*/ocsp, ||' -e '/^crlDistributionPoints/d' "$1"
}

# write_ca_config DIR CERT KEY
write_ca_config() {
    local dir=$1 cert=$2 key=$3
    cat >"$dir/ca.cnf" <<EOF
# Generated by $PROG. Usable directly, e.g.:
#   openssl ca -config $dir/ca.cnf -revoke CERT.crt -crl_reason keyCompromise
#   openssl ca -config $dir/ca.cnf -gencrl -out $OUTDIR/int.crl
BASE_URL        = $BASE_URL

[ ca ]
default_ca      = this_ca

[ this_ca ]
dir             = $dir
database        = \$dir/index.txt
new_certs_dir   = \$dir/newcerts
serial          = \$dir/serial
crlnumber       = \$dir/crlnumber
certificate     = $cert
private_key     = $key
default_md      = sha256
default_days    = 1095
default_crl_days = 7
policy          = policy_any
preserve        = yes
email_in_dn     = no
copy_extensions = none
unique_subject  = no
name_opt        = utf8,esc_ctrl,multiline,lname,align
cert_opt        = ca_default
crl_extensions  = crl_ext

[ policy_any ]
countryName             = optional
stateOrProvinceName     = optional
localityName            = optional
organizationName        = optional
organizationalUnitName  = optional
givenName               = optional
surname                 = optional
serialNumber            = optional
commonName              = supplied
emailAddress            = optional

[ req ]
distinguished_name      = req_dn
string_mask             = utf8only
utf8                    = yes
prompt                  = no

[ req_dn ]
CN = unused

[ crl_ext ]
authorityKeyIdentifier  = keyid:always

# --- certificate profiles --------------------------------------------------

[ v3_root ]
basicConstraints        = critical, CA:TRUE
keyUsage                = critical, keyCertSign, cRLSign
subjectKeyIdentifier    = hash

[ v3_int ]
basicConstraints        = critical, CA:TRUE, pathlen:0
keyUsage                = critical, keyCertSign, cRLSign
subjectKeyIdentifier    = hash
authorityKeyIdentifier  = keyid:always
authorityInfoAccess     = OCSP;URI:\${BASE_URL}/ocsp, caIssuers;URI:\${BASE_URL}/root.crt
crlDistributionPoints   = URI:\${BASE_URL}/root.crl

[ v3_nonrep ]
basicConstraints        = CA:FALSE
keyUsage                = critical, nonRepudiation
subjectKeyIdentifier    = hash
authorityKeyIdentifier  = keyid:always
authorityInfoAccess     = OCSP;URI:\${BASE_URL}/ocsp, caIssuers;URI:\${BASE_URL}/int.crt
crlDistributionPoints   = URI:\${BASE_URL}/int.crl
certificatePolicies     = 1.3.6.1.4.1.99999.1.1

[ v3_auth ]
basicConstraints        = CA:FALSE
keyUsage                = critical, digitalSignature
extendedKeyUsage        = clientAuth
subjectKeyIdentifier    = hash
authorityKeyIdentifier  = keyid:always
authorityInfoAccess     = OCSP;URI:\${BASE_URL}/ocsp, caIssuers;URI:\${BASE_URL}/int.crt
crlDistributionPoints   = URI:\${BASE_URL}/int.crl
certificatePolicies     = 1.3.6.1.4.1.99999.1.1

[ v3_tsa ]
basicConstraints        = CA:FALSE
keyUsage                = critical, digitalSignature
extendedKeyUsage        = critical, timeStamping
subjectKeyIdentifier    = hash
authorityKeyIdentifier  = keyid:always
authorityInfoAccess     = caIssuers;URI:\${BASE_URL}/int.crt
crlDistributionPoints   = URI:\${BASE_URL}/int.crl
certificatePolicies     = 1.3.6.1.4.1.99999.1.1

[ v3_ocsp ]
basicConstraints        = CA:FALSE
keyUsage                = critical, digitalSignature
extendedKeyUsage        = critical, OCSPSigning
noCheck                 = ignored
subjectKeyIdentifier    = hash
authorityKeyIdentifier  = keyid:always
authorityInfoAccess     = caIssuers;URI:\${BASE_URL}/int.crt
certificatePolicies     = 1.3.6.1.4.1.99999.1.1

# Leaf issued directly by the untrusted "other" root.
[ v3_other_leaf ]
basicConstraints        = CA:FALSE
keyUsage                = critical, nonRepudiation
subjectKeyIdentifier    = hash
authorityKeyIdentifier  = keyid:always
certificatePolicies     = 1.3.6.1.4.1.99999.1.1
EOF
    drop_status_urls "$dir/ca.cnf"
}

init_ca_dir "$OUTDIR/root-ca"
init_ca_dir "$OUTDIR/int-ca"
init_ca_dir "$OUTDIR/other-ca"
write_ca_config "$OUTDIR/root-ca"  "$OUTDIR/root.crt"       "$OUTDIR/root.key"
write_ca_config "$OUTDIR/int-ca"   "$OUTDIR/int.crt"        "$OUTDIR/int.key"
write_ca_config "$OUTDIR/other-ca" "$OUTDIR/other-root.crt" "$OUTDIR/other-root.key"

ROOT_CNF=$OUTDIR/root-ca/ca.cnf
INT_CNF=$OUTDIR/int-ca/ca.cnf
OTHER_CNF=$OUTDIR/other-ca/ca.cnf

# mkcsr CNF NAME SUBJECT
mkcsr() {
    ossl req -config "$1" -new -utf8 -sha256 -key "$2.key" -subj "$3" \
        -out "$TMP/$2.csr"
}

# sign CNF NAME EXT_SECTION NOT_BEFORE NOT_AFTER [extra ca args...]
sign() {
    local cnf=$1 name=$2 ext=$3 nb=$4 na=$5
    shift 5
    ossl ca -config "$cnf" -batch -notext -utf8 -preserveDN -md sha256 \
        -extensions "$ext" -startdate "$nb" -enddate "$na" \
        -in "$TMP/$name.csr" -out "$name.crt" "$@"
}

# ---------------------------------------------------------------------------
# Root, intermediate and the unrelated "other" root
# ---------------------------------------------------------------------------
mkcsr "$ROOT_CNF" root '/C=BE/O=libeid Test/CN=libeid Test Root CA'
sign "$ROOT_CNF" root v3_root "$NB" "$ROOT_NA" -selfsign -keyfile root.key

mkcsr "$ROOT_CNF" int '/C=BE/O=libeid Test/CN=libeid Test Citizen CA'
sign "$ROOT_CNF" int v3_int "$NB" "$INT_NA"

mkcsr "$OTHER_CNF" other-root '/C=BE/O=Untrusted Test/CN=Untrusted Test Root CA'
sign "$OTHER_CNF" other-root v3_root "$NB" "$ROOT_NA" -selfsign -keyfile other-root.key

ossl x509 -in root.crt -outform DER -out root.der
ossl x509 -in int.crt -outform DER -out int.der
cat int.crt root.crt >chain.pem

# ---------------------------------------------------------------------------
# Leaf certificates issued by the intermediate
# ---------------------------------------------------------------------------
PERSON='/C=BE/GN=Jérôme/SN=Øster-Łukasz/serialNumber=PNOBE-85010112345'

mkcsr "$INT_CNF" citizen-rsa2048 "$PERSON/CN=Jérôme Øster-Łukasz (Signature)"
sign "$INT_CNF" citizen-rsa2048 v3_nonrep "$NB" "$LEAF_NA"

mkcsr "$INT_CNF" auth-rsa2048 "$PERSON/CN=Jérôme Øster-Łukasz (Authentication)"
sign "$INT_CNF" auth-rsa2048 v3_auth "$NB" "$LEAF_NA"

mkcsr "$INT_CNF" citizen-rsa3072 '/C=FI/CN=Anna Virtanen (Signature)'
sign "$INT_CNF" citizen-rsa3072 v3_nonrep "$NB" "$LEAF_NA"

mkcsr "$INT_CNF" citizen-p256 '/C=EE/CN=Mari Maasikas (Signature)'
sign "$INT_CNF" citizen-p256 v3_nonrep "$NB" "$LEAF_NA"

mkcsr "$INT_CNF" citizen-p384 '/C=BE/CN=Luc Peeters (Signature)'
sign "$INT_CNF" citizen-p384 v3_nonrep "$NB" "$LEAF_NA"

mkcsr "$INT_CNF" expired-rsa2048 '/C=BE/CN=Expired Signer'
sign "$INT_CNF" expired-rsa2048 v3_nonrep "$EXP_NB" "$EXP_NA"

mkcsr "$INT_CNF" revoked-rsa2048 '/C=BE/CN=Revoked Signer'
sign "$INT_CNF" revoked-rsa2048 v3_nonrep "$NB" "$LEAF_NA"

mkcsr "$INT_CNF" tsa '/C=BE/O=libeid Test/CN=libeid Test TSA'
sign "$INT_CNF" tsa v3_tsa "$NB" "$LEAF_NA"

mkcsr "$INT_CNF" ocsp '/C=BE/O=libeid Test/CN=libeid Test OCSP Responder'
sign "$INT_CNF" ocsp v3_ocsp "$NB" "$LEAF_NA"

mkcsr "$OTHER_CNF" other-citizen '/C=BE/CN=Untrusted Signer'
sign "$OTHER_CNF" other-citizen v3_other_leaf "$NB" "$LEAF_NA"

# Certificates for the failure modes of servers.py and for validation after
# expiry.  Their extra profile lives in its own file, so ca.cnf stays as it was.
cat >"$TMP/extra-ext.cnf" <<EOF
# TSA profile without the timeStamping extended key usage.
[ v3_tsa_noeku ]
basicConstraints        = CA:FALSE
keyUsage                = critical, digitalSignature
subjectKeyIdentifier    = hash
authorityKeyIdentifier  = keyid:always
authorityInfoAccess     = caIssuers;URI:$BASE_URL/int.crt
crlDistributionPoints   = URI:$BASE_URL/int.crl
certificatePolicies     = 1.3.6.1.4.1.99999.1.1
EOF
drop_status_urls "$TMP/extra-ext.cnf"

mkcsr "$INT_CNF" tsa-expired '/C=BE/O=libeid Test/CN=libeid Test TSA (expired)'
sign "$INT_CNF" tsa-expired v3_tsa "$EXP_NB" "$TSAEXP_NA"

mkcsr "$INT_CNF" tsa-noeku '/C=BE/O=libeid Test/CN=libeid Test TSA (no EKU)'
sign "$INT_CNF" tsa-noeku v3_tsa_noeku "$NB" "$LEAF_NA" -extfile "$TMP/extra-ext.cnf"

mkcsr "$INT_CNF" short-rsa2048 '/C=BE/CN=Short-Lived Signer (Signature)'
sign "$INT_CNF" short-rsa2048 v3_nonrep "$NB" "$SHORT_NA"

# ---------------------------------------------------------------------------
# Revocation and CRL
# ---------------------------------------------------------------------------
ossl ca -config "$INT_CNF" -batch -revoke revoked-rsa2048.crt -crl_reason keyCompromise
ossl ca -config "$INT_CNF" -batch -gencrl -crldays 7 -md sha256 -out int.crl
ossl crl -in int.crl -outform DER -out int.crl.der

# ---------------------------------------------------------------------------
# DER and PKCS#12 for every leaf
# ---------------------------------------------------------------------------
LEAVES=(citizen-rsa2048 auth-rsa2048 citizen-rsa3072 citizen-p256 citizen-p384
        expired-rsa2048 revoked-rsa2048 tsa ocsp
        tsa-expired tsa-noeku short-rsa2048)
p12() {  # name chainfile
    ossl x509 -in "$1.crt" -outform DER -out "$1.der"
    ossl pkcs12 -export -name "$1" -inkey "$1.key" -in "$1.crt" -certfile "$2" \
        -passout pass:test -keypbe AES-256-CBC -certpbe AES-256-CBC \
        -macalg sha256 -out "$1.p12"
}
for l in "${LEAVES[@]}"; do
    p12 "$l" chain.pem
done
p12 other-citizen other-root.crt

# ---------------------------------------------------------------------------
# Self checks
# ---------------------------------------------------------------------------
check_verify_ok() {
    local out
    out=$(openssl verify -CAfile root.crt -untrusted int.crt "$1.crt" 2>&1) ||
        die "verification of $1.crt failed: $out"
}
for l in citizen-rsa2048 auth-rsa2048 citizen-rsa3072 citizen-p256 citizen-p384 \
         revoked-rsa2048 tsa ocsp tsa-noeku short-rsa2048; do
    check_verify_ok "$l"
done
if openssl verify -CAfile root.crt -untrusted int.crt tsa-expired.crt >>"$LOG" 2>&1; then
    die "tsa-expired.crt unexpectedly verifies"
fi
if openssl verify -CAfile root.crt -untrusted int.crt -purpose timestampsign \
        tsa-noeku.crt >>"$LOG" 2>&1; then
    die "tsa-noeku.crt unexpectedly verifies for time stamping"
fi
openssl verify -CAfile root.crt -untrusted int.crt -purpose timestampsign tsa.crt >>"$LOG" 2>&1 ||
    die "tsa.crt does not verify for time stamping"
openssl verify -CAfile other-root.crt other-citizen.crt >>"$LOG" 2>&1 ||
    die "verification of other-citizen.crt against other-root.crt failed"
if openssl verify -CAfile root.crt -untrusted int.crt expired-rsa2048.crt >>"$LOG" 2>&1; then
    die "expired-rsa2048.crt unexpectedly verifies"
fi
if openssl verify -CAfile root.crt -untrusted int.crt -crl_check -CRLfile int.crl \
        revoked-rsa2048.crt >>"$LOG" 2>&1; then
    die "revoked-rsa2048.crt unexpectedly passes the CRL check"
fi
subj=$(openssl x509 -in citizen-rsa2048.crt -noout -subject -nameopt utf8,sep_comma_plus)
case $subj in
    *'Jérôme Øster-Łukasz (Signature)'*) ;;
    *) die "UTF-8 subject did not survive: $subj" ;;
esac

rm -rf -- "$TMP"
rm -f -- "$OUTDIR/$MARKER"
trap - ERR
date -u +%Y-%m-%dT%H:%M:%SZ >"$OUTDIR/.complete"
