/* SPDX-License-Identifier: Apache-2.0 */
/* Image upload: exact-size chunks, windowed, resumable (see upload.h). */
#include "smpdfu/upload.h"

#include <string.h>

#include "smpdfu/client_fs.h"
#include "smpdfu/client_img.h"
#include "smpdfu/client_os.h"
#include "smpdfu/image.h"

enum {
    UP_IDLE = 0,
    UP_PARAMS,  /* waiting for os params */
    UP_FIRST,   /* the off-0 chunk is out: one chunk in flight */
    UP_STREAM,  /* windowed transfer */
    UP_VERIFY,  /* state read after off 0 followed the final chunk */
};

/* Consecutive off-0 answers to the first chunk before giving up. */
#define MAX_PROBES 4
/* Outcomes kept per packet size, and how many lost ones make it shrink. */
#define HIST_LEN 8
#define HIST_MIN 4
/* Clean answers in a row before the packet size doubles (doubles itself
 * after a growth that was soon undone, up to GROW_AFTER_MAX). */
#define GROW_AFTER 16
#define GROW_AFTER_MAX 256
/* Longest pacing gap detection may set. */
#define PACE_MAX_US 50000u
/* Gaps tried (1, 2, 4 ms) before deciding pacing does not help. */
#define PACE_TRIES 3
/* Times long frames must fail where short ones pass before pacing. */
#define PACE_EVIDENCE 2
/* Smallest packet size on links without lines. */
#define PKT_MIN_OTHER 128u
/* Least wait before the first chunk goes again. */
#define FIRST_MIN_MS 250u

static size_t tstr_len(size_t n)
{
    return smpdfu_cbor_head_len(n) + n;
}

/* CBOR bytes of everything in a chunk request except the data bytes
 * themselves and the data's bstr head. Must mirror encode_chunk(). */
static size_t chunk_overhead(uint32_t off, bool first, uint32_t size, size_t sha_len,
                             uint32_t image, bool upgrade, size_t name_len)
{
    size_t n = SMPDFU_SMP_HDR_LEN + 1; /* header + map head (<= 23 pairs) */
    if (name_len) {
        n += tstr_len(4) + tstr_len(name_len); /* fs: "name" in every chunk */
    }
    n += tstr_len(4);                  /* "data" */
    n += tstr_len(3) + smpdfu_cbor_head_len(off);
    if (first) {
        if (image) {
            n += tstr_len(5) + smpdfu_cbor_head_len(image);
        }
        n += tstr_len(3) + smpdfu_cbor_head_len(size);
        if (sha_len) {
            n += tstr_len(3) + smpdfu_cbor_head_len(sha_len) + sha_len;
        }
        if (upgrade) {
            n += tstr_len(7) + 1;
        }
    }
    return n;
}

static size_t chunk_len(size_t max_packet, uint32_t off, bool first, uint32_t size,
                        size_t sha_len, uint32_t image, bool upgrade, size_t name_len)
{
    size_t over = chunk_overhead(off, first, size, sha_len, image, upgrade, name_len);
    if (max_packet <= over + 1 || off >= size) {
        return 0;
    }
    size_t budget = max_packet - over; /* bstr head + data */
    size_t n = budget - 1;
    /* The head grows with n (1, 2, 3 or 5 bytes): shrink until both fit. */
    while (n > 0 && smpdfu_cbor_head_len(n) + n > budget) {
        n--;
    }
    if (n > size - off) {
        n = size - off;
    }
    return n;
}

size_t smpdfu_upload_chunk_len(size_t max_packet, uint32_t off, bool first, uint32_t size,
                               size_t sha_len, uint32_t image, bool upgrade)
{
    return chunk_len(max_packet, off, first, size, sha_len, image, upgrade, 0);
}

static void cancel_live(smpdfu_upload_t *u);

static void note(smpdfu_upload_t *u, smpdfu_upload_note_kind_t k, uint32_t value)
{
    static const char *const text[] = {
        [SMPDFU_UPLOAD_NOTE_PROBE] = "a chunk got no answer after its retries: asking the device which offset it holds",
        [SMPDFU_UPLOAD_NOTE_FIRST_AGAIN] = "no answer to the first chunk yet: sending it again (the device may be erasing)",
        [SMPDFU_UPLOAD_NOTE_SHRINK] = "large frames keep getting lost: smaller packets",
        [SMPDFU_UPLOAD_NOTE_GROW] = "a clean run: larger packets again",
        [SMPDFU_UPLOAD_NOTE_PACE] = "the device drops lines of multi-line frames: pacing the lines",
    };
    if (u->cfg.note) {
        smpdfu_upload_note_t n = {k, text[k], value, u->dev_off};
        u->cfg.note(u->cfg.arg, &n);
    }
}

static uint64_t now(const smpdfu_upload_t *u)
{
    return smpdfu_client_now(u->c);
}

static void finish(smpdfu_upload_t *u, int status)
{
    cancel_live(u);
    smpdfu_client_timer_stop(u->c, &u->give_up);
    u->state = UP_IDLE;
    u->res.status = status;
    u->res.off = u->dev_off;
    u->res.window = u->window;
    u->res.window_max = u->wmax;
    u->res.max_packet = u->pkt ? u->pkt : smpdfu_client_max_packet(u->c);
    u->res.pace_us = smpdfu_client_pace(u->c);
    u->res.rto_ms = smpdfu_client_rto(u->c, u->tmo);
    u->res.retransmits = smpdfu_client_stats(u->c)->retransmits - u->retx0;
    if (u->cfg.done) {
        u->cfg.done(u->cfg.arg, &u->res);
    }
}

