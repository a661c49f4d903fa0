/* libFuzzer: the link decoder with partial-frame recovery. The input picks
 * the link kind and the quiet gap, then a script of steps: feed a chunk
 * (with or without a time), or let time pass and tick. Checked: delivered
 * packets match their header length and fit the buffer; a tick at or past
 * stale_at leaves no partial frame; every drop is counted once, by the link
 * decoder and by the kind's own counter. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "smpdfu/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t kind_timeouts(const smpdfu_link_dec_t *d)
{
    if (d->kind == SMPDFU_LINK_RAW_UART) {
        return d->u.raw.stats.timeouts;
    }
    if (d->kind == SMPDFU_LINK_BLE) {
        return d->u.ble.stats.timeouts;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[600];
    static const smpdfu_link_kind_t kinds[4] = {SMPDFU_LINK_RAW_UART, SMPDFU_LINK_BLE,
                                                SMPDFU_LINK_SERIAL, SMPDFU_LINK_UDP};
    if (size < 2) {
        return 0;
    }
    smpdfu_link_t l = {kinds[data[0] & 3], 0, 0, false, (data[0] & 4) ? 128u : 0u};
    size_t cap = (data[0] & 8) ? sizeof(buf) : 40;
    uint32_t gap = (uint32_t)data[1] * 4u; /* 0 = off */
    smpdfu_link_dec_t d;
    smpdfu_link_dec_init(&d, &l, buf, cap);
    smpdfu_link_dec_set_gap(&d, gap);
    data += 2;
    size -= 2;

    uint64_t now = 1000;
    size_t i = 0;
    while (i < size) {
        uint8_t op = data[i++];
        if ((op & 0xc0) == 0xc0) {
            /* time passes, then a tick */
            now += (uint64_t)(op & 0x3f) * 16u;
            uint64_t at = smpdfu_link_dec_stale_at(&d);
            bool partial = smpdfu_link_dec_partial(&d);
            uint32_t before = d.stale;
            int r = smpdfu_link_dec_tick(&d, now);
            if (r != 0 && r != 1) {
                abort();
            }
            if (r == 1 && (!partial || at == UINT64_MAX || d.stale != before + 1)) {
                abort();
            }
            if (at != 0 && at != UINT64_MAX && now >= at && smpdfu_link_dec_partial(&d)) {
                abort(); /* stale and still there */
            }
            if (gap == 0 && r != 0) {
                abort();
            }
        } else {
            size_t n = (size_t)(op & 0x3f) + 1u;
            if (n > size - i) {
                n = size - i;
            }
            size_t used = 0;
            int rc;
            if (op & 0x40) {
                now += (op >> 7) * 7u;
                rc = smpdfu_link_dec_feed_at(&d, data + i, n, &used, now);
            } else {
                rc = smpdfu_link_dec_feed(&d, data + i, n, &used);
            }
            if (n > 0 && (used == 0 || used > n)) {
                abort();
            }
            if (rc > 0) {
                const uint8_t *p = smpdfu_link_dec_packet(&d);
                if (p == NULL || (size_t)rc > cap) {
                    abort();
                }
                if ((l.kind == SMPDFU_LINK_RAW_UART || l.kind == SMPDFU_LINK_BLE) &&
                    (size_t)rc != 8u + ((size_t)p[2] << 8 | p[3])) {
                    abort();
                }
                if (smpdfu_link_dec_partial(&d)) {
                    abort();
                }
            }
            i += used;
        }
        if (d.stale != kind_timeouts(&d)) {
            abort();
        }
    }
    return 0;
}
