/* Internal interface of the report model. */
#ifndef EID_INTERNAL_REPORT_H
#define EID_INTERNAL_REPORT_H

#include "eid/verify.h"
#include "../common/common.h"

typedef struct eid_strlist {
	char **items;
	size_t n;
} eid_strlist;

struct eid_sig_report {
	eid_indication indication;
	eid_subindication sub;
	char *format;
	char *level;
	char *signer_name;
	char *signer_subject;
	char *signer_issuer;
	char *signer_serial;
	char *hash;
	char *algorithm;
	unsigned int key_bits;
	int64_t claimed_time;
	char *field;               /* a PDF signature's field name */
	int certification;         /* a PDF certification's DocMDP permission, 1..3; 0: none */
	char *policy;              /* the signature policy the signer named, in words, or NULL */
	char *role;                /* the signer's claimed role, or NULL */
	int64_t ts_time;           /* a valid signature timestamp's time, or -1 */
	char *ts_tsa;              /* its TSA */
	int64_t archive_time;      /* the earliest archive timestamp that holds (B-LTA), or -1 */
	char *archive_tsa;
	char *revocation;          /* the signer's revocation status, in words, when it was asked */
	eid_strlist chain;
	eid_strlist signed_data;   /* what the signature's digests cover, one line each */
	eid_strlist warnings;
	eid_strlist errors;
};

struct eid_report {
	char *file;
	int64_t validation_time;
	eid_sig_report **sigs;
	size_t n;
};

int eid_report__new(eid_report **out, const char *file, int64_t validation_time);
/* A new signature entry owned by @r (TOTAL-PASSED until a check says otherwise). */
int eid_report__add(eid_report *r, eid_sig_report **out);
int eid_sig__set(char **field, const char *value);
int eid_sig__warn(eid_sig_report *s, const char *fmt, ...) EID_PRINTF(2, 3);
/* Record a finding that decides the verdict; the first decisive finding wins. */
int eid_sig__fail(eid_sig_report *s, eid_indication ind, eid_subindication sub, const char *fmt, ...)
	EID_PRINTF(4, 5);
/* What a PDF certification with DocMDP permission @p permits after it, in words. */
const char *eid_report__docmdp_words(int p);
int eid_strlist__add(eid_strlist *l, const char *s);
/* @t (seconds since 1970) as YYYY-MM-DDTHH:MM:SSZ, or "(none)" for a negative time. */
void eid_report__iso_time(int64_t t, char *buf, size_t size);

#endif
