/* SPDX-License-Identifier: Apache-2.0 */
/* SMP client engine: request slots, sequence matching, timeouts and
 * retransmission, error decoding. No I/O: bytes leave through cfg.send and
 * arrive through smpdfu_client_feed(); time moves through tick(). */
#include "smpdfu/client.h"

#include <string.h>

enum {
    REQ_FREE = 0,
    REQ_BUILDING = 1,
    REQ_WAITING = 2,
};

/* Smallest slot that can hold a header and an empty map. */
#define MIN_SLOT (SMPDFU_SMP_HDR_LEN + 1)

/* Longest hold, in quiet gaps, when the line never goes quiet. */
#define HOLD_MAX_GAPS 4u

uint32_t smpdfu_client_default_timeout_ms(smpdfu_link_kind_t kind)
{
    return kind == SMPDFU_LINK_UDP ? SMPDFU_DEFAULT_UDP_TIMEOUT_MS : SMPDFU_DEFAULT_TIMEOUT_MS;
}

int smpdfu_client_init(smpdfu_client_t *c, const smpdfu_client_cfg_t *cfg)
{
    if (!c || !cfg || !cfg->send || !cfg->reqs || cfg->nreqs == 0 || !cfg->req_mem ||
        !cfg->rx_buf || !cfg->tx_buf) {
        return SMPDFU_EINVAL;
    }
    if ((unsigned)cfg->link.kind <= SMPDFU_LINK_BLE &&
        !(((SMPDFU_LINK_KINDS) >> cfg->link.kind) & 1u)) {
        return SMPDFU_ENOTSUP; /* the kind is not compiled in (config.h) */
    }
    memset(c, 0, sizeof(*c));
    c->cfg = *cfg;
    if (c->cfg.timeout_ms == 0) {
        c->cfg.timeout_ms = smpdfu_client_default_timeout_ms(cfg->link.kind);
    }
    if (c->cfg.retries < 0) {
        c->cfg.retries = SMPDFU_DEFAULT_RETRIES;
    }
    c->slot_size = cfg->req_mem_len / cfg->nreqs;
    if (c->slot_size > 0xffffu + SMPDFU_SMP_HDR_LEN) {
        c->slot_size = 0xffffu + SMPDFU_SMP_HDR_LEN; /* the header length is 16 bits */
    }
    if (c->slot_size < MIN_SLOT) {
        return SMPDFU_ENOSPC;
    }
    if (cfg->tx_cap < smpdfu_link_encoded_len(&cfg->link, MIN_SLOT) ||
        cfg->rx_cap < SMPDFU_SMP_HDR_LEN + 4) {
        return SMPDFU_ENOSPC;
    }
    for (size_t i = 0; i < cfg->nreqs; i++) {
        smpdfu_req_t *r = &c->cfg.reqs[i];
        memset(r, 0, sizeof(*r));
        r->pkt = cfg->req_mem + i * c->slot_size;
        r->pkt_cap = c->slot_size;
    }
    smpdfu_link_dec_init(&c->dec, &c->cfg.link, cfg->rx_buf, cfg->rx_cap);
    /* Raw UART and BLE have no resync marker: a partial frame quiet for half
     * a request timeout is stale (one frame's bytes come much closer
     * together), and dropping it then leaves the decoder clean before a
     * retransmission is answered. */
    smpdfu_link_dec_set_gap(&c->dec, c->cfg.timeout_ms / 2u);
    c->next_seq = cfg->first_seq;
    return 0;
}

uint64_t smpdfu_client_now(const smpdfu_client_t *c)
{
    return c->now;
}

void smpdfu_client_set_params(smpdfu_client_t *c, uint32_t buf_size, uint32_t buf_count)
{
    c->dev_buf_size = buf_size;
    c->dev_buf_count = buf_count;
}

uint32_t smpdfu_client_buf_count(const smpdfu_client_t *c)
{
    return c->dev_buf_count;
}

size_t smpdfu_client_max_packet(const smpdfu_client_t *c)
{
    size_t m = smpdfu_link_max_packet(&c->cfg.link, c->dev_buf_size);
    if (m == 0 || m > c->slot_size) {
        m = c->slot_size;
    }
    /* The framed packet must also fit the transmit buffer. */
    while (m > MIN_SLOT && smpdfu_link_encoded_len(&c->cfg.link, m) > c->cfg.tx_cap) {
        m--;
    }
    return m;
}

