/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary packets into the SMP server (OS and image
 * groups over a RAM flash with two images), with reboots in between.
 * Input: a sequence of records [u16 len BE][len bytes]; a record of length
 * 0xffff runs the boot emulation instead. Asserts: no crash, and the flash is
 * only ever written or erased inside the slots and the progress page. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/boot.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/server.h"

#include "flash_guard.h"

#define SLOT (8u * 1024u)
#define PAGE 512u
#define FLASH (5u * SLOT + PAGE + PAGE)

static uint8_t mem[FLASH];
static smpdfu_boot_cfg_t boot;
static smpdfu_flash_area_t progress = {4 * SLOT, PAGE};
static smpdfu_posix_hash_state_t hs;
static smpdfu_hash_t hash;
static uint8_t work[2 * PAGE];
static uint8_t rsp[1024];
static smpdfu_server_t srv;
static smpdfu_os_group_t os;
static smpdfu_img_group_t img;
static uint8_t image_a[4096], image_b[4096];
static size_t len_a, len_b;

/* Writes/erases must land in a slot or the progress page; the last page of
 * the flash (outside everything) must never change. */
static bool guard_allows(uint32_t off, size_t len)
{
    for (int i = 0; i < 4; i++) {
        if (off >= boot.slot[i].off && off + len <= boot.slot[i].off + boot.slot[i].size) {
            return true;
        }
    }
    return off >= progress.off && off + len <= progress.off + progress.size;
}

static int sink(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    if (n < 8 || n > sizeof(rsp)) {
        abort();
    }
    (void)p;
    return 0;
}

static void start_server(void)
{
    smpdfu_server_init(&srv, rsp, sizeof(rsp));
    smpdfu_os_group_init(&os);
    if (smpdfu_img_group_init(&img, &boot, &progress, work, sizeof(work)) != 0) {
        abort();
    }
    smpdfu_server_register(&srv, &os.group);
    smpdfu_server_register(&srv, &img.group);
    (void)smpdfu_img_group_restore(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        once = 1;
        smpdfu_posix_hash_init(&hs, &hash);
        len_a = fuzz_image(image_a, 1, 2000, 1, 1);
        len_b = fuzz_image(image_b, 2, 3000, 2, 1);
    }
    smpdfu_ram_flash_init(&ram, mem, FLASH, PAGE, 4, 0xff);
    guard_init();
    memset(&boot, 0, sizeof(boot));
    boot.flash = &guard;
    boot.image_count = 2;
    for (int i = 0; i < 4; i++) {
        boot.slot[i].off = (uint32_t)i * SLOT;
        boot.slot[i].size = SLOT;
    }
    boot.max_align = 8;
    boot.hash = &hash;
    boot.mode = (size > 0 && (data[0] & 1)) ? SMPDFU_BOOT_OVERWRITE : SMPDFU_BOOT_SWAP_MOVE;
    memcpy(mem, image_a, len_a);
    memcpy(mem + SLOT, image_b, len_b);
    memcpy(mem + 2 * SLOT, image_a, len_a);
    memcpy(mem + 3 * SLOT, image_b, len_b);
    start_server();

    uint8_t last_page[PAGE];
    memcpy(last_page, mem + FLASH - PAGE, PAGE);
    size_t pos = size > 0 ? 1 : 0;
    while (pos + 2 <= size) {
        size_t n = (size_t)data[pos] << 8 | data[pos + 1];
        pos += 2;
        if (n == 0xffff) {
            smpdfu_boot_result_t res;
            (void)smpdfu_boot_run(&boot, work, sizeof(work), &res);
            start_server();
            continue;
        }
        if (n > size - pos) {
            n = size - pos;
        }
        (void)smpdfu_server_process(&srv, data + pos, n, sink, NULL);
        pos += n;
    }
    if (memcmp(last_page, mem + FLASH - PAGE, PAGE) != 0) {
        abort();
    }
    return 0;
}
