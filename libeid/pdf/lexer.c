/*
 * PDF tokenizer and object parser over a memory buffer (ISO 32000-1 7.2, 7.3).
 * The buffer may be a window of the file (pdf_lex.partial): running into its
 * end then sets need_more so that the reader retries with a larger window.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lexer.h"
#include "pdf.h"

int pdf_lex__is_ws(int c)
{
	return c == 0 || c == 9 || c == 10 || c == 12 || c == 13 || c == 32;
}

int pdf_lex__is_delim(int c)
{
	return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' ||
	       c == '/' || c == '%';
}

static int is_regular(int c)
{
	return !pdf_lex__is_ws(c) && !pdf_lex__is_delim(c);
}

void pdf_lex__init(pdf_lex *lx, const unsigned char *p, size_t len, int partial)
{
	lx->p = p;
	lx->len = len;
	lx->pos = 0;
	lx->partial = partial;
	lx->need_more = 0;
}

static int end_error(pdf_lex *lx, const char *what)
{
	if (lx->partial)
		lx->need_more = 1;
	return eid_error__set(EID_EFORMAT, "PDF syntax: unexpected end of data in %s", what);
}

void pdf_lex__skip_ws(pdf_lex *lx)
{
	while (lx->pos < lx->len) {
		unsigned char c = lx->p[lx->pos];

		if (pdf_lex__is_ws(c)) {
			lx->pos++;
		} else if (c == '%') {
			while (lx->pos < lx->len && lx->p[lx->pos] != '\r' && lx->p[lx->pos] != '\n')
				lx->pos++;
		} else {
			break;
		}
	}
}

/* Length of the run of regular characters at the current position. */
static size_t regular_run(const pdf_lex *lx)
{
	size_t n = 0;

	while (lx->pos + n < lx->len && is_regular(lx->p[lx->pos + n]))
		n++;
	return n;
}

/* The run touches the end of a partial window: it may continue. */
static int run_cut(const pdf_lex *lx, size_t n)
{
	return lx->partial && lx->pos + n >= lx->len;
}

int pdf_lex__keyword(pdf_lex *lx, const char *kw)
{
	size_t n, k = strlen(kw);

	pdf_lex__skip_ws(lx);
	n = regular_run(lx);
	if (n != k || run_cut(lx, n) || memcmp(lx->p + lx->pos, kw, k) != 0)
		return 0;
	lx->pos += n;
	return 1;
}

int pdf_lex__uint(pdf_lex *lx, uint64_t *out)
{
	size_t n, i;
	uint64_t v = 0;

	pdf_lex__skip_ws(lx);
	n = regular_run(lx);
	if (run_cut(lx, n))
		return end_error(lx, "an integer");
	if (n == 0 || n > 20)
		return eid_error__set(EID_EFORMAT, "PDF syntax: an unsigned integer was expected");
	for (i = 0; i < n; i++) {
		unsigned char c = lx->p[lx->pos + i];

		if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10)
			return eid_error__set(EID_EFORMAT, "PDF syntax: an unsigned integer was expected");
		v = v * 10 + (uint64_t)(c - '0');
	}
	lx->pos += n;
	*out = v;
	return EID_OK;
}

/* ---- numbers ---- */

static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

static double scale10(double v, int e)
{
	while (e > 22) {
		v *= 1e22;
		e -= 22;
	}
	while (e < -22) {
		v /= 1e22;
		e += 22;
	}
	return e >= 0 ? v * pow10_exact[e] : v / pow10_exact[-e];
}

/*
 * [+-]digits[.digits] with at least one digit, no exponent.  Sets *is_int when
 * there is no decimal point and the value fits int64_t.
 */
static int parse_number(const char *s, size_t len, double *real, int64_t *ival, int *is_int)
{
	size_t i = 0;
	int neg = 0, dot = 0, digits = 0, exp10 = 0, sig = 0, overflow = 0;
	uint64_t mant = 0, iv = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	for (; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (dot)
				return eid_error__set(EID_EFORMAT, "PDF syntax: malformed number");
			dot = 1;
			continue;
		}
		if (c < '0' || c > '9')
			return eid_error__set(EID_EFORMAT, "PDF syntax: malformed number");
		digits++;
		if (!dot) {
			if (iv > (uint64_t)INT64_MAX / 10 || iv * 10 + (uint64_t)(c - '0') > (uint64_t)INT64_MAX)
				overflow = 1;
			else
				iv = iv * 10 + (uint64_t)(c - '0');
		}
		if (sig < 19) {
			if (mant != 0 || c != '0')
				sig++;
			mant = mant * 10 + (uint64_t)(c - '0');
			if (dot)
				exp10--;
		} else if (!dot) {
			exp10++;
		}
	}
	if (digits == 0)
		return eid_error__set(EID_EFORMAT, "PDF syntax: malformed number");
	*is_int = !dot && !overflow;
	if (*is_int)
		*ival = neg ? -(int64_t)iv : (int64_t)iv;
	*real = scale10((double)mant, exp10);
	if (neg)
		*real = -*real;
	return EID_OK;
}

