/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — update through MCUboot's serial recovery (boot_serial): an
 * event-driven state machine over the client engine, like dfu.h.
 *
 *   state read: an application lists an active slot, MCUboot's boot_serial
 *      (without image state support) lists none
 *   -> application: os reset boot_mode 1 (one try), stay quiet, then ask
 *      os params (one try each, SMPDFU_DEFAULT_POLL_TIMEOUT_MS) until the
 *      bootloader answers or reboot_timeout_ms pass; the state read there
 *      must list no active slot
 *   -> os params: buffer size, one request at a time (512 when unanswered)
 *   -> upload each image straight into its primary slot, the highest image
 *      number first (MCUboot copies the network core over when it boots),
 *      window 1
 *   -> state read: every primary slot lists the hash sent
 *   -> plain reset (one try), quiet, poll as above
 *   -> state read: image 0 runs the hash sent, image 1 lists its hash.
 *
 * No allocation, no blocking: the caller's loop ticks the engine; events,
 * progress and done() come from inside that tick.
 */
#ifndef SMPDFU_RECOVERY_H
#define SMPDFU_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/client.h"
#include "smpdfu/client_img.h"
#include "smpdfu/stream.h"
#include "smpdfu/upload.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_RECOVERY_MAX_IMAGES 2
#define SMPDFU_RECOVERY_RSN_MAX 256

typedef enum {
    SMPDFU_REC_EV_RESET_BOOT,     /* the application runs: asking it to reset into its bootloader */
    SMPDFU_REC_EV_IN_BOOTLOADER,  /* the device answers from its bootloader already */
    SMPDFU_REC_EV_UPLOAD_START,   /* image: uploading value bytes into the primary slot */
    SMPDFU_REC_EV_RESET_OUT,      /* resetting into the new image */
} smpdfu_recovery_ev_t;

/* Which step failed (the result's status says how). */
typedef enum {
    SMPDFU_REC_F_NONE = 0,
    SMPDFU_REC_F_STATE,           /* first state read */
    SMPDFU_REC_F_RESET_BOOT,      /* reset with boot_mode 1 not answered / refused */
    SMPDFU_REC_F_BACK_BOOT,       /* no answer after the reset into the bootloader */
    SMPDFU_REC_F_STATE_BOOT,      /* state read in the bootloader */
    SMPDFU_REC_F_STILL_APP,       /* came back in the application (no boot mode support) */
    SMPDFU_REC_F_NO_SUCH_IMAGE,   /* image > 0 refused with rc 3/5: bootloader has fewer images */
    SMPDFU_REC_F_TOO_BIG,         /* image 0 refused with rc 3: does not fit the primary slot */
    SMPDFU_REC_F_UPLOAD,          /* any other upload failure */
    SMPDFU_REC_F_STATE_AFTER,     /* state read after the upload */
    SMPDFU_REC_F_NOT_LISTED,      /* image: primary slot does not list the hash sent */
    SMPDFU_REC_F_RESET_OUT,       /* plain reset not answered / refused */
    SMPDFU_REC_F_BACK_OUT,        /* no answer after leaving recovery */
    SMPDFU_REC_F_STATE_NEW,       /* state read of the new image */
    SMPDFU_REC_F_OTHER_RUNS,      /* another image runs */
    SMPDFU_REC_F_STILL_BOOTLOADER,/* the device still answers from its bootloader */
    SMPDFU_REC_F_NET_NOT_LISTED,  /* after the reset image 1 does not list its hash */
} smpdfu_recovery_fail_t;

typedef struct {
    smpdfu_recovery_ev_t ev;
    int image;        /* -1 for the device */
    uint32_t value;   /* UPLOAD_START: bytes */
} smpdfu_recovery_event_t;

typedef struct {
    int status;                   /* 0, or the error (SMPDFU_EPROTO for the checks) */
    smpdfu_recovery_fail_t fail;  /* the step that failed */
    int image;                    /* image the failure concerns, or -1 */
    smpdfu_dev_err_t dev;         /* status == SMPDFU_EDEVICE */
    char rsn[SMPDFU_RECOVERY_RSN_MAX]; /* the device's "rsn" of a refused request, or "" */
    bool entered_by_reset;        /* the application was asked to reset (boot_mode 1) */
    uint32_t polls;               /* params asked during the last wait for the device */
    uint32_t bytes;               /* bytes uploaded (all images) */
} smpdfu_recovery_result_t;

typedef struct {
    smpdfu_source_t src;          /* caller-owned, read during the upload */
    uint8_t hash[32];             /* SHA-256 image hash (TLV) the device must list */
} smpdfu_recovery_image_t;

typedef struct {
    /* images[i] is image number i (0 = application, 1 = nRF5340 network
     * core); check them first (smpdfu_dfu_check_image) and copy info.hash. */
    smpdfu_recovery_image_t images[SMPDFU_RECOVERY_MAX_IMAGES];
    size_t nimages;               /* 1 or 2 */
    uint32_t timeout_ms;          /* per request; 0 = engine default */
    int retries;                  /* < 0 = engine default */
    uint32_t quiet_ms;            /* silence after a reset; 0 = SMPDFU_DEFAULT_QUIET_MS */
    uint32_t reboot_timeout_ms;   /* 0 = SMPDFU_DEFAULT_REBOOT_TIMEOUT_MS */
    void (*event)(void *arg, const smpdfu_recovery_event_t *ev);        /* optional */
    void (*progress)(void *arg, int image, uint32_t off, uint32_t size); /* optional */
    void (*done)(void *arg, const smpdfu_recovery_result_t *res);
    void *arg;
} smpdfu_recovery_cfg_t;

/* State; caller-owned, fields private. */
typedef struct {
    smpdfu_client_t *c;
    smpdfu_recovery_cfg_t cfg;
    smpdfu_upload_t up;
    smpdfu_timer_t timer;
    smpdfu_img_state_t st;
    smpdfu_recovery_result_t res;
    smpdfu_req_t *req;
    uint64_t deadline;
    uint8_t state;
    int cur;
} smpdfu_recovery_t;

/* Start (cfg is copied; the sources stay caller-owned until done()).
 * Returns 0 (done() follows exactly once, from the engine's tick or
 * callbacks), SMPDFU_EINVAL (no done, nimages not 1..2), or the engine's
 * error for the first request (nothing sent, no done()). */
int smpdfu_recovery_start(smpdfu_recovery_t *r, smpdfu_client_t *c,
                          const smpdfu_recovery_cfg_t *cfg);

/* Stop everything in flight; done() is not called. */
void smpdfu_recovery_abort(smpdfu_recovery_t *r);

bool smpdfu_recovery_busy(const smpdfu_recovery_t *r);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_RECOVERY_H */
