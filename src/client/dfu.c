/* SPDX-License-Identifier: Apache-2.0 */
/* DFU orchestrator: check -> upload -> mark -> reset -> wait -> confirm.
 * An event-driven state machine over the engine (see dfu.h). */
#include "smpdfu/dfu.h"

#include "smpdfu/config.h"

#include <string.h>

#include "smpdfu/client_os.h"

enum {
    D_IDLE = 0,
    D_PARAMS,
    D_STATE0,   /* what does the device hold? */
    D_UPLOAD,
    D_STATE1,   /* did the upload land in the secondary slot? */
    D_MARK,
    D_RESET,
    D_QUIET,
    D_POLL,
    D_POLL_WAIT,
    D_CONFIRM,
    D_STATE2,   /* is it confirmed? */
};

#define POLL_RETRIES 2
/* Resets sent when the first got no answer and the device never rebooted. */
#define MAX_RESETS 3

/* The events' sentences; without sentences (config.h) every text is "". */
#if !SMPDFU_NO_SENTENCES
static const char *const ev_text[] = {
    [SMPDFU_DFU_EV_CHECKED] = "image checked: header, TLVs and hash are valid",
    [SMPDFU_DFU_EV_PARAMS] = "read the device's buffer size",
    [SMPDFU_DFU_EV_STATE] = "read the device's image slots",
    [SMPDFU_DFU_EV_ALREADY_RUNNING] = "the device already runs this image",
    [SMPDFU_DFU_EV_SKIP_UPLOAD] = "the device already holds this image in its secondary slot: no upload",
    [SMPDFU_DFU_EV_UPLOAD_START] = "uploading the image",
    [SMPDFU_DFU_EV_UPLOAD_RESUMED] = "the device continues an earlier upload of this image",
    [SMPDFU_DFU_EV_UPLOAD_DONE] = "upload complete",
    [SMPDFU_DFU_EV_IN_SLOT] = "the device lists the new image in its secondary slot",
    [SMPDFU_DFU_EV_MARK_TEST] = "marked the new image for a test boot",
    [SMPDFU_DFU_EV_MARK_PERMANENT] = "marked the new image to boot permanently",
    [SMPDFU_DFU_EV_RESET] = "resetting the device",
    [SMPDFU_DFU_EV_QUIET] = "waiting while the bootloader swaps the images",
    [SMPDFU_DFU_EV_POLL] = "asking whether the device is back",
    [SMPDFU_DFU_EV_BACK] = "the device answers again",
    [SMPDFU_DFU_EV_RUNNING] = "the device runs the new image",
    [SMPDFU_DFU_EV_NOT_LISTED] = "the device does not list this image after the reset (normal for an nRF5340 network core): assumed applied",
    [SMPDFU_DFU_EV_CONFIRM] = "confirming the new image",
    [SMPDFU_DFU_EV_CONFIRMED] = "the new image is confirmed",
    [SMPDFU_DFU_EV_SELF_CONFIRMED] = "the new image had already confirmed itself",
    [SMPDFU_DFU_EV_UNCONFIRMED] = "the new image runs unconfirmed: the next reset reverts it unless it is confirmed",
    [SMPDFU_DFU_EV_DONE] = "firmware update complete",
    [SMPDFU_DFU_EV_FAILED] = "firmware update failed",
};
#define EV_TEXT(ev) ev_text[ev]
#else
#define EV_TEXT(ev) ""
#endif

static void emit(smpdfu_dfu_t *d, smpdfu_dfu_ev_t ev, int image, int status, uint32_t value)
{
    if (d->cfg.event) {
        smpdfu_dfu_event_t e = {ev, image, EV_TEXT(ev), status, value};
        d->cfg.event(d->cfg.arg, &e);
    }
}

/* Stop everything in flight (timer, request, upload): no callbacks follow. */
static void halt(smpdfu_dfu_t *d)
{
    smpdfu_client_timer_stop(d->c, &d->timer);
    if (d->req) {
        smpdfu_client_req_cancel(d->c, d->req);
        d->req = NULL;
    }
    if (smpdfu_upload_busy(&d->up)) {
        smpdfu_upload_abort(&d->up);
    }
    d->state = D_IDLE;
}

