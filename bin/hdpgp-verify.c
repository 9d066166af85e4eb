/*
 * hdpgp-verify: incoming mail with the verdict on its signatures.
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hdpgp.h"

#ifndef HD_DECRYPT
#define HD_DECRYPT	0
#endif

static const struct option longopts[] = {
	{ "check", no_argument, NULL, 'c' },
	{ "state-dir", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'j' },
	{ "output-dir", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [-c | -j] [-hqV] [-d dir] [file]\n"
	    "       %s [-hqV] [-d dir] -o outdir file...\n"
	    "       %s -c | -j [-hqV] [-d dir] file...\n", getprogname(),
	    getprogname(), getprogname());
	exit(status);
}

/* Several files: how each outcome is shown, and the status to exit with. */
struct batch {
	int	show;		/* each result to stdout */
	int	check;		/* statuses count: not filter mode */
	int	worst;
};

/* Of several statuses, the one to report: bad, untrusted, none, good. */
static int
rank(int status)
{
	switch (status) {
	case HD_OK:
		return 0;
	case HD_NONE:
		return 1;
	case HD_UNTRUSTED:
		return 2;
	default:
		return 3;
	}
}

static int
report(const struct hd_batch_item *it, void *arg)
{
	struct batch *b = arg;

	if (it->cause != 0) {
		warnx("%s", it->error);
		return 0;
	}
	if (b->check && rank(it->status) > rank(b->worst))
		b->worst = it->status;
	if (it->out != NULL && b->show && (fwrite(it->out, 1, it->outlen,
	    stdout) != it->outlen || fflush(stdout) != 0)) {
		/* Nobody reads the rest: stop here. */
		warn("stdout");
		return HD_E_IO;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct hd_in o = { HD_IN_FILTER, HD_DECRYPT };
	struct batch b = { 0 };
	struct hd_error e;
	const char *dir = NULL, *outdir = NULL;
	char *out;
	size_t outlen;
	int ch, rc, quiet = 0, staged, status;

	/* Before any passphrase, key or message is read. */
	if (hd_secure_init() != 0)
		err(EX_SOFTWARE, "core dumps cannot be disabled");
	while ((ch = getopt_long(argc, argv, "cd:hjo:qV", longopts, NULL)) !=
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
		case 'o':
			outdir = optarg;
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
	/* Several files: into a directory, or their verdicts alone. */
	if (outdir != NULL || argc > 1) {
		if (argc == 0 || (outdir != NULL) != (o.mode == HD_IN_FILTER))
			usage(EX_USAGE);
		b.show = !(quiet && o.mode == HD_IN_CHECK);
		b.check = o.mode != HD_IN_FILTER;
		rc = hd_batch(dir, argv, argc, outdir, hd_batch_incoming, &o,
		    report, &b);
		return rc != 0 ? hd_exit_status(rc) : b.worst;
	}
	if ((rc = hd_incoming(dir, argc ? argv[0] : NULL, &o, &out, &outlen,
	    &staged, &status, &e)) != 0)
		errx(hd_exit_status(rc), "%s", hd_error_text(&e));
	/* -q: check mode speaks through its exit status alone. */
	if (!(quiet && o.mode == HD_IN_CHECK) &&
	    hd_emit(out, outlen, staged, STDOUT_FILENO) != 0)
		err(EX_IOERR, "stdout");
	free(out);
	/* Filter mode keeps the mail whatever the verdict. */
	return o.mode == HD_IN_FILTER ? HD_OK : status;
}
