/*
 * http.c: the one place hdpgp talks to the network, through libcurl.  The
 * only file that includes <curl/curl.h>.
 *
 * Only hdpgp-key locate and refresh come here (doc/DESIGN, attack class
 * #3: verify and decrypt stay offline).  HTTPS only, for the first
 * request and for every redirect; certificates always verified (against
 * --ca-file when given, else the system store); at most HD_REDIRECTS
 * redirects; an answer is read into memory only up to its limit, and one
 * that would be larger is dropped as soon as it grows past it.
 */
#include "config.h"

#include <string.h>

#include <curl/curl.h>
#include <glib.h>

#include "hdpgp-priv.h"

struct sink {
	GString		*buf;
	size_t		 max;
	int		 over;		/* the answer outgrew max */
};

static size_t
sink_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (s->buf->len + n > s->max) {
		s->over = 1;
		return 0;	/* curl stops with CURLE_WRITE_ERROR */
	}
	g_string_append_len(s->buf, p, n);
	(void)size;		/* always 1 (CURLOPT_WRITEFUNCTION) */
	return n;
}

/*
 * hkps:// is HTTPS on 443 (keys.openpgp.org, Hockeypuck); hkp:// and
 * http:// are plain HTTP, which is never spoken.  NULL if refused.
 */
char *
hd_http_base(const char *url)
{
	const char *rest;

	if (g_ascii_strncasecmp(url, "hkps://", 7) == 0)
		rest = url + 7;
	else if (g_ascii_strncasecmp(url, "https://", 8) == 0)
		rest = url + 8;
	else
		return NULL;
	if (*rest == '\0' || *rest == '/')
		return NULL;
	return g_strdup_printf("https://%.*s", (int)strcspn(rest, "/?#"),
	    rest);
}

/* Is s HOST:PORT:ADDRESS, as curl's --resolve takes it? */
int
hd_http_resolve_ok(const char *s)
{
	const char *a, *b;

	if ((a = strchr(s, ':')) == NULL || a == s)
		return 0;
	if ((b = strchr(a + 1, ':')) == NULL || b == a + 1 || b[1] == '\0')
		return 0;
	for (a++; a < b; a++)
		if (!g_ascii_isdigit(*a))
			return 0;
	return 1;
}

static int
curl_fail(CURLcode c, const struct sink *s, const char *url, int *nohost,
    struct hd_error *e)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
		*nohost = 1;
		return hd_error_set(e, HD_E_TEMP, "%s: host not found", url);
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (c == CURLE_FILESIZE_EXCEEDED || s->over)
			return hd_error_set(e, HD_E_DATA, "%s: answer larger "
			    "than %zu KiB refused", url, s->max >> 10);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		/* A redirect to plain HTTP: never followed. */
		return hd_error_set(e, HD_E_DATA, "%s: redirect to a "
		    "protocol other than HTTPS refused", url);
	case CURLE_TOO_MANY_REDIRECTS:
		return hd_error_set(e, HD_E_TEMP, "%s: more than %d "
		    "redirects", url, HD_REDIRECTS);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return hd_error_set(e, HD_E_TEMP, "%s: server certificate "
		    "not trusted: %s", url, curl_easy_strerror(c));
	case CURLE_OPERATION_TIMEDOUT:
		return hd_error_set(e, HD_E_TEMP, "%s: timed out", url);
	default:
		break;
	}
	return hd_error_set(e, HD_E_TEMP, "%s: %s", url,
	    curl_easy_strerror(c));
}

/*
 * GET url.  0 and the body for 200; HD_E_NOTHING for 404 and 410 (and
 * other 4xx: the server has nothing for us); HD_E_TEMP for trouble worth
 * a retry (DNS, connect, TLS, timeout, redirect loop, 5xx, 408, 429),
 * with *nohost set when the host name does not resolve; HD_E_DATA for an
 * answer refused (too large, redirect to plain HTTP).
 */
int
hd_http_get(const struct hd_net *net, const char *url, size_t max,
    char **body, size_t *len, int *nohost, struct hd_error *e)
{
	struct sink s = { g_string_new(NULL), max, 0 };
	struct curl_slist *res = NULL;
	CURL *c;
	CURLcode cc;
	long code = 0;
	size_t i;
	int rc;

	*body = NULL;
	*len = 0;
	*nohost = 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (c = curl_easy_init()) == NULL) {
		g_string_free(s.buf, TRUE);
		return hd_error_set(e, HD_E_SOFTWARE, "libcurl cannot start");
	}
	for (i = 0; i < net->nresolve; i++)
		res = curl_slist_append(res, net->resolve[i]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)HD_REDIRECTS);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (net->cafile != NULL) {
		curl_easy_setopt(c, CURLOPT_CAINFO, net->cafile);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(c, CURLOPT_RESOLVE, res);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, net->timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, net->timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/"
	    PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	if ((cc = curl_easy_perform(c)) != CURLE_OK)
		rc = curl_fail(cc, &s, url, nohost, e);
	else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code == 200)
			rc = 0;
		else if (code >= 500 || code == 408 || code == 429)
			rc = hd_error_set(e, HD_E_TEMP, "%s: server error %ld",
			    url, code);
		else
			rc = hd_error_set(e, HD_E_NOTHING, "%s: not found (%ld)",
			    url, code);
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(res);
	curl_global_cleanup();
	if (rc == 0) {
		*len = s.buf->len;
		*body = g_string_free(s.buf, FALSE);
	} else
		g_string_free(s.buf, TRUE);
	return rc;
}
