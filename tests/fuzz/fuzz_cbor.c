/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the CBOR decoder. Runs every reader over the input and
 * checks invariants that hold for any bytes:
 *  - next/peek agree, always advance within bounds, keep pos on error;
 *  - skip and the item-by-item walk (cbor_diag) agree on result and extent;
 *  - a skipped value re-encoded from its parsed items decodes to the same
 *    items, fits in no more bytes, and re-encoding it again is byte-identical;
 *  - decode_map keeps pos on error, its slices lie in the input and each
 *    container slice skips exactly;
 *  - enter + more iteration ends where skip ends.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cbor_diag.h"
#include "smpdfu/cbor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void reencode(const uint8_t *buf, size_t end, smpdfu_cbor_enc_t *e)
{
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_item_t it;

    smpdfu_cbor_dec_init(&d, buf, end);
    while (d.pos < end) {
        size_t start = d.pos;
        CHECK(smpdfu_cbor_next(&d, &it) == 0);
        switch (it.type) {
        case SMPDFU_CBOR_UINT:
            smpdfu_cbor_put_uint(e, it.u);
            break;
        case SMPDFU_CBOR_NINT:
            smpdfu_cbor_put_nint(e, it.u);
            break;
        case SMPDFU_CBOR_BSTR:
            if (it.indef) {
                smpdfu_cbor_put_raw(e, buf + start, d.pos - start);
            } else {
                smpdfu_cbor_put_bstr(e, it.ptr, (size_t)it.u);
            }
            break;
        case SMPDFU_CBOR_TSTR:
            if (it.indef) {
                smpdfu_cbor_put_raw(e, buf + start, d.pos - start);
            } else {
                smpdfu_cbor_put_tstr(e, (const char *)it.ptr, (size_t)it.u);
            }
            break;
        case SMPDFU_CBOR_ARRAY:
            smpdfu_cbor_array_begin(e, it.indef ? SMPDFU_CBOR_INDEF : it.u);
            break;
        case SMPDFU_CBOR_MAP:
            smpdfu_cbor_map_begin(e, it.indef ? SMPDFU_CBOR_INDEF : it.u);
            break;
        case SMPDFU_CBOR_BOOL:
            smpdfu_cbor_put_bool(e, it.u != 0);
            break;
        case SMPDFU_CBOR_NULL:
            smpdfu_cbor_put_null(e);
            break;
        case SMPDFU_CBOR_BREAK:
            smpdfu_cbor_put_break(e);
            break;
        default:
            smpdfu_cbor_put_raw(e, buf + start, d.pos - start);
            break;
        }
    }
}

static void check_items(const uint8_t *data, size_t size)
{
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_item_t a, b;
    int r;

    smpdfu_cbor_dec_init(&d, data, size);
    for (;;) {
        size_t before = d.pos;
        int rp = smpdfu_cbor_peek(&d, &a);
        CHECK(d.pos == before);
        r = smpdfu_cbor_next(&d, &b);
        CHECK(r == rp);
        if (r != 0) {
            CHECK(r < 0 && d.pos == before);
            break;
        }
        CHECK(d.pos > before && d.pos <= size);
        CHECK(a.type == b.type && a.u == b.u && a.indef == b.indef && a.ptr == b.ptr);
        if ((b.type == SMPDFU_CBOR_BSTR || b.type == SMPDFU_CBOR_TSTR) && !b.indef) {
            CHECK(b.ptr >= data && b.u <= (uint64_t)(data + size - b.ptr));
        }
    }
}

static void check_skip(const uint8_t *data, size_t size)
{
    smpdfu_cbor_dec_t d, d2;
    size_t cap = 16 * size + 64;
    char *diag1 = malloc(cap), *diag2 = malloc(cap);
    uint8_t *enc1 = malloc(size + 1), *enc2 = malloc(size + 1);
    smpdfu_cbor_enc_t e1, e2;
    int rs, rd;

    CHECK(diag1 && diag2 && enc1 && enc2);
    smpdfu_cbor_dec_init(&d, data, size);
    rs = smpdfu_cbor_skip(&d);
    smpdfu_cbor_dec_init(&d2, data, size);
    rd = cbor_diag(&d2, diag1, cap);
    CHECK(rs == rd);
    if (rs != 0) {
        CHECK(d.pos == 0);
        goto out;
    }
    CHECK(d.pos > 0 && d.pos <= size && d.pos == d2.pos);

    /* Re-encoding uses preferred heads and drops tags: never longer. */
    smpdfu_cbor_enc_init(&e1, enc1, size);
    reencode(data, d.pos, &e1);
    CHECK(e1.err == 0 && e1.len <= d.pos);
    smpdfu_cbor_dec_init(&d2, enc1, e1.len);
    CHECK(cbor_diag(&d2, diag2, cap) == 0);
    CHECK(d2.pos == e1.len);
    CHECK(strcmp(diag1, diag2) == 0);
    smpdfu_cbor_dec_init(&d2, enc1, e1.len);
    CHECK(smpdfu_cbor_skip(&d2) == 0 && d2.pos == e1.len);

    smpdfu_cbor_enc_init(&e2, enc2, size);
    reencode(enc1, e1.len, &e2);
    CHECK(e2.err == 0 && e2.len == e1.len && memcmp(enc1, enc2, e1.len) == 0);
out:
    free(diag1);
    free(diag2);
    free(enc1);
    free(enc2);
}

