/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: raw UART decoder, fed in chunks with occasional idle timeouts.
 * Delivered packets must match their header length and fit the buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "smpdfu/serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[512];
    if (size < 1) {
        return 0;
    }
    uint8_t ctl = data[0];
    size_t cap = (ctl & 1) ? sizeof(buf) : 40;
    smpdfu_raw_dec_t d;
    smpdfu_raw_dec_init(&d, buf, cap);
    data++;
    size--;
    uint32_t seed = ctl + 7u;
    size_t i = 0;
    while (i < size) {
        seed = seed * 1103515245u + 12345u;
        size_t chunk = 1 + (seed >> 16) % 33;
        if (chunk > size - i) {
            chunk = size - i;
        }
        size_t used = 0;
        int r = smpdfu_raw_dec_feed(&d, data + i, chunk, &used);
        if (used == 0 || used > chunk || r < 0) {
            abort();
        }
        if (r > 0) {
            const uint8_t *p = smpdfu_raw_dec_packet(&d);
            if (p == NULL || (size_t)r > cap || (size_t)r != 8u + ((size_t)p[2] << 8 | p[3]) ||
                (p[0] >> 5) != 0 || ((p[0] >> 3) & 3) > 1) {
                abort();
            }
        }
        i += used;
        if ((ctl & 2) && (seed & 0x700) == 0) {
            smpdfu_raw_dec_idle(&d);
        }
    }
    return 0;
}
