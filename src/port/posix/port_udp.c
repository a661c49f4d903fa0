/* SMP over UDP: a connected datagram socket, IPv4 or IPv6. */
#include <stddef.h>
#include <sys/socket.h>

#include "net_priv.h"
#include "smpdfu/posix_udp.h"

static int udp_connect(int f, const struct addrinfo *a, void *ctx)
{
    (void)ctx;
    /* Connected: the kernel filters datagrams from other senders and
     * reports ICMP unreachable as ECONNREFUSED. */
    return connect(f, a->ai_addr, a->ai_addrlen) == 0;
}

int smpdfu_posix_udp_open(int *fd, const char *host, const char *port, int *gai_err)
{
    return smpdfu_posix_net_connect(fd, host, port, SOCK_DGRAM, udp_connect, NULL, gai_err);
}
