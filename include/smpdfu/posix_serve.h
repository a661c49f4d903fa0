/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — POSIX port: hosting the SMP server (the device side), as
 * posix_loop.h hosts the client. One poll loop serves any number of UDP
 * sockets (one packet per datagram) and one pty (console framing or raw
 * UART), answers each packet through a handler (by default
 * smpdfu_server_process() on cfg.server), and reboots the device a while
 * after an accepted `os reset`. What a real Zephyr device's transports do is
 * kept: a raw-UART partial packet is dropped after a quiet gap, console lines
 * go through Zephyr's few UART receive line buffers (rxlines.h), and lines
 * that arrive while the flash is busy are received then and handled after
 * the request (smpdfu_posix_serve_busy as the flash's delay hook).
 *
 * Hosting a server in a few lines (docs/porting.md, "Hosting the server on
 * POSIX"):
 *
 *   smpdfu_posix_serve_cfg_t cfg = {.buf_size = 384, .server = &srv};
 *   smpdfu_posix_serve_init(&s, &cfg);
 *   srv.on_reset = smpdfu_posix_serve_reset;     // reboots cfg.reset_delay_ms later
 *   srv.reset_ctx = &s;
 *   smpdfu_posix_serve_udp(&s, "127.0.0.1:1337", bound, sizeof(bound), NULL, NULL);
 *   smpdfu_posix_serve_run(&s, &stop, NULL);     // until a signal handler sets stop
 *   smpdfu_posix_serve_close(&s);
 *
 * All calls from one thread; the handler, reboot and log hooks are called
 * from inside smpdfu_posix_serve_step()/run().
 */
#ifndef SMPDFU_POSIX_SERVE_H
#define SMPDFU_POSIX_SERVE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/link.h"
#include "smpdfu/posix_pty.h"
#include "smpdfu/rxlines.h"
#include "smpdfu/server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* UDP sockets one serve can hold. */
#define SMPDFU_POSIX_SERVE_MAX_UDP 4
/* Raw UART: a partial packet quiet this long is dropped (Zephyr's receive
 * timeout; console framing resyncs on its marker instead). */
#define SMPDFU_POSIX_SERVE_RAW_GAP_MS 100u

/* Answer one received packet: hand it to a server (smpdfu_server_process,
 * smpdfu_bootserial_process) with send/send_ctx, which frame and write the
 * response to where the packet came from. via: "udp" or "serial", for logs. */
typedef void (*smpdfu_posix_serve_handle_fn)(void *ctx, const uint8_t *pkt, size_t len,
                                             smpdfu_server_send_fn send, void *send_ctx,
                                             const char *via);

typedef struct {
    /* The device's MCUmgr buffer size: the serial receiver holds a frame this
     * large, a larger UDP datagram is dropped (and logged). Required. */
    uint32_t buf_size;
    /* The largest packet rx_size() may ever answer (0 = buf_size): sizes the
     * serial receive buffer once. */
    uint32_t rx_max;
    /* Console framing only: Zephyr's UART receive line buffers
     * (CONFIG_UART_MCUMGR_RX_BUF_COUNT / _SIZE). rx_bufs 0 = every line is
     * received whole; else a line that starts while all are held, or longer
     * than rx_buf_size, is dropped. rx_buf_size is also the link's
     * rx_line_max (0 = no limit, only with rx_bufs 0). */
    uint32_t rx_bufs, rx_buf_size;
    /* Time from smpdfu_posix_serve_reset() to the reboot hook. */
    uint32_t reset_delay_ms;

    /* Without a handler, packets go to smpdfu_server_process(server, ...). */
    smpdfu_server_t *server;
    smpdfu_posix_serve_handle_fn handle;
    /* Largest packet the device takes now (MCUboot's receive buffer differs
     * from the application's); NULL = buf_size. Asked per datagram and at
     * every reboot. */
    uint32_t (*rx_size)(void *ctx);
    /* The reset is due: run the bootloader and start what it boots (register
     * the server's groups again). The loop then forgets what its receivers
     * held. NULL: nothing to do. */
    void (*reboot)(void *ctx);
    /* One log line, no newline (dropped datagrams and lines, stale partial
     * packets, a long flash operation, the reset). NULL: silent. */
    void (*log)(void *ctx, const char *line);
    void *ctx; /* for handle, rx_size, reboot, log */
} smpdfu_posix_serve_cfg_t;

/* Caller-owned; fields private except where said. */
typedef struct {
    smpdfu_posix_serve_cfg_t cfg;
    int udp_fd[SMPDFU_POSIX_SERVE_MAX_UDP];
    int nudp;
    smpdfu_posix_pty_t pty; /* pty.path: where a client opens the device's UART */
    smpdfu_link_t ser_link;
    smpdfu_link_dec_t ser_dec;
    uint8_t *ser_buf;
    uint8_t *udp_in;
    uint8_t *out;
    size_t out_cap;
    bool rxl_on;
    smpdfu_rxlines_t rxl;
    uint8_t *rxl_mem;
    const uint8_t *rx_rest; /* bytes of the current read after the line being handled */
    size_t rx_rest_len;
    bool rx_rest_taken; /* the busy hook received them */
    bool reset_pending;
    uint64_t reset_at; /* smpdfu_posix_now_ms() clock */
} smpdfu_posix_serve_t;

/* Take the configuration (copied), allocate the receive and transmit
 * buffers; no transport yet. Returns 0, SMPDFU_EINVAL (buf_size 0, or
 * rx_buf_size 0 with rx_bufs), SMPDFU_ENOSPC (out of memory). Free with
 * smpdfu_posix_serve_close (also after a failed init). */
int smpdfu_posix_serve_init(smpdfu_posix_serve_t *s, const smpdfu_posix_serve_cfg_t *cfg);

/* Bind one more UDP socket (non-blocking) to spec, "HOST:PORT" or
 * "[V6ADDR]:PORT" (posix_addr.h; empty host = any address, port 0 = any free
 * port). bound (cap bytes, may be NULL) gets the address actually bound,
 * "127.0.0.1:40112" or "[::1]:40112"; *loopback (may be NULL) whether only
 * this machine can reach it (SMP has no authentication: anyone who reaches
 * the port can flash the device). Returns 0; SMPDFU_EUSAGE for a malformed
 * spec or more than SMPDFU_POSIX_SERVE_MAX_UDP sockets; SMPDFU_ENOCONN when
 * the address did not resolve (*gai_err, may be NULL, gets getaddrinfo()'s
 * code) or socket()/bind() failed (*gai_err 0, errno tells why). */
int smpdfu_posix_serve_udp(smpdfu_posix_serve_t *s, const char *spec, char *bound, size_t cap,
                           bool *loopback, int *gai_err);

/* Create the device's UART as a pty (posix_pty.h; the path is s->pty.path),
 * framed as kind: SMPDFU_LINK_SERIAL (console) or SMPDFU_LINK_RAW_UART.
 * Returns 0, SMPDFU_EINVAL (another kind, or a pty already open),
 * SMPDFU_ENOSPC (out of memory), SMPDFU_ENOCONN (no pty: errno tells why). */
int smpdfu_posix_serve_pty(smpdfu_posix_serve_t *s, smpdfu_link_kind_t kind);

/* smpdfu_server_t.on_reset (ctx = s): the reset response is out; the reboot
 * hook runs cfg.reset_delay_ms later, from the loop. Requests before then
 * are answered by what runs now. */
void smpdfu_posix_serve_reset(void *ctx);

/* smpdfu_posix_flash_t.delay (ctx = s): the flash is busy for `us` (a
 * benchmark's erase/write time). Sleeps that long; with receive line buffers
 * on, bytes that reach the pty meanwhile are received into them (and dropped
 * when none is free), to be handled once the request is done, as on a
 * device whose UART interrupt runs while the flash is busy. */
void smpdfu_posix_serve_busy(void *ctx, uint64_t us, bool erase);

/* One turn of the loop: a due reboot, or lines received while busy, or
 * else wait (ppoll with wait_mask, NULL = the current mask) at most
 * max_wait_ms (-1 = until something happens) and handle what arrived.
 * Returns 0 (also when a signal ended the wait), SMPDFU_EIO when ppoll
 * failed. */
int smpdfu_posix_serve_step(smpdfu_posix_serve_t *s, int max_wait_ms, const sigset_t *wait_mask);

/* smpdfu_posix_serve_step() until *stop is set (by a signal handler).
 * Block the stopping signals and pass the mask that lets them in as
 * wait_mask: a signal that comes between the check of *stop and the wait
 * then ends the wait at once instead of being noticed at the next packet.
 * Returns 0 when stopped, SMPDFU_EIO when ppoll failed. */
int smpdfu_posix_serve_run(smpdfu_posix_serve_t *s, volatile sig_atomic_t *stop,
                           const sigset_t *wait_mask);

/* Console lines received, dropped for want of a buffer, too long; NULL
 * when receive line buffers are off (no pty, raw UART, rx_bufs 0). */
const smpdfu_rxlines_stats_t *smpdfu_posix_serve_rx_stats(const smpdfu_posix_serve_t *s);

/* Close the sockets and the pty, free the buffers. */
void smpdfu_posix_serve_close(smpdfu_posix_serve_t *s);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_SERVE_H */
