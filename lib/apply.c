/*
 * apply.c: the one outgoing step a helpdesk runs for every reply
 * (hdpgp-group apply): the decision that the composer check shows
 * (hd_group_decide), logged with its reason, then carried out by the
 * outgoing path.  It sits above both, which know nothing of each other.
 */
#include "config.h"

#include <glib.h>

#include "hdpgp-priv.h"

/*
 * The apply record names the draft, so that a refused reply is found by
 * hdpgp-log --message-id like hdpgp-encrypt's own refusal (issue 10).
 */
static void
log_apply(struct hd_state *st, const char *name, const struct hd_decision *d,
    const char *result, const char *comment)
{
	struct hd_logrec r = { 0 };

	r.time = time(NULL);
	r.direction = "out";
	r.action = "group-apply";
	r.result = result;
	r.message_id = d->message_id;
	r.from = d->from;
	r.to = d->to;
	r.group = name;
	r.comment = comment;
	hd_log_note(st, &r);
}

/*
 * The group's defaults, or the agent's explicit choice (sign, encrypt:
 * -1 default, 0 off, 1 on).  An explicit request that cannot be honoured
 * fails closed with the reason; by default an action runs when it is
 * possible and on, so a reply to a customer without a key goes out
 * unencrypted, as the composer showed.
 */
int
hd_group_apply(struct hd_state *st, const char *name, const char *draft,
    size_t len, int sign, int encrypt, char **out, size_t *outlen,
    struct hd_error *e)
{
	struct hd_decision d;
	struct hd_out o = { 0 };
	char *comment;
	int rc, do_sign, do_enc;

	if ((rc = hd_group_decide(st, name, draft, len, &d, e)) != 0) {
		hd_log_action(st, "group-apply", "failed", name, NULL,
		    e->text);
		return rc;
	}
	do_sign = sign == -1 ? d.sign_active : sign;
	do_enc = encrypt == -1 ? d.encrypt_active : encrypt;
	if (sign == 1 && !d.sign_possible)
		rc = hd_error_set(e, HD_E_UNAVAILABLE, "cannot sign: %s",
		    d.sign_why);
	else if (encrypt == 1 && !d.encrypt_possible)
		rc = hd_error_set(e, HD_E_UNAVAILABLE, "cannot encrypt: %s",
		    d.encrypt_why);
	comment = g_strdup_printf("sign %s (%s%s%s), encrypt %s (%s%s%s)",
	    do_sign ? "yes" : "no", sign == -1 ? "default" : "asked",
	    d.sign_why ? ": " : "", d.sign_why ? d.sign_why : "",
	    do_enc ? "yes" : "no", encrypt == -1 ? "default" : "asked",
	    d.encrypt_why ? ": " : "", d.encrypt_why ? d.encrypt_why : "");
	log_apply(st, name, &d, rc == 0 ? "success" : "failed",
	    rc == 0 ? comment : e->text);
	g_free(comment);
	if (rc == 0 && !do_sign && !do_enc) {
		/* Neither: the draft goes out as it came. */
		rc = hd_put(-1, draft, len, out, outlen, e);
	} else if (rc == 0) {
		o.group = name;
		o.sign = do_sign;
		o.encrypt = do_enc;
		o.self = d.self;
		rc = hd_outgoing_buf(st, draft, len, &o, -1, out, outlen, e);
	}
	hd_decision_free(&d);
	return rc;
}
