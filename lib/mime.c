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

#include <errno.h>
#include <string.h>

#include <gmime/gmime.h>

#include "hdpgp-priv.h"
#include "mime.h"

struct hd_msg {
	GMimeMessage	*msg;
	GByteArray	*wrap;		/* raw, lent to gmime's parser */
	int		 crlf;		/* the input's line ends */
	const char	*raw;		/* the input, the caller's to keep */
	size_t		 rawlen;
	int		 modified;	/* parts replaced: write it anew */
	int		 outfd;		/* the result goes here, or -1: memory */
	GPtrArray	*kept;		/* buffers lent to gmime, ours to free */
	char		*ambiguous;	/* why parsers may disagree, or NULL */
	GMimeParserOptions *po;		/* the parser's, kept with msg */
	char		*warned;	/* what the parser reported */
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

/*
 * With lend set, gmime reads buf in place instead of a copy: the parts'
 * contents stay ranges of it, so buf must outlive the object, and
 * *lend is to be released with g_byte_array_free(*lend, FALSE) after
 * it.  For a 50 MB message that is 50 MB less at the peak.
 */
/*
 * po, when not NULL, has the parser report what it had to choose between
 * (mime-check.c).  gmime keeps po with the objects it makes and reads
 * their fields lazily, reporting then too: po must outlive them.
 */
static GMimeObject *
parse_stream(GMimeStream *s, int message, GMimeParserOptions *po)
{
	GMimeParser *p;
	GObject *o;

	p = g_mime_parser_new_with_stream(s);
	o = message ? (GObject *)g_mime_parser_construct_message(p, po) :
	    (GObject *)g_mime_parser_construct_part(p, po);
	g_object_unref(p);
	return (GMimeObject *)o;
}

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
	o = parse_stream(s, message, po);
	g_object_unref(s);
	return o;
}

/*
 * buf, from now on m's, read in place by gmime (no copy) and freed with
 * m: what we sign or encrypt is not copied again to be written.
 */
static GMimeStream *
lend(struct hd_msg *m, char *buf, size_t len)
{
	GByteArray *a = g_byte_array_new_take((guint8 *)buf, len);
	GMimeStream *s = g_mime_stream_mem_new_with_byte_array(a);

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
	if (m->kept == NULL)
		m->kept = g_ptr_array_new();
	g_ptr_array_add(m->kept, a);
	return s;
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
	end = a->len > 0 ? p + a->len : p;	/* empty: data may be NULL */
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
	/* A part without content (a fuzzer made one) has nothing to encode. */
	if (!GMIME_IS_PART(part) || g_mime_part_get_content(GMIME_PART(part)) ==
	    NULL)
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
	/* The stream's own array, not a copy of it. */
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
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
	const guint8 *p, *end, *line;
	size_t n = 0;

	if (a->len == 0)	/* data may be NULL */
		return a;
	end = a->data + a->len;
	for (line = a->data; line < end; line = p != NULL ? p + 1 : end) {
		if (end - line >= 5 && memcmp(line, "From ", 5) == 0)
			n++;
		p = memchr(line, '\n', end - line);
	}
	if (n == 0)
		return a;
	out = g_byte_array_sized_new(a->len + 2 * n + 1);
	for (line = a->data; line < end; line = p) {
		if (end - line >= 5 && memcmp(line, "From ", 5) == 0) {
			g_byte_array_append(out, (const guint8 *)"=46", 3);
			line++;
		}
		p = memchr(line, '\n', end - line);
		p = p != NULL ? p + 1 : end;
		g_byte_array_append(out, line, p - line);
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
		return hd_error_set(e, HD_E_DATA, "message has no body");
	/*
	 * A message without MIME headers is text/plain (RFC 2045 §5.2); said
	 * so, its part gets the headers it needs once it is a part.
	 */
	if (g_mime_object_get_header(body, "Content-Type") == NULL)
		g_mime_object_set_header(body, "Content-Type",
		    "text/plain; charset=us-ascii", NULL);
	/*
	 * RFC 2045 wants a Content-Type in US-ASCII; gmime, told to add a
	 * parameter to one with 8-bit bytes, writes without end.
	 */
	if (protect && !g_str_is_ascii(g_mime_object_get_header(body,
	    "Content-Type")))
		return hd_error_set(e, HD_E_DATA, "the message's "
		    "Content-Type holds 8-bit bytes");
	make_7bit(body, &sealed);
	if (protect)
		protect_headers(m, body);
	a = write_object(body, 1);
	/* A sealed entity's "From " lines are part of what it signed. */
	*buf = take(sealed ? a : escape_from(a), len);
	return 0;
}

static GMimePart *
stream_part(const char *type, const char *subtype, GMimeStream *s)
{
	GMimePart *p = g_mime_part_new_with_type(type, subtype);
	GMimeDataWrapper *w;

	w = g_mime_data_wrapper_new_with_stream(s,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(p, w);
	g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_7BIT);
	g_object_unref(w);
	return p;
}

static GMimePart *
text_part(const char *type, const char *subtype, const char *text,
    size_t len)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(text, len);
	GMimePart *p = stream_part(type, subtype, s);

	g_object_unref(s);
	return p;
}

static int
finish(struct hd_msg *m, GMimeObject *top, char **out, size_t *outlen,
    struct hd_error *e)
{
	GMimeFormatOptions *opt;
	GMimeStream *s, *fs;
	gint64 n;

