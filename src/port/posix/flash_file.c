/* SPDX-License-Identifier: Apache-2.0 */
/* File-backed NOR flash for the emulated device. */
#include "smpdfu/posix_flash.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void sleep_us(uint64_t us)
{
    struct timespec ts;
    if (us == 0) {
        return;
    }
    ts.tv_sec = (time_t)(us / 1000000u);
    ts.tv_nsec = (long)(us % 1000000u) * 1000;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void busy(const smpdfu_posix_flash_t *pf, uint64_t us, bool erase)
{
    if (us == 0) {
        return;
    }
    if (pf->delay != NULL) {
        pf->delay(pf->delay_ctx, us, erase);
    } else {
        sleep_us(us);
    }
}

/* Read (rd) or write (wr) all of [off, off + len): pread and pwrite may do
 * part of it, or be interrupted. */
static int full_io(int fd, uint8_t *rd, const uint8_t *wr, size_t len, off_t off)
{
    size_t done = 0;
    while (done < len) {
        off_t at = off + (off_t)done;
        ssize_t n = rd ? pread(fd, rd + done, len - done, at) : pwrite(fd, wr + done, len - done, at);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return SMPDFU_EFLASH_IO;
        }
        done += (size_t)n;
    }
    return 0;
}

static int full_pread(int fd, void *buf, size_t len, off_t off)
{
    return full_io(fd, buf, NULL, len, off);
}

static int full_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    return full_io(fd, NULL, buf, len, off);
}

static int ff_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    smpdfu_posix_flash_t *pf = ctx;
    return full_pread(pf->fd, buf, len, (off_t)off);
}

static int ff_write(void *ctx, uint32_t off, const void *buf, size_t len)
{
    smpdfu_posix_flash_t *pf = ctx;
    uint8_t cur[512];
    size_t done = 0;
    /* NOR: check the whole range first, so a refused write changes nothing. */
    while (done < len) {
        size_t n = len - done < sizeof(cur) ? len - done : sizeof(cur);
        int rc = full_pread(pf->fd, cur, n, (off_t)(off + done));
        if (rc < 0) {
            return rc;
        }
        for (size_t i = 0; i < n; i++) {
            if (cur[i] != pf->flash.erased_val) {
                return SMPDFU_EFLASH_NOT_ERASED;
            }
        }
        done += n;
    }
    int rc = full_pwrite(pf->fd, buf, len, (off_t)off);
    if (rc == 0) {
        pf->bytes_written += len;
        busy(pf, (uint64_t)pf->write_us_per_kib * len / 1024u, false);
    }
    return rc;
}

static int ff_erase(void *ctx, uint32_t off, size_t len)
{
    smpdfu_posix_flash_t *pf = ctx;
    uint8_t buf[4096];
    size_t done = 0;
    memset(buf, pf->flash.erased_val, sizeof(buf));
    while (done < len) {
        size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
        int rc = full_pwrite(pf->fd, buf, n, (off_t)(off + done));
        if (rc < 0) {
            return rc;
        }
        done += n;
    }
    uint32_t pages = (uint32_t)(len / pf->flash.page_size);
    pf->pages_erased += pages;
    busy(pf, (uint64_t)pf->erase_ms_per_page * 1000u * pages, true);
    return 0;
}

int smpdfu_posix_flash_open(smpdfu_posix_flash_t *pf, const char *path, uint32_t size,
                            uint32_t page_size, uint32_t write_align, uint8_t erased_val)
{
    struct stat st;
    memset(pf, 0, sizeof(*pf));
    pf->fd = -1;
    pf->flash.size = size;
    pf->flash.page_size = page_size;
    pf->flash.write_align = write_align;
    pf->flash.erased_val = erased_val;
    pf->flash.read = ff_read;
    pf->flash.write = ff_write;
    pf->flash.erase = ff_erase;
    pf->flash.ctx = pf;
    if (path == NULL || smpdfu_flash_check(&pf->flash) != 0) {
        return SMPDFU_EINVAL;
    }
    pf->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (pf->fd < 0) {
        return SMPDFU_EFILE;
    }
    if (flock(pf->fd, LOCK_EX | LOCK_NB) != 0) {
        smpdfu_posix_flash_close(pf);
        return SMPDFU_EBUSY;
    }
    if (fstat(pf->fd, &st) != 0) {
        smpdfu_posix_flash_close(pf);
        return SMPDFU_EFILE;
    }
    if (st.st_size == 0) {
        if (ff_erase(pf, 0, size) != 0) {
            smpdfu_posix_flash_close(pf);
            return SMPDFU_EFILE;
        }
        pf->pages_erased = 0;
        pf->created = true;
    } else if ((uint64_t)st.st_size != size) {
        smpdfu_posix_flash_close(pf);
        return SMPDFU_EFILE;
    }
    return 0;
}

void smpdfu_posix_flash_close(smpdfu_posix_flash_t *pf)
{
    if (pf->fd >= 0) {
        close(pf->fd);
        pf->fd = -1;
    }
}
