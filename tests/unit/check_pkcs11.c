/*
 * Unit tests of libeid/token/pkcs11.c against SoftHSM2 ($EID_TEST_P11_MODULE
 * with the tokens of tests/softhsm/make-token.sh, $SOFTHSM2_CONF).
 *
 * Login behaviour that SoftHSM cannot show (PIN counters, pinpads) and the
 * number of C_Login calls are observed through tests/unit/p11shim.c, a module
 * that forwards to SoftHSM.  Certificate ranking between expired and valid
 * certificates uses a private token made in a scratch folder.
 */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <p11-kit/pkcs11.h>

#include "token/token.h"
#include "p11shim.h"
#include "unit.h"

#ifndef P11SHIM_PATH
#error "P11SHIM_PATH must name the built tests/unit/p11shim.so"
#endif

extern char **environ;

static const char CITIZEN_NAME[] = "J\xc3\xa9r\xc3\xb4me \xc3\x98ster-\xc5\x81ukasz (Signature)";
static const char PIN[] = "123456";

/* ---- fixtures ---- */

static const char *module_path(void)
{
	return unit_env("EID_TEST_P11_MODULE");
}

/* Skip the calling test when SoftHSM is not configured. */
#define NEED_SOFTHSM()                                                                             \
	do {                                                                                       \
		if (module_path() == NULL || unit_env("SOFTHSM2_CONF") == NULL) {                  \
			unit_skip(__func__, "EID_TEST_P11_MODULE or SOFTHSM2_CONF is not set");    \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static eid_pkcs11 *open_module(const char *path)
{
	eid_pkcs11 *p11 = NULL;
	int rc = eid_pkcs11_open(&p11, path);

	ck_assert_msg(rc == EID_OK, "eid_pkcs11_open(%s): %s", path, eid_error_last()->message);
	ck_assert_ptr_nonnull(p11);
	return p11;
}

static p11shim_state *shim_state(void)
{
	void *h = dlopen(P11SHIM_PATH, RTLD_NOW | RTLD_LOCAL);
	p11shim_state *st;

	ck_assert_msg(h != NULL, "dlopen(%s): %s", P11SHIM_PATH, dlerror());
	st = dlsym(h, P11SHIM_STATE);
	ck_assert_ptr_nonnull(st);
	return st; /* the handle stays open for the rest of the (forked) test */
}

/* What a PIN callback answers, and what it saw. */
typedef struct pin_script {
	const char *pin;   /* answered; NULL: return @rc */
	int rc;
	int overlong;      /* fill the whole buffer */
	int calls;
	unsigned int flags;
	size_t min_len, max_len;
	char token_label[64];
	char key_label[64];
} pin_script;

static int pin_cb(char *buf, size_t size, const eid_pin_request *req, void *userdata)
{
	pin_script *p = userdata;
	size_t n;

	p->calls++;
	ck_assert_ptr_nonnull(req);
	ck_assert_uint_ge(size, 64);
	p->flags = req->flags;
	p->min_len = req->min_len;
	p->max_len = req->max_len;
	snprintf(p->token_label, sizeof(p->token_label), "%s", req->token_label ? req->token_label : "(null)");
	snprintf(p->key_label, sizeof(p->key_label), "%s", req->key_label ? req->key_label : "(null)");
	if (p->overlong) {
		memset(buf, '1', size);
		return (int)size;
	}
	if (p->pin == NULL)
		return p->rc;
	n = strlen(p->pin);
	ck_assert_uint_lt(n, size);
	memcpy(buf, p->pin, n);
	return (int)n;
}

static eid_signer *new_signer(eid_pkcs11 *p11, const char *token, const char *id, const char *label,
			      pin_script *script, unsigned int flags)
{
	eid_pkcs11_select sel = EID_PKCS11_SELECT_INIT;
	eid_signer *s = NULL;
	int rc;

	sel.token_label = token;
	sel.key_id_hex = id;
	sel.cert_label = label;
	sel.pin_cb = script ? pin_cb : NULL;
	sel.pin_userdata = script;
	sel.flags = flags;
	rc = eid_signer_new_pkcs11(&s, p11, &sel);
	ck_assert_msg(rc == EID_OK, "select %s/%s/%s: %s", token ? token : "*", id ? id : "*", label ? label : "*",
		      eid_error_last()->message);
	ck_assert_ptr_nonnull(s);
	return s;
}

static int select_rc(eid_pkcs11 *p11, const char *token, const char *id, const char *label)
{
	eid_pkcs11_select sel = EID_PKCS11_SELECT_INIT;
	eid_signer *s = (eid_signer *)&sel;
	int rc;

	sel.token_label = token;
	sel.key_id_hex = id;
	sel.cert_label = label;
	rc = eid_signer_new_pkcs11(&s, p11, &sel);
	if (rc == EID_OK)
		eid_signer_free(s);
	else
		ck_assert_ptr_null(s);
	return rc;
}

/* Sign a digest; check the value with OpenSSL against the signer's certificate.  Returns the code. */
static int sign_check(eid_signer *s, eid_sig_scheme scheme, eid_hash hash)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t dlen = unit_digest(hash, "pkcs11 test data", 16, digest);
	eid_buf sig = EID_BUF_INIT;
	int rc = eid_signer_sign_digest(s, scheme, hash, digest, dlen, &sig);

	if (rc == EID_OK) {
		if (scheme == EID_SIG_ECDSA) {
			const unsigned char *p = sig.data;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig.len);

			ck_assert_msg(es != NULL && p == sig.data + sig.len, "the ECDSA value is not DER");
			ECDSA_SIG_free(es);
		}
		ck_assert_msg(unit_verify_digest(X509_get0_pubkey(eid_signer__cert(s)), scheme, hash, digest, dlen,
						 sig.data, sig.len),
			      "scheme %d hash %d: the signature does not verify", (int)scheme, (int)hash);
	} else {
		ck_assert_ptr_null(sig.data);
	}
	eid_buf_clear(&sig);
	return rc;
}

