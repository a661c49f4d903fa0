/* A NOR flash in a host file through semihosting (the format of
 * src/port/posix/flash_file.c: the raw bytes). */
#include <string.h>

#include "smpdfu/cortex_m.h"
#include "smpdfu/error.h"

static int fs_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    smpdfu_cm_flash_t *f = ctx;
    if (smpdfu_sh_seek(f->fd, off) != 0 || smpdfu_sh_read(f->fd, buf, len) != 0) {
        return SMPDFU_EFLASH_IO;
    }
    return 0;
}

static int fs_write(void *ctx, uint32_t off, const void *buf, size_t len)
{
    smpdfu_cm_flash_t *f = ctx;
    uint8_t cur[256];
    /* NOR: check the whole range first, so a refused write changes nothing. */
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof(cur) ? len - done : sizeof(cur);
        int rc = fs_read(f, off + (uint32_t)done, cur, n);
        if (rc) {
            return rc;
        }
        for (size_t i = 0; i < n; i++) {
            if (cur[i] != f->flash.erased_val) {
                return SMPDFU_EFLASH_NOT_ERASED;
            }
        }
        done += n;
    }
    if (smpdfu_sh_seek(f->fd, off) != 0 || smpdfu_sh_write(f->fd, buf, len) != 0) {
        return SMPDFU_EFLASH_IO;
    }
    return 0;
}

static int fs_erase(void *ctx, uint32_t off, size_t len)
{
    smpdfu_cm_flash_t *f = ctx;
    uint8_t buf[256];
    memset(buf, f->flash.erased_val, sizeof(buf));
    if (smpdfu_sh_seek(f->fd, off) != 0) {
        return SMPDFU_EFLASH_IO;
    }
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
        if (smpdfu_sh_write(f->fd, buf, n) != 0) {
            return SMPDFU_EFLASH_IO;
        }
        done += n;
    }
    return 0;
}

int smpdfu_cm_flash_open(smpdfu_cm_flash_t *f, const char *path, uint32_t size,
                         uint32_t page_size, uint32_t write_align)
{
    memset(f, 0, sizeof(*f));
    f->fd = -1;
    f->flash.size = size;
    f->flash.page_size = page_size;
    f->flash.write_align = write_align;
    f->flash.erased_val = 0xff;
    f->flash.read = fs_read;
    f->flash.write = fs_write;
    f->flash.erase = fs_erase;
    f->flash.ctx = f;
    if (!path || smpdfu_flash_check(&f->flash) != 0) {
        return SMPDFU_EINVAL;
    }
    f->fd = smpdfu_sh_open(path, SMPDFU_SH_RPB);
    long len = f->fd >= 0 ? smpdfu_sh_flen(f->fd) : -1;
    if (f->fd < 0 || len == 0) {
        /* No file yet (or an empty one): create it erased. */
        if (f->fd >= 0) {
            smpdfu_sh_close(f->fd);
        }
        f->fd = smpdfu_sh_open(path, SMPDFU_SH_WPB);
        if (f->fd < 0 || fs_erase(f, 0, size) != 0) {
            smpdfu_cm_flash_close(f);
            return SMPDFU_EFILE;
        }
        f->created = true;
    } else if (len != (long)size) {
        smpdfu_cm_flash_close(f);
        return SMPDFU_EFILE;
    }
    return 0;
}

void smpdfu_cm_flash_close(smpdfu_cm_flash_t *f)
{
    if (f->fd >= 0) {
        smpdfu_sh_close(f->fd);
        f->fd = -1;
    }
}
