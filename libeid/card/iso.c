/*
 * ISO 7816-4 commands every profile uses: SELECT, READ BINARY of a whole
 * file, status words as errors, and PIN blocks.
 */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "card.h"

int eid_card__sw_error(unsigned int sw, const char *what)
{
	const char *w = what ? what : "the card";

	if (EID_SW_IS_TRIES(sw))
		return eid_error__set(EID_EPIN_WRONG, "%s: wrong PIN, %d tr%s left", w, EID_SW_TRIES(sw),
				      EID_SW_TRIES(sw) == 1 ? "y" : "ies");
	switch (sw) {
	case 0x6983:
		return eid_error__set(EID_EPIN_LOCKED, "%s: the PIN is blocked", w);
	case 0x6982:
		return eid_error__set(EID_ECARD, "%s: the card refuses: security status not satisfied (SW 6982)", w);
	case 0x6a82:
	case 0x6a88:
		return eid_error__set(EID_ENOTFOUND, "%s: not on this card (SW %04X)", w, sw);
	case 0x6a80:
	case 0x6700:
		return eid_error__set(EID_EPIN_INVALID, "%s: the card refuses the data (SW %04X)", w, sw);
	case 0x6985:
		return eid_error__set(EID_ECARD, "%s: conditions of use not satisfied (SW 6985)", w);
	default:
		return eid_error__set(EID_ECARD, "%s: the card answered SW %04X", w, sw);
	}
}

int eid_card__select(eid_card *c, unsigned char p1, const unsigned char *id, size_t len, unsigned int *sw)
{
	eid_apdu a = { 0x00, 0xa4, p1, 0x0c, id, len, 0, 0 };

	return eid_card__transmit(c, &a, NULL, sw);
}

size_t eid_card__der_len(const unsigned char *p, size_t n)
{
	size_t k, len = 0, i;

	if (n < 2 || p[0] != 0x30)
		return 0;
	if (p[1] < 0x80)
		return 2 + (size_t)p[1];
	k = p[1] & 0x7f;
	if (k == 0 || k > 3 || n < 2 + k)
		return 0;
	for (i = 0; i < k; i++)
		len = (len << 8) | p[2 + i];
	return 2 + k + len;
}

int eid_card__read_binary(eid_card *c, size_t max, eid_buf *out)
{
	return eid_card__read_binary_upto(c, max, 0, out);
}

int eid_card__read_binary_upto(eid_card *c, size_t max, int stop_at_der_end, eid_buf *out)
{
	size_t want = 0;
	eid_buf chunk = EID_BUF_INIT;
	unsigned int sw = 0;
	int rc = EID_OK;

	out->len = 0;
	for (;;) {
		eid_apdu a = { 0x00, 0xb0, (unsigned char)(out->len >> 8), (unsigned char)out->len, NULL, 0, c->max_le, 0 };

		if (out->len > 0x7fff) {
			rc = eid_error__set(EID_ETOOBIG, "%s: a file beyond READ BINARY's 32 KiB offsets", c->reader);
			break;
		}
		if ((rc = eid_card__transmit(c, &a, &chunk, &sw)) < 0)
			break;
		/* the end: past it (6B00), or fewer bytes than asked (possibly with 6282) */
		if (sw == 0x6b00 && out->len > 0)
			break;
		if (sw != EID_SW_OK && sw != 0x6282) {
			rc = eid_card__sw_error(sw, "READ BINARY");
			break;
		}
		if (out->len + chunk.len > max) {
			rc = eid_error__set(EID_ETOOBIG, "%s: a file of more than %zu bytes", c->reader, max);
			break;
		}
		if ((rc = eid_buf__append(out, chunk.data, chunk.len)) < 0)
			break;
		if (chunk.len < c->max_le || sw == 0x6282)
			break;
		/* a certificate in a padded file: no need to read the padding */
		if (stop_at_der_end && want == 0)
			want = eid_card__der_len(out->data, out->len);
		if (want > 0 && out->len >= want) {
			out->len = want;
			break;
		}
	}
	eid_buf_clear(&chunk);
	return rc;
}

