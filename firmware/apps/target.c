/* SPDX-License-Identifier: Apache-2.0 */
/* Target firmware: the portable SMP server (OS and image groups, Zephyr's
 * rules) and the MCUboot emulation on a bare Cortex-M, serving SMP on UART0.
 * The flash is a host file reached through semihosting, in smpdfu-target's
 * format and layout (slots, the progress page, scratch, settings pages), so it survives the
 * reset and the host tools read it. `os reset` resets the machine
 * (SYSRESETREQ): the firmware starts over, runs the boot emulation (the
 * swap) on the same file and serves again. Options (semihosting command
 * line, docs/firmware.md):
 *   flash=PATH factory=IMG factory1=IMG images=1|2 slot=BYTES page=BYTES
 *   align=N buf=N count=N mode=move|scratch|overwrite link=console|raw
 *   self-confirm no-resume quiet */
#include <string.h>

#include "fw.h"
#include "smpdfu/boot.h"
#include "smpdfu/device_layout.h"
#include "smpdfu/serial.h"
#include "smpdfu/server.h"
#include "smpdfu/trailer.h"

#define BUF_MAX 2048    /* largest buf_size */
#define PAGE_MAX 4096   /* largest page: the boot emulation needs two */

static smpdfu_cm_uart_t uart0;
static smpdfu_cm_flash_t flash;
static smpdfu_cm_sha256_t sha_state;
static smpdfu_hash_t sha;
static smpdfu_boot_cfg_t boot;
static smpdfu_flash_area_t progress;
static uint8_t work[2 * PAGE_MAX];
static uint8_t rsp[BUF_MAX];
static uint8_t frame[BUF_MAX];
static uint8_t out[2 * BUF_MAX + 256];
static smpdfu_server_t srv;
static smpdfu_os_group_t os;
static smpdfu_img_group_t img;
static smpdfu_link_t link;
static smpdfu_link_dec_t dec;
static bool quiet, reset_pending;

static int uart_send(void *ctx, const uint8_t *pkt, size_t len)
{
    (void)ctx;
    int n = smpdfu_link_encode(&link, pkt, len, out, sizeof(out));
    if (n > 0) {
        smpdfu_cm_uart_write(&uart0, out, (size_t)n);
    }
    return 0;
}

static void on_reset(void *ctx)
{
    (void)ctx;
    reset_pending = true;
}

static void on_event(void *ctx, const smpdfu_server_event_t *ev)
{
    (void)ctx;
    if (quiet || !ev->hdr) {
        return;
    }
    smpdfu_sh_printf("[uart] v%u %s %s seq=%u %s -> %s%d", ev->hdr->version + 1u,
                     ev->group_name ? ev->group_name : "group?",
                     ev->cmd_name ? ev->cmd_name : "cmd?", ev->hdr->seq, ev->note ? ev->note : "",
                     ev->rc ? "rc=" : (ev->err_rc ? "err=" : "ok "),
                     ev->rc ? ev->rc : ev->err_rc);
}

/* smpdfu_read_fn over a semihosting file read in order (the programmer
 * asks for the bytes in order: off is where the file position already is). */
static int sh_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)off;
    return smpdfu_sh_read(*(const int *)ctx, buf, len) == 0 ? 0 : SMPDFU_EFILE;
}

static void program_factory(const char *path, int image)
{
    const smpdfu_flash_area_t *a = &boot.slot[2 * image];
    int fd = smpdfu_sh_open(path, SMPDFU_SH_RB);
    long len = fd >= 0 ? smpdfu_sh_flen(fd) : -1;
    if (len <= 0 || (uint32_t)len > a->size) {
        fw_fail(2, "factory image %s: cannot read it, or it does not fit the slot", path);
    }
    /* Page by page through the work buffer, the tail padded with erased bytes. */
    if (smpdfu_device_program(&flash.flash, a, sh_read, &fd, (uint32_t)len, work, PAGE_MAX) != 0) {
        fw_fail(2, "factory image %s: programming failed", path);
    }
    smpdfu_sh_close(fd);
    smpdfu_sh_printf("flash: programmed %s into image %d primary (%ld bytes)", path, image, len);
}

