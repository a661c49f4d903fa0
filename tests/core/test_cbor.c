/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for src/core/cbor.c: RFC 8949 Appendix A vectors, head boundaries,
 * truncation, malformed input, nesting limit, skip, map field tables and the
 * encoder's sticky errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cbor_diag.h"
#include "smpdfu/cbor.h"

/* ---------------------------------------------------------------- helpers */

/* Hex string to bytes in a buffer of exactly that size (so ASan catches any
 * read past the end). Caller frees. */
static uint8_t *unhex(const char *hex, size_t *n)
{
    size_t len = strlen(hex) / 2;
    uint8_t *p = malloc(len ? len : 1);
    size_t i;

    assert_non_null(p);
    assert_int_equal(strlen(hex) % 2, 0);
    for (i = 0; i < len; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        p[i] = (uint8_t)v;
    }
    *n = len;
    return p;
}

static void tohex(const uint8_t *p, size_t n, char *out)
{
    size_t i;
    for (i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", p[i]);
    }
    out[2 * n] = '\0';
}

/* Decode hex as exactly one value; return its diagnostic text or the error. */
static int diag_hex(const char *hex, char *out, size_t cap)
{
    size_t n;
    uint8_t *p = unhex(hex, &n);
    smpdfu_cbor_dec_t d;
    int r;

    smpdfu_cbor_dec_init(&d, p, n);
    r = cbor_diag(&d, out, cap);
    if (r == 0 && d.pos != n) {
        r = 1; /* trailing bytes: the test vector is wrong */
    }
    free(p);
    return r;
}

/* Skip one value at the start of hex; returns error, or the bytes consumed. */
static int skip_hex(const char *hex, size_t *consumed)
{
    size_t n;
    uint8_t *p = unhex(hex, &n);
    smpdfu_cbor_dec_t d;
    int r;

    smpdfu_cbor_dec_init(&d, p, n);
    r = smpdfu_cbor_skip(&d);
    if (r != 0) {
        assert_int_equal(d.pos, 0); /* position kept on error */
    }
    *consumed = d.pos;
    free(p);
    return r;
}

/* ------------------------------------------------ RFC 8949 Appendix A */

/* Vectors with the RFC's diagnostic notation, adapted to what the decoder
 * shows (see cbor_diag.h): tags dropped, floats/simple values as `other`,
 * text bytes outside ASCII escaped. */
static const struct {
    const char *hex;
    const char *diag;
} rfc_vectors[] = {
    {"00", "0"},
    {"01", "1"},
    {"0a", "10"},
    {"17", "23"},
    {"1818", "24"},
    {"1819", "25"},
    {"1864", "100"},
    {"1903e8", "1000"},
    {"1a000f4240", "1000000"},
    {"1b000000e8d4a51000", "1000000000000"},
    {"1bffffffffffffffff", "18446744073709551615"},
    {"c249010000000000000000", "h'010000000000000000'"},
    {"3bffffffffffffffff", "-18446744073709551616"},
    {"c349010000000000000000", "h'010000000000000000'"},
    {"20", "-1"},
    {"29", "-10"},
    {"3863", "-100"},
    {"3903e7", "-1000"},
    {"f90000", "other"},
    {"f98000", "other"},
    {"f93c00", "other"},
    {"fb3ff199999999999a", "other"},
    {"f93e00", "other"},
    {"f97bff", "other"},
    {"fa47c35000", "other"},
    {"fa7f7fffff", "other"},
    {"fb7e37e43c8800759c", "other"},
    {"f90001", "other"},
    {"f90400", "other"},
    {"f9c400", "other"},
    {"fbc010666666666666", "other"},
    {"f97c00", "other"},
    {"f97e00", "other"},
    {"f9fc00", "other"},
    {"fa7f800000", "other"},
    {"fa7fc00000", "other"},
    {"faff800000", "other"},
    {"fb7ff0000000000000", "other"},
    {"fb7ff8000000000000", "other"},
    {"fbfff0000000000000", "other"},
    {"f4", "false"},
    {"f5", "true"},
    {"f6", "null"},
    {"f7", "undefined"},
    {"f0", "other"},
    {"f8ff", "other"},
    {"c074323031332d30332d32315432303a30343a30305a", "\"2013-03-21T20:04:00Z\""},
    {"c11a514b67b0", "1363896240"},
    {"c1fb41d452d9ec200000", "other"},
    {"d74401020304", "h'01020304'"},
    {"d818456449455446", "h'6449455446'"},
    {"d82076687474703a2f2f7777772e6578616d706c652e636f6d", "\"http://www.example.com\""},
    {"40", "h''"},
    {"4401020304", "h'01020304'"},
    {"60", "\"\""},
    {"6161", "\"a\""},
    {"6449455446", "\"IETF\""},
    {"62225c", "\"\\x22\\x5c\""},
    {"62c3bc", "\"\\xc3\\xbc\""},
    {"63e6b0b4", "\"\\xe6\\xb0\\xb4\""},
    {"64f0908591", "\"\\xf0\\x90\\x85\\x91\""},
    {"80", "[]"},
    {"83010203", "[1, 2, 3]"},
    {"8301820203820405", "[1, [2, 3], [4, 5]]"},
    {"98190102030405060708090a0b0c0d0e0f101112131415161718181819",
     "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]"},
    {"a0", "{}"},
    {"a201020304", "{1: 2, 3: 4}"},
    {"a26161016162820203", "{\"a\": 1, \"b\": [2, 3]}"},
    {"826161a161626163", "[\"a\", {\"b\": \"c\"}]"},
    {"a56161614161626142616361436164614461656145",
     "{\"a\": \"A\", \"b\": \"B\", \"c\": \"C\", \"d\": \"D\", \"e\": \"E\"}"},
    {"5f42010243030405ff", "h_(5)"},
    {"7f657374726561646d696e67ff", "\"_(9)\""},
    {"9fff", "[_ ]"},
    {"9f018202039f0405ffff", "[_ 1, [2, 3], [_ 4, 5]]"},
    {"9f01820203820405ff", "[_ 1, [2, 3], [4, 5]]"},
    {"83018202039f0405ff", "[1, [2, 3], [_ 4, 5]]"},
    {"83019f0203ff820405", "[1, [_ 2, 3], [4, 5]]"},
    {"9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff",
     "[_ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]"},
    {"bf61610161629f0203ffff", "{_ \"a\": 1, \"b\": [_ 2, 3]}"},
    {"826161bf61626163ff", "[\"a\", {_ \"b\": \"c\"}]"},
    {"bf6346756ef563416d7421ff", "{_ \"Fun\": true, \"Amt\": -2}"},
};

#define NVEC (sizeof(rfc_vectors) / sizeof(rfc_vectors[0]))

