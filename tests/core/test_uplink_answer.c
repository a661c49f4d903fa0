/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu_uplink_answer: the host's answer to each uplink request, checked
 * by decoding it as the gateway would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "smpdfu/uplink.h"

#define SIZE 1000u

static int reads;

static int img_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    const uint8_t *img = ctx;
    reads++;
    assert_true(off + len <= SIZE);
    if (off == 900) {
        return SMPDFU_EIO; /* the host's source fails here */
    }
    memcpy(buf, img + off, len);
    return 0;
}

static uint8_t img[SIZE];
static uint8_t out[SMPDFU_UPLINK_FRAME_LEN(SMPDFU_UPLINK_MAX_PAYLOAD)];
static uint8_t rx[SMPDFU_UPLINK_FRAME_LEN(SMPDFU_UPLINK_MAX_PAYLOAD)];
static uint8_t req[64];

/* Encode a request, answer it, decode the answer. */
static smpdfu_uplink_frame_t ask(const smpdfu_uplink_info_t *info, int reqlen,
                                 smpdfu_uplink_answer_t *a)
{
    smpdfu_uplink_dec_t d;
    smpdfu_uplink_frame_t f, g;
    size_t used = 0;
    assert_true(reqlen > 0);
    smpdfu_uplink_dec_init(&d, rx, sizeof(rx));
    assert_int_equal(smpdfu_uplink_dec_feed(&d, req, (size_t)reqlen, &used, &f), 1);
    int n = smpdfu_uplink_answer(&f, info, img_read, img, out, sizeof(out), a);
    assert_true(n > 0);
    static uint8_t rx2[sizeof(rx)];
    smpdfu_uplink_dec_init(&d, rx2, sizeof(rx2));
    used = 0;
    assert_int_equal(smpdfu_uplink_dec_feed(&d, out, (size_t)n, &used, &g), 1);
    assert_int_equal(used, (size_t)n);
    assert_int_equal(g.seq, f.seq);
    assert_int_equal(g.type, a->type);
    return g;
}

static void expect_err(const smpdfu_uplink_frame_t *g, uint16_t want)
{
    uint16_t code;
    assert_int_equal(g->type, SMPDFU_UPLINK_ERR);
    assert_int_equal(smpdfu_uplink_parse_err(g, &code, NULL, NULL), 0);
    assert_int_equal(code, want);
}

static void test_answers(void **state)
{
    (void)state;
    for (unsigned i = 0; i < SIZE; i++) {
        img[i] = (uint8_t)(i * 7);
    }
    smpdfu_uplink_info_t info = {SIZE, 256, true, {0}};
    memset(info.sha, 0xab, sizeof(info.sha));
    smpdfu_uplink_answer_t a;
    smpdfu_uplink_frame_t g;

    g = ask(&info, smpdfu_uplink_put_info_req(5, req, sizeof(req)), &a);
    assert_int_equal(a.type, SMPDFU_UPLINK_INFO_RSP);
    smpdfu_uplink_info_t back;
    assert_int_equal(smpdfu_uplink_parse_info(&g, &back), 0);
    assert_int_equal(back.size, SIZE);
    assert_int_equal(back.max_block, 256);
    assert_true(back.has_sha);
    assert_memory_equal(back.sha, info.sha, 32);

    /* a block: the bytes at the offset, no more than max_block */
    uint32_t off;
    const uint8_t *p;
    size_t n;
    g = ask(&info, smpdfu_uplink_put_read(6, 100, 1000, req, sizeof(req)), &a);
    assert_int_equal(a.type, SMPDFU_UPLINK_DATA);
    assert_int_equal(a.off, 100);
    assert_int_equal(a.len, 1000);
    assert_int_equal(a.n, 256);
    assert_int_equal(smpdfu_uplink_parse_data(&g, &off, &p, &n), 0);
    assert_int_equal(off, 100);
    assert_int_equal(n, 256);
    assert_memory_equal(p, img + 100, 256);
    /* not past the end of the image */
    g = ask(&info, smpdfu_uplink_put_read(7, 950, 200, req, sizeof(req)), &a);
    assert_int_equal(a.n, 50);
    assert_int_equal(smpdfu_uplink_parse_data(&g, &off, &p, &n), 0);
    assert_int_equal(n, 50);
    assert_memory_equal(p, img + 950, 50);
    /* max_block 0: the protocol's largest block */
    info.max_block = 0;
    g = ask(&info, smpdfu_uplink_put_read(8, 0, 2048, req, sizeof(req)), &a);
    assert_int_equal(a.n, SIZE);
    info.max_block = 256;

    /* outside the image, an empty read */
    reads = 0;
    g = ask(&info, smpdfu_uplink_put_read(9, SIZE, 10, req, sizeof(req)), &a);
    expect_err(&g, SMPDFU_UPLINK_ERR_RANGE);
    assert_int_equal(a.code, SMPDFU_UPLINK_ERR_RANGE);
    assert_int_equal(a.off, SIZE);
    g = ask(&info, smpdfu_uplink_put_read(10, 0, 0, req, sizeof(req)), &a);
    expect_err(&g, SMPDFU_UPLINK_ERR_RANGE);
    assert_int_equal(reads, 0); /* nothing read for a refused request */
    /* the source failing */
    g = ask(&info, smpdfu_uplink_put_read(11, 900, 10, req, sizeof(req)), &a);
    expect_err(&g, SMPDFU_UPLINK_ERR_SOURCE);
    assert_int_equal(a.code, SMPDFU_UPLINK_ERR_SOURCE);
    /* a READ with the wrong payload length, an answer type sent as a request */
    const uint8_t three[3] = {1, 2, 3};
    g = ask(&info, smpdfu_uplink_encode(SMPDFU_UPLINK_READ, 12, three, 3, req, sizeof(req)), &a);
    expect_err(&g, SMPDFU_UPLINK_ERR_BAD);
    g = ask(&info, smpdfu_uplink_encode(SMPDFU_UPLINK_DATA, 13, three, 3, req, sizeof(req)), &a);
    expect_err(&g, SMPDFU_UPLINK_ERR_BAD);
    assert_int_equal(a.code, SMPDFU_UPLINK_ERR_BAD);

    /* an out buffer too small for the block: refused, nothing written past it */
    smpdfu_uplink_dec_t d;
    smpdfu_uplink_frame_t f;
    size_t used = 0;
    smpdfu_uplink_dec_init(&d, rx, sizeof(rx));
    int rl = smpdfu_uplink_put_read(14, 0, 256, req, sizeof(req));
    assert_int_equal(smpdfu_uplink_dec_feed(&d, req, (size_t)rl, &used, &f), 1);
    assert_int_equal(smpdfu_uplink_answer(&f, &info, img_read, img, out, 100, NULL), SMPDFU_ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
