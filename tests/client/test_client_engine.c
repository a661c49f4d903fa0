/* SPDX-License-Identifier: Apache-2.0 */
/* Client engine against a scripted in-process device: sequence matching,
 * timeouts and retransmission, v1/v2 errors, odd CBOR shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helper_fakedev.h"
#include "smpdfu/client.h"
#include "smpdfu/client_img.h"
#include "smpdfu/client_os.h"

static fake_dev_t dev;
static fake_client_t fc;

typedef struct {
    int calls;
    int status;
    smpdfu_dev_err_t dev;
    char text[64];
    uint8_t seq;
    uint64_t at;
} result_t;

static void on_echo(void *arg, const smpdfu_rsp_t *rsp)
{
    result_t *r = arg;
    r->calls++;
    r->status = rsp->status;
    r->dev = rsp->dev;
    r->seq = rsp->hdr.seq;
    r->at = smpdfu_client_now(&fc.c);
    const char *t;
    size_t n;
    if (rsp->status == 0 && smpdfu_os_echo_parse(rsp, &t, &n) == 0 && n < sizeof(r->text)) {
        memcpy(r->text, t, n);
        r->text[n] = 0;
    }
}

static bool done1(void *arg)
{
    return ((result_t *)arg)->calls > 0;
}

static void setup_dev(smpdfu_link_kind_t kind, int retries, uint32_t timeout)
{
    fake_init(&dev, kind, 384, 4);
    assert_int_equal(fake_client_init(&fc, &dev, retries, timeout), 0);
}

static void test_echo_udp_and_serial(void **state)
{
    (void)state;
    smpdfu_link_kind_t kinds[] = {SMPDFU_LINK_UDP, SMPDFU_LINK_SERIAL, SMPDFU_LINK_RAW_UART};
    for (size_t k = 0; k < 3; k++) {
        setup_dev(kinds[k], 0, 1000);
        dev.indefinite = k == 1;
        result_t r = {0};
        assert_int_equal(smpdfu_os_echo(&fc.c, "hello", NULL, on_echo, &r), 0);
        assert_int_equal(smpdfu_client_in_flight(&fc.c), 1);
        assert_true(fake_run(&dev, &fc.c, done1, &r, 5000));
        assert_int_equal(r.status, 0);
        assert_string_equal(r.text, "hello");
        assert_int_equal(r.calls, 1);
        assert_int_equal(smpdfu_client_in_flight(&fc.c), 0);
    }
}

/* Two requests in flight; the device answers in reverse order. */
static bool reverse_hook(fake_dev_t *d, const smpdfu_smp_hdr_t *h, const uint8_t *body,
                         size_t body_len, uint8_t *rsp, size_t *rsp_len)
{
    (void)body;
    (void)body_len;
    (void)rsp;
    (void)rsp_len;
    d->last_seq[d->nreq - 1] = h->seq;
    if (d->nreq == 2) {
        uint8_t pkt[64];
        /* answer #2 first, then #1, each echoing its own text */
        static const uint8_t b2[] = {0xa1, 0x61, 'r', 0x63, 't', 'w', 'o'};
        static const uint8_t b1[] = {0xbf, 0x61, 'r', 0x63, 'o', 'n', 'e', 0xff};
        size_t n = fake_packet(pkt, 1, 3, 0, d->last_seq[1], 0, b2, sizeof(b2));
        fake_queue_packet(d, pkt, n);
        n = fake_packet(pkt, 1, 3, 0, d->last_seq[0], 0, b1, sizeof(b1));
        fake_queue_packet(d, pkt, n);
    }
    d->drop_rsp[d->nreq - 1] = d->nrsp + 1; /* the built-in answer is not sent */
    return true;
}

static bool done2(void *arg)
{
    result_t *r = arg;
    return r[0].calls && r[1].calls;
}

/* Two echo requests in flight at once, answered into r[0] and r[1]. */
static void start_two_echoes(result_t r[2], const char *a, const char *b)
{
    memset(r, 0, 2 * sizeof(r[0]));
    assert_int_equal(smpdfu_os_echo(&fc.c, a, NULL, on_echo, &r[0]), 0);
    assert_int_equal(smpdfu_os_echo(&fc.c, b, NULL, on_echo, &r[1]), 0);
}

static void test_out_of_order_matching(void **state)
{
    (void)state;
    setup_dev(SMPDFU_LINK_UDP, 0, 1000);
    dev.hook = reverse_hook;
    result_t r[2];
    start_two_echoes(r, "one", "two");
    assert_int_equal(smpdfu_client_in_flight(&fc.c), 2);
    assert_true(fake_run(&dev, &fc.c, done2, r, 5000));
    assert_string_equal(r[0].text, "one");
    assert_string_equal(r[1].text, "two");
    assert_int_not_equal(r[0].seq, r[1].seq);
}

