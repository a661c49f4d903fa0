/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — the DFU orchestrator: an event-driven state machine over the
 * client engine that takes a device from "running A" to "running B,
 * confirmed".
 *
 *   check the image locally (parse in FILE mode, verify its hash TLV)
 *   -> os params -> state read: skip the upload when the device already
 *      holds the image's hash (or already runs it)
 *   -> upload (upload.h) -> state read: the hash is in the secondary slot
 *   -> mark: test (or confirm = permanent)
 *   -> reset -> stay quiet ~1 s (MCUboot swaps; serial targets can hang when
 *      spoken to) -> poll state read with backoff until the device answers
 *   -> it runs the new hash -> confirm (test-and-confirm mode)
 *   -> state read shows it confirmed.
 *
 * Two images (nRF5340 app + network core): give them in the order to
 * upload (network core, image 1, first). One reset applies both. In
 * test-and-confirm mode images other than 0 are marked permanent up front:
 * Zephyr refuses to confirm a non-running image's primary after the swap
 * (IMAGE_CONFIRMATION_DENIED), and the nRF5340 network core cannot revert.
 *
 * Every step is reported through cfg.event with a sentence.
 */
#ifndef SMPDFU_DFU_H
#define SMPDFU_DFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/client.h"
#include "smpdfu/client_img.h"
#include "smpdfu/hash.h"
#include "smpdfu/image.h"
#include "smpdfu/stream.h"
#include "smpdfu/upload.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_DFU_MAX_IMAGES 2

typedef enum {
    SMPDFU_DFU_TEST_CONFIRM = 0, /* test, reset, check, confirm (default) */
    SMPDFU_DFU_CONFIRM_ONLY = 1, /* mark permanent, reset, check */
    SMPDFU_DFU_TEST_ONLY = 2,    /* test, reset, check; left unconfirmed (reverts on next reset) */
    SMPDFU_DFU_UPLOAD_ONLY = 3,  /* upload and check it landed; no marking, no reset */
} smpdfu_dfu_mode_t;

typedef enum {
    SMPDFU_DFU_EV_CHECKED,       /* image parsed and its hash verified locally */
    SMPDFU_DFU_EV_PARAMS,        /* device buffer size known */
    SMPDFU_DFU_EV_STATE,         /* device state read */
    SMPDFU_DFU_EV_ALREADY_RUNNING, /* device already runs this image */
    SMPDFU_DFU_EV_SKIP_UPLOAD,   /* device already holds this image in its secondary slot */
    SMPDFU_DFU_EV_UPLOAD_START,
    SMPDFU_DFU_EV_UPLOAD_RESUMED,/* the device continued an earlier upload */
    SMPDFU_DFU_EV_UPLOAD_DONE,
    SMPDFU_DFU_EV_IN_SLOT,       /* state read shows the hash in the secondary slot */
    SMPDFU_DFU_EV_MARK_TEST,
    SMPDFU_DFU_EV_MARK_PERMANENT,
    SMPDFU_DFU_EV_RESET,
    SMPDFU_DFU_EV_QUIET,         /* waiting for the device to reboot */
    SMPDFU_DFU_EV_POLL,          /* asking whether the device is back */
    SMPDFU_DFU_EV_BACK,          /* the device answered after the reset */
    SMPDFU_DFU_EV_RUNNING,       /* the device runs the new image */
    SMPDFU_DFU_EV_NOT_LISTED,    /* image not listed after the reset (nRF5340 network core) */
    SMPDFU_DFU_EV_CONFIRM,
    SMPDFU_DFU_EV_CONFIRMED,     /* state read shows the image confirmed */
    SMPDFU_DFU_EV_SELF_CONFIRMED,/* the new image had already confirmed itself */
    SMPDFU_DFU_EV_UNCONFIRMED,   /* test-only: running, not confirmed */
    SMPDFU_DFU_EV_DONE,
    SMPDFU_DFU_EV_FAILED,
} smpdfu_dfu_ev_t;

typedef struct {
    smpdfu_dfu_ev_t ev;
    int image;         /* image number the event concerns, -1 for the device */
    const char *text;  /* one sentence, static ("" with SMPDFU_NO_SENTENCES) */
    int status;        /* FAILED: the error */
    uint32_t value;    /* UPLOAD_RESUMED: offset; POLL: attempt number */
} smpdfu_dfu_event_t;

/* A streamed image (stream != NULL, src = smpdfu_stream_source(stream)) is
 * not checked up front: the stream checks it while it passes and holds back
 * the final chunk until it verified. Its hash is unknown before the upload,
 * so it is always uploaded (no "already there" skip) and the device's slots
 * are compared with it after the upload. The upload sends the stream's
 * file_sha as `sha` when it has one, else no `sha`. */
/* What smpdfu_dfu_check_image[_opt]() learned about an image. */
typedef struct {
    smpdfu_image_info_t info;
    uint8_t sha[32];   /* SHA-256 of the whole source */
} smpdfu_dfu_checked_t;

typedef struct {
    smpdfu_source_t src;
    uint32_t image;    /* 0 = application, 1 = nRF5340 network core, ... */
    smpdfu_stream_t *stream; /* NULL: a readable source checked up front */
    /* NULL: smpdfu_dfu_start() checks src itself. Else what a successful
     * smpdfu_dfu_check_image_opt() on this same src (allow_padded =
     * cfg.force) filled in, taken as it is, so a caller that checked the
     * image first (to refuse it before connecting) does not have it parsed
     * and hashed twice. Caller-owned; copied by smpdfu_dfu_start(). */
    const smpdfu_dfu_checked_t *checked;
} smpdfu_dfu_image_t;

