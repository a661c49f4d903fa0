/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the settings flash store (src/server/settings_flash.c)
 * over arbitrary flash contents (what a power cut or a foreign image may
 * leave). Input: the bytes of the store's two pages (the rest erased), then
 * init, load, and saves. Asserts: no crash, writes stay in the area, and
 * after init succeeds a saved value is what load gives back (also after
 * another init, as after a reboot). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/server_groups.h"

#include "flash_guard.h"

#define PAGE 256u
#define AREA_OFF PAGE
#define FLASH (4u * PAGE)

static uint8_t mem[FLASH];

static bool guard_allows(uint32_t off, size_t len)
{
    return off >= AREA_OFF && off + len <= AREA_OFF + 2 * PAGE;
}

static const char *want_name;
static const uint8_t *want_val;
static size_t want_len;
static int seen;

static int cb(void *ctx, const char *name, const uint8_t *val, size_t len)
{
    (void)ctx;
    if (name == NULL || strlen(name) >= SMPDFU_SETTINGS_NAME_LEN || len > SMPDFU_SETTINGS_VALUE_LEN) {
        abort();
    }
    if (want_name != NULL && strcmp(name, want_name) == 0) {
        if (len != want_len || memcmp(val, want_val, len) != 0) {
            abort();
        }
        seen++;
    }
    return 0;
}

static void expect(smpdfu_settings_flash_t *fs, const char *name, const uint8_t *v, size_t n)
{
    want_name = name;
    want_val = v;
    want_len = n;
    seen = 0;
    if (fs->store.load(fs->store.ctx, cb, NULL) != 0 || seen != 1) {
        abort();
    }
    want_name = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smpdfu_settings_flash_t fs;
    smpdfu_flash_area_t area = {AREA_OFF, 2 * PAGE};
    uint32_t align = size > 0 ? (1u << (data[0] % 4)) : 4; /* 1, 2, 4 or 8 */
    smpdfu_ram_flash_init(&ram, mem, FLASH, PAGE, align, 0xff);
    if (size > 0) {
        size_t n = size - 1 > 2 * PAGE ? 2 * PAGE : size - 1;
        memcpy(mem + AREA_OFF, data + 1, n); /* whatever the flash holds */
    }
    guard_init();
    if (smpdfu_settings_flash_init(&fs, &guard, &area) != 0) {
        return 0;
    }
    (void)fs.store.load(fs.store.ctx, cb, NULL);
    /* Saves that fill the page several times over. */
    static const uint8_t v[40] = {1, 2, 3};
    for (int i = 0; i < 12; i++) {
        char name[8] = {'k', (char)('a' + i % 3), 0};
        if (fs.store.save(fs.store.ctx, name, v, 10 + (size_t)i) != 0) {
            abort();
        }
        expect(&fs, name, v, 10 + (size_t)i);
    }
    if (fs.store.save(fs.store.ctx, "gone", v, 3) != 0 || fs.store.save(fs.store.ctx, "gone", NULL, 0) != 0) {
        abort();
    }
    smpdfu_settings_flash_t again;
    if (smpdfu_settings_flash_init(&again, &guard, &area) != 0) {
        abort();
    }
    expect(&again, "kc", v, 21);
    want_name = "gone";
    seen = 0;
    (void)again.store.load(again.store.ctx, cb, NULL);
    if (seen != 0) {
        abort();
    }
    want_name = NULL;
    return 0;
}
