/* The validation report: model, accessors, text and JSON. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "report.h"

static const char *const indication_names[] = { NULL, "TOTAL-PASSED", "INDETERMINATE", "TOTAL-FAILED" };

static const char *const sub_names[] = {
	"", "FORMAT_FAILURE", "HASH_FAILURE", "SIG_CRYPTO_FAILURE", "REVOKED", "SIG_CONSTRAINTS_FAILURE",
	"CHAIN_CONSTRAINTS_FAILURE", "CERTIFICATE_CHAIN_GENERAL_FAILURE", "CRYPTO_CONSTRAINTS_FAILURE",
	"EXPIRED", "NOT_YET_VALID", "POLICY_PROCESSING_ERROR", "SIGNATURE_POLICY_NOT_AVAILABLE",
	"TIMESTAMP_ORDER_FAILURE", "NO_SIGNING_CERTIFICATE_FOUND", "NO_CERTIFICATE_CHAIN_FOUND",
	"REVOKED_NO_POE", "REVOKED_CA_NO_POE", "OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED",
	"REVOCATION_OUT_OF_BOUNDS_NO_POE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE", "NO_POE", "TRY_LATER",
	"SIGNED_DATA_NOT_FOUND", "UNKNOWN_COMMITMENT_TYPE",
};

EID_EXTERN const char *eid_indication_name(eid_indication ind)
{
	return (unsigned)ind < EID_ARRAY_SIZE(indication_names) ? indication_names[ind] : NULL;
}

EID_EXTERN const char *eid_subindication_name(eid_subindication sub)
{
	return (unsigned)sub < EID_ARRAY_SIZE(sub_names) ? sub_names[sub] : NULL;
}

int eid_strlist__add(eid_strlist *l, const char *s)
{
	char **items = realloc(l->items, (l->n + 1) * sizeof(*items));

	if (items == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	l->items = items;
	if ((l->items[l->n] = strdup(s ? s : "")) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	l->n++;
	return EID_OK;
}

static void strlist_clear(eid_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

int eid_report__new(eid_report **out, const char *file, int64_t validation_time)
{
	eid_report *r = calloc(1, sizeof(*r));

	if (r == NULL || (file != NULL && (r->file = strdup(file)) == NULL)) {
		free(r);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	r->validation_time = validation_time;
	*out = r;
	return EID_OK;
}

int eid_report__add(eid_report *r, eid_sig_report **out)
{
	eid_sig_report **sigs = realloc(r->sigs, (r->n + 1) * sizeof(*sigs));
	eid_sig_report *s;

	if (sigs == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	r->sigs = sigs;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	s->indication = EID_TOTAL_PASSED;
	s->claimed_time = -1;
	s->ts_time = -1;
	s->archive_time = -1;
	r->sigs[r->n++] = s;
	*out = s;
	return EID_OK;
}

int eid_sig__set(char **field, const char *value)
{
	free(*field);
	*field = NULL;
	if (value != NULL && (*field = strdup(value)) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	return EID_OK;
}

int eid_sig__warn(eid_sig_report *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return eid_strlist__add(&s->warnings, line);
}

int eid_sig__fail(eid_sig_report *s, eid_indication ind, eid_subindication sub, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (s->indication == EID_TOTAL_PASSED) {
		s->indication = ind;
		s->sub = sub;
	}
	return eid_strlist__add(&s->errors, line);
}

static void sig_free(eid_sig_report *s)
{
	if (s == NULL)
		return;
	free(s->format);
	free(s->level);
	free(s->signer_name);
	free(s->signer_subject);
	free(s->signer_issuer);
	free(s->signer_serial);
	free(s->hash);
	free(s->algorithm);
	free(s->field);
	free(s->policy);
	free(s->role);
	free(s->ts_tsa);
	free(s->archive_tsa);
	free(s->revocation);
	strlist_clear(&s->chain);
	strlist_clear(&s->signed_data);
	strlist_clear(&s->warnings);
	strlist_clear(&s->errors);
	free(s);
}

EID_EXTERN void eid_report_free(eid_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		sig_free(r->sigs[i]);
	free(r->sigs);
	free(r->file);
	free(r);
}

EID_EXTERN eid_indication eid_report_indication(const eid_report *r)
{
	eid_indication worst = EID_TOTAL_PASSED;
	size_t i;

	if (r == NULL || r->n == 0)
		return EID_TOTAL_FAILED;
	for (i = 0; i < r->n; i++)
		if (r->sigs[i]->indication > worst)
			worst = r->sigs[i]->indication;
	return worst;
}

EID_EXTERN const char *eid_report_file(const eid_report *r) { return r ? r->file : NULL; }
EID_EXTERN size_t eid_report_signature_count(const eid_report *r) { return r ? r->n : 0; }

EID_EXTERN const eid_sig_report *eid_report_signature(const eid_report *r, size_t i)
{
	return r != NULL && i < r->n ? r->sigs[i] : NULL;
}

EID_EXTERN eid_indication eid_sig_report_indication(const eid_sig_report *s) { return s ? s->indication : EID_TOTAL_FAILED; }
EID_EXTERN eid_subindication eid_sig_report_subindication(const eid_sig_report *s) { return s ? s->sub : EID_SUB_NONE; }
EID_EXTERN const char *eid_sig_report_format(const eid_sig_report *s) { return s ? s->format : NULL; }
EID_EXTERN const char *eid_sig_report_level(const eid_sig_report *s) { return s ? s->level : NULL; }
EID_EXTERN const char *eid_sig_report_signer_name(const eid_sig_report *s) { return s ? s->signer_name : NULL; }
EID_EXTERN const char *eid_sig_report_signer_subject(const eid_sig_report *s) { return s ? s->signer_subject : NULL; }
EID_EXTERN const char *eid_sig_report_signer_issuer(const eid_sig_report *s) { return s ? s->signer_issuer : NULL; }
EID_EXTERN const char *eid_sig_report_signer_serial(const eid_sig_report *s) { return s ? s->signer_serial : NULL; }
EID_EXTERN const char *eid_sig_report_hash(const eid_sig_report *s) { return s ? s->hash : NULL; }
EID_EXTERN const char *eid_sig_report_algorithm(const eid_sig_report *s) { return s ? s->algorithm : NULL; }
EID_EXTERN int64_t eid_sig_report_claimed_time(const eid_sig_report *s) { return s ? s->claimed_time : -1; }
EID_EXTERN const char *eid_sig_report_field(const eid_sig_report *s) { return s ? s->field : NULL; }
EID_EXTERN const char *eid_sig_report_policy(const eid_sig_report *s) { return s ? s->policy : NULL; }
EID_EXTERN const char *eid_sig_report_role(const eid_sig_report *s) { return s ? s->role : NULL; }
EID_EXTERN int64_t eid_sig_report_timestamp(const eid_sig_report *s, const char **tsa)
{
	if (tsa != NULL)
		*tsa = s ? s->ts_tsa : NULL;
	return s ? s->ts_time : -1;
}
EID_EXTERN int64_t eid_sig_report_archive_timestamp(const eid_sig_report *s, const char **tsa)
{
	if (tsa != NULL)
		*tsa = s ? s->archive_tsa : NULL;
	return s ? s->archive_time : -1;
}
EID_EXTERN size_t eid_sig_report_signed_data_count(const eid_sig_report *s) { return s ? s->signed_data.n : 0; }
EID_EXTERN const char *eid_sig_report_signed_data(const eid_sig_report *s, size_t i)
{
	return s && i < s->signed_data.n ? s->signed_data.items[i] : NULL;
}
EID_EXTERN int eid_sig_report_certification(const eid_sig_report *s) { return s ? s->certification : 0; }
EID_EXTERN size_t eid_sig_report_chain_count(const eid_sig_report *s) { return s ? s->chain.n : 0; }
EID_EXTERN size_t eid_sig_report_warning_count(const eid_sig_report *s) { return s ? s->warnings.n : 0; }
EID_EXTERN size_t eid_sig_report_error_count(const eid_sig_report *s) { return s ? s->errors.n : 0; }

EID_EXTERN const char *eid_sig_report_chain_subject(const eid_sig_report *s, size_t i)
{
	return s != NULL && i < s->chain.n ? s->chain.items[i] : NULL;
}

EID_EXTERN const char *eid_sig_report_warning(const eid_sig_report *s, size_t i)
{
	return s != NULL && i < s->warnings.n ? s->warnings.items[i] : NULL;
}

EID_EXTERN const char *eid_sig_report_error(const eid_sig_report *s, size_t i)
{
	return s != NULL && i < s->errors.n ? s->errors.items[i] : NULL;
}

/* What a certification permits after it (ISO 32000-2, 12.8.2.2). */
const char *eid_report__docmdp_words(int p)
{
	return p == 1 ? "no change" : p == 2 ? "form filling and signing" : "form filling, signing and annotations";
}

