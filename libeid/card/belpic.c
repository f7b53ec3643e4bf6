/*
 * The Belgian eID (Belpic applet 1.7 with RSA-2048 keys, 1.8 with EC P-384
 * keys).
 *
 * Files: DF00 (the PKCS#15 application) holds the certificates, 5038
 * authentication, 5039 signature, 503A the citizen CA, 503B the root, 503C the
 * national register (RRN); DF01 (the ID files) holds 4031 identity, 4032 its
 * RRN signature, 4033 address, 4034 its RRN signature, 4035 the photo (JPEG)
 * and, on 1.8, 4040 the basic key.  Identity and address are a simple TLV:
 * one-byte tags, lengths of one byte with 0xFF bytes each adding 255.
 *
 * Integrity: the identity signature is the RRN key's over the identity file;
 * the address signature is over the address file without its trailing zero
 * bytes, followed by the identity signature; the identity file holds the
 * photo's hash (SHA-1 on 1.7, SHA-384 on 1.8) and on 1.8 the basic key's
 * (SHA-384).  The RRN certificate must be issued by the card's root.
 *
 * One PIN (reference 01, ISO 9564 format 2); the signature key wants it
 * verified right before each signature.  No command tells the tries left on
 * 1.7 without a try; 1.8 tells them in GET CARD DATA.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../token/token.h"
#include "card.h"

static const unsigned char aid_pkcs15[] = { 0xa0, 0x00, 0x00, 0x01, 0x77, 0x50, 0x4b, 0x43, 0x53, 0x2d, 0x31, 0x35 };
static const unsigned char aid_id[] = { 0xa0, 0x00, 0x00, 0x01, 0x77, 0x49, 0x64, 0x46, 0x69, 0x6c, 0x65, 0x73 };
static const eid_pin_rule pin_rule = { EID_PIN_FORMAT_2, 4, 12, 8 };

#define CARD_DATA_LEN 0x1c

typedef struct belpic {
	int v18;                  /* applet 1.8: EC keys, SHA-384 */
	unsigned char card_data[CARD_DATA_LEN];
} belpic;

/* GET CARD DATA: the chip serial, versions; @p2 1 asks the PIN tries too (1.8). */
static int card_data(eid_card *c, unsigned char p2, eid_buf *out, unsigned int *sw)
{
	eid_apdu a = { 0x80, 0xe4, 0x00, p2, NULL, 0, p2 ? CARD_DATA_LEN + 3 : CARD_DATA_LEN, 0 };

	return eid_card__transmit(c, &a, out, sw);
}

static const char *const atrs[] = {
	"3B9813400AA503010101AD1311",               /* applet 1.7 */
	"3B7F96000080318065B085040120120FFF829000", /* applet 1.8 */
	NULL,
};

static int atr_known(const unsigned char *atr, size_t len)
{
	return eid_card__atr_in(atr, len, atrs);
}

