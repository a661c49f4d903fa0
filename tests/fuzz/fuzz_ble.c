/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: BLE reassembly. Input = sequence of fragments, each a length
 * byte followed by that many bytes (the last may be short). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "smpdfu/ble.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[300];
    smpdfu_ble_reasm_t r;
    smpdfu_ble_reasm_init(&r, buf, sizeof(buf));
    size_t i = 0;
    while (i < size) {
        size_t n = data[i++];
        if (n > size - i) {
            n = size - i;
        }
        int rc = smpdfu_ble_reasm_feed(&r, data + i, n);
        if (rc > 0) {
            const uint8_t *p = smpdfu_ble_reasm_packet(&r);
            if (p == NULL || (size_t)rc > sizeof(buf) ||
                (size_t)rc != 8u + ((size_t)p[2] << 8 | p[3])) {
                abort();
            }
        } else if (rc != 0 && rc != SMPDFU_ETRUNC && rc != SMPDFU_EOVERSIZE &&
                   rc != SMPDFU_EMALFORMED) {
            abort();
        }
        i += n;
    }
    return 0;
}
