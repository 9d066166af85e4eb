/*
 * fuzz-mime.c: the MIME code that faces mail (lib/mime.c), under
 * libFuzzer or a replay of saved inputs: bounded work on hostile input,
 * no crash (doc/DESIGN, attack class #22).
 *
 * One input is one incoming message.  It goes the way hdpgp-verify and
 * hdpgp-decrypt take it, short of gpg: parse; find what is signed or
 * encrypted; the sender, the Message-ID and the protected headers; the
 * encrypted parts replaced by a "plaintext" (a slice of the input itself);
 * the filter-mode rewrite with a verdict, with and without a decrypted
 * entity; and the same parse of the entity as decrypted text.  Outgoing,
 * the body made 7-bit and canonical as for signing.
 */
#include "config.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "hdpgp-priv.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct hd_state *state;
static char *state_dir;

static void
remove_state(void)
{
	char *cmd;

	hd_state_close(state);
	/* The state is the fuzz target's own, made in TMPDIR. */
	cmd = g_strdup_printf("rm -rf '%s'", state_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz-mime: cannot remove %s\n", state_dir);
	g_free(cmd);
}

/* A gmime or GLib critical is a misuse of theirs by us: as bad as a crash. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hd_error e;

	(void)argc;
	(void)argv;
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL |
	    G_LOG_LEVEL_WARNING);
	if ((state_dir = g_dir_make_tmp("hdpgp-fuzz.XXXXXX", NULL)) == NULL ||
	    hd_state_open(&state, state_dir, 1, &e) != 0) {
		fprintf(stderr, "fuzz-mime: no state: %s\n", e.text);
		abort();
	}
	atexit(remove_state);
	return 0;
}

/* The stand-in for gpg: one opaque handle, verdicts from the input. */
static int token;

static int
fake_open(struct hd_gpg **g, struct hd_state *st, size_t budget,
    struct hd_error *e)
{
	(void)st;
	(void)budget;
	(void)e;
	*g = (struct hd_gpg *)(void *)&token;
	return 0;
}

static void
fake_close(struct hd_gpg *g)
{
	(void)g;
}

/* A signature whose verdict is its first byte's, by a made-up key. */
static void
fake_sigs(const char *p, size_t len, struct hd_sigs *sigs)
{
	memset(sigs, 0, sizeof(*sigs));
	if (len == 0)
		return;
	sigs->n = 1;
	sigs->sig = g_new0(struct hd_sig, 1);
	g_strlcpy(sigs->sig[0].fpr, "0F0960EFDC9F94A9B216251912F0DE09D3DA3898",
	    sizeof(sigs->sig[0].fpr));
	sigs->sig[0].verdict = (unsigned char)p[len / 2] % 8;
	if (sigs->sig[0].verdict == HD_SIG_ERROR)
		sigs->sig[0].why = g_strndup(p, MIN(len, 40));
}

static int
fake_verify(struct hd_gpg *g, const char *sig, size_t siglen,
    const char *data, size_t len, char **plain, size_t *plainlen,
    struct hd_sigs *sigs, struct hd_error *e)
{
	(void)g;
	(void)data;
	(void)len;
	if (siglen < 8)
		return hd_error_set(e, HD_E_DATA, "verify: No data");
	fake_sigs(sig, siglen, sigs);
	if (plain != NULL) {
		*plain = g_strndup(sig, siglen);
		*plainlen = siglen;
	}
	return 0;
}

/* The "plaintext" is what follows the first blank line of the input. */
static int
fake_decrypt(struct hd_gpg *g, const char *cipher, size_t len, char **plain,
    size_t *plainlen, struct hd_sigs *sigs, char *keyid, struct hd_error *e)
{
	const char *p;

	(void)g;
	if (len < 4 || (cipher[0] & 3) == 0)
		return hd_error_set(e, HD_E_BAD, "no secret key");
	p = g_strstr_len(cipher, len, "\n\n");
	p = p != NULL ? p + 2 : cipher;
	*plainlen = len - (p - cipher);
	*plain = g_memdup2(p, *plainlen + 1);
	(*plain)[*plainlen] = '\0';
	fake_sigs(cipher, cipher[1] & 1 ? len : 0, sigs);
	g_strlcpy(keyid, "D9994567E64EAFDF", 17);
	return 0;
}

static const struct hd_crypto fake = { fake_open, fake_close, fake_verify,
    fake_decrypt };

/* Lines as Python's email splits them: at CRLF, CR or LF. */
static const char *
next_line(const char *p, const char *end, size_t *len)
{
	const char *q = p;

	while (q < end && *q != '\r' && *q != '\n')
		q++;
	*len = q - p;
	if (q < end && *q == '\r' && q + 1 < end && q[1] == '\n')
		return q + 2;
	return q < end ? q + 1 : end;
}

static void
check_output(const char *out, size_t len)
{
	const char *p = out, *end = out + len, *next, *hend;
	size_t n;
	int ours = 1;

	/* The header as gmime reads it: up to the first empty line. */
	for (hend = out; hend < end; hend++)
		if (*hend == '\n' && (hend + 1 == end || hend[1] == '\n' ||
		    (hend[1] == '\r' && hend + 2 < end && hend[2] == '\n')))
			break;
	for (next = out; next < hend; next++)
		if (*next == '\0' || (*next == '\r' && (next + 1 == end ||
		    next[1] != '\n')))
			abort();	/* a field another reader splits */
	if (len > 5 && memcmp(out, "From ", 5) == 0)
		p = next_line(p, end, &n);
	/* The header as Python reads it: our fields first, no others. */
	for (; p < end; p = next) {
		next = next_line(p, end, &n);
		if (n == 0)
			break;
		if (n >= 8 && g_ascii_strncasecmp(p, "X-Hdpgp-", 8) == 0) {
			if (!ours)
				abort();	/* a verdict we did not write */
		} else
			ours = 0;
	}
}

static void
verdicts(const char *in, size_t len)
{
	static unsigned long runs;
	struct hd_in o = { HD_IN_FILTER, 0 };
	struct hd_error e;
	char *out = NULL;
	size_t outlen;
	uint64_t gone;
	int status;

	for (o.decrypt = 0; o.decrypt < 2; o.decrypt++) {
		if (hd_incoming_with(&fake, state, NULL, in, len, &o, -1, &out,
		    &outlen, &status, &e) == 0 && out != NULL)
			check_output(out, outlen);
		g_free(out);
		out = NULL;
	}
	/* Each run logs: keep the state small over millions of runs. */
	if (++runs % 1000 == 0)
		hd_log_prune(state, 0, 100, &gone, &e);
}

static void
incoming(const char *in, size_t len)
{
	static const char *const stamps[] = { "X-Hdpgp-Signature: none",
	    "X-Hdpgp-Encryption: none", NULL };
	static const char *const drop[] = { "Subject", NULL };
	struct hd_msg *m;
	struct hd_found **found = NULL;
	struct hd_error e;
	char *out = NULL, **prot, **from, *s;
	size_t n = 0, i, outlen, half = len / 2;

	if (hd_msg_parse(in, len, &m, &e) != 0)
		return;
	hd_msg_find(m, &found, &n);
	g_free(hd_msg_sender(m));
	g_free(hd_msg_id(m));
	(void)hd_msg_kind(m);
	from = hd_msg_from(m);
	g_strfreev(from);
	from = hd_msg_recipients(m);
	g_strfreev(from);
	prot = hd_msg_protected(m);
	/* As decrypt: a whole entity in place of the body. */
	hd_msg_rewrite(m, stamps, drop, (const char *const *)prot, in + half,
	    len - half, &out, &outlen, &e);
	g_free(out);
	/* As decrypt_parts: each part that may be opened gets "plaintext". */
	for (i = 0; i < n; i++)
		if (found[i]->in_place)
			hd_msg_replace(m, found[i], in, half);
	hd_msg_rewrite(m, stamps, NULL, NULL, NULL, 0, &out, &outlen, &e);
	g_free(out);
	g_strfreev(prot);
	hd_found_free(found, n);
	hd_msg_free(m);
	/* Outgoing: the body as it would be signed. */
	if (hd_msg_parse(in, len, &m, &e) == 0) {
		if (hd_msg_body(m, 1, &s, &outlen, &e) == 0)
			g_free(s);
		hd_msg_free(m);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	/* hdpgp reads a message into a NUL-terminated buffer. */
	char *in = g_malloc(len + 1);

	memcpy(in, data, len);
	in[len] = '\0';
	incoming(in, len);
	verdicts(in, len);
	g_free(in);
	return 0;
}