static int probe(eid_card *c)
{
	eid_buf data = EID_BUF_INIT;
	unsigned int sw = 0;
	belpic *b;
	int rc;

	/* a known ATR goes straight to GET CARD DATA; otherwise the ID files' application must answer */
	if (!atr_known(c->atr, c->atr_len)) {
		if ((rc = eid_card__select(c, 0x04, aid_id, sizeof(aid_id), &sw)) < 0)
			return rc;
		if (sw != EID_SW_OK)
			return EID_ENOTFOUND;
	}
	if ((rc = card_data(c, 0, &data, &sw)) < 0)
		return rc;
	if (sw != EID_SW_OK || data.len < CARD_DATA_LEN) {
		eid_buf_clear(&data);
		if (atr_known(c->atr, c->atr_len))
			return EID_ENOTFOUND; /* the ATR of a Belgian eID, but not its answers */
		return eid_error__set(EID_ECARD, "a Belgian eID that does not answer GET CARD DATA (SW %04X)", sw);
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		eid_buf_clear(&data);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	memcpy(b->card_data, data.data, CARD_DATA_LEN);
	/* byte 21: the applet version, 0x17 or 0x18 */
	b->v18 = b->card_data[21] >= 0x18;
	c->pdata = b;
	snprintf(c->description, sizeof(c->description), "Belgian eID (applet %d.%d)", b->card_data[21] >> 4,
		 b->card_data[21] & 0x0f);
	eid_buf_clear(&data);
	return EID_OK;
}

static void release(eid_card *c)
{
	free(c->pdata);
	c->pdata = NULL;
}

/* A DER object padded with zero bytes (as the card files are): its true length. */
static size_t der_length(const unsigned char *p, size_t n)
{
	size_t len = eid_card__der_len(p, n);

	return len > 0 && len <= n ? len : n;
}

static int read_file(eid_card *c, const char *path, eid_buf *out)
{
	int rc = eid_card__read_path(c, path, EID_CARD_MAX_FILE, out);

	return rc < 0 ? eid_error__wrap("reading %s of the Belgian eID", path) : rc;
}

static int certificate(eid_card *c, eid_card_key which, eid_buf *der)
{
	static const char *const paths[] = { NULL, "3F00DF005038", "3F00DF005039", "3F00DF00503A", "3F00DF00503B",
					     "3F00DF00503C" };
	int rc;

	if ((unsigned)which >= EID_ARRAY_SIZE(paths) || paths[which] == NULL)
		return eid_error__set(EID_EINVAL, "unknown certificate %d", (int)which);
	if ((rc = eid_card__read_der(c, paths[which], EID_CARD_MAX_FILE, der)) < 0)
		return eid_error__wrap("reading %s of the Belgian eID", paths[which]);
	der->len = der_length(der->data, der->len);
	if (der->len < 2 || der->data[0] != 0x30)
		return eid_error__set(EID_ENOTFOUND, "the Belgian eID holds no such certificate");
	return EID_OK;
}

/* ---- identity ---- */

/* The next element of the Belgian simple TLV. */
static int be_tlv_next(const unsigned char **pp, const unsigned char *end, unsigned int *tag,
		       const unsigned char **value, size_t *len)
{
	const unsigned char *p = *pp;
	size_t n = 0;

	if (p >= end)
		return EID_ENOTFOUND;
	*tag = *p++;
	for (;;) {
		if (p >= end)
			return eid_error__set(EID_EFORMAT, "a Belgian eID file cut short");
		n += *p;
		if (*p++ != 0xff)
			break;
	}
	if ((size_t)(end - p) < n)
		return eid_error__set(EID_EFORMAT, "a Belgian eID field of %zu bytes with %zu left", n,
				      (size_t)(end - p));
	*value = p;
	*len = n;
	*pp = p + n;
	return EID_OK;
}

/* "15 MARS 1985", "15.03.1985", "15 MRT 1985", "15 MÄR 1985"... as YYYY-MM-DD. */
static int be_date(const unsigned char *p, size_t n, char *out)
{
	static const char *const months[][5] = {
		{ "JAN", NULL }, { "FEV", "FEB", NULL }, { "MARS", "MAAR", "MÄR", "MAR", "MRT" }, { "AVR", "APR", NULL },
		{ "MAI", "MEI", "MAY", NULL }, { "JUIN", "JUN", NULL }, { "JUIL", "JUL", NULL }, { "AOUT", "AUG", NULL },
		{ "SEPT", "SEP", NULL }, { "OCT", "OKT", NULL }, { "NOV", NULL }, { "DEC", "DEZ", NULL },
	};
	char s[32], mon[16] = "";
	char iso[16];
	unsigned int d = 0, m = 0, y = 0;
	size_t i, k;

	if (n == 0 || n >= sizeof(s))
		return EID_EFORMAT;
	memcpy(s, p, n);
	s[n] = '\0';
	if (sscanf(s, "%2u.%2u.%4u", &d, &m, &y) != 3) {
		if (sscanf(s, "%2u %15s %4u", &d, mon, &y) != 3 && sscanf(s, "%2u.%15[^.].%4u", &d, mon, &y) != 3)
			return EID_EFORMAT;
		for (i = 0; i < 12 && m == 0; i++)
			for (k = 0; k < 5 && months[i][k] != NULL; k++)
				if (strcasecmp(mon, months[i][k]) == 0)
					m = (unsigned)i + 1;
	}
	if (d < 1 || d > 31 || m < 1 || m > 12 || y < 1800 || y > 2999)
		return EID_EFORMAT;
	snprintf(iso, sizeof(iso), "%04u-%02u-%02u", y, m, d);
	memcpy(out, iso, 11);
	return EID_OK;
}

static int set_date(eid_identity *id, eid_identity_field f, const unsigned char *p, size_t n)
{
	char iso[11];

	if (be_date(p, n, iso) == EID_OK)
		return eid_identity__set(id, f, iso, 10);
	return eid_identity__set(id, f, p, n); /* kept as written */
}

/* Verify the RRN's signature @sig over @data with its certificate (RSA: SHA-256 or, on older cards, SHA-1). */
static int rrn_verify(belpic *b, X509 *rrn, const unsigned char *data, size_t len, const unsigned char *sig,
		      size_t slen)
{
	EVP_PKEY *pub = X509_get0_pubkey(rrn);
	const EVP_MD *mds[2] = { EVP_sha256(), EVP_sha1() };
	int ec = pub != NULL && (b->v18 || EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC), ok = 0;
	size_t i;

	if (ec) {
		mds[0] = EVP_sha384();
		mds[1] = NULL;
		slen = der_length(sig, slen);
	}
	for (i = 0; pub != NULL && !ok && i < 2 && mds[i] != NULL; i++) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();

		ok = m != NULL && EVP_DigestVerifyInit(m, NULL, mds[i], NULL, pub) == 1 &&
		     EVP_DigestVerify(m, sig, slen, data, len) == 1;
		EVP_MD_CTX_free(m);
	}
	ERR_clear_error();
	return ok;
}

