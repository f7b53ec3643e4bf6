/* Internal interface of the verification layer. */
#ifndef EID_INTERNAL_VERIFY_H
#define EID_INTERNAL_VERIFY_H

#include <openssl/evp.h>

#include "report.h"

/* What a CMS signature signs: a whole file, byte ranges of a file, or its own eContent. */
typedef struct eid_cms_input {
	const char *path;          /* the signed file; NULL: o->data_path */
	const uint64_t *ranges;    /* (offset, length) pairs within path, or NULL for the whole file */
	size_t nranges;
	int zero_padding;          /* zero bytes may follow the DER (a PDF's /Contents) */
	const char *format;        /* "CAdES", "PAdES" */
} eid_cms_input;

/* Validate a CMS signature; each signer gets an entry in @r (the first at index *first). */
int eid_verify__cms(eid_report *r, const unsigned char *data, size_t len, const eid_cms_input *in,
		    const eid_verify_opts *o);
int eid_verify__cades(eid_report *r, const unsigned char *data, size_t len, const eid_verify_opts *o);
int eid_verify__pades(eid_report *r, const char *path, const eid_verify_opts *o);
/* Hash byte ranges of a file as one stream. */
int eid_verify__digest_ranges(const char *path, const uint64_t *ranges, size_t n, const EVP_MD *md,
			      unsigned char *out, unsigned int *len);

#endif
