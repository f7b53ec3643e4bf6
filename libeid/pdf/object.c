/*
 * PDF objects: constructors, deep copy, release, array and dictionary
 * operations, and the serializer used by the incremental writer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"
#include "pdf.h"

pdf_obj *pdf_obj_new(pdf_type type)
{
	pdf_obj *o = calloc(1, sizeof(*o));

	if (o == NULL) {
		eid_error__set(EID_ENOMEM, "out of memory allocating a PDF object");
		return NULL;
	}
	o->type = type;
	return o;
}

pdf_obj *pdf_int_new(int64_t v)
{
	pdf_obj *o = pdf_obj_new(PDF_INT);

	if (o != NULL)
		o->u.i = v;
	return o;
}

pdf_obj *pdf_real_new(double v)
{
	pdf_obj *o = pdf_obj_new(PDF_REAL);

	if (o != NULL)
		o->u.r = v;
	return o;
}

pdf_obj *pdf_bool_new(int v)
{
	pdf_obj *o = pdf_obj_new(PDF_BOOL);

	if (o != NULL)
		o->u.b = v != 0;
	return o;
}

pdf_obj *pdf_name_new(const char *name)
{
	pdf_obj *o;

	if (name == NULL) {
		eid_error__set(EID_EINVAL, "pdf_name_new: NULL name");
		return NULL;
	}
	o = pdf_obj_new(PDF_NAME);
	if (o == NULL)
		return NULL;
	o->u.name = strdup(name);
	if (o->u.name == NULL) {
		free(o);
		eid_error__set(EID_ENOMEM, "out of memory allocating a PDF name");
		return NULL;
	}
	return o;
}

pdf_obj *pdf_string_new(const void *p, size_t len, int hex)
{
	pdf_obj *o;

	if (p == NULL && len > 0) {
		eid_error__set(EID_EINVAL, "pdf_string_new: NULL data");
		return NULL;
	}
	o = pdf_obj_new(PDF_STRING);
	if (o == NULL)
		return NULL;
	o->u.str.p = malloc(len + 1);
	if (o->u.str.p == NULL) {
		free(o);
		eid_error__set(EID_ENOMEM, "out of memory allocating a PDF string");
		return NULL;
	}
	if (len > 0)
		memcpy(o->u.str.p, p, len);
	o->u.str.p[len] = 0;
	o->u.str.len = len;
	o->u.str.hex = hex != 0;
	return o;
}

pdf_obj *pdf_ref_new(uint32_t num, uint16_t gen)
{
	pdf_obj *o = pdf_obj_new(PDF_REF);

	if (o != NULL) {
		o->u.ref.num = num;
		o->u.ref.gen = gen;
	}
	return o;
}

void pdf_obj_free(pdf_obj *o)
{
	size_t i;

	if (o == NULL)
		return;
	switch (o->type) {
	case PDF_STRING:
		free(o->u.str.p);
		break;
	case PDF_NAME:
		free(o->u.name);
		break;
	case PDF_ARRAY:
		for (i = 0; i < o->u.arr.n; i++)
			pdf_obj_free(o->u.arr.items[i]);
		free(o->u.arr.items);
		break;
	case PDF_DICT:
		for (i = 0; i < o->u.dict.n; i++) {
			free(o->u.dict.keys[i]);
			pdf_obj_free(o->u.dict.vals[i]);
		}
		free(o->u.dict.keys);
		free(o->u.dict.vals);
		break;
	case PDF_STREAM:
		pdf_obj_free(o->u.stream.dict);
		break;
	default:
		break;
	}
	free(o);
}

pdf_obj *pdf_obj_clone(const pdf_obj *o)
{
	pdf_obj *c;
	size_t i, n;

	if (o == NULL) {
		eid_error__set(EID_EINVAL, "pdf_obj_clone: NULL object");
		return NULL;
	}
	switch (o->type) {
	case PDF_STRING:
		return pdf_string_new(o->u.str.p, o->u.str.len, o->u.str.hex);
	case PDF_NAME:
		return pdf_name_new(o->u.name);
	case PDF_ARRAY:
		c = pdf_obj_new(PDF_ARRAY);
		if (c == NULL)
			return NULL;
		n = o->u.arr.n;
		if (n > 0) {
			c->u.arr.items = calloc(n, sizeof(*c->u.arr.items));
			if (c->u.arr.items == NULL)
				goto out_nomem;
		}
		for (i = 0; i < n; i++) {
			c->u.arr.items[i] = pdf_obj_clone(o->u.arr.items[i]);
			if (c->u.arr.items[i] == NULL)
				goto out_free_copy;
			c->u.arr.n = i + 1;
		}
		return c;
	case PDF_DICT:
		c = pdf_obj_new(PDF_DICT);
		if (c == NULL)
			return NULL;
		n = o->u.dict.n;
		if (n > 0) {
			c->u.dict.keys = calloc(n, sizeof(*c->u.dict.keys));
			c->u.dict.vals = calloc(n, sizeof(*c->u.dict.vals));
			if (c->u.dict.keys == NULL || c->u.dict.vals == NULL)
				goto out_nomem;
		}
		for (i = 0; i < n; i++) {
			c->u.dict.keys[i] = strdup(o->u.dict.keys[i]);
			if (c->u.dict.keys[i] == NULL)
				goto out_nomem;
			c->u.dict.n = i + 1;
			c->u.dict.vals[i] = pdf_obj_clone(o->u.dict.vals[i]);
			if (c->u.dict.vals[i] == NULL)
				goto out_free_copy;
		}
		return c;
	case PDF_STREAM:
		c = pdf_obj_new(PDF_STREAM);
		if (c == NULL)
			return NULL;
		c->u = o->u;
		c->u.stream.dict = NULL;
		if (o->u.stream.dict != NULL) {
			c->u.stream.dict = pdf_obj_clone(o->u.stream.dict);
			if (c->u.stream.dict == NULL)
				goto out_free_copy;
		}
		return c;
	default:
		c = pdf_obj_new(o->type);
		if (c != NULL)
			c->u = o->u;
		return c;
	}

out_nomem:
	eid_error__set(EID_ENOMEM, "out of memory copying a PDF object");
out_free_copy:
	pdf_obj_free(c);
	return NULL;
}

int pdf_array_push(pdf_obj *arr, pdf_obj *v)
{
	pdf_obj **items;

	if (arr == NULL || arr->type != PDF_ARRAY || v == NULL) {
		pdf_obj_free(v);
		return eid_error__set(EID_EINVAL, "pdf_array_push: not an array or NULL value");
	}
	items = realloc(arr->u.arr.items, (arr->u.arr.n + 1) * sizeof(*items));
	if (items == NULL) {
		pdf_obj_free(v);
		return eid_error__set(EID_ENOMEM, "out of memory growing a PDF array");
	}
	items[arr->u.arr.n++] = v;
	arr->u.arr.items = items;
	return EID_OK;
}

/* The dictionary of a dictionary or of a stream; NULL otherwise. */
static pdf_obj *dict_of(const pdf_obj *o)
{
	if (o == NULL)
		return NULL;
	if (o->type == PDF_STREAM)
		o = o->u.stream.dict;
	return o != NULL && o->type == PDF_DICT ? (pdf_obj *)o : NULL;
}

