/* SPDX-License-Identifier: Apache-2.0 */
/* Connection specs, the send function and the poll loop that drives the
 * client engine on POSIX. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smpdfu/posix.h"
#include "smpdfu/posix_addr.h"
#include "smpdfu/posix_args.h"
#include "smpdfu/posix_loop.h"
#include "smpdfu/posix_serial.h"
#include "smpdfu/posix_tcp.h"
#include "smpdfu/posix_udp.h"

static int parse_num(const char *s, size_t n, unsigned long max, unsigned long *out)
{
    char tmp[24];
    if (n == 0 || n >= sizeof(tmp)) {
        return SMPDFU_EUSAGE;
    }
    memcpy(tmp, s, n);
    tmp[n] = 0;
    uint64_t v; /* strtoul would take "-1" (wrapped) and " 9600" */
    if (smpdfu_posix_arg_uint(tmp, 0, max, &v)) {
        return SMPDFU_EUSAGE;
    }
    *out = (unsigned long)v;
    return 0;
}

/* "HOST:PORT" or "[V6]:PORT": a host, and a port 1..65535. */
static int parse_hostport(smpdfu_posix_port_t *p, const char *s, size_t n)
{
    char port[24]; /* what parse_num took before it judged the number */
    unsigned long v;
    if (smpdfu_posix_addr_split(s, n, p->host, sizeof(p->host), port, sizeof(port)) ||
        !p->host[0] || parse_num(port, strlen(port), 65535, &v) || v == 0) {
        p->host[0] = 0;
        return SMPDFU_EUSAGE;
    }
    /* v <= 65535 (checked above); the cast tells the compiler so. */
    snprintf(p->port, sizeof(p->port), "%u", (unsigned)(v & 0xffffu));
    return 0;
}

int smpdfu_posix_port_parse(smpdfu_posix_port_t *p, const char *spec)
{
    memset(p, 0, sizeof(*p));
    p->fd = -1;
    if (!spec) {
        return SMPDFU_EUSAGE;
    }
    const char *body;
    if (!strncmp(spec, "serial:", 7)) {
        p->kind = SMPDFU_POSIX_SERIAL;
        p->link.kind = SMPDFU_LINK_SERIAL;
        body = spec + 7;
    } else if (!strncmp(spec, "tcp:", 4)) {
        p->kind = SMPDFU_POSIX_TCP;
        p->link.kind = SMPDFU_LINK_SERIAL;
        body = spec + 4;
    } else if (!strncmp(spec, "udp:", 4)) {
        p->kind = SMPDFU_POSIX_UDP;
        p->link.kind = SMPDFU_LINK_UDP;
        body = spec + 4;
    } else {
        return SMPDFU_EUSAGE;
    }
    const char *comma = strchr(body, ',');
    size_t mainlen = comma ? (size_t)(comma - body) : strlen(body);
    if (p->kind == SMPDFU_POSIX_SERIAL) {
        if (mainlen == 0 || mainlen >= sizeof(p->path)) {
            return SMPDFU_EUSAGE;
        }
        memcpy(p->path, body, mainlen);
        p->path[mainlen] = 0;
        p->baud = 115200;
    } else if (parse_hostport(p, body, mainlen)) {
        return SMPDFU_EUSAGE;
    }
    while (comma) {
        const char *opt = comma + 1;
        comma = strchr(opt, ',');
        size_t n = comma ? (size_t)(comma - opt) : strlen(opt);
        unsigned long v;
        if (n == 3 && !strncmp(opt, "raw", 3) && p->kind != SMPDFU_POSIX_UDP) {
            p->link.kind = SMPDFU_LINK_RAW_UART;
        } else if (n > 5 && !strncmp(opt, "baud=", 5) && p->kind == SMPDFU_POSIX_SERIAL) {
            if (parse_num(opt + 5, n - 5, 4000000, &v) || !smpdfu_posix_serial_baud_ok((unsigned)v)) {
                return SMPDFU_EUSAGE;
            }
            p->baud = (unsigned)v;
        } else if (n > 5 && !strncmp(opt, "line=", 5) && p->kind != SMPDFU_POSIX_UDP) {
            if (parse_num(opt + 5, n - 5, 65535, &v) || v < 7) {
                return SMPDFU_EUSAGE;
            }
            p->link.line_max = v;
        } else if (n > 4 && !strncmp(opt, "mtu=", 4) && p->kind == SMPDFU_POSIX_UDP) {
            if (parse_num(opt + 4, n - 4, 65507, &v) || v < 64) {
                return SMPDFU_EUSAGE;
            }
            p->link.mtu = v;
        } else {
            return SMPDFU_EUSAGE;
        }
    }
    return 0;
}

