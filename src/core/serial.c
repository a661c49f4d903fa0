/* SPDX-License-Identifier: Apache-2.0 */
/* SMP over console framing (protocol.md §5.1) and the raw UART variant. */
#include "smpdfu/serial.h"

#include <string.h>

#include "base64_priv.h"
#include "smpdfu/smp.h"

#define MARK_FIRST_0 0x06u
#define MARK_FIRST_1 0x09u
#define MARK_CONT_0 0x04u
#define MARK_CONT_1 0x14u

/* Largest SMP packet: the length field (packet + 2) is 16 bits. */
#define PKT_MAX 0xfffdu
/* Smallest length field: an 8-byte SMP header plus the CRC. */
#define LEN_FIELD_MIN (SMPDFU_SMP_HDR_LEN + 2u)

/* ---------------------------------------------------------------- encoder */

/* Base64 characters per line: what fits between marker and \n, cut to a
 * multiple of 4 so every line decodes on its own. */
static size_t chars_per_line(size_t line_max)
{
    return (line_max - 3u) / 4u * 4u;
}

size_t smpdfu_serial_encoded_len(size_t pkt_len, size_t line_max)
{
    if (line_max < 7u || pkt_len > PKT_MAX) {
        return 0;
    }
    size_t chars = (pkt_len + 4u + 2u) / 3u * 4u;
    size_t per = chars_per_line(line_max);
    size_t lines = (chars + per - 1u) / per;
    return chars + 3u * lines;
}

size_t smpdfu_serial_max_packet(size_t buf_size)
{
    if (buf_size < 4u) {
        return 0;
    }
    return buf_size - 4u > PKT_MAX ? PKT_MAX : buf_size - 4u;
}

/* Byte i of the frame len_be16 || pkt || crc_be16, without building it. */
static uint8_t frame_byte(const uint8_t *pkt, size_t pkt_len, uint16_t crc, size_t i)
{
    if (i < 2u) {
        size_t l = pkt_len + 2u;
        return (uint8_t)(i == 0u ? l >> 8 : l & 0xffu);
    }
    if (i < pkt_len + 2u) {
        return pkt[i - 2u];
    }
    return (uint8_t)(i == pkt_len + 2u ? crc >> 8 : crc & 0xffu);
}

int smpdfu_serial_encode(const uint8_t *pkt, size_t pkt_len, size_t line_max,
                         uint8_t *out, size_t cap)
{
    if ((pkt == NULL && pkt_len > 0) || out == NULL || line_max < 7u || pkt_len > PKT_MAX) {
        return SMPDFU_EINVAL;
    }
    size_t need = smpdfu_serial_encoded_len(pkt_len, line_max);
    if (need > cap || need > 0x7fffffffu) {
        return SMPDFU_ENOSPC;
    }
    uint16_t crc = smpdfu_crc16_xmodem(0, pkt, pkt_len);
    size_t frame_len = pkt_len + 4u;
    size_t per = chars_per_line(line_max);
    size_t o = 0;
    size_t on_line = 0;

    for (size_t i = 0; i < frame_len; i += 3u) {
        uint8_t raw[3];
        size_t n = frame_len - i < 3u ? frame_len - i : 3u;
        for (size_t k = 0; k < n; k++) {
            raw[k] = frame_byte(pkt, pkt_len, crc, i + k);
        }
        if (on_line == 0) {
            out[o++] = i == 0 ? MARK_FIRST_0 : MARK_CONT_0;
            out[o++] = i == 0 ? MARK_FIRST_1 : MARK_CONT_1;
        }
        smpdfu_b64_encode_group(raw, n, (char *)(out + o));
        o += 4u;
        on_line += 4u;
        if (on_line == per || i + 3u >= frame_len) {
            out[o++] = '\n';
            on_line = 0;
        }
    }
    return (int)o;
}

/* ------------------------------------------------------- console decoder */

enum {
    ST_LINE_START, /* at the first byte of a line */
    ST_M06,        /* line started with 0x06 */
    ST_M04,        /* line started with 0x04 */
    ST_BODY,       /* base64 of an SMP line */
    ST_BODY_PAD,   /* a padded group ended the data of this line */
    ST_BODY_CR,    /* \r seen in an SMP line: only \n may follow */
    ST_SKIP,       /* rest of a line that is not (or no longer) SMP */
    ST_SKIP_06,    /* ST_SKIP, last byte 0x06: 0x09 starts a frame */
};

void smpdfu_serial_dec_init(smpdfu_serial_dec_t *d, uint8_t *buf, size_t cap, size_t line_max)
{
    memset(d, 0, sizeof(*d));
    d->buf = buf;
    d->cap = buf != NULL ? cap : 0;
    d->line_max = line_max;
    d->state = ST_LINE_START;
}

