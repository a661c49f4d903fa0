/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — file system group (group 8, Zephyr fs_mgmt): single requests,
 * their parsers, and a windowed download. Uploads of whole files go through
 * smpdfu_upload_start() with cfg.fs_name set (upload.h): the same window,
 * go-back and resume logic as image upload.
 *
 * Request functions build and send one request and return 0 or the engine's
 * error (SMPDFU_EBUSY, SMPDFU_EOVERSIZE, SMPDFU_ECLOSED, SMPDFU_EINVAL for an
 * empty name); cb gets the response once. Parsers read a successful response
 * in place (pointers valid during the callback); errors SMPDFU_EINVAL (not
 * a success), SMPDFU_EPROTO (wrong shape), SMPDFU_ENOTFOUND (key missing).
 * Device errors (err group 8): 2 invalid name, 3 not found, 4 is a
 * directory, 5 open failed, 11 offset not valid (the answer's "len" says
 * the expected one), 12 offset larger than the file, 13 hash type not
 * found, 14 mount point not found, 15 read-only, 16 file empty.
 */
#ifndef SMPDFU_CLIENT_FS_H
#define SMPDFU_CLIENT_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/client.h"
#include "smpdfu/client_iter.h"
#include "smpdfu/hash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_FS_MAX_WINDOW 8
/* Zephyr's CONFIG_MCUMGR_GRP_FS_PATH_LEN default. */
#define SMPDFU_FS_PATH_MAX 64

/* Download one chunk (id 0, read) {"name", "off"} -> {"off", "data", ["len"]}
 * (len, the file size, only at off 0). */
