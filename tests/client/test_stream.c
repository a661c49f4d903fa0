/* The streamed image source and the uplink protocol, in-process: header and
 * TLV checks on arrival, the final bytes held until the hash verified, a
 * go-back re-read checked against the first pass (and the hash left
 * alone), CRC-32, frame round trips, the decoder resynchronising after
 * noise and corrupt frames, and the uplink client against a scripted host
 * (lost request resent with the same seq, late answers ignored, ERR). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helper_fakedev.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/stream.h"
#include "smpdfu/uplink.h"

#define IMG_MAX 70000

static uint8_t img[IMG_MAX];
static size_t img_len;
static smpdfu_posix_hash_state_t hs;
static smpdfu_hash_t h;
static uint8_t win[4096];
static uint32_t crcs[256];
static smpdfu_stream_t st;

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

/* header (32 bytes + pad to 0x20) + payload + unprotected TLVs with SHA-256;
 * `trailing` extra bytes after the TLVs. */
static void build(size_t payload, size_t trailing, unsigned seed)
{
    memset(img, 0, sizeof(img));
    put32(img, SMPDFU_IMAGE_MAGIC);
    put16(img + 8, 32);
    put32(img + 12, (uint32_t)payload);
    img[20] = 2;
    srand(seed);
    for (size_t i = 0; i < payload; i++) {
        img[32 + i] = (uint8_t)rand();
    }
    size_t t = 32 + payload;
    put16(img + t, SMPDFU_IMAGE_TLV_INFO_MAGIC);
    put16(img + t + 2, 4 + 4 + 32);
    put16(img + t + 4, SMPDFU_TLV_SHA256);
    put16(img + t + 6, 32);
    assert_int_equal(smpdfu_posix_digest(SMPDFU_HASH_SHA256, img, t, img + t + 8), 0);
    img_len = t + 40 + trailing;
    for (size_t i = 0; i < trailing; i++) {
        img[t + 40 + i] = 0x11;
    }
}

static void init_stream(int (*fetch)(void *, smpdfu_stream_t *))
{
    smpdfu_stream_cfg_t c = {0};
    c.size = (uint32_t)img_len;
    c.window = win;
    c.window_len = sizeof(win);
    c.crc = crcs;
    c.crc_n = smpdfu_stream_crc_entries(c.size, sizeof(win));
    assert_true(c.crc_n > 0 && c.crc_n <= 256);
    c.hash = &h;
    c.fetch = fetch;
    assert_int_equal(smpdfu_stream_init(&st, &c), 0);
    assert_int_equal(st.block, 2048);
}

/* Push what the stream wants, at most `piece` bytes, from `src`. */
static int feed(const uint8_t *src, uint32_t piece)
{
    uint32_t off, len;
    if (!smpdfu_stream_want(&st, &off, &len)) {
        return 0;
    }
    if (len > piece) {
        len = piece;
    }
    return smpdfu_stream_push(&st, off, src + off, len);
}

static int fetch_700(void *ctx, smpdfu_stream_t *s)
{
    (void)ctx;
    (void)s;
    int r = feed(img, 700);
    return r < 0 ? r : 0;
}

static int setup(void **state)
{
    (void)state;
    smpdfu_posix_hash_init(&hs, &h);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    smpdfu_posix_hash_free(&hs);
    return 0;
}

static void test_sequential_blocking(void **state)
{
    (void)state;
    build(60000, 0, 1);
    init_stream(fetch_700);
    uint8_t buf[1500];
    for (uint32_t off = 0; off < img_len;) {
        size_t n = img_len - off < 1000 ? img_len - off : 1000;
        assert_int_equal(smpdfu_stream_read(&st, off, buf, n), 0);
        assert_memory_equal(buf, img + off, n);
        off += (uint32_t)n;
    }
    assert_true(smpdfu_stream_verified(&st));
    const smpdfu_image_info_t *info = smpdfu_stream_info(&st);
    assert_non_null(info);
    assert_memory_equal(info->hash, img + img_len - 32, 32);
    assert_memory_equal(smpdfu_stream_image_hash(&st), img + img_len - 32, 32);
    assert_int_equal(smpdfu_stream_received(&st), img_len);
    /* the window never held more than its size: a read far behind is a go-back */
    assert_true(st.hi - st.lo <= sizeof(win));
    /* a read longer than window - block can never be served */
    static uint8_t big[sizeof(win)];
    assert_int_equal(smpdfu_stream_read(&st, 0, big, sizeof(win) - 2048 + 1), SMPDFU_ENOSPC);
}

