/*
 * fuzz-mime.c: the MIME code that faces mail (lib/mime.c), under
 * libFuzzer or a replay of saved inputs (SECURITY.md: "the parsers that
 * face mail are fuzzed").
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

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hdpgp.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A gmime or GLib critical is a misuse of theirs by us: as bad as a crash. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL |
	    G_LOG_LEVEL_WARNING);
	return 0;
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
	    len - half, &out, &outlen);
	g_free(out);
	/* As decrypt_parts: each part that may be opened gets "plaintext". */
	for (i = 0; i < n; i++)
		if (found[i]->in_place)
			hd_msg_replace(m, found[i], in, half);
	hd_msg_rewrite(m, stamps, NULL, NULL, NULL, 0, &out, &outlen);
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
	g_free(in);
	return 0;
}
