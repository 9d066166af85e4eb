/*
 * wkd-locate.c: hdpgp-key locate and refresh (issue 12).
 *
 * locate asks, for each address, the Web Key Directory (advanced method,
 * then direct, as Thunderbird does) and then the keyserver (VKS
 * /vks/v1/by-email, then HKP on 404, so that Hockeypuck and SKS-style
 * servers answer too).  Every answer goes through a scratch home first:
 * gpg's keep-uid import filter keeps the user IDs with exactly that
 * address, and a minimal export keeps only self-signatures (certificate
 * flooding, CVE-2019-13050); only then does the key reach the store,
 * where import (keystore.c) holds it back from an address another key
 * serves (a conflict) and never lets it shadow a pinned key.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"
#include "json.h"

void
hd_found_keys_free(struct hd_found_keys *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		g_free(f->item[i].address);
		g_free(f->item[i].url);
		g_free(f->item[i].why);
	}
	g_free(f->item);
	memset(f, 0, sizeof(*f));
}

static struct hd_found_key *
found_add(struct hd_found_keys *f, const char *address)
{
	struct hd_found_key *x;

	f->item = g_renew(struct hd_found_key, f->item, f->n + 1);
	x = &f->item[f->n++];
	memset(x, 0, sizeof(*x));
	x->address = address != NULL ? g_strdup(address) : NULL;
	x->result = "not-found";
	x->source = "-";
	x->cause = HD_E_NOTHING;
	return x;
}

/* gpg's import filter expression for any of addrs. */
static char *
uid_filter(char **addrs)
{
	GString *s = g_string_new("keep-uid=");
	size_t i;

	/* gpg's mbox is in lower case. */
	for (i = 0; addrs[i] != NULL; i++) {
		char *low = g_ascii_strdown(addrs[i], -1);

		g_string_append_printf(s, "%smbox = %s", i ? " || " : "",
		    low);
		g_free(low);
	}
	return g_string_free(s, FALSE);
}

/*
 * The answer cut down in a scratch home: the keys with a user ID for one
 * of addrs (and, for refresh, only the key want), those user IDs only,
 * self-signatures only, public only.
 */
static int
clean(struct hd_state *st, const char *buf, size_t len, char **addrs,
    const char *want, GString *out, struct hd_error *e)
{
	struct hd_gpg *sg = NULL;
	struct hd_keyset ks = { 0 };
	enum hd_import_how *how = NULL;
	char *filter, *min;
	size_t i, j, k, mlen;
	int rc;

	if ((rc = hd_gpg_scratch(st, &sg, e)) != 0)
		return rc;
	filter = uid_filter(addrs);
	rc = hd_gpg_set_import(sg, filter, NULL, NULL, e);
	g_free(filter);
	if (rc == 0 && (rc = hd_gpg_import(sg, buf, len, &ks, &how, e)) != 0)
		rc = hd_error_set(e, HD_E_DATA, "no key with a user ID for %s "
		    "in the answer", addrs[0]);
	for (i = 0; rc == 0 && i < ks.n; i++) {
		int ok = 0, other = 0;

		if (want != NULL && strcmp(ks.key[i].fpr, want) != 0)
			continue;
		/*
		 * What the filter kept, checked again: every user ID one of
		 * addrs (an address holding "||" must not widen the filter).
		 */
		for (j = 0; j < ks.key[i].nuid; j++) {
			int hit = 0;

			for (k = 0; addrs[k] != NULL; k++)
				if (ks.key[i].uid[j].email != NULL &&
				    g_ascii_strcasecmp(ks.key[i].uid[j].email,
				    addrs[k]) == 0)
					hit = 1;
			ok |= hit;
			other |= !hit;
		}
		if (!ok || other)
			continue;
		if ((rc = hd_gpg_export(sg, ks.key[i].fpr, 0, 1, &min, &mlen,
		    e)) != 0)
			break;
		g_string_append_len(out, min, mlen);
		g_free(min);
	}
	if (rc == 0 && out->len == 0)
		rc = want != NULL ? hd_error_set(e, HD_E_DATA, "key %s not in "
		    "the answer", want) : hd_error_set(e, HD_E_DATA,
		    "no key with a user ID for %s in the answer", addrs[0]);
	hd_keyset_free(&ks);
	g_free(how);
	hd_gpg_scratch_close(sg);
	return rc;
}

static const char *how_result[] = { "imported", "updated", "updated",
    "unchanged", "revoked" };

