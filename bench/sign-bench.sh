#!/usr/bin/env bash
# sign-bench.sh [BUILD_DIR]
#
# Manual benchmark (never run in CI): eid-sign / eid-verify against
# `openssl cms` with the OpenSSL pkcs11 engine, both on the same SoftHSM2
# keys, one process per operation for both tools.  See bench/README.md.
#
#   BUILD_DIR       a configured and built tree (default: ./build)
#   BENCH_N         operations per case and tool (default: 200)
#   BENCH_BLOCK     the two tools take turns in blocks of this many runs
#                   (default: 10)
#   BENCH_KEEP=1    keep the scratch folder (keys, tokens, signatures, logs)
#   SOFTHSM2_MODULE the SoftHSM2 PKCS#11 module
#                   (default: /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so)
#
# Results go to stdout, progress to stderr.  Exit status 0 only if every
# operation succeeded and every signature verified.

set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${BENCH_N:-200}
BLOCK=${BENCH_BLOCK:-10}
[[ $N =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer (got '$N')"
[[ $BLOCK =~ ^[1-9][0-9]*$ ]] || die "BENCH_BLOCK must be a positive integer (got '$BLOCK')"

MODULE=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
TOKEN=libeid-test
PIN=123456

# --- prerequisites -----------------------------------------------------------
for t in openssl softhsm2-util pkcs11-tool awk; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found in PATH"
done
[ -r "$MODULE" ] || die "SoftHSM2 module $MODULE not found (set SOFTHSM2_MODULE)"
openssl engine -t pkcs11 >/dev/null 2>&1 ||
    die "OpenSSL engine 'pkcs11' not available (Debian: apt-get install libengine-pkcs11-openssl)"

# The eid tools: the real binaries in tools/.libs with libeid from the build
# tree if they are there (no libtool wrapper start-up in the timings),
# otherwise whatever tools/eid-sign is (wrapper script or static binary).
if [ -x "$BUILD_DIR/tools/.libs/eid-sign" ] && [ -x "$BUILD_DIR/tools/.libs/eid-verify" ]; then
    EID_SIGN=$BUILD_DIR/tools/.libs/eid-sign
    EID_VERIFY=$BUILD_DIR/tools/.libs/eid-verify
    export LD_LIBRARY_PATH=$BUILD_DIR/libeid/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    EID_MODE="real binaries from tools/.libs, LD_LIBRARY_PATH=$BUILD_DIR/libeid/.libs"
    if command -v ldd >/dev/null 2>&1; then
        lib=$(ldd "$EID_SIGN" | awk '$1 ~ /^libeid\.so/ { print $3 }')
        case $lib in
            "$BUILD_DIR"/libeid/.libs/*) ;;
            *) die "$EID_SIGN does not load libeid from $BUILD_DIR/libeid/.libs (ldd: '${lib:-none}')" ;;
        esac
    fi
elif [ -x "$BUILD_DIR/tools/eid-sign" ] && [ -x "$BUILD_DIR/tools/eid-verify" ]; then
    EID_SIGN=$BUILD_DIR/tools/eid-sign
    EID_VERIFY=$BUILD_DIR/tools/eid-verify
    if [ "$(head -c 2 "$EID_SIGN")" = '#!' ]; then
        EID_MODE="libtool wrapper scripts (their shell start-up is included in every eid run)"
    else
        EID_MODE="binaries from tools/"
    fi
else
    die "no eid-sign/eid-verify in $BUILD_DIR/tools (build the tree first)"
fi

# Time in microseconds, in NOW (no subshell: nothing extra inside the timings).
if [ -n "${EPOCHREALTIME:-}" ]; then
    now() { local t=$EPOCHREALTIME; NOW=$(( 10#${t%.*} * 1000000 + 10#${t#*.} )); }
else
    now() { NOW=$(( $(date +%s%N) / 1000 )); }
fi

# --- scratch folder, PKI, tokens -----------------------------------------------
DIR=$(mktemp -d "${TMPDIR:-/tmp}/libeid-bench.XXXXXX")
cleanup() {
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        say "kept $DIR"
    else
        rm -rf -- "$DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PKI=$DIR/pki
HSM=$DIR/hsm
OUT=$DIR/out
LOG=$DIR/log
mkdir -p "$OUT" "$LOG"

say "test PKI and SoftHSM2 tokens in $DIR"
bash "$SRCDIR/tests/pki/make-pki.sh" "$PKI" || die "tests/pki/make-pki.sh failed"
SOFTHSM2_MODULE=$MODULE bash "$SRCDIR/tests/softhsm/make-token.sh" "$PKI" "$HSM" ||
    die "tests/softhsm/make-token.sh failed"
export SOFTHSM2_CONF=$HSM/softhsm2.conf
# libp11 (the pkcs11 engine) loads this module instead of p11-kit's proxy.
export PKCS11_MODULE_PATH=$MODULE

INPUT=$DIR/data.txt
for ((i = 0; i < 64; i++)); do
    printf 'libeid benchmark input, line %02d: the quick brown fox jumps over the lazy dog.\n' "$i"
done >"$INPUT"

# --- the operations (each one process; stdout/stderr to per-tool logs) --------
# CASES: name | token object label | certificate file
CASES=("RSA-2048|Signature|citizen-rsa2048" "P-256|P256|citizen-p256")

sign_eid() {  # label cert out
    "$EID_SIGN" --module "$MODULE" --token "$TOKEN" --cert-label "$1" --pin "pass:$PIN" \
        -f cades "$INPUT" -o "$3" >>"$LOG/eid-sign.log" 2>&1
}
sign_ossl() {  # label cert out
    # -certfile int.crt: eid-sign embeds the signer and the intermediate, so
    # the openssl signature carries the same two certificates; -nosmimecap:
    # eid-sign adds no S/MIME capabilities, so the signed attributes match.
    openssl cms -sign -engine pkcs11 -keyform engine \
        -inkey "pkcs11:token=$TOKEN;object=$1;type=private;pin-value=$PIN" \
        -signer "$PKI/$2.crt" -certfile "$PKI/int.crt" -nosmimecap \
        -binary -outform DER -cades -in "$INPUT" -out "$3" >>"$LOG/openssl-sign.log" 2>&1
}
verify_eid() {  # sig
    "$EID_VERIFY" -q --trust "$PKI/chain.pem" --data "$INPUT" "$1" >>"$LOG/eid-verify.log" 2>&1
}
verify_ossl() {  # sig
    openssl cms -verify -binary -inform DER -in "$1" -content "$INPUT" \
        -CAfile "$PKI/chain.pem" -purpose any -out /dev/null >>"$LOG/openssl-verify.log" 2>&1
}
check_sig() {  # sig
    openssl cms -verify -binary -inform DER -in "$1" -content "$INPUT" \
        -CAfile "$PKI/chain.pem" -purpose any -out /dev/null >"$LOG/check.log" 2>&1
}

run_failed() {  # what logfile
    printf '%s: error: %s failed; last lines of %s:\n' "$PROG" "$1" "$2" >&2
    tail -n 15 "$2" | sed 's/^/    /' >&2
    exit 1
}

# bench_pair A_FN B_FN ARGS_FN: run A_FN and B_FN N times each, taking turns in
# blocks of BLOCK runs (the first tool alternates from block to block), so
# that drift in machine load hits both alike.  ARGS_FN TOOL I sets ARGS to
# the arguments of run I.  Sets T_A and T_B (microseconds, sum over blocks).
bench_pair() {
    local fa=$1 fb=$2 argsfn=$3 i=0 n round=0 who
    T_A=0 T_B=0
    while ((i < N)); do
        n=$((N - i < BLOCK ? N - i : BLOCK))
        for who in $( ((round % 2 == 0)) && echo a b || echo b a ); do
            if [ "$who" = a ]; then
                time_block a "$fa" "$argsfn" "$i" "$n" "$LOGA"
                T_A=$((T_A + BLOCK_US))
            else
                time_block b "$fb" "$argsfn" "$i" "$n" "$LOGB"
                T_B=$((T_B + BLOCK_US))
            fi
        done
        i=$((i + n))
        round=$((round + 1))
    done
}
# time_block TOOL FN ARGS_FN FIRST COUNT LOGNAME: sets BLOCK_US.
time_block() {
    local tool=$1 fn=$2 argsfn=$3 j t0
    now; t0=$NOW
    for ((j = $4; j < $4 + $5; j++)); do
        "$argsfn" "$tool" "$j"
        "$fn" "${ARGS[@]}" || run_failed "$fn (run $j)" "$LOG/$6.log"
    done
    now; BLOCK_US=$((NOW - t0))
}

# --- header ------------------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
libp11=$(dpkg-query -W -f '${Version}' libengine-pkcs11-openssl 2>/dev/null || echo unknown)
echo "libeid sign/verify benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  machine:  ${cpu:-unknown CPU}, $(nproc) cores, $(uname -sr)"
echo "  eid:      $("$EID_SIGN" --version 2>&1 | head -n 1)"
echo "            $EID_MODE"
echo "  peer:     $(openssl version), libengine-pkcs11-openssl $libp11"
echo "  token:    SoftHSM2 $(softhsm2-util --version), $MODULE"
echo "  input:    $(wc -c <"$INPUT") bytes; N=$N per case and tool, turns of $BLOCK"
echo

# --- warm-up / smoke test (not timed) -----------------------------------------
say "warm-up"
for c in "${CASES[@]}"; do
    IFS='|' read -r name label cert <<<"$c"
    for _ in 1 2 3; do
        sign_eid "$label" "$cert" "$DIR/warm-eid.p7s" || run_failed "eid-sign ($name)" "$LOG/eid-sign.log"
        sign_ossl "$label" "$cert" "$DIR/warm-ossl.p7s" || run_failed "openssl cms -sign ($name)" "$LOG/openssl-sign.log"
        verify_eid "$DIR/warm-ossl.p7s" || run_failed "eid-verify ($name)" "$LOG/eid-verify.log"
        verify_ossl "$DIR/warm-eid.p7s" || run_failed "openssl cms -verify ($name)" "$LOG/openssl-verify.log"
    done
done

# --- signing -----------------------------------------------------------------
declare -A SIGN_EID SIGN_OSSL VERIFY_EID VERIFY_OSSL
sign_args() {  # tool i
    ARGS=("$CUR_LABEL" "$CUR_CERT" "$OUT/$CUR_TAG-$1-$(printf %04d "$2").p7s")
}
for c in "${CASES[@]}"; do
    IFS='|' read -r name label cert <<<"$c"
    say "sign $name: $N x eid-sign, $N x openssl cms -sign"
    CUR_LABEL=$label CUR_CERT=$cert CUR_TAG=$label
    LOGA=eid-sign LOGB=openssl-sign
    bench_pair sign_eid sign_ossl sign_args
    SIGN_EID[$name]=$T_A
    SIGN_OSSL[$name]=$T_B
done

# --- every signature must verify -------------------------------------------------
say "checking all $((N * 2 * ${#CASES[@]})) signatures with openssl cms -verify"
bad=0
for c in "${CASES[@]}"; do
    IFS='|' read -r name label cert <<<"$c"
    for tool in a b; do
        for ((i = 0; i < N; i++)); do
            f=$OUT/$label-$tool-$(printf %04d "$i").p7s
            if [ ! -s "$f" ] || ! check_sig "$f"; then
                bad=$((bad + 1))
                if ((bad <= 5)); then
                    printf '%s: FAILED: %s (%s, by %s) does not verify:\n' "$PROG" "${f##*/}" "$name" \
                        "$([ $tool = a ] && echo eid-sign || echo openssl)" >&2
                    sed 's/^/    /' "$LOG/check.log" >&2 || true
                fi
            fi
        done
    done
done
if ((bad > 0)); then
    printf '\n%s: *** %d signature(s) DO NOT VERIFY; no results reported ***\n' "$PROG" "$bad" >&2
    exit 1
fi

# --- verifying: both tools on the same (eid-made) signature ----------------------
verify_args() {  # tool i
    ARGS=("$CUR_SIG")
}
for c in "${CASES[@]}"; do
    IFS='|' read -r name label cert <<<"$c"
    say "verify $name: $N x eid-verify, $N x openssl cms -verify"
    CUR_SIG=$OUT/$label-a-0000.p7s
    LOGA=eid-verify LOGB=openssl-verify
    bench_pair verify_eid verify_ossl verify_args
    VERIFY_EID[$name]=$T_A
    VERIFY_OSSL[$name]=$T_B
done

# --- report ------------------------------------------------------------------
row() {  # case eid_us ossl_us
    awk -v c="$1" -v a="$2" -v b="$3" -v n="$N" 'BEGIN {
        printf "%-15s | %12.1f | %11.2f | %16.1f | %15.2f | %17.2f\n",
            c, a / 1000, a / 1000 / n, b / 1000, b / 1000 / n, a / b }'
}
printf '%-15s | %12s | %11s | %16s | %15s | %17s\n' \
    case "eid total ms" "eid (ms/op)" "openssl total ms" "openssl (ms/op)" "ratio eid/openssl"
printf '%s\n' "----------------+--------------+-------------+------------------+-----------------+------------------"
for c in "${CASES[@]}"; do
    IFS='|' read -r name _ _ <<<"$c"
    row "sign $name" "${SIGN_EID[$name]}" "${SIGN_OSSL[$name]}"
done
for c in "${CASES[@]}"; do
    IFS='|' read -r name _ _ <<<"$c"
    row "verify $name" "${VERIFY_EID[$name]}" "${VERIFY_OSSL[$name]}"
done
echo
echo "ratio = eid ms/op / openssl ms/op: below 1.00 eid is faster, above 1.00 slower."
echo "All $((N * 2 * ${#CASES[@]})) signatures verified with openssl cms -verify; every verify run passed."
