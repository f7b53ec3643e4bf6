/*
 * The PDF file reader: header, xref chain (classic tables, xref streams,
 * hybrid files, incremental updates, linearized files), recovery of a broken
 * xref by scanning, object loading (object streams included) with a cache,
 * stream decoding and the page tree.
 *
 * The file is read with pread() in bounded windows: memory grows with the
 * number of objects, never with the file size.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "lexer.h"
#include "pdf.h"

#define LOAD_MAX_DEPTH 16                   /* references resolved while loading one object */
#define RESOLVE_MAX_HOPS 16                 /* "N G R" whose object is itself a reference */
#define WINDOW_MIN 4096                     /* first read when parsing at an offset */
#define WINDOW_MAX (PDF_MAX_TOKEN + 65536)  /* largest window an object may need */
#define SCAN_CHUNK 65536                    /* recovery scan and endstream search */
#define SCAN_OVERLAP 64
#define HEADER_SCAN 1024
#define TAIL_SCAN 2048
#define EOF_SCAN 4096                       /* how far after an xref section its %%EOF may lie */
#define VALIDATE_SAMPLES 32
#define MAX_FILTERS 8

/* ---- file access ---- */

static int read_some(pdf_doc *doc, uint64_t off, void *buf, size_t len, size_t *got)
{
	size_t n = 0;

	/* never past doc->size: a document may be opened as a prefix of its file */
	if (off >= doc->size)
		len = 0;
	else if (len > doc->size - off)
		len = (size_t)(doc->size - off);

	while (n < len) {
		ssize_t r = pread(doc->fd, (char *)buf + n, len - n, (off_t)(off + n));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return eid_error__set(EID_EIO, "reading %s: %s", doc->path, strerror(errno));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*got = n;
	return EID_OK;
}

int pdf_doc_read(pdf_doc *doc, uint64_t offset, void *buf, size_t len)
{
	size_t got;
	int rc;

	if (doc == NULL || (buf == NULL && len > 0))
		return eid_error__set(EID_EINVAL, "pdf_doc_read: NULL argument");
	if (offset > doc->size || len > doc->size - offset)
		return eid_error__set(EID_EFORMAT, "PDF: reading %zu bytes at offset %llu goes beyond the end of the file",
				      len, (unsigned long long)offset);
	rc = read_some(doc, offset, buf, len, &got);
	if (rc < 0)
		return rc;
	if (got != len)
		return eid_error__set(EID_EIO, "reading %s: short read at offset %llu", doc->path,
				      (unsigned long long)offset);
	return EID_OK;
}

/*
 * Run @fn over a window of the file starting at @off, growing the window
 * while the parser runs into its end.
 */
typedef int (*parse_fn)(pdf_lex *lx, uint64_t base, void *ctx);

static int parse_at(pdf_doc *doc, uint64_t off, parse_fn fn, void *ctx)
{
	size_t win = WINDOW_MIN, got;
	unsigned char *buf = NULL, *p;
	pdf_lex lx;
	int rc;

	if (off >= doc->size)
		return eid_error__set(EID_EFORMAT, "PDF: offset %llu is beyond the end of the file",
				      (unsigned long long)off);
	for (;;) {
		size_t want = win;

		if (want > doc->size - off)
			want = (size_t)(doc->size - off);
		p = realloc(buf, want);
		if (p == NULL) {
			rc = eid_error__set(EID_ENOMEM, "out of memory reading a PDF object");
			break;
		}
		buf = p;
		rc = read_some(doc, off, buf, want, &got);
		if (rc < 0)
			break;
		pdf_lex__init(&lx, buf, got, off + got < doc->size);
		rc = fn(&lx, off, ctx);
		if (rc >= 0 || !lx.need_more || !lx.partial)
			break;
		if (win >= WINDOW_MAX) {
			rc = eid_error__set(EID_ETOOBIG, "PDF: the object at offset %llu is larger than %u bytes",
					    (unsigned long long)off, (unsigned)WINDOW_MAX);
			break;
		}
		win = win > WINDOW_MAX / 4 ? WINDOW_MAX : win * 4;
	}
	free(buf);
	return rc;
}

typedef struct parsed {
	pdf_ref ref;
	pdf_obj *obj;
	uint64_t end; /* file offset after the object */
} parsed;

static int fn_indirect(pdf_lex *lx, uint64_t base, void *ctx)
{
	parsed *r = ctx;
	int rc = pdf_lex__indirect(lx, base, &r->ref, &r->obj);

	r->end = base + lx->pos;
	return rc;
}

static int fn_object(pdf_lex *lx, uint64_t base, void *ctx)
{
	parsed *r = ctx;
	int rc = pdf_lex__object(lx, &r->obj);

	r->end = base + lx->pos;
	return rc;
}

/* Does the file hold "num G obj" at @off? */
static int header_matches(pdf_doc *doc, uint64_t off, uint32_t num)
{
	unsigned char buf[64];
	uint64_t n, g;
	size_t got;
	pdf_lex lx;

	if (off >= doc->size || read_some(doc, off, buf, sizeof(buf), &got) < 0)
		return 0;
	pdf_lex__init(&lx, buf, got, 0);
	if (pdf_lex__uint(&lx, &n) < 0 || pdf_lex__uint(&lx, &g) < 0 || !pdf_lex__keyword(&lx, "obj"))
		return 0;
	return n == num && g <= 65535;
}

/*
 * Find @pat (at most SCAN_OVERLAP bytes) in [from, limit); the first match,
 * or with @last the last one.  Returns 1 and its offset when found.
 */
static int find_bytes(pdf_doc *doc, uint64_t from, uint64_t limit, const char *pat, int last, uint64_t *at)
{
	size_t plen = strlen(pat), got, i;
	unsigned char *buf;
	uint64_t base;
	int found = 0;

	if (limit > doc->size)
		limit = doc->size;
	if (from >= limit)
		return 0;
	buf = malloc(SCAN_CHUNK + SCAN_OVERLAP);
	if (buf == NULL)
		return 0;
	for (base = from; base < limit; base += SCAN_CHUNK) {
		size_t want = SCAN_CHUNK + plen - 1;

		if (want > limit - base)
			want = (size_t)(limit - base);
		if (read_some(doc, base, buf, want, &got) < 0 || got < plen)
			break;
		for (i = 0; i + plen <= got; i++) {
			if (buf[i] == (unsigned char)pat[0] && memcmp(buf + i, pat, plen) == 0) {
				*at = base + i;
				found = 1;
				if (!last)
					goto out_free;
			}
		}
	}
out_free:
	free(buf);
	return found;
}

/* ---- xref building ---- */

typedef struct build {
	uint8_t *defined;  /* bitmap by object number: a newer section already decided it */
	uint32_t cap;      /* allocated entries of doc->xref */
	uint32_t walk;     /* index of the section being read, 0 = newest */
	uint32_t *frees;   /* free entries of the current table, applied after its /XRefStm */
	size_t nfrees, capfrees;
	int overwrite;     /* recovery: later definitions replace earlier ones */
} build;

static int xref_reserve(pdf_doc *doc, build *b, uint32_t num)
{
	pdf_xref_entry *p;
	uint32_t cap;

	if (num < b->cap)
		return EID_OK;
	cap = b->cap ? b->cap : 256;
	while (cap <= num)
		cap = cap > (PDF_MAX_OBJNUM + 1u) / 2 ? PDF_MAX_OBJNUM + 1u : cap * 2;
	p = realloc(doc->xref, (size_t)cap * sizeof(*p));
	if (p == NULL)
		return eid_error__set(EID_ENOMEM, "out of memory growing the PDF xref");
	memset(p + b->cap, 0, (size_t)(cap - b->cap) * sizeof(*p));
	doc->xref = p;
	b->cap = cap;
	return EID_OK;
}

static int set_entry(pdf_doc *doc, build *b, uint64_t num, uint8_t type, uint16_t gen, uint64_t off)
{
	int rc;

	if (num > PDF_MAX_OBJNUM)
		return eid_error__set(EID_ETOOBIG, "PDF xref: object number %llu beyond the limit %d",
				      (unsigned long long)num, PDF_MAX_OBJNUM);
	if (!b->overwrite) {
		if (b->defined[num >> 3] & (1u << (num & 7)))
			return EID_OK; /* a newer revision defines it */
		b->defined[num >> 3] |= (uint8_t)(1u << (num & 7));
	}
	if (type == PDF_ENTRY_FREE && num >= doc->xref_size)
		return EID_OK;
	rc = xref_reserve(doc, b, (uint32_t)num);
	if (rc < 0)
		return rc;
	doc->xref[num].type = type;
	doc->xref[num].gen = type == PDF_ENTRY_FREE ? 0 : gen;
	doc->xref[num].offset = type == PDF_ENTRY_FREE ? 0 : off;
	doc->xref[num].revision = b->walk;
	if (type != PDF_ENTRY_FREE && num >= doc->xref_size)
		doc->xref_size = (uint32_t)num + 1;
	return EID_OK;
}

static int stash_free(build *b, uint64_t num)
{
	if (num > PDF_MAX_OBJNUM)
		return eid_error__set(EID_ETOOBIG, "PDF xref: object number %llu beyond the limit %d",
				      (unsigned long long)num, PDF_MAX_OBJNUM);
	if (b->nfrees == b->capfrees) {
		size_t cap = b->capfrees ? b->capfrees * 2 : 64;
		uint32_t *p = realloc(b->frees, cap * sizeof(*p));

		if (p == NULL)
			return eid_error__set(EID_ENOMEM, "out of memory reading a PDF xref table");
		b->frees = p;
		b->capfrees = cap;
	}
	b->frees[b->nfrees++] = (uint32_t)num;
	return EID_OK;
}

/* ---- objects ---- */

static int load_obj(pdf_doc *doc, uint32_t num, int depth, pdf_obj **out);
static int recover(pdf_doc *doc, int keep_trailer);

static int cache_put(pdf_doc *doc, uint32_t num, pdf_obj *o, pdf_obj **out)
{
	if (num >= doc->cache_size) {
		uint32_t n = doc->xref_size > num ? doc->xref_size : num + 1;
		pdf_obj **p = realloc(doc->cache, (size_t)n * sizeof(*p));

		if (p == NULL) {
			pdf_obj_free(o);
			return eid_error__set(EID_ENOMEM, "out of memory caching PDF objects");
		}
		memset(p + doc->cache_size, 0, (size_t)(n - doc->cache_size) * sizeof(*p));
		doc->cache = p;
		doc->cache_size = n;
	}
	if (doc->cache[num] != NULL)
		pdf_obj_free(o); /* loaded meanwhile (nested loads): keep the first */
	else
		doc->cache[num] = o;
	if (out != NULL)
		*out = doc->cache[num];
	return EID_OK;
}

/* Is "endstream" (after optional whitespace) at @off? */
static int endstream_at(pdf_doc *doc, uint64_t off)
{
	unsigned char buf[32];
	size_t got, i = 0;

	if (off >= doc->size || read_some(doc, off, buf, sizeof(buf), &got) < 0)
		return 0;
	while (i < got && pdf_lex__is_ws(buf[i]))
		i++;
	return got - i >= 9 && memcmp(buf + i, "endstream", 9) == 0;
}

/* The data length of a stream, from /Length when it is right, else from where "endstream" is. */
static int fix_stream_length(pdf_doc *doc, uint32_t num, pdf_obj *s, int depth)
{
	pdf_obj *len = pdf_dict_get(s, "Length"), *lo;
	uint64_t off = s->u.stream.offset, at, l = 0;
	int have = 0;

	if (len != NULL && len->type == PDF_INT && len->u.i >= 0) {
		l = (uint64_t)len->u.i;
		have = 1;
	} else if (len != NULL && len->type == PDF_REF && len->u.ref.num != num &&
		   load_obj(doc, len->u.ref.num, depth + 1, &lo) == EID_OK && lo->type == PDF_INT && lo->u.i >= 0) {
		l = (uint64_t)lo->u.i;
		have = 1;
	}
	if (have && off <= doc->size && l <= doc->size - off && endstream_at(doc, off + l)) {
		s->u.stream.length = l;
		return EID_OK;
	}
	if (find_bytes(doc, off, doc->size, "endstream", 0, &at)) {
		uint64_t end = at;
		unsigned char eol[2];

		if (end - off >= 2 && pdf_doc_read(doc, end - 2, eol, 2) == EID_OK) {
			if (eol[0] == '\r' && eol[1] == '\n')
				end -= 2;
			else if (eol[1] == '\n' || eol[1] == '\r')
				end -= 1;
		} else if (end - off == 1 && pdf_doc_read(doc, end - 1, eol, 1) == EID_OK &&
			   (eol[0] == '\n' || eol[0] == '\r')) {
			end -= 1;
		}
		EID_LOG_D("PDF: stream of object %u: /Length wrong or missing, %llu bytes up to endstream", num,
			  (unsigned long long)(end - off));
		s->u.stream.length = end - off;
		return EID_OK;
	}
	if (have && off <= doc->size && l <= doc->size - off) {
		s->u.stream.length = l;
		return EID_OK;
	}
	return eid_error__set(EID_EFORMAT, "PDF: stream of object %u has no usable /Length and no endstream", num);
}

/* Parse the object at @off, which must be object @num. */
static int load_direct(pdf_doc *doc, uint32_t num, uint64_t off, int depth, pdf_obj **out)
{
	parsed r = { { 0, 0 }, NULL, 0 };
	int rc;

	rc = parse_at(doc, off, fn_indirect, &r);
	if (rc < 0)
		return eid_error__wrap("PDF object %u at offset %llu", num, (unsigned long long)off);
	if (r.ref.num != num) {
		pdf_obj_free(r.obj);
		return eid_error__set(EID_EFORMAT, "PDF: the xref entry of object %u points at object %u", num,
				      r.ref.num);
	}
	if (r.obj->type == PDF_STREAM) {
		rc = fix_stream_length(doc, num, r.obj, depth);
		if (rc < 0) {
			pdf_obj_free(r.obj);
			return rc;
		}
	}
	*out = r.obj;
	return EID_OK;
}

/* The decoded data and header of object stream @stmnum. */
static int objstm_open(pdf_doc *doc, uint32_t stmnum, int depth, eid_buf *data, size_t *first, size_t *n)
{
	pdf_obj *st, *on, *of;
	int rc;

	rc = load_obj(doc, stmnum, depth + 1, &st);
	if (rc < 0)
		return rc;
	if (st->type != PDF_STREAM || !pdf_name_is(pdf_dict_get(st, "Type"), "ObjStm"))
		return eid_error__set(EID_EFORMAT, "PDF: object %u is not an object stream", stmnum);
	on = pdf_dict_get(st, "N");
	of = pdf_dict_get(st, "First");
	if (on == NULL || on->type != PDF_INT || on->u.i < 0 || on->u.i > PDF_MAX_OBJNUM || of == NULL ||
	    of->type != PDF_INT || of->u.i < 0)
		return eid_error__set(EID_EFORMAT, "PDF: object stream %u has a bad /N or /First", stmnum);
	rc = pdf_doc_stream_data(doc, st, PDF_MAX_STREAM, data);
	if (rc < 0)
		return eid_error__wrap("PDF object stream %u", stmnum);
	if ((uint64_t)of->u.i > data->len || (uint64_t)on->u.i > (uint64_t)of->u.i) {
		eid_buf_clear(data);
		return eid_error__set(EID_EFORMAT, "PDF: object stream %u: /N or /First beyond its data", stmnum);
	}
	*first = (size_t)of->u.i;
	*n = (size_t)on->u.i;
	return EID_OK;
}

/* Parse every object of stream @stmnum that the xref places there into the cache. */
static int load_objstm(pdf_doc *doc, uint32_t stmnum, int depth)
{
	eid_buf data = EID_BUF_INIT;
	size_t first, n, k;
	pdf_lex hdr;
	int rc;

	rc = objstm_open(doc, stmnum, depth, &data, &first, &n);
	if (rc < 0)
		return rc;
	pdf_lex__init(&hdr, data.data, first, 0);
	for (k = 0; k < n; k++) {
		uint64_t onum, ooff;
		pdf_obj *o;
		pdf_lex lx;

		if (pdf_lex__uint(&hdr, &onum) < 0 || pdf_lex__uint(&hdr, &ooff) < 0)
			break;
		if (onum >= doc->xref_size || doc->xref[onum].type != PDF_ENTRY_COMPRESSED ||
		    doc->xref[onum].offset != stmnum || (onum < doc->cache_size && doc->cache[onum] != NULL))
			continue;
		if (ooff > data.len - first)
			continue;
		pdf_lex__init(&lx, data.data + first + ooff, data.len - first - (size_t)ooff, 0);
		if (pdf_lex__object(&lx, &o) < 0)
			continue;
		rc = cache_put(doc, (uint32_t)onum, o, NULL);
		if (rc < 0)
			break;
	}
	eid_buf_clear(&data);
	return rc;
}

static int load_obj(pdf_doc *doc, uint32_t num, int depth, pdf_obj **out)
{
	pdf_xref_entry e;
	pdf_obj *o = NULL;
	int rc;

	if (depth > LOAD_MAX_DEPTH)
		return eid_error__set(EID_EFORMAT, "PDF: references nested too deeply (a loop?) loading object %u", num);
	if (num < doc->cache_size && doc->cache[num] != NULL) {
		*out = doc->cache[num];
		return EID_OK;
	}
	if (num >= doc->xref_size || doc->xref[num].type == PDF_ENTRY_FREE)
		return eid_error__set(EID_ENOTFOUND, "PDF: object %u is not in the file", num);
	e = doc->xref[num];
	if (e.type == PDF_ENTRY_INUSE) {
		rc = load_direct(doc, num, e.offset, depth, &o);
		if (rc == EID_EFORMAT && !doc->recovered) {
			if (recover(doc, 1) < 0)
				return rc;
			return load_obj(doc, num, depth + 1, out);
		}
		if (rc < 0)
			return rc;
		return cache_put(doc, num, o, out);
	}
	if (e.offset > PDF_MAX_OBJNUM || e.offset == num)
		return eid_error__set(EID_EFORMAT, "PDF: object %u is in a bad object stream", num);
	rc = load_objstm(doc, (uint32_t)e.offset, depth);
	if (rc < 0)
		return eid_error__wrap("PDF object %u", num);
	if (num < doc->cache_size && doc->cache[num] != NULL) {
		*out = doc->cache[num];
		return EID_OK;
	}
	return eid_error__set(EID_EFORMAT, "PDF: object %u is not in object stream %llu", num,
			      (unsigned long long)e.offset);
}

int pdf_doc_get(pdf_doc *doc, uint32_t num, pdf_obj **out)
{
	if (doc == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "pdf_doc_get: NULL argument");
	return load_obj(doc, num, 0, out);
}

pdf_obj *pdf_doc_resolve(pdf_doc *doc, pdf_obj *o)
{
	int hops;

	if (doc == NULL || o == NULL) {
		eid_error__set(EID_EINVAL, "pdf_doc_resolve: NULL argument");
		return NULL;
	}
	for (hops = 0; o->type == PDF_REF; hops++) {
		if (hops >= RESOLVE_MAX_HOPS) {
			eid_error__set(EID_EFORMAT, "PDF: chain of references too long at object %u", o->u.ref.num);
			return NULL;
		}
		if (load_obj(doc, o->u.ref.num, 0, &o) < 0)
			return NULL;
	}
	return o;
}

pdf_obj *pdf_doc_root(pdf_doc *doc)
{
	pdf_obj *root;

	if (doc == NULL || doc->trailer == NULL) {
		eid_error__set(EID_EINVAL, "pdf_doc_root: no document");
		return NULL;
	}
	root = pdf_dict_get(doc->trailer, "Root");
	if (root == NULL) {
		eid_error__set(EID_EFORMAT, "PDF: no /Root");
		return NULL;
	}
	root = pdf_doc_resolve(doc, root);
	if (root != NULL && root->type != PDF_DICT) {
		eid_error__set(EID_EFORMAT, "PDF: /Root is not a dictionary");
		return NULL;
	}
	return root;
}

/* ---- stream decoding ---- */

typedef struct png_parms {
	int predictor;
	size_t colors, bpc, columns;
} png_parms;

static int read_parms(pdf_doc *doc, pdf_obj *parms, png_parms *pp)
{
	pdf_obj *v;

	pp->predictor = 1;
	pp->colors = 1;
	pp->bpc = 8;
	pp->columns = 1;
	if (parms == NULL || parms->type == PDF_NULL)
		return EID_OK;
	if (parms->type != PDF_DICT)
		return eid_error__set(EID_EFORMAT, "PDF: /DecodeParms is not a dictionary");
	v = pdf_dict_get(parms, "Predictor");
	if (v != NULL && (v = pdf_doc_resolve(doc, v)) != NULL && v->type == PDF_INT)
		pp->predictor = v->u.i < 0 || v->u.i > 100 ? -1 : (int)v->u.i;
	if (pp->predictor == 1)
		return EID_OK;
	if (pp->predictor == 2)
		return eid_error__set(EID_EUNSUPPORTED, "PDF: the TIFF predictor is not supported");
	if (pp->predictor < 10 || pp->predictor > 15)
		return eid_error__set(EID_EFORMAT, "PDF: unknown /Predictor %d", pp->predictor);
	v = pdf_dict_get(parms, "Colors");
	if (v != NULL && (v = pdf_doc_resolve(doc, v)) != NULL && v->type == PDF_INT) {
		if (v->u.i < 1 || v->u.i > 32)
			return eid_error__set(EID_EFORMAT, "PDF: bad /Colors in /DecodeParms");
		pp->colors = (size_t)v->u.i;
	}
	v = pdf_dict_get(parms, "BitsPerComponent");
	if (v != NULL && (v = pdf_doc_resolve(doc, v)) != NULL && v->type == PDF_INT) {
		if (v->u.i != 1 && v->u.i != 2 && v->u.i != 4 && v->u.i != 8 && v->u.i != 16)
			return eid_error__set(EID_EFORMAT, "PDF: bad /BitsPerComponent in /DecodeParms");
		pp->bpc = (size_t)v->u.i;
	}
	v = pdf_dict_get(parms, "Columns");
	if (v != NULL && (v = pdf_doc_resolve(doc, v)) != NULL && v->type == PDF_INT) {
		if (v->u.i < 1 || v->u.i > (1 << 24))
			return eid_error__set(EID_EFORMAT, "PDF: bad /Columns in /DecodeParms");
		pp->columns = (size_t)v->u.i;
	}
	return EID_OK;
}

static size_t png_rowlen(const png_parms *pp)
{
	return (pp->colors * pp->bpc * pp->columns + 7) / 8;
}

/* Undo PNG prediction in place over @p..@len; the result is shorter (one filter byte per row). */
static int png_unpredict(unsigned char *p, size_t len, const png_parms *pp, size_t *outlen)
{
	size_t bpp = (pp->colors * pp->bpc + 7) / 8, rowlen = png_rowlen(pp), in = 0, o = 0, i, n;
	unsigned char *prev = calloc(rowlen, 1);

	if (prev == NULL)
		return eid_error__set(EID_ENOMEM, "out of memory decoding a PDF stream");
	while (in < len) {
		int ft = p[in++];

		n = len - in < rowlen ? len - in : rowlen;
		for (i = 0; i < n; i++) {
			int raw = p[in + i], left = i >= bpp ? p[o + i - bpp] : 0, up = prev[i];
			int ul = i >= bpp ? prev[i - bpp] : 0, pred;

			switch (ft) {
			case 0: pred = 0; break;
			case 1: pred = left; break;
			case 2: pred = up; break;
			case 3: pred = (left + up) / 2; break;
			case 4: {
				int pa = abs(up - ul), pb = abs(left - ul), pc = abs(left + up - 2 * ul);

				pred = pa <= pb && pa <= pc ? left : pb <= pc ? up : ul;
				break;
			}
			default:
				free(prev);
				return eid_error__set(EID_EFORMAT, "PDF: bad PNG filter type %d", ft);
			}
			p[o + i] = (unsigned char)(raw + pred);
		}
		memcpy(prev, p + o, n);
		in += n;
		o += n;
	}
	free(prev);
	*outlen = o;
	return EID_OK;
}

/* Source of compressed bytes: a file range or a memory block. */
typedef struct zsrc {
	pdf_doc *doc;
	uint64_t off, left;
	const unsigned char *mem;
	size_t memlen;
} zsrc;

/* Inflate @src, appending at most @limit bytes to @out (EID_ETOOBIG beyond). */
static int inflate_into(zsrc *src, size_t limit, eid_buf *out)
{
	unsigned char *in = NULL;
	size_t produced = 0;
	z_stream zs;
	int zrc = Z_OK, rc = EID_OK, started = 0;

	memset(&zs, 0, sizeof(zs));
	if (limit > SIZE_MAX - 2)
		limit = SIZE_MAX - 2; /* room below never wraps to 0 */
	if (src->mem == NULL) {
		in = malloc(SCAN_CHUNK);
		if (in == NULL)
			return eid_error__set(EID_ENOMEM, "out of memory decoding a PDF stream");
	}
	for (;;) {
		if (zs.avail_in == 0) {
			if (src->mem != NULL) {
				if (src->memlen == 0)
					break;
				zs.next_in = (unsigned char *)src->mem;
				zs.avail_in = src->memlen > UINT32_MAX ? UINT32_MAX : (uInt)src->memlen;
				src->mem += zs.avail_in;
				src->memlen -= zs.avail_in;
			} else {
				size_t want = src->left < SCAN_CHUNK ? (size_t)src->left : SCAN_CHUNK;

				if (want == 0)
					break;
				rc = pdf_doc_read(src->doc, src->off, in, want);
				if (rc < 0)
					goto out_end;
				src->off += want;
				src->left -= want;
				zs.next_in = in;
				zs.avail_in = (uInt)want;
			}
		}
		if (!started) {
			/* A zlib header, else raw deflate (some writers omit it). */
			int raw = zs.avail_in >= 2 && ((zs.next_in[0] & 0x0f) != 8 ||
						       ((zs.next_in[0] << 8) | zs.next_in[1]) % 31 != 0);

			if (inflateInit2(&zs, raw ? -15 : 15) != Z_OK) {
				rc = eid_error__set(EID_ENOMEM, "zlib initialisation failed");
				goto out_free;
			}
			started = 1;
		}
		do {
			size_t room = limit - produced + 1;

			if (room > SCAN_CHUNK)
				room = SCAN_CHUNK;
			rc = eid_buf__reserve(out, room);
			if (rc < 0)
				goto out_end;
			zs.next_out = out->data + out->len;
			zs.avail_out = (uInt)room;
			zrc = inflate(&zs, Z_NO_FLUSH);
			out->len += room - zs.avail_out;
			produced += room - zs.avail_out;
			out->data[out->len] = 0;
			if (produced > limit) {
				rc = eid_error__set(EID_ETOOBIG, "PDF: a decoded stream is larger than %zu bytes", limit);
				goto out_end;
			}
			if (zrc == Z_STREAM_END)
				goto out_end;
			if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
				rc = eid_error__set(EID_EFORMAT, "PDF: corrupt FlateDecode data (%s)",
						    zs.msg != NULL ? zs.msg : "zlib error");
				goto out_end;
			}
		} while (zs.avail_out == 0);
	}
	if (started && zrc != Z_STREAM_END)
		EID_LOG_D("PDF: FlateDecode data ends early; keeping %zu decoded bytes", produced);
out_end:
	if (started)
		inflateEnd(&zs);
out_free:
	free(in);
	return rc;
}

