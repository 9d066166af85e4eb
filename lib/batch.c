/*
 * batch.c: many messages in one run, the filters' FILE... arguments.
 *
 * One process per message pays for its start, the state file and gpg's
 * version check every time (doc/DESIGN, "Costs and targets"): more than
 * the OpenPGP operation itself for a small message.  Here they are paid
 * once, and a maildir or a directory of stored originals goes through at
 * about the rate of gpg alone; xargs -P spreads it over the cores.
 *
 * Each message is still all or nothing: its result is written to an
 * unnamed or temporary file beside the target and linked or renamed
 * into place, so a failure leaves no partial file, and an existing file
 * is never overwritten, except the input itself (-o naming the input's
 * own directory).  Nothing is printed here: the tool is told of each
 * message (hd_batch_fn), as mblaze's blaze822_loop tells its callback.
 */
#include "config.h"

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
 * One message through fn, read from file: into outdir (placed there,
 * *out NULL), or into *out.  A failure's text names the message.
 */
static int
one(struct hd_state *st, const char *file, const char *outdir,
    hd_filter_fn *fn, const void *arg, char **out, size_t *outlen,
    int *status, struct hd_error *e)
{
	char *in, *name, *tmp = NULL;
	size_t inlen;
	int rc, fd = -1;

	*out = NULL;
	*outlen = 0;
	if ((rc = hd_read_file(file, &in, &inlen, e)) != 0)
		return rc;
	name = hd_sanitize(file);
	/* Into outdir: written where it will stay, not to memory. */
	if (outdir != NULL && (fd = stage_in(outdir, &tmp, e)) == -1)
		rc = e->cause;
	else
		rc = fn(st, outdir == NULL ? name : NULL, in, inlen, arg, fd,
		    out, outlen, status, e);
	if (rc != 0)
		rc = hd_error_set(e, rc, "%s: %s", name, hd_error_text(e));
	else if (outdir != NULL) {
		if (*out != NULL && hd_write_all(fd, *out, *outlen) != 0)
			rc = hd_error_set(e, HD_E_IO, "%s: %s", outdir,
			    strerror(errno));
		else
			rc = place(fd, tmp, outdir, file, e);
	}
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		g_unlink(tmp);	/* linked or renamed by now, or not ours */
		g_free(tmp);
	}
	if (*out != NULL && (rc != 0 || outdir != NULL)) {
		explicit_bzero(*out, *outlen);
		g_free(*out);
		*out = NULL;
	}
	g_free(in);
	g_free(name);
	return rc;
}

/*
 * Each file through fn, the state opened once, with each outcome given
 * to cb as it comes: a failure (the state's has file NULL) or a result,
 * placed in outdir, else in memory for cb to show.  cb returns 0 to go
 * on, or the cause that stops the batch (stdout closed).  Returns 0, or
 * the cause of the first failure.
 */
int
hd_batch(const char *dir, char *const *files, size_t n, const char *outdir,
    hd_filter_fn *fn, const void *arg, hd_batch_fn *cb, void *cbarg)
{
	struct hd_batch_item it;
	struct hd_state *st;
	struct hd_error e;
	char *out;
	size_t i;
	int rc, stop = 0, first = 0;

	memset(&it, 0, sizeof(it));
	if ((rc = hd_state_open(&st, dir, 1, &e)) != 0) {
		it.cause = rc;
		it.error = hd_error_text(&e);
		cb(&it, cbarg);
		return rc;
	}
	for (i = 0; i < n && stop == 0; i++) {
		memset(&it, 0, sizeof(it));
		it.file = files[i];
		rc = one(st, files[i], outdir, fn, arg, &out, &it.outlen,
		    &it.status, &e);
		it.cause = rc;
		it.out = out;
		it.error = rc != 0 ? hd_error_text(&e) : NULL;
		stop = cb(&it, cbarg);
		if (first == 0)
			first = rc != 0 ? rc : stop;
		if (out != NULL)
			explicit_bzero(out, it.outlen);
		g_free(out);
	}
	hd_state_close(st);
	return first;
}

/* The filters, in hd_filter_fn's shape. */
int
hd_batch_incoming(struct hd_state *st, const char *name, const char *in,
    size_t inlen, const void *arg, int outfd, char **out, size_t *outlen,
    int *status, struct hd_error *e)
{
	return hd_incoming_buf(st, name, in, inlen, arg, outfd, out, outlen,
	    status, e);
}

int
hd_batch_outgoing(struct hd_state *st, const char *name, const char *in,
    size_t inlen, const void *arg, int outfd, char **out, size_t *outlen,
    int *status, struct hd_error *e)
{
	(void)name;
	*out = NULL;
	*status = HD_OK;
	return hd_outgoing_buf(st, in, inlen, arg, outfd, out, outlen, e);
}
