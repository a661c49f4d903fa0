/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu dfu --recovery FILE [--image1 NET]: update through MCUboot's serial
 * recovery (boot_serial). The flow (reset into the bootloader, upload into
 * the primary slots, reset, check) is smpdfu_recovery_start (recovery.h in
 * the library); this file checks the files, drives it and prints. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "recovery.h"
#include "smpdfu/dfu.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/posix_file.h"
#include "smpdfu/recovery.h"

static conn_t k;

typedef struct {
    const smpdfu_cli_t *cli;
    bool done;
    smpdfu_recovery_result_t res;
} rec_wait_t;

static void say(const smpdfu_cli_t *cli, const char *text)
{
    if (!cli->quiet && !cli->json) {
        conn_progress_end(&k);
        fprintf(stderr, "%s\n", text);
    }
}

static void on_event(void *arg, const smpdfu_recovery_event_t *ev)
{
    const rec_wait_t *w = arg;
    char line[128];
    switch (ev->ev) {
    case SMPDFU_REC_EV_RESET_BOOT:
        say(w->cli, "asking the application to reset into its bootloader (boot_mode 1)");
        break;
    case SMPDFU_REC_EV_IN_BOOTLOADER:
        say(w->cli, "the device answers from its bootloader already (no active image listed)");
        break;
    case SMPDFU_REC_EV_UPLOAD_START:
        snprintf(line, sizeof(line), "image %d: uploading %u bytes into the primary slot",
                 ev->image, ev->value);
        say(w->cli, line);
        break;
    case SMPDFU_REC_EV_RESET_OUT:
        say(w->cli, "resetting into the new image");
        break;
    }
}

static void on_progress(void *arg, int image, uint32_t off, uint32_t size)
{
    (void)arg;
    char label[32];
    snprintf(label, sizeof(label), "image %d", image);
    conn_progress(&k, label, off, size);
}

static void on_done(void *arg, const smpdfu_recovery_result_t *res)
{
    rec_wait_t *w = arg;
    w->done = true;
    w->res = *res;
}

static bool rec_is_done(void *arg)
{
    return ((rec_wait_t *)arg)->done;
}

static int fail(const char *msg)
{
    int ex = conn_fail_msg(&k, msg, SMPDFU_EPROTO, NULL);
    conn_close(&k);
    return ex;
}

/* A refused or unanswered request: conn_fail's words (with the device's
 * reason, which conn_fail reads from k.rsp). */
static int fail_req(const char *what, const smpdfu_recovery_result_t *res)
{
    k.rsp.status = res->status;
    k.rsp.rsn = NULL;
    if (res->status == SMPDFU_EDEVICE && res->rsn[0]) {
        snprintf(k.rsn, sizeof(k.rsn), "%s", res->rsn);
        k.rsp.rsn = k.rsn;
        k.rsp.rsn_len = strlen(k.rsn);
    }
    int ex = conn_fail(&k, what, res->status, &res->dev);
    conn_close(&k);
    return ex;
}

/* The failure's sentence and exit status. */
static int report(const smpdfu_recovery_result_t *res, const char *const *paths,
                  const smpdfu_posix_file_t *f, uint32_t reboot_ms)
{
    char msg[600];
    int image = res->image;
    switch (res->fail) {
    case SMPDFU_REC_F_STATE:
        return fail_req("reading the image state", res);
    case SMPDFU_REC_F_RESET_BOOT:
        return fail_req("the reset into the bootloader (boot_mode 1; the application needs "
                        "Zephyr >= 4.2 with CONFIG_MCUMGR_GRP_OS_RESET_BOOT_MODE)", res);
    case SMPDFU_REC_F_BACK_BOOT:
        snprintf(msg, sizeof(msg), "the device did not answer after the reset into its "
                 "bootloader (waited %u s, asked %d times)", reboot_ms / 1000, (int)res->polls);
        return fail(msg);
    case SMPDFU_REC_F_STATE_BOOT:
        return fail_req("reading the image state in the bootloader", res);
    case SMPDFU_REC_F_STILL_APP:
        return fail("the device came back in its application, not in serial recovery: its "
                    "MCUboot lacks CONFIG_BOOT_SERIAL_BOOT_MODE (or serial recovery on this "
                    "port); nothing was sent");
    case SMPDFU_REC_F_NO_SUCH_IMAGE:
        snprintf(msg, sizeof(msg), "image %d: the bootloader has no such image (MCUboot "
                 "answered rc %d: it was built for fewer images; CONFIG_UPDATEABLE_IMAGE_NUMBER)",
                 image, (int)res->dev.rc);
        return fail(msg);
    case SMPDFU_REC_F_TOO_BIG:
        snprintf(msg, sizeof(msg), "image 0: the bootloader refused the upload (rc 3): "
                 "%s (%u bytes) does not fit its primary slot", paths[0], f[0].size);
        return fail(msg);
    case SMPDFU_REC_F_UPLOAD: {
        snprintf(msg, sizeof(msg), "the upload of image %d through serial recovery", image);
        int ex = conn_fail(&k, msg, res->status, &res->dev);
        conn_close(&k);
        return ex;
    }
    case SMPDFU_REC_F_STATE_AFTER:
        return fail_req("reading the image state after the upload", res);
    case SMPDFU_REC_F_NOT_LISTED:
        snprintf(msg, sizeof(msg), "image %d: after the upload the bootloader does not list "
                 "%s in the primary slot (the written image does not validate); the device "
                 "stays in serial recovery: run the command again", image, paths[image]);
        return fail(msg);
    case SMPDFU_REC_F_RESET_OUT:
        return fail_req("the reset out of serial recovery", res);
    case SMPDFU_REC_F_BACK_OUT:
        snprintf(msg, sizeof(msg), "the device did not answer after leaving serial recovery "
                 "(waited %u s, asked %d times): the new image may not start", reboot_ms / 1000,
                 (int)res->polls);
        return fail(msg);
    case SMPDFU_REC_F_STATE_NEW:
        return fail_req("reading the image state of the new image", res);
    case SMPDFU_REC_F_OTHER_RUNS:
        return fail("after the reset another image runs, not the one sent");
    case SMPDFU_REC_F_STILL_BOOTLOADER:
        return fail("after the reset the device still answers from its bootloader: the new "
                    "image did not start");
    case SMPDFU_REC_F_NET_NOT_LISTED:
        return fail("after the reset the network core (image 1) does not list the image sent");
    case SMPDFU_REC_F_NONE:
        break;
    }
    return fail_req("serial recovery", res);
}