static void test_final_bytes_held(void **state)
{
    (void)state;
    build(10000, 0, 2);
    init_stream(NULL);
    uint8_t buf[1000];
    /* nothing there yet */
    assert_int_equal(smpdfu_stream_read(&st, 0, buf, 100), SMPDFU_EAGAIN);
    uint32_t fin = (uint32_t)img_len - 500;
    /* feed everything but the last byte, reading along */
    for (uint32_t off = 0; off < fin; off += 500) {
        while (smpdfu_stream_read(&st, off, buf, 500) == SMPDFU_EAGAIN) {
            uint32_t wo, wl;
            assert_true(smpdfu_stream_want(&st, &wo, &wl));
            if (wo + wl >= img_len) {
                wl = (uint32_t)img_len - 1 - wo; /* hold the last byte back */
            }
            assert_true(wl > 0);
            assert_int_equal(smpdfu_stream_push(&st, wo, img + wo, wl), (int)wl);
        }
    }
    /* the final chunk waits while its last byte is missing */
    assert_int_equal(smpdfu_stream_read(&st, fin, buf, 500), SMPDFU_EAGAIN);
    assert_false(smpdfu_stream_verified(&st));
    /* a stale push (wrong offset) is ignored */
    assert_int_equal(smpdfu_stream_push(&st, 5, img + 5, 10), 0);
    assert_int_equal(feed(img, 1), 1);
    assert_true(smpdfu_stream_verified(&st));
    assert_int_equal(smpdfu_stream_read(&st, fin, buf, 500), 0);
    assert_memory_equal(buf, img + fin, 500);
}

static void read_all_until_error(int want_err, uint32_t *last_ok_end)
{
    uint8_t buf[1000];
    uint32_t off = 0;
    for (;;) {
        size_t n = img_len - off < 1000 ? img_len - off : 1000;
        int rc = smpdfu_stream_read(&st, off, buf, n);
        if (rc) {
            assert_int_equal(rc, want_err);
            break;
        }
        off += (uint32_t)n;
        assert_true(off < img_len); /* never the whole image */
    }
    *last_ok_end = off;
}

static void test_corrupt_payload_refused_at_end(void **state)
{
    (void)state;
    build(30000, 0, 3);
    img[20000] ^= 1;
    init_stream(fetch_700);
    uint32_t end;
    read_all_until_error(SMPDFU_EIMG_HASH_MISMATCH, &end);
    assert_true(end > img_len - 2000);
    assert_int_equal(smpdfu_stream_status(&st), SMPDFU_EIMG_HASH_MISMATCH);
    assert_null(smpdfu_stream_info(&st));
}

static void test_bad_header_and_trailing(void **state)
{
    (void)state;
    uint32_t end;
    build(30000, 0, 4);
    img[0] ^= 0xff;
    init_stream(fetch_700);
    read_all_until_error(SMPDFU_EIMG_MAGIC, &end);
    assert_int_equal(end, 0); /* refused before the first byte went out */

    build(30000, 0, 4);
    put32(img + 12, 90000); /* payload longer than the file */
    init_stream(fetch_700);
    read_all_until_error(SMPDFU_EIMG_TRUNC, &end);
    assert_int_equal(end, 0);

    build(30000, 100, 4); /* bytes after the TLVs */
    init_stream(fetch_700);
    read_all_until_error(SMPDFU_EIMG_TRAILING, &end);
    assert_true(end < img_len - 100);
}

