/*
 * outgoing.c: an agent's reply signed and/or encrypted as PGP/MIME
 * (RFC 3156), the common path of hdpgp-sign and hdpgp-encrypt.
 *
 * The signer is -u, else the group's address (-g), else the From; the
 * recipients are To, Cc and Bcc, -r, and with --self the signer.  Every
 * key is chosen from the state's index before gpg runs; if any is
 * missing, every problem is reported at once and nothing is written:
 * never plain text instead.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "hdpgp-priv.h"

struct job {
	struct hd_state	*st;
	const struct hd_out *o;
	struct hd_msg	*msg;
	char		**from;
	char		*sender;	/* whose key signs, or --self */
	char		*msgid;
	GString		*problems;	/* one a line */
	enum hd_cause	 cause;		/* of the problems (add_line) */
	GString		*to;
	GString		*keys;
	GPtrArray	*fprs;		/* recipients' fingerprints */
	GPtrArray	*hidden;	/* Bcc recipients' ones, not in fprs */
	char		**bcc;		/* the Bcc addresses, normalised */
	struct hd_key	 signer;
	int		 have_signer;
	int		 outfd;		/* the result goes here, or -1 */
};

/*
 * Problems are gathered one a line, for the tool to print each as a
 * message of its own.  Their cause: a problem of the message itself
 * (HD_E_DATA) before any other; keys that cannot serve for different
 * reasons, HD_E_UNAVAILABLE.
 */
static void
add_line(struct job *j, enum hd_cause cause, const char *line)
{
	if (j->problems->len)
		g_string_append_c(j->problems, '\n');
	g_string_append(j->problems, line);
	if (j->cause == HD_E_NONE || cause == HD_E_DATA)
		j->cause = cause;
	else if (j->cause != cause && j->cause != HD_E_DATA)
		j->cause = HD_E_UNAVAILABLE;
}

static void
problem(struct job *j, enum hd_cause cause, const char *what,
    const char *why)
{
	char *safe = hd_sanitize(what), *line;

	line = g_strdup_printf("%s: %s", safe, why);
	add_line(j, cause, line);
	g_free(line);
	g_free(safe);
}

static const char *
action(const struct hd_out *o)
{
	if (o->encrypt)
		return o->sign ? "sign+encrypt" : "encrypt";
	return "sign";
}

static void
log_job(struct job *j, const char *result, const char *comment)
{
	struct hd_logrec r = { 0 };

	r.time = time(NULL);
	r.direction = "out";
	r.action = action(j->o);
	r.result = result;
	r.message_id = j->msgid;
	r.from = j->sender != NULL ? j->sender :
	    (j->from != NULL ? j->from[0] : NULL);
	r.to = j->to->len ? j->to->str : NULL;
	r.group = j->o->group;
	r.keys = j->keys->len ? j->keys->str : NULL;
	r.comment = comment;
	hd_log_note(j->st, &r);
}

/* Whose key signs (and whose key --self adds): -u, -g's address, From. */
static void
find_sender(struct job *j)
{
	struct hd_error e;
	char *addr;

	if (j->o->signer != NULL) {
		j->sender = g_strdup(j->o->signer);
		return;
	}
	if (j->o->group != NULL) {
		/* Whatever is wrong with the group, it cannot serve. */
		if (hd_group_address(j->st, j->o->group, &j->sender, &e) != 0)
			add_line(j, HD_E_UNAVAILABLE, e.text);
		return;
	}
	if (j->from[0] == NULL || j->from[1] != NULL) {
		add_line(j, HD_E_DATA, j->from[0] == NULL ? "message has no "
		    "From address: name the signer with -u" : "message has "
		    "several From addresses: name the signer with -u");
		return;
	}
	if ((addr = hd_addr_normalize(j->from[0])) == NULL)
		problem(j, HD_E_DATA, j->from[0], "not an email address");
	j->sender = addr;
}

/* Where fpr is in a, or -1. */
static int
find_fpr(GPtrArray *a, const char *fpr)
{
	guint i;

	for (i = 0; i < a->len; i++)
		if (strcmp(a->pdata[i], fpr) == 0)
			return (int)i;
	return -1;
}

