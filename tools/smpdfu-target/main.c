/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu-target: one emulated Zephyr + MCUboot device on a flash file.
 * Serves SMP over UDP and/or a pty (console framing or raw UART), logs every
 * request in words on stderr, and on `reset` runs the boot emulation and
 * restarts the server from what is on flash. See docs/target.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "smpdfu/version.h"
#include "smpdfu/boot.h"
#include "smpdfu/error.h"
#include "smpdfu/image.h"
#include "smpdfu/link.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_args.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/posix_flash.h"
#include "smpdfu/rxlines.h"
#include "smpdfu/server.h"
#include "smpdfu/smp.h"

#include "groups.h"

#define MAX_UDP 2
#define RAW_GAP_MS 100

typedef struct {
    /* options */
    const char *udp_spec[MAX_UDP];
    int nudp;
    bool serial;
    bool raw_uart;
    const char *flash_path;
    const char *factory[SMPDFU_BOOT_MAX_IMAGES];
    const char *key_path;
    uint32_t slot_size, page_size, write_align;
    int images;
    uint32_t buf_size, buf_count;
    bool self_confirm, test_on_upload, image_check, resume;
    smpdfu_boot_mode_t mode;
    uint32_t erase_ms, write_us_per_kib;
    uint32_t reset_delay_ms;
    uint32_t rx_bufs, rx_buf_size;
    uint32_t power_cut; /* --power-cut-after: 0 = never */
    bool quiet;

    /* device */
    smpdfu_posix_flash_t pf;
    smpdfu_posix_powercut_t cut; /* in front of pf when --power-cut-after */
    smpdfu_boot_cfg_t boot;
    smpdfu_flash_area_t progress;
    smpdfu_posix_hash_state_t hash_state;
    smpdfu_hash_t hash;
    smpdfu_posix_sigkey_t key;
    smpdfu_sig_verify_t sv;
    bool have_key;
    uint8_t *work;
    size_t work_len;
    uint8_t *rsp;
    smpdfu_server_t srv;
    smpdfu_os_group_t os;
    smpdfu_img_group_t img;
    bool halted;
    bool halted_logged; /* said once per boot that requests go unanswered */
    target_groups_t *tg; /* groups.c: the other groups, serial recovery */

    /* transports */
    int udp_fd[MAX_UDP];
    int pty_master, pty_slave;
    char pty_name[128];
    smpdfu_link_t ser_link;
    smpdfu_link_dec_t ser_dec;
    uint8_t *ser_buf;
    uint8_t *udp_in;
    uint8_t *out;
    size_t out_cap;
    /* Zephyr's UART receive line buffers (console framing, --rx-bufs > 0) */
    bool rxl_on;
    smpdfu_rxlines_t rxl;
    uint8_t *rxl_mem;
    const uint8_t *rx_rest; /* bytes of the current read after the line being handled */
    size_t rx_rest_len;
    bool rx_rest_taken;     /* the busy loop received them */

    /* reset */
    bool reset_pending;
    uint64_t reset_at;
    const char *via; /* transport of the request being handled, for the log */
} target_t;

static volatile sig_atomic_t g_stop;

