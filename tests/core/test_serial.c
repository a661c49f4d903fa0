/* SPDX-License-Identifier: Apache-2.0 */
/* Console framing (protocol.md §5.1) and raw UART decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smpdfu/serial.h"

static uint32_t rng_state = 0x12345678u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void fill_packet(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)rnd();
    }
}

/* ------------------------------------------------------------ primitives */

static void test_crc16(void **state)
{
    (void)state;
    assert_int_equal(smpdfu_crc16_xmodem(0, (const uint8_t *)"123456789", 9), 0x31C3);
    const uint8_t pkt[] = { 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x01, 0x00,
                            0xA1, 0x61, 0x64, 0x62, 0x68, 0x69 };
    assert_int_equal(smpdfu_crc16_xmodem(0, pkt, sizeof(pkt)), 0xB806);
    /* incremental == one shot; appending the CRC big-endian gives 0 */
    uint16_t c = smpdfu_crc16_xmodem(0, pkt, 5);
    assert_int_equal(smpdfu_crc16_xmodem(c, pkt + 5, sizeof(pkt) - 5), 0xB806);
    const uint8_t tail[2] = { 0xB8, 0x06 };
    assert_int_equal(smpdfu_crc16_xmodem(0xB806, tail, 2), 0);
    assert_int_equal(smpdfu_crc16_xmodem(0, NULL, 0), 0);
}

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648 §10 vectors */
    const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    char b[16];
    uint8_t d[16];
    for (int i = 0; i < 7; i++) {
        int n = smpdfu_base64_encode((const uint8_t *)in[i], strlen(in[i]), b, sizeof(b));
        assert_int_equal(n, (int)strlen(out[i]));
        assert_memory_equal(b, out[i], (size_t)n);
        n = smpdfu_base64_decode(out[i], strlen(out[i]), d, sizeof(d));
        assert_int_equal(n, (int)strlen(in[i]));
        assert_memory_equal(d, in[i], (size_t)n);
    }
    assert_int_equal(smpdfu_base64_encode((const uint8_t *)"foo", 3, b, 3), SMPDFU_ENOSPC);
    assert_int_equal(smpdfu_base64_decode("Zm9v", 4, d, 2), SMPDFU_ENOSPC);
    assert_int_equal(smpdfu_base64_decode("Zm9", 3, d, sizeof(d)), SMPDFU_EBASE64);
    assert_int_equal(smpdfu_base64_decode("Zm!v", 4, d, sizeof(d)), SMPDFU_EBASE64);
    assert_int_equal(smpdfu_base64_decode("Zg==Zm9v", 8, d, sizeof(d)), SMPDFU_EBASE64);
    assert_int_equal(smpdfu_base64_decode("Zg=v", 4, d, sizeof(d)), SMPDFU_EBASE64);
    assert_int_equal(smpdfu_base64_decode("Z===", 4, d, sizeof(d)), SMPDFU_EBASE64);
    assert_int_equal(smpdfu_base64_decode("Zm9v\n", 5, d, sizeof(d)), SMPDFU_EBASE64);
    /* every byte value survives */
    uint8_t all[256];
    char enc[344];
    uint8_t dec[256];
    for (int i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
    }
    assert_int_equal(smpdfu_base64_encode(all, 256, enc, sizeof(enc)), 344);
    assert_int_equal(smpdfu_base64_decode(enc, 344, dec, sizeof(dec)), 256);
    assert_memory_equal(all, dec, 256);
}

/* --------------------------------------------------------------- encoder */

static const uint8_t vec_pkt[] = { 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x01, 0x00,
                                   0xA1, 0x61, 0x64, 0x62, 0x68, 0x69 };
static const char vec_line[] = "\x06\x09" "ABAAAAAGAAABAKFhZGJoabgG\n";

