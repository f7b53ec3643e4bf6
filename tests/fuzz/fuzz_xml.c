/*
 * libFuzzer harness for the XML path: any bytes as an XML document (the
 * hardened parser, Ids, canonicalization) and as an XML signature to
 * validate (references, transforms, properties, KeyInfo).  Detached
 * references resolve to nothing.  Every input must end in a clean error or
 * a report, never a crash, hang or leak.  The same bytes also go through
 * the streaming half from a file: its canonical form must equal the tree's
 * whenever both accept the document.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <eid/eid.h>

#include "verify/verify.h"
#include "xml/xml.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The input as a file (one per process, rewritten every time). */
static const char *as_file(const unsigned char *data, size_t size)
{
	static char path[256];
	FILE *f;

	if (path[0] == '\0') {
		const char *dir = getenv("TMPDIR");

		snprintf(path, sizeof(path), "%s/fuzz_xml.%ld.xml", dir && *dir ? dir : "/tmp", (long)getpid());
	}
	if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	return path;
}

static int stream_digest(const char *path, eid_c14n mode, unsigned char *out)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) ? EID_OK : EID_ENOMEM;

	if (rc == EID_OK)
		rc = eid_xml__c14n_file(path, -1, mode, NULL, md, NULL);
	if (rc == EID_OK && !EVP_DigestFinal_ex(md, out, NULL))
		abort();
	EVP_MD_CTX_free(md);
	return rc;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	eid_verify_opts o = EID_VERIFY_OPTS_INIT;
	eid_report *r = NULL;
	xmlDocPtr doc = NULL;
	eid_buf out = EID_BUF_INIT;

	const char *path = as_file(data, size);
	unsigned char want[32], got[32];
	xmlDocPtr skel = NULL;
	char *dup = NULL;
	int m;

	eid_log_set_level(EID_LOG_NONE);
	if (eid_xml__parse(&doc, data, size, "input") == EID_OK) {
		if (doc == NULL)
			abort();
		(void)eid_xml__ids_unique(doc);
		for (m = 0; m < 2; m++) {
			eid_c14n mode = m ? EID_C14N_10 : EID_C14N_EXC;

			if (eid_xml__c14n(doc, NULL, NULL, mode, 0, NULL, NULL, &out) == EID_OK &&
			    stream_digest(path, mode, got) == EID_OK) {
				if (!EVP_Digest(out.data, out.len, want, NULL, EVP_sha256(), NULL) || memcmp(want, got, 32) != 0)
					abort(); /* the stream and the tree disagree */
			}
		}
		(void)eid_xml__c14n(doc, xmlDocGetRootElement(doc), NULL, EID_C14N_10, 1, NULL, NULL, &out);
		eid_buf_clear(&out);
		xmlFreeDoc(doc);
	} else if (doc != NULL) {
		abort();
	}
	if (eid_report__new(&r, "input", 1800000000) != EID_OK)
		abort();
	if (eid_verify__xades(r, data, size, "input", NULL, &o) == EID_OK && eid_report_signature_count(r) == 0)
		abort();
	eid_report_free(r);
	/* the streaming half */
	if (eid_xml__parse_signatures(&skel, path, &dup) == EID_OK && skel == NULL)
		abort();
	xmlFreeDoc(skel);
	xmlFree(dup);
	if (eid_report__new(&r, "input", 1800000000) != EID_OK)
		abort();
	if (eid_verify__xades_file(r, path, NULL, &o) == EID_OK && eid_report_signature_count(r) == 0)
		abort();
	eid_report_free(r);
	unlink(path);
	eid_error_clear();
	return 0;
}