static int is_flate(const pdf_obj *f)
{
	return pdf_name_is(f, "FlateDecode") || pdf_name_is(f, "Fl");
}

int pdf_doc_stream_data(pdf_doc *doc, const pdf_obj *stream, size_t max, eid_buf *out)
{
	pdf_obj *filters[MAX_FILTERS], *parms[MAX_FILTERS], *f, *dp;
	size_t nf = 0, i, len0;
	uint64_t off, length;
	eid_buf tmp = EID_BUF_INIT;
	int rc = EID_OK;

	if (doc == NULL || stream == NULL || out == NULL || stream->type != PDF_STREAM)
		return eid_error__set(EID_EINVAL, "pdf_doc_stream_data: not a stream");
	off = stream->u.stream.offset;
	length = stream->u.stream.length;
	if (off > doc->size || length > doc->size - off)
		return eid_error__set(EID_EFORMAT, "PDF: stream data beyond the end of the file");
	if (pdf_dict_get(stream, "F") != NULL)
		return eid_error__set(EID_EUNSUPPORTED, "PDF: streams in external files are not supported");
	f = pdf_dict_get(stream, "Filter");
	dp = pdf_dict_get(stream, "DecodeParms");
	if (f != NULL && (f = pdf_doc_resolve(doc, f)) == NULL)
		return eid_error_last()->code;
	if (dp != NULL && (dp = pdf_doc_resolve(doc, dp)) == NULL)
		return eid_error_last()->code;
	if (f != NULL && f->type == PDF_ARRAY) {
		if (f->u.arr.n > MAX_FILTERS)
			return eid_error__set(EID_EUNSUPPORTED, "PDF: more than %d filters on a stream", MAX_FILTERS);
		for (i = 0; i < f->u.arr.n; i++) {
			filters[nf] = pdf_doc_resolve(doc, f->u.arr.items[i]);
			if (filters[nf] == NULL)
				return eid_error_last()->code;
			parms[nf] = NULL;
			if (dp != NULL && dp->type == PDF_ARRAY && i < dp->u.arr.n &&
			    (parms[nf] = pdf_doc_resolve(doc, dp->u.arr.items[i])) == NULL)
				return eid_error_last()->code;
			nf++;
		}
	} else if (f != NULL && f->type != PDF_NULL) {
		filters[0] = f;
		parms[0] = dp != NULL && dp->type == PDF_DICT ? dp : NULL;
		nf = 1;
	}
	for (i = 0; i < nf; i++) {
		if (!is_flate(filters[i])) {
			if (filters[i]->type == PDF_NAME)
				return eid_error__set(EID_EUNSUPPORTED, "PDF: the /%s filter is not supported",
						      filters[i]->u.name);
			return eid_error__set(EID_EFORMAT, "PDF: /Filter is not a name");
		}
	}
	len0 = out->len;
	if (nf == 0) {
		if (length > max)
			return eid_error__set(EID_ETOOBIG, "PDF: stream of %llu bytes is larger than %zu bytes",
					      (unsigned long long)length, max);
		rc = eid_buf__reserve(out, (size_t)length);
		if (rc == EID_OK)
			rc = pdf_doc_read(doc, off, out->data + out->len, (size_t)length);
		if (rc == EID_OK) {
			out->len += (size_t)length;
			out->data[out->len] = 0;
		}
		return rc;
	}
	for (i = 0; i < nf && rc == EID_OK; i++) {
		png_parms pp;
		zsrc src = { doc, off, length, NULL, 0 };
		eid_buf stage = EID_BUF_INIT;
		size_t limit = max, n = 0;

		rc = read_parms(doc, parms[i], &pp);
		if (rc < 0)
			break;
		if (pp.predictor >= 10) {
			size_t extra = max / png_rowlen(&pp) + 2;

			limit = max > SIZE_MAX - extra - 2 ? SIZE_MAX - 2 : max + extra;
		}
		if (i > 0) {
			src.mem = tmp.data;
			src.memlen = tmp.len;
		}
		rc = inflate_into(&src, limit, &stage);
		if (rc == EID_OK && pp.predictor >= 10) {
			rc = png_unpredict(stage.data, stage.len, &pp, &n);
			if (rc == EID_OK)
				stage.len = n;
		}
		if (rc == EID_OK && stage.len > max)
			rc = eid_error__set(EID_ETOOBIG, "PDF: a decoded stream is larger than %zu bytes", max);
		eid_buf_clear(&tmp);
		tmp = stage;
	}
	if (rc == EID_OK)
		rc = eid_buf__append(out, tmp.data, tmp.len);
	eid_buf_clear(&tmp);
	if (rc < 0 && out->data != NULL) {
		out->len = len0;
		out->data[len0] = 0;
	}
	return rc;
}