int pdf_lex__number(const char *s, size_t len, double *out)
{
	int64_t iv;
	int is_int;

	return parse_number(s, len, out, &iv, &is_int);
}

/* ---- growable byte buffer for strings and names ---- */

typedef struct bytes {
	unsigned char *p;
	size_t len, cap;
} bytes;

static int bytes_push(bytes *b, unsigned char c)
{
	if (b->len >= PDF_MAX_TOKEN)
		return eid_error__set(EID_ETOOBIG, "PDF string or name longer than %u bytes", PDF_MAX_TOKEN);
	if (b->len + 1 >= b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		unsigned char *p = realloc(b->p, cap);

		if (p == NULL)
			return eid_error__set(EID_ENOMEM, "out of memory reading a PDF string");
		b->p = p;
		b->cap = cap;
	}
	b->p[b->len++] = c;
	return EID_OK;
}

static int parse_name(pdf_lex *lx, pdf_obj **out)
{
	bytes b = { NULL, 0, 0 };
	size_t n, i;
	pdf_obj *o;
	int rc = EID_OK;

	lx->pos++; /* '/' */
	n = regular_run(lx);
	if (run_cut(lx, n))
		return end_error(lx, "a name");
	for (i = 0; i < n && rc == EID_OK; i++) {
		const unsigned char *p = lx->p + lx->pos + i;
		int c = p[0];

		if (c == '#' && i + 2 < n && eid_hex__digit(p[1]) >= 0 && eid_hex__digit(p[2]) >= 0) {
			c = eid_hex__digit(p[1]) * 16 + eid_hex__digit(p[2]);
			i += 2;
		}
		if (c == 0)
			rc = eid_error__set(EID_EFORMAT, "PDF syntax: NUL byte in a name");
		else
			rc = bytes_push(&b, (unsigned char)c);
	}
	if (rc == EID_OK)
		rc = bytes_push(&b, 0);
	if (rc < 0) {
		free(b.p);
		return rc;
	}
	lx->pos += n;
	o = pdf_obj_new(PDF_NAME);
	if (o == NULL) {
		free(b.p);
		return EID_ENOMEM;
	}
	o->u.name = (char *)b.p;
	*out = o;
	return EID_OK;
}

static int parse_literal(pdf_lex *lx, pdf_obj **out)
{
	bytes b = { NULL, 0, 0 };
	size_t depth = 1;
	pdf_obj *o;
	int rc = EID_OK;

	lx->pos++; /* '(' */
	while (rc == EID_OK) {
		int c;

		if (lx->pos >= lx->len) {
			rc = end_error(lx, "a literal string");
			break;
		}
		c = lx->p[lx->pos++];
		if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (--depth == 0)
				break;
		} else if (c == '\r') {
			/* An unescaped end of line is read as LF. */
			if (lx->pos < lx->len && lx->p[lx->pos] == '\n')
				lx->pos++;
			c = '\n';
		} else if (c == '\\') {
			if (lx->pos >= lx->len) {
				rc = end_error(lx, "a literal string");
				break;
			}
			c = lx->p[lx->pos++];
			switch (c) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case '\r':
				if (lx->pos < lx->len && lx->p[lx->pos] == '\n')
					lx->pos++;
				continue; /* line continuation */
			case '\n':
				continue;
			default:
				if (c >= '0' && c <= '7') {
					int v = c - '0', k;

					for (k = 1; k < 3 && lx->pos < lx->len && lx->p[lx->pos] >= '0' &&
						    lx->p[lx->pos] <= '7'; k++)
						v = v * 8 + (lx->p[lx->pos++] - '0');
					c = v & 0xff; /* high-order overflow is ignored */
				}
				/* Any other escaped character stands for itself: \( \) \\ and unknown ones. */
				break;
			}
		}
		rc = bytes_push(&b, (unsigned char)c);
	}
	if (rc < 0) {
		free(b.p);
		return rc;
	}
	o = pdf_string_new(b.p, b.len, 0);
	free(b.p);
	if (o == NULL)
		return EID_ENOMEM;
	*out = o;
	return EID_OK;
}