/* A response with the right seq but another command does not match. */
static bool wrong_cmd_hook(fake_dev_t *d, const smpdfu_smp_hdr_t *h, const uint8_t *body,
                           size_t body_len, uint8_t *rsp, size_t *rsp_len)
{
    (void)body;
    (void)body_len;
    (void)rsp;
    (void)rsp_len;
    uint8_t pkt[16];
    static const uint8_t b[] = {0xa0};
    size_t n = fake_packet(pkt, 1, 3, h->group, h->seq, 7, b, 1); /* id 7, not echo */
    fake_queue_packet(d, pkt, n);
    n = fake_packet(pkt, 1, 3, 1, h->seq, h->id, b, 1); /* group 1 */
    fake_queue_packet(d, pkt, n);
    n = fake_packet(pkt, 1, 1, h->group, h->seq, h->id, b, 1); /* read rsp to a write */
    fake_queue_packet(d, pkt, n);
    d->drop_rsp[0] = d->nrsp + 1;
    return true;
}

static void test_mismatch_ignored_then_timeout(void **state)
{
    (void)state;
    setup_dev(SMPDFU_LINK_UDP, 0, 700);
    dev.hook = wrong_cmd_hook;
    result_t r = {0};
    uint64_t t0 = smpdfu_client_now(&fc.c);
    assert_int_equal(smpdfu_os_echo(&fc.c, "x", NULL, on_echo, &r), 0);
    assert_true(fake_run(&dev, &fc.c, done1, &r, 5000));
    assert_int_equal(r.status, SMPDFU_ETIMEOUT);
    assert_int_equal(r.at - t0, 700);
    assert_int_equal(smpdfu_client_stats(&fc.c)->unmatched, 3);
    assert_int_equal(smpdfu_client_stats(&fc.c)->timeouts, 1);
}

/* Silence: retransmit with the same seq, then succeed. */
static void test_retransmit_same_seq(void **state)
{
    (void)state;
    setup_dev(SMPDFU_LINK_SERIAL, 3, 500);
    dev.drop_req[0] = 1;
    dev.drop_req[1] = 2;
    dev.hook = NULL;
    result_t r = {0};
    uint64_t t0 = smpdfu_client_now(&fc.c);
    assert_int_equal(smpdfu_os_echo(&fc.c, "again", NULL, on_echo, &r), 0);
    assert_true(fake_run(&dev, &fc.c, done1, &r, 10000));
    assert_int_equal(r.status, 0);
    assert_string_equal(r.text, "again");
    assert_int_equal(dev.nreq, 3);
    assert_int_equal(smpdfu_client_stats(&fc.c)->retransmits, 2);
    assert_int_equal(r.at - t0, 1000); /* answered right after the 2nd retransmission */
}

/* Lost response: the retransmission is answered twice in the end; the
 * late duplicate is ignored and the callback runs once. */
static bool slow_hook(fake_dev_t *d, const smpdfu_smp_hdr_t *h, const uint8_t *body,
                      size_t body_len, uint8_t *rsp, size_t *rsp_len)
{
    (void)d;
    (void)h;
    (void)body;
    (void)body_len;
    static const uint8_t b[] = {0xa1, 0x61, 'r', 0x61, 'z'};
    memcpy(rsp, b, sizeof(b));
    *rsp_len = sizeof(b);
    return true;
}

static void test_all_retries_exhausted(void **state)
{
    (void)state;
    setup_dev(SMPDFU_LINK_UDP, 2, 300);
    for (int i = 0; i < 3; i++) {
        dev.drop_req[i] = (uint32_t)i + 1;
    }
    result_t r = {0};
    uint64_t t0 = smpdfu_client_now(&fc.c);
    assert_int_equal(smpdfu_os_echo(&fc.c, "gone", NULL, on_echo, &r), 0);
    assert_true(fake_run(&dev, &fc.c, done1, &r, 10000));
    assert_int_equal(r.status, SMPDFU_ETIMEOUT);
    assert_int_equal(r.at - t0, 900); /* (retries + 1) * timeout */
    assert_int_equal(dev.nreq, 3);
}

static void test_duplicate_answer_once(void **state)
{
    (void)state;
    setup_dev(SMPDFU_LINK_UDP, 3, 300);
    dev.hook = slow_hook;
    dev.drop_rsp[0] = 1; /* first answer lost: retransmission answered */
    result_t r = {0};
    assert_int_equal(smpdfu_os_echo(&fc.c, "z", NULL, on_echo, &r), 0);
    assert_true(fake_run(&dev, &fc.c, done1, &r, 10000));
    assert_int_equal(r.status, 0);
    /* A copy of the answer arriving now matches nothing. */
    uint8_t pkt[32];
    static const uint8_t b[] = {0xa0};
    size_t n = fake_packet(pkt, 1, 3, 0, r.seq, 0, b, 1);
    fake_queue_packet(&dev, pkt, n);
    result_t never = {0};
    fake_run(&dev, &fc.c, done1, &never, 10);
    assert_int_equal(r.calls, 1);
    assert_int_equal(smpdfu_client_stats(&fc.c)->unmatched, 1);
}

