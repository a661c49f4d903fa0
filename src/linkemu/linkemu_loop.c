/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulator: the event loop (signals, stats, duration, tick batching,
 * ppoll) that drives one runner. */
#include "linkemu_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "linkemu_time.h"

/* Blocks SIGINT/SIGTERM and returns a signalfd that reports them
 * (SMPDFU_EIO if it cannot). signals_close restores the mask. */
static int signals_open(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, NULL)) {
        return SMPDFU_EIO;
    }
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        (void)sigprocmask(SIG_UNBLOCK, &set, NULL);
        return SMPDFU_EIO;
    }
    return fd;
}

static void signals_close(int fd)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    close(fd);
    (void)sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Drain the signalfd: true when a stop signal was read. */
static bool signals_stop(int fd)
{
    struct signalfd_siginfo si;
    bool stop = false;
    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        stop = true;
    }
    return stop;
}

/* Run-loop timing: stats, duration, tick batching. */
typedef struct {
    uint64_t start_ns;
    uint64_t end_ns;        /* LK_NEVER without a duration */
    uint64_t stats_every_ns;/* 0: none */
    uint64_t next_stats_ns;
    uint64_t tick_ns;
} lclock_t;

static void clock_init(lclock_t *c, const smpdfu_linkemu_cfg_t *cfg, uint64_t now)
{
    c->start_ns = now;
    c->end_ns = cfg->duration_s > 0 ? now + smpdfu_linkemu_ms_to_ns(cfg->duration_s * 1000.0) : LK_NEVER;
    c->stats_every_ns = (uint64_t)cfg->stats_interval_ms * LK_NS_PER_MS;
    c->next_stats_ns = c->stats_every_ns ? now + c->stats_every_ns : LK_NEVER;
    c->tick_ns = (uint64_t)cfg->tick_us * 1000u;
}

/* Periodic stats; true when the duration is over. */
static bool clock_step(lclock_t *c, uint64_t now, FILE *out, const smpdfu_linkemu_stats_t st[2])
{
    if (now >= c->next_stats_ns) {
        smpdfu_linkemu_stats_print(out, "interval", st);
        /* Catch up without printing a burst after a stall. */
        while (c->next_stats_ns <= now) {
            c->next_stats_ns += c->stats_every_ns;
        }
    }
    return now >= c->end_ns;
}

/* Time to sleep in ppoll for a next event at `next` (LK_NEVER: none): at least
 * one tick, so bursts of due items are handled in batches. */
static struct timespec clock_wait(const lclock_t *c, uint64_t now, uint64_t next)
{
    if (c->next_stats_ns < next) {
        next = c->next_stats_ns;
    }
    if (c->end_ns < next) {
        next = c->end_ns;
    }
    uint64_t wait = next > now ? next - now : 0;
    if (wait < c->tick_ns) {
        wait = c->tick_ns;
    }
    if (wait > 1000000000ull) {
        wait = 1000000000ull; /* wake once a second anyway; costs nothing */
    }
    struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ull), .tv_nsec = (long)(wait % 1000000000ull)};
    return ts;
}

int smpdfu_linkemu_loop(const smpdfu_linkemu_cfg_t *cfg, const smpdfu_linkemu_runner_t *r, FILE *out)
{
    if (r->nfds > LK_RUNNER_FDS_MAX) {
        return SMPDFU_EINVAL;
    }
    int sfd = signals_open();
    if (sfd < 0) {
        return sfd;
    }
    r->announce(r->ctx, out);
    fprintf(out, "ready\n");
    fflush(out);

    int rc = 0;
    lclock_t clk;
    clock_init(&clk, cfg, smpdfu_linkemu_now_ns());
    r->start(r->ctx, clk.start_ns);
    for (;;) {
        uint64_t now = smpdfu_linkemu_now_ns();
        rc = r->due(r->ctx, now);
        if (rc || clock_step(&clk, now, out, r->stats)) {
            break;
        }
        struct pollfd p[LK_RUNNER_FDS_MAX + 1];
        r->poll_set(r->ctx, p);
        p[r->nfds] = (struct pollfd){.fd = sfd, .events = POLLIN};
        struct timespec ts = clock_wait(&clk, now, r->next(r->ctx));
        int n = ppoll(p, r->nfds + 1, &ts, NULL);
        if (n < 0 && errno != EINTR) {
            rc = SMPDFU_EIO;
            break;
        }
        if (n <= 0) {
            continue;
        }
        if (p[r->nfds].revents && signals_stop(sfd)) {
            break;
        }
        rc = r->poll_ready(r->ctx, p, smpdfu_linkemu_now_ns(), out);
        if (rc) {
            break;
        }
    }
    smpdfu_linkemu_stats_print(out, "final", r->stats);
    if (cfg->trace) {
        fflush(cfg->trace);
    }
    signals_close(sfd);
    return rc;
}