static void flash_busy(void *ctx, uint64_t us, bool erase);

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void logf_(const target_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void logf_(const target_t *t, const char *fmt, ...)
{
    va_list ap;
    if (t->quiet) {
        return;
    }
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("smpdfu-target: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smpdfu-target [options]\n"
            "  --udp ADDR:PORT      serve SMP over UDP (default 127.0.0.1:1337 when no\n"
            "                       transport is given; [::1]:1337 for IPv6; port 0 = any)\n"
            "  --serial             serve SMP console framing on a new pty (path printed)\n"
            "  --raw-uart           the pty carries raw SMP packets instead\n"
            "  --flash FILE         flash image file (default smpdfu-target.flash)\n"
            "  --factory IMAGE      image 0 programmed into its primary slot of a new flash\n"
            "  --factory1 IMAGE     same for image 1 (with --images 2)\n"
            "  --images 1|2         updatable images (2 = nRF5340 app + network core)\n"
            "  --slot-size N        bytes per slot (default 262144; K/M suffixes)\n"
            "  --page-size N        erase page (default 4096)\n"
            "  --write-align N      flash write unit (default 4)\n"
            "  --buf-size N         MCUmgr buffer size (default 384)\n"
            "  --buf-count N        MCUmgr buffer count (default 4)\n"
            "  --mode M             move | scratch | overwrite (default move)\n"
            "  --self-confirm       a booted image confirms itself (boot_write_img_confirmed)\n"
            "  --test-on-upload     mark an upload for test once complete and valid\n"
            "  --no-image-check     no \"match\" (CONFIG_IMG_ENABLE_IMAGE_CHECK=n)\n"
            "  --no-resume          no upload progress record across restarts\n"
            "  --key PUBKEY         MCUboot checks image signatures with this key\n"
            "  --erase-ms N         sleep N ms per erased page\n"
            "  --write-us-per-kib N sleep N us per KiB written\n"
            "  --reset-delay-ms N   time from reset response to reboot (default 250)\n"
            "  --rx-bufs N          serial RX line buffers (default 2, Zephyr's\n"
            "                       CONFIG_UART_MCUMGR_RX_BUF_COUNT); a line that starts\n"
            "                       while all are held is dropped; 0 = no limit\n"
            "  --rx-buf-size N      bytes per RX line buffer (default 128); longer lines\n"
            "                       are dropped; 0 = no limit (with --rx-bufs 0 only)\n"
            "  --rx-line-max N      the old name of --rx-buf-size\n"
            "  --power-cut-after N  die (exit 3) at the Nth flash write/erase of a boot\n"
            "  -q, --quiet          no request log on stderr\n"
            "  -h, --help           this text\n"
            "  --version            print the version\n");
    tg_usage(f);
}

static uint32_t parse_size(const char *s, const char *what)
{
    uint64_t v;
    int rc = smpdfu_posix_arg_size(s, 0, UINT32_MAX, &v);
    if (rc == SMPDFU_ERANGE) {
        die("%s %s is too large (at most 4294967295)", what, s);
    } else if (rc) {
        die("%s wants a whole number (decimal or 0x hex, K/M suffix for sizes), not '%s'", what, s);
    }
    return (uint32_t)v;
}

static void parse_args(target_t *t, int argc, char **argv)
{
    enum {
        O_UDP = 256, O_SERIAL, O_RAW, O_FLASH, O_FACTORY, O_FACTORY1, O_IMAGES, O_SLOT, O_PAGE,
        O_ALIGN, O_BUFSZ, O_BUFCNT, O_MODE, O_SELF, O_TEST, O_NOCHECK, O_NORESUME, O_KEY,
        O_ERASE, O_WRITE, O_RESET, O_LINE, O_RXBUFS, O_CUT, O_HELP
    };
    static const struct option opts[] = {
        {"udp", required_argument, 0, O_UDP},
        {"serial", no_argument, 0, O_SERIAL},
        {"raw-uart", no_argument, 0, O_RAW},
        {"flash", required_argument, 0, O_FLASH},
        {"factory", required_argument, 0, O_FACTORY},
        {"factory1", required_argument, 0, O_FACTORY1},
        {"images", required_argument, 0, O_IMAGES},
        {"slot-size", required_argument, 0, O_SLOT},
        {"page-size", required_argument, 0, O_PAGE},
        {"write-align", required_argument, 0, O_ALIGN},
        {"buf-size", required_argument, 0, O_BUFSZ},
        {"buf-count", required_argument, 0, O_BUFCNT},
        {"mode", required_argument, 0, O_MODE},
        {"self-confirm", no_argument, 0, O_SELF},
        {"test-on-upload", no_argument, 0, O_TEST},
        {"no-image-check", no_argument, 0, O_NOCHECK},
        {"no-resume", no_argument, 0, O_NORESUME},
        {"key", required_argument, 0, O_KEY},
        {"erase-ms", required_argument, 0, O_ERASE},
        {"write-us-per-kib", required_argument, 0, O_WRITE},
        {"reset-delay-ms", required_argument, 0, O_RESET},
        {"rx-line-max", required_argument, 0, O_LINE}, /* older name of --rx-buf-size */
        {"rx-buf-size", required_argument, 0, O_LINE},
        {"rx-bufs", required_argument, 0, O_RXBUFS},
        {"power-cut-after", required_argument, 0, O_CUT},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    int c;
    t->flash_path = "smpdfu-target.flash";
    t->slot_size = 256 * 1024;
    t->page_size = 4096;
    t->write_align = 4;
    t->images = 1;
    t->buf_size = SMPDFU_DEFAULT_BUF_SIZE;
    t->buf_count = SMPDFU_DEFAULT_BUF_COUNT;
    t->image_check = true;
    t->resume = true;
    t->mode = SMPDFU_BOOT_SWAP_MOVE;
    t->reset_delay_ms = SMPDFU_DEFAULT_RESET_DELAY_MS;
    t->rx_bufs = SMPDFU_RXLINES_ZEPHYR_COUNT;
    t->rx_buf_size = SMPDFU_RXLINES_ZEPHYR_SIZE;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case O_UDP:
            if (t->nudp >= MAX_UDP) {
                die("at most %d --udp", MAX_UDP);
            }
            t->udp_spec[t->nudp++] = optarg;
            break;
        case O_SERIAL:
            t->serial = true;
            break;
        case O_RAW:
            t->serial = true;
            t->raw_uart = true;
            break;
        case O_FLASH:
            t->flash_path = optarg;
            break;
        case O_FACTORY:
            t->factory[0] = optarg;
            break;
        case O_FACTORY1:
            t->factory[1] = optarg;
            break;
        case O_IMAGES:
            t->images = (int)parse_size(optarg, "--images");
            if (t->images < 1 || t->images > 2) {
                die("--images must be 1 or 2");
            }
            break;
        case O_SLOT:
            t->slot_size = parse_size(optarg, "--slot-size");
            break;
        case O_PAGE:
            t->page_size = parse_size(optarg, "--page-size");
            if (t->page_size == 0 || (t->page_size & (t->page_size - 1))) {
                die("--page-size must be a power of two (flash erases whole pages)");
            }
            break;
        case O_ALIGN:
            t->write_align = parse_size(optarg, "--write-align");
            break;
        case O_BUFSZ:
            t->buf_size = parse_size(optarg, "--buf-size");
            if (t->buf_size < 64 || t->buf_size > 65535) {
                die("--buf-size must be 64..65535");
            }
            break;
        case O_BUFCNT:
            t->buf_count = parse_size(optarg, "--buf-count");
            if (t->buf_count < 1 || t->buf_count > 255) {
                die("--buf-count must be 1..255");
            }
            break;
        case O_MODE:
            if (strcmp(optarg, "move") == 0) {
                t->mode = SMPDFU_BOOT_SWAP_MOVE;
            } else if (strcmp(optarg, "scratch") == 0) {
                t->mode = SMPDFU_BOOT_SWAP_SCRATCH;
            } else if (strcmp(optarg, "overwrite") == 0) {
                t->mode = SMPDFU_BOOT_OVERWRITE;
            } else {
                die("--mode must be move, scratch or overwrite");
            }
            break;
        case O_SELF:
            t->self_confirm = true;
            break;
        case O_TEST:
            t->test_on_upload = true;
            break;
        case O_NOCHECK:
            t->image_check = false;
            break;
        case O_NORESUME:
            t->resume = false;
            break;
        case O_KEY:
            t->key_path = optarg;
            break;
        case O_ERASE:
            t->erase_ms = parse_size(optarg, "--erase-ms");
            break;
        case O_WRITE:
            t->write_us_per_kib = parse_size(optarg, "--write-us-per-kib");
            break;
        case O_RESET:
            t->reset_delay_ms = parse_size(optarg, "--reset-delay-ms");
            if (t->reset_delay_ms > 600000) {
                die("--reset-delay-ms must be 0..600000"); /* poll() takes an int */
            }
            break;
        case O_LINE:
            t->rx_buf_size = parse_size(optarg, "--rx-buf-size");
            if (t->rx_buf_size != 0 && (t->rx_buf_size < 7 || t->rx_buf_size > 65535)) {
                /* 7: the marker, one base64 group and the newline */
                die("--rx-buf-size must be 0 or 7..65535 (shorter lines cannot carry a frame)");
            }
            break;
        case O_RXBUFS:
            t->rx_bufs = parse_size(optarg, "--rx-bufs");
            if (t->rx_bufs > SMPDFU_RXLINES_MAX) {
                die("--rx-bufs must be 0..%d", SMPDFU_RXLINES_MAX);
            }
            break;
        case O_CUT:
            t->power_cut = parse_size(optarg, "--power-cut-after");
            break;
        case 'q':
            t->quiet = true;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind != argc) {
        usage(stderr);
        exit(2);
    }
    if (t->rx_bufs > 0 && t->rx_buf_size == 0) {
        die("--rx-buf-size 0 (no line limit) needs --rx-bufs 0");
    }
    if (t->factory[1] && t->images < 2) {
        die("--factory1 needs --images 2");
    }
    if (t->nudp == 0 && !t->serial) {
        t->udp_spec[t->nudp++] = "127.0.0.1:1337";
    }
}

/* ------------------------------------------------------------- device */

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;
    if (!f) {
        return SMPDFU_EFILE;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return SMPDFU_EFILE;
    }
    *data = malloc((size_t)n + 1);
    if (!*data || fread(*data, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(*data);
        return SMPDFU_EFILE;
    }
    fclose(f);
    *len = (size_t)n;
    return 0;
}

static void program_factory(target_t *t, int image)
{
    uint8_t *data;
    size_t len;
    const smpdfu_flash_area_t *a = &t->boot.slot[2 * image];
    errno = 0; /* read_file may fail without setting it (a short read) */
    if (read_file(t->factory[image], &data, &len) != 0) {
        die("cannot read %s: %s", t->factory[image], errno ? strerror(errno) : "empty or unreadable");
    }
    if (len > a->size) {
        die("%s (%zu bytes) does not fit a %u-byte slot", t->factory[image], len, a->size);
    }
    size_t whole = len - len % t->write_align;
    int rc = smpdfu_flash_area_write(&t->pf.flash, a, 0, data, whole);
    if (rc == 0 && whole < len) {
        uint8_t tail[SMPDFU_FLASH_MAX_ALIGN];
        memset(tail, 0xff, sizeof(tail));
        memcpy(tail, data + whole, len - whole);
        rc = smpdfu_flash_area_write(&t->pf.flash, a, (uint32_t)whole, tail, t->write_align);
    }
    free(data);
    if (rc != 0) {
        die("programming %s: %s", t->factory[image], smpdfu_strerror(rc));
    }
    logf_(t, "flash: programmed %s into image %d primary (%zu bytes)", t->factory[image], image,
          len);
}

static int verify_sig(void *ctx, const smpdfu_image_info_t *info, const uint8_t *digest,
                      smpdfu_read_fn read, void *read_ctx)
{
    target_t *t = ctx;
    uint8_t scratch[1024];
    (void)digest;
    return smpdfu_image_verify_sig(info, &t->hash, read, read_ctx, &t->sv, scratch,
                                   sizeof(scratch));
}

static int send_nothing(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return 0;
}

static void on_reset(void *ctx)
{
    target_t *t = ctx;
    t->reset_pending = true;
    t->reset_at = smpdfu_posix_now_ms() + t->reset_delay_ms;
    logf_(t, "os reset: rebooting in %u ms", t->reset_delay_ms);
}

static void on_event(void *ctx, const smpdfu_server_event_t *ev)
{
    const target_t *t = ctx;
    char what[64], res[96];
    if (t->quiet) {
        return;
    }
    if (ev->hdr == NULL) {
        logf_(t, "[%s] %s", t->via,
              ev->note && ev->note[0] ? ev->note : "packet shorter than an SMP header: dropped");
        return;
    }
    if (ev->group_name && ev->cmd_name) {
        snprintf(what, sizeof(what), "%s %s", ev->group_name, ev->cmd_name);
    } else if (ev->group_name) {
        snprintf(what, sizeof(what), "%s cmd %u", ev->group_name, ev->hdr->id);
    } else {
        snprintf(what, sizeof(what), "group %u cmd %u", ev->hdr->group, ev->hdr->id);
    }
    if (ev->rc != 0) {
        smpdfu_dev_err_t e = {false, ev->hdr->group, ev->rc, ev->hdr->version};
        const char *name;
        smpdfu_dev_err_text(&e, &name, NULL);
        snprintf(res, sizeof(res), "rc=%d (%s)", ev->rc, name);
    } else if (ev->err_rc != 0) {
        smpdfu_dev_err_t e = {true, ev->err_group, ev->err_rc, ev->hdr->version};
        const char *name;
        smpdfu_dev_err_text(&e, &name, NULL);
        snprintf(res, sizeof(res), "err group=%u rc=%u (%s)%s", ev->err_group, ev->err_rc, name,
                 ev->hdr->version == 0 ? " as v1 rc" : "");
    } else {
        snprintf(res, sizeof(res), "ok");
    }
    logf_(t, "[%s] v%u %s seq=%u %s%s-> %s", t->via, ev->hdr->version + 1, what, ev->hdr->seq,
          ev->note && ev->note[0] ? ev->note : "", ev->note && ev->note[0] ? " " : "", res);
}

/* Power on / reboot: MCUboot, then the application's server from flash. */
static void boot_device(target_t *t)
{
    smpdfu_boot_result_t res;
    /* --power-cut-after counts the flash operations of each boot alone. */
    smpdfu_posix_powercut_arm(&t->cut, true);
    if (tg_boot_recovery(t->tg, &t->boot, t->rsp, t->buf_size, t->work, t->work_len, on_reset,
                         on_event, t)) {
        t->halted = false;
        logf_(t, "boot: boot mode 1: MCUboot serial recovery");
        return;
    }
    int rc = smpdfu_boot_run(&t->boot, t->work, t->work_len, &res);
    smpdfu_posix_powercut_arm(&t->cut, false);
    if (rc != 0) {
        die("boot emulation failed: %s", smpdfu_strerror(rc));
    }
    for (int i = 0; i < t->images; i++) {
        if (res.resumed[i]) {
            logf_(t, "boot: image %d finished an interrupted swap %s", i,
                  smpdfu_boot_swap_name(res.performed[i]));
        } else if (res.no_room[i]) {
            logf_(t, "boot: image %d swap %s not done: the images do not leave the free sector "
                  "swap-using-move needs", i, smpdfu_boot_swap_name(res.decided[i]));
        } else if (res.validate_err[i] != 0) {
            logf_(t, "boot: image %d swap %s rejected, secondary erased: %s", i,
                  smpdfu_boot_swap_name(res.decided[i]), smpdfu_strerror(res.validate_err[i]));
        } else if (res.performed[i] != SMPDFU_SWAP_NONE || res.decided[i] != SMPDFU_SWAP_NONE) {
            logf_(t, "boot: image %d swap %s", i, smpdfu_boot_swap_name(res.performed[i]));
        }
    }
    t->halted = !res.bootable;
    t->halted_logged = false;
    if (t->halted && tg_no_app_recovery(t->tg)) {
        t->halted = false;
        logf_(t, "boot: no valid image in the primary slot: MCUboot serial recovery");
        return;
    }
    if (t->halted) {
        fprintf(stderr, "boot: no valid image in the primary slot: MCUboot halts, no SMP\n");
        return;
    }
    if (t->self_confirm) {
        rc = smpdfu_boot_confirm(&t->boot, 0);
        if (rc != 0) {
            logf_(t, "app: confirming itself failed: %s", smpdfu_strerror(rc));
        }
    }
    smpdfu_server_init(&t->srv, t->rsp, t->buf_size);
    t->srv.on_reset = on_reset;
    t->srv.reset_ctx = t;
    t->srv.on_event = on_event;
    t->srv.event_ctx = t;
    smpdfu_os_group_init(&t->os);
    t->os.buf_size = t->buf_size;
    t->os.buf_count = t->buf_count;
    t->os.bootloader_mode = smpdfu_boot_mode_value(t->mode);
    t->os.node_name = "smpdfu-target";
    t->os.build_date_time = "2026-01-01T00:00:00";
    if (smpdfu_img_group_init(&t->img, &t->boot, t->resume ? &t->progress : NULL, t->work,
                              t->work_len) != 0) {
        die("bad flash layout");
    }
    t->img.image_check = t->image_check;
    t->img.test_on_upload = t->test_on_upload;
    smpdfu_server_register(&t->srv, &t->os.group);
    smpdfu_server_register(&t->srv, &t->img.group);
    tg_register(t->tg, &t->srv, &t->os, &t->img.group);
    rc = smpdfu_img_group_restore(&t->img);
    if (rc > 0) {
        logf_(t, "img: upload progress restored: slot %d at %d of %u bytes", t->img.s.slot, rc,
              t->img.s.size);
    } else if (rc < 0) {
        logf_(t, "img: reading the progress record failed: %s", smpdfu_strerror(rc));
    }
    (void)send_nothing;
}

static void setup_device(target_t *t)
{
    int n = 2 * t->images;
    uint32_t max_align = t->write_align > 8 ? t->write_align : 8;
    if (t->page_size == 0 || t->slot_size % t->page_size) {
        die("--slot-size must be a multiple of --page-size");
    }
    /* BOOT_MAX_IMG_SECTORS as Zephyr's MCUboot build sizes it: at least
     * MCUboot's default, more for slots with more sectors. */
    uint32_t max_sectors = t->slot_size / t->page_size > 128 ? t->slot_size / t->page_size : 128;
    /* Scratch mode: a scratch area after the progress page, as many pages
     * as the slot trailer spans. */
    uint32_t tsz = smpdfu_trailer_total_size(max_align, max_sectors, 3, t->write_align);
    uint32_t scratch = t->mode == SMPDFU_BOOT_SWAP_SCRATCH
                           ? (tsz + t->page_size - 1) / t->page_size * t->page_size
                           : 0;
    /* Flash file: the slots, the upload progress page, the scratch area
     * (scratch mode), then the other groups' pages (settings). */
    uint32_t size = (uint32_t)n * t->slot_size + t->page_size + scratch + tg_flash_extra(t->tg, t->page_size);
    int rc = smpdfu_posix_flash_open(&t->pf, t->flash_path, size, t->page_size, t->write_align,
                                     0xff);
    if (rc == SMPDFU_EBUSY) {
        die("%s is in use by another process", t->flash_path);
    } else if (rc == SMPDFU_EFILE) {
        die("%s: cannot open, or its size is not %u bytes (layout changed?)", t->flash_path,
            size);
    } else if (rc != 0) {
        die("flash geometry: %s", smpdfu_strerror(rc));
    }
    smpdfu_posix_hash_init(&t->hash_state, &t->hash);
    memset(&t->boot, 0, sizeof(t->boot));
    smpdfu_posix_powercut_init(&t->cut, &t->pf.flash, t->power_cut, true);
    t->boot.flash = t->power_cut ? &t->cut.flash : &t->pf.flash;
    t->boot.max_sectors = max_sectors;
    t->boot.scratch.off = (uint32_t)n * t->slot_size + t->page_size;
    t->boot.scratch.size = scratch;
    t->boot.image_count = (uint8_t)t->images;
    for (int i = 0; i < n; i++) {
        t->boot.slot[i].off = (uint32_t)i * t->slot_size;
        t->boot.slot[i].size = t->slot_size;
    }
    t->boot.mode = t->mode;
    t->boot.max_align = max_align;
    t->boot.hash = &t->hash;
    if (t->key_path) {
        rc = smpdfu_posix_sigkey_load(&t->key, t->key_path, &t->sv);
        if (rc != 0) {
            die("--key %s: %s", t->key_path,
                rc == SMPDFU_EFILE ? strerror(errno) : smpdfu_strerror(rc));
        }
        t->have_key = true;
        t->boot.verify = verify_sig;
        t->boot.verify_ctx = t;
    }
    if (smpdfu_boot_cfg_check(&t->boot) != 0) {
        die("flash layout does not work (slot too small for the trailer?)");
    }
    t->progress.off = (uint32_t)n * t->slot_size;
    t->progress.size = t->page_size;
    tg_setup(t->tg, &t->pf.flash, t->progress.off + t->page_size + scratch, &t->hash);
    t->work_len = 2u * t->page_size;
    t->work = malloc(t->work_len);
    t->rsp = malloc(t->buf_size);
    if (!t->work || !t->rsp) {
        die("out of memory");
    }
    if (t->pf.created) {
        if (!t->factory[0]) {
            /* Not -q: a device that will never answer must say why. */
            fprintf(stderr,
                    "smpdfu-target: the new flash %s holds no image (no --factory IMAGE): like "
                    "MCUboot with an empty primary slot, the device halts in the bootloader and "
                    "answers no SMP request\n",
                    t->flash_path);
        }
        for (int i = 0; i < t->images; i++) {
            if (t->factory[i]) {
                program_factory(t, i);
            }
        }
    } else if (t->factory[0] || t->factory[1]) {
        logf_(t, "flash: %s exists: --factory ignored", t->flash_path);
    }
    t->pf.erase_ms_per_page = t->erase_ms;
    t->pf.write_us_per_kib = t->write_us_per_kib;
    t->pf.delay = flash_busy;
    t->pf.delay_ctx = t;
}

/* --------------------------------------------------------- transports */

/* 0, -1 for a malformed spec, or getaddrinfo()'s EAI_* code (non-zero). */
static int parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[128];
    const char *port;
    const char *colon;
    struct addrinfo hints, *ai;
    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - spec - 1) >= sizeof(host)) {
            return -1;
        }
        memcpy(host, spec + 1, (size_t)(rb - spec - 1));
        host[rb - spec - 1] = 0;
        port = rb + 2;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || (size_t)(colon - spec) >= sizeof(host)) {
            return -1;
        }
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = 0;
        port = colon + 1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    int g = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (g != 0) {
        return g == -1 ? EAI_FAIL : g; /* keep -1 for "malformed" */
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

/* 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 stay on this machine; any other
 * address (0.0.0.0 and :: included) can be reached from elsewhere. */
static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

static void open_udp(target_t *t)
{
    for (int i = 0; i < t->nudp; i++) {
        struct sockaddr_storage ss;
        socklen_t len;
        char host[INET6_ADDRSTRLEN], port[16];
        int g = parse_addr(t->udp_spec[i], &ss, &len);
        if (g == -1) {
            die("bad --udp address %s (ADDR:PORT or [V6ADDR]:PORT)", t->udp_spec[i]);
        } else if (g != 0) {
            die("--udp %s: %s", t->udp_spec[i], gai_strerror(g));
        }
        int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0) {
            die("udp %s: %s", t->udp_spec[i], strerror(errno));
        }
        len = sizeof(ss);
        getsockname(fd, (struct sockaddr *)&ss, &len);
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV);
        t->udp_fd[i] = fd;
        if (!is_loopback(&ss)) {
            /* Not -q: this is about who else can flash the device. */
            fprintf(stderr,
                    "smpdfu-target: warning: SMP on udp %s is reachable from the network. SMP "
                    "has no authentication: anyone who can send a datagram to this port can "
                    "upload, boot or erase firmware. Use 127.0.0.1 or [::1] unless that is "
                    "what you want.\n",
                    t->udp_spec[i]);
        }
        printf(ss.ss_family == AF_INET6 ? "udp: [%s]:%s\n" : "udp: %s:%s\n", host, port);
    }
}