	g_mime_message_set_mime_part(m->msg, top);
	g_object_unref(top);
	g_mime_object_set_header(GMIME_OBJECT(m->msg), "MIME-Version", "1.0",
	    NULL);
	if (m->outfd < 0) {
		*out = take(write_object(GMIME_OBJECT(m->msg), m->crlf),
		    outlen);
		return 0;
	}
	*out = NULL;
	opt = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(opt, m->crlf ?
	    GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX);
	/*
	 * A pipe stream, not a file stream: gmime's file stream fsyncs on
	 * flush, a millisecond or two a message that the caller decides
	 * about.  gmime writes a header field at a time: buffered.
	 */
	fs = g_mime_stream_pipe_new(m->outfd);
	g_mime_stream_pipe_set_owner(GMIME_STREAM_PIPE(fs), FALSE);
	s = g_mime_stream_buffer_new(fs, GMIME_STREAM_BUFFER_BLOCK_WRITE);
	n = g_mime_object_write_to_stream(GMIME_OBJECT(m->msg), opt, s);
	if (n >= 0 && g_mime_stream_flush(s) != 0)
		n = -1;
	g_object_unref(s);
	g_object_unref(fs);
	g_mime_format_options_free(opt);
	if (n < 0)
		return hd_error_set(e, HD_E_IO, "output: %s",
		    strerror(errno));
	*outlen = (size_t)n;
	return 0;
}

/*
 * RFC 3156 §5: multipart/signed over exactly the bytes that were signed.
 * body becomes m's.
 */
int
hd_msg_signed(struct hd_msg *m, char *body, size_t bodylen,
    const char *sig, size_t siglen, const char *hash, char **out,
    size_t *outlen, struct hd_error *e)
{
	GMimeMultipart *mp;
	GMimeObject *content;
	GMimeStream *s;
	GMimePart *sp;
	char *micalg;

	s = lend(m, body, bodylen);
	content = parse_stream(s, 0, NULL);
	g_object_unref(s);
	if (content == NULL)
		return hd_error_set(e, HD_E_SOFTWARE, "cannot re-read the "
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
	return finish(m, GMIME_OBJECT(mp), out, outlen, e);
}

/*
 * RFC 3156 §4: the Version part, then the armored OpenPGP message: cipher
 * (which becomes m's), or with cipher NULL the file cfd from offset 0.
 */
int
hd_msg_encrypted(struct hd_msg *m, char *cipher, size_t len, int cfd,
    char **out, size_t *outlen, struct hd_error *e)
{
	GMimeMultipart *mp;
	GMimePart *vp, *cp;
	GMimeStream *s;

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
	if (cipher != NULL)
		s = lend(m, cipher, len);
	else {
		s = g_mime_stream_fs_new_with_bounds(cfd, 0, (gint64)len);
		g_mime_stream_fs_set_owner(GMIME_STREAM_FS(s), FALSE);
	}
	cp = stream_part("application", "octet-stream", s);
	g_object_unref(s);
	g_mime_object_set_disposition(GMIME_OBJECT(cp), "inline");
	g_mime_part_set_filename(cp, "encrypted.asc");
	g_mime_object_set_header(GMIME_OBJECT(cp), "Content-Description",
	    "OpenPGP encrypted message", NULL);
	g_mime_multipart_add(mp, GMIME_OBJECT(cp));
	g_object_unref(cp);
	return finish(m, GMIME_OBJECT(mp), out, outlen, e);
}

/*
 * Incoming mail.  The raw input stays with the message: what a signature
 * covers is taken from those bytes, never from a re-serialisation.
 */

/* A delimiter line "--boundary" at p, ending in blanks and a line end. */
static int
is_delimiter(const char *p, const char *end, const char *b, size_t blen)
{
	const char *q = p + 2 + blen;
	int kind = 1;

	if (end - p < (ptrdiff_t)(2 + blen) || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, b, blen) != 0)
		return 0;
	/* 1: a delimiter, 2: the close delimiter; blanks may follow. */
	if (q + 1 < end && q[0] == '-' && q[1] == '-') {
		q += 2;
		kind = 2;
	}
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	return q == end || *q == '\n' || *q == '\r' ? kind : 0;
}

/*
 * RFC 3156 §5 and RFC 2046 §5.1.1: the first body part is everything
 * after the line end of the first delimiter line, up to the line end
 * (CRLF or LF) that belongs to the next delimiter.  Returned with CRLF
 * line ends, the form that was signed.
 */
static char *
first_part_raw(const char *raw, size_t len, const char *boundary,
    size_t *outlen)
{
	const char *p, *q, *end = raw + len, *start = NULL, *stop = NULL;
	size_t blen = strlen(boundary), n;
	int opens = 0, closes = 0, k;
	char *out, *o;

	/*
	 * RFC 2046 keeps a boundary out of everything it encloses, so a
	 * multipart/signed has exactly two delimiters and one close
	 * delimiter in the whole message.  Any other count is a message
	 * built to show one text and have another verified (a quoted copy
	 * of the boundary, a part cut short): refuse it.
	 */
	for (p = raw; p < end; p = memchr(p, '\n', end - p), p = p ? p + 1 :
	    end) {
		if ((k = is_delimiter(p, end, boundary, blen)) == 0)
			continue;
		if (k == 2) {
			closes++;
			continue;
		}
		if (++opens == 1) {
			start = memchr(p, '\n', end - p);
			start = start != NULL ? start + 1 : end;
		} else if (opens == 2) {
			stop = p - 1;	/* the LF before the delimiter */
			if (stop > start && stop[-1] == '\r')
				stop--;
		}
	}
	if (opens != 2 || closes != 1 || stop < start)
		return NULL;
	/* CRLF canonical (RFC 3156 §5), sized once: a line at a time. */
	n = 0;
	for (p = start; p < stop && (q = memchr(p, '\n', stop - p)) != NULL;
	    p = q + 1)
		n += q == start || q[-1] != '\r';
	out = o = g_malloc(stop - start + n + 1);
	for (p = start; p < stop; p = q + 1) {
		if ((q = memchr(p, '\n', stop - p)) == NULL) {
			memcpy(o, p, stop - p);
			o += stop - p;
			break;
		}
		memcpy(o, p, q - p);
		o += q - p;
		if (q == start || q[-1] != '\r')
			*o++ = '\r';
		*o++ = '\n';
	}
	*o = '\0';
	*outlen = o - out;
	return out;
}

