/*
 * hdpgp-log: the recent security actions, and pruning for cron.
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdpgp.h"

enum {
	OPT_FAILED = 256,
	OPT_IN,
	OPT_OUT,
	OPT_SINCE,
	OPT_MSGID,
	OPT_OLDER,
	OPT_KEEP,
};

static const struct option longopts[] = {
	{ "state-dir", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'j' },
	{ "count", required_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, 'V' },
	{ "failed", no_argument, NULL, OPT_FAILED },
	{ "in", no_argument, NULL, OPT_IN },
	{ "out", no_argument, NULL, OPT_OUT },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "message-id", required_argument, NULL, OPT_MSGID },
	{ "older-than", required_argument, NULL, OPT_OLDER },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ NULL, 0, NULL, 0 }
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [-jqV] [-d dir] [-n count] [--failed] [--in | --out]\n"
	    "                 [--since time] [--message-id id]\n"
	    "       %s [-q] [-d dir] prune --older-than days | --keep count\n",
	    getprogname(), getprogname());
	exit(status);
}

static const char *
or_dash(const char *s)
{
	return s != NULL && *s != '\0' ? s : "-";
}

static int
print_text(const char *json, const struct hd_logrec *r, void *arg)
{
	char when[32];

	(void)json;
	(void)arg;
	hd_time_iso(r->time, when, sizeof(when));
	/* Fields were sanitised when the record was written. */
	printf("%s %-3s %-12s %-7s %s%s%s %s -> %s", when,
	    or_dash(r->direction), or_dash(r->action), or_dash(r->result),
	    r->message_id != NULL ? "<" : "", or_dash(r->message_id),
	    r->message_id != NULL ? ">" : "", or_dash(r->from),
	    or_dash(r->to));
	if (r->group != NULL)
		printf(" group=%s", r->group);
	if (r->keys != NULL)
		printf(" keys=%s", r->keys);
	if (r->comment != NULL)
		printf(": %s", r->comment);
	printf("\n");
	return 0;
}

static int
print_json(const char *json, const struct hd_logrec *r, void *arg)
{
	(void)r;
	(void)arg;
	printf("%s\n", json);
	return 0;
}

/* What the library left to say (hd_state_warnings), said. */
static void
print_warnings(struct hd_state *st)
{
	char **w;
	size_t i;

	if ((w = hd_state_warnings(st)) == NULL)
		return;
	for (i = 0; w[i] != NULL; i++) {
		warnx("%s", w[i]);
		free(w[i]);
	}
	free(w);
}

static long long
number(const char *opt, const char *s, long long max)
{
	const char *errstr;
	long long n;

	n = strtonum(s, 1, max, &errstr);
	if (errstr != NULL)
		errx(EX_USAGE, "%s %s: %s", opt, s, errstr);
	return n;
}

int
main(int argc, char *argv[])
{
	struct hd_logquery q = { 20, 0, NULL, 0, NULL };
	struct hd_state *st;
	struct hd_error e;
	const char *dir = NULL, *older = NULL, *keep = NULL;
	char *msgid = NULL;
	uint64_t gone, count;
	time_t before;
	int ch, rc, json = 0, quiet = 0;

	/* Before any passphrase, key or message is read. */
	if (hd_secure_init() != 0)
		err(EX_SOFTWARE, "core dumps cannot be disabled");
	while ((ch = getopt_long(argc, argv, "d:hjn:qV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'n':
			q.max = number("-n", optarg, 100000000);
			break;
		case 'q':
			quiet = 1;
			break;
		case 'V':
			printf("%s %s\n", getprogname(), PACKAGE_VERSION);
			return 0;
		case OPT_FAILED:
			q.failed = 1;
			break;
		case OPT_IN:
		case OPT_OUT:
			q.direction = ch == OPT_IN ? "in" : "out";
			break;
		case OPT_SINCE:
			if (hd_parse_time(optarg, &q.since, &e) != 0)
				errx(EX_USAGE, "--since %s: not a time "
				    "(2026-11-29, 2026-11-29T12:00:00Z, 3d, "
				    "12h)", optarg);
			break;
		case OPT_MSGID:
			/* Stored without the angle brackets. */
			msgid = strdup(optarg + (*optarg == '<'));
			if (msgid == NULL)
				err(EX_TEMPFAIL, "strdup");
			msgid[strcspn(msgid, ">")] = '\0';
			q.message_id = msgid;
			break;
		case OPT_OLDER:
			older = optarg;
			break;
		case OPT_KEEP:
			keep = optarg;
			break;
		case 'h':
			usage(0);
		default:
			usage(EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || (argc == 1 && strcmp(argv[0], "prune") != 0))
		usage(EX_USAGE);
	if (argc == 1 && (older == NULL) == (keep == NULL))
		errx(EX_USAGE, "prune: give --older-than or --keep");
	if (argc == 0 && (older != NULL || keep != NULL))
		errx(EX_USAGE, "--older-than and --keep go with prune");
	/* Numbers are checked before the state is touched. */
	before = older != NULL ? time(NULL) - number("--older-than", older,
	    36500) * 86400 : 0;
	count = keep != NULL ? number("--keep", keep, 1000000000) : 0;
	/* An empty log needs no pruning: nothing is created for it. */
	if ((rc = hd_state_open(&st, dir, 0, &e)) != 0)
		errx(hd_exit_status(rc), "%s", hd_error_text(&e));
	if (argc == 1) {
		rc = hd_log_prune(st, before, count, &gone, &e);
		if (rc != 0)
			errx(hd_exit_status(rc), "%s", hd_error_text(&e));
		if (!quiet)
			warnx("%llu records pruned", (unsigned long long)gone);
	} else
		hd_log_query(st, &q, json ? print_json : print_text, NULL);
	print_warnings(st);
	hd_state_close(st);
	free(msgid);
	if (fflush(stdout) != 0)
		err(EX_IOERR, "stdout");
	return 0;
}
