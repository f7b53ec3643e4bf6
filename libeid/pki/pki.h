/* Internal interface of the pki layer. */
#ifndef EID_INTERNAL_PKI_H
#define EID_INTERNAL_PKI_H

#include <time.h>
#include <openssl/x509.h>

#include "eid/online.h"
#include "eid/pki.h"
#include "eid/verify.h"
#include "../common/common.h"
#include "../token/token.h"

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
/* Ask @cert's OCSP responder (from its AIA); every check of the answer failing is EID_ENETWORK naming the server. */
int eid_online__ocsp(const eid_online *o, X509 *cert, X509 *issuer, X509_STORE *store, STACK_OF(X509) *untrusted,
		     eid_ocsp_result *res);

/*
 * The same from @cert's CRL (its first http:// distribution point), checked
 * as the issuer's, signed by it and current; kept in @o until its nextUpdate.
 */
int eid_online__crl(eid_online *o, X509 *cert, X509 *issuer, eid_ocsp_result *res);

/* The certificate that issued @cert, fetched from its AIA caIssuers URL (DER or PEM; it must be the issuer). */
int eid_online__fetch_issuer(const eid_online *o, X509 *cert, X509 **out, char *url_out, size_t url_size);

/* One HTTP exchange (a GET when @body is NULL); the answer, bounded, into @out.  @what names the purpose. */
int eid_online__http(const eid_online *o, const char *what, const char *url, const char *content_type,
		     const unsigned char *body, size_t len, const char *expect_type, eid_buf *out);

#endif
