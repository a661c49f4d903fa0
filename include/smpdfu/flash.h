/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — the flash a server writes images to (NOR semantics).
 *
 * A flash is its geometry plus three callbacks with a context pointer; it
 * knows nothing about slots. Slots are areas (offset, size) of one flash.
 * The helpers below check bounds and alignment before calling the callbacks,
 * so a backend only has to move bytes.
 *
 * NOR rules every backend must keep (the RAM flash here and the POSIX file
 * flash do): erase works on whole pages and sets every byte to erased_val;
 * writing a byte that is not erased fails with SMPDFU_EFLASH_NOT_ERASED and
 * changes nothing.
 */
#ifndef SMPDFU_FLASH_H
#define SMPDFU_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest write alignment the server code supports (it buffers a partial
 * write unit of this size). */
#define SMPDFU_FLASH_MAX_ALIGN 32

typedef struct {
    uint32_t size;        /* bytes; a multiple of page_size */
    uint32_t page_size;   /* erase unit, power of two */
    uint32_t write_align; /* writes start and end on multiples of this (1..32, power of two) */
    uint8_t erased_val;   /* value of an erased byte (0xff for NOR) */
    /* Callbacks receive validated, in-bounds arguments. Return 0 or a
     * negative smpdfu error. write: off/len multiples of write_align.
     * erase: off/len multiples of page_size. */
    int (*read)(void *ctx, uint32_t off, void *buf, size_t len);
    int (*write)(void *ctx, uint32_t off, const void *buf, size_t len);
    int (*erase)(void *ctx, uint32_t off, size_t len);
    void *ctx;
} smpdfu_flash_t;

/* A region of a flash (a slot, the scratch area, a record page). */
typedef struct {
    uint32_t off;
    uint32_t size;
} smpdfu_flash_area_t;

/* Geometry sanity: sizes non-zero, powers of two, size a multiple of the
 * page. Returns 0 or SMPDFU_EINVAL. */
int smpdfu_flash_check(const smpdfu_flash_t *f);

/* Whole-flash access with bounds (SMPDFU_EFLASH_BOUNDS) and alignment
 * (SMPDFU_EFLASH_ALIGN) checks, then the backend's error if any. */
int smpdfu_flash_read(const smpdfu_flash_t *f, uint32_t off, void *buf, size_t len);
int smpdfu_flash_write(const smpdfu_flash_t *f, uint32_t off, const void *buf, size_t len);
int smpdfu_flash_erase(const smpdfu_flash_t *f, uint32_t off, size_t len);

/* The same relative to an area; access past the area is SMPDFU_EFLASH_BOUNDS. */
int smpdfu_flash_area_read(const smpdfu_flash_t *f, const smpdfu_flash_area_t *a, uint32_t off,
                           void *buf, size_t len);
int smpdfu_flash_area_write(const smpdfu_flash_t *f, const smpdfu_flash_area_t *a, uint32_t off,
                            const void *buf, size_t len);
int smpdfu_flash_area_erase(const smpdfu_flash_t *f, const smpdfu_flash_area_t *a, uint32_t off,
                            size_t len);

/* 1 when bytes [off, off+len) of the area all hold erased_val, 0 when not,
 * or a negative read error. Reads in small pieces (no caller buffer). */
int smpdfu_flash_area_is_erased(const smpdfu_flash_t *f, const smpdfu_flash_area_t *a,
                                uint32_t off, uint32_t len);

/* Start of the page holding byte `off` of the flash, and the first page
 * boundary at or after `off`. */
uint32_t smpdfu_flash_page_down(const smpdfu_flash_t *f, uint32_t off);
uint32_t smpdfu_flash_page_up(const smpdfu_flash_t *f, uint32_t off);

/* Reading an area through a plain read callback (smpdfu_read_fn shape), for
 * image parsing and hashing straight from flash. */
typedef struct {
    const smpdfu_flash_t *flash;
    smpdfu_flash_area_t area;
} smpdfu_flash_area_reader_t;

/* ctx is a smpdfu_flash_area_reader_t. */
int smpdfu_flash_area_reader(void *ctx, uint32_t off, void *buf, size_t len);

/* ----------------------------------------------------------- RAM flash */

/* A flash in a caller-owned buffer, with NOR rules. For tests, fuzzing and
 * targets that keep their slots in RAM. Counters let tests see the work. */
typedef struct {
    smpdfu_flash_t flash; /* hand &ram.flash to whoever needs a flash */
    uint8_t *mem;
    uint32_t reads;
    uint32_t writes;
    uint32_t erases;      /* pages erased */
} smpdfu_ram_flash_t;

/* mem (size bytes, caller-owned) is erased here. Returns 0 or SMPDFU_EINVAL
 * for a bad geometry. */
int smpdfu_ram_flash_init(smpdfu_ram_flash_t *r, uint8_t *mem, uint32_t size, uint32_t page_size,
                          uint32_t write_align, uint8_t erased_val);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_FLASH_H */
