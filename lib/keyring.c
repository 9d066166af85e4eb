/*
 * keyring.c: gpgme set up, and the keyring's keys: listed, imported,
 * exported, made, deleted, their passphrases tried.  keyring-crypt.c signs,
 * encrypts, verifies and decrypts.  These two, through keyring.h, are the
 * only files that include <gpgme.h>.
 *
 * gpgme is set up lean (doc/DESIGN, Costs and targets): the
 * disable-gpgconf flag and no engine-info queries leave one "gpg
 * --version" per process.  gpg always gets fingerprints, never addresses,
 * and passphrases reach gpg-agent only through the loopback pinentry
 * callback, never argv or the environment.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gpgme.h>

#include "hdpgp-priv.h"
#include "keyring.h"

static int
init_gpgme(struct hd_error *e)
{
	static int done;

	if (done)
		return 0;
	/* Must come before gpgme_check_version: no gpgconf, no gpgsm. */
	gpgme_set_global_flag("disable-gpgconf", "1");
	if (gpgme_check_version("1.18.0") == NULL)
		return hd_error_set(e, HD_E_UNAVAILABLE,
		    "gpgme 1.18 or later is needed");
	done = 1;
	return 0;
}

/* gpgme's error codes as causes, in plain words. */
int
keyring_fail(struct hd_error *e, gpgme_error_t err, const char *what)
{
	enum hd_cause cause;

	switch (gpgme_err_code(err)) {
	case GPG_ERR_BAD_PASSPHRASE:
		return hd_error_set(e, HD_E_PASS_BAD, "%s: passphrase is invalid",
		    what);
	case GPG_ERR_NO_PASSPHRASE:
		return hd_error_set(e, HD_E_PASS_REQUIRED, "%s: passphrase required",
		    what);
	case GPG_ERR_NO_AGENT:
	case GPG_ERR_AGENT:
	case GPG_ERR_ASS_CONNECT_FAILED:
	case GPG_ERR_TIMEOUT:
	case GPG_ERR_LOCKED:
		cause = HD_E_TEMP;
		break;
	case GPG_ERR_ENOENT:
	case GPG_ERR_INV_ENGINE:
		cause = HD_E_UNAVAILABLE;
		break;
	case GPG_ERR_ENOSPC:
	case GPG_ERR_EDQUOT:
	case GPG_ERR_EIO:
	case GPG_ERR_EROFS:
	case GPG_ERR_EACCES:
		cause = HD_E_IO;
		break;
	case GPG_ERR_NO_DATA:
	case GPG_ERR_INV_DATA:
	case GPG_ERR_BAD_DATA:
		cause = HD_E_DATA;
		break;
	default:
		cause = HD_E_SOFTWARE;
	}
	return hd_error_set(e, cause, "%s: %s", what, gpgme_strerror(err));
}

/*
 * gpg asks through the loopback pinentry.  Asked again after a wrong
 * answer, give up instead of looping: the stored passphrase will not get
 * better.
 */
static gpgme_error_t
passphrase_cb(void *hook, const char *hint, const char *info, int bad, int fd)
{
	struct hd_gpg *g = hook;

	char *found = NULL, keyid[17];
	const char *pass = g->pass;
	int rc = 0;

	(void)info;
	g->asked++;
	if (bad)
		return gpg_error(GPG_ERR_BAD_PASSPHRASE);
	/* Decrypting: the hint starts with the key ID gpg wants opened. */
	if (pass == NULL && g->lookup != NULL && hint != NULL) {
		g_strlcpy(keyid, hint, sizeof(keyid));
		pass = found = g->lookup(g->lookup_arg, keyid);
	}
	if (pass == NULL)
		return gpg_error(GPG_ERR_NO_PASSPHRASE);
	if (gpgme_io_writen(fd, pass, strlen(pass)) != 0 ||
	    gpgme_io_writen(fd, "\n", 1) != 0)
		rc = gpg_error_from_syserror();
	hd_secure_free(found);
	return rc;
}

