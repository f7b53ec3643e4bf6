#!/usr/bin/env bash
# make-corpus.sh OUTDIR
#
# Build the PAdES test corpus: input PDFs from several producers (LibreOffice,
# qpdf, cairo and hand-built ones from pdfgen.py) with the xref layouts a PDF
# signer has to cope with.  See README.md next to this script.
#
# If OUTDIR/.complete exists the script exits 0 immediately.  It prints
# nothing on success; tool output goes to OUTDIR/make-corpus.log.
# EID_CORPUS_BIG=1 also builds big.pdf (100 MiB attachment).
#
# Needs: bash, python3 (stdlib), qpdf, poppler-utils (pdfinfo, pdftocairo)
# and LibreOffice Writer (Debian: libreoffice-writer-nogui).

set -Eeuo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PDFGEN=$HERE/pdfgen.py

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

if [ $# -ne 1 ]; then
    printf 'usage: %s OUTDIR\n' "$PROG" >&2
    exit 2
fi
OUTDIR=$1

if [ -e "$OUTDIR/.complete" ]; then
    exit 0
fi

for tool in python3 qpdf pdfinfo pdftocairo; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found in PATH (packages: python3 qpdf poppler-utils)"
done
SOFFICE=${SOFFICE:-$(command -v soffice || command -v libreoffice || true)}
[ -n "$SOFFICE" ] ||
    die "soffice not found in PATH (apt-get install --no-install-recommends libreoffice-writer-nogui)"
[ -f "$PDFGEN" ] || die "$PDFGEN is missing"

MARKER=.make-corpus-in-progress
if [ -d "$OUTDIR" ] && [ -n "$(ls -A "$OUTDIR")" ]; then
    # Only wipe directories that an interrupted run of this script left.
    if [ -e "$OUTDIR/$MARKER" ]; then
        rm -rf -- "$OUTDIR"
    else
        die "$OUTDIR exists, is not empty and was not created by $PROG; refusing to touch it"
    fi
fi
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd -P)
: >"$OUTDIR/$MARKER"

LOG=$OUTDIR/make-corpus.log
: >"$LOG"
WORK=$OUTDIR/work
mkdir -p "$WORK"

SOFFICE_PGID=
cleanup() {
    if [ -n "$SOFFICE_PGID" ]; then
        kill -KILL -- "-$SOFFICE_PGID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

fail() {
    printf '%s: error: %s\n' "$PROG" "$1" >&2
    if [ -s "$LOG" ]; then
        printf '%s: last lines of %s:\n' "$PROG" "$LOG" >&2
        tail -n 15 "$LOG" | sed 's/^/    /' >&2
    fi
    exit 1
}
trap 'fail "command failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

# run CMD...: log the command and its output; fail with a message on error.
run() {
    printf '+ %s\n' "$*" >>"$LOG"
    "$@" >>"$LOG" 2>&1 || fail "$1 failed (exit $?): $*"
}

cd "$OUTDIR"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1704164645}
export TZ=UTC LC_ALL=C.UTF-8

# ---------------------------------------------------------------------------
# LibreOffice: lo-writer.pdf and form.pdf from flat ODT sources
# ---------------------------------------------------------------------------
run python3 "$PDFGEN" fodt "$WORK"
mkdir -p "$WORK/home" "$WORK/lo"
printf '+ %s\n' "soffice --headless --convert-to pdf lo-writer.fodt form.fodt" >>"$LOG"
# Own session/process group (setsid), a private profile and HOME, a time
# limit, and afterwards the whole group is killed so that no soffice.bin
# survives the script.
HOME=$WORK/home setsid timeout -k 5 120 "$SOFFICE" --headless --invisible --norestore \
    --nologo --nodefault --nolockcheck \
    "-env:UserInstallation=file://$WORK/lo-profile" \
    --convert-to pdf:writer_pdf_Export --outdir "$WORK/lo" \
    "$WORK/lo-writer.fodt" "$WORK/form.fodt" </dev/null >>"$LOG" 2>&1 &
SOFFICE_PGID=$!
rc=0
wait "$SOFFICE_PGID" || rc=$?
kill -KILL -- "-$SOFFICE_PGID" 2>/dev/null || true
SOFFICE_PGID=
[ "$rc" -eq 0 ] || fail "soffice failed (exit $rc; 124 = timed out)"
for f in lo-writer form; do
    [ -s "$WORK/lo/$f.pdf" ] || fail "soffice did not produce $f.pdf"
    mv "$WORK/lo/$f.pdf" "$OUTDIR/$f.pdf"
    # LibreOffice stamps the current time and a random /ID; pin them.
    run python3 "$PDFGEN" pin "$OUTDIR/$f.pdf"