static void open_pty(target_t *t)
{
    struct termios tio;
    t->pty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (t->pty_master < 0 || grantpt(t->pty_master) != 0 || unlockpt(t->pty_master) != 0 ||
        ptsname_r(t->pty_master, t->pty_name, sizeof(t->pty_name)) != 0) {
        die("cannot create a pty: %s", strerror(errno));
    }
    /* Keep the slave open ourselves, in raw mode: no echo of our own output
     * back to us, and no hang-up when a client closes it. */
    t->pty_slave = open(t->pty_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (t->pty_slave < 0 || tcgetattr(t->pty_slave, &tio) != 0) {
        die("cannot open %s: %s", t->pty_name, strerror(errno));
    }
    cfmakeraw(&tio);
    tcsetattr(t->pty_slave, TCSANOW, &tio);
    fcntl(t->pty_master, F_SETFL, fcntl(t->pty_master, F_GETFL) | O_NONBLOCK);
    memset(&t->ser_link, 0, sizeof(t->ser_link));
    t->ser_link.kind = t->raw_uart ? SMPDFU_LINK_RAW_UART : SMPDFU_LINK_SERIAL;
    t->ser_link.line_max = SMPDFU_SERIAL_LINE_MAX;
    t->ser_link.rx_line_max = t->rx_buf_size;
    /* Zephyr: the whole frame (length, packet, CRC) fits one buf_size net_buf. */
    t->ser_buf = malloc(tg_rx_max(t->tg, t->buf_size));
    if (!t->ser_buf) {
        die("out of memory");
    }
    smpdfu_link_dec_init(&t->ser_dec, &t->ser_link, t->ser_buf, t->buf_size);
    /* Raw UART has no marker to resync on: a partial packet is dropped
     * after a quiet gap (a receive timeout). Console framing ignores it. */
    smpdfu_link_dec_set_gap(&t->ser_dec, RAW_GAP_MS);
    t->rxl_on = !t->raw_uart && t->rx_bufs > 0;
    if (t->rxl_on) {
        t->rxl_mem = malloc((size_t)t->rx_bufs * t->rx_buf_size);
        if (!t->rxl_mem ||
            smpdfu_rxlines_init(&t->rxl, t->rxl_mem, t->rx_bufs, t->rx_buf_size) != 0) {
            die("out of memory");
        }
    }
    printf("serial: %s\n", t->pty_name);
}

typedef struct {
    target_t *t;
    int fd;
    const struct sockaddr_storage *peer;
    socklen_t peer_len;
} send_ctx_t;

static int send_udp(void *ctx, const uint8_t *p, size_t n)
{
    send_ctx_t *c = ctx;
    if (sendto(c->fd, p, n, 0, (const struct sockaddr *)c->peer, c->peer_len) < 0) {
        logf_(c->t, "[udp] send failed: %s", strerror(errno));
    }
    return 0; /* a lost datagram is the client's business */
}

static int send_serial(void *ctx, const uint8_t *p, size_t n)
{
    send_ctx_t *c = ctx;
    target_t *t = c->t;
    int len = smpdfu_link_encode(&t->ser_link, p, n, t->out, t->out_cap);
    if (len < 0) {
        return 0;
    }
    size_t done = 0;
    while (done < (size_t)len) {
        ssize_t w = write(t->pty_master, t->out + done, (size_t)len - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = {t->pty_master, POLLOUT, 0};
            if (poll(&pfd, 1, 200) <= 0) {
                logf_(t, "[serial] nobody reads the pty: response dropped");
                return 0;
            }
            continue;
        }
        if (w <= 0) {
            return 0;
        }
        done += (size_t)w;
    }
    return 0;
}

static void serve(target_t *t, const uint8_t *pkt, size_t len, smpdfu_server_send_fn send,
                  send_ctx_t *c, const char *via)
{
    if (t->halted) {
        if (!t->halted_logged) {
            /* Once per boot: the client will only see silence. */
            logf_(t, "[%s] request ignored: halted in the bootloader (no valid image in the "
                  "primary slot); further requests are ignored silently", via);
            t->halted_logged = true;
        }
        return;
    }
    t->via = via;
    if (tg_serve(t->tg, pkt, len, send, c)) {
        return;
    }
    smpdfu_server_process(&t->srv, pkt, len, send, c);
}

static void handle_udp(target_t *t, int fd)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        ssize_t n = recvfrom(fd, t->udp_in, 65536, 0, (struct sockaddr *)&peer, &plen);
        if (n < 0) {
            return;
        }
        if ((size_t)n > tg_rx_size(t->tg, t->buf_size)) {
            logf_(t, "[udp] datagram of %zd bytes larger than buf_size %u: dropped", n,
                  t->buf_size);
            continue;
        }
        send_ctx_t c = {t, fd, &peer, plen};
        serve(t, t->udp_in, (size_t)n, send_udp, &c, "udp");
        if (t->reset_pending) {
            return; /* let the main loop reboot before reading more */
        }
    }
}

