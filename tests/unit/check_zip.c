/*
 * Unit tests of libeid/asic/zip.c: the ZIP layer of ASiC containers.  The
 * writer's output is read back here and, when python3 is there, by Python's
 * zipfile; hostile ZIPs are built byte by byte by a small builder below that
 * controls every header field.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "asic/zip.h"
#include "common/common.h"
#include "unit.h"

#define TYPE_E ASIC_MEDIA_TYPE_E
#define NAME_UMLAUT "dossier/\xc3\x9c" "berweisung \xe2\x80\x93 M\xc3\xa4rz.pdf"  /* dossier/Überweisung – März.pdf */
#define NAME_JP "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt"                         /* 日本語.txt */

/* ---- a ZIP builder with control over every field ---- */

#define FAKE_USIZE 1u   /* write .usize instead of the real size */
#define FAKE_CSIZE 2u   /* write .csize instead of the real compressed size */
#define FAKE_CRC 4u     /* write .crc instead of the real CRC */
#define FAKE_OFFSET 8u  /* no local header: the central header points at .offset */
#define RAW_DATA 16u    /* .data is written as it is, whatever .method says */

typedef struct zent {
	const char *name;
	size_t name_len;        /* 0: strlen(name) */
	const char *local_name; /* NULL: name */
	const void *data;
	size_t len;
	uint16_t method;        /* 0 stored, 8 deflated here; others are written raw */
	uint16_t flags;
	unsigned fake;
	uint64_t usize, csize, offset;
	uint32_t crc;
	const void *extra;      /* in both headers */
	size_t extra_len;
	const void *cextra;     /* in the central header only */
	size_t cextra_len;
	uint32_t mode;          /* Unix mode in the external attributes */
} zent;

static void put(eid_buf *b, const void *p, size_t n)
{
	ck_assert_int_eq(eid_buf__append(b, p, n), EID_OK);
}

static void put16(eid_buf *b, unsigned v)
{
	unsigned char x[2] = { (unsigned char)v, (unsigned char)(v >> 8) };

	put(b, x, 2);
}

static void put32(eid_buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };

	put(b, x, 4);
}

static unsigned char *deflate_raw(const void *p, size_t len, size_t *out_len)
{
	z_stream s;
	unsigned char *out;
	uLong bound;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	bound = deflateBound(&s, (uLong)len);
	out = malloc(bound);
	ck_assert_ptr_nonnull(out);
	s.next_in = (Bytef *)(uintptr_t)p;
	s.avail_in = (uInt)len;
	s.next_out = out;
	s.avail_out = (uInt)bound;
	ck_assert_int_eq(deflate(&s, Z_FINISH), Z_STREAM_END);
	*out_len = s.total_out;
	deflateEnd(&s);
	return out;
}

static unsigned char *build_zip(const zent *ents, size_t n, size_t *len)
{
	eid_buf out = EID_BUF_INIT, cd = EID_BUF_INIT;
	unsigned char *packed;
	size_t i, nlen, lnlen, plen;
	uint64_t usize, csize, offset;
	uint32_t crc;
	const void *payload;

	for (i = 0; i < n; i++) {
		const zent *e = &ents[i];

		nlen = e->name_len ? e->name_len : strlen(e->name);
		lnlen = e->local_name ? strlen(e->local_name) : nlen;
		packed = NULL;
		payload = e->data;
		plen = e->len;
		if (e->method == 8 && !(e->fake & RAW_DATA)) {
			packed = deflate_raw(e->data, e->len, &plen);
			payload = packed;
		}
		crc = e->fake & FAKE_CRC ? e->crc : (uint32_t)crc32(0, e->data, (uInt)e->len);
		usize = e->fake & FAKE_USIZE ? e->usize : e->len;
		csize = e->fake & FAKE_CSIZE ? e->csize : plen;
		offset = e->fake & FAKE_OFFSET ? e->offset : out.len;
		if (!(e->fake & FAKE_OFFSET)) {
			put32(&out, 0x04034b50);
			put16(&out, 20);
			put16(&out, e->flags);
			put16(&out, e->method);
			put16(&out, 0);
			put16(&out, 0x21);
			put32(&out, crc);
			put32(&out, (uint32_t)csize);
			put32(&out, (uint32_t)usize);
			put16(&out, (unsigned)lnlen);
			put16(&out, (unsigned)e->extra_len);
			put(&out, e->local_name ? e->local_name : e->name, lnlen);
			put(&out, e->extra, e->extra_len);
			put(&out, payload, plen);
		}
		put32(&cd, 0x02014b50);
		put16(&cd, 0x031e);
		put16(&cd, 20);
		put16(&cd, e->flags);
		put16(&cd, e->method);
		put16(&cd, 0);
		put16(&cd, 0x21);
		put32(&cd, crc);
		put32(&cd, (uint32_t)csize);
		put32(&cd, (uint32_t)usize);
		put16(&cd, (unsigned)nlen);
		put16(&cd, (unsigned)(e->extra_len + e->cextra_len));
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put32(&cd, e->mode << 16);
		put32(&cd, (uint32_t)offset);
		put(&cd, e->name, nlen);
		put(&cd, e->extra, e->extra_len);
		put(&cd, e->cextra, e->cextra_len);
		free(packed);
	}
	offset = out.len;
	put(&out, cd.data, cd.len);
	put32(&out, 0x06054b50);
	put16(&out, 0);
	put16(&out, 0);
	put16(&out, (unsigned)n);
	put16(&out, (unsigned)n);
	put32(&out, (uint32_t)cd.len);
	put32(&out, (uint32_t)offset);
	put16(&out, 0);
	eid_buf_clear(&cd);
	*len = out.len;
	return out.data; /* malloc'd by the buffer */
}

/* A good "mimetype" first entry for hand-built containers. */
static zent mimetype_entry(void)
{
	zent e;

	memset(&e, 0, sizeof(e));
	e.name = "mimetype";
	e.data = TYPE_E;
	e.len = strlen(TYPE_E);
	return e;
}

/* Open @bytes from a file in @dir and from memory: both ways must agree.  Returns the code; *out when wanted. */
static int open_both(const char *dir, const unsigned char *bytes, size_t len, asic_zip **out)
{
	char *path = unit_join(dir, "t.zip");
	char msg[512];
	asic_zip *z = NULL, *zb = NULL;
	int rc, rcb;

	unit_write(path, bytes, len);
	rc = asic_zip_open(&z, path);
	snprintf(msg, sizeof(msg), "%s", eid_error_last()->message);
	rcb = asic_zip_open_buffer(&zb, bytes, len);
	ck_assert_msg(rc == rcb, "file: %d (%s), buffer: %d (%s)", rc, msg, rcb, eid_error_last()->message);
	if (rc < 0) {
		ck_assert_ptr_null(z);
		ck_assert_ptr_null(zb);
		eid_error__set(rc, "%s", msg); /* keep the file's message for the caller */
	} else {
		ck_assert_uint_eq(asic_zip_count(z), asic_zip_count(zb));
	}
	asic_zip_free(zb);
	if (out != NULL)
		*out = z;
	else
		asic_zip_free(z);
	free(path);
	return rc;
}

/* The container must be refused with @code and a message holding @needle. */
static void refused(const char *dir, const zent *ents, size_t n, int code, const char *needle)
{
	size_t len;
	unsigned char *bytes = build_zip(ents, n, &len);
	int rc = open_both(dir, bytes, len, NULL);

	ck_assert_msg(rc == code, "expected %d, got %d: %s", code, rc, eid_error_last()->message);
	ck_assert_msg(needle == NULL || strstr(eid_error_last()->message, needle) != NULL, "'%s' not in '%s'", needle,
		      eid_error_last()->message);
	free(bytes);
}

