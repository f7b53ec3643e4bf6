/* eid-sign: sign files with a key on a PKCS#11 token or in a PKCS#12 file. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <eid/eid.h>

#include "cli.h"

typedef struct sign_args {
	const char *output;
	const char *format;
	const char *level;
	const char *module;
	const char *token;
	const char *key_id;
	const char *cert_label;
	const char *pin_src;
	int card;               /* --card: sign with the card's own key over PC/SC */
	const char *card_reader;
	const char *pkcs12;
	const char *pass_src;
	const char *hash;
	int pss;
	int no_chain;
	int allow_final_try;
	int list_keys;
	const char *reason;
	const char *location;
	const char *contact;
	const char *field;
	const char *visible;
	const char *image;
	const char *certify;
	int legacy;
	const char *packaging;
	const char *role;
	int policy_implied;
	const char *policy;         /* --policy ID */
	const char *policy_file;    /* --policy-file FILE: its digest goes into the signature */
	const char *policy_uri;
	const char *tsa;
	const char *tsa_policy;
	int timeout;
	const char *extend;         /* --extend LEVEL: raise an existing signature */
	const char *data;           /* --data FILE: the signed file of a detached signature being extended */
} sign_args;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s INPUT... -o OUTPUT [options]\n"
		"       %s --extend LEVEL SIGNED -o OUTPUT --tsa URL [--data FILE]\n"
		"       %s --list-keys [--module P11LIB]\n"
		"Sign files with a key on a PKCS#11 token or card, or in a PKCS#12 file.\n"
		"\n"
		"  -o, --output FILE        the signature to write (written atomically)\n"
		"  -f, --format FMT         cades, pades, xades, asice or asics; default: pades\n"
		"                           for a .pdf input, xades for .xml, asice otherwise\n"
		"                           (signing an ASiC-E container adds a signature to it)\n"
		"  -l, --level LEVEL        B-B (default); B-T (a signature timestamp from the\n"
		"                           TSA given with --tsa); B-LT (and the certificates\n"
		"                           and revocation data of every path); B-LTA (and an\n"
		"                           archive timestamp over all of it)\n"
		"      --extend LEVEL       raise the signatures of the one INPUT to LEVEL (B-T,\n"
		"                           B-LT, B-LTA; B-LTA again renews the archive timestamp)\n"
		"      --data FILE|DIR      with --extend: the file a detached CAdES signature\n"
		"                           signs, or the file or folder of a detached XAdES one's\n"
		"      --tsa URL            the RFC 3161 time-stamping authority (http://)\n"
		"      --tsa-policy OID     the TSA policy to ask for\n"
		"      --timeout SECONDS    for each exchange with a server (default 20)\n"
		"      --hash ALG           sha256 (default), sha384 or sha512\n"
		"      --pss                RSA-PSS instead of PKCS#1 v1.5 for RSA keys\n"
		"      --no-chain           embed only the signer's certificate (CAdES)\n"
		"PDF (PAdES):\n"
		"      --reason TEXT        /Reason\n"
		"      --location TEXT      /Location\n"
		"      --contact TEXT       /ContactInfo\n"
		"      --field NAME         the signature field's name (default: SignatureN)\n"
		"      --legacy-subfilter   /SubFilter adbe.pkcs7.detached, for old readers\n"
		"      --visible SPEC       a visible signature: page=N,x=X,y=Y,w=W,h=H in points\n"
		"                           from the page's lower-left corner\n"
		"      --image FILE         a PNG or JPEG drawn in the visible signature's box\n"
		"      --certify PERM       a certification signature (the first one) that permits\n"
		"                           after it: none, forms (filling in and signing) or\n"
		"                           annotations (forms, signing and comments); 1, 2, 3\n"
		"XML (XAdES):\n"
		"      --packaging P        enveloped (the XML input holds its signature; the\n"
		"                           default for one .xml input), enveloping (the data\n"
		"                           inside the signature) or detached (the signature\n"
		"                           names the inputs by file name; several inputs)\n"
		"      --role TEXT          SignerRoleV2 ClaimedRole\n"
		"      --policy-implied     SignaturePolicyIdentifier/SignaturePolicyImplied\n"
		"      --policy ID          an explicit signature policy: its OID or URI, with\n"
		"      --policy-file FILE   the policy document (its digest is signed, with --hash)\n"
		"      --policy-uri URL     where the policy document is published (SPURI)\n"
		"Key on a PKCS#11 token:\n"
		"      --module P11LIB      the PKCS#11 module (default: $EID_PKCS11_MODULE,\n"
		"                           p11-kit's proxy, OpenSC)\n"
		"      --token LABEL        the token's label\n"
		"      --key-id HEX         the key's CKA_ID\n"
		"      --cert-label LABEL   the certificate's CKA_LABEL\n"
		"      --pin SRC            pass:TEXT, env:VAR, file:PATH, fd:N or stdin;\n"
		"                           without it, a prompt without echo (or the pinpad)\n"
		"      --allow-final-try    send the PIN even when one try is left\n"
		"      --list-keys          list tokens and certificates, then exit\n"
		"Key on an ID card, used directly over PC/SC:\n"
		"      --card[=READER]      the card's signature key (default: the first reader\n"
		"                           holding a card); --pin as above\n"
		"Key in a file:\n"
		"      --pkcs12 FILE        a PKCS#12 file\n"
		"      --pass SRC           its password (same forms as --pin)\n"
		"\n"
		"  -h, --help               this help\n"
		"  -V, --version            the version\n"
		"\n"
		"Exit status: 0 signed, 3 error (nothing written).\n",
		cli_prog, cli_prog, cli_prog);
}