static void test_rfc_decode(void **state)
{
    char out[512];
    size_t i, consumed;

    (void)state;
    for (i = 0; i < NVEC; i++) {
        int r = diag_hex(rfc_vectors[i].hex, out, sizeof(out));
        if (r != 0 || strcmp(out, rfc_vectors[i].diag) != 0) {
            fail_msg("vector %s: r=%d got '%s' want '%s'", rfc_vectors[i].hex, r, out,
                     rfc_vectors[i].diag);
        }
        /* skip agrees on the extent of every value */
        assert_int_equal(skip_hex(rfc_vectors[i].hex, &consumed), 0);
        assert_int_equal(consumed, strlen(rfc_vectors[i].hex) / 2);
    }
}

/* Encoding side of Appendix A: everything the encoder can produce. */
static void test_rfc_encode(void **state)
{
    uint8_t buf[128];
    char hex[300];
    smpdfu_cbor_enc_t e;
    size_t i;
    static const struct {
        uint64_t u;
        const char *hex;
    } uints[] = {{0, "00"}, {1, "01"}, {10, "0a"}, {23, "17"}, {24, "1818"}, {25, "1819"},
                 {100, "1864"}, {1000, "1903e8"}, {1000000, "1a000f4240"},
                 {1000000000000ull, "1b000000e8d4a51000"}, {UINT64_MAX, "1bffffffffffffffff"}};
    static const struct {
        int64_t v;
        const char *hex;
    } ints[] = {{-1, "20"}, {-10, "29"}, {-100, "3863"}, {-1000, "3903e7"}, {0, "00"}, {100, "1864"}};

    (void)state;
    for (i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
        smpdfu_cbor_enc_init(&e, buf, sizeof(buf));
        assert_int_equal(smpdfu_cbor_put_uint(&e, uints[i].u), 0);
        tohex(buf, e.len, hex);
        assert_string_equal(hex, uints[i].hex);
    }
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        smpdfu_cbor_enc_init(&e, buf, sizeof(buf));
        assert_int_equal(smpdfu_cbor_put_int(&e, ints[i].v), 0);
        tohex(buf, e.len, hex);
        assert_string_equal(hex, ints[i].hex);
    }
    smpdfu_cbor_enc_init(&e, buf, sizeof(buf));
    smpdfu_cbor_put_nint(&e, UINT64_MAX);
    tohex(buf, e.len, hex);
    assert_string_equal(hex, "3bffffffffffffffff");

#define ENC(expect, ...)                                                                           \
    do {                                                                                           \
        smpdfu_cbor_enc_init(&e, buf, sizeof(buf));                                                \
        __VA_ARGS__;                                                                               \
        assert_int_equal(e.err, 0);                                                                \
        tohex(buf, e.len, hex);                                                                    \
        assert_string_equal(hex, expect);                                                          \
    } while (0)

    ENC("f4", smpdfu_cbor_put_bool(&e, false));
    ENC("f5", smpdfu_cbor_put_bool(&e, true));
    ENC("f6", smpdfu_cbor_put_null(&e));
    ENC("40", smpdfu_cbor_put_bstr(&e, NULL, 0));
    ENC("4401020304", smpdfu_cbor_put_bstr(&e, "\x01\x02\x03\x04", 4));
    ENC("60", smpdfu_cbor_put_tstrz(&e, ""));
    ENC("6161", smpdfu_cbor_put_tstrz(&e, "a"));
    ENC("6449455446", smpdfu_cbor_put_tstr(&e, "IETF", 4));
    ENC("62225c", smpdfu_cbor_put_tstrz(&e, "\"\\"));
    ENC("62c3bc", smpdfu_cbor_put_tstrz(&e, "\xc3\xbc"));
    ENC("63e6b0b4", smpdfu_cbor_put_tstrz(&e, "\xe6\xb0\xb4"));
    ENC("64f0908591", smpdfu_cbor_put_tstrz(&e, "\xf0\x90\x85\x91"));
    ENC("80", smpdfu_cbor_array_begin(&e, 0));
    ENC("83010203", smpdfu_cbor_array_begin(&e, 3); smpdfu_cbor_put_uint(&e, 1);
        smpdfu_cbor_put_uint(&e, 2); smpdfu_cbor_put_uint(&e, 3));
    ENC("8301820203820405", smpdfu_cbor_array_begin(&e, 3); smpdfu_cbor_put_uint(&e, 1);
        smpdfu_cbor_array_begin(&e, 2); smpdfu_cbor_put_uint(&e, 2); smpdfu_cbor_put_uint(&e, 3);
        smpdfu_cbor_array_begin(&e, 2); smpdfu_cbor_put_uint(&e, 4); smpdfu_cbor_put_uint(&e, 5));
    ENC("98190102030405060708090a0b0c0d0e0f101112131415161718181819",
        smpdfu_cbor_array_begin(&e, 25);
        for (i = 1; i <= 25; i++) smpdfu_cbor_put_uint(&e, i));
    ENC("a0", smpdfu_cbor_map_begin(&e, 0));
    ENC("a201020304", smpdfu_cbor_map_begin(&e, 2); smpdfu_cbor_put_uint(&e, 1);
        smpdfu_cbor_put_uint(&e, 2); smpdfu_cbor_put_uint(&e, 3); smpdfu_cbor_put_uint(&e, 4));
    ENC("a26161016162820203", smpdfu_cbor_map_begin(&e, 2); smpdfu_cbor_put_tstrz(&e, "a");
        smpdfu_cbor_put_uint(&e, 1); smpdfu_cbor_put_tstrz(&e, "b"); smpdfu_cbor_array_begin(&e, 2);
        smpdfu_cbor_put_uint(&e, 2); smpdfu_cbor_put_uint(&e, 3));
    ENC("826161a161626163", smpdfu_cbor_array_begin(&e, 2); smpdfu_cbor_put_tstrz(&e, "a");
        smpdfu_cbor_map_begin(&e, 1); smpdfu_cbor_put_tstrz(&e, "b"); smpdfu_cbor_put_tstrz(&e, "c"));
    ENC("9fff", smpdfu_cbor_array_begin(&e, SMPDFU_CBOR_INDEF); smpdfu_cbor_put_break(&e));
    ENC("9f018202039f0405ffff", smpdfu_cbor_array_begin(&e, SMPDFU_CBOR_INDEF);
        smpdfu_cbor_put_uint(&e, 1); smpdfu_cbor_array_begin(&e, 2); smpdfu_cbor_put_uint(&e, 2);
        smpdfu_cbor_put_uint(&e, 3); smpdfu_cbor_array_begin(&e, SMPDFU_CBOR_INDEF);
        smpdfu_cbor_put_uint(&e, 4); smpdfu_cbor_put_uint(&e, 5); smpdfu_cbor_put_break(&e);
        smpdfu_cbor_put_break(&e));
    ENC("bf61610161629f0203ffff", smpdfu_cbor_map_begin(&e, SMPDFU_CBOR_INDEF);
        smpdfu_cbor_put_tstrz(&e, "a"); smpdfu_cbor_put_uint(&e, 1); smpdfu_cbor_put_tstrz(&e, "b");
        smpdfu_cbor_array_begin(&e, SMPDFU_CBOR_INDEF); smpdfu_cbor_put_uint(&e, 2);
        smpdfu_cbor_put_uint(&e, 3); smpdfu_cbor_put_break(&e); smpdfu_cbor_put_break(&e));
    ENC("bf6346756ef563416d7421ff", smpdfu_cbor_map_begin(&e, SMPDFU_CBOR_INDEF);
        smpdfu_cbor_put_tstrz(&e, "Fun"); smpdfu_cbor_put_bool(&e, true);
        smpdfu_cbor_put_tstrz(&e, "Amt"); smpdfu_cbor_put_int(&e, -2); smpdfu_cbor_put_break(&e));
    /* raw copy and in-place byte string */
    ENC("82f5a0", smpdfu_cbor_array_begin(&e, 2); smpdfu_cbor_put_raw(&e, "\xf5\xa0", 2));
    ENC("4401020304", memcpy(smpdfu_cbor_put_bstr_reserve(&e, 4), "\x01\x02\x03\x04", 4));