/* Error shapes. */
static const uint8_t *g_body;
static size_t g_body_len;

static bool body_hook(fake_dev_t *d, const smpdfu_smp_hdr_t *h, const uint8_t *body,
                      size_t body_len, uint8_t *rsp, size_t *rsp_len)
{
    (void)d;
    (void)h;
    (void)body;
    (void)body_len;
    memcpy(rsp, g_body, g_body_len);
    *rsp_len = g_body_len;
    return true;
}

static result_t run_body(const uint8_t *b, size_t n, bool v1)
{
    setup_dev(SMPDFU_LINK_UDP, 0, 500);
    dev.hook = body_hook;
    g_body = b;
    g_body_len = n;
    fc.c.cfg.smp_v1 = v1;
    result_t r = {0};
    assert_int_equal(smpdfu_img_state_write(&fc.c, (const uint8_t *)"01234567890123456789012345678901",
                                            32, false, NULL, on_echo, &r),
                     0);
    assert_true(fake_run(&dev, &fc.c, done1, &r, 2000));
    return r;
}

static void test_error_shapes(void **state)
{
    (void)state;
    /* v2 group error {"err": {"group": 1, "rc": 28}} */
    static const uint8_t v2[] = {0xa1, 0x63, 'e', 'r', 'r', 0xa2, 0x65, 'g', 'r', 'o', 'u', 'p',
                                 0x01, 0x62, 'r', 'c', 0x18, 28};
    result_t r = run_body(v2, sizeof(v2), false);
    assert_int_equal(r.status, SMPDFU_EDEVICE);
    assert_true(r.dev.group_err);
    assert_int_equal(r.dev.group, 1);
    assert_int_equal(r.dev.rc, 28);
    assert_int_equal(r.dev.version, 1);
    char buf[200];
    assert_true(smpdfu_dev_err_format(&r.dev, buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "already pending"));
    assert_non_null(strstr(buf, "28"));

    /* v1 {"rc": 6, "rsn": "busy"} in a v1 header */
    static const uint8_t v1[] = {0xa2, 0x62, 'r', 'c', 0x06, 0x63, 'r', 's', 'n', 0x64, 'b', 'u', 's', 'y'};
    r = run_body(v1, sizeof(v1), true);
    assert_int_equal(r.status, SMPDFU_EDEVICE);
    assert_false(r.dev.group_err);
    assert_int_equal(r.dev.group, 1); /* the request's group */
    assert_int_equal(r.dev.rc, 6);
    assert_int_equal(r.dev.version, 0);

    /* Indefinite map, err map with rc 0 and legacy "rc": 0 = success */
    static const uint8_t ok[] = {0xbf, 0x62, 'r', 'c', 0x00, 0x63, 'e', 'r', 'r', 0xbf, 0x65, 'g',
                                 'r', 'o', 'u', 'p', 0x01, 0x62, 'r', 'c', 0x00, 0xff, 0xff};
    r = run_body(ok, sizeof(ok), false);
    assert_int_equal(r.status, 0);

    /* Empty map: success */
    static const uint8_t empty[] = {0xa0};
    r = run_body(empty, 1, false);
    assert_int_equal(r.status, 0);

    /* Not a map / rc of the wrong type / truncated: protocol error */
    static const uint8_t arr[] = {0x80};
    assert_int_equal(run_body(arr, 1, false).status, SMPDFU_EPROTO);
    static const uint8_t rcstr[] = {0xa1, 0x62, 'r', 'c', 0x61, 'x'};
    assert_int_equal(run_body(rcstr, sizeof(rcstr), false).status, SMPDFU_EPROTO);
    static const uint8_t trunc[] = {0xa2, 0x62, 'r', 'c'};
    assert_int_equal(run_body(trunc, sizeof(trunc), false).status, SMPDFU_EPROTO);
    /* Negative rc (not Zephyr, but a device may) */
    static const uint8_t neg[] = {0xa1, 0x62, 'r', 'c', 0x20};
    r = run_body(neg, sizeof(neg), false);
    assert_int_equal(r.status, SMPDFU_EDEVICE);
    assert_int_equal(r.dev.rc, -1);
}

