/*
 * Network access for trusted time and revocation data: OpenSSL's HTTP client
 * with an overall timeout per exchange, the proxy from the environment
 * (http_proxy, no_proxy; OpenSSL reads them), an offline switch, and bounded
 * answers.  Here: RFC 3161 timestamp requests, and the checks on the answer.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>
#include <openssl/rand.h>
#include <openssl/ts.h>

#include "pki.h"

#define ONLINE_MAX_RESPONSE (4u << 20) /* bytes of one answer */

struct eid_online {
	char *tsa_url;
	char *tsa_policy;   /* dotted OID, or NULL */
	int timeout;        /* seconds, per exchange */
	int offline;
	struct crl_entry *crls; /* downloaded CRLs, until their nextUpdate */
};

struct crl_entry;
void eid_online__crl_cache_free(eid_online *o);

EID_EXTERN int eid_online_new(eid_online **out)
{
	if (out == NULL)
		return eid_error__set(EID_EINVAL, "eid_online_new: NULL argument");
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	(*out)->timeout = 20;
	return EID_OK;
}

EID_EXTERN void eid_online_free(eid_online *o)
{
	if (o == NULL)
		return;
	free(o->tsa_url);
	free(o->tsa_policy);
	eid_online__crl_cache_free(o);
	free(o);
}