size_t smpdfu_client_in_flight(const smpdfu_client_t *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->cfg.nreqs; i++) {
        n += c->cfg.reqs[i].state == REQ_WAITING;
    }
    return n;
}

size_t smpdfu_client_free_slots(const smpdfu_client_t *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->cfg.nreqs; i++) {
        n += c->cfg.reqs[i].state == REQ_FREE;
    }
    return n;
}

const smpdfu_client_stats_t *smpdfu_client_stats(const smpdfu_client_t *c)
{
    return &c->stats;
}

void smpdfu_client_reset_link(smpdfu_client_t *c)
{
    smpdfu_link_dec_reset(&c->dec);
    c->rx_junk = false; /* a hold ends at the next tick */
}

/* ------------------------------------------------------------ requests */

static bool seq_in_use(const smpdfu_client_t *c, uint8_t seq)
{
    for (size_t i = 0; i < c->cfg.nreqs; i++) {
        const smpdfu_req_t *r = &c->cfg.reqs[i];
        if (r->state != REQ_FREE && r->seq == seq) {
            return true;
        }
    }
    return false;
}

int smpdfu_client_req_begin(smpdfu_client_t *c, uint8_t op, uint16_t group, uint8_t id,
                            smpdfu_req_t **out)
{
    if (!c || !out || op > 7) {
        return SMPDFU_EINVAL;
    }
    smpdfu_req_t *r = NULL;
    for (size_t i = 0; i < c->cfg.nreqs; i++) {
        if (c->cfg.reqs[i].state == REQ_FREE) {
            r = &c->cfg.reqs[i];
            break;
        }
    }
    if (!r) {
        return SMPDFU_EBUSY;
    }
    /* nreqs <= 256 is not enforced, so give up after one lap. */
    for (int lap = 0; lap < 256 && seq_in_use(c, c->next_seq); lap++) {
        c->next_seq++;
    }
    r->state = REQ_BUILDING;
    r->seq = c->next_seq++;
    r->op = op;
    r->group = group;
    r->id = id;
    r->cb = NULL;
    r->arg = NULL;
    r->pkt_len = 0;
    r->sends = 0;
    r->slow = false;
    r->held = false;
    r->tx_order = 0;
    size_t maxp = smpdfu_client_max_packet(c);
    smpdfu_cbor_enc_init(&r->enc, r->pkt + SMPDFU_SMP_HDR_LEN, maxp - SMPDFU_SMP_HDR_LEN);
    *out = r;
    return 0;
}

smpdfu_cbor_enc_t *smpdfu_req_enc(smpdfu_req_t *r)
{
    return &r->enc;
}

void smpdfu_client_req_drop(smpdfu_client_t *c, smpdfu_req_t *r)
{
    (void)c;
    if (r && r->state == REQ_BUILDING) {
        r->state = REQ_FREE;
    }
}

void smpdfu_client_req_cancel(smpdfu_client_t *c, smpdfu_req_t *r)
{
    if (r) {
        r->state = REQ_FREE;
        r->cb = NULL;
        r->tx_order = 0;
        if (c && c->tx_req == r) {
            c->tx_req = NULL; /* the rest of its frame still goes: a device
                                 would only drop a cut frame anyway */
        }
    }
}

static bool paced(const smpdfu_client_t *c)
{
    return c->pace_us != 0 && c->cfg.link.kind == SMPDFU_LINK_SERIAL;
}

static int transmit(smpdfu_client_t *c, smpdfu_req_t *r)
{
    if (r->sends < UINT16_MAX) {
        r->sends++;
    }
    r->last_tx_at = c->now;
    if (paced(c)) {
        /* Queued: tick() sends it line by line; its timer starts when the
         * last line has gone. */
        if (r->tx_order == 0) {
            r->tx_order = ++c->tx_order ? c->tx_order : ++c->tx_order;
        }
        r->deadline = UINT64_MAX;
        return 0;
    }
    int n = smpdfu_link_encode(&c->cfg.link, r->pkt, r->pkt_len, c->cfg.tx_buf, c->cfg.tx_cap);
    if (n < 0) {
        return n;
    }
    if (c->cfg.trace) {
        c->cfg.trace(c->cfg.trace_arg, true, r->pkt, r->pkt_len);
    }
    c->stats.sent++;
    int rc = c->cfg.send(c->cfg.send_ctx, c->cfg.tx_buf, (size_t)n);
    if (rc < 0) {
        c->stats.send_errors++;
        /* Only a closed link is final; anything else is a lost frame that
         * the timeout retransmits (UDP's ECONNREFUSED while a device reboots). */
        return rc == SMPDFU_ECLOSED ? SMPDFU_ECLOSED : 0;
    }
    return 0;
}