/* ---- xref sections ---- */

typedef struct cursor {
	pdf_doc *doc;
	uint64_t pos, base;
	size_t len;
	int err;
	unsigned char buf[8192];
} cursor;

static int cur_peek(cursor *c)
{
	if (c->pos < c->base || c->pos >= c->base + c->len) {
		size_t got;

		if (c->pos >= c->doc->size)
			return -1;
		if (read_some(c->doc, c->pos, c->buf, sizeof(c->buf), &got) < 0) {
			c->err = 1;
			return -1;
		}
		c->base = c->pos;
		c->len = got;
		if (got == 0)
			return -1;
	}
	return c->buf[c->pos - c->base];
}

static int cur_skip_ws(cursor *c)
{
	int ch;

	while ((ch = cur_peek(c)) >= 0 && pdf_lex__is_ws(ch))
		c->pos++;
	return ch;
}

static int cur_uint(cursor *c, uint64_t *v)
{
	int ch, n = 0;

	*v = 0;
	cur_skip_ws(c);
	while ((ch = cur_peek(c)) >= '0' && ch <= '9') {
		if (++n > 20)
			return eid_error__set(EID_EFORMAT, "PDF xref: number too long");
		*v = *v * 10 + (uint64_t)(ch - '0');
		c->pos++;
	}
	if (n == 0)
		return eid_error__set(EID_EFORMAT, "PDF xref: a number was expected at offset %llu",
				      (unsigned long long)c->pos);
	return EID_OK;
}

