/**
 * @file eid/extend.h
 * Raising the level of existing signatures (ETSI baseline B-T, B-LT, B-LTA):
 * a signature timestamp where there is none, the validation data of every
 * certificate on the signer's and the TSAs' paths (certificates, OCSP
 * responses or CRLs), and an archive timestamp over all of it.  Extending a
 * B-LTA signature to B-LTA again renews it: the last archive timestamp gets
 * its own validation data, and a new archive timestamp covers everything.
 */
#ifndef EID_EXTEND_H
#define EID_EXTEND_H

#include "cades.h"
#include "online.h"
#include "token.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options.  Initialise with EID_EXTEND_OPTS_INIT. */
typedef struct eid_extend_opts {
	unsigned int version;    /**< EID_EXTEND_OPTS_VERSION */
	eid_level level;         /**< B-T, B-LT or B-LTA */
	eid_online *online;      /**< the TSA, and the servers the certificates name (borrowed; required) */
	eid_hash hash;           /**< digest of new timestamps; EID_HASH_DEFAULT: SHA-256 */
	const char *data_path;   /**< the signed file of a detached CAdES signature (B-LTA covers it), or NULL */
	unsigned int flags;      /**< reserved, 0 */
} eid_extend_opts;

#define EID_EXTEND_OPTS_VERSION 1
#define EID_EXTEND_OPTS_INIT { EID_EXTEND_OPTS_VERSION, EID_LEVEL_B_LTA, NULL, EID_HASH_DEFAULT, NULL, 0 }

/**
 * Raise every signature in @p in_path (a PDF, an XML document, an ASiC
 * container or a CAdES signature; recognised from the content) to
 * @c opts->level, into @p out_path (written whole to a temporary file, then
 * renamed; it may be @p in_path).  Nothing is written on failure.
 * @return EID_OK, EID_EINVAL, EID_EIO, EID_EFORMAT, EID_EUNSUPPORTED,
 *         EID_ENETWORK (a server failed; the message names it),
 *         EID_ECERT (a certificate on a path is revoked, or its issuer cannot be found)
 */
EID_EXTERN int eid_extend_file(const char *in_path, const char *out_path, const eid_extend_opts *opts) EID_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