static int select_path(eid_card *c, const char *hexpath)
{
	unsigned char path[16];
	size_t n = strlen(hexpath) / 2, i;
	unsigned int sw = 0;
	int rc;

	if (n > sizeof(path) || n % 2 != 0)
		return eid_error__set(EID_EINTERNAL, "bad path '%s'", hexpath);
	for (i = 0; i < n; i++)
		path[i] = (unsigned char)(eid_hex__digit(hexpath[2 * i]) << 4 | eid_hex__digit(hexpath[2 * i + 1]));
	/* a path from the MF, without the MF itself */
	if (n >= 2 && path[0] == 0x3f && path[1] == 0x00)
		rc = eid_card__select(c, 0x08, path + 2, n - 2, &sw);
	else
		rc = eid_card__select(c, 0x08, path, n, &sw);
	if (rc == EID_OK && sw != EID_SW_OK)
		rc = eid_card__sw_error(sw, hexpath);
	return rc;
}

int eid_card__read_path(eid_card *c, const char *hexpath, size_t max, eid_buf *out)
{
	int rc = select_path(c, hexpath);

	return rc == EID_OK ? eid_card__read_binary(c, max, out) : rc;
}

int eid_card__read_der(eid_card *c, const char *hexpath, size_t max, eid_buf *out)
{
	int rc = select_path(c, hexpath);

	return rc == EID_OK ? eid_card__read_binary_upto(c, max, 1, out) : rc;
}