static int set_str(char **field, const char *v)
{
	char *copy = NULL;

	if (v != NULL && (copy = strdup(v)) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	free(*field);
	*field = copy;
	return EID_OK;
}

EID_EXTERN int eid_online_set_tsa(eid_online *o, const char *url, const char *policy_oid)
{
	ASN1_OBJECT *obj = NULL;
	int rc;

	if (o == NULL || url == NULL)
		return eid_error__set(EID_EINVAL, "eid_online_set_tsa: NULL argument");
	if (strncmp(url, "http://", 7) != 0)
		return eid_error__set(EID_EUNSUPPORTED, "the TSA URL '%.200s' is not http:// (https is not supported yet)",
				      url);
	if (policy_oid != NULL && (obj = OBJ_txt2obj(policy_oid, 1)) == NULL)
		return eid_error__ossl(EID_EINVAL, "'%.100s' is not an OID", policy_oid);
	ASN1_OBJECT_free(obj);
	if ((rc = set_str(&o->tsa_url, url)) == EID_OK)
		rc = set_str(&o->tsa_policy, policy_oid);
	return rc;
}

EID_EXTERN int eid_online_set_timeout(eid_online *o, int seconds)
{
	if (o == NULL || seconds <= 0)
		return eid_error__set(EID_EINVAL, "eid_online_set_timeout: a positive number of seconds");
	o->timeout = seconds;
	return EID_OK;
}

EID_EXTERN int eid_online_set_offline(eid_online *o, int offline)
{
	if (o == NULL)
		return eid_error__set(EID_EINVAL, "eid_online_set_offline: NULL argument");
	o->offline = offline != 0;
	return EID_OK;
}

/* The first and last OpenSSL errors, for a message. */
static void ossl_reason(char *out, size_t size)
{
	unsigned long e = ERR_peek_last_error();

	snprintf(out, size, "%s", e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "error" : "no answer");
	ERR_clear_error();
}

int eid_online__http(const eid_online *o, const char *what, const char *url, const char *content_type,
		     const unsigned char *body, size_t len, const char *expect_type, eid_buf *out)
{
	char *host = NULL, *port = NULL, *path = NULL, why[256];
	BIO *req = NULL, *resp = NULL;
	int ssl = 0, rc = EID_OK;

	out->len = 0;
	if (o->offline)
		return eid_error__set(EID_ENETWORK, "%s: offline mode: '%s' was not asked", what, url);
	if (!OSSL_HTTP_parse_url(url, &ssl, NULL, &host, &port, NULL, &path, NULL, NULL)) {
		ERR_clear_error();
		return eid_error__set(EID_EINVAL, "%s: '%.200s' is not a URL", what, url);
	}
	if (ssl)
		rc = eid_error__set(EID_EUNSUPPORTED, "%s: https ('%.200s') is not supported yet", what, url);
	if (rc == EID_OK && body != NULL && (req = BIO_new_mem_buf(body, (int)len)) == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK) {
		EID_LOG_D("%s: %s %s (%zu bytes, timeout %d s)", what, body ? "POST" : "GET", url, len, o->timeout);
		resp = OSSL_HTTP_transfer(NULL, host, port, path, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL,
					  body ? content_type : NULL, req, expect_type, 1, ONLINE_MAX_RESPONSE,
					  o->timeout, 0);
		if (resp == NULL) {
			ossl_reason(why, sizeof(why));
			rc = eid_error__set(EID_ENETWORK, "%s: %s failed: %s", what, url, why);
		}
	}
	while (rc == EID_OK) {
		unsigned char chunk[4096];
		int n = BIO_read(resp, chunk, sizeof(chunk));

		if (n <= 0)
			break;
		if (out->len + (size_t)n > ONLINE_MAX_RESPONSE)
			rc = eid_error__set(EID_ENETWORK, "%s: %s answered more than %u MiB", what, url,
					    ONLINE_MAX_RESPONSE >> 20);
		else
			rc = eid_buf__append(out, chunk, (size_t)n);
	}
	BIO_free(req);
	BIO_free(resp);
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	return rc;
}

/* ---- RFC 3161 ---- */

static int ts_request(const eid_online *o, const EVP_MD *md, const unsigned char *digest, size_t len,
		      ASN1_INTEGER **nonce_out, eid_buf *der)
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	ASN1_OBJECT *policy = NULL;
	BIGNUM *bn = BN_new();
	unsigned char *p = NULL;
	int n, rc = EID_OK;

	if (req == NULL || imprint == NULL || alg == NULL || bn == NULL ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL, NULL) ||
	    !TS_MSG_IMPRINT_set_algo(imprint, alg) || !TS_MSG_IMPRINT_set_msg(imprint, (unsigned char *)digest, (int)len) ||
	    !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, imprint) || !TS_REQ_set_cert_req(req, 1) ||
	    !BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) || (nonce = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !TS_REQ_set_nonce(req, nonce))
		rc = eid_error__ossl(EID_ENOMEM, "cannot build the timestamp request");
	if (rc == EID_OK && o->tsa_policy != NULL &&
	    ((policy = OBJ_txt2obj(o->tsa_policy, 1)) == NULL || !TS_REQ_set_policy_id(req, policy)))
		rc = eid_error__ossl(EID_EINVAL, "the TSA policy '%s'", o->tsa_policy);
	if (rc == EID_OK && (n = i2d_TS_REQ(req, &p)) <= 0)
		rc = eid_error__ossl(EID_ENOMEM, "cannot encode the timestamp request");
	if (rc == EID_OK)
		rc = eid_buf_set(der, p, (size_t)n);
	if (rc == EID_OK) {
		*nonce_out = nonce;
		nonce = NULL;
	}
	OPENSSL_free(p);
	ASN1_INTEGER_free(nonce);
	ASN1_OBJECT_free(policy);
	BN_free(bn);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(imprint);
	TS_REQ_free(req);
	return rc;
}

/*
 * The answer must grant a token over our digest, with our nonce, signed (the
 * signature checked with the TSA certificate it carries, which must be for
 * time-stamping); the TSA's chain is judged when the signature is validated.
 */
