/*
 * mime.c: every MIME parse and write, through gmime.  The only file that
 * includes <gmime/gmime.h>.
 *
 * Outgoing mail (RFC 3156): the top-level entity is made 7-bit safe and
 * written with CRLF line ends; those exact bytes are what gets signed or
 * encrypted, and what is parsed back into the new multipart, so that what
 * a verifier reads is what was signed.
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "hdpgp.h"

struct hd_msg {
	GMimeMessage	*msg;
	int		 crlf;		/* the input's line ends */
};

static void
init_gmime(void)
{
	static int done;

	if (!done) {
		g_mime_init();
		done = 1;
	}
}

static GMimeObject *
parse_object(const char *buf, size_t len, int message)
{
	GMimeStream *s;
	GMimeParser *p;
	GObject *o;

	s = g_mime_stream_mem_new_with_buffer(buf, len);
	p = g_mime_parser_new_with_stream(s);
	o = message ? (GObject *)g_mime_parser_construct_message(p, NULL) :
	    (GObject *)g_mime_parser_construct_part(p, NULL);
	g_object_unref(p);
	g_object_unref(s);
	return (GMimeObject *)o;
}

int
hd_msg_parse(const char *buf, size_t len, struct hd_msg **out,
    struct hd_error *e)
{
	struct hd_msg *m;
	const char *nl;

	init_gmime();
	m = g_new0(struct hd_msg, 1);
	m->msg = (GMimeMessage *)parse_object(buf, len, 1);
	if (m->msg == NULL || g_mime_message_get_mime_part(m->msg) == NULL ||
	    g_mime_object_get_header_list(GMIME_OBJECT(m->msg)) == NULL ||
	    g_mime_header_list_get_count(g_mime_object_get_header_list(
	    GMIME_OBJECT(m->msg))) == 0) {
		hd_msg_free(m);
		return hd_error_set(e, EX_DATAERR, "input is not a mail "
		    "message");
	}
	nl = memchr(buf, '\n', len);
	m->crlf = nl != NULL && nl > buf && nl[-1] == '\r';
	*out = m;
	return 0;
}

void
hd_msg_free(struct hd_msg *m)
{
	if (m == NULL)
		return;
	if (m->msg != NULL)
		g_object_unref(m->msg);
	g_free(m);
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

char *
hd_msg_id(const struct hd_msg *m)
{
	const char *id = g_mime_message_get_message_id(m->msg);

	return id != NULL ? g_strdup(id) : NULL;
}

static int
has_unsafe_lines(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *s;
	GByteArray *a;
	const char *p, *end;
	int unsafe = 0;

	if (w == NULL)
		return 0;
	s = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, s);
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	p = (const char *)a->data;
	end = p + a->len;
	/*
	 * A line starting "From " is mangled by mbox stores, trailing blanks
	 * are dropped by MTAs: either breaks a signature (RFC 3156 §3).
	 */
	while (p < end && !unsafe) {
		const char *nl = memchr(p, '\n', end - p), *eol;

		eol = nl != NULL ? nl : end;
		if (eol - p >= 5 && memcmp(p, "From ", 5) == 0)
			unsafe = 1;
		if (eol > p && eol[-1] == '\r')
			eol--;
		if (eol > p && (eol[-1] == ' ' || eol[-1] == '\t'))
			unsafe = 1;
		p = nl != NULL ? nl + 1 : end;
	}
	g_object_unref(s);
	return unsafe;
}

/*
 * Every leaf made 7-bit safe: quoted-printable or base64 where needed,
 * attached messages included.  A signed or encrypted entity inside is
 * left byte for byte (RFC 3156 §6.1: re-encoding would break its
 * signature); *sealed tells that one was met.
 */