static void fail_dev(smpdfu_upload_t *u, const smpdfu_dev_err_t *dev)
{
    u->res.dev = *dev;
    finish(u, SMPDFU_EDEVICE);
}

static void cancel_live(smpdfu_upload_t *u)
{
    if (u->aux) {
        smpdfu_client_req_cancel(u->c, u->aux);
        u->aux = NULL;
    }
    u->probing = false;
    for (size_t i = 0; i < SMPDFU_UPLOAD_MAX_WINDOW; i++) {
        if (u->live[i].req) {
            smpdfu_client_req_cancel(u->c, u->live[i].req);
            u->live[i].req = NULL;
        }
    }
}

static size_t live_count(const smpdfu_upload_t *u)
{
    size_t n = 0;
    for (size_t i = 0; i < SMPDFU_UPLOAD_MAX_WINDOW; i++) {
        n += u->live[i].req != NULL;
    }
    return n;
}

static void report(smpdfu_upload_t *u)
{
    if (u->cfg.progress && u->dev_off != u->reported) {
        u->reported = u->dev_off;
        u->cfg.progress(u->cfg.arg, u->dev_off, u->cfg.src.size);
    }
}

/* ------------------------------------------------------------- liveness */

static void heard(smpdfu_upload_t *u, smpdfu_upload_heard_t what, uint32_t off)
{
    u->heard_at = now(u);
    u->res.heard = true;
    u->res.heard_what = (uint8_t)what;
    u->res.heard_ms = (uint32_t)(u->heard_at - u->t0);
    u->res.heard_off = off;
}

/* An answer to a state read or probe that ends the upload: a device error
 * (the device was heard, then the upload fails with its error) or a local
 * one. False for a success, which the caller reads on. */
static bool ended_by_error(smpdfu_upload_t *u, const smpdfu_rsp_t *rsp, smpdfu_upload_heard_t what)
{
    if (rsp->status == SMPDFU_EDEVICE) {
        heard(u, what, u->dev_off);
        fail_dev(u, &rsp->dev);
        return true;
    }
    if (rsp->status) {
        finish(u, rsp->status);
        return true;
    }
    return false;
}

/* How long the device may stay silent: the first chunk may take the erase. */
static uint32_t allowance(const smpdfu_upload_t *u)
{
    uint32_t a = u->cfg.silence_ms;
    if (u->state == UP_FIRST && u->cfg.first_timeout_ms > a) {
        a = u->cfg.first_timeout_ms;
    }
    return a;
}

static uint64_t last_sign_of_life(const smpdfu_upload_t *u)
{
    uint64_t at = u->heard_at, e;
    if (smpdfu_client_last_heard(u->c, &e) && e > at) {
        at = e;
    }
    return at;
}

static void on_give_up(void *arg)
{
    smpdfu_upload_t *u = arg;
    if (u->state == UP_IDLE || u->state == UP_PARAMS) {
        return;
    }
    uint64_t last = last_sign_of_life(u);
    uint64_t silent = now(u) - last;
    uint32_t a = allowance(u);
    if (silent < a) {
        smpdfu_client_timer_start(u->c, &u->give_up, (uint32_t)(a - silent), on_give_up, u);
        return;
    }
    if (last > u->heard_at) {
        /* The last sign of life was an answer nobody waited for any more. */
        u->res.heard = true;
        u->res.heard_what = SMPDFU_UPLOAD_HEARD_OTHER;
        u->res.heard_ms = (uint32_t)(last - u->t0);
    }
    u->res.silent_ms = silent > UINT32_MAX ? UINT32_MAX : (uint32_t)silent;
    finish(u, SMPDFU_ESILENT);
}

static void arm_give_up(smpdfu_upload_t *u)
{
    smpdfu_client_timer_start(u->c, &u->give_up, allowance(u), on_give_up, u);
}

/* ------------------------------------------------ packet size and window */

/* Largest packet whose console frame fits one line of line_max bytes. */
static size_t one_line_packet(size_t line_max)
{
    size_t chars = (line_max - 3u) / 4u * 4u;
    size_t frame = chars / 4u * 3u;
    return frame > 4u ? frame - 4u : 0;
}

static bool serial_link(const smpdfu_upload_t *u)
{
    return u->c->cfg.link.kind == SMPDFU_LINK_SERIAL;
}

/* Once the device's buffer size is known: the sizes the upload moves between. */
static void size_setup(smpdfu_upload_t *u)
{
    size_t maxp = smpdfu_client_max_packet(u->c);
    u->pkt_max = maxp;
    u->pkt_first_min = chunk_overhead(u->first_off, u->first_off == 0, u->cfg.src.size,
                                      u->sha_len, u->cfg.image, u->cfg.upgrade, u->name_len) +
                       2u + SMPDFU_IMAGE_HDR_LEN;
    if (serial_link(u)) {
        size_t lm = u->c->cfg.link.line_max ? u->c->cfg.link.line_max : SMPDFU_SERIAL_LINE_MAX;
        u->one_line = one_line_packet(lm);
        u->pkt_min = u->one_line;
    } else {
        u->one_line = 0;
        u->pkt_min = PKT_MIN_OTHER;
    }
    /* A later chunk must carry some data: the off head may take 5 bytes. */
    size_t floor = chunk_overhead(UINT32_MAX, false, 0, 0, 0, false, u->name_len) + 2u + 16u;
    if (u->pkt_min < floor) {
        u->pkt_min = floor;
    }
    if (u->pkt_min > maxp) {
        u->pkt_min = maxp;
    }
    u->adapt_size = u->cfg.packet_size == 0;
    u->pkt = u->cfg.packet_size ? (u->cfg.packet_size < maxp ? u->cfg.packet_size : maxp) : maxp;
    u->grow_after = GROW_AFTER;
    u->since_grow = 0xff;
}

