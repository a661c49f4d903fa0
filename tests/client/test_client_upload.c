/* Upload against the scripted fake device: exact packet sizes, sha/len on
 * the first chunk, windowing with lost requests/responses, session loss and
 * resume, off:0 after the final chunk, device errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helper_fakedev.h"
#include "smpdfu/client.h"
#include "smpdfu/image.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/upload.h"

static fake_dev_t dev;
static fake_client_t fc;
static uint8_t file[20000];
static smpdfu_image_buf_t fbuf;
static smpdfu_upload_t up;

typedef struct {
    int done;
    smpdfu_upload_result_t res;
    uint32_t last_progress;
    uint32_t progress_calls;
    bool progress_backwards;
} ures_t;

static void on_progress(void *arg, uint32_t off, uint32_t size)
{
    ures_t *r = arg;
    assert_true(off <= size);
    if (off < r->last_progress) {
        r->progress_backwards = true;
    }
    r->last_progress = off;
    r->progress_calls++;
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

static void make_file(size_t n, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        file[i] = (uint8_t)rand();
    }
    /* MCUboot header magic, little-endian */
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
    cfg.retries = 3;
    cfg.progress = on_progress;
    cfg.done = on_done;
    cfg.arg = r;
    return cfg;
}

static void setup(smpdfu_link_kind_t kind, uint32_t buf_size, uint32_t buf_count, size_t n)
{
    fake_init(&dev, kind, buf_size, buf_count);
    assert_int_equal(fake_client_init(&fc, &dev, 3, 1000), 0);
    make_file(n, (unsigned)n);
}

static void assert_image_ok(size_t n)
{
    assert_true(dev.complete);
    assert_int_equal(dev.img_len, n);
    assert_memory_equal(dev.img, file, n);
}

/* Start an upload and run the fake device until it ends. */
static void run_upload(const smpdfu_upload_cfg_t *cfg, ures_t *r)
{
    assert_int_equal(smpdfu_upload_start(&up, &fc.c, cfg), 0);
    assert_true(fake_run(&dev, &fc.c, is_done, r, 600000));
}

/* run_upload, then require success with all n bytes on the device. */
static void run_upload_ok(const smpdfu_upload_cfg_t *cfg, ures_t *r, size_t n)
{
    run_upload(cfg, r);
    assert_int_equal(r->res.status, 0);
    assert_image_ok(n);
}

/* Every full chunk is exactly the largest packet; first chunk carries len
 * and the whole-file SHA-256 computed through the hash hook. */
static void test_exact_packets_serial(void **state)
{
    (void)state;
    size_t n = 20000;
    setup(SMPDFU_LINK_SERIAL, 384, 1, n);
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&hs, &h);
    cfg.hash = &h;
    run_upload(&cfg, &r);
    smpdfu_posix_hash_free(&hs);
    assert_int_equal(r.res.status, 0);
    assert_image_ok(n);
    uint8_t want[32];
    assert_int_equal(smpdfu_posix_digest(SMPDFU_HASH_SHA256, file, n, want), 0);
    assert_int_equal(dev.sha_len, 32);
    assert_memory_equal(dev.saved_sha, want, 32);
    /* 384-byte device buffer over serial: 380-byte packets, never more */
    assert_int_equal(dev.max_req_len, 380);
    assert_int_equal(r.res.max_packet, 380);
    assert_false(r.progress_backwards);
    assert_int_equal(r.last_progress, n);
    assert_int_equal(dev.first_chunks, 1);
    assert_int_equal(r.res.window, 1);
}

/* Count the chunks that were not exactly max: only the last may be short. */
static bool size_hook(fake_dev_t *d, const smpdfu_smp_hdr_t *h, const uint8_t *body,
                      size_t body_len, uint8_t *rsp, size_t *rsp_len)
{
    (void)rsp;
    (void)rsp_len;
    (void)body;
    if (h->group == 1 && h->id == 1 && d->nchunks < 4096) {
        d->req_lens[d->nchunks] = SMPDFU_SMP_HDR_LEN + body_len;
    }
    return false;
}

