/*
 * The card API over the profiles: certificates, identity, PINs, and the
 * card-direct signer.  Each operation is one PC/SC transaction.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "eid/sys/signer.h"
#include "card.h"

#define PIN_MAX 64

static const char *pin_name(eid_card_pin which)
{
	return which == EID_PIN_SIGN ? "signature PIN" : which == EID_PIN_PUK ? "PUK" : "PIN";
}

EID_EXTERN int eid_card_certificate(eid_card *c, eid_card_key which, eid_buf *der)
{
	int rc;

	if (c == NULL || der == NULL)
		return eid_error__set(EID_EINVAL, "eid_card_certificate: NULL argument");
	if ((rc = eid_card__begin(c)) < 0)
		return rc;
	rc = c->profile->certificate(c, which, der);
	eid_card__end(c);
	return rc;
}

EID_EXTERN int eid_card_identity(eid_card *c, eid_identity **out)
{
	eid_identity *id;
	int rc;

	if (c == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "eid_card_identity: NULL argument");
	*out = NULL;
	if (c->profile->identity == NULL)
		return eid_error__set(EID_EUNSUPPORTED, "a %s carries no identity data libeid reads", c->description);
	if ((id = eid_identity__new(c->profile->name)) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	if ((rc = eid_card__begin(c)) == EID_OK) {
		rc = c->profile->identity(c, id);
		eid_card__end(c);
	}
	if (rc < 0) {
		eid_identity_free(id);
		return rc;
	}
	*out = id;
	return EID_OK;
}

EID_EXTERN int eid_card_pin_tries(eid_card *c, eid_card_pin which, int *tries)
{
	int rc;

	if (c == NULL || tries == NULL)
		return eid_error__set(EID_EINVAL, "eid_card_pin_tries: NULL argument");
	*tries = -1;
	if (c->profile->pin_tries == NULL)
		return eid_error__set(EID_EUNSUPPORTED, "a %s cannot tell its tries left without a try", c->description);
	if ((rc = eid_card__begin(c)) < 0)
		return rc;
	rc = c->profile->pin_tries(c, which, tries);
	eid_card__end(c);
	return rc;
}

/* Nothing goes to a PIN the card reports as blocked. */
static int not_blocked(eid_card *c, eid_card_pin which)
{
	int tries = -1;

	if (c->profile->pin_tries == NULL || c->profile->pin_tries(c, which, &tries) < 0) {
		eid_error_clear();
		return EID_OK;
	}
	if (tries == 0)
		return eid_error__set(EID_EPIN_LOCKED, "the %s is blocked: nothing was sent to the card", pin_name(which));
	return EID_OK;
}

static int pin_op(eid_card *c, int op, eid_card_pin which, const char *a, const char *b, int *tries)
{
	int t = -1, rc;

	if (tries == NULL)
		tries = &t;
	*tries = -1;
	if (c == NULL)
		return eid_error__set(EID_EINVAL, "eid_card_pin: NULL card");
	if ((rc = eid_card__begin(c)) < 0)
		return rc;
	rc = not_blocked(c, op == EID_PIN_OP_UNBLOCK ? EID_PIN_PUK : which);
	if (rc == EID_OK)
		rc = c->profile->pin_cmd(c, op, which, a, b, tries);
	eid_card__end(c);
	return rc;
}

EID_EXTERN int eid_card_pin_verify(eid_card *c, eid_card_pin which, const char *pin, int *tries)
{
	return pin_op(c, EID_PIN_OP_VERIFY, which, pin, NULL, tries);
}

EID_EXTERN int eid_card_pin_change(eid_card *c, eid_card_pin which, const char *old_pin, const char *new_pin,
				   int *tries)
{
	if ((old_pin == NULL) != (new_pin == NULL))
		return eid_error__set(EID_EINVAL, "eid_card_pin_change: both PINs, or neither (pinpad)");
	return pin_op(c, EID_PIN_OP_CHANGE, which, old_pin, new_pin, tries);
}

EID_EXTERN int eid_card_pin_unblock(eid_card *c, eid_card_pin which, const char *puk, const char *new_pin, int *tries)
{
	return pin_op(c, EID_PIN_OP_UNBLOCK, which, puk, new_pin, tries);
}

/* ---- the card-direct signer ---- */