/* If the keyword @kw is at the cursor (after whitespace), consume it. */
static int cur_keyword(cursor *c, const char *kw)
{
	uint64_t save;
	int ch;

	cur_skip_ws(c);
	save = c->pos;
	for (; *kw; kw++, c->pos++) {
		if (cur_peek(c) != (unsigned char)*kw) {
			c->pos = save;
			return 0;
		}
	}
	ch = cur_peek(c);
	if (ch >= 0 && !pdf_lex__is_ws(ch) && !pdf_lex__is_delim(ch)) {
		c->pos = save;
		return 0;
	}
	return 1;
}

static int check_encrypt(const pdf_obj *trailer)
{
	if (pdf_dict_get(trailer, "Encrypt") != NULL)
		return eid_error__set(EID_EUNSUPPORTED, "encrypted PDFs are not supported");
	return EID_OK;
}

/*
 * An xref stream at @off: its entries into @b; its dictionary (taken out of
 * the stream) into @dict when not NULL; the offset after its data into @end.
 */
static int read_xref_stream(pdf_doc *doc, build *b, uint64_t off, pdf_obj **dict, uint64_t *end)
{
	parsed r = { { 0, 0 }, NULL, 0 };
	pdf_obj *s, *w, *idx, *size;
	eid_buf data = EID_BUF_INIT;
	uint64_t ws[3], rowlen, pos = 0, nsize = 0;
	size_t i, k;
	int rc;

	rc = parse_at(doc, off, fn_indirect, &r);
	if (rc < 0)
		return eid_error__wrap("PDF xref stream at offset %llu", (unsigned long long)off);
	s = r.obj;
	if (s->type != PDF_STREAM || !pdf_name_is(pdf_dict_get(s, "Type"), "XRef")) {
		rc = eid_error__set(EID_EFORMAT, "PDF: no xref table or /Type /XRef stream at offset %llu",
				    (unsigned long long)off);
		goto out_free;
	}
	rc = check_encrypt(s->u.stream.dict);
	if (rc < 0)
		goto out_free;
	rc = fix_stream_length(doc, r.ref.num, s, 1);
	if (rc < 0)
		goto out_free;
	w = pdf_dict_get(s, "W");
	if (w == NULL || w->type != PDF_ARRAY || w->u.arr.n != 3) {
		rc = eid_error__set(EID_EFORMAT, "PDF xref stream: bad /W");
		goto out_free;
	}
	for (i = 0; i < 3; i++) {
		pdf_obj *v = w->u.arr.items[i];

		if (v->type != PDF_INT || v->u.i < 0 || v->u.i > 8) {
			rc = eid_error__set(EID_EFORMAT, "PDF xref stream: /W widths must be 0..8 bytes");
			goto out_free;
		}
		ws[i] = (uint64_t)v->u.i;
	}
	rowlen = ws[0] + ws[1] + ws[2];
	if (rowlen == 0) {
		rc = eid_error__set(EID_EFORMAT, "PDF xref stream: /W is all zero");
		goto out_free;
	}
	size = pdf_dict_get(s, "Size");
	if (size != NULL) {
		if (size->type != PDF_INT || size->u.i < 0) {
			rc = eid_error__set(EID_EFORMAT, "PDF xref stream: bad /Size");
			goto out_free;
		}
		if (size->u.i > PDF_MAX_OBJNUM + 1LL) {
			rc = eid_error__set(EID_ETOOBIG, "PDF xref stream: /Size %lld beyond the limit",
					    (long long)size->u.i);
			goto out_free;
		}
		nsize = (uint64_t)size->u.i;
	}
	idx = pdf_dict_get(s, "Index");
	if (idx != NULL && (idx->type != PDF_ARRAY || idx->u.arr.n % 2 != 0)) {
		rc = eid_error__set(EID_EFORMAT, "PDF xref stream: bad /Index");
		goto out_free;
	}
	if (idx == NULL && size == NULL) {
		rc = eid_error__set(EID_EFORMAT, "PDF xref stream: no /Size");
		goto out_free;
	}
	if (idx != NULL) {
		for (i = 0; i < idx->u.arr.n; i++) {
			pdf_obj *v = idx->u.arr.items[i];

			if (v->type != PDF_INT || v->u.i < 0) {
				rc = eid_error__set(EID_EFORMAT, "PDF xref stream: bad /Index");
				goto out_free;
			}
			if (v->u.i > PDF_MAX_OBJNUM + 1LL ||
			    (i % 2 == 1 && idx->u.arr.items[i - 1]->u.i + v->u.i > PDF_MAX_OBJNUM + 1LL)) {
				rc = eid_error__set(EID_ETOOBIG, "PDF xref stream: /Index beyond object number %d",
						    PDF_MAX_OBJNUM);
				goto out_free;
			}
		}
	}
	rc = pdf_doc_stream_data(doc, s, PDF_MAX_STREAM, &data);
	if (rc < 0) {
		eid_error__wrap("PDF xref stream at offset %llu", (unsigned long long)off);
		goto out_free;
	}
	for (i = 0; i < (idx != NULL ? idx->u.arr.n / 2 : 1); i++) {
		uint64_t start = idx != NULL ? (uint64_t)idx->u.arr.items[2 * i]->u.i : 0;
		uint64_t count = idx != NULL ? (uint64_t)idx->u.arr.items[2 * i + 1]->u.i : nsize;

		for (k = 0; k < count; k++) {
			uint64_t f[3] = { 1, 0, 0 };
			size_t j, fld;

			if (data.len < rowlen || pos > data.len - rowlen) {
				EID_LOG_D("PDF xref stream at %llu: data shorter than its /Index", (unsigned long long)off);
				goto out_done;
			}
			for (fld = 0; fld < 3; fld++) {
				if (ws[fld] == 0)
					continue;
				f[fld] = 0;
				for (j = 0; j < ws[fld]; j++)
					f[fld] = (f[fld] << 8) | data.data[pos++];
			}
			if (f[0] == 1 && f[2] <= 65535)
				rc = set_entry(doc, b, start + k, PDF_ENTRY_INUSE, (uint16_t)f[2], f[1]);
			else if (f[0] == 2 && f[1] <= PDF_MAX_OBJNUM && f[2] <= 65535)
				rc = set_entry(doc, b, start + k, PDF_ENTRY_COMPRESSED, (uint16_t)f[2], f[1]);
			else if (f[0] == 0)
				rc = set_entry(doc, b, start + k, PDF_ENTRY_FREE, 0, 0);
			if (rc < 0)
				goto out_free;
		}
	}
out_done:
	*end = s->u.stream.offset + s->u.stream.length;
	if (dict != NULL) {
		*dict = s->u.stream.dict;
		s->u.stream.dict = NULL;
	}
	rc = EID_OK;
out_free:
	eid_buf_clear(&data);
	pdf_obj_free(s);
	return rc;
}

