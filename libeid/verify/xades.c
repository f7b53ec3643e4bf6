/*
 * XAdES validation (EN 319 132-1 signatures, EN 319 102-1 process).  The
 * XML-DSig core is ours, with a closed set of reference forms and
 * transforms, so that what the report calls signed is exactly what the
 * digests covered:
 *  - references: "" (the whole document), "#Id" (one element: every Id in
 *    the document must be unique), or a relative URI naming a file the
 *    caller supplied; nothing else;
 *  - transforms: enveloped-signature (same-document references), one
 *    canonicalization method last, or base64 alone on an "#Id" reference;
 *  - one SignedInfo, one SignatureValue; the SignedProperties referenced
 *    once, inside this signature's own QualifyingProperties;
 *  - the signer is the KeyInfo certificate that SigningCertificateV2 names.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "../asic/zip.h"
#include "../cms/cms.h"
#include "../xades/xades.h"
#include "verify.h"

#define KEYINFO_MAX_CERTS 16
#define REFS_MAX 1000
#define VDATA_MAX_ITEMS 256  /* certificates, CRLs and OCSP responses a signature carries */
#define ARCHIVE_MAX 32       /* archive timestamps of one signature */

/* A document verified from its file as a stream: the tree holds only its signatures. */
typedef struct source {
	const char *path;
	const char *dup_id; /* an Id that occurs twice in the document, or NULL */
} source;

typedef struct sigctx {
	xmlDocPtr doc;
	const source *src;         /* or NULL: the tree is the whole document */
	long index;                /* of this signature among the outermost ones */
	xmlNodePtr sig;
	const eid_xml_resolver *res;
	const eid_xades_source *data_src; /* the detached references' bytes (archive timestamps) */
	const eid_verify_opts *o;
	eid_sig_report *s;
	xmlNodePtr signed_props;   /* the referenced SignedProperties */
	char **ref_ids;            /* Ids of the data references */
	char **ref_what;           /* their descriptions */
	size_t nrefs;
	xmlNodePtr targets[64];    /* same-document nodes the references cover (NULL: the whole document) */
	size_t ntargets;
	int whole_doc;
	int failed;                /* a decisive format, hash or signature failure */
} sigctx;

static char *attr_of(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);

	return (char *)v;
}

/* Element children of @n that are not @ns:@name, or a count of those that are. */
static size_t count_children(xmlNodePtr n, const char *ns, const char *name)
{
	xmlNodePtr c;
	size_t k = 0;

	for (c = n ? n->children : NULL; c != NULL; c = c->next)
		k += eid_xml__is(c, ns, name);
	return k;
}

static void fail(sigctx *c, eid_indication ind, eid_subindication sub, const char *fmt, ...) EID_PRINTF(4, 5);
static void fail(sigctx *c, eid_indication ind, eid_subindication sub, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (ind == EID_TOTAL_FAILED && (sub == EID_SUB_HASH_FAILURE || sub == EID_SUB_SIG_CRYPTO_FAILURE))
		c->s->indication = EID_TOTAL_PASSED; /* cryptographic failures decide over earlier findings */
	eid_sig__fail(c->s, ind, sub, "%s", line);
	if (ind == EID_TOTAL_FAILED)
		c->failed = 1;
}

