/*
 * policy.c: which key serves an address, and the reads of the group
 * store that choosing a key needs.
 *
 * A key is usable for an operation when it is not expired, not revoked,
 * not disabled, and has a (sub)key with that capability that is neither
 * expired nor revoked (and, to sign, whose secret half we hold).  Among
 * several usable keys the administrator's choice (hdpgp-key prefer) comes
 * first, then the newest; a key held back at import because another key
 * served its address already, or refused by the administrator, never
 * serves that address.  An address without a key of its own is served by
 * a key whose domain alias is its domain.
 *
 * A group is a record "group:NAME" holding
 * {"address": ..., "sign": bool, "encrypt": bool, "self": bool}; group.c
 * writes it.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"
#include "json.h"

/* The cause, and text into *why, which may be NULL: not wanted. */
static int
because(char **why, int cause, char *text)
{
	if (why != NULL)
		*why = text;
	else
		g_free(text);
	return cause;
}

/* 0 if usable, else the cause, and in *why what it is for a person. */
static int
unusable(const struct hd_key *k, int cap, int secret, time_t now, char **why)
{
	char date[16];
	size_t i;
	int held = 0;

	if (k->revoked)
		return because(why, HD_E_REVOKED, g_strdup("revoked"));
	if (k->disabled)
		return because(why, HD_E_UNAVAILABLE, g_strdup("disabled"));
	if (k->expires != 0 && k->expires <= now) {
		hd_time_date(k->expires, date, sizeof(date));
		return because(why, HD_E_EXPIRED, g_strdup_printf("expired %s",
		    date));
	}
	for (i = 0; i < k->nsub; i++) {
		const struct hd_subkey *s = &k->sub[i];

		if (!(s->caps & cap) || s->revoked ||
		    (s->expires != 0 && s->expires <= now))
			continue;
		if (!secret || s->secret)
			return 0;
		held = 1;	/* capable, but we lack its secret half */
	}
	if (held)
		return because(why, HD_E_NOKEY, g_strdup("public key only"));
	return because(why, HD_E_UNAVAILABLE, g_strdup(cap == HD_CAP_SIGN ?
	    "cannot sign" : "cannot encrypt"));
}

static void
candidates(struct hd_state *st, const char *query, struct hd_keyset *ks,
    int *held)
{
	struct hd_error e;
	char *addr, *dom, *probe;

	memset(ks, 0, sizeof(*ks));
	*held = 0;
	addr = hd_addr_normalize(query);
	if (hd_key_find(st, query, ks, &e) == 0) {
		/* By address: the administrator's ranking applies. */
		if (addr != NULL && !hd_is_fpr(query) && !hd_is_keyid(query))
			hd_addr_rank(st, addr, ks, held);
		g_free(addr);
		return;
	}
	if (addr == NULL)
		return;
	/* No key of its own: the domain alias, looked up as a query would. */
	dom = hd_addr_domain(addr);
	probe = g_strdup_printf("alias:%s", dom);
	hd_key_listed(st, probe, ks);
	hd_addr_rank(st, addr, ks, held);	/* newest first */
	g_free(probe);
	g_free(dom);
	g_free(addr);
}

/*
 * The key for query (an address, fingerprint or key ID) usable for cap,
 * with its secret half when secret is set.  0 and the key in *out, or
 * the cause: HD_E_NOKEY (none, or no secret half), HD_E_EXPIRED,
 * HD_E_REVOKED, HD_E_UNAVAILABLE (disabled, held back, not capable),
 * with the reason in e.  On failure *out holds nothing to free, and its
 * expires is when the key the reason speaks of expired (HD_E_EXPIRED).
 */
int
hd_select(struct hd_state *st, const char *query, int cap, int secret,
    time_t now, struct hd_key *out, struct hd_error *e)
{
	struct hd_keyset ks;
	const char *kind = secret ? "secret" : "public";
	char *why;
	size_t i, best = (size_t)-1, newest = 0;
	int held, rc;

	memset(out, 0, sizeof(*out));
	candidates(st, query, &ks, &held);
	if (ks.n == 0) {
		hd_keyset_free(&ks);
		if (held)
			return hd_error_set(e, HD_E_UNAVAILABLE, "no %s key "
			    "(its key is held back by a conflict: see "
			    "hdpgp-key check)", kind);
		return hd_error_set(e, HD_E_NOKEY, "no %s key", kind);
	}
	/* Ranked keys: the first usable one; else say why the newest fails. */
	for (i = 0; i < ks.n; i++) {
		if (ks.key[i].created > ks.key[newest].created)
			newest = i;
		if (best == (size_t)-1 &&
		    unusable(&ks.key[i], cap, secret, now, NULL) == 0)
			best = i;
	}
	if (best == (size_t)-1) {
		rc = unusable(&ks.key[newest], cap, secret, now, &why);
		if (rc == HD_E_NOKEY)
			hd_error_set(e, rc, "no secret key");
		else
			hd_error_set(e, rc, "no usable %s key (%s)", kind, why);
		out->expires = ks.key[newest].expires;
		g_free(why);
		hd_keyset_free(&ks);
		return rc;
	}
	*out = ks.key[best];
	memset(&ks.key[best], 0, sizeof(ks.key[best]));
	hd_keyset_free(&ks);
	return 0;
}

