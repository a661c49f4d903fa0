/* SPDX-License-Identifier: Apache-2.0 */
/* Central firmware: the DFU orchestrator (src/client) on a bare Cortex-M,
 * updating the SMP device on UART0 with the image linked into its own
 * flash, or (source=uplink, the gateway) streamed in over UART1 from an
 * uplink (smpdfu serve-image) with the block protocol of uplink.h: only a
 * window of the image is ever in RAM. Reports on the semihosting console,
 * ends with the exit status (0 done, 1 the update failed, 2 bad options or
 * image). Options come from the semihosting command line (docs/firmware.md):
 *   cmd=dfu|list|test|confirm|reset|erase  hash=HEX  slot=N
 *   mode=test-confirm|confirm-only|test-only|upload-only
 *   images=1|2 (2: the network core image, image 1, first)  link=console|raw
 *   window=N  timeout=MS  retries=N  quiet=MS  reboot=MS  seq=N
 *   source=linked|uplink  block=N  uplink-timeout=MS  uplink-retries=N */
#include <string.h>

#include "fw.h"
#include "smpdfu/client_img.h"
#include "smpdfu/client_os.h"
#include "smpdfu/dfu.h"
#include "smpdfu/stream.h"
#include "smpdfu/uplink.h"

/* The signed images, embedded by central_image.S (SMPDFU_FW_IMAGE, ..._IMAGE1). */
extern const uint8_t fw_image0[], fw_image0_end[], fw_image1[], fw_image1_end[];

#define SLOTS 6          /* window (device buf_count, up to 4) + state/params requests */
#define SLOT_SIZE 2048   /* largest SMP packet: a device buf_size up to 2 KiB */

static smpdfu_cm_uart_t uart0;
static smpdfu_client_t cl;
static smpdfu_req_t reqs[SLOTS];
static uint8_t req_mem[SLOTS * SLOT_SIZE];
static uint8_t rx[SLOT_SIZE + 8];
static uint8_t tx[3 * SLOT_SIZE / 2 + 256]; /* console: base64 + line markers */
static smpdfu_dfu_t dfu;
static smpdfu_cm_sha256_t sha_state;
static smpdfu_hash_t sha;

/* The gateway: the uplink on UART1 feeds a stream that holds a window of
 * the image (8 KiB, whatever the image size) and checks it as it passes. */
#define WINDOW 8192
#define CRC_BLOCKS 256   /* CRC-32 per block for re-reads: 1 KiB blocks for 256 KiB */
#define UP_BLOCK_MAX 1024
static smpdfu_cm_uart_t uart1;
static smpdfu_uplink_t up;
static uint8_t up_rx[SMPDFU_UPLINK_FRAME_LEN(4 + UP_BLOCK_MAX)];
static uint8_t up_tx[32];
static smpdfu_stream_t stream;
static uint8_t window[WINDOW];
static uint32_t crc_table[CRC_BLOCKS];
static smpdfu_cm_sha256_t stream_sha_state; /* the stream hashes while the upload may too */
static smpdfu_hash_t stream_sha;
static bool uplink_on;

static struct {
    bool done;
    smpdfu_dfu_result_t res;
    uint64_t up_start[SMPDFU_DFU_MAX_IMAGES];
    uint64_t up_end[SMPDFU_DFU_MAX_IMAGES];
    unsigned shown_pct[SMPDFU_DFU_MAX_IMAGES];
    smpdfu_img_state_t st;
    int list_status;
} run;

static int uart_send(void *ctx, const uint8_t *p, size_t n)
{
    smpdfu_cm_uart_write(ctx, p, n);
    return 0;
}

static int linked_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    memcpy(buf, (const uint8_t *)ctx + off, len); /* the upload keeps off + len <= size */
    return 0;
}

static void on_event(void *arg, const smpdfu_dfu_event_t *ev)
{
    (void)arg;
    if (ev->ev == SMPDFU_DFU_EV_FAILED || (ev->ev == SMPDFU_DFU_EV_POLL && ev->value > 1)) {
        return; /* the failure is reported once, by on_done; one "asking" line is enough */
    }
    if (ev->image >= 0 && ev->ev == SMPDFU_DFU_EV_UPLOAD_START) {
        run.up_start[ev->image] = smpdfu_cm_now_ms();
    }
    if (ev->image >= 0 && ev->ev == SMPDFU_DFU_EV_UPLOAD_DONE) {
        run.up_end[ev->image] = smpdfu_cm_now_ms();
    }
    if (ev->ev == SMPDFU_DFU_EV_UPLOAD_RESUMED) {
        smpdfu_sh_printf("image %d: %s (from byte %lu)", ev->image, ev->text,
                         (unsigned long)ev->value);
    } else if (ev->image >= 0) {
        smpdfu_sh_printf("image %d: %s", ev->image, ev->text);
    } else {
        smpdfu_sh_printf("%s", ev->text);
    }
}

