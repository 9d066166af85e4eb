/*
 * log.c: the security log in state.tdb.
 *
 * Records are "log:<seq>" with seq as 16 hex digits; "log:next" holds the
 * next sequence number and "log:first" the oldest kept one.  Reading the
 * newest N is N fetches whatever the log's size.  Appending takes the
 * chain lock of "log:next", so concurrent writers neither lose records nor
 * pay for an fsync'd transaction each (PERFORMANCE.md).
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "hdpgp.h"

#define NEXT_KEY	"log:next"
#define FIRST_KEY	"log:first"

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

static void
member(JsonBuilder *b, const char *name, const char *value)
{
	char *safe;

	json_builder_set_member_name(b, name);
	if (value == NULL) {
		json_builder_add_null_value(b);
		return;
	}
	/* Record fields come from mail and keys: no control characters. */
	safe = hd_sanitize(value);
	json_builder_add_string_value(b, safe);
	g_free(safe);
}

static char *
record_json(const struct hd_logrec *r)
{
	JsonBuilder *b = json_builder_new();
	JsonGenerator *gen = json_generator_new();
	JsonNode *root;
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
	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	s = json_generator_to_data(gen, NULL);
	json_node_unref(root);
	g_object_unref(gen);
	g_object_unref(b);
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
		if (hd_state_lock(st, NEXT_KEY) != 0) {
			rc = hd_error_set(e, EX_TEMPFAIL, "log: state file "
			    "locked");
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
		rc = hd_error_set(e, EX_IOERR, "log: cannot write record");
	g_free(rec);
	return rc;
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
