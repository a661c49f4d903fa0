/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu image list|upload|test|confirm|erase|slots (device commands;
 * `image info` on a file lives in cmd_image.c). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "smpdfu/client_img.h"
#include "smpdfu/dfu.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_crypto.h"
#include "source.h"
#include "smpdfu/upload.h"

static conn_t k;

static void print_state(const smpdfu_cli_t *cli, const smpdfu_img_state_t *st)
{
    if (cli->json) {
        printf("{\"images\": [");
        for (size_t i = 0; i < st->count; i++) {
            const smpdfu_img_slot_t *s = &st->slots[i];
            printf("%s{\"image\": %u, \"slot\": %u, \"version\": ", i ? ", " : "", s->image, s->slot);
            smpdfu_cli_json_str(stdout, s->version);
            printf(", \"hash\": \"");
            smpdfu_cli_hex(stdout, s->hash, s->hash_len);
            printf("\", \"bootable\": %s, \"pending\": %s, \"confirmed\": %s, \"active\": %s, "
                   "\"permanent\": %s}",
                   s->bootable ? "true" : "false", s->pending ? "true" : "false",
                   s->confirmed ? "true" : "false", s->active ? "true" : "false",
                   s->permanent ? "true" : "false");
        }
        printf("]}\n");
        return;
    }
    printf("Images:\n");
    for (size_t i = 0; i < st->count; i++) {
        const smpdfu_img_slot_t *s = &st->slots[i];
        printf(" image=%u slot=%u\n", s->image, s->slot);
        printf("    version: %s\n", s->version);
        printf("    bootable: %s\n", s->bootable ? "true" : "false");
        printf("    flags:%s%s%s%s\n", s->active ? " active" : "", s->confirmed ? " confirmed" : "",
               s->pending ? " pending" : "", s->permanent ? " permanent" : "");
        printf("    hash: ");
        smpdfu_cli_hex(stdout, s->hash, s->hash_len);
        printf("\n");
    }
    if (st->count == 0) {
        printf(" (no image in any slot)\n");
    }
    printf("Split status: N/A (%lld)\n", (long long)st->split_status);
}

