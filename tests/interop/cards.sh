#!/usr/bin/env bash
# Cards over PC/SC: eid-card and eid-sign against emulated cards behind a
# private pcscd and vsmartcard's virtual reader (tests/card/), so that every
# APDU goes through libpcsclite and pcscd exactly as with a USB reader.
# OpenSC's PKCS#11 module signs with the emulated Estonian card too.
. "$EID_TEST_SRCDIR/tests/lib.sh"

CARD=$EID_TEST_BIN/eid-card
HERE=$EID_TEST_SRCDIR/tests/card
OPENSC=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v pcscd >/dev/null ||
	[ ! -e /etc/reader.conf.d/vpcd ]; then
	echo "SKIP: needs root, unshare, pcscd and vsmartcard-vpcd"
	exit 77
fi

# The cards, from a copy of the test PKI (their certificates go into its CA database).
cp -r "$PKI" "$T/pki"
bash "$HERE/mkcards.sh" "$T/cards" "$T/pki"
P=$T/p
trap 'bash "$HERE/pcsc.sh" stop "$P" >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
eval "$(bash "$HERE/pcsc.sh" start "$P")"
export PCSCLITE_CSOCK_NAME
cat "$T/pki/root.crt" "$T/pki/int.crt" > "$T/anchors.pem"

insert() { bash "$HERE/pcsc.sh" remove "$P" 0 >/dev/null 2>&1 || true; bash "$HERE/pcsc.sh" insert "$P" "$T/cards/$1" 0 >/dev/null; }
pin_of() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["pins"]; print(d.get(sys.argv[2]) or d["PIN"])' "$T/cards/$1/info.json" "${2:-PIN}"; }
json_field() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$1" "$2"; }

# ---- readers, and no card yet
expect_status 0 "readers: listed" "$CARD" readers
expect_grep "^Virtual PCD 00 00$" "$T/out" "readers: the virtual reader, without a card"
expect_status 4 "identity without a card: exit 4" "$CARD" identity
expect_grep "no reader holds a card" "$T/err" "... and says so"
expect_status 4 "--wait 1 without a card: exit 4" "$CARD" info --wait 1
expect_grep "within 1000 ms" "$T/err" "... after the time given"
(sleep 1; insert belpic-1.8) &
expect_status 0 "--wait 10: a card inserted while waiting" "$CARD" info --wait 10
wait

# ---- each profile: info, identity with its integrity verdict, photo
for c in belpic-1.7 belpic-1.7-sha1 belpic-1.8 esteid-2018; do
	insert "$c"
	expect_status 0 "$c: info" "$CARD" info
	case $c in
	belpic-1.8) expect_grep "Belgian eID \(applet 1\.8\).*profile belpic" "$T/out" "$c: the profile"
		expect_grep "^PIN tries left: +3$" "$T/out" "$c: PIN tries (GET CARD DATA)" ;;
	belpic*) expect_grep "Belgian eID \(applet 1\.7\).*profile belpic" "$T/out" "$c: the profile" ;;
	esteid*) expect_grep "Estonian ID card.*profile esteid" "$T/out" "$c: the profile"
		expect_grep "^PIN2 tries left: 3$" "$T/out" "$c: PIN2 tries (GET DATA)" ;;
	esac
	expect_grep "^Signature: .*Øster-Łukasz|^Signature: .*ØSTER-ŁUKASZ" "$T/out" "$c: the signature certificate"
	expect_status 0 "$c: identity --json" "$CARD" identity --json
	cp "$T/out" "$T/id.json"
	if [ "$(json_field "$T/id.json" surname)" = "$(json_field "$T/cards/$c/info.json" identity.surname 2>/dev/null ||
		json_field "$T/cards/$c/info.json" personal_data.5001)" ]; then ok "$c: surname as on the card"; else
		not_ok "$c: surname $(json_field "$T/id.json" surname)"; fi
	case $c in
	belpic*)
		expect_grep '"verdict": "valid"' "$T/id.json" "$c: integrity valid (RRN signatures, photo hash)"
		expect_grep '"birth_date": "1985-03-15"' "$T/id.json" "$c: birth date as ISO 8601"
		expect_grep '"address_street": "Rue de l.Église 12"' "$T/id.json" "$c: address"
		expect_status 0 "$c: photo" "$CARD" photo -o "$T/photo.jpg"
		if cmp -s "$T/photo.jpg" "$T/cards/$c/files/4035-photo.jpg"; then ok "$c: the photo's bytes"; else not_ok "$c: photo differs"; fi ;;
	esteid*)
		expect_grep '"verdict": "none"' "$T/id.json" "$c: no integrity protection on this card, said so"
		expect_grep '"personal_code": "38503151239"' "$T/id.json" "$c: personal code"
		expect_grep '"valid_until": "[0-9]{4}-[0-9]{2}-[0-9]{2}"' "$T/id.json" "$c: expiry as ISO 8601" ;;
	esac