static void test_go_back_reread(void **state)
{
    (void)state;
    build(40000, 0, 5);
    init_stream(fetch_700);
    uint8_t buf[1000];
    for (uint32_t off = 0; off < 20000; off += 1000) {
        assert_int_equal(smpdfu_stream_read(&st, off, buf, 1000), 0);
    }
    /* far below the window: asked again from the block start (2048) */
    uint32_t wo, wl;
    smpdfu_stream_cfg_t keep = st.cfg;
    st.cfg.fetch = NULL;
    assert_int_equal(smpdfu_stream_read(&st, 3000, buf, 1000), SMPDFU_EAGAIN);
    assert_true(smpdfu_stream_want(&st, &wo, &wl));
    assert_int_equal(wo, 2048);
    /* the re-read block is handed out only once it is whole and matches */
    assert_int_equal(smpdfu_stream_push(&st, wo, img + wo, 1500), 1500);
    assert_int_equal(smpdfu_stream_read(&st, 3000, buf, 100), SMPDFU_EAGAIN);
    st.cfg = keep;
    assert_int_equal(smpdfu_stream_read(&st, 3000, buf, 1000), 0);
    assert_memory_equal(buf, img + 3000, 1000);
    /* on to the end: the hash saw every byte once, in order */
    for (uint32_t off = 4000; off < img_len;) {
        size_t n = img_len - off < 1000 ? img_len - off : 1000;
        assert_int_equal(smpdfu_stream_read(&st, off, buf, n), 0);
        off += (uint32_t)n;
    }
    assert_true(smpdfu_stream_verified(&st));
}

static void test_go_back_changed_bytes(void **state)
{
    (void)state;
    build(40000, 0, 6);
    init_stream(fetch_700);
    uint8_t buf[1000];
    for (uint32_t off = 0; off < 20000; off += 1000) {
        assert_int_equal(smpdfu_stream_read(&st, off, buf, 1000), 0);
    }
    img[4100] ^= 0x80; /* the source now gives other bytes */
    assert_int_equal(smpdfu_stream_read(&st, 4096, buf, 1000), SMPDFU_ECHANGED);
    assert_int_equal(smpdfu_stream_status(&st), SMPDFU_ECHANGED);
}

static void test_crc_entries(void **state)
{
    (void)state;
    assert_int_equal(smpdfu_stream_crc_entries(256 * 1024, 8192), 64);
    assert_int_equal(smpdfu_stream_crc_entries(256 * 1024 + 1, 8192), 65);
    assert_int_equal(smpdfu_stream_crc_entries(512 * 1024, 8192), 128);
    assert_int_equal(smpdfu_stream_block_len(256 * 1024, 64), 4096);
    build(1000, 0, 7);
    smpdfu_stream_cfg_t c = {0};
    c.size = (uint32_t)img_len;
    c.window = win;
    c.window_len = 100; /* shorter than two blocks */
    c.crc = crcs;
    c.crc_n = 4;
    c.hash = &h;
    assert_int_equal(smpdfu_stream_init(&st, &c), SMPDFU_ENOSPC);
    c.hash = NULL;
    assert_int_equal(smpdfu_stream_init(&st, &c), SMPDFU_EINVAL);
}

/* ------------------------------------------------------------- codec */

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(smpdfu_crc32(0, "123456789", 9), 0xCBF43926u);
    uint32_t c = smpdfu_crc32(0, "1234", 4);
    assert_int_equal(smpdfu_crc32(c, "56789", 5), 0xCBF43926u);
}

