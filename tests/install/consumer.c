/* SPDX-License-Identifier: Apache-2.0 */
/* A program outside the project that uses the library as a user would: it
 * frames an SMP echo request for a serial console and decodes it again
 * (portable libraries), and with the POSIX port hashes through mbedTLS.
 * Exit 0 only when everything round-trips. */
#include <stdio.h>
#include <string.h>

#include "smpdfu/serial.h"
#include "smpdfu/version.h"
#ifdef CONSUMER_POSIX
#include "smpdfu/posix_crypto.h"
#endif

int main(void)
{
    static const uint8_t pkt[] = {0x02, 0x00, 0x00, 0x05, 0x00, 0x00, 0x01, 0x00,
                                  0xa1, 0x61, 0x64, 0x62, 0x68, 0x69};
    uint8_t wire[256];
    int enc = smpdfu_serial_encode(pkt, sizeof(pkt), SMPDFU_SERIAL_LINE_MAX, wire, sizeof(wire));
    if (enc < 0) {
        fprintf(stderr, "encode failed: %d\n", enc);
        return 1;
    }
    size_t wire_len = (size_t)enc;
    uint8_t buf[128];
    smpdfu_serial_dec_t d;
    smpdfu_serial_dec_init(&d, buf, sizeof(buf), SMPDFU_SERIAL_LINE_MAX);
    size_t used = 0;
    int n = smpdfu_serial_dec_feed(&d, wire, wire_len, &used);
    if (n != (int)sizeof(pkt) || memcmp(smpdfu_serial_dec_packet(&d), pkt, sizeof(pkt)) != 0) {
        fprintf(stderr, "decode gave %d\n", n);
        return 1;
    }
#ifdef CONSUMER_POSIX
    uint8_t dig[32];
    static const uint8_t abc_sha256[4] = {0xba, 0x78, 0x16, 0xbf};
    if (smpdfu_posix_digest(SMPDFU_HASH_SHA256, "abc", 3, dig) < 0 || memcmp(dig, abc_sha256, 4) != 0) {
        fprintf(stderr, "sha-256 wrong\n");
        return 1;
    }
#endif
    printf("consumer ok: smpdfu %s (header %s), %zu wire bytes\n", smpdfu_version(), SMPDFU_VERSION_STRING,
           wire_len);
    return strcmp(smpdfu_version(), SMPDFU_VERSION_STRING) != 0;
}
