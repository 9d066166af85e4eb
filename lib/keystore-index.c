/*
 * keystore-index.c: the key index in state.tdb, and the key store
 * operations that need no gpg (find, prefer, alias).
 *
 * The index lets every tool find keys by address without starting gpg:
 *	key:<FPR>	the key as JSON (struct hd_key)
 *	addr:<address>	fingerprints of keys with a valid user ID for it
 *	alias:<domain>	fingerprints of keys with that domain alias
 *	id:<KEYID>	primary fingerprint of a key or subkey ID, or of a
 *			subkey fingerprint
 *	pass:<FPR>	the stored passphrase
 *	prefer:<address> the key the administrator chose for the address
 *	held:<address>	keys held back at import: the address was served
 *			by another key (a conflict, until resolved)
 *	refused:<address> keys the administrator did not choose
 *	origin:<FPR>	where the key came from (origin.c)
 * A list record holds fingerprints one per line.  Every change to the
 * index is one transaction.  A state without prefer:, held: and refused:
 * records (an older hdpgp's) selects as before: the newest usable key.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"

/* The record rkey set to val (NULL: removed); inside a transaction. */
static int
put(struct hd_state *st, const char *rkey, const char *val,
    struct hd_error *e)
{
	int rc;

	rc = val != NULL ? hd_state_store(st, rkey, val, strlen(val)) :
	    hd_state_delete(st, rkey);
	return rc != 0 ? hd_error_set(e, HD_E_IO, "state: cannot write %s",
	    rkey) : 0;
}

/* The record "prefix:name" set to value, or removed when value is NULL. */
static int
set_record(struct hd_state *st, const char *prefix, const char *name,
    const char *value, struct hd_error *e)
{
	char *rkey = g_strdup_printf("%s:%s", prefix, name);
	int rc;

	rc = put(st, rkey, value, e);
	g_free(rkey);
	return rc;
}

/* Add or remove one fingerprint in a list record. */
static int
list_edit(struct hd_state *st, const char *rkey, const char *fpr, int add,
    struct hd_error *e)
{
	char *val = NULL, **v, *out;
	GString *s;
	int rc, found = 0;
	size_t i;

	if ((rc = hd_state_fetch(st, rkey, &val, NULL)) < 0)
		return hd_error_set(e, HD_E_IO, "state: cannot read %s", rkey);
	s = g_string_new(NULL);
	v = g_strsplit(rc == 0 ? val : "", "\n", -1);
	for (i = 0; v[i] != NULL; i++) {
		if (*v[i] == '\0')
			continue;
		if (strcmp(v[i], fpr) == 0) {
			found = 1;
			if (!add)
				continue;
		}
		g_string_append_printf(s, "%s\n", v[i]);
	}
	if (add && !found)
		g_string_append_printf(s, "%s\n", fpr);
	out = g_string_free(s, FALSE);
	rc = put(st, rkey, *out != '\0' ? out : NULL, e);
	g_free(out);
	g_strfreev(v);
	g_free(val);
	return rc;
}

/* The index records that point at a key, added or removed. */
static int
index_edit(struct hd_state *st, const struct hd_key *k, int add,
    struct hd_error *e)
{
	char *rkey;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < k->nuid && rc == 0; i++) {
		if (hd_key_email(k, i) == NULL)
			continue;
		rkey = g_strdup_printf("addr:%s", k->uid[i].email);
		rc = list_edit(st, rkey, k->fpr, add, e);
		g_free(rkey);
	}
	if (rc == 0 && k->alias != NULL) {
		rkey = g_strdup_printf("alias:%s", k->alias);
		rc = list_edit(st, rkey, k->fpr, add, e);
		g_free(rkey);
	}
	for (i = 0; i < k->nsub && rc == 0; i++) {
		const char *ids[2] = { k->sub[i].keyid, k->sub[i].fpr };

		for (j = 0; j < 2 && rc == 0; j++) {
			if (*ids[j] == '\0' || (i == 0 && j == 1))
				continue;
			rkey = g_strdup_printf("id:%s", ids[j]);
			rc = put(st, rkey, add ? k->fpr : NULL, e);
			g_free(rkey);
		}
	}
	return rc;
}

