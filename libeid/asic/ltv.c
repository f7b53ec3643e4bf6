/*
 * ASiC-E and ASiC-S long-term levels: every XAdES signature file of the
 * container (META-INF/...signatures...xml) is extended as an XML document
 * whose detached references are the container's entries, and the
 * container is written anew: "mimetype" first and stored, every other entry
 * copied as it was (its compressed bytes, CRC and time), the signature
 * files replaced in their places.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../ltv/ltv.h"
#include "../xades/xades.h"
#include "zip.h"

static int is_xades_file(const char *name)
{
	size_t n = strlen(name);

	return strncmp(name, "META-INF/", 9) == 0 && strchr(name + 9, '/') == NULL && strstr(name + 9, "signatures") &&
	       n > 4 && strcmp(name + n - 4, ".xml") == 0;
}

/* The archive timestamp reads the data objects from the container's own entries, never from elsewhere. */
static int entry_source(void *ctx, const char *name, EVP_MD_CTX *md, eid_buf *out)
{
	asic_zip *z = ctx;
	eid_buf tmp = EID_BUF_INIT;
	size_t i;
	int rc;

	if (asic_zip_find(z, name, &i) < 0)
		return eid_error__set(EID_ENOTFOUND, "the container holds no '%.200s'", name);
	if (md != NULL)
		return asic_zip_feed(z, i, md);
	if ((rc = asic_zip_read(z, i, EID_XADES_ATS_MAX_INPUT - out->len, &tmp)) == EID_OK)
		rc = eid_buf__append(out, tmp.data, tmp.len);
	eid_buf_clear(&tmp);
	return rc;
}

int eid_asic__extend(const char *in, const char *out, const eid_extend_opts *o)
{
	asic_zip *z = NULL;
	asic_writer *w = NULL;
	eid_xades_source src = { entry_source, NULL };
	eid_buf sig = EID_BUF_INIT, *done = NULL;
	char type[256], why[256];
	size_t i, n = 0, found = 0;
	int rc, ok = 0;

	if ((rc = asic_zip_open(&z, in)) < 0)
		return rc;
	src.ctx = z;
	if ((rc = asic_zip_mimetype(z, type, sizeof(type), &ok, why, sizeof(why))) < 0)
		goto out;
	if (!ok || (strcmp(type, ASIC_MEDIA_TYPE_E) != 0 && strcmp(type, ASIC_MEDIA_TYPE_S) != 0)) {
		rc = eid_error__set(EID_EUNSUPPORTED, "'%s' is not an ASiC-E or ASiC-S container (%s)", in, ok ? type : why);
		goto out;
	}
	n = asic_zip_count(z);
	if ((done = calloc(n + 1, sizeof(*done))) == NULL) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out;
	}
	for (i = 0; i < n && rc == EID_OK; i++) {
		const char *name = asic_zip_name(z, i);

		if (!is_xades_file(name))
			continue;
		found++;
		if ((rc = asic_zip_read(z, i, EID_XML_MAX_SIZE, &sig)) == EID_OK &&
		    (rc = eid_xades__extend_mem(sig.data, sig.len, name, &src, o, &done[i])) < 0)
			rc = eid_error__wrap("'%s'", in);
	}
	if (rc == EID_OK && found == 0)
		rc = eid_error__set(EID_ENOTFOUND, "'%s' holds no XAdES signature (META-INF/...signatures...xml)", in);
	if (rc < 0)
		goto out;
	/* the same entries in the same order; the signature files replaced */
	if ((rc = asic_writer_open(&w, out, type)) < 0)
		goto out;
	for (i = 0; i < n && rc == EID_OK; i++) {
		const char *name = asic_zip_name(z, i);

		if (strcmp(name, "mimetype") == 0)
			continue;
		rc = is_xades_file(name) ? asic_writer_add_data(w, name, done[i].data, done[i].len)
					 : asic_writer_copy(w, z, i);
	}
	if (rc == EID_OK) {
		rc = asic_writer_commit(w); /* frees the writer in every case */
		w = NULL;
	}
out:
	asic_writer_free(w);
	for (i = 0; done != NULL && i < n; i++)
		eid_buf_clear(&done[i]);
	free(done);
	eid_buf_clear(&sig);
	asic_zip_free(z);
	return rc;
}
