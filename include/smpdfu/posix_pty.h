/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — POSIX port: the one pty creator. A program that plays a device's
 * UART (smpdfu-target, the link emulator) makes a pty, prints its path, and
 * reads and writes the master while a client opens the path as a serial line.
 */
#ifndef SMPDFU_POSIX_PTY_H
#define SMPDFU_POSIX_PTY_H

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int master;     /* our end: non-blocking, close-on-exec; -1 when closed */
    int slave;      /* held open (raw) so the master never sees a hang-up while no client
                     * has the path open, and our own output is never echoed back */
    char path[128]; /* the slave's path (/dev/pts/N), for the client */
} smpdfu_posix_pty_t;

/* Create a pty: master non-blocking, slave opened by us in raw mode
 * (smpdfu_posix_tty_raw). On failure everything is closed again,
 * p->master == p->slave == -1, errno tells why, and p->path is empty when the
 * pty itself could not be made (else it names the slave that could not be
 * opened). Returns 0 or SMPDFU_ENOCONN. Free with smpdfu_posix_pty_close. */
int smpdfu_posix_pty_open(smpdfu_posix_pty_t *p);

/* Close both ends (either may be -1). Safe to call twice. */
void smpdfu_posix_pty_close(smpdfu_posix_pty_t *p);

/* Put a terminal in raw mode (cfmakeraw: no echo, no line editing, no
 * translation of bytes). Returns 0 or SMPDFU_ENOCONN (not a terminal). */
int smpdfu_posix_tty_raw(int fd);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_PTY_H */
