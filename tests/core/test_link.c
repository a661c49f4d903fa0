/* Transport-as-data layer: limits, encoding and the unified decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smpdfu/link.h"

static size_t make_pkt(uint8_t *p, uint16_t body, uint8_t tag)
{
    p[0] = 0x0a;
    p[1] = 0;
    p[2] = (uint8_t)(body >> 8);
    p[3] = (uint8_t)body;
    p[4] = 0;
    p[5] = 1;
    p[6] = tag;
    p[7] = 1;
    for (size_t i = 0; i < body; i++) {
        p[8 + i] = (uint8_t)(i * 7 + tag);
    }
    return 8u + body;
}

static void test_max_packet(void **state)
{
    (void)state;
    smpdfu_link_t ser = { SMPDFU_LINK_SERIAL, 0, 0, false, 0 };
    smpdfu_link_t raw = { SMPDFU_LINK_RAW_UART, 0, 0, false, 0 };
    smpdfu_link_t udp = { SMPDFU_LINK_UDP, 0, 0, false, 0 };
    smpdfu_link_t ble = { SMPDFU_LINK_BLE, 0, 0, false, 0 };
    assert_int_equal(smpdfu_link_max_packet(&ser, 384), 380);
    assert_int_equal(smpdfu_link_max_packet(&ser, 0), 380);
    assert_int_equal(smpdfu_link_max_packet(&ser, 2048), 2044);
    assert_int_equal(smpdfu_link_max_packet(&raw, 384), 384);
    assert_int_equal(smpdfu_link_max_packet(&raw, 0), 384);
    assert_int_equal(smpdfu_link_max_packet(&udp, 2048), 1500);
    assert_int_equal(smpdfu_link_max_packet(&udp, 384), 384);
    assert_int_equal(smpdfu_link_max_packet(&udp, 0), 1500);
    udp.mtu = 1280;
    assert_int_equal(smpdfu_link_max_packet(&udp, 0), 1280);
    assert_int_equal(smpdfu_link_max_packet(&ble, 384), 20);
    ble.mtu = 247;
    assert_int_equal(smpdfu_link_max_packet(&ble, 384), 244);
    assert_int_equal(smpdfu_link_max_packet(&ble, 100), 100);
    ble.mtu = 498;
    assert_int_equal(smpdfu_link_max_packet(&ble, 384), 384);
    ble.ble_reassembly = true;
    ble.mtu = 23;
    assert_int_equal(smpdfu_link_max_packet(&ble, 2048), 2048);
    assert_int_equal(smpdfu_link_max_packet(&ble, 0), 384);
    assert_int_equal(smpdfu_link_max_packet(&raw, 1000000), 8 + 0xffff);
    assert_int_equal(smpdfu_link_max_packet(NULL, 384), 0);
}

static void test_encode(void **state)
{
    (void)state;
    uint8_t pkt[400];
    uint8_t out[1200];
    size_t len = make_pkt(pkt, 300, 1);
    smpdfu_link_t ser = { SMPDFU_LINK_SERIAL, 0, 0, false, 0 };
    int n = smpdfu_link_encode(&ser, pkt, len, out, sizeof(out));
    assert_int_equal(n, (int)smpdfu_link_encoded_len(&ser, len));
    assert_int_equal(n, (int)smpdfu_serial_encoded_len(len, 127));
    assert_int_equal(out[0], 0x06);
    assert_int_equal(out[126], '\n'); /* default 127-byte lines */
    ser.line_max = 64;
    n = smpdfu_link_encode(&ser, pkt, len, out, sizeof(out));
    assert_int_equal(out[62], '\n'); /* 60 chars: cut at a multiple of 4 */
    assert_int_equal(n, (int)smpdfu_link_encoded_len(&ser, len));
    assert_int_equal(smpdfu_link_encode(&ser, pkt, len, out, 10), SMPDFU_ENOSPC);

    const smpdfu_link_kind_t kinds[] = { SMPDFU_LINK_RAW_UART, SMPDFU_LINK_UDP, SMPDFU_LINK_BLE };
    for (int k = 0; k < 3; k++) {
        smpdfu_link_t l = { kinds[k], 0, 0, false, 0 };
        assert_int_equal(smpdfu_link_encoded_len(&l, len), len);
        memset(out, 0, sizeof(out));
        assert_int_equal(smpdfu_link_encode(&l, pkt, len, out, sizeof(out)), (int)len);
        assert_memory_equal(out, pkt, len);
        assert_int_equal(smpdfu_link_encode(&l, pkt, len, out, len - 1), SMPDFU_ENOSPC);
    }
    assert_int_equal(smpdfu_link_encode(NULL, pkt, len, out, sizeof(out)), SMPDFU_EINVAL);
}

/* Encode three packets per kind and decode them through the unified
 * decoder, fed the way each port delivers bytes. */
