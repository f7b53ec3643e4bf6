/* Internal interface of the verification layer. */
#ifndef EID_INTERNAL_VERIFY_H
#define EID_INTERNAL_VERIFY_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "report.h"
#include "../pki/pki.h"

/* What a CMS signature signs: a whole file, byte ranges of a file, or its own eContent. */
typedef struct eid_cms_input {
	const char *path;          /* the signed file; NULL: o->data_path */
	const uint64_t *ranges;    /* (offset, length) pairs within path, or NULL for the whole file */
	size_t nranges;
	int zero_padding;          /* zero bytes may follow the DER (a PDF's /Contents) */
	const char *format;        /* "CAdES", "PAdES" */
	const eid_vdata *vd;       /* validation data from outside the CMS (a PDF's DSS), or NULL */
	const struct eid_tst_result *poe;     /* the earliest document timestamp that holds over this signature's
						 revision (its B-T when the CMS has no signature timestamp), or NULL */
	const struct eid_tst_result *archive; /* the earliest one that also covers the validation data (B-LTA), or NULL */
} eid_cms_input;

/* Validate a CMS signature; each signer gets an entry in @r (the first at index *first). */
int eid_verify__cms(eid_report *r, const unsigned char *data, size_t len, const eid_cms_input *in,
		    const eid_verify_opts *o);
int eid_verify__cades(eid_report *r, const unsigned char *data, size_t len, const eid_verify_opts *o);

/* Where the files a detached XML signature names come from (the caller's files, or a container's). */
typedef struct eid_xml_resolver {
	/* The digest with @md of the content named @name (a decoded, relative name); EID_ENOTFOUND if not supplied. */
	int (*digest)(void *ctx, const char *name, const EVP_MD *md, unsigned char *out, unsigned int *len);
	void *ctx;
} eid_xml_resolver;

/* Validate every XML signature in a document (@name for messages). */
int eid_verify__xades(eid_report *r, const unsigned char *data, size_t len, const char *name,
		      const eid_xml_resolver *res, const eid_verify_opts *o);
/*
 * The same, with where the bytes of detached references come from (archive
 * timestamps cover them whole; the resolver gives digests only), or NULL.
 */
struct eid_xades_source;
int eid_verify__xades_src(eid_report *r, const unsigned char *data, size_t len, const char *name,
			  const eid_xml_resolver *res, const struct eid_xades_source *data_src, const eid_verify_opts *o);
/* The same for a file, parsed as a stream (never held whole in memory besides its tree). */
int eid_verify__xades_file(eid_report *r, const char *path, const eid_xml_resolver *res, const eid_verify_opts *o);
int eid_verify__pades(eid_report *r, const char *path, const eid_verify_opts *o);
int eid_verify__asic(eid_report *r, const char *path, const eid_verify_opts *o);
/* The signer's names, serial and key size into @s. */
void eid_verify__signer_info(eid_sig_report *s, X509 *signer);
/* What a timestamp token proves. */
typedef struct eid_tst_result eid_tst_result;
struct eid_tst_result {
	int ok;               /* 1: over this data, signed, by a TSA chaining to an anchor */
	int imprint_ok;       /* the imprint matches the data (also when the TSA is not trusted) */
	int64_t gen_time;     /* the token's time, or -1 */
	char tsa[256];        /* the TSA's name */
	char why[300];        /* when not ok */
};
/* Validate a timestamp token (DER) over @data.  Returns <0 only for library failures. */
int eid_verify__timestamp(const unsigned char *der, size_t len, const unsigned char *data, size_t dlen,
			  const eid_verify_opts *o, eid_tst_result *res);
/* The same over byte ranges of a file (a PDF document timestamp; zero bytes may follow the token's DER). */
int eid_verify__timestamp_ranges(const unsigned char *der, size_t len, const char *path, const uint64_t *ranges,
				 size_t nranges, const eid_verify_opts *o, eid_tst_result *res);

/*
 * The time to judge the signer's certificate at: @when, or a valid
 * timestamp's time when the certificate has expired since (with a warning).
 */
int eid_verify__judging_time(eid_sig_report *s, X509 *signer, STACK_OF(X509) *certs, const eid_verify_opts *o,
			     time_t when, const eid_tst_result *ts, time_t *at);
/* Keep the earliest valid timestamp (@best, and the report's); one that does not hold is a warning. */
void eid_verify__keep_timestamp(eid_sig_report *s, eid_tst_result *best, const eid_tst_result *r);

/*
 * The checks every format shares after its own: the path from @signer to an
 * anchor (@certs: candidate intermediates) at @when, the revocation status of
 * each certificate on it (from the validation data the signature
 * carries, else online), the digest @md and key size against the algorithm
 * policy at the earliest proof of existence (@ev), and the key usage;
 * findings go into @s.  Errors only for failures of the library.
 */
typedef struct eid_evidence {
	const eid_tst_result *ts;      /* the earliest signature timestamp (eid_verify__keep_timestamp), or NULL */
	const eid_tst_result *archive; /* the earliest archive timestamp that holds (B-LTA), or NULL */
	const eid_vdata *vd;           /* the validation data the signature carries (B-LT), or NULL */
} eid_evidence;
int eid_verify__acceptance(eid_sig_report *s, X509 *signer, STACK_OF(X509) *certs, const EVP_MD *md,
			   const eid_verify_opts *o, time_t when, const eid_evidence *ev);

/*
 * The algorithm policy (crypto.c): the earliest date after which @md or a
 * @key_type ("RSA", "ECDSA") key of @bits is no longer acceptable (-1: none),
 * and what it is, for a message.  EID_EIO/EID_EFORMAT for a bad policy file.
 */
int eid_verify__crypto_sunset(const eid_verify_opts *o, const EVP_MD *md, const char *key_type, unsigned int bits,
			      int64_t *until, char *what, size_t what_size);

/* Hash byte ranges of a file as one stream. */
int eid_verify__digest_ranges(const char *path, const uint64_t *ranges, size_t n, const EVP_MD *md,
			      unsigned char *out, unsigned int *len);

#endif