/* Two SMP packets in one datagram both get delivered. */
static bool two_in_one_hook(fake_dev_t *d, const smpdfu_smp_hdr_t *h, const uint8_t *body,
                            size_t body_len, uint8_t *rsp, size_t *rsp_len)
{
    (void)body;
    (void)body_len;
    (void)rsp;
    (void)rsp_len;
    d->last_seq[d->nreq - 1] = h->seq;
    d->drop_rsp[d->nreq - 1] = d->nrsp + 1;
    if (d->nreq == 2) {
        uint8_t pkt[64];
        static const uint8_t b1[] = {0xa1, 0x61, 'r', 0x61, 'a'};
        static const uint8_t b2[] = {0xa1, 0x61, 'r', 0x61, 'b'};
        size_t n = fake_packet(pkt, 1, 3, 0, d->last_seq[0], 0, b1, sizeof(b1));
        n += fake_packet(pkt + n, 1, 3, 0, d->last_seq[1], 0, b2, sizeof(b2));
        fake_queue_packet(d, pkt, n);
    }
    return true;
}

static void test_two_packets_one_datagram(void **state)
{
    (void)state;
    setup_dev(SMPDFU_LINK_UDP, 0, 500);
    dev.hook = two_in_one_hook;
    result_t r[2];
    start_two_echoes(r, "a", "b");
    assert_true(fake_run(&dev, &fc.c, done2, r, 2000));
    assert_string_equal(r[0].text, "a");
    assert_string_equal(r[1].text, "b");
}

static void test_slots_and_oversize(void **state)
{
    (void)state;
    setup_dev(SMPDFU_LINK_UDP, 0, 500);
    result_t r[11];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < 10; i++) {
        assert_int_equal(smpdfu_os_echo(&fc.c, "s", NULL, on_echo, &r[i]), 0);
    }
    assert_int_equal(smpdfu_os_echo(&fc.c, "s", NULL, on_echo, &r[10]), SMPDFU_EBUSY);
    smpdfu_client_cancel_all(&fc.c);
    assert_int_equal(smpdfu_client_free_slots(&fc.c), 10);
    /* Larger than the device's buf_size (384 over UDP): refused locally. */
    smpdfu_client_set_params(&fc.c, 100, 2);
    char big[200];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(smpdfu_os_echo(&fc.c, big, NULL, on_echo, &r[0]), SMPDFU_EOVERSIZE);
    assert_int_equal(smpdfu_client_free_slots(&fc.c), 10);
    assert_int_equal(smpdfu_client_max_packet(&fc.c), 100);
}

static int closed_send(void *ctx, const uint8_t *d, size_t n)
{
    (void)ctx;
    (void)d;
    (void)n;
    return SMPDFU_ECLOSED;
}

static void test_closed_link(void **state)
{
    (void)state;
    setup_dev(SMPDFU_LINK_UDP, 0, 500);
    fc.c.cfg.send = closed_send;
    result_t r = {0};
    assert_int_equal(smpdfu_os_echo(&fc.c, "s", NULL, on_echo, &r), SMPDFU_ECLOSED);
    assert_int_equal(r.calls, 0);
    assert_int_equal(smpdfu_client_free_slots(&fc.c), 10);
}

static void test_state_parse(void **state)
{
    (void)state;
    for (int indef = 0; indef < 2; indef++) {
        setup_dev(SMPDFU_LINK_UDP, 0, 500);
        dev.indefinite = indef;
        dev.complete = true;
        memset(dev.state_hash, 0xab, 32);
        static smpdfu_img_state_t st;
        result_t r = {0};
        assert_int_equal(smpdfu_img_state_read(&fc.c, NULL, on_echo, &r), 0);
        assert_true(fake_run(&dev, &fc.c, done1, &r, 2000));
        assert_int_equal(r.status, 0);
        /* parse again from the raw body the fake builds */
        uint8_t body[512];
        size_t n = fake_state_body_for_test(&dev, body, sizeof(body));
        assert_int_equal(smpdfu_img_state_parse_buf(body, n, &st), 0);
        assert_int_equal(st.count, 2);
        assert_true(st.slots[0].active && st.slots[0].confirmed);
        assert_string_equal(st.slots[1].version, "2.0.0");
        assert_int_equal(st.slots[1].slot, 1);
        assert_ptr_equal(smpdfu_img_state_find(&st, 0, dev.state_hash), &st.slots[1]);
        assert_ptr_equal(smpdfu_img_state_active(&st, 0), &st.slots[0]);
        assert_null(smpdfu_img_state_find(&st, 1, dev.state_hash));
        assert_true(st.has_split_status);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_udp_and_serial),
        cmocka_unit_test(test_out_of_order_matching),
        cmocka_unit_test(test_mismatch_ignored_then_timeout),
        cmocka_unit_test(test_retransmit_same_seq),
        cmocka_unit_test(test_all_retries_exhausted),
        cmocka_unit_test(test_duplicate_answer_once),
        cmocka_unit_test(test_error_shapes),
        cmocka_unit_test(test_two_packets_one_datagram),
        cmocka_unit_test(test_slots_and_oversize),
        cmocka_unit_test(test_closed_link),
        cmocka_unit_test(test_state_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