static int pin_from_src(char *buf, size_t size, const eid_pin_request *req, void *userdata)
{
	const sign_args *a = userdata;
	const char *src = a->pin_src;
	char prompt[160];
	int n;

	if ((req->flags & EID_PIN_FLAG_FINAL_TRY) && a->card && !a->allow_final_try) {
		cli_err("one PIN try left on '%s': a wrong PIN would block it; give --allow-final-try to go on",
			req->token_label);
		return EID_ECANCELED;
	}
	if (req->flags & EID_PIN_FLAG_FINAL_TRY)
		fprintf(stderr, "%s: warning: one PIN try left on '%s'\n", cli_prog, req->token_label);
	snprintf(prompt, sizeof(prompt), "PIN for %s%s%s%s: ", req->token_label, req->key_label ? " (" : "",
		 req->key_label ? req->key_label : "", req->key_label ? ")" : "");
	n = cli_read_secret(src, prompt, buf, size);
	return n < 0 ? EID_ECANCELED : n;
}

static int list_keys(const sign_args *a)
{
	eid_pkcs11 *p11 = NULL;
	size_t i;

	if (eid_pkcs11_open(&p11, a->module) < 0) {
		cli_err("%s", eid_error_last()->message);
		return CLI_EXIT_ERROR;
	}
	printf("Module: %s\n", eid_pkcs11_module_path(p11));
	for (i = 0; i < eid_pkcs11_token_count(p11); i++) {
		const eid_token_info *t = eid_pkcs11_token(p11, i);

		printf("Token %zu: '%s' (%s %s, serial %s)%s%s%s%s\n", i, t->label, t->manufacturer, t->model, t->serial,
		       t->flags & EID_TOKEN_PINPAD ? " [pinpad]" : "",
		       t->flags & EID_TOKEN_PIN_COUNT_LOW ? " [PIN: few tries left]" : "",
		       t->flags & EID_TOKEN_PIN_FINAL_TRY ? " [PIN: final try]" : "",
		       t->flags & EID_TOKEN_PIN_LOCKED ? " [PIN: blocked]" : "");
	}
	for (i = 0; i < eid_pkcs11_cert_count(p11); i++) {
		const eid_cert_info *c = eid_pkcs11_cert(p11, i);

		if (i == 0)
			printf("Certificates:\n");
		printf("  token %zu id %-4s %-16s %s%s %s-%u  %s\n", c->token_index, c->id_hex, c->label,
		       c->flags & EID_CERT_CA ? "[CA] " : "",
		       c->flags & EID_CERT_NON_REPUDIATION ? "[signing]" :
		       c->flags & EID_CERT_DIGITAL_SIGNATURE ? "[auth]" : "[other]",
		       c->key_type == EID_KEY_EC ? "EC" : c->key_type == EID_KEY_RSA ? "RSA" : "?", c->key_bits,
		       c->subject);
	}
	for (i = 0; i < eid_pkcs11_key_count(p11); i++) {
		const eid_key_info *k = eid_pkcs11_key(p11, i);

		if (i == 0)
			printf("Keys (seen without login):\n");
		printf("  token %zu id %-4s %-16s %s-%u%s\n", k->token_index, k->id_hex, k->label,
		       k->key_type == EID_KEY_EC ? "EC" : k->key_type == EID_KEY_RSA ? "RSA" : "?", k->key_bits,
		       k->flags & EID_KEYOBJ_HAS_CERT ? "" : "  (no certificate: cannot sign here)");
	}
	eid_pkcs11_free(p11);
	return CLI_EXIT_OK;
}

