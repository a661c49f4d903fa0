/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP(S) image download into memory with libcurl (see posix_http.h). */
#include "smpdfu/posix_http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void say(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t cap, const char *fmt, ...)
{
    if (!msg || !cap) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
}

bool smpdfu_posix_http_is_url(const char *s)
{
    return s && (!strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8));
}

void smpdfu_posix_http_free(smpdfu_posix_http_body_t *b)
{
    if (b) {
        free(b->data);
        b->data = NULL;
        b->len = 0;
    }
}

#ifndef SMPDFU_HAVE_CURL

int smpdfu_posix_http_get(const char *url, const smpdfu_posix_http_opts_t *opts,
                          smpdfu_posix_http_body_t *out, char *msg, size_t cap)
{
    (void)opts;
    if (!url || !out) {
        return SMPDFU_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    say(msg, cap, "this smpdfu was built without libcurl, so it cannot download %s", url);
    return SMPDFU_ENOTSUP;
}

#else

#include <curl/curl.h>
#include <pthread.h>

#include "http_priv.h"

typedef struct {
    smpdfu_posix_http_body_t *out;
    size_t cap;      /* allocated bytes */
    size_t max;      /* refuse beyond this */
    bool too_big;
    bool no_mem;
} sink_t;

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    sink_t *s = arg;
    size_t add = size * n;
    if (add > s->max - s->out->len) {
        s->too_big = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    size_t need = s->out->len + add;
    if (need > s->cap) {
        size_t ncap = s->cap ? s->cap : 64 * 1024;
        while (ncap < need) {
            ncap *= 2;
        }
        if (ncap > s->max) {
            ncap = s->max;
        }
        uint8_t *d = realloc(s->out->data, ncap);
        if (!d) {
            s->no_mem = true;
            return 0;
        }
        s->out->data = d;
        s->cap = ncap;
    }
    memcpy(s->out->data + s->out->len, p, add);
    s->out->len += add;
    return add;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

CURLcode smpdfu_posix_curl_global(void)
{
    pthread_once(&global_once, global_init);
    return global_rc;
}

void smpdfu_posix_curl_common(CURL *c, const char *url)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_USERAGENT, "smpdfu");
}

static int map_curl(CURLcode c)
{
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
        return SMPDFU_ETIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return SMPDFU_EOVERSIZE;
    case CURLE_UNSUPPORTED_PROTOCOL:
        return SMPDFU_ENOTSUP;
    case CURLE_OUT_OF_MEMORY:
        return SMPDFU_ENOSPC;
    case CURLE_URL_MALFORMAT:
        return SMPDFU_EINVAL;
    default:
        return SMPDFU_ENOCONN;
    }
}

int smpdfu_posix_http_get(const char *url, const smpdfu_posix_http_opts_t *opts,
                          smpdfu_posix_http_body_t *out, char *msg, size_t cap)
{
    if (!url || !out) {
        return SMPDFU_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    if (msg && cap) {
        msg[0] = '\0';
    }
    if (!smpdfu_posix_http_is_url(url)) {
        say(msg, cap, "%s is not an http:// or https:// URL", url);
        return SMPDFU_ENOTSUP;
    }
    uint32_t max = opts && opts->max_bytes ? opts->max_bytes : SMPDFU_HTTP_MAX_DEFAULT;
    long cto = (long)(opts && opts->connect_timeout_ms ? opts->connect_timeout_ms
                                                       : SMPDFU_HTTP_CONNECT_TIMEOUT_DEFAULT_MS);
    long to = (long)(opts && opts->timeout_ms ? opts->timeout_ms : SMPDFU_HTTP_TIMEOUT_DEFAULT_MS);

    CURLcode grc = smpdfu_posix_curl_global();
    if (grc != CURLE_OK) {
        say(msg, cap, "cannot start libcurl: %s", curl_easy_strerror(grc));
        return SMPDFU_ENOCONN;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        say(msg, cap, "cannot start libcurl");
        return SMPDFU_ENOSPC;
    }
    char ebuf[CURL_ERROR_SIZE];
    ebuf[0] = '\0';
    sink_t s = {.out = out, .max = max};
    smpdfu_posix_curl_common(c, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L); /* >= 400: no error page in the buffer */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cto);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, to);
    /* A Content-Length above the cap is refused before any body arrives. */
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);

    CURLcode cr = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    out->status = status;
    int rc = 0;
    if (s.too_big || cr == CURLE_FILESIZE_EXCEEDED) {
        say(msg, cap, "%s is larger than the %u-byte limit for a downloaded image", url, (unsigned)max);
        rc = SMPDFU_EOVERSIZE;
    } else if (s.no_mem) {
        say(msg, cap, "out of memory downloading %s", url);
        rc = SMPDFU_ENOSPC;
    } else if (cr == CURLE_HTTP_RETURNED_ERROR || (cr == CURLE_OK && (status < 200 || status > 299))) {
        say(msg, cap, "the server answered HTTP status %ld for %s", status, url);
        rc = SMPDFU_EFILE;
    } else if (cr == CURLE_TOO_MANY_REDIRECTS) {
        say(msg, cap, "too many redirects for %s", url);
        rc = SMPDFU_ENOCONN;
    } else if (cr != CURLE_OK) {
        rc = map_curl(cr);
        say(msg, cap, "cannot download %s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(cr));
    }
    curl_easy_cleanup(c);
    if (rc) {
        smpdfu_posix_http_free(out);
    }
    return rc;
}

#endif /* SMPDFU_HAVE_CURL */
