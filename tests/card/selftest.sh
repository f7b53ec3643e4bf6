#!/usr/bin/env bash
# selftest.sh: the emulated cards, end to end through pcscd, vpcd and OpenSC.
#
# Builds a test PKI and the cards in a temporary directory, starts a private
# pcscd (pcsc.sh), inserts each card and checks it with opensc-tool,
# pkcs11-tool (OpenSC's PKCS#11 module), raw APDUs through libpcsclite and
# openssl.  Prints "ok N - ..." / "not ok - ..." lines and "N passed, M
# failed"; exits non-zero on any failure.  Needs root (namespaces).
#
# Environment: KEEP=1 keeps the temporary directory; OPENSC_PKCS11 overrides
# the module path.

set -uo pipefail
export PYTHONDONTWRITEBYTECODE=1

HERE=$(cd "$(dirname "$0")" && pwd -P)
TOP=$(cd "$HERE/../.." && pwd -P)
PYTHON=/usr/bin/python3
MOD=${OPENSC_PKCS11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
PCSC=$HERE/pcsc.sh
IO="$PYTHON $HERE/pcscio.py"
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v pcscd >/dev/null; then
	echo "SKIP: needs root, unshare and pcscd"
	exit 77
fi

T=$(mktemp -d /tmp/cardtest.XXXXXX)
cleanup() {
	"$PCSC" stop "$T/pcsc" >/dev/null 2>&1
	"$PCSC" stop "$T/pcsc2" >/dev/null 2>&1
	if [ "${KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

npass=0
nfail=0
ok() { npass=$((npass + 1)); echo "ok $npass - $*"; }
not_ok() { nfail=$((nfail + 1)); echo "not ok - $*"; }
show() { sed 's/^/  | /' "$@" | head -25; }

# run DESC CMD...: expect exit 0 (output in $T/out).
run() {
	local desc=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok "$desc"; else not_ok "$desc (exit $?)"; show "$T/out"; fi
}
# fails DESC CMD...: expect a non-zero exit.
fails() {
	local desc=$1
	shift
	if "$@" >"$T/out" 2>&1; then not_ok "$desc (unexpected success)"; show "$T/out"; else ok "$desc"; fi
}
# is_true DESC CMD...: a test command, no output to show.
is_true() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}
# grep_out PATTERN DESC: in the last command's output.
grep_out() {
	if grep -qE -- "$1" "$T/out"; then ok "$2"; else not_ok "$2: /$1/ not found"; show "$T/out"; fi
}
# apdu_sw DESC APDU... EXPECTED_SW: the last APDU's answer ends with SW.
apdu_sw() {
	local desc=$1 want=${*: -1} got
	local apdus=("${@:2:$(($# - 2))}")
	$IO "$([ "${RAW:-0}" = 1 ] && echo apdu || echo send)" 0 "${apdus[@]}" >"$T/out" 2>&1
	got=$(tail -n 1 "$T/out" | sed 's/.* -> //')
	case $got in
	*"$want") ok "$desc" ;;
	*) not_ok "$desc: got ${got:-nothing}, want ...$want"; show "$T/out" ;;
	esac
}
# resp APDU...: the data of the last answer (hex, SW removed).
resp() { $IO send 0 "$@" 2>/dev/null | tail -n 1 | sed 's/.* -> //; s/....$//'; }
opensc() { opensc-tool -r 0 "$@"; }
p11() { pkcs11-tool --module "$MOD" "$@"; }
insert() { "$PCSC" insert "$T/pcsc" "$CARDS/$1" 0 >"$T/out" 2>&1 || { not_ok "insert $1"; show "$T/out"; }; }
remove() { "$PCSC" remove "$T/pcsc" 0 >"$T/out" 2>&1 || { not_ok "remove"; show "$T/out"; }; }
hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n' | tr a-f A-F; }

# Small helpers in Python (standard library + cryptography).
cat >"$T/h.py" <<'EOF'
import sys, hashlib
from cryptography.hazmat.primitives.asymmetric import utils
cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "rs2der":              # raw r||s (hex or file) -> DER file
    raw = bytes.fromhex(args[0])
    n = len(raw) // 2
    der = utils.encode_dss_signature(int.from_bytes(raw[:n], "big"), int.from_bytes(raw[n:], "big"))
    open(args[1], "wb").write(der)
elif cmd == "dertrim":           # DER signature followed by zero padding -> DER only
    d = open(args[0], "rb").read()
    open(args[1], "wb").write(d[:d[1] + 2])
