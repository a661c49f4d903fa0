/* SPDX-License-Identifier: Apache-2.0 */
/* Oracle helper for tests/core/test_serial_oracle.py.
 *   serial_oracle decode [line_max]  console bytes on stdin -> one hex line per packet
 *   serial_oracle encode [line_max]  one hex packet per stdin line -> console frames
 * decode prints the decoder stats to stderr as "key=value" words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smpdfu/serial.h"

static int decode(size_t line_max)
{
    static uint8_t buf[0x10000 + 4];
    static uint8_t in[4096];
    smpdfu_serial_dec_t d;
    smpdfu_serial_dec_init(&d, buf, sizeof(buf), line_max);
    unsigned chunk = 1;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, in, sizeof(in));
        if (n < 0) {
            perror("read");
            return 1;
        }
        if (n == 0) {
            break;
        }
        size_t off = 0;
        while (off < (size_t)n) {
            /* vary the chunk size so partial groups/lines cross feeds */
            size_t len = (size_t)n - off < chunk ? (size_t)n - off : chunk;
            chunk = chunk % 61 + 1;
            size_t used = 0;
            int r = smpdfu_serial_dec_feed(&d, in + off, len, &used);
            if (r > 0) {
                const uint8_t *p = smpdfu_serial_dec_packet(&d);
                for (int i = 0; i < r; i++) {
                    printf("%02x", p[i]);
                }
                printf("\n");
            }
            off += used;
        }
    }
    const smpdfu_serial_stats_t *s = &d.stats;
    fprintf(stderr,
            "packets=%u crc_errors=%u base64_errors=%u oversize=%u overlong_lines=%u "
            "orphan_lines=%u other_lines=%u bad_length=%u truncated=%u\n",
            s->packets, s->crc_errors, s->base64_errors, s->oversize, s->overlong_lines,
            s->orphan_lines, s->other_lines, s->bad_length, s->truncated);
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static int encode(size_t line_max)
{
    static char line[2 * 0x10000 + 16];
    static uint8_t pkt[0x10000];
    static uint8_t out[0x20000];
    while (fgets(line, sizeof(line), stdin) != NULL) {
        size_t len = strcspn(line, "\r\n");
        if (len % 2 != 0) {
            fprintf(stderr, "odd hex line\n");
            return 1;
        }
        for (size_t i = 0; i < len / 2; i++) {
            int hi = hexval(line[2 * i]);
            int lo = hexval(line[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                fprintf(stderr, "bad hex\n");
                return 1;
            }
            pkt[i] = (uint8_t)(hi << 4 | lo);
        }
        int n = smpdfu_serial_encode(pkt, len / 2, line_max, out, sizeof(out));
        if (n < 0) {
            fprintf(stderr, "encode: %s\n", smpdfu_strerror(n));
            return 1;
        }
        fwrite(out, 1, (size_t)n, stdout);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: serial_oracle decode|encode [line_max]\n");
        return 2;
    }
    size_t line_max = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
    if (strcmp(argv[1], "decode") == 0) {
        return decode(line_max);
    }
    if (strcmp(argv[1], "encode") == 0) {
        return encode(line_max != 0 ? line_max : SMPDFU_SERIAL_LINE_MAX);
    }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