static int ts_check(const eid_online *o, TS_RESP *resp, const EVP_MD *md, const unsigned char *digest, size_t len,
		    const ASN1_INTEGER *nonce, eid_buf *token)
{
	TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
	PKCS7 *p7 = TS_RESP_get_token(resp);
	TS_TST_INFO *tst = TS_RESP_get_tst_info(resp);
	long status = si ? ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si)) : -1;
	TS_MSG_IMPRINT *mi;
	const ASN1_OCTET_STRING *got;
	const ASN1_INTEGER *gn;
	X509_ALGOR *alg;
	STACK_OF(X509) *signers = NULL;
	unsigned char *p = NULL;
	int n, rc = EID_OK;

	if (status != 0 && status != 1)
		return eid_error__set(EID_ENETWORK, "the TSA at %s refused the request (PKIStatus %ld)", o->tsa_url, status);
	if (p7 == NULL || tst == NULL)
		return eid_error__set(EID_ENETWORK, "the TSA at %s granted no token", o->tsa_url);
	mi = TS_TST_INFO_get_msg_imprint(tst);
	alg = TS_MSG_IMPRINT_get_algo(mi);
	got = TS_MSG_IMPRINT_get_msg(mi);
	if (OBJ_obj2nid(alg->algorithm) != EVP_MD_get_type(md) || got == NULL || (size_t)ASN1_STRING_length(got) != len ||
	    memcmp(ASN1_STRING_get0_data(got), digest, len) != 0)
		return eid_error__set(EID_ENETWORK, "the TSA at %s stamped another digest than the one asked", o->tsa_url);
	gn = TS_TST_INFO_get_nonce(tst);
	if (gn == NULL || ASN1_INTEGER_cmp(gn, nonce) != 0)
		return eid_error__set(EID_ENETWORK, "the TSA at %s answered with another nonce (a replayed or foreign "
						    "answer)", o->tsa_url);
	if (o->tsa_policy != NULL) {
		char got_policy[80] = "";

		OBJ_obj2txt(got_policy, sizeof(got_policy), TS_TST_INFO_get_policy_id(tst), 1);
		if (strcmp(got_policy, o->tsa_policy) != 0)
			return eid_error__set(EID_ENETWORK, "the TSA at %s used policy %s, not %s", o->tsa_url, got_policy,
					      o->tsa_policy);
	}
	if (PKCS7_verify(p7, NULL, NULL, NULL, NULL, PKCS7_NOVERIFY | PKCS7_NOCHAIN) != 1 ||
	    (signers = PKCS7_get0_signers(p7, NULL, 0)) == NULL || sk_X509_num(signers) != 1) {
		char why[256];

		ossl_reason(why, sizeof(why));
		rc = eid_error__set(EID_ENETWORK, "the token from the TSA at %s does not verify with the certificate in "
						  "it: %s", o->tsa_url, why);
	} else if (X509_check_purpose(sk_X509_value(signers, 0), X509_PURPOSE_TIMESTAMP_SIGN, 0) != 1) {
		rc = eid_error__set(EID_ENETWORK, "the token from the TSA at %s is signed by a certificate that is not "
						  "for time-stamping", o->tsa_url);
	} else {
		/* the TSA's certificate must be valid at the time it stamped */
		time_t gen = (time_t)eid_cert__epoch(TS_TST_INFO_get_time(tst));
		X509 *tsa = sk_X509_value(signers, 0);

		if (gen < 0 ||
		    X509_cmp_time(X509_get0_notBefore(tsa), &gen) > 0 || X509_cmp_time(X509_get0_notAfter(tsa), &gen) < 0)
			rc = eid_error__set(EID_ENETWORK, "the token from the TSA at %s is signed by a certificate that was "
							  "not valid at the token's time (expired?)", o->tsa_url);
	}
	sk_X509_free(signers);
	ERR_clear_error();
	if (rc == EID_OK && (n = i2d_PKCS7(p7, &p)) <= 0)
		rc = eid_error__ossl(EID_ENOMEM, "cannot encode the token");
	if (rc == EID_OK)
		rc = eid_buf_set(token, p, (size_t)n);
	OPENSSL_free(p);
	return rc;
}

