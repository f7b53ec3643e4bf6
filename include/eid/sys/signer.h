/**
 * @file eid/sys/signer.h
 * @brief For implementers: plug a key source of your own (a remote HSM, a
 *        signing service) into the signer interface.
 */
#ifndef EID_SYS_SIGNER_H
#define EID_SYS_SIGNER_H

#include "../token.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Operations of a custom signer.  Initialise with EID_SIGNER_OPS_INIT. */
typedef struct eid_signer_ops {
	unsigned int version; /**< EID_SIGNER_OPS_VERSION */
	/**
	 * Sign @p digest.  ECDSA values may be DER or raw r||s; RSA values raw.
	 * Put the value in @p out with eid_buf_set().  Return EID_OK or a negative code.
	 */
	int (*sign_digest)(void *impl, eid_sig_scheme scheme, eid_hash hash,
			   const unsigned char *digest, size_t digest_len, eid_buf *out);
	/** Release @p impl; may be NULL. */
	void (*free)(void *impl);
} eid_signer_ops;

#define EID_SIGNER_OPS_VERSION 1
#define EID_SIGNER_OPS_INIT { EID_SIGNER_OPS_VERSION, NULL, NULL }

/**
 * Make a signer from custom operations and the signer's certificate (DER or
 * PEM).  @p ops is copied; @p impl is owned by the signer from now on (its
 * free runs when the signer is freed, and also when this call fails).
 */
EID_EXTERN int eid_signer_new_custom(eid_signer **out, const eid_signer_ops *ops, void *impl,
				     const unsigned char *cert, size_t cert_len);

#ifdef __cplusplus
}
#endif
#endif
