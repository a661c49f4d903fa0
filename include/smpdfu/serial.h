/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — serial transports: SMP over console (protocol.md §5.1) and raw UART.
 *
 * Console framing of one SMP packet:
 *   frame = len_be16 (packet + 2) || packet || crc16_xmodem(packet)_be16
 *   text  = base64(frame), cut at multiples of 4 characters into lines of at
 *           most line_max bytes: marker (06 09 first, 04 14 after) + text + \n
 *
 * Both decoders are incremental: feed bytes in any chunking; they never
 * allocate, they assemble into a caller-owned buffer, and they count why
 * they dropped what they dropped.
 */
#ifndef SMPDFU_SERIAL_H
#define SMPDFU_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Zephyr's MCUMGR_SERIAL_MAX_FRAME: longest line incl. marker and \n. */
#define SMPDFU_SERIAL_LINE_MAX 127

/* CRC-16/XMODEM (poly 0x1021, init given, no reflection, no xorout).
 * Start with crc = 0. crc16("123456789") = 0x31C3. */
uint16_t smpdfu_crc16_xmodem(uint16_t crc, const uint8_t *p, size_t n);

/* Standard base64 with '=' padding. encode returns the number of characters
 * written (4*ceil(n/3)) or SMPDFU_ENOSPC; no NUL is written.
 * decode takes text whose length is a multiple of 4, returns bytes written,
 * SMPDFU_EBASE64 for characters outside the alphabet, data after '=' or a
 * bad length, SMPDFU_ENOSPC when out is too small. */
int smpdfu_base64_encode(const uint8_t *in, size_t n, char *out, size_t cap);
int smpdfu_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

/* Bytes smpdfu_serial_encode() produces for a packet of pkt_len bytes: the
 * one wire-length formula of console framing (the client sizes its transmit
 * buffer with it, the link emulator its throughput limits). With
 * c = 4 * ceil((pkt_len + 4) / 3) base64 characters (length field, packet,
 * CRC) and at most (line_max - 3) rounded down to a multiple of 4 of them per
 * line, it is c + 3 per line (2-byte marker and \n). E.g. 2048 -> 2805 at
 * line_max 127. 0 when line_max < 7 or pkt_len > 0xfffd (not encodable). */
size_t smpdfu_serial_encoded_len(size_t pkt_len, size_t line_max);

/* Largest SMP packet whose frame fits a device buffer of buf_size bytes
 * (Zephyr: buf_size - 4, the length field and CRC share the net_buf). */
size_t smpdfu_serial_max_packet(size_t buf_size);

/* Encode one SMP packet into console lines. line_max is the longest line
 * including the 2-byte marker and the \n (use SMPDFU_SERIAL_LINE_MAX; must be
 * >= 7). Returns the number of bytes written, SMPDFU_ENOSPC, SMPDFU_EINVAL
 * (packet longer than 0xfffd bytes, line_max too small). */
int smpdfu_serial_encode(const uint8_t *pkt, size_t pkt_len, size_t line_max,
                         uint8_t *out, size_t cap);

/* Why the console decoder dropped input. */
typedef struct {
    uint32_t packets;       /* good packets delivered */
    uint32_t crc_errors;    /* frame complete but CRC wrong */
    uint32_t base64_errors; /* bad character or bad group in a frame line */
    uint32_t oversize;      /* length field larger than the buffer, or more data than it said */
    uint32_t overlong_lines;/* line longer than line_max (0 = no limit) */
    uint32_t orphan_lines;  /* 04 14 continuation with no frame in progress */
    uint32_t other_lines;   /* lines without a marker (log output) */
    uint32_t bad_length;    /* length field < 2 + 8 (cannot hold a header and CRC) */
    uint32_t truncated;     /* frame abandoned incomplete: a new 06 09 started first */
} smpdfu_serial_stats_t;