/*
 * The state's own home reaches gpg as GNUPGHOME: gpgme_ctx_set_engine_info
 * would cost a second "gpg --version".  A scratch home is rare enough to
 * pay for it.
 */
static int
gpg_new(struct hd_gpg **out, const char *home, int scratch,
    struct hd_error *e)
{
	struct hd_gpg *g;
	gpgme_error_t err;
	int rc;

	if ((rc = init_gpgme(e)) != 0)
		return rc;
	g = g_new0(struct hd_gpg, 1);
	g->home = g_strdup(home);
	if ((err = gpgme_new(&g->ctx)) == 0)
		err = gpgme_set_protocol(g->ctx, GPGME_PROTOCOL_OpenPGP);
	if (err == 0 && scratch)
		err = gpgme_ctx_set_engine_info(g->ctx, GPGME_PROTOCOL_OpenPGP,
		    NULL, home);
	else if (err == 0 && setenv("GNUPGHOME", home, 1) != 0)
		err = gpg_error_from_syserror();
	if (err == 0)
		err = gpgme_set_pinentry_mode(g->ctx,
		    GPGME_PINENTRY_MODE_LOOPBACK);
	if (err != 0) {
		keyring_fail(e, err, "gpgme");
		hd_gpg_close(g);
		return e->cause;
	}
	gpgme_set_passphrase_cb(g->ctx, passphrase_cb, g);
	/* No dirmngr, no keyserver: mail never makes us go online. */
	gpgme_set_offline(g->ctx, 1);
	g->scratch = scratch;
	*out = g;
	return 0;
}

/*
 * gpg 2.2 makes its trustdb (and keybox) the first time it needs them,
 * and another gpg that reads the trustdb half-made calls it corrupt and
 * gives up; gpgme then lists no key at all, and eight imports at once on
 * a new state lost some.  So the state's home gets them made whole
 * beforehand: by a key listing in a scratch home, linked in (never over
 * files that are there).  Once a state: a stat(2) after that.
 */
static const char *const first_files[] = { "pubring.kbx", "trustdb.gpg" };

static int
make_first_files(struct hd_state *st, const char *home, struct hd_error *e)
{
	struct hd_gpg *g;
	gpgme_key_t k;
	char *src, *dst, *scratch;
	size_t i;
	int rc = 0, made;

	dst = g_build_filename(home, "trustdb.gpg", NULL);
	made = g_file_test(dst, G_FILE_TEST_EXISTS) ||
	    !g_file_test(home, G_FILE_TEST_IS_DIR);
	g_free(dst);
	if (made)
		return 0;
	if ((rc = hd_gpg_scratch(st, &g, e)) != 0)
		return rc;
	if (gpgme_op_keylist_start(g->ctx, NULL, 0) == 0)
		while (gpgme_op_keylist_next(g->ctx, &k) == 0)
			gpgme_key_unref(k);
	gpgme_op_keylist_end(g->ctx);
	for (i = 0; rc == 0 && i < G_N_ELEMENTS(first_files); i++) {
		src = g_build_filename(g->home, first_files[i], NULL);
		dst = g_build_filename(home, first_files[i], NULL);
		/* Not made (another gpg): gpg makes it as it did. */
		if (link(src, dst) == -1 && errno != EEXIST && errno != ENOENT)
			rc = hd_error_set(e, HD_E_IO, "%s: %s", dst,
			    strerror(errno));
		g_free(src);
		g_free(dst);
	}
	/* A listing starts no gpg-agent: nothing to stop. */
	scratch = g_strdup(g->home);
	hd_gpg_close(g);
	hd_gpg_scratch_remove(scratch, 0);
	g_free(scratch);
	return rc;
}

