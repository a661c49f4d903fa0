/* Power cuts during the emulated MCUboot swap, in process over a RAM flash:
 * for every swap mode, upgrade (test and permanent) and revert, the boot is
 * cut at every flash write and erase it makes (before it, or half-way
 * through a longer one), then booted again, sometimes cut again during the
 * recovery. Every recovery must end exactly where the uncut boot ends: the
 * same images in both slots, the same trailer flags, the same next swap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "helper_server.h"
#include "smpdfu/posix_flash.h"

static h_dev_t dev;
static uint8_t img1[8192], img2[12288];
static size_t len1, len2;
static uint8_t hash1[32], hash2[32];
static uint8_t snap[sizeof(dev.mem)];

/* What a boot left for one image. */
typedef struct {
    uint8_t hash_p[32], hash_s[32];
    bool has_p, has_s;
    smpdfu_trailer_state_t t; /* primary trailer */
    smpdfu_swap_type_t next;
} img_outcome_t;

typedef struct {
    img_outcome_t im[2];
    smpdfu_swap_type_t performed;
} outcome_t;

/* Boot once through a flash that is cut at operation cut_at (0: never).
 * Returns the number of operations the boot made, or -1 when it was cut. */
static int boot_cut(uint32_t cut_at, smpdfu_boot_result_t *res)
{
    smpdfu_posix_powercut_t pc;
    smpdfu_posix_powercut_init(&pc, &dev.ram.flash, cut_at ? cut_at : UINT32_MAX, false);
    smpdfu_posix_powercut_arm(&pc, true);
    dev.boot.flash = &pc.flash;
    int rc = smpdfu_boot_run(&dev.boot, dev.work, sizeof(dev.work), res);
    dev.boot.flash = &dev.ram.flash;
    if (pc.cut) {
        assert_int_equal(rc, SMPDFU_EFLASH_IO);
        return -1;
    }
    assert_int_equal(rc, 0);
    return (int)pc.ops;
}

static void outcome(outcome_t *o, const smpdfu_boot_result_t *res)
{
    memset(o, 0, sizeof(*o));
    h_dev_restart(&dev);
    for (int i = 0; i < dev.boot.image_count; i++) {
        img_outcome_t *m = &o->im[i];
        m->has_p = smpdfu_img_read_info(&dev.img, 2 * i, NULL, m->hash_p, NULL) == 0;
        m->has_s = smpdfu_img_read_info(&dev.img, 2 * i + 1, NULL, m->hash_s, NULL) == 0;
        assert_int_equal(smpdfu_boot_read_state(&dev.boot, (uint8_t)(2 * i), &m->t), 0);
        m->next = smpdfu_boot_swap_type(&dev.boot, (uint8_t)i);
    }
    o->performed = res->performed[0];
}

static bool same_images(const img_outcome_t *a, const img_outcome_t *b)
{
    return a->has_p == b->has_p && memcmp(a->hash_p, b->hash_p, 32) == 0 &&
           a->has_s == b->has_s && memcmp(a->hash_s, b->hash_s, 32) == 0;
}

static int kept_before; /* image recoveries that kept the images where they were */

/* Each image ends as the uncut boot ends it; or, where `before` is given,
 * with its images left in place and nothing pending (windows where bootutil
 * itself loses the swap: a revert cut twice early in scratch mode with a
 * trailer over two pages; with two images a second cut right after a first
 * one that left the status initialised but empty). */
static void same(const outcome_t *want, const outcome_t *before, const outcome_t *got,
                 const char *what, uint32_t n, uint32_t m)
{
    for (int i = 0; i < dev.boot.image_count; i++) {
        const img_outcome_t *w = &want->im[i], *g = &got->im[i];
        if (before != NULL && g->has_p && same_images(&before->im[i], g) &&
            g->next == SMPDFU_SWAP_NONE) {
            kept_before++;
            continue;
        }
        if (!same_images(w, g) || w->t.magic != g->t.magic || w->t.image_ok != g->t.image_ok ||
            w->t.copy_done != g->t.copy_done || w->next != g->next) {
            print_error("%s: cut at %u then %u: image %d: primary %d/%d secondary %d/%d "
                        "magic %d/%d image_ok %d/%d copy_done %d/%d next %d/%d\n",
                        what, n, m, i, g->has_p, memcmp(w->hash_p, g->hash_p, 32) == 0,
                        g->has_s, memcmp(w->hash_s, g->hash_s, 32) == 0, g->t.magic, w->t.magic,
                        g->t.image_ok, w->t.image_ok, g->t.copy_done, w->t.copy_done, g->next,
                        w->next);
            fail();
        }
    }
}

static const char *mode_name(smpdfu_boot_mode_t m)
{
    return m == SMPDFU_BOOT_SWAP_MOVE ? "move" : m == SMPDFU_BOOT_SWAP_SCRATCH ? "scratch"
                                                                               : "overwrite";
}

