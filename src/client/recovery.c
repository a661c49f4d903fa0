/* SPDX-License-Identifier: Apache-2.0 */
/* MCUboot serial recovery (recovery.h): a chain of steps, each started by
 * the previous one's callback; the caller's loop drives the engine. */
#include "smpdfu/recovery.h"

#include <string.h>

#include "smpdfu/client_os.h"
#include "smpdfu/defaults.h"
#include "smpdfu/error.h"
#include "smpdfu/smp.h"

enum {
    R_IDLE,
    R_STATE0,
    R_RESET_BOOT,
    R_QUIET_BOOT,
    R_POLL_BOOT,
    R_STATE_BOOT,
    R_PARAMS,
    R_UPLOAD,
    R_STATE_AFTER,
    R_RESET_OUT,
    R_QUIET_OUT,
    R_POLL_OUT,
    R_STATE_NEW,
};

/* Older MCUboot has no params command: its receive buffer is 512 bytes. */
#define BOOT_SERIAL_DEFAULT_BUF 512u

static void emit(smpdfu_recovery_t *r, smpdfu_recovery_ev_t ev, int image, uint32_t value)
{
    if (r->cfg.event) {
        smpdfu_recovery_event_t e = {ev, image, value};
        r->cfg.event(r->cfg.arg, &e);
    }
}

static void halt(smpdfu_recovery_t *r)
{
    smpdfu_client_timer_stop(r->c, &r->timer);
    if (r->req) {
        smpdfu_client_req_cancel(r->c, r->req);
        r->req = NULL;
    }
    if (smpdfu_upload_busy(&r->up)) {
        smpdfu_upload_abort(&r->up);
    }
    r->state = R_IDLE;
}

static void finish(smpdfu_recovery_t *r, int status, smpdfu_recovery_fail_t fail, int image)
{
    halt(r);
    r->res.status = status;
    r->res.fail = status ? fail : SMPDFU_REC_F_NONE;
    r->res.image = status ? image : -1;
    r->cfg.done(r->cfg.arg, &r->res);
}

/* A request's failure: keep the device's words for the caller's message. */
static void fail_rsp(smpdfu_recovery_t *r, const smpdfu_rsp_t *rsp, smpdfu_recovery_fail_t fail)
{
    int st = rsp->status ? rsp->status : SMPDFU_EPROTO;
    if (st == SMPDFU_EDEVICE) {
        r->res.dev = rsp->dev;
        if (rsp->rsn) {
            size_t n = rsp->rsn_len < sizeof(r->res.rsn) - 1 ? rsp->rsn_len : sizeof(r->res.rsn) - 1;
            memcpy(r->res.rsn, rsp->rsn, n);
            r->res.rsn[n] = 0;
        }
    }
    finish(r, st, fail, -1);
}

static bool ours(smpdfu_recovery_t *r, const smpdfu_rsp_t *rsp, uint8_t state)
{
    if (r->state != state || rsp->req != r->req) {
        return false;
    }
    r->req = NULL;
    return true;
}

static smpdfu_req_opts_t opts(smpdfu_recovery_t *r, int retries)
{
    smpdfu_req_opts_t o = {r->cfg.timeout_ms, retries, &r->req};
    return o;
}

static bool any_active(const smpdfu_img_state_t *s)
{
    for (size_t i = 0; i < s->count; i++) {
        if (s->slots[i].active) {
            return true;
        }
    }
    return false;
}

static bool primary_has(const smpdfu_img_state_t *s, uint32_t image, const uint8_t *hash)
{
    const smpdfu_img_slot_t *sl = smpdfu_img_state_slot(s, image, 0);
    return sl && sl->hash_len == 32 && !memcmp(sl->hash, hash, 32);
}

static void on_state(void *arg, const smpdfu_rsp_t *rsp);
static void on_reset(void *arg, const smpdfu_rsp_t *rsp);
static void on_params(void *arg, const smpdfu_rsp_t *rsp);
static void next_upload(smpdfu_recovery_t *r);

