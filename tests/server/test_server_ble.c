/* SPDX-License-Identifier: Apache-2.0 */
/* The dispatcher behind a BLE link, as Zephyr's smp_bt runs it with
 * CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY: each GATT write goes through the BLE
 * link decoder (the first write must carry the 8-byte header; expected =
 * 8 + len, refused when larger than buf_size; a write that overshoots aborts
 * the packet), each response leaves as notifications of ATT_MTU - 3 bytes.
 * The central is the real client engine with a port cutting writes with
 * smpdfu_ble_frag(); echo and a whole image upload go through it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helper_server.h"
#include "smpdfu/ble.h"
#include "smpdfu/client.h"
#include "smpdfu/client_os.h"
#include "smpdfu/link.h"
#include "smpdfu/upload.h"

#define MAX_NOTIFS 512
#define NOTIF_MAX 495 /* ATT MTU 498 */

/* The peripheral: server, BLE decoder and the notifications it sent. */
typedef struct {
    h_dev_t dev;
    size_t mtu;
    bool reasm;
    smpdfu_link_dec_t dec;
    uint8_t dec_buf[H_MAXRSP];
    uint8_t q[MAX_NOTIFS][NOTIF_MAX];
    size_t qlen[MAX_NOTIFS];
    size_t qhead, qcount;
    /* counters */
    uint32_t writes, refused_writes, packets, responses, notifs;
    size_t max_write, max_notif;
    int last_feed;
} periph_t;

static periph_t P;

/* smpdfu_server_send_fn: the response as notifications of mtu - 3. */
static int notify(void *ctx, const uint8_t *pkt, size_t len)
{
    periph_t *p = ctx;
    size_t n = smpdfu_ble_frag_count(len, p->mtu);
    p->responses++;
    for (size_t i = 0; i < n; i++) {
        size_t off, fl;
        assert_int_equal(smpdfu_ble_frag(len, p->mtu, i, &off, &fl), 0);
        assert_true(p->qcount < MAX_NOTIFS);
        size_t slot = (p->qhead + p->qcount) % MAX_NOTIFS;
        memcpy(p->q[slot], pkt + off, fl);
        p->qlen[slot] = fl;
        p->qcount++;
        p->notifs++;
        if (fl > p->max_notif) {
            p->max_notif = fl;
        }
    }
    return 0;
}

static void periph_init(size_t mtu, bool reasm, size_t buf_size)
{
    memset(&P, 0, sizeof(P));
    h_dev_init(&P.dev, 1, SMPDFU_BOOT_SWAP_MOVE, buf_size);
    P.mtu = mtu;
    P.reasm = reasm;
    smpdfu_link_t l = {.kind = SMPDFU_LINK_BLE, .mtu = mtu, .ble_reassembly = reasm};
    /* Zephyr refuses a packet announcing more than its net_buf (buf_size). */
    smpdfu_link_dec_init(&P.dec, &l, P.dec_buf, buf_size);
}

/* One GATT write without response arriving at the peripheral. */
static int periph_write(const uint8_t *data, size_t len)
{
    P.writes++;
    if (len > P.max_write) {
        P.max_write = len;
    }
    if (len > smpdfu_ble_frag_max(P.mtu)) {
        P.refused_writes++;
        return SMPDFU_EINVAL; /* the ATT layer refuses it */
    }
    if (!P.reasm) {
        P.packets++;
        return smpdfu_server_process(&P.dev.srv, data, len, notify, &P);
    }
    int n = smpdfu_link_dec_feed(&P.dec, data, len, NULL);
    P.last_feed = n;
    if (n < 0) {
        P.refused_writes++; /* ATT error: value not allowed */
        return 0;
    }
    if (n > 0) {
        P.packets++;
        smpdfu_server_process(&P.dev.srv, smpdfu_link_dec_packet(&P.dec), (size_t)n, notify, &P);
    }
    return 0;
}

/* -------------------------------------------- decoder semantics, alone */

static size_t packet(uint8_t *out, uint8_t op, uint16_t group, uint8_t seq, uint8_t id,
                     const uint8_t *body, size_t blen)
{
    smpdfu_smp_hdr_t h = {.op = op, .version = 1, .len = (uint16_t)blen, .group = group,
                          .seq = seq, .id = id};
    smpdfu_smp_hdr_encode(&h, out);
    memcpy(out + 8, body, blen);
    return 8 + blen;
}

