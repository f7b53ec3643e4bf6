/* Internal interface of the CMS layer. */
#ifndef EID_INTERNAL_CMS_H
#define EID_INTERNAL_CMS_H

#include <openssl/cms.h>

#include "eid/cades.h"
#include "../token/token.h"

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

#endif
