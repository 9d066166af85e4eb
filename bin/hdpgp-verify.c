/*
 * hdpgp-verify: incoming mail with the verdict on its signatures.  It
 * never decrypts; its options and runs are hdpgp-decrypt's
 * (incoming-cli.c).
 */
#include "config.h"

#include <err.h>

#include "hdpgp.h"
#include "incoming-cli.h"

int
main(int argc, char *argv[])
{
	struct incoming_cli c = { .in = { HD_IN_FILTER, 0 } };

	/* Before any passphrase, key or message is read. */
	if (hd_secure_init() != 0)
		err(EX_SOFTWARE, "core dumps cannot be disabled");
	incoming_cli_parse(&c, argc, argv);
	return incoming_cli_run(&c);
}
