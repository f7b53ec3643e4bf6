/**
 * @file eid/online.h
 * Network access for trusted time and revocation data: a TSA (RFC 3161),
 * with timeouts, the proxy from the environment (http_proxy, no_proxy), and
 * an offline switch.  One handle can be shared by the signing and validation
 * calls of one thread.
 */
#ifndef EID_ONLINE_H
#define EID_ONLINE_H

#include "token.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Settings and state for network access. */
typedef struct eid_online eid_online;

/** A handle with a 20-second timeout, no TSA, online.  Freed with eid_online_free(). */
EID_EXTERN int eid_online_new(eid_online **out) EID_WARN_UNUSED;
/** Release.  Accepts NULL. */
EID_EXTERN void eid_online_free(eid_online *online);

/**
 * The time-stamping authority to ask (an http:// URL), and the TSA policy to
 * ask for (a dotted OID, or NULL for the TSA's default).
 * @return EID_OK, EID_EUNSUPPORTED (https), EID_EINVAL
 */
EID_EXTERN int eid_online_set_tsa(eid_online *online, const char *url, const char *policy_oid);
/** The timeout of one exchange with a server, in seconds (default 20). */
EID_EXTERN int eid_online_set_timeout(eid_online *online, int seconds);
/** Offline: no server is asked; whatever needs one fails with EID_ENETWORK. */
EID_EXTERN int eid_online_set_offline(eid_online *online, int offline);

/**
 * Ask the TSA for a timestamp token over @p digest (made with @p hash): a
 * nonce and a certificate request go with it; the answer must be granted,
 * over this digest, with this nonce, and signed by a time-stamping
 * certificate it carries.  @p token receives the token (a CMS ContentInfo,
 * DER).  The TSA's chain is judged at validation, against the anchors.
 * @return EID_OK, EID_ENETWORK (the server is down, too slow, answered
 *         garbage or a token that fails a check; the message names the server)
 */
EID_EXTERN int eid_online_timestamp(eid_online *online, eid_hash hash, const unsigned char *digest, size_t len,
				    eid_buf *token) EID_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