EID_EXTERN int eid_online_timestamp(eid_online *o, eid_hash hash, const unsigned char *digest, size_t len,
				    eid_buf *token)
{
	const EVP_MD *md = eid_hash__md(hash);
	eid_buf req = EID_BUF_INIT, ans = EID_BUF_INIT;
	ASN1_INTEGER *nonce = NULL;
	TS_RESP *resp = NULL;
	const unsigned char *p;
	int rc;

	if (o == NULL || digest == NULL || token == NULL || md == NULL || len != (size_t)EVP_MD_get_size(md))
		return eid_error__set(EID_EINVAL, "eid_online_timestamp: a digest of the hash's size is needed");
	if (o->tsa_url == NULL)
		return eid_error__set(EID_EINVAL, "no TSA was given (a timestamp needs one)");
	rc = ts_request(o, md, digest, len, &nonce, &req);
	if (rc == EID_OK)
		rc = eid_online__http(o, "timestamp", o->tsa_url, "application/timestamp-query", req.data, req.len,
				      "application/timestamp-reply", &ans);
	if (rc == EID_OK) {
		p = ans.data;
		if ((resp = d2i_TS_RESP(NULL, &p, (long)ans.len)) == NULL || p != ans.data + ans.len) {
			ERR_clear_error();
			rc = eid_error__set(EID_ENETWORK, "the TSA at %s answered something that is not a timestamp "
							  "response", o->tsa_url);
		}
	}
	if (rc == EID_OK)
		rc = ts_check(o, resp, md, digest, len, nonce, token);
	TS_RESP_free(resp);
	ASN1_INTEGER_free(nonce);
	eid_buf_clear(&req);
	eid_buf_clear(&ans);
	return rc;
}

/* ---- OCSP (RFC 6960) ---- */

/*
 * Ask the responder named in @cert's AIA about @cert (issued by @issuer).
 * The answer must be successful, signed by the issuer or by a responder it
 * delegated (OCSPSigning) chaining to @store, with our nonce, about this
 * certificate, and current (thisUpdate not in the future, nextUpdate not
 * past, 5 minutes of leeway).
 */
int eid_online__ocsp(const eid_online *o, X509 *cert, X509 *issuer, X509_STORE *store, STACK_OF(X509) *untrusted,
		     eid_ocsp_result *res, OCSP_RESPONSE **keep)
{
	STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert);
	const char *url = urls != NULL && sk_OPENSSL_STRING_num(urls) > 0 ? sk_OPENSSL_STRING_value(urls, 0) : NULL;
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, cert, issuer);
	OCSP_CERTID *id_copy = id ? OCSP_CERTID_dup(id) : NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	eid_buf der = EID_BUF_INIT, ans = EID_BUF_INIT;
	unsigned char *p = NULL;
	const unsigned char *q;
	int n, status, reason = -1, rc = EID_OK;

	memset(res, 0, sizeof(*res));
	res->revoked_at = res->this_update = -1;
	if (keep != NULL)
		*keep = NULL;
	if (url == NULL) {
		rc = eid_error__set(EID_ENOTFOUND, "the certificate names no OCSP responder");
		goto out;
	}
	snprintf(res->url, sizeof(res->url), "%s", url);
	if (req == NULL || id == NULL || id_copy == NULL || OCSP_request_add0_id(req, id) == NULL) {
		rc = eid_error__ossl(EID_ENOMEM, "cannot build the OCSP request");
		goto out;
	}
	id = NULL; /* the request owns it */
	if (!OCSP_request_add1_nonce(req, NULL, -1) || (n = i2d_OCSP_REQUEST(req, &p)) <= 0 ||
	    (rc = eid_buf_set(&der, p, (size_t)n)) < 0) {
		rc = rc < 0 ? rc : eid_error__ossl(EID_ENOMEM, "cannot encode the OCSP request");
		goto out;
	}
	if ((rc = eid_online__http(o, "OCSP", url, "application/ocsp-request", der.data, der.len,
				   "application/ocsp-response", &ans)) < 0)
		goto out;
	q = ans.data;
	if ((resp = d2i_OCSP_RESPONSE(NULL, &q, (long)ans.len)) == NULL || q != ans.data + ans.len) {
		rc = eid_error__set(EID_ENETWORK, "the OCSP responder at %s answered something that is not an OCSP "
						  "response", url);
		goto out;
	}
	if ((status = OCSP_response_status(resp)) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		rc = eid_error__set(EID_ENETWORK, "the OCSP responder at %s answered %s", url,
				    OCSP_response_status_str(status));
		goto out;
	}
	if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
		rc = eid_error__set(EID_ENETWORK, "the OCSP responder at %s sent no basic response", url);
		goto out;
	}
	if (OCSP_check_nonce(req, bs) != 1) {
		rc = eid_error__set(EID_ENETWORK, "the OCSP responder at %s answered without our nonce (a replayed or "
						  "foreign answer)", url);
		goto out;
	}
	/* with anchors, OpenSSL checks the responder's path and authorisation; without, the authorisation only */
	if (OCSP_basic_verify(bs, untrusted, store, store ? 0 : OCSP_NOVERIFY) != 1 ||
	    (store == NULL && !eid_pki__ocsp_authorised(bs, untrusted, issuer))) {
		char why[256];

		ossl_reason(why, sizeof(why));
		rc = eid_error__set(EID_ENETWORK, "the OCSP answer from %s is not signed by a responder the issuer "
						  "authorised: %s", url, why);
		goto out;
	}
	if (eid_pki__ocsp_read(bs, cert, issuer, untrusted, res) < 0) {
		eid_error_clear();
		rc = eid_error__set(EID_ENETWORK, "the OCSP responder at %s answered about another certificate", url);
		goto out;
	}
	if (!OCSP_resp_find_status(bs, id_copy, &status, &reason, &rev, &thisupd, &nextupd) ||
	    !OCSP_check_validity(thisupd, nextupd, 300, -1)) {
		rc = eid_error__set(EID_ENETWORK, "the OCSP answer from %s is not current (thisUpdate/nextUpdate)", url);
		goto out;
	}
	if (keep != NULL) {
		*keep = resp;
		resp = NULL;
	}