static void finish(smpdfu_dfu_t *d, int status, int image)
{
    halt(d);
    d->res.status = status;
    d->res.failed_image = status ? image : -1;
    emit(d, status ? SMPDFU_DFU_EV_FAILED : SMPDFU_DFU_EV_DONE, image, status, 0);
    if (d->cfg.done) {
        d->cfg.done(d->cfg.arg, &d->res);
    }
}

static void fail_rsp(smpdfu_dfu_t *d, const smpdfu_rsp_t *rsp, int image)
{
    if (rsp->status == SMPDFU_EDEVICE) {
        d->res.dev = rsp->dev;
    }
    finish(d, rsp->status ? rsp->status : SMPDFU_EPROTO, image);
}

/* Accept the response only if it is the request we wait for. */
static bool ours(smpdfu_dfu_t *d, const smpdfu_rsp_t *rsp, uint8_t state)
{
    if (d->state != state || rsp->req != d->req) {
        return false;
    }
    d->req = NULL;
    return true;
}

static int img_no(const smpdfu_dfu_t *d, size_t i)
{
    return (int)d->cfg.images[i].image;
}

static const uint8_t *img_hash(const smpdfu_dfu_t *d, size_t i)
{
    return d->img[i].info.hash;
}

static void step_state(smpdfu_dfu_t *d, uint8_t state, uint32_t timeout, int retries);
static void on_state(void *arg, const smpdfu_rsp_t *rsp);
static void next_upload(smpdfu_dfu_t *d);
static void next_mark(smpdfu_dfu_t *d);
static void do_reset(smpdfu_dfu_t *d);
static void do_confirm(smpdfu_dfu_t *d);

static uint32_t req_timeout(const smpdfu_dfu_t *d)
{
    return d->cfg.timeout_ms;
}

/* Once the device has answered, a step does not fail on a few lost frames:
 * it is retried until the device has been silent for silence_ms, as the
 * upload does (every step here may be repeated without harm; the reset,
 * which may not, is sent once). */
static int live_retries(const smpdfu_dfu_t *d)
{
    /* 0: the client's own timeout, which its requests then get */
    uint32_t t = d->cfg.timeout_ms ? d->cfg.timeout_ms : d->c->cfg.timeout_ms;
    uint32_t n = d->cfg.silence_ms / t;
    int r = d->cfg.retries < 0 ? SMPDFU_DEFAULT_RETRIES : d->cfg.retries;
    if (n > 1000u) {
        n = 1000u;
    }
    return (int)n > r ? (int)n : r;
}

/* ----------------------------------------------------------- local check */

int smpdfu_dfu_check_image(const smpdfu_source_t *src, const smpdfu_hash_t *hash,
                           smpdfu_image_info_t *info, uint8_t *sha)
{
    return smpdfu_dfu_check_image_opt(src, hash, info, sha, false);
}

int smpdfu_dfu_check_image_opt(const smpdfu_source_t *src, const smpdfu_hash_t *hash,
                               smpdfu_image_info_t *info, uint8_t *sha, bool allow_padded)
{
    if (!src || !src->read || !hash || !info || !sha) {
        return SMPDFU_EINVAL;
    }
    int rc = smpdfu_image_parse(src->read, src->ctx, src->size, SMPDFU_IMAGE_PARSE_FILE, info);
    if (allow_padded && (rc == SMPDFU_EIMG_PADDED || rc == SMPDFU_EIMG_TRAILING)) {
        rc = 0; /* the parse is complete up to the TLV end */
    }
    if (rc) {
        return rc;
    }
    uint8_t scratch[256];
    rc = smpdfu_image_verify_hash(info, hash, src->read, src->ctx, scratch, sizeof(scratch), NULL);
    if (rc) {
        return rc;
    }
    /* img_mgmt lists (and state-write takes) only the SHA-256 TLV. */
    if (info->hash_tlv != SMPDFU_TLV_SHA256 || info->hash_len != 32) {
        return SMPDFU_ENOTSUP;
    }
    return smpdfu_hash_range(hash, SMPDFU_HASH_SHA256, src->read, src->ctx, 0, src->size, scratch,
                             sizeof(scratch), sha);
}

/* --------------------------------------------------------------- params */

static void on_params(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_dfu_t *d = arg;
    if (!ours(d, rsp, D_PARAMS)) {
        return;
    }
    smpdfu_os_params_t p;
    if (rsp->status == 0 && smpdfu_os_params_parse(rsp, &p) == 0) {
        smpdfu_client_set_params(d->c, p.buf_size, p.buf_count);
        emit(d, SMPDFU_DFU_EV_PARAMS, -1, 0, p.buf_size);
    } else if (rsp->status != SMPDFU_EDEVICE) {
        /* Silence or garbage: a device with no params command answers rc 8. */
        fail_rsp(d, rsp, -1);
        return;
    }
    step_state(d, D_STATE0, 0, -1);
}

