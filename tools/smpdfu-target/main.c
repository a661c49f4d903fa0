/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu-target: one emulated Zephyr + MCUboot device on a flash file.
 * Serves SMP over UDP and/or a pty (console framing or raw UART), logs every
 * request in words on stderr, and on `reset` runs the boot emulation and
 * restarts the server from what is on flash. See docs/target.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/version.h"
#include "smpdfu/boot.h"
#include "smpdfu/device_layout.h"
#include "smpdfu/error.h"
#include "smpdfu/image.h"
#include "smpdfu/link.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_args.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/posix_file.h"
#include "smpdfu/posix_flash.h"
#include "smpdfu/posix_serve.h"
#include "smpdfu/rxlines.h"
#include "smpdfu/server.h"
#include "smpdfu/smp.h"

#include "groups.h"

#define MAX_UDP 2

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

    /* transports: UDP, the pty, the poll loop, the reset delay */
    smpdfu_posix_serve_t serve;
    const char *via; /* transport of the request being handled, for the log */
} target_t;

static volatile sig_atomic_t g_stop;

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

static void program_factory(target_t *t, int image)
{
    smpdfu_posix_file_t f;
    const smpdfu_flash_area_t *a = &t->boot.slot[2 * image];
    errno = 0;
    int rc = smpdfu_posix_file_open(&f, t->factory[image]);
    if (rc == SMPDFU_ERANGE) {
        die("%s (4 GiB or more) does not fit a %u-byte slot", t->factory[image], a->size);
    } else if (rc != 0) {
        die("cannot read %s: %s", t->factory[image], errno ? strerror(errno) : "empty or unreadable");
    }
    uint32_t len = f.size;
    if (len > a->size) {
        die("%s (%u bytes) does not fit a %u-byte slot", t->factory[image], len, a->size);
    }
    rc = smpdfu_device_program(&t->pf.flash, a, smpdfu_posix_file_read, &f, len, t->work,
                               t->work_len);
    smpdfu_posix_file_close(&f);
    if (rc != 0) {
        die("programming %s: %s", t->factory[image], smpdfu_strerror(rc));
    }
    logf_(t, "flash: programmed %s into image %d primary (%u bytes)", t->factory[image], image,
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

static void on_reset(void *ctx)
{
    target_t *t = ctx;
    smpdfu_posix_serve_reset(&t->serve);
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
}

static void setup_device(target_t *t)
{
    if (t->page_size == 0 || t->slot_size % t->page_size) {
        die("--slot-size must be a multiple of --page-size");
    }
    /* Flash file: the slots, the upload progress page, the scratch area
     * (scratch mode), then the other groups' pages (settings). */
    smpdfu_device_layout_cfg_t lc = {(uint32_t)t->images, t->slot_size, t->page_size,
                                     t->write_align, t->mode,
                                     tg_flash_extra(t->tg, t->page_size)};
    smpdfu_device_layout_t lay;
    memset(&t->boot, 0, sizeof(t->boot));
    int rc = smpdfu_device_layout(&lc, &t->boot, &lay);
    if (rc != 0) {
        die("flash geometry: %s", smpdfu_strerror(rc));
    }
    uint32_t size = lay.flash_size;
    rc = smpdfu_posix_flash_open(&t->pf, t->flash_path, size, t->page_size, t->write_align, 0xff);
    if (rc == SMPDFU_EBUSY) {
        die("%s is in use by another process", t->flash_path);
    } else if (rc == SMPDFU_EFILE) {
        die("%s: cannot open, or its size is not %u bytes (layout changed?)", t->flash_path,
            size);
    } else if (rc != 0) {
        die("flash geometry: %s", smpdfu_strerror(rc));
    }
    smpdfu_posix_hash_init(&t->hash_state, &t->hash);
    smpdfu_posix_powercut_init(&t->cut, &t->pf.flash, t->power_cut, true);
    t->boot.flash = t->power_cut ? &t->cut.flash : &t->pf.flash;
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
    t->progress = lay.progress;
    tg_setup(t->tg, &t->pf.flash, lay.extra.off, &t->hash);
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
    t->pf.delay = smpdfu_posix_serve_busy;
    t->pf.delay_ctx = &t->serve;
}

/* --------------------------------------------------------- transports */

static void log_line(void *ctx, const char *line)
{
    logf_(ctx, "%s", line);
}

static uint32_t rx_size(void *ctx)
{
    const target_t *t = ctx;
    return tg_rx_size(t->tg, t->buf_size);
}

/* Each received packet: MCUboot halted, in serial recovery, or the
 * application's server. */
static void handle(void *ctx, const uint8_t *pkt, size_t len, smpdfu_server_send_fn send,
                   void *send_ctx, const char *via)
{
    target_t *t = ctx;
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
    if (tg_serve(t->tg, pkt, len, send, send_ctx)) {
        return;
    }
    smpdfu_server_process(&t->srv, pkt, len, send, send_ctx);
}

static void reboot(void *ctx)
{
    target_t *t = ctx;
    logf_(t, "reset: running the bootloader");
    boot_device(t);
    logf_(t, "reset: %s", t->halted ? "halted" : "application running");
    logf_(t, "reset: %s", t->halted ? "halted" : tg_running(t->tg));
}

static void open_udp(target_t *t)
{
    for (int i = 0; i < t->nudp; i++) {
        char bound[INET6_ADDRSTRLEN + 16];
        bool loopback;
        int g;
        int rc = smpdfu_posix_serve_udp(&t->serve, t->udp_spec[i], bound, sizeof(bound),
                                        &loopback, &g);
        if (rc == SMPDFU_EUSAGE) {
            die("bad --udp address %s (ADDR:PORT or [V6ADDR]:PORT)", t->udp_spec[i]);
        } else if (rc != 0 && g != 0) {
            die("--udp %s: %s", t->udp_spec[i], gai_strerror(g));
        } else if (rc != 0) {
            die("udp %s: %s", t->udp_spec[i], strerror(errno));
        }
        if (!loopback) {
            /* Not -q: this is about who else can flash the device. */
            fprintf(stderr,
                    "smpdfu-target: warning: SMP on udp %s is reachable from the network. SMP "
                    "has no authentication: anyone who can send a datagram to this port can "
                    "upload, boot or erase firmware. Use 127.0.0.1 or [::1] unless that is "
                    "what you want.\n",
                    t->udp_spec[i]);
        }
        printf("udp: %s\n", bound);
    }
}

static void open_pty(target_t *t)
{
    int rc = smpdfu_posix_serve_pty(&t->serve,
                                    t->raw_uart ? SMPDFU_LINK_RAW_UART : SMPDFU_LINK_SERIAL);
    if (rc == SMPDFU_ENOSPC) {
        die("out of memory");
    } else if (rc != 0 && t->serve.pty.path[0]) {
        die("cannot open %s: %s", t->serve.pty.path, strerror(errno));
    } else if (rc != 0) {
        die("cannot create a pty: %s", strerror(errno));
    }
    printf("serial: %s\n", t->serve.pty.path);
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
    t->tg = tg_take_args(&argc, argv);
    parse_args(t, argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IOLBF, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* SIGTERM/SIGINT are held back except inside the loop's wait, so one
     * that arrives between the stop check and the wait is not lost (it ends
     * the wait at once). */
    sigset_t stop_sigs, run_mask;
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGTERM);
    sigaddset(&stop_sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_sigs, &run_mask);

    smpdfu_posix_serve_cfg_t sc;
    memset(&sc, 0, sizeof(sc));
    sc.buf_size = t->buf_size;
    sc.rx_max = tg_rx_max(t->tg, t->buf_size);
    sc.rx_bufs = t->rx_bufs;
    sc.rx_buf_size = t->rx_buf_size;
    sc.reset_delay_ms = t->reset_delay_ms;
    sc.handle = handle;
    sc.rx_size = rx_size;
    sc.reboot = reboot;
    sc.log = log_line;
    sc.ctx = t;
    if (smpdfu_posix_serve_init(&t->serve, &sc) != 0) {
        die("out of memory");
    }
    setup_device(t);
    boot_device(t);
    open_udp(t);
    if (t->serial) {
        open_pty(t);
    }
    printf("ready\n");
    fflush(stdout);

    /* A ppoll() failure ends the loop like a stop: exit 0. */
    (void)smpdfu_posix_serve_run(&t->serve, &g_stop, &run_mask);

    const smpdfu_rxlines_stats_t *st = smpdfu_posix_serve_rx_stats(&t->serve);
    if (st) {
        logf_(t, "serial rx: %u lines, %u dropped for want of a buffer, %u too long",
              st->lines, st->no_buffer, st->too_long);
    }
    logf_(t, "stopping");
    smpdfu_posix_serve_close(&t->serve);
    smpdfu_posix_flash_close(&t->pf);
    if (t->have_key) {
        smpdfu_posix_sigkey_free(&t->key);
    }
    smpdfu_posix_hash_free(&t->hash_state);
    tg_free(t->tg);
    free(t->work);
    free(t->rsp);
    free(t);
    return 0;
}
