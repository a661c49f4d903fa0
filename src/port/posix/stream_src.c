/* SPDX-License-Identifier: Apache-2.0 */
/* Streamed image sources: HTTP Range (libcurl) and a file descriptor, as
 * blocking fetch hooks of a smpdfu_stream_t (see posix_stream.h). */
#include "smpdfu/posix_stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void say(smpdfu_posix_stream_t *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(smpdfu_posix_stream_t *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->msg, sizeof(ps->msg), fmt, ap);
    va_end(ap);
}

/* Window and CRC table for an image of `size` bytes, and the stream. */
static int setup(smpdfu_posix_stream_t *ps, uint32_t size, const smpdfu_hash_t *hash,
                 const smpdfu_sig_verify_t *sig, int (*fetch)(void *, smpdfu_stream_t *))
{
    uint32_t block = smpdfu_stream_block_len(size, SMPDFU_POSIX_STREAM_CRC_N);
    size_t win = SMPDFU_POSIX_STREAM_WINDOW;
    if (win < 2u * (size_t)block) {
        win = 2u * (size_t)block;
    }
    ps->window = malloc(win);
    ps->crc = malloc(SMPDFU_POSIX_STREAM_CRC_N * sizeof(uint32_t));
    if (!ps->window || !ps->crc) {
        say(ps, "out of memory for the stream window");
        return SMPDFU_ENOSPC;
    }
    ps->window_len = win;
    smpdfu_stream_cfg_t c;
    memset(&c, 0, sizeof(c));
    c.size = size;
    c.window = ps->window;
    c.window_len = win;
    c.crc = ps->crc;
    c.crc_n = SMPDFU_POSIX_STREAM_CRC_N;
    c.hash = hash;
    c.sig = sig;
    c.scratch = ps->sig_scratch;
    c.scratch_len = sizeof(ps->sig_scratch);
    c.fetch = fetch;
    c.fetch_ctx = ps;
    int rc = smpdfu_stream_init(&ps->stream, &c);
    if (rc) {
        say(ps, "cannot set up the stream: %s", smpdfu_strerror(rc));
    }
    return rc;
}

/* ------------------------------------------------------------------ fd */

static int fd_fetch(void *ctx, smpdfu_stream_t *s)
{
    smpdfu_posix_stream_t *ps = ctx;
    uint32_t off, len;
    if (!smpdfu_stream_want(s, &off, &len)) {
        return 0;
    }
    if (off != ps->fd_pos) {
        say(ps, "standard input cannot go back: the device asked again for byte %u, which has left "
                "the %zu-byte window (it lost its upload session); run the transfer again with the "
                "image from its start",
            off, ps->window_len);
        return SMPDFU_ENOSEEK;
    }
    uint8_t buf[16384];
    if (len > sizeof(buf)) {
        len = sizeof(buf);
    }
    ssize_t r;
    do {
        r = read(ps->fd, buf, len);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        say(ps, "cannot read standard input: %s", strerror(errno));
        return SMPDFU_EFILE;
    }
    if (r == 0) {
        say(ps, "standard input ended after %u of the %u bytes --size announced", ps->fd_pos,
            s->cfg.size);
        return SMPDFU_EIMG_TRUNC;
    }
    ps->fd_pos += (uint32_t)r;
    int pushed = smpdfu_stream_push(s, off, buf, (size_t)r);
    return pushed < 0 ? pushed : 0;
}

int smpdfu_posix_stream_open_fd(smpdfu_posix_stream_t *ps, int fd, uint32_t size,
                                const smpdfu_hash_t *hash, const smpdfu_sig_verify_t *sig)
{
    memset(ps, 0, sizeof(*ps));
    ps->fd = fd;
    return setup(ps, size, hash, sig, fd_fetch);
}

/* ---------------------------------------------------------------- HTTP */

#ifndef SMPDFU_HAVE_CURL

