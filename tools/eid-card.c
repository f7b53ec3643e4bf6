/* eid-card: readers, the card's identity data and certificates, and its PINs. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <eid/eid.h>
#include <openssl/x509.h>

#include "cli.h"

/* Exit statuses (see eid-card(1)). */
#define EXIT_INTEGRITY 1  /* identity read, but its integrity check failed */
#define EXIT_PIN 2        /* wrong or blocked PIN */
#define EXIT_NOCARD 4     /* no reader, no card, or the card was removed */

typedef struct card_args {
	const char *reader;
	const char *pin_src;
	const char *new_pin_src;
	const char *output;
	const char *which;
	const char *trust;      /* --trust: the roots the identity signer must chain to */
	int json;
	int wait_s;
} card_args;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s COMMAND [OPTIONS]\n"
		"Read a national ID card through PC/SC.\n"
		"\n"
		"Commands:\n"
		"  readers                  the readers, and whether each holds a card\n"
		"  info                     the card: reader, ATR, profile, certificates, PIN tries\n"
		"  identity [--json] [--trust FILE|DIR]\n"
		"                           the citizen's identity data and address, with the\n"
		"                           verdict of the card's integrity protection; with\n"
		"                           --trust, its signer must chain to those roots\n"
		"  photo -o FILE            the photo (JPEG)\n"
		"  certificate auth|sign|ca|root|rrn -o FILE\n"
		"                           a certificate from the card (DER)\n"
		"  pin verify|change|unblock [--which auth|sign] [--pin SRC] [--new-pin SRC]\n"
		"                           check or change a PIN, or unblock it with the PUK\n"
		"                           (unblock: --pin is the PUK); tries left are reported\n"
		"\n"
		"Options:\n"
		"  -r, --reader NAME        the reader to use (default: the first holding a card)\n"
		"  -w, --wait SECONDS       wait that long for a card to be inserted\n"
		"  -j, --json               JSON output (identity, info)\n"
		"  -o, --output FILE        where photo and certificate write\n"
		"      --which auth|sign    the PIN (default auth; sign is the Estonian PIN2)\n"
		"      --pin SRC            pass:TEXT, env:VAR, file:PATH, fd:N or stdin; without it,\n"
		"                           a prompt without echo (or the reader's pinpad)\n"
		"      --new-pin SRC        the new PIN (change, unblock), same forms\n"
		"  -h, --help               this help\n"
		"  -V, --version            the version\n"
		"\n"
		"Exit status: 0 success, 1 identity read but its integrity check failed,\n"
		"2 wrong or blocked PIN, 3 usage or other error, 4 no reader, no card or card removed.\n",
		cli_prog);
}

static int fail(void)
{
	const eid_error *e = eid_error_last();

	cli_err("%s", e->message);
	switch (e->code) {
	case EID_EPIN_WRONG:
	case EID_EPIN_LOCKED:
	case EID_EPIN_INVALID:
		return EXIT_PIN;
	case EID_ENOTFOUND:
	case EID_ETOKEN_REMOVED:
		return EXIT_NOCARD;
	default:
		return CLI_EXIT_ERROR;
	}
}

static int open_card(const card_args *a, eid_card_ctx **ctx, eid_card **card)
{
	if (eid_card_ctx_new(ctx) < 0)
		return -1;
	if (a->wait_s > 0 && eid_card_ctx_wait(*ctx, a->reader, a->wait_s * 1000) < 0)
		return -1;
	return eid_card_open(*ctx, a->reader, card);
}

