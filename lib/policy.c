/*
 * policy.c: which key serves an address (SPEC §2), and the group store.
 *
 * A key is usable for an operation when it is not expired, not revoked,
 * not disabled, and has a (sub)key with that capability that is neither
 * expired nor revoked (and, to sign, whose secret half we hold).  Among
 * several usable keys the administrator's choice (hdpgp-key prefer) comes
 * first, then the newest; a key held back at import because another key
 * served its address already, or refused by the administrator, never
 * serves that address.  An address without a key of its own is served by
 * a key whose domain alias is its domain.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"

/* NULL if usable, else why not, for a person to read. */
static char *
unusable(const struct hd_key *k, int cap, int secret, time_t now)
{
	char date[16];
	size_t i;
	int held = 0;

	if (k->revoked)
		return g_strdup("revoked");
	if (k->disabled)
		return g_strdup("disabled");
	if (k->expires != 0 && k->expires <= now) {
		hd_time_date(k->expires, date, sizeof(date));
		return g_strdup_printf("expired %s", date);
	}
	for (i = 0; i < k->nsub; i++) {
		const struct hd_subkey *s = &k->sub[i];

		if (!(s->caps & cap) || s->revoked ||
		    (s->expires != 0 && s->expires <= now))
			continue;
		if (!secret || s->secret)
			return NULL;
		held = 1;	/* capable, but we lack its secret half */
	}
	if (held)
		return g_strdup("public key only");
	return g_strdup(cap == HD_CAP_SIGN ? "cannot sign" : "cannot encrypt");
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
static void
rank(struct hd_state *st, const char *addr, struct hd_keyset *ks, int *held)
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
 * 0 and the fingerprint in fpr[41], or 1.
 */
int
hd_addr_server(struct hd_state *st, const char *addr, const char *except,
    time_t now, char *fpr)
{
	struct hd_keyset ks = { 0 };
	char *rkey;
	size_t i;
	int held, rc = 1;

	*fpr = '\0';
	rkey = g_strdup_printf("addr:%s", addr);
	hd_key_listed(st, rkey, &ks);
	g_free(rkey);
	rank(st, addr, &ks, &held);
	for (i = 0; i < ks.n && rc != 0; i++)
		if ((except == NULL || strcmp(ks.key[i].fpr, except) != 0) &&
		    alive(&ks.key[i], now)) {
			g_strlcpy(fpr, ks.key[i].fpr, 41);
			rc = 0;
		}
	hd_keyset_free(&ks);
	return rc;
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
			rank(st, addr, ks, held);
		g_free(addr);
		return;
	}
	if (addr == NULL)
		return;
	/* No key of its own: the domain alias, looked up as a query would. */
	dom = hd_addr_domain(addr);
	probe = g_strdup_printf("alias:%s", dom);
	hd_key_listed(st, probe, ks);
	rank(st, addr, ks, held);	/* newest first */
	g_free(probe);
	g_free(dom);
	g_free(addr);
}

/*
 * The key for query (an address, fingerprint or key ID) usable for cap,
 * with its secret half when secret is set.  0 and the key in *out, or 1
 * and in *reason why there is none.
 */
int
hd_select(struct hd_state *st, const char *query, int cap, int secret,
    time_t now, struct hd_key *out, char **reason)
{
	struct hd_keyset ks;
	const char *kind = secret ? "secret" : "public";
	char *why = NULL, *newest_why = NULL;
	size_t i, best = (size_t)-1, newest = 0;
	int held;

	*reason = NULL;
	candidates(st, query, &ks, &held);
	if (ks.n == 0) {
		*reason = held ? g_strdup_printf("no %s key (its key is held "
		    "back by a conflict: see hdpgp-key check)", kind) :
		    g_strdup_printf("no %s key", kind);
		hd_keyset_free(&ks);
		return 1;
	}
	/* Ranked keys: the first usable one; else say why the newest fails. */
	for (i = 0; i < ks.n; i++) {
		if (ks.key[i].created > ks.key[newest].created)
			newest = i;
		if ((why = unusable(&ks.key[i], cap, secret, now)) != NULL) {
			g_free(why);
			continue;
		}
		if (best == (size_t)-1)
			best = i;
	}
	if (best == (size_t)-1) {
		newest_why = unusable(&ks.key[newest], cap, secret, now);
		if (strcmp(newest_why, "public key only") == 0)
			*reason = g_strdup("no secret key");
		else
			*reason = g_strdup_printf("no usable %s key (%s)", kind,
			    newest_why);
		g_free(newest_why);
		hd_keyset_free(&ks);
		return 1;
	}
	*out = ks.key[best];
	memset(&ks.key[best], 0, sizeof(ks.key[best]));
	hd_keyset_free(&ks);
	return 0;
}

/* The sending address of a group, for -g (see group.c). */
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
