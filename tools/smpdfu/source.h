/*
 * smpdfu CLI: where an image comes from — a local file or an http(s):// URL.
 * Every command that takes a FILE opens it here, so a URL works wherever a
 * file does and the image checks read both the same way.
 */
#ifndef SMPDFU_CLI_SOURCE_H
#define SMPDFU_CLI_SOURCE_H

#include <stdbool.h>

#include "cli.h"
#include "smpdfu/image.h"
#include "smpdfu/posix_file.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/posix_http.h"
#include "smpdfu/posix_stream.h"
#include "smpdfu/upload.h"

typedef struct {
    bool http;
    smpdfu_posix_file_t file;       /* a local file (fd -1 otherwise) */
    smpdfu_posix_http_body_t body;  /* a download */
    smpdfu_image_buf_t buf;         /* reader over body */
    smpdfu_source_t src;            /* read/ctx/size for either */
    bool streamed;                  /* a URL or stdin streamed through a window */
    smpdfu_posix_stream_t ps;
    smpdfu_posix_hash_state_t hs;   /* the stream's own hash hook */
    smpdfu_hash_t h;
} img_source_t;

/* Mark s closed (so img_source_close is safe before or without an open). */
void img_source_init(img_source_t *s);

/* Open path, or download it when it is an http(s):// URL (printing
 * "downloaded N bytes from URL" unless --quiet/--json). Failures are reported
 * in words; returns 0 or SMPDFU_EXIT_FAIL. */
int img_source_open(img_source_t *s, const smpdfu_cli_t *cli, const char *path);

/* For uploads (image upload, dfu): a URL is streamed with Range requests
 * and `-` reads standard input (size: --size, else < 0 = usage error),
 * each through a window (posix_stream.h), not downloaded whole; a file is
 * opened as by img_source_open. "streaming N bytes from URL" goes to stderr
 * unless --quiet/--json. Returns 0, SMPDFU_EXIT_FAIL or SMPDFU_EXIT_USAGE. */
int img_source_open_stream(img_source_t *s, const smpdfu_cli_t *cli, const char *path,
                           long long size);

/* After a failure: the stream's own sentence (HTTP status, cut, stdin
 * cannot go back), printed when there is one. */
void img_source_explain(const img_source_t *s);

/* Close the file or free the download (safe to call twice). */
void img_source_close(img_source_t *s);

#endif /* SMPDFU_CLI_SOURCE_H */
