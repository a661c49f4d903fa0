/* SPDX-License-Identifier: Apache-2.0 */
/* fs transfers against a scripted device on a virtual clock: the windowed
 * download (out-of-order answers through drops and retransmissions, short
 * chunks, a resumed start, the whole-prefix mark after a failure) and the fs
 * upload through upload.c (Zephyr's in-order rule: error 11 with the expected
 * offset, a resumed start without "len"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helper_fakedev.h"
#include "smpdfu/client_fs.h"
#include "smpdfu/image.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/upload.h"

static fake_dev_t dev;
static fake_client_t fc;

/* The device's file and its behaviour. */
static uint8_t file[20000];
static uint32_t file_len;
static uint32_t chunk_max;   /* download: bytes per answer */
static uint32_t short_every; /* download: every Nth answer carries half */
static uint32_t answers;
static uint32_t up_off;      /* upload: expected offset (Zephyr's context) */
static bool up_open;
static uint32_t up_len_seen, up_first_off;
static bool up_first_had_len;
static uint32_t fail_from; /* non-zero: requests from this one on get rc 8 */
static bool no_hash;       /* the hash command is not there (rc 8) */

static bool fs_hook(fake_dev_t *d, const smpdfu_smp_hdr_t *h, const uint8_t *body, size_t body_len,
                    uint8_t *rsp, size_t *rsp_len)
{
    if (fail_from && d->nreq >= fail_from) {
        return false; /* the built-in handler: rc 8 for the fs group */
    }
    if (h->group == SMPDFU_GROUP_FS && h->id == SMPDFU_FS_STAT) {
        smpdfu_cbor_enc_t e;
        smpdfu_cbor_enc_init(&e, rsp, 64);
        smpdfu_cbor_map_begin(&e, 1);
        smpdfu_cbor_put_tstrz(&e, "len");
        smpdfu_cbor_put_uint(&e, file_len);
        *rsp_len = e.len;
        return true;
    }
    if (h->group == SMPDFU_GROUP_FS && h->id == SMPDFU_FS_HASH_CHECKSUM && !no_hash) {
        /* sha256 of [0, len) as Zephyr's fs_mgmt answers it */
        uint64_t len = 0;
        bool fl = false;
        const smpdfu_cbor_field_t hf[] = {{"len", SMPDFU_CBOR_UINT, &len, &fl}};
        smpdfu_cbor_dec_t hd;
        smpdfu_cbor_dec_init(&hd, body, body_len);
        assert_int_equal(smpdfu_cbor_decode_map(&hd, hf, 1), 0);
        if (!fl || len > file_len) {
            len = file_len;
        }
        uint8_t dg[32];
        smpdfu_posix_digest(SMPDFU_HASH_SHA256, file, (size_t)len, dg);
        smpdfu_cbor_enc_t e;
        smpdfu_cbor_enc_init(&e, rsp, 128);
        smpdfu_cbor_map_begin(&e, 4);
        smpdfu_cbor_put_tstrz(&e, "type");
        smpdfu_cbor_put_tstrz(&e, "sha256");
        smpdfu_cbor_put_tstrz(&e, "off");
        smpdfu_cbor_put_uint(&e, 0);
        smpdfu_cbor_put_tstrz(&e, "len");
        smpdfu_cbor_put_uint(&e, len);
        smpdfu_cbor_put_tstrz(&e, "output");
        smpdfu_cbor_put_bstr(&e, dg, 32);
        *rsp_len = e.len;
        return true;
    }
    if (h->group != SMPDFU_GROUP_FS || h->id != SMPDFU_FS_FILE) {
        return false;
    }
    uint64_t off = 0, len = 0;
    bool fo = false, fl = false, fd = false;
    smpdfu_cbor_slice_t data = {0}, name = {0};
    const smpdfu_cbor_field_t f[] = {{"off", SMPDFU_CBOR_UINT, &off, &fo},
                                     {"len", SMPDFU_CBOR_UINT, &len, &fl},
                                     {"data", SMPDFU_CBOR_BSTR, &data, &fd},
                                     {"name", SMPDFU_CBOR_TSTR, &name, NULL}};
    smpdfu_cbor_dec_t dd;
    smpdfu_cbor_dec_init(&dd, body, body_len);
    assert_int_equal(smpdfu_cbor_decode_map(&dd, f, 4), 0);
    assert_true(fo && name.len > 0);
    smpdfu_cbor_enc_t e;
    smpdfu_cbor_enc_init(&e, rsp, 2048);
    if (h->op == SMPDFU_OP_READ) {
        uint32_t n = off >= file_len ? 0 : file_len - (uint32_t)off;
        if (n > chunk_max) {
            n = chunk_max;
        }
        if (short_every && ++answers % short_every == 0 && n > 1) {
            n /= 2;
        }
        smpdfu_cbor_map_begin(&e, off == 0 ? 3 : 2);
        smpdfu_cbor_put_tstrz(&e, "off");
        smpdfu_cbor_put_uint(&e, off);
        smpdfu_cbor_put_tstrz(&e, "data");
        smpdfu_cbor_put_bstr(&e, file + off, n);
        if (off == 0) {
            smpdfu_cbor_put_tstrz(&e, "len");
            smpdfu_cbor_put_uint(&e, file_len);
        }
    } else {
        /* Zephyr fs_mgmt: at 0 a new file (len kept); elsewhere with no open
         * transfer the file's size is the expected offset. */
        assert_true(fd);
        if (off == 0 && !up_open) {
            assert_true(fl);
            up_open = true;
            up_off = 0;
            file_len = 0;
            up_len_seen = (uint32_t)len;
        } else if (!up_open) {
            up_open = true;
            up_off = file_len;
        }
        if (up_first_off == UINT32_MAX) {
            up_first_off = (uint32_t)off;
            up_first_had_len = fl;
        }
        if (off != up_off) {
            up_open = false; /* Zephyr forgets the transfer */
            smpdfu_cbor_map_begin(&e, 2);
            smpdfu_cbor_put_tstrz(&e, "err");
            smpdfu_cbor_map_begin(&e, 2);
            smpdfu_cbor_put_tstrz(&e, "group");
            smpdfu_cbor_put_uint(&e, 8);
            smpdfu_cbor_put_tstrz(&e, "rc");
            smpdfu_cbor_put_uint(&e, 11);
            smpdfu_cbor_put_tstrz(&e, "len");
            smpdfu_cbor_put_uint(&e, file_len);
        } else {
            memcpy(file + off, data.ptr, data.len);
            up_off += (uint32_t)data.len;
            file_len = up_off;
            smpdfu_cbor_map_begin(&e, 1);
            smpdfu_cbor_put_tstrz(&e, "off");
            smpdfu_cbor_put_uint(&e, up_off);
        }
    }
    assert_int_equal(e.err, 0);
    *rsp_len = e.len;
    return true;
}