/* ---------------------------------------------------------------- state */

static void step_state(smpdfu_dfu_t *d, uint8_t state, uint32_t timeout, int retries)
{
    d->state = state;
    int rc = smpdfu_client_request(d->c, SMPDFU_OP_READ, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_STATE, NULL,
                                   0, timeout ? timeout : req_timeout(d),
                                   retries >= 0 ? retries : live_retries(d), on_state, d, &d->req);
    if (rc) {
        finish(d, rc, -1);
    }
}

/* What each image needs, from the first state read. */
static void plan(smpdfu_dfu_t *d)
{
    for (size_t i = 0; i < d->cfg.nimages; i++) {
        smpdfu_dfu_img_t *im = &d->img[i];
        int no = img_no(d, i);
        const smpdfu_img_slot_t *e = smpdfu_img_state_find(&d->st, (uint32_t)no, img_hash(d, i));
        bool wants_confirm = d->cfg.mode == SMPDFU_DFU_TEST_CONFIRM ||
                             d->cfg.mode == SMPDFU_DFU_CONFIRM_ONLY;
        im->permanent = d->cfg.mode == SMPDFU_DFU_CONFIRM_ONLY ||
                        (d->cfg.mode == SMPDFU_DFU_TEST_CONFIRM && no != 0);
        if (d->cfg.images[i].stream) {
            /* Its hash comes with its last byte: upload it, then look. */
            im->upload = true;
            im->mark = im->check_after_reset = d->cfg.mode != SMPDFU_DFU_UPLOAD_ONLY;
            continue;
        }
        if (e && e->active) {
            emit(d, SMPDFU_DFU_EV_ALREADY_RUNNING, no, 0, 0);
            im->confirm_running = wants_confirm && !e->confirmed && no == 0;
            continue;
        }
        im->upload = e == NULL;
        if (e) {
            emit(d, SMPDFU_DFU_EV_SKIP_UPLOAD, no, 0, 0);
        }
        if (d->cfg.mode == SMPDFU_DFU_UPLOAD_ONLY) {
            continue;
        }
        /* Already marked the way we would mark it: nothing to write. */
        bool marked = e && e->pending && (e->permanent == im->permanent);
        im->mark = !marked;
        im->check_after_reset = true;
    }
}

static bool in_secondary(const smpdfu_img_state_t *st, uint32_t image, const uint8_t *hash)
{
    const smpdfu_img_slot_t *e = smpdfu_img_state_find(st, image, hash);
    return e && !e->active;
}

/* After the reset: does every image run its new hash? */
static int check_running(smpdfu_dfu_t *d, int *bad)
{
    for (size_t i = 0; i < d->cfg.nimages; i++) {
        if (!d->img[i].check_after_reset) {
            continue;
        }
        uint32_t no = (uint32_t)img_no(d, i);
        const smpdfu_img_slot_t *e = smpdfu_img_state_find(&d->st, no, img_hash(d, i));
        bool listed = false;
        for (size_t k = 0; k < d->st.count; k++) {
            listed |= d->st.slots[k].image == no;
        }
        if (no != 0 && !listed) {
            emit(d, SMPDFU_DFU_EV_NOT_LISTED, (int)no, 0, 0);
            continue;
        }
        /* Image 0 must be the active one; other images have no "active"
         * flag of their own on most builds, so their primary slot counts. */
        bool ok = e && (no == 0 ? e->active : (e->active || e->slot == 0));
        if (!ok) {
            *bad = (int)no;
            return SMPDFU_ENOTBOOTED;
        }
        emit(d, SMPDFU_DFU_EV_RUNNING, (int)no, 0, 0);
    }
    return 0;
}

