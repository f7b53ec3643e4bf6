#!/usr/bin/env bash
# xades-bench.sh [BUILD_DIR]
#
# Manual benchmark (never run in CI): XAdES signing and verification of big
# XML documents (1 MiB and 50 MiB by default) with eid-sign / eid-verify and
# a PKCS#12 key, side by side with xmlsec1 making and checking an enveloped
# XML-DSig of the same document.  Then one batch case: verifying 1000 small
# signed documents with ONE eid-verify process, with one eid-verify process
# per file, and with one xmlsec1 --verify process per file.  Peak RSS of every
# tool comes from `/usr/bin/time -f %M`.  See bench/README.md.
#
#   BUILD_DIR       a configured and built tree (default: ./build)
#   BENCH_SIZES     sizes in MiB of the big XML documents (default: "1 50")
#   BENCH_RUNS      timed runs per tool and case; the median is reported
#                   (default: 3)
#   BENCH_FILES     how many small documents the batch case verifies
#                   (default: 1000; 0 skips the batch case)
#   BENCH_KEEP=1    keep the scratch folder (PKI, small documents, logs; the
#                   big XML files are deleted after each size in any case)
#
# Results go to stdout, progress to stderr.  Exit status 0 only if every
# operation succeeded and every signature verified, and the build did not
# change during the run.  Missed goals are reported in the output; they do
# not change the exit status.

