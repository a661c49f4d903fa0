/* SPDX-License-Identifier: Apache-2.0 */
/* Monotonic clock for engines that only know time through tick(now_ms). */
#include <time.h>

#include "smpdfu/posix.h"

uint64_t smpdfu_posix_now_ms(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
