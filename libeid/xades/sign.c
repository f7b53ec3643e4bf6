/*
 * XAdES B-B signing (ETSI EN 319 132-1).  The ds:Signature is built as a
 * libxml2 tree in its final place (the enveloped document, or a document of
 * its own), every reference is digested from that tree with exclusive
 * canonicalization, and the canonical SignedInfo is digested for the signer.
 * The value comes back in eid_xades_complete, is checked against the key,
 * and the document is written out.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlsave.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "../cms/cms.h"
#include "xades.h"

struct eid_xades_prep {
	xmlDocPtr doc;
	xmlNodePtr sigvalue;      /* ds:SignatureValue, filled on completion */
	EVP_PKEY *pub;
	eid_sig_scheme scheme;
	eid_hash hash;
	unsigned char tbs[EVP_MAX_MD_SIZE];
	size_t tbs_len;
	size_t size_hint;         /* about the size of the signed document: its output buffer is reserved at once */
	int completed;
	/* enveloped, streamed: the signature goes into a copy of this file's bytes */
	char *src_path;
	eid_xml_file_info src;
	uint64_t splice_at;       /* where the root element's end tag starts (or its "/>") */
	int root_empty;           /* the root element was written <root/> */
	/* B-T */
	eid_level level;
	eid_online *online;       /* borrowed */
	xmlNodePtr qp;            /* QualifyingProperties: the unsigned properties go there */
	char id[40];
};

/* ---- algorithms ---- */

static const struct {
	eid_hash hash;
	const char *digest, *rsa, *pss, *ecdsa;
} algs[] = {
	{ EID_HASH_SHA256, "http://www.w3.org/2001/04/xmlenc#sha256", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	  "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" },
	{ EID_HASH_SHA384, "http://www.w3.org/2001/04/xmldsig-more#sha384",
	  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1",
	  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" },
	{ EID_HASH_SHA512, "http://www.w3.org/2001/04/xmlenc#sha512", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
	  "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512" },
};
#define NALGS (sizeof(algs) / sizeof(algs[0]))

const char *eid_xades__digest_uri(eid_hash hash)
{
	size_t i;

	for (i = 0; i < NALGS; i++)
		if (algs[i].hash == hash)
			return algs[i].digest;
	return NULL;
}

int eid_xades__digest_from_uri(const char *uri, eid_hash *hash)
{
	size_t i;

	for (i = 0; uri != NULL && i < NALGS; i++)
		if (strcmp(uri, algs[i].digest) == 0) {
			*hash = algs[i].hash;
			return EID_OK;
		}
	if (uri != NULL && (strcmp(uri, "http://www.w3.org/2000/09/xmldsig#sha1") == 0))
		return eid_error__set(EID_EUNSUPPORTED, "digest method SHA-1 is not accepted");
	return eid_error__set(EID_EUNSUPPORTED, "digest method '%.100s' is not supported", uri ? uri : "");
}

const char *eid_xades__sig_uri(eid_sig_scheme scheme, eid_hash hash)
{
	size_t i;

	for (i = 0; i < NALGS; i++)
		if (algs[i].hash == hash)
			return scheme == EID_SIG_RSA_PSS ? algs[i].pss : scheme == EID_SIG_ECDSA ? algs[i].ecdsa : algs[i].rsa;
	return NULL;
}

int eid_xades__sig_from_uri(const char *uri, eid_sig_scheme *scheme, eid_hash *hash)
{
	size_t i;

	for (i = 0; uri != NULL && i < NALGS; i++) {
		*hash = algs[i].hash;
		if (strcmp(uri, algs[i].rsa) == 0)
			*scheme = EID_SIG_RSA_PKCS1;
		else if (strcmp(uri, algs[i].pss) == 0)
			*scheme = EID_SIG_RSA_PSS;
		else if (strcmp(uri, algs[i].ecdsa) == 0)
			*scheme = EID_SIG_ECDSA;
		else
			continue;
		return EID_OK;
	}
	return eid_error__set(EID_EUNSUPPORTED, "signature method '%.100s' is not supported", uri ? uri : "");
}

const char *eid_xades__mime_guess(const char *name)
{
	static const char *const types[][2] = {
		{ ".xml", "text/xml" },         { ".pdf", "application/pdf" }, { ".txt", "text/plain" },
		{ ".json", "application/json" }, { ".png", "image/png" },       { ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" },       { ".html", "text/html" },      { ".csv", "text/csv" },
		{ ".odt", "application/vnd.oasis.opendocument.text" },
		{ ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	};
	size_t n = strlen(name), i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t k = strlen(types[i][0]);

		if (n > k && strcasecmp(name + n - k, types[i][0]) == 0)
			return types[i][1];
	}
	return "application/octet-stream";
}

/* ---- building the tree ---- */

typedef struct builder {
	xmlDocPtr doc;
	xmlNsPtr ds, xades;
	xmlNodePtr sig, signed_info, signed_props, sdop; /* sdop: SignedDataObjectProperties */
	char id[40];           /* the signature's Id; the others derive from it */
	const eid_xades_opts *o;
	const EVP_MD *md;
	size_t nrefs;
} builder;

static xmlNodePtr el(builder *b, xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
	xmlNodePtr n = text ? xmlNewTextChild(parent, ns, (const xmlChar *)name, (const xmlChar *)text)
			    : xmlNewChild(parent, ns, (const xmlChar *)name, NULL);

	(void)b;
	return n;
}

static int attr(xmlNodePtr n, const char *name, const char *value)
{
	return n != NULL && xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)value) != NULL ? EID_OK
											      : eid_error__set(EID_ENOMEM, NULL);
}

static int b64_text(xmlNodePtr parent, xmlNsPtr ns, const char *name, const unsigned char *p, size_t len,
		    xmlNodePtr *out)
{
	eid_buf b = EID_BUF_INIT;
	xmlNodePtr n;
	int rc;

	if ((rc = eid_xml__b64_encode(p, len, &b)) < 0)
		return rc;
	if ((rc = eid_buf__append(&b, "", 1)) == EID_OK) {
		n = xmlNewTextChild(parent, ns, (const xmlChar *)name, b.data);
		rc = n ? EID_OK : eid_error__set(EID_ENOMEM, NULL);
		if (out != NULL)
			*out = n;
	}
	eid_buf_clear(&b);
	return rc;
}

