/*
 * log.c: the security log in state.tdb.
 *
 * Records are "log:<seq>" with seq as 16 hex digits; "log:next" holds the
 * next sequence number and "log:first" the oldest kept one.  Reading the
 * newest N is N fetches whatever the log's size.  Appending takes the
 * chain lock of "log:next", so concurrent writers neither lose records nor
 * pay for an fsync'd transaction each (doc/DESIGN, Costs and targets).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"
#include "json.h"

#define NEXT_KEY	"log:next"
#define FIRST_KEY	"log:first"

/* The most of a record's field kept, as of an error's text. */
#define FIELD_MAX	sizeof(((struct hd_error *)NULL)->text)

static uint64_t
counter(struct hd_state *st, const char *key)
{
	char *val;
	uint64_t n = 0;

	if (hd_state_fetch(st, key, &val, NULL) == 0) {
		n = g_ascii_strtoull(val, NULL, 10);
		g_free(val);
	}
	return n;
}

/*
 * A list (addresses "a,b", fingerprints "F1 F2") too long for a record
 * field: the items that fit, then "... and N more".
 */
static char *
list_cut(const char *s, size_t max)
{
	char sep = strchr(s, ',') != NULL ? ',' : ' ';
	const char *p, *end = s + max - 64;
	size_t left = 1;

	for (p = end; p > s && *p != sep; p--)
		;
	if (p == s)
		return g_strdup_printf("%.*s...", (int)(max - 64), s);
	for (end = p + 1; *end != '\0'; end++)
		left += *end == sep;
	return g_strdup_printf("%.*s%c ... and %zu more", (int)(p - s), s, sep,
	    left);
}

static void
member(JsonBuilder *b, const char *name, const char *value)
{
	char *cut = NULL, *safe;

	/* Bounded records: 10,000 recipients are not 10,000 names. */
	if (value != NULL && strlen(value) >= FIELD_MAX)
		value = cut = strchr(value, '\n') != NULL ?
		    hd_lines_cut(value, FIELD_MAX) : list_cut(value, FIELD_MAX);
	/* Record fields come from mail and keys: no control characters. */
	safe = hd_sanitize(value);
	hd_json_member(b, name, safe);
	g_free(safe);
	g_free(cut);
}

static char *
record_json(const struct hd_logrec *r)
{
	JsonBuilder *b = json_builder_new();
	char when[32], *s;

	hd_time_iso(r->time, when, sizeof(when));
	json_builder_begin_object(b);
	member(b, "time", when);
	member(b, "direction", r->direction);
	member(b, "action", r->action);
	member(b, "result", r->result);
	member(b, "message_id", r->message_id);
	member(b, "from", r->from);
	member(b, "to", r->to);
	member(b, "group", r->group);
	member(b, "keys", r->keys);
	member(b, "comment", r->comment);
	json_builder_end_object(b);
	s = hd_json_finish(b, 0);
	return s;
}

int
hd_log_append(struct hd_state *st, const struct hd_logrec *r,
    struct hd_error *e)
{
	char *rec, key[32], num[32];
	uint64_t seq;
	int tries, rc = 0;

	rec = record_json(r);
	/* A store can fail on a lock another process holds: try again. */
	for (tries = 0; tries < 100; tries++) {
		if ((rc = hd_state_lock(st, NEXT_KEY, e)) != 0) {
			rc = hd_error_set(e, rc, "log: state file locked");
			break;
		}
		seq = counter(st, NEXT_KEY);
		snprintf(key, sizeof(key), "log:%016" PRIx64, seq);
		snprintf(num, sizeof(num), "%" PRIu64, seq + 1);
		rc = hd_state_store(st, key, rec, strlen(rec)) != 0 ||
		    hd_state_store(st, NEXT_KEY, num, strlen(num)) != 0;
		hd_state_unlock(st, NEXT_KEY);
		if (rc == 0)
			break;
		g_usleep(1000 + g_random_int_range(0, 5000));
	}
	if (rc != 0 && tries == 100)
		rc = hd_error_set(e, HD_E_IO, "log: cannot write record");
	g_free(rec);
	return rc;
}

/*
 * Appends a record, and when that fails leaves a warning for the tool to
 * say (hd_state_warnings) and goes on: a log that cannot be written must
 * not fail the action (doc/DESIGN, Tools).
 */
void
hd_log_note(struct hd_state *st, const struct hd_logrec *r)
{
	struct hd_error e;

	if (hd_log_append(st, r, &e) != 0)
		hd_state_warn(st, "%s", e.text);
}

/* A record of an action on the store itself: keys, groups. */
void
hd_log_action(struct hd_state *st, const char *action, const char *result,
    const char *group, const char *keys, const char *comment)
{
	struct hd_logrec r = { 0 };

	r.time = time(NULL);
	r.direction = "-";
	r.action = action;
	r.result = result;
	r.group = group;
	r.keys = keys;
	r.comment = comment;
	hd_log_note(st, &r);
}

/*
 * Hands the records to fn newest first, as JSON text, until fn returns
 * non-zero or max records were seen (0: no limit).
 */
