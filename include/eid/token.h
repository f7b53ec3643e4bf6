/**
 * @file eid/token.h
 * @brief The signer interface: keys on PKCS#11 tokens, in PKCS#12 files,
 *        or outside the library (two-step signing).
 *
 * Every signature format takes an eid_signer and never knows where the key
 * lives.  A signer offers its certificate (and chain) and signs digests that
 * were computed on the host.
 */
#ifndef EID_TOKEN_H
#define EID_TOKEN_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Digest algorithms.  Values are stable. */
typedef enum eid_hash {
	EID_HASH_DEFAULT = 0, /**< SHA-256 */
	EID_HASH_SHA256 = 1,
	EID_HASH_SHA384 = 2,
	EID_HASH_SHA512 = 3
} eid_hash;

/** Key types. */
typedef enum eid_key_type {
	EID_KEY_UNKNOWN = 0,
	EID_KEY_RSA = 1,
	EID_KEY_EC = 2
} eid_key_type;

/** Signature schemes. */
typedef enum eid_sig_scheme {
	EID_SIG_DEFAULT = 0,   /**< RSA PKCS#1 v1.5 for RSA keys, ECDSA for EC keys */
	EID_SIG_RSA_PKCS1 = 1,
	EID_SIG_RSA_PSS = 2,   /**< MGF1 with the same hash, salt length = hash length */
	EID_SIG_ECDSA = 3
} eid_sig_scheme;

/** Name of a hash ("SHA-256"), or NULL for an unknown value. */
EID_EXTERN const char *eid_hash_name(eid_hash hash);

/** Parse "sha256", "SHA-384", ... into @p out.  @return EID_OK or EID_EINVAL. */
EID_EXTERN int eid_hash_from_name(eid_hash *out, const char *name);

/** Size in bytes of the digest, 0 for an unknown value. */
EID_EXTERN size_t eid_hash_size(eid_hash hash);

/** The digest of a file's bytes (read as a stream) into @p out. */
EID_EXTERN int eid_digest_file(const char *path, eid_hash hash, eid_buf *out) EID_WARN_UNUSED;

typedef struct eid_signer eid_signer;

/* ------------------------------------------------------------------ */
/* PIN entry                                                           */

/** Flags describing a PIN request (eid_pin_request::flags). */
#define EID_PIN_FLAG_COUNT_LOW   0x01u /**< the token says an earlier attempt failed */
#define EID_PIN_FLAG_FINAL_TRY   0x02u /**< a wrong PIN now blocks it */
#define EID_PIN_FLAG_CONTEXT     0x04u /**< asked again for one signature (CKA_ALWAYS_AUTHENTICATE) */

/** What the library tells a PIN callback. */
typedef struct eid_pin_request {
	const char *token_label; /**< the token asking */
	const char *key_label;   /**< the key to be used, may be NULL */
	unsigned int flags;      /**< EID_PIN_FLAG_* */
	size_t min_len;          /**< the token's limits, 0 when unknown */
	size_t max_len;
} eid_pin_request;

/**
 * Ask for a PIN.  Write at most @p size - 1 bytes into @p buf (a library-
 * owned buffer that is wiped right after use) and return their number, or a
 * negative code (EID_ECANCELED) to give up.  Called at most once per login:
 * the library never retries a PIN by itself.
 */
typedef int (*eid_pin_cb)(char *buf, size_t size, const eid_pin_request *req, void *userdata);

/* ------------------------------------------------------------------ */
/* PKCS#11                                                             */

typedef struct eid_pkcs11 eid_pkcs11;

/** Token flags (eid_token_info::flags), from the token's own CK_TOKEN_INFO. */
#define EID_TOKEN_LOGIN_REQUIRED   0x0001u
#define EID_TOKEN_PINPAD           0x0002u /**< CKF_PROTECTED_AUTHENTICATION_PATH */
#define EID_TOKEN_PIN_COUNT_LOW    0x0004u
#define EID_TOKEN_PIN_FINAL_TRY    0x0008u
#define EID_TOKEN_PIN_LOCKED       0x0010u
#define EID_TOKEN_PIN_TO_BE_CHANGED 0x0020u

