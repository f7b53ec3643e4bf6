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

/* The earliest time a timestamp that holds proves the signature existed at, or -1. */
static int64_t earliest_poe(const eid_evidence *ev)
{
	int64_t poe = -1;

	if (ev != NULL && ev->ts != NULL && ev->ts->ok)
		poe = ev->ts->gen_time;
	if (ev != NULL && ev->archive != NULL && ev->archive->ok && (poe < 0 || ev->archive->gen_time < poe))
		poe = ev->archive->gen_time;
	return poe;
}

/*
 * One certificate's status: from the data the signature carries, else from
 * its OCSP responder, else its CRL (with --online).  EID_ENOTFOUND when none
 * answers; @why says why.
 */
static int status_of(eid_sig_report *s, X509 *cert, X509 *issuer, STACK_OF(X509) *path, const eid_verify_opts *o,
		     const eid_vdata *vd, int64_t not_before, eid_ocsp_result *r, char *why, size_t why_size)
{
	STACK_OF(X509) *pool;
	char first[400];
	int i, rc;

	why[0] = '\0';
	if (vd != NULL && (rc = eid_vdata__status(vd, cert, issuer, o->trust, not_before, r, why, why_size)) != EID_ENOTFOUND)
		return rc;
	if (o->online == NULL) {
		if (why[0] == '\0')
			snprintf(why, why_size, "the signature carries no revocation data for it (--online asks its responder)");
		return EID_ENOTFOUND;
	}
	if ((pool = eid_pki__intermediates(o->trust)) == NULL && (pool = sk_X509_new_null()) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	for (i = 0; i < sk_X509_num(path); i++)
		if (X509_up_ref(sk_X509_value(path, i)) && !sk_X509_push(pool, sk_X509_value(path, i)))
			X509_free(sk_X509_value(path, i));
	rc = eid_online__ocsp(o->online, cert, issuer, eid_pki__store(o->trust), pool, r, NULL);
	sk_X509_pop_free(pool, X509_free);
	if (rc != EID_OK && rc != EID_ENOMEM && rc != EID_EINTERNAL) {
		snprintf(first, sizeof(first), "%s", eid_error_last()->message);
		eid_error_clear();
		rc = eid_online__crl(o->online, cert, issuer, r, NULL);
		if (rc == EID_OK) {
			eid_sig__warn(s, "no OCSP answer (%s): the status comes from the issuer's CRL", first);
			snprintf(r->url, sizeof(r->url), "CRL");
		} else if (rc != EID_ENOMEM) {
			snprintf(why, why_size, "%s; %s", first, eid_error_last()->message);
			eid_error_clear();
			return EID_ENOTFOUND;
		}
	} else if (rc == EID_OK) {
		snprintf(r->url, sizeof(r->url), "OCSP");
	}
	return rc;
}

/*
 * The revocation status of each certificate of the path below its anchor,
 * judged against the proof of existence (the earliest signature or archive
 * timestamp that holds): revoked after a timestamp that
 * holds, the signature stands; revoked before it, TOTAL-FAILED/REVOKED;
 * revoked with no proof, INDETERMINATE/REVOKED_NO_POE; no status,
 * INDETERMINATE/TRY_LATER.  A certificate that names no status source is
 * taken as it is, with a warning.
 */
static int revocation(eid_sig_report *s, STACK_OF(X509) *path, const eid_verify_opts *o, const eid_evidence *ev,
		      time_t when)
{
	const eid_vdata *vd = ev ? ev->vd : NULL;
	int64_t poe = earliest_poe(ev), not_before = poe >= 0 ? poe : (int64_t)when;
	char at[32], then[32], line[700], why[600], *name;
	int i, rc;

	for (i = 0; i + 1 < sk_X509_num(path); i++) {
		X509 *cert = sk_X509_value(path, i);
		eid_ocsp_result r;

		name = eid_cert__name(X509_get_subject_name(cert));
		if (name == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		if (eid_pki__no_check(cert)) {
			free(name);
			continue;
		}
		if (!eid_pki__names_revocation(cert)) {
			eid_sig__warn(s, "'%s' names no OCSP responder or CRL: its revocation status cannot be checked", name);
			free(name);
			continue;
		}
		rc = status_of(s, cert, sk_X509_value(path, i + 1), path, o, vd, not_before, &r, why, sizeof(why));
		if (rc == EID_ENOTFOUND) {
			eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_TRY_LATER, "the revocation status of '%s' is not known: %s",
				      name, why);
			free(name);
			continue;
		}
		if (rc < 0) {
			free(name);
			return rc;
		}
		eid_report__iso_time(r.this_update, at, sizeof(at));
		if (r.status == V_OCSP_CERTSTATUS_GOOD) {
			snprintf(line, sizeof(line), "good (%s by %s, %s)", r.url, r.responder, at);
		} else if (r.status != V_OCSP_CERTSTATUS_REVOKED) {
			snprintf(line, sizeof(line), "unknown (%s by %s, %s)", r.url, r.responder, at);
			eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_TRY_LATER, "the OCSP responder does not know '%s'", name);
		} else {
			eid_report__iso_time(r.revoked_at, at, sizeof(at));
			snprintf(line, sizeof(line), "revoked at %s%s%s (%s by %s)", at, r.reason >= 0 ? ", " : "",
				 r.reason >= 0 ? OCSP_crl_reason_str(r.reason) : "", r.url, r.responder);
			if (poe >= 0 && r.revoked_at > poe) {
				eid_report__iso_time(poe, then, sizeof(then));
				eid_sig__warn(s, "'%s' was revoked at %s, after the timestamp proved the signature existed (%s)",
					      name, at, then);
			} else if (poe >= 0) {
				eid_report__iso_time(poe, then, sizeof(then));
				eid_sig__fail(s, EID_TOTAL_FAILED, EID_SUB_REVOKED, "'%s' was revoked at %s, before the "
					      "signature's timestamp (%s)", name, at, then);
			} else {
				eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_REVOKED_NO_POE, "'%s' was revoked at %s, and nothing "
					      "proves the signature existed before", name, at);
			}
		}
		/* the report's line is the signer's */
		if (i == 0)
			eid_sig__set(&s->revocation, line);
		free(name);
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

/*
 * The signature's digest and key against the algorithm policy: past its
 * sunset date, the signature needs a proof that it existed before
 * (CRYPTO_CONSTRAINTS_FAILURE_NO_POE without one).
 */
static int crypto_constraints(eid_sig_report *s, const EVP_MD *md, const eid_verify_opts *o, const eid_evidence *ev)
{
	int64_t now = o->validation_time ? o->validation_time : (int64_t)time(NULL), until, poe;
	char what[96], d1[32], d2[32];
	int rc;

	if ((rc = eid_verify__crypto_sunset(o, md, s->algorithm, s->key_bits, &until, what, sizeof(what))) < 0)
		return rc;
	if (until < 0 || now < until)
		return EID_OK;
	eid_report__iso_time(until, d1, sizeof(d1));
	poe = earliest_poe(ev);
	if (poe >= 0 && poe < until) {
		eid_report__iso_time(poe, d2, sizeof(d2));
		eid_sig__warn(s, "%s is no longer acceptable since %s, but a timestamp proves the signature existed at %s",
			      what, d1, d2);
		return EID_OK;
	}
	eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
		      "%s is no longer acceptable for signatures (since %s), and nothing proves the signature existed "
		      "before", what, d1);
	return EID_OK;
}