/* A classic table at the cursor (after "xref"); its trailer into @trailer. */
static int read_xref_table(pdf_doc *doc, build *b, cursor *c, pdf_obj **trailer, uint64_t *end)
{
	parsed r = { { 0, 0 }, NULL, 0 };
	int firstsub = 1, rc;

	b->nfrees = 0;
	for (;;) {
		uint64_t start, count, k;

		if (cur_keyword(c, "trailer"))
			break;
		if (cur_uint(c, &start) < 0 || cur_uint(c, &count) < 0) {
			if (c->err)
				return EID_EIO;
			return eid_error__set(EID_EFORMAT, "PDF xref table: bad subsection header or no trailer");
		}
		if (start > PDF_MAX_OBJNUM || count > PDF_MAX_OBJNUM + 1ULL - start)
			return eid_error__set(EID_ETOOBIG, "PDF xref table: subsection %llu+%llu beyond object number %d",
					      (unsigned long long)start, (unsigned long long)count, PDF_MAX_OBJNUM);
		if (count > (doc->size - c->pos) / 18 + 1)
			return eid_error__set(EID_EFORMAT, "PDF xref table: subsection longer than the file");
		for (k = 0; k < count; k++) {
			uint64_t off, gen;
			int t;

			if (cur_uint(c, &off) < 0 || cur_uint(c, &gen) < 0)
				return c->err ? EID_EIO : eid_error__set(EID_EFORMAT, "PDF xref table: bad entry");
			t = cur_skip_ws(c);
			if (t != 'n' && t != 'f')
				return eid_error__set(EID_EFORMAT, "PDF xref table: entry type is not 'n' or 'f'");
			c->pos++;
			/* A first subsection wrongly starting at 1 with the head of the free list. */
			if (firstsub && k == 0 && start == 1 && t == 'f' && gen == 65535)
				start = 0;
			if (t == 'n' && gen <= 65535)
				rc = set_entry(doc, b, start + k, PDF_ENTRY_INUSE, (uint16_t)gen, off);
			else
				rc = stash_free(b, start + k);
			if (rc < 0)
				return rc;
		}
		firstsub = 0;
	}
	rc = parse_at(doc, c->pos, fn_object, &r);
	if (rc < 0)
		return eid_error__wrap("PDF trailer at offset %llu", (unsigned long long)c->pos);
	if (r.obj->type != PDF_DICT) {
		pdf_obj_free(r.obj);
		return eid_error__set(EID_EFORMAT, "PDF: the trailer is not a dictionary");
	}
	*trailer = r.obj;
	*end = r.end;
	return EID_OK;
}

/* After the xref section ending at @from: the offset past its "%%EOF" line, or 0. */
static uint64_t find_eof(pdf_doc *doc, uint64_t from)
{
	unsigned char eol[2];
	uint64_t at;
	size_t got;

	if (!find_bytes(doc, from, from + EOF_SCAN, "%%EOF", 0, &at))
		return 0;
	at += 5;
	if (read_some(doc, at, eol, 2, &got) == EID_OK) {
		if (got >= 1 && eol[0] == '\r')
			at += got >= 2 && eol[1] == '\n' ? 2 : 1;
		else if (got >= 1 && eol[0] == '\n')
			at += 1;
	}
	return at;
}

/* One revision's xref section at @off (table, hybrid or stream). */
static int read_section(pdf_doc *doc, build *b, uint64_t off, pdf_revision *rev, pdf_obj **trailer)
{
	cursor *c;
	uint64_t end = 0, end2;
	pdf_obj *stm;
	size_t i;
	int rc;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return eid_error__set(EID_ENOMEM, "out of memory reading the PDF xref");
	c->doc = doc;
	c->pos = off;
	*trailer = NULL;
	rev->xref_offset = off;
	if (off >= doc->size) {
		rc = eid_error__set(EID_EFORMAT, "PDF: xref offset %llu beyond the end of the file",
				    (unsigned long long)off);
	} else if (cur_keyword(c, "xref")) {
		rev->style = PDF_XREF_TABLE;
		rc = read_xref_table(doc, b, c, trailer, &end);
		if (rc == EID_OK)
			rc = check_encrypt(*trailer);
		stm = rc == EID_OK ? pdf_dict_get(*trailer, "XRefStm") : NULL;
		if (stm != NULL && stm->type == PDF_INT && stm->u.i >= 0) {
			rev->style = PDF_XREF_HYBRID;
			rc = read_xref_stream(doc, b, (uint64_t)stm->u.i, NULL, &end2);
			if (rc < 0)
				eid_error__wrap("PDF /XRefStm of the xref at offset %llu", (unsigned long long)off);
		}
		for (i = 0; rc == EID_OK && i < b->nfrees; i++)
			rc = set_entry(doc, b, b->frees[i], PDF_ENTRY_FREE, 0, 0);
	} else if (c->err) {
		rc = EID_EIO;
	} else if (cur_skip_ws(c) < '0' || cur_peek(c) > '9') {
		rc = eid_error__set(EID_EFORMAT, "PDF: no xref table or stream at offset %llu", (unsigned long long)off);
	} else {
		rev->style = PDF_XREF_STREAM;
		rc = read_xref_stream(doc, b, off, trailer, &end);
	}
	free(c);
	if (rc < 0) {
		pdf_obj_free(*trailer);
		*trailer = NULL;
		return rc;
	}
	rev->end = find_eof(doc, end);
	return EID_OK;
}

