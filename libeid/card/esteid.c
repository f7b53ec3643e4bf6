/*
 * The Estonian ID card, 2018 and later (IDEMIA).
 *
 * The main application (its AID selected first) holds the personal data in DF
 * 5000, one transparent file per field (5001 surname ... 500F; an empty field
 * is one NUL byte).  The authentication certificate is ADF1/3401 (AWP
 * application), the signature certificate ADF2/341F (QSCD application).  Both
 * keys are EC P-384.  PIN1 (reference 01) unlocks authentication, PIN2 (85,
 * local to the QSCD application) each signature, the PUK (02) unblocks
 * either; all ASCII digits padded with 0xFF to 12 bytes.  The tries left come
 * from GET DATA without a try.  The personal data carries no signature.
 */
#include "config.h"

#include <string.h>

#include <openssl/x509.h>

#include "card.h"

static const unsigned char aid_main[] = { 0xa0, 0x00, 0x00, 0x00, 0x77, 0x01, 0x08, 0x00,
					  0x07, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x01, 0x00 };
static const unsigned char aid_qscd[] = { 0x51, 0x53, 0x43, 0x44, 0x20, 0x41, 0x70, 0x70,
					  0x6c, 0x69, 0x63, 0x61, 0x74, 0x69, 0x6f, 0x6e };
static const eid_pin_rule rule_pin1 = { EID_PIN_FORMAT_ASCII_FF, 4, 12, 12 };
static const eid_pin_rule rule_pin2 = { EID_PIN_FORMAT_ASCII_FF, 5, 12, 12 };
static const eid_pin_rule rule_puk = { EID_PIN_FORMAT_ASCII_FF, 8, 12, 12 };

static int select_aid(eid_card *c, const unsigned char *aid, size_t len)
{
	unsigned int sw = 0;
	int rc = eid_card__select(c, 0x04, aid, len, &sw);

	return rc == EID_OK && sw != EID_SW_OK ? eid_card__sw_error(sw, "SELECT of the Estonian card's application") : rc;
}

static const char *const atrs[] = {
	"3BDB960080B1FE451F830012233F536549440F9000F1", /* IDEMIA, 2018 */
	NULL,
};

static int atr_known(const unsigned char *atr, size_t len)
{
	return eid_card__atr_in(atr, len, atrs);
}

static int probe(eid_card *c)
{
	unsigned int sw = 0;
	int rc = eid_card__select(c, 0x04, aid_main, sizeof(aid_main), &sw);

	if (rc < 0)
		return rc;
	if (sw != EID_SW_OK)
		return EID_ENOTFOUND;
	snprintf(c->description, sizeof(c->description), "Estonian ID card (2018+)");
	return EID_OK;
}

static int certificate(eid_card *c, eid_card_key which, eid_buf *der)
{
	int rc;

	if (which != EID_CARD_AUTH && which != EID_CARD_SIGN)
		return eid_error__set(EID_ENOTFOUND, "the Estonian card holds only its two certificates");
	if ((rc = select_aid(c, aid_main, sizeof(aid_main))) < 0)
		return rc;
	rc = eid_card__read_der(c, which == EID_CARD_AUTH ? "3F00ADF13401" : "3F00ADF2341F", EID_CARD_MAX_FILE, der);
	return rc < 0 ? eid_error__wrap("reading the Estonian card's certificate") : rc;
}

/* "dd mm yyyy" at the start of @p as YYYY-MM-DD; @rest: what follows. */
static int ee_date(const char *p, char *out, const char **rest)
{
	unsigned int d = 0, m = 0, y = 0;
	int n = 0;

	if (sscanf(p, "%2u %2u %4u%n", &d, &m, &y, &n) != 3 || d < 1 || d > 31 || m < 1 || m > 12 || y < 1800)
		return EID_EFORMAT;
	if (y > 9999)
		return EID_EFORMAT;
	{
		char iso[16];

		snprintf(iso, sizeof(iso), "%04u-%02u-%02u", y, m, d);
		memcpy(out, iso, 11);
	}
	if (rest != NULL) {
		for (p += n; *p == ' '; p++)
			;
		*rest = p;
	}
	return EID_OK;
}

