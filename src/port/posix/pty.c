/* SPDX-License-Identifier: Apache-2.0 */
/* A pty that plays a device's UART (posix_pty.h). */
#include "smpdfu/posix_pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

int smpdfu_posix_tty_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t)) {
        return SMPDFU_ENOCONN;
    }
    cfmakeraw(&t);
    return tcsetattr(fd, TCSANOW, &t) ? SMPDFU_ENOCONN : 0;
}

int smpdfu_posix_pty_open(smpdfu_posix_pty_t *p)
{
    p->path[0] = 0;
    p->slave = -1;
    p->master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (p->master < 0) {
        return SMPDFU_ENOCONN;
    }
    if (grantpt(p->master) || unlockpt(p->master) || ptsname_r(p->master, p->path, sizeof(p->path))) {
        int e = errno;
        p->path[0] = 0;
        smpdfu_posix_pty_close(p);
        errno = e;
        return SMPDFU_ENOCONN;
    }
    p->slave = open(p->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (p->slave < 0 || smpdfu_posix_tty_raw(p->slave)) {
        int e = errno;
        smpdfu_posix_pty_close(p);
        errno = e;
        return SMPDFU_ENOCONN;
    }
    return 0;
}

void smpdfu_posix_pty_close(smpdfu_posix_pty_t *p)
{
    if (p->master >= 0) {
        close(p->master);
    }
    if (p->slave >= 0) {
        close(p->slave);
    }
    p->master = p->slave = -1;
}
