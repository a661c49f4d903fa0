/* SPDX-License-Identifier: Apache-2.0 */
/* A transport as data: framing choice and size limits per link kind. */
#include "smpdfu/link.h"

#include <string.h>

#include "smpdfu/config.h"
#include "smpdfu/smp.h"

/* Kinds compiled in (SMPDFU_LINK_KINDS, config.h): the code of the others is
 * left out, and asking for one of them fails (SMPDFU_ENOTSUP, or 0 bytes). */
#define HAS(kind) (((SMPDFU_LINK_KINDS) >> (kind)) & 1u)

/* 8-byte header plus a 16-bit CBOR length. */
#define SMP_PKT_MAX (SMPDFU_SMP_HDR_LEN + 0xffffu)

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static size_t serial_line_max(const smpdfu_link_t *l)
{
    return l->line_max != 0 ? l->line_max : SMPDFU_SERIAL_LINE_MAX;
}

size_t smpdfu_link_max_packet(const smpdfu_link_t *l, size_t dev_buf_size)
{
    size_t dev = dev_buf_size != 0 ? dev_buf_size : SMPDFU_DEFAULT_BUF_SIZE;
    if (l == NULL) {
        return 0;
    }
    if (!HAS(l->kind)) {
        return 0;
    }
    switch (l->kind) {
    case SMPDFU_LINK_SERIAL:
        return HAS(SMPDFU_LINK_SERIAL) ? smpdfu_serial_max_packet(dev) : 0;
    case SMPDFU_LINK_RAW_UART:
        return min_size(dev, SMP_PKT_MAX);
    case SMPDFU_LINK_UDP: {
        size_t mtu = l->mtu != 0 ? l->mtu : 1500u;
        size_t lim = dev_buf_size != 0 ? min_size(dev_buf_size, mtu) : mtu;
        return min_size(lim, SMP_PKT_MAX);
    }
    case SMPDFU_LINK_BLE:
        if (l->ble_reassembly) {
            return min_size(dev, SMP_PKT_MAX);
        }
        return HAS(SMPDFU_LINK_BLE) ? min_size(dev, smpdfu_ble_frag_max(l->mtu != 0 ? l->mtu : 23u)) : 0;
    default:
        return 0;
    }
}

size_t smpdfu_link_encoded_len(const smpdfu_link_t *l, size_t pkt_len)
{
    if (l == NULL) {
        return 0;
    }
    if (l->kind == SMPDFU_LINK_SERIAL && HAS(SMPDFU_LINK_SERIAL)) {
        return smpdfu_serial_encoded_len(pkt_len, serial_line_max(l));
    }
    return pkt_len;
}

int smpdfu_link_encode(const smpdfu_link_t *l, const uint8_t *pkt, size_t pkt_len,
                       uint8_t *out, size_t cap)
{
    if (l == NULL || (pkt == NULL && pkt_len > 0) || out == NULL) {
        return SMPDFU_EINVAL;
    }
    if (!HAS(l->kind)) {
        return SMPDFU_ENOTSUP;
    }
    switch (l->kind) {
    case SMPDFU_LINK_SERIAL:
        if (!HAS(SMPDFU_LINK_SERIAL)) {
            return SMPDFU_ENOTSUP;
        }
        return smpdfu_serial_encode(pkt, pkt_len, serial_line_max(l), out, cap);
    case SMPDFU_LINK_RAW_UART:
    case SMPDFU_LINK_UDP:
    case SMPDFU_LINK_BLE:
        if (pkt_len > SMP_PKT_MAX) {
            return SMPDFU_EINVAL;
        }
        if (pkt_len > cap) {
            return SMPDFU_ENOSPC;
        }
        if (pkt_len > 0) {
            memmove(out, pkt, pkt_len);
        }
        return (int)pkt_len;
    default:
        return SMPDFU_EINVAL;
    }
}

void smpdfu_link_dec_init(smpdfu_link_dec_t *d, const smpdfu_link_t *l, uint8_t *buf, size_t cap)
{
    memset(d, 0, sizeof(*d));
    d->kind = l->kind;
    d->buf = buf;
    d->cap = buf != NULL ? cap : 0;
    switch (l->kind) {
    case SMPDFU_LINK_SERIAL:
        if (HAS(SMPDFU_LINK_SERIAL)) {
            smpdfu_serial_dec_init(&d->u.serial, buf, d->cap, l->rx_line_max);
        }
        break;
    case SMPDFU_LINK_RAW_UART:
        if (HAS(SMPDFU_LINK_RAW_UART)) {
            smpdfu_raw_dec_init(&d->u.raw, buf, d->cap);
        }
        break;
    case SMPDFU_LINK_BLE:
        if (HAS(SMPDFU_LINK_BLE)) {
            smpdfu_ble_reasm_init(&d->u.ble, buf, d->cap);
        }
        break;
    default:
        break;
    }
}

void smpdfu_link_dec_reset(smpdfu_link_dec_t *d)
{
    d->pkt_len = 0;
    switch (d->kind) {
    case SMPDFU_LINK_SERIAL:
        if (HAS(SMPDFU_LINK_SERIAL)) {
            smpdfu_serial_dec_reset(&d->u.serial);
        }
        break;
    case SMPDFU_LINK_RAW_UART:
        /* Same effect as a quiet line, without counting a timeout. */
        d->u.raw.have = 0;
        d->u.raw.need = 0;
        d->u.raw.ready = false;
        break;
    case SMPDFU_LINK_BLE:
        if (HAS(SMPDFU_LINK_BLE)) {
            smpdfu_ble_reasm_reset(&d->u.ble);
        }
        break;
    default:
        break;
    }
}