int smpdfu_posix_port_open(smpdfu_posix_port_t *p, uint32_t timeout_ms)
{
    p->closed = false;
    p->gai_err = 0;
    switch (p->kind) {
    case SMPDFU_POSIX_SERIAL: {
        /* A pty has no baud rate to set; a real UART gets the asked one. */
        int rc = smpdfu_posix_serial_open(&p->fd, p->path, p->baud);
        return rc;
    }
    case SMPDFU_POSIX_TCP:
        return smpdfu_posix_tcp_connect(&p->fd, p->host, p->port, timeout_ms, &p->gai_err);
    case SMPDFU_POSIX_UDP:
        return smpdfu_posix_udp_open(&p->fd, p->host, p->port, &p->gai_err);
    case SMPDFU_POSIX_EXT:
        return 0; /* opened by its own port (smpdfu_bluez_open) */
    }
    return SMPDFU_EINVAL;
}

void smpdfu_posix_port_close(smpdfu_posix_port_t *p)
{
    if (p->kind == SMPDFU_POSIX_EXT) {
        if (p->ext.close) {
            p->ext.close(p->ext.ctx);
        }
        p->ext.close = NULL;
        return;
    }
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
}

void smpdfu_posix_client_cfg(smpdfu_client_cfg_t *cfg, smpdfu_posix_port_t *p,
                             smpdfu_req_t *reqs, size_t nreqs, uint8_t *req_mem,
                             size_t req_mem_len, uint8_t *rx, size_t rx_cap, uint8_t *tx,
                             size_t tx_cap)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->link = p->link;
    cfg->send = smpdfu_posix_port_send;
    cfg->send_ctx = p;
    cfg->reqs = reqs;
    cfg->nreqs = nreqs;
    cfg->req_mem = req_mem;
    cfg->req_mem_len = req_mem_len;
    cfg->rx_buf = rx;
    cfg->rx_cap = rx_cap;
    cfg->tx_buf = tx;
    cfg->tx_cap = tx_cap;
}

static bool gone(int e)
{
    return e == EIO || e == EPIPE || e == ECONNRESET || e == ENXIO || e == ENOTCONN || e == EBADF;
}

int smpdfu_posix_port_send(void *ctx, const uint8_t *data, size_t len)
{
    smpdfu_posix_port_t *p = ctx;
    if (p->kind == SMPDFU_POSIX_EXT) {
        if (p->closed) {
            return SMPDFU_EIO; /* a lost frame: the loop reconnects, the timeout resends */
        }
        int rc = p->ext.send(p->ext.ctx, data, len);
        if (rc == SMPDFU_ECLOSED) {
            p->closed = true;
            return p->ext.reconnect && p->reconnect_ms ? SMPDFU_EIO : SMPDFU_ECLOSED;
        }
        if (rc == 0) {
            p->tx_bytes += (uint32_t)len;
        }
        return rc;
    }
    if (p->fd < 0 || p->closed) {
        return SMPDFU_ECLOSED;
    }
    if (p->kind == SMPDFU_POSIX_UDP) {
        ssize_t n = send(p->fd, data, len, 0);
        if (n < 0) {
            return SMPDFU_EIO; /* refused while the device restarts: a lost frame */
        }
        p->tx_bytes += (uint32_t)n;
        return 0;
    }
    int rc = smpdfu_posix_port_write(p, data, len, 2000);
    if (rc == 0) {
        p->tx_bytes += (uint32_t)len;
    }
    return rc; /* SMPDFU_EIO after 2 s stuck: the timeout retransmits */
}

int smpdfu_posix_port_write(smpdfu_posix_port_t *p, const uint8_t *data, size_t len, int stall_ms)
{
    if (p->fd < 0 || p->closed) {
        return SMPDFU_ECLOSED;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = p->kind == SMPDFU_POSIX_TCP
                        ? send(p->fd, data + done, len - done, MSG_NOSIGNAL)
                        : write(p->fd, data + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = {.fd = p->fd, .events = POLLOUT};
            /* stall_ms < 0: wait as long as it takes, a second at a time */
            if (poll(&pf, 1, stall_ms < 0 ? 1000 : stall_ms) <= 0 && stall_ms >= 0) {
                return SMPDFU_EIO;
            }
            continue;
        }
        if (n < 0 && gone(errno)) {
            p->closed = true;
            return SMPDFU_ECLOSED;
        }
        return SMPDFU_EIO;
    }
    return 0;
}

