/**
 * @file eid/card.h
 * National ID cards over PC/SC: readers, card profiles, the citizen's
 * identity data with its integrity verdict, certificates, PINs, and signing
 * with the card's own key (card-direct).
 *
 * A card is opened through a context (one PC/SC context, one thread at a
 * time).  Its profile is chosen by ATR and by SELECT of the application.
 * Every operation that sends several APDUs runs inside one PC/SC transaction,
 * so another program cannot interleave its own.
 *
 * PINs: the library never retries a PIN, never sends one to a PIN it knows
 * is blocked, wipes every PIN block right after the command, and never logs
 * one (APDU traces show PIN-bearing commands without their data).
 */
#ifndef EID_CARD_H
#define EID_CARD_H

#include "common.h"
#include "pki.h"
#include "token.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A PC/SC context. */
typedef struct eid_card_ctx eid_card_ctx;
/** A connected card with its profile. */
typedef struct eid_card eid_card;
/** Identity data read from a card. */
typedef struct eid_identity eid_identity;

/**
 * Connect to the PC/SC service.
 * @return EID_OK, or EID_ECARD when the service (pcscd) is not running
 */
EID_EXTERN int eid_card_ctx_new(eid_card_ctx **out) EID_WARN_UNUSED;
/** Release (cards opened from it must be freed first).  Accepts NULL. */
EID_EXTERN void eid_card_ctx_free(eid_card_ctx *ctx);

/**
 * Refresh the list of readers.  @p count receives their number (0 is not an
 * error).
 */
EID_EXTERN int eid_card_ctx_readers(eid_card_ctx *ctx, size_t *count);
/** The name of reader @p i of the last refresh, or NULL.  Borrowed. */
EID_EXTERN const char *eid_card_ctx_reader(const eid_card_ctx *ctx, size_t i);
/** Is there a card in reader @p i (as of the last refresh)? */
EID_EXTERN int eid_card_ctx_reader_has_card(const eid_card_ctx *ctx, size_t i);

/**
 * Wait until a card is in @p reader (NULL: any reader) for at most
 * @p timeout_ms milliseconds (negative: no limit).  Readers plugged in while
 * waiting count too.
 * @return EID_OK, EID_ENOTFOUND (no card in time), EID_ECARD
 */
EID_EXTERN int eid_card_ctx_wait(eid_card_ctx *ctx, const char *reader, int timeout_ms);

/**
 * Wait until the card in @p reader is removed (or the reader goes) for at
 * most @p timeout_ms milliseconds (negative: no limit).
 * @return EID_OK, EID_ECANCELED (still there when the time was up), EID_ECARD
 */
EID_EXTERN int eid_card_ctx_wait_removed(eid_card_ctx *ctx, const char *reader, int timeout_ms);

/**
 * Connect to the card in @p reader (NULL: the first reader holding a card)
 * and identify it.
 * @return EID_OK, EID_ENOTFOUND (no reader, no card), EID_EUNSUPPORTED (a card
 *         no profile knows), EID_ECARD (in use exclusively, reader gone, ...)
 */
EID_EXTERN int eid_card_open(eid_card_ctx *ctx, const char *reader, eid_card **out) EID_WARN_UNUSED;
/** Disconnect and release.  Accepts NULL. */
EID_EXTERN void eid_card_free(eid_card *card);

/** The profile's short name: "belpic", "esteid" or "pkcs15".  Borrowed. */
EID_EXTERN const char *eid_card_profile(const eid_card *card);
/** A description of the card, e.g. "Belgian eID (applet 1.8)".  Borrowed. */
EID_EXTERN const char *eid_card_description(const eid_card *card);
/** The reader's name.  Borrowed. */
EID_EXTERN const char *eid_card_reader(const eid_card *card);
/** The answer to reset.  Borrowed. */
EID_EXTERN int eid_card_atr(const eid_card *card, const unsigned char **atr, size_t *len);
/** Does the reader have a pinpad (PC/SC part 10 VERIFY_PIN_DIRECT)? */
EID_EXTERN int eid_card_has_pinpad(const eid_card *card);
/** APDUs exchanged with the card so far (commands sent, GET RESPONSE included). */
EID_EXTERN unsigned long eid_card_apdu_count(const eid_card *card);

/** Which certificate or key of the card. */
typedef enum eid_card_key {
	EID_CARD_AUTH = 1, /**< authentication */
	EID_CARD_SIGN = 2, /**< qualified signature (non-repudiation) */
	EID_CARD_CA = 3,   /**< the issuing CA's certificate, when the card holds it */
	EID_CARD_ROOT = 4, /**< the root's certificate, when the card holds it */
	EID_CARD_RRN = 5   /**< the identity data signer's certificate (Belgian national register) */
} eid_card_key;

/**
 * A certificate from the card, DER, into @p der.
 * @return EID_OK, EID_ENOTFOUND (this card has none of that kind), EID_ECARD
 */
EID_EXTERN int eid_card_certificate(eid_card *card, eid_card_key which, eid_buf *der) EID_WARN_UNUSED;

/* ------------------------------------------------------------------ */
/* Identity                                                            */

/** Identity fields; a card may lack some (eid_identity_get returns NULL). */
typedef enum eid_identity_field {
	EID_ID_SURNAME = 0,
	EID_ID_GIVEN_NAMES,
	EID_ID_NATIONALITY,       /**< as written on the card (e.g. "Belg", "EST") */
	EID_ID_BIRTH_DATE,        /**< YYYY-MM-DD */
	EID_ID_BIRTH_PLACE,
	EID_ID_SEX,               /**< "M", "F" or "X" */
	EID_ID_PERSONAL_CODE,     /**< national register number, isikukood, ... */
	EID_ID_DOCUMENT_NUMBER,
	EID_ID_DOCUMENT_TYPE,
	EID_ID_VALID_FROM,        /**< YYYY-MM-DD */
	EID_ID_VALID_UNTIL,       /**< YYYY-MM-DD */
	EID_ID_ISSUING_PLACE,
	EID_ID_ADDRESS_STREET,
	EID_ID_ADDRESS_ZIP,
	EID_ID_ADDRESS_MUNICIPALITY,
	EID_ID_FIELD_COUNT
} eid_identity_field;