static void on_progress(void *arg, int image, uint32_t off, uint32_t size)
{
    (void)arg;
    unsigned pct = size ? (unsigned)((uint64_t)off * 100u / size) : 100u;
    if (image >= 0 && image < SMPDFU_DFU_MAX_IMAGES && pct / 25 > run.shown_pct[image] / 25) {
        run.shown_pct[image] = pct;
        smpdfu_sh_printf("image %d: %u%% (%lu of %lu bytes)", image, pct, (unsigned long)off,
                         (unsigned long)size);
    }
}

static void on_done(void *arg, const smpdfu_dfu_result_t *res)
{
    (void)arg;
    run.res = *res;
    run.done = true;
}

/* One request's answer; arg non-NULL: it is an image state (list, test, confirm). */
static void on_rsp(void *arg, const smpdfu_rsp_t *rsp)
{
    run.list_status = rsp->status;
    if (rsp->status == SMPDFU_EDEVICE) {
        run.res.dev = rsp->dev;
    } else if (rsp->status == 0 && arg) {
        run.list_status = smpdfu_img_state_parse(rsp, &run.st);
    }
    run.done = true;
}

static void on_uplink(void *arg, smpdfu_uplink_ev_t ev, uint32_t value)
{
    (void)arg;
    switch (ev) {
    case SMPDFU_UPLINK_EV_RETRY:
        if (value == 1) { /* one line per outage */
            smpdfu_sh_printf("uplink: no answer, asking again");
        }
        break;
    case SMPDFU_UPLINK_EV_BACK:
        smpdfu_sh_printf("uplink: answering again (at byte %lu)", (unsigned long)value);
        break;
    case SMPDFU_UPLINK_EV_REFETCH:
        smpdfu_sh_printf("uplink: fetching again from byte %lu", (unsigned long)value);
        break;
    case SMPDFU_UPLINK_EV_FAILED:
        smpdfu_sh_printf("uplink: failed: %s", smpdfu_strerror(-(int)value));
        break;
    default:
        break;
    }
}

/* One pass over everything: SMP answers, uplink blocks, both clocks. */
static size_t poll_once(void)
{
    uint8_t buf[256];
    size_t n = smpdfu_cm_uart_read(&uart0, buf, sizeof(buf));
    if (n > 0) {
        smpdfu_client_feed(&cl, buf, n);
    }
    uint64_t now = smpdfu_cm_now_ms();
    if (uplink_on) {
        size_t m = smpdfu_cm_uart_read(&uart1, buf, sizeof(buf));
        int pushed = m > 0 ? smpdfu_uplink_feed(&up, buf, m) : 0;
        smpdfu_uplink_tick(&up, now);
        if (pushed != 0 || smpdfu_uplink_status(&up) != 0) {
            smpdfu_dfu_kick(&dfu); /* new bytes, or the failure, for the waiting upload */
        }
        n += m;
    }
    smpdfu_client_tick(&cl, now);
    return n;
}

static void run_loop(void)
{
    const smpdfu_cm_uart_t *const uarts[] = {&uart0, &uart1};
    while (!run.done) {
        if (poll_once() == 0 && !run.done) {
            fw_idle(uarts, uplink_on ? 2 : 1);
        }
    }
}