typedef struct {
    int status;              /* 0 or the error */
    smpdfu_dev_err_t dev;    /* status == SMPDFU_EDEVICE */
    int failed_image;        /* image the error concerns, or -1 */
    bool uploaded[SMPDFU_DFU_MAX_IMAGES];
    bool reset_done;
    smpdfu_upload_result_t upload[SMPDFU_DFU_MAX_IMAGES];
} smpdfu_dfu_result_t;

typedef struct {
    smpdfu_dfu_image_t images[SMPDFU_DFU_MAX_IMAGES];
    size_t nimages;
    smpdfu_dfu_mode_t mode;
    const smpdfu_hash_t *hash;   /* required: local hash check and the upload sha */
    uint8_t window;              /* upload window; 0 = device buf_count */
    uint32_t timeout_ms;         /* per request; 0 = engine default */
    int retries;                 /* < 0 = engine default */
    uint32_t first_timeout_ms;   /* first upload chunk; 0 = upload default */
    uint32_t quiet_ms;           /* silence after the reset reply;
                                    0 = SMPDFU_DEFAULT_QUIET_MS (1 s) */
    uint32_t reboot_timeout_ms;  /* how long the device may take to come
                                    back; 0 = SMPDFU_DEFAULT_REBOOT_TIMEOUT_MS (60 s) */
    bool force;                  /* send padded files as they are (smpdfu_dfu_check_image_opt) */
    /* Upload tuning (upload.h): give up after this much silence (0 = SMPDFU_DEFAULT_SILENCE_MS, 60 s;
     * the steps after the first answer also retry that long), fixed packet
     * size (0 = follow the link), line pacing (0 = detect). */
    uint32_t silence_ms;
    size_t packet_size;
    uint32_t pace_us;
    void (*upload_note)(void *arg, int image, const smpdfu_upload_note_t *n); /* optional */
    void (*event)(void *arg, const smpdfu_dfu_event_t *ev);
    void (*progress)(void *arg, int image, uint32_t off, uint32_t size);
    void (*done)(void *arg, const smpdfu_dfu_result_t *res);
    void *arg;
} smpdfu_dfu_cfg_t;

typedef struct {
    smpdfu_image_info_t info;
    uint8_t sha[32];         /* SHA-256 of the whole file (upload sha) */
    bool upload;
    bool mark;
    bool permanent;          /* mark with confirm=true */
    bool confirm_running;    /* already running, needs only a confirm */
    bool check_after_reset;
    bool hash_from_slot;     /* streamed, and the device already held the whole file:
                              * take the hash its secondary slot lists */
} smpdfu_dfu_img_t;

/* Orchestrator state; caller-owned, fields private. */
typedef struct {
    smpdfu_client_t *c;
    smpdfu_dfu_cfg_t cfg;
    smpdfu_dfu_img_t img[SMPDFU_DFU_MAX_IMAGES];
    smpdfu_upload_t up;
    smpdfu_timer_t timer;
    smpdfu_img_state_t st;
    smpdfu_dfu_result_t res;
    uint8_t state;
    size_t cur;
    uint32_t poll_n;
    uint8_t resets;          /* resets sent */
    bool reset_heard;        /* the last reset was answered */
    uint32_t poll_wait;
    uint64_t poll_deadline;
    smpdfu_req_t *req;
} smpdfu_dfu_t;

/* Check the images locally (those without `checked`), then start talking to
 * the device. Returns 0 (done() follows exactly once), or an error with
 * nothing sent: the image parse/verify error (SMPDFU_EIMG_*), SMPDFU_ENOTSUP
 * (no SHA-256 hash TLV: the device could not list it), SMPDFU_EINVAL, or the
 * engine's error. Parsing and hashing read the sources synchronously. Every
 * image read up front, checked here or before, is reported with
 * SMPDFU_DFU_EV_CHECKED. */
int smpdfu_dfu_start(smpdfu_dfu_t *d, smpdfu_client_t *c, const smpdfu_dfu_cfg_t *cfg);

/* Check one image the way smpdfu_dfu_start() does; info and sha (32 bytes,
 * SHA-256 of the whole source) are filled. */
int smpdfu_dfu_check_image(const smpdfu_source_t *src, const smpdfu_hash_t *hash,
                           smpdfu_image_info_t *info, uint8_t *sha);

/* The same check; with allow_padded an imgtool --pad file (trailer at the end,
 * SMPDFU_EIMG_PADDED) or one with bytes after the TLVs (SMPDFU_EIMG_TRAILING)
 * passes when the image in front of them is sound, and sha covers the whole
 * file as it will be sent. */
int smpdfu_dfu_check_image_opt(const smpdfu_source_t *src, const smpdfu_hash_t *hash,
                               smpdfu_image_info_t *info, uint8_t *sha, bool allow_padded);
/* A streamed source got bytes (or failed): pass it on to the upload
 * (smpdfu_upload_kick). Harmless in any other state. */
void smpdfu_dfu_kick(smpdfu_dfu_t *d);

/* Stop everything in flight; done() is not called. */
void smpdfu_dfu_abort(smpdfu_dfu_t *d);

bool smpdfu_dfu_busy(const smpdfu_dfu_t *d);

/* Name of a mode ("test-confirm", ...) and back (SMPDFU_EINVAL). */
const char *smpdfu_dfu_mode_name(smpdfu_dfu_mode_t m);
int smpdfu_dfu_mode_parse(const char *s, smpdfu_dfu_mode_t *m);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_DFU_H */
