/*
 * json.c: every JSON helper the library has: writing a document, a
 * string-or-null member, and reading a stored record.
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
