/*
 * incoming.c: a customer's mail verified and decrypted, the common path
 * of hdpgp-verify and hdpgp-decrypt: the message with our verdict fields
 * (filter mode), the fields alone (check mode) or JSON; the verdicts are
 * described in doc/DESIGN, "Verdicts".
 *
 * Verdicts are ours alone: the input's own X-Hdpgp-* fields are dropped,
 * every string from a key or a message is sanitised before it reaches a
 * header, the log or stdout, and a decryption that fails in any way
 * writes not one byte of plaintext.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "hdpgp-priv.h"
#include "json.h"

enum { ENC_NONE, ENC_DECRYPTED, ENC_FAILED, ENC_SKIPPED };
enum { MATCH_NO, MATCH_YES, MATCH_AMBIGUOUS };

static const char *verdicts[] = { "good", "bad", "unknown-key", "expired-key",
    "revoked-key", "expired-signature", "error", "weak-hash" };
static const char *matches[] = { "no", "yes", "ambiguous" };

struct sigrep {
	int		 verdict;
	char		 signer[41];	/* fingerprint, or key ID if unknown */
	char		*uid;		/* sanitised */
	int		 match;
	int		 full;
	char		*reason;
};

struct report {
	const struct hd_crypto *ops;
	struct hd_state	*st;
	const struct hd_in *opt;
	const char	*name;		/* labels the answer, or NULL */
	int		 outfd;		/* filter mode writes here, or -1 */
	struct hd_msg	*msg;
	GArray		*sigs;		/* struct sigrep */
	int		 enc;
	int		 enc_full;
	char		 enc_key[41];
	char		*enc_reason;
	char		*sender;	/* the From that is shown, or NULL */
	int		 from_differs;	/* a protected From unlike the outer */
	char		*msgid;
};

static void
add_sig(struct report *r, int verdict, const char *signer, int full,
    const char *reason)
{
	struct sigrep s;
	struct hd_keyset ks = { 0 };
	struct hd_error e;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.verdict = verdict;
	s.full = full;
	s.reason = reason != NULL ? hd_sanitize(reason) : NULL;
	g_strlcpy(s.signer, signer != NULL ? signer : "", sizeof(s.signer));
	/* The signer as the store knows it: primary key, user ID, status. */
	if (signer != NULL && *signer != '\0' &&
	    hd_key_find(r->st, signer, &ks, &e) == 0 && ks.n == 1) {
		const struct hd_key *k = &ks.key[0];

		g_strlcpy(s.signer, k->fpr, sizeof(s.signer));
		for (i = 0; i < k->nuid; i++)
			if (s.uid == NULL && !k->uid[i].revoked)
				s.uid = hd_sanitize(k->uid[i].uid);
		if (s.uid == NULL && k->nuid > 0)
			s.uid = hd_sanitize(k->uid[0].uid);
		/* The store's word on the key counts as much as gpg's. */
		if (s.verdict == HD_SIG_GOOD && k->revoked)
			s.verdict = HD_SIG_REVOKED_KEY;
		else if (s.verdict == HD_SIG_GOOD && k->expires != 0 &&
		    k->expires <= time(NULL))
			s.verdict = HD_SIG_EXPIRED_KEY;
	} else if (verdict == HD_SIG_GOOD)
		s.verdict = HD_SIG_UNKNOWN_KEY;
	hd_keyset_free(&ks);
	g_array_append_val(r->sigs, s);
}

static void
add_sigs(struct report *r, const struct hd_sigs *sigs, int full)
{
	size_t i;

	for (i = 0; i < sigs->n; i++)
		add_sig(r, sigs->sig[i].verdict, sigs->sig[i].fpr, full,
		    sigs->sig[i].why);
}

/*
 * Does the signer's key carry the address of the From that is shown?
 * Judged once every signature is in and protected headers are restored:
 * the From a reader sees is the From that is judged, and a protected
 * From unlike the outer one is itself a finding.
 */
static int
match_of(struct report *r, const char *signer)
{
	struct hd_keyset ks = { 0 };
	struct hd_error e;
	int m = MATCH_NO;

	if (r->sender == NULL || r->from_differs)
		return MATCH_AMBIGUOUS;
	/* Not a key held back from the address (issue 10). */
	if (hd_key_find(r->st, signer, &ks, &e) == 0 && ks.n == 1 &&
	    hd_key_serves(r->st, ks.key[0].fpr, r->sender))
		m = MATCH_YES;
	hd_keyset_free(&ks);
	return m;
}