elif cmd == "addrdata":          # address file without trailing zeros || identity signature
    a = open(args[0], "rb").read().rstrip(b"\0")
    open(args[2], "wb").write(a + open(args[1], "rb").read())
elif cmd == "tag":               # value of a Belgian TLV tag, hex
    d, want, i = open(args[0], "rb").read(), int(args[1], 16), 0
    while i + 1 < len(d):
        tag, i, n = d[i], i + 1, 0
        while d[i] == 0xFF:
            n, i = n + 255, i + 1
        n, i = n + d[i], i + 1
        if tag == want:
            print(d[i:i + n].hex().upper())
            break
        i += n
elif cmd == "hash":              # hex digest of a file
    print(hashlib.new(args[0], open(args[1], "rb").read()).hexdigest().upper())
elif cmd == "pad12":             # EstEID PIN block: ASCII padded with FF to 12 bytes
    print((args[0].encode().hex() + "FF" * (12 - len(args[0]))).upper())
elif cmd == "minipdf":           # a one-page PDF with a correct xref table
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    out, offs = bytearray(b"%PDF-1.7\n"), []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    open(args[0], "wb").write(out)
elif cmd == "bcd":               # Belpic PIN block (format 2)
    print(("2%X%s" % (len(args[0]), args[0])).ljust(16, "F"))
EOF
h() { "$PYTHON" "$T/h.py" "$@"; }

echo "# work directory $T"

# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------
t0=$(date +%s.%N)
run "make-pki.sh builds the test PKI" bash "$TOP/tests/pki/make-pki.sh" "$T/pki"
t1=$(date +%s.%N)
run "mkcards.sh builds the cards" bash "$HERE/mkcards.sh" "$T/cards" "$T/pki"
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {printf "# make-pki %.1f s, mkcards %.1f s\n", b - a, c - b}'
CARDS=$T/cards
run "mkcards.sh is idempotent (.complete)" bash "$HERE/mkcards.sh" "$T/cards" "$T/pki"
for c in esteid-2018 esteid-2018-blocked-pin belpic-1.7 belpic-1.7-sha1 belpic-1.7-tampered \
	belpic-1.8 belpic-1.8-tampered belpic-1.8-blocked-pin pkcs15 unknown; do
	[ -f "$CARDS/$c/card.json" ] || not_ok "card directory $c missing"
done
run "the BE photo is a JPEG a decoder accepts" gdk-pixbuf-thumbnailer -s 64 "$CARDS/belpic-1.8/files/4035-photo.jpg" "$T/photo.png"
run "the card certificates chain to the test root" openssl verify -CAfile "$T/pki/root.crt" -untrusted "$T/pki/int.crt" \
	"$CARDS/esteid-2018/sign.crt" "$CARDS/belpic-1.7/auth.crt" "$CARDS/belpic-1.8/sign.crt"
run "the card certificates are in the intermediate's CA database" \
	grep -q "$(openssl x509 -in "$CARDS/esteid-2018/sign.crt" -noout -serial | cut -d= -f2)" "$T/pki/int-ca/index.txt"

# A private OpenSC configuration: no file cache; the default driver enabled
# so that the generic PKCS#15 card (unknown ATR) reaches the PKCS#15 layer.
cat >"$T/opensc.conf" <<'EOF'
app default {
	enable_default_driver = true;
	framework pkcs15 {
		use_file_caching = no;
	}
}
EOF
export OPENSC_CONF=$T/opensc.conf

# ---------------------------------------------------------------------------
# pcscd
# ---------------------------------------------------------------------------
run "pcsc.sh start" "$PCSC" start "$T/pcsc"
grep_out "^export PCSCLITE_CSOCK_NAME=$T/pcsc/run/pcscd.comm$" "pcsc.sh prints the export line"
export PCSCLITE_CSOCK_NAME=$T/pcsc/run/pcscd.comm
run "opensc-tool -l lists the readers" opensc-tool -l
grep_out '0 +No +Virtual PCD 00 00' "reader 0 is empty"
grep_out '1 +No +Virtual PCD 00 01' "reader 1 is empty"
if ss -ltn 2>/dev/null | grep -q ':35963 '; then
	not_ok "vpcd's port is not reachable from the host network namespace"
else
	ok "vpcd's port is not reachable from the host network namespace"
fi

