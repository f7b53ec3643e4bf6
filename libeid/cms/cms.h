/* Internal interface of the CMS layer. */
#ifndef EID_INTERNAL_CMS_H
#define EID_INTERNAL_CMS_H

#include <openssl/cms.h>

#include "eid/cades.h"
#include "../token/token.h"
#include "../pki/pki.h"

/* The DER SET OF of a SignerInfo's signed attributes, as it is signed. */
int eid_cms__signed_attrs_der(CMS_SignerInfo *si, eid_buf *out);
/* Hash a file as a stream into @md (size EVP_MAX_MD_SIZE), @len receives its size. */
int eid_cms__digest_file(const char *path, const EVP_MD *md, unsigned char *out, unsigned int *len);
/* Hash memory. */
int eid_cms__digest(const void *data, size_t len, const EVP_MD *md, unsigned char *out, unsigned int *outlen);
/* Check @sig over @digest with @pub for @scheme; 1 good, 0 bad. */
int eid_cms__check_sig(EVP_PKEY *pub, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest,
		       size_t dlen, const unsigned char *sig, size_t slen);
/* Set a SignerInfo's signatureAlgorithm to RSASSA-PSS with MGF1(@md) and salt = hash length. */
int eid_cms__set_pss(CMS_SignerInfo *si, const EVP_MD *md);

/*
 * An upper bound of the DER size of the CAdES signature @signer would make
 * with @opts: a dry run with a dummy digest and a signature value of the
 * largest size the key can give.
 */
/* The caller's options (NULL: defaults; version 1 structures are shorter) into @out, checked. */
int eid_cms__opts(const eid_cades_opts *in, eid_cades_opts *out);
/* Add a signature-time-stamp (a token over the signature value, from @online's TSA) to @si. */
int eid_cms__add_timestamp(CMS_SignerInfo *si, eid_online *online, eid_hash hash);
int eid_cms__size_estimate(const eid_signer *signer, const eid_cades_opts *opts, size_t *out);

#define EID_CMS_MAX_SIZE (16u * 1024 * 1024)

/* ---- the DER of a SignedData, as the long-term levels read and rewrite it (ltv.c) ---- */

/* One DER element within a buffer: its tag octet (low tag numbers only), header and whole size. */
typedef struct eid_der {
	const unsigned char *p; /* the tag octet; NULL for an optional element that is absent */
	size_t len;             /* header and content */
	size_t hdr;             /* header */
	unsigned int tag;
} eid_der;

/* The element at @p (within @avail bytes); definite lengths only.  EID_EFORMAT, or EID_EUNSUPPORTED for BER. */
int eid_der__read(const unsigned char *p, size_t avail, eid_der *out);
/* The child of constructed @parent after @child (whose p is NULL for the first): 1, 0 after the last, or < 0. */
int eid_der__next(const eid_der *parent, eid_der *child);

#define EID_CMS_MAX_SIGNERS 64

/*
 * Where the parts of a ContentInfo holding a SignedData lie in its DER.
 * Bytes may follow the ContentInfo (ci.len says where it ends).
 */
typedef struct eid_cms_layout {
	eid_der ci, ctype, sd;
	eid_der version, digest_algs, encap, econtent_type;
	eid_der certs, crls;                        /* [0] and [1]; p NULL when absent */
	eid_der signer_infos;
	size_t nsi;
	eid_der si[EID_CMS_MAX_SIGNERS];            /* each SignerInfo */
	size_t si_covered[EID_CMS_MAX_SIGNERS];     /* its fields version to signature: bytes from si.p + si.hdr */
	eid_der si_unsigned[EID_CMS_MAX_SIGNERS];   /* its unsignedAttrs [1], p NULL when absent */
} eid_cms_layout;
int eid_cms__layout(const unsigned char *der, size_t len, eid_cms_layout *out);

/* A PEM CMS/PKCS7 into its DER. */
int eid_cms__from_pem(const unsigned char *pem, size_t len, eid_buf *der);

/* The certificates, CRLs and RFC 5940 OCSP responses of the SignedData's certificates and crls fields into @v. */
int eid_cms__read_vdata(const eid_cms_layout *l, eid_vdata *v);

/* The archive-time-stamp-v3 tokens of SignerInfo @si, in order; EID_ETOOBIG beyond @max. */
int eid_cms__archive_tokens(const eid_cms_layout *l, size_t si, eid_der *tokens, size_t max, size_t *n);
/* The ATSHashIndexV3 in a timestamp token's SignerInfo (its ats-hash-index-v3 attribute); EID_ENOTFOUND. */
int eid_cms__ats_index(const unsigned char *token, size_t len, eid_der *index);
/*
 * Whether each hash @index lists is of a certificate, revocation value or
 * unsigned attribute value of SignerInfo @si still present: 1, or 0 with
 * @why; < 0 on failures of the library.
 */
int eid_cms__ats_index_holds(const eid_cms_layout *l, size_t si, const eid_der *index, char *why, size_t why_size);
/* The bytes an archive-time-stamp-v3 imprint is over (EN 319 122-1, 5.5.3), for @si and @index. */
int eid_cms__ats_input(const eid_cms_layout *l, size_t si, const unsigned char *content_hash, size_t hlen,
		       const eid_der *index, eid_buf *out);

#endif
