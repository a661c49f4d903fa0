/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulator, datagram mode: a UDP relay with per-direction latency,
 * jitter, bandwidth, loss, duplication and reordering, optionally followed
 * by a BLE connection model (fragments carried at connection events).
 * A runner (linkemu_runner.h): the loop drives it. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smpdfu/posix_addr.h"
#include "linkemu_modes.h"
#include "linkemu_time.h"

#define DQ_MAX 4096u       /* datagrams queued per direction and stage */
#define DGRAM_MAX 65536u

typedef struct dgram {
    struct dgram *next;
    uint64_t due;      /* impairment stage: when it leaves it; BLE: arrival of its last PDU */
    bool dup;          /* deliver twice */
    /* What the model decided, for the trace (docs/linkemu.md, "Trace"). */
    uint64_t unit;     /* index among the datagrams of its direction */
    uint64_t in;       /* read by the emulator */
    uint64_t wire;     /* serialised (the pacer's answer) */
    uint64_t held;     /* reorder: release deadline; LK_NEVER if not held */
    bool reordered;    /* overtaken by its successor */
    uint64_t ble_in;   /* entered the BLE stage (its impairment due) */
    uint64_t pdu0, ev0, ev1; /* first LL PDU (direction's count), first and last event */
    uint32_t pdus;     /* LL PDUs that carried it */
    size_t len;
    uint8_t data[];
} dgram_t;

typedef struct {
    dgram_t *head, *tail;
    size_t count;
} dq_t;

typedef struct {
    dq_t q;            /* impairment stage, due order */
    dgram_t *held;     /* reorder: waits for the next datagram to overtake it (until held->held) */
    uint64_t last_due;
    uint64_t latency_ns, jitter_ns;
    smpdfu_linkemu_pacer_t pacer;
    bool paced;
    smpdfu_linkemu_rng_t rng;
    /* BLE stage */
    dq_t air;          /* waiting for connection events */
    size_t air_off;    /* SMP bytes of air.head in fully sent fragments */
    size_t frag_len;   /* current fragment's SMP bytes */
    size_t l2_left;    /* L2CAP bytes of the current fragment still to send; 0 = none started */
    dq_t out;          /* reassembled, due = arrival of the last fragment */
    const smpdfu_linkemu_dir_t *cfg;
    smpdfu_linkemu_stats_t *st;
} udir_t;

typedef struct {
    const smpdfu_linkemu_cfg_t *cfg;
    int lsock;   /* client-facing */
    int tsock;   /* target-facing, connected */
    struct sockaddr_storage client;
    socklen_t client_len;
    udir_t dir[2];
    smpdfu_linkemu_stats_t st[2];
    uint64_t ble_t0, ble_next;
    bool ble_armed;
    uint64_t t0; /* start of the run: time zero of the trace */
    char bound[80]; /* the listen address actually bound (port 0 = any free port) */
    uint8_t *buf;   /* DGRAM_MAX bytes: one datagram read at a time */
} uemu_t;

static void dq_push(dq_t *q, dgram_t *g)
{
    g->next = NULL;
    if (q->tail) {
        q->tail->next = g;
    } else {
        q->head = g;
    }
    q->tail = g;
    q->count++;
}

static dgram_t *dq_pop(dq_t *q)
{
    dgram_t *g = q->head;
    if (g) {
        q->head = g->next;
        if (!q->head) {
            q->tail = NULL;
        }
        q->count--;
    }
    return g;
}

static void dq_free(dq_t *q)
{
    dgram_t *g;
    while ((g = dq_pop(q))) {
        free(g);
    }
}

/* A HOST:PORT the emulator may use: resolved by the port's one parser, and
 * on this machine unless --allow-remote. */
static int parse_addr(const char *spec, bool allow_remote, struct sockaddr_storage *ss, socklen_t *len)
{
    if (smpdfu_posix_addr_resolve(spec, SOCK_DGRAM, false, ss, len, NULL) != 0) {
        return SMPDFU_EINVAL;
    }
    return (allow_remote || smpdfu_posix_addr_is_loopback(ss)) ? 0 : SMPDFU_EINVAL;
}

/* One trace line: a copy of g written at `out` (LK_NEVER: not written, `why`
 * says why: "dropped" or "overflow"). */
