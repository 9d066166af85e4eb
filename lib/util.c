/*
 * util.c: errors, strings, addresses, times and passphrase input.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>
#include <glib.h>

#include "hdpgp-priv.h"

#define PASSPHRASE_MAX	1024

/*
 * The whole text of the one error that did not fit in its struct: a
 * process has one error to report at a time, and a struct hd_error is
 * often left uninitialised, so it cannot own memory of its own.
 */
static char	*whole;

/*
 * As many whole lines of text as fit in max bytes (with the NUL), then
 * "... and N more" for the lines left out.  NULL if all of it fits.
 */
char *
hd_lines_cut(const char *text, size_t max)
{
	GString *out;
	const char *p, *nl;
	size_t n, left = 0, room;
	char tail[64];

	if (strlen(text) < max)
		return NULL;
	/* Room for the count. */
	room = max > 128 ? max - 128 : 0;
	out = g_string_sized_new(max);
	for (p = text;; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		n = nl - p + (*nl == '\n');
		if (left == 0 && out->len + n < room)
			g_string_append_len(out, p, n);
		else if (left++ == 0 && out->len == 0) {
			/* One line longer than all the room: its start. */
			g_string_append_len(out, p, room);
			while (out->len > 0 &&
			    ((unsigned char)out->str[out->len - 1] & 0xc0) ==
			    0x80)
				g_string_truncate(out, out->len - 1);
			if (out->len > 0 &&
			    (unsigned char)out->str[out->len - 1] >= 0xc0)
				g_string_truncate(out, out->len - 1);
			g_string_append(out, "...\n");
			left--;
		}
		if (*nl == '\0')
			break;
	}
	/* A line of its own: the tool that prints it names itself. */
	snprintf(tail, sizeof(tail), "... and %zu more", left);
	if (left == 0) {
		if (out->str[out->len - 1] == '\n')
			g_string_truncate(out, out->len - 1);
	} else
		g_string_append(out, tail);
	return g_string_free(out, FALSE);
}

/*
 * The text goes to e->text; one too long for it is cut there at a line
 * (hd_lines_cut), and kept whole for hd_error_text.
 */
int
hd_error_set(struct hd_error *e, enum hd_cause cause, const char *fmt, ...)
{
	va_list ap;
	char *s, *cut;

	if (e == NULL)
		return cause;
	e->cause = cause;
	e->whole = NULL;
	va_start(ap, fmt);
	s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if ((cut = hd_lines_cut(s, sizeof(e->text))) == NULL) {
		memcpy(e->text, s, strlen(s) + 1);
		g_free(s);
		return cause;
	}
	g_strlcpy(e->text, cut, sizeof(e->text));
	g_free(cut);
	g_free(whole);
	e->whole = whole = s;
	return cause;
}

/*
 * The one table from causes to exit statuses (HD_* and sysexits(3)).
 * The tools call it, and hd_found_json for the status its JSON reports:
 * the library speaks in causes.  A passphrase
 * that is wrong or missing is bad input (EX_DATAERR); a key that cannot
 * serve is EX_UNAVAILABLE.
 */
int
hd_exit_status(int cause)
{
	switch (cause) {
	case HD_E_NONE:
		return HD_OK;
	case HD_E_BAD:
		return HD_BAD;
	case HD_E_NOTHING:
		return HD_NONE;
	case HD_E_USAGE:
		return EX_USAGE;
	case HD_E_DATA:
	case HD_E_PASS_REQUIRED:
	case HD_E_PASS_BAD:
		return EX_DATAERR;
	case HD_E_NOINPUT:
		return EX_NOINPUT;
	case HD_E_UNAVAILABLE:
	case HD_E_NOKEY:
	case HD_E_EXPIRED:
	case HD_E_REVOKED:
	case HD_E_UNSUPPORTED:
		return EX_UNAVAILABLE;
	case HD_E_SOFTWARE:
		return EX_SOFTWARE;
	case HD_E_IO:
		return EX_IOERR;
	case HD_E_TEMP:
		return EX_TEMPFAIL;
	case HD_E_CONFIG:
		return EX_CONFIG;
	default:
		return EX_SOFTWARE;
	}
}