static void setup(void)
{
    fake_init(&dev, SMPDFU_LINK_UDP, 1024, 4);
    dev.hook = fs_hook;
    assert_int_equal(fake_client_init(&fc, &dev, 3, 500), 0);
    smpdfu_client_set_params(&fc.c, 1024, 4);
    for (size_t i = 0; i < sizeof(file); i++) {
        file[i] = (uint8_t)(i * 7 + (i >> 8));
    }
    file_len = 15000;
    chunk_max = 700;
    short_every = 0;
    answers = 0;
    up_open = false;
    up_first_off = UINT32_MAX;
    no_hash = false;
}

/* ------------------------------------------------------------ download */

static uint8_t got[20000];
static uint32_t got_max;

static int sink(void *ctx, uint32_t off, const uint8_t *data, size_t len)
{
    (void)ctx;
    memcpy(got + off, data, len);
    if (off + len > got_max) {
        got_max = off + (uint32_t)len;
    }
    return 0;
}

typedef struct {
    bool done;
    smpdfu_fs_download_result_t res;
} dl_wait_t;

static void dl_done(void *arg, const smpdfu_fs_download_result_t *r)
{
    dl_wait_t *w = arg;
    assert_false(w->done);
    w->done = true;
    w->res = *r;
}

static bool dl_is_done(void *arg)
{
    return ((dl_wait_t *)arg)->done;
}

static void run_download(uint32_t start, uint8_t window, dl_wait_t *w)
{
    static smpdfu_fs_download_t dl;
    smpdfu_fs_download_cfg_t cfg = {.name = "/f", .start = start, .window = window, .retries = -1, .write = sink,
                                    .done = dl_done, .arg = w};
    memset(w, 0, sizeof(*w));
    got_max = 0;
    assert_int_equal(smpdfu_fs_download_start(&dl, &fc.c, &cfg), 0);
    assert_true(fake_run(&dev, &fc.c, dl_is_done, w, 600000));
}