static void setup(void)
{
    uint32_t images = fw_arg_u32("images", 1);
    uint32_t slot = fw_arg_u32("slot", 128 * 1024);
    uint32_t page = fw_arg_u32("page", 4096);
    uint32_t align = fw_arg_u32("align", 4);
    const char *mode = fw_arg("mode", "move");
    if (images < 1 || images > 2 || page > PAGE_MAX || page == 0 || slot % page) {
        fw_fail(2, "bad layout: images 1..2, page <= %u, slot a multiple of the page", PAGE_MAX);
    }
    if (strcmp(mode, "move") == 0) {
        boot.mode = SMPDFU_BOOT_SWAP_MOVE;
    } else if (strcmp(mode, "scratch") == 0) {
        boot.mode = SMPDFU_BOOT_SWAP_SCRATCH;
    } else if (strcmp(mode, "overwrite") == 0) {
        boot.mode = SMPDFU_BOOT_OVERWRITE;
    } else {
        fw_fail(2, "mode=%s: move, scratch or overwrite", mode);
    }
    /* smpdfu-target's layout, so either can open the other's file: slots,
     * the progress page, the scratch area (scratch mode), then two pages
     * for the settings store (unused here). */
    smpdfu_device_layout_cfg_t lc = {images, slot, page, align, boot.mode, 2 * page};
    smpdfu_device_layout_t lay;
    if (smpdfu_device_layout(&lc, &boot, &lay) != 0) {
        fw_fail(2, "bad layout: the flash would pass 4 GiB");
    }
    int rc = smpdfu_cm_flash_open(&flash, fw_arg("flash", "target.flash"), lay.flash_size, page,
                                  align);
    if (rc) {
        fw_fail(2, "flash %s: %s (missing directory, or a file of another size?)",
                fw_arg("flash", "target.flash"), smpdfu_strerror(rc));
    }
    smpdfu_cm_sha256_hook(&sha_state, &sha);
    boot.flash = &flash.flash;
    boot.hash = &sha;
    if (smpdfu_boot_cfg_check(&boot) != 0) {
        fw_fail(2, "the flash layout does not work (slot too small for the trailer?)");
    }
    progress = lay.progress;
    if (flash.created) {
        if (fw_arg("factory", NULL)) {
            program_factory(fw_arg("factory", NULL), 0);
        }
        if (images == 2 && fw_arg("factory1", NULL)) {
            program_factory(fw_arg("factory1", NULL), 1);
        }
    }
}

/* Power on or reset: MCUboot, then the application's server from flash.
 * Returns false when MCUboot finds nothing to boot. */
