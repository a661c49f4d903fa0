/* SPDX-License-Identifier: Apache-2.0 */
/* The client engine and the upload over the BLE link kind, against the fake
 * device in BLE mode: the port cuts each packet with smpdfu_ble_frag() into
 * writes of at most ATT_MTU - 3 bytes, the device answers with notifications
 * (mtu - 3 or random sizes), reassembled by the engine. ATT MTU 23, 247 and
 * 498, with and without device-side reassembly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helper_fakedev.h"
#include "smpdfu/ble.h"
#include "smpdfu/client.h"
#include "smpdfu/client_img.h"
#include "smpdfu/client_os.h"
#include "smpdfu/upload.h"

static fake_dev_t dev;
static fake_client_t fc;
static uint8_t file[12000];
static smpdfu_upload_t up;

static const size_t mtus[] = {23, 247, 498};

typedef struct {
    int done;
    smpdfu_upload_result_t res;
} ures_t;

static void on_done(void *arg, const smpdfu_upload_result_t *res)
{
    ures_t *r = arg;
    r->done++;
    r->res = *res;
}

static bool up_done(void *arg)
{
    return ((ures_t *)arg)->done > 0;
}

typedef struct {
    int calls;
    int status;
    uint8_t payload[FAKE_MAX_PKT];
    size_t len;
} rres_t;

static void on_rsp(void *arg, const smpdfu_rsp_t *rsp)
{
    rres_t *r = arg;
    r->calls++;
    r->status = rsp->status;
    r->len = rsp->payload_len;
    if (rsp->payload) {
        memcpy(r->payload, rsp->payload, rsp->payload_len);
    }
}

static bool rsp_done(void *arg)
{
    return ((rres_t *)arg)->calls > 0;
}

static int read_file(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    memcpy(buf, file + off, len);
    return 0;
}

static void setup(size_t mtu, bool reasm, uint32_t buf_size, uint32_t seed)
{
    fake_init(&dev, SMPDFU_LINK_BLE, buf_size, 4);
    fake_ble_setup(&dev, mtu, reasm);
    dev.rng = seed;
    assert_int_equal(fake_client_init(&fc, &dev, 3, 1000), 0);
}

static void make_file(size_t n, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        file[i] = (uint8_t)rand();
    }
}

static smpdfu_upload_cfg_t base_cfg(ures_t *r, size_t n)
{
    static const uint8_t sha[32] = {1, 2, 3, 4, 5, 6, 7, 8};
    smpdfu_upload_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.src.read = read_file;
    cfg.src.size = (uint32_t)n;
    cfg.sha = sha;
    cfg.sha_len = 32;
    cfg.retries = 3;
    cfg.done = on_done;
    cfg.arg = r;
    return cfg;
}

/* Every write the device saw fit the ATT MTU, and every notification too. */
static void assert_ble_sizes(size_t mtu)
{
    assert_true(dev.ble_writes > 0);
    assert_true(dev.ble_max_write <= mtu - 3);
    assert_int_equal(dev.ble_bad_writes, 0);
    assert_true(dev.ble_max_notif <= mtu - 3);
}

/* (a)(b)(d) A windowed upload completes with the right bytes at every MTU,
 * with and without reassembly; packets have the size the link allows. */
static void test_upload_matrix(void **state)
{
    (void)state;
    static const uint32_t bufs[] = {384, 1024};
    const size_t n = sizeof(file);
    make_file(n, 7);
    for (size_t m = 0; m < 3; m++) {
        for (int reasm = 0; reasm < 2; reasm++) {
            for (size_t b = 0; b < 2; b++) {
                size_t mtu = mtus[m];
                size_t expect = reasm ? bufs[b] : (mtu - 3 < bufs[b] ? mtu - 3 : bufs[b]);
                setup(mtu, reasm != 0, bufs[b], (uint32_t)(m * 7 + b + 1));
                dev.ble_random = true;
                assert_int_equal(smpdfu_link_max_packet(&fc.c.cfg.link, bufs[b]), expect);
                ures_t r = {0};
                smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
                assert_int_equal(smpdfu_upload_start(&up, &fc.c, &cfg), 0);
                assert_true(fake_run(&dev, &fc.c, up_done, &r, 600000));
                assert_int_equal(r.done, 1);
                assert_ble_sizes(mtu);
                if (!reasm && mtu == 23) {
                    /* 20 bytes cannot carry the first chunk: early, clear failure. */
                    assert_int_equal(r.res.status, SMPDFU_EOVERSIZE);
                    assert_int_equal(dev.upload_reqs, 0);
                    assert_int_equal(fc.c.stats.retransmits, 0);
                    continue;
                }
                assert_int_equal(r.res.status, 0);
                assert_int_equal(r.res.max_packet, expect);
                assert_true(dev.complete);
                assert_int_equal(dev.img_len, n);
                assert_memory_equal(dev.img, file, n);
                assert_int_equal(dev.max_req_len, expect);
                assert_int_equal(fc.c.stats.retransmits, 0);
                assert_int_equal(fc.c.stats.bad_packets, 0);
                assert_true(dev.max_inflight > 1); /* windowed */
                if (!reasm) {
                    assert_int_equal(dev.ble_max_writes_per_pkt, 1);
                    assert_int_equal(dev.ble_writes, dev.ble_pkts_in);
                } else if (expect > mtu - 3) {
                    assert_true(dev.ble_max_writes_per_pkt >= (expect + mtu - 4) / (mtu - 3));
                }
            }
        }
    }
}

