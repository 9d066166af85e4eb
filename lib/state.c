/*
 * state.c: the state directory and state.tdb.  The only file that includes
 * <tdb.h>.
 *
 * Records are keyed by "<kind>:<name>" strings (key:, addr:, id:, alias:,
 * pass:, log:) and hold text, so the file reads the same on every
 * architecture.  "hdpgp:format" holds the format version.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <tdb.h>

#include "hdpgp-priv.h"

/*
 * The default of 131 buckets makes reads 50x and writes 10x slower at 100k
 * records (doc/DESIGN, Costs and targets); a prime of this size keeps
 * chains short for a million log records at a cost of 40 KiB.
 */
#define HASH_SIZE	10007
#define FORMAT_KEY	"hdpgp:format"

/*
 * fcntl's deadlock detection makes a transaction start or a chain lock
 * fail when another process holds the other kind: wait and try again,
 * up to LOCK_WAIT_MS, before calling it a temporary failure.
 */
#define LOCK_WAIT_MS	10000

struct hd_state {
	char		*dir;
	char		*gnupg;
	char		*path;
	TDB_CONTEXT	*tdb;
	int		 keyring_fd;
	GPtrArray	*warnings;	/* for the tool: hd_state_warnings */
};

/* Warnings of closed states that no tool has taken yet. */
static GPtrArray	*unsaid;

static int
backoff(int *waited)
{
	int ms = 1 + g_random_int_range(0, 10);

	if (*waited >= LOCK_WAIT_MS)
		return 0;
	g_usleep(ms * 1000);
	*waited += ms;
	return 1;
}

static TDB_DATA
datum(const char *s, size_t len)
{
	TDB_DATA d;

	d.dptr = (unsigned char *)(uintptr_t)s;
	d.dsize = len;
	return d;
}

static TDB_DATA
key_datum(const char *key)
{
	return datum(key, strlen(key));
}

static char *
default_dir(void)
{
	const char *env;

	if ((env = getenv("HDPGP_HOME")) != NULL && *env != '\0')
		return g_strdup(env);
	if ((env = getenv("XDG_STATE_HOME")) != NULL && *env == '/')
		return g_build_filename(env, "hdpgp", NULL);
	return g_build_filename(g_get_home_dir(), ".local", "state", "hdpgp",
	    NULL);
}

/*
 * A directory that someone else can write to, or that another user owns,
 * could have had its state file or GnuPG home swapped: refuse it.  The
 * state file holds the passphrases: no one else may read it either.  A
 * symbolic link is refused (lstat), dangling or not.
 */
static int
check_private(const char *path, int isdir, struct hd_error *e)
{
	struct stat sb;

	if (lstat(path, &sb) == -1)
		return hd_error_set(e, HD_E_IO, "%s: %s", path,
		    strerror(errno));
	if (S_ISLNK(sb.st_mode))
		return hd_error_set(e, HD_E_CONFIG, "%s: a symbolic link, not a "
		    "%s", path, isdir ? "directory" : "regular file");
	if (isdir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode))
		return hd_error_set(e, HD_E_CONFIG, "%s: not a %s", path,
		    isdir ? "directory" : "regular file");
	if (sb.st_uid != geteuid())
		return hd_error_set(e, HD_E_CONFIG, "%s: owned by another user",
		    path);
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return hd_error_set(e, HD_E_CONFIG,
		    "%s: writable by other users (chmod go-w %s)", path, path);
	if (!isdir && (sb.st_mode & (S_IRGRP | S_IROTH)))
		return hd_error_set(e, HD_E_CONFIG,
		    "%s: readable by other users (chmod 600 %s)", path, path);
	return 0;
}

/*
 * In a directory that everyone may write to and that lacks the sticky
 * bit, anyone can rename the state directory away and put their own in
 * its place.
 */
