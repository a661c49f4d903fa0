/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the emulated MCUboot reading trailers and swap-status
 * areas it did not write, and power cuts at any flash operation.
 * Input: [mode][setup][cut1 u16 BE][cut2 u16 BE] then overlay records
 * [area (0 primary, 1 secondary, 2 scratch)][off u16 BE][len][len bytes]
 * copied raw into the last pages of that area (trailer and status). Then the
 * boot runs cut at cut1, again cut at cut2 (0 = no cut), and twice uncut.
 * Asserts: no crash, flash written or erased only inside the slots and the
 * scratch, every uncut boot succeeds (with overlays it may also meet junk it
 * cannot write over), and with no overlay (only the swaps the
 * setup scheduled and the cuts) it ends bootable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/boot.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/posix_flash.h"

#include "flash_guard.h"

#define SLOT (8u * 1024u)
#define PAGE 512u
#define SCRATCH (4u * PAGE) /* the 1584-byte trailer spans four pages */
#define FLASH (2u * SLOT + SCRATCH + PAGE)

static uint8_t mem[FLASH];
static smpdfu_boot_cfg_t boot;
static smpdfu_posix_hash_state_t hs;
static smpdfu_hash_t hash;
static uint8_t work[2 * PAGE];
static uint8_t image_a[4096], image_b[4096];
static size_t len_a, len_b;

static bool guard_allows(uint32_t off, size_t len)
{
    const smpdfu_flash_area_t *areas[] = {&boot.slot[0], &boot.slot[1], &boot.scratch};
    for (int i = 0; i < 3; i++) {
        if (off >= areas[i]->off && off + len <= areas[i]->off + areas[i]->size) {
            return true;
        }
    }
    return false;
}

/* One boot through a power-cut flash (cut_at 0: none). */
static int boot_once(uint32_t cut_at, smpdfu_boot_result_t *res)
{
    smpdfu_posix_powercut_t pc;
    smpdfu_posix_powercut_init(&pc, &guard, cut_at, false);
    smpdfu_posix_powercut_arm(&pc, true);
    boot.flash = &pc.flash;
    int rc = smpdfu_boot_run(&boot, work, sizeof(work), res);
    boot.flash = &guard;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    smpdfu_boot_result_t res;
    if (!once) {
        once = 1;
        smpdfu_posix_hash_init(&hs, &hash);
        len_a = fuzz_image(image_a, 1, 2000, 1, 3);
        len_b = fuzz_image(image_b, 2, 3000, 2, 3);
    }
    if (size < 6) {
        return 0;
    }
    smpdfu_ram_flash_init(&ram, mem, FLASH, PAGE, 4, 0xff);
    guard_init();
    memset(&boot, 0, sizeof(boot));
    boot.flash = &guard;
    boot.image_count = 1;
    boot.slot[0].off = 0;
    boot.slot[0].size = SLOT;
    boot.slot[1].off = SLOT;
    boot.slot[1].size = SLOT;
    boot.scratch.off = 2 * SLOT;
    boot.scratch.size = SCRATCH;
    boot.max_align = 8;
    boot.hash = &hash;
    boot.mode = (smpdfu_boot_mode_t)(data[0] % 3);
    if (smpdfu_boot_cfg_check(&boot) != 0) {
        abort();
    }
    memcpy(mem, image_a, len_a);
    memcpy(mem + SLOT, image_b, len_b);
    if (data[1] & 1) {
        (void)smpdfu_boot_set_next(&boot, 1, false, (data[1] & 2) != 0);
    }
    if (data[1] & 4) {
        /* A test swap done already: the next one is a revert. */
        (void)smpdfu_boot_run(&boot, work, sizeof(work), &res);
    }
    uint32_t cut1 = (uint32_t)data[2] << 8 | data[3];
    uint32_t cut2 = (uint32_t)data[4] << 8 | data[5];
    bool overlaid = false;
    size_t pos = 6;
    while (pos + 4 <= size) {
        uint8_t which = data[pos] % 3;
        uint32_t off = (uint32_t)data[pos + 1] << 8 | data[pos + 2];
        size_t n = data[pos + 3];
        pos += 4;
        if (n > size - pos) {
            n = size - pos;
        }
        const smpdfu_flash_area_t *a = which == 2 ? &boot.scratch : &boot.slot[which];
        uint32_t region = which == 2 ? SCRATCH : 4 * PAGE;
        uint32_t base = a->off + a->size - region;
        off %= region;
        if (n > region - off) {
            n = region - off;
        }
        memcpy(mem + base + off, data + pos, n);
        overlaid = overlaid || n > 0;
        pos += n;
    }
    (void)boot_once(cut1, &res);
    (void)boot_once(cut2, &res);
    for (int i = 0; i < 2; i++) {
        int rc = boot_once(0, &res);
        /* Whatever the trailers say, an uncut boot stays inside the areas
         * (guard_allows) and fails on nothing but the flash refusing to
         * write over junk an overlay put where erased padding belongs (a
         * flag's write unit, as Zephyr's flash simulator refuses it; MCUboot
         * asserts there). Without overlays it succeeds and ends bootable. */
        bool junk = overlaid && rc == SMPDFU_EFLASH_NOT_ERASED;
        if ((rc != 0 && !junk) || (!overlaid && !res.bootable)) {
            abort();
        }
    }
    return 0;
}
