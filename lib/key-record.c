/*
 * key-record.c: struct hd_key, as the index stores it (the record
 * key:<FPR>, JSON with times as numbers) and as the tools show it (JSON
 * with ISO 8601 times, status and key IDs added), and what a key says of
 * itself (status, addresses, a list filter's match) without the store.
 * keyring.c builds the struct from gpg's keys, and frees it.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"
#include "json.h"

static const char *cap_names[] = { "sign", "encrypt", "certify", "auth" };

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
hd_key_first_email(const struct hd_key *k)
{
	size_t i;

	for (i = 0; i < k->nuid; i++)
		if (hd_key_email(k, i) != NULL)
			return k->uid[i].email;
	return "";
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

/*
 * JSON for the store (times as numbers) or for people and programs
 * (times as ISO 8601, status and key IDs added).
 */
static void
add_time(JsonBuilder *b, const char *name, int64_t t, int display)
{
	if (display)
		hd_json_time(b, name, t);
	else
		hd_json_int(b, name, t);
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
		hd_json_bool(b, "preferred", r[i].preferred);
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
	hd_json_time(b, "first_seen", o->first);
	hd_json_time(b, "last_seen", o->last);
	hd_json_bool(b, "pinned", hd_origin_pinned(o));
	json_builder_end_object(b);
}

static void
build_subkey(JsonBuilder *b, const struct hd_subkey *s, int display)
{
	size_t j;

	json_builder_begin_object(b);
	hd_json_member(b, "fingerprint", s->fpr);
	hd_json_member(b, "keyid", s->keyid);
	hd_json_member(b, "algo", s->algo);
	hd_json_int(b, "length", s->length);
	json_builder_set_member_name(b, "capabilities");
	json_builder_begin_array(b);
	for (j = 0; j < G_N_ELEMENTS(cap_names); j++)
		if (s->caps & (1 << j))
			json_builder_add_string_value(b, cap_names[j]);
	json_builder_end_array(b);
	hd_json_bool(b, "secret", s->secret);
	hd_json_bool(b, "revoked", s->revoked);
	add_time(b, "created", s->created, display);
	add_time(b, "expires", s->expires, display);
	json_builder_end_object(b);
}

static void
build_key(JsonBuilder *b, const struct hd_key *k, time_t now, int display)
{
	size_t i;

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
	hd_json_bool(b, "secret", k->secret);
	hd_json_bool(b, "revoked", k->revoked);
	hd_json_bool(b, "disabled", k->disabled);
	hd_json_member(b, "alias", k->alias);
	hd_json_bool(b, "passphrase_stored", k->has_pass);
	hd_json_bool(b, "unprotected", k->unprotected);
	json_builder_set_member_name(b, "uids");
	json_builder_begin_array(b);
	for (i = 0; i < k->nuid; i++) {
		json_builder_begin_object(b);
		hd_json_member(b, "uid", k->uid[i].uid);
		hd_json_member(b, "email", k->uid[i].email);
		hd_json_bool(b, "revoked", k->uid[i].revoked);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "subkeys");
	json_builder_begin_array(b);
	for (i = 0; i < k->nsub; i++)
		build_subkey(b, &k->sub[i], display);
	json_builder_end_array(b);
	json_builder_end_object(b);
}

/* The record the index stores for k (times as numbers). */
char *
hd_key_record(const struct hd_key *k)
{
	JsonBuilder *b = json_builder_new();

	build_key(b, k, 0, 0);
	return hd_json_finish(b, 0);
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
		hd_json_bool(b, "secret", res->item[i].secret);
		hd_json_member(b, "uid", res->item[i].uid);
		hd_json_member(b, "warning", res->item[i].warning);
		hd_json_int(b, "signatures_dropped", res->item[i].dropped);
		build_roles(b, res->item[i].role, res->item[i].nrole);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	return hd_json_finish(b, 0);
}

/*
 * Decoding a record: every member build_key writes for the store must be
 * there, of its type, except "unprotected", which records of hdpgp
 * before hdpgp-group lack (such a key was taken as protected).
 */
static void
decode_uid(JsonObject *o, struct hd_uid *u, char **why)
{
	hd_json_get_string(o, "uid", 0, &u->uid, why);
	hd_json_get_string(o, "email", 1, &u->email, why);
	hd_json_get_bool(o, "revoked", &u->revoked, why);
}

static void
copy_id(JsonObject *o, const char *name, char *to, size_t size, char **why)
{
	char *s;

	hd_json_get_string(o, name, 0, &s, why);
	g_strlcpy(to, s != NULL ? s : "", size);
	g_free(s);
}