void smpdfu_serial_dec_reset(smpdfu_serial_dec_t *d)
{
    d->have = 0;
    d->line_len = 0;
    d->nquad = 0;
    d->in_frame = false;
    d->ready = false;
    d->state = ST_LINE_START;
}

static size_t frame_expect(const smpdfu_serial_dec_t *d)
{
    return 2u + (((size_t)d->buf[0] << 8) | d->buf[1]);
}

static void drop_frame(smpdfu_serial_dec_t *d, uint32_t *counter)
{
    if (d->in_frame && counter != NULL) {
        (*counter)++;
    }
    d->in_frame = false;
    d->have = 0;
    d->nquad = 0;
}

static void start_frame(smpdfu_serial_dec_t *d)
{
    if (d->in_frame) {
        d->stats.truncated++;
    }
    d->in_frame = true;
    d->have = 0;
    d->nquad = 0;
    d->line_len = 2;
    d->state = ST_BODY;
}

/* Decode the 4 pending characters into the frame. Returns false when the
 * frame was dropped. */
static bool decode_quad(smpdfu_serial_dec_t *d)
{
    uint8_t b[3];
    int got = smpdfu_b64_decode_group(d->quad, b);
    d->nquad = 0;
    if (got < 0) {
        drop_frame(d, &d->stats.base64_errors);
        return false;
    }
    for (int k = 0; k < got; k++) {
        if (d->have >= d->cap) {
            drop_frame(d, &d->stats.oversize);
            return false;
        }
        d->buf[d->have++] = b[k];
        if (d->have == 2u) {
            size_t expect = frame_expect(d);
            if (expect - 2u < LEN_FIELD_MIN) {
                drop_frame(d, &d->stats.bad_length);
                return false;
            }
            if (expect > d->cap) {
                drop_frame(d, &d->stats.oversize);
                return false;
            }
        } else if (d->have > 2u && d->have > frame_expect(d)) {
            drop_frame(d, &d->stats.oversize);
            return false;
        }
    }
    if (got < 3) {
        d->state = ST_BODY_PAD;
    }
    return true;
}

/* An SMP line ended. Returns the packet length when a frame completed. */
static int end_smp_line(smpdfu_serial_dec_t *d)
{
    d->state = ST_LINE_START;
    d->line_len = 0;
    if (d->nquad != 0) {
        /* Zephyr drops a partial group; the frame cannot survive that. */
        drop_frame(d, &d->stats.base64_errors);
        return 0;
    }
    if (d->have < 2u) {
        /* A first line too short to carry the length field. */
        drop_frame(d, &d->stats.bad_length);
        return 0;
    }
    size_t expect = frame_expect(d);
    if (d->have < expect) {
        return 0; /* continuation lines follow */
    }
    if (smpdfu_crc16_xmodem(0, d->buf + 2, d->have - 2u) != 0) {
        drop_frame(d, &d->stats.crc_errors);
        return 0;
    }
    d->in_frame = false;
    d->ready = true;
    d->stats.packets++;
    return (int)(expect - 4u);
}

int smpdfu_serial_dec_feed(smpdfu_serial_dec_t *d, const uint8_t *data, size_t len, size_t *used)
{
    size_t i = 0;
    int ret = 0;

    if (d->ready) {
        d->ready = false;
        d->have = 0;
    }
    while (i < len && ret == 0) {
        uint8_t c = data[i];
        bool again = false; /* reprocess c in the state just entered */

        switch (d->state) {
        case ST_LINE_START:
            if (c == MARK_FIRST_0) {
                d->state = ST_M06;
            } else if (c == MARK_CONT_0) {
                d->state = ST_M04;
            } else if (c != '\n') {
                d->stats.other_lines++;
                d->state = ST_SKIP;
            }
            break;
        case ST_M06:
            if (c == MARK_FIRST_1) {
                start_frame(d);
            } else {
                d->stats.other_lines++;
                d->state = ST_SKIP;
                again = true;
            }
            break;
        case ST_M04:
            if (c == MARK_CONT_1) {
                if (d->in_frame) {
                    d->state = ST_BODY;
                    d->line_len = 2;
                } else {
                    d->stats.orphan_lines++;
                    d->state = ST_SKIP;
                }
            } else {
                d->stats.other_lines++;
                d->state = ST_SKIP;
                again = true;
            }
            break;
        case ST_BODY:
        case ST_BODY_PAD:
        case ST_BODY_CR:
            d->line_len++;
            if (d->line_max != 0 && d->line_len > d->line_max) {
                drop_frame(d, &d->stats.overlong_lines);
                d->state = ST_SKIP;
                again = true;
                break;
            }
            if (c == '\n') {
                ret = end_smp_line(d);
            } else if (c == '\r' && d->state != ST_BODY_CR) {
                d->state = ST_BODY_CR;
            } else if (d->state == ST_BODY &&
                       (c == '=' || smpdfu_b64_value(c) >= 0)) {
                d->quad[d->nquad++] = c;
                if (d->nquad == 4u && !decode_quad(d)) {
                    d->state = ST_SKIP;
                }
            } else {
                /* Outside the alphabet, data after padding, or \r not
                 * followed by \n. A 0x06 here may start a new frame. */
                drop_frame(d, &d->stats.base64_errors);
                d->state = ST_SKIP;
                again = true;
            }
            break;
        case ST_SKIP:
        case ST_SKIP_06:
            if (c == '\n') {
                d->state = ST_LINE_START;
                d->line_len = 0;
            } else if (c == MARK_FIRST_1 && d->state == ST_SKIP_06) {
                start_frame(d);
            } else {
                d->state = c == MARK_FIRST_0 ? ST_SKIP_06 : ST_SKIP;
            }
            break;
        default:
            d->state = ST_SKIP;
            break;
        }
        if (!again) {
            i++;
        }
    }
    if (used != NULL) {
        *used = i;
    }
    return ret;
}