int
hd_gpg_open(struct hd_gpg **out, struct hd_state *st, struct hd_error *e)
{
	int rc;

	if ((rc = make_first_files(st, hd_state_gnupg(st), e)) != 0)
		return rc;
	return gpg_new(out, hd_state_gnupg(st), 0, e);
}

void
hd_gpg_close(struct hd_gpg *g)
{
	if (g == NULL)
		return;
	if (g->ctx != NULL)
		gpgme_release(g->ctx);
	hd_secure_free(g->pass);
	g_free(g->home);
	g_free(g);
}

const char *
hd_gpg_home(const struct hd_gpg *g)
{
	return g->home;
}

void
hd_gpg_set_passphrase(struct hd_gpg *g, const char *pass)
{
	hd_secure_free(g->pass);
	g->pass = pass != NULL ? g_strdup(pass) : NULL;
	g->asked = 0;
}

static void
convert_key(gpgme_key_t k, struct hd_key *out)
{
	gpgme_subkey_t s;
	gpgme_user_id_t u;
	size_t n;

	memset(out, 0, sizeof(*out));
	g_strlcpy(out->fpr, k->subkeys->fpr, sizeof(out->fpr));
	out->created = k->subkeys->timestamp;
	out->expires = k->subkeys->expires;
	out->secret = k->secret;
	out->revoked = k->revoked;
	out->disabled = k->disabled;
	for (s = k->subkeys, n = 0; s != NULL; s = s->next)
		n++;
	out->sub = g_new0(struct hd_subkey, n);
	for (s = k->subkeys; s != NULL; s = s->next) {
		struct hd_subkey *o = &out->sub[out->nsub++];

		g_strlcpy(o->fpr, s->fpr != NULL ? s->fpr : "",
		    sizeof(o->fpr));
		g_strlcpy(o->keyid, s->keyid, sizeof(o->keyid));
		o->algo = gpgme_pubkey_algo_string(s);
		o->length = s->length;
		o->caps = (s->can_sign ? HD_CAP_SIGN : 0) |
		    (s->can_encrypt ? HD_CAP_ENCRYPT : 0) |
		    (s->can_certify ? HD_CAP_CERTIFY : 0) |
		    (s->can_authenticate ? HD_CAP_AUTH : 0);
		o->secret = s->secret;
		o->revoked = s->revoked;
		o->created = s->timestamp;
		o->expires = s->expires;
	}
	for (u = k->uids, n = 0; u != NULL; u = u->next)
		n++;
	out->uid = g_new0(struct hd_uid, n);
	for (u = k->uids; u != NULL; u = u->next) {
		struct hd_uid *o = &out->uid[out->nuid++];

		o->uid = g_strdup(u->uid != NULL ? u->uid : "");
		o->email = u->email != NULL && *u->email != '\0' ?
		    hd_addr_normalize(u->email) : NULL;
		o->revoked = u->revoked;
	}
}

/*
 * A key as convert_key builds it, and what the index adds to it (alias,
 * roles, origin), freed.
 */
void
hd_key_free(struct hd_key *k)
{
	size_t i;

	for (i = 0; i < k->nsub; i++)
		g_free(k->sub[i].algo);
	for (i = 0; i < k->nuid; i++) {
		g_free(k->uid[i].uid);
		g_free(k->uid[i].email);
	}
	for (i = 0; i < k->nrole; i++)
		g_free(k->role[i].address);
	if (k->origin != NULL) {
		g_free(k->origin->url);
		g_free(k->origin->address);
	}
	g_free(k->sub);
	g_free(k->uid);
	g_free(k->alias);
	g_free(k->role);
	g_free(k->origin);
	memset(k, 0, sizeof(*k));
}

void
hd_keyset_free(struct hd_keyset *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		hd_key_free(&ks->key[i]);
	g_free(ks->key);
	memset(ks, 0, sizeof(*ks));
}

static void
keyset_add(struct hd_keyset *ks, gpgme_key_t k)
{
	ks->key = g_renew(struct hd_key, ks->key, ks->n + 1);
	convert_key(k, &ks->key[ks->n++]);
}