static int make_signer(const sign_args *a, eid_pkcs11 **p11, eid_card_ctx **ctx, eid_card **card,
		       eid_signer **signer)
{
	int rc;

	if (a->card) {
		rc = eid_card_ctx_new(ctx);
		if (rc == EID_OK)
			rc = eid_card_open(*ctx, a->card_reader, card);
		/* an explicit --pin is used even on a pinpad reader; without one the pinpad takes it */
		if (rc == EID_OK)
			rc = eid_signer_new_card(signer, *card, EID_CARD_SIGN,
						 a->pin_src != NULL || !eid_card_has_pinpad(*card) ? pin_from_src : NULL,
						 (void *)a);
	} else if (a->pkcs12 != NULL) {
		char pass[1024];
		int n = cli_read_secret(a->pass_src, "Password for the PKCS#12 file: ", pass, sizeof(pass));

		if (n < 0)
			return -1;
		rc = eid_signer_new_pkcs12(signer, a->pkcs12, pass);
		eid_memzero(pass, sizeof(pass));
	} else {
		eid_pkcs11_select sel = EID_PKCS11_SELECT_INIT;

		sel.token_label = a->token;
		sel.key_id_hex = a->key_id;
		sel.cert_label = a->cert_label;
		sel.pin_cb = pin_from_src;
		sel.pin_userdata = (void *)a;
		sel.flags = a->allow_final_try ? EID_SELECT_ALLOW_FINAL_TRY : 0;
		/* An explicit --pin is used even on a pinpad reader; without one the pinpad takes it. */
		if (a->pin_src != NULL)
			sel.flags |= EID_SELECT_NO_PINPAD;
		rc = eid_pkcs11_open(p11, a->module);
		if (rc == EID_OK)
			rc = eid_signer_new_pkcs11(signer, *p11, &sel);
	}
	if (rc < 0)
		cli_err("%s", eid_error_last()->message);
	return rc;
}

/* page=N,x=X,y=Y,w=W,h=H (points from the page's lower-left corner); any order, page optional. */
/* --certify: the DocMDP permission, by name or number. */
static int parse_certify(const char *v, unsigned int *p)
{
	static const char *const names[] = { "none", "forms", "annotations" };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		char num[2] = { (char)('1' + i), '\0' };

		if (strcmp(v, names[i]) == 0 || strcmp(v, num) == 0) {
			*p = i + 1;
			return 0;
		}
	}
	cli_err("--certify takes none, forms or annotations (or 1, 2, 3), not '%s'", v);
	return -1;
}