/* Time to wait for an answer to the copy just sent. */
static uint64_t try_timeout(const smpdfu_client_t *c, const smpdfu_req_t *r)
{
    if (!r->adaptive) {
        return r->timeout_ms;
    }
    uint64_t t = smpdfu_client_rto(c, r->timeout_ms);
    for (uint16_t i = 1; i < r->sends && t < r->timeout_ms; i++) {
        t *= 2u; /* back off: the estimate may be too short for this request */
    }
    if (t > r->timeout_ms) {
        t = r->timeout_ms;
    }
    if (c->now + t > r->give_up_at) {
        t = r->give_up_at > c->now ? r->give_up_at - c->now : 0;
    }
    return t;
}

int smpdfu_client_req_send(smpdfu_client_t *c, smpdfu_req_t *r, uint32_t timeout_ms, int retries,
                           uint32_t tag, smpdfu_rsp_fn cb, void *arg)
{
    if (!c || !r || r->state != REQ_BUILDING) {
        return SMPDFU_EINVAL;
    }
    if (r->enc.err) {
        int e = r->enc.err;
        r->state = REQ_FREE;
        return e == SMPDFU_ENOSPC ? SMPDFU_EOVERSIZE : e;
    }
    size_t len = SMPDFU_SMP_HDR_LEN + r->enc.len;
    if (len > smpdfu_client_max_packet(c)) {
        r->state = REQ_FREE;
        return SMPDFU_EOVERSIZE;
    }
    smpdfu_smp_hdr_t h = {
        .op = r->op,
        .version = c->cfg.smp_v1 ? SMPDFU_SMP_V1 : SMPDFU_SMP_V2,
        .flags = 0,
        .len = (uint16_t)r->enc.len,
        .group = r->group,
        .seq = r->seq,
        .id = r->id,
    };
    smpdfu_smp_hdr_encode(&h, r->pkt);
    r->pkt_len = len;
    r->timeout_ms = timeout_ms ? timeout_ms : c->cfg.timeout_ms;
    r->tries_left = (uint16_t)(retries >= 0 ? retries : c->cfg.retries);
    r->tag = tag;
    r->cb = cb;
    r->arg = arg;
    r->sent_at = c->now;
    /* A caller that allows more than SMPDFU_CLIENT_ADAPTIVE_MAX_MS a try
     * expects a slow answer (an erase): resent only at its timeout. */
    r->adaptive = r->tries_left > 0 && !r->slow && r->timeout_ms <= SMPDFU_CLIENT_ADAPTIVE_MAX_MS;
    r->give_up_at = c->now + (uint64_t)r->timeout_ms * ((uint64_t)r->tries_left + 1u);
    r->deadline = c->now + try_timeout(c, r);
    r->state = REQ_WAITING;
    if (c->holding) {
        /* The line must stay quiet: the first copy goes when the hold ends. */
        r->held = true;
        r->deadline = UINT64_MAX;
        return 0;
    }
    int rc = transmit(c, r);
    if (rc < 0) {
        r->state = REQ_FREE;
        return rc;
    }
    return 0;
}

int smpdfu_client_request(smpdfu_client_t *c, uint8_t op, uint16_t group, uint8_t id,
                          const uint8_t *cbor, size_t cbor_len, uint32_t timeout_ms, int retries,
                          smpdfu_rsp_fn cb, void *arg, smpdfu_req_t **out)
{
    smpdfu_req_t *r;
    int rc = smpdfu_client_req_begin(c, op, group, id, &r);
    if (rc) {
        return rc;
    }
    if (cbor && cbor_len) {
        smpdfu_cbor_put_raw(&r->enc, cbor, cbor_len);
    } else {
        smpdfu_cbor_map_begin(&r->enc, 0);
    }
    rc = smpdfu_client_req_send(c, r, timeout_ms, retries, 0, cb, arg);
    if (rc == 0 && out) {
        *out = r;
    }
    return rc;
}