int eid_verify__acceptance(eid_sig_report *s, X509 *signer, STACK_OF(X509) *certs, const EVP_MD *md,
			   const eid_verify_opts *o, time_t when, const eid_evidence *ev)
{
	if (ev != NULL && ev->archive != NULL && ev->archive->ok) {
		s->archive_time = ev->archive->gen_time;
		eid_sig__set(&s->archive_tsa, ev->archive->tsa);
	}
	eid_chain_result chain;
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
	/* the responder's certificate may need the path's CAs, fetched ones included */
	if (chain.indication == EID_TOTAL_PASSED)
		rc = revocation(s, chain.chain, o, ev, when);
	eid_pki__chain_result_clear(&chain);
	if (rc < 0)
		return rc;

	if ((rc = crypto_constraints(s, md, o, ev)) < 0)
		return rc;
	f = eid_cert__flags(signer);
	if (!(f & (EID_CERT_NON_REPUDIATION | EID_CERT_DIGITAL_SIGNATURE)))
		eid_sig__fail(s, EID_INDETERMINATE, EID_SUB_SIG_CONSTRAINTS_FAILURE,
			      "the signer's certificate does not allow signatures (keyUsage)");
	else if (!(f & EID_CERT_NON_REPUDIATION))
		eid_sig__warn(s, "the signer's certificate lacks nonRepudiation: it may be an authentication certificate");
	return EID_OK;
}
