/* SPDX-License-Identifier: Apache-2.0 */
/* Hashing a range read through a callback, with a caller-owned buffer. */
#include "smpdfu/hash.h"

size_t smpdfu_hash_len(smpdfu_hash_alg_t alg)
{
    switch (alg) {
    case SMPDFU_HASH_SHA256:
        return 32;
    case SMPDFU_HASH_SHA384:
        return 48;
    case SMPDFU_HASH_SHA512:
        return 64;
    }
    return 0;
}

int smpdfu_hash_range(const smpdfu_hash_t *h, smpdfu_hash_alg_t alg, smpdfu_read_fn read,
                      void *read_ctx, uint32_t off, uint32_t len, uint8_t *scratch,
                      size_t scratch_len, uint8_t *out)
{
    if (!h || !h->start || !h->update || !h->finish || !read || !scratch || scratch_len == 0 ||
        !out || smpdfu_hash_len(alg) == 0) {
        return SMPDFU_EINVAL;
    }
    /* The range must not wrap around the 32-bit offset space. */
    if ((uint32_t)(off + len) < off) {
        return SMPDFU_ERANGE;
    }
    int rc = h->start(h->ctx, alg);
    if (rc) {
        return rc;
    }
    uint32_t done = 0;
    while (done < len) {
        size_t n = len - done;
        if (n > scratch_len) {
            n = scratch_len;
        }
        rc = read(read_ctx, off + done, scratch, n);
        if (rc) {
            return rc;
        }
        rc = h->update(h->ctx, scratch, n);
        if (rc) {
            return rc;
        }
        done += (uint32_t)n;
    }
    return h->finish(h->ctx, out);
}
