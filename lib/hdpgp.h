/*
 * hdpgp.h: the one header the tools include (lib/hdpgp-priv.h is the
 * library's own).
 *
 * The library never prints and never exits: every call that can fail
 * returns 0 or the cause it leaves in a struct hd_error, whose text the
 * tool prints once, with the exit status hd_exit_status gives.  Strings
 * the library returns are allocated with malloc(3) and freed by the
 * caller with free(3).
 *
 * The layers, lowest first; a file calls only the layers below its own
 * and the files of its own line (tests/layers.py checks it):
 *	util	 util.c: errors, strings, addresses, times, passphrase input
 *	state	 state.c, log.c, json.c: state.tdb, the log, JSON records
 *	gpg	 keyring*.c, packet.c: OpenPGP through gpgme, packets read
 *	mime	 mime*.c: MIME through gmime
 *	http	 http.c: HTTPS through libcurl
 *	keys	 keystore*.c, key-record.c, origin.c, wkd*.c: the key index
 *	policy	 policy.c: which key serves an address, the group records
 *	flows	 incoming.c, outgoing.c, group.c (none calls another)
 *	runs	 apply.c, batch.c: decide-and-apply, many files
 *	tools	 bin/: options, passphrase sources, printing, exit statuses
 */
#ifndef HDPGP_H
#define HDPGP_H

#include <stddef.h>
#include <stdint.h>
#include <sysexits.h>
#include <time.h>

/*
 * Exit statuses shared by every tool (doc/DESIGN, Exit statuses); the
 * rest are sysexits(3).
 */
#define HD_OK		0
#define HD_BAD		1	/* bad signature, decryption failed */
#define HD_NONE		2	/* not signed, not encrypted */
#define HD_UNTRUSTED	3	/* signature cannot be fully trusted */

/*
 * What went wrong, as the library knows it: set where the fact is known
 * (gpgme's error codes in keyring.c, the key rules in the key index), read by
 * callers that decide on it, and turned into an exit status only by the
 * tools, through hd_exit_status.  No caller decides on an error's text.
 */
enum hd_cause {
	HD_E_NONE = 0,
	HD_E_BAD,		/* a signature or a decryption failed */
	HD_E_NOTHING,		/* nothing signed or encrypted, nothing found */
	HD_E_USAGE,		/* an argument that cannot be right */
	HD_E_DATA,		/* input that is not what it should be */
	HD_E_NOINPUT,		/* a named file is not there */
	HD_E_UNAVAILABLE,	/* a key or service that cannot serve */
	HD_E_SOFTWARE,		/* gpg did not do what it said it did */
	HD_E_IO,		/* reading or writing failed */
	HD_E_TEMP,		/* try again: memory, a lock, the network */
	HD_E_CONFIG,		/* the state directory or a record is damaged */
	HD_E_NOKEY,		/* no key for an address or a query */
	HD_E_EXPIRED,		/* the key has expired */
	HD_E_REVOKED,		/* the key is revoked */
	HD_E_PASS_REQUIRED,	/* a secret key needs a passphrase, none given */
	HD_E_PASS_BAD,		/* the passphrase given is wrong */
	HD_E_UNSUPPORTED,	/* an algorithm or a format gpg does not do */
};

/*
 * Every call that can fail returns 0, or the cause of the error it
 * leaves in its struct hd_error (what hd_error_set returns).
 *
 * text holds one problem a line.  When they do not all fit, it holds as
 * many whole lines as do and "... and N more"; hd_error_text gives the
 * whole text (of the last such error only).
 */
struct hd_error {
	enum hd_cause	 cause;
	char		 text[4096];
	const char	*whole;		/* hd_error_set's, not the caller's */
};

/*
 * A passphrase source: the tool's way of asking for a passphrase (file,
 * descriptor or terminal) when the library finds that it needs one.
 * get() returns a malloc'd string or NULL when none can be had.
 */
struct hd_askpass {
	char	*(*get)(void *arg, const char *prompt);
	void	*arg;
};

