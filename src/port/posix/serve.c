/* SPDX-License-Identifier: Apache-2.0 */
/* Hosting the SMP server on POSIX: UDP sockets, a pty, the poll loop, the
 * reset delay (posix_serve.h). */
#include "smpdfu/posix_serve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "smpdfu/posix.h"
#include "smpdfu/posix_addr.h"
#include "smpdfu/serial.h"

#define UDP_MAX 65536
#define READ_CHUNK 1024

static void slog(const smpdfu_posix_serve_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void slog(const smpdfu_posix_serve_t *s, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (!s->cfg.log) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    s->cfg.log(s->cfg.ctx, line);
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t rx_size(const smpdfu_posix_serve_t *s)
{
    return s->cfg.rx_size ? s->cfg.rx_size(s->cfg.ctx) : s->cfg.buf_size;
}

int smpdfu_posix_serve_init(smpdfu_posix_serve_t *s, const smpdfu_posix_serve_cfg_t *cfg)
{
    memset(s, 0, sizeof(*s));
    s->pty.master = s->pty.slave = -1;
    for (int i = 0; i < SMPDFU_POSIX_SERVE_MAX_UDP; i++) {
        s->udp_fd[i] = -1;
    }
    if (!cfg || cfg->buf_size == 0 || (cfg->rx_bufs > 0 && cfg->rx_buf_size == 0) ||
        (!cfg->handle && !cfg->server)) {
        return SMPDFU_EINVAL;
    }
    s->cfg = *cfg;
    if (s->cfg.rx_max < s->cfg.buf_size) {
        s->cfg.rx_max = s->cfg.buf_size;
    }
    s->udp_in = malloc(UDP_MAX);
    /* A console frame is base64 (4/3) in lines with markers: 4x is ample. */
    s->out_cap = 4 * (size_t)s->cfg.buf_size + 1024;
    s->out = malloc(s->out_cap);
    return s->udp_in && s->out ? 0 : SMPDFU_ENOSPC;
}

int smpdfu_posix_serve_udp(smpdfu_posix_serve_t *s, const char *spec, char *bound, size_t cap,
                           bool *loopback, int *gai_err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (gai_err) {
        *gai_err = 0;
    }
    if (s->nudp >= SMPDFU_POSIX_SERVE_MAX_UDP) {
        return SMPDFU_EUSAGE;
    }
    int rc = smpdfu_posix_addr_resolve(spec, SOCK_DGRAM, true, &ss, &len, gai_err);
    if (rc) {
        return rc;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        errno = e;
        return SMPDFU_ENOCONN;
    }
    len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    if (bound && cap) {
        bound[0] = 0;
        (void)smpdfu_posix_addr_format(&ss, len, bound, cap);
    }
    if (loopback) {
        *loopback = smpdfu_posix_addr_is_loopback(&ss);
    }
    s->udp_fd[s->nudp++] = fd;
    return 0;
}

int smpdfu_posix_serve_pty(smpdfu_posix_serve_t *s, smpdfu_link_kind_t kind)
{
    if ((kind != SMPDFU_LINK_SERIAL && kind != SMPDFU_LINK_RAW_UART) || s->pty.master >= 0) {
        return SMPDFU_EINVAL;
    }
    memset(&s->ser_link, 0, sizeof(s->ser_link));
    s->ser_link.kind = kind;
    s->ser_link.line_max = SMPDFU_SERIAL_LINE_MAX;
    s->ser_link.rx_line_max = s->cfg.rx_buf_size;
    /* Zephyr: the whole frame (length, packet, CRC) fits one buf_size net_buf. */
    free(s->ser_buf);
    s->ser_buf = malloc(s->cfg.rx_max);
    if (!s->ser_buf) {
        return SMPDFU_ENOSPC;
    }
    smpdfu_link_dec_init(&s->ser_dec, &s->ser_link, s->ser_buf, s->cfg.buf_size);
    /* Raw UART has no marker to resync on: a partial packet is dropped
     * after a quiet gap (a receive timeout). Console framing ignores it. */
    smpdfu_link_dec_set_gap(&s->ser_dec, SMPDFU_POSIX_SERVE_RAW_GAP_MS);
    s->rxl_on = kind == SMPDFU_LINK_SERIAL && s->cfg.rx_bufs > 0;
    if (s->rxl_on) {
        free(s->rxl_mem);
        s->rxl_mem = malloc((size_t)s->cfg.rx_bufs * s->cfg.rx_buf_size);
        if (!s->rxl_mem ||
            smpdfu_rxlines_init(&s->rxl, s->rxl_mem, s->cfg.rx_bufs, s->cfg.rx_buf_size) != 0) {
            s->rxl_on = false;
            return SMPDFU_ENOSPC;
        }
    }
    return smpdfu_posix_pty_open(&s->pty);
}

void smpdfu_posix_serve_reset(void *ctx)
{
    smpdfu_posix_serve_t *s = ctx;
    s->reset_pending = true;
    s->reset_at = smpdfu_posix_now_ms() + s->cfg.reset_delay_ms;
    slog(s, "os reset: rebooting in %u ms", s->cfg.reset_delay_ms);
}

/* ----------------------------------------------------------- sending */

typedef struct {
    smpdfu_posix_serve_t *s;
    int fd;
    const struct sockaddr_storage *peer;
    socklen_t peer_len;
} send_ctx_t;

static int send_udp(void *ctx, const uint8_t *p, size_t n)
{
    send_ctx_t *c = ctx;
    if (sendto(c->fd, p, n, 0, (const struct sockaddr *)c->peer, c->peer_len) < 0) {
        slog(c->s, "[udp] send failed: %s", strerror(errno));
    }
    return 0; /* a lost datagram is the client's business */
}

static int send_serial(void *ctx, const uint8_t *p, size_t n)
{
    send_ctx_t *c = ctx;
    smpdfu_posix_serve_t *s = c->s;
    int len = smpdfu_link_encode(&s->ser_link, p, n, s->out, s->out_cap);
    if (len < 0) {
        return 0;
    }
    size_t done = 0;
    while (done < (size_t)len) {
        ssize_t w = write(s->pty.master, s->out + done, (size_t)len - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = {s->pty.master, POLLOUT, 0};
            if (poll(&pfd, 1, 200) <= 0) {
                slog(s, "[serial] nobody reads the pty: response dropped");
                return 0;
            }
            continue;
        }
        if (w <= 0) {
            return 0;
        }
        done += (size_t)w;
    }
    return 0;
}

static void serve(smpdfu_posix_serve_t *s, const uint8_t *pkt, size_t len,
                  smpdfu_server_send_fn send, send_ctx_t *c, const char *via)
{
    if (s->cfg.handle) {
        s->cfg.handle(s->cfg.ctx, pkt, len, send, c, via);
    } else {
        smpdfu_server_process(s->cfg.server, pkt, len, send, c);
    }
}

/* --------------------------------------------------------- receiving */

static void handle_udp(smpdfu_posix_serve_t *s, int fd)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        ssize_t n = recvfrom(fd, s->udp_in, UDP_MAX, 0, (struct sockaddr *)&peer, &plen);
        if (n < 0) {
            return;
        }
        if ((size_t)n > rx_size(s)) {
            slog(s, "[udp] datagram of %zd bytes larger than buf_size %u: dropped", n,
                 s->cfg.buf_size);
            continue;
        }
        send_ctx_t c = {s, fd, &peer, plen};
        serve(s, s->udp_in, (size_t)n, send_udp, &c, "udp");
        if (s->reset_pending) {
            return; /* let the loop reboot before reading more */
        }
    }
}