/* Read what is there and feed it. Returns 0 or SMPDFU_ECLOSED. */
static int pump(smpdfu_posix_port_t *p, smpdfu_client_t *c)
{
    static uint8_t buf[65536];
    for (int i = 0; i < 64; i++) {
        ssize_t n;
        if (p->kind == SMPDFU_POSIX_UDP) {
            n = recv(p->fd, buf, sizeof(buf), 0);
        } else {
            n = read(p->fd, buf, sizeof(buf));
        }
        if (n > 0) {
            p->rx_bytes += (uint32_t)n;
            smpdfu_client_feed_at(c, buf, (size_t)n, smpdfu_posix_now_ms());
            if (p->kind == SMPDFU_POSIX_UDP) {
                continue; /* one datagram per call */
            }
            continue;
        }
        if (n == 0) {
            if (p->kind == SMPDFU_POSIX_TCP) {
                p->closed = true;
                return SMPDFU_ECLOSED;
            }
            return 0;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }
        if (p->kind == SMPDFU_POSIX_UDP) {
            return 0; /* ICMP unreachable: the device is (re)starting */
        }
        if (gone(errno)) {
            p->closed = true;
            return SMPDFU_ECLOSED;
        }
        return 0;
    }
    return 0;
}

#define EXT_MAX_FDS 8

static int loop_ext(smpdfu_posix_port_t *p, smpdfu_client_t *c, bool (*done)(void *arg), void *arg,
                    uint32_t max_ms)
{
    uint64_t start = smpdfu_posix_now_ms();
    smpdfu_client_tick(c, start);
    while (!done(arg)) {
        if (p->closed) {
            if (!p->ext.reconnect || !p->reconnect_ms) {
                return SMPDFU_ECLOSED;
            }
            /* The device dropped the link (a reset, out of range): connect again and let the
             * timeouts resend what was in flight. */
            int rc = p->ext.reconnect(p->ext.ctx, p->reconnect_ms);
            if (rc) {
                return SMPDFU_ECLOSED;
            }
            p->closed = false;
            p->reconnects++;
            smpdfu_client_reset_link(c);
            smpdfu_client_tick(c, smpdfu_posix_now_ms());
            continue;
        }
        uint64_t now = smpdfu_posix_now_ms();
        if (max_ms && now - start >= max_ms) {
            return SMPDFU_ETIMEOUT;
        }
        uint32_t t = smpdfu_client_next_timeout(c);
        uint64_t wake = now + (t == UINT32_MAX ? 1000 : t);
        if (max_ms && wake > start + max_ms) {
            wake = start + max_ms;
        }
        struct pollfd pf[EXT_MAX_FDS];
        int n = p->ext.fds(p->ext.ctx, pf, EXT_MAX_FDS, &wake);
        now = smpdfu_posix_now_ms();
        int r = poll(pf, (nfds_t)n, wake > now ? (int)(wake - now) : 0);
        if (r < 0 && errno != EINTR) {
            return SMPDFU_EIO;
        }
        if (r < 0) {
            n = 0;
        }
        if (p->ext.ready(p->ext.ctx, pf, n, c) == SMPDFU_ECLOSED) {
            p->closed = true;
        }
        smpdfu_client_tick(c, smpdfu_posix_now_ms());
    }
    return 0;
}

int smpdfu_posix_loop_run(smpdfu_posix_port_t *p, smpdfu_client_t *c, bool (*done)(void *arg),
                          void *arg, uint32_t max_ms)
{
    if (p->kind == SMPDFU_POSIX_EXT) {
        return loop_ext(p, c, done, arg, max_ms);
    }
    uint64_t start = smpdfu_posix_now_ms();
    smpdfu_client_tick(c, start);
    while (!done(arg)) {
        if (p->closed || p->fd < 0) {
            return SMPDFU_ECLOSED;
        }
        uint64_t now = smpdfu_posix_now_ms();
        if (max_ms && now - start >= max_ms) {
            return SMPDFU_ETIMEOUT;
        }
        uint32_t t = smpdfu_client_next_timeout(c);
        uint64_t wait = t == UINT32_MAX ? 1000 : t;
        if (max_ms && wait > start + max_ms - now) {
            wait = start + max_ms - now;
        }
        struct pollfd pf = {.fd = p->fd, .events = POLLIN};
        int r = poll(&pf, 1, (int)wait);
        if (r < 0 && errno != EINTR) {
            return SMPDFU_EIO;
        }
        if (r > 0) {
            if (pf.revents & POLLIN) {
                if (pump(p, c) == SMPDFU_ECLOSED && !done(arg)) {
                    return SMPDFU_ECLOSED;
                }
            } else if ((pf.revents & (POLLHUP | POLLERR | POLLNVAL)) && p->kind != SMPDFU_POSIX_UDP) {
                p->closed = true;
                if (!done(arg)) {
                    return SMPDFU_ECLOSED;
                }
            } else if (pf.revents & POLLERR) {
                pump(p, c); /* clears a pending ICMP error on UDP */
            }
        }
        smpdfu_client_tick(c, smpdfu_posix_now_ms());
    }
    return 0;
}
