/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — a transport described as data: which framing, which size limits.
 *
 * Client and server both talk through a link: smpdfu_link_encode() turns an
 * SMP packet into the bytes to hand to the port, and a link decoder turns
 * received bytes back into SMP packets. The port (termios, socket, BLE
 * stack) only moves bytes.
 */
#ifndef SMPDFU_LINK_H
#define SMPDFU_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/ble.h"
#include "smpdfu/error.h"
#include "smpdfu/serial.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SMPDFU_LINK_SERIAL,   /* SMP over console: base64 lines, CRC (§5.1) */
    SMPDFU_LINK_RAW_UART, /* bare packets on a byte stream */
    SMPDFU_LINK_UDP,      /* one packet per datagram (§5.2) */
    SMPDFU_LINK_BLE,      /* GATT writes/notifications of ATT_MTU - 3 (§5.3) */
} smpdfu_link_kind_t;

typedef struct {
    smpdfu_link_kind_t kind;
    size_t line_max;     /* SERIAL: longest line incl. marker and \n (0 -> 127) */
    size_t mtu;          /* UDP: largest datagram (0 -> 1500); BLE: ATT MTU (0 -> 23) */
    bool ble_reassembly; /* BLE: the device reassembles a request split over writes */
    size_t rx_line_max;  /* SERIAL decoder: longest line accepted incl. marker and \n
                          * (0 = no limit, for a client; a server emulating Zephyr's
                          * RX line buffer uses 128) */
} smpdfu_link_t;

/* Largest SMP packet (header + CBOR) a request may have on this link for a
 * device whose MCUmgr params report buf_size (0 = unknown: the link limit
 * alone, with Zephyr's default for serial). Serial: buf_size - 4; raw UART:
 * buf_size; UDP: min(buf_size, mtu); BLE: min(buf_size, mtu - 3) unless the
 * device reassembles (then buf_size). Unknown buf_size counts as Zephyr's
 * default, SMPDFU_DEFAULT_BUF_SIZE (384, defaults.h), for serial, raw UART
 * and reassembling BLE (all use Zephyr's net_buf), as the MTU alone for UDP. Never more than the 16-bit length fields allow. */
size_t smpdfu_link_max_packet(const smpdfu_link_t *l, size_t dev_buf_size);

/* Bytes smpdfu_link_encode() needs for a packet of pkt_len bytes. */
size_t smpdfu_link_encoded_len(const smpdfu_link_t *l, size_t pkt_len);

/* Encode one packet for the port. SERIAL: console lines; other kinds: the
 * packet bytes unchanged (a BLE port sends them in smpdfu_ble_frag() pieces).
 * Returns bytes written, SMPDFU_ENOSPC or SMPDFU_EINVAL. */
int smpdfu_link_encode(const smpdfu_link_t *l, const uint8_t *pkt, size_t pkt_len,
                       uint8_t *out, size_t cap);

/* Received-bytes decoder for any link kind.
 *
 * Partial-frame recovery: raw UART and BLE have no marker that starts a
 * frame, so a plausible but wrong header (noise, a lost fragment) makes the
 * decoder wait for bytes that never come and swallow the next good frames
 * into the bad one. With a quiet gap set (smpdfu_link_dec_set_gap()), a
 * partial frame that has received nothing for that long is dropped and
 * counted (stale, and the kind's own counter: raw stats.timeouts, BLE
 * stats.timeouts). The decoder keeps no clock: time comes with
 * smpdfu_link_dec_feed_at() and smpdfu_link_dec_tick(). Console framing
 * resyncs on its 06 09 marker and UDP has no partial frames: the gap does
 * nothing for them. All fields private except stale and u.*.stats. */
typedef struct {
    smpdfu_link_kind_t kind;
    uint8_t *buf;
    size_t cap;
    size_t pkt_len;
    uint32_t gap_ms;    /* 0 = never drop a partial frame for quiet */
    uint64_t last_rx;   /* time of the last bytes fed */
    bool unstamped;     /* bytes fed without a time: stamped by the next tick */
    uint32_t stale;     /* partial frames dropped after a quiet gap */
    union {
        smpdfu_serial_dec_t serial;
        smpdfu_raw_dec_t raw;
        smpdfu_ble_reasm_t ble;
    } u;
} smpdfu_link_dec_t;

/* buf (caller-owned) must hold the largest packet expected (+4 for SERIAL). */
void smpdfu_link_dec_init(smpdfu_link_dec_t *d, const smpdfu_link_t *l, uint8_t *buf, size_t cap);
void smpdfu_link_dec_reset(smpdfu_link_dec_t *d);

/* Feed received bytes. SERIAL/RAW_UART: any chunking (stream). UDP: one call
 * per datagram, which is delivered whole (it may hold several SMP packets;
 * the dispatcher walks them). BLE: one call per notification/write.
 * Returns packet length (> 0, packet at smpdfu_link_dec_packet()), 0 when all
 * of data was consumed without a packet, or a negative error for input
 * refused outright (UDP datagram larger than buf: SMPDFU_EOVERSIZE; BLE as
 * smpdfu_ble_reasm_feed()). *used gets the bytes consumed. */
int smpdfu_link_dec_feed(smpdfu_link_dec_t *d, const uint8_t *data, size_t len, size_t *used);
const uint8_t *smpdfu_link_dec_packet(const smpdfu_link_dec_t *d);

/* Drop a raw UART or BLE partial frame after gap_ms without bytes (0 = never,
 * the default after init). Pick a gap longer than any pause inside one frame
 * and shorter than the time until a retransmission is answered. */
void smpdfu_link_dec_set_gap(smpdfu_link_dec_t *d, uint32_t gap_ms);

/* smpdfu_link_dec_feed() with the time the bytes arrived (monotonic ms): a
 * partial frame quiet for the gap is dropped first (as by tick), then the
 * bytes are fed. Same returns. Bytes fed by plain smpdfu_link_dec_feed()
 * count as arrived at the next tick. */
int smpdfu_link_dec_feed_at(smpdfu_link_dec_t *d, const uint8_t *data, size_t len, size_t *used,
                            uint64_t now_ms);

/* Time passes (monotonic ms). Drops a partial frame that has been quiet for
 * the gap; returns 1 when it dropped one, else 0. */
int smpdfu_link_dec_tick(smpdfu_link_dec_t *d, uint64_t now_ms);

/* When the line will have been quiet for the gap since the last bytes fed
 * (monotonic ms): last bytes + gap_ms, whether they made a frame or not.
 * UINT64_MAX without a gap; 0 when bytes were fed without a time (tick now,
 * so that they get one). */
uint64_t smpdfu_link_dec_quiet_at(const smpdfu_link_dec_t *d);

/* A frame has begun and is not complete (raw UART and BLE; false for the
 * other kinds). */
bool smpdfu_link_dec_partial(const smpdfu_link_dec_t *d);

/* When a tick would drop the partial frame (monotonic ms), or UINT64_MAX
 * when none would (no partial frame, no gap). 0 when bytes of a partial
 * frame were fed without a time: tick now, so that they get one. */
uint64_t smpdfu_link_dec_stale_at(const smpdfu_link_dec_t *d);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_LINK_H */