static void test_vector(void **state)
{
    (void)state;
    uint8_t out[64];
    int n = smpdfu_serial_encode(vec_pkt, sizeof(vec_pkt), SMPDFU_SERIAL_LINE_MAX, out, sizeof(out));
    assert_int_equal(n, 27);
    assert_memory_equal(out, vec_line, 27);
    assert_int_equal(smpdfu_serial_encoded_len(sizeof(vec_pkt), 127), 27);

    uint8_t buf[64];
    smpdfu_serial_dec_t d;
    size_t used;
    smpdfu_serial_dec_init(&d, buf, sizeof(buf), 128);
    assert_int_equal(smpdfu_serial_dec_feed(&d, out, 27, &used), (int)sizeof(vec_pkt));
    assert_int_equal(used, 27);
    assert_memory_equal(smpdfu_serial_dec_packet(&d), vec_pkt, sizeof(vec_pkt));
    assert_int_equal(d.stats.packets, 1);
    /* the packet is gone after the next feed */
    assert_int_equal(smpdfu_serial_dec_feed(&d, (const uint8_t *)"x", 1, &used), 0);
    assert_null(smpdfu_serial_dec_packet(&d));
}

static void test_encode_errors(void **state)
{
    (void)state;
    uint8_t out[64];
    assert_int_equal(smpdfu_serial_encode(vec_pkt, sizeof(vec_pkt), 6, out, sizeof(out)), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_serial_encode(vec_pkt, sizeof(vec_pkt), 127, out, 26), SMPDFU_ENOSPC);
    assert_int_equal(smpdfu_serial_encode(vec_pkt, 0x10000, 127, out, sizeof(out)), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_serial_encode(NULL, 3, 127, out, sizeof(out)), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_serial_encoded_len(10, 6), 0);
    assert_int_equal(smpdfu_serial_max_packet(384), 380);
    assert_int_equal(smpdfu_serial_max_packet(3), 0);
    assert_int_equal(smpdfu_serial_max_packet(1000000), 0xfffd);
    /* line_max 7: one 4-char group per line */
    int n = smpdfu_serial_encode(vec_pkt, sizeof(vec_pkt), 7, out, sizeof(out));
    assert_int_equal(n, 6 * 7);
    assert_memory_equal(out, "\x06\x09" "ABAA\n" "\x04\x14" "AAAG\n", 14);
}

/* The wire length by hand (the link emulator's limits rely on it). */
static void test_encoded_len(void **state)
{
    (void)state;
    /* 2048 + 4 = 2052 bytes -> 2736 base64 chars -> 23 lines of <= 124 -> +69 */
    assert_int_equal(smpdfu_serial_encoded_len(2048, 127), 2805);
    /* 10 + 4 = 14 -> 20 chars, one line */
    assert_int_equal(smpdfu_serial_encoded_len(10, 127), 23);
    /* exactly one full line: 93 bytes of frame -> 124 chars */
    assert_int_equal(smpdfu_serial_encoded_len(89, 127), 127);
    assert_int_equal(smpdfu_serial_encoded_len(90, 127), 127 + 4 + 3);
    /* line_max 8: 4 chars per line */
    assert_int_equal(smpdfu_serial_encoded_len(2, 8), 8 + 3 * 2);
    assert_int_equal(smpdfu_serial_encoded_len(2, 6), 0);
    /* the length field holds packet + 2 in 16 bits: 0xfffd is the largest */
    assert_int_equal(smpdfu_serial_encoded_len(0xfffd, 127), 87384 + 3 * 705);
    assert_int_equal(smpdfu_serial_encoded_len(0xfffe, 127), 0);
}

/* Check the encoder's output structure independently of the decoder:
 * markers, line lengths, multiple-of-4 cuts, and the whole-frame base64. */