static int dec_all(smpdfu_uplink_dec_t *d, const uint8_t *in, size_t n, size_t piece,
                   smpdfu_uplink_frame_t *out, int max)
{
    int got = 0;
    size_t pos = 0;
    while (pos < n) {
        size_t k = n - pos < piece ? n - pos : piece;
        size_t at = 0;
        for (;;) { /* also drain frames already whole in the buffer */
            size_t used;
            smpdfu_uplink_frame_t f;
            int r = smpdfu_uplink_dec_feed(d, in + pos + at, k - at, &used, &f);
            at += used;
            if (r == 1) {
                assert_true(got < max);
                out[got] = f;
                /* keep a copy of the type/seq/len; payload checked by caller now */
                got++;
                if (f.type == SMPDFU_UPLINK_DATA) {
                    uint32_t off;
                    const uint8_t *p;
                    size_t dn;
                    assert_int_equal(smpdfu_uplink_parse_data(&f, &off, &p, &dn), 0);
                    assert_int_equal(dn, 5);
                    assert_memory_equal(p, "hello", 5);
                    assert_int_equal(off, 77);
                }
            } else {
                assert_int_equal(at, k);
                break;
            }
        }
        pos += k;
    }
    return got;
}

static void test_frames(void **state)
{
    (void)state;
    uint8_t s[600];
    size_t n = 0;
    int r;
    /* noise, a good READ, a DATA with a flipped bit, a good DATA */
    memcpy(s, "\xa5\x00garbage\x5a\xa5", 10);
    n = 10;
    r = smpdfu_uplink_put_read(9, 4096, 512, s + n, sizeof(s) - n);
    assert_int_equal(r, 6 + 6 + 4);
    n += (size_t)r;
    r = smpdfu_uplink_put_data(10, 77, (const uint8_t *)"hello", 5, s + n, sizeof(s) - n);
    s[n + 8] ^= 0x04;
    n += (size_t)r;
    r = smpdfu_uplink_put_data(11, 77, (const uint8_t *)"hello", 5, s + n, sizeof(s) - n);
    n += (size_t)r;
    for (size_t piece = 1; piece <= n; piece += 7) {
        static uint8_t buf[256];
        smpdfu_uplink_dec_t d;
        assert_int_equal(smpdfu_uplink_dec_init(&d, buf, sizeof(buf)), 0);
        smpdfu_uplink_frame_t f[4];
        int got = dec_all(&d, s, n, piece, f, 4);
        assert_int_equal(got, 2);
        assert_int_equal(d.bad_crc, 1);
        assert_true(d.noise >= 8);
    }
    /* a whole frame hidden inside a frame whose header lies about its
     * length: found once the liar's CRC fails */
    uint8_t t[200];
    size_t m = 0;
    t[m++] = 0xa5;
    t[m++] = 0x5a;
    t[m++] = 0x82;
    t[m++] = 1;
    put16(t + m, 40);
    m += 2;
    r = smpdfu_uplink_put_data(12, 77, (const uint8_t *)"hello", 5, t + m, sizeof(t) - m);
    m += (size_t)r;
    memset(t + m, 0, 40);
    m += 40;
    static uint8_t buf2[256];
    smpdfu_uplink_dec_t d2;
    smpdfu_uplink_dec_init(&d2, buf2, sizeof(buf2));
    smpdfu_uplink_frame_t f2[2];
    assert_int_equal(dec_all(&d2, t, m, m, f2, 2), 1);
    /* an announced length over the buffer: skipped, the next frame found */
    static uint8_t small[40];
    smpdfu_uplink_dec_t d3;
    smpdfu_uplink_dec_init(&d3, small, sizeof(small));
    uint8_t u[100] = {0xa5, 0x5a, 0x82, 1, 0xff, 0x07};
    r = smpdfu_uplink_put_data(13, 77, (const uint8_t *)"hello", 5, u + 6, sizeof(u) - 6);
    assert_int_equal(dec_all(&d3, u, 6 + (size_t)r, 3, f2, 2), 1);
    assert_int_equal(d3.oversize, 1);
}