int smpdfu_posix_stream_open_url(smpdfu_posix_stream_t *ps, const char *url,
                                 const smpdfu_hash_t *hash, const smpdfu_sig_verify_t *sig,
                                 uint32_t timeout_s)
{
    (void)hash;
    (void)sig;
    (void)timeout_s;
    memset(ps, 0, sizeof(*ps));
    ps->fd = -1;
    say(ps, "this smpdfu was built without libcurl, so it cannot download %s", url);
    return SMPDFU_ENOTSUP;
}

static void http_close(smpdfu_posix_stream_t *ps)
{
    (void)ps;
}

#else

#include <curl/curl.h>

#include "http_priv.h"

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    smpdfu_posix_stream_t *ps = arg;
    size_t len = size * n;
    char line[256];
    size_t k = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
    memcpy(line, p, k);
    line[k] = 0;
    if (!strncasecmp(line, "HTTP/", 5)) {
        /* A new response (after a redirect): forget the previous headers. */
        ps->range_start = ps->range_total = ps->content_length = -1;
    } else if (!strncasecmp(line, "Content-Range:", 14)) {
        unsigned long long a, b, t;
        if (sscanf(line + 14, " bytes %llu-%llu/%llu", &a, &b, &t) == 3) {
            ps->range_start = (int64_t)a;
            ps->range_total = (int64_t)t;
        }
    } else if (!strncasecmp(line, "Content-Length:", 15)) {
        unsigned long long v;
        if (sscanf(line + 15, " %llu", &v) == 1) {
            ps->content_length = (int64_t)v;
        }
    }
    return len;
}

/* The first body bytes of a transfer: where do they start? */
static int body_start(smpdfu_posix_stream_t *ps)
{
    long st = 0;
    curl_easy_getinfo(ps->easy, CURLINFO_RESPONSE_CODE, &st);
    ps->status = st;
    if (st == 206) {
        if (ps->range_start != (int64_t)ps->req_off) {
            say(ps, "the server answered a Range request for byte %u of %s with another range",
                ps->req_off, ps->url);
            return SMPDFU_EPROTO;
        }
        ps->cb_off = ps->req_off;
    } else if (st == 200) {
        ps->cb_off = 0;
        if (ps->req_off > 0 && !ps->noted_ignored) {
            ps->noted_ignored = true;
            fprintf(stderr, "the server ignores Range requests: streaming %s from its start again, "
                            "skipping to byte %u\n",
                    ps->url, ps->req_off);
        }
    } else {
        say(ps, "the server answered HTTP status %ld for %s", st, ps->url);
        return SMPDFU_EFILE;
    }
    ps->body_started = true;
    return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    smpdfu_posix_stream_t *ps = arg;
    size_t len = size * n;
    if (!ps->body_started) {
        int rc = body_start(ps);
        if (rc) {
            ps->push_err = rc;
            return 0;
        }
    }
    if (!ps->ready) {
        ps->paused = true;
        return CURL_WRITEFUNC_PAUSE; /* opening: the headers were all we wanted */
    }
    uint32_t woff, wlen;
    if (!smpdfu_stream_want(&ps->stream, &woff, &wlen)) {
        ps->paused = true;
        return CURL_WRITEFUNC_PAUSE; /* window full: curl hands the same bytes again later */
    }
    if (woff < ps->cb_off) {
        ps->abandon = true; /* the stream went back below this transfer */
        return 0;
    }
    if ((uint64_t)woff >= (uint64_t)ps->cb_off + len) {
        ps->cb_off += (uint32_t)len; /* before the wanted offset (Range ignored): drop */
        return len;
    }
    size_t skip = woff - ps->cb_off;
    int r = smpdfu_stream_push(&ps->stream, woff, (const uint8_t *)p + skip, len - skip);
    if (r < 0) {
        ps->push_err = r;
        return 0;
    }
    if (skip + (size_t)r == len) {
        ps->cb_off += (uint32_t)len;
        return len;
    }
    ps->paused = true;
    return CURL_WRITEFUNC_PAUSE;
}

