/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: console decoder. The first byte picks line_max and a chunking
 * seed; the rest is fed split at fuzzer-chosen points. Every delivered packet
 * must have a valid length, a good CRC and lie inside the buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const smpdfu_serial_dec_t *d, int r, const uint8_t *buf, size_t cap)
{
    const uint8_t *p = smpdfu_serial_dec_packet(d);
    size_t len = (size_t)r;
    if (p == NULL || len < 8 || len + 4 > cap || p != buf + 2) {
        abort();
    }
    if (((size_t)buf[0] << 8 | buf[1]) != len + 2) {
        abort();
    }
    if (smpdfu_crc16_xmodem(0, p, len + 2) != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[1024];
    if (size < 1) {
        return 0;
    }
    const size_t line_maxes[4] = { 0, 127, 128, 16 };
    uint8_t ctl = data[0];
    size_t cap = (ctl & 0x10) ? sizeof(buf) : 64;
    smpdfu_serial_dec_t d;
    smpdfu_serial_dec_init(&d, buf, cap, line_maxes[ctl & 3]);
    data++;
    size--;
    /* chunk sizes come from a tiny PRNG seeded by the control byte */
    uint32_t seed = ctl * 2654435761u + 1;
    size_t i = 0;
    uint32_t delivered = 0;
    while (i < size) {
        seed = seed * 1103515245u + 12345u;
        size_t chunk = (ctl & 0x20) ? size - i : 1 + (seed >> 16) % 40;
        if (chunk > size - i) {
            chunk = size - i;
        }
        size_t used = 0;
        int r = smpdfu_serial_dec_feed(&d, data + i, chunk, &used);
        if (used == 0 || used > chunk || r < 0) {
            abort();
        }
        if (r > 0) {
            check(&d, r, buf, cap);
            delivered++;
        }
        i += used;
        if ((ctl & 0x40) && (seed & 0x300) == 0) {
            smpdfu_serial_dec_reset(&d);
        }
    }
    if (d.stats.packets != delivered) {
        abort();
    }
    return 0;
}
