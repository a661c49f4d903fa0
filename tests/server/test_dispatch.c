/* SPDX-License-Identifier: Apache-2.0 */
/* Dispatcher, group registry and OS group over a RAM flash device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helper_server.h"

static h_dev_t dev;

static int setup(void **state)
{
    (void)state;
    h_dev_init(&dev, 1, SMPDFU_BOOT_SWAP_MOVE, 384);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_dev_free(&dev);
    return 0;
}

static void test_echo_versions(void **state)
{
    (void)state;
    static const uint8_t req[] = {0xa1, 0x61, 'd', 0x62, 'h', 'i'};
    static const uint8_t want[] = {0xbf, 0x61, 'r', 0x62, 'h', 'i', 0xff};
    for (uint8_t v = 0; v < 2; v++) {
        for (uint8_t op = 0; op <= 2; op += 2) {
            smpdfu_smp_hdr_t h;
            size_t n;
            assert_int_equal(h_request(&dev, v, op, 0, 0, req, sizeof(req)), 1);
            const uint8_t *p = h_rsp(&dev, 0, &h, &n);
            assert_int_equal(h.op, op + 1);
            assert_int_equal(h.version, v);
            assert_int_equal(h.len, sizeof(want));
            assert_memory_equal(p, want, sizeof(want));
        }
    }
}

static void test_errors(void **state)
{
    (void)state;
    static const uint8_t empty_map[] = {0xa0};
    smpdfu_smp_hdr_t h;
    size_t n;
    /* unknown group, unknown command, op without handler */
    assert_int_equal(h_request(&dev, 1, 0, 77, 0, empty_map, 1), 1);
    assert_int_equal(h_rsp_rc(&dev, 0), 8);
    assert_int_equal(h_request(&dev, 1, 0, 0, 200, empty_map, 1), 1);
    assert_int_equal(h_rsp_rc(&dev, 0), 8);
    assert_int_equal(h_request(&dev, 1, 0, 0, 5, empty_map, 1), 1);
    assert_int_equal(h_rsp_rc(&dev, 0), 8);
    /* response ops at the server */
    assert_int_equal(h_request(&dev, 1, 3, 0, 0, empty_map, 1), 1);
    assert_int_equal(h_rsp_rc(&dev, 0), 8);
    /* version 2 and 3 */
    assert_int_equal(h_request(&dev, 2, 0, 0, 0, empty_map, 1), 1);
    assert_int_equal(h_rsp_rc(&dev, 0), 13);
    h_rsp(&dev, 0, &h, &n);
    assert_int_equal(h.version, 1);
    /* empty payload on a command that decodes a map */
    assert_int_equal(h_request(&dev, 1, 2, 0, 0, NULL, 0), 1);
    assert_int_equal(h_rsp_rc(&dev, 0), 3);
    /* wrong type, duplicate key */
    static const uint8_t wrong[] = {0xa1, 0x61, 'd', 0x01};
    static const uint8_t dup[] = {0xa2, 0x61, 'd', 0x60, 0x61, 'd', 0x60};
    assert_int_equal(h_request(&dev, 1, 2, 0, 0, wrong, sizeof(wrong)), 1);
    assert_int_equal(h_rsp_rc(&dev, 0), 3);
    assert_int_equal(h_request(&dev, 1, 2, 0, 0, dup, sizeof(dup)), 1);
    assert_int_equal(h_rsp_rc(&dev, 0), 3);
}