static void
make_7bit(GMimeObject *part, int *sealed)
{
	GMimePart *leaf;
	GMimeContentEncoding enc;
	int i, n;

	if (GMIME_IS_MULTIPART_SIGNED(part) ||
	    GMIME_IS_MULTIPART_ENCRYPTED(part)) {
		*sealed = 1;
		return;
	}
	if (GMIME_IS_MULTIPART(part)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(part));
		for (i = 0; i < n; i++)
			make_7bit(g_mime_multipart_get_part(
			    GMIME_MULTIPART(part), i), sealed);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(part)) {
		GMimeMessage *inner = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(part));

		if (inner != NULL && g_mime_message_get_mime_part(inner))
			make_7bit(g_mime_message_get_mime_part(inner), sealed);
		return;
	}
	if (!GMIME_IS_PART(part))
		return;
	leaf = GMIME_PART(part);
	enc = g_mime_part_get_content_encoding(leaf);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE)
		return;
	enc = g_mime_part_get_best_content_encoding(leaf,
	    GMIME_ENCODING_CONSTRAINT_7BIT);
	/* gmime answers "default" for plain ASCII text. */
	if (enc == GMIME_CONTENT_ENCODING_DEFAULT ||
	    enc == GMIME_CONTENT_ENCODING_7BIT)
		enc = has_unsafe_lines(leaf) ?
		    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE :
		    GMIME_CONTENT_ENCODING_7BIT;
	g_mime_part_set_content_encoding(leaf, enc);
}

static GByteArray *
write_object(GMimeObject *o, int crlf)
{
	GMimeFormatOptions *opt = g_mime_format_options_new();
	GMimeStream *s = g_mime_stream_mem_new();
	GByteArray *a;

	g_mime_format_options_set_newline_format(opt, crlf ?
	    GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX);
	g_mime_object_write_to_stream(o, opt, s);
	a = g_byte_array_new();
	g_byte_array_append(a, g_mime_stream_mem_get_byte_array(
	    GMIME_STREAM_MEM(s))->data, g_mime_stream_mem_get_byte_array(
	    GMIME_STREAM_MEM(s))->len);
	g_object_unref(s);
	g_mime_format_options_free(opt);
	return a;
}

static char *
take(GByteArray *a, size_t *len)
{
	*len = a->len;
	g_byte_array_append(a, (const guint8 *)"", 1);
	return (char *)g_byte_array_free(a, FALSE);
}

/*
 * gmime's quoted-printable encoder leaves a line-initial "From " alone;
 * mbox stores then turn it into ">From " and break the signature.  Every
 * such line is in a quoted-printable part (make_7bit saw to that) or in a
 * preamble, so "=46rom " is right, or harmless, wherever it stands.
 */
static GByteArray *
escape_from(GByteArray *a)
{
	GByteArray *out;
	guint i;

	out = g_byte_array_sized_new(a->len + 64);
	for (i = 0; i < a->len; i++) {
		if ((i == 0 || a->data[i - 1] == '\n') && a->len - i >= 5 &&
		    memcmp(a->data + i, "From ", 5) == 0) {
			g_byte_array_append(out, (const guint8 *)"=46", 3);
			continue;
		}
		g_byte_array_append(out, a->data + i, 1);
	}
	g_byte_array_free(a, TRUE);
	return out;
}

/*
 * Protected headers (RFC 9788, with draft "protected-headers=v1" readers in
 * mind): the real Subject and the addressing go inside, marked so.
 */
static void
protect_headers(struct hd_msg *m, GMimeObject *body)
{
	static const char *names[] = { "From", "To", "Cc", "Subject", "Date",
	    "Message-ID" };
	GMimeObject *top = GMIME_OBJECT(m->msg);
	const char *v;
	char *outer;
	size_t i;

	/* HP-Outer records each outer field as it will be sent (§2.2). */
	for (i = 0; i < G_N_ELEMENTS(names); i++) {
		if ((v = g_mime_object_get_header(top, names[i])) == NULL)
			continue;
		g_mime_object_set_header(body, names[i], v, NULL);
		outer = g_strdup_printf("%s: %s", names[i],
		    strcmp(names[i], "Subject") == 0 ? "[...]" : v);
		g_mime_object_append_header(body, "HP-Outer", outer, NULL);
		g_free(outer);
	}
	g_mime_object_set_content_type_parameter(body, "protected-headers",
	    "v1");
	g_mime_object_set_content_type_parameter(body, "hp", "cipher");
	g_mime_message_set_subject(m->msg, "[...]", NULL);
}

/*
 * The entity to sign or encrypt: the message's top-level entity, 7-bit
 * safe, with CRLF line ends (RFC 3156 §5 canonical form).
 */
int
hd_msg_body(struct hd_msg *m, int protect, char **buf, size_t *len,
    struct hd_error *e)
{
	GMimeObject *body = g_mime_message_get_mime_part(m->msg);
	GByteArray *a;
	int sealed = 0;