static int parse_visible(const char *spec, eid_pades_opts *po)
{
	char *copy = strdup(spec), *save = NULL, *item;
	int have = 0, rc = 0;

	if (copy == NULL)
		return -1;
	for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '='), *end;
		double v;

		if (eq == NULL) {
			rc = -1;
			break;
		}
		*eq = '\0';
		v = strtod(eq + 1, &end);
		if (*end != '\0' || eq[1] == '\0' || v < 0 || v > 14400) {
			rc = -1;
			break;
		}
		if (strcmp(item, "page") == 0 && v >= 1 && v == (double)(unsigned int)v)
			po->page = (unsigned int)v;
		else if (strcmp(item, "x") == 0) { po->rect[0] = v; have |= 1; }
		else if (strcmp(item, "y") == 0) { po->rect[1] = v; have |= 2; }
		else if (strcmp(item, "w") == 0) { po->rect[2] = v; have |= 4; }
		else if (strcmp(item, "h") == 0) { po->rect[3] = v; have |= 8; }
		else
			rc = -1;
	}
	free(copy);
	if (rc == 0 && (have != 15 || po->rect[2] < 4 || po->rect[3] < 4))
		rc = -1;
	if (rc < 0)
		cli_err("--visible takes page=N,x=X,y=Y,w=W,h=H in points (w and h at least 4), e.g. "
			"page=1,x=350,y=60,w=200,h=60");
	return rc;
}

/* --packaging, or the default: enveloped for one .xml input, detached otherwise. */
static int parse_packaging(const sign_args *a, int n, char **inputs, eid_xades_packaging *out)
{
	const char *dot = strrchr(inputs[0], '.');

	if (a->packaging == NULL)
		*out = n == 1 && dot != NULL && strcasecmp(dot, ".xml") == 0 ? EID_XADES_ENVELOPED : EID_XADES_DETACHED;
	else if (strcmp(a->packaging, "enveloped") == 0)
		*out = EID_XADES_ENVELOPED;
	else if (strcmp(a->packaging, "enveloping") == 0)
		*out = EID_XADES_ENVELOPING;
	else if (strcmp(a->packaging, "detached") == 0)
		*out = EID_XADES_DETACHED;
	else {
		cli_err("--packaging takes enveloped, enveloping or detached, not '%s'", a->packaging);
		return -1;
	}
	return 0;
}

static int sign_xades(eid_signer *signer, int n, char **inputs, const eid_xades_opts *xo, const char *output)
{
	eid_xades_data *data = calloc((size_t)n, sizeof(*data));
	int i, rc;

	if (data == NULL)
		return eid_error_last()->code;
	for (i = 0; i < n; i++)
		data[i].path = inputs[i];
	rc = eid_xades_sign_file(signer, data, (size_t)n, xo, output);
	free(data);
	return rc;
}

/* A ZIP file: signing it with -f asice adds a signature to the container. */
/* The network settings for --tsa and --timeout; NULL (with a message) on failure. */
static eid_online *make_online(const sign_args *a)
{
	eid_online *online = NULL;

	if (eid_online_new(&online) < 0 || eid_online_set_tsa(online, a->tsa, a->tsa_policy) < 0 ||
	    (a->timeout != 0 && eid_online_set_timeout(online, a->timeout) < 0)) {
		cli_err("%s", eid_error_last()->message);
		eid_online_free(online);
		return NULL;
	}
	return online;
}

