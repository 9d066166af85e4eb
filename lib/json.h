/*
 * json.h: what the library's JSON writers and readers share (json.c).
 * Internal to lib/: the tools see JSON only as text.
 */
#ifndef HDPGP_JSON_H
#define HDPGP_JSON_H

#include <stdint.h>

#include <json-glib/json-glib.h>

char	*hd_json_finish(JsonBuilder *, int);
void	 hd_json_member(JsonBuilder *, const char *, const char *);
void	 hd_json_int(JsonBuilder *, const char *, int64_t);
void	 hd_json_bool(JsonBuilder *, const char *, int);
void	 hd_json_time(JsonBuilder *, const char *, int64_t);

struct hd_state;
int	 hd_json_record(struct hd_state *, const char *, const char *,
	    JsonParser **, JsonObject **);
void	 hd_json_get_string(JsonObject *, const char *, int, char **,
	    char **);
void	 hd_json_get_int(JsonObject *, const char *, int64_t *, char **);
void	 hd_json_get_bool(JsonObject *, const char *, int *, char **);
JsonArray *hd_json_get_array(JsonObject *, const char *, char **);
JsonObject *hd_json_get_object_at(JsonArray *, guint, const char *,
	    char **);
const char *hd_json_get_string_at(JsonArray *, guint, const char *,
	    char **);
const char *hd_json_peek_string(JsonObject *, const char *);

#endif
