/*
 * json.c: every JSON helper the library has: writing a document and its
 * members, and reading a stored record, member by member, checked.
 */
#include "config.h"

#include <glib.h>

#include "hdpgp-priv.h"
#include "json.h"

/* The builder's document as text; the builder is consumed. */
char *
hd_json_finish(JsonBuilder *b, int pretty)
{
	JsonGenerator *gen = json_generator_new();
	JsonNode *root = json_builder_get_root(b);
	char *s;

	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, pretty);
	s = json_generator_to_data(gen, NULL);
	json_node_unref(root);
	g_object_unref(gen);
	g_object_unref(b);
	return s;
}

/*
 * The record "prefix:name" of st as a JSON object, in *obj; *p holds it
 * and is the caller's to unref.  0 found, 1 none, -1 not an object.
 */
int
hd_json_record(struct hd_state *st, const char *prefix, const char *name,
    JsonParser **p, JsonObject **obj)
{
	char *rkey, *val;
	size_t len;
	int rc;

	*p = NULL;
	rkey = g_strdup_printf("%s:%s", prefix, name);
	rc = hd_state_fetch(st, rkey, &val, &len);
	g_free(rkey);
	if (rc != 0)
		return rc;
	*p = json_parser_new();
	if (json_parser_load_from_data(*p, val, len, NULL) &&
	    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(*p)))
		*obj = json_node_get_object(json_parser_get_root(*p));
	else
		rc = -1;
	g_free(val);
	return rc;
}

/* The member name: the string s, or null when s is NULL. */
void
hd_json_member(JsonBuilder *b, const char *name, const char *s)
{
	json_builder_set_member_name(b, name);
	if (s == NULL)
		json_builder_add_null_value(b);
	else
		json_builder_add_string_value(b, s);
}

void
hd_json_int(JsonBuilder *b, const char *name, int64_t n)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, n);
}

void
hd_json_bool(JsonBuilder *b, const char *name, int v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_boolean_value(b, v != 0);
}

/* A time for people and programs: ISO 8601 in UTC, null when 0. */
void
hd_json_time(JsonBuilder *b, const char *name, int64_t t)
{
	char buf[32];

	if (t == 0) {
		hd_json_member(b, name, NULL);
		return;
	}
	hd_time_iso(t, buf, sizeof(buf));
	hd_json_member(b, name, buf);
}

/*
 * The readers below take one member of a stored record and check that
 * it is there and of its type.  The first that is not leaves its reason
 * in *why (no member "created"; member "created" is not an integer), and
 * once *why is set they do nothing more: a decoder reads every member it
 * wants and looks at *why once.  Unlike json-glib's getters, they never
 * print a warning about what they find.
 */
static JsonNode *
member(JsonObject *o, const char *name, GType type, int nullable,
    const char *what, char **why)
{
	JsonNode *n;

	if (*why != NULL)
		return NULL;
	if (o == NULL || (n = json_object_get_member(o, name)) == NULL) {
		*why = g_strdup_printf("no member \"%s\"", name);
		return NULL;
	}
	if (nullable && JSON_NODE_HOLDS_NULL(n))
		return NULL;
	if (type == JSON_TYPE_ARRAY ? JSON_NODE_HOLDS_ARRAY(n) :
	    JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == type)
		return n;
	*why = g_strdup_printf("member \"%s\" is not %s", name, what);
	return NULL;
}

/* A string member, copied to *out; with nullable, null gives NULL. */
void
hd_json_get_string(JsonObject *o, const char *name, int nullable, char **out,
    char **why)
{
	JsonNode *n;

	*out = NULL;
	if ((n = member(o, name, G_TYPE_STRING, nullable, nullable ?
	    "a string or null" : "a string", why)) != NULL)
		*out = g_strdup(json_node_get_string(n));
}

void
hd_json_get_int(JsonObject *o, const char *name, int64_t *out, char **why)
{
	JsonNode *n;

	*out = 0;
	if ((n = member(o, name, G_TYPE_INT64, 0, "an integer", why)) != NULL)
		*out = json_node_get_int(n);
}

void
hd_json_get_bool(JsonObject *o, const char *name, int *out, char **why)
{
	JsonNode *n;

	*out = 0;
	if ((n = member(o, name, G_TYPE_BOOLEAN, 0, "true or false",
	    why)) != NULL)
		*out = json_node_get_boolean(n);
}

JsonArray *
hd_json_get_array(JsonObject *o, const char *name, char **why)
{
	JsonNode *n;

	if ((n = member(o, name, JSON_TYPE_ARRAY, 0, "an array", why)) ==
	    NULL)
		return NULL;
	return json_node_get_array(n);
}

/* Element i of array a (named name, for *why): an object, or a string. */
JsonObject *
hd_json_get_object_at(JsonArray *a, guint i, const char *name, char **why)
{
	JsonNode *n;

	if (*why != NULL)
		return NULL;
	n = json_array_get_element(a, i);
	if (JSON_NODE_HOLDS_OBJECT(n))
		return json_node_get_object(n);
	*why = g_strdup_printf("%s[%u] is not an object", name, i);
	return NULL;
}

const char *
hd_json_get_string_at(JsonArray *a, guint i, const char *name, char **why)
{
	JsonNode *n;

	if (*why != NULL)
		return NULL;
	n = json_array_get_element(a, i);
	if (JSON_NODE_HOLDS_VALUE(n) &&
	    json_node_get_value_type(n) == G_TYPE_STRING)
		return json_node_get_string(n);
	*why = g_strdup_printf("%s[%u] is not a string", name, i);
	return NULL;
}

/*
 * For readers that take what they find: the member's string, or NULL
 * when it is missing, null or not a string.
 */
const char *
hd_json_peek_string(JsonObject *o, const char *name)
{
	JsonNode *n;

	if ((n = json_object_get_member(o, name)) == NULL ||
	    !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}
