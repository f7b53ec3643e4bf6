/* Internal interface of the token layer. */
#ifndef EID_INTERNAL_TOKEN_H
#define EID_INTERNAL_TOKEN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "eid/token.h"
#include "eid/sys/signer.h"
#include "../common/common.h"

struct eid_signer {
	eid_signer_ops ops;
	void *impl;
	X509 *cert;
	eid_buf cert_der;
	STACK_OF(X509) *chain;
	eid_buf *chain_der;     /* one per chain certificate */
	eid_key_type key_type;
	unsigned int key_bits;
	char *name;
};

/* Make a signer around @cert (the reference is taken over, also on failure). */
int eid_signer__new(eid_signer **out, const eid_signer_ops *ops, void *impl, X509 *cert);
/* Add a chain certificate (reference taken over, also on failure). */
int eid_signer__add_chain(eid_signer *s, X509 *cert);
X509 *eid_signer__cert(const eid_signer *s);
STACK_OF(X509) *eid_signer__chain(const eid_signer *s);
/* The scheme to use for @scheme (resolving EID_SIG_DEFAULT), or a negative code. */
int eid_signer__scheme(const eid_signer *s, eid_sig_scheme scheme, eid_sig_scheme *out);

/* Hashes. */
const EVP_MD *eid_hash__md(eid_hash hash);
eid_hash eid_hash__resolve(eid_hash hash);
int eid_hash__from_md(const EVP_MD *md, eid_hash *out);

/* PKCS#1 v1.5 DigestInfo around a digest. */
int eid_token__digestinfo(eid_hash hash, const unsigned char *digest, size_t len, eid_buf *out);
/* ECDSA signature encodings. */
int eid_token__ecdsa_raw_to_der(const unsigned char *raw, size_t len, eid_buf *out);
/* 1 when @p..@len is exactly a DER Ecdsa-Sig-Value (it re-encodes to the same bytes). */
int eid_token__ecdsa_is_der(const unsigned char *p, size_t len);
int eid_token__ecdsa_der_to_raw(const unsigned char *der, size_t len, size_t field_len, eid_buf *out);
/* Byte length of the EC key's field, 0 if not an EC key. */
size_t eid_token__ec_field_len(EVP_PKEY *pkey);

/* Certificates: DER or PEM in, X509 out. */
int eid_cert__parse(const unsigned char *data, size_t len, X509 **out);
/* Subject or issuer as RFC 2253 UTF-8 (malloc'd). */
char *eid_cert__name(const X509_NAME *name);
/* Common name (malloc'd), or the whole subject when there is none. */
char *eid_cert__display_name(X509 *cert);
/* Serial number in hex (malloc'd). */
char *eid_cert__serial_hex(X509 *cert);
unsigned int eid_cert__flags(X509 *cert); /* EID_CERT_* */
/* An ASN.1 time (UTCTime or GeneralizedTime) as seconds since 1970, or -1. */
int64_t eid_cert__epoch(const ASN1_TIME *t);
int eid_cert__key_info(X509 *cert, eid_key_type *type, unsigned int *bits);

#endif
