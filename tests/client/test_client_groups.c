/* SPDX-License-Identifier: Apache-2.0 */
/* The group request encoders (what goes on the wire) and response parsers
 * (canned CBOR answers built with the encoder) of os extras, stat, settings,
 * fs, shell and enum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smpdfu/client.h"
#include "smpdfu/client_enum.h"
#include "smpdfu/client_fs.h"
#include "smpdfu/client_os.h"
#include "smpdfu/client_settings.h"
#include "smpdfu/client_shell.h"
#include "smpdfu/client_stat.h"

/* ------------------------------------------------ a client that records */

static uint8_t sent[2048];
static size_t sent_len;

static int capture(void *ctx, const uint8_t *d, size_t n)
{
    (void)ctx;
    memcpy(sent, d, n);
    sent_len = n;
    return 0;
}

static smpdfu_client_t cl;

static void client_init(void)
{
    static smpdfu_req_t reqs[4];
    static uint8_t mem[4 * 1024], rx[2048], tx[2048];
    smpdfu_client_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.link.kind = SMPDFU_LINK_UDP;
    cfg.send = capture;
    cfg.reqs = reqs;
    cfg.nreqs = 4;
    cfg.req_mem = mem;
    cfg.req_mem_len = sizeof(mem);
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof(rx);
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof(tx);
    assert_int_equal(smpdfu_client_init(&cl, &cfg), 0);
    smpdfu_client_tick(&cl, 1);
    sent_len = 0;
}

static void nop(void *arg, const smpdfu_rsp_t *r)
{
    (void)arg;
    (void)r;
}

/* The last request: op, group, id, and its body decoder. */
static smpdfu_cbor_dec_t sent_body(uint8_t op, uint16_t group, uint8_t id)
{
    assert_true(sent_len >= 8);
    assert_int_equal(sent[0] & 7, op);
    assert_int_equal((sent[4] << 8) | sent[5], group);
    assert_int_equal(sent[7], id);
    assert_int_equal((size_t)((sent[2] << 8) | sent[3]), sent_len - 8);
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, sent + 8, sent_len - 8);
    /* cancel so the slot is free for the next request */
    return d;
}

static size_t map_pairs(void)
{
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, sent + 8, sent_len - 8);
    smpdfu_cbor_item_t it;
    assert_int_equal(smpdfu_cbor_next(&d, &it), 0);
    assert_int_equal(it.type, SMPDFU_CBOR_MAP);
    return (size_t)it.u;
}

static void free_all(void)
{
    for (size_t i = 0; i < 4; i++) {
        if (cl.cfg.reqs[i].state) {
            smpdfu_client_req_cancel(&cl, &cl.cfg.reqs[i]);
        }
    }
}

/* ------------------------------------------------ canned responses */

static uint8_t rbuf[1024];
static smpdfu_rsp_t rsp;

static smpdfu_cbor_enc_t *rsp_begin(void)
{
    static smpdfu_cbor_enc_t e;
    smpdfu_cbor_enc_init(&e, rbuf, sizeof(rbuf));
    return &e;
}

static const smpdfu_rsp_t *rsp_end(smpdfu_cbor_enc_t *e)
{
    assert_int_equal(e->err, 0);
    memset(&rsp, 0, sizeof(rsp));
    rsp.payload = rbuf;
    rsp.payload_len = e->len;
    return &rsp;
}

static void kv_uint(smpdfu_cbor_enc_t *e, const char *k, uint64_t v)
{
    smpdfu_cbor_put_tstrz(e, k);
    smpdfu_cbor_put_uint(e, v);
}

static void kv_str(smpdfu_cbor_enc_t *e, const char *k, const char *v)
{
    smpdfu_cbor_put_tstrz(e, k);
    smpdfu_cbor_put_tstrz(e, v);
}

/* ------------------------------------------------ os */