/*
 * Replace a key's record and index entries; inside a transaction.  A
 * damaged record is replaced too (importing the key again repairs it),
 * though the index entries it had cannot be known and stay.
 */
int
hd_key_put(struct hd_state *st, const struct hd_key *k, struct hd_error *e)
{
	struct hd_key old;
	char *rkey, *val;
	int rc;

	if ((rc = hd_key_load(st, k->fpr, &old, e)) == 0)
		rc = index_edit(st, &old, 0, e);
	else if (rc == HD_E_NOINPUT || rc == HD_E_CONFIG)
		rc = 0;
	hd_key_free(&old);
	if (rc != 0)
		return rc;
	val = hd_key_record(k);
	rkey = g_strdup_printf("key:%s", k->fpr);
	rc = put(st, rkey, val, e);
	g_free(rkey);
	g_free(val);
	return rc == 0 ? index_edit(st, k, 1, e) : rc;
}

/* Is fpr on the list record prefix:addr? */
static int
on_list(struct hd_state *st, const char *prefix, const char *addr,
    const char *fpr)
{
	char *rkey, *val, **v;
	size_t i;
	int found = 0;

	rkey = g_strdup_printf("%s:%s", prefix, addr);
	if (hd_state_fetch(st, rkey, &val, NULL) == 0) {
		v = g_strsplit(val, "\n", -1);
		for (i = 0; v[i] != NULL && !found; i++)
			found = strcmp(v[i], fpr) == 0;
		g_strfreev(v);
		g_free(val);
	}
	g_free(rkey);
	return found;
}

/* fpr added to or removed from the list record prefix:addr. */
int
hd_addr_list_edit(struct hd_state *st, const char *prefix, const char *addr,
    const char *fpr, int add, struct hd_error *e)
{
	char *rkey;
	int rc;

	rkey = g_strdup_printf("%s:%s", prefix, addr);
	rc = list_edit(st, rkey, fpr, add, e);
	g_free(rkey);
	return rc;
}

/* HD_ROLE_HELD or HD_ROLE_REFUSED when fpr may not serve addr, else 0. */
int
hd_addr_excluded(struct hd_state *st, const char *addr, const char *fpr)
{
	if (on_list(st, "held", addr, fpr))
		return HD_ROLE_HELD;
	if (on_list(st, "refused", addr, fpr))
		return HD_ROLE_REFUSED;
	return 0;
}

/* The fingerprint the administrator chose for addr, or NULL. */
char *
hd_addr_preferred(struct hd_state *st, const char *addr)
{
	char *rkey, *val = NULL;

	rkey = g_strdup_printf("prefer:%s", addr);
	if (hd_state_fetch(st, rkey, &val, NULL) != 0)
		val = NULL;
	g_free(rkey);
	return val;
}

int
hd_addr_set_preferred(struct hd_state *st, const char *addr, const char *fpr,
    struct hd_error *e)
{
	return set_record(st, "prefer", addr, fpr, e);
}

/* Does key k have a valid user ID for addr? */
int
hd_key_carries(const struct hd_key *k, const char *addr)
{
	size_t i;

	for (i = 0; i < k->nuid; i++)
		if (hd_key_email(k, i) != NULL &&
		    strcmp(k->uid[i].email, addr) == 0)
			return 1;
	return 0;
}

/*
 * For from-match: may the key fpr speak for addr?  It must carry the
 * address and not be held back or refused for it: the key that serves
 * the address, or another of the store's keys for it not in conflict.
 */