static void check_structure(const uint8_t *enc, size_t n, const uint8_t *pkt, size_t pkt_len,
                            size_t line_max)
{
    static char text[8192];
    static uint8_t frame[8192];
    size_t t = 0;
    size_t i = 0;
    size_t per = (line_max - 3) / 4 * 4;
    bool first = true;
    while (i < n) {
        assert_true(n - i >= 3);
        assert_int_equal(enc[i], first ? 0x06 : 0x04);
        assert_int_equal(enc[i + 1], first ? 0x09 : 0x14);
        size_t j = i + 2;
        while (j < n && enc[j] != '\n') {
            text[t++] = (char)enc[j++];
        }
        assert_true(j < n);
        size_t chars = j - i - 2;
        assert_true(chars % 4 == 0 && chars > 0);
        assert_true(j + 1 - i <= line_max);
        if (j + 1 < n) {
            assert_int_equal(chars, per); /* only the last line is short */
        }
        i = j + 1;
        first = false;
    }
    int f = smpdfu_base64_decode(text, t, frame, sizeof(frame));
    assert_int_equal(f, (int)pkt_len + 4);
    assert_int_equal(frame[0], (pkt_len + 2) >> 8);
    assert_int_equal(frame[1], (pkt_len + 2) & 0xff);
    assert_memory_equal(frame + 2, pkt, pkt_len);
    uint16_t crc = smpdfu_crc16_xmodem(0, pkt, pkt_len);
    assert_int_equal(frame[pkt_len + 2], crc >> 8);
    assert_int_equal(frame[pkt_len + 3], crc & 0xff);
}

/* Feed enc in chunks (mode 0: 1 byte, 1: random 1..97, 2: whole); returns
 * the number of packets delivered, the last one copied to got. */
static int feed_all(smpdfu_serial_dec_t *d, const uint8_t *enc, size_t n, int mode,
                    uint8_t *got, size_t *got_len)
{
    size_t i = 0;
    int pkts = 0;
    while (i < n) {
        size_t chunk = mode == 0 ? 1 : mode == 1 ? 1 + rnd() % 97 : n - i;
        if (chunk > n - i) {
            chunk = n - i;
        }
        size_t off = 0;
        while (off < chunk) {
            size_t used = 0;
            int r = smpdfu_serial_dec_feed(d, enc + i + off, chunk - off, &used);
            assert_true(used > 0 && used <= chunk - off);
            assert_true(r >= 0);
            if (r > 0) {
                assert_non_null(smpdfu_serial_dec_packet(d));
                memcpy(got, smpdfu_serial_dec_packet(d), (size_t)r);
                *got_len = (size_t)r;
                pkts++;
            }
            off += used;
        }
        i += chunk;
    }
    return pkts;
}

static void test_round_trip_all_sizes(void **state)
{
    (void)state;
    static uint8_t pkt[2200];
    static uint8_t enc[8192];
    static uint8_t got[2200];
    static uint8_t buf[2200 + 4];
    const size_t line_maxes[] = { 127, 7, 10, 128, 200 };
    for (size_t lm = 0; lm < sizeof(line_maxes) / sizeof(line_maxes[0]); lm++) {
        size_t line_max = line_maxes[lm];
        /* every size for the default, a stride for the others (runtime) */
        size_t step = line_max == 127 ? 1 : 7;
        for (size_t len = 0; len <= 2100; len += step) {
            fill_packet(pkt, len);
            int n = smpdfu_serial_encode(pkt, len, line_max, enc, sizeof(enc));
            assert_int_equal(n, (int)smpdfu_serial_encoded_len(len, line_max));
            check_structure(enc, (size_t)n, pkt, len, line_max);
            for (int mode = 0; mode < 3; mode++) {
                smpdfu_serial_dec_t d;
                size_t got_len = 0;
                smpdfu_serial_dec_init(&d, buf, len + 4 > 14 ? len + 4 : 14, line_max);
                int pkts = feed_all(&d, enc, (size_t)n, mode, got, &got_len);
                if (len < 8) {
                    /* cannot hold an SMP header: dropped and counted */
                    assert_int_equal(pkts, 0);
                    assert_int_equal(d.stats.bad_length, 1);
                } else {
                    assert_int_equal(pkts, 1);
                    assert_int_equal(got_len, len);
                    assert_memory_equal(got, pkt, len);
                    assert_int_equal(d.stats.packets, 1);
                    assert_int_equal(d.stats.crc_errors + d.stats.base64_errors + d.stats.oversize +
                                         d.stats.overlong_lines + d.stats.orphan_lines +
                                         d.stats.other_lines + d.stats.bad_length + d.stats.truncated,
                                     0);
                }
            }
        }
    }
}

/* ------------------------------------------------------ decoder robustness */

typedef struct {
    uint8_t data[65536];
    size_t n;
} stream_t;