done

# ---- the identity signer against trusted roots (the card's own root proves nothing by itself)
insert belpic-1.8
expect_status 0 "identity --trust the test root: the register chains to it" "$CARD" identity --json --trust "$T/pki/root.crt"
expect_grep '"signer_trusted": true' "$T/out" "... signer_trusted true"
expect_status 1 "identity --trust another root: FAILED" "$CARD" identity --json --trust "$T/pki/other-root.crt"
expect_grep "does not chain to a trusted root" "$T/out" "... the reason names the untrusted signer"
expect_status 0 "without --trust: valid against the card's own root, and said so" "$CARD" identity
expect_grep "valid against the card's own root" "$T/out" "... the text says what was checked"

# ---- tampered identity: read, but flagged
for c in belpic-1.7-tampered belpic-1.8-tampered; do
	insert "$c"
	expect_status 1 "$c: identity exits 1" "$CARD" identity --json
	expect_grep '"verdict": "failed"' "$T/out" "$c: verdict failed"
	expect_grep "identity file does not match the national register's signature" "$T/err" "$c: says which check failed"
done

# ---- PINs
insert belpic-1.8
expect_status 2 "BE: a wrong PIN: exit 2" "$CARD" pin verify --pin pass:9999
expect_grep "wrong PIN, 2 tries left" "$T/err" "BE: tries left reported"
expect_status 0 "BE: the right PIN" "$CARD" pin verify --pin "pass:$(pin_of belpic-1.8)"
expect_status 0 "BE: tries back to 3" "$CARD" info
expect_grep "^PIN tries left: +3$" "$T/out" "... GET CARD DATA says 3"
expect_status 0 "BE: change the PIN" "$CARD" pin change --pin pass:1234 --new-pin pass:73915082
expect_status 2 "BE: the old PIN is wrong now" "$CARD" pin verify --pin pass:1234
expect_status 0 "BE: the new one is right" "$CARD" pin verify --pin pass:73915082
expect_status 3 "BE: no PUK unblock (done at the municipality)" "$CARD" pin unblock --pin pass:11111111 --new-pin pass:1234
insert belpic-1.8-blocked-pin
seen=$(wc -l < "$P/card0.log")
expect_status 2 "BE blocked: verify exit 2" "$CARD" pin verify --pin pass:1234
expect_grep "blocked; nothing was sent" "$T/err" "BE blocked: nothing sent"
if tail -n +"$((seen + 1))" "$P/card0.log" | grep -i "> *0020" >/dev/null; then not_ok "a VERIFY reached the blocked card"; else ok "no VERIFY reached the blocked card"; fi

insert esteid-2018
expect_status 2 "EE: wrong PIN2" "$CARD" pin verify --which sign --pin pass:11111
expect_status 2 "EE: wrong PIN2 again" "$CARD" pin verify --which sign --pin pass:11111
expect_status 2 "EE: wrong PIN2 a third time: blocked" "$CARD" pin verify --which sign --pin pass:11111
expect_grep "now blocked" "$T/err" "EE: the PIN is now blocked"
expect_status 2 "EE: blocked PIN2: nothing sent" "$CARD" pin verify --which sign --pin "pass:$(pin_of esteid-2018 PIN2)"
expect_status 0 "EE: unblock PIN2 with the PUK" "$CARD" pin unblock --which sign --pin "pass:$(pin_of esteid-2018 PUK)" --new-pin pass:24680
expect_status 0 "EE: the new PIN2 works" "$CARD" pin verify --which sign --pin pass:24680
expect_status 2 "EE: a PIN too short for PIN2 is refused before sending" "$CARD" pin verify --which sign --pin pass:123

