#!/usr/bin/env bash
# What later revisions of a signed PDF change, and the published PDF signature
# attacks, one family at a time: the updates are written by tests/pdf/attack.py
# the way an editor or an attacker would append them; pdfsig and qpdf show the
# files are well formed (pdfsig calls most of them valid); eid-verify must say
# what changed.  Also certification signatures (DocMDP) made by eid-sign.
. "$EID_TEST_SRCDIR/tests/lib.sh"
CORPUS=${EID_TEST_PDF:?}
[ -f "$CORPUS/.complete" ] || { echo "no PDF corpus in $CORPUS"; exit 1; }
ATTACK="python3 $EID_TEST_SRCDIR/tests/pdf/attack.py"
C=$CORPUS/classic-1.3.pdf
verify() { "$VERIFY" "$@" --trust "$PKI/root.crt"; }
sign() { p11sign --key-id 01 --pin pass:$PIN "$@"; }

# attacked NAME WANT-STATUS PATTERN DESC: the file's verification and what it names.
attacked() {
	expect_status 0 "$1: the file is well formed (qpdf)" qpdf --check "$T/$1.pdf"
	expect_status "$2" "$4: eid-verify exit $2" verify "$T/$1.pdf"
	expect_grep "$3" "$T/out" "$4: reported"
}

sign "$C" -o "$T/signed.pdf" 2>/dev/null

# --- Incremental Saving Attack (Mladenov et al., CCS 2019): whatever a later
# revision changes is reported; the signature's own bytes stay valid.
for mode in content page catalog font; do
	$ATTACK $mode "$T/signed.pdf" "$T/isa-$mode.pdf"
	attacked "isa-$mode" 1 'INDETERMINATE / SIG_CONSTRAINTS_FAILURE' "incremental saving ($mode)"
	expect_grep 'changed after signing' "$T/out" "incremental saving ($mode): named as a change after signing"
done
verify "$T/isa-catalog.pdf" >"$T/out" 2>&1 || true
expect_grep 'catalog was changed \(/OpenAction\)' "$T/out" "the changed catalog key is named"
verify "$T/isa-font.pdf" >"$T/out" 2>&1 || true
expect_grep 'object 7 was changed \(/BaseFont\)' "$T/out" "a replaced font is named"
pdfsig -nocert "$T/isa-content.pdf" >"$T/pdfsig" 2>&1 || true
expect_grep 'Signature is Valid' "$T/pdfsig" "pdfsig: the signature itself is valid (the attack does not touch it)"

# --- Universal Signature Forgery (CCS 2019): a signature field whose dictionary
# lacks, empties or nulls /ByteRange or /Contents must never pass.
i=0
for entries in "" "/Contents <>" "/Contents null /ByteRange null" "/Contents <3000> /ByteRange [0 0 0 0]" \
	"/Contents <3000>" "/ByteRange [0 10 20 30]" "/Contents <3082> /ByteRange [0 100 50 10]"; do
	i=$((i + 1))
	$ATTACK usf "$C" "$T/usf-$i.pdf" "$entries"
	expect_status 2 "USF variant $i (${entries:-no /Contents, no /ByteRange}): TOTAL-FAILED" verify "$T/usf-$i.pdf"
	expect_grep 'TOTAL-FAILED / FORMAT_FAILURE' "$T/out" "USF variant $i: FORMAT_FAILURE"
done

# --- Signature Wrapping (CCS 2019): a /ByteRange rewritten to leave a wider gap
# (room for other content) no longer matches: the gap must be exactly /Contents.
$ATTACK wrap "$T/signed.pdf" "$T/wrapped.pdf"
expect_status 2 "Signature Wrapping (gap widened): TOTAL-FAILED" verify "$T/wrapped.pdf"
expect_grep 'FORMAT_FAILURE|HASH_FAILURE' "$T/out" "wrapping: format or hash failure"