/*
 * One URL: fetched, cleaned, imported.  0 when the key is in the store
 * now; otherwise the fetch's or the import's status, with its reason
 * added to why.  *nohost: the host name did not resolve.
 */
static int
try_url(struct hd_state *st, const struct hd_net *net, const char *source,
    const char *url, char **addrs, const char *want, struct hd_found_key *x,
    GString *why, int *nohost)
{
	struct hd_error e;
	struct hd_import res = { 0 };
	struct hd_origin o = { { 0 }, NULL, NULL, 0, 0 };
	struct hd_key before = { 0 }, after = { 0 };
	GString *key = g_string_new(NULL);
	char *body = NULL;
	size_t len, i, j;
	int rc, had;

	rc = hd_http_get(net, url, HD_ANSWER_MAX, &body, &len, nohost, &e);
	if (rc == 0)
		rc = clean(st, body, len, addrs, want, key, &e);
	if (rc != 0) {
		g_string_append_printf(why, "%s%s", why->len ? "; " : "",
		    e.text);
		goto out;
	}
	g_strlcpy(o.source, source, sizeof(o.source));
	o.url = (char *)(uintptr_t)url;
	o.address = x->address;
	had = want != NULL && hd_key_load(st, want, &before, &e) == 0;
	if ((rc = hd_key_import_from(st, key->str, key->len, &o, 0, &res,
	    &e)) != 0) {
		g_string_append_printf(why, "%s%s", why->len ? "; " : "",
		    e.text);
		goto out;
	}
	x->source = source;
	g_free(x->url);
	x->url = g_strdup(url);
	x->cause = HD_E_NONE;
	g_strlcpy(x->fpr, res.item[0].fpr, sizeof(x->fpr));
	x->result = how_result[res.item[0].how];
	for (i = 0; i < res.n; i++)
		for (j = 0; j < res.item[i].nrole; j++)
			if (x->address != NULL && strcmp(res.item[i].role[j].address,
			    x->address) == 0) {
				g_strlcpy(x->fpr, res.item[i].fpr,
				    sizeof(x->fpr));
				x->result = how_result[res.item[i].how];
				if (res.item[i].role[j].role == HD_ROLE_HELD)
					x->result = "conflict";
			}
	/* refresh: what changed, as the store now has it */
	if (had && hd_key_load(st, want, &after, &e) == 0) {
		if (after.revoked && !before.revoked)
			x->result = "revoked";
		else if (after.expires != before.expires ||
		    after.nsub != before.nsub || after.revoked != before.revoked)
			x->result = "updated";
		else
			x->result = "unchanged";
	}
out:
	hd_import_free(&res);
	hd_key_free(&before);
	hd_key_free(&after);
	g_string_free(key, TRUE);
	g_free(body);
	return rc;
}

/*
 * Worse news wins: a damaged record, trouble worth a retry, then a bad
 * answer, then none.  Other causes count as nothing found.
 */
static int
worse(int a, int b)
{
	static const int order[] = { HD_E_NONE, HD_E_NOTHING, HD_E_DATA,
	    HD_E_TEMP, HD_E_CONFIG };
	size_t i, ia = 0, ib = 0;

	for (i = 0; i < G_N_ELEMENTS(order); i++) {
		if (order[i] == a)
			ia = i;
		if (order[i] == b)
			ib = i;
	}
	return ia >= ib ? a : b;
}

static char *
keyserver_url(const struct hd_net *net, const char *vks, const char *hkp,
    int which)
{
	char *base, *url;

	if ((base = hd_http_base(net->keyserver != NULL ? net->keyserver :
	    HD_KEYSERVER)) == NULL)
		return NULL;
	url = g_strconcat(base, which == 0 ? vks : hkp, NULL);
	g_free(base);
	return url;
}

/*
 * The keyserver: VKS first, HKP when VKS says 404 (not a VKS server, or
 * no key).  what is an address or a fingerprint.
 */
static int
try_keyserver(struct hd_state *st, const struct hd_net *net,
    const char *what, char **addrs, const char *want,
    struct hd_found_key *x, GString *why)
{
	char *esc, *vks, *hkp, *url;
	int rc = HD_E_NOTHING, nohost, which;