static void utrace(const uemu_t *e, int d, const dgram_t *g, int copy, uint64_t out, const char *why)
{
    FILE *f = e->cfg->trace;
    if (!f) {
        return;
    }
    fprintf(f, "{\"dir\":\"%s\",\"unit\":%llu,\"bytes\":%zu", d == SMPDFU_LINKEMU_C2T ? "c2t" : "t2c",
            (unsigned long long)g->unit, g->len);
    smpdfu_linkemu_trace_time(f, "in", g->in, e->t0);
    smpdfu_linkemu_trace_time(f, "wire", g->wire, e->t0);
    smpdfu_linkemu_trace_time(f, "due", g->due, e->t0);
    smpdfu_linkemu_trace_time(f, "out", out, e->t0);
    if (g->held != LK_NEVER) {
        smpdfu_linkemu_trace_time(f, "held", g->held, e->t0);
    }
    if (g->reordered) {
        fprintf(f, ",\"reordered\":true");
    }
    if (copy) {
        fprintf(f, ",\"copy\":%d", copy);
    }
    if (why) {
        fprintf(f, ",\"%s\":true", why);
    }
    if (e->cfg->ble && g->pdus) {
        smpdfu_linkemu_trace_time(f, "ble_in", g->ble_in, e->t0);
        fprintf(f, ",\"pdu0\":%llu,\"pdus\":%u,\"ev0\":%llu,\"ev1\":%llu", (unsigned long long)g->pdu0,
                g->pdus, (unsigned long long)g->ev0, (unsigned long long)g->ev1);
    }
    fprintf(f, "}\n");
}

/* Send one datagram out of direction d (twice if duplicated). */
static void emit(uemu_t *e, int d, dgram_t *g)
{
    udir_t *u = &e->dir[d];
    for (int copy = 0; copy < (g->dup ? 2 : 1); copy++) {
        ssize_t w;
        if (d == SMPDFU_LINKEMU_C2T) {
            w = send(e->tsock, g->data, g->len, 0);
        } else if (e->client_len) {
            w = sendto(e->lsock, g->data, g->len, 0, (const struct sockaddr *)&e->client, e->client_len);
        } else {
            w = -1;
        }
        if (w < 0) {
            /* Nobody listening, or the socket buffer is full: the far end
             * would not have got it either. */
            u->st->overflow++;
            utrace(e, d, g, copy, LK_NEVER, "overflow");
            continue;
        }
        /* Taken after the send: "out" is never before the datagram left. */
        utrace(e, d, g, copy, e->cfg->trace ? smpdfu_linkemu_now_ns() : 0, NULL);
        u->st->units_out++;
        u->st->bytes_out += (uint64_t)w;
        if (copy) {
            u->st->duplicated++;
        }
    }
    free(g);
}

/* A held datagram nobody overtook before its deadline goes out late (at the
 * deadline, never before an earlier one), and does not count as reordered. */
static void release_held(udir_t *u)
{
    dgram_t *h = u->held;
    h->due = h->held > u->last_due ? h->held : u->last_due;
    u->last_due = h->due;
    dq_push(&u->q, h);
    u->held = NULL;
}

static void admit(uemu_t *e, int d, const uint8_t *data, size_t len, uint64_t now)
{
    udir_t *u = &e->dir[d];
    uint64_t unit = u->st->units_in++;
    u->st->bytes_in += len;
    /* Draw every decision for every datagram so one setting does not shift
     * the random sequence of another. */
    bool lost = smpdfu_linkemu_rng_chance(&u->rng, u->cfg->loss);
    bool dup = smpdfu_linkemu_rng_chance(&u->rng, u->cfg->dup);
    bool hold = smpdfu_linkemu_rng_chance(&u->rng, u->cfg->reorder);
    double j = smpdfu_linkemu_rng_unit(&u->rng) * 2.0 - 1.0;

    /* A late wake-up must not change the outcome: if the held datagram's
     * deadline passed before this one came in, it was released first. */
    if (u->held && now >= u->held->held) {
        release_held(u);
    }
    uint64_t left = u->paced ? smpdfu_linkemu_pacer_add(&u->pacer, now, len) : now;
    int64_t jit = (int64_t)(j * (double)u->jitter_ns);
    uint64_t due = left + u->latency_ns;
    due = (jit < 0 && (uint64_t)-jit > due - left) ? left : (uint64_t)((int64_t)due + jit);
    if (due < u->last_due) {
        due = u->last_due; /* jitter never reorders: that is --reorder's job */
    }
    u->last_due = due;
    dgram_t *g = malloc(sizeof(*g) + len);
    if (!g) {
        u->st->overflow++;
        return;
    }
    *g = (dgram_t){.due = due, .dup = dup, .unit = unit, .in = now, .wire = left, .held = LK_NEVER,
                   .ble_in = LK_NEVER, .len = len};
    memcpy(g->data, data, len);
    if (lost) {
        u->st->dropped++; /* it still used the wire (pacer above) */
        utrace(e, d, g, 0, LK_NEVER, "dropped");
        free(g);
        return;
    }
    if (u->q.count >= DQ_MAX) {
        u->st->overflow++;
        utrace(e, d, g, 0, LK_NEVER, "overflow");
        free(g);
        return;
    }
    if (u->held) {
        /* The held one is overtaken by this one and follows right after. */
        dq_push(&u->q, g);
        u->held->due = due;
        u->held->reordered = true;
        dq_push(&u->q, u->held);
        u->held = NULL;
        u->st->reordered++;
    } else if (hold) {
        g->held = due + smpdfu_linkemu_ms_to_ns(e->cfg->reorder_hold_ms);
        u->held = g;
    } else {
        dq_push(&u->q, g);
    }
}