static void log_rx_drop(target_t *t, smpdfu_rxlines_event_t ev)
{
    const smpdfu_rxlines_stats_t *st = &t->rxl.stats;
    if (ev == SMPDFU_RXLINES_NO_BUFFER) {
        logf_(t, "[serial] line dropped: all %u RX line buffers held (%u dropped so far)",
              t->rx_bufs, st->no_buffer);
    } else if (ev == SMPDFU_RXLINES_TOO_LONG) {
        logf_(t, "[serial] line dropped: longer than the %u-byte RX line buffer (%u so far)",
              t->rx_buf_size, st->too_long);
    }
}

/* The SMP side (Zephyr's smp_uart_process_frag): decode each waiting line,
 * free its buffer, then handle a request the line completed. A request may
 * keep the device busy (flash), during which flash_busy() receives more
 * lines into the buffers; they are taken here afterwards. */
static void take_lines(target_t *t)
{
    const uint8_t *line;
    size_t n;
    while ((n = smpdfu_rxlines_peek(&t->rxl, &line)) > 0) {
        size_t pos = 0;
        int pkt = 0;
        while (pos < n) {
            size_t used = 0;
            int rc = smpdfu_link_dec_feed(&t->ser_dec, line + pos, n - pos, &used);
            pos += used;
            if (rc > 0) {
                pkt = rc;
            }
            if (used == 0) {
                break;
            }
        }
        smpdfu_rxlines_release(&t->rxl);
        if (pkt > 0) {
            send_ctx_t c = {t, t->pty_master, NULL, 0};
            serve(t, smpdfu_link_dec_packet(&t->ser_dec), (size_t)pkt, send_serial, &c,
                  "serial");
        }
    }
}