/* An entry of a file: where its header and data are, as stored. */
typedef struct raw_ent {
	uint16_t method, flags, lextra, cextra;
	uint32_t crc;
	uint64_t csize, usize, offset, data;
} raw_ent;

static uint32_t rd16(const unsigned char *p)
{
	return (uint32_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const unsigned char *p)
{
	return rd16(p) | rd16(p + 2) << 16;
}

static int raw_find(const unsigned char *z, size_t len, const char *name, raw_ent *r)
{
	const unsigned char *eocd = z + len - 22, *h;
	size_t i, n, nlen;

	ck_assert_uint_eq(rd32(eocd), 0x06054b50);
	n = rd16(eocd + 10);
	h = z + rd32(eocd + 16);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(rd32(h), 0x02014b50);
		nlen = rd16(h + 28);
		if (nlen == strlen(name) && memcmp(h + 46, name, nlen) == 0) {
			r->flags = (uint16_t)rd16(h + 8);
			r->method = (uint16_t)rd16(h + 10);
			r->crc = rd32(h + 16);
			r->csize = rd32(h + 20);
			r->usize = rd32(h + 24);
			r->cextra = (uint16_t)rd16(h + 30);
			r->offset = rd32(h + 42);
			r->lextra = (uint16_t)rd16(z + r->offset + 28);
			r->data = r->offset + 30 + rd16(z + r->offset + 26) + r->lextra;
			return 1;
		}
		h += 46 + nlen + rd16(h + 30) + rd16(h + 32);
	}
	return 0;
}

/* Some compressible bytes that are not all alike. */
static unsigned char *sample(size_t len, unsigned seed)
{
	unsigned char *p = malloc(len);
	size_t i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = i % 64 < 48 ? (unsigned char)"The quick brown fox jumps over the lazy dog. "[i % 45]
				   : (unsigned char)(seed >> 24);
	}
	return p;
}

static void read_equal(asic_zip *z, const char *name, const void *want, size_t want_len)
{
	eid_buf b = EID_BUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE], md2[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;

	ck_assert_msg(asic_zip_find(z, name, &i) == EID_OK, "no '%s'", name);
	ck_assert_uint_eq(asic_zip_size(z, i), want_len);
	ck_assert_int_eq(asic_zip_read(z, i, want_len, &b), EID_OK);
	ck_assert_uint_eq(b.len, want_len);
	ck_assert(want_len == 0 || memcmp(b.data, want, want_len) == 0);
	eid_buf_clear(&b);
	ck_assert_int_eq(asic_zip_digest(z, i, EVP_sha256(), md, &mdlen), EID_OK);
	ck_assert_uint_eq(mdlen, 32);
	ck_assert_int_eq(EVP_Digest(want, want_len, md2, NULL, EVP_sha256(), NULL), 1);
	ck_assert(memcmp(md, md2, 32) == 0);
}

static int have_python(void)
{
	return system("python3 -c 'import zipfile' >/dev/null 2>&1") == 0;
}

/* ---- the writer ---- */