static int
check_parent(const char *dir, struct hd_error *e)
{
	struct stat sb;
	char *parent = g_path_get_dirname(dir);
	int rc = 0;

	if (stat(parent, &sb) == 0 && (sb.st_mode & S_IWOTH) &&
	    !(sb.st_mode & S_ISVTX))
		rc = hd_error_set(e, HD_E_CONFIG, "%s: in %s, which anyone may "
		    "write to (chmod o-w,+t %s, or move it)", dir, parent,
		    parent);
	g_free(parent);
	return rc;
}

/* A directory of the state, made private (mode 0700) if it is not there. */
int
hd_state_private_dir(const char *path, struct hd_error *e)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return hd_error_set(e, HD_E_IO, "%s: %s", path,
		    strerror(errno));
	return check_private(path, 1, e);
}

/* No version yet: a new file gets one; one with records is not ours. */
static int
new_version(struct hd_state *st, struct hd_error *e)
{
	char buf[32];

	if (tdb_traverse(st->tdb, NULL, NULL) != 0)
		return hd_error_set(e, HD_E_CONFIG,
		    "%s: not an hdpgp state file", st->path);
	snprintf(buf, sizeof(buf), "%d", HD_STATE_VERSION);
	if (tdb_store(st->tdb, key_datum(FORMAT_KEY), datum(buf, strlen(buf)),
	    TDB_INSERT) != 0 && tdb_error(st->tdb) != TDB_ERR_EXISTS)
		return hd_error_set(e, HD_E_IO, "%s: %s", st->path,
		    tdb_errorstr(st->tdb));
	return 0;
}

static int
check_version(struct hd_state *st, struct hd_error *e)
{
	TDB_DATA d;
	char buf[32];
	int rc = 0;

	d = tdb_fetch(st->tdb, key_datum(FORMAT_KEY));
	if (d.dptr == NULL) {
		/*
		 * Read again under the lock of the whole file: another
		 * process making the same new state must not write its
		 * version and first records between "no version" and "no
		 * records" (eight imports at once on a new state).
		 */
		if (tdb_lockall(st->tdb) != 0)
			return hd_error_set(e, HD_E_TEMP, "%s: %s", st->path,
			    tdb_errorstr(st->tdb));
		d = tdb_fetch(st->tdb, key_datum(FORMAT_KEY));
		if (d.dptr == NULL)
			rc = new_version(st, e);
		tdb_unlockall(st->tdb);
		if (d.dptr == NULL)
			return rc;
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)d.dsize, (char *)d.dptr);
	free(d.dptr);
	if (strtol(buf, NULL, 10) != HD_STATE_VERSION)
		return hd_error_set(e, HD_E_CONFIG,
		    "%s: state format %s is not supported by this hdpgp "
		    "(format %d)", st->path, buf, HD_STATE_VERSION);
	return 0;
}

/*
 * The state directory and state.tdb, checked (hd_state_open, in
 * keyring-home.c, adds the GnuPG home).  With create == 0 a missing state
 * file is not made: the state reads as empty, so that listing nothing
 * does not leave a directory behind.
 */
int
hd_state_attach(struct hd_state **out, const char *dir, int create,
    struct hd_error *e)
{
	struct hd_state *st;
	struct stat sb;
	int rc, exists;