static int parse_hex(pdf_lex *lx, pdf_obj **out)
{
	bytes b = { NULL, 0, 0 };
	pdf_obj *o;
	int hi = -1, rc = EID_OK;

	lx->pos++; /* '<' */
	while (rc == EID_OK) {
		int c, v;

		if (lx->pos >= lx->len) {
			rc = end_error(lx, "a hexadecimal string");
			break;
		}
		c = lx->p[lx->pos++];
		if (c == '>')
			break;
		if (pdf_lex__is_ws(c))
			continue;
		v = eid_hex__digit(c);
		if (v < 0) {
			rc = eid_error__set(EID_EFORMAT, "PDF syntax: invalid character 0x%02x in a hexadecimal string", c);
			break;
		}
		if (hi < 0) {
			hi = v;
		} else {
			rc = bytes_push(&b, (unsigned char)(hi * 16 + v));
			hi = -1;
		}
	}
	if (rc == EID_OK && hi >= 0)
		rc = bytes_push(&b, (unsigned char)(hi * 16)); /* odd count: a final 0 is assumed */
	if (rc < 0) {
		free(b.p);
		return rc;
	}
	o = pdf_string_new(b.p, b.len, 1);
	free(b.p);
	if (o == NULL)
		return EID_ENOMEM;
	*out = o;
	return EID_OK;
}

/* ---- containers ---- */

typedef struct vec {
	pdf_obj **vals;
	char **keys; /* dictionaries only */
	size_t n, cap;
} vec;

static int vec_push(vec *v, char *key, pdf_obj *o, int with_keys)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		pdf_obj **vals = realloc(v->vals, cap * sizeof(*vals));

		if (vals == NULL)
			goto out_nomem;
		v->vals = vals;
		if (with_keys) {
			char **keys = realloc(v->keys, cap * sizeof(*keys));

			if (keys == NULL)
				goto out_nomem;
			v->keys = keys;
		}
		v->cap = cap;
	}
	if (with_keys)
		v->keys[v->n] = key;
	v->vals[v->n++] = o;
	return EID_OK;

out_nomem:
	free(key);
	pdf_obj_free(o);
	return eid_error__set(EID_ENOMEM, "out of memory reading a PDF array or dictionary");
}

static void vec_free(vec *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (v->keys != NULL)
			free(v->keys[i]);
		pdf_obj_free(v->vals[i]);
	}
	free(v->keys);
	free(v->vals);
}

static int parse_value(pdf_lex *lx, int depth, pdf_obj **out);

static int parse_array(pdf_lex *lx, int depth, pdf_obj **out)
{
	vec v = { NULL, NULL, 0, 0 };
	pdf_obj *o;
	int rc;

	lx->pos++; /* '[' */
	for (;;) {
		pdf_lex__skip_ws(lx);
		if (lx->pos >= lx->len) {
			rc = end_error(lx, "an array");
			goto out_free;
		}
		if (lx->p[lx->pos] == ']') {
			lx->pos++;
			break;
		}
		rc = parse_value(lx, depth + 1, &o);
		if (rc < 0)
			goto out_free;
		rc = vec_push(&v, NULL, o, 0);
		if (rc < 0)
			goto out_free;
	}
	o = pdf_obj_new(PDF_ARRAY);
	if (o == NULL) {
		rc = EID_ENOMEM;
		goto out_free;
	}
	o->u.arr.items = v.vals;
	o->u.arr.n = v.n;
	*out = o;
	return EID_OK;

out_free:
	vec_free(&v);
	return rc;
}

