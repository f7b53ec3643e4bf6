/*
 * The ZIP layer of ASiC containers on libzip: a reader hardened against
 * hostile ZIPs, an atomic writer, the ASiC-E manifest and entry-name URIs.
 *
 * libzip parses the archive (with ZIP_CHECKCONS: end record, central
 * directory and local headers must agree).  On top of that we read the raw
 * central directory and every local header ourselves, because libzip hides
 * three things a signature container must not have: names with a NUL (its C
 * strings stop there), names replaced by an Info-ZIP Unicode Path extra field
 * (applied before we see them, so other readers see another name), and the
 * exact local header layout that ASiC requires of "mimetype".  Every number
 * we read must match what libzip reports; any disagreement is refused.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zip.h>

#include "zip.h"
#include "../xml/xml.h"

#define SHOWN 160                   /* room for a name quoted in a message */
#define CHUNK 65536                 /* streaming buffer */
#define READ_RESERVE (1u << 20)     /* reserved up front by asic_zip_read; more as data comes */

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_EOCD64_LOC 0x07064b50u
#define LOCAL_SIZE 30
#define CENTRAL_SIZE 46
#define EOCD_SIZE 22
#define EOCD64_SIZE 56
#define EOCD64_LOC_SIZE 20
#define EF_ZIP64 0x0001
#define GPBF_ENCRYPTED 0x0001
#define GPBF_PATCHED 0x0020         /* PKWARE patch data: not the content itself */
#define GPBF_STRONG 0x0040
#define GPBF_MASKED 0x2000          /* central directory encryption: local headers masked */

/* ---- small helpers ---- */

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Length of the valid UTF-8 sequence at @p (shortest form, no surrogate, at most U+10FFFF), else 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * @len bytes of a name as text for a message: printable ASCII and valid UTF-8
 * kept, other bytes as \xNN, cut with "..." when longer than the buffer.
 */
