/*
 * Unit tests of libeid/pdf/{object,lexer,xref}.c: the object model and its
 * serializer, the tokenizer, and the file reader on PDFs built here (classic
 * xref, incremental updates, xref and object streams, hybrid, linearized,
 * broken and hostile files).  Files made with qpdf are skipped without it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <zlib.h>

#include "common/common.h"
#include "pdf/pdf.h"
#include "unit.h"

/* ---- helpers ---- */

static pdf_obj *parse(const char *s)
{
	pdf_obj *o = NULL;
	size_t used = 0;
	int rc = pdf_parse_object((const unsigned char *)s, strlen(s), &o, &used);

	ck_assert_msg(rc == EID_OK, "parsing \"%s\": %d %s", s, rc, eid_error_last()->message);
	ck_assert_ptr_nonnull(o);
	return o;
}

static int parse_rc(const char *s)
{
	pdf_obj *o = NULL;
	int rc = pdf_parse_object((const unsigned char *)s, strlen(s), &o, NULL);

	pdf_obj_free(o);
	if (rc < 0)
		ck_assert_ptr_null(o);
	return rc;
}

static int obj_equal(const pdf_obj *a, const pdf_obj *b)
{
	size_t i;

	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case PDF_NULL: return 1;
	case PDF_BOOL: return a->u.b == b->u.b;
	case PDF_INT: return a->u.i == b->u.i;
	case PDF_REAL: return a->u.r == b->u.r;
	case PDF_STRING:
		return a->u.str.len == b->u.str.len && a->u.str.hex == b->u.str.hex &&
		       memcmp(a->u.str.p, b->u.str.p, a->u.str.len) == 0;
	case PDF_NAME: return strcmp(a->u.name, b->u.name) == 0;
	case PDF_REF: return a->u.ref.num == b->u.ref.num && a->u.ref.gen == b->u.ref.gen;
	case PDF_ARRAY:
		if (a->u.arr.n != b->u.arr.n)
			return 0;
		for (i = 0; i < a->u.arr.n; i++)
			if (!obj_equal(a->u.arr.items[i], b->u.arr.items[i]))
				return 0;
		return 1;
	case PDF_DICT:
		if (a->u.dict.n != b->u.dict.n)
			return 0;
		for (i = 0; i < a->u.dict.n; i++)
			if (strcmp(a->u.dict.keys[i], b->u.dict.keys[i]) != 0 ||
			    !obj_equal(a->u.dict.vals[i], b->u.dict.vals[i]))
				return 0;
		return 1;
	case PDF_STREAM:
		return a->u.stream.offset == b->u.stream.offset && a->u.stream.length == b->u.stream.length &&
		       obj_equal(a->u.stream.dict, b->u.stream.dict);
	}
	return 0;
}

/* The serialization of an object, malloc'd and NUL-terminated. */
static char *write_str(const pdf_obj *o)
{
	eid_buf b = EID_BUF_INIT;
	char *s;

	ck_assert_int_eq(pdf_obj_write(o, &b), EID_OK);
	s = strdup((const char *)b.data);
	ck_assert_ptr_nonnull(s);
	eid_buf_clear(&b);
	return s;
}

static void assert_writes(const char *in, const char *expect)
{
	pdf_obj *o = parse(in);
	char *s = write_str(o);

	ck_assert_str_eq(s, expect);
	free(s);
	pdf_obj_free(o);
}

/* ---- building files ---- */

#define PB_MAX 64

typedef struct pdfb {
	eid_buf b;
	uint64_t off[PB_MAX];
	int gen[PB_MAX];
} pdfb;

static void pb_printf(pdfb *p, const char *fmt, ...) EID_PRINTF(2, 3);
static void pb_printf(pdfb *p, const char *fmt, ...)
{
	char tmp[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < sizeof(tmp));
	ck_assert_int_eq(eid_buf__append(&p->b, tmp, (size_t)n), EID_OK);
}

static void pb_raw(pdfb *p, const void *data, size_t len)
{
	ck_assert_int_eq(eid_buf__append(&p->b, data, len), EID_OK);
}

static void pb_init(pdfb *p)
{
	memset(p, 0, sizeof(*p));
	pb_printf(p, "%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n");
}

static void pb_obj(pdfb *p, int num, const char *body)
{
	p->off[num] = p->b.len;
	pb_printf(p, "%d 0 obj\n%s\nendobj\n", num, body);
}

/* A stream object with raw @data and extra dictionary entries. */
static void pb_stream(pdfb *p, int num, const char *dict_extra, const void *data, size_t len)
{
	p->off[num] = p->b.len;
	pb_printf(p, "%d 0 obj\n<< /Length %zu %s >>\nstream\r\n", num, len, dict_extra);
	pb_raw(p, data, len);
	pb_printf(p, "\r\nendstream\nendobj\n");
}

/* A classic xref listing objects @nums (ascending), then trailer and startxref; returns the xref offset. */
static uint64_t pb_xref(pdfb *p, const int *nums, size_t n, const char *trailer)
{
	uint64_t at = p->b.len;
	size_t i = 0, j;

	pb_printf(p, "xref\n");
	while (i < n) {
		for (j = i; j + 1 < n && nums[j + 1] == nums[j] + 1; j++)
			;
		pb_printf(p, "%d %zu\n", nums[i], j - i + 1);
		for (; i <= j; i++) {
			if (nums[i] == 0 || p->off[nums[i]] == 0)
				pb_printf(p, "0000000000 65535 f \n");
			else
				pb_printf(p, "%010llu %05d n \n", (unsigned long long)p->off[nums[i]], p->gen[nums[i]]);
		}
	}
	pb_printf(p, "trailer\n%s\nstartxref\n%llu\n%%%%EOF\n", trailer, (unsigned long long)at);
	return at;
}

static const char content[] = "BT /F1 12 Tf 72 712 Td (Hello) Tj ET";