/* Bytes read while idle: into the line buffers, each completed line taken at
 * once (the SMP side runs as soon as a line is in). */
static void rx_lines(target_t *t, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        smpdfu_rxlines_event_t ev = smpdfu_rxlines_rx(&t->rxl, p[i]);
        log_rx_drop(t, ev);
        if (ev != SMPDFU_RXLINES_LINE) {
            continue;
        }
        /* What follows in this read was already on the line: if the request
         * keeps the device busy, it is received during that time. */
        t->rx_rest = p + i + 1;
        t->rx_rest_len = n - i - 1;
        t->rx_rest_taken = false;
        take_lines(t);
        bool taken = t->rx_rest_taken;
        t->rx_rest = NULL;
        t->rx_rest_len = 0;
        if (taken) {
            return; /* take_lines() also took the lines of the busy time */
        }
    }
}

static void rx_busy_bytes(target_t *t, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        log_rx_drop(t, smpdfu_rxlines_rx(&t->rxl, p[i]));
    }
}

/* posix flash delay hook: the flash is busy for `us`. With the line buffers
 * on, the receive interrupt goes on storing lines into free buffers, but none
 * is taken until the request is done. */
static void flash_busy(void *ctx, uint64_t us, bool erase)
{
    target_t *t = ctx;
    uint64_t end = now_us() + us;
    if (us >= 100000u) {
        logf_(t, "flash: busy %llu ms (%s)", (unsigned long long)(us / 1000u),
              erase ? "erase" : "write");
    }
    if (!t->rxl_on) {
        struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        return;
    }
    if (t->rx_rest != NULL && !t->rx_rest_taken) {
        t->rx_rest_taken = true;
        rx_busy_bytes(t, t->rx_rest, t->rx_rest_len);
    }
    for (;;) {
        uint64_t now = now_us();
        if (now >= end) {
            break;
        }
        uint64_t left = end - now;
        struct timespec ts = {(time_t)(left / 1000000u), (long)(left % 1000000u) * 1000};
        struct pollfd pfd = {t->pty_master, POLLIN, 0};
        int rc = ppoll(&pfd, 1, &ts, NULL);
        if (rc > 0 && (pfd.revents & POLLIN)) {
            uint8_t buf[1024];
            ssize_t r = read(t->pty_master, buf, sizeof(buf));
            if (r > 0) {
                rx_busy_bytes(t, buf, (size_t)r);
            }
        } else if (rc > 0) {
            /* POLLHUP with no reader on the slave side: nothing to receive. */
            struct timespec rest = ts;
            while (nanosleep(&rest, &rest) != 0 && errno == EINTR) {
            }
        }
    }
}

