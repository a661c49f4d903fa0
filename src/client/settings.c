/* SPDX-License-Identifier: Apache-2.0 */
/* Settings group requests and parsers (client_settings.h). */
#include "smpdfu/client_settings.h"

#include "grp_util.h"
#include "req_opts.h"

/* {"name": name[, key2: ...]} begun; the caller adds the rest. */
static int begin_named(smpdfu_client_t *c, uint8_t op, uint8_t id, const char *name, uint64_t pairs,
                       smpdfu_req_t **r)
{
    return smpdfu_grp_begin_named(c, op, SMPDFU_GROUP_SETTINGS, id, name, pairs, r);
}

int smpdfu_settings_read(smpdfu_client_t *c, const char *name, uint32_t max_size,
                         const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    smpdfu_req_t *r;
    int rc = begin_named(c, SMPDFU_OP_READ, SMPDFU_SETTINGS_READ_WRITE, name, max_size ? 2 : 1, &r);
    if (rc) {
        return rc;
    }
    if (max_size) {
        smpdfu_cbor_put_tstrz(smpdfu_req_enc(r), "max_size");
        smpdfu_cbor_put_uint(smpdfu_req_enc(r), max_size);
    }
    return smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_settings_read_parse(const smpdfu_rsp_t *r, const uint8_t **val, size_t *len)
{
    smpdfu_cbor_slice_t s;
    int rc = smpdfu_grp_str(r, "val", SMPDFU_CBOR_BSTR, &s);
    if (rc) {
        return rc;
    }
    *val = s.ptr;
    *len = s.len;
    return 0;
}

int smpdfu_settings_write(smpdfu_client_t *c, const char *name, const uint8_t *val, size_t len,
                          const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    if (!val && len) {
        return SMPDFU_EINVAL;
    }
    smpdfu_req_t *r;
    int rc = begin_named(c, SMPDFU_OP_WRITE, SMPDFU_SETTINGS_READ_WRITE, name, 2, &r);
    if (rc) {
        return rc;
    }
    smpdfu_cbor_put_tstrz(smpdfu_req_enc(r), "val");
    smpdfu_cbor_put_bstr(smpdfu_req_enc(r), val ? val : (const uint8_t *)"", len);
    return smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_settings_delete(smpdfu_client_t *c, const char *name, const smpdfu_req_opts_t *o,
                           smpdfu_rsp_fn cb, void *arg)
{
    smpdfu_req_t *r;
    int rc = begin_named(c, SMPDFU_OP_WRITE, SMPDFU_SETTINGS_DELETE, name, 1, &r);
    return rc ? rc : smpdfu_opt_send(c, r, o, cb, arg);
}

static int empty(smpdfu_client_t *c, uint8_t op, uint8_t id, const smpdfu_req_opts_t *o,
                 smpdfu_rsp_fn cb, void *arg)
{
    return smpdfu_grp_send_empty(c, op, SMPDFU_GROUP_SETTINGS, id, o, cb, arg);
}

int smpdfu_settings_commit_req(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                           void *arg)
{
    return empty(c, SMPDFU_OP_WRITE, SMPDFU_SETTINGS_COMMIT, o, cb, arg);
}

int smpdfu_settings_load_req(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    return empty(c, SMPDFU_OP_READ, SMPDFU_SETTINGS_LOAD_SAVE, o, cb, arg);
}

int smpdfu_settings_save_req(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    return empty(c, SMPDFU_OP_WRITE, SMPDFU_SETTINGS_LOAD_SAVE, o, cb, arg);
}