static void put(stream_t *s, const void *p, size_t n)
{
    assert_true(s->n + n <= sizeof(s->data));
    memcpy(s->data + s->n, p, n);
    s->n += n;
}

static void put_str(stream_t *s, const char *p)
{
    put(s, p, strlen(p));
}

/* Encode a packet of len bytes whose first byte is tag; returns encoded size. */
static size_t put_frame(stream_t *s, uint8_t tag, size_t len, size_t line_max)
{
    uint8_t pkt[1024];
    fill_packet(pkt, len);
    pkt[0] = tag;
    int n = smpdfu_serial_encode(pkt, len, line_max, s->data + s->n, sizeof(s->data) - s->n);
    assert_true(n > 0);
    s->n += (size_t)n;
    return (size_t)n;
}

/* Decode a stream in mode; record the tags of delivered packets. */
static int decode_tags(const stream_t *s, int mode, size_t line_max, uint8_t *tags,
                       smpdfu_serial_stats_t *st)
{
    static uint8_t buf[600];
    smpdfu_serial_dec_t d;
    smpdfu_serial_dec_init(&d, buf, sizeof(buf), line_max);
    size_t i = 0;
    int k = 0;
    while (i < s->n) {
        size_t chunk = mode == 0 ? 1 : mode == 1 ? 1 + rnd() % 50 : s->n - i;
        if (chunk > s->n - i) {
            chunk = s->n - i;
        }
        size_t used;
        int r = smpdfu_serial_dec_feed(&d, s->data + i, chunk, &used);
        assert_true(used > 0);
        if (r > 0) {
            assert_true(r >= 8);
            tags[k++] = smpdfu_serial_dec_packet(&d)[0];
        }
        i += used;
    }
    *st = d.stats;
    return k;
}

