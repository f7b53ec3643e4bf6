/* Secure wiping, byte buffers, hex and small string helpers. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

EID_EXTERN void eid_memzero(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

int eid__ct_memcmp(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char acc = 0;
	size_t i;

	for (i = 0; i < len; i++)
		acc |= x[i] ^ y[i];
	return acc != 0;
}

EID_EXTERN void eid_buf_clear(eid_buf *buf)
{
	if (buf == NULL)
		return;
	if (buf->data != NULL) {
		eid_memzero(buf->data, buf->cap);
		free(buf->data);
	}
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

int eid_buf__reserve(eid_buf *buf, size_t extra)
{
	size_t need, cap;
	unsigned char *p;

	if (extra > SIZE_MAX - buf->len - 1)
		return eid_error__set(EID_ENOMEM, "buffer size overflow");
	need = buf->len + extra + 1; /* room for a terminating NUL */
	if (need <= buf->cap)
		return EID_OK;
	cap = buf->cap ? buf->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* Grow by copying so that the old block can be wiped (it may hold secrets). */
	p = malloc(cap);
	if (p == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	if (buf->data != NULL) {
		memcpy(p, buf->data, buf->len);
		eid_memzero(buf->data, buf->cap);
		free(buf->data);
	}
	buf->data = p;
	buf->cap = cap;
	buf->data[buf->len] = 0;
	return EID_OK;
}

int eid_buf__append(eid_buf *buf, const void *data, size_t len)
{
	int rc = eid_buf__reserve(buf, len);

	if (rc < 0)
		return rc;
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = 0;
	return EID_OK;
}

EID_EXTERN int eid_buf_set(eid_buf *buf, const void *data, size_t len)
{
	if (buf == NULL || (data == NULL && len > 0))
		return eid_error__set(EID_EINVAL, "eid_buf_set: NULL argument");
	if (buf->data != NULL)
		eid_memzero(buf->data, buf->cap);
	buf->len = 0;
	return eid_buf__append(buf, data, len);
}

void eid_buf__attach(eid_buf *buf, unsigned char *data, size_t len)
{
	eid_buf_clear(buf);
	buf->data = data;
	buf->len = buf->cap = len;
}

int eid_buf__puts(eid_buf *buf, const char *s)
{
	return eid_buf__append(buf, s, strlen(s));
}

int eid_buf__printf(eid_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return eid_error__set(EID_EINTERNAL, "bad format");
	rc = eid_buf__reserve(buf, (size_t)n);
	if (rc < 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)buf->data + buf->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf->len += (size_t)n;
	return EID_OK;
}

char *eid_hex__encode(const unsigned char *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(len * 2 + 1);
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * len] = '\0';
	return s;
}

int eid_hex__digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int eid_hex__decode(const char *hex, unsigned char **out, size_t *len)
{
	size_t n = strlen(hex), i;
	unsigned char *p;

	if (n % 2 != 0)
		return eid_error__set(EID_EINVAL, "odd number of hex digits in '%s'", hex);
	p = malloc(n / 2 + 1);
	if (p == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; i < n / 2; i++) {
		int hi = eid_hex__digit(hex[2 * i]), lo = eid_hex__digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(p);
			return eid_error__set(EID_EINVAL, "not a hex string: '%s'", hex);
		}
		p[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = p;
	*len = n / 2;
	return EID_OK;
}

char *eid__strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}
