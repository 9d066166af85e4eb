/*
 * wkd.c: Web Key Directory names (draft-koch-openpgp-webkey-service) and
 * the tree hdpgp-key publish --wkd writes.
 *
 * The tree is the one gpg-wks-client --install-key makes under
 * .well-known/openpgpkey: DOMAIN/hu/HASH and DOMAIN/policy for the
 * advanced method, hu/HASH and policy for the direct one.  Each HASH file
 * holds the binary keys for one address, each cut down to that address's
 * user ID and its self-signatures, as GnuPG publishes them.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "hdpgp-priv.h"

/* z-base-32 (RFC 6189 §5.1.6, Zooko): 5 bits a character, MSB first. */
char *
hd_zb32(const unsigned char *p, size_t n)
{
	static const char alpha[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
	GString *s = g_string_new(NULL);
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 5) {
			g_string_append_c(s, alpha[(acc >> (bits - 5)) & 31]);
			bits -= 5;
		}
	}
	if (bits > 0)
		g_string_append_c(s, alpha[(acc << (5 - bits)) & 31]);
	return g_string_free(s, FALSE);
}

/*
 * The WKD hash of an address: z-base-32 of the SHA-1 of its local part
 * in ASCII lower case (gpg-wks-client --print-wkd-hash).  NULL if addr is
 * not an address.
 */
char *
hd_wkd_hash(const char *addr)
{
	GChecksum *c;
	guint8 sum[20];
	gsize n = sizeof(sum);
	const char *at;
	char *local;

	if ((at = strrchr(addr, '@')) == NULL || at == addr || at[1] == '\0')
		return NULL;
	local = g_ascii_strdown(addr, at - addr);
	c = g_checksum_new(G_CHECKSUM_SHA1);
	g_checksum_update(c, (const guchar *)local, strlen(local));
	g_checksum_get_digest(c, sum, &n);
	g_checksum_free(c);
	g_free(local);
	return hd_zb32(sum, n);
}

/*
 * The URL of the advanced (advanced != 0) or direct method for addr.  The
 * l= parameter carries the local part as written, for servers that do
 * not lower-case it as the hash does.
 */
char *
hd_wkd_url(const char *addr, int advanced)
{
	const char *at = strrchr(addr, '@');
	char *hash, *local, *elocal, *dom, *url;

	if ((hash = hd_wkd_hash(addr)) == NULL)
		return NULL;
	local = g_strndup(addr, at - addr);
	elocal = g_uri_escape_string(local, NULL, FALSE);
	dom = g_ascii_strdown(at + 1, -1);
	if (advanced)
		url = g_strdup_printf("https://openpgpkey.%s/.well-known/"
		    "openpgpkey/%s/hu/%s?l=%s", dom, dom, hash, elocal);
	else
		url = g_strdup_printf("https://%s/.well-known/openpgpkey/hu/"
		    "%s?l=%s", dom, hash, elocal);
	g_free(hash);
	g_free(local);
	g_free(elocal);
	g_free(dom);
	return url;
}

/* Written whole or not at all, readable by the web server. */
static int
put_file(const char *path, const char *buf, size_t len, struct hd_error *e)
{
	GError *ge = NULL;
	char *dir, *old = NULL;
	gsize oldlen;
	int rc = 0;

	dir = g_path_get_dirname(path);
	if (g_mkdir_with_parents(dir, 0755) != 0)
		rc = hd_error_set(e, HD_E_IO, "%s: %s", dir,
		    strerror(errno));
	else if (g_file_get_contents(path, &old, &oldlen, NULL) &&
	    oldlen == len && memcmp(old, buf, len) == 0)
		rc = 0;		/* idempotent: not even the mtime moves */
	else if (!g_file_set_contents_full(path, buf, len,
	    G_FILE_SET_CONTENTS_CONSISTENT, 0644, &ge)) {
		rc = hd_error_set(e, HD_E_IO, "%s", ge->message);
		g_error_free(ge);
	} else if (g_chmod(path, 0644) != 0)	/* the umask had its say */
		rc = hd_error_set(e, HD_E_IO, "%s: %s", path,
		    strerror(errno));
	g_free(old);
	g_free(dir);
	return rc;
}

/*
 * The policy file says the domain takes part in WKD.  One that exists is
 * the administrator's (it may carry flags): left as it is.
 */
static int
put_policy(const char *base, const char *domain, struct hd_error *e)
{
	char *path, *text;
	int rc = 0;

	path = g_build_filename(base, "policy", NULL);
	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		text = g_strdup_printf("# Policy flags for domain %s\n",
		    domain);
		rc = put_file(path, text, strlen(text), e);
		g_free(text);
	}
	g_free(path);
	return rc;
}

/*
 * One address's keys, as published: each key exported, imported into a
 * scratch home through gpg's keep-uid import filter, and exported again
 * minimal (self-signatures only).
 */