static void dict_drop(pdf_obj *d, size_t i)
{
	free(d->u.dict.keys[i]);
	pdf_obj_free(d->u.dict.vals[i]);
	memmove(d->u.dict.keys + i, d->u.dict.keys + i + 1, (d->u.dict.n - i - 1) * sizeof(*d->u.dict.keys));
	memmove(d->u.dict.vals + i, d->u.dict.vals + i + 1, (d->u.dict.n - i - 1) * sizeof(*d->u.dict.vals));
	d->u.dict.n--;
}

/*
 * Parsed dictionaries keep duplicate keys in file order; the last one wins
 * (lookups search from the end), as in the common readers.
 */
int pdf_dict_set(pdf_obj *dict, const char *key, pdf_obj *v)
{
	pdf_obj *d = dict_of(dict);
	char **keys, *k;
	pdf_obj **vals;
	size_t i, n;

	if (d == NULL || key == NULL || v == NULL) {
		pdf_obj_free(v);
		return eid_error__set(EID_EINVAL, "pdf_dict_set: not a dictionary or NULL argument");
	}
	for (i = d->u.dict.n; i-- > 0;) {
		if (strcmp(d->u.dict.keys[i], key) == 0) {
			pdf_obj_free(d->u.dict.vals[i]);
			d->u.dict.vals[i] = v;
			/* Drop older duplicates so that the key is unique again. */
			while (i-- > 0)
				if (strcmp(d->u.dict.keys[i], key) == 0)
					dict_drop(d, i);
			return EID_OK;
		}
	}
	k = strdup(key);
	if (k == NULL)
		goto out_nomem;
	n = d->u.dict.n;
	keys = realloc(d->u.dict.keys, (n + 1) * sizeof(*keys));
	if (keys == NULL)
		goto out_free_key;
	d->u.dict.keys = keys;
	vals = realloc(d->u.dict.vals, (n + 1) * sizeof(*vals));
	if (vals == NULL)
		goto out_free_key;
	d->u.dict.vals = vals;
	keys[n] = k;
	vals[n] = v;
	d->u.dict.n = n + 1;
	return EID_OK;

out_free_key:
	free(k);
out_nomem:
	pdf_obj_free(v);
	return eid_error__set(EID_ENOMEM, "out of memory growing a PDF dictionary");
}

