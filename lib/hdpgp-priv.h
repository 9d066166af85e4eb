/*
 * hdpgp-priv.h: what the library's files share and the tools do not
 * see (the tools include hdpgp.h alone).  The layer order is written at
 * the top of hdpgp.h.
 */
#ifndef HDPGP_PRIV_H
#define HDPGP_PRIV_H

#include "hdpgp.h"

/* util.c */
int	 hd_error_set(struct hd_error *, enum hd_cause, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
char	*hd_lines_cut(const char *, size_t);
char	*hd_sanitize_filename(const char *);
char	*hd_addr_normalize(const char *);
char	*hd_addr_domain(const char *);
int	 hd_read_fd(int, char **, size_t *, struct hd_error *);

/*
 * A result at least this large (the input's size tells) is staged in an
 * unlinked file instead of memory: one copy of the message less at the
 * peak (doc/DESIGN, Costs and targets: a 50 MB attachment in at most 3x
 * its size).
 */
#define HD_STAGE_MIN	(16u << 20)
int	 hd_stage_open(const char *, char **);
int	 hd_put(int, const char *, size_t, char **, size_t *,
	    struct hd_error *);
int	 hd_write_all(int, const char *, size_t);
int	 hd_is_fpr(const char *);
int	 hd_is_keyid(const char *);

#define HD_STATE_VERSION	1

/* state.c */
int	 hd_state_attach(struct hd_state **, const char *, int,
	    struct hd_error *);
int	 hd_state_empty(const struct hd_state *);
int	 hd_state_private_dir(const char *, struct hd_error *);
void	 hd_state_warn(struct hd_state *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
const char *hd_state_dir(const struct hd_state *);
const char *hd_state_gnupg(const struct hd_state *);
int	 hd_state_fetch(struct hd_state *, const char *, char **, size_t *);
int	 hd_state_store(struct hd_state *, const char *, const char *, size_t);
int	 hd_state_delete(struct hd_state *, const char *);
int	 hd_state_begin(struct hd_state *, struct hd_error *);
int	 hd_state_commit(struct hd_state *, struct hd_error *);
void	 hd_state_cancel(struct hd_state *);
int	 hd_state_lock(struct hd_state *, const char *, struct hd_error *);
void	 hd_state_unlock(struct hd_state *, const char *);
int	 hd_state_keyring_lock(struct hd_state *, struct hd_error *);
void	 hd_state_keyring_unlock(struct hd_state *);
int	 hd_state_each(struct hd_state *, const char *,
	    int (*)(const char *, const char *, size_t, void *), void *);

/* keyring.c: gpgme's context and the keyring's keys */
struct hd_gpg;

#define HD_CAP_SIGN	0x01
#define HD_CAP_ENCRYPT	0x02
#define HD_CAP_CERTIFY	0x04
#define HD_CAP_AUTH	0x08

void	 hd_key_free(struct hd_key *);
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
const char *hd_gpg_home(const struct hd_gpg *);
int	 hd_gpg_export(struct hd_gpg *, const char *, int, int, char **,
	    size_t *, struct hd_error *);
int	 hd_gpg_delete(struct hd_gpg *, const char *, struct hd_error *);
int	 hd_gpg_generate(struct hd_gpg *, const char *, const char *, long,
	    char *, struct hd_error *);

/* keyring-home.c: the GnuPG homes keyring.c runs gpg in */
int	 hd_gpg_scratch_home(struct hd_state *, char **, struct hd_error *);
void	 hd_gpg_scratch_remove(const char *, int);

/* keyring-crypt.c: sign, encrypt, verify, decrypt */

/* Verdicts on one signature (doc/DESIGN, Verdicts). */
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

/* packet.c: OpenPGP packets read without gpg, for key import */
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

int	 hd_packets_read(const char *, size_t, struct hd_packets *,
	    struct hd_error *);
void	 hd_packets_free(struct hd_packets *);
char	*hd_dearmor(const char *, size_t, size_t *);

/* keystore*.c and key-record.c: the key index */
int	 hd_key_import_from(struct hd_state *, const char *, size_t,
	    const struct hd_origin *, int, struct hd_import *,
	    struct hd_error *);
int	 hd_key_load(struct hd_state *, const char *, struct hd_key *,
	    struct hd_error *);
int	 hd_key_decode(const char *, const char *, size_t, struct hd_key *,
	    struct hd_error *);
char	*hd_key_record(const struct hd_key *);
const char *hd_key_first_email(const struct hd_key *);
int	 hd_key_put(struct hd_state *, const struct hd_key *,
	    struct hd_error *);
int	 hd_key_drop(struct hd_state *, const struct hd_key *,
	    struct hd_error *);
int	 hd_key_carries(const struct hd_key *, const char *);
int	 hd_key_store_pass(struct hd_state *, const char *, const char *,
	    struct hd_error *);
int	 hd_addr_set_preferred(struct hd_state *, const char *, const char *,
	    struct hd_error *);
int	 hd_addr_list_edit(struct hd_state *, const char *, const char *,
	    const char *, int, struct hd_error *);
void	 hd_addr_rank(struct hd_state *, const char *, struct hd_keyset *,
	    int *);
int	 hd_addr_serving(struct hd_state *, const char *, const char *, time_t,
	    char *);
char	*hd_alias_normalize(const char *);
int	 hd_key_resolve(struct hd_state *, const char *, struct hd_key *,
	    struct hd_error *);
int	 hd_key_listed(struct hd_state *, const char *, struct hd_keyset *);
int	 hd_key_passphrase(struct hd_state *, const char *, char **);
int	 hd_key_serves(struct hd_state *, const char *, const char *);
int	 hd_addr_excluded(struct hd_state *, const char *, const char *);
char	*hd_addr_preferred(struct hd_state *, const char *);
void	 hd_roles_free(struct hd_role *, size_t);

const char *hd_key_email(const struct hd_key *, size_t);

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

int	 hd_origin_get(struct hd_state *, const char *, struct hd_origin *,
	    struct hd_error *);
int	 hd_origin_put(struct hd_state *, const char *,
	    const struct hd_origin *, struct hd_error *);
int	 hd_origin_drop(struct hd_state *, const char *, struct hd_error *);
int	 hd_origin_pinned(const struct hd_origin *);
int	 hd_origin_network(const char *);
int	 hd_key_pinned(struct hd_state *, const char *);
void	 hd_origin_free(struct hd_origin *);

/* http.c */
int	 hd_http_get(const struct hd_net *, const char *, size_t, char **,
	    size_t *, int *, struct hd_error *);

/* wkd.c: Web Key Directory names and the published tree */
char	*hd_zb32(const unsigned char *, size_t);
char	*hd_wkd_hash(const char *);
char	*hd_wkd_url(const char *, int);

/*
 * The MIME family (mime*.c) does every MIME parse and write, through
 * gmime.  mime.c: the parsed message and what it says of itself.
 */
struct hd_msg;

#define HD_MSG_PLAIN		0
#define HD_MSG_SIGNED		1
#define HD_MSG_ENCRYPTED	2

int	 hd_msg_parse(const char *, size_t, struct hd_msg **,
	    struct hd_error *);
void	 hd_msg_free(struct hd_msg *);
void	 hd_msg_set_output(struct hd_msg *, int);
int	 hd_msg_kind(const struct hd_msg *);
const char *hd_msg_ambiguous(const struct hd_msg *);
char	**hd_msg_from(const struct hd_msg *);
char	**hd_msg_recipients(const struct hd_msg *);
char	**hd_msg_bcc(const struct hd_msg *);
char	*hd_msg_id(const struct hd_msg *);
char	*hd_msg_sender(const struct hd_msg *);

/* mime-check.c: what mainstream parsers would read alike */
char	*hd_addr_single(const char *);

/* mime-compose.c: outgoing PGP/MIME */
int	 hd_msg_body(struct hd_msg *, int, char **, size_t *,
	    struct hd_error *);
int	 hd_msg_signed(struct hd_msg *, char *, size_t, const char *,
	    size_t, const char *, char **, size_t *, struct hd_error *);
int	 hd_msg_encrypted(struct hd_msg *, char *, size_t, int, char **,
	    size_t *, struct hd_error *);

/* mime-find.c: a signed or encrypted entity found in an incoming message */
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

/* mime-rewrite.c: incoming mail written back with verdicts, plaintext */
int	 hd_msg_rewrite(const struct hd_msg *, const char *const *,
	    const char *const *, const char *const *, const char *, size_t,
	    char **, size_t *, struct hd_error *);
char	**hd_msg_protected(const struct hd_msg *);
void	 hd_msg_replace(struct hd_msg *, const struct hd_found *, const char *,
	    size_t);

/* policy.c: which key serves an address, and the group store's reads */
int	 hd_select(struct hd_state *, const char *, int, int, time_t,
	    struct hd_key *, struct hd_error *);
int	 hd_group_address(struct hd_state *, const char *, char **,
	    struct hd_error *);

/* outgoing.c */
int	 hd_outgoing_buf(struct hd_state *, const char *, size_t,
	    const struct hd_out *, int, char **, size_t *, struct hd_error *);

/* incoming.c */
int	 hd_incoming_buf(struct hd_state *, const char *, const char *,
	    size_t, const struct hd_in *, int, char **, size_t *, int *,
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
	    char **, size_t *, int *, struct hd_error *);

/* log.c */
int	 hd_log_append(struct hd_state *, const struct hd_logrec *,
	    struct hd_error *);
void	 hd_log_note(struct hd_state *, const struct hd_logrec *);
void	 hd_log_action(struct hd_state *, const char *, const char *,
	    const char *, const char *, const char *);
int	 hd_log_last(struct hd_state *, size_t,
	    int (*)(const char *, void *), void *);

#endif