/* Gateway: ask the uplink for the image size, then stream it. */
static int uplink_source(smpdfu_dfu_image_t *img)
{
    const smpdfu_cm_uart_t *const uarts[] = {&uart0, &uart1};
    uint32_t block = fw_arg_u32("block", UP_BLOCK_MAX);
    if (block == 0 || block > UP_BLOCK_MAX) {
        fw_fail(2, "block=%lu: 1..%u", (unsigned long)block, UP_BLOCK_MAX);
    }
    smpdfu_cm_uart_init(&uart1, BOARD_UART_BASE(1), BOARD_UART_RX_IRQ(1), BOARD_UART_TX_IRQ(1),
                        BOARD_PCLK_HZ, 115200);
    smpdfu_uplink_cfg_t ucfg;
    memset(&ucfg, 0, sizeof(ucfg));
    ucfg.send = uart_send;
    ucfg.send_ctx = &uart1;
    ucfg.rx_buf = up_rx;
    ucfg.rx_cap = sizeof(up_rx);
    ucfg.tx_buf = up_tx;
    ucfg.tx_cap = sizeof(up_tx);
    ucfg.block = (uint16_t)block;
    /* 1 s per try: a 1 KiB block takes 89 ms at 115200 baud, but QEMU's UART
     * receive path on a busy host can take several hundred; a resend too early
     * only adds a late duplicate on an already slow line. */
    ucfg.timeout_ms = fw_arg_u32("uplink-timeout", 1000);
    ucfg.retries = (int)fw_arg_u32("uplink-retries", 30); /* 30 s of silence by default */
    ucfg.event = on_uplink;
    if (smpdfu_uplink_init(&up, &ucfg) != 0) {
        fw_fail(2, "uplink: bad configuration");
    }
    uplink_on = true;
    smpdfu_uplink_request_info(&up);
    while (!smpdfu_uplink_info(&up) && smpdfu_uplink_status(&up) == 0) {
        if (poll_once() == 0) {
            fw_idle(uarts, 2);
        }
    }
    const smpdfu_uplink_info_t *info = smpdfu_uplink_info(&up);
    if (!info) {
        smpdfu_sh_printf("uplink: no image: %s", smpdfu_strerror(smpdfu_uplink_status(&up)));
        return 1;
    }
    smpdfu_sh_printf("uplink: image of %lu bytes%s", (unsigned long)info->size,
                     info->has_sha ? " (with its sha256)" : "");
    smpdfu_cm_sha256_hook(&stream_sha_state, &stream_sha);
    smpdfu_stream_cfg_t scfg;
    memset(&scfg, 0, sizeof(scfg));
    scfg.size = info->size;
    scfg.window = window;
    scfg.window_len = sizeof(window);
    scfg.crc = crc_table;
    scfg.crc_n = CRC_BLOCKS;
    scfg.hash = &stream_sha;
    scfg.file_sha = info->has_sha ? info->sha : NULL;
    int rc = smpdfu_stream_init(&stream, &scfg);
    if (rc) {
        smpdfu_sh_printf("uplink: image of %lu bytes cannot be streamed: %s",
                         (unsigned long)info->size, smpdfu_strerror(rc));
        return 1;
    }
    smpdfu_uplink_attach(&up, &stream);
    img->src = smpdfu_stream_source(&stream);
    img->stream = &stream;
    img->image = 0;
    return 0;
}

static int parse_hash(const char *hex, uint8_t out[32])
{
    for (unsigned i = 0; i < 64; i++) {
        char c = hex[i];
        unsigned v = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
        if (v > 15) {
            return SMPDFU_EINVAL;
        }
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
    }
    return hex[64] ? SMPDFU_EINVAL : 0;
}

/* The single-request commands of the CLI: list, test, confirm, reset, erase. */
static int cmd_one(const char *cmd)
{
    smpdfu_req_opts_t o = {fw_arg_u32("timeout", 0), (int)fw_arg_u32("retries", SMPDFU_DEFAULT_RETRIES),
                           NULL};
    uint8_t hash[32];
    const char *h = fw_arg("hash", NULL);
    bool state = true;
    int rc;
    if (h && parse_hash(h, hash) != 0) {
        fw_fail(2, "hash=%s: 64 hex digits (what list shows)", h);
    }
    if (strcmp(cmd, "list") == 0) {
        rc = smpdfu_img_state_read(&cl, &o, on_rsp, &run);
    } else if (strcmp(cmd, "test") == 0) {
        if (!h) {
            fw_fail(2, "cmd=test needs hash=HASH");
        }
        rc = smpdfu_img_state_write(&cl, hash, 32, false, &o, on_rsp, &run);
    } else if (strcmp(cmd, "confirm") == 0) {
        rc = smpdfu_img_state_write(&cl, h ? hash : NULL, h ? 32 : 0, true, &o, on_rsp, &run);
    } else if (strcmp(cmd, "reset") == 0) {
        state = false;
        rc = smpdfu_os_reset(&cl, false, &o, on_rsp, NULL);
    } else if (strcmp(cmd, "erase") == 0) {
        state = false;
        rc = smpdfu_img_erase(&cl, fw_arg("slot", NULL) ? (int32_t)fw_arg_u32("slot", 1) : -1, &o,
                              on_rsp, NULL);
    } else {
        fw_fail(2, "cmd=%s: dfu, list, test, confirm, reset or erase", cmd);
    }
    if (rc == 0) {
        run_loop();
        rc = run.list_status;
    }
    if (rc) {
        char dev[160] = "";
        if (rc == SMPDFU_EDEVICE) {
            smpdfu_dev_err_format(&run.res.dev, dev, sizeof(dev));
        }
        smpdfu_sh_printf("%s: failed: %s%s%s", cmd, smpdfu_strerror(rc), dev[0] ? ": " : "", dev);
        return 1;
    }
    for (size_t i = 0; state && i < run.st.count; i++) {
        const smpdfu_img_slot_t *s = &run.st.slots[i];
        char hex[65];
        for (unsigned k = 0; k < s->hash_len && k < 32; k++) {
            static const char d[] = "0123456789abcdef";
            hex[2 * k] = d[s->hash[k] >> 4];
            hex[2 * k + 1] = d[s->hash[k] & 15];
        }
        hex[2 * (s->hash_len < 32 ? s->hash_len : 32)] = 0;
        smpdfu_sh_printf("list: image %lu slot %lu version %s hash %s%s%s%s%s",
                         (unsigned long)s->image, (unsigned long)s->slot, s->version, hex,
                         s->active ? " active" : "", s->confirmed ? " confirmed" : "",
                         s->pending ? " pending" : "", s->permanent ? " permanent" : "");
    }
    smpdfu_sh_printf("%s: done", cmd);
    return 0;
}

