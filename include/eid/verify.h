/**
 * @file eid/verify.h
 * @brief Signature validation with verdicts in the terms of ETSI EN 319 102-1.
 *
 * A function here returns a negative code only when it could not judge at
 * all (unreadable file, malformed structure); a signature that is wrong is a
 * verdict in the report, with an indication and a sub-indication.
 */
#ifndef EID_VERIFY_H
#define EID_VERIFY_H

#include "common.h"
#include "online.h"
#include "pki.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Main status indication.  Values are stable. */
typedef enum eid_indication {
	EID_TOTAL_PASSED = 1,
	EID_INDETERMINATE = 2,
	EID_TOTAL_FAILED = 3
} eid_indication;

/** Sub-indications of EN 319 102-1 (clause 5.1.3).  Values are stable. */
typedef enum eid_subindication {
	EID_SUB_NONE = 0,
	EID_SUB_FORMAT_FAILURE = 1,
	EID_SUB_HASH_FAILURE = 2,
	EID_SUB_SIG_CRYPTO_FAILURE = 3,
	EID_SUB_REVOKED = 4,
	EID_SUB_SIG_CONSTRAINTS_FAILURE = 5,
	EID_SUB_CHAIN_CONSTRAINTS_FAILURE = 6,
	EID_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE = 7,
	EID_SUB_CRYPTO_CONSTRAINTS_FAILURE = 8,
	EID_SUB_EXPIRED = 9,
	EID_SUB_NOT_YET_VALID = 10,
	EID_SUB_POLICY_PROCESSING_ERROR = 11,
	EID_SUB_SIGNATURE_POLICY_NOT_AVAILABLE = 12,
	EID_SUB_TIMESTAMP_ORDER_FAILURE = 13,
	EID_SUB_NO_SIGNING_CERTIFICATE_FOUND = 14,
	EID_SUB_NO_CERTIFICATE_CHAIN_FOUND = 15,
	EID_SUB_REVOKED_NO_POE = 16,
	EID_SUB_REVOKED_CA_NO_POE = 17,
	EID_SUB_OUT_OF_BOUNDS_NO_POE = 18,
	EID_SUB_OUT_OF_BOUNDS_NOT_REVOKED = 19,
	EID_SUB_REVOCATION_OUT_OF_BOUNDS_NO_POE = 20,
	EID_SUB_CRYPTO_CONSTRAINTS_FAILURE_NO_POE = 21,
	EID_SUB_NO_POE = 22,
	EID_SUB_TRY_LATER = 23,
	EID_SUB_SIGNED_DATA_NOT_FOUND = 24,
	EID_SUB_UNKNOWN_COMMITMENT_TYPE = 25
} eid_subindication;

/** "TOTAL-PASSED", "INDETERMINATE", "TOTAL-FAILED"; NULL for an unknown value. */
EID_EXTERN const char *eid_indication_name(eid_indication ind);

/** "HASH_FAILURE", ...; "" for EID_SUB_NONE, NULL for an unknown value. */
EID_EXTERN const char *eid_subindication_name(eid_subindication sub);

/** Options.  Initialise with EID_VERIFY_OPTS_INIT. */
typedef struct eid_verify_opts {
	unsigned int version;      /**< EID_VERIFY_OPTS_VERSION */
	const eid_trust *trust;    /**< anchors; NULL: nothing is trusted */
	const char *data_path;     /**< the signed file, for detached signatures */
	int64_t validation_time;   /**< seconds since 1970; 0: now */
	unsigned int flags;        /**< reserved, 0 */
	/* version 2 */
	eid_online *online;        /**< when set (and not offline): the signer's revocation status is asked
				        from the OCSP responder its certificate names; NULL: not checked */
	/* version 3 */
	const char *crypto_policy; /**< a file of algorithm sunset dates ("sha1 2016-01-01", "rsa<2048
				        2019-01-01"), replacing the built-in ones; NULL: the built-in ones */
} eid_verify_opts;

#define EID_VERIFY_OPTS_VERSION 3
#define EID_VERIFY_OPTS_INIT { EID_VERIFY_OPTS_VERSION, NULL, NULL, 0, 0, NULL, NULL }

typedef struct eid_report eid_report;
typedef struct eid_sig_report eid_sig_report;

/**
 * Validate every signature in @p path.  The format is recognised from the
 * content (CMS/CAdES for now).
 * @param out  receives the report, freed with eid_report_free(); set only on EID_OK
 * @return EID_OK (read the verdict in the report), EID_EIO, EID_EFORMAT,
 *         EID_ETOOBIG, EID_EUNSUPPORTED, EID_EVERSION
 */
EID_EXTERN int eid_verify_file(eid_report **out, const char *path, const eid_verify_opts *opts) EID_WARN_UNUSED;

/** Validate a detached CAdES signature held in memory (DER or PEM). */
EID_EXTERN int eid_verify_cades(eid_report **out, const unsigned char *p7s, size_t len,
				const eid_verify_opts *opts) EID_WARN_UNUSED;

EID_EXTERN void eid_report_free(eid_report *report);