static const eid_cert_info *find_cert(eid_pkcs11 *p11, const char *token, const char *label)
{
	size_t i;

	for (i = 0; i < eid_pkcs11_cert_count(p11); i++) {
		const eid_cert_info *c = eid_pkcs11_cert(p11, i);
		const eid_token_info *t = eid_pkcs11_token(p11, c->token_index);

		if (strcmp(c->label, label) == 0 && strcmp(t->label, token) == 0)
			return c;
	}
	ck_abort_msg("no certificate '%s' on token '%s'", label, token);
	return NULL;
}

static size_t certs_on(eid_pkcs11 *p11, const char *token)
{
	size_t i, n = 0;

	for (i = 0; i < eid_pkcs11_cert_count(p11); i++)
		n += strcmp(eid_pkcs11_token(p11, eid_pkcs11_cert(p11, i)->token_index)->label, token) == 0;
	return n;
}

static int has_token(eid_pkcs11 *p11, const char *label)
{
	size_t i;

	for (i = 0; i < eid_pkcs11_token_count(p11); i++)
		if (strcmp(eid_pkcs11_token(p11, i)->label, label) == 0)
			return 1;
	return 0;
}

/* ---- a private SoftHSM token, made with the tools make-token.sh uses ---- */

static int run_quiet(const char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = -1;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

typedef struct token_item {
	const char *pki_name; /* a file of the test PKI without extension, or an absolute path without it */
	const char *id;
	const char *label;
} token_item;

/*
 * Make a token @label holding @items in a scratch folder and point
 * SOFTHSM2_CONF at it.  Returns the folder (to remove), or NULL when the tools
 * are missing.
 */
static char *make_private_token(const char *label, const token_item *items, size_t n)
{
	const char *m = module_path();
	char *dir, *conf, *tokens, text[1024];
	size_t i;
	const char *probe[] = { "softhsm2-util", "--version", NULL };
	const char *probe2[] = { "pkcs11-tool", "--help", NULL };

	if (run_quiet(probe) != 0 || run_quiet(probe2) < 0)
		return NULL;
	dir = unit_tmpdir();
	conf = unit_join(dir, "softhsm2.conf");
	tokens = unit_join(dir, "tokens");
	ck_assert_int_eq(mkdir(tokens, 0700), 0);
	snprintf(text, sizeof(text),
		 "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
		 tokens);
	unit_write(conf, text, strlen(text));
	ck_assert_int_eq(setenv("SOFTHSM2_CONF", conf, 1), 0);
	{
		const char *argv[] = { "softhsm2-util", "--module", m, "--init-token", "--free", "--label", label,
				       "--pin", PIN, "--so-pin", "12345678", NULL };

		ck_assert_int_eq(run_quiet(argv), 0);
	}
	for (i = 0; i < n; i++) {
		char *key, *cert, name[1024];

		snprintf(name, sizeof(name), "%s.der", items[i].pki_name);
		cert = items[i].pki_name[0] == '/' ? strdup(name) : unit_pki(name);
		snprintf(name, sizeof(name), "%s.key", items[i].pki_name);
		key = items[i].pki_name[0] == '/' ? strdup(name) : unit_pki(name);
		{
			const char *imp[] = { "softhsm2-util", "--module", m, "--import", key, "--token", label,
					      "--label", items[i].label, "--id", items[i].id, "--pin", PIN, NULL };
			const char *wr[] = { "pkcs11-tool", "--module", m, "--token-label", label, "--login", "--pin",
					     PIN, "--write-object", cert, "--type", "cert", "--id", items[i].id,
					     "--label", items[i].label, NULL };

			ck_assert_msg(run_quiet(imp) == 0, "softhsm2-util --import %s failed", key);
			ck_assert_msg(run_quiet(wr) == 0, "pkcs11-tool --write-object %s failed", cert);
		}
		free(key);
		free(cert);
	}
	free(conf);
	free(tokens);
	return dir;
}

/* ---- eid_pkcs11_open ---- */

START_TEST(test_pkcs11_open__lists_tokens)
{
	eid_pkcs11 *p11;
	int seen_test = 0, seen_ec = 0, seen_empty = 0;
	size_t i;

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	ck_assert_str_eq(eid_pkcs11_module_path(p11), module_path());
	ck_assert_uint_ge(eid_pkcs11_token_count(p11), 3);
	for (i = 0; i < eid_pkcs11_token_count(p11); i++) {
		const eid_token_info *t = eid_pkcs11_token(p11, i);

		ck_assert_ptr_nonnull(t);
		/* SoftHSM's extra free slot holds an uninitialised token without a label: not listed. */
		ck_assert_ptr_nonnull(t->label);
		ck_assert_str_ne(t->label, "");
		ck_assert_ptr_nonnull(t->serial);
		ck_assert_ptr_nonnull(t->slot_description);
		ck_assert_ptr_nonnull(t->manufacturer);
		ck_assert_ptr_nonnull(t->model);
		ck_assert(t->flags & EID_TOKEN_LOGIN_REQUIRED);
		ck_assert(!(t->flags & (EID_TOKEN_PIN_LOCKED | EID_TOKEN_PIN_FINAL_TRY | EID_TOKEN_PINPAD)));
		seen_test += strcmp(t->label, "libeid-test") == 0;
		seen_ec += strcmp(t->label, "libeid-ec") == 0;
		seen_empty += strcmp(t->label, "libeid-empty") == 0;
	}
	ck_assert_int_eq(seen_test, 1);
	ck_assert_int_eq(seen_ec, 1);
	ck_assert_int_eq(seen_empty, 1);
	ck_assert_ptr_null(eid_pkcs11_token(p11, eid_pkcs11_token_count(p11)));
	ck_assert_ptr_null(eid_pkcs11_token(NULL, 0));
	ck_assert_uint_eq(eid_pkcs11_token_count(NULL), 0);
	ck_assert_ptr_null(eid_pkcs11_module_path(NULL));
	eid_pkcs11_free(p11);
	eid_pkcs11_free(NULL);
}
END_TEST

START_TEST(test_pkcs11_open__skips_uninitialised_slots)
{
	CK_C_GetFunctionList get;
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i, initialised = 0;
	void *dl;
	eid_pkcs11 *p11;

	NEED_SOFTHSM();
	/* Count what the module itself calls initialised tokens. */
	dl = dlopen(module_path(), RTLD_NOW | RTLD_LOCAL);
	ck_assert_ptr_nonnull(dl);
	*(void **)(&get) = dlsym(dl, "C_GetFunctionList");
	ck_assert_ptr_nonnull(get);
	ck_assert_uint_eq(get(&f), CKR_OK);
	ck_assert_uint_eq(f->C_Initialize(NULL), CKR_OK);
	ck_assert_uint_eq(f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	for (i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;

		ck_assert_uint_eq(f->C_GetTokenInfo(slots[i], &ti), CKR_OK);
		initialised += (ti.flags & CKF_TOKEN_INITIALIZED) != 0;
	}
	ck_assert_uint_eq(f->C_Finalize(NULL), CKR_OK);
	ck_assert_uint_gt(n, initialised); /* SoftHSM always offers a free slot */
	p11 = open_module(module_path());
	ck_assert_uint_eq(eid_pkcs11_token_count(p11), initialised);
	eid_pkcs11_free(p11);
	dlclose(dl);
}
END_TEST

START_TEST(test_pkcs11_open__missing_module)
{
	eid_pkcs11 *p11 = (eid_pkcs11 *)&p11;

	ck_assert_int_eq(eid_pkcs11_open(&p11, "/nonexistent/libnothing-pkcs11.so"), EID_EMODULE);
	ck_assert_ptr_null(p11);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "/nonexistent/libnothing-pkcs11.so"));
	ck_assert_int_eq(eid_pkcs11_open(NULL, "/nonexistent/x.so"), EID_EINVAL);
}
END_TEST