static void test_truncation_and_multi(void **state)
{
    (void)state;
    uint8_t pkt[64];
    smpdfu_smp_hdr_t h = {0, 1, 0, 1, 0, 5, 6};
    /* short header: no answer */
    assert_int_equal(h_packet(&dev, (const uint8_t *)"\x08\x00\x00", 3), 0);
    /* length beyond the buffer: ECORRUPT with an answer */
    h.len = 10;
    smpdfu_smp_hdr_encode(&h, pkt);
    pkt[8] = 0xa0;
    assert_int_equal(h_packet(&dev, pkt, 9), 1);
    assert_int_equal(h_rsp_rc(&dev, 0), 9);
    /* two requests, then one that fails, then one never reached */
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        smpdfu_smp_hdr_t r = {0, 1, 0, 1, (uint16_t)(i == 2 ? 99 : 0), (uint8_t)i, 6};
        smpdfu_smp_hdr_encode(&r, pkt + n);
        pkt[n + 8] = 0xa0;
        n += 9;
    }
    assert_int_equal(h_packet(&dev, pkt, n), 3);
    assert_int_equal(h_rsp_uint(&dev, 0, "buf_size"), 384);
    assert_int_equal(h_rsp_uint(&dev, 1, "buf_count"), 4);
    assert_int_equal(h_rsp_rc(&dev, 2), 8);
}

static void test_translation(void **state)
{
    (void)state;
    static const uint8_t badfmt[] = {0xa1, 0x66, 'f', 'o', 'r', 'm', 'a', 't', 0x61, 'x'};
    uint64_t g = 99;
    assert_int_equal(h_request(&dev, 1, 0, 0, 7, badfmt, sizeof(badfmt)), 1);
    assert_int_equal(h_rsp_err(&dev, 0, &g), 2);
    assert_int_equal(g, 0);
    assert_int_equal(h_request(&dev, 0, 0, 0, 7, badfmt, sizeof(badfmt)), 1);
    assert_int_equal(h_rsp_rc(&dev, 0), 3);
}

static void test_reset_after_response(void **state)
{
    (void)state;
    static const uint8_t m[] = {0xa0};
    assert_int_equal(dev.resets, 0);
    assert_int_equal(h_request(&dev, 1, 2, 0, 5, m, 1), 1);
    assert_int_equal(dev.resets, 1);
    assert_int_equal(dev.out_len[0], 8 + 2); /* {} as BF FF */
}

/* An application group added through the registry. */
static int app_hello(smpdfu_server_req_t *r, void *ctx)
{
    int *calls = ctx;
    (*calls)++;
    smpdfu_cbor_put_tstrz(r->enc, "hello");
    smpdfu_cbor_put_uint(r->enc, 42);
    return 0;
}

static int app_fail(smpdfu_server_req_t *r, void *ctx)
{
    (void)ctx;
    return smpdfu_server_add_err(r, 64, 5);
}

static void test_registry(void **state)
{
    (void)state;
    static const smpdfu_server_handler_t h[] = {{app_hello, NULL}, {NULL, app_fail}};
    int calls = 0;
    smpdfu_server_group_t g = {64, "app", h, NULL, 2, NULL, &calls, NULL};
    smpdfu_server_group_t dup = g;
    static const uint8_t m[] = {0xa0};
    assert_int_equal(smpdfu_server_register(&dev.srv, &g), 0);
    assert_int_equal(smpdfu_server_register(&dev.srv, &dup), SMPDFU_EINVAL);
    assert_int_equal(h_request(&dev, 1, 0, 64, 0, m, 1), 1);
    assert_int_equal(h_rsp_uint(&dev, 0, "hello"), 42);
    assert_int_equal(calls, 1);
    assert_int_equal(h_request(&dev, 1, 2, 64, 1, m, 1), 1);
    assert_int_equal(h_rsp_err(&dev, 0, NULL), 5);
    /* no translator: v1 gets EUNKNOWN */
    assert_int_equal(h_request(&dev, 0, 2, 64, 1, m, 1), 1);
    assert_int_equal(h_rsp_rc(&dev, 0), 1);
}

static void test_emsgsize(void **state)
{
    (void)state;
    uint8_t req[400];
    size_t text = 384 - 8 - 1 - 2 - 3;
    req[0] = 0xa1;
    req[1] = 0x61;
    req[2] = 'd';
    req[3] = 0x79;
    req[4] = (uint8_t)(text >> 8);
    req[5] = (uint8_t)text;
    memset(req + 6, 'x', text);
    assert_int_equal(h_request(&dev, 1, 2, 0, 0, req, 6 + text), 1);
    assert_int_equal(h_rsp_rc(&dev, 0), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_echo_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_and_multi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_after_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emsgsize, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