static char *
decoded(GMimeObject *o, size_t *len)
{
	GMimeDataWrapper *w;
	GMimeStream *s;
	GByteArray *a;

	if (!GMIME_IS_PART(o) || (w = g_mime_part_get_content(
	    GMIME_PART(o))) == NULL) {
		*len = 0;
		return g_strdup("");
	}
	/* The stream's own array, not a copy of it. */
	s = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, s);
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
	g_object_unref(s);
	return take(a, len);
}

/*
 * The content of a part whose transfer encoding changes nothing (7bit,
 * 8bit, binary) as it stands in the message read in place: no copy of
 * a large ciphertext.  NULL when it is anything else.
 */
static const char *
view(const struct hd_msg *m, GMimeObject *o, size_t *len)
{
	GMimeDataWrapper *w;
	GMimeStream *s;
	GByteArray *a;
	gint64 end;

	if (m->wrap == NULL || !GMIME_IS_PART(o) ||
	    (w = g_mime_part_get_content(GMIME_PART(o))) == NULL)
		return NULL;
	switch (g_mime_data_wrapper_get_encoding(w)) {
	case GMIME_CONTENT_ENCODING_DEFAULT:
	case GMIME_CONTENT_ENCODING_7BIT:
	case GMIME_CONTENT_ENCODING_8BIT:
	case GMIME_CONTENT_ENCODING_BINARY:
		break;
	default:
		return NULL;
	}
	s = g_mime_data_wrapper_get_stream(w);
	if (s == NULL || !GMIME_IS_STREAM_MEM(s) ||
	    (a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s))) !=
	    m->wrap)
		return NULL;
	end = s->bound_end < 0 ? (gint64)a->len : s->bound_end;
	if (s->bound_start < 0 || end < s->bound_start || end > (gint64)a->len)
		return NULL;
	*len = (size_t)(end - s->bound_start);
	return (const char *)a->data + s->bound_start;
}

static const char *armor_start(const char *, size_t, const char *);
/*
 * The walk over an incoming message.  Plaintext may be spliced into the
 * message only where the message *is* the encrypted content (no
 * decryption oracle, EFAIL): every leaf of the whole message, those
 * inside a signed part and a forwarded message counted, is an encrypted
 * file or a text that holds nothing but one PGP MESSAGE armor, and none
 * of them lies inside a multipart/signed or a message/rfc822.  Blank
 * leaves carry nothing and do not count.
 */
struct walk {
	const struct hd_msg *m;
	GPtrArray	*found;
	int		 depth;
	int		 leaves;	/* leaf parts with content */
	int		 sealed;	/* of those, encrypted ones */
	int		 enclosed;	/* inside multipart/signed or rfc822 */
	int		 in_signed;	/* inside a signed part: report only */
	int		 capped;	/* MAX_FOUND reached */
};

/*
 * Work per message is bounded by the number of entities hdpgp acts on,
 * not by what a sender put in: each costs a gpg run.
 */
#define MAX_FOUND	32

/*
 * The tag of the first OpenPGP packet, binary or armored (its first
 * base64 quantum), or -1.  An encrypted message starts with a session key
 * packet (1 or 3); a signed one with a signature, one-pass signature,
 * compressed or literal packet.
 */
static int
first_tag(const char *p, size_t len)
{
	const char *a, *end = p + len;
	unsigned char c, buf[3];
	char quad[5];
	size_t n = 0;
	gint state = 0;
	guint save = 0;

	if ((a = armor_start(p, len, "-----BEGIN PGP MESSAGE-----")) != NULL ||
	    (a = armor_start(p, len, "-----BEGIN PGP SIGNATURE-----")) != NULL) {
		/* Past the armor header lines, up to the empty line. */
		do {
			a = memchr(a, '\n', end - a);
			a = a != NULL ? a + 1 : end;
		} while (a < end && *a != '\n' && !(*a == '\r' &&
		    a + 1 < end && a[1] == '\n'));
		for (; a < end && n < 4; a++)
			if (g_ascii_isalnum(*a) || *a == '+' || *a == '/')
				quad[n++] = *a;
		if (n < 4)
			return -1;
		quad[4] = '\0';
		if (g_base64_decode_step(quad, 4, buf, &state, &save) < 1)
			return -1;
		c = buf[0];
	} else if (len > 0)
		c = (unsigned char)p[0];
	else
		return -1;
	if (!(c & 0x80))
		return -1;
	return c & 0x40 ? c & 0x3f : (c >> 2) & 0x0f;
}

static int
is_pgp_message(const char *p, size_t len)
{
	int tag = first_tag(p, len);

	return tag == 1 || tag == 3;
}