START_TEST(test_pkcs11_open__not_a_module)
{
	char *path = unit_pki("root.crt");
	eid_pkcs11 *p11 = NULL;

	ck_assert_int_eq(eid_pkcs11_open(&p11, path), EID_EMODULE);
	ck_assert_ptr_null(p11);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, path));
	free(path);
}
END_TEST

START_TEST(test_pkcs11_open__library_without_pkcs11)
{
	Dl_info info;
	eid_pkcs11 *p11 = NULL;

	/* libcrypto is a shared library, but not a PKCS#11 module. */
	ck_assert_int_ne(dladdr((void *)&EVP_sha256, &info), 0);
	ck_assert_ptr_nonnull(info.dli_fname);
	ck_assert_int_eq(eid_pkcs11_open(&p11, info.dli_fname), EID_EMODULE);
	ck_assert_ptr_null(p11);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "C_GetFunctionList"));
	/* The library is still usable afterwards. */
	ck_assert_ptr_nonnull(EVP_sha256());
}
END_TEST

START_TEST(test_pkcs11_open__module_from_environment)
{
	eid_pkcs11 *p11;

	NEED_SOFTHSM();
	ck_assert_int_eq(setenv("EID_PKCS11_MODULE", module_path(), 1), 0);
	p11 = open_module(NULL);
	ck_assert_str_eq(eid_pkcs11_module_path(p11), module_path());
	ck_assert_uint_ge(eid_pkcs11_token_count(p11), 3);
	eid_pkcs11_free(p11);
	ck_assert_int_eq(setenv("EID_PKCS11_MODULE", "/nonexistent/module.so", 1), 0);
	p11 = (eid_pkcs11 *)&p11;
	ck_assert_int_eq(eid_pkcs11_open(&p11, NULL), EID_EMODULE);
	ck_assert_ptr_null(p11);
}
END_TEST

/* ---- eid_pkcs11_free ---- */

START_TEST(test_pkcs11_free__signer_keeps_module)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	eid_pkcs11_free(p11);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PSS, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(script.calls, 1);
	eid_signer_free(s);
}
END_TEST

START_TEST(test_pkcs11_free__module_finalised_once)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	p11shim_state *st;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(P11SHIM_PATH);
	st = shim_state();
	ck_assert_uint_eq(st->initialize_calls, 1);
	s = new_signer(p11, "libeid-test", "04", NULL, &script, 0);
	eid_pkcs11_free(p11);
	ck_assert_uint_eq(st->finalize_calls, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_ECDSA, EID_HASH_SHA256), EID_OK);
	eid_signer_free(s);
	ck_assert_uint_eq(st->finalize_calls, 1);
}
END_TEST

START_TEST(test_pkcs11_free__second_handle_survives)
{
	eid_pkcs11 *a, *b;
	eid_signer *s;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };
	int rc;

	NEED_SOFTHSM();
	/* Two users of the same module in one process (two threads, a tool and a plugin ...). */
	a = open_module(module_path());
	b = open_module(module_path());
	s = new_signer(b, "libeid-test", "01", NULL, &script, 0);
	eid_pkcs11_free(a);
	rc = sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256);
	ck_assert_msg(rc == EID_OK, "freeing the first handle broke the second: %s", eid_error_last()->message);
	eid_signer_free(s);
	eid_pkcs11_free(b);
}
END_TEST