static size_t echo_body(uint8_t *out, size_t cap, size_t text_len)
{
    smpdfu_cbor_enc_t e;
    static char text[2048];
    for (size_t i = 0; i < text_len; i++) {
        text[i] = (char)('A' + i % 26);
    }
    smpdfu_cbor_enc_init(&e, out, cap);
    smpdfu_cbor_map_begin(&e, 1);
    smpdfu_cbor_put_tstrz(&e, "d");
    smpdfu_cbor_put_tstr(&e, text, text_len);
    return e.len;
}

/* Reassemble the notifications the peripheral queued; one packet expected. */
static size_t take_response(uint8_t *out, size_t cap)
{
    uint8_t buf[H_MAXRSP];
    smpdfu_ble_reasm_t r;
    smpdfu_ble_reasm_init(&r, buf, sizeof(buf));
    int n = 0;
    while (P.qcount > 0) {
        size_t s = P.qhead;
        P.qhead = (P.qhead + 1) % MAX_NOTIFS;
        P.qcount--;
        assert_int_equal(n, 0); /* nothing after the end of the packet */
        n = smpdfu_ble_reasm_feed(&r, P.q[s], P.qlen[s]);
        assert_true(n >= 0);
    }
    assert_true(n > 0 && (size_t)n <= cap);
    memcpy(out, smpdfu_ble_reasm_packet(&r), (size_t)n);
    return (size_t)n;
}

static void write_frags(const uint8_t *pkt, size_t len, size_t frag)
{
    for (size_t off = 0; off < len; off += frag) {
        periph_write(pkt + off, len - off < frag ? len - off : frag);
    }
}

static void test_reassembly_rules(void **state)
{
    (void)state;
    uint8_t body[1024], pkt[1100], rsp[H_MAXRSP];
    periph_init(23, true, 384);

    /* A 300-character echo in 20-byte writes, then in writes of 8 then 1
     * byte: the answer comes back as 20-byte notifications. */
    size_t bl = echo_body(body, sizeof(body), 300);
    size_t pl = packet(pkt, SMPDFU_OP_WRITE, SMPDFU_GROUP_OS, 1, SMPDFU_OS_ECHO, body, bl);
    write_frags(pkt, pl, 20);
    assert_int_equal(P.packets, 1);
    size_t rl = take_response(rsp, sizeof(rsp));
    smpdfu_smp_hdr_t h;
    assert_int_equal(smpdfu_smp_hdr_decode(rsp, rl, &h), 0);
    assert_int_equal(h.op, SMPDFU_OP_WRITE_RSP);
    assert_int_equal(h.seq, 1);
    assert_true(rl > 300);
    assert_true(P.notifs >= (rl + 19) / 20);
    assert_int_equal(P.max_notif, 20);

    periph_write(pkt, 8);
    for (size_t i = 8; i < pl; i++) {
        periph_write(pkt + i, 1);
    }
    assert_int_equal(P.packets, 2);
    take_response(rsp, sizeof(rsp));

    /* First write shorter than the header: dropped, nothing answered. */
    periph_write(pkt, 7);
    assert_int_equal(P.last_feed, SMPDFU_ETRUNC);
    assert_int_equal(P.refused_writes, 1);
    assert_int_equal(P.dec.u.ble.stats.short_first, 1);

    /* Expected = 8 + len larger than buf_size: refused at the first write. */
    bl = echo_body(body, sizeof(body), 380);
    pl = packet(pkt, SMPDFU_OP_WRITE, SMPDFU_GROUP_OS, 2, SMPDFU_OS_ECHO, body, bl);
    assert_true(pl > 384);
    periph_write(pkt, 20);
    assert_int_equal(P.last_feed, SMPDFU_EOVERSIZE);
    assert_int_equal(P.dec.u.ble.stats.oversize, 1);
    /* Its continuation writes are taken as first writes: refused too. */
    uint32_t before = P.packets;
    write_frags(pkt + 20, pl - 20, 20);
    assert_int_equal(P.packets, before);
    assert_int_equal(P.qcount, 0);

    /* A write that overshoots the announced length aborts the packet. */
    bl = echo_body(body, sizeof(body), 20);
    pl = packet(pkt, SMPDFU_OP_WRITE, SMPDFU_GROUP_OS, 3, SMPDFU_OS_ECHO, body, bl);
    assert_true(pl > 20 && pl - 20 < 20);
    periph_write(pkt, 20);
    uint8_t over[20];
    memcpy(over, pkt + 20, pl - 20);
    memset(over + (pl - 20), 0xee, sizeof(over) - (pl - 20));
    periph_write(over, sizeof(over));
    assert_int_equal(P.last_feed, SMPDFU_EMALFORMED);
    assert_int_equal(P.dec.u.ble.stats.overshoot, 1);
    assert_int_equal(P.qcount, 0);

    /* Nothing is stuck: the same request, well cut, is answered. */
    write_frags(pkt, pl, 20);
    rl = take_response(rsp, sizeof(rsp));
    assert_int_equal(smpdfu_smp_hdr_decode(rsp, rl, &h), 0);
    assert_int_equal(h.seq, 3);
    h_dev_free(&P.dev);
}