static void test_decode_all_kinds(void **state)
{
    (void)state;
    const smpdfu_link_kind_t kinds[] = { SMPDFU_LINK_SERIAL, SMPDFU_LINK_RAW_UART, SMPDFU_LINK_UDP,
                                         SMPDFU_LINK_BLE };
    for (int k = 0; k < 4; k++) {
        smpdfu_link_t l = { kinds[k], 0, 0, true, 128 };
        static uint8_t buf[1100];
        smpdfu_link_dec_t d;
        smpdfu_link_dec_init(&d, &l, buf, sizeof(buf));
        for (uint8_t tag = 1; tag <= 3; tag++) {
            uint8_t pkt[1100];
            static uint8_t enc[2000];
            size_t len = make_pkt(pkt, (uint16_t)(tag * 300), tag);
            int n = smpdfu_link_encode(&l, pkt, len, enc, sizeof(enc));
            assert_true(n > 0);
            int got = 0;
            size_t used;
            if (l.kind == SMPDFU_LINK_SERIAL || l.kind == SMPDFU_LINK_RAW_UART) {
                for (size_t i = 0; i < (size_t)n; i += used) {
                    size_t chunk = (size_t)n - i < 17 ? (size_t)n - i : 17;
                    int rc = smpdfu_link_dec_feed(&d, enc + i, chunk, &used);
                    assert_true(rc >= 0 && used > 0);
                    if (rc > 0) {
                        got = rc;
                        assert_int_equal(i + used, (size_t)n);
                    }
                }
            } else if (l.kind == SMPDFU_LINK_UDP) {
                got = smpdfu_link_dec_feed(&d, enc, (size_t)n, &used);
                assert_int_equal(used, n);
            } else {
                size_t cnt = smpdfu_ble_frag_count((size_t)n, 23);
                for (size_t i = 0; i < cnt; i++) {
                    size_t off;
                    size_t fl;
                    assert_int_equal(smpdfu_ble_frag((size_t)n, 23, i, &off, &fl), 0);
                    int rc = smpdfu_link_dec_feed(&d, enc + off, fl, &used);
                    assert_int_equal(used, fl);
                    if (i + 1 < cnt) {
                        assert_int_equal(rc, 0);
                        assert_null(smpdfu_link_dec_packet(&d));
                    } else {
                        got = rc;
                    }
                }
            }
            assert_int_equal(got, (int)len);
            assert_memory_equal(smpdfu_link_dec_packet(&d), pkt, len);
        }
        /* reset drops a partial packet (not meaningful for UDP) */
        uint8_t pkt[64];
        static uint8_t enc[200];
        size_t len = make_pkt(pkt, 40, 9);
        int n = smpdfu_link_encode(&l, pkt, len, enc, sizeof(enc));
        size_t used;
        if (l.kind != SMPDFU_LINK_UDP) {
            assert_int_equal(smpdfu_link_dec_feed(&d, enc, 20, &used), 0);
            smpdfu_link_dec_reset(&d);
        }
        assert_int_equal(smpdfu_link_dec_feed(&d, enc, (size_t)n, &used), (int)len);
        assert_memory_equal(smpdfu_link_dec_packet(&d), pkt, len);
    }
}

static void test_decode_refusals(void **state)
{
    (void)state;
    uint8_t buf[64];
    uint8_t big[100];
    size_t used;
    memset(big, 0, sizeof(big));
    smpdfu_link_t udp = { SMPDFU_LINK_UDP, 0, 0, false, 0 };
    smpdfu_link_dec_t d;
    smpdfu_link_dec_init(&d, &udp, buf, sizeof(buf));
    assert_int_equal(smpdfu_link_dec_feed(&d, big, sizeof(big), &used), SMPDFU_EOVERSIZE);
    assert_int_equal(used, sizeof(big));
    assert_null(smpdfu_link_dec_packet(&d));
    assert_int_equal(smpdfu_link_dec_feed(&d, big, 0, &used), 0);

    smpdfu_link_t ble = { SMPDFU_LINK_BLE, 0, 0, true, 0 };
    smpdfu_link_dec_init(&d, &ble, buf, sizeof(buf));
    assert_int_equal(smpdfu_link_dec_feed(&d, big, 5, &used), SMPDFU_ETRUNC);
    big[2] = 1; /* header length 256 > 64 */
    assert_int_equal(smpdfu_link_dec_feed(&d, big, 20, &used), SMPDFU_EOVERSIZE);
    big[2] = 0;
    big[3] = 4;
    assert_int_equal(smpdfu_link_dec_feed(&d, big, 13, &used), SMPDFU_EMALFORMED);
    assert_int_equal(d.u.ble.stats.overshoot, 1);

    /* serial: a line longer than rx_line_max is dropped and counted */
    smpdfu_link_t ser = { SMPDFU_LINK_SERIAL, 200, 0, false, 128 };
    uint8_t pkt[200];
    static uint8_t enc[400];
    static uint8_t sbuf[300];
    size_t len = make_pkt(pkt, 150, 1);
    int n = smpdfu_link_encode(&ser, pkt, len, enc, sizeof(enc));
    smpdfu_link_dec_init(&d, &ser, sbuf, sizeof(sbuf));
    assert_int_equal(smpdfu_link_dec_feed(&d, enc, (size_t)n, &used), 0);
    assert_int_equal(d.u.serial.stats.overlong_lines, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_packet),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_decode_all_kinds),
        cmocka_unit_test(test_decode_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