static int
collect(struct hd_gpg *g, struct hd_keyset *ks, const char *what,
    struct hd_error *e)
{
	gpgme_key_t k;
	gpgme_error_t err;

	while ((err = gpgme_op_keylist_next(g->ctx, &k)) == 0) {
		if (k->subkeys != NULL && k->subkeys->fpr != NULL)
			keyset_add(ks, k);
		gpgme_key_unref(k);
	}
	if (gpgme_err_code(err) != GPG_ERR_EOF) {
		gpgme_op_keylist_end(g->ctx);
		return keyring_fail(e, err, what);
	}
	return 0;
}

/* The keys in some data, as gpg would import them, without importing. */
int
hd_gpg_scan(struct hd_gpg *g, const char *buf, size_t len,
    struct hd_keyset *ks, struct hd_error *e)
{
	gpgme_data_t d;
	gpgme_error_t err;
	int rc;

	memset(ks, 0, sizeof(*ks));
	if ((err = gpgme_data_new_from_mem(&d, buf, len, 0)) != 0)
		return keyring_fail(e, err, "import");
	gpgme_set_keylist_mode(g->ctx, GPGME_KEYLIST_MODE_LOCAL);
	err = gpgme_op_keylist_from_data_start(g->ctx, d, 0);
	rc = err != 0 ? keyring_fail(e, err, "import") : collect(g, ks, "import",
	    e);
	gpgme_data_release(d);
	/* gpg says "no data" when the input holds no key at all. */
	if (rc == HD_E_DATA || (rc == 0 && ks->n == 0)) {
		hd_keyset_free(ks);
		return hd_error_set(e, HD_E_DATA,
		    "no OpenPGP key found in the input");
	}
	return rc;
}

/*
 * gpg imported nothing.  When it could not even write its keyring (a
 * full or read-only file system), gpg 2.2 says so only on stderr, and
 * gpgme reports no key considered, as for data without keys: a file of
 * the size of a keyring update written where the keyring lives tells
 * the two apart, so that the key is not blamed for the disk.
 */
static int
import_failed(struct hd_gpg *g, struct hd_error *e)
{
	static const char zeros[65536];
	char *path;
	int fd, rc = 0, saved;

	path = g_build_filename(g->home, ".hdpgp-probe.XXXXXX", NULL);
	if ((fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600)) == -1 ||
	    hd_write_all(fd, zeros, sizeof(zeros)) != 0 || fsync(fd) != 0) {
		saved = errno;
		rc = hd_error_set(e, HD_E_IO, "%s: keys cannot be written: %s",
		    g->home, strerror(saved));
	}
	if (fd != -1) {
		close(fd);
		g_unlink(path);
	}
	g_free(path);
	if (rc != 0)
		return rc;
	return hd_error_set(e, HD_E_DATA, "no OpenPGP key could be imported");
}

/* flags: the public half's import status, the secret half's << 8. */
static enum hd_import_how
import_how(unsigned flags)
{
	if (flags & GPGME_IMPORT_NEW)
		return HD_IMPORT_NEW;
	if (flags & (GPGME_IMPORT_NEW << 8))
		return HD_IMPORT_UPGRADED;
	if (flags & ((GPGME_IMPORT_UID | GPGME_IMPORT_SIG |
	    GPGME_IMPORT_SUBKEY) * 0x101))
		return HD_IMPORT_UPDATED;
	return HD_IMPORT_UNCHANGED;
}

int
hd_gpg_import(struct hd_gpg *g, const char *buf, size_t len,
    struct hd_keyset *ks, enum hd_import_how **how, struct hd_error *e)
{
	gpgme_data_t d;
	gpgme_error_t err;
	gpgme_import_result_t r;
	gpgme_import_status_t is;
	GPtrArray *fprs;
	GArray *flags;
	size_t i;
	unsigned f;
	int rc = 0;

