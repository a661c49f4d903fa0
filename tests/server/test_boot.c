/* SPDX-License-Identifier: Apache-2.0 */
/* Boot emulation (trailer writes, decision table, swap end states, invalid
 * secondary, overwrite) and the state-write rules, over a RAM flash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helper_server.h"

static h_dev_t dev;
static uint8_t img1[8192], img2[12288];
static size_t len1, len2;
static uint8_t hash1[32], hash2[32], sha1[32], sha2[32];

static void init_dev(int images, smpdfu_boot_mode_t mode)
{
    h_dev_init(&dev, images, mode, 2048);
    len1 = h_make_image(img1, sizeof(img1), 1, 0, 5000, 1, hash1, sha1);
    len2 = h_make_image(img2, sizeof(img2), 2, 0, 9000, 2, hash2, sha2);
    h_program(&dev, 0, img1, len1);
}

static int setup(void **state)
{
    (void)state;
    init_dev(1, SMPDFU_BOOT_SWAP_MOVE);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_dev_free(&dev);
    return 0;
}

static smpdfu_trailer_state_t st(int slot)
{
    smpdfu_trailer_state_t s;
    assert_int_equal(smpdfu_boot_read_state(&dev.boot, (uint8_t)slot, &s), 0);
    return s;
}

static void boot(smpdfu_boot_result_t *res)
{
    assert_int_equal(smpdfu_boot_run(&dev.boot, dev.work, sizeof(dev.work), res), 0);
    assert_true(res->bootable);
    h_dev_restart(&dev);
}

static int slot_has(int slot, const uint8_t *hash)
{
    uint8_t h[32];
    if (smpdfu_img_read_info(&dev.img, slot, NULL, h, NULL) != 0) {
        return 0;
    }
    return memcmp(h, hash, 32) == 0;
}

static void test_set_next_writes(void **state)
{
    (void)state;
    /* factory image without trailer: confirm is a no-op */
    assert_int_equal(smpdfu_boot_set_next(&dev.boot, 0, true, true), 0);
    assert_int_equal(st(0).magic, SMPDFU_MAGIC_UNSET);
    assert_int_equal(smpdfu_boot_swap_type(&dev.boot, 0), SMPDFU_SWAP_NONE);
    h_program(&dev, 1, img2, len2);
    assert_int_equal(smpdfu_boot_set_next(&dev.boot, 1, false, false), 0);
    smpdfu_trailer_state_t s = st(1);
    assert_int_equal(s.magic, SMPDFU_MAGIC_GOOD);
    assert_int_equal(s.image_ok, SMPDFU_FLAG_UNSET);
    assert_int_equal(s.swap_type, SMPDFU_SWAP_TEST);
    assert_int_equal(smpdfu_boot_swap_type(&dev.boot, 0), SMPDFU_SWAP_TEST);
    /* already scheduled: nothing changes, even when asked to confirm */
    assert_int_equal(smpdfu_boot_set_next(&dev.boot, 1, false, true), 0);
    assert_int_equal(st(1).image_ok, SMPDFU_FLAG_UNSET);
    /* bad magic on the active slot */
    uint8_t junk[16];
    memset(junk, 0x12, sizeof(junk));
    smpdfu_flash_area_write(&dev.ram.flash, &dev.boot.slot[0], H_SLOT - 16, junk, 16);
    assert_int_equal(smpdfu_boot_set_next(&dev.boot, 0, true, true), SMPDFU_EBOOT_BADVECT);
}

