/* SPDX-License-Identifier: Apache-2.0 */
/* The groups beyond OS and image through the dispatcher (server_groups.h):
 * stat, settings (with the flash store), fs (over an in-memory file
 * system), shell, enum, the new OS commands, and MCUboot's boot_serial. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../core/cbor_diag.h"
#include "helper_server.h"
#include "smpdfu/server_groups.h"

static h_dev_t dev;
static char dbuf[4096];

/* Response i as CBOR diagnostic notation. */
static const char *rsp_diag(int i)
{
    smpdfu_smp_hdr_t h;
    size_t n;
    const uint8_t *p = h_rsp(&dev, i, &h, &n);
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, p, n);
    if (cbor_diag(&d, dbuf, sizeof(dbuf)) < 0) {
        return "(bad cbor)";
    }
    return dbuf;
}

/* One request with a body given as raw CBOR bytes; returns the diag. */
static const char *req(uint8_t ver, uint8_t op, uint16_t group, uint8_t id, const void *body,
                       size_t n)
{
    assert_int_equal(h_request(&dev, ver, op, group, id, body, n), 1);
    return rsp_diag(0);
}

/* Build a body: a CBOR map from (key, type, value) triples. */
typedef struct {
    uint8_t b[2048];
    smpdfu_cbor_enc_t e;
} body_t;

static void body_begin(body_t *b)
{
    smpdfu_cbor_enc_init(&b->e, b->b, sizeof(b->b));
    smpdfu_cbor_map_begin(&b->e, SMPDFU_CBOR_INDEF);
}

static void kv_s(body_t *b, const char *k, const char *v)
{
    smpdfu_cbor_put_tstrz(&b->e, k);
    smpdfu_cbor_put_tstrz(&b->e, v);
}

static void kv_u(body_t *b, const char *k, uint64_t v)
{
    smpdfu_cbor_put_tstrz(&b->e, k);
    smpdfu_cbor_put_uint(&b->e, v);
}

static void kv_b(body_t *b, const char *k, const void *v, size_t n)
{
    smpdfu_cbor_put_tstrz(&b->e, k);
    smpdfu_cbor_put_bstr(&b->e, v, n);
}

static const char *send_body(body_t *b, uint8_t op, uint16_t group, uint8_t id)
{
    smpdfu_cbor_put_break(&b->e);
    assert_int_equal(b->e.err, 0);
    return req(1, op, group, id, b->b, b->e.len);
}

static const uint8_t empty[] = {0xa0};

/* ---------------------------------------------------------------- stat */

static void test_stat(void **state)
{
    smpdfu_stat_group_t st;
    body_t b;
    (void)state;
    smpdfu_stat_group_init(&st, &dev.srv);
    assert_int_equal(smpdfu_server_register(&dev.srv, &st.group), 0);
    assert_string_equal(req(1, 0, 2, 1, empty, 1),
                        "{_ \"rc\": 0, \"stat_list\": [_ \"smp\", \"smp_requests\", \"smp_errors\"]}");
    body_begin(&b);
    kv_s(&b, "name", "smp_requests");
    assert_string_equal(send_body(&b, 0, 2, 0),
                        "{_ \"name\": \"smp_requests\", \"fields\": {_ \"os\": 0, \"img\": 0, \"stat\": 2}}");
    body_begin(&b);
    kv_s(&b, "name", "nope");
    assert_string_equal(send_body(&b, 0, 2, 0), "{_ \"err\": {_ \"group\": 63, \"rc\": 3}}");
    body_begin(&b);
    kv_s(&b, "name", "smp_errors");
    assert_string_equal(send_body(&b, 0, 2, 0),
                        "{_ \"name\": \"smp_errors\", \"fields\": {_ \"os\": 0, \"img\": 0, \"stat\": 1}}");
    assert_int_equal(dev.srv.requests, 4);
    assert_true(dev.srv.bytes_out > 0 && dev.srv.bytes_in > 0);
}

/* ------------------------------------------------------------ settings */

static uint8_t sf_mem[4 * 1024];

