/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulator, serial mode: two ptys, bytes paced at a baud rate (8N1),
 * with latency, whole-line loss and bit flips. A runner (linkemu_runner.h):
 * the loop drives it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "smpdfu/posix_pty.h"
#include "linkemu_modes.h"
#include "linkemu_time.h"

#define SQ_CAP 65536u   /* bytes in flight per direction */
#define IO_CHUNK 4096u

typedef struct {
    uint64_t in;   /* when the emulator read it */
    uint64_t wire; /* when its stop bit has left the wire (the pacer's answer) */
    uint64_t due;  /* when the byte reaches the far end: wire + latency */
    uint8_t b;
    uint8_t drop;  /* part of a dropped line: uses wire time, never delivered */
    uint8_t flip;  /* a bit was flipped */
    uint8_t nl;    /* the sender sent \n here (before any flip) */
} sbyte_t;

typedef struct {
    sbyte_t *q;
    size_t head, count;
    int in_fd, out_fd;
    bool blocked;      /* out_fd said EAGAIN: wait for POLLOUT */
    bool line_start, line_drop;
    uint64_t latency_ns;
    smpdfu_linkemu_pacer_t pacer;
    bool paced;
    smpdfu_linkemu_rng_t rng;
    const smpdfu_linkemu_dir_t *cfg;
    smpdfu_linkemu_stats_t *st;
    /* trace (NULL: none) */
    FILE *trace;
    const char *name;
    uint64_t t0;
    uint64_t tr_byte, tr_line; /* index of the next byte / line to leave the queue */
} sdir_t;


/* Take bytes from the source into the queue, stamping each with its arrival
 * time at the far end. Returns SMPDFU_ECLOSED when the source went away. */
static int sdir_read(sdir_t *d, uint64_t now)
{
    uint8_t buf[IO_CHUNK];
    size_t room = SQ_CAP - d->count;
    if (room == 0) {
        return 0;
    }
    ssize_t n = read(d->in_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            return 0;
        }
        return SMPDFU_ECLOSED; /* EIO: the other end of a pty was closed */
    }
    if (n == 0) {
        return SMPDFU_ECLOSED;
    }
    for (ssize_t i = 0; i < n; i++) {
        sbyte_t *e = &d->q[(d->head + d->count) % SQ_CAP];
        if (d->line_start) {
            d->line_start = false;
            d->line_drop = smpdfu_linkemu_rng_chance(&d->rng, d->cfg->loss);
            d->st->units_in++;
            if (d->line_drop) {
                d->st->dropped++;
            }
        }
        e->b = buf[i];
        e->drop = d->line_drop;
        e->flip = smpdfu_linkemu_rng_chance(&d->rng, d->cfg->flip);
        if (e->flip) {
            e->b ^= (uint8_t)(1u << (smpdfu_linkemu_rng_next(&d->rng) & 7u));
        }
        /* 8N1: start bit + 8 data bits + stop bit per byte. */
        uint64_t left = d->paced ? smpdfu_linkemu_pacer_add(&d->pacer, now, 10) : now;
        e->in = now;
        e->wire = left;
        e->due = left + d->latency_ns;
        e->nl = buf[i] == '\n';
        if (e->nl) {
            d->line_start = true;
        }
        d->count++;
    }
    d->st->bytes_in += (uint64_t)n;
    return 0;
}

/* One trace line for a byte leaving the queue (written at `out`, or dropped:
 * LK_NEVER). Bytes leave in order, so the indexes are counted here. */
static void sdir_trace(sdir_t *d, const sbyte_t *x, uint64_t out)
{
    if (d->trace) {
        fprintf(d->trace, "{\"dir\":\"%s\",\"unit\":%llu,\"byte\":%llu,\"bytes\":1", d->name,
                (unsigned long long)d->tr_line, (unsigned long long)d->tr_byte);
        smpdfu_linkemu_trace_time(d->trace, "in", x->in, d->t0);
        smpdfu_linkemu_trace_time(d->trace, "wire", x->wire, d->t0);
        smpdfu_linkemu_trace_time(d->trace, "due", x->due, d->t0);
        smpdfu_linkemu_trace_time(d->trace, "out", out, d->t0);
        fprintf(d->trace, "%s%s%s}\n", x->nl ? ",\"nl\":true" : "", x->drop ? ",\"dropped\":true" : "",
                x->flip ? ",\"flipped\":true" : "");
    }
    d->tr_byte++;
    if (x->nl) {
        d->tr_line++;
    }
}

