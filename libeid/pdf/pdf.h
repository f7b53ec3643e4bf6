/*
 * Internal interface of the PDF layer: a small reader for real-world files
 * (classic xref tables, xref streams, object streams, hybrid files, many
 * incremental updates, broken xref recovered by scanning) and an incremental
 * writer.  The file is read with pread(); memory grows with the number of
 * objects, never with the file size.  Encrypted files are refused.
 */
#ifndef EID_INTERNAL_PDF_H
#define EID_INTERNAL_PDF_H

#include <stdint.h>
#include <sys/types.h>

#include "eid/online.h"
#include "../common/common.h"

/* Limits against hostile input. */
#define PDF_MAX_DEPTH 64              /* nesting of arrays and dictionaries */
#define PDF_MAX_OBJNUM 8388607        /* highest object number accepted */
#define PDF_MAX_REVISIONS 4096        /* /Prev chain length */
#define PDF_MAX_STREAM (256u << 20)   /* decoded size of a stream the reader itself decodes (xref, object streams) */
#define PDF_MAX_TOKEN (16u << 20)     /* a single string or name */
#define PDF_MAX_PAGES_DEPTH 64        /* page tree depth */
#define PDF_MAX_FIELDS_DEPTH 32       /* form field tree depth */
#define PDF_MAX_FIELDS 10000          /* form fields visited in one walk */
#define PDF_MAX_DSS_ITEMS 4096        /* certificates, OCSP responses and CRLs read from a DSS */
#define PDF_MAX_DSS_ITEM (16u << 20)  /* decoded size of one of them */
#define PDF_MAX_DSS_TOTAL (128u << 20) /* and of all of them */

typedef enum pdf_type {
	PDF_NULL = 0,
	PDF_BOOL,
	PDF_INT,
	PDF_REAL,
	PDF_STRING,
	PDF_NAME,
	PDF_ARRAY,
	PDF_DICT,
	PDF_REF,
	PDF_STREAM
} pdf_type;

typedef struct pdf_obj pdf_obj;

typedef struct pdf_ref {
	uint32_t num;
	uint16_t gen;
} pdf_ref;

struct pdf_obj {
	pdf_type type;
	union {
		int b;                    /* PDF_BOOL */
		int64_t i;                /* PDF_INT */
		double r;                 /* PDF_REAL */
		struct {                  /* PDF_STRING: decoded bytes */
			unsigned char *p;
			size_t len;
			int hex;          /* written as <hex> in the file */
		} str;
		char *name;               /* PDF_NAME: decoded, without the slash, NUL-terminated */
		struct {                  /* PDF_ARRAY */
			pdf_obj **items;
			size_t n;
		} arr;
		struct {                  /* PDF_DICT */
			char **keys;      /* decoded names without the slash */
			pdf_obj **vals;
			size_t n;
		} dict;
		pdf_ref ref;              /* PDF_REF */
		struct {                  /* PDF_STREAM: the dictionary and where the raw data lies */
			pdf_obj *dict;
			uint64_t offset;  /* absolute file offset of the first data byte */
			uint64_t length;  /* raw (encoded) length, from /Length */
		} stream;
	} u;
};

/* Objects: constructors return NULL on ENOMEM (with the error set). */
pdf_obj *pdf_obj_new(pdf_type type);
pdf_obj *pdf_int_new(int64_t v);
pdf_obj *pdf_real_new(double v);
pdf_obj *pdf_bool_new(int v);
pdf_obj *pdf_name_new(const char *name);
pdf_obj *pdf_string_new(const void *p, size_t len, int hex);
pdf_obj *pdf_ref_new(uint32_t num, uint16_t gen);
pdf_obj *pdf_obj_clone(const pdf_obj *o);     /* deep copy */
void pdf_obj_free(pdf_obj *o);                 /* accepts NULL */
/* Arrays and dictionaries take ownership of @v (also on failure). */
int pdf_array_push(pdf_obj *arr, pdf_obj *v);
int pdf_dict_set(pdf_obj *dict, const char *key, pdf_obj *v);  /* replaces an existing key */
pdf_obj *pdf_dict_get(const pdf_obj *dict, const char *key);   /* borrowed; NULL when absent; for a stream, its dict */
int pdf_dict_remove(pdf_obj *dict, const char *key);
int pdf_name_is(const pdf_obj *o, const char *name);           /* o is the name /name */

/* The xref of one revision: how the file says its objects are found. */
typedef enum pdf_xref_style {
	PDF_XREF_TABLE = 1,    /* classic "xref" table */
	PDF_XREF_STREAM = 2,   /* /Type /XRef stream */
	PDF_XREF_HYBRID = 3    /* table whose trailer has /XRefStm */
} pdf_xref_style;

typedef enum pdf_entry_type {
	PDF_ENTRY_FREE = 0,
	PDF_ENTRY_INUSE = 1,       /* offset = byte offset of "N G obj" */
	PDF_ENTRY_COMPRESSED = 2   /* in object stream number `offset`, at index `gen` */
} pdf_entry_type;

typedef struct pdf_xref_entry {
	uint8_t type;              /* pdf_entry_type */
	uint16_t gen;              /* generation; for COMPRESSED, the index in the object stream */
	uint64_t offset;           /* for COMPRESSED, the object stream's number */
	uint32_t revision;         /* index into pdf_doc revisions of the newest revision that defines it */
} pdf_xref_entry;

typedef struct pdf_revision {
	uint64_t xref_offset;      /* where its xref table or stream starts (startxref value) */
	uint64_t end;              /* offset just after its %%EOF line (end of this revision's bytes) */
	pdf_xref_style style;
} pdf_revision;