/* Copy the keys the newest trailer lacks from an older one. */
static int merge_trailer(pdf_obj *newest, const pdf_obj *older)
{
	static const char *const keys[] = { "Root", "Info", "ID" };
	size_t i;
	int rc;

	for (i = 0; i < EID_ARRAY_SIZE(keys); i++) {
		pdf_obj *v = pdf_dict_get(older, keys[i]), *c;

		if (v == NULL || pdf_dict_get(newest, keys[i]) != NULL)
			continue;
		c = pdf_obj_clone(v);
		if (c == NULL)
			return EID_ENOMEM;
		rc = pdf_dict_set(newest, keys[i], c);
		if (rc < 0)
			return rc;
	}
	return EID_OK;
}

/* Revisions, newest first while walking; reversed at the end. */
static int push_rev(pdf_doc *doc, const pdf_revision *rev)
{
	pdf_revision *p = realloc(doc->revs, (doc->nrevs + 1) * sizeof(*p));

	if (p == NULL)
		return eid_error__set(EID_ENOMEM, "out of memory reading the PDF xref");
	p[doc->nrevs++] = *rev;
	doc->revs = p;
	return EID_OK;
}

/* Walk the /Prev chain from @start, newest first. */
static int read_chain(pdf_doc *doc, build *b, uint64_t start)
{
	uint64_t off = start;
	size_t i;
	int rc;

	for (;;) {
		pdf_revision rev = { 0, 0, PDF_XREF_TABLE };
		pdf_obj *trailer = NULL, *prev;
		int has_prev;

		for (i = 0; i < doc->nrevs; i++) {
			if (doc->revs[i].xref_offset == off) {
				EID_LOG_W("PDF %s: loop in the /Prev chain at offset %llu; ignoring the rest", doc->path,
					  (unsigned long long)off);
				return EID_OK;
			}
		}
		if (doc->nrevs >= PDF_MAX_REVISIONS)
			return eid_error__set(EID_ETOOBIG, "PDF: more than %d revisions", PDF_MAX_REVISIONS);
		b->walk = (uint32_t)doc->nrevs;
		rc = read_section(doc, b, off, &rev, &trailer);
		if (rc < 0)
			return rc;
		rc = push_rev(doc, &rev);
		if (rc < 0) {
			pdf_obj_free(trailer);
			return rc;
		}
		prev = pdf_dict_get(trailer, "Prev");
		has_prev = prev != NULL && prev->type == PDF_INT && prev->u.i >= 0;
		if (has_prev)
			off = (uint64_t)prev->u.i;
		if (doc->trailer == NULL) {
			doc->trailer = trailer;
		} else {
			rc = merge_trailer(doc->trailer, trailer);
			pdf_obj_free(trailer);
			if (rc < 0)
				return rc;
		}
		if (!has_prev)
			return EID_OK;
	}
}

/* ---- recovery ---- */

static int is_regular_at(const unsigned char *buf, size_t len, size_t i)
{
	return i < len && !pdf_lex__is_ws(buf[i]) && !pdf_lex__is_delim(buf[i]);
}

/* "N G obj" ending at @i (the 'o'); the offset of N or -1. */
static int64_t obj_header_before(const unsigned char *buf, size_t i, uint64_t lo, uint64_t *num, uint64_t *gen)
{
	size_t j = i, d;
	uint64_t v;

	if (j == 0 || !pdf_lex__is_ws(buf[j - 1]))
		return -1;
	while (j > 0 && pdf_lex__is_ws(buf[j - 1]))
		j--;
	for (d = 0, v = 1, *gen = 0; j > 0 && buf[j - 1] >= '0' && buf[j - 1] <= '9' && d < 6; d++, j--, v *= 10)
		*gen += (uint64_t)(buf[j - 1] - '0') * v;
	if (d == 0 || d > 5 || j == 0 || !pdf_lex__is_ws(buf[j - 1]))
		return -1;
	while (j > 0 && pdf_lex__is_ws(buf[j - 1]))
		j--;
	for (d = 0, v = 1, *num = 0; j > 0 && buf[j - 1] >= '0' && buf[j - 1] <= '9' && d < 11; d++, j--, v *= 10)
		*num += (uint64_t)(buf[j - 1] - '0') * v;
	if (d == 0 || d > 10)
		return -1;
	if (j > 0 && is_regular_at(buf, i, j - 1))
		return -1;
	if (j == 0 && lo > 0)
		return -1; /* may continue before the window */
	return (int64_t)(lo + j);
}

typedef struct scan_state {
	pdf_obj *trailer;      /* best trailer found (with /Root) */
	uint64_t trailer_at;
	int encrypted;
} scan_state;

static void consider_trailer(scan_state *st, pdf_obj *dict, uint64_t at)
{
	if (dict == NULL || dict->type != PDF_DICT || pdf_dict_get(dict, "Root") == NULL) {
		pdf_obj_free(dict);
		return;
	}
	if (pdf_dict_get(dict, "Encrypt") != NULL)
		st->encrypted = 1;
	if (st->trailer == NULL || at >= st->trailer_at) {
		pdf_obj_free(st->trailer);
		st->trailer = dict;
		st->trailer_at = at;
	} else {
		pdf_obj_free(dict);
	}
}

/* Which revision the bytes at @off belong to. */
static uint32_t revision_of(const pdf_doc *doc, uint64_t off)
{
	size_t i;

	for (i = 0; i < doc->nrevs; i++)
		if (off < doc->revs[i].end)
			return (uint32_t)i;
	return doc->nrevs > 0 ? (uint32_t)(doc->nrevs - 1) : 0;
}

/*
 * Rebuild the xref by scanning the whole file for "N G obj", trailers, xref
 * streams with /Root and object streams.  With @keep_trailer the trailer
 * read from the xref chain stays.
 */