void eid_report__iso_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, size, "(none)");
	else
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

EID_EXTERN int eid_report_to_text(const eid_report *r, eid_buf *out)
{
	char when[32];
	size_t i, j;
	int rc = EID_OK;

	if (r == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "eid_report_to_text: NULL argument");
	out->len = 0;
	eid_report__iso_time(r->validation_time, when, sizeof(when));
	rc = eid_buf__printf(out, "File:            %s\nValidation time: %s\nSignatures:      %zu\n",
			     or_dash(r->file), when, r->n);
	for (i = 0; i < r->n && rc == EID_OK; i++) {
		const eid_sig_report *s = r->sigs[i];

		eid_report__iso_time(s->claimed_time, when, sizeof(when));
		rc = eid_buf__printf(out,
				     "\nSignature %zu (%s%s%s)\n"
				     "  Indication:    %s%s%s\n"
				     "  Signed by:     %s\n"
				     "  Subject:       %s\n"
				     "  Issuer:        %s\n"
				     "  Serial:        %s\n"
				     "  Claimed time:  %s\n"
				     "  Algorithm:     %s with %s (%u bits)\n",
				     i + 1, or_dash(s->format), s->level ? ", " : "", s->level ? s->level : "",
				     eid_indication_name(s->indication), s->sub ? " / " : "", eid_subindication_name(s->sub),
				     or_dash(s->signer_name), or_dash(s->signer_subject), or_dash(s->signer_issuer),
				     or_dash(s->signer_serial), when, or_dash(s->algorithm), or_dash(s->hash), s->key_bits);
		if (rc == EID_OK && s->field != NULL)
			rc = eid_buf__printf(out, "  Field:         %s\n", s->field);
		if (rc == EID_OK && s->ts_time >= 0) {
			char ts[32];

			eid_report__iso_time(s->ts_time, ts, sizeof(ts));
			rc = eid_buf__printf(out, "  Timestamp:     %s by %s (the signature existed then)\n", ts, or_dash(s->ts_tsa));
		}
		if (rc == EID_OK && s->archive_time >= 0) {
			char ts[32];

			eid_report__iso_time(s->archive_time, ts, sizeof(ts));
			rc = eid_buf__printf(out, "  Archived:      %s by %s (the signature and its validation data existed "
					     "then)\n", ts, or_dash(s->archive_tsa));
		}
		if (rc == EID_OK && s->revocation != NULL)
			rc = eid_buf__printf(out, "  Revocation:    %s\n", s->revocation);
		if (rc == EID_OK && s->role != NULL)
			rc = eid_buf__printf(out, "  Role:          %s (claimed by the signer)\n", s->role);
		if (rc == EID_OK && s->policy != NULL)
			rc = eid_buf__printf(out, "  Policy:        %s\n", s->policy);
		if (rc == EID_OK && s->certification > 0)
			rc = eid_buf__printf(out, "  Certifies:     the document; permits after it %s (DocMDP P=%d)\n",
					     eid_report__docmdp_words(s->certification), s->certification);
		for (j = 0; j < s->signed_data.n && rc == EID_OK; j++)
			rc = eid_buf__printf(out, "  %s %s\n", j == 0 ? "Signed data:  " : "              ",
					     s->signed_data.items[j]);
		for (j = 0; j < s->chain.n && rc == EID_OK; j++)
			rc = eid_buf__printf(out, "  %s %s\n", j == 0 ? "Chain:        " : "              ",
					     s->chain.items[j]);
		for (j = 0; j < s->errors.n && rc == EID_OK; j++)
			rc = eid_buf__printf(out, "  Failure:       %s\n", s->errors.items[j]);
		for (j = 0; j < s->warnings.n && rc == EID_OK; j++)
			rc = eid_buf__printf(out, "  Warning:       %s\n", s->warnings.items[j]);
	}
	if (rc == EID_OK)
		rc = eid_buf__printf(out, "\nResult: %s\n", eid_indication_name(eid_report_indication(r)));
	return rc;
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : json_object_new_null();
}

