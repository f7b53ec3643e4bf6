/*
 * ASiC-E and ASiC-S with XAdES (ETSI EN 319 162-1): the data files are
 * digested (from disk, or from an existing container's entries), a detached
 * XAdES under asic:XAdESSignatures names them by percent-encoded entry name,
 * and the container is written once, atomically, when the value comes back.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "eid/asic.h"
#include "../cms/cms.h"
#include "../xades/xades.h"
#include "zip.h"

struct eid_asic_prep {
	eid_xades_prep *xades;
	eid_asic_type type;
	char *out_path;
	char **names;         /* new container: entry names ... */
	char **paths;         /* ... and the files they come from */
	size_t n;
	asic_zip *from;       /* adding: the container copied */
	char sig_name[64];    /* META-INF/signatures*.xml */
	eid_buf manifest;     /* new ASiC-E: META-INF/manifest.xml */
};

static int check_opts(const eid_asic_opts *o)
{
	if (o->version != EID_ASIC_OPTS_VERSION)
		return eid_error__set(EID_EVERSION, "eid_asic_opts version %u is unknown", o->version);
	if (o->type != EID_ASIC_E && o->type != EID_ASIC_S)
		return eid_error__set(EID_EINVAL, "unknown container type %d", (int)o->type);
	return EID_OK;
}

/* A file's name in the container: its relative path when safe, else its base name. */
static int entry_name(const char *path, char **out)
{
	const char *name = path, *base = strrchr(path, '/');

	while (strncmp(name, "./", 2) == 0)
		name += 2;
	if (asic_zip_name_check(name, strlen(name), 0) < 0) {
		eid_error_clear();
		name = base ? base + 1 : path;
		if (asic_zip_name_check(name, strlen(name), 0) < 0)
			return eid_error__wrap("'%s' cannot be named in a container", path);
	}
	if (strcmp(name, "mimetype") == 0 || strncmp(name, "META-INF/", 9) == 0)
		return eid_error__set(EID_EINVAL, "'%s': the name '%s' is reserved in a container", path, name);
	if ((*out = strdup(name)) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	return EID_OK;
}

/* The XAdES over the digests of the data files (one per name). */
static int prepare_signature(eid_asic_prep *p, const eid_signer *signer, char **names, unsigned char (*digests)[EVP_MAX_MD_SIZE],
			     size_t n, const eid_asic_opts *o)
{
	eid_xades_opts xo;
	eid_xades_ref *refs = calloc(n, sizeof(*refs));
	eid_buf *uris = calloc(n, sizeof(*uris));
	size_t i;
	int rc = refs && uris ? eid_xades__opts(&o->xades, &xo) : eid_error__set(EID_ENOMEM, NULL);

	xo.packaging = EID_XADES_DETACHED;
	for (i = 0; rc == EID_OK && i < n; i++) {
		rc = asic_uri_encode(names[i], &uris[i]);
		refs[i].uri = (const char *)uris[i].data;
		refs[i].digest = digests[i];
		refs[i].digest_len = eid_hash_size(xo.hash == EID_HASH_DEFAULT ? EID_HASH_SHA256 : xo.hash);
		refs[i].mime_type = eid_xades__mime_guess(names[i]);
	}
	if (rc == EID_OK)
		rc = eid_xades__prepare_detached(&p->xades, signer, refs, n, &xo, 1);
	for (i = 0; uris != NULL && i < n; i++)
		eid_buf_clear(&uris[i]);
	free(uris);
	free(refs);
	return rc;
}

static int prep_new(eid_asic_prep **out, const char *out_path, const eid_asic_opts *o)
{
	eid_asic_prep *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->out_path = strdup(out_path)) == NULL) {
		free(p);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	p->type = o->type;
	*out = p;
	return EID_OK;
}