static void test_noise_and_errors(void **state)
{
    (void)state;
    static stream_t s;
    s.n = 0;
    size_t at;

    put_str(&s, "*** Booting Zephyr OS ***\r\n");
    put_frame(&s, 1, 40, 127);                       /* good */
    put_str(&s, "[00:00:01.000] <inf> app: hello\n");
    /* frame 2 spread over lines with log lines between them */
    {
        stream_t t;
        t.n = 0;
        put_frame(&t, 2, 300, 127);
        size_t i = 0;
        while (i < t.n) {
            size_t j = i;
            while (t.data[j] != '\n') {
                j++;
            }
            put(&s, t.data + i, j + 1 - i);
            put_str(&s, "log line between\n\n");
            i = j + 1;
        }
    }
    /* frame 3 with CRLF line endings */
    {
        stream_t t;
        t.n = 0;
        put_frame(&t, 3, 200, 127);
        for (size_t i = 0; i < t.n; i++) {
            if (t.data[i] == '\n') {
                put_str(&s, "\r");
            }
            put(&s, &t.data[i], 1);
        }
    }
    /* truncated frame: first line of a long frame, then a new frame starts */
    at = s.n;
    put_frame(&s, 0xee, 300, 127);
    {
        size_t j = at;
        while (s.data[j] != '\n') {
            j++;
        }
        s.n = j + 1;
    }
    put_frame(&s, 4, 20, 127);                       /* good */
    /* CRC error: change one base64 character to another valid one */
    at = s.n;
    put_frame(&s, 0xee, 50, 127);
    s.data[at + 20] = s.data[at + 20] == 'A' ? 'B' : 'A';
    put_frame(&s, 5, 20, 127);                       /* good */
    /* base64 error */
    at = s.n;
    put_frame(&s, 0xee, 50, 127);
    s.data[at + 30] = '!';
    put_frame(&s, 6, 20, 127);                       /* good */
    /* oversize: length field larger than the decoder buffer (600) */
    put_frame(&s, 0xee, 700, 127);
    put_frame(&s, 7, 20, 127);                       /* good */
    /* bad length: a 4-byte "packet" */
    put_frame(&s, 0xee, 4, 127);
    /* orphan continuation line */
    put_str(&s, "\x04\x14" "AAAA\n");
    /* garbage bytes, including lone markers */
    put_str(&s, "\x06\x06\x04\x04\x14\xff\x00 noise\n\x06\n\x04\n");
    put_frame(&s, 8, 20, 127);                       /* good */
    /* log text without newline, frame glued to it */
    put_str(&s, "partial log line");
    put_frame(&s, 9, 20, 127);                       /* good */
    /* more data than the length field says: frame 10 with an extra group */
    at = s.n;
    put_frame(&s, 0xee, 21, 127); /* 25-byte frame -> 36 chars, last group "xx==" */
    s.n--;                         /* drop \n */
    s.data[s.n - 1] = 'A';
    s.data[s.n - 2] = 'A';         /* now "xxAA": 3 bytes, more than said */
    put_str(&s, "\n");
    put_frame(&s, 10, 20, 127);                      /* good */
    /* data after padding on a line */
    at = s.n;
    put_frame(&s, 0xee, 22, 127); /* 26-byte frame: last group "xxx=" */
    s.n--;
    put_str(&s, "AAAA\n");
    put_frame(&s, 11, 20, 127);                      /* good */
    /* \r in the middle of a line */
    at = s.n;
    put_frame(&s, 0xee, 30, 127);
    s.data[at + 10] = '\r';
    put_frame(&s, 12, 20, 127);                      /* good */
    /* frame cut short by end of line: partial group */
    at = s.n;
    put_frame(&s, 0xee, 30, 127);
    s.data[s.n - 2] = '\n';
    s.n--;
    put_frame(&s, 13, 20, 127);                      /* good */

    for (int mode = 0; mode < 3; mode++) {
        uint8_t tags[64];
        smpdfu_serial_stats_t st;
        int k = decode_tags(&s, mode, 128, tags, &st);
        assert_int_equal(k, 13);
        for (int i = 0; i < k; i++) {
            assert_int_equal(tags[i], i + 1);
        }
        assert_int_equal(st.packets, 13);
        assert_int_equal(st.truncated, 1);
        assert_int_equal(st.crc_errors, 1);
        assert_int_equal(st.base64_errors, 4); /* '!', data after '=', lone \r, partial group */
        assert_int_equal(st.oversize, 2);      /* length > buffer, more data than said */
        assert_int_equal(st.bad_length, 1);
        /* the explicit one + the 7 continuation lines of the oversize frame */
        assert_int_equal(st.orphan_lines, 1 + 7);
        assert_int_equal(st.overlong_lines, 0);
        assert_true(st.other_lines >= 5);
    }
}

static void test_line_max(void **state)
{
    (void)state;
    static stream_t s;
    /* 127-byte lines with CRLF become 128 bytes: Zephyr's RX buffer takes them */
    s.n = 0;
    stream_t t;
    t.n = 0;
    put_frame(&t, 1, 300, 127);
    for (size_t i = 0; i < t.n; i++) {
        if (t.data[i] == '\n') {
            put_str(&s, "\r");
        }
        put(&s, &t.data[i], 1);
    }
    put_frame(&s, 2, 20, 127);
    uint8_t tags[8];
    smpdfu_serial_stats_t st;
    assert_int_equal(decode_tags(&s, 1, 128, tags, &st), 2);
    assert_int_equal(decode_tags(&s, 1, 0, tags, &st), 2);
    /* with 127 the CRLF lines are too long: frame 1 dropped, frame 2 survives */
    assert_int_equal(decode_tags(&s, 0, 127, tags, &st), 1);
    assert_int_equal(tags[0], 2);
    assert_int_equal(st.overlong_lines, 1);
    assert_int_equal(st.orphan_lines, 3); /* the rest of frame 1 */

    /* 131-byte lines (a client with a larger line setting) vs Zephyr's 128 */
    s.n = 0;
    put_frame(&s, 1, 300, 131);
    put_frame(&s, 2, 20, 131);
    assert_int_equal(decode_tags(&s, 2, 128, tags, &st), 1);
    assert_int_equal(tags[0], 2);
    assert_int_equal(st.overlong_lines, 1);
    assert_int_equal(decode_tags(&s, 2, 0, tags, &st), 2);
}