static void after_running(smpdfu_dfu_t *d)
{
    const smpdfu_img_slot_t *a = smpdfu_img_state_active(&d->st, 0);
    bool has0 = false;
    for (size_t i = 0; i < d->cfg.nimages; i++) {
        has0 |= img_no(d, i) == 0 && d->img[i].check_after_reset;
    }
    switch (d->cfg.mode) {
    case SMPDFU_DFU_TEST_CONFIRM:
        if (has0 && a && !a->confirmed) {
            do_confirm(d);
            return;
        }
        if (has0) {
            emit(d, SMPDFU_DFU_EV_SELF_CONFIRMED, 0, 0, 0);
        }
        finish(d, 0, -1);
        return;
    case SMPDFU_DFU_CONFIRM_ONLY:
        if (has0 && !(a && a->confirmed)) {
            finish(d, SMPDFU_ENOTCONFIRMED, 0);
            return;
        }
        if (has0) {
            emit(d, SMPDFU_DFU_EV_CONFIRMED, 0, 0, 0);
        }
        finish(d, 0, -1);
        return;
    default:
        if (has0 && a && !a->confirmed) {
            emit(d, SMPDFU_DFU_EV_UNCONFIRMED, 0, 0, 0);
        }
        finish(d, 0, -1);
        return;
    }
}

static void poll_again(void *arg);

/* After an unanswered reset: is every image we marked still pending in its
 * secondary slot, not running? Then nothing rebooted. */
static bool reset_lost(const smpdfu_dfu_t *d)
{
    bool any = false;
    for (size_t i = 0; i < d->cfg.nimages; i++) {
        if (!d->img[i].mark) {
            continue;
        }
        const smpdfu_img_slot_t *e = smpdfu_img_state_find(&d->st, (uint32_t)img_no(d, i),
                                                           img_hash(d, i));
        if (!e || e->active || !e->pending) {
            return false;
        }
        any = true;
    }
    return any;
}

static void on_state(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_dfu_t *d = arg;
    uint8_t st = d->state;
    if (!ours(d, rsp, st)) {
        return;
    }
    if (st == D_POLL && rsp->status != 0 && rsp->status != SMPDFU_EDEVICE) {
        /* Still rebooting: back off and ask again until the deadline. */
        uint64_t now = smpdfu_client_now(d->c);
        if (now + d->poll_wait >= d->poll_deadline) {
            finish(d, SMPDFU_ETIMEOUT, -1);
            return;
        }
        d->state = D_POLL_WAIT;
        smpdfu_client_timer_start(d->c, &d->timer, d->poll_wait, poll_again, d);
        d->poll_wait = d->poll_wait * 2 > SMPDFU_DEFAULT_POLL_MAX_MS ? SMPDFU_DEFAULT_POLL_MAX_MS
                                                                    : d->poll_wait * 2;
        return;
    }
    if (rsp->status) {
        fail_rsp(d, rsp, -1);
        return;
    }
    if (smpdfu_img_state_parse(rsp, &d->st) < 0) {
        finish(d, SMPDFU_EPROTO, -1);
        return;
    }
    switch (st) {
    case D_STATE0:
        emit(d, SMPDFU_DFU_EV_STATE, -1, 0, 0);
        plan(d);
        d->cur = 0;
        next_upload(d);
        return;
    case D_STATE1:
        for (size_t i = 0; i < d->cfg.nimages; i++) {
            if (!d->img[i].upload) {
                continue;
            }
            if (d->img[i].hash_from_slot) {
                for (size_t k = 0; k < d->st.count; k++) {
                    const smpdfu_img_slot_t *e = &d->st.slots[k];
                    if (e->image == (uint32_t)img_no(d, i) && e->slot == 1 && e->hash_len == 32) {
                        memcpy(d->img[i].info.hash, e->hash, 32);
                        d->img[i].hash_from_slot = false;
                    }
                }
                if (d->img[i].hash_from_slot) {
                    finish(d, SMPDFU_ENOTINSLOT, img_no(d, i));
                    return;
                }
            }
            if (!in_secondary(&d->st, (uint32_t)img_no(d, i), img_hash(d, i))) {
                finish(d, SMPDFU_ENOTINSLOT, img_no(d, i));
                return;
            }
            emit(d, SMPDFU_DFU_EV_IN_SLOT, img_no(d, i), 0, 0);
        }
        if (d->cfg.mode == SMPDFU_DFU_UPLOAD_ONLY) {
            finish(d, 0, -1);
            return;
        }
        d->cur = 0;
        next_mark(d);
        return;
    case D_POLL: {
        if (!d->reset_heard && d->resets < MAX_RESETS && reset_lost(d)) {
            /* The reset got no answer and every new image is still pending
             * beside the running one: the device never rebooted (the reset
             * frame was lost on the link). Reset again. */
            do_reset(d);
            return;
        }
        emit(d, SMPDFU_DFU_EV_BACK, -1, 0, d->poll_n);
        int bad = -1;
        int rc = check_running(d, &bad);
        if (rc) {
            finish(d, rc, bad);
            return;
        }
        after_running(d);
        return;
    }
    case D_STATE2: {
        const smpdfu_img_slot_t *a = smpdfu_img_state_active(&d->st, 0);
        if (!a || !a->confirmed) {
            finish(d, SMPDFU_ENOTCONFIRMED, 0);
            return;
        }
        emit(d, SMPDFU_DFU_EV_CONFIRMED, 0, 0, 0);
        finish(d, 0, -1);
        return;
    }
    default:
        return;
    }
}