static void test_settings_store_and_group(void **state)
{
    smpdfu_ram_flash_t ram;
    smpdfu_settings_flash_t sf;
    smpdfu_settings_group_t sg;
    smpdfu_flash_area_t area = {1024, 2048};
    body_t b;
    (void)state;
    assert_int_equal(smpdfu_ram_flash_init(&ram, sf_mem, sizeof(sf_mem), 1024, 8, 0xff), 0);
    assert_int_equal(smpdfu_settings_flash_init(&sf, &ram.flash, &area), 0);
    smpdfu_settings_group_init(&sg, &sf.store);
    assert_int_equal(smpdfu_server_register(&dev.srv, &sg.group), 0);

    body_begin(&b);
    kv_s(&b, "name", "app/a");
    kv_b(&b, "val", "\x01\x02", 2);
    assert_string_equal(send_body(&b, 2, 3, 0), "{_ }");
    body_begin(&b);
    kv_s(&b, "name", "app/a");
    assert_string_equal(send_body(&b, 0, 3, 0), "{_ \"val\": h'0102'}");
    body_begin(&b);
    kv_s(&b, "name", "app/a");
    kv_u(&b, "max_size", 100);
    assert_string_equal(send_body(&b, 0, 3, 0), "{_ \"val\": h'0102', \"max_size\": 64}");
    body_begin(&b);
    kv_s(&b, "name", "app/none");
    assert_string_equal(send_body(&b, 0, 3, 0), "{_ \"err\": {_ \"group\": 3, \"rc\": 3}}");
    body_begin(&b);
    kv_s(&b, "name", "0123456789012345678901234567890123");
    assert_string_equal(send_body(&b, 0, 3, 0), "{_ \"err\": {_ \"group\": 3, \"rc\": 2}}");
    assert_string_equal(req(1, 2, 3, 3, empty, 1), "{_ }"); /* save */

    /* Many saves: the log fills pages and compacts. */
    for (int i = 0; i < 200; i++) {
        uint8_t v[40];
        char name[16];
        memset(v, i, sizeof(v));
        snprintf(name, sizeof(name), "app/k%d", i % 3);
        assert_int_equal(sf.store.save(sf.store.ctx, name, v, sizeof(v)), 0);
    }
    assert_true(sf.seq > 1);
    assert_int_equal(sf.store.save(sf.store.ctx, "app/k2", NULL, 0), 0); /* delete */

    /* A restart: the store is found again, the runtime is loaded from it. */
    smpdfu_settings_flash_t sf2;
    smpdfu_settings_group_t sg2;
    assert_int_equal(smpdfu_settings_flash_init(&sf2, &ram.flash, &area), 0);
    assert_int_equal(sf2.page, sf.page);
    smpdfu_settings_group_init(&sg2, &sf2.store);
    assert_int_equal(smpdfu_settings_load(&sg2), 0);
    int found = 0;
    for (int i = 0; i < SMPDFU_SETTINGS_MAX; i++) {
        if (!sg2.rt[i].used) {
            continue;
        }
        found++;
        if (strcmp(sg2.rt[i].name, "app/a") == 0) {
            assert_int_equal(sg2.rt[i].len, 2);
        } else if (strcmp(sg2.rt[i].name, "app/k0") == 0) {
            assert_int_equal(sg2.rt[i].val[0], 198);
        } else if (strcmp(sg2.rt[i].name, "app/k1") == 0) {
            assert_int_equal(sg2.rt[i].val[0], 199);
        } else {
            fail_msg("unexpected %s", sg2.rt[i].name);
        }
    }
    assert_int_equal(found, 3);

    /* A torn record (a power cut in the middle of a write) is skipped and
     * the next save goes to a fresh page. */
    uint32_t at = sf2.next;
    assert_int_equal(sf2.store.save(sf2.store.ctx, "app/t", (const uint8_t *)"zz", 2), 0);
    sf_mem[area.off + sf2.page * 1024 + at + 6] ^= 0x01; /* flip a bit: CRC fails */
    smpdfu_settings_flash_t sf3;
    assert_int_equal(smpdfu_settings_flash_init(&sf3, &ram.flash, &area), 0);
    assert_int_equal(sf3.next, 1024); /* nothing more is written after garbage */
    assert_int_equal(sf3.store.save(sf3.store.ctx, "app/u", (const uint8_t *)"u", 1), 0);
    assert_int_not_equal(sf3.page, sf2.page);
    smpdfu_settings_group_t sg3;
    smpdfu_settings_group_init(&sg3, &sf3.store);
    assert_int_equal(smpdfu_settings_load(&sg3), 0);
    int n3 = 0;
    for (int i = 0; i < SMPDFU_SETTINGS_MAX; i++) {
        n3 += sg3.rt[i].used;
        assert_false(sg3.rt[i].used && strcmp(sg3.rt[i].name, "app/t") == 0);
    }
    assert_int_equal(n3, 4);
}

