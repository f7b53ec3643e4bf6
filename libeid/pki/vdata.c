/*
 * Validation data for long-term signatures (B-LT): gathering the path and
 * revocation status of a certificate when signing, and reading a status back
 * from what a signature carries when validating.
 *
 * At validation the data is judged at the time it speaks of, not now: an
 * OCSP responder's certificate is validated at the answer's producedAt, and
 * data older than the signature's proof of existence proves nothing about
 * the certificate's status when the signature was made.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "pki.h"

#define VDATA_MAX_DEPTH 8 /* certificates in one path */

void eid_vdata__clear(eid_vdata *v)
{
	sk_X509_pop_free(v->certs, X509_free);
	sk_X509_CRL_pop_free(v->crls, X509_CRL_free);
	sk_OCSP_RESPONSE_pop_free(v->ocsps, OCSP_RESPONSE_free);
	v->certs = NULL;
	v->crls = NULL;
	v->ocsps = NULL;
}

int eid_vdata__add_cert(eid_vdata *v, X509 *cert)
{
	int i;

	if (v->certs == NULL && (v->certs = sk_X509_new_null()) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; i < sk_X509_num(v->certs); i++)
		if (X509_cmp(sk_X509_value(v->certs, i), cert) == 0)
			return EID_OK;
	if (!X509_up_ref(cert))
		return eid_error__set(EID_EINTERNAL, "cannot reference a certificate");
	if (!sk_X509_push(v->certs, cert)) {
		X509_free(cert);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	return EID_OK;
}

int eid_vdata__add_crl(eid_vdata *v, X509_CRL *crl)
{
	int i;

	if (v->crls == NULL && (v->crls = sk_X509_CRL_new_null()) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; i < sk_X509_CRL_num(v->crls); i++)
		if (X509_CRL_match(sk_X509_CRL_value(v->crls, i), crl) == 0)
			return EID_OK;
	if (!X509_CRL_up_ref(crl))
		return eid_error__set(EID_EINTERNAL, "cannot reference a CRL");
	if (!sk_X509_CRL_push(v->crls, crl)) {
		X509_CRL_free(crl);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	return EID_OK;
}

/* Two OCSP responses are the same when their DER is. */
static int ocsp_same(OCSP_RESPONSE *a, OCSP_RESPONSE *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_OCSP_RESPONSE(a, &da), lb = i2d_OCSP_RESPONSE(b, &db);
	int same = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;

	OPENSSL_free(da);
	OPENSSL_free(db);
	return same;
}

int eid_vdata__add_ocsp(eid_vdata *v, OCSP_RESPONSE *resp)
{
	OCSP_RESPONSE *copy;
	int i;

	if (v->ocsps == NULL && (v->ocsps = sk_OCSP_RESPONSE_new_null()) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; i < sk_OCSP_RESPONSE_num(v->ocsps); i++)
		if (ocsp_same(sk_OCSP_RESPONSE_value(v->ocsps, i), resp))
			return EID_OK;
	/* OCSP_RESPONSE has no reference count */
	if ((copy = ASN1_item_dup(ASN1_ITEM_rptr(OCSP_RESPONSE), resp)) == NULL)
		return eid_error__ossl(EID_ENOMEM, "cannot copy an OCSP response");
	if (!sk_OCSP_RESPONSE_push(v->ocsps, copy)) {
		OCSP_RESPONSE_free(copy);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	return EID_OK;
}

int eid_vdata__add_der(eid_vdata *v, int kind, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	const char *what = kind == EID_VDATA_CERT ? "certificate" : kind == EID_VDATA_CRL ? "CRL" : "OCSP response";
	int rc = EID_OK;

	if (len == 0 || len > (1u << 24))
		return eid_error__set(EID_EFORMAT, "an embedded %s is empty or too large", what);
	if (kind == EID_VDATA_CERT) {
		X509 *c = d2i_X509(NULL, &p, (long)len);

		rc = c == NULL || p != der + len ? EID_EFORMAT : eid_vdata__add_cert(v, c);
		X509_free(c);
	} else if (kind == EID_VDATA_CRL) {
		X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)len);

		rc = c == NULL || p != der + len ? EID_EFORMAT : eid_vdata__add_crl(v, c);
		X509_CRL_free(c);
	} else {
		OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)len);

		rc = r == NULL || p != der + len ? EID_EFORMAT : eid_vdata__add_ocsp(v, r);
		OCSP_RESPONSE_free(r);
	}
	ERR_clear_error();
	if (rc == EID_EFORMAT)
		return eid_error__set(EID_EFORMAT, "an embedded %s does not parse", what);
	return rc;
}

