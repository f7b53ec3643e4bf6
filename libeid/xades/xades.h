/* Internal interface of the XAdES layer: algorithm names and detached signing over digests. */
#ifndef EID_INTERNAL_XADES_H
#define EID_INTERNAL_XADES_H

#include <openssl/evp.h>

#include "eid/xades.h"
#include "../token/token.h"
#include "../xml/xml.h"

#define EID_XADES_SIGNED_PROPS_TYPE "http://uri.etsi.org/01903#SignedProperties"
#define EID_DS_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define EID_DS_BASE64 "http://www.w3.org/2000/09/xmldsig#base64"

/* DigestMethod URIs. */
const char *eid_xades__digest_uri(eid_hash hash);
int eid_xades__digest_from_uri(const char *uri, eid_hash *hash);
/* SignatureMethod URIs (RSA PKCS#1 v1.5, RSA-PSS per RFC 6931 with MGF1 and salt = hash length, ECDSA). */
const char *eid_xades__sig_uri(eid_sig_scheme scheme, eid_hash hash);
int eid_xades__sig_from_uri(const char *uri, eid_sig_scheme *scheme, eid_hash *hash);
/* A media type for a file name, from its extension; application/octet-stream when unknown. */
const char *eid_xades__mime_guess(const char *name);

/* A data object already digested (with the options' hash): what ASiC signs. */
typedef struct eid_xades_ref {
	const char *uri;       /* the Reference URI, already percent-encoded */
	const unsigned char *digest;
	size_t digest_len;
	const char *mime_type; /* NULL: guessed from the URI */
} eid_xades_ref;

#define EID_NS_ASIC "http://uri.etsi.org/02918/v1.2.1#"

/* Detached over digests; with @asic_root the document's root is asic:XAdESSignatures (EN 319 162-1). */
/*
 * The caller's options (NULL: the defaults) into @out, whatever version they
 * were made for (a version 1 structure is shorter), checked.
 */
int eid_xades__opts(const eid_xades_opts *in, eid_xades_opts *out);

int eid_xades__prepare_detached(eid_xades_prep **out, const eid_signer *signer, const eid_xades_ref *refs,
				size_t n, const eid_xades_opts *opts, int asic_root);

#endif
