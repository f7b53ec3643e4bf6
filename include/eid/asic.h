/**
 * @file eid/asic.h
 * @brief ASiC containers (ETSI EN 319 162-1) with XAdES: ASiC-E for any
 *        number of files (the Estonian .asice/.bdoc among them), ASiC-S for
 *        one; a signature added to an existing ASiC-E leaves the earlier ones
 *        untouched.
 */
#ifndef EID_ASIC_H
#define EID_ASIC_H

#include "xades.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The container type. */
typedef enum eid_asic_type {
	EID_ASIC_E = 0, /**< extended: files, META-INF/manifest.xml, META-INF/signaturesN.xml */
	EID_ASIC_S = 1  /**< simple: one file and META-INF/signatures.xml */
} eid_asic_type;

/** Options.  Initialise with EID_ASIC_OPTS_INIT. */
typedef struct eid_asic_opts {
	unsigned int version;  /**< EID_ASIC_OPTS_VERSION */
	eid_asic_type type;    /**< EID_ASIC_E by default */
	eid_xades_opts xades;  /**< the signature's options; its packaging is always detached */
} eid_asic_opts;

#define EID_ASIC_OPTS_VERSION 1
#define EID_ASIC_OPTS_INIT { EID_ASIC_OPTS_VERSION, EID_ASIC_E, EID_XADES_OPTS_INIT }

/** A container waiting for its signature value. */
typedef struct eid_asic_prep eid_asic_prep;

/**
 * Prepare a new container at @p out_path holding the @p n files in @p paths.
 * A file's name in the container is its path when that is relative and does
 * not leave the current folder ("docs/a.pdf"), else its base name; names must
 * be unique.  ASiC-S takes exactly one file.
 */
EID_EXTERN int eid_asic_prepare(eid_asic_prep **out, const eid_signer *signer, const char *const *paths, size_t n,
				const char *out_path, const eid_asic_opts *opts) EID_WARN_UNUSED;

/**
 * Prepare a copy of the ASiC-E container @p container at @p out_path with one
 * more signature over all its data files.  Its entries are copied byte for
 * byte; @p container itself is only read.
 */
EID_EXTERN int eid_asic_prepare_add(eid_asic_prep **out, const eid_signer *signer, const char *container,
				    const char *out_path, const eid_asic_opts *opts) EID_WARN_UNUSED;

/** The digest to be signed.  Borrowed. */
EID_EXTERN int eid_asic_prep_digest(const eid_asic_prep *prep, const unsigned char **digest, size_t *len,
				    eid_hash *hash, eid_sig_scheme *scheme);

/** Insert the value (checked against the key first) and write the container atomically. */
EID_EXTERN int eid_asic_complete(eid_asic_prep *prep, const unsigned char *sig, size_t sig_len) EID_WARN_UNUSED;

/** Release; nothing is written for an uncompleted container.  Accepts NULL. */
EID_EXTERN void eid_asic_prep_free(eid_asic_prep *prep);

/** One step: a new container over @p paths. */
EID_EXTERN int eid_asic_sign(eid_signer *signer, const char *const *paths, size_t n, const char *out_path,
			     const eid_asic_opts *opts) EID_WARN_UNUSED;

/** One step: one more signature in @p container, written to @p out_path. */
EID_EXTERN int eid_asic_add_signature(eid_signer *signer, const char *container, const char *out_path,
				      const eid_asic_opts *opts) EID_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
