#!/usr/bin/env bash
# CAdES B-LT and B-LTA against our own PKI on 127.0.0.1 (tests/pki/servers.py:
# TSA, OCSP, CRLs): signing straight to B-LT/B-LTA, extending B-B and B-T
# signatures, renewing an archive timestamp; eid-verify judges them offline
# from the data they carry; `openssl cms -verify` still accepts them; the
# archive-time-stamp-v3 imprint, recomputed here in Python from EN 319 122-1
# 5.5.3, is what the TSA stamped (`openssl ts -verify`); servers that fail,
# a revoked signer and tampered archive timestamps.
. "$EID_TEST_SRCDIR/tests/lib.sh"
HERE=$EID_TEST_SRCDIR/tests/pki
pki_servers
sign() { "$SIGN" --pkcs12 "$P/${KEY:-citizen-rsa2048}.p12" --pass pass:test "$@"; }
extend() { "$SIGN" --tsa "${XTSA:-$TSA}" --extend "$@"; }
check() { "$VERIFY" --json --trust "$P/root.crt" --untrusted "$P/int.crt" "$@"; }
ocsp_mode() { curl -s -f -X POST "$BASE/admin/ocsp-mode?mode=$1" >/dev/null; }
printf 'Contract: 12.50 EUR.\n' > "$T/doc.txt"

# An independent reading of the CMS: counts, the last archive timestamp's token and
# imprint, and tampering.  A small DER parser of its own; nothing from libeid.
cat > "$T/cms.py" <<'PY'
import hashlib, sys
OID_ATS = bytes.fromhex("04008d450204")         # 0.4.0.1733.2.4 archive-time-stamp-v3
OID_IDX = bytes.fromhex("04008195320105")       # 0.4.0.19122.1.5 ats-hash-index-v3
OID_OCSP = bytes.fromhex("2b06010505071002")    # 1.3.6.1.5.5.7.16.2 id-ri-ocsp-response
def parse(b, i=0):                              # -> [tag, children | bytes], next index
    t = b[i]; i += 1; n = b[i]; i += 1
    if n & 0x80:
        k = n & 0x7f; n = int.from_bytes(b[i:i + k], "big"); i += k
    v = b[i:i + n]
    if t & 0x20:
        kids, j = [], 0
        while j < n:
            c, j = parse(v, j); kids.append(c)
        return [t, kids], i + n
    return [t, v], i + n
def enc(node):
    t, v = node
    body = b"".join(enc(c) for c in v) if isinstance(v, list) else v
    n = len(body)
    k = (n.bit_length() + 7) // 8
    return bytes([t]) + (bytes([n]) if n < 128 else bytes([0x80 | k]) + n.to_bytes(k, "big")) + body
def signed_data(ci): return ci[1][1][1][0]
def field(sd, tag): return next((c for c in sd[1][3:-1] if c[0] == tag), [tag, []])
def signer(sd): return sd[1][-1][1][0]
def attrs(si, oid):
    ua = si[1][-1] if si[1][-1][0] == 0xa1 else [0xa1, []]
    return [a for a in ua[1] if a[1][0][1] == oid]
def h(b): return hashlib.sha256(b).digest()
cmd, path = sys.argv[1], sys.argv[2]
ci, _ = parse(open(path, "rb").read())
sd = signed_data(ci); si = signer(sd)
certs, crls = field(sd, 0xa0), field(sd, 0xa1)
if cmd == "count":
    print("version=%d certs=%d crls=%d ocsp=%d ats=%d" % (sd[1][0][1][0], len(certs[1]),
          sum(1 for c in crls[1] if c[0] == 0x30),
          sum(1 for c in crls[1] if c[0] == 0xa1 and c[1][0][1] == OID_OCSP), len(attrs(si, OID_ATS))))
elif cmd == "ats":                              # ats CMS DATA TOKEN_OUT: print the imprint, check the index
    ats = attrs(si, OID_ATS)[-1]
    token = ats[1][1][1][0]
    index = attrs(signer(signed_data(token)), OID_IDX)[0][1][1][1][0]
    covered = b"".join(enc(c) for c in si[1] if c[0] != 0xa1)
    data = open(sys.argv[3], "rb").read()
    imprint = h(enc(sd[1][2][1][0]) + h(data) + covered + enc(index))
    open(sys.argv[4], "wb").write(enc(token))
    # the index of the last archive timestamp: every element there is now, but itself
    ua = [a for a in si[1][-1][1] if a is not ats]
    want = [[0x04, h(enc(c))] for c in certs[1]], [[0x04, h(enc(c))] for c in crls[1]], \
           [[0x04, h(enc(a[1][0]) + enc(v))] for a in ua for v in a[1][1][1]]
    ok = [sorted(enc(x) for x in index[1][k + 1][1]) == sorted(enc(x) for x in want[k]) for k in range(3)]
    print(imprint.hex(), "index-ok" if all(ok) and len(index[1]) == 4 else "index-differs %s" % ok)