/** A token as the module reports it.  Borrowed from the eid_pkcs11 handle. */
typedef struct eid_token_info {
	unsigned long slot_id;
	const char *slot_description;
	const char *label;
	const char *manufacturer;
	const char *model;
	const char *serial;
	unsigned int flags;   /**< EID_TOKEN_* */
} eid_token_info;

/** Certificate flags (eid_cert_info::flags). */
#define EID_CERT_NON_REPUDIATION 0x01u  /**< keyUsage has nonRepudiation (contentCommitment) */
#define EID_CERT_DIGITAL_SIGNATURE 0x02u
#define EID_CERT_CA              0x04u

/** A certificate object on a token.  Borrowed from the eid_pkcs11 handle. */
typedef struct eid_cert_info {
	size_t token_index;
	const char *label;          /**< CKA_LABEL */
	const char *id_hex;         /**< CKA_ID in lower-case hex */
	const char *subject;        /**< RFC 2253 subject, UTF-8 */
	const unsigned char *der;
	size_t der_len;
	eid_key_type key_type;
	unsigned int key_bits;
	unsigned int flags;         /**< EID_CERT_* */
} eid_cert_info;

/** Key flags (eid_key_info::flags). */
#define EID_KEYOBJ_PRIVATE  0x01u /**< the private key object is visible (some tokens show it only after login) */
#define EID_KEYOBJ_HAS_CERT 0x02u /**< a certificate with the same CKA_ID is on the token */

/** A key on a token, as far as it can be seen without login.  Borrowed from the eid_pkcs11 handle. */
typedef struct eid_key_info {
	size_t token_index;
	const char *label;          /**< CKA_LABEL */
	const char *id_hex;         /**< CKA_ID in lower-case hex */
	eid_key_type key_type;
	unsigned int key_bits;      /**< 0 when the token does not tell */
	unsigned int flags;         /**< EID_KEYOBJ_* */
} eid_key_info;

/**
 * Load a PKCS#11 module and initialise it.
 * @param out     receives the handle, freed with eid_pkcs11_free()
 * @param module  a path, or NULL for $EID_PKCS11_MODULE, else p11-kit's
 *                proxy, else OpenSC's module
 * @return EID_OK or EID_EMODULE (detail names the path and the CKR)
 */
EID_EXTERN int eid_pkcs11_open(eid_pkcs11 **out, const char *module);

/**
 * Release the caller's reference.  Signers made from the module keep their own
 * reference, so the module stays loaded until the last of them is freed.
 * Accepts NULL.
 */
EID_EXTERN void eid_pkcs11_free(eid_pkcs11 *p11);

/** The module's path. Borrowed. */
EID_EXTERN const char *eid_pkcs11_module_path(const eid_pkcs11 *p11);

/** Number of slots with a token present (read at open time). */
EID_EXTERN size_t eid_pkcs11_token_count(const eid_pkcs11 *p11);

/** The @p i th token, or NULL past the end.  Borrowed; flags are refreshed on each call. */
EID_EXTERN const eid_token_info *eid_pkcs11_token(eid_pkcs11 *p11, size_t i);

/** Number of certificates found on all tokens (public objects, no login needed). */
EID_EXTERN size_t eid_pkcs11_cert_count(const eid_pkcs11 *p11);

/** The @p i th certificate, or NULL past the end.  Borrowed. */
EID_EXTERN const eid_cert_info *eid_pkcs11_cert(const eid_pkcs11 *p11, size_t i);

/**
 * Number of keys seen without login (public key objects, and private key
 * objects the token shows before login), one per token and CKA_ID.
 */
EID_EXTERN size_t eid_pkcs11_key_count(const eid_pkcs11 *p11);

/** The @p i th key, or NULL past the end.  Borrowed. */
EID_EXTERN const eid_key_info *eid_pkcs11_key(const eid_pkcs11 *p11, size_t i);

/** Selection flags. */
#define EID_SELECT_ALLOW_FINAL_TRY 0x01u /**< send a PIN even when the token says it is the final try */
#define EID_SELECT_NO_PINPAD       0x02u /**< ask the callback even on a pinpad reader */
#define EID_SELECT_ANY_USAGE       0x04u /**< do not prefer the non-repudiation certificate */

