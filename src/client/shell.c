/* SPDX-License-Identifier: Apache-2.0 */
/* Shell group request and parser (client_shell.h). */
#include "smpdfu/client_shell.h"

#include "req_opts.h"

int smpdfu_shell_exec(smpdfu_client_t *c, const char *const *argv, int argc,
                      const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    if (!argv || argc <= 0) {
        return SMPDFU_EINVAL;
    }
    smpdfu_req_t *r;
    int rc = smpdfu_client_req_begin(c, SMPDFU_OP_WRITE, SMPDFU_GROUP_SHELL, SMPDFU_SHELL_EXEC, &r);
    if (rc) {
        return rc;
    }
    smpdfu_cbor_enc_t *e = smpdfu_req_enc(r);
    smpdfu_cbor_map_begin(e, 1);
    smpdfu_cbor_put_tstrz(e, "argv");
    smpdfu_cbor_array_begin(e, (uint64_t)argc);
    for (int i = 0; i < argc; i++) {
        smpdfu_cbor_put_tstrz(e, argv[i] ? argv[i] : "");
    }
    return smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_shell_exec_parse(const smpdfu_rsp_t *r, const char **output, size_t *len, int32_t *ret)
{
    if (!r || r->status != 0 || !r->payload) {
        return SMPDFU_EINVAL;
    }
    smpdfu_cbor_slice_t s = {0};
    int64_t v = 0;
    bool fo = false, fr = false;
    const smpdfu_cbor_field_t f[] = {
        {"o", SMPDFU_CBOR_TSTR, &s, &fo},
        {"ret", SMPDFU_CBOR_NINT, &v, &fr},
    };
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, r->payload, r->payload_len);
    if (smpdfu_cbor_decode_map(&d, f, 2) < 0 || v < INT32_MIN || v > INT32_MAX) {
        return SMPDFU_EPROTO;
    }
    if (!fo) {
        return SMPDFU_ENOTFOUND;
    }
    *output = (const char *)s.ptr;
    *len = s.len;
    *ret = (int32_t)v;
    return 0;
}