/* ---- eid_pkcs11_token ---- */

START_TEST(test_pkcs11_token__flags_refreshed)
{
	eid_pkcs11 *p11;
	p11shim_state *st;
	const eid_token_info *t;

	NEED_SOFTHSM();
	p11 = open_module(P11SHIM_PATH);
	st = shim_state();
	t = eid_pkcs11_token(p11, 0);
	ck_assert_uint_eq(t->flags & ~EID_TOKEN_LOGIN_REQUIRED, 0);
	st->token_flags_add = CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_PROTECTED_AUTHENTICATION_PATH |
			      CKF_USER_PIN_TO_BE_CHANGED;
	t = eid_pkcs11_token(p11, 0);
	ck_assert_uint_eq(t->flags, EID_TOKEN_LOGIN_REQUIRED | EID_TOKEN_PIN_COUNT_LOW | EID_TOKEN_PIN_FINAL_TRY |
				    EID_TOKEN_PINPAD | EID_TOKEN_PIN_TO_BE_CHANGED);
	st->token_flags_add = CKF_USER_PIN_LOCKED;
	t = eid_pkcs11_token(p11, 0);
	ck_assert_uint_eq(t->flags, EID_TOKEN_LOGIN_REQUIRED | EID_TOKEN_PIN_LOCKED);
	eid_pkcs11_free(p11);
}
END_TEST

/* ---- eid_pkcs11_cert ---- */

START_TEST(test_pkcs11_cert__flags)
{
	eid_pkcs11 *p11;
	const eid_cert_info *c;

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	/* 9 certificates on libeid-test, 1 on libeid-ec, none on libeid-empty. */
	ck_assert_uint_eq(certs_on(p11, "libeid-test"), 9);
	ck_assert_uint_eq(certs_on(p11, "libeid-ec"), 1);
	ck_assert_uint_eq(certs_on(p11, "libeid-empty"), 0);
	ck_assert_ptr_null(eid_pkcs11_cert(p11, eid_pkcs11_cert_count(p11)));
	ck_assert_ptr_null(eid_pkcs11_cert(NULL, 0));
	ck_assert_uint_eq(eid_pkcs11_cert_count(NULL), 0);

	c = find_cert(p11, "libeid-test", "Signature");
	ck_assert(c->flags & EID_CERT_NON_REPUDIATION);
	ck_assert(!(c->flags & EID_CERT_CA));
	ck_assert_str_eq(c->id_hex, "01");
	c = find_cert(p11, "libeid-test", "Authentication");
	ck_assert_uint_eq(c->flags, EID_CERT_DIGITAL_SIGNATURE);
	ck_assert_str_eq(c->id_hex, "02");
	c = find_cert(p11, "libeid-test", "Citizen CA");
	ck_assert(c->flags & EID_CERT_CA);
	ck_assert_str_eq(c->id_hex, "a1");
	c = find_cert(p11, "libeid-test", "Root CA");
	ck_assert(c->flags & EID_CERT_CA);
	ck_assert_str_eq(c->id_hex, "a2");
	c = find_cert(p11, "libeid-test", "Expired");
	ck_assert(c->flags & EID_CERT_NON_REPUDIATION);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_cert__key_info_and_der)
{
	eid_pkcs11 *p11;
	const eid_cert_info *c;
	char *path;
	size_t len;
	unsigned char *der;

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	c = find_cert(p11, "libeid-test", "Signature");
	ck_assert_int_eq(c->key_type, EID_KEY_RSA);
	ck_assert_uint_eq(c->key_bits, 2048);
	ck_assert_ptr_nonnull(strstr(c->subject, CITIZEN_NAME));
	path = unit_pki("citizen-rsa2048.der");
	der = unit_read(path, &len);
	ck_assert_uint_eq(c->der_len, len);
	ck_assert_mem_eq(c->der, der, len);
	free(der);
	free(path);
	c = find_cert(p11, "libeid-test", "RSA3072");
	ck_assert_int_eq(c->key_type, EID_KEY_RSA);
	ck_assert_uint_eq(c->key_bits, 3072);
	c = find_cert(p11, "libeid-test", "P256");
	ck_assert_int_eq(c->key_type, EID_KEY_EC);
	ck_assert_uint_eq(c->key_bits, 256);
	c = find_cert(p11, "libeid-test", "P384");
	ck_assert_int_eq(c->key_type, EID_KEY_EC);
	ck_assert_uint_eq(c->key_bits, 384);
	c = find_cert(p11, "libeid-ec", "Signature");
	ck_assert_int_eq(c->key_type, EID_KEY_EC);
	ck_assert_str_eq(c->id_hex, "01");
	eid_pkcs11_free(p11);
}
END_TEST

/* ---- eid_signer_new_pkcs11 ---- */