static const struct {
	unsigned int tag;
	eid_identity_field field;
} id_tags[] = {
	{ 0x01, EID_ID_DOCUMENT_NUMBER }, { 0x05, EID_ID_ISSUING_PLACE }, { 0x06, EID_ID_PERSONAL_CODE },
	{ 0x07, EID_ID_SURNAME },         { 0x0a, EID_ID_NATIONALITY },   { 0x0b, EID_ID_BIRTH_PLACE },
	{ 0x0f, EID_ID_DOCUMENT_TYPE },
}, addr_tags[] = {
	{ 0x01, EID_ID_ADDRESS_STREET }, { 0x02, EID_ID_ADDRESS_ZIP }, { 0x03, EID_ID_ADDRESS_MUNICIPALITY },
};

int eid_belpic__parse_identity(eid_identity *id, const unsigned char *data, size_t n, eid_belpic_hashes *h)
{
	const unsigned char *p = data, *end = data + n, *v;
	char given[512] = "";
	unsigned int tag;
	size_t len, i;
	int rc;

	memset(h, 0, sizeof(*h));
	while ((rc = be_tlv_next(&p, end, &tag, &v, &len)) == EID_OK) {
		for (i = 0; i < EID_ARRAY_SIZE(id_tags) && rc == EID_OK; i++)
			if (id_tags[i].tag == tag)
				rc = eid_identity__set(id, id_tags[i].field, v, len);
		if (tag == 0x03 || tag == 0x04)
			rc = set_date(id, tag == 0x03 ? EID_ID_VALID_FROM : EID_ID_VALID_UNTIL, v, len);
		else if (tag == 0x0c)
			rc = set_date(id, EID_ID_BIRTH_DATE, v, len);
		else if (tag == 0x08 || tag == 0x09) {
			/* first names, then the third first name's initial */
			size_t have = strlen(given);

			if (len > 0 && have + len + 2 < sizeof(given)) {
				if (have > 0)
					given[have++] = ' ';
				memcpy(given + have, v, len);
				given[have + len] = '\0';
			}
		} else if (tag == 0x0d && len >= 1) {
			/* M; F, V (vrouw) or W (weiblich) */
			rc = eid_identity__set(id, EID_ID_SEX, v[0] == 'M' ? "M" : strchr("FVW", v[0]) ? "F" : "X", 1);
		} else if (tag == 0x11) {
			h->photo = v;
			h->photo_len = len;
		} else if (tag == 0x1a) {
			h->basic_key = v;
			h->basic_key_len = len;
		}
		if (rc < 0)
			return rc;
	}
	if (rc != EID_ENOTFOUND)
		return rc;
	return eid_identity__set(id, EID_ID_GIVEN_NAMES, given, strlen(given));
}