static int identity(eid_card *c, eid_identity *id)
{
	static const struct {
		const char *path;
		eid_identity_field field;
		int kind; /* 0 text, 1 date, 2 date then place */
	} fields[] = {
		{ "3F0050005001", EID_ID_SURNAME, 0 },        { "3F0050005002", EID_ID_GIVEN_NAMES, 0 },
		{ "3F0050005003", EID_ID_SEX, 0 },            { "3F0050005004", EID_ID_NATIONALITY, 0 },
		{ "3F0050005005", EID_ID_BIRTH_DATE, 2 },     { "3F0050005006", EID_ID_PERSONAL_CODE, 0 },
		{ "3F0050005007", EID_ID_DOCUMENT_NUMBER, 0 }, { "3F0050005008", EID_ID_VALID_UNTIL, 1 },
		{ "3F0050005009", EID_ID_VALID_FROM, 2 },
	};
	eid_buf v = EID_BUF_INIT;
	size_t i;
	int rc;

	if ((rc = select_aid(c, aid_main, sizeof(aid_main))) < 0)
		return rc;
	for (i = 0; rc == EID_OK && i < EID_ARRAY_SIZE(fields); i++) {
		char iso[11];
		const char *rest = NULL;

		if ((rc = eid_card__read_path(c, fields[i].path, 1024, &v)) < 0) {
			rc = eid_error__wrap("reading %s of the Estonian card", fields[i].path);
			break;
		}
		if (fields[i].kind == 0 || (rc = eid_buf__reserve(&v, 1)) < 0) {
			if (rc == EID_OK)
				rc = eid_identity__set(id, fields[i].field, v.data, v.len);
			continue;
		}
		v.data[v.len] = '\0';
		if (ee_date((const char *)v.data, iso, &rest) != EID_OK) {
			rc = eid_identity__set(id, fields[i].field, v.data, v.len);
			continue;
		}
		rc = eid_identity__set(id, fields[i].field, iso, 10);
		if (rc == EID_OK && fields[i].kind == 2 && rest != NULL && *rest != '\0')
			rc = eid_identity__set(id, fields[i].field == EID_ID_BIRTH_DATE ? EID_ID_BIRTH_PLACE
										  : EID_ID_ISSUING_PLACE,
					       rest, strlen(rest));
	}
	eid_buf_clear(&v);
	if (rc == EID_OK)
		rc = eid_identity__set(id, EID_ID_DOCUMENT_TYPE, "ID card", 7);
	id->integrity = EID_INTEGRITY_NONE;
	return rc;
}

/* The PIN's reference, rule and application. */
static void pin_of(eid_card_pin which, unsigned char *ref, const eid_pin_rule **rule, const unsigned char **aid,
		   size_t *aid_len)
{
	*ref = which == EID_PIN_SIGN ? 0x85 : which == EID_PIN_PUK ? 0x02 : 0x01;
	*rule = which == EID_PIN_SIGN ? &rule_pin2 : which == EID_PIN_PUK ? &rule_puk : &rule_pin1;
	*aid = which == EID_PIN_SIGN ? aid_qscd : aid_main;
	*aid_len = which == EID_PIN_SIGN ? sizeof(aid_qscd) : sizeof(aid_main);
}

static int pin_tries(eid_card *c, eid_card_pin which, int *tries)
{
	unsigned char ref, q[10] = { 0x4d, 0x08, 0x70, 0x06, 0xbf, 0x81, 0, 0x02, 0xa0, 0x80 };
	const eid_pin_rule *rule;
	const unsigned char *aid, *p;
	size_t aid_len, i;
	eid_buf r = EID_BUF_INIT;
	unsigned int sw = 0;
	int rc;

	*tries = -1;
	pin_of(which, &ref, &rule, &aid, &aid_len);
	q[6] = ref & 0x0f;
	if ((rc = select_aid(c, aid, aid_len)) == EID_OK) {
		eid_apdu a = { 0x00, 0xcb, 0x3f, 0xff, q, sizeof(q), 256, 0 };

		rc = eid_card__transmit(c, &a, &r, &sw);
	}
	if (rc == EID_OK && sw != EID_SW_OK)
		rc = eid_card__sw_error(sw, "GET DATA (PIN information)");
	/* 70 .. BF 81 ref .. A0 .. 9A max 9B left: look for 9B 01 */
	for (i = 0, p = r.data; rc == EID_OK && i + 2 < r.len; i++)
		if (p[i] == 0x9b && p[i + 1] == 0x01) {
			*tries = p[i + 2];
			break;
		}
	if (rc == EID_OK && *tries < 0)
		rc = eid_error__set(EID_ECARD, "the Estonian card's PIN information has no counter");
	eid_buf_clear(&r);
	return rc;
}

