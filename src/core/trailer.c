/* SPDX-License-Identifier: Apache-2.0 */
/* MCUboot image trailer: layout, magic, flags, swap decision (protocol.md §7). */
#include "smpdfu/trailer.h"

#include <string.h>

static uint32_t align_up(uint32_t v, uint32_t a)
{
    return (v + a - 1u) & ~(a - 1u);
}

static bool valid_align(uint32_t a)
{
    return a == 8 || a == 16 || a == 32;
}

int smpdfu_trailer_layout(uint32_t slot_size, uint32_t max_align, smpdfu_trailer_layout_t *out)
{
    if (!out || !valid_align(max_align) || slot_size % max_align) {
        return SMPDFU_EINVAL;
    }
    /* magic (ALIGN_UP(16, A)) + image_ok + copy_done + swap_info + swap_size. */
    uint32_t magic_area = align_up(SMPDFU_TRAILER_MAGIC_LEN, max_align);
    uint32_t info = magic_area + 4u * max_align;
    if (slot_size < info) {
        return SMPDFU_EINVAL;
    }
    out->align = max_align;
    out->magic = slot_size - SMPDFU_TRAILER_MAGIC_LEN;
    out->image_ok = slot_size - magic_area - max_align;
    out->copy_done = out->image_ok - max_align;
    out->swap_info = out->copy_done - max_align;
    out->swap_size = out->swap_info - max_align;
    out->info_size = info;
    return 0;
}

uint32_t smpdfu_trailer_total_size(uint32_t max_align, uint32_t max_sectors, uint32_t states,
                                   uint32_t write_size)
{
    if (!valid_align(max_align)) {
        return 0;
    }
    uint64_t t = (uint64_t)max_sectors * states * write_size;
    t += align_up(SMPDFU_TRAILER_MAGIC_LEN, max_align) + 4u * (uint64_t)max_align;
    return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

void smpdfu_trailer_magic(uint32_t max_align, uint8_t out[SMPDFU_TRAILER_MAGIC_LEN])
{
    static const uint8_t magic8[SMPDFU_TRAILER_MAGIC_LEN] = {
        0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
        0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
    };
    static const uint8_t magic_tail[SMPDFU_TRAILER_MAGIC_LEN - 2] = {
        0x2d, 0xe1, 0x5d, 0x29, 0x41, 0x0b, 0x8d, 0x77, 0x67, 0x9c, 0x11, 0x0f, 0x1f, 0x8a,
    };
    if (max_align == SMPDFU_TRAILER_DEFAULT_ALIGN) {
        memcpy(out, magic8, sizeof(magic8));
        return;
    }
    /* Other alignments lead with A as a little-endian u16. */
    out[0] = (uint8_t)(max_align & 0xffu);
    out[1] = (uint8_t)((max_align >> 8) & 0xffu);
    memcpy(out + 2, magic_tail, sizeof(magic_tail));
}

smpdfu_magic_state_t smpdfu_trailer_magic_decode(const uint8_t m[SMPDFU_TRAILER_MAGIC_LEN],
                                                 uint32_t max_align, uint8_t erased_val)
{
    bool erased = true;
    for (size_t i = 0; i < SMPDFU_TRAILER_MAGIC_LEN; i++) {
        if (m[i] != erased_val) {
            erased = false;
            break;
        }
    }
    if (erased) {
        return SMPDFU_MAGIC_UNSET;
    }
    uint8_t ref[SMPDFU_TRAILER_MAGIC_LEN];
    smpdfu_trailer_magic(max_align, ref);
    return memcmp(m, ref, sizeof(ref)) ? SMPDFU_MAGIC_BAD : SMPDFU_MAGIC_GOOD;
}

smpdfu_flag_state_t smpdfu_trailer_flag_decode(uint8_t b, uint8_t erased_val)
{
    if (b == erased_val) {
        return SMPDFU_FLAG_UNSET;
    }
    return b == SMPDFU_BOOT_FLAG_SET ? SMPDFU_FLAG_SET : SMPDFU_FLAG_BAD;
}

uint8_t smpdfu_trailer_swap_info(uint8_t image, smpdfu_swap_type_t type)
{
    return (uint8_t)(((image & 0x0fu) << 4) | ((unsigned)type & 0x0fu));
}

smpdfu_swap_type_t smpdfu_trailer_swap_info_type(uint8_t b, uint8_t erased_val)
{
    if (b == erased_val) {
        return SMPDFU_SWAP_NONE;
    }
    unsigned t = b & 0x0fu;
    /* MCUboot reads anything above REVERT (and the unused 0) as NONE. */
    if (t < SMPDFU_SWAP_NONE || t > SMPDFU_SWAP_REVERT) {
        return SMPDFU_SWAP_NONE;
    }
    return (smpdfu_swap_type_t)t;
}

uint8_t smpdfu_trailer_swap_info_image(uint8_t b, uint8_t erased_val)
{
    return b == erased_val ? 0 : (uint8_t)(b >> 4);
}

smpdfu_swap_type_t smpdfu_trailer_swap_decision(const smpdfu_trailer_state_t *primary,
                                                const smpdfu_trailer_state_t *secondary)
{
    if (!primary || !secondary) {
        return SMPDFU_SWAP_NONE;
    }
    /* First matching row wins (§7.5 rows 1-3). */
    if (secondary->magic == SMPDFU_MAGIC_GOOD && secondary->image_ok == SMPDFU_FLAG_UNSET) {
        return SMPDFU_SWAP_TEST;
    }
    if (secondary->magic == SMPDFU_MAGIC_GOOD && secondary->image_ok == SMPDFU_FLAG_SET) {
        return SMPDFU_SWAP_PERM;
    }
    /* The revert row wants the secondary magic exactly UNSET: a corrupt
     * secondary trailer matches no row (MCUboot bootutil_public.c). */
    if (primary->magic == SMPDFU_MAGIC_GOOD && primary->image_ok == SMPDFU_FLAG_UNSET &&
        primary->copy_done == SMPDFU_FLAG_SET && secondary->magic == SMPDFU_MAGIC_UNSET) {
        return SMPDFU_SWAP_REVERT;
    }
    return SMPDFU_SWAP_NONE;
}
