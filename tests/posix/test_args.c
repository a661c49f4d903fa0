/* smpdfu_posix_arg_*: the values a user types that strtol/strtod would
 * silently turn into something else must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "smpdfu/posix_args.h"

static void test_uint(void **state)
{
    (void)state;
    uint64_t v = 77;
    assert_int_equal(smpdfu_posix_arg_uint("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(smpdfu_posix_arg_uint("10", 0, 10, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(smpdfu_posix_arg_uint("0x1F", 0, 100, &v), 0);
    assert_int_equal(v, 31);
    assert_int_equal(smpdfu_posix_arg_uint("010", 0, 100, &v), 0);
    assert_int_equal(v, 10); /* decimal, not octal */
    assert_int_equal(smpdfu_posix_arg_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    v = 77;
    const char *bad[] = {"", " 5", "5 ", "+5", "-1", "-0", "1.5", "5x", "0x", "x5", "nan", "1e3",
                         "０"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(smpdfu_posix_arg_uint(bad[i], 0, 1000, &v), SMPDFU_EUSAGE);
    }
    assert_int_equal(smpdfu_posix_arg_uint("11", 0, 10, &v), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_posix_arg_uint("0", 1, 10, &v), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_posix_arg_uint("18446744073709551616", 0, UINT64_MAX, &v),
                     SMPDFU_ERANGE);
    assert_int_equal(smpdfu_posix_arg_uint("99999999999999999999999", 0, 10, &v), SMPDFU_ERANGE);
    assert_int_equal(v, 77); /* untouched on failure */
    assert_int_equal(smpdfu_posix_arg_uint(NULL, 0, 10, &v), SMPDFU_EINVAL);
}

static void test_size(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(smpdfu_posix_arg_size("256K", 0, UINT32_MAX, &v), 0);
    assert_int_equal(v, 262144);
    assert_int_equal(smpdfu_posix_arg_size("1m", 0, UINT32_MAX, &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(smpdfu_posix_arg_size("0x1000", 0, UINT32_MAX, &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(smpdfu_posix_arg_size("4096", 0, UINT32_MAX, &v), 0);
    assert_int_equal(v, 4096);
    /* 2^54 KiB wraps to 0 in a plain multiply. */
    assert_int_equal(smpdfu_posix_arg_size("18014398509481984k", 0, UINT32_MAX, &v), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_posix_arg_size("4096M", 0, UINT32_MAX, &v), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_posix_arg_size("-1", 0, UINT32_MAX, &v), SMPDFU_EUSAGE);
    assert_int_equal(smpdfu_posix_arg_size("-4294967295", 0, UINT32_MAX, &v), SMPDFU_EUSAGE);
    assert_int_equal(smpdfu_posix_arg_size("4KB", 0, UINT32_MAX, &v), SMPDFU_EUSAGE);
    assert_int_equal(smpdfu_posix_arg_size("K", 0, UINT32_MAX, &v), SMPDFU_EUSAGE);
    assert_int_equal(smpdfu_posix_arg_size("0", 1, UINT32_MAX, &v), SMPDFU_ERANGE);
}

static void test_real(void **state)
{
    (void)state;
    double v = 0;
    assert_int_equal(smpdfu_posix_arg_real("0.5", 0, 1, &v), 0);
    assert_true(v == 0.5);
    assert_int_equal(smpdfu_posix_arg_real("1", 0, 1, &v), 0);
    assert_int_equal(smpdfu_posix_arg_real(".25", 0, 1, &v), 0);
    assert_true(v == 0.25);
    assert_int_equal(smpdfu_posix_arg_real("1e-3", 0, 1, &v), 0);
    assert_true(v == 1e-3);
    assert_int_equal(smpdfu_posix_arg_real("-2", -5, 1, &v), 0);
    assert_true(v == -2);
    v = 9;
    const char *bad[] = {"", "nan", "NaN", "-nan", "inf", "-inf", "infinity", "0x10", "1x",
                         " 1", "1 ", ".", "e5", "1e", "1e+", "--1", "1,5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(smpdfu_posix_arg_real(bad[i], -1e9, 1e9, &v), SMPDFU_EUSAGE);
    }
    assert_int_equal(smpdfu_posix_arg_real("1e400", 0, 1e300, &v), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_posix_arg_real("1.0001", 0, 1, &v), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_posix_arg_real("-0.1", 0, 1, &v), SMPDFU_ERANGE);
    assert_true(v == 9);
}

static void test_seconds(void **state)
{
    (void)state;
    uint32_t ms = 5;
    assert_int_equal(smpdfu_posix_arg_seconds_ms("2.5", 0.001, 3600, &ms), 0);
    assert_int_equal(ms, 2500);
    assert_int_equal(smpdfu_posix_arg_seconds_ms("0.001", 0.001, 3600, &ms), 0);
    assert_int_equal(ms, 1);
    assert_int_equal(smpdfu_posix_arg_seconds_ms("3600", 0.001, 3600, &ms), 0);
    assert_int_equal(ms, 3600000);
    ms = 5;
    assert_int_equal(smpdfu_posix_arg_seconds_ms("0", 0.001, 3600, &ms), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_posix_arg_seconds_ms("0.0001", 0.0001, 3600, &ms), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_posix_arg_seconds_ms("-1", 0.001, 3600, &ms), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_posix_arg_seconds_ms("3600.5", 0.001, 3600, &ms), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_posix_arg_seconds_ms("nan", 0.001, 3600, &ms), SMPDFU_EUSAGE);
    assert_int_equal(smpdfu_posix_arg_seconds_ms("inf", 0.001, 3600, &ms), SMPDFU_EUSAGE);
    assert_int_equal(ms, 5);
    /* A zero lower bound allows 0 ms. */
    assert_int_equal(smpdfu_posix_arg_seconds_ms("0", 0, 10, &ms), 0);
    assert_int_equal(ms, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uint),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_real),
        cmocka_unit_test(test_seconds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
