/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the DFU orchestrator (with its upload, resets, polls and timers)
 * driven by arbitrary device bytes. Input: byte 0 picks the link (bits 0-1:
 * UDP, console, raw UART, BLE at ATT MTU 247) and the mode (bits 2-3); then
 * records of [len][bytes] are fed, each followed by a tick that moves the
 * clock. Invariant: whatever the device says, the DFU ends, its done callback
 * runs exactly once, and no request is left in flight. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smpdfu/client.h"
#include "smpdfu/dfu.h"
#include "smpdfu/image.h"
#include "smpdfu/posix_crypto.h"

#include "client_harness.h"

#define PAYLOAD 700
#define IMG_LEN (SMPDFU_IMAGE_HDR_LEN + PAYLOAD + 4 + 4 + 32)

static uint8_t img[IMG_LEN];
static smpdfu_image_buf_t img_src = {img, sizeof(img)};

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

/* A minimal valid image: header, payload, one SHA-256 TLV (protocol.md §6). */
static void build_image(void)
{
    memset(img, 0, sizeof(img));
    put_le32(img, SMPDFU_IMAGE_MAGIC);
    put_le16(img + 8, SMPDFU_IMAGE_HDR_LEN);
    put_le32(img + 12, PAYLOAD);
    img[20] = 2; /* version 2.0.0 */
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

static int done_calls;

static void on_done(void *arg, const smpdfu_dfu_result_t *res)
{
    (void)arg;
    (void)res;
    done_calls++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static smpdfu_client_t c;
    static smpdfu_dfu_t dfu;
    static smpdfu_posix_hash_state_t hs;
    static smpdfu_hash_t hash;
    static bool ready;
    if (!ready) {
        build_image();
        smpdfu_posix_hash_init(&hs, &hash);
        ready = true;
    }
    if (size < 1) {
        return 0;
    }
    if (harness_client_init(&c, (uint8_t)(data[0] | 16)) != 0) {
        return 0;
    }

    smpdfu_dfu_cfg_t d;
    memset(&d, 0, sizeof(d));
    d.images[0].src.read = smpdfu_image_buf_read;
    d.images[0].src.ctx = &img_src;
    d.images[0].src.size = sizeof(img);
    d.nimages = 1;
    d.mode = (smpdfu_dfu_mode_t)((data[0] >> 2) & 3);
    d.hash = &hash;
    d.timeout_ms = 500;
    d.retries = 1;
    d.first_timeout_ms = 1000;
    d.quiet_ms = 100;
    d.reboot_timeout_ms = 5000;
    d.done = on_done;
    done_calls = 0;
    if (smpdfu_dfu_start(&dfu, &c, &d) != 0) {
        __builtin_trap(); /* the image is valid: starting must work */
    }

    uint64_t now = harness_feed(&c, data, size);
    /* Drain: with every answer gone, all timeouts (the reboot wait is the
     * longest, 5 s here) run out well within this. */
    for (int k = 0; k < 400 && (smpdfu_dfu_busy(&dfu) || smpdfu_client_in_flight(&c)); k++) {
        now += 1000;
        smpdfu_client_tick(&c, now);
    }
    if (smpdfu_dfu_busy(&dfu) || smpdfu_client_in_flight(&c) || done_calls != 1) {
        __builtin_trap();
    }
    return 0;
}