# ---------------------------------------------------------------------------
# Estonian ID card
# ---------------------------------------------------------------------------
EE_AID=A000000077010800070000FE00000100
EE_QSCD=51534344204170706C69636174696F6E
insert esteid-2018
run "esteid-2018: opensc-tool -l sees the card" opensc-tool -l
grep_out '0 +Yes +Virtual PCD 00 00' "esteid-2018: reader 0 has a card"
run "esteid-2018: opensc-tool -a" opensc -a
grep_out '^3b:db:96:00:80:b1:fe:45:1f:83:00:12:23:3f:53:65:49:44:0f:90:00:f1$' "esteid-2018: ATR"
run "esteid-2018: opensc-tool -n" opensc -n
grep_out '^EstEID 2018$' "esteid-2018: OpenSC's esteid2018 driver takes the card"
run "esteid-2018: opensc-tool -s SELECT/READ BINARY (surname)" opensc -c default \
	-s 00A4040C10$EE_AID -s 00A4000C -s 00A4010C025000 -s 00A4020C025001 -s 00B0000000
grep_out "$(hexof 'ØSTER-ŁUKASZ' | sed 's/../& /g; s/ $//')" "esteid-2018: 5001 holds the surname in UTF-8"
WRONG1=$(h pad12 1111)
run "esteid-2018: opensc-tool -s VERIFY wrong PIN1" opensc -c default -s 00A4040C10$EE_AID -s 002000010C"$WRONG1"
grep_out 'SW1=0x63, SW2=0xC2' "esteid-2018: wrong PIN1 -> 63C2"
apdu_sw "esteid-2018: GET DATA PIN info shows 2 tries" 00A4040C10$EE_AID 00CB3FFF0A4D087006BF810102A08000 \
	'9B0102A1108C06F300007343009C06F300007343009000'
apdu_sw "esteid-2018: VERIFY with an empty body is a status query (63C2)" 00A4040C10$EE_AID 0020000100 63C2
apdu_sw "esteid-2018: right PIN1 resets the counter" 00A4040C10$EE_AID 002000010C"$(h pad12 0090)" 9000
apdu_sw "esteid-2018: PIN2 is local to ADF2 (6A88 in the MF)" 00A4040C10$EE_AID 002000850C"$(h pad12 01497)" 6A88
apdu_sw "esteid-2018: unknown AID -> 6A82" 00A4040C05A000000001 6A82
apdu_sw "esteid-2018: unknown INS -> 6D00" 00A4040C10$EE_AID 00EE000000 6D00
apdu_sw "esteid-2018: SELECT with bad P2 -> 6A86" 00A4000C023F00 00A40077023F00 6A86
apdu_sw "esteid-2018: READ BINARY past the end -> 6B00" 00A4000C 00A4020C02D003 00B0100000 6B00
FCP=$(printf '620E8002%04X82010183023401''8A0105' "$(openssl x509 -in "$CARDS/esteid-2018/auth.crt" -outform DER | wc -c)")
apdu_sw "esteid-2018: SELECT P2=04 answers an FCP (size, descriptor, FID)" 00A4000C 00A4010C02ADF1 00A4020402340100 "${FCP}9000"
$IO read 0 00A4040C10$EE_AID 00A4000C 00A4010C025000 00A4020C025006 >"$T/pd6" 2>&1
if [ "$(cat "$T/pd6")" = 38503151239 ]; then ok "esteid-2018: 5006 personal code read through pcscd"; else not_ok "esteid-2018: 5006"; show "$T/pd6"; fi
$IO read 0 00A4040C10$EE_AID 00A4000C 00A4010C02ADF2 00A4020C02341F >"$T/ee-sign.der" 2>&1
if cmp -s "$T/ee-sign.der" <(openssl x509 -in "$CARDS/esteid-2018/sign.crt" -outform DER); then
	ok "esteid-2018: signing certificate read from 3F00/ADF2/341F"
else not_ok "esteid-2018: signing certificate"; fi

run "esteid-2018: pkcs11-tool -L" p11 -L
grep_out 'token label +: .*\(PIN1\)' "esteid-2018: PIN1 token"
grep_out 'token label +: .*\(PIN2\)' "esteid-2018: PIN2 token"
grep_out 'serial num +: AB0012345' "esteid-2018: serial number = document number (3F00/D003)"
run "esteid-2018: pkcs11-tool -O (PIN1 slot)" p11 -O --slot-index 0
grep_out 'label: +Isikutuvastus' "esteid-2018: authentication certificate listed"
run "esteid-2018: pkcs11-tool -O (PIN2 slot)" p11 -O --slot-index 1
grep_out 'label: +Allkirjastamine' "esteid-2018: signing certificate listed"
printf 'libeid emulated card test\n' >"$T/doc.txt"
openssl x509 -in "$CARDS/esteid-2018/sign.crt" -pubkey -noout >"$T/ee-sign.pub"
openssl x509 -in "$CARDS/esteid-2018/auth.crt" -pubkey -noout >"$T/ee-auth.pub"
for md in sha256 sha384; do
	openssl dgst -$md -binary "$T/doc.txt" >"$T/doc.$md"
	rm -f "$T/sig.der"
	run "esteid-2018: pkcs11-tool --sign ECDSA ($md hash) with PIN2" \
		p11 --slot-index 1 --sign --mechanism ECDSA --id 02 --login --pin 01497 \
		--input-file "$T/doc.$md" --output-file "$T/sig.der" --signature-format openssl
	run "esteid-2018: openssl verifies the $md signature with the signing certificate" \
		openssl dgst -$md -verify "$T/ee-sign.pub" -signature "$T/sig.der" "$T/doc.txt"