START_TEST(test_asic_writer__round_trip)
{
	char *dir = unit_tmpdir(), *src = unit_join(dir, "src.pdf"), *path = unit_join(dir, "c.asice");
	size_t big_len = 300000, i;
	unsigned char *big = sample(big_len, 1);
	static const char *const order[] = { "mimetype", "README.txt", NAME_UMLAUT, NAME_JP, "dossier/sub/empty.bin" };
	asic_writer *w;
	asic_zip *z;

	unit_write(src, big, big_len);
	ck_assert_int_eq(asic_writer_open(&w, path, TYPE_E), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, "README.txt", "hello\n", 6), EID_OK);
	ck_assert_int_eq(asic_writer_add_file(w, NAME_UMLAUT, src), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, NAME_JP, "\xe3\x81\x93\xe3\x82\x93", 6), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, "dossier/sub/empty.bin", "", 0), EID_OK);
	ck_assert_uint_eq(unit_count_entries(dir), 2); /* src.pdf and the temporary file */
	ck_assert_int_eq(asic_writer_commit(w), EID_OK);
	ck_assert_uint_eq(unit_count_entries(dir), 2); /* src.pdf and c.asice */

	ck_assert_int_eq(asic_zip_open(&z, path), EID_OK);
	ck_assert_uint_eq(asic_zip_count(z), 5);
	for (i = 0; i < 5; i++)
		ck_assert_str_eq(asic_zip_name(z, i), order[i]);
	ck_assert_ptr_null(asic_zip_name(z, 5));
	read_equal(z, "README.txt", "hello\n", 6);
	read_equal(z, NAME_UMLAUT, big, big_len);
	read_equal(z, NAME_JP, "\xe3\x81\x93\xe3\x82\x93", 6);
	read_equal(z, "dossier/sub/empty.bin", "", 0);
	ck_assert_int_eq(asic_zip_find(z, "dossier", &i), EID_ENOTFOUND);
	ck_assert_int_eq(asic_zip_find(z, "dossier/", &i), EID_ENOTFOUND);
	ck_assert_int_eq(asic_zip_find(z, "readme.txt", &i), EID_ENOTFOUND);
	asic_zip_free(z);
	free(big);
	unit_rmtree(dir);
	free(src);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_asic_writer__mimetype_layout)
{
	char *dir = unit_tmpdir(), *path = unit_join(dir, "c.asics");
	const char *type = ASIC_MEDIA_TYPE_S;
	char got[256], why[256], small[8];
	unsigned char *bytes;
	asic_writer *w;
	asic_zip *z;
	raw_ent r;
	size_t len;
	int ok;

	ck_assert_int_eq(asic_writer_open(&w, path, type), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, "doc.txt", "x", 1), EID_OK);
	ck_assert_int_eq(asic_writer_commit(w), EID_OK);
	bytes = unit_read(path, &len);
	/* the local header: signature, no flags, stored, name at 30, no extra field, content at 38 */
	ck_assert_uint_eq(rd32(bytes), 0x04034b50);
	ck_assert_uint_eq(rd16(bytes + 6), 0);
	ck_assert_uint_eq(rd16(bytes + 8), 0);
	ck_assert_uint_eq(rd32(bytes + 18), strlen(type));
	ck_assert_uint_eq(rd32(bytes + 22), strlen(type));
	ck_assert_uint_eq(rd16(bytes + 26), 8);
	ck_assert_uint_eq(rd16(bytes + 28), 0);
	ck_assert(memcmp(bytes + 30, "mimetype", 8) == 0);
	ck_assert(memcmp(bytes + 38, type, strlen(type)) == 0);
	/* the central header: first, no extra field either */
	ck_assert(raw_find(bytes, len, "mimetype", &r));
	ck_assert_uint_eq(r.offset, 0);
	ck_assert_uint_eq(r.cextra, 0);
	ck_assert(raw_find(bytes, len, "doc.txt", &r));
	ck_assert_uint_eq(r.method, 8);
	ck_assert_uint_eq(r.cextra + r.lextra, 0);
	ck_assert_uint_eq(r.flags & 0x0008, 0); /* no data descriptor */
	free(bytes);

	ck_assert_int_eq(asic_zip_open(&z, path), EID_OK);
	ck_assert_int_eq(asic_zip_mimetype(z, got, sizeof(got), &ok, why, sizeof(why)), EID_OK);
	ck_assert_int_eq(ok, 1);
	ck_assert_str_eq(got, type);
	ck_assert_str_eq(why, "");
	ck_assert_int_eq(asic_zip_mimetype(z, small, sizeof(small), &ok, NULL, 0), EID_ETOOBIG);
	ck_assert_int_eq(ok, 0);
	asic_zip_free(z);

	/* a media type or nothing */
	ck_assert_int_eq(asic_writer_open(&w, path, "text plain"), EID_EINVAL);
	ck_assert_int_eq(asic_writer_open(&w, path, ""), EID_EINVAL);
	ck_assert_int_eq(asic_writer_open(&w, path, "text/"), EID_EINVAL);
	ck_assert_int_eq(asic_writer_open(&w, path, "a/b/c"), EID_EINVAL);
	ck_assert_ptr_null(w);
	ck_assert_uint_eq(unit_count_entries(dir), 1);
	unit_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_asic_writer__python_zipfile)
{
	static const char script[] =
		"import sys, zipfile\n"
		"raw = open(sys.argv[1], 'rb').read()\n"
		"z = zipfile.ZipFile(sys.argv[1])\n"
		"i = z.infolist()\n"
		"t = b'application/vnd.etsi.asic-e+zip'\n"
		"assert i[0].filename == 'mimetype' and i[0].compress_type == 0 and i[0].extra == b''\n"
		"assert i[0].header_offset == 0 and raw[30:38] == b'mimetype' and raw[38:38 + len(t)] == t\n"
		"assert z.read('mimetype') == t and z.testzip() is None\n"
		"for x in i[1:]:\n"
		"    assert x.compress_type == zipfile.ZIP_DEFLATED and x.extra == b'', x\n"
		"    assert x.flag_bits & 0x800 or x.filename.isascii(), x\n"
		"sys.stdout.buffer.write('\\n'.join(x.filename for x in i).encode('utf-8'))\n";
	char *dir, *path, *py, *res, *cmd;
	unsigned char *out;
	asic_writer *w;
	size_t len;

	if (!have_python()) {
		unit_skip("test_asic_writer__python_zipfile", "no python3");
		return;
	}
	dir = unit_tmpdir();
	path = unit_join(dir, "c.asice");
	py = unit_join(dir, "check.py");
	res = unit_join(dir, "names.txt");
	unit_write(py, script, strlen(script));
	ck_assert_int_eq(asic_writer_open(&w, path, TYPE_E), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, NAME_UMLAUT, "pdf", 3), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, NAME_JP, "txt", 3), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, "META-INF/manifest.xml", "<m/>", 4), EID_OK);
	ck_assert_int_eq(asic_writer_commit(w), EID_OK);
	ck_assert_int_ne(asprintf(&cmd, "python3 '%s' '%s' > '%s'", py, path, res), -1);
	ck_assert_int_eq(system(cmd), 0);
	out = unit_read(res, &len);
	ck_assert_str_eq((char *)out, "mimetype\n" NAME_UMLAUT "\n" NAME_JP "\nMETA-INF/manifest.xml");
	free(out);
	free(cmd);
	unit_rmtree(dir);
	free(res);
	free(py);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_asic_writer__refuses_bad_names)
{
	static const char *const bad[] = { "../evil", "a/../b", "/abs", "C:evil", "a\\b", "a//b", "./a", "a/.",
					   "dir/", "", "\xff.txt", "\xc0\xaf", "\xed\xa0\x80", "a\001b", "mimetype" };
	char *dir = unit_tmpdir(), *path = unit_join(dir, "c.asice");
	char long_name[ASIC_ZIP_MAX_NAME + 2];
	asic_writer *w;
	size_t i;

	ck_assert_int_eq(asic_writer_open(&w, path, TYPE_E), EID_OK);
	for (i = 0; i < EID_ARRAY_SIZE(bad); i++)
		ck_assert_msg(asic_writer_add_data(w, bad[i], "x", 1) == EID_EINVAL, "'%s' accepted", bad[i]);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ck_assert_int_eq(asic_writer_add_data(w, long_name, "x", 1), EID_EINVAL);
	long_name[ASIC_ZIP_MAX_NAME] = '\0';
	ck_assert_int_eq(asic_writer_add_data(w, long_name, "x", 1), EID_OK);
	/* duplicates, and a file that is also a folder, in either order */
	ck_assert_int_eq(asic_writer_add_data(w, "x.txt", "x", 1), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, "x.txt", "y", 1), EID_EINVAL);
	ck_assert_int_eq(asic_writer_add_data(w, "x.txt/y", "y", 1), EID_EINVAL);
	ck_assert_int_eq(asic_writer_add_data(w, "d/e/f", "y", 1), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, "d/e", "y", 1), EID_EINVAL);
	ck_assert_int_eq(asic_writer_add_data(w, "d", "y", 1), EID_EINVAL);
	ck_assert_int_eq(asic_writer_add_data(w, "d/e/g", "y", 1), EID_OK);
	ck_assert_int_eq(asic_writer_add_file(w, "dir-as-file", dir), EID_EIO);
	asic_writer_free(w);
	ck_assert_uint_eq(unit_count_entries(dir), 0);
	unit_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_asic_writer__leaves_nothing_on_failure)
{
	char *dir = unit_tmpdir(), *path = unit_join(dir, "c.asice"), *src = unit_join(dir, "gone.pdf");
	char *nowhere = unit_join(dir, "no/such/folder/c.asice");
	unsigned char *bytes;
	asic_writer *w;
	size_t len;

	unit_write(path, "old", 3);
	/* abandoned */
	ck_assert_int_eq(asic_writer_open(&w, path, TYPE_E), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, "a.txt", "a", 1), EID_OK);
	ck_assert_uint_eq(unit_count_entries(dir), 2);
	asic_writer_free(w);
	asic_writer_free(NULL);
	ck_assert_uint_eq(unit_count_entries(dir), 1);
	/* a file to add vanishes before the commit: the commit fails, the target stays */
	unit_write(src, "pdf", 3);
	ck_assert_int_eq(asic_writer_open(&w, path, TYPE_E), EID_OK);
	ck_assert_int_eq(asic_writer_add_file(w, "gone.pdf", src), EID_OK);
	ck_assert_int_eq(unlink(src), 0);
	ck_assert_int_eq(asic_writer_commit(w), EID_EIO);
	ck_assert_uint_eq(unit_count_entries(dir), 1);
	bytes = unit_read(path, &len);
	ck_assert_uint_eq(len, 3);
	ck_assert(memcmp(bytes, "old", 3) == 0);
	free(bytes);
	/* refused early */
	ck_assert_int_eq(asic_writer_open(&w, path, TYPE_E), EID_OK);
	ck_assert_int_eq(asic_writer_add_file(w, "x.pdf", src), EID_EIO);
	asic_writer_free(w);
	ck_assert_int_eq(asic_writer_open(&w, nowhere, TYPE_E), EID_EIO);
	ck_assert_ptr_null(w);
	ck_assert_uint_eq(unit_count_entries(dir), 1);
	unit_rmtree(dir);
	free(nowhere);
	free(src);
	free(path);
	free(dir);
}
END_TEST

/* ---- copying entries ---- */