static void test_payloads(void **state)
{
    (void)state;
    uint8_t b[128];
    smpdfu_uplink_info_t in = {300552, 1024, true, {0}}, out;
    for (int i = 0; i < 32; i++) {
        in.sha[i] = (uint8_t)i;
    }
    int r = smpdfu_uplink_put_info(3, &in, b, sizeof(b));
    assert_int_equal(r, 10 + 39);
    smpdfu_uplink_frame_t f = {b[2], b[3], (uint16_t)(b[4] | b[5] << 8), b + 6};
    assert_int_equal(smpdfu_uplink_parse_info(&f, &out), 0);
    assert_int_equal(out.size, 300552);
    assert_int_equal(out.max_block, 1024);
    assert_true(out.has_sha);
    assert_memory_equal(out.sha, in.sha, 32);
    f.len = 20; /* sha flag with a short payload */
    assert_int_equal(smpdfu_uplink_parse_info(&f, &out), SMPDFU_EMALFORMED);
    uint32_t off;
    uint16_t len;
    assert_int_equal(smpdfu_uplink_parse_read(&f, &off, &len), SMPDFU_ETYPE);
    r = smpdfu_uplink_put_err(4, SMPDFU_UPLINK_ERR_RANGE, "out", b, sizeof(b));
    smpdfu_uplink_frame_t e = {b[2], b[3], (uint16_t)(b[4] | b[5] << 8), b + 6};
    uint16_t code;
    const uint8_t *txt;
    size_t tl;
    assert_int_equal(smpdfu_uplink_parse_err(&e, &code, &txt, &tl), 0);
    assert_int_equal(code, SMPDFU_UPLINK_ERR_RANGE);
    assert_int_equal(tl, 3);
    assert_int_equal(smpdfu_uplink_put_read(1, 0, 1, b, 10), SMPDFU_ENOSPC);
    assert_int_equal(smpdfu_uplink_put_data(1, 0, NULL, SMPDFU_UPLINK_MAX_BLOCK + 1, b, sizeof(b)),
                     SMPDFU_EOVERSIZE);
}

/* ------------------------------------------------- client vs scripted host */

static uint8_t host_in[4096];
static size_t host_in_len;
static int sends;

static int cap_send(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    sends++;
    assert_true(host_in_len + n <= sizeof(host_in));
    memcpy(host_in + host_in_len, p, n);
    host_in_len += n;
    return 0;
}

/* The host answers every request it got; returns the answers' bytes. */
static size_t host_answer(uint8_t *out, size_t cap, int err_code)
{
    static uint8_t hb[64];
    smpdfu_uplink_dec_t d;
    smpdfu_uplink_dec_init(&d, hb, sizeof(hb));
    size_t pos = 0, n = 0;
    while (pos < host_in_len) {
        size_t used;
        smpdfu_uplink_frame_t f;
        int got = smpdfu_uplink_dec_feed(&d, host_in + pos, host_in_len - pos, &used, &f);
        pos += used;
        if (!got) {
            break;
        }
        int r;
        if (err_code) {
            r = smpdfu_uplink_put_err(f.seq, (uint16_t)err_code, NULL, out + n, cap - n);
        } else if (f.type == SMPDFU_UPLINK_INFO) {
            smpdfu_uplink_info_t i = {(uint32_t)img_len, 0, false, {0}};
            r = smpdfu_uplink_put_info(f.seq, &i, out + n, cap - n);
        } else {
            uint32_t off;
            uint16_t len;
            assert_int_equal(smpdfu_uplink_parse_read(&f, &off, &len), 0);
            if (len > img_len - off) {
                len = (uint16_t)(img_len - off);
            }
            r = smpdfu_uplink_put_data(f.seq, off, img + off, len, out + n, cap - n);
        }
        assert_true(r > 0);
        n += (size_t)r;
    }
    host_in_len = 0;
    return n;
}