#undef ENC
}

/* ------------------------------------------------------------ boundaries */

static void test_head_boundaries(void **state)
{
    static const struct {
        uint64_t v;
        size_t hl;
        const char *uhex;
    } b[] = {
        {0, 1, "00"},
        {23, 1, "17"},
        {24, 2, "1818"},
        {255, 2, "18ff"},
        {256, 3, "190100"},
        {65535, 3, "19ffff"},
        {65536, 5, "1a00010000"},
        {0xffffffffull, 5, "1affffffff"},
        {0x100000000ull, 9, "1b0000000100000000"},
        {UINT64_MAX, 9, "1bffffffffffffffff"},
    };
    uint8_t buf[16];
    char hex[40];
    smpdfu_cbor_enc_t e;
    smpdfu_cbor_dec_t d;
    uint64_t u;
    int64_t s;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
        assert_int_equal(smpdfu_cbor_head_len(b[i].v), b[i].hl);
        smpdfu_cbor_enc_init(&e, buf, sizeof(buf));
        assert_int_equal(smpdfu_cbor_put_uint(&e, b[i].v), 0);
        assert_int_equal(e.len, b[i].hl);
        tohex(buf, e.len, hex);
        assert_string_equal(hex, b[i].uhex);
        smpdfu_cbor_dec_init(&d, buf, e.len);
        assert_int_equal(smpdfu_cbor_get_uint(&d, &u), 0);
        assert_true(u == b[i].v);
        assert_int_equal(d.pos, e.len);

        /* The same argument as a negative integer: -1 - v. */
        smpdfu_cbor_enc_init(&e, buf, sizeof(buf));
        assert_int_equal(smpdfu_cbor_put_nint(&e, b[i].v), 0);
        assert_int_equal(e.len, b[i].hl);
        assert_int_equal(buf[0] >> 5, 1);
        smpdfu_cbor_dec_init(&d, buf, e.len);
        if (b[i].v <= (uint64_t)INT64_MAX) {
            assert_int_equal(smpdfu_cbor_get_int(&d, &s), 0);
            assert_true(s == -1 - (int64_t)b[i].v);
        } else {
            assert_int_equal(smpdfu_cbor_get_int(&d, &s), SMPDFU_ERANGE);
            assert_int_equal(d.pos, 0);
        }
    }

    /* Signed extremes. */
#define INT_CASE(v, expect)                                                                        \
    do {                                                                                           \
        smpdfu_cbor_enc_init(&e, buf, sizeof(buf));                                                \
        assert_int_equal(smpdfu_cbor_put_int(&e, v), 0);                                           \
        tohex(buf, e.len, hex);                                                                    \
        assert_string_equal(hex, expect);                                                          \
        smpdfu_cbor_dec_init(&d, buf, e.len);                                                      \
        assert_int_equal(smpdfu_cbor_get_int(&d, &s), 0);                                          \
        assert_true(s == (v));                                                                     \
    } while (0)
    INT_CASE(INT64_MIN, "3b7fffffffffffffff");
    INT_CASE(INT64_MIN + 1, "3b7ffffffffffffffe");
    INT_CASE(INT64_MAX, "1b7fffffffffffffff");
    INT_CASE(-24, "37");
    INT_CASE(-25, "3818");
    INT_CASE(-256, "38ff");
    INT_CASE(-257, "390100");
    INT_CASE(-65536, "39ffff");
    INT_CASE(-65537, "3a00010000");
    INT_CASE(-4294967296ll, "3affffffff");
    INT_CASE(-4294967297ll, "3b0000000100000000");
#undef INT_CASE

    /* One past int64 either way is ERANGE (uint still reads the positive one). */
    smpdfu_cbor_dec_init(&d, (const uint8_t *)"\x1b\x80\0\0\0\0\0\0\0", 9);
    assert_int_equal(smpdfu_cbor_get_int(&d, &s), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_cbor_get_uint(&d, &u), 0);
    assert_true(u == 0x8000000000000000ull);
    smpdfu_cbor_dec_init(&d, (const uint8_t *)"\x3b\x80\0\0\0\0\0\0\0", 9);
    assert_int_equal(smpdfu_cbor_get_int(&d, &s), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_cbor_get_uint(&d, &u), SMPDFU_ETYPE);
    assert_int_equal(d.pos, 0);

    /* Non-preferred heads are well-formed and accepted. */
    smpdfu_cbor_dec_init(&d, (const uint8_t *)"\x1b\0\0\0\0\0\0\0\x01", 9);
    assert_int_equal(smpdfu_cbor_get_uint(&d, &u), 0);
    assert_true(u == 1);

    /* String heads at 23/24 and 255/256 bytes. */
    {
        static uint8_t big[300];
        static uint8_t out[310];
        static const size_t lens[] = {23, 24, 255, 256};
        const uint8_t *p;
        size_t n, k;
        for (k = 0; k < 4; k++) {
            smpdfu_cbor_enc_init(&e, out, sizeof(out));
            assert_int_equal(smpdfu_cbor_put_bstr(&e, big, lens[k]), 0);
            assert_int_equal(e.len, smpdfu_cbor_head_len(lens[k]) + lens[k]);
            smpdfu_cbor_dec_init(&d, out, e.len);
            assert_int_equal(smpdfu_cbor_get_bstr(&d, &p, &n), 0);
            assert_int_equal(n, lens[k]);
            assert_ptr_equal(p, out + smpdfu_cbor_head_len(lens[k]));
        }
    }
}