EID_EXTERN int eid_asic_prepare(eid_asic_prep **out, const eid_signer *signer, const char *const *paths, size_t n,
				const char *out_path, const eid_asic_opts *opts)
{
	static const eid_asic_opts defaults = EID_ASIC_OPTS_INIT;
	const eid_asic_opts *o = opts ? opts : &defaults;
	const EVP_MD *md = eid_hash__md(o->xades.hash == EID_HASH_DEFAULT ? EID_HASH_SHA256 : o->xades.hash);
	unsigned char (*digests)[EVP_MAX_MD_SIZE] = NULL;
	const char **mimes = NULL;
	eid_asic_prep *p = NULL;
	size_t i, j;
	int rc;

	if (out == NULL || signer == NULL || paths == NULL || n == 0 || out_path == NULL)
		return eid_error__set(EID_EINVAL, "eid_asic_prepare: nothing to sign");
	*out = NULL;
	if ((rc = check_opts(o)) < 0)
		return rc;
	if (o->type == EID_ASIC_S && n != 1)
		return eid_error__set(EID_EINVAL, "an ASiC-S container holds one file, not %zu", n);
	if (md == NULL)
		return eid_error__set(EID_EINVAL, "unknown hash %d", (int)o->xades.hash);
	if ((rc = prep_new(&p, out_path, o)) < 0)
		return rc;
	p->names = calloc(n, sizeof(*p->names));
	p->paths = calloc(n, sizeof(*p->paths));
	digests = calloc(n, sizeof(*digests));
	mimes = calloc(n, sizeof(*mimes));
	if (p->names == NULL || p->paths == NULL || digests == NULL || mimes == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; rc == EID_OK && i < n; i++) {
		unsigned int len = 0;

		p->n = i + 1;
		if ((rc = entry_name(paths[i], &p->names[i])) < 0)
			break;
		for (j = 0; j < i && rc == EID_OK; j++)
			if (strcmp(p->names[i], p->names[j]) == 0)
				rc = eid_error__set(EID_EINVAL, "two files would be named '%s' in the container", p->names[i]);
		if (rc == EID_OK && (p->paths[i] = strdup(paths[i])) == NULL)
			rc = eid_error__set(EID_ENOMEM, NULL);
		if (rc == EID_OK)
			rc = eid_cms__digest_file(paths[i], md, digests[i], &len);
		mimes[i] = eid_xades__mime_guess(p->names[i]);
	}
	if (rc == EID_OK)
		rc = prepare_signature(p, signer, p->names, digests, n, o);
	if (rc == EID_OK && o->type == EID_ASIC_E)
		rc = asic_manifest_build((const char *const *)p->names, mimes, n, &p->manifest);
	snprintf(p->sig_name, sizeof(p->sig_name), "%s",
		 o->type == EID_ASIC_E ? "META-INF/signatures0.xml" : "META-INF/signatures.xml");
	free(digests);
	free(mimes);
	if (rc < 0) {
		eid_asic_prep_free(p);
		return rc;
	}
	*out = p;
	return EID_OK;
}

static int is_data(const char *name)
{
	return strcmp(name, "mimetype") != 0 && strncmp(name, "META-INF/", 9) != 0;
}

EID_EXTERN int eid_asic_prepare_add(eid_asic_prep **out, const eid_signer *signer, const char *container,
				    const char *out_path, const eid_asic_opts *opts)
{
	static const eid_asic_opts defaults = EID_ASIC_OPTS_INIT;
	const eid_asic_opts *o = opts ? opts : &defaults;
	const EVP_MD *md = eid_hash__md(o->xades.hash == EID_HASH_DEFAULT ? EID_HASH_SHA256 : o->xades.hash);
	unsigned char (*digests)[EVP_MAX_MD_SIZE] = NULL;
	char **names = NULL, type[256], why[256];
	eid_asic_prep *p = NULL;
	size_t i, n = 0, count;
	int rc, ok = 0, k;

	if (out == NULL || signer == NULL || container == NULL || out_path == NULL)
		return eid_error__set(EID_EINVAL, "eid_asic_prepare_add: NULL argument");
	*out = NULL;
	if ((rc = check_opts(o)) < 0 || (rc = prep_new(&p, out_path, o)) < 0)
		return rc;
	p->type = EID_ASIC_E;
	if ((rc = asic_zip_open(&p->from, container)) == EID_OK)
		rc = asic_zip_mimetype(p->from, type, sizeof(type), &ok, why, sizeof(why));
	if (rc == EID_OK && (!ok || strcmp(type, ASIC_MEDIA_TYPE_E) != 0))
		rc = eid_error__set(EID_EINVAL, "'%s' is not an ASiC-E container (%s): a signature is added to ASiC-E only",
				    container, ok ? type : why);
	count = rc == EID_OK ? asic_zip_count(p->from) : 0;
	names = calloc(count + 1, sizeof(*names));
	digests = calloc(count + 1, sizeof(*digests));
	if (rc == EID_OK && (names == NULL || digests == NULL))
		rc = eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; rc == EID_OK && i < count; i++) {
		unsigned int len = 0;

		if (!is_data(asic_zip_name(p->from, i)))
			continue;
		names[n] = (char *)asic_zip_name(p->from, i);
		rc = asic_zip_digest(p->from, i, md, digests[n++], &len);
	}
	if (rc == EID_OK && n == 0)
		rc = eid_error__set(EID_EINVAL, "'%s' holds no data file to sign", container);
	/* the first free META-INF/signaturesN.xml */
	for (k = 0; rc == EID_OK && k < 10000; k++) {
		size_t idx;

		snprintf(p->sig_name, sizeof(p->sig_name), "META-INF/signatures%d.xml", k);
		if (asic_zip_find(p->from, p->sig_name, &idx) == EID_ENOTFOUND)
			break;
	}
	eid_error_clear();
	if (rc == EID_OK)
		rc = prepare_signature(p, signer, names, digests, n, o);
	free(names);
	free(digests);
	if (rc < 0) {
		eid_asic_prep_free(p);
		return rc;
	}
	*out = p;
	return EID_OK;
}