	if ((err = gpgme_data_new_from_mem(&d, buf, len, 0)) != 0)
		return keyring_fail(e, err, "import");
	flags = g_array_new(FALSE, TRUE, sizeof(unsigned));
	err = gpgme_op_import(g->ctx, d);
	gpgme_data_release(d);
	if (err != 0) {
		g_array_free(flags, TRUE);
		return keyring_fail(e, err, "import");
	}
	/* The result goes with the next operation: keep what we need. */
	r = gpgme_op_import_result(g->ctx);
	fprs = g_ptr_array_new_with_free_func(g_free);
	for (is = r->imports; is != NULL; is = is->next) {
		if (is->fpr == NULL || is->result != 0)
			continue;
		for (i = 0; i < fprs->len; i++)
			if (strcmp(fprs->pdata[i], is->fpr) == 0)
				break;
		/* gpg reports the public and the secret half apart. */
		f = is->status & GPGME_IMPORT_SECRET ? is->status << 8 :
		    is->status;
		if (i == fprs->len) {
			g_ptr_array_add(fprs, g_strdup(is->fpr));
			g_array_append_val(flags, f);
		} else
			g_array_index(flags, unsigned, i) |= f;
	}
	if (fprs->len == 0) {
		g_ptr_array_free(fprs, TRUE);
		g_array_free(flags, TRUE);
		return import_failed(g, e);
	}
	rc = hd_gpg_keys(g, (char **)fprs->pdata, fprs->len, ks, e);
	if (rc == 0) {
		*how = g_new0(enum hd_import_how, ks->n);
		for (i = 0; i < ks->n; i++) {
			unsigned bits = 0;
			size_t j;

			for (j = 0; j < fprs->len; j++)
				if (strcmp(fprs->pdata[j], ks->key[i].fpr) == 0)
					bits = g_array_index(flags, unsigned, j);
			(*how)[i] = import_how(bits);
		}
	}
	g_array_free(flags, TRUE);
	g_ptr_array_free(fprs, TRUE);
	return rc;
}

/*
 * Revocation certificates alone (what gpg --gen-revoke and sq revoke
 * write): gpg applies one only to a key it holds, and only when the
 * signature verifies.  *applied counts the revocations it took.
 */
int
hd_gpg_import_revocation(struct hd_gpg *g, const char *buf, size_t len,
    int *applied, struct hd_error *e)
{
	gpgme_data_t d;
	gpgme_error_t err;
	gpgme_import_result_t r;

	*applied = 0;
	if ((err = gpgme_data_new_from_mem(&d, buf, len, 0)) != 0)
		return keyring_fail(e, err, "import");
	err = gpgme_op_import(g->ctx, d);
	gpgme_data_release(d);
	if (err != 0)
		return keyring_fail(e, err, "import");
	if ((r = gpgme_op_import_result(g->ctx)) != NULL)
		*applied = r->new_revocations;
	return 0;
}

/*
 * For the next imports: keep only the user IDs the filter selects (gpg's
 * --import-filter keep-uid=; NULL: leave it as it is), and record where
 * the keys came from in gpg's own keyring (--key-origin: "file", "wkd",
 * "ks").
 */
int
hd_gpg_set_import(struct hd_gpg *g, const char *filter, const char *origin,
    const char *url, struct hd_error *e)
{
	gpgme_error_t err;
	char *o;

	o = url != NULL ? g_strdup_printf("%s,%s", origin, url) :
	    g_strdup(origin);
	/* gpgme passes an empty filter on, and gpg refuses it. */
	err = filter != NULL ? gpgme_set_ctx_flag(g->ctx, "import-filter",
	    filter) : 0;
	if (err == 0 && origin != NULL)
		err = gpgme_set_ctx_flag(g->ctx, "key-origin", o);
	g_free(o);
	return err != 0 ? keyring_fail(e, err, "import filter") : 0;
}