/* ------------------------------------------------------------ truncation */

/* Every proper prefix of a well-formed value is incomplete (CBOR is prefix
 * free), so every reader must say ETRUNC and keep its position. */
static void check_prefixes(const char *hex)
{
    size_t n, cut;
    uint8_t *full = unhex(hex, &n);
    char out[512];

    for (cut = 0; cut < n; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        smpdfu_cbor_dec_t d;
        smpdfu_cbor_item_t it;
        int r;

        assert_non_null(p);
        memcpy(p, full, cut);
        smpdfu_cbor_dec_init(&d, p, cut);
        r = smpdfu_cbor_skip(&d);
        if (r != SMPDFU_ETRUNC) {
            fail_msg("%s cut at %zu: skip gave %d", hex, cut, r);
        }
        assert_int_equal(d.pos, 0);
        smpdfu_cbor_dec_init(&d, p, cut);
        assert_int_equal(cbor_diag(&d, out, sizeof(out)), SMPDFU_ETRUNC);
        /* Pull every item until the first error: it must be ETRUNC. */
        smpdfu_cbor_dec_init(&d, p, cut);
        while ((r = smpdfu_cbor_next(&d, &it)) == 0) {
            assert_true(d.pos <= cut);
        }
        assert_int_equal(r, SMPDFU_ETRUNC);
        free(p);
    }
    free(full);
}

static void test_truncation(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < NVEC; i++) {
        check_prefixes(rfc_vectors[i].hex);
    }
    check_prefixes("bf636f666600646461746144deadbeef636c656e1a00010000ff");
    check_prefixes("a3636f666600646461746144010203046373686158200000000000000000000000000000000000000000000000000000000000000000");
}

static void test_length_overflow(void **state)
{
    static const char *const hexes[] = {
        "5bffffffffffffffff",         /* bstr of 2^64-1 bytes */
        "5b7fffffffffffffff00",       /* bstr longer than the input */
        "7affffffff41",               /* tstr of 4 GiB */
        "9bffffffffffffffff00",       /* array count 2^64-1 */
        "bbffffffffffffffff0000",     /* map count 2^64-1: 2*count overflows */
        "bb800000000000000100000000", /* map count 2^63+1 */
        "b90003010203",               /* 3 pairs, 2 present */
        "5f5bffffffffffffffff00ff",   /* chunk too long */
        "5f41",                       /* chunk cut */
        "5f4100",                     /* no break */
    };
    size_t i, consumed;
    char out[64];

    (void)state;
    for (i = 0; i < sizeof(hexes) / sizeof(hexes[0]); i++) {
        if (skip_hex(hexes[i], &consumed) != SMPDFU_ETRUNC) {
            fail_msg("%s not ETRUNC", hexes[i]);
        }
        assert_int_equal(diag_hex(hexes[i], out, sizeof(out)), SMPDFU_ETRUNC);
    }
}

/* ------------------------------------------------------------- malformed */

static void test_malformed(void **state)
{
    static const char *const hexes[] = {
        "1c", "1d", "1e", "3c", "5d", "7e", "9c", "bd", "dc", "fc", "fd", "fe", /* ai 28..30 */
        "1f", "3f", "df00",                 /* indefinite on majors 0, 1, 6 */
        "ff",                               /* break outside a container (skip) */
        "83ff0102",                         /* break in a definite array */
        "a1ff01",                           /* break in a definite map */
        "bf01ff",                           /* indefinite map with a key but no value */
        "5f01ff",                           /* chunk of another major type */
        "5f5f4100ffff",                     /* nested indefinite chunk */
        "5f6161ff",                         /* text chunk in a byte string */
        "7f4161ff",                         /* byte chunk in a text string */
        "5fc04100ff",                       /* tagged chunk */
        "f800", "f81f",                     /* two-byte simple value below 32 */
        "c0ff",                             /* tag without content */
        "9fc0ff",                           /* tag before a break */
    };
    size_t i, consumed;

    (void)state;
    for (i = 0; i < sizeof(hexes) / sizeof(hexes[0]); i++) {
        int r = skip_hex(hexes[i], &consumed);
        if (r != SMPDFU_EMALFORMED) {
            fail_msg("%s: skip gave %d", hexes[i], r);
        }
    }
    /* next() returns a lone break as an item; skip() refuses it. */
    {
        smpdfu_cbor_dec_t d;
        smpdfu_cbor_item_t it;
        smpdfu_cbor_dec_init(&d, (const uint8_t *)"\xff", 1);
        assert_int_equal(smpdfu_cbor_next(&d, &it), 0);
        assert_int_equal(it.type, SMPDFU_CBOR_BREAK);
        assert_int_equal(d.pos, 1);
        smpdfu_cbor_dec_init(&d, (const uint8_t *)"\x1c", 1);
        assert_int_equal(smpdfu_cbor_next(&d, &it), SMPDFU_EMALFORMED);
        assert_int_equal(smpdfu_cbor_peek(&d, &it), SMPDFU_EMALFORMED);
        assert_int_equal(d.pos, 0);
    }
}

/* ---------------------------------------------------------------- nesting */

static uint8_t *nested(size_t levels, uint8_t open, uint8_t leaf, uint8_t close, size_t *n)
{
    uint8_t *p = malloc(2 * levels + 1);
    size_t i, k = 0;

    assert_non_null(p);
    for (i = 0; i < levels; i++) {
        p[k++] = open;
    }
    p[k++] = leaf;
    if (close != 0) {
        for (i = 0; i < levels; i++) {
            p[k++] = close;
        }
    }
    *n = k;
    return p;
}

static int skip_buf(const uint8_t *p, size_t n, size_t *pos)
{
    smpdfu_cbor_dec_t d;
    int r;

    smpdfu_cbor_dec_init(&d, p, n);
    r = smpdfu_cbor_skip(&d);
    *pos = d.pos;
    return r;
}