int eid_belpic__parse_address(eid_identity *id, const unsigned char *data, size_t n)
{
	const unsigned char *p = data, *end, *v;
	unsigned int tag;
	size_t len, i;
	int rc;

	/* zero-padded to the file's fixed size */
	while (n > 0 && data[n - 1] == 0)
		n--;
	for (end = data + n; (rc = be_tlv_next(&p, end, &tag, &v, &len)) == EID_OK;)
		for (i = 0; i < EID_ARRAY_SIZE(addr_tags); i++)
			if (addr_tags[i].tag == tag && (rc = eid_identity__set(id, addr_tags[i].field, v, len)) < 0)
				return rc;
	return rc == EID_ENOTFOUND ? EID_OK : rc;
}

static int identity(eid_card *c, eid_identity *id)
{
	belpic *b = c->pdata;
	eid_buf idf = EID_BUF_INIT, idsig = EID_BUF_INIT, addr = EID_BUF_INIT, addrsig = EID_BUF_INIT, photo = EID_BUF_INIT,
		rrn_der = EID_BUF_INIT, root_der = EID_BUF_INIT, basic = EID_BUF_INIT, signed_addr = EID_BUF_INIT;
	const unsigned char *p;
	eid_belpic_hashes hashes;
	size_t len;
	X509 *rrn = NULL, *root = NULL;
	int rc;

	if ((rc = read_file(c, "3F00DF014031", &idf)) == EID_OK && (rc = read_file(c, "3F00DF014032", &idsig)) == EID_OK &&
	    (rc = read_file(c, "3F00DF014033", &addr)) == EID_OK && (rc = read_file(c, "3F00DF014034", &addrsig)) == EID_OK &&
	    (rc = read_file(c, "3F00DF014035", &photo)) == EID_OK && (rc = certificate(c, EID_CARD_RRN, &rrn_der)) == EID_OK)
		rc = certificate(c, EID_CARD_ROOT, &root_der);
	if (rc == EID_OK && b->v18 && read_file(c, "3F00DF014040", &basic) < 0) {
		eid_error_clear();
		basic.len = 0;
	}
	if (rc == EID_OK)
		rc = eid_belpic__parse_identity(id, idf.data, idf.len, &hashes);
	if (rc == EID_OK)
		rc = eid_belpic__parse_address(id, addr.data, addr.len);
	if (rc == EID_OK && photo.len > 0) {
		if ((id->photo = malloc(photo.len)) == NULL)
			rc = eid_error__set(EID_ENOMEM, NULL);
		else {
			memcpy(id->photo, photo.data, photo.len);
			id->photo_len = photo.len;
		}
	}
	if (rc < 0)
		goto out;

	/* integrity; the signer and root kept for eid_identity_check_signer */
	id->integrity = EID_INTEGRITY_VALID;
	if ((id->signer = malloc(rrn_der.len)) != NULL && (id->root = malloc(root_der.len)) != NULL) {
		memcpy(id->signer, rrn_der.data, rrn_der.len);
		id->signer_len = rrn_der.len;
		memcpy(id->root, root_der.data, root_der.len);
		id->root_len = root_der.len;
	} else {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto out;
	}
	p = rrn_der.data;
	rrn = d2i_X509(NULL, &p, (long)rrn_der.len);
	p = root_der.data;
	root = d2i_X509(NULL, &p, (long)root_der.len);
	if (rrn == NULL || root == NULL) {
		eid_identity__fail(id, "the national register's or the root's certificate on the card cannot be read");
		goto out;
	}
	if (X509_verify(rrn, X509_get0_pubkey(root)) != 1)
		eid_identity__fail(id, "the national register's certificate is not issued by the card's root");
	if (!rrn_verify(b, rrn, idf.data, idf.len, idsig.data, idsig.len))
		eid_identity__fail(id, "the identity file does not match the national register's signature");
	/* the address signature covers the address without its zero padding, then the identity signature */
	for (len = addr.len; len > 0 && addr.data[len - 1] == 0; len--)
		;
	rc = eid_buf_set(&signed_addr, addr.data, len);
	if (rc == EID_OK)
		rc = eid_buf__append(&signed_addr, idsig.data, b->v18 ? der_length(idsig.data, idsig.len) : idsig.len);
	if (rc < 0)
		goto out;
	if (!rrn_verify(b, rrn, signed_addr.data, signed_addr.len, addrsig.data, addrsig.len))
		eid_identity__fail(id, "the address file does not match the national register's signature");
	{
		unsigned char h[EVP_MAX_MD_SIZE];
		unsigned int hl = 0;
		const EVP_MD *md = hashes.photo_len == 20 ? EVP_sha1() : hashes.photo_len == 48 ? EVP_sha384() : NULL;

		if (md == NULL || !EVP_Digest(photo.data, photo.len, h, &hl, md, NULL) || hl != hashes.photo_len ||
		    memcmp(h, hashes.photo, hl) != 0)
			eid_identity__fail(id, "the photo does not match its hash in the identity file");
		if (b->v18 && (hashes.basic_key_len != 48 ||
			       !EVP_Digest(basic.data, basic.len, h, &hl, EVP_sha384(), NULL) ||
			       memcmp(h, hashes.basic_key, 48) != 0))
			eid_identity__fail(id, "the basic key does not match its hash in the identity file");
	}
out:
	X509_free(rrn);
	X509_free(root);
	eid_buf_clear(&idf);
	eid_buf_clear(&idsig);
	eid_buf_clear(&addr);
	eid_buf_clear(&addrsig);
	eid_buf_clear(&photo);
	eid_buf_clear(&rrn_der);
	eid_buf_clear(&root_der);
	eid_buf_clear(&basic);
	eid_buf_clear(&signed_addr);
	return rc;
}

