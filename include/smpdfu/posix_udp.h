/*
 * smpdfu — POSIX port: SMP over UDP (protocol.md §5.2), IPv4 and IPv6. One
 * SMP packet per datagram; the client owns retransmission.
 */
#ifndef SMPDFU_POSIX_UDP_H
#define SMPDFU_POSIX_UDP_H

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A connected, non-blocking UDP socket to host:port (first address that
 * works; "::1", "127.0.0.1" or a name). Returns 0 or SMPDFU_ENOCONN; then
 * *gai_err (may be NULL) holds getaddrinfo()'s EAI_* code if the name did not
 * resolve (gai_strerror() words it), else 0 and errno tells why. */
int smpdfu_posix_udp_open(int *fd, const char *host, const char *port, int *gai_err);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_UDP_H */