static size_t chunk_packet(const smpdfu_upload_t *u, bool first)
{
    size_t maxp = smpdfu_client_max_packet(u->c);
    size_t p = u->pkt && u->pkt < maxp ? u->pkt : maxp;
    if (first && p < u->pkt_first_min) {
        p = u->pkt_first_min < maxp ? u->pkt_first_min : maxp;
    }
    return p;
}

static bool multi_line(const smpdfu_upload_t *u, size_t pkt)
{
    return u->one_line && pkt > u->one_line;
}

static unsigned lost_in_hist(const smpdfu_upload_t *u)
{
    unsigned n = 0;
    for (unsigned i = 0; i < u->nhist; i++) {
        n += (u->hist >> i) & 1u;
    }
    return n;
}

static void size_reset(smpdfu_upload_t *u)
{
    u->hist = 0;
    u->nhist = 0;
    u->run = 0;
}

/* Serial: a frame of whole lines wastes no line on a few bytes. */
static size_t lines_of(const smpdfu_upload_t *u, size_t pkt)
{
    size_t per = u->one_line + 4u; /* frame bytes per line */
    return (pkt + 4u + per - 1u) / per;
}

static size_t packet_of_lines(const smpdfu_upload_t *u, size_t lines)
{
    return lines * (u->one_line + 4u) - 4u;
}

static void shrink(smpdfu_upload_t *u)
{
    if (!u->adapt_size || u->pkt <= u->pkt_min) {
        return;
    }
    bool was_multi = multi_line(u, u->pkt);
    unsigned lost = lost_in_hist(u);
    size_t p = u->pkt / 2u;
    if (u->one_line) {
        size_t k = lines_of(u, u->pkt) / 2u;
        p = packet_of_lines(u, k ? k : 1u);
    }
    if (p < u->pkt_min) {
        p = u->pkt_min;
    }
    if (was_multi && u->nhist >= HIST_MIN) {
        /* Leaving a size whose frames were lost (nearly) always: if the
         * smaller frames then pass cleanly, the device drops lines. */
        u->ml_lossy = lost * 8u >= (unsigned)u->nhist * 7u;
    }
    if (u->since_grow < HIST_LEN && u->grow_after < GROW_AFTER_MAX) {
        u->grow_after *= 2; /* the last growth did not hold: wait longer next time */
    }
    u->pkt = p;
    u->res.shrinks++;
    size_reset(u);
    note(u, SMPDFU_UPLOAD_NOTE_SHRINK, (uint32_t)p);
}

static void grow(smpdfu_upload_t *u)
{
    size_t p = u->one_line ? packet_of_lines(u, lines_of(u, u->pkt) * 2u) : u->pkt * 2u;
    if (p > u->pkt_max) {
        p = u->pkt_max;
    }
    if (p == u->pkt) {
        return;
    }
    u->pkt = p;
    u->res.grows++;
    u->since_grow = 0;
    size_reset(u);
    note(u, SMPDFU_UPLOAD_NOTE_GROW, (uint32_t)p);
}

/* Shorter frames pass cleanly where the longer ones were lost nearly always:
 * the device cannot take many lines back to back (Zephyr's UART transport
 * with its few line buffers). Pace them (longer each time this is seen
 * again) and try the longer frames again. */
static void maybe_pace(smpdfu_upload_t *u)
{
    if (!u->ml_lossy || u->cfg.pace_us != 0 || !u->one_line) {
        return;
    }
    u->ml_lossy = false;
    if (++u->ml_seen < PACE_EVIDENCE) {
        /* Once may be a noisy link's bad luck: try the long frames again
         * and see whether it happens again. */
        grow(u);
        return;
    }
    u->ml_seen = 0;
    uint32_t cur = smpdfu_client_pace(u->c);
    uint32_t p = cur ? cur * 2u : SMPDFU_UPLOAD_PACE_START_US;
    if (++u->pace_tries > PACE_TRIES || p > PACE_MAX_US) {
        /* Longer gaps did not help: the link loses long frames, pacing
         * does not change that. Off, and not again. */
        if (cur) {
            smpdfu_client_set_pace(u->c, 0);
            note(u, SMPDFU_UPLOAD_NOTE_PACE, 0);
        }
        u->pace_tries = UINT8_MAX;
        return;
    }
    smpdfu_client_set_pace(u->c, p);
    note(u, SMPDFU_UPLOAD_NOTE_PACE, p);
    grow(u);
}

/* Every chunk ends clean (answered at once, taken) or lost (a go-back, a
 * retransmission, retries run out). The window and packet size follow. */
/* Half of the recent chunks of this size lost: smaller frames. */
static void judge_size(smpdfu_upload_t *u)
{
    if (u->nhist >= HIST_MIN && lost_in_hist(u) * 2u >= u->nhist) {
        shrink(u);
    }
}

static void outcome_ex(smpdfu_upload_t *u, bool lost, size_t pkt, uint32_t off, bool judge);

static void outcome(smpdfu_upload_t *u, bool lost, size_t pkt, uint32_t off)
{
    outcome_ex(u, lost, pkt, off, true);
}

