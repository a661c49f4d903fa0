/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu-target: groups beyond OS and image, and MCUboot serial recovery
 * (groups.h, docs/target.md "Other groups"). */
#include "groups.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/posix_groups.h"
#include "smpdfu/server_groups.h"

#define MAX_OFF 16

struct target_groups {
    /* options */
    const char *fs_root;
    const char *off[MAX_OFF];
    int noff;
    bool reset_needs_force;
    uint32_t recovery_buf;

    /* device */
    const smpdfu_flash_t *flash;
    const smpdfu_hash_t *hash;
    smpdfu_settings_flash_t sflash;
    bool sflash_ok;
    smpdfu_posix_fsroot_t root;
    bool have_root;
    smpdfu_posix_os_t posix_os;
    smpdfu_stat_group_t stat;
    smpdfu_stat_set_t fs_stats;
    smpdfu_settings_group_t settings;
    smpdfu_fs_group_t fs;
    smpdfu_shell_group_t shell;
    smpdfu_enum_group_t en;
    uint8_t fs_work[4096];

    /* reset / recovery */
    bool want_recovery;     /* the accepted reset asked for boot_mode 1 */
    bool in_recovery;
    bool no_app_recovery;   /* --recovery-no-app: CONFIG_BOOT_SERIAL_NO_APPLICATION */
    smpdfu_bootserial_t bs;
    /* what tg_boot_recovery() was given, for entering recovery later */
    const smpdfu_boot_cfg_t *r_boot;
    uint8_t *r_rsp;
    size_t r_rsp_cap;
    uint8_t *r_work;
    size_t r_work_len;
    void (*r_on_reset)(void *);
    void (*r_on_event)(void *, const smpdfu_server_event_t *);
    void *r_ctx;
};

static void tg_die(const char *what, const char *arg)
{
    fprintf(stderr, "smpdfu-target: %s%s\n", what, arg ? arg : "");
    exit(2);
}

static const char *const known[] = {"os",    "img",     "stat",   "settings", "fs",
                                    "shell", "enum",    "taskstat", "mpstat", "datetime",
                                    NULL};