# --- Shadow attacks (Mainka et al., NDSS 2021): the signer signs a document
# prepared by the attacker, who then appends an update the signature permits in
# some viewers.  pdftotext shows the document reads differently afterwards.
# Hide: the overlay's xref entry moves to an empty definition already in the
# signed bytes; the update has no object at all.
$ATTACK prepare-hide "$C" "$T/hide-prepared.pdf"
sign "$T/hide-prepared.pdf" -o "$T/hide-signed.pdf" 2>/dev/null
expect_status 0 "shadow hide: the prepared document signs and verifies" verify "$T/hide-signed.pdf"
$ATTACK hide "$T/hide-signed.pdf" "$T/shadow-hide.pdf"
attacked shadow-hide 1 'stream object [0-9]+ .* was replaced' "Shadow hide"
# Replace: a form field's value, filled in before signing, is changed (value and appearance).
$ATTACK prepare-replace "$C" "$T/replace-prepared.pdf"
sign "$T/replace-prepared.pdf" -o "$T/replace-signed.pdf" 2>/dev/null
$ATTACK replace "$T/replace-signed.pdf" "$T/shadow-replace.pdf"
attacked shadow-replace 1 'value of form field [0-9]+, as signed, was changed' "Shadow replace (form value)"
expect_grep 'appearance of a form field .* was redrawn' "$T/out" "Shadow replace: the redrawn appearance is named"
# Hide-and-replace: a second page tree hidden in the signed bytes; the update
# points the catalog at it, or makes a new catalog the /Root.
$ATTACK prepare-swap "$C" "$T/swap-prepared.pdf"
sign "$T/swap-prepared.pdf" -o "$T/swap-signed.pdf" 2>/dev/null
expect_status 0 "shadow hide-and-replace: the prepared document signs and verifies" verify "$T/swap-signed.pdf"
$ATTACK swap "$T/swap-signed.pdf" "$T/shadow-swap.pdf"
attacked shadow-swap 1 'catalog was changed \(/Pages\)' "Shadow hide-and-replace (catalog saved again)"
$ATTACK swap-root "$T/swap-signed.pdf" "$T/shadow-swap-root.pdf"
attacked shadow-swap-root 1 'catalog \(/Root\) was replaced' "Shadow hide-and-replace (new /Root)"
pdftotext "$T/shadow-swap-root.pdf" - 2>/dev/null | grep -q 'house for 1 EUR' && ok "hide-and-replace: viewers now show the shadow page" \
	|| not_ok "hide-and-replace: the shadow page is not shown"

# --- Certification signatures (DocMDP) made by eid-sign.
perm=1
for p in none forms annotations; do
	expect_status 0 "certify ($p)" sign --certify $p "$C" -o "$T/cert-$p.pdf"
	expect_status 0 "certify ($p): qpdf --check" qpdf --check "$T/cert-$p.pdf"
	pdfsig -nocert "$T/cert-$p.pdf" >"$T/pdfsig" 2>&1 || true
	expect_grep 'Signature is Valid' "$T/pdfsig" "certify ($p): pdfsig accepts it"
	expect_status 0 "certify ($p): eid-verify" verify "$T/cert-$p.pdf" --json
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["signatures"][0]; assert s["certification"]==int(sys.argv[2]) and s["field"]=="Signature1", s' \
		"$T/out" $perm && ok "certify ($p): reported with its permission (P=$perm)" \
		|| not_ok "certify ($p): permission not reported"
	perm=$((perm + 1))
done
qpdf --qdf --object-streams=disable "$T/cert-forms.pdf" "$T/qdf.pdf" 2>/dev/null || true
expect_grep '/TransformMethod /DocMDP' "$T/qdf.pdf" "the signature references the DocMDP transform"
expect_grep '/DocMDP [0-9]+ 0 R' "$T/qdf.pdf" "the catalog's /Perms names the certification"
# What the signer refuses: a second certification, anything on P=1, a new
# visible field on P=2 (it would be a Sneaky Signature).
expect_status 3 "no certification of a signed document" sign --certify forms "$T/signed.pdf" -o "$T/x.pdf"
expect_grep 'first signature' "$T/err" "the reason is given"
expect_status 3 "no signature on a document certified with P=1" sign "$T/cert-none.pdf" -o "$T/x.pdf"
expect_grep 'no changes permitted' "$T/err" "the reason is given"
expect_status 3 "no new visible field on a document certified with P=2" \
	sign --visible page=1,x=300,y=80,w=200,h=60 "$T/cert-forms.pdf" -o "$T/x.pdf"
expect_no_file "$T/x.pdf" "nothing written when refused"
expect_status 0 "an invisible approval signature on P=2" p11sign --key-id 04 --pin pass:$PIN "$T/cert-forms.pdf" -o "$T/cert-forms-2.pdf"
expect_status 0 "P=2 and a later signature: both pass" verify "$T/cert-forms-2.pdf"
expect_status 0 "a visible approval signature on P=3" \
	p11sign --key-id 04 --pin pass:$PIN --visible page=1,x=300,y=80,w=200,h=60 "$T/cert-annotations.pdf" -o "$T/cert-annotations-2.pdf"
expect_status 0 "P=3 and a later visible signature: passes" verify "$T/cert-annotations-2.pdf"
expect_grep 'visible signature field .* was added over the certified page' "$T/out" "... with a warning"
# Removing the certification afterwards is a change of the catalog.
$ATTACK drop-perms "$T/cert-forms.pdf" "$T/uncertified.pdf"
attacked uncertified 1 'catalog was changed \(/Perms\)' "the certification removed afterwards"

