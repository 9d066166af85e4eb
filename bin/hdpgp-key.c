/*
 * hdpgp-key: the key store.
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hdpgp.h"
#include "key-print.h"
#include "tool.h"

enum {
	OPT_PASSFILE = 256,
	OPT_PASSFD,
	OPT_ALIAS,
	OPT_SECRET,
	OPT_BINARY,
	OPT_NAME,
	OPT_EXPIRE,
	OPT_ALGO,
	OPT_NONE,
	OPT_DAYS,
	OPT_REPLACE,
	OPT_FORCE,
	OPT_ALL,
	OPT_OLDER,
	OPT_KEYSERVER,
	OPT_CAFILE,
	OPT_RESOLVE,
	OPT_TIMEOUT,
	OPT_WKD,
	OPT_DOMAIN,
	OPT_METHOD,
};

static const struct option longopts[] = {
	{ "state-dir", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, 'V' },
	{ "passphrase-file", required_argument, NULL, OPT_PASSFILE },
	{ "passphrase-fd", required_argument, NULL, OPT_PASSFD },
	{ "domain-alias", required_argument, NULL, OPT_ALIAS },
	{ "secret", no_argument, NULL, OPT_SECRET },
	{ "binary", no_argument, NULL, OPT_BINARY },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "expire", required_argument, NULL, OPT_EXPIRE },
	{ "algo", required_argument, NULL, OPT_ALGO },
	{ "none", no_argument, NULL, OPT_NONE },
	{ "days", required_argument, NULL, OPT_DAYS },
	{ "replace", no_argument, NULL, OPT_REPLACE },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "older-than", required_argument, NULL, OPT_OLDER },
	{ "keyserver", required_argument, NULL, OPT_KEYSERVER },
	{ "ca-file", required_argument, NULL, OPT_CAFILE },
	{ "resolve", required_argument, NULL, OPT_RESOLVE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "wkd", required_argument, NULL, OPT_WKD },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "method", required_argument, NULL, OPT_METHOD },
	{ NULL, 0, NULL, 0 }
};

static struct {
	const char	*dir;
	int		 json;
	int		 quiet;
	const char	*passfile;
	int		 passfd;
	const char	*alias;
	int		 secret;
	int		 binary;
	const char	*name;
	const char	*expire;
	const char	*algo;
	int		 none;
	const char	*days;
	int		 replace;
	struct hd_net	 net;
	const char	*wkd;
	const char	*domain;
	int		 direct;
	unsigned	 seen;		/* command options given, by bit */
} opt = { .passfd = -1, .net = { .timeout = HD_TIMEOUT } };

#define BIT(o)	(1u << ((o) - OPT_ALIAS))

