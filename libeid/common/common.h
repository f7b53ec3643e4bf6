/* Internal helpers of the common layer, shared by every other layer. */
#ifndef EID_INTERNAL_COMMON_H
#define EID_INTERNAL_COMMON_H

#include <stdarg.h>
#include <stdio.h>
#include "eid/common.h"

#if defined(__GNUC__)
#  define EID_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define EID_PRINTF(a, b)
#endif

#define EID_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Errors: set the thread's last error and return @code. */
int eid_error__set(int code, const char *fmt, ...) EID_PRINTF(2, 3);
/* Same, appending the first and last entries of OpenSSL's error queue (and clearing it). */
int eid_error__ossl(int code, const char *fmt, ...) EID_PRINTF(2, 3);
/* Prefix the current message with "what: " (keeps the code); returns the code. */
int eid_error__wrap(const char *fmt, ...) EID_PRINTF(1, 2);

/* Logging. */
void eid_log__(eid_log_level level, const char *fmt, ...) EID_PRINTF(2, 3);
int eid_log__enabled(eid_log_level level);
#define EID_LOG_E(...) eid_log__(EID_LOG_ERROR, __VA_ARGS__)
#define EID_LOG_W(...) eid_log__(EID_LOG_WARN, __VA_ARGS__)
#define EID_LOG_I(...) eid_log__(EID_LOG_INFO, __VA_ARGS__)
#define EID_LOG_D(...) eid_log__(EID_LOG_DEBUG, __VA_ARGS__)
#define EID_LOG_T(...) eid_log__(EID_LOG_TRACE, __VA_ARGS__)

/* Buffers. */
int eid_buf__reserve(eid_buf *buf, size_t extra);
int eid_buf__append(eid_buf *buf, const void *data, size_t len);
int eid_buf__printf(eid_buf *buf, const char *fmt, ...) EID_PRINTF(2, 3);
int eid_buf__puts(eid_buf *buf, const char *s);
/* Take ownership of a malloc'd block. */
void eid_buf__attach(eid_buf *buf, unsigned char *data, size_t len);

/* Hex helpers. */
int eid_hex__digit(int c); /* 0..15, or -1 for a non-hex character */
char *eid_hex__encode(const unsigned char *p, size_t len); /* malloc'd, lower-case */
int eid_hex__decode(const char *hex, unsigned char **out, size_t *len); /* malloc'd */

/* Duplicate a string, NULL-safe. */
char *eid__strdup(const char *s);

/* Files. */
#define EID_IO_CHUNK 65536
/* Read a whole file of at most @max bytes. */
int eid_io__read_file(const char *path, size_t max, eid_buf *out);

/* Atomic output: a temporary file beside the target, renamed on commit. */
typedef struct eid_outfile {
	char *path;
	char *tmp;
	int fd;
} eid_outfile;
int eid_io__out_open(eid_outfile *of, const char *path);
int eid_io__out_write(eid_outfile *of, const void *data, size_t len);
int eid_io__out_commit(eid_outfile *of);
void eid_io__out_abort(eid_outfile *of);

/* Constant-time comparison: 0 when equal. */
int eid__ct_memcmp(const void *a, const void *b, size_t len);

#endif
