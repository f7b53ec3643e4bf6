/*
 * What every signature format shares once its own checks are done: who the
 * signer is, the certificate path, and whether the algorithms and the key
 * usage are acceptable (EN 319 102-1, 5.2.6 to 5.2.8).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ocsp.h>

#include "verify.h"
#include "../pki/pki.h"

void eid_verify__signer_info(eid_sig_report *s, X509 *signer)
{
	char *tmp;

	tmp = eid_cert__display_name(signer);
	eid_sig__set(&s->signer_name, tmp);
	free(tmp);
	tmp = eid_cert__name(X509_get_subject_name(signer));
	eid_sig__set(&s->signer_subject, tmp);
	free(tmp);
	tmp = eid_cert__name(X509_get_issuer_name(signer));
	eid_sig__set(&s->signer_issuer, tmp);
	free(tmp);
	tmp = eid_cert__serial_hex(signer);
	eid_sig__set(&s->signer_serial, tmp);
	free(tmp);
	s->key_bits = (unsigned int)EVP_PKEY_get_bits(X509_get0_pubkey(signer));
}

int eid_verify__judging_time(eid_sig_report *s, X509 *signer, STACK_OF(X509) *certs, const eid_verify_opts *o,
			     time_t when, const eid_tst_result *ts, time_t *at)
{
	eid_chain_result now;
	int rc;

	*at = when;
	if (ts == NULL || !ts->ok || ts->gen_time < 0 || ts->gen_time >= (int64_t)when)
		return EID_OK;
	if ((rc = eid_pki__validate_chain(o->trust, signer, certs, when, &now)) < 0)
		return rc;
	if (now.sub == EID_SUB_OUT_OF_BOUNDS_NO_POE) {
		eid_sig__warn(s, "the certificate is no longer valid, but the timestamp proves the signature existed "
				 "while it was: it is judged at the timestamp's time");
		*at = (time_t)ts->gen_time;
	}
	eid_pki__chain_result_clear(&now);
	return EID_OK;
}

void eid_verify__keep_timestamp(eid_sig_report *s, eid_tst_result *best, const eid_tst_result *r)
{
	if (!r->ok) {
		eid_sig__warn(s, "the signature timestamp%s%s does not hold: %s", r->tsa[0] ? " by " : "", r->tsa, r->why);
		return;
	}
	if (!best->ok || r->gen_time < best->gen_time)
		*best = *r;
	s->ts_time = best->gen_time;
	eid_sig__set(&s->ts_tsa, best->tsa);
}

/*
 * The signer's revocation status from its OCSP responder, judged against
 * the proof of existence: revoked after a timestamp that holds, the
 * signature stands; revoked before it, TOTAL-FAILED/REVOKED; revoked with no
 * proof, INDETERMINATE/REVOKED_NO_POE; no answer, INDETERMINATE/TRY_LATER.
 */
static int revocation(eid_sig_report *s, X509 *signer, X509 *issuer, STACK_OF(X509) *certs, const eid_verify_opts *o,
		      const eid_tst_result *ts)
{
	STACK_OF(X509) *pool = eid_pki__intermediates(o->trust);
	eid_ocsp_result r;
	char when[32], poe[32], line[600];
	const char *via = "OCSP";
	int i, rc;

	if (pool == NULL && (pool = sk_X509_new_null()) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; i < sk_X509_num(certs); i++)
		if (X509_up_ref(sk_X509_value(certs, i)) && !sk_X509_push(pool, sk_X509_value(certs, i)))
			X509_free(sk_X509_value(certs, i));
	rc = eid_online__ocsp(o->online, signer, issuer, eid_pki__store(o->trust), pool, &r);
	sk_X509_pop_free(pool, X509_free);
	if (rc == EID_ENOMEM || rc == EID_EINTERNAL)
		return rc;
	if (rc < 0) {
		/* no OCSP answer: the issuer's CRL, if the certificate names one */
		char why[512];

		snprintf(why, sizeof(why), "%s", eid_error_last()->message);
		eid_error_clear();
		rc = eid_online__crl(o->online, signer, issuer, &r);
		if (rc == EID_ENOMEM)
			return rc;
		if (rc < 0) {
			eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_TRY_LATER, "the revocation status is not known: %s; %s", why,
				      eid_error_last()->message);
			eid_error_clear();
			return EID_OK;
		}
		eid_sig__warn(s, "no OCSP answer (%s): the status comes from the issuer's CRL", why);
		via = "CRL";
	}
	eid_report__iso_time(r.this_update, when, sizeof(when));
	if (r.status == V_OCSP_CERTSTATUS_GOOD) {
		snprintf(line, sizeof(line), "good (%s by %s, %s)", via, r.responder, when);
		eid_sig__set(&s->revocation, line);
		return EID_OK;
	}
	if (r.status != V_OCSP_CERTSTATUS_REVOKED) {
		eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_TRY_LATER, "the OCSP responder at %s does not know the certificate",
			      r.url);
		return EID_OK;
	}
	eid_report__iso_time(r.revoked_at, when, sizeof(when));
	snprintf(line, sizeof(line), "revoked at %s%s%s (%s by %s)", when, r.reason >= 0 ? ", " : "",
		 r.reason >= 0 ? OCSP_crl_reason_str(r.reason) : "", via, r.responder);
	eid_sig__set(&s->revocation, line);
	if (ts != NULL && ts->ok && r.revoked_at > ts->gen_time) {
		eid_report__iso_time(ts->gen_time, poe, sizeof(poe));
		eid_sig__warn(s, "the certificate was revoked at %s, after the timestamp proved the signature existed (%s)",
			      when, poe);
	} else if (ts != NULL && ts->ok) {
		eid_report__iso_time(ts->gen_time, poe, sizeof(poe));
		eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_REVOKED, "the certificate was revoked at %s, before the signature's "
			      "timestamp (%s)", when, poe);
	} else {
		eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_REVOKED_NO_POE, "the certificate was revoked at %s, and nothing "
			      "proves the signature existed before", when);
	}
	return EID_OK;
}

