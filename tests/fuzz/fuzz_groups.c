/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary packets into the server groups beyond OS and
 * image (stat, settings over the flash store, fs over an in-memory file
 * system, shell, enum, os taskstat/mpstat/datetime/reset) and into MCUboot's
 * boot_serial server, with restarts in between.
 * Input: byte 0 picks the start mode (bit 0: boot_serial); then records
 * [u16 len BE][len bytes]; a record of length 0xffff restarts (the settings
 * are loaded again from flash) and flips between the application and
 * boot_serial. Asserts: no crash, every answer fits the buffer, flash
 * writes stay in the slots (boot_serial) or the settings area, file writes
 * stay inside the in-memory files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/posix_crypto.h"
#include "smpdfu/server.h"
#include "smpdfu/server_groups.h"

#include "flash_guard.h"

#define SLOT (8u * 1024u)
#define PAGE 512u
#define SET_OFF (2u * SLOT)
#define FLASH (2u * SLOT + 2u * PAGE + PAGE)

static uint8_t mem[FLASH];
static smpdfu_boot_cfg_t boot;
static smpdfu_posix_hash_state_t hs;
static smpdfu_hash_t hash;
static uint8_t work[2 * PAGE];
static uint8_t rsp[640];
static smpdfu_server_t srv;
static smpdfu_os_group_t os;
static smpdfu_stat_group_t st;
static smpdfu_settings_flash_t sf;
static smpdfu_settings_group_t sg;
static smpdfu_fs_group_t fg;
static smpdfu_shell_group_t sh;
static smpdfu_enum_group_t eg;
static smpdfu_bootserial_t bs;
static uint8_t fs_work[256];
static int64_t clock_ms;

static bool guard_allows(uint32_t off, size_t len)
{
    return off + len <= 2 * SLOT || (off >= SET_OFF && off + len <= SET_OFF + 2 * PAGE);
}

/* Two in-memory files, "/a" and "/b"; "/d" is a directory. */
static uint8_t fdata[2][4096];
static size_t flen[2];
static bool fexist[2];
static int fopen_h[2] = {-1, -1};

static int which(const char *p)
{
    return strcmp(p, "/a") == 0 ? 0 : strcmp(p, "/b") == 0 ? 1 : -1;
}

static int m_stat(void *ctx, const char *path, uint64_t *size, bool *is_dir)
{
    (void)ctx;
    if (strcmp(path, "/d") == 0) {
        *size = 0;
        *is_dir = true;
        return 0;
    }
    int w = which(path);
    if (w < 0 || !fexist[w]) {
        return SMPDFU_FS_ERR_FILE_NOT_FOUND;
    }
    *size = flen[w];
    *is_dir = false;
    return 0;
}

static int m_open(void *ctx, int h, const char *path, unsigned mode)
{
    (void)ctx;
    int w = which(path);
    if (h < 0 || h > 1) {
        abort();
    }
    if (w < 0) {
        return SMPDFU_FS_ERR_FILE_INVALID_NAME;
    }
    if (!fexist[w] && mode != SMPDFU_FS_OPEN_WRITE) {
        return SMPDFU_FS_ERR_FILE_NOT_FOUND;
    }
    fexist[w] = true;
    fopen_h[h] = w;
    return 0;
}

static long m_pread(void *ctx, int h, uint64_t off, void *buf, size_t len)
{
    (void)ctx;
    int w = fopen_h[h];
    if (w < 0) {
        abort(); /* reading a handle that is not open */
    }
    if (off >= flen[w]) {
        return 0;
    }
    size_t n = flen[w] - (size_t)off < len ? flen[w] - (size_t)off : len;
    memcpy(buf, fdata[w] + off, n);
    return (long)n;
}

static int m_pwrite(void *ctx, int h, uint64_t off, const void *buf, size_t len)
{
    (void)ctx;
    int w = fopen_h[h];
    if (w < 0) {
        abort();
    }
    if (off > sizeof(fdata[w]) || len > sizeof(fdata[w]) - off) {
        return -1; /* full */
    }
    memcpy(fdata[w] + off, buf, len);
    if (off + len > flen[w]) {
        flen[w] = (size_t)(off + len);
    }
    return 0;
}

static int m_truncate(void *ctx, int h, uint64_t len)
{
    (void)ctx;
    int w = fopen_h[h];
    if (w < 0 || len > flen[w]) {
        abort();
    }
    flen[w] = (size_t)len;
    return 0;
}

