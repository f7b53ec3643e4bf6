#!/usr/bin/env bash
# pades-bench.sh [BUILD_DIR]
#
# Manual benchmark (never run in CI): PAdES signing and verification of
# big PDFs (1 MiB, 100 MiB, 1000 MiB by default) with eid-sign / eid-verify
# and a PKCS#12 key, side by side with `sha256sum` of the same file (the
# cost of reading and hashing it once) and with poppler's `pdfsig`.  Peak RSS
# of every tool comes from `/usr/bin/time -f %M`.  See bench/README.md.
#
#   BUILD_DIR       a configured and built tree (default: ./build)
#   BENCH_SIZES     sizes in MiB of the PDF's big stream (default: "1 100 1000")
#   BENCH_RUNS      timed runs per tool and case; the median is reported
#                   (default: 3)
#   BENCH_KEEP=1    keep the scratch folder (PKI, NSS database, logs; the
#                   big PDFs are deleted after each size in any case)
#
# Results go to stdout, progress to stderr.  Exit status 0 only if every
# operation succeeded and every signature verified.  Missed goals are
# reported in the output; they do not change the exit status.

set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZES=${BENCH_SIZES:-1 100 1000}
RUNS=${BENCH_RUNS:-3}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer (got '$RUNS')"
read -r -a SIZES <<<"$SIZES"
[ ${#SIZES[@]} -gt 0 ] || die "BENCH_SIZES is empty"
for s in "${SIZES[@]}"; do
    [[ $s =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZES must hold positive integers in MiB (got '$s')"
done

# Goals (see bench/README.md).
GOAL_SIGN_SHA=1.5      # eid-sign IN   <= 1.5 x sha256sum IN
GOAL_VERIFY_SHA=1.2    # eid-verify OUT <= 1.2 x sha256sum OUT
GOAL_VERIFY_PDFSIG=1.0 # eid-verify OUT < pdfsig -nocert OUT
GOAL_RSS_KB=32768      # eid-sign and eid-verify peak RSS <= 32 MiB at the biggest size
QPDF_CHECK_MAX=100     # qpdf --check the generated PDFs up to this size (MiB)

# --- prerequisites -----------------------------------------------------------
for t in python3 sha256sum pdfsig certutil pk12util qpdf awk df; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found in PATH"
done
TIME=/usr/bin/time
[ -x "$TIME" ] || die "$TIME not found (Debian: apt-get install -y time)"

# The eid tools: the real binaries in tools/.libs with libeid from the build
# tree (no libtool wrapper start-up in the timings), as in sign-bench.sh.
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
        # /usr/bin/time would measure the wrapper shell, not eid-sign.
        die "$BUILD_DIR/tools/eid-sign is a libtool wrapper and $BUILD_DIR/tools/.libs has no binaries"
    fi
    EID_MODE="binaries from tools/"
else
    die "no eid-sign/eid-verify in $BUILD_DIR/tools (build the tree first: make -C $BUILD_DIR)"
fi

# Time in microseconds, in NOW (no subshell: nothing extra inside the timings).
if [ -n "${EPOCHREALTIME:-}" ]; then
    now() { local t=$EPOCHREALTIME; NOW=$(( 10#${t%.*} * 1000000 + 10#${t#*.} )); }
else
    now() { NOW=$(( $(date +%s%N) / 1000 )); }
fi

# --- scratch folder, PKI, NSS database ------------------------------------------
DIR=$(mktemp -d "${TMPDIR:-/tmp}/libeid-pades-bench.XXXXXX")
cleanup() {
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        rm -f -- "$DIR"/*.pdf
        say "kept $DIR (without the PDFs)"
    else
        rm -rf -- "$DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PKI=$DIR/pki
NSSDB=$DIR/nssdb
LOG=$DIR/log
mkdir -p "$LOG"
IN=$DIR/in.pdf          # generated input
OUT=$DIR/eid.pdf        # signed by eid-sign; all three verifiers read this one
PSOUT=$DIR/pdfsig.pdf   # signed by pdfsig

say "test PKI and NSS database in $DIR"
bash "$SRCDIR/tests/pki/make-pki.sh" "$PKI" || die "tests/pki/make-pki.sh failed"
NICK=$(bash "$SRCDIR/tests/pdf/nssdb.sh" "$PKI" "$NSSDB") || die "tests/pdf/nssdb.sh failed"

# gen_pdf OUT MIB: a classic PDF 1.4 with one page (a small Helvetica text)
# and a document-level attachment (/EmbeddedFile stream) of MIB MiB of
# SHAKE-128 output, deterministic and incompressible, written 1 MiB at a
# time (memory use does not grow with MIB).  The same layout as
# `tests/pdf/pdfgen.py big`, which builds the whole attachment in memory.
gen_pdf() {
    python3 - "$1" "$2" <<'PY'
import hashlib, sys
out, mib = sys.argv[1], int(sys.argv[2])
chunk = 1 << 20
head = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
offs = {}
def add(num, body):
    offs[num] = len(head)
    head.extend(b"%d 0 obj\n" % num + body + b"\nendobj\n")
text = b"BT /F1 20 Tf 72 760 Td (libeid PAdES benchmark, %d MiB attachment) Tj ET\n" % mib
add(1, b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(random.bin) 5 0 R] >> >> >>")
add(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
add(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
       b" /Resources << /Font << /F1 6 0 R >> >> /Contents 4 0 R >>")
add(4, b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream")
add(5, b"<< /Type /Filespec /F (random.bin) /UF (random.bin) /EF << /F 7 0 R >> >>")
add(6, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
with open(out, "wb") as f:
    f.write(head)
    pos = len(head)
    offs[7] = pos
    h = b"7 0 obj\n<< /Type /EmbeddedFile /Length %d >>\nstream\n" % (mib * chunk)
    f.write(h)
    for i in range(mib):
        f.write(hashlib.shake_128(b"libeid pades-bench %d" % i).digest(chunk))
    t = b"\nendstream\nendobj\n"
    f.write(t)
    xref = pos + len(h) + mib * chunk + len(t)
    x = b"xref\n0 8\n0000000000 65535 f\r\n"
    x += b"".join(b"%010d 00000 n\r\n" % offs[n] for n in range(1, 8))
    ident = hashlib.md5(b"libeid pades-bench %d" % mib).hexdigest().upper().encode()
    x += b"trailer\n<< /Size 8 /Root 1 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n" % (ident, ident, xref)
    f.write(x)
PY
}

# flip_byte FILE OFFSET: XOR one byte with 1 in place (twice restores it).
flip_byte() {
    python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    o = int(sys.argv[2]); f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 1]))' "$1" "$2"
}

# --- the operations (one process each; output to LOG/OP.log) -----------------
# cmd_OP [WRAPPER...]: run the operation, prefixed by WRAPPER (/usr/bin/time).
cmd_eid_sign() { "$@" "$EID_SIGN" --pkcs12 "$PKI/citizen-rsa2048.p12" --pass pass:test -f pades "$IN" -o "$OUT"; }
cmd_sha_in() { "$@" sha256sum "$IN"; }
cmd_pdfsig_sign() { "$@" pdfsig -add-signature -nssdir "sql:$NSSDB" -nick "$NICK" "$IN" "$PSOUT"; }
cmd_eid_verify() { "$@" "$EID_VERIFY" "$OUT" --trust "$PKI/root.crt" -q; }
cmd_sha_out() { "$@" sha256sum "$OUT"; }
cmd_pdfsig_verify() { "$@" pdfsig -nssdir "sql:$NSSDB" -nocert "$OUT"; }

# Which file each operation reads (warmed up with cat before every run) and
# what to do before it (outside the timing).
declare -A WARM=([eid_sign]=IN [sha_in]=IN [pdfsig_sign]=IN
                 [eid_verify]=OUT [sha_out]=OUT [pdfsig_verify]=OUT)
prep() {
    case $1 in
        eid_sign) rm -f -- "$OUT" ;;
        pdfsig_sign) rm -f -- "$PSOUT" ;;
    esac
}

run_failed() {  # what logfile
    printf '%s: error: %s failed; last lines of %s:\n' "$PROG" "$1" "$2" >&2
    tail -n 15 "$2" | sed 's/^/    /' >&2
    exit 1
}

# pdfsig exits 0 whatever the validation result: read its output.
check_pdfsig_output() {  # logfile what
    if ! grep -q '^  - Signature Validation: Signature is Valid\.$' "$1" ||
        ! grep -q '^  - Total document signed$' "$1"; then
        run_failed "$2 (pdfsig does not report a valid, total signature)" "$1"
    fi
}

# run_op OP [rss]: warm-read the op's input, run it once.  Without "rss" the
# run is timed (US = wall time in microseconds); with "rss" it runs under
# /usr/bin/time and RSS_KB is its peak RSS (KiB).
run_op() {
    local op=$1 mode=${2:-} rc=0 t0 warm
    local log=$LOG/$op.log
    prep "$op"
    if [ "${WARM[$op]}" = IN ]; then warm=$IN; else warm=$OUT; fi
    cat -- "$warm" >/dev/null
    if [ "$mode" = rss ]; then
        "cmd_$op" "$TIME" -f %M -o "$LOG/rss" >"$log" 2>&1 || rc=$?
        [ "$rc" -eq 0 ] || run_failed "$op under /usr/bin/time (exit $rc)" "$log"
        RSS_KB=$(tail -n 1 "$LOG/rss")
    else
        now; t0=$NOW
        "cmd_$op" >"$log" 2>&1 || rc=$?
        now; US=$((NOW - t0))
        [ "$rc" -eq 0 ] || run_failed "$op (exit $rc)" "$log"
    fi
    case $op in
        pdfsig_verify) check_pdfsig_output "$log" "pdfsig -nocert on eid-sign's output" ;;
        eid_sign) [ -s "$OUT" ] || run_failed "eid-sign (no output file)" "$log" ;;
        pdfsig_sign) [ -s "$PSOUT" ] || run_failed "pdfsig -add-signature (no output file)" "$log" ;;
    esac
}

median() {
    printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 }
        END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%d\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# bench PHASE OP...: RUNS rounds; in each round every op runs once, and the
# op that goes first rotates from round to round.  Sets MED[PHASE,SIZE,OP]
# and RAW[PHASE,SIZE,OP] (ms of each run).
declare -A MED RAW RSS SIZE_IN SIZE_OUT
bench() {
    local phase=$1 r i op
    shift
    local ops=("$@") n=$#
    declare -A times=()
    for ((r = 0; r < RUNS; r++)); do
        for ((i = 0; i < n; i++)); do
            op=${ops[(i + r) % n]}
            run_op "$op"
            times[$op]+=" $US"
        done
    done
    for op in "${ops[@]}"; do
        # shellcheck disable=SC2086
        MED[$phase,$S,$op]=$(median ${times[$op]})
        RAW[$phase,$S,$op]=$(awk -v t="${times[$op]}" 'BEGIN {
            n = split(t, a, " "); for (k = 1; k <= n; k++) printf "%s%.1f", (k > 1 ? " " : ""), a[k] / 1000 }')
    done
}

# --- header ------------------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
echo "libeid PAdES benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  machine:  ${cpu:-unknown CPU}, $(nproc) cores, ${mem:-? RAM}, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  eid:      $("$EID_SIGN" --version 2>&1 | head -n 1), PKCS#12 key citizen-rsa2048 (RSA-2048, SHA-256, PAdES B-B)"
echo "            $EID_MODE"
echo "  peers:    $(sha256sum --version | head -n 1); pdfsig $(pdfsig -v 2>&1 | awk 'NR == 1 { print $3 }') (NSS key $NICK)"
echo "  scratch:  $DIR ($(df -P -h "$DIR" | awk 'NR == 2 { print $4 }') free)"
echo "  sizes:    ${SIZES[*]} MiB (attachment); $RUNS timed runs per tool and case, median reported"
echo

# --- per size ------------------------------------------------------------------
DONE=()
for S in "${SIZES[@]}"; do
    rm -f -- "$IN" "$OUT" "$PSOUT"
    bytes=$((S << 20))
    # in.pdf, eid.pdf and pdfsig.pdf (the last is ~1.1 MiB bigger: pdfsig
    # embeds a whole font) plus 5% and 64 MiB of headroom.
    need=$((3 * bytes + bytes / 20 + (64 << 20)))
    avail=$(df -P -B1 "$DIR" | awk 'NR == 2 { print $4 }')
    if [ "$avail" -lt "$need" ]; then
        say "skipping $S MiB: it needs about $((need >> 20)) MiB in $DIR, only $((avail >> 20)) MiB free"
        echo "skipped $S MiB: needs about $((need >> 20)) MiB free in $DIR, only $((avail >> 20)) MiB available"
        continue
    fi

    say "$S MiB: generating the PDF"
    gen_pdf "$IN" "$S" || die "generating the $S MiB PDF failed"
    SIZE_IN[$S]=$(stat -c %s "$IN")
    if [ "$S" -le "$QPDF_CHECK_MAX" ]; then
        qpdf --check "$IN" >"$LOG/qpdf-in.log" 2>&1 || run_failed "qpdf --check of the generated $S MiB PDF" "$LOG/qpdf-in.log"
    fi

    # Untimed first run of every tool under /usr/bin/time: smoke test and
    # peak RSS.  The signed files are checked by the other verifier.
    say "$S MiB: peak RSS runs and checks"
    for op in eid_sign sha_in pdfsig_sign eid_verify sha_out pdfsig_verify; do
        run_op "$op" rss
        RSS[$S,$op]=$RSS_KB
    done
    SIZE_OUT[$S]=$(stat -c %s "$OUT")
    pdfsig -nssdir "sql:$NSSDB" -nocert "$PSOUT" >"$LOG/check-pdfsig-own.log" 2>&1 ||
        run_failed "pdfsig on its own signature" "$LOG/check-pdfsig-own.log"
    check_pdfsig_output "$LOG/check-pdfsig-own.log" "pdfsig -add-signature"
    "$EID_VERIFY" "$PSOUT" --trust "$PKI/root.crt" >"$LOG/check-eid-on-pdfsig.log" 2>&1 ||
        run_failed "eid-verify of pdfsig's signature (exit $?)" "$LOG/check-eid-on-pdfsig.log"
    if [ "$S" -le "$QPDF_CHECK_MAX" ]; then
        qpdf --check "$OUT" >"$LOG/qpdf-out.log" 2>&1 || run_failed "qpdf --check of eid-sign's output" "$LOG/qpdf-out.log"
    fi

    say "$S MiB: sign, $RUNS rounds of eid-sign / sha256sum / pdfsig -add-signature"
    bench sign eid_sign sha_in pdfsig_sign
    say "$S MiB: verify, $RUNS rounds of eid-verify / sha256sum / pdfsig -nocert"
    bench verify eid_verify sha_out pdfsig_verify

    # eid-verify must really read the signed bytes: one flipped bit in the
    # middle of the attachment must give TOTAL-FAILED (exit 2).
    mid=$((SIZE_OUT[$S] / 2))
    flip_byte "$OUT" "$mid"
    rc=0
    "$EID_VERIFY" "$OUT" --trust "$PKI/root.crt" >"$LOG/tamper.log" 2>&1 || rc=$?
    [ "$rc" -eq 2 ] || run_failed "eid-verify accepted a changed byte at offset $mid (exit $rc, expected 2)" "$LOG/tamper.log"
    flip_byte "$OUT" "$mid"

    rm -f -- "$IN" "$OUT" "$PSOUT"
    DONE+=("$S")
done
[ ${#DONE[@]} -gt 0 ] || die "no size was measured"

# --- report ------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

row() { printf '%-6s | %8s | %8s | %12s | %5s | %9s | %5s | %15s | %9s | %9s\n' "$@"; }
echo
row case size "eid ms" "sha256sum ms" ratio "pdfsig ms" ratio "eid peak RSS MB" "sha RSS" "pdfsig RSS"
echo "-------+----------+----------+--------------+-------+-----------+-------+-----------------+-----------+-----------"
for phase in sign verify; do
    if [ $phase = sign ]; then e=eid_sign h=sha_in p=pdfsig_sign; else e=eid_verify h=sha_out p=pdfsig_verify; fi
    for S in "${DONE[@]}"; do
        row "$phase" "$S MiB" "$(ms "${MED[$phase,$S,$e]}")" "$(ms "${MED[$phase,$S,$h]}")" \
            "$(ratio "${MED[$phase,$S,$e]}" "${MED[$phase,$S,$h]}")" "$(ms "${MED[$phase,$S,$p]}")" \
            "$(ratio "${MED[$phase,$S,$e]}" "${MED[$phase,$S,$p]}")" "$(mb "${RSS[$S,$e]}")" \
            "$(mb "${RSS[$S,$h]}")" "$(mb "${RSS[$S,$p]}")"
    done
done
echo
echo "ms: median of $RUNS wall-clock runs, each after 'cat FILE >/dev/null'.  ratio: eid / that peer"
echo "(below 1.00 eid is faster).  RSS: MiB, one extra untimed run under /usr/bin/time -f %M."
echo "sign reads in.pdf; verify reads eid-sign's output (all three verifiers read the same file)."
echo
echo "Raw runs (ms):"
for phase in sign verify; do
    for S in "${DONE[@]}"; do
        for op in eid_sign sha_in pdfsig_sign eid_verify sha_out pdfsig_verify; do
            [ -n "${RAW[$phase,$S,$op]:-}" ] || continue
            printf '  %-6s %5s MiB %-14s %s\n' "$phase" "$S" "$op" "${RAW[$phase,$S,$op]}"
        done
    done
done
echo
echo "Files (bytes):"
for S in "${DONE[@]}"; do
    printf '  %5s MiB: in.pdf %s, signed by eid-sign %s\n' "$S" "${SIZE_IN[$S]}" "${SIZE_OUT[$S]}"
done

# --- goals ---------------------------------------------------------------------
verdict() {  # ok? text
    if [ "$1" = 1 ]; then printf '  met:     %s\n' "$2"; else printf '  NOT met: %s\n' "$2"; fi
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' && echo 1 || echo 0; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }' && echo 1 || echo 0; }
echo
echo "Goals:"
for S in "${DONE[@]}"; do
    r=$(ratio "${MED[sign,$S,eid_sign]}" "${MED[sign,$S,sha_in]}")
    verdict "$(le "$r" "$GOAL_SIGN_SHA")" "sign $S MiB: eid-sign / sha256sum = $r (goal <= $GOAL_SIGN_SHA)"
done
for S in "${DONE[@]}"; do
    r=$(ratio "${MED[verify,$S,eid_verify]}" "${MED[verify,$S,sha_out]}")
    verdict "$(le "$r" "$GOAL_VERIFY_SHA")" "verify $S MiB: eid-verify / sha256sum = $r (goal <= $GOAL_VERIFY_SHA)"
done
for S in "${DONE[@]}"; do
    r=$(ratio "${MED[verify,$S,eid_verify]}" "${MED[verify,$S,pdfsig_verify]}")
    verdict "$(lt "$r" "$GOAL_VERIFY_PDFSIG")" "verify $S MiB: eid-verify / pdfsig = $r (goal < $GOAL_VERIFY_PDFSIG)"
done
first=${DONE[0]} last=${DONE[${#DONE[@]} - 1]}
for op in eid_sign eid_verify; do
    a=${RSS[$first,$op]} b=${RSS[$last,$op]}
    verdict "$(le "$b" "$GOAL_RSS_KB")" \
        "${op/_/-} peak RSS at $last MiB = $(mb "$b") MiB (goal <= $((GOAL_RSS_KB / 1024)) MiB); $(mb "$a") MiB at $first MiB, growth $(awk -v k=$((b - a)) 'BEGIN { printf "%+.1f", k / 1024 }') MiB"
done
echo
echo "Checks: pdfsig reported every eid-sign signature valid and total, pdfsig's own signature"
echo "passed pdfsig and eid-verify, every eid-verify run returned 0 (TOTAL-PASSED), and"
echo "eid-verify returned 2 (TOTAL-FAILED) for one flipped bit in the middle of each signed file."