/* The folder of @path ("." for a bare name); NULL when out of memory. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;

	if (slash == NULL)
		return strdup(".");
	if ((d = strndup(path, slash == path ? 1 : (size_t)(slash - path))) == NULL)
		return NULL;
	return d;
}

/* --extend LEVEL INPUT -o OUTPUT */
static int extend(const sign_args *a, int n, char **inputs)
{
	eid_extend_opts eo = EID_EXTEND_OPTS_INIT;
	int status = CLI_EXIT_ERROR;

	if (n != 1 || a->output == NULL) {
		cli_err(n != 1 ? "--extend takes one signed file" : "no output file (-o)");
		return CLI_EXIT_ERROR;
	}
	if (a->module || a->token || a->key_id || a->cert_label || a->pin_src || a->pkcs12 || a->card || a->level ||
	    a->format) {
		cli_err("--extend uses no key, and takes its format from the file: it does not go with -l, -f or the key options");
		return CLI_EXIT_ERROR;
	}
	if (eid_level_from_name(&eo.level, a->extend) < 0 || eo.level < EID_LEVEL_B_T) {
		cli_err("--extend takes B-T, B-LT or B-LTA");
		return CLI_EXIT_ERROR;
	}
	if (a->tsa == NULL) {
		cli_err("--extend needs a time-stamping authority (--tsa URL)");
		return CLI_EXIT_ERROR;
	}
	if (a->hash != NULL && eid_hash_from_name(&eo.hash, a->hash) < 0) {
		cli_err("%s", eid_error_last()->message);
		return CLI_EXIT_ERROR;
	}
	if ((eo.online = make_online(a)) == NULL)
		return CLI_EXIT_ERROR;
	eo.data_path = a->data;
	if (eid_extend_file(inputs[0], a->output, &eo) < 0) {
		cli_err("%s", eid_error_last()->message);
	} else {
		fprintf(stderr, "%s: extended '%s' to %s into '%s'\n", cli_prog, inputs[0], eid_level_name(eo.level),
			a->output);
		status = CLI_EXIT_OK;
	}
	eid_online_free(eo.online);
	return status;
}

/*
 * B-LT and B-LTA: sign at B-T into a temporary file beside the output, then
 * extend it into the output; the temporary file goes in any case.
 */