/* All of an error's text, however long (e->text may be cut). */
const char *
hd_error_text(const struct hd_error *e)
{
	/* Only the last long error is kept: e->whole may be stale. */
	if (whole != NULL && e->whole == whole)
		return whole;
	return e->text;
}

/*
 * No core file, and no ptrace by other processes of the user: a tool
 * holds passphrases, secret keys and plaintext in memory.  Called first
 * thing in every main(); the limit is inherited by the gpg processes
 * gpgme starts (PR_SET_DUMPABLE is not: exec resets it).
 */
int
hd_secure_init(void)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return -1;
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/*
 * Unicode's bidirectional and invisible format controls (U+200E/F,
 * U+061C, U+202A-U+202E, U+2066-U+2069): shown, they reorder the text
 * after them, so that "invoice\u202Efdp.exe" reads "invoiceexe.pdf".
 */
static int
is_bidi(gunichar c)
{
	return c == 0x200e || c == 0x200f || c == 0x061c ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/*
 * Make a string from a key or a message safe for a header, a log line or a
 * terminal: control characters (CR, LF, NUL cannot occur, ESC and the rest
 * can) and invalid UTF-8 become \xNN, backslash becomes \\, and the
 * bidirectional controls go, so nothing taken from an attacker can start
 * a new line, rewrite the screen or reorder what is shown.
 */
char *
hd_sanitize(const char *s)
{
	GString *out;
	const char *p, *end;

	if (s == NULL)
		return NULL;
	out = g_string_sized_new(strlen(s));
	end = s + strlen(s);
	for (p = s; p < end;) {
		gunichar c = g_utf8_get_char_validated(p, end - p);
		size_t n = g_utf8_skip[*(const guchar *)p];

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append_printf(out, "\\x%02X", (unsigned char)*p);
			p++;
			continue;
		}
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
			g_string_append_printf(out, "\\x%02X", (unsigned)c);
		else if (is_bidi(c))
			;	/* dropped: it would reorder what follows */
		else if (c == '\\')
			g_string_append(out, "\\\\");
		else
			g_string_append_len(out, p, n);
		p += n;
	}
	return g_string_free(out, FALSE);
}

/*
 * A file name from mail, safe to show and to save: its last path
 * component ('/' and '\\' both separate) without leading dots and blanks,
 * sanitised as above; "file" when nothing is left.
 */
char *
hd_sanitize_filename(const char *name)
{
	const char *base = name != NULL ? name : "";
	char *s;

	base = strrchr(base, '/') != NULL ? strrchr(base, '/') + 1 : base;
	base = strrchr(base, '\\') != NULL ? strrchr(base, '\\') + 1 : base;
	s = hd_sanitize(base);
	/* Nor a hidden file, nor "..": no leading dot or blank. */
	memmove(s, s + strspn(s, ". \t"), strlen(s + strspn(s, ". \t")) + 1);
	if (*s == '\0') {
		g_free(s);
		s = g_strdup("file");
	}
	return s;
}

/*
 * An address as the key store indexes it: surrounding space and angle
 * brackets dropped, the domain lower-cased, the local part as written
 * (RFC 5321 leaves its case to the receiving host).  NULL if it is not an
 * addr-spec.
 */
char *
hd_addr_normalize(const char *in)
{
	char *s, *at, *dom, *out;

	if (in == NULL)
		return NULL;
	s = g_strstrip(g_strdup(in));
	if (s[0] == '<' && s[strlen(s) - 1] == '>') {
		s[strlen(s) - 1] = '\0';
		memmove(s, s + 1, strlen(s));
	}
	at = strrchr(s, '@');
	if (at == NULL || at == s || at[1] == '\0' ||
	    strpbrk(s, " \t\r\n<>()[],;:\"") != NULL) {
		g_free(s);
		return NULL;
	}
	*at = '\0';
	dom = g_ascii_strdown(at + 1, -1);
	out = g_strdup_printf("%s@%s", s, dom);
	g_free(dom);
	g_free(s);
	return out;
}