/* ------------------------------------------------------------------ fs */

/* An in-memory file system: a few named files of up to 64 KiB. */
#define MEMFS_FILES 4
typedef struct {
    char name[SMPDFU_FS_PATH_LEN + 1];
    uint8_t data[65536];
    size_t len;
    bool used;
} memfile_t;
static memfile_t files[MEMFS_FILES];
static int open_h[2] = {-1, -1};

static memfile_t *mf_find(const char *path)
{
    for (int i = 0; i < MEMFS_FILES; i++) {
        if (files[i].used && strcmp(files[i].name, path) == 0) {
            return &files[i];
        }
    }
    return NULL;
}

static int mf_stat(void *ctx, const char *path, uint64_t *size, bool *is_dir)
{
    (void)ctx;
    if (strstr(path, "..") != NULL) {
        return SMPDFU_FS_ERR_FILE_INVALID_NAME;
    }
    if (strcmp(path, "/lfs") == 0) {
        *is_dir = true;
        *size = 0;
        return 0;
    }
    memfile_t *f = mf_find(path);
    if (f == NULL) {
        return SMPDFU_FS_ERR_FILE_NOT_FOUND;
    }
    *size = f->len;
    *is_dir = false;
    return 0;
}

static int mf_open(void *ctx, int h, const char *path, unsigned mode)
{
    (void)ctx;
    memfile_t *f = mf_find(path);
    if (strncmp(path, "/lfs/", 5) != 0) {
        return mode == SMPDFU_FS_OPEN_WRITE ? SMPDFU_FS_ERR_MOUNT_POINT_NOT_FOUND
                                            : SMPDFU_FS_ERR_FILE_NOT_FOUND;
    }
    if (f == NULL && mode == SMPDFU_FS_OPEN_WRITE) {
        for (int i = 0; i < MEMFS_FILES && f == NULL; i++) {
            if (!files[i].used) {
                f = &files[i];
                memset(f, 0, sizeof(*f));
                f->used = true;
                memcpy(f->name, path, strlen(path) + 1);
            }
        }
    }
    if (f == NULL) {
        return SMPDFU_FS_ERR_FILE_NOT_FOUND;
    }
    open_h[h] = (int)(f - files);
    return 0;
}

static long mf_pread(void *ctx, int h, uint64_t off, void *buf, size_t len)
{
    (void)ctx;
    memfile_t *f = &files[open_h[h]];
    if (off >= f->len) {
        return 0;
    }
    size_t n = f->len - off < len ? f->len - (size_t)off : len;
    memcpy(buf, f->data + off, n);
    return (long)n;
}

static int mf_pwrite(void *ctx, int h, uint64_t off, const void *buf, size_t len)
{
    (void)ctx;
    memfile_t *f = &files[open_h[h]];
    if (off + len > sizeof(f->data)) {
        return -1;
    }
    memcpy(f->data + off, buf, len);
    if (off + len > f->len) {
        f->len = (size_t)(off + len);
    }
    return 0;
}

static int mf_truncate(void *ctx, int h, uint64_t len)
{
    (void)ctx;
    files[open_h[h]].len = (size_t)len;
    return 0;
}

static void mf_close(void *ctx, int h)
{
    (void)ctx;
    open_h[h] = -1;
}

static const smpdfu_fs_port_t memfs = {mf_stat, mf_open, mf_pread, mf_pwrite, mf_truncate,
                                       mf_close, NULL};

static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        }
    }
    return ~c;
}