START_TEST(test_asic_writer_copy__keeps_bytes)
{
	char *dir = unit_tmpdir(), *a = unit_join(dir, "a.asice"), *b = unit_join(dir, "b.asice");
	unsigned char *text = sample(100000, 7), *ab, *bb;
	zent ents[3];
	size_t alen, blen, i;
	asic_writer *w;
	asic_zip *za, *zb;
	raw_ent ra, rb;
	static const char *const names[] = { "mimetype", "stored.bin", "deflated.txt" };

	/* a hand-made source: a stored and a deflated entry (as another producer would write them) */
	memset(ents, 0, sizeof(ents));
	ents[0] = mimetype_entry();
	ents[1].name = "stored.bin";
	ents[1].data = text;
	ents[1].len = 5000;
	ents[2].name = "deflated.txt";
	ents[2].data = text;
	ents[2].len = 100000;
	ents[2].method = 8;
	ab = build_zip(ents, 3, &alen);
	unit_write(a, ab, alen);

	ck_assert_int_eq(asic_zip_open(&za, a), EID_OK);
	ck_assert_int_eq(asic_writer_open(&w, b, TYPE_E), EID_OK);
	ck_assert_int_eq(asic_writer_copy(w, za, 0), EID_EINVAL); /* "mimetype" is there already */
	ck_assert_int_eq(asic_writer_copy(w, za, 1), EID_OK);
	ck_assert_int_eq(asic_writer_copy(w, za, 2), EID_OK);
	ck_assert_int_eq(asic_writer_copy(w, za, 3), EID_EINVAL);
	ck_assert_int_eq(asic_writer_commit(w), EID_OK);
	asic_zip_free(za);

	bb = unit_read(b, &blen);
	for (i = 1; i < 3; i++) {
		ck_assert(raw_find(ab, alen, names[i], &ra));
		ck_assert(raw_find(bb, blen, names[i], &rb));
		ck_assert_uint_eq(ra.method, rb.method);
		ck_assert_uint_eq(ra.crc, rb.crc);
		ck_assert_uint_eq(ra.csize, rb.csize);
		ck_assert_uint_eq(ra.usize, rb.usize);
		ck_assert(memcmp(ab + ra.data, bb + rb.data, ra.csize) == 0);
	}
	ck_assert_int_eq(asic_zip_open(&zb, b), EID_OK);
	read_equal(zb, "stored.bin", text, 5000);
	read_equal(zb, "deflated.txt", text, 100000);
	asic_zip_free(zb);

	/* a copied entry whose CRC is wrong is refused before anything is written */
	ents[2].fake = FAKE_CRC;
	ents[2].crc = 1234;
	free(ab);
	ab = build_zip(ents, 3, &alen);
	unit_write(a, ab, alen);
	ck_assert_int_eq(asic_zip_open(&za, a), EID_OK);
	ck_assert_int_eq(asic_writer_open(&w, b, TYPE_E), EID_OK);
	ck_assert_int_eq(asic_writer_copy(w, za, 2), EID_EFORMAT);
	asic_writer_free(w);
	asic_zip_free(za);
	ck_assert_uint_eq(unit_count_entries(dir), 2);
	free(bb);
	free(ab);
	free(text);
	unit_rmtree(dir);
	free(b);
	free(a);
	free(dir);
}
END_TEST

START_TEST(test_asic_writer_copy__add_to_existing)
{
	char *dir = unit_tmpdir(), *path = unit_join(dir, "c.asice");
	unsigned char *one = sample(70000, 3);
	asic_writer *w;
	asic_zip *z;
	size_t i;

	ck_assert_int_eq(asic_writer_open(&w, path, TYPE_E), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, NAME_UMLAUT, one, 70000), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, "META-INF/signatures0.xml", "<sig/>", 6), EID_OK);
	ck_assert_int_eq(asic_writer_commit(w), EID_OK);

	/* rewrite the container in place: every entry but "mimetype" copied, one added */
	ck_assert_int_eq(asic_zip_open(&z, path), EID_OK);
	ck_assert_int_eq(asic_writer_open(&w, path, TYPE_E), EID_OK);
	for (i = 0; i < asic_zip_count(z); i++)
		if (strcmp(asic_zip_name(z, i), "mimetype") != 0)
			ck_assert_int_eq(asic_writer_copy(w, z, i), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, "META-INF/signatures1.xml", "<sig2/>", 7), EID_OK);
	ck_assert_int_eq(asic_writer_commit(w), EID_OK);
	asic_zip_free(z);

	ck_assert_uint_eq(unit_count_entries(dir), 1);
	ck_assert_int_eq(asic_zip_open(&z, path), EID_OK);
	ck_assert_uint_eq(asic_zip_count(z), 4);
	ck_assert_str_eq(asic_zip_name(z, 0), "mimetype");
	ck_assert_str_eq(asic_zip_name(z, 1), NAME_UMLAUT);
	ck_assert_str_eq(asic_zip_name(z, 3), "META-INF/signatures1.xml");
	read_equal(z, NAME_UMLAUT, one, 70000);
	read_equal(z, "META-INF/signatures0.xml", "<sig/>", 6);
	read_equal(z, "META-INF/signatures1.xml", "<sig2/>", 7);
	asic_zip_free(z);
	free(one);
	unit_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* ---- opening hostile containers ---- */

START_TEST(test_asic_zip_open__not_a_zip)
{
	char *dir = unit_tmpdir(), *missing = unit_join(dir, "missing.zip");
	static const char pdf[] = "%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
	unsigned char eocd_only[22] = { 0x50, 0x4b, 0x05, 0x06 };
	asic_zip *z;
	char why[128], type[64];
	int ok;

	ck_assert_int_eq(open_both(dir, (const unsigned char *)pdf, strlen(pdf), NULL), EID_EFORMAT);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "not a ZIP"));
	ck_assert_int_eq(open_both(dir, (const unsigned char *)"", 0, NULL), EID_EFORMAT);
	ck_assert_int_eq(open_both(dir, (const unsigned char *)"PK\x03\x04", 4, NULL), EID_EFORMAT);
	ck_assert_int_eq(asic_zip_open(&z, missing), EID_EIO);
	ck_assert_int_eq(asic_zip_open(&z, dir), EID_EIO);
	ck_assert_ptr_null(z);
	ck_assert_int_eq(mkfifo(missing, 0600), 0); /* not opened for good: no writer would come */
	ck_assert_int_eq(asic_zip_open(&z, missing), EID_EIO);
	ck_assert_int_eq(asic_zip_open(&z, NULL), EID_EINVAL);
	/* an empty archive opens, with nothing in it and no mimetype */
	ck_assert_int_eq(open_both(dir, eocd_only, sizeof(eocd_only), &z), EID_OK);
	ck_assert_uint_eq(asic_zip_count(z), 0);
	ck_assert_int_eq(asic_zip_mimetype(z, type, sizeof(type), &ok, why, sizeof(why)), EID_OK);
	ck_assert_int_eq(ok, 0);
	ck_assert_str_eq(why, "the container is empty");
	asic_zip_free(z);
	asic_zip_free(NULL);
	unit_rmtree(dir);
	free(missing);
	free(dir);
}
END_TEST

