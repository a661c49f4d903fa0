/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu_recovery_start() (recovery.h) against the in-process servers on a
 * virtual clock: the application (server + os/img groups) and MCUboot's
 * boot_serial over the same RAM flash. A reset answered by the application
 * with boot_mode 1 brings up boot_serial; boot_serial's reset brings the
 * application back over what was written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helper_server.h"
#include "smpdfu/recovery.h"
#include "smpdfu/server_groups.h"

static h_dev_t dev;
static smpdfu_bootserial_t bs;
static uint8_t bs_rsp[1024];
static bool in_boot;        /* boot_serial answers, not the application */
static bool honour_mode;    /* the application's reset with boot_mode 1 enters recovery */
static bool bs_reset;

/* client */
static smpdfu_client_t c;
static smpdfu_req_t reqs[4];
static uint8_t req_mem[4 * 2048];
static uint8_t rx[4096], tx[4096];
static uint8_t pend[4][2048];
static size_t pend_len[4];
static size_t npend;
static uint64_t now;
static uint8_t bs_out[2][1024];
static size_t bs_out_len[2];
static int bs_n;

static int client_send(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    assert_true(npend < 4 && n <= sizeof(pend[0]));
    memcpy(pend[npend], p, n);
    pend_len[npend++] = n;
    return 0;
}

static int bs_capture(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    assert_true(bs_n < 2 && n <= sizeof(bs_out[0]));
    memcpy(bs_out[bs_n], p, n);
    bs_out_len[bs_n++] = n;
    return 0;
}

static void bs_on_reset(void *ctx)
{
    (void)ctx;
    bs_reset = true;
}

static int boot_entries;

static int reset_hook(void *ctx, bool force, int boot_mode)
{
    (void)ctx;
    (void)force;
    (void)boot_mode;
    return 0;
}

/* The application, restarted over the flash; it reads reset's boot_mode
 * (Zephyr's reset hook with CONFIG_MCUMGR_GRP_OS_RESET_BOOT_MODE). */
static void restart_app(void)
{
    h_dev_restart(&dev);
    dev.os.reset_boot_mode = true;
    dev.os.reset_hook = reset_hook;
}

static void enter_boot(void)
{
    boot_entries++;
    smpdfu_bootserial_init(&bs, &dev.boot, bs_rsp, sizeof(bs_rsp), dev.work, sizeof(dev.work));
    bs.on_reset = bs_on_reset;
    in_boot = true;
}

/* One request to whichever program runs; its answers to the client. */
static void deliver(const uint8_t *pkt, size_t len)
{
    if (in_boot) {
        bs_n = 0;
        bs_reset = false;
        smpdfu_bootserial_process(&bs, pkt, len, bs_capture, NULL);
        for (int i = 0; i < bs_n; i++) {
            smpdfu_client_feed(&c, bs_out[i], bs_out_len[i]);
        }
        if (bs_reset) {
            in_boot = false;
            restart_app();
        }
        return;
    }
    int resets = dev.resets;
    h_packet(&dev, pkt, len);
    for (int i = 0; i < dev.nout; i++) {
        smpdfu_client_feed(&c, dev.out[i], dev.out_len[i]);
    }
    if (dev.resets != resets) {
        if (honour_mode && dev.os.last_boot_mode == 1) {
            enter_boot();
        } else {
            restart_app();
        }
    }
}

static bool done;
static smpdfu_recovery_result_t result;
static smpdfu_recovery_ev_t evs[8];
static int nevs;

static void on_done(void *arg, const smpdfu_recovery_result_t *res)
{
    (void)arg;
    done = true;
    result = *res;
}

static void on_event(void *arg, const smpdfu_recovery_event_t *ev)
{
    (void)arg;
    if (nevs < 8) {
        evs[nevs++] = ev->ev;
    }
}

static void run(void)
{
    for (int guard = 0; !done && guard < 100000; guard++) {
        if (npend) {
            uint8_t pkt[2048];
            size_t n = pend_len[0];
            memcpy(pkt, pend[0], n);
            npend--;
            memmove(pend[0], pend[1], sizeof(pend[0]) * npend);
            memmove(pend_len, pend_len + 1, sizeof(pend_len[0]) * npend);
            deliver(pkt, n);
            smpdfu_client_tick(&c, now);
            continue;
        }
        uint32_t t = smpdfu_client_next_timeout(&c);
        if (t == UINT32_MAX) {
            break;
        }
        now += t ? t : 1;
        smpdfu_client_tick(&c, now);
    }
    assert_true(done);
}

static uint8_t img_a[12000], img_b[12000];
static size_t len_a, len_b;
static uint8_t hash_a[32], hash_b[32];

