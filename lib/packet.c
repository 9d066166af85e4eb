/*
 * packet.c: OpenPGP packets (RFC 4880 §4, RFC 9580 §4, §5) read without
 * gpg, for what gpg does not say.
 *
 * Of an import: for each key its key ID and the signatures other keys
 * made on it, and the signatures that stand alone (a revocation
 * certificate), since gpg told to import-clean does not say what it
 * dropped.  Of a signature or message: its version, hash and critical
 * subpackets, to name what gpg could not handle instead of passing on
 * its "No data" or "Bad signature".  Headers only: no signature is
 * judged here, that stays gpg's job.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"

struct rd {
	const guchar	*p;
	size_t		 len;
};

static int
take(struct rd *r, size_t n, const guchar **out)
{
	if (r->len < n)
		return -1;
	if (out != NULL)
		*out = r->p;
	r->p += n;
	r->len -= n;
	return 0;
}

static int
mpi(struct rd *r)
{
	const guchar *b;

	if (take(r, 2, &b) != 0)
		return -1;
	return take(r, ((size_t)(b[0] << 8 | b[1]) + 7) / 8, NULL);
}

static int
sized(struct rd *r)
{
	const guchar *b;

	if (take(r, 1, &b) != 0)
		return -1;
	return take(r, b[0], NULL);
}

/* The length of the public part of a v4 key packet, or 0. */
static size_t
public_len(const guchar *p, size_t len)
{
	struct rd r = { p, len };
	const guchar *h;
	int rc = 0, n = 0;

	if (take(&r, 6, &h) != 0 || h[0] != 4)
		return 0;
	switch (h[5]) {
	case 1: case 2: case 3:		/* RSA */
		n = 2;
		break;
	case 16: case 20:		/* Elgamal */
		n = 3;
		break;
	case 17:			/* DSA */
		n = 4;
		break;
	case 18:			/* ECDH: curve, point, KDF */
		rc = sized(&r) || mpi(&r) || sized(&r);
		break;
	case 19: case 22:		/* ECDSA, EdDSA: curve, point */
		rc = sized(&r) || mpi(&r);
		break;
	default:
		return 0;
	}
	while (rc == 0 && n-- > 0)
		rc = mpi(&r);
	return rc == 0 ? len - r.len : 0;
}

/* A v4 key ID: the low 64 bits of SHA-1 over the public part. */
static void
key_id(const guchar *p, size_t len, char *keyid)
{
	GChecksum *c;
	guchar hdr[3], digest[20];
	gsize dlen = sizeof(digest);
	size_t n, i;

	*keyid = '\0';
	if ((n = public_len(p, len)) == 0 || n > 0xffff)
		return;
	hdr[0] = 0x99;
	hdr[1] = n >> 8;
	hdr[2] = n & 0xff;
	c = g_checksum_new(G_CHECKSUM_SHA1);
	g_checksum_update(c, hdr, 3);
	g_checksum_update(c, p, n);
	g_checksum_get_digest(c, digest, &dlen);
	g_checksum_free(c);
	for (i = 0; i < 8; i++)
		g_snprintf(keyid + 2 * i, 3, "%02X", digest[12 + i]);
}

/*
 * One packet at r: its tag and body.  0 at the end or on a broken
 * header; a partial length (data packets only) makes the rest the body,
 * and sets *partial.
 */
static int
packet(struct rd *r, int *tag, const guchar **body, size_t *len,
    int *partial)
{
	const guchar *b;
	size_t n = 0, k;

	*partial = 0;
	if (take(r, 1, &b) != 0 || !(b[0] & 0x80))
		return 0;
	if (b[0] & 0x40) {		/* new format */
		*tag = b[0] & 0x3f;
		if (take(r, 1, &b) != 0)
			return 0;
		if (b[0] < 192)
			n = b[0];
		else if (b[0] < 224) {
			n = ((size_t)(b[0] - 192) << 8) + 192;
			if (take(r, 1, &b) != 0)
				return 0;
			n += b[0];
		} else if (b[0] == 255) {
			if (take(r, 4, &b) != 0)
				return 0;
			n = (size_t)b[0] << 24 | (size_t)b[1] << 16 |
			    (size_t)b[2] << 8 | b[3];
		} else {
			*partial = 1;
			n = r->len;
		}
	} else {			/* old format */
		*tag = (b[0] >> 2) & 0x0f;
		if ((b[0] & 3) == 3)
			n = r->len;
		else {
			k = (size_t)1 << (b[0] & 3);
			if (take(r, k, &b) != 0)
				return 0;
			while (k-- > 0)
				n = n << 8 | *b++;
		}
	}
	*len = n;
	return take(r, n, body) == 0;
}