	umask(077);
	st = g_new0(struct hd_state, 1);
	st->keyring_fd = -1;
	st->dir = dir != NULL ? g_strdup(dir) : default_dir();
	st->gnupg = g_build_filename(st->dir, "gnupg", NULL);
	st->path = g_build_filename(st->dir, "state.tdb", NULL);
	/* lstat: a dangling link is there, and refused, not followed. */
	exists = lstat(st->path, &sb) == 0;
	if (!create && !exists) {
		*out = st;
		return 0;
	}
	rc = check_parent(st->dir, e);
	if (rc == 0 && g_mkdir_with_parents(st->dir, 0700) != 0)
		rc = hd_error_set(e, HD_E_IO, "%s: %s", st->dir,
		    strerror(errno));
	if (rc == 0)
		rc = check_private(st->dir, 1, e);
	if (rc == 0 && exists)
		rc = check_private(st->path, 0, e);
	if (rc == 0) {
		/* The version is read before anything else is touched. */
		errno = 0;
		st->tdb = tdb_open(st->path, HASH_SIZE, TDB_DEFAULT,
		    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		/* tdb sets no errno for a file it cannot make sense of. */
		if (st->tdb == NULL)
			rc = hd_error_set(e, errno == EAGAIN || errno == EBUSY ?
			    HD_E_TEMP : HD_E_IO, "%s: %s", st->path,
			    errno != 0 ? strerror(errno) :
			    "damaged or truncated");
	}
	if (rc == 0)
		rc = check_version(st, e);
	if (rc != 0) {
		hd_state_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

/* Is st a state that does not exist (opened with create == 0)? */
int
hd_state_empty(const struct hd_state *st)
{
	return st->tdb == NULL;
}

void
hd_state_close(struct hd_state *st)
{
	if (st == NULL)
		return;
	if (st->tdb != NULL)
		tdb_close(st->tdb);
	if (st->keyring_fd != -1)
		close(st->keyring_fd);
	if (st->warnings != NULL) {
		/* Not yet said: kept for hd_state_warnings(NULL). */
		if (unsaid == NULL)
			unsaid = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_extend_and_steal(unsaid, st->warnings);
	}
	g_free(st->dir);
	g_free(st->gnupg);
	g_free(st->path);
	g_free(st);
}

/*
 * A problem that did not stop the action (a log record that could not be
 * written), kept for the tool to say: the library does not print.  The
 * same text is kept once.
 */
void
hd_state_warn(struct hd_state *st, const char *fmt, ...)
{
	va_list ap;
	char *s;
	guint i;

	va_start(ap, fmt);
	s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (st->warnings == NULL)
		st->warnings = g_ptr_array_new_with_free_func(g_free);
	for (i = 0; i < st->warnings->len; i++)
		if (strcmp(st->warnings->pdata[i], s) == 0) {
			g_free(s);
			return;
		}
	g_ptr_array_add(st->warnings, s);
}

/*
 * The warnings so far, NULL-terminated, or NULL when there are none; the
 * caller frees each and the array.  With st NULL: those of the states
 * already closed (a tool that gave the library a directory, not a
 * state).  They are the caller's: the next call gives only newer ones.
 */
char **
hd_state_warnings(struct hd_state *st)
{
	GPtrArray *w = st != NULL ? st->warnings : unsaid;

	if (w == NULL || w->len == 0)
		return NULL;
	if (st != NULL)
		st->warnings = NULL;
	else
		unsaid = NULL;
	g_ptr_array_set_free_func(w, NULL);
	g_ptr_array_add(w, NULL);
	return (char **)g_ptr_array_free(w, FALSE);
}

const char *
hd_state_dir(const struct hd_state *st)
{
	return st->dir;
}

const char *
hd_state_gnupg(const struct hd_state *st)
{
	return st->gnupg;
}

/* 0 and a NUL-terminated malloc'd copy if found, 1 if not, -1 on error. */
int
hd_state_fetch(struct hd_state *st, const char *key, char **val, size_t *len)
{
	TDB_DATA d;

	if (st->tdb == NULL)
		return 1;
	d = tdb_fetch(st->tdb, key_datum(key));
	if (d.dptr == NULL)
		return tdb_error(st->tdb) == TDB_ERR_NOEXIST ? 1 : -1;
	*val = g_malloc(d.dsize + 1);
	memcpy(*val, d.dptr, d.dsize);
	(*val)[d.dsize] = '\0';
	if (len != NULL)
		*len = d.dsize;
	free(d.dptr);
	return 0;
}

int
hd_state_store(struct hd_state *st, const char *key, const char *val,
    size_t len)
{
	if (st->tdb == NULL)
		return -1;
	return tdb_store(st->tdb, key_datum(key), datum(val, len),
	    TDB_REPLACE) == 0 ? 0 : -1;
}

int
hd_state_delete(struct hd_state *st, const char *key)
{
	if (st->tdb == NULL)
		return 0;
	if (tdb_delete(st->tdb, key_datum(key)) == 0)
		return 0;
	return tdb_error(st->tdb) == TDB_ERR_NOEXIST ? 0 : -1;
}

/*
 * Transactions serialise writers across processes (tdb takes its
 * transaction lock) and make multi-record updates all or nothing.
 */
int
hd_state_begin(struct hd_state *st, struct hd_error *e)
{
	int waited = 0;

	while (tdb_transaction_start(st->tdb) != 0)
		if (tdb_error(st->tdb) != TDB_ERR_LOCK || !backoff(&waited))
			return hd_error_set(e, HD_E_TEMP, "%s: %s", st->path,
			    tdb_errorstr(st->tdb));
	return 0;
}

int
hd_state_commit(struct hd_state *st, struct hd_error *e)
{
	if (tdb_transaction_commit(st->tdb) != 0)
		return hd_error_set(e, HD_E_IO, "%s: %s", st->path,
		    tdb_errorstr(st->tdb));
	return 0;
}

void
hd_state_cancel(struct hd_state *st)
{
	tdb_transaction_cancel(st->tdb);
}

/* The chain lock of record key: 0, or HD_E_TEMP after LOCK_WAIT_MS. */
int
hd_state_lock(struct hd_state *st, const char *key, struct hd_error *e)
{
	int waited = 0;

	if (st->tdb == NULL)		/* no state file: nothing to guard */
		return 0;
	while (tdb_chainlock(st->tdb, key_datum(key)) != 0)
		if (!backoff(&waited))
			return hd_error_set(e, HD_E_TEMP, "%s: %s: locked",
			    st->path, key);
	return 0;
}

/*
 * One writer at a time in the GnuPG home: concurrent "gpg --import"
 * runs were seen to lose keys from pubring.kbx.  An flock on a file of
 * its own keeps this apart from the tdb locks.
 */
int
hd_state_keyring_lock(struct hd_state *st, struct hd_error *e)
{
	char *path;

	if (st->keyring_fd == -1) {
		path = g_build_filename(st->dir, "keyring.lock", NULL);
		st->keyring_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC,
		    0600);
		g_free(path);
		if (st->keyring_fd == -1)
			return hd_error_set(e, HD_E_IO, "%s: keyring.lock: %s",
			    st->dir, strerror(errno));
	}
	while (flock(st->keyring_fd, LOCK_EX) == -1)
		if (errno != EINTR)
			return hd_error_set(e, HD_E_TEMP, "%s: keyring.lock: "
			    "%s", st->dir, strerror(errno));
	return 0;
}

void
hd_state_keyring_unlock(struct hd_state *st)
{
	if (st->keyring_fd != -1)
		flock(st->keyring_fd, LOCK_UN);
}

void
hd_state_unlock(struct hd_state *st, const char *key)
{
	if (st->tdb != NULL)
		tdb_chainunlock(st->tdb, key_datum(key));
}

struct each {
	const char	*prefix;
	size_t		 plen;
	int		(*fn)(const char *, const char *, size_t, void *);
	void		*arg;
};

static int
each_cb(TDB_CONTEXT *tdb, TDB_DATA k, TDB_DATA v, void *arg)
{
	struct each *ea = arg;
	char *key, *val;
	int rc;

	(void)tdb;
	if (k.dsize < ea->plen || memcmp(k.dptr, ea->prefix, ea->plen) != 0)
		return 0;
	key = g_strndup((char *)k.dptr, k.dsize);
	val = g_strndup((char *)v.dptr, v.dsize);
	rc = ea->fn(key, val, v.dsize, ea->arg);
	g_free(key);
	g_free(val);
	return rc;
}

/* Calls fn for every record whose key starts with prefix; fn != 0 stops. */
int
hd_state_each(struct hd_state *st, const char *prefix,
    int (*fn)(const char *, const char *, size_t, void *), void *arg)
{
	struct each ea = { prefix, strlen(prefix), fn, arg };

	if (st->tdb == NULL)
		return 0;
	return tdb_traverse_read(st->tdb, each_cb, &ea) < 0 ? -1 : 0;
}