static void read_state(smpdfu_recovery_t *r, uint8_t state, smpdfu_recovery_fail_t fail)
{
    r->state = state;
    smpdfu_req_opts_t o = opts(r, r->cfg.retries);
    int rc = smpdfu_img_state_read(r->c, &o, on_state, r);
    if (rc) {
        finish(r, rc, fail, -1);
    }
}

static void do_reset(smpdfu_recovery_t *r, uint8_t state, int boot_mode)
{
    r->state = state;
    /* One try: a second reset could hit the rebooted device. */
    smpdfu_req_opts_t o = opts(r, 0);
    int rc = smpdfu_os_reset_ex(r->c, false, boot_mode, &o, on_reset, r);
    if (rc) {
        finish(r, rc, state == R_RESET_BOOT ? SMPDFU_REC_F_RESET_BOOT : SMPDFU_REC_F_RESET_OUT, -1);
    }
}

/* ------------------------------------------------- waiting for the reboot */

static void poll(smpdfu_recovery_t *r)
{
    r->res.polls++;
    smpdfu_req_opts_t o = {SMPDFU_DEFAULT_POLL_TIMEOUT_MS, 0, &r->req};
    int rc = smpdfu_os_params(r->c, &o, on_params, r);
    if (rc) {
        finish(r, rc, r->state == R_POLL_BOOT ? SMPDFU_REC_F_BACK_BOOT : SMPDFU_REC_F_BACK_OUT, -1);
    }
}

static void quiet_over(void *arg)
{
    smpdfu_recovery_t *r = arg;
    if (r->state != R_QUIET_BOOT && r->state != R_QUIET_OUT) {
        return;
    }
    /* Whatever arrived half-way through the reboot is garbage now. */
    smpdfu_client_reset_link(r->c);
    r->deadline = smpdfu_client_now(r->c) + r->cfg.reboot_timeout_ms;
    r->state = r->state == R_QUIET_BOOT ? R_POLL_BOOT : R_POLL_OUT;
    poll(r);
}

static void on_reset(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_recovery_t *r = arg;
    uint8_t s = r->state;
    if (!ours(r, rsp, s) || (s != R_RESET_BOOT && s != R_RESET_OUT)) {
        return;
    }
    if (rsp->status) {
        fail_rsp(r, rsp, s == R_RESET_BOOT ? SMPDFU_REC_F_RESET_BOOT : SMPDFU_REC_F_RESET_OUT);
        return;
    }
    r->state = s == R_RESET_BOOT ? R_QUIET_BOOT : R_QUIET_OUT;
    r->res.polls = 0;
    smpdfu_client_timer_start(r->c, &r->timer, r->cfg.quiet_ms, quiet_over, r);
}

/* ------------------------------------------------------------- params */

static void on_params(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_recovery_t *r = arg;
    uint8_t s = r->state;
    if (s == R_POLL_BOOT || s == R_POLL_OUT) {
        if (!ours(r, rsp, s)) {
            return;
        }
        bool boot = s == R_POLL_BOOT;
        if (rsp->status == 0 || rsp->status == SMPDFU_EDEVICE) {
            /* Any answer, even a refusal, means the device is back. */
            read_state(r, boot ? R_STATE_BOOT : R_STATE_NEW,
                       boot ? SMPDFU_REC_F_STATE_BOOT : SMPDFU_REC_F_STATE_NEW);
        } else if (rsp->status == SMPDFU_ETIMEOUT &&
                   smpdfu_client_now(r->c) < r->deadline) {
            poll(r);
        } else {
            finish(r, rsp->status, boot ? SMPDFU_REC_F_BACK_BOOT : SMPDFU_REC_F_BACK_OUT, -1);
        }
        return;
    }
    if (!ours(r, rsp, R_PARAMS)) {
        return;
    }
    smpdfu_os_params_t p;
    /* boot_serial takes one request at a time. */
    if (rsp->status == 0 && smpdfu_os_params_parse(rsp, &p) == 0) {
        smpdfu_client_set_params(r->c, p.buf_size, 1);
    } else {
        smpdfu_client_set_params(r->c, BOOT_SERIAL_DEFAULT_BUF, 1);
    }
    r->cur = (int)r->cfg.nimages - 1;
    next_upload(r);
}

