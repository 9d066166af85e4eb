/*
 * incoming-cli.c: options, usage and the one-file or many-files run that
 * hdpgp-verify and hdpgp-decrypt share.
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hdpgp.h"
#include "incoming-cli.h"
#include "tool.h"

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

/* Fills c from the command line; c->in.decrypt is the caller's. */
void
incoming_cli_parse(struct incoming_cli *c, int argc, char *argv[])
{
	int ch;

	atexit(tool_say_warnings);
	while ((ch = getopt_long(argc, argv, "cd:hjo:qV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			c->in.mode = HD_IN_CHECK;
			break;
		case 'd':
			c->dir = optarg;
			break;
		case 'j':
			c->in.mode = HD_IN_JSON;
			break;
		case 'o':
			c->outdir = optarg;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'V':
			printf("%s %s\n", getprogname(), PACKAGE_VERSION);
			exit(0);
		case 'h':
			usage(0);
		default:
			usage(EX_USAGE);
		}
	}
	c->files = argv + optind;
	c->nfiles = argc - optind;
	/* Several files: into a directory, or their verdicts alone. */
	if ((c->outdir != NULL || c->nfiles > 1) && (c->nfiles == 0 ||
	    (c->outdir != NULL) != (c->in.mode == HD_IN_FILTER)))
		usage(EX_USAGE);
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

/* One file's outcome, as hd_batch hands it over. */
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

/* The exit status of the run. */
int
incoming_cli_run(const struct incoming_cli *c)
{
	struct batch b = { 0 };
	struct hd_error e;
	char *out;
	size_t outlen;
	int rc, staged, status, silent;

	/* -q: check mode speaks through its exit status alone. */
	silent = c->quiet && c->in.mode == HD_IN_CHECK;
	if (c->outdir != NULL || c->nfiles > 1) {
		b.show = !silent;
		b.check = c->in.mode != HD_IN_FILTER;
		rc = hd_batch(c->dir, c->files, c->nfiles, c->outdir,
		    hd_batch_incoming, &c->in, report, &b);
		return rc != 0 ? hd_exit_status(rc) : b.worst;
	}
	if ((rc = hd_incoming(c->dir, c->nfiles ? c->files[0] : NULL, &c->in,
	    &out, &outlen, &staged, &status, &e)) != 0)
		errx(hd_exit_status(rc), "%s", hd_error_text(&e));
	if (!silent && hd_emit(out, outlen, staged, STDOUT_FILENO) != 0)
		err(EX_IOERR, "stdout");
	free(out);
	/* Filter mode keeps the mail whatever the verdict. */
	return c->in.mode == HD_IN_FILTER ? HD_OK : status;
}
