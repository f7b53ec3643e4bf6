/*
 * Internal interface of the long-term layer: each format raises its own
 * signatures (B-T, B-LT, B-LTA); extend.c recognises the format.
 */
#ifndef EID_INTERNAL_LTV_H
#define EID_INTERNAL_LTV_H

#include "eid/extend.h"
#include "../common/common.h"
#include "../pki/pki.h"

/*
 * Raise every signature of @in to @o->level (validated by eid_extend_file:
 * online set, level B-T or above), writing @out atomically (it may be @in).
 */
int eid_pades__extend(const char *in, const char *out, const eid_extend_opts *o);
int eid_xades__extend(const char *in, const char *out, const eid_extend_opts *o);
int eid_asic__extend(const char *in, const char *out, const eid_extend_opts *o);
/* The same for a CMS SignedData (DER) held in memory; the new DER into @out. */
int eid_cades__extend(const unsigned char *der, size_t len, const eid_extend_opts *o, eid_buf *out);

#endif
