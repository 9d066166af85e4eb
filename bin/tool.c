/*
 * tool.c: what every tool prints the same way.
 */
#include "config.h"

#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "hdpgp.h"
#include "tool.h"

/*
 * An error's text holds one problem a line: each is said as a message of
 * its own, with the program's name.
 */
void
tool_warn_lines(const char *text)
{
	size_t n;

	for (;;) {
		n = strcspn(text, "\n");
		warnx("%.*s", (int)n, text);
		if (text[n] == '\0')
			break;
		text += n + 1;
	}
}

/*
 * What the library left to say (a log record it could not write), said
 * at exit, however the tool ends: main registers it with atexit(3).
 */
void
tool_say_warnings(void)
{
	char **w;
	size_t i;

	if ((w = hd_state_warnings(NULL)) == NULL)
		return;
	for (i = 0; w[i] != NULL; i++) {
		warnx("%s", w[i]);
		free(w[i]);
	}
	free(w);
}

/*
 * hd_batch's callback for -o of the outgoing tools: each message that
 * failed is named; the others are in the output directory.
 */
int
tool_report_failed(const struct hd_batch_item *it, void *arg)
{
	(void)arg;
	if (it->cause != 0)
		tool_warn_lines(it->error);
	return 0;
}
