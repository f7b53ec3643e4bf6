/* Long-term levels for asic: not written yet. */
#include "config.h"

#include "../ltv/ltv.h"

int eid_asic__extend(const char *in, const char *out, const eid_extend_opts *o)
{
	(void)in;
	(void)out;
	(void)o;
	return eid_error__set(EID_EUNSUPPORTED, "extending asic signatures is not supported yet");
}