static void test_fs(void **state)
{
    static smpdfu_fs_group_t fg;
    static uint8_t work[512];
    static uint8_t data[5000];
    body_t b;
    char want[256];
    (void)state;
    memset(files, 0, sizeof(files));
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 7 + 3);
    }
    smpdfu_fs_group_init(&fg, &memfs, &dev.hash, work, sizeof(work));
    assert_int_equal(smpdfu_server_register(&dev.srv, &fg.group), 0);

    /* Upload in 300-byte chunks, "len" on the first only. */
    for (size_t off = 0; off < sizeof(data); off += 300) {
        size_t n = sizeof(data) - off < 300 ? sizeof(data) - off : 300;
        body_begin(&b);
        kv_s(&b, "name", "/lfs/f.bin");
        kv_u(&b, "off", off);
        kv_b(&b, "data", data + off, n);
        if (off == 0) {
            kv_u(&b, "len", sizeof(data));
        }
        snprintf(want, sizeof(want), "{_ \"off\": %zu}", off + n);
        assert_string_equal(send_body(&b, 2, 8, 0), want);
    }
    assert_int_equal(fg.state, 0); /* closed once "len" bytes are in */
    assert_int_equal(files[0].len, sizeof(data));
    assert_memory_equal(files[0].data, data, sizeof(data));

    /* Download: chunks sized to the 384-byte buffer, "len" at offset 0 only. */
    size_t off = 0, chunks = 0;
    while (off < sizeof(data)) {
        body_begin(&b);
        kv_s(&b, "name", "/lfs/f.bin");
        kv_u(&b, "off", off);
        send_body(&b, 0, 8, 0);
        smpdfu_smp_hdr_t h;
        size_t n;
        const uint8_t *p = h_rsp(&dev, 0, &h, &n);
        smpdfu_cbor_dec_t d;
        smpdfu_cbor_slice_t got = {NULL, 0};
        uint64_t roff = 99, len = 0;
        bool have_len = false;
        smpdfu_cbor_field_t f[] = {{"off", SMPDFU_CBOR_UINT, &roff, NULL},
                                   {"data", SMPDFU_CBOR_BSTR, &got, NULL},
                                   {"len", SMPDFU_CBOR_UINT, &len, &have_len}};
        smpdfu_cbor_dec_init(&d, p, n);
        assert_int_equal(smpdfu_cbor_decode_map(&d, f, 3), 0);
        assert_int_equal(roff, off);
        assert_int_equal(have_len, off == 0);
        assert_true(got.len > 250 && 8 + n <= 384);
        assert_memory_equal(got.ptr, data + off, got.len);
        off += got.len;
        chunks++;
    }
    assert_int_equal(off, sizeof(data));
    assert_int_equal(fg.state, 0);

    /* Status, hashes, types. */
    body_begin(&b);
    kv_s(&b, "name", "/lfs/f.bin");
    assert_string_equal(send_body(&b, 0, 8, 1), "{_ \"len\": 5000}");
    body_begin(&b);
    kv_s(&b, "name", "/lfs/f.bin");
    kv_u(&b, "off", 100);
    kv_u(&b, "len", 1000);
    snprintf(want, sizeof(want), "{_ \"type\": \"crc32\", \"off\": 100, \"len\": 1000, \"output\": %u}",
             (unsigned)crc32_ref(data + 100, 1000));
    assert_string_equal(send_body(&b, 0, 8, 2), want);
    body_begin(&b);
    kv_s(&b, "name", "/lfs/f.bin");
    kv_s(&b, "type", "sha256");
    const char *s = send_body(&b, 0, 8, 2);
    assert_non_null(strstr(s, "\"type\": \"sha256\", \"len\": 5000, \"output\": h'"));
    body_begin(&b);
    kv_s(&b, "name", "/lfs/f.bin");
    kv_s(&b, "type", "md5");
    assert_string_equal(send_body(&b, 0, 8, 2), "{_ \"err\": {_ \"group\": 8, \"rc\": 13}}");
    assert_string_equal(req(1, 0, 8, 3, empty, 1),
                        "{_ \"types\": {_ \"crc32\": {_ \"format\": 0, \"size\": 4}, "
                        "\"sha256\": {_ \"format\": 1, \"size\": 32}}}");

    /* Errors. */
    body_begin(&b);
    kv_s(&b, "name", "/lfs");
    assert_string_equal(send_body(&b, 0, 8, 1), "{_ \"err\": {_ \"group\": 8, \"rc\": 4}}");
    body_begin(&b);
    kv_s(&b, "name", "/lfs/../x");
    assert_string_equal(send_body(&b, 0, 8, 1), "{_ \"err\": {_ \"group\": 8, \"rc\": 2}}");
    body_begin(&b);
    kv_s(&b, "name", "/nomount/x");
    kv_u(&b, "off", 0);
    kv_u(&b, "len", 1);
    kv_b(&b, "data", "x", 1);
    assert_string_equal(send_body(&b, 2, 8, 0), "{_ \"err\": {_ \"group\": 8, \"rc\": 14}}");
    /* v1: the fs translation */
    {
        body_begin(&b);
        kv_s(&b, "name", "/lfs/none");
        smpdfu_cbor_put_break(&b.e);
        assert_string_equal(req(0, 0, 8, 1, b.b, b.e.len), "{_ \"rc\": 5}");
    }
    /* An upload resumed without state at the file's end; a wrong offset. */
    body_begin(&b);
    kv_s(&b, "name", "/lfs/f.bin");
    kv_u(&b, "off", 5000);
    kv_b(&b, "data", "abc", 3);
    assert_string_equal(send_body(&b, 2, 8, 0), "{_ \"off\": 5003}");
    body_begin(&b);
    kv_s(&b, "name", "/lfs/f.bin");
    kv_u(&b, "off", 10);
    kv_b(&b, "data", "abc", 3);
    assert_string_equal(send_body(&b, 2, 8, 0),
                        "{_ \"err\": {_ \"group\": 8, \"rc\": 11}, \"len\": 5003}");
    assert_string_equal(req(1, 2, 8, 4, empty, 1), "{_ }");
    /* Missing "len" at offset 0, missing "off". */
    body_begin(&b);
    kv_s(&b, "name", "/lfs/g");
    kv_u(&b, "off", 0);
    kv_b(&b, "data", "x", 1);
    assert_string_equal(send_body(&b, 2, 8, 0), "{_ \"rc\": 3}");
    body_begin(&b);
    kv_s(&b, "name", "/lfs/g");
    assert_string_equal(send_body(&b, 0, 8, 0), "{_ \"rc\": 3}");
}