/* "2026-11-22T10:00:00Z", "...+01:00", fractions allowed; -1 when not a time. */
static int64_t xsd_time(const char *t)
{
	struct tm tm;
	int y, mo, d, h, mi, s, n = 0, oh = 0, om = 0;
	const char *z;
	int64_t v;

	if (t == NULL || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6)
		return -1;
	z = t + n;
	if (*z == '.')
		for (z++; *z >= '0' && *z <= '9'; z++)
			;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	v = (int64_t)timegm(&tm);
	if ((*z == '+' || *z == '-') && sscanf(z + 1, "%2d:%2d", &oh, &om) == 2)
		v -= (*z == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	else if (*z != 'Z' && *z != '\0')
		return -1;
	return v;
}

/* ---- references ---- */

typedef struct transforms {
	int enveloped, base64, have_c14n, comments;
	eid_c14n mode;
	char *prefixes[16];  /* InclusiveNamespaces PrefixList, NULL-terminated */
	char *prefix_buf;
} transforms;

static void transforms_clear(transforms *t)
{
	xmlFree(t->prefix_buf);
	memset(t, 0, sizeof(*t));
}

/* InclusiveNamespaces PrefixList of an exclusive canonicalization element. */
static void read_prefixes(xmlNodePtr method, transforms *t)
{
	xmlNodePtr inc = eid_xml__child(method, "http://www.w3.org/2001/10/xml-exc-c14n#", "InclusiveNamespaces");
	char *p, *save = NULL;
	size_t k = 0;

	if (inc == NULL || (t->prefix_buf = attr_of(inc, "PrefixList")) == NULL)
		return;
	for (p = strtok_r(t->prefix_buf, " \t\r\n", &save); p != NULL && k < 15; p = strtok_r(NULL, " \t\r\n", &save))
		t->prefixes[k++] = strcmp(p, "#default") == 0 ? (char *)"" : p;
	t->prefixes[k] = NULL;
}

static int read_transforms(sigctx *c, xmlNodePtr ref, transforms *t, int *n)
{
	xmlNodePtr tr = eid_xml__child(ref, EID_NS_DS, "Transforms"), x;

	*n = 0;
	memset(t, 0, sizeof(*t));
	t->mode = EID_C14N_10; /* a node-set becomes octets by inclusive C14N 1.0 (XML-DSig 4.4.3.2) */
	for (x = eid_xml__first_element(tr); x != NULL; x = eid_xml__next_element(x)) {
		char *alg = attr_of(x, "Algorithm");
		int rc = EID_OK;

		if (!eid_xml__is(x, EID_NS_DS, "Transform") || alg == NULL)
			rc = eid_error__set(EID_EFORMAT, "a malformed Transform");
		else if (t->have_c14n || t->base64)
			rc = eid_error__set(EID_EUNSUPPORTED, "nothing may follow a canonicalization or base64 transform");
		else if (strcmp(alg, EID_DS_ENVELOPED) == 0)
			t->enveloped = 1;
		else if (strcmp(alg, EID_DS_BASE64) == 0 && *n == 0)
			t->base64 = 1;
		else if (eid_xml__c14n_from_uri(alg, &t->mode, &t->comments) == EID_OK) {
			t->have_c14n = 1;
			if (t->mode == EID_C14N_EXC)
				read_prefixes(x, t);
		} else
			rc = eid_error__set(EID_EUNSUPPORTED, "transform '%.100s' is not accepted", alg);
		xmlFree(alg);
		(*n)++;
		if (rc < 0) {
			fail(c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "%s", eid_error_last()->message);
			eid_error_clear();
			return rc;
		}
	}
	return EID_OK;
}

/* A detached reference's URI as a plain relative name: percent-decoded, safe (the container's rules). */
static int decode_uri(const char *uri, char *out, size_t size)
{
	eid_buf name = EID_BUF_INIT;
	int rc = asic_uri_decode(uri, &name);

	if (rc == EID_OK && name.len >= size)
		rc = eid_error__set(EID_ETOOBIG, "the reference URI '%.60s...' is too long", uri);
	else if (rc < 0)
		rc = eid_error__wrap("the reference URI '%.100s'", uri);
	if (rc == EID_OK)
		memcpy(out, name.data, name.len + 1);
	eid_buf_clear(&name);
	return rc;
}

/* A same-document reference never covers comments (XML-DSig 4.3.3.3), whatever the canonicalization method says. */
static int digest_node(sigctx *c, xmlNodePtr node, const transforms *t, EVP_MD_CTX *md)
{
	xmlNodePtr exclude = t->enveloped && eid_xml__is_ancestor(node ? node : xmlDocGetRootElement(c->doc), c->sig) ? c->sig : NULL;

	if (t->base64) {
		eid_buf raw = EID_BUF_INIT;
		char *text = eid_xml__text_of(node);
		int rc = text ? eid_xml__b64_decode(text, &raw) : eid_error__set(EID_ENOMEM, NULL);

		if (rc == EID_OK && !EVP_DigestUpdate(md, raw.data, raw.len))
			rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
		xmlFree(text);
		eid_buf_clear(&raw);
		return rc;
	}
	if (node == NULL && c->src != NULL)
		return eid_xml__c14n_file(c->src->path, t->enveloped ? c->index : -1, t->mode,
					  t->prefixes[0] ? (const char *const *)t->prefixes : NULL, md, NULL);
	return eid_xml__c14n(c->doc, node, exclude, t->mode, 0, t->prefixes[0] ? (const char *const *)t->prefixes : NULL,
			     md, NULL);
}

/* One Reference: resolve, transform, digest, compare.  Returns <0 only for library failures. */
static int check_reference(sigctx *c, xmlNodePtr ref, size_t index)
{
	char *uri = attr_of(ref, "URI"), *type = attr_of(ref, "Type"), *id = attr_of(ref, "Id"), *dv = NULL;
	char *alg = attr_of(eid_xml__child(ref, EID_NS_DS, "DigestMethod"), "Algorithm");
	char what[640] = "", name[512];
	eid_buf want = EID_BUF_INIT;
	unsigned char got[EVP_MAX_MD_SIZE];
	unsigned int got_len = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	xmlNodePtr target = NULL;
	transforms t;
	eid_hash hash;
	int rc = EID_OK, nt = 0, is_props, external = 0;

	memset(&t, 0, sizeof(t));
	is_props = type != NULL && strcmp(type, EID_XADES_SIGNED_PROPS_TYPE) == 0;
	if (md == NULL) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out;
	}
	if (uri == NULL) {
		fail(c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "reference %zu has no URI", index + 1);
		goto out;
	}
	if (eid_xades__digest_from_uri(alg, &hash) < 0 ||
	    (dv = eid_xml__text_of(eid_xml__child(ref, EID_NS_DS, "DigestValue"))) == NULL ||
	    eid_xml__b64_decode(dv, &want) < 0 || want.len != eid_hash_size(hash)) {
		fail(c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "reference %zu: %s", index + 1,
		     eid_error_last()->code ? eid_error_last()->message : "a malformed DigestValue");
		eid_error_clear();
		goto out;
	}
	if (read_transforms(c, ref, &t, &nt) < 0)
		goto out;
	if (!EVP_DigestInit_ex(md, eid_hash__md(hash), NULL)) {
		rc = eid_error__ossl(EID_EINTERNAL, "digest init failed");
		goto out;
	}
	if (uri[0] == '\0' || uri[0] == '#') {
		if (uri[0] == '#' && c->src != NULL && c->src->dup_id != NULL) {
			fail(c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE,
			     "reference %zu: the Id '%.80s' occurs more than once in the document", index + 1, c->src->dup_id);
			goto out;
		}
		if (uri[0] == '#' && (rc = eid_xml__find_id(c->doc, uri + 1, &target)) < 0) {
			fail(c, rc == EID_ENOTFOUND ? EID_INDETERMINATE : EID_TOTAL_FAILED,
			     rc == EID_ENOTFOUND ? EID_SUB_SIGNED_DATA_NOT_FOUND : EID_SUB_FORMAT_FAILURE, "reference %zu: %s",
			     index + 1, eid_error_last()->message);
			eid_error_clear();
			rc = EID_OK;
			goto out;
		}
		if (t.base64 && target == NULL) {
			fail(c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "reference %zu: base64 of the whole document",
			     index + 1);
			goto out;
		}
		if ((rc = digest_node(c, target, &t, md)) < 0) {
			if (rc != EID_EFORMAT)
				goto out;
			fail(c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "reference %zu: %s", index + 1,
			     eid_error_last()->message);
			eid_error_clear();
			rc = EID_OK;
			goto out;
		}
		if (target == NULL)
			c->whole_doc = 1;
		else if (c->ntargets < sizeof(c->targets) / sizeof(c->targets[0]))
			c->targets[c->ntargets++] = target;
		if (target == NULL)
			snprintf(what, sizeof(what), "the whole document%s", t.enveloped ? " (the signature left out)" : "");
		else
			snprintf(what, sizeof(what), "element %.100s with Id '%.100s'%s", (const char *)target->name, uri + 1,
				 eid_xml__is_ancestor(c->sig, target) ? " (inside the signature)" : "");
		if (is_props)
			c->signed_props = target;
	} else {
		external = 1;
		if (nt > 0) {
			fail(c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE,
			     "reference %zu: transforms on a detached reference are not accepted", index + 1);
			goto out;
		}
		if (decode_uri(uri, name, sizeof(name)) < 0) {
			fail(c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "%s", eid_error_last()->message);
			eid_error_clear();
			goto out;
		}
		rc = c->res && c->res->digest ? c->res->digest(c->res->ctx, name, eid_hash__md(hash), got, &got_len)
					      : eid_error__set(EID_ENOTFOUND, "no signed files were given");
		if (rc < 0) {
			if (rc != EID_ENOTFOUND && rc != EID_EIO && rc != EID_ETOOBIG && rc != EID_EFORMAT)
				goto out;
			fail(c, EID_INDETERMINATE, EID_SUB_SIGNED_DATA_NOT_FOUND, "reference %zu ('%.200s'): %s", index + 1,
			     name, eid_error_last()->message);
			eid_error_clear();
			rc = EID_OK;
			goto out;
		}
		snprintf(what, sizeof(what), "file '%.500s'", name);
	}
	if (!external && !EVP_DigestFinal_ex(md, got, &got_len)) { /* a file's digest comes whole */
		rc = eid_error__ossl(EID_EINTERNAL, "digest failed");
		goto out;
	}
	if (got_len != want.len || memcmp(got, want.data, got_len) != 0) {
		fail(c, EID_TOTAL_FAILED, EID_SUB_HASH_FAILURE, "reference %zu (%s) does not match its digest: %s",
		     index + 1, what[0] ? what : uri, is_props ? "the signed properties were changed" : "the data was changed");
		goto out;
	}
	if (!is_props) {
		char **ids = realloc(c->ref_ids, (c->nrefs + 1) * sizeof(*ids));
		char **whats = ids ? realloc(c->ref_what, (c->nrefs + 1) * sizeof(*whats)) : NULL;

		if (ids) c->ref_ids = ids;
		if (whats) c->ref_what = whats;
		if (ids == NULL || whats == NULL) {
			rc = eid_error__set(EID_ENOMEM, NULL);
			goto out;
		}
		c->ref_ids[c->nrefs] = id ? strdup(id) : NULL;
		c->ref_what[c->nrefs++] = strdup(what);
	}
out:
	transforms_clear(&t);
	EVP_MD_CTX_free(md);
	eid_buf_clear(&want);
	xmlFree(uri);
	xmlFree(type);
	xmlFree(id);
	xmlFree(alg);
	xmlFree(dv);
	return rc;
}

