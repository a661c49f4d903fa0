/* SPDX-License-Identifier: Apache-2.0 */
/* Trailer layout, magic, flags and the swap decision against protocol.md §7. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "smpdfu/trailer.h"

static void test_layout_table(void **state)
{
    (void)state;
    const uint32_t S = 0x20000;
    smpdfu_trailer_layout_t l;
    /* §7.1, A = 8. */
    assert_int_equal(smpdfu_trailer_layout(S, 8, &l), 0);
    assert_int_equal(l.magic, S - 16);
    assert_int_equal(l.image_ok, S - 24);
    assert_int_equal(l.copy_done, S - 32);
    assert_int_equal(l.swap_info, S - 40);
    assert_int_equal(l.swap_size, S - 48);
    assert_int_equal(l.info_size, 48);
    assert_int_equal(l.align, 8);
    /* §7.1, A = 32. */
    assert_int_equal(smpdfu_trailer_layout(S, 32, &l), 0);
    assert_int_equal(l.magic, S - 16);
    assert_int_equal(l.image_ok, S - 64);
    assert_int_equal(l.copy_done, S - 96);
    assert_int_equal(l.swap_info, S - 128);
    assert_int_equal(l.swap_size, S - 160);
    assert_int_equal(l.info_size, 160);
    /* General formula ALIGN_DOWN(S - 16 - A, A) for A = 16. */
    assert_int_equal(smpdfu_trailer_layout(S, 16, &l), 0);
    assert_int_equal(l.image_ok, S - 32);
    assert_int_equal(l.swap_size, S - 80);
}

static void test_layout_invalid(void **state)
{
    (void)state;
    smpdfu_trailer_layout_t l;
    assert_int_equal(smpdfu_trailer_layout(0x1000, 4, &l), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_trailer_layout(0x1000, 12, &l), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_trailer_layout(0x1000, 64, &l), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_trailer_layout(0x1004, 8, &l), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_trailer_layout(40, 8, &l), SMPDFU_EINVAL); /* smaller than 48 */
    assert_int_equal(smpdfu_trailer_layout(48, 8, &l), 0);
    assert_int_equal(l.swap_size, 0);
    assert_int_equal(smpdfu_trailer_layout(0x1000, 8, NULL), SMPDFU_EINVAL);
}

static void test_total_size(void **state)
{
    (void)state;
    /* §7.1 example: scratch, 4-byte writes, 128 sectors: 1536 + 48. */
    assert_int_equal(smpdfu_trailer_total_size(8, 128, 3, 4), 1584);
    assert_int_equal(smpdfu_trailer_total_size(32, 128, 2, 8), 2048 + 160);
    assert_int_equal(smpdfu_trailer_total_size(8, 0xffffffffu, 3, 8), UINT32_MAX);
    assert_int_equal(smpdfu_trailer_total_size(5, 1, 1, 1), 0);
}

static void test_magic(void **state)
{
    (void)state;
    static const uint8_t m8[16] = {0x77, 0xC2, 0x95, 0xF3, 0x60, 0xD2, 0xEF, 0x7F,
                                   0x35, 0x52, 0x50, 0x0F, 0x2C, 0xB6, 0x79, 0x80};
    static const uint8_t m32[16] = {0x20, 0x00, 0x2D, 0xE1, 0x5D, 0x29, 0x41, 0x0B,
                                    0x8D, 0x77, 0x67, 0x9C, 0x11, 0x0F, 0x1F, 0x8A};
    uint8_t m[16];
    smpdfu_trailer_magic(8, m);
    assert_memory_equal(m, m8, 16);
    smpdfu_trailer_magic(32, m);
    assert_memory_equal(m, m32, 16);
    smpdfu_trailer_magic(16, m);
    assert_int_equal(m[0], 16);
    assert_memory_equal(m + 1, m32 + 1, 15);

    assert_int_equal(smpdfu_trailer_magic_decode(m8, 8, 0xff), SMPDFU_MAGIC_GOOD);
    assert_int_equal(smpdfu_trailer_magic_decode(m32, 32, 0xff), SMPDFU_MAGIC_GOOD);
    /* A bootloader with another BOOT_MAX_ALIGN does not accept the magic. */
    assert_int_equal(smpdfu_trailer_magic_decode(m8, 32, 0xff), SMPDFU_MAGIC_BAD);
    assert_int_equal(smpdfu_trailer_magic_decode(m32, 8, 0xff), SMPDFU_MAGIC_BAD);
    memset(m, 0xff, 16);
    assert_int_equal(smpdfu_trailer_magic_decode(m, 8, 0xff), SMPDFU_MAGIC_UNSET);
    assert_int_equal(smpdfu_trailer_magic_decode(m, 8, 0x00), SMPDFU_MAGIC_BAD);
    memset(m, 0x00, 16);
    assert_int_equal(smpdfu_trailer_magic_decode(m, 8, 0x00), SMPDFU_MAGIC_UNSET);
    for (int i = 0; i < 16; i++) {
        memcpy(m, m8, 16);
        m[i] ^= 0x01;
        assert_int_equal(smpdfu_trailer_magic_decode(m, 8, 0xff), SMPDFU_MAGIC_BAD);
    }
}