static int
encrypted_name(const char *name)
{
	return name != NULL && (g_str_has_suffix(name, ".pgp") ||
	    g_str_has_suffix(name, ".gpg") || g_str_has_suffix(name, ".asc") ||
	    g_str_has_suffix(name, ".PGP") || g_str_has_suffix(name, ".GPG") ||
	    g_str_has_suffix(name, ".ASC"));
}

/* NULL, once MAX_FOUND entities are found: one error says so. */
static struct hd_found *
add_found(struct walk *w, int kind, int whole)
{
	struct hd_found *f;

	if (w->capped)
		return NULL;
	f = g_new0(struct hd_found, 1);
	if (w->found->len == MAX_FOUND) {
		w->capped = 1;
		f->kind = HD_FOUND_ERROR;
		f->error = g_strdup_printf("more than %d signed or encrypted "
		    "parts", MAX_FOUND);
		g_ptr_array_add(w->found, f);
		return NULL;
	}
	f->kind = kind;
	f->whole = whole;
	g_ptr_array_add(w->found, f);
	return f;
}

static int
type_is(GMimeObject *o, const char *type, const char *sub)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);

	return ct != NULL && g_mime_content_type_is_type(ct, type, sub);
}

static void walk(struct walk *, GMimeObject *, int);

/* Inside a signed part, nothing is opened: what is encrypted is named. */
static void
walk_enclosed(struct walk *w, GMimeObject *o, int in_signed)
{
	w->enclosed++;
	w->in_signed += in_signed;
	walk(w, o, 0);
	w->in_signed -= in_signed;
	w->enclosed--;
}

static void
check_signed(struct walk *w, GMimeObject *o, int whole)
{
	GMimeMultipart *mp = GMIME_MULTIPART(o);
	const char *proto, *micalg, *b;
	struct hd_found *f = NULL;

	/* The signature part is content beside anything encrypted. */
	w->leaves++;
	if (!w->in_signed && (f = add_found(w, HD_FOUND_SIGNED, whole)) ==
	    NULL)
		return;
	if (g_mime_multipart_get_count(mp) > 0)
		walk_enclosed(w, g_mime_multipart_get_part(mp, 0), 1);
	if (f == NULL)
		return;
	proto = g_mime_object_get_content_type_parameter(o, "protocol");
	micalg = g_mime_object_get_content_type_parameter(o, "micalg");
	/* The boundary given, not one gmime would make up. */
	b = g_mime_object_get_content_type_parameter(o, "boundary");
	if (g_mime_multipart_get_count(mp) != 2)
		f->error = g_strdup_printf("multipart/signed with %d parts",
		    g_mime_multipart_get_count(mp));
	else if (proto == NULL ||
	    g_ascii_strcasecmp(proto, "application/pgp-signature") != 0)
		f->error = g_strdup("multipart/signed without the protocol "
		    "application/pgp-signature");
	else if (micalg == NULL || g_ascii_strncasecmp(micalg, "pgp-", 4) != 0)
		f->error = g_strdup("multipart/signed without a pgp- micalg");
	else if (!type_is(g_mime_multipart_get_part(mp, 1), "application",
	    "pgp-signature"))
		f->error = g_strdup("second part is not "
		    "application/pgp-signature");
	else if (b == NULL || (f->data = first_part_raw(w->m->raw,
	    w->m->rawlen, b, &f->len)) == NULL)
		f->error = g_strdup("the signed part's boundary is missing "
		    "or repeated");
	else
		f->sig = decoded(g_mime_multipart_get_part(mp, 1), &f->siglen);
}

static void
check_encrypted(struct walk *w, GMimeObject *o, int whole)
{
	GMimeMultipart *mp = GMIME_MULTIPART(o);
	const char *proto;
	struct hd_found *f;

	/* Never opened beside other leaves, nor counted as a sealed one. */
	w->leaves++;
	if ((f = add_found(w, HD_FOUND_ENCRYPTED, whole && !w->enclosed)) ==
	    NULL)
		return;
	proto = g_mime_object_get_content_type_parameter(o, "protocol");
	if (g_mime_multipart_get_count(mp) != 2)
		f->error = g_strdup_printf("multipart/encrypted with %d parts",
		    g_mime_multipart_get_count(mp));
	else if (proto == NULL ||
	    g_ascii_strcasecmp(proto, "application/pgp-encrypted") != 0)
		f->error = g_strdup("multipart/encrypted without the protocol "
		    "application/pgp-encrypted");
	else if ((f->data = (char *)(uintptr_t)view(w->m,
	    g_mime_multipart_get_part(mp, 1), &f->len)) != NULL)
		f->borrowed = 1;
	else
		f->data = decoded(g_mime_multipart_get_part(mp, 1), &f->len);
}

/* Only blank space in [p, end)? */
static int
blank(const char *p, const char *end)
{
	for (; p < end; p++)
		if (!g_ascii_isspace(*p))
			return 0;
	return 1;
}

static const char *
armor_start(const char *text, size_t len, const char *line)
{
	const char *p = text, *end = text + len;
	size_t n = strlen(line);

	for (; p != NULL && p + n <= end; p = memchr(p, '\n', end - p),
	    p = p ? p + 1 : NULL)
		if (memcmp(p, line, n) == 0)
			return p;
	return NULL;
}

