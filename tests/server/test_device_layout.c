/* SPDX-License-Identifier: Apache-2.0 */
/* device_layout.h: the emulated device's flash layout (smpdfu-target and the
 * firmware target share it) and factory programming with a padded tail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "smpdfu/device_layout.h"
#include "smpdfu/trailer.h"

static void test_layout(void **state)
{
    (void)state;
    smpdfu_boot_cfg_t b;
    smpdfu_device_layout_t l;
    /* smpdfu-target's defaults: one image, 256 KiB slots, 4 KiB pages, settings after */
    smpdfu_device_layout_cfg_t c = {1, 256 * 1024, 4096, 4, SMPDFU_BOOT_SWAP_MOVE, 2 * 4096};
    memset(&b, 0, sizeof(b));
    assert_int_equal(smpdfu_device_layout(&c, &b, &l), 0);
    assert_int_equal(b.image_count, 1);
    assert_int_equal(b.mode, SMPDFU_BOOT_SWAP_MOVE);
    assert_int_equal(b.slot[0].off, 0);
    assert_int_equal(b.slot[1].off, 256 * 1024);
    assert_int_equal(b.slot[1].size, 256 * 1024);
    assert_int_equal(b.max_align, 8);
    assert_int_equal(b.max_sectors, 128); /* MCUboot's default: 64 pages per slot is fewer */
    assert_int_equal(b.scratch.size, 0);
    assert_int_equal(l.progress.off, 512 * 1024);
    assert_int_equal(l.progress.size, 4096);
    assert_int_equal(l.extra.off, 512 * 1024 + 4096);
    assert_int_equal(l.extra.size, 8192);
    assert_int_equal(l.flash_size, 512 * 1024 + 3 * 4096);

    /* two images, scratch, a 16-byte write unit, more pages than 128 */
    smpdfu_device_layout_cfg_t s = {2, 1024 * 1024, 4096, 16, SMPDFU_BOOT_SWAP_SCRATCH, 0};
    memset(&b, 0, sizeof(b));
    assert_int_equal(smpdfu_device_layout(&s, &b, &l), 0);
    assert_int_equal(b.image_count, 2);
    assert_int_equal(b.slot[3].off, 3 * 1024 * 1024);
    assert_int_equal(b.max_align, 16);
    assert_int_equal(b.max_sectors, 256);
    uint32_t tsz = smpdfu_trailer_total_size(16, 256, 3, 16);
    assert_int_equal(b.scratch.off, 4 * 1024 * 1024 + 4096);
    assert_int_equal(b.scratch.size, (tsz + 4095) / 4096 * 4096);
    assert_true(b.scratch.size >= tsz && b.scratch.size % 4096 == 0);
    assert_int_equal(l.extra.off, b.scratch.off + b.scratch.size);
    assert_int_equal(l.flash_size, l.extra.off);

    smpdfu_device_layout_cfg_t bad[] = {
        {0, 4096, 4096, 4, SMPDFU_BOOT_SWAP_MOVE, 0},
        {3, 4096, 4096, 4, SMPDFU_BOOT_SWAP_MOVE, 0},
        {1, 4096, 0, 4, SMPDFU_BOOT_SWAP_MOVE, 0},
        {1, 6000, 4096, 4, SMPDFU_BOOT_SWAP_MOVE, 0},
        {2, 0x40000000u, 4096, 4, SMPDFU_BOOT_SWAP_MOVE, 0}, /* 4 GiB of slots */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(smpdfu_device_layout(&bad[i], &b, &l), SMPDFU_EINVAL);
    }
}

static uint8_t image[1000];

static int img_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    uint32_t *next = ctx;
    assert_int_equal(off, *next); /* in order */
    memcpy(buf, image + off, len);
    *next = off + (uint32_t)len;
    return 0;
}

static void test_program(void **state)
{
    (void)state;
    static uint8_t mem[4 * 1024];
    smpdfu_ram_flash_t r;
    uint8_t work[256];
    assert_int_equal(smpdfu_ram_flash_init(&r, mem, sizeof(mem), 1024, 8, 0xff), 0);
    for (size_t i = 0; i < sizeof(image); i++) {
        image[i] = (uint8_t)(i * 13 + 1);
    }
    smpdfu_flash_area_t a = {1024, 2048};
    uint32_t next = 0;
    /* 1000 bytes = 3 chunks of 256 + 232; the tail is not a whole write unit (8) */
    assert_int_equal(smpdfu_device_program(&r.flash, &a, img_read, &next, 997, work, sizeof(work)), 0);
    assert_int_equal(next, 997);
    assert_memory_equal(mem + 1024, image, 997);
    for (uint32_t i = 997; i < 2048; i++) {
        assert_int_equal(mem[1024 + i], 0xff); /* padded with erased bytes, nothing beyond */
    }
    assert_int_equal(r.writes, 4);
    assert_int_equal(mem[1023], 0xff); /* nothing before the area */

    smpdfu_flash_area_t small = {0, 512};
    next = 0;
    assert_int_equal(smpdfu_device_program(&r.flash, &small, img_read, &next, 513, work, sizeof(work)),
                     SMPDFU_ENOSPC);
    assert_int_equal(smpdfu_device_program(&r.flash, &small, img_read, &next, 8, work, 7),
                     SMPDFU_EINVAL);
    /* the flash's own refusal comes back: the area was written already */
    next = 0;
    assert_int_equal(smpdfu_device_program(&r.flash, &a, img_read, &next, 16, work, sizeof(work)),
                     SMPDFU_EFLASH_NOT_ERASED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
