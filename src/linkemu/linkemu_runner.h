/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulator: the contract between the event loop and a mode (serial,
 * udp). A mode is a passive object: the loop calls it through these
 * functions, and a mode never calls the loop (docs/linkemu.md, "Code"). */
#ifndef SMPDFU_LINKEMU_RUNNER_H
#define SMPDFU_LINKEMU_RUNNER_H

#include <poll.h>
#include <stdint.h>
#include <stdio.h>

#include "smpdfu/linkemu.h"

/* Most descriptors a mode waits on (the loop adds its signalfd). */
#define LK_RUNNER_FDS_MAX 4

typedef struct {
    void *ctx;  /* the mode's state, owned by the mode until close */
    size_t nfds; /* descriptors poll_set fills, <= LK_RUNNER_FDS_MAX */
    /* Counters of both directions (index SMPDFU_LINKEMU_C2T / _T2C), read by
     * the loop for the periodic and final stats lines. */
    const smpdfu_linkemu_stats_t *stats;
    /* Print what the peers need before "ready" (pty paths, addresses). */
    void (*announce)(void *ctx, FILE *out);
    /* The run starts at t0: time zero of the trace and of the BLE event grid. */
    void (*start)(void *ctx, uint64_t t0);
    /* Carry everything due at now. 0, or a negative code that ends the run. */
    int (*due)(void *ctx, uint64_t now);
    /* When the next thing is due (LK_NEVER: nothing queued). */
    uint64_t (*next)(const void *ctx);
    /* Fill p[0 .. nfds) with the descriptors and the events to wait for now. */
    void (*poll_set)(const void *ctx, struct pollfd *p);
    /* ppoll reported p[0 .. nfds) at now: read, unblock. Messages to out.
     * 0, or a negative code that ends the run. */
    int (*poll_ready)(void *ctx, const struct pollfd *p, uint64_t now, FILE *out);
    /* Release everything (descriptors, queues, ctx). Safe after a failed open. */
    void (*close)(void *ctx);
} smpdfu_linkemu_runner_t;

#endif /* SMPDFU_LINKEMU_RUNNER_H */
