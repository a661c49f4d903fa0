/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — the hash hook. The core never links a crypto library: whoever
 * needs a digest passes one of these. On POSIX, smpdfu_posix_hash() (port)
 * backs it with mbedTLS; on an MCU, a hardware engine or TinyCrypt.
 */
#ifndef SMPDFU_HASH_H
#define SMPDFU_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SMPDFU_HASH_SHA256 = 0,
    SMPDFU_HASH_SHA384 = 1,
    SMPDFU_HASH_SHA512 = 2,
} smpdfu_hash_alg_t;

#define SMPDFU_HASH_MAX_LEN 64

/* Digest length of an algorithm (32, 48, 64), or 0 for an unknown one. */
size_t smpdfu_hash_len(smpdfu_hash_alg_t alg);

/* One hash computation at a time per hook. Each function returns 0 or a
 * negative smpdfu error (SMPDFU_EHASH, SMPDFU_ENOTSUP for an algorithm the
 * hook lacks). `ctx` is the hook's own state, owned by whoever set it up. */
typedef struct {
    int (*start)(void *ctx, smpdfu_hash_alg_t alg);
    int (*update)(void *ctx, const void *data, size_t len);
    int (*finish)(void *ctx, uint8_t *out); /* smpdfu_hash_len(alg) bytes */
    void *ctx;
} smpdfu_hash_t;

/* Reads len bytes at offset off of something (a file, a flash area) into buf.
 * Returns 0 or a negative smpdfu error. Used by image parsing and hashing so
 * neither needs the whole image in RAM. */
typedef int (*smpdfu_read_fn)(void *ctx, uint32_t off, void *buf, size_t len);

/* Hash bytes [off, off+len) read through `read`, using scratch (caller-owned,
 * any size >= 1) as the read buffer. out gets smpdfu_hash_len(alg) bytes. */
int smpdfu_hash_range(const smpdfu_hash_t *h, smpdfu_hash_alg_t alg, smpdfu_read_fn read,
                      void *read_ctx, uint32_t off, uint32_t len, uint8_t *scratch,
                      size_t scratch_len, uint8_t *out);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_HASH_H */