done
run "esteid-2018: pkcs11-tool --sign with the auth key (INTERNAL AUTHENTICATE, PIN1)" \
	p11 --slot-index 0 --sign --mechanism ECDSA --id 01 --login --pin 0090 \
	--input-file "$T/doc.sha256" --output-file "$T/asig.der" --signature-format openssl
run "esteid-2018: openssl verifies the auth signature" \
	openssl dgst -sha256 -verify "$T/ee-auth.pub" -signature "$T/asig.der" "$T/doc.txt"
fails "esteid-2018: a wrong PIN2 is refused" p11 --slot-index 1 --sign --mechanism ECDSA --id 02 --login --pin 99999 \
	--input-file "$T/doc.sha256" --output-file "$T/sig.der"
grep_out 'CKR_PIN_INCORRECT' "esteid-2018: ... with CKR_PIN_INCORRECT"
apdu_sw "esteid-2018: PIN2 counter is 2 after that" 00A4040C10$EE_QSCD 00CB3FFF0A4D087006BF810502A08000 '9B0102A1108C06F300007343009C06F300007343009000'
SIG_APDUS=("00A4040C10$EE_QSCD" 002000850C"$(h pad12 01497)" 002241B6098004FF15080084019F
	002A9E9A30"$(od -An -tx1 "$T/doc.sha384" | tr -d ' \n')"60)
apdu_sw "esteid-2018: raw VERIFY PIN2 + MSE + PSO CDS" "${SIG_APDUS[@]}" 9000
sig=$(tail -n 1 "$T/out" | sed 's/.* -> //; s/9000$//')
h rs2der "$sig" "$T/raw.der"
run "esteid-2018: PSO CDS answer is raw r||s (96 bytes) that verifies" \
	openssl dgst -sha384 -verify "$T/ee-sign.pub" -signature "$T/raw.der" "$T/doc.txt"
apdu_sw "esteid-2018: a second PSO CDS without VERIFY -> 6982 (PIN2 before every signature)" \
	"${SIG_APDUS[@]:2}" 6982
apdu_sw "esteid-2018: PUK + RESET RETRY COUNTER (2C 02) sets a new PIN2" 00A4040C10$EE_AID \
	002000020C"$(h pad12 17258403)" 00A4040C10$EE_QSCD 002C02850C"$(h pad12 54321)" 9000
apdu_sw "esteid-2018: the new PIN2 works" 00A4040C10$EE_QSCD 002000850C"$(h pad12 54321)" 9000
apdu_sw "esteid-2018: CHANGE REFERENCE DATA back to 01497" 00A4040C10$EE_QSCD \
	0024008518"$(h pad12 54321)$(h pad12 01497)" 9000
apdu_sw "esteid-2018: ... (the old one is refused)" 00A4040C10$EE_QSCD 002000850C"$(h pad12 54321)" 63C2

# Optional: libeid's own tool through OpenSC (EID_SIGN=path/to/eid-sign).
if [ -n "${EID_SIGN:-}" ] && [ -x "$EID_SIGN" ]; then
	label=$(p11 -L 2>/dev/null | sed -n 's/^ *token label *: \(.*(PIN2)\)$/\1/p' | head -n 1)
	h minipdf "$T/doc.pdf"
	run "esteid-2018: eid-sign signs a PDF through OpenSC's PKCS#11 module" "$EID_SIGN" "$T/doc.pdf" \
		-o "$T/signed.pdf" --module "$MOD" --token "$label" --key-id 02 --pin pass:01497
	pdfsig -nocert "$T/signed.pdf" >"$T/out" 2>&1
	grep_out 'Signature is Valid' "esteid-2018: pdfsig: the signature is valid"
else
	echo "# skip eid-sign PAdES check (set EID_SIGN=path/to/eid-sign)"
fi

