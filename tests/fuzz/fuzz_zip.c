/*
 * libFuzzer harness for the ZIP layer of ASiC containers: any bytes as a
 * container, opened from memory and from a file (both must agree), its
 * mimetype verdict, every file read (bounded) and digested, every name
 * checked against the rules, found again and round-tripped through the URI
 * encoding; the input also goes to the URI decoder as text.  A container that
 * opens is then rewritten (every good entry copied) and the copy must open
 * again with the same names and bytes.  Every input must end in a clean error
 * or success, never a crash, hang or leak.
 *
 * Scratch files go to $EID_FUZZ_TMP, else /dev/shm when there, else /tmp:
 * the writer flushes every container to disk.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <eid/common.h>

#include "asic/zip.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_READ (1u << 20)    /* files read whole */
#define MAX_DIGEST (8u << 20)  /* files digested */
#define MAX_URI 4096           /* input decoded as a URI */

static char dir[64], in_path[96], out_path[96];

static void cleanup(void)
{
	unlink(in_path);
	unlink(out_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("EID_FUZZ_TMP");
	struct stat st;

	(void)argc;
	(void)argv;
	if (base == NULL || base[0] == '\0')
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0 ? "/dev/shm"
													 : "/tmp";
	if (snprintf(dir, sizeof(dir), "%s/eid-fuzz-zip.XXXXXX", base) >= (int)sizeof(dir) || mkdtemp(dir) == NULL)
		abort();
	snprintf(in_path, sizeof(in_path), "%s/in.zip", dir);
	snprintf(out_path, sizeof(out_path), "%s/out.asice", dir);
	atexit(cleanup);
	eid_log_set_level(EID_LOG_NONE);
	return 0;
}

static void write_input(const unsigned char *data, size_t size)
{
	FILE *f = fopen(in_path, "wb");

	if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
}

static void check_names(asic_zip *z)
{
	eid_buf enc = EID_BUF_INIT, dec = EID_BUF_INIT;
	size_t i, j, n = asic_zip_count(z);
	const char *name;

	for (i = 0; i < n; i++) {
		name = asic_zip_name(z, i);
		if (name == NULL || asic_zip_name_check(name, strlen(name), 0) != EID_OK)
			abort(); /* asic_zip_open let an unsafe name through */
		if (asic_zip_find(z, name, &j) != EID_OK || j != i)
			abort(); /* names are unique */
		if (asic_uri_encode(name, &enc) != EID_OK || asic_uri_decode((const char *)enc.data, &dec) != EID_OK ||
		    strcmp((const char *)dec.data, name) != 0)
			abort(); /* a safe name survives the URI round trip */
		(void)asic_uri_decode(name, &dec);
	}
	if (asic_zip_name(z, n) != NULL)
		abort();
	eid_buf_clear(&enc);
	eid_buf_clear(&dec);
}

/* Read and digest file @i; returns 1 when it read fine (its bytes in @b). */
static int check_file(asic_zip *z, size_t i, eid_buf *b)
{
	unsigned char md[EVP_MAX_MD_SIZE], md2[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, mdlen2 = 0;
	uint64_t size = asic_zip_size(z, i);
	int rc, rc2;

	rc = asic_zip_read(z, i, MAX_READ, b);
	if (rc == EID_OK && b->len != size)
		abort(); /* more or less than declared */
	if (rc != EID_OK && (b->data != NULL || (rc == EID_ETOOBIG) != (size > MAX_READ)))
		abort();
	if (size > MAX_DIGEST)
		return rc == EID_OK;
	rc2 = asic_zip_digest(z, i, EVP_sha256(), md, &mdlen);
	if ((rc == EID_OK && rc2 != EID_OK) || (rc2 == EID_OK && size <= MAX_READ && rc != EID_OK))
		abort(); /* reading and digesting disagree */
	if (rc == EID_OK) {
		if (EVP_Digest(b->data, b->len, md2, &mdlen2, EVP_sha256(), NULL) != 1 || mdlen != mdlen2 ||
		    memcmp(md, md2, mdlen) != 0)
			abort();
	}
	return rc == EID_OK;
}

/* Copy every file that reads well into a new container, which must read back the same. */
static void rewrite(asic_zip *z, const unsigned char *good)
{
	asic_writer *w = NULL;
	asic_zip *again = NULL;
	eid_buf a = EID_BUF_INIT, b = EID_BUF_INIT;
	size_t i, j, n = asic_zip_count(z), copied = 0;

	if (asic_writer_open(&w, out_path, ASIC_MEDIA_TYPE_E) != EID_OK)
		abort();
	for (i = 0; i < n; i++) {
		if (!good[i] || strcmp(asic_zip_name(z, i), "mimetype") == 0)
			continue;
		if (asic_writer_copy(w, z, i) != EID_OK)
			abort();
		copied++;
	}
	if (asic_writer_commit(w) != EID_OK)
		abort();
	if (asic_zip_open(&again, out_path) != EID_OK || asic_zip_count(again) != copied + 1)
		abort(); /* we must read what we write */
	for (i = 0; i < n; i++) {
		if (!good[i] || strcmp(asic_zip_name(z, i), "mimetype") == 0)
			continue;
		if (asic_zip_find(again, asic_zip_name(z, i), &j) != EID_OK ||
		    asic_zip_read(z, i, MAX_READ, &a) != EID_OK || asic_zip_read(again, j, MAX_READ, &b) != EID_OK ||
		    a.len != b.len || (a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
			abort();
	}
	eid_buf_clear(&a);
	eid_buf_clear(&b);
	asic_zip_free(again);
	unlink(out_path);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	asic_zip *z = NULL, *zf = NULL;
	eid_buf buf = EID_BUF_INIT;
	char type[ASIC_ZIP_MAX_MIMETYPE + 1], why[256], *text;
	unsigned char *good;
	size_t i, n, ngood = 0;
	int rc, rcf, ok = -1;

	/* the input as a URI reference */
	text = malloc(size < MAX_URI ? size + 1 : MAX_URI + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size < MAX_URI ? size : MAX_URI);
	text[size < MAX_URI ? size : MAX_URI] = '\0';
	if (asic_uri_decode(text, &buf) == EID_OK && asic_zip_name_check((const char *)buf.data, buf.len, 0) != EID_OK)
		abort();
	eid_buf_clear(&buf);
	free(text);

	rc = asic_zip_open_buffer(&z, data, size);
	write_input(data, size);
	rcf = asic_zip_open(&zf, in_path);
	if (rc != rcf || (rc != EID_OK && (z != NULL || zf != NULL)))
		abort(); /* memory and file must agree; *out stays NULL on error */
	if (rc != EID_OK)
		return 0;
	if (asic_zip_count(z) != asic_zip_count(zf))
		abort();
	asic_zip_free(zf);

	if (asic_zip_mimetype(z, type, sizeof(type), &ok, why, sizeof(why)) != EID_OK || (ok != 0 && ok != 1) ||
	    (ok == 1) != (type[0] != '\0') || (ok == 0 && why[0] == '\0'))
		abort();
	check_names(z);
	n = asic_zip_count(z);
	good = calloc(n + 1, 1);
	if (good == NULL)
		abort();
	for (i = 0; i < n; i++) {
		good[i] = (unsigned char)check_file(z, i, &buf);
		ngood += good[i];
		eid_buf_clear(&buf);
	}
	if (ngood > 0)
		rewrite(z, good);
	free(good);
	asic_zip_free(z);
	return 0;
}
