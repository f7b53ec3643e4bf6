/**
 * @file eid/cades.h
 * @brief CAdES baseline signatures (ETSI EN 319 122-1): detached CMS
 *        SignedData over any file, signed in one step or in two.
 */
#ifndef EID_CADES_H
#define EID_CADES_H

#include "online.h"
#include "token.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Signature levels (ETSI baseline profiles). */
typedef enum eid_level {
	EID_LEVEL_DEFAULT = 0, /**< B-B */
	EID_LEVEL_B_B = 1,
	EID_LEVEL_B_T = 2,
	EID_LEVEL_B_LT = 3,
	EID_LEVEL_B_LTA = 4
} eid_level;

/** Parse "B-B", "B-T", ... @return EID_OK or EID_EINVAL. */
EID_EXTERN int eid_level_from_name(eid_level *out, const char *name);

/** "B-B", "B-T", ...; NULL for an unknown value. */
EID_EXTERN const char *eid_level_name(eid_level level);

/** Flags for eid_cades_opts::flags. */
#define EID_CADES_NO_SIGNING_TIME 0x01u /**< omit signing-time (PAdES puts the time in /M) */
#define EID_CADES_NO_CHAIN        0x02u /**< embed only the signer's certificate */

/** Options.  Initialise with EID_CADES_OPTS_INIT. */
typedef struct eid_cades_opts {
	unsigned int version;    /**< EID_CADES_OPTS_VERSION */
	eid_hash hash;           /**< EID_HASH_DEFAULT: SHA-256 */
	eid_sig_scheme scheme;   /**< EID_SIG_DEFAULT: from the key */
	eid_level level;         /**< B-B (default) or B-T */
	int64_t signing_time;    /**< seconds since 1970 (UTC); 0: now */
	unsigned int flags;      /**< EID_CADES_* */
	/* version 2 */
	eid_online *online;      /**< the TSA for B-T (borrowed); NULL for B-B */
} eid_cades_opts;

#define EID_CADES_OPTS_VERSION 2
#define EID_CADES_OPTS_INIT { EID_CADES_OPTS_VERSION, EID_HASH_DEFAULT, EID_SIG_DEFAULT, EID_LEVEL_DEFAULT, 0, 0, NULL }

/** A prepared signature waiting for its value. */
typedef struct eid_cades_prep eid_cades_prep;

/**
 * Prepare a detached signature over a file (hashed as a stream).
 * @param out  receives the prepared signature, freed with eid_cades_prep_free()
 * @return EID_OK, EID_EIO, EID_EINVAL, EID_EVERSION, EID_EUNSUPPORTED, EID_ECERT
 */
EID_EXTERN int eid_cades_prepare_file(eid_cades_prep **out, const eid_signer *signer,
				      const char *path, const eid_cades_opts *opts);

/** Prepare a detached signature over content whose digest (with opts->hash) the caller computed. */
EID_EXTERN int eid_cades_prepare_digest(eid_cades_prep **out, const eid_signer *signer,
					const unsigned char *content_digest, size_t len,
					const eid_cades_opts *opts);

/**
 * The digest to be signed (over the DER of the signed attributes), with the
 * hash and scheme the signature value must use.  Borrowed.
 */
EID_EXTERN int eid_cades_prep_digest(const eid_cades_prep *prep, const unsigned char **digest,
				     size_t *len, eid_hash *hash, eid_sig_scheme *scheme);

/**
 * Finish the signature with its value (RSA raw; ECDSA DER or raw r||s) and
 * write the DER of the ContentInfo into @p out.  The value is checked against
 * the signer's public key first: a wrong value is EID_EINVAL, not a file.
 */
EID_EXTERN int eid_cades_complete(eid_cades_prep *prep, const unsigned char *sig, size_t sig_len,
				  eid_buf *out) EID_WARN_UNUSED;

/** Release a prepared signature.  Accepts NULL. */
EID_EXTERN void eid_cades_prep_free(eid_cades_prep *prep);

/** One step: prepare over @p path, sign with @p signer, complete into @p out. */
EID_EXTERN int eid_cades_sign_file(eid_signer *signer, const char *path,
				   const eid_cades_opts *opts, eid_buf *out) EID_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
