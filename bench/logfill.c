/*
 * logfill: append N synthetic records to the security log of an hdpgp
 * state.tdb, for bench/run.  Same layout as lib/log.c: "log:%016x" keys
 * holding one JSON object each, "log:next" the next sequence number as
 * decimal text.  The state file must not be in use: it is opened without
 * locks and without fsync, which is what makes a million records take
 * seconds rather than minutes.
 *
 * usage: logfill state.tdb count
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tdb.h>

static TDB_DATA
dat(const char *s, size_t len)
{
	TDB_DATA d;

	d.dptr = (unsigned char *)s;
	d.dsize = len;
	return d;
}

int
main(int argc, char *argv[])
{
	static const char *dir[] = { "out", "out", "in", "in" };
	static const char *act[] = { "sign", "encrypt", "verify", "decrypt" };
	TDB_CONTEXT *tdb;
	TDB_DATA d;
	char key[32], num[32], when[32], rec[1024];
	uint64_t start = 0, i, n;
	time_t t0 = 1796000000;
	struct tm tm;
	int len;

	if (argc != 3) {
		fprintf(stderr, "usage: logfill state.tdb count\n");
		return 64;
	}
	n = strtoull(argv[2], NULL, 10);
	/* hash size 0: keep the one the file was made with. */
	tdb = tdb_open(argv[1], 0, TDB_NOLOCK | TDB_NOSYNC, O_RDWR, 0600);
	if (tdb == NULL) {
		perror(argv[1]);
		return 1;
	}
	d = tdb_fetch(tdb, dat("log:next", 8));
	if (d.dptr != NULL) {
		snprintf(num, sizeof(num), "%.*s", (int)d.dsize,
		    (char *)d.dptr);
		start = strtoull(num, NULL, 10);
		free(d.dptr);
	}
	for (i = 0; i < n; i++) {
		time_t t = t0 + (time_t)i * 30;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		len = snprintf(rec, sizeof(rec),
		    "{\"time\":\"%s\",\"direction\":\"%s\",\"action\":\"%s\","
		    "\"result\":\"%s\",\"message_id\":\"m%" PRIu64
		    "@customers.example\",\"from\":\"c%05u@customers.example\","
		    "\"to\":\"support@helpdesk.example\",\"group\":null,"
		    "\"keys\":\"72769B66BD779FE382FCA0AF903D20AC7364A98A\","
		    "\"comment\":null}", when, dir[i % 4], act[i % 4],
		    i % 50 ? "success" : "failed", i, (unsigned)(i % 10000));
		snprintf(key, sizeof(key), "log:%016" PRIx64, start + i);
		if (tdb_store(tdb, dat(key, strlen(key)), dat(rec, len),
		    TDB_REPLACE) != 0) {
			fprintf(stderr, "%s: %s\n", key, tdb_errorstr(tdb));
			return 1;
		}
	}
	len = snprintf(num, sizeof(num), "%" PRIu64, start + n);
	if (tdb_store(tdb, dat("log:next", 8), dat(num, len), TDB_REPLACE) !=
	    0 || tdb_close(tdb) != 0) {
		fprintf(stderr, "log:next: store failed\n");
		return 1;
	}
	return 0;
}