# Removal and reinsertion (SIGUSR1 / SIGUSR2): the counter survives, the
# security status does not.
apdu_sw "esteid-2018: wrong PIN1 before removal" 00A4040C10$EE_AID 002000010C"$WRONG1" 63C2
apdu_sw "esteid-2018: second wrong PIN1 -> 63C1" 00A4040C10$EE_AID 002000010C"$WRONG1" 63C1
run "pcsc.sh eject (SIGUSR1)" "$PCSC" eject "$T/pcsc" 0
run "opensc-tool -l after eject" opensc-tool -l
grep_out '0 +No +Virtual PCD 00 00' "the card is gone"
run "pkcs11-tool -L with no card" p11 -L
grep_out '\(empty\)' "no token in slot 0"
run "pcsc.sh reinsert (SIGUSR2)" "$PCSC" reinsert "$T/pcsc" 0
apdu_sw "esteid-2018: the PIN1 counter survived the removal" 00A4040C10$EE_AID 0020000100 63C1
apdu_sw "esteid-2018: right PIN1 again" 00A4040C10$EE_AID 002000010C"$(h pad12 0090)" 9000
rm -f "$T/sig.der"
run "esteid-2018: signing again after reinsertion" p11 --slot-index 1 --sign --mechanism ECDSA --id 02 \
	--login --pin 01497 --input-file "$T/doc.sha256" --output-file "$T/sig.der" --signature-format openssl
run "esteid-2018: ... verifies" openssl dgst -sha256 -verify "$T/ee-sign.pub" -signature "$T/sig.der" "$T/doc.txt"

# Pull the card in the middle of a PC/SC session.
cat >"$T/pull.py" <<EOF
import sys, os, signal, time
sys.path.insert(0, "$HERE")
import pcscio
p = pcscio.PCSC()
h, proto = p.connect(p.reader(0))
print(p.transmit(h, proto, bytes.fromhex("00A4000C")).hex())
os.kill(int(open("$T/pcsc/card0.pid").read()), signal.SIGUSR1)
time.sleep(0.6)
try:
    print(p.transmit(h, proto, bytes.fromhex("00B0000010")).hex())
except OSError as e:
    print("error", e)
EOF
"$PYTHON" "$T/pull.py" >"$T/out" 2>&1
grep_out 'error SCardTransmit: 0x80100069|error SCardTransmit: 0x8010' "a transmit after pulling the card mid-session fails (SCARD_W_REMOVED_CARD)"
run "pcsc.sh reinsert after the pull" "$PCSC" reinsert "$T/pcsc" 0
apdu_sw "esteid-2018: back after the pull" 00A4000C 9000

# Time per APDU, through libpcsclite and pcscd (one process, one connection).
$IO apdu 0 --repeat 2000 00A4000C 00A4020C02D003 00B000000B >/dev/null 2>"$T/timing"
echo "# time per APDU (SELECT/READ BINARY round trip via pcscd): $(cat "$T/timing")"
s=$(date +%s%N); p11 -L >/dev/null 2>&1; e=$(date +%s%N)
echo "# pkcs11-tool -L (process start, OpenSC probe, PKCS#15 bind): $(( (e - s) / 1000000 )) ms"
is_true "time per APDU measured" grep -q 'ms per APDU' "$T/timing"
sed -n 's/.*< .*(\([0-9.]*\) ms)$/\1/p' "$T/pcsc/card0.log" | sort -n | awk '{a[NR]=$1} END {if (NR) printf "# emulator time per APDU (median of %d): %.3f ms\n", NR, a[int((NR+1)/2)]}'

if grep -qiE "$(h pad12 0090)|$(h pad12 01497)|$(h pad12 17258403)" "$T/pcsc/card0.log"; then
	not_ok "the emulator's log shows no PIN"
else ok "the emulator's log shows no PIN"; fi
is_true "VERIFY data is masked in the log" grep -q '002000010C <12 bytes masked>' "$T/pcsc/card0.log"
remove

insert esteid-2018-blocked-pin
fails "esteid-2018-blocked-pin: login with PIN2 fails" p11 --slot-index 1 --sign --mechanism ECDSA --id 02 \
	--login --pin 01497 --input-file "$T/doc.sha256" --output-file "$T/sig.der"
grep_out 'CKR_PIN_LOCKED' "esteid-2018-blocked-pin: ... CKR_PIN_LOCKED"
apdu_sw "esteid-2018-blocked-pin: VERIFY PIN2 -> 6983" 00A4040C10$EE_QSCD 002000850C"$(h pad12 01497)" 6983
remove