static void
check_text(struct walk *w, GMimeObject *o, int whole)
{
	static const char *ends[] = { "-----END PGP SIGNATURE-----",
	    "-----END PGP MESSAGE-----" };
	static const char *begins[] = { "-----BEGIN PGP SIGNED MESSAGE-----",
	    "-----BEGIN PGP MESSAGE-----" };
	static const int kinds[] = { HD_FOUND_CLEARSIGNED, HD_FOUND_ARMORED };
	struct hd_found *f;
	const char *b, *e, *end;
	char *text;
	size_t len, i;
	int kind, only;

	text = decoded(o, &len);
	end = text + len;
	if (blank(text, end)) {
		g_free(text);
		return;
	}
	w->leaves++;
	for (i = 0; i < 2; i++) {
		if ((b = armor_start(text, len, begins[i])) == NULL)
			continue;
		e = armor_start(b, end - b, ends[i]);
		e = e != NULL ? e + strlen(ends[i]) : end;
		/* A PGP MESSAGE that is only signed is verified, not
		 * called encrypted (SECURITY.md #20). */
		kind = kinds[i];
		if (kind == HD_FOUND_ARMORED && first_tag(b, e - b) != 1 &&
		    first_tag(b, e - b) != 3)
			kind = HD_FOUND_CLEARSIGNED;
		if (kind == HD_FOUND_CLEARSIGNED && w->in_signed)
			break;
		only = blank(text, b) && blank(e, end);
		if ((f = add_found(w, kind, whole && only && !w->enclosed)) ==
		    NULL)
			break;
		/* Text after a NUL is shown by some readers, not others. */
		if (memchr(text, '\0', len) != NULL) {
			f->error = g_strdup("ambiguous MIME: a NUL in a text "
			    "part");
			break;
		}
		f->data = g_strndup(b, e - b);
		f->len = e - b;
		if (kind == HD_FOUND_ARMORED && only && !w->enclosed) {
			f->where = o;
			w->sealed++;
		}
		break;
	}
	g_free(text);
}

/*
 * A leaf: an encrypted file (by name and content, as Enigmail sends
 * them), or text with inline armor.  Any other leaf is content.
 */
static void
check_leaf(struct walk *w, GMimeObject *o, int whole)
{
	const char *name = g_mime_part_get_filename(GMIME_PART(o));
	struct hd_found *f;
	char *data;
	size_t len;

	if (encrypted_name(name) && !type_is(o, "application",
	    "pgp-signature") && !type_is(o, "application", "pgp-keys")) {
		data = decoded(o, &len);
		if (is_pgp_message(data, len)) {
			w->leaves++;
			if ((f = add_found(w, HD_FOUND_ATTACHMENT, 0)) == NULL) {
				g_free(data);
				return;
			}
			f->data = data;
			f->len = len;
			if (!w->enclosed) {
				f->where = o;
				w->sealed++;
			}
			return;
		}
		g_free(data);
	}
	if (type_is(o, "text", "*"))
		check_text(w, o, whole);
	else
		w->leaves++;
}

/*
 * A file and its detached signature side by side, "x" and "x.sig" or
 * "x.asc", as Enigmail's inline mode sends them: verified over the
 * file's decoded bytes, covering that part only.  The files are found by
 * name in a table: linear in the number of parts.
 */
static void
pair_signatures(struct walk *w, GMimeMultipart *mp)
{
	GHashTable *byname = g_hash_table_new(g_str_hash, g_str_equal);
	int i, n = g_mime_multipart_get_count(mp);

	for (i = 0; i < n; i++) {
		GMimeObject *dp = g_mime_multipart_get_part(mp, i);
		const char *dn;

		if (GMIME_IS_PART(dp) && (dn = g_mime_part_get_filename(
		    GMIME_PART(dp))) != NULL &&
		    !g_hash_table_contains(byname, dn))
			g_hash_table_insert(byname, (gpointer)(uintptr_t)dn, dp);
	}
	for (i = 0; i < n && !w->capped; i++) {
		GMimeObject *sp = g_mime_multipart_get_part(mp, i), *dp;
		struct hd_found *f;
		const char *name;
		char *sig, *base;
		size_t siglen;

		if (!GMIME_IS_PART(sp) || (name = g_mime_part_get_filename(
		    GMIME_PART(sp))) == NULL || strlen(name) < 5 ||
		    (!g_str_has_suffix(name, ".sig") &&
		    !g_str_has_suffix(name, ".asc")))
			continue;
		base = g_strndup(name, strlen(name) - 4);
		dp = g_hash_table_lookup(byname, base);
		g_free(base);
		if (dp == NULL || dp == sp)
			continue;
		sig = decoded(sp, &siglen);
		if (first_tag(sig, siglen) != 2 ||
		    (f = add_found(w, HD_FOUND_SIGNED, 0)) == NULL) {
			g_free(sig);
			continue;
		}
		f->data = decoded(dp, &f->len);
		f->sig = sig;
		f->siglen = siglen;
	}
	g_hash_table_destroy(byname);
}

#define MAX_DEPTH	64

static void
walk(struct walk *w, GMimeObject *o, int whole)
{
	int i, n;

	if (++w->depth > MAX_DEPTH) {
		struct hd_found *f = add_found(w, HD_FOUND_ERROR, 0);

		if (f != NULL)
			f->error = g_strdup("MIME structure nested too deep");
		w->leaves++;
		w->depth--;
		return;
	}
	if (GMIME_IS_MULTIPART_SIGNED(o))
		check_signed(w, o, whole);
	else if (GMIME_IS_MULTIPART_ENCRYPTED(o))
		check_encrypted(w, o, whole);
	else if (GMIME_IS_MULTIPART(o)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
		/* A part among others is not the whole message. */
		for (i = 0; i < n; i++)
			walk(w, g_mime_multipart_get_part(GMIME_MULTIPART(o),
			    i), whole && n == 1);
		if (!w->in_signed)
			pair_signatures(w, GMIME_MULTIPART(o));
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *inner = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(o));

		/* A forwarded message is never the message itself. */
		if (inner != NULL && g_mime_message_get_mime_part(inner))
			walk_enclosed(w, g_mime_message_get_mime_part(inner),
			    0);
		else
			w->leaves++;
	} else if (GMIME_IS_PART(o))
		check_leaf(w, o, whole);
	w->depth--;
}