static void test_flags_swap_info(void **state)
{
    (void)state;
    assert_int_equal(smpdfu_trailer_flag_decode(0x01, 0xff), SMPDFU_FLAG_SET);
    assert_int_equal(smpdfu_trailer_flag_decode(0xff, 0xff), SMPDFU_FLAG_UNSET);
    assert_int_equal(smpdfu_trailer_flag_decode(0x00, 0x00), SMPDFU_FLAG_UNSET);
    assert_int_equal(smpdfu_trailer_flag_decode(0x00, 0xff), SMPDFU_FLAG_BAD);
    assert_int_equal(smpdfu_trailer_flag_decode(0x02, 0xff), SMPDFU_FLAG_BAD);

    assert_int_equal(smpdfu_trailer_swap_info(0, SMPDFU_SWAP_TEST), 0x02);
    assert_int_equal(smpdfu_trailer_swap_info(1, SMPDFU_SWAP_PERM), 0x13);
    assert_int_equal(smpdfu_trailer_swap_info(2, SMPDFU_SWAP_REVERT), 0x24);
    for (unsigned img = 0; img < 15; img++) {
        for (unsigned t = SMPDFU_SWAP_NONE; t <= SMPDFU_SWAP_REVERT; t++) {
            uint8_t b = smpdfu_trailer_swap_info((uint8_t)img, (smpdfu_swap_type_t)t);
            assert_int_equal(smpdfu_trailer_swap_info_type(b, 0xff), t);
            assert_int_equal(smpdfu_trailer_swap_info_image(b, 0xff), img);
        }
    }
    assert_int_equal(smpdfu_trailer_swap_info_type(0xff, 0xff), SMPDFU_SWAP_NONE);
    assert_int_equal(smpdfu_trailer_swap_info_image(0xff, 0xff), 0);
    assert_int_equal(smpdfu_trailer_swap_info_type(0x05, 0xff), SMPDFU_SWAP_NONE); /* FAIL > 4 */
    assert_int_equal(smpdfu_trailer_swap_info_type(0x1f, 0xff), SMPDFU_SWAP_NONE);
    assert_int_equal(smpdfu_trailer_swap_info_type(0x00, 0xff), SMPDFU_SWAP_NONE);
}

/* Rows 1-3 of §7.5, spelled out, against every combination of states. */
static smpdfu_swap_type_t reference(const smpdfu_trailer_state_t *p, const smpdfu_trailer_state_t *s)
{
    if (s->magic == SMPDFU_MAGIC_GOOD && s->image_ok == SMPDFU_FLAG_UNSET) {
        return SMPDFU_SWAP_TEST;
    }
    if (s->magic == SMPDFU_MAGIC_GOOD && s->image_ok == SMPDFU_FLAG_SET) {
        return SMPDFU_SWAP_PERM;
    }
    /* MCUboot's revert row wants the secondary magic exactly UNSET
     * (bootutil_public.c boot_swap_tables[2]). */
    if (p->magic == SMPDFU_MAGIC_GOOD && p->image_ok == SMPDFU_FLAG_UNSET &&
        p->copy_done == SMPDFU_FLAG_SET && s->magic == SMPDFU_MAGIC_UNSET) {
        return SMPDFU_SWAP_REVERT;
    }
    return SMPDFU_SWAP_NONE;
}

