/* Internal interface of the verification layer. */
#ifndef EID_INTERNAL_VERIFY_H
#define EID_INTERNAL_VERIFY_H

#include "report.h"

int eid_verify__cades(eid_report *r, const unsigned char *data, size_t len, const eid_verify_opts *o);

#endif