typedef struct pdf_doc {
	int fd;
	char *path;
	uint64_t size;                /* file size */
	pdf_xref_entry *xref;         /* indexed by object number, newest definition wins */
	uint32_t xref_size;           /* number of entries (max objnum + 1) */
	pdf_revision *revs;           /* oldest first */
	size_t nrevs;
	pdf_obj *trailer;             /* the newest trailer dictionary (for an xref stream, its dictionary) */
	int recovered;                /* the xref was rebuilt by scanning */
	char header_version[8];       /* "1.7" from %PDF-1.7 */
	/* cache of loaded objects, by number */
	pdf_obj **cache;
	uint32_t cache_size;
} pdf_doc;

/*
 * Open and index a PDF.  Refuses encrypted files (EID_EUNSUPPORTED), rejects
 * a missing /Root (EID_EFORMAT).  Loops in /Prev are detected.  When the xref
 * is unusable, objects are found by scanning and doc->recovered is set.
 */
int pdf_doc_open(pdf_doc **out, const char *path);
/* The same for the file's first @limit bytes only: the document as an earlier revision left it. */
int pdf_doc_open_prefix(pdf_doc **out, const char *path, uint64_t limit);
void pdf_doc_free(pdf_doc *doc);

/* Load object @num (borrowed from the doc's cache, valid until pdf_doc_free).
 * Returns EID_ENOTFOUND for free or missing objects. */
int pdf_doc_get(pdf_doc *doc, uint32_t num, pdf_obj **out);
/* If @o is a reference, load what it points to (borrowed); else return @o. NULL on failure (error set). */
pdf_obj *pdf_doc_resolve(pdf_doc *doc, pdf_obj *o);
/* The catalog (/Root), borrowed. */
pdf_obj *pdf_doc_root(pdf_doc *doc);
/* The reference of the @index-th page (0-based), walking /Pages with loop detection. */
int pdf_doc_page_ref(pdf_doc *doc, size_t index, pdf_ref *out);
/* Number of pages (from the page tree root's /Count, checked against the walk bound). */
int pdf_doc_page_count(pdf_doc *doc, size_t *out);
/* Read @len raw bytes at @offset. */
int pdf_doc_read(pdf_doc *doc, uint64_t offset, void *buf, size_t len);
/* Decode a stream's data (FlateDecode with PNG predictors, or no filter) into @out, at most @max bytes. */
int pdf_doc_stream_data(pdf_doc *doc, const pdf_obj *stream, size_t max, eid_buf *out);

/*
 * The form's fields, depth first: @cb gets each field's array entry @item (a
 * reference or a dictionary), the field dictionary, and its type (/FT, or
 * inherited; NULL if none).  It returns 0 to go on, anything else to stop
 * the walk, which then returns that value.  Depth and count are bounded.
 */
typedef int (*pdf_field_cb)(pdf_doc *doc, pdf_obj *item, pdf_obj *field, const char *ft, void *ctx);
int pdf_doc_fields(pdf_doc *doc, pdf_field_cb cb, void *ctx);
/* The DocMDP permission (P, 1..3) of signature dictionary @sig: 0 if it is not a certification. */
int pdf_sig_docmdp(pdf_doc *doc, const pdf_obj *sig);
/*
 * The certification the catalog names (/Perms /DocMDP): 1 with the signature
 * dictionary's object number and its P (1..3), 0 when the document is not
 * certified, or a negative error when /Perms is malformed.
 */
int pdf_doc_docmdp(pdf_doc *doc, uint32_t *sig_num, int *p);

/* Parse one object from memory (for tests and the fuzzer): @p..@len. */
int pdf_parse_object(const unsigned char *p, size_t len, pdf_obj **out, size_t *consumed);

/* Serialize an object in PDF syntax (streams: not supported; dictionaries and arrays recursively). */
int pdf_obj_write(const pdf_obj *o, eid_buf *out);

/* ---- incremental updates, composed in memory (pades.c) ---- */

typedef struct pdf_new_obj {
	uint32_t num;
	uint16_t gen;
	uint64_t offset;          /* output offset of "N G obj" */
} pdf_new_obj;

typedef struct pdf_update {
	uint64_t base;            /* output offset of body.data[0] */
	eid_buf body;
	pdf_new_obj *objs;
	size_t n;
} pdf_update;

/* Start object @num at the end of the body ("N G obj\n"); the caller writes it and "endobj". */
int pdf_update_begin(pdf_update *u, uint32_t num, uint16_t gen);
/* A whole object (no stream). */
int pdf_update_object(pdf_update *u, uint32_t num, uint16_t gen, const pdf_obj *o);
/* The xref section, trailer and %%EOF of the new revision in the previous one's style; @size: the new /Size. */
int pdf_update_xref(pdf_doc *doc, pdf_update *u, uint32_t *size);
/* The generation of object @num in use (0 when none). */
uint16_t pdf_doc_gen(const pdf_doc *doc, uint32_t num);
/* Copy the document's bytes to @of. */
int pdf_doc_copy(pdf_doc *doc, eid_outfile *of);

/*
 * A document timestamp (ISO 32000-2 12.8.5; /SubFilter /ETSI.RFC3161): a new
 * invisible signature field whose value's /Contents is a token from
 * @online's TSA over the byte ranges, appended to @in_path as a new revision
 * and written to @of (opened by the caller, not committed).
 */
int pdf_add_doc_timestamp(const char *in_path, eid_outfile *of, eid_online *online, eid_hash hash);

/* ---- long-term validation data (ltv.c) ---- */

struct eid_vdata;
/*
 * The certificates, OCSP responses and CRLs of the catalog's /DSS into @out
 * (bounded by PDF_MAX_DSS_*; an element that cannot be read is skipped with a
 * warning).  EID_ENOTFOUND when the document has no DSS.
 */
int pdf_dss_read(pdf_doc *doc, struct eid_vdata *out);

#endif
