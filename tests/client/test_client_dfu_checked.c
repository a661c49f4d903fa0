/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu_dfu_start() with images[i].checked: the image a caller already
 * checked (as `smpdfu dfu` does before it connects) is not read again at
 * start, it is still reported checked, and its result is the one the
 * orchestrator uses; without `checked` the start reads and checks it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helper_fakedev.h"
#include "smpdfu/dfu.h"
#include "smpdfu/image.h"
#include "smpdfu/posix_crypto.h"

#define PAYLOAD 700
#define IMG_LEN (SMPDFU_IMAGE_HDR_LEN + PAYLOAD + 4 + 4 + 32)

static uint8_t img[IMG_LEN];
static smpdfu_image_buf_t img_buf = {img, sizeof(img)};
static unsigned reads;
static unsigned checked_events;

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    put_le16(p, (uint16_t)v);
    put_le16(p + 2, (uint16_t)(v >> 16));
}

/* A minimal valid image: header, payload, one SHA-256 TLV. */
static void build_image(void)
{
    memset(img, 0, sizeof(img));
    put_le32(img, SMPDFU_IMAGE_MAGIC);
    put_le16(img + 8, SMPDFU_IMAGE_HDR_LEN);
    put_le32(img + 12, PAYLOAD);
    img[20] = 2;
    for (size_t i = 0; i < PAYLOAD; i++) {
        img[SMPDFU_IMAGE_HDR_LEN + i] = (uint8_t)(i * 7u + 3u);
    }
    uint8_t *tlv = img + SMPDFU_IMAGE_HDR_LEN + PAYLOAD;
    put_le16(tlv, SMPDFU_IMAGE_TLV_INFO_MAGIC);
    put_le16(tlv + 2, 4 + 4 + 32);
    put_le16(tlv + 4, SMPDFU_TLV_SHA256);
    put_le16(tlv + 6, 32);
    smpdfu_posix_digest(SMPDFU_HASH_SHA256, img, SMPDFU_IMAGE_HDR_LEN + PAYLOAD, tlv + 8);
}

static int counting_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    reads++;
    return smpdfu_image_buf_read(ctx, off, buf, len);
}

static void on_event(void *arg, const smpdfu_dfu_event_t *ev)
{
    (void)arg;
    if (ev->ev == SMPDFU_DFU_EV_CHECKED && ev->image == 0) {
        checked_events++;
    }
}

static void start(const smpdfu_dfu_checked_t *ck, int want_rc)
{
    static fake_dev_t dev;
    static fake_client_t fc;
    static smpdfu_dfu_t dfu;
    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&hs, &h);
    fake_init(&dev, SMPDFU_LINK_UDP, 2048, 4);
    assert_int_equal(fake_client_init(&fc, &dev, 3, 1000), 0);
    smpdfu_dfu_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.images[0].src.read = counting_read;
    cfg.images[0].src.ctx = &img_buf;
    cfg.images[0].src.size = sizeof(img);
    cfg.images[0].checked = ck;
    cfg.nimages = 1;
    cfg.hash = &h;
    cfg.event = on_event;
    reads = 0;
    checked_events = 0;
    assert_int_equal(smpdfu_dfu_start(&dfu, &fc.c, &cfg), want_rc);
    if (want_rc == 0) {
        smpdfu_dfu_abort(&dfu);
    }
    smpdfu_posix_hash_free(&hs);
}

static void test_checked_not_read_again(void **state)
{
    (void)state;
    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&hs, &h);
    smpdfu_dfu_checked_t ck;
    smpdfu_source_t src = {counting_read, &img_buf, sizeof(img)};
    reads = 0;
    assert_int_equal(smpdfu_dfu_check_image(&src, &h, &ck.info, ck.sha), 0);
    assert_true(reads > 0);
    smpdfu_posix_hash_free(&hs);

    start(&ck, 0);
    assert_int_equal(reads, 0);
    assert_int_equal(checked_events, 1);

    start(NULL, 0);
    assert_true(reads > 0);
    assert_int_equal(checked_events, 1);
}

/* Without `checked` a bad image is refused at start; with it, start takes
 * the caller's word and does not look. */
static void test_checked_taken_as_is(void **state)
{
    (void)state;
    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&hs, &h);
    smpdfu_dfu_checked_t ck;
    smpdfu_source_t src = {smpdfu_image_buf_read, &img_buf, sizeof(img)};
    assert_int_equal(smpdfu_dfu_check_image(&src, &h, &ck.info, ck.sha), 0);
    smpdfu_posix_hash_free(&hs);

    img[SMPDFU_IMAGE_HDR_LEN] ^= 1; /* the hash TLV no longer matches */
    start(NULL, SMPDFU_EIMG_HASH_MISMATCH);
    start(&ck, 0);
    assert_int_equal(reads, 0);
    img[SMPDFU_IMAGE_HDR_LEN] ^= 1;
}

int main(void)
{
    build_image();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checked_not_read_again),
        cmocka_unit_test(test_checked_taken_as_is),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
