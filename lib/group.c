/*
 * group.c: per-group defaults, kept (set, delete) and shown, and the
 * one decision that both the composer check and apply (apply.c) use:
 * can this draft be signed, can it be encrypted, and what happens by
 * default.  The record's format and its reader are in policy.c.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"
#include "json.h"

static int
valid_name(const char *name)
{
	const char *p;

	if (*name == '\0' || strlen(name) > 64)
		return 0;
	for (p = name; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && strchr("._-", *p) == NULL)
			return 0;
	return 1;
}

static char *
group_json(const struct hd_group *g, int with_name)
{
	JsonBuilder *b = json_builder_new();
	char *s;

	json_builder_begin_object(b);
	if (with_name) {
		json_builder_set_member_name(b, "name");
		json_builder_add_string_value(b, g->name);
	}
	hd_json_member(b, "address", g->address);
	json_builder_set_member_name(b, "sign");
	json_builder_add_boolean_value(b, g->sign);
	json_builder_set_member_name(b, "encrypt");
	json_builder_add_boolean_value(b, g->encrypt);
	json_builder_set_member_name(b, "self");
	json_builder_add_boolean_value(b, g->self);
	json_builder_end_object(b);
	s = hd_json_finish(b, 0);
	return s;
}

char *
hd_group_json(const struct hd_group *g)
{
	return group_json(g, 1);
}

static void
log_group(struct hd_state *st, const char *action, const char *name,
    const char *result, const char *comment)
{
	hd_log_action(st, action, result, name, NULL, comment);
}

/* A group name, and an address to set, that set would take. */
int
hd_group_valid(const char *name, const char *address, int mask,
    struct hd_error *e)
{
	char *addr;

	if (!valid_name(name))
		return hd_error_set(e, HD_E_USAGE, "%s: a group name is "
		    "letters, digits, '.', '_' and '-'", name);
	if ((mask & HD_GROUP_ADDRESS) && address != NULL) {
		if ((addr = hd_addr_normalize(address)) == NULL)
			return hd_error_set(e, HD_E_USAGE, "%s: not an email "
			    "address", address);
		g_free(addr);
	}
	return 0;
}

/*
 * Create or change a group: set is a template whose fields count where
 * mask says (HD_GROUP_*).  A new group signs and encrypts by default,
 * as the helpdesk's brief has it.
 */
int
hd_group_set(struct hd_state *st, const char *name, const struct hd_group *set,
    int mask, struct hd_error *e)
{
	struct hd_group g;
	struct hd_error ignore;
	char *rkey, *val, *addr = NULL, *comment;
	int rc;

	if ((rc = hd_group_valid(name, set->address, mask, e)) != 0)
		return rc;
	if ((mask & HD_GROUP_ADDRESS) && set->address != NULL)
		addr = hd_addr_normalize(set->address);
	if (hd_group_get(st, name, &g, &ignore) != 0) {
		memset(&g, 0, sizeof(g));
		g.name = g_strdup(name);
		g.sign = g.encrypt = 1;
	}
	if (mask & HD_GROUP_ADDRESS) {
		g_free(g.address);
		g.address = addr;
		addr = NULL;
	}
	if (mask & HD_GROUP_SIGN)
		g.sign = set->sign;
	if (mask & HD_GROUP_ENCRYPT)
		g.encrypt = set->encrypt;
	if (mask & HD_GROUP_SELF)
		g.self = set->self;
	val = group_json(&g, 0);
	rkey = g_strdup_printf("group:%s", name);
	rc = hd_state_store(st, rkey, val, strlen(val)) == 0 ? 0 :
	    hd_error_set(e, HD_E_IO, "state: cannot store group %s", name);
	comment = rc == 0 ? val : e->text;
	log_group(st, "group-set", name, rc == 0 ? "success" : "failed",
	    comment);
	g_free(rkey);
	g_free(val);
	g_free(addr);
	hd_group_free(&g);
	return rc;
}