/* ---- PIN ---- */

static int pin_tries(eid_card *c, eid_card_pin which, int *tries)
{
	belpic *b = c->pdata;
	eid_buf data = EID_BUF_INIT;
	unsigned int sw = 0;
	int rc;

	*tries = -1;
	if (which == EID_PIN_PUK)
		return eid_error__set(EID_EUNSUPPORTED, "a Belgian eID has no PUK of its own");
	if (!b->v18)
		return eid_error__set(EID_EUNSUPPORTED, "a Belgian eID 1.7 tells its PIN tries only after a wrong PIN");
	if ((rc = card_data(c, 0x01, &data, &sw)) == EID_OK && (sw != EID_SW_OK || data.len < CARD_DATA_LEN + 1))
		rc = eid_error__set(EID_EUNSUPPORTED, "this Belgian eID does not tell its PIN tries (SW %04X)", sw);
	if (rc == EID_OK)
		*tries = data.data[CARD_DATA_LEN];
	eid_buf_clear(&data);
	return rc;
}

static int select_id_app(eid_card *c)
{
	unsigned int sw = 0;
	int rc = eid_card__select(c, 0x04, aid_pkcs15, sizeof(aid_pkcs15), &sw);

	return rc == EID_OK && sw != EID_SW_OK ? eid_card__sw_error(sw, "SELECT of the Belgian eID application") : rc;
}

static int pin_cmd(eid_card *c, int op, eid_card_pin which, const char *a, const char *bpin, int *tries)
{
	int rc;

	if (which == EID_PIN_PUK || op == EID_PIN_OP_UNBLOCK)
		return eid_error__set(EID_EUNSUPPORTED, "a blocked Belgian eID PIN is unblocked at the municipality, "
							"not with a PUK");
	if ((rc = select_id_app(c)) < 0)
		return rc;
	if (op == EID_PIN_OP_VERIFY)
		return eid_card__pin_command(c, 0x20, 0x00, 0x01, &pin_rule, a, NULL, NULL, tries);
	return eid_card__pin_command(c, 0x24, 0x00, 0x01, &pin_rule, a, NULL, bpin, tries);
}

