/* SPDX-License-Identifier: Apache-2.0 */
/* SMP header, ids and device error words (protocol.md §1, §2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smpdfu/smp.h"

static void test_byte0_examples(void **state)
{
    (void)state;
    assert_int_equal(smpdfu_smp_byte0(SMPDFU_SMP_V1, SMPDFU_OP_READ), 0x00);
    assert_int_equal(smpdfu_smp_byte0(SMPDFU_SMP_V1, SMPDFU_OP_WRITE), 0x02);
    assert_int_equal(smpdfu_smp_byte0(SMPDFU_SMP_V2, SMPDFU_OP_READ), 0x08);
    assert_int_equal(smpdfu_smp_byte0(SMPDFU_SMP_V2, SMPDFU_OP_WRITE), 0x0A);
    assert_int_equal(smpdfu_smp_byte0(SMPDFU_SMP_V2, SMPDFU_OP_READ_RSP), 0x09);
    assert_int_equal(smpdfu_smp_byte0(SMPDFU_SMP_V2, SMPDFU_OP_WRITE_RSP), 0x0B);
    /* masked to the bit widths */
    assert_int_equal(smpdfu_smp_byte0(0xff, 0xff), 0x1f);
    assert_int_equal(smpdfu_smp_rsp_op(SMPDFU_OP_READ), SMPDFU_OP_READ_RSP);
    assert_int_equal(smpdfu_smp_rsp_op(SMPDFU_OP_WRITE), SMPDFU_OP_WRITE_RSP);
    assert_int_equal(smpdfu_smp_rsp_op(5), SMPDFU_OP_WRITE_RSP);
}

static void test_header_round_trip(void **state)
{
    (void)state;
    uint8_t out[8];
    for (unsigned v = 0; v < 2; v++) {
        for (unsigned op = 0; op < 4; op++) {
            smpdfu_smp_hdr_t h = { (uint8_t)op, (uint8_t)v, 0x5a, 0x1234, 0xabcd, 0xfe, 0x07, 0 };
            smpdfu_smp_hdr_t g;
            smpdfu_smp_hdr_encode(&h, out);
            assert_int_equal(out[0], (v << 3) | op);
            assert_int_equal(out[1], 0x5a);
            assert_int_equal(out[2], 0x12);
            assert_int_equal(out[3], 0x34);
            assert_int_equal(out[4], 0xab);
            assert_int_equal(out[5], 0xcd);
            assert_int_equal(out[6], 0xfe);
            assert_int_equal(out[7], 0x07);
            assert_int_equal(smpdfu_smp_hdr_decode(out, 8, &g), 0);
            assert_int_equal(g.op, op);
            assert_int_equal(g.version, v);
            assert_int_equal(g.flags, 0x5a);
            assert_int_equal(g.len, 0x1234);
            assert_int_equal(g.group, 0xabcd);
            assert_int_equal(g.seq, 0xfe);
            assert_int_equal(g.id, 0x07);
            assert_int_equal(g.reserved, 0);
            assert_int_equal(smpdfu_smp_hdr_check(&g), 0);
        }
    }
    /* §5.1 vector header: v1 read, len 6, group 0, seq 1, id 0 */
    const uint8_t vec[8] = { 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x01, 0x00 };
    smpdfu_smp_hdr_t g;
    assert_int_equal(smpdfu_smp_hdr_decode(vec, 8, &g), 0);
    assert_int_equal(g.len, 6);
    assert_int_equal(g.seq, 1);
    assert_int_equal(smpdfu_smp_hdr_decode(vec, 7, &g), SMPDFU_ETRUNC);
}

static void test_header_check(void **state)
{
    (void)state;
    uint8_t b[8] = { 0 };
    smpdfu_smp_hdr_t g;
    for (unsigned b0 = 0; b0 < 256; b0++) {
        b[0] = (uint8_t)b0;
        assert_int_equal(smpdfu_smp_hdr_decode(b, 8, &g), 0);
        assert_int_equal(g.reserved, b0 >> 5);
        assert_int_equal(g.version, (b0 >> 3) & 3);
        assert_int_equal(g.op, b0 & 7);
        int want = ((b0 >> 5) != 0 || ((b0 >> 3) & 3) > 1) ? SMPDFU_EHEADER : 0;
        assert_int_equal(smpdfu_smp_hdr_check(&g), want);
    }
}

static void test_group_names(void **state)
{
    (void)state;
    assert_string_equal(smpdfu_group_name(0), "os");
    assert_string_equal(smpdfu_group_name(1), "image");
    assert_string_equal(smpdfu_group_name(5), "crash");
    assert_string_equal(smpdfu_group_name(7), "run");
    assert_string_equal(smpdfu_group_name(9), "shell");
    assert_string_equal(smpdfu_group_name(63), "zephyr basic");
    assert_string_equal(smpdfu_group_name(64), "per-user");
    assert_string_equal(smpdfu_group_name(40), "unknown");
}