static int parse_hash(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64) {
        return -1;
    }
    /* Hex digits only: sscanf's %2x would also take " f", "-1" or "0x". */
    for (int i = 0; i < 64; i++) {
        if (!isxdigit((unsigned char)s[i])) {
            return -1;
        }
    }
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) {
            return -1;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

static int state_cmd(const smpdfu_cli_t *cli, const char *what, const uint8_t *hash, bool confirm,
                     bool write)
{
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    int rc = write ? smpdfu_img_state_write(&k.c, hash, hash ? 32 : 0, confirm, &o, conn_on_rsp, &k)
                   : smpdfu_img_state_read(&k.c, &o, conn_on_rsp, &k);
    if ((ex = conn_finish(&k, what, rc))) {
        return ex;
    }
    static smpdfu_img_state_t st;
    if (smpdfu_img_state_parse(&k.rsp, &st)) {
        smpdfu_cli_error("%s: the device's image list is malformed", what);
        conn_close(&k);
        return SMPDFU_EXIT_FAIL;
    }
    print_state(cli, &st);
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_image_list(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        smpdfu_cli_error("usage: smpdfu image list");
        return SMPDFU_EXIT_USAGE;
    }
    return state_cmd(cli, "reading the image list", NULL, false, false);
}

int smpdfu_cmd_image_test(const smpdfu_cli_t *cli, int argc, char **argv)
{
    uint8_t h[32];
    if (argc != 2 || parse_hash(argv[1], h)) {
        smpdfu_cli_error("usage: smpdfu image test HASH (64 hex digits, as `image list` shows)");
        return SMPDFU_EXIT_USAGE;
    }
    return state_cmd(cli, "the test", h, false, true);
}

int smpdfu_cmd_image_confirm(const smpdfu_cli_t *cli, int argc, char **argv)
{
    uint8_t h[32];
    if (argc > 2 || (argc == 2 && parse_hash(argv[1], h))) {
        smpdfu_cli_error("usage: smpdfu image confirm [HASH] (no hash: the running image)");
        return SMPDFU_EXIT_USAGE;
    }
    return state_cmd(cli, "the confirm", argc == 2 ? h : NULL, true, true);
}

int smpdfu_cmd_image_erase(const smpdfu_cli_t *cli, int argc, char **argv)
{
    long slot = -1;
    if (argc > 2) {
        smpdfu_cli_error("usage: smpdfu image erase [SLOT]");
        return SMPDFU_EXIT_USAGE;
    }
    if (argc == 2 && smpdfu_cli_uint_arg("image erase: SLOT (absolute slot number)", argv[1], 0,
                                         255, &slot)) {
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if (o.timeout_ms < SMPDFU_DEFAULT_ERASE_TIMEOUT_MS && cli->timeout_ms == 0) {
        o.timeout_ms = SMPDFU_DEFAULT_ERASE_TIMEOUT_MS; /* erasing takes seconds on real flash */
        o.retries = 1;
    }
    if ((ex = conn_finish(&k, "the erase",
                          smpdfu_img_erase(&k.c, (int32_t)slot, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    printf(cli->json ? "{\"erased\": true}\n" : "erased\n");
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_image_slots(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        smpdfu_cli_error("usage: smpdfu image slots");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if ((ex = conn_finish(&k, "reading the slot info",
                          smpdfu_img_slot_info(&k.c, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    static smpdfu_img_slotinfo_t si;
    if (smpdfu_img_slot_info_parse(&k.rsp, &si)) {
        smpdfu_cli_error("slot info: the device's answer is malformed");
        conn_close(&k);
        return SMPDFU_EXIT_FAIL;
    }
    if (cli->json) {
        printf("{\"images\": [");
    }
    for (size_t i = 0; i < si.count; i++) {
        const smpdfu_img_slotinfo_image_t *im = &si.images[i];
        if (cli->json) {
            printf("%s{\"image\": %u, \"slots\": [", i ? ", " : "", im->image);
        } else {
            printf("image %u%s", im->image, im->has_max_image_size ? "" : "\n");
            if (im->has_max_image_size) {
                printf(" (largest image %u bytes)\n", im->max_image_size);
            }
        }
        for (size_t s = 0; s < im->nslots; s++) {
            const smpdfu_img_slotinfo_slot_t *sl = &im->slots[s];
            if (cli->json) {
                printf("%s{\"slot\": %u, \"size\": %u", s ? ", " : "", sl->slot, sl->size);
                if (sl->has_upload_image_id) {
                    printf(", \"upload_image_id\": %u", sl->upload_image_id);
                }
                printf("}");
            } else {
                printf("  slot %u: %u bytes%s", sl->slot, sl->size,
                       sl->has_upload_image_id ? " (upload target" : "");
                if (sl->has_upload_image_id) {
                    printf(", image id %u)", sl->upload_image_id);
                }
                printf("\n");
            }
        }
        if (cli->json) {
            printf("]");
            if (im->has_max_image_size) {
                printf(", \"max_image_size\": %u", im->max_image_size);
            }
            printf("}");
        }
    }
    if (cli->json) {
        printf("]}\n");
    }
    conn_close(&k);
    return 0;
}

/* ----------------------------------------------------------------- upload */

typedef struct {
    bool done;
    smpdfu_upload_result_t res;
    uint64_t t_start, t_end; /* ms: upload started (params read included) / finished */
} up_wait_t;

static void up_progress(void *arg, uint32_t off, uint32_t size)
{
    (void)arg;
    conn_progress(&k, "upload", off, size);
}

static void up_done(void *arg, const smpdfu_upload_result_t *res)
{
    up_wait_t *w = arg;
    w->done = true;
    w->t_end = smpdfu_posix_now_ms();
    w->res = *res;
}

static void up_note(void *arg, const smpdfu_upload_note_t *n)
{
    (void)arg;
    conn_upload_note(&k, "upload", n);
}

static bool up_is_done(void *arg)
{
    return ((up_wait_t *)arg)->done;
}

int smpdfu_cmd_image_upload(const smpdfu_cli_t *cli, int argc, char **argv)
{
    const char *path = NULL;
    long image = 0, window = 0;
    long long size = -1;
    bool upgrade = false, force = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            long v;
            if (smpdfu_cli_uint_arg("--size", argv[++i], 32, 0x7fffffffL, &v)) {
                return SMPDFU_EXIT_USAGE;
            }
            size = v;
        } else if (!strcmp(argv[i], "--image") && i + 1 < argc) {
            if (smpdfu_cli_uint_arg("--image", argv[++i], 0, 255, &image)) {
                return SMPDFU_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--window") && i + 1 < argc) {
            if (smpdfu_cli_uint_arg("--window", argv[++i], 0, SMPDFU_UPLOAD_MAX_WINDOW, &window)) {
                return SMPDFU_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--upgrade")) {
            upgrade = true;
        } else if (!strcmp(argv[i], "--force")) {
            force = true;
        } else if ((argv[i][0] != '-' || !strcmp(argv[i], "-")) && !path) {
            path = argv[i];
        } else {
            path = NULL;
            break;
        }
    }
    if (!path) {
        smpdfu_cli_error("usage: smpdfu image upload FILE|URL|- [--size BYTES] [--image N] [--window N] "
                         "[--upgrade] [--force]");
        return SMPDFU_EXIT_USAGE;
    }
    img_source_t f;
    int oex = img_source_open_stream(&f, cli, path, size);
    if (oex) {
        return oex;
    }
    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&hs, &h);
    smpdfu_source_t src = f.src;
    static smpdfu_image_info_t info;
    uint8_t sha[32];
    /* A streamed image is checked while it passes (stream.h). */
    int rc = f.streamed ? 0 : smpdfu_dfu_check_image(&src, &h, &info, sha);
    if (rc == SMPDFU_EIMG_PADDED || rc == SMPDFU_EIMG_TRAILING) {
        char why[600];
        smpdfu_cli_padded_reason(why, sizeof(why), rc, src.size, info.end);
        if (!force) {
            smpdfu_cli_error("%s is not an image to upload (nothing was sent): %s; --force sends "
                             "the file as it is",
                             path, why);
            smpdfu_posix_hash_free(&hs);
            img_source_close(&f);
            return SMPDFU_EXIT_FAIL;
        }
        smpdfu_cli_error("warning: sending %s as it is (--force): %s", path, why);
        /* The image in front is still checked and verified after the upload. */
        rc = smpdfu_dfu_check_image_opt(&src, &h, &info, sha, true);
    }
    if (rc && !force) {
        char ctx[600];
        snprintf(ctx, sizeof(ctx), "%s is not an image to upload (nothing was sent; --force sends it anyway)", path);
        smpdfu_posix_hash_free(&hs);
        img_source_close(&f);
        return smpdfu_cli_fail(ctx, rc);
    }
    int ex = conn_open(&k, cli);
    if (!ex && (ex = conn_check_target(&k, image, &window, force))) {
        conn_close(&k);
    }
    if (ex) {
        smpdfu_posix_hash_free(&hs);
        img_source_close(&f);
        return ex;
    }
    static smpdfu_upload_t up;
    smpdfu_upload_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.src = src;
    cfg.hash = &h; /* computes sha when the check was skipped */
    if (f.streamed) {
        /* No file sha before the last byte: none is sent (decisions.md). */
        cfg.hash = NULL;
        cfg.expect_hash = smpdfu_stream_image_hash(&f.ps.stream);
    } else if (rc == 0) {
        cfg.sha = sha;
        cfg.sha_len = 32;
        cfg.expect_hash = info.hash;
    }
    cfg.image = (uint32_t)image;
    cfg.upgrade = upgrade;
    cfg.window = (uint8_t)window;
    cfg.timeout_ms = conn_timeout(&k);
    cfg.retries = conn_retries(&k);
    cfg.silence_ms = conn_silence_ms(&k);
    cfg.packet_size = conn_packet_size(&k);
    cfg.pace_us = conn_pace_us(&k);
    cfg.note = up_note;
    cfg.progress = up_progress;
    cfg.done = up_done;
    up_wait_t w = {0};
    cfg.arg = &w;
    w.t_start = smpdfu_posix_now_ms();
    rc = smpdfu_upload_start(&up, &k.c, &cfg);
    if (rc == 0) {
        rc = conn_run(&k, up_is_done, &w);
    }
    if (rc || w.res.status) {
        img_source_explain(&f);
    }
    smpdfu_posix_hash_free(&hs);
    img_source_close(&f);
    if (rc == 0) {
        rc = w.res.status;
    }
    if (w.done) {
        conn_upload_summary(&k, "upload", &w.res);
    }
    if (rc) {
        ex = conn_fail(&k, "the upload", rc, &w.res.dev);
        conn_close(&k);
        return ex;
    }
    conn_progress_end(&k);
    if (cli->json) {
        printf("{\"uploaded\": %u, \"image\": %ld, \"resumed\": %s, \"resume_off\": %u, "
               "\"restarts\": %u, \"session_losses\": %u, \"verified\": %s, \"chunk_packet\": %zu, "
               "\"elapsed_ms\": %llu, ",
               w.res.size, image, w.res.resumed ? "true" : "false", w.res.resume_off, w.res.restarts,
               w.res.session_losses, w.res.verified ? "true" : "false", w.res.max_packet,
               (unsigned long long)(w.t_end - w.t_start));
        conn_upload_json(&w.res);
        printf("}\n");
    } else {
        if (w.res.resumed) {
            printf("resumed an earlier upload at byte %u\n", w.res.resume_off);
        }
        if (w.res.restarts) {
            printf("the device lost the upload session and started again from zero\n");
        }
        char rate[32];
        uint64_t ms = w.t_end - w.t_start;
        conn_rate(rate, sizeof(rate), w.res.size - w.res.resume_off, ms);
        printf("uploaded %u bytes to image %ld in %.1f s, %s (%zu-byte packets, %u in flight, "
               "%u retransmissions)\n", w.res.size - w.res.resume_off, image, ms / 1000.0, rate,
               w.res.max_packet, w.res.window, k.c.stats.retransmits);
    }
    conn_close(&k);
    return 0;
}