/* The current flash is the state before the boot to test. */
static void cut_everywhere(const char *what, smpdfu_swap_type_t expect, bool may_keep)
{
    smpdfu_boot_result_t res = {0};
    outcome_t want, got, before;
    uint32_t runs = 0;
    int kept0 = kept_before;
    outcome(&before, &res);
    static const uint32_t second[] = {1, 2, 3, 4, 6, 9, 14, 21, 33, 50, 75, 110};
    memcpy(snap, dev.mem, sizeof(snap));
    int total = boot_cut(0, &res);
    assert_true(res.bootable);
    assert_int_equal(res.performed[0], expect);
    assert_true(total > 10);
    outcome(&want, &res);
    for (uint32_t n = 1; n <= (uint32_t)total; n++) {
        memcpy(dev.mem, snap, sizeof(snap));
        assert_int_equal(boot_cut(n, &res), -1);
        int again = boot_cut(0, &res);
        assert_true(again >= 0);
        assert_true(res.bootable);
        outcome(&got, &res);
        same(&want, NULL, &got, what, n, 0);
        runs++;
        /* A second cut during the recovery. */
        for (size_t k = 0; k < sizeof(second) / sizeof(second[0]); k++) {
            uint32_t m = second[k];
            if ((int)m > again) {
                break;
            }
            memcpy(dev.mem, snap, sizeof(snap));
            assert_int_equal(boot_cut(n, &res), -1);
            assert_int_equal(boot_cut(m, &res), -1);
            assert_true(boot_cut(0, &res) >= 0);
            assert_true(res.bootable);
            outcome(&got, &res);
            same(&want, may_keep ? &before : NULL, &got, what, n, m);
            runs++;
        }
    }
    printf("%s %s: %d flash operations, %u cut runs (%d kept the images in place)\n",
           mode_name(dev.boot.mode), what, total, runs, kept_before - kept0);
    /* Back to the end state for the caller. */
    memcpy(dev.mem, snap, sizeof(snap));
    assert_int_equal(boot_cut(0, &res), total);
    h_dev_restart(&dev);
}

static void init(smpdfu_boot_mode_t mode)
{
    h_dev_init(&dev, 1, mode, 2048);
    len1 = h_make_image(img1, sizeof(img1), 1, 0, 5000, 1, hash1, NULL);
    len2 = h_make_image(img2, sizeof(img2), 2, 0, 9000, 2, hash2, NULL);
    h_program(&dev, 0, img1, len1);
    h_program(&dev, 1, img2, len2);
}

static void run_mode(smpdfu_boot_mode_t mode, bool revert)
{
    outcome_t o;
    smpdfu_boot_result_t res = {0};
    init(mode);
    assert_int_equal(smpdfu_img_set_next_boot_slot(&dev.img, 1, false), 0);
    cut_everywhere("test", SMPDFU_SWAP_TEST, false);
    outcome(&o, &res);
    assert_memory_equal(o.im[0].hash_p, hash2, 32);
    if (mode == SMPDFU_BOOT_OVERWRITE) {
        assert_false(o.im[0].has_s);
    } else {
        assert_memory_equal(o.im[0].hash_s, hash1, 32);
        assert_int_equal(o.im[0].next, SMPDFU_SWAP_REVERT);
    }
    if (revert) {
        cut_everywhere("revert", SMPDFU_SWAP_REVERT, mode == SMPDFU_BOOT_SWAP_SCRATCH);
        outcome(&o, &res);
        assert_memory_equal(o.im[0].hash_p, hash1, 32);
        assert_memory_equal(o.im[0].hash_s, hash2, 32);
        assert_int_equal(o.im[0].t.image_ok, SMPDFU_FLAG_SET);
        assert_int_equal(o.im[0].next, SMPDFU_SWAP_NONE);
    }
    h_dev_free(&dev);
}

static void run_perm(smpdfu_boot_mode_t mode)
{
    outcome_t o;
    smpdfu_boot_result_t res = {0};
    init(mode);
    assert_int_equal(smpdfu_img_set_next_boot_slot(&dev.img, 1, true), 0);
    cut_everywhere("perm", SMPDFU_SWAP_PERM, false);
    outcome(&o, &res);
    assert_memory_equal(o.im[0].hash_p, hash2, 32);
    assert_int_equal(o.im[0].next, SMPDFU_SWAP_NONE);
    h_dev_free(&dev);
}

static void test_move(void **state)
{
    (void)state;
    run_mode(SMPDFU_BOOT_SWAP_MOVE, true);
    run_perm(SMPDFU_BOOT_SWAP_MOVE);
}

static void test_scratch(void **state)
{
    (void)state;
    run_mode(SMPDFU_BOOT_SWAP_SCRATCH, true);
    run_perm(SMPDFU_BOOT_SWAP_SCRATCH);
}