/* Objects 1-6 of a two-page document; object 5 is a stream whose /Length is object 6. */
static void pb_base_objects(pdfb *p, const char *pages_kids)
{
	char tmp[256];

	pb_obj(p, 1, "<< /Type /Catalog /Pages 2 0 R >>");
	snprintf(tmp, sizeof(tmp), "<< /Type /Pages /Kids %s /Count 2 >>", pages_kids);
	pb_obj(p, 2, tmp);
	pb_obj(p, 3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R >>");
	pb_obj(p, 4, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>");
	p->off[5] = p->b.len;
	pb_printf(p, "5 0 obj\n<< /Length 6 0 R >>\nstream\n%s\nendstream\nendobj\n", content);
	snprintf(tmp, sizeof(tmp), "%zu", strlen(content));
	pb_obj(p, 6, tmp);
}

static const int base_nums[] = { 0, 1, 2, 3, 4, 5, 6 };

/* The classic two-page file; its size in *len. */
static void pb_classic(pdfb *p)
{
	pb_init(p);
	pb_base_objects(p, "[3 0 R 4 0 R]");
	pb_xref(p, base_nums, 7, "<< /Size 7 /Root 1 0 R >>");
}

static char *save(const char *dir, const char *name, const pdfb *p)
{
	char *path = unit_join(dir, name);

	unit_write(path, p->b.data, p->b.len);
	return path;
}

static pdf_doc *open_ok(const char *path)
{
	pdf_doc *doc = NULL;
	int rc = pdf_doc_open(&doc, path);

	ck_assert_msg(rc == EID_OK, "pdf_doc_open(%s): %d %s", path, rc, eid_error_last()->message);
	ck_assert_ptr_nonnull(doc);
	return doc;
}

static int open_rc(const char *path)
{
	pdf_doc *doc = NULL;
	int rc = pdf_doc_open(&doc, path);

	if (rc == EID_OK)
		pdf_doc_free(doc);
	else
		ck_assert_ptr_null(doc);
	return rc;
}

/* The two-page document's pages, root and content stream. */
static void assert_two_pages(pdf_doc *doc)
{
	pdf_obj *root = pdf_doc_root(doc), *o, *page;
	eid_buf data = EID_BUF_INIT;
	pdf_ref ref;
	size_t n = 0;

	ck_assert_ptr_nonnull(root);
	ck_assert(pdf_name_is(pdf_dict_get(root, "Type"), "Catalog"));
	o = pdf_dict_get(doc->trailer, "Root");
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->type, PDF_REF);
	ck_assert_int_eq(pdf_doc_page_count(doc, &n), EID_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(pdf_doc_page_ref(doc, 0, &ref), EID_OK);
	ck_assert_int_eq(pdf_doc_get(doc, ref.num, &page), EID_OK);
	ck_assert(pdf_name_is(pdf_dict_get(page, "Type"), "Page"));
	o = pdf_doc_resolve(doc, pdf_dict_get(page, "Contents"));
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->type, PDF_STREAM);
	ck_assert_int_eq(pdf_doc_stream_data(doc, o, 1 << 20, &data), EID_OK);
	ck_assert_uint_eq(data.len, strlen(content));
	ck_assert_mem_eq(data.data, content, data.len);
	eid_buf_clear(&data);
	ck_assert_int_eq(pdf_doc_page_ref(doc, 1, &ref), EID_OK);
	ck_assert_int_eq(pdf_doc_page_ref(doc, 2, &ref), EID_ENOTFOUND);
}

static int have_qpdf(void)
{
	return system("qpdf --version >/dev/null 2>&1") == 0;
}

/* Run qpdf; exit status 3 means "succeeded with warnings". */
static void run_qpdf(const char *args, const char *in, const char *out)
{
	char cmd[4096];
	int st;

	snprintf(cmd, sizeof(cmd), "qpdf %s '%s' '%s' >/dev/null 2>&1", args, in, out);
	st = system(cmd);
	ck_assert_msg(st != -1 && WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 3), "%s failed",
		      cmd);
}

/* Every object of the xref loads or is cleanly absent. */
static void load_all(pdf_doc *doc, size_t *compressed)
{
	uint32_t i;

	*compressed = 0;
	for (i = 0; i < doc->xref_size; i++) {
		pdf_obj *o;

		if (doc->xref[i].type == PDF_ENTRY_FREE)
			continue;
		if (doc->xref[i].type == PDF_ENTRY_COMPRESSED)
			(*compressed)++;
		ck_assert_msg(pdf_doc_get(doc, i, &o) == EID_OK, "object %u: %s", i, eid_error_last()->message);
	}
}

/* ---- objects ---- */

START_TEST(test_pdf_obj__constructors_and_dict)
{
	pdf_obj *d = pdf_obj_new(PDF_DICT), *a = pdf_obj_new(PDF_ARRAY), *c;

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(pdf_dict_set(d, "Type", pdf_name_new("Sig")), EID_OK);
	ck_assert_int_eq(pdf_dict_set(d, "N", pdf_int_new(5)), EID_OK);
	ck_assert_int_eq(pdf_dict_set(d, "N", pdf_int_new(6)), EID_OK); /* replaces */
	ck_assert_uint_eq(d->u.dict.n, 2);
	ck_assert_int_eq(pdf_dict_get(d, "N")->u.i, 6);
	ck_assert(pdf_name_is(pdf_dict_get(d, "Type"), "Sig"));
	ck_assert(!pdf_name_is(pdf_dict_get(d, "Type"), "Sig2"));
	ck_assert(!pdf_name_is(NULL, "Sig"));
	ck_assert_ptr_null(pdf_dict_get(d, "Missing"));
	ck_assert_int_eq(pdf_array_push(a, pdf_real_new(0.5)), EID_OK);
	ck_assert_int_eq(pdf_array_push(a, pdf_bool_new(1)), EID_OK);
	ck_assert_int_eq(pdf_array_push(a, pdf_string_new("a\0b", 3, 1)), EID_OK);
	ck_assert_int_eq(pdf_array_push(a, pdf_ref_new(12, 1)), EID_OK);
	ck_assert_int_eq(pdf_array_push(a, pdf_obj_new(PDF_NULL)), EID_OK);
	ck_assert_int_eq(pdf_dict_set(d, "A", a), EID_OK);
	ck_assert_int_eq(pdf_array_push(d, pdf_int_new(1)), EID_EINVAL); /* not an array: value freed */
	c = pdf_obj_clone(d);
	ck_assert_ptr_nonnull(c);
	ck_assert(obj_equal(c, d));
	ck_assert_int_eq(pdf_dict_remove(c, "A"), EID_OK);
	ck_assert_int_eq(pdf_dict_remove(c, "A"), EID_OK);
	ck_assert_ptr_null(pdf_dict_get(c, "A"));
	ck_assert_uint_eq(c->u.dict.n, 2);
	ck_assert_ptr_nonnull(pdf_dict_get(d, "A"));
	pdf_obj_free(c);
	pdf_obj_free(d);
	pdf_obj_free(NULL);
}
END_TEST