START_TEST(test_pkcs11_signer_new__prefers_non_repudiation)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	s = new_signer(p11, "libeid-test", NULL, NULL, &script, 0);
	ck_assert_str_eq(eid_signer_name(s), CITIZEN_NAME);
	ck_assert(eid_cert__flags(eid_signer__cert(s)) & EID_CERT_NON_REPUDIATION);
	ck_assert_int_gt(X509_cmp_current_time(X509_get0_notAfter(eid_signer__cert(s))), 0);
	/* No PIN is asked when the signer is made. */
	ck_assert_int_eq(script.calls, 0);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_signer_new__never_expired_when_valid)
{
	static const token_item items[] = {
		{ "expired-rsa2048", "00", "Expired" },
		{ "auth-rsa2048", "01", "Authentication" },
		{ "citizen-rsa2048", "02", "Signature" },
	};
	char *dir;
	eid_pkcs11 *p11;
	eid_signer *s;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	dir = make_private_token("libeid-rank", items, 3);
	if (dir == NULL) {
		unit_skip(__func__, "softhsm2-util or pkcs11-tool not found");
		return;
	}
	p11 = open_module(module_path());
	ck_assert_uint_eq(eid_pkcs11_token_count(p11), 1);
	ck_assert_uint_eq(eid_pkcs11_cert_count(p11), 3);
	/* The expired certificate has the lowest id and nonRepudiation, and still loses. */
	s = new_signer(p11, NULL, NULL, NULL, &script, 0);
	ck_assert_str_eq(eid_signer_name(s), CITIZEN_NAME);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	eid_signer_free(s);
	/* Without the usage preference, the valid certificate with the lowest id wins. */
	s = new_signer(p11, NULL, NULL, NULL, &script, EID_SELECT_ANY_USAGE);
	ck_assert_str_eq(eid_signer_name(s), "J\xc3\xa9r\xc3\xb4me \xc3\x98ster-\xc5\x81ukasz (Authentication)");
	eid_signer_free(s);
	/* Asked for by id, the expired one is still available. */
	s = new_signer(p11, NULL, "00", NULL, &script, 0);
	ck_assert_str_eq(eid_signer_name(s), "Expired Signer");
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

/* A key with a self-signed certificate whose keyUsage is keyEncipherment only, as @dir/kenc.{key,der}. */
static void write_encryption_only(const char *dir)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	X509 *x = unit_self_signed(key, "Encryption Only", "critical,keyEncipherment");
	char *keyp = unit_join(dir, "kenc.key"), *certp = unit_join(dir, "kenc.der");
	unsigned char *der;
	size_t len;
	FILE *f = fopen(keyp, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	der = unit_cert_der(x, &len);
	unit_write(certp, der, len);
	free(der);
	free(keyp);
	free(certp);
	X509_free(x);
	EVP_PKEY_free(key);
}

START_TEST(test_pkcs11_signer_new__usage_forbids_signing)
{
	char *keydir, *base, *dir;
	token_item items[2] = { { "citizen-p256", "01", "Signature" }, { NULL, "02", "Encryption" } };
	eid_pkcs11 *p11;
	eid_pkcs11_select sel = EID_PKCS11_SELECT_INIT;
	eid_signer *s = NULL;
	int rc;

	NEED_SOFTHSM();
	keydir = unit_tmpdir();
	write_encryption_only(keydir);
	base = unit_join(keydir, "kenc");
	items[1].pki_name = base;
	dir = make_private_token("libeid-usage", items, 2);
	if (dir == NULL) {
		unit_skip(__func__, "softhsm2-util or pkcs11-tool not found");
		unit_rmtree(keydir);
		free(keydir);
		free(base);
		return;
	}
	p11 = open_module(module_path());
	ck_assert_int_eq(select_rc(p11, NULL, "02", NULL), EID_ENOKEY);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "signing certificate"));
	/* EID_SELECT_ANY_USAGE drops the preference for nonRepudiation, not the keyUsage rule. */
	sel.key_id_hex = "02";
	sel.flags = EID_SELECT_ANY_USAGE;
	rc = eid_signer_new_pkcs11(&s, p11, &sel);
	ck_assert_msg(rc == EID_ENOKEY, "a keyEncipherment-only certificate was chosen with EID_SELECT_ANY_USAGE (rc %d)", rc);
	eid_signer_free(s);
	sel.key_id_hex = NULL;
	s = new_signer(p11, NULL, NULL, NULL, NULL, EID_SELECT_ANY_USAGE);
	ck_assert_str_eq(eid_signer_name(s), "Mari Maasikas (Signature)");
	eid_signer_free(s);
	eid_pkcs11_free(p11);
	unit_rmtree(dir);
	unit_rmtree(keydir);
	free(dir);
	free(keydir);
	free(base);
}
END_TEST