/* ---- the signature value and the signer ---- */

static int keyinfo_certs(xmlNodePtr sig, STACK_OF(X509) *out)
{
	xmlNodePtr ki = eid_xml__child(sig, EID_NS_DS, "KeyInfo"), d, x;

	for (d = ki ? ki->children : NULL; d != NULL; d = d->next) {
		if (!eid_xml__is(d, EID_NS_DS, "X509Data"))
			continue;
		for (x = d->children; x != NULL; x = x->next) {
			eid_buf der = EID_BUF_INIT;
			char *text;
			X509 *cert = NULL;

			if (!eid_xml__is(x, EID_NS_DS, "X509Certificate"))
				continue;
			if (sk_X509_num(out) >= KEYINFO_MAX_CERTS)
				return eid_error__set(EID_ETOOBIG, "more than %d certificates in KeyInfo", KEYINFO_MAX_CERTS);
			text = eid_xml__text_of(x);
			if (text != NULL && eid_xml__b64_decode(text, &der) == EID_OK)
				eid_cert__parse(der.data, der.len, &cert);
			eid_error_clear();
			xmlFree(text);
			eid_buf_clear(&der);
			if (cert != NULL && !sk_X509_push(out, cert))
				X509_free(cert);
		}
	}
	return EID_OK;
}

/* The KeyInfo certificates that SigningCertificate(V2) names by digest. */
static int cert_named(xmlNodePtr signing_cert, X509 *cert)
{
	xmlNodePtr c;

	for (c = signing_cert ? signing_cert->children : NULL; c != NULL; c = c->next) {
		xmlNodePtr cd = eid_xml__child(c, NULL, "CertDigest");
		char *alg = attr_of(eid_xml__child(cd, EID_NS_DS, "DigestMethod"), "Algorithm");
		char *dv = eid_xml__text_of(eid_xml__child(cd, EID_NS_DS, "DigestValue"));
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;
		eid_buf want = EID_BUF_INIT;
		eid_hash h;
		int match = 0;

		if (eid_xml__is(c, NULL, "Cert") && alg && dv && eid_xades__digest_from_uri(alg, &h) == EID_OK &&
		    eid_xml__b64_decode(dv, &want) == EID_OK && X509_digest(cert, eid_hash__md(h), d, &dl))
			match = want.len == dl && memcmp(want.data, d, dl) == 0;
		eid_error_clear();
		xmlFree(alg);
		xmlFree(dv);
		eid_buf_clear(&want);
		if (match)
			return 1;
	}
	return 0;
}

