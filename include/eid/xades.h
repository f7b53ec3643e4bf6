/**
 * @file eid/xades.h
 * @brief XAdES baseline signatures (ETSI EN 319 132-1): detached over files,
 *        enveloped in an XML document, or enveloping their data; in one step
 *        or two.
 */
#ifndef EID_XADES_H
#define EID_XADES_H

#include "cades.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How the signature and the signed data are packaged. */
typedef enum eid_xades_packaging {
	EID_XADES_DETACHED = 0,  /**< the signature names files by URI (as in ASiC) */
	EID_XADES_ENVELOPED = 1, /**< an XML document holds its own signature (one XML input) */
	EID_XADES_ENVELOPING = 2 /**< the signature holds the data in a ds:Object (one input: XML as is,
				      anything else base64-encoded) */
} eid_xades_packaging;

/** Flags for eid_xades_opts::flags. */
#define EID_XADES_NO_CHAIN 0x01u       /**< KeyInfo holds only the signer's certificate */
#define EID_XADES_POLICY_IMPLIED 0x02u /**< SignaturePolicyIdentifier/SignaturePolicyImplied */

/** Options.  Initialise with EID_XADES_OPTS_INIT. */
typedef struct eid_xades_opts {
	unsigned int version;           /**< EID_XADES_OPTS_VERSION */
	eid_hash hash;                  /**< EID_HASH_DEFAULT: SHA-256 */
	eid_sig_scheme scheme;          /**< EID_SIG_DEFAULT: from the key */
	eid_level level;                /**< B-B (default) or B-T (SignatureTimeStamp; needs @c online) */
	int64_t signing_time;           /**< SigningTime; 0: now */
	eid_xades_packaging packaging;  /**< EID_XADES_DETACHED by default */
	const char *claimed_role;       /**< SignerRoleV2 ClaimedRole, UTF-8, or NULL */
	unsigned int flags;             /**< EID_XADES_* */
	/* version 2: an explicit signature policy (SignaturePolicyId) */
	const char *policy_id;          /**< the policy's identifier: an OID ("1.2.3") or a URI; NULL: none */
	eid_hash policy_hash;           /**< the hash @c policy_digest was made with */
	const unsigned char *policy_digest; /**< the digest of the policy document */
	size_t policy_digest_len;
	const char *policy_uri;         /**< SPURI qualifier: where the policy document is published, or NULL */
	eid_online *online;             /**< the TSA for B-T (borrowed; it must live until completion) */
} eid_xades_opts;

#define EID_XADES_OPTS_VERSION 2
#define EID_XADES_OPTS_INIT \
	{ EID_XADES_OPTS_VERSION, EID_HASH_DEFAULT, EID_SIG_DEFAULT, EID_LEVEL_DEFAULT, 0, EID_XADES_DETACHED, NULL, 0, \
	  NULL, EID_HASH_DEFAULT, NULL, 0, NULL, NULL }

/** One thing to sign. */
typedef struct eid_xades_data {
	const char *path;      /**< the file */
	const char *uri;       /**< detached: the Reference URI; NULL: the file's base name, percent-encoded */
	const char *mime_type; /**< DataObjectFormat MimeType; NULL: guessed from the name */
} eid_xades_data;

/** A signature waiting for its value. */
typedef struct eid_xades_prep eid_xades_prep;

/**
 * Build the signature over @p n data objects (detached: one or more;
 * enveloped and enveloping: exactly one) and the digest to be signed.  The
 * files are read now and not kept open.
 * @return EID_OK, EID_EIO, EID_EFORMAT (an enveloped input that is not XML,
 *         or holds a DOCTYPE), EID_EINVAL, EID_EUNSUPPORTED, EID_EVERSION
 */
EID_EXTERN int eid_xades_prepare(eid_xades_prep **out, const eid_signer *signer, const eid_xades_data *data,
				 size_t n, const eid_xades_opts *opts) EID_WARN_UNUSED;

/** The digest to be signed, with the hash and scheme the value must use.  Borrowed. */
EID_EXTERN int eid_xades_prep_digest(const eid_xades_prep *prep, const unsigned char **digest, size_t *len,
				     eid_hash *hash, eid_sig_scheme *scheme);

/**
 * Insert the signature value (checked against the signer's key first: RSA
 * raw, ECDSA raw r||s or DER) and write the signed XML document (UTF-8)
 * into @p out.
 */
EID_EXTERN int eid_xades_complete(eid_xades_prep *prep, const unsigned char *sig, size_t sig_len,
				  eid_buf *out) EID_WARN_UNUSED;

/**
 * The same, writing the signed document to @p out_path: through a temporary
 * file in the same folder, renamed into place only when complete.  An
 * enveloped signature over a UTF-8 document is written by copying the
 * document's bytes, so that memory does not grow with the document.  The
 * input must not have changed since eid_xades_prepare (EID_EIO if it did).
 */
EID_EXTERN int eid_xades_complete_file(eid_xades_prep *prep, const unsigned char *sig, size_t sig_len,
				       const char *out_path) EID_WARN_UNUSED;

/** Release.  Accepts NULL. */
EID_EXTERN void eid_xades_prep_free(eid_xades_prep *prep);

/** One step: prepare, sign with @p signer, complete. */
EID_EXTERN int eid_xades_sign(eid_signer *signer, const eid_xades_data *data, size_t n,
			      const eid_xades_opts *opts, eid_buf *out) EID_WARN_UNUSED;

/** One step, into a file (see eid_xades_complete_file). */
EID_EXTERN int eid_xades_sign_file(eid_signer *signer, const eid_xades_data *data, size_t n,
				   const eid_xades_opts *opts, const char *out_path) EID_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