START_TEST(test_pkcs11_signer_new__by_key_id)
{
	eid_pkcs11 *p11;
	eid_signer *s;

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	s = new_signer(p11, "libeid-test", "04", NULL, NULL, 0);
	ck_assert_str_eq(eid_signer_name(s), "Mari Maasikas (Signature)");
	ck_assert_int_eq(eid_signer_key_type(s), EID_KEY_EC);
	eid_signer_free(s);
	s = new_signer(p11, "libeid-test", "02", NULL, NULL, 0);
	ck_assert_str_eq(eid_signer_name(s), "J\xc3\xa9r\xc3\xb4me \xc3\x98ster-\xc5\x81ukasz (Authentication)");
	eid_signer_free(s);
	s = new_signer(p11, "libeid-test", "05", NULL, NULL, 0);
	ck_assert_uint_eq(eid_signer_key_bits(s), 384);
	eid_signer_free(s);
	s = new_signer(p11, "libeid-ec", "01", NULL, NULL, 0);
	ck_assert_str_eq(eid_signer_name(s), "Mari Maasikas (Signature)");
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_signer_new__by_cert_label)
{
	eid_pkcs11 *p11;
	eid_signer *s;

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	s = new_signer(p11, NULL, NULL, "RSA3072", NULL, 0);
	ck_assert_str_eq(eid_signer_name(s), "Anna Virtanen (Signature)");
	ck_assert_uint_eq(eid_signer_key_bits(s), 3072);
	eid_signer_free(s);
	s = new_signer(p11, "libeid-test", NULL, "Expired", NULL, 0);
	ck_assert_str_eq(eid_signer_name(s), "Expired Signer");
	eid_signer_free(s);
	/* Label and id must both match. */
	ck_assert_int_eq(select_rc(p11, "libeid-test", "03", "P256"), EID_ENOKEY);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_signer_new__unknown_token)
{
	eid_pkcs11 *p11;

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	ck_assert_int_eq(select_rc(p11, "no-such-token", NULL, NULL), EID_ENOTOKEN);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "no-such-token"));
	ck_assert_int_eq(select_rc(p11, "libeid-tes", NULL, NULL), EID_ENOTOKEN);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_signer_new__unknown_id)
{
	eid_pkcs11 *p11;

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	ck_assert_int_eq(select_rc(p11, "libeid-test", "99", NULL), EID_ENOKEY);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "99"));
	ck_assert_int_eq(select_rc(p11, NULL, "0101", NULL), EID_ENOKEY);
	ck_assert_int_eq(select_rc(p11, NULL, NULL, "No such label"), EID_ENOKEY);
	/* The CA certificates are never signers, even asked for by id. */
	ck_assert_int_eq(select_rc(p11, "libeid-test", "a1", NULL), EID_ENOKEY);
	ck_assert_int_eq(select_rc(p11, "libeid-test", "A2", NULL), EID_ENOKEY);
	/* A token without objects. */
	ck_assert_int_eq(select_rc(p11, "libeid-empty", NULL, NULL), EID_ENOKEY);
	/* Not hex at all. */
	ck_assert_int_eq(select_rc(p11, "libeid-test", "0g", NULL), EID_EINVAL);
	ck_assert_int_eq(select_rc(p11, "libeid-test", "1", NULL), EID_EINVAL);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_signer_new__bad_arguments)
{
	eid_pkcs11 *p11;
	eid_pkcs11_select sel = EID_PKCS11_SELECT_INIT;
	eid_signer *s = NULL;

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	sel.version = 2;
	ck_assert_int_eq(eid_signer_new_pkcs11(&s, p11, &sel), EID_EVERSION);
	ck_assert_ptr_null(s);
	sel.version = EID_PKCS11_SELECT_VERSION;
	ck_assert_int_eq(eid_signer_new_pkcs11(NULL, p11, &sel), EID_EINVAL);
	ck_assert_int_eq(eid_signer_new_pkcs11(&s, NULL, &sel), EID_EINVAL);
	ck_assert_int_eq(eid_signer_new_pkcs11(&s, p11, NULL), EID_EINVAL);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_signer_new__chain_from_token)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	char *path;
	size_t len, got_len;
	unsigned char *int_der;
	const unsigned char *got;

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	s = new_signer(p11, "libeid-test", "01", NULL, NULL, 0);
	path = unit_pki("int.der");
	int_der = unit_read(path, &len);
	ck_assert_uint_ge(eid_signer_chain_count(s), 1);
	ck_assert_int_eq(eid_signer_chain_cert(s, 0, &got, &got_len), EID_OK);
	ck_assert_uint_eq(got_len, len);
	ck_assert_mem_eq(got, int_der, len);
	eid_signer_free(s);
	/* libeid-ec has no CA objects. */
	s = new_signer(p11, "libeid-ec", NULL, NULL, NULL, 0);
	ck_assert_uint_eq(eid_signer_chain_count(s), 0);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
	free(int_der);
	free(path);
}
END_TEST

/* ---- p11_sign, through eid_signer_sign_digest ---- */

START_TEST(test_pkcs11_sign__rsa_pkcs1)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA384), EID_OK);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA512), EID_OK);
	ck_assert_int_eq(sign_check(s, EID_SIG_DEFAULT, EID_HASH_DEFAULT), EID_OK);
	eid_signer_free(s);
	s = new_signer(p11, "libeid-test", "03", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__rsa_pss)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PSS, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PSS, EID_HASH_SHA384), EID_OK);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PSS, EID_HASH_SHA512), EID_OK);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__ecdsa_p256)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };
	int i;

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	s = new_signer(p11, "libeid-test", "04", NULL, &script, 0);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(sign_check(s, EID_SIG_ECDSA, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(sign_check(s, EID_SIG_DEFAULT, EID_HASH_SHA256), EID_OK);
	eid_signer_free(s);
	s = new_signer(p11, "libeid-ec", NULL, NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_ECDSA, EID_HASH_SHA256), EID_OK);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__ecdsa_p384)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };
	int i;

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	s = new_signer(p11, "libeid-test", "05", NULL, &script, 0);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(sign_check(s, EID_SIG_ECDSA, EID_HASH_SHA384), EID_OK);
	ck_assert_int_eq(sign_check(s, EID_SIG_ECDSA, EID_HASH_SHA256), EID_OK);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__scheme_key_mismatch)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_ECDSA, EID_HASH_SHA256), EID_EMECHANISM);
	eid_signer_free(s);
	s = new_signer(p11, "libeid-test", "04", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PSS, EID_HASH_SHA256), EID_EMECHANISM);
	eid_signer_free(s);
	/* Refused before any PIN was asked. */
	ck_assert_int_eq(script.calls, 0);
	eid_pkcs11_free(p11);
}
END_TEST

/* ---- login, through eid_signer_sign_digest ---- */