/* --------------------------------------------------------------- upload */

static void on_upload_progress(void *arg, uint32_t off, uint32_t size)
{
    smpdfu_dfu_t *d = arg;
    if (d->cfg.progress) {
        d->cfg.progress(d->cfg.arg, img_no(d, d->cur), off, size);
    }
}

static void on_upload_note(void *arg, const smpdfu_upload_note_t *n)
{
    smpdfu_dfu_t *d = arg;
    if (d->cfg.upload_note) {
        d->cfg.upload_note(d->cfg.arg, img_no(d, d->cur), n);
    }
}

static void on_upload_done(void *arg, const smpdfu_upload_result_t *res)
{
    smpdfu_dfu_t *d = arg;
    if (d->state != D_UPLOAD) {
        return;
    }
    d->res.upload[d->cur] = *res;
    if (res->status) {
        d->res.dev = res->dev;
        finish(d, res->status, img_no(d, d->cur));
        return;
    }
    smpdfu_stream_t *st = d->cfg.images[d->cur].stream;
    if (st) {
        /* The stream verified the image before its final chunk went out.
         * A device that already held the whole file answered the first
         * chunk with the full size and match:true for our full sha (the
         * uplink's file SHA-256): no byte passed the stream, and the state
         * read that follows tells the hash of what the device holds. */
        const smpdfu_image_info_t *info = smpdfu_stream_info(st);
        if (info) {
            d->img[d->cur].info = *info;
        } else if (res->verified) {
            d->img[d->cur].hash_from_slot = true;
        } else {
            finish(d, SMPDFU_ESTATE, img_no(d, d->cur));
            return;
        }
    }
    d->res.uploaded[d->cur] = true;
    emit(d, SMPDFU_DFU_EV_UPLOAD_DONE, img_no(d, d->cur), 0, res->size);
    d->cur++;
    next_upload(d);
}

static void next_upload(smpdfu_dfu_t *d)
{
    while (d->cur < d->cfg.nimages && !d->img[d->cur].upload) {
        d->cur++;
    }
    if (d->cur >= d->cfg.nimages) {
        bool any = false;
        for (size_t i = 0; i < d->cfg.nimages; i++) {
            any |= d->img[i].upload;
        }
        if (any) {
            step_state(d, D_STATE1, 0, -1);
        } else if (d->cfg.mode == SMPDFU_DFU_UPLOAD_ONLY) {
            finish(d, 0, -1);
        } else {
            d->cur = 0;
            next_mark(d);
        }
        return;
    }
    size_t i = d->cur;
    smpdfu_upload_cfg_t u;
    memset(&u, 0, sizeof(u));
    u.src = d->cfg.images[i].src;
    u.sha = d->img[i].sha;
    u.sha_len = 32;
    u.expect_hash = img_hash(d, i);
    if (d->cfg.images[i].stream) {
        /* No file sha before the whole file passed, unless the feeder knew
         * it (docs/decisions.md). The image hash is filled before the final
         * chunk can be read, which is before expect_hash is needed. */
        u.sha = smpdfu_stream_file_sha(d->cfg.images[i].stream);
        u.sha_len = u.sha ? 32 : 0;
        u.expect_hash = smpdfu_stream_image_hash(d->cfg.images[i].stream);
    }
    u.image = d->cfg.images[i].image;
    u.window = d->cfg.window;
    u.skip_params = true;
    u.timeout_ms = d->cfg.timeout_ms;
    u.first_timeout_ms = d->cfg.first_timeout_ms;
    u.retries = d->cfg.retries;
    u.silence_ms = d->cfg.silence_ms;
    u.packet_size = d->cfg.packet_size;
    u.pace_us = d->cfg.pace_us;
    u.note = on_upload_note;
    u.progress = on_upload_progress;
    u.done = on_upload_done;
    u.arg = d;
    d->state = D_UPLOAD;
    emit(d, SMPDFU_DFU_EV_UPLOAD_START, img_no(d, i), 0, u.src.size);
    int rc = smpdfu_upload_start(&d->up, d->c, &u);
    if (rc) {
        finish(d, rc, img_no(d, i));
    }
}

