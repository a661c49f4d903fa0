/* SPDX-License-Identifier: Apache-2.0 */
/* Statistics group requests and parsers (client_stat.h). */
#include "smpdfu/client_stat.h"

#include <string.h>

#include "req_opts.h"

int smpdfu_stat_list(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    smpdfu_req_t *r;
    int rc = smpdfu_client_req_begin(c, SMPDFU_OP_READ, SMPDFU_GROUP_STAT, SMPDFU_STAT_LIST, &r);
    if (rc) {
        return rc;
    }
    smpdfu_cbor_map_begin(smpdfu_req_enc(r), 0);
    return smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_stat_list_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it)
{
    return smpdfu_rsp_iter_init(it, r, "stat_list", false);
}

int smpdfu_stat_list_next(smpdfu_rsp_iter_t *it, const char **name, size_t *len)
{
    smpdfu_cbor_slice_t v;
    int rc = smpdfu_rsp_iter_next(it, &v);
    if (rc <= 0) {
        return rc;
    }
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, v.ptr, v.len);
    return smpdfu_cbor_get_tstr(&d, name, len) < 0 ? SMPDFU_EPROTO : 1;
}

int smpdfu_stat_show(smpdfu_client_t *c, const char *name, const smpdfu_req_opts_t *o,
                     smpdfu_rsp_fn cb, void *arg)
{
    if (!name || !*name || strlen(name) > 31) {
        return SMPDFU_EINVAL;
    }
    smpdfu_req_t *r;
    int rc = smpdfu_client_req_begin(c, SMPDFU_OP_READ, SMPDFU_GROUP_STAT, SMPDFU_STAT_SHOW, &r);
    if (rc) {
        return rc;
    }
    smpdfu_cbor_enc_t *e = smpdfu_req_enc(r);
    smpdfu_cbor_map_begin(e, 1);
    smpdfu_cbor_put_tstrz(e, "name");
    smpdfu_cbor_put_tstrz(e, name);
    return smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_stat_fields_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it)
{
    return smpdfu_rsp_iter_init(it, r, "fields", true);
}

int smpdfu_stat_field_next(smpdfu_rsp_iter_t *it, const char **field, size_t *len, uint64_t *value)
{
    smpdfu_cbor_slice_t v;
    int rc = smpdfu_rsp_iter_next_pair(it, field, len, &v);
    if (rc <= 0) {
        return rc;
    }
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, v.ptr, v.len);
    return smpdfu_cbor_get_uint(&d, value) < 0 ? SMPDFU_EPROTO : 1;
}