START_TEST(test_asic_zip_open__unsafe_names)
{
	static const struct {
		const char *name;
		size_t len;
		const char *why;
	} bad[] = {
		{ "../evil", 0, "\"..\" segment" },      { "a/../../b", 0, "\"..\" segment" },
		{ "/etc/passwd", 0, "absolute" },        { "C:evil.txt", 0, "drive letter" },
		{ "c:/evil.txt", 0, "drive letter" },    { "a\\..\\b", 0, "backslash" },
		{ "a//b", 0, "empty segment" },          { "./a", 0, "\".\" segment" },
		{ "a/./b", 0, "\".\" segment" },         { "", 0, "empty" },
		{ "\xff.txt", 0, "UTF-8" },              { "\xc0\xaf" "etc", 0, "UTF-8" },
		{ "\xed\xa0\x80", 0, "UTF-8" },          { "\xf4\x90\x80\x80", 0, "UTF-8" },
		{ "caf\xe9.txt", 0, "UTF-8" },           { "a\x1b[31mred", 0, "control" },
		{ "a\0b.txt", 7, "NUL" },               { "x\xef\xbf\xbf", 0, "U+FFFF" },
	};
	char *dir = unit_tmpdir();
	char long_name[ASIC_ZIP_MAX_NAME + 1];
	zent e[2];
	asic_zip *z;
	size_t i, len;
	unsigned char *bytes;

	memset(e, 0, sizeof(e));
	e[0] = mimetype_entry();
	e[1].data = "x";
	e[1].len = 1;
	for (i = 0; i < EID_ARRAY_SIZE(bad); i++) {
		e[1].name = bad[i].name;
		e[1].name_len = bad[i].len;
		refused(dir, e, 2, EID_EFORMAT, bad[i].why);
		ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "entry 1"));
	}
	/* 1024 bytes are fine, 1025 are not */
	memset(long_name, 'a', sizeof(long_name));
	e[1].name = long_name;
	e[1].name_len = ASIC_ZIP_MAX_NAME;
	bytes = build_zip(e, 2, &len);
	ck_assert_int_eq(open_both(dir, bytes, len, &z), EID_OK);
	ck_assert_uint_eq(strlen(asic_zip_name(z, 1)), ASIC_ZIP_MAX_NAME);
	asic_zip_free(z);
	free(bytes);
	e[1].name_len = ASIC_ZIP_MAX_NAME + 1;
	refused(dir, e, 2, EID_ETOOBIG, "longer than 1024");
	/* the checks are also there for others */
	ck_assert_int_eq(asic_zip_name_check("a/b.txt", 7, 0), EID_OK);
	ck_assert_int_eq(asic_zip_name_check("a/b/", 4, 1), EID_OK);
	ck_assert_int_eq(asic_zip_name_check("a/b/", 4, 0), EID_EFORMAT);
	ck_assert_int_eq(asic_zip_name_check("a/b", 3, 1), EID_EFORMAT);
	ck_assert_int_eq(asic_zip_name_check("/", 1, 1), EID_EFORMAT);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_asic_zip_open__duplicates)
{
	char *dir = unit_tmpdir();
	zent e[3];

	memset(e, 0, sizeof(e));
	e[0] = mimetype_entry();
	e[1].data = e[2].data = "x";
	e[1].len = e[2].len = 1;
	e[1].name = e[2].name = "doc.txt";
	refused(dir, e, 3, EID_EFORMAT, "two entries are named 'doc.txt'");
	/* names libzip takes for equal (C strings): the NUL is named */
	e[1].name = "a\0x";
	e[2].name = "a\0y";
	e[1].name_len = e[2].name_len = 3;
	refused(dir, e, 3, EID_EFORMAT, "NUL");
	e[1].name_len = e[2].name_len = 0;
	/* a file that is also a folder, both orders */
	e[1].name = "a";
	e[2].name = "a/b";
	refused(dir, e, 3, EID_EFORMAT, "'a' is both a file and a folder");
	e[1].name = "a/b/c";
	e[2].name = "a/b";
	refused(dir, e, 3, EID_EFORMAT, "'a/b' is both a file and a folder");
	/* a folder entry twice, or a folder entry that is a file too */
	e[1].name = e[2].name = "d/";
	e[1].len = e[2].len = 0;
	refused(dir, e, 3, EID_EFORMAT, "two entries are named 'd/'");
	e[2].name = "d";
	refused(dir, e, 3, EID_EFORMAT, "'d' is both a file and a folder");
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_asic_zip_open__folders)
{
	char *dir = unit_tmpdir();
	zent e[4];
	asic_zip *z;
	size_t len, i;
	unsigned char *bytes;

	memset(e, 0, sizeof(e));
	e[0] = mimetype_entry();
	e[1].name = "dossier/";
	e[2].name = "dossier/a.txt";
	e[2].data = "a";
	e[2].len = 1;
	e[3].name = "dossier/sub/";
	bytes = build_zip(e, 4, &len);
	ck_assert_int_eq(open_both(dir, bytes, len, &z), EID_OK);
	free(bytes);
	/* folders are checked, then skipped */
	ck_assert_uint_eq(asic_zip_count(z), 2);
	ck_assert_str_eq(asic_zip_name(z, 1), "dossier/a.txt");
	ck_assert_int_eq(asic_zip_find(z, "dossier/", &i), EID_ENOTFOUND);
	ck_assert_int_eq(asic_zip_find(z, "dossier/a.txt", &i), EID_OK);
	ck_assert_uint_eq(i, 1);
	asic_zip_free(z);
	e[3].data = "x";
	e[3].len = 1;
	refused(dir, e, 4, EID_EFORMAT, "folder with content");
	e[3].name = "../";
	e[3].len = 0;
	refused(dir, e, 4, EID_EFORMAT, "\"..\" segment");
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_asic_zip_open__encrypted_methods_links)
{
	static const unsigned char aes[] = { 0x01, 0x99, 7, 0, 2, 0, 'A', 'E', 3, 8, 0 };
	char *dir = unit_tmpdir();
	unsigned char data[64];
	zent e[2];

	memset(data, 0x5a, sizeof(data));
	memset(e, 0, sizeof(e));
	e[0] = mimetype_entry();
	e[1].name = "secret.txt";
	e[1].data = data;
	e[1].len = sizeof(data);
	e[1].flags = 0x0001; /* traditional PKWARE */
	refused(dir, e, 2, EID_EFORMAT, "'secret.txt' is encrypted");
	e[1].flags = 0x0041; /* strong encryption */
	refused(dir, e, 2, EID_EFORMAT, "is encrypted");
	e[1].flags = 0x0001; /* WinZip AES */
	e[1].method = 99;
	e[1].extra = aes;
	e[1].extra_len = sizeof(aes);
	refused(dir, e, 2, EID_EFORMAT, "is encrypted");
	e[1].flags = 0;
	e[1].extra = NULL;
	e[1].extra_len = 0;
	e[1].method = 12; /* bzip2 */
	refused(dir, e, 2, EID_EFORMAT, "compression method 12");
	e[1].method = 14; /* LZMA */
	refused(dir, e, 2, EID_EFORMAT, "compression method 14");
	e[1].method = 1; /* shrunk */
	refused(dir, e, 2, EID_EFORMAT, "compression method 1 ");
	/* links and special files would be made as such by an extractor; patch data is not content */
	e[1].method = 0;
	e[1].mode = 0120777;
	refused(dir, e, 2, EID_EFORMAT, "symbolic link");
	e[1].mode = 0010644;
	refused(dir, e, 2, EID_EFORMAT, "special file");
	e[1].mode = 0100644;
	e[1].flags = 0x0020;
	refused(dir, e, 2, EID_EFORMAT, "patch data");
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_asic_zip_open__zip_bomb)
{
	char *dir = unit_tmpdir();
	size_t chunk = (2u << 20) + 1000, len;
	unsigned char *noise = sample(chunk, 11), *bytes;
	zent e[4];
	asic_zip *z;

	memset(e, 0, sizeof(e));
	e[0] = mimetype_entry();
	/* 2 GiB declared from 1 KiB */
	e[1].name = "bomb.bin";
	e[1].data = noise;
	e[1].len = 1024;
	e[1].method = 8;
	e[1].fake = RAW_DATA | FAKE_USIZE;
	e[1].usize = UINT64_C(2) << 30;
	refused(dir, e, 2, EID_ETOOBIG, "zip bomb");
	/* just within the ratio */
	e[1].len = 2u << 20;
	e[1].usize = (uint64_t)e[1].len * ASIC_ZIP_MAX_RATIO;
	bytes = build_zip(e, 2, &len);
	ck_assert_int_eq(open_both(dir, bytes, len, &z), EID_OK);
	asic_zip_free(z);
	free(bytes);
	/* each within the ratio, together above 4 GiB */
	e[1].usize = e[2].usize = e[3].usize = UINT64_C(1536) << 20;
	e[2] = e[3] = e[1];
	e[2].name = "bomb2.bin";
	e[3].name = "bomb3.bin";
	refused(dir, e, 4, EID_ETOOBIG, "more than 4 GiB in total");
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "bomb3.bin"));
	free(noise);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_asic_zip_open__too_many_entries)
{
	char *dir = unit_tmpdir();
	size_t n = ASIC_ZIP_MAX_ENTRIES + 1, i, len;
	char (*names)[16] = malloc(n * sizeof(*names));
	zent *e = calloc(n, sizeof(*e));
	unsigned char *bytes;
	asic_zip *z;

	ck_assert_ptr_nonnull(names);
	ck_assert_ptr_nonnull(e);
	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "d%zu/f%05zu", i % 7, i);
		e[i].name = names[i];
	}
	bytes = build_zip(e, n - 1, &len);
	ck_assert_int_eq(open_both(dir, bytes, len, &z), EID_OK);
	ck_assert_uint_eq(asic_zip_count(z), ASIC_ZIP_MAX_ENTRIES);
	asic_zip_free(z);
	free(bytes);
	refused(dir, e, n, EID_ETOOBIG, "10001 entries");
	free(e);
	free(names);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_asic_zip_open__truncated)
{
	char *dir = unit_tmpdir(), *path = unit_join(dir, "c.asice");
	unsigned char *bytes;
	asic_writer *w;
	size_t len, cut[12], i;

	ck_assert_int_eq(asic_writer_open(&w, path, TYPE_E), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, "a.txt", "some text, some text, some text", 31), EID_OK);
	ck_assert_int_eq(asic_writer_add_data(w, "b.txt", "other", 5), EID_OK);
	ck_assert_int_eq(asic_writer_commit(w), EID_OK);
	bytes = unit_read(path, &len);
	cut[0] = 1;
	cut[1] = 4;
	cut[2] = 29;
	cut[3] = 30;
	cut[4] = 38;
	cut[5] = len / 2;
	cut[6] = len - 60;
	cut[7] = len - 23;
	cut[8] = len - 22;
	cut[9] = len - 21;
	cut[10] = len - 2;
	cut[11] = len - 1;
	for (i = 0; i < EID_ARRAY_SIZE(cut); i++)
		ck_assert_msg(open_both(dir, bytes, cut[i], NULL) == EID_EFORMAT, "cut at %zu: %s", cut[i],
			      eid_error_last()->message);
	/* bytes added after the end record are refused too */
	bytes = realloc(bytes, len + 5);
	ck_assert_ptr_nonnull(bytes);
	memcpy(bytes + len, "junk!", 5);
	ck_assert_int_eq(open_both(dir, bytes, len + 5, NULL), EID_EFORMAT);
	free(bytes);
	unit_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_asic_zip_open__names_others_see_differently)
{
	char *dir = unit_tmpdir();
	unsigned char upath[5 + 16];
	unsigned char *inner, *block;
	size_t inner_len, i;
	uint32_t crc;
	zent e[3], b[1];

	memset(e, 0, sizeof(e));
	e[0] = mimetype_entry();
	e[1].name = "good.txt";
	e[1].data = "x";
	e[1].len = 1;
	/* the local header names another file than the central directory */
	e[1].local_name = "evil.txt";
	refused(dir, e, 2, EID_EFORMAT, "inconsistent");
	e[1].local_name = "evil/../../x";
	refused(dir, e, 2, EID_EFORMAT, NULL);
	e[1].local_name = NULL;
	/* an Info-ZIP Unicode Path field that renames the entry, in both headers */
	crc = (uint32_t)crc32(0, (const Bytef *)"good.txt", 8);
	upath[0] = 1;
	upath[1] = (unsigned char)crc;
	upath[2] = (unsigned char)(crc >> 8);
	upath[3] = (unsigned char)(crc >> 16);
	upath[4] = (unsigned char)(crc >> 24);
	memcpy(upath + 5, "../../evil.txt", 14);
	block = malloc(4 + 19);
	ck_assert_ptr_nonnull(block);
	block[0] = 0x75;
	block[1] = 0x70;
	block[2] = 19;
	block[3] = 0;
	memcpy(block + 4, upath, 19);
	e[1].extra = block;
	e[1].extra_len = 4 + 19;
	refused(dir, e, 2, EID_EFORMAT, "Unicode Path");
	e[1].extra = NULL;
	e[1].extra_len = 0;
	free(block);
	/* overlapping entries: "b.txt" lives inside the data of "a.txt" */
	memset(b, 0, sizeof(b));
	b[0].name = "b.txt";
	b[0].data = "BBBB";
	b[0].len = 4;
	inner = build_zip(b, 1, &inner_len);
	for (i = 0; i + 4 < inner_len && memcmp(inner + i, "PK\x01\x02", 4) != 0; i++)
		;
	e[1].name = "a.txt";
	e[1].data = inner;
	e[1].len = i; /* b's local header and data */
	e[2].name = "b.txt";
	e[2].data = "BBBB";
	e[2].len = 4;
	e[2].fake = FAKE_OFFSET;
	e[2].offset = 30 + strlen(TYPE_E) + 8 + 30 + 5;
	refused(dir, e, 3, EID_EFORMAT, "overlap");
	free(inner);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

/*
 * @zip (from build_zip, no comment) with a Zip64 end record and locator in
 * front of its end record; the 32-bit record saturated, or holding
 * @cd_offset32 when not 0xffffffff.
 */
static unsigned char *with_zip64_end(const unsigned char *zip, size_t len, uint32_t cd_offset32, size_t *out_len)
{
	const unsigned char *eocd = zip + len - 22;
	uint64_t n = rd16(eocd + 10), cd_size = rd32(eocd + 12), cd_off = rd32(eocd + 16), at = len - 22;
	eid_buf b = EID_BUF_INIT;

	put(&b, zip, len - 22);
	put32(&b, 0x06064b50);
	put32(&b, 44);
	put32(&b, 0);
	put32(&b, 45 | 45 << 16);
	put32(&b, 0);
	put32(&b, 0);
	put32(&b, (uint32_t)n);
	put32(&b, 0);
	put32(&b, (uint32_t)n);
	put32(&b, 0);
	put32(&b, (uint32_t)cd_size);
	put32(&b, 0);
	put32(&b, (uint32_t)cd_off);
	put32(&b, 0);
	put32(&b, 0x07064b50);
	put32(&b, 0);
	put32(&b, (uint32_t)at);
	put32(&b, 0);
	put32(&b, 1);
	put32(&b, 0x06054b50);
	put32(&b, 0);
	put32(&b, 0xffffffffu);
	put32(&b, 0xffffffffu);
	put32(&b, cd_offset32);
	put16(&b, 0);
	*out_len = b.len;
	return b.data;
}

START_TEST(test_asic_zip_open__end_records)
{
	char *dir = unit_tmpdir();
	unsigned char *bytes, *z64;
	size_t len, len64;
	zent e[2];
	asic_zip *z;

	memset(e, 0, sizeof(e));
	e[0] = mimetype_entry();
	e[1].name = "doc.txt";
	e[1].data = "x";
	e[1].len = 1;
	bytes = build_zip(e, 2, &len);
	/* Zip64 end records, as libzip and others read them */
	z64 = with_zip64_end(bytes, len, 0xffffffffu, &len64);
	ck_assert_int_eq(open_both(dir, z64, len64, &z), EID_OK);
	ck_assert_uint_eq(asic_zip_count(z), 2);
	asic_zip_free(z);
	free(z64);
	/* ... whose 32-bit record points elsewhere: readers of one or the other disagree */
	z64 = with_zip64_end(bytes, len, 7, &len64);
	ck_assert_int_eq(open_both(dir, z64, len64, NULL), EID_EFORMAT);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "disagree"));
	free(z64);
	/* an end record hidden in the archive comment */
	z64 = malloc(len + 22);
	ck_assert_ptr_nonnull(z64);
	memcpy(z64, bytes, len);
	z64[len - 2] = 22;
	memcpy(z64 + len, bytes + len - 22, 22);
	ck_assert_int_eq(open_both(dir, z64, len + 22, NULL), EID_EFORMAT);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "comment"));
	free(z64);
	free(bytes);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

