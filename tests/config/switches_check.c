/* SPDX-License-Identifier: Apache-2.0 */
/* Behaviour of the portable libraries built with the footprint switches
 * (tests/config/test_config_switches.py compiles this with
 * -DSMPDFU_CONFIG=switches_on.h): what config.h promises. Prints one line
 * per failed check, exits 1 if any. */
#include <stdio.h>
#include <string.h>

#include "smpdfu/client.h"
#include "smpdfu/error.h"
#include "smpdfu/flash.h"
#include "smpdfu/link.h"
#include "smpdfu/server.h"
#include "smpdfu/smp.h"

#if !SMPDFU_NO_SENTENCES || !SMPDFU_NO_PRINTF || SMPDFU_LINK_KINDS != 0x1u
#error "build with -DSMPDFU_CONFIG=switches_on.h"
#endif

static int failed;

static void same(const char *what, const char *got, const char *want)
{
    if (got == NULL || strcmp(got, want) != 0) {
        printf("FAIL %s: got \"%s\", want \"%s\"\n", what, got ? got : "(null)", want);
        failed = 1;
    }
}

static void eq(const char *what, long got, long want)
{
    if (got != want) {
        printf("FAIL %s: got %ld, want %ld\n", what, got, want);
        failed = 1;
    }
}

static int send_none(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return 0;
}

static int sent;
static int answered;
static char note[100] = "unset";

static int send_count(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    sent++;
    return 0;
}

static void on_event(void *ctx, const smpdfu_server_event_t *ev)
{
    (void)ctx;
    answered = ev->answered;
    strncpy(note, ev->note ? ev->note : "(null)", sizeof(note) - 1);
}

/* The image group's log notes are left empty without printf: an erase of
 * slot 1 (a default build notes "slot=1") answers, with an empty note. */
static void check_notes(void)
{
    static uint8_t mem[2 * 8192 + 1024];
    static uint8_t rsp[256], work[256];
    smpdfu_ram_flash_t ram;
    smpdfu_boot_cfg_t boot;
    smpdfu_server_t srv;
    smpdfu_img_group_t img;
    /* v2 write, image group (1), erase (5): {"slot": 1} */
    static const uint8_t req[] = { 0x0a, 0, 0, 7, 0, 1, 0, 5, 0xa1, 0x64, 's', 'l', 'o', 't', 0x01 };

    memset(&boot, 0, sizeof(boot));
    eq("ram flash", smpdfu_ram_flash_init(&ram, mem, sizeof(mem), 1024, 4, 0xff), 0);
    boot.flash = &ram.flash;
    boot.image_count = 1;
    boot.slot[0] = (smpdfu_flash_area_t){ 0, 8192 };
    boot.slot[1] = (smpdfu_flash_area_t){ 8192, 8192 };
    boot.mode = SMPDFU_BOOT_SWAP_MOVE;
    boot.max_align = 8;
    eq("boot cfg", smpdfu_boot_cfg_check(&boot), 0);
    eq("server init", smpdfu_server_init(&srv, rsp, sizeof(rsp)), 0);
    srv.on_event = on_event;
    eq("img init", smpdfu_img_group_init(&img, &boot, NULL, work, sizeof(work)), 0);
    eq("register", smpdfu_server_register(&srv, &img.group), 0);
    eq("process erase", smpdfu_server_process(&srv, req, sizeof(req), send_count, NULL), 1);
    eq("one response", sent, 1);
    eq("answered", answered, 1);
    same("erase note without printf", note, "");
}

int main(void)
{
    const char *name;
    const char *text;
    char buf[80];

    /* strerror gives the stable name. */
    same("strerror(ETIMEOUT)", smpdfu_strerror(SMPDFU_ETIMEOUT), "SMPDFU_ETIMEOUT");
    same("strerror(OK)", smpdfu_strerror(SMPDFU_OK), "SMPDFU_OK");
    same("strerror(unknown)", smpdfu_strerror(-9999), "SMPDFU_EUNKNOWN");
    same("err_name(ECRC)", smpdfu_err_name(SMPDFU_ECRC), "SMPDFU_ECRC");

    /* Device errors: the name is the sentence too. */
    smpdfu_dev_err_t img = { true, SMPDFU_GROUP_IMAGE, 9, 2 };
    smpdfu_dev_err_text(&img, &name, &text);
    same("dev name", name, "IMG_ERR_NO_FREE_SLOT");
    same("dev sentence", text, "IMG_ERR_NO_FREE_SLOT");
    eq("format len", smpdfu_dev_err_format(&img, buf, sizeof(buf)),
       (long)strlen("IMG_ERR_NO_FREE_SLOT (image group error 9)"));
    same("format", buf, "IMG_ERR_NO_FREE_SLOT (image group error 9)");

    smpdfu_dev_err_t v1 = { false, SMPDFU_GROUP_OS, 8, 1 };
    smpdfu_dev_err_format(&v1, buf, sizeof(buf));
    same("format v1", buf, "MGMT_ERR_ENOTSUP (SMP error 8)");

    smpdfu_dev_err_t other = { true, 64, 3, 2 };
    smpdfu_dev_err_format(&other, buf, sizeof(buf));
    same("format other group", buf, "GROUP_ERR_UNRECOGNISED (group 64 error 3)");

    smpdfu_dev_err_t neg = { false, 0, -2147483647 - 1, 1 };
    smpdfu_dev_err_format(&neg, buf, sizeof(buf));
    same("format negative", buf, "MGMT_ERR_UNRECOGNISED (SMP error -2147483648)");

    /* snprintf's contract: truncated, NUL-terminated, full length back. */
    memset(buf, 'x', sizeof(buf));
    eq("truncated len", smpdfu_dev_err_format(&img, buf, 5),
       (long)strlen("IMG_ERR_NO_FREE_SLOT (image group error 9)"));
    same("truncated", buf, "IMG_");
    eq("byte after NUL untouched", buf[5], 'x');
    eq("cap 0", smpdfu_dev_err_format(&img, NULL, 0),
       (long)strlen("IMG_ERR_NO_FREE_SLOT (image group error 9)"));

    /* Only the console framing is compiled in. */
    smpdfu_link_t raw = { .kind = SMPDFU_LINK_RAW_UART };
    smpdfu_link_t con = { .kind = SMPDFU_LINK_SERIAL };
    uint8_t pkt[8] = { 0 };
    uint8_t out[64];
    eq("raw encode", smpdfu_link_encode(&raw, pkt, sizeof(pkt), out, sizeof(out)), SMPDFU_ENOTSUP);
    eq("raw max packet", (long)smpdfu_link_max_packet(&raw, 384), 0);
    if (smpdfu_link_encode(&con, pkt, sizeof(pkt), out, sizeof(out)) <= 0) {
        printf("FAIL console encode\n");
        failed = 1;
    }

    smpdfu_client_t c;
    smpdfu_req_t reqs[1];
    uint8_t mem[64], rx[64], tx[128];
    smpdfu_client_cfg_t cfg = {
        .link = raw, .send = send_none, .reqs = reqs, .nreqs = 1, .req_mem = mem,
        .req_mem_len = sizeof(mem), .rx_buf = rx, .rx_cap = sizeof(rx), .tx_buf = tx,
        .tx_cap = sizeof(tx), .retries = -1,
    };
    eq("client on raw", smpdfu_client_init(&c, &cfg), SMPDFU_ENOTSUP);
    cfg.link = con;
    eq("client on console", smpdfu_client_init(&c, &cfg), 0);

    check_notes();

    printf("%s\n", failed ? "switches: FAILED" : "switches: all checks passed");
    return failed;
}