# Signing into the empty signature fields of a form, on a certified form.
F=$CORPUS/sigfields.pdf
expect_status 0 "certify a form with empty signature fields" sign --certify forms "$F" -o "$T/sf-cert.pdf"
expect_status 0 "sign its visible field Buyer" p11sign --key-id 04 --pin pass:$PIN --field Buyer "$T/sf-cert.pdf" -o "$T/sf-2.pdf"
expect_status 0 "sign its invisible field Witness" p11sign --key-id 03 --pin pass:$PIN --field Witness "$T/sf-2.pdf" -o "$T/sf-3.pdf"
expect_status 0 "three signatures in the form's own fields verify" verify "$T/sf-3.pdf" --json
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); f=[s["field"] for s in r["signatures"]]; assert f==["Signature1","Buyer","Witness"] and all(s["indication"]=="TOTAL-PASSED" for s in r["signatures"]), r' \
	"$T/out" && ok "fields Signature1, Buyer, Witness, in the order signed: all TOTAL-PASSED" || not_ok "fields, order or verdicts wrong"
pdfsig -nocert "$T/sf-3.pdf" >"$T/pdfsig" 2>&1 || true
[ "$(grep -c 'Signature is Valid' "$T/pdfsig")" = 3 ] && ok "pdfsig: three valid signatures" || not_ok "pdfsig: $(cat "$T/pdfsig")"
expect_status 0 "qpdf --check the signed form" qpdf --check "$T/sf-3.pdf"
ink=$(ink "$T/sf-3.pdf" 1 302 82 216 66)
[ "$ink" -gt 300 ] && ok "the field Buyer now shows the signature ($ink dark pixels)" || not_ok "Buyer box blank ($ink)"
expect_status 3 "a field that is already signed" p11sign --key-id 04 --pin pass:$PIN --field Buyer "$T/sf-3.pdf" -o "$T/x.pdf"
expect_grep 'already signed' "$T/err" "the reason is given"
expect_status 3 "a field with its own box takes no --visible" \
	p11sign --key-id 04 --pin pass:$PIN --field Buyer --visible page=1,x=1,y=1,w=90,h=40 "$F" -o "$T/x.pdf"
expect_no_file "$T/x.pdf" "nothing written for refused fields"

# --- Evil Annotation Attack (Mainka et al., IEEE S&P 2021): an annotation that
# draws over the certified text.  P=1 and P=2 do not permit annotations; P=3
# does (ISO 32000), so it is reported as a warning naming what draws over the page.
for p in none forms; do
	$ATTACK annot "$T/cert-$p.pdf" "$T/evil-$p.pdf" FreeText
	attacked "evil-$p" 1 'FreeText annotation .* does not permit annotations' "Evil Annotation on a certification ($p)"
done
$ATTACK annot "$T/cert-annotations.pdf" "$T/evil-annotations.pdf" FreeText
attacked evil-annotations 0 'FreeText annotation .* draws over the certified content' "Evil Annotation on P=3: a warning"
$ATTACK annot "$T/cert-forms.pdf" "$T/evil-stamp.pdf" Stamp
attacked evil-stamp 1 'Stamp annotation' "Evil Annotation (Stamp) on P=2"
$ATTACK annot "$T/signed.pdf" "$T/annotated.pdf" Text
attacked annotated 0 'Text annotation .* was added over the page' "an annotation on an approval signature: a warning"

# --- Sneaky Signature Attack (IEEE S&P 2021): a new, validly signed signature
# field whose appearance draws over the certified content.
$ATTACK sneaky "$T/cert-forms.pdf" "$T/sneaky.pdf" "$PKI/auth-rsa2048.crt" "$PKI/auth-rsa2048.key"
pdfsig -nocert "$T/sneaky.pdf" >"$T/pdfsig" 2>&1 || true
[ "$(grep -c 'Signature is Valid' "$T/pdfsig")" = 2 ] && ok "sneaky: both signatures are cryptographically valid (pdfsig)" \
	|| not_ok "sneaky: pdfsig: $(cat "$T/pdfsig")"
attacked sneaky 1 'visible signature field .*Sneaky Signature' "Sneaky Signature on P=2"
$ATTACK sneaky "$T/cert-none.pdf" "$T/sneaky-p1.pdf" "$PKI/auth-rsa2048.crt" "$PKI/auth-rsa2048.key"
attacked sneaky-p1 1 'signature field .* was added: the certification permits no change' "a signature on P=1"

finish
