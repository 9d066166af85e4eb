/*
 * packet.c: a look at OpenPGP packets (RFC 9580 §4, §5) without gpg, to
 * name what gpg could not handle instead of passing on its "No data" or
 * "Bad signature": a version 6 packet, a hash it does not know, a
 * critical notation it does not understand.  Reads headers only; never
 * decides a verdict by itself.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "hdpgp.h"

/* The first armor block of data decoded, or data itself when binary. */
static guchar *
dearmor(const char *data, size_t len, size_t *outlen)
{
	const char *p, *end = data + len, *stop;
	GString *b64;
	guchar *out;
	gsize n;

	if (len > 0 && ((unsigned char)data[0] & 0x80)) {
		*outlen = len;
		return g_memdup2(data, len);
	}
	for (p = data; p < end; p = memchr(p, '\n', end - p), p = p ? p + 1 :
	    end)
		if ((size_t)(end - p) > 15 && memcmp(p, "-----BEGIN PGP ", 15) ==
		    0 && strncmp(p, "-----BEGIN PGP SIGNED MESSAGE", 29) != 0)
			break;
	if (p >= end)
		return NULL;
	/* Past the armor headers, to the blank line. */
	do {
		p = memchr(p, '\n', end - p);
		p = p != NULL ? p + 1 : end;
	} while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end &&
	    p[1] == '\n'));
	b64 = g_string_new(NULL);
	for (; p < end && *p != '=' && *p != '-'; p = stop) {
		stop = memchr(p, '\n', end - p);
		stop = stop != NULL ? stop + 1 : end;
		for (; p < stop; p++)
			if (g_ascii_isalnum(*p) || *p == '+' || *p == '/')
				g_string_append_c(b64, *p);
	}
	while (b64->len % 4 != 0)
		g_string_append_c(b64, '=');
	out = g_base64_decode(b64->str, &n);
	g_string_free(b64, TRUE);
	*outlen = n;
	return out;
}

/* One packet header at p: tag, body and its length.  0 at the end. */
static int
next_packet(const guchar **p, const guchar *end, int *tag,
    const guchar **body, size_t *blen)
{
	const guchar *q = *p;
	size_t l;

	if (q >= end || !(*q & 0x80))
		return 0;
	if (*q & 0x40) {		/* new format */
		*tag = *q++ & 0x3f;
		if (q >= end)
			return 0;
		if (*q < 192)
			l = *q++;
		else if (*q < 224) {
			if (end - q < 2)
				return 0;
			l = ((size_t)(q[0] - 192) << 8) + q[1] + 192;
			q += 2;
		} else if (*q == 255) {
			if (end - q < 5)
				return 0;
			l = (size_t)q[1] << 24 | (size_t)q[2] << 16 |
			    (size_t)q[3] << 8 | q[4];
			q += 5;
		} else		/* partial length: the rest is this packet */
			l = end - ++q;
	} else {			/* old format */
		int lt = *q & 3;

		*tag = (*q++ >> 2) & 0x0f;
		if (lt == 3)
			l = end - q;
		else {
			size_t k = (size_t)1 << lt;

			if ((size_t)(end - q) < k)
				return 0;
			for (l = 0; k > 0; k--)
				l = l << 8 | *q++;
		}
	}
	if (l > (size_t)(end - q))
		l = end - q;
	*body = q;
	*blen = l;
	*p = q + l;
	return 1;
}

/* Critical subpackets in a v4 signature's hashed area that gpg lacks. */
static void
subpackets(const guchar *p, const guchar *end, struct hd_pgp_facts *f)
{
	static const guchar known[] = { 2, 3, 4, 5, 6, 7, 9, 11, 12, 16, 21,
	    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33 };
	size_t l;
	int type;

	while (p < end) {
		if (*p < 192)
			l = *p++;
		else if (*p < 255 && end - p >= 2) {
			l = ((size_t)(p[0] - 192) << 8) + p[1] + 192;
			p += 2;
		} else if (*p == 255 && end - p >= 5) {
			l = (size_t)p[1] << 24 | (size_t)p[2] << 16 |
			    (size_t)p[3] << 8 | p[4];
			p += 5;
		} else
			return;
		if (l == 0 || l > (size_t)(end - p))
			return;
		type = *p & 0x7f;
		if ((*p & 0x80) && type == 20)
			f->critical_notation = 1;
		else if ((*p & 0x80) && memchr(known, type, sizeof(known)) ==
		    NULL)
			f->critical_other = 1;
		p += l;
	}
}

/*
 * What the packets in data (armored or binary) say of themselves: the
 * version and hash of the first signature, whether any signature has a
 * critical notation or an unknown critical subpacket, and the version of
 * a session key or encrypted data packet that is not the one gpg reads.
 */
void
hd_pgp_facts(const char *data, size_t len, struct hd_pgp_facts *f)
{
	const guchar *p, *end, *body;
	guchar *bin;
	size_t n, blen;
	int tag, packets = 0;

	memset(f, 0, sizeof(*f));
	if ((bin = dearmor(data, len, &n)) == NULL)
		return;
	p = bin;
	end = bin + n;
	while (packets++ < 64 && next_packet(&p, end, &tag, &body, &blen) &&
	    blen > 0) {
		if (tag == 2 && f->sig_version == 0) {
			f->sig_version = body[0];
			if (body[0] == 4 && blen >= 6)
				f->hash = body[3];
		}
		if (tag == 2 && body[0] == 4 && blen >= 6) {
			size_t hl = (size_t)body[4] << 8 | body[5];

			subpackets(body + 6, body + 6 + MIN(hl, blen - 6), f);
		}
		if ((tag == 1 && body[0] != 3) || (tag == 3 && body[0] != 4) ||
		    (tag == 18 && body[0] != 1) || tag == 20)
			f->enc_version = tag == 20 ? 5 : tag == 18 ? 6 :
			    body[0];
		if (tag == 4 && body[0] != 3 && f->sig_version == 0)
			f->sig_version = body[0];
	}
	g_free(bin);
}

/* Why gpg could not judge, in words, or NULL when nothing is known. */
const char *
hd_pgp_unsupported(const struct hd_pgp_facts *f)
{
	static char buf[64];

	if (f->sig_version != 0 && f->sig_version != 3 && f->sig_version != 4) {
		snprintf(buf, sizeof(buf), "unsupported OpenPGP version %d",
		    f->sig_version);
		return buf;
	}
	if (f->enc_version != 0) {
		snprintf(buf, sizeof(buf), "unsupported OpenPGP version %d",
		    f->enc_version);
		return buf;
	}
	/* RFC 9580 §9.5: MD5 1, SHA-1 2, RIPEMD-160 3, SHA2 8-11, SHA3 12, 14. */
	if (f->hash != 0 && (f->hash < 1 || f->hash > 3) &&
	    (f->hash < 8 || f->hash > 11))
		return "unsupported hash";
	if (f->critical_notation)
		return "unsupported critical notation";
	if (f->critical_other)
		return "unsupported critical subpacket";
	return NULL;
}