const uint8_t *smpdfu_serial_dec_packet(const smpdfu_serial_dec_t *d)
{
    return d->ready ? d->buf + 2 : NULL;
}

/* ------------------------------------------------------------- raw UART */

/* Could this byte start an SMP header? */
static bool raw_byte0_ok(uint8_t b)
{
    return (b >> 5) == 0 && ((b >> 3) & 3u) <= SMPDFU_SMP_V2 && (b & 7u) <= SMPDFU_OP_WRITE_RSP;
}

void smpdfu_raw_dec_init(smpdfu_raw_dec_t *d, uint8_t *buf, size_t cap)
{
    memset(d, 0, sizeof(*d));
    d->buf = buf;
    d->cap = buf != NULL ? cap : 0;
}

/* The 8 header bytes in buf announce a packet that does not fit: drop the
 * first byte and look for another header start in the rest. */
static void raw_reject_header(smpdfu_raw_dec_t *d)
{
    size_t k = 1;
    d->stats.oversize++;
    while (k < d->have && !raw_byte0_ok(d->buf[k])) {
        d->stats.bad_header++;
        k++;
    }
    memmove(d->buf, d->buf + k, d->have - k);
    d->have -= k;
    d->need = 0;
}

int smpdfu_raw_dec_feed(smpdfu_raw_dec_t *d, const uint8_t *data, size_t len, size_t *used)
{
    size_t i = 0;
    int ret = 0;

    if (d->ready) {
        d->ready = false;
        d->have = 0;
        d->need = 0;
    }
    while (i < len && ret == 0) {
        if (d->have < SMPDFU_SMP_HDR_LEN) {
            uint8_t c = data[i++];
            if (d->have == 0 && !raw_byte0_ok(c)) {
                d->stats.bad_header++;
                continue;
            }
            if (d->cap < SMPDFU_SMP_HDR_LEN) {
                d->stats.oversize++;
                continue;
            }
            d->buf[d->have++] = c;
            /* A rejected header may leave 8 buffered bytes to judge again. */
            while (d->have == SMPDFU_SMP_HDR_LEN && d->need == 0) {
                size_t need = SMPDFU_SMP_HDR_LEN + (((size_t)d->buf[2] << 8) | d->buf[3]);
                if (need > d->cap) {
                    raw_reject_header(d);
                } else {
                    d->need = need;
                }
            }
        } else {
            size_t n = d->need - d->have;
            if (n > len - i) {
                n = len - i;
            }
            memcpy(d->buf + d->have, data + i, n);
            d->have += n;
            i += n;
        }
        if (d->need != 0 && d->have == d->need) {
            d->ready = true;
            d->stats.packets++;
            ret = (int)d->need;
        }
    }
    if (used != NULL) {
        *used = i;
    }
    return ret;
}

const uint8_t *smpdfu_raw_dec_packet(const smpdfu_raw_dec_t *d)
{
    return d->ready ? d->buf : NULL;
}

void smpdfu_raw_dec_idle(smpdfu_raw_dec_t *d)
{
    if (d->ready) {
        return; /* a delivered packet stays valid until the next feed */
    }
    if (d->have > 0) {
        d->stats.timeouts++;
    }
    d->have = 0;
    d->need = 0;
}