/* Every signed or encrypted entity of the message, with its coverage. */
int
hd_msg_find(const struct hd_msg *m, struct hd_found ***found, size_t *n)
{
	struct walk w;
	int all;
	guint i;

	memset(&w, 0, sizeof(w));
	w.m = m;
	w.found = g_ptr_array_new();
	walk(&w, g_mime_message_get_mime_part(m->msg), 1);
	/*
	 * Parts are opened where they stand only when every leaf with
	 * content is encrypted: no cleartext sibling for an attacker to
	 * wrap around the plaintext.  Inline armor that is the whole
	 * message is opened whole instead.
	 */
	all = w.leaves > 0 && w.sealed == w.leaves;
	for (i = 0; i < w.found->len; i++) {
		struct hd_found *f = w.found->pdata[i];

		if (f->where == NULL || !all || (f->kind == HD_FOUND_ARMORED &&
		    f->whole))
			continue;
		f->in_place = 1;
		f->whole = 1;
	}
	*n = w.found->len;
	*found = (struct hd_found **)g_ptr_array_free(w.found, FALSE);
	return 0;
}

void
hd_found_free(struct hd_found **found, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!found[i]->borrowed)
			g_free(found[i]->data);
		g_free(found[i]->sig);
		g_free(found[i]->error);
		g_free(found[i]);
	}
	g_free(found);
}

/*
 * The single From mailbox, normalised; NULL when there are none, several,
 * or several From fields (SECURITY.md #13).
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

static int
replace_in(GMimeObject *tree, GMimeObject *old, GMimeObject *new)
{
	GMimeMultipart *mp;
	int i, n;

	if (!GMIME_IS_MULTIPART(tree))
		return 0;
	mp = GMIME_MULTIPART(tree);
	n = g_mime_multipart_get_count(mp);
	for (i = 0; i < n; i++) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);

		if (c == old) {
			g_object_unref(g_mime_multipart_replace(mp, i, new));
			return 1;
		}
		if (replace_in(c, old, new))
			return 1;
	}
	return 0;
}

/*
 * Put plaintext where an encrypted part stood: an encrypted file becomes
 * the file it holds (its name without .pgp, .gpg or .asc), as an
 * attachment; inline armor becomes its text.
 */
void
hd_msg_replace(struct hd_msg *m, const struct hd_found *f,
    const char *plain, size_t len)
{
	GMimeObject *old = f->where;
	GMimePart *p;
	GMimeStream *s;
	GMimeDataWrapper *w;
	char *name = NULL, *raw;
	const char *charset;

	if (f->kind == HD_FOUND_ATTACHMENT) {
		/* The sender's file name less .pgp, safe to show and save. */
		raw = g_strdup(g_mime_part_get_filename(GMIME_PART(old)));
		if (raw != NULL && strlen(raw) > 4)
			raw[strlen(raw) - 4] = '\0';
		name = hd_sanitize_filename(raw);
		g_free(raw);
		p = g_mime_part_new_with_type("application", "octet-stream");
		g_mime_object_set_disposition(GMIME_OBJECT(p), "attachment");
		g_mime_part_set_filename(p, name);
	} else {
		p = g_mime_part_new_with_type("text", "plain");
		/* The sender's charset when it is a name, else UTF-8. */
		charset = g_mime_object_get_content_type_parameter(old,
		    "charset");
		if (charset == NULL || *charset == '\0' || strspn(charset,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_.:+") != strlen(charset))
			charset = "utf-8";
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(p),
		    "charset", charset);
	}
	s = g_mime_stream_mem_new_with_buffer(plain, len);
	w = g_mime_data_wrapper_new_with_stream(s,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(p, w);
	/*
	 * Base64 for text too: plaintext is the sender's, and a line of it
	 * that reads as the message's boundary would start a part of its
	 * own choosing (an HTML part beside another part's plaintext).
	 */
	g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_BASE64);
	if (g_mime_message_get_mime_part(m->msg) == old)
		g_mime_message_set_mime_part(m->msg, GMIME_OBJECT(p));
	else
		replace_in(g_mime_message_get_mime_part(m->msg), old,
		    GMIME_OBJECT(p));
	m->modified = 1;
	g_object_unref(w);
	g_object_unref(s);
	g_object_unref(p);
	g_free(name);
}

/*
 * The text around the parts of every multipart (prologue, epilogue) goes
 * when plaintext was put in: a sender could put text there that some
 * reader shows beside it.
 */
static void
clear_prose(GMimeObject *o, int depth)
{
	int i, n;

	if (!GMIME_IS_MULTIPART(o) || depth > 64)
		return;
	g_mime_multipart_set_prologue(GMIME_MULTIPART(o), NULL);
	g_mime_multipart_set_epilogue(GMIME_MULTIPART(o), NULL);
	n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
	for (i = 0; i < n; i++)
		clear_prose(g_mime_multipart_get_part(GMIME_MULTIPART(o), i),
		    depth + 1);
}

/* The line end of the input, for what we add to it. */
static const char *
newline(const struct hd_msg *m)
{
	return m->crlf ? "\r\n" : "\n";
}

/* Where the header block ends (after its last line end), and the body. */
static size_t
header_block(const char *raw, size_t len, size_t *body)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (i + 1 < len && raw[i + 1] == '\n') {
			*body = i + 2;
			return i + 1;
		}
		if (i + 2 < len && raw[i + 1] == '\r' && raw[i + 2] == '\n') {
			*body = i + 3;
			return i + 1;
		}
	}
	*body = len;
	return len;
}