static void test_decision(void **state)
{
    (void)state;
    /* Named cases first. */
    smpdfu_trailer_state_t p = {SMPDFU_MAGIC_UNSET, SMPDFU_FLAG_UNSET, SMPDFU_FLAG_UNSET, SMPDFU_SWAP_NONE};
    smpdfu_trailer_state_t s = p;
    assert_int_equal(smpdfu_trailer_swap_decision(&p, &s), SMPDFU_SWAP_NONE);
    s.magic = SMPDFU_MAGIC_GOOD; /* upload + state-write test */
    assert_int_equal(smpdfu_trailer_swap_decision(&p, &s), SMPDFU_SWAP_TEST);
    s.image_ok = SMPDFU_FLAG_SET; /* ... with confirm */
    assert_int_equal(smpdfu_trailer_swap_decision(&p, &s), SMPDFU_SWAP_PERM);
    s.image_ok = SMPDFU_FLAG_BAD;
    assert_int_equal(smpdfu_trailer_swap_decision(&p, &s), SMPDFU_SWAP_NONE);
    s.magic = SMPDFU_MAGIC_BAD;
    s.image_ok = SMPDFU_FLAG_UNSET;
    assert_int_equal(smpdfu_trailer_swap_decision(&p, &s), SMPDFU_SWAP_NONE);
    /* After a test swap, unconfirmed: revert, but only with an erased
     * secondary trailer; a corrupt secondary magic matches no row. */
    p.magic = SMPDFU_MAGIC_GOOD;
    p.copy_done = SMPDFU_FLAG_SET;
    assert_int_equal(smpdfu_trailer_swap_decision(&p, &s), SMPDFU_SWAP_NONE);
    s.magic = SMPDFU_MAGIC_UNSET;
    assert_int_equal(smpdfu_trailer_swap_decision(&p, &s), SMPDFU_SWAP_REVERT);
    p.image_ok = SMPDFU_FLAG_SET; /* confirmed */
    assert_int_equal(smpdfu_trailer_swap_decision(&p, &s), SMPDFU_SWAP_NONE);
    /* A pending secondary wins over a revert (first row wins). */
    p.image_ok = SMPDFU_FLAG_UNSET;
    s.magic = SMPDFU_MAGIC_GOOD;
    assert_int_equal(smpdfu_trailer_swap_decision(&p, &s), SMPDFU_SWAP_TEST);
    assert_int_equal(smpdfu_trailer_swap_decision(NULL, &s), SMPDFU_SWAP_NONE);

    const smpdfu_magic_state_t ms[] = {SMPDFU_MAGIC_GOOD, SMPDFU_MAGIC_BAD, SMPDFU_MAGIC_UNSET};
    const smpdfu_flag_state_t fs[] = {SMPDFU_FLAG_SET, SMPDFU_FLAG_BAD, SMPDFU_FLAG_UNSET};
    int n = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 3; c++)
                for (int d = 0; d < 3; d++)
                    for (int e = 0; e < 3; e++)
                        for (int f = 0; f < 3; f++) {
                            smpdfu_trailer_state_t P = {ms[a], fs[b], fs[c], SMPDFU_SWAP_NONE};
                            smpdfu_trailer_state_t Q = {ms[d], fs[e], fs[f], SMPDFU_SWAP_NONE};
                            assert_int_equal(smpdfu_trailer_swap_decision(&P, &Q), reference(&P, &Q));
                            n++;
                        }
    assert_int_equal(n, 729);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_table),
        cmocka_unit_test(test_layout_invalid),
        cmocka_unit_test(test_total_size),
        cmocka_unit_test(test_magic),
        cmocka_unit_test(test_flags_swap_info),
        cmocka_unit_test(test_decision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
