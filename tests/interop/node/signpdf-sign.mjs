// Sign a PDF with @signpdf (PKCS#12 signer, plain placeholder): node sign.mjs IN P12 PASS OUT [subfilter]
import fs from 'node:fs';
import signpdfPkg from '@signpdf/signpdf';
import { P12Signer } from '@signpdf/signer-p12';
import { plainAddPlaceholder } from '@signpdf/placeholder-plain';
import { SUBFILTER_ETSI_CADES_DETACHED, SUBFILTER_ADOBE_PKCS7_DETACHED } from '@signpdf/utils';

const [input, p12, pass, output, sub] = process.argv.slice(2);
const signpdf = signpdfPkg.default ?? signpdfPkg;
let pdf = fs.readFileSync(input);
pdf = plainAddPlaceholder({
	pdfBuffer: pdf, reason: 'Interop', contactInfo: 'test@example.invalid', name: 'signpdf', location: 'Here',
	subFilter: sub === 'adbe' ? SUBFILTER_ADOBE_PKCS7_DETACHED : SUBFILTER_ETSI_CADES_DETACHED,
});
const signer = new P12Signer(fs.readFileSync(p12), { passphrase: pass });
const signed = await signpdf.sign(pdf, signer);
fs.writeFileSync(output, signed);