static void m_close(void *ctx, int h)
{
    (void)ctx;
    fopen_h[h] = -1;
}

static const smpdfu_fs_port_t mfs = {m_stat, m_open, m_pread, m_pwrite, m_truncate, m_close, NULL};

static bool f_task(void *ctx, size_t i, smpdfu_os_task_t *t)
{
    (void)ctx;
    if (i > 2) {
        return false;
    }
    memset(t, 'x', sizeof(t->name)); /* not terminated: the group cuts it */
    t->prio = (int32_t)i - 1;
    return true;
}

static bool f_pool(void *ctx, size_t i, smpdfu_os_mpool_t *m)
{
    (void)ctx;
    memset(m, 0, sizeof(*m));
    memcpy(m->name, "heap", 5);
    return i == 0;
}

static int f_get(void *ctx, int64_t *ms)
{
    (void)ctx;
    *ms = clock_ms;
    return 0;
}

static int f_set(void *ctx, int64_t ms)
{
    (void)ctx;
    clock_ms = ms;
    return 0;
}

static int f_reset(void *ctx, bool force, int mode)
{
    (void)ctx;
    return force || mode < 2 ? 0 : SMPDFU_MGMT_EBUSY;
}

static int sink(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    (void)p;
    if (n < 8 || n > sizeof(rsp)) {
        abort();
    }
    return 0;
}

static void start_app(void)
{
    smpdfu_server_init(&srv, rsp, sizeof(rsp));
    smpdfu_os_group_init(&os);
    os.task = f_task;
    os.mpool = f_pool;
    os.time_get = f_get;
    os.time_set = f_set;
    os.reset_hook = f_reset;
    os.reset_boot_mode = true;
    smpdfu_server_register(&srv, &os.group);
    smpdfu_stat_group_init(&st, &srv);
    smpdfu_server_register(&srv, &st.group);
    smpdfu_flash_area_t a = {SET_OFF, 2 * PAGE};
    if (smpdfu_settings_flash_init(&sf, &guard, &a) == 0) {
        smpdfu_settings_group_init(&sg, &sf.store);
    } else {
        smpdfu_settings_group_init(&sg, NULL);
    }
    (void)smpdfu_settings_load(&sg);
    smpdfu_server_register(&srv, &sg.group);
    if (fg.port != NULL) {
        smpdfu_fs_group_close(&fg);
    }
    smpdfu_fs_group_init(&fg, &mfs, &hash, fs_work, sizeof(fs_work));
    smpdfu_server_register(&srv, &fg.group);
    smpdfu_shell_group_init(&sh, NULL, 0, NULL);
    smpdfu_server_register(&srv, &sh.group);
    smpdfu_enum_group_init(&eg);
    smpdfu_server_register(&srv, &eg.group);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        once = 1;
        smpdfu_posix_hash_init(&hs, &hash);
    }
    smpdfu_ram_flash_init(&ram, mem, FLASH, PAGE, 8, 0xff);
    guard_init();
    memset(&boot, 0, sizeof(boot));
    boot.flash = &guard;
    boot.image_count = 1;
    boot.slot[0].off = 0;
    boot.slot[0].size = SLOT;
    boot.slot[1].off = SLOT;
    boot.slot[1].size = SLOT;
    boot.max_align = 8;
    boot.hash = &hash;
    memset(flen, 0, sizeof(flen));
    memset(fexist, 0, sizeof(fexist));
    fopen_h[0] = fopen_h[1] = -1;
    memset(&fg, 0, sizeof(fg));
    clock_ms = 0;

    bool recovery = size > 0 && (data[0] & 1);
    start_app();
    smpdfu_bootserial_init(&bs, &boot, rsp, sizeof(rsp), work, sizeof(work));
    size_t pos = size > 0 ? 1 : 0;
    while (pos + 2 <= size) {
        size_t n = (size_t)data[pos] << 8 | data[pos + 1];
        pos += 2;
        if (n == 0xffff) {
            recovery = !recovery;
            start_app();
            continue;
        }
        if (n > size - pos) {
            n = size - pos;
        }
        if (recovery) {
            (void)smpdfu_bootserial_process(&bs, data + pos, n, sink, NULL);
        } else {
            (void)smpdfu_server_process(&srv, data + pos, n, sink, NULL);
        }
        pos += n;
    }
    return 0;
}