/* One subpacket at r (RFC 9580 §5.2.3.7): type, critical bit, data. */
static int
subpacket(struct rd *r, int *type, int *critical, const guchar **d,
    size_t *n)
{
	const guchar *b, *l;

	if (take(r, 1, &b) != 0)
		return 0;
	if (b[0] < 192)
		*n = b[0];
	else if (b[0] < 255) {
		if (take(r, 1, &l) != 0)
			return 0;
		*n = ((size_t)(b[0] - 192) << 8) + l[0] + 192;
	} else {
		if (take(r, 4, &l) != 0)
			return 0;
		*n = (size_t)l[0] << 24 | (size_t)l[1] << 16 |
		    (size_t)l[2] << 8 | l[3];
	}
	if (*n == 0 || take(r, *n, d) != 0)
		return 0;
	*type = (*d)[0] & 0x7f;
	*critical = (*d)[0] & 0x80;
	return 1;
}

/* The issuer of a signature, from its subpackets: key ID or fingerprint. */
static void
issuer_of(const guchar *p, size_t len, char *issuer, size_t isz)
{
	struct rd r = { p, len };
	const guchar *d;
	size_t n, i;
	int type, crit;

	while (subpacket(&r, &type, &crit, &d, &n)) {
		/* An issuer fingerprint (33) says more than a key ID (16). */
		if (type == 16 && n == 9 && strlen(issuer) < 40)
			for (i = 0; i < 8; i++)
				g_snprintf(issuer + 2 * i, 3, "%02X", d[1 + i]);
		else if (type == 33 && n == 22 && d[1] == 4 && isz >= 41)
			for (i = 0; i < 20; i++)
				g_snprintf(issuer + 2 * i, 3, "%02X", d[2 + i]);
	}
}

/* A signature's type and issuer; -1 if it cannot be read. */
static int
signature(const guchar *p, size_t len, char *issuer, size_t isz)
{
	struct rd r = { p, len };
	const guchar *h, *b, *sub;
	size_t i, n;

	*issuer = '\0';
	if (take(&r, 1, &h) != 0)
		return -1;
	if (h[0] == 3) {
		if (take(&r, 18, &b) != 0)
			return -1;
		for (i = 0; i < 8; i++)
			g_snprintf(issuer + 2 * i, 3, "%02X", b[6 + i]);
		return b[1];
	}
	if (h[0] != 4 || take(&r, 5, &b) != 0)
		return -1;
	n = (size_t)b[3] << 8 | b[4];
	if (take(&r, n, &sub) != 0)
		return -1;
	issuer_of(sub, n, issuer, isz);
	if (take(&r, 2, &b) != 0)
		return h[1];
	n = (size_t)b[0] << 8 | b[1];
	if (take(&r, n, &sub) == 0)
		issuer_of(sub, n, issuer, isz);
	return h[1];
}

/* Is the issuer (key ID or fingerprint) the key with this key ID? */
static int
same_key(const char *issuer, const char *keyid)
{
	size_t n = strlen(issuer);

	return *keyid != '\0' && n >= 16 &&
	    strcmp(issuer + n - 16, keyid) == 0;
}

/*
 * The packets of binary data; armor is decoded by hd_dearmor first.  0,
 * or HD_E_DATA at the first packet that cannot be read: what was read
 * before it is in *out all the same.
 */
int
hd_packets_read(const char *buf, size_t len, struct hd_packets *out,
    struct hd_error *e)
{
	struct rd r = { (const guchar *)buf, len };
	struct hd_pktkey *cur = NULL;
	const guchar *body;
	char issuer[41];
	size_t n;
	int tag, type, partial;

