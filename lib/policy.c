/*
 * policy.c: which key serves an address (SPEC §2), and the group store.
 *
 * A key is usable for an operation when it is not expired, not revoked,
 * not disabled, and has a (sub)key with that capability that is neither
 * expired nor revoked (and, to sign, whose secret half we hold).  Among
 * several usable keys the newest wins; an address without a key of its
 * own is served by a key whose domain alias is its domain.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "hdpgp.h"

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

static void
candidates(struct hd_state *st, const char *query, struct hd_keyset *ks)
{
	struct hd_error e;
	char *addr, *dom, *probe;

	memset(ks, 0, sizeof(*ks));
	if (hd_key_find(st, query, ks, &e) == 0 ||
	    (addr = hd_addr_normalize(query)) == NULL)
		return;
	/* No key of its own: the domain alias, looked up as a query would. */
	dom = hd_addr_domain(addr);
	probe = g_strdup_printf("alias:%s", dom);
	hd_key_listed(st, probe, ks);
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

	*reason = NULL;
	candidates(st, query, &ks);
	if (ks.n == 0) {
		*reason = g_strdup_printf("no %s key", kind);
		return 1;
	}
	for (i = 0; i < ks.n; i++) {
		if (ks.key[i].created >= ks.key[newest].created)
			newest = i;
		if ((why = unusable(&ks.key[i], cap, secret, now)) != NULL) {
			g_free(why);
			continue;
		}
		if (best == (size_t)-1 ||
		    ks.key[i].created > ks.key[best].created)
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
		return hd_error_set(e, EX_UNAVAILABLE, "group %s has no "
		    "sending address", group);
	return 0;
}
