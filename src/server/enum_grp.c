/* SPDX-License-Identifier: Apache-2.0 */
/* Enumeration group (10) as Zephyr's enum_mgmt.c answers it (protocol.md
 * §18): count, list, single (by index, "end" on the last), details (name
 * and handler count of all groups, or of the ids asked for). */
#include "smpdfu/server_groups.h"

#include <string.h>

static int enum_count(smpdfu_server_req_t *r, void *ctx)
{
    uint32_t n = 0;
    (void)ctx;
    for (const smpdfu_server_group_t *g = r->srv->groups; g != NULL; g = g->next) {
        n++;
    }
    smpdfu_cbor_put_tstrz(r->enc, "count");
    smpdfu_cbor_put_uint(r->enc, n);
    /* Zephyr's enum handlers answer an encoding failure with ECORRUPT. */
    return r->enc->err ? SMPDFU_MGMT_ECORRUPT : 0;
}

static int enum_list(smpdfu_server_req_t *r, void *ctx)
{
    (void)ctx;
    smpdfu_cbor_put_tstrz(r->enc, "groups");
    smpdfu_cbor_array_begin(r->enc, SMPDFU_CBOR_INDEF);
    for (const smpdfu_server_group_t *g = r->srv->groups; g != NULL; g = g->next) {
        smpdfu_cbor_put_uint(r->enc, g->id);
    }
    smpdfu_cbor_put_break(r->enc);
    return r->enc->err ? SMPDFU_MGMT_ECORRUPT : 0;
}

static int enum_single(smpdfu_server_req_t *r, void *ctx)
{
    uint64_t index = 0;
    smpdfu_cbor_field_t f[] = {{"index", SMPDFU_CBOR_UINT, &index, NULL}};
    (void)ctx;
    if (smpdfu_cbor_decode_map(&r->dec, f, 1) < 0 || index > 65535) {
        return SMPDFU_MGMT_EINVAL;
    }
    const smpdfu_server_group_t *g = r->srv->groups;
    for (uint64_t i = 0; g != NULL && i < index; i++) {
        g = g->next;
    }
    if (g == NULL) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_ENUM, SMPDFU_ENUM_ERR_INDEX_TOO_LARGE);
    }
    smpdfu_cbor_put_tstrz(r->enc, "group");
    smpdfu_cbor_put_uint(r->enc, g->id);
    if (g->next == NULL) {
        smpdfu_cbor_put_tstrz(r->enc, "end");
        smpdfu_cbor_put_bool(r->enc, true);
    }
    return r->enc->err ? SMPDFU_MGMT_ECORRUPT : 0;
}

static int enum_details(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_cbor_slice_t list = {NULL, 0};
    bool have = false;
    smpdfu_cbor_field_t f[] = {{"groups", SMPDFU_CBOR_ARRAY, &list, &have}};
    uint16_t want[SMPDFU_ENUM_DETAILS_MAX];
    size_t nwant = 0;
    (void)ctx;
    if (smpdfu_cbor_decode_map(&r->dec, f, 1) < 0) {
        return SMPDFU_MGMT_EINVAL;
    }
    if (have) {
        smpdfu_cbor_dec_t d;
        smpdfu_cbor_container_t c;
        int m;
        size_t entries = 0;
        smpdfu_cbor_dec_init(&d, list.ptr, list.len);
        if (smpdfu_cbor_enter_array(&d, &c) < 0) {
            return SMPDFU_MGMT_EINVAL;
        }
        while ((m = smpdfu_cbor_more(&d, &c)) > 0) {
            uint64_t id;
            if (entries >= SMPDFU_ENUM_DETAILS_MAX) {
                entries++;
                if (smpdfu_cbor_skip(&d) < 0) {
                    return SMPDFU_MGMT_EINVAL;
                }
                continue;
            }
            if (smpdfu_cbor_get_uint(&d, &id) < 0 || id > 0xffffffffu) {
                return SMPDFU_MGMT_EINVAL;
            }
            want[nwant++] = (uint16_t)id; /* Zephyr keeps the low 16 bits */
            entries++;
        }
        if (m < 0) {
            return SMPDFU_MGMT_EINVAL;
        }
        if (entries > SMPDFU_ENUM_DETAILS_MAX) {
            return smpdfu_server_add_err(r, SMPDFU_GROUP_ENUM,
                                         SMPDFU_ENUM_ERR_TOO_MANY_GROUP_ENTRIES);
        }
    }
    smpdfu_cbor_put_tstrz(r->enc, "groups");
    smpdfu_cbor_array_begin(r->enc, SMPDFU_CBOR_INDEF);
    for (const smpdfu_server_group_t *g = r->srv->groups; g != NULL; g = g->next) {
        if (nwant > 0) {
            size_t i = 0;
            while (i < nwant && want[i] != g->id) {
                i++;
            }
            if (i == nwant) {
                continue;
            }
        }
        const char *name = g->details_name ? g->details_name : (g->name ? g->name : "");
        smpdfu_cbor_map_begin(r->enc, SMPDFU_CBOR_INDEF);
        smpdfu_cbor_put_tstrz(r->enc, "group");
        smpdfu_cbor_put_uint(r->enc, g->id);
        smpdfu_cbor_put_tstrz(r->enc, "name");
        smpdfu_cbor_put_tstrz(r->enc, name);
        smpdfu_cbor_put_tstrz(r->enc, "handlers");
        smpdfu_cbor_put_uint(r->enc, g->handler_count);
        smpdfu_cbor_put_break(r->enc);
    }
    smpdfu_cbor_put_break(r->enc);
    return r->enc->err ? SMPDFU_MGMT_ECORRUPT : 0;
}

static int enum_translate(uint16_t rc)
{
    return smpdfu_smp_err_to_v1(SMPDFU_GROUP_ENUM, rc);
}

static const smpdfu_server_handler_t enum_handlers[] = {
    [SMPDFU_ENUM_COUNT] = {enum_count, NULL},
    [SMPDFU_ENUM_LIST] = {enum_list, NULL},
    [SMPDFU_ENUM_SINGLE] = {enum_single, NULL},
    [SMPDFU_ENUM_DETAILS] = {enum_details, NULL},
};

static const char *const enum_names[] = {
    [SMPDFU_ENUM_COUNT] = "count",
    [SMPDFU_ENUM_LIST] = "list",
    [SMPDFU_ENUM_SINGLE] = "single",
    [SMPDFU_ENUM_DETAILS] = "details",
};

void smpdfu_enum_group_init(smpdfu_enum_group_t *eg)
{
    memset(eg, 0, sizeof(*eg));
    eg->group.id = SMPDFU_GROUP_ENUM;
    eg->group.name = "enum";
    eg->group.details_name = "enum mgmt";
    eg->group.handlers = enum_handlers;
    eg->group.cmd_names = enum_names;
    eg->group.handler_count = sizeof(enum_handlers) / sizeof(enum_handlers[0]);
    eg->group.translate = enum_translate;
    eg->group.ctx = eg;
}