# ---- signing with the card's own key (card-direct), PDF and ASiC-E
for c in belpic-1.7 belpic-1.8 esteid-2018; do
	insert "$c"
	pin=$(pin_of "$c" PIN2)
	expect_status 0 "$c: card-direct PAdES" "$SIGN" --card --pin "pass:$pin" "$EID_TEST_PDF/cairo.pdf" -o "$T/$c.pdf"
	expect_status 0 "$c: eid-verify accepts it" "$VERIFY" --trust "$T/pki/root.crt" --untrusted "$T/pki/int.crt" "$T/$c.pdf"
	pdfsig -nocert "$T/$c.pdf" > "$T/pdfsig" 2>&1 || true
	expect_grep "Signature is Valid" "$T/pdfsig" "$c: pdfsig accepts it"
	expect_status 0 "$c: card-direct ASiC-E" "$SIGN" --card --pin "pass:$pin" "$T/doc.txt" "$EID_TEST_PDF/cairo.pdf" -o "$T/$c.asice"
	expect_status 0 "$c: eid-verify accepts the container" "$VERIFY" --trust "$T/anchors.pem" "$T/$c.asice"
	expect_status 3 "$c: a wrong PIN: no signature (exit 3, never retried)" "$SIGN" --card --pin pass:99999 "$T/doc.txt" -o "$T/$c-bad.p7s"
	expect_no_file "$T/$c-bad.p7s" "$c: nothing written after a wrong PIN"
done

# the Estonian card holds no CA certificate: without the intermediate, no chain
expect_status 1 "esteid-2018: the root alone: INDETERMINATE (exit 1)" "$VERIFY" --trust "$T/pki/root.crt" "$T/esteid-2018.pdf"
expect_grep "NO_CERTIFICATE_CHAIN_FOUND" "$T/out" "... no certificate chain found"
expect_status 1 "... an intermediate given with --untrusted is no anchor" "$VERIFY" --trust "$T/pki/other-root.crt" --untrusted "$T/pki/int.crt" "$T/esteid-2018.pdf"

# ---- through OpenSC's PKCS#11 module (the Estonian card)
insert esteid-2018
expect_status 0 "OpenSC: lists the Estonian card's keys" "$SIGN" --list-keys --module "$OPENSC"
expect_grep "id 02 .*\[signing\] EC-384" "$T/out" "OpenSC: the signature key (PIN2 token)"
expect_status 0 "OpenSC: PAdES with the emulated card" "$SIGN" --module "$OPENSC" --key-id 02 --pin "pass:$(pin_of esteid-2018 PIN2)" \
	"$EID_TEST_PDF/cairo.pdf" -o "$T/opensc.pdf"
pdfsig -nocert "$T/opensc.pdf" > "$T/pdfsig" 2>&1 || true
expect_grep "Signature is Valid" "$T/pdfsig" "OpenSC: pdfsig accepts it"
expect_status 0 "OpenSC: eid-verify accepts it" "$VERIFY" --trust "$T/anchors.pem" "$T/opensc.pdf"
expect_status 0 "OpenSC: ASiC-E with the emulated card" "$SIGN" --module "$OPENSC" --key-id 02 --pin "pass:$(pin_of esteid-2018 PIN2)" \
	"$T/doc.txt" -o "$T/opensc.asice" -f asice
expect_status 0 "OpenSC: the container verifies" "$VERIFY" --trust "$T/anchors.pem" "$T/opensc.asice"

# ---- faults
insert unknown
expect_status 3 "an unknown card: exit 3" "$CARD" identity
expect_grep "not one libeid knows" "$T/err" "... named as unknown, with its ATR"
insert pkcs15
seen=$(wc -l < "$P/card0.log")
expect_status 0 "a generic PKCS#15 card: info" "$CARD" info
expect_grep "PKCS#15 card" "$T/out" "... its profile"
expect_status 0 "... its signature certificate by key usage" "$CARD" certificate sign -o "$T/p15.der"
expect_status 3 "... no identity data: exit 3" "$CARD" identity
# its ATR announces extended Lc/Le: READ BINARY asks 4096 bytes at once (Le 00 10 00)
if tail -n +"$((seen + 1))" "$P/card0.log" | grep -E "> 00B0[0-9A-F]{4}001000" >/dev/null; then ok "... read with extended-length APDUs"; else
	not_ok "no extended-length READ BINARY"; tail -n +"$((seen + 1))" "$P/card0.log" | grep "> 00B0" | head -3 | sed 's/^/  | /'; fi
openssl x509 -in "$T/cards/pkcs15/sign.crt" -outform DER -out "$T/p15-want.der"
if cmp -s "$T/p15.der" "$T/p15-want.der"; then ok "... the certificate's bytes"; else not_ok "the PKCS#15 certificate differs"; fi

