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

/* ------------------------------------------- partial-frame recovery (fake clock) */

static smpdfu_link_dec_t gdec;
static uint8_t gbuf[512];

static void init_kind(smpdfu_link_kind_t kind, uint32_t gap)
{
    smpdfu_link_t l = { kind, 0, 0, false, 0 };
    smpdfu_link_dec_init(&gdec, &l, gbuf, sizeof(gbuf));
    smpdfu_link_dec_set_gap(&gdec, gap);
}

/* Feed all of p at time now; returns the last packet length seen. */
static int feed_all_at(const uint8_t *p, size_t n, uint64_t now)
{
    int last = 0;
    size_t pos = 0;
    while (pos < n) {
        size_t used = 0;
        int rc = smpdfu_link_dec_feed_at(&gdec, p + pos, n - pos, &used, now);
        assert_true(used > 0);
        pos += used;
        if (rc != 0) {
            last = rc;
        }
    }
    return last;
}

/* An 8-byte header of noise that announces 200 bytes of body. */
static const uint8_t noise_hdr[8] = {0x02, 0x00, 0x00, 0xc8, 0x00, 0x00, 0x33, 0x00};

static void test_gap_drops_raw_partial(void **state)
{
    (void)state;
    uint8_t pkt[64];
    size_t n = make_pkt(pkt, 20, 5);
    init_kind(SMPDFU_LINK_RAW_UART, 100);
    assert_int_equal(smpdfu_link_dec_stale_at(&gdec), UINT64_MAX);
    assert_int_equal(feed_all_at(noise_hdr, sizeof(noise_hdr), 1000), 0);
    assert_true(smpdfu_link_dec_partial(&gdec));
    assert_int_equal(smpdfu_link_dec_stale_at(&gdec), 1100);
    /* Without the gap the answer would be swallowed into the noise frame. */
    assert_int_equal(smpdfu_link_dec_tick(&gdec, 1099), 0);
    assert_true(smpdfu_link_dec_partial(&gdec));
    assert_int_equal(smpdfu_link_dec_tick(&gdec, 1100), 1);
    assert_false(smpdfu_link_dec_partial(&gdec));
    assert_int_equal(gdec.stale, 1);
    assert_int_equal(gdec.u.raw.stats.timeouts, 1);
    assert_int_equal(smpdfu_link_dec_stale_at(&gdec), UINT64_MAX);
    assert_int_equal(smpdfu_link_dec_tick(&gdec, 5000), 0); /* nothing left to drop */
    assert_int_equal(feed_all_at(pkt, n, 1200), (int)n);
    assert_memory_equal(smpdfu_link_dec_packet(&gdec), pkt, n);
}

/* Bytes that keep coming within the gap keep the frame alive. */
static void test_gap_bytes_keep_frame(void **state)
{
    (void)state;
    uint8_t pkt[64];
    size_t n = make_pkt(pkt, 40, 9);
    init_kind(SMPDFU_LINK_RAW_UART, 100);
    uint64_t t = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        assert_int_equal(feed_all_at(pkt + i, 1, t), 0);
        t += 99;
        assert_int_equal(smpdfu_link_dec_tick(&gdec, t), 0);
    }
    assert_int_equal(feed_all_at(pkt + n - 1, 1, t), (int)n);
    assert_memory_equal(smpdfu_link_dec_packet(&gdec), pkt, n);
    assert_int_equal(gdec.stale, 0);
    /* A delivered packet is not a partial one: no tick drops it. */
    assert_int_equal(smpdfu_link_dec_tick(&gdec, t + 10000), 0);
    assert_non_null(smpdfu_link_dec_packet(&gdec));
}

/* No tick in between: feed_at itself drops the stale frame before it takes
 * the new bytes. */
static void test_gap_checked_on_feed(void **state)
{
    (void)state;
    uint8_t pkt[64];
    size_t n = make_pkt(pkt, 12, 1);
    init_kind(SMPDFU_LINK_RAW_UART, 100);
    feed_all_at(noise_hdr, sizeof(noise_hdr), 0);
    assert_int_equal(feed_all_at(pkt, n, 100), (int)n);
    assert_memory_equal(smpdfu_link_dec_packet(&gdec), pkt, n);
    assert_int_equal(gdec.stale, 1);
    /* One ms short of the gap: the bytes join the partial frame. */
    init_kind(SMPDFU_LINK_RAW_UART, 100);
    feed_all_at(noise_hdr, sizeof(noise_hdr), 0);
    assert_int_equal(feed_all_at(pkt, n, 99), 0);
    assert_int_equal(gdec.stale, 0);
}