static int check_value(sigctx *c, xmlNodePtr signed_info, X509 *cert, eid_sig_scheme scheme, eid_hash hash,
		       const eid_buf *value, eid_c14n mode, int comments, const char *const *prefixes)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	eid_buf der = EID_BUF_INIT;
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	int good = 0;

	if (md == NULL || pub == NULL || !EVP_DigestInit_ex(md, eid_hash__md(hash), NULL) ||
	    eid_xml__c14n(c->doc, signed_info, NULL, mode, comments, prefixes, md, NULL) < 0 ||
	    !EVP_DigestFinal_ex(md, d, &dl)) {
		EVP_MD_CTX_free(md);
		eid_error_clear();
		return 0;
	}
	EVP_MD_CTX_free(md);
	if (scheme == EID_SIG_ECDSA) {
		if (value->len != 2 * eid_token__ec_field_len(pub) ||
		    eid_token__ecdsa_raw_to_der(value->data, value->len, &der) < 0) {
			eid_error_clear();
			return 0;
		}
	} else if (eid_buf_set(&der, value->data, value->len) < 0) {
		return 0;
	}
	if ((scheme == EID_SIG_ECDSA) == (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC))
		good = eid_cms__check_sig(pub, scheme, hash, d, dl, der.data, der.len);
	eid_buf_clear(&der);
	ERR_clear_error();
	return good;
}

/*
 * A ds:Object of this signature that no reference covers holds unsigned
 * content: an application that reads it would read what nobody signed (the
 * signature wrapping attacks hide the original there, or put a decoy).
 */
static void warn_unsigned_objects(sigctx *c, xmlNodePtr qp)
{
	xmlNodePtr x;
	size_t k, n = 0;

	for (x = eid_xml__first_element(c->sig); x != NULL; x = eid_xml__next_element(x)) {
		int covered = c->whole_doc && !eid_xml__is_ancestor(c->sig, x) ? 1 : 0;

		if (!eid_xml__is(x, EID_NS_DS, "Object"))
			continue;
		n++;
		if (qp != NULL && eid_xml__is_ancestor(x, qp))
			continue;
		for (k = 0; k < c->ntargets && !covered; k++)
			covered = eid_xml__is_ancestor(c->targets[k], x) || eid_xml__is_ancestor(x, c->targets[k]);
		if (!covered)
			eid_sig__warn(c->s, "ds:Object %zu of the signature is not signed: whatever it holds is not covered "
					    "by any reference", n);
	}
}

/*
 * The signed policy and role, reported as the signer put them.  The policy
 * document is not fetched: an explicit policy is reported with the digest
 * its document must have.
 */
static void read_policy_and_role(sigctx *c, xmlNodePtr ssp)
{
	xmlNodePtr spi = eid_xml__child(ssp, EID_NS_XADES, "SignaturePolicyIdentifier"), spid, role;
	char *id = NULL, *alg = NULL, *dv = NULL, *uri = NULL, *text = NULL;
	eid_hash h;

	if (spi != NULL && eid_xml__child(spi, EID_NS_XADES, "SignaturePolicyImplied") != NULL) {
		eid_sig__set(&c->s->policy, "implied (the signed data says which policy applies)");
	} else if ((spid = eid_xml__child(spi, EID_NS_XADES, "SignaturePolicyId")) != NULL) {
		xmlNodePtr hash = eid_xml__child(spid, EID_NS_XADES, "SigPolicyHash");
		xmlNodePtr q = eid_xml__child(eid_xml__child(spid, EID_NS_XADES, "SigPolicyQualifiers"), EID_NS_XADES,
					      "SigPolicyQualifier");

		id = eid_xml__text_of(eid_xml__child(eid_xml__child(spid, EID_NS_XADES, "SigPolicyId"), EID_NS_XADES, "Identifier"));
		alg = attr_of(eid_xml__child(hash, EID_NS_DS, "DigestMethod"), "Algorithm");
		dv = eid_xml__text_of(eid_xml__child(hash, EID_NS_DS, "DigestValue"));
		uri = eid_xml__text_of(eid_xml__child(q, EID_NS_XADES, "SPURI"));
		if (id == NULL || dv == NULL || eid_xades__digest_from_uri(alg, &h) < 0) {
			eid_error_clear();
			eid_sig__warn(c->s, "the signature policy is malformed (no identifier, or no known digest)");
		} else if (asprintf(&text, "%s, document digest %s %s%s%s", id, eid_hash_name(h), dv, uri ? ", at " : "",
				    uri ? uri : "") > 0) {
			eid_sig__set(&c->s->policy, text);
			eid_sig__warn(c->s, "the signature policy's document was not checked: whether its rules hold is "
					    "for the relying party to judge");
		}
	}
	role = eid_xml__child(eid_xml__child(eid_xml__child(ssp, EID_NS_XADES, "SignerRoleV2"), EID_NS_XADES,
					     "ClaimedRoles"), EID_NS_XADES, "ClaimedRole");
	if (role == NULL)
		role = eid_xml__child(eid_xml__child(eid_xml__child(ssp, EID_NS_XADES, "SignerRole"), EID_NS_XADES,
						     "ClaimedRoles"), EID_NS_XADES, "ClaimedRole");
	if (role != NULL) {
		char *r = eid_xml__text_of(role);

		eid_sig__set(&c->s->role, r);
		xmlFree(r);
	}
	free(text);
	xmlFree(id);
	xmlFree(alg);
	xmlFree(dv);
	xmlFree(uri);
}

/*
 * SignatureTimeStamp in UnsignedSignatureProperties: a token over the
 * canonical form (its own CanonicalizationMethod) of ds:SignatureValue.
 */