pdf_obj *pdf_dict_get(const pdf_obj *dict, const char *key)
{
	const pdf_obj *d = dict_of(dict);
	size_t i;

	if (d == NULL || key == NULL)
		return NULL;
	for (i = d->u.dict.n; i-- > 0;)
		if (strcmp(d->u.dict.keys[i], key) == 0)
			return d->u.dict.vals[i];
	return NULL;
}

/* Removes every occurrence of @key; EID_OK also when it was absent. */
int pdf_dict_remove(pdf_obj *dict, const char *key)
{
	pdf_obj *d = dict_of(dict);
	size_t i;

	if (d == NULL || key == NULL)
		return eid_error__set(EID_EINVAL, "pdf_dict_remove: not a dictionary or NULL key");
	for (i = d->u.dict.n; i-- > 0;)
		if (strcmp(d->u.dict.keys[i], key) == 0)
			dict_drop(d, i);
	return EID_OK;
}

int pdf_name_is(const pdf_obj *o, const char *name)
{
	return o != NULL && name != NULL && o->type == PDF_NAME && strcmp(o->u.name, name) == 0;
}

/* ---- serializer ---- */

static const char hexdigits[] = "0123456789ABCDEF";

static int write_real(double v, eid_buf *out)
{
	char s[400];
	double back;
	int prec, n;
	char *p;

	if (v != v || v > 1e300 || v < -1e300)
		return eid_error__set(EID_EINVAL, "cannot write a PDF real that is not finite or out of range");
	/* The fewest decimals that read back to the same value, without exponent. */
	for (prec = 0; prec <= 17; prec++) {
		n = snprintf(s, sizeof(s), "%.*f", prec, v);
		if (n < 0 || (size_t)n >= sizeof(s))
			return eid_error__set(EID_EINTERNAL, "formatting a PDF real failed");
		for (p = s; *p; p++)
			if (*p != '-' && (*p < '0' || *p > '9'))
				*p = '.'; /* whatever the locale's decimal point */
		if (pdf_lex__number(s, (size_t)n, &back) == EID_OK && back == v)
			break;
	}
	if (prec > 17)
		prec = 17;
	p = strchr(s, '.');
	if (p != NULL) {
		n = (int)strlen(s);
		while (n > 0 && s[n - 1] == '0')
			s[--n] = 0;
		if (n > 0 && s[n - 1] == '.')
			s[--n] = 0;
	}
	if (strcmp(s, "-0") == 0 || s[0] == 0)
		strcpy(s, "0");
	return eid_buf__puts(out, s);
}

static int write_name(const char *name, eid_buf *out)
{
	const unsigned char *p;
	char esc[3];
	int rc = eid_buf__puts(out, "/");

	for (p = (const unsigned char *)name; rc == EID_OK && *p; p++) {
		if (*p < 0x21 || *p > 0x7e || *p == '#' || pdf_lex__is_delim(*p)) {
			esc[0] = '#';
			esc[1] = hexdigits[*p >> 4];
			esc[2] = hexdigits[*p & 15];
			rc = eid_buf__append(out, esc, 3);
		} else {
			rc = eid_buf__append(out, p, 1);
		}
	}
	return rc;
}