static void
judge_from(struct report *r, char **prot)
{
	char *inner;
	guint i;

	for (i = 0; prot != NULL && prot[i] != NULL; i++) {
		if (g_ascii_strncasecmp(prot[i], "From:", 5) != 0)
			continue;
		inner = hd_addr_single(prot[i] + 5);
		r->from_differs = inner == NULL || r->sender == NULL ||
		    strcmp(inner, r->sender) != 0;
		g_free(r->sender);
		r->sender = inner;
	}
	for (i = 0; i < r->sigs->len; i++) {
		struct sigrep *s = &g_array_index(r->sigs, struct sigrep, i);

		if (*s->signer == '\0')
			continue;
		s->match = match_of(r, s->signer);
		if (r->from_differs && s->reason == NULL)
			s->reason = g_strdup("the protected From is not the "
			    "outer From");
	}
}

/*
 * Parsers could read the message differently (mime-check.c): no
 * signature is judged, nothing is decrypted, and one error says why.
 */
static void
refuse(struct report *r, const char *why, int encrypted)
{
	guint i;

	for (i = 0; i < r->sigs->len; i++) {
		g_free(g_array_index(r->sigs, struct sigrep, i).uid);
		g_free(g_array_index(r->sigs, struct sigrep, i).reason);
	}
	g_array_set_size(r->sigs, 0);
	add_sig(r, HD_SIG_ERROR, NULL, 0, why);
	if (encrypted) {
		r->enc = ENC_FAILED;
		r->enc_full = 0;
		*r->enc_key = '\0';
		g_free(r->enc_reason);
		r->enc_reason = g_strdup(why);
	}
}

static void
verify_found(struct report *r, struct hd_gpg *g, const struct hd_found *f,
    int full)
{
	struct hd_sigs sigs;
	struct hd_error e;
	char *plain = NULL;
	size_t plen;

	if (f->error != NULL) {
		add_sig(r, HD_SIG_ERROR, NULL, full, f->error);
		return;
	}
	if ((f->kind == HD_FOUND_SIGNED ? r->ops->verify(g, f->sig, f->siglen,
	    f->data, f->len, NULL, NULL, &sigs, &e) : r->ops->verify(g,
	    f->data, f->len, NULL, 0, &plain, &plen, &sigs, &e)) != 0) {
		add_sig(r, HD_SIG_ERROR, NULL, 0, e.text);
		return;
	}
	g_free(plain);
	add_sigs(r, &sigs, full);
	hd_sigs_free(&sigs);
}

static char *
lookup_pass(void *arg, const char *keyid)
{
	struct hd_state *st = arg;
	struct hd_keyset ks;
	struct hd_error e;
	char *pass = NULL;

	if (hd_key_find(st, keyid, &ks, &e) == 0) {
		if (ks.n == 1)
			hd_key_passphrase(st, ks.key[0].fpr, &pass);
		hd_keyset_free(&ks);
	}
	return pass;
}

/* gpg for a message: its plaintext budget, the stored passphrases. */
static int
gpg_open(struct hd_gpg **g, struct hd_state *st, size_t budget,
    struct hd_error *e)
{
	int rc;

	if ((rc = hd_gpg_open(g, st, e)) != 0)
		return rc;
	hd_gpg_set_budget(*g, budget);
	hd_gpg_set_lookup(*g, lookup_pass, st);
	return 0;
}

const struct hd_crypto hd_gpg_crypto = { gpg_open, hd_gpg_close,
    hd_gpg_verify, hd_gpg_decrypt };

/* The key that opened the message, as the store names it. */
static void
set_enc_key(struct report *r, const char *keyid)
{
	struct hd_keyset ks;
	struct hd_error e;

	g_strlcpy(r->enc_key, keyid, sizeof(r->enc_key));
	if (hd_key_find(r->st, keyid, &ks, &e) == 0) {
		if (ks.n == 1)
			g_strlcpy(r->enc_key, ks.key[0].fpr,
			    sizeof(r->enc_key));
		hd_keyset_free(&ks);
	}
}