/* A stored switch: absent, dflt; not a boolean, -1. */
static int
bool_member(JsonObject *o, const char *name, int dflt)
{
	JsonNode *n;

	if ((n = json_object_get_member(o, name)) == NULL)
		return dflt;
	if (JSON_NODE_HOLDS_VALUE(n) &&
	    json_node_get_value_type(n) == G_TYPE_BOOLEAN)
		return json_node_get_boolean(n);
	return -1;
}

/*
 * The group record o as *g: 0, or HD_E_CONFIG when a member is of the
 * wrong type (a record hdpgp did not write).  A member left out takes
 * its default.
 */
static int
group_from(const char *name, JsonObject *o, struct hd_group *g)
{
	JsonNode *a = json_object_get_member(o, "address");
	int sign, encrypt, self;

	sign = bool_member(o, "sign", 1);
	encrypt = bool_member(o, "encrypt", 1);
	self = bool_member(o, "self", 0);
	if (sign == -1 || encrypt == -1 || self == -1 || (a != NULL &&
	    !JSON_NODE_HOLDS_NULL(a) && (!JSON_NODE_HOLDS_VALUE(a) ||
	    json_node_get_value_type(a) != G_TYPE_STRING)))
		return HD_E_CONFIG;
	memset(g, 0, sizeof(*g));
	g->name = g_strdup(name);
	if (a != NULL && !JSON_NODE_HOLDS_NULL(a))
		g->address = g_strdup(json_node_get_string(a));
	g->sign = sign;
	g->encrypt = encrypt;
	g->self = self;
	return 0;
}

/* The group name in *g, which is empty on failure. */
int
hd_group_get(struct hd_state *st, const char *name, struct hd_group *g,
    struct hd_error *e)
{
	JsonParser *p;
	JsonObject *o;
	int rc;

	memset(g, 0, sizeof(*g));
	rc = hd_json_record(st, "group", name, &p, &o);
	if (p == NULL)
		return hd_error_set(e, HD_E_UNAVAILABLE, "group %s: no such "
		    "group", name);
	if (rc == 0)
		rc = group_from(name, o, g);
	g_object_unref(p);
	if (rc != 0)
		return hd_error_set(e, HD_E_CONFIG, "group %s: damaged record",
		    name);
	return 0;
}

void
hd_group_free(struct hd_group *g)
{
	g_free(g->name);
	g_free(g->address);
	memset(g, 0, sizeof(*g));
}

/* hd_state_each's callback: a record that is not a group's is passed over. */
static int
all_cb(const char *rkey, const char *val, size_t len, void *arg)
{
	GArray *groups = arg;
	JsonParser *p = json_parser_new();
	struct hd_group g;

	if (json_parser_load_from_data(p, val, len, NULL) &&
	    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)) &&
	    group_from(rkey + strlen("group:"),
	    json_node_get_object(json_parser_get_root(p)), &g) == 0)
		g_array_append_val(groups, g);
	g_object_unref(p);
	return 0;
}

static int
group_cmp(const void *x, const void *y)
{
	return strcmp(((const struct hd_group *)x)->name,
	    ((const struct hd_group *)y)->name);
}

/* Every group, by name; free each with hd_group_free, then the array. */
int
hd_group_all(struct hd_state *st, struct hd_group **out, size_t *n)
{
	GArray *groups = g_array_new(FALSE, TRUE, sizeof(struct hd_group));

	hd_state_each(st, "group:", all_cb, groups);
	g_array_sort(groups, group_cmp);
	*n = groups->len;
	*out = (struct hd_group *)(void *)g_array_free(groups, FALSE);
	return 0;
}

/* The sending address of a group, for -g. */
int
hd_group_address(struct hd_state *st, const char *group, char **addr,
    struct hd_error *e)
{
	struct hd_group g;
	int rc;

	if ((rc = hd_group_get(st, group, &g, e)) != 0)
		return rc;
	*addr = g.address;
	g.address = NULL;
	hd_group_free(&g);
	if (*addr == NULL)
		return hd_error_set(e, HD_E_UNAVAILABLE, "group %s has no "
		    "sending address", group);
	return 0;
}
