/*
 * key-print.c: hdpgp-key's text output: a key a line (list, check), a key
 * whole (show), what an import did to each address, and conflicts.
 * Every name and address from a key is sanitised before it is printed.
 */
#include "config.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdpgp.h"
#include "key-print.h"

static const char *
date_or(int64_t t, const char *none, char *buf, size_t len)
{
	if (t == 0)
		return none;
	hd_time_date(t, buf, len);
	return buf;
}

/* The key's addresses; one it does not serve says why in parentheses. */
static char *
emails(const struct hd_key *k)
{
	char *s = NULL, *n, mark[32];
	size_t i;

	for (i = 0; i < k->nrole; i++) {
		const struct hd_role *r = &k->role[i];

		*mark = '\0';
		if (r->role != HD_ROLE_SERVES)
			snprintf(mark, sizeof(mark), "(%s)",
			    hd_role_name(r->role));
		else if (r->preferred)
			snprintf(mark, sizeof(mark), "(preferred)");
		if (asprintf(&n, "%s%s%s%s", s ? s : "", s ? "," : "",
		    r->address, mark) == -1)
			err(EX_TEMPFAIL, "asprintf");
		free(s);
		s = n;
	}
	return s != NULL ? s : strdup("(no email)");
}

void
key_print_line(const struct hd_key *k, time_t now)
{
	char c[16], x[16], *em, *safe;

	em = emails(k);
	safe = hd_sanitize(em);
	printf("%s %s %-13s %s %-10s alias=%s pass=%s %s\n", k->fpr,
	    k->secret ? "sec" : "pub", hd_key_status(k, now),
	    date_or(k->created, "-", c, sizeof(c)),
	    date_or(k->expires, "never", x, sizeof(x)),
	    k->alias != NULL ? k->alias : "-", k->has_pass ? "yes" : "no",
	    safe);
	free(safe);
	free(em);
}

static void
print_caps(int caps)
{
	static const char *names[] = { "sign", "encrypt", "certify", "auth" };
	size_t i;
	int first = 1;

	for (i = 0; i < 4; i++)
		if (caps & (1 << i)) {
			printf("%s%s", first ? "" : ",", names[i]);
			first = 0;
		}
	if (first)
		printf("-");
}

void
key_print_show(const struct hd_key *k, time_t now)
{
	char c[16], x[16], *safe;
	size_t i;

	printf("fingerprint  %s\n", k->fpr);
	printf("keyid        %s\n", k->sub[0].keyid);
	printf("status       %s\n", hd_key_status(k, now));
	printf("type         %s\n", k->secret ? "secret" : "public");
	printf("created      %s\n", date_or(k->created, "-", c, sizeof(c)));
	printf("expires      %s\n", date_or(k->expires, "never", x,
	    sizeof(x)));
	printf("alias        %s\n", k->alias != NULL ? k->alias : "-");
	printf("passphrase   %s\n", k->has_pass ? "stored" : "not stored");
	if (k->origin != NULL) {
		safe = hd_origin_text(k->origin);
		printf("origin       %s\n", safe);
		free(safe);
	}
	for (i = 0; i < k->nuid; i++) {
		safe = hd_sanitize(k->uid[i].uid);
		printf("uid          %s%s\n", safe,
		    k->uid[i].revoked ? " (revoked)" : "");
		free(safe);
	}
	for (i = 0; i < k->nrole; i++) {
		const struct hd_role *r = &k->role[i];

		if (r->role == HD_ROLE_SERVES)
			printf("address      %s serves%s\n", r->address,
			    r->preferred ? " (preferred)" : "");
		else
			printf("address      %s %s, served by %s\n", r->address,
			    hd_role_name(r->role), *r->server ? r->server :
			    "no usable key");
	}
	for (i = 0; i < k->nsub; i++) {
		const struct hd_subkey *s = &k->sub[i];

		printf("%s   %s %s ", i == 0 ? "primary  " : "subkey   ",
		    s->fpr, s->algo != NULL ? s->algo : "?");
		print_caps(s->caps);
		printf(" created %s expires %s%s%s\n",
		    date_or(s->created, "-", c, sizeof(c)),
		    date_or(s->expires, "never", x, sizeof(x)),
		    s->secret ? " secret" : "", s->revoked ? " revoked" : "");
	}
}

/*
 * What an import did to each address of a key: "serves", "standby" or
 * "held", and the key that serves it otherwise.
 */
void
key_print_roles(const char *fpr, const struct hd_role *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (r[i].role == HD_ROLE_SERVES)
			printf("%s %-12s %s%s\n", fpr, "serves", r[i].address,
			    r[i].preferred ? " (preferred)" : "");
		else
			printf("%s %-12s %s (served by %s)\n", fpr,
			    hd_role_name(r[i].role), r[i].address,
			    *r[i].server ? r[i].server : "no usable key");
	}
}

void
key_warn_roles(const char *fpr, const struct hd_role *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i].role == HD_ROLE_HELD)
			warnx("%s: warning: %s stays with %s: conflict, see "
			    "hdpgp-key check (hdpgp-key prefer %s %s to "
			    "switch)", fpr, r[i].address, *r[i].server ?
			    r[i].server : "no key", fpr, r[i].address);
}

/* conflict ADDRESS SERVER HELD[,HELD...]: one line an address. */
void
key_print_conflict(const struct hd_conflict *c)
{
	size_t i;

	printf("conflict %s served-by=%s held=", c->address,
	    *c->server ? c->server : "-");
	for (i = 0; c->held[i] != NULL; i++)
		printf("%s%s", i ? "," : "", c->held[i]);
	printf("\n");
}
