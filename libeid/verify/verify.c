/* Entry points of validation: recognise the format, run its process. */
#include "config.h"

#include <stddef.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "verify.h"
#include "../cms/cms.h"
#include "../xml/xml.h"

/* The caller's options, whatever version (versions 1 and 2 are shorter), into @out. */
static int take_opts(const eid_verify_opts *in, eid_verify_opts *out)
{
	static const eid_verify_opts defaults = EID_VERIFY_OPTS_INIT;

	*out = defaults;
	if (in == NULL)
		return EID_OK;
	if (in->version == 1)
		memcpy(out, in, offsetof(eid_verify_opts, online));
	else if (in->version == 2)
		memcpy(out, in, offsetof(eid_verify_opts, crypto_policy));
	else if (in->version == EID_VERIFY_OPTS_VERSION)
		*out = *in;
	else
		return eid_error__set(EID_EVERSION, "eid_verify_opts version %u is unknown", in->version);
	out->version = EID_VERIFY_OPTS_VERSION;
	return EID_OK;
}

/*
 * The files a detached XML signature names: --data FILE supplies one (matched
 * by its base name), --data DIR a folder to look them up in.  Names are
 * relative and never leave the folder (the URI decoding refused "..").
 */
static int data_digest(void *ctx, const char *name, const EVP_MD *md, unsigned char *out, unsigned int *len)
{
	const char *data = ctx, *base;
	char path[4096];
	struct stat st;

	if (data == NULL)
		return eid_error__set(EID_ENOTFOUND, "the signed file was not given (--data)");
	if (stat(data, &st) == 0 && S_ISDIR(st.st_mode)) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", data, name) >= sizeof(path))
			return eid_error__set(EID_ETOOBIG, "a path too long");
	} else {
		base = strrchr(data, '/');
		base = base ? base + 1 : data;
		if (strcmp(base, name) != 0)
			return eid_error__set(EID_ENOTFOUND, "not given (--data names '%.200s')", base);
		snprintf(path, sizeof(path), "%s", data);
	}
	if (stat(path, &st) != 0)
		return eid_error__set(EID_ENOTFOUND, "'%s' does not exist", path);
	return eid_cms__digest_file(path, md, out, len);
}

static int is_xml(const unsigned char *p, size_t len)
{
	size_t i = len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;

	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i < len && p[i] == '<';
}

static int verify_mem(eid_report **out, const char *name, const unsigned char *data, size_t len,
		      const eid_verify_opts *o)
{
	eid_report *r = NULL;
	int rc;

	if ((rc = eid_report__new(&r, name, o->validation_time ? o->validation_time : (int64_t)time(NULL))) < 0)
		return rc;
	if (len >= 1 && (data[0] == 0x30 || (len > 10 && memcmp(data, "-----BEGIN", 10) == 0))) {
		rc = eid_verify__cades(r, data, len, o);
	} else if (is_xml(data, len)) {
		eid_xml_resolver res = { data_digest, (void *)(uintptr_t)o->data_path };

		rc = eid_verify__xades(r, data, len, name, &res, o);
	} else
		rc = eid_error__set(EID_EUNSUPPORTED, "the signature format of '%s' is not recognised",
				    name ? name : "the input");
	if (rc < 0) {
		eid_report_free(r);
		return rc;
	}
	*out = r;
	return EID_OK;
}

EID_EXTERN int eid_verify_cades(eid_report **out, const unsigned char *p7s, size_t len, const eid_verify_opts *opts)
{
	eid_verify_opts oc;
	const eid_verify_opts *o = &oc;
	eid_report *r = NULL;
	int rc;

	if (out == NULL || p7s == NULL)
		return eid_error__set(EID_EINVAL, "eid_verify_cades: NULL argument");
	*out = NULL;
	if ((rc = take_opts(opts, &oc)) < 0)
		return rc;
	if ((rc = eid_report__new(&r, NULL, o->validation_time ? o->validation_time : (int64_t)time(NULL))) < 0)
		return rc;
	if ((rc = eid_verify__cades(r, p7s, len, o)) < 0) {
		eid_report_free(r);
		return rc;
	}
	*out = r;
	return EID_OK;
}

EID_EXTERN int eid_verify_file(eid_report **out, const char *path, const eid_verify_opts *opts)
{
	eid_verify_opts oc;
	const eid_verify_opts *o = &oc;
	eid_buf data = EID_BUF_INIT;
	int rc;

	if (out == NULL || path == NULL)
		return eid_error__set(EID_EINVAL, "eid_verify_file: NULL argument");
	*out = NULL;
	if ((rc = take_opts(opts, &oc)) < 0)
		return rc;
	{
		/* A PDF, a container or an XML document is read in place or as a stream. */
		unsigned char head[64] = { 0 };
		FILE *f = fopen(path, "rb");
		size_t n = f ? fread(head, 1, sizeof(head), f) : 0;

		if (f != NULL)
			fclose(f);
		int pdf = n >= 5 && memcmp(head, "%PDF-", 5) == 0, zip = n >= 4 && memcmp(head, "PK\x03\x04", 4) == 0;
		int xml = !pdf && !zip && is_xml(head, n);

		if (pdf || zip || xml) {
			eid_xml_resolver res = { data_digest, (void *)(uintptr_t)o->data_path };
			eid_report *r = NULL;

			if ((rc = eid_report__new(&r, path, o->validation_time ? o->validation_time : (int64_t)time(NULL))) < 0)
				return rc;
			rc = pdf ? eid_verify__pades(r, path, o)
			   : zip ? eid_verify__asic(r, path, o) : eid_verify__xades_file(r, path, &res, o);
			if (rc < 0) {
				eid_report_free(r);
				return rc;
			}
			*out = r;
			return EID_OK;
		}
	}
	if ((rc = eid_io__read_file(path, EID_XML_MAX_SIZE, &data)) < 0)
		return rc;
	rc = verify_mem(out, path, data.data, data.len, o);
	eid_buf_clear(&data);
	return rc;
}
