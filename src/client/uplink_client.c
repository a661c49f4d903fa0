/* SPDX-License-Identifier: Apache-2.0 */
/* Uplink client: pulls image blocks from a host into a stream, one request in
 * flight, same frame resent after a timeout (uplink.h, docs/uplink.md). */
#include <string.h>

#include "smpdfu/uplink.h"

static void ev(smpdfu_uplink_t *u, smpdfu_uplink_ev_t e, uint32_t v)
{
    if (u->cfg.event) {
        u->cfg.event(u->cfg.arg, e, v);
    }
}

int smpdfu_uplink_init(smpdfu_uplink_t *u, const smpdfu_uplink_cfg_t *cfg)
{
    if (!u || !cfg || !cfg->send || !cfg->tx_buf || cfg->tx_cap < 16 || !cfg->rx_buf ||
        cfg->block > SMPDFU_UPLINK_MAX_BLOCK) {
        return SMPDFU_EINVAL;
    }
    memset(u, 0, sizeof(*u));
    u->cfg = *cfg;
    if (!u->cfg.block) {
        u->cfg.block = SMPDFU_DEFAULT_UPLINK_BLOCK;
    }
    if (!u->cfg.timeout_ms) {
        u->cfg.timeout_ms = SMPDFU_DEFAULT_UPLINK_TIMEOUT_MS;
    }
    if (u->cfg.rx_cap < SMPDFU_UPLINK_FRAME_LEN(4u + u->cfg.block)) {
        return SMPDFU_EINVAL;
    }
    return smpdfu_uplink_dec_init(&u->dec, cfg->rx_buf, cfg->rx_cap);
}

void smpdfu_uplink_request_info(smpdfu_uplink_t *u)
{
    u->want_info = true;
}

const smpdfu_uplink_info_t *smpdfu_uplink_info(const smpdfu_uplink_t *u)
{
    return u->have_info ? &u->info : NULL;
}

void smpdfu_uplink_attach(smpdfu_uplink_t *u, smpdfu_stream_t *s)
{
    u->stream = s;
    if (s && u->err) {
        smpdfu_stream_fail(s, u->err);
    }
}

int smpdfu_uplink_status(const smpdfu_uplink_t *u)
{
    return u->err;
}

static int fail(smpdfu_uplink_t *u, int err)
{
    if (!u->err) {
        u->err = err;
        u->req_type = 0;
        if (u->stream) {
            smpdfu_stream_fail(u->stream, err);
        }
        ev(u, SMPDFU_UPLINK_EV_FAILED, (uint32_t)-err);
    }
    return u->err;
}

static void transmit(smpdfu_uplink_t *u)
{
    /* A send error is a lost frame: the timeout resends it. */
    (void)u->cfg.send(u->cfg.send_ctx, u->cfg.tx_buf, u->tx_len);
    u->deadline = u->now + u->cfg.timeout_ms;
}

/* Start the next request when nothing is in flight. */
static void next(smpdfu_uplink_t *u)
{
    if (u->err || u->req_type) {
        return;
    }
    int n;
    if (u->want_info && !u->have_info) {
        n = smpdfu_uplink_put_info_req((uint8_t)(u->seq + 1), u->cfg.tx_buf, u->cfg.tx_cap);
        u->req_type = SMPDFU_UPLINK_INFO;
    } else {
        uint32_t off, len;
        if (!u->stream || !smpdfu_stream_want(u->stream, &off, &len)) {
            return;
        }
        uint32_t b = u->cfg.block;
        if (u->have_info && u->info.max_block && u->info.max_block < b) {
            b = u->info.max_block;
        }
        if (len > b) {
            len = b;
        }
        n = smpdfu_uplink_put_read((uint8_t)(u->seq + 1), off, (uint16_t)len, u->cfg.tx_buf,
                                   u->cfg.tx_cap);
        u->req_type = SMPDFU_UPLINK_READ;
        if (off < u->top) {
            ev(u, SMPDFU_UPLINK_EV_REFETCH, off);
        }
        if (off + len > u->top) {
            u->top = off + len;
        }
        u->req_off = off;
        u->req_len = (uint16_t)len;
    }
    if (n < 0) {
        fail(u, n);
        return;
    }
    u->seq++;
    u->tx_len = (size_t)n;
    u->tries = 0;
    transmit(u);
}