static int parse_dict(pdf_lex *lx, int depth, pdf_obj **out)
{
	vec v = { NULL, NULL, 0, 0 };
	pdf_obj *key, *o;
	char *k;
	int rc;

	lx->pos += 2; /* "<<" */
	for (;;) {
		pdf_lex__skip_ws(lx);
		if (lx->pos >= lx->len) {
			rc = end_error(lx, "a dictionary");
			goto out_free;
		}
		if (lx->p[lx->pos] == '>') {
			if (lx->pos + 1 >= lx->len) {
				rc = end_error(lx, "a dictionary");
				goto out_free;
			}
			if (lx->p[lx->pos + 1] != '>') {
				rc = eid_error__set(EID_EFORMAT, "PDF syntax: '>' instead of '>>' in a dictionary");
				goto out_free;
			}
			lx->pos += 2;
			break;
		}
		if (lx->p[lx->pos] != '/') {
			rc = eid_error__set(EID_EFORMAT, "PDF syntax: a dictionary key is not a name");
			goto out_free;
		}
		rc = parse_name(lx, &key);
		if (rc < 0)
			goto out_free;
		k = key->u.name;
		key->u.name = NULL;
		pdf_obj_free(key);
		rc = parse_value(lx, depth + 1, &o);
		if (rc < 0) {
			free(k);
			goto out_free;
		}
		rc = vec_push(&v, k, o, 1);
		if (rc < 0)
			goto out_free;
	}
	o = pdf_obj_new(PDF_DICT);
	if (o == NULL) {
		rc = EID_ENOMEM;
		goto out_free;
	}
	o->u.dict.keys = v.keys;
	o->u.dict.vals = v.vals;
	o->u.dict.n = v.n;
	*out = o;
	return EID_OK;

out_free:
	vec_free(&v);
	return rc;
}

/*
 * After a non-negative integer @num: "G R" makes it a reference.  Returns 1
 * when a reference was consumed, 0 when not (position unchanged), or an error.
 */
static int try_ref(pdf_lex *lx, int64_t num, pdf_obj **out)
{
	size_t save = lx->pos, n, i;
	uint64_t gen = 0;

	pdf_lex__skip_ws(lx);
	if (lx->pos >= lx->len)
		goto out_end;
	n = regular_run(lx);
	if (run_cut(lx, n))
		goto out_end;
	if (n == 0 || n > 10)
		goto out_none;
	for (i = 0; i < n; i++) {
		unsigned char c = lx->p[lx->pos + i];

		if (c < '0' || c > '9')
			goto out_none;
		gen = gen * 10 + (uint64_t)(c - '0');
	}
	lx->pos += n;
	pdf_lex__skip_ws(lx);
	if (lx->pos >= lx->len)
		goto out_end;
	n = regular_run(lx);
	if (run_cut(lx, n))
		goto out_end;
	if (n != 1 || lx->p[lx->pos] != 'R')
		goto out_none;
	lx->pos++;
	if (num > PDF_MAX_OBJNUM)
		return eid_error__set(EID_ETOOBIG, "PDF reference to object %lld beyond the limit %d", (long long)num,
				      PDF_MAX_OBJNUM);
	if (gen > 65535)
		return eid_error__set(EID_EFORMAT, "PDF syntax: generation %llu out of range", (unsigned long long)gen);
	*out = pdf_ref_new((uint32_t)num, (uint16_t)gen);
	return *out != NULL ? 1 : EID_ENOMEM;

out_end:
	if (lx->partial) {
		lx->pos = save;
		return end_error(lx, "a number");
	}
out_none:
	lx->pos = save;
	return 0;
}

static int parse_value(pdf_lex *lx, int depth, pdf_obj **out)
{
	size_t n;
	int c, rc;

	*out = NULL;
	pdf_lex__skip_ws(lx);
	if (lx->pos >= lx->len)
		return end_error(lx, "an object");
	c = lx->p[lx->pos];
	switch (c) {
	case '/':
		return parse_name(lx, out);
	case '(':
		return parse_literal(lx, out);
	case '[':
		if (depth >= PDF_MAX_DEPTH)
			return eid_error__set(EID_ETOOBIG, "PDF objects nested deeper than %d levels", PDF_MAX_DEPTH);
		return parse_array(lx, depth, out);
	case '<':
		if (lx->pos + 1 >= lx->len)
			return end_error(lx, "an object");
		if (lx->p[lx->pos + 1] != '<')
			return parse_hex(lx, out);
		if (depth >= PDF_MAX_DEPTH)
			return eid_error__set(EID_ETOOBIG, "PDF objects nested deeper than %d levels", PDF_MAX_DEPTH);
		return parse_dict(lx, depth, out);
	case ')': case '>': case ']': case '{': case '}':
		return eid_error__set(EID_EFORMAT, "PDF syntax: unexpected '%c'", c);
	default:
		break;
	}
	n = regular_run(lx);
	if (run_cut(lx, n))
		return end_error(lx, "an object");
	if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
		double r;
		int64_t iv = 0;
		int is_int = 0;

		if (n > 64)
			return eid_error__set(EID_EFORMAT, "PDF syntax: number too long");
		rc = parse_number((const char *)lx->p + lx->pos, n, &r, &iv, &is_int);
		if (rc < 0)
			return rc;
		lx->pos += n;
		if (is_int && c >= '0' && c <= '9') {
			rc = try_ref(lx, iv, out);
			if (rc != 0)
				return rc < 0 ? rc : EID_OK;
		}
		*out = is_int ? pdf_int_new(iv) : pdf_real_new(r);
		return *out != NULL ? EID_OK : EID_ENOMEM;
	}
	if (n == 4 && memcmp(lx->p + lx->pos, "true", 4) == 0)
		*out = pdf_bool_new(1);
	else if (n == 5 && memcmp(lx->p + lx->pos, "false", 5) == 0)
		*out = pdf_bool_new(0);
	else if (n == 4 && memcmp(lx->p + lx->pos, "null", 4) == 0)
		*out = pdf_obj_new(PDF_NULL);
	else
		return eid_error__set(EID_EFORMAT, "PDF syntax: unexpected keyword '%.*s'", n > 32 ? 32 : (int)n,
				      (const char *)lx->p + lx->pos);
	if (*out == NULL)
		return EID_ENOMEM;
	lx->pos += n;
	return EID_OK;
}