static bool boot_device(void)
{
    smpdfu_boot_result_t res;
    int rc = smpdfu_boot_run(&boot, work, sizeof(work), &res);
    if (rc) {
        fw_fail(3, "boot emulation failed: %s", smpdfu_strerror(rc));
    }
    for (unsigned i = 0; i < boot.image_count; i++) {
        if (res.validate_err[i]) {
            smpdfu_sh_printf("boot: image %u swap %s rejected, secondary erased: %s", i,
                             smpdfu_boot_swap_name(res.decided[i]),
                             smpdfu_strerror(res.validate_err[i]));
        } else if (res.performed[i] != SMPDFU_SWAP_NONE || res.decided[i] != SMPDFU_SWAP_NONE) {
            smpdfu_sh_printf("boot: image %u swap %s", i, smpdfu_boot_swap_name(res.performed[i]));
        }
    }
    if (!res.bootable) {
        return false;
    }
    if (fw_arg("self-confirm", NULL) && smpdfu_boot_confirm(&boot, 0) != 0) {
        smpdfu_sh_printf("app: confirming itself failed");
    }
    uint32_t buf = fw_arg_u32("buf", SMPDFU_DEFAULT_BUF_SIZE);
    if (buf < 64 || buf > BUF_MAX) {
        fw_fail(2, "buf=%lu: 64..%u", (unsigned long)buf, BUF_MAX);
    }
    smpdfu_server_init(&srv, rsp, buf);
    srv.on_reset = on_reset;
    srv.on_event = on_event;
    smpdfu_os_group_init(&os);
    os.buf_size = buf;
    os.buf_count = fw_arg_u32("count", SMPDFU_DEFAULT_BUF_COUNT);
    os.bootloader_mode = smpdfu_boot_mode_value(boot.mode);
    os.node_name = "smpdfu-fw-target";
    os.machine = BOARD_NAME;
    os.processor = BOARD_CPU;
    if (smpdfu_img_group_init(&img, &boot, fw_arg("no-resume", NULL) ? NULL : &progress, work,
                              sizeof(work)) != 0) {
        fw_fail(2, "bad flash layout");
    }
    smpdfu_server_register(&srv, &os.group);
    smpdfu_server_register(&srv, &img.group);
    rc = smpdfu_img_group_restore(&img);
    if (rc > 0) {
        smpdfu_sh_printf("img: upload progress restored at %d of %lu bytes", rc,
                         (unsigned long)img.s.size);
    }
    link = fw_link_from_args();
    link.rx_line_max = 128; /* Zephyr's console line buffer */
    /* Zephyr: the whole frame (length, packet, CRC) fits one buf_size buffer. */
    smpdfu_link_dec_init(&dec, &link, frame, buf);
    return true;
}

int main(void)
{
    static const char *const keys[] = {"flash", "factory", "factory1", "images", "slot", "page",
                                       "align", "buf", "count", "mode", "link", "self-confirm",
                                       "no-resume", "quiet", NULL};
    const smpdfu_cm_uart_t *const uarts[] = {&uart0};
    fw_args_load();
    fw_args_check(keys);
    quiet = fw_arg("quiet", NULL) != NULL;
    smpdfu_cm_clock_init(BOARD_CORE_HZ, BOARD_TIMER_BASE, BOARD_PCLK_HZ);
    setup();
    if (!boot_device()) {
        smpdfu_sh_printf("boot: no valid image in the primary slot: MCUboot halts, no SMP");
        smpdfu_cm_flash_close(&flash);
        return 3;
    }
    /* The UART starts after the boot: bytes sent during the swap wait in the
     * host's buffer (a real device would lose them). */
    smpdfu_cm_uart_init(&uart0, BOARD_UART_BASE(0), BOARD_UART_RX_IRQ(0), BOARD_UART_TX_IRQ(0),
                        BOARD_PCLK_HZ, 115200);
    smpdfu_sh_printf("target: %s, ready", BOARD_NAME);
    uint64_t last_rx = 0;
    for (;;) {
        uint8_t buf[128];
        size_t n = smpdfu_cm_uart_read(&uart0, buf, sizeof(buf));
        uint64_t now = smpdfu_cm_now_ms();
        if (n > 0) {
            last_rx = now;
        } else if (link.kind == SMPDFU_LINK_RAW_UART && dec.u.raw.have > 0 && now - last_rx >= 100) {
            smpdfu_raw_dec_idle(&dec.u.raw); /* raw UART resynchronises on a quiet line */
        }
        for (size_t pos = 0; pos < n;) {
            size_t used = 0;
            int rc = smpdfu_link_dec_feed(&dec, buf + pos, n - pos, &used);
            pos += used;
            if (rc > 0) {
                smpdfu_server_process(&srv, smpdfu_link_dec_packet(&dec), (size_t)rc, uart_send,
                                      NULL);
            }
            if (reset_pending || used == 0) {
                break;
            }
        }
        if (reset_pending) {
            /* Let the answer leave first, then reset the machine. */
            smpdfu_cm_uart_flush_tx(&uart0);
            smpdfu_sh_printf("os reset: rebooting");
            smpdfu_cm_flash_close(&flash);
            smpdfu_cm_reset();
        }
        if (n == 0) {
            fw_idle(uarts, 1);
        }
    }
}
