/* SPDX-License-Identifier: Apache-2.0 */
/* The upload on a live but bad link, against the fake device on a virtual
 * clock: a chunk whose retries run out leads to an offset probe and the
 * upload goes on; only silence for silence_ms ends it (SMPDFU_ESILENT, with
 * what was heard last); the window halves on go-backs and grows back; the
 * packet size shrinks while large frames are lost and grows back; line
 * pacing switches on for a device with two line buffers; the first chunk is
 * resent at the normal timeout while the device erases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helper_fakedev.h"
#include "smpdfu/cbor.h"
#include "smpdfu/client.h"
#include "smpdfu/image.h"
#include "smpdfu/upload.h"

static fake_dev_t dev;
static fake_client_t fc;
static uint8_t file[60000];
static smpdfu_image_buf_t fbuf;
static smpdfu_upload_t up;

typedef struct {
    int done;
    smpdfu_upload_result_t res;
    uint32_t last_progress;
    bool backwards;
    uint32_t notes[5];
    uint64_t last_answer_at; /* virtual time of the last progress */
} ures_t;

static void on_progress(void *arg, uint32_t off, uint32_t size)
{
    ures_t *r = arg;
    (void)size;
    if (off < r->last_progress) {
        r->backwards = true;
    }
    r->last_progress = off;
    r->last_answer_at = dev.now;
}

static void on_note(void *arg, const smpdfu_upload_note_t *n)
{
    ures_t *r = arg;
    assert_non_null(n->text);
    r->notes[n->kind]++;
}

static void on_done(void *arg, const smpdfu_upload_result_t *res)
{
    ures_t *r = arg;
    r->done++;
    r->res = *res;
}

static bool is_done(void *arg)
{
    return ((ures_t *)arg)->done > 0;
}

static void setup(smpdfu_link_kind_t kind, uint32_t buf_size, uint32_t buf_count, size_t n,
                  uint32_t timeout_ms)
{
    fake_init(&dev, kind, buf_size, buf_count);
    assert_int_equal(fake_client_init(&fc, &dev, 3, timeout_ms), 0);
    srand((unsigned)n);
    for (size_t i = 0; i < n; i++) {
        file[i] = (uint8_t)rand();
    }
    file[0] = 0x3d;
    file[1] = 0xb8;
    file[2] = 0xf3;
    file[3] = 0x96;
    fbuf.data = file;
    fbuf.len = n;
}

static smpdfu_upload_cfg_t base_cfg(ures_t *r, size_t n)
{
    smpdfu_upload_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.src.read = smpdfu_image_buf_read;
    cfg.src.ctx = &fbuf;
    cfg.src.size = (uint32_t)n;
    static uint8_t sha[32];
    memset(sha, 0x5a, 32);
    cfg.sha = sha;
    cfg.sha_len = 32;
    cfg.retries = 3;
    cfg.progress = on_progress;
    cfg.note = on_note;
    cfg.done = on_done;
    cfg.arg = r;
    return cfg;
}

static void run(const smpdfu_upload_cfg_t *cfg, ures_t *r)
{
    assert_int_equal(smpdfu_upload_start(&up, &fc.c, cfg), 0);
    assert_true(fake_run(&dev, &fc.c, is_done, r, 3600000));
    assert_int_equal(r->done, 1);
}

static void assert_image_ok(size_t n)
{
    assert_true(dev.complete);
    assert_int_equal(dev.img_len, n);
    assert_memory_equal(dev.img, file, n);
}

/* One chunk and all its retransmissions are lost (window 1): the upload
 * does not end; an empty chunk at the confirmed offset asks the device
 * where it is, and the transfer goes on from its answer. */