static int signature_timestamps(sigctx *c, xmlNodePtr qp, xmlNodePtr sv, eid_tst_result *best)
{
	xmlNodePtr usp = eid_xml__child(eid_xml__child(qp, EID_NS_XADES, "UnsignedProperties"), EID_NS_XADES,
					"UnsignedSignatureProperties"), x;
	int rc = EID_OK;

	for (x = eid_xml__first_element(usp); x != NULL && rc == EID_OK; x = eid_xml__next_element(x)) {
		char *alg = NULL, *text = NULL;
		eid_buf token = EID_BUF_INIT, canon = EID_BUF_INIT;
		eid_tst_result r;
		eid_c14n mode = EID_C14N_10;
		int comments = 0;

		if (!eid_xml__is(x, EID_NS_XADES, "SignatureTimeStamp"))
			continue;
		alg = attr_of(eid_xml__child(x, EID_NS_DS, "CanonicalizationMethod"), "Algorithm");
		text = eid_xml__text_of(eid_xml__child(x, EID_NS_XADES, "EncapsulatedTimeStamp"));
		if ((alg != NULL && eid_xml__c14n_from_uri(alg, &mode, &comments) < 0) || text == NULL ||
		    eid_xml__b64_decode(text, &token) < 0 || token.len == 0) {
			eid_error_clear();
			eid_sig__warn(c->s, "a SignatureTimeStamp is malformed");
		} else if ((rc = eid_xml__c14n(c->doc, sv, NULL, mode, comments, NULL, NULL, &canon)) == EID_OK &&
			   (rc = eid_verify__timestamp(token.data, token.len, canon.data, canon.len, c->o, &r)) == EID_OK) {
			eid_verify__keep_timestamp(c->s, best, &r);
		}
		xmlFree(alg);
		xmlFree(text);
		eid_buf_clear(&token);
		eid_buf_clear(&canon);
	}
	return rc;
}

/* ---- long-term: validation data and archive timestamps ---- */

/* One Encapsulated... value into @vd; one that does not parse is a warning. */
static int read_value(sigctx *c, xmlNodePtr x, int kind, eid_vdata *vd, size_t *count)
{
	static const char *const what[] = { "certificate", "CRL", "OCSP response" };
	eid_buf der = EID_BUF_INIT;
	char *text;
	int rc;

	if (++*count > VDATA_MAX_ITEMS) {
		if (*count == VDATA_MAX_ITEMS + 1)
			eid_sig__warn(c->s, "the signature carries more than %d validation data values: the rest is ignored",
				      VDATA_MAX_ITEMS);
		return EID_OK;
	}
	text = eid_xml__text_of(x);
	rc = text != NULL ? eid_xml__b64_decode(text, &der) : EID_EFORMAT;
	if (rc == EID_OK)
		rc = eid_vdata__add_der(vd, kind, der.data, der.len);
	xmlFree(text);
	eid_buf_clear(&der);
	if (rc == EID_ENOMEM)
		return rc;
	if (rc < 0) {
		eid_error_clear();
		eid_sig__warn(c->s, "an embedded %s (%s) is malformed: it is ignored", what[kind], (const char *)x->name);
	}
	return EID_OK;
}

/* CertificateValues and RevocationValues among the children of @holder. */
static int read_values(sigctx *c, xmlNodePtr holder, eid_vdata *vd, size_t *count)
{
	xmlNodePtr x, l, v;
	int rc = EID_OK;

	for (x = eid_xml__first_element(holder); x != NULL && rc == EID_OK; x = eid_xml__next_element(x)) {
		if (eid_xml__is(x, EID_NS_XADES, "CertificateValues")) {
			for (v = eid_xml__first_element(x); v != NULL && rc == EID_OK; v = eid_xml__next_element(v))
				if (eid_xml__is(v, EID_NS_XADES, "EncapsulatedX509Certificate"))
					rc = read_value(c, v, EID_VDATA_CERT, vd, count);
		} else if (eid_xml__is(x, EID_NS_XADES, "RevocationValues")) {
			for (l = eid_xml__first_element(x); l != NULL && rc == EID_OK; l = eid_xml__next_element(l))
				for (v = eid_xml__first_element(l); v != NULL && rc == EID_OK; v = eid_xml__next_element(v)) {
					if (eid_xml__is(l, EID_NS_XADES, "CRLValues") &&
					    eid_xml__is(v, EID_NS_XADES, "EncapsulatedCRLValue"))
						rc = read_value(c, v, EID_VDATA_CRL, vd, count);
					else if (eid_xml__is(l, EID_NS_XADES, "OCSPValues") &&
						 eid_xml__is(v, EID_NS_XADES, "EncapsulatedOCSPValue"))
						rc = read_value(c, v, EID_VDATA_OCSP, vd, count);
				}
		}
	}
	return rc;
}

/* The validation data the signature carries: its own, and each TimeStampValidationData's. */
static int read_vdata(sigctx *c, xmlNodePtr usp, eid_vdata *vd)
{
	xmlNodePtr x;
	size_t count = 0;
	int rc = read_values(c, usp, vd, &count);

	for (x = eid_xml__first_element(usp); x != NULL && rc == EID_OK; x = eid_xml__next_element(x))
		if (eid_xml__is(x, EID_NS_XADES141, "TimeStampValidationData"))
			rc = read_values(c, x, vd, &count);
	return rc;
}

/*
 * xades141:ArchiveTimeStamp in UnsignedSignatureProperties: a token over
 * the signature, its data objects and the properties before it (EN 319
 * 132-1, 5.5.2.2), canonicalized with its own method (C14N 1.0 when it names
 * none).  The earliest that holds into @best; one that does not is a warning.
 */