/* ----------------------------------------------------------------- mark */

static void on_mark(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_dfu_t *d = arg;
    if (!ours(d, rsp, D_MARK)) {
        return;
    }
    if (rsp->status) {
        fail_rsp(d, rsp, img_no(d, d->cur));
        return;
    }
    emit(d, d->img[d->cur].permanent ? SMPDFU_DFU_EV_MARK_PERMANENT : SMPDFU_DFU_EV_MARK_TEST,
         img_no(d, d->cur), 0, 0);
    d->cur++;
    next_mark(d);
}

static void next_mark(smpdfu_dfu_t *d)
{
    while (d->cur < d->cfg.nimages && !d->img[d->cur].mark) {
        d->cur++;
    }
    if (d->cur < d->cfg.nimages) {
        smpdfu_dfu_img_t *im = &d->img[d->cur];
        smpdfu_req_opts_t o = {req_timeout(d), live_retries(d), &d->req};
        d->state = D_MARK;
        int rc = smpdfu_img_state_write(d->c, im->info.hash, 32, im->permanent, &o, on_mark, d);
        if (rc) {
            finish(d, rc, img_no(d, d->cur));
        }
        return;
    }
    bool reset = false, confirm = false;
    for (size_t i = 0; i < d->cfg.nimages; i++) {
        reset |= d->img[i].check_after_reset;
        confirm |= d->img[i].confirm_running;
    }
    if (reset) {
        do_reset(d);
    } else if (confirm) {
        do_confirm(d);
    } else {
        finish(d, 0, -1);
    }
}

/* ---------------------------------------------------------------- reset */

static void poll_again(void *arg)
{
    smpdfu_dfu_t *d = arg;
    if (d->state != D_POLL_WAIT && d->state != D_QUIET) {
        return;
    }
    if (d->state == D_QUIET) {
        /* Whatever arrived half-way through the reboot is garbage now. */
        smpdfu_client_reset_link(d->c);
        d->poll_deadline = smpdfu_client_now(d->c) + d->cfg.reboot_timeout_ms;
    }
    d->poll_n++;
    emit(d, SMPDFU_DFU_EV_POLL, -1, 0, d->poll_n);
    uint32_t t = req_timeout(d) && req_timeout(d) < SMPDFU_DEFAULT_POLL_TIMEOUT_MS
                     ? req_timeout(d)
                     : SMPDFU_DEFAULT_POLL_TIMEOUT_MS;
    /* Retries: once the device is back, a lost answer on a noisy link is
     * resent after a round trip or two (the engine's estimate), not after
     * the poll's backoff. */
    step_state(d, D_POLL, t, POLL_RETRIES);
}

static void on_reset(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_dfu_t *d = arg;
    if (!ours(d, rsp, D_RESET)) {
        return;
    }
    /* No answer is fine: the device may have rebooted before replying. The
     * state read after the reboot tells what happened. */
    if (rsp->status == SMPDFU_EDEVICE) {
        fail_rsp(d, rsp, -1);
        return;
    }
    d->res.reset_done = true;
    d->reset_heard = rsp->status == 0;
    d->state = D_QUIET;
    d->poll_wait = SMPDFU_DEFAULT_POLL_FIRST_MS;
    d->poll_n = 0;
    emit(d, SMPDFU_DFU_EV_QUIET, -1, 0, d->cfg.quiet_ms);
    smpdfu_client_timer_start(d->c, &d->timer, d->cfg.quiet_ms, poll_again, d);
}

static void do_reset(smpdfu_dfu_t *d)
{
    d->resets++;
    d->state = D_RESET;
    emit(d, SMPDFU_DFU_EV_RESET, -1, 0, 0);
    /* One try: a retransmitted reset could reset the new image again. */
    smpdfu_req_opts_t o = {req_timeout(d), 0, &d->req};
    int rc = smpdfu_os_reset(d->c, false, &o, on_reset, d);
    if (rc) {
        finish(d, rc, -1);
    }
}

