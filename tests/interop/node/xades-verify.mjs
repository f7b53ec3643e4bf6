// Verify the XML-DSig core of every ds:Signature with xadesjs: node xades-verify.mjs FILE.xml [--detached NAME=PATH]...
// Checks references and SignatureValue with SignedXml.Verify() (keys from the KeyInfo certificates; no trust, no
// xadesjs signing-certificate check). A reference whose URI is NAME is digested over the bytes of PATH.
// Prints per signature "OK <Id|#index> signedProperties=yes|no signingTime=<value>|none" or "FAIL <Id|#index> <reason>";
// exit 0 only if there is at least one signature and all are OK (1 otherwise, 2 on bad usage).
import fs from 'node:fs';
import { DOMParser, XMLSerializer, DOMImplementation } from '@xmldom/xmldom';
import xpath from 'xpath';
import * as xadesjs from 'xadesjs';
import { CryptoConfig } from 'xmldsigjs';

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';

const args = process.argv.slice(2);
const detached = new Map();
let file = null;
while (args.length) {
	const a = args.shift();
	const m = a === '--detached' && /^([^=]+)=(.+)$/.exec(args.shift() ?? '');
	if (m) detached.set(m[1], new Uint8Array(fs.readFileSync(m[2])));
	else if (!a.startsWith('--') && !file) file = a;
	else {
		process.stderr.write('usage: xades-verify.mjs FILE.xml [--detached NAME=PATH]...\n');
		process.exit(2);
	}
}
if (!file) { process.stderr.write('usage: xades-verify.mjs FILE.xml [--detached NAME=PATH]...\n'); process.exit(2); }

xadesjs.setNodeDependencies({ DOMParser, XMLSerializer, DOMImplementation, xpath });
xadesjs.Application.setEngine('NodeJS', globalThis.crypto);

let doc;
try {
	doc = new DOMParser().parseFromString(fs.readFileSync(file, 'utf8'), 'application/xml');
} catch (e) {
	process.stderr.write(`xades-verify: ${file}: ${e?.message ?? e}\n`);
	process.exit(1);
}
const sigs = Array.from(doc.getElementsByTagNameNS(DSIG, 'Signature'));
if (!sigs.length) console.log('FAIL no ds:Signature');
let allOk = sigs.length > 0;
for (const [i, sigEl] of sigs.entries()) {
	const name = sigEl.getAttribute('Id') || `#${i}`;
	try {
		const signed = new xadesjs.SignedXml(doc);
		signed.LoadXml(sigEl);
		// External references: bytes from --detached; refuse other non-fragment URIs instead of digesting the document.
		signed.contentHandler = async (ref) => {
			if (!ref.Uri || ref.Uri.startsWith('#')) return null;
			if (detached.has(ref.Uri)) return detached.get(ref.Uri);
			throw new Error(`no content for reference URI "${ref.Uri}" (use --detached ${ref.Uri}=PATH)`);
		};
		// xmldsigjs 2.8.8 imports every KeyInfo certificate with the SignatureMethod's algorithm and throws at the first
		// that does not fit (e.g. an RSA CA certificate beside an EC signer's): skip those instead.
		signed.GetPublicKeys = async function () {
			const keys = [];
			for (const kic of this.XmlSignature.KeyInfo.GetIterator()) {
				for (const item of kic.Certificates ?? [kic]) {
					const alg = CryptoConfig.CreateSignatureAlgorithm(this.XmlSignature.SignedInfo.SignatureMethod);
					try { keys.push(await item.exportKey(alg.algorithm)); } catch { /* other key type */ }
				}
			}
			return keys;
		};
		if (!(await signed.Verify())) throw new Error('SignatureValue does not verify with the KeyInfo key(s)');
		// SignedProperties of this signature (any XAdES namespace version) and whether SignedInfo references it.
		const sp = xpath.select1('.//*[local-name()="SignedProperties" and starts-with(namespace-uri(), "http://uri.etsi.org/01903/")]', sigEl);
		const refs = signed.XmlSignature.SignedInfo.References.GetIterator().map((r) => r.Uri);
		const spRef = !!(sp && sp.getAttribute('Id') && refs.includes(`#${sp.getAttribute('Id')}`));
		const st = sp && xpath.select1('string(.//*[local-name()="SigningTime"])', sp);
		console.log(`OK ${name} signedProperties=${spRef ? 'yes' : 'no'} signingTime=${st || 'none'}`);
	} catch (e) {
		allOk = false;
		console.log(`FAIL ${name} ${String(e?.message ?? e).replace(/\s+/g, ' ')}`);
	}
}
process.exit(allOk ? 0 : 1);
