/* Long-term levels for CAdES: not written yet. */
#include "config.h"

#include "../ltv/ltv.h"

int eid_cades__extend(const unsigned char *der, size_t len, const eid_extend_opts *o, eid_buf *out)
{
	(void)der;
	(void)len;
	(void)o;
	(void)out;
	return eid_error__set(EID_EUNSUPPORTED, "extending CAdES signatures is not supported yet");
}