static void log_rx_drop(const smpdfu_posix_serve_t *s, smpdfu_rxlines_event_t ev)
{
    const smpdfu_rxlines_stats_t *st = &s->rxl.stats;
    if (ev == SMPDFU_RXLINES_NO_BUFFER) {
        slog(s, "[serial] line dropped: all %u RX line buffers held (%u dropped so far)",
             s->cfg.rx_bufs, st->no_buffer);
    } else if (ev == SMPDFU_RXLINES_TOO_LONG) {
        slog(s, "[serial] line dropped: longer than the %u-byte RX line buffer (%u so far)",
             s->cfg.rx_buf_size, st->too_long);
    }
}

/* The SMP side (Zephyr's smp_uart_process_frag): decode each waiting line,
 * free its buffer, then handle a request the line completed. A request may
 * keep the device busy (flash), during which smpdfu_posix_serve_busy()
 * receives more lines into the buffers; they are taken here afterwards. */
static void take_lines(smpdfu_posix_serve_t *s)
{
    const uint8_t *line;
    size_t n;
    while ((n = smpdfu_rxlines_peek(&s->rxl, &line)) > 0) {
        size_t pos = 0;
        int pkt = 0;
        while (pos < n) {
            size_t used = 0;
            int rc = smpdfu_link_dec_feed(&s->ser_dec, line + pos, n - pos, &used);
            pos += used;
            if (rc > 0) {
                pkt = rc;
            }
            if (used == 0) {
                break;
            }
        }
        smpdfu_rxlines_release(&s->rxl);
        if (pkt > 0) {
            send_ctx_t c = {s, s->pty.master, NULL, 0};
            serve(s, smpdfu_link_dec_packet(&s->ser_dec), (size_t)pkt, send_serial, &c, "serial");
        }
    }
}