/* Plain feed has no time: the next tick stamps the bytes, so the drop can
 * only come later than the gap, never earlier. */
static void test_gap_plain_feed_stamped_by_tick(void **state)
{
    (void)state;
    size_t used;
    init_kind(SMPDFU_LINK_RAW_UART, 100);
    assert_int_equal(smpdfu_link_dec_tick(&gdec, 10), 0);
    assert_int_equal(smpdfu_link_dec_feed(&gdec, noise_hdr, sizeof(noise_hdr), &used), 0);
    assert_int_equal(smpdfu_link_dec_stale_at(&gdec), 0); /* not stamped yet: tick now */
    assert_int_equal(smpdfu_link_dec_tick(&gdec, 5000), 0);          /* stamps 5000 */
    assert_int_equal(smpdfu_link_dec_stale_at(&gdec), 5100);
    assert_int_equal(smpdfu_link_dec_tick(&gdec, 5099), 0);
    assert_int_equal(smpdfu_link_dec_tick(&gdec, 5100), 1);
}

static void test_gap_off_and_other_kinds(void **state)
{
    (void)state;
    uint8_t pkt[64], out[128];
    size_t n = make_pkt(pkt, 30, 2);
    /* Gap 0: never dropped. */
    init_kind(SMPDFU_LINK_RAW_UART, 0);
    feed_all_at(noise_hdr, sizeof(noise_hdr), 0);
    assert_true(smpdfu_link_dec_partial(&gdec));
    assert_int_equal(smpdfu_link_dec_stale_at(&gdec), UINT64_MAX);
    assert_int_equal(smpdfu_link_dec_tick(&gdec, UINT64_MAX - 1), 0);
    assert_true(smpdfu_link_dec_partial(&gdec));
    /* Serial: the marker resyncs; a half frame is not "partial" here. */
    smpdfu_link_t ser = { SMPDFU_LINK_SERIAL, 0, 0, false, 0 };
    int len = smpdfu_link_encode(&ser, pkt, n, out, sizeof(out));
    assert_true(len > 10);
    init_kind(SMPDFU_LINK_SERIAL, 100);
    assert_int_equal(feed_all_at(out, 10, 0), 0);
    assert_false(smpdfu_link_dec_partial(&gdec));
    assert_int_equal(smpdfu_link_dec_tick(&gdec, 100000), 0);
    assert_int_equal(feed_all_at(out + 10, (size_t)len - 10, 100000), (int)n);
    /* UDP: whole datagrams. */
    init_kind(SMPDFU_LINK_UDP, 100);
    assert_int_equal(feed_all_at(pkt, n, 0), (int)n);
    assert_false(smpdfu_link_dec_partial(&gdec));
    assert_int_equal(smpdfu_link_dec_tick(&gdec, 1000), 0);
}

static void test_gap_drops_ble_partial(void **state)
{
    (void)state;
    uint8_t pkt[128];
    size_t n = make_pkt(pkt, 80, 3);
    init_kind(SMPDFU_LINK_BLE, 1500);
    /* The first 20 bytes of a packet, then nothing. */
    assert_int_equal(feed_all_at(pkt, 20, 0), 0);
    assert_true(smpdfu_link_dec_partial(&gdec));
    assert_int_equal(smpdfu_link_dec_tick(&gdec, 1499), 0);
    assert_int_equal(smpdfu_link_dec_tick(&gdec, 1500), 1);
    assert_int_equal(gdec.u.ble.stats.timeouts, 1);
    assert_int_equal(gdec.stale, 1);
    /* The whole packet again, in notifications of 20. */
    int rc = 0;
    for (size_t off = 0; off < n; off += 20) {
        size_t k = n - off < 20 ? n - off : 20;
        rc = feed_all_at(pkt + off, k, 2000 + off);
    }
    assert_int_equal(rc, (int)n);
    assert_memory_equal(smpdfu_link_dec_packet(&gdec), pkt, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_packet),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_decode_all_kinds),
        cmocka_unit_test(test_decode_refusals),
        cmocka_unit_test(test_gap_drops_raw_partial),
        cmocka_unit_test(test_gap_bytes_keep_frame),
        cmocka_unit_test(test_gap_checked_on_feed),
        cmocka_unit_test(test_gap_plain_feed_stamped_by_tick),
        cmocka_unit_test(test_gap_off_and_other_kinds),
        cmocka_unit_test(test_gap_drops_ble_partial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