target_groups_t *tg_take_args(int *argc, char **argv)
{
    target_groups_t *g = calloc(1, sizeof(*g));
    int out = 1;
    if (g == NULL) {
        tg_die("out of memory", NULL);
    }
    g->recovery_buf = 512;
    smpdfu_posix_os_init(&g->posix_os);
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;
        const char *names[] = {"--fs-root", "--no-group", "--recovery-buf-size"};
        int which = -1;
        for (int k = 0; k < 3; k++) {
            size_t n = strlen(names[k]);
            if (strncmp(a, names[k], n) == 0 && (a[n] == 0 || a[n] == '=')) {
                which = k;
                if (a[n] == '=') {
                    v = a + n + 1;
                } else if (i + 1 < *argc) {
                    v = argv[++i];
                } else {
                    tg_die("missing value for ", names[k]);
                }
            }
        }
        if (strcmp(a, "--reset-needs-force") == 0) {
            g->reset_needs_force = true;
            continue;
        }
        if (strcmp(a, "--recovery-no-app") == 0) {
            g->no_app_recovery = true;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            /* leave the rest to getopt */
            while (i < *argc) {
                argv[out++] = argv[i++];
            }
            break;
        }
        if (which == 0) {
            g->fs_root = v;
        } else if (which == 1) {
            bool ok = false;
            for (int k = 0; known[k] != NULL; k++) {
                ok = ok || strcmp(known[k], v) == 0;
            }
            if (!ok || g->noff >= MAX_OFF) {
                tg_die("--no-group: not a group: ", v);
            }
            g->off[g->noff++] = v;
        } else if (which == 2) {
            char *end;
            unsigned long n = strtoul(v, &end, 0);
            if (*end != 0 || n < 64 || n > 65535) {
                tg_die("--recovery-buf-size must be 64..65535: ", v);
            }
            g->recovery_buf = (uint32_t)n;
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    *argc = out;
    return g;
}

void tg_usage(FILE *f)
{
    fprintf(f,
            "  --fs-root DIR        fs group (8) serves files under DIR (nothing outside it)\n"
            "  --no-group NAME      leave a group out (answered with rc 8): os img stat\n"
            "                       settings fs shell enum, or os commands taskstat mpstat\n"
            "                       datetime (repeatable)\n"
            "  --reset-needs-force  os reset is refused (rc 10, EBUSY) unless \"force\" is true\n"
            "  --recovery-buf-size N  MCUboot serial recovery receive buffer (default 512)\n"
            "  --recovery-no-app    MCUboot enters serial recovery when no image is bootable\n"
            "                       (CONFIG_BOOT_SERIAL_NO_APPLICATION) instead of halting\n");
}

static bool is_off(const target_groups_t *g, const char *name)
{
    for (int i = 0; i < g->noff; i++) {
        if (strcmp(g->off[i], name) == 0) {
            return true;
        }
    }
    return false;
}

uint32_t tg_flash_extra(const target_groups_t *g, uint32_t page_size)
{
    (void)g;
    return 2 * page_size;
}

void tg_setup(target_groups_t *g, const smpdfu_flash_t *flash, uint32_t settings_off,
              const smpdfu_hash_t *hash)
{
    g->flash = flash;
    g->hash = hash;
    smpdfu_flash_area_t a = {settings_off, 2 * flash->page_size};
    int rc = smpdfu_settings_flash_init(&g->sflash, flash, &a);
    if (rc != 0) {
        fprintf(stderr, "settings: flash store unusable (%s): settings will not persist\n",
                smpdfu_strerror(rc));
    }
    g->sflash_ok = rc == 0;
    if (g->fs_root != NULL) {
        if (smpdfu_posix_fsroot_open(&g->root, g->fs_root) != 0) {
            fprintf(stderr, "smpdfu-target: --fs-root %s: %s\n", g->fs_root, strerror(errno));
            exit(2);
        }
        g->have_root = true;
    }
}

static int reset_hook(void *ctx, bool force, int boot_mode)
{
    target_groups_t *g = ctx;
    if (g->reset_needs_force && !force) {
        return SMPDFU_MGMT_EBUSY;
    }
    g->want_recovery = boot_mode == 1;
    return 0;
}

/* The OS group's port context is the POSIX one; the reset hook needs ours,
 * so it goes through this trampoline keyed on the posix_os member. */
static int reset_tramp(void *ctx, bool force, int boot_mode)
{
    target_groups_t *g =
        (target_groups_t *)((char *)ctx - offsetof(target_groups_t, posix_os));
    return reset_hook(g, force, boot_mode);
}

static bool fs_field(void *ctx, size_t i, const char **name, uint32_t *value)
{
    const smpdfu_fs_group_t *fs = ctx;
    if (i > 1) {
        return false;
    }
    uint64_t v = i == 0 ? fs->bytes_up : fs->bytes_down;
    *name = i == 0 ? "bytes_up" : "bytes_down";
    *value = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    return true;
}

void tg_register(target_groups_t *g, smpdfu_server_t *srv, smpdfu_os_group_t *os,
                 smpdfu_server_group_t *img)
{
    smpdfu_posix_os_attach(&g->posix_os, os);
    os->reset_hook = reset_tramp;
    os->reset_boot_mode = true;
    if (is_off(g, "taskstat")) {
        os->task = NULL;
    }
    if (is_off(g, "mpstat")) {
        os->mpool = NULL;
    }
    if (is_off(g, "datetime")) {
        os->time_get = NULL;
        os->time_set = NULL;
    }
    img->details_name = "img mgmt";
    if (is_off(g, "os")) {
        smpdfu_server_unregister(srv, &os->group);
    }
    if (is_off(g, "img")) {
        smpdfu_server_unregister(srv, img);
    }
    if (!is_off(g, "stat")) {
        smpdfu_stat_group_init(&g->stat, srv);
        smpdfu_server_register(srv, &g->stat.group);
    }
    if (!is_off(g, "settings")) {
        /* RAM is lost on a reboot: the application loads its settings again. */
        smpdfu_settings_group_init(&g->settings, g->sflash_ok ? &g->sflash.store : NULL);
        if (g->sflash_ok) {
            smpdfu_settings_flash_t again;
            smpdfu_flash_area_t a = g->sflash.area;
            if (smpdfu_settings_flash_init(&again, g->flash, &a) == 0) {
                g->sflash = again;
                g->sflash.store.ctx = &g->sflash;
            }
        }
        smpdfu_settings_load(&g->settings);
        smpdfu_server_register(srv, &g->settings.group);
    }
    if (g->have_root && !is_off(g, "fs")) {
        if (g->fs.port != NULL) {
            smpdfu_fs_group_close(&g->fs); /* the transfer does not survive a reboot */
        }
        smpdfu_fs_group_init(&g->fs, &g->root.port, g->hash, g->fs_work, sizeof(g->fs_work));
        smpdfu_server_register(srv, &g->fs.group);
        if (!is_off(g, "stat")) {
            g->fs_stats.name = "fs";
            g->fs_stats.field = fs_field;
            g->fs_stats.ctx = &g->fs;
            smpdfu_stat_add(&g->stat, &g->fs_stats);
        }
    }
    if (!is_off(g, "shell")) {
        smpdfu_shell_group_init(&g->shell, NULL, 0, &g->posix_os);
        g->shell.uptime_ms = smpdfu_posix_os_uptime_ms;
        smpdfu_server_register(srv, &g->shell.group);
    }
    if (!is_off(g, "enum")) {
        smpdfu_enum_group_init(&g->en);
        smpdfu_server_register(srv, &g->en.group);
    }
}

static void enter_recovery(target_groups_t *g)
{
    g->in_recovery = true;
    if (g->fs.port != NULL) {
        smpdfu_fs_group_close(&g->fs);
    }
    smpdfu_bootserial_init(&g->bs, g->r_boot, g->r_rsp, g->r_rsp_cap, g->r_work, g->r_work_len);
    g->bs.receive_size = g->recovery_buf;
    g->bs.on_reset = g->r_on_reset;
    g->bs.reset_ctx = g->r_ctx;
    g->bs.on_event = g->r_on_event;
    g->bs.event_ctx = g->r_ctx;
}

bool tg_boot_recovery(target_groups_t *g, const smpdfu_boot_cfg_t *boot, uint8_t *rsp,
                      size_t rsp_cap, uint8_t *work, size_t work_len, void (*on_reset)(void *),
                      void (*on_event)(void *, const smpdfu_server_event_t *), void *ctx)
{
    g->r_boot = boot;
    g->r_rsp = rsp;
    g->r_rsp_cap = rsp_cap;
    g->r_work = work;
    g->r_work_len = work_len;
    g->r_on_reset = on_reset;
    g->r_on_event = on_event;
    g->r_ctx = ctx;
    /* MCUboot reads and clears the retained boot mode before boot_go(). */
    bool want = g->want_recovery;
    g->want_recovery = false;
    g->in_recovery = false;
    if (!want) {
        return false;
    }
    enter_recovery(g);
    return true;
}

bool tg_no_app_recovery(target_groups_t *g)
{
    if (!g->no_app_recovery || g->r_boot == NULL) {
        return false;
    }
    enter_recovery(g);
    return true;
}

bool tg_serve(target_groups_t *g, const uint8_t *pkt, size_t len, smpdfu_server_send_fn send,
              void *send_ctx)
{
    if (!g->in_recovery) {
        return false;
    }
    if (len > g->recovery_buf) {
        return true; /* larger than MCUboot's receive buffer: lost */
    }
    smpdfu_bootserial_process(&g->bs, pkt, len, send, send_ctx);
    return true;
}

const char *tg_running(const target_groups_t *g)
{
    return g->in_recovery ? "MCUboot serial recovery" : "application running";
}

void tg_free(target_groups_t *g)
{
    if (g == NULL) {
        return;
    }
    if (g->fs.port != NULL) {
        smpdfu_fs_group_close(&g->fs);
    }
    if (g->have_root) {
        smpdfu_posix_fsroot_close(&g->root);
    }
    free(g);
}

uint32_t tg_rx_size(const target_groups_t *g, uint32_t app_buf)
{
    return g->in_recovery ? g->recovery_buf : app_buf;
}

uint32_t tg_rx_max(const target_groups_t *g, uint32_t app_buf)
{
    return g->recovery_buf > app_buf ? g->recovery_buf : app_buf;
}
