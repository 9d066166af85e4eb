/*
 * keyring-home.c: the GnuPG homes hdpgp drives: the state's own (gnupg/
 * in the state directory, with the gpg.conf and gpg-agent.conf it needs)
 * and the throw-away scratch homes beside it, one an import or generate,
 * swept away when a killed process left one behind.  keyring.c runs gpg
 * in them; this file only makes, names and removes them.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "hdpgp-priv.h"

/*
 * gpg-agent.conf of the state's home and of scratch homes: the loopback
 * pinentry, no passphrase cache (a wrong stored passphrase is always
 * found), and a cheap key unlock.
 */
#define WRITTEN		"# written by hdpgp\n"	/* first line of our files */
#define AGENT_CONF	WRITTEN \
	"allow-loopback-pinentry\n" \
	"default-cache-ttl 0\n" \
	"max-cache-ttl 0\n" \
	"s2k-count 65536\n"

/*
 * Loopback pinentry lets the stored passphrase reach gpg-agent through
 * gpgme's callback; no cache means a wrong passphrase is always found
 * wrong; a low S2K count keeps unlocking cheap, since the passphrase
 * itself sits in state.tdb next door.  Trust is the store's business (an
 * imported key is trusted), so encryption passes always-trust rather than
 * "trust-model always", with which gpg 2.2 cannot even list a revoked key
 * before its trustdb exists.  Every gpg that makes a key or encrypts
 * would read and rewrite random_seed under a lock; two at once wait for
 * each other, which made parallel encryption no faster than one at a
 * time.  libgcrypt seeds from the kernel (getrandom) without it.  There
 * is no web of trust either: an import keeps a key's self-signatures and
 * the certifications made by keys of the store, and drops the rest
 * (import-clean), so that a key flooded with certifications
 * (CVE-2019-13050) costs what a clean one does.
 */
#define GPG_CONF	WRITTEN \
	"no-auto-key-retrieve\n" \
	"auto-key-locate local\n" \
	"no-greeting\n" \
	"no-random-seed-file\n" \
	"import-options import-clean\n"

static int
write_conf(const char *path, const char *text, struct hd_error *e)
{
	GError *ge = NULL;
	char *old = NULL;
	int ours, rc;

	/* One an older hdpgp wrote is brought up to date; others are left. */
	if (g_file_get_contents(path, &old, NULL, NULL)) {
		ours = g_str_has_prefix(old, WRITTEN) && strcmp(old, text) != 0;
		g_free(old);
		if (!ours)
			return 0;
	} else if (g_file_test(path, G_FILE_TEST_EXISTS))
		return 0;
	if (!g_file_set_contents(path, text, -1, &ge)) {
		rc = hd_error_set(e, HD_E_IO, "%s", ge->message);
		g_error_free(ge);
		return rc;
	}
	return 0;
}

/* The GnuPG home of the state: private, and configured as above. */
static int
make_home(const char *gnupg, struct hd_error *e)
{
	char *agent, *conf;
	int rc;

	if ((rc = hd_state_private_dir(gnupg, e)) != 0)
		return rc;
	agent = g_build_filename(gnupg, "gpg-agent.conf", NULL);
	conf = g_build_filename(gnupg, "gpg.conf", NULL);
	rc = write_conf(agent, AGENT_CONF, e);
	if (rc == 0)
		rc = write_conf(conf, GPG_CONF, e);
	g_free(agent);
	g_free(conf);
	return rc;
}

/*
 * Who a process is, beyond its pid, which the kernel reuses: the boot
 * it belongs to and its start time in clock ticks since boot (field 22
 * of /proc/PID/stat).  NULL when there is no such process.
 */
static char *
proc_stamp(long pid)
{
	char *path, *stat = NULL, *boot = NULL, *p, *out = NULL;
	unsigned long long start;
	int i;

	path = g_strdup_printf("/proc/%ld/stat", pid);
	if (!g_file_get_contents(path, &stat, NULL, NULL) ||
	    !g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot,
	    NULL, NULL) || strlen(boot) < 8)
		goto out;
	/* The command name in parentheses may hold spaces and ")". */
	if ((p = strrchr(stat, ')')) == NULL)
		goto out;
	for (i = 2; i < 22 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu", &start) != 1)
		goto out;
	out = g_strdup_printf("%.8s-%llu", boot, start);
out:
	g_free(path);
	g_free(stat);
	g_free(boot);
	return out;
}

static void
stop_agent(const char *home)
{
	char *argv[6];
	size_t i;

	argv[0] = g_strdup("gpgconf");
	argv[1] = g_strdup("--homedir");
	argv[2] = g_strdup(home);
	argv[3] = g_strdup("--kill");
	argv[4] = g_strdup("gpg-agent");
	argv[5] = NULL;
	g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
	    G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
	    NULL, NULL, NULL, NULL, NULL);
	for (i = 0; i < 5; i++)
		g_free(argv[i]);
}