static int cmd_dfu(void)
{
    smpdfu_dfu_cfg_t cfg;
    smpdfu_dfu_mode_t mode;
    memset(&cfg, 0, sizeof(cfg));
    if (smpdfu_dfu_mode_parse(fw_arg("mode", "test-confirm"), &mode) != 0) {
        fw_fail(2, "mode=%s: test-confirm, confirm-only, test-only or upload-only",
                fw_arg("mode", ""));
    }
    uint32_t nimages = fw_arg_u32("images", 1);
    if (nimages == 2) {
        /* nRF5340: the network core (image 1) goes first; one reset applies both. */
        cfg.images[cfg.nimages].src.read = linked_read;
        cfg.images[cfg.nimages].src.ctx = (void *)(uintptr_t)fw_image1;
        cfg.images[cfg.nimages].src.size = (uint32_t)(fw_image1_end - fw_image1);
        cfg.images[cfg.nimages++].image = 1;
    } else if (nimages != 1) {
        fw_fail(2, "images=%lu: 1 or 2", (unsigned long)nimages);
    }
    const char *source = fw_arg("source", "linked");
    if (strcmp(source, "uplink") == 0) {
        int rc = uplink_source(&cfg.images[cfg.nimages++]);
        if (rc) {
            return rc;
        }
    } else if (strcmp(source, "linked") == 0) {
        cfg.images[cfg.nimages].src.read = linked_read;
        cfg.images[cfg.nimages].src.ctx = (void *)(uintptr_t)fw_image0;
        cfg.images[cfg.nimages].src.size = (uint32_t)(fw_image0_end - fw_image0);
        cfg.images[cfg.nimages++].image = 0;
    } else {
        fw_fail(2, "source=%s: linked or uplink", source);
    }
    cfg.mode = mode;
    cfg.hash = &sha;
    cfg.window = (uint8_t)fw_arg_u32("window", 0);
    cfg.timeout_ms = fw_arg_u32("timeout", 0);
    cfg.retries = (int)fw_arg_u32("retries", SMPDFU_DEFAULT_RETRIES);
    cfg.quiet_ms = fw_arg_u32("quiet", 0);
    cfg.reboot_timeout_ms = fw_arg_u32("reboot", 0);
    cfg.event = on_event;
    cfg.progress = on_progress;
    cfg.done = on_done;
    smpdfu_sh_printf("central: %s, mode %s, %u image(s) %s (%lu bytes)", BOARD_NAME,
                     smpdfu_dfu_mode_name(mode), (unsigned)cfg.nimages,
                     uplink_on ? "from the uplink" : "linked",
                     (unsigned long)cfg.images[cfg.nimages - 1].src.size);
    int rc = smpdfu_dfu_start(&dfu, &cl, &cfg);
    if (rc) {
        smpdfu_sh_printf("dfu: not started: %s (nothing was sent)", smpdfu_strerror(rc));
        return 2;
    }
    run_loop();
    for (size_t i = 0; i < cfg.nimages; i++) {
        const smpdfu_upload_result_t *u = &run.res.upload[i];
        uint32_t img = cfg.images[i].image;
        if (run.res.uploaded[i] && img < SMPDFU_DFU_MAX_IMAGES) {
            /* A figure for bench/ (from the upload's start to its last answer);
             * nothing asserts on it. */
            uint64_t ms = run.up_end[img] - run.up_start[img];
            smpdfu_sh_printf("upload: image %lu, %lu bytes, packet %lu, window %u, go-backs %lu, "
                             "%selapsed_ms %lu",
                             (unsigned long)img, (unsigned long)u->size,
                             (unsigned long)u->max_packet, u->window, (unsigned long)u->go_backs,
                             u->resumed ? "resumed, " : "", (unsigned long)ms);
        }
    }
    if (uplink_on) {
        smpdfu_sh_printf("ram: gateway buffers %lu bytes (window %u, CRC table %u, uplink frames "
                         "%u, UART1 and its RX ring %u, stream and uplink state %u)",
                         (unsigned long)(sizeof(window) + sizeof(crc_table) + sizeof(up_rx) +
                                         sizeof(up_tx) + sizeof(uart1) + sizeof(stream) +
                                         sizeof(up)),
                         (unsigned)sizeof(window), (unsigned)sizeof(crc_table),
                         (unsigned)(sizeof(up_rx) + sizeof(up_tx)), (unsigned)sizeof(uart1),
                         (unsigned)(sizeof(stream) + sizeof(up)));
        smpdfu_sh_printf("uplink: %lu resends, %lu CRC errors, %lu stray answers",
                         (unsigned long)up.retries_total, (unsigned long)up.dec.bad_crc,
                         (unsigned long)up.frames_dropped);
    }
    const smpdfu_client_stats_t *st = smpdfu_client_stats(&cl);
    smpdfu_sh_printf("smp: %lu frames sent, %lu retransmits, %lu timeouts, %lu bad packets",
                     (unsigned long)st->sent, (unsigned long)st->retransmits,
                     (unsigned long)st->timeouts, (unsigned long)st->bad_packets);
    fw_report_ram();
    if (run.res.status) {
        char dev[160] = "";
        if (run.res.status == SMPDFU_EDEVICE) {
            smpdfu_dev_err_format(&run.res.dev, dev, sizeof(dev));
        }
        smpdfu_sh_printf("dfu: failed (image %d): %s%s%s", run.res.failed_image,
                         smpdfu_strerror(run.res.status), dev[0] ? ": " : "", dev);
        return 1;
    }
    smpdfu_sh_printf("dfu: done");
    return 0;
}

