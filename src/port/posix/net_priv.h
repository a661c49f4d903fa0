/* Internal to src/port/posix: name resolution shared by the TCP and UDP ports. */
#ifndef SMPDFU_POSIX_NET_PRIV_H
#define SMPDFU_POSIX_NET_PRIV_H

#include <netdb.h>

/* Resolve host:port (IPv4 or IPv6) for socktype and try each address in
 * turn: a non-blocking, close-on-exec socket handed to try_connect(), which
 * returns 1 when f is connected (the socket is then the caller's, in *fd) or
 * 0 to close it (errno kept) and try the next address.
 * Returns 0, SMPDFU_EINVAL, or SMPDFU_ENOCONN (nothing resolved or connected).
 * *gai_err (when not NULL) gets getaddrinfo()'s EAI_* code when the name did
 * not resolve, else 0: errno says nothing then. */
int smpdfu_posix_net_connect(int *fd, const char *host, const char *port, int socktype,
                             int (*try_connect)(int f, const struct addrinfo *a, void *ctx),
                             void *ctx, int *gai_err);

#endif /* SMPDFU_POSIX_NET_PRIV_H */
