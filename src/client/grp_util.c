/* SPDX-License-Identifier: Apache-2.0 */
/* Request and response pieces shared by the group modules (grp_util.h). */
#include "grp_util.h"

#include "req_opts.h"

int smpdfu_grp_begin_map(smpdfu_client_t *c, uint8_t op, uint16_t group, uint8_t id,
                         uint64_t pairs, smpdfu_req_t **r)
{
    int rc = smpdfu_client_req_begin(c, op, group, id, r);
    if (rc == 0) {
        smpdfu_cbor_map_begin(smpdfu_req_enc(*r), pairs);
    }
    return rc;
}

int smpdfu_grp_send_empty(smpdfu_client_t *c, uint8_t op, uint16_t group, uint8_t id,
                          const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    smpdfu_req_t *r;
    int rc = smpdfu_grp_begin_map(c, op, group, id, 0, &r);
    return rc ? rc : smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_grp_begin_named(smpdfu_client_t *c, uint8_t op, uint16_t group, uint8_t id,
                           const char *name, uint64_t pairs, smpdfu_req_t **r)
{
    if (!name || !*name) {
        return SMPDFU_EINVAL;
    }
    int rc = smpdfu_grp_begin_map(c, op, group, id, pairs, r);
    if (rc == 0) {
        smpdfu_cbor_put_tstrz(smpdfu_req_enc(*r), "name");
        smpdfu_cbor_put_tstrz(smpdfu_req_enc(*r), name);
    }
    return rc;
}

int smpdfu_grp_fields(const smpdfu_rsp_t *r, const smpdfu_cbor_field_t *f, size_t n)
{
    if (!r || r->status != 0 || !r->payload) {
        return SMPDFU_EINVAL;
    }
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, r->payload, r->payload_len);
    return smpdfu_cbor_decode_map(&d, f, n) < 0 ? SMPDFU_EPROTO : 0;
}

int smpdfu_grp_u32(const smpdfu_rsp_t *r, const char *key, uint32_t *v)
{
    uint64_t u = 0;
    bool found = false;
    const smpdfu_cbor_field_t f[] = {{key, SMPDFU_CBOR_UINT, &u, &found}};
    int rc = smpdfu_grp_fields(r, f, 1);
    if (rc) {
        return rc;
    }
    if (!found) {
        return SMPDFU_ENOTFOUND;
    }
    if (u > UINT32_MAX) {
        return SMPDFU_EPROTO;
    }
    *v = (uint32_t)u;
    return 0;
}

int smpdfu_grp_str(const smpdfu_rsp_t *r, const char *key, smpdfu_cbor_type_t type,
                   smpdfu_cbor_slice_t *v)
{
    smpdfu_cbor_slice_t s = {0};
    bool found = false;
    const smpdfu_cbor_field_t f[] = {{key, type, &s, &found}};
    int rc = smpdfu_grp_fields(r, f, 1);
    if (rc) {
        return rc;
    }
    if (!found) {
        return SMPDFU_ENOTFOUND;
    }
    *v = s;
    return 0;
}