EID_EXTERN int eid_asic_prep_digest(const eid_asic_prep *p, const unsigned char **digest, size_t *len, eid_hash *hash,
				    eid_sig_scheme *scheme)
{
	if (p == NULL)
		return eid_error__set(EID_EINVAL, "eid_asic_prep_digest: NULL argument");
	return eid_xades_prep_digest(p->xades, digest, len, hash, scheme);
}

EID_EXTERN int eid_asic_complete(eid_asic_prep *p, const unsigned char *sig, size_t sig_len)
{
	eid_buf xml = EID_BUF_INIT;
	asic_writer *w = NULL;
	size_t i;
	int rc;

	if (p == NULL || sig == NULL || sig_len == 0)
		return eid_error__set(EID_EINVAL, "eid_asic_complete: NULL or empty argument");
	if ((rc = eid_xades_complete(p->xades, sig, sig_len, &xml)) < 0)
		return rc;
	rc = asic_writer_open(&w, p->out_path, p->type == EID_ASIC_E ? ASIC_MEDIA_TYPE_E : ASIC_MEDIA_TYPE_S);
	if (p->from != NULL) {
		for (i = 0; rc == EID_OK && i < asic_zip_count(p->from); i++)
			if (strcmp(asic_zip_name(p->from, i), "mimetype") != 0)
				rc = asic_writer_copy(w, p->from, i);
	} else {
		for (i = 0; rc == EID_OK && i < p->n; i++)
			rc = asic_writer_add_file(w, p->names[i], p->paths[i]);
		if (rc == EID_OK && p->type == EID_ASIC_E)
			rc = asic_writer_add_data(w, "META-INF/manifest.xml", p->manifest.data, p->manifest.len);
	}
	if (rc == EID_OK)
		rc = asic_writer_add_data(w, p->sig_name, xml.data, xml.len);
	if (rc == EID_OK) {
		rc = asic_writer_commit(w); /* frees the writer in every case */
		w = NULL;
	}
	asic_writer_free(w);
	eid_buf_clear(&xml);
	return rc;
}

EID_EXTERN void eid_asic_prep_free(eid_asic_prep *p)
{
	size_t i;

	if (p == NULL)
		return;
	eid_xades_prep_free(p->xades);
	for (i = 0; i < p->n; i++) {
		free(p->names ? p->names[i] : NULL);
		free(p->paths ? p->paths[i] : NULL);
	}
	free(p->names);
	free(p->paths);
	asic_zip_free(p->from);
	eid_buf_clear(&p->manifest);
	free(p->out_path);
	free(p);
}

static int sign_prepared(eid_signer *signer, eid_asic_prep *p)
{
	eid_buf sig = EID_BUF_INIT;
	const unsigned char *tbs;
	size_t len;
	eid_hash hash;
	eid_sig_scheme scheme;
	int rc;

	eid_asic_prep_digest(p, &tbs, &len, &hash, &scheme);
	rc = eid_signer_sign_digest(signer, scheme, hash, tbs, len, &sig);
	if (rc == EID_OK)
		rc = eid_asic_complete(p, sig.data, sig.len);
	eid_buf_clear(&sig);
	eid_asic_prep_free(p);
	return rc;
}

EID_EXTERN int eid_asic_sign(eid_signer *signer, const char *const *paths, size_t n, const char *out_path,
			     const eid_asic_opts *opts)
{
	eid_asic_prep *p = NULL;
	int rc = eid_asic_prepare(&p, signer, paths, n, out_path, opts);

	return rc < 0 ? rc : sign_prepared(signer, p);
}

EID_EXTERN int eid_asic_add_signature(eid_signer *signer, const char *container, const char *out_path,
				      const eid_asic_opts *opts)
{
	eid_asic_prep *p = NULL;
	int rc = eid_asic_prepare_add(&p, signer, container, out_path, opts);

	return rc < 0 ? rc : sign_prepared(signer, p);
}
