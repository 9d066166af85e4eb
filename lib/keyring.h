/*
 * keyring.h: what keyring.c and keyring-crypt.c share.  Only they include
 * it, and with it <gpgme.h>.
 */
#ifndef HDPGP_KEYRING_H
#define HDPGP_KEYRING_H

#include <gpgme.h>

struct hd_gpg {
	gpgme_ctx_t	 ctx;
	char		*home;
	char		*pass;		/* what the callback answers */
	int		 asked;		/* times gpg asked for it */
	int		 scratch;	/* home is ours to remove */
	char		*(*lookup)(void *, const char *);
	void		*lookup_arg;	/* passphrase by key ID, to decrypt */
	size_t		 budget;	/* plaintext left for verify and
					 * decrypt together, 0: no limit */
	int		 budgeted;
};

int	 keyring_fail(struct hd_error *, gpgme_error_t, const char *);
int	 keyring_get_key(struct hd_gpg *, const char *, int, gpgme_key_t *,
	    struct hd_error *);
int	 keyring_take_data(gpgme_data_t, char **, size_t *, const char *,
	    struct hd_error *);

#endif