	if (body == NULL)
		return hd_error_set(e, EX_DATAERR, "message has no body");
	/*
	 * A message without MIME headers is text/plain (RFC 2045 §5.2); said
	 * so, its part gets the headers it needs once it is a part.
	 */
	if (g_mime_object_get_header(body, "Content-Type") == NULL)
		g_mime_object_set_header(body, "Content-Type",
		    "text/plain; charset=us-ascii", NULL);
	make_7bit(body, &sealed);
	if (protect)
		protect_headers(m, body);
	a = write_object(body, 1);
	/* A sealed entity's "From " lines are part of what it signed. */
	*buf = take(sealed ? a : escape_from(a), len);
	return 0;
}

static GMimePart *
text_part(const char *type, const char *subtype, const char *text,
    size_t len)
{
	GMimePart *p = g_mime_part_new_with_type(type, subtype);
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(text, len);
	GMimeDataWrapper *w;

	w = g_mime_data_wrapper_new_with_stream(s,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(p, w);
	g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_7BIT);
	g_object_unref(w);
	g_object_unref(s);
	return p;
}

static int
finish(struct hd_msg *m, GMimeObject *top, char **out, size_t *outlen)
{
	g_mime_message_set_mime_part(m->msg, top);
	g_object_unref(top);
	g_mime_object_set_header(GMIME_OBJECT(m->msg), "MIME-Version", "1.0",
	    NULL);
	*out = take(write_object(GMIME_OBJECT(m->msg), m->crlf), outlen);
	return 0;
}

/* RFC 3156 §5: multipart/signed over exactly the bytes that were signed. */
int
hd_msg_signed(struct hd_msg *m, const char *body, size_t bodylen,
    const char *sig, size_t siglen, const char *hash, char **out,
    size_t *outlen, struct hd_error *e)
{
	GMimeMultipart *mp;
	GMimeObject *content;
	GMimePart *sp;
	char *micalg;

	if ((content = parse_object(body, bodylen, 0)) == NULL)
		return hd_error_set(e, EX_SOFTWARE, "cannot re-read the "
		    "signed entity");
	mp = GMIME_MULTIPART(g_mime_multipart_signed_new());
	g_mime_multipart_set_boundary(mp, NULL);
	micalg = g_ascii_strdown(hash, -1);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(mp), "micalg",
	    micalg);
	g_free(micalg);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(mp), "protocol",
	    "application/pgp-signature");
	g_mime_multipart_set_prologue(mp, "This is an OpenPGP/MIME signed "
	    "message (RFC 4880 and 3156)");
	g_mime_multipart_add(mp, content);
	g_object_unref(content);
	sp = text_part("application", "pgp-signature", sig, siglen);
	g_mime_part_set_filename(sp, "signature.asc");
	g_mime_object_set_header(GMIME_OBJECT(sp), "Content-Description",
	    "OpenPGP digital signature", NULL);
	g_mime_multipart_add(mp, GMIME_OBJECT(sp));
	g_object_unref(sp);
	return finish(m, GMIME_OBJECT(mp), out, outlen);
}

/* RFC 3156 §4: the Version part, then the armored OpenPGP message. */
int
hd_msg_encrypted(struct hd_msg *m, const char *cipher, size_t len,
    char **out, size_t *outlen, struct hd_error *e)
{
	GMimeMultipart *mp;
	GMimePart *vp, *cp;

	(void)e;
	mp = GMIME_MULTIPART(g_mime_multipart_encrypted_new());
	g_mime_multipart_set_boundary(mp, NULL);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(mp), "protocol",
	    "application/pgp-encrypted");
	g_mime_multipart_set_prologue(mp, "This is an OpenPGP/MIME encrypted "
	    "message (RFC 4880 and 3156)");
	vp = text_part("application", "pgp-encrypted", "Version: 1\n", 11);
	g_mime_object_set_header(GMIME_OBJECT(vp), "Content-Description",
	    "PGP/MIME version identification", NULL);
	g_mime_multipart_add(mp, GMIME_OBJECT(vp));
	g_object_unref(vp);
	cp = text_part("application", "octet-stream", cipher, len);
	g_mime_object_set_disposition(GMIME_OBJECT(cp), "inline");
	g_mime_part_set_filename(cp, "encrypted.asc");
	g_mime_object_set_header(GMIME_OBJECT(cp), "Content-Description",
	    "OpenPGP encrypted message", NULL);
	g_mime_multipart_add(mp, GMIME_OBJECT(cp));
	g_object_unref(cp);
	return finish(m, GMIME_OBJECT(mp), out, outlen);
}