int
hd_key_serves(struct hd_state *st, const char *fpr, const char *addr)
{
	struct hd_error e;
	struct hd_key k;
	int ok;

	ok = hd_key_load(st, fpr, &k, &e) == 0 && hd_key_carries(&k, addr) &&
	    hd_addr_excluded(st, addr, fpr) == 0;
	hd_key_free(&k);
	return ok;
}

/* Not revoked, expired or disabled: a key that could serve at all. */
static int
alive(const struct hd_key *k, time_t now)
{
	return !k->revoked && !k->disabled &&
	    (k->expires == 0 || k->expires > now);
}

/*
 * The keys of an address in the order they are tried: the preferred key
 * first, then newest first.  Held and refused keys are dropped; *held
 * says whether there were any.
 */
void
hd_addr_rank(struct hd_state *st, const char *addr, struct hd_keyset *ks,
    int *held)
{
	char *pref = hd_addr_preferred(st, addr);
	size_t i, j, n = 0;

	*held = 0;
	for (i = 0; i < ks->n; i++) {
		if (hd_addr_excluded(st, addr, ks->key[i].fpr)) {
			hd_key_free(&ks->key[i]);
			*held = 1;
			continue;
		}
		ks->key[n++] = ks->key[i];
	}
	ks->n = n;
	/* Insertion sort: an address has a handful of keys. */
	for (i = 1; i < ks->n; i++)
		for (j = i; j > 0; j--) {
			struct hd_key *a = &ks->key[j - 1], *b = &ks->key[j], t;
			int pa = pref != NULL && strcmp(a->fpr, pref) == 0;
			int pb = pref != NULL && strcmp(b->fpr, pref) == 0;

			if (pa || (!pb && a->created >= b->created))
				break;
			t = *a;
			*a = *b;
			*b = t;
		}
	g_free(pref);
}

/*
 * The key that serves an address, whatever the operation: the first of
 * its ranked keys that is alive, except the key except (NULL: none).
 * 0 and the fingerprint in fpr[41], or HD_E_NOKEY: none serves it.
 */
int
hd_addr_serving(struct hd_state *st, const char *addr, const char *except,
    time_t now, char *fpr)
{
	struct hd_keyset ks = { 0 };
	char *rkey;
	size_t i;
	int held, rc = HD_E_NOKEY;

	*fpr = '\0';
	rkey = g_strdup_printf("addr:%s", addr);
	hd_key_listed(st, rkey, &ks);
	g_free(rkey);
	hd_addr_rank(st, addr, &ks, &held);
	for (i = 0; i < ks.n && rc != 0; i++)
		if ((except == NULL || strcmp(ks.key[i].fpr, except) != 0) &&
		    alive(&ks.key[i], now)) {
			g_strlcpy(fpr, ks.key[i].fpr, 41);
			rc = 0;
		}
	hd_keyset_free(&ks);
	return rc;
}

/* How k stands to each of its addresses, for show, list and import. */
void
hd_key_roles(struct hd_state *st, struct hd_key *k, time_t now)
{
	struct hd_error e;
	char *pref;
	size_t i, j;

	/* A damaged origin record reads as none: a pinned key. */
	if (k->origin == NULL) {
		k->origin = g_new0(struct hd_origin, 1);
		hd_origin_get(st, k->fpr, k->origin, &e);
	}
	hd_roles_free(k->role, k->nrole);
	k->role = g_new0(struct hd_role, k->nuid + 1);
	k->nrole = 0;
	for (i = 0; i < k->nuid; i++) {
		struct hd_role *r;
		const char *a = hd_key_email(k, i);

		for (j = 0; a != NULL && j < k->nrole; j++)
			if (strcmp(k->role[j].address, a) == 0)
				a = NULL;	/* two user IDs, one address */
		if (a == NULL)
			continue;
		r = &k->role[k->nrole++];
		r->address = g_strdup(a);
		pref = hd_addr_preferred(st, a);
		r->preferred = pref != NULL && strcmp(pref, k->fpr) == 0;
		g_free(pref);
		hd_addr_serving(st, a, NULL, now, r->server);
		if ((r->role = hd_addr_excluded(st, a, k->fpr)) == 0)
			r->role = strcmp(r->server, k->fpr) == 0 ?
			    HD_ROLE_SERVES : HD_ROLE_STANDBY;
	}
}