/*
 * Decrypt one entity that is the whole message.  On success *entity is
 * the decrypted MIME entity (for inline armor, made one).
 */
static int
decrypt_found(struct report *r, struct hd_gpg *g, const struct hd_found *f,
    char **entity, size_t *elen)
{
	struct hd_sigs sigs;
	struct hd_error e;
	char *plain, keyid[17];
	size_t plen;

	if (f->error != NULL) {
		r->enc = ENC_FAILED;
		r->enc_reason = hd_sanitize(f->error);
		return -1;
	}
	if (r->ops->decrypt(g, f->data, f->len, &plain, &plen, &sigs, keyid,
	    &e) != 0) {
		r->enc = ENC_FAILED;
		r->enc_reason = hd_sanitize(e.text);
		return -1;
	}
	r->enc = ENC_DECRYPTED;
	r->enc_full = 1;
	set_enc_key(r, keyid);
	/* Signed in the same pass (RFC 3156 §6.2): covers it all. */
	add_sigs(r, &sigs, 1);
	hd_sigs_free(&sigs);
	if (f->kind == HD_FOUND_ARMORED) {
		/* Every byte: a NUL in it is for the reading to refuse. */
		GString *t = g_string_sized_new(plen + 64);

		g_string_append(t, "Content-Type: text/plain; charset=utf-8"
		    "\n\n");
		g_string_append_len(t, plain, plen);
		explicit_bzero(plain, plen);
		g_free(plain);
		*elen = t->len;
		*entity = g_string_free(t, FALSE);
	} else {
		*entity = plain;
		*elen = plen;
	}
	return 0;
}

/*
 * Encrypted parts opened where they stand (files, and inline armor in a
 * message whose every part is encrypted).  All or nothing: one failure
 * and no part is replaced.
 */
static void
decrypt_parts(struct report *r, struct hd_gpg *g, struct hd_found **found,
    size_t n)
{
	struct hd_sigs *sigs;
	struct hd_error e;
	char **plain, keyid[17];
	size_t *plen, i;
	int ok = 1, full = 1;

	plain = g_new0(char *, n);
	plen = g_new0(size_t, n);
	sigs = g_new0(struct hd_sigs, n);
	for (i = 0; i < n && ok; i++) {
		if (!found[i]->in_place)
			continue;
		if (r->ops->decrypt(g, found[i]->data, found[i]->len, &plain[i],
		    &plen[i], &sigs[i], keyid, &e) != 0) {
			r->enc_reason = hd_sanitize(e.text);
			ok = 0;
			break;
		}
		if (*r->enc_key == '\0')
			set_enc_key(r, keyid);
		full &= found[i]->whole;
	}
	for (i = 0; i < n; i++) {
		if (ok && plain[i] != NULL) {
			hd_msg_replace(r->msg, found[i], plain[i], plen[i]);
			add_sigs(r, &sigs[i], found[i]->whole);
		}
		if (plain[i] != NULL)
			explicit_bzero(plain[i], plen[i]);
		g_free(plain[i]);
		hd_sigs_free(&sigs[i]);
	}
	r->enc = ok ? ENC_DECRYPTED : ENC_FAILED;
	r->enc_full = ok && full;
	g_free(plain);
	g_free(plen);
	g_free(sigs);
}

/*
 * Signatures inside what was decrypted (the nested form, §6.1), and its
 * protected header fields.  -1 when parsers could read the decrypted
 * entity differently: then it is not to be shown.
 */
static int
verify_inner(struct report *r, struct hd_gpg *g, const char *entity,
    size_t elen, char ***protected)
{
	struct hd_msg *inner;
	struct hd_found **found;
	struct hd_error e;
	size_t n, i;

	if (hd_msg_parse(entity, elen, &inner, &e) != 0)
		return 0;
	if (hd_msg_ambiguous(inner) != NULL) {
		refuse(r, hd_msg_ambiguous(inner), 1);
		hd_msg_free(inner);
		return -1;
	}
	*protected = hd_msg_protected(inner);
	hd_msg_find(inner, &found, &n);
	for (i = 0; i < n; i++)
		if (found[i]->kind == HD_FOUND_SIGNED ||
		    found[i]->kind == HD_FOUND_CLEARSIGNED ||
		    found[i]->kind == HD_FOUND_ERROR)
			verify_found(r, g, found[i], found[i]->whole);
	hd_found_free(found, n);
	hd_msg_free(inner);
	return 0;
}