/** The worst indication over all signatures (TOTAL-FAILED if there is none). */
EID_EXTERN eid_indication eid_report_indication(const eid_report *report);

/** The file the report is about.  Borrowed. */
EID_EXTERN const char *eid_report_file(const eid_report *report);

EID_EXTERN size_t eid_report_signature_count(const eid_report *report);

/** The @p i th signature's report, or NULL.  Borrowed from the report. */
EID_EXTERN const eid_sig_report *eid_report_signature(const eid_report *report, size_t i);

EID_EXTERN eid_indication eid_sig_report_indication(const eid_sig_report *sig);
EID_EXTERN eid_subindication eid_sig_report_subindication(const eid_sig_report *sig);

/** Strings below are borrowed; NULL when unknown. */
EID_EXTERN const char *eid_sig_report_format(const eid_sig_report *sig);      /**< "CAdES" */
EID_EXTERN const char *eid_sig_report_level(const eid_sig_report *sig);       /**< "CAdES-BASELINE-B", or NULL */
EID_EXTERN const char *eid_sig_report_signer_name(const eid_sig_report *sig); /**< common name */
EID_EXTERN const char *eid_sig_report_signer_subject(const eid_sig_report *sig);
EID_EXTERN const char *eid_sig_report_signer_issuer(const eid_sig_report *sig);
EID_EXTERN const char *eid_sig_report_signer_serial(const eid_sig_report *sig); /**< hex */
EID_EXTERN const char *eid_sig_report_hash(const eid_sig_report *sig);         /**< "SHA-256" */
EID_EXTERN const char *eid_sig_report_algorithm(const eid_sig_report *sig);    /**< "RSA", "RSA-PSS", "ECDSA" */

/** The claimed signing time (seconds since 1970), or -1 when absent. */
EID_EXTERN int64_t eid_sig_report_claimed_time(const eid_sig_report *sig);

/** A PDF signature's field name, or the container entry holding an ASiC signature (borrowed); else NULL. */
EID_EXTERN const char *eid_sig_report_field(const eid_sig_report *sig);
/**
 * The signature policy the signer named (XAdES SignaturePolicyIdentifier), in
 * words: "implied", or its identifier with the digest of its document; NULL
 * when none.  The policy document itself is not fetched or checked.  Borrowed.
 */
EID_EXTERN const char *eid_sig_report_policy(const eid_sig_report *sig);
/**
 * The time of the signature's valid timestamp (seconds since 1970), or -1;
 * @p tsa (may be NULL) receives the TSA's name (borrowed).  A timestamp that
 * does not hold is reported as a warning instead.
 */
EID_EXTERN int64_t eid_sig_report_timestamp(const eid_sig_report *sig, const char **tsa);
/**
 * The time of the earliest archive timestamp that holds (B-LTA: a XAdES
 * ArchiveTimeStamp, a CAdES archive-time-stamp-v3, a PDF document
 * timestamp), or -1; @p tsa as for eid_sig_report_timestamp().
 */
EID_EXTERN int64_t eid_sig_report_archive_timestamp(const eid_sig_report *sig, const char **tsa);
/** The role the signer claims (XAdES SignerRoleV2 ClaimedRole), or NULL.  Borrowed. */
EID_EXTERN const char *eid_sig_report_role(const eid_sig_report *sig);
/**
 * For a PDF certification signature, the permission (DocMDP P) it sets for
 * what may follow: 1 no change, 2 form filling and signing, 3 also
 * annotations.  0 for an approval signature or another format.
 */
EID_EXTERN int eid_sig_report_certification(const eid_sig_report *sig);

/**
 * What the signature's digests cover, one description per signed data object
 * (XAdES: "the whole document", "element invoice (Id x)", "file 'a.pdf'").
 * Empty for formats that sign one thing (CAdES, PAdES).
 */
EID_EXTERN size_t eid_sig_report_signed_data_count(const eid_sig_report *sig);
EID_EXTERN const char *eid_sig_report_signed_data(const eid_sig_report *sig, size_t i);

/** Certificates from the signer up to the anchor, as subjects. */
EID_EXTERN size_t eid_sig_report_chain_count(const eid_sig_report *sig);
EID_EXTERN const char *eid_sig_report_chain_subject(const eid_sig_report *sig, size_t i);

/** Findings that did not decide the verdict, and the ones that did. */
EID_EXTERN size_t eid_sig_report_warning_count(const eid_sig_report *sig);
EID_EXTERN const char *eid_sig_report_warning(const eid_sig_report *sig, size_t i);
EID_EXTERN size_t eid_sig_report_error_count(const eid_sig_report *sig);
EID_EXTERN const char *eid_sig_report_error(const eid_sig_report *sig, size_t i);

/** The report as readable text (UTF-8), into @p out. */
EID_EXTERN int eid_report_to_text(const eid_report *report, eid_buf *out);

/** The report as JSON (UTF-8, pretty-printed), into @p out. */
EID_EXTERN int eid_report_to_json(const eid_report *report, eid_buf *out);

#ifdef __cplusplus
}
#endif
#endif
