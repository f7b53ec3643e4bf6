/* BER-TLV, bounded: what card files and answers are made of. */
#include "config.h"

#include "card.h"

int eid_tlv__next(const unsigned char **pp, const unsigned char *end, eid_tlv *t)
{
	const unsigned char *p = *pp;
	size_t len, k;

	/* padding between elements */
	while (p < end && (*p == 0x00 || *p == 0xff))
		p++;
	if (p >= end) {
		*pp = end;
		return EID_ENOTFOUND;
	}
	t->constructed = (*p & 0x20) != 0;
	t->tag = *p++;
	if ((t->tag & 0x1f) == 0x1f) {
		for (k = 0; p < end; k++) {
			if (k == 2)
				return eid_error__set(EID_EFORMAT, "a TLV tag longer than 3 bytes");
			t->tag = (t->tag << 8) | *p;
			if ((*p++ & 0x80) == 0)
				break;
		}
	}
	if (p >= end)
		return eid_error__set(EID_EFORMAT, "a TLV cut short in its tag");
	len = *p++;
	if (len & 0x80) {
		size_t nb = len & 0x7f;

		if (nb == 0 || nb > 3 || (size_t)(end - p) < nb)
			return eid_error__set(EID_EFORMAT, "a TLV length of %zu bytes", nb);
		for (len = 0; nb > 0; nb--)
			len = (len << 8) | *p++;
	}
	if ((size_t)(end - p) < len)
		return eid_error__set(EID_EFORMAT, "a TLV of %zu bytes with %zu left", len, (size_t)(end - p));
	t->value = p;
	t->len = len;
	*pp = p + len;
	return EID_OK;
}

int eid_tlv__find(const unsigned char *p, size_t len, unsigned int tag, eid_tlv *t)
{
	const unsigned char *end = p + len;
	int rc;

	while ((rc = eid_tlv__next(&p, end, t)) == EID_OK)
		if (t->tag == tag)
			return EID_OK;
	return rc == EID_ENOTFOUND ? eid_error__set(EID_ENOTFOUND, "no TLV tag %X", tag) : rc;
}
