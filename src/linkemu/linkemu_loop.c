/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulator: clock, signals and the mode dispatch. */
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "linkemu_priv.h"

uint64_t smpdfu_linkemu_now_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t smpdfu_linkemu_ms_to_ns(double ms)
{
    return ms > 0.0 ? (uint64_t)(ms * 1e6 + 0.5) : 0;
}

int smpdfu_linkemu_signals_open(void)
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

void smpdfu_linkemu_signals_close(int fd)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    close(fd);
    (void)sigprocmask(SIG_UNBLOCK, &set, NULL);
}

bool smpdfu_linkemu_signals_stop(int fd)
{
    struct signalfd_siginfo si;
    bool stop = false;
    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        stop = true;
    }
    return stop;
}

void smpdfu_linkemu_clock_init(smpdfu_linkemu_clock_t *c, const smpdfu_linkemu_cfg_t *cfg, uint64_t now)
{
    c->start_ns = now;
    c->end_ns = cfg->duration_s > 0 ? now + smpdfu_linkemu_ms_to_ns(cfg->duration_s * 1000.0) : LK_NEVER;
    c->stats_every_ns = (uint64_t)cfg->stats_interval_ms * LK_NS_PER_MS;
    c->next_stats_ns = c->stats_every_ns ? now + c->stats_every_ns : LK_NEVER;
    c->tick_ns = (uint64_t)cfg->tick_us * 1000u;
}

bool smpdfu_linkemu_clock_step(smpdfu_linkemu_clock_t *c, uint64_t now, FILE *out,
                               const smpdfu_linkemu_stats_t st[2])
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

struct timespec smpdfu_linkemu_clock_wait(const smpdfu_linkemu_clock_t *c, uint64_t now, uint64_t next)
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

int smpdfu_linkemu_run(const smpdfu_linkemu_cfg_t *cfg, FILE *out)
{
    if (!cfg || !out) {
        return SMPDFU_EINVAL;
    }
    for (int d = 0; d < 2; d++) {
        const smpdfu_linkemu_dir_t *x = &cfg->dir[d];
        if (x->latency_ms < 0 || x->jitter_ms < 0 || x->rate_Bps < 0 || x->loss < 0 || x->loss > 1 ||
            x->flip < 0 || x->flip > 1 || x->dup < 0 || x->dup > 1 || x->reorder < 0 || x->reorder > 1) {
            return SMPDFU_EINVAL;
        }
    }
    switch (cfg->mode) {
    case SMPDFU_LINKEMU_SERIAL:
        return smpdfu_linkemu_run_serial(cfg, out);
    case SMPDFU_LINKEMU_UDP:
        if (cfg->ble && smpdfu_linkemu_ble_check(&cfg->ble_cfg)) {
            return SMPDFU_EINVAL;
        }
        return smpdfu_linkemu_run_udp(cfg, out);
    default:
        return SMPDFU_EINVAL;
    }
}

void smpdfu_linkemu_trace_time(FILE *f, const char *key, uint64_t t, uint64_t t0)
{
    if (t == LK_NEVER) {
        fprintf(f, ",\"%s\":null", key);
        return;
    }
    /* Nothing the model schedules is before the start; clamp anyway so a
     * reader never sees a negative or wrapped time. */
    uint64_t d = t > t0 ? t - t0 : 0;
    fprintf(f, ",\"%s\":%llu.%03llu", key, (unsigned long long)(d / 1000u), (unsigned long long)(d % 1000u));
}
