/*
 * hdpgp-sign: outgoing mail signed, PGP/MIME (RFC 3156 §5).
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

static const struct option longopts[] = {
	{ "state-dir", required_argument, NULL, 'd' },
	{ "group", required_argument, NULL, 'g' },
	{ "help", no_argument, NULL, 'h' },
	{ "output-dir", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "local-user", required_argument, NULL, 'u' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [-hqV] [-d dir] [-u key | -g group] [file]\n"
	    "       %s [-hqV] [-d dir] [-u key | -g group] -o outdir file...\n",
	    getprogname(), getprogname());
	exit(status);
}

int
main(int argc, char *argv[])
{
	struct hd_out o = { 0 };
	struct hd_error e;
	const char *dir = NULL, *outdir = NULL;
	char *out;
	size_t outlen;
	int ch, rc, staged;

	/* Before any passphrase, key or message is read. */
	if (hd_secure_init() != 0)
		err(EX_SOFTWARE, "core dumps cannot be disabled");
	atexit(tool_say_warnings);
	o.sign = 1;
	while ((ch = getopt_long(argc, argv, "d:g:ho:qu:V", longopts, NULL)) !=
	    -1) {
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
		case 'u':
			o.signer = optarg;
			break;
		case 'V':
			printf("%s %s\n", getprogname(), PACKAGE_VERSION);
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
	return 0;
}