/*
 * The same for a decrypted entity, which may have no fields at all (RFC
 * 2045: then it is text/plain): when its first line is blank or no
 * field, everything is body.
 */
static size_t
entity_header_block(const char *raw, size_t len, size_t *body)
{
	size_t i;

	for (i = 0; i < len && raw[i] != ':' && raw[i] != '\n'; i++)
		if (raw[i] <= ' ' || raw[i] > '~')
			break;
	if (i == 0 || i == len || raw[i] != ':') {
		*body = len > 0 && raw[0] == '\n' ? 1 : len > 1 &&
		    raw[0] == '\r' && raw[1] == '\n' ? 2 : 0;
		return 0;
	}
	return header_block(raw, len, body);
}

static int
listed(const char *name, size_t nlen, const char *const *names)
{
	for (; names != NULL && *names != NULL; names++)
		if (strlen(*names) == nlen &&
		    g_ascii_strncasecmp(name, *names, nlen) == 0)
			return 1;
	return 0;
}

/* Lines with the input's line ends. */
static void
append_lines(GString *s, const char *text, size_t len, const char *nl)
{
	const char *p, *end = text + len;

	for (p = text; p < end; p++) {
		if (*p == '\r' && p + 1 < end && p[1] == '\n')
			continue;
		if (*p == '\n')
			g_string_append(s, nl);
		else
			g_string_append_c(s, *p);
	}
}

/*
 * s, then text with the input's line ends: into s, or with fd >= 0 to fd
 * a megabyte at a time (s is emptied).  -1 on a write error.
 */
static int
put_lines(int fd, GString *s, const char *text, size_t len, const char *nl,
    size_t *written)
{
	const char *p = text, *end = text + len, *cut;

	if (fd < 0) {
		append_lines(s, text, len, nl);
		return 0;
	}
	while (p < end || s->len > 0) {
		/* Cut after a line end, so a CRLF is never split. */
		cut = end - p > (1 << 20) ? p + (1 << 20) : end;
		if (cut < end && (cut = memchr(cut, '\n', end - cut)) != NULL)
			cut++;
		else
			cut = end;
		append_lines(s, p, cut - p, nl);
		if (hd_write_all(fd, s->str, s->len) != 0)
			return -1;
		*written += s->len;
		explicit_bzero(s->str, s->len);
		g_string_truncate(s, 0);
		p = cut;
	}
	return 0;
}

/*
 * The message with our verdict fields first (stamps, "Name: value"),
 * every X-Hdpgp-* field of the input's top level removed, the fields
 * named in drop removed, the fields of add appended, and, when body is
 * set, that entity in place of the original body and its Content-*
 * fields.  Everything else is the input byte for byte.
 */
/*
 * A header field as hdpgp writes it, with the output's line ends: a CR
 * that ends no line and a NUL become a space, so that no reader can
 * split the field in two (such a message is refused as ambiguous too,
 * mime-check.c; this is the output's own guarantee).
 */
static void
append_field(GString *s, const char *p, size_t len, const char *nl)
{
	const char *end = p + len;

	for (; p < end; p++) {
		if (*p == '\r' && p + 1 < end && p[1] == '\n')
			continue;
		if (*p == '\n')
			g_string_append(s, nl);
		else if (*p == '\r' || *p == '\0')
			g_string_append_c(s, ' ');
		else
			g_string_append_c(s, *p);
	}
}

/* RFC 5322 §3.6.8: a name of printable US-ASCII right before the colon. */
static int
is_field(const char *p, const char *colon)
{
	if (colon == NULL || colon == p)
		return 0;
	for (; p < colon; p++)
		if (*p < 33 || *p > 126)
			return 0;
	return 1;
}

/*
 * Copies the header fields of [p, end) that keep() allows.  A line that
 * is no field ("Subject : x", no colon at all) ends the header for some
 * readers and not for others: it goes on as a fold of the field before,
 * so that every reader sees it there.
 */
static void
copy_fields(GString *s, const char *p, const char *end,
    int (*keep)(const char *, size_t, const char *const *),
    const char *const *names, const char *nl)
{
	const char *q, *colon;
	int kept = 0;

	while (p < end) {
		/* One field: its line and the continuation lines. */
		q = p;
		do {
			q = memchr(q, '\n', end - q);
			q = q != NULL ? q + 1 : end;
		} while (q < end && (*q == ' ' || *q == '\t'));
		colon = memchr(p, ':', q - p);
		if (!is_field(p, colon)) {
			if (kept) {
				g_string_append_c(s, ' ');
				append_field(s, p, q - p, nl);
			}
		} else if ((kept = keep(p, colon - p, names)))
			append_field(s, p, q - p, nl);
		p = q;
	}
}

static int
prefixed(const char *name, size_t nlen, const char *prefix)
{
	return nlen >= strlen(prefix) &&
	    g_ascii_strncasecmp(name, prefix, strlen(prefix)) == 0;
}

/* Outer fields: not ours, not dropped, not the content's if replaced. */
static int
keep_outer(const char *name, size_t nlen, const char *const *drop)
{
	return !prefixed(name, nlen, "X-Hdpgp-") && !listed(name, nlen, drop);
}

