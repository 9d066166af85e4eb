/*
 * hdpgp-group: per-group sign and encrypt defaults, the composer check,
 * and the one outgoing step a helpdesk runs for every reply.
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdpgp.h"
#include "tool.h"

enum {
	OPT_ADDRESS = 256,
	OPT_SIGN,
	OPT_NOSIGN,
	OPT_ENCRYPT,
	OPT_NOENCRYPT,
	OPT_SELF,
};

static const struct option globalopts[] = {
	{ "state-dir", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* set takes values, apply takes switches: one table each. */
static const struct option setopts[] = {
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "sign", required_argument, NULL, OPT_SIGN },
	{ "encrypt", required_argument, NULL, OPT_ENCRYPT },
	{ "self", required_argument, NULL, OPT_SELF },
	{ NULL, 0, NULL, 0 }
};

static const struct option applyopts[] = {
	{ "sign", no_argument, NULL, OPT_SIGN },
	{ "no-sign", no_argument, NULL, OPT_NOSIGN },
	{ "encrypt", no_argument, NULL, OPT_ENCRYPT },
	{ "no-encrypt", no_argument, NULL, OPT_NOENCRYPT },
	{ NULL, 0, NULL, 0 }
};

static int json;
static const char *dir;

/* The state, opened once the command's arguments are known good. */
static struct hd_state *
open_state(int create)
{
	struct hd_state *st;
	struct hd_error e;
	int rc;

	if ((rc = hd_state_open(&st, dir, create, &e)) != 0)
		errx(hd_exit_status(rc), "%s", hd_error_text(&e));
	return st;
}

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [-jqV] [-d dir] set group [--address address] "
	    "[--sign on|off]\n"
	    "           [--encrypt on|off] [--self on|off]\n"
	    "       %s [-j] [-d dir] list | show group | delete group\n"
	    "       %s [-j] [-d dir] check group [draft]\n"
	    "       %s [-d dir] apply group [--sign | --no-sign] "
	    "[--encrypt | --no-encrypt]\n"
	    "           [draft]\n", getprogname(), getprogname(),
	    getprogname(), getprogname());
	exit(status);
}

static int
on_off(const char *opt, const char *v)
{
	if (strcmp(v, "on") == 0 || strcmp(v, "yes") == 0)
		return 1;
	if (strcmp(v, "off") == 0 || strcmp(v, "no") == 0)
		return 0;
	errx(EX_USAGE, "--%s %s: say on or off", opt, v);
}

static void
print_group(const struct hd_group *g)
{
	char *s;

	if (json) {
		s = hd_group_json(g);
		printf("%s\n", s);
		free(s);
		return;
	}
	printf("%s address=%s sign=%s encrypt=%s self=%s\n", g->name,
	    g->address != NULL ? g->address : "-", g->sign ? "on" : "off",
	    g->encrypt ? "on" : "off", g->self ? "on" : "off");
}

static int
cmd_set(int argc, char **argv)
{
	struct hd_group set = { 0 };
	struct hd_state *st;
	struct hd_error e;
	int ch, mask = 0, rc;

	while ((ch = getopt_long(argc, argv, "", setopts, NULL)) != -1) {
		switch (ch) {
		case OPT_ADDRESS:
			set.address = *optarg != '\0' ? optarg : NULL;
			mask |= HD_GROUP_ADDRESS;
			break;
		case OPT_SIGN:
			set.sign = on_off("sign", optarg);
			mask |= HD_GROUP_SIGN;
			break;
		case OPT_ENCRYPT:
			set.encrypt = on_off("encrypt", optarg);
			mask |= HD_GROUP_ENCRYPT;
			break;
		case OPT_SELF:
			set.self = on_off("self", optarg);
			mask |= HD_GROUP_SELF;
			break;
		default:
			usage(EX_USAGE);
		}
	}
	if (argc - optind != 1)
		usage(EX_USAGE);
	if ((rc = hd_group_valid(argv[optind], set.address, mask, &e)) != 0)
		errx(hd_exit_status(rc), "%s", hd_error_text(&e));
	st = open_state(1);
	rc = hd_group_set(st, argv[optind], &set, mask, &e);
	hd_state_close(st);
	if (rc != 0)
		errx(hd_exit_status(rc), "%s", hd_error_text(&e));
	return 0;
}

static int
cmd_list(int argc, char **argv)
{
	struct hd_group *g;
	struct hd_state *st;
	size_t n, i;

	(void)argv;
	if (argc != 1)
		usage(EX_USAGE);
	st = open_state(0);
	hd_group_all(st, &g, &n);
	hd_state_close(st);
	for (i = 0; i < n; i++) {
		print_group(&g[i]);
		hd_group_free(&g[i]);
	}
	free(g);
	return 0;
}