/*
 * For hdpgp-key prefer: fpr serves addr, and the keys held for it are
 * refused.
 */
static int
prefer(struct hd_state *st, const char *addr, const char *fpr,
    struct hd_error *e)
{
	char *rkey, *val = NULL, **v = NULL;
	size_t i;
	int rc;

	rkey = g_strdup_printf("held:%s", addr);
	if (hd_state_fetch(st, rkey, &val, NULL) == 0)
		v = g_strsplit(val, "\n", -1);
	rc = hd_addr_set_preferred(st, addr, fpr, e);
	for (i = 0; rc == 0 && v != NULL && v[i] != NULL; i++)
		if (*v[i] != '\0' && strcmp(v[i], fpr) != 0)
			rc = hd_addr_list_edit(st, "refused", addr, v[i], 1, e);
	if (rc == 0)
		rc = hd_addr_list_edit(st, "refused", addr, fpr, 0, e);
	if (rc == 0)
		rc = put(st, rkey, NULL, e);
	g_strfreev(v);
	g_free(val);
	g_free(rkey);
	return rc;
}

/*
 * The administrator's choice of key for an address (hdpgp-key prefer):
 * it serves the address from now on, whatever the dates, and the keys
 * held back for it are refused, which ends the conflict.
 */
int
hd_key_prefer(struct hd_state *st, const char *query, const char *address,
    struct hd_error *e)
{
	struct hd_key k = { 0 };
	char *addr, *comment = NULL;
	int rc;

	if ((addr = hd_addr_normalize(address)) == NULL)
		return hd_error_set(e, HD_E_USAGE, "%s: not an email address",
		    address);
	if ((rc = hd_key_resolve(st, query, &k, e)) != 0)
		goto out;
	if (!hd_key_carries(&k, addr)) {
		rc = hd_error_set(e, HD_E_DATA, "%s: the key has no valid "
		    "user ID for %s", k.fpr, addr);
		goto out;
	}
	if ((rc = hd_state_begin(st, e)) != 0)
		goto out;
	if ((rc = prefer(st, addr, k.fpr, e)) != 0) {
		hd_state_cancel(st);
		rc = hd_error_set(e, rc, "state: cannot store the key for %s",
		    addr);
	} else
		rc = hd_state_commit(st, e);
	comment = g_strdup_printf("%s: served by %s", addr, k.fpr);
out:
	if (*k.fpr != '\0')
		hd_log_action(st, "key-prefer", rc == 0 ? "success" :
		    "failed", NULL, k.fpr, rc == 0 ? comment : e->text);
	g_free(comment);
	g_free(addr);
	hd_key_free(&k);
	return rc;
}

struct conflicts {
	struct hd_state	*st;
	GArray		*list;		/* struct hd_conflict */
};

static int
conflict_cb(const char *rkey, const char *val, size_t len, void *arg)
{
	struct conflicts *c = arg;
	struct hd_conflict x = { 0 };
	struct hd_error e;
	char *text = g_strndup(val, len), **v;
	GPtrArray *held = g_ptr_array_new();
	size_t i;

	x.address = g_strdup(rkey + strlen("held:"));
	v = g_strsplit(text, "\n", -1);
	for (i = 0; v[i] != NULL; i++) {
		struct hd_key k = { 0 };

		/*
		 * A revoked key can serve nothing: no conflict to resolve.
		 * A damaged record is list's to report.
		 */
		if (*v[i] != '\0' && hd_key_load(c->st, v[i], &k, &e) == 0 &&
		    !k.revoked)
			g_ptr_array_add(held, g_strdup(v[i]));
		hd_key_free(&k);
	}
	if (held->len == 0) {
		g_ptr_array_free(held, TRUE);
		g_strfreev(v);
		g_free(text);
		g_free(x.address);
		return 0;
	}
	g_ptr_array_add(held, NULL);
	x.held = (char **)g_ptr_array_free(held, FALSE);
	hd_addr_serving(c->st, x.address, NULL, time(NULL), x.server);
	g_array_append_val(c->list, x);
	g_strfreev(v);
	g_free(text);
	return 0;
}

