/*
 * replay.c: runs fuzz-mime.c's target over saved inputs, for a build
 * without libFuzzer (gcc, the test suite).  Each file named is one input;
 * a directory stands for the files in it.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
one(const char *path)
{
	gchar *buf;
	gsize len;
	GError *ge = NULL;

	if (!g_file_get_contents(path, &buf, &len, &ge)) {
		fprintf(stderr, "replay: %s\n", ge->message);
		g_error_free(ge);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	g_free(buf);
	return 0;
}

int
main(int argc, char *argv[])
{
	GDir *dir;
	const char *name;
	int i, rc = 0, n = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if ((dir = g_dir_open(argv[i], 0, NULL)) == NULL) {
			rc |= one(argv[i]);
			n++;
			continue;
		}
		while ((name = g_dir_read_name(dir)) != NULL) {
			char *p = g_build_filename(argv[i], name, NULL);

			rc |= one(p);
			n++;
			g_free(p);
		}
		g_dir_close(dir);
	}
	printf("replay: %d inputs\n", n);
	return rc;
}
