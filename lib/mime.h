/*
 * mime.h: what the files of the MIME family (mime.c, mime-check.c,
 * mime-compose.c, mime-find.c, mime-rewrite.c) share.  Only they include
 * it, and with it <gmime/gmime.h>.
 */
#ifndef HDPGP_MIME_H
#define HDPGP_MIME_H

#include <gmime/gmime.h>

/* How deep a MIME tree is read; mime-find.c refuses what is deeper. */
#define MIME_MAX_DEPTH	64

struct hd_msg {
	GMimeMessage	*msg;
	GByteArray	*wrap;		/* raw, lent to gmime's parser */
	int		 crlf;		/* the input's line ends */
	const char	*raw;		/* the input, the caller's to keep */
	size_t		 rawlen;
	int		 modified;	/* parts replaced: write it anew */
	int		 outfd;		/* the result goes here, or -1: memory */
	GPtrArray	*kept;		/* buffers lent to gmime, ours to free */
	char		*ambiguous;	/* why parsers may disagree, or NULL */
	GMimeParserOptions *po;		/* the parser's, kept with msg */
	char		*warned;	/* what the parser reported */
};

/* mime.c */
GMimeObject *mime_parse_stream(GMimeStream *, int, GMimeParserOptions *);
GByteArray *mime_write_object(GMimeObject *, int);
char	*mime_take(GByteArray *, size_t *);

/* mime-check.c */
void	 mime_parser_warning(gint64, GMimeParserWarning, const gchar *,
	    gpointer);
char	*mime_ambiguity(const char *, size_t, GMimeMessage *, char **);

#endif