/*
 * Does the user ID for email on key fpr carry a certification, checked by
 * gpg and neither revoked nor expired, made by the key certifier?  A
 * customer's old key vouching for the new one marks a rollover.
 */
int
hd_gpg_certified(struct hd_gpg *g, const char *fpr, const char *email,
    const char *certifier)
{
	gpgme_key_t k;
	gpgme_user_id_t u;
	gpgme_key_sig_t s;
	gpgme_error_t err;
	const char *pat[2] = { fpr, NULL };
	char *addr;
	size_t n = strlen(certifier);
	int found = 0;

	if (n < 16)
		return 0;
	gpgme_set_keylist_mode(g->ctx, GPGME_KEYLIST_MODE_LOCAL |
	    GPGME_KEYLIST_MODE_SIGS);
	if (gpgme_op_keylist_ext_start(g->ctx, pat, 0, 0) != 0)
		return 0;
	while ((err = gpgme_op_keylist_next(g->ctx, &k)) == 0) {
		for (u = k->uids; u != NULL && !found; u = u->next) {
			if (u->revoked || u->invalid || u->email == NULL)
				continue;
			addr = hd_addr_normalize(u->email);
			if (addr != NULL && strcmp(addr, email) == 0)
				for (s = u->signatures; s != NULL; s = s->next)
					if (s->status == 0 && !s->revoked &&
					    !s->expired && !s->invalid &&
					    s->sig_class >= 0x10 &&
					    s->sig_class <= 0x13 &&
					    s->keyid != NULL &&
					    strcmp(s->keyid, certifier + n - 16)
					    == 0)
						found = 1;
			g_free(addr);
		}
		gpgme_key_unref(k);
	}
	gpgme_op_keylist_end(g->ctx);
	return found;
}

/* The keys with these fingerprints as gpg now has them, secret or not. */
int
hd_gpg_keys(struct hd_gpg *g, char **fprs, size_t n, struct hd_keyset *ks,
    struct hd_error *e)
{
	const char **pat;
	gpgme_error_t err;
	int rc;

	memset(ks, 0, sizeof(*ks));
	pat = g_new0(const char *, n + 1);
	memcpy(pat, fprs, n * sizeof(*pat));
	gpgme_set_keylist_mode(g->ctx, GPGME_KEYLIST_MODE_LOCAL |
	    GPGME_KEYLIST_MODE_WITH_SECRET);
	err = gpgme_op_keylist_ext_start(g->ctx, pat, 0, 0);
	g_free(pat);
	rc = err != 0 ? keyring_fail(e, err, "keylist") : collect(g, ks,
	    "keylist", e);
	if (rc != 0)
		hd_keyset_free(ks);
	return rc;
}

/*
 * One key by fingerprint, listed in our own context: gpgme_get_key would
 * make a context of its own and pay for another "gpg --version".
 */
int
keyring_get_key(struct hd_gpg *g, const char *fpr, int secret, gpgme_key_t *k,
    struct hd_error *e)
{
	gpgme_key_t extra;
	gpgme_error_t err;

	*k = NULL;
	gpgme_set_keylist_mode(g->ctx, GPGME_KEYLIST_MODE_LOCAL);
	err = gpgme_op_keylist_start(g->ctx, fpr, secret);
	if (err == 0)
		err = gpgme_op_keylist_next(g->ctx, k);
	if (err == 0 && gpgme_op_keylist_next(g->ctx, &extra) == 0) {
		/* A fingerprint names one key; never guess between two. */
		gpgme_key_unref(extra);
		gpgme_key_unref(*k);
		*k = NULL;
		err = gpg_error(GPG_ERR_AMBIGUOUS_NAME);
	}
	gpgme_op_keylist_end(g->ctx);
	if (gpgme_err_code(err) == GPG_ERR_EOF)
		return hd_error_set(e, HD_E_NOINPUT, "%s: no %s key in the "
		    "keyring", fpr, secret ? "secret" : "public");
	return err != 0 ? keyring_fail(e, err, fpr) : 0;
}

