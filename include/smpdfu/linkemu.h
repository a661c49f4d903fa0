/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — link emulator (POSIX): a relay process between an SMP client and an
 * SMP target that makes the link behave like a real one (docs/linkemu.md).
 *
 *   serial: ptys on both sides; bytes paced at a baud rate with 8N1 timing,
 *           latency, whole-line loss (a line = bytes up to \n), bit flips.
 *   udp:    datagram relay; per direction latency + jitter, bandwidth, loss,
 *           duplication, reordering.
 *   udp+ble: the udp relay with a BLE connection model in the path: ATT
 *           fragments, LL PDUs, connection events, PHY air time.
 *
 * Also the theoretical throughput limits of those links
 * (smpdfu_linkemu_limit_bps), for benchmarks to compare against.
 *
 * Direction index 0 is client -> target ("c2t"), 1 is target -> client ("t2c").
 */
#ifndef SMPDFU_LINKEMU_H
#define SMPDFU_LINKEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_LINKEMU_C2T 0
#define SMPDFU_LINKEMU_T2C 1

/* ------------------------------------------------------------ model pieces */

/* Deterministic PRNG (splitmix64): the same seed gives the same impairments. */
typedef struct {
    uint64_t s;
} smpdfu_linkemu_rng_t;

void smpdfu_linkemu_rng_seed(smpdfu_linkemu_rng_t *r, uint64_t seed);
uint64_t smpdfu_linkemu_rng_next(smpdfu_linkemu_rng_t *r);
/* Uniform in [0, 1). */
double smpdfu_linkemu_rng_unit(smpdfu_linkemu_rng_t *r);
/* True with probability p. Always draws one number, so a run's sequence of
 * decisions does not depend on p being 0 or 1. p <= 0 never, p >= 1 always. */
bool smpdfu_linkemu_rng_chance(smpdfu_linkemu_rng_t *r, double p);

/* Serialisation pacer: a link that carries `rate` units per second (bits for
 * a UART, bytes for a datagram link). Finish times are computed from an
 * anchor and a unit count, not by adding rounded per-byte times, so a long
 * transfer does not drift. The anchor moves only when the link went idle. */
typedef struct {
    uint64_t rate;     /* units per second, > 0 */
    uint64_t t0_ns;    /* anchor: when the current busy period started */
    uint64_t units;    /* units sent since the anchor */
    uint64_t last_ns;  /* finish time of the last unit (t0 + units/rate) */
} smpdfu_linkemu_pacer_t;

void smpdfu_linkemu_pacer_init(smpdfu_linkemu_pacer_t *p, uint64_t rate);
/* An item of `units` units is offered at now_ns; returns the time its last
 * unit has left the wire (>= now_ns). */
uint64_t smpdfu_linkemu_pacer_add(smpdfu_linkemu_pacer_t *p, uint64_t now_ns, uint64_t units);

/* BLE link-layer model. */
typedef struct {
    uint32_t att_mtu;        /* ATT MTU, >= 23; fragments carry att_mtu - 3 bytes */
    uint32_t interval_us;    /* connection interval, 7500 .. 4000000 */
    uint32_t pdus_per_event; /* data PDUs per direction per connection event, >= 1 */
    uint32_t phy_mbps;       /* 1 or 2 */
    uint32_t ll_max;         /* LL data payload limit: 27 (no DLE) .. 251 (DLE) */
} smpdfu_linkemu_ble_t;

/* Inter-frame space between two PDUs (Bluetooth Core, T_IFS). */
#define SMPDFU_LINKEMU_BLE_TIFS_NS 150000u
/* L2CAP basic header (4) + ATT opcode and handle (3). */
#define SMPDFU_LINKEMU_BLE_L2CAP_ATT 7u

/* 0 if the parameters are usable, else SMPDFU_EINVAL. */
int smpdfu_linkemu_ble_check(const smpdfu_linkemu_ble_t *b);
/* Air time of one LL data PDU with `payload` bytes (0 = empty PDU):
 * (preamble + access address 4 + header 2 + payload + CRC 3) * 8 / PHY rate;
 * the preamble is 1 byte on 1M and 2 bytes on 2M. */
uint64_t smpdfu_linkemu_ble_pdu_ns(const smpdfu_linkemu_ble_t *b, uint32_t payload);
/* LL PDUs needed to carry one SMP packet of len bytes (ATT fragments of
 * att_mtu-3, each with 7 bytes L2CAP+ATT header, cut to ll_max). */
uint32_t smpdfu_linkemu_ble_packet_pdus(const smpdfu_linkemu_ble_t *b, size_t len);
/* Full-size data PDUs that fit one connection event (min of pdus_per_event and
 * what the interval holds: each exchange = data PDU + T_IFS + empty PDU + T_IFS). */
uint32_t smpdfu_linkemu_ble_pdus_per_event(const smpdfu_linkemu_ble_t *b);

/* ---------------------------------------------------------- throughput limit */

typedef enum {
    SMPDFU_LINKEMU_LIMIT_CONSOLE = 0, /* SMP over console: base64 lines, 8N1 */
    SMPDFU_LINKEMU_LIMIT_RAW_UART = 1,/* bare SMP packets, 8N1 */
    SMPDFU_LINKEMU_LIMIT_BLE = 2,     /* GATT write without response / notify */
} smpdfu_linkemu_limit_kind_t;

