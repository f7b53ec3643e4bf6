/*
 * Helpers shared by the Check unit suites: fixture paths from the test
 * environment (EID_TEST_PKI, EID_TEST_TMP), scratch folders, small file
 * utilities and the common main().
 */
#ifndef EID_TEST_UNIT_H
#define EID_TEST_UNIT_H

#include <stddef.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "eid/token.h"

/* The value of an environment variable the suites need; NULL when unset or empty. */
const char *unit_env(const char *name);

/* Path of a file of the test PKI ($EID_TEST_PKI/name), malloc'd.  Fails the test when unset. */
char *unit_pki(const char *name);

/* "dir/name", malloc'd. */
char *unit_join(const char *dir, const char *name);

/* A fresh scratch folder under $EID_TEST_TMP (else $TMPDIR or /tmp), malloc'd. */
char *unit_tmpdir(void);

/* Remove a folder and everything below it; accepts NULL. */
void unit_rmtree(const char *dir);

/* Number of entries in a folder, without "." and "..". */
size_t unit_count_entries(const char *dir);

/* Write / read whole files (the test fails on error).  unit_read returns a malloc'd, NUL-terminated block. */
void unit_write(const char *path, const void *data, size_t len);
unsigned char *unit_read(const char *path, size_t *len);

/* Certificates and keys from PEM or DER files (the test fails on error). */
X509 *unit_load_cert(const char *path);
EVP_PKEY *unit_load_key(const char *path);
/* The DER of a certificate, malloc'd. */
unsigned char *unit_cert_der(X509 *x, size_t *len);

/*
 * A self-signed certificate for @key (CN=@cn), valid from an hour ago for a
 * day, with the keyUsage @key_usage (openssl.cnf syntax), or NULL for
 * "critical,nonRepudiation,digitalSignature,keyCertSign".
 */
X509 *unit_self_signed(EVP_PKEY *key, const char *cn, const char *key_usage);

/*
 * Check a signature over a digest with OpenSSL alone: RSA PKCS#1 v1.5, RSA-PSS
 * (MGF1 with the same hash, salt = hash length) or ECDSA (DER).  1 if good.
 */
int unit_verify_digest(EVP_PKEY *pub, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest,
		       size_t digest_len, const unsigned char *sig, size_t sig_len);

/* The digest of @len bytes with @hash, into @out (EVP_MAX_MD_SIZE); returns its size. */
size_t unit_digest(eid_hash hash, const void *data, size_t len, unsigned char *out);

/*
 * Point SOFTHSM2_CONF at a private copy of the test tokens ($EID_TEST_HSM):
 * SoftHSM rewrites a token's file on every failed login, which would race
 * with other test programs running in parallel.  Returns the copy's folder
 * (malloc'd, to remove at the end), or NULL when there are no test tokens.
 */
char *unit_private_softhsm(void);

/* Run a suite with CK_NORMAL output; EXIT_SUCCESS when every test passed. */
int unit_run(Suite *s);

/* Print a note that a test case is skipped (Check 0.15 has no skip status). */
void unit_skip(const char *test, const char *why);

#endif