	esc = g_uri_escape_string(what, "@", FALSE);
	vks = g_strdup_printf(want != NULL ? "/vks/v1/by-fingerprint/%s" :
	    "/vks/v1/by-email/%s", esc);
	hkp = g_strdup_printf("/pks/lookup?op=get&options=mr&search=%s%s",
	    want != NULL ? "0x" : "", esc);
	for (which = 0; which < 2 && rc == HD_E_NOTHING; which++) {
		if ((url = keyserver_url(net, vks, hkp, which)) == NULL) {
			g_string_append_printf(why, "%s%s: keyserver not "
			    "https:// or hkps://", why->len ? "; " : "",
			    net->keyserver);
			rc = HD_E_USAGE;
			break;
		}
		rc = try_url(st, net, "keyserver", url, addrs, want, x, why,
		    &nohost);
		g_free(url);
	}
	g_free(esc);
	g_free(vks);
	g_free(hkp);
	return rc;
}

/* One address, looked up as GnuPG's --locate-keys would (issue 12). */
static void
locate_one(struct hd_state *st, const struct hd_net *net, const char *arg,
    struct hd_found_keys *f)
{
	struct hd_found_key *x;
	struct hd_keyset ks = { 0 };
	struct hd_error e;
	GString *why = g_string_new(NULL);
	char *addr, *url, *addrs[2] = { NULL, NULL };
	int rc, status = HD_E_NOTHING, nohost, advanced;
	size_t i;

	if ((addr = hd_addr_normalize(arg)) == NULL) {
		x = found_add(f, arg);
		x->result = "failed";
		x->cause = HD_E_USAGE;
		x->why = g_strdup("not an email address");
		goto out;
	}
	x = found_add(f, addr);
	addrs[0] = addr;
	if (!net->force && hd_key_find(st, addr, &ks, &e) == 0)
		for (i = 0; i < ks.n; i++)
			if (hd_key_pinned(st, ks.key[i].fpr)) {
				g_strlcpy(x->fpr, ks.key[i].fpr,
				    sizeof(x->fpr));
				x->result = "pinned";
				x->source = "store";
				x->cause = HD_E_NONE;
				goto out;
			}
	for (advanced = 1; advanced >= 0; advanced--) {
		url = hd_wkd_url(addr, advanced);
		rc = try_url(st, net, "wkd", url, addrs, NULL, x, why,
		    &nohost);
		g_free(url);
		if (rc == 0)
			goto out;
		/* No openpgpkey subdomain: the direct method, not trouble. */
		if (!(advanced && nohost))
			status = worse(status, rc);
	}
	if ((rc = try_keyserver(st, net, addr, addrs, NULL, x, why)) == 0)
		goto out;
	x->cause = worse(status, rc);
	x->result = x->cause == HD_E_NOTHING ? "not-found" : "failed";
	x->why = g_string_free(why, FALSE);
	why = NULL;
out:
	if (why != NULL)
		g_string_free(why, TRUE);
	hd_keyset_free(&ks);
	g_free(addr);
}

static int
overall(const struct hd_found_keys *f)
{
	size_t i;
	int cause = HD_E_NONE;

	for (i = 0; i < f->n; i++) {
		if (f->item[i].cause == HD_E_USAGE)
			return HD_E_USAGE;
		cause = worse(cause, f->item[i].cause);
	}
	return cause;
}

/*
 * hdpgp-key locate: one item an address, each with its cause.  Overall:
 * 0 all found (or pinned), HD_E_NOTHING some not found anywhere,
 * HD_E_TEMP network trouble, HD_E_DATA a malformed answer, HD_E_USAGE a
 * bad argument; e is not used, the items say why.
 */
int
hd_key_locate(struct hd_state *st, const struct hd_net *net, char **args,
    size_t n, struct hd_found_keys *f, struct hd_error *e)
{
	size_t i;

	(void)e;
	memset(f, 0, sizeof(*f));
	for (i = 0; i < n; i++)
		locate_one(st, net, args[i], f);
	/* Conflicts are logged by the import (key-conflict). */
	for (i = 0; i < f->n; i++)
		if (f->item[i].cause != HD_E_NONE) {
			char *c = g_strdup_printf("%s: %s",
			    f->item[i].address, f->item[i].why);

			hd_log_action(st, "key-locate", "failed", NULL, NULL,
			    c);
			g_free(c);
		}
	return overall(f);
}

