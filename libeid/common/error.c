/* Error codes, their static descriptions and the thread-local detail. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "common.h"

#define EID_ERRMSG_MAX 1024

static _Thread_local char tls_message[EID_ERRMSG_MAX];
static _Thread_local eid_error tls_error = { EID_OK, NULL };

static const struct {
	int code;
	const char *text;
} error_texts[] = {
	{ EID_OK, "success" },
	{ EID_EINVAL, "invalid argument" },
	{ EID_ENOMEM, "out of memory" },
	{ EID_EIO, "input/output error" },
	{ EID_ENOTFOUND, "not found" },
	{ EID_EUNSUPPORTED, "not supported" },
	{ EID_EFORMAT, "malformed input" },
	{ EID_ECANCELED, "cancelled" },
	{ EID_EVERSION, "unknown options version" },
	{ EID_EINTERNAL, "internal error" },
	{ EID_ETOOBIG, "input too large" },
	{ EID_EMODULE, "PKCS#11 module cannot be loaded" },
	{ EID_ENOTOKEN, "no matching token" },
	{ EID_ENOKEY, "no matching key or certificate" },
	{ EID_EPIN_WRONG, "wrong PIN" },
	{ EID_EPIN_LOCKED, "PIN blocked" },
	{ EID_EPIN_FINAL_TRY, "final PIN try not allowed" },
	{ EID_EPIN_INVALID, "invalid PIN" },
	{ EID_ETOKEN, "token failure" },
	{ EID_EMECHANISM, "algorithm not supported by the key" },
	{ EID_EPASSWORD, "wrong password" },
	{ EID_EEXTERNAL, "the signature value must come from outside" },
	{ EID_ETOKEN_REMOVED, "token removed" },
	{ EID_ECARD, "card failure" },
	{ EID_ECERT, "certificate error" },
	{ EID_ENETWORK, "network failure" },
	{ EID_ESIGFORMAT, "signature structure error" },
};

EID_EXTERN const char *eid_strerror(int code)
{
	size_t i;

	for (i = 0; i < EID_ARRAY_SIZE(error_texts); i++)
		if (error_texts[i].code == code)
			return error_texts[i].text;
	return "unknown error";
}

EID_EXTERN const eid_error *eid_error_last(void)
{
	if (tls_error.message == NULL) {
		tls_message[0] = '\0';
		tls_error.message = tls_message;
	}
	return &tls_error;
}

EID_EXTERN void eid_error_clear(void)
{
	tls_error.code = EID_OK;
	tls_message[0] = '\0';
	tls_error.message = tls_message;
}

static int set_v(int code, const char *fmt, va_list ap)
{
	tls_error.code = code;
	tls_error.message = tls_message;
	if (fmt == NULL)
		snprintf(tls_message, sizeof(tls_message), "%s", eid_strerror(code));
	else
		vsnprintf(tls_message, sizeof(tls_message), fmt, ap);
	return code;
}

int eid_error__set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_v(code, fmt, ap);
	va_end(ap);
	eid_log__(EID_LOG_DEBUG, "error %d: %s", code, tls_message);
	return code;
}

int eid_error__ossl(int code, const char *fmt, ...)
{
	va_list ap;
	unsigned long e, first = 0, last = 0;
	size_t used;
	char detail[256];

	va_start(ap, fmt);
	set_v(code, fmt, ap);
	va_end(ap);
	while ((e = ERR_get_error()) != 0) {
		if (first == 0)
			first = e;
		last = e;
	}
	if (first != 0) {
		used = strlen(tls_message);
		ERR_error_string_n(first, detail, sizeof(detail));
		snprintf(tls_message + used, sizeof(tls_message) - used, " (%s", detail);
		if (last != first) {
			used = strlen(tls_message);
			ERR_error_string_n(last, detail, sizeof(detail));
			snprintf(tls_message + used, sizeof(tls_message) - used, "; %s", detail);
		}
		used = strlen(tls_message);
		snprintf(tls_message + used, sizeof(tls_message) - used, ")");
	}
	eid_log__(EID_LOG_DEBUG, "error %d: %s", code, tls_message);
	return code;
}

int eid_error__wrap(const char *fmt, ...)
{
	char prefix[EID_ERRMSG_MAX], old[EID_ERRMSG_MAX];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);

	snprintf(old, sizeof(old), "%s", tls_message);
	n = strlen(prefix);
	if (n > sizeof(tls_message) - 3)
		n = sizeof(tls_message) - 3;
	memcpy(tls_message, prefix, n);
	memcpy(tls_message + n, ": ", 2);
	memcpy(tls_message + n + 2, old, strnlen(old, sizeof(tls_message) - n - 3));
	tls_message[n + 2 + strnlen(old, sizeof(tls_message) - n - 3)] = '\0';
	return tls_error.code;
}

EID_EXTERN const char *eid_version(void)
{
	return EID_VERSION_STRING;
}
