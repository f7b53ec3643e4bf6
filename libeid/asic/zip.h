/*
 * Internal interface of the ZIP layer of ASiC containers (ETSI EN 319 162-1,
 * ASiC-E and ASiC-S), on top of libzip.  libzip types never appear here.
 *
 * Reading is hardened against hostile containers: asic_zip_open() refuses
 * anything that another reader could see differently or that could be
 * unpacked outside a folder, and bounds what reading may cost (see the rules
 * below).  Names are the stored bytes, which must be UTF-8 whether or not the
 * ZIP "UTF-8" flag is set: a name is never converted from CP437, so the name
 * seen here is the name a signature refers to.
 *
 * Writing goes to a temporary file beside the target ("<folder>/.eid-out-XXXXXX",
 * as eid_io__out_open() makes it), renamed into place on commit; on any
 * failure nothing is left behind and the target is untouched.  libzip writes
 * through a callback into that file, so it makes no temporary file of its own.
 *
 * An asic_zip or asic_writer is not thread-safe: use one from one thread at a
 * time.  Errors are eid_error_code values with the detail in eid_error_last().
 */
#ifndef EID_INTERNAL_ASIC_ZIP_H
#define EID_INTERNAL_ASIC_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "../common/common.h"

/* Limits against hostile input (the writer keeps to them too). */
#define ASIC_ZIP_MAX_ENTRIES 10000                  /* entries, folders included */
#define ASIC_ZIP_MAX_NAME 1024                      /* bytes of an entry name */
#define ASIC_ZIP_MAX_TOTAL (UINT64_C(4) << 30)      /* declared uncompressed bytes, all entries */
#define ASIC_ZIP_MAX_RATIO 1000                     /* uncompressed : compressed, ... */
#define ASIC_ZIP_RATIO_FROM (UINT64_C(1) << 20)     /* ... for entries larger than this */
#define ASIC_ZIP_MAX_CDIR (64u << 20)               /* bytes of the central directory */
#define ASIC_ZIP_MAX_MIMETYPE 255                   /* bytes of the "mimetype" content */

/* The container types; ASIC_MEDIA_TYPE_E is also the root entry of META-INF/manifest.xml. */
#define ASIC_MEDIA_TYPE_E "application/vnd.etsi.asic-e+zip"
#define ASIC_MEDIA_TYPE_S "application/vnd.etsi.asic-s+zip"

/*
 * Reading a container, hardened against hostile ZIPs.
 *
 * asic_zip_open() refuses (EID_EFORMAT, or EID_ETOOBIG for the limits; the
 * message names the entry):
 *  - a file that is not a ZIP, or whose local headers, central directory and
 *    end record disagree (libzip's ZIP_CHECKCONS, plus our own reading of the
 *    raw central directory and of every local header: the stored name bytes
 *    must be the same in both and equal to what libzip reports, so a NUL in a
 *    name or an Info-ZIP Unicode Path field (0x7075) that renames an entry is
 *    refused), entries whose data overlap, data running into the central
 *    directory, an end record inside the archive comment, Zip64 and 32-bit
 *    end records that disagree, a stored entry with two sizes, split archives
 *    (EID_EUNSUPPORTED);
 *  - more than ASIC_ZIP_MAX_ENTRIES entries;
 *  - a name that is not a safe relative path (asic_zip_name_check());
 *  - two entries with the same name, or a file that is also a folder of
 *    another entry ("a" and "a/b");
 *  - encrypted entries (traditional, strong or AES), compression methods other
 *    than stored (0) and deflate (8), PKWARE patch data, Unix symbolic links
 *    and special files (which an extractor would make as such);
 *  - declared uncompressed sizes above ASIC_ZIP_MAX_TOTAL in total, or above
 *    ASIC_ZIP_MAX_RATIO times the compressed size for an entry larger than
 *    ASIC_ZIP_RATIO_FROM (zip bombs).
 * Folders: an entry whose name ends in '/' is a folder.  Its name must be safe
 * too and it must be empty; folders are checked, then skipped: they are never
 * counted or returned below, where index i runs over the files only, in the
 * order of the central directory.
 */
typedef struct asic_zip asic_zip;

/* Open the container at @path.  *out (NULL on error) is freed with asic_zip_free(). */
int asic_zip_open(asic_zip **out, const char *path);
/* The same on bytes in memory (copied), for the fuzzer and for containers received over the wire. */
int asic_zip_open_buffer(asic_zip **out, const void *data, size_t len);
void asic_zip_free(asic_zip *z); /* accepts NULL */

/* Number of files (folders are not counted). */
size_t asic_zip_count(const asic_zip *z);
/* Name of file @i: UTF-8 as stored, NUL-terminated, borrowed until asic_zip_free(); NULL when out of range. */
const char *asic_zip_name(const asic_zip *z, size_t i);
/* Declared uncompressed size of file @i (0 when out of range). */
uint64_t asic_zip_size(const asic_zip *z, size_t i);
/* Index of the file named @name: EID_OK, or EID_ENOTFOUND (a folder is not found). */
int asic_zip_find(const asic_zip *z, const char *name, size_t *index);

/*
 * The whole content of file @i into @out (replaced; NUL-terminated beyond
 * out->len).  EID_ETOOBIG when its declared size is above @max.  Reading stops
 * at the declared size whatever the data holds, and the CRC is checked:
 * EID_EFORMAT when the data is longer or shorter than declared, corrupt, or
 * fails its CRC.  On error @out is cleared.
 */
