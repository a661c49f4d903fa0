/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — walking the lists and maps inside a response (task lists,
 * statistics fields, group lists). I/O free. An iterator reads the response
 * payload in place: it and every string it returns are valid only as long
 * as that payload (inside the response callback, or a copy the caller keeps).
 */
#ifndef SMPDFU_CLIENT_ITER_H
#define SMPDFU_CLIENT_ITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/cbor.h"
#include "smpdfu/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Position in one array or map of a response; fields private. */
typedef struct {
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_container_t c;
} smpdfu_rsp_iter_t;

/* Start walking the array (want_map false) or map (true) held by the
 * top-level key `key` of a successful response. Errors: SMPDFU_EINVAL (not a
 * success, no payload), SMPDFU_ENOTFOUND (no such key), SMPDFU_EPROTO (not a
 * map at the top, or the value has another type). */
int smpdfu_rsp_iter_init(smpdfu_rsp_iter_t *it, const smpdfu_rsp_t *r, const char *key,
                         bool want_map);

/* The same over a raw CBOR buffer holding the top-level map. */
int smpdfu_rsp_iter_init_buf(smpdfu_rsp_iter_t *it, const uint8_t *cbor, size_t len,
                             const char *key, bool want_map);

/* Map walk: the next key (a text string) and the value's encoded bytes
 * (decode them with a new decoder). Returns 1 with an entry, 0 at the end,
 * SMPDFU_EPROTO for a key that is not text or a malformed value. */
int smpdfu_rsp_iter_next_pair(smpdfu_rsp_iter_t *it, const char **key, size_t *key_len,
                              smpdfu_cbor_slice_t *value);

/* Array walk: the next item's encoded bytes. 1, 0 at the end, or SMPDFU_EPROTO. */
int smpdfu_rsp_iter_next(smpdfu_rsp_iter_t *it, smpdfu_cbor_slice_t *item);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_CLIENT_ITER_H */
