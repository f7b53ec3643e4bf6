/* eid-verify: validate signatures and report in ETSI EN 319 102-1 terms. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <eid/eid.h>

#include "cli.h"

/* Exit statuses (the CLI contract). */
#define EXIT_PASSED 0
#define EXIT_INDETERMINATE 1
#define EXIT_FAILED 2

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s FILE... [--trust FILE|DIR]... [--untrusted FILE|DIR]... [--data FILE|DIR]\n"
		"          [--json] [--online]\n"
		"Validate the signatures in each FILE and report per signature an indication\n"
		"(TOTAL-PASSED, INDETERMINATE, TOTAL-FAILED) and sub-indication (ETSI EN 319 102-1).\n"
		"\n"
		"  -t, --trust FILE|DIR  trust anchors: PEM or DER certificates, or a folder of them\n"
		"  -u, --untrusted FILE|DIR  intermediate CA certificates that may complete a\n"
		"                        chain (never trusted themselves)\n"
		"  -d, --data FILE|DIR   the signed file, for detached signatures (default for\n"
		"                        X.p7s: X, when it exists); it applies to every FILE;\n"
		"                        a folder holds the files a detached XML signature names\n"
		"      --at TIME         validate as of that time (UTC, YYYY-MM-DDTHH:MM:SSZ or\n"
		"                        YYYY-MM-DD) instead of now\n"
		"  -j, --json            the report as JSON (an array when several files are given)\n"
		"      --online          ask the signer's OCSP responder (named in its certificate)\n"
		"                        for its revocation status\n"
		"      --timeout SECONDS for each exchange with a server (default 20)\n"
		"      --crypto-policy FILE  algorithm sunset dates, one per line, replacing the\n"
		"                        built-in ones: 'sha1 2016-01-01', 'rsa<2048 2019-01-01'\n"
		"  -q, --quiet           print nothing, only set the exit status\n"
		"  -h, --help            this help\n"
		"  -V, --version         the version\n"
		"\n"
		"Exit status: 0 all TOTAL-PASSED, 1 some INDETERMINATE, 2 some TOTAL-FAILED,\n"
		"3 usage or input error.\n",
		cli_prog);
}

/* X.p7s / X.p7m / X.sig beside X: the usual naming of a detached signature. */
static char *guess_data(const char *path)
{
	static const char *const exts[] = { ".p7s", ".sig", ".p7m", ".pkcs7" };
	size_t n = strlen(path), i, e;
	char *data;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		e = strlen(exts[i]);
		if (n > e && strcmp(path + n - e, exts[i]) == 0) {
			data = strndup(path, n - e);
			if (data != NULL && access(data, R_OK) == 0)
				return data;
			free(data);
		}
	}
	return NULL;
}

/* YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD (midnight), UTC. */
static int parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (end == NULL || *end != '\0' || tm.tm_year < 70)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "untrusted", required_argument, NULL, 'u' },
		{ "data", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "online", no_argument, NULL, 'O' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "at", required_argument, NULL, 'a' },
		{ "crypto-policy", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	eid_trust *trust = NULL;
	const char *data = NULL;
	int64_t at = 0;
	int c, json = 0, quiet = 0, online = 0, timeout = 0, status = EXIT_PASSED, i, printed = 0;
	eid_online *net = NULL;
	const char *crypto_policy = NULL;

	cli_set_prog(argv[0]);
	if (eid_trust_new(&trust) < 0) {
		cli_err("%s", eid_error_last()->message);
		return CLI_EXIT_ERROR;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, "t:u:d:jqhV", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (eid_trust_add_file(trust, optarg) < 0) {
				cli_err("%s", eid_error_last()->message);
				eid_trust_free(trust);
				return CLI_EXIT_ERROR;
			}
			break;
		case 'u':
			if (eid_trust_add_intermediates(trust, optarg) < 0) {
				cli_err("%s", eid_error_last()->message);
				eid_trust_free(trust);
				return CLI_EXIT_ERROR;
			}
			break;
		case 'd': data = optarg; break;
		case 'j': json = 1; break;
		case 'O': online = 1; break;
		case 'C': crypto_policy = optarg; break;
		case 'W': timeout = atoi(optarg); break;
		case 'q': quiet = 1; break;
		case 'a':
			if (parse_time(optarg, &at) < 0) {
				cli_err("--at takes a UTC time as YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD, not '%s'", optarg);
				eid_trust_free(trust);
				return CLI_EXIT_ERROR;
			}
			break;
		case 'h': usage(stdout); eid_trust_free(trust); return CLI_EXIT_OK;
		case 'V': cli_print_version(); eid_trust_free(trust); return CLI_EXIT_OK;
		default:
			cli_err("unknown option or missing argument: %s (see --help)", argv[optind - 1]);
			eid_trust_free(trust);
			return CLI_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		cli_err("no file to verify");
		usage(stderr);
		eid_trust_free(trust);
		return CLI_EXIT_ERROR;
	}
	if (online && (eid_online_new(&net) < 0 || (timeout != 0 && eid_online_set_timeout(net, timeout) < 0))) {
		cli_err("%s", eid_error_last()->message);
		eid_online_free(net);
		eid_trust_free(trust);
		return CLI_EXIT_ERROR;
	}
	if (eid_trust_count(trust) == 0 && !quiet)
		cli_err("warning: no --trust anchors: no chain can be trusted");
	if (json && !quiet && argc - optind > 1)
		fputs("[\n", stdout);
	for (i = optind; i < argc; i++) {
		eid_verify_opts vo = EID_VERIFY_OPTS_INIT;
		eid_report *report = NULL;
		eid_buf text = EID_BUF_INIT;
		char *guessed = data ? NULL : guess_data(argv[i]);
		int file_status;

		vo.trust = trust;
		vo.data_path = data ? data : guessed;
		vo.validation_time = at;
		vo.online = net;
		vo.crypto_policy = crypto_policy;
		if (eid_verify_file(&report, argv[i], &vo) < 0) {
			cli_err("%s: %s", argv[i], eid_error_last()->message);
			free(guessed);
			status = CLI_EXIT_ERROR;
			continue;
		}
		free(guessed);
		switch (eid_report_indication(report)) {
		case EID_TOTAL_PASSED: file_status = EXIT_PASSED; break;
		case EID_INDETERMINATE: file_status = EXIT_INDETERMINATE; break;
		default: file_status = EXIT_FAILED; break;
		}
		if (file_status > status)
			status = file_status;
		if (!quiet && (json ? eid_report_to_json(report, &text) : eid_report_to_text(report, &text)) == EID_OK) {
			if (printed > 0)
				fputs(json ? ",\n" : "\n", stdout);
			fwrite(text.data, 1, text.len, stdout);
			printed++;
		}
		eid_buf_clear(&text);
		eid_report_free(report);
	}
	if (json && !quiet && argc - optind > 1)
		fputs("]\n", stdout);
	eid_trust_free(trust);
	eid_online_free(net);
	return status;
}