/* (b) MTU 23 without reassembly and known params: refused at start, nothing sent. */
static void test_mtu23_first_chunk_refused_at_start(void **state)
{
    (void)state;
    make_file(4000, 3);
    setup(23, false, 384, 1);
    smpdfu_client_set_params(&fc.c, 384, 4);
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, 4000);
    cfg.skip_params = true;
    assert_int_equal(smpdfu_upload_start(&up, &fc.c, &cfg), SMPDFU_EOVERSIZE);
    assert_int_equal(dev.ble_writes, 0);
    assert_false(smpdfu_upload_busy(&up));
    assert_int_equal(smpdfu_client_in_flight(&fc.c), 0);
    /* Even without a sha the 32-byte image header does not fit 20 bytes. */
    cfg.sha = NULL;
    cfg.sha_len = 0;
    assert_int_equal(smpdfu_upload_start(&up, &fc.c, &cfg), SMPDFU_EOVERSIZE);
    assert_int_equal(r.done, 0);
}

/* (b) A request larger than the link allows is refused by the engine, not
 * split over writes a non-reassembling device would take as packets. */
static void test_request_over_mtu_refused(void **state)
{
    (void)state;
    setup(23, false, 384, 1);
    rres_t r = {0};
    /* Header 8 + map 1 + "d" 2 + text head 1 + 9 chars = 21 > 20. */
    assert_int_equal(smpdfu_os_echo(&fc.c, "123456789", NULL, on_rsp, &r), SMPDFU_EOVERSIZE);
    assert_int_equal(dev.ble_writes, 0);
    assert_int_equal(smpdfu_os_echo(&fc.c, "12345678", NULL, on_rsp, &r), 0);
    assert_true(fake_run(&dev, &fc.c, rsp_done, &r, 10000));
    assert_int_equal(r.status, 0);
    assert_int_equal(dev.ble_writes, 1);
    assert_int_equal(dev.ble_max_write, 20);
}

/* (c) A ~250-byte state read at MTU 23 comes in 13 notifications of 20. */
static void test_state_read_mtu23_notifications(void **state)
{
    (void)state;
    setup(23, false, 384, 1);
    dev.complete = true;
    dev.indefinite = true;
    memset(dev.state_hash, 0x22, 32);
    uint8_t body[512];
    size_t blen = fake_state_body_for_test(&dev, body, sizeof(body));
    assert_true(blen + 8 > 240);
    rres_t r = {0};
    assert_int_equal(smpdfu_img_state_read(&fc.c, NULL, on_rsp, &r), 0);
    assert_true(fake_run(&dev, &fc.c, rsp_done, &r, 10000));
    assert_int_equal(r.status, 0);
    assert_int_equal(r.len, blen);
    assert_memory_equal(r.payload, body, blen);
    assert_int_equal(dev.ble_last_notifs, (blen + 8 + 19) / 20);
    assert_true(dev.ble_last_notifs >= 13);
    assert_int_equal(dev.ble_max_notif, 20);
    smpdfu_img_state_t st;
    assert_int_equal(smpdfu_img_state_parse_buf(r.payload, r.len, &st), 0);
    assert_int_equal(fc.c.stats.retransmits, 0);
}

/* (c) Notifications of random sizes (never below 20, never above mtu - 3)
 * reassemble; long echoes at every MTU. */
static void test_random_notification_sizes(void **state)
{
    (void)state;
    char text[300];
    for (size_t m = 0; m < 3; m++) {
        setup(mtus[m], true, 1024, (uint32_t)(m + 11));
        dev.ble_random = true;
        for (int k = 0; k < 20; k++) {
            size_t tl = 1 + (size_t)(k * 37) % (sizeof(text) - 1);
            for (size_t i = 0; i < tl; i++) {
                text[i] = (char)('a' + (i + (size_t)k) % 26);
            }
            text[tl] = 0;
            rres_t r = {0};
            assert_int_equal(smpdfu_os_echo(&fc.c, text, NULL, on_rsp, &r), 0);
            assert_true(fake_run(&dev, &fc.c, rsp_done, &r, 10000));
            assert_int_equal(r.status, 0);
            const char *echo;
            size_t el;
            smpdfu_rsp_t fake = {.payload = r.payload, .payload_len = r.len};
            assert_int_equal(smpdfu_os_echo_parse(&fake, &echo, &el), 0);
            assert_int_equal(el, tl);
            assert_memory_equal(echo, text, tl);
        }
        assert_ble_sizes(mtus[m]);
        assert_int_equal(fc.c.stats.retransmits, 0);
        assert_int_equal(fc.c.stats.bad_packets, 0);
        assert_int_equal(fc.c.dec.u.ble.stats.packets, 20);
    }
}

