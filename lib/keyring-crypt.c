/*
 * keyring-crypt.c: sign, encrypt, verify and decrypt, through gpgme, in a
 * context keyring.c set up.  What verify and decrypt unpack goes to
 * memory under a ceiling; verdicts are read off gpgme's results here.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <gpgme.h>

#include "hdpgp-priv.h"
#include "keyring.h"

static int
data_from(const char *buf, size_t len, gpgme_data_t *in, gpgme_data_t *out,
    struct hd_error *e)
{
	gpgme_error_t err;

	*in = *out = NULL;
	if ((err = gpgme_data_new_from_mem(in, buf, len, 0)) == 0)
		err = gpgme_data_new(out);
	if (err != 0) {
		gpgme_data_release(*in);
		return keyring_fail(e, err, "gpgme");
	}
	return 0;
}

/*
 * The one key lookup a signing run pays for (doc/DESIGN, Costs and
 * targets): gpgme 1.18 signs only with a key object.  The last signer's
 * object is kept for the process, so that a batch (-o DIR FILE...) of one
 * sender's messages lists the key once, not once a message.
 */
static int
add_signer(struct hd_gpg *g, const char *fpr, struct hd_error *e)
{
	static gpgme_key_t last;
	static char last_fpr[41];
	gpgme_key_t k;
	gpgme_error_t err;
	int rc;

	if (last != NULL && strcmp(last_fpr, fpr) == 0)
		k = last;
	else {
		if ((rc = keyring_get_key(g, fpr, 1, &k, e)) != 0)
			return rc;
		if (last != NULL)
			gpgme_key_unref(last);
		last = k;
		g_strlcpy(last_fpr, fpr, sizeof(last_fpr));
	}
	gpgme_signers_clear(g->ctx);
	err = gpgme_signers_add(g->ctx, k);
	return err != 0 ? keyring_fail(e, err, fpr) : 0;
}

/*
 * A detached, armored signature by fpr; the hash gpg chose goes to
 * hash ("SHA256"), for micalg.
 */
int
hd_gpg_sign(struct hd_gpg *g, const char *fpr, const char *buf, size_t len,
    char **sig, size_t *siglen, char *hash, size_t hashlen,
    struct hd_error *e)
{
	gpgme_data_t in, out;
	gpgme_sign_result_t r;
	gpgme_error_t err;
	int rc;

	if ((rc = add_signer(g, fpr, e)) != 0)
		return rc;
	if ((rc = data_from(buf, len, &in, &out, e)) != 0)
		return rc;
	gpgme_set_armor(g->ctx, 1);
	err = gpgme_op_sign(g->ctx, in, out, GPGME_SIG_MODE_DETACH);
	gpgme_data_release(in);
	if (err == 0 && ((r = gpgme_op_sign_result(g->ctx)) == NULL ||
	    r->signatures == NULL))
		err = gpg_error(GPG_ERR_GENERAL);
	if (err != 0) {
		gpgme_data_release(out);
		return keyring_fail(e, err, fpr);
	}
	g_strlcpy(hash, gpgme_hash_algo_name(r->signatures->hash_algo),
	    hashlen);
	return keyring_take_data(out, sig, siglen, "sign", e);
}

/*
 * Encrypt to the keys with these fingerprints (NULL-terminated), and to
 * the hidden ones without their key IDs in the ciphertext (gpg -R: a
 * Bcc recipient stays unknown to the others), signing in the same pass
 * when signer is set (RFC 3156 §6.2).  Recipients go to gpg as a string
 * of fingerprints: no key lookup per message.
 */