/* Every address with keys held back: the conflicts check reports. */
int
hd_key_conflicts(struct hd_state *st, struct hd_conflict **out, size_t *n,
    struct hd_error *e)
{
	struct conflicts c = { st, g_array_new(FALSE, TRUE,
	    sizeof(struct hd_conflict)) };
	int rc;

	rc = hd_state_each(st, "held:", conflict_cb, &c);
	*n = c.list->len;
	*out = (struct hd_conflict *)(void *)g_array_free(c.list, FALSE);
	return rc != 0 ? hd_error_set(e, HD_E_IO, "state: cannot read the "
	    "conflicts") : 0;
}

void
hd_conflicts_free(struct hd_conflict *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		g_free(c[i].address);
		g_strfreev(c[i].held);
	}
	g_free(c);
}

/* A key and every record about it out of the index; in a transaction. */
int
hd_key_drop(struct hd_state *st, const struct hd_key *k, struct hd_error *e)
{
	char *pref;
	const char *a;
	size_t i;
	int rc;

	if ((rc = index_edit(st, k, 0, e)) != 0)
		return rc;
	/* The key leaves every ranking and conflict of its addresses. */
	for (i = 0; i < k->nuid && rc == 0; i++) {
		if ((a = k->uid[i].email) == NULL)
			continue;
		rc = hd_addr_list_edit(st, "held", a, k->fpr, 0, e);
		if (rc == 0)
			rc = hd_addr_list_edit(st, "refused", a, k->fpr, 0, e);
		pref = hd_addr_preferred(st, a);
		if (rc == 0 && pref != NULL && strcmp(pref, k->fpr) == 0)
			rc = hd_addr_set_preferred(st, a, NULL, e);
		g_free(pref);
	}
	if (rc == 0)
		rc = set_record(st, "key", k->fpr, NULL, e);
	if (rc == 0)
		rc = hd_origin_drop(st, k->fpr, e);
	if (rc == 0)
		rc = set_record(st, "pass", k->fpr, NULL, e);
	return rc;
}

static void
keyset_take(struct hd_keyset *ks, struct hd_key *k)
{
	ks->key = g_renew(struct hd_key, ks->key, ks->n + 1);
	ks->key[ks->n++] = *k;
	memset(k, 0, sizeof(*k));
}

/*
 * Adds the keys a list record (addr:, alias:) names to ks.  A damaged
 * key record is left out, its error added to damaged (one a line) when
 * that is not NULL.  0, or HD_E_IO when the list cannot be read.
 */
static int
listed(struct hd_state *st, const char *rkey, struct hd_keyset *ks,
    GString *damaged, struct hd_error *e)
{
	struct hd_key k;
	char *val, **v;
	size_t i;
	int rc;

	if ((rc = hd_state_fetch(st, rkey, &val, NULL)) != 0)
		return rc < 0 ? hd_error_set(e, HD_E_IO, "state: cannot read "
		    "%s", rkey) : 0;
	v = g_strsplit(val, "\n", -1);
	for (i = 0; v[i] != NULL; i++) {
		if (*v[i] == '\0')
			continue;
		if ((rc = hd_key_load(st, v[i], &k, e)) == 0)
			keyset_take(ks, &k);
		else if (rc == HD_E_CONFIG && damaged != NULL)
			g_string_append_printf(damaged, "%s%s",
			    damaged->len > 0 ? "\n" : "", e->text);
		hd_key_free(&k);
	}
	g_strfreev(v);
	g_free(val);
	return 0;
}