static json_object *jlist(const eid_strlist *l)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; a != NULL && i < l->n; i++)
		json_object_array_add(a, json_object_new_string(l->items[i]));
	return a;
}

EID_EXTERN int eid_report_to_json(const eid_report *r, eid_buf *out)
{
	json_object *root, *sigs;
	const char *text;
	char when[32];
	size_t i;
	int rc;

	if (r == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "eid_report_to_json: NULL argument");
	root = json_object_new_object();
	sigs = json_object_new_array();
	if (root == NULL || sigs == NULL) {
		json_object_put(root);
		json_object_put(sigs);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	eid_report__iso_time(r->validation_time, when, sizeof(when));
	json_object_object_add(root, "file", jstr(r->file));
	json_object_object_add(root, "validationTime", jstr(when));
	json_object_object_add(root, "indication", jstr(eid_indication_name(eid_report_indication(r))));
	json_object_object_add(root, "validator", jstr("libeid " EID_VERSION_STRING));
	for (i = 0; i < r->n; i++) {
		const eid_sig_report *s = r->sigs[i];
		json_object *js = json_object_new_object(), *signer = json_object_new_object();

		json_object_object_add(js, "format", jstr(s->format));
		json_object_object_add(js, "level", jstr(s->level));
		json_object_object_add(js, "indication", jstr(eid_indication_name(s->indication)));
		json_object_object_add(js, "subIndication", s->sub ? jstr(eid_subindication_name(s->sub)) : NULL);
		json_object_object_add(signer, "name", jstr(s->signer_name));
		json_object_object_add(signer, "subject", jstr(s->signer_subject));
		json_object_object_add(signer, "issuer", jstr(s->signer_issuer));
		json_object_object_add(signer, "serialNumber", jstr(s->signer_serial));
		json_object_object_add(js, "signer", signer);
		if (s->claimed_time >= 0) {
			eid_report__iso_time(s->claimed_time, when, sizeof(when));
			json_object_object_add(js, "claimedSigningTime", jstr(when));
		} else {
			json_object_object_add(js, "claimedSigningTime", NULL);
		}
		if (s->field != NULL)
			json_object_object_add(js, "field", jstr(s->field));
		if (s->certification > 0)
			json_object_object_add(js, "certification", json_object_new_int(s->certification));
		if (s->role != NULL)
			json_object_object_add(js, "claimedRole", jstr(s->role));
		if (s->revocation != NULL)
			json_object_object_add(js, "revocation", jstr(s->revocation));
		if (s->ts_time >= 0) {
			json_object *ts = json_object_new_object();

			eid_report__iso_time(s->ts_time, when, sizeof(when));
			json_object_object_add(ts, "time", jstr(when));
			json_object_object_add(ts, "tsa", jstr(s->ts_tsa));
			json_object_object_add(js, "signatureTimestamp", ts);
		}
		if (s->archive_time >= 0) {
			json_object *ts = json_object_new_object();

			eid_report__iso_time(s->archive_time, when, sizeof(when));
			json_object_object_add(ts, "time", jstr(when));
			json_object_object_add(ts, "tsa", jstr(s->archive_tsa));
			json_object_object_add(js, "archiveTimestamp", ts);
		}
		if (s->policy != NULL)
			json_object_object_add(js, "signaturePolicy", jstr(s->policy));
		json_object_object_add(js, "digestAlgorithm", jstr(s->hash));
		json_object_object_add(js, "signatureAlgorithm", jstr(s->algorithm));
		json_object_object_add(js, "keyBits", json_object_new_int((int)s->key_bits));
		if (s->signed_data.n > 0)
			json_object_object_add(js, "signedData", jlist(&s->signed_data));
		json_object_object_add(js, "certificateChain", jlist(&s->chain));
		json_object_object_add(js, "errors", jlist(&s->errors));
		json_object_object_add(js, "warnings", jlist(&s->warnings));
		json_object_array_add(sigs, js);
	}
	json_object_object_add(root, "signatures", sigs);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = text ? eid_buf_set(out, text, strlen(text)) : eid_error__set(EID_ENOMEM, NULL);
	if (rc == EID_OK)
		rc = eid_buf__append(out, "\n", 1);
	json_object_put(root);
	return rc;
}
