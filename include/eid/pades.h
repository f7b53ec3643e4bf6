/**
 * @file eid/pades.h
 * @brief PAdES baseline signatures (ETSI EN 319 142-1): signing PDFs by
 *        incremental update, in one step or two.
 *
 * The input file is never modified: the output is a copy with one revision
 * appended (the signature dictionary, its field and widget, the updated
 * AcroForm and page), written to a temporary file beside the output and
 * renamed into place only when the signature is complete.
 */
#ifndef EID_PADES_H
#define EID_PADES_H

#include "cades.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Flags for eid_pades_opts::flags. */
#define EID_PADES_LEGACY_SUBFILTER 0x01u /**< /SubFilter /adbe.pkcs7.detached (with signing-time) for old readers */

/** Options.  Initialise with EID_PADES_OPTS_INIT. */
typedef struct eid_pades_opts {
	unsigned int version;     /**< EID_PADES_OPTS_VERSION */
	eid_hash hash;            /**< EID_HASH_DEFAULT: SHA-256 */
	eid_sig_scheme scheme;    /**< EID_SIG_DEFAULT: from the key */
	eid_level level;          /**< B-B (default) or B-T (a signature timestamp in the CMS; needs @c online) */
	int64_t signing_time;     /**< the claimed time written in /M; 0: now */
	const char *reason;       /**< /Reason, UTF-8, or NULL */
	const char *location;     /**< /Location, UTF-8, or NULL */
	const char *contact_info; /**< /ContactInfo, UTF-8, or NULL */
	const char *name;         /**< /Name; NULL: the signer's common name */
	const char *field_name;   /**< the signature field's /T; NULL: "SignatureN", the first free N */
	unsigned int flags;       /**< EID_PADES_* */
	unsigned int page;        /**< the page of the signature field, from 1; 0: the first */
	double rect[4];           /**< visible signature: x, y, width, height in points from the page's
				       lower-left corner; width and height 0: invisible */
	/* version 2 */
	unsigned int certify;     /**< 0: an approval signature; 1, 2, 3: a certification (DocMDP) that
				       permits after it 1: no change, 2: form filling and signing,
				       3: also annotations.  Only as the document's first signature. */
	const char *image;        /**< visible signature: a PNG or JPEG file drawn in the box, or NULL */
	/* version 3 */
	eid_online *online;       /**< the TSA for B-T (borrowed; it must live until the signature is complete) */
} eid_pades_opts;

#define EID_PADES_OPTS_VERSION 3
#define EID_PADES_OPTS_INIT \
	{ EID_PADES_OPTS_VERSION, EID_HASH_DEFAULT, EID_SIG_DEFAULT, EID_LEVEL_DEFAULT, 0, NULL, NULL, NULL, NULL, NULL, 0, \
	  0, { 0, 0, 0, 0 }, 0, NULL, NULL }

/** A PDF signature waiting for its value. */
typedef struct eid_pades_prep eid_pades_prep;

/**
 * Prepare a signature of @p in_path into @p out_path: write the new revision
 * with a reserved /Contents to a temporary file beside @p out_path, hash its
 * byte ranges, and build the signed attributes.  @p in_path is only read.
 * @return EID_OK, EID_EIO, EID_EFORMAT (not a PDF, or one libeid cannot
 *         update), EID_EUNSUPPORTED (encrypted), EID_ETOOBIG, EID_EVERSION,
 *         EID_EINVAL (also: the document is certified with P=1, or a
 *         certification was asked of a document already signed)
 */
EID_EXTERN int eid_pades_prepare(eid_pades_prep **out, const eid_signer *signer, const char *in_path,
				 const char *out_path, const eid_pades_opts *opts) EID_WARN_UNUSED;

/** The digest to be signed, with the hash and scheme the value must use.  Borrowed. */
EID_EXTERN int eid_pades_prep_digest(const eid_pades_prep *prep, const unsigned char **digest, size_t *len,
				     eid_hash *hash, eid_sig_scheme *scheme);

/**
 * Insert the signature value (checked against the signer's key first), and
 * rename the finished file into place.
 */
EID_EXTERN int eid_pades_complete(eid_pades_prep *prep, const unsigned char *sig, size_t sig_len) EID_WARN_UNUSED;

/** Release; an uncompleted signature's temporary file is removed.  Accepts NULL. */
EID_EXTERN void eid_pades_prep_free(eid_pades_prep *prep);

/** One step: prepare, sign with @p signer, complete. */
EID_EXTERN int eid_pades_sign(eid_signer *signer, const char *in_path, const char *out_path,
			      const eid_pades_opts *opts) EID_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