static int archive_timestamps(sigctx *c, xmlNodePtr usp, eid_tst_result *best)
{
	xmlNodePtr x;
	size_t n = 0;
	int rc = EID_OK;

	for (x = eid_xml__first_element(usp); x != NULL && rc == EID_OK; x = eid_xml__next_element(x)) {
		char *alg = NULL, *text = NULL;
		eid_buf token = EID_BUF_INIT, input = EID_BUF_INIT;
		eid_c14n mode = EID_C14N_10;
		eid_tst_result r;
		int comments = 0;

		if (eid_xml__is(x, EID_NS_XADES, "ArchiveTimeStamp")) {
			eid_sig__warn(c->s, "an ArchiveTimeStamp of XAdES 1.3.2 is not checked (1.4.1's is)");
			continue;
		}
		if (!eid_xml__is(x, EID_NS_XADES141, "ArchiveTimeStamp"))
			continue;
		if (++n > ARCHIVE_MAX) {
			eid_sig__warn(c->s, "more than %d archive timestamps: the later ones are not checked", ARCHIVE_MAX);
			break;
		}
		alg = attr_of(eid_xml__child(x, EID_NS_DS, "CanonicalizationMethod"), "Algorithm");
		text = eid_xml__text_of(eid_xml__child(x, EID_NS_XADES, "EncapsulatedTimeStamp"));
		if ((alg != NULL && eid_xml__c14n_from_uri(alg, &mode, &comments) < 0) || text == NULL ||
		    eid_xml__b64_decode(text, &token) < 0 || token.len == 0) {
			eid_error_clear();
			eid_sig__warn(c->s, "archive timestamp %zu is malformed", n);
		} else if ((rc = eid_xades__archive_input(c->doc, c->sig, x, mode, comments, c->data_src, NULL, &input)) < 0) {
			if (rc != EID_ENOMEM) {
				eid_sig__warn(c->s, "archive timestamp %zu cannot be checked: %s", n, eid_error_last()->message);
				eid_error_clear();
				rc = EID_OK;
			}
		} else if ((rc = eid_verify__timestamp(token.data, token.len, input.data, input.len, c->o, &r)) == EID_OK) {
			if (!r.ok)
				eid_sig__warn(c->s, "archive timestamp %zu%s%s does not hold: %s", n, r.tsa[0] ? " by " : "", r.tsa,
					      r.why);
			else if (!best->ok || r.gen_time < best->gen_time)
				*best = r;
		}
		xmlFree(alg);
		xmlFree(text);
		eid_buf_clear(&token);
		eid_buf_clear(&input);
	}
	return rc;
}

/* ---- one signature ---- */