done
LO_PRODUCER=$(pdfinfo lo-writer.pdf 2>/dev/null | sed -n 's/^Producer: *//p')
QPDF_VERSION=$(qpdf --version | sed -n '1s/^qpdf version //p')

# ---------------------------------------------------------------------------
# Hand-built and derived files
# ---------------------------------------------------------------------------
run python3 "$PDFGEN" classic classic-1.3.pdf
run qpdf --deterministic-id --object-streams=generate lo-writer.pdf objstm.pdf
run qpdf --deterministic-id --linearize lo-writer.pdf linearized.pdf
run python3 "$PDFGEN" incremental classic-1.3.pdf incremental.pdf
run python3 "$PDFGEN" xrefstm-update objstm.pdf xref-stream-incremental.pdf
run python3 "$PDFGEN" hybrid hybrid.pdf
run python3 "$PDFGEN" sigfields sigfields.pdf
run python3 "$PDFGEN" broken-xref classic-1.3.pdf broken-xref.pdf
run pdftocairo -pdf lo-writer.pdf cairo.pdf
run python3 "$PDFGEN" pin cairo.pdf
CAIRO_PRODUCER=$(pdfinfo cairo.pdf 2>/dev/null | sed -n 's/^Producer: *\(cairo [0-9.]*\).*/\1/p')

LABELS=(
    "lo-writer.pdf=$LO_PRODUCER (soffice --convert-to pdf of a .fodt)"
    "form.pdf=$LO_PRODUCER (soffice --convert-to pdf of a .fodt with form controls)"
    "classic-1.3.pdf=pdfgen.py classic"
    "objstm.pdf=qpdf $QPDF_VERSION --deterministic-id --object-streams=generate of lo-writer.pdf"
    "linearized.pdf=qpdf $QPDF_VERSION --deterministic-id --linearize of lo-writer.pdf"
    "incremental.pdf=pdfgen.py: classic-1.3.pdf + 2 classic incremental updates"
    "xref-stream-incremental.pdf=pdfgen.py: objstm.pdf + 1 xref-stream incremental update"
    "hybrid.pdf=pdfgen.py hybrid (classic table + /XRefStm)"
    "sigfields.pdf=pdfgen.py sigfields (two empty signature fields)"
    "cairo.pdf=$CAIRO_PRODUCER (pdftocairo -pdf of lo-writer.pdf)"
    "broken-xref.pdf=pdfgen.py: classic-1.3.pdf with startxref +7"
)
if [ "${EID_CORPUS_BIG:-0}" = 1 ]; then
    run python3 "$PDFGEN" big big.pdf 100
    LABELS+=("big.pdf=pdfgen.py big (100 MiB attachment)")
fi

# ---------------------------------------------------------------------------
# Checks: qpdf --check exit 0 and a silent pdfinfo for every good file;
# broken-xref.pdf must need recovery (qpdf warns) but still open.
# ---------------------------------------------------------------------------
for spec in "${LABELS[@]}"; do
    f=${spec%%=*}
    printf '+ qpdf --check %s; pdfinfo %s\n' "$f" "$f" >>"$LOG"
    qrc=0
    qpdf --check "$f" >>"$LOG" 2>&1 || qrc=$?
    prc=0
    perr=$(pdfinfo "$f" 2>&1 >/dev/null) || prc=$?
    [ -z "$perr" ] || printf '%s\n' "$perr" >>"$LOG"
    if [ "$f" = broken-xref.pdf ]; then
        [ "$qrc" -ne 0 ] || fail "qpdf --check accepted $f without warnings; it should be damaged"
        [ "$prc" -eq 0 ] || fail "pdfinfo could not recover $f (exit $prc)"
    else
        [ "$qrc" -eq 0 ] || fail "qpdf --check $f failed (exit $qrc)"
        [ "$prc" -eq 0 ] || fail "pdfinfo $f failed (exit $prc)"
        [ -z "$perr" ] || fail "pdfinfo $f printed errors: $perr"
    fi
done
[ "$(pdfinfo form.pdf | sed -n 's/^Form: *//p')" = AcroForm ] || fail "form.pdf has no AcroForm"
[ "$(pdfinfo linearized.pdf | sed -n 's/^Optimized: *//p')" = yes ] || fail "linearized.pdf is not linearized"

python3 "$PDFGEN" manifest "$OUTDIR" "${LABELS[@]}" >"$OUTDIR/MANIFEST.txt" 2>>"$LOG" ||
    fail "writing MANIFEST.txt failed"

rm -rf -- "$WORK"
rm -f -- "$OUTDIR/$MARKER"
trap - ERR
date -u +%Y-%m-%dT%H:%M:%SZ >"$OUTDIR/.complete"