void smpdfu_client_cancel_all(smpdfu_client_t *c)
{
    for (size_t i = 0; i < c->cfg.nreqs; i++) {
        c->cfg.reqs[i].state = REQ_FREE;
        c->cfg.reqs[i].cb = NULL;
        c->cfg.reqs[i].tx_order = 0;
        c->cfg.reqs[i].held = false;
    }
    c->holding = false;
    c->rx_junk = false;
    c->tx_req = NULL;
    c->tx_pos = c->tx_len;
    for (smpdfu_timer_t *t = c->timers; t; t = t->next) {
        t->armed = false;
    }
    c->timers = NULL;
}

/* Free the slot first, then call back: the callback may reuse the slot. */
static void complete(smpdfu_client_t *c, smpdfu_req_t *r, smpdfu_rsp_t *rsp)
{
    smpdfu_rsp_fn cb = r->cb;
    void *arg = r->arg;
    r->state = REQ_FREE;
    r->cb = NULL;
    r->tx_order = 0;
    if (c->tx_req == r) {
        c->tx_req = NULL;
    }
    rsp->req = r;
    rsp->tag = r->tag;
    rsp->sends = r->sends;
    if (cb) {
        cb(arg, rsp);
    }
}

/* ---------------------------------------------------------- line pacing */

void smpdfu_client_req_slow(smpdfu_req_t *r)
{
    if (r) {
        r->slow = true;
    }
}

/* RFC 6298's estimator in integer milliseconds. */
static void rtt_sample(smpdfu_client_t *c, uint64_t ms)
{
    uint32_t m = ms > 600000u ? 600000u : (uint32_t)ms;
    if (c->srtt8 == 0) {
        c->srtt8 = m * 8u + 1u; /* +1: a 0 ms sample still counts as a sample */
        c->rttvar4 = m * 2u;
        return;
    }
    uint32_t srtt = c->srtt8 / 8u;
    uint32_t dev = m > srtt ? m - srtt : srtt - m;
    c->rttvar4 = c->rttvar4 - c->rttvar4 / 4u + dev;
    c->srtt8 = c->srtt8 - c->srtt8 / 8u + m;
}

uint32_t smpdfu_client_rto(const smpdfu_client_t *c, uint32_t limit)
{
    if (c->srtt8 == 0) {
        return limit;
    }
    uint32_t rto = c->srtt8 / 8u + (c->rttvar4 > 1u ? c->rttvar4 : 1u);
    if (rto < SMPDFU_CLIENT_MIN_RTO_MS) {
        rto = SMPDFU_CLIENT_MIN_RTO_MS;
    }
    return rto > limit ? limit : rto;
}

void smpdfu_client_set_pace(smpdfu_client_t *c, uint32_t pace_us)
{
    c->pace_us = pace_us;
}

uint32_t smpdfu_client_pace(const smpdfu_client_t *c)
{
    return c->pace_us;
}

bool smpdfu_client_last_heard(const smpdfu_client_t *c, uint64_t *at_ms)
{
    if (at_ms) {
        *at_ms = c->heard_at;
    }
    return c->heard;
}

/* Milliseconds from handing the port a line of n bytes to the next line:
 * its time on the wire (10 bits a byte) and the quiet gap. */
static uint64_t line_gap_ms(const smpdfu_client_t *c, size_t n)
{
    uint64_t us = c->pace_us;
    if (c->cfg.baud) {
        us += (uint64_t)n * 10u * 1000000u / c->cfg.baud;
    }
    return (us + 999u) / 1000u;
}

static bool tx_queued(const smpdfu_client_t *c)
{
    for (size_t i = 0; i < c->cfg.nreqs; i++) {
        if (c->cfg.reqs[i].state == REQ_WAITING && c->cfg.reqs[i].tx_order) {
            return true;
        }
    }
    return false;
}

/* Send what is due of the paced frame in progress, then start the oldest
 * queued one. One line per gap while pacing is on; the rest of a frame at
 * once when it was turned off. */
