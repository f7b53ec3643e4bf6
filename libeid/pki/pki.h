/* Internal interface of the pki layer. */
#ifndef EID_INTERNAL_PKI_H
#define EID_INTERNAL_PKI_H

#include <time.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "eid/online.h"
#include "eid/pki.h"
#include "eid/verify.h"
#include "../common/common.h"
#include "../token/token.h"

DEFINE_STACK_OF(OCSP_RESPONSE)

/* Outcome of certificate path validation. */
typedef struct eid_chain_result {
	eid_indication indication;      /* EID_TOTAL_PASSED when the chain is good */
	eid_subindication sub;
	char message[512];
	STACK_OF(X509) *chain;          /* the path found, leaf first (may be partial); owned */
} eid_chain_result;

/* Validate @leaf at @when against @trust, with @untrusted as candidate intermediates. */
int eid_pki__validate_chain(const eid_trust *trust, X509 *leaf, STACK_OF(X509) *untrusted, time_t when,
			    eid_chain_result *res);
void eid_pki__chain_result_clear(eid_chain_result *res);

/* The anchors of a trust set (borrowed), and a copy of its intermediates (each referenced: sk_X509_pop_free), or NULL. */
X509_STORE *eid_pki__store(const eid_trust *trust);
STACK_OF(X509) *eid_pki__intermediates(const eid_trust *trust);

/* What an OCSP responder said about a certificate. */
typedef struct eid_ocsp_result {
	int status;            /* V_OCSP_CERTSTATUS_GOOD, _REVOKED or _UNKNOWN */
	int reason;            /* the CRL reason of a revocation, or -1 */
	int64_t revoked_at;    /* or -1 */
	int64_t this_update;
	char responder[256];
	char url[256];
} eid_ocsp_result;
/*
 * Ask @cert's OCSP responder (from its AIA); every check of the answer
 * failing is EID_ENETWORK naming the server.  With @store, the responder's
 * path is validated to its anchors now; without, only that @issuer
 * authorised it.  @keep (or NULL) receives the whole answer.
 */
int eid_online__ocsp(const eid_online *o, X509 *cert, X509 *issuer, X509_STORE *store, STACK_OF(X509) *untrusted,
		     eid_ocsp_result *res, OCSP_RESPONSE **keep);

/*
 * The same from @cert's CRL (its first http:// distribution point), checked
 * as the issuer's, signed by it and current; kept in @o until its nextUpdate.
 */
int eid_online__crl(eid_online *o, X509 *cert, X509 *issuer, eid_ocsp_result *res, X509_CRL **keep);

/* The certificate that issued @cert, fetched from its AIA caIssuers URL (DER or PEM; it must be the issuer). */
int eid_online__fetch_issuer(const eid_online *o, X509 *cert, X509 **out, char *url_out, size_t url_size);

/* One HTTP exchange (a GET when @body is NULL); the answer, bounded, into @out.  @what names the purpose. */
int eid_online__http(const eid_online *o, const char *what, const char *url, const char *content_type,
		     const unsigned char *body, size_t len, const char *expect_type, eid_buf *out);

/* ---- validation data (vdata.c) ---- */

/* Whether the signer of @bs (found in it or in @pool) is @issuer, or a responder @issuer authorised (ocspSigning). */
int eid_pki__ocsp_authorised(OCSP_BASICRESP *bs, STACK_OF(X509) *pool, X509 *issuer);
/* @cert's entry in @bs into @res (status, reason, times, the responder's name); EID_ENOTFOUND if it has none. */
int eid_pki__ocsp_read(OCSP_BASICRESP *bs, X509 *cert, X509 *issuer, STACK_OF(X509) *pool, eid_ocsp_result *res);
/* @cert's status in @crl (already checked as @issuer's) into @res. */
void eid_pki__crl_read(X509_CRL *crl, X509 *cert, X509 *issuer, eid_ocsp_result *res);
/* Whether @cert says its status need not be checked (id-pkix-ocsp-nocheck), or names no source for it. */
int eid_pki__no_check(X509 *cert);
int eid_pki__names_revocation(X509 *cert);

/*
 * Validation data: the certificates, CRLs and OCSP responses a long-term
 * signature carries (XAdES CertificateValues/RevocationValues, a PDF's DSS,
 * CMS certificates and crls), or that signing gathers for one.  Every
 * element holds its own reference.
 */
typedef struct eid_vdata {
	STACK_OF(X509) *certs;
	STACK_OF(X509_CRL) *crls;
	STACK_OF(OCSP_RESPONSE) *ocsps;
} eid_vdata;

#define EID_VDATA_INIT { NULL, NULL, NULL }

void eid_vdata__clear(eid_vdata *v);
/* Add one element (a reference is taken; an element already present is not added twice). */
int eid_vdata__add_cert(eid_vdata *v, X509 *cert);
int eid_vdata__add_crl(eid_vdata *v, X509_CRL *crl);
int eid_vdata__add_ocsp(eid_vdata *v, OCSP_RESPONSE *resp);
/* The same from DER, as found in a signature; EID_EFORMAT when it does not parse. */
enum { EID_VDATA_CERT, EID_VDATA_CRL, EID_VDATA_OCSP };
int eid_vdata__add_der(eid_vdata *v, int kind, const unsigned char *der, size_t len);
/* Whether @v holds any revocation data. */
int eid_vdata__has_revocation(const eid_vdata *v);

/*
 * Signing at B-LT: the path of @leaf up to a self-signed certificate (from
 * @pool, @v's certificates, then each certificate's AIA caIssuers), and the
 * status of each certificate below the top from its OCSP responder, or else
 * its CRL, with the responders' certificates.  A certificate revoked, or one
 * that names a status source none of which answers, is an error.
 */
int eid_vdata__collect(eid_vdata *v, eid_online *o, X509 *leaf, STACK_OF(X509) *pool);
/* The same for the TSA of a timestamp token (DER): its certificate and path, and their status. */
int eid_vdata__collect_token(eid_vdata *v, eid_online *o, const unsigned char *token, size_t len);

/*
 * Validation: @cert's status from @v: an OCSP response signed by @issuer or a
 * responder it authorised (whose path holds against @trust when it answered),
 * or a CRL signed by @issuer; issued at or after @not_before (the proof of the
 * signature's existence).  The latest such wins.  EID_ENOTFOUND when none
 * holds; @why then says why those present were set aside ("" if none were).
 */
int eid_vdata__status(const eid_vdata *v, X509 *cert, X509 *issuer, const eid_trust *trust, int64_t not_before,
		      eid_ocsp_result *res, char *why, size_t why_size);

#endif
