/*
 * mime-check.c: one reading of every message.
 *
 * hdpgp calls a message signed or decrypted only when every mainstream
 * parser (gmime, Python's email, Ruby's mail as Zammad uses it) sees the
 * same structure and the same text.  What makes them disagree is refused
 * here, by a rule for each class, not by a list of messages:
 *
 *  - a CR not followed by LF, or a NUL, anywhere in the bytes: Python and
 *    Ruby end a line at a bare CR (a second header field, a boundary line
 *    gmime does not see), C-string readers stop at a NUL;
 *  - a header field name that is not RFC 5322's ftext directly followed
 *    by the colon ("Subject : x", a line without a colon): gmime reads
 *    on, Python ends the header there;
 *  - conflicting structure: two different Content-Type, -Disposition or
 *    -Transfer-Encoding fields in one entity, a parameter given twice
 *    with different values (in any case, in RFC 2231 form beside the
 *    plain one), as gmime's parser reports them;
 *  - a multipart's Content-Type that is not plain "type/sub; name=value":
 *    comments, backslashes or an open quote, which parsers unquote
 *    differently, so that each finds another boundary; a boundary that is
 *    not 1 to 70 of RFC 2046's characters (an encoded word, a trailing
 *    space);
 *  - a From mailbox that gmime's address parser and a strict reading of
 *    RFC 5322 see as different addresses (';', groups, encoded words).
 *
 * The reason is returned as text beginning "ambiguous MIME: ", and the
 * verdict is error (incoming.c).
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "hdpgp-priv.h"
#include "mime.h"

#define AMBIGUOUS	"ambiguous MIME: "

/* gmime's parser tells what it had to choose between. */
void
mime_parser_warning(gint64 offset, GMimeParserWarning w, const gchar *item,
    gpointer arg)
{
	char **why = arg;
	char *what;

	(void)offset;
	if (*why != NULL)
		return;
	switch (w) {
	case GMIME_CRIT_INVALID_HEADER_NAME:
		what = g_strdup("a header line that is not a field");
		break;
	case GMIME_CRIT_CONFLICTING_HEADER:
		/* Two From fields are judged by from-match (ambiguous);
		 * fields that shape the structure make it two messages. */
		if (item == NULL || (g_ascii_strncasecmp(item, "Content-",
		    8) != 0 && g_ascii_strcasecmp(item, "MIME-Version") != 0))
			return;
		what = g_strdup_printf("conflicting %s fields", item);
		break;
	case GMIME_CRIT_CONFLICTING_PARAMETER:
		what = g_strdup_printf("conflicting %s parameters",
		    item != NULL ? item : "");
		break;
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
		what = g_strdup("a multipart without a boundary");
		break;
	default:
		return;
	}
	/* item is the sender's text: it goes out sanitised and cut. */
	*why = g_strconcat(AMBIGUOUS, what, NULL);
	g_free(what);
}

/* A CR that is not part of a CRLF, or a NUL. */
static const char *
bad_bytes(const char *raw, size_t len)
{
	const char *p = raw, *end = raw + len;

	if (memchr(raw, '\0', len) != NULL)
		return AMBIGUOUS "a NUL byte";
	while ((p = memchr(p, '\r', end - p)) != NULL) {
		if (p + 1 == end || p[1] != '\n')
			return AMBIGUOUS "a CR without LF";
		p += 2;
	}
	return NULL;
}

/* RFC 5322 §3.6.8: printable US-ASCII but the colon, nothing else. */
static int
is_field_name(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < 33 || *s > 126 || *s == ':')
			return 0;
	return 1;
}

/*
 * "type/subtype" then "; name=value" with value a token or a quoted
 * string without backslashes, blanks and folds between: the Content-Type
 * of a multipart, whose boundary every parser must read alike.
 */
static int
plain_content_type(const char *v)
{
	const char *p = v, *name, *val;
	size_t nlen, vlen;

	p += strspn(p, " \t\r\n");
	p += strcspn(p, " \t\r\n;()\"\\");
	for (;;) {
		p += strspn(p, " \t\r\n");
		if (*p == '\0')
			return 1;
		if (*p++ != ';')
			return 0;
		p += strspn(p, " \t\r\n");
		if (*p == '\0')
			return 1;	/* a trailing ';' */
		name = p;
		if ((nlen = strcspn(p, " \t\r\n=;()\"\\")) == 0)
			return 0;
		p += nlen;
		p += strspn(p, " \t\r\n");
		if (*p++ != '=')
			return 0;
		p += strspn(p, " \t\r\n");
		if (*p == '"') {
			val = ++p;
			p += vlen = strcspn(p, "\"\\");
			if (*p++ != '"')
				return 0;
		} else {
			val = p;
			if ((vlen = strcspn(p, " \t\r\n;()\"\\")) == 0)
				return 0;
			p += vlen;
		}
		/* An encoded word: Python and gmime decode it, Ruby not. */
		if (nlen == 8 && g_ascii_strncasecmp(name, "boundary", 8) == 0 &&
		    g_strstr_len(val, vlen, "=?") != NULL)
			return 0;
	}
}

static const char *
check_headers(GMimeObject *o, int multipart)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	int i, n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;

	for (i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *v;

		if (!is_field_name(g_mime_header_get_raw_name(h)))
			return AMBIGUOUS "a header field name with a blank "
			    "or control character";
		if (multipart && g_ascii_strcasecmp(g_mime_header_get_name(h),
		    "Content-Type") == 0 &&
		    (v = g_mime_header_get_raw_value(h)) != NULL &&
		    !plain_content_type(v))
			return AMBIGUOUS "a multipart's Content-Type with "
			    "comments, backslashes, an open quote or an "
			    "encoded word";
	}
	return NULL;
}