static int write_string(const pdf_obj *o, eid_buf *out)
{
	const unsigned char *p = o->u.str.p;
	size_t i, run;
	char esc[5];
	int rc;

	if (o->u.str.hex) {
		rc = eid_buf__reserve(out, o->u.str.len * 2 + 2);
		if (rc < 0)
			return rc;
		out->data[out->len++] = '<';
		for (i = 0; i < o->u.str.len; i++) {
			out->data[out->len++] = (unsigned char)hexdigits[p[i] >> 4];
			out->data[out->len++] = (unsigned char)hexdigits[p[i] & 15];
		}
		out->data[out->len++] = '>';
		out->data[out->len] = 0;
		return EID_OK;
	}
	rc = eid_buf__puts(out, "(");
	for (i = 0; rc == EID_OK && i < o->u.str.len; i += run) {
		/* Copy runs of plain printable bytes at once. */
		for (run = 0; i + run < o->u.str.len; run++) {
			unsigned char c = p[i + run];

			if (c < 0x20 || c > 0x7e || c == '(' || c == ')' || c == '\\')
				break;
		}
		if (run > 0) {
			rc = eid_buf__append(out, p + i, run);
			continue;
		}
		run = 1;
		if (p[i] == '(' || p[i] == ')' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			rc = eid_buf__append(out, esc, 2);
		} else {
			esc[0] = '\\';
			esc[1] = (char)('0' + (p[i] >> 6));
			esc[2] = (char)('0' + ((p[i] >> 3) & 7));
			esc[3] = (char)('0' + (p[i] & 7));
			rc = eid_buf__append(out, esc, 4);
		}
	}
	return rc == EID_OK ? eid_buf__puts(out, ")") : rc;
}

static int write_obj(const pdf_obj *o, eid_buf *out, int depth)
{
	size_t i;
	int rc = EID_OK;

	if (o == NULL)
		return eid_error__set(EID_EINVAL, "pdf_obj_write: NULL object");
	switch (o->type) {
	case PDF_NULL:
		return eid_buf__puts(out, "null");
	case PDF_BOOL:
		return eid_buf__puts(out, o->u.b ? "true" : "false");
	case PDF_INT:
		return eid_buf__printf(out, "%lld", (long long)o->u.i);
	case PDF_REAL:
		return write_real(o->u.r, out);
	case PDF_STRING:
		return write_string(o, out);
	case PDF_NAME:
		return write_name(o->u.name, out);
	case PDF_REF:
		return eid_buf__printf(out, "%u %u R", (unsigned)o->u.ref.num, (unsigned)o->u.ref.gen);
	case PDF_ARRAY:
		if (depth >= PDF_MAX_DEPTH)
			return eid_error__set(EID_ETOOBIG, "PDF object nested deeper than %d levels", PDF_MAX_DEPTH);
		rc = eid_buf__puts(out, "[");
		for (i = 0; rc == EID_OK && i < o->u.arr.n; i++) {
			if (i > 0)
				rc = eid_buf__puts(out, " ");
			if (rc == EID_OK)
				rc = write_obj(o->u.arr.items[i], out, depth + 1);
		}
		return rc == EID_OK ? eid_buf__puts(out, "]") : rc;
	case PDF_DICT:
		if (depth >= PDF_MAX_DEPTH)
			return eid_error__set(EID_ETOOBIG, "PDF object nested deeper than %d levels", PDF_MAX_DEPTH);
		rc = eid_buf__puts(out, "<<");
		for (i = 0; rc == EID_OK && i < o->u.dict.n; i++) {
			rc = eid_buf__puts(out, " ");
			if (rc == EID_OK)
				rc = write_name(o->u.dict.keys[i], out);
			if (rc == EID_OK)
				rc = eid_buf__puts(out, " ");
			if (rc == EID_OK)
				rc = write_obj(o->u.dict.vals[i], out, depth + 1);
		}
		return rc == EID_OK ? eid_buf__puts(out, " >>") : rc;
	case PDF_STREAM:
		return eid_error__set(EID_EINVAL, "pdf_obj_write: streams cannot be serialized");
	}
	return eid_error__set(EID_EINVAL, "pdf_obj_write: unknown object type %d", (int)o->type);
}

int pdf_obj_write(const pdf_obj *o, eid_buf *out)
{
	size_t len0;
	int rc;

	if (out == NULL)
		return eid_error__set(EID_EINVAL, "pdf_obj_write: NULL buffer");
	len0 = out->len;
	rc = write_obj(o, out, 0);
	if (rc < 0 && out->data != NULL) {
		/* Leave the buffer as it was. */
		out->len = len0;
		out->data[len0] = 0;
	}
	return rc;
}