/*
 * A parameter value, quoted.  At most QUOTED_MAX bytes of it, cut at a
 * character and marked "...", so that a verdict field stays one line
 * within RFC 5322's 998 characters whatever a user ID holds (the JSON
 * verdict has it whole).
 */
#define QUOTED_MAX	200

static char *
quoted(const char *s)
{
	GString *q = g_string_new("\"");
	const char *end = s + strlen(s);

	if (end - s > QUOTED_MAX)
		end = g_utf8_find_prev_char(s, s + QUOTED_MAX + 1);
	for (; s < end; s++) {
		if (*s == '"' || *s == '\\')
			g_string_append_c(q, '\\');
		g_string_append_c(q, *s);
	}
	if (*s != '\0')
		g_string_append(q, "...");
	g_string_append_c(q, '"');
	return g_string_free(q, FALSE);
}

static char *
sig_value(const struct sigrep *s)
{
	GString *v = g_string_new(verdicts[s->verdict]);
	char *q;

	if (*s->signer != '\0')
		g_string_append_printf(v, "; signer=%s", s->signer);
	if (s->uid != NULL) {
		q = quoted(s->uid);
		g_string_append_printf(v, "; uid=%s", q);
		g_free(q);
	}
	/* A signature we could not even read has no signer to match. */
	if (*s->signer != '\0')
		g_string_append_printf(v, "; from-match=%s",
		    matches[s->match]);
	g_string_append_printf(v, "; coverage=%s", s->full ? "full" :
	    "partial");
	if (s->reason != NULL) {
		q = quoted(s->reason);
		g_string_append_printf(v, "; reason=%s", q);
		g_free(q);
	}
	return g_string_free(v, FALSE);
}

static char *
enc_value(const struct report *r)
{
	GString *v = g_string_new(NULL);
	char *q;

	switch (r->enc) {
	case ENC_NONE:
		g_string_append(v, "none");
		break;
	case ENC_DECRYPTED:
		g_string_append_printf(v, "decrypted; key=%s; coverage=%s",
		    r->enc_key, r->enc_full ? "full" : "partial");
		break;
	case ENC_FAILED:
		g_string_append(v, "failed");
		break;
	case ENC_SKIPPED:
		g_string_append_printf(v, "encrypted; coverage=%s",
		    r->enc_full ? "full" : "partial");
		break;
	}
	if (r->enc_reason != NULL) {
		q = quoted(r->enc_reason);
		g_string_append_printf(v, "; reason=%s", q);
		g_free(q);
	}
	return g_string_free(v, FALSE);
}

/* The fields we add: one X-Hdpgp-Signature per signature. */
static char **
stamps(const struct report *r)
{
	GPtrArray *a = g_ptr_array_new();
	char *v;
	guint i;

	for (i = 0; i < r->sigs->len; i++) {
		v = sig_value(&g_array_index(r->sigs, struct sigrep, i));
		g_ptr_array_add(a, g_strdup_printf("X-Hdpgp-Signature: %s", v));
		g_free(v);
	}
	if (r->sigs->len == 0)
		g_ptr_array_add(a, g_strdup("X-Hdpgp-Signature: none"));
	v = enc_value(r);
	g_ptr_array_add(a, g_strdup_printf("X-Hdpgp-Encryption: %s", v));
	g_free(v);
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

/*
 * The check-mode status (doc/DESIGN, "Exit statuses"): for verify, 0
 * only for signatures all good, by a valid key, by the sender, over the
 * whole message.
 */
static int
sig_status(const struct report *r)
{
	int trusted = 1;
	guint i;

	for (i = 0; i < r->sigs->len; i++) {
		const struct sigrep *s = &g_array_index(r->sigs,
		    struct sigrep, i);

		if (s->verdict == HD_SIG_BAD || s->verdict == HD_SIG_ERROR)
			return HD_BAD;
		if (s->verdict != HD_SIG_GOOD || s->match != MATCH_YES ||
		    !s->full)
			trusted = 0;
	}
	if (r->sigs->len == 0)
		return HD_NONE;
	return trusted ? HD_OK : HD_UNTRUSTED;
}

/* For decrypt, the decryption decides, and a bad signature inside. */
static int
msg_status(const struct report *r)
{
	int sig = sig_status(r);

	if (!r->opt->decrypt)
		return sig;
	if (r->enc == ENC_FAILED || sig == HD_BAD)
		return HD_BAD;
	/* Part of the message encrypted, opened or not: not the whole
	 * story, so a procmail condition must not take it for one. */
	if (r->enc == ENC_SKIPPED || (r->enc == ENC_DECRYPTED &&
	    !r->enc_full))
		return HD_UNTRUSTED;
	/* The From shown is not the outer one: not the whole story. */
	if (r->enc == ENC_DECRYPTED && r->from_differs)
		return HD_UNTRUSTED;
	return r->enc == ENC_DECRYPTED ? HD_OK : HD_NONE;
}

static void
json_sig(JsonBuilder *b, const struct sigrep *s)
{
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "verdict");
	json_builder_add_string_value(b, verdicts[s->verdict]);
	json_builder_set_member_name(b, "signer");
	json_builder_add_string_value(b, s->signer);
	hd_json_member(b, "uid", s->uid);
	hd_json_member(b, "from_match", *s->signer != '\0' ?
	    matches[s->match] : NULL);
	json_builder_set_member_name(b, "coverage");
	json_builder_add_string_value(b, s->full ? "full" : "partial");
	hd_json_member(b, "reason", s->reason);
	json_builder_end_object(b);
}

