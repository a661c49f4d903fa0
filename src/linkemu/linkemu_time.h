/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulator: the clock every part reads and how its times are written to
 * the trace. A leaf: it calls nothing else of the emulator. */
#ifndef SMPDFU_LINKEMU_TIME_H
#define SMPDFU_LINKEMU_TIME_H

#include <stdint.h>
#include <stdio.h>

#define LK_NS_PER_MS 1000000ull
#define LK_NEVER UINT64_MAX

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t smpdfu_linkemu_now_ns(void);

/* Milliseconds (double, >= 0) to nanoseconds. */
uint64_t smpdfu_linkemu_ms_to_ns(double ms);

/* Trace output (docs/linkemu.md, "Trace"): `,"key":T` with T = t - t0 in
 * microseconds with three decimals (so nanoseconds are kept exactly), or
 * `,"key":null` for LK_NEVER. */
void smpdfu_linkemu_trace_time(FILE *f, const char *key, uint64_t t, uint64_t t0);

#endif /* SMPDFU_LINKEMU_TIME_H */
