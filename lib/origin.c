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

static char *
member(JsonObject *o, const char *name)
{
	if (!json_object_has_member(o, name) ||
	    json_object_get_null_member(o, name))
		return NULL;
	return g_strdup(json_object_get_string_member(o, name));
}

/* 0 found, 1 none recorded (pinned, source "file"), -1 damaged. */
int
hd_origin_get(struct hd_state *st, const char *fpr, struct hd_origin *o)
{
	JsonParser *p;
	JsonObject *obj;
	char *src;
	int rc;

	memset(o, 0, sizeof(*o));
	g_strlcpy(o->source, "file", sizeof(o->source));
	if ((rc = hd_json_record(st, "origin", fpr, &p, &obj)) == 0) {
		if ((src = member(obj, "source")) != NULL)
			g_strlcpy(o->source, src, sizeof(o->source));
		g_free(src);
		o->url = member(obj, "url");
		o->address = member(obj, "address");
		if (json_object_has_member(obj, "first_seen"))
			o->first = json_object_get_int_member(obj,
			    "first_seen");
		if (json_object_has_member(obj, "last_seen"))
			o->last = json_object_get_int_member(obj, "last_seen");
	}
	if (p != NULL)
		g_object_unref(p);
	return rc;
}

int
hd_key_pinned(struct hd_state *st, const char *fpr)
{
	struct hd_origin o;
	int pinned;

	/* A damaged record errs on the side of the administrator. */
	pinned = hd_origin_get(st, fpr, &o) != 0 || hd_origin_pinned(&o);
	hd_origin_free(&o);
	return pinned;
}

/* Inside a transaction: the record as o has it. */
int
hd_origin_put(struct hd_state *st, const char *fpr,
    const struct hd_origin *o)
{
	JsonBuilder *b = json_builder_new();
	char *rkey, *val;
	int rc;

	json_builder_begin_object(b);
	hd_json_member(b, "source", o->source);
	hd_json_member(b, "url", o->url);
	hd_json_member(b, "address", o->address);
	json_builder_set_member_name(b, "first_seen");
	json_builder_add_int_value(b, o->first);
	json_builder_set_member_name(b, "last_seen");
	json_builder_add_int_value(b, o->last);
	json_builder_end_object(b);
	val = hd_json_finish(b, 0);
	rkey = g_strdup_printf("origin:%s", fpr);
	rc = hd_state_store(st, rkey, val, strlen(val));
	g_free(rkey);
	g_free(val);
	return rc;
}

int
hd_origin_drop(struct hd_state *st, const char *fpr)
{
	char *rkey;
	int rc;

	rkey = g_strdup_printf("origin:%s", fpr);
	rc = hd_state_delete(st, rkey);
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