static void test_exact_packets_udp_many_sizes(void **state)
{
    (void)state;
    /* Sizes around the CBOR head width step at 255/256 data bytes. */
    static const uint32_t bufs[] = {120, 200, 290, 300, 1024, 1500};
    for (size_t b = 0; b < sizeof(bufs) / sizeof(bufs[0]); b++) {
        size_t n = 9000 + b * 77;
        setup(SMPDFU_LINK_UDP, bufs[b], 1, n);
        dev.hook = size_hook;
        ures_t r = {0};
        smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
        uint8_t sha[32];
        memset(sha, 0x5a, 32);
        cfg.sha = sha;
        cfg.sha_len = 32;
        cfg.image = b == 2 ? 1 : 0;
        cfg.upgrade = b == 3;
        run_upload_ok(&cfg, &r, n);
        size_t short_ones = 0;
        for (size_t i = 0; i < dev.nchunks; i++) {
            assert_true(dev.req_lens[i] <= bufs[b]);
            short_ones += dev.req_lens[i] != bufs[b];
        }
        assert_int_equal(short_ones, 1); /* the last chunk */
    }
    /* 80 bytes cannot carry the first chunk's 32-byte image header. */
    setup(SMPDFU_LINK_UDP, 80, 1, 5000);
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, 5000);
    uint8_t sha[32] = {0};
    cfg.sha = sha;
    cfg.sha_len = 32;
    run_upload(&cfg, &r);
    assert_int_equal(r.res.status, SMPDFU_EOVERSIZE);
    assert_int_equal(dev.upload_reqs, 0);
}

static void test_chunk_len_math(void **state)
{
    (void)state;
    /* Not-first chunk at offset 1000 (off head 3 bytes): header 8 + map 1 +
     * "data" 5 + "off" 4 + 3 = 21; a 100-byte packet leaves 79 = 2 + 77. */
    assert_int_equal(smpdfu_upload_chunk_len(100, 1000, false, 100000, 32, 0, false), 77);
    /* 21 + 1 + 23 = 45: exactly fits a 1-byte bstr head */
    assert_int_equal(smpdfu_upload_chunk_len(45, 1000, false, 100000, 32, 0, false), 23);
    /* 46: 24 data would need a 2-byte head (48) -> still 23 */
    assert_int_equal(smpdfu_upload_chunk_len(46, 1000, false, 100000, 32, 0, false), 23);
    assert_int_equal(smpdfu_upload_chunk_len(47, 1000, false, 100000, 32, 0, false), 24);
    /* last chunk is cut to what remains */
    assert_int_equal(smpdfu_upload_chunk_len(1000, 99990, false, 100000, 32, 0, false), 10);
    assert_int_equal(smpdfu_upload_chunk_len(20, 0, true, 100000, 32, 0, false), 0);
}

/* Window of 4: a lost request makes the device answer the following chunks
 * with the expected offset; the client goes back and finishes. */
static void test_window_lost_request(void **state)
{
    (void)state;
    size_t n = 20000;
    setup(SMPDFU_LINK_UDP, 512, 4, n);
    dev.drop_req[0] = 6; /* params=1, first=2, then chunk 3,4,5,6... */
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    run_upload_ok(&cfg, &r, n);
    assert_int_equal(r.res.window, 4);
    assert_true(dev.max_inflight >= 3);
    assert_int_equal(r.res.go_backs, 1);
    assert_int_equal(dev.first_chunks, 1); /* never restarted */
    assert_false(r.progress_backwards);
}

/* Losses now and then (a lossy link, not a device short of buffers) keep
 * the window: each costs one go-back, never a fall back to one in flight. */
static void test_window_scattered_losses(void **state)
{
    (void)state;
    size_t n = 20000; /* about 90 chunks of 256-byte packets */
    setup(SMPDFU_LINK_UDP, 256, 4, n);
    for (int i = 0; i < 5; i++) {
        dev.drop_req[i] = (uint32_t)(6 + 12 * i); /* > 1 clean window apart */
    }
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    assert_int_equal(smpdfu_upload_start(&up, &fc.c, &cfg), 0);
    assert_true(fake_run(&dev, &fc.c, is_done, &r, 600000));
    assert_int_equal(r.res.status, 0);
    assert_image_ok(n);
    assert_int_equal(r.res.go_backs, 5);
    assert_int_equal(r.res.window, 4);
    assert_int_equal(dev.first_chunks, 1);
}

/* Three losses in a row (no clean window between them) do mean a
 * device that cannot take the window. */
static void test_window_losses_in_a_row(void **state)
{
    (void)state;
    size_t n = 20000; /* about 90 chunks of 256-byte packets */
    setup(SMPDFU_LINK_UDP, 256, 4, n);
    for (int i = 0; i < 3; i++) {
        dev.drop_req[i] = (uint32_t)(6 + 5 * i); /* 1 chunk taken between */
    }
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    assert_int_equal(smpdfu_upload_start(&up, &fc.c, &cfg), 0);
    assert_true(fake_run(&dev, &fc.c, is_done, &r, 600000));
    assert_int_equal(r.res.status, 0);
    assert_image_ok(n);
    assert_int_equal(r.res.go_backs, 3);
    assert_int_equal(r.res.window, 1);
}