/* --------------------------------------------------------------- shell */

static int cmd_hello(void *ctx, smpdfu_shell_out_t *out, int argc, char **argv)
{
    (void)ctx;
    smpdfu_shell_print(out, "hello ");
    smpdfu_shell_print(out, argc > 1 ? argv[1] : "nobody");
    return 7;
}

static void test_shell(void **state)
{
    static const smpdfu_shell_cmd_t cmds[] = {{"hello", "say hello", cmd_hello}};
    smpdfu_shell_group_t sh;
    body_t b;
    (void)state;
    smpdfu_shell_group_init(&sh, cmds, 1, NULL);
    assert_int_equal(smpdfu_server_register(&dev.srv, &sh.group), 0);
    static const uint8_t echo[] = {0xa1, 0x64, 'a', 'r', 'g', 'v', 0x83, 0x64, 'e', 'c', 'h', 'o',
                                   0x61, 'a', 0x61, 'b'};
    assert_string_equal(req(1, 2, 9, 0, echo, sizeof(echo)), "{_ \"o\": \"a b\\x0a\", \"ret\": 0}");
    static const uint8_t hello[] = {0xa1, 0x64, 'a', 'r', 'g', 'v', 0x82, 0x65, 'h', 'e', 'l', 'l',
                                    'o', 0x62, 'm', 'e'};
    assert_string_equal(req(1, 2, 9, 0, hello, sizeof(hello)), "{_ \"o\": \"hello me\", \"ret\": 7}");
    static const uint8_t unknown[] = {0xa1, 0x64, 'a', 'r', 'g', 'v', 0x81, 0x63, 'f', 'o', 'o'};
    assert_string_equal(req(1, 2, 9, 0, unknown, sizeof(unknown)),
                        "{_ \"o\": \"foo: command not found\\x0a\", \"ret\": -8}");
    static const uint8_t none[] = {0xa1, 0x64, 'a', 'r', 'g', 'v', 0x80};
    assert_string_equal(req(1, 2, 9, 0, none, sizeof(none)), "{_ \"err\": {_ \"group\": 9, \"rc\": 3}}");
    assert_string_equal(req(0, 2, 9, 0, none, sizeof(none)), "{_ \"rc\": 3}");
    body_begin(&b);
    smpdfu_cbor_put_tstrz(&b.e, "argv");
    smpdfu_cbor_array_begin(&b.e, 2);
    smpdfu_cbor_put_tstrz(&b.e, "echo");
    char longw[300];
    memset(longw, 'x', sizeof(longw) - 1);
    longw[sizeof(longw) - 1] = 0;
    smpdfu_cbor_put_tstrz(&b.e, longw);
    assert_string_equal(send_body(&b, 2, 9, 0), "{_ \"err\": {_ \"group\": 9, \"rc\": 2}}");
}