static void pump_tx(smpdfu_client_t *c)
{
    for (;;) {
        if (c->tx_pos < c->tx_len) {
            if (c->now < c->tx_next_at) {
                return;
            }
            const uint8_t *b = c->cfg.tx_buf;
            size_t end = c->tx_len;
            if (c->pace_us) {
                end = c->tx_pos;
                while (end < c->tx_len && b[end] != '\n') {
                    end++;
                }
                if (end < c->tx_len) {
                    end++;
                }
                c->stats.paced_lines++;
            }
            size_t n = end - c->tx_pos;
            int rc = c->cfg.send(c->cfg.send_ctx, b + c->tx_pos, n);
            c->tx_pos = end;
            c->tx_next_at = c->now + (c->pace_us ? line_gap_ms(c, n) : 0);
            if (rc < 0) {
                c->stats.send_errors++;
            }
            if (rc == SMPDFU_ECLOSED) {
                c->tx_pos = c->tx_len;
                if (c->tx_req) {
                    smpdfu_req_t *r = c->tx_req;
                    smpdfu_rsp_t rsp;
                    memset(&rsp, 0, sizeof(rsp));
                    rsp.status = SMPDFU_ECLOSED;
                    complete(c, r, &rsp);
                }
                continue;
            }
            if (c->tx_pos >= c->tx_len && c->tx_req) {
                c->tx_req->last_tx_at = c->now;
                c->tx_req->deadline = c->now + try_timeout(c, c->tx_req);
                c->tx_req = NULL;
            }
            continue;
        }
        smpdfu_req_t *best = NULL;
        for (size_t i = 0; i < c->cfg.nreqs; i++) {
            smpdfu_req_t *r = &c->cfg.reqs[i];
            if (r->state == REQ_WAITING && r->tx_order &&
                (!best || (int32_t)(r->tx_order - best->tx_order) < 0)) {
                best = r;
            }
        }
        if (!best) {
            return;
        }
        best->tx_order = 0;
        int n = smpdfu_link_encode(&c->cfg.link, best->pkt, best->pkt_len, c->cfg.tx_buf,
                                   c->cfg.tx_cap);
        if (n <= 0) {
            best->deadline = c->now + best->timeout_ms; /* cannot happen: checked at send */
            continue;
        }
        if (c->cfg.trace) {
            c->cfg.trace(c->cfg.trace_arg, true, best->pkt, best->pkt_len);
        }
        c->stats.sent++;
        c->tx_len = (size_t)n;
        c->tx_pos = 0;
        c->tx_req = best;
    }
}

/* ---------------------------------------------------------------- timers */

