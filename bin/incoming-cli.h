/*
 * incoming-cli.h: the command line that hdpgp-verify and hdpgp-decrypt
 * share.  The two tools take the same options and differ only in whether
 * they decrypt.
 */

struct incoming_cli {
	struct hd_in	 in;		/* mode, decrypt */
	const char	*dir;		/* -d, or NULL */
	const char	*outdir;	/* -o, or NULL */
	char *const	*files;
	int		 nfiles;
	int		 quiet;		/* -q */
};

void	incoming_cli_parse(struct incoming_cli *, int, char *[]);
int	incoming_cli_run(const struct incoming_cli *);