/*
 * RFC 2046 §5.1.1: 1 to 70 of bchars, not ending in a space.  Anything
 * else is read differently: Python and gmime decode an encoded word in
 * it and Ruby does not, Python drops a trailing space and Ruby keeps it.
 */
static int
plain_boundary(const char *b)
{
	size_t n = b != NULL ? strlen(b) : 0;

	return n > 0 && n <= 70 && b[n - 1] != ' ' && strstr(b, "=?") ==
	    NULL && strspn(b, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
	    "TUVWXYZ0123456789'()+_,-./:=? ") == n;
}

static const char *
check_entity(GMimeObject *o, int depth)
{
	const char *why;
	int i, n;

	if (depth > MIME_MAX_DEPTH)
		return NULL;	/* find() refuses it with its own reason */
	if ((why = check_headers(o, GMIME_IS_MULTIPART(o))) != NULL)
		return why;
	/* Not g_mime_multipart_get_boundary: it makes one up if none. */
	if (GMIME_IS_MULTIPART(o) && !plain_boundary(
	    g_mime_object_get_content_type_parameter(o, "boundary")))
		return AMBIGUOUS "a boundary that is not RFC 2046's";
	if (GMIME_IS_MULTIPART(o)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
		for (i = 0; i < n; i++)
			if ((why = check_entity(g_mime_multipart_get_part(
			    GMIME_MULTIPART(o), i), depth + 1)) != NULL)
				return why;
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *inner = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(o));

		if (inner != NULL && (why = check_headers(GMIME_OBJECT(inner),
		    0)) == NULL && g_mime_message_get_mime_part(inner) != NULL)
			why = check_entity(g_mime_message_get_mime_part(inner),
			    depth + 1);
		return why;
	}
	return NULL;
}

/*
 * Why parsers could read the message in raw (parsed by gmime as msg)
 * differently, or NULL.  *warned is what gmime's parser reported, then
 * and while the walk reads the fields it had left for later.
 */
char *
mime_ambiguity(const char *raw, size_t len, GMimeMessage *msg, char **warned)
{
	const char *why;

	if ((why = bad_bytes(raw, len)) != NULL)
		return g_strdup(why);
	if ((why = check_headers(GMIME_OBJECT(msg), 0)) != NULL ||
	    (g_mime_message_get_mime_part(msg) != NULL &&
	    (why = check_entity(g_mime_message_get_mime_part(msg), 0)) != NULL))
		return g_strdup(why);
	return *warned != NULL ? g_strdup(*warned) : NULL;
}

/* Comments and quoted strings out, as RFC 5322's CFWS and phrase. */
static char *
strip_cfws(const char *v)
{
	GString *s = g_string_new(NULL);
	int depth = 0, quoted = 0;

	for (; *v != '\0'; v++) {
		if ((quoted || depth > 0) && *v == '\\' && v[1] != '\0') {
			v++;
			continue;
		}
		if (quoted) {
			quoted = *v != '"';
			continue;
		}
		if (*v == '(')
			depth++;
		else if (*v == ')' && depth > 0)
			depth--;
		else if (depth == 0 && *v == '"')
			quoted = 1;
		else if (depth == 0)
			g_string_append_c(s, *v);
	}
	if (quoted || depth > 0)
		g_string_truncate(s, 0);
	return g_string_free(s, FALSE);
}

/*
 * The one mailbox of a From field's raw value, read twice: by gmime's
 * address parser and by a strict RFC 5322 reading (no group, no list,
 * no route, no encoded word in the address).  NULL unless both find
 * exactly one and the same addr-spec.
 */
char *
hd_addr_single(const char *raw)
{
	InternetAddressList *l;
	InternetAddress *a;
	char *bare, *strict = NULL, *lt, *gt, *ours = NULL;
	const char *addr;

	if (raw == NULL || bad_bytes(raw, strlen(raw)) != NULL)
		return NULL;
	/* The strict reading. */
	bare = strip_cfws(raw);
	g_strstrip(bare);
	if (strpbrk(bare, ",;:\"\\") == NULL) {
		lt = strchr(bare, '<');
		gt = strrchr(bare, '>');
		if (lt != NULL && gt != NULL && gt > lt &&
		    strchr(lt + 1, '<') == NULL && gt[1] == '\0') {
			*gt = '\0';
			strict = g_strdup(lt + 1);
		} else if (lt == NULL && gt == NULL)
			strict = g_strdup(bare);
	}
	g_free(bare);
	if (strict == NULL || strpbrk(strict, " \t\r\n") != NULL ||
	    strchr(strict, '@') != strrchr(strict, '@') ||
	    strstr(strict, "=?") != NULL)
		goto out;
	/* gmime's reading. */
	l = internet_address_list_parse(NULL, raw);
	if (l != NULL && internet_address_list_length(l) == 1 &&
	    INTERNET_ADDRESS_IS_MAILBOX(a = internet_address_list_get_address(
	    l, 0)) && (addr = internet_address_mailbox_get_addr(
	    INTERNET_ADDRESS_MAILBOX(a))) != NULL) {
		char *x = hd_addr_normalize(addr), *y = hd_addr_normalize(
		    strict);

		if (x != NULL && y != NULL && strcmp(x, y) == 0) {
			ours = x;
			x = NULL;
		}
		g_free(x);
		g_free(y);
	}
	if (l != NULL)
		g_object_unref(l);
out:
	g_free(strict);
	return ours;
}