int
hd_gpg_encrypt(struct hd_gpg *g, char **fprs, char **hidden,
    const char *signer, const char *buf, size_t len, int cfd, char **cipher,
    size_t *clen, struct hd_error *e)
{
	gpgme_data_t in, out;
	gpgme_error_t err;
	gpgme_encrypt_flags_t flags = GPGME_ENCRYPT_ALWAYS_TRUST;
	GString *recp;
	off_t end;
	size_t i;
	int rc;

	if (signer != NULL && (rc = add_signer(g, signer, e)) != 0)
		return rc;
	if ((rc = data_from(buf, len, &in, &out, e)) != 0)
		return rc;
	/* With cfd, the ciphertext goes to that file, not to memory. */
	if (cfd >= 0) {
		gpgme_data_release(out);
		if ((err = gpgme_data_new_from_fd(&out, cfd)) != 0) {
			gpgme_data_release(in);
			return keyring_fail(e, err, "encrypt");
		}
	}
	/* gpgme's keyword "--hidden" makes the fingerprints after it -R. */
	recp = g_string_new(NULL);
	for (i = 0; fprs[i] != NULL; i++)
		g_string_append_printf(recp, "%s\n", fprs[i]);
	if (hidden != NULL && hidden[0] != NULL)
		g_string_append(recp, "--hidden\n");
	for (i = 0; hidden != NULL && hidden[i] != NULL; i++)
		g_string_append_printf(recp, "%s\n", hidden[i]);
	gpgme_set_armor(g->ctx, 1);
	if (signer != NULL)
		err = gpgme_op_encrypt_sign_ext(g->ctx, NULL, recp->str,
		    flags, in, out);
	else
		err = gpgme_op_encrypt_ext(g->ctx, NULL, recp->str, flags, in,
		    out);
	g_string_free(recp, TRUE);
	gpgme_data_release(in);
	if (err != 0) {
		gpgme_data_release(out);
		return keyring_fail(e, err, signer != NULL ? signer : "encrypt");
	}
	if (cfd >= 0) {
		gpgme_data_release(out);
		*cipher = NULL;
		if ((end = lseek(cfd, 0, SEEK_END)) == -1)
			return hd_error_set(e, HD_E_IO, "encrypt: %s",
			    strerror(errno));
		*clen = (size_t)end;
		return 0;
	}
	return keyring_take_data(out, cipher, clen, "encrypt", e);
}

/*
 * Output of verify and decrypt goes to memory with a ceiling: a
 * compression bomb ends in an error, not in an exhausted machine.
 */
struct sink {
	GByteArray	*buf;
	size_t		 max;
	int		 over;		/* the ceiling was hit */
};

/*
 * All the plaintext verify and decrypt may still unpack with g: a
 * message's parts share one ceiling (eight bombs just under the per-part
 * one are still one message).
 */
void
hd_gpg_set_budget(struct hd_gpg *g, size_t max)
{
	g->budget = max;
	g->budgeted = 1;
}

/* A sink's ceiling: the call's own, or what is left of the budget. */
static size_t
ceiling(const struct hd_gpg *g, size_t own)
{
	return g->budgeted && g->budget < own ? g->budget : own;
}

static void
spend(struct hd_gpg *g, size_t used)
{
	if (g->budgeted)
		g->budget -= MIN(used, g->budget);
}

static ssize_t
sink_write(void *arg, const void *p, size_t len)
{
	struct sink *s = arg;

	if (s->buf->len + len > s->max) {
		s->over = 1;
		errno = EFBIG;
		return -1;
	}
	g_byte_array_append(s->buf, p, len);
	return len;
}

static struct gpgme_data_cbs sink_cbs = { NULL, sink_write, NULL, NULL };

static int
sig_verdict(gpgme_signature_t s)
{
	switch (gpgme_err_code(s->status)) {
	case GPG_ERR_NO_ERROR:
		if (s->summary & GPGME_SIGSUM_KEY_REVOKED)
			return HD_SIG_REVOKED_KEY;
		if (s->summary & GPGME_SIGSUM_KEY_EXPIRED)
			return HD_SIG_EXPIRED_KEY;
		if (s->summary & GPGME_SIGSUM_SIG_EXPIRED)
			return HD_SIG_EXPIRED_SIG;
		return HD_SIG_GOOD;
	case GPG_ERR_BAD_SIGNATURE:
		return HD_SIG_BAD;
	case GPG_ERR_NO_PUBKEY:
		return HD_SIG_UNKNOWN_KEY;
	case GPG_ERR_KEY_EXPIRED:
		return HD_SIG_EXPIRED_KEY;
	case GPG_ERR_CERT_REVOKED:
		return HD_SIG_REVOKED_KEY;
	case GPG_ERR_SIG_EXPIRED:
		return HD_SIG_EXPIRED_SIG;
	default:
		return HD_SIG_ERROR;
	}
}

/*
 * RFC 9580 §9.5: a data signature over MD5, SHA-1 or RIPEMD-160 is not
 * good, whatever the key (as Sequoia, RNP and GopenPGP decide).
 */
static int
weak_hash(gpgme_hash_algo_t h)
{
	return h == GPGME_MD_MD5 || h == GPGME_MD_SHA1 || h == GPGME_MD_RMD160;
}