/* The data's bytes, in *buf; what names the operation in an error. */
int
keyring_take_data(gpgme_data_t d, char **buf, size_t *len, const char *what,
    struct hd_error *e)
{
	/*
	 * gpgme's own buffer, NUL-terminated, not a copy of it: for a large
	 * message a copy would double the peak.  gpgme and GLib (since
	 * 2.46) both allocate with malloc, so g_free frees it.
	 */
	if (gpgme_data_seek(d, 0, SEEK_END) == -1 ||
	    gpgme_data_write(d, "", 1) != 1) {
		*buf = NULL;
		*len = 0;
		gpgme_data_release(d);
		return hd_error_set(e, HD_E_TEMP, "%s: out of memory", what);
	}
	*buf = gpgme_data_release_and_get_mem(d, len);
	if (*buf == NULL) {
		*buf = g_strdup("");
		*len = 1;
	}
	(*len)--;
	return 0;
}

/*
 * Prove that pass unlocks the secret key: sign a few bytes, or, for a key
 * that cannot sign, encrypt to it and decrypt.  gpg-agent runs with no
 * cache, so the answer is never an earlier passphrase's.  *unprotected is
 * set when gpg never asked.
 */
int
hd_gpg_try_secret(struct hd_gpg *g, const struct hd_key *key,
    const char *pass, int *unprotected, struct hd_error *e)
{
	gpgme_key_t k = NULL, rcp[2] = { NULL, NULL };
	gpgme_data_t in = NULL, out = NULL, plain = NULL;
	gpgme_error_t err;
	size_t i;
	int sign = 0, rc;

	for (i = 0; i < key->nsub; i++)
		if (key->sub[i].secret && (key->sub[i].caps & HD_CAP_SIGN))
			sign = 1;
	if ((rc = keyring_get_key(g, key->fpr, 1, &k, e)) != 0)
		return rc;
	hd_gpg_set_passphrase(g, pass);
	err = gpgme_data_new_from_mem(&in, "hdpgp\n", 6, 0);
	if (err == 0)
		err = gpgme_data_new(&out);
	if (err == 0 && sign) {
		gpgme_signers_clear(g->ctx);
		err = gpgme_signers_add(g->ctx, k);
		if (err == 0)
			err = gpgme_op_sign(g->ctx, in, out,
			    GPGME_SIG_MODE_DETACH);
		gpgme_signers_clear(g->ctx);
	} else if (err == 0) {
		rcp[0] = k;
		err = gpgme_op_encrypt(g->ctx, rcp, GPGME_ENCRYPT_ALWAYS_TRUST,
		    in, out);
		if (err == 0)
			err = gpgme_data_new(&plain);
		if (err == 0) {
			gpgme_data_seek(out, 0, SEEK_SET);
			err = gpgme_op_decrypt(g->ctx, out, plain);
		}
	}
	*unprotected = err == 0 && g->asked == 0;
	hd_gpg_set_passphrase(g, NULL);
	if (err != 0)
		rc = keyring_fail(e, err, key->fpr);
	gpgme_data_release(in);
	gpgme_data_release(out);
	gpgme_data_release(plain);
	gpgme_key_unref(k);
	return rc;
}

/*
 * A gpg context in a scratch home (keyring-home.c), to check secret keys
 * before they reach the real keyring.
 */
int
hd_gpg_scratch(struct hd_state *st, struct hd_gpg **out, struct hd_error *e)
{
	char *home;
	int rc;

	if ((rc = hd_gpg_scratch_home(st, &home, e)) != 0)
		return rc;
	if ((rc = gpg_new(out, home, 1, e)) != 0)
		hd_gpg_scratch_remove(home, 0);
	g_free(home);
	return rc;
}