static const char *
optname(int val)
{
	const struct option *o;

	for (o = longopts; o->name != NULL; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [-jqV] [-d dir] [--passphrase-file file | "
	    "--passphrase-fd fd]\n"
	    "           command [argument ...]\n"
	    "       import [--domain-alias domain] [--replace] [file ...]\n"
	    "       list [pattern]\n"
	    "       show key\n"
	    "       export [--secret] [--binary] key\n"
	    "       delete key ...\n"
	    "       generate address [--name name] [--expire period] "
	    "[--algo algo]\n"
	    "       passwd key\n"
	    "       alias key domain | alias key --none\n"
	    "       prefer key address\n"
	    "       check [--days n]\n"
	    "       locate [--force] [network option ...] address ...\n"
	    "       refresh [--older-than period] [--all] [network option ...]\n"
	    "           [address | key ...]\n"
	    "       publish --wkd dir [--domain domain] "
	    "[--method advanced | direct] [key ...]\n"
	    "network options: [--keyserver url] [--ca-file file] "
	    "[--resolve host:port:address]\n"
	    "           [--timeout seconds]\n", getprogname());
	exit(status);
}

/*
 * The passphrase source, read when first needed (an import of public
 * keys needs none, and an import keeps its scratch home only while it
 * waits for a descriptor): --passphrase-file or --passphrase-fd, read
 * once, else the terminal.  The library runs askpass and gets a string or
 * NULL; a source that cannot be read leaves its error in src.error, said
 * once the library has returned and cleaned up after itself.
 */
static struct {
	int		 read;		/* the file or descriptor, once */
	char		*text;
	struct hd_error	 error;		/* cause HD_E_NONE: none */
} src;

static char *
askpass(void *arg, const char *prompt)
{
	(void)arg;
	if (opt.passfile == NULL && opt.passfd == -1)
		return hd_passphrase_tty(prompt);
	if (!src.read) {
		src.read = 1;
		if (opt.passfile != NULL)
			hd_passphrase_file(opt.passfile, &src.text,
			    &src.error);
		else
			hd_passphrase_fd(opt.passfd, &src.text, &src.error);
	}
	return src.text != NULL ? strdup(src.text) : NULL;
}

static const struct hd_askpass ask = { askpass, NULL };

static struct hd_state *state;	/* open: its warnings are said at exit */

/* What the library left to say (hd_state_warnings), said. */
static void
print_warnings(void)
{
	char **w;
	size_t i;

	if (state == NULL || (w = hd_state_warnings(state)) == NULL)
		return;
	for (i = 0; w[i] != NULL; i++) {
		warnx("%s", w[i]);
		free(w[i]);
	}
	free(w);
}

/* An error of one problem a line, each line as a message of its own. */
static void
print_error(const struct hd_error *e)
{
	tool_warn_lines(hd_error_text(e));
}

static void __attribute__((noreturn))
die(const struct hd_error *e)
{
	print_warnings();
	print_error(e);
	exit(hd_exit_status(e->cause));
}

static char *
need_passphrase(const char *prompt, const char *what, int confirm)
{
	char *p, *again;

	p = askpass(NULL, prompt);
	if (p == NULL && src.error.cause != HD_E_NONE)
		die(&src.error);
	if (p == NULL)
		errx(EX_USAGE, "%s: passphrase required (--passphrase-file, "
		    "--passphrase-fd or a terminal)", what);
	if (confirm && opt.passfile == NULL && opt.passfd == -1) {
		again = hd_passphrase_tty("Repeat passphrase: ");
		if (again == NULL || strcmp(again, p) != 0)
			errx(EX_USAGE, "%s: passphrases do not match", what);
		hd_secure_free(again);
	}
	if (*p == '\0')
		errx(EX_USAGE, "%s: empty passphrase", what);
	return p;
}

static void
print_json(char *s)
{
	printf("%s\n", s);
	free(s);
}

static int
cmd_import(struct hd_state *st, int argc, char **argv)
{
	static const char *how[] = { "imported", "secret-added", "updated",
	    "unchanged", "revoked" };
	struct hd_import res;
	struct hd_error e;
	char *buf;
	size_t len, i;
	int n, rc, status = 0;

	for (n = 0; n == 0 || n < argc; n++) {
		const char *file = argc > 0 ? argv[n] : NULL;

		if ((rc = hd_read_file(file, &buf, &len, &e)) != 0) {
			warnx("%s", e.text);
			status = status ? status : rc;
			continue;
		}
		rc = hd_key_import(st, buf, len, opt.alias,
		    opt.replace ? HD_IMPORT_REPLACE : 0, &ask, &res, &e);
		free(buf);
		/* No passphrase to be had: the next file would not fare better. */
		if (src.error.cause != HD_E_NONE)
			die(&src.error);
		if (rc != 0) {
			warnx("%s: %s", file != NULL ? file : "stdin", e.text);
			status = status ? status : rc;
			continue;
		}
		for (i = 0; i < res.n; i++) {
			if (opt.json)
				continue;
			printf("%s %-12s %s %s\n", res.item[i].fpr,
			    how[res.item[i].how],
			    res.item[i].secret ? "sec" : "pub",
			    res.item[i].uid);
			key_print_roles(res.item[i].fpr, res.item[i].role,
			    res.item[i].nrole);
		}
		for (i = 0; i < res.n; i++) {
			/* A conflict is worth a warning even with -q or -j. */
			if (res.item[i].how != HD_IMPORT_REVOKED)
				key_warn_roles(res.item[i].fpr,
				    res.item[i].role, res.item[i].nrole);
			if (opt.quiet || opt.json)
				continue;
			if (res.item[i].how == HD_IMPORT_UNCHANGED)
				warnx("%s: already present", res.item[i].fpr);
			if (res.item[i].warning != NULL)
				warnx("%s: warning: %s", res.item[i].fpr,
				    res.item[i].warning);
			if (res.item[i].dropped > 0)
				warnx("%s: %zu signatures by keys not in the "
				    "store dropped", res.item[i].fpr,
				    res.item[i].dropped);
		}
		if (opt.json)
			print_json(hd_import_json(&res));
		hd_import_free(&res);
	}
	return hd_exit_status(status);
}

static int
cmd_list(struct hd_state *st, int argc, char **argv)
{
	struct hd_keyset ks, shown = { 0, NULL };
	struct hd_error e;
	time_t now = time(NULL);
	size_t i;
	int rc;

	if (argc > 1)
		usage(EX_USAGE);
	/* A damaged record is named; the others are listed all the same. */
	if ((rc = hd_key_all(st, &ks, &e)) != 0 && rc != HD_E_CONFIG)
		die(&e);
	shown.key = ks.key;
	for (i = 0; i < ks.n; i++) {
		if (!hd_key_matches(&ks.key[i], argc ? argv[0] : NULL))
			continue;
		hd_key_roles(st, &ks.key[i], now);
		if (opt.json) {
			/* Keep the matches in place for one JSON array. */
			struct hd_key tmp = ks.key[shown.n];

			ks.key[shown.n++] = ks.key[i];
			ks.key[i] = tmp;
		} else
			key_print_line(&ks.key[i], now);
	}
	if (opt.json)
		print_json(hd_keyset_json(&shown, now, 0));
	hd_keyset_free(&ks);
	if (rc != 0)
		print_error(&e);
	return hd_exit_status(rc);
}

static int
cmd_show(struct hd_state *st, int argc, char **argv)
{
	struct hd_keyset ks;
	struct hd_error e;
	time_t now = time(NULL);
	size_t i;
	int rc;

	if (argc != 1)
		usage(EX_USAGE);
	if ((rc = hd_key_find(st, argv[0], &ks, &e)) != 0)
		die(&e);
	for (i = 0; i < ks.n; i++)
		hd_key_roles(st, &ks.key[i], now);
	if (opt.json)
		print_json(hd_keyset_json(&ks, now, 1));
	else
		for (i = 0; i < ks.n; i++) {
			if (i > 0)
				printf("\n");
			key_print_show(&ks.key[i], now);
		}
	hd_keyset_free(&ks);
	return 0;
}

static int
cmd_export(struct hd_state *st, int argc, char **argv)
{
	struct hd_error e;
	char *buf;
	size_t len;
	int rc;

	if (argc != 1)
		usage(EX_USAGE);
	if ((rc = hd_key_export(st, argv[0], opt.secret, opt.binary, &buf,
	    &len, &e)) != 0)
		die(&e);
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
		err(EX_IOERR, "stdout");
	free(buf);
	return 0;
}

static int
cmd_delete(struct hd_state *st, int argc, char **argv)
{
	struct hd_error e;
	int i, rc, status = 0;

	if (argc < 1)
		usage(EX_USAGE);
	for (i = 0; i < argc; i++)
		if ((rc = hd_key_delete(st, argv[i], &e)) != 0) {
			warnx("%s", e.text);
			status = status ? status : rc;
		} else if (!opt.quiet)
			warnx("%s: deleted", argv[i]);
	return hd_exit_status(status);
}

static int
cmd_generate(struct hd_state *st, int argc, char **argv)
{
	struct hd_error e;
	char fpr[41], *pass, *prompt;
	long expires = 0;
	int rc;

	if (argc != 1)
		usage(EX_USAGE);
	if (opt.expire != NULL && hd_parse_period(opt.expire, &expires,
	    &e) != 0)
		die(&e);
	if (asprintf(&prompt, "New passphrase for %s: ", argv[0]) == -1)
		err(EX_TEMPFAIL, "asprintf");
	pass = need_passphrase(prompt, argv[0], 1);
	free(prompt);
	rc = hd_key_generate(st, argv[0], opt.name,
	    opt.algo != NULL ? opt.algo : "ed25519", expires, pass, fpr, &e);
	hd_secure_free(pass);
	if (rc != 0)
		die(&e);
	printf("%s\n", fpr);
	return 0;
}

static int
cmd_passwd(struct hd_state *st, int argc, char **argv)
{
	struct hd_error e;
	char *pass, *prompt;
	int rc;

	if (argc != 1)
		usage(EX_USAGE);
	if (asprintf(&prompt, "Passphrase for %s: ", argv[0]) == -1)
		err(EX_TEMPFAIL, "asprintf");
	pass = need_passphrase(prompt, argv[0], 0);
	free(prompt);
	rc = hd_key_passwd(st, argv[0], pass, &e);
	hd_secure_free(pass);
	if (rc != 0)
		die(&e);
	if (!opt.quiet)
		warnx("%s: passphrase stored", argv[0]);
	return 0;
}

static int
cmd_alias(struct hd_state *st, int argc, char **argv)
{
	struct hd_error e;
	int rc;

	if (argc != (opt.none ? 1 : 2))
		usage(EX_USAGE);
	if ((rc = hd_key_alias(st, argv[0], opt.none ? NULL : argv[1],
	    &e)) != 0)
		die(&e);
	return 0;
}

static int
cmd_check(struct hd_state *st, int argc, char **argv)
{
	struct hd_keyset ks, due = { 0, NULL };
	struct hd_conflict *conflicts;
	struct hd_error e, damaged = { 0 };
	size_t nconflicts;
	const char *errstr;
	time_t now = time(NULL);
	long long days = HD_EXPIRING_DAYS;
	size_t i;
	int rc;

	(void)argv;
	if (argc != 0)
		usage(EX_USAGE);
	if (opt.days != NULL) {
		days = strtonum(opt.days, 0, 36500, &errstr);
		if (errstr != NULL)
			errx(EX_USAGE, "--days %s: %s", opt.days, errstr);
	}
	/* A damaged record is named; the others are checked all the same. */
	if ((rc = hd_key_all(st, &ks, &damaged)) != 0 && rc != HD_E_CONFIG)
		die(&damaged);
	if ((rc = hd_key_conflicts(st, &conflicts, &nconflicts, &e)) != 0)
		die(&e);
	due.key = ks.key;
	for (i = 0; i < ks.n; i++) {
		struct hd_key tmp;

		if (ks.key[i].revoked || ks.key[i].expires == 0 ||
		    ks.key[i].expires > now + days * 86400)
			continue;
		tmp = ks.key[due.n];
		ks.key[due.n++] = ks.key[i];
		ks.key[i] = tmp;
	}
	for (i = 0; i < due.n; i++)
		hd_key_roles(st, &due.key[i], now);
	if (opt.json)
		print_json(hd_check_json(&due, conflicts, nconflicts, now));
	else {
		for (i = 0; i < due.n; i++)
			key_print_line(&due.key[i], now);
		for (i = 0; i < nconflicts; i++)
			key_print_conflict(&conflicts[i]);
	}
	hd_keyset_free(&ks);
	hd_conflicts_free(conflicts, nconflicts);
	if (damaged.cause != HD_E_NONE) {
		print_error(&damaged);
		return hd_exit_status(damaged.cause);
	}
	/* Something to see to: a key that expires, an address in conflict. */
	return due.n > 0 || nconflicts > 0 ? 1 : 0;
}

static int
cmd_prefer(struct hd_state *st, int argc, char **argv)
{
	struct hd_error e;
	int rc;

	if (argc != 2)
		usage(EX_USAGE);
	if ((rc = hd_key_prefer(st, argv[0], argv[1], &e)) != 0)
		die(&e);
	if (!opt.quiet)
		warnx("%s: %s serves it", argv[1], argv[0]);
	return 0;
}

/* One line a lookup; the reason for each failure once, on stderr. */
static int
print_found(struct hd_found_keys *f, int rc, int summary)
{
	size_t i, updated = 0, revoked = 0, failed = 0, refreshed = 0;

	for (i = 0; i < f->n; i++) {
		const struct hd_found_key *x = &f->item[i];
		const char *what = x->address != NULL ? x->address : x->fpr;
		char *safe = hd_sanitize(what);

		if (x->cause != HD_E_NONE)
			warnx("%s: %s: %s", safe, x->result, x->why);
		else if (strcmp(x->result, "conflict") == 0)
			warnx("%s: warning: %s held back, another key serves "
			    "it: see hdpgp-key check", safe, x->fpr);
		if (!opt.json && !opt.quiet)
			printf("%s %-9s %-9s %s\n", *x->fpr ? x->fpr : "-",
			    x->result, x->source, safe);
		free(safe);
		if (x->cause != HD_E_NONE)
			failed++;
		else if (strcmp(x->source, "store") != 0)
			refreshed++;
		if (strcmp(x->result, "updated") == 0)
			updated++;
		else if (strcmp(x->result, "revoked") == 0)
			revoked++;
	}
	if (opt.json)
		print_json(hd_found_json(f));
	else if (summary && !opt.quiet)
		printf("refreshed %zu, updated %zu, revoked %zu, failed %zu\n",
		    refreshed, updated, revoked, failed);
	hd_found_keys_free(f);
	return rc;
}

static int
cmd_locate(struct hd_state *st, int argc, char **argv)
{
	struct hd_found_keys f;
	struct hd_error e;
	int rc;

	if (argc < 1)
		usage(EX_USAGE);
	rc = hd_key_locate(st, &opt.net, argv, argc, &f, &e);
	return hd_exit_status(print_found(&f, rc, 0));
}

static int
cmd_refresh(struct hd_state *st, int argc, char **argv)
{
	struct hd_found_keys f;
	struct hd_error e;
	int rc;

	if ((rc = hd_key_refresh(st, &opt.net, argv, argc, &f, &e)) != 0 &&
	    f.n == 0)
		die(&e);
	rc = print_found(&f, rc, 1);
	/* Every key: a damaged record was passed over, and is named. */
	if (argc == 0 && rc == HD_E_CONFIG)
		print_error(&e);
	return hd_exit_status(rc);
}

static int
cmd_publish(struct hd_state *st, int argc, char **argv)
{
	struct hd_error e;
	char **written;
	size_t i;
	int rc;

	if (opt.wkd == NULL)
		usage(EX_USAGE);
	rc = hd_wkd_publish(st, opt.wkd, opt.domain, !opt.direct, argv, argc,
	    &written, &e);
	for (i = 0; written != NULL && written[i] != NULL; i++) {
		if (!opt.quiet)
			printf("%s\n", written[i]);
		free(written[i]);
	}
	free(written);
	if (rc != 0)
		die(&e);
	return 0;
}

#define NETOPTS	(BIT(OPT_KEYSERVER) | BIT(OPT_CAFILE) | BIT(OPT_RESOLVE) | \
	BIT(OPT_TIMEOUT))