/* -------------------------------------------------------------- confirm */

static void on_confirm(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_dfu_t *d = arg;
    if (!ours(d, rsp, D_CONFIRM)) {
        return;
    }
    if (rsp->status) {
        fail_rsp(d, rsp, 0);
        return;
    }
    step_state(d, D_STATE2, 0, -1);
}

static void do_confirm(smpdfu_dfu_t *d)
{
    d->state = D_CONFIRM;
    emit(d, SMPDFU_DFU_EV_CONFIRM, 0, 0, 0);
    smpdfu_req_opts_t o = {req_timeout(d), live_retries(d), &d->req};
    /* No hash: "confirm what I am running" (Zephyr picks the active slot). */
    int rc = smpdfu_img_state_write(d->c, NULL, 0, true, &o, on_confirm, d);
    if (rc) {
        finish(d, rc, 0);
    }
}

/* ---------------------------------------------------------------- start */

int smpdfu_dfu_start(smpdfu_dfu_t *d, smpdfu_client_t *c, const smpdfu_dfu_cfg_t *cfg)
{
    if (!d || !c || !cfg || !cfg->hash || cfg->nimages == 0 ||
        cfg->nimages > SMPDFU_DFU_MAX_IMAGES || cfg->mode > SMPDFU_DFU_UPLOAD_ONLY) {
        return SMPDFU_EINVAL;
    }
    memset(d, 0, sizeof(*d));
    d->c = c;
    d->cfg = *cfg;
    d->res.failed_image = -1;
    if (d->cfg.quiet_ms == 0) {
        d->cfg.quiet_ms = SMPDFU_DEFAULT_QUIET_MS;
    }
    if (d->cfg.reboot_timeout_ms == 0) {
        d->cfg.reboot_timeout_ms = SMPDFU_DEFAULT_REBOOT_TIMEOUT_MS;
    }
    if (d->cfg.silence_ms == 0) {
        d->cfg.silence_ms = SMPDFU_DEFAULT_SILENCE_MS;
    }
    for (size_t i = 0; i < cfg->nimages; i++) {
        for (size_t k = 0; k < i; k++) {
            if (cfg->images[k].image == cfg->images[i].image) {
                return SMPDFU_EINVAL;
            }
        }
        if (cfg->images[i].stream) {
            continue; /* checked while it streams */
        }
        const smpdfu_dfu_checked_t *ck = cfg->images[i].checked;
        if (ck) {
            d->img[i].info = ck->info;
            memcpy(d->img[i].sha, ck->sha, sizeof(d->img[i].sha));
        } else {
            int rc = smpdfu_dfu_check_image_opt(&cfg->images[i].src, cfg->hash, &d->img[i].info,
                                                d->img[i].sha, cfg->force);
            if (rc) {
                d->res.failed_image = (int)cfg->images[i].image;
                return rc;
            }
        }
        emit(d, SMPDFU_DFU_EV_CHECKED, (int)cfg->images[i].image, 0, cfg->images[i].src.size);
    }
    d->state = D_PARAMS;
    int rc = smpdfu_client_request(c, SMPDFU_OP_READ, SMPDFU_GROUP_OS, SMPDFU_OS_PARAMS, NULL, 0,
                                   req_timeout(d), d->cfg.retries, on_params, d, &d->req);
    if (rc) {
        d->state = D_IDLE;
    }
    return rc;
}

void smpdfu_dfu_kick(smpdfu_dfu_t *d)
{
    if (d->state == D_UPLOAD) {
        smpdfu_upload_kick(&d->up);
    }
}

void smpdfu_dfu_abort(smpdfu_dfu_t *d)
{
    halt(d);
}

bool smpdfu_dfu_busy(const smpdfu_dfu_t *d)
{
    return d->state != D_IDLE;
}

static const char *const mode_names[] = {"test-confirm", "confirm-only", "test-only", "upload-only"};

const char *smpdfu_dfu_mode_name(smpdfu_dfu_mode_t m)
{
    return (unsigned)m < 4 ? mode_names[m] : "unknown";
}

int smpdfu_dfu_mode_parse(const char *s, smpdfu_dfu_mode_t *m)
{
    for (unsigned i = 0; i < 4; i++) {
        if (s && !strcmp(s, mode_names[i])) {
            *m = (smpdfu_dfu_mode_t)i;
            return 0;
        }
    }
    return SMPDFU_EINVAL;
}
