/*
 * hdpgp-verify: incoming mail with the verdict on its signatures.
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "hdpgp.h"

#ifndef HD_DECRYPT
#define HD_DECRYPT	0
#endif

static const struct option longopts[] = {
	{ "check", no_argument, NULL, 'c' },
	{ "state-dir", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [-c | -j] [-hqV] [-d dir] [file]\n", getprogname());
	exit(status);
}

int
main(int argc, char *argv[])
{
	struct hd_in o = { HD_IN_FILTER, HD_DECRYPT };
	struct hd_error e;
	const char *dir = NULL;
	char *out;
	size_t outlen;
	int ch, rc, quiet = 0;

	while ((ch = getopt_long(argc, argv, "cd:hjqV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			o.mode = HD_IN_CHECK;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'j':
			o.mode = HD_IN_JSON;
			break;
		case 'q':
			quiet = 1;
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
	if (argc > 1)
		usage(EX_USAGE);
	rc = hd_incoming(dir, argc ? argv[0] : NULL, &o, &out, &outlen, &e);
	if (out == NULL)
		errx(rc, "%s", e.text);
	/* -q: check mode speaks through its exit status alone. */
	if (!(quiet && o.mode == HD_IN_CHECK) &&
	    (fwrite(out, 1, outlen, stdout) != outlen || fflush(stdout) != 0))
		err(EX_IOERR, "stdout");
	free(out);
	return rc;
}
