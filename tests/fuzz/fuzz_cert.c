/* libFuzzer harness for certificate and trust-anchor parsing (DER or PEM). */
#include "config.h"

#include <stdlib.h>

#include <eid/eid.h>
#include <eid/sys/signer.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	eid_trust *t = NULL;
	eid_signer *s = NULL;

	eid_log_set_level(EID_LOG_NONE);
	if (eid_trust_new(&t) != EID_OK)
		abort();
	(void)eid_trust_add_cert(t, data, size);
	eid_trust_free(t);
	if (eid_signer_new_external(&s, data, size) == EID_OK) {
		if (eid_signer_name(s) == NULL)
			abort();
		eid_signer_free(s);
	} else if (s != NULL) {
		abort();
	}
	return 0;
}
