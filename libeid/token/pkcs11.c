/*
 * Keys on PKCS#11 tokens, through the module's function list.
 *
 * The library speaks PKCS#11 itself rather than through libp11, because the
 * PIN rules need what libp11 hides: libp11 keeps a copy of the PIN for
 * re-login, re-sends it for CKA_ALWAYS_AUTHENTICATE keys, pads RSA-PSS on the
 * host (CKM_RSA_X_509, which cards rarely allow) and folds CKR codes into
 * OpenSSL's error queue.  See spec/architecture.md.
 *
 * Hashing stays on the host: RSA PKCS#1 v1.5 signs a DigestInfo with
 * CKM_RSA_PKCS, RSA-PSS uses CKM_RSA_PKCS_PSS over the digest, ECDSA uses
 * CKM_ECDSA over the digest and returns r||s.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <p11-kit/pkcs11.h>

#include "token.h"

#define P11_PIN_MAX 256

typedef struct p11_token {
	CK_SLOT_ID slot;
	char desc[65];
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	CK_ULONG min_pin, max_pin;
	eid_token_info info;
} p11_token;

typedef struct p11_cert {
	X509 *x509;
	unsigned char *id;
	size_t id_len;
	char *label;
	char *id_hex;
	char *subject;
	unsigned char *der;
	eid_cert_info info;
} p11_cert;

/*
 * A loaded module, shared process-wide: PKCS#11 initialisation is per
 * process, so two eid_pkcs11 handles on one module share one C_Initialize,
 * and C_Finalize runs only when the last of them is released (and only when
 * libeid initialised the module itself).
 */
typedef struct p11_module {
	struct p11_module *next;
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	int refs;
	int finalize;
} p11_module;

static p11_module *modules;
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;

static void module_release(p11_module *m);

typedef struct p11_keyobj {
	unsigned char *id;
	size_t id_len;
	char *label;
	char *id_hex;
	eid_key_info info;
} p11_keyobj;

struct eid_pkcs11 {
	int refs;
	char *path;
	p11_module *mod;
	CK_FUNCTION_LIST_PTR f;
	p11_token *tokens;
	size_t ntokens;
	p11_cert *certs;
	size_t ncerts;
	p11_keyobj *keys;
	size_t nkeys;
};

/* A key on a token, the impl of a PKCS#11 signer. */
typedef struct p11_key {
	eid_pkcs11 *p11;
	size_t token;
	CK_SESSION_HANDLE session;
	int have_session;
	int logged_in;
	unsigned char *id;
	size_t id_len;
	char *label;
	eid_pin_cb pin_cb;
	void *pin_userdata;
	unsigned int flags;
} p11_key;

