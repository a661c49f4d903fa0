/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the link emulator's models: throughput limits, BLE air time,
 * the pacer and the PRNG (the console wire length is the core's:
 * tests/core/test_serial.c). Expected values are worked
 * out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "smpdfu/linkemu.h"

static smpdfu_linkemu_limit_t base(smpdfu_linkemu_limit_kind_t kind)
{
    smpdfu_linkemu_limit_t p = {.kind = kind, .baud = 115200, .line_max = 127, .pkt_len = 2048,
                                .overhead = 20, .resp_len = 20};
    p.ble = (smpdfu_linkemu_ble_t){.att_mtu = 247, .interval_us = 15000, .pdus_per_event = 4,
                                   .phy_mbps = 2, .ll_max = 251};
    return p;
}

static void test_limit_serial(void **state)
{
    (void)state;
    double v;
    smpdfu_linkemu_limit_t p = base(SMPDFU_LINKEMU_LIMIT_CONSOLE);
    /* request 2805 + response 35 (24-byte frame -> 32 chars + 3) bytes at 11520 B/s */
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), 0);
    assert_float_equal(v, 2028.0 / ((2805.0 + 35.0) / 11520.0), 0.01);
    assert_true(v / 1024 > 7.95 && v / 1024 < 8.1); /* the issue's ~8.0 KiB/s */
    p.pipelined = true;
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), 0);
    assert_float_equal(v, 2028.0 / (2805.0 / 11520.0), 0.01);
    p.baud = 1000000;
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), 0);
    assert_float_equal(v, 2028.0 / (2805.0 / 100000.0), 0.01);

    p = base(SMPDFU_LINKEMU_LIMIT_RAW_UART);
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), 0);
    assert_float_equal(v, 2028.0 / (2068.0 / 11520.0), 0.01);
    assert_true(v / 1024 > 10.9 && v / 1024 < 11.2); /* the issue's ~11 KiB/s */
}

static void test_limit_invalid(void **state)
{
    (void)state;
    double v;
    smpdfu_linkemu_limit_t p = base(SMPDFU_LINKEMU_LIMIT_CONSOLE);
    p.overhead = 2048;
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), SMPDFU_EINVAL);
    /* console framing cannot carry it: no made-up wire length */
    p = base(SMPDFU_LINKEMU_LIMIT_CONSOLE);
    p.line_max = 6;
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), SMPDFU_EINVAL);
    p = base(SMPDFU_LINKEMU_LIMIT_CONSOLE);
    p.pkt_len = 0xfffe;
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), SMPDFU_EINVAL);
    p.kind = SMPDFU_LINKEMU_LIMIT_RAW_UART;
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), 0);
    p = base(SMPDFU_LINKEMU_LIMIT_RAW_UART);
    p.baud = 0;
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), SMPDFU_EINVAL);
    p = base(SMPDFU_LINKEMU_LIMIT_BLE);
    p.ble.att_mtu = 22;
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), SMPDFU_EINVAL);
    p = base(SMPDFU_LINKEMU_LIMIT_BLE);
    p.ble.phy_mbps = 3;
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), SMPDFU_EINVAL);
    p.kind = (smpdfu_linkemu_limit_kind_t)7;
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_linkemu_limit_bps(NULL, &v), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, NULL), SMPDFU_EINVAL);
}