int smpdfu_link_dec_feed(smpdfu_link_dec_t *d, const uint8_t *data, size_t len, size_t *used)
{
    size_t u = 0;
    int rc;

    d->pkt_len = 0;
    if (data == NULL && len > 0) {
        rc = SMPDFU_EINVAL;
    } else {
        switch (HAS(d->kind) ? d->kind : (smpdfu_link_kind_t)-1) {
        case SMPDFU_LINK_SERIAL:
            if (!HAS(SMPDFU_LINK_SERIAL)) {
                rc = SMPDFU_ENOTSUP;
                break;
            }
            rc = smpdfu_serial_dec_feed(&d->u.serial, data, len, &u);
            break;
        case SMPDFU_LINK_RAW_UART:
            if (!HAS(SMPDFU_LINK_RAW_UART)) {
                rc = SMPDFU_ENOTSUP;
                break;
            }
            rc = smpdfu_raw_dec_feed(&d->u.raw, data, len, &u);
            break;
        case SMPDFU_LINK_UDP:
            u = len;
            if (len > d->cap) {
                rc = SMPDFU_EOVERSIZE;
            } else {
                if (len > 0) {
                    memcpy(d->buf, data, len);
                }
                rc = (int)len;
            }
            break;
        case SMPDFU_LINK_BLE:
            if (!HAS(SMPDFU_LINK_BLE)) {
                rc = SMPDFU_ENOTSUP;
                break;
            }
            u = len;
            rc = smpdfu_ble_reasm_feed(&d->u.ble, data, len);
            break;
        default:
            rc = HAS(d->kind) ? SMPDFU_EINVAL : SMPDFU_ENOTSUP;
            break;
        }
    }
    if (rc > 0) {
        d->pkt_len = (size_t)rc;
    }
    if (u > 0) {
        d->unstamped = true;
    }
    if (used != NULL) {
        *used = u;
    }
    return rc;
}

void smpdfu_link_dec_set_gap(smpdfu_link_dec_t *d, uint32_t gap_ms)
{
    d->gap_ms = gap_ms;
}

bool smpdfu_link_dec_partial(const smpdfu_link_dec_t *d)
{
    switch (d->kind) {
    case SMPDFU_LINK_RAW_UART:
        return d->u.raw.have > 0 && !d->u.raw.ready;
    case SMPDFU_LINK_BLE:
        return d->u.ble.have > 0 && !d->u.ble.ready;
    default:
        return false; /* serial resyncs on its marker; a datagram is whole */
    }
}

uint64_t smpdfu_link_dec_stale_at(const smpdfu_link_dec_t *d)
{
    if (d->gap_ms == 0 || !smpdfu_link_dec_partial(d)) {
        return UINT64_MAX;
    }
    if (d->unstamped) {
        return 0; /* a tick now stamps the bytes */
    }
    if (d->last_rx > UINT64_MAX - 1u - d->gap_ms) {
        return UINT64_MAX - 1u;
    }
    return d->last_rx + d->gap_ms;
}

uint64_t smpdfu_link_dec_quiet_at(const smpdfu_link_dec_t *d)
{
    if (d->gap_ms == 0) {
        return UINT64_MAX;
    }
    if (d->unstamped) {
        return 0;
    }
    if (d->last_rx > UINT64_MAX - 1u - d->gap_ms) {
        return UINT64_MAX - 1u;
    }
    return d->last_rx + d->gap_ms;
}

int smpdfu_link_dec_tick(smpdfu_link_dec_t *d, uint64_t now_ms)
{
    if (d->unstamped) {
        /* Bytes came since the last tick: count them as arriving now, which
         * can only make a drop later, never early. */
        d->unstamped = false;
        d->last_rx = now_ms;
        return 0;
    }
    uint64_t at = smpdfu_link_dec_stale_at(d);
    if (at == UINT64_MAX || now_ms < at) {
        return 0;
    }
    if (d->kind == SMPDFU_LINK_RAW_UART) {
        if (HAS(SMPDFU_LINK_RAW_UART)) {
            smpdfu_raw_dec_idle(&d->u.raw);
        }
    } else if (HAS(SMPDFU_LINK_BLE)) {
        smpdfu_ble_reasm_idle(&d->u.ble);
    }
    d->pkt_len = 0;
    d->stale++;
    return 1;
}

int smpdfu_link_dec_feed_at(smpdfu_link_dec_t *d, const uint8_t *data, size_t len, size_t *used,
                            uint64_t now_ms)
{
    (void)smpdfu_link_dec_tick(d, now_ms);
    int rc = smpdfu_link_dec_feed(d, data, len, used);
    if (d->unstamped) {
        d->unstamped = false;
        d->last_rx = now_ms;
    }
    return rc;
}

const uint8_t *smpdfu_link_dec_packet(const smpdfu_link_dec_t *d)
{
    if (d->pkt_len == 0) {
        return NULL;
    }
    switch (d->kind) {
    case SMPDFU_LINK_SERIAL:
        return HAS(SMPDFU_LINK_SERIAL) ? smpdfu_serial_dec_packet(&d->u.serial) : NULL;
    case SMPDFU_LINK_RAW_UART:
        return HAS(SMPDFU_LINK_RAW_UART) ? smpdfu_raw_dec_packet(&d->u.raw) : NULL;
    case SMPDFU_LINK_BLE:
        return HAS(SMPDFU_LINK_BLE) ? smpdfu_ble_reasm_packet(&d->u.ble) : NULL;
    default:
        return d->buf;
    }
}