int smpdfu_dfu_recovery(const smpdfu_cli_t *cli, const char *path, const char *net,
                        uint32_t quiet_ms, uint32_t reboot_ms)
{
    static smpdfu_posix_file_t f[2];
    static smpdfu_image_info_t info[2];
    const char *paths[2] = {path, net};
    int n = net ? 2 : 1;
    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&hs, &h);
    /* Check both files first: nothing is sent for a bad one. */
    for (int i = 0; i < n; i++) {
        int rc = smpdfu_posix_file_open(&f[i], paths[i]);
        uint8_t sha[32];
        if (rc == 0) {
            smpdfu_source_t src = {smpdfu_posix_file_read, &f[i], f[i].size};
            rc = smpdfu_dfu_check_image(&src, &h, &info[i], sha);
        }
        if (rc == 0 && info[i].hash_len != 32) {
            rc = SMPDFU_ENOTSUP;
        }
        if (rc) {
            char ctx[600];
            snprintf(ctx, sizeof(ctx), "%s is not an image to send through serial recovery "
                     "(nothing was sent)", paths[i]);
            smpdfu_posix_hash_free(&hs);
            for (int j = 0; j <= i; j++) {
                smpdfu_posix_file_close(&f[j]);
            }
            return smpdfu_cli_fail(ctx, rc);
        }
    }
    smpdfu_posix_hash_free(&hs);
    uint64_t t0 = smpdfu_posix_now_ms();
    int ex = conn_open(&k, cli);
    if (ex) {
        smpdfu_posix_file_close(&f[0]);
        smpdfu_posix_file_close(&f[1]);
        return ex;
    }
    if (!reboot_ms) {
        reboot_ms = SMPDFU_DEFAULT_REBOOT_TIMEOUT_MS; /* for the message; the library's default */
    }
    static smpdfu_recovery_t rec;
    smpdfu_recovery_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    for (int i = 0; i < n; i++) {
        cfg.images[i].src.read = smpdfu_posix_file_read;
        cfg.images[i].src.ctx = &f[i];
        cfg.images[i].src.size = f[i].size;
        memcpy(cfg.images[i].hash, info[i].hash, 32);
    }
    cfg.nimages = (size_t)n;
    cfg.timeout_ms = conn_timeout(&k);
    cfg.retries = conn_retries(&k);
    cfg.quiet_ms = quiet_ms;
    cfg.reboot_timeout_ms = reboot_ms;
    cfg.event = on_event;
    cfg.progress = on_progress;
    cfg.done = on_done;
    rec_wait_t w = {cli, false, {0}};
    cfg.arg = &w;
    int rc = smpdfu_recovery_start(&rec, &k.c, &cfg);
    if (rc) {
        ex = conn_fail(&k, "reading the image state", rc, NULL);
        conn_close(&k);
        return ex;
    }
    rc = conn_run(&k, rec_is_done, &w);
    conn_progress_end(&k);
    if (rc) {
        smpdfu_recovery_abort(&rec);
        ex = conn_fail(&k, "serial recovery", rc, NULL);
        conn_close(&k);
        return ex;
    }
    if (w.res.status) {
        return report(&w.res, paths, f, reboot_ms);
    }
    char ver[32];
    smpdfu_image_version_str(&info[0].hdr.version, ver, sizeof(ver));
    uint64_t ms = smpdfu_posix_now_ms() - t0;
    uint32_t sent = w.res.bytes;
    if (cli->json) {
        printf("{\"status\": \"ok\", \"recovery\": true, \"entered_by_reset\": %s, \"images\": %d, "
               "\"bytes\": %u, \"running\": \"%s\", \"elapsed_ms\": %llu}\n",
               w.res.entered_by_reset ? "true" : "false", n, sent, ver, (unsigned long long)ms);
    } else {
        char rate[32];
        conn_rate(rate, sizeof(rate), sent, ms);
        printf("recovery update done in %.1f s: %u bytes (%s overall), version %s runs\n",
               ms / 1000.0, sent, rate, ver);
    }
    smpdfu_posix_file_close(&f[0]);
    smpdfu_posix_file_close(&f[1]);
    conn_close(&k);
    return 0;
}