static const char *shown(const void *name, size_t len, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = name;
	size_t i = 0, o = 0, n;

	while (i < len) {
		n = p[i] >= 0x80 ? utf8_seq(p + i, len - i) : 1;
		if (o + 8 >= size) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (n > 1) {
			memcpy(buf + o, p + i, n);
			o += n;
			i += n;
		} else if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			buf[o++] = (char)p[i++];
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[p[i] >> 4];
			buf[o++] = hex[p[i] & 15];
			i++;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* Why @p (@len bytes) is not a safe entry name, or NULL when it is (see asic_zip_name_check()). */
static const char *name_problem(const unsigned char *p, size_t len, int is_folder)
{
	size_t i, n, seg;

	if (len == 0)
		return "the name is empty";
	if (len > ASIC_ZIP_MAX_NAME)
		return "the name is longer than 1024 bytes";
	if (memchr(p, 0, len) != NULL)
		return "the name holds a NUL byte";
	for (i = 0; i < len; i += n) {
		n = 1;
		if (p[i] < 0x20 || p[i] == 0x7f)
			return "the name holds a control character";
		if (p[i] == '\\')
			return "the name holds a backslash";
		if (p[i] >= 0x80 && (n = utf8_seq(p + i, len - i)) == 0)
			return "the name is not valid UTF-8";
		if (n == 3 && p[i] == 0xef && p[i + 1] == 0xbf && p[i + 2] >= 0xbe)
			return "the name holds U+FFFE or U+FFFF (XML cannot carry them)";
	}
	if (p[0] == '/')
		return "the name is absolute";
	if (len >= 2 && p[1] == ':' && ((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z'))
		return "the name starts with a drive letter";
	if (is_folder) {
		if (p[len - 1] != '/')
			return "a folder name must end in '/'";
		len--;
	} else if (p[len - 1] == '/') {
		return "a file name cannot end in '/'";
	}
	for (i = 0; i <= len; i = seg + 1) {
		for (seg = i; seg < len && p[seg] != '/'; seg++)
			;
		if (seg == i)
			return "the name holds an empty segment (\"//\")";
		if (seg - i == 1 && p[i] == '.')
			return "the name holds a \".\" segment";
		if (seg - i == 2 && p[i] == '.' && p[i + 1] == '.')
			return "the name holds a \"..\" segment";
	}
	return NULL;
}

int asic_zip_name_check(const char *name, size_t len, int is_folder)
{
	const char *why;

	if (name == NULL)
		return eid_error__set(EID_EINVAL, "asic_zip_name_check: NULL name");
	why = name_problem((const unsigned char *)name, len, is_folder);
	if (why == NULL)
		return EID_OK;
	return eid_error__set(len > ASIC_ZIP_MAX_NAME ? EID_ETOOBIG : EID_EFORMAT, "%s", why);
}

/* RFC 6838: restricted-name "/" restricted-name; a name starts with a letter or digit, is at most 127 long. */
static int media_type_ok(const char *s, size_t len)
{
	size_t i, part = 0, slashes = 0;

	if (len == 0 || len > ASIC_ZIP_MAX_MIMETYPE)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int alnum = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');

		if (c == '/') {
			if (part == 0 || ++slashes > 1)
				return 0;
			part = 0;
		} else if (part == 0 ? alnum : (alnum || strchr("!#$&-^_.+", c) != NULL)) {
			if (c == 0 || ++part > 127)
				return 0;
		} else {
			return 0;
		}
	}
	return slashes == 1 && part > 0;
}

/* The eid error for a libzip error about @what. */
static int zip_fail(zip_error_t *ze, const char *what)
{
	const char *msg = zip_error_strerror(ze);

	switch (zip_error_code_zip(ze)) {
	case ZIP_ER_NOZIP:
		return eid_error__set(EID_EFORMAT, "%s: not a ZIP file", what);
	case ZIP_ER_INCONS:
		return eid_error__set(EID_EFORMAT, "%s: inconsistent ZIP structure (%s)", what, msg);
	case ZIP_ER_CRC:
		return eid_error__set(EID_EFORMAT, "%s: the data does not match its CRC", what);
	case ZIP_ER_COMPRESSED_DATA:
		return eid_error__set(EID_EFORMAT, "%s: corrupt compressed data", what);
	case ZIP_ER_EOF:
		return eid_error__set(EID_EFORMAT, "%s: truncated", what);
	case ZIP_ER_MULTIDISK:
		return eid_error__set(EID_EUNSUPPORTED, "%s: split (multi-disk) ZIP archives are not supported", what);
	case ZIP_ER_MEMORY:
		return eid_error__set(EID_ENOMEM, "%s: out of memory", what);
	case ZIP_ER_SEEK:
		/* a seek the data asks for (offset too large, or negative): not the disk's fault */
		if (zip_error_code_system(ze) == EFBIG || zip_error_code_system(ze) == EINVAL ||
		    zip_error_code_system(ze) == 0)
			return eid_error__set(EID_EFORMAT, "%s: malformed ZIP (an offset lies beyond the file)", what);
		return eid_error__set(EID_EIO, "%s: %s", what, msg);
	case ZIP_ER_OPEN:
	case ZIP_ER_READ:
	case ZIP_ER_WRITE:
	case ZIP_ER_CLOSE:
	case ZIP_ER_TMPOPEN:
	case ZIP_ER_RENAME:
	case ZIP_ER_REMOVE:
		return eid_error__set(EID_EIO, "%s: %s", what, msg);
	default: /* ZIP_ER_NOENT for a missing Zip64 field, ZIP_ER_INVAL for impossible values, ... */
		return eid_error__set(EID_EFORMAT, "%s: malformed ZIP (%s)", what, msg);
	}
}

static int zip_fail_code(int code, const char *what)
{
	zip_error_t ze;
	int rc;

	zip_error_init_with_code(&ze, code);
	rc = zip_fail(&ze, what);
	zip_error_fini(&ze);
	return rc;
}

/* ---- a set of names (keys point into strings owned elsewhere) ---- */

typedef struct name_key {
	const char *p; /* NULL: free slot */
	size_t len;
	size_t value;  /* the file's index, for asic_zip_find() */
} name_key;

typedef struct name_set {
	name_key *slots;
	size_t cap, n; /* cap: a power of two, or 0 */
} name_set;

static size_t name_hash(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211u;
	return (size_t)(h ^ (h >> 29));
}

static name_key *set_slot(const name_set *s, const char *p, size_t len)
{
	size_t i = name_hash(p, len) & (s->cap - 1);

	while (s->slots[i].p != NULL && (s->slots[i].len != len || memcmp(s->slots[i].p, p, len) != 0))
		i = (i + 1) & (s->cap - 1);
	return &s->slots[i];
}

static int set_has(const name_set *s, const char *p, size_t len)
{
	return s->cap > 0 && set_slot(s, p, len)->p != NULL;
}

/* Add a key: EID_OK, 1 when it was there already, EID_ENOMEM. */
static int set_add(name_set *s, const char *p, size_t len, size_t value)
{
	name_key *slot;

	if ((s->n + 1) * 2 > s->cap) {
		name_set bigger = { NULL, s->cap ? s->cap * 2 : 64, 0 };
		size_t i;

		bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
		if (bigger.slots == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		for (i = 0; i < s->cap; i++)
			if (s->slots[i].p != NULL)
				*set_slot(&bigger, s->slots[i].p, s->slots[i].len) = s->slots[i];
		bigger.n = s->n;
		free(s->slots);
		*s = bigger;
	}
	slot = set_slot(s, p, len);
	if (slot->p != NULL)
		return 1;
	slot->p = p;
	slot->len = len;
	slot->value = value;
	s->n++;
	return EID_OK;
}

static void set_free(name_set *s)
{
	free(s->slots);
	s->slots = NULL;
	s->cap = s->n = 0;
}

/*
 * The names of a container, for the rules that span entries: no two entries
 * with one name, no file that is also a folder (explicit, or implied by a
 * deeper name).  Order does not matter: "a/b" then "a" is refused like "a"
 * then "a/b".
 */
typedef struct name_index {
	name_set files;    /* file names */
	name_set folders;  /* folder names without the '/', explicit or implied */
	name_set explicit; /* folder entries, without the '/' */
} name_index;

static void index_free(name_index *ix)
{
	set_free(&ix->files);
	set_free(&ix->folders);
	set_free(&ix->explicit);
}

/*
 * Whether @name (safe, a folder without its '/') can join @ix: EID_OK, or 1
 * with the reason in @why (which quotes a part of the name).
 */
static int index_check(const name_index *ix, const char *name, size_t len, int is_folder, char *why, size_t why_size)
{
	char buf[SHOWN];
	size_t i;

	if (set_has(is_folder ? &ix->explicit : &ix->files, name, len)) {
		snprintf(why, why_size, "two entries are named '%s%s'", shown(name, len, buf, sizeof(buf)),
			 is_folder ? "/" : "");
		return 1;
	}
	if (!is_folder && set_has(&ix->folders, name, len)) {
		snprintf(why, why_size, "'%s' is both a file and a folder", shown(name, len, buf, sizeof(buf)));
		return 1;
	}
	for (i = 0; i <= len; i++) {
		if (i < len && name[i] != '/')
			continue;
		if (i == len && !is_folder)
			break;
		if (set_has(&ix->files, name, i)) {
			snprintf(why, why_size, "'%s' is both a file and a folder", shown(name, i, buf, sizeof(buf)));
			return 1;
		}
	}
	return EID_OK;
}

/* Add a name that index_check() accepted, with @value for a file.  @name must live as long as @ix. */
static int index_add(name_index *ix, const char *name, size_t len, int is_folder, size_t value)
{
	size_t i;
	int rc;

	for (i = 0; i <= len; i++) {
		if ((i < len && name[i] != '/') || (i == len && !is_folder))
			continue;
		if ((rc = set_add(&ix->folders, name, i, 0)) < 0)
			return rc;
	}
	rc = set_add(is_folder ? &ix->explicit : &ix->files, name, len, value);
	return rc < 0 ? rc : EID_OK;
}

/* ---- reading ---- */

typedef struct asic_entry {
	char *name;          /* as stored, NUL-terminated (a folder keeps its '/') */
	size_t name_len;
	zip_uint64_t index;  /* in libzip */
	uint64_t size;       /* declared uncompressed */
	uint64_t comp_size;
	uint64_t offset;     /* of the local header */
	uint64_t data_end;   /* end of the compressed data */
	uint16_t method;
	uint16_t central_extra, local_extra; /* extra field lengths */
	int is_folder;
} asic_entry;

struct asic_zip {
	zip_t *za;
	int fd;                 /* our own reading of the headers (file), closed after opening */
	const unsigned char *mem; /* ... or of the bytes, owned by libzip's source */
	uint64_t size;
	char *label;            /* the path, or "(buffer)", for messages */
	asic_entry *entries;    /* every entry, folders included, in central directory order */
	size_t nentries;
	size_t *files;          /* indexes into entries of the files */
	size_t nfiles;
	name_index ix;
	int mt_ok;
	char mt_type[ASIC_ZIP_MAX_MIMETYPE + 1];
	char mt_why[SHOWN + 64];
};

/* @n bytes at @off of the container. */
static int raw_read(const asic_zip *z, uint64_t off, void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t got;

	if (off > z->size || n > z->size - off)
		return eid_error__set(EID_EFORMAT, "'%s': a header lies beyond the end of the file", z->label);
	if (z->mem != NULL) {
		memcpy(buf, z->mem + off, n);
		return EID_OK;
	}
	while (n > 0) {
		got = pread(z->fd, p, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return eid_error__set(EID_EIO, "cannot read '%s': %s", z->label, strerror(errno));
		if (got == 0)
			return eid_error__set(EID_EFORMAT, "'%s' was truncated while being read", z->label);
		p += got;
		off += (uint64_t)got;
		n -= (size_t)got;
	}
	return EID_OK;
}

/* The central directory: where it starts, how long it is and how many entries it holds. */
static int find_cdir(const asic_zip *z, uint64_t *offset, uint64_t *size, uint64_t *count)
{
	unsigned char b[EOCD64_SIZE];
	uint64_t eocd, loc, eocd64, end;
	const char *comment;
	int clen = 0, rc;

	/* With ZIP_CHECKCONS libzip accepted only an end record whose comment ends the file. */
	comment = zip_get_archive_comment(z->za, &clen, ZIP_FL_ENC_RAW);
	if (clen < 0 || (uint64_t)clen + EOCD_SIZE > z->size)
		return eid_error__set(EID_EFORMAT, "'%s': no end of central directory record", z->label);
	/* an end record inside the comment: readers that search differently find another directory */
	if (clen >= 4 && comment != NULL && memmem(comment, (size_t)clen, "PK\x05\x06", 4) != NULL)
		return eid_error__set(EID_EFORMAT, "'%s': the archive comment holds an end of central directory record",
				      z->label);
	eocd = z->size - EOCD_SIZE - (uint64_t)clen;
	if ((rc = raw_read(z, eocd, b, EOCD_SIZE)) < 0)
		return rc;
	if (le32(b) != SIG_EOCD || le16(b + 20) != (unsigned)clen)
		return eid_error__set(EID_EFORMAT,
				      "'%s': the end of central directory record is not where libzip found it", z->label);
	if (le16(b + 4) != 0 || le16(b + 6) != 0)
		return eid_error__set(EID_EUNSUPPORTED, "'%s': split (multi-disk) ZIP archives are not supported",
				      z->label);
	*count = le16(b + 10);
	*size = le32(b + 12);
	*offset = le32(b + 16);
	end = eocd;
	/* libzip takes the Zip64 record whenever its locator precedes the end record; so do we. */
	if (eocd >= EOCD64_LOC_SIZE) {
		loc = eocd - EOCD64_LOC_SIZE;
		if ((rc = raw_read(z, loc, b, EOCD64_LOC_SIZE)) < 0)
			return rc;
		if (le32(b) == SIG_EOCD64_LOC) {
			eocd64 = le64(b + 8);
			if ((rc = raw_read(z, eocd64, b, EOCD64_SIZE)) < 0)
				return rc;
			if (le32(b) != SIG_EOCD64 || le32(b + 16) != 0 || le32(b + 20) != 0 ||
			    le64(b + 24) != le64(b + 32))
				return eid_error__set(EID_EFORMAT, "'%s': bad Zip64 end of central directory record",
						      z->label);
			/* the 32-bit record must be saturated or say the same: old readers use it alone */
			if ((*count != 0xffff && *count != le64(b + 32)) ||
			    (*size != 0xffffffffu && *size != le64(b + 40)) ||
			    (*offset != 0xffffffffu && *offset != le64(b + 48)))
				return eid_error__set(EID_EFORMAT, "'%s': the Zip64 and 32-bit end records disagree",
						      z->label);
			*count = le64(b + 32);
			*size = le64(b + 40);
			*offset = le64(b + 48);
			end = eocd64;
		}
	}
	if (*offset > end || *size != end - *offset)
		return eid_error__set(EID_EFORMAT, "'%s': the central directory does not end at its end record", z->label);
	return EID_OK;
}

/* The Zip64 extra field of a central header: the 64-bit values of the fields saturated at 0xffffffff. */
static int zip64_values(const unsigned char *ef, size_t ef_len, uint64_t *usize, uint64_t *csize, uint64_t *offset)
{
	size_t i = 0, len, pos;

	while (i + 4 <= ef_len) {
		len = le16(ef + i + 2);
		if (i + 4 + len > ef_len)
			return -1;
		if (le16(ef + i) == EF_ZIP64) {
			pos = i + 4;
			if (*usize == 0xffffffffu) {
				if (pos + 8 > i + 4 + len)
					return -1;
				*usize = le64(ef + pos);
				pos += 8;
			}
			if (*csize == 0xffffffffu) {
				if (pos + 8 > i + 4 + len)
					return -1;
				*csize = le64(ef + pos);
				pos += 8;
			}
			if (*offset == 0xffffffffu) {
				if (pos + 8 > i + 4 + len)
					return -1;
				*offset = le64(ef + pos);
			}
			return 0;
		}
		i += 4 + len;
	}
	return *usize == 0xffffffffu || *csize == 0xffffffffu || *offset == 0xffffffffu ? -1 : 0;
}

/*
 * Check entry @i, whose central header is @h (its variable part follows,
 * in bounds), against libzip's view and our rules; fill z->entries[i].
 */
static int check_entry(asic_zip *z, size_t i, const unsigned char *h, uint64_t cd_offset, uint64_t *total)
{
	asic_entry *e = &z->entries[i];
	unsigned char lh[LOCAL_SIZE];
	unsigned char *lname = NULL;
	size_t nlen = le16(h + 28), elen = le16(h + 30);
	const char *raw = (const char *)h + CENTRAL_SIZE, *lz, *why;
	uint16_t flags = le16(h + 8);
	uint64_t usize = le32(h + 24), csize = le32(h + 20), offset = le32(h + 42);
	char buf[SHOWN], reason[SHOWN + 64];
	zip_stat_t st;
	int rc;

	e->index = i;
	e->method = le16(h + 10);
	e->central_extra = (uint16_t)elen;
	e->is_folder = nlen > 0 && raw[nlen - 1] == '/';
	e->name = malloc(nlen + 1);
	if (e->name == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	memcpy(e->name, raw, nlen);
	e->name[nlen] = '\0';
	e->name_len = nlen;
	/* The name libzip reports must be the stored bytes. */
	lz = zip_get_name(z->za, i, ZIP_FL_ENC_RAW);
	if (memchr(raw, 0, nlen) != NULL)
		return eid_error__set(EID_EFORMAT, "'%s': entry %zu '%s': the name holds a NUL byte", z->label, i,
				      shown(raw, nlen, buf, sizeof(buf)));
	if (lz == NULL || strlen(lz) != nlen || memcmp(lz, raw, nlen) != 0)
		return eid_error__set(EID_EFORMAT,
				      "'%s': entry %zu '%s': an extra field renames it (Info-ZIP Unicode Path): readers "
				      "would disagree on its name", z->label, i, shown(raw, nlen, buf, sizeof(buf)));
	why = name_problem((const unsigned char *)raw, nlen, e->is_folder);
	if (why != NULL)
		return eid_error__set(nlen > ASIC_ZIP_MAX_NAME ? EID_ETOOBIG : EID_EFORMAT, "'%s': entry %zu '%s': %s",
				      z->label, i, shown(raw, nlen, buf, sizeof(buf)), why);
	if (index_check(&z->ix, raw, nlen - (e->is_folder ? 1 : 0), e->is_folder, reason, sizeof(reason)) != 0)
		return eid_error__set(EID_EFORMAT, "'%s': entry %zu: %s", z->label, i, reason);
	if ((rc = index_add(&z->ix, e->name, nlen - (e->is_folder ? 1 : 0), e->is_folder, z->nfiles)) < 0)
		return rc;
	if ((flags & (GPBF_ENCRYPTED | GPBF_STRONG | GPBF_MASKED)) != 0 || e->method == 99)
		return eid_error__set(EID_EFORMAT, "'%s': entry %zu '%s' is encrypted", z->label, i,
				      shown(raw, nlen, buf, sizeof(buf)));
	/* a Unix symbolic link (or device, FIFO...) would be made as such by an extractor */
	if (h[5] == 3 && (le32(h + 38) >> 16 & 0170000) != 0 && (le32(h + 38) >> 16 & 0170000) != 0100000 &&
	    (le32(h + 38) >> 16 & 0170000) != 0040000)
		return eid_error__set(EID_EFORMAT, "'%s': entry %zu '%s' is a symbolic link or special file", z->label, i,
				      shown(raw, nlen, buf, sizeof(buf)));
	if ((flags & GPBF_PATCHED) != 0)
		return eid_error__set(EID_EFORMAT, "'%s': entry %zu '%s' holds patch data", z->label, i,
				      shown(raw, nlen, buf, sizeof(buf)));
	if (e->method != ZIP_CM_STORE && e->method != ZIP_CM_DEFLATE)
		return eid_error__set(EID_EFORMAT,
				      "'%s': entry %zu '%s' uses compression method %u "
				      "(only stored and deflate are allowed)",
				      z->label, i, shown(raw, nlen, buf, sizeof(buf)), e->method);
	if (zip64_values(h + CENTRAL_SIZE + nlen, elen, &usize, &csize, &offset) != 0)
		return eid_error__set(EID_EFORMAT, "'%s': entry %zu '%s': bad Zip64 extra field", z->label, i,
				      shown(raw, nlen, buf, sizeof(buf)));
	if (zip_stat_index(z->za, i, ZIP_FL_ENC_RAW, &st) != 0)
		return zip_fail(zip_get_error(z->za), z->label);
	if ((st.valid & (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD)) !=
		    (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD) ||
	    st.size != usize || st.comp_size != csize || st.comp_method != e->method ||
	    st.encryption_method != ZIP_EM_NONE)
		return eid_error__set(EID_EFORMAT, "'%s': entry %zu '%s': its central header is read two ways", z->label,
				      i, shown(raw, nlen, buf, sizeof(buf)));
	e->size = usize;
	e->comp_size = csize;
	e->offset = offset;
	/* The local header: the same name bytes, its data before the central directory. */
	if (offset > cd_offset || cd_offset - offset < LOCAL_SIZE)
		return eid_error__set(EID_EFORMAT, "'%s': entry %zu '%s': its local header is not before the central "
				      "directory", z->label, i, shown(raw, nlen, buf, sizeof(buf)));
	if ((rc = raw_read(z, offset, lh, LOCAL_SIZE)) < 0)
		return rc;
	e->local_extra = le16(lh + 28);
	if (le32(lh) != SIG_LOCAL || le16(lh + 26) != nlen)
		return eid_error__set(EID_EFORMAT, "'%s': entry %zu '%s': its local header has another name", z->label, i,
				      shown(raw, nlen, buf, sizeof(buf)));
	lname = malloc(nlen);
	if (lname == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	rc = raw_read(z, offset + LOCAL_SIZE, lname, nlen);
	if (rc == EID_OK && memcmp(lname, raw, nlen) != 0)
		rc = eid_error__set(EID_EFORMAT, "'%s': entry %zu '%s': its local header has another name", z->label, i,
				    shown(raw, nlen, buf, sizeof(buf)));
	free(lname);
	if (rc < 0)
		return rc;
	e->data_end = offset + LOCAL_SIZE + nlen + e->local_extra;
	if (csize > cd_offset || e->data_end > cd_offset - csize)
		return eid_error__set(EID_EFORMAT, "'%s': entry %zu '%s': its data runs into the central directory",
				      z->label, i, shown(raw, nlen, buf, sizeof(buf)));
	e->data_end += csize;
	if (e->method == ZIP_CM_STORE && usize != csize)
		return eid_error__set(EID_EFORMAT, "'%s': entry %zu '%s' is stored with two sizes (%llu and %llu)",
				      z->label, i, shown(raw, nlen, buf, sizeof(buf)), (unsigned long long)usize,
				      (unsigned long long)csize);
	/* Folders hold nothing; sizes within the limits. */
	if (e->is_folder && (usize != 0 || csize != 0))
		return eid_error__set(EID_EFORMAT, "'%s': entry %zu '%s' is a folder with content", z->label, i,
				      shown(raw, nlen, buf, sizeof(buf)));
	if (usize > ASIC_ZIP_MAX_TOTAL - *total)
		return eid_error__set(EID_ETOOBIG, "'%s': entry %zu '%s': the entries declare more than 4 GiB in total",
				      z->label, i, shown(raw, nlen, buf, sizeof(buf)));
	*total += usize;
	if (usize > ASIC_ZIP_RATIO_FROM && usize / ASIC_ZIP_MAX_RATIO >= csize && usize > csize * ASIC_ZIP_MAX_RATIO)
		return eid_error__set(EID_ETOOBIG,
				      "'%s': entry %zu '%s' declares %llu bytes from %llu compressed "
				      "(above %d:1, a zip bomb)",
				      z->label, i, shown(raw, nlen, buf, sizeof(buf)), (unsigned long long)usize,
				      (unsigned long long)csize, ASIC_ZIP_MAX_RATIO);
	return EID_OK;
}

static int by_offset(const void *a, const void *b)
{
	const asic_entry *x = *(const asic_entry *const *)a, *y = *(const asic_entry *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* No two entries may share bytes (overlapping entries make small files expand into large ones). */
static int check_overlaps(asic_zip *z)
{
	asic_entry **order;
	char a[SHOWN], b[SHOWN];
	size_t i;
	int rc = EID_OK;

	if (z->nentries < 2)
		return EID_OK;
	order = malloc(z->nentries * sizeof(*order));
	if (order == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; i < z->nentries; i++)
		order[i] = &z->entries[i];
	qsort(order, z->nentries, sizeof(*order), by_offset);
	for (i = 0; i + 1 < z->nentries && rc == EID_OK; i++)
		if (order[i]->data_end > order[i + 1]->offset)
			rc = eid_error__set(EID_EFORMAT, "'%s': entries '%s' and '%s' overlap", z->label,
					    shown(order[i]->name, order[i]->name_len, a, sizeof(a)),
					    shown(order[i + 1]->name, order[i + 1]->name_len, b, sizeof(b)));
	free(order);
	return rc;
}

typedef int (*sink_fn)(void *ctx, const unsigned char *p, size_t n);

/*
 * Stream entry @e through @sink, stopping at its declared size (one byte more
 * is asked for, to catch data that goes on) and checking the CRC (libzip does
 * when a read reaches the end).
 */
static int stream_entry(asic_zip *z, const asic_entry *e, sink_fn sink, void *ctx)
{
	unsigned char *chunk, probe;
	char what[SHOWN + 32], buf[SHOWN];
	uint64_t got = 0;
	zip_file_t *zf;
	zip_int64_t n;
	size_t want;
	int rc = EID_OK, zrc;

	snprintf(what, sizeof(what), "entry '%s'", shown(e->name, e->name_len, buf, sizeof(buf)));
	chunk = malloc(CHUNK);
	if (chunk == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	zf = zip_fopen_index(z->za, e->index, 0);
	if (zf == NULL) {
		free(chunk);
		return zip_fail(zip_get_error(z->za), what);
	}
	for (;;) {
		want = e->size - got < CHUNK ? (size_t)(e->size - got) : CHUNK;
		if (want == 0) {
			n = zip_fread(zf, &probe, 1);
			if (n > 0)
				rc = eid_error__set(EID_EFORMAT, "%s holds more data than its declared %llu bytes", what,
						    (unsigned long long)e->size);
			else if (n < 0)
				rc = zip_fail(zip_file_get_error(zf), what);
			break;
		}
		n = zip_fread(zf, chunk, want);
		if (n < 0) {
			rc = zip_fail(zip_file_get_error(zf), what);
			break;
		}
		if (n == 0 || (uint64_t)n > want) {
			rc = eid_error__set(EID_EFORMAT, "%s holds less data than its declared %llu bytes", what,
					    (unsigned long long)e->size);
			break;
		}
		got += (uint64_t)n;
		if ((rc = sink(ctx, chunk, (size_t)n)) < 0)
			break;
	}
	zrc = zip_fclose(zf);
	if (rc == EID_OK && zrc != 0)
		rc = zip_fail_code(zrc, what);
	free(chunk);
	return rc;
}

static int sink_buf(void *ctx, const unsigned char *p, size_t n)
{
	return eid_buf__append(ctx, p, n);
}

static int sink_none(void *ctx, const unsigned char *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return EID_OK;
}

static int sink_md(void *ctx, const unsigned char *p, size_t n)
{
	if (EVP_DigestUpdate(ctx, p, n) != 1)
		return eid_error__ossl(EID_EINTERNAL, "digest update");
	return EID_OK;
}

/* The verdict on "mimetype" (see asic_zip_mimetype()), worked out once at opening. */
static void judge_mimetype(asic_zip *z)
{
	const asic_entry *e = z->nentries > 0 ? &z->entries[0] : NULL;
	eid_buf content = EID_BUF_INIT;
	char buf[SHOWN];
	size_t i;

	z->mt_ok = 0;
	z->mt_type[0] = '\0';
	if (e == NULL) {
		snprintf(z->mt_why, sizeof(z->mt_why), "the container is empty");
		return;
	}
	if (strcmp(e->name, "mimetype") != 0) {
		for (i = 1; i < z->nentries && strcmp(z->entries[i].name, "mimetype") != 0; i++)
			;
		if (i < z->nentries)
			snprintf(z->mt_why, sizeof(z->mt_why), "'mimetype' is entry %zu, not the first", i);
		else
			snprintf(z->mt_why, sizeof(z->mt_why), "there is no 'mimetype' entry (the first is '%s')",
				 shown(e->name, e->name_len, buf, sizeof(buf)));
		return;
	}
	if (e->offset != 0) {
		snprintf(z->mt_why, sizeof(z->mt_why), "'mimetype' does not start the file");
		return;
	}
	if (e->method != ZIP_CM_STORE) {
		snprintf(z->mt_why, sizeof(z->mt_why), "'mimetype' is compressed (it must be stored)");
		return;
	}
	if (e->local_extra != 0 || e->central_extra != 0) {
		snprintf(z->mt_why, sizeof(z->mt_why), "'mimetype' has an extra field");
		return;
	}
	if (e->size == 0 || e->size > ASIC_ZIP_MAX_MIMETYPE) {
		snprintf(z->mt_why, sizeof(z->mt_why), "'mimetype' holds %llu bytes, not a media type",
			 (unsigned long long)e->size);
		return;
	}
	if (stream_entry(z, e, sink_buf, &content) < 0) {
		snprintf(z->mt_why, sizeof(z->mt_why), "%s", eid_error_last()->message);
		eid_error_clear();
	} else if (!media_type_ok((const char *)content.data, content.len)) {
		snprintf(z->mt_why, sizeof(z->mt_why), "'mimetype' does not hold a media type ('%s')",
			 shown(content.data, content.len, buf, sizeof(buf)));
	} else {
		memcpy(z->mt_type, content.data, content.len);
		z->mt_type[content.len] = '\0';
		z->mt_ok = 1;
		z->mt_why[0] = '\0';
	}
	eid_buf_clear(&content);
}

/* Everything asic_zip_open() checks beyond libzip (see zip.h). */
static int scan(asic_zip *z)
{
	unsigned char *cd = NULL;
	uint64_t cd_offset = 0, cd_size = 0, count = 0, total = 0;
	zip_int64_t n = zip_get_num_entries(z->za, 0);
	size_t i, pos = 0, len;
	int rc;

	if (n < 0)
		return eid_error__set(EID_EINTERNAL, "'%s': no entry count", z->label);
	if (n > ASIC_ZIP_MAX_ENTRIES)
		return eid_error__set(EID_ETOOBIG, "'%s' has %lld entries, more than %d", z->label, (long long)n,
				      ASIC_ZIP_MAX_ENTRIES);
	if (n == 0) {
		judge_mimetype(z);
		return EID_OK;
	}
	if ((rc = find_cdir(z, &cd_offset, &cd_size, &count)) < 0)
		return rc;
	if (count != (uint64_t)n)
		return eid_error__set(EID_EFORMAT, "'%s': the end record counts %llu entries, libzip read %lld", z->label,
				      (unsigned long long)count, (long long)n);
	if (cd_size > ASIC_ZIP_MAX_CDIR)
		return eid_error__set(EID_ETOOBIG, "'%s': the central directory is larger than %u bytes", z->label,
				      ASIC_ZIP_MAX_CDIR);
	z->entries = calloc((size_t)n, sizeof(*z->entries));
	z->files = calloc((size_t)n, sizeof(*z->files));
	cd = malloc(cd_size > 0 ? (size_t)cd_size : 1);
	if (z->entries == NULL || z->files == NULL || cd == NULL) {
		free(cd);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	if ((rc = raw_read(z, cd_offset, cd, (size_t)cd_size)) < 0)
		goto out_free_cd;
	for (i = 0; i < (size_t)n; i++) {
		if (cd_size - pos < CENTRAL_SIZE || le32(cd + pos) != SIG_CENTRAL) {
			rc = eid_error__set(EID_EFORMAT, "'%s': central header %zu is missing", z->label, i);
			goto out_free_cd;
		}
		len = CENTRAL_SIZE + (size_t)le16(cd + pos + 28) + le16(cd + pos + 30) + le16(cd + pos + 32);
		if (cd_size - pos < len) {
			rc = eid_error__set(EID_EFORMAT, "'%s': central header %zu is truncated", z->label, i);
			goto out_free_cd;
		}
		z->nentries = i + 1;
		if ((rc = check_entry(z, i, cd + pos, cd_offset, &total)) < 0)
			goto out_free_cd;
		if (!z->entries[i].is_folder)
			z->files[z->nfiles++] = i;
		pos += len;
	}
	if (pos != cd_size) {
		rc = eid_error__set(EID_EFORMAT, "'%s': the central directory has bytes after its last entry", z->label);
		goto out_free_cd;
	}
	if ((rc = check_overlaps(z)) < 0)
		goto out_free_cd;
	judge_mimetype(z);
out_free_cd:
	free(cd);
	return rc;
}

/* Open @src (owned from here) as the container of @z. */
static int open_source(asic_zip *z, zip_source_t *src)
{
	zip_error_t ze;
	int rc;

	zip_error_init(&ze);
	z->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (z->za == NULL && zip_error_code_zip(&ze) == ZIP_ER_EXISTS) {
		/*
		 * libzip found two equal names (compared as C strings after its
		 * CP437 guess) but does not say which.  Open again without its
		 * checks only to let scan() name the culprit; refused either way.
		 */
		zip_error_fini(&ze);
		zip_error_init(&ze);
		z->za = zip_open_from_source(src, ZIP_RDONLY, &ze);
		if (z->za != NULL) {
			zip_error_fini(&ze);
			rc = scan(z);
			return rc < 0 ? rc : eid_error__set(EID_EFORMAT, "'%s': two entries have the same name", z->label);
		}
	}
	if (z->za == NULL) {
		rc = zip_fail(&ze, z->label);
		zip_source_free(src);
		zip_error_fini(&ze);
		return rc;
	}
	zip_error_fini(&ze);
	return scan(z);
}

static asic_zip *zip_new(const char *label)
{
	asic_zip *z = calloc(1, sizeof(*z));

	if (z == NULL)
		return NULL;
	z->fd = -1;
	z->label = eid__strdup(label);
	if (z->label == NULL) {
		free(z);
		return NULL;
	}
	return z;
}

int asic_zip_open(asic_zip **out, const char *path)
{
	asic_zip *z;
	struct stat st;
	zip_error_t ze;
	zip_source_t *src;
	FILE *f;
	int fd2, rc;

	if (out == NULL || path == NULL)
		return eid_error__set(EID_EINVAL, "asic_zip_open: NULL argument");
	*out = NULL;
	z = zip_new(path);
	if (z == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	z->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block us: refused below */
	if (z->fd < 0) {
		rc = eid_error__set(EID_EIO, "cannot open '%s': %s", path, strerror(errno));
		goto out_free;
	}
	if (fstat(z->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = eid_error__set(EID_EIO, "'%s' is not a regular file", path);
		goto out_free;
	}
	if (st.st_size == 0) { /* libzip takes an empty file for an empty archive */
		rc = eid_error__set(EID_EFORMAT, "'%s' is empty, not a ZIP file", path);
		goto out_free;
	}
	z->size = (uint64_t)st.st_size;
	/* libzip reads the same open file as we do, through its own descriptor. */
	fd2 = fcntl(z->fd, F_DUPFD_CLOEXEC, 0);
	f = fd2 >= 0 ? fdopen(fd2, "rb") : NULL;
	if (f == NULL) {
		rc = eid_error__set(EID_EIO, "cannot open '%s': %s", path, strerror(errno));
		if (fd2 >= 0)
			close(fd2);
		goto out_free;
	}
	zip_error_init(&ze);
	src = zip_source_filep_create(f, 0, (zip_int64_t)z->size, &ze);
	if (src == NULL) {
		rc = zip_fail(&ze, path);
		zip_error_fini(&ze);
		fclose(f);
		goto out_free;
	}
	zip_error_fini(&ze);
	rc = open_source(z, src);
	close(z->fd); /* every header has been read */
	z->fd = -1;
	if (rc < 0)
		goto out_free;
	*out = z;
	return EID_OK;
out_free:
	asic_zip_free(z);
	return rc;
}

int asic_zip_open_buffer(asic_zip **out, const void *data, size_t len)
{
	asic_zip *z;
	zip_error_t ze;
	zip_source_t *src;
	unsigned char *copy;
	int rc;

	if (out == NULL || (data == NULL && len > 0))
		return eid_error__set(EID_EINVAL, "asic_zip_open_buffer: NULL argument");
	*out = NULL;
	if (len == 0)
		return eid_error__set(EID_EFORMAT, "(buffer): empty, not a ZIP file");
	z = zip_new("(buffer)");
	copy = malloc(len);
	if (z == NULL || copy == NULL) {
		free(copy);
		asic_zip_free(z);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	memcpy(copy, data, len);
	zip_error_init(&ze);
	/* libzip owns the copy: sources copied into a writer may outlive this asic_zip */
	src = zip_source_buffer_create(copy, len, 1, &ze);
	if (src == NULL) { /* copy not freed: libzip may have done it (out of memory only) */
		rc = zip_fail(&ze, z->label);
		zip_error_fini(&ze);
		asic_zip_free(z);
		return rc;
	}
	zip_error_fini(&ze);
	z->mem = copy;
	z->size = len;
	rc = open_source(z, src);
	if (rc < 0) {
		asic_zip_free(z);
		return rc;
	}
	*out = z;
	return EID_OK;
}

void asic_zip_free(asic_zip *z)
{
	size_t i;

	if (z == NULL)
		return;
	if (z->za != NULL)
		zip_discard(z->za);
	if (z->fd >= 0)
		close(z->fd);
	for (i = 0; i < z->nentries; i++)
		free(z->entries[i].name);
	free(z->entries);
	free(z->files);
	index_free(&z->ix);
	free(z->label);
	free(z);
}

static const asic_entry *file_at(const asic_zip *z, size_t i)
{
	return z != NULL && i < z->nfiles ? &z->entries[z->files[i]] : NULL;
}

size_t asic_zip_count(const asic_zip *z)
{
	return z != NULL ? z->nfiles : 0;
}

const char *asic_zip_name(const asic_zip *z, size_t i)
{
	const asic_entry *e = file_at(z, i);

	return e != NULL ? e->name : NULL;
}

uint64_t asic_zip_size(const asic_zip *z, size_t i)
{
	const asic_entry *e = file_at(z, i);

	return e != NULL ? e->size : 0;
}

int asic_zip_find(const asic_zip *z, const char *name, size_t *index)
{
	const name_key *k;

	if (z == NULL || name == NULL)
		return eid_error__set(EID_EINVAL, "asic_zip_find: NULL argument");
	k = z->ix.files.cap > 0 ? set_slot(&z->ix.files, name, strlen(name)) : NULL;
	if (k != NULL && k->p != NULL) {
		if (index != NULL)
			*index = k->value;
		return EID_OK;
	}
	return eid_error__set(EID_ENOTFOUND, "'%s': no entry named '%s'", z->label, name);
}

int asic_zip_read(asic_zip *z, size_t i, size_t max, eid_buf *out)
{
	const asic_entry *e = file_at(z, i);
	char buf[SHOWN];
	int rc;

	if (out == NULL)
		return eid_error__set(EID_EINVAL, "asic_zip_read: NULL argument");
	eid_buf_clear(out);
	if (e == NULL)
		return eid_error__set(EID_EINVAL, "asic_zip_read: no file %zu", i);
	if (e->size > max)
		return eid_error__set(EID_ETOOBIG, "'%s': entry '%s' is larger than %zu bytes", z->label,
				      shown(e->name, e->name_len, buf, sizeof(buf)), max);
	/* reserve what is declared, within reason: memory then grows only with the data itself */
	rc = eid_buf__reserve(out, e->size < READ_RESERVE ? (size_t)e->size : READ_RESERVE);
	if (rc == EID_OK)
		rc = stream_entry(z, e, sink_buf, out);
	if (rc < 0)
		eid_buf_clear(out);
	return rc;
}

int asic_zip_digest(asic_zip *z, size_t i, const EVP_MD *md, unsigned char *out, unsigned int *len)
{
	const asic_entry *e = file_at(z, i);
	EVP_MD_CTX *ctx;
	int rc;

	if (md == NULL || out == NULL || len == NULL)
		return eid_error__set(EID_EINVAL, "asic_zip_digest: NULL argument");
	if (e == NULL)
		return eid_error__set(EID_EINVAL, "asic_zip_digest: no file %zu", i);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
		rc = eid_error__ossl(EID_EINTERNAL, "digest init");
		goto out_free_ctx;
	}
	if ((rc = stream_entry(z, e, sink_md, ctx)) < 0)
		goto out_free_ctx;
	if (EVP_DigestFinal_ex(ctx, out, len) != 1)
		rc = eid_error__ossl(EID_EINTERNAL, "digest final");
out_free_ctx:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int asic_zip_feed(asic_zip *z, size_t i, EVP_MD_CTX *md)
{
	const asic_entry *e = file_at(z, i);

	if (md == NULL)
		return eid_error__set(EID_EINVAL, "asic_zip_feed: NULL argument");
	if (e == NULL)
		return eid_error__set(EID_EINVAL, "asic_zip_feed: no file %zu", i);
	return stream_entry(z, e, sink_md, md);
}

int asic_zip_mimetype(const asic_zip *z, char *type, size_t type_size, int *ok, char *why, size_t why_size)
{
	size_t n;

	if (z == NULL || type == NULL || type_size == 0 || ok == NULL)
		return eid_error__set(EID_EINVAL, "asic_zip_mimetype: NULL argument");
	type[0] = '\0';
	*ok = z->mt_ok;
	if (why != NULL && why_size > 0)
		snprintf(why, why_size, "%s", z->mt_why);
	if (!z->mt_ok)
		return EID_OK;
	n = strlen(z->mt_type);
	if (n >= type_size) {
		*ok = 0;
		return eid_error__set(EID_ETOOBIG, "asic_zip_mimetype: the type has %zu bytes, the buffer %zu", n,
				      type_size);
	}
	memcpy(type, z->mt_type, n + 1);
	return EID_OK;
}

/* ---- writing ---- */

struct asic_writer {
	zip_t *za;
	eid_outfile of;
	zip_error_t err;  /* of the output callback, for libzip */
	int io_rc;        /* the eid error of a failed write, already set */
	int broken;       /* an addition failed half-way: commit refuses */
	name_index ix;
	char **names;     /* the names, kept for ix */
	size_t nnames, cap_names;
	void **blocks;    /* bytes of asic_writer_add_data, alive until libzip is done */
	size_t nblocks, cap_blocks;
	uint64_t total;
};

static int push(void ***v, size_t *n, size_t *cap, void *p)
{
	void **bigger;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;

		bigger = realloc(*v, c * sizeof(**v));
		if (bigger == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		*v = bigger;
		*cap = c;
	}
	(*v)[(*n)++] = p;
	return EID_OK;
}

/* libzip writes the container through this: into our temporary file, at the offsets it asks. */
static zip_int64_t out_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
	asic_writer *w = ud;
	zip_source_args_seek_t *seek;
	off_t off;

	switch (cmd) {
	case ZIP_SOURCE_SUPPORTS:
		return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
						      ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, ZIP_SOURCE_SEEK,
						      ZIP_SOURCE_TELL, ZIP_SOURCE_SUPPORTS, ZIP_SOURCE_BEGIN_WRITE,
						      ZIP_SOURCE_COMMIT_WRITE, ZIP_SOURCE_ROLLBACK_WRITE, ZIP_SOURCE_WRITE,
						      ZIP_SOURCE_SEEK_WRITE, ZIP_SOURCE_TELL_WRITE, ZIP_SOURCE_REMOVE, -1);
	case ZIP_SOURCE_STAT:
		/* nothing to read: libzip starts a new archive */
		zip_error_set(&w->err, ZIP_ER_READ, ENOENT);
		return -1;
	case ZIP_SOURCE_OPEN:
	case ZIP_SOURCE_CLOSE:
	case ZIP_SOURCE_READ:
	case ZIP_SOURCE_SEEK:
	case ZIP_SOURCE_TELL:
	case ZIP_SOURCE_FREE:            /* the writer owns its state */
	case ZIP_SOURCE_COMMIT_WRITE:    /* asic_writer_commit flushes and renames */
	case ZIP_SOURCE_ROLLBACK_WRITE:  /* asic_writer_free removes the file */
	case ZIP_SOURCE_REMOVE:
		return 0;
	case ZIP_SOURCE_ERROR:
		return zip_error_to_data(&w->err, data, len);
	case ZIP_SOURCE_BEGIN_WRITE:
		if (ftruncate(w->of.fd, 0) != 0 || lseek(w->of.fd, 0, SEEK_SET) != 0) {
			zip_error_set(&w->err, ZIP_ER_WRITE, errno);
			return -1;
		}
		return 0;
	case ZIP_SOURCE_WRITE:
		if (len > SIZE_MAX || eid_io__out_write(&w->of, data, (size_t)len) < 0) {
			w->io_rc = EID_EIO;
			zip_error_set(&w->err, ZIP_ER_WRITE, 0);
			return -1;
		}
		return (zip_int64_t)len;
	case ZIP_SOURCE_SEEK_WRITE:
		seek = ZIP_SOURCE_GET_ARGS(zip_source_args_seek_t, data, len, &w->err);
		if (seek == NULL)
			return -1;
		if (lseek(w->of.fd, (off_t)seek->offset, seek->whence) < 0) {
			zip_error_set(&w->err, ZIP_ER_SEEK, errno);
			return -1;
		}
		return 0;
	case ZIP_SOURCE_TELL_WRITE:
		off = lseek(w->of.fd, 0, SEEK_CUR);
		if (off < 0) {
			zip_error_set(&w->err, ZIP_ER_TELL, errno);
			return -1;
		}
		return (zip_int64_t)off;
	default:
		zip_error_set(&w->err, ZIP_ER_OPNOTSUPP, 0);
		return -1;
	}
}

/* Whether @name may be added with @size more bytes: EID_OK, or EID_EINVAL / EID_ETOOBIG. */
static int writer_check(const asic_writer *w, const char *name, uint64_t size)
{
	char buf[SHOWN], reason[SHOWN + 64];
	const char *why;
	size_t len;

	if (w == NULL || name == NULL)
		return eid_error__set(EID_EINVAL, "asic_writer: NULL argument");
	if (w->broken)
		return eid_error__set(EID_EINVAL, "asic_writer: an earlier addition failed; free the writer");
	len = strlen(name);
	why = name_problem((const unsigned char *)name, len, 0);
	if (why != NULL)
		return eid_error__set(EID_EINVAL, "entry name '%s': %s", shown(name, len, buf, sizeof(buf)), why);
	if (index_check(&w->ix, name, len, 0, reason, sizeof(reason)) != 0)
		return eid_error__set(EID_EINVAL, "%s", reason);
	if (w->nnames >= ASIC_ZIP_MAX_ENTRIES)
		return eid_error__set(EID_ETOOBIG, "a container holds at most %d entries", ASIC_ZIP_MAX_ENTRIES);
	if (size > ASIC_ZIP_MAX_TOTAL - w->total)
		return eid_error__set(EID_ETOOBIG, "'%s' would take the container beyond 4 GiB",
				      shown(name, len, buf, sizeof(buf)));
	return EID_OK;
}

/*
 * Add @src (owned from here) as @name, checked by writer_check(), with
 * @method (ZIP_CM_STORE, ZIP_CM_DEFLATE, or ZIP_CM_DEFAULT to keep a copied
 * entry's compressed bytes).
 */
static int writer_add(asic_writer *w, const char *name, zip_source_t *src, zip_int32_t method, uint64_t size)
{
	char *copy = eid__strdup(name);
	zip_int64_t idx;
	int rc;

	if (copy == NULL || push((void ***)&w->names, &w->nnames, &w->cap_names, copy) < 0) {
		free(copy);
		zip_source_free(src);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	/* names are UTF-8: libzip then sets the UTF-8 flag for non-ASCII ones and adds no extra field */
	idx = zip_file_add(w->za, copy, src, ZIP_FL_ENC_UTF_8);
	if (idx < 0) {
		zip_source_free(src);
		w->broken = 1;
		return zip_fail(zip_get_error(w->za), copy);
	}
	if (method != ZIP_CM_DEFAULT && zip_set_file_compression(w->za, (zip_uint64_t)idx, method, 0) != 0) {
		w->broken = 1;
		return zip_fail(zip_get_error(w->za), copy);
	}
	if ((rc = index_add(&w->ix, copy, strlen(copy), 0, 0)) < 0) {
		w->broken = 1;
		return rc;
	}
	w->total += size;
	return EID_OK;
}

/* Add @len bytes, copied into a block the writer keeps. */
static int writer_add_bytes(asic_writer *w, const char *name, const void *p, size_t len, zip_int32_t method)
{
	zip_source_t *src;
	void *block;
	int rc;

	if ((rc = writer_check(w, name, len)) < 0)
		return rc;
	if (p == NULL && len > 0)
		return eid_error__set(EID_EINVAL, "asic_writer_add_data: NULL data");
	block = malloc(len > 0 ? len : 1);
	if (block == NULL || push(&w->blocks, &w->nblocks, &w->cap_blocks, block) < 0) {
		free(block);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	if (len > 0)
		memcpy(block, p, len);
	src = zip_source_buffer(w->za, block, len, 0);
	if (src == NULL)
		return zip_fail(zip_get_error(w->za), name);
	return writer_add(w, name, src, method, len);
}

int asic_writer_open(asic_writer **out, const char *path, const char *mimetype)
{
	asic_writer *w;
	zip_source_t *src;
	zip_error_t ze;
	int rc;

	if (out == NULL || path == NULL || mimetype == NULL)
		return eid_error__set(EID_EINVAL, "asic_writer_open: NULL argument");
	*out = NULL;
	if (!media_type_ok(mimetype, strlen(mimetype))) {
		char buf[SHOWN];

		return eid_error__set(EID_EINVAL, "'%s' is not a media type", shown(mimetype, strlen(mimetype), buf,
										      sizeof(buf)));
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	w->of.fd = -1;
	zip_error_init(&w->err);
	if ((rc = eid_io__out_open(&w->of, path)) < 0) {
		asic_writer_free(w);
		return rc;
	}
	zip_error_init(&ze);
	src = zip_source_function_create(out_cb, w, &ze);
	if (src != NULL) {
		w->za = zip_open_from_source(src, ZIP_CREATE | ZIP_TRUNCATE, &ze);
		if (w->za == NULL)
			zip_source_free(src);
	}
	if (w->za == NULL) {
		rc = zip_fail(&ze, path);
		zip_error_fini(&ze);
		asic_writer_free(w);
		return rc;
	}
	zip_error_fini(&ze);
	if ((rc = writer_add_bytes(w, "mimetype", mimetype, strlen(mimetype), ZIP_CM_STORE)) < 0) {
		asic_writer_free(w);
		return rc;
	}
	*out = w;
	return EID_OK;
}

int asic_writer_add_file(asic_writer *w, const char *name, const char *src_path)
{
	zip_source_t *src;
	struct stat st;
	int rc;

	if (src_path == NULL)
		return eid_error__set(EID_EINVAL, "asic_writer_add_file: NULL path");
	if (stat(src_path, &st) != 0)
		return eid_error__set(EID_EIO, "cannot open '%s': %s", src_path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return eid_error__set(EID_EIO, "'%s' is not a regular file", src_path);
	if ((rc = writer_check(w, name, (uint64_t)st.st_size)) < 0)
		return rc;
	src = zip_source_file(w->za, src_path, 0, 0);
	if (src == NULL)
		return zip_fail(zip_get_error(w->za), src_path);
	return writer_add(w, name, src, ZIP_CM_DEFLATE, (uint64_t)st.st_size);
}

int asic_writer_add_data(asic_writer *w, const char *name, const void *p, size_t len)
{
	return writer_add_bytes(w, name, p, len, ZIP_CM_DEFLATE);
}

int asic_writer_copy(asic_writer *w, asic_zip *from, size_t i)
{
	const asic_entry *e = file_at(from, i);
	zip_source_t *src;
	int rc;

	if (e == NULL)
		return eid_error__set(EID_EINVAL, "asic_writer_copy: no file %zu", i);
	if ((rc = writer_check(w, e->name, e->size)) < 0)
		return rc;
	/* the bytes go over untouched, so the CRC would not be checked on the way: check it now */
	if ((rc = stream_entry(from, e, sink_none, NULL)) < 0)
		return rc;
	src = zip_source_zip(w->za, from->za, e->index, ZIP_FL_COMPRESSED, 0, -1);
	if (src == NULL)
		return zip_fail(zip_get_error(w->za), e->name);
	/* a deflated entry keeps its method by default; a stored one must say so or libzip deflates it */
	return writer_add(w, e->name, src, e->method == ZIP_CM_STORE ? ZIP_CM_STORE : ZIP_CM_DEFAULT, e->size);
}

static void writer_release(asic_writer *w)
{
	size_t i;

	if (w->za != NULL)
		zip_discard(w->za);
	eid_io__out_abort(&w->of);
	zip_error_fini(&w->err);
	index_free(&w->ix);
	for (i = 0; i < w->nnames; i++)
		free(w->names[i]);
	free(w->names);
	for (i = 0; i < w->nblocks; i++)
		free(w->blocks[i]);
	free(w->blocks);
	free(w);
}

int asic_writer_commit(asic_writer *w)
{
	char *path;
	int rc;

	if (w == NULL)
		return eid_error__set(EID_EINVAL, "asic_writer_commit: NULL writer");
	if (w->broken) {
		rc = eid_error__set(EID_EINVAL, "asic_writer_commit: an earlier addition failed");
		writer_release(w);
		return rc;
	}
	path = w->of.path;
	if (zip_close(w->za) != 0) {
		rc = w->io_rc != 0 ? w->io_rc : zip_fail(zip_get_error(w->za), path);
		writer_release(w);
		return rc;
	}
	w->za = NULL; /* zip_close freed it */
	rc = eid_io__out_commit(&w->of);
	writer_release(w);
	return rc;
}

void asic_writer_free(asic_writer *w)
{
	if (w != NULL)
		writer_release(w);
}

/* ---- manifest and URIs ---- */

static int append_escaped(eid_buf *out, const char *s)
{
	const char *run = s;
	int rc = EID_OK;

	for (; *s != '\0' && rc == EID_OK; s++) {
		const char *ent = NULL;

		switch (*s) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&apos;"; break;
		default: continue;
		}
		rc = eid_buf__append(out, run, (size_t)(s - run));
		if (rc == EID_OK)
			rc = eid_buf__puts(out, ent);
		run = s + 1;
	}
	if (rc == EID_OK)
		rc = eid_buf__puts(out, run);
	return rc;
}

static int entry_xml(eid_buf *out, const char *path, const char *media_type)
{
	int rc = eid_buf__puts(out, " <manifest:file-entry manifest:full-path=\"");

	if (rc == EID_OK)
		rc = append_escaped(out, path);
	if (rc == EID_OK)
		rc = eid_buf__puts(out, "\" manifest:media-type=\"");
	if (rc == EID_OK)
		rc = append_escaped(out, media_type);
	if (rc == EID_OK)
		rc = eid_buf__puts(out, "\"/>\n");
	return rc;
}

int asic_manifest_build(const char *const *names, const char *const *media_types, size_t n, eid_buf *out)
{
	char buf[SHOWN];
	const char *why, *p;
	size_t i;
	int rc;

	if (out == NULL || (n > 0 && (names == NULL || media_types == NULL)))
		return eid_error__set(EID_EINVAL, "asic_manifest_build: NULL argument");
	eid_buf_clear(out);
	for (i = 0; i < n; i++) {
		if (names[i] == NULL || media_types[i] == NULL)
			return eid_error__set(EID_EINVAL, "asic_manifest_build: NULL name or media type %zu", i);
		why = name_problem((const unsigned char *)names[i], strlen(names[i]), 0);
		if (why != NULL)
			return eid_error__set(EID_EINVAL, "manifest entry '%s': %s",
					      shown(names[i], strlen(names[i]), buf, sizeof(buf)), why);
		for (p = media_types[i]; *p >= 0x20 && *p < 0x7f; p++)
			;
		if (*p != '\0' || p == media_types[i])
			return eid_error__set(EID_EINVAL, "manifest entry '%s': bad media type '%s'", names[i],
					      shown(media_types[i], strlen(media_types[i]), buf, sizeof(buf)));
	}
	rc = eid_buf__puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
				"<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\""
				" manifest:version=\"1.2\">\n");
	if (rc == EID_OK)
		rc = entry_xml(out, "/", ASIC_MEDIA_TYPE_E);
	for (i = 0; i < n && rc == EID_OK; i++)
		rc = entry_xml(out, names[i], media_types[i]);
	if (rc == EID_OK)
		rc = eid_buf__puts(out, "</manifest:manifest>\n");
	if (rc < 0)
		eid_buf_clear(out);
	return rc;
}

int asic_uri_encode(const char *name, eid_buf *out)
{
	char buf[SHOWN];
	const char *why;
	int rc;

	if (name == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "asic_uri_encode: NULL argument");
	eid_buf_clear(out);
	why = name_problem((const unsigned char *)name, strlen(name), 0);
	if (why != NULL)
		return eid_error__set(EID_EINVAL, "entry name '%s': %s", shown(name, strlen(name), buf, sizeof(buf)), why);
	if ((rc = eid_xml__uri_encode(name, out)) < 0)
		eid_buf_clear(out);
	return rc;
}

int asic_uri_decode(const char *uri, eid_buf *out)
{
	char buf[SHOWN];
	const char *p, *why;
	int hi, lo, rc = EID_OK, in_first = 1;

	if (uri == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "asic_uri_decode: NULL argument");
	eid_buf_clear(out);
	for (p = uri; *p != '\0' && rc == EID_OK; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%') {
			hi = eid_hex__digit(p[1]);
			lo = hi >= 0 ? eid_hex__digit(p[2]) : -1;
			if (lo < 0) {
				rc = eid_error__set(EID_EFORMAT, "URI '%s': invalid %% escape",
						    shown(uri, strlen(uri), buf, sizeof(buf)));
				break;
			}
			c = (unsigned char)(hi << 4 | lo);
			if (c == 0) {
				rc = eid_error__set(EID_EFORMAT, "URI '%s': %%00 is not allowed",
						    shown(uri, strlen(uri), buf, sizeof(buf)));
				break;
			}
			p += 2;
		} else if (c == '?' || c == '#') {
			rc = eid_error__set(EID_EFORMAT, "URI '%s' has a query or fragment, not an entry name",
					    shown(uri, strlen(uri), buf, sizeof(buf)));
			break;
		} else if (c == ':' && in_first) {
			rc = eid_error__set(EID_EFORMAT, "URI '%s' has a scheme, not a relative reference",
					    shown(uri, strlen(uri), buf, sizeof(buf)));
			break;
		} else if (c == '/') {
			in_first = 0;
		}
		rc = eid_buf__append(out, &c, 1);
	}
	if (rc == EID_OK) {
		why = name_problem(out->data, out->len, 0);
		if (why != NULL)
			rc = eid_error__set(EID_EFORMAT, "URI '%s': %s", shown(uri, strlen(uri), buf, sizeof(buf)), why);
	}
	if (rc < 0)
		eid_buf_clear(out);
	return rc;
}