static void test_os_requests(void **state)
{
    (void)state;
    client_init();
    assert_int_equal(smpdfu_os_reset_ex(&cl, true, 1, NULL, nop, NULL), 0);
    smpdfu_cbor_dec_t d = sent_body(SMPDFU_OP_WRITE, 0, SMPDFU_OS_RESET);
    bool force = false, ff = false, fb = false;
    uint64_t bm = 0;
    const smpdfu_cbor_field_t f[] = {{"force", SMPDFU_CBOR_BOOL, &force, &ff},
                                     {"boot_mode", SMPDFU_CBOR_UINT, &bm, &fb}};
    assert_int_equal(smpdfu_cbor_decode_map(&d, f, 2), 0);
    assert_true(ff && force && fb);
    assert_int_equal(bm, 1);
    free_all();
    assert_int_equal(smpdfu_os_reset_ex(&cl, false, -1, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_WRITE, 0, SMPDFU_OS_RESET);
    assert_int_equal(map_pairs(), 0);
    free_all();
    assert_int_equal(smpdfu_os_reset_ex(&cl, false, 256, NULL, nop, NULL), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_os_taskstat(&cl, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_READ, 0, SMPDFU_OS_TASKSTAT);
    free_all();
    assert_int_equal(smpdfu_os_mpstat(&cl, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_READ, 0, SMPDFU_OS_MPSTAT);
    free_all();
    assert_int_equal(smpdfu_os_datetime_get(&cl, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_READ, 0, SMPDFU_OS_DATETIME);
    free_all();
    assert_int_equal(smpdfu_os_datetime_set(&cl, "2024-02-29T12:00:00", NULL, nop, NULL), 0);
    d = sent_body(SMPDFU_OP_WRITE, 0, SMPDFU_OS_DATETIME);
    smpdfu_cbor_slice_t s;
    bool fs = false;
    const smpdfu_cbor_field_t g[] = {{"datetime", SMPDFU_CBOR_TSTR, &s, &fs}};
    assert_int_equal(smpdfu_cbor_decode_map(&d, g, 1), 0);
    assert_true(fs && s.len == 19 && !memcmp(s.ptr, "2024-02-29T12:00:00", 19));
    free_all();
    assert_int_equal(smpdfu_os_datetime_set(&cl, "", NULL, nop, NULL), SMPDFU_EINVAL);
}

static void test_os_taskstat_parse(void **state)
{
    (void)state;
    smpdfu_cbor_enc_t *e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    smpdfu_cbor_put_tstrz(e, "tasks");
    smpdfu_cbor_map_begin(e, 2);
    smpdfu_cbor_put_tstrz(e, "main");
    smpdfu_cbor_map_begin(e, 6);
    smpdfu_cbor_put_tstrz(e, "prio");
    smpdfu_cbor_put_int(e, -1);
    kv_uint(e, "tid", 0);
    kv_uint(e, "state", 2);
    kv_uint(e, "stksiz", 512);
    kv_uint(e, "stkuse", 100);
    kv_uint(e, "runtime", 77);
    smpdfu_cbor_put_tstrz(e, "idle");
    smpdfu_cbor_map_begin(e, 2);
    kv_uint(e, "prio", 15);
    kv_uint(e, "cswcnt", 9);
    const smpdfu_rsp_t *r = rsp_end(e);
    smpdfu_rsp_iter_t it;
    smpdfu_os_task_info_t t;
    assert_int_equal(smpdfu_os_tasks_begin(r, &it), 0);
    assert_int_equal(smpdfu_os_task_next(&it, &t), 1);
    assert_int_equal(t.name_len, 4);
    assert_memory_equal(t.name, "main", 4);
    assert_int_equal(t.prio, -1);
    assert_int_equal(t.state, 2);
    assert_int_equal(t.stksiz, 512);
    assert_int_equal(t.runtime, 77);
    assert_true(t.has_runtime);
    assert_false(t.has_cswcnt);
    assert_int_equal(smpdfu_os_task_next(&it, &t), 1);
    assert_int_equal(t.prio, 15);
    assert_true(t.has_cswcnt);
    assert_int_equal(t.cswcnt, 9);
    assert_int_equal(smpdfu_os_task_next(&it, &t), 0);

    /* "tasks" with a task that is not a map */
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    smpdfu_cbor_put_tstrz(e, "tasks");
    smpdfu_cbor_map_begin(e, 1);
    kv_uint(e, "x", 1);
    r = rsp_end(e);
    assert_int_equal(smpdfu_os_tasks_begin(r, &it), 0);
    assert_int_equal(smpdfu_os_task_next(&it, &t), SMPDFU_EPROTO);
    /* no "tasks"; "tasks" an array; an error status */
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 0);
    assert_int_equal(smpdfu_os_tasks_begin(rsp_end(e), &it), SMPDFU_ENOTFOUND);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    smpdfu_cbor_put_tstrz(e, "tasks");
    smpdfu_cbor_array_begin(e, 0);
    assert_int_equal(smpdfu_os_tasks_begin(rsp_end(e), &it), SMPDFU_EPROTO);
    rsp.status = SMPDFU_EDEVICE;
    assert_int_equal(smpdfu_os_tasks_begin(&rsp, &it), SMPDFU_EINVAL);
}

static void test_os_mpstat_datetime_parse(void **state)
{
    (void)state;
    smpdfu_cbor_enc_t *e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    smpdfu_cbor_put_tstrz(e, "mpools");
    smpdfu_cbor_map_begin(e, 1);
    smpdfu_cbor_put_tstrz(e, "heap");
    smpdfu_cbor_map_begin(e, 4);
    kv_uint(e, "blksiz", 16);
    kv_uint(e, "nblks", 100);
    kv_uint(e, "nfree", 40);
    kv_uint(e, "min", 30);
    smpdfu_rsp_iter_t it;
    smpdfu_os_mpool_info_t p;
    assert_int_equal(smpdfu_os_mpools_begin(rsp_end(e), &it), 0);
    assert_int_equal(smpdfu_os_mpool_next(&it, &p), 1);
    assert_int_equal(p.blksiz, 16);
    assert_int_equal(p.nblks, 100);
    assert_int_equal(p.nfree, 40);
    assert_int_equal(p.min, 30);
    assert_int_equal(smpdfu_os_mpool_next(&it, &p), 0);

    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    kv_str(e, "datetime", "2024-02-29T12:34:56.789");
    const char *t;
    size_t n;
    assert_int_equal(smpdfu_os_datetime_parse(rsp_end(e), &t, &n), 0);
    assert_int_equal(n, 23);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    kv_uint(e, "datetime", 5);
    assert_int_equal(smpdfu_os_datetime_parse(rsp_end(e), &t, &n), SMPDFU_EPROTO);
}

/* ------------------------------------------------ stat */

static void test_stat(void **state)
{
    (void)state;
    client_init();
    assert_int_equal(smpdfu_stat_show(&cl, "smp", NULL, nop, NULL), 0);
    smpdfu_cbor_dec_t d = sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_STAT, SMPDFU_STAT_SHOW);
    smpdfu_cbor_slice_t s;
    bool f = false;
    const smpdfu_cbor_field_t nf[] = {{"name", SMPDFU_CBOR_TSTR, &s, &f}};
    assert_int_equal(smpdfu_cbor_decode_map(&d, nf, 1), 0);
    assert_true(f && s.len == 3);
    free_all();
    assert_int_equal(smpdfu_stat_show(&cl, "", NULL, nop, NULL), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_stat_show(&cl, "0123456789012345678901234567890123", NULL, nop, NULL),
                     SMPDFU_EINVAL);
    assert_int_equal(smpdfu_stat_list(&cl, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_STAT, SMPDFU_STAT_LIST);
    free_all();

    smpdfu_cbor_enc_t *e = rsp_begin();
    smpdfu_cbor_map_begin(e, 2);
    kv_uint(e, "rc", 0);
    smpdfu_cbor_put_tstrz(e, "stat_list");
    smpdfu_cbor_array_begin(e, 2);
    smpdfu_cbor_put_tstrz(e, "smp");
    smpdfu_cbor_put_tstrz(e, "fs");
    smpdfu_rsp_iter_t it;
    const char *name;
    size_t n;
    assert_int_equal(smpdfu_stat_list_begin(rsp_end(e), &it), 0);
    assert_int_equal(smpdfu_stat_list_next(&it, &name, &n), 1);
    assert_int_equal(n, 3);
    assert_int_equal(smpdfu_stat_list_next(&it, &name, &n), 1);
    assert_memory_equal(name, "fs", 2);
    assert_int_equal(smpdfu_stat_list_next(&it, &name, &n), 0);

    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 2);
    kv_str(e, "name", "smp");
    smpdfu_cbor_put_tstrz(e, "fields");
    smpdfu_cbor_map_begin(e, 2);
    kv_uint(e, "requests", 12);
    kv_str(e, "bad", "x");
    uint64_t v;
    assert_int_equal(smpdfu_stat_fields_begin(rsp_end(e), &it), 0);
    assert_int_equal(smpdfu_stat_field_next(&it, &name, &n, &v), 1);
    assert_int_equal(v, 12);
    assert_int_equal(smpdfu_stat_field_next(&it, &name, &n, &v), SMPDFU_EPROTO);
}

/* ------------------------------------------------ settings */

static void test_settings(void **state)
{
    (void)state;
    client_init();
    const uint8_t val[] = {0, 1, 2};
    assert_int_equal(smpdfu_settings_write(&cl, "a/b", val, 3, NULL, nop, NULL), 0);
    smpdfu_cbor_dec_t d = sent_body(SMPDFU_OP_WRITE, SMPDFU_GROUP_SETTINGS, 0);
    smpdfu_cbor_slice_t name, v;
    bool fn = false, fv = false, fm = false;
    uint64_t max = 0;
    const smpdfu_cbor_field_t f[] = {{"name", SMPDFU_CBOR_TSTR, &name, &fn},
                                     {"val", SMPDFU_CBOR_BSTR, &v, &fv},
                                     {"max_size", SMPDFU_CBOR_UINT, &max, &fm}};
    assert_int_equal(smpdfu_cbor_decode_map(&d, f, 3), 0);
    assert_true(fn && fv && !fm);
    assert_int_equal(v.len, 3);
    free_all();
    assert_int_equal(smpdfu_settings_read(&cl, "a/b", 16, NULL, nop, NULL), 0);
    d = sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_SETTINGS, 0);
    assert_int_equal(smpdfu_cbor_decode_map(&d, f, 3), 0);
    assert_true(fn && !fv && fm && max == 16);
    free_all();
    assert_int_equal(smpdfu_settings_read(&cl, "a/b", 0, NULL, nop, NULL), 0);
    assert_int_equal(map_pairs(), 1);
    free_all();
    assert_int_equal(smpdfu_settings_delete(&cl, "a/b", NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_WRITE, SMPDFU_GROUP_SETTINGS, 1);
    free_all();
    assert_int_equal(smpdfu_settings_commit_req(&cl, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_WRITE, SMPDFU_GROUP_SETTINGS, 2);
    free_all();
    assert_int_equal(smpdfu_settings_load_req(&cl, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_SETTINGS, 3);
    free_all();
    assert_int_equal(smpdfu_settings_save_req(&cl, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_WRITE, SMPDFU_GROUP_SETTINGS, 3);
    free_all();
    assert_int_equal(smpdfu_settings_delete(&cl, "", NULL, nop, NULL), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_settings_write(&cl, "x", NULL, 1, NULL, nop, NULL), SMPDFU_EINVAL);

    smpdfu_cbor_enc_t *e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    smpdfu_cbor_put_tstrz(e, "val");
    smpdfu_cbor_put_bstr(e, "hey", 3);
    const uint8_t *p;
    size_t n;
    assert_int_equal(smpdfu_settings_read_parse(rsp_end(e), &p, &n), 0);
    assert_int_equal(n, 3);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    kv_str(e, "val", "text, not bytes");
    assert_int_equal(smpdfu_settings_read_parse(rsp_end(e), &p, &n), SMPDFU_EPROTO);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 0);
    assert_int_equal(smpdfu_settings_read_parse(rsp_end(e), &p, &n), SMPDFU_ENOTFOUND);
}

/* ------------------------------------------------ fs */

static void test_fs_requests(void **state)
{
    (void)state;
    client_init();
    assert_int_equal(smpdfu_fs_download_chunk(&cl, "/a", 4096, NULL, nop, NULL), 0);
    smpdfu_cbor_dec_t d = sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_FS, 0);
    uint64_t off = 0, len = 0;
    bool fo = false, fl = false, ft = false;
    smpdfu_cbor_slice_t type;
    const smpdfu_cbor_field_t f[] = {{"off", SMPDFU_CBOR_UINT, &off, &fo},
                                     {"len", SMPDFU_CBOR_UINT, &len, &fl},
                                     {"type", SMPDFU_CBOR_TSTR, &type, &ft}};
    assert_int_equal(smpdfu_cbor_decode_map(&d, f, 3), 0);
    assert_true(fo && off == 4096 && !fl);
    free_all();
    assert_int_equal(smpdfu_fs_hash(&cl, "/a", "sha256", 0, 0, NULL, nop, NULL), 0);
    d = sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_FS, 2);
    assert_int_equal(smpdfu_cbor_decode_map(&d, f, 3), 0);
    assert_true(ft && !fo && !fl && type.len == 6);
    free_all();
    assert_int_equal(smpdfu_fs_hash(&cl, "/a", NULL, 5, 7, NULL, nop, NULL), 0);
    d = sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_FS, 2);
    assert_int_equal(smpdfu_cbor_decode_map(&d, f, 3), 0);
    assert_true(!ft && fo && off == 5 && fl && len == 7);
    free_all();
    assert_int_equal(smpdfu_fs_status(&cl, "/a", NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_FS, 1);
    free_all();
    assert_int_equal(smpdfu_fs_types(&cl, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_FS, 3);
    free_all();
    assert_int_equal(smpdfu_fs_close(&cl, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_WRITE, SMPDFU_GROUP_FS, 4);
    free_all();
    char longname[SMPDFU_FS_PATH_MAX + 2];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    assert_int_equal(smpdfu_fs_status(&cl, longname, NULL, nop, NULL), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_fs_status(&cl, "", NULL, nop, NULL), SMPDFU_EINVAL);
}

static void test_fs_parsers(void **state)
{
    (void)state;
    smpdfu_cbor_enc_t *e = rsp_begin();
    smpdfu_cbor_map_begin(e, 3);
    kv_uint(e, "off", 0);
    smpdfu_cbor_put_tstrz(e, "data");
    smpdfu_cbor_put_bstr(e, "abcd", 4);
    kv_uint(e, "len", 100);
    smpdfu_fs_chunk_t ch;
    assert_int_equal(smpdfu_fs_download_parse(rsp_end(e), &ch), 0);
    assert_true(ch.has_len && ch.len == 100 && ch.data_len == 4 && ch.off == 0);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    kv_uint(e, "off", 0);
    assert_int_equal(smpdfu_fs_download_parse(rsp_end(e), &ch), SMPDFU_ENOTFOUND);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 2);
    kv_uint(e, "off", 0xffffffffu);
    smpdfu_cbor_put_tstrz(e, "data");
    smpdfu_cbor_put_bstr(e, "ab", 2);
    assert_int_equal(smpdfu_fs_download_parse(rsp_end(e), &ch), SMPDFU_EPROTO); /* past 4 GiB */

    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    kv_uint(e, "len", 77);
    uint32_t size;
    assert_int_equal(smpdfu_fs_status_parse(rsp_end(e), &size), 0);
    assert_int_equal(size, 77);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    kv_uint(e, "len", 0x100000000ull);
    assert_int_equal(smpdfu_fs_status_parse(rsp_end(e), &size), SMPDFU_EPROTO);

    /* crc32 answers a number, sha256 bytes */
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 3);
    kv_str(e, "type", "crc32");
    kv_uint(e, "len", 10);
    kv_uint(e, "output", 0xdeadbeef);
    smpdfu_fs_hash_t h;
    assert_int_equal(smpdfu_fs_hash_parse(rsp_end(e), &h), 0);
    assert_true(h.is_number && h.number == 0xdeadbeef && h.len == 10);
    uint8_t digest[32] = {1, 2, 3};
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 4);
    kv_str(e, "type", "sha256");
    kv_uint(e, "off", 4);
    kv_uint(e, "len", 10);
    smpdfu_cbor_put_tstrz(e, "output");
    smpdfu_cbor_put_bstr(e, digest, 32);
    assert_int_equal(smpdfu_fs_hash_parse(rsp_end(e), &h), 0);
    assert_true(!h.is_number && h.bytes_len == 32 && h.off == 4 && h.bytes[2] == 3);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    kv_str(e, "output", "neither");
    assert_int_equal(smpdfu_fs_hash_parse(rsp_end(e), &h), SMPDFU_EPROTO);

    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    smpdfu_cbor_put_tstrz(e, "types");
    smpdfu_cbor_map_begin(e, 1);
    smpdfu_cbor_put_tstrz(e, "sha256");
    smpdfu_cbor_map_begin(e, 2);
    kv_uint(e, "format", 1);
    kv_uint(e, "size", 32);
    smpdfu_rsp_iter_t it;
    const char *name;
    size_t nl;
    uint32_t fm, sz;
    assert_int_equal(smpdfu_fs_types_begin(rsp_end(e), &it), 0);
    assert_int_equal(smpdfu_fs_types_next(&it, &name, &nl, &fm, &sz), 1);
    assert_true(nl == 6 && fm == 1 && sz == 32);
    assert_int_equal(smpdfu_fs_types_next(&it, &name, &nl, &fm, &sz), 0);

    /* error 11's expected offset */
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 2);
    smpdfu_cbor_put_tstrz(e, "err");
    smpdfu_cbor_map_begin(e, 2);
    kv_uint(e, "group", 8);
    kv_uint(e, "rc", 11);
    kv_uint(e, "len", 4096);
    uint32_t x;
    assert_int_equal(smpdfu_fs_expected_off(rsp_end(e), &x), 0);
    assert_int_equal(x, 4096);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 0);
    assert_int_equal(smpdfu_fs_expected_off(rsp_end(e), &x), SMPDFU_ENOTFOUND);
}