int eid_vdata__has_revocation(const eid_vdata *v)
{
	return sk_X509_CRL_num(v->crls) > 0 || sk_OCSP_RESPONSE_num(v->ocsps) > 0;
}

/* ---- shared checks ---- */

/* The certificate in @pool or @bs that signed @bs, or NULL (borrowed). */
static X509 *ocsp_signer(OCSP_BASICRESP *bs, STACK_OF(X509) *pool)
{
	X509 *signer = NULL;

	if (!OCSP_resp_get0_signer(bs, &signer, pool))
		signer = NULL;
	ERR_clear_error();
	return signer;
}

int eid_pki__ocsp_authorised(OCSP_BASICRESP *bs, STACK_OF(X509) *pool, X509 *issuer)
{
	X509 *signer = ocsp_signer(bs, pool);
	int ok;

	if (signer == NULL)
		return 0;
	if (X509_cmp(signer, issuer) == 0)
		return 1;
	/* a delegated responder: issued by the issuer, for OCSP signing (RFC 6960, 4.2.2.2) */
	ok = X509_check_issued(issuer, signer) == X509_V_OK && X509_verify(signer, X509_get0_pubkey(issuer)) == 1 &&
	     (X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) && (X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN);
	ERR_clear_error();
	return ok;
}

int eid_pki__ocsp_read(OCSP_BASICRESP *bs, X509 *cert, X509 *issuer, STACK_OF(X509) *pool, eid_ocsp_result *res)
{
	static const char *const hashes[] = { "SHA1", "SHA256", "SHA384", "SHA512" };
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	int status = -1, reason = -1, found = 0;
	size_t i;
	X509 *signer;

	for (i = 0; !found && i < sizeof(hashes) / sizeof(hashes[0]); i++) {
		EVP_MD *md = EVP_MD_fetch(NULL, hashes[i], NULL);
		OCSP_CERTID *id = md ? OCSP_cert_to_id(md, cert, issuer) : NULL;

		found = id != NULL && OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd);
		OCSP_CERTID_free(id);
		EVP_MD_free(md);
	}
	ERR_clear_error();
	if (!found)
		return eid_error__set(EID_ENOTFOUND, "the OCSP response is about another certificate");
	res->status = status;
	res->reason = reason;
	res->revoked_at = rev ? eid_cert__epoch(rev) : -1;
	res->this_update = eid_cert__epoch(thisupd);
	if ((signer = ocsp_signer(bs, pool)) != NULL) {
		char *name = eid_cert__name(X509_get_subject_name(signer));

		snprintf(res->responder, sizeof(res->responder), "%s", name ? name : "?");
		free(name);
	}
	return EID_OK;
}

