# Shared helpers for the shell tests.  Source it; it sets -eu and a scratch dir.
set -euo pipefail
: "${EID_TEST_PKI:?run through make check}"
PKI=$EID_TEST_PKI
MOD=$EID_TEST_P11_MODULE
PIN=123456
SIGN=$EID_TEST_BIN/eid-sign
VERIFY=$EID_TEST_BIN/eid-verify
T=$(mktemp -d "$EID_TEST_TMP/$(basename "$0" .sh).XXXXXX")
trap 'rm -rf "$T"' EXIT

# A private copy of the SoftHSM2 tokens: SoftHSM rewrites a token's file on
# every failed login, which would race with tests running in parallel.
if [ -n "${EID_TEST_HSM:-}" ] && [ -d "$EID_TEST_HSM/tokens" ]; then
	cp -r "$EID_TEST_HSM/tokens" "$T/tokens"
	sed "s|^directories.tokendir = .*|directories.tokendir = $T/tokens|" "$EID_TEST_HSM/softhsm2.conf" > "$T/softhsm2.conf"
	export SOFTHSM2_CONF=$T/softhsm2.conf
fi
printf 'The quick brown fox jumps over the lazy dog.\n' > "$T/doc.txt"
npass=0
nfail=0

ok() { npass=$((npass + 1)); echo "ok $npass - $*"; }
not_ok() { nfail=$((nfail + 1)); echo "not ok - $*"; }

# expect_status WANT DESC CMD...: run CMD (output to $T/out, $T/err), check its exit status.
expect_status() {
	local want=$1 desc=$2 got=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || got=$?
	if [ "$got" = "$want" ]; then ok "$desc"; else
		not_ok "$desc: exit $got, want $want"; sed 's/^/  | /' "$T/err" "$T/out" | head -20
	fi
}

# expect_grep PATTERN FILE DESC
expect_grep() {
	if grep -qE -- "$1" "$2"; then ok "$3"; else not_ok "$3: /$1/ not in $(basename "$2")"; sed 's/^/  | /' "$2" | head -20; fi
}

expect_no_file() {
	if [ -e "$1" ]; then not_ok "$2: $1 exists"; else ok "$2"; fi
}

# ink PDF PAGE X Y W H: the number of dark pixels in a box of a page, rendered at 72 dpi.
ink() {
	local H top
	H=$(pdfinfo -f "$2" -l "$2" "$1" | sed -n "s/^Page *$2 size: *[0-9.]* x \([0-9.]*\).*/\1/p")
	top=$(python3 -c "print(int($H - $4 - $6))")
	pdftoppm -f "$2" -l "$2" -r 72 -x "$3" -y "$top" -W "$5" -H "$6" -gray "$1" > "$T/box.pgm"
	python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); h=d.split(b"\n",3); print(sum(1 for b in h[3] if b < 200))' "$T/box.pgm"
}

p11sign() { "$SIGN" --module "$MOD" --token libeid-test "$@"; }

# pki_servers: a test PKI of our own in $T/pki whose URLs point at our own
# loopback server (TSA, OCSP, CRLs), started for this script and stopped on
# exit.  Sets P (the PKI), TSA and BASE (the server's URLs).
pki_servers() {
	local here=$EID_TEST_SRCDIR/tests/pki port
	export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
	port=$(bash "$here/servers.sh" free-port)
	bash "$here/make-pki.sh" "$T/pki" "http://127.0.0.1:$port"
	P=$T/pki
	trap 'bash "'"$here"'/servers.sh" stop "$T/srv" >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
	eval "$(bash "$here/servers.sh" start "$T/srv" "$P")"
	TSA=$EID_TEST_TSA_URL
	BASE=$EID_TEST_PKI_URL
}

finish() {
	echo "$npass passed, $nfail failed"
	[ "$nfail" = 0 ]
}