int
hd_group_delete(struct hd_state *st, const char *name, struct hd_error *e)
{
	struct hd_group g;
	char *rkey;
	int rc;

	if ((rc = hd_group_get(st, name, &g, e)) != 0)
		return rc;
	hd_group_free(&g);
	rkey = g_strdup_printf("group:%s", name);
	rc = hd_state_delete(st, rkey) == 0 ? 0 : hd_error_set(e, HD_E_IO,
	    "state: cannot delete group %s", name);
	g_free(rkey);
	log_group(st, "group-delete", name, rc == 0 ? "success" : "failed",
	    rc == 0 ? NULL : e->text);
	return rc;
}

/*
 * Why no key serves addr (hd_select's cause, its reason in e, and
 * k->expires), in the words a helpdesk agent reads in the composer.
 */
static char *
why_not(const char *addr, int cause, const struct hd_error *e,
    const struct hd_key *k, int secret)
{
	char date[16];

	switch (cause) {
	case HD_E_NOKEY:
		return g_strdup_printf("no %s key for %s", secret ? "private" :
		    "public", addr);
	case HD_E_EXPIRED:
		hd_time_date(k->expires, date, sizeof(date));
		return g_strdup_printf("the key for %s expired on %s", addr,
		    date);
	case HD_E_REVOKED:
		return g_strdup_printf("the key for %s is revoked", addr);
	default:
		return g_strdup_printf("no usable %s key for %s (%s)", secret ?
		    "private" : "public", addr, e->text);
	}
}

static void
reason(GString *s, char *why)
{
	g_string_append_printf(s, "%s%s", s->len ? "; " : "", why);
	g_free(why);
}

/*
 * The key of addr usable for cap (secret: with its secret half) in *k,
 * which the caller frees whatever the outcome: 0, or the cause, and the
 * reason added to s.
 */
static int
need_key(struct hd_state *st, GString *s, const char *addr, int cap,
    int secret, struct hd_key *k)
{
	struct hd_error e;
	int rc;

	if ((rc = hd_select(st, addr, cap, secret, time(NULL), k, &e)) != 0)
		reason(s, why_not(addr, rc, &e, k, secret));
	return rc;
}

/*
 * What the log says a draft is, as hdpgp-encrypt -g logs it: its
 * Message-ID, the group's address (else the From), the recipients.
 */
static void
draft_ids(const struct hd_msg *m, const struct hd_group *g,
    struct hd_decision *d)
{
	GString *to = g_string_new(NULL);
	char **from, **rcpt, *addr;
	size_t i;

	d->message_id = hd_msg_id(m);
	from = hd_msg_from(m);
	if (g->address != NULL)
		d->from = g_strdup(g->address);
	else if (from[0] != NULL && (d->from = hd_addr_normalize(from[0])) ==
	    NULL)
		d->from = g_strdup(from[0]);
	rcpt = hd_msg_recipients(m);
	for (i = 0; rcpt[i] != NULL; i++) {
		addr = hd_addr_normalize(rcpt[i]);
		g_string_append_printf(to, "%s%s", to->len ? "," : "",
		    addr != NULL ? addr : rcpt[i]);
		g_free(addr);
	}
	d->to = to->len ? g_strdup(to->str) : NULL;
	g_string_free(to, TRUE);
	g_strfreev(rcpt);
	g_strfreev(from);
}

/*
 * The decision for a draft (NULL: none yet) written in group name: what
 * is possible, what is on by default, and so what happens by default.
 */