out:
	ERR_clear_error();
	OPENSSL_free(p);
	eid_buf_clear(&der);
	eid_buf_clear(&ans);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_CERTID_free(id);
	OCSP_CERTID_free(id_copy);
	OCSP_REQUEST_free(req);
	X509_email_free(urls);
	return rc;
}

/* ---- AIA: a missing issuer's certificate ---- */

int eid_online__fetch_issuer(const eid_online *o, X509 *cert, X509 **out, char *url_out, size_t url_size)
{
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
	const char *url = NULL;
	eid_buf ans = EID_BUF_INIT;
	const unsigned char *p;
	int i, rc;

	*out = NULL;
	for (i = 0; aia != NULL && url == NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

		if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers && ad->location->type == GEN_URI)
			url = (const char *)ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier);
	}
	if (url == NULL) {
		AUTHORITY_INFO_ACCESS_free(aia);
		return eid_error__set(EID_ENOTFOUND, "the certificate names no issuer certificate to fetch");
	}
	snprintf(url_out, url_size, "%s", url);
	rc = eid_online__http(o, "issuer certificate", url, NULL, NULL, 0, NULL, &ans);
	AUTHORITY_INFO_ACCESS_free(aia);
	if (rc == EID_OK) {
		p = ans.data;
		if ((*out = d2i_X509(NULL, &p, (long)ans.len)) == NULL) {
			BIO *b = BIO_new_mem_buf(ans.data, (int)ans.len);

			*out = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
			BIO_free(b);
		}
		if (*out == NULL)
			rc = eid_error__set(EID_ENETWORK, "%s answered no certificate", url_out);
		else if (X509_check_issued(*out, cert) != X509_V_OK) {
			X509_free(*out);
			*out = NULL;
			rc = eid_error__set(EID_ENETWORK, "%s answered a certificate that did not issue this one", url_out);
		}
	}
	ERR_clear_error();
	eid_buf_clear(&ans);
	return rc;
}

