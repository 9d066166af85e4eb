/*
 * keystore-import.c: keys into the store (hdpgp-key import, and the keys
 * locate and refresh fetch): secret keys proved in a scratch home first,
 * then gpg's keyring and the index in one step, the addresses a new key
 * may take, and revocation certificates alone.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"

/*
 * Armor pasted from a web page or a mail often comes indented, with
 * trailing blanks or blank lines around it; gpg wants none of that.
 * Binary data is left alone.
 */
static char *
tidy_armor(const char *buf, size_t len, size_t *outlen)
{
	GString *s;
	char **lines;
	size_t i;

	if (memchr(buf, '\0', len) != NULL ||
	    g_strstr_len(buf, len, "-----BEGIN PGP ") == NULL)
		return NULL;
	s = g_string_sized_new(len);
	lines = g_strsplit(buf, "\n", -1);
	for (i = 0; lines[i] != NULL; i++) {
		const char *l = g_strstrip(lines[i]);

		/*
		 * gpg puts a colon before the armor of the revocation
		 * certificates it keeps (openpgp-revocs.d), so that they are
		 * not imported by accident; here the import is meant.
		 */
		if (g_str_has_prefix(l, ":-----BEGIN PGP "))
			l++;
		if (s->len == 0 && *l == '\0')
			continue;
		g_string_append_printf(s, "%s\n", l);
	}
	g_strfreev(lines);
	*outlen = s->len;
	return g_string_free(s, FALSE);
}

static char *
askpass(const struct hd_askpass *ap, const char *fpr, const char *uid)
{
	char *prompt, *safe, *pass;

	if (ap == NULL || ap->get == NULL)
		return NULL;
	safe = hd_sanitize(uid);
	prompt = g_strdup_printf("Passphrase for %s (%s): ", safe, fpr);
	pass = ap->get(ap->arg, prompt);
	g_free(prompt);
	g_free(safe);
	return pass;
}

static const char *
primary_uid(const struct hd_key *k)
{
	return k->nuid > 0 ? k->uid[0].uid : "";
}

#define UNCHECKED	2	/* protected[]: the passphrase was not proved */

/*
 * Check every secret key of the input in a scratch home before anything
 * reaches the real one.  The passphrase is asked for at most once, when a
 * key turns out to need one.  protected[i] tells which keys did.
 */
static int
check_secrets(struct hd_state *st, const char *buf, size_t len,
    const struct hd_keyset *scan, char **pass, const struct hd_askpass *ap,
    int *protected, struct hd_error *e)
{
	struct hd_gpg *g = NULL;
	struct hd_keyset ks = { 0 };
	enum hd_import_how *how = NULL;
	size_t i, j;
	int rc, unprot;

	if ((rc = hd_gpg_scratch(st, &g, e)) != 0)
		return rc;
	rc = hd_gpg_import(g, buf, len, &ks, &how, e);
	for (i = 0; rc == 0 && i < scan->n; i++) {
		const struct hd_key *k = NULL;

		for (j = 0; j < ks.n; j++)
			if (strcmp(ks.key[j].fpr, scan->key[i].fpr) == 0)
				k = &ks.key[j];
		if (k == NULL || !k->secret)
			continue;
		/*
		 * gpg will not sign or decrypt with an expired or revoked
		 * key, so its passphrase cannot be proved: keep what was
		 * given, and say so.
		 */
		if (k->revoked || (k->expires != 0 &&
		    k->expires <= time(NULL))) {
			protected[i] = UNCHECKED;
			continue;
		}
		rc = hd_gpg_try_secret(g, k, *pass, &unprot, e);
		if (rc != 0 && *pass == NULL &&
		    e->cause == HD_E_PASS_REQUIRED &&
		    (*pass = askpass(ap, k->fpr, primary_uid(k))) != NULL)
			rc = hd_gpg_try_secret(g, k, *pass, &unprot, e);
		if (rc == 0)
			protected[i] = !unprot;
	}
	hd_keyset_free(&ks);
	g_free(how);
	hd_gpg_scratch_close(g);
	return rc;
}