/* ------------------------------------------------ shell, enum */

static void test_shell(void **state)
{
    (void)state;
    client_init();
    const char *argv[] = {"kernel", "version"};
    assert_int_equal(smpdfu_shell_exec(&cl, argv, 2, NULL, nop, NULL), 0);
    smpdfu_cbor_dec_t d = sent_body(SMPDFU_OP_WRITE, SMPDFU_GROUP_SHELL, 0);
    smpdfu_rsp_iter_t it;
    assert_int_equal(smpdfu_rsp_iter_init_buf(&it, d.buf, d.len, "argv", false), 0);
    smpdfu_cbor_slice_t w;
    assert_int_equal(smpdfu_rsp_iter_next(&it, &w), 1);
    assert_int_equal(smpdfu_rsp_iter_next(&it, &w), 1);
    assert_int_equal(smpdfu_rsp_iter_next(&it, &w), 0);
    free_all();
    assert_int_equal(smpdfu_shell_exec(&cl, argv, 0, NULL, nop, NULL), SMPDFU_EINVAL);

    smpdfu_cbor_enc_t *e = rsp_begin();
    smpdfu_cbor_map_begin(e, 2);
    kv_str(e, "o", "nope: command not found\n");
    smpdfu_cbor_put_tstrz(e, "ret");
    smpdfu_cbor_put_int(e, -8);
    const char *o;
    size_t n;
    int32_t ret;
    assert_int_equal(smpdfu_shell_exec_parse(rsp_end(e), &o, &n, &ret), 0);
    assert_int_equal(ret, -8);
    assert_int_equal(n, 24);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    kv_uint(e, "ret", 0);
    assert_int_equal(smpdfu_shell_exec_parse(rsp_end(e), &o, &n, &ret), SMPDFU_ENOTFOUND);
}