static void test_download_windowed_with_losses(void **state)
{
    (void)state;
    setup();
    short_every = 5;
    dev.drop_req[0] = 3;
    dev.drop_rsp[0] = 6;
    dev.drop_rsp[1] = 7;
    memset(got, 0, sizeof(got));
    dl_wait_t w;
    run_download(0, 4, &w);
    assert_int_equal(w.res.status, 0);
    assert_int_equal(w.res.size, 15000);
    assert_int_equal(w.res.contig, 15000);
    assert_int_equal(w.res.chunk, 700);
    assert_memory_equal(got, file, 15000);
    assert_true(dev.max_inflight > 1); /* it was windowed */
}

static void test_download_resumes_and_empty(void **state)
{
    (void)state;
    setup();
    memset(got, 0, sizeof(got));
    dl_wait_t w;
    run_download(5000, 3, &w);
    assert_int_equal(w.res.status, 0);
    assert_int_equal(w.res.start, 5000);
    assert_int_equal(w.res.got, 10000);
    assert_memory_equal(got + 5000, file + 5000, 10000);
    assert_int_equal(got[4999], 0); /* nothing below the start was asked */
    setup();
    file_len = 0;
    run_download(0, 4, &w);
    assert_int_equal(w.res.status, 0);
    assert_int_equal(w.res.size, 0);
    assert_int_equal(got_max, 0);
}

static void test_download_failure_marks_whole_prefix(void **state)
{
    (void)state;
    setup();
    /* from the 8th request on the device refuses (rc 8): the download ends
     * with asks still open above the whole prefix */
    fail_from = 8;
    dl_wait_t w;
    run_download(0, 4, &w);
    fail_from = 0;
    assert_int_equal(w.res.status, SMPDFU_EDEVICE);
    assert_true(w.res.contig > 0 && w.res.contig < 15000);
    assert_int_equal(w.res.contig % 700, 0);
    assert_memory_equal(got, file, w.res.contig);
}

/* -------------------------------------------------------------- upload */

static uint8_t src_buf[20000];

typedef struct {
    bool done;
    smpdfu_upload_result_t res;
} up_wait_t;

static void up_done(void *arg, const smpdfu_upload_result_t *r)
{
    up_wait_t *w = arg;
    assert_false(w->done);
    w->done = true;
    w->res = *r;
}

static bool up_is_done(void *arg)
{
    return ((up_wait_t *)arg)->done;
}

static void run_upload(uint32_t size, uint32_t start, up_wait_t *w)
{
    static smpdfu_upload_t up;
    static smpdfu_image_buf_t b;
    b.data = src_buf;
    b.len = size;
    smpdfu_upload_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.src.read = smpdfu_image_buf_read;
    cfg.src.ctx = &b;
    cfg.src.size = size;
    cfg.fs_name = "/lfs/up.bin";
    cfg.fs_start = start;
    cfg.window = 4;
    cfg.retries = -1;
    cfg.skip_params = true;
    cfg.done = up_done;
    cfg.arg = w;
    memset(w, 0, sizeof(*w));
    assert_int_equal(smpdfu_upload_start(&up, &fc.c, &cfg), 0);
    assert_true(fake_run(&dev, &fc.c, up_is_done, w, 600000));
}

static void test_upload_in_order_with_a_lost_chunk(void **state)
{
    (void)state;
    setup();
    for (size_t i = 0; i < sizeof(src_buf); i++) {
        src_buf[i] = (uint8_t)(i * 13 + 1);
    }
    dev.drop_req[0] = 4; /* a chunk lost: those behind it get error 11 */
    up_wait_t w;
    run_upload(18000, 0, &w);
    assert_int_equal(w.res.status, 0);
    assert_int_equal(file_len, 18000);
    assert_memory_equal(file, src_buf, 18000);
    assert_int_equal(up_len_seen, 18000);
    assert_true(up_first_had_len);
    assert_true(w.res.go_backs >= 1);
    assert_true(dev.max_req_len <= 1024); /* chunks fill the device's buffer, no more */
    assert_true(dev.max_req_len > 1000);
}

static void test_upload_resumed_and_tiny(void **state)
{
    (void)state;
    setup();
    for (size_t i = 0; i < sizeof(src_buf); i++) {
        src_buf[i] = (uint8_t)(i * 5 + 3);
    }
    memcpy(file, src_buf, 6000);
    file_len = 6000;
    up_wait_t w;
    run_upload(9000, 6000, &w);
    assert_int_equal(w.res.status, 0);
    assert_true(w.res.resumed);
    assert_int_equal(w.res.resume_off, 6000);
    assert_int_equal(up_first_off, 6000);
    assert_false(up_first_had_len); /* Zephyr continues the file at its size */
    assert_int_equal(file_len, 9000);
    assert_memory_equal(file, src_buf, 9000);
    /* files smaller than an image header, and empty ones */
    setup();
    run_upload(5, 0, &w);
    assert_int_equal(w.res.status, 0);
    assert_int_equal(file_len, 5);
    setup();
    file_len = 99;
    run_upload(0, 0, &w);
    assert_int_equal(w.res.status, 0);
    assert_int_equal(file_len, 0);
    assert_int_equal(up_len_seen, 0);
}

