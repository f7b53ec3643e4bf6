/*
 * Any ISO 7816-15 (PKCS#15) card: its certificates, found through EF(ODF)
 * and the certificate directories (CDF).  No identity data, no card-direct
 * signing: such cards sign through their PKCS#11 module.
 */
#include "config.h"

#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "card.h"

static const unsigned char aid_pkcs15[] = { 0xa0, 0x00, 0x00, 0x00, 0x63, 0x50, 0x4b, 0x43, 0x53, 0x2d, 0x31, 0x35 };

#define MAX_CERTS 16

static int probe(eid_card *c)
{
	unsigned int sw = 0;
	int rc = eid_card__select(c, 0x04, aid_pkcs15, sizeof(aid_pkcs15), &sw);

	if (rc < 0)
		return rc;
	if (sw != EID_SW_OK)
		return EID_ENOTFOUND;
	snprintf(c->description, sizeof(c->description), "PKCS#15 card");
	return EID_OK;
}

/* A Path's file ids as hex, from the OCTET STRING of a PKCS#15 Path. */
static int path_hex(const eid_tlv *octets, char *out, size_t size)
{
	size_t i;

	if (octets->tag != 0x04 || octets->len < 2 || octets->len % 2 != 0 || 2 * octets->len + 1 > size)
		return eid_error__set(EID_EFORMAT, "a malformed PKCS#15 path");
	for (i = 0; i < octets->len; i++)
		snprintf(out + 2 * i, 3, "%02X", octets->value[i]);
	return EID_OK;
}

/* The path inside Path ::= SEQUENCE { path OCTET STRING, ... } found at the end of an entry's [1] or the ODF's choice. */
static int first_octets(const unsigned char *p, size_t len, int depth, eid_tlv *out)
{
	const unsigned char *end = p + len;
	eid_tlv t;
	int rc;

	if (depth > 6)
		return EID_ENOTFOUND;
	while ((rc = eid_tlv__next(&p, end, &t)) == EID_OK) {
		if (t.tag == 0x04) {
			*out = t;
			return EID_OK;
		}
		if (t.constructed && first_octets(t.value, t.len, depth + 1, out) == EID_OK)
			return EID_OK;
	}
	return EID_ENOTFOUND;
}

static int which_of(X509 *x)
{
	uint32_t ku = X509_get_key_usage(x);

	if (X509_check_ca(x) > 0)
		return X509_check_issued(x, x) == X509_V_OK ? EID_CARD_ROOT : EID_CARD_CA;
	if (ku != UINT32_MAX && (ku & KU_NON_REPUDIATION))
		return EID_CARD_SIGN;
	return EID_CARD_AUTH;
}

static int certificate(eid_card *c, eid_card_key which, eid_buf *der)
{
	eid_buf odf = EID_BUF_INIT, cdf = EID_BUF_INIT;
	const unsigned char *p, *end;
	eid_tlv t, entry, path;
	char hex[40];
	int rc, found = 0, n = 0;

	if ((rc = eid_card__select(c, 0x04, aid_pkcs15, sizeof(aid_pkcs15), &(unsigned int){ 0 })) < 0)
		return rc;
	if ((rc = eid_card__read_path(c, "3F0050155031", 4096, &odf)) < 0)
		return eid_error__wrap("reading the PKCS#15 object directory");
	/* every CDF (A4 trusted ones A5, useful ones A6 too) */
	for (p = odf.data, end = odf.data + odf.len; !found && (rc = eid_tlv__next(&p, end, &t)) == EID_OK;) {
		const unsigned char *q, *qend;

		if ((t.tag != 0xa4 && t.tag != 0xa5 && t.tag != 0xa6) || first_octets(t.value, t.len, 0, &path) != EID_OK ||
		    path_hex(&path, hex, sizeof(hex)) < 0 || eid_card__read_path(c, hex, 16384, &cdf) < 0) {
			eid_error_clear();
			continue;
		}
		for (q = cdf.data, qend = cdf.data + cdf.len; !found && n < MAX_CERTS && eid_tlv__next(&q, qend, &entry) == EID_OK;) {
			eid_tlv attr;
			const unsigned char *x, *xend = entry.value + entry.len;
			X509 *cert;
			const unsigned char *d;

			/* x509Certificate: SEQUENCE { common, commonCertificate, [1] typeAttributes { value: Path } } */
			for (x = entry.value; eid_tlv__next(&x, xend, &attr) == EID_OK;)
				if (attr.tag == 0xa1)
					break;
			if (attr.tag != 0xa1 || first_octets(attr.value, attr.len, 0, &path) != EID_OK ||
			    path_hex(&path, hex, sizeof(hex)) < 0 || eid_card__read_path(c, hex, EID_CARD_MAX_FILE, der) < 0) {
				eid_error_clear();
				continue;
			}
			n++;
			d = der->data;
			if ((cert = d2i_X509(NULL, &d, (long)der->len)) == NULL)
				continue;
			der->len = (size_t)(d - der->data);
			found = which_of(cert) == (int)which;
			X509_free(cert);
		}
	}
	eid_buf_clear(&odf);
	eid_buf_clear(&cdf);
	if (!found) {
		der->len = 0;
		return eid_error__set(EID_ENOTFOUND, "the PKCS#15 card holds no %s certificate",
				      which == EID_CARD_SIGN ? "signature" : which == EID_CARD_AUTH ? "authentication" : "CA");
	}
	return EID_OK;
}

static int pin_cmd(eid_card *c, int op, eid_card_pin which, const char *a, const char *b, int *tries)
{
	(void)op; (void)which; (void)a; (void)b; (void)tries;
	return eid_error__set(EID_EUNSUPPORTED, "PINs of a %s are handled through its PKCS#11 module", c->description);
}

static eid_card_pin pin_for(eid_card_key which)
{
	(void)which;
	return EID_PIN_AUTH;
}

const eid_card_ops eid_card__pkcs15 = {
	"pkcs15", probe, NULL, NULL, certificate, NULL, NULL, pin_cmd, pin_for, NULL,
};