void eid_pki__crl_read(X509_CRL *crl, X509 *cert, X509 *issuer, eid_ocsp_result *res)
{
	X509_REVOKED *rev = NULL;
	char *name = eid_cert__name(X509_get_subject_name(issuer));

	snprintf(res->responder, sizeof(res->responder), "%s", name ? name : "?");
	free(name);
	res->this_update = eid_cert__epoch(X509_CRL_get0_lastUpdate(crl));
	res->revoked_at = -1;
	res->reason = -1;
	if (X509_CRL_get0_by_cert(crl, &rev, cert) == 1 && rev != NULL) {
		ASN1_ENUMERATED *r = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);

		res->status = V_OCSP_CERTSTATUS_REVOKED;
		res->revoked_at = eid_cert__epoch(X509_REVOKED_get0_revocationDate(rev));
		res->reason = r ? (int)ASN1_ENUMERATED_get(r) : -1;
		ASN1_ENUMERATED_free(r);
	} else {
		res->status = V_OCSP_CERTSTATUS_GOOD;
	}
	ERR_clear_error();
}

int eid_pki__no_check(X509 *cert)
{
	return X509_get_ext_by_NID(cert, NID_id_pkix_OCSP_noCheck, -1) >= 0;
}

int eid_pki__names_revocation(X509 *cert)
{
	STACK_OF(OPENSSL_STRING) *ocsp = X509_get1_ocsp(cert);
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
	int named = sk_OPENSSL_STRING_num(ocsp) > 0 || sk_DIST_POINT_num(dps) > 0;

	X509_email_free(ocsp);
	CRL_DIST_POINTS_free(dps);
	ERR_clear_error();
	return named;
}

/* ---- signing: gathering ---- */

static int self_signed(X509 *c)
{
	int r = X509_check_issued(c, c) == X509_V_OK;

	ERR_clear_error();
	return r;
}

static X509 *find_issuer(STACK_OF(X509) *a, STACK_OF(X509) *b, X509 *cert)
{
	STACK_OF(X509) *lists[2] = { a, b };
	int i, k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < sk_X509_num(lists[k]); i++)
			if (X509_check_issued(sk_X509_value(lists[k], i), cert) == X509_V_OK) {
				ERR_clear_error();
				return sk_X509_value(lists[k], i);
			}
	ERR_clear_error();
	return NULL;
}

/* @cert's status into @v: OCSP first, then the CRL; a revocation is an error. */
static int collect_status(eid_vdata *v, eid_online *o, X509 *cert, X509 *issuer, STACK_OF(X509) *pool)
{
	OCSP_RESPONSE *resp = NULL;
	X509_CRL *crl = NULL;
	eid_ocsp_result r;
	char why[400], *name;
	int rc;

	if (eid_pki__no_check(cert) || !eid_pki__names_revocation(cert))
		return EID_OK;
	/* asked already for another path of the same signature (a CA shared by the signer and a TSA) */
	if (v->ocsps != NULL && eid_vdata__status(v, cert, issuer, NULL, 0, &r, why, sizeof(why)) == EID_OK &&
	    strcmp(r.url, "OCSP") == 0 && r.status == V_OCSP_CERTSTATUS_GOOD)
		return EID_OK;
	eid_error_clear();
	rc = eid_online__ocsp(o, cert, issuer, NULL, pool, &r, &resp);
	if (rc == EID_OK) {
		OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
		const STACK_OF(X509) *sent = bs ? OCSP_resp_get0_certs(bs) : NULL;
		int i;

		rc = eid_vdata__add_ocsp(v, resp);
		for (i = 0; rc == EID_OK && i < sk_X509_num(sent); i++)
			rc = eid_vdata__add_cert(v, sk_X509_value(sent, i));
		OCSP_BASICRESP_free(bs);
		OCSP_RESPONSE_free(resp);
	} else if (rc != EID_ENOMEM) {
		snprintf(why, sizeof(why), "%s", eid_error_last()->message);
		eid_error_clear();
		rc = eid_online__crl(o, cert, issuer, &r, &crl);
		if (rc == EID_OK) {
			rc = eid_vdata__add_crl(v, crl);
			X509_CRL_free(crl);
		} else if (rc != EID_ENOMEM) {
			char more[300];

			snprintf(more, sizeof(more), "%s", eid_error_last()->message);
			name = eid_cert__name(X509_get_subject_name(cert));
			rc = eid_error__set(EID_ENETWORK, "the status of '%s' is not available: %s; %s", name ? name : "?", why,
					    more);
			free(name);
		}
	}
	if (rc == EID_OK && r.status != V_OCSP_CERTSTATUS_GOOD) {
		name = eid_cert__name(X509_get_subject_name(cert));
		rc = eid_error__set(EID_ECERT, "'%s' is %s (%s)", name ? name : "?",
				    r.status == V_OCSP_CERTSTATUS_REVOKED ? "revoked" : "unknown to its OCSP responder",
				    r.responder);
		free(name);
	}
	return rc;
}