static void check_slice_skips(const smpdfu_cbor_slice_t *s, const uint8_t *data, size_t size)
{
    smpdfu_cbor_dec_t d;

    CHECK(s->ptr >= data && s->len <= (size_t)(data + size - s->ptr) && s->len > 0);
    smpdfu_cbor_dec_init(&d, s->ptr, s->len);
    CHECK(smpdfu_cbor_skip(&d) == 0 && d.pos == s->len);
}

static void check_decode_map(const uint8_t *data, size_t size, size_t skip_end, int skip_r)
{
    uint64_t off = 0, len = 0;
    int64_t neg = 0;
    bool up = false;
    smpdfu_cbor_slice_t sdata = {0}, sname = {0}, ssub = {0}, sarr = {0}, sany = {0}, sflt = {0};
    bool f[12] = {0};
    smpdfu_cbor_field_t fields[] = {
        {"off", SMPDFU_CBOR_UINT, &off, &f[0]},
        {"len", SMPDFU_CBOR_UINT, &len, &f[1]},
        {"rc", SMPDFU_CBOR_NINT, &neg, &f[2]},
        {"upgrade", SMPDFU_CBOR_BOOL, &up, &f[3]},
        {"data", SMPDFU_CBOR_BSTR, &sdata, &f[4]},
        {"name", SMPDFU_CBOR_TSTR, &sname, &f[5]},
        {"err", SMPDFU_CBOR_MAP, &ssub, &f[6]},
        {"images", SMPDFU_CBOR_ARRAY, &sarr, &f[7]},
        {"a", SMPDFU_CBOR_ANY, &sany, &f[8]},
        {"n", SMPDFU_CBOR_NULL, NULL, &f[9]},
        {"f", SMPDFU_CBOR_OTHER, &sflt, &f[10]},
        {"", SMPDFU_CBOR_UINT, NULL, &f[11]},
    };
    smpdfu_cbor_dec_t d;
    int r;

    smpdfu_cbor_dec_init(&d, data, size);
    r = smpdfu_cbor_decode_map(&d, fields, sizeof(fields) / sizeof(fields[0]));
    if (r != 0) {
        CHECK(r < 0 && d.pos == 0);
        return;
    }
    CHECK(d.pos > 0 && d.pos <= size);
    if (skip_r == 0) {
        CHECK(d.pos == skip_end);
    }
    if (f[4]) {
        CHECK(sdata.len == 0 || (sdata.ptr >= data && sdata.len <= (size_t)(data + size - sdata.ptr)));
    }
    if (f[5]) {
        CHECK(sname.len == 0 || (sname.ptr >= data && sname.len <= (size_t)(data + size - sname.ptr)));
    }
    if (f[6]) {
        check_slice_skips(&ssub, data, size);
    }
    if (f[7]) {
        check_slice_skips(&sarr, data, size);
    }
    if (f[8]) {
        check_slice_skips(&sany, data, size);
    }
    if (f[10]) {
        check_slice_skips(&sflt, data, size);
    }
    if (f[2]) {
        (void)neg;
    }
}

static void check_iterate(const uint8_t *data, size_t size, size_t skip_end, int skip_r)
{
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_container_t c;
    size_t rounds = 0;
    int r, per;

    smpdfu_cbor_dec_init(&d, data, size);
    if (smpdfu_cbor_enter_map(&d, &c) == 0) {
        per = 2;
    } else if (smpdfu_cbor_enter_array(&d, &c) == 0) {
        per = 1;
    } else {
        CHECK(d.pos == 0);
        return;
    }
    while ((r = smpdfu_cbor_more(&d, &c)) > 0) {
        int k;
        CHECK(++rounds <= size); /* each member takes at least one byte */
        for (k = 0; k < per; k++) {
            size_t before = d.pos;
            r = smpdfu_cbor_skip(&d);
            if (r != 0) {
                CHECK(d.pos == before);
                return;
            }
        }
    }
    if (r == 0 && skip_r == 0) {
        CHECK(d.pos == skip_end);
    }
    CHECK(d.pos <= size);
}

static void check_typed(const uint8_t *data, size_t size)
{
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_item_t it;
    uint64_t u;
    int64_t s;
    bool b;
    const uint8_t *p;
    const char *t;
    size_t n;
    int r;

    smpdfu_cbor_dec_init(&d, data, size);
    if (smpdfu_cbor_peek(&d, &it) != 0) {
        return;
    }
    r = smpdfu_cbor_get_uint(&d, &u);
    CHECK((r == 0) == (it.type == SMPDFU_CBOR_UINT));
    d.pos = 0;
    r = smpdfu_cbor_get_int(&d, &s);
    if (r == 0) {
        CHECK(it.type == SMPDFU_CBOR_UINT ? s >= 0 : s < 0);
    } else {
        CHECK(d.pos == 0);
    }
    d.pos = 0;
    r = smpdfu_cbor_get_bool(&d, &b);
    CHECK((r == 0) == (it.type == SMPDFU_CBOR_BOOL));
    d.pos = 0;
    r = smpdfu_cbor_get_bstr(&d, &p, &n);
    CHECK((r == 0) == (it.type == SMPDFU_CBOR_BSTR && !it.indef));
    d.pos = 0;
    r = smpdfu_cbor_get_tstr(&d, &t, &n);
    CHECK((r == 0) == (it.type == SMPDFU_CBOR_TSTR && !it.indef));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smpdfu_cbor_dec_t d;
    int skip_r;

    smpdfu_cbor_dec_init(&d, data, size);
    skip_r = smpdfu_cbor_skip(&d);

    check_items(data, size);
    check_skip(data, size);
    check_decode_map(data, size, d.pos, skip_r);
    check_iterate(data, size, d.pos, skip_r);
    check_typed(data, size);
    return 0;
}