static const struct {
	const char	*name;
	int		 create;	/* writes: make the state if missing */
	unsigned	 opts;		/* command options it takes */
	int		(*fn)(struct hd_state *, int, char **);	/* exit status */
} cmds[] = {
	{ "import", 1, BIT(OPT_ALIAS) | BIT(OPT_REPLACE), cmd_import },
	{ "list", 0, 0, cmd_list },
	{ "show", 0, 0, cmd_show },
	{ "export", 1, BIT(OPT_SECRET) | BIT(OPT_BINARY), cmd_export },
	{ "delete", 1, 0, cmd_delete },
	{ "generate", 1, BIT(OPT_NAME) | BIT(OPT_EXPIRE) | BIT(OPT_ALGO),
	    cmd_generate },
	{ "passwd", 1, 0, cmd_passwd },
	{ "alias", 1, BIT(OPT_NONE), cmd_alias },
	{ "prefer", 1, 0, cmd_prefer },
	{ "check", 0, BIT(OPT_DAYS), cmd_check },
	{ "locate", 1, BIT(OPT_FORCE) | NETOPTS, cmd_locate },
	{ "refresh", 1, BIT(OPT_ALL) | BIT(OPT_OLDER) | NETOPTS, cmd_refresh },
	{ "publish", 0, BIT(OPT_WKD) | BIT(OPT_DOMAIN) | BIT(OPT_METHOD),
	    cmd_publish },
};

