/* Image sources for the CLI: a file or an HTTP(S) download (see source.h). */
#include "source.h"

#include "smpdfu/posix_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void img_source_init(img_source_t *s)
{
    memset(s, 0, sizeof(*s));
    s->file.fd = -1;
}

/* $SMPDFU_HTTP_TIMEOUT (seconds) bounds the whole download; a gateway on a
 * slow link may need more than the default. */
static uint32_t http_timeout_ms(void)
{
    const char *e = getenv("SMPDFU_HTTP_TIMEOUT");
    if (!e || !*e) {
        return 0;
    }
    uint32_t ms;
    if (smpdfu_posix_arg_seconds_ms(e, 0.001, 86400, &ms)) {
        smpdfu_cli_error("ignoring SMPDFU_HTTP_TIMEOUT='%s' (seconds from 0.001 to 86400 wanted)", e);
        return 0;
    }
    return ms;
}

static const char *file_kind(mode_t m)
{
    return S_ISCHR(m)    ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISFIFO(m) ? "a pipe"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

int img_source_open(img_source_t *s, const smpdfu_cli_t *cli, const char *path)
{
    img_source_init(s);
    if (!smpdfu_posix_http_is_url(path)) {
        int rc = smpdfu_posix_file_open(&s->file, path);
        if (rc) {
            int e = errno;
            struct stat st;
            if (rc == SMPDFU_ERANGE) {
                smpdfu_cli_error("cannot use %s: 4 GiB or larger, far more than any image slot", path);
            } else if (e == ENOTSUP && stat(path, &st) == 0) {
                smpdfu_cli_error("cannot use %s: it is %s, not a regular file (an image is a file "
                                 "or an http(s) URL)",
                                 path, file_kind(st.st_mode));
            } else {
                smpdfu_cli_error("cannot read %s: %s", path, strerror(e));
            }
            return SMPDFU_EXIT_FAIL;
        }
        s->src = (smpdfu_source_t){smpdfu_posix_file_read, &s->file, s->file.size};
        return 0;
    }
    smpdfu_posix_http_opts_t o = {0};
    o.timeout_ms = http_timeout_ms();
    if (o.timeout_ms && o.timeout_ms < SMPDFU_HTTP_CONNECT_TIMEOUT_DEFAULT_MS) {
        o.connect_timeout_ms = o.timeout_ms;
    }
    char msg[512];
    int rc = smpdfu_posix_http_get(path, &o, &s->body, msg, sizeof(msg));
    if (rc) {
        smpdfu_cli_error("%s", msg);
        return SMPDFU_EXIT_FAIL;
    }
    s->http = true;
    s->buf.data = s->body.data;
    s->buf.len = s->body.len;
    s->src = (smpdfu_source_t){smpdfu_image_buf_read, &s->buf, (uint32_t)s->body.len};
    if (!cli->quiet && !cli->json) {
        fprintf(stderr, "downloaded %zu bytes from %s\n", s->body.len, path);
    }
    return 0;
}

int img_source_open_stream(img_source_t *s, const smpdfu_cli_t *cli, const char *path,
                           long long size)
{
    bool url = smpdfu_posix_http_is_url(path);
    if (!url && strcmp(path, "-") != 0) {
        return img_source_open(s, cli, path);
    }
    img_source_init(s);
    if (!url && (size < 32 || size > UINT32_MAX)) {
        smpdfu_cli_error("reading the image from standard input needs its size: --size BYTES");
        return SMPDFU_EXIT_USAGE;
    }
    smpdfu_posix_hash_init(&s->hs, &s->h);
    s->streamed = true;
    int rc;
    if (url) {
        uint32_t to = http_timeout_ms();
        rc = smpdfu_posix_stream_open_url(&s->ps, path, &s->h, NULL, to ? (to + 999) / 1000 : 0);
        s->ps.verbose = cli->verbose > 0;
    } else {
        rc = smpdfu_posix_stream_open_fd(&s->ps, 0, (uint32_t)size, &s->h, NULL);
    }
    if (rc) {
        smpdfu_cli_error("%s", s->ps.msg[0] ? s->ps.msg : smpdfu_strerror(rc));
        img_source_close(s);
        return SMPDFU_EXIT_FAIL;
    }
    s->src = smpdfu_stream_source(&s->ps.stream);
    /* Fill the first window now: the header is checked before the device
     * is even contacted. */
    uint8_t hdr[32];
    rc = smpdfu_stream_read(&s->ps.stream, 0, hdr, sizeof(hdr));
    if (rc) {
        smpdfu_cli_error("%s is not an image to upload (nothing was sent): %s", path,
                         s->ps.msg[0] ? s->ps.msg : smpdfu_strerror(rc));
        img_source_close(s);
        return SMPDFU_EXIT_FAIL;
    }
    if (!cli->quiet && !cli->json) {
        fprintf(stderr, "streaming %u bytes from %s through a %zu-byte window\n", s->src.size,
                url ? path : "standard input", s->ps.window_len);
    }
    return 0;
}

void img_source_explain(const img_source_t *s)
{
    if (s->streamed && s->ps.msg[0]) {
        smpdfu_cli_error("%s", s->ps.msg);
    }
}

void img_source_close(img_source_t *s)
{
    if (s->streamed) {
        smpdfu_posix_stream_close(&s->ps);
        smpdfu_posix_hash_free(&s->hs);
        s->streamed = false;
    }
    smpdfu_posix_file_close(&s->file);
    smpdfu_posix_http_free(&s->body);
    s->buf.data = NULL;
    s->buf.len = 0;
}