/* Stops the scratch home's gpg-agent and removes the home. */
void
hd_gpg_scratch_close(struct hd_gpg *g)
{
	if (g == NULL)
		return;
	if (g->scratch)
		hd_gpg_scratch_remove(g->home, 1);
	hd_gpg_close(g);
}

int
hd_gpg_export(struct hd_gpg *g, const char *fpr, int secret, int binary,
    char **buf, size_t *len, struct hd_error *e)
{
	gpgme_data_t d;
	gpgme_error_t err;
	gpgme_export_mode_t mode;
	int rc;

	if ((err = gpgme_data_new(&d)) != 0)
		return keyring_fail(e, err, fpr);
	gpgme_set_armor(g->ctx, !binary);
	mode = secret ? GPGME_EXPORT_MODE_SECRET : GPGME_EXPORT_MODE_MINIMAL;
	err = gpgme_op_export(g->ctx, fpr, mode, d);
	gpgme_set_armor(g->ctx, 0);
	if (err != 0) {
		gpgme_data_release(d);
		return keyring_fail(e, err, fpr);
	}
	if ((rc = keyring_take_data(d, buf, len, fpr, e)) != 0)
		return rc;
	if (*len == 0) {
		g_free(*buf);
		return hd_error_set(e, HD_E_SOFTWARE, "%s: gpg exported nothing",
		    fpr);
	}
	return 0;
}

int
hd_gpg_delete(struct hd_gpg *g, const char *fpr, struct hd_error *e)
{
	gpgme_key_t k;
	gpgme_error_t err;
	int rc;

	if ((rc = keyring_get_key(g, fpr, 0, &k, e)) != 0)
		return rc == HD_E_NOINPUT ? 0 : rc;
	err = gpgme_op_delete_ext(g->ctx, k,
	    GPGME_DELETE_ALLOW_SECRET | GPGME_DELETE_FORCE);
	gpgme_key_unref(k);
	return err != 0 ? keyring_fail(e, err, fpr) : 0;
}

/*
 * A new key: a signing primary and an encryption subkey, both with the
 * same validity, protected by the passphrase set with
 * hd_gpg_set_passphrase.  The fingerprint goes to fpr[41].
 */
int
hd_gpg_generate(struct hd_gpg *g, const char *uid, const char *algo,
    long expires, char *fpr, struct hd_error *e)
{
	gpgme_genkey_result_t r;
	gpgme_key_t k = NULL;
	gpgme_error_t err;
	const char *prim, *sub;
	unsigned flags;
	int rc;

	if (strcmp(algo, "ed25519") == 0) {
		prim = "ed25519";
		sub = "cv25519";
	} else if (strcmp(algo, "rsa3072") == 0 ||
	    strcmp(algo, "rsa4096") == 0) {
		prim = sub = algo;
	} else
		return hd_error_set(e, HD_E_USAGE, "%s: unknown algorithm", algo);
	flags = expires == 0 ? GPGME_CREATE_NOEXPIRE : 0;
	if (g->pass == NULL)
		flags |= GPGME_CREATE_NOPASSWD;
	err = gpgme_op_createkey(g->ctx, uid, prim, 0, expires, NULL,
	    flags | GPGME_CREATE_SIGN | GPGME_CREATE_CERT);
	if (err != 0)
		return keyring_fail(e, err, uid);
	r = gpgme_op_genkey_result(g->ctx);
	if (r == NULL || r->fpr == NULL)
		return hd_error_set(e, HD_E_SOFTWARE, "%s: gpg made no key", uid);
	g_strlcpy(fpr, r->fpr, 41);
	if ((rc = keyring_get_key(g, fpr, 1, &k, e)) != 0)
		return rc;
	err = gpgme_op_createsubkey(g->ctx, k, sub, 0, expires,
	    flags | GPGME_CREATE_ENCR);
	gpgme_key_unref(k);
	return err != 0 ? keyring_fail(e, err, fpr) : 0;
}