static int map_err(uint16_t code)
{
    switch (code) {
    case SMPDFU_UPLINK_ERR_RANGE:
        return SMPDFU_ERANGE;
    case SMPDFU_UPLINK_ERR_SOURCE:
        return SMPDFU_EFILE;
    default:
        return SMPDFU_EPROTO;
    }
}

/* One frame from the host. Returns image bytes pushed, or an error. */
static int on_frame(smpdfu_uplink_t *u, const smpdfu_uplink_frame_t *f)
{
    if (!u->req_type || f->seq != u->seq) {
        u->frames_dropped++; /* late answer to an earlier request */
        return 0;
    }
    if (f->type == SMPDFU_UPLINK_ERR) {
        uint16_t code = 0;
        if (smpdfu_uplink_parse_err(f, &code, NULL, NULL) == 0) {
            return fail(u, map_err(code));
        }
        u->frames_dropped++;
        return 0;
    }
    int pushed = 0;
    if (u->req_type == SMPDFU_UPLINK_INFO) {
        smpdfu_uplink_info_t info;
        if (smpdfu_uplink_parse_info(f, &info) != 0) {
            u->frames_dropped++;
            return 0;
        }
        u->info = info;
        u->have_info = true;
        ev(u, SMPDFU_UPLINK_EV_INFO, info.size);
    } else {
        uint32_t off;
        const uint8_t *data;
        size_t n;
        if (smpdfu_uplink_parse_data(f, &off, &data, &n) != 0 || off != u->req_off || n == 0 ||
            n > u->req_len) {
            u->frames_dropped++;
            return 0;
        }
        if (u->stream) {
            pushed = smpdfu_stream_push(u->stream, off, data, n);
            if (pushed < 0) {
                /* The image failed a check: nothing more to fetch. */
                u->err = pushed;
                u->req_type = 0;
                ev(u, SMPDFU_UPLINK_EV_FAILED, (uint32_t)-pushed);
                return pushed;
            }
        }
    }
    if (u->tries) {
        ev(u, SMPDFU_UPLINK_EV_BACK, u->req_off);
    }
    u->req_type = 0;
    next(u);
    return pushed;
}

int smpdfu_uplink_feed(smpdfu_uplink_t *u, const uint8_t *data, size_t len)
{
    int total = 0;
    size_t pos = 0;
    for (;;) {
        size_t used = 0;
        smpdfu_uplink_frame_t f;
        int got = smpdfu_uplink_dec_feed(&u->dec, data + pos, len - pos, &used, &f);
        pos += used;
        if (!got) {
            break;
        }
        if (u->err) {
            continue; /* drain */
        }
        int rc = on_frame(u, &f);
        if (rc < 0) {
            return rc;
        }
        total += rc;
    }
    return u->err ? u->err : total;
}

int smpdfu_uplink_tick(smpdfu_uplink_t *u, uint64_t now_ms)
{
    u->now = now_ms;
    if (u->err) {
        return u->err;
    }
    if (u->req_type && now_ms >= u->deadline) {
        if (u->cfg.retries >= 0 && u->tries >= (uint32_t)u->cfg.retries) {
            return fail(u, SMPDFU_ETIMEOUT);
        }
        u->tries++;
        u->retries_total++;
        ev(u, SMPDFU_UPLINK_EV_RETRY, u->tries);
        transmit(u);
    }
    next(u);
    return u->err;
}

uint32_t smpdfu_uplink_next_timeout(const smpdfu_uplink_t *u)
{
    if (u->err) {
        return UINT32_MAX;
    }
    if (u->req_type) {
        return u->deadline > u->now ? (uint32_t)(u->deadline - u->now) : 0;
    }
    if ((u->want_info && !u->have_info) || (u->stream && smpdfu_stream_want(u->stream, NULL, NULL))) {
        return 0;
    }
    return UINT32_MAX;
}