static int pin_cmd(eid_card *c, int op, eid_card_pin which, const char *a, const char *b, int *tries)
{
	unsigned char ref, puk_ref;
	const eid_pin_rule *rule, *puk_rule;
	const unsigned char *aid, *puk_aid;
	size_t aid_len, puk_aid_len;
	int rc;

	pin_of(which, &ref, &rule, &aid, &aid_len);
	if (op == EID_PIN_OP_UNBLOCK) {
		if (which == EID_PIN_PUK)
			return eid_error__set(EID_EUNSUPPORTED, "the PUK itself cannot be unblocked");
		/* VERIFY the PUK, then RESET RETRY COUNTER with the new PIN (or none: keep it) */
		pin_of(EID_PIN_PUK, &puk_ref, &puk_rule, &puk_aid, &puk_aid_len);
		if ((rc = select_aid(c, puk_aid, puk_aid_len)) < 0 ||
		    (rc = eid_card__pin_command(c, 0x20, 0x00, puk_ref, puk_rule, a, NULL, NULL, tries)) < 0)
			return rc;
		if ((rc = select_aid(c, aid, aid_len)) < 0)
			return rc;
		if (b == NULL) {
			unsigned int sw = 0;
			eid_apdu x = { 0x00, 0x2c, 0x03, ref, NULL, 0, 0, 0 };

			if ((rc = eid_card__transmit(c, &x, NULL, &sw)) == EID_OK && sw != EID_SW_OK)
				rc = eid_card__sw_error(sw, "RESET RETRY COUNTER");
			return rc;
		}
		return eid_card__pin_command(c, 0x2c, 0x02, ref, rule, b, NULL, NULL, tries);
	}
	if ((rc = select_aid(c, aid, aid_len)) < 0)
		return rc;
	if (op == EID_PIN_OP_VERIFY)
		return eid_card__pin_command(c, 0x20, 0x00, ref, rule, a, NULL, NULL, tries);
	return eid_card__pin_command(c, 0x24, 0x00, ref, rule, a, NULL, b, tries);
}

static eid_card_pin pin_for(eid_card_key which)
{
	return which == EID_CARD_AUTH ? EID_PIN_AUTH : EID_PIN_SIGN;
}

/* SIGN: MSE SET (B6, key 9F), VERIFY PIN2, PSO CDS.  AUTH: MSE SET (A4, key 81), VERIFY PIN1, INTERNAL AUTHENTICATE. */
static int sign(eid_card *c, eid_card_key which, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest,
		size_t len, const char *pin, int *tries, eid_buf *out)
{
	int is_sign = which == EID_CARD_SIGN;
	unsigned char mse[] = { 0x80, 0x04, 0xff, is_sign ? 0x15 : 0x20, 0x08, 0x00, 0x84, 0x01, is_sign ? 0x9f : 0x81 };
	unsigned char tbs[48];
	const unsigned char *aid = is_sign ? aid_qscd : aid_main;
	unsigned int sw = 0;
	int rc;

	(void)hash;
	if (scheme != EID_SIG_ECDSA)
		return eid_error__set(EID_EMECHANISM, "the Estonian card signs with ECDSA only");
	if (len > sizeof(tbs) || len < 20)
		return eid_error__set(EID_EMECHANISM, "a digest of %zu bytes for a P-384 key", len);
	/* a shorter hash left-padded to the field: the same integer */
	memset(tbs, 0, sizeof(tbs));
	memcpy(tbs + sizeof(tbs) - len, digest, len);
	if ((rc = select_aid(c, aid, is_sign ? sizeof(aid_qscd) : sizeof(aid_main))) < 0)
		return rc;
	{
		eid_apdu a = { 0x00, 0x22, 0x41, is_sign ? 0xb6 : 0xa4, mse, sizeof(mse), 0, 0 };

		if ((rc = eid_card__transmit(c, &a, NULL, &sw)) == EID_OK && sw != EID_SW_OK)
			rc = eid_card__sw_error(sw, "MSE SET");
	}
	if (rc == EID_OK)
		rc = eid_card__pin_command(c, 0x20, 0x00, is_sign ? 0x85 : 0x01, is_sign ? &rule_pin2 : &rule_pin1, pin,
					   NULL, NULL, tries);
	if (rc == EID_OK) {
		eid_apdu a = { 0x00, is_sign ? 0x2a : 0x88, is_sign ? 0x9e : 0x00, is_sign ? 0x9a : 0x00, tbs, sizeof(tbs),
			       256, 0 };

		if ((rc = eid_card__transmit(c, &a, out, &sw)) == EID_OK && sw != EID_SW_OK)
			rc = eid_card__sw_error(sw, is_sign ? "PSO COMPUTE DIGITAL SIGNATURE" : "INTERNAL AUTHENTICATE");
	}
	return rc;
}

const eid_card_ops eid_card__esteid = {
	"esteid", probe, atr_known, NULL, certificate, identity, pin_tries, pin_cmd, pin_for, sign,
};