START_TEST(test_pdf_obj_write__forms)
{
	pdf_obj *o;
	eid_buf b = EID_BUF_INIT;
	char *s;

	assert_writes("12", "12");
	assert_writes("-7", "-7");
	assert_writes("0.5", "0.5");
	assert_writes("12.000", "12");
	assert_writes("-.25", "-0.25");
	assert_writes("3.14159", "3.14159");
	assert_writes("true", "true");
	assert_writes("null", "null");
	assert_writes("/A#20B", "/A#20B");
	assert_writes("/a#23b", "/a#23b");
	assert_writes("/x#28#29#2F", "/x#28#29#2F");
	assert_writes("(a\\(b\\)\\\\c)", "(a\\(b\\)\\\\c)");
	assert_writes("(tab\there\n)", "(tab\\011here\\012)");
	assert_writes("<0a0B>", "<0A0B>");
	assert_writes("[1 2 0 R /N]", "[1 2 0 R /N]");
	assert_writes("<</K 1/L<</M[]>>>>", "<< /K 1 /L << /M [] >> >>");
	assert_writes("<<>>", "<< >>");
	o = pdf_real_new(1e-7);
	s = write_str(o);
	ck_assert_ptr_null(strchr(s, 'e'));
	free(s);
	pdf_obj_free(o);
	o = pdf_obj_new(PDF_STREAM);
	ck_assert_int_eq(pdf_obj_write(o, &b), EID_EINVAL);
	pdf_obj_free(o);
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_pdf_obj_write__round_trips)
{
	static const char *const cases[] = {
		"0", "-2147483649", "9223372036854775807", "1.5", "-0.001", "123456.789", "/Name", "/A#20B",
		"(plain)", "(nested (paren) ok)", "(\\000\\377\\200x)", "<>", "()", "<DEADBEEF>",
		"[1 [2 [3 [4]]] << /A /B >>]", "<< /Type /Sig /ByteRange [0 10 20 30] /Contents <00> /M (D:2024) >>",
		"<< /K 5 0 R /R [1 0 R 2 0 R] /F false /N null >>",
	};
	size_t i;

	for (i = 0; i < EID_ARRAY_SIZE(cases); i++) {
		pdf_obj *a = parse(cases[i]), *b;
		char *s = write_str(a);

		b = parse(s);
		ck_assert_msg(obj_equal(a, b), "round trip of %s through %s", cases[i], s);
		free(s);
		pdf_obj_free(a);
		pdf_obj_free(b);
	}
}
END_TEST

/* ---- lexer ---- */

START_TEST(test_pdf_parse_object__scalars)
{
	pdf_obj *o;
	size_t used;

	o = parse("  % comment\n 42 ");
	ck_assert_int_eq(o->type, PDF_INT);
	ck_assert_int_eq(o->u.i, 42);
	pdf_obj_free(o);
	o = parse("-17");
	ck_assert_int_eq(o->u.i, -17);
	pdf_obj_free(o);
	o = parse("+3");
	ck_assert_int_eq(o->u.i, 3);
	pdf_obj_free(o);
	o = parse(".5");
	ck_assert_int_eq(o->type, PDF_REAL);
	ck_assert(o->u.r == 0.5);
	pdf_obj_free(o);
	o = parse("-3.25");
	ck_assert(o->u.r == -3.25);
	pdf_obj_free(o);
	o = parse("4.");
	ck_assert_int_eq(o->type, PDF_REAL);
	ck_assert(o->u.r == 4.0);
	pdf_obj_free(o);
	o = parse("true");
	ck_assert_int_eq(o->type, PDF_BOOL);
	ck_assert_int_eq(o->u.b, 1);
	pdf_obj_free(o);
	o = parse("false");
	ck_assert_int_eq(o->u.b, 0);
	pdf_obj_free(o);
	o = parse("null");
	ck_assert_int_eq(o->type, PDF_NULL);
	pdf_obj_free(o);
	o = parse("12 0 R");
	ck_assert_int_eq(o->type, PDF_REF);
	ck_assert_uint_eq(o->u.ref.num, 12);
	ck_assert_uint_eq(o->u.ref.gen, 0);
	pdf_obj_free(o);
	/* Two integers are not a reference. */
	ck_assert_int_eq(pdf_parse_object((const unsigned char *)"12 0 obj", 8, &o, &used), EID_OK);
	ck_assert_int_eq(o->type, PDF_INT);
	ck_assert_uint_eq(used, 2);
	pdf_obj_free(o);
	ck_assert_int_eq(pdf_parse_object((const unsigned char *)"/A/B", 4, &o, &used), EID_OK);
	ck_assert_str_eq(o->u.name, "A");
	ck_assert_uint_eq(used, 2);
	pdf_obj_free(o);
}
END_TEST

START_TEST(test_pdf_parse_object__strings)
{
	pdf_obj *o;

	o = parse("(a\\(b\\)c\\n\\101\\0\\7x\\\\)");
	ck_assert_int_eq(o->type, PDF_STRING);
	ck_assert_int_eq(o->u.str.hex, 0);
	ck_assert_uint_eq(o->u.str.len, 11);
	ck_assert_mem_eq(o->u.str.p, "a(b)c\nA\0\7x\\", 11);
	pdf_obj_free(o);
	o = parse("(bal(an)ced)");
	ck_assert_str_eq((char *)o->u.str.p, "bal(an)ced");
	pdf_obj_free(o);
	o = parse("(ab\\\ncd\\\r\nef)");
	ck_assert_str_eq((char *)o->u.str.p, "abcdef");
	pdf_obj_free(o);
	o = parse("(a\r\nb\rc)");
	ck_assert_str_eq((char *)o->u.str.p, "a\nb\nc");
	pdf_obj_free(o);
	o = parse("(\\q\\1234)"); /* unknown escape: the character; octal takes 3 digits */
	ck_assert_str_eq((char *)o->u.str.p, "qS4");
	pdf_obj_free(o);
	o = parse("<48 65 6c6C\n6f7>");
	ck_assert_int_eq(o->u.str.hex, 1);
	ck_assert_uint_eq(o->u.str.len, 6);
	ck_assert_mem_eq(o->u.str.p, "Hello\x70", 6);
	pdf_obj_free(o);
	o = parse("<>");
	ck_assert_uint_eq(o->u.str.len, 0);
	pdf_obj_free(o);
}
END_TEST