int
main(int argc, char *argv[])
{
	struct hd_state *st;
	struct hd_error e;
	const char *errstr;
	char *p;
	size_t i;
	int ch, rc;

	/* Before any passphrase, key or message is read. */
	if (hd_secure_init() != 0)
		err(EX_SOFTWARE, "core dumps cannot be disabled");
	while ((ch = getopt_long(argc, argv, "d:hjqV", longopts, NULL)) != -1) {
		if (ch >= OPT_ALIAS)
			opt.seen |= BIT(ch);
		switch (ch) {
		case 'd':
			opt.dir = optarg;
			break;
		case 'j':
			opt.json = 1;
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'V':
			printf("%s %s\n", getprogname(), PACKAGE_VERSION);
			return 0;
		case OPT_PASSFILE:
			opt.passfile = optarg;
			break;
		case OPT_PASSFD:
			opt.passfd = strtonum(optarg, 0, 1024, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "--passphrase-fd %s: %s",
				    optarg, errstr);
			break;
		case OPT_ALIAS:
			opt.alias = optarg;
			break;
		case OPT_SECRET:
			opt.secret = 1;
			break;
		case OPT_BINARY:
			opt.binary = 1;
			break;
		case OPT_NAME:
			opt.name = optarg;
			break;
		case OPT_EXPIRE:
			opt.expire = optarg;
			break;
		case OPT_ALGO:
			opt.algo = optarg;
			break;
		case OPT_NONE:
			opt.none = 1;
			break;
		case OPT_DAYS:
			opt.days = optarg;
			break;
		case OPT_REPLACE:
			opt.replace = 1;
			break;
		case OPT_FORCE:
			opt.net.force = 1;
			break;
		case OPT_ALL:
			opt.net.all = 1;
			break;
		case OPT_OLDER:
			if (hd_parse_period(optarg, &opt.net.older, &e) != 0 ||
			    opt.net.older <= 0)
				errx(EX_USAGE, "--older-than %s: not a period "
				    "(N, Nd, Nw, Nm or Ny)", optarg);
			break;
		case OPT_KEYSERVER:
			if ((p = hd_http_base(optarg)) == NULL)
				errx(EX_USAGE, "--keyserver %s: not an "
				    "https:// or hkps:// URL", optarg);
			free(p);
			opt.net.keyserver = optarg;
			break;
		case OPT_CAFILE:
			if (access(optarg, R_OK) != 0)
				err(EX_NOINPUT, "%s", optarg);
			opt.net.cafile = optarg;
			break;
		case OPT_RESOLVE:
			if (!hd_http_resolve_ok(optarg))
				errx(EX_USAGE, "--resolve %s: not "
				    "host:port:address", optarg);
			opt.net.resolve = reallocarray(opt.net.resolve,
			    opt.net.nresolve + 1, sizeof(char *));
			if (opt.net.resolve == NULL)
				err(EX_TEMPFAIL, "reallocarray");
			opt.net.resolve[opt.net.nresolve++] = optarg;
			break;
		case OPT_TIMEOUT:
			opt.net.timeout = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "--timeout %s: %s", optarg,
				    errstr);
			break;
		case OPT_WKD:
			opt.wkd = optarg;
			break;
		case OPT_DOMAIN:
			opt.domain = optarg;
			break;
		case OPT_METHOD:
			if (strcmp(optarg, "direct") == 0)
				opt.direct = 1;
			else if (strcmp(optarg, "advanced") != 0)
				errx(EX_USAGE, "--method %s: advanced or "
				    "direct", optarg);
			break;
		case 'h':
			usage(0);
		default:
			usage(EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(EX_USAGE);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		usage(EX_USAGE);
	if (opt.seen & ~cmds[i].opts)
		errx(EX_USAGE, "%s: option --%s does not apply", argv[0],
		    optname(OPT_ALIAS + ffs(opt.seen & ~cmds[i].opts) - 1));
	if ((rc = hd_state_open(&st, opt.dir, cmds[i].create, &e)) != 0)
		errx(hd_exit_status(rc), "%s", e.text);
	state = st;
	rc = cmds[i].fn(st, argc - 1, argv + 1);
	print_warnings();
	hd_state_close(st);
	return rc;
}
