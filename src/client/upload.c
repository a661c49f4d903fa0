/* Image upload: exact-size chunks, windowed, resumable (see upload.h). */
#include "smpdfu/upload.h"

#include <string.h>

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

/* Consecutive first-chunk probes without progress before giving up. */
#define MAX_PROBES 4
/* Pipeline breaks before falling back to one chunk in flight. */
#define MAX_GO_BACKS 3

static size_t tstr_len(size_t n)
{
    return smpdfu_cbor_head_len(n) + n;
}

/* CBOR bytes of everything in a chunk request except the data bytes
 * themselves and the data's bstr head. Must mirror encode_chunk(). */
static size_t chunk_overhead(uint32_t off, bool first, uint32_t size, size_t sha_len,
                             uint32_t image, bool upgrade)
{
    size_t n = SMPDFU_SMP_HDR_LEN + 1; /* header + map head (<= 23 pairs) */
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

size_t smpdfu_upload_chunk_len(size_t max_packet, uint32_t off, bool first, uint32_t size,
                               size_t sha_len, uint32_t image, bool upgrade)
{
    size_t over = chunk_overhead(off, first, size, sha_len, image, upgrade);
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

static void cancel_live(smpdfu_upload_t *u);

static void finish(smpdfu_upload_t *u, int status)
{
    cancel_live(u);
    u->state = UP_IDLE;
    u->res.status = status;
    u->res.off = u->dev_off;
    u->res.window = u->window;
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
    size_t maxp = smpdfu_client_max_packet(u->c);
    u->res.max_packet = maxp;
    size_t n = smpdfu_upload_chunk_len(maxp, off, first, size, u->sha_len, u->cfg.image,
                                       u->cfg.upgrade);
    if (n == 0 || (first && n < SMPDFU_IMAGE_HDR_LEN && n < size)) {
        /* Not even the 32-byte image header fits the first chunk. */
        return SMPDFU_EOVERSIZE;
    }
    smpdfu_req_t *r;
    int rc = smpdfu_client_req_begin(u->c, SMPDFU_OP_WRITE, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_UPLOAD, &r);
    if (rc) {
        return rc;
    }
    smpdfu_cbor_enc_t *e = smpdfu_req_enc(r);
    uint64_t pairs = 2;
    if (first) {
        pairs += 1 + (u->cfg.image != 0) + (u->sha_len != 0) + u->cfg.upgrade;
    }
    smpdfu_cbor_map_begin(e, pairs);
    smpdfu_cbor_put_tstr(e, "data", 4);
    uint8_t *p = smpdfu_cbor_put_bstr_reserve(e, n);
    if (first && u->cfg.image) {
        smpdfu_cbor_put_tstr(e, "image", 5);
        smpdfu_cbor_put_uint(e, u->cfg.image);
    }
    if (first) {
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
    if (!p || e->err) {
        smpdfu_client_req_drop(u->c, r);
        return e->err ? e->err : SMPDFU_ENOSPC;
    }
    rc = u->cfg.src.read(u->cfg.src.ctx, off, p, n);
    if (rc < 0) {
        smpdfu_client_req_drop(u->c, r);
        return rc;
    }
    uint32_t t = first ? u->cfg.first_timeout_ms : u->cfg.timeout_ms;
    rc = smpdfu_client_req_send(u->c, r, t, u->cfg.retries, off, on_chunk, u);
    if (rc) {
        return rc;
    }
    u->live[slot].req = r;
    u->live[slot].off = off;
    u->live[slot].len = (uint32_t)n;
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
static void probe(smpdfu_upload_t *u)
{
    cancel_live(u);
    if (++u->probes > MAX_PROBES) {
        finish(u, SMPDFU_EPROTO);
        return;
    }
    u->state = UP_FIRST;
    u->final_sent = false;
    int rc = send_chunk(u, 0, true);
    if (rc && !starve(u, rc)) {
        finish(u, rc);
    }
}

static void refill(smpdfu_upload_t *u)
{
    uint32_t size = u->cfg.src.size;
    while (u->state == UP_STREAM && u->next_off < size && live_count(u) < u->window &&
           smpdfu_client_free_slots(u->c) > 0) {
        int rc = send_chunk(u, u->next_off, false);
        if (starve(u, rc)) {
            return;
        }
        if (rc) {
            finish(u, rc);
            return;
        }
    }
    if (u->state == UP_STREAM && u->next_off < size && live_count(u) == 0) {
        /* Nothing in flight and nothing could be sent (every request slot is
         * taken by other requests): no answer will ever wake us, so end here
         * rather than hang. */
        finish(u, SMPDFU_EBUSY);
    }
}

static void on_verify(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_upload_t *u = arg;
    if (u->state != UP_VERIFY || rsp->req != u->aux) {
        return;
    }
    u->aux = NULL;
    if (rsp->status == SMPDFU_EDEVICE) {
        fail_dev(u, &rsp->dev);
        return;
    }
    if (rsp->status) {
        finish(u, rsp->status);
        return;
    }
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
    probe(u);
}

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
                                   0, u->cfg.timeout_ms, u->cfg.retries, on_verify, u, &u->aux);
    if (rc) {
        finish(u, rc);
    }
}

static bool soft_device_error(const smpdfu_dev_err_t *d)
{
    /* A device short of buffers while we pipeline: retry one at a time. */
    return !d->group_err && (d->rc == SMPDFU_MGMT_ENOMEM || d->rc == SMPDFU_MGMT_EBUSY ||
                             d->rc == SMPDFU_MGMT_EMSGSIZE);
}

static void go_back(smpdfu_upload_t *u, uint32_t to)
{
    cancel_live(u);
    u->next_off = to;
    u->res.go_backs++;
    /* A lossy link spoils a chunk now and then; a device that cannot take
     * the window loses one in nearly every window. Only go-backs in a row
     * (no clean window between them) mean the latter. */
    if (u->gb_run < UINT8_MAX) {
        u->gb_run++;
    }
    u->gb_mark = to;
    if (u->gb_run >= MAX_GO_BACKS && u->window > 1) {
        u->window = 1; /* the device misbehaves with a pipeline: stop pipelining */
    }
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
    bool first = ch.off == 0 && u->state == UP_FIRST;
    if (rsp->status == SMPDFU_EDEVICE) {
        /* Only a pipeline can overrun the device's buffers; the first chunk
         * travels alone, so an error to it is the device's real answer. */
        if (u->state == UP_STREAM && u->window > 1 && soft_device_error(&rsp->dev)) {
            u->window = 1;
            go_back(u, u->dev_off);
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

    if (first) {
        if (r == 0) {
            probe(u); /* accepted nothing: ask again, bounded */
            return;
        }
        if (!u->seen_first) {
            if (r > ch.len) {
                u->res.resumed = true;
                u->res.resume_off = r;
            }
        } else if (r <= ch.len) {
            u->res.restarts++; /* the device started the file again */
        }
        u->seen_first = true;
        u->probes = 0;
        u->dev_off = r;
        u->next_off = r;
        u->state = UP_STREAM;
    } else {
        if (r == 0) {
            if (u->final_sent) {
                start_verify(u);
            } else {
                u->res.session_losses++;
                u->probes = 0;
                probe(u);
            }
            return;
        }
        u->dev_off = r; /* the device's word is the truth */
        if (r < ch.off + ch.len) {
            /* In-order device that did not take this chunk: every chunk
             * sent after it was dropped too. Resend from r. */
            go_back(u, r);
        } else if (u->gb_run && (uint64_t)r >= (uint64_t)u->gb_mark + (uint64_t)u->window * ch.len) {
            u->gb_run = 0; /* a whole window went through since the last go-back */
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
    /* A device without the params command keeps the link's defaults. */
    uint32_t bc = smpdfu_client_buf_count(u->c);
    if (u->cfg.window == 0) {
        u->window = (uint8_t)(bc > 1 ? (bc > SMPDFU_UPLOAD_MAX_WINDOW ? SMPDFU_UPLOAD_MAX_WINDOW : bc) : 1);
    }
    u->state = UP_FIRST;
    int rc = send_chunk(u, 0, true);
    if (rc && !starve(u, rc)) {
        finish(u, rc);
    }
}

int smpdfu_upload_start(smpdfu_upload_t *u, smpdfu_client_t *c, const smpdfu_upload_cfg_t *cfg)
{
    if (!u || !c || !cfg || !cfg->src.read || cfg->src.size < SMPDFU_IMAGE_HDR_LEN ||
        cfg->sha_len > 32 || (cfg->sha && cfg->sha_len == 0)) {
        return SMPDFU_EINVAL;
    }
    memset(u, 0, sizeof(*u));
    u->c = c;
    u->cfg = *cfg;
    if (u->cfg.first_timeout_ms == 0) {
        u->cfg.first_timeout_ms = SMPDFU_UPLOAD_FIRST_TIMEOUT_MS;
    }
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
    u->window = cfg->window ? (cfg->window > SMPDFU_UPLOAD_MAX_WINDOW ? SMPDFU_UPLOAD_MAX_WINDOW
                                                                    : cfg->window)
                            : 1;
    int rc;
    if (cfg->skip_params) {
        if (cfg->window == 0) {
            uint32_t bc = smpdfu_client_buf_count(c);
            u->window = (uint8_t)(bc > 1 ? (bc > SMPDFU_UPLOAD_MAX_WINDOW ? SMPDFU_UPLOAD_MAX_WINDOW : bc) : 1);
        }
        u->state = UP_FIRST;
        rc = send_chunk(u, 0, true);
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
        int rc = send_chunk(u, 0, true);
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
    u->state = UP_IDLE;
}

bool smpdfu_upload_busy(const smpdfu_upload_t *u)
{
    return u->state != UP_IDLE;
}
