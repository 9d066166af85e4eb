/*
 * mime.c: a message as gmime parses it (struct hd_msg), what it says of
 * itself (kind, addresses, Message-ID, sender), and the parse and write
 * helpers the MIME family shares.  The family: mime.c, mime-check.c
 * (what parsers may read differently), mime-compose.c (outgoing),
 * mime-find.c (signed and encrypted entities of incoming mail),
 * mime-rewrite.c (incoming mail written back); only they include
 * <gmime/gmime.h>.
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "hdpgp-priv.h"
#include "mime.h"

static void
init_gmime(void)
{
	static int done;

	if (!done) {
		g_mime_init();
		done = 1;
	}
}

/*
 * po, when not NULL, has the parser report what it had to choose between
 * (mime-check.c).  gmime keeps po with the objects it makes and reads
 * their fields lazily, reporting then too: po must outlive them.
 */
GMimeObject *
mime_parse_stream(GMimeStream *s, int message, GMimeParserOptions *po)
{
	GMimeParser *p;
	GObject *o;

	p = g_mime_parser_new_with_stream(s);
	o = message ? (GObject *)g_mime_parser_construct_message(p, po) :
	    (GObject *)g_mime_parser_construct_part(p, po);
	g_object_unref(p);
	return (GMimeObject *)o;
}

/*
 * With lend set, gmime reads buf in place instead of a copy: the parts'
 * contents stay ranges of it, so buf must outlive the object, and
 * *lend is to be released with g_byte_array_free(*lend, FALSE) after
 * it.  For a 50 MB message that is 50 MB less at the peak.
 */
static GMimeObject *
parse_object(const char *buf, size_t len, int message, GByteArray **lend,
    GMimeParserOptions *po)
{
	GMimeStream *s;
	GMimeObject *o;

	if (lend != NULL) {
		*lend = g_byte_array_new_take((guint8 *)(uintptr_t)buf, len);
		s = g_mime_stream_mem_new_with_byte_array(*lend);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
	} else
		s = g_mime_stream_mem_new_with_buffer(buf, len);
	o = mime_parse_stream(s, message, po);
	g_object_unref(s);
	return o;
}

static int
header_count(GMimeObject *o)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);

	return hl != NULL ? g_mime_header_list_get_count(hl) : 0;
}

int
hd_msg_parse(const char *buf, size_t len, struct hd_msg **out,
    struct hd_error *e)
{
	struct hd_msg *m;
	const char *nl;

	init_gmime();
	m = g_new0(struct hd_msg, 1);
	m->po = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(m->po, mime_parser_warning,
	    &m->warned);
	m->msg = (GMimeMessage *)parse_object(buf, len, 1, &m->wrap, m->po);
	/* Some header: the message's, or (a bare entity) its part's. */
	if (m->msg == NULL || g_mime_message_get_mime_part(m->msg) == NULL ||
	    header_count(GMIME_OBJECT(m->msg)) +
	    header_count(g_mime_message_get_mime_part(m->msg)) == 0) {
		hd_msg_free(m);
		return hd_error_set(e, HD_E_DATA, "input is not a mail "
		    "message");
	}
	m->ambiguous = mime_ambiguity(buf, len, m->msg, &m->warned);
	nl = memchr(buf, '\n', len);
	m->crlf = nl != NULL && nl > buf && nl[-1] == '\r';
	m->raw = buf;
	m->rawlen = len;
	m->outfd = -1;
	*out = m;
	return 0;
}

/*
 * The message hd_msg_signed, hd_msg_encrypted or hd_msg_rewrite makes is
 * written to fd as it is made, instead of into memory: for a large
 * message, one copy less at the peak.  Their *out is then NULL and
 * *outlen what was written.
 */
void
hd_msg_set_output(struct hd_msg *m, int fd)
{
	m->outfd = fd;
}

void
hd_msg_free(struct hd_msg *m)
{
	if (m == NULL)
		return;
	if (m->msg != NULL)
		g_object_unref(m->msg);
	if (m->po != NULL)
		g_mime_parser_options_free(m->po);
	g_free(m->warned);
	if (m->wrap != NULL)
		g_byte_array_free(m->wrap, FALSE);
	if (m->kept != NULL) {
		for (guint i = 0; i < m->kept->len; i++)
			g_byte_array_free(m->kept->pdata[i], TRUE);
		g_ptr_array_free(m->kept, TRUE);
	}
	g_free(m->ambiguous);
	g_free(m);
}

/*
 * Why mainstream parsers could read the message differently (a text that
 * begins "ambiguous MIME: "), or NULL when they read it alike.
 */
const char *
hd_msg_ambiguous(const struct hd_msg *m)
{
	return m->ambiguous;
}