# the card pulled while eid-sign waits for the PIN
insert belpic-1.8
mkfifo "$T/pinfifo"
"$SIGN" --card --pin "file:$T/pinfifo" "$T/doc.txt" -o "$T/pulled.p7s" >"$T/out" 2>"$T/err" &
spid=$!
sleep 1
bash "$HERE/pcsc.sh" eject "$P" 0 >/dev/null
sleep 0.5
echo 1234 > "$T/pinfifo"
st=0; wait $spid || st=$?
if [ "$st" != 0 ]; then ok "card pulled before the signature: eid-sign fails (exit $st)"; else not_ok "signed without a card"; fi
expect_grep "removed|does not respond|reset|gone" "$T/err" "... and says the card went away"
expect_no_file "$T/pulled.p7s" "... no output file"
bash "$HERE/pcsc.sh" reinsert "$P" 0 >/dev/null
sleep 0.5

# waiting for the card to go (eid_card_ctx_wait_removed, through the library itself)
wait_removed() {
	/usr/bin/python3 - "$EID_TEST_BUILDDIR/libeid/.libs/libeid.so.0" "$1" <<'PY'
import ctypes, sys, time
lib = ctypes.CDLL(sys.argv[1])
ctx = ctypes.c_void_p()
assert lib.eid_card_ctx_new(ctypes.byref(ctx)) == 0
t = time.monotonic()
rc = lib.eid_card_ctx_wait_removed(ctx, b"Virtual PCD 00 00", int(sys.argv[2]))
print(rc, round(time.monotonic() - t, 1))
lib.eid_card_ctx_free(ctx)
PY
}
(sleep 1; bash "$HERE/pcsc.sh" eject "$P" 0 >/dev/null) &
r=$(wait_removed 10000)
wait
case $r in "0 "[1-9]*) ok "removal seen when the card was pulled ($r s)" ;; *) not_ok "wait for removal: $r" ;; esac
bash "$HERE/pcsc.sh" reinsert "$P" 0 >/dev/null
sleep 0.5
r=$(wait_removed 500)
case $r in "-7 "*) ok "a card that stays: the wait ends after its time (EID_ECANCELED)" ;; *) not_ok "wait for removal, card kept: $r" ;; esac

# two processes reading at once: transactions keep them apart
"$CARD" identity --json > "$T/a.json" 2>&1 & a=$!
"$CARD" identity --json > "$T/b.json" 2>&1 & b=$!
sa=0; sb=0; wait $a || sa=$?; wait $b || sb=$?
if [ "$sa$sb" = 00 ] && cmp -s "$T/a.json" "$T/b.json"; then ok "two processes at once: both read the same identity"; else
	not_ok "two processes: exit $sa/$sb"; fi

# the PIN never reaches a log: full tracing, the PIN in ASCII, BCD and format-2 form
insert belpic-1.8
EID_DEBUG=5 "$CARD" pin change --pin pass:1234 --new-pin pass:73915082 > "$T/trace.log" 2>&1 || true
EID_DEBUG=5 "$CARD" pin verify --pin pass:73915082 >> "$T/trace.log" 2>&1 || true
EID_DEBUG=5 "$SIGN" --card --pin pass:73915082 "$T/doc.txt" -o "$T/traced.p7s" >> "$T/trace.log" 2>&1 || true
cat "$P/card0.log" >> "$T/trace.log"
expect_grep "PIN data not shown" "$T/trace.log" "the trace shows the PIN commands, without their data"
if grep -qiE "73915082|3733393135303832|2873915082" "$T/trace.log"; then not_ok "the PIN appears in the trace"; else
	ok "no PIN in the trace (ASCII, BCD, format 2)"; fi
expect_status 0 "... and the traced signature verifies" "$VERIFY" --trust "$T/anchors.pem" "$T/traced.p7s" --data "$T/doc.txt"

# pcscd gone while eid-sign waits for the PIN (the reader goes with it)
insert belpic-1.8
mkfifo "$T/pinfifo2"
"$SIGN" --card --pin "file:$T/pinfifo2" "$T/doc.txt" -o "$T/gone.p7s" >"$T/out" 2>"$T/err" &
spid=$!
sleep 1
bash "$HERE/pcsc.sh" stop "$P" >/dev/null 2>&1
echo 73915082 > "$T/pinfifo2"
st=0; wait $spid || st=$?
if [ "$st" != 0 ]; then ok "pcscd stopped before the signature: eid-sign fails (exit $st)"; else not_ok "signed without pcscd"; fi
expect_grep "not running|gone|removed|does not respond" "$T/err" "... and says what went"
expect_no_file "$T/gone.p7s" "... no output file"
expect_status 3 "pcscd not running: exit 3" "$CARD" readers
expect_grep "pcscd\) is not running" "$T/err" "... and says so"

finish
