/* A flash wrapper that cuts the power at a chosen write or erase (see
 * posix_flash.h): fault injection for the boot emulation's swap. */
#include "smpdfu/posix_flash.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* At the cut: the process dies, or (in-process) the flash goes dead. */
static int cut_now(smpdfu_posix_powercut_t *pc, const char *what, uint32_t off, size_t len,
                   size_t done)
{
    if (pc->exit_on_cut) {
        char line[160];
        int n = snprintf(line, sizeof(line),
                         "power cut: flash operation %u (%s off=0x%x len=%zu, %zu done)\n",
                         pc->ops, what, off, len, done);
        if (n > 0) {
            ssize_t w = write(STDERR_FILENO, line, (size_t)n);
            (void)w;
        }
        _exit(SMPDFU_POWERCUT_EXIT);
    }
    pc->cut = true;
    return SMPDFU_EFLASH_IO;
}

/* 1 when this operation is the one to cut. */
static int counts(smpdfu_posix_powercut_t *pc)
{
    if (!pc->armed || pc->cut_at == 0) {
        return 0;
    }
    pc->ops++;
    return pc->ops == pc->cut_at;
}

static int pc_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    smpdfu_posix_powercut_t *pc = ctx;
    return smpdfu_flash_read(pc->inner, off, buf, len);
}

static int pc_write(void *ctx, uint32_t off, const void *buf, size_t len)
{
    smpdfu_posix_powercut_t *pc = ctx;
    if (pc->cut) {
        return SMPDFU_EFLASH_IO;
    }
    if (counts(pc)) {
        /* Shorter than a page (a trailer field, a status entry): done or
         * not. A page or more: half of it, in write units. */
        uint32_t wa = pc->inner->write_align;
        size_t half = len >= pc->inner->page_size ? (len / wa / 2) * wa : 0;
        if (half > 0) {
            (void)smpdfu_flash_write(pc->inner, off, buf, half);
        }
        return cut_now(pc, "write", off, len, half);
    }
    return smpdfu_flash_write(pc->inner, off, buf, len);
}

static int pc_erase(void *ctx, uint32_t off, size_t len)
{
    smpdfu_posix_powercut_t *pc = ctx;
    if (pc->cut) {
        return SMPDFU_EFLASH_IO;
    }
    if (counts(pc)) {
        uint32_t p = pc->inner->page_size;
        size_t half = (len / p / 2) * p;
        if (half > 0) {
            (void)smpdfu_flash_erase(pc->inner, off, half);
        }
        return cut_now(pc, "erase", off, len, half);
    }
    return smpdfu_flash_erase(pc->inner, off, len);
}

void smpdfu_posix_powercut_init(smpdfu_posix_powercut_t *pc, const smpdfu_flash_t *inner,
                                uint32_t cut_at, bool exit_on_cut)
{
    memset(pc, 0, sizeof(*pc));
    pc->flash = *inner;
    pc->flash.read = pc_read;
    pc->flash.write = pc_write;
    pc->flash.erase = pc_erase;
    pc->flash.ctx = pc;
    pc->inner = inner;
    pc->cut_at = cut_at;
    pc->exit_on_cut = exit_on_cut;
}

void smpdfu_posix_powercut_arm(smpdfu_posix_powercut_t *pc, bool on)
{
    pc->armed = on;
    pc->ops = 0;
}