/* ------------------------------------------------------------------ BLE */

/* LL payload of the next PDU of direction d in the event at t_ev, 0 if there
 * is none. A datagram that entered the stage after t_ev waits for the next
 * event even if the emulator runs this one late. */
static uint32_t ble_peek(const uemu_t *e, const udir_t *u, uint64_t t_ev)
{
    const dgram_t *g = u->air.head;
    if (!g || (u->air_off == 0 && u->l2_left == 0 && g->ble_in > t_ev)) {
        return 0;
    }
    size_t l2 = u->l2_left;
    if (!l2) {
        size_t fmax = e->cfg->ble_cfg.att_mtu - 3;
        size_t f = g->len - u->air_off < fmax ? g->len - u->air_off : fmax;
        l2 = f + SMPDFU_LINKEMU_BLE_L2CAP_ATT;
    }
    return (uint32_t)(l2 < e->cfg->ble_cfg.ll_max ? l2 : e->cfg->ble_cfg.ll_max);
}

/* The next PDU of u, sent in event number ev, finished arriving at time t. */
static void ble_advance(const uemu_t *e, udir_t *u, uint64_t ev, uint64_t t)
{
    dgram_t *g = u->air.head;
    if (!g->pdus) {
        g->pdu0 = u->st->ble_pdus;
        g->ev0 = ev;
    }
    g->pdus++;
    g->ev1 = ev;
    if (!u->l2_left) {
        size_t fmax = e->cfg->ble_cfg.att_mtu - 3;
        u->frag_len = g->len - u->air_off < fmax ? g->len - u->air_off : fmax;
        u->l2_left = u->frag_len + SMPDFU_LINKEMU_BLE_L2CAP_ATT;
    }
    size_t sent = u->l2_left < e->cfg->ble_cfg.ll_max ? u->l2_left : e->cfg->ble_cfg.ll_max;
    u->l2_left -= sent;
    u->st->ble_pdus++;
    if (u->l2_left) {
        return;
    }
    u->air_off += u->frag_len;
    if (u->air_off >= g->len) {
        /* All fragments are in: the receiver has the whole SMP packet. */
        dq_pop(&u->air);
        u->air_off = 0;
        g->due = t;
        dq_push(&u->out, g);
    }
}

/* One connection event at t_ev: central (c2t) and peripheral (t2c) PDUs
 * alternate, an empty PDU standing in for a side with nothing to send. */
static void ble_event(uemu_t *e, uint64_t t_ev)
{
    const smpdfu_linkemu_ble_t *b = &e->cfg->ble_cfg;
    uint64_t interval = (uint64_t)b->interval_us * 1000u;
    uint64_t ev = (t_ev - e->ble_t0) / interval;
    uint64_t el = 0;
    uint32_t n[2] = {0, 0};
    for (;;) {
        uint32_t p[2];
        for (int d = 0; d < 2; d++) {
            p[d] = n[d] < b->pdus_per_event ? ble_peek(e, &e->dir[d], t_ev) : 0;
        }
        if (!p[0] && !p[1]) {
            break;
        }
        uint64_t a0 = smpdfu_linkemu_ble_pdu_ns(b, p[0]);
        uint64_t a1 = smpdfu_linkemu_ble_pdu_ns(b, p[1]);
        uint64_t exch = a0 + a1 + 2u * SMPDFU_LINKEMU_BLE_TIFS_NS;
        if (el + exch > interval) {
            break;
        }
        if (p[0]) {
            ble_advance(e, &e->dir[0], ev, t_ev + el + a0);
            n[0]++;
        }
        if (p[1]) {
            ble_advance(e, &e->dir[1], ev, t_ev + el + a0 + SMPDFU_LINKEMU_BLE_TIFS_NS + a1);
            n[1]++;
        }
        el += exch;
    }
}

