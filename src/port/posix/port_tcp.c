/* A serial line over TCP: connect with a timeout, non-blocking afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smpdfu/posix_tcp.h"

int smpdfu_posix_tcp_connect(int *fd, const char *host, const char *port, uint32_t timeout_ms)
{
    if (!fd || !host || !port) {
        return SMPDFU_EINVAL;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0) {
        return SMPDFU_ENOCONN;
    }
    int rc = SMPDFU_ENOCONN;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int f = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (f < 0) {
            continue;
        }
        int ok = connect(f, a->ai_addr, a->ai_addrlen) == 0;
        if (!ok && errno == EINPROGRESS) {
            struct pollfd p = {.fd = f, .events = POLLOUT};
            int err = 0;
            socklen_t el = sizeof(err);
            if (poll(&p, 1, timeout_ms ? (int)timeout_ms : 5000) == 1 &&
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
            *fd = f;
            rc = 0;
            break;
        }
        int e = errno;
        close(f);
        errno = e;
    }
    freeaddrinfo(res);
    return rc;
}