/* Every known code has its own name and a sentence; names are unique. */
static void check_codes(bool group_err, uint16_t group, int first, int last, const char *prefix)
{
    const char *names[64];
    for (int rc = first; rc <= last; rc++) {
        smpdfu_dev_err_t e = { group_err, group, rc, 1 };
        const char *n = NULL;
        const char *t = NULL;
        smpdfu_dev_err_text(&e, &n, &t);
        assert_non_null(n);
        assert_non_null(t);
        assert_true(strncmp(n, prefix, strlen(prefix)) == 0);
        assert_null(strstr(n, "UNRECOGNISED"));
        assert_null(strstr(t, "does not know"));
        assert_true(strlen(t) > 6);
        names[rc - first] = n;
        for (int k = 0; k < rc - first; k++) {
            assert_string_not_equal(names[k], n);
        }
    }
}

static void test_every_code_named(void **state)
{
    (void)state;
    check_codes(false, 1, 0, 13, "MGMT_ERR_");
    check_codes(true, SMPDFU_GROUP_IMAGE, 0, 34, "IMG_ERR_");
    check_codes(true, SMPDFU_GROUP_OS, 0, 6, "OS_ERR_");
    check_codes(true, SMPDFU_GROUP_STAT, 0, 5, "STAT_MGMT_ERR_");
    check_codes(true, SMPDFU_GROUP_SETTINGS, 0, 8, "SETTINGS_MGMT_ERR_");
    check_codes(true, SMPDFU_GROUP_FS, 0, 16, "FS_MGMT_ERR_");
    check_codes(true, SMPDFU_GROUP_SHELL, 0, 3, "SHELL_MGMT_ERR_");
    check_codes(true, SMPDFU_GROUP_ENUM, 0, 4, "ENUM_MGMT_ERR_");
    /* Zephyr's stat group reports an unknown name under group 63 */
    {
        smpdfu_dev_err_t z = { true, SMPDFU_GROUP_ZEPHYR_BASIC, SMPDFU_STAT_ERR_INVALID_STAT_NAME, 1 };
        const char *zn;
        smpdfu_dev_err_text(&z, &zn, NULL);
        assert_string_equal(zn, "STAT_MGMT_ERR_INVALID_STAT_NAME");
    }

    const char *n;
    const char *t;
    smpdfu_dev_err_t e = { true, 1, SMPDFU_IMG_ERR_IMAGE_ALREADY_PENDING, 1 };
    smpdfu_dev_err_text(&e, &n, &t);
    assert_string_equal(n, "IMG_ERR_IMAGE_ALREADY_PENDING");
    assert_non_null(strstr(t, "another image is already pending"));
    e.rc = SMPDFU_IMG_ERR_NO_FREE_SLOT;
    smpdfu_dev_err_text(&e, &n, &t);
    assert_string_equal(t, "no free slot: the slot holds the running image, the image to revert to, or one marked for the next boot (confirm the running image first)");

    /* per-user rc */
    smpdfu_dev_err_t p = { false, 64, 300, 1 };
    smpdfu_dev_err_text(&p, &n, &t);
    assert_string_equal(n, "MGMT_ERR_EPERUSER");
    /* unknown codes: generic, never NULL, either out pointer may be NULL */
    smpdfu_dev_err_t u1 = { false, 0, 77, 1 };
    smpdfu_dev_err_text(&u1, &n, NULL);
    assert_string_equal(n, "MGMT_ERR_UNRECOGNISED");
    smpdfu_dev_err_t u2 = { true, 1, 35, 1 };
    smpdfu_dev_err_text(&u2, NULL, &t);
    assert_non_null(strstr(t, "image group error"));
    smpdfu_dev_err_t u3 = { true, 0, 99, 1 };
    smpdfu_dev_err_text(&u3, &n, &t);
    assert_string_equal(n, "OS_ERR_UNRECOGNISED");
    smpdfu_dev_err_t u4 = { true, 4, 2, 1 }; /* the log group: no codes known */
    smpdfu_dev_err_text(&u4, &n, &t);
    assert_string_equal(n, "GROUP_ERR_UNRECOGNISED");
    smpdfu_dev_err_t u5 = { false, 0, -5, 1 };
    smpdfu_dev_err_text(&u5, &n, &t);
    assert_string_equal(n, "MGMT_ERR_UNRECOGNISED");
}

