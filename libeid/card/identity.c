/* The one identity structure every profile fills, and its JSON form. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../pki/pki.h"
#include "card.h"

static const char *const field_names[EID_ID_FIELD_COUNT] = {
	"surname", "given_names", "nationality", "birth_date", "birth_place", "sex", "personal_code",
	"document_number", "document_type", "valid_from", "valid_until", "issuing_place",
	"address_street", "address_zip", "address_municipality",
};

eid_identity *eid_identity__new(const char *profile)
{
	eid_identity *id = calloc(1, sizeof(*id));

	if (id != NULL) {
		id->profile = profile;
		id->signer_trusted = -1;
	}
	return id;
}

/* Well-formed UTF-8 without control characters. */
static int utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0, k, more;

	while (i < n) {
		unsigned char b = p[i];

		if (b < 0x20 || b == 0x7f)
			return 0;
		if (b < 0x80)
			more = 0;
		else if (b >= 0xc2 && b <= 0xdf)
			more = 1;
		else if ((b & 0xf0) == 0xe0)
			more = 2;
		else if (b >= 0xf0 && b <= 0xf4)
			more = 3;
		else
			return 0;
		if (more > n - i - 1)
			return 0;
		for (k = 1; k <= more; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		i += more + 1;
	}
	return 1;
}

int eid_identity__set(eid_identity *id, eid_identity_field f, const void *p, size_t len)
{
	const unsigned char *s = p;
	char *v;

	if ((unsigned)f >= EID_ID_FIELD_COUNT)
		return eid_error__set(EID_EINTERNAL, "identity field %d", (int)f);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\0'))
		len--;
	while (len > 0 && s[0] == ' ') {
		s++;
		len--;
	}
	if (len == 0)
		return EID_OK;
	if (!utf8_ok(s, len))
		return eid_error__set(EID_EFORMAT, "the %s on the card is not UTF-8 text", field_names[f]);
	if ((v = malloc(len + 1)) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	memcpy(v, s, len);
	v[len] = '\0';
	free(id->field[f]);
	id->field[f] = v;
	return EID_OK;
}

void eid_identity__fail(eid_identity *id, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	id->integrity = EID_INTEGRITY_FAILED;
	if (id->reason != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	id->reason = eid__strdup(buf);
}

EID_EXTERN void eid_identity_free(eid_identity *id)
{
	size_t i;

	if (id == NULL)
		return;
	for (i = 0; i < EID_ID_FIELD_COUNT; i++)
		free(id->field[i]);
	free(id->photo);
	free(id->reason);
	free(id->signer);
	free(id->root);
	free(id);
}

EID_EXTERN const char *eid_identity_get(const eid_identity *id, eid_identity_field f)
{
	return id != NULL && (unsigned)f < EID_ID_FIELD_COUNT ? id->field[f] : NULL;
}

EID_EXTERN const char *eid_identity_field_name(eid_identity_field f)
{
	return (unsigned)f < EID_ID_FIELD_COUNT ? field_names[f] : NULL;
}

EID_EXTERN int eid_identity_photo(const eid_identity *id, const unsigned char **jpeg, size_t *len)
{
	if (id == NULL || jpeg == NULL || len == NULL)
		return eid_error__set(EID_EINVAL, "eid_identity_photo: NULL argument");
	if (id->photo == NULL)
		return eid_error__set(EID_ENOTFOUND, "the card holds no photo");
	*jpeg = id->photo;
	*len = id->photo_len;
	return EID_OK;
}

EID_EXTERN eid_integrity eid_identity_integrity(const eid_identity *id, const char **reason)
{
	if (reason != NULL)
		*reason = id ? id->reason : NULL;
	return id ? id->integrity : EID_INTEGRITY_NONE;
}

EID_EXTERN int eid_identity_check_signer(eid_identity *id, const eid_trust *trust)
{
	const unsigned char *p;
	X509 *signer = NULL, *root = NULL;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	eid_chain_result res;
	int rc;

	if (id == NULL || trust == NULL || untrusted == NULL) {
		sk_X509_free(untrusted);
		return eid_error__set(EID_EINVAL, "eid_identity_check_signer: NULL argument");
	}
	if (id->signer == NULL) {
		sk_X509_free(untrusted);
		return EID_OK;
	}
	p = id->signer;
	signer = d2i_X509(NULL, &p, (long)id->signer_len);
	if (id->root != NULL) {
		p = id->root;
		root = d2i_X509(NULL, &p, (long)id->root_len);
		if (root != NULL)
			sk_X509_push(untrusted, root); /* a candidate only: trusted when it is one of the anchors */
	}
	if (signer == NULL) {
		eid_identity__fail(id, "the identity signer's certificate cannot be read");
		id->signer_trusted = 0;
		rc = EID_OK;
	} else if ((rc = eid_pki__validate_chain(trust, signer, untrusted, time(NULL), &res)) == EID_OK) {
		id->signer_trusted = res.indication == EID_TOTAL_PASSED;
		if (!id->signer_trusted)
			eid_identity__fail(id, "the identity signer does not chain to a trusted root: %s", res.message);
		eid_pki__chain_result_clear(&res);
	}
	X509_free(signer);
	sk_X509_pop_free(untrusted, X509_free);
	return rc;
}

EID_EXTERN int eid_identity_to_json(const eid_identity *id, eid_buf *out)
{
	static const char *const verdicts[] = { "none", "valid", "failed" };
	json_object *o, *integ;
	const char *s;
	size_t i;
	int rc = EID_OK;

	if (id == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "eid_identity_to_json: NULL argument");
	if ((o = json_object_new_object()) == NULL || (integ = json_object_new_object()) == NULL) {
		json_object_put(o);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	json_object_object_add(o, "profile", json_object_new_string(id->profile ? id->profile : ""));
	for (i = 0; i < EID_ID_FIELD_COUNT; i++)
		if (id->field[i] != NULL)
			json_object_object_add(o, field_names[i], json_object_new_string(id->field[i]));
	json_object_object_add(o, "photo_bytes", json_object_new_int64((int64_t)id->photo_len));
	json_object_object_add(integ, "verdict", json_object_new_string(verdicts[id->integrity]));
	if (id->reason != NULL)
		json_object_object_add(integ, "reason", json_object_new_string(id->reason));
	if (id->signer != NULL)
		json_object_object_add(integ, "signer_trusted",
				       id->signer_trusted < 0 ? NULL : json_object_new_boolean(id->signer_trusted));
	json_object_object_add(o, "integrity", integ);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL)
		rc = eid_error__set(EID_ENOMEM, NULL);
	else
		rc = eid_buf_set(out, s, strlen(s) + 1);
	if (rc == EID_OK)
		out->len--; /* NUL-terminated, not counted */
	json_object_put(o);
	return rc;
}