static int
cmd_show(int argc, char **argv)
{
	struct hd_group g;
	struct hd_state *st;
	struct hd_error e;
	int rc;

	if (argc != 2)
		usage(EX_USAGE);
	st = open_state(0);
	rc = hd_group_get(st, argv[1], &g, &e);
	hd_state_close(st);
	if (rc != 0)
		errx(hd_exit_status(rc), "%s", hd_error_text(&e));
	print_group(&g);
	hd_group_free(&g);
	return 0;
}

static int
cmd_delete(int argc, char **argv)
{
	struct hd_state *st;
	struct hd_error e;
	int rc;

	if (argc != 2)
		usage(EX_USAGE);
	/* Only an existing group can be deleted: no state is made. */
	st = open_state(0);
	rc = hd_group_delete(st, argv[1], &e);
	hd_state_close(st);
	if (rc != 0)
		errx(hd_exit_status(rc), "%s", hd_error_text(&e));
	return 0;
}

static void
print_action(const char *name, int known, int possible, int dflt, int active,
    const char *why)
{
	printf("%-7s possible=%s default=%s active=%s", name, !known ? "-" :
	    possible ? "yes" : "no", dflt ? "on" : "off", active ? "yes" :
	    "no");
	if (why != NULL)
		printf(" reason=\"%s\"", why);
	printf("\n");
}

static int
cmd_check(int argc, char **argv)
{
	struct hd_decision d;
	struct hd_state *st;
	struct hd_error e;
	char *draft = NULL, *s;
	size_t len = 0;
	int rc;

	if (argc != 2 && argc != 3)
		usage(EX_USAGE);
	if (argc == 3 && (rc = hd_read_file(argv[2], &draft, &len, &e)) != 0)
		errx(hd_exit_status(rc), "%s", hd_error_text(&e));
	st = open_state(0);
	rc = hd_group_decide(st, argv[1], draft, len, &d, &e);
	hd_state_close(st);
	if (rc != 0)
		errx(hd_exit_status(rc), "%s", hd_error_text(&e));
	if (json) {
		s = hd_decision_json(argv[1], &d);
		printf("%s\n", s);
		free(s);
	} else {
		print_action("sign", 1, d.sign_possible, d.sign_default,
		    d.sign_active, d.sign_why);
		print_action("encrypt", d.encrypt_known, d.encrypt_possible,
		    d.encrypt_default, d.encrypt_active, d.encrypt_known ?
		    d.encrypt_why : "no draft: the recipients are not known");
	}
	hd_decision_free(&d);
	free(draft);
	return 0;
}

static int
cmd_apply(int argc, char **argv)
{
	struct hd_state *st;
	struct hd_error e;
	char *draft, *out;
	size_t len, outlen;
	int ch, rc, sign = -1, encrypt = -1;

	while ((ch = getopt_long(argc, argv, "", applyopts, NULL)) != -1) {
		switch (ch) {
		case OPT_SIGN:
		case OPT_NOSIGN:
			sign = ch == OPT_SIGN;
			break;
		case OPT_ENCRYPT:
		case OPT_NOENCRYPT:
			encrypt = ch == OPT_ENCRYPT;
			break;
		default:
			usage(EX_USAGE);
		}
	}
	if (argc - optind != 1 && argc - optind != 2)
		usage(EX_USAGE);
	if ((rc = hd_read_file(argc - optind == 2 ? argv[optind + 1] : NULL,
	    &draft, &len, &e)) != 0)
		errx(hd_exit_status(rc), "%s", hd_error_text(&e));
	st = open_state(1);
	rc = hd_group_apply(st, argv[optind], draft, len, sign, encrypt, &out,
	    &outlen, &e);
	hd_state_close(st);
	free(draft);
	if (rc != 0) {
		tool_warn_lines(hd_error_text(&e));
		exit(hd_exit_status(rc));
	}
	if (fwrite(out, 1, outlen, stdout) != outlen || fflush(stdout) != 0)
		err(EX_IOERR, "stdout");
	free(out);
	return 0;
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} cmds[] = {
	{ "set", cmd_set },
	{ "list", cmd_list },
	{ "show", cmd_show },
	{ "delete", cmd_delete },
	{ "check", cmd_check },
	{ "apply", cmd_apply },
};

int
main(int argc, char *argv[])
{
	size_t i;
	int ch;

	/* Before any passphrase, key or message is read. */
	if (hd_secure_init() != 0)
		err(EX_SOFTWARE, "core dumps cannot be disabled");
	atexit(tool_say_warnings);
	/* "+": the command's own options come after the command. */
	while ((ch = getopt_long(argc, argv, "+d:hjqV", globalopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'q':
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
	if (argc < 1)
		usage(EX_USAGE);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		usage(EX_USAGE);
	optind = 0;	/* GNU getopt: start again on the command's argv */
	return cmds[i].fn(argc, argv);
}