	memset(out, 0, sizeof(*out));
	while (r.len > 0) {
		/* A partial length has no place in a key. */
		if (!packet(&r, &tag, &body, &n, &partial) || partial)
			return hd_error_set(e, HD_E_DATA, "an OpenPGP packet "
			    "cannot be read");
		switch (tag) {
		case 5:		/* secret key */
		case 6:		/* public key */
			out->key = g_renew(struct hd_pktkey, out->key,
			    out->nkey + 1);
			cur = &out->key[out->nkey++];
			memset(cur, 0, sizeof(*cur));
			key_id(body, n, cur->keyid);
			break;
		case 2:
			type = signature(body, n, issuer, sizeof(issuer));
			if (cur == NULL) {
				/* Alone: a revocation certificate, or junk. */
				out->lone = g_renew(struct hd_pktsig, out->lone,
				    out->nlone + 1);
				out->lone[out->nlone].type = type;
				g_strlcpy(out->lone[out->nlone++].issuer,
				    issuer, sizeof(issuer));
			} else if (!same_key(issuer, cur->keyid)) {
				cur->foreign = g_renew(struct hd_pktsig,
				    cur->foreign, cur->nforeign + 1);
				cur->foreign[cur->nforeign].type = type;
				g_strlcpy(cur->foreign[cur->nforeign++].issuer,
				    issuer, sizeof(issuer));
			}
			break;
		default:
			break;
		}
	}
	return 0;
}

void
hd_packets_free(struct hd_packets *pk)
{
	size_t i;

	for (i = 0; i < pk->nkey; i++)
		g_free(pk->key[i].foreign);
	g_free(pk->key);
	g_free(pk->lone);
	memset(pk, 0, sizeof(*pk));
}

/* Critical subpackets in a v4 signature's hashed area that gpg lacks. */
static void
criticals(const guchar *p, size_t len, struct hd_pgp_facts *f)
{
	static const guchar known[] = { 2, 3, 4, 5, 6, 7, 9, 11, 12, 16, 21,
	    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33 };
	struct rd r = { p, len };
	const guchar *d;
	size_t n;
	int type, crit;

	while (subpacket(&r, &type, &crit, &d, &n)) {
		if (crit && type == 20)
			f->critical_notation = 1;
		else if (crit && memchr(known, type, sizeof(known)) == NULL)
			f->critical_other = 1;
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
	struct rd r;
	const guchar *body;
	char *bin = NULL;
	size_t n, blen;
	int tag, partial, packets = 0;

	memset(f, 0, sizeof(*f));
	if (len > 0 && ((unsigned char)data[0] & 0x80))
		n = len;
	else if ((data = bin = hd_dearmor(data, len, &n)) == NULL)
		return;
	r.p = (const guchar *)data;
	r.len = n;
	while (packets++ < 64 && packet(&r, &tag, &body, &blen, &partial) &&
	    blen > 0) {
		if (tag == 2 && f->sig_version == 0) {
			f->sig_version = body[0];
			if (body[0] == 4 && blen >= 6)
				f->hash = body[3];
		}
		if (tag == 2 && body[0] == 4 && blen >= 6)
			criticals(body + 6, MIN((size_t)body[4] << 8 | body[5],
			    blen - 6), f);
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

/*
 * Binary from ASCII armor (RFC 4880 §6.2): every armored block in buf,
 * one after the other; NULL when there is none.  Binary input is for
 * the caller to use as it is.
 */
char *
hd_dearmor(const char *buf, size_t len, size_t *outlen)
{
	GByteArray *out = g_byte_array_new();
	char *text = g_strndup(buf, len), **lines;
	guchar *chunk;
	gint state = 0;
	guint save = 0;
	size_t i, n;
	int in = 0, body = 0, any = 0;

	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i] != NULL; i++) {
		char *l = g_strstrip(lines[i]);

		if (!in) {
			/* A clearsigned text is no base64: its signature is. */
			in = g_str_has_prefix(l, "-----BEGIN PGP ") &&
			    !g_str_has_prefix(l, "-----BEGIN PGP SIGNED ");
			body = 0;
			state = 0;
			save = 0;
			continue;
		}
		if (g_str_has_prefix(l, "-----END PGP ")) {
			in = 0;
			any = 1;
			continue;
		}
		if (!body) {
			/* Armor headers end at the first line without ": ". */
			if (*l == '\0' || strstr(l, ": ") == NULL)
				body = 1;
			if (*l == '\0' || strstr(l, ": ") != NULL)
				continue;
		}
		if (*l == '=')		/* the checksum line */
			continue;
		chunk = g_malloc(strlen(l) * 3 / 4 + 3);
		n = g_base64_decode_step(l, strlen(l), chunk, &state, &save);
		g_byte_array_append(out, chunk, n);
		g_free(chunk);
	}
	g_strfreev(lines);
	g_free(text);
	if (!any) {
		g_byte_array_free(out, TRUE);
		return NULL;
	}
	*outlen = out->len;
	return (char *)g_byte_array_free(out, FALSE);
}
