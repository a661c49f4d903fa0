/* smpdfu dfu FILE [--mode M] [--image1 NETCORE.bin|URL]: the whole update. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "smpdfu/dfu.h"
#include "smpdfu/posix_crypto.h"
#include "source.h"

static conn_t k;
static smpdfu_dfu_t dfu;

typedef struct {
    bool done;
    smpdfu_dfu_result_t res;
    const smpdfu_cli_t *cli;
} dfu_wait_t;

static void on_event(void *arg, const smpdfu_dfu_event_t *ev)
{
    dfu_wait_t *w = arg;
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
    long window = 0, quiet_ms = 0;
    double reboot_s = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "--mode") && v) {
            if (smpdfu_dfu_mode_parse(v, &mode)) {
                smpdfu_cli_error("--mode wants test-confirm, confirm-only, test-only or upload-only, not '%s'", v);
                return SMPDFU_EXIT_USAGE;
            }
            i++;
        } else if (!strcmp(a, "--image1") && v) {
            net = v;
            i++;
        } else if (!strcmp(a, "--window") && v) {
            window = strtol(v, &end, 10);
            if (*end || window < 0 || window > 255) {
                smpdfu_cli_error("--window wants a number from 0 to 255");
                return SMPDFU_EXIT_USAGE;
            }
            i++;
        } else if (!strcmp(a, "--quiet-ms") && v) {
            quiet_ms = strtol(v, &end, 10);
            if (*end || quiet_ms < 0 || quiet_ms > 60000) {
                smpdfu_cli_error("--quiet-ms wants milliseconds from 0 to 60000");
                return SMPDFU_EXIT_USAGE;
            }
            i++;
        } else if (!strcmp(a, "--reboot-timeout") && v) {
            reboot_s = strtod(v, &end);
            if (*end || reboot_s <= 0 || reboot_s > 3600) {
                smpdfu_cli_error("--reboot-timeout wants seconds");
                return SMPDFU_EXIT_USAGE;
            }
            i++;
        } else if (a[0] != '-' && !path) {
            path = a;
        } else {
            path = NULL;
            break;
        }
    }
    if (!path) {
        smpdfu_cli_error("usage: smpdfu dfu FILE|URL [--mode test-confirm|confirm-only|test-only|upload-only] "
                         "[--image1 NETCORE.bin|URL] [--window N]");
        return SMPDFU_EXIT_USAGE;
    }
    img_source_t f0, f1;
    img_source_init(&f1);
    if (img_source_open(&f0, cli, path) || (net && img_source_open(&f1, cli, net))) {
        img_source_close(&f0);
        img_source_close(&f1);
        return SMPDFU_EXIT_FAIL;
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
    cfg.images[cfg.nimages++].image = 0;
    cfg.mode = mode;
    cfg.hash = &h;
    cfg.window = (uint8_t)window;
    cfg.quiet_ms = (uint32_t)quiet_ms;
    cfg.reboot_timeout_ms = (uint32_t)(reboot_s * 1000);
    cfg.event = on_event;
    cfg.progress = on_progress;
    cfg.done = on_done;
    cfg.arg = &w;

    /* Check the files before opening the connection: a bad image is
     * refused with nothing sent. */
    for (size_t i = 0; i < cfg.nimages; i++) {
        static smpdfu_image_info_t info;
        uint8_t sha[32];
        int rc = smpdfu_dfu_check_image(&cfg.images[i].src, &h, &info, sha);
        if (rc) {
            char ctx[600];
            snprintf(ctx, sizeof(ctx), "%s is not an image to upload (nothing was sent)",
                     cfg.images[i].image ? net : path);
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
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        smpdfu_posix_hash_free(&hs);
        img_source_close(&f0);
        img_source_close(&f1);
        return ex;
    }
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
        ex = conn_fail(&k, what, rc, &w.res.dev);
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
    }
    conn_close(&k);
    return 0;
}