/* Lines cut at any 3-byte multiple, or base64'd per line with padding at a
 * line end (Zephyr decodes each line on its own), decode the same. */
static void test_per_line_encoding(void **state)
{
    (void)state;
    static uint8_t pkt[1000];
    static uint8_t frame[1004];
    static stream_t s;
    for (int round = 0; round < 200; round++) {
        size_t len = 8 + rnd() % 900;
        fill_packet(pkt, len);
        uint16_t crc = smpdfu_crc16_xmodem(0, pkt, len);
        frame[0] = (uint8_t)((len + 2) >> 8);
        frame[1] = (uint8_t)(len + 2);
        memcpy(frame + 2, pkt, len);
        frame[len + 2] = (uint8_t)(crc >> 8);
        frame[len + 3] = (uint8_t)crc;
        s.n = 0;
        size_t off = 0;
        bool first = true;
        while (off < len + 4) {
            size_t chunk = 1 + rnd() % 93; /* <= 124 chars per line */
            if (first && chunk < 2) {
                chunk = 2;
            }
            if (chunk > len + 4 - off) {
                chunk = len + 4 - off;
            }
            char b64[128];
            int n = smpdfu_base64_encode(frame + off, chunk, b64, sizeof(b64));
            put_str(&s, first ? "\x06\x09" : "\x04\x14");
            put(&s, b64, (size_t)n);
            put_str(&s, "\n");
            off += chunk;
            first = false;
        }
        static uint8_t buf[1004];
        smpdfu_serial_dec_t d;
        smpdfu_serial_dec_init(&d, buf, sizeof(buf), 128);
        uint8_t got[1000];
        size_t got_len = 0;
        assert_int_equal(feed_all(&d, s.data, s.n, round % 3, got, &got_len), 1);
        assert_int_equal(got_len, len);
        assert_memory_equal(got, pkt, len);
    }
}

static void test_feed_stops_after_packet(void **state)
{
    (void)state;
    static stream_t s;
    s.n = 0;
    size_t a = put_frame(&s, 1, 30, 127);
    put_frame(&s, 2, 30, 127);
    uint8_t buf[64];
    smpdfu_serial_dec_t d;
    size_t used;
    smpdfu_serial_dec_init(&d, buf, sizeof(buf), 0);
    assert_int_equal(smpdfu_serial_dec_feed(&d, s.data, s.n, &used), 30);
    assert_int_equal(used, a);
    assert_int_equal(smpdfu_serial_dec_packet(&d)[0], 1);
    assert_int_equal(smpdfu_serial_dec_feed(&d, s.data + used, s.n - used, &used), 30);
    assert_int_equal(smpdfu_serial_dec_packet(&d)[0], 2);
    /* reset drops a partial frame but keeps stats */
    assert_int_equal(smpdfu_serial_dec_feed(&d, s.data, 20, &used), 0);
    smpdfu_serial_dec_reset(&d);
    assert_int_equal(smpdfu_serial_dec_feed(&d, s.data + 20, a - 20, &used), 0);
    assert_int_equal(d.stats.packets, 2);
    assert_int_equal(d.stats.other_lines, 1); /* the tail of the first line */
    assert_int_equal(smpdfu_serial_dec_feed(&d, s.data, a, &used), 30);
    /* empty feed */
    assert_int_equal(smpdfu_serial_dec_feed(&d, s.data, 0, &used), 0);
    assert_int_equal(used, 0);
}

/* ---------------------------------------------------------------- raw UART */

static size_t make_raw(uint8_t *out, uint8_t tag, uint16_t body)
{
    out[0] = 0x0a; /* v2 write request */
    out[1] = 0;
    out[2] = (uint8_t)(body >> 8);
    out[3] = (uint8_t)body;
    out[4] = 0;
    out[5] = 1;
    out[6] = tag;
    out[7] = 1;
    fill_packet(out + 8, body);
    return 8u + body;
}

