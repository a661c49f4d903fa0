/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu dfu --recovery FILE [--image1 NET]: update through MCUboot's serial
 * recovery (boot_serial). The application is asked to reset into its
 * bootloader (os reset boot_mode 1); MCUboot's own small SMP server then
 * takes the image straight into the primary slot (no swap, no test); a plain
 * reset boots it and the state read must show it running. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "recovery.h"
#include "smpdfu/client_img.h"
#include "smpdfu/client_os.h"
#include "smpdfu/dfu.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/posix_file.h"
#include "smpdfu/upload.h"

static conn_t k;

typedef struct {
    smpdfu_timer_t t;
    bool fired;
} quiet_t;

static void quiet_fire(void *arg)
{
    ((quiet_t *)arg)->fired = true;
}

static bool quiet_done(void *arg)
{
    return ((quiet_t *)arg)->fired;
}

/* Stay silent for ms (the device reboots), then ask for its params until it
 * answers or the deadline passes. 0, or SMPDFU_ETIMEOUT. */
static int wait_back(uint32_t quiet_ms, uint32_t deadline_ms, int *polls)
{
    quiet_t q = {0};
    smpdfu_client_timer_start(&k.c, &q.t, quiet_ms, quiet_fire, &q);
    int rc = conn_run(&k, quiet_done, &q);
    smpdfu_client_timer_stop(&k.c, &q.t);
    if (rc) {
        return rc;
    }
    smpdfu_client_reset_link(&k.c);
    uint64_t end = smpdfu_client_now(&k.c) + deadline_ms;
    do {
        smpdfu_req_opts_t o = conn_opts(&k);
        o.retries = 0;
        o.timeout_ms = SMPDFU_DEFAULT_POLL_TIMEOUT_MS;
        (*polls)++;
        k.got = false;
        rc = smpdfu_os_params(&k.c, &o, conn_on_rsp, &k);
        if (rc == 0) {
            rc = conn_wait_rsp(&k);
        }
        if (rc == 0 || rc == SMPDFU_EDEVICE) {
            return 0;
        }
        if (rc != SMPDFU_ETIMEOUT) {
            return rc;
        }
    } while (smpdfu_client_now(&k.c) < end);
    return SMPDFU_ETIMEOUT;
}

/* State read into s. 0 or the request's status (the words are printed). */
static int read_state(smpdfu_img_state_t *s)
{
    smpdfu_req_opts_t o = conn_opts(&k);
    k.got = false;
    int rc = smpdfu_img_state_read(&k.c, &o, conn_on_rsp, &k);
    if (rc == 0) {
        rc = conn_wait_rsp(&k);
    }
    if (rc == 0 && smpdfu_img_state_parse(&k.rsp, s) < 0) {
        rc = SMPDFU_EPROTO;
    }
    return rc;
}

static bool any_active(const smpdfu_img_state_t *s)
{
    for (size_t i = 0; i < s->count; i++) {
        if (s->slots[i].active) {
            return true;
        }
    }
    return false;
}

/* The primary slot of image holds hash? */
static bool primary_has(const smpdfu_img_state_t *s, uint32_t image, const uint8_t *hash)
{
    const smpdfu_img_slot_t *sl = smpdfu_img_state_slot(s, image, 0);
    return sl && sl->hash_len == 32 && !memcmp(sl->hash, hash, 32);
}

typedef struct {
    bool done;
    smpdfu_upload_result_t res;
} up_wait_t;

static void up_done(void *arg, const smpdfu_upload_result_t *res)
{
    up_wait_t *w = arg;
    w->done = true;
    w->res = *res;
}

static bool up_is_done(void *arg)
{
    return ((up_wait_t *)arg)->done;
}

static int cur_image; /* for the progress label */

static void up_progress(void *arg, uint32_t off, uint32_t size)
{
    (void)arg;
    char label[32];
    snprintf(label, sizeof(label), "image %d", cur_image);
    conn_progress(&k, label, off, size);
}

static void say(const smpdfu_cli_t *cli, const char *text)
{
    if (!cli->quiet && !cli->json) {
        conn_progress_end(&k);
        fprintf(stderr, "%s\n", text);
    }
}

