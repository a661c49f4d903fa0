/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — POSIX port: fetch an image over HTTP(S) into memory (libcurl).
 *
 * A gateway downloads a signed image from a server and relays it to a device.
 * The whole body is held in memory so the local checks (parse, hash TLV, file
 * sha) and the upload read it through smpdfu_image_buf_read exactly as they
 * read a file. This port allocates (malloc); the portable core does not.
 * Without libcurl (SMPDFU_HAVE_CURL unset) every fetch fails with
 * SMPDFU_ENOTSUP.
 */
#ifndef SMPDFU_POSIX_HTTP_H
#define SMPDFU_POSIX_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The defaults (defaults.h), by the names this header has always used. */
#define SMPDFU_HTTP_MAX_DEFAULT SMPDFU_DEFAULT_HTTP_MAX
#define SMPDFU_HTTP_CONNECT_TIMEOUT_DEFAULT_MS SMPDFU_DEFAULT_HTTP_CONNECT_TIMEOUT_MS
#define SMPDFU_HTTP_TIMEOUT_DEFAULT_MS SMPDFU_DEFAULT_HTTP_TIMEOUT_MS

typedef struct {
    uint32_t max_bytes;          /* refuse bodies larger than this; 0 = SMPDFU_HTTP_MAX_DEFAULT */
    uint32_t connect_timeout_ms; /* 0 = SMPDFU_HTTP_CONNECT_TIMEOUT_DEFAULT_MS */
    uint32_t timeout_ms;         /* whole transfer; 0 = SMPDFU_HTTP_TIMEOUT_DEFAULT_MS */
} smpdfu_posix_http_opts_t;

/* A downloaded body. Owned by the caller after a successful get; release with
 * smpdfu_posix_http_free. */
typedef struct {
    uint8_t *data; /* NULL when empty or freed */
    size_t len;
    long status;   /* last HTTP status seen (after redirects), 0 if none */
} smpdfu_posix_http_body_t;

/* True when s starts with http:// or https:// (case-insensitive). */
bool smpdfu_posix_http_is_url(const char *s);

/* GET url (redirects followed, at most 10) into out. opts may be NULL for the
 * defaults. msg (cap bytes, may be NULL) receives one sentence saying what
 * went wrong. Returns 0 (status 2xx), or:
 *   SMPDFU_EFILE     the server answered with a status other than 2xx (the
 *                    status is in msg and out->status)
 *   SMPDFU_ENOCONN   cannot resolve or connect, TLS failure, transfer broke
 *   SMPDFU_ETIMEOUT  the connect or overall timeout passed
 *   SMPDFU_EOVERSIZE the body is (or says it is) larger than max_bytes
 *   SMPDFU_ENOTSUP   built without libcurl, or a scheme other than http(s)
 *   SMPDFU_EINVAL    NULL arguments
 *   SMPDFU_ENOSPC    out of memory
 * On failure out holds no memory. */
int smpdfu_posix_http_get(const char *url, const smpdfu_posix_http_opts_t *opts,
                          smpdfu_posix_http_body_t *out, char *msg, size_t cap);

/* Release a body (safe on a zeroed or already-freed one). */
void smpdfu_posix_http_free(smpdfu_posix_http_body_t *b);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_HTTP_H */
