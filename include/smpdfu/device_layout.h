/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — the emulated device's flash: where smpdfu-target and the QEMU
 * target firmware put the slots and records (one layout, so each can open a
 * flash file the other made), and the factory image programmed into a
 * primary slot of a new flash. Portable (C99, no malloc, no I/O).
 *
 *   slot 0, slot 1         image 0 primary, secondary
 *   slot 2, slot 3         image 1 (images = 2)
 *   one page               the upload progress record (img group resume)
 *   scratch area           swap-using-scratch only: the pages the trailer spans
 *   extra bytes            the caller's (smpdfu-target: the settings store)
 */
#ifndef SMPDFU_DEVICE_LAYOUT_H
#define SMPDFU_DEVICE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "smpdfu/boot.h"
#include "smpdfu/flash.h"
#include "smpdfu/hash.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t images;      /* 1 or 2 */
    uint32_t slot_size;   /* bytes per slot, a multiple of page_size */
    uint32_t page_size;   /* erase page */
    uint32_t write_align; /* flash write unit */
    smpdfu_boot_mode_t mode;
    uint32_t extra;       /* bytes after the records, for the caller */
} smpdfu_device_layout_cfg_t;

typedef struct {
    uint32_t flash_size;          /* the whole flash */
    smpdfu_flash_area_t progress; /* the upload progress record */
    smpdfu_flash_area_t extra;    /* cfg.extra bytes at the end */
} smpdfu_device_layout_t;

/* Lay the flash out: boot gets image_count, the slots, mode, max_align
 * (BOOT_MAX_ALIGN = max(8, write_align)), max_sectors (BOOT_MAX_IMG_SECTORS
 * as Zephyr's MCUboot build sizes it: max(128, pages per slot)) and the
 * scratch area; the caller sets flash, hash and verify, then runs
 * smpdfu_boot_cfg_check(). Returns 0, or SMPDFU_EINVAL (images not 1..2,
 * page_size 0, slot_size not a multiple of it, or a size past 4 GiB). */
int smpdfu_device_layout(const smpdfu_device_layout_cfg_t *cfg, smpdfu_boot_cfg_t *boot,
                         smpdfu_device_layout_t *out);

/* Program len bytes of a factory image, read in order through read (off
 * goes 0, n, 2n, ...), into area a from its start, work_len bytes at a time
 * through work (at least one write unit). The last write unit is padded with
 * the flash's erased value. The area must be erased. Returns 0,
 * SMPDFU_ENOSPC (len larger than the area), SMPDFU_EINVAL (work smaller
 * than a write unit), or the read's or the flash's error. */
int smpdfu_device_program(const smpdfu_flash_t *f, const smpdfu_flash_area_t *a,
                          smpdfu_read_fn read, void *ctx, uint32_t len, uint8_t *work,
                          size_t work_len);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_DEVICE_LAYOUT_H */