static int raw_decode(const uint8_t *data, size_t n, int mode, size_t cap, uint8_t *tags,
                      smpdfu_raw_stats_t *st)
{
    static uint8_t buf[4096];
    smpdfu_raw_dec_t d;
    smpdfu_raw_dec_init(&d, buf, cap);
    size_t i = 0;
    int k = 0;
    while (i < n) {
        size_t chunk = mode == 0 ? 1 : mode == 1 ? 1 + rnd() % 40 : n - i;
        if (chunk > n - i) {
            chunk = n - i;
        }
        size_t used;
        int r = smpdfu_raw_dec_feed(&d, data + i, chunk, &used);
        assert_true(used > 0);
        if (r > 0) {
            const uint8_t *p = smpdfu_raw_dec_packet(&d);
            assert_int_equal((size_t)r, 8u + (((size_t)p[2] << 8) | p[3]));
            tags[k++] = p[6];
        }
        i += used;
    }
    *st = d.stats;
    return k;
}

static void test_raw(void **state)
{
    (void)state;
    static uint8_t s[8192];
    size_t n = 0;
    n += make_raw(s + n, 1, 0);
    n += make_raw(s + n, 2, 500);
    /* garbage that cannot start a header: reserved bits / version 2,3 / op > 3 */
    const uint8_t junk[] = { 0xff, 0xe0, 0x20, 0x10, 0x18, 0x04, 0x0f };
    memcpy(s + n, junk, sizeof(junk));
    n += sizeof(junk);
    n += make_raw(s + n, 3, 100);
    /* a plausible header announcing more than the buffer (1024); its other
     * bytes cannot start a header (resync is a heuristic: bytes that can
     * would be tried as a header, the idle timeout is the real fix) */
    const uint8_t big[] = { 0x00, 0xff, 0xff, 0xff, 0xe0, 0xe0, 0xe0, 0xe0 };
    memcpy(s + n, big, sizeof(big));
    n += sizeof(big);
    n += make_raw(s + n, 4, 1000);
    n += make_raw(s + n, 5, 12);
    for (int mode = 0; mode < 3; mode++) {
        uint8_t tags[16];
        smpdfu_raw_stats_t st;
        int k = raw_decode(s, n, mode, 1024 + 8, tags, &st);
        assert_int_equal(k, 5);
        for (int i = 0; i < k; i++) {
            assert_int_equal(tags[i], i + 1);
        }
        assert_int_equal(st.packets, 5);
        assert_int_equal(st.bad_header, sizeof(junk) + 7); /* + the rest of the big header */
        assert_int_equal(st.oversize, 1);
    }
}

static void test_raw_idle(void **state)
{
    (void)state;
    uint8_t p[64];
    uint8_t buf[64];
    size_t n = make_raw(p, 7, 20);
    smpdfu_raw_dec_t d;
    size_t used;
    smpdfu_raw_dec_init(&d, buf, sizeof(buf));
    assert_int_equal(smpdfu_raw_dec_feed(&d, p, 10, &used), 0);
    smpdfu_raw_dec_idle(&d);
    assert_int_equal(d.stats.timeouts, 1);
    assert_int_equal(smpdfu_raw_dec_feed(&d, p, n, &used), (int)n);
    assert_memory_equal(smpdfu_raw_dec_packet(&d), p, n);
    smpdfu_raw_dec_idle(&d); /* keeps a delivered packet */
    assert_non_null(smpdfu_raw_dec_packet(&d));
    assert_int_equal(d.stats.timeouts, 1);
    /* without idle, a truncated packet swallows the next one's head: the
     * next packet is then misread, which is why ports call idle() */
    smpdfu_raw_dec_idle(&d);
    assert_int_equal(smpdfu_raw_dec_feed(&d, p, 12, &used), 0);
    smpdfu_raw_dec_idle(&d);
    assert_int_equal(smpdfu_raw_dec_feed(&d, p, n, &used), (int)n);
    assert_int_equal(d.stats.timeouts, 2);
    assert_int_equal(d.stats.packets, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_vector),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_encoded_len),
        cmocka_unit_test(test_round_trip_all_sizes),
        cmocka_unit_test(test_noise_and_errors),
        cmocka_unit_test(test_line_max),
        cmocka_unit_test(test_per_line_encoding),
        cmocka_unit_test(test_feed_stops_after_packet),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_raw_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