static void test_test_swap_and_revert(void **state)
{
    (void)state;
    smpdfu_boot_result_t res;
    assert_int_equal(h_upload(&dev, img2, len2, sha2, 512), (int64_t)len2);
    assert_int_equal(smpdfu_img_set_next_boot_slot(&dev.img, 1, false), 0);
    boot(&res);
    assert_int_equal(res.performed[0], SMPDFU_SWAP_TEST);
    assert_true(slot_has(0, hash2));
    assert_true(slot_has(1, hash1));
    smpdfu_trailer_state_t p = st(0), s = st(1);
    assert_int_equal(p.magic, SMPDFU_MAGIC_GOOD);
    assert_int_equal(p.copy_done, SMPDFU_FLAG_SET);
    assert_int_equal(p.image_ok, SMPDFU_FLAG_UNSET);
    assert_int_equal(s.magic, SMPDFU_MAGIC_UNSET);
    assert_int_equal(smpdfu_boot_swap_type(&dev.boot, 0), SMPDFU_SWAP_REVERT);
    assert_int_equal(smpdfu_img_slot_flags(&dev.img, 0), SMPDFU_IMG_F_ACTIVE);
    assert_int_equal(smpdfu_img_slot_flags(&dev.img, 1), SMPDFU_IMG_F_CONFIRMED);
    assert_true(smpdfu_img_slot_in_use(&dev.img, 1));
    /* state-write rules while running the test image */
    assert_int_equal(smpdfu_img_mgmt_err(smpdfu_img_set_next_boot_slot(&dev.img, 1, false)), 28);
    assert_int_equal(smpdfu_img_mgmt_err(smpdfu_img_set_next_boot_slot(&dev.img, 0, false)), 33);
    assert_int_equal(smpdfu_img_set_next_boot_slot(&dev.img, 1, true), 0); /* no-op */
    boot(&res);
    assert_int_equal(res.performed[0], SMPDFU_SWAP_REVERT);
    assert_true(slot_has(0, hash1));
    assert_true(slot_has(1, hash2));
    p = st(0);
    assert_int_equal(p.image_ok, SMPDFU_FLAG_SET);
    assert_int_equal(p.copy_done, SMPDFU_FLAG_SET);
    assert_int_equal(smpdfu_boot_swap_type(&dev.boot, 0), SMPDFU_SWAP_NONE);
    boot(&res);
    assert_int_equal(res.performed[0], SMPDFU_SWAP_NONE);
}

static void test_confirm_keeps(void **state)
{
    (void)state;
    smpdfu_boot_result_t res;
    h_upload(&dev, img2, len2, sha2, 512);
    assert_int_equal(smpdfu_img_set_next_boot_slot(&dev.img, 1, false), 0);
    boot(&res);
    assert_int_equal(smpdfu_img_set_next_boot_slot(&dev.img, 0, true), 0);
    assert_int_equal(st(0).image_ok, SMPDFU_FLAG_SET);
    boot(&res);
    assert_int_equal(res.performed[0], SMPDFU_SWAP_NONE);
    assert_true(slot_has(0, hash2));
}

static void test_perm(void **state)
{
    (void)state;
    smpdfu_boot_result_t res;
    h_upload(&dev, img2, len2, sha2, 512);
    assert_int_equal(smpdfu_img_set_next_boot_slot(&dev.img, 1, true), 0);
    assert_int_equal(smpdfu_img_slot_flags(&dev.img, 1),
                     SMPDFU_IMG_F_PENDING | SMPDFU_IMG_F_PERMANENT);
    /* rule 4: switching back, or testing the permanent slot */
    assert_int_equal(smpdfu_img_mgmt_err(smpdfu_img_set_next_boot_slot(&dev.img, 0, true)), 28);
    assert_int_equal(smpdfu_img_mgmt_err(smpdfu_img_set_next_boot_slot(&dev.img, 1, false)), 28);
    boot(&res);
    assert_int_equal(res.performed[0], SMPDFU_SWAP_PERM);
    smpdfu_trailer_state_t p = st(0);
    assert_int_equal(p.image_ok, SMPDFU_FLAG_SET);
    assert_int_equal(p.copy_done, SMPDFU_FLAG_SET);
    assert_true(slot_has(0, hash2));
}

