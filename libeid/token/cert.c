/* Certificate helpers used by the signers and the layers above. */
#include "config.h"

#include <time.h>

#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "token.h"

int eid_cert__parse(const unsigned char *data, size_t len, X509 **out)
{
	const unsigned char *p = data;
	X509 *x = NULL;

	*out = NULL;
	if (data == NULL || len == 0 || len > 1024 * 1024)
		return eid_error__set(EID_EINVAL, "no certificate, or an oversized one");
	if (len > 10 && memcmp(data, "-----BEGIN", 10) == 0) {
		BIO *bio = BIO_new_mem_buf(data, (int)len);

		if (bio == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else {
		x = d2i_X509(NULL, &p, (long)len);
		if (x != NULL && p != data + len) {
			X509_free(x);
			x = NULL;
			return eid_error__set(EID_ECERT, "trailing bytes after the certificate");
		}
	}
	if (x == NULL)
		return eid_error__ossl(EID_ECERT, "cannot parse the certificate");
	*out = x;
	return EID_OK;
}

char *eid_cert__name(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = NULL, *data;
	long n;

	if (bio == NULL)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_get_mem_data(bio, &data);
		s = malloc((size_t)n + 1);
		if (s != NULL) {
			memcpy(s, data, (size_t)n);
			s[n] = '\0';
		}
	}
	BIO_free(bio);
	return s;
}

char *eid_cert__display_name(X509 *cert)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	char *s;
	int n;

	if (i < 0)
		return eid_cert__name(name);
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n < 0)
		return eid_cert__name(name);
	s = malloc((size_t)n + 1);
	if (s != NULL) {
		memcpy(s, utf8, (size_t)n);
		s[n] = '\0';
	}
	OPENSSL_free(utf8);
	return s;
}

char *eid_cert__serial_hex(X509 *cert)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex, *s;

	if (bn == NULL)
		return NULL;
	hex = BN_bn2hex(bn);
	BN_free(bn);
	if (hex == NULL)
		return NULL;
	s = strdup(hex);
	OPENSSL_free(hex);
	return s;
}

unsigned int eid_cert__flags(X509 *cert)
{
	uint32_t ku = X509_get_key_usage(cert);
	unsigned int flags = 0;

	if (ku == UINT32_MAX) /* no keyUsage extension: everything is allowed */
		ku = KU_NON_REPUDIATION | KU_DIGITAL_SIGNATURE;
	if (ku & KU_NON_REPUDIATION)
		flags |= EID_CERT_NON_REPUDIATION;
	if (ku & KU_DIGITAL_SIGNATURE)
		flags |= EID_CERT_DIGITAL_SIGNATURE;
	if (X509_check_ca(cert) > 0)
		flags |= EID_CERT_CA;
	return flags;
}

int eid_cert__key_info(X509 *cert, eid_key_type *type, unsigned int *bits)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert);

	*type = EID_KEY_UNKNOWN;
	*bits = 0;
	if (pk == NULL)
		return eid_error__ossl(EID_ECERT, "the certificate's public key cannot be read");
	if (EVP_PKEY_is_a(pk, "RSA"))
		*type = EID_KEY_RSA;
	else if (EVP_PKEY_is_a(pk, "EC"))
		*type = EID_KEY_EC;
	else
		return eid_error__set(EID_EUNSUPPORTED, "unsupported key type %s", EVP_PKEY_get0_type_name(pk));
	*bits = (unsigned int)EVP_PKEY_get_bits(pk);
	return EID_OK;
}

int64_t eid_cert__epoch(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	return (int64_t)timegm(&tm);
}