/* ---- reading ---- */

START_TEST(test_asic_zip_read__lying_sizes)
{
	char *dir = unit_tmpdir();
	size_t zeros_len = 16u << 20, len;
	unsigned char *zeros = calloc(1, zeros_len), *text = sample(20000, 5), *bytes;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	eid_buf b = EID_BUF_INIT;
	zent e[2];
	asic_zip *z;

	ck_assert_ptr_nonnull(zeros);
	memset(e, 0, sizeof(e));
	e[0] = mimetype_entry();
	/* 16 MiB of zeros that claim to be 1 KiB: reading stops after 1 KiB and one byte */
	e[1].name = "zeros.bin";
	e[1].data = zeros;
	e[1].len = zeros_len;
	e[1].method = 8;
	e[1].fake = FAKE_USIZE;
	e[1].usize = 1024;
	bytes = build_zip(e, 2, &len);
	ck_assert_int_eq(open_both(dir, bytes, len, &z), EID_OK);
	free(bytes);
	ck_assert_uint_eq(asic_zip_size(z, 1), 1024);
	ck_assert_int_eq(asic_zip_read(z, 1, SIZE_MAX, &b), EID_EFORMAT);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "more data than its declared 1024 bytes"));
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(asic_zip_digest(z, 1, EVP_sha256(), md, &mdlen), EID_EFORMAT);
	asic_zip_free(z);
	/* larger than the data */
	e[1].data = text;
	e[1].len = 20000;
	e[1].usize = 20001;
	bytes = build_zip(e, 2, &len);
	ck_assert_int_eq(open_both(dir, bytes, len, &z), EID_OK);
	free(bytes);
	ck_assert_int_eq(asic_zip_read(z, 1, SIZE_MAX, &b), EID_EFORMAT);
	ck_assert_int_eq(asic_zip_digest(z, 1, EVP_sha256(), md, &mdlen), EID_EFORMAT);
	asic_zip_free(z);
	/* stored, with a size that differs from the bytes stored: readers would take one or the other */
	e[1].method = 0;
	e[1].len = 100;
	e[1].usize = 50;
	refused(dir, e, 2, EID_EFORMAT, "stored with two sizes");
	free(text);
	free(zeros);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_asic_zip_read__bad_crc)
{
	char *dir = unit_tmpdir();
	unsigned char *text = sample(50000, 9), *bytes;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	eid_buf b = EID_BUF_INIT;
	size_t len;
	uint16_t m;
	zent e[2];
	asic_zip *z;

	for (m = 0; m <= 8; m += 8) {
		memset(e, 0, sizeof(e));
		e[0] = mimetype_entry();
		e[1].name = "doc.txt";
		e[1].data = text;
		e[1].len = 50000;
		e[1].method = m;
		e[1].fake = FAKE_CRC;
		e[1].crc = (uint32_t)crc32(0, text, 50000) ^ 0x10;
		bytes = build_zip(e, 2, &len);
		ck_assert_int_eq(open_both(dir, bytes, len, &z), EID_OK);
		ck_assert_int_eq(asic_zip_read(z, 1, SIZE_MAX, &b), EID_EFORMAT);
		ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "CRC"));
		ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "doc.txt"));
		ck_assert_int_eq(asic_zip_digest(z, 1, EVP_sha256(), md, &mdlen), EID_EFORMAT);
		ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "CRC"));
		asic_zip_free(z);
		/* corrupt deflate data */
		if (m == 8) {
			raw_ent r;

			ck_assert(raw_find(bytes, len, "doc.txt", &r));
			memset(bytes + r.data + 10, 0xff, 40);
			ck_assert_int_eq(open_both(dir, bytes, len, &z), EID_OK);
			ck_assert_int_eq(asic_zip_read(z, 1, SIZE_MAX, &b), EID_EFORMAT);
			asic_zip_free(z);
		}
		free(bytes);
	}
	free(text);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_asic_zip_read__limits)
{
	char *dir = unit_tmpdir();
	unsigned char *bytes;
	eid_buf b = EID_BUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	size_t len;
	zent e[2];
	asic_zip *z;

	memset(e, 0, sizeof(e));
	e[0] = mimetype_entry();
	e[1].name = "doc.txt";
	e[1].data = "0123456789";
	e[1].len = 10;
	e[1].method = 8;
	bytes = build_zip(e, 2, &len);
	ck_assert_int_eq(open_both(dir, bytes, len, &z), EID_OK);
	free(bytes);
	ck_assert_int_eq(asic_zip_read(z, 1, 9, &b), EID_ETOOBIG);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "doc.txt"));
	ck_assert_int_eq(asic_zip_read(z, 1, 10, &b), EID_OK);
	ck_assert_str_eq((char *)b.data, "0123456789");
	/* the buffer is replaced, not appended to */
	ck_assert_int_eq(asic_zip_read(z, 0, 100, &b), EID_OK);
	ck_assert_str_eq((char *)b.data, TYPE_E);
	eid_buf_clear(&b);
	ck_assert_int_eq(asic_zip_read(z, 2, 100, &b), EID_EINVAL);
	ck_assert_int_eq(asic_zip_digest(z, 2, EVP_sha256(), md, &mdlen), EID_EINVAL);
	ck_assert_int_eq(asic_zip_digest(z, 1, EVP_sha384(), md, &mdlen), EID_OK);
	ck_assert_uint_eq(mdlen, 48);
	ck_assert_uint_eq(asic_zip_size(z, 2), 0);
	asic_zip_free(z);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

