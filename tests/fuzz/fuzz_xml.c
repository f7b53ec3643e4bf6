/*
 * libFuzzer harness for the XML path: any bytes as an XML document (the
 * hardened parser, Ids, canonicalization) and as an XML signature to
 * validate (references, transforms, properties, KeyInfo).  Detached
 * references resolve to nothing.  Every input must end in a clean error or
 * a report, never a crash, hang or leak.
 */
#include "config.h"

#include <stdlib.h>

#include <eid/eid.h>

#include "verify/verify.h"
#include "xml/xml.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	eid_verify_opts o = EID_VERIFY_OPTS_INIT;
	eid_report *r = NULL;
	xmlDocPtr doc = NULL;
	eid_buf out = EID_BUF_INIT;

	eid_log_set_level(EID_LOG_NONE);
	if (eid_xml__parse(&doc, data, size, "input") == EID_OK) {
		if (doc == NULL)
			abort();
		(void)eid_xml__ids_unique(doc);
		(void)eid_xml__c14n(doc, NULL, NULL, EID_C14N_EXC, 0, NULL, NULL, &out);
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
	eid_error_clear();
	return 0;
}
