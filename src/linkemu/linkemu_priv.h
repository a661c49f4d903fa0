/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulator internals shared by the serial and udp loops. */
#ifndef SMPDFU_LINKEMU_PRIV_H
#define SMPDFU_LINKEMU_PRIV_H

#include <stdint.h>
#include <stdio.h>

#include "smpdfu/linkemu.h"

#define LK_NS_PER_MS 1000000ull
#define LK_NEVER UINT64_MAX

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t smpdfu_linkemu_now_ns(void);

/* Milliseconds (double, >= 0) to nanoseconds. */
uint64_t smpdfu_linkemu_ms_to_ns(double ms);

/* Blocks SIGINT/SIGTERM and returns a signalfd that reports them
 * (SMPDFU_EIO if it cannot). The caller closes it; smpdfu_linkemu_signals_close
 * restores the mask. */
int smpdfu_linkemu_signals_open(void);
void smpdfu_linkemu_signals_close(int fd);
/* Drain the signalfd: true when a stop signal was read. */
bool smpdfu_linkemu_signals_stop(int fd);

/* Common run-loop timing: stats, duration, tick batching. */
typedef struct {
    uint64_t start_ns;
    uint64_t end_ns;        /* LK_NEVER without a duration */
    uint64_t stats_every_ns;/* 0: none */
    uint64_t next_stats_ns;
    uint64_t tick_ns;
} smpdfu_linkemu_clock_t;

void smpdfu_linkemu_clock_init(smpdfu_linkemu_clock_t *c, const smpdfu_linkemu_cfg_t *cfg, uint64_t now);
/* Periodic stats; true when the duration is over. */
bool smpdfu_linkemu_clock_step(smpdfu_linkemu_clock_t *c, uint64_t now, FILE *out,
                               const smpdfu_linkemu_stats_t st[2]);
/* Time to sleep in ppoll for a next event at `next` (LK_NEVER: none): at least
 * one tick, so bursts of due items are handled in batches. */
struct timespec smpdfu_linkemu_clock_wait(const smpdfu_linkemu_clock_t *c, uint64_t now, uint64_t next);

/* Trace output (docs/linkemu.md, "Trace"): `,"key":T` with T = t - t0 in
 * microseconds with three decimals (so nanoseconds are kept exactly), or
 * `,"key":null` for LK_NEVER. */
void smpdfu_linkemu_trace_time(FILE *f, const char *key, uint64_t t, uint64_t t0);

int smpdfu_linkemu_run_serial(const smpdfu_linkemu_cfg_t *cfg, FILE *out);
int smpdfu_linkemu_run_udp(const smpdfu_linkemu_cfg_t *cfg, FILE *out);

#endif /* SMPDFU_LINKEMU_PRIV_H */
