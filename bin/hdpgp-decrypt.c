/*
 * hdpgp-decrypt: incoming mail decrypted, with the verdicts on its
 * encryption and its signatures.  Its options and runs are
 * hdpgp-verify's (incoming-cli.c); it differs in decrypting.
 */
#include "config.h"

#include <err.h>

#include "hdpgp.h"
#include "incoming-cli.h"

int
main(int argc, char *argv[])
{
	struct incoming_cli c = { .in = { HD_IN_FILTER, 1 } };

	/* Before any passphrase, key or message is read. */
	if (hd_secure_init() != 0)
		err(EX_SOFTWARE, "core dumps cannot be disabled");
	incoming_cli_parse(&c, argc, argv);
	return incoming_cli_run(&c);
}