static void test_probe_after_retries(void **state)
{
    (void)state;
    size_t n = 8000;
    setup(SMPDFU_LINK_UDP, 512, 1, n, 1000);
    /* params = 1, first chunk = 2, chunks 3.. : the 6th chunk, all its
     * copies (the engine resends at the round-trip estimate, doubling) and
     * whatever follows them, 16 requests in all */
    for (int i = 0; i < 16; i++) {
        dev.drop_req[i] = (uint32_t)(8 + i);
    }
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    run(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_image_ok(n);
    assert_true(r.res.probes >= 1);
    assert_int_equal(r.notes[SMPDFU_UPLOAD_NOTE_PROBE], r.res.probes);
    assert_int_equal(dev.empty_chunks, 1); /* the one probe that got through */
    assert_int_equal(dev.new_sessions, 1);
    assert_false(r.backwards);

    /* The device took the chunk but every answer to it was lost: the probe
     * learns the device is further on; nothing is sent again below it. */
    setup(SMPDFU_LINK_UDP, 512, 1, n, 1000);
    for (int i = 0; i < 16; i++) {
        dev.drop_rsp[i] = (uint32_t)(8 + i);
    }
    r = (ures_t){0};
    cfg = base_cfg(&r, n);
    run(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_image_ok(n);
    assert_true(r.res.probes >= 1);
    assert_int_equal(dev.new_sessions, 1);
    assert_false(r.backwards);
}

/* The device goes silent mid-transfer: the upload probes on and fails only
 * once nothing has been heard for silence_ms, saying how long and what it
 * heard last. */
static void test_silence_gives_up(void **state)
{
    (void)state;
    size_t n = 20000;
    setup(SMPDFU_LINK_UDP, 512, 4, n, 1000);
    dev.silent_from = 12;
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    cfg.silence_ms = 7000;
    run(&cfg, &r);
    assert_int_equal(r.res.status, SMPDFU_ESILENT);
    assert_true(r.res.silent_ms >= 7000);
    assert_true(r.res.silent_ms < 7000 + 1000);
    assert_true(dev.now - r.last_answer_at >= 7000);
    assert_true(r.res.heard);
    assert_int_equal(r.res.heard_what, SMPDFU_UPLOAD_HEARD_CHUNK);
    assert_int_equal(r.res.heard_off, r.last_progress);
    assert_int_equal(r.res.off, r.last_progress);
    assert_true(r.res.probes >= 2); /* it kept asking */
    /* Silence is not a link that loses large frames: the size stays. */
    assert_int_equal(r.res.shrinks, 0);
    assert_int_equal(r.notes[SMPDFU_UPLOAD_NOTE_SHRINK], 0);
    assert_int_equal(smpdfu_client_in_flight(&fc.c), 0);
    assert_string_equal(smpdfu_err_name(SMPDFU_ESILENT), "SMPDFU_ESILENT");

    /* Silent from the first chunk on: the erase allowance (first_timeout_ms,
     * longer than silence_ms) applies, then the same end. */
    setup(SMPDFU_LINK_UDP, 512, 4, n, 1000);
    dev.silent_from = 2;
    r = (ures_t){0};
    cfg = base_cfg(&r, n);
    cfg.silence_ms = 3000;
    cfg.first_timeout_ms = 9000;
    uint64_t t0 = dev.now;
    run(&cfg, &r);
    assert_int_equal(r.res.status, SMPDFU_ESILENT);
    assert_true(dev.now - t0 >= 9000);
    assert_true(r.res.silent_ms >= 9000);
    assert_int_equal(r.res.heard_what, SMPDFU_UPLOAD_HEARD_PARAMS);
    assert_true(r.res.first_again >= 7); /* resent every second meanwhile */
}

/* AIMD: each go-back halves the window, clean windows grow it back. */
static void test_window_aimd(void **state)
{
    (void)state;
    size_t n = 40000;
    setup(SMPDFU_LINK_UDP, 256, 8, n, 1000);
    for (int i = 0; i < 3; i++) {
        dev.drop_req[i] = (uint32_t)(10 + 3 * i); /* three go-backs close together */
    }
    dev.drop_req[3] = 120; /* and one much later */
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    run(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_image_ok(n);
    assert_true(r.res.go_backs >= 2);
    assert_int_equal(r.res.window_max, 8);
    assert_true(r.res.window_min <= 4); /* halved at least once */
    assert_int_equal(r.res.window, 8); /* grown back after the last one */

    /* --window caps it */
    setup(SMPDFU_LINK_UDP, 256, 8, n, 1000);
    r = (ures_t){0};
    cfg = base_cfg(&r, n);
    cfg.window = 3;
    run(&cfg, &r);
    assert_int_equal(r.res.window_max, 3);
    assert_int_equal(r.res.window, 3);
}

/* Large frames are lost while small ones pass (for a while): the packet
 * size halves, line by line on serial, and doubles again after a clean run. */
static void test_shrink_and_regrow(void **state)
{
    (void)state;
    size_t n = 60000;
    setup(SMPDFU_LINK_SERIAL, 1024, 4, n, 1000);
    dev.big_over = 200;  /* frames of 3 lines and more are lost ... */
    dev.big_until = 300; /* ... for the first 300 requests */
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    run(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_image_ok(n);
    assert_true(dev.big_lost > 0);
    assert_true(r.res.shrinks >= 2);
    assert_true(r.res.grows >= 2);
    assert_int_equal(r.res.max_packet, 1020); /* back at the device's limit */
    assert_true(r.notes[SMPDFU_UPLOAD_NOTE_SHRINK] >= 2);
    /* Long frames always lost while short ones pass looks like a device
     * dropping lines: pacing is tried, its gap doubled at most twice. */
    assert_true(r.res.pace_us <= 4u * SMPDFU_UPLOAD_PACE_START_US);
    assert_int_equal(dev.new_sessions, 1);

    /* A fixed packet size is kept, losses or not. */
    setup(SMPDFU_LINK_SERIAL, 1024, 4, 8000, 1000);
    r = (ures_t){0};
    cfg = base_cfg(&r, 8000);
    cfg.packet_size = 300;
    run(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_int_equal(r.res.max_packet, 300);
    assert_int_equal(dev.max_req_len, 300);
}

/* A device with two line buffers (Zephyr's UART transport), each held 1 ms
 * per line: frames of three or more lines sent back to back always lose a
 * line. The upload shrinks until frames pass, switches pacing on and grows
 * the frames again, which then pass too. */
static void test_pacing_detected(void **state)
{
    (void)state;
    size_t n = 30000;
    setup(SMPDFU_LINK_SERIAL, 512, 1, n, 1000);
    dev.rx_lines = 2;
    dev.line_ms = 1;
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    run(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_image_ok(n);
    assert_true(r.res.pace_us >= SMPDFU_UPLOAD_PACE_START_US);
    assert_int_equal(smpdfu_client_pace(&fc.c), r.res.pace_us);
    assert_int_equal(r.notes[SMPDFU_UPLOAD_NOTE_PACE], 1);
    assert_true(dev.lines_dropped > 0);
    assert_true(r.res.max_packet > 182); /* more than two lines again */
    assert_true(smpdfu_client_stats(&fc.c)->paced_lines > 0);

    /* Pacing forbidden: the upload still completes, with short frames. */
    setup(SMPDFU_LINK_SERIAL, 512, 1, n, 1000);
    dev.rx_lines = 2;
    dev.line_ms = 1;
    r = (ures_t){0};
    cfg = base_cfg(&r, n);
    cfg.pace_us = SMPDFU_UPLOAD_PACE_OFF;
    run(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_image_ok(n);
    assert_int_equal(r.res.pace_us, 0);
    assert_true(r.res.max_packet <= 182);

    /* Fixed pacing: no line is ever dropped. */
    setup(SMPDFU_LINK_SERIAL, 512, 1, n, 1000);
    dev.rx_lines = 2;
    dev.line_ms = 1;
    r = (ures_t){0};
    cfg = base_cfg(&r, n);
    cfg.pace_us = 1000;
    run(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_image_ok(n);
    assert_int_equal(dev.lines_dropped, 0);
    assert_int_equal(r.res.shrinks, 0);
}

/* The device erases for 5 s on the first chunk. The first chunk goes again
 * every normal timeout (1 s) meanwhile with the same sequence number and
 * sha; the device answers each copy with its offset once done, starts one
 * session only, and the upload does not give up although the erase is
 * longer than silence_ms (the erase allowance holds). */
static void test_first_chunk_during_erase(void **state)
{
    (void)state;
    size_t n = 10000;
    setup(SMPDFU_LINK_UDP, 512, 4, n, 1000);
    dev.erase_ms = 5000;
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    cfg.silence_ms = 3000;
    run(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_image_ok(n);
    assert_int_equal(dev.new_sessions, 1);
    assert_true(r.res.first_again >= 3);
    assert_true(dev.first_chunks >= 4);
    assert_false(r.backwards);

    /* A lost first chunk costs one normal timeout, not the erase allowance. */
    setup(SMPDFU_LINK_UDP, 512, 4, n, 1000);
    dev.drop_req[0] = 2;
    r = (ures_t){0};
    cfg = base_cfg(&r, n);
    uint64_t t0 = dev.now;
    run(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_int_equal(r.res.first_again, 1);
    assert_true(dev.now - t0 < 2000);
}

/* ------------------------------------------------------------- engine */

typedef struct {
    uint64_t at[64];
    size_t len[64];
    bool one_line[64];
    size_t n;
    uint64_t *clock;
} sends_t;

static int record_send(void *ctx, const uint8_t *data, size_t len)
{
    sends_t *s = ctx;
    if (s->n < 64) {
        size_t nl = 0;
        for (size_t i = 0; i < len; i++) {
            nl += data[i] == '\n';
        }
        s->at[s->n] = *s->clock;
        s->len[s->n] = len;
        s->one_line[s->n] = nl == 1 && data[len - 1] == '\n';
        s->n++;
    }
    return 0;
}

static int got_status;
static uint16_t got_sends;
static void on_rsp(void *arg, const smpdfu_rsp_t *rsp)
{
    (void)arg;
    got_status = rsp->status;
    got_sends = rsp->sends;
}

static smpdfu_client_t ec;
static smpdfu_req_t ereqs[4];
static uint8_t emem[4 * 1024], erx[2048], etx[4096];

static void engine_setup(sends_t *s, uint64_t *clock, uint32_t baud)
{
    smpdfu_client_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.link.kind = SMPDFU_LINK_SERIAL;
    cfg.send = record_send;
    cfg.send_ctx = s;
    cfg.reqs = ereqs;
    cfg.nreqs = 4;
    cfg.req_mem = emem;
    cfg.req_mem_len = sizeof(emem);
    cfg.rx_buf = erx;
    cfg.rx_cap = sizeof(erx);
    cfg.tx_buf = etx;
    cfg.tx_cap = sizeof(etx);
    cfg.timeout_ms = 1000;
    cfg.retries = 0;
    cfg.baud = baud;
    memset(s, 0, sizeof(*s));
    s->clock = clock;
    assert_int_equal(smpdfu_client_init(&ec, &cfg), 0);
    smpdfu_client_tick(&ec, *clock);
}

/* Run virtual time forward by the engine's own deadlines up to `until`. */
static void engine_run(uint64_t *clock, uint64_t until)
{
    while (*clock < until) {
        uint32_t t = smpdfu_client_next_timeout(&ec);
        uint64_t next = t == UINT32_MAX ? until : *clock + (t ? t : 1);
        *clock = next < until ? next : until;
        smpdfu_client_tick(&ec, *clock);
    }
}

/* Pacing: one line per send(), each after the previous line's time on the
 * wire (115200 baud: 127 bytes = 11.02 ms) plus the gap, rounded up to the
 * millisecond; the timeout starts when the last line went out. */
static void test_engine_pacing(void **state)
{
    (void)state;
    sends_t s;
    uint64_t clock = 5000;
    engine_setup(&s, &clock, 115200);
    smpdfu_client_set_pace(&ec, 2000);
    assert_int_equal(smpdfu_client_pace(&ec), 2000);
    uint8_t body[400];
    smpdfu_cbor_enc_t e;
    smpdfu_cbor_enc_init(&e, body, sizeof(body));
    smpdfu_cbor_map_begin(&e, 1);
    smpdfu_cbor_put_tstr(&e, "d", 1);
    char text[300];
    memset(text, 'x', sizeof(text));
    smpdfu_cbor_put_tstr(&e, text, sizeof(text));
    got_status = 1;
    assert_int_equal(smpdfu_client_request(&ec, 2, 0, 0, body, e.len, 1000, 0, on_rsp, NULL, NULL), 0);
    engine_run(&clock, 5000 + 200);
    assert_int_equal(s.n, 4); /* 308 + 8 + 4 bytes of frame: 4 lines */
    for (size_t i = 0; i < s.n; i++) {
        assert_true(s.one_line[i]);
        if (i) {
            /* 11.02 ms on the wire + 2 ms quiet -> 14 ms between line starts */
            assert_int_equal(s.at[i] - s.at[i - 1], 14);
        }
    }
    assert_true(smpdfu_client_stats(&ec)->paced_lines >= 4);
    /* No answer: the timeout (1 s) counts from the last line. */
    engine_run(&clock, s.at[3] + 999);
    assert_int_equal(got_status, 1);
    engine_run(&clock, s.at[3] + 1000);
    assert_int_equal(got_status, SMPDFU_ETIMEOUT);

    /* Off again: whole frames in one send(). */
    smpdfu_client_set_pace(&ec, 0);
    s.n = 0;
    assert_int_equal(smpdfu_client_request(&ec, 2, 0, 0, body, e.len, 1000, 0, on_rsp, NULL, NULL), 0);
    assert_int_equal(s.n, 1);
    assert_false(s.one_line[0]);
}

/* Once round trips are known, a request with retries is resent after the
 * estimate (doubling), not after its whole timeout, and still ends after
 * (retries + 1) x timeout; a request without retries is never resent. */
static void test_engine_rto(void **state)
{
    (void)state;
    size_t n = 3000;
    setup(SMPDFU_LINK_UDP, 512, 1, n, 1000);
    /* a few answered requests: round trips of 0 ms on the fake */
    for (int i = 0; i < 4; i++) {
        ures_t r = {0};
        smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
        run(&cfg, &r);
        assert_int_equal(r.res.status, 0);
        fake_reboot(&dev);
        dev.complete = false;
    }
    uint32_t rto = smpdfu_client_rto(&fc.c, 1000);
    assert_int_equal(rto, SMPDFU_CLIENT_MIN_RTO_MS);
    /* Now a silent device: an echo with 3 retries of 1 s. */
    dev.silent_from = dev.nreq + 1;
    uint32_t retx0 = smpdfu_client_stats(&fc.c)->retransmits;
    static const uint8_t echo[] = {0xa1, 0x61, 'd', 0x61, 'x'};
    got_status = 1;
    uint64_t t0 = dev.now;
    assert_int_equal(smpdfu_client_request(&fc.c, 2, 0, 0, echo, sizeof(echo), 1000, 3, on_rsp, NULL,
                                           NULL), 0);
    bool ended = false;
    while (!ended) {
        uint32_t t = smpdfu_client_next_timeout(&fc.c);
        dev.now += t ? t : 1;
        smpdfu_client_tick(&fc.c, dev.now);
        ended = got_status != 1;
    }
    assert_int_equal(got_status, SMPDFU_ETIMEOUT);
    assert_int_equal(dev.now - t0, 4000); /* (3 + 1) x 1 s, as without an estimate */
    /* 25, 50, 100, ... 1000 ms apart: more copies than the 3 retries */
    assert_true(smpdfu_client_stats(&fc.c)->retransmits - retx0 > 3);
    assert_true(got_sends > 4);

    /* retries 0 (a reset): one copy only */
    retx0 = smpdfu_client_stats(&fc.c)->retransmits;
    got_status = 1;
    t0 = dev.now;
    assert_int_equal(smpdfu_client_request(&fc.c, 2, 0, 5, NULL, 0, 1000, 0, on_rsp, NULL, NULL), 0);
    while (got_status == 1) {
        uint32_t t = smpdfu_client_next_timeout(&fc.c);
        dev.now += t ? t : 1;
        smpdfu_client_tick(&fc.c, dev.now);
    }
    assert_int_equal(dev.now - t0, 1000);
    assert_int_equal(smpdfu_client_stats(&fc.c)->retransmits, retx0);
    assert_int_equal(got_sends, 1);
}


/* Raw UART has no resync marker. A header-shaped noise burst (a v1 write
 * response announcing 256 bytes, NOISE of the soak's noise bridge) makes
 * the client's decoder take the answers that follow as its body, then read
 * answer bytes as headers; with the CLI's 64 KiB receive buffer one of them
 * may announce tens of KiB. The decoder drops a partial frame only after a
 * quiet gap (half the request timeout), and while the client retransmits
 * every round trip the device answers every copy, so the line never goes
 * quiet: without the engine's hold the upload went silent until silence_ms
 * (phantom before the answer to request 60, 61 or 63: SMPDFU_ESILENT after
 * 60 s, the decoder 7 KiB into a 25 KiB "frame", 540 requests answered).
 * With it, every send waits for one quiet gap and the upload goes on. */
static const uint8_t phantom[8] = {0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x42, 0x00};
static uint32_t phantom_at;
static uint64_t phantom_sent_at;

static bool phantom_hook(fake_dev_t *d, const smpdfu_smp_hdr_t *h, const uint8_t *body,
                         size_t body_len, uint8_t *rsp, size_t *rsp_len)
{
    (void)h;
    (void)body;
    (void)body_len;
    (void)rsp;
    (void)rsp_len;
    if (d->nreq == phantom_at) {
        fake_queue_notification(d, phantom, sizeof(phantom)); /* ahead of the answer */
        phantom_sent_at = d->now;
    }
    return false; /* the built-in handler answers */
}

/* The smpdfu CLI's receive buffer takes any SMP packet (64 KiB + header). */
static uint8_t big_rx[65536 + 8];

static void test_raw_phantom_header(void **state)
{
    (void)state;
    size_t n = 30000; /* 63 chunks of 480 bytes at buf_size 512 */
    uint32_t stale = 0, holds = 0;
    for (uint32_t at = 50; at <= 63; at++) {
        setup(SMPDFU_LINK_RAW_UART, 512, 4, n, 2000);
        smpdfu_client_cfg_t ccfg = fc.c.cfg;
        ccfg.rx_buf = big_rx;
        ccfg.rx_cap = sizeof(big_rx);
        assert_int_equal(smpdfu_client_init(&fc.c, &ccfg), 0);
        smpdfu_client_tick(&fc.c, dev.now);
        dev.hook = phantom_hook;
        phantom_at = at;
        phantom_sent_at = 0;
        ures_t r = {0};
        smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
        cfg.silence_ms = 60000;
        run(&cfg, &r);
        assert_true(phantom_sent_at != 0);
        assert_int_equal(r.res.status, 0);
        assert_image_ok(n);
        /* Back in step within a few quiet gaps (1 s each), not at 60 s. */
        assert_true(dev.now - phantom_sent_at < 5000);
        stale += fc.c.dec.stale;
        holds += smpdfu_client_stats(&fc.c)->holds;
    }
    assert_true(stale >= 1); /* a phantom frame was dropped for quiet */
    assert_true(holds >= 1); /* because the engine made the line quiet */
}

/* Raw UART: bytes that make no response across a retransmission interval
 * hold every send until the line has been quiet for the gap (timeout / 2);
 * a request made meanwhile waits with its first copy and goes when the hold
 * ends; an accepted response ends a hold at once. Serial and UDP never hold:
 * their retransmission goes at its deadline as before. */
static int hold_done;
static void on_hold_rsp(void *arg, const smpdfu_rsp_t *rsp)
{
    (void)arg;
    assert_int_equal(rsp->status, 0);
    hold_done++;
}

static void engine_kind(sends_t *s, uint64_t *clock, smpdfu_link_kind_t kind)
{
    engine_setup(s, clock, 0);
    smpdfu_client_cfg_t cfg = ec.cfg;
    cfg.link.kind = kind;
    cfg.timeout_ms = 2000; /* quiet gap 1 s */
    cfg.retries = 3;
    assert_int_equal(smpdfu_client_init(&ec, &cfg), 0);
    smpdfu_client_tick(&ec, *clock);
    hold_done = 0;
}

static size_t echo_answer(uint8_t *out, const smpdfu_req_t *r)
{
    static const uint8_t empty[1] = {0xa0};
    return fake_packet(out, SMPDFU_SMP_V2, SMPDFU_OP_READ_RSP, SMPDFU_GROUP_OS, r->seq,
                       SMPDFU_OS_ECHO, empty, 1);
}

static void test_engine_hold(void **state)
{
    (void)state;
    static const uint8_t zero[1] = {0};
    sends_t s;
    uint64_t clock = 1000;
    smpdfu_req_t *a, *b;
    uint8_t pkt[64];

    engine_kind(&s, &clock, SMPDFU_LINK_RAW_UART);
    assert_int_equal(smpdfu_client_request(&ec, SMPDFU_OP_READ, SMPDFU_GROUP_OS, SMPDFU_OS_ECHO,
                                           NULL, 0, 2000, 3, on_hold_rsp, NULL, &a), 0);
    assert_int_equal(s.n, 1);
    /* A phantom header, then bytes every 400 ms that it swallows. */
    assert_int_equal(smpdfu_client_feed_at(&ec, phantom, sizeof(phantom), clock), 0);
    for (uint64_t t = 1400; t <= 2600; t += 400) {
        engine_run(&clock, t);
        assert_int_equal(smpdfu_client_feed_at(&ec, zero, 1, clock), 0);
    }
    engine_run(&clock, 3000); /* A's retransmission is due: held instead */
    assert_int_equal(s.n, 1);
    assert_int_equal(smpdfu_client_stats(&ec)->holds, 1);
    assert_int_equal(smpdfu_client_request(&ec, SMPDFU_OP_READ, SMPDFU_GROUP_OS, SMPDFU_OS_ECHO,
                                           NULL, 0, 2000, 3, on_hold_rsp, NULL, &b), 0);
    assert_int_equal(s.n, 1); /* B waits too */
    engine_run(&clock, 3300);
    assert_int_equal(smpdfu_client_feed_at(&ec, zero, 1, clock), 0); /* not quiet yet */
    assert_int_equal(smpdfu_client_next_timeout(&ec), 1000);
    engine_run(&clock, 4299);
    assert_int_equal(s.n, 1);
    assert_int_equal(ec.dec.stale, 0);
    engine_run(&clock, 4300); /* quiet for the gap: frame dropped, B sent, A resent */
    assert_int_equal(ec.dec.stale, 1);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.at[1], 4300);
    assert_int_equal(s.at[2], 4300);
    size_t n = echo_answer(pkt, a);
    n += echo_answer(pkt + n, b);
    assert_int_equal(smpdfu_client_feed_at(&ec, pkt, n, clock), 0);
    assert_int_equal(hold_done, 2);
    assert_int_equal(smpdfu_client_stats(&ec)->timeouts, 0);

    /* A slow answer still arriving when the retransmission falls due: held,
     * and the hold ends as soon as the answer is whole. */
    engine_kind(&s, &clock, SMPDFU_LINK_RAW_UART);
    uint64_t t0 = clock;
    assert_int_equal(smpdfu_client_request(&ec, SMPDFU_OP_READ, SMPDFU_GROUP_OS, SMPDFU_OS_ECHO,
                                           NULL, 0, 2000, 3, on_hold_rsp, NULL, &a), 0);
    n = echo_answer(pkt, a);
    assert_int_equal(smpdfu_client_feed_at(&ec, pkt, 5, clock), 0);
    for (size_t i = 5; i < 8; i++) { /* a byte every 600 ms: never quiet for 1 s */
        engine_run(&clock, t0 + 600 * (i - 4));
        assert_int_equal(smpdfu_client_feed_at(&ec, pkt + i, 1, clock), 0);
    }
    engine_run(&clock, t0 + 2000);
    assert_int_equal(s.n, 1);
    assert_int_equal(smpdfu_client_stats(&ec)->holds, 1);
    engine_run(&clock, t0 + 2100);
    assert_int_equal(smpdfu_client_feed_at(&ec, pkt + 8, n - 8, clock), 0);
    assert_int_equal(hold_done, 1);
    smpdfu_client_tick(&ec, clock);
    assert_int_equal(smpdfu_client_request(&ec, SMPDFU_OP_READ, SMPDFU_GROUP_OS, SMPDFU_OS_ECHO,
                                           NULL, 0, 2000, 3, on_hold_rsp, NULL, &b), 0);
    assert_int_equal(s.n, 2); /* at once */
    assert_int_equal(s.at[1], t0 + 2100);

    /* Console framing and UDP: the same junk, the retransmission at 3 s. */
    smpdfu_link_kind_t other[] = {SMPDFU_LINK_SERIAL, SMPDFU_LINK_UDP};
    for (size_t k = 0; k < 2; k++) {
        clock = 1000;
        engine_kind(&s, &clock, other[k]);
        assert_int_equal(smpdfu_client_request(&ec, SMPDFU_OP_READ, SMPDFU_GROUP_OS,
                                               SMPDFU_OS_ECHO, NULL, 0, 2000, 3, on_hold_rsp,
                                               NULL, &a), 0);
        assert_int_equal(smpdfu_client_feed_at(&ec, phantom, sizeof(phantom), clock), 0);
        for (uint64_t t = 1400; t <= 2600; t += 400) {
            engine_run(&clock, t);
            assert_int_equal(smpdfu_client_feed_at(&ec, zero, 1, clock), 0);
        }
        engine_run(&clock, 3000);
        assert_int_equal(s.n, 2);
        assert_int_equal(s.at[1], 3000);
        assert_int_equal(smpdfu_client_stats(&ec)->holds, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_after_retries),
        cmocka_unit_test(test_silence_gives_up),
        cmocka_unit_test(test_window_aimd),
        cmocka_unit_test(test_shrink_and_regrow),
        cmocka_unit_test(test_pacing_detected),
        cmocka_unit_test(test_first_chunk_during_erase),
        cmocka_unit_test(test_engine_pacing),
        cmocka_unit_test(test_engine_rto),
        cmocka_unit_test(test_raw_phantom_header),
        cmocka_unit_test(test_engine_hold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