START_TEST(test_pkcs11_sign__pin_asked_once)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(script.calls, 1);
	ck_assert_str_eq(script.token_label, "libeid-test");
	ck_assert_str_eq(script.key_label, "Signature");
	ck_assert_uint_eq(script.flags, 0);
	ck_assert(script.min_len == 0 || script.min_len <= strlen(PIN));
	ck_assert(script.max_len == 0 || script.max_len >= strlen(PIN));
	/* A second signature with the same signer does not ask again. */
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PSS, EID_HASH_SHA384), EID_OK);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA512), EID_OK);
	ck_assert_int_eq(script.calls, 1);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__logout_when_signer_freed)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(module_path());
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	eid_signer_free(s);
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(script.calls, 2);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__wrong_pin_not_retried)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	p11shim_state *st;
	pin_script script = { "000000", 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(P11SHIM_PATH);
	st = shim_state();
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_EPIN_WRONG);
	ck_assert_int_eq(eid_error_last()->code, EID_EPIN_WRONG);
	ck_assert_int_eq(script.calls, 1);
	ck_assert_uint_eq(st->login_calls, 1);
	ck_assert_uint_eq(st->last_login_user, CKU_USER);
	ck_assert_msg(strstr(eid_error_last()->message, "tries") != NULL, "no word on tries in '%s'",
		      eid_error_last()->message);
	/* The caller may try again with the right PIN. */
	script.pin = PIN;
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(script.calls, 2);
	ck_assert_uint_eq(st->login_calls, 2);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__wrong_pin_count_low)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	p11shim_state *st;
	pin_script script = { "999999", 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(P11SHIM_PATH);
	st = shim_state();
	st->token_flags_add = CKF_USER_PIN_COUNT_LOW;
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_EPIN_WRONG);
	ck_assert_int_eq(script.calls, 1);
	ck_assert(script.flags & EID_PIN_FLAG_COUNT_LOW);
	ck_assert(!(script.flags & EID_PIN_FLAG_FINAL_TRY));
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "few tries left"));
	ck_assert_uint_eq(st->login_calls, 1);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__empty_pin_not_sent)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	p11shim_state *st;
	pin_script script = { "", 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(P11SHIM_PATH);
	st = shim_state();
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_EPIN_INVALID);
	ck_assert_int_eq(script.calls, 1);
	ck_assert_uint_eq(st->login_calls, 0);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__pin_length_checked)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	p11shim_state *st;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(P11SHIM_PATH);
	st = shim_state();
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	/* An answer that fills the whole buffer is refused. */
	script.overlong = 1;
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_EPIN_INVALID);
	ck_assert_uint_eq(st->login_calls, 0);
	script.overlong = 0;
	if (script.min_len > 1) {
		/* Shorter than the token's minimum: refused without sending it. */
		script.pin = "1";
		ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_EPIN_INVALID);
		ck_assert_uint_eq(st->login_calls, 0);
	} else {
		unit_skip(__func__, "the token reports no minimum PIN length (short-PIN case)");
	}
	ck_assert_int_eq(script.calls, script.min_len > 1 ? 2 : 1);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__callback_cancels)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	p11shim_state *st;
	pin_script script = { NULL, EID_ECANCELED, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(P11SHIM_PATH);
	st = shim_state();
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_ECANCELED);
	ck_assert_int_eq(script.calls, 1);
	/* Another negative code from the callback comes back as it is. */
	script.rc = EID_EIO;
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_EIO);
	ck_assert_int_eq(script.calls, 2);
	ck_assert_uint_eq(st->login_calls, 0);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__no_callback)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	p11shim_state *st;

	NEED_SOFTHSM();
	p11 = open_module(P11SHIM_PATH);
	st = shim_state();
	s = new_signer(p11, "libeid-test", "01", NULL, NULL, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_EPIN_INVALID);
	ck_assert_uint_eq(st->login_calls, 0);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__final_try_needs_consent)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	p11shim_state *st;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(P11SHIM_PATH);
	st = shim_state();
	st->token_flags_add = CKF_USER_PIN_FINAL_TRY;
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_EPIN_FINAL_TRY);
	ck_assert_int_eq(script.calls, 0);
	ck_assert_uint_eq(st->login_calls, 0);
	eid_signer_free(s);
	s = new_signer(p11, "libeid-test", "01", NULL, &script, EID_SELECT_ALLOW_FINAL_TRY);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(script.calls, 1);
	ck_assert(script.flags & EID_PIN_FLAG_FINAL_TRY);
	ck_assert_uint_eq(st->login_calls, 1);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__locked_pin_not_sent)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	p11shim_state *st;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(P11SHIM_PATH);
	st = shim_state();
	st->token_flags_add = CKF_USER_PIN_LOCKED;
	s = new_signer(p11, "libeid-test", "01", NULL, &script, EID_SELECT_ALLOW_FINAL_TRY);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_EPIN_LOCKED);
	ck_assert_int_eq(script.calls, 0);
	ck_assert_uint_eq(st->login_calls, 0);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__pinpad)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	p11shim_state *st;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(P11SHIM_PATH);
	st = shim_state();
	st->token_flags_add = CKF_PROTECTED_AUTHENTICATION_PATH;
	eid_log_set_level(EID_LOG_ERROR); /* no "enter the PIN on the pinpad" line in the test log */
	snprintf(st->pinpad_pin, sizeof(st->pinpad_pin), "%s", PIN);
	s = new_signer(p11, "libeid-test", "01", NULL, &script, 0);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(script.calls, 0);
	ck_assert_uint_eq(st->login_calls, 1);
	ck_assert_uint_eq(st->login_null_pin_calls, 1);
	eid_signer_free(s);
	/* EID_SELECT_NO_PINPAD asks the callback anyway. */
	s = new_signer(p11, "libeid-test", "01", NULL, &script, EID_SELECT_NO_PINPAD);
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(script.calls, 1);
	ck_assert_uint_eq(st->login_calls, 2);
	ck_assert_uint_eq(st->login_null_pin_calls, 1);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

