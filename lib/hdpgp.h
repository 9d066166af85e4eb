/*
 * hdpgp.h: the one header the tools include.
 *
 * The library never exits and never writes to stdout: every call that can
 * fail returns a status from the table below and leaves a one-line text in a
 * struct hd_error, which the tool prints once.  Strings the library returns
 * are allocated with malloc(3) and freed by the caller with free(3).
 */
#ifndef HDPGP_H
#define HDPGP_H

#include <stddef.h>
#include <stdint.h>
#include <sysexits.h>
#include <time.h>

/* Exit statuses shared by every tool (SPEC §2); the rest are sysexits(3). */
#define HD_OK		0
#define HD_BAD		1	/* bad signature, decryption failed */
#define HD_NONE		2	/* not signed, not encrypted */
#define HD_UNTRUSTED	3	/* signature cannot be fully trusted */

/*
 * text holds one problem a line.  When they do not all fit, it holds as
 * many whole lines as do and "... and N more"; hd_error_text gives the
 * whole text (of the last such error only).
 */
struct hd_error {
	int		 status;
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
int	 hd_error_set(struct hd_error *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
const char *hd_error_text(const struct hd_error *);
char	*hd_lines_cut(const char *, size_t);
int	 hd_secure_init(void);
char	*hd_sanitize(const char *);
char	*hd_sanitize_filename(const char *);
char	*hd_addr_normalize(const char *);
char	*hd_addr_domain(const char *);
void	 hd_time_iso(time_t, char *, size_t);
void	 hd_time_date(time_t, char *, size_t);
int	 hd_parse_period(const char *, long *);
int	 hd_parse_time(const char *, time_t *);
int	 hd_read_file(const char *, char **, size_t *, struct hd_error *);
int	 hd_read_fd(int, char **, size_t *, struct hd_error *);
int	 hd_passphrase_file(const char *, char **, struct hd_error *);
int	 hd_passphrase_fd(int, char **, struct hd_error *);
char	*hd_passphrase_tty(const char *);
void	 hd_secure_free(char *);

/*
 * A result at least this large (the input's size tells) is staged in an
 * unlinked file instead of memory: one copy of the message less at the
 * peak (PERFORMANCE.md: a 50 MB attachment in at most 3x its size).
 */
#define HD_STAGE_MIN	(16u << 20)
int	 hd_stage_open(const char *, char **);
int	 hd_put(int, const char *, size_t, char **, size_t *,
	    struct hd_error *);
int	 hd_emit(const char *, size_t, int, int);
int	 hd_write_all(int, const char *, size_t);
int	 hd_is_fpr(const char *);
int	 hd_is_keyid(const char *);

/* state.c: the state directory and state.tdb */
struct hd_state;

#define HD_STATE_VERSION	1

/*
 * gpg-agent.conf of the state's GnuPG home and of scratch homes: the
 * loopback pinentry, no passphrase cache (a wrong stored passphrase is
 * always found), and a cheap key unlock.
 */
#define HD_WRITTEN	"# written by hdpgp\n"	/* first line of our files */
#define HD_AGENT_CONF	HD_WRITTEN \
	"allow-loopback-pinentry\n" \
	"default-cache-ttl 0\n" \
	"max-cache-ttl 0\n" \
	"s2k-count 65536\n"

int	 hd_state_open(struct hd_state **, const char *, int,
	    struct hd_error *);
void	 hd_state_close(struct hd_state *);
const char *hd_state_dir(const struct hd_state *);
const char *hd_state_gnupg(const struct hd_state *);
int	 hd_state_fetch(struct hd_state *, const char *, char **, size_t *);
int	 hd_state_store(struct hd_state *, const char *, const char *, size_t);
int	 hd_state_delete(struct hd_state *, const char *);
int	 hd_state_begin(struct hd_state *, struct hd_error *);
int	 hd_state_commit(struct hd_state *, struct hd_error *);
void	 hd_state_cancel(struct hd_state *);
int	 hd_state_lock(struct hd_state *, const char *);
void	 hd_state_unlock(struct hd_state *, const char *);
int	 hd_state_keyring_lock(struct hd_state *, struct hd_error *);
void	 hd_state_keyring_unlock(struct hd_state *);
int	 hd_state_each(struct hd_state *, const char *,
	    int (*)(const char *, const char *, size_t, void *), void *);

/* keyring.c: every OpenPGP operation, through gpgme */
struct hd_gpg;

#define HD_CAP_SIGN	0x01
#define HD_CAP_ENCRYPT	0x02
#define HD_CAP_CERTIFY	0x04
#define HD_CAP_AUTH	0x08

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

enum hd_import_how {
	HD_IMPORT_NEW,
	HD_IMPORT_UPGRADED,	/* secret half added to a known public key */
	HD_IMPORT_UPDATED,	/* new user IDs, subkeys or signatures */
	HD_IMPORT_UNCHANGED,
	HD_IMPORT_REVOKED,	/* a revocation certificate alone */
};

int	 hd_gpg_open(struct hd_gpg **, struct hd_state *, struct hd_error *);
void	 hd_gpg_close(struct hd_gpg *);
void	 hd_gpg_set_passphrase(struct hd_gpg *, const char *);
int	 hd_gpg_scan(struct hd_gpg *, const char *, size_t, struct hd_keyset *,
	    struct hd_error *);
int	 hd_gpg_import(struct hd_gpg *, const char *, size_t,
	    struct hd_keyset *, enum hd_import_how **, struct hd_error *);
int	 hd_gpg_import_revocation(struct hd_gpg *, const char *, size_t, int *,
	    struct hd_error *);
int	 hd_gpg_set_import(struct hd_gpg *, const char *, const char *,
	    const char *, struct hd_error *);
int	 hd_gpg_certified(struct hd_gpg *, const char *, const char *,
	    const char *);
int	 hd_gpg_keys(struct hd_gpg *, char **, size_t, struct hd_keyset *,
	    struct hd_error *);
int	 hd_gpg_try_secret(struct hd_gpg *, const struct hd_key *,
	    const char *, int *, struct hd_error *);
int	 hd_gpg_scratch(struct hd_state *, struct hd_gpg **, struct hd_error *);
void	 hd_gpg_scratch_close(struct hd_gpg *);
void	 hd_gpg_scratch_sweep(const char *);
const char *hd_gpg_home(const struct hd_gpg *);
int	 hd_gpg_export(struct hd_gpg *, const char *, int, int, char **,
	    size_t *, struct hd_error *);
int	 hd_gpg_delete(struct hd_gpg *, const char *, struct hd_error *);
int	 hd_gpg_generate(struct hd_gpg *, const char *, const char *, long,
	    char *, struct hd_error *);
/* Verdicts on one signature (SPEC §5). */
#define HD_SIG_GOOD		0
#define HD_SIG_BAD		1
#define HD_SIG_UNKNOWN_KEY	2
#define HD_SIG_EXPIRED_KEY	3
#define HD_SIG_REVOKED_KEY	4
#define HD_SIG_EXPIRED_SIG	5
#define HD_SIG_ERROR		6
#define HD_SIG_WEAK_HASH	7	/* SHA-1, MD5, RIPEMD-160 over the data */

/*
 * The most plaintext a message may unpack to: 64 MiB, or for decryption
 * 8 times the ciphertext when that is more.
 */
#define HD_PLAIN_MAX		((size_t)64 << 20)

struct hd_sig {
	char		 fpr[41];	/* or the key ID, when unknown */
	int		 verdict;
	int64_t		 created;
	char		*why;		/* for HD_SIG_ERROR */
};

struct hd_sigs {
	size_t		 n;
	struct hd_sig	*sig;
};

int	 hd_gpg_verify(struct hd_gpg *, const char *, size_t, const char *,
	    size_t, char **, size_t *, struct hd_sigs *, struct hd_error *);
int	 hd_gpg_decrypt(struct hd_gpg *, const char *, size_t, char **,
	    size_t *, struct hd_sigs *, char *, struct hd_error *);
void	 hd_gpg_set_lookup(struct hd_gpg *, char *(*)(void *, const char *),
	    void *);
void	 hd_sigs_free(struct hd_sigs *);
void	 hd_gpg_set_budget(struct hd_gpg *, size_t);
int	 hd_gpg_sign(struct hd_gpg *, const char *, const char *, size_t,
	    char **, size_t *, char *, size_t, struct hd_error *);
int	 hd_gpg_encrypt(struct hd_gpg *, char **, char **, const char *,
	    const char *, size_t, int, char **, size_t *, struct hd_error *);

/* packet.c: what OpenPGP packets say of themselves, to name gpg's failures */
struct hd_pgp_facts {
	int	 sig_version;		/* of the first signature, 0: none */
	int	 hash;			/* its hash algorithm (v4) */
	int	 critical_notation;	/* in any signature */
	int	 critical_other;	/* unknown critical subpacket */
	int	 enc_version;		/* a session key or data packet gpg
					 * does not read, 0: none */
};

void	 hd_pgp_facts(const char *, size_t, struct hd_pgp_facts *);
const char *hd_pgp_unsupported(const struct hd_pgp_facts *);

/* packet-key.c: OpenPGP packets read without gpg, for key import */
struct hd_pktsig {
	int		 type;		/* signature type, -1 unreadable */
	char		 issuer[41];	/* key ID or fingerprint, or "" */
};

struct hd_pktkey {
	char		 keyid[17];	/* "" if not a v4 key */
	size_t		 nforeign;	/* signatures by other keys */
	struct hd_pktsig *foreign;
};

struct hd_packets {
	size_t		 nkey;
	struct hd_pktkey *key;
	size_t		 nlone;		/* signatures outside any key */
	struct hd_pktsig *lone;
};

int	 hd_packets_read(const char *, size_t, struct hd_packets *);
void	 hd_packets_free(struct hd_packets *);
char	*hd_dearmor(const char *, size_t, size_t *);

/* keystore.c: the key index in state.tdb */
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
int	 hd_key_import_from(struct hd_state *, const char *, size_t,
	    const struct hd_origin *, int, struct hd_import *,
	    struct hd_error *);
void	 hd_import_free(struct hd_import *);
char	*hd_import_json(const struct hd_import *);
int	 hd_key_get(struct hd_state *, const char *, struct hd_key *);
int	 hd_key_find(struct hd_state *, const char *, struct hd_keyset *,
	    struct hd_error *);
int	 hd_key_resolve(struct hd_state *, const char *, struct hd_key *,
	    struct hd_error *);
int	 hd_key_all(struct hd_state *, struct hd_keyset *);
int	 hd_key_listed(struct hd_state *, const char *, struct hd_keyset *);
int	 hd_key_delete(struct hd_state *, const char *, struct hd_error *);
int	 hd_key_export(struct hd_state *, const char *, int, int, char **,
	    size_t *, struct hd_error *);
int	 hd_key_generate(struct hd_state *, const char *, const char *,
	    const char *, long, const char *, char *, struct hd_error *);
int	 hd_key_passwd(struct hd_state *, const char *, const char *,
	    struct hd_error *);
int	 hd_key_alias(struct hd_state *, const char *, const char *,
	    struct hd_error *);
int	 hd_key_passphrase(struct hd_state *, const char *, char **);
int	 hd_key_prefer(struct hd_state *, const char *, const char *,
	    struct hd_error *);
int	 hd_key_serves(struct hd_state *, const char *, const char *);
int	 hd_addr_excluded(struct hd_state *, const char *, const char *);
char	*hd_addr_preferred(struct hd_state *, const char *);
void	 hd_key_roles(struct hd_state *, struct hd_key *, time_t);
void	 hd_roles_free(struct hd_role *, size_t);
const char *hd_role_name(int);

struct hd_conflict {
	char		*address;
	char		 server[41];	/* "" if none serves it now */
	char		**held;		/* NULL-terminated fingerprints */
};

int	 hd_key_conflicts(struct hd_state *, struct hd_conflict **, size_t *);
void	 hd_conflicts_free(struct hd_conflict *, size_t);
char	*hd_check_json(const struct hd_keyset *, const struct hd_conflict *,
	    size_t, time_t);
const char *hd_key_status(const struct hd_key *, time_t);
const char *hd_key_email(const struct hd_key *, size_t);
int	 hd_key_matches(const struct hd_key *, const char *);
char	*hd_keyset_json(const struct hd_keyset *, time_t, int);
void	 hd_key_free(struct hd_key *);
void	 hd_keyset_free(struct hd_keyset *);

/*
 * origin.c: where each key came from (issue 12).  A key with no record
 * came from an administrator before hdpgp kept them: it is pinned, as
 * keys from a file or generate are.
 */
struct hd_origin {
	char		 source[16];	/* file generated wkd keyserver */
	char		*url;		/* network sources, NULL otherwise */
	char		*address;	/* the address it was found for */
	int64_t		 first;		/* first and last seen, 0: unknown */
	int64_t		 last;
};

int	 hd_origin_get(struct hd_state *, const char *, struct hd_origin *);
int	 hd_origin_put(struct hd_state *, const char *,
	    const struct hd_origin *);
int	 hd_origin_drop(struct hd_state *, const char *);
int	 hd_origin_pinned(const struct hd_origin *);
int	 hd_origin_network(const char *);
int	 hd_key_pinned(struct hd_state *, const char *);
void	 hd_origin_free(struct hd_origin *);
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
int	 hd_http_get(const struct hd_net *, const char *, size_t, char **,
	    size_t *, int *, struct hd_error *);

/* wkd.c: Web Key Directory names and the published tree */
char	*hd_zb32(const unsigned char *, size_t);
char	*hd_wkd_hash(const char *);
char	*hd_wkd_url(const char *, int);
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
	int		 status;	/* 0, HD_NONE, EX_TEMPFAIL, EX_DATAERR */
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

/* mime.c: MIME parsing and writing, through gmime */
struct hd_msg;

#define HD_MSG_PLAIN		0
#define HD_MSG_SIGNED		1
#define HD_MSG_ENCRYPTED	2

int	 hd_msg_parse(const char *, size_t, struct hd_msg **,
	    struct hd_error *);
void	 hd_msg_free(struct hd_msg *);
int	 hd_msg_kind(const struct hd_msg *);
const char *hd_msg_ambiguous(const struct hd_msg *);
char	**hd_msg_from(const struct hd_msg *);
char	**hd_msg_recipients(const struct hd_msg *);
char	**hd_msg_bcc(const struct hd_msg *);
char	*hd_msg_id(const struct hd_msg *);
int	 hd_msg_body(struct hd_msg *, int, char **, size_t *,
	    struct hd_error *);
void	 hd_msg_set_output(struct hd_msg *, int);
int	 hd_msg_signed(struct hd_msg *, char *, size_t, const char *,
	    size_t, const char *, char **, size_t *, struct hd_error *);
int	 hd_msg_encrypted(struct hd_msg *, char *, size_t, int, char **,
	    size_t *, struct hd_error *);

/* A signed or encrypted entity found in an incoming message. */
#define HD_FOUND_SIGNED		1	/* multipart/signed */
#define HD_FOUND_ENCRYPTED	2	/* multipart/encrypted */
#define HD_FOUND_CLEARSIGNED	3	/* inline, in a text part */
#define HD_FOUND_ARMORED	4	/* inline PGP MESSAGE */
#define HD_FOUND_ERROR		5	/* hostile or broken structure */
#define HD_FOUND_ATTACHMENT	6	/* an encrypted .pgp/.gpg/.asc file */

struct hd_found {
	int	 kind;
	int	 whole;		/* covers the whole message */
	int	 in_place;	/* may be decrypted where it stands */
	void	*where;		/* the part, for hd_msg_replace */
	char	*error;		/* malformed: why */
	char	*data;		/* signed bytes (CRLF), armor, ciphertext */
	size_t	 len;
	int	 borrowed;	/* data is part of the message: not freed */
	char	*sig;		/* multipart/signed: the signature */
	size_t	 siglen;
};

int	 hd_msg_find(const struct hd_msg *, struct hd_found ***, size_t *);
void	 hd_found_free(struct hd_found **, size_t);
char	*hd_msg_sender(const struct hd_msg *);
char	*hd_addr_single(const char *);
int	 hd_msg_rewrite(const struct hd_msg *, const char *const *,
	    const char *const *, const char *const *, const char *, size_t,
	    char **, size_t *);
char	**hd_msg_protected(const struct hd_msg *);
void	 hd_msg_replace(struct hd_msg *, const struct hd_found *, const char *,
	    size_t);

/* policy.c: which key serves an address, and groups */
int	 hd_select(struct hd_state *, const char *, int, int, time_t,
	    struct hd_key *, char **);
int	 hd_addr_server(struct hd_state *, const char *, const char *, time_t,
	    char *);
int	 hd_group_address(struct hd_state *, const char *, char **,
	    struct hd_error *);

/* group.c: per-group defaults and the composer's decision */
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
int	 hd_group_valid(const char *, const char *, int, struct hd_error *);
int	 hd_group_set(struct hd_state *, const char *, const struct hd_group *,
	    int, struct hd_error *);
int	 hd_group_delete(struct hd_state *, const char *, struct hd_error *);
int	 hd_group_all(struct hd_state *, struct hd_group **, size_t *);
void	 hd_group_free(struct hd_group *);
char	*hd_group_json(const struct hd_group *);
int	 hd_group_decide(struct hd_state *, const char *, const char *, size_t,
	    struct hd_decision *, struct hd_error *);
void	 hd_decision_free(struct hd_decision *);
char	*hd_decision_json(const char *, const struct hd_decision *);
int	 hd_group_apply(struct hd_state *, const char *, const char *, size_t,
	    int, int, char **, size_t *, struct hd_error *);

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
int	 hd_outgoing_buf(struct hd_state *, const char *, size_t,
	    const struct hd_out *, int, char **, size_t *, struct hd_error *);

/* incoming.c: hdpgp-verify and hdpgp-decrypt */
#define HD_IN_FILTER	0	/* the message with our verdict fields */
#define HD_IN_CHECK	1	/* the verdict fields alone, exit status */
#define HD_IN_JSON	2

struct hd_in {
	int		 mode;
	int		 decrypt;
};

int	 hd_incoming(const char *, const char *, const struct hd_in *,
	    char **, size_t *, int *, struct hd_error *);
int	 hd_incoming_buf(struct hd_state *, const char *, const char *,
	    size_t, const struct hd_in *, int, char **, size_t *,
	    struct hd_error *);

/*
 * The OpenPGP operations incoming mail needs: gpg's (hd_gpg_crypto), or
 * the fuzz target's stand-in, which judges without spawning gpg.
 */
struct hd_crypto {
	int	(*open)(struct hd_gpg **, struct hd_state *, size_t,
		    struct hd_error *);
	void	(*close)(struct hd_gpg *);
	int	(*verify)(struct hd_gpg *, const char *, size_t, const char *,
		    size_t, char **, size_t *, struct hd_sigs *,
		    struct hd_error *);
	int	(*decrypt)(struct hd_gpg *, const char *, size_t, char **,
		    size_t *, struct hd_sigs *, char *, struct hd_error *);
};

extern const struct hd_crypto hd_gpg_crypto;

int	 hd_incoming_with(const struct hd_crypto *, struct hd_state *,
	    const char *, const char *, size_t, const struct hd_in *, int,
	    char **, size_t *, struct hd_error *);

/* batch.c: many messages in one run (FILE... and -o DIR) */
typedef int hd_filter_fn(struct hd_state *, const char *, const char *,
    size_t, const void *, int, char **, size_t *, struct hd_error *);

int	 hd_batch(const char *, char *const *, size_t, const char *,
	    hd_filter_fn *, const void *, int);
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

int	 hd_log_append(struct hd_state *, const struct hd_logrec *,
	    struct hd_error *);
void	 hd_log_note(struct hd_state *, const struct hd_logrec *);
void	 hd_log_action(struct hd_state *, const char *, const char *,
	    const char *, const char *, const char *);
int	 hd_log_last(struct hd_state *, size_t,
	    int (*)(const char *, void *), void *);

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