/* judge false: the losses are recorded, the size is judged later (after
 * silence, only once a small frame got through: a silent device is not a
 * link that loses large frames). */
static void outcome_ex(smpdfu_upload_t *u, bool lost, size_t pkt, uint32_t off, bool judge)
{
    if (lost && off < u->recover_off) {
        /* A loss among the chunks that were in flight when the window was
         * last halved: the same episode, one halving is enough (TCP's fast
         * recovery). */
        u->clean_w = 0;
    } else if (lost) {
        u->recover_off = u->next_off;
        u->window = u->window > 1 ? (uint8_t)(u->window / 2u) : 1u;
        u->clean_w = 0;
        if (u->window < u->res.window_min) {
            u->res.window_min = u->window;
        }
    } else if (++u->clean_w >= u->window) {
        u->clean_w = 0;
        if (u->window < u->wmax) {
            u->window++;
        }
    }
    if (!u->adapt_size || pkt != u->pkt) {
        return; /* a chunk of an earlier size says nothing about this one */
    }
    if (u->since_grow < 0xff) {
        u->since_grow++;
        if (u->since_grow == HIST_LEN * 2 && u->grow_after > GROW_AFTER) {
            u->grow_after /= 2; /* the last growth held */
        }
    }
    u->hist = (uint8_t)((u->hist << 1) | (lost ? 1u : 0u));
    if (u->nhist < HIST_LEN) {
        u->nhist++;
    }
    if (lost) {
        u->run = 0;
        if (judge) {
            judge_size(u);
        }
        return;
    }
    if (u->run < UINT16_MAX) {
        u->run++;
    }
    if (u->run >= GROW_AFTER) {
        maybe_pace(u);
    }
    if (u->run >= u->grow_after && u->pkt < u->pkt_max) {
        grow(u);
    }
}

/* ------------------------------------------------------------- sending */

static void on_chunk(void *arg, const smpdfu_rsp_t *rsp);

/* A streamed source without the bytes yet (SMPDFU_EAGAIN) is no error: wait
 * for smpdfu_upload_kick(). True when rc said so. */
static bool starve(smpdfu_upload_t *u, int rc)
{
    if (rc == SMPDFU_EAGAIN) {
        u->starved = true;
        return true;
    }
    return false;
}

/* A chunk's timeout as handed to the engine: the engine resends it after
 * the round-trip estimate, doubling per copy up to this (8 estimates), and
 * gives up after retries + 1 of this: then the offset probe. */
static uint32_t chunk_timeout(const smpdfu_upload_t *u)
{
    uint32_t t = smpdfu_client_rto(u->c, u->tmo);
    return t > u->tmo / 8u ? u->tmo : t * 8u;
}

/* The first chunk may wait for an erase: resent after 8 round trips (at
 * least FIRST_MIN_MS), twice that from the third copy on, at most the normal
 * timeout: a lost first chunk costs a fraction of a second, and a long erase
 * gets a copy every half second or so (each answered, same sha, with the
 * offset once the erase is done). */
static uint32_t first_try_timeout(const smpdfu_upload_t *u)
{
    uint32_t t = smpdfu_client_rto(u->c, u->tmo);
    t = t > u->tmo / 8u ? u->tmo : t * 8u;
    if (t < FIRST_MIN_MS) {
        t = FIRST_MIN_MS;
    }
    if (u->first_misses > 1) {
        t *= 2u; /* a long erase: a copy every other estimate is enough */
    }
    return t > u->tmo ? u->tmo : t;
}

/* Build and send the chunk at off. Returns 0 or an error (upload not yet
 * finished: the caller decides). */
