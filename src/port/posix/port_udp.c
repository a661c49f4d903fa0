/* SMP over UDP: a connected datagram socket, IPv4 or IPv6. */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smpdfu/posix_udp.h"

int smpdfu_posix_udp_open(int *fd, const char *host, const char *port)
{
    if (!fd || !host || !port) {
        return SMPDFU_EINVAL;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, port, &hints, &res) != 0) {
        return SMPDFU_ENOCONN;
    }
    int rc = SMPDFU_ENOCONN;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int f = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (f < 0) {
            continue;
        }
        /* Connected: the kernel filters datagrams from other senders and
         * reports ICMP unreachable as ECONNREFUSED. */
        if (connect(f, a->ai_addr, a->ai_addrlen) == 0) {
            *fd = f;
            rc = 0;
            break;
        }
        close(f);
    }
    freeaddrinfo(res);
    return rc;
}