START_TEST(test_pkcs11_sign__always_authenticate)
{
	eid_pkcs11 *p11;
	eid_signer *s;
	p11shim_state *st;
	pin_script script = { PIN, 0, 0, 0, 0, 0, 0, "", "" };

	NEED_SOFTHSM();
	p11 = open_module(P11SHIM_PATH);
	st = shim_state();
	if (!has_token(p11, "libeid-always")) {
		unit_skip(__func__, "no token libeid-always (CKA_ALWAYS_AUTHENTICATE key) in this fixture");
		eid_pkcs11_free(p11);
		return;
	}
	s = new_signer(p11, "libeid-always", NULL, NULL, &script, 0);
	/* First signature: the user login, then the context-specific one. */
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(script.calls, 2);
	ck_assert(script.flags & EID_PIN_FLAG_CONTEXT);
	ck_assert_uint_eq(st->login_calls, 2);
	ck_assert_uint_eq(st->last_login_user, CKU_CONTEXT_SPECIFIC);
	/* Every further signature asks once, for the context login only. */
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PSS, EID_HASH_SHA256), EID_OK);
	ck_assert_int_eq(script.calls, 3);
	ck_assert(script.flags & EID_PIN_FLAG_CONTEXT);
	ck_assert_uint_eq(st->login_calls, 3);
	/* A wrong context PIN fails that signature, without a retry. */
	script.pin = "000000";
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_EPIN_WRONG);
	ck_assert_int_eq(script.calls, 4);
	ck_assert_uint_eq(st->login_calls, 4);
	/* ... and the signer stays usable. */
	script.pin = PIN;
	ck_assert_int_eq(sign_check(s, EID_SIG_RSA_PKCS1, EID_HASH_SHA256), EID_OK);
	eid_signer_free(s);
	eid_pkcs11_free(p11);
}
END_TEST

static Suite *pkcs11_suite(void)
{
	Suite *s = suite_create("pkcs11");
	TCase *tc;

	tc = tcase_create("eid_pkcs11_open");
	tcase_add_test(tc, test_pkcs11_open__lists_tokens);
	tcase_add_test(tc, test_pkcs11_open__skips_uninitialised_slots);
	tcase_add_test(tc, test_pkcs11_open__missing_module);
	tcase_add_test(tc, test_pkcs11_open__not_a_module);
	tcase_add_test(tc, test_pkcs11_open__library_without_pkcs11);
	tcase_add_test(tc, test_pkcs11_open__module_from_environment);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_pkcs11_free");
	tcase_add_test(tc, test_pkcs11_free__signer_keeps_module);
	tcase_add_test(tc, test_pkcs11_free__module_finalised_once);
	tcase_add_test(tc, test_pkcs11_free__second_handle_survives);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_pkcs11_token");
	tcase_add_test(tc, test_pkcs11_token__flags_refreshed);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_pkcs11_cert");
	tcase_add_test(tc, test_pkcs11_cert__flags);
	tcase_add_test(tc, test_pkcs11_cert__key_info_and_der);
	suite_add_tcase(s, tc);

	tc = tcase_create("eid_signer_new_pkcs11");
	tcase_set_timeout(tc, 120); /* one case makes a private token */
	tcase_add_test(tc, test_pkcs11_signer_new__prefers_non_repudiation);
	tcase_add_test(tc, test_pkcs11_signer_new__never_expired_when_valid);
	tcase_add_test(tc, test_pkcs11_signer_new__usage_forbids_signing);
	tcase_add_test(tc, test_pkcs11_signer_new__by_key_id);
	tcase_add_test(tc, test_pkcs11_signer_new__by_cert_label);
	tcase_add_test(tc, test_pkcs11_signer_new__unknown_token);
	tcase_add_test(tc, test_pkcs11_signer_new__unknown_id);
	tcase_add_test(tc, test_pkcs11_signer_new__bad_arguments);
	tcase_add_test(tc, test_pkcs11_signer_new__chain_from_token);
	suite_add_tcase(s, tc);

	tc = tcase_create("p11_sign");
	tcase_add_test(tc, test_pkcs11_sign__rsa_pkcs1);
	tcase_add_test(tc, test_pkcs11_sign__rsa_pss);
	tcase_add_test(tc, test_pkcs11_sign__ecdsa_p256);
	tcase_add_test(tc, test_pkcs11_sign__ecdsa_p384);
	tcase_add_test(tc, test_pkcs11_sign__scheme_key_mismatch);
	suite_add_tcase(s, tc);

	tc = tcase_create("login");
	tcase_add_test(tc, test_pkcs11_sign__pin_asked_once);
	tcase_add_test(tc, test_pkcs11_sign__logout_when_signer_freed);
	tcase_add_test(tc, test_pkcs11_sign__wrong_pin_not_retried);
	tcase_add_test(tc, test_pkcs11_sign__wrong_pin_count_low);
	tcase_add_test(tc, test_pkcs11_sign__empty_pin_not_sent);
	tcase_add_test(tc, test_pkcs11_sign__pin_length_checked);
	tcase_add_test(tc, test_pkcs11_sign__callback_cancels);
	tcase_add_test(tc, test_pkcs11_sign__no_callback);
	tcase_add_test(tc, test_pkcs11_sign__final_try_needs_consent);
	tcase_add_test(tc, test_pkcs11_sign__locked_pin_not_sent);
	tcase_add_test(tc, test_pkcs11_sign__pinpad);
	tcase_add_test(tc, test_pkcs11_sign__always_authenticate);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	char *hsm = unit_private_softhsm();
	int rc = unit_run(pkcs11_suite());

	unit_rmtree(hsm);
	free(hsm);
	return rc;
}