static void test_invalid_secondary_erased(void **state)
{
    (void)state;
    smpdfu_boot_result_t res;
    img2[0x400] ^= 0x55; /* payload no longer matches its hash TLV */
    h_program(&dev, 1, img2, len2);
    img2[0x400] ^= 0x55;
    assert_int_equal(smpdfu_img_set_next_boot_slot(&dev.img, 1, false), 0);
    boot(&res);
    /* Recent bootutil (boot_validate_slot -> FIH_NO_BOOTABLE_IMAGE): the
     * invalid secondary is erased and the swap type becomes NONE; the
     * primary trailer is left alone (no "pretend we reverted" image_ok). */
    assert_int_equal(res.decided[0], SMPDFU_SWAP_TEST);
    assert_int_equal(res.performed[0], SMPDFU_SWAP_NONE);
    assert_int_equal(res.validate_err[0], SMPDFU_EIMG_HASH_MISMATCH);
    assert_true(slot_has(0, hash1));
    assert_int_equal(smpdfu_flash_area_is_erased(&dev.ram.flash, &dev.boot.slot[1], 0, H_SLOT), 1);
    assert_int_equal(st(0).magic, SMPDFU_MAGIC_UNSET);
    assert_int_equal(st(0).image_ok, SMPDFU_FLAG_UNSET);
}

/* Swap-using-move: a revert whose target has no image header any more
 * clears both trailers (bootutil's "stuck revert" fix), so the running
 * test image ends up confirmed instead of reverting forever. */
static void test_stuck_revert_cleared(void **state)
{
    (void)state;
    smpdfu_boot_result_t res;
    assert_int_equal(h_upload(&dev, img2, len2, sha2, 512), (int64_t)len2);
    assert_int_equal(smpdfu_img_set_next_boot_slot(&dev.img, 1, false), 0);
    boot(&res);
    assert_int_equal(smpdfu_boot_swap_type(&dev.boot, 0), SMPDFU_SWAP_REVERT);
    assert_int_equal(smpdfu_flash_area_erase(&dev.ram.flash, &dev.boot.slot[1], 0, H_PAGE), 0);
    boot(&res);
    assert_int_equal(res.decided[0], SMPDFU_SWAP_REVERT);
    assert_int_equal(res.performed[0], SMPDFU_SWAP_NONE);
    assert_true(slot_has(0, hash2));
    assert_int_equal(st(0).magic, SMPDFU_MAGIC_UNSET);
    assert_int_equal(smpdfu_boot_swap_type(&dev.boot, 0), SMPDFU_SWAP_NONE);
    assert_int_equal(smpdfu_img_slot_flags(&dev.img, 0),
                     SMPDFU_IMG_F_ACTIVE | SMPDFU_IMG_F_CONFIRMED);
}

static void test_overwrite(void **state)
{
    (void)state;
    smpdfu_boot_result_t res;
    h_dev_free(&dev);
    init_dev(1, SMPDFU_BOOT_OVERWRITE);
    h_upload(&dev, img2, len2, sha2, 512);
    assert_int_equal(smpdfu_img_set_next_boot_slot(&dev.img, 1, false), 0);
    boot(&res);
    assert_int_equal(res.performed[0], SMPDFU_SWAP_TEST);
    assert_true(slot_has(0, hash2));
    assert_int_equal(smpdfu_flash_area_is_erased(&dev.ram.flash, &dev.boot.slot[1], 0, H_SLOT), 1);
    assert_int_equal(smpdfu_img_slot_flags(&dev.img, 0),
                     SMPDFU_IMG_F_ACTIVE | SMPDFU_IMG_F_CONFIRMED);
}

