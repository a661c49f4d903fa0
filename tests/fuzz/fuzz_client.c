/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the client engine fed arbitrary device bytes while requests
 * (echo, params, state read, slot info, and an upload with a window of 3)
 * are in flight. Input: byte 0 picks the link (bits 0-1: UDP, console, raw
 * UART, BLE with ATT MTU 247 and bit 4 = device reassembly) and options;
 * then records of [len][bytes] are fed, each followed by a tick that moves
 * the clock by a few hundred ms so timeouts and retransmissions happen too.
 * Responses are parsed by every parser. Sequence numbers start at 0. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smpdfu/client.h"
#include "smpdfu/client_img.h"
#include "smpdfu/client_os.h"
#include "smpdfu/image.h"
#include "smpdfu/upload.h"

#include "client_harness.h"

static void parse_all(void *arg, const smpdfu_rsp_t *rsp)
{
    (void)arg;
    static smpdfu_img_state_t st;
    static smpdfu_img_slotinfo_t si;
    smpdfu_os_params_t p;
    smpdfu_os_bootloader_t b;
    const char *t;
    size_t n;
    char buf[256];
    if (rsp->status == SMPDFU_EDEVICE) {
        smpdfu_dev_err_format(&rsp->dev, buf, sizeof(buf));
    }
    if (rsp->status != 0) {
        return;
    }
    smpdfu_img_state_parse(rsp, &st);
    smpdfu_img_slot_info_parse(rsp, &si);
    smpdfu_os_params_parse(rsp, &p);
    smpdfu_os_bootloader_parse(rsp, &b);
    smpdfu_os_echo_parse(rsp, &t, &n);
    smpdfu_os_info_parse(rsp, &t, &n);
}

static void up_done(void *arg, const smpdfu_upload_result_t *r)
{
    (void)r;
    *(int *)arg += 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static smpdfu_client_t c;
    static uint8_t img[3000];
    static smpdfu_upload_t up;
    if (size < 1) {
        return 0;
    }
    if (harness_client_init(&c, data[0]) != 0) {
        return 0;
    }
    smpdfu_client_set_params(&c, 300, 3);
    smpdfu_os_params(&c, NULL, parse_all, NULL);
    smpdfu_img_state_read(&c, NULL, parse_all, NULL);
    smpdfu_os_echo(&c, "x", NULL, parse_all, NULL);
    smpdfu_img_slot_info(&c, NULL, parse_all, NULL);

    memset(img, 0xa5, sizeof(img));
    smpdfu_image_buf_t src = {img, sizeof(img)};
    uint8_t expect[32];
    memset(expect, 0x11, sizeof(expect));
    int done = 0;
    smpdfu_upload_cfg_t u;
    memset(&u, 0, sizeof(u));
    u.src.read = smpdfu_image_buf_read;
    u.src.ctx = &src;
    u.src.size = sizeof(img);
    u.sha = expect;
    u.sha_len = 32;
    u.expect_hash = (data[0] & 4) ? expect : NULL;
    u.window = 3;
    u.skip_params = (data[0] & 8) != 0;
    u.done = up_done;
    u.arg = &done;
    smpdfu_upload_start(&up, &c, &u);

    uint64_t now = harness_feed(&c, data, size);
    /* Drain: every request and the upload must end in bounded time. */
    for (int k = 0; k < 200 && (smpdfu_client_in_flight(&c) || smpdfu_upload_busy(&up)); k++) {
        now += 1000;
        smpdfu_client_tick(&c, now);
    }
    if (smpdfu_upload_busy(&up) || smpdfu_client_in_flight(&c) || done > 1) {
        __builtin_trap();
    }
    return 0;
}
