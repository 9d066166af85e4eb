/*
 * mime-compose.c: outgoing mail, the entity to sign or encrypt and the
 * PGP/MIME message (RFC 3156) made around it.
 *
 * The top-level entity is made 7-bit safe and written with CRLF line
 * ends; those exact bytes are what gets signed or encrypted, and what is
 * parsed back into the new multipart, so that what a verifier reads is
 * what was signed.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <gmime/gmime.h>

#include "hdpgp-priv.h"
#include "mime.h"

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
	a = mime_write_object(body, 1);
	/* A sealed entity's "From " lines are part of what it signed. */
	*buf = mime_take(sealed ? a : escape_from(a), len);
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
		*out = mime_take(mime_write_object(GMIME_OBJECT(m->msg),
		    m->crlf), outlen);
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
	content = mime_parse_stream(s, 0, NULL);
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