int pdf_lex__object(pdf_lex *lx, pdf_obj **out)
{
	return parse_value(lx, 0, out);
}

int pdf_lex__indirect(pdf_lex *lx, uint64_t base, pdf_ref *ref, pdf_obj **out)
{
	uint64_t num, gen;
	pdf_obj *o = NULL, *s, *len;
	int rc;

	*out = NULL;
	rc = pdf_lex__uint(lx, &num);
	if (rc == EID_OK)
		rc = pdf_lex__uint(lx, &gen);
	if (rc < 0)
		return rc;
	if (!pdf_lex__keyword(lx, "obj")) {
		pdf_lex__skip_ws(lx);
		if (lx->partial && lx->len - lx->pos < 4)
			return end_error(lx, "an object header");
		return eid_error__set(EID_EFORMAT, "PDF syntax: \"N G obj\" expected");
	}
	if (num > PDF_MAX_OBJNUM)
		return eid_error__set(EID_ETOOBIG, "PDF object number %llu beyond the limit %d",
				      (unsigned long long)num, PDF_MAX_OBJNUM);
	if (gen > 65535)
		return eid_error__set(EID_EFORMAT, "PDF syntax: generation %llu out of range", (unsigned long long)gen);
	ref->num = (uint32_t)num;
	ref->gen = (uint16_t)gen;
	rc = parse_value(lx, 0, &o);
	if (rc < 0)
		return rc;
	pdf_lex__skip_ws(lx);
	if (lx->partial && lx->len - lx->pos < 8) {
		pdf_obj_free(o);
		return end_error(lx, "an object");
	}
	if (lx->len - lx->pos >= 6 && memcmp(lx->p + lx->pos, "stream", 6) == 0 &&
	    (lx->pos + 6 == lx->len || !is_regular(lx->p[lx->pos + 6]))) {
		if (o->type != PDF_DICT) {
			pdf_obj_free(o);
			return eid_error__set(EID_EFORMAT, "PDF syntax: a stream without a dictionary");
		}
		lx->pos += 6;
		/* Tolerate spaces before the end of line. */
		while (lx->pos < lx->len && lx->p[lx->pos] == ' ')
			lx->pos++;
		if (lx->pos < lx->len && lx->p[lx->pos] == '\r')
			lx->pos++;
		if (lx->pos < lx->len && lx->p[lx->pos] == '\n')
			lx->pos++;
		s = pdf_obj_new(PDF_STREAM);
		if (s == NULL) {
			pdf_obj_free(o);
			return EID_ENOMEM;
		}
		s->u.stream.dict = o;
		s->u.stream.offset = base + lx->pos;
		len = pdf_dict_get(o, "Length");
		if (len != NULL && len->type == PDF_INT && len->u.i >= 0)
			s->u.stream.length = (uint64_t)len->u.i;
		o = s;
	}
	*out = o;
	return EID_OK;
}

int pdf_parse_object(const unsigned char *p, size_t len, pdf_obj **out, size_t *consumed)
{
	pdf_lex lx;
	int rc;

	if (out == NULL || (p == NULL && len > 0))
		return eid_error__set(EID_EINVAL, "pdf_parse_object: NULL argument");
	*out = NULL;
	pdf_lex__init(&lx, p, len, 0);
	rc = parse_value(&lx, 0, out);
	if (rc < 0)
		return rc;
	if (consumed != NULL)
		*consumed = lx.pos;
	return EID_OK;
}
