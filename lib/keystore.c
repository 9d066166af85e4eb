/*
 * keystore.c: the key store's other gpg-driven operations: generate,
 * passwd, export and delete, each keeping gpg's keyring and the index
 * (keystore-index.c) in step.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"

int
hd_key_delete(struct hd_state *st, const char *query, struct hd_error *e)
{
	struct hd_gpg *g = NULL;
	struct hd_key k = { 0 };
	int rc;

	if ((rc = hd_key_resolve(st, query, &k, e)) != 0)
		return rc;
	if ((rc = hd_gpg_open(&g, st, e)) == 0 &&
	    (rc = hd_state_keyring_lock(st, e)) == 0) {
		rc = hd_gpg_delete(g, k.fpr, e);
		if (rc == 0 && (rc = hd_state_begin(st, e)) == 0) {
			if ((rc = hd_key_drop(st, &k, e)) != 0) {
				hd_state_cancel(st);
				rc = hd_error_set(e, rc, "state: cannot "
				    "remove key %s", k.fpr);
			} else
				rc = hd_state_commit(st, e);
		}
		hd_state_keyring_unlock(st);
	}
	hd_log_action(st, "key-delete", rc == 0 ? "success" : "failed", NULL,
	    k.fpr, rc == 0 ? NULL : e->text);
	hd_gpg_close(g);
	hd_key_free(&k);
	return rc;
}

int
hd_key_export(struct hd_state *st, const char *query, int secret, int binary,
    char **buf, size_t *len, struct hd_error *e)
{
	struct hd_gpg *g = NULL;
	struct hd_key k = { 0 };
	char *pass = NULL;
	int rc;

	if ((rc = hd_key_resolve(st, query, &k, e)) != 0)
		return rc;
	if (secret && !k.secret) {
		rc = hd_error_set(e, HD_E_DATA, "%s: no secret key (public "
		    "key only)", k.fpr);
		goto out;
	}
	if ((rc = hd_gpg_open(&g, st, e)) != 0)
		goto out;
	if (secret && hd_key_passphrase(st, k.fpr, &pass) == 0)
		hd_gpg_set_passphrase(g, pass);
	rc = hd_gpg_export(g, k.fpr, secret, binary, buf, len, e);
	if (secret)
		hd_log_action(st, "key-export-secret", rc == 0 ? "success" :
		    "failed", NULL, k.fpr, rc == 0 ? NULL : e->text);
out:
	hd_secure_free(pass);
	hd_gpg_close(g);
	hd_key_free(&k);
	return rc;
}

static int
store_fresh(struct hd_state *st, struct hd_gpg *g, const char *fpr,
    const char *pass, const char *alias, struct hd_error *e)
{
	struct hd_keyset ks;
	char *f = (char *)(uintptr_t)fpr;
	int rc;

	if ((rc = hd_gpg_keys(g, &f, 1, &ks, e)) != 0)
		return rc;
	if (ks.n != 1) {
		hd_keyset_free(&ks);
		return hd_error_set(e, HD_E_SOFTWARE, "%s: key not found after "
		    "generation", fpr);
	}
	ks.key[0].has_pass = pass != NULL;
	ks.key[0].alias = alias != NULL ? g_strdup(alias) : NULL;
	if ((rc = hd_state_begin(st, e)) == 0) {
		struct hd_origin o = { "generated", NULL, NULL, time(NULL),
		    time(NULL) };

		if ((rc = hd_key_put(st, &ks.key[0], e)) != 0 ||
		    (rc = hd_origin_put(st, fpr, &o, e)) != 0 ||
		    (rc = hd_key_store_pass(st, fpr, pass, e)) != 0) {
			hd_state_cancel(st);
			rc = hd_error_set(e, rc, "state: cannot store key %s",
			    fpr);
		} else
			rc = hd_state_commit(st, e);
	}
	hd_keyset_free(&ks);
	return rc;
}

/*
 * gpg's revocation certificate for a key made in a scratch home, kept in
 * the state's home where gpg itself would have put it.  The key is made
 * all the same when it cannot be: a warning says so.
 */
static void
keep_revocation(struct hd_state *st, const char *scratch, const char *fpr)
{
	char *name, *from, *dir, *to, *cert;
	gsize len;

	name = g_strconcat(fpr, ".rev", NULL);
	from = g_build_filename(scratch, "openpgp-revocs.d", name, NULL);
	dir = g_build_filename(hd_state_gnupg(st), "openpgp-revocs.d", NULL);
	to = g_build_filename(dir, name, NULL);
	if (g_file_get_contents(from, &cert, &len, NULL)) {
		if (g_mkdir_with_parents(dir, 0700) != 0 ||
		    !g_file_set_contents_full(to, cert, len,
		    G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL))
			hd_state_warn(st, "%s: cannot keep the revocation "
			    "certificate", to);
		g_free(cert);
	}
	g_free(name);
	g_free(from);
	g_free(dir);
	g_free(to);
}