static void test_nesting_limit(void **state)
{
    size_t n, pos;
    uint8_t *p;

    (void)state;
    /* [[[...[0]...]]]: MAX_DEPTH arrays are fine, one more is EDEPTH. */
    p = nested(SMPDFU_CBOR_MAX_DEPTH, 0x81, 0x00, 0, &n);
    assert_int_equal(skip_buf(p, n, &pos), 0);
    assert_int_equal(pos, n);
    free(p);
    p = nested(SMPDFU_CBOR_MAX_DEPTH + 1, 0x81, 0x00, 0, &n);
    assert_int_equal(skip_buf(p, n, &pos), SMPDFU_EDEPTH);
    assert_int_equal(pos, 0);
    free(p);
    /* An empty container at the deepest level counts as a level too. */
    p = nested(SMPDFU_CBOR_MAX_DEPTH - 1, 0x81, 0x80, 0, &n);
    assert_int_equal(skip_buf(p, n, &pos), 0);
    free(p);
    p = nested(SMPDFU_CBOR_MAX_DEPTH, 0x81, 0xa0, 0, &n);
    assert_int_equal(skip_buf(p, n, &pos), SMPDFU_EDEPTH);
    free(p);
    /* Indefinite arrays. */
    p = nested(SMPDFU_CBOR_MAX_DEPTH, 0x9f, 0x01, 0xff, &n);
    assert_int_equal(skip_buf(p, n, &pos), 0);
    assert_int_equal(pos, n);
    free(p);
    p = nested(SMPDFU_CBOR_MAX_DEPTH + 1, 0x9f, 0x01, 0xff, &n);
    assert_int_equal(skip_buf(p, n, &pos), SMPDFU_EDEPTH);
    free(p);
    /* A huge nesting is refused quickly and without deep recursion. */
    p = nested(100000, 0x81, 0x00, 0, &n);
    assert_int_equal(skip_buf(p, n, &pos), SMPDFU_EDEPTH);
    free(p);
    /* Maps: {0: {0: ... 0}} */
    {
        uint8_t m[2 * (SMPDFU_CBOR_MAX_DEPTH + 1) + 1];
        size_t i, k = 0;
        for (i = 0; i < SMPDFU_CBOR_MAX_DEPTH; i++) {
            m[k++] = 0xa1;
            m[k++] = 0x00;
        }
        m[k++] = 0x00;
        assert_int_equal(skip_buf(m, k, &pos), 0);
        assert_int_equal(pos, k);
        k = 0;
        for (i = 0; i < SMPDFU_CBOR_MAX_DEPTH + 1; i++) {
            m[k++] = 0xbf;
            m[k++] = 0x00;
        }
        m[k++] = 0x00;
        assert_int_equal(skip_buf(m, k, &pos), SMPDFU_EDEPTH);
    }
}

/* ------------------------------------------------------------------ skip */

static void test_skip_values(void **state)
{
    static const struct {
        const char *hex;
        size_t len; /* bytes of the first value; the rest is a trailer */
    } v[] = {
        /* indefinite array holding an indefinite map, floats, tags, chunked strings */
        {"9fbf6161fb3ff199999999999a6162c11a514b67b0ff5f42010243030405ff7f6161ff"
         "f97c00c2c3c4c54100f8ffff01",
         47},
        {"d9d9f7d9d9f7a0f6", 7},                  /* nested tags around a map */
        {"a2c0626b31f7f6c1f5ff", 9},              /* tagged key, undefined, null */
        {"82818180a0f5", 5},                      /* [[[[]]], {}] */
        {"5fff00", 2},                            /* empty chunked byte string */
        {"bfff00", 2},                            /* empty indefinite map */
        {"fa7f800000f6", 5},                      /* single float */
        {"a1a1a10000000000", 7},                  /* map keys that are maps */
        {"9f9f9fffffff9f", 6},                    /* nested empty indefinite arrays */
        {"8120ff", 2},                            /* definite array, trailer is a break */
    };
    size_t i, consumed;

    (void)state;
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        int r = skip_hex(v[i].hex, &consumed);
        if (r != 0 || consumed != v[i].len) {
            fail_msg("%s: r=%d consumed %zu want %zu", v[i].hex, r, consumed, v[i].len);
        }
    }
}

/* ----------------------------------------------------- container iteration */

static void test_enter_more(void **state)
{
    size_t n;
    uint8_t *p = unhex("bf6161019f0203ff6162a0ff", &n);
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_container_t m, a;
    const char *k;
    size_t kn;
    uint64_t u, sum = 0;
    int r, pairs = 0;

    (void)state;
    /* enter_* on the wrong type consumes nothing. */
    smpdfu_cbor_dec_init(&d, p, n);
    assert_int_equal(smpdfu_cbor_enter_array(&d, &a), SMPDFU_ETYPE);
    assert_int_equal(d.pos, 0);
    assert_int_equal(smpdfu_cbor_enter_map(&d, &m), 0);
    assert_true(m.indef);
    /* Skipping every member of {_ "a": 1, [_ 2, 3]: "b", {}: <break>} ends
     * at a key with no value: the trailing break belongs to the map. */
    assert_int_equal(smpdfu_cbor_more(&d, &m), 1);
    assert_int_equal(smpdfu_cbor_skip(&d), 0);
    assert_int_equal(smpdfu_cbor_skip(&d), 0);
    assert_int_equal(smpdfu_cbor_more(&d, &m), 1);
    assert_int_equal(smpdfu_cbor_skip(&d), 0);
    assert_int_equal(smpdfu_cbor_skip(&d), 0);
    assert_int_equal(smpdfu_cbor_more(&d, &m), 1);
    assert_int_equal(smpdfu_cbor_skip(&d), 0); /* key {} */
    assert_int_equal(smpdfu_cbor_skip(&d), SMPDFU_EMALFORMED); /* value is a break */
    free(p);

    /* A clean example: {"a": [1, 2], "b": {}} definite, and indefinite. */
    {
        static const char *const docs[] = {"a261618201026162a0", "bf61619f0102ff6162bfffff"};
        size_t j;
        for (j = 0; j < 2; j++) {
            p = unhex(docs[j], &n);
            smpdfu_cbor_dec_init(&d, p, n);
            sum = 0;
            pairs = 0;
            assert_int_equal(smpdfu_cbor_enter_map(&d, &m), 0);
            while ((r = smpdfu_cbor_more(&d, &m)) > 0) {
                assert_int_equal(smpdfu_cbor_get_tstr(&d, &k, &kn), 0);
                pairs++;
                if (smpdfu_cbor_str_eq(k, kn, "a")) {
                    assert_int_equal(smpdfu_cbor_enter_array(&d, &a), 0);
                    while ((r = smpdfu_cbor_more(&d, &a)) > 0) {
                        assert_int_equal(smpdfu_cbor_get_uint(&d, &u), 0);
                        sum += u;
                    }
                    assert_int_equal(r, 0);
                } else {
                    assert_true(smpdfu_cbor_str_eq(k, kn, "b"));
                    assert_int_equal(smpdfu_cbor_enter_map(&d, &a), 0);
                    assert_int_equal(smpdfu_cbor_more(&d, &a), 0);
                }
            }
            assert_int_equal(r, 0);
            assert_int_equal(pairs, 2);
            assert_true(sum == 3);
            assert_int_equal(d.pos, n);
            free(p);
        }
    }
    /* more() on a cut indefinite container reports ETRUNC. */
    smpdfu_cbor_dec_init(&d, (const uint8_t *)"\x9f\x01", 2);
    assert_int_equal(smpdfu_cbor_enter_array(&d, &a), 0);
    assert_int_equal(smpdfu_cbor_more(&d, &a), 1);
    assert_int_equal(smpdfu_cbor_get_uint(&d, &u), 0);
    assert_int_equal(smpdfu_cbor_more(&d, &a), SMPDFU_ETRUNC);
}

