/*
 * wkd-hash: hd_wkd_hash and hd_wkd_url for each argument, one line each,
 * for tests/wkd.bats to compare with gpg-wks-client; "-z HEX" prints
 * hd_zb32 of the bytes instead.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdpgp-priv.h"

int
main(int argc, char *argv[])
{
	unsigned char bin[64];
	char *h, *u;
	size_t n;
	int i;

	if (argc == 3 && strcmp(argv[1], "-z") == 0) {
		for (n = 0; n < sizeof(bin) && sscanf(argv[2] + 2 * n, "%2hhx",
		    &bin[n]) == 1; n++)
			;
		h = hd_zb32(bin, n);
		printf("%s\n", h);
		free(h);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if ((h = hd_wkd_hash(argv[i])) == NULL) {
			printf("-\n");
			continue;
		}
		u = hd_wkd_url(argv[i], 1);
		printf("%s %s\n", h, u);
		free(h);
		free(u);
	}
	return 0;
}