/* ---- the mimetype verdict ---- */

START_TEST(test_asic_zip_mimetype__verdicts)
{
	static const unsigned char ut[] = { 0x55, 0x54, 5, 0, 1, 0, 0, 0, 0 };
	char *dir = unit_tmpdir();
	char type[256], why[256];
	unsigned char *bytes;
	size_t len, k;
	int ok;
	zent e[2];
	asic_zip *z;
	struct {
		const char *why;
	} want[7] = { { NULL }, { "compressed" }, { "extra field" }, { "extra field" }, { "entry 1, not the first" },
		      { "no 'mimetype' entry" }, { "media type" } };

	for (k = 0; k < EID_ARRAY_SIZE(want); k++) {
		memset(e, 0, sizeof(e));
		e[0] = mimetype_entry();
		e[1].name = "doc.txt";
		e[1].data = "x";
		e[1].len = 1;
		switch (k) {
		case 1: e[0].method = 8; break;
		case 2: e[0].extra = ut; e[0].extra_len = sizeof(ut); break;
		case 3: e[0].cextra = ut; e[0].cextra_len = sizeof(ut); break;
		case 4: e[1] = e[0]; e[0].name = "doc.txt"; break;
		case 5: e[0].name = "MIMETYPE"; break;
		case 6: e[0].data = "text/plain; charset=utf-8"; e[0].len = strlen(e[0].data); break;
		}
		bytes = build_zip(e, 2, &len);
		ck_assert_int_eq(open_both(dir, bytes, len, &z), EID_OK);
		ck_assert_int_eq(asic_zip_mimetype(z, type, sizeof(type), &ok, why, sizeof(why)), EID_OK);
		if (want[k].why == NULL) {
			ck_assert_int_eq(ok, 1);
			ck_assert_str_eq(type, TYPE_E);
		} else {
			ck_assert_msg(ok == 0 && strstr(why, want[k].why) != NULL, "case %zu: %d '%s'", k, ok, why);
			ck_assert_str_eq(type, "");
		}
		asic_zip_free(z);
		free(bytes);
	}
	/* a stored mimetype whose bytes fail the CRC */
	memset(e, 0, sizeof(e));
	e[0] = mimetype_entry();
	e[0].fake = FAKE_CRC;
	bytes = build_zip(e, 1, &len);
	ck_assert_int_eq(open_both(dir, bytes, len, &z), EID_OK);
	ck_assert_int_eq(asic_zip_mimetype(z, type, sizeof(type), &ok, why, sizeof(why)), EID_OK);
	ck_assert_int_eq(ok, 0);
	ck_assert_ptr_nonnull(strstr(why, "CRC"));
	ck_assert_int_eq(asic_zip_mimetype(z, NULL, 0, &ok, NULL, 0), EID_EINVAL);
	asic_zip_free(z);
	free(bytes);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

/* ---- manifest and URIs ---- */

START_TEST(test_asic_manifest_build__escaping)
{
	static const char *const names[] = { "a&b.txt", "<x>.xml", "say \"hi\" it's.txt", NAME_UMLAUT };
	static const char *const types[] = { "text/plain", "application/xml", "text/plain; charset=\"utf-8\"",
					     "application/pdf" };
	const char *bad_name[] = { "../x" }, *bad_type[] = { "text/\nplain" };
	eid_buf b = EID_BUF_INIT;
	const char *s;

	ck_assert_int_eq(asic_manifest_build(names, types, 4, &b), EID_OK);
	s = (const char *)b.data;
	ck_assert_uint_eq(strlen(s), b.len);
	ck_assert_ptr_nonnull(strstr(s, "<?xml version=\"1.0\" encoding=\"UTF-8\""));
	ck_assert_ptr_nonnull(strstr(s, "xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\""));
	ck_assert_ptr_nonnull(
		strstr(s, "<manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"" TYPE_E "\"/>"));
	ck_assert_ptr_nonnull(strstr(s, "manifest:full-path=\"a&amp;b.txt\" manifest:media-type=\"text/plain\"/>"));
	ck_assert_ptr_nonnull(strstr(s, "manifest:full-path=\"&lt;x&gt;.xml\""));
	ck_assert_ptr_nonnull(strstr(s, "manifest:full-path=\"say &quot;hi&quot; it&apos;s.txt\""));
	ck_assert_ptr_nonnull(strstr(s, "manifest:media-type=\"text/plain; charset=&quot;utf-8&quot;\""));
	ck_assert_ptr_nonnull(strstr(s, "manifest:full-path=\"" NAME_UMLAUT "\" manifest:media-type=\"application/pdf\""));
	ck_assert_ptr_null(strstr(s, "a&b"));
	ck_assert_ptr_nonnull(strstr(s, "</manifest:manifest>\n"));
	/* only the root */
	ck_assert_int_eq(asic_manifest_build(NULL, NULL, 0, &b), EID_OK);
	ck_assert_ptr_null(strstr((const char *)b.data, "a&amp;b"));
	ck_assert_int_eq(asic_manifest_build(bad_name, types, 1, &b), EID_EINVAL);
	ck_assert_int_eq(asic_manifest_build(names, bad_type, 1, &b), EID_EINVAL);
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_asic_uri__encode_and_back)
{
	static const struct {
		const char *name, *uri;
	} pairs[] = {
		{ NAME_UMLAUT, "dossier/%C3%9Cberweisung%20%E2%80%93%20M%C3%A4rz.pdf" },
		{ NAME_JP, "%E6%97%A5%E6%9C%AC%E8%AA%9E.txt" },
		{ "a b#c?d%e&f+g.txt", "a%20b%23c%3Fd%25e%26f%2Bg.txt" },
		{ "META-INF/signatures0.xml", "META-INF/signatures0.xml" },
		{ "x_y~z-1.2", "x_y~z-1.2" },
	};
	eid_buf b = EID_BUF_INIT;
	size_t i;

	for (i = 0; i < EID_ARRAY_SIZE(pairs); i++) {
		ck_assert_int_eq(asic_uri_encode(pairs[i].name, &b), EID_OK);
		ck_assert_str_eq((char *)b.data, pairs[i].uri);
		ck_assert_int_eq(asic_uri_decode(pairs[i].uri, &b), EID_OK);
		ck_assert_str_eq((char *)b.data, pairs[i].name);
	}
	/* lower-case escapes, and characters left as they are */
	ck_assert_int_eq(asic_uri_decode("dossier/%c3%9cberweisung M%C3%A4rz.pdf", &b), EID_OK);
	ck_assert_str_eq((char *)b.data, "dossier/\xc3\x9c" "berweisung M\xc3\xa4rz.pdf");
	ck_assert_int_eq(asic_uri_decode("ab%3Ac", &b), EID_OK);
	ck_assert_str_eq((char *)b.data, "ab:c");
	ck_assert_int_eq(asic_uri_encode("../x", &b), EID_EINVAL);
	ck_assert_int_eq(asic_uri_encode("a/", &b), EID_EINVAL);
	ck_assert_ptr_null(b.data);
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_asic_uri_decode__refusals)
{
	static const char *const bad[] = {
		"%2e%2e/evil", "%2E%2E%2Fevil", "../evil", "a/%2e/b", "a%00b", "%00", "%zz", "%4", "%", "a%g1",
		"#frag", "doc.xml#xpointer(/)", "a?x=1", "http://example.com/x", "urn:x", "/abs", "%2Fabs",
		"a%2F%2Fb", "a%5Cb", "%FF", "%C0%AF", "C%3A/x", "", "dir/", "a%0Ab",
	};
	eid_buf b = EID_BUF_INIT;
	size_t i;

	for (i = 0; i < EID_ARRAY_SIZE(bad); i++) {
		ck_assert_msg(asic_uri_decode(bad[i], &b) == EID_EFORMAT, "'%s' accepted", bad[i]);
		ck_assert_ptr_null(b.data);
	}
	ck_assert_int_eq(asic_uri_decode(NULL, &b), EID_EINVAL);
}
END_TEST

static Suite *zip_suite(void)
{
	Suite *s = suite_create("asic_zip");
	TCase *tc;

	tc = tcase_create("asic_writer");
	tcase_set_timeout(tc, 60); /* python3 starts slowly on a loaded machine */
	tcase_add_test(tc, test_asic_writer__round_trip);
	tcase_add_test(tc, test_asic_writer__mimetype_layout);
	tcase_add_test(tc, test_asic_writer__python_zipfile);
	tcase_add_test(tc, test_asic_writer__refuses_bad_names);
	tcase_add_test(tc, test_asic_writer__leaves_nothing_on_failure);
	suite_add_tcase(s, tc);

	tc = tcase_create("asic_writer_copy");
	tcase_add_test(tc, test_asic_writer_copy__keeps_bytes);
	tcase_add_test(tc, test_asic_writer_copy__add_to_existing);
	suite_add_tcase(s, tc);

	tc = tcase_create("asic_zip_open");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_asic_zip_open__not_a_zip);
	tcase_add_test(tc, test_asic_zip_open__unsafe_names);
	tcase_add_test(tc, test_asic_zip_open__duplicates);
	tcase_add_test(tc, test_asic_zip_open__folders);
	tcase_add_test(tc, test_asic_zip_open__encrypted_methods_links);
	tcase_add_test(tc, test_asic_zip_open__zip_bomb);
	tcase_add_test(tc, test_asic_zip_open__too_many_entries);
	tcase_add_test(tc, test_asic_zip_open__truncated);
	tcase_add_test(tc, test_asic_zip_open__end_records);
	tcase_add_test(tc, test_asic_zip_open__names_others_see_differently);
	suite_add_tcase(s, tc);

	tc = tcase_create("asic_zip_read");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_asic_zip_read__lying_sizes);
	tcase_add_test(tc, test_asic_zip_read__bad_crc);
	tcase_add_test(tc, test_asic_zip_read__limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("asic_zip_mimetype");
	tcase_add_test(tc, test_asic_zip_mimetype__verdicts);
	suite_add_tcase(s, tc);

	tc = tcase_create("asic_manifest_build");
	tcase_add_test(tc, test_asic_manifest_build__escaping);
	suite_add_tcase(s, tc);

	tc = tcase_create("asic_uri");
	tcase_add_test(tc, test_asic_uri__encode_and_back);
	tcase_add_test(tc, test_asic_uri_decode__refusals);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(zip_suite());
}
