/*
 * origin.c: key provenance in state.tdb (issue 12).
 *
 *	origin:<FPR>	{"source":…, "url":…, "address":…, "first_seen":N,
 *			 "last_seen":N}
 *
 * A key an administrator imported (source "file") or generated is pinned:
 * nothing from the network replaces it, shadows it for its addresses or
 * takes its user IDs away.  A key with no record predates provenance; it
 * can only have come from an administrator, so it is pinned too.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"
#include "json.h"

void
hd_origin_free(struct hd_origin *o)
{
	if (o == NULL)
		return;
	g_free(o->url);
	g_free(o->address);
	memset(o, 0, sizeof(*o));
}

int
hd_origin_network(const char *source)
{
	return strcmp(source, "wkd") == 0 || strcmp(source, "keyserver") == 0;
}

int
hd_origin_pinned(const struct hd_origin *o)
{
	return !hd_origin_network(o->source);
}

/*
 * The origin of key fpr in *o: 0, HD_E_NOINPUT when none is recorded, or
 * HD_E_CONFIG for a damaged record.  Without a good record *o reads as
 * source "file": pinned.
 */
int
hd_origin_get(struct hd_state *st, const char *fpr, struct hd_origin *o,
    struct hd_error *e)
{
	JsonParser *p;
	JsonObject *obj;
	char *src = NULL, *why = NULL;
	int rc;

	memset(o, 0, sizeof(*o));
	g_strlcpy(o->source, "file", sizeof(o->source));
	if ((rc = hd_json_record(st, "origin", fpr, &p, &obj)) == 0) {
		hd_json_get_string(obj, "source", 0, &src, &why);
		hd_json_get_string(obj, "url", 1, &o->url, &why);
		hd_json_get_string(obj, "address", 1, &o->address, &why);
		hd_json_get_int(obj, "first_seen", &o->first, &why);
		hd_json_get_int(obj, "last_seen", &o->last, &why);
		if (why == NULL)
			g_strlcpy(o->source, src, sizeof(o->source));
	} else if (rc < 0)
		why = g_strdup("not a JSON object");
	if (p != NULL)
		g_object_unref(p);
	g_free(src);
	if (why != NULL) {
		hd_origin_free(o);
		g_strlcpy(o->source, "file", sizeof(o->source));
		rc = hd_error_set(e, HD_E_CONFIG, "origin:%s: damaged record "
		    "(%s)", fpr, why);
		g_free(why);
		return rc;
	}
	return rc == 0 ? 0 : hd_error_set(e, HD_E_NOINPUT, "%s: no origin "
	    "recorded", fpr);
}

int
hd_key_pinned(struct hd_state *st, const char *fpr)
{
	struct hd_error e;
	struct hd_origin o;
	int pinned;

	/* A damaged record errs on the side of the administrator. */
	pinned = hd_origin_get(st, fpr, &o, &e) != 0 || hd_origin_pinned(&o);
	hd_origin_free(&o);
	return pinned;
}

/* Inside a transaction: the record as o has it. */
int
hd_origin_put(struct hd_state *st, const char *fpr,
    const struct hd_origin *o, struct hd_error *e)
{
	JsonBuilder *b = json_builder_new();
	char *rkey, *val;
	int rc;

	json_builder_begin_object(b);
	hd_json_member(b, "source", o->source);
	hd_json_member(b, "url", o->url);
	hd_json_member(b, "address", o->address);
	hd_json_int(b, "first_seen", o->first);
	hd_json_int(b, "last_seen", o->last);
	json_builder_end_object(b);
	val = hd_json_finish(b, 0);
	rkey = g_strdup_printf("origin:%s", fpr);
	rc = hd_state_store(st, rkey, val, strlen(val)) != 0 ?
	    hd_error_set(e, HD_E_IO, "state: cannot write %s", rkey) : 0;
	g_free(rkey);
	g_free(val);
	return rc;
}

int
hd_origin_drop(struct hd_state *st, const char *fpr, struct hd_error *e)
{
	char *rkey;
	int rc;

	rkey = g_strdup_printf("origin:%s", fpr);
	rc = hd_state_delete(st, rkey) != 0 ? hd_error_set(e, HD_E_IO,
	    "state: cannot write %s", rkey) : 0;
	g_free(rkey);
	return rc;
}

/* "wkd https://… first 2026-01-02 last 2026-03-04", for show and the log. */
char *
hd_origin_text(const struct hd_origin *o)
{
	char f[32] = "-", l[32] = "-";

	if (o->first != 0)
		hd_time_iso(o->first, f, sizeof(f));
	if (o->last != 0)
		hd_time_iso(o->last, l, sizeof(l));
	return g_strdup_printf("%s%s%s first-seen=%s last-seen=%s%s",
	    o->source, o->url != NULL ? " " : "", o->url != NULL ? o->url : "",
	    f, l, hd_origin_pinned(o) ? " pinned" : "");
}