char *
hd_addr_domain(const char *addr)
{
	const char *at;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return NULL;
	return g_ascii_strdown(at + 1, -1);
}

void
hd_time_iso(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
hd_time_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

/*
 * A validity period as gpg --quick-gen-key takes it: "never" or "0", or a
 * number followed by d, w, m or y (default days).  Seconds in *secs.
 */
int
hd_parse_period(const char *s, long *secs, struct hd_error *e)
{
	char *end;
	long n, unit = 86400;
	int c;

	if (strcmp(s, "never") == 0 || strcmp(s, "0") == 0) {
		*secs = 0;
		return 0;
	}
	errno = 0;
	n = strtol(s, &end, 10);
	/* '?': not a number in range, or more than one letter after it. */
	c = errno != 0 || end == s || n <= 0 || n > 100 * 366 ||
	    (*end != '\0' && end[1] != '\0') ? '?' : *end;
	switch (c) {
	case '\0':
	case 'd':
		break;
	case 'w':
		unit *= 7;
		break;
	case 'm':
		unit *= 30;
		break;
	case 'y':
		unit *= 365;
		break;
	default:
		return hd_error_set(e, HD_E_USAGE, "%s: not a period (N, Nd, "
		    "Nw, Nm, Ny or never)", s);
	}
	*secs = n * unit;
	return 0;
}

/*
 * A point in time: an ISO 8601 date (midnight UTC) or date and time (UTC
 * unless it says otherwise), or N seconds, minutes, hours, days or weeks
 * ago ("90s", "15m", "12h", "3d", "2w").
 */
int
hd_parse_time(const char *s, time_t *t, struct hd_error *e)
{
	static const struct { char unit; long secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 },
	};
	GTimeZone *utc;
	GDateTime *dt;
	char *iso, *end;
	long n;
	size_t i;

	n = strtol(s, &end, 10);
	if (end != s && n >= 0 && end[0] != '\0' && end[1] == '\0')
		for (i = 0; i < G_N_ELEMENTS(units); i++)
			if (*end == units[i].unit) {
				*t = time(NULL) - n * units[i].secs;
				return 0;
			}
	iso = strlen(s) == 10 ? g_strconcat(s, "T00:00:00", NULL) :
	    g_strdup(s);
	utc = g_time_zone_new_utc();
	dt = g_date_time_new_from_iso8601(iso, utc);
	g_time_zone_unref(utc);
	g_free(iso);
	if (dt == NULL)
		return hd_error_set(e, HD_E_USAGE, "%s: not a time "
		    "(2026-11-29, 2026-11-29T12:00:00Z, 3d, 12h)", s);
	*t = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return 0;
}

int
hd_read_fd(int fd, char **buf, size_t *len, struct hd_error *e)
{
	GByteArray *a = g_byte_array_new();
	guint8 chunk[65536];
	ssize_t r;

	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			g_byte_array_free(a, TRUE);
			return hd_error_set(e, HD_E_IO, "read: %s",
			    strerror(errno));
		}
		g_byte_array_append(a, chunk, r);
	}
	*len = a->len;
	g_byte_array_append(a, (const guint8 *)"", 1);
	*buf = (char *)g_byte_array_free(a, FALSE);
	return 0;
}

int
hd_read_file(const char *path, char **buf, size_t *len, struct hd_error *e)
{
	int fd, rc;

	if (path == NULL || strcmp(path, "-") == 0)
		return hd_read_fd(STDIN_FILENO, buf, len, e);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return hd_error_set(e, errno == ENOENT ? HD_E_NOINPUT : HD_E_IO,
		    "%s: %s", path, strerror(errno));
	rc = hd_read_fd(fd, buf, len, e);
	close(fd);
	if (rc != 0)
		return hd_error_set(e, e->cause, "%s: %s", path, e->text);
	return 0;
}

/* As gpg --passphrase-file/-fd: the first line, without its line end. */
static int
first_line(char *buf, size_t len, char **out, const char *what,
    struct hd_error *e)
{
	size_t n = strcspn(buf, "\r\n");