static void
import_item(struct hd_import *res, const struct hd_key *k,
    enum hd_import_how how, const char *warning)
{
	size_t n = res->n++;

	res->item = g_renew(__typeof__(*res->item), res->item, res->n);
	memset(&res->item[n], 0, sizeof(res->item[n]));
	g_strlcpy(res->item[n].fpr, k->fpr, sizeof(res->item[n].fpr));
	res->item[n].how = how;
	res->item[n].uid = hd_sanitize(primary_uid(k));
	res->item[n].secret = k->secret;
	res->item[n].warning = warning != NULL ? g_strdup(warning) : NULL;
}

void
hd_import_free(struct hd_import *res)
{
	size_t i;

	for (i = 0; i < res->n; i++) {
		g_free(res->item[i].uid);
		g_free(res->item[i].warning);
		hd_roles_free(res->item[i].role, res->item[i].nrole);
	}
	g_free(res->item);
	memset(res, 0, sizeof(*res));
}

/* The packets of the input, armored or not; empty when unreadable. */
static void
read_packets(const char *buf, size_t len, struct hd_packets *pk)
{
	struct hd_error e;
	char *bin;
	size_t blen;

	if ((bin = hd_dearmor(buf, len, &blen)) != NULL) {
		buf = bin;
		len = blen;
	}
	/* What was read before a bad packet still counts; gpg judges. */
	hd_packets_read(buf, len, pk, &e);
	g_free(bin);
}

/*
 * Signatures on k by keys the store does not hold: gpg's import-clean
 * (gpg.conf of the state's home) drops them, and the import says how
 * many (issue 10: certificate flooding, CVE-2019-13050).
 */
static size_t
dropped_sigs(struct hd_state *st, const struct hd_packets *pk,
    const struct hd_key *k)
{
	struct hd_keyset ks;
	struct hd_error e;
	size_t i, j, n = 0;

	for (i = 0; i < pk->nkey; i++) {
		if (strcmp(pk->key[i].keyid, k->sub[0].keyid) != 0)
			continue;
		for (j = 0; j < pk->key[i].nforeign; j++) {
			const char *who = pk->key[i].foreign[j].issuer;

			if (*who == '\0' || hd_key_find(st, who, &ks, &e) != 0)
				n++;
			else
				hd_keyset_free(&ks);
		}
	}
	return n;
}

/* Records for the log, written once the transaction is over. */
struct note {
	const char	*action;
	const char	*result;
	char		*keys;
	char		*comment;
};

static void
note_add(GArray *notes, const char *action, const char *result,
    const char *k1, const char *k2, char *comment)
{
	struct note n = { action, result, g_strdup_printf("%s %s", k1, k2),
	    comment };

	g_array_append_val(notes, n);
}

static void
notes_flush(struct hd_state *st, GArray *notes, int write)
{
	guint i;

	for (i = 0; i < notes->len; i++) {
		struct note *n = &g_array_index(notes, struct note, i);

		if (write)
			hd_log_action(st, n->action, n->result, NULL,
			    n->keys, n->comment);
		g_free(n->keys);
		g_free(n->comment);
	}
	g_array_set_size(notes, 0);
}

/* A pinned key other than fpr with a valid user ID for addr, in srv. */
static int
pinned_other(struct hd_state *st, const char *addr, const char *fpr,
    char *srv)
{
	struct hd_keyset ks = { 0 };
	char *rkey;
	size_t i;
	int found = 0;

	rkey = g_strdup_printf("addr:%s", addr);
	hd_key_listed(st, rkey, &ks);
	g_free(rkey);
	for (i = 0; i < ks.n && !found; i++)
		if (strcmp(ks.key[i].fpr, fpr) != 0 &&
		    hd_key_pinned(st, ks.key[i].fpr)) {
			g_strlcpy(srv, ks.key[i].fpr, 41);
			found = 1;
		}
	hd_keyset_free(&ks);
	return found;
}