static void
json_result(JsonBuilder *b, const char *name, int success, const char *c)
{
	json_builder_set_member_name(b, name);
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "success");
	json_builder_add_boolean_value(b, success);
	json_builder_set_member_name(b, "comment");
	json_builder_add_string_value(b, c);
	json_builder_end_object(b);
}

/* Zammad's shape, {type, sign, encryption}, then the details. */
static char *
report_json(const struct report *r, int status)
{
	JsonBuilder *b = json_builder_new();
	char *sv, *ev, *s;
	guint i;

	sv = r->sigs->len ? sig_value(&g_array_index(r->sigs, struct sigrep,
	    0)) : g_strdup("none");
	ev = enc_value(r);
	json_builder_begin_object(b);
	if (r->name != NULL) {
		json_builder_set_member_name(b, "file");
		json_builder_add_string_value(b, r->name);
	}
	json_builder_set_member_name(b, "type");
	json_builder_add_string_value(b, "PGP");
	json_result(b, "sign", sig_status(r) == HD_OK, sv);
	json_result(b, "encryption", r->enc == ENC_DECRYPTED, ev);
	json_builder_set_member_name(b, "signatures");
	json_builder_begin_array(b);
	for (i = 0; i < r->sigs->len; i++)
		json_sig(b, &g_array_index(r->sigs, struct sigrep, i));
	json_builder_end_array(b);
	json_builder_set_member_name(b, "encryption_verdict");
	json_builder_add_string_value(b, ev);
	hd_json_member(b, "message_id", r->msgid);
	json_builder_set_member_name(b, "status");
	json_builder_add_int_value(b, status);
	json_builder_end_object(b);
	s = hd_json_finish(b, 0);
	g_free(sv);
	g_free(ev);
	return s;
}

static void
log_report(struct report *r, int status, char **st)
{
	struct hd_logrec l = { 0 };
	GString *keys = g_string_new(NULL), *comment = g_string_new(NULL);
	char *to = NULL, **rcpt;
	guint i;

	for (i = 0; i < r->sigs->len; i++) {
		const char *f = g_array_index(r->sigs, struct sigrep, i).signer;

		if (*f != '\0')
			g_string_append_printf(keys, "%s%s", keys->len ? " " :
			    "", f);
	}
	if (*r->enc_key != '\0')
		g_string_append_printf(keys, "%s%s", keys->len ? " " : "",
		    r->enc_key);
	for (i = 0; st[i] != NULL; i++)
		g_string_append_printf(comment, "%s%s", i ? " | " : "",
		    st[i] + strlen("X-Hdpgp-"));
	l.time = time(NULL);
	l.direction = "in";
	l.action = r->opt->decrypt ? "decrypt" : "verify";
	if (r->opt->decrypt)
		l.result = r->enc == ENC_DECRYPTED ? "success" :
		    r->enc == ENC_FAILED ? "failed" : "skipped";
	else
		l.result = status == HD_OK ? "success" : status == HD_NONE ?
		    "skipped" : "failed";
	l.message_id = r->msgid;
	l.from = r->sender;
	if (r->msg != NULL) {
		rcpt = hd_msg_recipients(r->msg);
		to = g_strjoinv(",", rcpt);
		g_strfreev(rcpt);
	}
	l.to = to != NULL && *to != '\0' ? to : NULL;
	l.keys = keys->len ? keys->str : NULL;
	l.comment = comment->str;
	hd_log_note(r->st, &l);
	g_string_free(keys, TRUE);
	g_string_free(comment, TRUE);
	g_free(to);
}

