#!/usr/bin/env bash
# Interop with npm's @signpdf/signpdf: we verify what it signs, and sign on top of it.
# @signpdf writes /ETSI.CAdES.detached without signing-certificate-v2: the
# cryptography must verify, and the verdict is INDETERMINATE /
# NO_SIGNING_CERTIFICATE_FOUND (the certificate is not bound to the signature).
. "$EID_TEST_SRCDIR/tests/lib.sh"
CORPUS=${EID_TEST_PDF:?}
node_dir=${EID_TEST_NODE_DIR:-$EID_TEST_SRCDIR/tests/interop/node}
if ! command -v node >/dev/null || [ ! -d "$node_dir/node_modules/@signpdf/signpdf" ]; then
	echo "# skip: run scripts/install-deps.sh to install the npm interop packages"
	exit 77
fi
sign_js() { node "$node_dir/signpdf-sign.mjs" "$@"; }

# qpdf's warnings about a file, without the file name
qpdf_warnings() { qpdf --check "$1" 2>&1 | sed -n 's/^WARNING: [^:]*: //p' | sort -u; }

# @signpdf reads classic cross-reference tables only, and RSA keys only (node-forge)
for name in classic-1.3 lo-writer incremental; do
	expect_status 0 "$name: @signpdf signs" sign_js "$CORPUS/$name.pdf" "$PKI/citizen-rsa2048.p12" test "$T/$name-sp.pdf"
	expect_status 1 "$name: we verify @signpdf's signature" "$VERIFY" "$T/$name-sp.pdf" --trust "$PKI/root.crt"
	expect_grep 'INDETERMINATE / NO_SIGNING_CERTIFICATE_FOUND' "$T/out" "$name: no signing-certificate-v2 is named"
	if grep -qE 'HASH_FAILURE|SIG_CRYPTO_FAILURE' "$T/out"; then not_ok "$name: cryptographic failure"; else ok "$name: digest and signature value verify"; fi
	expect_status 0 "$name: we sign on top of @signpdf" p11sign --key-id 04 --pin pass:$PIN "$T/$name-sp.pdf" -o "$T/$name-sp2.pdf"
	# @signpdf's own revision makes qpdf warn ("extraneous whitespace seen before xref"): ours adds nothing
	[ "$(qpdf_warnings "$T/$name-sp2.pdf")" = "$(qpdf_warnings "$T/$name-sp.pdf")" ] \
		&& ok "$name: qpdf finds nothing new in our revision" || not_ok "$name: our revision adds qpdf warnings"
	pdfsig -nocert "$T/$name-sp2.pdf" > "$T/pdfsig.txt" 2>&1 || true
	[ "$(grep -c 'Signature is Valid' "$T/pdfsig.txt")" = 2 ] && ok "$name: pdfsig accepts both" || not_ok "$name: pdfsig on the mixed file"
	expect_status 1 "$name: both verified (ours passes, theirs indeterminate)" "$VERIFY" "$T/$name-sp2.pdf" --trust "$PKI/root.crt" --json
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["signatures"]; assert [x["indication"] for x in s]==["INDETERMINATE","TOTAL-PASSED"], s' "$T/out" \
		&& ok "$name: verdicts per signature" || not_ok "$name: verdicts per signature"
done
expect_status 0 "@signpdf with adbe.pkcs7.detached" sign_js "$CORPUS/classic-1.3.pdf" "$PKI/citizen-rsa3072.p12" test "$T/adbe.pdf" adbe
expect_status 1 "we verify it" "$VERIFY" "$T/adbe.pdf" --trust "$PKI/root.crt"
if grep -qE 'HASH_FAILURE|SIG_CRYPTO_FAILURE' "$T/out"; then not_ok "adbe: cryptographic failure"; else ok "adbe: digest and signature value verify"; fi

finish