/*
 * The addresses k takes on (issue 10, item 1); inside the transaction,
 * after k's index entries are in.  An address another key serves stays
 * with that key, and k is held back for it, unless the administrator
 * said --replace, or the serving key certified k (a rollover: then the
 * newest key serves, and an explicit choice of the old key passes on).
 */
static int
claim(struct hd_state *st, struct hd_gpg *g, const struct hd_key *k,
    const struct hd_key *old, int replace, GArray *notes, struct hd_error *e)
{
	char srv[41], *pref;
	size_t i;
	int rc = 0, network = replace & HD_IMPORT_NETWORK;

	replace &= HD_IMPORT_REPLACE;
	for (i = 0; i < k->nuid && rc == 0; i++) {
		const char *a = hd_key_email(k, i);

		if (a == NULL || (!replace && old != NULL &&
		    hd_key_carries(old, a)))
			continue;
		if (!replace && hd_addr_excluded(st, a, k->fpr))
			continue;
		/* Not even an expired pinned key is shadowed (issue 12). */
		if (network && pinned_other(st, a, k->fpr, srv))
			replace = 0;
		else if (hd_addr_serving(st, a, k->fpr, time(NULL), srv) != 0)
			continue;
		if (replace) {
			rc = hd_addr_set_preferred(st, a, k->fpr, e);
			if (rc == 0)
				rc = hd_addr_list_edit(st, "held", a, k->fpr,
				    0, e);
			if (rc == 0)
				rc = hd_addr_list_edit(st, "refused", a,
				    k->fpr, 0, e);
			note_add(notes, "key-prefer", "success", k->fpr, srv,
			    g_strdup_printf("%s: %s replaces %s (import "
			    "--replace)", a, k->fpr, srv));
		} else if (hd_gpg_certified(g, k->fpr, a, srv)) {
			pref = hd_addr_preferred(st, a);
			if (pref != NULL && strcmp(pref, srv) == 0)
				rc = hd_addr_set_preferred(st, a, k->fpr, e);
			g_free(pref);
			note_add(notes, "key-rollover", "success", k->fpr, srv,
			    g_strdup_printf("%s: certified by %s", a, srv));
		} else {
			rc = hd_addr_list_edit(st, "held", a, k->fpr, 1, e);
			note_add(notes, "key-conflict", "failed", k->fpr, srv,
			    g_strdup_printf("%s: served by %s; %s held back "
			    "(hdpgp-key prefer or import --replace to "
			    "switch)", a, srv, k->fpr));
		}
	}
	return rc;
}

/*
 * A revocation certificate alone (gpg --gen-revoke, openpgp-revocs.d,
 * sq revoke): the key it revokes must be in the store, and gpg must find
 * the signature good; the key is then marked revoked at once.
 */
static int
import_revocation(struct hd_state *st, struct hd_gpg *g, const char *buf,
    size_t len, const struct hd_packets *pk, struct hd_import *res,
    GString *fprs, struct hd_error *e)
{
	struct hd_key old = { 0 };
	struct hd_keyset ks = { 0 };
	char *fpr;
	size_t i;
	int rc, applied;

	for (i = 0; i < pk->nlone; i++)
		if (pk->lone[i].type != 0x20)
			return hd_error_set(e, HD_E_DATA,
			    "no OpenPGP key found in the input");
	if (*pk->lone[0].issuer == '\0')
		return hd_error_set(e, HD_E_DATA, "revocation certificate "
		    "without an issuer");
	if ((rc = hd_key_resolve(st, pk->lone[0].issuer, &old, e)) != 0)
		return rc == HD_E_CONFIG ? rc : hd_error_set(e, HD_E_DATA,
		    "revocation certificate for key %s, which is not in the "
		    "store", pk->lone[0].issuer);
	g_string_append(fprs, old.fpr);
	if ((rc = hd_state_keyring_lock(st, e)) != 0)
		goto out;
	fpr = old.fpr;
	rc = hd_gpg_import_revocation(g, buf, len, &applied, e);
	if (rc == 0)
		rc = hd_gpg_keys(g, &fpr, 1, &ks, e);
	if (rc == 0 && (ks.n != 1 || !ks.key[0].revoked))
		rc = hd_error_set(e, HD_E_DATA, "%s: the revocation "
		    "certificate does not verify", old.fpr);
	if (rc == 0 && (rc = hd_state_begin(st, e)) == 0) {
		ks.key[0].alias = old.alias != NULL ? g_strdup(old.alias) :
		    NULL;
		ks.key[0].has_pass = old.has_pass;
		ks.key[0].unprotected = old.unprotected;
		if ((rc = hd_key_put(st, &ks.key[0], e)) != 0) {
			hd_state_cancel(st);
			rc = hd_error_set(e, rc, "state: cannot store key %s",
			    old.fpr);
		} else
			rc = hd_state_commit(st, e);
	}
	if (rc == 0) {
		import_item(res, &ks.key[0], old.revoked ?
		    HD_IMPORT_UNCHANGED : HD_IMPORT_REVOKED, NULL);
		hd_key_roles(st, &ks.key[0], time(NULL));
		res->item[0].role = ks.key[0].role;
		res->item[0].nrole = ks.key[0].nrole;
		ks.key[0].role = NULL;
		ks.key[0].nrole = 0;
	}
	hd_state_keyring_unlock(st);
out:
	hd_keyset_free(&ks);
	hd_key_free(&old);
	return rc;
}