static void end_transfer(smpdfu_posix_stream_t *ps)
{
    if (ps->easy) {
        curl_multi_remove_handle(ps->multi, ps->easy);
        curl_easy_cleanup(ps->easy);
        ps->easy = NULL;
    }
    if (ps->hdrs) {
        curl_slist_free_all(ps->hdrs);
        ps->hdrs = NULL;
    }
}

static int start_transfer(smpdfu_posix_stream_t *ps, uint32_t off)
{
    end_transfer(ps);
    CURL *c = curl_easy_init();
    if (!c) {
        say(ps, "cannot start libcurl");
        return SMPDFU_ENOSPC;
    }
    char range[64];
    snprintf(range, sizeof(range), "Range: bytes=%u-", off);
    ps->hdrs = curl_slist_append(NULL, range);
    ps->easy = c;
    ps->req_off = off;
    ps->cb_off = off;
    ps->body_started = ps->paused = ps->done = ps->abandon = false;
    ps->range_start = ps->range_total = ps->content_length = -1;
    ps->requests++;
    if (ps->verbose) {
        fprintf(stderr, "GET %s (Range: bytes=%u-)\n", ps->url, off);
    }
    smpdfu_posix_curl_common(c, ps->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, (struct curl_slist *)ps->hdrs);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, ps);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, ps);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(ps->timeout_s * 1000u));
    /* No overall timeout: the transfer lives as long as the upload. A
     * server that sends nothing for timeout_s seconds ends it. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)ps->timeout_s);
    curl_multi_add_handle(ps->multi, c);
    return 0;
}

/* Run curl once (waiting up to wait_ms for the socket). */
static void pump(smpdfu_posix_stream_t *ps, int wait_ms)
{
    int running = 0;
    curl_multi_perform(ps->multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(ps->multi, &left)) != NULL) {
        if (m->msg == CURLMSG_DONE && m->easy_handle == ps->easy) {
            ps->done = true;
            ps->xfer_rc = (int)m->data.result;
        }
    }
    if (!ps->done && !ps->paused && wait_ms > 0) {
        /* Bytes curl already holds (after an unpause) show on no socket:
         * its own timer says when to call again. */
        long t = -1;
        curl_multi_timeout(ps->multi, &t);
        if (t == 0) {
            return;
        }
        if (t > 0 && t < wait_ms) {
            wait_ms = (int)t;
        }
        curl_multi_poll(ps->multi, NULL, 0, wait_ms, NULL);
    }
}

/* A transfer ended: 0 to go on (a cut: ask again), or the error. */
static int transfer_ended(smpdfu_posix_stream_t *ps)
{
    if (ps->push_err) {
        return ps->push_err;
    }
    if (ps->abandon) {
        return 0;
    }
    CURLcode cr = (CURLcode)ps->xfer_rc;
    if (cr == CURLE_OPERATION_TIMEDOUT) {
        say(ps, "the download of %s stalled at byte %u (no data for %u s)", ps->url, ps->cb_off,
            ps->timeout_s);
        return SMPDFU_ETIMEOUT;
    }
    if (cr == CURLE_COULDNT_CONNECT || cr == CURLE_COULDNT_RESOLVE_HOST ||
        cr == CURLE_TOO_MANY_REDIRECTS || cr == CURLE_UNSUPPORTED_PROTOCOL) {
        say(ps, "cannot download %s: %s", ps->url, curl_easy_strerror(cr));
        return SMPDFU_ENOCONN;
    }
    if (!ps->body_started) {
        long st = 0;
        curl_easy_getinfo(ps->easy, CURLINFO_RESPONSE_CODE, &st);
        if (st && (st < 200 || st > 299)) {
            say(ps, "the server answered HTTP status %ld for %s", st, ps->url);
            return SMPDFU_EFILE;
        }
    }
    /* Cut mid-body (or an empty answer): ask again from where we are. */
    ps->resumes++;
    return 0;
}

