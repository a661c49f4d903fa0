/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — enumeration group requests (group 10, Zephyr enum_mgmt): which
 * groups a device has. Request functions return 0 or the engine's error
 * (SMPDFU_EBUSY, SMPDFU_EOVERSIZE, SMPDFU_ECLOSED, SMPDFU_EINVAL); cb gets
 * the response once. Parsers read a successful response in place (strings
 * valid during the callback); errors SMPDFU_EINVAL (not a success),
 * SMPDFU_EPROTO, SMPDFU_ENOTFOUND. Device errors (err group 10): 2 too many
 * group entries asked, 4 index too large (single past the end).
 */
#ifndef SMPDFU_CLIENT_ENUM_H
#define SMPDFU_CLIENT_ENUM_H

#include <stdbool.h>

#include "smpdfu/client.h"
#include "smpdfu/client_iter.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Count (id 0) -> {"count": uint}. */
int smpdfu_enum_count(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
int smpdfu_enum_count_parse(const smpdfu_rsp_t *r, uint32_t *count);

/* List (id 1) -> {"groups": [uint, ...]}: walk with smpdfu_enum_list_next()
 * (1 with a group id, 0 at the end, SMPDFU_EPROTO). */
int smpdfu_enum_list(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
int smpdfu_enum_list_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it);
int smpdfu_enum_list_next(smpdfu_rsp_iter_t *it, uint16_t *group);

/* Single (id 2) {"index"} -> {"group": uint, ["end": true]}. */
int smpdfu_enum_single(smpdfu_client_t *c, uint32_t index, const smpdfu_req_opts_t *o,
                       smpdfu_rsp_fn cb, void *arg);
int smpdfu_enum_single_parse(const smpdfu_rsp_t *r, uint16_t *group, bool *end);

/* Details (id 3) {["groups": [ids]]} (NULL/0 ids: every group; at most 16)
 * -> {"groups": [{"group", "name", "handlers"}]}. */
typedef struct {
    uint16_t group;
    const char *name; /* not NUL-terminated; NULL when absent */
    size_t name_len;
    uint32_t handlers;
    bool has_handlers;
} smpdfu_enum_detail_t;
int smpdfu_enum_details(smpdfu_client_t *c, const uint16_t *groups, size_t n,
                        const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
int smpdfu_enum_details_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it);
int smpdfu_enum_details_next(smpdfu_rsp_iter_t *it, smpdfu_enum_detail_t *g);

/* Group names: smpdfu_group_name() in smp.h. */

#ifdef __cplusplus
}
#endif
#endif
