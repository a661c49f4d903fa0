/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the uplink decoder and payload parsers over arbitrary bytes fed
 * in fuzzer-chosen pieces (every frame delivered must carry a good CRC and
 * lie inside the buffer), and the uplink client + stream driven by the same
 * bytes as host answers (the stream must never hand out the image's last
 * byte unless it verified, and every read must stay inside the image), and
 * the host's answer to every frame decoded (reads inside the image, no
 * block larger than max_block, an answer that decodes again). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/posix_crypto.h"
#include "smpdfu/uplink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return 0;
}

#define HOST_SIZE 5000u
#define HOST_BLOCK 700u

static int host_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    if (off > HOST_SIZE || len > HOST_SIZE - off || len > HOST_BLOCK) {
        abort();
    }
    memset(buf, (int)(off & 0xff), len);
    return off == 4000 ? SMPDFU_EIO : 0; /* one offset the "source" cannot read */
}

/* What the host answers must stay inside the image and decode again. */
static void check_answer(const smpdfu_uplink_frame_t *f)
{
    static uint8_t out[SMPDFU_UPLINK_FRAME_LEN(SMPDFU_UPLINK_MAX_PAYLOAD)];
    static uint8_t rx[SMPDFU_UPLINK_FRAME_LEN(SMPDFU_UPLINK_MAX_PAYLOAD)];
    smpdfu_uplink_info_t info = {HOST_SIZE, HOST_BLOCK, false, {0}};
    smpdfu_uplink_answer_t a;
    int n = smpdfu_uplink_answer(f, &info, host_read, NULL, out, sizeof(out), &a);
    if (n <= 0) {
        abort();
    }
    smpdfu_uplink_dec_t d;
    smpdfu_uplink_frame_t g;
    size_t used = 0;
    smpdfu_uplink_dec_init(&d, rx, sizeof(rx));
    if (smpdfu_uplink_dec_feed(&d, out, (size_t)n, &used, &g) != 1 || used != (size_t)n ||
        g.type != a.type || g.seq != f->seq) {
        abort();
    }
    if (a.type == SMPDFU_UPLINK_DATA) {
        uint32_t off;
        const uint8_t *p;
        size_t len;
        if (smpdfu_uplink_parse_data(&g, &off, &p, &len) != 0 || off != a.off || len != a.n ||
            len == 0 || len > a.len || len > HOST_BLOCK || off + len > HOST_SIZE) {
            abort();
        }
    }
}

static void check_frame(const smpdfu_uplink_dec_t *d, const smpdfu_uplink_frame_t *f)
{
    if (f->payload != d->buf + SMPDFU_UPLINK_HDR_LEN ||
        SMPDFU_UPLINK_FRAME_LEN((size_t)f->len) > d->n) {
        abort();
    }
    uint32_t crc = smpdfu_crc32(0, d->buf + 2, SMPDFU_UPLINK_HDR_LEN - 2 + f->len);
    const uint8_t *c = f->payload + f->len;
    if (crc != ((uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24)) {
        abort();
    }
    uint32_t off;
    uint16_t len;
    smpdfu_uplink_info_t info;
    const uint8_t *p;
    size_t n;
    uint16_t code;
    (void)smpdfu_uplink_parse_read(f, &off, &len);
    (void)smpdfu_uplink_parse_info(f, &info);
    if (smpdfu_uplink_parse_data(f, &off, &p, &n) == 0 && p + n != f->payload + f->len) {
        abort();
    }
    (void)smpdfu_uplink_parse_err(f, &code, &p, &n);
    check_answer(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static smpdfu_posix_hash_state_t hs;
    static smpdfu_hash_t h;
    static int inited;
    if (!inited) {
        smpdfu_posix_hash_init(&hs, &h);
        inited = 1;
    }
    if (size < 2) {
        return 0;
    }
    uint8_t ctl = data[0], cut = data[1];
    data += 2;
    size -= 2;

    /* 1. decoder alone, pieces of 1..16 bytes or all at once */
    static uint8_t buf[SMPDFU_UPLINK_FRAME_LEN(SMPDFU_UPLINK_MAX_PAYLOAD)];
    size_t cap = (ctl & 1) ? sizeof(buf) : 64;
    smpdfu_uplink_dec_t d;
    smpdfu_uplink_dec_init(&d, buf, cap);
    size_t pos = 0;
    while (pos < size) {
        size_t piece = cut & 0x0f ? (size_t)(cut & 0x0f) : size - pos;
        if (piece > size - pos) {
            piece = size - pos;
        }
        size_t at = 0;
        smpdfu_uplink_frame_t f;
        for (;;) {
            size_t used = 0;
            int got = smpdfu_uplink_dec_feed(&d, data + pos + at, piece - at, &used, &f);
            at += used;
            if (got) {
                check_frame(&d, &f);
            } else if (at < piece) {
                abort(); /* 0 must mean: all taken, no whole frame */
            } else {
                break;
            }
        }
        pos += piece;
    }

    /* 2. the client feeding a stream with these bytes as host answers */
    static uint8_t rx[SMPDFU_UPLINK_FRAME_LEN(4 + 256)], tx[64], win[1024], scratch[512],
        out[512];
    static uint32_t crc[64];
    smpdfu_uplink_t u;
    smpdfu_uplink_cfg_t uc = {0};
    uc.send = sink;
    uc.rx_buf = rx;
    uc.rx_cap = sizeof(rx);
    uc.tx_buf = tx;
    uc.tx_cap = sizeof(tx);
    uc.block = 256;
    uc.retries = 2;
    if (smpdfu_uplink_init(&u, &uc)) {
        abort();
    }
    smpdfu_stream_t s;
    smpdfu_stream_cfg_t sc = {0};
    sc.size = 2048u + (uint32_t)ctl * 8u;
    sc.window = win;
    sc.window_len = sizeof(win);
    sc.crc = crc;
    sc.crc_n = 64;
    sc.hash = &h;
    sc.scratch = scratch;
    sc.scratch_len = sizeof(scratch);
    if (smpdfu_stream_init(&s, &sc)) {
        abort();
    }
    smpdfu_uplink_request_info(&u);
    smpdfu_uplink_attach(&u, &s);
    uint64_t now = 0;
    smpdfu_uplink_tick(&u, now);
    uint32_t roff = 0;
    for (pos = 0; pos < size;) {
        size_t piece = (size_t)(cut >> 4) * 16 + 1;
        if (piece > size - pos) {
            piece = size - pos;
        }
        (void)smpdfu_uplink_feed(&u, data + pos, piece);
        pos += piece;
        now += 100 + (cut & 0x3f) * 10;
        (void)smpdfu_uplink_tick(&u, now);
        /* reads as an upload would make: forward, and now and then back */
        size_t n = 1 + (data[pos - 1] % 200);
        if (roff + n > sc.size) {
            n = sc.size - roff;
        }
        int rc = smpdfu_stream_read(&s, roff, out, n);
        if (rc == 0) {
            if (roff + n == sc.size && !smpdfu_stream_verified(&s)) {
                abort();
            }
            roff = (data[pos - 1] & 0x80) && roff > 700 ? roff - 700 : roff + (uint32_t)n;
            if (roff >= sc.size) {
                roff = 0;
            }
        }
    }
    return 0;
}