static void test_format(void **state)
{
    (void)state;
    char buf[256];
    smpdfu_dev_err_t e = { true, 1, 28, 1 };
    int n = smpdfu_dev_err_format(&e, buf, sizeof(buf));
    assert_int_equal(n, (int)strlen(buf));
    assert_non_null(strstr(buf, "another image is already pending"));
    assert_non_null(strstr(buf, "(image group error 28, IMG_ERR_IMAGE_ALREADY_PENDING)"));

    smpdfu_dev_err_t r = { false, 1, 8, 1 };
    n = smpdfu_dev_err_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, "the device does not support this command (SMP error 8, MGMT_ERR_ENOTSUP)");
    assert_int_equal(n, (int)strlen(buf));

    smpdfu_dev_err_t g = { true, 8, 3, 1 };
    smpdfu_dev_err_format(&g, buf, sizeof(buf));
    assert_non_null(strstr(buf, "(fs group error 3, FS_MGMT_ERR_FILE_NOT_FOUND)"));
    smpdfu_dev_err_t lg = { true, 4, 3, 1 };
    smpdfu_dev_err_format(&lg, buf, sizeof(buf));
    assert_non_null(strstr(buf, "(log group error 3, GROUP_ERR_UNRECOGNISED)"));
    smpdfu_dev_err_t pu = { true, 70, 3, 1 };
    smpdfu_dev_err_format(&pu, buf, sizeof(buf));
    assert_non_null(strstr(buf, "(group 70 error 3, "));

    /* truncation like snprintf */
    char small[10];
    int full = smpdfu_dev_err_format(&r, small, sizeof(small));
    assert_int_equal(full, n);
    assert_int_equal(strlen(small), 9);
    assert_int_equal(smpdfu_dev_err_format(&r, NULL, 0), n);
    assert_int_equal(smpdfu_dev_err_format(NULL, buf, sizeof(buf)), SMPDFU_EINVAL);
}

static void test_v1_translation(void **state)
{
    (void)state;
    /* protocol.md §2.4, image group */
    int img[35];
    for (int i = 0; i < 35; i++) {
        img[i] = SMPDFU_MGMT_EUNKNOWN;
    }
    img[0] = SMPDFU_MGMT_EOK;
    img[3] = img[4] = SMPDFU_MGMT_ENOENT;
    img[9] = img[27] = img[28] = SMPDFU_MGMT_EBADSTATE;
    img[15] = SMPDFU_MGMT_ENOMEM;
    img[14] = img[19] = img[20] = img[21] = img[22] = img[24] = img[25] = SMPDFU_MGMT_EINVAL;
    for (int i = 0; i < 35; i++) {
        assert_int_equal(smpdfu_smp_err_to_v1(SMPDFU_GROUP_IMAGE, (uint16_t)i), img[i]);
    }
    assert_int_equal(smpdfu_smp_err_to_v1(SMPDFU_GROUP_IMAGE, 200), SMPDFU_MGMT_EUNKNOWN);
    /* os group */
    int os[8] = { 0, 1, 3, 5, 5, 1, 1, 1 };
    for (int i = 0; i < 8; i++) {
        assert_int_equal(smpdfu_smp_err_to_v1(SMPDFU_GROUP_OS, (uint16_t)i), os[i]);
    }
    /* the translators of stat_mgmt.c, settings_mgmt.c, fs_mgmt.c, shell_mgmt.c, enum_mgmt.c */
    int st[6] = { 0, 1, 5, 5, 3, 1 };
    for (int i = 0; i < 6; i++) {
        assert_int_equal(smpdfu_smp_err_to_v1(SMPDFU_GROUP_STAT, (uint16_t)i), st[i]);
    }
    int se[9] = { 0, 1, 3, 5, 5, 1, 1, 1, 1 };
    for (int i = 0; i < 9; i++) {
        assert_int_equal(smpdfu_smp_err_to_v1(SMPDFU_GROUP_SETTINGS, (uint16_t)i), se[i]);
    }
    int fs[17] = { 0, 1, 3, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 5, 1, 1 };
    for (int i = 0; i < 17; i++) {
        assert_int_equal(smpdfu_smp_err_to_v1(SMPDFU_GROUP_FS, (uint16_t)i), fs[i]);
    }
    int sh[4] = { 0, 1, 3, 3 };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(smpdfu_smp_err_to_v1(SMPDFU_GROUP_SHELL, (uint16_t)i), sh[i]);
    }
    int en[5] = { 0, 1, 3, 1, 1 };
    for (int i = 0; i < 5; i++) {
        assert_int_equal(smpdfu_smp_err_to_v1(SMPDFU_GROUP_ENUM, (uint16_t)i), en[i]);
    }
    /* other groups */
    assert_int_equal(smpdfu_smp_err_to_v1(SMPDFU_GROUP_LOG, 3), SMPDFU_MGMT_EUNKNOWN);
    assert_int_equal(smpdfu_smp_err_to_v1(100, 9), SMPDFU_MGMT_EUNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_byte0_examples),
        cmocka_unit_test(test_header_round_trip),
        cmocka_unit_test(test_header_check),
        cmocka_unit_test(test_group_names),
        cmocka_unit_test(test_every_code_named),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_v1_translation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
