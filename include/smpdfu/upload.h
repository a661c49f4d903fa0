/*
 * smpdfu — image upload over the client engine (protocol.md §4.3).
 *
 * The image comes from a source (read at an offset + size), so a file, a
 * flash area, or a network stream with a buffer can feed it. Reads go back
 * at most one window of chunks, except after the device lost its session
 * (then from the offset the device names, possibly 0).
 *
 * What the upload does:
 *  - reads the device's MCUmgr params (unless told they are known) and
 *    fills every chunk to EXACTLY the largest packet the device and link
 *    accept (smpdfu_client_max_packet): the CBOR overhead is computed per
 *    chunk, since the width of `off` grows with the offset;
 *  - first chunk: off 0, len, sha (SHA-256 of the whole file), image,
 *    upgrade; its timeout is long (the device may erase the slot);
 *  - always continues from the offset the device returns;
 *  - several chunks in flight (window) with Zephyr's in-order semantics:
 *    a chunk at an unexpected offset is answered with the expected offset,
 *    so an answer below the chunk's end means "go back to that offset"; an
 *    answer beyond a chunk acknowledges every chunk below it (a lost
 *    response costs nothing). After 3 such go-backs the window drops to 1;
 *  - off 0 mid-transfer (the device lost its session: reboot, other client)
 *    -> re-sends the first chunk with the same sha, so a device that kept
 *    the session (smpdfu's target) resumes, and Zephyr restarts;
 *  - off 0 after the final chunk went out -> "probably complete": verify
 *    with a state read (expect_hash), never a restart from zero;
 *  - `match` in the final answer counts only when a full 32-byte `sha` was
 *    sent: without one, Zephyr (CONFIG_IMG_ENABLE_IMAGE_CHECK) compares the
 *    image with a zero-filled sha and always says false.
 */
#ifndef SMPDFU_UPLOAD_H
#define SMPDFU_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/client.h"
#include "smpdfu/hash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_UPLOAD_MAX_WINDOW 8
#define SMPDFU_UPLOAD_FIRST_TIMEOUT_MS 30000u

/* Where the image bytes come from. A streamed source (stream.h) may answer
 * a read with SMPDFU_EAGAIN: the upload then waits, with nothing lost, until
 * smpdfu_upload_kick() (or smpdfu_dfu_kick()) after the bytes came. */
typedef struct {
    smpdfu_read_fn read; /* read(ctx, off, buf, len): 0, SMPDFU_EAGAIN or a negative error */
    void *ctx;
    uint32_t size;       /* total bytes (the upload's `len`) */
} smpdfu_source_t;

typedef struct {
    int status;            /* 0 or the error that ended the upload */
    smpdfu_dev_err_t dev;  /* status == SMPDFU_EDEVICE: what the device said */
    uint32_t size;
    uint32_t off;          /* device offset when it ended */
    bool verified;         /* device said match:true, or a state read showed expect_hash */
    bool verify_needed;    /* final chunk answered with off 0 and no expect_hash given */
    bool resumed;          /* the device continued an earlier session ... */
    uint32_t resume_off;   /* ... from this offset */
    uint32_t restarts;     /* the device lost the session and started at 0 again */
    uint32_t session_losses; /* off 0 answers mid-transfer */
    uint32_t chunks;       /* chunk requests sent (retransmissions not counted) */
    uint32_t go_backs;     /* pipeline breaks */
    uint8_t window;        /* chunks in flight at the end */
    size_t max_packet;     /* SMP packet size used for chunks */
} smpdfu_upload_result_t;

typedef struct {
    smpdfu_source_t src;
    /* `sha`: SHA-256 of the whole file. NULL: computed through `hash` at
     * start (reads the whole source once), or omitted when hash is NULL too. */
    const uint8_t *sha;
    size_t sha_len;              /* <= 32 */
    const smpdfu_hash_t *hash;
    const uint8_t *expect_hash;  /* 32-byte image hash TLV for verification, or NULL */
    uint32_t image;              /* `image` field (sent when non-zero) */
    bool upgrade;                /* `upgrade: true` (refuse non-newer versions) */
    uint8_t window;              /* max chunks in flight; 0 = device buf_count */
    bool skip_params;            /* engine already has the device params */
    uint32_t timeout_ms;         /* per chunk; 0 = engine default */
    uint32_t first_timeout_ms;   /* first chunk; 0 = SMPDFU_UPLOAD_FIRST_TIMEOUT_MS */
    int retries;                 /* < 0 = engine default */
    void (*progress)(void *arg, uint32_t off, uint32_t size);
    void (*done)(void *arg, const smpdfu_upload_result_t *res);
    void *arg;
} smpdfu_upload_cfg_t;

typedef struct {
    smpdfu_req_t *req;
    uint32_t off;
    uint32_t len;
} smpdfu_upload_chunk_t;

/* Upload state; caller-owned, fields private. */
typedef struct {
    smpdfu_client_t *c;
    smpdfu_upload_cfg_t cfg;
    uint8_t sha[32];
    size_t sha_len;
    uint8_t state;
    uint8_t window;
    uint8_t probes;
    bool final_sent;
    bool seen_first;
    uint32_t dev_off;
    uint32_t next_off;
    uint32_t reported;
    uint8_t gb_run;      /* go-backs without a clean window in between */
    uint32_t gb_mark;    /* offset of the last go-back */
    smpdfu_upload_chunk_t live[SMPDFU_UPLOAD_MAX_WINDOW];
    smpdfu_req_t *aux;   /* params or state read in flight */
    smpdfu_upload_result_t res;
    bool starved;        /* a read said SMPDFU_EAGAIN: waiting for a kick */
} smpdfu_upload_t;

/* Start uploading. Returns 0 (done() will be called exactly once, from a
 * later feed/tick), or an error with no callback: SMPDFU_EINVAL (bad
 * config, image shorter than 32 bytes), SMPDFU_EBUSY (no free request
 * slot), a source/hash error, or the engine's send error. */
int smpdfu_upload_start(smpdfu_upload_t *u, smpdfu_client_t *c, const smpdfu_upload_cfg_t *cfg);

/* The source has new bytes (or failed): send what waited on SMPDFU_EAGAIN.
 * Cheap and harmless when nothing waits; call it after every push into a
 * streamed source. done() may be called from inside. */
void smpdfu_upload_kick(smpdfu_upload_t *u);

/* Stop: cancel chunks in flight; done() is not called. */
void smpdfu_upload_abort(smpdfu_upload_t *u);

/* True while the upload runs. */
bool smpdfu_upload_busy(const smpdfu_upload_t *u);

/* Bytes of data a chunk at `off` carries in a packet of max_packet bytes
 * (first: the off-0 chunk with len/sha/image/upgrade). Exposed for tests. */
size_t smpdfu_upload_chunk_len(size_t max_packet, uint32_t off, bool first, uint32_t size,
                               size_t sha_len, uint32_t image, bool upgrade);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_UPLOAD_H */
