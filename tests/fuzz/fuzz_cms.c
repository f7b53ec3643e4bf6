/*
 * libFuzzer harness for the CMS/CAdES validation path: any bytes as a
 * signature (DER or PEM), over fixed detached data, against a fixed trust set.
 * Every input must end in a report or a clean error, never a crash or leak.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <eid/eid.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char data_path[64];
static eid_trust *trust;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;
	const char *anchor = getenv("EID_FUZZ_TRUST");

	(void)argc;
	(void)argv;
	strcpy(data_path, "/tmp/eid-fuzz-data.XXXXXX");
	fd = mkstemp(data_path);
	if (fd < 0 || write(fd, "The quick brown fox jumps over the lazy dog.\n", 45) != 45)
		abort();
	close(fd);
	if (eid_trust_new(&trust) != EID_OK)
		abort();
	if (anchor != NULL && eid_trust_add_file(trust, anchor) != EID_OK)
		abort();
	eid_log_set_level(EID_LOG_NONE);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	eid_verify_opts o = EID_VERIFY_OPTS_INIT;
	eid_report *r = NULL;
	eid_buf text = EID_BUF_INIT;

	o.trust = trust;
	o.data_path = data_path;
	if (eid_verify_cades(&r, data, size, &o) == EID_OK) {
		if (eid_report_to_json(r, &text) != EID_OK || eid_report_to_text(r, &text) != EID_OK)
			abort();
		eid_buf_clear(&text);
		eid_report_free(r);
	} else if (r != NULL) {
		abort(); /* *out must stay NULL on error */
	}
	return 0;
}
