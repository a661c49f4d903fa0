/* SPDX-License-Identifier: Apache-2.0 */
/* BLE GATT fragmentation and reassembly (protocol.md §5.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smpdfu/ble.h"

static uint32_t rng_state = 0xdeadbeefu;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static size_t make_pkt(uint8_t *p, uint16_t body)
{
    p[0] = 0x09;
    p[1] = 0;
    p[2] = (uint8_t)(body >> 8);
    p[3] = (uint8_t)body;
    p[4] = 0;
    p[5] = 1;
    p[6] = (uint8_t)rnd();
    p[7] = 0;
    for (size_t i = 0; i < body; i++) {
        p[8 + i] = (uint8_t)rnd();
    }
    return 8u + body;
}

static void test_frag_math(void **state)
{
    (void)state;
    assert_int_equal(smpdfu_ble_frag_max(22), 0);
    assert_int_equal(smpdfu_ble_frag_max(23), 20);
    assert_int_equal(smpdfu_ble_frag_max(247), 244);
    assert_int_equal(smpdfu_ble_frag_max(498), 495);
    assert_int_equal(smpdfu_ble_frag_count(0, 23), 0);
    assert_int_equal(smpdfu_ble_frag_count(20, 23), 1);
    assert_int_equal(smpdfu_ble_frag_count(21, 23), 2);
    assert_int_equal(smpdfu_ble_frag_count(380, 23), 19);
    assert_int_equal(smpdfu_ble_frag_count(380, 22), 0);
    size_t off;
    size_t fl;
    assert_int_equal(smpdfu_ble_frag(45, 23, 2, &off, &fl), 0);
    assert_int_equal(off, 40);
    assert_int_equal(fl, 5);
    assert_int_equal(smpdfu_ble_frag(45, 23, 3, &off, &fl), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_ble_frag(45, 20, 0, &off, &fl), SMPDFU_EINVAL);
    /* fragments tile the packet exactly, none larger than mtu - 3 */
    const size_t mtus[] = { 23, 247, 498 };
    for (size_t m = 0; m < 3; m++) {
        for (size_t len = 1; len < 3000; len += 13) {
            size_t n = smpdfu_ble_frag_count(len, mtus[m]);
            size_t next = 0;
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(smpdfu_ble_frag(len, mtus[m], i, &off, &fl), 0);
                assert_int_equal(off, next);
                assert_true(fl > 0 && fl <= mtus[m] - 3);
                next += fl;
            }
            assert_int_equal(next, len);
        }
    }
}

static void test_reassembly_mtus(void **state)
{
    (void)state;
    static uint8_t pkt[2100];
    static uint8_t buf[2100];
    const size_t mtus[] = { 23, 247, 498 };
    smpdfu_ble_reasm_t r;
    smpdfu_ble_reasm_init(&r, buf, sizeof(buf));
    uint32_t count = 0;
    for (size_t m = 0; m < 3; m++) {
        for (uint16_t body = 0; body < 2000; body += 37) {
            size_t len = make_pkt(pkt, body);
            size_t n = smpdfu_ble_frag_count(len, mtus[m]);
            for (size_t i = 0; i < n; i++) {
                size_t off;
                size_t fl;
                assert_int_equal(smpdfu_ble_frag(len, mtus[m], i, &off, &fl), 0);
                int rc = smpdfu_ble_reasm_feed(&r, pkt + off, fl);
                if (i + 1 < n) {
                    assert_int_equal(rc, 0);
                    assert_null(smpdfu_ble_reasm_packet(&r));
                } else {
                    assert_int_equal(rc, (int)len);
                    assert_memory_equal(smpdfu_ble_reasm_packet(&r), pkt, len);
                }
            }
            count++;
        }
    }
    assert_int_equal(r.stats.packets, count);
}

/* The server may halve its fragment size on ENOMEM: any sizes work as long
 * as the first holds the header. */
static void test_random_fragments(void **state)
{
    (void)state;
    static uint8_t pkt[2100];
    static uint8_t buf[2100];
    smpdfu_ble_reasm_t r;
    smpdfu_ble_reasm_init(&r, buf, sizeof(buf));
    for (int round = 0; round < 500; round++) {
        size_t len = make_pkt(pkt, (uint16_t)(rnd() % 2000));
        size_t off = 0;
        int rc = 0;
        while (off < len) {
            size_t fl = (off == 0 ? 8 : 1) + rnd() % 300;
            if (fl > len - off) {
                fl = len - off;
            }
            rc = smpdfu_ble_reasm_feed(&r, pkt + off, fl);
            off += fl;
            assert_int_equal(rc, off == len ? (int)len : 0);
        }
        assert_memory_equal(smpdfu_ble_reasm_packet(&r), pkt, len);
    }
    assert_int_equal(r.stats.packets, 500);
}

static void test_refusals(void **state)
{
    (void)state;
    uint8_t pkt[600];
    uint8_t buf[300];
    smpdfu_ble_reasm_t r;
    smpdfu_ble_reasm_init(&r, buf, sizeof(buf));
    size_t len = make_pkt(pkt, 100);

    /* short first fragment */
    assert_int_equal(smpdfu_ble_reasm_feed(&r, pkt, 7), SMPDFU_ETRUNC);
    assert_int_equal(r.stats.short_first, 1);
    assert_int_equal(smpdfu_ble_reasm_feed(&r, pkt, 0), SMPDFU_ETRUNC);
    /* oversize: header says 8 + 500 > 300 */
    uint8_t big[600];
    make_pkt(big, 500);
    assert_int_equal(smpdfu_ble_reasm_feed(&r, big, 20), SMPDFU_EOVERSIZE);
    assert_int_equal(r.stats.oversize, 1);
    /* exactly the buffer is fine */
    make_pkt(big, 292);
    assert_int_equal(smpdfu_ble_reasm_feed(&r, big, 300), 300);
    /* overshoot in the first fragment */
    assert_int_equal(smpdfu_ble_reasm_feed(&r, pkt, len + 1), SMPDFU_EMALFORMED);
    /* overshoot later: partial packet dropped */
    assert_int_equal(smpdfu_ble_reasm_feed(&r, pkt, 50), 0);
    assert_int_equal(smpdfu_ble_reasm_feed(&r, pkt + 50, len - 50 + 3), SMPDFU_EMALFORMED);
    assert_int_equal(r.stats.overshoot, 2);
    /* the next packet is whole again */
    assert_int_equal(smpdfu_ble_reasm_feed(&r, pkt, 50), 0);
    assert_int_equal(smpdfu_ble_reasm_feed(&r, pkt + 50, len - 50), (int)len);
    assert_memory_equal(smpdfu_ble_reasm_packet(&r), pkt, len);
    /* reset (disconnect) drops a partial packet */
    assert_int_equal(smpdfu_ble_reasm_feed(&r, pkt, 30), 0);
    smpdfu_ble_reasm_reset(&r);
    assert_int_equal(smpdfu_ble_reasm_feed(&r, pkt, len), (int)len);
    assert_int_equal(r.stats.packets, 3);
    /* header-only packet in one fragment */
    make_pkt(pkt, 0);
    assert_int_equal(smpdfu_ble_reasm_feed(&r, pkt, 8), 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frag_math),
        cmocka_unit_test(test_reassembly_mtus),
        cmocka_unit_test(test_random_fragments),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