/*
 * Import every key in buf.  Secret keys are proved with the passphrase
 * first; the keyring import and the index update follow, and on a failed
 * index update the keys gpg took are removed again.  Every import,
 * failed or not, leaves one log record naming the keys.
 */
static int	import_keys(struct hd_state *, const char *, size_t,
		    const char *, int, const struct hd_origin *,
		    const struct hd_askpass *, struct hd_import *,
		    struct hd_error *);

int
hd_key_import(struct hd_state *st, const char *buf, size_t len,
    const char *alias, int flags, const struct hd_askpass *ap,
    struct hd_import *res, struct hd_error *e)
{
	static const struct hd_origin file = { "file", NULL, NULL, 0, 0 };

	return import_keys(st, buf, len, alias, flags, &file, ap, res, e);
}

/*
 * Keys fetched from the network (wkd-locate.c): public keys, already cut
 * down to the user IDs and self-signatures wanted.  A pinned key keeps
 * its origin; a key new to the store, or from the network before, takes
 * this one.
 */
int
hd_key_import_from(struct hd_state *st, const char *buf, size_t len,
    const struct hd_origin *o, int flags, struct hd_import *res,
    struct hd_error *e)
{
	return import_keys(st, buf, len, NULL, flags | HD_IMPORT_NETWORK, o,
	    NULL, res, e);
}

/*
 * The origin record of a key after an import from o; had: the key was in
 * the store before.
 */
static int
note_origin(struct hd_state *st, const char *fpr, const struct hd_origin *o,
    int had, struct hd_error *e)
{
	struct hd_origin cur, next = *o;
	int rc, known;

	known = hd_origin_get(st, fpr, &cur, e) == 0;
	if (had && hd_origin_network(o->source) && hd_origin_pinned(&cur)) {
		/* Already the administrator's: it stays pinned. */
		hd_origin_free(&cur);
		return 0;
	}
	next.last = time(NULL);
	next.first = known && strcmp(cur.source, o->source) == 0 &&
	    cur.first != 0 ? cur.first : next.last;
	rc = hd_origin_put(st, fpr, &next, e);
	hd_origin_free(&cur);
	return rc;
}

/* One import, as the keys go into the index one after the other. */
struct job {
	struct hd_state	*st;
	struct hd_gpg	*g;
	const struct hd_origin *origin;
	int		 flags;
	char		*dom;		/* --domain-alias, normalised */
	char		*pass;		/* what proved the secret keys */
	struct hd_keyset scan;		/* the keys of the input */
	int		*protected;	/* per scan key: by a passphrase */
	struct hd_packets pk;
	GArray		*notes;		/* struct note */
};

/*
 * The passphrase record of k, as check_secrets found its secret key; the
 * warning to give, or NULL.
 */
