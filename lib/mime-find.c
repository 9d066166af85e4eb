/*
 * mime-find.c: incoming mail, where its signed and encrypted entities
 * are, what each covers, and which of them may be decrypted where they
 * stand.
 *
 * The raw input stays with the message: what a signature covers is taken
 * from those bytes, never from a re-serialisation.
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "hdpgp-priv.h"
#include "mime.h"

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
	return mime_take(a, len);
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
		/* A PGP MESSAGE that is only signed is verified, never
		 * called encrypted (doc/DESIGN, attack class #20). */
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

static void
walk(struct walk *w, GMimeObject *o, int whole)
{
	int i, n;

	if (++w->depth > MIME_MAX_DEPTH) {
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
