/*
 * keystore.c: the key index in state.tdb, and the key store operations
 * built on it and on keyring.c.
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

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"
#include "json.h"

static const char *cap_names[] = { "sign", "encrypt", "certify", "auth" };

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
	g_free(k->sub);
	g_free(k->uid);
	g_free(k->alias);
	hd_roles_free(k->role, k->nrole);
	hd_origin_free(k->origin);
	g_free(k->origin);
	memset(k, 0, sizeof(*k));
}

void
hd_roles_free(struct hd_role *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		g_free(r[i].address);
	g_free(r);
}

const char *
hd_role_name(int role)
{
	static const char *names[] = { "serves", "standby", "held",
	    "refused" };

	return role >= 0 && role < (int)G_N_ELEMENTS(names) ? names[role] :
	    "?";
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

/*
 * The address user ID i stands for, or NULL.  A revoked user ID's address
 * no longer selects the key, unless the whole key is revoked (gpg then
 * marks every user ID revoked): that key must still be found, to be
 * reported as revoked.
 */
const char *
hd_key_email(const struct hd_key *k, size_t i)
{
	if (k->uid[i].revoked && !k->revoked)
		return NULL;
	return k->uid[i].email;
}

const char *
hd_key_status(const struct hd_key *k, time_t now)
{
	if (k->revoked)
		return "revoked";
	if (k->expires != 0 && k->expires <= now)
		return "expired";
	if (k->expires != 0 && k->expires - now < HD_EXPIRING_DAYS * 86400)
		return "expiring-soon";
	return "valid";
}

/*
 * JSON for the store (times as numbers) or for people and programs
 * (times as ISO 8601, status and key IDs added).
 */
static void
add_time(JsonBuilder *b, const char *name, int64_t t, int display)
{
	char buf[32];

	json_builder_set_member_name(b, name);
	if (!display)
		json_builder_add_int_value(b, t);
	else if (t == 0)
		json_builder_add_null_value(b);
	else {
		hd_time_iso(t, buf, sizeof(buf));
		json_builder_add_string_value(b, buf);
	}
}

static void
add_bool(JsonBuilder *b, const char *name, int v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_boolean_value(b, v != 0);
}