/* A datagram enters the BLE stage at time t (its due time). */
static void ble_enqueue(uemu_t *e, int d, dgram_t *g)
{
    uint64_t t = g->due;
    g->ble_in = t;
    if (!e->ble_armed) {
        /* First connection event at or after t on the fixed anchor grid. */
        uint64_t iv = (uint64_t)e->cfg->ble_cfg.interval_us * 1000u;
        uint64_t k = t > e->ble_t0 ? (t - e->ble_t0 + iv - 1) / iv : 0;
        uint64_t ev = e->ble_t0 + k * iv;
        if (ev > e->ble_next) {
            e->ble_next = ev;
        }
        e->ble_armed = true;
    }
    dq_push(&e->dir[d].air, g);
}

/* ---------------------------------------------------------------- runner */

static int udp_due(void *ctx, uint64_t now)
{
    uemu_t *e = ctx;
    for (int d = 0; d < 2; d++) {
        udir_t *u = &e->dir[d];
        if (u->held && now >= u->held->held) {
            release_held(u);
        }
        while (u->q.head && u->q.head->due <= now) {
            dgram_t *g = dq_pop(&u->q);
            if (e->cfg->ble) {
                ble_enqueue(e, d, g);
            } else {
                emit(e, d, g);
            }
        }
    }
    if (e->cfg->ble) {
        uint64_t iv = (uint64_t)e->cfg->ble_cfg.interval_us * 1000u;
        while (e->ble_armed && e->ble_next <= now) {
            ble_event(e, e->ble_next);
            e->ble_next += iv;
            e->ble_armed = e->dir[0].air.head || e->dir[1].air.head;
        }
        for (int d = 0; d < 2; d++) {
            udir_t *u = &e->dir[d];
            while (u->out.head && u->out.head->due <= now) {
                emit(e, d, dq_pop(&u->out));
            }
        }
    }
    return 0;
}

static uint64_t udp_next(const void *ctx)
{
    const uemu_t *e = ctx;
    uint64_t next = LK_NEVER;
    for (int d = 0; d < 2; d++) {
        const udir_t *u = &e->dir[d];
        if (u->q.head && u->q.head->due < next) {
            next = u->q.head->due;
        }
        if (u->held && u->held->held < next) {
            next = u->held->held;
        }
        if (u->out.head && u->out.head->due < next) {
            next = u->out.head->due;
        }
    }
    if (e->ble_armed && e->ble_next < next) {
        next = e->ble_next;
    }
    return next;
}