static void
remove_tree(const char *path)
{
	GDir *dir;
	const char *name;

	if ((dir = g_dir_open(path, 0, NULL)) != NULL) {
		while ((name = g_dir_read_name(dir)) != NULL) {
			char *p = g_build_filename(path, name, NULL);

			if (g_file_test(p, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
				remove_tree(p);
			else
				g_unlink(p);
			g_free(p);
		}
		g_dir_close(dir);
	}
	g_rmdir(path);
}

/*
 * A throw-away GnuPG home inside the state directory, in *home, to check
 * secret keys before they reach the real keyring: an import is then all
 * or nothing, whatever the passphrase turns out to be.  Its name,
 * scratch.PID.STAMP.XXXXXX, says which process made it (proc_stamp), so
 * that a sweep can tell one a killed process left from one in use.
 */
int
hd_gpg_scratch_home(struct hd_state *st, char **home, struct hd_error *e)
{
	char *tmpl, *conf, *stamp, *name;
	int rc;

	*home = NULL;
	if ((stamp = proc_stamp((long)getpid())) == NULL)
		return hd_error_set(e, HD_E_SOFTWARE, "/proc/%ld/stat: cannot "
		    "be read", (long)getpid());
	name = g_strdup_printf("scratch.%ld.%s.XXXXXX", (long)getpid(), stamp);
	tmpl = g_build_filename(hd_state_dir(st), name, NULL);
	g_free(stamp);
	g_free(name);
	if (g_mkdtemp_full(tmpl, 0700) == NULL) {
		rc = hd_error_set(e, HD_E_IO, "%s: %s", tmpl,
		    strerror(errno));
		g_free(tmpl);
		return rc;
	}
	conf = g_build_filename(tmpl, "gpg-agent.conf", NULL);
	g_file_set_contents(conf, AGENT_CONF, -1, NULL);
	g_free(conf);
	*home = tmpl;
	return 0;
}

/* A scratch home gone, and its gpg-agent first, when gpg may have run. */
void
hd_gpg_scratch_remove(const char *home, int ran)
{
	if (ran)
		stop_agent(home);
	remove_tree(home);
}

/*
 * Is this scratch home stale?  Yes when the process its name gives is
 * gone, or is another process with the same pid.  One an older hdpgp
 * made (scratch.XXXXXX) names no process: stale after an hour, longer
 * than any import or generate takes.
 */
static int
scratch_stale(const char *dir, const char *name)
{
	struct stat sb;
	char **f, *stamp, *path;
	int stale = 0;

	path = g_build_filename(dir, name, NULL);
	if (lstat(path, &sb) == -1 || !S_ISDIR(sb.st_mode) ||
	    sb.st_uid != geteuid()) {
		g_free(path);
		return 0;
	}
	g_free(path);
	f = g_strsplit(name, ".", 0);
	if (g_strv_length(f) == 2)
		stale = strlen(f[1]) == 6 && sb.st_mtime < time(NULL) - 3600;
	else if (g_strv_length(f) == 4 && f[1][0] != '\0' &&
	    strspn(f[1], "0123456789") == strlen(f[1])) {
		stamp = proc_stamp(strtol(f[1], NULL, 10));
		stale = stamp == NULL || strcmp(stamp, f[2]) != 0;
		g_free(stamp);
	}
	g_strfreev(f);
	return stale;
}

/*
 * The scratch homes in dir whose process is gone (killed during an
 * import or generate): their gpg-agent is stopped and they are removed,
 * secret keys and all.  Costs one readdir when there are none.
 */
static void
sweep(const char *dir)
{
	GDir *d;
	const char *name;
	char *path;

	if ((d = g_dir_open(dir, 0, NULL)) == NULL)
		return;
	while ((name = g_dir_read_name(d)) != NULL) {
		if (strncmp(name, "scratch.", 8) != 0 ||
		    !scratch_stale(dir, name))
			continue;
		path = g_build_filename(dir, name, NULL);
		hd_gpg_scratch_remove(path, 1);
		g_free(path);
	}
	g_dir_close(d);
}

/*
 * The state directory as the tools open it: state.tdb (state.c), then
 * its GnuPG home set up and what a killed import or generate left behind
 * swept away.  With create == 0 a state that does not exist is not made:
 * it reads as empty, and nothing is written for it.
 */
int
hd_state_open(struct hd_state **out, const char *dir, int create,
    struct hd_error *e)
{
	struct hd_state *st;
	int rc;

	*out = NULL;
	if ((rc = hd_state_attach(&st, dir, create, e)) != 0)
		return rc;
	if (!hd_state_empty(st)) {
		if ((rc = make_home(hd_state_gnupg(st), e)) != 0) {
			hd_state_close(st);
			return rc;
		}
		sweep(hd_state_dir(st));
	}
	*out = st;
	return 0;
}
