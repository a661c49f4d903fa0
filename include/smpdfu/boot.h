/*
 * smpdfu — an emulated MCUboot over a smpdfu_flash_t (protocol.md §7).
 *
 * Used by the server (state read/write need bootutil's view of the trailers)
 * and by the emulated device on reset (the swap itself). Slots use Zephyr's
 * absolute numbering: image k has slot 2k (primary, the one that runs) and
 * 2k+1 (secondary, where uploads go).
 *
 * What is emulated: boot_set_next() trailer writes (§7.4), the swap-type
 * table (§7.5), validation of the secondary (hash TLV; signature through a
 * hook), TEST/PERM/REVERT swaps with MCUboot's end states, recent bootutil's
 * handling of an invalid or erased secondary (erased, swap type NONE), and
 * overwrite-only. Swaps are power-fail safe as in bootutil: swap-using-move
 * (move every image sector up one, then swap sector by sector) and
 * swap-using-scratch (three copies per step through a scratch area) record
 * every step in the swap-status area in front of the trailer, byte for byte
 * where bootutil puts it, and the next boot resumes an interrupted swap from
 * the last recorded step (upgrade and revert alike). Overwrite-only keeps the
 * secondary and its trailer until the copy is complete, so an interrupted
 * overwrite starts over. The flash must be NOR-like: a step cut anywhere
 * (even inside a write or an erase) is recovered.
 */
#ifndef SMPDFU_BOOT_H
#define SMPDFU_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"
#include "smpdfu/flash.h"
#include "smpdfu/hash.h"
#include "smpdfu/image.h"
#include "smpdfu/trailer.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_BOOT_MAX_IMAGES 2

typedef enum {
    SMPDFU_BOOT_SWAP_MOVE = 0,    /* bootloader-info mode 3 */
    SMPDFU_BOOT_SWAP_SCRATCH = 1, /* mode 1 */
    SMPDFU_BOOT_OVERWRITE = 2,    /* mode 2, no revert */
} smpdfu_boot_mode_t;

/* MCUboot's mode number (enum mcuboot_mode) for bootloader-info. */
int smpdfu_boot_mode_value(smpdfu_boot_mode_t m);

/* Signature check of a parsed image: return 0 when it verifies, a negative
 * error (SMPDFU_EIMG_SIG, ...) otherwise. `digest` is the verified image hash
 * (info->hash_len bytes); `read` reads the slot. */
typedef int (*smpdfu_boot_verify_fn)(void *ctx, const smpdfu_image_info_t *info,
                                     const uint8_t *digest, smpdfu_read_fn read, void *read_ctx);

typedef struct {
    const smpdfu_flash_t *flash;
    uint8_t image_count;       /* 1 or 2 */
    smpdfu_flash_area_t slot[2 * SMPDFU_BOOT_MAX_IMAGES];
    smpdfu_boot_mode_t mode;
    uint32_t max_align;        /* BOOT_MAX_ALIGN (8 unless the flash needs more) */
    const smpdfu_hash_t *hash; /* needed for validation and upload checks */
    smpdfu_boot_verify_fn verify; /* NULL: images are not signature-checked */
    void *verify_ctx;
    /* BOOT_MAX_IMG_SECTORS: status entries per slot (0 = MCUboot's default
     * 128). It sizes the trailer; slots may not have more pages (swap modes). */
    uint32_t max_sectors;
    /* Swap-using-scratch only: the scratch area, page aligned, at least one
     * page and at least the pages the slot trailer spans. */
    smpdfu_flash_area_t scratch;
} smpdfu_boot_cfg_t;

/* Checks the configuration (areas inside the flash, page aligned, not
 * overlapping, trailer fits, sector count, scratch area in scratch mode).
 * Returns 0 or SMPDFU_EINVAL. */
int smpdfu_boot_cfg_check(const smpdfu_boot_cfg_t *cfg);

/* Offset in a slot of MCUboot's trailer (swap status area start,
 * boot_get_trailer_status_offset()): images must end before it. */
uint32_t smpdfu_boot_trailer_off(const smpdfu_boot_cfg_t *cfg, uint8_t slot);

/* Read the trailer state of one (absolute) slot. */
int smpdfu_boot_read_state(const smpdfu_boot_cfg_t *cfg, uint8_t slot, smpdfu_trailer_state_t *st);

/* mcuboot_swap_type_multi(image): the table of §7.5 over both trailers.
 * A read failure counts as NONE. Overwrite-only never reports REVERT. */
smpdfu_swap_type_t smpdfu_boot_swap_type(const smpdfu_boot_cfg_t *cfg, uint8_t image);

/* bootutil boot_set_next(slot, active, confirm) (§7.4). Returns 0, a flash
 * error, SMPDFU_EBOOT_BADVECT (active slot with bad magic) or
 * SMPDFU_EBOOT_BADIMAGE (other slot with bad magic). */
int smpdfu_boot_set_next(const smpdfu_boot_cfg_t *cfg, uint8_t slot, bool active, bool confirm);

/* boot_write_img_confirmed_multi(image): what a running image does to confirm
 * itself = set_next(primary, active, confirm). */
int smpdfu_boot_confirm(const smpdfu_boot_cfg_t *cfg, uint8_t image);

/* Parse and validate the image in a slot as MCUboot does before booting it
 * or swapping it in: header, TLVs, hash TLV against the contents, signature
 * when cfg->verify is set, and the image must end before the trailer.
 * work: caller scratch (>= 64 bytes). info may be NULL. Returns 0,
 * SMPDFU_ENOTFOUND when the header is erased, or the parse/verify error. */
int smpdfu_boot_validate(const smpdfu_boot_cfg_t *cfg, uint8_t slot, uint8_t *work,
                         size_t work_len, smpdfu_image_info_t *info);

/* What a boot did, per image. */
typedef struct {
    smpdfu_swap_type_t decided[SMPDFU_BOOT_MAX_IMAGES];  /* table result */
    smpdfu_swap_type_t performed[SMPDFU_BOOT_MAX_IMAGES]; /* NONE, TEST, PERM or REVERT */
    int validate_err[SMPDFU_BOOT_MAX_IMAGES];            /* why the secondary was erased, or 0 */
    bool resumed[SMPDFU_BOOT_MAX_IMAGES]; /* an interrupted swap was finished (performed) */
    bool no_room[SMPDFU_BOOT_MAX_IMAGES]; /* move: images too large to swap, nothing done */
    bool bootable;                                      /* primary of image 0 is valid */
} smpdfu_boot_result_t;

/* Run the bootloader once (a reset), in bootutil's order: for each image
 * finish a swap an earlier run left unfinished (res->resumed), or decide and
 * validate (an invalid secondary is erased and nothing is swapped; an erased
 * one loses its trailer, and in swap-using-move a revert stuck on it clears
 * the primary trailer too); then swap or overwrite what was decided, writing
 * the status and trailers MCUboot writes; then check that the primary of
 * image 0 is bootable. work: caller scratch of at least 2 * page_size bytes.
 * Returns 0 (see res->bootable), SMPDFU_ENOSPC for a small work buffer, or a
 * flash error: the flash is then as a power cut at that point leaves it, and
 * the next run finishes the job. */
int smpdfu_boot_run(const smpdfu_boot_cfg_t *cfg, uint8_t *work, size_t work_len,
                    smpdfu_boot_result_t *res);

/* Name of a swap type: "none", "test", "perm", "revert", "fail", "panic". */
const char *smpdfu_boot_swap_name(smpdfu_swap_type_t t);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_BOOT_H */