/* For policy.c: listed, damaged records left out.  0 or -1. */
int
hd_key_listed(struct hd_state *st, const char *rkey, struct hd_keyset *ks)
{
	struct hd_error e;

	return listed(st, rkey, ks, NULL, &e) != 0 ? -1 : 0;
}

/*
 * Every key a query names, exactly: a fingerprint, a key or subkey ID,
 * or an email address.  No substrings.  0, or the cause: HD_E_USAGE for
 * a query that is none of these, HD_E_NOINPUT when no key matches,
 * HD_E_CONFIG when the only records that do are damaged.  ks is empty
 * on failure.
 */
int
hd_key_find(struct hd_state *st, const char *query, struct hd_keyset *ks,
    struct hd_error *e)
{
	struct hd_key k;
	GString *damaged = g_string_new(NULL);
	char *up, *rkey, *fpr = NULL, *addr;
	int rc = 0;

	memset(ks, 0, sizeof(*ks));
	up = g_ascii_strup(query, -1);
	if (g_str_has_prefix(up, "0X"))
		memmove(up, up + 2, strlen(up) - 1);
	if (hd_is_fpr(up) || hd_is_keyid(up)) {
		rkey = g_strdup_printf("id:%s", up);
		rc = hd_key_load(st, up, &k, e);
		if (rc == HD_E_NOINPUT && hd_state_fetch(st, rkey, &fpr,
		    NULL) == 0) {
			hd_key_free(&k);
			rc = hd_key_load(st, fpr, &k, e);
		}
		if (rc == 0)
			keyset_take(ks, &k);
		else if (rc == HD_E_NOINPUT)
			rc = 0;
		hd_key_free(&k);
		g_free(fpr);
		g_free(rkey);
	} else if ((addr = hd_addr_normalize(query)) != NULL) {
		rkey = g_strdup_printf("addr:%s", addr);
		rc = listed(st, rkey, ks, damaged, e);
		g_free(rkey);
		g_free(addr);
	} else
		rc = hd_error_set(e, HD_E_USAGE, "%s: not a fingerprint, key ID "
		    "or email address", query);
	g_free(up);
	if (rc == 0 && ks->n == 0)
		rc = damaged->len > 0 ? hd_error_set(e, HD_E_CONFIG, "%s",
		    damaged->str) : hd_error_set(e, HD_E_NOINPUT,
		    "%s: no such key", query);
	g_string_free(damaged, TRUE);
	if (rc != 0)
		hd_keyset_free(ks);
	return rc;
}

/* Exactly one key for a query, or an error that lists the candidates. */
int
hd_key_resolve(struct hd_state *st, const char *query, struct hd_key *k,
    struct hd_error *e)
{
	struct hd_keyset ks;
	GString *s;
	size_t i;
	int rc;

	memset(k, 0, sizeof(*k));
	if ((rc = hd_key_find(st, query, &ks, e)) != 0)
		return rc;
	if (ks.n > 1) {
		s = g_string_new(NULL);
		for (i = 0; i < ks.n; i++)
			g_string_append_printf(s, " %s", ks.key[i].fpr);
		rc = hd_error_set(e, HD_E_USAGE, "%s: %zu keys match, name one "
		    "by fingerprint:%s", query, ks.n, s->str);
		g_string_free(s, TRUE);
		hd_keyset_free(&ks);
		return rc;
	}
	*k = ks.key[0];
	g_free(ks.key);
	return 0;
}

struct all {
	struct hd_keyset *ks;
	GString		*damaged;	/* their errors, one a line */
};

