/*
 * batch.c: many messages in one run, the filters' FILE... arguments.
 *
 * One process per message pays for its start, the state file and gpg's
 * version check every time (PERFORMANCE.md): more than the OpenPGP
 * operation itself for a small message.  Here they are paid once, and a
 * maildir or a directory of stored originals goes through at about the
 * rate of gpg alone; xargs -P spreads it over the cores.
 *
 * Each message is still all or nothing: its result is written to an
 * unnamed or temporary file beside the target and linked or renamed
 * into place, so a failure leaves no partial file, and an existing file
 * is never overwritten, except the input itself (-o naming the input's
 * own directory).
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "hdpgp-priv.h"

/*
 * The staged result in fd (an O_TMPFILE of outdir, or a temporary file
 * tmp already named there) as outdir/<base name of file>.  A new name is
 * linked, so an existing file is never replaced; the input itself is
 * replaced by a rename, its mode kept and the data on disk first, so
 * that a crash leaves the old message or the new one, never neither.
 */
static int
place(int fd, const char *tmp, const char *outdir, const char *file,
    struct hd_error *e)
{
	struct stat in, old;
	char *base, *target, *name = NULL, proc[64];
	int rc = 0, same = 0, saved;

	base = g_path_get_basename(file);
	target = g_build_filename(outdir, base, NULL);
	if (stat(file, &in) == 0 && stat(target, &old) == 0 &&
	    in.st_dev == old.st_dev && in.st_ino == old.st_ino)
		same = 1;
	if (same && (fchmod(fd, old.st_mode & 07777) != 0 || fsync(fd) != 0)) {
		rc = hd_error_set(e, HD_E_IO, "%s: %s", target,
		    strerror(errno));
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (!same) {
		/* link() and linkat() fail on an existing name. */
		if ((tmp != NULL ? link(tmp, target) : linkat(AT_FDCWD, proc,
		    AT_FDCWD, target, AT_SYMLINK_FOLLOW)) != 0) {
			saved = errno;
			rc = hd_error_set(e, HD_E_IO, "%s: %s", target,
			    saved == EEXIST ?
			    "exists; not overwritten" : strerror(saved));
		}
		goto out;
	}
	if (tmp == NULL) {
		/* An unnamed file gets a name beside the target first. */
		name = g_strdup_printf("%s/.hdpgp.%u.%d", outdir,
		    g_random_int(), (int)getpid());
		if (linkat(AT_FDCWD, proc, AT_FDCWD, name,
		    AT_SYMLINK_FOLLOW) != 0) {
			rc = hd_error_set(e, HD_E_IO, "%s: %s", name,
			    strerror(errno));
			goto out;
		}
		tmp = name;
	}
	if (rename(tmp, target) != 0) {
		rc = hd_error_set(e, HD_E_IO, "%s: %s", target,
		    strerror(errno));
		g_unlink(tmp);
	}
	if (tmp == name)
		tmp = NULL;
out:
	if (tmp != NULL && !same)
		g_unlink(tmp);
	g_free(name);
	g_free(base);
	g_free(target);
	return rc;
}

/* A file in outdir for a message's result (hd_stage_open). */
static int
stage_in(const char *outdir, char **tmp, struct hd_error *e)
{
	int fd;

	if ((fd = hd_stage_open(outdir, tmp)) == -1)
		hd_error_set(e, HD_E_IO, "%s: %s", outdir, strerror(errno));
	return fd;
}

/*
 * Of several exit statuses, the one to report: an error before any
 * verdict, then a bad verdict, one that cannot be trusted, none.
 */
static int
rank(int rc)
{
	switch (rc) {
	case HD_OK:
		return 0;
	case HD_NONE:
		return 1;
	case HD_UNTRUSTED:
		return 2;
	case HD_BAD:
		return 3;
	default:
		return 4;
	}
}

int
hd_batch(const char *dir, char *const *files, size_t n, const char *outdir,
    hd_filter_fn *fn, const void *arg, int quiet)
{
	struct hd_state *st;
	struct hd_error e;
	char *in, *out, *name, *tmp = NULL;
	size_t i, inlen, outlen;
	int rc, worst = 0, fd = -1;

	if ((rc = hd_state_open(&st, dir, 1, &e)) != 0) {
		warnx("%s", hd_error_text(&e));
		return rc;
	}
	for (i = 0; i < n; i++) {
		if ((rc = hd_read_file(files[i], &in, &inlen, &e)) != 0) {
			warnx("%s", hd_error_text(&e));
			worst = rank(rc) > rank(worst) ? rc : worst;
			continue;
		}
		name = hd_sanitize(files[i]);
		out = NULL;
		/* Into outdir: written where it will stay, not to memory. */
		if (outdir != NULL && (fd = stage_in(outdir, &tmp, &e)) == -1)
			rc = e.cause;
		else
			rc = fn(st, outdir == NULL ? name : NULL, in, inlen,
			    arg, fd, &out, &outlen, &e);
		if (rc >= EX__BASE || (outdir == NULL && out == NULL))
			warnx("%s: %s", name, hd_error_text(&e));
		else if (outdir != NULL) {
			if ((out != NULL && hd_write_all(fd, out, outlen) != 0 &&
			    (rc = hd_error_set(&e, HD_E_IO, "%s: %s", outdir,
			    strerror(errno))) != 0) ||
			    (rc = place(fd, tmp, outdir, files[i], &e)) != 0)
				warnx("%s", hd_error_text(&e));
		} else if (!quiet && (fwrite(out, 1, outlen, stdout) !=
		    outlen || fflush(stdout) != 0)) {
			/* Nobody reads the rest: stop here. */
			warn("stdout");
			n = i + 1;
			rc = HD_E_IO;
		}
		if (fd != -1) {
			close(fd);
			fd = -1;
		}
		if (tmp != NULL) {
			g_unlink(tmp);	/* linked or renamed by now, or not ours */
			g_free(tmp);
			tmp = NULL;
		}
		if (out != NULL)
			explicit_bzero(out, outlen);
		g_free(out);
		g_free(in);
		g_free(name);
		worst = rank(rc) > rank(worst) ? rc : worst;
	}
	hd_state_close(st);
	return worst;
}

/* The filters, in hd_filter_fn's shape. */
int
hd_batch_incoming(struct hd_state *st, const char *name, const char *in,
    size_t inlen, const void *arg, int outfd, char **out, size_t *outlen,
    struct hd_error *e)
{
	return hd_incoming_buf(st, name, in, inlen, arg, outfd, out, outlen,
	    e);
}

int
hd_batch_outgoing(struct hd_state *st, const char *name, const char *in,
    size_t inlen, const void *arg, int outfd, char **out, size_t *outlen,
    struct hd_error *e)
{
	(void)name;
	*out = NULL;
	return hd_outgoing_buf(st, in, inlen, arg, outfd, out, outlen, e);
}