static eid_card_pin pin_for(eid_card_key which)
{
	(void)which;
	return EID_PIN_AUTH; /* one PIN for both keys */
}

/* ---- signing: MSE SET, VERIFY, PSO COMPUTE DIGITAL SIGNATURE ---- */

static int sign(eid_card *c, eid_card_key which, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest,
		size_t len, const char *pin, int *tries, eid_buf *out)
{
	belpic *b = c->pdata;
	unsigned char mse[5] = { 0x04, 0x80, 0x00, 0x84, which == EID_CARD_SIGN ? 0x83 : 0x82 }, tbs[128];
	eid_buf prefix = EID_BUF_INIT;
	size_t tlen = len;
	unsigned int sw = 0;
	int rc = EID_OK;

	if (which != EID_CARD_SIGN && which != EID_CARD_AUTH)
		return eid_error__set(EID_EINVAL, "a Belgian eID signs with its signature or authentication key");
	if (len > 64)
		return eid_error__set(EID_EINVAL, "a digest of %zu bytes", len);
	memcpy(tbs, digest, len);
	if (b->v18) {
		/* ECDSA over a precomputed hash: 01 SHA-256, 02 SHA-384, 04 SHA-512 */
		if (scheme != EID_SIG_ECDSA)
			return eid_error__set(EID_EMECHANISM, "a Belgian eID 1.8 signs with ECDSA only");
		mse[2] = hash == EID_HASH_SHA256 ? 0x01 : hash == EID_HASH_SHA384 ? 0x02 : hash == EID_HASH_SHA512 ? 0x04 : 0;
	} else if (scheme == EID_SIG_RSA_PKCS1) {
		/* PKCS#1 v1.5 over the DigestInfo we build: any hash */
		mse[2] = 0x01;
		rc = eid_token__digestinfo(hash, digest, len, &prefix);
		if (rc == EID_OK && prefix.len > sizeof(tbs))
			rc = eid_error__set(EID_EINVAL, "a DigestInfo of %zu bytes", prefix.len);
		if (rc == EID_OK) {
			memcpy(tbs, prefix.data, prefix.len);
			tlen = prefix.len;
		}
	} else if (scheme == EID_SIG_RSA_PSS) {
		mse[2] = hash == EID_HASH_SHA256 ? 0x20 : 0;
	} else {
		return eid_error__set(EID_EMECHANISM, "a Belgian eID 1.7 signs with RSA only");
	}
	eid_buf_clear(&prefix);
	if (rc < 0)
		return rc;
	if (mse[2] == 0)
		return eid_error__set(EID_EMECHANISM, "the Belgian eID cannot sign a %s digest this way", eid_hash_name(hash));
	if ((rc = select_id_app(c)) < 0)
		return rc;
	{
		eid_apdu a = { 0x00, 0x22, 0x41, 0xb6, mse, sizeof(mse), 0, 0 };

		if ((rc = eid_card__transmit(c, &a, NULL, &sw)) == EID_OK && sw != EID_SW_OK)
			rc = eid_card__sw_error(sw, "MSE SET");
	}
	/* the signature key wants the VERIFY right before the signature */
	if (rc == EID_OK)
		rc = eid_card__pin_command(c, 0x20, 0x00, 0x01, &pin_rule, pin, NULL, NULL, tries);
	if (rc == EID_OK) {
		eid_apdu a = { 0x00, 0x2a, 0x9e, 0x9a, tbs, tlen, 256, 0 };

		if ((rc = eid_card__transmit(c, &a, out, &sw)) == EID_OK && sw != EID_SW_OK)
			rc = eid_card__sw_error(sw, "PSO COMPUTE DIGITAL SIGNATURE");
	}
	return rc;
}

const eid_card_ops eid_card__belpic = {
	"belpic", probe, atr_known, release, certificate, identity, pin_tries, pin_cmd, pin_for, sign,
};