/* util.c */
int	 hd_exit_status(int);
const char *hd_error_text(const struct hd_error *);
int	 hd_secure_init(void);
char	*hd_sanitize(const char *);
void	 hd_time_iso(time_t, char *, size_t);
void	 hd_time_date(time_t, char *, size_t);
int	 hd_parse_period(const char *, long *, struct hd_error *);
int	 hd_parse_time(const char *, time_t *, struct hd_error *);
int	 hd_read_file(const char *, char **, size_t *, struct hd_error *);
int	 hd_passphrase_file(const char *, char **, struct hd_error *);
int	 hd_passphrase_fd(int, char **, struct hd_error *);
char	*hd_passphrase_tty(const char *);
void	 hd_secure_free(char *);
int	 hd_emit(const char *, size_t, int, int);

/*
 * state.c: the state directory and state.tdb; keyring-home.c opens it
 * with its GnuPG home (hd_state_open).
 */
struct hd_state;

int	 hd_state_open(struct hd_state **, const char *, int,
	    struct hd_error *);
void	 hd_state_close(struct hd_state *);
char	**hd_state_warnings(struct hd_state *);

/* keys, as keyring.c reads (and frees) them and the key index keeps them */
struct hd_subkey {
	char		 fpr[41];
	char		 keyid[17];
	char		*algo;
	unsigned	 length;
	int		 caps;
	int		 secret;
	int		 revoked;
	int64_t		 created;
	int64_t		 expires;	/* 0: never */
};

struct hd_uid {
	char		*uid;
	char		*email;		/* normalised, NULL if none */
	int		 revoked;
};

/*
 * How a key stands to one of its addresses (issue 10): a new key never
 * takes an address over from another usable key unless the administrator
 * says so (hdpgp-key prefer, import --replace).
 */
#define HD_ROLE_SERVES	0	/* the key selected for the address */
#define HD_ROLE_STANDBY	1	/* another key serves it, or none can */
#define HD_ROLE_HELD	2	/* held back at import: a conflict */
#define HD_ROLE_REFUSED	3	/* the administrator preferred another */

struct hd_role {
	char		*address;
	int		 role;
	int		 preferred;	/* ranked first by hdpgp-key prefer */
	char		 server[41];	/* the key serving it, "" if none */
};

struct hd_key {
	char		 fpr[41];
	int64_t		 created;
	int64_t		 expires;	/* 0: never */
	int		 secret;
	int		 revoked;
	int		 disabled;
	size_t		 nsub;
	struct hd_subkey *sub;		/* sub[0] is the primary key */
	size_t		 nuid;
	struct hd_uid	*uid;
	char		*alias;		/* domain alias, NULL if none */
	int		 has_pass;	/* a passphrase is stored */
	int		 unprotected;	/* a secret key that needs none */
	size_t		 nrole;		/* filled by hd_key_roles, for show */
	struct hd_role	*role;
	struct hd_origin *origin;	/* filled by hd_key_roles, for show */
};

struct hd_keyset {
	size_t		 n;
	struct hd_key	*key;
};

void	 hd_keyset_free(struct hd_keyset *);	/* keyring.c */

enum hd_import_how {
	HD_IMPORT_NEW,
	HD_IMPORT_UPGRADED,	/* secret half added to a known public key */
	HD_IMPORT_UPDATED,	/* new user IDs, subkeys or signatures */
	HD_IMPORT_UNCHANGED,
	HD_IMPORT_REVOKED,	/* a revocation certificate alone */
};

/* keystore*.c, key-record.c: the key index in state.tdb */
#define HD_EXPIRING_DAYS	30

struct hd_import {
	size_t		 n;
	struct {
		char	 fpr[41];
		enum hd_import_how how;
		char	*uid;
		int	 secret;
		char	*warning;	/* NULL if none */
		size_t	 dropped;	/* signatures by other keys */
		size_t	 nrole;		/* its addresses, as after import */
		struct hd_role *role;
	}		*item;
};

#define HD_IMPORT_REPLACE	0x01	/* take over addresses (--replace) */
#define HD_IMPORT_NETWORK	0x02	/* fetched: never over a pinned key */

int	 hd_key_import(struct hd_state *, const char *, size_t, const char *,
	    int, const struct hd_askpass *, struct hd_import *,
	    struct hd_error *);
void	 hd_import_free(struct hd_import *);
char	*hd_import_json(const struct hd_import *);
int	 hd_key_find(struct hd_state *, const char *, struct hd_keyset *,
	    struct hd_error *);