/* ---------------------------------------------------------------- enum */

static void test_enum(void **state)
{
    smpdfu_enum_group_t eg;
    (void)state;
    smpdfu_enum_group_init(&eg);
    assert_int_equal(smpdfu_server_register(&dev.srv, &eg.group), 0);
    assert_string_equal(req(1, 0, 10, 0, empty, 1), "{_ \"count\": 3}");
    assert_string_equal(req(1, 0, 10, 1, empty, 1), "{_ \"groups\": [_ 0, 1, 10]}");
    static const uint8_t i1[] = {0xa1, 0x65, 'i', 'n', 'd', 'e', 'x', 0x01};
    static const uint8_t i2[] = {0xa1, 0x65, 'i', 'n', 'd', 'e', 'x', 0x02};
    static const uint8_t i3[] = {0xa1, 0x65, 'i', 'n', 'd', 'e', 'x', 0x03};
    assert_string_equal(req(1, 0, 10, 2, i1, sizeof(i1)), "{_ \"group\": 1}");
    assert_string_equal(req(1, 0, 10, 2, i2, sizeof(i2)), "{_ \"group\": 10, \"end\": true}");
    assert_string_equal(req(1, 0, 10, 2, i3, sizeof(i3)), "{_ \"err\": {_ \"group\": 10, \"rc\": 4}}");
    static const uint8_t sel[] = {0xa1, 0x66, 'g', 'r', 'o', 'u', 'p', 's', 0x82, 0x0a, 0x00};
    assert_string_equal(req(1, 0, 10, 3, sel, sizeof(sel)),
                        "{_ \"groups\": [_ {_ \"group\": 0, \"name\": \"os mgmt\", \"handlers\": 9}, "
                        "{_ \"group\": 10, \"name\": \"enum mgmt\", \"handlers\": 4}]}");
    /* Unregistered: rc 8 from then on. */
    assert_int_equal(smpdfu_server_unregister(&dev.srv, &eg.group), 0);
    assert_string_equal(req(1, 0, 10, 0, empty, 1), "{_ \"rc\": 8}");
}

/* ------------------------------------------------------------------ os */

static int64_t clock_ms = -1;
static int last_mode = -99;

static int t_get(void *ctx, int64_t *ms)
{
    (void)ctx;
    if (clock_ms < 0) {
        return SMPDFU_OS_ERR_RTC_NOT_SET;
    }
    *ms = clock_ms;
    return 0;
}

static int t_set(void *ctx, int64_t ms)
{
    (void)ctx;
    clock_ms = ms;
    return 0;
}

static bool t_task(void *ctx, size_t i, smpdfu_os_task_t *t)
{
    (void)ctx;
    if (i > 1) {
        return false;
    }
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), i == 0 ? "main" : "idle");
    t->prio = i == 0 ? 0 : 15;
    t->stksiz = 256;
    t->stkuse = 100;
    return true;
}

static int t_reset(void *ctx, bool force, int mode)
{
    (void)ctx;
    last_mode = mode;
    return force || mode != 7 ? 0 : SMPDFU_MGMT_EBUSY;
}

