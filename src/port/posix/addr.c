/* SPDX-License-Identifier: Apache-2.0 */
/* HOST:PORT and [V6ADDR]:PORT as text: split, resolve, judge, print
 * (posix_addr.h). */
#include "smpdfu/posix_addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static int put(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) {
        return SMPDFU_EUSAGE;
    }
    memcpy(dst, src, n);
    dst[n] = 0;
    return 0;
}

int smpdfu_posix_addr_split(const char *spec, size_t n, char *host, size_t host_cap, char *port,
                            size_t port_cap)
{
    const char *h = spec;
    const char *colon = NULL;
    size_t hl;
    if (!spec || !host || !port) {
        return SMPDFU_EUSAGE;
    }
    if (n > 0 && spec[0] == '[') {
        const char *rb = memchr(spec, ']', n);
        if (!rb || (size_t)(rb - spec) + 1 >= n || rb[1] != ':') {
            return SMPDFU_EUSAGE;
        }
        h = spec + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        /* The last colon: an unbracketed IPv6 address keeps its own. */
        for (size_t i = 0; i < n; i++) {
            if (spec[i] == ':') {
                colon = spec + i;
            }
        }
        if (!colon) {
            return SMPDFU_EUSAGE;
        }
        hl = (size_t)(colon - spec);
    }
    size_t pl = n - (size_t)(colon + 1 - spec);
    if (put(host, host_cap, h, hl) || put(port, port_cap, colon + 1, pl)) {
        return SMPDFU_EUSAGE;
    }
    return 0;
}

int smpdfu_posix_addr_resolve(const char *spec, int socktype, bool passive,
                              struct sockaddr_storage *ss, socklen_t *len, int *gai_err)
{
    char host[256], port[32];
    struct addrinfo hints, *ai = NULL;
    if (gai_err) {
        *gai_err = 0;
    }
    if (!spec || !ss || !len ||
        smpdfu_posix_addr_split(spec, strlen(spec), host, sizeof(host), port, sizeof(port))) {
        return SMPDFU_EUSAGE;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    int g = getaddrinfo(host[0] || !passive ? host : NULL, port, &hints, &ai);
    if (g != 0 || !ai) {
        if (gai_err) {
            *gai_err = g != 0 ? g : EAI_FAIL;
        }
        if (ai) {
            freeaddrinfo(ai);
        }
        return SMPDFU_ENOCONN;
    }
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

bool smpdfu_posix_addr_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

int smpdfu_posix_addr_format(const struct sockaddr_storage *ss, socklen_t len, char *buf,
                             size_t cap)
{
    char host[INET6_ADDRSTRLEN], port[16];
    if (getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        return SMPDFU_EINVAL;
    }
    int n = snprintf(buf, cap, ss->ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
    return n < 0 || (size_t)n >= cap ? SMPDFU_EINVAL : 0;
}