static int
keep_outer_bare(const char *name, size_t nlen, const char *const *drop)
{
	return keep_outer(name, nlen, drop) &&
	    !prefixed(name, nlen, "Content-") &&
	    !listed(name, nlen, (const char *[]){ "MIME-Version", NULL });
}

/* Inner fields: the content's; protected ones come through add. */
static int
keep_inner(const char *name, size_t nlen, const char *const *unused)
{
	(void)unused;
	return prefixed(name, nlen, "Content-");
}

int
hd_msg_rewrite(const struct hd_msg *m, const char *const *stamps,
    const char *const *drop, const char *const *add, const char *body,
    size_t bodylen, char **out, size_t *outlen)
{
	const char *raw = m->raw, *nl = newline(m), *p;
	const char *const *f;
	size_t hend, hstart = 0, bstart, ihend, ibody, rawlen = m->rawlen;
	size_t written = 0;
	GString *s;
	GByteArray *anew = NULL;
	int rc = 0;

	/* Parts were replaced: the message as gmime now writes it. */
	if (m->modified) {
		clear_prose(g_mime_message_get_mime_part(m->msg), 0);
		anew = write_object(GMIME_OBJECT(m->msg), m->crlf);
		raw = (const char *)anew->data;
		rawlen = anew->len;
	}
	s = g_string_sized_new(m->outfd < 0 ? rawlen + bodylen + 256 : 4096);

	hend = header_block(raw, rawlen, &bstart);
	/* An mbox envelope line, as procmail hands it over, stays first. */
	if (rawlen > 5 && memcmp(raw, "From ", 5) == 0) {
		p = memchr(raw, '\n', hend);
		p = p != NULL ? p + 1 : raw + hend;
		append_field(s, raw, p - raw, nl);
		hstart = p - raw;
	}
	for (f = stamps; f != NULL && *f != NULL; f++)
		g_string_append_printf(s, "%s%s", *f, nl);
	copy_fields(s, raw + hstart, raw + hend, body != NULL ?
	    keep_outer_bare : keep_outer, drop, nl);
	if (body == NULL) {
		if (m->outfd < 0)
			g_string_append_len(s, raw + hend, rawlen - hend);
		else if (hd_write_all(m->outfd, s->str, s->len) != 0 ||
		    hd_write_all(m->outfd, raw + hend, rawlen - hend) != 0)
			rc = -1;
		else {
			written = s->len + rawlen - hend;
			g_string_truncate(s, 0);
		}
	} else {
		/*
		 * The entity's own Content-* fields join the top level, and
		 * the protected fields the caller found; nothing else a
		 * sender could smuggle in (SECURITY.md #21).
		 */
		for (f = add; f != NULL && *f != NULL; f++) {
			append_field(s, *f, strlen(*f), nl);
			g_string_append(s, nl);
		}
		g_string_append_printf(s, "MIME-Version: 1.0%s", nl);
		ihend = entity_header_block(body, bodylen, &ibody);
		copy_fields(s, body, body + ihend, keep_inner, NULL, nl);
		if (ihend == 0)		/* no fields: the blank line */
			g_string_append(s, nl);
		rc = put_lines(m->outfd, s, body + (ihend == 0 ? ibody : ihend),
		    bodylen - (ihend == 0 ? ibody : ihend), nl, &written);
	}
	if (anew != NULL) {
		explicit_bzero(anew->data, anew->len);
		g_byte_array_free(anew, TRUE);
	}
	if (m->outfd < 0) {
		*outlen = s->len;
		*out = g_string_free(s, FALSE);
	} else {
		explicit_bzero(s->str, s->len);
		g_string_free(s, TRUE);
		*out = NULL;
		*outlen = written;
	}
	return rc;
}

/*
 * Protected headers of a decrypted entity (RFC 9788 hp="cipher", or the
 * older protected-headers="v1"): the fields that replace their outer
 * placeholders, "Name: raw value".  NULL when the entity is not marked.
 */
char **
hd_msg_protected(const struct hd_msg *m)
{
	static const char *names[] = { "Subject", "From", "To", "Cc",
	    "Reply-To", "Date", "Message-ID", "Followup-To" };
	GMimeObject *part = g_mime_message_get_mime_part(m->msg);
	GMimeObject *top = GMIME_OBJECT(m->msg);
	GMimeHeaderList *hl;
	GPtrArray *a;
	size_t i;

	/* Signed, then encrypted: the marked part is the signed one. */
	if (part != NULL && GMIME_IS_MULTIPART_SIGNED(part) &&
	    g_mime_multipart_get_count(GMIME_MULTIPART(part)) == 2) {
		top = part = g_mime_multipart_get_part(GMIME_MULTIPART(part),
		    0);
	}
	if (part == NULL ||
	    (g_mime_object_get_content_type_parameter(part, "hp") == NULL &&
	    g_mime_object_get_content_type_parameter(part,
	    "protected-headers") == NULL))
		return NULL;
	a = g_ptr_array_new();
	hl = g_mime_object_get_header_list(top);
	for (i = 0; i < G_N_ELEMENTS(names); i++) {
		GMimeHeader *h;
		const char *v;

		if (!g_mime_header_list_contains(hl, names[i]) ||
		    (h = g_mime_header_list_get_header(hl, names[i])) == NULL ||
		    (v = g_mime_header_get_raw_value(h)) == NULL)
			continue;
		/* The raw value keeps encoded words; only the ends go. */
		g_ptr_array_add(a, g_strchomp(g_strdup_printf("%s: %s",
		    names[i], v + strspn(v, " \t"))));
	}
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}