# ---------------------------------------------------------------------------
# Belgian eID
# ---------------------------------------------------------------------------
BE_PIN=$(h bcd 1234)
be_checks() {  # CARD VERSION
	local c=$1 v=$2
	local atr appver
	atr=$(sed -n 's/.*"atr": "\(.*\)".*/\1/p' "$CARDS/$c/info.json")
	insert "$c"
	run "$c: opensc-tool -a" opensc -a
	grep_out "^$(echo "$atr" | sed 's/../&:/g; s/:$//' | tr A-F a-f)$" "$c: ATR"
	run "$c: opensc-tool -n" opensc -n
	grep_out '^Belpic cards$' "$c: OpenSC's belpic driver takes the card"
	run "$c: opensc-tool -s GET CARD DATA" opensc -c default -s 80E400001C
	appver=$([ "$v" = 1.8 ] && echo 18 || echo 17)
	grep_out "^01 11 01 01 01 $appver " "$c: GET CARD DATA applet version $v"
	run "$c: opensc-tool -s VERIFY wrong PIN" opensc -c default -s 0020000108"$(h bcd 9999)"
	grep_out 'SW1=0x63, SW2=0xC2' "$c: wrong PIN -> 63C2"
	apdu_sw "$c: right PIN" 0020000108"$BE_PIN" 9000
	apdu_sw "$c: SELECT with P2=00 is refused (6A86: no FCI on Belpic)" 00A40800043F00DF00 6A86
	RAW=1 apdu_sw "$c: GET CARD DATA with a wrong Le -> 6C1C" 80E4000010 6C1C
	RAW=1 apdu_sw "$c: READ BINARY with Le past the end -> 6C24 (T=0)" 00A4080C04DF005031 00B0000000 6C24
	run "$c: pkcs11-tool -L" p11 -L
	grep_out 'token label +: BELPIC' "$c: BELPIC token"
	run "$c: pkcs11-tool -O --login" p11 -O --login --pin 1234
	grep_out 'label: +Authentication' "$c: authentication objects"
	grep_out 'label: +Signature' "$c: signature objects"
	grep_out 'label: +Root' "$c: root certificate"
	# Identity data read through pcscd, checked against the RRN certificate.
	for f in 4031 4032 4033 4034 4035; do
		$IO read 0 00A4080C04DF01$f >"$T/$c.$f" 2>"$T/out" || { not_ok "$c: read $f"; show "$T/out"; }
	done
	$IO read 0 00A4080C04DF00503C >"$T/$c.rrn" 2>/dev/null
	run "$c: RRN certificate (503C, DER + zero padding) parses" \
		openssl x509 -inform DER -in "$T/$c.rrn" -pubkey -noout -out "$T/$c.rrn.pub"
	if [ "$(h tag "$T/$c.4031" 11)" = "$(h hash "$([ "$v" = 1.8 ] && echo sha384 || echo sha1)" "$T/$c.4035")" ]; then
		ok "$c: photo hash (tag 11) matches the photo"
	else not_ok "$c: photo hash"; fi
	if [ "$(h tag "$T/$c.4031" 07 | xxd -r -p)" = 'Øster-Łukasz' ] || [[ $c == *tampered* ]]; then
		ok "$c: surname (tag 07)"
	else not_ok "$c: surname"; fi
}
rrn_md() { case $1 in belpic-1.8*) echo sha384 ;; belpic-1.7-sha1) echo sha1 ;; *) echo sha256 ;; esac; }
rrn_verify() {  # CARD -> identity and address signature verdicts
	local c=$1 md
	md=$(rrn_md "$c")
	if [[ $c == belpic-1.8* ]]; then
		h dertrim "$T/$c.4032" "$T/$c.idsig"
		h dertrim "$T/$c.4034" "$T/$c.adsig"
	else
		cp "$T/$c.4032" "$T/$c.idsig"
		cp "$T/$c.4034" "$T/$c.adsig"
	fi
	h addrdata "$T/$c.4033" "$T/$c.4032" "$T/$c.addrdata"
	openssl dgst -"$md" -verify "$T/$c.rrn.pub" -signature "$T/$c.idsig" "$T/$c.4031" >/dev/null 2>&1 && idok=1 || idok=0
	openssl dgst -"$md" -verify "$T/$c.rrn.pub" -signature "$T/$c.adsig" "$T/$c.addrdata" >/dev/null 2>&1 && adok=1 || adok=0
}

