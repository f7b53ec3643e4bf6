#!/usr/bin/env bash
# XAdES: eid-sign makes enveloped, enveloping and detached signatures with
# SoftHSM2 keys; xmlsec1 (the XML-DSig core), the npm xadesjs verifier and
# eid-verify must accept them.  We verify what xadesjs and xmlsec1 sign, and
# reject what was changed or forged (the XML signature attack families).
. "$EID_TEST_SRCDIR/tests/lib.sh"
NODE_DIR=${EID_TEST_NODE_DIR:-$EID_TEST_SRCDIR/tests/interop/node}
verify() { "$VERIFY" "$@" --trust "$PKI/root.crt"; }
xmlsec() { # FILE [dir to run in, for detached references]
	(cd "${2:-$T}" && xmlsec1 --verify --trusted-pem "$PKI/root.crt" --untrusted-pem "$PKI/int.crt" \
		--id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties "$1")
}
xadesjs() { node "$NODE_DIR/xades-verify.mjs" "$@"; }
have_node=0
[ -d "$NODE_DIR/node_modules/xadesjs" ] && command -v node >/dev/null && have_node=1
[ $have_node = 1 ] && ok "xadesjs is installed" || not_ok "xadesjs missing: run scripts/install-deps.sh"

cat > "$T/invoice.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<invoice xmlns="urn:example:invoice" xmlns:x="urn:example:extra">
  <id>42</id>
  <amount currency="EUR">12.50</amount>
  <!-- a comment is not signed -->
  <note x:lang="fr">Jérôme Øster-Łukasz</note>
</invoice>
EOF
printf 'Payment order: 12.50 EUR to BE71 0961 2345 6769\n' > "$T/order.txt"
mkdir -p "$T/files"
cp "$T/order.txt" "$T/files/order.txt"
printf 'Annex with a non-ASCII name\n' > "$T/files/Überweisung März 2026.txt"

# --- what we sign, checked by the three verifiers
for key in "01 RSA" "04 P-256" "05 P-384"; do
	set -- $key
	id=$1 kind=$2
	hash=sha256; [ "$kind" = P-384 ] && hash=sha384
	expect_status 0 "$kind: enveloped" p11sign --key-id $id --pin pass:$PIN --hash $hash "$T/invoice.xml" -o "$T/env-$kind.xml"
	expect_status 0 "$kind: enveloped, eid-verify" verify "$T/env-$kind.xml"
	expect_grep 'XAdES-BASELINE-B' "$T/out" "$kind: enveloped, level XAdES-BASELINE-B"
	expect_grep 'Signed data: +the whole document' "$T/out" "$kind: enveloped, the whole document is signed"
	expect_status 0 "$kind: enveloped, xmlsec1" xmlsec "$T/env-$kind.xml"
	[ $have_node = 1 ] && expect_status 0 "$kind: enveloped, xadesjs" xadesjs "$T/env-$kind.xml"
	expect_status 0 "$kind: enveloping" p11sign --key-id $id --pin pass:$PIN -f xades --packaging enveloping \
		"$T/invoice.xml" -o "$T/enc-$kind.xml"
	expect_status 0 "$kind: enveloping, eid-verify" verify "$T/enc-$kind.xml"
	expect_status 0 "$kind: enveloping, xmlsec1" xmlsec "$T/enc-$kind.xml"
	[ $have_node = 1 ] && expect_status 0 "$kind: enveloping, xadesjs" xadesjs "$T/enc-$kind.xml"
done
expect_status 0 "enveloping a text file (base64)" p11sign --key-id 01 --pin pass:$PIN -f xades --packaging enveloping \
	"$T/order.txt" -o "$T/enc-b64.xml"
expect_status 0 "enveloping base64: eid-verify" verify "$T/enc-b64.xml"
expect_grep 'text/plain' "$T/out" "enveloping base64: the media type is reported"
expect_status 0 "enveloping base64: xmlsec1" xmlsec "$T/enc-b64.xml"
[ $have_node = 1 ] && expect_status 0 "enveloping base64: xadesjs" xadesjs "$T/enc-b64.xml"
expect_status 0 "RSA-PSS enveloped" p11sign --key-id 01 --pin pass:$PIN --pss "$T/invoice.xml" -o "$T/pss.xml"
expect_status 0 "RSA-PSS: eid-verify" verify "$T/pss.xml"
expect_grep 'RSA-PSS' "$T/out" "RSA-PSS is reported"
[ $have_node = 1 ] && expect_status 0 "RSA-PSS: xadesjs" xadesjs "$T/pss.xml"
# detached over two files, one with spaces and non-ASCII letters in its name
expect_status 0 "detached over two files" p11sign --key-id 04 --pin pass:$PIN -f xades --packaging detached \
	"$T/files/order.txt" "$T/files/Überweisung März 2026.txt" -o "$T/files/det.xml"
