/* SPDX-License-Identifier: Apache-2.0 */
/* CRC-16/XMODEM (poly 0x1021, MSB first), as Zephyr's crc16_itu_t(). */
#include "smpdfu/serial.h"

/* Nibble table: 32 bytes of flash instead of 512, fast enough for UART rates. */
static const uint16_t crc_nibble[16] = {
    0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
    0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef,
};

uint16_t smpdfu_crc16_xmodem(uint16_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        crc = (uint16_t)((crc << 4) ^ crc_nibble[((crc >> 12) ^ (p[i] >> 4)) & 0x0fu]);
        crc = (uint16_t)((crc << 4) ^ crc_nibble[((crc >> 12) ^ (p[i] & 0x0fu)) & 0x0fu]);
    }
    return crc;
}