static int verify_signature(eid_report *r, xmlDocPtr doc, const source *src, long index, xmlNodePtr sig,
			    const eid_xml_resolver *res, const eid_xades_source *data_src, const eid_verify_opts *o,
			    time_t when)
{
	xmlNodePtr si = eid_xml__first_element(sig), sv = eid_xml__next_element(si), x, cm, sm, qp = NULL, ssp = NULL, scert = NULL;
	char *cm_alg = NULL, *sm_alg = NULL, *sv_text = NULL, *sig_id = attr_of(sig, "Id"), *when_text = NULL;
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509 *signer = NULL;
	eid_buf value = EID_BUF_INIT;
	transforms ct;
	eid_sig_scheme scheme;
	eid_hash hash;
	sigctx c;
	eid_tst_result ts, archive;
	eid_vdata vd = EID_VDATA_INIT;
	eid_evidence ev = { NULL, NULL, NULL };
	size_t i, nrefs = 0, k;
	int rc = EID_OK, v2 = 0, dof_all = 1;

	memset(&c, 0, sizeof(c));
	memset(&ct, 0, sizeof(ct));
	memset(&ts, 0, sizeof(ts));
	memset(&archive, 0, sizeof(archive));
	c.doc = doc;
	c.data_src = data_src;
	c.src = src;
	c.o = o;
	c.index = index;
	c.sig = sig;
	c.res = res;
	if (certs == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	if ((rc = eid_report__add(r, &c.s)) < 0)
		goto out;
	eid_sig__set(&c.s->format, "XAdES");

	/* structure */
	if (!eid_xml__is(si, EID_NS_DS, "SignedInfo") || count_children(sig, EID_NS_DS, "SignedInfo") != 1 ||
	    !eid_xml__is(sv, EID_NS_DS, "SignatureValue") || count_children(sig, EID_NS_DS, "SignatureValue") != 1) {
		fail(&c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE,
		     "a ds:Signature must hold one SignedInfo, then one SignatureValue");
		goto out;
	}
	cm = eid_xml__first_element(si);
	sm = eid_xml__next_element(cm);
	cm_alg = attr_of(cm, "Algorithm");
	sm_alg = attr_of(sm, "Algorithm");
	ct.mode = EID_C14N_10;
	if (!eid_xml__is(cm, EID_NS_DS, "CanonicalizationMethod") || !eid_xml__is(sm, EID_NS_DS, "SignatureMethod") ||
	    eid_xml__c14n_from_uri(cm_alg, &ct.mode, &ct.comments) < 0 ||
	    eid_xades__sig_from_uri(sm_alg, &scheme, &hash) < 0) {
		fail(&c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "SignedInfo: %s",
		     eid_error_last()->code ? eid_error_last()->message : "a malformed method");
		eid_error_clear();
		goto out;
	}
	if (ct.mode == EID_C14N_EXC)
		read_prefixes(cm, &ct);
	eid_sig__set(&c.s->hash, eid_hash_name(hash));
	eid_sig__set(&c.s->algorithm, scheme == EID_SIG_RSA_PSS ? "RSA-PSS" : scheme == EID_SIG_ECDSA ? "ECDSA" : "RSA");
	sv_text = eid_xml__text_of(sv);
	if (sv_text == NULL || eid_xml__b64_decode(sv_text, &value) < 0 || value.len == 0) {
		fail(&c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "the SignatureValue is not base64");
		eid_error_clear();
		goto out;
	}

	/* references */
	for (x = eid_xml__next_element(sm); x != NULL && rc == EID_OK; x = eid_xml__next_element(x)) {
		if (!eid_xml__is(x, EID_NS_DS, "Reference")) {
			fail(&c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "SignedInfo holds a %.60s", (const char *)x->name);
			break;
		}
		if (++nrefs > REFS_MAX) {
			fail(&c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "more than %d references", REFS_MAX);
			break;
		}
		rc = check_reference(&c, x, nrefs - 1);
	}
	if (rc < 0)
		goto out;
	if (nrefs == 0)
		fail(&c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "SignedInfo has no reference");

	/* the qualifying properties: this signature's own, signed once */
	for (x = eid_xml__first_element(sig); x != NULL; x = eid_xml__next_element(x)) {
		xmlNodePtr q;

		if (!eid_xml__is(x, EID_NS_DS, "Object"))
			continue;
		for (q = eid_xml__first_element(x); q != NULL; q = eid_xml__next_element(q))
			if (eid_xml__is(q, EID_NS_XADES, "QualifyingProperties")) {
				if (qp != NULL)
					fail(&c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "two QualifyingProperties");
				qp = q;
			}
	}
	if (qp != NULL) {
		char *target = attr_of(qp, "Target");

		if (target == NULL || sig_id == NULL || target[0] != '#' || strcmp(target + 1, sig_id) != 0)
			fail(&c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "the QualifyingProperties target another signature");
		xmlFree(target);
		if (count_children(qp, EID_NS_XADES, "SignedProperties") > 1)
			fail(&c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "two SignedProperties");
		if (c.signed_props == NULL)
			fail(&c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "the SignedProperties are not signed (no reference)");
		else if (c.signed_props->parent != qp || !eid_xml__is(c.signed_props, EID_NS_XADES, "SignedProperties"))
			fail(&c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE,
			     "the SignedProperties reference points outside this signature's QualifyingProperties");
		else
			ssp = eid_xml__child(c.signed_props, EID_NS_XADES, "SignedSignatureProperties");
	} else {
		eid_sig__set(&c.s->format, "XML-DSig");
	}
	if (c.failed)
		goto out;

	/* the signed properties */
	if (ssp != NULL) {
		xmlNodePtr sdop = eid_xml__child(c.signed_props, EID_NS_XADES, "SignedDataObjectProperties");

		when_text = eid_xml__text_of(eid_xml__child(ssp, EID_NS_XADES, "SigningTime"));
		c.s->claimed_time = xsd_time(when_text);
		if ((scert = eid_xml__child(ssp, EID_NS_XADES, "SigningCertificateV2")) != NULL)
			v2 = 1;
		else if ((scert = eid_xml__child(ssp, EID_NS_XADES, "SigningCertificate")) != NULL)
			eid_sig__warn(c.s, "SigningCertificate (XAdES 1.3.2) instead of SigningCertificateV2");
		for (k = 0; k < c.nrefs; k++) {
			int found = 0;

			for (x = eid_xml__first_element(sdop); x != NULL && c.ref_ids[k] != NULL; x = eid_xml__next_element(x)) {
				char *oref = attr_of(x, "ObjectReference");
				char *mime = eid_xml__text_of(eid_xml__child(x, EID_NS_XADES, "MimeType"));

				if (eid_xml__is(x, EID_NS_XADES, "DataObjectFormat") && oref && oref[0] == '#' &&
				    strcmp(oref + 1, c.ref_ids[k]) == 0) {
					char *w = NULL;

					found = 1;
					if (mime != NULL && asprintf(&w, "%s (%s)", c.ref_what[k], mime) > 0) {
						free(c.ref_what[k]);
						c.ref_what[k] = w;
					}
				}
				xmlFree(oref);
				xmlFree(mime);
			}
			dof_all &= found;
		}
		read_policy_and_role(&c, ssp);
	}
	for (k = 0; k < c.nrefs; k++)
		eid_strlist__add(&c.s->signed_data, c.ref_what[k]);
	warn_unsigned_objects(&c, qp);

	/* the signer: the certificate SigningCertificate(V2) names, whose key verified the value */
	if ((rc = keyinfo_certs(sig, certs)) < 0) {
		fail(&c, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "%s", eid_error_last()->message);
		eid_error_clear();
		rc = EID_OK;
		goto out;
	}
	for (i = 0; i < (size_t)sk_X509_num(certs) && signer == NULL; i++) {
		X509 *cand = sk_X509_value(certs, (int)i);

		if ((scert == NULL || cert_named(scert, cand)) &&
		    check_value(&c, si, cand, scheme, hash, &value, ct.mode, ct.comments,
				ct.prefixes[0] ? (const char *const *)ct.prefixes : NULL))
			signer = cand;
	}
	if (signer == NULL) {
		for (i = 0; i < (size_t)sk_X509_num(certs) && scert != NULL; i++)
			if (cert_named(scert, sk_X509_value(certs, (int)i))) {
				eid_verify__signer_info(c.s, sk_X509_value(certs, (int)i));
				fail(&c, EID_TOTAL_FAILED, EID_SUB_SIG_CRYPTO_FAILURE,
				     "the signature value does not verify with the signer's public key");
				goto out;
			}
		fail(&c, EID_INDETERMINATE, EID_SUB_NO_SIGNING_CERTIFICATE_FOUND,
		     scert != NULL ? "no certificate in KeyInfo is the one the signed properties name"
				   : "no certificate in KeyInfo verifies the signature value");
		goto out;
	}
	eid_verify__signer_info(c.s, signer);
	if ((rc = signature_timestamps(&c, qp, sv, &ts)) < 0)
		goto out;
	/* B-LT and B-LTA: the data the signature carries, its certificates as candidate intermediates */
	{
		xmlNodePtr usp = eid_xml__child(eid_xml__child(qp, EID_NS_XADES, "UnsignedProperties"), EID_NS_XADES,
						"UnsignedSignatureProperties");
		int j;

		if ((rc = read_vdata(&c, usp, &vd)) < 0 || (rc = archive_timestamps(&c, usp, &archive)) < 0)
			goto out;
		for (j = 0; j < sk_X509_num(vd.certs); j++)
			if (X509_up_ref(sk_X509_value(vd.certs, j)) && !sk_X509_push(certs, sk_X509_value(vd.certs, j))) {
				X509_free(sk_X509_value(vd.certs, j));
				rc = eid_error__set(EID_ENOMEM, NULL);
				goto out;
			}
	}
	if ((rc = eid_verify__judging_time(c.s, signer, certs, o, when, &ts, &when)) < 0)
		goto out;
	if (scert == NULL)
		fail(&c, EID_INDETERMINATE, EID_SUB_NO_SIGNING_CERTIFICATE_FOUND,
		     "the signing certificate is not bound to the signature (no signed SigningCertificateV2)");
	ev.ts = &ts;
	ev.vd = vd.certs || vd.crls || vd.ocsps ? &vd : NULL;
	ev.archive = archive.ok ? &archive : NULL;
	if ((rc = eid_verify__acceptance(c.s, signer, certs, eid_hash__md(hash), o, when, &ev)) < 0)
		goto out;
	if (c.s->indication != EID_TOTAL_FAILED && v2 && c.s->claimed_time >= 0 && dof_all)
		eid_sig__set(&c.s->level, !ts.ok ? "XAdES-BASELINE-B"
					  : !eid_vdata__has_revocation(&vd) ? "XAdES-BASELINE-T"
					  : archive.ok ? "XAdES-BASELINE-LTA" : "XAdES-BASELINE-LT");
	else if (qp != NULL)
		eid_sig__warn(c.s, "not a XAdES baseline signature (%s)",
			      !v2 ? "no SigningCertificateV2" : c.s->claimed_time < 0 ? "no SigningTime"
									   : "a data object without DataObjectFormat");
out:
	for (k = 0; k < c.nrefs; k++) {
		free(c.ref_ids[k]);
		free(c.ref_what[k]);
	}
	free(c.ref_ids);
	free(c.ref_what);
	transforms_clear(&ct);
	eid_vdata__clear(&vd);
	sk_X509_pop_free(certs, X509_free);
	eid_buf_clear(&value);
	xmlFree(cm_alg);
	xmlFree(sm_alg);
	xmlFree(sv_text);
	xmlFree(sig_id);
	xmlFree(when_text);
	return rc;
}

/* Every ds:Signature that is not inside another one (counter-signatures are not validated yet). */
static int walk(eid_report *r, xmlDocPtr doc, const source *src, xmlNodePtr n, const eid_xml_resolver *res,
		const eid_xades_source *data_src, const eid_verify_opts *o, time_t when, size_t *found)
{
	int rc = EID_OK;

	for (; n != NULL && rc == EID_OK; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (eid_xml__is(n, EID_NS_DS, "Signature")) {
			(*found)++;
			rc = verify_signature(r, doc, src, (long)*found - 1, n, res, data_src, o, when);
		} else {
			rc = walk(r, doc, src, n->children, res, data_src, o, when, found);
		}
	}
	return rc;
}

static int verify_doc(eid_report *r, xmlDocPtr doc, const source *src, const char *name, const eid_xml_resolver *res,
		      const eid_xades_source *data_src, const eid_verify_opts *o)
{
	eid_xades_source files = { eid_xades__file_source, (void *)(uintptr_t)o->data_path };
	size_t found = 0;
	int rc;

	rc = walk(r, doc, src, xmlDocGetRootElement(doc), res, data_src ? data_src : &files, o,
		  (time_t)r->validation_time, &found);
	if (rc == EID_OK && found == 0)
		rc = eid_error__set(EID_ENOTFOUND, "'%s' holds no XML signature", name ? name : "the document");
	xmlFreeDoc(doc);
	return rc;
}

/*
 * Can the skeleton stand for the document?  Only when every same-document
 * reference other than "" points inside a signature, which the skeleton holds
 * whole.
 */
static int skeleton_enough(xmlDocPtr doc, xmlNodePtr n)
{
	for (; n != NULL; n = n->next) {
		xmlNodePtr si, ref;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!eid_xml__is(n, EID_NS_DS, "Signature")) {
			if (!skeleton_enough(doc, n->children))
				return 0;
			continue;
		}
		si = eid_xml__child(n, EID_NS_DS, "SignedInfo");
		for (ref = eid_xml__first_element(si); ref != NULL; ref = eid_xml__next_element(ref)) {
			char *uri = attr_of(ref, "URI");
			xmlNodePtr target = NULL, x;
			int inside = uri == NULL || uri[0] != '#';

			if (!inside && eid_xml__find_id(doc, uri + 1, &target) == EID_OK)
				for (x = target; x != NULL && !inside; x = x->parent)
					inside = eid_xml__is(x, EID_NS_DS, "Signature");
			eid_error_clear();
			xmlFree(uri);
			if (!inside)
				return 0;
		}
	}
	return 1;
}