static int cmd_readers(const card_args *a)
{
	eid_card_ctx *ctx = NULL;
	size_t n = 0, i;
	int rc = eid_card_ctx_new(&ctx);

	if (rc == EID_OK)
		rc = eid_card_ctx_readers(ctx, &n);
	if (rc < 0) {
		eid_card_ctx_free(ctx);
		return fail();
	}
	if (a->json)
		printf("[");
	for (i = 0; i < n; i++) {
		const char *name = eid_card_ctx_reader(ctx, i);
		int has = eid_card_ctx_reader_has_card(ctx, i);

		if (a->json)
			printf("%s\n  { \"reader\": \"%s\", \"card\": %s }", i ? "," : "", name, has ? "true" : "false");
		else
			printf("%s%s\n", name, has ? "  [card]" : "");
	}
	if (a->json)
		printf("%s]\n", n ? "\n" : "");
	else if (n == 0)
		printf("no card reader\n");
	eid_card_ctx_free(ctx);
	return CLI_EXIT_OK;
}

static void print_cert(eid_card *card, eid_card_key which, const char *label)
{
	eid_buf der = EID_BUF_INIT;
	const unsigned char *p;
	X509 *x = NULL;

	if (eid_card_certificate(card, which, &der) == EID_OK) {
		p = der.data;
		x = d2i_X509(NULL, &p, (long)der.len);
	}
	if (x != NULL) {
		BIO *out = BIO_new_fp(stdout, BIO_NOCLOSE);

		printf("%-16s ", label);
		X509_NAME_print_ex(out, X509_get_subject_name(x), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
		BIO_printf(out, " (until ");
		ASN1_TIME_print(out, X509_get0_notAfter(x));
		BIO_printf(out, ")\n");
		BIO_free(out);
		X509_free(x);
	}
	eid_error_clear();
	eid_buf_clear(&der);
}

static int cmd_info(const card_args *a, eid_card *card)
{
	const unsigned char *atr;
	size_t len, i;
	int tries;

	(void)a;
	eid_card_atr(card, &atr, &len);
	printf("Reader:          %s\n", eid_card_reader(card));
	printf("ATR:             ");
	for (i = 0; i < len; i++)
		printf("%02X", atr[i]);
	printf("\nCard:            %s (profile %s)\n", eid_card_description(card), eid_card_profile(card));
	print_cert(card, EID_CARD_AUTH, "Authentication:");
	print_cert(card, EID_CARD_SIGN, "Signature:");
	print_cert(card, EID_CARD_CA, "CA:");
	print_cert(card, EID_CARD_RRN, "Identity signer:");
	if (eid_card_pin_tries(card, EID_PIN_AUTH, &tries) == EID_OK)
		printf("PIN tries left:  %d\n", tries);
	if (strcmp(eid_card_profile(card), "esteid") == 0) {
		if (eid_card_pin_tries(card, EID_PIN_SIGN, &tries) == EID_OK)
			printf("PIN2 tries left: %d\n", tries);
		if (eid_card_pin_tries(card, EID_PIN_PUK, &tries) == EID_OK)
			printf("PUK tries left:  %d\n", tries);
	}
	eid_error_clear();
	printf("APDUs:           %lu\n", eid_card_apdu_count(card));
	return CLI_EXIT_OK;
}

static int cmd_identity(const card_args *a, eid_card *card)
{
	eid_identity *id = NULL;
	eid_buf json = EID_BUF_INIT;
	const char *reason = NULL;
	eid_integrity v;
	int i;

	if (eid_card_identity(card, &id) < 0)
		return fail();
	if (a->trust != NULL) {
		eid_trust *t = NULL;
		int rc = eid_trust_new(&t);

		if (rc == EID_OK)
			rc = eid_trust_add_file(t, a->trust);
		if (rc == EID_OK)
			rc = eid_identity_check_signer(id, t);
		eid_trust_free(t);
		if (rc < 0) {
			eid_identity_free(id);
			return fail();
		}
	}
	v = eid_identity_integrity(id, &reason);
	if (a->json) {
		if (eid_identity_to_json(id, &json) < 0) {
			eid_identity_free(id);
			return fail();
		}
		printf("%s\n", (const char *)json.data);
		eid_buf_clear(&json);
	} else {
		for (i = 0; i < EID_ID_FIELD_COUNT; i++) {
			const char *val = eid_identity_get(id, (eid_identity_field)i);

			if (val != NULL)
				printf("%-21s %s\n", eid_identity_field_name((eid_identity_field)i), val);
		}
		printf("%-21s %s%s%s\n", "integrity",
		       v == EID_INTEGRITY_VALID
			       ? a->trust ? "valid (signed by the identity signer, which chains to a trusted root)"
					  : "valid against the card's own root (give --trust to check the identity signer)"
		       : v == EID_INTEGRITY_FAILED ? "FAILED" : "none (the card does not sign its data)",
		       reason ? ": " : "", reason ? reason : "");
	}
	if (v == EID_INTEGRITY_FAILED)
		cli_err("the identity data failed its integrity check: %s", reason ? reason : "?");
	eid_identity_free(id);
	return v == EID_INTEGRITY_FAILED ? EXIT_INTEGRITY : CLI_EXIT_OK;
}

static int cmd_photo(const card_args *a, eid_card *card)
{
	eid_identity *id = NULL;
	const unsigned char *jpeg;
	size_t len;
	int rc = CLI_EXIT_OK;

	if (a->output == NULL) {
		cli_err("photo needs -o FILE");
		return CLI_EXIT_ERROR;
	}
	if (eid_card_identity(card, &id) < 0 || eid_identity_photo(id, &jpeg, &len) < 0 ||
	    eid_file_write_atomic(a->output, jpeg, len) < 0)
		rc = fail();
	else if (eid_identity_integrity(id, NULL) == EID_INTEGRITY_FAILED) {
		cli_err("warning: the identity data failed its integrity check; the photo may not be genuine");
		rc = EXIT_INTEGRITY;
	}
	eid_identity_free(id);
	return rc;
}

static int cmd_certificate(const card_args *a, eid_card *card, const char *what)
{
	static const char *const names[] = { "", "auth", "sign", "ca", "root", "rrn" };
	eid_buf der = EID_BUF_INIT;
	int i, rc = CLI_EXIT_OK;

	for (i = 1; i < 6 && strcmp(names[i], what ? what : "") != 0; i++)
		;
	if (i == 6 || a->output == NULL) {
		cli_err("certificate takes auth, sign, ca, root or rrn, and -o FILE");
		return CLI_EXIT_ERROR;
	}
	if (eid_card_certificate(card, (eid_card_key)i, &der) < 0 || eid_file_write_atomic(a->output, der.data, der.len) < 0)
		rc = fail();
	eid_buf_clear(&der);
	return rc;
}

static int cmd_pin(const card_args *a, eid_card *card, const char *op)
{
	eid_card_pin which = a->which && strcmp(a->which, "sign") == 0 ? EID_PIN_SIGN : EID_PIN_AUTH;
	char pin[64], newpin[64], prompt[128];
	int tries = -1, rc, n1 = -1, n2 = 0, verify = strcmp(op, "verify") == 0, change = strcmp(op, "change") == 0;

	if (!verify && !change && strcmp(op, "unblock") != 0) {
		cli_err("pin takes verify, change or unblock");
		return CLI_EXIT_ERROR;
	}
	if (a->which && strcmp(a->which, "sign") != 0 && strcmp(a->which, "auth") != 0) {
		cli_err("--which takes auth or sign");
		return CLI_EXIT_ERROR;
	}
	/* nothing is asked for a PIN that is already blocked */
	if (eid_card_pin_tries(card, verify || change ? which : EID_PIN_PUK, &tries) == EID_OK && tries == 0) {
		cli_err("the %s is blocked; nothing was sent to the card", verify || change ? "PIN" : "PUK");
		return EXIT_PIN;
	}
	eid_error_clear();
	snprintf(prompt, sizeof(prompt), "%s for %s: ", verify || change ? "PIN" : "PUK", eid_card_description(card));
	if (a->pin_src != NULL || !eid_card_has_pinpad(card)) {
		if ((n1 = cli_read_secret(a->pin_src, prompt, pin, sizeof(pin))) < 0) {
			eid_memzero(pin, sizeof(pin));
			return CLI_EXIT_ERROR;
		}
	}
	if (!verify && (a->new_pin_src != NULL || (n1 >= 0 && !eid_card_has_pinpad(card))))
		n2 = cli_read_secret(a->new_pin_src, "New PIN: ", newpin, sizeof(newpin));
	if (n2 < 0) {
		eid_memzero(pin, sizeof(pin));
		eid_memzero(newpin, sizeof(newpin));
		return CLI_EXIT_ERROR;
	}
	if (verify)
		rc = eid_card_pin_verify(card, which, n1 >= 0 ? pin : NULL, &tries);
	else if (change)
		rc = eid_card_pin_change(card, which, n1 >= 0 ? pin : NULL, n1 >= 0 ? newpin : NULL, &tries);
	else
		rc = eid_card_pin_unblock(card, which, n1 >= 0 ? pin : NULL, n2 > 0 ? newpin : NULL, &tries);
	eid_memzero(pin, sizeof(pin));
	eid_memzero(newpin, sizeof(newpin));
	if (rc < 0) {
		int status = fail();

		if (rc == EID_EPIN_WRONG && tries >= 0)
			fprintf(stderr, "%s: %d tr%s left\n", cli_prog, tries, tries == 1 ? "y" : "ies");
		return status;
	}
	printf("%s\n", verify ? "PIN correct" : change ? "PIN changed" : "PIN unblocked");
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "wait", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "which", required_argument, NULL, 'W' },
		{ "trust", required_argument, NULL, 't' },
		{ "pin", required_argument, NULL, 'p' },
		{ "new-pin", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	card_args a;
	eid_card_ctx *ctx = NULL;
	eid_card *card = NULL;
	const char *cmd;
	int c, status;

	cli_set_prog(argv[0]);
	memset(&a, 0, sizeof(a));
	opterr = 0;
	while ((c = getopt_long(argc, argv, "r:w:jo:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'r': a.reader = optarg; break;
		case 'w': a.wait_s = atoi(optarg); break;
		case 'j': a.json = 1; break;
		case 'o': a.output = optarg; break;
		case 'W': a.which = optarg; break;
		case 't': a.trust = optarg; break;
		case 'p': a.pin_src = optarg; break;
		case 'n': a.new_pin_src = optarg; break;
		case 'h': usage(stdout); return CLI_EXIT_OK;
		case 'V': cli_print_version(); return CLI_EXIT_OK;
		default:
			cli_err("unknown option or missing argument: %s (see --help)", argv[optind - 1]);
			return CLI_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		cli_err("no command (readers, info, identity, photo, certificate, pin)");
		usage(stderr);
		return CLI_EXIT_ERROR;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "readers") == 0)
		return cmd_readers(&a);
	if (strcmp(cmd, "info") != 0 && strcmp(cmd, "identity") != 0 && strcmp(cmd, "photo") != 0 &&
	    strcmp(cmd, "certificate") != 0 && strcmp(cmd, "pin") != 0) {
		cli_err("unknown command '%s' (see --help)", cmd);
		return CLI_EXIT_ERROR;
	}
	if (strcmp(cmd, "pin") == 0 && optind + 1 >= argc) {
		cli_err("pin takes verify, change or unblock");
		return CLI_EXIT_ERROR;
	}
	if (open_card(&a, &ctx, &card) < 0) {
		status = fail();
	} else if (strcmp(cmd, "info") == 0) {
		status = cmd_info(&a, card);
	} else if (strcmp(cmd, "identity") == 0) {
		status = cmd_identity(&a, card);
	} else if (strcmp(cmd, "photo") == 0) {
		status = cmd_photo(&a, card);
	} else if (strcmp(cmd, "certificate") == 0) {
		status = cmd_certificate(&a, card, optind + 1 < argc ? argv[optind + 1] : NULL);
	} else {
		status = cmd_pin(&a, card, argv[optind + 1]);
	}
	eid_card_free(card);
	eid_card_ctx_free(ctx);
	return status;
}
