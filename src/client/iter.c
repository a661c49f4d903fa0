/* SPDX-License-Identifier: Apache-2.0 */
/* Walking arrays and maps inside a response (client_iter.h). */
#include "smpdfu/client_iter.h"

#include <string.h>

int smpdfu_rsp_iter_init_buf(smpdfu_rsp_iter_t *it, const uint8_t *cbor, size_t len,
                             const char *key, bool want_map)
{
    if (!it || !cbor || !key) {
        return SMPDFU_EINVAL;
    }
    smpdfu_cbor_slice_t s = {0};
    bool found = false;
    const smpdfu_cbor_field_t f[] = {
        {key, want_map ? SMPDFU_CBOR_MAP : SMPDFU_CBOR_ARRAY, &s, &found}};
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, cbor, len);
    if (smpdfu_cbor_decode_map(&d, f, 1) < 0) {
        return SMPDFU_EPROTO;
    }
    if (!found) {
        return SMPDFU_ENOTFOUND;
    }
    smpdfu_cbor_dec_init(&it->d, s.ptr, s.len);
    int rc = want_map ? smpdfu_cbor_enter_map(&it->d, &it->c) : smpdfu_cbor_enter_array(&it->d, &it->c);
    return rc < 0 ? SMPDFU_EPROTO : 0;
}

int smpdfu_rsp_iter_init(smpdfu_rsp_iter_t *it, const smpdfu_rsp_t *r, const char *key,
                         bool want_map)
{
    if (!r || r->status != 0 || !r->payload) {
        return SMPDFU_EINVAL;
    }
    return smpdfu_rsp_iter_init_buf(it, r->payload, r->payload_len, key, want_map);
}

/* The next value's encoded bytes. */
static int take_value(smpdfu_rsp_iter_t *it, smpdfu_cbor_slice_t *v)
{
    size_t at = it->d.pos;
    if (smpdfu_cbor_skip(&it->d) < 0) {
        return SMPDFU_EPROTO;
    }
    v->ptr = it->d.buf + at;
    v->len = it->d.pos - at;
    return 1;
}

int smpdfu_rsp_iter_next_pair(smpdfu_rsp_iter_t *it, const char **key, size_t *key_len,
                              smpdfu_cbor_slice_t *value)
{
    int m = smpdfu_cbor_more(&it->d, &it->c);
    if (m <= 0) {
        return m < 0 ? SMPDFU_EPROTO : 0;
    }
    if (smpdfu_cbor_get_tstr(&it->d, key, key_len) < 0) {
        return SMPDFU_EPROTO;
    }
    return take_value(it, value);
}

int smpdfu_rsp_iter_next(smpdfu_rsp_iter_t *it, smpdfu_cbor_slice_t *item)
{
    int m = smpdfu_cbor_more(&it->d, &it->c);
    if (m <= 0) {
        return m < 0 ? SMPDFU_EPROTO : 0;
    }
    return take_value(it, item);
}