int
hd_log_last(struct hd_state *st, size_t max, int (*fn)(const char *, void *),
    void *arg)
{
	uint64_t seq, first;
	char key[32], *val;
	size_t seen = 0;

	seq = counter(st, NEXT_KEY);
	first = counter(st, FIRST_KEY);
	while (seq > first && (max == 0 || seen < max)) {
		seq--;
		snprintf(key, sizeof(key), "log:%016" PRIx64, seq);
		if (hd_state_fetch(st, key, &val, NULL) != 0)
			continue;
		seen++;
		if (fn(val, arg) != 0) {
			g_free(val);
			break;
		}
		g_free(val);
	}
	return 0;
}

static int
record_time(const char *iso, time_t *t)
{
	GDateTime *dt = g_date_time_new_from_iso8601(iso, NULL);

	if (dt == NULL)
		return -1;
	*t = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return 0;
}

struct query {
	const struct hd_logquery *q;
	size_t		 shown;
	int		(*fn)(const char *, const struct hd_logrec *, void *);
	void		*arg;
};

static int
query_cb(const char *json, void *arg)
{
	struct query *qu = arg;
	const struct hd_logquery *q = qu->q;
	JsonParser *p = json_parser_new();
	JsonObject *o;
	struct hd_logrec r = { 0 };
	const char *when;
	int rc = 0;

	if (!json_parser_load_from_data(p, json, -1, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
		goto out;
	o = json_node_get_object(json_parser_get_root(p));
	when = hd_json_peek_string(o, "time");
	if (when == NULL || record_time(when, &r.time) != 0)
		goto out;
	/* Newest first: the first record older than --since ends it. */
	if (q->since != 0 && r.time < q->since) {
		rc = 1;
		goto out;
	}
	r.direction = hd_json_peek_string(o, "direction");
	r.action = hd_json_peek_string(o, "action");
	r.result = hd_json_peek_string(o, "result");
	r.message_id = hd_json_peek_string(o, "message_id");
	r.from = hd_json_peek_string(o, "from");
	r.to = hd_json_peek_string(o, "to");
	r.group = hd_json_peek_string(o, "group");
	r.keys = hd_json_peek_string(o, "keys");
	r.comment = hd_json_peek_string(o, "comment");
	if (q->failed && (r.result == NULL || strcmp(r.result, "failed") != 0))
		goto out;
	if (q->direction != NULL && (r.direction == NULL ||
	    strcmp(r.direction, q->direction) != 0))
		goto out;
	if (q->message_id != NULL && (r.message_id == NULL ||
	    strcmp(r.message_id, q->message_id) != 0))
		goto out;
	rc = qu->fn(json, &r, qu->arg);
	if (rc == 0 && q->max != 0 && ++qu->shown >= q->max)
		rc = 1;
out:
	g_object_unref(p);
	return rc;
}

/*
 * The records that pass q, newest first, handed to fn as stored JSON and
 * parsed, until q->max are shown.  Reading stops at the first record
 * older than q->since, so the cost follows what is shown, not the size
 * of the log.
 */
int
hd_log_query(struct hd_state *st, const struct hd_logquery *q,
    int (*fn)(const char *, const struct hd_logrec *, void *), void *arg)
{
	struct query qu = { q, 0, fn, arg };

	return hd_log_last(st, 0, query_cb, &qu);
}

/*
 * Drop records older than before (0: no such limit) and all but the
 * newest keep (0: no such limit).  The oldest are dropped first; *gone
 * says how many.
 */
int
hd_log_prune(struct hd_state *st, time_t before, uint64_t keep,
    uint64_t *gone, struct hd_error *e)
{
	uint64_t seq, first, next;
	char key[32], num[32], *val;
	time_t t;
	int old, rc;

	*gone = 0;
	if ((rc = hd_state_lock(st, FIRST_KEY, e)) != 0)
		return hd_error_set(e, rc, "log: state file locked");
	first = counter(st, FIRST_KEY);
	next = counter(st, NEXT_KEY);
	for (seq = first; seq < next; seq++) {
		snprintf(key, sizeof(key), "log:%016" PRIx64, seq);
		if (keep != 0 && next - seq > keep)
			old = 1;
		else if (before != 0 && hd_state_fetch(st, key, &val,
		    NULL) == 0) {
			JsonParser *p = json_parser_new();
			const char *when = NULL;

			if (json_parser_load_from_data(p, val, -1, NULL) &&
			    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
				when = hd_json_peek_string(json_node_get_object(
				    json_parser_get_root(p)), "time");
			old = when == NULL || (record_time(when, &t) == 0 &&
			    t < before);
			g_object_unref(p);
			g_free(val);
		} else
			old = 0;
		if (!old)
			break;
		if (hd_state_delete(st, key) == 0)
			(*gone)++;
	}
	snprintf(num, sizeof(num), "%" PRIu64, seq);
	if (seq != first && hd_state_store(st, FIRST_KEY, num,
	    strlen(num)) != 0) {
		hd_state_unlock(st, FIRST_KEY);
		return hd_error_set(e, HD_E_IO, "log: cannot store %s",
		    FIRST_KEY);
	}
	hd_state_unlock(st, FIRST_KEY);
	return 0;
}