/* Bytes read while idle: into the line buffers, each completed line taken at
 * once (the SMP side runs as soon as a line is in). */
static void rx_lines(smpdfu_posix_serve_t *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        smpdfu_rxlines_event_t ev = smpdfu_rxlines_rx(&s->rxl, p[i]);
        log_rx_drop(s, ev);
        if (ev != SMPDFU_RXLINES_LINE) {
            continue;
        }
        /* What follows in this read was already on the line: if the request
         * keeps the device busy, it is received during that time. */
        s->rx_rest = p + i + 1;
        s->rx_rest_len = n - i - 1;
        s->rx_rest_taken = false;
        take_lines(s);
        bool taken = s->rx_rest_taken;
        s->rx_rest = NULL;
        s->rx_rest_len = 0;
        if (taken) {
            return; /* take_lines() also took the lines of the busy time */
        }
    }
}

static void rx_busy_bytes(smpdfu_posix_serve_t *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        log_rx_drop(s, smpdfu_rxlines_rx(&s->rxl, p[i]));
    }
}

void smpdfu_posix_serve_busy(void *ctx, uint64_t us, bool erase)
{
    smpdfu_posix_serve_t *s = ctx;
    uint64_t end = now_us() + us;
    if (us >= 100000u) {
        slog(s, "flash: busy %llu ms (%s)", (unsigned long long)(us / 1000u),
             erase ? "erase" : "write");
    }
    if (!s->rxl_on) {
        struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        return;
    }
    if (s->rx_rest != NULL && !s->rx_rest_taken) {
        s->rx_rest_taken = true;
        rx_busy_bytes(s, s->rx_rest, s->rx_rest_len);
    }
    for (;;) {
        uint64_t now = now_us();
        if (now >= end) {
            break;
        }
        uint64_t left = end - now;
        struct timespec ts = {(time_t)(left / 1000000u), (long)(left % 1000000u) * 1000};
        struct pollfd pfd = {s->pty.master, POLLIN, 0};
        int rc = ppoll(&pfd, 1, &ts, NULL);
        if (rc > 0 && (pfd.revents & POLLIN)) {
            uint8_t buf[READ_CHUNK];
            ssize_t r = read(s->pty.master, buf, sizeof(buf));
            if (r > 0) {
                rx_busy_bytes(s, buf, (size_t)r);
            }
        } else if (rc > 0) {
            /* POLLHUP with no reader on the slave side: nothing to receive. */
            struct timespec rest = ts;
            while (nanosleep(&rest, &rest) != 0 && errno == EINTR) {
            }
        }
    }
}

/* Drop a raw partial packet that has been quiet for the gap (and log it). */
static void rx_stale(smpdfu_posix_serve_t *s, uint64_t now)
{
    if (smpdfu_link_dec_tick(&s->ser_dec, now) > 0) {
        slog(s, "[serial] partial packet dropped after %u ms without bytes (%u so far)",
             SMPDFU_POSIX_SERVE_RAW_GAP_MS, s->ser_dec.stale);
    }
}

static void handle_pty(smpdfu_posix_serve_t *s)
{
    uint8_t buf[READ_CHUNK];
    ssize_t n = read(s->pty.master, buf, sizeof(buf));
    if (n <= 0) {
        return;
    }
    if (s->rxl_on) {
        rx_lines(s, buf, (size_t)n);
        return;
    }
    uint64_t now = smpdfu_posix_now_ms();
    rx_stale(s, now);
    size_t pos = 0;
    while (pos < (size_t)n) {
        size_t used = 0;
        int rc = smpdfu_link_dec_feed_at(&s->ser_dec, buf + pos, (size_t)n - pos, &used, now);
        pos += used;
        if (rc > 0) {
            send_ctx_t c = {s, s->pty.master, NULL, 0};
            serve(s, smpdfu_link_dec_packet(&s->ser_dec), (size_t)rc, send_serial, &c, "serial");
        }
        if (used == 0) {
            break;
        }
    }
}