static int recover(pdf_doc *doc, int keep_trailer)
{
	build b;
	scan_state st = { NULL, 0, 0 };
	unsigned char *buf;
	uint64_t base, catalog_at = 0;
	uint32_t catalog = 0, num, *stms = NULL;
	size_t nstms = 0, capstms = 0, i;
	int rc = EID_OK, have_catalog = 0;
	char why[256];

	snprintf(why, sizeof(why), "%s", eid_error_last()->message);
	memset(&b, 0, sizeof(b));
	b.overwrite = 1;
	doc->recovered = 1;
	buf = malloc(SCAN_CHUNK + 2 * SCAN_OVERLAP);
	if (buf == NULL)
		return eid_error__set(EID_ENOMEM, "out of memory scanning the PDF");
	free(doc->xref);
	doc->xref = NULL;
	doc->xref_size = 0;
	for (base = 0; base < doc->size && rc == EID_OK; base += SCAN_CHUNK) {
		uint64_t lo = base >= SCAN_OVERLAP ? base - SCAN_OVERLAP : 0;
		uint64_t hi = base + SCAN_CHUNK + SCAN_OVERLAP;
		size_t got, q, qend;

		if (hi > doc->size)
			hi = doc->size;
		rc = read_some(doc, lo, buf, (size_t)(hi - lo), &got);
		if (rc < 0)
			break;
		qend = (size_t)(base - lo) + SCAN_CHUNK;
		if (qend > got)
			qend = got;
		for (q = (size_t)(base - lo); q < qend && rc == EID_OK; q++) {
			if (buf[q] == 'o' && q + 3 <= got && memcmp(buf + q, "obj", 3) == 0 &&
			    !is_regular_at(buf, got, q + 3) && (q + 3 < got || hi == doc->size)) {
				uint64_t n, g;
				int64_t at = obj_header_before(buf, q, lo, &n, &g);

				if (at >= 0 && n <= PDF_MAX_OBJNUM && g <= 65535)
					rc = set_entry(doc, &b, n, PDF_ENTRY_INUSE, (uint16_t)g, (uint64_t)at);
			} else if (buf[q] == 't' && q + 7 <= got && memcmp(buf + q, "trailer", 7) == 0 &&
				   (q == 0 ? lo == 0 : !is_regular_at(buf, got, q - 1)) &&
				   !is_regular_at(buf, got, q + 7)) {
				parsed r = { { 0, 0 }, NULL, 0 };

				if (lo + q + 7 < doc->size && parse_at(doc, lo + q + 7, fn_object, &r) == EID_OK)
					consider_trailer(&st, r.obj, lo + q);
			}
		}
	}
	free(buf);
	if (rc < 0)
		goto out_free;
	/* Xref streams with /Root, object streams and catalogs among the objects found. */
	for (num = 0; num < doc->xref_size; num++) {
		parsed r = { { 0, 0 }, NULL, 0 };
		pdf_obj *type;

		if (doc->xref[num].type != PDF_ENTRY_INUSE)
			continue;
		if (parse_at(doc, doc->xref[num].offset, fn_indirect, &r) < 0)
			continue;
		type = pdf_dict_get(r.obj, "Type");
		if (r.obj->type == PDF_STREAM && pdf_name_is(type, "XRef")) {
			pdf_obj *d = r.obj->u.stream.dict;

			r.obj->u.stream.dict = NULL;
			consider_trailer(&st, d, doc->xref[num].offset);
		} else if (r.obj->type == PDF_STREAM && pdf_name_is(type, "ObjStm")) {
			if (nstms == capstms) {
				size_t cap = capstms ? capstms * 2 : 16;
				uint32_t *p = realloc(stms, cap * sizeof(*p));

				if (p == NULL) {
					pdf_obj_free(r.obj);
					rc = eid_error__set(EID_ENOMEM, "out of memory scanning the PDF");
					goto out_free;
				}
				stms = p;
				capstms = cap;
			}
			stms[nstms++] = num;
		} else if (r.obj->type == PDF_DICT && pdf_name_is(type, "Catalog") &&
			   doc->xref[num].offset >= catalog_at) {
			have_catalog = 1;
			catalog = num;
			catalog_at = doc->xref[num].offset;
		}
		pdf_obj_free(r.obj);
	}
	/* Objects in object streams that have no direct definition. */
	for (i = 0; i < nstms; i++) {
		eid_buf data = EID_BUF_INIT;
		size_t first, n, k;
		pdf_lex hdr;

		if (objstm_open(doc, stms[i], 0, &data, &first, &n) < 0)
			continue;
		pdf_lex__init(&hdr, data.data, first, 0);
		for (k = 0; k < n && k <= 65535; k++) {
			uint64_t onum, ooff;

			if (pdf_lex__uint(&hdr, &onum) < 0 || pdf_lex__uint(&hdr, &ooff) < 0)
				break;
			if (onum > PDF_MAX_OBJNUM || (onum < doc->xref_size && doc->xref[onum].type == PDF_ENTRY_INUSE))
				continue;
			rc = set_entry(doc, &b, onum, PDF_ENTRY_COMPRESSED, (uint16_t)k, stms[i]);
			if (rc < 0)
				break;
		}
		eid_buf_clear(&data);
		if (rc < 0)
			goto out_free;
	}
	for (num = 0; num < doc->xref_size; num++) {
		pdf_xref_entry *e = &doc->xref[num];

		if (e->type == PDF_ENTRY_INUSE)
			e->revision = revision_of(doc, e->offset);
		else if (e->type == PDF_ENTRY_COMPRESSED && e->offset < doc->xref_size)
			e->revision = revision_of(doc, doc->xref[e->offset].offset);
	}
	if (!keep_trailer || doc->trailer == NULL) {
		if (st.trailer != NULL) {
			pdf_obj_free(doc->trailer);
			doc->trailer = st.trailer;
			st.trailer = NULL;
			if (st.encrypted) {
				rc = eid_error__set(EID_EUNSUPPORTED, "encrypted PDFs are not supported");
				goto out_free;
			}
		} else if (have_catalog) {
			pdf_obj *t = pdf_obj_new(PDF_DICT);

			if (t == NULL || pdf_dict_set(t, "Root", pdf_ref_new(catalog, doc->xref[catalog].gen)) < 0 ||
			    pdf_dict_set(t, "Size", pdf_int_new(doc->xref_size)) < 0) {
				pdf_obj_free(t);
				rc = EID_ENOMEM;
				goto out_free;
			}
			pdf_obj_free(doc->trailer);
			doc->trailer = t;
		}
	}
	EID_LOG_W("PDF %s: %s; rebuilt the xref by scanning the file (%u objects)", doc->path, why,
		  (unsigned)doc->xref_size);
out_free:
	pdf_obj_free(st.trailer);
	free(stms);
	return rc;
}

/* ---- opening ---- */

static int read_header(pdf_doc *doc)
{
	unsigned char buf[HEADER_SCAN];
	size_t got, i, k;
	int rc;

	rc = read_some(doc, 0, buf, sizeof(buf), &got);
	if (rc < 0)
		return rc;
	for (i = 0; i + 5 <= got; i++) {
		if (buf[i] == '%' && memcmp(buf + i, "%PDF-", 5) == 0) {
			for (k = 0; k + 1 < sizeof(doc->header_version) && i + 5 + k < got &&
				    ((buf[i + 5 + k] >= '0' && buf[i + 5 + k] <= '9') || buf[i + 5 + k] == '.');
			     k++)
				doc->header_version[k] = (char)buf[i + 5 + k];
			doc->header_version[k] = 0;
			return EID_OK;
		}
	}
	return eid_error__set(EID_EFORMAT, "not a PDF file: no %%PDF- header in the first %d bytes", HEADER_SCAN);
}

static int find_startxref(pdf_doc *doc, uint64_t *off)
{
	unsigned char buf[48];
	uint64_t at, from = doc->size > TAIL_SCAN ? doc->size - TAIL_SCAN : 0;
	size_t got;
	pdf_lex lx;
	int rc;

	if (!find_bytes(doc, from, doc->size, "startxref", 1, &at))
		return eid_error__set(EID_EFORMAT, "PDF: no startxref in the last %d bytes", TAIL_SCAN);
	rc = read_some(doc, at + 9, buf, sizeof(buf), &got);
	if (rc < 0)
		return rc;
	pdf_lex__init(&lx, buf, got, 0);
	if (pdf_lex__uint(&lx, off) < 0)
		return eid_error__set(EID_EFORMAT, "PDF: no offset after startxref");
	return EID_OK;
}

/* Cheap checks of the xref read from the file: offsets inside the file, a sample of object headers. */
static int entries_valid(pdf_doc *doc)
{
	size_t inuse = 0, seen = 0, stride;
	uint32_t num;

	for (num = 0; num < doc->xref_size; num++) {
		const pdf_xref_entry *e = &doc->xref[num];

		if (e->type == PDF_ENTRY_INUSE) {
			if (e->offset >= doc->size)
				return eid_error__set(EID_EFORMAT, "PDF: object %u lies beyond the end of the file", num);
			inuse++;
		} else if (e->type == PDF_ENTRY_COMPRESSED) {
			if (e->offset >= doc->xref_size || doc->xref[e->offset].type != PDF_ENTRY_INUSE)
				return eid_error__set(EID_EFORMAT, "PDF: object %u is in a missing object stream", num);
		}
	}
	stride = inuse / VALIDATE_SAMPLES + 1;
	for (num = 0; num < doc->xref_size; num++) {
		const pdf_xref_entry *e = &doc->xref[num];

		if (e->type != PDF_ENTRY_INUSE)
			continue;
		if (seen++ % stride == 0 && !header_matches(doc, e->offset, num))
			return eid_error__set(EID_EFORMAT, "PDF: the xref entry of object %u does not point at it", num);
	}
	return EID_OK;
}

void pdf_doc_free(pdf_doc *doc)
{
	uint32_t i;

	if (doc == NULL)
		return;
	if (doc->fd >= 0)
		close(doc->fd);
	for (i = 0; i < doc->cache_size; i++)
		pdf_obj_free(doc->cache[i]);
	free(doc->cache);
	free(doc->xref);
	free(doc->revs);
	pdf_obj_free(doc->trailer);
	free(doc->path);
	free(doc);
}

/*
 * A linearized file's first-page xref is the newest in /Prev order but lies
 * first in the file: order revisions by position so that each one's bytes
 * end where the next begins (insertion sort, keeping the entries' indices).
 */
static void sort_revisions(pdf_doc *doc)
{
	size_t n = doc->nrevs, i, j;
	uint32_t *map, num;

	for (i = 1; i < n && doc->revs[i - 1].xref_offset < doc->revs[i].xref_offset; i++)
		;
	if (i >= n)
		return; /* already in file order, the usual case */
	map = malloc(n * sizeof(*map));
	if (map == NULL)
		return;
	for (i = 0; i < n; i++)
		map[i] = (uint32_t)i; /* map[new position] = old index */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && doc->revs[map[j - 1]].xref_offset > doc->revs[map[j]].xref_offset; j--) {
			uint32_t t = map[j];

			map[j] = map[j - 1];
			map[j - 1] = t;
		}
	{
		pdf_revision *sorted = malloc(n * sizeof(*sorted));
		uint32_t *inv = malloc(n * sizeof(*inv));

		if (sorted == NULL || inv == NULL) {
			free(sorted);
			free(inv);
			free(map);
			return;
		}
		for (i = 0; i < n; i++) {
			sorted[i] = doc->revs[map[i]];
			inv[map[i]] = (uint32_t)i;
		}
		memcpy(doc->revs, sorted, n * sizeof(*sorted));
		for (num = 0; num < doc->xref_size; num++)
			if (doc->xref[num].type != PDF_ENTRY_FREE && doc->xref[num].revision < n)
				doc->xref[num].revision = inv[doc->xref[num].revision];
		free(sorted);
		free(inv);
	}
	free(map);
}