/* What the top level already is: plain, PGP/MIME signed or encrypted. */
int
hd_msg_kind(const struct hd_msg *m)
{
	GMimeObject *part = g_mime_message_get_mime_part(m->msg);

	if (GMIME_IS_MULTIPART_ENCRYPTED(part))
		return HD_MSG_ENCRYPTED;
	if (GMIME_IS_MULTIPART_SIGNED(part))
		return HD_MSG_SIGNED;
	return HD_MSG_PLAIN;
}

static void
add_addresses(GPtrArray *a, InternetAddressList *list)
{
	int i, n;

	if (list == NULL)
		return;
	n = internet_address_list_length(list);
	for (i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list,
		    i);

		if (INTERNET_ADDRESS_IS_GROUP(ia))
			add_addresses(a, internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia)));
		else if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			g_ptr_array_add(a, g_strdup(
			    internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(ia))));
	}
}

/*
 * The addresses of some headers, as written (not normalised: the caller
 * reports the ones that are no address as they are), in order, once each.
 */
static char **
addresses(const struct hd_msg *m, const GMimeAddressType *types, size_t n)
{
	GPtrArray *a = g_ptr_array_new(), *out = g_ptr_array_new();
	size_t i, j;

	for (i = 0; i < n; i++)
		add_addresses(a, g_mime_message_get_addresses(m->msg,
		    types[i]));
	for (i = 0; i < a->len; i++) {
		for (j = 0; j < out->len; j++)
			if (g_ascii_strcasecmp(out->pdata[j], a->pdata[i]) == 0)
				break;
		if (j == out->len)
			g_ptr_array_add(out, a->pdata[i]);
		else
			g_free(a->pdata[i]);
	}
	g_ptr_array_free(a, TRUE);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

char **
hd_msg_from(const struct hd_msg *m)
{
	static const GMimeAddressType t[] = { GMIME_ADDRESS_TYPE_FROM };

	return addresses(m, t, 1);
}

char **
hd_msg_recipients(const struct hd_msg *m)
{
	static const GMimeAddressType t[] = { GMIME_ADDRESS_TYPE_TO,
	    GMIME_ADDRESS_TYPE_CC, GMIME_ADDRESS_TYPE_BCC };

	return addresses(m, t, 3);
}

/*
 * The Bcc addresses that To and Cc do not also name: the recipients the
 * others must not learn of.
 */
char **
hd_msg_bcc(const struct hd_msg *m)
{
	static const GMimeAddressType t[] = { GMIME_ADDRESS_TYPE_TO,
	    GMIME_ADDRESS_TYPE_CC, GMIME_ADDRESS_TYPE_BCC };
	char **shown = addresses(m, t, 2), **bcc = addresses(m, t + 2, 1);
	size_t i, j, n = 0;

	for (i = 0; bcc[i] != NULL; i++) {
		for (j = 0; shown[j] != NULL; j++)
			if (g_ascii_strcasecmp(shown[j], bcc[i]) == 0)
				break;
		if (shown[j] == NULL)
			bcc[n++] = bcc[i];
		else
			g_free(bcc[i]);
	}
	bcc[n] = NULL;
	g_strfreev(shown);
	return bcc;
}

char *
hd_msg_id(const struct hd_msg *m)
{
	const char *id = g_mime_message_get_message_id(m->msg);

	return id != NULL ? g_strdup(id) : NULL;
}

/* o as gmime writes it, with CRLF or LF line ends. */
GByteArray *
mime_write_object(GMimeObject *o, int crlf)
{
	GMimeFormatOptions *opt = g_mime_format_options_new();
	GMimeStream *s = g_mime_stream_mem_new();
	GByteArray *a;

	g_mime_format_options_set_newline_format(opt, crlf ?
	    GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX);
	g_mime_object_write_to_stream(o, opt, s);
	/* The stream's own array, not a copy of it. */
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
	g_object_unref(s);
	g_mime_format_options_free(opt);
	return a;
}

/* a's bytes as a string, a NUL added that *len does not count. */
char *
mime_take(GByteArray *a, size_t *len)
{
	*len = a->len;
	g_byte_array_append(a, (const guint8 *)"", 1);
	return (char *)g_byte_array_free(a, FALSE);
}

/*
 * The single From mailbox, normalised; NULL when there are none, several,
 * or several From fields: a sender that shows one address and is judged
 * by another (doc/DESIGN, attack class #13).
 */
char *
hd_msg_sender(const struct hd_msg *m)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(
	    GMIME_OBJECT(m->msg));
	GMimeHeader *h, *from = NULL;
	int i, n, fields = 0;

	n = g_mime_header_list_get_count(hl);
	for (i = 0; i < n; i++)
		if (g_ascii_strcasecmp(g_mime_header_get_name(h =
		    g_mime_header_list_get_header_at(hl, i)), "From") == 0) {
			from = h;
			fields++;
		}
	if (fields != 1)
		return NULL;
	return hd_addr_single(g_mime_header_get_raw_value(from));
}