set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZES=${BENCH_SIZES:-1 50}
RUNS=${BENCH_RUNS:-3}
NFILES=${BENCH_FILES:-1000}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer (got '$RUNS')"
[[ $NFILES =~ ^[0-9]+$ ]] || die "BENCH_FILES must be a non-negative integer (got '$NFILES')"
read -r -a SIZES <<<"$SIZES"
[ ${#SIZES[@]} -gt 0 ] || die "BENCH_SIZES is empty"
for s in "${SIZES[@]}"; do
    [[ $s =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZES must hold positive integers in MiB (got '$s')"
    [ "$s" -le 200 ] || die "BENCH_SIZES: $s MiB is above eid's 256 MiB limit for one XML document with room to spare"
done

# Goals (see bench/README.md).
GOAL_SIGN_XMLSEC=1.0    # eid-sign   <= xmlsec1 --sign   (same document)
GOAL_VERIFY_XMLSEC=1.0  # eid-verify <= xmlsec1 --verify (also for the batch case)
GOAL_RSS_PER_MIB=1.0    # peak RSS growth per MiB of document <= 1 MiB (bounded by the document)

# --- prerequisites -----------------------------------------------------------
for t in python3 xmlsec1 openssl awk df; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found in PATH"
done
TIME=/usr/bin/time
[ -x "$TIME" ] || die "$TIME not found (Debian: apt-get install -y time)"

# The eid tools: the real binaries in tools/.libs with libeid from the build
# tree (no libtool wrapper start-up in the timings), as in pades-bench.sh.
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

# The build must not change during the run (other people may rebuild the
# tree): a fingerprint of the binaries and libeid, checked before every
# operation, so that no table mixes two builds.
EID_LIB=
if [ "$EID_SIGN" = "$BUILD_DIR/tools/.libs/eid-sign" ]; then
    EID_LIB=$BUILD_DIR/libeid/.libs/libeid.so.0
fi
build_id() { stat -L -c '%s %Y' "$EID_SIGN" "$EID_VERIFY" ${EID_LIB:+"$EID_LIB"} 2>&1 | tr '\n' ' '; }
BUILD_ID=$(build_id)
check_build() {
    [ "$(build_id)" = "$BUILD_ID" ] ||
        die "eid-sign, eid-verify or libeid in $BUILD_DIR changed during the run (rebuilt?); no results reported"
}

# Time in microseconds, in NOW (no subshell: nothing extra inside the timings).
if [ -n "${EPOCHREALTIME:-}" ]; then
    now() { local t=$EPOCHREALTIME; NOW=$(( 10#${t%.*} * 1000000 + 10#${t#*.} )); }
else
    now() { NOW=$(( $(date +%s%N) / 1000 )); }
fi

# --- scratch folder, PKI -------------------------------------------------------
DIR=$(mktemp -d "${TMPDIR:-/tmp}/libeid-xades-bench.XXXXXX")
cleanup() {
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        rm -f -- "$DIR"/*.xml
        say "kept $DIR (without the big XML files)"
    else
        rm -rf -- "$DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PKI=$DIR/pki
LOG=$DIR/log
SMALL=$DIR/small
GEN=$DIR/genxml.py
mkdir -p "$LOG"
IN=$DIR/in.xml          # generated document, the input of eid-sign
TMPL=$DIR/tmpl.xml      # the same document with an XML-DSig template, the input of xmlsec1 --sign
OUT=$DIR/eid.xml        # signed by eid-sign (XAdES B-B, enveloped)
XOUT=$DIR/xmlsec.xml    # signed by xmlsec1 (XML-DSig, enveloped)

say "test PKI in $DIR"
bash "$SRCDIR/tests/pki/make-pki.sh" "$PKI" || die "tests/pki/make-pki.sh failed"
P12=$PKI/citizen-rsa2048.p12
KEYCERT=$PKI/citizen-rsa2048.key,$PKI/citizen-rsa2048.crt
ROOT=$PKI/root.crt
INT=$PKI/int.crt
XS_ID_ATTR='--id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties'

# The XML generator.  A deterministic invoice: a header with seller and
# buyer, then line items of about 600 bytes each (attributes, a prefixed
# namespace, non-ASCII text in several scripts, an escaped '&'), written
# 1 MiB at a time, so its memory use does not grow with the size.  Every
# document comes twice: as is (for eid-sign) and with an enveloped XML-DSig
# template as the root's last child (for xmlsec1 --sign): RSA-SHA256,
# exclusive C14N of SignedInfo, the enveloped-signature and exclusive C14N
# transforms, SHA-256, Reference URI="", and an X509Data that xmlsec1 fills
# with the signer's certificate.
#   genxml.py big IN TMPL MIB     one document of MIB MiB (to within a line)
#   genxml.py small DIR COUNT     DIR/in-NNNN.xml and DIR/tmpl-NNNN.xml, 5 lines each
cat >"$GEN" <<'PY'
import os, sys

TEMPLATE = (
    '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
    '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
    '<ds:Reference URI=""><ds:Transforms>'
    '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
    '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
    '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/>'
    '</ds:Reference></ds:SignedInfo><ds:SignatureValue/>'
    '<ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>'
)
WORDS = ["Crème brûlée", "Smørrebrød", "Łódź pierogi", "Straßenkarte", "Ελληνικός καφές",
         "Чай с лимоном", "日本茶", "Café au lait", "Ærøskøbing øl", "Jalapeño salsa"]
CITIES = ["Liège", "Genève", "Zürich", "Kraków", "Århus", "Ioannina", "Москва", "São Paulo"]

def head(number):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Invoice xmlns="urn:example:invoice" xmlns:x="urn:example:extra"'
        ' Id="invoice-%d" number="INV-%08d" currency="EUR" issued="2024-03-01">\n'
        '  <Seller vat="BE0123456789" country="BE"><Name>Brasserie Ærøskøbing &amp; Fils</Name>'
        '<Street>Rue de la Régence 4</Street><City>Liège</City></Seller>\n'
        '  <Buyer vat="DE811907980" country="DE"><Name>Müller &amp; Søn GmbH</Name>'
        '<Street>Königstraße 12</Street><City>Düsseldorf</City></Buyer>\n'
        '  <Lines>\n' % (number, number))

def line(i):
    qty = i % 7 + 1
    cents = (i * 7919) % 100000 + 99
    w = WORDS[i % len(WORDS)]
    return cents * qty, (
        '    <Line n="%d" sku="SKU-%07d" unit="pce" vat="21">\n'
        '      <Description lang="fr">%s n° %d, «qualité supérieure» — lot %05d</Description>\n'
        '      <Qty>%d</Qty><Price currency="EUR">%d.%02d</Price><Amount>%d.%02d</Amount>\n'
        '      <x:Delivery date="2024-03-%02d" depot="%s">Livré à %s, façon maison; '
        'ref. %08x</x:Delivery>\n'
        '      <x:Note>Ordered by Jérôme Øster-Łukasz: «%s» ×%d</x:Note>\n'
        '    </Line>\n' % (i, i, w, i, i * 31 % 100000, qty, cents // 100, cents % 100,
                          cents * qty // 100, cents * qty % 100, i % 28 + 1,
                          CITIES[i % len(CITIES)], CITIES[(i + 3) % len(CITIES)],
                          (i * 2654435761) & 0xFFFFFFFF, w, qty))

def tail(total, lines):
    return ('  </Lines>\n  <Total lines="%d" currency="EUR">%d.%02d</Total>\n'
            % (lines, total // 100, total % 100))

def write(path_in, path_tmpl, number, nlines=None, size=None):
    with open(path_in, "wb") as fi, open(path_tmpl, "wb") as ft:
        buf = [head(number)]
        n = len(buf[0].encode())
        pending, total, i = n, 0, 0
        while True:
            if nlines is not None and i >= nlines:
                break
            if size is not None and n >= size - 200:
                break
            i += 1
            amount, text = line(i)
            total += amount
            b = len(text.encode())
            n += b
            pending += b
            buf.append(text)
            if pending >= 1 << 20:
                chunk = "".join(buf).encode()
                fi.write(chunk); ft.write(chunk)
                buf, pending = [], 0
        buf.append(tail(total, i))
        chunk = "".join(buf).encode()
        fi.write(chunk); ft.write(chunk)
        fi.write(b"</Invoice>\n")
        ft.write(TEMPLATE.encode() + b"</Invoice>\n")

if sys.argv[1] == "big":
    write(sys.argv[2], sys.argv[3], int(sys.argv[4]), size=int(sys.argv[4]) << 20)
else:
    d, count = sys.argv[2], int(sys.argv[3])
    for k in range(1, count + 1):
        write(os.path.join(d, "in-%04d.xml" % k), os.path.join(d, "tmpl-%04d.xml" % k),
              100000 + k, nlines=5)
PY

# flip_qty FILE OFFSET: change the first digit after the first "<Qty>" at or
# after OFFSET (XOR 1 keeps it a digit, so the XML stays well-formed; a
# second call restores it).
flip_qty() {
    python3 -c 'import mmap, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    o = m.find(b"<Qty>", int(sys.argv[2]))
    assert o >= 0, "no <Qty> after the offset"
    o += 5; m[o] = m[o] ^ 1; m.flush()' "$1" "$2"
}

# --- the operations (one process each; output to LOG/OP.log) -----------------
# cmd_OP [WRAPPER...]: run the operation, prefixed by WRAPPER (/usr/bin/time).
cmd_eid_sign() { "$@" "$EID_SIGN" --pkcs12 "$P12" --pass pass:test -f xades --packaging enveloped "$IN" -o "$OUT"; }
cmd_xs_sign() { "$@" xmlsec1 --sign --privkey-pem "$KEYCERT" --output "$XOUT" "$TMPL"; }
cmd_eid_verify() { "$@" "$EID_VERIFY" "$OUT" --trust "$ROOT" -q; }
cmd_xs_verify() { "$@" xmlsec1 --verify --trusted-pem "$ROOT" --untrusted-pem "$INT" "$XOUT"; }

# The batch case: the small signed documents, SIG_EID[k] and SIG_XS[k].
# batch_eid_one: one eid-verify for all of them; batch_*_each: one process per
# file, stopping at the first failure (the log names the file).
SIG_EID=() SIG_XS=()
cmd_batch_eid_one() { "$@" "$EID_VERIFY" --trust "$ROOT" -q "${SIG_EID[@]}"; }
cmd_batch_eid_each() {
    local f rc
    for f in "${SIG_EID[@]}"; do
        "$EID_VERIFY" "$f" --trust "$ROOT" -q || { rc=$?; echo "eid-verify $f: exit $rc"; return 1; }
    done
}
cmd_batch_xs_each() {
    local f rc
    for f in "${SIG_XS[@]}"; do
        xmlsec1 --verify --trusted-pem "$ROOT" --untrusted-pem "$INT" "$f" 2>/dev/null ||
            { rc=$?; echo "xmlsec1 --verify $f: exit $rc"; return 1; }
    done
}
# Peak RSS of one process of the per-file loops (the first file).
cmd_batch_eid_each_rss() { "$@" "$EID_VERIFY" "${SIG_EID[0]}" --trust "$ROOT" -q; }
cmd_batch_xs_each_rss() { "$@" xmlsec1 --verify --trusted-pem "$ROOT" --untrusted-pem "$INT" "${SIG_XS[0]}"; }

# warm_OP: read the op's input (outside the timing), as pades-bench.sh does.
warm() {
    case $1 in
        eid_sign) cat -- "$IN" >/dev/null ;;
        xs_sign) cat -- "$TMPL" >/dev/null ;;
        eid_verify) cat -- "$OUT" >/dev/null ;;
        xs_verify) cat -- "$XOUT" >/dev/null ;;
        batch_eid_*) cat -- "${SIG_EID[@]}" >/dev/null ;;
        batch_xs_*) cat -- "${SIG_XS[@]}" >/dev/null ;;
    esac
}
prep() {
    case $1 in
        eid_sign) rm -f -- "$OUT" ;;
        xs_sign) rm -f -- "$XOUT" ;;
    esac
}

run_failed() {  # what logfile
    printf '%s: error: %s failed; last lines of %s:\n' "$PROG" "$1" "$2" >&2
    tail -n 15 "$2" | sed 's/^/    /' >&2
    exit 1
}

# xmlsec1 --verify prints "OK" (or "FAIL") on stderr; read it as well as the
# exit status.
check_xs_output() {  # logfile what
    grep -qx 'OK' "$1" || run_failed "$2 (xmlsec1 did not print OK)" "$1"
}

# run_op OP [rss]: warm-read the op's input, run it once.  Without "rss" the
# run is timed (US = wall time in microseconds); with "rss" it runs under
# /usr/bin/time and RSS_KB is its peak RSS (KiB).
run_op() {
    local op=$1 mode=${2:-} rc=0 t0
    local log=$LOG/$op.log
    check_build
    prep "$op"
    warm "$op"
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
        xs_verify | batch_xs_each_rss) check_xs_output "$log" "xmlsec1 --verify" ;;
        eid_sign) [ -s "$OUT" ] || run_failed "eid-sign (no output file)" "$log" ;;
        xs_sign) [ -s "$XOUT" ] || run_failed "xmlsec1 --sign (no output file)" "$log" ;;
    esac
}

median() {
    printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 }
        END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%d\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# bench KEY OP...: RUNS rounds; in each round every op runs once, and the op
# that goes first rotates from round to round.  Sets MED[KEY,OP] (us) and
# RAW[KEY,OP] (ms of each run).
declare -A MED RAW RSS SIZE_IN SIZE_OUT SIZE_XOUT
bench() {
    local key=$1 r i op
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
        MED[$key,$op]=$(median ${times[$op]})
        RAW[$key,$op]=$(awk -v t="${times[$op]}" 'BEGIN {
            n = split(t, a, " "); for (k = 1; k <= n; k++) printf "%s%.1f", (k > 1 ? " " : ""), a[k] / 1000 }')
    done
}

# --- header ------------------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
libxml=$(dpkg-query -W -f '${Version}' libxml2 2>/dev/null || echo '?')
echo "libeid XAdES benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  machine:  ${cpu:-unknown CPU}, $(nproc) cores, ${mem:-? RAM}, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  eid:      $("$EID_SIGN" --version 2>&1 | head -n 1), PKCS#12 key citizen-rsa2048 (RSA-2048, SHA-256, XAdES B-B enveloped)"
echo "            $EID_MODE"
built=$(date -u -r "${EID_LIB:-$EID_SIGN}" +%Y-%m-%dT%H:%M:%SZ)
head=$(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null || echo '?')
echo "            $([ -n "$EID_LIB" ] && echo libeid.so.0 || echo eid-sign) built $built; source tree at HEAD $head"
echo "  peer:     $(xmlsec1 --version | head -n 1), PEM key and certificate of citizen-rsa2048 (XML-DSig enveloped)"
echo "  shared:   libxml2 $libxml, $(openssl version | awk '{ print $1, $2 }') (both tools link the same libraries)"
echo "  scratch:  $DIR ($(df -P -h "$DIR" | awk 'NR == 2 { print $4 }') free)"
echo "  sizes:    ${SIZES[*]} MiB, and $NFILES small documents; $RUNS timed runs per tool and case, median reported"
echo "  note:     eid's XAdES carries more than xmlsec1's plain XML-DSig: a second Reference (to"
echo "            SignedProperties: signing time, signing certificate digest, data object format) and"
echo "            the whole chain in KeyInfo (3 certificates, xmlsec1: the signer's only); eid-verify"
echo "            also checks the XAdES properties.  Close, but not identical work."
echo

# --- per size ------------------------------------------------------------------
DONE=()
for S in "${SIZES[@]}"; do
    rm -f -- "$IN" "$TMPL" "$OUT" "$XOUT"
    bytes=$((S << 20))
    # in.xml, tmpl.xml, eid.xml and xmlsec.xml, plus 64 MiB of headroom.
    need=$((4 * bytes + (64 << 20)))
    avail=$(df -P -B1 "$DIR" | awk 'NR == 2 { print $4 }')
    if [ "$avail" -lt "$need" ]; then
        say "skipping $S MiB: it needs about $((need >> 20)) MiB in $DIR, only $((avail >> 20)) MiB free"
        echo "skipped $S MiB: needs about $((need >> 20)) MiB free in $DIR, only $((avail >> 20)) MiB available"
        continue
    fi

    say "$S MiB: generating the XML document"
    python3 "$GEN" big "$IN" "$TMPL" "$S" || die "generating the $S MiB XML document failed"
    SIZE_IN[$S]=$(stat -c %s "$IN")

    # Untimed first run of every tool under /usr/bin/time: smoke test and
    # peak RSS.
    say "$S MiB: peak RSS runs and checks"
    for op in eid_sign xs_sign eid_verify xs_verify; do
        run_op "$op" rss
        RSS[$S,$op]=$RSS_KB
    done
    SIZE_OUT[$S]=$(stat -c %s "$OUT")
    SIZE_XOUT[$S]=$(stat -c %s "$XOUT")

    # Cross-check (untimed): xmlsec1 checks eid's XAdES, both References.
    # shellcheck disable=SC2086
    xmlsec1 --verify --trusted-pem "$ROOT" --untrusted-pem "$INT" $XS_ID_ATTR "$OUT" \
        >"$LOG/cross.log" 2>&1 || run_failed "xmlsec1 --verify of eid-sign's XAdES" "$LOG/cross.log"
    check_xs_output "$LOG/cross.log" "xmlsec1 --verify of eid-sign's XAdES"
    grep -q '^SignedInfo References (ok/all): 2/2$' "$LOG/cross.log" ||
        run_failed "xmlsec1 --verify of eid-sign's XAdES (not 2/2 References)" "$LOG/cross.log"

    say "$S MiB: sign, $RUNS rounds of eid-sign / xmlsec1 --sign"
    bench "sign,$S" eid_sign xs_sign
    say "$S MiB: verify, $RUNS rounds of eid-verify / xmlsec1 --verify"
    bench "verify,$S" eid_verify xs_verify

    # Both verifiers must really digest the document: one changed digit in
    # the middle must fail (eid-verify: exit 2, TOTAL-FAILED).
    mid=$((SIZE_IN[$S] / 2))
    flip_qty "$OUT" "$mid"
    rc=0
    "$EID_VERIFY" "$OUT" --trust "$ROOT" >"$LOG/tamper.log" 2>&1 || rc=$?
    [ "$rc" -eq 2 ] || run_failed "eid-verify accepted a changed <Qty> after offset $mid (exit $rc, expected 2)" "$LOG/tamper.log"
    flip_qty "$XOUT" "$mid"
    if xmlsec1 --verify --trusted-pem "$ROOT" --untrusted-pem "$INT" "$XOUT" >"$LOG/tamper-xs.log" 2>&1; then
        run_failed "xmlsec1 accepted a changed <Qty> after offset $mid" "$LOG/tamper-xs.log"
    fi

    check_build
    rm -f -- "$IN" "$TMPL" "$OUT" "$XOUT"
    DONE+=("$S")
done
[ ${#DONE[@]} -gt 0 ] || die "no size was measured"

# --- batch: NFILES small documents ---------------------------------------------
BATCH=0
if [ "$NFILES" -gt 0 ]; then
    mkdir -p "$SMALL"
    say "batch: generating $NFILES small documents"
    python3 "$GEN" small "$SMALL" "$NFILES" || die "generating the small documents failed"
    SMALL_BYTES=$(cat "$SMALL"/in-*.xml | wc -c)

    # Signing them is set-up, one process per file for both tools; each loop
    # is timed once (one run, not a median) as an extra figure.
    say "batch: signing them with eid-sign and with xmlsec1 (one process per file)"
    now; t0=$NOW
    for ((k = 1; k <= NFILES; k++)); do
        printf -v n %04d "$k"
        "$EID_SIGN" --pkcs12 "$P12" --pass pass:test -f xades --packaging enveloped \
            "$SMALL/in-$n.xml" -o "$SMALL/eid-$n.xml" >"$LOG/batch-sign.log" 2>&1 ||
            run_failed "eid-sign of $SMALL/in-$n.xml" "$LOG/batch-sign.log"
        SIG_EID+=("$SMALL/eid-$n.xml")
    done
    now; BATCH_SIGN_EID=$((NOW - t0))
    now; t0=$NOW
    for ((k = 1; k <= NFILES; k++)); do
        printf -v n %04d "$k"
        xmlsec1 --sign --privkey-pem "$KEYCERT" --output "$SMALL/xmlsec-$n.xml" \
            "$SMALL/tmpl-$n.xml" >"$LOG/batch-sign.log" 2>&1 ||
            run_failed "xmlsec1 --sign of $SMALL/tmpl-$n.xml" "$LOG/batch-sign.log"
        SIG_XS+=("$SMALL/xmlsec-$n.xml")
    done
    now; BATCH_SIGN_XS=$((NOW - t0))
    check_build
    SMALL_EID_BYTES=$(cat "${SIG_EID[@]}" | wc -c)
    SMALL_XS_BYTES=$(cat "${SIG_XS[@]}" | wc -c)

    # Cross-check (untimed) on the first document.
    # shellcheck disable=SC2086
    xmlsec1 --verify --trusted-pem "$ROOT" --untrusted-pem "$INT" $XS_ID_ATTR "${SIG_EID[0]}" \
        >"$LOG/cross.log" 2>&1 || run_failed "xmlsec1 --verify of a small eid-sign XAdES" "$LOG/cross.log"
    check_xs_output "$LOG/cross.log" "xmlsec1 --verify of a small eid-sign XAdES"

    say "batch: peak RSS runs"
    for op in batch_eid_one batch_eid_each_rss batch_xs_each_rss; do
        run_op "$op" rss
        RSS[batch,$op]=$RSS_KB
    done
    say "batch: verify, $RUNS rounds of eid-verify (1 process) / eid-verify ($NFILES processes) / xmlsec1 ($NFILES processes)"
    bench batch batch_eid_one batch_eid_each batch_xs_each

    # One bad file among them must turn the one-process run's status into 2.
    flip_qty "${SIG_EID[NFILES / 2]}" 0
    rc=0
    "$EID_VERIFY" --trust "$ROOT" -q "${SIG_EID[@]}" >"$LOG/tamper.log" 2>&1 || rc=$?
    [ "$rc" -eq 2 ] || run_failed "eid-verify of $NFILES files with one changed (exit $rc, expected 2)" "$LOG/tamper.log"
    flip_qty "${SIG_EID[NFILES / 2]}" 0
    check_build
    BATCH=1
fi

# --- report ------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
per_doc() { awk -v k="$1" -v b="$2" 'BEGIN { printf "%.1f", k * 1024 / b }'; }  # RSS KiB, doc bytes

row() { printf '%-6s | %6s | %9s | %10s | %5s | %7s | %11s | %7s | %11s\n' "$@"; }
echo
row case size "eid ms" "xmlsec1 ms" ratio "eid RSS" "xmlsec1 RSS" "eid x" "xmlsec1 x"
echo "-------+--------+-----------+------------+-------+---------+-------------+---------+------------"
for phase in sign verify; do
    if [ $phase = sign ]; then e=eid_sign x=xs_sign; else e=eid_verify x=xs_verify; fi
    for S in "${DONE[@]}"; do
        row "$phase" "$S MiB" "$(ms "${MED[$phase,$S,$e]}")" "$(ms "${MED[$phase,$S,$x]}")" \
            "$(ratio "${MED[$phase,$S,$e]}" "${MED[$phase,$S,$x]}")" \
            "$(mb "${RSS[$S,$e]}")" "$(mb "${RSS[$S,$x]}")" \
            "$(per_doc "${RSS[$S,$e]}" "${SIZE_IN[$S]}")" "$(per_doc "${RSS[$S,$x]}" "${SIZE_IN[$S]}")"
    done
done
echo
echo "ms: median of $RUNS wall-clock runs, each after 'cat FILE >/dev/null'.  ratio: eid / xmlsec1"
echo "(below 1.00 eid is faster).  RSS: peak RSS in MiB, one extra untimed run under"
echo "/usr/bin/time -f %M.  x: peak RSS / size of the document (in.xml)."
echo "sign: eid-sign reads in.xml, xmlsec1 the same document with its signature template."
echo "verify: each tool checks its own signature (eid: XAdES B-B; xmlsec1: XML-DSig)."

first=${DONE[0]} last=${DONE[${#DONE[@]} - 1]}
declare -A GROWTH
if [ "$first" != "$last" ]; then
    echo
    echo "Memory per MiB of document, from $first MiB to $last MiB: (RSS($last) - RSS($first)) / (size($last) - size($first))"
    dbytes=$((SIZE_IN[$last] - SIZE_IN[$first]))
    for op in eid_sign xs_sign eid_verify xs_verify; do
        GROWTH[$op]=$(awk -v a="${RSS[$first,$op]}" -v b="${RSS[$last,$op]}" -v d="$dbytes" \
            'BEGIN { printf "%.2f", (b - a) * 1024 / d }')
        case $op in
            eid_sign) name=eid-sign ;; xs_sign) name="xmlsec1 --sign" ;;
            eid_verify) name=eid-verify ;; xs_verify) name="xmlsec1 --verify" ;;
        esac
        printf '  %-17s %5s MiB of RSS per MiB of document\n' "$name" "${GROWTH[$op]}"
    done
fi

if [ "$BATCH" = 1 ]; then
    brow() { printf '%-38s | %9s | %7s | %7s\n' "$@"; }
    echo
    echo "Batch: verifying $NFILES small signed documents (inputs $((SMALL_BYTES / NFILES)) bytes on average;"
    echo "signed by eid-sign $((SMALL_EID_BYTES / NFILES)) bytes, by xmlsec1 $((SMALL_XS_BYTES / NFILES)) bytes)"
    echo
    brow "" "total ms" "ms/file" "RSS MiB"
    echo "---------------------------------------+-----------+---------+--------"
    brow "eid-verify, 1 process, $NFILES files" "$(ms "${MED[batch,batch_eid_one]}")" \
        "$(awk -v u="${MED[batch,batch_eid_one]}" -v n="$NFILES" 'BEGIN { printf "%.2f", u / n / 1000 }')" \
        "$(mb "${RSS[batch,batch_eid_one]}")"
    brow "eid-verify, $NFILES processes" "$(ms "${MED[batch,batch_eid_each]}")" \
        "$(awk -v u="${MED[batch,batch_eid_each]}" -v n="$NFILES" 'BEGIN { printf "%.2f", u / n / 1000 }')" \
        "$(mb "${RSS[batch,batch_eid_each_rss]}")"
    brow "xmlsec1 --verify, $NFILES processes" "$(ms "${MED[batch,batch_xs_each]}")" \
        "$(awk -v u="${MED[batch,batch_xs_each]}" -v n="$NFILES" 'BEGIN { printf "%.2f", u / n / 1000 }')" \
        "$(mb "${RSS[batch,batch_xs_each_rss]}")"
    echo
    printf '  %-40s %s\n' \
        "eid 1 process / xmlsec1:" "$(ratio "${MED[batch,batch_eid_one]}" "${MED[batch,batch_xs_each]}")" \
        "eid $NFILES processes / xmlsec1:" "$(ratio "${MED[batch,batch_eid_each]}" "${MED[batch,batch_xs_each]}")" \
        "eid 1 process / eid $NFILES processes:" "$(ratio "${MED[batch,batch_eid_one]}" "${MED[batch,batch_eid_each]}")"
    echo
    echo "  total ms: median of $RUNS runs of the whole batch (the per-file loops are a bash loop,"
    echo "  one process per file, stopping at the first failure).  RSS: the 1-process run over all"
    echo "  $NFILES files, and for the loops one process on the first file."
    echo "  Signing the $NFILES documents (set-up, one process per file, ONE run, not a median):"
    echo "  eid-sign $(ms "$BATCH_SIGN_EID") ms ($(awk -v u="$BATCH_SIGN_EID" -v n="$NFILES" 'BEGIN { printf "%.2f", u / n / 1000 }') ms/file),"\
         "xmlsec1 --sign $(ms "$BATCH_SIGN_XS") ms ($(awk -v u="$BATCH_SIGN_XS" -v n="$NFILES" 'BEGIN { printf "%.2f", u / n / 1000 }') ms/file),"\
         "ratio $(ratio "$BATCH_SIGN_EID" "$BATCH_SIGN_XS")"
fi

echo
echo "Raw runs (ms):"
for S in "${DONE[@]}"; do
    for key in "sign,$S,eid_sign" "sign,$S,xs_sign" "verify,$S,eid_verify" "verify,$S,xs_verify"; do
        printf '  %-6s %5s MiB %-11s %s\n' "${key%%,*}" "$S" "${key##*,}" "${RAW[$key]}"
    done
done
if [ "$BATCH" = 1 ]; then
    for op in batch_eid_one batch_eid_each batch_xs_each; do
        printf '  batch  %5s     %-15s %s\n' "$NFILES" "$op" "${RAW[batch,$op]}"
    done
fi
echo
echo "Files (bytes):"
for S in "${DONE[@]}"; do
    printf '  %5s MiB: in.xml %s, signed by eid-sign %s, by xmlsec1 %s\n' \
        "$S" "${SIZE_IN[$S]}" "${SIZE_OUT[$S]}" "${SIZE_XOUT[$S]}"
done

# --- goals ---------------------------------------------------------------------
verdict() {  # ok? text
    if [ "$1" = 1 ]; then printf '  met:     %s\n' "$2"; else printf '  NOT met: %s\n' "$2"; fi
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' && echo 1 || echo 0; }
echo
echo "Goals:"
for S in "${DONE[@]}"; do
    r=$(ratio "${MED[sign,$S,eid_sign]}" "${MED[sign,$S,xs_sign]}")
    verdict "$(le "$r" "$GOAL_SIGN_XMLSEC")" "sign $S MiB: eid-sign / xmlsec1 --sign = $r (goal <= $GOAL_SIGN_XMLSEC)"
done
for S in "${DONE[@]}"; do
    r=$(ratio "${MED[verify,$S,eid_verify]}" "${MED[verify,$S,xs_verify]}")
    verdict "$(le "$r" "$GOAL_VERIFY_XMLSEC")" "verify $S MiB: eid-verify / xmlsec1 --verify = $r (goal <= $GOAL_VERIFY_XMLSEC)"
done
if [ "$BATCH" = 1 ]; then
    r=$(ratio "${MED[batch,batch_eid_one]}" "${MED[batch,batch_xs_each]}")
    verdict "$(le "$r" "$GOAL_VERIFY_XMLSEC")" "verify $NFILES small files: eid-verify (1 process) / xmlsec1 (per file) = $r (goal <= $GOAL_VERIFY_XMLSEC)"
    r=$(ratio "${MED[batch,batch_eid_each]}" "${MED[batch,batch_xs_each]}")
    verdict "$(le "$r" "$GOAL_VERIFY_XMLSEC")" "verify $NFILES small files: eid-verify (per file) / xmlsec1 (per file) = $r (goal <= $GOAL_VERIFY_XMLSEC)"
fi
if [ "$first" != "$last" ]; then
    for op in eid_sign eid_verify; do
        verdict "$(le "${GROWTH[$op]}" "$GOAL_RSS_PER_MIB")" \
            "${op/_/-} memory bounded by the document: ${GROWTH[$op]} MiB of RSS per MiB (goal <= $GOAL_RSS_PER_MIB); $(per_doc "${RSS[$last,$op]}" "${SIZE_IN[$last]}") x the document at $last MiB"
    done
else
    echo "  (memory per MiB of document needs two sizes: not judged)"
fi
echo
echo "Checks: every eid-verify run returned 0 (TOTAL-PASSED) and every xmlsec1 --verify run"
echo "succeeded; xmlsec1 verified eid-sign's XAdES at every size (2/2 References, with"
echo "--id-attr:Id for SignedProperties); one changed digit in the middle of each big signed"
echo "file made eid-verify return 2 (TOTAL-FAILED) and xmlsec1 fail$([ "$BATCH" = 1 ] && echo "; one changed file among
the $NFILES made the one-process eid-verify return 2")."