void smpdfu_client_timer_stop(smpdfu_client_t *c, smpdfu_timer_t *t)
{
    for (smpdfu_timer_t **p = &c->timers; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->armed = false;
    t->next = NULL;
}

void smpdfu_client_timer_start(smpdfu_client_t *c, smpdfu_timer_t *t, uint32_t ms,
                               void (*fn)(void *arg), void *arg)
{
    smpdfu_client_timer_stop(c, t);
    t->at = c->now + ms;
    t->fn = fn;
    t->arg = arg;
    t->armed = true;
    t->next = c->timers;
    c->timers = t;
}

/* A stale partial frame (raw UART, BLE) dropped by the link decoder. */
static void drop_stale(smpdfu_client_t *c)
{
    if (smpdfu_link_dec_tick(&c->dec, c->now) > 0) {
        c->stats.bad_packets++;
    }
}

/* ------------------------------------------------------ resync by quiet
 *
 * Raw UART and BLE have no mark that starts a frame: a header-shaped burst
 * of noise makes the decoder take the answers that follow as its body, and
 * then answer bytes as headers (one may announce 64 KiB). Only a quiet line
 * (the decoder's gap) puts it back in step, and a client that retransmits
 * every round trip keeps the device answering, so the line never goes quiet.
 * So when a retransmission falls due while bytes have been coming, since
 * before the request's last copy, without making a response, the engine
 * holds every send (retransmissions and new requests) until the line has
 * been quiet for the gap (the decoder has dropped the partial frame then),
 * a response gets through after all, or HOLD_MAX_GAPS gaps passed. */

static bool quiet_resync(const smpdfu_client_t *c)
{
    return (c->cfg.link.kind == SMPDFU_LINK_RAW_UART || c->cfg.link.kind == SMPDFU_LINK_BLE) &&
           c->dec.gap_ms != 0;
}

static void mark_junk(smpdfu_client_t *c)
{
    if (!c->rx_junk) {
        c->rx_junk = true;
        c->junk_since = c->now;
    }
}

static uint64_t hold_cap(const smpdfu_client_t *c)
{
    return c->hold_from + (uint64_t)HOLD_MAX_GAPS * c->dec.gap_ms;
}

/* When the hold may end (c->now when it may end at once). */
static uint64_t hold_end(const smpdfu_client_t *c)
{
    if (!c->rx_junk) {
        return c->now; /* a response came through: the decoder is in step */
    }
    uint64_t q = smpdfu_link_dec_quiet_at(&c->dec);
    uint64_t cap = hold_cap(c);
    return q < cap ? q : cap;
}

/* Should the retransmission of r wait for a quiet line? */
static bool should_hold(smpdfu_client_t *c, const smpdfu_req_t *r)
{
    if (!quiet_resync(c) || !c->rx_junk) {
        return false;
    }
    if (c->now >= smpdfu_link_dec_quiet_at(&c->dec)) {
        c->rx_junk = false; /* quiet for the gap already: the decoder starts afresh */
        return false;
    }
    /* Junk that began after the last copy may be its answer on its way. */
    return c->junk_since <= r->last_tx_at;
}

static void release_hold(smpdfu_client_t *c)
{
    if (c->rx_junk) {
        if (c->now >= hold_cap(c) && c->now < smpdfu_link_dec_quiet_at(&c->dec) &&
            smpdfu_link_dec_partial(&c->dec)) {
            /* Never quiet: drop the partial frame anyway, so the decoder
             * looks for a header in what comes next. */
            smpdfu_link_dec_reset(&c->dec);
            c->stats.bad_packets++;
        }
        c->rx_junk = false;
    }
    uint64_t held = c->now - c->hold_from;
    c->holding = false;
    for (size_t i = 0; i < c->cfg.nreqs; i++) {
        smpdfu_req_t *r = &c->cfg.reqs[i];
        if (r->state != REQ_WAITING) {
            continue;
        }
        /* The hold was the client's doing: it does not count against a request. */
        r->give_up_at = r->give_up_at <= UINT64_MAX - held ? r->give_up_at + held : UINT64_MAX;
        if (!r->held) {
            continue;
        }
        r->held = false;
        r->sent_at = c->now;
        if (transmit(c, r) == SMPDFU_ECLOSED) {
            smpdfu_rsp_t rsp;
            memset(&rsp, 0, sizeof(rsp));
            rsp.status = SMPDFU_ECLOSED;
            complete(c, r, &rsp);
        } else {
            r->deadline = c->now + try_timeout(c, r);
        }
    }
}

uint32_t smpdfu_client_next_timeout(const smpdfu_client_t *c)
{
    uint64_t best = smpdfu_link_dec_stale_at(&c->dec);
    if (c->tx_pos < c->tx_len) {
        if (c->tx_next_at < best) {
            best = c->tx_next_at;
        }
    } else if (tx_queued(c)) {
        best = c->now;
    }
    if (c->holding) {
        uint64_t e = hold_end(c); /* due requests wait for it */
        if (e < best) {
            best = e;
        }
    } else {
        for (size_t i = 0; i < c->cfg.nreqs; i++) {
            const smpdfu_req_t *r = &c->cfg.reqs[i];
            if (r->state == REQ_WAITING && r->deadline < best) {
                best = r->deadline;
            }
        }
    }
    for (const smpdfu_timer_t *t = c->timers; t; t = t->next) {
        if (t->at < best) {
            best = t->at;
        }
    }
    if (best == UINT64_MAX) {
        return UINT32_MAX;
    }
    if (best <= c->now) {
        return 0;
    }
    uint64_t d = best - c->now;
    return d >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)d;
}

