/* SPDX-License-Identifier: Apache-2.0 */
/* Flash helpers: bounds and alignment checks in one place, plus a RAM flash
 * with NOR rules for tests and fuzzing. */
#include "smpdfu/flash.h"

#include <string.h>

static bool pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

int smpdfu_flash_check(const smpdfu_flash_t *f)
{
    if (f == NULL || f->read == NULL || f->write == NULL || f->erase == NULL) {
        return SMPDFU_EINVAL;
    }
    if (f->size == 0 || !pow2(f->page_size) || !pow2(f->write_align) ||
        f->write_align > SMPDFU_FLASH_MAX_ALIGN || f->size % f->page_size != 0 ||
        f->page_size < f->write_align) {
        return SMPDFU_EINVAL;
    }
    return 0;
}

/* off + len within size, without overflow. */
static bool in_bounds(uint32_t size, uint32_t off, size_t len)
{
    return off <= size && len <= (size_t)(size - off);
}

int smpdfu_flash_read(const smpdfu_flash_t *f, uint32_t off, void *buf, size_t len)
{
    if (!in_bounds(f->size, off, len)) {
        return SMPDFU_EFLASH_BOUNDS;
    }
    if (len == 0) {
        return 0;
    }
    return f->read(f->ctx, off, buf, len);
}

int smpdfu_flash_write(const smpdfu_flash_t *f, uint32_t off, const void *buf, size_t len)
{
    if (!in_bounds(f->size, off, len)) {
        return SMPDFU_EFLASH_BOUNDS;
    }
    if (off % f->write_align != 0 || len % f->write_align != 0) {
        return SMPDFU_EFLASH_ALIGN;
    }
    if (len == 0) {
        return 0;
    }
    return f->write(f->ctx, off, buf, len);
}

int smpdfu_flash_erase(const smpdfu_flash_t *f, uint32_t off, size_t len)
{
    if (!in_bounds(f->size, off, len)) {
        return SMPDFU_EFLASH_BOUNDS;
    }
    if (off % f->page_size != 0 || len % f->page_size != 0) {
        return SMPDFU_EFLASH_ALIGN;
    }
    if (len == 0) {
        return 0;
    }
    return f->erase(f->ctx, off, len);
}

int smpdfu_flash_area_read(const smpdfu_flash_t *f, const smpdfu_flash_area_t *a, uint32_t off,
                           void *buf, size_t len)
{
    if (!in_bounds(a->size, off, len)) {
        return SMPDFU_EFLASH_BOUNDS;
    }
    return smpdfu_flash_read(f, a->off + off, buf, len);
}

int smpdfu_flash_area_write(const smpdfu_flash_t *f, const smpdfu_flash_area_t *a, uint32_t off,
                            const void *buf, size_t len)
{
    if (!in_bounds(a->size, off, len)) {
        return SMPDFU_EFLASH_BOUNDS;
    }
    return smpdfu_flash_write(f, a->off + off, buf, len);
}

int smpdfu_flash_area_erase(const smpdfu_flash_t *f, const smpdfu_flash_area_t *a, uint32_t off,
                            size_t len)
{
    if (!in_bounds(a->size, off, len)) {
        return SMPDFU_EFLASH_BOUNDS;
    }
    return smpdfu_flash_erase(f, a->off + off, len);
}

int smpdfu_flash_area_is_erased(const smpdfu_flash_t *f, const smpdfu_flash_area_t *a,
                                uint32_t off, uint32_t len)
{
    uint8_t buf[64];
    if (!in_bounds(a->size, off, len)) {
        return SMPDFU_EFLASH_BOUNDS;
    }
    while (len > 0) {
        uint32_t n = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);
        int rc = smpdfu_flash_area_read(f, a, off, buf, n);
        if (rc < 0) {
            return rc;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (buf[i] != f->erased_val) {
                return 0;
            }
        }
        off += n;
        len -= n;
    }
    return 1;
}

uint32_t smpdfu_flash_page_down(const smpdfu_flash_t *f, uint32_t off)
{
    return off - off % f->page_size;
}

uint32_t smpdfu_flash_page_up(const smpdfu_flash_t *f, uint32_t off)
{
    uint32_t r = off % f->page_size;
    return r == 0 ? off : off + (f->page_size - r);
}

int smpdfu_flash_area_reader(void *ctx, uint32_t off, void *buf, size_t len)
{
    const smpdfu_flash_area_reader_t *r = ctx;
    return smpdfu_flash_area_read(r->flash, &r->area, off, buf, len);
}

/* ------------------------------------------------------------ RAM flash */

static int ram_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    smpdfu_ram_flash_t *r = ctx;
    memcpy(buf, r->mem + off, len);
    r->reads++;
    return 0;
}

static int ram_write(void *ctx, uint32_t off, const void *buf, size_t len)
{
    smpdfu_ram_flash_t *r = ctx;
    for (size_t i = 0; i < len; i++) {
        if (r->mem[off + i] != r->flash.erased_val) {
            return SMPDFU_EFLASH_NOT_ERASED;
        }
    }
    memcpy(r->mem + off, buf, len);
    r->writes++;
    return 0;
}

static int ram_erase(void *ctx, uint32_t off, size_t len)
{
    smpdfu_ram_flash_t *r = ctx;
    memset(r->mem + off, r->flash.erased_val, len);
    r->erases += (uint32_t)(len / r->flash.page_size);
    return 0;
}

int smpdfu_ram_flash_init(smpdfu_ram_flash_t *r, uint8_t *mem, uint32_t size, uint32_t page_size,
                          uint32_t write_align, uint8_t erased_val)
{
    if (r == NULL || mem == NULL) {
        return SMPDFU_EINVAL;
    }
    memset(r, 0, sizeof(*r));
    r->mem = mem;
    r->flash.size = size;
    r->flash.page_size = page_size;
    r->flash.write_align = write_align;
    r->flash.erased_val = erased_val;
    r->flash.read = ram_read;
    r->flash.write = ram_write;
    r->flash.erase = ram_erase;
    r->flash.ctx = r;
    if (smpdfu_flash_check(&r->flash) != 0) {
        return SMPDFU_EINVAL;
    }
    memset(mem, erased_val, size);
    return 0;
}