static int http_fetch(void *ctx, smpdfu_stream_t *s)
{
    smpdfu_posix_stream_t *ps = ctx;
    uint32_t start = s->hi;
    for (;;) {
        uint32_t woff, wlen;
        if (s->err || !smpdfu_stream_want(s, &woff, &wlen) || s->hi != start) {
            return 0;
        }
        if (ps->done || !ps->easy || woff < ps->cb_off) {
            if (ps->done) {
                int rc = transfer_ended(ps);
                if (rc) {
                    return rc;
                }
            }
            /* Restarts that bring nothing new in a row: give up. */
            ps->stalls = s->hi == ps->last_hi ? ps->stalls + 1 : 0;
            ps->last_hi = s->hi;
            if (ps->stalls > 5) {
                say(ps, "the download of %s keeps breaking off at byte %u", ps->url, woff);
                return SMPDFU_ENOCONN;
            }
            int rc = start_transfer(ps, woff);
            if (rc) {
                return rc;
            }
        }
        if (ps->paused) {
            ps->paused = false;
            curl_easy_pause(ps->easy, CURLPAUSE_CONT); /* may deliver bytes right here */
            if (ps->push_err) {
                return ps->push_err;
            }
            if (s->hi != start || ps->paused) {
                continue;
            }
            pump(ps, 0);
            continue;
        }
        pump(ps, 1000);
        if (ps->push_err) {
            return ps->push_err;
        }
    }
}

int smpdfu_posix_stream_open_url(smpdfu_posix_stream_t *ps, const char *url,
                                 const smpdfu_hash_t *hash, const smpdfu_sig_verify_t *sig,
                                 uint32_t timeout_s)
{
    memset(ps, 0, sizeof(*ps));
    ps->fd = -1;
    ps->is_http = true;
    ps->timeout_s = timeout_s ? timeout_s : SMPDFU_DEFAULT_HTTP_STALL_S;
    (void)smpdfu_posix_curl_global();
    ps->url = strdup(url);
    ps->multi = curl_multi_init();
    if (!ps->url || !ps->multi) {
        say(ps, "cannot start libcurl");
        return SMPDFU_ENOSPC;
    }
    int rc = start_transfer(ps, 0);
    if (rc) {
        return rc;
    }
    /* Until the first body byte (paused there) or the end. */
    while (!ps->body_started && !ps->done && !ps->push_err) {
        pump(ps, 1000);
    }
    if (ps->push_err) {
        return ps->push_err;
    }
    if (!ps->body_started) {
        rc = transfer_ended(ps);
        if (rc) {
            return rc;
        }
        say(ps, "the server sent no image for %s", url);
        return SMPDFU_EFILE;
    }
    int64_t size = ps->status == 206 ? ps->range_total : ps->content_length;
    if (size < 0) {
        say(ps, "the server does not say how large %s is (no Content-Length): the size must be "
                "known before streaming",
            url);
        return SMPDFU_ERANGE;
    }
    if (size > UINT32_MAX) {
        say(ps, "%s is larger than 4 GiB", url);
        return SMPDFU_ERANGE;
    }
    ps->size = (uint32_t)size;
    rc = setup(ps, ps->size, hash, sig, http_fetch);
    if (rc) {
        return rc;
    }
    ps->ready = true;
    return 0;
}

static void http_close(smpdfu_posix_stream_t *ps)
{
    end_transfer(ps);
    if (ps->multi) {
        curl_multi_cleanup(ps->multi);
        ps->multi = NULL;
    }
}

#endif /* SMPDFU_HAVE_CURL */

void smpdfu_posix_stream_close(smpdfu_posix_stream_t *ps)
{
    if (!ps) {
        return;
    }
    http_close(ps);
    free(ps->url);
    free(ps->window);
    free(ps->crc);
    ps->url = NULL;
    ps->window = NULL;
    ps->crc = NULL;
}
