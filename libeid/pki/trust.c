/* Trust anchors, and certificate path validation against them. */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki.h"

#define TRUST_FILE_MAX (16u * 1024 * 1024)

struct eid_trust {
	X509_STORE *store;
	size_t count;
	STACK_OF(X509) *extra;  /* intermediates that may complete a path; not anchors */
	int adding_extra;       /* the file being read goes to @extra */
};

EID_EXTERN int eid_trust_new(eid_trust **out)
{
	eid_trust *t;

	if (out == NULL)
		return eid_error__set(EID_EINVAL, "eid_trust_new: NULL argument");
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->store = X509_STORE_new()) == NULL || (t->extra = sk_X509_new_null()) == NULL) {
		if (t != NULL)
			X509_STORE_free(t->store);
		free(t);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	*out = t;
	return EID_OK;
}

EID_EXTERN void eid_trust_free(eid_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	sk_X509_pop_free(t->extra, X509_free);
	free(t);
}

EID_EXTERN size_t eid_trust_count(const eid_trust *t)
{
	return t ? t->count : 0;
}

/* Add @x; *found counts certificates seen, t->count those not already held. */
static int add_x509(eid_trust *t, X509 *x, size_t *found)
{
	int before = sk_X509_OBJECT_num(X509_STORE_get0_objects(t->store));

	if (t->adding_extra) {
		if (!X509_up_ref(x))
			return eid_error__set(EID_ENOMEM, NULL);
		if (!sk_X509_push(t->extra, x)) {
			X509_free(x);
			return eid_error__set(EID_ENOMEM, NULL);
		}
		if (found != NULL)
			(*found)++;
		return EID_OK;
	}

	if (!X509_STORE_add_cert(t->store, x)) {
		unsigned long e = ERR_peek_last_error();

		/* The same certificate twice is not an error. */
		if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
			return eid_error__ossl(EID_ECERT, "cannot add a trust anchor");
		ERR_clear_error();
	}
	if (found != NULL)
		(*found)++;
	/* OpenSSL 1.1.1+ accepts a duplicate silently: count what the store gained. */
	if (sk_X509_OBJECT_num(X509_STORE_get0_objects(t->store)) > before)
		t->count++;
	return EID_OK;
}

EID_EXTERN int eid_trust_add_cert(eid_trust *t, const unsigned char *cert, size_t len)
{
	X509 *x;
	int rc;

	if (t == NULL)
		return eid_error__set(EID_EINVAL, "eid_trust_add_cert: NULL argument");
	if ((rc = eid_cert__parse(cert, len, &x)) < 0)
		return rc;
	rc = add_x509(t, x, NULL);
	X509_free(x);
	return rc;
}

static int add_one_file(eid_trust *t, const char *path)
{
	eid_buf data = EID_BUF_INIT;
	size_t found = 0;
	int rc;

	if ((rc = eid_io__read_file(path, TRUST_FILE_MAX, &data)) < 0)
		return rc;
	if (data.len == 0) {
		eid_buf_clear(&data);
		return eid_error__set(EID_EFORMAT, "'%s' is empty: no certificate in it", path);
	}
	if (data.len > 10 && memmem(data.data, data.len, "-----BEGIN", 10) != NULL) {
		BIO *bio = BIO_new_mem_buf(data.data, (int)data.len);
		STACK_OF(X509_INFO) *infos = bio ? PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL) : NULL;
		int i;

		for (i = 0; infos != NULL && i < sk_X509_INFO_num(infos) && rc == EID_OK; i++) {
			X509_INFO *info = sk_X509_INFO_value(infos, i);

			if (info->x509 != NULL)
				rc = add_x509(t, info->x509, &found);
		}
		sk_X509_INFO_pop_free(infos, X509_INFO_free);
		BIO_free(bio);
	} else {
		X509 *x;

		rc = eid_cert__parse(data.data, data.len, &x);
		if (rc == EID_OK) {
			rc = add_x509(t, x, &found);
			X509_free(x);
		} else {
			char why[256];

			/* copy first: the detail lives in the buffer being written */
			snprintf(why, sizeof(why), "%s", eid_error_last()->message);
			rc = eid_error__set(EID_EFORMAT, "no certificate in '%s': %s", path, why);
		}
	}
	eid_buf_clear(&data);
	ERR_clear_error();
	if (rc == EID_OK && found == 0)
		return eid_error__set(EID_EFORMAT, "no certificate in '%s'", path);
	if (rc < 0 && rc != EID_EFORMAT)
		eid_error__wrap("%s", path);
	return rc;
}