int eid_verify__xades_src(eid_report *r, const unsigned char *data, size_t len, const char *name,
			  const eid_xml_resolver *res, const eid_xades_source *data_src, const eid_verify_opts *o)
{
	xmlDocPtr doc = NULL;
	int rc;

	if ((rc = eid_xml__parse(&doc, data, len, "the signature")) < 0)
		return rc;
	return verify_doc(r, doc, NULL, name, res, data_src, o);
}

int eid_verify__xades(eid_report *r, const unsigned char *data, size_t len, const char *name,
		      const eid_xml_resolver *res, const eid_verify_opts *o)
{
	return eid_verify__xades_src(r, data, len, name, res, NULL, o);
}

/* Does the skeleton hold an archive timestamp?  Its input is the document itself, held as a tree. */
static int has_archive(xmlNodePtr n)
{
	for (; n != NULL; n = n->next)
		if (eid_xml__is(n, EID_NS_XADES141, "ArchiveTimeStamp") ||
		    (n->type == XML_ELEMENT_NODE && has_archive(n->children)))
			return 1;
	return 0;
}

/*
 * A file is read as a stream: first its signatures (the skeleton), then, for
 * each "" reference, the whole document again, canonicalized on the fly.
 * When a reference points at an element outside the signatures, the whole
 * tree is built instead.
 */
int eid_verify__xades_file(eid_report *r, const char *path, const eid_xml_resolver *res, const eid_verify_opts *o)
{
	xmlDocPtr doc = NULL;
	char *dup = NULL;
	source src = { path, NULL };
	int rc;

	if ((rc = eid_xml__parse_signatures(&doc, path, &dup)) < 0)
		return rc;
	if (skeleton_enough(doc, xmlDocGetRootElement(doc)) && !has_archive(xmlDocGetRootElement(doc))) {
		src.dup_id = dup;
		rc = verify_doc(r, doc, &src, path, res, NULL, o);
		xmlFree(dup);
		return rc;
	}
	xmlFree(dup);
	xmlFreeDoc(doc);
	if ((rc = eid_xml__parse_file(&doc, path)) < 0)
		return rc;
	return verify_doc(r, doc, NULL, path, res, NULL, o);
}
