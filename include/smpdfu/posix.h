/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — POSIX port: the only layer with system calls. Each piece is
 * documented where it is declared below; modules add their sections.
 */
#ifndef SMPDFU_POSIX_H
#define SMPDFU_POSIX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Monotonic milliseconds (CLOCK_MONOTONIC); never goes backwards. */
uint64_t smpdfu_posix_now_ms(void);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_H */
