/*
 * mime-rewrite.c: incoming mail written back, with the verdict fields,
 * decrypted parts put where the encrypted ones stood, and the protected
 * header fields of a decrypted entity.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <gmime/gmime.h>

#include "hdpgp-priv.h"
#include "mime.h"

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
 * a megabyte at a time (s is emptied).
 */
static int
put_lines(int fd, GString *s, const char *text, size_t len, const char *nl,
    size_t *written, struct hd_error *e)
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
			return hd_error_set(e, HD_E_IO, "output: %s",
			    strerror(errno));
		*written += s->len;
		explicit_bzero(s->str, s->len);
		g_string_truncate(s, 0);
		p = cut;
	}
	return 0;
}

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

/*
 * The message with our verdict fields first (stamps, "Name: value"),
 * every X-Hdpgp-* field of the input's top level removed, the fields
 * named in drop removed, the fields of add appended, and, when body is
 * set, that entity in place of the original body and its Content-*
 * fields.  Everything else is the input byte for byte.  Fails only
 * when it cannot write to the output (hd_msg_set_output).
 */
int
hd_msg_rewrite(const struct hd_msg *m, const char *const *stamps,
    const char *const *drop, const char *const *add, const char *body,
    size_t bodylen, char **out, size_t *outlen, struct hd_error *e)
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
		anew = mime_write_object(GMIME_OBJECT(m->msg), m->crlf);
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
			rc = hd_error_set(e, HD_E_IO, "output: %s",
			    strerror(errno));
		else {
			written = s->len + rawlen - hend;
			g_string_truncate(s, 0);
		}
	} else {
		/*
		 * The entity's own Content-* fields join the top level, and
		 * the protected fields the caller found; nothing else a
		 * sender could smuggle in, such as fake protected headers
		 * (doc/DESIGN, attack class #21).
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
		    bodylen - (ihend == 0 ? ibody : ihend), nl, &written, e);
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
