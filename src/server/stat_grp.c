/* SPDX-License-Identifier: Apache-2.0 */
/* Statistics group (2) as Zephyr's stat_mgmt.c answers it (protocol.md §14):
 * show one group's counters, list the groups. */
#include "smpdfu/server_groups.h"

#include <string.h>

/* CONFIG_MCUMGR_GRP_STAT_MAX_NAME_LEN */
#define STAT_NAME_LEN 32

static smpdfu_stat_set_t *find_set(smpdfu_stat_group_t *st, const char *p, size_t n)
{
    for (smpdfu_stat_set_t *x = st->sets; x != NULL; x = x->next) {
        if (smpdfu_cbor_str_eq(p, n, x->name)) {
            return x;
        }
    }
    return NULL;
}

static int stat_show(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_stat_group_t *st = ctx;
    smpdfu_cbor_slice_t name = {NULL, 0};
    smpdfu_cbor_field_t f[] = {{"name", SMPDFU_CBOR_TSTR, &name, NULL}};
    smpdfu_cbor_enc_t *e = r->enc;
    if (smpdfu_cbor_decode_map(&r->dec, f, 1) < 0 || name.len == 0 || name.len >= STAT_NAME_LEN) {
        return SMPDFU_MGMT_EINVAL;
    }
    smpdfu_stat_set_t *set = find_set(st, (const char *)name.ptr, name.len);
    if (set == NULL) {
        /* Zephyr reports this under ZEPHYR_MGMT_GRP_BASIC (63), not 2. */
        return smpdfu_server_add_err(r, SMPDFU_GROUP_ZEPHYR_BASIC,
                                     SMPDFU_STAT_ERR_INVALID_STAT_NAME);
    }
    smpdfu_cbor_put_tstrz(e, "name");
    smpdfu_cbor_put_tstr(e, (const char *)name.ptr, name.len);
    smpdfu_cbor_put_tstrz(e, "fields");
    smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
    const char *fname;
    uint32_t v;
    for (size_t i = 0; set->field(set->ctx, i, &fname, &v); i++) {
        smpdfu_cbor_put_tstrz(e, fname);
        smpdfu_cbor_put_uint(e, v);
    }
    smpdfu_cbor_put_break(e);
    return e->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

static int stat_list(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_stat_group_t *st = ctx;
    smpdfu_cbor_enc_t *e = r->enc;
    /* stat list keeps the legacy "rc": 0 in Zephyr 4.x. */
    smpdfu_cbor_put_tstrz(e, "rc");
    smpdfu_cbor_put_int(e, 0);
    smpdfu_cbor_put_tstrz(e, "stat_list");
    smpdfu_cbor_array_begin(e, SMPDFU_CBOR_INDEF);
    for (smpdfu_stat_set_t *x = st->sets; x != NULL; x = x->next) {
        smpdfu_cbor_put_tstrz(e, x->name);
    }
    smpdfu_cbor_put_break(e);
    return e->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

static int stat_translate(uint16_t rc)
{
    return smpdfu_smp_err_to_v1(SMPDFU_GROUP_STAT, rc);
}

static const smpdfu_server_handler_t stat_handlers[] = {
    [SMPDFU_STAT_SHOW] = {stat_show, NULL},
    [SMPDFU_STAT_LIST] = {stat_list, NULL},
};

static const char *const stat_names[] = {
    [SMPDFU_STAT_SHOW] = "show",
    [SMPDFU_STAT_LIST] = "list",
};

static bool smp_field(void *ctx, size_t i, const char **name, uint32_t *value)
{
    const smpdfu_server_t *s = ctx;
    switch (i) {
    case 0:
        *name = "requests";
        *value = s->requests;
        return true;
    case 1:
        *name = "errors";
        *value = s->errors;
        return true;
    case 2:
        *name = "responses";
        *value = s->responses;
        return true;
    case 3:
        *name = "bytes_in";
        *value = s->bytes_in;
        return true;
    case 4:
        *name = "bytes_out";
        *value = s->bytes_out;
        return true;
    default:
        return false;
    }
}

static const smpdfu_server_group_t *nth_group(const smpdfu_server_t *s, size_t i)
{
    const smpdfu_server_group_t *g = s->groups;
    while (g != NULL && i > 0) {
        g = g->next;
        i--;
    }
    return g;
}

static bool req_field(void *ctx, size_t i, const char **name, uint32_t *value)
{
    const smpdfu_server_group_t *g = nth_group(ctx, i);
    if (g == NULL) {
        return false;
    }
    *name = g->name ? g->name : "?";
    *value = g->requests;
    return true;
}

static bool err_field(void *ctx, size_t i, const char **name, uint32_t *value)
{
    const smpdfu_server_group_t *g = nth_group(ctx, i);
    if (g == NULL) {
        return false;
    }
    *name = g->name ? g->name : "?";
    *value = g->errors;
    return true;
}

int smpdfu_stat_add(smpdfu_stat_group_t *st, smpdfu_stat_set_t *set)
{
    if (st == NULL || set == NULL || set->name == NULL || set->field == NULL) {
        return SMPDFU_EINVAL;
    }
    smpdfu_stat_set_t **tail = &st->sets;
    for (smpdfu_stat_set_t *x = st->sets; x != NULL; x = x->next) {
        if (x == set || strcmp(x->name, set->name) == 0) {
            return SMPDFU_EINVAL;
        }
        tail = &x->next;
    }
    set->next = NULL;
    *tail = set;
    return 0;
}

void smpdfu_stat_group_init(smpdfu_stat_group_t *st, smpdfu_server_t *s)
{
    memset(st, 0, sizeof(*st));
    st->group.id = SMPDFU_GROUP_STAT;
    st->group.name = "stat";
    st->group.details_name = "stat mgmt";
    st->group.handlers = stat_handlers;
    st->group.cmd_names = stat_names;
    st->group.handler_count = sizeof(stat_handlers) / sizeof(stat_handlers[0]);
    st->group.translate = stat_translate;
    st->group.ctx = st;
    st->smp.name = "smp";
    st->smp.field = smp_field;
    st->smp.ctx = s;
    st->smp_requests.name = "smp_requests";
    st->smp_requests.field = req_field;
    st->smp_requests.ctx = s;
    st->smp_errors.name = "smp_errors";
    st->smp_errors.field = err_field;
    st->smp_errors.ctx = s;
    smpdfu_stat_add(st, &st->smp);
    smpdfu_stat_add(st, &st->smp_requests);
    smpdfu_stat_add(st, &st->smp_errors);
}