void smpdfu_client_tick(smpdfu_client_t *c, uint64_t now_ms)
{
    if (now_ms > c->now) {
        c->now = now_ms;
    }
    drop_stale(c);
    if (c->holding && hold_end(c) <= c->now) {
        release_hold(c);
    }
    pump_tx(c);
    for (size_t i = 0; i < c->cfg.nreqs; i++) {
        smpdfu_req_t *r = &c->cfg.reqs[i];
        if (r->state != REQ_WAITING || r->deadline > c->now || c->holding) {
            continue;
        }
        if (r->adaptive ? c->now < r->give_up_at : r->tries_left > 0) {
            if (should_hold(c, r)) {
                c->holding = true;
                c->hold_from = c->now;
                c->stats.holds++;
                continue;
            }
            if (r->tries_left > 0) {
                r->tries_left--;
            }
            c->stats.retransmits++;
            if (transmit(c, r) == SMPDFU_ECLOSED) {
                smpdfu_rsp_t rsp;
                memset(&rsp, 0, sizeof(rsp));
                rsp.status = SMPDFU_ECLOSED;
                complete(c, r, &rsp);
            } else if (r->deadline != UINT64_MAX) {
                r->deadline = c->now + try_timeout(c, r); /* not queued for pacing */
            }
            continue;
        }
        c->stats.timeouts++;
        smpdfu_rsp_t rsp;
        memset(&rsp, 0, sizeof(rsp));
        rsp.status = SMPDFU_ETIMEOUT;
        complete(c, r, &rsp);
    }
    pump_tx(c); /* retransmissions just queued */
    /* Timers: fire one at a time, restarting the walk, since a callback may
     * start or stop timers. */
    for (;;) {
        smpdfu_timer_t *due = NULL;
        for (smpdfu_timer_t *t = c->timers; t; t = t->next) {
            if (t->at <= c->now) {
                due = t;
                break;
            }
        }
        if (!due) {
            break;
        }
        smpdfu_client_timer_stop(c, due);
        due->fn(due->arg);
    }
}

/* ------------------------------------------------------------- receiving */

/* Fill status/dev/rsn from the top-level map: `rc` (SMP level), `err`
 * (v2 group error), `rsn`. Absent rc = success. */
static int decode_status(const uint8_t *p, size_t n, uint16_t req_group, uint8_t version,
                         smpdfu_rsp_t *rsp)
{
    if (n == 0) {
        return 0; /* an empty body is a success with nothing to say */
    }
    int64_t rc = 0;
    bool have_rc = false, have_err = false, have_rsn = false;
    smpdfu_cbor_slice_t rsn = {0}, err = {0};
    const smpdfu_cbor_field_t f[] = {
        {"rc", SMPDFU_CBOR_NINT, &rc, &have_rc},
        {"rsn", SMPDFU_CBOR_TSTR, &rsn, &have_rsn},
        {"err", SMPDFU_CBOR_MAP, &err, &have_err},
    };
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, p, n);
    if (smpdfu_cbor_decode_map(&d, f, 3) < 0) {
        return SMPDFU_EPROTO;
    }
    if (have_rsn) {
        rsp->rsn = (const char *)rsn.ptr;
        rsp->rsn_len = rsn.len;
    }
    if (have_err) {
        uint64_t g = 0;
        int64_t grc = 0;
        bool have_g = false, have_grc = false;
        const smpdfu_cbor_field_t ef[] = {
            {"group", SMPDFU_CBOR_UINT, &g, &have_g},
            {"rc", SMPDFU_CBOR_NINT, &grc, &have_grc},
        };
        smpdfu_cbor_dec_t ed;
        smpdfu_cbor_dec_init(&ed, err.ptr, err.len);
        if (smpdfu_cbor_decode_map(&ed, ef, 2) < 0 || !have_grc || g > 0xffff ||
            grc < INT32_MIN || grc > INT32_MAX) {
            return SMPDFU_EPROTO;
        }
        if (grc != 0) {
            rsp->dev.group_err = true;
            rsp->dev.group = have_g ? (uint16_t)g : req_group;
            rsp->dev.rc = (int32_t)grc;
            rsp->dev.version = version;
            return SMPDFU_EDEVICE;
        }
    }
    if (have_rc && rc != 0) {
        if (rc < INT32_MIN || rc > INT32_MAX) {
            return SMPDFU_EPROTO;
        }
        rsp->dev.group_err = false;
        rsp->dev.group = req_group;
        rsp->dev.rc = (int32_t)rc;
        rsp->dev.version = version;
        return SMPDFU_EDEVICE;
    }
    return 0;
}