START_TEST(test_pdf_parse_object__names_and_containers)
{
	pdf_obj *o, *v;

	o = parse("/A#20B#2f");
	ck_assert_str_eq(o->u.name, "A B/");
	pdf_obj_free(o);
	o = parse("/");
	ck_assert_str_eq(o->u.name, "");
	pdf_obj_free(o);
	o = parse("/a#zz"); /* not an escape: kept */
	ck_assert_str_eq(o->u.name, "a#zz");
	pdf_obj_free(o);
	o = parse("[1 2 0 R 5 (s) [/X] <</K/V>>]");
	ck_assert_int_eq(o->type, PDF_ARRAY);
	ck_assert_uint_eq(o->u.arr.n, 6);
	ck_assert_int_eq(o->u.arr.items[1]->type, PDF_REF);
	ck_assert_int_eq(o->u.arr.items[2]->u.i, 5);
	ck_assert_int_eq(o->u.arr.items[4]->type, PDF_ARRAY);
	ck_assert_int_eq(o->u.arr.items[5]->type, PDF_DICT);
	pdf_obj_free(o);
	o = parse("<< /Type /Page /Kids [1 0 R] /Sub << /N 1.5 >> /Dup 1 /Dup 2 >>");
	ck_assert_int_eq(o->type, PDF_DICT);
	v = pdf_dict_get(o, "Sub");
	ck_assert_int_eq(v->type, PDF_DICT);
	ck_assert(pdf_dict_get(v, "N")->u.r == 1.5);
	ck_assert_int_eq(pdf_dict_get(o, "Dup")->u.i, 2); /* the last one wins */
	pdf_obj_free(o);
}
END_TEST

START_TEST(test_pdf_parse_object__depth_limit)
{
	char s[2 * PDF_MAX_DEPTH + 8];
	int i;

	for (i = 0; i < PDF_MAX_DEPTH; i++) {
		s[i] = '[';
		s[PDF_MAX_DEPTH + i] = ']';
	}
	s[2 * PDF_MAX_DEPTH] = 0;
	ck_assert_int_eq(parse_rc(s), EID_OK);
	memmove(s + 1, s, strlen(s) + 1);
	s[0] = '[';
	strcat(s, "]");
	ck_assert_int_eq(parse_rc(s), EID_ETOOBIG);
}
END_TEST

START_TEST(test_pdf_parse_object__malformed)
{
	static const char *const bad[] = {
		"", "   ", "% only a comment", "(abc", "(a\\", "<abz>", "<41", "<< /A >>", "<< 1 2 >>", "<< /A 1 >",
		"]", ">>", ")", "{", "foo", "/A#00", "1.2.3", "--1", "-", "[1 2", "<< /A [1 2 >>",
	};
	size_t i;

	for (i = 0; i < EID_ARRAY_SIZE(bad); i++)
		ck_assert_msg(parse_rc(bad[i]) == EID_EFORMAT, "\"%s\" was not rejected as malformed", bad[i]);
	ck_assert_int_eq(parse_rc("99999999 0 R"), EID_ETOOBIG);
	ck_assert_int_eq(pdf_parse_object(NULL, 0, NULL, NULL), EID_EINVAL);
}
END_TEST

/* ---- files ---- */