static void ask_params(smpdfu_recovery_t *r)
{
    r->state = R_PARAMS;
    smpdfu_req_opts_t o = opts(r, r->cfg.retries);
    int rc = smpdfu_os_params(r->c, &o, on_params, r);
    if (rc) {
        /* As with no answer: take the default buffer and go on. */
        smpdfu_client_set_params(r->c, BOOT_SERIAL_DEFAULT_BUF, 1);
        r->cur = (int)r->cfg.nimages - 1;
        next_upload(r);
    }
}

/* ------------------------------------------------------------- upload */

static void on_up_progress(void *arg, uint32_t off, uint32_t size)
{
    smpdfu_recovery_t *r = arg;
    if (r->cfg.progress) {
        r->cfg.progress(r->cfg.arg, r->cur, off, size);
    }
}

static void on_up_done(void *arg, const smpdfu_upload_result_t *res)
{
    smpdfu_recovery_t *r = arg;
    if (r->state != R_UPLOAD) {
        return;
    }
    int image = r->cur;
    if (res->status) {
        const smpdfu_dev_err_t *d = &res->dev;
        smpdfu_recovery_fail_t f = SMPDFU_REC_F_UPLOAD;
        if (res->status == SMPDFU_EDEVICE) {
            r->res.dev = *d;
            /* boot_serial: an image number equal to its image count fails to
             * open the flash area (rc 3); above it, rc 5. Image 0 with rc 3:
             * the file is larger than the slot. */
            if (!d->group_err && image > 0 &&
                (d->rc == SMPDFU_MGMT_EINVAL || d->rc == SMPDFU_MGMT_ENOENT)) {
                f = SMPDFU_REC_F_NO_SUCH_IMAGE;
            } else if (!d->group_err && image == 0 && d->rc == SMPDFU_MGMT_EINVAL) {
                f = SMPDFU_REC_F_TOO_BIG;
            }
        }
        finish(r, res->status, f, image);
        return;
    }
    r->res.bytes += r->cfg.images[image].src.size;
    r->cur--;
    next_upload(r);
}

static void next_upload(smpdfu_recovery_t *r)
{
    if (r->cur < 0) {
        read_state(r, R_STATE_AFTER, SMPDFU_REC_F_STATE_AFTER);
        return;
    }
    r->state = R_UPLOAD;
    int image = r->cur;
    const smpdfu_recovery_image_t *im = &r->cfg.images[image];
    emit(r, SMPDFU_REC_EV_UPLOAD_START, image, im->src.size);
    smpdfu_upload_cfg_t u;
    memset(&u, 0, sizeof(u));
    u.src = im->src;
    u.image = (uint32_t)image;
    u.window = 1;         /* boot_serial handles one packet at a time */
    u.skip_params = true; /* set by ask_params */
    u.timeout_ms = r->cfg.timeout_ms;
    u.retries = r->cfg.retries;
    u.progress = on_up_progress;
    u.done = on_up_done;
    u.arg = r;
    int rc = smpdfu_upload_start(&r->up, r->c, &u);
    if (rc) {
        finish(r, rc, SMPDFU_REC_F_UPLOAD, image);
    }
}

/* -------------------------------------------------------------- state */