/** What the card's own integrity protection says about the data. */
typedef enum eid_integrity {
	EID_INTEGRITY_NONE = 0,   /**< the card carries no protection for it */
	EID_INTEGRITY_VALID = 1,  /**< the signatures and hashes check out */
	EID_INTEGRITY_FAILED = 2  /**< something does not match: do not trust the data */
} eid_integrity;

/**
 * Read the identity data, address and photo, and check them against the
 * card's integrity protection (for the Belgian eID: the national register's
 * signatures over the identity and address files and the photo's hash).  A
 * failed check is not an error: the data comes back with
 * EID_INTEGRITY_FAILED and the reason.
 * @return EID_OK, EID_EUNSUPPORTED (the profile has no identity data), EID_ECARD,
 *         EID_ETOKEN_REMOVED, EID_EFORMAT (unreadable data)
 */
EID_EXTERN int eid_card_identity(eid_card *card, eid_identity **out) EID_WARN_UNUSED;
/** Release.  Accepts NULL. */
EID_EXTERN void eid_identity_free(eid_identity *id);
/** A field as UTF-8, or NULL when the card has none.  Borrowed. */
EID_EXTERN const char *eid_identity_get(const eid_identity *id, eid_identity_field field);
/** The field's name in the JSON form ("surname", "birth_date", ...). */
EID_EXTERN const char *eid_identity_field_name(eid_identity_field field);
/** The photo (JPEG), or EID_ENOTFOUND.  Borrowed. */
EID_EXTERN int eid_identity_photo(const eid_identity *id, const unsigned char **jpeg, size_t *len);
/** The integrity verdict and, when not VALID, why (borrowed, may be NULL). */
EID_EXTERN eid_integrity eid_identity_integrity(const eid_identity *id, const char **reason);
/**
 * Check that the identity data's signer (the Belgian national register's
 * certificate) chains to @p trust: that the register, not a root the card
 * brought along, signed it.  Without this check a VALID verdict means the data
 * matches the signatures of the card's own register certificate and root.
 * On failure the verdict becomes EID_INTEGRITY_FAILED with the reason; a card
 * whose data carries no signature is left as it is.
 * @return EID_OK (read the verdict), EID_EINVAL
 */
EID_EXTERN int eid_identity_check_signer(eid_identity *id, const eid_trust *trust);

/** The identity as a JSON object (UTF-8, the photo left out) into @p out. */
EID_EXTERN int eid_identity_to_json(const eid_identity *id, eid_buf *out);

/* ------------------------------------------------------------------ */
/* PINs                                                                */

/** Which PIN. */
typedef enum eid_card_pin {
	EID_PIN_AUTH = 1, /**< the authentication PIN (the only PIN of a Belgian eID) */
	EID_PIN_SIGN = 2, /**< the signature PIN (PIN2 of an Estonian card) */
	EID_PIN_PUK = 3   /**< the unblocking code */
} eid_card_pin;

/**
 * Tries left for a PIN, asked in a way that never counts as an attempt (a
 * status command, or an empty VERIFY only where the profile knows it is
 * harmless).
 * @return EID_OK, EID_EUNSUPPORTED (the card cannot tell without a try)
 */
EID_EXTERN int eid_card_pin_tries(eid_card *card, eid_card_pin which, int *tries_left);

/**
 * Verify a PIN (NUL-terminated digits; NULL: enter it on the reader's
 * pinpad).  @p tries_left (may be NULL) receives what the card reports after
 * a wrong PIN, or -1.
 * @return EID_OK, EID_EPIN_WRONG, EID_EPIN_LOCKED (nothing sent),
 *         EID_EPIN_INVALID (length or characters outside the card's rules),
 *         EID_EUNSUPPORTED (no pinpad), EID_ECANCELED (pinpad cancelled or timed out)
 */
EID_EXTERN int eid_card_pin_verify(eid_card *card, eid_card_pin which, const char *pin, int *tries_left);

/** Change a PIN from @p old_pin to @p new_pin (both NULL: on the pinpad). */
EID_EXTERN int eid_card_pin_change(eid_card *card, eid_card_pin which, const char *old_pin, const char *new_pin,
				   int *tries_left);

/** Unblock a PIN with the PUK, setting @p new_pin (NULL: keep the old one, where the card allows). */
EID_EXTERN int eid_card_pin_unblock(eid_card *card, eid_card_pin which, const char *puk, const char *new_pin,
				    int *tries_left);

/* ------------------------------------------------------------------ */
/* Signing with the card (card-direct)                                 */

/**
 * A signer for the card's key @p which (EID_CARD_SIGN by default when 0),
 * with its certificate (and the card's CA certificate as chain, when it has
 * one).  The PIN is asked through @p pin_cb at each signature (the card's
 * rule for the signature key) and wiped after the VERIFY; NULL uses the
 * pinpad.  The signer borrows @p card, which must outlive it.
 * @return EID_OK, EID_ENOTFOUND (no such key), EID_ECARD
 */
EID_EXTERN int eid_signer_new_card(eid_signer **out, eid_card *card, eid_card_key which, eid_pin_cb pin_cb,
				   void *pin_userdata) EID_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