START_TEST(test_pdf_doc_open__classic)
{
	char *dir = unit_tmpdir(), *path;
	pdfb p;
	pdf_doc *doc;
	pdf_obj *o;

	pb_classic(&p);
	path = save(dir, "classic.pdf", &p);
	doc = open_ok(path);
	ck_assert_int_eq(doc->recovered, 0);
	ck_assert_str_eq(doc->header_version, "1.7");
	ck_assert_uint_eq(doc->nrevs, 1);
	ck_assert_int_eq(doc->revs[0].style, PDF_XREF_TABLE);
	ck_assert_uint_eq(doc->revs[0].end, p.b.len);
	ck_assert_uint_eq(doc->revs[0].xref_offset, (uint64_t)(strstr((char *)p.b.data, "xref\n") - (char *)p.b.data));
	ck_assert_uint_eq(doc->xref_size, 7);
	ck_assert_uint_eq(doc->size, p.b.len);
	assert_two_pages(doc);
	ck_assert_int_eq(pdf_doc_get(doc, 0, &o), EID_ENOTFOUND);
	ck_assert_int_eq(pdf_doc_get(doc, 7, &o), EID_ENOTFOUND);
	ck_assert_int_eq(pdf_doc_get(doc, PDF_MAX_OBJNUM + 5u, &o), EID_ENOTFOUND);
	ck_assert_int_eq(pdf_doc_get(doc, 5, &o), EID_OK);
	ck_assert_uint_eq(o->u.stream.length, strlen(content));
	ck_assert_uint_eq(o->u.stream.offset, p.off[5] + strlen("5 0 obj\n<< /Length 6 0 R >>\nstream\n"));
	pdf_doc_free(doc);
	free(path);
	eid_buf_clear(&p.b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pdf_doc_open__incremental)
{
	static const int upd[] = { 0, 4, 7 };
	char *dir = unit_tmpdir(), *path, tr[128];
	pdfb p;
	pdf_doc *doc;
	pdf_obj *o;
	uint64_t first_end, x1;

	pb_init(&p);
	pb_base_objects(&p, "[3 0 R 4 0 R]");
	x1 = pb_xref(&p, base_nums, 7, "<< /Size 7 /Root 1 0 R >>");
	first_end = p.b.len;
	pb_obj(&p, 4, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Annots [7 0 R] >>");
	pb_obj(&p, 7, "<< /Type /Annot /Subtype /Widget >>");
	snprintf(tr, sizeof(tr), "<< /Size 8 /Root 1 0 R /Prev %llu >>", (unsigned long long)x1);
	pb_xref(&p, upd, 3, tr);
	path = save(dir, "incr.pdf", &p);
	doc = open_ok(path);
	ck_assert_int_eq(doc->recovered, 0);
	ck_assert_uint_eq(doc->nrevs, 2);
	ck_assert_uint_eq(doc->revs[0].xref_offset, x1);
	ck_assert_uint_eq(doc->revs[0].end, first_end);
	ck_assert_uint_eq(doc->revs[1].end, p.b.len);
	ck_assert_int_eq(doc->revs[1].style, PDF_XREF_TABLE);
	ck_assert_uint_eq(doc->xref_size, 8);
	ck_assert_uint_eq(doc->xref[3].revision, 0);
	ck_assert_uint_eq(doc->xref[4].revision, 1);
	ck_assert_uint_eq(doc->xref[7].revision, 1);
	ck_assert_int_eq(pdf_doc_get(doc, 4, &o), EID_OK);
	ck_assert_ptr_nonnull(pdf_dict_get(o, "Annots")); /* the newest version */
	ck_assert_int_eq(pdf_dict_get(doc->trailer, "Size")->u.i, 8);
	assert_two_pages(doc);
	pdf_doc_free(doc);
	free(path);
	eid_buf_clear(&p.b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

/* Zlib-compress @in, malloc'd. */
static unsigned char *deflate_buf(const unsigned char *in, size_t len, size_t *outlen)
{
	uLongf n = compressBound(len);
	unsigned char *out = malloc(n);

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(compress(out, &n, in, len), Z_OK);
	*outlen = n;
	return out;
}

/*
 * An xref stream (Flate, PNG Up predictor) and an object stream made by
 * hand; with @hybrid a classic table whose trailer has /XRefStm instead.
 */
static void pb_stream_file(pdfb *p, int hybrid)
{
	static const char obj7[] = "<< /Hello (world) /N 8 0 R >>";
	char objstm_hdr[32];
	unsigned char rows[16 * 5], prev[4] = { 0 }, *z;
	char tmp[512];
	size_t zlen, i, nrows = 0;
	uint64_t xoff;
	int nums[] = { 0, 1, 2, 3, 4, 5, 6 };

	pb_init(p);
	pb_base_objects(p, "[3 0 R 4 0 R]");
	/* Object stream 9 holding objects 7 and 8. */
	snprintf(objstm_hdr, sizeof(objstm_hdr), "7 0 8 %zu ", strlen(obj7) + 1);
	snprintf(tmp, sizeof(tmp), "%s%s 42", objstm_hdr, obj7);
	z = deflate_buf((const unsigned char *)tmp, strlen(tmp), &zlen);
	snprintf(tmp, sizeof(tmp), "/Type /ObjStm /N 2 /First %zu /Filter /FlateDecode", strlen(objstm_hdr));
	pb_stream(p, 9, tmp, z, zlen);
	free(z);
	xoff = p->b.len;
	p->off[10] = xoff;
	/* Rows for objects 0..10: W [1 2 1], PNG Up predictor. */
	for (i = 0; i <= 10; i++) {
		unsigned char row[4];
		size_t k;

		if (i == 0) {
			row[0] = 0; row[1] = 0; row[2] = 0; row[3] = 0xff;
		} else if (i == 7 || i == 8) {
			row[0] = 2; row[1] = 0; row[2] = 9; row[3] = (unsigned char)(i - 7);
		} else {
			row[0] = 1; row[1] = (unsigned char)(p->off[i] >> 8); row[2] = (unsigned char)p->off[i]; row[3] = 0;
		}
		rows[nrows * 5] = 2;
		for (k = 0; k < 4; k++) {
			rows[nrows * 5 + 1 + k] = (unsigned char)(row[k] - prev[k]);
			prev[k] = row[k];
		}
		nrows++;
	}
	z = deflate_buf(rows, nrows * 5, &zlen);
	snprintf(tmp, sizeof(tmp),
		 "/Type /XRef /Size 11 /W [1 2 1] /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >>%s",
		 hybrid ? "" : " /Root 1 0 R");
	pb_stream(p, 10, tmp, z, zlen);
	free(z);
	if (hybrid) {
		/* The table lists the direct objects; 7 and 8 are only in the stream. */
		snprintf(tmp, sizeof(tmp), "<< /Size 11 /Root 1 0 R /XRefStm %llu >>", (unsigned long long)xoff);
		pb_xref(p, nums, 7, tmp);
	} else {
		pb_printf(p, "startxref\n%llu\n%%%%EOF\n", (unsigned long long)xoff);
	}
}

static void assert_stream_file(pdf_doc *doc)
{
	pdf_obj *o;

	ck_assert_int_eq(doc->recovered, 0);
	ck_assert_int_eq(doc->xref[7].type, PDF_ENTRY_COMPRESSED);
	ck_assert_int_eq(pdf_doc_get(doc, 7, &o), EID_OK);
	ck_assert_int_eq(o->type, PDF_DICT);
	ck_assert_str_eq((char *)pdf_dict_get(o, "Hello")->u.str.p, "world");
	o = pdf_doc_resolve(doc, pdf_dict_get(o, "N"));
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->u.i, 42);
	assert_two_pages(doc);
}

START_TEST(test_pdf_doc_open__xref_stream_by_hand)
{
	char *dir = unit_tmpdir(), *path;
	pdfb p;
	pdf_doc *doc;

	pb_stream_file(&p, 0);
	path = save(dir, "xs.pdf", &p);
	doc = open_ok(path);
	ck_assert_uint_eq(doc->nrevs, 1);
	ck_assert_int_eq(doc->revs[0].style, PDF_XREF_STREAM);
	ck_assert(pdf_name_is(pdf_dict_get(doc->trailer, "Type"), "XRef"));
	assert_stream_file(doc);
	pdf_doc_free(doc);
	free(path);
	eid_buf_clear(&p.b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pdf_doc_open__hybrid)
{
	char *dir = unit_tmpdir(), *path;
	pdfb p;
	pdf_doc *doc;

	pb_stream_file(&p, 1);
	path = save(dir, "hybrid.pdf", &p);
	doc = open_ok(path);
	ck_assert_uint_eq(doc->nrevs, 1);
	ck_assert_int_eq(doc->revs[0].style, PDF_XREF_HYBRID);
	assert_stream_file(doc);
	pdf_doc_free(doc);
	free(path);
	eid_buf_clear(&p.b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pdf_doc_open__qpdf_object_streams)
{
	char *dir, *in, *out, *lin;
	pdfb p;
	pdf_doc *doc;
	size_t n = 0, i;

	if (!have_qpdf()) {
		unit_skip("test_pdf_doc_open__qpdf_object_streams", "qpdf is not installed");
		return;
	}
	dir = unit_tmpdir();
	pb_classic(&p);
	in = save(dir, "in.pdf", &p);
	out = unit_join(dir, "objstm.pdf");
	lin = unit_join(dir, "lin.pdf");
	run_qpdf("--object-streams=generate", in, out);
	doc = open_ok(out);
	ck_assert_int_eq(doc->recovered, 0);
	ck_assert_int_eq(doc->revs[doc->nrevs - 1].style, PDF_XREF_STREAM);
	load_all(doc, &n);
	ck_assert_uint_gt(n, 0);
	assert_two_pages(doc);
	pdf_doc_free(doc);

	run_qpdf("--linearize", in, lin);
	doc = open_ok(lin);
	ck_assert_int_eq(doc->recovered, 0);
	ck_assert_uint_eq(doc->nrevs, 2);
	for (i = 0; i < doc->nrevs; i++)
		ck_assert_int_eq(doc->revs[i].style, PDF_XREF_TABLE);
	load_all(doc, &n);
	assert_two_pages(doc);
	pdf_doc_free(doc);

	run_qpdf("--linearize --object-streams=generate", in, lin);
	doc = open_ok(lin);
	ck_assert_int_eq(doc->recovered, 0);
	ck_assert_int_eq(doc->revs[0].style, PDF_XREF_STREAM);
	load_all(doc, &n);
	assert_two_pages(doc);
	pdf_doc_free(doc);

	free(in);
	free(out);
	free(lin);
	eid_buf_clear(&p.b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pdf_doc_open__encrypted)
{
	char *dir = unit_tmpdir(), *path, *out;
	pdfb p;

	pb_init(&p);
	pb_base_objects(&p, "[3 0 R 4 0 R]");
	pb_obj(&p, 7, "<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>");
	{
		static const int nums[] = { 0, 1, 2, 3, 4, 5, 6, 7 };

		pb_xref(&p, nums, 8, "<< /Size 8 /Root 1 0 R /Encrypt 7 0 R /ID [<01> <01>] >>");
	}
	path = save(dir, "enc.pdf", &p);
	ck_assert_int_eq(open_rc(path), EID_EUNSUPPORTED);
	ck_assert_str_eq(eid_error_last()->message, "encrypted PDFs are not supported");
	free(path);
	eid_buf_clear(&p.b);
	if (have_qpdf()) {
		pb_classic(&p);
		path = save(dir, "plain.pdf", &p);
		out = unit_join(dir, "aes.pdf");
		run_qpdf("--encrypt u o 256 --", path, out);
		ck_assert_int_eq(open_rc(out), EID_EUNSUPPORTED);
		free(out);
		free(path);
		eid_buf_clear(&p.b);
	} else {
		unit_skip("test_pdf_doc_open__encrypted (qpdf part)", "qpdf is not installed");
	}
	unit_rmtree(dir);
	free(dir);
}
END_TEST

/* ---- broken and hostile files ---- */

START_TEST(test_pdf_doc_open__wrong_startxref)
{
	char *dir = unit_tmpdir(), *path, *s;
	pdfb p;
	pdf_doc *doc;

	pb_classic(&p);
	/* startxref off by 7 */
	s = strstr((char *)p.b.data, "startxref\n") + 10;
	s[strspn(s, "0123456789") - 1] = s[strspn(s, "0123456789") - 1] == '0' ? '7' : '0';
	path = save(dir, "badsx.pdf", &p);
	doc = open_ok(path);
	ck_assert_int_eq(doc->recovered, 1);
	assert_two_pages(doc);
	pdf_doc_free(doc);
	free(path);
	eid_buf_clear(&p.b);

	/* Junk before the header shifts every offset. */
	memset(&p, 0, sizeof(p));
	pb_printf(&p, "JUNK JUNK JUNK\n");
	{
		pdfb q;

		pb_classic(&q);
		pb_raw(&p, q.b.data, q.b.len);
		eid_buf_clear(&q.b);
	}
	path = save(dir, "shifted.pdf", &p);
	doc = open_ok(path);
	ck_assert_int_eq(doc->recovered, 1);
	assert_two_pages(doc);
	pdf_doc_free(doc);
	free(path);
	eid_buf_clear(&p.b);

	/* No startxref at all. */
	pb_init(&p);
	pb_base_objects(&p, "[3 0 R 4 0 R]");
	pb_printf(&p, "trailer\n<< /Size 7 /Root 1 0 R >>\n%%%%EOF\n");
	path = save(dir, "nosx.pdf", &p);
	doc = open_ok(path);
	ck_assert_int_eq(doc->recovered, 1);
	ck_assert_uint_ge(doc->nrevs, 1);
	assert_two_pages(doc);
	pdf_doc_free(doc);
	free(path);
	eid_buf_clear(&p.b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pdf_doc_open__prev_loop)
{
	static const int upd[] = { 0, 4 };
	char *dir = unit_tmpdir(), *path, *s, num[16];
	pdfb p;
	pdf_doc *doc;
	uint64_t x1, x2;

	pb_init(&p);
	pb_base_objects(&p, "[3 0 R 4 0 R]");
	x1 = pb_xref(&p, base_nums, 7, "<< /Size 7 /Root 1 0 R /Prev 0000000000 >>");
	pb_obj(&p, 4, "<< /Type /Page /Parent 2 0 R >>");
	{
		char tr[128];

		snprintf(tr, sizeof(tr), "<< /Size 7 /Root 1 0 R /Prev %llu >>", (unsigned long long)x1);
		x2 = pb_xref(&p, upd, 2, tr);
	}
	/* A -> B -> A */
	s = strstr((char *)p.b.data, "/Prev 0000000000");
	snprintf(num, sizeof(num), "%010llu", (unsigned long long)x2);
	memcpy(s + 6, num, 10);
	path = save(dir, "loop.pdf", &p);
	doc = open_ok(path);
	ck_assert_uint_eq(doc->nrevs, 2);
	assert_two_pages(doc);
	pdf_doc_free(doc);
	free(path);
	eid_buf_clear(&p.b);

	/* A section whose /Prev is itself. */
	pb_init(&p);
	pb_base_objects(&p, "[3 0 R 4 0 R]");
	pb_printf(&p, " ");
	{
		char tr[128];

		snprintf(tr, sizeof(tr), "<< /Size 7 /Root 1 0 R /Prev %llu >>", (unsigned long long)p.b.len);
		pb_xref(&p, base_nums, 7, tr);
	}
	path = save(dir, "self.pdf", &p);
	doc = open_ok(path);
	ck_assert_uint_eq(doc->nrevs, 1);
	pdf_doc_free(doc);
	free(path);
	eid_buf_clear(&p.b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pdf_doc_page_count__loop)
{
	char *dir = unit_tmpdir(), *path;
	pdfb p;
	pdf_doc *doc;
	pdf_ref ref;
	size_t n;

	pb_init(&p);
	pb_base_objects(&p, "[3 0 R 2 0 R]");
	pb_xref(&p, base_nums, 7, "<< /Size 7 /Root 1 0 R >>");
	path = save(dir, "pageloop.pdf", &p);
	doc = open_ok(path);
	ck_assert_int_eq(pdf_doc_page_count(doc, &n), EID_EFORMAT);
	ck_assert_int_eq(pdf_doc_page_ref(doc, 0, &ref), EID_OK);
	ck_assert_uint_eq(ref.num, 3);
	ck_assert_int_eq(pdf_doc_page_ref(doc, 1, &ref), EID_EFORMAT);
	pdf_doc_free(doc);
	free(path);
	eid_buf_clear(&p.b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pdf_doc_open__huge_object_number)
{
	char *dir = unit_tmpdir(), *path;
	pdfb p;
	pdf_doc *doc;
	pdf_obj *o;

	/* A subsection beyond the object number limit. */
	pb_init(&p);
	pb_base_objects(&p, "[3 0 R 4 0 R]");
	{
		uint64_t at = p.b.len;
		int i;

		pb_printf(&p, "xref\n0 7\n0000000000 65535 f \n");
		for (i = 1; i < 7; i++)
			pb_printf(&p, "%010llu 00000 n \n", (unsigned long long)p.off[i]);
		pb_printf(&p, "99999999 1\n0000000009 00000 n \n");
		pb_printf(&p, "trailer\n<< /Size 100000000 /Root 1 0 R >>\nstartxref\n%llu\n%%%%EOF\n",
			  (unsigned long long)at);
	}
	path = save(dir, "huge.pdf", &p);
	ck_assert_int_eq(open_rc(path), EID_ETOOBIG);
	free(path);
	eid_buf_clear(&p.b);

	/* An object numbered beyond the limit, only found by scanning: ignored. */
	pb_init(&p);
	pb_base_objects(&p, "[3 0 R 4 0 R]");
	pb_printf(&p, "99999999 0 obj\n<< /Big true >>\nendobj\n");
	pb_printf(&p, "trailer\n<< /Size 7 /Root 1 0 R >>\n%%%%EOF\n");
	path = save(dir, "huge2.pdf", &p);
	doc = open_ok(path);
	ck_assert_int_eq(doc->recovered, 1);
	ck_assert_uint_eq(doc->xref_size, 7);
	ck_assert_int_eq(pdf_doc_get(doc, 99999999, &o), EID_ENOTFOUND);
	assert_two_pages(doc);
	pdf_doc_free(doc);
	free(path);
	eid_buf_clear(&p.b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pdf_doc_open__truncated_and_garbage)
{
	char *dir = unit_tmpdir(), *path;
	unsigned char junk[4096];
	pdfb p;
	pdf_doc *doc = NULL;
	size_t i, cut, eof;
	int rc;

	pb_classic(&p);
	path = unit_join(dir, "cut.pdf");
	eof = (size_t)(strstr((char *)p.b.data, "startxref") - (char *)p.b.data);
	for (cut = 0; cut < p.b.len; cut += 7) {
		unit_write(path, p.b.data, cut);
		rc = pdf_doc_open(&doc, path);
		ck_assert_msg(rc == EID_OK || rc == EID_EFORMAT, "cut at %zu: %d", cut, rc);
		if (rc == EID_OK) {
			size_t n;

			if (cut < eof)
				ck_assert_int_eq(doc->recovered, 1);
			(void)pdf_doc_page_count(doc, &n);
			pdf_doc_free(doc);
		}
	}
	free(path);
	srand(42);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rand();
	path = unit_join(dir, "junk.pdf");
	unit_write(path, junk, sizeof(junk));
	ck_assert_int_eq(open_rc(path), EID_EFORMAT);
	memcpy(junk, "%PDF-1.4\n", 9);
	unit_write(path, junk, sizeof(junk));
	ck_assert_int_eq(open_rc(path), EID_EFORMAT);
	unit_write(path, "", 0);
	ck_assert_int_eq(open_rc(path), EID_EFORMAT);
	free(path);
	path = unit_join(dir, "missing.pdf");
	ck_assert_int_eq(open_rc(path), EID_EIO);
	free(path);
	eid_buf_clear(&p.b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pdf_doc_open__no_root)
{
	char *dir = unit_tmpdir(), *path;
	pdfb p;

	pb_init(&p);
	pb_obj(&p, 1, "<< /Pages 2 0 R >>");
	pb_obj(&p, 2, "<< /Type /Pages /Kids [] /Count 0 >>");
	{
		static const int nums[] = { 0, 1, 2 };

		pb_xref(&p, nums, 3, "<< /Size 3 /Info 1 0 R >>");
	}
	path = save(dir, "noroot.pdf", &p);
	ck_assert_int_eq(open_rc(path), EID_EFORMAT);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "no /Root"));
	free(path);
	eid_buf_clear(&p.b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pdf_doc_stream_data__filters)
{
	char *dir = unit_tmpdir(), *path;
	unsigned char *z;
	size_t zlen;
	pdfb p;
	pdf_doc *doc;
	pdf_obj *o;
	eid_buf b = EID_BUF_INIT;
	static const int nums[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

	pb_init(&p);
	pb_base_objects(&p, "[3 0 R 4 0 R]");
	z = deflate_buf((const unsigned char *)content, strlen(content), &zlen);
	pb_stream(&p, 7, "/Filter /FlateDecode", z, zlen);
	pb_stream(&p, 8, "/Filter [/FlateDecode]", z, zlen);
	free(z);
	pb_stream(&p, 9, "/Filter /LZWDecode", "xx", 2);
	pb_xref(&p, nums, 10, "<< /Size 10 /Root 1 0 R >>");
	path = save(dir, "filters.pdf", &p);
	doc = open_ok(path);
	ck_assert_int_eq(pdf_doc_get(doc, 7, &o), EID_OK);
	ck_assert_int_eq(pdf_doc_stream_data(doc, o, 1000, &b), EID_OK);
	ck_assert_uint_eq(b.len, strlen(content));
	ck_assert_mem_eq(b.data, content, b.len);
	eid_buf_clear(&b);
	ck_assert_int_eq(pdf_doc_stream_data(doc, o, 10, &b), EID_ETOOBIG);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(pdf_doc_stream_data(doc, o, SIZE_MAX, &b), EID_OK);
	ck_assert_uint_eq(b.len, strlen(content));
	eid_buf_clear(&b);
	ck_assert_int_eq(pdf_doc_get(doc, 8, &o), EID_OK);
	ck_assert_int_eq(pdf_doc_stream_data(doc, o, 1000, &b), EID_OK);
	ck_assert_uint_eq(b.len, strlen(content));
	eid_buf_clear(&b);
	ck_assert_int_eq(pdf_doc_get(doc, 9, &o), EID_OK);
	ck_assert_int_eq(pdf_doc_stream_data(doc, o, 1000, &b), EID_EUNSUPPORTED);
	ck_assert_int_eq(pdf_doc_get(doc, 5, &o), EID_OK);
	ck_assert_int_eq(pdf_doc_stream_data(doc, o, 5, &b), EID_ETOOBIG);
	ck_assert_int_eq(pdf_doc_stream_data(doc, pdf_doc_root(doc), 5, &b), EID_EINVAL);
	eid_buf_clear(&b);
	pdf_doc_free(doc);
	free(path);
	eid_buf_clear(&p.b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

/* A two-page document whose catalog is @catalog, with objects 7 (a field) and 8 (a signature). */
static pdf_doc *form_doc(const char *dir, const char *catalog, const char *field, const char *sig)
{
	static const int nums[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	pdfb p;
	pdf_doc *doc;
	char *path;

	pb_init(&p);
	pb_base_objects(&p, "[3 0 R 4 0 R]");
	pb_obj(&p, 1, catalog); /* the xref names this later definition */
	pb_obj(&p, 7, field);
	pb_obj(&p, 8, sig);
	pb_xref(&p, nums, 9, "<< /Size 9 /Root 1 0 R >>");
	path = save(dir, "form.pdf", &p);
	doc = open_ok(path);
	free(path);
	eid_buf_clear(&p.b);
	return doc;
}

static int count_field(pdf_doc *doc, pdf_obj *item, pdf_obj *f, const char *ft, void *ctx)
{
	(void)doc;
	(void)item;
	(void)f;
	if (ft != NULL && strcmp(ft, "Sig") == 0)
		(*(int *)ctx)++;
	return 0;
}

START_TEST(test_pdf_doc_docmdp__and_fields)
{
	static const struct {
		const char *perms, *sig;
		int rc, p;
	} cases[] = {
		{ "", "<< /Type /Sig >>", 0, 0 },
		{ "/Perms << /DocMDP 8 0 R >>", "<< /Type /Sig >>", 1, 2 }, /* no /Reference: the default */
		{ "/Perms << /DocMDP 8 0 R >>",
		  "<< /Type /Sig /Reference [<< /TransformMethod /DocMDP /TransformParams << /P 1 >> >>] >>", 1, 1 },
		{ "/Perms << /DocMDP 8 0 R >>",
		  "<< /Type /Sig /Reference [<< /TransformMethod /FieldMDP >> << /TransformMethod /DocMDP "
		  "/TransformParams << /P 3 /V /1.2 >> >>] >>", 1, 3 },
		{ "/Perms << /DocMDP 8 0 R >>",
		  "<< /Type /Sig /Reference [<< /TransformMethod /DocMDP /TransformParams << /P 7 >> >>] >>", EID_EFORMAT, 0 },
		{ "/Perms << /DocMDP << /Type /Sig >> >>", "<< /Type /Sig >>", EID_EFORMAT, 0 },
		{ "/Perms << /DocMDP 3 0 R >>", "<< /Type /Sig >>", 1, 2 },
		{ "/Perms << /DocMDP 9 0 R >>", "<< /Type /Sig >>", EID_EFORMAT, 0 },
	};
	char *dir = unit_tmpdir(), cat[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pdf_doc *doc;
		uint32_t num = 99;
		int p = 99, rc, nsig = 0;

		snprintf(cat, sizeof(cat), "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R] >> %s >>",
			 cases[i].perms);
		doc = form_doc(dir, cat, "<< /FT /Sig /T (S) /Kids [<< /T (K) >>] >>", cases[i].sig);
		rc = pdf_doc_docmdp(doc, &num, &p);
		ck_assert_msg(rc == cases[i].rc, "case %zu: %d", i, rc);
		if (rc == 1) {
			ck_assert_int_eq(p, cases[i].p);
			ck_assert_uint_ne(num, 0);
		}
		eid_error_clear();
		/* the kid inherits /FT /Sig */
		ck_assert_int_eq(pdf_doc_fields(doc, count_field, &nsig), 0);
		ck_assert_int_eq(nsig, 2);
		pdf_doc_free(doc);
	}
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pdf_doc_fields__loops_are_bounded)
{
	char *dir = unit_tmpdir();
	pdf_doc *doc;
	int n = 0;

	/* a field that is its own kid, twice over: the walk ends with an error */
	doc = form_doc(dir, "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R] >> >>",
		       "<< /FT /Tx /T (L) /Kids [7 0 R 7 0 R] >>", "null");
	ck_assert_int_lt(pdf_doc_fields(doc, count_field, &n), 0);
	pdf_doc_free(doc);
	/* no form, or /Fields of the wrong type: nothing to walk */
	doc = form_doc(dir, "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields 7 0 R >> >>", "<< /FT /Sig >>",
		       "null");
	ck_assert_int_eq(pdf_doc_fields(doc, count_field, &n), 0);
	pdf_doc_free(doc);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

static Suite *pdf_suite(void)
{
	Suite *s = suite_create("pdf");
	TCase *tc;

	tc = tcase_create("objects");
	tcase_add_test(tc, test_pdf_obj__constructors_and_dict);
	suite_add_tcase(s, tc);

	tc = tcase_create("pdf_obj_write");
	tcase_add_test(tc, test_pdf_obj_write__forms);
	tcase_add_test(tc, test_pdf_obj_write__round_trips);
	suite_add_tcase(s, tc);

	tc = tcase_create("pdf_parse_object");
	tcase_add_test(tc, test_pdf_parse_object__scalars);
	tcase_add_test(tc, test_pdf_parse_object__strings);
	tcase_add_test(tc, test_pdf_parse_object__names_and_containers);
	tcase_add_test(tc, test_pdf_parse_object__depth_limit);
	tcase_add_test(tc, test_pdf_parse_object__malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("pdf_doc_open");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pdf_doc_open__classic);
	tcase_add_test(tc, test_pdf_doc_open__incremental);
	tcase_add_test(tc, test_pdf_doc_open__xref_stream_by_hand);
	tcase_add_test(tc, test_pdf_doc_open__hybrid);
	tcase_add_test(tc, test_pdf_doc_open__qpdf_object_streams);
	tcase_add_test(tc, test_pdf_doc_open__encrypted);
	tcase_add_test(tc, test_pdf_doc_open__wrong_startxref);
	tcase_add_test(tc, test_pdf_doc_open__prev_loop);
	tcase_add_test(tc, test_pdf_doc_open__huge_object_number);
	tcase_add_test(tc, test_pdf_doc_open__truncated_and_garbage);
	tcase_add_test(tc, test_pdf_doc_open__no_root);
	suite_add_tcase(s, tc);

	tc = tcase_create("pdf_doc_page_count");
	tcase_add_test(tc, test_pdf_doc_page_count__loop);
	suite_add_tcase(s, tc);

	tc = tcase_create("pdf_doc_fields");
	tcase_add_test(tc, test_pdf_doc_docmdp__and_fields);
	tcase_add_test(tc, test_pdf_doc_fields__loops_are_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("pdf_doc_stream_data");
	tcase_add_test(tc, test_pdf_doc_stream_data__filters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(pdf_suite());
}