static void test_enum(void **state)
{
    (void)state;
    client_init();
    const uint16_t ids[] = {0, 8};
    assert_int_equal(smpdfu_enum_details(&cl, ids, 2, NULL, nop, NULL), 0);
    smpdfu_cbor_dec_t d = sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_ENUM, 3);
    smpdfu_rsp_iter_t it;
    uint16_t g;
    assert_int_equal(smpdfu_rsp_iter_init_buf(&it, d.buf, d.len, "groups", false), 0);
    assert_int_equal(smpdfu_enum_list_next(&it, &g), 1);
    assert_int_equal(smpdfu_enum_list_next(&it, &g), 1);
    assert_int_equal(g, 8);
    free_all();
    assert_int_equal(smpdfu_enum_details(&cl, NULL, 0, NULL, nop, NULL), 0);
    assert_int_equal(map_pairs(), 0);
    free_all();
    assert_int_equal(smpdfu_enum_single(&cl, 3, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_ENUM, 2);
    free_all();
    assert_int_equal(smpdfu_enum_count(&cl, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_ENUM, 0);
    free_all();
    assert_int_equal(smpdfu_enum_list(&cl, NULL, nop, NULL), 0);
    sent_body(SMPDFU_OP_READ, SMPDFU_GROUP_ENUM, 1);
    free_all();

    smpdfu_cbor_enc_t *e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    kv_uint(e, "count", 7);
    uint32_t c;
    assert_int_equal(smpdfu_enum_count_parse(rsp_end(e), &c), 0);
    assert_int_equal(c, 7);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 2);
    kv_uint(e, "group", 10);
    smpdfu_cbor_put_tstrz(e, "end");
    smpdfu_cbor_put_bool(e, true);
    bool end;
    assert_int_equal(smpdfu_enum_single_parse(rsp_end(e), &g, &end), 0);
    assert_true(g == 10 && end);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    kv_uint(e, "group", 70000);
    assert_int_equal(smpdfu_enum_single_parse(rsp_end(e), &g, &end), SMPDFU_EPROTO);
    e = rsp_begin();
    smpdfu_cbor_map_begin(e, 1);
    smpdfu_cbor_put_tstrz(e, "groups");
    smpdfu_cbor_array_begin(e, 2);
    smpdfu_cbor_map_begin(e, 3);
    kv_uint(e, "group", 8);
    kv_str(e, "name", "fs mgmt");
    kv_uint(e, "handlers", 5);
    smpdfu_cbor_map_begin(e, 1);
    kv_str(e, "name", "no group id");
    smpdfu_enum_detail_t det;
    assert_int_equal(smpdfu_enum_details_begin(rsp_end(e), &it), 0);
    assert_int_equal(smpdfu_enum_details_next(&it, &det), 1);
    assert_true(det.group == 8 && det.name_len == 7 && det.handlers == 5 && det.has_handlers);
    assert_int_equal(smpdfu_enum_details_next(&it, &det), SMPDFU_EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_os_requests),  cmocka_unit_test(test_os_taskstat_parse),
        cmocka_unit_test(test_os_mpstat_datetime_parse),
        cmocka_unit_test(test_stat),         cmocka_unit_test(test_settings),
        cmocka_unit_test(test_fs_requests),  cmocka_unit_test(test_fs_parsers),
        cmocka_unit_test(test_shell),        cmocka_unit_test(test_enum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