/* What gpg has read is not needed again: less at the peak. */
static void
drop_data(struct hd_found *f)
{
	if (!f->borrowed)
		g_free(f->data);
	g_free(f->sig);
	f->data = f->sig = NULL;
	f->len = f->siglen = 0;
}

static int
is_encrypted(const struct hd_found *f)
{
	return f->kind == HD_FOUND_ENCRYPTED || f->kind == HD_FOUND_ARMORED ||
	    f->kind == HD_FOUND_ATTACHMENT;
}

/* Verify what is signed, and decrypt what may be decrypted. */
static void
judge(struct report *r, struct hd_gpg *g, struct hd_found **found, size_t n,
    char **entity, size_t *elen, char ***prot)
{
	size_t i;
	int done = 0, in_place = 0;

	for (i = 0; i < n; i++) {
		const struct hd_found *f = found[i];

		if (!is_encrypted(f)) {
			verify_found(r, g, f, f->whole);
			drop_data(found[i]);
			continue;
		}
		if (r->opt->decrypt && f->in_place) {
			in_place++;
			continue;
		}
		/*
		 * Only an entity that is the whole message is decrypted:
		 * one among other parts would leak into its siblings
		 * (EFAIL: doc/DESIGN, "Attack classes", #18 and #19).
		 */
		if (r->opt->decrypt && f->whole && !done &&
		    f->kind != HD_FOUND_ATTACHMENT) {
			done = 1;
			if (decrypt_found(r, g, f, entity, elen) == 0 &&
			    verify_inner(r, g, *entity, *elen, prot) != 0) {
				explicit_bzero(*entity, *elen);
				g_free(*entity);
				*entity = NULL;
			}
			drop_data(found[i]);
		} else if (r->enc == ENC_NONE) {
			r->enc = ENC_SKIPPED;
			r->enc_full = f->whole;
			if (r->opt->decrypt)
				r->enc_reason = g_strdup("not the whole "
				    "message: not decrypted");
		}
	}
	if (in_place > 0 && !done)
		decrypt_parts(r, g, found, n);
	else if (in_place > 0 && r->enc == ENC_NONE)
		r->enc = ENC_SKIPPED;
}

static int
run(struct report *r, const char *in, size_t inlen, char **out,
    size_t *outlen, int *status, struct hd_error *e)
{
	struct hd_found **found = NULL;
	struct hd_gpg *g = NULL;
	GPtrArray *drop = g_ptr_array_new_with_free_func(g_free);
	char *entity = NULL, **st = NULL, **prot = NULL, *json;
	const char *why;
	size_t n = 0, i, elen = 0;
	int rc, encrypted = 0;

	if ((rc = hd_msg_parse(in, inlen, &r->msg, e)) != 0) {
		g_ptr_array_free(drop, TRUE);
		return rc;
	}
	r->sender = hd_msg_sender(r->msg);
	r->msgid = hd_msg_id(r->msg);
	hd_msg_find(r->msg, &found, &n);
	for (i = 0; i < n; i++)
		encrypted |= is_encrypted(found[i]);
	if ((why = hd_msg_ambiguous(r->msg)) != NULL)
		refuse(r, why, encrypted);
	else if (n > 0) {
		/* Bounded per message, not per part: eight bombs are one. */
		if ((rc = r->ops->open(&g, r->st, MAX(HD_PLAIN_MAX, 8 * inlen),
		    e)) != 0)
			goto out;
		judge(r, g, found, n, &entity, &elen, &prot);
	}
	judge_from(r, prot);
	st = stamps(r);
	*status = msg_status(r);
	if (r->opt->mode == HD_IN_FILTER) {
		/* Protected fields replace their outer placeholders. */
		for (i = 0; prot != NULL && prot[i] != NULL; i++)
			g_ptr_array_add(drop, g_strndup(prot[i],
			    strcspn(prot[i], ":")));
		g_ptr_array_add(drop, NULL);
		hd_msg_set_output(r->msg, r->outfd);
		if ((rc = hd_msg_rewrite(r->msg, (const char *const *)st,
		    (const char *const *)drop->pdata,
		    (const char *const *)prot, entity, elen, out,
		    outlen, e)) != 0)
			goto out;
	}
	else if (r->opt->mode == HD_IN_JSON) {
		*out = g_strconcat(json = report_json(r, *status), "\n",
		    NULL);
		*outlen = strlen(*out);
		g_free(json);
	} else {
		GString *s = g_string_new(NULL);

		for (i = 0; st[i] != NULL; i++) {
			if (r->name != NULL)
				g_string_append_printf(s, "%s: ", r->name);
			g_string_append_printf(s, "%s\n", st[i]);
		}
		*outlen = s->len;
		*out = g_string_free(s, FALSE);
	}
	log_report(r, *status, st);
out:
	if (entity != NULL)
		explicit_bzero(entity, elen);
	g_free(entity);
	g_strfreev(st);
	g_strfreev(prot);
	hd_found_free(found, n);
	if (g != NULL)
		r->ops->close(g);
	g_ptr_array_free(drop, TRUE);
	return rc;
}

