/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — POSIX port: a serial line carried over TCP (QEMU -serial tcp:,
 * Renode's socket terminal, ser2net). The byte stream is framed like a
 * UART: console framing or raw UART, chosen by the link.
 */
#ifndef SMPDFU_POSIX_TCP_H
#define SMPDFU_POSIX_TCP_H

#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Connect to host:port (IPv4 or IPv6, names resolved) within timeout_ms
 * (0 = SMPDFU_DEFAULT_CONNECT_TIMEOUT_MS, 5 s). *fd gets a non-blocking socket with TCP_NODELAY. Returns 0 or
 * SMPDFU_ENOCONN (resolution failed, refused, timed out); then *gai_err (may
 * be NULL) holds getaddrinfo()'s EAI_* code if the name did not resolve, else
 * 0 and errno tells why. */
int smpdfu_posix_tcp_connect(int *fd, const char *host, const char *port, uint32_t timeout_ms,
                             int *gai_err);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_TCP_H */
