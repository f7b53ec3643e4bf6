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

/* ---- long-term levels (ltv.c) ---- */

struct eid_extend_opts;

#define EID_XADES_ATS_MAX_INPUT (256u << 20) /* bytes of an archive timestamp's input held in memory */

/* Where the bytes of a detached reference come from: the caller's files, or a container's entries. */
typedef struct eid_xades_source {
	/*
	 * Feed the content named @name (percent-decoded, relative, checked) into
	 * @md, or when @md is NULL append it to @out (at most
	 * EID_XADES_ATS_MAX_INPUT bytes in all: EID_ETOOBIG).  EID_ENOTFOUND
	 * when it is not supplied.
	 */
	int (*read)(void *ctx, const char *name, EVP_MD_CTX *md, eid_buf *out);
	void *ctx;
} eid_xades_source;

/* A source over files: @ctx is a folder, or one file matched by its base name (as eid-verify --data). */
int eid_xades__file_source(void *ctx, const char *name, EVP_MD_CTX *md, eid_buf *out);

/*
 * The input of an archive timestamp of @sig (EN 319 132-1, 5.5.2.2): each
 * ds:Reference processed in order (a node-set canonicalized with @mode), the
 * canonical ds:SignedInfo, ds:SignatureValue and ds:KeyInfo, each child of
 * UnsignedSignatureProperties before @ats (NULL: all of them), then the
 * ds:Object elements but the one with the QualifyingProperties, into @md
 * (updated, not finalized) or, when @md is NULL, appended to @out.  A
 * reference that cannot be processed is EID_EFORMAT or EID_ENOTFOUND.
 */
int eid_xades__archive_input(xmlDocPtr doc, xmlNodePtr sig, xmlNodePtr ats, eid_c14n mode, int comments,
			     const eid_xades_source *src, EVP_MD_CTX *md, eid_buf *out);

/*
 * Raise every outermost XAdES signature of the document @p (@len bytes; @what
 * names it) to @o->level; the new document into @out: the input's bytes with
 * the new unsigned properties written in (a document in another encoding
 * than UTF-8 is written out anew in UTF-8).
 */
int eid_xades__extend_mem(const unsigned char *p, size_t len, const char *what, const eid_xades_source *src,
			  const struct eid_extend_opts *o, eid_buf *out);

#endif
