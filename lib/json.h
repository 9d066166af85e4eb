/*
 * json.h: what the library's JSON writers share.  Internal to lib/: the
 * tools see JSON only as text.
 */
#ifndef HDPGP_JSON_H
#define HDPGP_JSON_H

#include <json-glib/json-glib.h>

char	*hd_json_finish(JsonBuilder *, int);
void	 hd_json_member(JsonBuilder *, const char *, const char *);

struct hd_state;
int	 hd_json_record(struct hd_state *, const char *, const char *,
	    JsonParser **, JsonObject **);

#endif