static void test_os_additions(void **state)
{
    (void)state;
    /* Not built in: rc 8 as a Zephyr build without them. */
    assert_string_equal(req(1, 0, 0, 2, empty, 1), "{_ \"rc\": 8}");
    assert_string_equal(req(1, 0, 0, 4, empty, 1), "{_ \"rc\": 8}");
    dev.os.task = t_task;
    dev.os.time_get = t_get;
    dev.os.time_set = t_set;
    dev.os.reset_hook = t_reset;
    dev.os.reset_boot_mode = true;
    assert_string_equal(
        req(1, 0, 0, 2, empty, 1),
        "{_ \"tasks\": {_ \"main\": {_ \"prio\": 0, \"tid\": 0, \"state\": 0, \"stksiz\": 256, "
        "\"stkuse\": 100, \"runtime\": 0}, "
        "\"idle\": {_ \"prio\": 15, \"tid\": 1, \"state\": 0, \"stksiz\": 256, \"stkuse\": 100, "
        "\"runtime\": 0}}}");
    dev.os.taskstat_all = true;
    assert_non_null(strstr(req(1, 0, 0, 2, empty, 1),
                           "\"runtime\": 0, \"cswcnt\": 0, \"last_checkin\": 0, \"next_checkin\": 0}"));
    assert_string_equal(req(1, 0, 0, 4, empty, 1), "{_ \"err\": {_ \"group\": 0, \"rc\": 4}}");
    static const char dt[] = "2024-02-29T23:59:58.7";
    uint8_t body[64] = {0xa1, 0x68, 'd', 'a', 't', 'e', 't', 'i', 'm', 'e', 0x60 + sizeof(dt) - 1};
    memcpy(body + 11, dt, sizeof(dt) - 1);
    assert_string_equal(req(1, 2, 0, 4, body, 11 + sizeof(dt) - 1), "{_ }");
    assert_int_equal(clock_ms, 1709251198007LL);
    clock_ms += 2000;
    assert_string_equal(req(1, 0, 0, 4, empty, 1), "{_ \"datetime\": \"2024-03-01T00:00:00.7\"}");
    dev.os.datetime_ms = false;
    assert_string_equal(req(1, 0, 0, 4, empty, 1), "{_ \"datetime\": \"2024-03-01T00:00:00\"}");

    /* reset: boot_mode handed to the hook, refused without force. */
    static const uint8_t bm1[] = {0xa1, 0x69, 'b', 'o', 'o', 't', '_', 'm', 'o', 'd', 'e', 0x01};
    static const uint8_t bm7[] = {0xa1, 0x69, 'b', 'o', 'o', 't', '_', 'm', 'o', 'd', 'e', 0x07};
    static const uint8_t bm7f[] = {0xa2, 0x69, 'b', 'o', 'o', 't', '_', 'm', 'o', 'd', 'e', 0x07,
                                   0x65, 'f', 'o', 'r', 'c', 'e', 0xf5};
    int resets = dev.resets;
    assert_string_equal(req(1, 2, 0, 5, bm1, sizeof(bm1)), "{_ }");
    assert_int_equal(last_mode, 1);
    assert_int_equal(dev.os.last_boot_mode, 1);
    assert_int_equal(dev.resets, resets + 1);
    assert_string_equal(req(1, 2, 0, 5, bm7, sizeof(bm7)), "{_ \"rc\": 10}");
    assert_int_equal(dev.resets, resets + 1);
    assert_string_equal(req(1, 2, 0, 5, bm7f, sizeof(bm7f)), "{_ }");
    assert_int_equal(dev.resets, resets + 2);
    assert_string_equal(req(1, 2, 0, 5, empty, 1), "{_ }");
    assert_int_equal(last_mode, -1);
}

/* ----------------------------------------------------------- boot_serial */

static uint8_t bs_rsp[512];
static uint8_t bs_out[4][512];
static size_t bs_out_len[4];
static int bs_n;

static int bs_resets;

static void bs_on_reset(void *ctx)
{
    (void)ctx;
    bs_resets++;
}

static int bs_capture(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    memcpy(bs_out[bs_n % 4], p, n);
    bs_out_len[bs_n % 4] = n;
    bs_n++;
    return 0;
}