/* Console decoder state. All fields private except stats. */
typedef struct {
    uint8_t *buf;       /* caller-owned: receives len+packet+crc while assembling */
    size_t cap;
    size_t line_max;    /* 0 = accept lines of any length */
    size_t have;        /* decoded bytes of the current frame */
    size_t line_len;    /* bytes of the current line seen so far */
    uint8_t quad[4];    /* pending base64 characters */
    uint8_t nquad;
    uint8_t state;
    bool in_frame;
    bool ready;         /* a packet was delivered; cleared by the next feed */
    smpdfu_serial_stats_t stats;
} smpdfu_serial_dec_t;

/* Decoder behaviour (see docs/framing.md):
 * - a line starting 06 09 starts a new frame (an incomplete one in progress
 *   is dropped and counted as truncated); 04 14 continues the frame in
 *   progress; any other line is log output and is skipped without
 *   disturbing the frame in progress;
 * - 06 09 in the middle of a non-SMP or broken line (log text without a
 *   newline, a lost \n) also starts a new frame: unlike Zephyr, which only
 *   looks at line starts, so a client does not lose a response glued to a
 *   log line;
 * - base64 is decoded 4 characters at a time as bytes arrive (no line
 *   buffer); a padded group may end any line (each line decodes on its own,
 *   as in Zephyr); \r before \n is tolerated;
 * - the frame is judged at the end of each line: complete and CRC good ->
 *   delivered; more bytes than the length field said, bad base64, a partial
 *   4-character group, bad CRC, a length field < 10 or larger than the
 *   buffer -> the frame is dropped and counted;
 * - with line_max != 0, an SMP line longer than line_max bytes (marker and
 *   \n included) drops the frame it belongs to (Zephyr drops the line; the
 *   frame is lost either way).
 *
 * buf must hold the largest frame expected: packet + 4 bytes. line_max as in
 * encode, or 0 for no limit (a client reading a device whose lines may be
 * longer). A server emulating Zephyr uses 128: longer lines are dropped. */
void smpdfu_serial_dec_init(smpdfu_serial_dec_t *d, uint8_t *buf, size_t cap, size_t line_max);

/* Drop any partial frame/line (e.g. after the port reopened). Keeps stats. */
void smpdfu_serial_dec_reset(smpdfu_serial_dec_t *d);

/* Feed bytes. Stops right after a packet completes. *used receives how many
 * bytes were consumed (always > 0 when len > 0). Returns the packet length
 * (> 0) when a good packet is ready at smpdfu_serial_dec_packet(); it stays
 * valid until the next feed. Returns 0 when all bytes were consumed without
 * completing a packet. Never fails: bad input is dropped and counted. */
int smpdfu_serial_dec_feed(smpdfu_serial_dec_t *d, const uint8_t *data, size_t len, size_t *used);

/* The packet delivered by the last feed that returned > 0. */
const uint8_t *smpdfu_serial_dec_packet(const smpdfu_serial_dec_t *d);

/* ------------------------------------------------------------- raw UART */

typedef struct {
    uint32_t packets;
    uint32_t bad_header; /* bytes skipped because they cannot start a header */
    uint32_t oversize;   /* header length larger than the buffer */
    uint32_t timeouts;   /* partial packets dropped by smpdfu_raw_dec_idle() */
} smpdfu_raw_stats_t;

/* Raw UART: bare SMP packets back to back; the length comes from the header.
 * A header byte 0 with reserved bits set, version > 1 or op > 3 (Zephyr's raw
 * transport drops op >= MGMT_OP_COUNT too) is skipped one byte at a time
 * (resynchronisation). A header whose length does not fit the buffer is
 * counted as oversize and the search for a header restarts at its second
 * byte. */
typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t have;
    size_t need;
    bool ready;
    smpdfu_raw_stats_t stats;
} smpdfu_raw_dec_t;

void smpdfu_raw_dec_init(smpdfu_raw_dec_t *d, uint8_t *buf, size_t cap);
/* Same contract as smpdfu_serial_dec_feed(). */
int smpdfu_raw_dec_feed(smpdfu_raw_dec_t *d, const uint8_t *data, size_t len, size_t *used);
const uint8_t *smpdfu_raw_dec_packet(const smpdfu_raw_dec_t *d);
/* The line was quiet for the receive timeout: drop a partial packet. */
void smpdfu_raw_dec_idle(smpdfu_raw_dec_t *d);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_SERIAL_H */