elif cmd == "kept":                             # kept OLD NEW: OLD's signer, content and attributes unchanged in NEW
    sd2 = signed_data(parse(open(sys.argv[3], "rb").read())[0]); si2 = signer(sd2)
    cov = lambda s: b"".join(enc(c) for c in s[1] if c[0] != 0xa1)
    ua = lambda s: [enc(a) for a in s[1][-1][1]] if s[1][-1][0] == 0xa1 else []
    same = cov(si) == cov(si2) and ua(si2)[:len(ua(si))] == ua(si) and len(ua(si2)) > len(ua(si)) and \
        enc(sd[1][1]) == enc(sd2[1][1]) and enc(sd[1][2]) == enc(sd2[1][2]) and \
        all(enc(c) in [enc(d) for d in field(sd2, 0xa0)[1]] for c in certs[1])
    sys.exit(0 if same else 1)
elif cmd in ("tamper-index", "tamper-sig", "drop-crl"):
    ats = attrs(si, OID_ATS)[0]
    tsi = signer(signed_data(ats[1][1][1][0]))
    if cmd == "tamper-index":                   # one hash of the first archive timestamp's index
        node = attrs(tsi, OID_IDX)[0][1][1][1][0][1][1][1][0]
    elif cmd == "tamper-sig":                   # the first archive timestamp token's signature value
        node = [c for c in tsi[1] if c[0] == 0x04][-1]
    if cmd == "drop-crl":
        crls[1].remove(next(c for c in crls[1] if c[0] == 0x30))
    else:
        node[1] = node[1][:-1] + bytes([node[1][-1] ^ 1])
    open(sys.argv[3], "wb").write(enc(ci))
PY
count() { /usr/bin/python3 "$T/cms.py" count "$1"; }
cms_ok() { # DESC CMS: openssl cms -verify over the detached content
	expect_status 0 "$1: openssl cms -verify" openssl cms -verify -binary -inform DER -in "$2" -content "$T/doc.txt" \
		-CAfile "$P/chain.pem" -purpose any -out /dev/null
}
ts_ok() { # DESC CMS: the last archive timestamp's token over the imprint computed here
	local out
	out=$(/usr/bin/python3 "$T/cms.py" ats "$2" "$T/doc.txt" "$T/ats.tst")
	if [ "${out#* }" = index-ok ]; then ok "$1: the ATSHashIndexV3 lists every element, hashed as 5.5.2 says"; else
		not_ok "$1: $out"; fi
	if openssl ts -verify -token_in -in "$T/ats.tst" -digest "${out%% *}" -CAfile "$P/root.crt" \
		-untrusted "$P/int.crt" >"$T/tsv" 2>&1; then ok "$1: openssl ts -verify accepts the archive timestamp"; else
		not_ok "$1: openssl ts -verify: $(tail -2 "$T/tsv")"; fi
}
level_is() { # LEVEL DESC (of the last check)
	expect_grep '"indication": "TOTAL-PASSED"' "$T/out" "$2: TOTAL-PASSED"
	expect_grep "\"level\": \"CAdES-BASELINE-$1\"" "$T/out" "$2: CAdES-BASELINE-$1"
}

# ---- signing straight to B-LT and B-LTA
expect_status 0 "eid-sign -f cades -l B-LT" sign -f cades -l B-LT --tsa "$TSA" "$T/doc.txt" -o "$T/lt.p7s"
expect_status 0 "... eid-verify offline" check "$T/lt.p7s" --data "$T/doc.txt"
level_is LT "..."
expect_grep '"revocation": "good \(OCSP by CN=libeid Test OCSP Responder' "$T/out" "... the signer's status from the embedded OCSP response"
cms_ok "..." "$T/lt.p7s"
count "$T/lt.p7s" > "$T/n"
expect_grep "version=5 certs=5 crls=1 ocsp=2 ats=0" "$T/n" "... SignedData v5: the path and the TSA's, a CRL, RFC 5940 OCSP responses (signer, CA)"

# the CRL this signature carries for its TSAs is older than its archive timestamp (renewal below
# must then add a newer one)
curl -s -f -X POST "$BASE/admin/gencrl" >/dev/null
sleep 2
expect_status 0 "eid-sign -f cades -l B-LTA" sign -f cades -l B-LTA --tsa "$TSA" "$T/doc.txt" -o "$T/lta.p7s"
expect_status 0 "... eid-verify offline" check "$T/lta.p7s" --data "$T/doc.txt"
level_is LTA "..."
cms_ok "..." "$T/lta.p7s"
ts_ok "..." "$T/lta.p7s"
KEY=citizen-p256 expect_status 0 "ECDSA P-256, -l B-LTA" sign -f cades -l B-LTA --tsa "$TSA" "$T/doc.txt" -o "$T/lta-ec.p7s"
expect_status 0 "... eid-verify offline" check "$T/lta-ec.p7s" --data "$T/doc.txt"
level_is LTA "..."
cms_ok "..." "$T/lta-ec.p7s"
ts_ok "..." "$T/lta-ec.p7s"

