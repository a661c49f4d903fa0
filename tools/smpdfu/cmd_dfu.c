/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu dfu FILE [--mode M] [--image1 NETCORE.bin|URL]: the whole update. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "recovery.h"
#include "smpdfu/dfu.h"
#include "smpdfu/posix_args.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_crypto.h"
#include "source.h"

static conn_t k;
static smpdfu_dfu_t dfu;

typedef struct {
    bool done;
    smpdfu_dfu_result_t res;
    const smpdfu_cli_t *cli;
    unsigned back; /* the device answered after a reset */
} dfu_wait_t;

static void on_event(void *arg, const smpdfu_dfu_event_t *ev)
{
    dfu_wait_t *w = arg;
    if (ev->ev == SMPDFU_DFU_EV_BACK) {
        w->back++;
    }
    /* An event ends a stretch of upload progress (counted for the summary). */
    conn_progress_end(&k);
    if (w->cli->quiet || w->cli->json || ev->ev == SMPDFU_DFU_EV_FAILED) {
        return;
    }
    if (ev->ev == SMPDFU_DFU_EV_POLL && !w->cli->verbose && ev->value > 1) {
        return; /* one "asking" line is enough */
    }
    conn_progress_end(&k);
    if (ev->image >= 0) {
        fprintf(stderr, "image %d: %s", ev->image, ev->text);
    } else {
        fprintf(stderr, "%s", ev->text);
    }
    if (ev->ev == SMPDFU_DFU_EV_UPLOAD_RESUMED) {
        fprintf(stderr, " (from byte %u)", ev->value);
    }
    fputc('\n', stderr);
}

static void on_progress(void *arg, int image, uint32_t off, uint32_t size)
{
    (void)arg;
    char label[32];
    snprintf(label, sizeof(label), "image %d", image);
    conn_progress(&k, label, off, size);
}

static void on_upload_note(void *arg, int image, const smpdfu_upload_note_t *n)
{
    (void)arg;
    char label[32];
    snprintf(label, sizeof(label), "image %d upload", image);
    conn_upload_note(&k, label, n);
}

static void on_done(void *arg, const smpdfu_dfu_result_t *res)
{
    dfu_wait_t *w = arg;
    w->done = true;
    w->res = *res;
}

static bool is_done(void *arg)
{
    return ((dfu_wait_t *)arg)->done;
}