EID_EXTERN int eid_trust_add_file(eid_trust *t, const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = EID_OK, added = 0;

	if (t == NULL || path == NULL)
		return eid_error__set(EID_EINVAL, "eid_trust_add_file: NULL argument");
	if (stat(path, &st) != 0)
		return eid_error__set(EID_EIO, "cannot read trust anchors from '%s': %m", path);
	if (!S_ISDIR(st.st_mode))
		return add_one_file(t, path);
	d = opendir(path);
	if (d == NULL)
		return eid_error__set(EID_EIO, "cannot open folder '%s': %m", path);
	while ((e = readdir(d)) != NULL) {
		char sub[4096];
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		/* Certificates only: skip keys, CRLs and the like. */
		if (!(n > 4 && (strcmp(e->d_name + n - 4, ".pem") == 0 || strcmp(e->d_name + n - 4, ".crt") == 0 ||
				strcmp(e->d_name + n - 4, ".der") == 0 || strcmp(e->d_name + n - 4, ".cer") == 0)))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (stat(sub, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		/* In a folder, a file without a certificate (a CRL, say) is passed over. */
		rc = add_one_file(t, sub);
		if (rc == EID_EFORMAT || rc == EID_ECERT) {
			EID_LOG_I("%s", eid_error_last()->message);
			rc = EID_OK;
			continue;
		}
		if (rc < 0)
			break;
		added++;
	}
	closedir(d);
	if (rc == EID_OK && added == 0)
		return eid_error__set(EID_EFORMAT, "no certificate files (.pem .crt .der .cer) in '%s'", path);
	return rc;
}

EID_EXTERN int eid_trust_add_intermediates(eid_trust *t, const char *path)
{
	int rc;

	if (t == NULL || path == NULL)
		return eid_error__set(EID_EINVAL, "eid_trust_add_intermediates: NULL argument");
	t->adding_extra = 1;
	rc = eid_trust_add_file(t, path);
	t->adding_extra = 0;
	return rc;
}

X509_STORE *eid_pki__store(const eid_trust *t)
{
	return t ? t->store : NULL;
}

STACK_OF(X509) *eid_pki__intermediates(const eid_trust *t)
{
	STACK_OF(X509) *copy;
	int i;

	if (t == NULL || sk_X509_num(t->extra) == 0 || (copy = sk_X509_new_null()) == NULL)
		return NULL;
	for (i = 0; i < sk_X509_num(t->extra); i++) {
		X509 *x = sk_X509_value(t->extra, i);

		if (!X509_up_ref(x) || !sk_X509_push(copy, x)) {
			sk_X509_pop_free(copy, X509_free);
			return NULL;
		}
	}
	return copy;
}

void eid_pki__chain_result_clear(eid_chain_result *res)
{
	sk_X509_pop_free(res->chain, X509_free);
	memset(res, 0, sizeof(*res));
}

static void set_result(eid_chain_result *res, eid_indication ind, eid_subindication sub, const char *fmt, ...)
	EID_PRINTF(4, 5);
static void set_result(eid_chain_result *res, eid_indication ind, eid_subindication sub, const char *fmt, ...)
{
	va_list ap;

	res->indication = ind;
	res->sub = sub;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

int eid_pki__validate_chain(const eid_trust *trust, X509 *leaf, STACK_OF(X509) *untrusted, time_t when,
			    eid_chain_result *res)
{
	X509_STORE_CTX *ctx;
	X509_VERIFY_PARAM *param;
	STACK_OF(X509) *pool = NULL;
	int ok, err, depth;

	memset(res, 0, sizeof(*res));
	if (trust == NULL || trust->count == 0) {
		set_result(res, EID_INDETERMINATE, EID_SUB_NO_CERTIFICATE_CHAIN_FOUND,
			   "no trust anchors were given");
		return EID_OK;
	}
	/* the signature's own certificates, then the caller's intermediates */
	if (sk_X509_num(trust->extra) > 0) {
		int i;

		if ((pool = untrusted ? sk_X509_dup(untrusted) : sk_X509_new_null()) == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		for (i = 0; i < sk_X509_num(trust->extra); i++)
			if (!sk_X509_push(pool, sk_X509_value(trust->extra, i))) {
				sk_X509_free(pool);
				return eid_error__set(EID_ENOMEM, NULL);
			}
		untrusted = pool;
	}
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || !X509_STORE_CTX_init(ctx, trust->store, leaf, untrusted)) {
		X509_STORE_CTX_free(ctx);
		sk_X509_free(pool);
		return eid_error__ossl(EID_ENOMEM, "cannot start path validation");
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, when);
	/* Every certificate in the trust set is an anchor, roots and intermediates alike. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	ok = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	depth = X509_STORE_CTX_get_error_depth(ctx);
	res->chain = X509_STORE_CTX_get1_chain(ctx);
	X509_STORE_CTX_free(ctx);
	sk_X509_free(pool);
	ERR_clear_error();
	if (ok == 1) {
		set_result(res, EID_TOTAL_PASSED, EID_SUB_NONE, "the chain reaches a trust anchor");
		return EID_OK;
	}
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
		set_result(res, EID_INDETERMINATE, EID_SUB_NO_CERTIFICATE_CHAIN_FOUND,
			   "no chain to a trust anchor (%s)", X509_verify_cert_error_string(err));
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		set_result(res, EID_INDETERMINATE, EID_SUB_OUT_OF_BOUNDS_NO_POE,
			   "the %s certificate has expired and nothing proves the signature existed before",
			   depth == 0 ? "signer's" : "CA");
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		set_result(res, EID_INDETERMINATE, EID_SUB_OUT_OF_BOUNDS_NO_POE,
			   "the %s certificate is not yet valid", depth == 0 ? "signer's" : "CA");
		break;
	case X509_V_ERR_CERT_REVOKED:
		set_result(res, EID_INDETERMINATE, EID_SUB_REVOKED_NO_POE, "a certificate is revoked");
		break;
	case X509_V_ERR_INVALID_CA:
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
	case X509_V_ERR_INVALID_PURPOSE:
		set_result(res, EID_INDETERMINATE, EID_SUB_CHAIN_CONSTRAINTS_FAILURE,
			   "a chain constraint fails at depth %d (%s)", depth, X509_verify_cert_error_string(err));
		break;
	default:
		set_result(res, EID_INDETERMINATE, EID_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE,
			   "the chain does not validate at depth %d (%s)", depth, X509_verify_cert_error_string(err));
		break;
	}
	return EID_OK;
}
