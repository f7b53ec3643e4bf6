/*
 * The algorithm policy: the date after which a digest, or a key of a given
 * type below a given size, no longer proves anything by itself (EN 319 102-1,
 * 5.2.8, cryptographic constraints).  A signature made with such an algorithm
 * still stands when a timestamp that holds proves it existed before that
 * date (5.5, 5.6).
 *
 * The defaults follow the sunset dates commonly applied to qualified
 * signatures; a policy file replaces them whole.  Its lines:
 *
 *     # algorithm  acceptable until (UTC)
 *     md5          2005-01-01
 *     sha1         2016-01-01
 *     rsa<2048     2019-01-01
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/objects.h>

#include "verify.h"

#define POLICY_MAX_RULES 64
#define POLICY_MAX_LINE 256

typedef struct rule {
	char alg[16];        /* a digest ("sha1") or a key type ("rsa", "ec") */
	unsigned int below;  /* key rules: sizes below this many bits; 0 for a digest */
	int64_t until;       /* seconds since 1970 */
} rule;

static const struct {
	const char *alg;
	unsigned int below;
	const char *until;
} defaults[] = {
	{ "md5", 0, "2005-01-01" },
	{ "sha1", 0, "2016-01-01" },
	{ "rsa", 1024, "2010-01-01" },
	{ "rsa", 2048, "2019-01-01" },
	{ "ec", 256, "2019-01-01" },
};

/* "YYYY-MM-DD" at 00:00 UTC, or -1. */
static int64_t parse_date(const char *s)
{
	int y, m, d, n = 0;
	int64_t era, yoe, doy, doe;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || s[n] != '\0' || y < 1970 || y > 9999 || m < 1 ||
	    m > 12 || d < 1 || d > 31)
		return -1;
	/* days since 1970-01-01 in the proleptic Gregorian calendar */
	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468) * 86400;
}

static int parse_rule(const char *alg, const char *until, rule *r)
{
	const char *lt = strchr(alg, '<');
	size_t n = lt ? (size_t)(lt - alg) : strlen(alg);
	char *end;

	if (n == 0 || n >= sizeof(r->alg) || (r->until = parse_date(until)) < 0)
		return -1;
	memcpy(r->alg, alg, n);
	r->alg[n] = '\0';
	r->below = 0;
	if (lt != NULL) {
		unsigned long b = strtoul(lt + 1, &end, 10);

		if (*end != '\0' || b == 0 || b > 65536)
			return -1;
		r->below = (unsigned int)b;
	}
	return 0;
}

static int load(const char *path, rule *rules, size_t *n)
{
	char line[POLICY_MAX_LINE], alg[64], until[64], extra[2];
	FILE *f;
	int lineno = 0, rc = EID_OK;

	*n = 0;
	if (path == NULL) {
		for (; *n < sizeof(defaults) / sizeof(defaults[0]); (*n)++)
			if (parse_rule(defaults[*n].alg, defaults[*n].until, &rules[*n]) < 0)
				return eid_error__set(EID_EINTERNAL, "bad built-in algorithm rule");
			else
				rules[*n].below = defaults[*n].below;
		return EID_OK;
	}
	if ((f = fopen(path, "r")) == NULL)
		return eid_error__set(EID_EIO, "cannot open the algorithm policy '%s'", path);
	while (rc == EID_OK && fgets(line, sizeof(line), f) != NULL) {
		char *p = line;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = eid_error__set(EID_EFORMAT, "%s:%d: line too long", path, lineno);
			break;
		}
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		if (sscanf(p, "%63s %63s %1s", alg, until, extra) != 2 || *n >= POLICY_MAX_RULES ||
		    parse_rule(alg, until, &rules[*n]) < 0)
			rc = eid_error__set(EID_EFORMAT, "%s:%d: expected 'ALGORITHM[<BITS] YYYY-MM-DD'%s", path, lineno,
					    *n >= POLICY_MAX_RULES ? " (too many rules)" : "");
		else
			(*n)++;
	}
	fclose(f);
	return rc;
}

int eid_verify__crypto_sunset(const eid_verify_opts *o, const EVP_MD *md, const char *key_type, unsigned int bits,
			      int64_t *until, char *what, size_t what_size)
{
	rule rules[POLICY_MAX_RULES];
	const char *mdname;
	char mdlow[32];
	size_t n, i, k = 0;
	int rc;

	*until = -1;
	what[0] = '\0';
	if ((rc = load(o->crypto_policy, rules, &n)) < 0)
		return rc;
	/* the policy names digests by their short names in lower case: "sha1", "sha256", "sha3-256" */
	mdname = md ? OBJ_nid2sn(EVP_MD_get_type(md)) : NULL;
	for (i = 0; mdname != NULL && mdname[i] != '\0' && k + 1 < sizeof(mdlow); i++)
		mdlow[k++] = (char)tolower((unsigned char)mdname[i]);
	mdlow[k] = '\0';
	for (i = 0; i < n; i++) {
		int hit = rules[i].below == 0 ? strcmp(rules[i].alg, mdlow) == 0
			: key_type != NULL && strncasecmp(rules[i].alg, key_type, strlen(rules[i].alg)) == 0 &&
			  bits > 0 && bits < rules[i].below;

		if (hit && (*until < 0 || rules[i].until < *until)) {
			*until = rules[i].until;
			if (rules[i].below)
				snprintf(what, what_size, "an %s key of %u bits", key_type, bits);
			else
				snprintf(what, what_size, "%s", EVP_MD_get0_name(md));
		}
	}
	return EID_OK;
}
