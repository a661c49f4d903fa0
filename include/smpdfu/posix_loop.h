/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — POSIX port: a connection described by one text spec, and the
 * poll loop that wires it to the client engine (feed / tick / send).
 *
 * Specs:
 *   serial:/dev/ttyACM0[,baud=115200][,raw][,line=127]
 *   tcp:HOST:PORT[,raw]         serial line over TCP (console framing unless raw)
 *   udp:HOST:PORT[,mtu=1500]    one packet per datagram; [v6addr]:port for IPv6
 * A port with several descriptors of its own (BlueZ: the D-Bus connection and
 * the acquired GATT sockets) plugs in as SMPDFU_POSIX_EXT with its hooks
 * (smpdfu_posix_ext_t, filled by that port's open function, e.g.
 * smpdfu_bluez_open()).
 * `raw` selects raw-UART framing (bare SMP packets) instead of the console's
 * base64 lines.
 */
#ifndef SMPDFU_POSIX_LOOP_H
#define SMPDFU_POSIX_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/client.h"
#include "smpdfu/link.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SMPDFU_POSIX_SERIAL,
    SMPDFU_POSIX_TCP,
    SMPDFU_POSIX_UDP,
    SMPDFU_POSIX_EXT, /* hooks below: BLE through BlueZ */
} smpdfu_posix_kind_t;

struct pollfd;

/* The hooks of a port with its own descriptors. All take ctx. */
typedef struct {
    void *ctx;
    /* Fill up to max pollfds; *wake_ms may be lowered to the port's own next
     * deadline (smpdfu_posix_now_ms clock). Returns how many were filled. */
    int (*fds)(void *ctx, struct pollfd *pf, int max, uint64_t *wake_ms);
    /* After poll (also on timeout): handle pf[0..n) revents, feed what
     * arrived to c. Returns 0, or SMPDFU_ECLOSED when the link went away. */
    int (*ready)(void *ctx, const struct pollfd *pf, int n, smpdfu_client_t *c);
    /* smpdfu_send_fn for one whole SMP packet. */
    int (*send)(void *ctx, const uint8_t *data, size_t len);
    /* The link went away: get it back (blocking, at most timeout_ms). 0 on
     * success (new descriptors, maybe a new link.mtu), else an error. NULL:
     * no reconnection. */
    int (*reconnect)(void *ctx, uint32_t timeout_ms);
    void (*close)(void *ctx);
} smpdfu_posix_ext_t;

typedef struct {
    smpdfu_posix_kind_t kind;
    smpdfu_link_t link;
    int fd;                /* -1 when closed */
    bool closed;           /* the other end went away (EOF, EIO, hang-up) */
    char host[256];        /* parsed spec */
    char port[16];
    char path[256];
    unsigned baud;
    uint32_t rx_bytes, tx_bytes;
    int gai_err;           /* open failed resolving host: getaddrinfo()'s EAI_* code, else 0 */
    smpdfu_posix_ext_t ext;   /* SMPDFU_POSIX_EXT only */
    uint32_t reconnect_ms;    /* EXT: how long a reconnection may take (0 = none) */
    uint32_t reconnects;      /* EXT: links re-established by the loop */
} smpdfu_posix_port_t;

/* Parse a spec into p (nothing opened). Returns 0 or SMPDFU_EUSAGE. */
int smpdfu_posix_port_parse(smpdfu_posix_port_t *p, const char *spec);

/* Open what the spec names. Returns 0, SMPDFU_ENOCONN, SMPDFU_EINVAL. After
 * SMPDFU_ENOCONN, p->gai_err is non-zero when a host name did not resolve
 * (gai_strerror() words it); otherwise errno tells why. */
int smpdfu_posix_port_open(smpdfu_posix_port_t *p, uint32_t timeout_ms);

void smpdfu_posix_port_close(smpdfu_posix_port_t *p);

/* smpdfu_send_fn (ctx = port): writes everything (waits for the descriptor
 * when the kernel buffer is full). SMPDFU_ECLOSED when the other end went
 * away, SMPDFU_EIO for a transient failure (UDP ECONNREFUSED while the
 * device restarts). */
int smpdfu_posix_port_send(void *ctx, const uint8_t *data, size_t len);

/* Write all of data to a stream port (serial, TCP), waiting for the
 * descriptor while the kernel buffer is full: for at most stall_ms at a
 * time (then SMPDFU_EIO, the rest unsent), or as long as it takes
 * (stall_ms < 0). Returns 0, SMPDFU_ECLOSED (the other end went away:
 * p->closed is set), SMPDFU_EIO. */
int smpdfu_posix_port_write(smpdfu_posix_port_t *p, const uint8_t *data, size_t len, int stall_ms);

/* The side that answers, on a port this program opens (the peer asks: the
 * uplink's gateway behind a UART, a pty or a TCP listener). All hooks take
 * ctx; any may be NULL. */
typedef struct {
    void *ctx;
    /* The port is open (the first time, or again): reset the decoder. */
    void (*opened)(void *ctx, smpdfu_posix_port_t *p);
    /* Bytes arrived; answer with smpdfu_posix_port_write(p, ..). */
    void (*received)(void *ctx, smpdfu_posix_port_t *p, const uint8_t *data, size_t len);
    /* EOF or hang-up: the port is closed and will be opened again. */
    void (*closed)(void *ctx, smpdfu_posix_port_t *p);
} smpdfu_posix_peer_t;

/* Serve a parsed serial or TCP port until *stop is set (a signal handler):
 * open it (again every 100 ms while it cannot be opened: the peer is not
 * there yet, or went away), read what arrives, and after EOF or a hang-up
 * close it and open it again. *stop is looked at at least every 200 ms.
 * Returns 0 when stopped (the port closed), SMPDFU_EIO when poll failed. */
int smpdfu_posix_port_serve(smpdfu_posix_port_t *p, const smpdfu_posix_peer_t *peer,
                            volatile sig_atomic_t *stop);

/* Start a client config for a client on port p: cfg is cleared, then gets
 * the port's link, smpdfu_posix_port_send with p as its context, and the
 * caller's memory (request slots, packet storage, receive and framing
 * buffers: see smpdfu_client_cfg_t for their sizes; all must outlive the
 * client). The caller sets the rest (timeouts, retries, first_seq, baud for
 * line pacing, trace) before smpdfu_client_init(). */
void smpdfu_posix_client_cfg(smpdfu_client_cfg_t *cfg, smpdfu_posix_port_t *p,
                             smpdfu_req_t *reqs, size_t nreqs, uint8_t *req_mem,
                             size_t req_mem_len, uint8_t *rx, size_t rx_cap, uint8_t *tx,
                             size_t tx_cap);

/* Run the engine until done(arg) returns true: poll the descriptor with the
 * engine's next deadline, feed what arrives, tick with smpdfu_posix_now_ms.
 * An EXT port whose link went away is reconnected (ext.reconnect, up to
 * reconnect_ms) and the engine's partial frame dropped; requests in flight
 * are then resent by their timeouts (an upload resumes where the device is).
 * Returns 0 when done, SMPDFU_ETIMEOUT when max_ms passed first (0 = no
 * limit), SMPDFU_ECLOSED when the link closed, SMPDFU_EIO on a poll error. */
int smpdfu_posix_loop_run(smpdfu_posix_port_t *p, smpdfu_client_t *c, bool (*done)(void *arg),
                          void *arg, uint32_t max_ms);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_LOOP_H */