int asic_zip_read(asic_zip *z, size_t i, size_t max, eid_buf *out);
/*
 * The digest with @md of file @i, streamed (bounded memory), into @out
 * (EVP_MAX_MD_SIZE bytes) and *len.  Same checks as asic_zip_read().
 */
int asic_zip_digest(asic_zip *z, size_t i, const EVP_MD *md, unsigned char *out, unsigned int *len);
/* The same into a digest already started (@md updated, not finalized): a file among other data. */
int asic_zip_feed(asic_zip *z, size_t i, EVP_MD_CTX *md);

/*
 * The container's declared type: "mimetype" must be entry 0 of the central
 * directory, its local header at offset 0, stored (not compressed), without an
 * extra field in either header, its content (CRC checked) a media type
 * (RFC 6838 type "/" subtype, at most ASIC_ZIP_MAX_MIMETYPE bytes).  Then
 * *ok = 1 and @type holds it; else *ok = 0 with a reason in @why (@why may be
 * NULL) and @type is "" -- a verdict, not an error.  Errors: EID_EINVAL for
 * NULL arguments, EID_ETOOBIG when @type_size is too small for the type.
 */
int asic_zip_mimetype(const asic_zip *z, char *type, size_t type_size, int *ok, char *why, size_t why_size);

/*
 * Writing a container: a temporary file beside the target, renamed into place
 * on commit.  Entries are written in the order they are added, after
 * "mimetype".  Names follow asic_zip_name_check() and the rules of reading
 * (no duplicates, no file that is also a folder, the limits): EID_EINVAL
 * otherwise.  Non-ASCII names are written with the UTF-8 flag and no extra
 * field.
 */
typedef struct asic_writer asic_writer;

/*
 * Start a container at @path with "mimetype" first: stored, no extra field,
 * so that "mimetype" is at offset 30 and @mimetype at offset 38 of the file.
 * @mimetype must be a media type (see asic_zip_mimetype()).  The temporary
 * file is made now: EID_EIO when the folder of @path is not writable.
 */
int asic_writer_open(asic_writer **out, const char *path, const char *mimetype);
/*
 * Add the regular file @src_path as @name, deflated.  Its bytes are read
 * (streamed) at commit: it must stay as it is until then.
 */
int asic_writer_add_file(asic_writer *w, const char *name, const char *src_path);
/* Add @len bytes (copied now) as @name, deflated. */
int asic_writer_add_data(asic_writer *w, const char *name, const void *p, size_t len);
/*
 * Add file @i of @from under its own name with its compressed bytes, method,
 * CRC and time untouched (its CRC is checked first: EID_EFORMAT).  @from must
 * stay open until the writer is committed or freed.
 */
int asic_writer_copy(asic_writer *w, asic_zip *from, size_t i);
/*
 * Write the container, flush it to disk and rename it over the target.  The
 * writer is freed in every case; on error the target is untouched and the
 * temporary file removed.  EID_EIO, EID_EFORMAT (a copied entry failed its
 * check) or EID_ENOMEM.
 */
int asic_writer_commit(asic_writer *w);
/* Abandon: the temporary file is removed, the target untouched.  Accepts NULL. */
void asic_writer_free(asic_writer *w);

/*
 * Whether @name (@len bytes, which may hold a NUL) is a safe entry name:
 * 1..ASIC_ZIP_MAX_NAME bytes of valid UTF-8 (shortest forms, no surrogates)
 * without NUL, other C0 controls, DEL, U+FFFE or U+FFFF (XML cannot carry
 * them), not absolute ("/x", or a drive as in "C:x"), without '\', "//", "."
 * or ".." segments.  A folder (@is_folder) ends in one '/', a file does not.
 * EID_OK, or EID_EFORMAT (EID_ETOOBIG when too long) with the reason; the name
 * is not in the message, callers add it.  Not checked: Unicode normalization
 * and case ("a.txt" and "A.txt" are two names).
 */
int asic_zip_name_check(const char *name, size_t len, int is_folder);

/*
 * META-INF/manifest.xml of ASiC-E (the OpenDocument manifest): the root "/"
 * entry with ASIC_MEDIA_TYPE_E, then each of the @n files with its media type;
 * values XML-escaped, non-ASCII kept as UTF-8.  Names must be safe file names,
 * media types printable ASCII: EID_EINVAL otherwise.  @out is replaced.
 */
int asic_manifest_build(const char *const *names, const char *const *media_types, size_t n, eid_buf *out);

/*
 * Percent-encode a safe entry name for a URI reference (RFC 3986: unreserved
 * characters and '/' kept, every other byte of the UTF-8 as %XX): EID_EINVAL
 * for an unsafe name.  Decode one back: %XX (either case) become bytes, other
 * characters are kept; EID_EFORMAT for %00, an invalid escape, a '?' or '#'
 * (query or fragment), a ':' before the first '/' (a scheme, not a relative
 * reference), or a result that is not a safe file name.  @out is replaced and
 * NUL-terminated; cleared on error.
 */
int asic_uri_encode(const char *name, eid_buf *out);
int asic_uri_decode(const char *uri, eid_buf *out);

#endif