static int sign_long_term(const char *output, char **tmp)
{
	size_t n = strlen(output) + 16;
	int fd;

	if ((*tmp = malloc(n)) == NULL)
		return -1;
	snprintf(*tmp, n, "%s.bt-XXXXXX", output);
	if ((fd = mkstemp(*tmp)) < 0) {
		cli_err("cannot create a temporary file beside '%s'", output);
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	close(fd);
	return 0;
}

static int is_container(const char *path)
{
	unsigned char head[4] = { 0 };
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(head, 1, sizeof(head), f) : 0;

	if (f != NULL)
		fclose(f);
	return n == 4 && memcmp(head, "PK\x03\x04", 4) == 0;
}

static const char *guess_format(int n_inputs, char **inputs)
{
	const char *dot;

	if (n_inputs > 1)
		return "asice";
	dot = strrchr(inputs[0], '.');
	if (dot != NULL && strcasecmp(dot, ".pdf") == 0)
		return "pades";
	if (dot != NULL && strcasecmp(dot, ".xml") == 0)
		return "xades";
	return "asice";
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "level", required_argument, NULL, 'l' },
		{ "module", required_argument, NULL, 'm' },
		{ "token", required_argument, NULL, 't' },
		{ "key-id", required_argument, NULL, 'k' },
		{ "cert-label", required_argument, NULL, 'c' },
		{ "pin", required_argument, NULL, 'p' },
		{ "pkcs12", required_argument, NULL, 'P' },
		{ "card", optional_argument, NULL, 'Q' },
		{ "pass", required_argument, NULL, 'w' },
		{ "hash", required_argument, NULL, 'H' },
		{ "pss", no_argument, NULL, 'S' },
		{ "no-chain", no_argument, NULL, 'N' },
		{ "allow-final-try", no_argument, NULL, 'F' },
		{ "list-keys", no_argument, NULL, 'L' },
		{ "reason", required_argument, NULL, 'R' },
		{ "location", required_argument, NULL, 'C' },
		{ "contact", required_argument, NULL, 'I' },
		{ "field", required_argument, NULL, 'D' },
		{ "visible", required_argument, NULL, 'v' },
		{ "legacy-subfilter", no_argument, NULL, 'G' },
		{ "image", required_argument, NULL, 'i' },
		{ "certify", required_argument, NULL, 'M' },
		{ "packaging", required_argument, NULL, 'K' },
		{ "role", required_argument, NULL, 'r' },
		{ "policy-implied", no_argument, NULL, 'y' },
		{ "policy", required_argument, NULL, 'Y' },
		{ "policy-file", required_argument, NULL, 'Z' },
		{ "policy-uri", required_argument, NULL, 'U' },
		{ "tsa", required_argument, NULL, 'T' },
		{ "tsa-policy", required_argument, NULL, 'X' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "extend", required_argument, NULL, 'E' },
		{ "data", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	sign_args a;
	eid_cades_opts co = EID_CADES_OPTS_INIT;
	eid_pades_opts po = EID_PADES_OPTS_INIT;
	eid_pkcs11 *p11 = NULL;
	eid_card_ctx *card_ctx = NULL;
	eid_online *online = NULL;
	eid_card *card = NULL;
	eid_signer *signer = NULL;
	eid_buf out = EID_BUF_INIT, policy_digest = EID_BUF_INIT;
	eid_xades_opts xo = EID_XADES_OPTS_INIT;
	eid_asic_opts ao = EID_ASIC_OPTS_INIT;
	int c, rc, status = CLI_EXIT_ERROR, pades = 0, xades = 0, asic = 0;
	eid_level long_term = EID_LEVEL_DEFAULT;
	char *tmp = NULL, *data_dir = NULL;
	const char *target;

	cli_set_prog(argv[0]);
	memset(&a, 0, sizeof(a));
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:f:l:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'o': a.output = optarg; break;
		case 'f': a.format = optarg; break;
		case 'l': a.level = optarg; break;
		case 'm': a.module = optarg; break;
		case 't': a.token = optarg; break;
		case 'k': a.key_id = optarg; break;
		case 'c': a.cert_label = optarg; break;
		case 'p': a.pin_src = optarg; break;
		case 'P': a.pkcs12 = optarg; break;
		case 'Q': a.card = 1; a.card_reader = optarg; break;
		case 'w': a.pass_src = optarg; break;
		case 'H': a.hash = optarg; break;
		case 'S': a.pss = 1; break;
		case 'N': a.no_chain = 1; break;
		case 'F': a.allow_final_try = 1; break;
		case 'L': a.list_keys = 1; break;
		case 'R': a.reason = optarg; break;
		case 'C': a.location = optarg; break;
		case 'I': a.contact = optarg; break;
		case 'D': a.field = optarg; break;
		case 'v': a.visible = optarg; break;
		case 'G': a.legacy = 1; break;
		case 'i': a.image = optarg; break;
		case 'M': a.certify = optarg; break;
		case 'K': a.packaging = optarg; break;
		case 'r': a.role = optarg; break;
		case 'y': a.policy_implied = 1; break;
		case 'Y': a.policy = optarg; break;
		case 'Z': a.policy_file = optarg; break;
		case 'U': a.policy_uri = optarg; break;
		case 'T': a.tsa = optarg; break;
		case 'X': a.tsa_policy = optarg; break;
		case 'W': a.timeout = atoi(optarg); break;
		case 'E': a.extend = optarg; break;
		case 'A': a.data = optarg; break;
		case 'h': usage(stdout); return CLI_EXIT_OK;
		case 'V': cli_print_version(); return CLI_EXIT_OK;
		default:
			cli_err("unknown option or missing argument: %s (see --help)", argv[optind - 1]);
			return CLI_EXIT_ERROR;
		}
	}
	if (a.list_keys)
		return list_keys(&a);
	if (a.extend != NULL)
		return extend(&a, argc - optind, argv + optind);
	if (a.data != NULL) {
		cli_err("--data goes with --extend");
		return CLI_EXIT_ERROR;
	}
	if (optind >= argc || a.output == NULL) {
		cli_err(optind >= argc ? "no input file" : "no output file (-o)");
		usage(stderr);
		return CLI_EXIT_ERROR;
	}
	if (a.format == NULL) {
		a.format = guess_format(argc - optind, argv + optind);
	}
	if (strcasecmp(a.format, "cades") != 0 && strcasecmp(a.format, "pades") != 0 &&
	    strcasecmp(a.format, "xades") != 0 && strcasecmp(a.format, "asice") != 0 &&
	    strcasecmp(a.format, "asics") != 0) {
		cli_err("unknown format '%s' (cades, pades, xades, asice or asics)", a.format);
		return CLI_EXIT_ERROR;
	}
	pades = strcasecmp(a.format, "pades") == 0;
	xades = strcasecmp(a.format, "xades") == 0;
	asic = strcasecmp(a.format, "asice") == 0 ? 'E' : strcasecmp(a.format, "asics") == 0 ? 'S' : 0;
	if (!xades && !asic && (a.role || a.policy_implied || a.policy || a.policy_file || a.policy_uri)) {
		cli_err("--role and the --policy options are for XML signatures (-f xades, asice, asics)");
		return CLI_EXIT_ERROR;
	}
	if ((a.policy == NULL) != (a.policy_file == NULL) || (a.policy_uri && !a.policy) || (a.policy && a.policy_implied)) {
		cli_err("--policy goes with --policy-file (and optionally --policy-uri), and not with --policy-implied");
		return CLI_EXIT_ERROR;
	}
	if (!xades && a.packaging) {
		cli_err("--packaging is for XML signatures (-f xades)");
		return CLI_EXIT_ERROR;
	}
	if (xades && parse_packaging(&a, argc - optind, argv + optind, &xo.packaging) < 0)
		return CLI_EXIT_ERROR;
	if (argc - optind != 1 && !(xades && xo.packaging == EID_XADES_DETACHED) && asic != 'E') {
		cli_err(pades ? "a PDF signature covers one file"
			: xades ? "an enveloped or enveloping signature covers one file"
			: asic ? "an ASiC-S container holds one file (ASiC-E takes several)"
				: "a CAdES detached signature covers one file");
		return CLI_EXIT_ERROR;
	}
	if (!pades && (a.reason || a.location || a.contact || a.field || a.visible || a.legacy || a.image || a.certify)) {
		cli_err("--reason, --location, --contact, --field, --visible, --image, --certify and --legacy-subfilter "
			"are for PDF (-f pades)");
		return CLI_EXIT_ERROR;
	}
	if (a.visible != NULL && parse_visible(a.visible, &po) < 0)
		return CLI_EXIT_ERROR;
	if (a.image != NULL && a.visible == NULL) {
		cli_err("--image goes with --visible (it is drawn in the signature's box)");
		return CLI_EXIT_ERROR;
	}
	if (a.certify != NULL && parse_certify(a.certify, &po.certify) < 0)
		return CLI_EXIT_ERROR;
	if (a.level != NULL && eid_level_from_name(&co.level, a.level) < 0) {
		cli_err("%s", eid_error_last()->message);
		return CLI_EXIT_ERROR;
	}
	long_term = co.level;
	if ((co.level >= EID_LEVEL_B_T) != (a.tsa != NULL)) {
		cli_err(a.tsa ? "--tsa goes with -l B-T, B-LT or B-LTA"
			      : "levels B-T and above need a time-stamping authority (--tsa URL)");
		return CLI_EXIT_ERROR;
	}
	if (a.tsa != NULL && (online = make_online(&a)) == NULL)
		return CLI_EXIT_ERROR;
	if (co.level > EID_LEVEL_B_T) {
		co.level = EID_LEVEL_B_T;
		if (sign_long_term(a.output, &tmp) < 0)
			goto out;
		target = tmp;
	}
	co.online = online;
	if (a.hash != NULL && eid_hash_from_name(&co.hash, a.hash) < 0) {
		cli_err("%s", eid_error_last()->message);
		return CLI_EXIT_ERROR;
	}
	if (a.pkcs12 != NULL && (a.module || a.token || a.key_id || a.cert_label || a.pin_src)) {
		cli_err("--pkcs12 does not go with the PKCS#11 options");
		return CLI_EXIT_ERROR;
	}
	if (a.card && (a.pkcs12 || a.module || a.token || a.key_id || a.cert_label)) {
		cli_err("--card signs with the card's own key: it does not go with --pkcs12 or the PKCS#11 options");
		return CLI_EXIT_ERROR;
	}
	if (a.pass_src != NULL && a.pkcs12 == NULL) {
		cli_err("--pass goes with --pkcs12 (a token takes --pin)");
		return CLI_EXIT_ERROR;
	}
	co.scheme = a.pss ? EID_SIG_RSA_PSS : EID_SIG_DEFAULT;
	co.flags = a.no_chain ? EID_CADES_NO_CHAIN : 0;

	po.hash = co.hash;
	po.scheme = co.scheme;
	po.level = co.level;
	po.reason = a.reason;
	po.location = a.location;
	po.contact_info = a.contact;
	po.field_name = a.field;
	po.flags = a.legacy ? EID_PADES_LEGACY_SUBFILTER : 0;
	po.image = a.image;
	po.online = online;
	xo.hash = co.hash;
	xo.scheme = co.scheme;
	xo.level = co.level;
	xo.claimed_role = a.role;
	xo.online = online;
	xo.flags = (a.no_chain ? EID_XADES_NO_CHAIN : 0) | (a.policy_implied ? EID_XADES_POLICY_IMPLIED : 0);
	if (a.policy != NULL) {
		xo.policy_id = a.policy;
		xo.policy_uri = a.policy_uri;
		xo.policy_hash = xo.hash == EID_HASH_DEFAULT ? EID_HASH_SHA256 : xo.hash;
		if (eid_digest_file(a.policy_file, xo.policy_hash, &policy_digest) < 0) {
			cli_err("%s", eid_error_last()->message);
			goto out;
		}
		xo.policy_digest = policy_digest.data;
		xo.policy_digest_len = policy_digest.len;
	}

	target = tmp != NULL ? tmp : a.output;
	if (make_signer(&a, &p11, &card_ctx, &card, &signer) < 0)
		goto out;
	if (pades) {
		rc = eid_pades_sign(signer, argv[optind], target, &po);
	} else if (asic) {
		ao.type = asic == 'S' ? EID_ASIC_S : EID_ASIC_E;
		ao.xades = xo;
		if (asic == 'E' && argc - optind == 1 && is_container(argv[optind]))
			rc = eid_asic_add_signature(signer, argv[optind], target, &ao);
		else
			rc = eid_asic_sign(signer, (const char *const *)(argv + optind), (size_t)(argc - optind), target, &ao);
	} else if (xades) {
		rc = sign_xades(signer, argc - optind, argv + optind, &xo, target);
	} else {
		rc = eid_cades_sign_file(signer, argv[optind], &co, &out);
		if (rc == EID_OK)
			rc = eid_file_write_atomic(target, out.data, out.len);
	}
	if (rc == EID_OK && tmp != NULL) {
		eid_extend_opts eo = EID_EXTEND_OPTS_INIT;

		eo.level = long_term;
		eo.online = online;
		eo.hash = co.hash;
		/* a detached signature's data: the file signed, or (several XML files) the first one's folder */
		if (!pades && !asic && (!xades || xo.packaging == EID_XADES_DETACHED))
			eo.data_path = argc - optind == 1 ? argv[optind] : (data_dir = dir_of(argv[optind]));
		rc = eid_extend_file(tmp, a.output, &eo);
	}
	if (rc < 0) {
		cli_err("%s", eid_error_last()->message);
		goto out;
	}
	fprintf(stderr, "%s: signed '%s' as %s (%s %s, %s) into '%s'\n", cli_prog, argv[optind],
		eid_signer_name(signer),
		pades ? "PAdES" : xades ? "XAdES" : asic == 'E' ? "ASiC-E XAdES" : asic ? "ASiC-S XAdES" : "CAdES",
		eid_level_name(long_term > EID_LEVEL_B_T ? long_term : co.level),
		eid_hash_name(co.hash == EID_HASH_DEFAULT ? EID_HASH_SHA256 : co.hash),
		a.output);
	status = CLI_EXIT_OK;
out:
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(data_dir);
	eid_buf_clear(&out);
	eid_buf_clear(&policy_digest);
	eid_signer_free(signer);
	eid_pkcs11_free(p11);
	eid_card_free(card);
	eid_card_ctx_free(card_ctx);
	eid_online_free(online);
	return status;
}
