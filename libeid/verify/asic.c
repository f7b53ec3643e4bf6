/*
 * ASiC validation: the container is opened by the hardened ZIP reader, its
 * declared type checked, and every META-INF signature file ("signatures" in its name, .xml) validated as
 * XAdES whose detached references resolve to the container's entries only.
 * A data file a signature does not cover is reported on that signature: it
 * may have been added after signing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../asic/zip.h"
#include "../xades/xades.h"
#include "../xml/xml.h"
#include "verify.h"


typedef struct entries {
	asic_zip *zip;
	char *covered;  /* per entry */
} entries;

static int entry_digest(void *ctx, const char *name, const EVP_MD *md, unsigned char *out, unsigned int *len)
{
	entries *e = ctx;
	size_t i;
	int rc;

	if ((rc = asic_zip_find(e->zip, name, &i)) < 0)
		return eid_error__set(EID_ENOTFOUND, "the container holds no '%.200s'", name);
	if ((rc = asic_zip_digest(e->zip, i, md, out, len)) == EID_OK)
		e->covered[i] = 1;
	return rc;
}

/* The bytes of an entry, for archive timestamps (which cover the data objects whole). */
static int entry_bytes(void *ctx, const char *name, EVP_MD_CTX *md, eid_buf *out)
{
	entries *e = ctx;
	eid_buf tmp = EID_BUF_INIT;
	size_t i;
	int rc;

	if (asic_zip_find(e->zip, name, &i) < 0)
		return eid_error__set(EID_ENOTFOUND, "the container holds no '%.200s'", name);
	if (md != NULL)
		return asic_zip_feed(e->zip, i, md);
	if ((rc = asic_zip_read(e->zip, i, EID_XADES_ATS_MAX_INPUT - out->len, &tmp)) == EID_OK)
		rc = eid_buf__append(out, tmp.data, tmp.len);
	eid_buf_clear(&tmp);
	return rc;
}

static int is_data(const char *name)
{
	return strcmp(name, "mimetype") != 0 && strncmp(name, "META-INF/", 9) != 0;
}

static int is_xades_file(const char *name)
{
	size_t n = strlen(name);

	return strncmp(name, "META-INF/", 9) == 0 && strchr(name + 9, '/') == NULL && strstr(name + 9, "signatures") &&
	       n > 4 && strcmp(name + n - 4, ".xml") == 0;
}

int eid_verify__asic(eid_report *r, const char *path, const eid_verify_opts *o)
{
	entries e = { NULL, NULL };
	eid_xml_resolver res = { entry_digest, &e };
	eid_xades_source src = { entry_bytes, &e };
	eid_buf sig = EID_BUF_INIT;
	char type[256] = "", why[256] = "", note[600] = "";
	size_t i, j, k, n, nsig = 0, ndata = 0;
	int rc, ok = 0, simple;

	if ((rc = asic_zip_open(&e.zip, path)) < 0)
		return rc;
	n = asic_zip_count(e.zip);
	if ((rc = asic_zip_mimetype(e.zip, type, sizeof(type), &ok, why, sizeof(why))) < 0)
		goto out;
	simple = ok && strcmp(type, ASIC_MEDIA_TYPE_S) == 0;
	if (!ok)
		snprintf(note, sizeof(note), "not a conforming ASiC container: %s", why);
	else if (!simple && strcmp(type, ASIC_MEDIA_TYPE_E) != 0)
		snprintf(note, sizeof(note), "the container's type is '%.200s', not ASiC-E or ASiC-S", type);
	for (i = 0; i < n; i++)
		ndata += is_data(asic_zip_name(e.zip, i));
	if ((e.covered = calloc(n + 1, 1)) == NULL) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out;
	}
	for (i = 0; i < n && rc == EID_OK; i++) {
		const char *name = asic_zip_name(e.zip, i);
		size_t first = r->n;

		if (!is_xades_file(name))
			continue;
		nsig++;
		memset(e.covered, 0, n);
		if ((rc = asic_zip_read(e.zip, i, EID_XML_MAX_SIZE, &sig)) < 0)
			goto out;
		rc = eid_verify__xades_src(r, sig.data, sig.len, name, &res, &src, o);
		if (rc == EID_ENOTFOUND || rc == EID_EFORMAT) { /* a signature file that holds nothing we can read */
			eid_sig_report *s;
			char msg[512];

			snprintf(msg, sizeof(msg), "%s", eid_error_last()->message);
			eid_error_clear();
			if ((rc = eid_report__add(r, &s)) < 0)
				goto out;
			eid_sig__set(&s->format, "XAdES");
			eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_FORMAT_FAILURE, "%s", msg);
		}
		if (rc < 0)
			goto out;
		for (j = first; j < r->n; j++) {
			eid_sig_report *s = r->sigs[j];

			eid_sig__set(&s->field, name);
			if (s->format != NULL && strcmp(s->format, "XAdES") == 0)
				eid_sig__set(&s->format, simple ? "ASiC-S/XAdES" : "ASiC-E/XAdES");
			if (note[0])
				eid_sig__warn(s, "%s", note);
			for (k = 0; k < n; k++)
				if (is_data(asic_zip_name(e.zip, k)) && !e.covered[k])
					eid_sig__warn(s, "the container's file '%s' is not signed by this signature",
						      asic_zip_name(e.zip, k));
			if (simple && ndata != 1)
				eid_sig__warn(s, "an ASiC-S container holds one data file, this one %zu", ndata);
		}
	}
	if (rc == EID_OK && nsig == 0)
		rc = eid_error__set(EID_ENOTFOUND, "'%s' holds no XAdES signature (META-INF/...signatures...xml)", path);
out:
	eid_buf_clear(&sig);
	free(e.covered);
	asic_zip_free(e.zip);
	return rc;
}