/* facts, when known, name what gpg reports as a bad signature. */
static void
collect_sigs(gpgme_verify_result_t r, const struct hd_pgp_facts *facts,
    struct hd_sigs *out)
{
	gpgme_signature_t s;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (r == NULL)
		return;
	for (s = r->signatures; s != NULL; s = s->next)
		n++;
	out->sig = g_new0(struct hd_sig, n);
	for (s = r->signatures; s != NULL; s = s->next) {
		struct hd_sig *o = &out->sig[out->n++];

		g_strlcpy(o->fpr, s->fpr != NULL ? s->fpr : "", sizeof(o->fpr));
		o->verdict = sig_verdict(s);
		o->created = s->timestamp;
		/* gpg does not even check MD5: weak all the same. */
		if ((o->verdict == HD_SIG_GOOD || gpgme_err_code(s->status) ==
		    GPG_ERR_DIGEST_ALGO) && weak_hash(s->hash_algo))
			o->verdict = HD_SIG_WEAK_HASH;
		/* "Bad" claims the data changed; an unknown critical
		 * notation is gpg not understanding the signature. */
		if (o->verdict == HD_SIG_BAD && facts != NULL &&
		    (facts->critical_notation || facts->critical_other)) {
			o->verdict = HD_SIG_ERROR;
			o->why = g_strdup(hd_pgp_unsupported(facts));
		} else if (o->verdict == HD_SIG_ERROR)
			o->why = g_strdup(gpgme_err_code(s->status) ==
			    GPG_ERR_DIGEST_ALGO ? "unsupported hash" :
			    gpgme_strerror(s->status));
	}
}

void
hd_sigs_free(struct hd_sigs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		g_free(s->sig[i].why);
	g_free(s->sig);
	memset(s, 0, sizeof(*s));
}

/*
 * Verify a detached signature over data, or (data == NULL) a clearsigned
 * or opaque signed message, whose text then goes to *plain.  Errors only
 * when gpg could not judge at all; verdicts are in *sigs.
 */
int
hd_gpg_verify(struct hd_gpg *g, const char *sig, size_t siglen,
    const char *data, size_t len, char **plain, size_t *plainlen,
    struct hd_sigs *sigs, struct hd_error *e)
{
	gpgme_data_t s = NULL, d = NULL, out = NULL;
	gpgme_error_t err;
	struct sink sk = { g_byte_array_new(), ceiling(g, HD_PLAIN_MAX), 0 };
	struct hd_pgp_facts facts;
	const char *why;

	memset(sigs, 0, sizeof(*sigs));
	hd_pgp_facts(sig, siglen, &facts);
	err = gpgme_data_new_from_mem(&s, sig, siglen, 0);
	if (err == 0 && data != NULL)
		err = gpgme_data_new_from_mem(&d, data, len, 0);
	else if (err == 0)
		err = gpgme_data_new_from_cbs(&out, &sink_cbs, &sk);
	if (err == 0)
		err = gpgme_op_verify(g->ctx, s, d, out);
	if (err == 0)
		collect_sigs(gpgme_op_verify_result(g->ctx), &facts, sigs);
	gpgme_data_release(s);
	gpgme_data_release(d);
	gpgme_data_release(out);
	spend(g, sk.buf->len);
	if (err == 0 && sigs->n == 0)
		err = gpg_error(GPG_ERR_NO_DATA);
	if (err != 0) {
		g_byte_array_free(sk.buf, TRUE);
		hd_sigs_free(sigs);
		if (sk.over)
			return hd_error_set(e, HD_E_DATA, "verify: "
			    "plaintext larger than %zu MiB", sk.max >> 20);
		/* gpg's "No data" for a v6 signature, named. */
		if ((why = hd_pgp_unsupported(&facts)) != NULL)
			return hd_error_set(e, HD_E_DATA, "%s", why);
		return keyring_fail(e, err, "verify");
	}
	if (plain != NULL) {
		*plainlen = sk.buf->len;
		g_byte_array_append(sk.buf, (const guint8 *)"", 1);
		*plain = (char *)g_byte_array_free(sk.buf, FALSE);
	} else
		g_byte_array_free(sk.buf, TRUE);
	return 0;
}

void
hd_gpg_set_lookup(struct hd_gpg *g, char *(*fn)(void *, const char *),
    void *arg)
{
	g->lookup = fn;
	g->lookup_arg = arg;
}

/*
 * Did gpg hold the secret key and fail to open the session key with it?
 * gpg says "Wrong secret key used"; gpgme passes that on, or reports no
 * secret key while a recipient's key was there.
 */
static int
wrong_key(gpgme_error_t err, gpgme_decrypt_result_t dr)
{
	gpgme_recipient_t r;

	if (gpgme_err_code(err) == GPG_ERR_WRONG_SECKEY)
		return 1;
	if (gpgme_err_code(err) != GPG_ERR_NO_SECKEY &&
	    gpgme_err_code(err) != GPG_ERR_DECRYPT_FAILED)
		return 0;
	for (r = dr != NULL ? dr->recipients : NULL; r != NULL; r = r->next)
		if (r->status == 0)
			return 1;
	return 0;
}