static int
secret_of(struct job *j, struct hd_key *k, const char **warn,
    struct hd_error *e)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < j->scan.n; i++) {
		if (strcmp(j->scan.key[i].fpr, k->fpr) != 0 ||
		    !j->scan.key[i].secret)
			continue;
		if (j->protected[i] == UNCHECKED) {
			k->has_pass = j->pass != NULL;
			rc = hd_key_store_pass(j->st, k->fpr, j->pass, e);
			*warn = "expired or revoked: its passphrase could "
			    "not be checked";
		} else if (j->protected[i]) {
			k->has_pass = 1;
			k->unprotected = 0;
			rc = hd_key_store_pass(j->st, k->fpr, j->pass, e);
		} else {
			k->has_pass = 0;
			k->unprotected = 1;
			rc = hd_key_store_pass(j->st, k->fpr, NULL, e);
			*warn = "secret key is not protected by a passphrase";
		}
	}
	return rc;
}

/*
 * Key k, as gpg now has it, into the index: what the store kept of it
 * before (alias, passphrase), its passphrase, its origin and addresses;
 * inside the transaction.  Its line of the result goes to res.
 */
static int
store_key(struct job *j, struct hd_key *k, enum hd_import_how *how,
    struct hd_import *res, struct hd_error *e)
{
	struct hd_key old;
	const char *warn = NULL;
	int rc, had;

	/* A damaged record is replaced: it was there all the same. */
	rc = hd_key_load(j->st, k->fpr, &old, e);
	had = rc != HD_E_NOINPUT;
	if (rc == 0) {
		k->alias = old.alias != NULL ? g_strdup(old.alias) : NULL;
		k->has_pass = old.has_pass;
		k->unprotected = old.unprotected;
	}
	if (j->dom != NULL) {
		g_free(k->alias);
		k->alias = g_strdup(j->dom);
	}
	rc = secret_of(j, k, &warn, e);
	if (warn == NULL && *hd_key_first_email(k) == '\0')
		warn = "no user ID with an email address: usable by "
		    "fingerprint or domain alias only";
	if (rc == 0)
		rc = hd_key_put(j->st, k, e);
	if (rc == 0)
		rc = note_origin(j->st, k->fpr, j->origin, had, e);
	if (rc != 0)
		rc = hd_error_set(e, rc, "state: cannot store key %s", k->fpr);
	if (rc == 0 && (rc = claim(j->st, j->g, k, *old.fpr ? &old : NULL,
	    j->flags, j->notes, e)) != 0)
		rc = hd_error_set(e, rc, "state: cannot store the addresses "
		    "of key %s", k->fpr);
	/* sq revoke writes the key with its revocation: say so. */
	if (*old.fpr != '\0' && !old.revoked && k->revoked)
		*how = HD_IMPORT_REVOKED;
	hd_key_free(&old);
	import_item(res, k, *how, warn);
	res->item[res->n - 1].dropped = dropped_sigs(j->st, &j->pk, k);
	return rc;
}

/* The input checked and scanned: into gpg's keyring, then the index. */
static int
import_checked(struct job *j, const char *buf, size_t len,
    struct hd_import *res, struct hd_keyset *ks, GString *fprs,
    struct hd_error *e)
{
	enum hd_import_how *how = NULL;
	size_t i;
	int rc;

	if ((rc = hd_state_keyring_lock(j->st, e)) != 0)
		return rc;
	if ((rc = hd_gpg_import(j->g, buf, len, ks, &how, e)) != 0)
		goto unlock;
	g_string_truncate(fprs, 0);
	if ((rc = hd_state_begin(j->st, e)) != 0)
		goto undo;
	for (i = 0; i < ks->n && rc == 0; i++) {
		rc = store_key(j, &ks->key[i], &how[i], res, e);
		g_string_append_printf(fprs, "%s%s", i ? " " : "",
		    ks->key[i].fpr);
	}
	if (rc == 0)
		rc = hd_state_commit(j->st, e);
	else
		hd_state_cancel(j->st);
undo:
	/* Only keys that were new to gpg can go without losing anything. */
	for (i = 0; rc != 0 && i < ks->n; i++)
		if (how[i] == HD_IMPORT_NEW)
			hd_gpg_delete(j->g, ks->key[i].fpr, NULL);
unlock:
	hd_state_keyring_unlock(j->st);
	g_free(how);
	return rc;
}