typedef struct {
    smpdfu_linkemu_limit_kind_t kind;
    uint32_t baud;        /* serial kinds: bits/s; 10 bits per byte (8N1) */
    size_t line_max;      /* console: longest line incl. marker and \n (127) */
    size_t pkt_len;       /* request SMP packet, 8-byte header included */
    size_t overhead;      /* bytes of each request that are not image data
                           * (SMP header + CBOR keys/values, ~20) */
    size_t resp_len;      /* response SMP packet (0: not counted) */
    bool pipelined;       /* false: stop-and-wait, the next request goes out
                           * after the response arrived; true: requests and
                           * responses overlap (full duplex), the busier
                           * direction sets the pace */
    smpdfu_linkemu_ble_t ble; /* BLE kind */
} smpdfu_linkemu_limit_t;

/* Theoretical upper bound of image data throughput (bytes of image per second)
 * over the link described by p, ignoring processing time on both ends. The
 * console kind counts the bytes smpdfu_serial_encode() sends
 * (smpdfu_serial_encoded_len() in smpdfu/serial.h), 10 bits each.
 * Writes it to *bps. Returns 0, or SMPDFU_EINVAL for unusable parameters
 * (overhead >= pkt_len, zero baud, console line_max < 7 or a packet longer
 * than console framing carries (0xfffd bytes), bad BLE parameters, NULL). */
int smpdfu_linkemu_limit_bps(const smpdfu_linkemu_limit_t *p, double *bps);

/* ---------------------------------------------------------------- emulator */

typedef enum {
    SMPDFU_LINKEMU_SERIAL = 0,
    SMPDFU_LINKEMU_UDP = 1,
} smpdfu_linkemu_mode_t;

/* Impairments of one direction. */
typedef struct {
    double latency_ms; /* added one-way delay */
    double jitter_ms;  /* udp: uniform +-jitter on top of latency; order is kept */
    double rate_Bps;   /* udp: bytes per second, 0 = unlimited (serial: use baud) */
    double loss;       /* serial: probability a line is dropped; udp: a datagram */
    double flip;       /* serial: probability a byte gets one bit flipped */
    double dup;        /* udp: probability a datagram is delivered twice */
    double reorder;    /* udp: probability a datagram is held back and swapped
                        * with the next one in the same direction */
} smpdfu_linkemu_dir_t;

typedef struct {
    smpdfu_linkemu_mode_t mode;
    smpdfu_linkemu_dir_t dir[2];
    uint64_t seed;
    uint32_t stats_interval_ms; /* 0: stats only at exit */
    double duration_s;          /* 0: run until SIGINT/SIGTERM */
    uint32_t tick_us;           /* least time between two wake-ups (batching) */
    /* serial */
    uint32_t baud;              /* 0: unpaced */
    const char *target_pty;     /* open this pty (the target's); NULL: create one */
    /* udp */
    const char *listen;         /* HOST:PORT the client sends to */
    const char *target;         /* HOST:PORT of the target */
    bool allow_remote;          /* permit non-loopback addresses */
    double reorder_hold_ms;     /* release a held datagram after this long */
    bool ble;
    smpdfu_linkemu_ble_t ble_cfg;
    /* NULL, or where to write the trace: one JSON line per carried unit
     * (a byte for serial, a datagram copy for udp) with the times the model
     * gave it on the emulator's own clock (docs/linkemu.md, "Trace").
     * Borrowed: flushed at the end of the run, never closed. */
    FILE *trace;
} smpdfu_linkemu_cfg_t;

/* Defaults: udp 127.0.0.1:1338 -> 127.0.0.1:1337, BLE MTU 247, 15 ms,
 * 4 PDUs/event, 2M, LL 251, tick 500 us, reorder hold 100 ms. */
void smpdfu_linkemu_cfg_default(smpdfu_linkemu_cfg_t *c);

/* Counters of one direction. "units" are lines (serial) or datagrams (udp). */
typedef struct {
    uint64_t bytes_in, bytes_out;
    uint64_t units_in, units_out;
    uint64_t dropped;     /* lines or datagrams lost on purpose */
    uint64_t flipped;     /* delivered bytes with a flipped bit */
    uint64_t duplicated;  /* extra copies delivered */
    uint64_t reordered;   /* datagrams swapped with their successor */
    uint64_t overflow;    /* dropped because the emulator's queue was full */
    uint64_t ble_pdus;    /* BLE LL data PDUs sent */
} smpdfu_linkemu_stats_t;

/* Print "stats <tag> c2t k=v ..." and the same for t2c, one line each. */
void smpdfu_linkemu_stats_print(FILE *out, const char *tag, const smpdfu_linkemu_stats_t st[2]);

/* Run the emulator until SIGINT/SIGTERM (blocked and taken through a
 * signalfd) or cfg->duration_s. Prints to `out`: "client: PATH" / "target: PATH"
 * (serial) or "listen: H:P" / "target: H:P" (udp), then "ready", periodic
 * stats, and the final stats. Returns 0, SMPDFU_EINVAL (bad config, non-loopback
 * address without allow_remote), SMPDFU_ENOCONN (cannot open a pty / socket),
 * SMPDFU_EIO (a descriptor failed while running). */
int smpdfu_linkemu_run(const smpdfu_linkemu_cfg_t *cfg, FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_LINKEMU_H */
