/* SPDX-License-Identifier: Apache-2.0 */
/* Enumeration group requests and parsers (client_enum.h). */
#include "smpdfu/client_enum.h"

#include <string.h>

#include "grp_util.h"
#include "req_opts.h"

static int empty(smpdfu_client_t *c, uint8_t id, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                 void *arg)
{
    return smpdfu_grp_send_empty(c, SMPDFU_OP_READ, SMPDFU_GROUP_ENUM, id, o, cb, arg);
}

int smpdfu_enum_count(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    return empty(c, SMPDFU_ENUM_COUNT, o, cb, arg);
}

int smpdfu_enum_count_parse(const smpdfu_rsp_t *r, uint32_t *count)
{
    return smpdfu_grp_u32(r, "count", count);
}

int smpdfu_enum_list(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    return empty(c, SMPDFU_ENUM_LIST, o, cb, arg);
}

int smpdfu_enum_list_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it)
{
    return smpdfu_rsp_iter_init(it, r, "groups", false);
}

int smpdfu_enum_list_next(smpdfu_rsp_iter_t *it, uint16_t *group)
{
    smpdfu_cbor_slice_t v;
    int rc = smpdfu_rsp_iter_next(it, &v);
    if (rc <= 0) {
        return rc;
    }
    uint64_t g;
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, v.ptr, v.len);
    if (smpdfu_cbor_get_uint(&d, &g) < 0 || g > UINT16_MAX) {
        return SMPDFU_EPROTO;
    }
    *group = (uint16_t)g;
    return 1;
}

int smpdfu_enum_single(smpdfu_client_t *c, uint32_t index, const smpdfu_req_opts_t *o,
                       smpdfu_rsp_fn cb, void *arg)
{
    smpdfu_req_t *r;
    int rc = smpdfu_grp_begin_map(c, SMPDFU_OP_READ, SMPDFU_GROUP_ENUM, SMPDFU_ENUM_SINGLE, 1, &r);
    if (rc) {
        return rc;
    }
    smpdfu_cbor_enc_t *e = smpdfu_req_enc(r);
    smpdfu_cbor_put_tstrz(e, "index");
    smpdfu_cbor_put_uint(e, index);
    return smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_enum_single_parse(const smpdfu_rsp_t *r, uint16_t *group, bool *end)
{
    uint64_t g = 0;
    bool fg = false, fe = false, e = false;
    const smpdfu_cbor_field_t f[] = {
        {"group", SMPDFU_CBOR_UINT, &g, &fg},
        {"end", SMPDFU_CBOR_BOOL, &e, &fe},
    };
    int rc = smpdfu_grp_fields(r, f, 2);
    if (rc) {
        return rc;
    }
    if (!fg) {
        return SMPDFU_ENOTFOUND;
    }
    if (g > UINT16_MAX) {
        return SMPDFU_EPROTO;
    }
    *group = (uint16_t)g;
    *end = fe && e;
    return 0;
}

int smpdfu_enum_details(smpdfu_client_t *c, const uint16_t *groups, size_t n,
                        const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    if (n && !groups) {
        return SMPDFU_EINVAL;
    }
    smpdfu_req_t *r;
    int rc = smpdfu_grp_begin_map(c, SMPDFU_OP_READ, SMPDFU_GROUP_ENUM, SMPDFU_ENUM_DETAILS, n ? 1 : 0,
                                  &r);
    if (rc) {
        return rc;
    }
    smpdfu_cbor_enc_t *e = smpdfu_req_enc(r);
    if (n) {
        smpdfu_cbor_put_tstrz(e, "groups");
        smpdfu_cbor_array_begin(e, n);
        for (size_t i = 0; i < n; i++) {
            smpdfu_cbor_put_uint(e, groups[i]);
        }
    }
    return smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_enum_details_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it)
{
    return smpdfu_rsp_iter_init(it, r, "groups", false);
}

int smpdfu_enum_details_next(smpdfu_rsp_iter_t *it, smpdfu_enum_detail_t *g)
{
    smpdfu_cbor_slice_t v;
    memset(g, 0, sizeof(*g));
    int rc = smpdfu_rsp_iter_next(it, &v);
    if (rc <= 0) {
        return rc;
    }
    uint64_t id = 0, h = 0;
    bool fg = false, fn = false, fh = false;
    smpdfu_cbor_slice_t name = {0};
    const smpdfu_cbor_field_t f[] = {
        {"group", SMPDFU_CBOR_UINT, &id, &fg},
        {"name", SMPDFU_CBOR_TSTR, &name, &fn},
        {"handlers", SMPDFU_CBOR_UINT, &h, &fh},
    };
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, v.ptr, v.len);
    if (smpdfu_cbor_decode_map(&d, f, 3) < 0 || !fg || id > UINT16_MAX || h > UINT32_MAX) {
        return SMPDFU_EPROTO;
    }
    g->group = (uint16_t)id;
    if (fn) {
        g->name = (const char *)name.ptr;
        g->name_len = name.len;
    }
    g->handlers = (uint32_t)h;
    g->has_handlers = fh;
    return 1;
}
