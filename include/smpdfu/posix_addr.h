/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — POSIX port: the one parser of network addresses written as text,
 * "HOST:PORT" or "[V6ADDR]:PORT", used by every tool and port that takes one
 * (connection specs, smpdfu-target --udp, the link emulator).
 */
#ifndef SMPDFU_POSIX_ADDR_H
#define SMPDFU_POSIX_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Split the first n bytes of spec into its host and port text: "[V6ADDR]:PORT"
 * (brackets dropped), or "HOST:PORT" split at the last colon (so an
 * unbracketed "::1:1337" is host "::1", port "1337"). Both are copied NUL
 * terminated into the caller's buffers. The host may be empty (":1337") and
 * the port is not checked here: a caller that needs a number checks it
 * (smpdfu_posix_arg_uint), one that resolves lets getaddrinfo() judge.
 * Returns 0, or SMPDFU_EUSAGE when there is no colon, a '[' has no "]:"
 * after it, or a part does not fit its buffer. */
int smpdfu_posix_addr_split(const char *spec, size_t n, char *host, size_t host_cap, char *port,
                            size_t port_cap);

/* Split spec (NUL terminated) and resolve it to one socket address of
 * socktype (SOCK_DGRAM, SOCK_STREAM), port numeric. passive: for bind(), an
 * empty host is the wildcard address and port 0 is any free port. *ss and
 * *len get the first address getaddrinfo() gives. Returns 0, SMPDFU_EUSAGE
 * (malformed: see smpdfu_posix_addr_split), or SMPDFU_ENOCONN when
 * getaddrinfo() failed; then *gai_err (may be NULL) holds its EAI_* code for
 * gai_strerror(). */
int smpdfu_posix_addr_resolve(const char *spec, int socktype, bool passive,
                              struct sockaddr_storage *ss, socklen_t *len, int *gai_err);

/* True when the address stays on this machine: 127.0.0.0/8, ::1 and
 * ::ffff:127.0.0.0/104. The wildcard (0.0.0.0, ::) is not loopback: a socket
 * bound there is reachable from the network. */
bool smpdfu_posix_addr_is_loopback(const struct sockaddr_storage *ss);

/* Write the numeric form back as text, "127.0.0.1:1337" or "[::1]:1337", into
 * buf (cap bytes, NUL terminated). Returns 0, or SMPDFU_EINVAL when the
 * address cannot be worded or does not fit. */
int smpdfu_posix_addr_format(const struct sockaddr_storage *ss, socklen_t len, char *buf,
                             size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_ADDR_H */