/* The key's addresses, for the import filter; NULL if it has none. */
static char **
key_addrs(const struct hd_key *k)
{
	GPtrArray *a = g_ptr_array_new();
	size_t i;

	for (i = 0; i < k->nuid; i++)
		if (k->uid[i].email != NULL)
			g_ptr_array_add(a, g_strdup(k->uid[i].email));
	if (a->len == 0) {
		g_ptr_array_free(a, TRUE);
		return NULL;
	}
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

static void
refresh_one(struct hd_state *st, const struct hd_net *net,
    const struct hd_key *k, int named, struct hd_found_keys *f)
{
	struct hd_found_key *x;
	struct hd_origin o;
	struct hd_error e;
	GString *why = g_string_new(NULL);
	char **addrs = NULL;
	int rc, nohost;

	hd_origin_get(st, k->fpr, &o, &e);
	if (k->secret || (hd_origin_pinned(&o) && !net->all) ||
	    (net->older > 0 && o.last > time(NULL) - net->older)) {
		if (named) {
			x = found_add(f, NULL);
			g_strlcpy(x->fpr, k->fpr, sizeof(x->fpr));
			x->result = k->secret ? "own" : "pinned";
			x->source = "store";
			x->cause = HD_E_NONE;
		}
		goto out;
	}
	x = found_add(f, o.address);
	g_strlcpy(x->fpr, k->fpr, sizeof(x->fpr));
	if ((addrs = key_addrs(k)) == NULL) {
		x->result = "failed";
		x->cause = HD_E_DATA;
		x->why = g_strdup("no email address to refresh it for");
		goto out;
	}
	/* WKD keys from where they were found; the rest by fingerprint. */
	if (strcmp(o.source, "wkd") == 0 && o.url != NULL)
		rc = try_url(st, net, "wkd", o.url, addrs, k->fpr, x, why,
		    &nohost);
	else
		rc = try_keyserver(st, net, k->fpr, addrs, k->fpr, x, why);
	if (rc != 0) {
		x->cause = rc;
		x->result = rc == HD_E_NOTHING ? "not-found" : "failed";
		x->why = g_string_free(why, FALSE);
		why = NULL;
		hd_log_action(st, "key-refresh", "failed", NULL, k->fpr,
		    x->why);
	}
out:
	if (why != NULL)
		g_string_free(why, TRUE);
	g_strfreev(addrs);
	hd_origin_free(&o);
}

/*
 * hdpgp-key refresh: every key from the network again (pinned public keys
 * too with net->all, from the keyserver by fingerprint), or the ones
 * named.  Only the same fingerprint is taken, and only for the addresses
 * it has: which key serves an address does not change, but a revocation
 * found makes the key unusable at once.
 */
int
hd_key_refresh(struct hd_state *st, const struct hd_net *net, char **args,
    size_t n, struct hd_found_keys *f, struct hd_error *e)
{
	struct hd_keyset ks = { 0 };
	size_t i, j;
	int rc;

	memset(f, 0, sizeof(*f));
	if (n == 0) {
		/* A damaged record: the others are refreshed all the same. */
		if ((rc = hd_key_all(st, &ks, e)) != 0 && rc != HD_E_CONFIG)
			return rc;
		for (i = 0; i < ks.n; i++)
			refresh_one(st, net, &ks.key[i], 0, f);
		hd_keyset_free(&ks);
		return rc != 0 ? rc : overall(f);
	}
	for (i = 0; i < n; i++) {
		if (hd_key_find(st, args[i], &ks, e) != 0) {
			struct hd_found_key *x = found_add(f, args[i]);

			x->result = "failed";
			x->cause = e->cause == HD_E_USAGE ||
			    e->cause == HD_E_CONFIG ? e->cause : HD_E_NOTHING;
			x->why = g_strdup(e->text);
			continue;
		}
		for (j = 0; j < ks.n; j++)
			refresh_one(st, net, &ks.key[j], 1, f);
		hd_keyset_free(&ks);
	}
	return overall(f);
}

static void
add_string(JsonBuilder *b, const char *name, const char *s)
{
	hd_json_member(b, name, s != NULL && *s != '\0' ? s : NULL);
}

char *
hd_found_json(const struct hd_found_keys *f)
{
	JsonBuilder *b = json_builder_new();
	size_t i;

	json_builder_begin_array(b);
	for (i = 0; i < f->n; i++) {
		const struct hd_found_key *x = &f->item[i];

		json_builder_begin_object(b);
		add_string(b, "address", x->address);
		add_string(b, "fingerprint", x->fpr);
		add_string(b, "result", x->result);
		add_string(b, "source", strcmp(x->source, "-") ? x->source :
		    NULL);
		add_string(b, "url", x->url);
		add_string(b, "error", x->why);
		/* The exit status the lookup alone would have. */
		hd_json_int(b, "status", hd_exit_status(x->cause));
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	return hd_json_finish(b, 0);
}