/* What gpg would import, and the secret keys proved; fprs names them. */
static int
scan(struct job *j, const char *buf, size_t len, const struct hd_askpass *ap,
    GString *fprs, struct hd_error *e)
{
	size_t i;
	int rc, secret = 0;

	if ((rc = hd_gpg_scan(j->g, buf, len, &j->scan, e)) != 0)
		return rc;
	for (i = 0; i < j->scan.n; i++) {
		g_string_append_printf(fprs, "%s%s", i ? " " : "",
		    j->scan.key[i].fpr);
		secret |= j->scan.key[i].secret;
	}
	j->protected = g_new0(int, j->scan.n);
	return secret ? check_secrets(j->st, buf, len, &j->scan, &j->pass, ap,
	    j->protected, e) : 0;
}

static int
import_keys(struct hd_state *st, const char *buf, size_t len,
    const char *alias, int flags, const struct hd_origin *origin,
    const struct hd_askpass *ap, struct hd_import *res, struct hd_error *e)
{
	struct job j = { 0 };
	struct hd_keyset ks = { 0 };
	char *tidy, *comment;
	GString *fprs = g_string_new(NULL);
	size_t i, tlen;
	int rc;

	memset(res, 0, sizeof(*res));
	j.st = st;
	j.origin = origin;
	j.flags = flags;
	j.notes = g_array_new(FALSE, TRUE, sizeof(struct note));
	if ((tidy = tidy_armor(buf, len, &tlen)) != NULL) {
		buf = tidy;
		len = tlen;
	}
	if (alias != NULL && (j.dom = hd_alias_normalize(alias)) == NULL) {
		rc = hd_error_set(e, HD_E_USAGE, "%s: not a domain", alias);
		goto out;
	}
	read_packets(buf, len, &j.pk);
	if ((rc = hd_gpg_open(&j.g, st, e)) != 0 ||
	    (rc = hd_gpg_set_import(j.g, NULL, hd_origin_network(
	    origin->source) ? (strcmp(origin->source, "wkd") == 0 ? "wkd" :
	    "ks") : "file", origin->url, e)) != 0)
		goto out;
	if ((rc = scan(&j, buf, len, ap, fprs, e)) == HD_E_DATA &&
	    j.pk.nkey == 0 && j.pk.nlone > 0 && j.scan.n == 0)
		rc = import_revocation(st, j.g, buf, len, &j.pk, res, fprs, e);
	else if (rc == 0)
		rc = import_checked(&j, buf, len, res, &ks, fprs, e);
out:
	/* One record for the import, failed or not, naming its keys. */
	comment = hd_origin_network(origin->source) ? g_strdup_printf(
	    "from %s %s", origin->source, origin->url) : NULL;
	hd_log_action(st, "key-import", rc == 0 ? "success" : "failed", NULL,
	    fprs->len ? fprs->str : NULL, rc == 0 ? comment : e->text);
	g_free(comment);
	notes_flush(st, j.notes, rc == 0);
	for (i = 0; rc == 0 && i < res->n && i < ks.n; i++) {
		hd_key_roles(st, &ks.key[i], time(NULL));
		res->item[i].role = ks.key[i].role;
		res->item[i].nrole = ks.key[i].nrole;
		ks.key[i].role = NULL;
		ks.key[i].nrole = 0;
	}
	if (rc != 0)
		hd_import_free(res);
	hd_keyset_free(&j.scan);
	hd_keyset_free(&ks);
	hd_packets_free(&j.pk);
	g_array_free(j.notes, TRUE);
	g_free(j.protected);
	hd_secure_free(j.pass);
	g_free(j.dom);
	g_free(tidy);
	g_string_free(fprs, TRUE);
	hd_gpg_close(j.g);
	return rc;
}
