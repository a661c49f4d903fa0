/* SPDX-License-Identifier: Apache-2.0 */
/* OS management group requests and response parsers (protocol.md §3). */
#include "smpdfu/client_os.h"

#include <string.h>

#include "grp_util.h"
#include "req_opts.h"

/* Begin a request whose body is {} or {k: v}, and send it. */
static int send_map(smpdfu_client_t *c, uint8_t op, uint8_t id, const char *k, const char *v,
                    const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    if (!k || !v) {
        return smpdfu_grp_send_empty(c, op, SMPDFU_GROUP_OS, id, o, cb, arg);
    }
    smpdfu_req_t *r;
    int rc = smpdfu_grp_begin_map(c, op, SMPDFU_GROUP_OS, id, 1, &r);
    if (rc) {
        return rc;
    }
    smpdfu_cbor_put_tstrz(smpdfu_req_enc(r), k);
    smpdfu_cbor_put_tstrz(smpdfu_req_enc(r), v);
    return smpdfu_opt_send(c, r, o, cb, arg);
}

/* A response whose one field of interest is the text string `key`. */
static int parse_text(const smpdfu_rsp_t *r, const char *key, const char **text, size_t *len)
{
    smpdfu_cbor_slice_t s;
    int rc = smpdfu_grp_str(r, key, SMPDFU_CBOR_TSTR, &s);
    if (rc) {
        return rc;
    }
    *text = (const char *)s.ptr;
    *len = s.len;
    return 0;
}

int smpdfu_os_echo(smpdfu_client_t *c, const char *text, const smpdfu_req_opts_t *o,
                   smpdfu_rsp_fn cb, void *arg)
{
    if (!text) {
        return SMPDFU_EINVAL;
    }
    return send_map(c, SMPDFU_OP_WRITE, SMPDFU_OS_ECHO, "d", text, o, cb, arg);
}

int smpdfu_os_echo_parse(const smpdfu_rsp_t *r, const char **text, size_t *len)
{
    return parse_text(r, "r", text, len);
}

int smpdfu_os_reset(smpdfu_client_t *c, bool force, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                    void *arg)
{
    return smpdfu_os_reset_ex(c, force, -1, o, cb, arg);
}

int smpdfu_os_params(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    return send_map(c, SMPDFU_OP_READ, SMPDFU_OS_PARAMS, NULL, NULL, o, cb, arg);
}

int smpdfu_os_params_parse(const smpdfu_rsp_t *r, smpdfu_os_params_t *p)
{
    uint64_t size = 0, count = 0;
    bool fs = false, fc = false;
    const smpdfu_cbor_field_t f[] = {
        {"buf_size", SMPDFU_CBOR_UINT, &size, &fs},
        {"buf_count", SMPDFU_CBOR_UINT, &count, &fc},
    };
    int rc = smpdfu_grp_fields(r, f, 2);
    if (rc) {
        return rc;
    }
    if (!fs) {
        return SMPDFU_ENOTFOUND;
    }
    if (size > UINT32_MAX || count > UINT32_MAX) {
        return SMPDFU_EPROTO;
    }
    p->buf_size = (uint32_t)size;
    p->buf_count = fc ? (uint32_t)count : 0;
    return 0;
}

int smpdfu_os_info(smpdfu_client_t *c, const char *format, const smpdfu_req_opts_t *o,
                   smpdfu_rsp_fn cb, void *arg)
{
    return send_map(c, SMPDFU_OP_READ, SMPDFU_OS_INFO, (format && *format) ? "format" : NULL,
                    format, o, cb, arg);
}

int smpdfu_os_info_parse(const smpdfu_rsp_t *r, const char **output, size_t *len)
{
    return parse_text(r, "output", output, len);
}

int smpdfu_os_bootloader_info(smpdfu_client_t *c, const char *query, const smpdfu_req_opts_t *o,
                              smpdfu_rsp_fn cb, void *arg)
{
    return send_map(c, SMPDFU_OP_READ, SMPDFU_OS_BOOTLOADER_INFO, query ? "query" : NULL, query, o,
                    cb, arg);
}

int smpdfu_os_bootloader_parse(const smpdfu_rsp_t *r, smpdfu_os_bootloader_t *b)
{
    smpdfu_cbor_slice_t name = {0};
    int64_t mode = -1;
    bool fn = false, fm = false, fd = false, nd = false;
    const smpdfu_cbor_field_t f[] = {
        {"bootloader", SMPDFU_CBOR_TSTR, &name, &fn},
        {"mode", SMPDFU_CBOR_NINT, &mode, &fm},
        {"no-downgrade", SMPDFU_CBOR_BOOL, &nd, &fd},
    };
    int rc = smpdfu_grp_fields(r, f, 3);
    if (rc) {
        return rc;
    }
    memset(b, 0, sizeof(*b));
    if (fn) {
        b->name = (const char *)name.ptr;
        b->name_len = name.len;
    }
    if (fm) {
        if (mode < INT32_MIN || mode > INT32_MAX) {
            return SMPDFU_EPROTO;
        }
        b->has_mode = true;
        b->mode = (int32_t)mode;
    }
    b->no_downgrade = fd && nd;
    if (!fn && !fm) {
        return SMPDFU_ENOTFOUND;
    }
    return 0;
}

