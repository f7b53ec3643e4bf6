#!/usr/bin/env bash
# The main job on an embedded default: install what is needed, build libeid,
# make a demo PKI and a SoftHSM2 token on the fly, sign the sample documents
# in every format (CAdES, PAdES, XAdES, ASiC; B-B to B-LTA), verify them and show the reports.
# As root, an emulated Belgian eID in a virtual reader (behind a private
# pcscd, loopback only) shows its identity data and signs a PDF itself.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/install-deps.sh" >/dev/null
bash "$top/scripts/build.sh" "$top/build" >/dev/null

demo=$(mktemp -d "${TMPDIR:-/tmp}/libeid-demo.XXXXXX")
cleanup() {
	bash "$top/tests/card/pcsc.sh" stop "$demo/pcsc" >/dev/null 2>&1 || true
	bash "$top/tests/pki/servers.sh" stop "$demo/srv" >/dev/null 2>&1 || true
	rm -rf "$demo"
}
trap cleanup EXIT
# the PKI's OCSP, CRL and TSA URLs point at a loopback server this demo starts
port=$(bash "$top/tests/pki/servers.sh" free-port)
bash "$top/tests/pki/make-pki.sh" "$demo/pki" "http://127.0.0.1:$port"
bash "$top/tests/softhsm/make-token.sh" "$demo/pki" "$demo/hsm"
export SOFTHSM2_CONF=$demo/hsm/softhsm2.conf
module=$(ls /usr/lib/*/softhsm/libsofthsm2.so /usr/lib/softhsm/libsofthsm2.so 2>/dev/null | head -1)
export EID_DEMO_PIN=123456     # the demo token's PIN, read through env: below

sign="$top/build/tools/eid-sign"
verify_tool="$top/build/tools/eid-verify"
# The demo PKI's certificates name their OCSP responder and CRL: B-B and B-T
# signatures carry no status of their own, so the verifier asks the loopback
# responder (--online). B-LT and B-LTA signatures are verified offline below.
verify() { "$verify_tool" --online "$@"; }
eval "$(bash "$top/tests/pki/servers.sh" start "$demo/srv" "$demo/pki")"
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
sample="$top/tests/data/samples/contract.txt"
out=${EID_DEMO_OUT:-$demo/out}
mkdir -p "$out"

echo "== The demo token"
"$sign" --module "$module" --list-keys

echo
echo "== CAdES B-B: $(basename "$sample"), signed with the token's signing key"
"$sign" --module "$module" --token libeid-test --pin env:EID_DEMO_PIN -f cades "$sample" -o "$out/contract.txt.p7s"
verify "$out/contract.txt.p7s" --data "$sample" --trust "$demo/pki/root.crt"

echo
echo "== CAdES B-B with the EC P-384 key and RSA-PSS, as JSON"
"$sign" --module "$module" --token libeid-test --cert-label P384 --hash sha384 --pin env:EID_DEMO_PIN \
	-f cades "$sample" -o "$out/contract-p384.p7s"
"$sign" --module "$module" --token libeid-test --key-id 03 --pss --pin env:EID_DEMO_PIN \
	-f cades "$sample" -o "$out/contract-pss.p7s"
verify "$out/contract-p384.p7s" "$out/contract-pss.p7s" --data "$sample" --trust "$demo/pki/root.crt" --json

echo
echo "== CAdES B-B with a PKCS#12 file (a server's key)"
"$sign" --pkcs12 "$demo/pki/citizen-p256.p12" --pass pass:test -f cades "$sample" -o "$out/contract-p12.p7s"
verify "$out/contract-p12.p7s" --data "$sample" --trust "$demo/pki/root.crt" | tail -n 3

echo
echo "== PAdES B-B: a PDF signed twice, by two signers (incremental updates; the second one visible)"
pdf_in=$demo/agreement.pdf
python3 "$top/tests/pdf/pdfgen.py" classic "$pdf_in"
"$sign" --module "$module" --token libeid-test --pin env:EID_DEMO_PIN --reason "Approved" --location "Brussels" \
	"$pdf_in" -o "$out/agreement-signed.pdf"
"$sign" --module "$module" --token libeid-test --cert-label P256 --pin env:EID_DEMO_PIN --reason "Countersigned" \
	--visible page=1,x=330,y=40,w=230,h=64 \
	"$out/agreement-signed.pdf" -o "$out/agreement-signed-twice.pdf"
verify "$out/agreement-signed-twice.pdf" --trust "$demo/pki/root.crt"
if command -v pdfsig >/dev/null; then
	echo "-- what poppler's pdfsig says about the same file:"
	pdfsig -nocert "$out/agreement-signed-twice.pdf" | grep -E 'Signature #|Signer Certificate Common Name|Signature Validation|signed'
fi

echo
echo "== A certified form: certified for form filling and signing, then signed in its empty field Buyer"
python3 "$top/tests/pdf/pdfgen.py" sigfields "$demo/form.pdf"
"$sign" --pkcs12 "$demo/pki/citizen-rsa3072.p12" --pass pass:test --certify forms "$demo/form.pdf" -o "$out/form-certified.pdf"
"$sign" --module "$module" --token libeid-test --pin env:EID_DEMO_PIN --field Buyer \
	"$out/form-certified.pdf" -o "$out/form-signed.pdf"
verify "$out/form-signed.pdf" --trust "$demo/pki/root.crt" | grep -E '^Signature|Indication|Field|Certifies|Result'
echo "-- someone then adds a text box over the certified page (an Evil Annotation):"
python3 "$top/tests/pdf/attack.py" annot "$out/form-signed.pdf" "$demo/form-annotated.pdf" FreeText
verify "$demo/form-annotated.pdf" --trust "$demo/pki/root.crt" | grep -E '^Signature|Indication|Failure|Result' || true

echo
echo "== XAdES B-B: an XML invoice signed enveloped, and two files signed detached"
cat > "$demo/invoice.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<invoice xmlns="urn:example:invoice"><id>2026-042</id><amount currency="EUR">1250.00</amount></invoice>
EOF
"$sign" --module "$module" --token libeid-test --pin env:EID_DEMO_PIN "$demo/invoice.xml" -o "$out/invoice-signed.xml"
verify "$out/invoice-signed.xml" --trust "$demo/pki/root.crt" | grep -E '^Signature|Indication|Signed by|Signed data|Result'
mkdir -p "$demo/files"
cp "$sample" "$demo/files/"
cp "$demo/invoice.xml" "$demo/files/"
"$sign" --module "$module" --token libeid-test --cert-label P256 --pin env:EID_DEMO_PIN -f xades \
	"$demo/files/$(basename "$sample")" "$demo/files/invoice.xml" -o "$out/files-signature.xml"
verify "$out/files-signature.xml" --data "$demo/files" --trust "$demo/pki/root.crt" |
	grep -E '^Signature|Indication|Signed by|Signed data|   +file|Result'

echo
echo "== ASiC-E: a container with the contract and the invoice, signed by two signers"
(cd "$demo/files" && "$sign" --module "$module" --token libeid-test --pin env:EID_DEMO_PIN \
	"$(basename "$sample")" invoice.xml -o "$out/dossier.asice")
"$sign" --pkcs12 "$demo/pki/citizen-p384.p12" --pass pass:test "$out/dossier.asice" -o "$out/dossier.asice"
verify "$out/dossier.asice" --trust "$demo/pki/root.crt" | grep -E '^Signature|Indication|Signed by|Field|Signed data|   +file|Result'

echo
echo "== B-T and revocation: a timestamp from a TSA on 127.0.0.1, and the signer's status from its OCSP responder"
"$sign" --module "$module" --token libeid-test --pin env:EID_DEMO_PIN -l B-T --tsa "$EID_TEST_TSA_URL" \
	"$pdf_in" -o "$out/agreement-t.pdf"
verify "$out/agreement-t.pdf" --trust "$demo/pki/root.crt" | grep -E '^Signature|Indication|Timestamp|Revocation'

echo
echo "== B-LT and B-LTA: the validation data goes into the signature, then an archive timestamp over all of it"
"$sign" --module "$module" --token libeid-test --pin env:EID_DEMO_PIN -l B-LTA --tsa "$EID_TEST_TSA_URL" \
	"$pdf_in" -o "$out/agreement-lta.pdf"
"$sign" --extend B-LT --tsa "$EID_TEST_TSA_URL" "$out/invoice-signed.xml" -o "$out/invoice-lt.xml"
"$sign" --extend B-LTA --tsa "$EID_TEST_TSA_URL" "$out/contract.txt.p7s" --data "$sample" -o "$out/contract-lta.p7s"
"$sign" --extend B-LTA --tsa "$EID_TEST_TSA_URL" "$out/dossier.asice" -o "$out/dossier-lta.asice"

echo "-- the signer's certificate is revoked now: the timestamp proves the signature came first"
sleep 2 # revocation times are in whole seconds
curl -s -f -X POST "$EID_TEST_PKI_URL/admin/revoke?cert=citizen-rsa2048&reason=keyCompromise" >/dev/null
verify "$out/agreement-t.pdf" --trust "$demo/pki/root.crt" | grep -E 'Indication|Revocation|revoked at'

echo
echo "== A tampered document is caught"
cp "$sample" "$demo/tampered.txt"
printf 'I also owe you 1000 EUR.\n' >> "$demo/tampered.txt"
status=0
verify "$out/contract.txt.p7s" --data "$demo/tampered.txt" --trust "$demo/pki/root.crt" | grep -E 'Indication|Failure|Result' || status=$?

if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v pcscd >/dev/null && [ -e /etc/reader.conf.d/vpcd ]; then
	echo
	echo "== An ID card: an emulated Belgian eID in a virtual reader (real APDUs through pcscd)"
	card="$top/build/tools/eid-card"
	bash "$top/tests/card/mkcards.sh" "$demo/cards" "$demo/pki"
	eval "$(bash "$top/tests/card/pcsc.sh" start "$demo/pcsc")"
	export PCSCLITE_CSOCK_NAME
	bash "$top/tests/card/pcsc.sh" insert "$demo/pcsc" "$demo/cards/belpic-1.8" >/dev/null
	"$card" readers
	"$card" identity
	echo "-- signing a PDF with the card's own signature key (PIN 1234)"
	"$sign" --card --pin pass:1234 --visible page=1,x=40,y=40,w=230,h=64 "$pdf_in" -o "$out/agreement-card.pdf"
	cat "$demo/pki/root.crt" "$demo/pki/int.crt" > "$demo/anchors.pem"
	verify "$out/agreement-card.pdf" --trust "$demo/anchors.pem" | grep -E '^Signature|Indication|Signed by|Algorithm'
fi
echo
echo "== Long-term signatures offline"
echo "-- every server is stopped now: the long-term signatures are judged offline, on what they carry"
bash "$top/tests/pki/servers.sh" stop "$demo/srv" >/dev/null
"$verify_tool" "$out/agreement-lta.pdf" "$out/invoice-lt.xml" "$out/contract-lta.p7s" "$out/dossier-lta.asice" \
	--data "$sample" --trust "$demo/pki/root.crt" | grep -E '^(File|Signature)|Indication|Timestamp|Archived|Revocation|Result'
echo "-- a B-T signature without its status, offline: the verdict must wait (TRY_LATER)"
"$verify_tool" "$out/agreement-t.pdf" --trust "$demo/pki/root.crt" | grep -E 'Indication|not known' || true
echo
echo "Demo done: every signature above was made on a SoftHSM2 token created for this run, or on an emulated card."