static void do_reset(smpdfu_posix_serve_t *s)
{
    s->reset_pending = false;
    if (s->cfg.reboot) {
        s->cfg.reboot(s->cfg.ctx);
    }
    if (s->rxl_on) {
        /* What arrived while MCUboot swapped was never received. */
        smpdfu_rxlines_reset(&s->rxl);
    }
    if (s->pty.master >= 0) {
        /* a fresh receiver, sized for what now runs (MCUboot's buffer differs) */
        smpdfu_link_dec_init(&s->ser_dec, &s->ser_link, s->ser_buf, rx_size(s));
        /* init clears the quiet gap: without it a raw-UART partial packet
         * after the first reboot would never be dropped. */
        smpdfu_link_dec_set_gap(&s->ser_dec, SMPDFU_POSIX_SERVE_RAW_GAP_MS);
    }
}

/* ------------------------------------------------------------- loop */

int smpdfu_posix_serve_step(smpdfu_posix_serve_t *s, int max_wait_ms, const sigset_t *wait_mask)
{
    struct pollfd pfd[SMPDFU_POSIX_SERVE_MAX_UDP + 1];
    int np = 0, timeout = max_wait_ms < 0 ? -1 : max_wait_ms;
    for (int i = 0; i < s->nudp; i++) {
        pfd[np].fd = s->udp_fd[i];
        pfd[np].events = POLLIN;
        pfd[np].revents = 0;
        np++;
    }
    if (s->pty.master >= 0) {
        pfd[np].fd = s->pty.master;
        pfd[np].events = POLLIN;
        pfd[np].revents = 0;
        np++;
    }
    uint64_t now = smpdfu_posix_now_ms();
    if (s->reset_pending) {
        if (now >= s->reset_at) {
            do_reset(s);
            return 0;
        }
        int left = (int)(s->reset_at - now);
        if (timeout < 0 || left < timeout) {
            timeout = left;
        }
    }
    if (s->rxl_on && smpdfu_rxlines_peek(&s->rxl, NULL) > 0) {
        /* Lines received while a UDP request kept the flash busy. */
        take_lines(s);
        return 0;
    }
    if (s->pty.master >= 0) {
        rx_stale(s, now);
        uint64_t at = smpdfu_link_dec_stale_at(&s->ser_dec);
        if (at != UINT64_MAX) {
            int left = at > now ? (int)(at - now) : 0;
            if (timeout < 0 || left < timeout) {
                timeout = left;
            }
        }
    }
    struct timespec ts = {timeout / 1000, (long)(timeout % 1000) * 1000000L};
    int rc = ppoll(pfd, (nfds_t)np, timeout < 0 ? NULL : &ts, wait_mask);
    if (rc < 0) {
        return errno == EINTR ? 0 : SMPDFU_EIO;
    }
    for (int i = 0; i < np; i++) {
        if (!(pfd[i].revents & (POLLIN | POLLERR | POLLHUP))) {
            continue;
        }
        if (pfd[i].fd == s->pty.master) {
            handle_pty(s);
        } else {
            handle_udp(s, pfd[i].fd);
        }
    }
    return 0;
}

int smpdfu_posix_serve_run(smpdfu_posix_serve_t *s, volatile sig_atomic_t *stop,
                           const sigset_t *wait_mask)
{
    while (!*stop) {
        int rc = smpdfu_posix_serve_step(s, -1, wait_mask);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

const smpdfu_rxlines_stats_t *smpdfu_posix_serve_rx_stats(const smpdfu_posix_serve_t *s)
{
    return s->rxl_on ? &s->rxl.stats : NULL;
}

void smpdfu_posix_serve_close(smpdfu_posix_serve_t *s)
{
    for (int i = 0; i < s->nudp; i++) {
        close(s->udp_fd[i]);
        s->udp_fd[i] = -1;
    }
    s->nudp = 0;
    smpdfu_posix_pty_close(&s->pty);
    free(s->ser_buf);
    free(s->rxl_mem);
    free(s->udp_in);
    free(s->out);
    s->ser_buf = s->rxl_mem = s->udp_in = s->out = NULL;
    s->rxl_on = false;
}