/* nRF5340-like: both images marked for test, swapped in one boot. A cut in
 * image 1's swap must not make image 0 revert at the recovery
 * (boot_review_image_swap_types), and both swaps end as uncut. */
static void run_two(smpdfu_boot_mode_t mode)
{
    outcome_t o;
    smpdfu_boot_result_t res = {0};
    h_dev_init(&dev, 2, mode, 2048);
    len1 = h_make_image(img1, sizeof(img1), 1, 0, 5000, 1, hash1, NULL);
    len2 = h_make_image(img2, sizeof(img2), 2, 0, 9000, 2, hash2, NULL);
    h_program(&dev, 0, img1, len1);
    h_program(&dev, 1, img2, len2);
    h_program(&dev, 2, img2, len2);
    h_program(&dev, 3, img1, len1);
    assert_int_equal(smpdfu_boot_set_next(&dev.boot, 1, false, false), 0);
    assert_int_equal(smpdfu_boot_set_next(&dev.boot, 3, false, false), 0);
    cut_everywhere("two images test", SMPDFU_SWAP_TEST, true);
    outcome(&o, &res);
    assert_memory_equal(o.im[0].hash_p, hash2, 32);
    assert_memory_equal(o.im[1].hash_p, hash1, 32);
    assert_int_equal(o.im[0].next, SMPDFU_SWAP_REVERT);
    assert_int_equal(o.im[1].next, SMPDFU_SWAP_REVERT);
    h_dev_free(&dev);
}

static void test_two_images(void **state)
{
    (void)state;
    run_two(SMPDFU_BOOT_SWAP_MOVE);
    run_two(SMPDFU_BOOT_SWAP_SCRATCH);
}

static void test_overwrite(void **state)
{
    (void)state;
    run_mode(SMPDFU_BOOT_OVERWRITE, false);
}

/* The wrapper itself: counting only while armed, short writes cut before
 * they start, long writes and erases half-way, a dead flash after the cut. */
static void test_powercut_flash(void **state)
{
    (void)state;
    static uint8_t mem[8 * H_PAGE];
    uint8_t buf[2 * H_PAGE], back[2 * H_PAGE];
    smpdfu_ram_flash_t r;
    smpdfu_posix_powercut_t pc;
    memset(buf, 0x5a, sizeof(buf));
    assert_int_equal(smpdfu_ram_flash_init(&r, mem, sizeof(mem), H_PAGE, 4, 0xff), 0);
    smpdfu_posix_powercut_init(&pc, &r.flash, 2, false);
    assert_int_equal(smpdfu_flash_write(&pc.flash, 0, buf, 8), 0); /* not armed */
    smpdfu_posix_powercut_arm(&pc, true);
    assert_int_equal(smpdfu_flash_write(&pc.flash, H_PAGE, buf, 8), 0);            /* op 1 */
    assert_int_equal(smpdfu_flash_write(&pc.flash, 2 * H_PAGE, buf, 2 * H_PAGE),  /* op 2 */
                     SMPDFU_EFLASH_IO);
    assert_true(pc.cut);
    assert_int_equal(smpdfu_flash_read(&pc.flash, 2 * H_PAGE, back, sizeof(back)), 0);
    assert_memory_equal(back, buf, H_PAGE); /* the first half landed */
    assert_int_equal(smpdfu_flash_area_is_erased(
                         &r.flash, &(smpdfu_flash_area_t){3 * H_PAGE, H_PAGE}, 0, H_PAGE),
                     1);
    assert_int_equal(smpdfu_flash_erase(&pc.flash, 0, H_PAGE), SMPDFU_EFLASH_IO); /* dead */
    assert_int_equal(mem[0], 0x5a);

    /* A short write is all or nothing; a four-page erase stops after two. */
    smpdfu_posix_powercut_init(&pc, &r.flash, 1, false);
    smpdfu_posix_powercut_arm(&pc, true);
    assert_int_equal(smpdfu_flash_write(&pc.flash, 16, buf, 16), SMPDFU_EFLASH_IO);
    assert_int_equal(mem[16], 0xff);
    smpdfu_posix_powercut_init(&pc, &r.flash, 1, false);
    smpdfu_posix_powercut_arm(&pc, true);
    assert_int_equal(smpdfu_flash_erase(&pc.flash, 0, 4 * H_PAGE), SMPDFU_EFLASH_IO);
    assert_int_equal(mem[0], 0xff);
    assert_int_equal(mem[H_PAGE], 0xff);
    assert_int_equal(mem[2 * H_PAGE], 0x5a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_powercut_flash),
        cmocka_unit_test(test_move),
        cmocka_unit_test(test_scratch),
        cmocka_unit_test(test_overwrite),
        cmocka_unit_test(test_two_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