static const char *bs_req(smpdfu_bootserial_t *bs, uint8_t op, uint16_t group, uint8_t id,
                          const uint8_t *body, size_t n)
{
    uint8_t pkt[600];
    smpdfu_smp_hdr_t h = {op, 1, 0, (uint16_t)n, group, 9, id, 0};
    smpdfu_smp_hdr_encode(&h, pkt);
    memcpy(pkt + 8, body, n);
    int before = bs_n;
    if (smpdfu_bootserial_process(bs, pkt, 8 + n, bs_capture, NULL) != 1 || bs_n != before + 1) {
        return "(no answer)";
    }
    smpdfu_cbor_dec_t d;
    smpdfu_smp_hdr_t rh;
    smpdfu_smp_hdr_decode(bs_out[before % 4], bs_out_len[before % 4], &rh);
    assert_int_equal(rh.op, op + 1);
    assert_int_equal(rh.seq, 9);
    smpdfu_cbor_dec_init(&d, bs_out[before % 4] + 8, bs_out_len[before % 4] - 8);
    if (cbor_diag(&d, dbuf, sizeof(dbuf)) < 0) {
        return "(bad cbor)";
    }
    return dbuf;
}

static void test_boot_serial(void **state)
{
    static uint8_t img[12000];
    uint8_t hash[32];
    smpdfu_bootserial_t bs;
    body_t b;
    (void)state;
    size_t len = h_make_image(img, sizeof(img), 2, 3, 9000, 5, hash, NULL);
    smpdfu_bootserial_init(&bs, &dev.boot, bs_rsp, sizeof(bs_rsp), dev.work, sizeof(dev.work));
    assert_string_equal(bs_req(&bs, 0, 1, 0, empty, 1), "{_ \"images\": [_ ]}");
    assert_string_equal(bs_req(&bs, 0, 0, 6, empty, 1), "{_ \"buf_size\": 512, \"buf_count\": 1}");
    assert_string_equal(bs_req(&bs, 0, 0, 7, empty, 1), "{_ \"rc\": 8}");
    assert_string_equal(bs_req(&bs, 2, 1, 0, empty, 1), "{_ \"rc\": 8}");
    assert_string_equal(bs_req(&bs, 0, 9, 0, empty, 1), "{_ \"rc\": 8}");
    assert_string_equal(bs_req(&bs, 2, 0, 1, empty, 1), "{_ \"rc\": 0}");
    /* an op that is not a request: dropped */
    assert_string_equal(bs_req(&bs, 1, 0, 0, empty, 1), "(no answer)");

    for (size_t off = 0; off < len;) {
        size_t n = len - off < 301 ? len - off : 301; /* not a multiple of the write unit */
        char want[64];
        body_begin(&b);
        kv_u(&b, "off", off);
        kv_b(&b, "data", img + off, n);
        if (off == 0) {
            kv_u(&b, "len", len);
        }
        smpdfu_cbor_put_break(&b.e);
        size_t next = off + n == len ? len : off + n - n % 4;
        snprintf(want, sizeof(want), "{_ \"rc\": 0, \"off\": %zu}", next);
        assert_string_equal(bs_req(&bs, 2, 1, 1, b.b, b.e.len), want);
        off = next;
    }
    const char *l = bs_req(&bs, 0, 1, 0, empty, 1);
    assert_non_null(strstr(l, "{_ \"images\": [_ {_ \"slot\": 0, \"hash\": h'"));
    assert_non_null(strstr(l, "\"version\": \"2.3.0\"}]}"));
    /* past the length */
    body_begin(&b);
    kv_u(&b, "off", len);
    kv_b(&b, "data", "x", 1);
    smpdfu_cbor_put_break(&b.e);
    assert_string_equal(bs_req(&bs, 2, 1, 1, b.b, b.e.len), "{_ \"rc\": 3}");
    /* reset: answered, then the reset callback */
    bs.on_reset = bs_on_reset;
    assert_string_equal(bs_req(&bs, 2, 0, 5, empty, 1), "{_ \"rc\": 0}");
    assert_int_equal(bs_resets, 1);
}

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_store_and_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shell, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_os_additions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boot_serial, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