static int send_chunk(smpdfu_upload_t *u, uint32_t off, bool first)
{
    size_t slot = SMPDFU_UPLOAD_MAX_WINDOW;
    for (size_t i = 0; i < SMPDFU_UPLOAD_MAX_WINDOW; i++) {
        if (!u->live[i].req) {
            slot = i;
            break;
        }
    }
    if (slot == SMPDFU_UPLOAD_MAX_WINDOW) {
        return SMPDFU_EBUSY;
    }
    uint32_t size = u->cfg.src.size;
    size_t maxp = chunk_packet(u, first);
    bool fs = u->cfg.fs_name != NULL;
    /* fs: "len" only with the chunk at 0 (a resumed transfer has none). */
    bool with_len = first && off == 0;
    size_t n = chunk_len(maxp, off, with_len, size, u->sha_len, u->cfg.image, u->cfg.upgrade,
                         u->name_len);
    if (fs ? (n == 0 && size > off) : (n == 0 || (first && n < SMPDFU_IMAGE_HDR_LEN && n < size))) {
        /* Not even the 32-byte image header fits the first chunk. */
        return SMPDFU_EOVERSIZE;
    }
    smpdfu_req_t *r;
    int rc = smpdfu_client_req_begin(u->c, SMPDFU_OP_WRITE, fs ? SMPDFU_GROUP_FS : SMPDFU_GROUP_IMAGE,
                                     fs ? SMPDFU_FS_FILE : SMPDFU_IMG_UPLOAD, &r);
    if (rc) {
        return rc;
    }
    smpdfu_cbor_enc_t *e = smpdfu_req_enc(r);
    uint64_t pairs = 2 + fs;
    if (with_len) {
        pairs += 1 + (u->cfg.image != 0) + (u->sha_len != 0) + u->cfg.upgrade;
    }
    smpdfu_cbor_map_begin(e, pairs);
    smpdfu_cbor_put_tstr(e, "data", 4);
    uint8_t *p = smpdfu_cbor_put_bstr_reserve(e, n);
    if (fs) {
        smpdfu_cbor_put_tstr(e, "name", 4);
        smpdfu_cbor_put_tstr(e, u->cfg.fs_name, u->name_len);
    }
    if (first && u->cfg.image) {
        smpdfu_cbor_put_tstr(e, "image", 5);
        smpdfu_cbor_put_uint(e, u->cfg.image);
    }
    if (with_len) {
        smpdfu_cbor_put_tstr(e, "len", 3);
        smpdfu_cbor_put_uint(e, size);
    }
    smpdfu_cbor_put_tstr(e, "off", 3);
    smpdfu_cbor_put_uint(e, off);
    if (first && u->sha_len) {
        smpdfu_cbor_put_tstr(e, "sha", 3);
        smpdfu_cbor_put_bstr(e, u->sha, u->sha_len);
    }
    if (first && u->cfg.upgrade) {
        smpdfu_cbor_put_tstr(e, "upgrade", 7);
        smpdfu_cbor_put_bool(e, true);
    }
    if ((!p && n) || e->err) {
        smpdfu_client_req_drop(u->c, r);
        return e->err ? e->err : SMPDFU_ENOSPC;
    }
    rc = n ? u->cfg.src.read(u->cfg.src.ctx, off, p, n) : 0;
    if (rc < 0) {
        smpdfu_client_req_drop(u->c, r);
        return rc;
    }
    /* The first chunk goes again every normal timeout while the device may
     * still be erasing (the erase allowance bounds the silence instead). */
    uint32_t t = first ? first_try_timeout(u) : chunk_timeout(u);
    int retries = first ? 0 : u->cfg.retries;
    if (first) {
        smpdfu_client_req_slow(r);
    }
    rc = smpdfu_client_req_send(u->c, r, t, retries, off, on_chunk, u);
    if (rc) {
        return rc;
    }
    u->live[slot].req = r;
    u->live[slot].off = off;
    u->live[slot].len = (uint32_t)n;
    u->live[slot].pkt = maxp;
    u->res.chunks++;
    if (off + n >= size) {
        u->final_sent = true;
    }
    if (!first || u->state != UP_FIRST) {
        u->next_off = off + (uint32_t)n;
    }
    return 0;
}

/* Re-send the first chunk with the same sha: resume or restart. */
static void restart_first(smpdfu_upload_t *u)
{
    cancel_live(u);
    if (++u->probes > MAX_PROBES) {
        finish(u, SMPDFU_EPROTO);
        return;
    }
    u->state = UP_FIRST;
    u->final_sent = false;
    arm_give_up(u);
    int rc = send_chunk(u, u->first_off, true);
    if (rc && !starve(u, rc)) {
        finish(u, rc);
    }
}

static void refill(smpdfu_upload_t *u)
{
    uint32_t size = u->cfg.src.size;
    while (u->state == UP_STREAM && !u->probing && u->next_off < size &&
           live_count(u) < u->window && smpdfu_client_free_slots(u->c) > 0) {
        int rc = send_chunk(u, u->next_off, false);
        if (starve(u, rc)) {
            return;
        }
        if (rc) {
            finish(u, rc);
            return;
        }
    }
    if (u->state == UP_STREAM && !u->probing && u->next_off < size && live_count(u) == 0) {
        /* Nothing in flight and nothing could be sent (every request slot is
         * taken by other requests): no answer will ever wake us, so end here
         * rather than hang. */
        finish(u, SMPDFU_EBUSY);
    }
}

static void on_verify(void *arg, const smpdfu_rsp_t *rsp);

static void start_verify(smpdfu_upload_t *u)
{
    cancel_live(u);
    if (!u->cfg.expect_hash) {
        u->res.verify_needed = true;
        u->dev_off = u->cfg.src.size;
        finish(u, 0);
        return;
    }
    u->state = UP_VERIFY;
    int rc = smpdfu_client_request(u->c, SMPDFU_OP_READ, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_STATE, NULL,
                                   0, u->tmo, u->cfg.retries, on_verify, u, &u->aux);
    if (rc) {
        finish(u, rc);
    }
}

/* The device answered offset 0 after the upload had begun. With the final
 * chunk sent, the upload may be complete and its last answer lost (the
 * session ends with the image): the image state tells. Otherwise the device
 * lost the session and the upload starts again with the first chunk. */
static void device_at_zero(smpdfu_upload_t *u)
{
    if (u->final_sent) {
        start_verify(u);
    } else {
        u->res.session_losses++;
        u->probes = 0;
        restart_first(u);
    }
}

static void on_verify(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_upload_t *u = arg;
    if (u->state != UP_VERIFY || rsp->req != u->aux) {
        return;
    }
    u->aux = NULL;
    if (rsp->status == SMPDFU_ETIMEOUT) {
        start_verify(u); /* the silence rule decides when to stop */
        return;
    }
    if (ended_by_error(u, rsp, SMPDFU_UPLOAD_HEARD_STATE)) {
        return;
    }
    heard(u, SMPDFU_UPLOAD_HEARD_STATE, u->dev_off);
    smpdfu_img_state_t st;
    if (smpdfu_img_state_parse(rsp, &st) < 0) {
        finish(u, SMPDFU_EPROTO);
        return;
    }
    if (smpdfu_img_state_find(&st, u->cfg.image, u->cfg.expect_hash)) {
        u->res.verified = true;
        u->dev_off = u->cfg.src.size;
        report(u);
        finish(u, 0);
        return;
    }
    /* The device has no such image: the session was lost before the end.
     * Ask again with the first chunk (a persistent session resumes). */
    restart_first(u);
}

