/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — POSIX port: serial lines (termios). Raw mode, 8N1, no flow
 * control, any standard baud rate. The framing (console or raw UART) is the
 * link's business, not the port's.
 */
#ifndef SMPDFU_POSIX_SERIAL_H
#define SMPDFU_POSIX_SERIAL_H

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Open a tty (or pty) and configure it: raw, 8N1, no flow control, the
 * given baud (0 = leave the speed alone, e.g. for a pty). *fd gets a
 * non-blocking descriptor. Returns 0, SMPDFU_EINVAL (baud not a standard
 * rate), SMPDFU_ENOCONN (cannot open or not a tty; errno tells why). */
int smpdfu_posix_serial_open(int *fd, const char *path, unsigned baud);

/* True when baud is a rate termios knows (50 .. 4000000). */
int smpdfu_posix_serial_baud_ok(unsigned baud);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_SERIAL_H */