/*
 * The message in file (NULL: stdin) verified, and with decrypt set
 * decrypted, answered as o->mode says; *status is its status (HD_OK,
 * HD_BAD, HD_NONE or HD_UNTRUSTED), what check mode exits with.  A large
 * message's filter-mode result is staged in a file (*outfd, at offset 0;
 * *out is then NULL), not in memory.
 */
int
hd_incoming(const char *dir, const char *file, const struct hd_in *o,
    char **out, size_t *outlen, int *outfd, int *status, struct hd_error *e)
{
	struct hd_state *st;
	char *in;
	size_t inlen;
	int rc;

	*out = NULL;
	*outfd = -1;
	if ((rc = hd_read_file(file, &in, &inlen, e)) != 0)
		return rc;
	if (o->mode == HD_IN_FILTER && inlen >= HD_STAGE_MIN)
		*outfd = hd_stage_open(NULL, NULL);
	if ((rc = hd_state_open(&st, dir, 1, e)) == 0) {
		rc = hd_incoming_buf(st, NULL, in, inlen, o, *outfd, out,
		    outlen, status, e);
		hd_state_close(st);
	}
	g_free(in);
	return rc;
}

/*
 * The same for a message in memory, with the state open.  name, when
 * not NULL, labels the answer of check and JSON mode (several files);
 * outfd >= 0 takes filter mode's message instead of *out.
 */
int
hd_incoming_buf(struct hd_state *st, const char *name, const char *in,
    size_t inlen, const struct hd_in *o, int outfd, char **out,
    size_t *outlen, int *status, struct hd_error *e)
{
	return hd_incoming_with(&hd_gpg_crypto, st, name, in, inlen, o, outfd,
	    out, outlen, status, e);
}

/* The same with OpenPGP done by ops (the fuzz target's stand-in). */
int
hd_incoming_with(const struct hd_crypto *ops, struct hd_state *st,
    const char *name, const char *in, size_t inlen, const struct hd_in *o,
    int outfd, char **out, size_t *outlen, int *status, struct hd_error *e)
{
	struct report r;
	guint i;
	int rc;

	*out = NULL;
	*status = HD_NONE;
	memset(&r, 0, sizeof(r));
	r.ops = ops;
	r.st = st;
	r.opt = o;
	r.name = name;
	r.outfd = outfd;
	r.sigs = g_array_new(FALSE, TRUE, sizeof(struct sigrep));
	rc = run(&r, in, inlen, out, outlen, status, e);
	for (i = 0; i < r.sigs->len; i++) {
		g_free(g_array_index(r.sigs, struct sigrep, i).uid);
		g_free(g_array_index(r.sigs, struct sigrep, i).reason);
	}
	g_array_free(r.sigs, TRUE);
	hd_msg_free(r.msg);
	g_free(r.enc_reason);
	g_free(r.sender);
	g_free(r.msgid);
	return rc;
}