/* ---------------------------------------------------------------- probe */

static void on_probe(void *arg, const smpdfu_rsp_t *rsp);

/* An empty chunk at the last offset the device confirmed. Zephyr's
 * img_mgmt answers a chunk at an offset it does not expect with rc 0 and
 * the offset it does expect, and one at the expected offset with no data by
 * writing nothing and answering that offset: either way the answer is
 * where the device stands, and nothing changes on its flash. Without a
 * session it answers 0 (handled as a lost session). */
/* fs: error 11 (offset not valid) with the offset the device expects. */
static bool fs_offset_error(const smpdfu_upload_t *u, const smpdfu_rsp_t *rsp, uint32_t *expected)
{
    return rsp->status == SMPDFU_EDEVICE && u->cfg.fs_name && rsp->dev.group_err &&
           rsp->dev.group == SMPDFU_GROUP_FS && rsp->dev.rc == 11 &&
           smpdfu_fs_expected_off(rsp, expected) == 0 && *expected <= u->cfg.src.size;
}

static void start_probe(smpdfu_upload_t *u)
{
    cancel_live(u);
    uint8_t body[24 + SMPDFU_FS_PATH_MAX];
    smpdfu_cbor_enc_t e;
    smpdfu_cbor_enc_init(&e, body, sizeof(body));
    bool fs = u->cfg.fs_name != NULL;
    smpdfu_cbor_map_begin(&e, 2 + fs);
    smpdfu_cbor_put_tstr(&e, "data", 4);
    smpdfu_cbor_put_bstr(&e, NULL, 0);
    smpdfu_cbor_put_tstr(&e, "off", 3);
    smpdfu_cbor_put_uint(&e, u->dev_off);
    if (fs) {
        smpdfu_cbor_put_tstr(&e, "name", 4);
        smpdfu_cbor_put_tstr(&e, u->cfg.fs_name, u->name_len);
    }
    u->res.probes++;
    note(u, SMPDFU_UPLOAD_NOTE_PROBE, u->dev_off);
    int rc = e.err ? e.err
                   : smpdfu_client_request(u->c, SMPDFU_OP_WRITE,
                                           fs ? SMPDFU_GROUP_FS : SMPDFU_GROUP_IMAGE,
                                           fs ? SMPDFU_FS_FILE : SMPDFU_IMG_UPLOAD, body, e.len,
                                           chunk_timeout(u),
                                           u->cfg.retries, on_probe, u, &u->aux);
    if (rc) {
        finish(u, rc);
        return;
    }
    u->probing = true;
}

static void on_probe(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_upload_t *u = arg;
    if (!u->probing || rsp->req != u->aux) {
        return;
    }
    u->aux = NULL;
    u->probing = false;
    if (rsp->status == SMPDFU_ETIMEOUT) {
        start_probe(u); /* the silence rule decides when to stop */
        return;
    }
    uint32_t expected;
    if (fs_offset_error(u, rsp, &expected)) {
        /* fs: the device answers a probe at another offset than its own
         * with error 11 and the offset it holds. */
        heard(u, SMPDFU_UPLOAD_HEARD_PROBE, expected);
        u->dev_off = expected;
        u->next_off = expected;
        report(u);
        refill(u);
        return;
    }
    if (ended_by_error(u, rsp, SMPDFU_UPLOAD_HEARD_PROBE)) {
        return;
    }
    uint64_t off = 0;
    bool have_off = false;
    const smpdfu_cbor_field_t f[] = {{"off", SMPDFU_CBOR_UINT, &off, &have_off}};
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, rsp->payload, rsp->payload_len);
    if (smpdfu_cbor_decode_map(&d, f, 1) < 0 || !have_off || off > u->cfg.src.size) {
        finish(u, SMPDFU_EPROTO);
        return;
    }
    uint32_t r = (uint32_t)off;
    heard(u, SMPDFU_UPLOAD_HEARD_PROBE, r);
    if (r == 0) {
        device_at_zero(u);
        return;
    }
    /* The chunk that went unanswered through all its tries counted as that
     * many losses; this small frame got through: judge the size now. */
    judge_size(u);
    if (r >= u->cfg.src.size) {
        u->dev_off = r;
        report(u);
        finish(u, 0);
        return;
    }
    u->dev_off = r;
    u->next_off = r;
    report(u);
    refill(u);
}

/* --------------------------------------------------------------- chunks */

static bool soft_device_error(const smpdfu_dev_err_t *d)
{
    /* A device short of buffers while we pipeline: retry one at a time. */
    return !d->group_err && (d->rc == SMPDFU_MGMT_ENOMEM || d->rc == SMPDFU_MGMT_EBUSY ||
                             d->rc == SMPDFU_MGMT_EMSGSIZE);
}

static void go_back(smpdfu_upload_t *u, uint32_t to, size_t pkt)
{
    cancel_live(u);
    u->res.go_backs++;
    outcome(u, true, pkt, to); /* before next_off moves back: it marks the episode */
    u->next_off = to;
}