static int setup(void **state)
{
    (void)state;
    h_dev_init(&dev, 1, SMPDFU_BOOT_SWAP_MOVE, 384);
    len_a = h_make_image(img_a, sizeof(img_a), 1, 0, 7000, 3, hash_a, NULL);
    len_b = h_make_image(img_b, sizeof(img_b), 2, 0, 9000, 5, hash_b, NULL);
    h_program(&dev, 0, img_a, len_a);
    restart_app();
    boot_entries = 0;
    in_boot = false;
    honour_mode = true;
    npend = 0;
    now = 0;
    done = false;
    nevs = 0;
    memset(&result, 0, sizeof(result));
    smpdfu_client_cfg_t cc;
    memset(&cc, 0, sizeof(cc));
    cc.link.kind = SMPDFU_LINK_UDP;
    cc.link.mtu = 2048;
    cc.send = client_send;
    cc.reqs = reqs;
    cc.nreqs = 4;
    cc.req_mem = req_mem;
    cc.req_mem_len = sizeof(req_mem);
    cc.rx_buf = rx;
    cc.rx_cap = sizeof(rx);
    cc.tx_buf = tx;
    cc.tx_cap = sizeof(tx);
    cc.timeout_ms = 1000;
    cc.retries = 2;
    assert_int_equal(smpdfu_client_init(&c, &cc), 0);
    smpdfu_client_tick(&c, now);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_dev_free(&dev);
    return 0;
}

static void start(size_t nimages)
{
    static smpdfu_recovery_t r;
    static smpdfu_image_buf_t buf_b, buf_a;
    buf_b.data = img_b;
    buf_b.len = len_b;
    buf_a.data = img_a;
    buf_a.len = len_a;
    smpdfu_recovery_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.images[0].src = (smpdfu_source_t){smpdfu_image_buf_read, &buf_b, (uint32_t)len_b};
    memcpy(cfg.images[0].hash, hash_b, 32);
    cfg.images[1].src = (smpdfu_source_t){smpdfu_image_buf_read, &buf_a, (uint32_t)len_a};
    memcpy(cfg.images[1].hash, hash_a, 32);
    cfg.nimages = nimages;
    cfg.retries = -1;
    cfg.quiet_ms = 200;
    cfg.reboot_timeout_ms = 5000;
    cfg.event = on_event;
    cfg.done = on_done;
    assert_int_equal(smpdfu_recovery_start(&r, &c, &cfg), 0);
    run();
    assert_false(smpdfu_recovery_busy(&r));
}

/* Application A -> boot_mode 1 -> boot_serial takes B -> reset -> B runs. */
static void test_recovery_from_application(void **state)
{
    (void)state;
    start(1);
    assert_int_equal(result.status, 0);
    assert_int_equal(result.fail, SMPDFU_REC_F_NONE);
    assert_true(result.entered_by_reset);
    assert_int_equal(result.bytes, len_b);
    assert_int_equal(boot_entries, 1);
    assert_false(in_boot);
    assert_int_equal(nevs, 3);
    assert_int_equal(evs[0], SMPDFU_REC_EV_RESET_BOOT);
    assert_int_equal(evs[1], SMPDFU_REC_EV_UPLOAD_START);
    assert_int_equal(evs[2], SMPDFU_REC_EV_RESET_OUT);
    /* the primary slot holds B byte for byte */
    uint8_t back[12000];
    assert_int_equal(smpdfu_flash_area_read(dev.boot.flash, &dev.boot.slot[0], 0, back, len_b), 0);
    assert_memory_equal(back, img_b, len_b);
}

/* Already in boot_serial: no reset into it; image 1 on a one-image
 * bootloader is refused and named. */
static void test_no_such_image(void **state)
{
    (void)state;
    enter_boot();
    start(2);
    assert_false(result.entered_by_reset);
    assert_int_equal(evs[0], SMPDFU_REC_EV_IN_BOOTLOADER);
    assert_int_equal(result.status, SMPDFU_EDEVICE);
    assert_int_equal(result.fail, SMPDFU_REC_F_NO_SUCH_IMAGE);
    assert_int_equal(result.image, 1);
}

/* An application that ignores boot_mode comes back as itself: nothing sent. */
static void test_came_back_in_application(void **state)
{
    (void)state;
    honour_mode = false;
    start(1);
    assert_int_equal(result.status, SMPDFU_EPROTO);
    assert_int_equal(result.fail, SMPDFU_REC_F_STILL_APP);
    assert_int_equal(result.bytes, 0);
    assert_int_equal(boot_entries, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recovery_from_application, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_such_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_came_back_in_application, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