static void on_state(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_recovery_t *r = arg;
    uint8_t s = r->state;
    if (s != R_STATE0 && s != R_STATE_BOOT && s != R_STATE_AFTER && s != R_STATE_NEW) {
        return;
    }
    if (!ours(r, rsp, s)) {
        return;
    }
    smpdfu_recovery_fail_t f = s == R_STATE0        ? SMPDFU_REC_F_STATE
                               : s == R_STATE_BOOT  ? SMPDFU_REC_F_STATE_BOOT
                               : s == R_STATE_AFTER ? SMPDFU_REC_F_STATE_AFTER
                                                    : SMPDFU_REC_F_STATE_NEW;
    if (rsp->status) {
        fail_rsp(r, rsp, f);
        return;
    }
    if (smpdfu_img_state_parse(rsp, &r->st) < 0) {
        finish(r, SMPDFU_EPROTO, f, -1);
        return;
    }
    const smpdfu_img_state_t *st = &r->st;
    size_t n = r->cfg.nimages;
    switch (s) {
    case R_STATE0:
        /* An application lists an active slot; boot_serial lists none. */
        r->res.entered_by_reset = any_active(st);
        if (r->res.entered_by_reset) {
            emit(r, SMPDFU_REC_EV_RESET_BOOT, -1, 0);
            do_reset(r, R_RESET_BOOT, 1);
        } else {
            emit(r, SMPDFU_REC_EV_IN_BOOTLOADER, -1, 0);
            ask_params(r);
        }
        break;
    case R_STATE_BOOT:
        if (any_active(st)) {
            finish(r, SMPDFU_EPROTO, SMPDFU_REC_F_STILL_APP, -1);
        } else {
            ask_params(r);
        }
        break;
    case R_STATE_AFTER:
        /* The bootloader lists only slots whose image validates. */
        for (size_t i = 0; i < n; i++) {
            if (!primary_has(st, (uint32_t)i, r->cfg.images[i].hash)) {
                finish(r, SMPDFU_EPROTO, SMPDFU_REC_F_NOT_LISTED, (int)i);
                return;
            }
        }
        emit(r, SMPDFU_REC_EV_RESET_OUT, -1, 0);
        do_reset(r, R_RESET_OUT, -1);
        break;
    default: { /* R_STATE_NEW */
        const smpdfu_img_slot_t *act = smpdfu_img_state_active(st, 0);
        if (!act || act->hash_len != 32 || memcmp(act->hash, r->cfg.images[0].hash, 32)) {
            finish(r, SMPDFU_EPROTO,
                   any_active(st) ? SMPDFU_REC_F_OTHER_RUNS : SMPDFU_REC_F_STILL_BOOTLOADER, 0);
        } else if (n == 2 && !primary_has(st, 1, r->cfg.images[1].hash)) {
            finish(r, SMPDFU_EPROTO, SMPDFU_REC_F_NET_NOT_LISTED, 1);
        } else {
            finish(r, 0, SMPDFU_REC_F_NONE, -1);
        }
        break;
    }
    }
}

/* ---------------------------------------------------------------- API */

int smpdfu_recovery_start(smpdfu_recovery_t *r, smpdfu_client_t *c,
                          const smpdfu_recovery_cfg_t *cfg)
{
    if (!r || !c || !cfg || !cfg->done || cfg->nimages < 1 ||
        cfg->nimages > SMPDFU_RECOVERY_MAX_IMAGES) {
        return SMPDFU_EINVAL;
    }
    memset(r, 0, sizeof(*r));
    r->c = c;
    r->cfg = *cfg;
    if (!r->cfg.quiet_ms) {
        r->cfg.quiet_ms = SMPDFU_DEFAULT_QUIET_MS;
    }
    if (!r->cfg.reboot_timeout_ms) {
        r->cfg.reboot_timeout_ms = SMPDFU_DEFAULT_REBOOT_TIMEOUT_MS;
    }
    r->res.image = -1;
    r->state = R_STATE0;
    smpdfu_req_opts_t o = opts(r, r->cfg.retries);
    int rc = smpdfu_img_state_read(c, &o, on_state, r);
    if (rc) {
        r->state = R_IDLE;
    }
    return rc;
}

void smpdfu_recovery_abort(smpdfu_recovery_t *r)
{
    halt(r);
}

bool smpdfu_recovery_busy(const smpdfu_recovery_t *r)
{
    return r->state != R_IDLE;
}