static void on_chunk(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_upload_t *u = arg;
    smpdfu_upload_chunk_t ch = {0};
    bool found = false;
    for (size_t i = 0; i < SMPDFU_UPLOAD_MAX_WINDOW; i++) {
        if (u->live[i].req == rsp->req) {
            ch = u->live[i];
            u->live[i].req = NULL;
            found = true;
            break;
        }
    }
    if (!found || (u->state != UP_FIRST && u->state != UP_STREAM)) {
        return;
    }
    uint32_t size = u->cfg.src.size;
    bool first = ch.off == u->first_off && u->state == UP_FIRST;
    uint32_t expected;
    if (!first && fs_offset_error(u, rsp, &expected)) {
        /* fs: a chunk at another offset than the device expects ends its
         * transfer; the device continues at `expected` (its file's size). */
        heard(u, SMPDFU_UPLOAD_HEARD_CHUNK, expected);
        u->dev_off = expected;
        go_back(u, expected, ch.pkt);
        refill(u);
        return;
    }
    if (rsp->status == SMPDFU_ETIMEOUT) {
        if (first) {
            /* Lost, or the device is still erasing (a copy with the same
             * sha is answered with its offset). A large first chunk that
             * keeps getting lost also shrinks. */
            u->res.first_again++;
            if (u->first_misses < 16) {
                u->first_misses++;
            }
            note(u, SMPDFU_UPLOAD_NOTE_FIRST_AGAIN, 0);
            shrink(u);
            int rc = send_chunk(u, u->first_off, true);
            if (rc && !starve(u, rc)) {
                finish(u, rc);
            }
            return;
        }
        /* Every copy was lost: as many losses as copies (up to HIST_MIN). */
        for (uint16_t i = 0; i < rsp->sends && i < HIST_MIN; i++) {
            outcome_ex(u, true, ch.pkt, ch.off, false);
        }
        start_probe(u);
        return;
    }
    if (rsp->status == SMPDFU_EDEVICE) {
        heard(u, first ? SMPDFU_UPLOAD_HEARD_FIRST : SMPDFU_UPLOAD_HEARD_CHUNK, u->dev_off);
        /* Only a pipeline can overrun the device's buffers; the first chunk
         * travels alone, so an error to it is the device's real answer. */
        if (u->state == UP_STREAM && u->window > 1 && soft_device_error(&rsp->dev)) {
            u->window = 1;
            u->res.window_min = 1;
            go_back(u, u->dev_off, ch.pkt);
            refill(u);
            return;
        }
        fail_dev(u, &rsp->dev);
        return;
    }
    if (rsp->status) {
        finish(u, rsp->status);
        return;
    }
    uint64_t off = 0;
    bool have_off = false, match = false, have_match = false;
    const smpdfu_cbor_field_t f[] = {
        {"off", SMPDFU_CBOR_UINT, &off, &have_off},
        {"match", SMPDFU_CBOR_BOOL, &match, &have_match},
    };
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, rsp->payload, rsp->payload_len);
    if (smpdfu_cbor_decode_map(&d, f, 2) < 0 || !have_off || off > size) {
        finish(u, SMPDFU_EPROTO);
        return;
    }
    uint32_t r = (uint32_t)off;
    heard(u, first ? SMPDFU_UPLOAD_HEARD_FIRST : SMPDFU_UPLOAD_HEARD_CHUNK, r);
    /* Without a full sha Zephyr compares with zeros: its match means nothing. */
    if (have_match && r == size && u->sha_len == 32) {
        if (!match) {
            /* The device hashed what it stored and it is not our file. */
            u->dev_off = r;
            finish(u, SMPDFU_EMISMATCH);
            return;
        }
        u->res.verified = true;
    }

    if (u->cfg.fs_name && r >= size) {
        u->dev_off = r; /* fs: the whole file is in (an empty one too) */
        report(u);
        finish(u, 0);
        return;
    }
    if (first) {
        if (r == u->first_off) {
            restart_first(u); /* accepted nothing: ask again, bounded */
            return;
        }
        if (!u->seen_first) {
            if (r > ch.off + ch.len) {
                u->res.resumed = true;
                u->res.resume_off = r;
            }
        } else if (r <= ch.off + ch.len) {
            u->res.restarts++; /* the device started the file again */
        }
        u->seen_first = true;
        u->first_misses = 0;
        u->probes = 0;
        u->dev_off = r;
        u->next_off = r;
        u->state = UP_STREAM;
        arm_give_up(u); /* the erase allowance is over */
    } else {
        if (r == 0) {
            device_at_zero(u);
            return;
        }
        u->dev_off = r; /* the device's word is the truth */
        if (r < ch.off + ch.len) {
            /* In-order device that did not take this chunk: every chunk
             * sent after it was dropped too. Resend from r. */
            go_back(u, r, ch.pkt);
        } else {
            /* Taken; answered at once or only after a retransmission. */
            outcome(u, rsp->sends > 1 && !rsp->spurious, ch.pkt, ch.off);
        }
    }
    /* Chunks wholly below the device offset are acknowledged implicitly
     * (their own response was lost or is still coming). */
    for (size_t i = 0; i < SMPDFU_UPLOAD_MAX_WINDOW; i++) {
        smpdfu_upload_chunk_t *l = &u->live[i];
        if (l->req && l->off + l->len <= u->dev_off) {
            smpdfu_client_req_cancel(u->c, l->req);
            l->req = NULL;
        }
    }
    if (u->next_off < u->dev_off) {
        u->next_off = u->dev_off;
    }
    report(u);
    if (u->dev_off >= size) {
        finish(u, 0);
        return;
    }
    refill(u);
}

/* ---------------------------------------------------------------- start */

static uint8_t device_window(const smpdfu_upload_t *u)
{
    if (u->cfg.window) {
        return u->cfg.window > SMPDFU_UPLOAD_MAX_WINDOW ? SMPDFU_UPLOAD_MAX_WINDOW : u->cfg.window;
    }
    uint32_t bc = smpdfu_client_buf_count(u->c);
    return (uint8_t)(bc > 1 ? (bc > SMPDFU_UPLOAD_MAX_WINDOW ? SMPDFU_UPLOAD_MAX_WINDOW : bc) : 1);
}