be_checks belpic-1.7 1.7
rrn_verify belpic-1.7
is_true "belpic-1.7: identity signature (RSA PKCS#1 SHA-256, RRN key) verifies" [ "$idok" = 1 ]
is_true "belpic-1.7: address signature over (address w/o trailing zeros || identity signature)" [ "$adok" = 1 ]
openssl x509 -in "$CARDS/belpic-1.7/auth.crt" -pubkey -noout >"$T/be17-auth.pub"
openssl x509 -in "$CARDS/belpic-1.7/sign.crt" -pubkey -noout >"$T/be17-sign.pub"
run "belpic-1.7: pkcs11-tool --sign SHA256-RSA-PKCS with the authentication key" \
	p11 --sign --mechanism SHA256-RSA-PKCS --id 02 --login --pin 1234 --input-file "$T/doc.txt" --output-file "$T/be17.sig"
run "belpic-1.7: openssl verifies it" openssl dgst -sha256 -verify "$T/be17-auth.pub" -signature "$T/be17.sig" "$T/doc.txt"
fails "belpic-1.7: OpenSC refuses the non-repudiation key (belpic driver: no PIN GUI)" \
	p11 --sign --mechanism SHA256-RSA-PKCS --id 03 --login --pin 1234 --input-file "$T/doc.txt" --output-file "$T/x.sig"
D256=$(openssl dgst -sha256 -binary "$T/doc.txt" | od -An -tx1 | tr -d ' \n')
$IO send 0 00A4080C023F00 002241B605048008848300 0020000108"$BE_PIN" 002A9E9A20"$D256" >"$T/out" 2>&1
tail -n 1 "$T/out" | sed 's/.* -> //; s/9000$//' | xxd -r -p >"$T/be17nr.sig"
run "belpic-1.7: the non-repudiation signature verifies" openssl dgst -sha256 -verify "$T/be17-sign.pub" -signature "$T/be17nr.sig" "$T/doc.txt"
apdu_sw "belpic-1.7: VERIFY, READ, PSO with the non-repudiation key -> 6982 (PIN just before)" \
	002241B605048008848300 0020000108"$BE_PIN" 00A4080C04DF005031 002A9E9A20"$D256" 6982
apdu_sw "belpic-1.7: LOG OFF ends the PIN's right (auth key -> 6982)" 0020000108"$BE_PIN" 80E60000 \
	002241B605048008848200 002A9E9A20"$D256" 6982
remove

be_checks belpic-1.7-sha1 1.7
rrn_verify belpic-1.7-sha1
is_true "belpic-1.7-sha1: RRN signatures with SHA-1 verify" [ "$idok$adok" = 11 ]
remove

be_checks belpic-1.7-tampered 1.7
rrn_verify belpic-1.7-tampered
is_true "belpic-1.7-tampered: identity signature does NOT verify" [ "$idok" = 0 ]
is_true "belpic-1.7-tampered: address signature still verifies" [ "$adok" = 1 ]
remove

be_checks belpic-1.8 1.8
rrn_verify belpic-1.8
is_true "belpic-1.8: identity signature (ECDSA P-384 SHA-384, DER) verifies" [ "$idok" = 1 ]
is_true "belpic-1.8: address signature (file zero-padded after the DER) verifies" [ "$adok" = 1 ]
$IO read 0 00A4080C04DF014040 >"$T/be18.4040" 2>/dev/null
is_true "belpic-1.8: basic key hash (tag 1A) matches 4040" \
	[ "$(h tag "$T/belpic-1.8.4031" 1A)" = "$(h hash sha384 "$T/be18.4040")" ]
CHL=$(openssl rand -hex 48)
apdu_sw "belpic-1.8: INTERNAL AUTHENTICATE with the basic key (no PIN)" 00880281329430"$CHL" 9000
sig=$(tail -n 1 "$T/out" | sed 's/.* -> //; s/9000$//')
h rs2der "$sig" "$T/basic.der"
printf '%s' "$CHL" | xxd -r -p >"$T/chl.bin"
openssl pkey -pubin -inform DER -in "$T/be18.4040" -out "$T/basic.pub" 2>/dev/null
run "belpic-1.8: the challenge signature verifies with 4040" \
	openssl pkeyutl -verify -pubin -inkey "$T/basic.pub" -in "$T/chl.bin" -sigfile "$T/basic.der"
fails "belpic-1.8: Debian's OpenSC cannot sign with the EC keys (belpic driver is RSA only)" \
	p11 --sign --mechanism ECDSA --id 02 --login --pin 1234 --input-file "$T/doc.sha384" --output-file "$T/x.sig"