static void test_typed_reads(void **state)
{
    smpdfu_cbor_dec_t d;
    const uint8_t *p;
    const char *s;
    size_t n;
    bool b;
    uint64_t u;

    (void)state;
    smpdfu_cbor_dec_init(&d, (const uint8_t *)"\xf5\xf4\x43\x01\x02\x03\x62hi\x5f\x41\x01\xff", 13);
    assert_int_equal(smpdfu_cbor_get_uint(&d, &u), SMPDFU_ETYPE);
    assert_int_equal(smpdfu_cbor_get_bool(&d, &b), 0);
    assert_true(b);
    assert_int_equal(smpdfu_cbor_get_bool(&d, &b), 0);
    assert_false(b);
    assert_int_equal(smpdfu_cbor_get_tstr(&d, &s, &n), SMPDFU_ETYPE);
    assert_int_equal(smpdfu_cbor_get_bstr(&d, &p, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(p, "\x01\x02\x03", 3);
    assert_int_equal(smpdfu_cbor_get_tstr(&d, &s, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(s, "hi", 2);
    assert_int_equal(d.pos, 9);
    assert_int_equal(smpdfu_cbor_get_bstr(&d, &p, &n), SMPDFU_ENOTSUP);
    assert_int_equal(d.pos, 9);
    assert_int_equal(smpdfu_cbor_skip(&d), 0);
    assert_int_equal(d.pos, 13);
    assert_int_equal(smpdfu_cbor_get_bool(&d, &b), SMPDFU_ETRUNC);

    assert_true(smpdfu_cbor_str_eq("off", 3, "off"));
    assert_false(smpdfu_cbor_str_eq("off", 2, "off"));
    assert_false(smpdfu_cbor_str_eq("offs", 4, "off"));
    assert_false(smpdfu_cbor_str_eq("of\0", 3, "of"));
    assert_true(smpdfu_cbor_str_eq("", 0, ""));
    assert_false(smpdfu_cbor_str_eq("x", 1, NULL));
}

/* -------------------------------------------------------------- decode_map */

typedef struct {
    uint64_t off, len;
    int64_t neg;
    bool upgrade;
    smpdfu_cbor_slice_t data, name, sub, arr, any;
    bool f_off, f_len, f_neg, f_upgrade, f_data, f_name, f_sub, f_arr, f_any, f_missing;
    uint64_t missing;
} fields_out_t;

static int decode_fields(const char *hex, fields_out_t *o, size_t *pos)
{
    smpdfu_cbor_field_t f[] = {
        {"off", SMPDFU_CBOR_UINT, &o->off, &o->f_off},
        {"len", SMPDFU_CBOR_UINT, &o->len, &o->f_len},
        {"neg", SMPDFU_CBOR_NINT, &o->neg, &o->f_neg},
        {"upgrade", SMPDFU_CBOR_BOOL, &o->upgrade, &o->f_upgrade},
        {"data", SMPDFU_CBOR_BSTR, &o->data, &o->f_data},
        {"name", SMPDFU_CBOR_TSTR, &o->name, &o->f_name},
        {"sub", SMPDFU_CBOR_MAP, &o->sub, &o->f_sub},
        {"arr", SMPDFU_CBOR_ARRAY, &o->arr, &o->f_arr},
        {"any", SMPDFU_CBOR_ANY, &o->any, &o->f_any},
        {"missing", SMPDFU_CBOR_UINT, &o->missing, &o->f_missing},
    };
    static uint8_t keep[256];
    size_t n;
    uint8_t *p = unhex(hex, &n);
    smpdfu_cbor_dec_t d;
    int r;

    /* keep the input alive for the slices */
    assert_true(n <= sizeof(keep));
    memcpy(keep, p, n);
    free(p);
    memset(o, 0, sizeof(*o));
    o->f_missing = true; /* must be reset by decode_map */
    smpdfu_cbor_dec_init(&d, keep, n);
    r = smpdfu_cbor_decode_map(&d, f, sizeof(f) / sizeof(f[0]));
    *pos = d.pos;
    return r;
}

static void check_slice(smpdfu_cbor_slice_t s, const char *hex)
{
    char got[128];
    tohex(s.ptr, s.len, got);
    assert_string_equal(got, hex);
}

static void test_decode_map(void **state)
{
    fields_out_t o;
    size_t pos;
    int r;

    (void)state;
    /* Built with the encoder rather than by hand, then decoded. */
    {
        static uint8_t buf[256];
        smpdfu_cbor_enc_t e;
        char hex[520];
        int indef;
        for (indef = 0; indef < 2; indef++) {
            smpdfu_cbor_enc_init(&e, buf, sizeof(buf));
            smpdfu_cbor_map_begin(&e, indef ? SMPDFU_CBOR_INDEF : 13);
            smpdfu_cbor_put_tstrz(&e, "off");
            smpdfu_cbor_put_uint(&e, 0);
            smpdfu_cbor_put_tstrz(&e, "data");
            smpdfu_cbor_put_bstr(&e, "\x01\x02", 2);
            smpdfu_cbor_put_tstrz(&e, "len");
            smpdfu_cbor_put_uint(&e, 100);
            smpdfu_cbor_put_uint(&e, 5); /* non-text key */
            smpdfu_cbor_put_tstrz(&e, "x");
            smpdfu_cbor_put_bstr(&e, "\xaa", 1); /* non-text key, container value */
            smpdfu_cbor_array_begin(&e, 1);
            smpdfu_cbor_put_uint(&e, 1);
            smpdfu_cbor_put_tstrz(&e, "upgrade");
            smpdfu_cbor_put_bool(&e, true);
            smpdfu_cbor_put_tstrz(&e, "neg");
            smpdfu_cbor_put_int(&e, -5);
            smpdfu_cbor_put_tstrz(&e, "sub");
            smpdfu_cbor_map_begin(&e, 1);
            smpdfu_cbor_put_tstrz(&e, "a");
            smpdfu_cbor_put_uint(&e, 1);
            smpdfu_cbor_put_tstrz(&e, "arr");
            smpdfu_cbor_array_begin(&e, 2);
            smpdfu_cbor_put_uint(&e, 1);
            smpdfu_cbor_map_begin(&e, 1);
            smpdfu_cbor_put_tstrz(&e, "x");
            smpdfu_cbor_put_uint(&e, 2);
            smpdfu_cbor_put_tstrz(&e, "any");
            smpdfu_cbor_put_raw(&e, "\xf9\x41\x00", 3); /* 2.5 */
            smpdfu_cbor_put_tstrz(&e, "name");
            smpdfu_cbor_put_tstrz(&e, "fw");
            smpdfu_cbor_put_tstrz(&e, "extra"); /* unknown key, nested indefinite value */
            smpdfu_cbor_map_begin(&e, SMPDFU_CBOR_INDEF);
            smpdfu_cbor_put_tstrz(&e, "deep");
            smpdfu_cbor_array_begin(&e, SMPDFU_CBOR_INDEF);
            smpdfu_cbor_array_begin(&e, 1);
            smpdfu_cbor_array_begin(&e, 1);
            smpdfu_cbor_put_uint(&e, 1);
            smpdfu_cbor_put_break(&e);
            smpdfu_cbor_put_break(&e);
            smpdfu_cbor_put_tstrz(&e, "off2"); /* prefix of nothing known */
            smpdfu_cbor_put_uint(&e, 1);
            if (indef) {
                smpdfu_cbor_put_break(&e);
            }
            smpdfu_cbor_put_uint(&e, 7); /* trailer after the map */
            assert_int_equal(e.err, 0);
            tohex(buf, e.len, hex);

            r = decode_fields(hex, &o, &pos);
            assert_int_equal(r, 0);
            assert_int_equal(pos, e.len - 1); /* stops right after the map */
            assert_true(o.f_off && o.off == 0);
            assert_true(o.f_len && o.len == 100);
            assert_true(o.f_neg && o.neg == -5);
            assert_true(o.f_upgrade && o.upgrade);
            assert_true(o.f_data);
            check_slice(o.data, "0102");
            assert_true(o.f_name);
            check_slice(o.name, "6677");
            assert_true(o.f_sub);
            check_slice(o.sub, "a1616101");
            assert_true(o.f_arr);
            check_slice(o.arr, "8201a1617802");
            assert_true(o.f_any);
            check_slice(o.any, "f94100");
            assert_false(o.f_missing);
        }
    }

    /* NINT fields take major 0 as well; out of int64 range is ERANGE. */
    assert_int_equal(decode_fields("a1636e656705", &o, &pos), 0);
    assert_true(o.neg == 5);
    assert_int_equal(decode_fields("a1636e65673b7fffffffffffffff", &o, &pos), 0);
    assert_true(o.neg == INT64_MIN);
    assert_int_equal(decode_fields("a1636e65673b8000000000000000", &o, &pos), SMPDFU_ERANGE);
    assert_int_equal(pos, 0);
    assert_int_equal(decode_fields("a1636e65671b8000000000000000", &o, &pos), SMPDFU_ERANGE);

    /* Duplicates of a known key; duplicates of unknown keys are fine. */
    assert_int_equal(decode_fields("a2636f666601636f666602", &o, &pos), SMPDFU_EDUPLICATE);
    assert_int_equal(pos, 0);
    assert_int_equal(decode_fields("bf636f666601636f666602ff", &o, &pos), SMPDFU_EDUPLICATE);
    assert_int_equal(decode_fields("a2617a01617a02", &o, &pos), 0);
    assert_false(o.f_off);
    /* A wrong-typed first occurrence fails before the duplicate is seen. */
    assert_int_equal(decode_fields("a2636f66666161636f666601", &o, &pos), SMPDFU_ETYPE);

    /* Wrong types for known keys. */
    assert_int_equal(decode_fields("a1636f66666178", &o, &pos), SMPDFU_ETYPE);   /* off: "x" */
    assert_int_equal(decode_fields("a1636f666620", &o, &pos), SMPDFU_ETYPE);     /* off: -1 */
    assert_int_equal(decode_fields("a164646174616161", &o, &pos), SMPDFU_ETYPE);  /* data: "a" */
    assert_int_equal(decode_fields("a16373756280", &o, &pos), SMPDFU_ETYPE);    /* sub: [] */
    assert_int_equal(decode_fields("a163617272a0", &o, &pos), SMPDFU_ETYPE);    /* arr: {} */
    assert_int_equal(decode_fields("a1677570677261646501", &o, &pos), SMPDFU_ETYPE); /* upgrade: 1 */
    assert_int_equal(decode_fields("a164646174615f4101ff", &o, &pos), SMPDFU_ENOTSUP); /* chunked data */

    /* Not a map; truncated; key without value; break in a definite map. */
    assert_int_equal(decode_fields("8101", &o, &pos), SMPDFU_ETYPE);
    assert_int_equal(decode_fields("a1636f6666", &o, &pos), SMPDFU_ETRUNC);
    assert_int_equal(decode_fields("bf636f6666ff", &o, &pos), SMPDFU_EMALFORMED);
    assert_int_equal(decode_fields("bf617aff", &o, &pos), SMPDFU_EMALFORMED);
    assert_int_equal(decode_fields("bf636f666600", &o, &pos), SMPDFU_ETRUNC);
    assert_int_equal(decode_fields("a1ff00", &o, &pos), SMPDFU_EMALFORMED);
    assert_int_equal(decode_fields("", &o, &pos), SMPDFU_ETRUNC);
    /* Empty maps, tagged keys/values, chunked text keys are skipped. */
    assert_int_equal(decode_fields("a0", &o, &pos), 0);
    assert_int_equal(decode_fields("bfff", &o, &pos), 0);
    assert_int_equal(pos, 2);
    assert_int_equal(decode_fields("a2c0636f666601" "7f636f6666ff02", &o, &pos), 0);
    assert_true(o.f_off && o.off == 1); /* a tag on a key is transparent too */
    assert_int_equal(decode_fields("a1636f6666c20a", &o, &pos), 0);
    assert_true(o.off == 10);

    /* Argument checks. */
    {
        smpdfu_cbor_dec_t d;
        smpdfu_cbor_field_t many[SMPDFU_CBOR_MAX_FIELDS + 1];
        memset(many, 0, sizeof(many));
        smpdfu_cbor_dec_init(&d, (const uint8_t *)"\xa0", 1);
        assert_int_equal(smpdfu_cbor_decode_map(&d, many, SMPDFU_CBOR_MAX_FIELDS + 1), SMPDFU_EINVAL);
        assert_int_equal(smpdfu_cbor_decode_map(&d, NULL, 1), SMPDFU_EINVAL);
        assert_int_equal(smpdfu_cbor_decode_map(&d, NULL, 0), 0);
        assert_int_equal(d.pos, 1);
    }
}

/* ------------------------------------------------------ encoder sticky errors */

/* A request-like document touching every encoder call. */
static int build_doc(smpdfu_cbor_enc_t *e)
{
    static const uint8_t chunk[300] = {1, 2, 3};
    uint8_t *res;

    smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
    smpdfu_cbor_put_tstrz(e, "off");
    smpdfu_cbor_put_uint(e, 0x12345678u);
    smpdfu_cbor_put_tstr(e, "data", 4);
    smpdfu_cbor_put_bstr(e, chunk, sizeof(chunk));
    smpdfu_cbor_put_tstrz(e, "len");
    smpdfu_cbor_put_uint(e, UINT64_MAX);
    smpdfu_cbor_put_tstrz(e, "n");
    smpdfu_cbor_put_int(e, INT64_MIN);
    smpdfu_cbor_put_tstrz(e, "a");
    smpdfu_cbor_array_begin(e, 4);
    smpdfu_cbor_put_bool(e, true);
    smpdfu_cbor_put_null(e);
    smpdfu_cbor_put_raw(e, "\xf9\x3c\x00", 3);
    smpdfu_cbor_put_nint(e, 1000);
    smpdfu_cbor_put_tstrz(e, "r");
    res = smpdfu_cbor_put_bstr_reserve(e, 30);
    if (res != NULL) {
        memset(res, 0x5a, 30);
    }
    return smpdfu_cbor_put_break(e);
}

static void test_encoder_sticky(void **state)
{
    static uint8_t ref[512];
    static uint8_t buf[512 + 16];
    smpdfu_cbor_enc_t e;
    size_t cap, total, i;
    smpdfu_cbor_dec_t d;
    char out[2048];

    (void)state;
    smpdfu_cbor_enc_init(&e, ref, sizeof(ref));
    assert_int_equal(build_doc(&e), 0);
    total = e.len;
    /* The reference document is one well-formed value. */
    smpdfu_cbor_dec_init(&d, ref, total);
    assert_int_equal(cbor_diag(&d, out, sizeof(out)), 0);
    assert_int_equal(d.pos, total);

    for (cap = 0; cap <= total; cap++) {
        memset(buf, 0xee, sizeof(buf));
        smpdfu_cbor_enc_init(&e, buf, cap);
        int r = build_doc(&e);
        if (cap < total) {
            assert_int_equal(r, SMPDFU_ENOSPC);
            assert_int_equal(e.err, SMPDFU_ENOSPC);
            assert_true(e.len <= cap);
            /* Later calls change nothing, even ones that would fit. */
            size_t len = e.len;
            assert_int_equal(smpdfu_cbor_put_null(&e), SMPDFU_ENOSPC);
            assert_int_equal(smpdfu_cbor_put_bstr(&e, NULL, 0), SMPDFU_ENOSPC);
            assert_null(smpdfu_cbor_put_bstr_reserve(&e, 0));
            assert_int_equal(e.len, len);
        } else {
            assert_int_equal(r, 0);
            assert_int_equal(e.len, total);
        }
        /* What was written is a prefix of the reference; nothing past cap. */
        assert_memory_equal(buf, ref, e.len);
        for (i = cap; i < sizeof(buf); i++) {
            assert_int_equal(buf[i], 0xee);
        }
    }

    /* NULL data with a length is EINVAL, and sticky. */
    smpdfu_cbor_enc_init(&e, buf, sizeof(buf));
    assert_int_equal(smpdfu_cbor_put_bstr(&e, NULL, 3), SMPDFU_EINVAL);
    assert_int_equal(e.len, 0);
    assert_int_equal(smpdfu_cbor_put_uint(&e, 1), SMPDFU_EINVAL);
    assert_int_equal(e.len, 0);
    smpdfu_cbor_enc_init(&e, buf, sizeof(buf));
    assert_int_equal(smpdfu_cbor_put_tstrz(&e, NULL), SMPDFU_EINVAL);
    smpdfu_cbor_enc_init(&e, buf, sizeof(buf));
    assert_int_equal(smpdfu_cbor_put_raw(&e, NULL, 1), SMPDFU_EINVAL);
    /* A NULL buffer is a zero-capacity one. */
    smpdfu_cbor_enc_init(&e, NULL, 100);
    assert_int_equal(smpdfu_cbor_put_null(&e), SMPDFU_ENOSPC);
    /* A huge string length cannot wrap the capacity check. */
    smpdfu_cbor_enc_init(&e, buf, sizeof(buf));
    assert_int_equal(smpdfu_cbor_put_uint(&e, 1), 0);
    assert_null(smpdfu_cbor_put_bstr_reserve(&e, SIZE_MAX - 3));
    assert_int_equal(e.err, SMPDFU_ENOSPC);
    assert_int_equal(e.len, 1);
}

/* Random encode -> decode round trip through the diagnostic printer: checks
 * that every encoder call yields the item the decoder reads back. */
static void test_roundtrip_random(void **state)
{
    static uint8_t buf[4096];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int iter;

    (void)state;
    for (iter = 0; iter < 2000; iter++) {
        smpdfu_cbor_enc_t e;
        smpdfu_cbor_dec_t d;
        smpdfu_cbor_item_t it;
        uint64_t v;
        int64_t s;
        int kind;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        kind = (int)(x % 4);
        v = x >> (x % 64); /* spread over all head sizes */
        smpdfu_cbor_enc_init(&e, buf, sizeof(buf));
        switch (kind) {
        case 0:
            smpdfu_cbor_put_uint(&e, v);
            break;
        case 1:
            smpdfu_cbor_put_int(&e, (int64_t)v);
            break;
        case 2:
            smpdfu_cbor_put_bstr(&e, buf + 2048, (size_t)(v % 1000));
            break;
        default:
            smpdfu_cbor_put_nint(&e, v);
            break;
        }
        assert_int_equal(e.err, 0);
        smpdfu_cbor_dec_init(&d, buf, e.len);
        assert_int_equal(smpdfu_cbor_next(&d, &it), 0);
        assert_int_equal(d.pos, e.len);
        switch (kind) {
        case 0:
            assert_int_equal(it.type, SMPDFU_CBOR_UINT);
            assert_true(it.u == v);
            assert_int_equal(e.len, smpdfu_cbor_head_len(v));
            break;
        case 1:
            smpdfu_cbor_dec_init(&d, buf, e.len);
            assert_int_equal(smpdfu_cbor_get_int(&d, &s), 0);
            assert_true(s == (int64_t)v);
            break;
        case 2:
            assert_int_equal(it.type, SMPDFU_CBOR_BSTR);
            assert_true(it.u == v % 1000);
            break;
        default:
            assert_int_equal(it.type, SMPDFU_CBOR_NINT);
            assert_true(it.u == v);
            break;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_decode),
        cmocka_unit_test(test_rfc_encode),
        cmocka_unit_test(test_head_boundaries),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_length_overflow),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_skip_values),
        cmocka_unit_test(test_enter_more),
        cmocka_unit_test(test_typed_reads),
        cmocka_unit_test(test_decode_map),
        cmocka_unit_test(test_encoder_sticky),
        cmocka_unit_test(test_roundtrip_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