typedef struct card_signer {
	eid_card *card;
	eid_card_key key;
	eid_pin_cb pin_cb;
	void *pin_userdata;
} card_signer;

static int card_sign(void *impl, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest, size_t len,
		     eid_buf *out)
{
	card_signer *s = impl;
	eid_card *c = s->card;
	eid_card_pin pin = c->profile->pin_for(s->key);
	char *buf = NULL;
	int tries = -1, rc, n = 0;

	if ((rc = eid_card__begin(c)) < 0)
		return rc;
	if (c->profile->pin_tries != NULL && c->profile->pin_tries(c, pin, &tries) < 0) {
		eid_error_clear();
		tries = -1;
	}
	if (tries == 0)
		rc = eid_error__set(EID_EPIN_LOCKED, "the %s is blocked: nothing was sent to the card", pin_name(pin));
	if (rc == EID_OK && s->pin_cb != NULL) {
		eid_pin_request req;

		memset(&req, 0, sizeof(req));
		req.token_label = c->description;
		req.key_label = s->key == EID_CARD_SIGN ? "signature key" : "authentication key";
		req.flags = (tries == 1 ? EID_PIN_FLAG_FINAL_TRY : 0) | (tries >= 0 && tries < 3 ? EID_PIN_FLAG_COUNT_LOW : 0);
		req.min_len = 4;
		req.max_len = 12;
		if ((buf = OPENSSL_secure_zalloc(PIN_MAX)) == NULL && (buf = calloc(1, PIN_MAX)) == NULL)
			rc = eid_error__set(EID_ENOMEM, NULL);
		if (rc == EID_OK && (n = s->pin_cb(buf, PIN_MAX, &req, s->pin_userdata)) < 0)
			rc = n == EID_ECANCELED ? eid_error__set(EID_ECANCELED, "no PIN was given") : n;
		if (rc == EID_OK && (size_t)n >= PIN_MAX)
			rc = eid_error__set(EID_EPIN_INVALID, "the PIN is too long");
		if (rc == EID_OK)
			buf[n] = '\0';
	}
	if (rc == EID_OK)
		rc = c->profile->sign(c, s->key, scheme, hash, digest, len, buf, &tries, out);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, PIN_MAX);
		if (CRYPTO_secure_allocated(buf))
			OPENSSL_secure_free(buf);
		else
			free(buf);
	}
	eid_card__end(c);
	return rc;
}

static void card_signer_free(void *impl)
{
	free(impl);
}

EID_EXTERN int eid_signer_new_card(eid_signer **out, eid_card *c, eid_card_key which, eid_pin_cb pin_cb,
				   void *pin_userdata)
{
	static const eid_signer_ops ops = { EID_SIGNER_OPS_VERSION, card_sign, card_signer_free };
	eid_buf cert = EID_BUF_INIT, ca = EID_BUF_INIT;
	card_signer *s;
	int rc;

	if (out == NULL || c == NULL)
		return eid_error__set(EID_EINVAL, "eid_signer_new_card: NULL argument");
	*out = NULL;
	if (which == 0)
		which = EID_CARD_SIGN;
	if (which != EID_CARD_SIGN && which != EID_CARD_AUTH)
		return eid_error__set(EID_EINVAL, "a card signs with its signature or authentication key");
	if (c->profile->sign == NULL)
		return eid_error__set(EID_EUNSUPPORTED, "libeid cannot sign with a %s directly (use its PKCS#11 module)",
				      c->description);
	if ((rc = eid_card_certificate(c, which, &cert)) < 0)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		eid_buf_clear(&cert);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	s->card = c;
	s->key = which;
	s->pin_cb = pin_cb;
	s->pin_userdata = pin_userdata;
	rc = eid_signer_new_custom(out, &ops, s, cert.data, cert.len);
	if (rc == EID_OK) {
		if (eid_card_certificate(c, EID_CARD_CA, &ca) == EID_OK)
			rc = eid_signer_add_chain_cert(*out, ca.data, ca.len);
		else
			eid_error_clear(); /* no CA certificate on this card */
	}
	if (rc < 0) {
		eid_signer_free(*out);
		*out = NULL;
	}
	eid_buf_clear(&cert);
	eid_buf_clear(&ca);
	return rc;
}
