/* Zephyr's UART receive line buffers: allocation at a line's first byte,
 * drops for want of a buffer and for length, release by the SMP side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smpdfu/rxlines.h"

static uint8_t mem[SMPDFU_RXLINES_MAX * 128];

/* Feed a string; returns the last non-NONE event (or NONE). */
static int feed(smpdfu_rxlines_t *r, const char *s)
{
    int last = SMPDFU_RXLINES_NONE;
    for (; *s; s++) {
        int ev = smpdfu_rxlines_rx(r, (uint8_t)*s);
        if (ev != SMPDFU_RXLINES_NONE) {
            last = ev;
        }
    }
    return last;
}

static void expect_line(smpdfu_rxlines_t *r, const char *want)
{
    const uint8_t *p = NULL;
    size_t n = smpdfu_rxlines_peek(r, &p);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(p, want, n);
    smpdfu_rxlines_release(r);
}

static void test_init(void **state)
{
    (void)state;
    smpdfu_rxlines_t r;
    assert_int_equal(smpdfu_rxlines_init(&r, NULL, 2, 128), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_rxlines_init(&r, mem, 0, 128), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_rxlines_init(&r, mem, SMPDFU_RXLINES_MAX + 1, 1), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_rxlines_init(&r, mem, 2, 0), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_rxlines_init(&r, mem, 2, 128), 0);
    assert_int_equal(smpdfu_rxlines_held(&r), 0);
    assert_int_equal(smpdfu_rxlines_peek(&r, NULL), 0);
    smpdfu_rxlines_release(&r); /* nothing waits: no-op */
    assert_int_equal(smpdfu_rxlines_held(&r), 0);
}

/* Two buffers held by unread lines: the third line is lost whole, the
 * fourth (after the SMP side freed one) is received. */
static void test_third_line_dropped(void **state)
{
    (void)state;
    smpdfu_rxlines_t r;
    assert_int_equal(smpdfu_rxlines_init(&r, mem, 2, 128), 0);
    assert_int_equal(feed(&r, "one\n"), SMPDFU_RXLINES_LINE);
    assert_int_equal(smpdfu_rxlines_held(&r), 1);
    assert_int_equal(feed(&r, "two\n"), SMPDFU_RXLINES_LINE);
    assert_int_equal(smpdfu_rxlines_held(&r), 2);
    assert_int_equal(smpdfu_rxlines_rx(&r, 't'), SMPDFU_RXLINES_NO_BUFFER);
    assert_int_equal(feed(&r, "hree\n"), SMPDFU_RXLINES_NONE);
    assert_int_equal(r.stats.no_buffer, 1);
    assert_int_equal(r.stats.lines, 2);
    /* Freeing a buffer mid-line does not revive the dropped line. */
    expect_line(&r, "one\n");
    assert_int_equal(feed(&r, "four\n"), SMPDFU_RXLINES_LINE);
    expect_line(&r, "two\n");
    expect_line(&r, "four\n");
    assert_int_equal(smpdfu_rxlines_held(&r), 0);
    assert_int_equal(r.stats.lines, 3);
}

/* A buffer freed while a line is being ignored: the ignored line stays lost,
 * the next one gets the buffer. */
static void test_release_during_ignored_line(void **state)
{
    (void)state;
    smpdfu_rxlines_t r;
    assert_int_equal(smpdfu_rxlines_init(&r, mem, 1, 128), 0);
    feed(&r, "a\n");
    assert_int_equal(feed(&r, "bb"), SMPDFU_RXLINES_NO_BUFFER);
    smpdfu_rxlines_release(&r);
    assert_int_equal(feed(&r, "b\n"), SMPDFU_RXLINES_NONE);
    assert_int_equal(feed(&r, "c\n"), SMPDFU_RXLINES_LINE);
    expect_line(&r, "c\n");
    assert_int_equal(r.stats.no_buffer, 1);
}

/* size bytes including \n fit; one more drops the line and frees its
 * buffer at once, so the next line is received even with one buffer. */
static void test_line_length(void **state)
{
    (void)state;
    smpdfu_rxlines_t r;
    char line[200];
    assert_int_equal(smpdfu_rxlines_init(&r, mem, 1, 8), 0);
    assert_int_equal(feed(&r, "1234567\n"), SMPDFU_RXLINES_LINE);
    expect_line(&r, "1234567\n");
    assert_int_equal(feed(&r, "12345678\n"), SMPDFU_RXLINES_TOO_LONG);
    assert_int_equal(smpdfu_rxlines_held(&r), 0);
    assert_int_equal(feed(&r, "x\n"), SMPDFU_RXLINES_LINE);
    expect_line(&r, "x\n");
    assert_int_equal(r.stats.too_long, 1);
    /* An overlong line is counted once, however long. */
    memset(line, 'z', sizeof(line));
    line[sizeof(line) - 2] = '\n';
    line[sizeof(line) - 1] = 0;
    assert_int_equal(feed(&r, line), SMPDFU_RXLINES_TOO_LONG);
    assert_int_equal(r.stats.too_long, 2);
    assert_int_equal(smpdfu_rxlines_held(&r), 0);
}

/* An empty line takes a buffer like any other (Zephyr stores the \n). */
static void test_empty_line(void **state)
{
    (void)state;
    smpdfu_rxlines_t r;
    assert_int_equal(smpdfu_rxlines_init(&r, mem, 2, 128), 0);
    feed(&r, "\n\n");
    assert_int_equal(smpdfu_rxlines_held(&r), 2);
    assert_int_equal(smpdfu_rxlines_rx(&r, '\n'), SMPDFU_RXLINES_NO_BUFFER);
    expect_line(&r, "\n");
    expect_line(&r, "\n");
}

/* Lines come out in arrival order across many wraps of the queue. */
static void test_fifo_order(void **state)
{
    (void)state;
    smpdfu_rxlines_t r;
    char s[16];
    assert_int_equal(smpdfu_rxlines_init(&r, mem, 3, 16), 0);
    for (int i = 0; i < 200; i++) {
        snprintf(s, sizeof(s), "L%d\n", i);
        assert_int_equal(feed(&r, s), SMPDFU_RXLINES_LINE);
        if (i % 3 == 2) {
            for (int k = i - 2; k <= i; k++) {
                snprintf(s, sizeof(s), "L%d\n", k);
                expect_line(&r, s);
            }
        }
    }
    assert_int_equal(r.stats.lines, 200);
    assert_int_equal(r.stats.no_buffer, 0);
}

static void test_reset(void **state)
{
    (void)state;
    smpdfu_rxlines_t r;
    assert_int_equal(smpdfu_rxlines_init(&r, mem, 2, 128), 0);
    feed(&r, "a\nb\nc");
    smpdfu_rxlines_reset(&r);
    assert_int_equal(smpdfu_rxlines_held(&r), 0);
    assert_int_equal(smpdfu_rxlines_peek(&r, NULL), 0);
    assert_int_equal(feed(&r, "d\n"), SMPDFU_RXLINES_LINE);
    expect_line(&r, "d\n");
    assert_int_equal(r.stats.lines, 3); /* stats survive a reset */
    assert_int_equal(r.stats.no_buffer, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_third_line_dropped),
        cmocka_unit_test(test_release_during_ignored_line),
        cmocka_unit_test(test_line_length),
        cmocka_unit_test(test_empty_line),
        cmocka_unit_test(test_fifo_order),
        cmocka_unit_test(test_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
