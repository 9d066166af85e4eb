/*
 * key-record.c: struct hd_key, as the index stores it (the record
 * key:<FPR>, JSON with times as numbers) and as the tools show it (JSON
 * with ISO 8601 times, status and key IDs added), and its lifetime.
 */
#include "config.h"

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

/* A stored record as a struct hd_key: 0, or -1 if it is not an object. */
int
hd_key_decode(const char *val, size_t len, struct hd_key *k)
{
	JsonParser *p = json_parser_new();
	int rc = -1;

	if (json_parser_load_from_data(p, val, len, NULL) &&
	    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
		parse_key(json_node_get_object(json_parser_get_root(p)), k);
		rc = 0;
	}
	g_object_unref(p);
	return rc;
}

/* 0 found, 1 not found, -1 damaged record. */
int
hd_key_load(struct hd_state *st, const char *fpr, struct hd_key *k)
{
	char *rkey, *val;
	size_t len;
	int rc;

	rkey = g_strdup_printf("key:%s", fpr);
	rc = hd_state_fetch(st, rkey, &val, &len);
	g_free(rkey);
	if (rc != 0)
		return rc;
	rc = hd_key_decode(val, len, k);
	g_free(val);
	return rc;
}

int
hd_key_get(struct hd_state *st, const char *fpr, struct hd_key *k)
{
	return hd_key_load(st, fpr, k);
}