static int fail(const char *msg)
{
    int ex = conn_fail_msg(&k, msg, SMPDFU_EPROTO, NULL);
    conn_close(&k);
    return ex;
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
    if (!quiet_ms) {
        quiet_ms = SMPDFU_DEFAULT_QUIET_MS;
    }
    if (!reboot_ms) {
        reboot_ms = SMPDFU_DEFAULT_REBOOT_TIMEOUT_MS;
    }
    static smpdfu_img_state_t st;
    int polls = 0, rc;
    char msg[600];
    /* 1. Where is the device? An application lists an active slot; MCUboot's
     * boot_serial (without image state support) lists none. */
    if ((rc = read_state(&st))) {
        ex = conn_fail(&k, "reading the image state", rc, &k.rsp.dev);
        conn_close(&k);
        return ex;
    }
    bool was_app = any_active(&st);
    if (was_app) {
        say(cli, "asking the application to reset into its bootloader (boot_mode 1)");
        smpdfu_req_opts_t o = conn_opts(&k);
        o.retries = 0; /* a second reset could hit the rebooted device */
        k.got = false;
        rc = smpdfu_os_reset_ex(&k.c, false, 1, &o, conn_on_rsp, &k);
        if (rc == 0) {
            rc = conn_wait_rsp(&k);
        }
        if (rc) {
            snprintf(msg, sizeof(msg), "the reset into the bootloader (boot_mode 1; the "
                     "application needs Zephyr >= 4.2 with CONFIG_MCUMGR_GRP_OS_RESET_BOOT_MODE)");
            ex = conn_fail(&k, msg, rc, &k.rsp.dev);
            conn_close(&k);
            return ex;
        }
        if ((rc = wait_back(quiet_ms, reboot_ms, &polls))) {
            snprintf(msg, sizeof(msg), "the device did not answer after the reset into its "
                     "bootloader (waited %u s, asked %d times)", reboot_ms / 1000, polls);
            return fail(msg);
        }
        if ((rc = read_state(&st))) {
            ex = conn_fail(&k, "reading the image state in the bootloader", rc, &k.rsp.dev);
            conn_close(&k);
            return ex;
        }
        if (any_active(&st)) {
            return fail("the device came back in its application, not in serial recovery: its "
                        "MCUboot lacks CONFIG_BOOT_SERIAL_BOOT_MODE (or serial recovery on this "
                        "port); nothing was sent");
        }
    } else {
        say(cli, "the device answers from its bootloader already (no active image listed)");
    }
    /* 2. MCUboot's buffer: params (512 by default), one request at a time. */
    {
        smpdfu_req_opts_t o = conn_opts(&k);
        k.got = false;
        rc = smpdfu_os_params(&k.c, &o, conn_on_rsp, &k);
        smpdfu_os_params_t p;
        if (rc == 0 && conn_wait_rsp(&k) == 0 && smpdfu_os_params_parse(&k.rsp, &p) == 0) {
            smpdfu_client_set_params(&k.c, p.buf_size, 1);
        } else {
            /* Older MCUboot has no params: its receive buffer is 512 bytes. */
            smpdfu_client_set_params(&k.c, 512, 1);
        }
    }
    /* 3. Upload: the network core (image 1) first, as MCUboot copies it over
     * when it boots; each straight into its primary slot. */
    uint32_t sent = 0;
    for (int i = n - 1; i >= 0; i--) {
        int image = i;
        char line[128];
        snprintf(line, sizeof(line), "image %d: uploading %u bytes into the primary slot", image,
                 f[i].size);
        say(cli, line);
        static smpdfu_upload_t up;
        smpdfu_upload_cfg_t cfg;
        memset(&cfg, 0, sizeof(cfg));
        cfg.src.read = smpdfu_posix_file_read;
        cfg.src.ctx = &f[i];
        cfg.src.size = f[i].size;
        cfg.image = (uint32_t)image;
        cfg.window = 1;          /* boot_serial handles one packet at a time */
        cfg.skip_params = true;  /* set above */
        cfg.timeout_ms = conn_timeout(&k);
        cfg.retries = conn_retries(&k);
        cur_image = image;
        cfg.progress = up_progress;
        up_wait_t w = {0};
        cfg.done = up_done;
        cfg.arg = &w;
        rc = smpdfu_upload_start(&up, &k.c, &cfg);
        if (rc == 0) {
            rc = conn_run(&k, up_is_done, &w);
        }
        if (rc == 0) {
            rc = w.res.status;
        }
        if (rc) {
            conn_progress_end(&k);
            const smpdfu_dev_err_t *d = &w.res.dev;
            if (rc == SMPDFU_EDEVICE && !d->group_err && image > 0 &&
                (d->rc == SMPDFU_MGMT_EINVAL || d->rc == SMPDFU_MGMT_ENOENT)) {
                /* boot_serial: image number = image count fails to open its
                 * area (rc 3), above it is rc 5. */
                snprintf(msg, sizeof(msg), "image %d: the bootloader has no such image (MCUboot "
                         "answered rc %d: it was built for fewer images; CONFIG_UPDATEABLE_IMAGE_NUMBER)",
                         image, (int)d->rc);
                return fail(msg);
            }
            if (rc == SMPDFU_EDEVICE && !d->group_err && d->rc == SMPDFU_MGMT_EINVAL &&
                image == 0) {
                snprintf(msg, sizeof(msg), "image 0: the bootloader refused the upload (rc 3): "
                         "%s (%u bytes) does not fit its primary slot", path, f[0].size);
                return fail(msg);
            }
            snprintf(msg, sizeof(msg), "the upload of image %d through serial recovery", image);
            ex = conn_fail(&k, msg, rc, d);
            conn_close(&k);
            return ex;
        }
        sent += f[i].size;
    }
    conn_progress_end(&k);
    /* 4. Before leaving recovery: the bootloader must list what we sent
     * (it lists only slots whose image validates). */
    if ((rc = read_state(&st))) {
        ex = conn_fail(&k, "reading the image state after the upload", rc, &k.rsp.dev);
        conn_close(&k);
        return ex;
    }
    for (int i = 0; i < n; i++) {
        if (!primary_has(&st, (uint32_t)i, info[i].hash)) {
            snprintf(msg, sizeof(msg), "image %d: after the upload the bootloader does not list "
                     "%s in the primary slot (the written image does not validate); the device "
                     "stays in serial recovery: run the command again", i, paths[i]);
            return fail(msg);
        }
    }
    /* 5. A plain reset boots the new image. */
    say(cli, "resetting into the new image");
    {
        smpdfu_req_opts_t o = conn_opts(&k);
        o.retries = 0;
        k.got = false;
        rc = smpdfu_os_reset_ex(&k.c, false, -1, &o, conn_on_rsp, &k);
        if (rc == 0) {
            rc = conn_wait_rsp(&k);
        }
        if (rc) {
            ex = conn_fail(&k, "the reset out of serial recovery", rc, &k.rsp.dev);
            conn_close(&k);
            return ex;
        }
    }
    polls = 0;
    if ((rc = wait_back(quiet_ms, reboot_ms, &polls))) {
        snprintf(msg, sizeof(msg), "the device did not answer after leaving serial recovery "
                 "(waited %u s, asked %d times): the new image may not start", reboot_ms / 1000, polls);
        return fail(msg);
    }
    if ((rc = read_state(&st))) {
        ex = conn_fail(&k, "reading the image state of the new image", rc, &k.rsp.dev);
        conn_close(&k);
        return ex;
    }
    const smpdfu_img_slot_t *act = smpdfu_img_state_active(&st, 0);
    if (!act || act->hash_len != 32 || memcmp(act->hash, info[0].hash, 32)) {
        return fail(any_active(&st) ? "after the reset another image runs, not the one sent"
                                    : "after the reset the device still answers from its "
                                      "bootloader: the new image did not start");
    }
    if (n == 2 && !primary_has(&st, 1, info[1].hash)) {
        return fail("after the reset the network core (image 1) does not list the image sent");
    }
    char ver[32];
    smpdfu_image_version_str(&info[0].hdr.version, ver, sizeof(ver));
    uint64_t ms = smpdfu_posix_now_ms() - t0;
    if (cli->json) {
        printf("{\"status\": \"ok\", \"recovery\": true, \"entered_by_reset\": %s, \"images\": %d, "
               "\"bytes\": %u, \"running\": \"%s\", \"elapsed_ms\": %llu}\n",
               was_app ? "true" : "false", n, sent, ver, (unsigned long long)ms);
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
