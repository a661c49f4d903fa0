/* SPDX-License-Identifier: Apache-2.0 */
/* The emulated device's flash layout and factory programming
 * (device_layout.h). */
#include "smpdfu/device_layout.h"

#include <string.h>

#include "smpdfu/trailer.h"

int smpdfu_device_layout(const smpdfu_device_layout_cfg_t *cfg, smpdfu_boot_cfg_t *boot,
                         smpdfu_device_layout_t *out)
{
    if (!cfg || !boot || !out || cfg->images < 1 || cfg->images > SMPDFU_BOOT_MAX_IMAGES ||
        cfg->page_size == 0 || cfg->slot_size % cfg->page_size != 0) {
        return SMPDFU_EINVAL;
    }
    uint32_t n = 2u * cfg->images;
    uint32_t page = cfg->page_size;
    boot->image_count = (uint8_t)cfg->images;
    boot->mode = cfg->mode;
    boot->max_align = cfg->write_align > 8u ? cfg->write_align : 8u;
    boot->max_sectors = cfg->slot_size / page > 128u ? cfg->slot_size / page : 128u;
    /* Scratch mode: as many pages as the slot trailer spans. */
    uint32_t tsz = smpdfu_trailer_total_size(boot->max_align, boot->max_sectors, 3,
                                             cfg->write_align);
    uint64_t scratch = cfg->mode == SMPDFU_BOOT_SWAP_SCRATCH
                           ? ((uint64_t)tsz + page - 1u) / page * page
                           : 0u;
    uint64_t slots = (uint64_t)n * cfg->slot_size;
    uint64_t size = slots + page + scratch + cfg->extra;
    if (size > UINT32_MAX) {
        return SMPDFU_EINVAL;
    }
    for (uint32_t i = 0; i < n; i++) {
        boot->slot[i].off = i * cfg->slot_size;
        boot->slot[i].size = cfg->slot_size;
    }
    out->progress.off = (uint32_t)slots;
    out->progress.size = page;
    boot->scratch.off = (uint32_t)slots + page;
    boot->scratch.size = (uint32_t)scratch;
    out->extra.off = (uint32_t)(slots + page + scratch);
    out->extra.size = cfg->extra;
    out->flash_size = (uint32_t)size;
    return 0;
}

int smpdfu_device_program(const smpdfu_flash_t *f, const smpdfu_flash_area_t *a,
                          smpdfu_read_fn read, void *ctx, uint32_t len, uint8_t *work,
                          size_t work_len)
{
    uint32_t unit = f->write_align ? f->write_align : 1u;
    if (len > a->size) {
        return SMPDFU_ENOSPC;
    }
    /* Whole write units per chunk. */
    size_t chunk = work_len - work_len % unit;
    if (!work || chunk == 0) {
        return SMPDFU_EINVAL;
    }
    for (uint32_t off = 0; off < len;) {
        uint32_t n = len - off < chunk ? len - off : (uint32_t)chunk;
        uint32_t padded = (n + unit - 1u) / unit * unit;
        memset(work, f->erased_val, padded);
        int rc = read(ctx, off, work, n);
        if (rc == 0) {
            rc = smpdfu_flash_area_write(f, a, off, work, padded);
        }
        if (rc != 0) {
            return rc;
        }
        off += n;
    }
    return 0;
}