D384=$(od -An -tx1 "$T/doc.sha384" | tr -d ' \n')
$IO send 0 00A4080C023F00 002241B605048002848300 0020000108"$BE_PIN" 002A9E9A30"$D384" >"$T/out" 2>&1
sig=$(tail -n 1 "$T/out" | sed 's/.* -> //; s/9000$//')
h rs2der "$sig" "$T/be18nr.der"
openssl x509 -in "$CARDS/belpic-1.8/sign.crt" -pubkey -noout >"$T/be18-sign.pub"
run "belpic-1.8: MSE + VERIFY + PSO CDS (ECDSA SHA-384, raw r||s) verifies" \
	openssl dgst -sha384 -verify "$T/be18-sign.pub" -signature "$T/be18nr.der" "$T/doc.txt"
apdu_sw "belpic-1.8: one command between VERIFY and PSO is allowed (1.8)" \
	002241B605048002848300 0020000108"$BE_PIN" 00A4080C04DF005031 002A9E9A30"$D384" 9000
apdu_sw "belpic-1.8: two are not" \
	0020000108"$BE_PIN" 00A4080C04DF005031 00A4080C04DF005031 002A9E9A30"$D384" 6982
apdu_sw "belpic-1.8: GET CARD DATA P2=01 appends the PIN counter" 80E400011F '03FFFF9000'
remove

be_checks belpic-1.8-tampered 1.8
rrn_verify belpic-1.8-tampered
is_true "belpic-1.8-tampered: identity signature fails, address signature holds" [ "$idok$adok" = 01 ]
remove

insert belpic-1.8-blocked-pin
apdu_sw "belpic-1.8-blocked-pin: VERIFY -> 6983" 0020000108"$BE_PIN" 6983
apdu_sw "belpic-1.8-blocked-pin: GET CARD DATA P2=01 shows 0 tries" 80E400011F '00FFFF9000'
remove

# ---------------------------------------------------------------------------
# Generic PKCS#15 card, unknown card
# ---------------------------------------------------------------------------
insert pkcs15
run "pkcs15: opensc-tool -n" opensc -n
grep_out 'Unsupported card' "pkcs15: no specific driver (OpenSC's default driver)"
run "pkcs15: opensc-tool -s SELECT EF(DIR) with FCP, READ BINARY" opensc -c default -s 00A40800022F0000 -s 00B0000000
grep_out '^62 ' "pkcs15: SELECT P2=00 answers an FCP template"
grep_out 'A0 00 00 00 63 50 4B 43 53 2D 31 35' "pkcs15: EF(DIR) names the PKCS#15 AID"
run "pkcs15: pkcs11-tool -L (enable_default_driver)" p11 -L
grep_out 'token label +: Generic PKCS15' "pkcs15: token from TokenInfo"
run "pkcs15: pkcs11-tool -O" p11 -O
grep_out 'ID: +45' "pkcs15: RSA certificate listed"
grep_out 'ID: +46' "pkcs15: EC certificate listed"
apdu_sw "pkcs15: extended-length READ BINARY (Le=0800) returns the whole certificate" \
	00A4080C0450154301 00B00000000800 6282
remove

insert unknown
run "unknown: opensc-tool -a" opensc -a
grep_out '^3b:0a:4c:49:42:45:49:44:2d:55:4e:4b$' "unknown: ATR"
apdu_sw "unknown: SELECT MF -> 9000" 00A4000C023F00 9000
apdu_sw "unknown: anything else -> 6A82" 00B0000000 6A82
run "unknown: pkcs11-tool -L" p11 -L
grep_out 'token not recognized' "unknown: OpenSC has no token for it"
remove

# ---------------------------------------------------------------------------
# Two independent pcscd instances at once
# ---------------------------------------------------------------------------
run "a second pcscd (another DIR) starts beside the first" "$PCSC" start "$T/pcsc2"
run "card in instance 1" "$PCSC" insert "$T/pcsc" "$CARDS/esteid-2018" 0
run "card in instance 2" "$PCSC" insert "$T/pcsc2" "$CARDS/unknown" 0
PCSCLITE_CSOCK_NAME=$T/pcsc2/run/pcscd.comm opensc-tool -r 0 -a >"$T/out" 2>&1
grep_out '^3b:0a:4c' "instance 2 sees its own card"
opensc-tool -r 0 -a >"$T/out" 2>&1
grep_out '^3b:db:96' "instance 1 sees its own card"

# ---------------------------------------------------------------------------
# Stop
# ---------------------------------------------------------------------------
pids=$(cat "$T"/pcsc/*.pid "$T"/pcsc2/*.pid 2>/dev/null)
run "pcsc.sh stop (instance 2)" "$PCSC" stop "$T/pcsc2"
run "pcsc.sh stop (instance 1)" "$PCSC" stop "$T/pcsc"
left=
for p in $pids; do
	st=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ] && left="$left $p"
done
is_true "every process started is gone" [ -z "$left" ]

echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