/*
 * Decrypt (and verify what was signed in the same pass).  All or
 * nothing: *plain only when gpg decrypted with integrity protection and
 * no error at all; the key that opened it goes to keyid[17].
 */
int
hd_gpg_decrypt(struct hd_gpg *g, const char *cipher, size_t len,
    char **plain, size_t *plainlen, struct hd_sigs *sigs, char *keyid,
    struct hd_error *e)
{
	gpgme_data_t in = NULL, out = NULL;
	gpgme_decrypt_result_t dr;
	gpgme_recipient_t r;
	gpgme_error_t err;
	/*
	 * A large attachment is larger again once base64'd inside; a bomb
	 * unpacks to many times its size.  The ceiling follows the input.
	 */
	struct sink sk = { g_byte_array_new(), ceiling(g, MAX(HD_PLAIN_MAX,
	    8 * len)), 0 };
	struct hd_pgp_facts facts;
	int rc = 0, tries;

	memset(sigs, 0, sizeof(*sigs));
	*keyid = '\0';
	for (tries = 0;; tries++) {
		err = gpgme_data_new_from_mem(&in, cipher, len, 0);
		if (err == 0)
			err = gpgme_data_new_from_cbs(&out, &sink_cbs, &sk);
		if (err == 0)
			err = gpgme_op_decrypt_verify(g->ctx, in, out);
		dr = gpgme_op_decrypt_result(g->ctx);
		/*
		 * An RSA key stored with p > q (GopenPGP writes half its keys
		 * so) makes libgcrypt fail a few decryptions in a hundred:
		 * "Wrong secret key used".  Blinding makes each attempt fail
		 * on its own, so a few more make it one in millions.
		 */
		if (tries >= 3 || sk.buf->len > 0 || !wrong_key(err, dr))
			break;
		gpgme_data_release(in);
		gpgme_data_release(out);
		in = out = NULL;
	}
	if (dr != NULL)
		for (r = dr->recipients; r != NULL; r = r->next)
			if (r->status == 0 && r->keyid != NULL)
				g_strlcpy(keyid, r->keyid, 17);
	/* gpg "decrypts" a message that was only signed: not ours to call
	 * encrypted (doc/DESIGN, attack class #20). */
	if (err == 0 && (dr == NULL || dr->recipients == NULL))
		rc = hd_error_set(e, HD_E_BAD, "not encrypted to a public key");
	else if (err == 0 && dr->legacy_cipher_nomdc)
		rc = hd_error_set(e, HD_E_BAD, "no integrity protection (MDC)");
	else if (err == 0 && dr->unsupported_algorithm != NULL)
		rc = hd_error_set(e, HD_E_BAD, "unsupported algorithm %s",
		    dr->unsupported_algorithm);
	else if (err == 0 && dr->wrong_key_usage)
		rc = hd_error_set(e, HD_E_BAD, "key not meant for encryption");
	else if (sk.over)
		/* One reason, however gpg and the pipe raced to report it. */
		rc = hd_error_set(e, HD_E_BAD, "plaintext larger than %zu MiB",
		    sk.max >> 20);
	else if (gpgme_err_code(err) == GPG_ERR_NO_SECKEY)
		rc = hd_error_set(e, HD_E_BAD, "no secret key");
	else if (err != 0) {
		/* gpg's "No data" for a v6 message, named. */
		hd_pgp_facts(cipher, len, &facts);
		if (hd_pgp_unsupported(&facts) != NULL)
			rc = hd_error_set(e, HD_E_BAD, "%s",
			    hd_pgp_unsupported(&facts));
		else
			rc = keyring_fail(e, err, "decrypt");
	}
	if (rc == 0)
		collect_sigs(gpgme_op_verify_result(g->ctx), NULL, sigs);
	gpgme_data_release(in);
	gpgme_data_release(out);
	spend(g, sk.buf->len);
	if (rc != 0) {
		/* Not one byte of plaintext leaves this function. */
		if (sk.buf->len > 0)
			explicit_bzero(sk.buf->data, sk.buf->len);
		g_byte_array_free(sk.buf, TRUE);
		return rc;
	}
	*plainlen = sk.buf->len;
	g_byte_array_append(sk.buf, (const guint8 *)"", 1);
	*plain = (char *)g_byte_array_free(sk.buf, FALSE);
	return 0;
}
