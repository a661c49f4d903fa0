/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — MCUboot image trailer at the end of each slot (protocol.md §7).
 */
#ifndef SMPDFU_TRAILER_H
#define SMPDFU_TRAILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_TRAILER_MAGIC_LEN 16
#define SMPDFU_TRAILER_DEFAULT_ALIGN 8

/* Field offsets from the slot start for slot size S and BOOT_MAX_ALIGN A. */
typedef struct {
    uint32_t magic;     /* 16 bytes at S - 16 */
    uint32_t image_ok;
    uint32_t copy_done;
    uint32_t swap_info;
    uint32_t swap_size; /* u32 LE (scratch/move/overwrite layouts) */
    uint32_t align;     /* A */
    uint32_t info_size; /* bytes from swap_size to the slot end (trailer info, no status area) */
} smpdfu_trailer_layout_t;

/* Compute the layout. A must be a power of two in 8..32 and S a multiple of A
 * with room for the trailer; else SMPDFU_EINVAL. */
int smpdfu_trailer_layout(uint32_t slot_size, uint32_t max_align, smpdfu_trailer_layout_t *out);

/* Bytes of a full trailer incl. the swap-status area: status for
 * max_sectors * states * write_size (states 3 for scratch/move, 2 for offset)
 * plus the info fields. Used to tell the largest image a slot takes. */
uint32_t smpdfu_trailer_total_size(uint32_t max_align, uint32_t max_sectors, uint32_t states,
                                   uint32_t write_size);

/* The 16 magic bytes a bootloader with BOOT_MAX_ALIGN A expects. */
void smpdfu_trailer_magic(uint32_t max_align, uint8_t out[SMPDFU_TRAILER_MAGIC_LEN]);

typedef enum {
    SMPDFU_MAGIC_GOOD = 1,
    SMPDFU_MAGIC_BAD = 2,
    SMPDFU_MAGIC_UNSET = 3,
} smpdfu_magic_state_t;

typedef enum {
    SMPDFU_FLAG_SET = 1,
    SMPDFU_FLAG_BAD = 2,
    SMPDFU_FLAG_UNSET = 3,
} smpdfu_flag_state_t;

/* Swap types, MCUboot API values. */
typedef enum {
    SMPDFU_SWAP_NONE = 1,
    SMPDFU_SWAP_TEST = 2,
    SMPDFU_SWAP_PERM = 3,
    SMPDFU_SWAP_REVERT = 4,
    SMPDFU_SWAP_FAIL = 5,
    SMPDFU_SWAP_PANIC = 0xff,
} smpdfu_swap_type_t;

#define SMPDFU_BOOT_FLAG_SET 0x01

/* Decode 16 magic bytes: all erased -> UNSET, exact match -> GOOD, else BAD. */
smpdfu_magic_state_t smpdfu_trailer_magic_decode(const uint8_t m[SMPDFU_TRAILER_MAGIC_LEN],
                                                 uint32_t max_align, uint8_t erased_val);

/* Decode a flag byte: 0x01 -> SET, erased -> UNSET, other -> BAD. */
smpdfu_flag_state_t smpdfu_trailer_flag_decode(uint8_t b, uint8_t erased_val);

/* swap_info byte: (image << 4) | type. Erased or type > 4 -> NONE. */
uint8_t smpdfu_trailer_swap_info(uint8_t image, smpdfu_swap_type_t type);
smpdfu_swap_type_t smpdfu_trailer_swap_info_type(uint8_t b, uint8_t erased_val);
uint8_t smpdfu_trailer_swap_info_image(uint8_t b, uint8_t erased_val);

/* The trailer state of one slot as read from flash. */
typedef struct {
    smpdfu_magic_state_t magic;
    smpdfu_flag_state_t image_ok;
    smpdfu_flag_state_t copy_done;
    smpdfu_swap_type_t swap_type; /* from swap_info */
} smpdfu_trailer_state_t;

/* MCUboot's decision table for a new swap (§7.5, rows 1-3; no swap-offset).
 * Row 3 (REVERT) also needs the secondary magic UNSET, as in bootutil. */
smpdfu_swap_type_t smpdfu_trailer_swap_decision(const smpdfu_trailer_state_t *primary,
                                                const smpdfu_trailer_state_t *secondary);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_TRAILER_H */