static void test_ble_model(void **state)
{
    (void)state;
    smpdfu_linkemu_ble_t b = {.att_mtu = 247, .interval_us = 15000, .pdus_per_event = 4,
                              .phy_mbps = 1, .ll_max = 251};
    assert_int_equal(smpdfu_linkemu_ble_check(&b), 0);
    /* 1M: empty PDU = 1+4+2+3 = 10 bytes = 80 us */
    assert_int_equal(smpdfu_linkemu_ble_pdu_ns(&b, 0), 80000);
    b.phy_mbps = 2;
    /* 2M: 2+4+2+251+3 = 262 bytes * 4 ns/bit... 262*8/2 = 1048 us */
    assert_int_equal(smpdfu_linkemu_ble_pdu_ns(&b, 251), 1048000);
    /* 2048 B: 8 fragments of 244 + 96, each 251/103 bytes with L2CAP+ATT: one PDU each */
    assert_int_equal(smpdfu_linkemu_ble_packet_pdus(&b, 2048), 9);
    /* MTU 498: 4 fragments of 495 (502 L2CAP bytes -> 2 PDUs) + 68 (1 PDU) */
    b.att_mtu = 498;
    assert_int_equal(smpdfu_linkemu_ble_packet_pdus(&b, 2048), 9);
    /* no DLE, MTU 23: 20-byte fragments, 103 of them, 27 bytes = 1 PDU each */
    b.att_mtu = 23;
    b.ll_max = 27;
    assert_int_equal(smpdfu_linkemu_ble_packet_pdus(&b, 2048), 103);
    assert_int_equal(smpdfu_linkemu_ble_packet_pdus(&b, 0), 0);

    b = (smpdfu_linkemu_ble_t){.att_mtu = 247, .interval_us = 15000, .pdus_per_event = 4,
                               .phy_mbps = 2, .ll_max = 251};
    assert_int_equal(smpdfu_linkemu_ble_pdus_per_event(&b), 4);
    /* 7.5 ms, no PDU cap: exchange = 1048 + 44 + 2*150 = 1392 us -> 5 fit */
    b.interval_us = 7500;
    b.pdus_per_event = 1000;
    assert_int_equal(smpdfu_linkemu_ble_pdus_per_event(&b), 5);

    double v;
    smpdfu_linkemu_limit_t p = base(SMPDFU_LINKEMU_LIMIT_BLE);
    p.overhead = 0;
    /* stop-and-wait: ceil(9/4) + ceil(1/4) = 4 events of 15 ms per 2048 B */
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), 0);
    assert_float_equal(v, 2048.0 / 0.060, 0.01);
    /* pipelined: 9/4 events per packet */
    p.pipelined = true;
    assert_int_equal(smpdfu_linkemu_limit_bps(&p, &v), 0);
    assert_float_equal(v, 2048.0 / (2.25 * 0.015), 0.01);
}

static void test_pacer(void **state)
{
    (void)state;
    smpdfu_linkemu_pacer_t p;
    smpdfu_linkemu_pacer_init(&p, 115200);
    uint64_t t = 0;
    /* 11520 bytes of 10 bits = exactly one second: no drift from rounding
     * the 86805.55 ns byte time. */
    for (int i = 0; i < 11520; i++) {
        t = smpdfu_linkemu_pacer_add(&p, 1000, 10);
    }
    assert_int_equal(t, 1000 + 1000000000ull);
    /* Offered while busy: queues behind. */
    assert_int_equal(smpdfu_linkemu_pacer_add(&p, 5000, 10), 1000 + 1000000000ull + 86806);
    /* Offered after the wire went idle: starts at the offer time. */
    assert_int_equal(smpdfu_linkemu_pacer_add(&p, 5000000000ull, 10), 5000000000ull + 86806);
    /* Long runs do not overflow: 10^12 units at rate 10^6 = 10^6 s. */
    smpdfu_linkemu_pacer_init(&p, 1000000);
    assert_int_equal(smpdfu_linkemu_pacer_add(&p, 0, 1000000000000ull), 1000000ull * 1000000000ull);
}

static void test_rng(void **state)
{
    (void)state;
    smpdfu_linkemu_rng_t a, b;
    smpdfu_linkemu_rng_seed(&a, 42);
    smpdfu_linkemu_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(smpdfu_linkemu_rng_next(&a), smpdfu_linkemu_rng_next(&b));
    }
    smpdfu_linkemu_rng_seed(&b, 43);
    assert_int_not_equal(smpdfu_linkemu_rng_next(&a), smpdfu_linkemu_rng_next(&b));
    int hits = 0;
    for (int i = 0; i < 10000; i++) {
        assert_false(smpdfu_linkemu_rng_chance(&a, 0.0));
        assert_true(smpdfu_linkemu_rng_chance(&a, 1.0));
        double u = smpdfu_linkemu_rng_unit(&a);
        assert_true(u >= 0.0 && u < 1.0);
        hits += smpdfu_linkemu_rng_chance(&a, 0.25);
    }
    assert_in_range(hits, 2200, 2800);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_serial),
        cmocka_unit_test(test_limit_invalid),    cmocka_unit_test(test_ble_model),
        cmocka_unit_test(test_pacer),            cmocka_unit_test(test_rng),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