int eid_vdata__collect(eid_vdata *v, eid_online *o, X509 *leaf, STACK_OF(X509) *pool)
{
	X509 *cur = leaf, *issuer, *fetched = NULL;
	char url[256], *name;
	int depth, rc;

	if ((rc = eid_vdata__add_cert(v, leaf)) < 0)
		return rc;
	for (depth = 0; depth < VDATA_MAX_DEPTH && !self_signed(cur); depth++) {
		if ((issuer = find_issuer(pool, v->certs, cur)) == NULL) {
			rc = eid_online__fetch_issuer(o, cur, &fetched, url, sizeof(url));
			if (rc == EID_ENOMEM)
				return rc;
			if (rc < 0) {
				char why[300];

				snprintf(why, sizeof(why), "%s", eid_error_last()->message);
				name = eid_cert__name(X509_get_issuer_name(cur));
				rc = eid_error__set(EID_ECERT, "the certificate of '%s' is missing: %s", name ? name : "?", why);
				free(name);
				return rc;
			}
			issuer = fetched;
		}
		rc = eid_vdata__add_cert(v, issuer);
		X509_free(fetched); /* @v holds it now */
		fetched = NULL;
		if (rc < 0 || (rc = collect_status(v, o, cur, issuer, v->certs)) < 0)
			return rc;
		cur = issuer;
	}
	if (!self_signed(cur))
		return eid_error__set(EID_ECERT, "the certificate path is longer than %d", VDATA_MAX_DEPTH);
	return EID_OK;
}

int eid_vdata__collect_token(eid_vdata *v, eid_online *o, const unsigned char *token, size_t len)
{
	const unsigned char *p = token;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	STACK_OF(X509) *signers = p7 ? PKCS7_get0_signers(p7, NULL, 0) : NULL;
	STACK_OF(X509) *carried = p7 && PKCS7_type_is_signed(p7) ? p7->d.sign->cert : NULL;
	int rc;

	ERR_clear_error();
	if (sk_X509_num(signers) != 1)
		rc = eid_error__set(EID_ESIGFORMAT, "the timestamp token does not carry its TSA's certificate");
	else
		rc = eid_vdata__collect(v, o, sk_X509_value(signers, 0), carried);
	sk_X509_free(signers);
	PKCS7_free(p7);
	return rc;
}

/* ---- validation: reading a status back ---- */