int	 hd_key_all(struct hd_state *, struct hd_keyset *, struct hd_error *);
int	 hd_key_delete(struct hd_state *, const char *, struct hd_error *);
int	 hd_key_export(struct hd_state *, const char *, int, int, char **,
	    size_t *, struct hd_error *);
int	 hd_key_generate(struct hd_state *, const char *, const char *,
	    const char *, long, const char *, char *, struct hd_error *);
int	 hd_key_passwd(struct hd_state *, const char *, const char *,
	    struct hd_error *);
int	 hd_key_alias(struct hd_state *, const char *, const char *,
	    struct hd_error *);
int	 hd_key_prefer(struct hd_state *, const char *, const char *,
	    struct hd_error *);
void	 hd_key_roles(struct hd_state *, struct hd_key *, time_t);
const char *hd_role_name(int);

struct hd_conflict {
	char		*address;
	char		 server[41];	/* "" if none serves it now */
	char		**held;		/* NULL-terminated fingerprints */
};

int	 hd_key_conflicts(struct hd_state *, struct hd_conflict **, size_t *,
	    struct hd_error *);
void	 hd_conflicts_free(struct hd_conflict *, size_t);
char	*hd_check_json(const struct hd_keyset *, const struct hd_conflict *,
	    size_t, time_t);
const char *hd_key_status(const struct hd_key *, time_t);
int	 hd_key_matches(const struct hd_key *, const char *);
char	*hd_keyset_json(const struct hd_keyset *, time_t, int);

/* origin.c: where each key came from */
struct hd_origin;

char	*hd_origin_text(const struct hd_origin *);

/* http.c: HTTPS GET through libcurl, for locate and refresh only */
#define HD_KEYSERVER	"hkps://keys.openpgp.org"
#define HD_ANSWER_MAX	((size_t)256 << 10)	/* one key answer */
#define HD_REDIRECTS	3
#define HD_TIMEOUT	30

struct hd_net {
	const char	*keyserver;	/* NULL: HD_KEYSERVER */
	const char	*cafile;	/* NULL: the system's trust store */
	char		**resolve;	/* HOST:PORT:ADDRESS, as curl's */
	size_t		 nresolve;
	long		 timeout;	/* seconds, per request */
	int		 force;		/* look up pinned addresses too */
	int		 all;		/* refresh pinned public keys too */
	long		 older;		/* refresh: seconds, 0: every key */
};

char	*hd_http_base(const char *);
int	 hd_http_resolve_ok(const char *);

/* wkd.c: Web Key Directory names and the published tree */
int	 hd_wkd_publish(struct hd_state *, const char *, const char *, int,
	    char **, size_t, char ***, struct hd_error *);

/* wkd-locate.c: hdpgp-key locate and refresh */
struct hd_found_key {
	char		*address;	/* locate; NULL for refresh by key */
	char		 fpr[41];	/* "" when none */
	const char	*result;	/* imported updated unchanged pinned
					 * conflict revoked not-found failed */
	const char	*source;	/* wkd keyserver store, or "-" */
	char		*url;
	char		*why;		/* failed, not-found: what each tried
					 * source said */
	int		 cause;		/* HD_E_NONE, or why it failed:
					 * HD_E_NOTHING, HD_E_TEMP ... */
};

struct hd_found_keys {
	size_t		 n;
	struct hd_found_key *item;
};

int	 hd_key_locate(struct hd_state *, const struct hd_net *, char **,
	    size_t, struct hd_found_keys *, struct hd_error *);
int	 hd_key_refresh(struct hd_state *, const struct hd_net *, char **,
	    size_t, struct hd_found_keys *, struct hd_error *);
char	*hd_found_json(const struct hd_found_keys *);
void	 hd_found_keys_free(struct hd_found_keys *);

/*
 * group.c: per-group defaults and the composer's decision; the reads of
 * the group store (hd_group_get, hd_group_all, hd_group_free) are
 * policy.c's, since choosing a key needs them.
 */
struct hd_group {
	char		*name;
	char		*address;	/* NULL: none set */
	int		 sign;		/* defaults */
	int		 encrypt;
	int		 self;
};

#define HD_GROUP_ADDRESS	0x01
#define HD_GROUP_SIGN		0x02
#define HD_GROUP_ENCRYPT	0x04
#define HD_GROUP_SELF		0x08

