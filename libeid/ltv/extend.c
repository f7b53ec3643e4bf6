/*
 * eid_extend_file: recognise the format of a signed file and hand it to the
 * format's own extension.  The formats write their output atomically.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ltv.h"

#define EXTEND_MAX_CMS (64u << 20) /* bytes of a CAdES signature held in memory */

static int is_xml(const unsigned char *p, size_t n)
{
	size_t i = n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i < n && p[i] == '<';
}

static int extend_cms(const char *in, const char *out, const eid_extend_opts *o)
{
	eid_buf der = EID_BUF_INIT, res = EID_BUF_INIT;
	eid_outfile of;
	int rc;

	if ((rc = eid_io__read_file(in, EXTEND_MAX_CMS, &der)) < 0)
		return rc;
	if ((rc = eid_cades__extend(der.data, der.len, o, &res)) == EID_OK && (rc = eid_io__out_open(&of, out)) == EID_OK) {
		if ((rc = eid_io__out_write(&of, res.data, res.len)) == EID_OK)
			rc = eid_io__out_commit(&of);
		else
			eid_io__out_abort(&of);
	}
	eid_buf_clear(&der);
	eid_buf_clear(&res);
	return rc;
}

EID_EXTERN int eid_extend_file(const char *in, const char *out, const eid_extend_opts *opts)
{
	eid_extend_opts o;
	unsigned char head[64];
	size_t n;
	FILE *f;

	if (in == NULL || out == NULL || opts == NULL)
		return eid_error__set(EID_EINVAL, "eid_extend_file: NULL argument");
	if (opts->version != EID_EXTEND_OPTS_VERSION)
		return eid_error__set(EID_EVERSION, "eid_extend_opts version %u is not known", opts->version);
	o = *opts;
	if (o.level < EID_LEVEL_B_T || o.level > EID_LEVEL_B_LTA)
		return eid_error__set(EID_EINVAL, "a signature can be extended to B-T, B-LT or B-LTA");
	if (o.online == NULL)
		return eid_error__set(EID_EINVAL, "extending a signature needs network settings (a TSA)");
	if ((f = fopen(in, "rb")) == NULL)
		return eid_error__set(EID_EIO, "cannot open '%s'", in);
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (n >= 5 && memcmp(head, "%PDF-", 5) == 0)
		return eid_pades__extend(in, out, &o);
	if (n >= 4 && memcmp(head, "PK\x03\x04", 4) == 0)
		return eid_asic__extend(in, out, &o);
	if (is_xml(head, n))
		return eid_xades__extend(in, out, &o);
	if (n >= 1 && (head[0] == 0x30 || (n > 10 && memcmp(head, "-----BEGIN", 10) == 0)))
		return extend_cms(in, out, &o);
	return eid_error__set(EID_EUNSUPPORTED, "the signature format of '%s' is not recognised", in);
}
