/*
 * libFuzzer harness for the PDF reader: any bytes as a PDF file (opened,
 * its root, pages, form fields, certification, every object and stream data
 * loaded, then validated as a signed PDF: byte ranges, CMS, and the changes
 * of later revisions) and as one object for the parser and serializer.
 * Every input must end in a clean error or success, never a crash, hang or
 * leak.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <eid/eid.h>

#include "pdf/pdf.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_OBJECTS 2000
#define MAX_STREAM (1u << 20)

static char pdf_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	strcpy(pdf_path, "/tmp/eid-fuzz-pdf.XXXXXX");
	fd = mkstemp(pdf_path);
	if (fd < 0)
		abort();
	close(fd);
	eid_log_set_level(EID_LOG_NONE);
	return 0;
}

static void write_input(const unsigned char *data, size_t size)
{
	FILE *f = fopen(pdf_path, "wb");

	if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
}

static int count_field(pdf_doc *doc, pdf_obj *item, pdf_obj *f, const char *ft, void *ctx)
{
	(void)doc;
	(void)ft;
	if (item == NULL || f == NULL || f->type != PDF_DICT)
		abort();
	return ++*(size_t *)ctx > 100000 ? -1 : 0; /* the walk's own bound comes first */
}

static void exercise_doc(pdf_doc *doc)
{
	eid_buf buf = EID_BUF_INIT;
	pdf_obj *o;
	pdf_ref ref;
	size_t n, i;
	uint32_t num, last;

	if (pdf_doc_root(doc) == NULL)
		abort(); /* pdf_doc_open checked it */
	if (pdf_doc_page_count(doc, &n) == EID_OK && n > 0) {
		if (pdf_doc_page_ref(doc, 0, &ref) != EID_OK || pdf_doc_page_ref(doc, n - 1, &ref) != EID_OK)
			abort(); /* the walk found them a moment ago */
		if (pdf_doc_page_ref(doc, n, &ref) != EID_ENOTFOUND)
			abort();
	}
	(void)pdf_doc_page_ref(doc, 0, &ref);
	if (doc->nrevs == 0)
		abort();
	for (i = 0; i < doc->nrevs; i++)
		if (doc->revs[i].end > doc->size)
			abort();
	{
		size_t fields = 0;
		uint32_t sig;
		int p, rc = pdf_doc_docmdp(doc, &sig, &p);

		if (rc == 1 && (p < 1 || p > 3 || sig == 0))
			abort();
		if (pdf_doc_fields(doc, count_field, &fields) == -1)
			abort();
	}
	last = doc->xref_size < MAX_OBJECTS ? doc->xref_size : MAX_OBJECTS;
	for (num = 0; num < last; num++) {
		if (pdf_doc_get(doc, num, &o) != EID_OK)
			continue;
		(void)pdf_doc_resolve(doc, o);
		if (o->type == PDF_STREAM) {
			if (pdf_doc_stream_data(doc, o, MAX_STREAM, &buf) == EID_OK && buf.len > MAX_STREAM)
				abort();
			eid_buf_clear(&buf);
			o = o->u.stream.dict;
		}
		if (pdf_obj_write(o, &buf) != EID_OK && eid_error_last()->code != EID_EINVAL)
			abort();
		eid_buf_clear(&buf);
	}
}

static void exercise_object(const unsigned char *data, size_t size)
{
	eid_buf buf = EID_BUF_INIT;
	pdf_obj *o = NULL, *again = NULL, *copy;
	size_t used = 0;

	if (pdf_parse_object(data, size, &o, &used) != EID_OK) {
		if (o != NULL)
			abort();
		return;
	}
	if (used > size)
		abort();
	copy = pdf_obj_clone(o);
	if (copy == NULL)
		abort();
	/* What the serializer writes must parse again. */
	if (pdf_obj_write(o, &buf) == EID_OK) {
		if (pdf_parse_object(buf.data, buf.len, &again, &used) != EID_OK || used != buf.len)
			abort();
		pdf_obj_free(again);
	}
	eid_buf_clear(&buf);
	pdf_obj_free(copy);
	pdf_obj_free(o);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	pdf_doc *doc = NULL;

	write_input(data, size);
	if (pdf_doc_open(&doc, pdf_path) == EID_OK) {
		eid_verify_opts o = EID_VERIFY_OPTS_INIT;
		eid_report *r = NULL;

		exercise_doc(doc);
		pdf_doc_free(doc);
		if (eid_verify_file(&r, pdf_path, &o) == EID_OK) {
			if (eid_report_signature_count(r) == 0)
				abort();
			eid_report_free(r);
		} else if (r != NULL) {
			abort();
		}
	} else if (doc != NULL) {
		abort(); /* *out must stay NULL on error */
	}
	exercise_object(data, size);
	return 0;
}