struct hd_decision {
	char		*address;
	int		 sign_possible, sign_default, sign_active;
	char		*sign_why;
	int		 encrypt_known;	/* a draft was given */
	int		 encrypt_possible, encrypt_default, encrypt_active;
	char		*encrypt_why;
	int		 self;
	char		*message_id;	/* of the draft, for the log */
	char		*from;
	char		*to;		/* recipients, comma-separated */
};

int	 hd_group_get(struct hd_state *, const char *, struct hd_group *,
	    struct hd_error *);
int	 hd_group_all(struct hd_state *, struct hd_group **, size_t *);
void	 hd_group_free(struct hd_group *);
int	 hd_group_valid(const char *, const char *, int, struct hd_error *);
int	 hd_group_set(struct hd_state *, const char *, const struct hd_group *,
	    int, struct hd_error *);
int	 hd_group_delete(struct hd_state *, const char *, struct hd_error *);
char	*hd_group_json(const struct hd_group *);
int	 hd_group_decide(struct hd_state *, const char *, const char *, size_t,
	    struct hd_decision *, struct hd_error *);
void	 hd_decision_free(struct hd_decision *);
char	*hd_decision_json(const char *, const struct hd_decision *);

/* outgoing.c: hdpgp-sign and hdpgp-encrypt */
struct hd_out {
	const char	*signer;	/* -u */
	const char	*group;		/* -g */
	char		**rcpt;		/* -r, NULL-terminated */
	int		 sign;
	int		 encrypt;
	int		 self;
	int		 protect;	/* --protect-subject */
};

int	 hd_outgoing(const char *, const char *, const struct hd_out *,
	    char **, size_t *, int *, struct hd_error *);

/* apply.c: hdpgp-group apply, the group's decision carried out */
int	 hd_group_apply(struct hd_state *, const char *, const char *, size_t,
	    int, int, char **, size_t *, struct hd_error *);

/* incoming.c: hdpgp-verify and hdpgp-decrypt */
#define HD_IN_FILTER	0	/* the message with our verdict fields */
#define HD_IN_CHECK	1	/* the verdict fields alone, exit status */
#define HD_IN_JSON	2

struct hd_in {
	int		 mode;
	int		 decrypt;
};

int	 hd_incoming(const char *, const char *, const struct hd_in *,
	    char **, size_t *, int *, int *, struct hd_error *);

/*
 * batch.c: many messages in one run (FILE... and -o DIR).  A filter
 * returns 0 or the cause of its failure, and the message's status
 * (HD_OK ... HD_UNTRUSTED) in its int *.
 */
typedef int hd_filter_fn(struct hd_state *, const char *, const char *,
    size_t, const void *, int, char **, size_t *, int *, struct hd_error *);

/* One message's outcome, as hd_batch gives it to the tool. */
struct hd_batch_item {
	const char	*file;		/* as named; NULL: the state failed */
	const char	*out;		/* the result, when not put in outdir */
	size_t		 outlen;
	int		 status;	/* HD_OK ... HD_UNTRUSTED */
	enum hd_cause	 cause;		/* 0, or why the message failed */
	const char	*error;		/* what failed, one problem a line */
};

typedef int hd_batch_fn(const struct hd_batch_item *, void *);

int	 hd_batch(const char *, char *const *, size_t, const char *,
	    hd_filter_fn *, const void *, hd_batch_fn *, void *);
hd_filter_fn hd_batch_incoming;
hd_filter_fn hd_batch_outgoing;

/* log.c: the security log in state.tdb */
struct hd_logrec {
	time_t		 time;
	const char	*direction;	/* "in", "out" or "-" */
	const char	*action;
	const char	*result;	/* "success", "failed", "skipped" */
	const char	*message_id;
	const char	*from;
	const char	*to;
	const char	*group;
	const char	*keys;
	const char	*comment;
};

struct hd_logquery {
	size_t		 max;		/* 0: all */
	int		 failed;
	const char	*direction;	/* "in", "out" or NULL */
	time_t		 since;		/* 0: no limit */
	const char	*message_id;
};

int	 hd_log_query(struct hd_state *, const struct hd_logquery *,
	    int (*)(const char *, const struct hd_logrec *, void *), void *);
int	 hd_log_prune(struct hd_state *, time_t, uint64_t, uint64_t *,
	    struct hd_error *);

#endif