# ---- extending B-B and B-T
sign -f cades "$T/doc.txt" -o "$T/b.p7s"
sign -f cades -l B-T --tsa "$TSA" "$T/doc.txt" -o "$T/t.p7s"
# the TSA's certificate names only a CRL: one issued after the timestamp speaks of its status then
curl -s -f -X POST "$BASE/admin/gencrl" >/dev/null
expect_status 0 "--extend B-T from B-B" extend B-T "$T/b.p7s" -o "$T/b-T.p7s"
expect_status 0 "... eid-verify --online (B-T carries no status)" "$VERIFY" --json --trust "$P/root.crt" --untrusted "$P/int.crt" --online "$T/b-T.p7s" --data "$T/doc.txt"
level_is T "..."
for from in b t; do
	for to in LT LTA; do
		expect_status 0 "--extend B-$to from B-${from^^}" extend "B-$to" "$T/$from.p7s" --data "$T/doc.txt" -o "$T/$from-$to.p7s"
		expect_status 0 "... eid-verify offline" check "$T/$from-$to.p7s" --data "$T/doc.txt"
		level_is "$to" "..."
		cms_ok "..." "$T/$from-$to.p7s"
		[ "$to" = LTA ] && ts_ok "..." "$T/$from-$to.p7s"
	done
done
# what was there keeps its bytes: the SignerInfo's fields and earlier unsigned attributes, the content info
if /usr/bin/python3 "$T/cms.py" kept "$T/t.p7s" "$T/t-LTA.p7s"; then ok "extending keeps the bytes of everything it does not add"; else
	not_ok "extending changed bytes it should keep"; fi
expect_status 0 "--extend B-LT of a B-LT signature" extend B-LT "$T/t-LT.p7s" --data "$T/doc.txt" -o "$T/again.p7s"
if cmp -s "$T/t-LT.p7s" "$T/again.p7s"; then ok "... changes nothing: its data is there"; else not_ok "B-LT again changed the file"; fi
openssl cms -cmsout -in "$T/b.p7s" -inform DER -outform PEM -out "$T/b.pem" 2>/dev/null
expect_status 0 "a PEM signature: --extend B-LTA" extend B-LTA "$T/b.pem" --data "$T/doc.txt" -o "$T/b-lta.pem"
expect_grep "^-----BEGIN CMS-----" "$T/b-lta.pem" "... stays PEM"
expect_status 0 "... eid-verify offline" check "$T/b-lta.pem" --data "$T/doc.txt"
level_is LTA "..."

# ---- renewal: the last archive timestamp's validation data, then a new archive timestamp
# (a CRL issued after the first archive timestamp, for its TSA)
sleep 2
curl -s -f -X POST "$BASE/admin/gencrl" >/dev/null
expect_status 0 "renewal: --extend B-LTA of a B-LTA signature" extend B-LTA "$T/lta.p7s" --data "$T/doc.txt" -o "$T/lta2.p7s"
count "$T/lta.p7s" > "$T/n1"
count "$T/lta2.p7s" > "$T/n2"
expect_grep "ats=2" "$T/n2" "... two archive timestamps"
if [ "$(sed 's/.*crls=\([0-9]*\).*/\1/' "$T/n2")" -gt "$(sed 's/.*crls=\([0-9]*\).*/\1/' "$T/n1")" ]; then
	ok "... a newer CRL for the first archive timestamp's TSA"; else not_ok "no new revocation data: $(cat "$T/n1") / $(cat "$T/n2")"; fi
expect_status 0 "... eid-verify offline" check "$T/lta2.p7s" --data "$T/doc.txt"
level_is LTA "..."
if grep -q "archive timestamp.*does not hold" "$T/out"; then not_ok "an archive timestamp fails after renewal"; else
	ok "... both archive timestamps hold"; fi
cms_ok "..." "$T/lta2.p7s"
ts_ok "... the new one" "$T/lta2.p7s"

