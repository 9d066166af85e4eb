/*
 * keystore-index.c: the key index in state.tdb, and the key store
 * operations that need no gpg (find, prefer, alias).
 *
 * The index lets every tool find keys by address without starting gpg
 * (SPEC §2):
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

static int
store_record(struct hd_state *st, const char *rkey, const char *val)
{
	return hd_state_store(st, rkey, val, strlen(val));
}

/* The record "prefix:name" set to value, or removed when value is NULL. */
static int
set_record(struct hd_state *st, const char *prefix, const char *name,
    const char *value)
{
	char *rkey = g_strdup_printf("%s:%s", prefix, name);
	int rc;

	rc = value != NULL ? store_record(st, rkey, value) :
	    hd_state_delete(st, rkey);
	g_free(rkey);
	return rc;
}

/* Add or remove one fingerprint in a list record. */
static int
list_edit(struct hd_state *st, const char *rkey, const char *fpr, int add)
{
	char *val = NULL, **v, *out;
	GString *s = g_string_new(NULL);
	int rc, found = 0;
	size_t i;

	rc = hd_state_fetch(st, rkey, &val, NULL);
	if (rc < 0) {
		g_string_free(s, TRUE);
		return -1;
	}
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
	if (*out == '\0')
		rc = hd_state_delete(st, rkey);
	else
		rc = store_record(st, rkey, out);
	g_free(out);
	g_strfreev(v);
	g_free(val);
	return rc;
}

/* The index records that point at a key, added or removed. */
static int
index_edit(struct hd_state *st, const struct hd_key *k, int add)
{
	char *rkey;
	size_t i;
	int rc = 0;

	for (i = 0; i < k->nuid && rc == 0; i++) {
		if (hd_key_email(k, i) == NULL)
			continue;
		rkey = g_strdup_printf("addr:%s", k->uid[i].email);
		rc = list_edit(st, rkey, k->fpr, add);
		g_free(rkey);
	}
	if (rc == 0 && k->alias != NULL) {
		rkey = g_strdup_printf("alias:%s", k->alias);
		rc = list_edit(st, rkey, k->fpr, add);
		g_free(rkey);
	}
	for (i = 0; i < k->nsub && rc == 0; i++) {
		const char *ids[2] = { k->sub[i].keyid, k->sub[i].fpr };
		size_t j;

		for (j = 0; j < 2 && rc == 0; j++) {
			if (*ids[j] == '\0' || (i == 0 && j == 1))
				continue;
			rkey = g_strdup_printf("id:%s", ids[j]);
			rc = add ? store_record(st, rkey, k->fpr) :
			    hd_state_delete(st, rkey);
			g_free(rkey);
		}
	}
	return rc;
}