	if (n >= PASSPHRASE_MAX || memchr(buf, '\0', n < len ? n : len)) {
		explicit_bzero(buf, len);
		g_free(buf);
		return hd_error_set(e, HD_E_DATA, "%s: not a passphrase",
		    what);
	}
	*out = g_strndup(buf, n);
	explicit_bzero(buf, len);
	g_free(buf);
	return 0;
}

int
hd_passphrase_file(const char *path, char **out, struct hd_error *e)
{
	char *buf;
	size_t len;
	int rc;

	if ((rc = hd_read_file(path, &buf, &len, e)) != 0)
		return rc;
	return first_line(buf, len, out, path, e);
}

int
hd_passphrase_fd(int fd, char **out, struct hd_error *e)
{
	char *buf, what[32];
	size_t len;
	int rc;

	snprintf(what, sizeof(what), "fd %d", fd);
	if ((rc = hd_read_fd(fd, &buf, &len, e)) != 0)
		return rc;
	return first_line(buf, len, out, what, e);
}

/* The terminal prompt; NULL when there is no terminal to ask. */
char *
hd_passphrase_tty(const char *prompt)
{
	char buf[PASSPHRASE_MAX], *out;

	if (readpassphrase(prompt, buf, sizeof(buf), RPP_REQUIRE_TTY) == NULL)
		return NULL;
	out = g_strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return out;
}

void
hd_secure_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		g_free(s);
	}
}

static int
all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!g_ascii_isxdigit(s[i]))
			return 0;
	return s[n] == '\0';
}

int
hd_is_fpr(const char *s)
{
	return strlen(s) == 40 && all_hex(s, 40);
}

int
hd_is_keyid(const char *s)
{
	if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)
		s += 2;
	return strlen(s) == 16 && all_hex(s, 16);
}

/*
 * A file in dir (NULL: $TMPDIR, or /tmp) for a result, mode 0600: an
 * unnamed O_TMPFILE where the file system has them.  Elsewhere a
 * temporary name: given back in *name, or with name NULL unlinked at
 * once.  -1 with errno when none can be made.
 */
int
hd_stage_open(const char *dir, char **name)
{
	char *tmpl;
	int fd;

	if (name != NULL)
		*name = NULL;
	if (dir == NULL && ((dir = getenv("TMPDIR")) == NULL || *dir == '\0'))
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC | (name == NULL ?
	    O_EXCL : 0), 0600);
	if (fd == -1 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		tmpl = g_build_filename(dir, ".hdpgp.XXXXXX", NULL);
		fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
		if (fd != -1 && name != NULL) {
			*name = tmpl;
			return fd;
		}
		if (fd != -1)
			unlink(tmpl);
		g_free(tmpl);
	}
	return fd;
}

/* All of p to fd, through short writes and EINTR; -1 with errno. */
int
hd_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A result as it is: to fd (fd >= 0), or a copy in *out. */
int
hd_put(int fd, const char *buf, size_t len, char **out, size_t *outlen,
    struct hd_error *e)
{
	*outlen = len;
	if (fd < 0) {
		*out = g_memdup2(buf, len);
		return 0;
	}
	*out = NULL;
	if (hd_write_all(fd, buf, len) != 0)
		return hd_error_set(e, HD_E_IO, "output: %s",
		    strerror(errno));
	return 0;
}

/*
 * A filter's result to fd to: from memory (out), or copied from the
 * file it was staged in (staged, from offset 0).  -1 with errno set on
 * a write error.
 */
int
hd_emit(const char *out, size_t outlen, int staged, int to)
{
	char buf[65536];
	ssize_t n;
	off_t off = 0;

	if (out != NULL)
		return hd_write_all(to, out, outlen);
	/* The kernel copies file to file; anything else goes through buf. */
	while ((n = copy_file_range(staged, &off, to, NULL, 1 << 30, 0)) > 0)
		;
	if (n == 0 && (size_t)off == outlen)
		return 0;
	if (lseek(staged, off, SEEK_SET) == -1)
		return -1;
	while ((n = read(staged, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (hd_write_all(to, buf, (size_t)n) != 0)
			return -1;
	}
	return 0;
}