/* Revisions were collected newest first: reverse them and the entries' revision numbers. */
static void finish_revisions(pdf_doc *doc)
{
	size_t i, n = doc->nrevs;
	uint32_t num;

	for (i = 0; i < n / 2; i++) {
		pdf_revision t = doc->revs[i];

		doc->revs[i] = doc->revs[n - 1 - i];
		doc->revs[n - 1 - i] = t;
	}
	for (i = 0; i < n; i++) {
		if (doc->revs[i].end != 0)
			continue;
		/* No %%EOF found: up to the next revision's xref, else the end of the file. */
		if (i + 1 < n && doc->revs[i + 1].xref_offset > doc->revs[i].xref_offset)
			doc->revs[i].end = doc->revs[i + 1].xref_offset;
		else
			doc->revs[i].end = doc->size;
	}
	for (num = 0; num < doc->xref_size; num++)
		if (doc->xref[num].type != PDF_ENTRY_FREE && doc->xref[num].revision < n)
			doc->xref[num].revision = (uint32_t)(n - 1 - doc->xref[num].revision);
	sort_revisions(doc);
}

int pdf_doc_open(pdf_doc **out, const char *path)
{
	return pdf_doc_open_prefix(out, path, UINT64_MAX);
}

int pdf_doc_open_prefix(pdf_doc **out, const char *path, uint64_t limit)
{
	pdf_doc *doc;
	build b;
	struct stat sb;
	uint64_t sx = 0;
	int rc, have_sx = 0;

	if (out == NULL || path == NULL)
		return eid_error__set(EID_EINVAL, "pdf_doc_open: NULL argument");
	*out = NULL;
	memset(&b, 0, sizeof(b));
	doc = calloc(1, sizeof(*doc));
	if (doc == NULL)
		return eid_error__set(EID_ENOMEM, "out of memory opening a PDF");
	doc->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (doc->fd < 0) {
		rc = eid_error__set(EID_EIO, "cannot open %s: %s", path, strerror(errno));
		goto out_free;
	}
	if (fstat(doc->fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		rc = eid_error__set(EID_EIO, "%s is not a readable regular file", path);
		goto out_free;
	}
	doc->size = (uint64_t)sb.st_size < limit ? (uint64_t)sb.st_size : limit;
	doc->path = strdup(path);
	b.defined = calloc((PDF_MAX_OBJNUM >> 3) + 1, 1);
	if (doc->path == NULL || b.defined == NULL) {
		rc = eid_error__set(EID_ENOMEM, "out of memory opening a PDF");
		goto out_free;
	}
	rc = read_header(doc);
	if (rc < 0)
		goto out_free;
	rc = find_startxref(doc, &sx);
	if (rc == EID_OK) {
		have_sx = 1;
		rc = read_chain(doc, &b, sx);
	}
	finish_revisions(doc);
	if (rc == EID_EUNSUPPORTED || rc == EID_ENOMEM || rc == EID_EIO || rc == EID_ETOOBIG)
		goto out_free;
	if (rc == EID_OK)
		rc = entries_valid(doc);
	if (rc == EID_OK && pdf_doc_root(doc) == NULL) {
		rc = eid_error_last()->code;
		if (rc == EID_ENOMEM || rc == EID_EIO)
			goto out_free;
		if (doc->recovered)
			goto out_check; /* the lazy recovery did not help */
		rc = EID_EFORMAT;
	}
	if (rc < 0) {
		int keep = doc->trailer != NULL && pdf_dict_get(doc->trailer, "Root") != NULL;

		rc = recover(doc, keep);
		if (rc < 0)
			goto out_free;
	}
	if (doc->nrevs == 0) {
		pdf_revision rev = { have_sx && sx < doc->size ? sx : 0, doc->size, PDF_XREF_TABLE };

		if (doc->trailer != NULL && pdf_name_is(pdf_dict_get(doc->trailer, "Type"), "XRef"))
			rev.style = PDF_XREF_STREAM;
		rc = push_rev(doc, &rev);
		if (rc < 0)
			goto out_free;
	}
out_check:
	if (doc->trailer == NULL || pdf_dict_get(doc->trailer, "Root") == NULL) {
		rc = eid_error__set(EID_EFORMAT, "PDF %s: no /Root", path);
		goto out_free;
	}
	rc = check_encrypt(doc->trailer);
	if (rc < 0)
		goto out_free;
	if (pdf_doc_root(doc) == NULL) {
		rc = eid_error__wrap("PDF %s", path);
		goto out_free;
	}
	free(b.defined);
	free(b.frees);
	*out = doc;
	return EID_OK;

out_free:
	free(b.defined);
	free(b.frees);
	pdf_doc_free(doc);
	return rc;
}

/* ---- page tree ---- */

typedef struct page_walk {
	pdf_doc *doc;
	uint8_t *visited;
	uint32_t nvisited; /* objects the bitmap covers */
	size_t target, count;
	int found;
	pdf_ref ref;
} page_walk;

static int walk_node(page_walk *w, const pdf_obj *ref, int depth)
{
	pdf_obj *node, *kids, *type;
	uint32_t num;
	size_t i;
	int rc;

	if (depth > PDF_MAX_PAGES_DEPTH)
		return eid_error__set(EID_ETOOBIG, "PDF: page tree deeper than %d levels", PDF_MAX_PAGES_DEPTH);
	if (ref == NULL || ref->type != PDF_REF)
		return eid_error__set(EID_EFORMAT, "PDF: a page tree node is not an indirect object");
	num = ref->u.ref.num;
	node = pdf_doc_resolve(w->doc, (pdf_obj *)ref);
	if (node == NULL)
		return eid_error__wrap("PDF page tree");
	if (node->type != PDF_DICT)
		return eid_error__set(EID_EFORMAT, "PDF: page tree node %u is not a dictionary", num);
	if (num >= w->nvisited)
		return eid_error__set(EID_EFORMAT, "PDF: page tree node %u out of range", num);
	if (w->visited[num >> 3] & (1u << (num & 7)))
		return eid_error__set(EID_EFORMAT, "PDF: loop in the page tree at object %u", num);
	w->visited[num >> 3] |= (uint8_t)(1u << (num & 7));
	type = pdf_dict_get(node, "Type");
	kids = pdf_dict_get(node, "Kids");
	if (kids != NULL && (kids = pdf_doc_resolve(w->doc, kids)) == NULL)
		return eid_error__wrap("PDF page tree node %u", num);
	if (pdf_name_is(type, "Pages") || (!pdf_name_is(type, "Page") && kids != NULL)) {
		if (kids == NULL || kids->type != PDF_ARRAY)
			return eid_error__set(EID_EFORMAT, "PDF: page tree node %u has no /Kids array", num);
		for (i = 0; i < kids->u.arr.n; i++) {
			rc = walk_node(w, kids->u.arr.items[i], depth + 1);
			if (rc < 0 || w->found)
				return rc;
		}
		return EID_OK;
	}
	if (w->count == w->target) {
		w->found = 1;
		w->ref = ref->u.ref;
	}
	w->count++;
	return EID_OK;
}

static int walk_pages(pdf_doc *doc, size_t target, page_walk *w)
{
	pdf_obj *root, *pages;
	int rc;

	memset(w, 0, sizeof(*w));
	w->doc = doc;
	w->target = target;
	root = pdf_doc_root(doc);
	if (root == NULL)
		return eid_error_last()->code;
	pages = pdf_dict_get(root, "Pages");
	if (pages == NULL)
		return eid_error__set(EID_EFORMAT, "PDF: the catalog has no /Pages");
	w->nvisited = doc->xref_size;
	w->visited = calloc(((size_t)doc->xref_size >> 3) + 1, 1);
	if (w->visited == NULL)
		return eid_error__set(EID_ENOMEM, "out of memory walking the PDF page tree");
	rc = walk_node(w, pages, 0);
	free(w->visited);
	w->visited = NULL;
	return rc;
}

int pdf_doc_page_ref(pdf_doc *doc, size_t index, pdf_ref *out)
{
	page_walk w;
	int rc;

	if (doc == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "pdf_doc_page_ref: NULL argument");
	rc = walk_pages(doc, index, &w);
	if (rc < 0)
		return rc;
	if (!w.found)
		return eid_error__set(EID_ENOTFOUND, "PDF: no page %zu (the document has %zu pages)", index + 1,
				      w.count);
	*out = w.ref;
	return EID_OK;
}

int pdf_doc_page_count(pdf_doc *doc, size_t *out)
{
	pdf_obj *root, *pages, *count;
	page_walk w;
	int rc;

	if (doc == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "pdf_doc_page_count: NULL argument");
	rc = walk_pages(doc, SIZE_MAX, &w);
	if (rc < 0)
		return rc;
	root = pdf_doc_root(doc);
	pages = root != NULL ? pdf_doc_resolve(doc, pdf_dict_get(root, "Pages")) : NULL;
	count = pages != NULL ? pdf_dict_get(pages, "Count") : NULL;
	if (count != NULL && (count->type != PDF_INT || count->u.i < 0 || (uint64_t)count->u.i != w.count))
		EID_LOG_W("PDF %s: the page tree's /Count does not match its %zu pages", doc->path, w.count);
	*out = w.count;
	return EID_OK;
}