static void begin_first(smpdfu_upload_t *u)
{
    u->wmax = device_window(u);
    u->window = u->wmax;
    u->res.window_min = u->wmax;
    size_setup(u);
    if (u->cfg.pace_us && u->cfg.pace_us != SMPDFU_UPLOAD_PACE_OFF) {
        smpdfu_client_set_pace(u->c, u->cfg.pace_us);
    }
    u->state = UP_FIRST;
    arm_give_up(u);
}

static void on_params(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_upload_t *u = arg;
    if (u->state != UP_PARAMS || rsp->req != u->aux) {
        return;
    }
    u->aux = NULL;
    smpdfu_os_params_t p;
    if (rsp->status == 0 && smpdfu_os_params_parse(rsp, &p) == 0) {
        smpdfu_client_set_params(u->c, p.buf_size, p.buf_count);
    } else if (rsp->status != SMPDFU_EDEVICE && rsp->status != 0) {
        finish(u, rsp->status); /* silence: the device is not there */
        return;
    }
    heard(u, SMPDFU_UPLOAD_HEARD_PARAMS, 0);
    /* A device without the params command keeps the link's defaults. */
    begin_first(u);
    int rc = send_chunk(u, u->first_off, true);
    if (rc && !starve(u, rc)) {
        finish(u, rc);
    }
}

int smpdfu_upload_start(smpdfu_upload_t *u, smpdfu_client_t *c, const smpdfu_upload_cfg_t *cfg)
{
    if (!u || !c || !cfg || !cfg->src.read ||
        (!cfg->fs_name && cfg->src.size < SMPDFU_IMAGE_HDR_LEN) || cfg->sha_len > 32 ||
        (cfg->sha && cfg->sha_len == 0)) {
        return SMPDFU_EINVAL;
    }
    if (cfg->fs_name && (!*cfg->fs_name || strlen(cfg->fs_name) > SMPDFU_FS_PATH_MAX ||
                         cfg->sha || cfg->hash || cfg->fs_start > cfg->src.size)) {
        return SMPDFU_EINVAL;
    }
    memset(u, 0, sizeof(*u));
    u->c = c;
    u->cfg = *cfg;
    if (cfg->fs_name) {
        u->name_len = strlen(cfg->fs_name);
        u->first_off = cfg->fs_start;
        u->dev_off = cfg->fs_start;
        u->reported = cfg->fs_start;
        if (cfg->fs_start) {
            u->res.resumed = true;
            u->res.resume_off = cfg->fs_start;
        }
    }
    if (u->cfg.first_timeout_ms == 0) {
        u->cfg.first_timeout_ms = SMPDFU_DEFAULT_ERASE_TIMEOUT_MS;
    }
    if (u->cfg.silence_ms == 0) {
        u->cfg.silence_ms = SMPDFU_DEFAULT_SILENCE_MS;
    }
    if (u->cfg.retries < 0) {
        u->cfg.retries = c->cfg.retries;
    }
    u->tmo = cfg->timeout_ms ? cfg->timeout_ms : c->cfg.timeout_ms;
    u->t0 = smpdfu_client_now(c);
    u->heard_at = u->t0;
    u->retx0 = smpdfu_client_stats(c)->retransmits;
    u->res.size = cfg->src.size;
    if (cfg->sha) {
        memcpy(u->sha, cfg->sha, cfg->sha_len);
        u->sha_len = cfg->sha_len;
    } else if (cfg->hash) {
        uint8_t scratch[256];
        int rc = smpdfu_hash_range(cfg->hash, SMPDFU_HASH_SHA256, cfg->src.read, cfg->src.ctx, 0,
                                   cfg->src.size, scratch, sizeof(scratch), u->sha);
        if (rc) {
            return rc;
        }
        u->sha_len = 32;
    }
    u->window = 1;
    int rc;
    if (cfg->skip_params) {
        begin_first(u);
        rc = send_chunk(u, u->first_off, true);
        if (starve(u, rc)) {
            rc = 0;
        }
    } else {
        u->state = UP_PARAMS;
        rc = smpdfu_client_request(c, SMPDFU_OP_READ, SMPDFU_GROUP_OS, SMPDFU_OS_PARAMS, NULL, 0,
                                   cfg->timeout_ms, cfg->retries, on_params, u, &u->aux);
    }
    if (rc) {
        cancel_live(u);
        smpdfu_client_timer_stop(c, &u->give_up);
        u->state = UP_IDLE;
    }
    return rc;
}

void smpdfu_upload_kick(smpdfu_upload_t *u)
{
    if (!u->starved || u->state == UP_IDLE) {
        return;
    }
    u->starved = false;
    if (u->state == UP_FIRST && live_count(u) == 0) {
        int rc = send_chunk(u, u->first_off, true);
        if (rc && !starve(u, rc)) {
            finish(u, rc);
        }
    } else if (u->state == UP_STREAM) {
        refill(u);
    }
}

void smpdfu_upload_abort(smpdfu_upload_t *u)
{
    cancel_live(u);
    if (u->c) {
        smpdfu_client_timer_stop(u->c, &u->give_up);
    }
    u->state = UP_IDLE;
}

bool smpdfu_upload_busy(const smpdfu_upload_t *u)
{
    return u->state != UP_IDLE;
}