expect_grep 'URI="%C3%9Cberweisung%20M%C3%A4rz%202026.txt"' "$T/files/det.xml" "the file name is percent-encoded in the URI"
expect_status 0 "detached: eid-verify with --data DIR" verify "$T/files/det.xml" --data "$T/files"
expect_grep "file 'Überweisung März 2026.txt'" "$T/out" "detached: the decoded file name is reported"
expect_status 0 "detached: xmlsec1" xmlsec det.xml "$T/files"
[ $have_node = 1 ] && expect_status 0 "detached: xadesjs" xadesjs "$T/files/det.xml" --detached order.txt="$T/files/order.txt" \
	--detached "%C3%9Cberweisung%20M%C3%A4rz%202026.txt=$T/files/Überweisung März 2026.txt"
expect_status 1 "detached without the files: INDETERMINATE" verify "$T/files/det.xml"
expect_grep 'SIGNED_DATA_NOT_FOUND' "$T/out" "... SIGNED_DATA_NOT_FOUND"
printf 'Payment order: 99999 EUR\n' > "$T/order.txt"
mkdir -p "$T/changed" && cp "$T/order.txt" "$T/changed/order.txt" && cp "$T/files/Überweisung März 2026.txt" "$T/changed/"
expect_status 2 "detached with a changed file: TOTAL-FAILED" verify "$T/files/det.xml" --data "$T/changed"
expect_grep 'HASH_FAILURE' "$T/out" "... HASH_FAILURE"

# --- signature policy and role: what the signer names, reported as such
printf 'Policy: sign only invoices you have read.\n' > "$T/policy.txt"
expect_status 0 "explicit policy and role: signed" p11sign --key-id 01 --pin pass:$PIN --policy 1.3.6.1.4.1.99999.1.2 \
	--policy-file "$T/policy.txt" --policy-uri https://example.org/policy.txt --role "Chief accountant" \
	"$T/invoice.xml" -o "$T/policy.xml"
expect_status 0 "... eid-verify" verify "$T/policy.xml"
want=$(openssl dgst -sha256 -binary "$T/policy.txt" | base64)
expect_grep "^  Policy: +urn:oid:1\.3\.6\.1\.4\.1\.99999\.1\.2, document digest SHA-256 $want, at https://example\.org/policy\.txt" "$T/out" \
	"... the policy's identifier and its document's digest are reported"
expect_grep "^  Role: +Chief accountant" "$T/out" "... the claimed role is reported"
expect_grep "policy's document was not checked" "$T/out" "... with a warning that the policy itself is not judged"
expect_grep 'Qualifier="OIDAsURN">urn:oid:1\.3\.6\.1\.4\.1\.99999\.1\.2<' "$T/policy.xml" "... an OID as a URN with its qualifier"
expect_status 0 "... xmlsec1" xmlsec "$T/policy.xml"
# xadesjs cannot parse a SigPolicyQualifier (SPURI): it checks the same policy without one
expect_status 0 "the same policy without its URI" p11sign --key-id 01 --pin pass:$PIN --policy 1.3.6.1.4.1.99999.1.2 \
	--policy-file "$T/policy.txt" --role "Chief accountant" "$T/invoice.xml" -o "$T/policy2.xml"
if [ $have_node = 1 ]; then expect_status 0 "... xadesjs" xadesjs "$T/policy2.xml"; fi
expect_status 0 "implied policy" p11sign --key-id 01 --pin pass:$PIN --policy-implied "$T/invoice.xml" -o "$T/implied.xml"
expect_status 0 "... eid-verify" verify "$T/implied.xml"
expect_grep "^  Policy: +implied" "$T/out" "... reported as implied"
expect_status 3 "--policy without --policy-file: refused" p11sign --key-id 01 --pin pass:$PIN --policy 1.2.3 "$T/invoice.xml" -o "$T/nopol.xml"
expect_no_file "$T/nopol.xml" "... nothing written"
expect_status 3 "--policy with --policy-implied: refused" p11sign --key-id 01 --pin pass:$PIN --policy 1.2.3 \
	--policy-file "$T/policy.txt" --policy-implied "$T/invoice.xml" -o "$T/nopol.xml"
expect_status 0 "an ASiC-E with an explicit policy" p11sign --key-id 04 --pin pass:$PIN --policy https://example.org/policy \
	--policy-file "$T/policy.txt" "$T/order.txt" -o "$T/policy.asice"