int eid_card__pin_block(const char *pin, eid_pin_format f, size_t min, size_t max, size_t block_len,
			unsigned char *out, size_t *out_len)
{
	size_t n = pin ? strlen(pin) : 0, i;

	*out_len = 0;
	if (n < min || n > max)
		return eid_error__set(EID_EPIN_INVALID, "the PIN must have %zu to %zu digits", min, max);
	for (i = 0; i < n; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return eid_error__set(EID_EPIN_INVALID, "the PIN must be digits only");
	switch (f) {
	case EID_PIN_FORMAT_ASCII:
		memcpy(out, pin, n);
		*out_len = n;
		return EID_OK;
	case EID_PIN_FORMAT_ASCII_FF:
		if (block_len < n)
			return eid_error__set(EID_EPIN_INVALID, "the PIN is longer than %zu digits", block_len);
		memset(out, 0xff, block_len);
		memcpy(out, pin, n);
		*out_len = block_len;
		return EID_OK;
	case EID_PIN_FORMAT_2:
		if (n > 14)
			return eid_error__set(EID_EPIN_INVALID, "the PIN is longer than 14 digits");
		memset(out, 0xff, 8);
		out[0] = (unsigned char)(0x20 | n);
		for (i = 0; i < n; i++) {
			unsigned char d = (unsigned char)(pin[i] - '0');

			if (i % 2 == 0)
				out[1 + i / 2] = (unsigned char)((d << 4) | 0x0f);
			else
				out[1 + i / 2] = (unsigned char)((out[1 + i / 2] & 0xf0) | d);
		}
		*out_len = 8;
		return EID_OK;
	}
	return eid_error__set(EID_EINTERNAL, "unknown PIN format");
}

/* PC/SC part 10 PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE for a PIN block format. */
static size_t pinpad_block(const eid_pin_rule *r, int modify, const unsigned char *apdu, size_t apdu_len,
			   unsigned char *out)
{
	size_t n = 0;
	unsigned char fmt, blk, lenfmt;

	if (r->format == EID_PIN_FORMAT_2) {
		fmt = 0x89;             /* bytes, PIN at byte 1, left, BCD */
		blk = 0x47;             /* a 4-bit length field, an 8-byte block */
		lenfmt = 0x04;          /* the length at bit 4 */
	} else {
		fmt = 0x82;             /* bytes, PIN at byte 0, left, ASCII */
		blk = (unsigned char)(r->block_len & 0x0f);
		lenfmt = 0x00;
	}
	out[n++] = 30;                  /* bTimerOut (s) */
	out[n++] = 30;                  /* bTimerOut2 */
	out[n++] = fmt;
	out[n++] = blk;
	out[n++] = lenfmt;
	if (modify) {
		out[n++] = 0;                                  /* bInsertionOffsetOld */
		out[n++] = (unsigned char)r->block_len;        /* bInsertionOffsetNew */
	}
	out[n++] = (unsigned char)r->max;                      /* wPINMaxExtraDigit, little-endian: max, min */
	out[n++] = (unsigned char)r->min;
	if (modify)
		out[n++] = 0x03;                               /* bConfirmPIN: confirm, and ask the old one */
	out[n++] = 0x02;                                       /* bEntryValidationCondition: the OK key */
	out[n++] = modify ? 3 : 1;                             /* bNumberMessage */
	out[n++] = 0x09;                                       /* wLangId 0x0409 */
	out[n++] = 0x04;
	out[n++] = 0;                                          /* bMsgIndex */
	if (modify) {
		out[n++] = 1;                                  /* bMsgIndex2 */
		out[n++] = 2;                                  /* bMsgIndex3 */
	}
	out[n++] = 0;                                          /* bTeoPrologue */
	out[n++] = 0;
	out[n++] = 0;
	out[n++] = (unsigned char)apdu_len;                    /* ulDataLength, little-endian */
	out[n++] = 0;
	out[n++] = 0;
	out[n++] = 0;
	memcpy(out + n, apdu, apdu_len);
	return n + apdu_len;
}

/* The template of one PIN block on the pinpad: the reader fills the digits in. */
static size_t pin_template(const eid_pin_rule *r, unsigned char *out)
{
	memset(out, 0xff, r->block_len);
	if (r->format == EID_PIN_FORMAT_2)
		out[0] = 0x20;
	return r->block_len;
}

/* The status word of a PIN command as a result; a wrong PIN reports its tries. */
static int pin_result(unsigned int sw, const char *what, int *tries)
{
	if (sw == EID_SW_OK)
		return EID_OK;
	if (EID_SW_IS_TRIES(sw) && tries != NULL)
		*tries = EID_SW_TRIES(sw);
	if (sw == 0x63c0 || sw == 0x6983) {
		if (tries != NULL)
			*tries = 0;
		return eid_error__set(EID_EPIN_LOCKED, "%s: the PIN is now blocked", what);
	}
	return eid_card__sw_error(sw, what);
}

int eid_card__pin_command(eid_card *c, unsigned char ins, unsigned char p1, unsigned char p2, const eid_pin_rule *r,
			  const char *a, const eid_pin_rule *rb, const char *b, int *tries)
{
	unsigned char data[64], apdu[80], pp[128];
	size_t la = 0, lb = 0, n;
	unsigned int sw = 0;
	const char *what = ins == 0x20 ? "VERIFY" : ins == 0x24 ? "CHANGE REFERENCE DATA" : "RESET RETRY COUNTER";
	int rc = EID_OK;

	if (rb == NULL)
		rb = r;
	if (tries != NULL)
		*tries = -1;
	if (a == NULL && (b == NULL || ins == 0x20 || ins == 0x24)) {
		/* on the pinpad: the reader builds the blocks from its templates */
		if (r->block_len > 15 || rb->block_len > 15 || r->block_len + rb->block_len > 32)
			return eid_error__set(EID_EUNSUPPORTED, "this card's PIN blocks cannot be entered on a pinpad");
		la = pin_template(r, data);
		if (ins == 0x24)
			lb = pin_template(rb, data + la);
		apdu[0] = 0x00;
		apdu[1] = ins;
		apdu[2] = p1;
		apdu[3] = p2;
		apdu[4] = (unsigned char)(la + lb);
		memcpy(apdu + 5, data, la + lb);
		n = pinpad_block(r, ins == 0x24, apdu, 5 + la + lb, pp);
		rc = eid_card__pinpad(c, ins == 0x24, pp, n, &sw);
		return rc < 0 ? rc : pin_result(sw, what, tries);
	}
	if (a != NULL)
		rc = eid_card__pin_block(a, r->format, r->min, r->max, r->block_len, data, &la);
	if (rc == EID_OK && b != NULL)
		rc = eid_card__pin_block(b, rb->format, rb->min, rb->max, rb->block_len, data + la, &lb);
	if (rc == EID_OK) {
		eid_apdu cmd = { 0x00, ins, p1, p2, data, la + lb, 0, 1 };

		rc = eid_card__transmit(c, &cmd, NULL, &sw);
	}
	OPENSSL_cleanse(data, sizeof(data));
	return rc < 0 ? rc : pin_result(sw, what, tries);
}
