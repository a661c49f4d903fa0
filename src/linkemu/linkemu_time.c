/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulator: monotonic clock and trace times. */
#include "linkemu_time.h"

#include <time.h>

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
