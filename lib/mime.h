/*
 * mime.h: what the files of the MIME family (mime.c, mime-check.c) share.
 * Only they include it, and with it <gmime/gmime.h>.
 */
#ifndef HDPGP_MIME_H
#define HDPGP_MIME_H

#include <gmime/gmime.h>

void	 mime_parser_warning(gint64, GMimeParserWarning, const gchar *,
	    gpointer);
char	*mime_ambiguity(const char *, size_t, GMimeMessage *, char **);

#endif