static void
add_recipient(struct job *j, const char *who)
{
	struct hd_error e;
	struct hd_key k;
	char *addr;
	GPtrArray *to;
	int i, rc;

	/* --self may name the signer by fingerprint or key ID (-u). */
	if (hd_is_fpr(who) || hd_is_keyid(who))
		addr = g_strdup(who);
	else if ((addr = hd_addr_normalize(who)) == NULL) {
		/* No key can serve what is not an address. */
		problem(j, HD_E_UNAVAILABLE, who, "not an email address");
		return;
	}
	g_string_append_printf(j->to, "%s%s", j->to->len ? "," : "", addr);
	if ((rc = hd_select(j->st, addr, HD_CAP_ENCRYPT, 0, time(NULL), &k,
	    &e)) != 0) {
		problem(j, rc, addr, e.text);
		g_free(addr);
		return;
	}
	/*
	 * A key that serves a visible recipient is visible anyway; one
	 * that serves only Bcc addresses is a hidden recipient.
	 */
	to = j->bcc != NULL && g_strv_contains((const char *const *)j->bcc,
	    addr) ? j->hidden : j->fprs;
	if (to == j->fprs && (i = find_fpr(j->hidden, k.fpr)) != -1)
		g_ptr_array_remove_index(j->hidden, (guint)i);
	if (find_fpr(j->fprs, k.fpr) == -1 && find_fpr(j->hidden, k.fpr) == -1)
		g_ptr_array_add(to, g_strdup(k.fpr));
	if (strstr(j->keys->str, k.fpr) == NULL)
		g_string_append_printf(j->keys, "%s%s", j->keys->len ? " " :
		    "", k.fpr);
	hd_key_free(&k);
	g_free(addr);
}

/* The Bcc addresses that To and Cc do not also name, normalised. */
static void
find_bcc(struct job *j)
{
	char **bcc = hd_msg_bcc(j->msg), *addr;
	GPtrArray *a = g_ptr_array_new();
	size_t i;

	for (i = 0; bcc[i] != NULL; i++)
		if ((addr = hd_addr_normalize(bcc[i])) != NULL)
			g_ptr_array_add(a, addr);
	g_ptr_array_add(a, NULL);
	j->bcc = (char **)g_ptr_array_free(a, FALSE);
	g_strfreev(bcc);
}

static void
choose_keys(struct job *j)
{
	struct hd_error e;
	char **rcpt;
	size_t i;
	int rc;

	if (j->o->sign || j->o->self)
		find_sender(j);
	if (j->o->sign && j->sender != NULL) {
		if ((rc = hd_select(j->st, j->sender, HD_CAP_SIGN, 1,
		    time(NULL), &j->signer, &e)) == 0) {
			j->have_signer = 1;
			g_string_append(j->keys, j->signer.fpr);
		} else
			problem(j, rc, j->sender, e.text);
	}
	if (j->o->encrypt)
		find_bcc(j);
	rcpt = hd_msg_recipients(j->msg);
	for (i = 0; rcpt[i] != NULL; i++) {
		char *addr;

		if (j->o->encrypt)
			add_recipient(j, rcpt[i]);
		else if ((addr = hd_addr_normalize(rcpt[i])) != NULL) {
			/* Signing only: the log still says from -> to. */
			g_string_append_printf(j->to, "%s%s",
			    j->to->len ? "," : "", addr);
			g_free(addr);
		}
	}
	g_strfreev(rcpt);
	if (!j->o->encrypt)
		return;
	g_strfreev(j->bcc);	/* -r and --self are not hidden */
	j->bcc = NULL;
	for (i = 0; j->o->rcpt != NULL && j->o->rcpt[i] != NULL; i++)
		add_recipient(j, j->o->rcpt[i]);
	if (j->o->self && j->sender != NULL)
		add_recipient(j, j->sender);
}

/* gpg's passphrase complaints, in the words of the key store. */
static int
crypto_failed(struct hd_error *e, const char *fpr)
{
	if (e->cause == HD_E_PASS_REQUIRED)
		return hd_error_set(e, HD_E_UNAVAILABLE, "%s: no passphrase "
		    "stored (hdpgp-key passwd)", fpr);
	if (e->cause == HD_E_PASS_BAD)
		return hd_error_set(e, HD_E_UNAVAILABLE, "%s: the stored "
		    "passphrase is invalid (hdpgp-key passwd)", fpr);
	return e->cause;
}