/* ------------------------------------------ the client engine in front */

typedef struct {
    smpdfu_client_t c;
    smpdfu_req_t reqs[6];
    uint8_t req_mem[6 * 1024];
    uint8_t rx[H_MAXRSP];
    uint8_t tx[1024];
    uint64_t now;
} central_t;

static central_t C;

/* The central's port: one write per smpdfu_ble_frag() piece. */
static int central_send(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    size_t n = smpdfu_ble_frag_count(len, P.mtu);
    for (size_t i = 0; i < n; i++) {
        size_t off, fl;
        int rc = smpdfu_ble_frag(len, P.mtu, i, &off, &fl);
        if (rc == 0) {
            rc = periph_write(data + off, fl);
        }
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static void central_init(void)
{
    memset(&C, 0, sizeof(C));
    smpdfu_client_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.link.kind = SMPDFU_LINK_BLE;
    cfg.link.mtu = P.mtu;
    cfg.link.ble_reassembly = P.reasm;
    cfg.send = central_send;
    cfg.reqs = C.reqs;
    cfg.nreqs = 6;
    cfg.req_mem = C.req_mem;
    cfg.req_mem_len = sizeof(C.req_mem);
    cfg.rx_buf = C.rx;
    cfg.rx_cap = sizeof(C.rx);
    cfg.tx_buf = C.tx;
    cfg.tx_cap = sizeof(C.tx);
    cfg.timeout_ms = 1000;
    cfg.retries = 2;
    assert_int_equal(smpdfu_client_init(&C.c, &cfg), 0);
    C.now = 1000;
    smpdfu_client_tick(&C.c, C.now);
}

/* Deliver notifications one by one, move virtual time, until done. */
static bool run(bool (*done)(void *), void *arg)
{
    uint64_t end = C.now + 120000;
    while (!done(arg)) {
        if (P.qcount > 0) {
            size_t s = P.qhead;
            P.qhead = (P.qhead + 1) % MAX_NOTIFS;
            P.qcount--;
            smpdfu_client_feed(&C.c, P.q[s], P.qlen[s]);
            continue;
        }
        uint32_t t = smpdfu_client_next_timeout(&C.c);
        if (t == UINT32_MAX || C.now + t > end) {
            return done(arg);
        }
        C.now += t ? t : 1;
        smpdfu_client_tick(&C.c, C.now);
    }
    return true;
}

typedef struct {
    int calls;
    int status;
    char text[1100];
    size_t len;
} echo_res_t;

static void on_echo(void *arg, const smpdfu_rsp_t *rsp)
{
    echo_res_t *r = arg;
    r->calls++;
    r->status = rsp->status;
    const char *t;
    if (rsp->status == 0 && smpdfu_os_echo_parse(rsp, &t, &r->len) == 0 && r->len < sizeof(r->text)) {
        memcpy(r->text, t, r->len);
    }
}

static bool echo_done(void *arg)
{
    return ((echo_res_t *)arg)->calls > 0;
}

static void test_echo_through_ble(void **state)
{
    (void)state;
    static const size_t mtus[] = {23, 247, 498};
    char text[1100];
    for (size_t m = 0; m < 3; m++) {
        for (int reasm = 0; reasm < 2; reasm++) {
            periph_init(mtus[m], reasm != 0, 1024);
            central_init();
            smpdfu_client_set_params(&C.c, P.dev.os.buf_size, P.dev.os.buf_count);
            size_t maxp = smpdfu_client_max_packet(&C.c);
            /* Longest text whose request (header 8, map 1, "d" 2, text head,
             * text) and answer (same, plus the indefinite map's break) fit. */
            size_t tl = sizeof(text) - 1;
            while (12 + smpdfu_cbor_head_len(tl) + tl > maxp) {
                tl--;
            }
            for (size_t i = 0; i < tl; i++) {
                text[i] = (char)('a' + i % 26);
            }
            text[tl] = 0;
            echo_res_t r = {0};
            assert_int_equal(maxp, reasm ? 1024 : mtus[m] - 3 < 1024 ? mtus[m] - 3 : 1024);
            assert_int_equal(smpdfu_os_echo(&C.c, text, NULL, on_echo, &r), 0);
            assert_true(run(echo_done, &r));
            assert_int_equal(r.status, 0);
            assert_int_equal(r.len, tl);
            assert_memory_equal(r.text, text, tl);
            assert_int_equal(P.refused_writes, 0);
            assert_true(P.max_write <= mtus[m] - 3);
            assert_true(P.max_notif <= mtus[m] - 3);
            assert_int_equal(P.packets, 1);
            assert_int_equal(C.c.stats.retransmits, 0);
            if (!reasm) {
                assert_int_equal(P.writes, 1);
            } else if (maxp > mtus[m] - 3) {
                assert_true(P.writes > 1);
            }
            h_dev_free(&P.dev);
        }
    }
}

/* ------------------------------------------------------------- upload */

static uint8_t img[12 * 1024];
static size_t img_len;

static int read_img(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    memcpy(buf, img + off, len);
    return 0;
}

typedef struct {
    int done;
    smpdfu_upload_result_t res;
} ures_t;

static void on_up(void *arg, const smpdfu_upload_result_t *res)
{
    ures_t *r = arg;
    r->done++;
    r->res = *res;
}

static bool up_done(void *arg)
{
    return ((ures_t *)arg)->done > 0;
}

static void upload_at(size_t mtu, bool reasm, size_t buf_size)
{
    uint8_t hash[32], sha[32];
    periph_init(mtu, reasm, buf_size);
    img_len = h_make_image(img, sizeof(img), 2, 0, 9000, 5, hash, sha);
    central_init();
    smpdfu_upload_t up;
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.src.read = read_img;
    cfg.src.size = (uint32_t)img_len;
    cfg.sha = sha;
    cfg.sha_len = 32;
    cfg.expect_hash = hash;
    cfg.done = on_up;
    cfg.arg = &r;
    cfg.retries = -1;
    assert_int_equal(smpdfu_upload_start(&up, &C.c, &cfg), 0);
    assert_true(run(up_done, &r));
    assert_int_equal(r.res.status, 0);
    assert_true(r.res.verified); /* the device answered match: true */
    assert_int_equal(r.res.max_packet, reasm ? buf_size : (mtu - 3 < buf_size ? mtu - 3 : buf_size));
    assert_int_equal(P.refused_writes, 0);
    assert_true(P.max_write <= mtu - 3);
    assert_true(P.max_notif <= mtu - 3);
    assert_int_equal(C.c.stats.retransmits, 0);
    /* The bytes are in the secondary slot and it reads as the new image. */
    assert_memory_equal(P.dev.mem + H_SLOT, img, img_len);
    uint8_t got[32];
    smpdfu_image_version_t v;
    uint32_t flags;
    assert_int_equal(smpdfu_img_read_info(&P.dev.img, 1, &v, got, &flags), 0);
    assert_memory_equal(got, hash, 32);
    assert_int_equal(v.major, 2);
    h_dev_free(&P.dev);
}

static void test_upload_through_ble(void **state)
{
    (void)state;
    upload_at(23, true, 384);   /* every request over 20 writes */
    upload_at(247, false, 384); /* Zephyr default: one write per request */
    upload_at(247, true, 1024);
    upload_at(498, false, 384);
    upload_at(498, true, 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reassembly_rules),
        cmocka_unit_test(test_echo_through_ble),
        cmocka_unit_test(test_upload_through_ble),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