int
hd_group_decide(struct hd_state *st, const char *name, const char *draft,
    size_t len, struct hd_decision *d, struct hd_error *e)
{
	struct hd_group g;
	struct hd_msg *m = NULL;
	struct hd_key k = { 0 };
	GString *sw = g_string_new(NULL), *ew = g_string_new(NULL);
	char **rcpt = NULL, *addr, *pass = NULL;
	size_t i;
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = hd_group_get(st, name, &g, e)) != 0)
		goto out;
	if (draft != NULL && (rc = hd_msg_parse(draft, len, &m, e)) != 0)
		goto out;
	d->sign_default = g.sign;
	d->encrypt_default = g.encrypt;
	d->self = g.self;
	d->address = g.address != NULL ? g_strdup(g.address) : NULL;
	/* Signing: the group's own address needs a usable private key. */
	if (g.address == NULL)
		reason(sw, g_strdup_printf("group %s has no sending address",
		    name));
	else if (need_key(st, sw, g.address, HD_CAP_SIGN, 1, &k) == 0 &&
	    !k.unprotected && hd_key_passphrase(st, k.fpr, &pass) != 0)
		/* What signing will look for: the stored passphrase. */
		reason(sw, g_strdup_printf("no passphrase stored for the key "
		    "of %s", g.address));
	hd_secure_free(pass);
	hd_key_free(&k);
	d->sign_possible = sw->len == 0;
	/* Encrypting: every recipient, and the group itself with self. */
	d->encrypt_known = m != NULL;
	if (m != NULL) {
		draft_ids(m, &g, d);
		rcpt = hd_msg_recipients(m);
		for (i = 0; rcpt[i] != NULL; i++) {
			if ((addr = hd_addr_normalize(rcpt[i])) == NULL) {
				reason(ew, g_strdup_printf("%s is not an "
				    "email address", rcpt[i]));
				continue;
			}
			need_key(st, ew, addr, HD_CAP_ENCRYPT, 0, &k);
			hd_key_free(&k);
			g_free(addr);
		}
		if (rcpt[0] == NULL)
			reason(ew, g_strdup("the draft has no recipients"));
		if (g.self && g.address == NULL)
			reason(ew, g_strdup_printf("group %s has no sending "
			    "address (for self)", name));
		else if (g.self) {
			need_key(st, ew, g.address, HD_CAP_ENCRYPT, 0, &k);
			hd_key_free(&k);
		}
		d->encrypt_possible = ew->len == 0;
	}
	d->sign_active = d->sign_possible && d->sign_default;
	d->encrypt_active = d->encrypt_possible && d->encrypt_default;
	d->sign_why = sw->len ? g_strdup(sw->str) : NULL;
	d->encrypt_why = ew->len ? g_strdup(ew->str) : NULL;
out:
	hd_group_free(&g);
	g_strfreev(rcpt);
	hd_msg_free(m);
	g_string_free(sw, TRUE);
	g_string_free(ew, TRUE);
	return rc;
}

void
hd_decision_free(struct hd_decision *d)
{
	g_free(d->address);
	g_free(d->sign_why);
	g_free(d->encrypt_why);
	g_free(d->message_id);
	g_free(d->from);
	g_free(d->to);
	memset(d, 0, sizeof(*d));
}

static void
json_action(JsonBuilder *b, const char *name, int known, int possible,
    int dflt, int active, const char *why)
{
	json_builder_set_member_name(b, name);
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "possible");
	if (known)
		json_builder_add_boolean_value(b, possible);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "default");
	json_builder_add_boolean_value(b, dflt);
	json_builder_set_member_name(b, "active");
	json_builder_add_boolean_value(b, active);
	hd_json_member(b, "reason", why);
	json_builder_end_object(b);
}

char *
hd_decision_json(const char *group, const struct hd_decision *d)
{
	JsonBuilder *b = json_builder_new();
	char *s;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "group");
	json_builder_add_string_value(b, group);
	hd_json_member(b, "address", d->address);
	json_action(b, "sign", 1, d->sign_possible, d->sign_default,
	    d->sign_active, d->sign_why);
	json_action(b, "encrypt", d->encrypt_known, d->encrypt_possible,
	    d->encrypt_default, d->encrypt_active, d->encrypt_why);
	json_builder_end_object(b);
	s = hd_json_finish(b, 0);
	return s;
}