int main(void)
{
    static const char *const keys[] = {"cmd", "mode", "images", "link", "window", "timeout",
                                       "retries", "quiet", "reboot", "seq", "source", "block",
                                       "uplink-timeout", "uplink-retries", "hash", "slot", NULL};
    fw_stack_paint();
    fw_args_load();
    fw_args_check(keys);
    smpdfu_cm_clock_init(BOARD_CORE_HZ, BOARD_TIMER_BASE, BOARD_PCLK_HZ);
    smpdfu_cm_sha256_hook(&sha_state, &sha);
    smpdfu_cm_uart_init(&uart0, BOARD_UART_BASE(0), BOARD_UART_RX_IRQ(0), BOARD_UART_TX_IRQ(0),
                        BOARD_PCLK_HZ, 115200);

    smpdfu_client_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.link = fw_link_from_args();
    cfg.send = uart_send;
    cfg.send_ctx = &uart0;
    cfg.reqs = reqs;
    cfg.nreqs = SLOTS;
    cfg.req_mem = req_mem;
    cfg.req_mem_len = sizeof(req_mem);
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof(rx);
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof(tx);
    cfg.timeout_ms = fw_arg_u32("timeout", smpdfu_client_default_timeout_ms(cfg.link.kind));
    cfg.retries = (int)fw_arg_u32("retries", SMPDFU_DEFAULT_RETRIES);
    cfg.first_seq = (uint8_t)fw_arg_u32("seq", 0);
    int rc = smpdfu_client_init(&cl, &cfg);
    if (rc) {
        fw_fail(2, "client: %s", smpdfu_strerror(rc));
    }
    smpdfu_client_tick(&cl, smpdfu_cm_now_ms());

    const char *cmd = fw_arg("cmd", "dfu");
    return strcmp(cmd, "dfu") == 0 ? cmd_dfu() : cmd_one(cmd);
}