/* A ds:Reference with its transforms (NULL-terminated URIs) and digest. */
static int add_reference(builder *b, const char *id, const char *uri, const char *type, const char *const *transforms,
			 const unsigned char *digest, size_t dlen)
{
	xmlNodePtr r = el(b, b->signed_info, b->ds, "Reference", NULL), t;
	int rc = r ? EID_OK : eid_error__set(EID_ENOMEM, NULL);

	if (rc == EID_OK && id != NULL)
		rc = attr(r, "Id", id);
	if (rc == EID_OK && type != NULL)
		rc = attr(r, "Type", type);
	if (rc == EID_OK)
		rc = attr(r, "URI", uri);
	if (rc == EID_OK && transforms != NULL && transforms[0] != NULL) {
		t = el(b, r, b->ds, "Transforms", NULL);
		for (; rc == EID_OK && *transforms != NULL; transforms++)
			rc = attr(el(b, t, b->ds, "Transform", NULL), "Algorithm", *transforms);
	}
	if (rc == EID_OK)
		rc = attr(el(b, r, b->ds, "DigestMethod", NULL), "Algorithm", eid_xades__digest_uri(b->o->hash));
	if (rc == EID_OK)
		rc = b64_text(r, b->ds, "DigestValue", digest, dlen, NULL);
	return rc;
}

/* A data object: its reference and its DataObjectFormat. */
static int add_data_ref(builder *b, const char *uri, const char *const *transforms, const unsigned char *digest,
			size_t dlen, const char *mime)
{
	char id[64], ref[66];
	xmlNodePtr f;
	int rc;

	snprintf(id, sizeof(id), "%s-ref-%zu", b->id, b->nrefs++);
	snprintf(ref, sizeof(ref), "#%s", id);
	if ((rc = add_reference(b, id, uri, NULL, transforms, digest, dlen)) < 0)
		return rc;
	f = el(b, b->sdop, b->xades, "DataObjectFormat", NULL);
	rc = attr(f, "ObjectReference", ref);
	if (rc == EID_OK && el(b, f, b->xades, "MimeType", mime) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	return rc;
}

/* IssuerSerial (RFC 5035) in DER: SEQUENCE { GeneralNames { [4] Name }, INTEGER }. */
static int der_len(eid_buf *b, size_t n)
{
	unsigned char l[5];
	size_t k = 0;

	if (n < 128)
		return eid_buf__append(b, (unsigned char[]){ (unsigned char)n }, 1);
	while (n > 0 && k < 4) {
		l[4 - k++] = (unsigned char)n;
		n >>= 8;
	}
	l[4 - k] = (unsigned char)(0x80 | k);
	return eid_buf__append(b, l + 4 - k, k + 1);
}

static int tlv(eid_buf *b, unsigned char tag, const unsigned char *p, size_t n)
{
	int rc = eid_buf__append(b, &tag, 1);

	if (rc == EID_OK)
		rc = der_len(b, n);
	return rc == EID_OK ? eid_buf__append(b, p, n) : rc;
}

static int issuer_serial_der(X509 *cert, eid_buf *out)
{
	unsigned char *name = NULL, *serial = NULL;
	int nl = i2d_X509_NAME(X509_get_issuer_name(cert), &name);
	int sl = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert), &serial);
	eid_buf dn = EID_BUF_INIT, gns = EID_BUF_INIT, seq = EID_BUF_INIT;
	int rc = nl > 0 && sl > 0 ? EID_OK : eid_error__ossl(EID_ECERT, "cannot encode the certificate's issuer");

	if (rc == EID_OK) rc = tlv(&dn, 0xa4, name, (size_t)nl);           /* [4] EXPLICIT Name */
	if (rc == EID_OK) rc = tlv(&gns, 0x30, dn.data, dn.len);            /* GeneralNames */
	if (rc == EID_OK) rc = eid_buf__append(&seq, gns.data, gns.len);
	if (rc == EID_OK) rc = eid_buf__append(&seq, serial, (size_t)sl);
	out->len = 0;
	if (rc == EID_OK) rc = tlv(out, 0x30, seq.data, seq.len);
	OPENSSL_free(name);
	OPENSSL_free(serial);
	eid_buf_clear(&dn);
	eid_buf_clear(&gns);
	eid_buf_clear(&seq);
	return rc;
}

/*
 * SignaturePolicyIdentifier/SignaturePolicyId: the policy's identifier (an
 * OID as "urn:oid:..." with the OIDAsURN qualifier, or a URI), the digest of
 * its document, and where it is published (SPURI).
 */
static int add_policy(builder *b, xmlNodePtr ssp)
{
	const char *id = b->o->policy_id;
	int is_oid = strspn(id, "0123456789.") == strlen(id) && strchr(id, '.') != NULL;
	xmlNodePtr spid = el(b, el(b, ssp, b->xades, "SignaturePolicyIdentifier", NULL), b->xades, "SignaturePolicyId", NULL);
	xmlNodePtr ident, hash;
	char *urn = NULL;
	int rc = spid ? EID_OK : eid_error__set(EID_ENOMEM, NULL);

	if (rc == EID_OK && is_oid && asprintf(&urn, "urn:oid:%s", id) < 0)
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK) {
		ident = el(b, el(b, spid, b->xades, "SigPolicyId", NULL), b->xades, "Identifier", urn ? urn : id);
		rc = ident == NULL ? eid_error__set(EID_ENOMEM, NULL) : is_oid ? attr(ident, "Qualifier", "OIDAsURN") : EID_OK;
	}
	free(urn);
	if (rc == EID_OK) {
		hash = el(b, spid, b->xades, "SigPolicyHash", NULL);
		rc = attr(el(b, hash, b->ds, "DigestMethod", NULL), "Algorithm", eid_xades__digest_uri(b->o->policy_hash));
		if (rc == EID_OK)
			rc = b64_text(hash, b->ds, "DigestValue", b->o->policy_digest, b->o->policy_digest_len, NULL);
	}
	if (rc == EID_OK && b->o->policy_uri != NULL &&
	    el(b, el(b, el(b, spid, b->xades, "SigPolicyQualifiers", NULL), b->xades, "SigPolicyQualifier", NULL),
	       b->xades, "SPURI", b->o->policy_uri) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	return rc;
}