int smpdfu_fs_download_chunk(smpdfu_client_t *c, const char *name, uint32_t off,
                             const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
typedef struct {
    uint32_t off;
    const uint8_t *data; /* points into the response */
    size_t data_len;
    bool has_len;
    uint32_t len;        /* the file's size */
} smpdfu_fs_chunk_t;
int smpdfu_fs_download_parse(const smpdfu_rsp_t *r, smpdfu_fs_chunk_t *ch);

/* Status (id 1, read) {"name"} -> {"len": size}. */
int smpdfu_fs_status(smpdfu_client_t *c, const char *name, const smpdfu_req_opts_t *o,
                     smpdfu_rsp_fn cb, void *arg);
int smpdfu_fs_status_parse(const smpdfu_rsp_t *r, uint32_t *size);

/* Hash/checksum (id 2, read) {"name", ["type"], ["off"], ["len"]}: type NULL
 * is the device default (crc32); len 0 means to the end. Answer: {"type",
 * ["off"], "len", "output": bytes (hashes) or uint (checksums)}. */
int smpdfu_fs_hash(smpdfu_client_t *c, const char *name, const char *type, uint32_t off,
                   uint32_t len, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
typedef struct {
    const char *type; /* not NUL-terminated; NULL if absent */
    size_t type_len;
    uint32_t off, len;
    bool is_number;       /* output was a uint (crc32) */
    uint64_t number;
    const uint8_t *bytes; /* output was bytes (sha256) */
    size_t bytes_len;
} smpdfu_fs_hash_t;
int smpdfu_fs_hash_parse(const smpdfu_rsp_t *r, smpdfu_fs_hash_t *h);

/* Supported hash/checksum types (id 3, read) -> {"types": {NAME: {"format":
 * 0 number / 1 bytes, "size": bytes}}}. Walk with smpdfu_fs_types_next(). */
int smpdfu_fs_types(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
int smpdfu_fs_types_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it);
int smpdfu_fs_types_next(smpdfu_rsp_iter_t *it, const char **name, size_t *name_len,
                         uint32_t *format, uint32_t *size);

/* Close the open file (id 4, write), {} -> {}. */
int smpdfu_fs_close(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);

/* From an error answer to an upload chunk (err group 8 rc 11): the offset
 * the device expects ("len"). Returns 0 with *expected, SMPDFU_ENOTFOUND
 * when the answer has none, SMPDFU_EPROTO. */
int smpdfu_fs_expected_off(const smpdfu_rsp_t *r, uint32_t *expected);

/* ---------------------------------------------------- windowed download */

/* Where downloaded bytes go: write(ctx, off, data, len) returns 0 or a
 * negative smpdfu error (which ends the download). Chunks may arrive out of
 * order; each byte range is written once. */
typedef int (*smpdfu_fs_sink_fn)(void *ctx, uint32_t off, const uint8_t *data, size_t len);

typedef struct {
    int status;            /* 0 or the error that ended it */
    smpdfu_dev_err_t dev;  /* status SMPDFU_EDEVICE: what the device said */
    uint32_t size;         /* the file's size (from the first answer) */
    uint32_t start;        /* where the download began (resume offset) */
    uint32_t got;          /* bytes received from start */
    uint32_t requests;     /* chunk requests sent */
    uint32_t chunk;        /* the device's chunk size */
    uint32_t contig;       /* every byte below this offset was written (on a failure:
                              where a later download may resume) */
} smpdfu_fs_download_result_t;

typedef struct {
    const char *name;      /* device path; must outlive the download */
    uint32_t start;        /* resume: first offset wanted (0: whole file) */
    uint8_t window;        /* requests in flight, 1..SMPDFU_FS_MAX_WINDOW (0: 1) */
    uint32_t timeout_ms;   /* per request; 0 = engine default */
    int retries;           /* < 0 = engine default */
    smpdfu_fs_sink_fn write;
    void *ctx;
    void (*progress)(void *arg, uint32_t done, uint32_t size);
    void (*done)(void *arg, const smpdfu_fs_download_result_t *res);
    void *arg;
} smpdfu_fs_download_cfg_t;

/* Download state; caller-owned, fields private. */
typedef struct {
    smpdfu_client_t *c;
    smpdfu_fs_download_cfg_t cfg;
    bool busy, sized;
    uint32_t next;         /* next offset to ask for */
    uint32_t failed_off;   /* the ask being handled (UINT32_MAX: none) */
    struct {
        smpdfu_req_t *req;
        uint32_t off, len; /* asked range (len 0: size unknown yet) */
    } live[SMPDFU_FS_MAX_WINDOW];
    smpdfu_fs_download_result_t res;
} smpdfu_fs_download_t;

/* Start. From offset 0 the first answer gives the size; a resumed download
 * (start > 0) reads the status for it first. Returns 0 (done() is then
 * called exactly once, from a later feed/tick) or SMPDFU_EINVAL / the
 * engine's error with no callback. The window opens once the first answer
 * shows the device's chunk size; a short chunk that is not the end of the
 * file is asked for again from where it stopped (and an answer longer than
 * its ask, the device filling its buffer, is cut to the ask). start beyond the size, or
 * an empty chunk before the end (the file shrank): SMPDFU_EPROTO. */
int smpdfu_fs_download_start(smpdfu_fs_download_t *dl, smpdfu_client_t *c,
                             const smpdfu_fs_download_cfg_t *cfg);
void smpdfu_fs_download_abort(smpdfu_fs_download_t *dl);
bool smpdfu_fs_download_busy(const smpdfu_fs_download_t *dl);

/* ------------------------------------------- resume and verify by SHA-256 */

/* Whether the device's file and a local copy hold the same bytes, by the
 * device's sha256 (fs hash) of a prefix against the local one:
 *  - UPLOAD_RESUME: the file status gives the device's size `have`; when
 *    0 < have <= local_len and both sides' [0, have) match, start = have;
 *  - DOWNLOAD_RESUME: the status gives the device's size (res.remote_size);
 *    when local_len <= it and [0, local_len) match, start = local_len;
 *  - VERIFY: compare [0, local_len): res.same 1 equal, -1 different, 0 the
 *    device cannot say (no sha256, no hash command, no answer).
 * A device that cannot say, or an unanswered hash request, means "start at
 * 0" (resume) or same 0 (verify), never a failure. */
typedef enum {
    SMPDFU_FS_MATCH_UPLOAD_RESUME,
    SMPDFU_FS_MATCH_DOWNLOAD_RESUME,
    SMPDFU_FS_MATCH_VERIFY,
} smpdfu_fs_match_mode_t;

typedef struct {
    int status;            /* 0; UPLOAD_RESUME: the status request's error other than
                              SMPDFU_EDEVICE (the device went quiet) */
    uint32_t start;        /* resume offset (0: from the start) */
    uint32_t remote_size;  /* the status's size (resume modes, when answered) */
    int same;              /* VERIFY: 1, -1, or 0 (cannot say) */
} smpdfu_fs_match_result_t;

typedef struct {
    smpdfu_fs_match_mode_t mode;
    const char *name;            /* caller-owned until done() */
    smpdfu_read_fn read;         /* the local bytes [0, local_len) */
    void *read_ctx;              /* caller-owned until done() */
    uint32_t local_len;
    const smpdfu_hash_t *hash;   /* required: the local SHA-256 */
    uint32_t timeout_ms;         /* per request; 0 = engine default */
    int retries;                 /* < 0 = engine default */
    void (*done)(void *arg, const smpdfu_fs_match_result_t *res);
    void *arg;
} smpdfu_fs_match_cfg_t;

/* State; caller-owned, fields private. */
typedef struct {
    smpdfu_client_t *c;
    smpdfu_fs_match_cfg_t cfg;
    smpdfu_fs_match_result_t res;
    smpdfu_req_t *req;
    uint32_t len;          /* prefix being compared */
    uint8_t state;
    uint8_t scratch[256];  /* local read buffer */
} smpdfu_fs_match_t;

/* Start. Returns 0 (done() follows exactly once, from a later feed/tick), or
 * SMPDFU_EINVAL (no done/hash/name) / the engine's error with no callback.
 * The local hash is computed inside the hash answer's callback
 * (synchronous reads through read). */
int smpdfu_fs_match_start(smpdfu_fs_match_t *m, smpdfu_client_t *c,
                          const smpdfu_fs_match_cfg_t *cfg);
void smpdfu_fs_match_abort(smpdfu_fs_match_t *m);
bool smpdfu_fs_match_busy(const smpdfu_fs_match_t *m);

#ifdef __cplusplus
}
#endif
#endif
