/**
 * @file eid/pki.h
 * @brief Trust anchors for validation.
 */
#ifndef EID_PKI_H
#define EID_PKI_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A set of trust anchors (and optionally known intermediates). */
typedef struct eid_trust eid_trust;

/** Make an empty trust set, freed with eid_trust_free(). */
EID_EXTERN int eid_trust_new(eid_trust **out);

/**
 * Add every certificate in @p path: a PEM file (one or more certificates), a
 * DER file, or a folder of such files (not recursive; files without a
 * certificate are passed over).  Every certificate added is a trust anchor,
 * so a chain may end at a trusted intermediate.
 * @return EID_OK, EID_EIO, EID_EFORMAT (no certificate in the file)
 */
EID_EXTERN int eid_trust_add_file(eid_trust *trust, const char *path);

/** Add one certificate (DER or PEM) as a trust anchor. */
EID_EXTERN int eid_trust_add_cert(eid_trust *trust, const unsigned char *cert, size_t len);

/**
 * Add the certificates in @p path (same forms as eid_trust_add_file) as
 * intermediates: they may complete a path from a signer to an anchor (a card
 * that does not hold its CA certificate, a signature without its chain), but
 * are never trusted themselves.
 */
EID_EXTERN int eid_trust_add_intermediates(eid_trust *trust, const char *path);

/** Number of trust anchors held. */
EID_EXTERN size_t eid_trust_count(const eid_trust *trust);

/** Release.  Accepts NULL.  A trust set may be shared by threads for reading once filled. */
EID_EXTERN void eid_trust_free(eid_trust *trust);

#ifdef __cplusplus
}
#endif
#endif
