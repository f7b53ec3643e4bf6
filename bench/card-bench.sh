#!/usr/bin/env bash
# card-bench.sh [BUILD_DIR]
#
# Manual benchmark (never run in CI): reading the emulated Belgian eID
# (belpic-1.7, belpic-1.8) and Estonian ID card (esteid-2018) with eid-card,
# side by side with OpenSC 0.23 reading the same data where it can.  Per card
# and operation: the APDUs on the wire and the response bytes (both counted
# from the card emulator's own log, so the same counter for both tools), and
# the wall time of the whole process (median of BENCH_RUNS).  See
# bench/README.md and tests/card/README.md.
#
#   operation             eid                              OpenSC
#   identity (all)        eid-card identity --json         opensc-tool -c default -s APDU...: the
#                         (identity, address, photo and    same APDUs eid sent, replayed (not an
#                         the integrity check)             OpenSC strategy: equal APDUs by design)
#   identity + address    the same eid runs, counting the  eidenv (Belgian cards only: it reads
#                         APDUs for 4031/4033 + detection  4031 and 4033, nothing else)
#   certificate X         eid-card certificate X -o F      pkcs15-tool --read-certificate ID -o F
#
# It builds a test PKI and the cards in a scratch folder, starts a private
# pcscd (tests/card/pcsc.sh: own network and mount namespace, loopback only),
# inserts one card at a time and stops everything it started on exit.
# Needs root (namespaces), pcscd, vsmartcard-vpcd, opensc and /usr/bin/python3.
#
#   BUILD_DIR       a configured and built tree (default: ./build)
#   BENCH_RUNS      timed runs per tool and operation; the median is reported
#                   (default: 5)
#   BENCH_CARDS     the cards (default: "belpic-1.7 belpic-1.8 esteid-2018")
#   BENCH_KEEP=1    keep the scratch folder (PKI, cards, emulator and pcscd
#                   logs, every tool's output)
#
# Results go to stdout, progress to stderr.  Exit status 0 only if every run
# succeeded and read what it should (identity verdict, certificates equal to
# the card's), every replay sent exactly eid's APDUs, and the build did not
# change during the run.  Missed goals are reported in the output; they do not
# change the exit status.

set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${BENCH_RUNS:-5}
CARDS=${BENCH_CARDS:-belpic-1.7 belpic-1.8 esteid-2018}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer (got '$RUNS')"
read -r -a CARDS <<<"$CARDS"
[ ${#CARDS[@]} -gt 0 ] || die "BENCH_CARDS is empty"
for c in "${CARDS[@]}"; do
    case $c in
        belpic-1.7 | belpic-1.8 | esteid-2018) ;;
        *) die "BENCH_CARDS: unknown card '$c' (belpic-1.7, belpic-1.8, esteid-2018)" ;;
    esac
done

# Goals (see bench/README.md).
GOAL_APDU=1.0   # eid APDUs <= OpenSC's for the same data (OpenSC's own strategy)
GOAL_TIME=1.0   # eid wall time <= OpenSC's

# --- prerequisites -----------------------------------------------------------
PY=/usr/bin/python3
PCSC=$SRCDIR/tests/card/pcsc.sh
[ "$(id -u)" = 0 ] || die "needs root (pcsc.sh runs pcscd in its own network and mount namespace)"
[ -x "$PY" ] || die "$PY not found"
for t in unshare nsenter openssl opensc-tool pkcs15-tool eidenv awk; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found in PATH"
done
command -v pcscd >/dev/null 2>&1 || [ -x /usr/sbin/pcscd ] || die "pcscd not installed"
[ -r /etc/reader.conf.d/vpcd ] || die "vsmartcard-vpcd not installed (/etc/reader.conf.d/vpcd)"