static int open_sockets(uemu_t *e, FILE *out)
{
    struct sockaddr_storage la, ta;
    socklen_t ll, tl;
    if (parse_addr(e->cfg->listen, e->cfg->allow_remote, &la, &ll)) {
        fprintf(out, "error: listen address %s is not a loopback HOST:PORT (see --allow-remote)\n", e->cfg->listen);
        return SMPDFU_EINVAL;
    }
    if (parse_addr(e->cfg->target, e->cfg->allow_remote, &ta, &tl)) {
        fprintf(out, "error: target address %s is not a loopback HOST:PORT (see --allow-remote)\n", e->cfg->target);
        return SMPDFU_EINVAL;
    }
    e->lsock = socket(la.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    e->tsock = socket(ta.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (e->lsock < 0 || e->tsock < 0) {
        return SMPDFU_ENOCONN;
    }
    int big = 4 << 20;
    (void)setsockopt(e->lsock, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    (void)setsockopt(e->tsock, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    if (bind(e->lsock, (struct sockaddr *)&la, ll)) {
        fprintf(out, "error: cannot bind %s: %s\n", e->cfg->listen, strerror(errno));
        return SMPDFU_ENOCONN;
    }
    /* Report the port actually bound so callers can ask for port 0. */
    struct sockaddr_storage ba;
    socklen_t bl = sizeof(ba);
    char h[64], sv[8];
    if (!getsockname(e->lsock, (struct sockaddr *)&ba, &bl) &&
        !getnameinfo((struct sockaddr *)&ba, bl, h, sizeof(h), sv, sizeof(sv), NI_NUMERICHOST | NI_NUMERICSERV)) {
        snprintf(e->bound, sizeof(e->bound), ba.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, sv);
    } else {
        snprintf(e->bound, sizeof(e->bound), "%s", e->cfg->listen);
    }
    if (connect(e->tsock, (struct sockaddr *)&ta, tl)) {
        fprintf(out, "error: cannot reach %s: %s\n", e->cfg->target, strerror(errno));
        return SMPDFU_ENOCONN;
    }
    return 0;
}

/* Read every waiting datagram from one socket. */
static void drain(uemu_t *e, int d, uint8_t *buf, uint64_t now)
{
    for (int i = 0; i < 256; i++) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        ssize_t n = d == SMPDFU_LINKEMU_C2T
                        ? recvfrom(e->lsock, buf, DGRAM_MAX, 0, (struct sockaddr *)&from, &fl)
                        : recv(e->tsock, buf, DGRAM_MAX, 0);
        if (n < 0) {
            return; /* EAGAIN, or ECONNREFUSED from an earlier send to a closed port */
        }
        if (d == SMPDFU_LINKEMU_C2T) {
            /* Replies go to whoever spoke last, like a one-client relay. */
            e->client = from;
            e->client_len = fl;
        }
        admit(e, d, buf, (size_t)n, now);
    }
}

static void udp_close(void *ctx)
{
    uemu_t *e = ctx;
    for (int d = 0; d < 2; d++) {
        dq_free(&e->dir[d].q);
        dq_free(&e->dir[d].air);
        dq_free(&e->dir[d].out);
        free(e->dir[d].held);
    }
    if (e->lsock >= 0) {
        close(e->lsock);
    }
    if (e->tsock >= 0) {
        close(e->tsock);
    }
    free(e->buf);
    free(e);
}

static void udp_announce(void *ctx, FILE *out)
{
    const uemu_t *e = ctx;
    fprintf(out, "listen: %s\n", e->bound);
    fprintf(out, "target: %s\n", e->cfg->target);
    if (e->cfg->ble) {
        const smpdfu_linkemu_ble_t *b = &e->cfg->ble_cfg;
        fprintf(out, "ble: att_mtu=%u interval_us=%u pdus_per_event=%u phy=%uM ll_max=%u\n", b->att_mtu,
                b->interval_us, b->pdus_per_event, b->phy_mbps, b->ll_max);
    }
}

static void udp_start(void *ctx, uint64_t t0)
{
    uemu_t *e = ctx;
    e->ble_t0 = t0;
    e->ble_next = t0;
    e->t0 = t0;
}

/* p[0]: the client-facing socket, p[1]: the target-facing one. */
static void udp_poll_set(const void *ctx, struct pollfd *p)
{
    const uemu_t *e = ctx;
    p[0] = (struct pollfd){.fd = e->lsock, .events = POLLIN};
    p[1] = (struct pollfd){.fd = e->tsock, .events = POLLIN};
}

static int udp_poll_ready(void *ctx, const struct pollfd *p, uint64_t now, FILE *out)
{
    uemu_t *e = ctx;
    (void)out;
    if (p[0].revents) {
        drain(e, SMPDFU_LINKEMU_C2T, e->buf, now);
    }
    if (p[1].revents) {
        drain(e, SMPDFU_LINKEMU_T2C, e->buf, now);
    }
    return 0;
}

int smpdfu_linkemu_udp_open(const smpdfu_linkemu_cfg_t *cfg, FILE *out, smpdfu_linkemu_runner_t *r)
{
    uemu_t *e = calloc(1, sizeof(*e));
    if (!e) {
        return SMPDFU_ENOSPC;
    }
    e->cfg = cfg;
    e->lsock = e->tsock = -1;
    e->buf = malloc(DGRAM_MAX);
    int rc = e->buf ? open_sockets(e, out) : SMPDFU_ENOSPC;
    if (rc) {
        udp_close(e);
        return rc;
    }
    for (int d = 0; d < 2; d++) {
        udir_t *u = &e->dir[d];
        u->cfg = &cfg->dir[d];
        u->st = &e->st[d];
        u->latency_ns = smpdfu_linkemu_ms_to_ns(cfg->dir[d].latency_ms);
        u->jitter_ns = smpdfu_linkemu_ms_to_ns(cfg->dir[d].jitter_ms);
        u->paced = cfg->dir[d].rate_Bps >= 1.0;
        smpdfu_linkemu_pacer_init(&u->pacer, (uint64_t)cfg->dir[d].rate_Bps);
        smpdfu_linkemu_rng_seed(&u->rng, cfg->seed * 2u + (uint64_t)d);
    }
    *r = (smpdfu_linkemu_runner_t){.ctx = e, .nfds = 2, .stats = e->st, .announce = udp_announce,
                                   .start = udp_start, .due = udp_due, .next = udp_next,
                                   .poll_set = udp_poll_set, .poll_ready = udp_poll_ready,
                                   .close = udp_close};
    return 0;
}