static void
decode_subkey(JsonObject *o, struct hd_subkey *s, char **why)
{
	JsonArray *caps;
	const char *c;
	int64_t length;
	guint i, n;

	copy_id(o, "fingerprint", s->fpr, sizeof(s->fpr), why);
	copy_id(o, "keyid", s->keyid, sizeof(s->keyid), why);
	hd_json_get_string(o, "algo", 1, &s->algo, why);
	hd_json_get_int(o, "length", &length, why);
	s->length = length;
	caps = hd_json_get_array(o, "capabilities", why);
	for (i = 0; caps != NULL && i < json_array_get_length(caps); i++) {
		if ((c = hd_json_get_string_at(caps, i, "capabilities",
		    why)) == NULL)
			break;
		/* One this hdpgp does not know grants nothing. */
		for (n = 0; n < G_N_ELEMENTS(cap_names); n++)
			if (strcmp(c, cap_names[n]) == 0)
				s->caps |= 1 << n;
	}
	hd_json_get_bool(o, "secret", &s->secret, why);
	hd_json_get_bool(o, "revoked", &s->revoked, why);
	hd_json_get_int(o, "created", &s->created, why);
	hd_json_get_int(o, "expires", &s->expires, why);
}

/* "uids[2]: " before the reason an element gave. */
static void
in_element(char **why, const char *array, guint i)
{
	char *s;

	s = g_strdup_printf("%s[%u]: %s", array, i, *why);
	g_free(*why);
	*why = s;
}

static void
decode_key(JsonObject *o, const char *fpr, struct hd_key *k, char **why)
{
	JsonArray *a;
	JsonObject *e;
	char *stored;
	guint i, n;

	g_strlcpy(k->fpr, fpr, sizeof(k->fpr));
	hd_json_get_string(o, "fingerprint", 0, &stored, why);
	if (stored != NULL && strcmp(stored, fpr) != 0)
		*why = g_strdup_printf("it holds key %s", stored);
	g_free(stored);
	hd_json_get_int(o, "created", &k->created, why);
	hd_json_get_int(o, "expires", &k->expires, why);
	hd_json_get_bool(o, "secret", &k->secret, why);
	hd_json_get_bool(o, "revoked", &k->revoked, why);
	hd_json_get_bool(o, "disabled", &k->disabled, why);
	hd_json_get_string(o, "alias", 1, &k->alias, why);
	hd_json_get_bool(o, "passphrase_stored", &k->has_pass, why);
	if (json_object_has_member(o, "unprotected"))
		hd_json_get_bool(o, "unprotected", &k->unprotected, why);
	a = hd_json_get_array(o, "uids", why);
	n = a != NULL ? json_array_get_length(a) : 0;
	k->uid = g_new0(struct hd_uid, n);
	for (i = 0; i < n && *why == NULL; i++) {
		if ((e = hd_json_get_object_at(a, i, "uids", why)) == NULL)
			break;
		decode_uid(e, &k->uid[k->nuid++], why);
		if (*why != NULL)
			in_element(why, "uids", i);
	}
	a = hd_json_get_array(o, "subkeys", why);
	n = a != NULL ? json_array_get_length(a) : 0;
	k->sub = g_new0(struct hd_subkey, n);
	for (i = 0; i < n && *why == NULL; i++) {
		if ((e = hd_json_get_object_at(a, i, "subkeys", why)) == NULL)
			break;
		decode_subkey(e, &k->sub[k->nsub++], why);
		if (*why != NULL)
			in_element(why, "subkeys", i);
	}
	/* sub[0] is the primary key: every key has one. */
	if (*why == NULL && k->nsub == 0)
		*why = g_strdup("no subkeys");
}

/*
 * The record of key fpr as a struct hd_key: 0, or HD_E_CONFIG for a
 * record that is not what hd_key_record writes, with an error that names
 * the key.  *k is the caller's to free either way.
 */
int
hd_key_decode(const char *fpr, const char *val, size_t len, struct hd_key *k,
    struct hd_error *e)
{
	JsonParser *p = json_parser_new();
	char *why = NULL;
	int rc = 0;

	memset(k, 0, sizeof(*k));
	if (!json_parser_load_from_data(p, val, len, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
		why = g_strdup("not a JSON object");
	else
		decode_key(json_node_get_object(json_parser_get_root(p)), fpr,
		    k, &why);
	if (why != NULL) {
		hd_key_free(k);
		rc = hd_error_set(e, HD_E_CONFIG, "key:%s: damaged record (%s)",
		    fpr, why);
		g_free(why);
	}
	g_object_unref(p);
	return rc;
}

/*
 * The stored key fpr: 0, HD_E_NOINPUT when the store has no such key,
 * HD_E_CONFIG for a damaged record, HD_E_IO when state.tdb cannot be
 * read.  *k is the caller's to free either way.
 */
int
hd_key_load(struct hd_state *st, const char *fpr, struct hd_key *k,
    struct hd_error *e)
{
	char *rkey, *val;
	size_t len;
	int rc;

	memset(k, 0, sizeof(*k));
	rkey = g_strdup_printf("key:%s", fpr);
	rc = hd_state_fetch(st, rkey, &val, &len);
	g_free(rkey);
	if (rc > 0)
		return hd_error_set(e, HD_E_NOINPUT, "%s: no such key", fpr);
	if (rc < 0)
		return hd_error_set(e, HD_E_IO, "key:%s: cannot be read", fpr);
	rc = hd_key_decode(fpr, val, len, k, e);
	g_free(val);
	return rc;
}