/* Replace a key's record and index entries; inside a transaction. */
int
hd_key_put(struct hd_state *st, const struct hd_key *k)
{
	struct hd_key old;
	char *rkey, *val;
	int rc;

	if ((rc = hd_key_load(st, k->fpr, &old)) == 0) {
		rc = index_edit(st, &old, 0);
		hd_key_free(&old);
	} else
		rc = rc == 1 ? 0 : -1;
	if (rc != 0)
		return -1;
	val = hd_key_record(k);
	rkey = g_strdup_printf("key:%s", k->fpr);
	rc = store_record(st, rkey, val);
	g_free(rkey);
	g_free(val);
	return rc == 0 ? index_edit(st, k, 1) : -1;
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

int
hd_addr_list_edit(struct hd_state *st, const char *prefix, const char *addr,
    const char *fpr, int add)
{
	char *rkey;
	int rc;

	rkey = g_strdup_printf("%s:%s", prefix, addr);
	rc = list_edit(st, rkey, fpr, add);
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
hd_addr_set_preferred(struct hd_state *st, const char *addr, const char *fpr)
{
	return set_record(st, "prefer", addr, fpr);
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
	struct hd_key k;
	int ok;

	if (hd_key_load(st, fpr, &k) != 0)
		return 0;
	ok = hd_key_carries(&k, addr) && hd_addr_excluded(st, addr, fpr) == 0;
	hd_key_free(&k);
	return ok;
}

/* How k stands to each of its addresses, for show, list and import. */
void
hd_key_roles(struct hd_state *st, struct hd_key *k, time_t now)
{
	char *pref;
	size_t i, j;

	if (k->origin == NULL) {
		k->origin = g_new0(struct hd_origin, 1);
		hd_origin_get(st, k->fpr, k->origin);
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
		hd_addr_server(st, a, NULL, now, r->server);
		if ((r->role = hd_addr_excluded(st, a, k->fpr)) == 0)
			r->role = strcmp(r->server, k->fpr) == 0 ?
			    HD_ROLE_SERVES : HD_ROLE_STANDBY;
	}
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
	char *addr, *rkey, *val = NULL, **v = NULL, *comment = NULL;
	size_t i;
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
	rkey = g_strdup_printf("held:%s", addr);
	if (hd_state_fetch(st, rkey, &val, NULL) == 0)
		v = g_strsplit(val, "\n", -1);
	g_free(rkey);
	rc = hd_addr_set_preferred(st, addr, k.fpr);
	for (i = 0; rc == 0 && v != NULL && v[i] != NULL; i++)
		if (*v[i] != '\0' && strcmp(v[i], k.fpr) != 0)
			rc = hd_addr_list_edit(st, "refused", addr, v[i], 1);
	if (rc == 0)
		rc = hd_addr_list_edit(st, "refused", addr, k.fpr, 0);
	if (rc == 0) {
		rkey = g_strdup_printf("held:%s", addr);
		rc = hd_state_delete(st, rkey);
		g_free(rkey);
	}
	if (rc != 0) {
		hd_state_cancel(st);
		rc = hd_error_set(e, HD_E_IO, "state: cannot store the key "
		    "for %s", addr);
	} else
		rc = hd_state_commit(st, e);
	comment = g_strdup_printf("%s: served by %s", addr, k.fpr);
out:
	if (*k.fpr != '\0')
		hd_log_action(st, "key-prefer", rc == 0 ? "success" :
		    "failed", NULL, k.fpr, rc == 0 ? comment : e->text);
	g_strfreev(v);
	g_free(val);
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
	char *text = g_strndup(val, len), **v;
	GPtrArray *held = g_ptr_array_new();
	size_t i;

	x.address = g_strdup(rkey + strlen("held:"));
	v = g_strsplit(text, "\n", -1);
	for (i = 0; v[i] != NULL; i++) {
		struct hd_key k;

		/* A revoked key can serve nothing: no conflict to resolve. */
		if (*v[i] == '\0' || hd_key_load(c->st, v[i], &k) != 0)
			continue;
		if (!k.revoked)
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
	hd_addr_server(c->st, x.address, NULL, time(NULL), x.server);
	g_array_append_val(c->list, x);
	g_strfreev(v);
	g_free(text);
	return 0;
}

/* Every address with keys held back: the conflicts check reports. */
int
hd_key_conflicts(struct hd_state *st, struct hd_conflict **out, size_t *n)
{
	struct conflicts c = { st, g_array_new(FALSE, TRUE,
	    sizeof(struct hd_conflict)) };
	int rc;

	rc = hd_state_each(st, "held:", conflict_cb, &c);
	*n = c.list->len;
	*out = (struct hd_conflict *)(void *)g_array_free(c.list, FALSE);
	return rc != 0 ? -1 : 0;
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

int
hd_key_drop(struct hd_state *st, const struct hd_key *k)
{
	char *rkey, *pref;
	size_t i;
	int rc;

	if (index_edit(st, k, 0) != 0)
		return -1;
	/* The key leaves every ranking and conflict of its addresses. */
	for (i = 0; i < k->nuid; i++) {
		if (k->uid[i].email == NULL)
			continue;
		if (hd_addr_list_edit(st, "held", k->uid[i].email, k->fpr,
		    0) != 0 || hd_addr_list_edit(st, "refused",
		    k->uid[i].email, k->fpr, 0) != 0)
			return -1;
		pref = hd_addr_preferred(st, k->uid[i].email);
		rc = pref != NULL && strcmp(pref, k->fpr) == 0 ?
		    hd_addr_set_preferred(st, k->uid[i].email, NULL) : 0;
		g_free(pref);
		if (rc != 0)
			return -1;
	}
	rkey = g_strdup_printf("key:%s", k->fpr);
	rc = hd_state_delete(st, rkey);
	g_free(rkey);
	if (rc == 0)
		rc = hd_origin_drop(st, k->fpr);
	rkey = g_strdup_printf("pass:%s", k->fpr);
	if (rc == 0)
		rc = hd_state_delete(st, rkey);
	g_free(rkey);
	return rc;
}

static void
keyset_take(struct hd_keyset *ks, struct hd_key *k)
{
	ks->key = g_renew(struct hd_key, ks->key, ks->n + 1);
	ks->key[ks->n++] = *k;
	memset(k, 0, sizeof(*k));
}

/* Adds the keys a list record (addr:, alias:) names to ks. */
int
hd_key_listed(struct hd_state *st, const char *rkey, struct hd_keyset *ks)
{
	char *val, **v;
	size_t i;
	int rc;

	if ((rc = hd_state_fetch(st, rkey, &val, NULL)) != 0)
		return rc < 0 ? -1 : 0;
	v = g_strsplit(val, "\n", -1);
	for (i = 0; v[i] != NULL; i++) {
		struct hd_key k;

		if (*v[i] != '\0' && hd_key_load(st, v[i], &k) == 0)
			keyset_take(ks, &k);
	}
	g_strfreev(v);
	g_free(val);
	return 0;
}

/*
 * Every key a query names, exactly (SPEC §2): a fingerprint, a key or
 * subkey ID, or an email address.  No substrings.
 */
int
hd_key_find(struct hd_state *st, const char *query, struct hd_keyset *ks,
    struct hd_error *e)
{
	struct hd_key k;
	char *up, *rkey, *fpr, *addr;
	int rc = 0;

	memset(ks, 0, sizeof(*ks));
	up = g_ascii_strup(query, -1);
	if (g_str_has_prefix(up, "0X"))
		memmove(up, up + 2, strlen(up) - 1);
	if (hd_is_fpr(up) || hd_is_keyid(up)) {
		if (hd_key_load(st, up, &k) == 0)
			keyset_take(ks, &k);
		else {
			rkey = g_strdup_printf("id:%s", up);
			if (hd_state_fetch(st, rkey, &fpr, NULL) == 0) {
				if (hd_key_load(st, fpr, &k) == 0)
					keyset_take(ks, &k);
				g_free(fpr);
			}
			g_free(rkey);
		}
	} else if ((addr = hd_addr_normalize(query)) != NULL) {
		rkey = g_strdup_printf("addr:%s", addr);
		rc = hd_key_listed(st, rkey, ks);
		g_free(rkey);
		g_free(addr);
	} else
		rc = hd_error_set(e, HD_E_USAGE, "%s: not a fingerprint, key ID "
		    "or email address", query);
	g_free(up);
	if (rc == 0 && ks->n == 0)
		rc = hd_error_set(e, HD_E_NOINPUT, "%s: no such key", query);
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

static int
all_cb(const char *rkey, const char *val, size_t len, void *arg)
{
	struct hd_keyset *ks = arg;
	struct hd_key k;

	(void)rkey;
	if (hd_key_decode(val, len, &k) == 0)
		keyset_take(ks, &k);
	return 0;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct hd_key *x = a, *y = b;
	int c;

	if ((c = g_ascii_strcasecmp(hd_key_first_email(x), hd_key_first_email(y))) != 0)
		return c;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->fpr, y->fpr);
}

/* Every key in the store, by address, then oldest first. */
int
hd_key_all(struct hd_state *st, struct hd_keyset *ks)
{
	memset(ks, 0, sizeof(*ks));
	if (hd_state_each(st, "key:", all_cb, ks) != 0)
		return -1;
	if (ks->n > 1)
		qsort(ks->key, ks->n, sizeof(*ks->key), key_cmp);
	return 0;
}

/* The list filter: unlike key selection, a substring of a user ID will do. */
int
hd_key_matches(const struct hd_key *k, const char *pattern)
{
	size_t i;
	char *p, *h;
	int m = 0;

	if (pattern == NULL)
		return 1;
	p = g_utf8_casefold(pattern, -1);
	h = g_utf8_casefold(k->fpr, -1);
	m = strstr(h, p) != NULL;
	g_free(h);
	for (i = 0; i < k->nuid && !m; i++) {
		h = g_utf8_casefold(k->uid[i].uid, -1);
		m = strstr(h, p) != NULL;
		g_free(h);
	}
	if (!m && k->alias != NULL)
		m = g_ascii_strcasecmp(k->alias, pattern) == 0;
	g_free(p);
	return m;
}

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
hd_key_store_pass(struct hd_state *st, const char *fpr, const char *pass)
{
	return set_record(st, "pass", fpr, pass);
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
	if (hd_key_put(st, &k) != 0) {
		hd_state_cancel(st);
		rc = hd_error_set(e, HD_E_IO, "state: cannot store key %s",
		    k.fpr);
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