int smpdfu_cmd_dfu(const smpdfu_cli_t *cli, int argc, char **argv)
{
    const char *path = NULL, *net = NULL;
    smpdfu_dfu_mode_t mode = SMPDFU_DFU_TEST_CONFIRM;
    bool force = false, recovery = false;
    long window = 0, quiet_ms = 0;
    uint32_t reboot_ms = 0;
    long long size = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--mode") && v) {
            if (smpdfu_dfu_mode_parse(v, &mode)) {
                smpdfu_cli_error("--mode wants test-confirm, confirm-only, test-only or upload-only, not '%s'", v);
                return SMPDFU_EXIT_USAGE;
            }
            i++;
        } else if (!strcmp(a, "--force")) {
            force = true;
        } else if (!strcmp(a, "--recovery")) {
            recovery = true;
        } else if (!strcmp(a, "--size") && v) {
            long sz;
            if (smpdfu_cli_uint_arg("--size", v, 32, 0x7fffffffL, &sz)) {
                return SMPDFU_EXIT_USAGE;
            }
            size = sz;
            i++;
        } else if (!strcmp(a, "--image1") && v) {
            net = v;
            i++;
        } else if (!strcmp(a, "--window") && v) {
            if (smpdfu_cli_uint_arg("--window", v, 0, SMPDFU_UPLOAD_MAX_WINDOW, &window)) {
                return SMPDFU_EXIT_USAGE;
            }
            i++;
        } else if (!strcmp(a, "--quiet-ms") && v) {
            if (smpdfu_cli_uint_arg("--quiet-ms", v, 0, 60000, &quiet_ms)) {
                return SMPDFU_EXIT_USAGE;
            }
            i++;
        } else if (!strcmp(a, "--reboot-timeout") && v) {
            if (smpdfu_posix_arg_seconds_ms(v, 0.001, 3600, &reboot_ms)) {
                smpdfu_cli_error("--reboot-timeout wants seconds from 0.001 to 3600, not '%s'", v);
                return SMPDFU_EXIT_USAGE;
            }
            i++;
        } else if ((a[0] != '-' || !strcmp(a, "-")) && !path) {
            path = a;
        } else {
            path = NULL;
            break;
        }
    }
    if (!path) {
        smpdfu_cli_error("usage: smpdfu dfu FILE|URL|- [--size BYTES] [--mode test-confirm|confirm-only|test-only|"
                         "upload-only] [--image1 NETCORE.bin|URL] [--window N] [--force]");
        return SMPDFU_EXIT_USAGE;
    }
    if (recovery) {
        if (!strcmp(path, "-") || strstr(path, "://") || size >= 0 || window || force ||
            mode != SMPDFU_DFU_TEST_CONFIRM) {
            smpdfu_cli_error("--recovery takes a FILE (and --image1 FILE, --quiet-ms, "
                             "--reboot-timeout): MCUboot writes it straight into the primary slot, "
                             "one request at a time, with no test step");
            return SMPDFU_EXIT_USAGE;
        }
        return smpdfu_dfu_recovery(cli, path, net, (uint32_t)quiet_ms, reboot_ms);
    }
    img_source_t f0, f1;
    img_source_init(&f1);
    /* The network core image (small) is opened whole: it is checked up
     * front. The application image streams when it is a URL or `-`. */
    if (net && img_source_open(&f1, cli, net)) {
        return SMPDFU_EXIT_FAIL;
    }
    int oex = img_source_open_stream(&f0, cli, path, size);
    if (oex) {
        img_source_close(&f1);
        return oex;
    }
    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&hs, &h);
    dfu_wait_t w = {.cli = cli};
    smpdfu_dfu_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    if (net) {
        /* nRF5340: the network core (image 1) goes first. */
        cfg.images[cfg.nimages].src = f1.src;
        cfg.images[cfg.nimages++].image = 1;
    }
    cfg.images[cfg.nimages].src = f0.src;
    cfg.images[cfg.nimages].stream = f0.streamed ? &f0.ps.stream : NULL;
    cfg.images[cfg.nimages++].image = 0;
    cfg.mode = mode;
    cfg.hash = &h;
    cfg.window = (uint8_t)window;
    cfg.quiet_ms = (uint32_t)quiet_ms;
    cfg.reboot_timeout_ms = reboot_ms;
    cfg.force = force;
    cfg.event = on_event;
    cfg.progress = on_progress;
    cfg.done = on_done;
    cfg.arg = &w;

    /* Check the files before opening the connection: a bad image is
     * refused with nothing sent. smpdfu_dfu_start() takes the result
     * (images[i].checked) instead of checking them again. */
    static smpdfu_dfu_checked_t checked[SMPDFU_DFU_MAX_IMAGES];
    for (size_t i = 0; i < cfg.nimages; i++) {
        smpdfu_image_info_t *info = &checked[i].info;
        uint8_t *sha = checked[i].sha;
        if (cfg.images[i].stream) {
            continue; /* checked while it streams */
        }
        const char *name = cfg.images[i].image ? net : path;
        int rc = smpdfu_dfu_check_image(&cfg.images[i].src, &h, info, sha);
        if (rc == SMPDFU_EIMG_PADDED || rc == SMPDFU_EIMG_TRAILING) {
            char why[600];
            smpdfu_cli_padded_reason(why, sizeof(why), rc, cfg.images[i].src.size, info->end);
            if (force) {
                smpdfu_cli_error("warning: sending %s as it is (--force): %s", name, why);
                rc = smpdfu_dfu_check_image_opt(&cfg.images[i].src, &h, info, sha, true);
            } else {
                smpdfu_cli_error("%s is not an image to upload (nothing was sent): %s; --force "
                                 "sends the file as it is",
                                 name, why);
                smpdfu_posix_hash_free(&hs);
                img_source_close(&f0);
                img_source_close(&f1);
                if (cli->json) {
                    printf("{\"error\": ");
                    smpdfu_cli_json_str(stdout, why);
                    printf(", \"code\": \"%s\"}\n", smpdfu_err_name(rc));
                }
                return SMPDFU_EXIT_FAIL;
            }
        }
        if (rc) {
            char ctx[600];
            snprintf(ctx, sizeof(ctx), "%s is not an image to upload (nothing was sent)", name);
            smpdfu_posix_hash_free(&hs);
            img_source_close(&f0);
            img_source_close(&f1);
            int ex = smpdfu_cli_fail(ctx, rc);
            if (cli->json) {
                printf("{\"error\": ");
                smpdfu_cli_json_str(stdout, smpdfu_strerror(rc));
                printf(", \"code\": \"%s\"}\n", smpdfu_err_name(rc));
            }
            return ex;
        }
        cfg.images[i].checked = &checked[i];
    }
    uint64_t t0 = smpdfu_posix_now_ms();
    int ex = conn_open(&k, cli);
    if (!ex && (ex = conn_check_target(&k, net ? 1 : 0, &window, force))) {
        conn_close(&k);
    }
    if (ex) {
        smpdfu_posix_hash_free(&hs);
        img_source_close(&f0);
        img_source_close(&f1);
        return ex;
    }
    cfg.window = (uint8_t)window; /* as conn_check_target left it */
    cfg.timeout_ms = conn_timeout(&k);
    cfg.retries = conn_retries(&k);
    cfg.silence_ms = conn_silence_ms(&k);
    cfg.packet_size = conn_packet_size(&k);
    cfg.pace_us = conn_pace_us(&k);
    cfg.upload_note = on_upload_note;
    int rc = smpdfu_dfu_start(&dfu, &k.c, &cfg);
    if (rc == 0) {
        rc = conn_run(&k, is_done, &w);
    }
    if (rc || w.res.status) {
        img_source_explain(&f0);
    }
    smpdfu_posix_hash_free(&hs);
    img_source_close(&f0);
    img_source_close(&f1);
    if (rc == 0) {
        rc = w.res.status;
    }
    for (size_t i = 0; w.done && i < cfg.nimages; i++) {
        if (w.res.upload[i].size) {
            char label[32];
            snprintf(label, sizeof(label), "image %u upload", cfg.images[i].image);
            conn_upload_summary(&k, label, &w.res.upload[i]);
        }
    }
    if (rc) {
        char what[64];
        if (w.res.failed_image >= 0) {
            snprintf(what, sizeof(what), "the update of image %d", w.res.failed_image);
        } else {
            snprintf(what, sizeof(what), "the update");
        }
        if (rc == SMPDFU_ETIMEOUT && w.res.reset_done && w.back == 0) {
            /* Silence after the reset is a reboot that did not end, not a
             * wrong port: the device answered before it. */
            char msg[400];
            snprintf(msg, sizeof(msg),
                     "%s: the device did not answer again after the reset (waited %.0f s, "
                     "--reboot-timeout): it may still be swapping images, or it halted in the "
                     "bootloader; ask it with `smpdfu image list` later",
                     what, (reboot_ms ? reboot_ms : SMPDFU_DEFAULT_REBOOT_TIMEOUT_MS) / 1000.0);
            ex = conn_fail_msg(&k, msg, rc, &w.res.dev);
        } else {
            ex = conn_fail(&k, what, rc, &w.res.dev);
        }
        conn_close(&k);
        return ex;
    }
    conn_progress_end(&k);
    if (cli->json) {
        printf("{\"status\": \"ok\", \"mode\": \"%s\", \"reset\": %s, \"images\": [",
               smpdfu_dfu_mode_name(mode), w.res.reset_done ? "true" : "false");
        for (size_t i = 0; i < cfg.nimages; i++) {
            const smpdfu_upload_result_t *u = &w.res.upload[i];
            printf("%s{\"image\": %u, \"uploaded\": %s, \"resumed\": %s, \"resume_off\": %u", i ? ", " : "",
                   cfg.images[i].image, w.res.uploaded[i] ? "true" : "false",
                   u->resumed ? "true" : "false", u->resume_off);
            if (w.res.uploaded[i]) {
                printf(", ");
                conn_upload_json(u);
            }
            printf("}");
        }
        printf("]}\n");
    } else {
        char rate[32];
        conn_rate(rate, sizeof(rate), k.sum_bytes, k.sum_ms);
        printf("update done in %.1f s: %llu bytes uploaded at %s, %u retransmissions\n",
               (smpdfu_posix_now_ms() - t0) / 1000.0, (unsigned long long)k.sum_bytes, rate,
               k.c.stats.retransmits);
    }
    conn_close(&k);
    return 0;
}