static int
address_keys(struct hd_state *st, struct hd_gpg *sg, const char *addr,
    GPtrArray *fprs, GString *out, struct hd_error *e)
{
	struct hd_keyset ks = { 0 };
	enum hd_import_how *how = NULL;
	char *filter, *buf, *min, *low;
	size_t len, mlen;
	guint i;
	int rc = 0;

	/* gpg's mbox is in lower case. */
	low = g_ascii_strdown(addr, -1);
	filter = g_strdup_printf("keep-uid=mbox = %s", low);
	g_free(low);
	rc = hd_gpg_set_import(sg, filter, NULL, NULL, e);
	for (i = 0; rc == 0 && i < fprs->len; i++) {
		const char *fpr = fprs->pdata[i];

		if ((rc = hd_key_export(st, fpr, 0, 1, &buf, &len, e)) != 0)
			break;
		rc = hd_gpg_import(sg, buf, len, &ks, &how, e);
		g_free(buf);
		hd_keyset_free(&ks);
		g_free(how);
		how = NULL;
		if (rc == 0)
			rc = hd_gpg_export(sg, fpr, 0, 1, &min, &mlen, e);
		if (rc == 0) {
			g_string_append_len(out, min, mlen);
			g_free(min);
			rc = hd_gpg_delete(sg, fpr, e);
		}
	}
	g_free(filter);
	return rc;
}

static void
add_key(GHashTable *byaddr, const char *addr, const char *fpr)
{
	GPtrArray *a;

	if ((a = g_hash_table_lookup(byaddr, addr)) == NULL) {
		a = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_insert(byaddr, g_strdup(addr), a);
	}
	g_ptr_array_add(a, g_strdup(fpr));
}

static int
addr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * hdpgp-key publish --wkd DIR: the keys named (default: every secret key
 * in the store), one file an address, under DIR/.well-known/openpgpkey.
 * domain limits it to one domain; the direct method serves one domain
 * only, so it needs domain unless every address shares one.  *written
 * gets the files written, NULL-terminated.
 */
int
hd_wkd_publish(struct hd_state *st, const char *dir, const char *domain,
    int advanced, char **keys, size_t nkeys, char ***written,
    struct hd_error *e)
{
	struct hd_keyset ks = { 0 };
	struct hd_gpg *sg = NULL;
	GHashTable *byaddr;
	GPtrArray *out = g_ptr_array_new();
	GString *bin = g_string_new(NULL);
	char *dom = NULL, *one = NULL, **addrs = NULL, *damaged = NULL;
	size_t i, j;
	guint n;
	int rc = 0;

	*written = NULL;
	byaddr = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    (GDestroyNotify)g_ptr_array_unref);
	if (domain != NULL)
		dom = g_ascii_strdown(domain, -1);
	if (nkeys == 0) {
		/* A damaged record: the others are published all the same. */
		if ((rc = hd_key_all(st, &ks, e)) == HD_E_CONFIG) {
			damaged = g_strdup(e->text);
			rc = 0;
		}
	} else
		for (i = 0; rc == 0 && i < nkeys; i++) {
			struct hd_key k;

			if ((rc = hd_key_resolve(st, keys[i], &k, e)) != 0)
				break;
			ks.key = g_renew(struct hd_key, ks.key, ks.n + 1);
			ks.key[ks.n++] = k;
		}
	for (i = 0; rc == 0 && i < ks.n; i++) {
		const struct hd_key *k = &ks.key[i];

		if (nkeys == 0 && !k->secret)
			continue;
		for (j = 0; j < k->nuid; j++) {
			const char *a = hd_key_email(k, j);
			char *d;

			if (a == NULL || k->uid[j].revoked)
				continue;
			d = hd_addr_domain(a);
			if (dom == NULL || strcmp(d, dom) == 0)
				add_key(byaddr, a, k->fpr);
			if (one == NULL)
				one = g_strdup(d);
			else if (!advanced && dom == NULL && strcmp(one, d) != 0)
				rc = hd_error_set(e, HD_E_USAGE, "the direct "
				    "method serves one domain: name it with "
				    "--domain (%s, %s)", one, d);
			g_free(d);
		}
	}
	if (rc == 0 && g_hash_table_size(byaddr) == 0)
		rc = hd_error_set(e, HD_E_NOINPUT, "no key with an email address "
		    "to publish%s%s", dom != NULL ? " for " : "",
		    dom != NULL ? dom : "");
	if (rc == 0)
		rc = hd_gpg_scratch(st, &sg, e);
	if (rc == 0) {
		addrs = (char **)g_hash_table_get_keys_as_array(byaddr, &n);
		qsort(addrs, n, sizeof(*addrs), addr_cmp);
	}
	for (i = 0; rc == 0 && addrs[i] != NULL; i++) {
		char *d = hd_addr_domain(addrs[i]), *hash, *base, *path;

		hash = hd_wkd_hash(addrs[i]);
		base = advanced ? g_build_filename(dir, ".well-known",
		    "openpgpkey", d, NULL) : g_build_filename(dir,
		    ".well-known", "openpgpkey", NULL);
		path = g_build_filename(base, "hu", hash, NULL);
		g_string_truncate(bin, 0);
		rc = address_keys(st, sg, addrs[i],
		    g_hash_table_lookup(byaddr, addrs[i]), bin, e);
		if (rc == 0)
			rc = put_file(path, bin->str, bin->len, e);
		if (rc == 0)
			rc = put_policy(base, d, e);
		if (rc == 0)
			g_ptr_array_add(out, path);
		else
			g_free(path);
		g_free(base);
		g_free(hash);
		g_free(d);
	}
	if (rc == 0 && damaged != NULL)
		rc = hd_error_set(e, HD_E_CONFIG, "%s", damaged);
	g_ptr_array_add(out, NULL);
	*written = (char **)g_ptr_array_free(out, FALSE);
	hd_gpg_scratch_close(sg);
	g_free(addrs);
	g_hash_table_unref(byaddr);
	g_string_free(bin, TRUE);
	hd_keyset_free(&ks);
	g_free(one);
	g_free(dom);
	g_free(damaged);
	return rc;
}
