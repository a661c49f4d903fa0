/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu_hash_len / smpdfu_hash_range with the mbedTLS hook, against FIPS 180 vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "smpdfu/hash.h"
#include "smpdfu/image.h"
#include "smpdfu/posix_crypto.h"

static void hex(const char *s, uint8_t *out)
{
    for (size_t i = 0; s[2 * i]; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static const char *abc256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char *abc384 = "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                            "8086072ba1e7cc2358baeca134c825a7";
static const char *abc512 = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

static void test_len(void **state)
{
    (void)state;
    assert_int_equal(smpdfu_hash_len(SMPDFU_HASH_SHA256), 32);
    assert_int_equal(smpdfu_hash_len(SMPDFU_HASH_SHA384), 48);
    assert_int_equal(smpdfu_hash_len(SMPDFU_HASH_SHA512), 64);
    assert_int_equal(smpdfu_hash_len((smpdfu_hash_alg_t)7), 0);
}

static void check_abc(smpdfu_hash_alg_t alg, const char *want_hex, size_t scratch_len)
{
    smpdfu_posix_hash_state_t st;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&st, &h);
    const uint8_t data[] = "xxabcyy";
    smpdfu_image_buf_t b = {data, 7};
    uint8_t scratch[64], out[64], want[64];
    hex(want_hex, want);
    assert_int_equal(smpdfu_hash_range(&h, alg, smpdfu_image_buf_read, &b, 2, 3, scratch,
                                       scratch_len, out),
                     0);
    assert_memory_equal(out, want, smpdfu_hash_len(alg));
    smpdfu_posix_hash_free(&st);
    assert_int_equal(smpdfu_posix_digest(alg, "abc", 3, out), 0);
    assert_memory_equal(out, want, smpdfu_hash_len(alg));
}

static void test_vectors(void **state)
{
    (void)state;
    for (size_t s = 1; s <= 4; s++) {
        check_abc(SMPDFU_HASH_SHA256, abc256, s);
        check_abc(SMPDFU_HASH_SHA384, abc384, s);
        check_abc(SMPDFU_HASH_SHA512, abc512, s);
    }
}

/* Any scratch size gives the same digest over a longer range. */
static void test_chunking(void **state)
{
    (void)state;
    static uint8_t data[5000];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 131u + 7u);
    }
    uint8_t want[64], out[64], scratch[1024];
    assert_int_equal(smpdfu_posix_digest(SMPDFU_HASH_SHA512, data + 3, 4990, want), 0);
    smpdfu_posix_hash_state_t st;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&st, &h);
    smpdfu_image_buf_t b = {data, sizeof(data)};
    const size_t sizes[] = {1, 3, 64, 100, 1023, 1024};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        memset(out, 0, sizeof(out));
        assert_int_equal(smpdfu_hash_range(&h, SMPDFU_HASH_SHA512, smpdfu_image_buf_read, &b, 3,
                                           4990, scratch, sizes[i], out),
                         0);
        assert_memory_equal(out, want, 64);
    }
    smpdfu_posix_hash_free(&st);
}

static int failing_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)buf;
    (void)len;
    uint32_t *fail_at = ctx;
    return off >= *fail_at ? SMPDFU_EFLASH_IO : 0;
}

static void test_errors(void **state)
{
    (void)state;
    smpdfu_posix_hash_state_t st;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&st, &h);
    uint8_t scratch[16], out[64];
    uint32_t fail_at = 32;
    /* Read errors come back unchanged. */
    assert_int_equal(smpdfu_hash_range(&h, SMPDFU_HASH_SHA256, failing_read, &fail_at, 0, 100,
                                       scratch, sizeof(scratch), out),
                     SMPDFU_EFLASH_IO);
    /* Reading past a buffer is a truncation, not a crash. */
    const uint8_t d[4] = {0};
    smpdfu_image_buf_t b = {d, 4};
    assert_int_equal(smpdfu_hash_range(&h, SMPDFU_HASH_SHA256, smpdfu_image_buf_read, &b, 2, 3,
                                       scratch, sizeof(scratch), out),
                     SMPDFU_ETRUNC);
    assert_int_equal(smpdfu_hash_range(&h, SMPDFU_HASH_SHA256, smpdfu_image_buf_read, &b, 0, 4,
                                       scratch, 0, out),
                     SMPDFU_EINVAL);
    assert_int_equal(smpdfu_hash_range(&h, (smpdfu_hash_alg_t)9, smpdfu_image_buf_read, &b, 0, 4,
                                       scratch, 4, out),
                     SMPDFU_EINVAL);
    assert_int_equal(smpdfu_hash_range(NULL, SMPDFU_HASH_SHA256, smpdfu_image_buf_read, &b, 0, 4,
                                       scratch, 4, out),
                     SMPDFU_EINVAL);
    /* A range wrapping the 32-bit offset space is refused before any read. */
    assert_int_equal(smpdfu_hash_range(&h, SMPDFU_HASH_SHA256, smpdfu_image_buf_read, &b,
                                       0xfffffff0u, 0x20, scratch, 4, out),
                     SMPDFU_ERANGE);
    /* A fresh hook refuses update/finish without start. */
    smpdfu_posix_hash_free(&st);
    smpdfu_posix_hash_init(&st, &h);
    assert_int_equal(h.update(h.ctx, "a", 1), SMPDFU_ESTATE);
    assert_int_equal(h.finish(h.ctx, out), SMPDFU_ESTATE);
    smpdfu_posix_hash_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_len),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_chunking),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
