/* SPDX-License-Identifier: Apache-2.0 */
/* The answering side on a port this program opens (posix_loop.h,
 * smpdfu_posix_port_serve): open, read, reopen after a hang-up. */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "smpdfu/posix_loop.h"

#define RETRY_MS 100u
#define STOP_CHECK_MS 200

static void pause_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int smpdfu_posix_port_serve(smpdfu_posix_port_t *p, const smpdfu_posix_peer_t *peer,
                            volatile sig_atomic_t *stop)
{
    int status = 0;
    while (!*stop) {
        if (p->fd < 0) {
            if (smpdfu_posix_port_open(p, SMPDFU_DEFAULT_TIMEOUT_MS) != 0) {
                /* The peer is not there (yet, or again): try again. */
                pause_ms(RETRY_MS);
                continue;
            }
            p->closed = false;
            if (peer->opened) {
                peer->opened(peer->ctx, p);
            }
        }
        /* A bounded wait: the stop flag is seen without a signal mask. */
        struct pollfd pf = {p->fd, POLLIN, 0};
        int pr = poll(&pf, 1, STOP_CHECK_MS);
        if (pr < 0) {
            if (errno == EINTR) {
                continue;
            }
            status = SMPDFU_EIO;
            break;
        }
        if (pr == 0) {
            continue;
        }
        uint8_t in[512];
        ssize_t r = read(p->fd, in, sizeof(in));
        if (r <= 0) {
            if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
                continue;
            }
            /* EOF or hang-up: the peer went away; wait for it again. */
            if (peer->closed) {
                peer->closed(peer->ctx, p);
            }
            smpdfu_posix_port_close(p);
            p->fd = -1;
            pause_ms(RETRY_MS);
            continue;
        }
        p->rx_bytes += (uint32_t)r;
        if (peer->received) {
            peer->received(peer->ctx, p, in, (size_t)r);
        }
    }
    smpdfu_posix_port_close(p);
    return status;
}
