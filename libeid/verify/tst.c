/*
 * RFC 3161 timestamp tokens at validation: the message imprint over the
 * time-stamped data, the token's signature, the TSA's certificate (ESS
 * signing certificate, a critical timeStamping extended key usage) and its
 * chain to the anchors.  A token that holds is a proof of existence: the data
 * existed at its genTime.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>

#include "../pki/pki.h"
#include "verify.h"

/* Where the time-stamped bytes are: in memory, or byte ranges of a file. */
typedef struct imprint_src {
	const unsigned char *data;
	size_t dlen;
	const char *path;
	const uint64_t *ranges;
	size_t nranges;
} imprint_src;

static int imprint_of(const imprint_src *src, const EVP_MD *md, unsigned char *out, unsigned int *len)
{
	if (src->path != NULL)
		return eid_verify__digest_ranges(src->path, src->ranges, src->nranges, md, out, len);
	if (!EVP_Digest(src->data, src->dlen, out, len, md, NULL))
		return eid_error__ossl(EID_EINTERNAL, "digest failed");
	return EID_OK;
}

/* The token in @der (zero bytes may follow its DER when @zero_padding) over the bytes of @src. */
static int check_token(const unsigned char *der, size_t len, int zero_padding, const imprint_src *src,
		       const eid_verify_opts *o, eid_tst_result *res)
{
	const unsigned char *p = der;
	PKCS7 *token = d2i_PKCS7(NULL, &p, (long)len);
	TS_TST_INFO *tst = token ? PKCS7_to_TS_TST_INFO(token) : NULL;
	TS_VERIFY_CTX *ctx = NULL;
	const EVP_MD *md;
	unsigned char *imprint = NULL;
	unsigned int il = 0;
	STACK_OF(X509) *signers = NULL;
	X509_STORE *store;
	int rc = EID_OK;

	memset(res, 0, sizeof(*res));
	res->gen_time = -1;
	while (tst != NULL && zero_padding && p < der + len && *p == 0)
		p++;
	if (tst == NULL || p != der + len) {
		snprintf(res->why, sizeof(res->why), "not a timestamp token");
		goto out;
	}
	res->gen_time = eid_cert__epoch(TS_TST_INFO_get_time(tst));
	if ((signers = PKCS7_get0_signers(token, NULL, 0)) != NULL && sk_X509_num(signers) == 1) {
		char *name = eid_cert__name(X509_get_subject_name(sk_X509_value(signers, 0)));

		snprintf(res->tsa, sizeof(res->tsa), "%s", name ? name : "?");
		free(name);
	}
	ERR_clear_error();
	md = EVP_get_digestbyobj(TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(tst))->algorithm);
	if (md == NULL || EVP_MD_get_type(md) == NID_md5 || EVP_MD_get_type(md) == NID_sha1) {
		snprintf(res->why, sizeof(res->why), "its message imprint uses %s", md ? EVP_MD_get0_name(md) : "an unknown hash");
		goto out;
	}
	if ((imprint = OPENSSL_malloc(EVP_MAX_MD_SIZE)) == NULL) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out;
	}
	if ((rc = imprint_of(src, md, imprint, &il)) < 0)
		goto out;
	if (o == NULL || o->trust == NULL || eid_trust_count(o->trust) == 0) {
		/* the imprint still tells whether it covers this signature */
		const ASN1_OCTET_STRING *m = TS_MSG_IMPRINT_get_msg(TS_TST_INFO_get_msg_imprint(tst));

		res->imprint_ok = (unsigned)ASN1_STRING_length(m) == il && memcmp(ASN1_STRING_get0_data(m), imprint, il) == 0;
		snprintf(res->why, sizeof(res->why), "no trust anchors were given for the TSA");
		goto out;
	}
	if ((ctx = TS_VERIFY_CTX_new()) == NULL || (store = eid_pki__store(o->trust)) == NULL || !X509_STORE_up_ref(store)) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out;
	}
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
	TS_VERIFY_CTX_set_store(ctx, store);
	TS_VERIFY_CTX_set_imprint(ctx, imprint, il);
	imprint = NULL; /* the context owns it */
	{
		STACK_OF(X509) *extra = eid_pki__intermediates(o->trust);

		if (extra != NULL)
			TS_VERIFY_CTS_set_certs(ctx, extra);
	}
	if (TS_RESP_verify_token(ctx, token) == 1) {
		res->ok = res->imprint_ok = 1;
	} else {
		unsigned long e = ERR_peek_last_error();
		int reason = ERR_GET_REASON(e);

		res->imprint_ok = reason != TS_R_MESSAGE_IMPRINT_MISMATCH;
		snprintf(res->why, sizeof(res->why), "%s",
			 reason == TS_R_MESSAGE_IMPRINT_MISMATCH ? "it was made over other data"
			 : reason == TS_R_CERTIFICATE_VERIFY_ERROR ? "the TSA's certificate does not chain to a trust anchor, or has expired"
			 : reason == TS_R_TSA_UNTRUSTED ? "its signer is not a time-stamping authority (extended key usage)"
			 : reason == TS_R_ESS_SIGNING_CERTIFICATE_ERROR
				 ? "its signing-certificate attribute does not name its signer"
			 : e ? ERR_reason_error_string(e) : "it does not verify");
	}
out:
	ERR_clear_error();
	OPENSSL_free(imprint);
	sk_X509_free(signers);
	TS_VERIFY_CTX_free(ctx);
	TS_TST_INFO_free(tst);
	PKCS7_free(token);
	return rc;
}

int eid_verify__timestamp(const unsigned char *der, size_t len, const unsigned char *data, size_t dlen,
			  const eid_verify_opts *o, eid_tst_result *res)
{
	imprint_src src = { data, dlen, NULL, NULL, 0 };

	return check_token(der, len, 0, &src, o, res);
}

int eid_verify__timestamp_ranges(const unsigned char *der, size_t len, const char *path, const uint64_t *ranges,
				 size_t nranges, const eid_verify_opts *o, eid_tst_result *res)
{
	imprint_src src = { NULL, 0, path, ranges, nranges };

	return check_token(der, len, 1, &src, o, res);
}
