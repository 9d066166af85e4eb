/*
 * hdpgp-encrypt: outgoing mail encrypted, PGP/MIME (RFC 3156 §4), and
 * signed in the same pass with -s (§6.2).
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hdpgp.h"
#include "tool.h"

enum {
	OPT_SELF = 256,
	OPT_PROTECT,
};

static const struct option longopts[] = {
	{ "state-dir", required_argument, NULL, 'd' },
	{ "group", required_argument, NULL, 'g' },
	{ "help", no_argument, NULL, 'h' },
	{ "output-dir", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "local-user", required_argument, NULL, 'u' },
	{ "recipient", required_argument, NULL, 'r' },
	{ "sign", no_argument, NULL, 's' },
	{ "self", no_argument, NULL, OPT_SELF },
	{ "protect-subject", no_argument, NULL, OPT_PROTECT },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [-hqsV] [-d dir] [-u key | -g group] [-r address]... "
	    "[--self]\n"
	    "                     [--protect-subject] [file | -o outdir file...]\n",
	    getprogname());
	exit(status);
}

int
main(int argc, char *argv[])
{
	struct hd_out o = { 0 };
	struct hd_error e;
	const char *dir = NULL, *outdir = NULL;
	char *out, **rcpt;
	size_t outlen, nrcpt = 0;
	int ch, rc, staged;

	/* Before any passphrase, key or message is read. */
	if (hd_secure_init() != 0)
		err(EX_SOFTWARE, "core dumps cannot be disabled");
	atexit(tool_say_warnings);
	o.encrypt = 1;
	rcpt = calloc(argc, sizeof(*rcpt));
	if (rcpt == NULL)
		err(EX_TEMPFAIL, "calloc");
	o.rcpt = rcpt;
	while ((ch = getopt_long(argc, argv, "d:g:ho:qr:su:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'g':
			o.group = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'q':
			break;
		case 'r':
			rcpt[nrcpt++] = optarg;
			break;
		case 's':
			o.sign = 1;
			break;
		case 'u':
			o.signer = optarg;
			break;
		case OPT_SELF:
			o.self = 1;
			break;
		case OPT_PROTECT:
			o.protect = 1;
			break;
		case 'V':
			printf("%s %s\n", getprogname(), PACKAGE_VERSION);
			free(rcpt);
			return 0;
		case 'h':
			usage(0);
		default:
			usage(EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if ((argc > 1 && outdir == NULL) || (outdir != NULL && argc == 0) ||
	    (o.signer != NULL && o.group != NULL))
		usage(EX_USAGE);
	if (outdir != NULL) {
		rc = hd_batch(dir, argv, argc, outdir, hd_batch_outgoing, &o,
		    tool_report_failed, NULL);
		free(rcpt);
		return hd_exit_status(rc);
	}
	if ((rc = hd_outgoing(dir, argc ? argv[0] : NULL, &o, &out, &outlen,
	    &staged, &e)) != 0) {
		tool_warn_lines(hd_error_text(&e));
		exit(hd_exit_status(rc));
	}
	if (hd_emit(out, outlen, staged, STDOUT_FILENO) != 0)
		err(EX_IOERR, "stdout");
	free(out);
	free(rcpt);
	return 0;
}