/** How to choose a key.  Initialise with EID_PKCS11_SELECT_INIT. */
typedef struct eid_pkcs11_select {
	unsigned int version;     /**< EID_PKCS11_SELECT_VERSION */
	const char *token_label;  /**< NULL: any token */
	const char *key_id_hex;   /**< CKA_ID in hex, NULL: any */
	const char *cert_label;   /**< CKA_LABEL of the certificate, NULL: any */
	eid_pin_cb pin_cb;        /**< asked when a login is needed */
	void *pin_userdata;
	unsigned int flags;       /**< EID_SELECT_* */
} eid_pkcs11_select;

#define EID_PKCS11_SELECT_VERSION 1
#define EID_PKCS11_SELECT_INIT { EID_PKCS11_SELECT_VERSION, NULL, NULL, NULL, NULL, NULL, 0 }

/**
 * Make a signer for a key on a token.  Among the certificates that match the
 * selection (CA certificates never do), the one with nonRepudiation wins,
 * then one with digitalSignature.  No PIN is asked here: the login happens at
 * the first signature, and the session logs out when the signer is freed.
 * Other CA certificates on the token that issue the signer's certificate are
 * offered as its chain.
 * @return EID_OK, EID_ENOTOKEN, EID_ENOKEY, EID_EVERSION, EID_ETOKEN
 */
EID_EXTERN int eid_signer_new_pkcs11(eid_signer **out, eid_pkcs11 *p11, const eid_pkcs11_select *sel);

/* ------------------------------------------------------------------ */
/* PKCS#12 and external signers                                        */

/**
 * Make a signer from a PKCS#12 file.  The password is used once and not kept.
 * @return EID_OK, EID_EIO, EID_EPASSWORD, EID_EFORMAT, EID_ENOKEY
 */
EID_EXTERN int eid_signer_new_pkcs12(eid_signer **out, const char *path, const char *password);

/**
 * Make an external signer from the signer's certificate (DER or PEM).  It can
 * prepare signatures whose value the caller obtains elsewhere (a browser eID,
 * a remote HSM) and hands back to the format's _complete function;
 * eid_signer_sign_digest() on it returns EID_EEXTERNAL.
 */
EID_EXTERN int eid_signer_new_external(eid_signer **out, const unsigned char *cert, size_t cert_len);

/** Add a CA certificate (DER or PEM) to the signer's chain.  The bytes are copied. */
EID_EXTERN int eid_signer_add_chain_cert(eid_signer *signer, const unsigned char *cert, size_t cert_len);

/** Release a signer (logging out of its token session).  Accepts NULL. */
EID_EXTERN void eid_signer_free(eid_signer *signer);

/** The signer's certificate in DER.  Borrowed, valid while the signer lives. */
EID_EXTERN int eid_signer_certificate(const eid_signer *signer, const unsigned char **der, size_t *len);

/** Number of chain certificates (not counting the signer's own). */
EID_EXTERN size_t eid_signer_chain_count(const eid_signer *signer);

/** The @p i th chain certificate in DER.  Borrowed. */
EID_EXTERN int eid_signer_chain_cert(const eid_signer *signer, size_t i, const unsigned char **der, size_t *len);

/** The key's type and size in bits. */
EID_EXTERN eid_key_type eid_signer_key_type(const eid_signer *signer);
EID_EXTERN unsigned int eid_signer_key_bits(const eid_signer *signer);

/** The signer's subject common name (UTF-8), or its whole subject.  Borrowed. */
EID_EXTERN const char *eid_signer_name(const eid_signer *signer);

/**
 * Sign a digest computed on the host.  For ECDSA the value is DER
 * (Ecdsa-Sig-Value); for RSA the raw signature.  The result goes into @p out
 * (cleared first).  Not thread-safe for the same signer.
 * @return EID_OK, EID_EINVAL (digest length), EID_EMECHANISM, EID_EPIN_*,
 *         EID_ECANCELED, EID_EEXTERNAL, EID_ETOKEN
 */
EID_EXTERN int eid_signer_sign_digest(eid_signer *signer, eid_sig_scheme scheme, eid_hash hash,
				      const unsigned char *digest, size_t digest_len, eid_buf *out) EID_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
