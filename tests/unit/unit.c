/* Helpers shared by the Check unit suites (see unit.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "unit.h"

const char *unit_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

char *unit_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	ck_assert_ptr_nonnull(p);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

char *unit_pki(const char *name)
{
	const char *dir = unit_env("EID_TEST_PKI");

	ck_assert_msg(dir != NULL, "EID_TEST_PKI is not set: run the suites through `make check`");
	return unit_join(dir, name);
}

/*
 * The folder of this run: made by unit_run() in the parent before the tests
 * are forked and removed by it afterwards, so that the scratch folders of a
 * test that failed (Check ends the child with _exit) do not stay behind.
 */
static char *run_root;

static char *make_scratch(const char *base, const char *pattern)
{
	char *p = unit_join(base, pattern);

	ck_assert_msg(mkdtemp(p) != NULL, "mkdtemp(%s): %s", p, strerror(errno));
	return p;
}

static const char *scratch_base(void)
{
	const char *base = unit_env("EID_TEST_TMP");

	if (base == NULL)
		base = unit_env("TMPDIR");
	return base != NULL ? base : "/tmp";
}

char *unit_tmpdir(void)
{
	return make_scratch(run_root != NULL ? run_root : scratch_base(), "unit-XXXXXX");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void unit_rmtree(const char *dir)
{
	if (dir != NULL)
		(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

size_t unit_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	ck_assert_msg(d != NULL, "opendir(%s): %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

void unit_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "fopen(%s): %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

unsigned char *unit_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	size_t n = 0, cap = 0, got;

	ck_assert_msg(f != NULL, "fopen(%s): %s", path, strerror(errno));
	do {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			p = realloc(p, cap + 1);
			ck_assert_ptr_nonnull(p);
		}
		got = fread(p + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	ck_assert_int_eq(ferror(f), 0);
	fclose(f);
	p[n] = 0;
	*len = n;
	return p;
}

X509 *unit_load_cert(const char *path)
{
	size_t len;
	unsigned char *data = unit_read(path, &len);
	const unsigned char *p = data;
	X509 *x;

	if (len > 10 && memcmp(data, "-----BEGIN", 10) == 0) {
		BIO *bio = BIO_new_mem_buf(data, (int)len);

		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else {
		x = d2i_X509(NULL, &p, (long)len);
	}
	free(data);
	ck_assert_msg(x != NULL, "cannot read a certificate from %s", path);
	return x;
}

EVP_PKEY *unit_load_key(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	EVP_PKEY *k;

	ck_assert_msg(bio != NULL, "cannot open %s", path);
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ck_assert_msg(k != NULL, "cannot read a private key from %s", path);
	return k;
}

unsigned char *unit_cert_der(X509 *x, size_t *len)
{
	unsigned char *der = NULL, *copy;
	int n = i2d_X509(x, &der);

	ck_assert_int_gt(n, 0);
	copy = malloc((size_t)n);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	return copy;
}

X509 *unit_self_signed(EVP_PKEY *key, const char *cn, const char *key_usage)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), 4242), 1);
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	name = X509_get_subject_name(x);
	ck_assert_int_eq(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), 1);
	ck_assert_int_eq(X509_set_issuer_name(x, name), 1);
	ck_assert_int_eq(X509_set_pubkey(x, key), 1);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage,
				  key_usage ? key_usage : "critical,nonRepudiation,digitalSignature,keyCertSign");
	ck_assert_ptr_nonnull(ext);
	ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
	return x;
}

static const EVP_MD *md_of(eid_hash hash)
{
	switch (hash) {
	case EID_HASH_DEFAULT:
	case EID_HASH_SHA256: return EVP_sha256();
	case EID_HASH_SHA384: return EVP_sha384();
	case EID_HASH_SHA512: return EVP_sha512();
	}
	ck_abort_msg("unknown hash %d", (int)hash);
	return NULL;
}

size_t unit_digest(eid_hash hash, const void *data, size_t len, unsigned char *out)
{
	unsigned int n = 0;

	ck_assert_int_eq(EVP_Digest(data, len, out, &n, md_of(hash), NULL), 1);
	return n;
}

int unit_verify_digest(EVP_PKEY *pub, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest,
		       size_t digest_len, const unsigned char *sig, size_t sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	const EVP_MD *md = md_of(hash);
	int ok;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_PKEY_verify_init(ctx), 1);
	ck_assert_int_gt(EVP_PKEY_CTX_set_signature_md(ctx, md), 0);
	if (scheme == EID_SIG_RSA_PKCS1 || scheme == EID_SIG_DEFAULT) {
		if (EVP_PKEY_is_a(pub, "RSA"))
			ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 0);
	} else if (scheme == EID_SIG_RSA_PSS) {
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING), 0);
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)digest_len), 0);
		ck_assert_int_gt(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md), 0);
	}
	ok = EVP_PKEY_verify(ctx, sig, sig_len, digest, digest_len) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	/* Outside a test: no ck_assert here. */
	run_root = malloc(strlen(scratch_base()) + sizeof("/run-XXXXXX"));
	if (run_root != NULL)
		sprintf(run_root, "%s/run-XXXXXX", scratch_base());
	if (run_root != NULL && mkdtemp(run_root) == NULL) {
		fprintf(stderr, "mkdtemp(%s): %s; scratch folders go to %s\n", run_root, strerror(errno), scratch_base());
		free(run_root);
		run_root = NULL;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	unit_rmtree(run_root);
	free(run_root);
	run_root = NULL;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

void unit_skip(const char *test, const char *why)
{
	fprintf(stderr, "SKIP %s: %s\n", test, why);
}

char *unit_private_softhsm(void)
{
	const char *hsm = unit_env("EID_TEST_HSM");
	char *dir, *cmd, *conf;
	FILE *f;
	int n;

	if (hsm == NULL)
		return NULL;
	/* outside any test: no ck_assert here */
	if (asprintf(&dir, "%s/hsm.XXXXXX", unit_env("EID_TEST_TMP") ? unit_env("EID_TEST_TMP") : "/tmp") < 0 ||
	    mkdtemp(dir) == NULL) {
		fprintf(stderr, "cannot make a folder for the test tokens\n");
		exit(EXIT_FAILURE);
	}
	n = asprintf(&cmd, "cp -r '%s/tokens' '%s/tokens'", hsm, dir);
	if (n < 0 || system(cmd) != 0) {
		fprintf(stderr, "cannot copy the test tokens\n");
		exit(EXIT_FAILURE);
	}
	free(cmd);
	if (asprintf(&conf, "%s/softhsm2.conf", dir) < 0)
		exit(EXIT_FAILURE);
	f = fopen(conf, "w");
	if (f == NULL) {
		fprintf(stderr, "cannot write %s\n", conf);
		exit(EXIT_FAILURE);
	}
	fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n"
		   "slots.removable = false\nslots.mechanisms = ALL\nlibrary.reset_on_fork = false\n", dir);
	fclose(f);
	setenv("SOFTHSM2_CONF", conf, 1);
	free(conf);
	return dir;
}