# ---- tampering: the archive timestamp does not hold, the level stays LT
/usr/bin/python3 "$T/cms.py" tamper-index "$T/lta.p7s" "$T/bad-index.p7s"
expect_status 0 "a hash changed in the archive timestamp's index: the signature still holds" check "$T/bad-index.p7s" --data "$T/doc.txt"
expect_grep "archive timestamp by CN=libeid Test TSA.* does not hold: it was made over other data" "$T/out" "... the archive timestamp is reported as not covering it"
level_is LT "..."
/usr/bin/python3 "$T/cms.py" tamper-sig "$T/lta.p7s" "$T/bad-sig.p7s"
expect_status 0 "the archive timestamp token's signature changed" check "$T/bad-sig.p7s" --data "$T/doc.txt"
expect_grep "archive timestamp.* does not hold" "$T/out" "... the archive timestamp does not hold"
level_is LT "..."
/usr/bin/python3 "$T/cms.py" drop-crl "$T/lta.p7s" "$T/no-crl.p7s"
expect_status 0 "a CRL the archive timestamp covers removed" check "$T/no-crl.p7s" --data "$T/doc.txt"
expect_grep "archive timestamp.* does not hold: it covers a revocation value no longer in the signature" "$T/out" "... the index names what is missing"
level_is LT "..."
printf 'Contract: 99.50 EUR.\n' > "$T/other.txt"
expect_status 2 "the archive timestamp over other content: the signature fails on its digest" check "$T/lta.p7s" --data "$T/other.txt"

# ---- refusals and failures: exit 3, nothing written, the input untouched
cp "$T/b.p7s" "$T/b.before"
cp "$T/t.p7s" "$T/t.before"
expect_status 3 "B-LTA without --data" extend B-LTA "$T/b.p7s" -o "$T/f1.p7s"
expect_grep "must be given \(--data\)" "$T/err" "... says the signed file is needed"
expect_no_file "$T/f1.p7s" "... nothing written"
expect_status 3 "--data of another file" extend B-LTA "$T/b.p7s" --data "$T/other.txt" -o "$T/f2.p7s"
expect_grep "is not the file the signature signs" "$T/err" "... says so"
expect_no_file "$T/f2.p7s" "... nothing written"
XTSA="$BASE/tsa/http500" expect_status 3 "TSA failing (HTTP 500): B-B to B-LT" extend B-LT "$T/b.p7s" --data "$T/doc.txt" -o "$T/f3.p7s"
expect_grep "/tsa/http500" "$T/err" "... names the TSA"
expect_no_file "$T/f3.p7s" "... nothing written"
XTSA="$BASE/tsa/wrong-imprint" expect_status 3 "TSA stamping another digest: B-LT to B-LTA" extend B-LTA "$T/t-LT.p7s" --data "$T/doc.txt" -o "$T/f4.p7s"
expect_grep "archive timestamp.*stamped another digest" "$T/err" "... says the archive timestamp failed"
expect_no_file "$T/f4.p7s" "... nothing written"
expect_status 3 "-l B-LTA with a failing TSA" sign -f cades -l B-LTA --tsa "$BASE/tsa/garbage" "$T/doc.txt" -o "$T/f5.p7s"
expect_no_file "$T/f5.p7s" "... nothing written"
# the CRL must be newer than the signature timestamp to speak of the signer then
curl -s -f -X POST "$BASE/admin/gencrl" >/dev/null
ocsp_mode http500
expect_status 0 "OCSP responder failing: B-T to B-LT with the CRL instead" extend B-LT "$T/t.p7s" --data "$T/doc.txt" -o "$T/t-crl.p7s"
expect_status 0 "... eid-verify offline" check "$T/t-crl.p7s" --data "$T/doc.txt"
level_is LT "..."
expect_grep '"revocation": "good \(CRL by CN=libeid Test Citizen CA' "$T/out" "... the signer's status from the embedded CRL"
ocsp_mode ""
KEY=revoked-rsa2048 sign -f cades -l B-T --tsa "$TSA" "$T/doc.txt" -o "$T/rev.p7s"
expect_status 3 "a revoked signer: B-LT fails" extend B-LT "$T/rev.p7s" --data "$T/doc.txt" -o "$T/f6.p7s"
expect_grep "'C=BE,CN=Revoked Signer' is revoked|CN=Revoked Signer.* is revoked" "$T/err" "... naming the certificate"
expect_no_file "$T/f6.p7s" "... nothing written"
bash "$HERE/servers.sh" stop "$T/srv" >/dev/null
expect_status 3 "OCSP responder and CRLs down: B-T to B-LT fails" extend B-LT "$T/t.p7s" --data "$T/doc.txt" -o "$T/f7.p7s"
expect_grep "the validation data of the signer: the status of 'CN=Jérôme.* is not available" "$T/err" "... naming the certificate whose status is missing"
expect_no_file "$T/f7.p7s" "... nothing written"
if cmp -s "$T/b.p7s" "$T/b.before" && cmp -s "$T/t.p7s" "$T/t.before"; then ok "the inputs are untouched after every failure"; else not_ok "the input changed"; fi
expect_status 0 "with every server down, B-LTA still validates offline" check "$T/lta2.p7s" --data "$T/doc.txt"
level_is LTA "..."

finish