/* Drop a raw partial packet that has been quiet for the gap (and log it). */
static void rx_stale(target_t *t, uint64_t now)
{
    if (smpdfu_link_dec_tick(&t->ser_dec, now) > 0) {
        logf_(t, "[serial] partial packet dropped after %u ms without bytes (%u so far)",
              RAW_GAP_MS, t->ser_dec.stale);
    }
}

static void handle_pty(target_t *t)
{
    uint8_t buf[1024];
    ssize_t n = read(t->pty_master, buf, sizeof(buf));
    if (n <= 0) {
        return;
    }
    if (t->rxl_on) {
        rx_lines(t, buf, (size_t)n);
        return;
    }
    uint64_t now = smpdfu_posix_now_ms();
    rx_stale(t, now);
    size_t pos = 0;
    while (pos < (size_t)n) {
        size_t used = 0;
        int rc = smpdfu_link_dec_feed_at(&t->ser_dec, buf + pos, (size_t)n - pos, &used, now);
        pos += used;
        if (rc > 0) {
            send_ctx_t c = {t, t->pty_master, NULL, 0};
            serve(t, smpdfu_link_dec_packet(&t->ser_dec), (size_t)rc, send_serial, &c, "serial");
        }
        if (used == 0) {
            break;
        }
    }
}