/* Start one echo and run it to its end. */
static void echo_once(const char *text, rres_t *r)
{
    memset(r, 0, sizeof(*r));
    assert_int_equal(smpdfu_os_echo(&fc.c, text, NULL, on_rsp, r), 0);
    assert_true(fake_run(&dev, &fc.c, rsp_done, r, 20000));
    assert_int_equal(r->calls, 1);
}

/* (e) The last notification overshoots the packet: the partial packet is
 * dropped, the request retransmitted, the second answer completes it. */
static void test_overshoot_dropped_and_retried(void **state)
{
    (void)state;
    setup(23, true, 384, 1);
    dev.ble_overshoot_pkt = 1;
    rres_t r;
    echo_once("an echo long enough for several notifications", &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(fc.c.stats.retransmits, 1);
    assert_int_equal(fc.c.dec.u.ble.stats.overshoot, 1);
    assert_int_equal(fc.c.stats.bad_packets, 1);
    /* Nothing left behind: the next exchange needs no retry. */
    echo_once("next", &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(fc.c.stats.retransmits, 1);
}

/* (e) Garbage first fragments: shorter than a header, announcing more than
 * the buffer, or a plausible header of a packet that never comes. */
static void test_garbage_first_fragment(void **state)
{
    (void)state;
    static const uint8_t shorty[5] = {1, 2, 3, 4, 5};
    static const uint8_t huge[20] = {0x03, 0, 0xff, 0xff, 0, 0, 0, 0};
    /* A v1 read response header announcing 100 bytes, then silence. */
    static const uint8_t stale[20] = {0x01, 0, 0, 100, 0, 0, 0, 0, 0xa0};
    /* 300 bytes: more than all four tries' answers together. */
    static const uint8_t stale_long[20] = {0x01, 0, 0x01, 0x24, 0, 0, 0, 0, 0xa0};
    const uint8_t *g[] = {shorty, huge, stale, stale_long};
    const size_t gl[] = {sizeof(shorty), sizeof(huge), sizeof(stale), sizeof(stale_long)};
    for (int i = 0; i < 4; i++) {
        setup(23, true, 384, 1);
        fake_queue_notification(&dev, g[i], gl[i]);
        rres_t r;
        echo_once("hello over BLE, in several notifications", &r);
        assert_int_equal(r.status, 0);
        /* Refused at once (0, 1) or dropped as stale before the retry (2, 3). */
        assert_int_equal(fc.c.stats.retransmits, i < 2 ? 0 : 1);
        echo_once("again", &r);
        assert_int_equal(r.status, 0);
        echo_once("and again", &r);
        assert_int_equal(r.status, 0);
        assert_int_equal(fc.c.stats.retransmits, i < 2 ? 0 : 1);
    }
}

/* (e) A windowed upload with an overshooting notification and garbage in
 * the middle still delivers the exact image. */
static void test_upload_survives_bad_notifications(void **state)
{
    (void)state;
    const size_t n = 6000;
    make_file(n, 9);
    setup(247, true, 384, 5);
    dev.ble_random = true;
    dev.ble_overshoot_pkt = 4;
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    assert_int_equal(smpdfu_upload_start(&up, &fc.c, &cfg), 0);
    static const uint8_t junk[3] = {0xff, 0xfe, 0xfd};
    fake_queue_notification(&dev, junk, sizeof(junk));
    assert_true(fake_run(&dev, &fc.c, up_done, &r, 600000));
    assert_int_equal(r.res.status, 0);
    assert_memory_equal(dev.img, file, n);
    assert_int_equal(dev.img_len, n);
    assert_int_equal(fc.c.dec.u.ble.stats.overshoot, 1);
    assert_int_equal(fc.c.dec.u.ble.stats.short_first, 1);
    assert_ble_sizes(247);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_matrix),
        cmocka_unit_test(test_mtu23_first_chunk_refused_at_start),
        cmocka_unit_test(test_request_over_mtu_refused),
        cmocka_unit_test(test_state_read_mtu23_notifications),
        cmocka_unit_test(test_random_notification_sizes),
        cmocka_unit_test(test_overshoot_dropped_and_retried),
        cmocka_unit_test(test_garbage_first_fragment),
        cmocka_unit_test(test_upload_survives_bad_notifications),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
