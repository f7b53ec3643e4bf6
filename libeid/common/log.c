/*
 * Leveled logging.  The level comes from eid_log_set_level() or $EID_DEBUG.
 * Callers never pass secrets here: PINs and keys are not formatted anywhere
 * in the library, and APDU traces redact PIN-bearing commands before logging.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

static eid_log_level log_level = EID_LOG_WARN;
static eid_log_cb log_cb;
static void *log_userdata;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_init(void)
{
	const char *env = getenv("EID_DEBUG");

	if (env != NULL && env[0] >= '0' && env[0] <= '5' && env[1] == '\0')
		log_level = (eid_log_level)(env[0] - '0');
	else if (env != NULL && env[0] != '\0')
		log_level = EID_LOG_DEBUG;
}

EID_EXTERN void eid_log_set_level(eid_log_level level)
{
	pthread_once(&log_once, log_init);
	if (level > EID_LOG_TRACE)
		level = EID_LOG_TRACE;
	log_level = level;
}

EID_EXTERN void eid_log_set_handler(eid_log_cb cb, void *userdata)
{
	log_cb = cb;
	log_userdata = userdata;
}

int eid_log__enabled(eid_log_level level)
{
	pthread_once(&log_once, log_init);
	return level != EID_LOG_NONE && level <= log_level;
}

void eid_log__(eid_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "", "error", "warning", "info", "debug", "trace" };
	char line[2048];
	va_list ap;

	if (!eid_log__enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_cb != NULL)
		log_cb(level, line, log_userdata);
	else
		fprintf(stderr, "libeid %s: %s\n", names[level], line);
}
