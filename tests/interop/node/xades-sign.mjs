// XAdES-BES signature with xadesjs: node xades-sign.mjs IN.xml OUT.xml KEY.pem CERT.pem [CHAIN.pem]
//   [--enveloping | --detached FILE]
// Default enveloped (signature appended to IN's root, URI="" + enveloped-signature + exc-c14n); --enveloping puts
// IN's root element in ds:Object Id="obj-1" (URI="#obj-1", exc-c14n); --detached references FILE by its base name
// (raw bytes, no transform; IN is then ignored and OUT holds the bare ds:Signature). SignedInfo uses exc-c14n.
// Ids sig-N / xades-sig-N. SigningTime + SigningCertificateV2 (SHA-256); KeyInfo: CERT, then CHAIN's certificates.
// Keys: RSA (rsa-sha256) or EC P-256 / P-384 (ecdsa-sha256 / ecdsa-sha384), PKCS#8 or traditional PEM.
import fs from 'node:fs';
import path from 'node:path';
import nodeCrypto from 'node:crypto';
import { DOMParser, XMLSerializer, DOMImplementation } from '@xmldom/xmldom';
import xpath from 'xpath';
import * as xadesjs from 'xadesjs';
import { DataObject } from 'xmldsigjs';

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

function usage(msg) {
	process.stderr.write(`xades-sign: ${msg}\nusage: xades-sign.mjs IN.xml OUT.xml KEY.pem CERT.pem [CHAIN.pem] [--enveloping | --detached FILE]\n`);
	process.exit(2);
}

const pos = [];
let mode = 'enveloped', detached = null;
for (let a = process.argv.slice(2); a.length;) {
	const x = a.shift();
	if (x === '--enveloping') mode = 'enveloping';
	else if (x === '--detached') { mode = 'detached'; detached = a.shift() ?? usage('--detached needs FILE'); }
	else if (x.startsWith('--')) usage(`unknown option ${x}`);
	else pos.push(x);
}
if (pos.length < 4 || pos.length > 5) usage('wrong number of arguments');
const [input, output, keyFile, certFile, chainFile] = pos;

try {
	xadesjs.setNodeDependencies({ DOMParser, XMLSerializer, DOMImplementation, xpath });
	xadesjs.Application.setEngine('NodeJS', globalThis.crypto);
	const subtle = globalThis.crypto.subtle;

	// Key: any PEM form -> PKCS#8 DER for WebCrypto; algorithm from the key type and curve.
	const keyObj = nodeCrypto.createPrivateKey(fs.readFileSync(keyFile));
	let alg;
	if (keyObj.asymmetricKeyType === 'rsa') alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
	else if (keyObj.asymmetricKeyType === 'ec') {
		const curve = keyObj.asymmetricKeyDetails.namedCurve;
		const named = { prime256v1: 'P-256', secp384r1: 'P-384' }[curve] ?? usage(`unsupported curve ${curve}`);
		alg = { name: 'ECDSA', namedCurve: named, hash: named === 'P-384' ? 'SHA-384' : 'SHA-256' };
	} else usage(`unsupported key type ${keyObj.asymmetricKeyType}`);
	const key = await subtle.importKey('pkcs8', keyObj.export({ type: 'pkcs8', format: 'der' }), alg, false, ['sign']);

	// Certificates as base64 DER: the signer's first, then the chain file's.
	const pemCerts = (f) => (fs.readFileSync(f, 'latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [])
		.map((p) => new nodeCrypto.X509Certificate(p).raw.toString('base64'));
	const cert = pemCerts(certFile)[0] ?? usage(`no certificate in ${certFile}`);
	const x509 = [cert, ...(chainFile ? pemCerts(chainFile) : [])];

	const doc = mode === 'detached' ? null
		: new DOMParser().parseFromString(fs.readFileSync(input, 'utf8'), 'application/xml');
	// xadesjs's enveloped transform drops every ds:Signature child of the root, and so would lose an existing one.
	if (mode === 'enveloped' && Array.from(doc.documentElement.childNodes).some((n) => n.localName === 'Signature' && n.namespaceURI === DSIG))
		throw new Error(`${input} already has an enveloped ds:Signature: xadesjs would drop it`);
	// Ids sig-N / xades-sig-N (N = signatures already in IN + 1) instead of xadesjs's random ones.
	const id = `sig-${(mode === 'enveloped' ? doc.getElementsByTagNameNS(DSIG, 'Signature').length : 0) + 1}`;
	const signed = new xadesjs.SignedXml();
	signed.XmlSignature.SignedInfo.CanonicalizationMethod.Algorithm = EXC_C14N;
	signed.XmlSignature.Id = id;
	signed.Properties.Target = `#${id}`;
	signed.SignedProperties.Id = `xades-${id}`;
	const opts = { x509, signingCertificateV2: cert, signingTime: { value: new Date() } };
	let data;
	if (mode === 'detached') {
		data = new Uint8Array(fs.readFileSync(detached));
		opts.references = [{ uri: path.basename(detached), hash: alg.hash }];
	} else if (mode === 'enveloped') {
		data = doc;
		opts.references = [{ uri: '', hash: alg.hash, transforms: ['enveloped', 'exc-c14n'] }];
	} else {
		// ds:Object Id="obj-1" holding IN's root element; empty data so no outer namespaces leak into C14N.
		const objDoc = new DOMParser().parseFromString(`<ds:Object xmlns:ds="${DSIG}" Id="obj-1"/>`, 'application/xml');
		objDoc.documentElement.appendChild(objDoc.importNode(doc.documentElement, true));
		signed.XmlSignature.ObjectList.Add(DataObject.LoadXml(objDoc.documentElement));
		data = new Uint8Array(0);
		opts.references = [{ uri: '#obj-1', hash: alg.hash, transforms: ['exc-c14n'] }];
	}
	await signed.Sign(alg, key, data, opts);
	fs.writeFileSync(output, signed.toString());
} catch (e) {
	process.stderr.write(`xades-sign: ${e?.message ?? e}\n`);
	process.exit(1);
}