/*
 * A new helpdesk key (hdpgp-key generate); its fingerprint in fpr[41].
 *
 * The key is made in a scratch home and imported, as any other key.  A
 * key gpg generates in place is stored without its self-signatures
 * marked as checked, and every later gpg run that loads it (each
 * signature, each decryption) checks them again: about 1 ms each for
 * ed25519.  An import stores them checked.
 */
int
hd_key_generate(struct hd_state *st, const char *address, const char *name,
    const char *algo, long expires, const char *pass, char *fpr,
    struct hd_error *e)
{
	struct hd_gpg *g = NULL, *sg = NULL;
	struct hd_keyset ks = { 0 };
	enum hd_import_how *how = NULL;
	char *addr, *uid = NULL, *key = NULL;
	size_t keylen = 0;
	int rc;

	*fpr = '\0';
	if ((addr = hd_addr_normalize(address)) == NULL)
		return hd_error_set(e, HD_E_USAGE, "%s: not an email address",
		    address);
	if (name != NULL && strpbrk(name, "<>\r\n") != NULL) {
		g_free(addr);
		return hd_error_set(e, HD_E_USAGE, "%s: a name may not hold "
		    "<, > or line breaks", name);
	}
	uid = name != NULL ? g_strdup_printf("%s <%s>", name, addr) :
	    g_strdup_printf("<%s>", addr);
	if ((rc = hd_gpg_scratch(st, &sg, e)) != 0)
		goto out;
	hd_gpg_set_passphrase(sg, pass);
	rc = hd_gpg_generate(sg, uid, algo, expires, fpr, e);
	if (rc == 0)
		rc = hd_gpg_export(sg, fpr, 1, 1, &key, &keylen, e);
	if (rc == 0)
		keep_revocation(st, hd_gpg_home(sg), fpr);
	hd_gpg_scratch_close(sg);
	if (rc != 0)
		goto out;
	if ((rc = hd_gpg_open(&g, st, e)) != 0)
		goto out;
	hd_gpg_set_passphrase(g, pass);
	if ((rc = hd_state_keyring_lock(st, e)) != 0)
		goto out;
	rc = hd_gpg_import(g, key, keylen, &ks, &how, e);
	if (rc == 0)
		rc = store_fresh(st, g, fpr, pass, NULL, e);
	if (rc != 0 && ks.n > 0)
		hd_gpg_delete(g, fpr, NULL);
	hd_state_keyring_unlock(st);
out:
	hd_log_action(st, "key-generate", rc == 0 ? "success" : "failed", NULL,
	    *fpr ? fpr : NULL, rc == 0 ? addr : e->text);
	hd_keyset_free(&ks);
	g_free(how);
	hd_secure_free(key);
	hd_gpg_close(g);
	g_free(uid);
	g_free(addr);
	return rc;
}

/* Store or replace the passphrase of a secret key, after proving it. */
int
hd_key_passwd(struct hd_state *st, const char *query, const char *pass,
    struct hd_error *e)
{
	struct hd_gpg *g = NULL;
	struct hd_key k = { 0 };
	int rc, unprot;

	if ((rc = hd_key_resolve(st, query, &k, e)) != 0)
		return rc;
	if (!k.secret) {
		rc = hd_error_set(e, HD_E_DATA, "%s: no secret key (public "
		    "key only)", k.fpr);
		goto out;
	}
	if ((rc = hd_gpg_open(&g, st, e)) != 0)
		goto out;
	rc = hd_gpg_try_secret(g, &k, pass, &unprot, e);
	if (rc == 0 && unprot)
		rc = hd_error_set(e, HD_E_DATA, "%s: secret key is not "
		    "protected by a passphrase: nothing to store", k.fpr);
	if (rc == 0 && (rc = hd_state_begin(st, e)) == 0) {
		k.has_pass = 1;
		if ((rc = hd_key_put(st, &k, e)) != 0 ||
		    (rc = hd_key_store_pass(st, k.fpr, pass, e)) != 0) {
			hd_state_cancel(st);
			rc = hd_error_set(e, rc, "state: cannot store "
			    "passphrase of %s", k.fpr);
		} else
			rc = hd_state_commit(st, e);
	}
	hd_log_action(st, "key-passwd", rc == 0 ? "success" : "failed", NULL,
	    k.fpr, rc == 0 ? NULL : e->text);
out:
	hd_gpg_close(g);
	hd_key_free(&k);
	return rc;
}
