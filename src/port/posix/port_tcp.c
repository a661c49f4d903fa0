/* SPDX-License-Identifier: Apache-2.0 */
/* A serial line over TCP: connect with a timeout, non-blocking afterwards. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "net_priv.h"
#include "smpdfu/posix_tcp.h"

static int tcp_connect(int f, const struct addrinfo *a, void *ctx)
{
    uint32_t timeout_ms = *(const uint32_t *)ctx;
    int ok = connect(f, a->ai_addr, a->ai_addrlen) == 0;
    if (!ok && errno == EINPROGRESS) {
        struct pollfd p = {.fd = f, .events = POLLOUT};
        int err = 0;
        socklen_t el = sizeof(err);
        if (poll(&p, 1, timeout_ms ? (int)timeout_ms : (int)SMPDFU_DEFAULT_CONNECT_TIMEOUT_MS) == 1 &&
            getsockopt(f, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0) {
            ok = 1;
        } else if (err) {
            errno = err;
        } else {
            errno = ETIMEDOUT;
        }
    }
    if (ok) {
        int one = 1;
        setsockopt(f, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return ok;
}

int smpdfu_posix_tcp_connect(int *fd, const char *host, const char *port, uint32_t timeout_ms,
                             int *gai_err)
{
    return smpdfu_posix_net_connect(fd, host, port, SOCK_STREAM, tcp_connect, &timeout_ms, gai_err);
}