/*
 * No chain from the certificates at hand: fetch the missing issuers from the
 * AIA caIssuers URLs (at most three levels) and try again.
 */
static int fetch_issuers(eid_sig_report *s, X509 *signer, STACK_OF(X509) *certs, const eid_verify_opts *o,
			 time_t when, eid_chain_result *chain)
{
	STACK_OF(X509) *more = certs ? sk_X509_dup(certs) : sk_X509_new_null();
	X509 *cur = signer, *got[3] = { NULL, NULL, NULL };
	eid_chain_result again;
	char url[256];
	size_t k;
	int rc = EID_OK;

	if (more == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (k = 0; k < 3; k++) {
		if (eid_online__fetch_issuer(o->online, cur, &got[k], url, sizeof(url)) < 0 || !sk_X509_push(more, got[k])) {
			eid_error_clear();
			break;
		}
		cur = got[k];
		if ((rc = eid_pki__validate_chain(o->trust, signer, more, when, &again)) < 0)
			break;
		if (again.sub != EID_SUB_NO_CERTIFICATE_CHAIN_FOUND) {
			eid_sig__warn(s, "the chain was completed with the issuer's certificate fetched from %s", url);
			eid_pki__chain_result_clear(chain);
			*chain = again;
			break;
		}
		eid_pki__chain_result_clear(&again);
	}
	sk_X509_free(more);
	for (k = 0; k < 3; k++)
		X509_free(got[k]);
	return rc;
}

int eid_verify__acceptance(eid_sig_report *s, X509 *signer, STACK_OF(X509) *certs, const EVP_MD *md,
			   const eid_verify_opts *o, time_t when, const eid_tst_result *ts)
{
	eid_chain_result chain;
	X509 *issuer = NULL;
	unsigned int f;
	char *tmp;
	int i, rc;

	if ((rc = eid_pki__validate_chain(o->trust, signer, certs, when, &chain)) < 0)
		return rc;
	if (chain.sub == EID_SUB_NO_CERTIFICATE_CHAIN_FOUND && o->online != NULL &&
	    (rc = fetch_issuers(s, signer, certs, o, when, &chain)) < 0)
		return rc;
	for (i = 0; i < sk_X509_num(chain.chain); i++) {
		tmp = eid_cert__name(X509_get_subject_name(sk_X509_value(chain.chain, i)));
		eid_strlist__add(&s->chain, tmp);
		free(tmp);
	}
	if (chain.indication != EID_TOTAL_PASSED)
		eid_sig__fail(s, chain.indication, chain.sub, "%s", chain.message);
	if (chain.indication == EID_TOTAL_PASSED && sk_X509_num(chain.chain) > 1)
		issuer = sk_X509_value(chain.chain, 1);
	/* the responder's certificate may need the path's CAs, fetched ones included */
	if (o->online != NULL && issuer != NULL)
		rc = revocation(s, signer, issuer, chain.chain, o, ts);
	else
		eid_sig__warn(s, "revocation status not checked: the signature carries no revocation data%s",
			      o->online ? "" : " (--online asks the responder)");
	eid_pki__chain_result_clear(&chain);
	if (rc < 0)
		return rc;

	if (EVP_MD_get_type(md) == NID_md5 || EVP_MD_get_type(md) == NID_sha1)
		eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
			      "%s is no longer acceptable for signatures", EVP_MD_get0_name(md));
	if (s->key_bits > 0 && s->key_bits < 2048 && s->algorithm != NULL && strncmp(s->algorithm, "RSA", 3) == 0)
		eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
			      "an RSA key of %u bits is too weak", s->key_bits);
	f = eid_cert__flags(signer);
	if (!(f & (EID_CERT_NON_REPUDIATION | EID_CERT_DIGITAL_SIGNATURE)))
		eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_SIG_CONSTRAINTS_FAILURE,
			      "the signer's certificate does not allow signatures (keyUsage)");
	else if (!(f & EID_CERT_NON_REPUDIATION))
		eid_sig__warn(s, "the signer's certificate lacks nonRepudiation: it may be an authentication certificate");
	return EID_OK;
}
