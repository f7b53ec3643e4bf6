#!/usr/bin/env bash
# PC/SC part 10 pinpad: eid-card and eid-sign against emulated cards in an
# emulated pinpad reader.  pcsc.sh start --pinpad runs pcscd with
# tests/card/pinpad/ifd-pinpad.c, a driver that wraps vsmartcard's vpcd and
# answers FEATURE_VERIFY_PIN_DIRECT / FEATURE_MODIFY_PIN_DIRECT: it builds the
# PIN block from libeid's PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE and the
# keys "typed" in $P/pinpad.txt, so the PIN never passes through libeid.
. "$EID_TEST_SRCDIR/tests/lib.sh"

CARD=$EID_TEST_BIN/eid-card
HERE=$EID_TEST_SRCDIR/tests/card
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v pcscd >/dev/null ||
	[ ! -e /etc/reader.conf.d/vpcd ] || ! command -v cc >/dev/null || ! pkg-config --exists libpcsclite; then
	echo "SKIP: needs root, unshare, pcscd, vsmartcard-vpcd, cc and libpcsclite-dev"
	exit 77
fi

cp -r "$PKI" "$T/pki"
bash "$HERE/mkcards.sh" "$T/cards" "$T/pki" >/dev/null
P=$T/p
trap 'bash "$HERE/pcsc.sh" stop "$P" >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
eval "$(bash "$HERE/pcsc.sh" start "$P" --pinpad)"
export PCSCLITE_CSOCK_NAME
PAD=$P/pinpad.txt

insert() { bash "$HERE/pcsc.sh" remove "$P" 0 >/dev/null 2>&1 || true; bash "$HERE/pcsc.sh" insert "$P" "$T/cards/$1" 0 >/dev/null; }
pin_of() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["pins"]; print(d.get(sys.argv[2]) or d["PIN"])' "$T/cards/$1/info.json" "${2:-PIN}"; }
# type PIN [NEW [CONFIRM]]: what the user will key in on the pinpad
type_() { printf '%s\n' "$@" > "$PAD"; }
# tries C [WHICH]: the tries left as eid-card info reports them
tries() { "$CARD" info > "$T/info" 2>&1 || true
	sed -n "s/^${2:-PIN} tries left: *\([0-9]*\)$/\1/p" "$T/info"; }
# the card's own view: VERIFY/CHANGE APDUs seen since mark
mark() { seen=$(wc -l < "$P/card0.log"); }
sent() { tail -n +"$((seen + 1))" "$P/card0.log" | grep -c "> *00$1" || true; }
# PINs that must never show up in a log
SECRETS=()

expect_status 0 "readers: the pinpad reader" "$CARD" readers
expect_grep "^Virtual Pinpad 00 00" "$T/out" "... named Virtual Pinpad"

