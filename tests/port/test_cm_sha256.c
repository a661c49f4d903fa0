/* The Cortex-M port's software SHA-256 (src/port/cortex-m/sha256.c), built
 * for the host: FIPS 180 vectors, and mbedTLS as the oracle for every length
 * around the block and padding edges and any split into updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smpdfu/cortex_m.h"
#include "smpdfu/posix_crypto.h"

/* The port file is plain C99 with no target code in it. */
#include "port/cortex-m/sha256.c"

static void digest(smpdfu_hash_t *h, const uint8_t *d, size_t len, size_t step, uint8_t *out)
{
    assert_int_equal(h->start(h->ctx, SMPDFU_HASH_SHA256), 0);
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        assert_int_equal(h->update(h->ctx, d + off, n), 0);
    }
    assert_int_equal(h->finish(h->ctx, out), 0);
}

static void test_vectors(void **state)
{
    (void)state;
    static const uint8_t abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    static const uint8_t empty[32] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    smpdfu_cm_sha256_t st;
    smpdfu_hash_t h;
    uint8_t out[32];
    smpdfu_cm_sha256_hook(&st, &h);
    digest(&h, (const uint8_t *)"abc", 3, 3, out);
    assert_memory_equal(out, abc, 32);
    digest(&h, (const uint8_t *)"", 0, 1, out);
    assert_memory_equal(out, empty, 32);
    assert_int_equal(h.start(h.ctx, SMPDFU_HASH_SHA384), SMPDFU_ENOTSUP);
}

static void test_against_mbedtls(void **state)
{
    (void)state;
    static uint8_t data[1000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(data); i++) {
        x = x * 1103515245u + 12345u; /* fixed seed */
        data[i] = (uint8_t)(x >> 16);
    }
    smpdfu_cm_sha256_t st;
    smpdfu_hash_t h, ref;
    smpdfu_posix_hash_state_t rs;
    smpdfu_cm_sha256_hook(&st, &h);
    smpdfu_posix_hash_init(&rs, &ref);
    static const size_t steps[] = {1, 3, 55, 56, 63, 64, 65, 128, 1000};
    for (size_t len = 0; len <= sizeof(data); len += (len < 200 ? 1 : 37)) {
        uint8_t want[32], got[32];
        digest(&ref, data, len, len ? len : 1, want);
        for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
            digest(&h, data, len, steps[k], got);
            assert_memory_equal(got, want, 32);
        }
    }
    smpdfu_posix_hash_free(&rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_against_mbedtls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