static void handle_packet(smpdfu_client_t *c, const uint8_t *pkt, size_t len)
{
    smpdfu_smp_hdr_t h;
    if (smpdfu_smp_hdr_decode(pkt, len, &h) < 0 || (pkt[0] & 0xe0u) != 0 ||
        (h.op != SMPDFU_OP_READ_RSP && h.op != SMPDFU_OP_WRITE_RSP) ||
        (size_t)h.len + SMPDFU_SMP_HDR_LEN > len) {
        c->stats.bad_packets++;
        mark_junk(c);
        return;
    }
    c->rx_junk = false; /* the decoder is in step */
    c->heard = true;
    c->heard_at = c->now;
    if (c->cfg.trace) {
        c->cfg.trace(c->cfg.trace_arg, false, pkt, SMPDFU_SMP_HDR_LEN + (size_t)h.len);
    }
    smpdfu_req_t *r = NULL;
    for (size_t i = 0; i < c->cfg.nreqs; i++) {
        smpdfu_req_t *q = &c->cfg.reqs[i];
        if (q->state == REQ_WAITING && q->seq == h.seq && q->group == h.group && q->id == h.id &&
            smpdfu_smp_rsp_op(q->op) == h.op) {
            r = q;
            break;
        }
    }
    if (!r) {
        c->stats.unmatched++;
        return;
    }
    c->stats.responses++;
    /* An answer much sooner than a round trip after the last copy answers
     * an earlier one: the retransmission was needless. (Not a sample: which
     * copy it answers is a guess.) */
    bool spurious = r->sends > 1 && c->srtt8 != 0 && c->now >= r->last_tx_at &&
                    (c->now - r->last_tx_at) * 32u < c->srtt8;
    if (r->sends == 1 && !r->slow && c->now >= r->sent_at) {
        rtt_sample(c, c->now - r->sent_at);
    }
    smpdfu_rsp_t rsp;
    memset(&rsp, 0, sizeof(rsp));
    rsp.spurious = spurious;
    rsp.hdr = h;
    rsp.payload = pkt + SMPDFU_SMP_HDR_LEN;
    rsp.payload_len = h.len;
    rsp.status = decode_status(rsp.payload, rsp.payload_len, r->group, h.version, &rsp);
    complete(c, r, &rsp);
}

/* timed: the bytes arrived at c->now; else at the next tick (the link
 * decoder stamps them then, so a frame is never judged stale too early). */
static int feed(smpdfu_client_t *c, const uint8_t *data, size_t len, bool timed)
{
    if (!c || (!data && len)) {
        return SMPDFU_EINVAL;
    }
    if (c->in_feed) {
        return SMPDFU_EBUSY;
    }
    c->in_feed = true;
    if (timed) {
        drop_stale(c); /* else the next tick judges it: c->now may be old */
    }
    while (len > 0) {
        size_t used = 0;
        int n = timed ? smpdfu_link_dec_feed_at(&c->dec, data, len, &used, c->now)
                      : smpdfu_link_dec_feed(&c->dec, data, len, &used);
        if (used == 0 || used > len) {
            used = len; /* never spin on a decoder that made no progress */
        }
        data += used;
        len -= used;
        if (n < 0) {
            c->stats.bad_packets++;
            mark_junk(c);
            continue;
        }
        if (n == 0) {
            mark_junk(c); /* a partial frame, or bytes that start none */
            continue;
        }
        const uint8_t *pkt = smpdfu_link_dec_packet(&c->dec);
        size_t plen = (size_t)n;
        /* A datagram may carry several SMP packets back to back. */
        while (plen >= SMPDFU_SMP_HDR_LEN) {
            size_t one = SMPDFU_SMP_HDR_LEN + (((size_t)pkt[2] << 8) | pkt[3]);
            if (one > plen) {
                c->stats.bad_packets++;
                mark_junk(c);
                break;
            }
            handle_packet(c, pkt, one);
            pkt += one;
            plen -= one;
        }
        if (plen > 0 && plen < SMPDFU_SMP_HDR_LEN) {
            c->stats.bad_packets++;
            mark_junk(c);
        }
    }
    c->in_feed = false;
    return 0;
}

int smpdfu_client_feed(smpdfu_client_t *c, const uint8_t *data, size_t len)
{
    return feed(c, data, len, false);
}

int smpdfu_client_feed_at(smpdfu_client_t *c, const uint8_t *data, size_t len, uint64_t now_ms)
{
    if (c && !c->in_feed && now_ms > c->now) {
        c->now = now_ms; /* timeouts still fire only from tick() */
    }
    return feed(c, data, len, true);
}