/* The OCSP responses in @v about @cert that hold, the latest into @best. */
static void status_ocsp(const eid_vdata *v, X509 *cert, X509 *issuer, const eid_trust *trust, STACK_OF(X509) *pool,
			int64_t not_before, eid_ocsp_result *best, char *why, size_t why_size)
{
	int i;

	for (i = 0; i < sk_OCSP_RESPONSE_num(v->ocsps); i++) {
		OCSP_RESPONSE *resp = sk_OCSP_RESPONSE_value(v->ocsps, i);
		OCSP_BASICRESP *bs = NULL;
		eid_ocsp_result r;
		X509 *signer;
		int held;

		memset(&r, 0, sizeof(r));
		if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
		    (bs = OCSP_response_get1_basic(resp)) == NULL || eid_pki__ocsp_read(bs, cert, issuer, pool, &r) < 0) {
			eid_error_clear();
			OCSP_BASICRESP_free(bs);
			continue;
		}
		signer = ocsp_signer(bs, pool);
		held = 0;
		if (OCSP_basic_verify(bs, pool, NULL, OCSP_NOVERIFY) != 1 || !eid_pki__ocsp_authorised(bs, pool, issuer)) {
			snprintf(why, why_size, "an embedded OCSP response is not signed by a responder the issuer authorised");
		} else if (X509_cmp(signer, issuer) != 0 && trust != NULL) {
			/* a delegated responder: its own path, when it answered */
			eid_chain_result ch;
			int64_t at = eid_cert__epoch(OCSP_resp_get0_produced_at(bs));

			if (eid_pki__validate_chain(trust, signer, pool, (time_t)at, &ch) < 0) {
				eid_error_clear();
				snprintf(why, why_size, "an embedded OCSP response's responder cannot be validated");
			} else if (ch.indication != EID_TOTAL_PASSED) {
				snprintf(why, why_size, "the responder of an embedded OCSP response does not hold: %s", ch.message);
			} else {
				held = 1;
			}
			eid_pki__chain_result_clear(&ch);
		} else {
			held = 1;
		}
		ERR_clear_error();
		OCSP_BASICRESP_free(bs);
		if (!held)
			continue; /* set aside, @why says why */
		if (r.this_update < not_before) {
			snprintf(why, why_size, "the embedded OCSP response predates the signature's proof of existence");
			continue;
		}
		if (best->this_update < r.this_update)
			*best = r;
	}
}

static void status_crl(const eid_vdata *v, X509 *cert, X509 *issuer, int64_t not_before, eid_ocsp_result *best,
		       char *why, size_t why_size)
{
	int i;

	for (i = 0; i < sk_X509_CRL_num(v->crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(v->crls, i);
		eid_ocsp_result r;

		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
			continue;
		if (X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
			ERR_clear_error();
			snprintf(why, why_size, "an embedded CRL is not signed by the certificate's issuer");
			continue;
		}
		memset(&r, 0, sizeof(r));
		eid_pki__crl_read(crl, cert, issuer, &r);
		if (r.this_update < not_before) {
			snprintf(why, why_size, "the embedded CRL predates the signature's proof of existence");
			continue;
		}
		snprintf(r.url, sizeof(r.url), "CRL");
		if (best->this_update < r.this_update)
			*best = r;
	}
}

int eid_vdata__status(const eid_vdata *v, X509 *cert, X509 *issuer, const eid_trust *trust, int64_t not_before,
		      eid_ocsp_result *res, char *why, size_t why_size)
{
	STACK_OF(X509) *pool = trust ? eid_pki__intermediates(trust) : NULL;
	eid_ocsp_result ocsp, crl;
	int i;

	why[0] = '\0';
	memset(res, 0, sizeof(*res));
	memset(&ocsp, 0, sizeof(ocsp));
	memset(&crl, 0, sizeof(crl));
	ocsp.this_update = crl.this_update = -1;
	if (pool == NULL && (pool = sk_X509_new_null()) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; i < sk_X509_num(v->certs); i++)
		if (X509_up_ref(sk_X509_value(v->certs, i)) && !sk_X509_push(pool, sk_X509_value(v->certs, i)))
			X509_free(sk_X509_value(v->certs, i));
	status_ocsp(v, cert, issuer, trust, pool, not_before, &ocsp, why, why_size);
	status_crl(v, cert, issuer, not_before, &crl, why, why_size);
	sk_X509_pop_free(pool, X509_free);
	/* OCSP when there is one: it speaks of this certificate alone */
	if (ocsp.this_update >= 0) {
		*res = ocsp;
		snprintf(res->url, sizeof(res->url), "OCSP");
	} else if (crl.this_update >= 0) {
		*res = crl;
	} else {
		return EID_ENOTFOUND;
	}
	return EID_OK;
}