# eid-card: the real binary in tools/.libs with libeid from the build tree (no
# libtool wrapper start-up in the timings), as in the other bench scripts.
if [ -x "$BUILD_DIR/tools/.libs/eid-card" ]; then
    EID_CARD=$BUILD_DIR/tools/.libs/eid-card
    export LD_LIBRARY_PATH=$BUILD_DIR/libeid/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    EID_MODE="real binary from tools/.libs, LD_LIBRARY_PATH=$BUILD_DIR/libeid/.libs"
    EID_LIB=$BUILD_DIR/libeid/.libs/libeid.so.0
    if command -v ldd >/dev/null 2>&1; then
        lib=$(ldd "$EID_CARD" | awk '$1 ~ /^libeid\.so/ { print $3 }')
        case $lib in
            "$BUILD_DIR"/libeid/.libs/*) ;;
            *) die "$EID_CARD does not load libeid from $BUILD_DIR/libeid/.libs (ldd: '${lib:-none}')" ;;
        esac
    fi
elif [ -x "$BUILD_DIR/tools/eid-card" ]; then
    EID_CARD=$BUILD_DIR/tools/eid-card
    [ "$(head -c 2 "$EID_CARD")" != '#!' ] ||
        die "$BUILD_DIR/tools/eid-card is a libtool wrapper and $BUILD_DIR/tools/.libs has no binary"
    EID_MODE="binary from tools/"
    EID_LIB=
else
    die "no eid-card in $BUILD_DIR/tools (build the tree first: make -C $BUILD_DIR)"
fi

# The build must not change during the run (see xades-bench.sh).
build_id() { stat -L -c '%s %Y' "$EID_CARD" ${EID_LIB:+"$EID_LIB"} 2>&1 | tr '\n' ' '; }
BUILD_ID=$(build_id)
check_build() {
    [ "$(build_id)" = "$BUILD_ID" ] ||
        die "eid-card or libeid in $BUILD_DIR changed during the run (rebuilt?); no results reported"
}

# Time in microseconds, in NOW (no subshell: nothing extra inside the timings).
if [ -n "${EPOCHREALTIME:-}" ]; then
    now() { local t=$EPOCHREALTIME; NOW=$(( 10#${t%.*} * 1000000 + 10#${t#*.} )); }
else
    now() { NOW=$(( $(date +%s%N) / 1000 )); }
fi
median() {
    printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 }
        END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%d\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# No traces inside the timings.
unset EID_DEBUG OPENSC_DEBUG

# --- scratch folder, PKI, cards, pcscd -------------------------------------------
DIR=$(mktemp -d "${TMPDIR:-/tmp}/libeid-card-bench.XXXXXX")
PCSCDIR=$DIR/pcsc
CARDLOG=$PCSCDIR/card0.log
cleanup() {
    "$PCSC" stop "$PCSCDIR" >/dev/null 2>&1 || true
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        say "kept $DIR"
    else
        rm -rf -- "$DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# pcscd's socket is DIR/pcsc/run/pcscd.comm: a unix socket path is short.
[ ${#PCSCDIR} -lt 80 ] || die "scratch path $DIR is too long for pcscd's socket (set TMPDIR=/tmp)"

LOG=$DIR/log
OUT=$DIR/out
mkdir -p "$LOG" "$OUT"
say "test PKI and cards in $DIR"
bash "$SRCDIR/tests/pki/make-pki.sh" "$DIR/pki" >"$LOG/make-pki.log" 2>&1 ||
    { tail -n 20 "$LOG/make-pki.log" >&2; die "tests/pki/make-pki.sh failed"; }
bash "$SRCDIR/tests/card/mkcards.sh" "$DIR/cards" "$DIR/pki" >"$LOG/mkcards.log" 2>&1 ||
    { tail -n 20 "$LOG/mkcards.log" >&2; die "tests/card/mkcards.sh failed"; }

# OpenSC with a configuration of its own: the defaults, file caching off
# (also the default; a user's opensc.conf must not turn it on here).
cat >"$DIR/opensc.conf" <<'EOF'
app default {
	framework pkcs15 {
		use_file_caching = no;
	}
}
EOF
export OPENSC_CONF=$DIR/opensc.conf

say "starting a private pcscd"
envline=$("$PCSC" start "$PCSCDIR") || die "pcsc.sh start failed (see $PCSCDIR/pcscd.log)"
case $envline in
    "export PCSCLITE_CSOCK_NAME="*) export PCSCLITE_CSOCK_NAME=${envline#export PCSCLITE_CSOCK_NAME=} ;;
    *) die "pcsc.sh start printed '$envline'" ;;
esac

# The emulator log reader.  Every APDU is a "> C-APDU" line then a
# "< R-APDU (t ms)" line, written right after the answer went out, so the
# reader first waits until the log has as many answers as commands and stops
# growing.
#   apdulog.py count LOG OFFSET [FID...]   one line: apdus bytes select read
#       other retries6c wait_ms [sub_apdus sub_bytes]; bytes = R-APDU data
#       without SW; retries6c = 6Cxx answers; wait_ms = the pauses of 5 ms or
#       more between a 6Cxx answer and the next command (log clock, 1 ms:
#       shorter gaps are the round trip, not a wait); sub_* = the APDUs that
#       are not for a file (detection: SELECT by AID, GET CARD DATA...) plus
#       those for the FIDs given
#   apdulog.py files LOG OFFSET            one line per file: APDUs by kind, bytes
#   apdulog.py replay LOG OFFSET           the commands to send again, one a
#       line, without those OpenSC re-sends by itself (after 6Cxx, GET
#       RESPONSE after 61xx)
HELPER=$DIR/apdulog.py
cat >"$HELPER" <<'PY'
import re, sys, time

LINE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) ([<>]) (\S+)")


def settle(path, off):
    last, t_end = -1, time.time() + 5
    while True:
        with open(path, "rb") as f:
            f.seek(off)
            data = f.read()
        text = data.decode("utf-8", "replace")
        nc = len(re.findall(r"(?m)^\S+ > ", text))
        nr = len(re.findall(r"(?m)^\S+ < ", text))
        if nc == nr and len(data) == last:
            return text
        if time.time() > t_end:
            sys.exit("apdulog: %s: %d commands, %d answers after 5 s" % (path, nc, nr))
        last = len(data)
        time.sleep(0.03)


def apdus(text):
    """[(cmd_hex, resp_hex, t_cmd_ms, t_resp_ms)]"""
    out, cmd = [], None
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        t = ((int(m.group(1)) * 60 + int(m.group(2))) * 60 + int(m.group(3))) * 1000 + int(m.group(4))
        if m.group(5) == ">":
            cmd = (m.group(6), t)
        elif cmd is not None:
            out.append((cmd[0], m.group(6), cmd[1], t))
            cmd = None
    return out


def attribute(seq):
    """The file each APDU is for ('-' = not for a file) and its kind."""
    cur, res, prev = "-", [], None
    for cmd, resp, _, _ in seq:
        ins = cmd[2:4].upper() if len(cmd) >= 8 else ""
        p1 = cmd[4:6].upper() if len(cmd) >= 8 else ""
        if ins == "A4":
            data = cmd[10:] if len(cmd) > 10 else ""
            lc = int(cmd[8:10], 16) * 2 if len(cmd) > 10 else 0
            data = data[:lc]
            if p1 == "04":
                cur, f = "-", "-"
            else:
                cur = data[-4:].upper() if len(data) >= 4 else "3F00"
                f = cur
            res.append((f, "select"))
        elif ins == "B0":
            res.append((cur, "read"))
        elif ins == "C0" and prev is not None:
            res.append((prev, "other"))
        else:
            res.append(("-", "other"))
        prev = res[-1][0]
    return res


def count(seq, fids):
    att = attribute(seq)
    n = len(seq)
    nbytes = sum(max(len(r) // 2 - 2, 0) for _, r, _, _ in seq)
    kinds = {"select": 0, "read": 0, "other": 0}
    for _, k in att:
        kinds[k] += 1
    retries = wait = 0
    for i, (_, r, _, tr) in enumerate(seq):
        if len(r) == 4 and r[:2].upper() == "6C":
            retries += 1
            if i + 1 < len(seq) and seq[i + 1][2] - tr >= 5:
                wait += seq[i + 1][2] - tr
    fields = [n, nbytes, kinds["select"], kinds["read"], kinds["other"], retries, wait]
    if fids:
        want = set(f.upper() for f in fids) | {"-"}
        sub = [i for i, (f, _) in enumerate(att) if f in want]
        fields += [len(sub), sum(max(len(seq[i][1]) // 2 - 2, 0) for i in sub)]
    print(" ".join(str(x) for x in fields))


def files(seq):
    att = attribute(seq)
    order, per = [], {}
    for (cmd, r, _, _), (f, k) in zip(seq, att):
        if f not in per:
            order.append(f)
            per[f] = {"select": 0, "read": 0, "other": 0, "6C": 0, "bytes": 0}
        per[f][k] += 1
        per[f]["bytes"] += max(len(r) // 2 - 2, 0)
        if len(r) == 4 and r[:2].upper() == "6C":
            per[f]["6C"] += 1
    for f in order:
        p = per[f]
        name = "(no file: detection, card data)" if f == "-" else f
        print("%-32s %3d APDUs: %2d SELECT, %2d READ BINARY (%d answered 6Cxx), %2d other; %6d bytes"
              % (name, p["select"] + p["read"] + p["other"], p["select"], p["read"], p["6C"], p["other"], p["bytes"]))


def replay(seq):
    prev_cmd, prev_resp = None, None
    for cmd, resp, _, _ in seq:
        if "<" in cmd or "masked" in cmd:
            sys.exit("apdulog: a masked command cannot be replayed")
        auto = False
        if prev_resp is not None and len(prev_resp) == 4:
            sw1 = prev_resp[:2].upper()
            if sw1 == "6C" and cmd[:8].upper() == prev_cmd[:8].upper():
                auto = True
            if sw1 == "61" and cmd[2:4].upper() == "C0":
                auto = True
        if not auto:
            print(cmd)
        prev_cmd, prev_resp = cmd, resp


def main():
    mode, path, off = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seq = apdus(settle(path, off))
    if mode == "count":
        count(seq, sys.argv[4:])
    elif mode == "files":
        files(seq)
    elif mode == "replay":
        replay(seq)
    else:
        sys.exit("apdulog: unknown mode " + mode)


main()
PY

# --- the operations ----------------------------------------------------------
# Per card (set by set_card): CARD, BE (1 on a Belgian card), CERTS (the
# certificates eid-card reads), P15ID[cert] (OpenSC's PKCS#15 id; none: OpenSC
# does not list that certificate), REPLAY (opensc-tool -s arguments).
declare -A P15ID
REPLAY=()
set_card() {
    CARD=$1
    P15ID=()
    case $CARD in
        belpic-*)
            BE=1
            CERTS=(auth sign ca root rrn)
            P15ID=([auth]=02 [sign]=03 [ca]=04 [root]=06)
            ;;
        esteid-2018)
            BE=0
            CERTS=(auth sign)
            P15ID=([auth]=01 [sign]=02)
            ;;
    esac
}

# cmd_OP: one process; stdout and stderr go to the op's log.  CERT: the
# certificate of the cert ops.
cmd_eid_identity() { "$EID_CARD" identity --json; }
cmd_eidenv() { eidenv; }
cmd_replay() { opensc-tool -c default "${REPLAY[@]}"; }
cmd_eid_cert() { "$EID_CARD" certificate "$CERT" -o "$OUT/eid-cert.der"; }
cmd_p15_cert() { pkcs15-tool --read-certificate "${P15ID[$CERT]}" -o "$OUT/p15-cert.pem"; }
# Process start only, no card: the floor under every time above.
cmd_eid_start() { "$EID_CARD" --version; }
cmd_osc_start() { opensc-tool --version; }

prep() {
    case $1 in
        eid_cert) rm -f -- "$OUT/eid-cert.der" ;;
        p15_cert) rm -f -- "$OUT/p15-cert.pem" ;;
    esac
}

run_failed() {  # what logfile
    printf '%s: error: %s failed on %s; last lines of %s:\n' "$PROG" "$1" "$CARD" "$2" >&2
    tail -n 15 "$2" | sed 's/^/    /' >&2
    exit 1
}

# The certificate the card holds (DER, without the card file's zero padding).
ref_cert() {  # cert -> file
    local f
    case $CARD,$1 in
        belpic-*,auth) f=5038-auth.der ;; belpic-*,sign) f=5039-sign.der ;;
        belpic-*,ca) f=503A-ca.der ;; belpic-*,root) f=503B-root.der ;;
        belpic-*,rrn) f=503C-rrn.der ;;
        esteid-2018,auth) f=3401-auth.der ;; esteid-2018,sign) f=341F-sign.der ;;
    esac
    openssl x509 -inform DER -in "$DIR/cards/$CARD/files/$f" -outform DER -out "$OUT/ref-$CARD-$1.der" ||
        die "reading the reference certificate $f of $CARD"
}

# check OP LOG RC: did this run read what it should?
check_run() {
    local op=$1 log=$2 rc=$3
    case $op in
        eid_identity)
            [ "$rc" -eq 0 ] || run_failed "eid-card identity (exit $rc)" "$log"
            grep -q "\"personal_code\": \"$PERSONAL_CODE\"" "$log" ||
                run_failed "eid-card identity (no personal code $PERSONAL_CODE)" "$log"
            if [ "$BE" = 1 ]; then
                grep -q '"verdict": "valid"' "$log" || run_failed "eid-card identity (integrity not valid)" "$log"
                grep -q '"photo_bytes": [1-9]' "$log" || run_failed "eid-card identity (no photo)" "$log"
            fi
            ;;
        eidenv)
            # OpenSC 0.23's eidenv exits 1 after printing a Belgian card (its
            # do_belpic() never sets the exit status): judge by the output.
            [ "$rc" -le 1 ] || run_failed "eidenv (exit $rc)" "$log"
            if ! grep -q "^BELPIC_NATIONALNUMBER: $PERSONAL_CODE\$" "$log" ||
                ! grep -q '^BELPIC_MUNICIPALITY: Bruxelles$' "$log" || grep -q '^Failed' "$log"; then
                run_failed "eidenv (identity or address missing)" "$log"
            fi
            ;;
        replay)
            [ "$rc" -eq 0 ] || run_failed "opensc-tool replay (exit $rc)" "$log"
            ;;
        eid_start | osc_start)
            [ "$rc" -eq 0 ] || run_failed "$op (exit $rc)" "$log"
            ;;
        eid_cert)
            [ "$rc" -eq 0 ] || run_failed "eid-card certificate $CERT (exit $rc)" "$log"
            cmp -s "$OUT/eid-cert.der" "$OUT/ref-$CARD-$CERT.der" ||
                run_failed "eid-card certificate $CERT (not the card's certificate)" "$log"
            ;;
        p15_cert)
            [ "$rc" -eq 0 ] || run_failed "pkcs15-tool --read-certificate ${P15ID[$CERT]} (exit $rc)" "$log"
            openssl x509 -in "$OUT/p15-cert.pem" -outform DER 2>/dev/null | cmp -s - "$OUT/ref-$CARD-$CERT.der" ||
                run_failed "pkcs15-tool --read-certificate ${P15ID[$CERT]} (not the card's certificate)" "$log"
            ;;
    esac
}

# run_op KEY OP: run OP once, timed (US, microseconds), then count its APDUs
# in the emulator log (CNT: the apdulog.py count line).  SUBFIDS: the files of
# the identity+address subset (eid_identity on Belgian cards).
SUBFIDS=()
run_op() {
    local key=$1 op=$2 rc=0 t0 off
    local log=$LOG/$CARD-$key-$op.log
    check_build
    prep "$op"
    off=$(stat -c %s "$CARDLOG")
    now; t0=$NOW
    "cmd_$op" >"$log" 2>&1 || rc=$?
    now; US=$((NOW - t0))
    check_run "$op" "$log" "$rc"
    if [ "$CARD" = none ]; then
        CNT="0 0 0 0 0 0 0"
    elif [ "$op" = eid_identity ] && [ ${#SUBFIDS[@]} -gt 0 ]; then
        CNT=$("$PY" "$HELPER" count "$CARDLOG" "$off" "${SUBFIDS[@]}")
    else
        CNT=$("$PY" "$HELPER" count "$CARDLOG" "$off")
    fi
}

# bench KEY OP...: RUNS rounds; in each round every op runs once, and the op
# that goes first rotates from round to round.  Sets, for KEY,OP: MED (us),
# RAW (ms of each run), and from the emulator log APDU (count; "a-b" if it
# varied), BYTES, RETRY (6Cxx answers), WAIT (median ms from a 6Cxx answer to
# the next command), KINDS ("select/read/other"), SUBA and SUBB (the subset).
declare -A MED RAW APDU BYTES RETRY WAIT KINDS SUBA SUBB
BENCHES=()   # CARD|KEY|OP OP...
bench() {
    local key=$1 r i op c
    shift
    local ops=("$@") n=$#
    declare -A times=() apdus=() waits=()
    BENCHES+=("$CARD|$key|$*")
    for ((r = 0; r < RUNS; r++)); do
        for ((i = 0; i < n; i++)); do
            op=${ops[(i + r) % n]}
            run_op "$key" "$op"
            times[$op]+=" $US"
            read -r -a c <<<"$CNT"
            apdus[$op]+=" ${c[0]}"
            waits[$op]+=" ${c[6]}"
            BYTES[$CARD,$key,$op]=${c[1]}
            KINDS[$CARD,$key,$op]="${c[2]}/${c[3]}/${c[4]}"
            RETRY[$CARD,$key,$op]=${c[5]}
            if [ ${#c[@]} -ge 9 ]; then
                SUBA[$CARD,$key,$op]=${c[7]}
                SUBB[$CARD,$key,$op]=${c[8]}
            fi
            if [ "$op" = replay ] && { [ "${c[0]}" != "$REF_APDUS" ] || [ "${c[1]}" != "$REF_BYTES" ]; }; then
                die "the opensc-tool replay on $CARD sent ${c[0]} APDUs for ${c[1]} bytes, eid's reference run $REF_APDUS for $REF_BYTES"
            fi
        done
    done
    for op in "${ops[@]}"; do
        # shellcheck disable=SC2086
        MED[$CARD,$key,$op]=$(median ${times[$op]})
        RAW[$CARD,$key,$op]=$(awk -v t="${times[$op]}" 'BEGIN {
            n = split(t, a, " "); for (k = 1; k <= n; k++) printf "%s%.1f", (k > 1 ? " " : ""), a[k] / 1000 }')
        # shellcheck disable=SC2086
        APDU[$CARD,$key,$op]=$(printf '%s\n' ${apdus[$op]} | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 }
            END { print (lo == hi ? lo : lo "-" hi) }')
        # shellcheck disable=SC2086
        WAIT[$CARD,$key,$op]=$(median ${waits[$op]})
    done
}

# --- header ------------------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
pkgv() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo '?'; }
echo "libeid card benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  machine:  ${cpu:-unknown CPU}, $(nproc) cores, ${mem:-? RAM}, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  eid:      $("$EID_CARD" --version 2>&1 | head -n 1); $EID_MODE"
built=$(date -u -r "${EID_LIB:-$EID_CARD}" +%Y-%m-%dT%H:%M:%SZ)
head=$(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null || echo '?')
dirty=$(git -C "$SRCDIR" status --porcelain -- libeid tools include 2>/dev/null | wc -l)
[ "$dirty" -eq 0 ] || head="$head plus $dirty changed file(s) in libeid/, tools/, include/"
echo "            $([ -n "$EID_LIB" ] && echo libeid.so.0 || echo eid-card) built $built; source tree at HEAD $head"
echo "  peer:     $(opensc-tool --info 2>/dev/null | head -n 1) (Debian opensc $(pkgv opensc)), OPENSC_CONF of its own (no file caching)"
echo "  stack:    pcscd $(pkgv pcscd), vsmartcard-vpcd $(pkgv vsmartcard-vpcd), tests/card/vcard.py on loopback in a private"
echo "            network namespace; $("$PY" --version 2>&1)"
echo "  cards:    ${CARDS[*]}; $RUNS timed runs per tool and operation, median reported"
echo "  counted:  APDUs and response bytes (data without SW) from the emulator's log, for both tools;"
echo "            ms = wall time of the whole process (start, PC/SC connect, APDUs, output)"
echo

# --- per card ------------------------------------------------------------------
KEYS=()   # CARD|KEY|EID_OP|PEER_OP
declare -A REFA REFB NOTE
for CARD in "${CARDS[@]}"; do
    set_card "$CARD"
    # The personal code the card holds (info.json, written by mkcards.py).
    PERSONAL_CODE=$("$PY" -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(j.get("identity", {}).get("national_number") or j.get("personal_data", {}).get("5006", ""))' \
        "$DIR/cards/$CARD/info.json")
    [[ $PERSONAL_CODE =~ ^[0-9]{11}$ ]] || die "$CARD: no personal code in $DIR/cards/$CARD/info.json"
    say "$CARD: inserting"
    "$PCSC" insert "$PCSCDIR" "$DIR/cards/$CARD" 0 >"$LOG/insert-$CARD.log" 2>&1 ||
        { cat "$LOG/insert-$CARD.log" >&2; die "pcsc.sh insert $CARD failed"; }
    for c in "${CERTS[@]}"; do ref_cert "$c"; done

    # Untimed reference run of eid-card identity with the library's APDU trace:
    # the trace and the emulator must count the same APDUs; its commands are
    # what opensc-tool replays; its per-file breakdown goes in the report.
    off=$(stat -c %s "$CARDLOG")
    rc=0
    EID_DEBUG=5 "$EID_CARD" identity --json >"$LOG/$CARD-reference.json" 2>"$LOG/$CARD-reference.trace" || rc=$?
    check_run eid_identity "$LOG/$CARD-reference.json" "$rc"
    traced=$(grep -c '^libeid trace: apdu > ' "$LOG/$CARD-reference.trace" || true)
    read -r REF_APDUS REF_BYTES _ <<<"$("$PY" "$HELPER" count "$CARDLOG" "$off")"
    [ "$traced" = "$REF_APDUS" ] ||
        die "$CARD: libeid traced $traced APDUs, the emulator logged $REF_APDUS"
    "$PY" "$HELPER" files "$CARDLOG" "$off" >"$LOG/$CARD-eid-identity-files.txt"
    mapfile -t cmds < <("$PY" "$HELPER" replay "$CARDLOG" "$off")
    REPLAY=()
    for x in "${cmds[@]}"; do REPLAY+=(-s "$x"); done
    REFA[$CARD]=$REF_APDUS REFB[$CARD]=$REF_BYTES

    # The certificates through eid-card's `info` command: its own APDU count
    # must be the emulator's too (a second check of the counter).
    off=$(stat -c %s "$CARDLOG")
    "$EID_CARD" info >"$LOG/$CARD-info.txt" 2>&1 || run_failed "eid-card info" "$LOG/$CARD-info.txt"
    said=$(awk -F': *' '/^APDUs:/ { print $2 }' "$LOG/$CARD-info.txt")
    read -r logged _ <<<"$("$PY" "$HELPER" count "$CARDLOG" "$off")"
    [ "$said" = "$logged" ] || die "$CARD: eid-card info says $said APDUs, the emulator logged $logged"

    # identity
    if [ "$BE" = 1 ]; then
        SUBFIDS=(4031 4033)
        # An untimed eidenv run for its per-file breakdown.
        off=$(stat -c %s "$CARDLOG")
        rc=0
        eidenv >"$LOG/$CARD-eidenv-ref.log" 2>&1 || rc=$?
        check_run eidenv "$LOG/$CARD-eidenv-ref.log" "$rc"
        "$PY" "$HELPER" files "$CARDLOG" "$off" >"$LOG/$CARD-eidenv-files.txt"
        say "$CARD: identity, $RUNS rounds of eid-card identity / opensc-tool replay / eidenv"
        bench identity eid_identity replay eidenv
        KEYS+=("$CARD|identity|eid_identity|replay" "$CARD|idaddr|eid_identity|eidenv")
    else
        SUBFIDS=()
        # eidenv of OpenSC 0.23 knows the pre-2018 EstEID only: record what it says.
        rc=0
        eidenv >"$LOG/$CARD-eidenv.log" 2>&1 || rc=$?
        NOTE[$CARD]=$(grep -v '^Using reader' "$LOG/$CARD-eidenv.log" | head -n 1)
        grep -q '^ESTEID_\|^Surname' "$LOG/$CARD-eidenv.log" &&
            die "eidenv read $CARD: this script assumes it cannot (update the comparison)"
        say "$CARD: identity, $RUNS rounds of eid-card identity / opensc-tool replay"
        bench identity eid_identity replay
        KEYS+=("$CARD|identity|eid_identity|replay" "$CARD|idaddr|eid_identity|-")
    fi
    SUBFIDS=()

    # certificates
    for CERT in "${CERTS[@]}"; do
        if [ -n "${P15ID[$CERT]:-}" ]; then
            # Untimed: each tool's per-file breakdown for the first certificate.
            if [ "$CERT" = auth ]; then
                for op in eid_cert p15_cert; do
                    prep "$op"
                    off=$(stat -c %s "$CARDLOG")
                    rc=0
                    "cmd_$op" >"$LOG/$CARD-$op-ref.log" 2>&1 || rc=$?
                    check_run "$op" "$LOG/$CARD-$op-ref.log" "$rc"
                    "$PY" "$HELPER" files "$CARDLOG" "$off" >"$LOG/$CARD-$op-files.txt"
                done
            fi
            say "$CARD: certificate $CERT, $RUNS rounds of eid-card certificate / pkcs15-tool --read-certificate ${P15ID[$CERT]}"
            bench "cert-$CERT" eid_cert p15_cert
            KEYS+=("$CARD|cert-$CERT|eid_cert|p15_cert")
        else
            say "$CARD: certificate $CERT, $RUNS runs of eid-card certificate (OpenSC does not list it)"
            bench "cert-$CERT" eid_cert
            KEYS+=("$CARD|cert-$CERT|eid_cert|-")
        fi
    done

    check_build
    "$PCSC" remove "$PCSCDIR" 0 >"$LOG/remove-$CARD.log" 2>&1 ||
        { cat "$LOG/remove-$CARD.log" >&2; die "pcsc.sh remove failed"; }
done

# Process start without a card, for scale.
CARD=none
say "process start: $RUNS rounds of eid-card --version / opensc-tool --version"
bench start eid_start osc_start

# --- report ------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
lo() { echo "${1%%-*}"; }   # the lower end of an "a-b" APDU count
hi() { echo "${1##*-}"; }

opname() {
    case $1 in
        identity) echo "identity, all" ;;
        idaddr) echo "identity+address" ;;
        cert-*) echo "certificate ${1#cert-}" ;;
    esac
}
peername() {
    case $1 in
        replay) echo "opensc-tool replay" ;;
        eidenv) echo "eidenv" ;;
        p15_cert) echo "pkcs15-tool" ;;
        *) echo "-" ;;
    esac
}

row() { printf '%-11s | %-18s | %-18s | %9s | %10s | %9s | %10s | %7s | %7s | %6s | %5s | %9s\n' "$@"; }
echo
row card operation "OpenSC tool" "eid APDUs" "OSC APDUs" "eid bytes" "OSC bytes" "eid ms" "OSC ms" "OSC 6C" ratio "ratio -6C"
echo "------------+--------------------+--------------------+-----------+------------+-----------+------------+---------+---------+--------+-------+----------"
declare -A GOAL_A GOAL_T
for k in "${KEYS[@]}"; do
    IFS='|' read -r card key e p <<<"$k"
    src=$key
    [ "$key" = idaddr ] && src=identity
    ea=${APDU[$card,$src,$e]} eb=${BYTES[$card,$src,$e]} et=${MED[$card,$src,$e]}
    if [ "$key" = idaddr ]; then
        ea="${SUBA[$card,$src,$e]:-?}*" eb="${SUBB[$card,$src,$e]:-?}*"
    fi
    if [ "$p" = - ]; then
        why="(none)"
        [ "$key" = idaddr ] && why="eidenv: n/a"
        if [ "$key" = idaddr ]; then
            row "$card" "$(opname "$key")" "$why" - - - - - - - - -
        else
            row "$card" "$(opname "$key")" "$why" "$ea" - "$eb" - "$(ms "$et")" - - - -
        fi
        continue
    fi
    pa=${APDU[$card,$src,$p]} pb=${BYTES[$card,$src,$p]} pt=${MED[$card,$src,$p]}
    pw=${WAIT[$card,$src,$p]}
    r=$(ratio "$et" "$pt")
    r6=$(ratio "$et" "$((pt - pw * 1000))")
    row "$card" "$(opname "$key")" "$(peername "$p")" "$ea" "$pa" "$eb" "$pb" "$(ms "$et")" "$(ms "$pt")" \
        "$pw" "$r" "$r6"
    # goals: APDUs against OpenSC's own strategies; time against all
    if [ "$p" != replay ]; then
        a=${ea%\*}
        GOAL_A[$k]=$(awk -v a="$(hi "$a")" -v b="$(lo "$pa")" -v g="$GOAL_APDU" 'BEGIN { print (a <= g * b) ? 1 : 0 }')
    fi
    GOAL_T[$k]=$(awk -v r="$r" -v g="$GOAL_TIME" 'BEGIN { print (r <= g) ? 1 : 0 }')
done
echo
echo "eid/OSC APDUs and bytes: counted in the emulator's log (every command on the wire, retries after"
echo "6Cxx included; bytes = response data without SW).  ms: median of $RUNS wall-clock runs of the"
echo "whole process.  OSC 6C: median ms OpenSC paused (5 ms or more) between a 6Cxx answer and"
echo "its re-send (its Belpic driver sleeps 40 ms there; log clock, 1 ms).  ratio: eid ms / OpenSC ms;"
echo "ratio -6C: eid ms / (OpenSC ms - OSC 6C).  Below 1.00 eid is faster."
echo "identity, all: eid-card identity --json reads identity, address, photo, the RRN and root"
echo "  certificates (1.8: and the basic key) and checks the signatures; the replay sends eid's own"
echo "  commands again with opensc-tool -c default (same APDUs by construction; a timing reference,"
echo "  not an OpenSC strategy)."
echo "identity+address: eidenv reads 4031 and 4033 only.  * = eid's APDUs and bytes for the same"
echo "  files plus its detection commands, counted inside its full identity run; eid ms is that"
echo "  full run (it reads and checks more than eidenv in that time)."
echo "Process start, no card (median of $RUNS): eid-card --version $(ms "${MED[none,start,eid_start]}") ms,"\
     "opensc-tool --version $(ms "${MED[none,start,osc_start]}") ms."
for card in "${CARDS[@]}"; do
    if [ -n "${NOTE[$card]:-}" ]; then
        echo "$card: OpenSC has no reader of the personal data: eidenv says \"${NOTE[$card]}\"."
    fi
done

echo
echo "Where the APDUs go (one untimed run each; per file: SELECT, READ BINARY, other; bytes):"
for card in "${CARDS[@]}"; do
    echo "  $card, eid-card identity --json (${REFA[$card]} APDUs, ${REFB[$card]} bytes):"
    sed 's/^/    /' "$LOG/$card-eid-identity-files.txt"
    if [ -f "$LOG/$card-eidenv-files.txt" ]; then
        echo "  $card, eidenv:"
        sed 's/^/    /' "$LOG/$card-eidenv-files.txt"
    fi
    echo "  $card, eid-card certificate auth:"
    sed 's/^/    /' "$LOG/$card-eid_cert-files.txt"
    echo "  $card, pkcs15-tool --read-certificate $([ "${card%%-*}" = belpic ] && echo 02 || echo 01):"
    sed 's/^/    /' "$LOG/$card-p15_cert-files.txt"
done

echo
echo "Raw runs (ms); the commands of one run: SELECT/READ BINARY/other, and how many got 6Cxx:"
for b in "${BENCHES[@]}"; do
    IFS='|' read -r card key ops <<<"$b"
    for op in $ops; do
        printf '  %-11s %-11s %-12s %-8s 6C:%-2s %s\n' "$card" "$key" "$op" "${KINDS[$card,$key,$op]}" \
            "${RETRY[$card,$key,$op]}" "${RAW[$card,$key,$op]}"
    done
done

# --- goals ---------------------------------------------------------------------
verdict() {  # ok? text
    if [ "$1" = 1 ]; then printf '  met:     %s\n' "$2"; else printf '  NOT met: %s\n' "$2"; fi
}
echo
echo "Goals (APDUs judged against OpenSC's own strategies only: not against the replay, which"
echo "sends eid's APDUs; eidenv against eid's APDUs for the same two files):"
for k in "${KEYS[@]}"; do
    IFS='|' read -r card key e p <<<"$k"
    [ -n "${GOAL_A[$k]:-}" ] || continue
    src=$key
    [ "$key" = idaddr ] && src=identity
    ea=${APDU[$card,$src,$e]}
    [ "$key" = idaddr ] && ea=${SUBA[$card,$src,$e]}
    verdict "${GOAL_A[$k]}" "$card $(opname "$key"): eid sends no more APDUs than $(peername "$p") ($ea vs ${APDU[$card,$src,$p]})"
done
for k in "${KEYS[@]}"; do
    IFS='|' read -r card key e p <<<"$k"
    [ -n "${GOAL_T[$k]:-}" ] || continue
    src=$key
    [ "$key" = idaddr ] && src=identity
    extra=
    [ "$key" = idaddr ] && extra=" (eid doing its full identity read)"
    verdict "${GOAL_T[$k]}" "$card $(opname "$key"): eid no slower than $(peername "$p")$extra: $(ms "${MED[$card,$src,$e]}") vs $(ms "${MED[$card,$src,$p]}") ms, ratio $(ratio "${MED[$card,$src,$e]}" "${MED[$card,$src,$p]}")"
done
echo
echo "Checks: every eid-card identity run exited 0 with the personal code (Belgian cards: photo and"
echo "integrity verdict \"valid\"); every eidenv run printed the national number and the municipality;"
echo "every certificate read by either tool was the card's certificate, byte for byte; every replay"
echo "sent exactly as many APDUs and bytes as eid's reference run; libeid's own APDU trace and"
echo "eid-card info's count matched the emulator's log on every card."
