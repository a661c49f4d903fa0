/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the server-side fuzz targets: the RAM flash they run on, seen
 * through `guard`, which aborts (a finding) on a write or an erase that the
 * target's guard_allows() refuses. The including file defines
 *     static bool guard_allows(uint32_t off, size_t len);
 * sets up `ram` and then calls guard_init(). fuzz_image() builds the small
 * unsigned MCUboot images the server and boot targets install. */
#ifndef SMPDFU_FUZZ_FLASH_GUARD_H
#define SMPDFU_FUZZ_FLASH_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/flash.h"
#include "smpdfu/posix_crypto.h"

static smpdfu_ram_flash_t ram;
static smpdfu_flash_t guard;

static bool guard_allows(uint32_t off, size_t len);

static int g_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    return ram.flash.read(ram.flash.ctx, off, buf, len);
}

static int g_write(void *ctx, uint32_t off, const void *buf, size_t len)
{
    (void)ctx;
    if (!guard_allows(off, len)) {
        abort();
    }
    return ram.flash.write(ram.flash.ctx, off, buf, len);
}

static int g_erase(void *ctx, uint32_t off, size_t len)
{
    (void)ctx;
    if (!guard_allows(off, len)) {
        abort();
    }
    return ram.flash.erase(ram.flash.ctx, off, len);
}

/* guard: ram's flash with the check in front of its writes and erases. */
static void guard_init(void)
{
    guard = ram.flash;
    guard.read = g_read;
    guard.write = g_write;
    guard.erase = g_erase;
}

/* An unsigned image (header 0x200, version major.0.0, payload byte i =
 * i * step + seed, a SHA-256 TLV) into out; returns its length. */
static inline size_t fuzz_image(uint8_t *out, uint8_t major, uint32_t payload, uint8_t seed, uint8_t step)
{
    const uint32_t hdr = 0x200;
    uint8_t h[32];
    memset(out, 0, hdr);
    memcpy(out, "\x3d\xb8\xf3\x96", 4);
    out[9] = 0x02;
    out[12] = (uint8_t)payload;
    out[13] = (uint8_t)(payload >> 8);
    out[20] = major;
    for (uint32_t i = 0; i < payload; i++) {
        out[hdr + i] = (uint8_t)(i * step + seed);
    }
    smpdfu_posix_digest(SMPDFU_HASH_SHA256, out, hdr + payload, h);
    memcpy(out + hdr + payload, "\x07\x69\x28\x00\x10\x00\x20\x00", 8);
    memcpy(out + hdr + payload + 8, h, 32);
    return hdr + payload + 40;
}

#endif