static int
run_crypto(struct job *j, char **out, size_t *outlen, struct hd_error *e)
{
	struct hd_gpg *g = NULL;
	char *body = NULL, *res = NULL, *pass = NULL, hash[32];
	size_t blen, rlen;
	int rc, cfd = -1;

	if ((rc = hd_msg_body(j->msg, j->o->protect && j->o->encrypt, &body,
	    &blen, e)) != 0)
		return rc;
	if ((rc = hd_gpg_open(&g, j->st, e)) != 0)
		goto out;
	if (j->have_signer && hd_key_passphrase(j->st, j->signer.fpr,
	    &pass) == 0)
		hd_gpg_set_passphrase(g, pass);
	if (j->o->encrypt) {
		/* A large message's ciphertext is staged too. */
		if (j->outfd >= 0 && blen >= HD_STAGE_MIN)
			cfd = hd_stage_open(NULL, NULL);
		g_ptr_array_add(j->fprs, NULL);
		g_ptr_array_add(j->hidden, NULL);
		rc = hd_gpg_encrypt(g, (char **)j->fprs->pdata,
		    (char **)j->hidden->pdata, j->have_signer ?
		    j->signer.fpr : NULL, body, blen, cfd, &res, &rlen, e);
		g_ptr_array_remove_index(j->fprs, j->fprs->len - 1);
		g_ptr_array_remove_index(j->hidden, j->hidden->len - 1);
		g_free(body);
		body = NULL;
		if (rc == 0)
			rc = hd_msg_encrypted(j->msg, res, rlen, cfd, out,
			    outlen, e);
		res = NULL;	/* the message's now */
	} else {
		rc = hd_gpg_sign(g, j->signer.fpr, body, blen, &res, &rlen,
		    hash, sizeof(hash), e);
		if (rc == 0) {
			char *micalg = g_strdup_printf("pgp-%s", hash);

			rc = hd_msg_signed(j->msg, body, blen, res, rlen,
			    micalg, out, outlen, e);
			body = NULL;	/* the message's now */
			g_free(micalg);
		}
	}
	if (rc != 0 && j->have_signer)
		rc = crypto_failed(e, j->signer.fpr);
out:
	hd_secure_free(pass);
	g_free(res);
	g_free(body);
	if (cfd >= 0)
		close(cfd);
	hd_gpg_close(g);
	return rc;
}

/*
 * The message in file (NULL: stdin) signed and/or encrypted as o says,
 * with the state in dir (NULL: the default).  All or nothing: *out only
 * on success.  A large message's result is staged in a file (*outfd, at
 * offset 0; *out is then NULL), not in memory.
 */
int
hd_outgoing(const char *dir, const char *file, const struct hd_out *o,
    char **out, size_t *outlen, int *outfd, struct hd_error *e)
{
	struct hd_state *st;
	char *in;
	size_t inlen;
	int rc;

	*out = NULL;
	*outfd = -1;
	if ((rc = hd_read_file(file, &in, &inlen, e)) != 0)
		return rc;
	if (inlen >= HD_STAGE_MIN)
		*outfd = hd_stage_open(NULL, NULL);
	if ((rc = hd_state_open(&st, dir, 1, e)) == 0) {
		rc = hd_outgoing_buf(st, in, inlen, o, *outfd, out, outlen, e);
		hd_state_close(st);
	}
	g_free(in);
	return rc;
}

/*
 * The same for a message in memory, with the state open; outfd >= 0
 * takes the result instead of *out.
 */
int
hd_outgoing_buf(struct hd_state *st, const char *in, size_t inlen,
    const struct hd_out *o, int outfd, char **out, size_t *outlen,
    struct hd_error *e)
{
	struct job j;
	int rc, kind;

	memset(&j, 0, sizeof(j));
	j.st = st;
	j.o = o;
	j.outfd = outfd;
	j.problems = g_string_new(NULL);
	j.to = g_string_new(NULL);
	j.keys = g_string_new(NULL);
	j.fprs = g_ptr_array_new_with_free_func(g_free);
	j.hidden = g_ptr_array_new_with_free_func(g_free);
	if ((rc = hd_msg_parse(in, inlen, &j.msg, e)) != 0) {
		log_job(&j, "failed", e->text);
		goto out;
	}
	j.from = hd_msg_from(j.msg);
	j.msgid = hd_msg_id(j.msg);
	kind = hd_msg_kind(j.msg);
	/* Running a filter twice never wraps twice: logged as skipped. */
	if (kind == HD_MSG_ENCRYPTED || (kind == HD_MSG_SIGNED && !o->encrypt)) {
		if ((rc = hd_put(outfd, in, inlen, out, outlen, e)) != 0)
			goto out;
		log_job(&j, "skipped", kind == HD_MSG_ENCRYPTED ?
		    "already encrypted" : "already signed");
		goto out;
	}
	choose_keys(&j);
	if (o->encrypt && j.fprs->len + j.hidden->len == 0 &&
	    j.problems->len == 0)
		rc = hd_error_set(e, HD_E_DATA, "message has no recipients "
		    "(To, Cc, Bcc or -r)");
	else if (j.problems->len > 0)
		rc = hd_error_set(e, j.cause, "%s", j.problems->str);
	else {
		hd_msg_set_output(j.msg, outfd);
		rc = run_crypto(&j, out, outlen, e);
	}
	log_job(&j, rc == 0 ? "success" : "failed", rc == 0 ? NULL : e->text);
out:
	if (j.have_signer)
		hd_key_free(&j.signer);
	hd_msg_free(j.msg);
	g_strfreev(j.from);
	g_free(j.sender);
	g_free(j.msgid);
	g_string_free(j.problems, TRUE);
	g_string_free(j.to, TRUE);
	g_string_free(j.keys, TRUE);
	g_ptr_array_free(j.fprs, TRUE);
	g_ptr_array_free(j.hidden, TRUE);
	g_strfreev(j.bcc);
	return rc;
}