/* ---- CRLs, cached per handle until their nextUpdate ---- */

struct crl_entry {
	char *url;
	X509_CRL *crl;
	struct crl_entry *next;
};

void eid_online__crl_cache_free(eid_online *o)
{
	struct crl_entry *e = o->crls, *n;

	for (; e != NULL; e = n) {
		n = e->next;
		free(e->url);
		X509_CRL_free(e->crl);
		free(e);
	}
	o->crls = NULL;
}

/* The first http:// URI of the certificate's CRL distribution points, or NULL (static storage of the cert). */
static const char *crl_url(X509 *cert, STACK_OF(DIST_POINT) **dps)
{
	int i, j;

	*dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
	for (i = 0; *dps != NULL && i < sk_DIST_POINT_num(*dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(*dps, i);

		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); j++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j);
			const char *u = g->type == GEN_URI ? (const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier) : NULL;

			if (u != NULL && strncmp(u, "http://", 7) == 0)
				return u;
		}
	}
	return NULL;
}

int eid_online__crl(eid_online *o, X509 *cert, X509 *issuer, eid_ocsp_result *res, X509_CRL **keep)
{
	STACK_OF(DIST_POINT) *dps = NULL;
	const char *url = crl_url(cert, &dps);
	struct crl_entry *e;
	X509_CRL *crl = NULL;
	eid_buf ans = EID_BUF_INIT;
	const unsigned char *p;
	time_t now = time(NULL);
	int rc = EID_OK;

	memset(res, 0, sizeof(*res));
	res->revoked_at = res->this_update = -1;
	res->reason = -1;
	if (keep != NULL)
		*keep = NULL;
	if (url == NULL) {
		CRL_DIST_POINTS_free(dps);
		return eid_error__set(EID_ENOTFOUND, "the certificate names no CRL");
	}
	snprintf(res->url, sizeof(res->url), "%s", url);
	CRL_DIST_POINTS_free(dps);
	for (e = o->crls; e != NULL; e = e->next)
		if (strcmp(e->url, res->url) == 0 && X509_CRL_get0_nextUpdate(e->crl) != NULL &&
		    X509_cmp_time(X509_CRL_get0_nextUpdate(e->crl), &now) > 0)
			break;
	if (e != NULL) {
		crl = e->crl;
	} else {
		if ((rc = eid_online__http(o, "CRL", res->url, NULL, NULL, 0, NULL, &ans)) < 0)
			goto out;
		p = ans.data;
		if ((crl = d2i_X509_CRL(NULL, &p, (long)ans.len)) == NULL) {
			rc = eid_error__set(EID_ENETWORK, "%s answered something that is not a CRL", res->url);
			goto out;
		}
		if ((e = calloc(1, sizeof(*e))) == NULL || (e->url = strdup(res->url)) == NULL) {
			free(e);
			X509_CRL_free(crl);
			crl = NULL;
			rc = eid_error__set(EID_ENOMEM, NULL);
			goto out;
		}
		e->crl = crl;
		e->next = o->crls;
		o->crls = e;
	}
	/* the issuer's, signed by it, current */
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0 ||
	    X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
		rc = eid_error__set(EID_ENETWORK, "the CRL from %s is not signed by the certificate's issuer", res->url);
		goto out;
	}
	if (X509_cmp_time(X509_CRL_get0_lastUpdate(crl), &now) > 0 || X509_CRL_get0_nextUpdate(crl) == NULL ||
	    X509_cmp_time(X509_CRL_get0_nextUpdate(crl), &now) < 0) {
		rc = eid_error__set(EID_ENETWORK, "the CRL from %s is not current", res->url);
		goto out;
	}
	eid_pki__crl_read(crl, cert, issuer, res);
	if (keep != NULL && X509_CRL_up_ref(crl))
		*keep = crl;
out:
	ERR_clear_error();
	eid_buf_clear(&ans);
	return rc;
}
