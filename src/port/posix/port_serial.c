/* SPDX-License-Identifier: Apache-2.0 */
/* termios serial port: raw, 8N1, any standard baud. */
#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "smpdfu/posix_serial.h"

struct baud_map {
    unsigned rate;
    speed_t code;
};

static const struct baud_map bauds[] = {
    {50, B50}, {75, B75}, {110, B110}, {134, B134}, {150, B150}, {200, B200}, {300, B300},
    {600, B600}, {1200, B1200}, {1800, B1800}, {2400, B2400}, {4800, B4800}, {9600, B9600},
    {19200, B19200}, {38400, B38400}, {57600, B57600}, {115200, B115200}, {230400, B230400},
#ifdef B460800
    {460800, B460800},
#endif
#ifdef B500000
    {500000, B500000},
#endif
#ifdef B576000
    {576000, B576000},
#endif
#ifdef B921600
    {921600, B921600},
#endif
#ifdef B1000000
    {1000000, B1000000},
#endif
#ifdef B1152000
    {1152000, B1152000},
#endif
#ifdef B1500000
    {1500000, B1500000},
#endif
#ifdef B2000000
    {2000000, B2000000},
#endif
#ifdef B2500000
    {2500000, B2500000},
#endif
#ifdef B3000000
    {3000000, B3000000},
#endif
#ifdef B3500000
    {3500000, B3500000},
#endif
#ifdef B4000000
    {4000000, B4000000},
#endif
};

static const struct baud_map *find_baud(unsigned rate)
{
    for (size_t i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++) {
        if (bauds[i].rate == rate) {
            return &bauds[i];
        }
    }
    return NULL;
}

int smpdfu_posix_serial_baud_ok(unsigned baud)
{
    return find_baud(baud) != NULL;
}

int smpdfu_posix_serial_open(int *fd, const char *path, unsigned baud)
{
    const struct baud_map *b = NULL;
    if (!fd || !path) {
        return SMPDFU_EINVAL;
    }
    if (baud && !(b = find_baud(baud))) {
        return SMPDFU_EINVAL;
    }
    int f = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) {
        return SMPDFU_ENOCONN;
    }
    struct termios t;
    if (tcgetattr(f, &t) != 0) {
        int e = errno;
        close(f);
        errno = e;
        return SMPDFU_ENOCONN;
    }
    cfmakeraw(&t);
    t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CSIZE | CRTSCTS);
    t.c_cflag |= CS8 | CLOCAL | CREAD;
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (b) {
        cfsetispeed(&t, b->code);
        cfsetospeed(&t, b->code);
    }
    if (tcsetattr(f, TCSANOW, &t) != 0) {
        int e = errno;
        close(f);
        errno = e;
        return SMPDFU_ENOCONN;
    }
    /* Stale bytes from before we opened the line are not ours. */
    tcflush(f, TCIOFLUSH);
    *fd = f;
    return 0;
}