/* A lost response costs nothing: the next answer acknowledges it. */
static void test_window_lost_response(void **state)
{
    (void)state;
    size_t n = 20000;
    setup(SMPDFU_LINK_UDP, 512, 4, n);
    dev.drop_rsp[0] = 5;
    dev.drop_rsp[1] = 9;
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    uint64_t t0 = dev.now;
    run_upload_ok(&cfg, &r, n);
    assert_int_equal(r.res.go_backs, 0);
    assert_int_equal(smpdfu_client_stats(&fc.c)->retransmits, 0);
    assert_int_equal(dev.now, t0); /* no timeout was waited for */
}

/* The final chunk's answer is lost; its retransmission is answered with
 * off 0 (session closed): verified with a state read, not restarted. */
static void test_off0_after_final(void **state)
{
    (void)state;
    size_t n = 3000;
    setup(SMPDFU_LINK_UDP, 512, 1, n);
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    /* chunks of ~490 bytes: params + 7 chunks; drop the answer to the last */
    size_t chunks = 0;
    for (uint32_t off = 0; off < n; chunks++) {
        off += (uint32_t)smpdfu_upload_chunk_len(512, off, off == 0, (uint32_t)n, 0, 0, false);
    }
    dev.drop_rsp[0] = (uint32_t)(1 + chunks);
    memset(dev.state_hash, 0x77, 32);
    uint8_t expect[32];
    memset(expect, 0x77, 32);
    cfg.expect_hash = expect;
    run_upload(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_true(r.res.verified);
    assert_image_ok(n);
    assert_int_equal(dev.first_chunks, 1);
    assert_int_equal(smpdfu_client_stats(&fc.c)->retransmits, 1);

    /* Without an expected hash: done, but flagged for verification. */
    setup(SMPDFU_LINK_UDP, 512, 1, n);
    dev.drop_rsp[0] = (uint32_t)(1 + chunks);
    r = (ures_t){0};
    cfg = base_cfg(&r, n);
    run_upload(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_true(r.res.verify_needed);
    assert_false(r.res.verified);
    assert_int_equal(dev.first_chunks, 1);
}

/* The device reboots mid-upload and keeps its session (smpdfu target):
 * off 0 answer -> first chunk with the same sha -> resume from the saved
 * offset, never from zero. */
static void test_resume_after_reboot(void **state)
{
    (void)state;
    size_t n = 20000;
    for (int window = 1; window <= 4; window += 3) {
        setup(SMPDFU_LINK_UDP, 512, (uint32_t)window, n);
        dev.persistent = true;
        dev.reboot_at_req = 20;
        ures_t r = {0};
        smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
        uint8_t sha[32];
        memset(sha, 0x42, 32);
        cfg.sha = sha;
        cfg.sha_len = 32;
        run_upload_ok(&cfg, &r, n);
        assert_int_equal(dev.first_chunks, 2);
        assert_int_equal(r.res.session_losses, 1);
        assert_int_equal(r.res.restarts, 0);
        assert_false(r.progress_backwards);
        /* after the second first chunk no offset below the saved one was sent */
        size_t second = 0;
        for (size_t i = 1; i < dev.nchunks; i++) {
            if (dev.req_offs[i] == 0) {
                second = i;
            }
        }
        assert_true(second > 0);
        for (size_t i = second + 1; i < dev.nchunks; i++) {
            assert_true(dev.req_offs[i] >= 490u * 10u);
        }
    }
}

/* Zephyr loses the session for good: the upload starts over and says so. */
static void test_restart_after_reboot_zephyr(void **state)
{
    (void)state;
    size_t n = 8000;
    setup(SMPDFU_LINK_UDP, 512, 1, n);
    dev.reboot_at_req = 8;
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    run_upload_ok(&cfg, &r, n);
    assert_int_equal(r.res.restarts, 1);
    assert_int_equal(dev.first_chunks, 2);
}

/* A device that had this session already (same sha) resumes at once. */
static void test_resume_existing_session(void **state)
{
    (void)state;
    size_t n = 8000;
    setup(SMPDFU_LINK_UDP, 512, 1, n);
    uint8_t sha[32];
    memset(sha, 0x33, 32);
    dev.sess = true;
    dev.off = 4000;
    dev.size = (uint32_t)n;
    memcpy(dev.sha, sha, 32);
    dev.sha_len = 32;
    memcpy(dev.img, file, 4000);
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    cfg.sha = sha;
    cfg.sha_len = 32;
    run_upload(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_true(r.res.resumed);
    assert_int_equal(r.res.resume_off, 4000);
    assert_image_ok(n);
    for (size_t i = 1; i < dev.nchunks; i++) {
        assert_true(dev.req_offs[i] >= 4000);
    }
}

/* Device with too few buffers drops pipelined requests: the upload falls
 * back to one in flight and still completes. */
static void test_window_fallback(void **state)
{
    (void)state;
    size_t n = 20000;
    setup(SMPDFU_LINK_UDP, 512, 4, n);
    dev.max_inflight_ok = 1; /* claims 4 buffers, holds 1 */
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    cfg.timeout_ms = 200;
    run_upload_ok(&cfg, &r, n);
    assert_int_equal(r.res.window, 1);
    assert_int_equal(dev.first_chunks, 1);
}

/* Serial recovery style: the device takes less than sent; the client
 * follows the returned offset. */
static void test_device_trims_chunks(void **state)
{
    (void)state;
    size_t n = 5000;
    setup(SMPDFU_LINK_SERIAL, 384, 1, n);
    dev.serial_trim = true;
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    run_upload_ok(&cfg, &r, n);
}

static void test_device_refuses(void **state)
{
    (void)state;
    size_t n = 5000;
    setup(SMPDFU_LINK_UDP, 512, 1, n);
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    dev.v1_errors = false;
    /* larger than the device slot */
    cfg.src.size = FAKE_IMG_MAX + 1;
    static uint8_t big[FAKE_IMG_MAX + 1];
    static smpdfu_image_buf_t bb;
    bb.data = big;
    bb.len = sizeof(big);
    cfg.src.ctx = &bb;
    run_upload(&cfg, &r);
    assert_int_equal(r.res.status, SMPDFU_EDEVICE);
    assert_true(r.res.dev.group_err);
    assert_int_equal(r.res.dev.group, 1);
    assert_int_equal(r.res.dev.rc, SMPDFU_IMG_ERR_INVALID_IMAGE_TOO_LARGE);
    assert_int_equal(r.done, 1);
    assert_int_equal(smpdfu_client_in_flight(&fc.c), 0);
}

/* Answers upload request number busy_at (1-based) with {"rc": 10}, EBUSY. */
static uint32_t busy_at, busy_seen;
static bool busy_hook(fake_dev_t *d, const smpdfu_smp_hdr_t *h, const uint8_t *body,
                      size_t body_len, uint8_t *rsp, size_t *rsp_len)
{
    (void)d;
    (void)body;
    (void)body_len;
    if (h->group != SMPDFU_GROUP_IMAGE || h->id != SMPDFU_IMG_UPLOAD || ++busy_seen != busy_at) {
        return false;
    }
    static const uint8_t ebusy[] = {0xa1, 0x62, 'r', 'c', 0x0a};
    memcpy(rsp, ebusy, sizeof(ebusy));
    *rsp_len = sizeof(ebusy);
    return true;
}

/* EBUSY to the first chunk, with a window configured but nothing pipelined
 * yet: that is the device's answer, reported; the upload must end, not hang
 * (found by fuzz_client). */
static void test_busy_first_chunk_ends(void **state)
{
    (void)state;
    size_t n = 5000;
    setup(SMPDFU_LINK_UDP, 512, 4, n);
    busy_at = 1;
    busy_seen = 0;
    dev.hook = busy_hook;
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    run_upload(&cfg, &r);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.res.status, SMPDFU_EDEVICE);
    assert_false(r.res.dev.group_err);
    assert_int_equal(r.res.dev.rc, SMPDFU_MGMT_EBUSY);
    assert_int_equal(smpdfu_client_in_flight(&fc.c), 0);
}

/* EBUSY to a pipelined chunk: a device short of buffers; the upload goes on
 * one chunk at a time and completes. */
static void test_busy_while_pipelining_falls_back(void **state)
{
    (void)state;
    size_t n = 20000;
    setup(SMPDFU_LINK_UDP, 512, 4, n);
    busy_at = 3;
    busy_seen = 0;
    dev.hook = busy_hook;
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    run_upload_ok(&cfg, &r, n);
    assert_int_equal(r.res.window, 1);
}

/* A v2 client against a pre-v2 server (mynewt mcumgr, Zephyr < 3.5): every
 * answer carries a v1 header and v1 {"rc": N} errors. Uploads work, and a
 * refusal is reported with the v1 code. */
static void test_pre_v2_server(void **state)
{
    (void)state;
    size_t n = 4000;
    setup(SMPDFU_LINK_SERIAL, 384, 1, n);
    dev.rsp_v1 = true;
    dev.v1_errors = true;
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    run_upload_ok(&cfg, &r, n);

    setup(SMPDFU_LINK_SERIAL, 384, 1, n);
    dev.rsp_v1 = true;
    dev.v1_errors = true;
    ures_t r2 = {0};
    cfg = base_cfg(&r2, n);
    cfg.src.size = FAKE_IMG_MAX + 1;
    static uint8_t big[FAKE_IMG_MAX + 1];
    static smpdfu_image_buf_t bb;
    memcpy(big, file, 32);
    bb.data = big;
    bb.len = sizeof(big);
    cfg.src.ctx = &bb;
    run_upload(&cfg, &r2);
    assert_int_equal(r2.res.status, SMPDFU_EDEVICE);
    assert_false(r2.res.dev.group_err);
    assert_int_equal(r2.res.dev.version, SMPDFU_SMP_V1);
    assert_int_equal(r2.res.dev.rc, SMPDFU_MGMT_EUNKNOWN); /* 30 translated for v1 */
}

static void test_match_and_params_missing(void **state)
{
    (void)state;
    size_t n = 3000;
    setup(SMPDFU_LINK_UDP, 512, 4, n);
    dev.no_params = true; /* rc 8: keep defaults, one in flight */
    dev.image_check = true;
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    uint8_t sha[32];
    assert_int_equal(smpdfu_posix_digest(SMPDFU_HASH_SHA256, file, n, sha), 0);
    cfg.sha = sha;
    cfg.sha_len = 32;
    run_upload(&cfg, &r);
    assert_int_equal(r.res.status, 0);
    assert_true(r.res.verified);
    assert_int_equal(r.res.window, 1);
    assert_image_ok(n);
    /* Without a full sha the device's match means nothing (Zephyr compares
     * with zeros): not counted either way. */
    setup(SMPDFU_LINK_UDP, 512, 4, n);
    dev.image_check = true;
    ures_t r2 = {0};
    cfg = base_cfg(&r2, n);
    run_upload(&cfg, &r2);
    assert_int_equal(r2.res.status, 0);
    assert_false(r2.res.verified);
    assert_image_ok(n);
}

static void test_silent_device(void **state)
{
    (void)state;
    size_t n = 3000;
    setup(SMPDFU_LINK_UDP, 512, 4, n);
    for (int i = 0; i < 16; i++) {
        dev.drop_req[i] = (uint32_t)i + 1;
    }
    ures_t r = {0};
    smpdfu_upload_cfg_t cfg = base_cfg(&r, n);
    cfg.retries = 1;
    cfg.timeout_ms = 250;
    assert_int_equal(smpdfu_upload_start(&up, &fc.c, &cfg), 0);
    uint64_t t0 = dev.now;
    assert_true(fake_run(&dev, &fc.c, is_done, &r, 600000));
    assert_int_equal(r.res.status, SMPDFU_ETIMEOUT);
    assert_int_equal(dev.now - t0, 500);
    assert_int_equal(dev.upload_reqs, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_packets_serial),
        cmocka_unit_test(test_exact_packets_udp_many_sizes),
        cmocka_unit_test(test_chunk_len_math),
        cmocka_unit_test(test_window_lost_request),
        cmocka_unit_test(test_window_lost_response),
        cmocka_unit_test(test_window_scattered_losses),
        cmocka_unit_test(test_window_losses_in_a_row),
        cmocka_unit_test(test_off0_after_final),
        cmocka_unit_test(test_resume_after_reboot),
        cmocka_unit_test(test_restart_after_reboot_zephyr),
        cmocka_unit_test(test_resume_existing_session),
        cmocka_unit_test(test_window_fallback),
        cmocka_unit_test(test_device_trims_chunks),
        cmocka_unit_test(test_pre_v2_server),
        cmocka_unit_test(test_device_refuses),
        cmocka_unit_test(test_busy_first_chunk_ends),
        cmocka_unit_test(test_busy_while_pipelining_falls_back),
        cmocka_unit_test(test_match_and_params_missing),
        cmocka_unit_test(test_silent_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