static int
all_cb(const char *rkey, const char *val, size_t len, void *arg)
{
	struct all *a = arg;
	struct hd_error e;
	struct hd_key k;

	if (hd_key_decode(rkey + strlen("key:"), val, len, &k, &e) == 0)
		keyset_take(a->ks, &k);
	else
		g_string_append_printf(a->damaged, "%s%s",
		    a->damaged->len > 0 ? "\n" : "", e.text);
	hd_key_free(&k);
	return 0;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct hd_key *x = a, *y = b;
	int c;

	if ((c = g_ascii_strcasecmp(hd_key_first_email(x),
	    hd_key_first_email(y))) != 0)
		return c;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->fpr, y->fpr);
}

/*
 * Every key in the store, by address, then oldest first.  0, or
 * HD_E_CONFIG when some records are damaged (the error names each, one a
 * line; ks holds the others), or HD_E_IO when state.tdb cannot be read.
 */
int
hd_key_all(struct hd_state *st, struct hd_keyset *ks, struct hd_error *e)
{
	struct all a = { ks, g_string_new(NULL) };
	int rc = 0;

	memset(ks, 0, sizeof(*ks));
	if (hd_state_each(st, "key:", all_cb, &a) != 0)
		rc = hd_error_set(e, HD_E_IO, "state: cannot read the key "
		    "index");
	else if (a.damaged->len > 0)
		rc = hd_error_set(e, HD_E_CONFIG, "%s", a.damaged->str);
	g_string_free(a.damaged, TRUE);
	if (ks->n > 1)
		qsort(ks->key, ks->n, sizeof(*ks->key), key_cmp);
	return rc;
}

/* The stored passphrase of fpr: 0 and *pass, 1 none, -1 unreadable. */
int
hd_key_passphrase(struct hd_state *st, const char *fpr, char **pass)
{
	char *rkey;
	int rc;

	rkey = g_strdup_printf("pass:%s", fpr);
	rc = hd_state_fetch(st, rkey, pass, NULL);
	g_free(rkey);
	return rc;
}

int
hd_key_store_pass(struct hd_state *st, const char *fpr, const char *pass,
    struct hd_error *e)
{
	return set_record(st, "pass", fpr, pass, e);
}

/* A domain alias as the index keeps it: lower case, NULL if malformed. */
char *
hd_alias_normalize(const char *domain)
{
	char *probe, *addr, *dom = NULL;

	if (*domain == '\0' || strchr(domain, '@') != NULL)
		return NULL;
	probe = g_strconcat("x@", domain, NULL);
	if ((addr = hd_addr_normalize(probe)) != NULL)
		dom = hd_addr_domain(addr);
	g_free(addr);
	g_free(probe);
	return dom;
}

/* Set (domain != NULL) or clear the domain alias of a key. */
int
hd_key_alias(struct hd_state *st, const char *query, const char *domain,
    struct hd_error *e)
{
	struct hd_key k = { 0 };
	char *dom = NULL;
	int rc;

	if (domain != NULL && (dom = hd_alias_normalize(domain)) == NULL)
		return hd_error_set(e, HD_E_USAGE, "%s: not a domain", domain);
	if ((rc = hd_key_resolve(st, query, &k, e)) != 0)
		goto out;
	if ((rc = hd_state_begin(st, e)) != 0)
		goto out;
	/* hd_key_put drops the index entries of the stored record first. */
	g_free(k.alias);
	k.alias = dom;
	dom = NULL;
	if ((rc = hd_key_put(st, &k, e)) != 0) {
		hd_state_cancel(st);
		rc = hd_error_set(e, rc, "state: cannot store key %s", k.fpr);
	} else
		rc = hd_state_commit(st, e);
	hd_log_action(st, "key-alias", rc == 0 ? "success" : "failed", NULL,
	    k.fpr, rc == 0 ? (k.alias != NULL ? k.alias : "alias cleared") :
	    e->text);
out:
	g_free(dom);
	hd_key_free(&k);
	return rc;
}