/* ------------------------------------------- resume / verify decision */

typedef struct {
    bool done;
    smpdfu_fs_match_result_t res;
} match_wait_t;

static void m_done(void *arg, const smpdfu_fs_match_result_t *r)
{
    match_wait_t *w = arg;
    assert_false(w->done);
    w->done = true;
    w->res = *r;
}

static bool m_is_done(void *arg)
{
    return ((match_wait_t *)arg)->done;
}

static smpdfu_fs_match_result_t run_match(smpdfu_fs_match_mode_t mode, const uint8_t *local,
                                          uint32_t len)
{
    static smpdfu_fs_match_t m;
    static smpdfu_image_buf_t buf;
    buf.data = local;
    buf.len = len;
    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t hh;
    smpdfu_posix_hash_init(&hs, &hh);
    match_wait_t w = {0};
    smpdfu_fs_match_cfg_t cfg = {mode, "/lfs/f", smpdfu_image_buf_read, &buf, len, &hh, 0, -1,
                                 m_done, &w};
    assert_int_equal(smpdfu_fs_match_start(&m, &fc.c, &cfg), 0);
    assert_true(fake_run(&dev, &fc.c, m_is_done, &w, 60000));
    assert_false(smpdfu_fs_match_busy(&m));
    smpdfu_posix_hash_free(&hs);
    return w.res;
}

/* Upload resume: the device's 6000 bytes match the local prefix -> 6000; a
 * differing byte, a device longer than the file, or no hash command -> 0. */
static void test_match_upload_resume(void **state)
{
    (void)state;
    setup();
    memcpy(src_buf, file, sizeof(src_buf));
    file_len = 6000;
    smpdfu_fs_match_result_t r = run_match(SMPDFU_FS_MATCH_UPLOAD_RESUME, src_buf, 9000);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.start, 6000);
    assert_int_equal(r.remote_size, 6000);
    src_buf[100] ^= 1;
    r = run_match(SMPDFU_FS_MATCH_UPLOAD_RESUME, src_buf, 9000);
    assert_int_equal(r.start, 0);
    src_buf[100] ^= 1;
    r = run_match(SMPDFU_FS_MATCH_UPLOAD_RESUME, src_buf, 5000);
    assert_int_equal(r.start, 0);
    no_hash = true;
    r = run_match(SMPDFU_FS_MATCH_UPLOAD_RESUME, src_buf, 9000);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.start, 0);
}

/* Download resume from the local prefix, and the verify verdicts. */
static void test_match_download_and_verify(void **state)
{
    (void)state;
    setup();
    memcpy(src_buf, file, sizeof(src_buf));
    smpdfu_fs_match_result_t r = run_match(SMPDFU_FS_MATCH_DOWNLOAD_RESUME, src_buf, 4000);
    assert_int_equal(r.start, 4000);
    assert_int_equal(r.remote_size, 15000);
    r = run_match(SMPDFU_FS_MATCH_DOWNLOAD_RESUME, src_buf, 16000); /* longer than the device's */
    assert_int_equal(r.start, 0);
    r = run_match(SMPDFU_FS_MATCH_VERIFY, src_buf, 15000);
    assert_int_equal(r.same, 1);
    src_buf[14999] ^= 0x80;
    r = run_match(SMPDFU_FS_MATCH_VERIFY, src_buf, 15000);
    assert_int_equal(r.same, -1);
    no_hash = true;
    r = run_match(SMPDFU_FS_MATCH_VERIFY, src_buf, 15000);
    assert_int_equal(r.same, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_download_windowed_with_losses),
        cmocka_unit_test(test_download_resumes_and_empty),
        cmocka_unit_test(test_download_failure_marks_whole_prefix),
        cmocka_unit_test(test_upload_in_order_with_a_lost_chunk),
        cmocka_unit_test(test_upload_resumed_and_tiny),
        cmocka_unit_test(test_match_upload_resume),
        cmocka_unit_test(test_match_download_and_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