for c in belpic-1.8 esteid-2018; do
	insert "$c"
	case $c in belpic*) pin=$(pin_of "$c"); which= ; new=73915082 ;; esteid*) pin=$(pin_of "$c" PIN1); which=auth; new=5790 ;; esac
	SECRETS+=("$pin")
	W=PIN   # eid-card info: "PIN tries left" (Belpic PIN, Estonian PIN1)
	SECRETS+=("$new")
	expect_status 0 "$c: info" "$CARD" info
	expect_grep "^Reader: +Virtual Pinpad" "$T/out" "$c: in the pinpad reader"

	type_ "$pin"
	mark
	expect_status 0 "$c: pin verify on the pinpad, right PIN" "$CARD" pin verify ${which:+--which $which}
	expect_grep "^PIN correct$" "$T/out" "$c: PIN correct"
	[ "$(sent 20)" = 1 ] && ok "$c: one VERIFY reached the card (built by the reader)" || not_ok "$c: $(sent 20) VERIFY APDUs"

	type_ 9999
	expect_status 2 "$c: wrong PIN on the pinpad: exit 2" "$CARD" pin verify ${which:+--which $which}
	expect_grep "2 tries left" "$T/err" "$c: 2 tries left"

	type_ cancel
	before=$(tries "$c" "$W")
	mark
	expect_status 3 "$c: Cancel on the pinpad: an error" "$CARD" pin verify ${which:+--which $which}
	expect_grep "PIN entry on the reader was cancelled" "$T/err" "$c: says the entry was cancelled (EID_ECANCELED)"
	[ "$(sent 20)" = 0 ] && ok "$c: Cancel: nothing sent to the card" || not_ok "$c: a VERIFY reached the card after Cancel"
	after=$(tries "$c" "$W")
	[ -n "$before" ] && [ "$before" = "$after" ] && ok "$c: Cancel used no try ($after left)" || not_ok "$c: tries $before -> $after after Cancel"

	: > "$PAD"
	expect_status 3 "$c: nothing typed (empty file) = Cancel" "$CARD" pin verify ${which:+--which $which}
	expect_grep "cancelled" "$T/err" "... cancelled"
	type_ timeout
	expect_status 3 "$c: no entry in time" "$CARD" pin verify ${which:+--which $which}
	expect_grep "not completed in time" "$T/err" "... says so"

	type_ "$pin"
	expect_status 0 "$c: the right PIN again: tries back" "$CARD" pin verify ${which:+--which $which}

	# PIN change on the pinpad: current, new, confirmation
	type_ "$pin" "$new" "${new}1"
	mark
	expect_status 2 "$c: pin change, confirmation differs: refused by the reader (exit 2)" "$CARD" pin change ${which:+--which $which}
	[ "$(sent 24)" = 0 ] && ok "$c: ... nothing sent" || not_ok "$c: a CHANGE reached the card"
	expect_grep "confirmation on the reader differ" "$T/err" "$c: ... and says the two new PINs differ (SW 6402)"
	type_ 12
	expect_status 2 "$c: a PIN too short for wPINMaxExtraDigit: refused by the reader (exit 2)" "$CARD" pin verify ${which:+--which $which}
	expect_grep "too short or too long" "$T/err" "$c: ... and says the length is out of range (SW 6403)"
	type_ "$pin" "$new" "$new"
	mark
	expect_status 0 "$c: pin change on the pinpad" "$CARD" pin change ${which:+--which $which}
	expect_grep "^PIN changed$" "$T/out" "$c: PIN changed"
	[ "$(sent 24)" = 1 ] && ok "$c: one CHANGE REFERENCE DATA reached the card" || not_ok "$c: $(sent 24) CHANGE APDUs"
	expect_status 0 "$c: the new PIN works with --pin" "$CARD" pin verify ${which:+--which $which} --pin "pass:$new"
	expect_status 2 "$c: the old one does not" "$CARD" pin verify ${which:+--which $which} --pin "pass:$pin"
	expect_status 0 "$c: the new PIN on the pinpad" "$CARD" pin verify ${which:+--which $which} --pin "pass:$new"

	# Signing: the signature PIN on the pinpad (Belpic: the changed PIN; Estonia: PIN2)
	case $c in belpic*) spin=$new ;; esteid*) spin=$(pin_of "$c" PIN2); SECRETS+=("$spin") ;; esac
	type_ "$spin"
	mark
	expect_status 0 "$c: eid-sign --card without --pin: the pinpad" "$SIGN" --card "$EID_TEST_PDF/cairo.pdf" -o "$T/$c.pdf"
	[ "$(sent 20)" -ge 1 ] && ok "$c: the VERIFY came from the pinpad" || not_ok "$c: no VERIFY"
	expect_status 0 "$c: eid-verify accepts it" "$VERIFY" --trust "$T/pki/root.crt" --untrusted "$T/pki/int.crt" "$T/$c.pdf"
	type_ cancel
	expect_status 3 "$c: eid-sign, Cancel on the pinpad: no signature" "$SIGN" --card "$EID_TEST_PDF/cairo.pdf" -o "$T/$c-cancel.pdf"
	expect_grep "cancelled" "$T/err" "$c: ... says cancelled"
	expect_no_file "$T/$c-cancel.pdf" "$c: ... and writes nothing"

	# an EID_DEBUG=5 trace of a pinpad signature
	type_ "$spin"
	EID_DEBUG=5 "$SIGN" --card "$T/doc.txt" -o "$T/$c-traced.p7s" >> "$T/trace.log" 2>&1 || true
	expect_grep "pinpad VERIFY on 'Virtual Pinpad" "$T/trace.log" "$c: the trace says the PIN went to the pinpad"
done

# ---- the PINs never appear in a log: pcscd's (with the driver's lines), the
# card emulator's APDU log, the EID_DEBUG=5 traces.  BCD PIN blocks (Belpic)
# are looked for as hex too.
short_hex() { grep -oiE '[0-9a-f]+' "$1" 2>/dev/null | awk 'length($0) <= 80'; }
leak=
for s in "${SECRETS[@]}"; do
	for f in "$P/pcscd.log" "$P/card0.log" "$P/card0.err" "$T/trace.log"; do
		hex=$(printf '%s' "$s" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
		bcd=$(printf '2%X%s' "${#s}" "$s")
		# a word match (the logs are full of hex: a 4-digit PIN as a substring means nothing);
		# the hex and BCD forms in runs of hex no longer than a PIN command (certificate and file
		# dumps hold ASCII times such as "...1234Z" that are no PIN)
		if grep -qwF -- "$s" "$f" 2>/dev/null ||
			short_hex "$f" | grep -iF -- "$hex" >/dev/null || short_hex "$f" | grep -iE -- "^$bcd" >/dev/null; then
			leak="$leak $(basename "$f")"
		fi
	done
done
[ -z "$leak" ] && ok "no PIN in pcscd.log, card0.log or the EID_DEBUG=5 traces" || not_ok "a PIN appears in:$leak"
expect_grep "ifd-pinpad: VERIFY: bmFormatString" "$P/pcscd.log" "pcscd.log: the driver parsed the structures"
grep "ifd-pinpad:" "$P/pcscd.log" | sort | uniq -c | sed 's/^/# /' | head -20

finish
