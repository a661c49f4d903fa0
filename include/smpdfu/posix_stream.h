/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — POSIX port: streamed image sources for the CLI. Each is a
 * smpdfu_stream_t (stream.h) with a blocking fetch hook, so the upload reads
 * it like a file while only a window of the image is in memory:
 *
 *  - an http(s) URL fetched with Range requests (libcurl, one transfer that
 *    is paused while the window is full). The first answer gives the size
 *    (Content-Range total, or Content-Length). A server that ignores Range
 *    (200 instead of 206) is streamed from the start with the bytes before
 *    the wanted offset dropped. A transfer cut mid-body is resumed with a
 *    new Range request from the first byte still wanted; a go-back below
 *    the window asks again the same way. 404 and other statuses fail with a
 *    sentence.
 *  - a file descriptor (standard input, `-`) of a size given up front. It
 *    cannot go back: a go-back below the window (a device that lost its
 *    session) fails with SMPDFU_ENOSEEK and a sentence.
 *
 * Memory: the window is 32 KiB, or two CRC blocks when the image is larger
 * than 16 MiB (1024 CRC entries of 4 bytes), whatever the image size.
 * This port allocates (malloc); the portable stream does not.
 */
#ifndef SMPDFU_POSIX_STREAM_H
#define SMPDFU_POSIX_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_POSIX_STREAM_WINDOW 32768u
#define SMPDFU_POSIX_STREAM_CRC_N 1024u

typedef struct {
    smpdfu_stream_t stream;
    uint8_t *window;
    uint32_t *crc;
    size_t window_len;
    bool is_http;
    /* file descriptor source */
    int fd;
    uint32_t fd_pos;
    /* HTTP source */
    char *url;
    void *multi, *easy;       /* CURLM *, CURL * */
    void *hdrs;               /* struct curl_slist * (Range) */
    uint32_t req_off;         /* Range start of the transfer */
    uint32_t cb_off;          /* image offset of the next body byte curl hands over */
    uint32_t size;
    long status;
    int64_t range_start, range_total, content_length;
    bool body_started;
    bool ready;               /* the stream is set up: body bytes may be pushed */
    bool paused;
    bool done;                /* the transfer ended (xfer_rc says how) */
    int xfer_rc;              /* CURLcode */
    bool abandon;             /* the stream went back: this transfer is of no use */
    bool noted_ignored;
    int push_err;
    uint32_t requests;        /* GET requests made */
    uint32_t resumes;         /* transfers cut mid-body and asked again */
    uint32_t stalls;          /* restarts in a row without a new byte */
    uint32_t last_hi;
    uint32_t timeout_s;       /* no byte for this long ends a transfer */
    bool verbose;             /* one stderr line per request */
    char msg[512];            /* the sentence for the last failure */
    uint8_t sig_scratch[512];
} smpdfu_posix_stream_t;

/* Open url and learn the size from its first answer (nothing is pushed
 * yet). hash is the stream's own hook (not shared with anything running at
 * the same time); sig may be NULL. timeout_s: a transfer that brings no
 * byte for this long fails (0 = SMPDFU_DEFAULT_HTTP_STALL_S, 30). Returns 0 or an error with ps->msg
 * set: SMPDFU_EFILE (HTTP status), SMPDFU_ENOCONN, SMPDFU_ETIMEOUT,
 * SMPDFU_ENOTSUP (no libcurl), SMPDFU_ERANGE (no size given, or over 4 GiB). */
int smpdfu_posix_stream_open_url(smpdfu_posix_stream_t *ps, const char *url,
                                 const smpdfu_hash_t *hash, const smpdfu_sig_verify_t *sig,
                                 uint32_t timeout_s);

/* A stream over fd (not closed by close) of exactly size bytes. */
int smpdfu_posix_stream_open_fd(smpdfu_posix_stream_t *ps, int fd, uint32_t size,
                                const smpdfu_hash_t *hash, const smpdfu_sig_verify_t *sig);

/* Release everything (safe on a zeroed struct and twice). */
void smpdfu_posix_stream_close(smpdfu_posix_stream_t *ps);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_STREAM_H */