/* Write every byte that is due. Returns SMPDFU_ECLOSED if the sink is gone. */
static int sdir_deliver(sdir_t *d, uint64_t now)
{
    while (d->count && d->q[d->head].due <= now && !d->blocked) {
        sbyte_t *e = &d->q[d->head];
        if (e->drop) {
            sdir_trace(d, e, LK_NEVER);
            d->head = (d->head + 1) % SQ_CAP;
            d->count--;
            continue;
        }
        /* A run of due, delivered bytes, written at once. */
        uint8_t buf[IO_CHUNK];
        size_t n = 0;
        while (n < d->count && n < sizeof(buf)) {
            const sbyte_t *x = &d->q[(d->head + n) % SQ_CAP];
            if (x->drop || x->due > now) {
                break;
            }
            buf[n++] = x->b;
        }
        ssize_t w = write(d->out_fd, buf, n);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                d->blocked = errno == EAGAIN;
                return 0;
            }
            return SMPDFU_ECLOSED;
        }
        /* Taken after the write returned: the trace's "out" is never before
         * the bytes really went out. */
        uint64_t out = d->trace ? smpdfu_linkemu_now_ns() : now;
        for (ssize_t i = 0; i < w; i++) {
            const sbyte_t *x = &d->q[d->head];
            sdir_trace(d, x, out);
            if (x->flip) {
                d->st->flipped++;
            }
            if (x->nl) {
                d->st->units_out++; /* a line is carried when its \n is */
            }
            d->head = (d->head + 1) % SQ_CAP;
            d->count--;
        }
        d->st->bytes_out += (uint64_t)w;
        if ((size_t)w < n) {
            d->blocked = true;
            return 0;
        }
    }
    return 0;
}

static uint64_t sdir_next(const sdir_t *d)
{
    return (d->count && !d->blocked) ? d->q[d->head].due : LK_NEVER;
}

typedef struct {
    const smpdfu_linkemu_cfg_t *cfg;
    smpdfu_posix_pty_t client, target;
    int target_fd;      /* target.master, or the opened cfg->target_pty */
    smpdfu_linkemu_stats_t st[2];
    sdir_t dir[2];
} semu_t;

static void serial_close(void *ctx)
{
    semu_t *e = ctx;
    for (int d = 0; d < 2; d++) {
        free(e->dir[d].q);
    }
    if (e->cfg->target_pty && e->target_fd >= 0) {
        close(e->target_fd);
    }
    smpdfu_posix_pty_close(&e->target);
    smpdfu_posix_pty_close(&e->client);
    free(e);
}

static void serial_announce(void *ctx, FILE *out)
{
    const semu_t *e = ctx;
    fprintf(out, "client: %s\n", e->client.path);
    fprintf(out, "target: %s\n", e->cfg->target_pty ? e->cfg->target_pty : e->target.path);
}

static void serial_start(void *ctx, uint64_t t0)
{
    semu_t *e = ctx;
    for (int d = 0; d < 2; d++) {
        e->dir[d].t0 = t0;
    }
}

static int serial_due(void *ctx, uint64_t now)
{
    semu_t *e = ctx;
    int rc = 0;
    for (int d = 0; d < 2 && !rc; d++) {
        rc = sdir_deliver(&e->dir[d], now);
    }
    return rc;
}

static uint64_t serial_next(const void *ctx)
{
    const semu_t *e = ctx;
    uint64_t next = sdir_next(&e->dir[0]);
    if (sdir_next(&e->dir[1]) < next) {
        next = sdir_next(&e->dir[1]);
    }
    return next;
}