static void do_reset(target_t *t)
{
    t->reset_pending = false;
    logf_(t, "reset: running the bootloader");
    boot_device(t);
    if (t->rxl_on) {
        /* What arrived while MCUboot swapped was never received. */
        smpdfu_rxlines_reset(&t->rxl);
    }
    logf_(t, "reset: %s", t->halted ? "halted" : "application running");
    if (t->pty_master >= 0) {
        /* a fresh receiver, sized for what now runs (MCUboot's buffer differs) */
        smpdfu_link_dec_init(&t->ser_dec, &t->ser_link, t->ser_buf, tg_rx_size(t->tg, t->buf_size));
    }
    logf_(t, "reset: %s", t->halted ? "halted" : tg_running(t->tg));
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("smpdfu-target %s\n", smpdfu_version());
        return 0;
    }
    target_t *t = calloc(1, sizeof(*t));
    struct sigaction sa;
    if (!t) {
        return 2;
    }
    t->pty_master = t->pty_slave = -1;
    for (int i = 0; i < MAX_UDP; i++) {
        t->udp_fd[i] = -1;
    }
    t->tg = tg_take_args(&argc, argv);
    parse_args(t, argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IOLBF, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* SIGTERM/SIGINT are held back except inside the main loop's ppoll(), so
     * one that arrives between the stop check and the wait is not lost (it
     * ends the wait at once). */
    sigset_t stop_sigs, run_mask;
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGTERM);
    sigaddset(&stop_sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_sigs, &run_mask);

    setup_device(t);
    t->udp_in = malloc(65536);
    t->out_cap = 4 * (size_t)t->buf_size + 1024;
    t->out = malloc(t->out_cap);
    if (!t->udp_in || !t->out) {
        die("out of memory");
    }
    boot_device(t);
    open_udp(t);
    if (t->serial) {
        open_pty(t);
    }
    printf("ready\n");
    fflush(stdout);

    while (!g_stop) {
        struct pollfd pfd[MAX_UDP + 1];
        int np = 0, timeout = -1;
        for (int i = 0; i < t->nudp; i++) {
            pfd[np].fd = t->udp_fd[i];
            pfd[np].events = POLLIN;
            np++;
        }
        if (t->pty_master >= 0) {
            pfd[np].fd = t->pty_master;
            pfd[np].events = POLLIN;
            np++;
        }
        uint64_t now = smpdfu_posix_now_ms();
        if (t->reset_pending) {
            if (now >= t->reset_at) {
                do_reset(t);
                continue;
            }
            timeout = (int)(t->reset_at - now);
        }
        if (t->rxl_on && smpdfu_rxlines_peek(&t->rxl, NULL) > 0) {
            /* Lines received while a UDP request kept the flash busy. */
            take_lines(t);
            continue;
        }
        if (t->pty_master >= 0) {
            rx_stale(t, now);
            uint64_t at = smpdfu_link_dec_stale_at(&t->ser_dec);
            if (at != UINT64_MAX) {
                int left = at > now ? (int)(at - now) : 0;
                if (timeout < 0 || left < timeout) {
                    timeout = left;
                }
            }
        }
        struct timespec ts = {timeout / 1000, (long)(timeout % 1000) * 1000000L};
        int rc = ppoll(pfd, (nfds_t)np, timeout < 0 ? NULL : &ts, &run_mask);
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        for (int i = 0; i < np; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLERR | POLLHUP))) {
                continue;
            }
            if (pfd[i].fd == t->pty_master) {
                handle_pty(t);
            } else {
                handle_udp(t, pfd[i].fd);
            }
        }
    }
    if (t->rxl_on) {
        const smpdfu_rxlines_stats_t *st = &t->rxl.stats;
        logf_(t, "serial rx: %u lines, %u dropped for want of a buffer, %u too long",
              st->lines, st->no_buffer, st->too_long);
    }
    logf_(t, "stopping");
    for (int i = 0; i < t->nudp; i++) {
        close(t->udp_fd[i]);
    }
    if (t->pty_master >= 0) {
        close(t->pty_master);
        close(t->pty_slave);
    }
    smpdfu_posix_flash_close(&t->pf);
    if (t->have_key) {
        smpdfu_posix_sigkey_free(&t->key);
    }
    smpdfu_posix_hash_free(&t->hash_state);
    tg_free(t->tg);
    free(t->work);
    free(t->rsp);
    free(t->ser_buf);
    free(t->rxl_mem);
    free(t->udp_in);
    free(t->out);
    free(t);
    return 0;
}