expect_status 0 "... eid-verify" verify "$T/policy.asice"
expect_grep "^  Policy: +https://example\.org/policy, document digest" "$T/out" "... a URI identifier as it is"

# --- what others sign, checked by us
if [ $have_node = 1 ]; then
	for key in rsa2048 p256 p384; do
		expect_status 0 "xadesjs signs ($key, enveloped)" node "$NODE_DIR/xades-sign.mjs" "$T/invoice.xml" \
			"$T/xjs-$key.xml" "$PKI/citizen-$key.key" "$PKI/citizen-$key.crt" "$PKI/int.crt"
		expect_status 0 "we verify xadesjs ($key, enveloped)" verify "$T/xjs-$key.xml"
		expect_grep 'TOTAL-PASSED' "$T/out" "xadesjs ($key): TOTAL-PASSED"
	done
	node "$NODE_DIR/xades-sign.mjs" "$T/invoice.xml" "$T/xjs-enc.xml" "$PKI/citizen-rsa2048.key" \
		"$PKI/citizen-rsa2048.crt" "$PKI/int.crt" --enveloping 2>/dev/null
	expect_status 0 "we verify xadesjs (enveloping)" verify "$T/xjs-enc.xml"
	(cd "$T/files" && node "$NODE_DIR/xades-sign.mjs" "$T/invoice.xml" "$T/files/xjs-det.xml" "$PKI/citizen-p256.key" \
		"$PKI/citizen-p256.crt" "$PKI/int.crt" --detached order.txt 2>/dev/null)
	expect_status 0 "we verify xadesjs (detached)" verify "$T/files/xjs-det.xml" --data "$T/files/order.txt"
fi
# xmlsec1 signs a plain XML-DSig template: the cryptography passes, the certificate is not bound
cat > "$T/tmpl.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<doc xmlns="urn:example"><a>1</a><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature></doc>
EOF
expect_status 0 "xmlsec1 signs an XML-DSig template" xmlsec1 --sign --privkey-pem "$PKI/citizen-rsa2048.key,$PKI/citizen-rsa2048.crt" \
	--output "$T/xmlsec-signed.xml" "$T/tmpl.xml"
expect_status 1 "we verify xmlsec1's signature: INDETERMINATE" verify "$T/xmlsec-signed.xml"
expect_grep 'XML-DSig' "$T/out" "... reported as XML-DSig (no XAdES properties)"
expect_grep 'NO_SIGNING_CERTIFICATE_FOUND' "$T/out" "... the certificate is not bound: NO_SIGNING_CERTIFICATE_FOUND"
if grep -qE 'HASH_FAILURE|SIG_CRYPTO_FAILURE' "$T/out"; then not_ok "xmlsec1's cryptography rejected"; else ok "xmlsec1's cryptography accepted"; fi

# --- changed after signing
edit() { # IN OUT PYTHON-EXPR-ON-d (bytes)
	python3 -c 'import sys, re; d = open(sys.argv[1], "rb").read(); d = eval(sys.argv[3]); open(sys.argv[2], "wb").write(d)' "$@"
}
edit "$T/env-RSA.xml" "$T/t-content.xml" 'd.replace(b"12.50", b"99.50", 1)'
expect_status 2 "a changed amount: TOTAL-FAILED" verify "$T/t-content.xml"
expect_grep 'HASH_FAILURE' "$T/out" "... HASH_FAILURE"
edit "$T/env-RSA.xml" "$T/t-comment.xml" 'd.replace(b"<!-- a comment is not signed -->", b"<!-- another comment -->", 1)'
expect_status 0 "a changed comment is not a change of the signed data (C14N without comments)" verify "$T/t-comment.xml"
edit "$T/env-RSA.xml" "$T/t-time.xml" 're.sub(rb"<xades:SigningTime>\d{4}", b"<xades:SigningTime>2001", d)'
expect_status 2 "a changed SigningTime: TOTAL-FAILED" verify "$T/t-time.xml"
expect_grep 'signed properties were changed' "$T/out" "... the signed properties are named"
edit "$T/env-RSA.xml" "$T/t-value.xml" 're.sub(rb"(<ds:SignatureValue[^>]*>)(.)", lambda m: m.group(1) + (b"B" if m.group(2) == b"A" else b"A"), d)'
expect_status 2 "a changed SignatureValue: TOTAL-FAILED" verify "$T/t-value.xml"
expect_grep 'SIG_CRYPTO_FAILURE' "$T/out" "... SIG_CRYPTO_FAILURE"