static const struct {
	CK_RV rv;
	const char *name;
} ckr_names[] = {
	{ CKR_OK, "CKR_OK" },
	{ CKR_CANCEL, "CKR_CANCEL" },
	{ CKR_HOST_MEMORY, "CKR_HOST_MEMORY" },
	{ CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID" },
	{ CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR" },
	{ CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED" },
	{ CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD" },
	{ CKR_CANT_LOCK, "CKR_CANT_LOCK" },
	{ CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID" },
	{ CKR_DATA_INVALID, "CKR_DATA_INVALID" },
	{ CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE" },
	{ CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR" },
	{ CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY" },
	{ CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED" },
	{ CKR_FUNCTION_CANCELED, "CKR_FUNCTION_CANCELED" },
	{ CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED" },
	{ CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID" },
	{ CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT" },
	{ CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED" },
	{ CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID" },
	{ CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID" },
	{ CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID" },
	{ CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE" },
	{ CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED" },
	{ CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT" },
	{ CKR_PIN_INVALID, "CKR_PIN_INVALID" },
	{ CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE" },
	{ CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED" },
	{ CKR_PIN_LOCKED, "CKR_PIN_LOCKED" },
	{ CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED" },
	{ CKR_SESSION_COUNT, "CKR_SESSION_COUNT" },
	{ CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID" },
	{ CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT" },
	{ CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED" },
	{ CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN" },
	{ CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN" },
	{ CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED" },
	{ CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID" },
	{ CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "CKR_USER_ANOTHER_ALREADY_LOGGED_IN" },
	{ CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL" },
	{ CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED" },
	{ CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED" },
};

/* Name of a CKR code, for error details ("CKR_PIN_INCORRECT"). */
const char *eid_pkcs11__rv_name(unsigned long rv);
const char *eid_pkcs11__rv_name(unsigned long rv)
{
	static _Thread_local char unknown[32];
	size_t i;

	for (i = 0; i < EID_ARRAY_SIZE(ckr_names); i++)
		if (ckr_names[i].rv == rv)
			return ckr_names[i].name;
	snprintf(unknown, sizeof(unknown), "CKR_0x%08lx", rv);
	return unknown;
}

static void copy_padded(char *dst, const CK_UTF8CHAR *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
	while (len > 0 && (dst[len - 1] == ' ' || dst[len - 1] == '\0'))
		dst[--len] = '\0';
}

static unsigned int token_flags(CK_FLAGS f)
{
	unsigned int flags = 0;

	if (f & CKF_LOGIN_REQUIRED)
		flags |= EID_TOKEN_LOGIN_REQUIRED;
	if (f & CKF_PROTECTED_AUTHENTICATION_PATH)
		flags |= EID_TOKEN_PINPAD;
	if (f & CKF_USER_PIN_COUNT_LOW)
		flags |= EID_TOKEN_PIN_COUNT_LOW;
	if (f & CKF_USER_PIN_FINAL_TRY)
		flags |= EID_TOKEN_PIN_FINAL_TRY;
	if (f & CKF_USER_PIN_LOCKED)
		flags |= EID_TOKEN_PIN_LOCKED;
	if (f & CKF_USER_PIN_TO_BE_CHANGED)
		flags |= EID_TOKEN_PIN_TO_BE_CHANGED;
	return flags;
}

/* Re-read a token's flags; returns the CKR. */
static CK_RV refresh_token(eid_pkcs11 *p11, p11_token *t)
{
	CK_TOKEN_INFO ti;
	CK_RV rv = p11->f->C_GetTokenInfo(t->slot, &ti);

	if (rv == CKR_OK) {
		t->info.flags = token_flags(ti.flags);
		t->min_pin = ti.ulMinPinLen;
		t->max_pin = ti.ulMaxPinLen;
	}
	return rv;
}

static int read_attr(eid_pkcs11 *p11, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
		     unsigned char **out, size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	*out = NULL;
	*len = 0;
	rv = p11->f->C_GetAttributeValue(s, o, &a, 1);
	if (rv != CKR_OK || a.ulValueLen == (CK_ULONG)-1)
		return EID_ENOTFOUND;
	if (a.ulValueLen > 64 * 1024)
		return eid_error__set(EID_ETOOBIG, "a PKCS#11 attribute of %lu bytes", a.ulValueLen);
	a.pValue = malloc(a.ulValueLen + 1);
	if (a.pValue == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	rv = p11->f->C_GetAttributeValue(s, o, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		return EID_ENOTFOUND;
	}
	((unsigned char *)a.pValue)[a.ulValueLen] = 0;
	*out = a.pValue;
	*len = a.ulValueLen;
	return EID_OK;
}

static void free_cert(p11_cert *c)
{
	X509_free(c->x509);
	free(c->id);
	free(c->label);
	free(c->id_hex);
	free(c->subject);
	free(c->der);
}

static int add_cert(eid_pkcs11 *p11, size_t ti, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
	p11_cert c, *grown;
	size_t len, label_len;
	int rc;

	memset(&c, 0, sizeof(c));
	if (read_attr(p11, s, o, CKA_VALUE, &c.der, &len) < 0 || eid_cert__parse(c.der, len, &c.x509) < 0) {
		EID_LOG_W("token '%s': skipping a certificate object that cannot be read", p11->tokens[ti].label);
		free(c.der);
		eid_error_clear();
		return EID_OK;
	}
	read_attr(p11, s, o, CKA_ID, &c.id, &c.id_len);
	read_attr(p11, s, o, CKA_LABEL, (unsigned char **)&c.label, &label_len);
	c.id_hex = eid_hex__encode(c.id ? c.id : (const unsigned char *)"", c.id_len);
	c.subject = eid_cert__name(X509_get_subject_name(c.x509));
	if (c.label == NULL)
		c.label = strdup("");
	if (c.id_hex == NULL || c.subject == NULL || c.label == NULL) {
		free_cert(&c);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	c.info.token_index = ti;
	c.info.label = c.label;
	c.info.id_hex = c.id_hex;
	c.info.subject = c.subject;
	c.info.der = c.der;
	c.info.der_len = len;
	c.info.flags = eid_cert__flags(c.x509);
	if ((rc = eid_cert__key_info(c.x509, &c.info.key_type, &c.info.key_bits)) < 0)
		eid_error_clear(); /* listed, but never chosen for signing */
	grown = realloc(p11->certs, (p11->ncerts + 1) * sizeof(*grown));
	if (grown == NULL) {
		free_cert(&c);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	p11->certs = grown;
	p11->certs[p11->ncerts++] = c;
	return EID_OK;
}

static unsigned int key_bits(eid_pkcs11 *p11, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_KEY_TYPE type)
{
	CK_ULONG bits = 0;
	CK_ATTRIBUTE a = { CKA_MODULUS_BITS, &bits, sizeof(bits) };
	unsigned char *params = NULL, *modulus = NULL;
	size_t len = 0;
	unsigned int result = 0;

	if (type == CKK_RSA) {
		if (p11->f->C_GetAttributeValue(s, o, &a, 1) == CKR_OK)
			return (unsigned int)bits;
		/* private key objects may carry only the modulus */
		if (read_attr(p11, s, o, CKA_MODULUS, &modulus, &len) == EID_OK)
			result = (unsigned int)(len * 8);
		free(modulus);
		return result;
	}
	if (type == CKK_EC && read_attr(p11, s, o, CKA_EC_PARAMS, &params, &len) == EID_OK) {
		const unsigned char *p = params;
		ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &p, (long)len);
		EC_GROUP *g = oid ? EC_GROUP_new_by_curve_name(OBJ_obj2nid(oid)) : NULL;

		if (g != NULL)
			result = (unsigned int)EC_GROUP_get_degree(g);
		EC_GROUP_free(g);
		ASN1_OBJECT_free(oid);
		ERR_clear_error();
	}
	free(params);
	return result;
}

static void free_keyobj(p11_keyobj *k)
{
	free(k->id);
	free(k->label);
	free(k->id_hex);
}

/* A key object seen without login; public and private objects of one CKA_ID make one key. */
static int add_key(eid_pkcs11 *p11, size_t ti, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, int is_private)
{
	CK_KEY_TYPE type = (CK_KEY_TYPE)-1;
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, &type, sizeof(type) };
	p11_keyobj k, *grown;
	size_t i, label_len;

	memset(&k, 0, sizeof(k));
	read_attr(p11, s, o, CKA_ID, &k.id, &k.id_len);
	for (i = 0; i < p11->nkeys; i++) {
		p11_keyobj *e = &p11->keys[i];

		if (e->info.token_index == ti && e->id_len == k.id_len && (k.id_len == 0 || memcmp(e->id, k.id, k.id_len) == 0)) {
			if (is_private)
				e->info.flags |= EID_KEYOBJ_PRIVATE;
			free(k.id);
			return EID_OK;
		}
	}
	p11->f->C_GetAttributeValue(s, o, &a, 1);
	read_attr(p11, s, o, CKA_LABEL, (unsigned char **)&k.label, &label_len);
	if (k.label == NULL)
		k.label = strdup("");
	k.id_hex = eid_hex__encode(k.id ? k.id : (const unsigned char *)"", k.id_len);
	if (k.label == NULL || k.id_hex == NULL) {
		free_keyobj(&k);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	k.info.token_index = ti;
	k.info.label = k.label;
	k.info.id_hex = k.id_hex;
	k.info.key_type = type == CKK_RSA ? EID_KEY_RSA : type == CKK_EC ? EID_KEY_EC : EID_KEY_UNKNOWN;
	k.info.key_bits = key_bits(p11, s, o, type);
	k.info.flags = is_private ? EID_KEYOBJ_PRIVATE : 0;
	grown = realloc(p11->keys, (p11->nkeys + 1) * sizeof(*grown));
	if (grown == NULL) {
		free_keyobj(&k);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	p11->keys = grown;
	p11->keys[p11->nkeys++] = k;
	return EID_OK;
}

/* Visit the objects of @cls on token @ti that can be seen without login. */
static int scan_objects(eid_pkcs11 *p11, size_t ti, CK_OBJECT_CLASS cls)
{
	CK_CERTIFICATE_TYPE ctype = CKC_X_509;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_CERTIFICATE_TYPE, &ctype, sizeof(ctype) } };
	CK_OBJECT_HANDLE objs[32];
	CK_ULONG n, i;
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int rc = EID_OK;

	rv = p11->f->C_OpenSession(p11->tokens[ti].slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK) {
		EID_LOG_W("token '%s': cannot open a session (%s)", p11->tokens[ti].label, eid_pkcs11__rv_name(rv));
		return EID_OK;
	}
	rv = p11->f->C_FindObjectsInit(s, tmpl, cls == CKO_CERTIFICATE ? 2 : 1);
	while (rv == CKR_OK && rc == EID_OK) {
		rv = p11->f->C_FindObjects(s, objs, EID_ARRAY_SIZE(objs), &n);
		if (rv != CKR_OK || n == 0)
			break;
		for (i = 0; i < n && rc == EID_OK; i++)
			rc = cls == CKO_CERTIFICATE ? add_cert(p11, ti, s, objs[i])
						    : add_key(p11, ti, s, objs[i], cls == CKO_PRIVATE_KEY);
		if (p11->ncerts > 4096 || p11->nkeys > 4096)
			rc = eid_error__set(EID_ETOOBIG, "too many objects on the tokens");
	}
	p11->f->C_FindObjectsFinal(s);
	p11->f->C_CloseSession(s);
	return rc;
}

static int scan_tokens(eid_pkcs11 *p11)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, i;
	CK_RV rv;
	int rc = EID_OK;

	rv = p11->f->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv == CKR_OK && n > 0) {
		if (n > 256)
			return eid_error__set(EID_ETOOBIG, "the module reports %lu slots", n);
		slots = calloc(n, sizeof(*slots));
		p11->tokens = calloc(n, sizeof(*p11->tokens));
		if (slots == NULL || p11->tokens == NULL) {
			free(slots);
			return eid_error__set(EID_ENOMEM, NULL);
		}
		rv = p11->f->C_GetSlotList(CK_TRUE, slots, &n);
	}
	if (rv != CKR_OK) {
		free(slots);
		return eid_error__set(EID_EMODULE, "%s: C_GetSlotList failed (%s)", p11->path, eid_pkcs11__rv_name(rv));
	}
	for (i = 0; i < n; i++) {
		p11_token *t = &p11->tokens[p11->ntokens];
		CK_SLOT_INFO si;
		CK_TOKEN_INFO ti;

		if (p11->f->C_GetSlotInfo(slots[i], &si) != CKR_OK || p11->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (!(ti.flags & CKF_TOKEN_INITIALIZED))
			continue; /* e.g. the free slot SoftHSM keeps for a new token */
		t->slot = slots[i];
		copy_padded(t->desc, si.slotDescription, sizeof(si.slotDescription));
		copy_padded(t->label, ti.label, sizeof(ti.label));
		copy_padded(t->manufacturer, ti.manufacturerID, sizeof(ti.manufacturerID));
		copy_padded(t->model, ti.model, sizeof(ti.model));
		copy_padded(t->serial, ti.serialNumber, sizeof(ti.serialNumber));
		t->min_pin = ti.ulMinPinLen;
		t->max_pin = ti.ulMaxPinLen;
		t->info.slot_id = slots[i];
		t->info.slot_description = t->desc;
		t->info.label = t->label;
		t->info.manufacturer = t->manufacturer;
		t->info.model = t->model;
		t->info.serial = t->serial;
		t->info.flags = token_flags(ti.flags);
		p11->ntokens++;
		EID_LOG_D("slot %lu: token '%s' (%s)", (unsigned long)slots[i], t->label, t->model);
	}
	free(slots);
	for (i = 0; i < p11->ntokens && rc == EID_OK; i++)
		if ((rc = scan_objects(p11, i, CKO_CERTIFICATE)) == EID_OK &&
		    (rc = scan_objects(p11, i, CKO_PRIVATE_KEY)) == EID_OK)
			rc = scan_objects(p11, i, CKO_PUBLIC_KEY);
	/* Which keys have a certificate. */
	for (i = 0; i < p11->nkeys; i++) {
		size_t c;

		for (c = 0; c < p11->ncerts; c++)
			if (p11->certs[c].info.token_index == p11->keys[i].info.token_index &&
			    p11->certs[c].id_len == p11->keys[i].id_len &&
			    memcmp(p11->certs[c].id ? p11->certs[c].id : (unsigned char *)"",
				   p11->keys[i].id ? p11->keys[i].id : (unsigned char *)"", p11->keys[i].id_len) == 0)
				p11->keys[i].info.flags |= EID_KEYOBJ_HAS_CERT;
	}
	return rc;
}

static void p11_release(eid_pkcs11 *p11)
{
	size_t i;

	if (p11 == NULL || --p11->refs > 0)
		return;
	for (i = 0; i < p11->ncerts; i++)
		free_cert(&p11->certs[i]);
	free(p11->certs);
	for (i = 0; i < p11->nkeys; i++)
		free_keyobj(&p11->keys[i]);
	free(p11->keys);
	free(p11->tokens);
	if (p11->mod != NULL)
		module_release(p11->mod);
	free(p11->path);
	free(p11);
}

static void module_release(p11_module *m)
{
	p11_module **pp;

	pthread_mutex_lock(&modules_lock);
	if (--m->refs == 0) {
		for (pp = &modules; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == m) {
				*pp = m->next;
				break;
			}
		}
		if (m->finalize)
			m->f->C_Finalize(NULL);
		dlclose(m->dl);
		free(m);
	}
	pthread_mutex_unlock(&modules_lock);
}

/* Load and initialise @path, or share it when this process has it already. */
static int load_module(eid_pkcs11 *p11, const char *path)
{
	CK_C_GetFunctionList get_list;
	CK_FUNCTION_LIST_PTR f = NULL;
	CK_C_INITIALIZE_ARGS args;
	p11_module *m;
	void *dl;
	CK_RV rv;
	int rc = EID_OK;

	p11->path = strdup(path);
	if (p11->path == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL)
		return eid_error__set(EID_EMODULE, "cannot load PKCS#11 module '%s': %s", path, dlerror());
	*(void **)(&get_list) = dlsym(dl, "C_GetFunctionList");
	if (get_list == NULL) {
		dlclose(dl);
		return eid_error__set(EID_EMODULE, "'%s' is not a PKCS#11 module (no C_GetFunctionList)", path);
	}
	rv = get_list(&f);
	if (rv != CKR_OK || f == NULL) {
		dlclose(dl);
		return eid_error__set(EID_EMODULE, "%s: C_GetFunctionList failed (%s)", path, eid_pkcs11__rv_name(rv));
	}
	pthread_mutex_lock(&modules_lock);
	for (m = modules; m != NULL && m->f != f; m = m->next)
		;
	if (m != NULL) {
		m->refs++;
		dlclose(dl); /* the registry holds its own dlopen reference */
	} else {
		memset(&args, 0, sizeof(args));
		args.flags = CKF_OS_LOCKING_OK;
		rv = f->C_Initialize(&args);
		m = calloc(1, sizeof(*m));
		if (m == NULL) {
			if (rv == CKR_OK)
				f->C_Finalize(NULL);
			rc = eid_error__set(EID_ENOMEM, NULL);
		} else if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			free(m);
			m = NULL;
			rc = eid_error__set(EID_EMODULE, "%s: C_Initialize failed (%s)", path, eid_pkcs11__rv_name(rv));
		} else {
			/* Already initialised by someone else in the process: never finalise it. */
			m->finalize = (rv == CKR_OK);
			m->dl = dl;
			m->f = f;
			m->refs = 1;
			m->next = modules;
			modules = m;
		}
		if (m == NULL)
			dlclose(dl);
	}
	pthread_mutex_unlock(&modules_lock);
	if (rc == EID_OK) {
		p11->mod = m;
		p11->f = f;
	}
	return rc;
}

EID_EXTERN int eid_pkcs11_open(eid_pkcs11 **out, const char *module)
{
	eid_pkcs11 *p11;
	int rc;

	if (out == NULL)
		return eid_error__set(EID_EINVAL, "eid_pkcs11_open: NULL argument");
	*out = NULL;
	p11 = calloc(1, sizeof(*p11));
	if (p11 == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	p11->refs = 1;
	if (module == NULL)
		module = getenv("EID_PKCS11_MODULE");
	if (module != NULL && module[0] != '\0') {
		rc = load_module(p11, module);
	} else {
		rc = load_module(p11, EID_DEFAULT_PKCS11_MODULE);
		if (rc == EID_EMODULE && p11->mod == NULL) {
			free(p11->path);
			p11->path = NULL;
			EID_LOG_I("%s; trying %s", eid_error_last()->message, EID_FALLBACK_PKCS11_MODULE);
			rc = load_module(p11, EID_FALLBACK_PKCS11_MODULE);
		}
	}
	if (rc == EID_OK)
		rc = scan_tokens(p11);
	if (rc < 0) {
		p11_release(p11);
		return rc;
	}
	*out = p11;
	return EID_OK;
}

EID_EXTERN void eid_pkcs11_free(eid_pkcs11 *p11)
{
	p11_release(p11);
}

EID_EXTERN const char *eid_pkcs11_module_path(const eid_pkcs11 *p11)
{
	return p11 ? p11->path : NULL;
}

EID_EXTERN size_t eid_pkcs11_token_count(const eid_pkcs11 *p11)
{
	return p11 ? p11->ntokens : 0;
}

EID_EXTERN const eid_token_info *eid_pkcs11_token(eid_pkcs11 *p11, size_t i)
{
	if (p11 == NULL || i >= p11->ntokens)
		return NULL;
	refresh_token(p11, &p11->tokens[i]);
	return &p11->tokens[i].info;
}

EID_EXTERN size_t eid_pkcs11_cert_count(const eid_pkcs11 *p11)
{
	return p11 ? p11->ncerts : 0;
}

EID_EXTERN size_t eid_pkcs11_key_count(const eid_pkcs11 *p11)
{
	return p11 ? p11->nkeys : 0;
}

EID_EXTERN const eid_key_info *eid_pkcs11_key(const eid_pkcs11 *p11, size_t i)
{
	if (p11 == NULL || i >= p11->nkeys)
		return NULL;
	return &p11->keys[i].info;
}

EID_EXTERN const eid_cert_info *eid_pkcs11_cert(const eid_pkcs11 *p11, size_t i)
{
	if (p11 == NULL || i >= p11->ncerts)
		return NULL;
	return &p11->certs[i].info;
}

/* ---- login and signing ---- */

static const char *tries_text(unsigned int flags)
{
	if (flags & EID_TOKEN_PIN_LOCKED)
		return "the PIN is now blocked";
	if (flags & EID_TOKEN_PIN_FINAL_TRY)
		return "one try left: a wrong PIN next time blocks it";
	if (flags & EID_TOKEN_PIN_COUNT_LOW)
		return "few tries left";
	return "the token does not report tries left";
}

static int login(p11_key *k, CK_USER_TYPE who)
{
	eid_pkcs11 *p11 = k->p11;
	p11_token *t = &p11->tokens[k->token];
	eid_pin_request req;
	char pin[P11_PIN_MAX];
	int n;
	CK_RV rv;

	rv = refresh_token(p11, t);
	if (rv != CKR_OK)
		return eid_error__set(rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED ? EID_ETOKEN_REMOVED : EID_ETOKEN,
				      "token '%s': C_GetTokenInfo failed (%s)", t->label, eid_pkcs11__rv_name(rv));
	if (t->info.flags & EID_TOKEN_PIN_LOCKED)
		return eid_error__set(EID_EPIN_LOCKED, "the PIN of token '%s' is blocked; nothing was sent", t->label);
	if ((t->info.flags & EID_TOKEN_PIN_FINAL_TRY) && !(k->flags & EID_SELECT_ALLOW_FINAL_TRY))
		return eid_error__set(EID_EPIN_FINAL_TRY,
				      "token '%s' has one PIN try left; not sending a PIN unless the final try is allowed explicitly",
				      t->label);
	if ((t->info.flags & EID_TOKEN_PINPAD) && !(k->flags & EID_SELECT_NO_PINPAD)) {
		EID_LOG_W("enter the PIN for '%s' on the reader's pinpad", t->label);
		rv = p11->f->C_Login(k->session, who, NULL, 0);
	} else {
		if (k->pin_cb == NULL)
			return eid_error__set(EID_EPIN_INVALID, "token '%s' needs a PIN and none was given", t->label);
		memset(&req, 0, sizeof(req));
		req.token_label = t->label;
		req.key_label = k->label;
		req.flags = (t->info.flags & EID_TOKEN_PIN_COUNT_LOW ? EID_PIN_FLAG_COUNT_LOW : 0) |
			    (t->info.flags & EID_TOKEN_PIN_FINAL_TRY ? EID_PIN_FLAG_FINAL_TRY : 0) |
			    (who == CKU_CONTEXT_SPECIFIC ? EID_PIN_FLAG_CONTEXT : 0);
		if (t->min_pin > 0 && t->min_pin < P11_PIN_MAX)
			req.min_len = t->min_pin;
		if (t->max_pin > 0 && t->max_pin < P11_PIN_MAX)
			req.max_len = t->max_pin;
		n = k->pin_cb(pin, sizeof(pin), &req, k->pin_userdata);
		if (n < 0) {
			eid_memzero(pin, sizeof(pin));
			return eid_error__set(n == EID_ECANCELED ? EID_ECANCELED : n,
					      "no PIN for token '%s': %s", t->label, eid_strerror(n));
		}
		if (n == 0 || (size_t)n >= sizeof(pin)) {
			eid_memzero(pin, sizeof(pin));
			return eid_error__set(EID_EPIN_INVALID, "%s PIN refused; nothing was sent to token '%s'",
					      n == 0 ? "an empty" : "an over-long", t->label);
		}
		if ((req.min_len && (size_t)n < req.min_len) || (req.max_len && (size_t)n > req.max_len)) {
			eid_memzero(pin, sizeof(pin));
			return eid_error__set(EID_EPIN_INVALID,
					      "token '%s' takes a PIN of %zu to %zu characters; nothing was sent",
					      t->label, req.min_len, req.max_len);
		}
		rv = p11->f->C_Login(k->session, who, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)n);
		eid_memzero(pin, sizeof(pin));
	}
	if (rv == CKR_OK || (rv == CKR_USER_ALREADY_LOGGED_IN && who == CKU_USER)) {
		if (who == CKU_USER)
			k->logged_in = (rv == CKR_OK);
		return EID_OK;
	}
	refresh_token(p11, t);
	switch (rv) {
	case CKR_PIN_INCORRECT:
		return eid_error__set((t->info.flags & EID_TOKEN_PIN_LOCKED) ? EID_EPIN_LOCKED : EID_EPIN_WRONG,
				      "wrong PIN for token '%s' (CKR_PIN_INCORRECT); %s", t->label,
				      tries_text(t->info.flags));
	case CKR_PIN_LOCKED:
		return eid_error__set(EID_EPIN_LOCKED, "the PIN of token '%s' is blocked (CKR_PIN_LOCKED)", t->label);
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_INVALID:
		return eid_error__set(EID_EPIN_INVALID, "token '%s' refused the PIN's form (%s)", t->label,
				      eid_pkcs11__rv_name(rv));
	case CKR_FUNCTION_CANCELED:
	case CKR_CANCEL:
		return eid_error__set(EID_ECANCELED, "PIN entry on token '%s' was cancelled", t->label);
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
		return eid_error__set(EID_ETOKEN_REMOVED, "token '%s' was removed", t->label);
	default:
		return eid_error__set(EID_ETOKEN, "login to token '%s' failed (%s)", t->label, eid_pkcs11__rv_name(rv));
	}
}

static void close_session(p11_key *k)
{
	if (!k->have_session)
		return;
	if (k->logged_in)
		k->p11->f->C_Logout(k->session);
	k->p11->f->C_CloseSession(k->session);
	k->have_session = 0;
	k->logged_in = 0;
}

static int find_key(p11_key *k, CK_OBJECT_HANDLE *key, int *always_auth)
{
	eid_pkcs11 *p11 = k->p11;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, k->id, k->id_len } };
	CK_BBOOL aa = CK_FALSE;
	CK_ATTRIBUTE aa_attr = { CKA_ALWAYS_AUTHENTICATE, &aa, sizeof(aa) };
	CK_ULONG n = 0;
	CK_RV rv;

	rv = p11->f->C_FindObjectsInit(k->session, tmpl, EID_ARRAY_SIZE(tmpl));
	if (rv == CKR_OK) {
		rv = p11->f->C_FindObjects(k->session, key, 1, &n);
		p11->f->C_FindObjectsFinal(k->session);
	}
	if (rv != CKR_OK)
		return eid_error__set(EID_ETOKEN, "cannot search token '%s' (%s)", p11->tokens[k->token].label,
				      eid_pkcs11__rv_name(rv));
	if (n == 0)
		return eid_error__set(EID_ENOKEY, "token '%s' has no private key for certificate '%s'",
				      p11->tokens[k->token].label, k->label ? k->label : "");
	*always_auth = p11->f->C_GetAttributeValue(k->session, *key, &aa_attr, 1) == CKR_OK && aa == CK_TRUE;
	return EID_OK;
}

static int check_mechanism(p11_key *k, CK_MECHANISM_TYPE mech, const char *name)
{
	CK_MECHANISM_INFO mi;
	CK_RV rv = k->p11->f->C_GetMechanismInfo(k->p11->tokens[k->token].slot, mech, &mi);

	if (rv == CKR_MECHANISM_INVALID || (rv == CKR_OK && !(mi.flags & CKF_SIGN)))
		return eid_error__set(EID_EMECHANISM, "token '%s' cannot sign with %s",
				      k->p11->tokens[k->token].label, name);
	return EID_OK; /* other answers: let C_SignInit decide */
}

static int p11_sign(void *impl, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest,
		    size_t digest_len, eid_buf *out)
{
	static const CK_MECHANISM_TYPE pss_hash[] = { 0, CKM_SHA256, CKM_SHA384, CKM_SHA512 };
	static const CK_RSA_PKCS_MGF_TYPE pss_mgf[] = { 0, CKG_MGF1_SHA256, CKG_MGF1_SHA384, CKG_MGF1_SHA512 };
	p11_key *k = impl;
	eid_pkcs11 *p11 = k->p11;
	p11_token *t = &p11->tokens[k->token];
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_OBJECT_HANDLE key;
	CK_SESSION_INFO si;
	CK_ULONG siglen;
	eid_buf tbs = EID_BUF_INIT;
	unsigned char sig[1024];
	const char *mech_name;
	int always_auth = 0, rc;
	CK_RV rv;

	switch (scheme) {
	case EID_SIG_RSA_PKCS1:
		mech.mechanism = CKM_RSA_PKCS;
		mech_name = "CKM_RSA_PKCS";
		rc = eid_token__digestinfo(hash, digest, digest_len, &tbs);
		break;
	case EID_SIG_RSA_PSS:
		mech.mechanism = CKM_RSA_PKCS_PSS;
		mech_name = "CKM_RSA_PKCS_PSS";
		pss.hashAlg = pss_hash[hash];
		pss.mgf = pss_mgf[hash];
		pss.sLen = digest_len;
		mech.pParameter = &pss;
		mech.ulParameterLen = sizeof(pss);
		rc = eid_buf_set(&tbs, digest, digest_len);
		break;
	case EID_SIG_ECDSA:
		mech.mechanism = CKM_ECDSA;
		mech_name = "CKM_ECDSA";
		rc = eid_buf_set(&tbs, digest, digest_len);
		break;
	default:
		return eid_error__set(EID_EMECHANISM, "unknown signature scheme %d", (int)scheme);
	}
	if (rc < 0)
		return rc;
	if ((rc = check_mechanism(k, mech.mechanism, mech_name)) < 0)
		goto out;
	if (!k->have_session) {
		rv = p11->f->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL, &k->session);
		if (rv != CKR_OK) {
			rc = eid_error__set(rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED ? EID_ETOKEN_REMOVED : EID_ETOKEN,
					    "cannot open a session with token '%s' (%s)", t->label, eid_pkcs11__rv_name(rv));
			goto out;
		}
		k->have_session = 1;
	}
	rv = p11->f->C_GetSessionInfo(k->session, &si);
	if (rv != CKR_OK) {
		rc = eid_error__set(EID_ETOKEN, "token '%s': C_GetSessionInfo failed (%s)", t->label, eid_pkcs11__rv_name(rv));
		goto out;
	}
	if (si.state != CKS_RO_USER_FUNCTIONS && si.state != CKS_RW_USER_FUNCTIONS &&
	    (t->info.flags & EID_TOKEN_LOGIN_REQUIRED) && (rc = login(k, CKU_USER)) < 0)
		goto out;
	if ((rc = find_key(k, &key, &always_auth)) < 0)
		goto out;
	rv = p11->f->C_SignInit(k->session, &mech, key);
	if (rv != CKR_OK) {
		rc = eid_error__set(rv == CKR_MECHANISM_INVALID || rv == CKR_MECHANISM_PARAM_INVALID ||
					    rv == CKR_KEY_TYPE_INCONSISTENT || rv == CKR_KEY_FUNCTION_NOT_PERMITTED
				    ? EID_EMECHANISM : EID_ETOKEN,
				    "token '%s' refused to start a %s signature (%s)", t->label, mech_name,
				    eid_pkcs11__rv_name(rv));
		goto out;
	}
	if (always_auth && (rc = login(k, CKU_CONTEXT_SPECIFIC)) < 0) {
		/* PKCS#11 2.40 has no way to cancel the operation: end the session. */
		close_session(k);
		goto out;
	}
	siglen = sizeof(sig);
	rv = p11->f->C_Sign(k->session, tbs.data, tbs.len, sig, &siglen);
	if (rv != CKR_OK) {
		rc = eid_error__set(rv == CKR_USER_NOT_LOGGED_IN ? EID_EPIN_INVALID : EID_ETOKEN,
				    "token '%s' failed to sign (%s)", t->label, eid_pkcs11__rv_name(rv));
		goto out;
	}
	/* CKM_ECDSA returns r||s: encode it here, where there is no doubt about the form. */
	if (scheme == EID_SIG_ECDSA)
		rc = eid_token__ecdsa_raw_to_der(sig, siglen, out);
	else
		rc = eid_buf_set(out, sig, siglen);
	EID_LOG_D("token '%s': %s signature of %lu bytes", t->label, mech_name, (unsigned long)siglen);
out:
	eid_buf_clear(&tbs);
	return rc;
}

static void p11_key_free(void *impl)
{
	p11_key *k = impl;

	if (k == NULL)
		return;
	close_session(k);
	p11_release(k->p11);
	free(k->id);
	free(k->label);
	free(k);
}

/* Does certificate @c match the selection? */
static int cert_matches(const eid_pkcs11 *p11, const p11_cert *c, const eid_pkcs11_select *sel,
			const unsigned char *id, size_t id_len)
{
	if (c->info.flags & EID_CERT_CA || c->info.key_type == EID_KEY_UNKNOWN)
		return 0;
	if (sel->token_label != NULL && strcmp(p11->tokens[c->info.token_index].label, sel->token_label) != 0)
		return 0;
	if (id != NULL && (c->id_len != id_len || memcmp(c->id, id, id_len) != 0))
		return 0;
	if (sel->cert_label != NULL && strcmp(c->label, sel->cert_label) != 0)
		return 0;
	return 1;
}

/*
 * How well a certificate fits: 0 never (keyUsage forbids signing); then
 * nonRepudiation over digitalSignature, and valid now over expired or not
 * yet valid.  Ties go to the lowest CKA_ID, so that the choice is stable.
 */
static int cert_rank(const p11_cert *c, unsigned int flags)
{
	int usage, valid;

	if (!(c->info.flags & (EID_CERT_NON_REPUDIATION | EID_CERT_DIGITAL_SIGNATURE)))
		return 0;
	if (flags & EID_SELECT_ANY_USAGE)
		usage = 1;
	else if (c->info.flags & EID_CERT_NON_REPUDIATION)
		usage = 3;
	else
		usage = 2;
	valid = X509_cmp_current_time(X509_get0_notBefore(c->x509)) < 0 &&
		X509_cmp_current_time(X509_get0_notAfter(c->x509)) > 0;
	return usage * 2 + valid;
}

EID_EXTERN int eid_signer_new_pkcs11(eid_signer **out, eid_pkcs11 *p11, const eid_pkcs11_select *sel)
{
	static const eid_signer_ops ops = { EID_SIGNER_OPS_VERSION, p11_sign, p11_key_free };
	unsigned char *id = NULL;
	size_t id_len = 0, i, best = SIZE_MAX;
	int best_rank = -1, matched = 0, rc;
	p11_key *k;
	eid_signer *s;
	X509 *leaf;

	if (out == NULL || p11 == NULL || sel == NULL)
		return eid_error__set(EID_EINVAL, "eid_signer_new_pkcs11: NULL argument");
	*out = NULL;
	if (sel->version != EID_PKCS11_SELECT_VERSION)
		return eid_error__set(EID_EVERSION, "eid_pkcs11_select version %u is unknown", sel->version);
	if (p11->ntokens == 0)
		return eid_error__set(EID_ENOTOKEN, "no token is present (module %s)", p11->path);
	if (sel->token_label != NULL) {
		for (i = 0; i < p11->ntokens && strcmp(p11->tokens[i].label, sel->token_label) != 0; i++)
			;
		if (i == p11->ntokens)
			return eid_error__set(EID_ENOTOKEN, "no token labelled '%s' (module %s)", sel->token_label,
					      p11->path);
	}
	if (sel->key_id_hex != NULL && (rc = eid_hex__decode(sel->key_id_hex, &id, &id_len)) < 0)
		return rc;
	for (i = 0; i < p11->ncerts; i++) {
		int rank;

		if (!cert_matches(p11, &p11->certs[i], sel, id, id_len))
			continue;
		matched++;
		rank = cert_rank(&p11->certs[i], sel->flags);
		if (rank > best_rank ||
		    (rank == best_rank && strcmp(p11->certs[i].id_hex, p11->certs[best].id_hex) < 0)) {
			best_rank = rank;
			best = i;
		}
	}
	free(id);
	if (best == SIZE_MAX || best_rank == 0)
		return eid_error__set(EID_ENOKEY, "no %scertificate%s%s%s%s%s on %s%s%s",
				      matched ? "signing " : "",
				      sel->key_id_hex ? " with id " : "", sel->key_id_hex ? sel->key_id_hex : "",
				      sel->cert_label ? " labelled '" : "", sel->cert_label ? sel->cert_label : "",
				      sel->cert_label ? "'" : "",
				      sel->token_label ? "token '" : "any token",
				      sel->token_label ? sel->token_label : "", sel->token_label ? "'" : "");
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	k->p11 = p11;
	p11->refs++;
	k->token = p11->certs[best].info.token_index;
	k->id_len = p11->certs[best].id_len;
	k->id = malloc(k->id_len + 1);
	k->label = strdup(p11->certs[best].label);
	k->pin_cb = sel->pin_cb;
	k->pin_userdata = sel->pin_userdata;
	k->flags = sel->flags;
	leaf = X509_dup(p11->certs[best].x509);
	if (k->id == NULL || k->label == NULL || leaf == NULL) {
		X509_free(leaf);
		p11_key_free(k);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	if (k->id_len > 0)
		memcpy(k->id, p11->certs[best].id, k->id_len);
	EID_LOG_I("token '%s': using certificate '%s' (id %s)", p11->tokens[k->token].label,
		  p11->certs[best].label, p11->certs[best].id_hex);
	if ((rc = eid_signer__new(&s, &ops, k, leaf)) < 0)
		return rc;
	/* Chain: CA certificates on the same token, issuer by issuer. */
	leaf = eid_signer__cert(s);
	for (;;) {
		X509 *issuer = NULL;

		for (i = 0; i < p11->ncerts && issuer == NULL; i++) {
			p11_cert *c = &p11->certs[i];

			if (c->info.token_index == k->token && (c->info.flags & EID_CERT_CA) &&
			    X509_cmp(c->x509, leaf) != 0 && X509_check_issued(c->x509, leaf) == X509_V_OK)
				issuer = c->x509;
		}
		/* Stop at a self-signed root or when nothing more issues it; bound the depth. */
		if (issuer == NULL || X509_check_issued(issuer, issuer) == X509_V_OK ||
		    eid_signer_chain_count(s) >= 8)
			break;
		if (!X509_up_ref(issuer) || (rc = eid_signer__add_chain(s, issuer)) < 0) {
			eid_signer_free(s);
			return rc < 0 ? rc : eid_error__set(EID_ENOMEM, NULL);
		}
		leaf = issuer;
	}
	*out = s;
	return EID_OK;
}