static void test_uplink_client(void **state)
{
    (void)state;
    build(20000, 0, 8);
    static uint8_t rx[SMPDFU_UPLINK_FRAME_LEN(4 + 512)], tx[32], ans[8192];
    smpdfu_uplink_t u;
    smpdfu_uplink_cfg_t c = {0};
    c.send = cap_send;
    c.rx_buf = rx;
    c.rx_cap = sizeof(rx);
    c.tx_buf = tx;
    c.tx_cap = sizeof(tx);
    c.block = 512;
    c.timeout_ms = 100;
    c.retries = 2;
    assert_int_equal(smpdfu_uplink_init(&u, &c), 0);
    smpdfu_uplink_request_info(&u);
    host_in_len = 0;
    sends = 0;
    uint64_t now = 0;
    smpdfu_uplink_tick(&u, now);
    assert_int_equal(sends, 1);
    /* lost: nothing answers; after the timeout the same frame goes again */
    uint8_t first[32];
    size_t first_len = host_in_len;
    memcpy(first, host_in, first_len);
    host_in_len = 0;
    smpdfu_uplink_tick(&u, now += 99);
    assert_int_equal(sends, 1);
    smpdfu_uplink_tick(&u, now += 1);
    assert_int_equal(sends, 2);
    assert_memory_equal(host_in, first, first_len);
    size_t n = host_answer(ans, sizeof(ans), 0);
    assert_int_equal(smpdfu_uplink_feed(&u, ans, n), 0);
    /* a duplicate (late) answer is dropped */
    assert_int_equal(smpdfu_uplink_feed(&u, ans, n), 0);
    assert_int_equal(u.frames_dropped, 1);
    assert_non_null(smpdfu_uplink_info(&u));
    assert_int_equal(smpdfu_uplink_info(&u)->size, img_len);
    init_stream(NULL);
    smpdfu_uplink_attach(&u, &st);
    smpdfu_uplink_tick(&u, now);
    uint8_t buf[1000];
    uint32_t off = 0;
    while (off < img_len) {
        size_t k = img_len - off < 1000 ? img_len - off : 1000;
        int rc = smpdfu_stream_read(&st, off, buf, k);
        if (rc == SMPDFU_EAGAIN) {
            smpdfu_uplink_tick(&u, now);
            n = host_answer(ans, sizeof(ans), 0);
            assert_true(n > 0);
            assert_true(smpdfu_uplink_feed(&u, ans, n) > 0);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_memory_equal(buf, img + off, k);
        off += (uint32_t)k;
    }
    assert_true(smpdfu_stream_verified(&st));
    assert_int_equal(smpdfu_uplink_status(&u), 0);

    /* ERR from the host fails the stream with the mapped error */
    assert_int_equal(smpdfu_uplink_init(&u, &c), 0);
    init_stream(NULL);
    smpdfu_uplink_attach(&u, &st);
    host_in_len = 0;
    smpdfu_uplink_tick(&u, 0);
    n = host_answer(ans, sizeof(ans), SMPDFU_UPLINK_ERR_SOURCE);
    assert_int_equal(smpdfu_uplink_feed(&u, ans, n), SMPDFU_EFILE);
    assert_int_equal(smpdfu_stream_read(&st, 0, buf, 10), SMPDFU_EFILE);

    /* silence: retries used up -> ETIMEOUT, passed on to the stream */
    assert_int_equal(smpdfu_uplink_init(&u, &c), 0);
    init_stream(NULL);
    smpdfu_uplink_attach(&u, &st);
    smpdfu_uplink_tick(&u, 0);
    smpdfu_uplink_tick(&u, 100);
    smpdfu_uplink_tick(&u, 200);
    assert_int_equal(smpdfu_uplink_tick(&u, 300), SMPDFU_ETIMEOUT);
    assert_int_equal(u.retries_total, 2);
    assert_int_equal(smpdfu_stream_status(&st), SMPDFU_ETIMEOUT);
}

/* ------------------------------------- upload from an async stream (fake device) */

static fake_dev_t dev;
static fake_client_t fc;
static smpdfu_upload_t up;

typedef struct {
    int done;
    smpdfu_upload_result_t res;
    uint32_t pushes;
} ur_t;

static void up_done(void *arg, const smpdfu_upload_result_t *res)
{
    ur_t *r = arg;
    r->done++;
    r->res = *res;
}

/* fake_run's predicate: the feeder gives the stream up to 700 bytes of
 * what it wants, then the upload is kicked (an event-driven port). */
static bool feed_and_check(void *arg)
{
    ur_t *r = arg;
    if (r->done) {
        return true;
    }
    if (feed(img, 700) > 0) {
        r->pushes++;
    }
    smpdfu_upload_kick(&up);
    return r->done > 0;
}

static void run_stream_upload(ur_t *r)
{
    smpdfu_upload_cfg_t cfg = {0};
    cfg.src = smpdfu_stream_source(&st);
    cfg.expect_hash = smpdfu_stream_image_hash(&st);
    cfg.retries = 3;
    cfg.done = up_done;
    cfg.arg = r;
    assert_int_equal(smpdfu_upload_start(&up, &fc.c, &cfg), 0);
    for (int i = 0; i < 100000 && !r->done; i++) {
        fake_run(&dev, &fc.c, feed_and_check, r, 600000);
    }
    assert_int_equal(r->done, 1);
}

static void test_upload_async_stream(void **state)
{
    (void)state;
    build(60000, 0, 9);
    init_stream(NULL);
    fake_init(&dev, SMPDFU_LINK_UDP, 512, 4);
    assert_int_equal(fake_client_init(&fc, &dev, 3, 1000), 0);
    dev.drop_req[0] = 9; /* a lost chunk: the device answers later ones with a go-back */
    ur_t r = {0};
    run_stream_upload(&r);
    assert_int_equal(r.res.status, 0);
    assert_true(r.res.go_backs >= 1);
    assert_true(dev.complete);
    assert_int_equal(dev.img_len, img_len);
    assert_memory_equal(dev.img, img, img_len);
    assert_true(smpdfu_stream_verified(&st));
    assert_true(r.pushes > img_len / 700); /* it really was fed piece by piece */
}

static void test_upload_async_stream_bad_image(void **state)
{
    (void)state;
    build(60000, 0, 10);
    img[30000] ^= 0x20;
    init_stream(NULL);
    fake_init(&dev, SMPDFU_LINK_UDP, 512, 4);
    assert_int_equal(fake_client_init(&fc, &dev, 3, 1000), 0);
    ur_t r = {0};
    run_stream_upload(&r);
    assert_int_equal(r.res.status, SMPDFU_EIMG_HASH_MISMATCH);
    assert_false(dev.complete);
    /* the device took everything up to the final chunk, never that one */
    assert_true(dev.off < img_len);
    assert_true(dev.off >= img_len - sizeof(win) - 512);
}

static void test_upload_async_stream_session_lost(void **state)
{
    (void)state;
    build(60000, 0, 11);
    init_stream(NULL);
    fake_init(&dev, SMPDFU_LINK_UDP, 512, 4);
    assert_int_equal(fake_client_init(&fc, &dev, 3, 1000), 0);
    dev.reboot_at_req = 80; /* Zephyr-like: the session is gone, the upload starts at 0 */
    ur_t r = {0};
    run_stream_upload(&r);
    assert_int_equal(r.res.status, 0);
    assert_int_equal(r.res.restarts, 1);
    assert_true(dev.complete);
    assert_memory_equal(dev.img, img, img_len);
    assert_true(smpdfu_stream_verified(&st)); /* re-read bytes left the hash alone */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequential_blocking),
        cmocka_unit_test(test_final_bytes_held),
        cmocka_unit_test(test_corrupt_payload_refused_at_end),
        cmocka_unit_test(test_bad_header_and_trailing),
        cmocka_unit_test(test_go_back_reread),
        cmocka_unit_test(test_go_back_changed_bytes),
        cmocka_unit_test(test_crc_entries),
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_payloads),
        cmocka_unit_test(test_uplink_client),
        cmocka_unit_test(test_upload_async_stream),
        cmocka_unit_test(test_upload_async_stream_bad_image),
        cmocka_unit_test(test_upload_async_stream_session_lost),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