# --- XML signature attacks
# Signature wrapping: the signed Object copied, same Id, with other content
edit "$T/enc-RSA.xml" "$T/xsw-dup.xml" 're.sub(rb"(<ds:Object Id=\"[^\"]+\">)(.*?)(</ds:Object>)", lambda m: m.group(0) + m.group(1) + m.group(2).replace(b"12.50", b"99.50") + m.group(3), d, count=1, flags=re.S)'
expect_status 2 "wrapping: a second element with the signed Id: TOTAL-FAILED" verify "$T/xsw-dup.xml"
expect_grep 'occurs more than once' "$T/out" "... duplicate Ids are named"
# Signature wrapping: the signed Object moved under a wrapper element (still signed, reported where it is)
edit "$T/enc-RSA.xml" "$T/xsw-move.xml" 're.sub(rb"(<ds:Object Id=\"[^\"]+\">.*?</ds:Object>)", lambda m: b"<ds:Object><wrapper xmlns=\"urn:evil\">" + m.group(1) + b"</wrapper></ds:Object><ds:Object><invoice xmlns=\"urn:example:invoice\"><amount>99.50</amount></invoice></ds:Object>", d, count=1, flags=re.S)'
verify "$T/xsw-move.xml" >"$T/out" 2>&1 || true
expect_grep "Signed data: +element Object with Id" "$T/out" "wrapping: the report names exactly the element the digest covered"
expect_grep "ds:Object [0-9]+ of the signature is not signed" "$T/out" "wrapping: the unsigned decoy object is pointed out"
# Comments inside DigestValue
edit "$T/env-RSA.xml" "$T/t-dv-comment.xml" 're.sub(rb"(<ds:DigestValue>)(.{8})", lambda m: m.group(1) + m.group(2) + b"<!-- x -->", d, count=1)'
expect_status 2 "a comment inside DigestValue: TOTAL-FAILED" verify "$T/t-dv-comment.xml"
expect_grep 'FORMAT_FAILURE' "$T/out" "... FORMAT_FAILURE"
# Two SignedInfo
edit "$T/env-RSA.xml" "$T/t-two-si.xml" 're.sub(rb"(<ds:SignedInfo>.*?</ds:SignedInfo>)", lambda m: m.group(1) + m.group(1), d, count=1, flags=re.S)'
expect_status 2 "two SignedInfo: TOTAL-FAILED" verify "$T/t-two-si.xml"
expect_grep 'one SignedInfo' "$T/out" "... named"
# A second, unreferenced SignedProperties
edit "$T/env-RSA.xml" "$T/t-two-sp.xml" 're.sub(rb"(<xades:SignedProperties Id=\")([^\"]+)(\">.*?</xades:SignedProperties>)", lambda m: m.group(0) + m.group(1) + b"other-" + m.group(2) + m.group(3).replace(b"<xades:SigningTime>2", b"<xades:SigningTime>1"), d, count=1, flags=re.S)'
expect_status 2 "a second, unreferenced SignedProperties: TOTAL-FAILED" verify "$T/t-two-sp.xml"
expect_grep 'two SignedProperties' "$T/out" "... named"
# KeyInfo with the attacker's certificate first: the signer is the one SigningCertificateV2 names
attacker=$(sed -n '/BEGIN CERT/,/END CERT/p' "$PKI/other-citizen.crt" | grep -v -- '-----' | tr -d '\n')
edit "$T/env-RSA.xml" "$T/t-keyinfo.xml" "d.replace(b'<ds:X509Data>', b'<ds:X509Data><ds:X509Certificate>$attacker</ds:X509Certificate>', 1)"
expect_status 0 "KeyInfo with an attacker certificate first: still the real signer" verify "$T/t-keyinfo.xml"
expect_grep 'Jérôme' "$T/out" "... the real signer is named"
# DOCTYPE: entities (billion laughs, external entities) and entity-built Ids are refused before parsing them
cat > "$T/laughs.xml" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lolz>&lol3;</lolz>
EOF
expect_status 3 "billion laughs: refused" verify "$T/laughs.xml"
expect_grep 'DOCTYPE' "$T/err" "... the DOCTYPE is named"
printf '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<d>&e;</d>\n' > "$T/xxe.xml"
expect_status 3 "an external entity: refused" verify "$T/xxe.xml"
expect_status 3 "enveloped signing of a document with a DOCTYPE: refused" p11sign --key-id 01 --pin pass:$PIN "$T/laughs.xml" -o "$T/x.xml"
expect_no_file "$T/x.xml" "nothing written"
printf '<a><b>' > "$T/broken.xml"
expect_status 3 "malformed XML: exit 3" verify "$T/broken.xml"
expect_status 3 "enveloped signing of malformed XML: exit 3" p11sign --key-id 01 --pin pass:$PIN "$T/broken.xml" -o "$T/x.xml"
expect_no_file "$T/x.xml" "nothing written"

finish