/* QualifyingProperties in a ds:Object: SigningTime, SigningCertificateV2, policy, role; data formats later. */
static int add_qualifying_props(builder *b, const eid_signer *signer)
{
	X509 *cert = eid_signer__cert(signer);
	xmlNodePtr obj = el(b, b->sig, b->ds, "Object", NULL), qp, ssp, c, cd;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	eid_buf is = EID_BUF_INIT;
	char when[32], id[64], target[48];
	time_t t = (time_t)(b->o->signing_time ? b->o->signing_time : (int64_t)time(NULL));
	struct tm tm;
	int rc;

	if (obj == NULL || (qp = el(b, obj, NULL, "QualifyingProperties", NULL)) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	b->xades = xmlNewNs(qp, (const xmlChar *)EID_NS_XADES, (const xmlChar *)"xades");
	xmlSetNs(qp, b->xades);
	snprintf(target, sizeof(target), "#%s", b->id);
	snprintf(id, sizeof(id), "%s-signedprops", b->id);
	rc = attr(qp, "Target", target);
	b->signed_props = el(b, qp, b->xades, "SignedProperties", NULL);
	if (rc == EID_OK)
		rc = attr(b->signed_props, "Id", id);
	ssp = el(b, b->signed_props, b->xades, "SignedSignatureProperties", NULL);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (rc == EID_OK && el(b, ssp, b->xades, "SigningTime", when) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	/* SigningCertificateV2: the certificate's digest and IssuerSerialV2 */
	if (rc == EID_OK && !X509_digest(cert, b->md, digest, &dlen))
		rc = eid_error__ossl(EID_ECERT, "cannot digest the signer's certificate");
	if (rc == EID_OK) {
		c = el(b, el(b, ssp, b->xades, "SigningCertificateV2", NULL), b->xades, "Cert", NULL);
		cd = el(b, c, b->xades, "CertDigest", NULL);
		rc = attr(el(b, cd, b->ds, "DigestMethod", NULL), "Algorithm", eid_xades__digest_uri(b->o->hash));
		if (rc == EID_OK)
			rc = b64_text(cd, b->ds, "DigestValue", digest, dlen, NULL);
		if (rc == EID_OK)
			rc = issuer_serial_der(cert, &is);
		if (rc == EID_OK)
			rc = b64_text(c, b->xades, "IssuerSerialV2", is.data, is.len, NULL);
	}
	if (rc == EID_OK && (b->o->flags & EID_XADES_POLICY_IMPLIED) &&
	    el(b, el(b, ssp, b->xades, "SignaturePolicyIdentifier", NULL), b->xades, "SignaturePolicyImplied", NULL) ==
		    NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK && b->o->policy_id != NULL)
		rc = add_policy(b, ssp);
	if (rc == EID_OK && b->o->claimed_role != NULL &&
	    el(b, el(b, el(b, ssp, b->xades, "SignerRoleV2", NULL), b->xades, "ClaimedRoles", NULL), b->xades,
	       "ClaimedRole", b->o->claimed_role) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK && (b->sdop = el(b, b->signed_props, b->xades, "SignedDataObjectProperties", NULL)) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	eid_buf_clear(&is);
	return rc;
}

static int builder_start(builder *b, const eid_signer *signer, const eid_xades_opts *o, xmlDocPtr doc,
			 xmlNodePtr parent)
{
	unsigned char rnd[8];
	xmlNodePtr cm;
	size_t i;
	int rc;

	memset(b, 0, sizeof(*b));
	b->o = o;
	b->md = eid_hash__md(o->hash);
	b->doc = doc;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return eid_error__ossl(EID_EINTERNAL, "no random bytes");
	strcpy(b->id, "id-");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(b->id + 3 + 2 * i, 3, "%02x", rnd[i]);
	b->sig = xmlNewNode(NULL, (const xmlChar *)"Signature");
	if (b->sig == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	b->ds = xmlNewNs(b->sig, (const xmlChar *)EID_NS_DS, (const xmlChar *)"ds");
	xmlSetNs(b->sig, b->ds);
	if (parent != NULL)
		xmlAddChild(parent, b->sig);
	else
		xmlDocSetRootElement(doc, b->sig);
	if ((rc = attr(b->sig, "Id", b->id)) < 0)
		return rc;
	b->signed_info = el(b, b->sig, b->ds, "SignedInfo", NULL);
	cm = el(b, b->signed_info, b->ds, "CanonicalizationMethod", NULL);
	if ((rc = attr(cm, "Algorithm", eid_xml__c14n_uri(EID_C14N_EXC, 0))) < 0)
		return rc;
	if (el(b, b->signed_info, b->ds, "SignatureMethod", NULL) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	return EID_OK;
}

/* SignatureMethod, KeyInfo, the SignedProperties reference and the digest of SignedInfo. */
static int builder_finish(builder *b, const eid_signer *signer, eid_xades_prep *p)
{
	static const char *const exc[] = { "http://www.w3.org/2001/10/xml-exc-c14n#", NULL };
	xmlNodePtr sm = eid_xml__child(b->signed_info, EID_NS_DS, "SignatureMethod"), x509;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char uri[64];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const unsigned char *der;
	size_t len, i;
	int rc;

	if (md == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	rc = attr(sm, "Algorithm", eid_xades__sig_uri(p->scheme, p->hash));
	p->qp = b->signed_props ? b->signed_props->parent : NULL;
	snprintf(p->id, sizeof(p->id), "%s", b->id);
	p->level = b->o->level == EID_LEVEL_B_T ? EID_LEVEL_B_T : EID_LEVEL_B_B;
	p->online = b->o->online;
	/* ds:SignatureValue, then KeyInfo, both before the ds:Object */
	p->sigvalue = xmlNewNode(b->ds, (const xmlChar *)"SignatureValue");
	if (rc == EID_OK && (p->sigvalue == NULL || xmlAddNextSibling(b->signed_info, p->sigvalue) == NULL))
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK) {
		char id[64];

		snprintf(id, sizeof(id), "%s-sigvalue", b->id);
		rc = attr(p->sigvalue, "Id", id);
	}
	if (rc == EID_OK) {
		xmlNodePtr ki = xmlNewNode(b->ds, (const xmlChar *)"KeyInfo");

		x509 = ki ? el(b, ki, b->ds, "X509Data", NULL) : NULL;
		if (x509 == NULL || xmlAddNextSibling(p->sigvalue, ki) == NULL)
			rc = eid_error__set(EID_ENOMEM, NULL);
		if (rc == EID_OK && (rc = eid_signer_certificate(signer, &der, &len)) == EID_OK)
			rc = b64_text(x509, b->ds, "X509Certificate", der, len, NULL);
		for (i = 0; rc == EID_OK && !(b->o->flags & EID_XADES_NO_CHAIN) && i < eid_signer_chain_count(signer); i++)
			if ((rc = eid_signer_chain_cert(signer, i, &der, &len)) == EID_OK)
				rc = b64_text(x509, b->ds, "X509Certificate", der, len, NULL);
	}
	/* the SignedProperties reference, digested in place */
	if (rc == EID_OK && !EVP_DigestInit_ex(md, b->md, NULL))
		rc = eid_error__ossl(EID_EINTERNAL, "digest init failed");
	if (rc == EID_OK)
		rc = eid_xml__c14n(b->doc, b->signed_props, NULL, EID_C14N_EXC, 0, NULL, md, NULL);
	if (rc == EID_OK && !EVP_DigestFinal_ex(md, digest, &dlen))
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
	snprintf(uri, sizeof(uri), "#%s-signedprops", b->id);
	if (rc == EID_OK)
		rc = add_reference(b, NULL, uri, EID_XADES_SIGNED_PROPS_TYPE, exc, digest, dlen);
	/* what the signer signs: the digest of the canonical SignedInfo */
	if (rc == EID_OK && !EVP_DigestInit_ex(md, b->md, NULL))
		rc = eid_error__ossl(EID_EINTERNAL, "digest init failed");
	if (rc == EID_OK)
		rc = eid_xml__c14n(b->doc, b->signed_info, NULL, EID_C14N_EXC, 0, NULL, md, NULL);
	if (rc == EID_OK && !EVP_DigestFinal_ex(md, p->tbs, &dlen))
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
	p->tbs_len = dlen;
	EVP_MD_CTX_free(md);
	return rc;
}

static int check_opts(const eid_xades_opts *o)
{
	if (o->version != EID_XADES_OPTS_VERSION)
		return eid_error__set(EID_EVERSION, "eid_xades_opts version %u is unknown", o->version);
	if (o->policy_id != NULL) {
		if (o->flags & EID_XADES_POLICY_IMPLIED)
			return eid_error__set(EID_EINVAL, "a signature policy is either implied or explicit, not both");
		if (o->policy_id[0] == '\0' || eid_xades__digest_uri(o->policy_hash) == NULL || o->policy_digest == NULL ||
		    o->policy_digest_len != eid_hash_size(o->policy_hash))
			return eid_error__set(EID_EINVAL, "an explicit signature policy needs its identifier and the "
							  "digest of its document");
	}
	if (o->level != EID_LEVEL_DEFAULT && o->level != EID_LEVEL_B_B && o->level != EID_LEVEL_B_T)
		return eid_error__set(EID_EUNSUPPORTED, "level %s is not supported yet (B-B and B-T)",
				      eid_level_name(o->level) ? eid_level_name(o->level) : "?");
	if (o->level == EID_LEVEL_B_T && o->online == NULL)
		return eid_error__set(EID_EINVAL, "level B-T needs a TSA (eid_xades_opts.online)");
	if (eid_xades__digest_uri(o->hash == EID_HASH_DEFAULT ? EID_HASH_SHA256 : o->hash) == NULL)
		return eid_error__set(EID_EINVAL, "unknown hash %d", (int)o->hash);
	if (o->packaging != EID_XADES_DETACHED && o->packaging != EID_XADES_ENVELOPED &&
	    o->packaging != EID_XADES_ENVELOPING)
		return eid_error__set(EID_EINVAL, "unknown packaging %d", (int)o->packaging);
	return EID_OK;
}

int eid_xades__opts(const eid_xades_opts *in, eid_xades_opts *out)
{
	static const eid_xades_opts defaults = EID_XADES_OPTS_INIT;

	*out = defaults;
	if (in != NULL && in->version == 1) {
		memcpy(out, in, offsetof(eid_xades_opts, policy_id));
		out->version = EID_XADES_OPTS_VERSION;
	} else if (in != NULL) {
		*out = *in;
	}
	return check_opts(out);
}

static int prep_new(eid_xades_prep **out, const eid_signer *signer, eid_xades_opts *o)
{
	eid_xades_prep *p = calloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	if (p == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	if (o->hash == EID_HASH_DEFAULT)
		o->hash = EID_HASH_SHA256;
	p->hash = o->hash;
	if ((rc = eid_signer__scheme(signer, o->scheme, &p->scheme)) < 0 ||
	    (p->pub = X509_get_pubkey(eid_signer__cert(signer))) == NULL) {
		free(p);
		return rc < 0 ? rc : eid_error__ossl(EID_ECERT, "the signer's certificate has no usable key");
	}
	*out = p;
	return EID_OK;
}

int eid_xades__prepare_detached(eid_xades_prep **out, const eid_signer *signer, const eid_xades_ref *refs,
				size_t n, const eid_xades_opts *opts, int asic_root)
{
	eid_xades_opts o;
	eid_xades_prep *p = NULL;
	builder b;
	size_t i;
	int rc;

	if (out == NULL || signer == NULL || refs == NULL || n == 0)
		return eid_error__set(EID_EINVAL, "eid_xades_prepare: nothing to sign");
	*out = NULL;
	if ((rc = eid_xades__opts(opts, &o)) < 0 || (rc = prep_new(&p, signer, &o)) < 0)
		return rc;
	if ((p->doc = xmlNewDoc((const xmlChar *)"1.0")) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK && asic_root) {
		xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *)"XAdESSignatures");
		xmlNsPtr ns = root ? xmlNewNs(root, (const xmlChar *)EID_NS_ASIC, (const xmlChar *)"asic") : NULL;

		if (ns == NULL) {
			xmlFreeNode(root);
			rc = eid_error__set(EID_ENOMEM, NULL);
		} else {
			xmlSetNs(root, ns);
			xmlDocSetRootElement(p->doc, root);
			rc = builder_start(&b, signer, &o, p->doc, root);
		}
	} else if (rc == EID_OK) {
		rc = builder_start(&b, signer, &o, p->doc, NULL);
	}
	if (rc == EID_OK)
		rc = add_qualifying_props(&b, signer);
	for (i = 0; rc == EID_OK && i < n; i++) {
		if (refs[i].digest_len != eid_hash_size(o.hash))
			rc = eid_error__set(EID_EINVAL, "a digest of the wrong size for %s", eid_hash_name(o.hash));
		else
			rc = add_data_ref(&b, refs[i].uri, NULL, refs[i].digest, refs[i].digest_len,
					  refs[i].mime_type ? refs[i].mime_type : eid_xades__mime_guess(refs[i].uri));
	}
	if (rc == EID_OK)
		rc = builder_finish(&b, signer, p);
	if (rc < 0) {
		eid_xades_prep_free(p);
		return rc;
	}
	*out = p;
	return EID_OK;
}

/* The base name of @path, percent-encoded as a relative URI reference (as ASiC names its entries). */
static int uri_of(const char *path, eid_buf *out)
{
	const char *base = strrchr(path, '/');

	return eid_xml__uri_encode(base ? base + 1 : path, out);
}

/*
 * Where a signature goes into the file's bytes: just before the root
 * element's end tag, whose end the parser reported.  1 when the bytes there
 * are not what they must be (the caller then builds the tree instead).
 */
static int find_splice(eid_xades_prep *p)
{
	size_t q = strlen(p->src.root_qname), span, w;
	char win[4096 + 600];
	ssize_t got;
	int fd;

	if (p->src.root_end < 2 || p->src.root_end > p->src.size)
		return 1;
	span = (size_t)(p->src.root_end < sizeof(win) ? p->src.root_end : sizeof(win));
	if ((fd = open(p->src_path, O_RDONLY | O_CLOEXEC)) < 0)
		return eid_error__set(EID_EIO, "cannot open '%s': %s", p->src_path, strerror(errno));
	got = pread(fd, win, span, (off_t)(p->src.root_end - span));
	close(fd);
	if (got != (ssize_t)span || win[span - 1] != '>')
		return 1;
	if (win[span - 2] == '/') { /* <root .../> */
		p->root_empty = 1;
		p->splice_at = p->src.root_end - 2;
		return 0;
	}
	for (w = span - 1; w > 0 && strchr(" \t\r\n", win[w - 1]) != NULL; w--)
		;
	if (w < q + 2 || memcmp(win + w - q, p->src.root_qname, q) != 0 || memcmp(win + w - q - 2, "</", 2) != 0)
		return 1;
	p->splice_at = p->src.root_end - span + (w - q - 2);
	return 0;
}

/*
 * Enveloped, as a stream: the document is canonicalized from its file, the
 * signature built in a tree of its own, and on completion written into a copy
 * of the file's bytes.  1 when the document cannot be handled as bytes (an
 * encoding other than UTF-8): the caller builds the whole tree instead.
 */
static int prepare_enveloped(eid_xades_prep *p, const eid_signer *signer, const eid_xades_data *d,
			     const eid_xades_opts *o)
{
	static const char *const env[] = { EID_DS_ENVELOPED, "http://www.w3.org/2001/10/xml-exc-c14n#", NULL };
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	builder b;
	int rc = md ? EID_OK : eid_error__set(EID_ENOMEM, NULL);

	if (rc == EID_OK && (p->src_path = strdup(d->path)) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK && (p->doc = xmlNewDoc((const xmlChar *)"1.0")) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK)
		rc = builder_start(&b, signer, o, p->doc, NULL);
	if (rc == EID_OK)
		rc = add_qualifying_props(&b, signer);
	if (rc == EID_OK && !EVP_DigestInit_ex(md, b.md, NULL))
		rc = eid_error__ossl(EID_EINTERNAL, "digest init failed");
	if (rc == EID_OK)
		rc = eid_xml__c14n_file(d->path, -1, EID_C14N_EXC, NULL, md, &p->src);
	if (rc == EID_OK && p->src.signatures > 0)
		rc = eid_error__set(EID_EINVAL, "'%s' already holds %ld XML signature%s, which a new enveloped signature over "
				    "the whole document would break: sign it detached, or in an ASiC-E container",
				    d->path, p->src.signatures, p->src.signatures > 1 ? "s" : "");
	if (rc == EID_OK && (!p->src.utf8 || (rc = find_splice(p)) == 1)) {
		EVP_MD_CTX_free(md);
		return 1;
	}
	if (rc == EID_OK && !EVP_DigestFinal_ex(md, digest, &dlen))
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
	if (rc == EID_OK)
		rc = add_data_ref(&b, "", env, digest, dlen, d->mime_type ? d->mime_type : eid_xades__mime_guess(d->path));
	if (rc == EID_OK)
		rc = builder_finish(&b, signer, p);
	EVP_MD_CTX_free(md);
	return rc;
}

/* Enveloped or enveloping: one input. */
static int prepare_attached(eid_xades_prep *p, const eid_signer *signer, const eid_xades_data *d,
			    const eid_xades_opts *o)
{
	static const char *const env[] = { EID_DS_ENVELOPED, "http://www.w3.org/2001/10/xml-exc-c14n#", NULL };
	static const char *const exc[] = { "http://www.w3.org/2001/10/xml-exc-c14n#", NULL };
	static const char *const b64[] = { EID_DS_BASE64, NULL };
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	eid_buf raw = EID_BUF_INIT;
	xmlDocPtr in = NULL;
	xmlNodePtr obj = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const char *mime = d->mime_type ? d->mime_type : eid_xades__mime_guess(d->path);
	char ref[64];
	builder b;
	int rc = md ? EID_OK : eid_error__set(EID_ENOMEM, NULL), is_xml = 0;

	if (rc == EID_OK && o->packaging == EID_XADES_ENVELOPED) {
		EVP_MD_CTX_free(md);
		if ((rc = prepare_enveloped(p, signer, d, o)) != 1)
			return rc;
		/* not UTF-8: the whole tree, written out anew */
		xmlFreeDoc(p->doc);
		p->doc = NULL;
		free(p->src_path);
		p->src_path = NULL;
		rc = EID_OK;
		if ((md = EVP_MD_CTX_new()) == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
	}
	if (rc == EID_OK) {
		/* parsed from the file as a stream; its bytes are read whole only to be enveloped in base64 */
		struct stat st;

		if (stat(d->path, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size < EID_XML_MAX_SIZE)
			p->size_hint = (size_t)st.st_size * (o->packaging == EID_XADES_ENVELOPING ? 2 : 1) + 65536;
		rc = eid_xml__parse_file(&in, d->path);
		is_xml = rc == EID_OK;
		if (!is_xml && (o->packaging == EID_XADES_ENVELOPED || rc == EID_EIO || rc == EID_ETOOBIG))
			rc = o->packaging == EID_XADES_ENVELOPED ? eid_error__wrap("an enveloped signature needs an XML document") : rc;
		else if (!is_xml) {
			eid_error_clear();
			rc = eid_io__read_file(d->path, EID_XML_MAX_SIZE, &raw);
		}
	}
	if (rc == EID_OK && is_xml)
		rc = eid_xml__ids_unique(in);
	if (rc == EID_OK && o->packaging == EID_XADES_ENVELOPED) {
		p->doc = in;
		in = NULL;
		rc = builder_start(&b, signer, o, p->doc, xmlDocGetRootElement(p->doc));
	} else if (rc == EID_OK) {
		p->doc = xmlNewDoc((const xmlChar *)"1.0");
		rc = p->doc ? builder_start(&b, signer, o, p->doc, NULL) : eid_error__set(EID_ENOMEM, NULL);
	}
	if (rc == EID_OK)
		rc = add_qualifying_props(&b, signer);
	if (rc == EID_OK && o->packaging == EID_XADES_ENVELOPING) {
		/* the data object comes before the QualifyingProperties' object */
		xmlNodePtr first_obj = eid_xml__child(b.sig, EID_NS_DS, "Object");

		obj = xmlNewNode(b.ds, (const xmlChar *)"Object");
		snprintf(ref, sizeof(ref), "%s-object", b.id);
		if (obj == NULL || xmlAddPrevSibling(first_obj, obj) == NULL)
			rc = eid_error__set(EID_ENOMEM, NULL);
		if (rc == EID_OK)
			rc = attr(obj, "Id", ref);
		if (rc == EID_OK && is_xml) {
			xmlNodePtr copy = xmlDocCopyNode(xmlDocGetRootElement(in), p->doc, 1);

			rc = copy != NULL && xmlAddChild(obj, copy) != NULL ? EID_OK : eid_error__set(EID_ENOMEM, NULL);
		} else if (rc == EID_OK) {
			eid_buf text = EID_BUF_INIT;

			rc = attr(obj, "MimeType", mime);
			if (rc == EID_OK)
				rc = attr(obj, "Encoding", EID_DS_BASE64);
			if (rc == EID_OK && (rc = eid_xml__b64_encode(raw.data, raw.len, &text)) == EID_OK &&
			    (rc = eid_buf__append(&text, "", 1)) == EID_OK)
				xmlNodeAddContent(obj, text.data);
			eid_buf_clear(&text);
		}
	}
	/* the data reference's digest */
	if (rc == EID_OK && !EVP_DigestInit_ex(md, b.md, NULL))
		rc = eid_error__ossl(EID_EINTERNAL, "digest init failed");
	if (rc == EID_OK && o->packaging == EID_XADES_ENVELOPED)
		rc = eid_xml__c14n(p->doc, NULL, b.sig, EID_C14N_EXC, 0, NULL, md, NULL);
	else if (rc == EID_OK && is_xml)
		rc = eid_xml__c14n(p->doc, obj, NULL, EID_C14N_EXC, 0, NULL, md, NULL);
	else if (rc == EID_OK && !EVP_DigestUpdate(md, raw.data, raw.len))
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
	if (rc == EID_OK && !EVP_DigestFinal_ex(md, digest, &dlen))
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
	if (rc == EID_OK && o->packaging == EID_XADES_ENVELOPED) {
		rc = add_data_ref(&b, "", env, digest, dlen, mime);
	} else if (rc == EID_OK) {
		char uri[72];

		snprintf(uri, sizeof(uri), "#%s", ref);
		rc = add_data_ref(&b, uri, is_xml ? exc : b64, digest, dlen, mime);
	}
	if (rc == EID_OK)
		rc = builder_finish(&b, signer, p);
	EVP_MD_CTX_free(md);
	xmlFreeDoc(in);
	eid_buf_clear(&raw);
	return rc;
}

EID_EXTERN int eid_xades_prepare(eid_xades_prep **out, const eid_signer *signer, const eid_xades_data *data,
				 size_t n, const eid_xades_opts *opts)
{
	eid_xades_opts o;
	unsigned char (*digests)[EVP_MAX_MD_SIZE] = NULL;
	eid_xades_ref *refs = NULL;
	eid_buf *uris = NULL;
	eid_xades_prep *p = NULL;
	size_t i;
	int rc;

	if (out == NULL || signer == NULL || data == NULL || n == 0)
		return eid_error__set(EID_EINVAL, "eid_xades_prepare: nothing to sign");
	*out = NULL;
	if ((rc = eid_xades__opts(opts, &o)) < 0)
		return rc;
	if (o.hash == EID_HASH_DEFAULT)
		o.hash = EID_HASH_SHA256;
	if (o.packaging != EID_XADES_DETACHED) {
		if (n != 1)
			return eid_error__set(EID_EINVAL, "an enveloped or enveloping signature covers one input");
		if ((rc = prep_new(&p, signer, &o)) < 0)
			return rc;
		if ((rc = prepare_attached(p, signer, &data[0], &o)) < 0) {
			eid_xades_prep_free(p);
			return rc;
		}
		*out = p;
		return EID_OK;
	}
	refs = calloc(n, sizeof(*refs));
	uris = calloc(n, sizeof(*uris));
	digests = calloc(n, sizeof(*digests));
	if (refs == NULL || uris == NULL || digests == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; rc == EID_OK && i < n; i++) {
		unsigned int dlen = 0;

		rc = eid_cms__digest_file(data[i].path, eid_hash__md(o.hash), digests[i], &dlen);
		if (rc == EID_OK && data[i].uri == NULL)
			rc = uri_of(data[i].path, &uris[i]);
		refs[i].uri = data[i].uri ? data[i].uri : (const char *)uris[i].data;
		refs[i].digest = digests[i];
		refs[i].digest_len = dlen;
		refs[i].mime_type = data[i].mime_type ? data[i].mime_type : eid_xades__mime_guess(data[i].path);
	}
	if (rc == EID_OK)
		rc = eid_xades__prepare_detached(out, signer, refs, n, &o, 0);
	for (i = 0; uris != NULL && i < n; i++)
		eid_buf_clear(&uris[i]);
	free(uris);
	free(refs);
	free(digests);
	return rc;
}

EID_EXTERN int eid_xades_prep_digest(const eid_xades_prep *p, const unsigned char **digest, size_t *len,
				     eid_hash *hash, eid_sig_scheme *scheme)
{
	if (p == NULL)
		return eid_error__set(EID_EINVAL, "eid_xades_prep_digest: NULL argument");
	if (digest) *digest = p->tbs;
	if (len) *len = p->tbs_len;
	if (hash) *hash = p->hash;
	if (scheme) *scheme = p->scheme;
	return EID_OK;
}

/* Where the signed document goes: a buffer, or a file written atomically. */
typedef struct sink {
	eid_buf *buf;
	eid_outfile *file;
} sink;

static int sink_write(sink *k, const void *p, size_t len)
{
	return k->buf != NULL ? eid_buf__append(k->buf, p, len) : eid_io__out_write(k->file, p, len);
}

static int sink_cb(void *ctx, const char *p, int len)
{
	return sink_write(ctx, p, (size_t)len) == EID_OK ? len : -1;
}

/*
 * The signed document of a streamed enveloped signature: the file's bytes,
 * copied in chunks, with the signature written in before the root element's
 * end tag (an empty root element is opened and closed around it).  The bytes
 * must still be those that were canonicalized.
 */
static int splice_into(eid_xades_prep *p, sink *k)
{
	xmlBufferPtr sig = xmlBufferCreate();
	unsigned char sha[32], *chunk = malloc(EID_IO_CHUNK);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint64_t pos = 0;
	int fd = -1, rc = EID_OK;

	if (sig == NULL || md == NULL || chunk == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
	    xmlNodeDump(sig, p->doc, xmlDocGetRootElement(p->doc), 0, 0) < 0)
		rc = eid_error__set(EID_ENOMEM, "the signature cannot be written out");
	if (rc == EID_OK && k->buf != NULL) /* the exact size, at once */
		rc = eid_buf__reserve(k->buf, (size_t)p->src.size + (size_t)xmlBufferLength(sig) +
						      strlen(p->src.root_qname) + 3);
	if (rc == EID_OK && (fd = open(p->src_path, O_RDONLY | O_CLOEXEC)) < 0)
		rc = eid_error__set(EID_EIO, "cannot open '%s': %s", p->src_path, strerror(errno));
	while (rc == EID_OK) {
		size_t want = EID_IO_CHUNK;
		ssize_t n;

		if (pos < p->splice_at && p->splice_at - pos < want)
			want = (size_t)(p->splice_at - pos); /* stop exactly at the splice */
		n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = eid_error__set(EID_EIO, "cannot read '%s': %s", p->src_path, strerror(errno));
		if (n <= 0)
			break;
		if (!EVP_DigestUpdate(md, chunk, (size_t)n))
			rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
		if (rc == EID_OK && pos == p->splice_at) {
			/* here: the end tag, or "/>" which becomes ">" SIGNATURE "</root>" */
			size_t skip = p->root_empty ? 2 : 0;

			if (skip > (size_t)n)
				rc = eid_error__set(EID_EIO, "'%s' changed after the signature was prepared", p->src_path);
			if (rc == EID_OK && skip)
				rc = sink_write(k, ">", 1);
			if (rc == EID_OK)
				rc = sink_write(k, xmlBufferContent(sig), (size_t)xmlBufferLength(sig));
			if (rc == EID_OK && skip && (rc = sink_write(k, "</", 2)) == EID_OK &&
			    (rc = sink_write(k, p->src.root_qname, strlen(p->src.root_qname))) == EID_OK)
				rc = sink_write(k, ">", 1);
			if (rc == EID_OK)
				rc = sink_write(k, chunk + skip, (size_t)n - skip);
		} else if (rc == EID_OK) {
			rc = sink_write(k, chunk, (size_t)n);
		}
		pos += (uint64_t)n;
	}
	if (rc == EID_OK && (pos != p->src.size || pos <= p->splice_at || !EVP_DigestFinal_ex(md, sha, NULL) ||
			     memcmp(sha, p->src.sha256, sizeof(sha)) != 0))
		rc = eid_error__set(EID_EIO, "'%s' changed after the signature was prepared", p->src_path);
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(md);
	xmlBufferFree(sig);
	free(chunk);
	return rc;
}

/*
 * B-T: a SignatureTimeStamp over the exclusive canonical form of
 * ds:SignatureValue, in UnsignedSignatureProperties.
 */
static int add_signature_timestamp(eid_xades_prep *p)
{
	static const char exc[] = "http://www.w3.org/2001/10/xml-exc-c14n#";
	xmlNsPtr xades = xmlSearchNsByHref(p->doc, p->qp, (const xmlChar *)EID_NS_XADES);
	xmlNsPtr ds = xmlSearchNsByHref(p->doc, p->sigvalue, (const xmlChar *)EID_NS_DS);
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	eid_buf tok = EID_BUF_INIT, b64 = EID_BUF_INIT;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	xmlNodePtr usp, ts, cm;
	char id[64];
	int rc = md && xades && ds && EVP_DigestInit_ex(md, eid_hash__md(p->hash), NULL) ? EID_OK
							      : eid_error__set(EID_ENOMEM, NULL);

	if (rc == EID_OK)
		rc = eid_xml__c14n(p->doc, p->sigvalue, NULL, EID_C14N_EXC, 0, NULL, md, NULL);
	if (rc == EID_OK && !EVP_DigestFinal_ex(md, d, &dl))
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
	if (rc == EID_OK && (rc = eid_online_timestamp(p->online, p->hash, d, dl, &tok)) < 0)
		rc = eid_error__wrap("the signature timestamp");
	if (rc == EID_OK && (rc = eid_xml__b64_encode(tok.data, tok.len, &b64)) == EID_OK)
		rc = eid_buf__append(&b64, "", 1);
	if (rc == EID_OK) {
		usp = xmlNewChild(xmlNewChild(p->qp, xades, (const xmlChar *)"UnsignedProperties", NULL), xades,
				  (const xmlChar *)"UnsignedSignatureProperties", NULL);
		ts = usp ? xmlNewChild(usp, xades, (const xmlChar *)"SignatureTimeStamp", NULL) : NULL;
		cm = ts ? xmlNewChild(ts, ds, (const xmlChar *)"CanonicalizationMethod", NULL) : NULL;
		snprintf(id, sizeof(id), "%s-sigtst", p->id);
		if (cm == NULL || xmlNewProp(ts, (const xmlChar *)"Id", (const xmlChar *)id) == NULL ||
		    xmlNewProp(cm, (const xmlChar *)"Algorithm", (const xmlChar *)exc) == NULL ||
		    xmlNewTextChild(ts, xades, (const xmlChar *)"EncapsulatedTimeStamp", b64.data) == NULL)
			rc = eid_error__set(EID_ENOMEM, NULL);
	}
	EVP_MD_CTX_free(md);
	eid_buf_clear(&tok);
	eid_buf_clear(&b64);
	return rc;
}

/* Check the value against the key and put it into ds:SignatureValue. */
static int set_value(eid_xades_prep *p, const unsigned char *sig, size_t sig_len)
{
	eid_buf der = EID_BUF_INIT, raw = EID_BUF_INIT, b64 = EID_BUF_INIT;
	int rc;

	/* XML-DSig wants ECDSA as r||s; the check wants DER */
	if (p->scheme == EID_SIG_ECDSA) {
		size_t field = eid_token__ec_field_len(p->pub);

		if (eid_token__ecdsa_is_der(sig, sig_len)) {
			rc = eid_buf_set(&der, sig, sig_len);
			if (rc == EID_OK)
				rc = eid_token__ecdsa_der_to_raw(sig, sig_len, field, &raw);
		} else {
			rc = eid_buf_set(&raw, sig, sig_len);
			if (rc == EID_OK)
				rc = eid_token__ecdsa_raw_to_der(sig, sig_len, &der);
		}
	} else {
		rc = eid_buf_set(&der, sig, sig_len);
		if (rc == EID_OK)
			rc = eid_buf_set(&raw, sig, sig_len);
	}
	if (rc == EID_OK && !eid_cms__check_sig(p->pub, p->scheme, p->hash, p->tbs, p->tbs_len, der.data, der.len))
		rc = eid_error__set(EID_EINVAL, "the signature value does not verify with the signer's public key");
	if (rc == EID_OK)
		rc = eid_xml__b64_encode(raw.data, raw.len, &b64);
	if (rc == EID_OK && (rc = eid_buf__append(&b64, "", 1)) == EID_OK)
		xmlNodeSetContent(p->sigvalue, b64.data);
	if (rc == EID_OK && p->level == EID_LEVEL_B_T && eid_xml__child(p->qp, EID_NS_XADES, "UnsignedProperties") == NULL)
		rc = add_signature_timestamp(p);
	eid_buf_clear(&der);
	eid_buf_clear(&raw);
	eid_buf_clear(&b64);
	return rc;
}

/* The signed document into @k. */
static int write_out(eid_xades_prep *p, sink *k)
{
	xmlOutputBufferPtr ob;
	int rc = EID_OK;

	if (p->src_path != NULL)
		return splice_into(p, k);
	/* serialized straight into the sink, without a copy in between */
	if (k->buf != NULL && p->size_hint > 0 && (rc = eid_buf__reserve(k->buf, p->size_hint)) < 0)
		return rc;
	if ((ob = xmlOutputBufferCreateIO(sink_cb, NULL, k, NULL)) == NULL ||
	    xmlSaveFormatFileTo(ob, p->doc, "UTF-8", 0) < 0)
		rc = eid_error__set(EID_ENOMEM, "the signed document cannot be written out");
	return rc;
}

EID_EXTERN int eid_xades_complete(eid_xades_prep *p, const unsigned char *sig, size_t sig_len, eid_buf *out)
{
	sink k = { out, NULL };
	int rc;

	if (p == NULL || sig == NULL || sig_len == 0 || out == NULL)
		return eid_error__set(EID_EINVAL, "eid_xades_complete: NULL or empty argument");
	if (p->completed)
		return eid_error__set(EID_EINVAL, "this signature was already completed");
	out->len = 0;
	if ((rc = set_value(p, sig, sig_len)) == EID_OK && (rc = write_out(p, &k)) == EID_OK)
		p->completed = 1;
	else
		out->len = 0;
	return rc;
}

EID_EXTERN int eid_xades_complete_file(eid_xades_prep *p, const unsigned char *sig, size_t sig_len,
				       const char *out_path)
{
	eid_outfile of;
	sink k = { NULL, &of };
	int rc;

	if (p == NULL || sig == NULL || sig_len == 0 || out_path == NULL)
		return eid_error__set(EID_EINVAL, "eid_xades_complete_file: NULL or empty argument");
	if (p->completed)
		return eid_error__set(EID_EINVAL, "this signature was already completed");
	if ((rc = set_value(p, sig, sig_len)) < 0 || (rc = eid_io__out_open(&of, out_path)) < 0)
		return rc;
	if ((rc = write_out(p, &k)) == EID_OK)
		rc = eid_io__out_commit(&of);
	else
		eid_io__out_abort(&of);
	if (rc == EID_OK)
		p->completed = 1;
	return rc;
}

EID_EXTERN void eid_xades_prep_free(eid_xades_prep *p)
{
	if (p == NULL)
		return;
	xmlFreeDoc(p->doc);
	EVP_PKEY_free(p->pub);
	free(p->src_path);
	free(p);
}

/* One step, into a buffer (@out) or a file (@out_path). */
static int sign_one_step(eid_signer *signer, const eid_xades_data *data, size_t n, const eid_xades_opts *opts,
			 eid_buf *out, const char *out_path)
{
	eid_xades_prep *p = NULL;
	eid_buf sig = EID_BUF_INIT;
	const unsigned char *tbs;
	size_t len;
	eid_hash hash;
	eid_sig_scheme scheme;
	int rc;

	if ((rc = eid_xades_prepare(&p, signer, data, n, opts)) < 0)
		return rc;
	eid_xades_prep_digest(p, &tbs, &len, &hash, &scheme);
	rc = eid_signer_sign_digest(signer, scheme, hash, tbs, len, &sig);
	if (rc == EID_OK)
		rc = out_path ? eid_xades_complete_file(p, sig.data, sig.len, out_path)
			      : eid_xades_complete(p, sig.data, sig.len, out);
	eid_buf_clear(&sig);
	eid_xades_prep_free(p);
	return rc;
}

EID_EXTERN int eid_xades_sign(eid_signer *signer, const eid_xades_data *data, size_t n, const eid_xades_opts *opts,
			      eid_buf *out)
{
	if (out == NULL)
		return eid_error__set(EID_EINVAL, "eid_xades_sign: NULL output");
	return sign_one_step(signer, data, n, opts, out, NULL);
}

EID_EXTERN int eid_xades_sign_file(eid_signer *signer, const eid_xades_data *data, size_t n,
				   const eid_xades_opts *opts, const char *out_path)
{
	if (out_path == NULL)
		return eid_error__set(EID_EINVAL, "eid_xades_sign_file: NULL output path");
	return sign_one_step(signer, data, n, opts, NULL, out_path);
}