static void test_two_images_rules(void **state)
{
    (void)state;
    smpdfu_boot_result_t res;
    h_dev_free(&dev);
    init_dev(2, SMPDFU_BOOT_SWAP_SCRATCH);
    h_program(&dev, 2, img1, len1);
    h_program(&dev, 3, img2, len2);
    /* rule 1: confirming image 1's primary is denied, its secondary is not */
    assert_int_equal(smpdfu_img_mgmt_err(smpdfu_img_set_next_boot_slot(&dev.img, 2, true)), 32);
    assert_int_equal(smpdfu_img_set_next_boot_slot(&dev.img, 3, true), 0);
    assert_int_equal(smpdfu_boot_swap_type(&dev.boot, 1), SMPDFU_SWAP_PERM);
    /* recent bootutil's boot_set_next() tags swap_info with the slot's own
     * image number (flash_area_id_to_image), not 0 */
    smpdfu_trailer_layout_t lay;
    uint8_t si = 0;
    assert_int_equal(smpdfu_trailer_layout(H_SLOT, dev.boot.max_align, &lay), 0);
    assert_int_equal(smpdfu_flash_area_read(&dev.ram.flash, &dev.boot.slot[3], lay.swap_info, &si, 1), 0);
    assert_int_equal(si, 0x13);
    assert_int_equal(smpdfu_boot_swap_type(&dev.boot, 0), SMPDFU_SWAP_NONE);
    boot(&res);
    assert_int_equal(res.performed[1], SMPDFU_SWAP_PERM);
    assert_int_equal(res.performed[0], SMPDFU_SWAP_NONE);
    assert_true(slot_has(2, hash2));
}

static void test_progress_survives_restart(void **state)
{
    (void)state;
    uint8_t body[700];
    smpdfu_cbor_enc_t e;
    /* upload 3000 of the bytes, then "restart" the server over the flash */
    size_t off = 0;
    while (off < 3000) {
        smpdfu_cbor_enc_init(&e, body, sizeof(body));
        smpdfu_cbor_map_begin(&e, off ? 2 : 4);
        smpdfu_cbor_put_tstrz(&e, "off");
        smpdfu_cbor_put_uint(&e, off);
        smpdfu_cbor_put_tstrz(&e, "data");
        smpdfu_cbor_put_bstr(&e, img2 + off, 333);
        if (!off) {
            smpdfu_cbor_put_tstrz(&e, "len");
            smpdfu_cbor_put_uint(&e, len2);
            smpdfu_cbor_put_tstrz(&e, "sha");
            smpdfu_cbor_put_bstr(&e, sha2, 32);
        }
        assert_int_equal(h_request(&dev, 1, 2, 1, 1, body, e.len), 1);
        off += 333;
        assert_int_equal(h_rsp_uint(&dev, 0, "off"), (int64_t)off);
    }
    h_dev_restart(&dev);
    /* 333 * 10 = 3330 accepted; 3328 were whole write units on flash */
    assert_int_equal(dev.img.s.slot, 1);
    assert_int_equal(dev.img.s.off, 3328);
    smpdfu_cbor_enc_init(&e, body, sizeof(body));
    smpdfu_cbor_map_begin(&e, 4);
    smpdfu_cbor_put_tstrz(&e, "off");
    smpdfu_cbor_put_uint(&e, 0);
    smpdfu_cbor_put_tstrz(&e, "data");
    smpdfu_cbor_put_bstr(&e, img2, 100);
    smpdfu_cbor_put_tstrz(&e, "len");
    smpdfu_cbor_put_uint(&e, len2);
    smpdfu_cbor_put_tstrz(&e, "sha");
    smpdfu_cbor_put_bstr(&e, sha2, 32);
    assert_int_equal(h_request(&dev, 1, 2, 1, 1, body, e.len), 1);
    assert_int_equal(h_rsp_uint(&dev, 0, "off"), 3328);
    /* corrupt a written byte: the record no longer checks out */
    h_dev_restart(&dev);
    dev.mem[H_SLOT + 100] ^= 1;
    h_dev_restart(&dev);
    assert_int_equal(dev.img.s.slot, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_next_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_test_swap_and_revert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_confirm_keeps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_perm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_secondary_erased, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stuck_revert_cleared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_images_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_survives_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
