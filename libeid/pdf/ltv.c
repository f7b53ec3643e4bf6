/* Long-term levels for pades: not written yet. */
#include "config.h"

#include "../ltv/ltv.h"

int eid_pades__extend(const char *in, const char *out, const eid_extend_opts *o)
{
	(void)in;
	(void)out;
	(void)o;
	return eid_error__set(EID_EUNSUPPORTED, "extending pades signatures is not supported yet");
}