/* p[0]: the client pty, p[1]: the target's. Read while the queue has room,
 * wait for POLLOUT on a sink that said EAGAIN. */
static void serial_poll_set(const void *ctx, struct pollfd *p)
{
    const semu_t *e = ctx;
    const int fd[2] = {e->client.master, e->target_fd};
    for (int i = 0; i < 2; i++) {
        /* fd[i] feeds direction i and is the sink of direction 1 - i. */
        short ev = (short)((e->dir[i].count < SQ_CAP ? POLLIN : 0) | (e->dir[1 - i].blocked ? POLLOUT : 0));
        p[i] = (struct pollfd){.fd = fd[i], .events = ev};
    }
}

static int serial_poll_ready(void *ctx, const struct pollfd *p, uint64_t now, FILE *out)
{
    semu_t *e = ctx;
    int rc = 0;
    if (p[0].revents & POLLOUT) {
        e->dir[1].blocked = false;
    }
    if (p[1].revents & POLLOUT) {
        e->dir[0].blocked = false;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        rc = sdir_read(&e->dir[0], now);
    }
    if (!rc && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        rc = sdir_read(&e->dir[1], now);
        if (rc) {
            fprintf(out, "target: closed\n");
        }
    }
    return rc;
}

int smpdfu_linkemu_serial_open(const smpdfu_linkemu_cfg_t *cfg, FILE *out, smpdfu_linkemu_runner_t *r)
{
    semu_t *e = calloc(1, sizeof(*e));
    if (!e) {
        return SMPDFU_ENOSPC;
    }
    e->cfg = cfg;
    e->client = (smpdfu_posix_pty_t){.master = -1, .slave = -1};
    e->target = (smpdfu_posix_pty_t){.master = -1, .slave = -1};
    e->target_fd = -1;
    int rc = smpdfu_posix_pty_open(&e->client);
    if (rc) {
        fprintf(out, "error: cannot create the client pty\n");
        goto fail;
    }
    if (cfg->target_pty) {
        e->target_fd = open(cfg->target_pty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (e->target_fd < 0 || smpdfu_posix_tty_raw(e->target_fd)) {
            fprintf(out, "error: cannot open target pty %s: %s\n", cfg->target_pty, strerror(errno));
            rc = SMPDFU_ENOCONN;
            goto fail;
        }
    } else {
        rc = smpdfu_posix_pty_open(&e->target);
        if (rc) {
            fprintf(out, "error: cannot create the target pty\n");
            goto fail;
        }
        e->target_fd = e->target.master;
    }
    for (int d = 0; d < 2; d++) {
        sdir_t *x = &e->dir[d];
        x->q = calloc(SQ_CAP, sizeof(sbyte_t));
        if (!x->q) {
            rc = SMPDFU_ENOSPC;
            goto fail;
        }
        x->cfg = &cfg->dir[d];
        x->st = &e->st[d];
        x->line_start = true;
        x->latency_ns = smpdfu_linkemu_ms_to_ns(cfg->dir[d].latency_ms);
        x->paced = cfg->baud != 0;
        smpdfu_linkemu_pacer_init(&x->pacer, cfg->baud);
        /* Independent streams per direction: one side's traffic pattern must
         * not change the other's impairments. */
        smpdfu_linkemu_rng_seed(&x->rng, cfg->seed * 2u + (uint64_t)d);
        x->trace = cfg->trace;
        x->name = d == SMPDFU_LINKEMU_C2T ? "c2t" : "t2c";
    }
    e->dir[0].in_fd = e->client.master;
    e->dir[0].out_fd = e->target_fd;
    e->dir[1].in_fd = e->target_fd;
    e->dir[1].out_fd = e->client.master;
    *r = (smpdfu_linkemu_runner_t){.ctx = e, .nfds = 2, .stats = e->st, .announce = serial_announce,
                                   .start = serial_start, .due = serial_due, .next = serial_next,
                                   .poll_set = serial_poll_set, .poll_ready = serial_poll_ready,
                                   .close = serial_close};
    return 0;
fail:
    serial_close(e);
    return rc;
}