const char *smpdfu_os_boot_mode_name(int32_t mode)
{
    switch (mode) {
    case 0: return "single slot";
    case 1: return "swap using scratch";
    case 2: return "overwrite only";
    case 3: return "swap using move";
    case 4: return "direct XIP";
    case 5: return "direct XIP with revert";
    case 6: return "RAM load";
    case 7: return "firmware loader";
    case 8: return "single slot RAM load";
    case 9: return "swap using offset";
    default: return "unknown";
    }
}

int smpdfu_os_reset_ex(smpdfu_client_t *c, bool force, int boot_mode, const smpdfu_req_opts_t *o,
                       smpdfu_rsp_fn cb, void *arg)
{
    if (boot_mode > 255) {
        return SMPDFU_EINVAL;
    }
    smpdfu_req_t *r;
    int rc = smpdfu_grp_begin_map(c, SMPDFU_OP_WRITE, SMPDFU_GROUP_OS, SMPDFU_OS_RESET,
                                  (uint64_t)force + (boot_mode >= 0), &r);
    if (rc) {
        return rc;
    }
    smpdfu_cbor_enc_t *e = smpdfu_req_enc(r);
    if (force) {
        /* Zephyr decodes "force" as a boolean (the doc's int is ignored). */
        smpdfu_cbor_put_tstrz(e, "force");
        smpdfu_cbor_put_bool(e, true);
    }
    if (boot_mode >= 0) {
        smpdfu_cbor_put_tstrz(e, "boot_mode");
        smpdfu_cbor_put_uint(e, (uint64_t)boot_mode);
    }
    return smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_os_taskstat(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    return send_map(c, SMPDFU_OP_READ, SMPDFU_OS_TASKSTAT, NULL, NULL, o, cb, arg);
}

int smpdfu_os_tasks_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it)
{
    return smpdfu_rsp_iter_init(it, r, "tasks", true);
}

int smpdfu_os_task_next(smpdfu_rsp_iter_t *it, smpdfu_os_task_info_t *t)
{
    smpdfu_cbor_slice_t v;
    memset(t, 0, sizeof(*t));
    int rc = smpdfu_rsp_iter_next_pair(it, &t->name, &t->name_len, &v);
    if (rc <= 0) {
        return rc;
    }
    bool fr = false, fc = false, fl = false, fn = false;
    const smpdfu_cbor_field_t f[] = {
        {"prio", SMPDFU_CBOR_NINT, &t->prio, NULL},
        {"tid", SMPDFU_CBOR_UINT, &t->tid, NULL},
        {"state", SMPDFU_CBOR_UINT, &t->state, NULL},
        {"stksiz", SMPDFU_CBOR_UINT, &t->stksiz, NULL},
        {"stkuse", SMPDFU_CBOR_UINT, &t->stkuse, NULL},
        {"runtime", SMPDFU_CBOR_UINT, &t->runtime, &fr},
        {"cswcnt", SMPDFU_CBOR_UINT, &t->cswcnt, &fc},
        {"last_checkin", SMPDFU_CBOR_UINT, &t->last_checkin, &fl},
        {"next_checkin", SMPDFU_CBOR_UINT, &t->next_checkin, &fn},
    };
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, v.ptr, v.len);
    if (smpdfu_cbor_decode_map(&d, f, 9) < 0) {
        return SMPDFU_EPROTO;
    }
    t->has_runtime = fr;
    t->has_cswcnt = fc;
    t->has_checkin = fl || fn;
    return 1;
}

int smpdfu_os_mpstat(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    return send_map(c, SMPDFU_OP_READ, SMPDFU_OS_MPSTAT, NULL, NULL, o, cb, arg);
}

int smpdfu_os_mpools_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it)
{
    return smpdfu_rsp_iter_init(it, r, "mpools", true);
}

int smpdfu_os_mpool_next(smpdfu_rsp_iter_t *it, smpdfu_os_mpool_info_t *p)
{
    smpdfu_cbor_slice_t v;
    memset(p, 0, sizeof(*p));
    int rc = smpdfu_rsp_iter_next_pair(it, &p->name, &p->name_len, &v);
    if (rc <= 0) {
        return rc;
    }
    const smpdfu_cbor_field_t f[] = {
        {"blksiz", SMPDFU_CBOR_UINT, &p->blksiz, NULL},
        {"nblks", SMPDFU_CBOR_UINT, &p->nblks, NULL},
        {"nfree", SMPDFU_CBOR_UINT, &p->nfree, NULL},
        {"min", SMPDFU_CBOR_UINT, &p->min, NULL},
    };
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, v.ptr, v.len);
    return smpdfu_cbor_decode_map(&d, f, 4) < 0 ? SMPDFU_EPROTO : 1;
}

int smpdfu_os_datetime_get(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                           void *arg)
{
    return send_map(c, SMPDFU_OP_READ, SMPDFU_OS_DATETIME, NULL, NULL, o, cb, arg);
}

int smpdfu_os_datetime_set(smpdfu_client_t *c, const char *datetime, const smpdfu_req_opts_t *o,
                           smpdfu_rsp_fn cb, void *arg)
{
    if (!datetime || !*datetime) {
        return SMPDFU_EINVAL;
    }
    return send_map(c, SMPDFU_OP_WRITE, SMPDFU_OS_DATETIME, "datetime", datetime, o, cb, arg);
}

int smpdfu_os_datetime_parse(const smpdfu_rsp_t *r, const char **text, size_t *len)
{
    return parse_text(r, "datetime", text, len);
}