static void
build_roles(JsonBuilder *b, const struct hd_role *r, size_t n)
{
	size_t i;

	json_builder_set_member_name(b, "addresses");
	json_builder_begin_array(b);
	for (i = 0; i < n; i++) {
		json_builder_begin_object(b);
		hd_json_member(b, "address", r[i].address);
		hd_json_member(b, "role", hd_role_name(r[i].role));
		add_bool(b, "preferred", r[i].preferred);
		hd_json_member(b, "served_by", *r[i].server ? r[i].server : NULL);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

static void
build_origin(JsonBuilder *b, const struct hd_origin *o)
{
	json_builder_set_member_name(b, "origin");
	json_builder_begin_object(b);
	hd_json_member(b, "source", o->source);
	hd_json_member(b, "url", o->url);
	hd_json_member(b, "address", o->address);
	add_time(b, "first_seen", o->first, 1);
	add_time(b, "last_seen", o->last, 1);
	add_bool(b, "pinned", hd_origin_pinned(o));
	json_builder_end_object(b);
}

static void
build_key(JsonBuilder *b, const struct hd_key *k, time_t now, int display)
{
	size_t i, j;

	json_builder_begin_object(b);
	hd_json_member(b, "fingerprint", k->fpr);
	if (display) {
		hd_json_member(b, "keyid", k->sub[0].keyid);
		hd_json_member(b, "status", hd_key_status(k, now));
		json_builder_set_member_name(b, "emails");
		json_builder_begin_array(b);
		for (i = 0; i < k->nuid; i++)
			if (hd_key_email(k, i) != NULL)
				json_builder_add_string_value(b,
				    k->uid[i].email);
		json_builder_end_array(b);
		if (k->role != NULL)
			build_roles(b, k->role, k->nrole);
		if (k->origin != NULL)
			build_origin(b, k->origin);
	}
	add_time(b, "created", k->created, display);
	add_time(b, "expires", k->expires, display);
	add_bool(b, "secret", k->secret);
	add_bool(b, "revoked", k->revoked);
	add_bool(b, "disabled", k->disabled);
	hd_json_member(b, "alias", k->alias);
	add_bool(b, "passphrase_stored", k->has_pass);
	add_bool(b, "unprotected", k->unprotected);
	json_builder_set_member_name(b, "uids");
	json_builder_begin_array(b);
	for (i = 0; i < k->nuid; i++) {
		json_builder_begin_object(b);
		hd_json_member(b, "uid", k->uid[i].uid);
		hd_json_member(b, "email", k->uid[i].email);
		add_bool(b, "revoked", k->uid[i].revoked);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "subkeys");
	json_builder_begin_array(b);
	for (i = 0; i < k->nsub; i++) {
		const struct hd_subkey *s = &k->sub[i];

		json_builder_begin_object(b);
		hd_json_member(b, "fingerprint", s->fpr);
		hd_json_member(b, "keyid", s->keyid);
		hd_json_member(b, "algo", s->algo);
		json_builder_set_member_name(b, "length");
		json_builder_add_int_value(b, s->length);
		json_builder_set_member_name(b, "capabilities");
		json_builder_begin_array(b);
		for (j = 0; j < G_N_ELEMENTS(cap_names); j++)
			if (s->caps & (1 << j))
				json_builder_add_string_value(b, cap_names[j]);
		json_builder_end_array(b);
		add_bool(b, "secret", s->secret);
		add_bool(b, "revoked", s->revoked);
		add_time(b, "created", s->created, display);
		add_time(b, "expires", s->expires, display);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
}

char *
hd_keyset_json(const struct hd_keyset *ks, time_t now, int pretty)
{
	JsonBuilder *b = json_builder_new();
	size_t i;

	json_builder_begin_array(b);
	for (i = 0; i < ks->n; i++)
		build_key(b, &ks->key[i], now, 1);
	json_builder_end_array(b);
	return hd_json_finish(b, pretty);
}

/*
 * hdpgp-key check -j: the keys that expire, as list -j has them, then one
 * object an address in conflict.
 */
char *
hd_check_json(const struct hd_keyset *ks, const struct hd_conflict *c,
    size_t n, time_t now)
{
	JsonBuilder *b = json_builder_new();
	size_t i, j;

	json_builder_begin_array(b);
	for (i = 0; i < ks->n; i++)
		build_key(b, &ks->key[i], now, 1);
	for (i = 0; i < n; i++) {
		json_builder_begin_object(b);
		hd_json_member(b, "conflict", c[i].address);
		hd_json_member(b, "served_by", *c[i].server ? c[i].server : NULL);
		json_builder_set_member_name(b, "held");
		json_builder_begin_array(b);
		for (j = 0; c[i].held[j] != NULL; j++)
			json_builder_add_string_value(b, c[i].held[j]);
		json_builder_end_array(b);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	return hd_json_finish(b, 0);
}

static char *
member_string(JsonObject *o, const char *name)
{
	const char *s;

	if (!json_object_has_member(o, name) ||
	    json_object_get_null_member(o, name))
		return NULL;
	s = json_object_get_string_member(o, name);
	return s != NULL ? g_strdup(s) : NULL;
}

static void
parse_key(JsonObject *o, struct hd_key *k)
{
	JsonArray *a;
	const char *fpr;
	guint i, j;

	memset(k, 0, sizeof(*k));
	fpr = json_object_get_string_member(o, "fingerprint");
	g_strlcpy(k->fpr, fpr != NULL ? fpr : "", sizeof(k->fpr));
	k->created = json_object_get_int_member(o, "created");
	k->expires = json_object_get_int_member(o, "expires");
	k->secret = json_object_get_boolean_member(o, "secret");
	k->revoked = json_object_get_boolean_member(o, "revoked");
	k->disabled = json_object_get_boolean_member(o, "disabled");
	k->alias = member_string(o, "alias");
	k->has_pass = json_object_get_boolean_member(o, "passphrase_stored");
	k->unprotected = json_object_has_member(o, "unprotected") &&
	    json_object_get_boolean_member(o, "unprotected");
	a = json_object_get_array_member(o, "uids");
	k->nuid = json_array_get_length(a);
	k->uid = g_new0(struct hd_uid, k->nuid);
	for (i = 0; i < k->nuid; i++) {
		JsonObject *u = json_array_get_object_element(a, i);

		k->uid[i].uid = member_string(u, "uid");
		k->uid[i].email = member_string(u, "email");
		k->uid[i].revoked = json_object_get_boolean_member(u,
		    "revoked");
	}
	a = json_object_get_array_member(o, "subkeys");
	k->nsub = json_array_get_length(a);
	k->sub = g_new0(struct hd_subkey, k->nsub);
	for (i = 0; i < k->nsub; i++) {
		JsonObject *so = json_array_get_object_element(a, i);
		struct hd_subkey *s = &k->sub[i];
		JsonArray *caps;
		char *str;

		str = member_string(so, "fingerprint");
		g_strlcpy(s->fpr, str != NULL ? str : "", sizeof(s->fpr));
		g_free(str);
		str = member_string(so, "keyid");
		g_strlcpy(s->keyid, str != NULL ? str : "", sizeof(s->keyid));
		g_free(str);
		s->algo = member_string(so, "algo");
		s->length = json_object_get_int_member(so, "length");
		caps = json_object_get_array_member(so, "capabilities");
		for (j = 0; j < json_array_get_length(caps); j++) {
			const char *c = json_array_get_string_element(caps, j);
			guint n;

			for (n = 0; n < G_N_ELEMENTS(cap_names); n++)
				if (strcmp(c, cap_names[n]) == 0)
					s->caps |= 1 << n;
		}
		s->secret = json_object_get_boolean_member(so, "secret");
		s->revoked = json_object_get_boolean_member(so, "revoked");
		s->created = json_object_get_int_member(so, "created");
		s->expires = json_object_get_int_member(so, "expires");
	}
}

/* 0 found, 1 not found, -1 damaged record. */
static int
load_key(struct hd_state *st, const char *fpr, struct hd_key *k)
{
	JsonParser *p;
	JsonObject *obj;
	int rc;

	if ((rc = hd_json_record(st, "key", fpr, &p, &obj)) == 0)
		parse_key(obj, k);
	if (p != NULL)
		g_object_unref(p);
	return rc;
}

int
hd_key_get(struct hd_state *st, const char *fpr, struct hd_key *k)
{
	return load_key(st, fpr, k);
}

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
static int
put_key(struct hd_state *st, const struct hd_key *k)
{
	struct hd_key old;
	JsonBuilder *b;
	char *rkey, *val;
	int rc;

	if ((rc = load_key(st, k->fpr, &old)) == 0) {
		rc = index_edit(st, &old, 0);
		hd_key_free(&old);
	} else
		rc = rc == 1 ? 0 : -1;
	if (rc != 0)
		return -1;
	b = json_builder_new();
	build_key(b, k, 0, 0);
	val = hd_json_finish(b, 0);
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

static int
addr_list_edit(struct hd_state *st, const char *prefix, const char *addr,
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

static int
set_preferred(struct hd_state *st, const char *addr, const char *fpr)
{
	return set_record(st, "prefer", addr, fpr);
}

/* Does key k have a valid user ID for addr? */
static int
carries(const struct hd_key *k, const char *addr)
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

	if (load_key(st, fpr, &k) != 0)
		return 0;
	ok = carries(&k, addr) && hd_addr_excluded(st, addr, fpr) == 0;
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
	if (!carries(&k, addr)) {
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
	rc = set_preferred(st, addr, k.fpr);
	for (i = 0; rc == 0 && v != NULL && v[i] != NULL; i++)
		if (*v[i] != '\0' && strcmp(v[i], k.fpr) != 0)
			rc = addr_list_edit(st, "refused", addr, v[i], 1);
	if (rc == 0)
		rc = addr_list_edit(st, "refused", addr, k.fpr, 0);
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
		if (*v[i] == '\0' || load_key(c->st, v[i], &k) != 0)
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

static int
drop_key(struct hd_state *st, const struct hd_key *k)
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
		if (addr_list_edit(st, "held", k->uid[i].email, k->fpr,
		    0) != 0 || addr_list_edit(st, "refused",
		    k->uid[i].email, k->fpr, 0) != 0)
			return -1;
		pref = hd_addr_preferred(st, k->uid[i].email);
		rc = pref != NULL && strcmp(pref, k->fpr) == 0 ?
		    set_preferred(st, k->uid[i].email, NULL) : 0;
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

		if (*v[i] != '\0' && load_key(st, v[i], &k) == 0)
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
		if (load_key(st, up, &k) == 0)
			keyset_take(ks, &k);
		else {
			rkey = g_strdup_printf("id:%s", up);
			if (hd_state_fetch(st, rkey, &fpr, NULL) == 0) {
				if (load_key(st, fpr, &k) == 0)
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
	JsonParser *p = json_parser_new();
	struct hd_key k;

	(void)rkey;
	if (json_parser_load_from_data(p, val, len, NULL) &&
	    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
		parse_key(json_node_get_object(json_parser_get_root(p)), &k);
		keyset_take(ks, &k);
	}
	g_object_unref(p);
	return 0;
}

static const char *
first_email(const struct hd_key *k)
{
	size_t i;

	for (i = 0; i < k->nuid; i++)
		if (hd_key_email(k, i) != NULL)
			return k->uid[i].email;
	return "";
}

static int
key_cmp(const void *a, const void *b)
{
	const struct hd_key *x = a, *y = b;
	int c;

	if ((c = g_ascii_strcasecmp(first_email(x), first_email(y))) != 0)
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

static int
store_pass(struct hd_state *st, const char *fpr, const char *pass)
{
	return set_record(st, "pass", fpr, pass);
}

static void
log_action(struct hd_state *st, const char *action, const char *result,
    const char *keys, const char *comment)
{
	hd_log_action(st, action, result, NULL, keys, comment);
}

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

/* A domain alias as the index keeps it: lower case, NULL if malformed. */
static char *
domain_of(const char *domain)
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

static const char *how_names[] = { "imported", "secret-added", "updated",
    "unchanged", "revoked" };

char *
hd_import_json(const struct hd_import *res)
{
	JsonBuilder *b = json_builder_new();
	size_t i;

	json_builder_begin_array(b);
	for (i = 0; i < res->n; i++) {
		json_builder_begin_object(b);
		hd_json_member(b, "fingerprint", res->item[i].fpr);
		hd_json_member(b, "result", how_names[res->item[i].how]);
		add_bool(b, "secret", res->item[i].secret);
		hd_json_member(b, "uid", res->item[i].uid);
		hd_json_member(b, "warning", res->item[i].warning);
		json_builder_set_member_name(b, "signatures_dropped");
		json_builder_add_int_value(b, res->item[i].dropped);
		build_roles(b, res->item[i].role, res->item[i].nrole);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	return hd_json_finish(b, 0);
}

static int
has_email(const struct hd_key *k)
{
	return *first_email(k) != '\0';
}

/* The packets of the input, armored or not; empty when unreadable. */
static void
read_packets(const char *buf, size_t len, struct hd_packets *pk)
{
	char *bin;
	size_t blen;

	if ((bin = hd_dearmor(buf, len, &blen)) != NULL) {
		buf = bin;
		len = blen;
	}
	if (hd_packets_read(buf, len, pk) != 0) {
		/* What was read so far still counts; gpg judges the rest. */
	}
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
			log_action(st, n->action, n->result, n->keys,
			    n->comment);
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
    const struct hd_key *old, int replace, GArray *notes)
{
	char srv[41], *pref;
	size_t i;
	int rc = 0, network = replace & HD_IMPORT_NETWORK;

	replace &= HD_IMPORT_REPLACE;
	for (i = 0; i < k->nuid && rc == 0; i++) {
		const char *a = hd_key_email(k, i);

		if (a == NULL || (!replace && old != NULL && carries(old, a)))
			continue;
		if (!replace && hd_addr_excluded(st, a, k->fpr))
			continue;
		/* Not even an expired pinned key is shadowed (issue 12). */
		if (network && pinned_other(st, a, k->fpr, srv))
			replace = 0;
		else if (hd_addr_server(st, a, k->fpr, time(NULL), srv) != 0)
			continue;
		if (replace) {
			rc = set_preferred(st, a, k->fpr);
			if (rc == 0)
				rc = addr_list_edit(st, "held", a, k->fpr, 0);
			if (rc == 0)
				rc = addr_list_edit(st, "refused", a, k->fpr,
				    0);
			note_add(notes, "key-prefer", "success", k->fpr, srv,
			    g_strdup_printf("%s: %s replaces %s (import "
			    "--replace)", a, k->fpr, srv));
		} else if (hd_gpg_certified(g, k->fpr, a, srv)) {
			pref = hd_addr_preferred(st, a);
			if (pref != NULL && strcmp(pref, srv) == 0)
				rc = set_preferred(st, a, k->fpr);
			g_free(pref);
			note_add(notes, "key-rollover", "success", k->fpr, srv,
			    g_strdup_printf("%s: certified by %s", a, srv));
		} else {
			rc = addr_list_edit(st, "held", a, k->fpr, 1);
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
	if (hd_key_resolve(st, pk->lone[0].issuer, &old, e) != 0)
		return hd_error_set(e, HD_E_DATA, "revocation certificate "
		    "for key %s, which is not in the store",
		    pk->lone[0].issuer);
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
		if (put_key(st, &ks.key[0]) != 0) {
			hd_state_cancel(st);
			rc = hd_error_set(e, HD_E_IO, "state: cannot store "
			    "key %s", old.fpr);
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
 * Import every key in buf (SPEC §3).  Secret keys are proved with the
 * passphrase first; the keyring import and the index update follow, and
 * on a failed index update the keys gpg took are removed again.  Every
 * import, failed or not, leaves one log record naming the keys.
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
    int had)
{
	struct hd_origin cur, next = *o;
	int rc, known;

	known = hd_origin_get(st, fpr, &cur) == 0;
	if (had && hd_origin_network(o->source) && hd_origin_pinned(&cur)) {
		/* Already the administrator's: it stays pinned. */
		hd_origin_free(&cur);
		return 0;
	}
	next.last = time(NULL);
	next.first = known && strcmp(cur.source, o->source) == 0 &&
	    cur.first != 0 ? cur.first : next.last;
	rc = hd_origin_put(st, fpr, &next);
	hd_origin_free(&cur);
	return rc;
}

static int
import_keys(struct hd_state *st, const char *buf, size_t len,
    const char *alias, int flags, const struct hd_origin *origin,
    const struct hd_askpass *ap, struct hd_import *res, struct hd_error *e)
{
	struct hd_gpg *g = NULL;
	struct hd_keyset scan = { 0 }, ks = { 0 };
	struct hd_packets pk = { 0 };
	enum hd_import_how *how = NULL;
	char *tidy, *pass = NULL, *dom = NULL, *comment;
	GString *fprs = g_string_new(NULL);
	GArray *notes = g_array_new(FALSE, TRUE, sizeof(struct note));
	int *protected = NULL, rc, secret = 0;
	size_t i, j, tlen;

	memset(res, 0, sizeof(*res));
	if ((tidy = tidy_armor(buf, len, &tlen)) != NULL) {
		buf = tidy;
		len = tlen;
	}
	if (alias != NULL && (dom = domain_of(alias)) == NULL) {
		rc = hd_error_set(e, HD_E_USAGE, "%s: not a domain", alias);
		goto out;
	}
	read_packets(buf, len, &pk);
	if ((rc = hd_gpg_open(&g, st, e)) != 0 ||
	    (rc = hd_gpg_set_import(g, NULL, hd_origin_network(origin->source)
	    ? (strcmp(origin->source, "wkd") == 0 ? "wkd" : "ks") : "file",
	    origin->url, e)) != 0)
		goto out;
	if ((rc = hd_gpg_scan(g, buf, len, &scan, e)) != 0) {
		if (rc == HD_E_DATA && pk.nkey == 0 && pk.nlone > 0)
			rc = import_revocation(st, g, buf, len, &pk, res, fprs,
			    e);
		goto out;
	}
	for (i = 0; i < scan.n; i++)
		g_string_append_printf(fprs, "%s%s", i ? " " : "",
		    scan.key[i].fpr);
	protected = g_new0(int, scan.n);
	for (i = 0; i < scan.n; i++)
		secret |= scan.key[i].secret;
	if (secret && (rc = check_secrets(st, buf, len, &scan, &pass, ap,
	    protected, e)) != 0)
		goto out;
	if ((rc = hd_state_keyring_lock(st, e)) != 0)
		goto out;
	if ((rc = hd_gpg_import(g, buf, len, &ks, &how, e)) != 0)
		goto unlock;
	g_string_truncate(fprs, 0);
	if ((rc = hd_state_begin(st, e)) != 0)
		goto undo;
	for (i = 0; i < ks.n && rc == 0; i++) {
		struct hd_key *k = &ks.key[i], old = { 0 };
		const char *warn = NULL;
		int had;

		if ((had = load_key(st, k->fpr, &old) == 0)) {
			k->alias = old.alias != NULL ? g_strdup(old.alias) :
			    NULL;
			k->has_pass = old.has_pass;
			k->unprotected = old.unprotected;
		}
		if (dom != NULL) {
			g_free(k->alias);
			k->alias = g_strdup(dom);
		}
		for (j = 0; j < scan.n; j++)
			if (strcmp(scan.key[j].fpr, k->fpr) == 0 &&
			    scan.key[j].secret) {
				if (protected[j] == UNCHECKED) {
					k->has_pass = pass != NULL;
					rc = store_pass(st, k->fpr, pass);
					warn = "expired or revoked: its passphrase "
					    "could not be checked";
				} else if (protected[j]) {
					k->has_pass = 1;
					k->unprotected = 0;
					rc = store_pass(st, k->fpr, pass);
				} else {
					k->has_pass = 0;
					k->unprotected = 1;
					rc = store_pass(st, k->fpr, NULL);
					warn = "secret key is not protected by "
					    "a passphrase";
				}
			}
		if (warn == NULL && !has_email(k))
			warn = "no user ID with an email address: usable by "
			    "fingerprint or domain alias only";
		if (rc == 0)
			rc = put_key(st, k);
		if (rc == 0)
			rc = note_origin(st, k->fpr, origin, had);
		if (rc < 0)	/* put_key, store_pass: the state file */
			rc = hd_error_set(e, HD_E_IO, "state: cannot store "
			    "key %s", k->fpr);
		if (rc == 0 && claim(st, g, k, had ? &old : NULL,
		    flags, notes) != 0)
			rc = hd_error_set(e, HD_E_IO, "state: cannot store "
			    "the addresses of key %s", k->fpr);
		/* sq revoke writes the key with its revocation: say so. */
		if (had && !old.revoked && k->revoked)
			how[i] = HD_IMPORT_REVOKED;
		hd_key_free(&old);
		import_item(res, k, how[i], warn);
		res->item[res->n - 1].dropped = dropped_sigs(st, &pk, k);
		g_string_append_printf(fprs, "%s%s", i ? " " : "", k->fpr);
	}
	if (rc == 0)
		rc = hd_state_commit(st, e);
	else
		hd_state_cancel(st);
undo:
	/* Only keys that were new to gpg can go without losing anything. */
	for (i = 0; rc != 0 && i < ks.n; i++)
		if (how[i] == HD_IMPORT_NEW)
			hd_gpg_delete(g, ks.key[i].fpr, NULL);
unlock:
	hd_state_keyring_unlock(st);
out:
	/* One record for the import, failed or not, naming its keys. */
	comment = hd_origin_network(origin->source) ? g_strdup_printf(
	    "from %s %s", origin->source, origin->url) : NULL;
	log_action(st, "key-import", rc == 0 ? "success" : "failed",
	    fprs->len ? fprs->str : NULL, rc == 0 ? comment : e->text);
	g_free(comment);
	notes_flush(st, notes, rc == 0);
	for (i = 0; rc == 0 && i < res->n && i < ks.n; i++) {
		hd_key_roles(st, &ks.key[i], time(NULL));
		res->item[i].role = ks.key[i].role;
		res->item[i].nrole = ks.key[i].nrole;
		ks.key[i].role = NULL;
		ks.key[i].nrole = 0;
	}
	if (rc != 0)
		hd_import_free(res);
	hd_keyset_free(&scan);
	hd_keyset_free(&ks);
	hd_packets_free(&pk);
	g_array_free(notes, TRUE);
	g_free(how);
	g_free(protected);
	hd_secure_free(pass);
	g_free(dom);
	g_free(tidy);
	g_string_free(fprs, TRUE);
	hd_gpg_close(g);
	return rc;
}

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
			if (drop_key(st, &k) != 0) {
				hd_state_cancel(st);
				rc = hd_error_set(e, HD_E_IO, "state: cannot "
				    "remove key %s", k.fpr);
			} else
				rc = hd_state_commit(st, e);
		}
		hd_state_keyring_unlock(st);
	}
	log_action(st, "key-delete", rc == 0 ? "success" : "failed", k.fpr,
	    rc == 0 ? NULL : e->text);
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
		log_action(st, "key-export-secret", rc == 0 ? "success" :
		    "failed", k.fpr, rc == 0 ? NULL : e->text);
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

		if (put_key(st, &ks.key[0]) != 0 ||
		    hd_origin_put(st, fpr, &o) != 0 ||
		    store_pass(st, fpr, pass) != 0) {
			hd_state_cancel(st);
			rc = hd_error_set(e, HD_E_IO, "state: cannot store "
			    "key %s", fpr);
		} else
			rc = hd_state_commit(st, e);
	}
	hd_keyset_free(&ks);
	return rc;
}

/*
 * gpg's revocation certificate for a key made in a scratch home, kept in
 * the state's home where gpg itself would have put it.
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
			warnx("%s: cannot keep the revocation certificate",
			    to);
		g_free(cert);
	}
	g_free(name);
	g_free(from);
	g_free(dir);
	g_free(to);
}

/*
 * A new helpdesk key (SPEC §3 generate); its fingerprint in fpr[41].
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
	log_action(st, "key-generate", rc == 0 ? "success" : "failed",
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
		if (put_key(st, &k) != 0 || store_pass(st, k.fpr, pass) != 0) {
			hd_state_cancel(st);
			rc = hd_error_set(e, HD_E_IO, "state: cannot store "
			    "passphrase of %s", k.fpr);
		} else
			rc = hd_state_commit(st, e);
	}
	log_action(st, "key-passwd", rc == 0 ? "success" : "failed", k.fpr,
	    rc == 0 ? NULL : e->text);
out:
	hd_gpg_close(g);
	hd_key_free(&k);
	return rc;
}

/* Set (domain != NULL) or clear the domain alias of a key. */
int
hd_key_alias(struct hd_state *st, const char *query, const char *domain,
    struct hd_error *e)
{
	struct hd_key k = { 0 };
	char *dom = NULL;
	int rc;

	if (domain != NULL && (dom = domain_of(domain)) == NULL)
		return hd_error_set(e, HD_E_USAGE, "%s: not a domain", domain);
	if ((rc = hd_key_resolve(st, query, &k, e)) != 0)
		goto out;
	if ((rc = hd_state_begin(st, e)) != 0)
		goto out;
	/* put_key drops the index entries of the stored record first. */
	g_free(k.alias);
	k.alias = dom;
	dom = NULL;
	if (put_key(st, &k) != 0) {
		hd_state_cancel(st);
		rc = hd_error_set(e, HD_E_IO, "state: cannot store key %s",
		    k.fpr);
	} else
		rc = hd_state_commit(st, e);
	log_action(st, "key-alias", rc == 0 ? "success" : "failed", k.fpr,
	    rc == 0 ? (k.alias != NULL ? k.alias : "alias cleared") : e->text);
out:
	g_free(dom);
	hd_key_free(&k);
	return rc;
}
