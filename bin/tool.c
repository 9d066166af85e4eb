/*
 * tool.c: what every tool prints the same way.
 */
#include "config.h"

#include <err.h>
#include <string.h>

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
